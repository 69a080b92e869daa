"""API Gateway's gates, enforced: Lambda and JWT authorizers (with their cache), API keys
and usage plans (throttle and quota), and throttling by token bucket."""
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from conftest import create, function_zip
from test_gateway import call, function_arn, header, lambda_uri


def authorizer_arn(lam, name="authz"):
    return create(lam, name, handler="authorizer.handler", code=function_zip("authorizer.py"))["FunctionArn"]


def rest_api_with(lamina, target_arn, **method):
    """A REST API whose `GET /items` (with `method`'s settings) proxies to a function,
    deployed to `prod`; returns (api id, resource id)."""
    apigw = lamina.client("apigateway")
    api = apigw.create_rest_api(name="gated")
    items = apigw.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart="items")
    method.setdefault("authorizationType", "NONE")
    apigw.put_method(restApiId=api["id"], resourceId=items["id"], httpMethod="GET", **method)
    apigw.put_integration(restApiId=api["id"], resourceId=items["id"], httpMethod="GET", type="AWS_PROXY",
                          integrationHttpMethod="POST", uri=lambda_uri(target_arn))
    return api["id"], items["id"]


def deploy(lamina, api_id, stage="prod"):
    lamina.client("apigateway").create_deployment(restApiId=api_id, stageName=stage)


def test_token_authorizer_allows_denies_and_caches(lamina, lam):
    target = function_arn(lam, "guarded")
    authz = authorizer_arn(lam)
    apigw = lamina.client("apigateway")
    api = apigw.create_rest_api(name="token")
    a = apigw.create_authorizer(restApiId=api["id"], name="tokens", type="TOKEN", authorizerUri=lambda_uri(authz),
                                identitySource="method.request.header.Authorization",
                                identityValidationExpression="^(allow|deny|unauthorized|broken).*",
                                authorizerResultTtlInSeconds=300)
    assert apigw.get_authorizer(restApiId=api["id"], authorizerId=a["id"])["type"] == "TOKEN"
    items = apigw.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart="items")
    apigw.put_method(restApiId=api["id"], resourceId=items["id"], httpMethod="GET", authorizationType="CUSTOM",
                     authorizerId=a["id"])
    apigw.put_integration(restApiId=api["id"], resourceId=items["id"], httpMethod="GET", type="AWS_PROXY",
                          integrationHttpMethod="POST", uri=lambda_uri(target))
    deploy(lamina, api["id"])

    def get(token=None):
        return call(lamina, "GET", "/prod/items", api_id=api["id"],
                    headers={"Authorization": token} if token else {})

    status, headers, body = get()
    assert (status, json.loads(body)) == (401, {"message": "Unauthorized"})
    status, _, body = get("does-not-match-the-expression")
    assert status == 401
    status, _, body = get("allow-alice")
    assert status == 200, body
    authorizer = json.loads(body)["event"]["requestContext"]["authorizer"]
    assert authorizer["principalId"] == "user-allow-alice"
    assert (authorizer["token"], authorizer["flag"]) == ("allow-alice", True)
    first_calls = authorizer["calls"]
    # The same token is answered from the cache: the authorizer is not called again.
    status, _, body = get("allow-alice")
    assert json.loads(body)["event"]["requestContext"]["authorizer"]["calls"] == first_calls
    status, _, body = get("allow-bob")
    assert json.loads(body)["event"]["requestContext"]["authorizer"]["calls"] == first_calls + 1

    status, headers, body = get("deny-eve")
    assert status == 403
    assert json.loads(body) == {"Message": "User is not authorized to access this resource with an explicit deny"}
    assert get("unauthorized")[0] == 401
    status, headers, body = get("broken")
    assert status == 500 and header(headers, "x-amzn-ErrorType") == "AuthorizerConfigurationException"


def test_request_authorizer_without_cache_runs_every_time(lamina, lam):
    target = function_arn(lam, "guarded-req")
    authz = authorizer_arn(lam, "authz-req")
    apigw = lamina.client("apigateway")
    api_id, items_id = rest_api_with(lamina, target)
    a = apigw.create_authorizer(restApiId=api_id, name="req", type="REQUEST", authorizerUri=lambda_uri(authz),
                                identitySource="method.request.header.X-Token", authorizerResultTtlInSeconds=0)
    apigw.delete_method(restApiId=api_id, resourceId=items_id, httpMethod="GET")
    apigw.put_method(restApiId=api_id, resourceId=items_id, httpMethod="GET", authorizationType="CUSTOM",
                     authorizerId=a["id"])
    apigw.put_integration(restApiId=api_id, resourceId=items_id, httpMethod="GET", type="AWS_PROXY",
                          integrationHttpMethod="POST", uri=lambda_uri(target))
    deploy(lamina, api_id)
    calls = []
    for _ in range(2):
        status, _, body = call(lamina, "GET", "/prod/items", api_id=api_id, headers={"X-Token": "allow-carol"})
        assert status == 200, body
        calls.append(json.loads(body)["event"]["requestContext"]["authorizer"]["calls"])
    assert calls[1] == calls[0] + 1
    assert call(lamina, "GET", "/prod/items", api_id=api_id, headers={"X-Token": "deny-x"})[0] == 403
    assert call(lamina, "GET", "/prod/items", api_id=api_id)[0] == 401


def make_key_and_plan(lamina, api_id, stage="prod", throttle=None, quota=None):
    apigw = lamina.client("apigateway")
    key = apigw.create_api_key(name="customer", enabled=True, value="k" * 10 + "-0123456789abcdef")
    plan_args = {"name": "basic", "apiStages": [{"apiId": api_id, "stage": stage}]}
    if throttle:
        plan_args["throttle"] = throttle
    if quota:
        plan_args["quota"] = quota
    plan = apigw.create_usage_plan(**plan_args)
    apigw.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
    return key, plan


def test_api_keys_and_usage_plans_are_enforced_with_quota(lamina, lam):
    target = function_arn(lam, "metered")
    api_id, _ = rest_api_with(lamina, target, apiKeyRequired=True)
    deploy(lamina, api_id)
    apigw = lamina.client("apigateway")
    key, plan = make_key_and_plan(lamina, api_id, quota={"limit": 3, "period": "DAY"})
    assert apigw.get_usage_plan_keys(usagePlanId=plan["id"])["items"][0]["id"] == key["id"]
    assert "value" not in apigw.get_api_key(apiKey=key["id"])
    assert apigw.get_api_key(apiKey=key["id"], includeValue=True)["value"] == key["value"]

    status, headers, body = call(lamina, "GET", "/prod/items", api_id=api_id)
    assert (status, json.loads(body)) == (403, {"message": "Forbidden"})
    assert call(lamina, "GET", "/prod/items", api_id=api_id, headers={"x-api-key": "wrong" * 5})[0] == 403
    for _ in range(3):
        status, _, body = call(lamina, "GET", "/prod/items", api_id=api_id, headers={"x-api-key": key["value"]})
        assert status == 200, body
    identity = json.loads(body)["event"]["requestContext"]["identity"]
    assert (identity["apiKey"], identity["apiKeyId"]) == (key["value"], key["id"])
    # The quota is spent.
    status, headers, body = call(lamina, "GET", "/prod/items", api_id=api_id, headers={"x-api-key": key["value"]})
    assert (status, json.loads(body)) == (429, {"message": "Limit Exceeded"})
    usage = apigw.get_usage(usagePlanId=plan["id"], startDate="2026-01-01", endDate="2026-12-31")
    assert usage["items"][key["id"]] == [[3, 0]]

    # A disabled key is refused; a key in no plan for this stage too.
    apigw.update_api_key(apiKey=key["id"], patchOperations=[{"op": "replace", "path": "/enabled", "value": "false"}])
    assert call(lamina, "GET", "/prod/items", api_id=api_id, headers={"x-api-key": key["value"]})[0] == 403
    loose = apigw.create_api_key(name="loose", enabled=True)
    assert call(lamina, "GET", "/prod/items", api_id=api_id, headers={"x-api-key": loose["value"]})[0] == 403


def test_usage_plan_throttle_per_key_and_keys_from_an_authorizer(lamina, lam):
    target = function_arn(lam, "per-key")
    api_id, _ = rest_api_with(lamina, target, apiKeyRequired=True)
    deploy(lamina, api_id)
    key, _ = make_key_and_plan(lamina, api_id, throttle={"burstLimit": 2, "rateLimit": 0.01})
    statuses = [call(lamina, "GET", "/prod/items", api_id=api_id, headers={"x-api-key": key["value"]})[0]
                for _ in range(4)]
    assert statuses[:2] == [200, 200] and statuses[2:] == [429, 429]

    # With the key source AUTHORIZER, the authorizer's usageIdentifierKey is the key.
    authz = authorizer_arn(lam, "authz-keys")
    apigw = lamina.client("apigateway")
    api2 = apigw.create_rest_api(name="authorizer-keys", apiKeySource="AUTHORIZER")
    a = apigw.create_authorizer(restApiId=api2["id"], name="k", type="TOKEN", authorizerUri=lambda_uri(authz),
                                identitySource="method.request.header.Authorization", authorizerResultTtlInSeconds=0)
    res = apigw.create_resource(restApiId=api2["id"], parentId=api2["rootResourceId"], pathPart="items")
    apigw.put_method(restApiId=api2["id"], resourceId=res["id"], httpMethod="GET", authorizationType="CUSTOM",
                     authorizerId=a["id"], apiKeyRequired=True)
    apigw.put_integration(restApiId=api2["id"], resourceId=res["id"], httpMethod="GET", type="AWS_PROXY",
                          integrationHttpMethod="POST", uri=lambda_uri(target))
    deploy(lamina, api2["id"])
    key2 = apigw.create_api_key(name="from-authorizer", enabled=True, value="a" * 20 + "-authorizer-key")
    plan = apigw.create_usage_plan(name="authz", apiStages=[{"apiId": api2["id"], "stage": "prod"}])
    apigw.create_usage_plan_key(usagePlanId=plan["id"], keyId=key2["id"], keyType="API_KEY")
    ok = call(lamina, "GET", "/prod/items", api_id=api2["id"], headers={"Authorization": "allow-key-" + key2["value"]})
    assert ok[0] == 200, ok[2]
    assert call(lamina, "GET", "/prod/items", api_id=api2["id"], headers={"Authorization": "allow-no-key"})[0] == 403


def test_stage_throttling_answers_429_at_the_configured_rate(lamina, lam):
    target = function_arn(lam, "throttled")
    api_id, _ = rest_api_with(lamina, target)
    deploy(lamina, api_id)
    apigw = lamina.client("apigateway")
    apigw.update_stage(restApiId=api_id, stageName="prod", patchOperations=[
        {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "1"},
        {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": "3"}])

    def one(_):
        status, _, body = call(lamina, "GET", "/prod/items", api_id=api_id)
        assert status in (200, 429), (status, body)
        if status == 429:
            assert json.loads(body) == {"message": "Too Many Requests"}
        return status

    # Twelve at once: the burst of 3 gets through, then 1 a second, however loaded the
    # machine is (the bounds follow from the time the burst took, not from a schedule).
    start = time.monotonic()
    with ThreadPoolExecutor(12) as pool:
        statuses = list(pool.map(one, range(12)))
    elapsed = time.monotonic() - start
    ok = statuses.count(200)
    assert 3 <= ok <= 3 + int(elapsed) + 1, (statuses, elapsed)
    assert statuses.count(429) == 12 - ok >= 1
    # The bucket refills: a request is admitted again, soon after.
    deadline = time.monotonic() + 10
    while one(0) != 200:
        assert time.monotonic() < deadline, "the rate limit admits one a second"

    # A method's own setting overrides the stage's.
    apigw.update_stage(restApiId=api_id, stageName="prod", patchOperations=[
        {"op": "replace", "path": "/~1items/GET/throttling/burstLimit", "value": "0"}])
    assert call(lamina, "GET", "/prod/items", api_id=api_id)[0] == 429


def test_http_api_route_throttling_and_lambda_authorizer(lamina, lam):
    target = function_arn(lam, "http-guarded")
    authz = authorizer_arn(lam, "authz-http")
    v2 = lamina.client("apigatewayv2")
    api = v2.create_api(Name="guarded", ProtocolType="HTTP")
    i = v2.create_integration(ApiId=api["ApiId"], IntegrationType="AWS_PROXY", IntegrationUri=target,
                              PayloadFormatVersion="2.0")
    a = v2.create_authorizer(ApiId=api["ApiId"], Name="simple", AuthorizerType="REQUEST", AuthorizerUri=authz,
                             AuthorizerPayloadFormatVersion="2.0", EnableSimpleResponses=True,
                             IdentitySource=["$request.header.Authorization"], AuthorizerResultTtlInSeconds=60)
    v2.create_route(ApiId=api["ApiId"], RouteKey="GET /private", AuthorizationType="CUSTOM",
                    AuthorizerId=a["AuthorizerId"], Target=f"integrations/{i['IntegrationId']}")
    v2.create_route(ApiId=api["ApiId"], RouteKey="GET /limited", Target=f"integrations/{i['IntegrationId']}")
    v2.create_stage(ApiId=api["ApiId"], StageName="$default", AutoDeploy=True,
                    RouteSettings={"GET /limited": {"ThrottlingBurstLimit": 1, "ThrottlingRateLimit": 0.1}})

    assert call(lamina, "GET", "/private", api_id=api["ApiId"])[0] == 401
    status, _, body = call(lamina, "GET", "/private", api_id=api["ApiId"], headers={"Authorization": "deny-me"})
    assert (status, json.loads(body)) == (403, {"message": "Forbidden"})
    status, _, body = call(lamina, "GET", "/private", api_id=api["ApiId"], headers={"Authorization": "allow-me"})
    assert status == 200, body
    lambda_context = json.loads(body)["event"]["requestContext"]["authorizer"]["lambda"]
    assert lambda_context["token"] == "allow-me"
    again = call(lamina, "GET", "/private", api_id=api["ApiId"], headers={"Authorization": "allow-me"})[2]
    assert json.loads(again)["event"]["requestContext"]["authorizer"]["lambda"]["calls"] == lambda_context["calls"]

    assert call(lamina, "GET", "/limited", api_id=api["ApiId"])[0] == 200
    status, _, body = call(lamina, "GET", "/limited", api_id=api["ApiId"])
    assert (status, json.loads(body)) == (429, {"message": "Too Many Requests"})


class Issuer:
    """A local OpenID issuer: its discovery document and JWKS, and a key to sign with."""

    def __init__(self):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update({"kid": "k1", "alg": "RS256", "use": "sig"})
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path == "/.well-known/openid-configuration":
                    body = {"issuer": issuer.url, "jwks_uri": issuer.url + "/keys"}
                else:
                    body = {"keys": [jwk]}
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def token(self, **claims):
        body = {"iss": self.url, "aud": "my-app", "sub": "user-1", "exp": int(time.time()) + 300,
                "scope": "read write"}
        body.update(claims)
        return jwt.encode(body, self.key, algorithm="RS256", headers={"kid": "k1"})


@pytest.fixture
def issuer():
    i = Issuer()
    yield i
    i.server.shutdown()


def test_jwt_authorizer_checks_signature_issuer_audience_expiry_and_scopes(lamina, lam, issuer):
    target = function_arn(lam, "jwt-guarded")
    v2 = lamina.client("apigatewayv2")
    api = v2.create_api(Name="jwt", ProtocolType="HTTP")
    i = v2.create_integration(ApiId=api["ApiId"], IntegrationType="AWS_PROXY", IntegrationUri=target,
                              PayloadFormatVersion="2.0")
    a = v2.create_authorizer(ApiId=api["ApiId"], Name="jwt", AuthorizerType="JWT",
                             IdentitySource=["$request.header.Authorization"],
                             JwtConfiguration={"Audience": ["my-app"], "Issuer": issuer.url})
    assert v2.get_authorizer(ApiId=api["ApiId"], AuthorizerId=a["AuthorizerId"])["JwtConfiguration"]["Issuer"] == issuer.url
    v2.create_route(ApiId=api["ApiId"], RouteKey="GET /me", AuthorizationType="JWT", AuthorizerId=a["AuthorizerId"],
                    Target=f"integrations/{i['IntegrationId']}")
    v2.create_route(ApiId=api["ApiId"], RouteKey="GET /admin", AuthorizationType="JWT", AuthorizerId=a["AuthorizerId"],
                    AuthorizationScopes=["admin"], Target=f"integrations/{i['IntegrationId']}")
    v2.create_stage(ApiId=api["ApiId"], StageName="$default", AutoDeploy=True)

    def get(path, token=None):
        return call(lamina, "GET", path, api_id=api["ApiId"],
                    headers={"Authorization": f"Bearer {token}"} if token else {})

    status, _, body = get("/me", issuer.token())
    assert status == 200, body
    jwt_context = json.loads(body)["event"]["requestContext"]["authorizer"]["jwt"]
    assert jwt_context["claims"]["sub"] == "user-1" and jwt_context["claims"]["aud"] == "my-app"
    assert jwt_context["scopes"] == ["read", "write"]
    assert get("/me")[0] == 401
    assert get("/me", issuer.token(aud="someone-else"))[0] == 401
    assert get("/me", issuer.token(iss="http://other.example"))[0] == 401
    assert get("/me", issuer.token(exp=int(time.time()) - 600))[0] == 401
    forged = issuer.token()[:-4] + ("AAAA" if not issuer.token().endswith("AAAA") else "BBBB")
    assert get("/me", forged)[0] == 401
    status, _, body = get("/admin", issuer.token())
    assert (status, json.loads(body)) == (403, {"message": "Forbidden"})
    assert get("/admin", issuer.token(scope="admin"))[0] == 200


def test_methods_whose_authorizer_cannot_be_checked_here_are_closed(lamina, lam):
    """A Cognito user pool authorizer has no Cognito to ask, and an AWS_IAM method wants a
    signed request: neither lets an anonymous caller through."""
    target = function_arn(lam, "closed")
    apigw = lamina.client("apigateway")
    api = apigw.create_rest_api(name="closed")
    pool = apigw.create_authorizer(restApiId=api["id"], name="pool", type="COGNITO_USER_POOLS",
                                   providerARNs=["arn:aws:cognito-idp:us-east-1:000000000000:userpool/us-east-1_x"],
                                   identitySource="method.request.header.Authorization")
    for part, kw in [("cognito", {"authorizationType": "COGNITO_USER_POOLS", "authorizerId": pool["id"]}),
                     ("iam", {"authorizationType": "AWS_IAM"})]:
        r = apigw.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart=part)
        apigw.put_method(restApiId=api["id"], resourceId=r["id"], httpMethod="GET", **kw)
        apigw.put_integration(restApiId=api["id"], resourceId=r["id"], httpMethod="GET", type="AWS_PROXY",
                              integrationHttpMethod="POST", uri=lambda_uri(target))
    deploy(lamina, api["id"])
    status, _, body = call(lamina, "GET", "/prod/cognito", api_id=api["id"], headers={"Authorization": "token"})
    assert (status, json.loads(body)) == (401, {"message": "Unauthorized"})
    status, _, body = call(lamina, "GET", "/prod/iam", api_id=api["id"])
    assert (status, json.loads(body)) == (403, {"message": "Missing Authentication Token"})
