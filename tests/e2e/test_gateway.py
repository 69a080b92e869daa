"""API Gateway: REST APIs and HTTP APIs created with boto3 and the aws CLI, called with
plain HTTP, in front of functions, HTTP backends and mocks."""
import base64
import glob
import http.client
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from conftest import RUST_ECHO_BIN, create, function_zip, zip_bytes

PNG = bytes([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0xFF])


def call(lamina, method, path, api_id=None, body=None, headers=None):
    """One HTTP request to the server: addressed to `api_id`'s host when given. Returns
    (status, headers as a list of pairs, body bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", lamina.port, timeout=60)
    h = dict(headers or {})
    if api_id:
        h["Host"] = f"{api_id}.execute-api.localhost:{lamina.port}"
    conn.request(method, path, body=body, headers=h)
    r = conn.getresponse()
    out = (r.status, r.getheaders(), r.read())
    conn.close()
    return out


def header(headers, name):
    values = [v for k, v in headers if k.lower() == name.lower()]
    return values[0] if values else None


def function_arn(lam, name, code=None, **kw):
    f = create(lam, name, handler="api.handler", code=code or function_zip("api.py"), **kw)
    return f["FunctionArn"]


def lambda_uri(arn):
    return f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{arn}/invocations"


def rest_proxy_api(lamina, target_arn, stage="prod", variables=None, binary=None, timeout=None):
    """A REST API with `ANY /{proxy+}` and `ANY /` to a function, deployed to `stage`."""
    apigw = lamina.client("apigateway")
    api = apigw.create_rest_api(name="proxy", binaryMediaTypes=binary or [],
                                endpointConfiguration={"types": ["REGIONAL"]})
    root = api["rootResourceId"]
    proxy = apigw.create_resource(restApiId=api["id"], parentId=root, pathPart="{proxy+}")
    extra = {"timeoutInMillis": timeout} if timeout else {}
    for rid in (root, proxy["id"]):
        apigw.put_method(restApiId=api["id"], resourceId=rid, httpMethod="ANY", authorizationType="NONE")
        apigw.put_integration(restApiId=api["id"], resourceId=rid, httpMethod="ANY", type="AWS_PROXY",
                              integrationHttpMethod="POST", uri=lambda_uri(target_arn), **extra)
    apigw.create_deployment(restApiId=api["id"], stageName=stage, variables=variables or {})
    return api["id"], proxy["id"]


def test_rest_proxy_resource_sends_the_v1_event(lamina, lam):
    arn = function_arn(lam, "rest-echo")
    api_id, proxy_id = rest_proxy_api(lamina, arn, variables={"color": "blue"})
    status, headers, body = call(lamina, "POST", "/prod/items/42?tag=a&tag=b&one=1", api_id=api_id,
                                 body=b'{"k": 1}', headers={"Content-Type": "application/json",
                                                            "X-Custom": "hello", "User-Agent": "tester/1.0"})
    assert status == 200, body
    assert header(headers, "x-echo") == "yes"
    assert [v for k, v in headers if k.lower() == "x-multi"] == ["one", "two"]
    assert header(headers, "x-amzn-RequestId")
    e = json.loads(body)["event"]
    assert e["resource"] == "/{proxy+}"
    assert e["path"] == "/items/42"
    assert e["httpMethod"] == "POST"
    assert e["headers"]["Content-Type"] == "application/json"
    assert e["headers"]["X-Custom"] == "hello"
    assert e["multiValueHeaders"]["X-Custom"] == ["hello"]
    assert e["headers"]["X-Forwarded-Proto"] == "http"
    assert e["queryStringParameters"] == {"tag": "b", "one": "1"}
    assert e["multiValueQueryStringParameters"] == {"tag": ["a", "b"], "one": ["1"]}
    assert e["pathParameters"] == {"proxy": "items/42"}
    assert e["stageVariables"] == {"color": "blue"}
    assert e["body"] == '{"k": 1}' and e["isBase64Encoded"] is False
    ctx = e["requestContext"]
    assert ctx["accountId"] == "000000000000"
    assert ctx["apiId"] == api_id
    assert ctx["stage"] == "prod"
    assert ctx["resourcePath"] == "/{proxy+}" and ctx["resourceId"] == proxy_id
    assert ctx["path"] == "/prod/items/42"
    assert ctx["httpMethod"] == "POST" and ctx["protocol"] == "HTTP/1.1"
    assert ctx["identity"]["sourceIp"] == "127.0.0.1"
    assert ctx["identity"]["userAgent"] == "tester/1.0"
    assert ctx["requestId"] and isinstance(ctx["requestTimeEpoch"], int)
    assert ctx["domainName"] == f"{api_id}.execute-api.localhost:{lamina.port}"

    # The root resource, and the path form for clients that cannot set a host.
    status, _, body = call(lamina, "GET", f"/restapis/{api_id}/prod/_user_request_/")
    assert status == 200
    e = json.loads(body)["event"]
    assert (e["resource"], e["path"], e["pathParameters"]) == ("/", "/", None)
    assert e["body"] is None and e["queryStringParameters"] is None
    status, _, body = call(lamina, "GET", f"/_aws/execute-api/{api_id}/prod/a/b")
    assert status == 200 and json.loads(body)["event"]["pathParameters"] == {"proxy": "a/b"}


def test_http_api_quick_create_sends_the_v2_event(lamina, lam):
    arn = function_arn(lam, "http-echo")
    api = lamina.client("apigatewayv2").create_api(Name="quick", ProtocolType="HTTP", Target=arn)
    assert api["ApiEndpoint"] == f"http://{api['ApiId']}.execute-api.localhost:{lamina.port}"
    status, headers, body = call(lamina, "PUT", "/things/7?a=1&a=2&b=x%20y", api_id=api["ApiId"],
                                 body=b"text body", headers={"Content-Type": "text/plain", "Cookie": "c1=v1; c2=v2",
                                                             "X-Custom": "hello"})
    assert status == 200, body
    assert header(headers, "apigw-requestid")
    e = json.loads(body)["event"]
    assert e["version"] == "2.0"
    assert e["routeKey"] == "$default"
    assert e["rawPath"] == "/things/7"
    assert e["rawQueryString"] == "a=1&a=2&b=x%20y"
    assert e["queryStringParameters"] == {"a": "1,2", "b": "x y"}
    assert e["cookies"] == ["c1=v1", "c2=v2"]
    assert "cookie" not in e["headers"]
    assert e["headers"]["x-custom"] == "hello" and e["headers"]["content-type"] == "text/plain"
    assert e["body"] == "text body" and e["isBase64Encoded"] is False
    assert "pathParameters" not in e and "stageVariables" not in e
    ctx = e["requestContext"]
    assert ctx["http"] == {"method": "PUT", "path": "/things/7", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
                           "userAgent": ""}
    assert (ctx["stage"], ctx["routeKey"], ctx["apiId"]) == ("$default", "$default", api["ApiId"])
    assert isinstance(ctx["timeEpoch"], int) and ctx["time"].endswith("+0000")

    # A plain JSON answer is a 200 application/json body; cookies become Set-Cookie.
    status, headers, body = call(lamina, "GET", "/?mode=plain", api_id=api["ApiId"])
    assert (status, json.loads(body)) == (200, {"hello": "world"})
    assert header(headers, "content-type") == "application/json"
    status, headers, body = call(lamina, "GET", "/?mode=cookies", api_id=api["ApiId"])
    assert status == 201 and body == b"with cookies"
    assert [v for k, v in headers if k.lower() == "set-cookie"] == ["a=1; Path=/", "b=2"]


def test_http_api_routes_stages_and_payload_format_1(lamina, lam):
    arn = function_arn(lam, "http-routes")
    v2 = lamina.client("apigatewayv2")
    api = v2.create_api(Name="routes", ProtocolType="HTTP")
    i2 = v2.create_integration(ApiId=api["ApiId"], IntegrationType="AWS_PROXY", IntegrationUri=arn,
                               PayloadFormatVersion="2.0")
    i1 = v2.create_integration(ApiId=api["ApiId"], IntegrationType="AWS_PROXY", IntegrationUri=arn,
                               PayloadFormatVersion="1.0")
    v2.create_route(ApiId=api["ApiId"], RouteKey="GET /items/{id}", Target=f"integrations/{i2['IntegrationId']}")
    v2.create_route(ApiId=api["ApiId"], RouteKey="ANY /v1/{proxy+}", Target=f"integrations/{i1['IntegrationId']}")
    v2.create_stage(ApiId=api["ApiId"], StageName="live", AutoDeploy=True, StageVariables={"env": "test"})

    status, _, body = call(lamina, "GET", "/live/items/9", api_id=api["ApiId"])
    assert status == 200, body
    e = json.loads(body)["event"]
    assert (e["routeKey"], e["pathParameters"], e["stageVariables"]) == ("GET /items/{id}", {"id": "9"}, {"env": "test"})
    assert e["rawPath"] == "/live/items/9" and e["requestContext"]["stage"] == "live"

    status, _, body = call(lamina, "POST", "/live/v1/a/b?q=1&q=2", api_id=api["ApiId"], body=b"{}",
                           headers={"Content-Type": "application/json"})
    assert status == 200, body
    e = json.loads(body)["event"]
    assert e["version"] == "1.0"
    assert e["resource"] == "/v1/{proxy+}" and e["pathParameters"] == {"proxy": "a/b"}
    assert e["multiValueQueryStringParameters"] == {"q": ["1", "2"]}
    assert e["requestContext"]["resourcePath"] == "/v1/{proxy+}"

    # Unmatched routes, and routes of other methods, are 404s; so is an unknown stage.
    for method, path in [("POST", "/live/items/9"), ("GET", "/live/nothing"), ("GET", "/other/items/9")]:
        status, headers, body = call(lamina, method, path, api_id=api["ApiId"])
        assert (status, json.loads(body)) == (404, {"message": "Not Found"}), path

    # Auto-deploy: a new route serves at once.
    v2.create_route(ApiId=api["ApiId"], RouteKey="$default", Target=f"integrations/{i2['IntegrationId']}")
    status, _, body = call(lamina, "GET", "/live/nothing", api_id=api["ApiId"])
    assert status == 200 and json.loads(body)["event"]["routeKey"] == "$default"


def test_unknown_rest_routes_answer_missing_authentication_token(lamina, lam):
    arn = function_arn(lam, "rest-missing")
    apigw = lamina.client("apigateway")
    api = apigw.create_rest_api(name="narrow")
    items = apigw.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart="items")
    apigw.put_method(restApiId=api["id"], resourceId=items["id"], httpMethod="GET", authorizationType="NONE")
    apigw.put_integration(restApiId=api["id"], resourceId=items["id"], httpMethod="GET", type="AWS_PROXY",
                          integrationHttpMethod="POST", uri=lambda_uri(arn))
    apigw.create_deployment(restApiId=api["id"], stageName="v1")
    assert call(lamina, "GET", "/v1/items", api_id=api["id"])[0] == 200
    for method, path in [("GET", "/v1/nothing"), ("POST", "/v1/items"), ("GET", "/v1/items/1")]:
        status, headers, body = call(lamina, method, path, api_id=api["id"])
        assert status == 403, path
        assert json.loads(body) == {"message": "Missing Authentication Token"}
        assert header(headers, "x-amzn-ErrorType") == "MissingAuthenticationTokenException"
    # A stage that does not exist.
    status, _, body = call(lamina, "GET", "/v2/items", api_id=api["id"])
    assert (status, json.loads(body)) == (403, {"message": "Forbidden"})


def test_bad_proxy_responses_function_errors_and_timeouts(lamina, lam):
    arn = function_arn(lam, "rest-bad", Timeout=10)
    api_id, _ = rest_proxy_api(lamina, arn, timeout=1000)
    for mode in ["malformed", "extra-field", "error"]:
        status, headers, body = call(lamina, "GET", f"/prod/x?mode={mode}", api_id=api_id)
        assert (status, json.loads(body)) == (502, {"message": "Internal server error"}), mode
    status, _, body = call(lamina, "GET", "/prod/x?mode=sleep&seconds=3", api_id=api_id)
    assert (status, json.loads(body)) == (504, {"message": "Endpoint request timed out"})

    v2 = lamina.client("apigatewayv2")
    api = v2.create_api(Name="bad", ProtocolType="HTTP")
    i = v2.create_integration(ApiId=api["ApiId"], IntegrationType="AWS_PROXY", IntegrationUri=arn,
                              PayloadFormatVersion="2.0", TimeoutInMillis=1000)
    v2.create_route(ApiId=api["ApiId"], RouteKey="$default", Target=f"integrations/{i['IntegrationId']}")
    v2.create_stage(ApiId=api["ApiId"], StageName="$default", AutoDeploy=True)
    status, _, body = call(lamina, "GET", "/x?mode=error", api_id=api["ApiId"])
    assert (status, json.loads(body)) == (500, {"message": "Internal Server Error"})
    # Payload format 2.0 takes a body given as JSON and sends its text, as AWS does (REST
    # APIs above answer it 502).
    status, _, body = call(lamina, "GET", "/x?mode=malformed", api_id=api["ApiId"])
    assert (status, json.loads(body)) == (200, {"not": "a string"})
    status, _, body = call(lamina, "GET", "/x?mode=sleep&seconds=3", api_id=api["ApiId"])
    assert (status, json.loads(body)) == (503, {"message": "Service Unavailable"})


class Backend:
    """A local HTTP backend that answers with what it received."""

    def __init__(self):
        class Handler(BaseHTTPRequestHandler):
            def answer(self):
                n = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(n).decode()
                reply = json.dumps({"method": self.command, "path": self.path, "body": body,
                                    "headers": {k.lower(): v for k, v in self.headers.items()}}).encode()
                self.send_response(207)
                self.send_header("content-type", "application/json")
                self.send_header("x-backend", "yes")
                self.send_header("content-length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            do_GET = do_POST = do_PUT = do_DELETE = answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def backend():
    b = Backend()
    yield b
    b.server.shutdown()


def test_http_proxy_forwards_path_query_and_body(lamina, backend):
    apigw = lamina.client("apigateway")
    api = apigw.create_rest_api(name="http-proxy")
    proxy = apigw.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart="{proxy+}")
    apigw.put_method(restApiId=api["id"], resourceId=proxy["id"], httpMethod="ANY", authorizationType="NONE",
                     requestParameters={"method.request.path.proxy": True})
    apigw.put_integration(restApiId=api["id"], resourceId=proxy["id"], httpMethod="ANY", type="HTTP_PROXY",
                          integrationHttpMethod="ANY", uri=backend.url + "/backend/{proxy}",
                          requestParameters={"integration.request.path.proxy": "method.request.path.proxy"})
    apigw.create_deployment(restApiId=api["id"], stageName="prod")
    status, headers, body = call(lamina, "POST", "/prod/a/b?x=1&y=2", api_id=api["id"], body=b"payload",
                                 headers={"X-Custom": "hi"})
    assert status == 207 and header(headers, "x-backend") == "yes"
    got = json.loads(body)
    assert (got["method"], got["path"], got["body"]) == ("POST", "/backend/a/b?x=1&y=2", "payload")
    assert got["headers"]["x-custom"] == "hi"
    assert got["headers"]["x-forwarded-for"] == "127.0.0.1"

    v2 = lamina.client("apigatewayv2")
    api = v2.create_api(Name="http-proxy", ProtocolType="HTTP")
    i = v2.create_integration(ApiId=api["ApiId"], IntegrationType="HTTP_PROXY", IntegrationMethod="ANY",
                              IntegrationUri=backend.url + "/v2/{proxy}", PayloadFormatVersion="1.0")
    v2.create_route(ApiId=api["ApiId"], RouteKey="ANY /{proxy+}", Target=f"integrations/{i['IntegrationId']}")
    v2.create_stage(ApiId=api["ApiId"], StageName="$default", AutoDeploy=True)
    status, _, body = call(lamina, "DELETE", "/c/d?z=3", api_id=api["ApiId"])
    got = json.loads(body)
    assert (status, got["method"], got["path"]) == (207, "DELETE", "/v2/c/d?z=3")

    # Quick create with an HTTP URL: the request's path is appended.
    api = v2.create_api(Name="quick-proxy", ProtocolType="HTTP", Target=backend.url)
    status, _, body = call(lamina, "GET", "/e/f?g=h", api_id=api["ApiId"])
    assert (status, json.loads(body)["path"]) == (207, "/e/f?g=h")


def test_mock_integrations_answer_from_their_templates(lamina):
    apigw = lamina.client("apigateway")
    api = apigw.create_rest_api(name="mock")
    health = apigw.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart="health")
    kw = dict(restApiId=api["id"], resourceId=health["id"], httpMethod="GET")
    apigw.put_method(authorizationType="NONE", **kw)
    apigw.put_integration(type="MOCK", requestTemplates={"application/json": '{"statusCode": 200}'}, **kw)
    apigw.put_method_response(statusCode="200", responseParameters={"method.response.header.X-Mock": True}, **kw)
    apigw.put_integration_response(statusCode="200", responseTemplates={"application/json": '{"status": "ok"}'},
                                   responseParameters={"method.response.header.X-Mock": "'mocked'"}, **kw)
    got = apigw.get_method(**kw)
    assert got["methodIntegration"]["type"] == "MOCK"
    assert got["methodIntegration"]["integrationResponses"]["200"]["responseTemplates"] == {
        "application/json": '{"status": "ok"}'}
    assert got["methodResponses"]["200"]["responseParameters"] == {"method.response.header.X-Mock": True}
    apigw.create_deployment(restApiId=api["id"], stageName="prod")
    status, headers, body = call(lamina, "GET", "/prod/health", api_id=api["id"])
    assert (status, json.loads(body), header(headers, "x-mock")) == (200, {"status": "ok"}, "mocked")


def test_binary_bodies_with_binary_media_types(lamina, lam):
    arn = function_arn(lam, "rest-binary")
    api_id, _ = rest_proxy_api(lamina, arn, binary=["image/png"])
    status, _, body = call(lamina, "POST", "/prod/upload", api_id=api_id, body=PNG,
                           headers={"Content-Type": "image/png"})
    e = json.loads(body)["event"]
    assert e["isBase64Encoded"] is True and base64.b64decode(e["body"]) == PNG
    # A base64 answer is decoded when the client accepts a binary media type...
    status, headers, body = call(lamina, "GET", "/prod/x?mode=binary", api_id=api_id, headers={"Accept": "image/png"})
    assert (status, body, header(headers, "content-type")) == (200, PNG, "image/png")
    # ...and passed as text otherwise.
    status, _, body = call(lamina, "GET", "/prod/x?mode=binary", api_id=api_id, headers={"Accept": "text/plain"})
    assert base64.b64decode(body) == PNG

    api = lamina.client("apigatewayv2").create_api(Name="bin", ProtocolType="HTTP", Target=arn)
    status, _, body = call(lamina, "POST", "/up", api_id=api["ApiId"], body=PNG,
                           headers={"Content-Type": "application/octet-stream"})
    e = json.loads(body)["event"]
    assert e["isBase64Encoded"] is True and base64.b64decode(e["body"]) == PNG
    status, _, body = call(lamina, "GET", "/?mode=binary", api_id=api["ApiId"])
    assert (status, body) == (200, PNG)


def test_cors_preflight_and_response_headers(lamina, lam):
    arn = function_arn(lam, "cors-echo")
    v2 = lamina.client("apigatewayv2")
    api = v2.create_api(Name="cors", ProtocolType="HTTP", Target=arn, CorsConfiguration={
        "AllowOrigins": ["https://app.example"], "AllowMethods": ["GET", "POST"], "AllowHeaders": ["x-token"],
        "ExposeHeaders": ["x-echo"], "MaxAge": 600})
    assert v2.get_api(ApiId=api["ApiId"])["CorsConfiguration"]["AllowOrigins"] == ["https://app.example"]
    status, headers, body = call(lamina, "OPTIONS", "/items", api_id=api["ApiId"], headers={
        "Origin": "https://app.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "x-token"})
    assert status == 204 and body == b""
    assert header(headers, "access-control-allow-origin") == "https://app.example"
    assert header(headers, "access-control-allow-methods") == "GET,POST"
    assert header(headers, "access-control-allow-headers") == "x-token"
    assert header(headers, "access-control-max-age") == "600"
    status, headers, _ = call(lamina, "GET", "/items", api_id=api["ApiId"], headers={"Origin": "https://app.example"})
    assert status == 200
    assert header(headers, "access-control-allow-origin") == "https://app.example"
    assert header(headers, "access-control-expose-headers") == "x-echo"
    # Another origin gets no CORS headers.
    status, headers, _ = call(lamina, "OPTIONS", "/items", api_id=api["ApiId"], headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert header(headers, "access-control-allow-origin") is None


def test_control_plane_errors_and_state_that_survives_a_restart(lamina, lam):
    apigw = lamina.client("apigateway")
    with pytest.raises(apigw.exceptions.NotFoundException) as e:
        apigw.get_rest_api(restApiId="nope")
    assert e.value.response["Error"]["Message"] == "Invalid API identifier specified 000000000000:nope"
    api = apigw.create_rest_api(name="errors", endpointConfiguration={"types": ["PRIVATE"]}, description="d")
    assert api["endpointConfiguration"]["types"] == ["PRIVATE"]
    with pytest.raises(apigw.exceptions.BadRequestException) as e:
        apigw.create_deployment(restApiId=api["id"], stageName="prod")
    assert e.value.response["Error"]["Message"] == "The REST API doesn't contain any methods"
    apigw.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart="items")
    with pytest.raises(apigw.exceptions.ConflictException):
        apigw.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart="items")
    with pytest.raises(apigw.exceptions.BadRequestException):
        apigw.put_method(restApiId=api["id"], resourceId=api["rootResourceId"], httpMethod="FETCH",
                         authorizationType="NONE")
    updated = apigw.update_rest_api(restApiId=api["id"], patchOperations=[
        {"op": "replace", "path": "/name", "value": "renamed"},
        {"op": "add", "path": "/binaryMediaTypes/image~1png"}])
    assert (updated["name"], updated["binaryMediaTypes"]) == ("renamed", ["image/png"])

    # Another account sees none of it.
    other = lamina.client("apigateway", key="111111111111")
    assert other.get_rest_apis()["items"] == []
    with pytest.raises(other.exceptions.NotFoundException):
        other.get_rest_api(restApiId=api["id"])

    arn = function_arn(lam, "persisted")
    api_id, _ = rest_proxy_api(lamina, arn)
    http_api = lamina.client("apigatewayv2").create_api(Name="persisted", ProtocolType="HTTP", Target=arn)
    lamina.restart(hard=True)
    apigw = lamina.client("apigateway")
    names = sorted(a["name"] for a in apigw.get_rest_apis()["items"])
    assert names == ["proxy", "renamed"]
    assert {r["path"] for r in apigw.get_resources(restApiId=api_id)["items"]} == {"/", "/{proxy+}"}
    assert call(lamina, "GET", "/prod/after", api_id=api_id)[0] == 200
    assert call(lamina, "GET", "/after", api_id=http_api["ApiId"])[0] == 200


def test_stages_with_the_aws_cli(lamina, lam):
    arn = function_arn(lam, "cli-stage")
    api_id, _ = rest_proxy_api(lamina, arn, stage="dev")
    stage = lamina.aws("apigateway", "update-stage", "--rest-api-id", api_id, "--stage-name", "dev",
                       "--patch-operations", "op=replace,path=/variables/flavor,value=mint",
                       "op=replace,path=/*/*/throttling/rateLimit,value=50")
    assert stage["variables"] == {"flavor": "mint"}
    assert stage["methodSettings"]["*/*"]["throttlingRateLimit"] == 50.0
    deployments = lamina.aws("apigateway", "get-deployments", "--rest-api-id", api_id)["items"]
    lamina.aws("apigateway", "create-stage", "--rest-api-id", api_id, "--stage-name", "qa",
               "--deployment-id", deployments[0]["id"], "--variables", "flavor=lime")
    for stage_name, flavor in [("dev", "mint"), ("qa", "lime")]:
        status, _, body = call(lamina, "GET", f"/{stage_name}/x", api_id=api_id)
        assert json.loads(body)["event"]["stageVariables"] == {"flavor": flavor}
    got = lamina.aws("apigateway", "get-stages", "--rest-api-id", api_id)["item"]
    assert sorted(s["stageName"] for s in got) == ["dev", "qa"]
    p = lamina.aws("apigateway", "get-stage", "--rest-api-id", api_id, "--stage-name", "nope", expect_ok=False)
    assert p.returncode != 0 and "NotFoundException" in p.stderr


def keys(v):
    return set(v) if isinstance(v, dict) else set()


def fixture(name):
    home = os.environ.get("CARGO_HOME", os.path.expanduser("~/.cargo"))
    found = sorted(glob.glob(f"{home}/registry/src/*/aws_lambda_events-*/src/fixtures/{name}"))
    assert found, f"aws_lambda_events fixture {name} not found under {home}"
    return json.loads(Path(found[-1]).read_text())


def test_events_parse_as_aws_lambda_events_types_and_match_its_fixtures(lamina, lam):
    """Every member of AWS's own example events (the `aws_lambda_events` crate's fixtures)
    is in Lamina's events, and Lamina's events parse as that crate's types."""
    binary = Path(RUST_ECHO_BIN).with_name("apigw")
    code = zip_bytes({"bootstrap": (binary.read_bytes(), 0o755)})
    arn = lam.create_function(FunctionName="typed", Runtime="provided.al2023", Role="arn:aws:iam::000000000000:role/r",
                              Handler="x", Code={"ZipFile": code})["FunctionArn"]
    api_id, _ = rest_proxy_api(lamina, arn)
    status, _, body = call(lamina, "POST", "/prod/a?b=c", api_id=api_id, body=b"x",
                           headers={"Content-Type": "text/plain"})
    assert status == 200, body
    got = json.loads(body)
    raw, typed = got["raw"], got["typed"]
    want = fixture("example-apigw-request.json")
    # `authorizer` comes with authorizers, `apiKey`/`apiKeyId` with API keys.
    assert keys(want) <= keys(raw)
    assert keys(want["requestContext"]) - {"authorizer"} <= keys(raw["requestContext"])
    assert keys(want["requestContext"]["identity"]) - {"apiKey", "apiKeyId"} <= keys(raw["requestContext"]["identity"])
    # Newer members than that fixture, which AWS sends today.
    assert keys(raw) - keys(want) == {"isBase64Encoded"}
    assert keys(raw["requestContext"]) - keys(want["requestContext"]) == {"extendedRequestId"}
    assert keys(raw["requestContext"]["identity"]) - keys(want["requestContext"]["identity"]) == {"principalOrgId"}
    assert typed["path"] == "/a" and typed["httpMethod"] == "POST"
    assert typed["queryStringParameters"] == {"b": "c"} and typed["requestContext"]["stage"] == "prod"

    api = lamina.client("apigatewayv2").create_api(Name="typed", ProtocolType="HTTP", Target=arn)
    status, _, body = call(lamina, "GET", "/a/b?c=d", api_id=api["ApiId"])
    assert status == 200, body
    got = json.loads(body)
    raw, typed = got["raw"], got["typed"]
    want = fixture("example-apigw-v2-request-no-authorizer.json")
    assert keys(want) <= keys(raw)
    # `authentication` is for mutual TLS, which Lamina's plain-HTTP endpoint does not do.
    assert keys(want["requestContext"]) - {"authentication"} == keys(raw["requestContext"])
    assert keys(want["requestContext"]["http"]) == keys(raw["requestContext"]["http"])
    assert keys(raw) - keys(want) == {"queryStringParameters"}
    assert typed["rawPath"] == "/a/b" and typed["requestContext"]["http"]["method"] == "GET"


def test_aws_integrations_send_to_sqs_and_map_a_function_without_proxy(lamina, lam):
    sqs = lamina.client("sqs")
    queue_url = sqs.create_queue(QueueName="orders")["QueueUrl"]
    apigw = lamina.client("apigateway")
    api = apigw.create_rest_api(name="service-integrations")
    orders = apigw.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart="orders")
    kw = dict(restApiId=api["id"], resourceId=orders["id"], httpMethod="POST")
    apigw.put_method(authorizationType="NONE", **kw)
    apigw.put_integration(
        type="AWS", integrationHttpMethod="POST", passthroughBehavior="NEVER",
        uri="arn:aws:apigateway:us-east-1:sqs:path/000000000000/orders",
        requestParameters={"integration.request.header.Content-Type": "'application/x-www-form-urlencoded'"},
        requestTemplates={"application/json": "Action=SendMessage&MessageBody=$util.urlEncode($input.body)"}, **kw)
    apigw.put_method_response(statusCode="200", **kw)
    apigw.put_integration_response(statusCode="200", responseTemplates={
        "application/json": "{\"queued\": \"$input.path('$.SendMessageResponse.SendMessageResult.MessageId')\"}"}, **kw)

    compute = apigw.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart="compute")
    ck = dict(restApiId=api["id"], resourceId=compute["id"], httpMethod="GET")
    arn = create(lam, "non-proxy", code=function_zip("app.py"))["FunctionArn"]
    apigw.put_method(authorizationType="NONE", **ck)
    apigw.put_integration(type="AWS", integrationHttpMethod="POST", uri=lambda_uri(arn), requestTemplates={
        "application/json": "{\"action\": \"$input.params('action')\", \"who\": \"$input.params('who')\", "
                            "\"message\": \"Bad request: $input.params('who')\"}"}, **ck)
    apigw.put_integration_response(statusCode="200", responseTemplates={
        "application/json": "{\"who\": \"$input.path('$.event.who')\"}"}, **ck)
    apigw.put_integration_response(statusCode="400", selectionPattern="Bad request.*", **ck)
    apigw.create_deployment(restApiId=api["id"], stageName="prod")

    status, _, body = call(lamina, "POST", "/prod/orders", api_id=api["id"], body=b'{"order": 1, "note": "a&b"}',
                           headers={"Content-Type": "application/json"})
    assert status == 200, body
    message_id = json.loads(body)["queued"]
    got = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1)["Messages"][0]
    assert (got["MessageId"], got["Body"]) == (message_id, '{"order": 1, "note": "a&b"}')

    status, _, body = call(lamina, "GET", "/prod/compute?action=echo&who=ann", api_id=api["id"])
    assert (status, json.loads(body)) == (200, {"who": "ann"})
    # A function error is mapped by its message.
    status, _, body = call(lamina, "GET", "/prod/compute?action=error&who=bob", api_id=api["id"])
    assert status == 400 and json.loads(body)["errorMessage"] == "Bad request: bob"


APIS = Path(__file__).resolve().parent / "apis"


def test_apis_imported_from_openapi_and_swagger_files(lamina, lam):
    function_arn(lam, "pets")
    api = lamina.aws("apigateway", "import-rest-api", "--body", f"fileb://{APIS / 'pets.yaml'}",
                     "--parameters", "endpointConfigurationTypes=REGIONAL")
    assert (api["name"], api["description"]) == ("pets", "Pets, from an OpenAPI file")
    assert api["binaryMediaTypes"] == ["image/png"]
    assert api["endpointConfiguration"]["types"] == ["REGIONAL"]
    apigw = lamina.client("apigateway")
    resources = {r["path"]: r for r in apigw.get_resources(restApiId=api["id"], embed=["methods"])["items"]}
    assert set(resources) == {"/", "/pets", "/pets/{id}", "/admin", "/health"}
    get_pet = resources["/pets/{id}"]["resourceMethods"]["GET"]
    assert get_pet["requestParameters"] == {"method.request.path.id": True}
    assert get_pet["methodIntegration"]["type"] == "AWS_PROXY"
    assert resources["/admin"]["resourceMethods"]["POST"]["apiKeyRequired"] is True
    apigw.create_deployment(restApiId=api["id"], stageName="v1")

    status, _, body = call(lamina, "GET", "/v1/pets/7", api_id=api["id"])
    assert status == 200, body
    assert json.loads(body)["event"]["pathParameters"] == {"id": "7"}
    status, _, body = call(lamina, "GET", "/v1/health", api_id=api["id"])
    assert (status, json.loads(body)) == (200, {"healthy": True})
    assert call(lamina, "POST", "/v1/admin", api_id=api["id"])[0] == 403

    # PutRestApi overwrites the definition with a Swagger 2 one.
    apigw.put_rest_api(restApiId=api["id"], mode="overwrite", body=(APIS / "orders.swagger.json").read_bytes())
    paths = {r["path"] for r in apigw.get_resources(restApiId=api["id"])["items"]}
    assert paths == {"/", "/orders"}
    apigw.create_deployment(restApiId=api["id"], stageName="v1")
    status, _, body = call(lamina, "DELETE", "/v1/orders", api_id=api["id"])
    assert (status, json.loads(body)) == (201, {"created": True})
    assert call(lamina, "GET", "/v1/health", api_id=api["id"])[0] == 403

    with pytest.raises(apigw.exceptions.BadRequestException):
        apigw.import_rest_api(body=b"{\"not\": \"openapi\"}")


def test_access_logs_and_metrics_per_stage(lamina, lam):
    arn = function_arn(lam, "observed")
    api_id, _ = rest_proxy_api(lamina, arn)
    destination = "arn:aws:logs:us-east-1:000000000000:log-group:/gateway/access"
    fmt = ('{"requestId":"$context.requestId","status":"$context.status","path":"$context.path",'
           '"resource":"$context.resourcePath","ip":"$context.identity.sourceIp","method":"$context.httpMethod",'
           '"latency":"$context.responseLatency","error":"$context.error.message"}')
    lamina.client("apigateway").update_stage(restApiId=api_id, stageName="prod", patchOperations=[
        {"op": "replace", "path": "/accessLogSettings/destinationArn", "value": destination},
        {"op": "replace", "path": "/accessLogSettings/format", "value": fmt}])
    from botocore.exceptions import ClientError
    with pytest.raises(ClientError) as e:
        lamina.client("apigateway").update_stage(restApiId=api_id, stageName="prod", patchOperations=[
            {"op": "add", "path": "/accessLogSettings/other", "value": "x"}])
    assert e.value.response["Error"]["Message"] == ("Invalid accessLogSettings path. Must be one of : "
                                                    "[/accessLogSettings/destinationArn, /accessLogSettings/format]")
    call(lamina, "GET", "/prod/one", api_id=api_id)
    call(lamina, "GET", "/prod/two?mode=malformed", api_id=api_id)
    logs = lamina.client("logs")

    def logged():
        try:
            return [e["message"] for e in logs.filter_log_events(logGroupName="/gateway/access")["events"]]
        except logs.exceptions.ResourceNotFoundException:
            return []

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(logged()) < 2:
        time.sleep(0.05)
    lines = [json.loads(line) for line in logged()]
    streams = logs.describe_log_streams(logGroupName="/gateway/access")["logStreams"]
    assert [s["logStreamName"] for s in streams] == [f"{api_id}/prod"]
    assert [(l["status"], l["path"], l["resource"], l["method"]) for l in lines] == [
        ("200", "/prod/one", "/{proxy+}", "GET"), ("502", "/prod/two", "/{proxy+}", "GET")]
    assert lines[1]["error"] == "Internal server error" and lines[0]["ip"] == "127.0.0.1"
    assert int(lines[0]["latency"]) >= 0

    status, _, metrics = lamina.http("GET", "/_lamina/metrics")
    text = metrics.decode()
    label = f'{{api_id="{api_id}",stage="prod"}}'
    assert f"lamina_apigateway_requests_total{label} 2" in text
    assert f"lamina_apigateway_5xx_total{label} 1" in text
    assert f"lamina_apigateway_4xx_total{label} 0" in text
    assert f"lamina_apigateway_integration_latency_ms_total{label}" in text


def test_a_disabled_default_endpoint_answers_forbidden(lamina, lam):
    arn = function_arn(lam, "disabled-endpoint")
    api_id, _ = rest_proxy_api(lamina, arn)
    assert call(lamina, "GET", "/prod/x", api_id=api_id)[0] == 200
    lamina.client("apigateway").update_rest_api(restApiId=api_id, patchOperations=[
        {"op": "replace", "path": "/disableExecuteApiEndpoint", "value": "true"}])
    status, _, body = call(lamina, "GET", "/prod/x", api_id=api_id)
    assert (status, json.loads(body)) == (403, {"message": "Forbidden"})


def test_bad_control_plane_input_gets_bad_request_exception(lamina):
    for method, path, body in [("GET", "/restapis?limit=lots", None), ("POST", "/restapis", b"{not json"),
                               ("GET", "/apikeys?includeValues=perhaps", None), ("POST", "/v2/apis", b"[1, 2"),
                               ("POST", "/v2/apis", b'{"name": "x", "protocolType": "SMTP"}')]:
        status, headers, answer = lamina.http(method, path, body, {"content-type": "application/json"})
        assert status == 400, (path, answer)
        assert headers["x-amzn-ErrorType"] == "BadRequestException"
        assert json.loads(answer)["message"]


def test_models_and_request_validators_are_kept_and_patched_as_aws_does(lamina):
    from botocore.exceptions import ClientError
    gw = lamina.client("apigateway")
    api = gw.create_rest_api(name="defs")["id"]

    def err(call, **kw):
        with pytest.raises(ClientError) as e:
            call(**kw)
        r = e.value.response
        return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"], r["Error"]["Message"]

    schema = json.dumps({"title": "Pet", "type": "object"})
    made = gw.create_model(restApiId=api, name="Pet", contentType="application/json", schema=schema)
    assert (made["name"], made["schema"], made["ResponseMetadata"]["HTTPStatusCode"]) == ("Pet", schema, 201)
    assert err(gw.create_model, restApiId=api, name="Pet", contentType="application/json", schema=schema) == (
        409, "ConflictException", "Model name already exists for this REST API")
    assert err(gw.create_model, restApiId=api, name="Blank", contentType="application/json", schema="") == (
        400, "BadRequestException", "Model schema must have at least 1 property or array items defined")
    updated = gw.update_model(restApiId=api, modelName="Pet", patchOperations=[
        {"op": "replace", "path": "/description", "value": "a pet"}])
    assert updated["description"] == "a pet"
    assert err(gw.update_model, restApiId=api, modelName="Pet", patchOperations=[
        {"op": "replace", "path": "/name", "value": "x"}])[2] == \
        "Invalid patch path  '/name' specified for op 'replace'. Must be one of: [/description, /schema]"

    v = gw.create_request_validator(restApiId=api, name="body", validateRequestBody=True)
    assert (v["validateRequestBody"], v["validateRequestParameters"]) == (True, False)
    off = gw.update_request_validator(restApiId=api, requestValidatorId=v["id"], patchOperations=[
        {"op": "replace", "path": "/validateRequestBody"}])
    assert off["validateRequestBody"] is False
    assert err(gw.create_request_validator, restApiId="nope", name="x") == (
        400, "BadRequestException", "Invalid REST API identifier specified")

    lamina.restart()
    gw = lamina.client("apigateway")
    assert [m["name"] for m in gw.get_models(restApiId=api)["items"]] == ["Empty", "Error", "Pet"], "with the two defaults"
    assert [x["name"] for x in gw.get_request_validators(restApiId=api)["items"]] == ["body"]
    gw.delete_model(restApiId=api, modelName="Pet")
    gw.delete_request_validator(restApiId=api, requestValidatorId=v["id"])
    assert err(gw.get_model, restApiId=api, modelName="Pet") == (
        404, "NotFoundException", "Invalid model name specified: Pet")
    assert err(gw.get_request_validator, restApiId=api, requestValidatorId=v["id"]) == (
        404, "NotFoundException", "Invalid Request Validator identifier specified")


def test_documentation_parts_are_kept_by_location(lamina):
    from botocore.exceptions import ClientError
    gw = lamina.client("apigateway")
    api = gw.create_rest_api(name="docs")["id"]
    part = gw.create_documentation_part(restApiId=api, location={"type": "METHOD", "path": "/", "method": "GET"},
                                        properties='{"description": "lists things"}')
    assert part["location"] == {"type": "METHOD", "path": "/", "method": "GET"}
    with pytest.raises(ClientError) as e:
        gw.create_documentation_part(restApiId=api, location={"type": "METHOD", "path": "/", "method": "GET"},
                                     properties="{}")
    assert e.value.response["Error"]["Code"] == "ConflictException"
    gw.update_documentation_part(restApiId=api, documentationPartId=part["id"], patchOperations=[
        {"op": "replace", "path": "/properties", "value": '{"description": "changed"}'}])
    lamina.restart()
    gw = lamina.client("apigateway")
    [kept] = gw.get_documentation_parts(restApiId=api)["items"]
    assert json.loads(kept["properties"]) == {"description": "changed"}
    gw.delete_documentation_part(restApiId=api, documentationPartId=part["id"])
    with pytest.raises(ClientError) as e:
        gw.get_documentation_part(restApiId=api, documentationPartId=part["id"])
    assert e.value.response["Error"]["Message"] == "Invalid Documentation part identifier specified"


def test_every_rest_resource_kind_takes_patch_updates(lamina):
    from botocore.exceptions import ClientError
    gw = lamina.client("apigateway")
    api = gw.create_rest_api(name="patches")
    root = api["rootResourceId"]
    gw.update_rest_api(restApiId=api["id"], patchOperations=[
        {"op": "add", "path": "/binaryMediaTypes/image~1png"}, {"op": "add", "path": "/binaryMediaTypes/image~1jpeg"}])
    out = gw.update_rest_api(restApiId=api["id"], patchOperations=[
        {"op": "replace", "path": "/binaryMediaTypes/image~1png", "value": "image/gif"},
        {"op": "replace", "path": "/minimumCompressionSize", "value": "10"}])
    assert (out["binaryMediaTypes"], out["minimumCompressionSize"]) == (["image/jpeg", "image/gif"], 10)
    with pytest.raises(ClientError) as e:
        gw.update_rest_api(restApiId=api["id"], patchOperations=[
            {"op": "replace", "path": "/minimumCompressionSize", "value": "-1"}])
    assert e.value.response["Error"]["Message"] == "Invalid minimum compression size, must be between 0 and 10485760"
    assert out["tags"] == {}, "UpdateRestApi answers the tags, none included"

    pets = gw.create_resource(restApiId=api["id"], parentId=root, pathPart="pets")
    kid = gw.create_resource(restApiId=api["id"], parentId=pets["id"], pathPart="kid")
    moved = gw.update_resource(restApiId=api["id"], resourceId=pets["id"], patchOperations=[
        {"op": "replace", "path": "/pathPart", "value": "dogs"}])
    assert moved["path"] == "/dogs"
    assert gw.get_resource(restApiId=api["id"], resourceId=kid["id"])["path"] == "/dogs/kid", "the subtree follows"
    with pytest.raises(ClientError) as e:
        gw.update_resource(restApiId=api["id"], resourceId=pets["id"], patchOperations=[
            {"op": "replace", "path": "/parentId", "value": kid["id"]}])
    assert e.value.response["Error"]["Message"] == "Resources cannot be cyclical."

    gw.put_method(restApiId=api["id"], resourceId=kid["id"], httpMethod="GET", authorizationType="NONE")
    method = gw.update_method(restApiId=api["id"], resourceId=kid["id"], httpMethod="GET", patchOperations=[
        {"op": "add", "path": "/requestParameters/method.request.querystring.q", "value": "true"},
        {"op": "replace", "path": "/operationName", "value": "GetKid"}])
    assert method["requestParameters"] == {"method.request.querystring.q": True}
    assert method["operationName"] == "GetKid"
    gw.put_integration(restApiId=api["id"], resourceId=kid["id"], httpMethod="GET", type="MOCK",
                       requestTemplates={"application/json": '{"statusCode": 200}'})
    integration = gw.update_integration(restApiId=api["id"], resourceId=kid["id"], httpMethod="GET", patchOperations=[
        {"op": "replace", "path": "/timeoutInMillis", "value": "1000"},
        {"op": "add", "path": "/requestTemplates/text~1plain", "value": "x"}])
    assert integration["timeoutInMillis"] == 1000
    assert set(integration["requestTemplates"]) == {"application/json", "text/plain"}
    gw.put_method_response(restApiId=api["id"], resourceId=kid["id"], httpMethod="GET", statusCode="200")
    response = gw.update_method_response(
        restApiId=api["id"], resourceId=kid["id"], httpMethod="GET", statusCode="200",
        patchOperations=[{"op": "add", "path": "/responseModels/application~1json", "value": "Empty"}])
    assert response["responseModels"] == {"application/json": "Empty"}
    with pytest.raises(ClientError) as e:
        gw.update_method_response(restApiId=api["id"], resourceId=kid["id"], httpMethod="GET", statusCode="200",
                                  patchOperations=[{"op": "remove", "path": "/responseParameters/method.response.header.x"}])
    assert e.value.response["Error"]["Message"] == "Invalid parameter name specified"


def test_gateway_responses_are_kept_deployed_and_answer_the_apis_own_errors(lamina, lam):
    arn = function_arn(lam, "rest-gateway-responses")
    apigw = lamina.client("apigateway")
    api = apigw.create_rest_api(name="custom-errors")
    items = apigw.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart="items")
    apigw.put_method(restApiId=api["id"], resourceId=items["id"], httpMethod="GET", authorizationType="NONE")
    apigw.put_integration(restApiId=api["id"], resourceId=items["id"], httpMethod="GET", type="AWS_PROXY",
                          integrationHttpMethod="POST", uri=lambda_uri(arn))
    default = apigw.get_gateway_response(restApiId=api["id"], responseType="MISSING_AUTHENTICATION_TOKEN")
    assert (default["statusCode"], default["defaultResponse"]) == ("403", True)
    apigw.put_gateway_response(
        restApiId=api["id"], responseType="MISSING_AUTHENTICATION_TOKEN", statusCode="404",
        responseParameters={"gatewayresponse.header.x-where": "'nowhere'",
                            "gatewayresponse.header.x-asked": "method.request.header.x-ask"},
        responseTemplates={"application/json": '{"error": $context.error.messageString, '
                                               '"type": "$context.error.responseType"}'})
    apigw.put_gateway_response(restApiId=api["id"], responseType="DEFAULT_5XX", statusCode="599")
    listed = {r["responseType"]: r for r in apigw.get_gateway_responses(restApiId=api["id"])["items"]}
    assert listed["INTEGRATION_TIMEOUT"]["statusCode"] == "599" and listed["INTEGRATION_TIMEOUT"]["defaultResponse"]
    with pytest.raises(Exception) as e:
        apigw.delete_gateway_response(restApiId=api["id"], responseType="ACCESS_DENIED")
    assert "Gateway response type not defined on api" in str(e.value)
    # Answered once deployed (a stage that does not exist yet is forbidden).
    assert call(lamina, "GET", "/v1/nothing", api_id=api["id"])[0] == 403
    apigw.create_deployment(restApiId=api["id"], stageName="v1")
    lamina.restart()
    status, headers, body = call(lamina, "GET", "/v1/nothing", api_id=api["id"], headers={"x-ask": "why"})
    assert status == 404
    assert json.loads(body) == {"error": "Missing Authentication Token", "type": "MISSING_AUTHENTICATION_TOKEN"}
    assert (header(headers, "x-where"), header(headers, "x-asked")) == ("nowhere", "why")
    assert call(lamina, "GET", "/v1/items", api_id=api["id"])[0] == 200

    apigw = lamina.client("apigateway")
    assert apigw.create_rest_api(name="private", endpointConfiguration={"types": ["PRIVATE"]})[
        "endpointConfiguration"] == {"types": ["PRIVATE"], "ipAddressType": "dualstack"}
    with pytest.raises(Exception) as e:
        apigw.create_rest_api(name="two", endpointConfiguration={"types": ["EDGE", "REGIONAL"]})
    assert "Cannot create an api with multiple Endpoint Types." in str(e.value)


def test_put_method_checks_what_the_method_request_names(lamina):
    apigw = lamina.client("apigateway")
    api = apigw.create_rest_api(name="checked-methods")
    root = api["rootResourceId"]

    def refused(**kw):
        with pytest.raises(Exception) as e:
            apigw.put_method(restApiId=api["id"], resourceId=root, httpMethod="ANY", **kw)
        return str(e.value)

    assert "requires a valid authorizer" in refused(authorizationType="CUSTOM", authorizerId="nope")
    assert "Invalid Request Validator identifier specified" in refused(authorizationType="NONE",
                                                                      requestValidatorId="nope")
    assert "Invalid model identifier specified: petModel" in refused(
        authorizationType="NONE", requestModels={"application/json": "petModel"})
    assert "Parameter names must be unique across querystring, header and path" in refused(
        authorizationType="NONE",
        requestParameters={"method.request.querystring.id": True, "method.request.header.id": False})
    apigw.create_model(restApiId=api["id"], name="Pet", contentType="application/json",
                       schema=json.dumps({"type": "object", "properties": {"a": {"type": "string"}}}))
    apigw.put_method(restApiId=api["id"], resourceId=root, httpMethod="ANY", authorizationType="NONE",
                     requestModels={"application/json": "Pet"})
    with pytest.raises(Exception) as e:
        apigw.delete_model(restApiId=api["id"], modelName="Pet")
    assert "Cannot delete model 'Pet', is referenced in method request: //ANY" in str(e.value)
    # Of several methods naming it, AWS names the one last in path order.
    child = apigw.create_resource(restApiId=api["id"], parentId=root, pathPart="test")["id"]
    apigw.put_method(restApiId=api["id"], resourceId=child, httpMethod="ANY", authorizationType="NONE",
                     requestModels={"application/json": "Pet"})
    with pytest.raises(Exception) as e:
        apigw.delete_model(restApiId=api["id"], modelName="Pet")
    assert "Cannot delete model 'Pet', is referenced in method request: /test/ANY" in str(e.value)


def test_vpc_links_are_kept_with_aws_checks(lamina):
    apigw = lamina.client("apigateway")
    nlb = "arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/net/inner/0123456789abcdef"
    link = apigw.create_vpc_link(name="inner", targetArns=[nlb])
    assert (link["status"], link["targetArns"]) == ("PENDING", [nlb])
    with pytest.raises(Exception) as e:
        apigw.create_vpc_link(name="bad", targetArns=["invalid-arn"])
    assert "Invalid ARN. ARN is not well formed invalid-arn" in str(e.value)
    lamina.restart()
    apigw = lamina.client("apigateway")
    assert apigw.get_vpc_link(vpcLinkId=link["id"])["status"] == "AVAILABLE"
    renamed = apigw.update_vpc_link(vpcLinkId=link["id"], patchOperations=[
        {"op": "replace", "path": "/name", "value": "renamed"}])
    assert renamed["name"] == "renamed"
    assert [l["id"] for l in apigw.get_vpc_links()["items"]] == [link["id"]]
    apigw.delete_vpc_link(vpcLinkId=link["id"])
    with pytest.raises(Exception) as e:
        apigw.get_vpc_link(vpcLinkId=link["id"])
    assert "Invalid Vpc Link identifier specified" in str(e.value)


def test_test_invoke_method_runs_the_undeployed_method_and_logs_as_aws_does(lamina, lam):
    apigw = lamina.client("apigateway")
    api = apigw.create_rest_api(name="tested")["id"]
    root = apigw.get_resources(restApiId=api)["items"][0]["id"]
    pets = apigw.create_resource(restApiId=api, parentId=root, pathPart="pets")["id"]
    pet = apigw.create_resource(restApiId=api, parentId=pets, pathPart="{petId}")["id"]
    kw = dict(restApiId=api, resourceId=pet, httpMethod="GET")
    apigw.put_method(authorizationType="NONE", **kw)
    apigw.put_method_response(statusCode="200", **kw)
    apigw.put_integration(type="MOCK", requestTemplates={"application/json": '{"statusCode": 200}'}, **kw)
    apigw.put_integration_response(statusCode="200", **kw,
                                   responseTemplates={"application/json": '{"petId": "$input.params(\'petId\')"}'})

    # Nothing is deployed: the method runs as it is now. The path fills its parameters.
    got = apigw.test_invoke_method(pathWithQueryString="/pets/123?foo=bar", body="", **kw)
    assert (got["status"], json.loads(got["body"])) == (200, {"petId": "123"})
    assert got["headers"] == {"Content-Type": "application/json"}
    assert got["multiValueHeaders"] == {"Content-Type": ["application/json"]}
    lines = [line.split(" : ", 1)[-1] for line in got["log"].split("\n")]
    assert lines[0].startswith("Execution log for request ") and lines[-1] == ""
    assert lines[2:-1] == [
        "HTTP Method: GET, Resource Path: /pets/123", "Method request path: {petId=123}",
        "Method request query string: {foo=bar}", "Method request headers: {}",
        "Method request body before transformations: ",
        'Method response body after transformations: {"petId": "123"}',
        "Method response headers: {Content-Type=application/json}", "Successfully completed execution",
        "Method completed with status: 200"]
    # Without a path, the resource's own; a path that does not match fills nothing.
    assert json.loads(apigw.test_invoke_method(body="", **kw)["body"]) == {"petId": "{petId}"}
    assert json.loads(apigw.test_invoke_method(pathWithQueryString="/x/y", body="", **kw)["body"]) == {"petId": ""}

    # A Lambda proxy integration runs the function for real.
    arn = function_arn(lam, "tested-fn")
    apigw.put_method(restApiId=api, resourceId=pets, httpMethod="POST", authorizationType="NONE")
    apigw.put_integration(restApiId=api, resourceId=pets, httpMethod="POST", type="AWS_PROXY",
                          integrationHttpMethod="POST", uri=lambda_uri(arn))
    got = apigw.test_invoke_method(restApiId=api, resourceId=pets, httpMethod="POST", body='{"a": 1}',
                                   headers={"X-Test": "yes"})
    assert got["status"] == 200
    assert "Method request headers: {X-Test=yes}" in got["log"]
    assert "Endpoint request URI: " + lambda_uri(arn) in got["log"]

    # A backend address that cannot be: the gateway's 500, and why.
    apigw.put_method(restApiId=api, resourceId=root, httpMethod="ANY", authorizationType="NONE")
    apigw.put_integration(restApiId=api, resourceId=root, httpMethod="ANY", type="HTTP_PROXY",
                          integrationHttpMethod="ANY", uri="https://${stageVariables.host}")
    got = apigw.test_invoke_method(restApiId=api, resourceId=root, httpMethod="GET", body="")
    assert (got["status"], json.loads(got["body"])) == (500, {"message": "Internal server error"})
    assert got["headers"] == {"x-amzn-ErrorType": "InternalServerErrorException"}
    assert "Execution failed due to configuration error: Invalid endpoint address" in got["log"]

    for resource, method, message in [(pet, "HEAD", "Invalid Method identifier specified"),
                                      ("nope", "GET", "Invalid Resource identifier specified")]:
        with pytest.raises(apigw.exceptions.NotFoundException) as e:
            apigw.test_invoke_method(restApiId=api, resourceId=resource, httpMethod=method, body="")
        assert e.value.response["Error"]["Message"] == message


DOCUMENTED = {
    "openapi": "3.0.0",
    "info": {"title": "documented", "version": "1"},
    "paths": {"/": {"get": {"responses": {"200": {"description": "ok"}}}}},
    "x-amazon-apigateway-documentation": {"version": "1", "documentationParts": [
        {"location": {"type": "API"}, "properties": {"description": "the API"}},
        {"location": {"type": "METHOD", "method": "GET"}, "properties": {"description": "a method"}},
        {"location": {"type": "MODEL", "name": "Empty"}, "properties": {"title": "Empty Schema"}},
    ]},
}


def test_documentation_parts_import_with_the_api_and_on_their_own(lamina):
    apigw = lamina.client("apigateway")
    # A method without an integration is no warning on AWS: failOnWarnings lets it in.
    api = apigw.import_rest_api(body=json.dumps(DOCUMENTED), failOnWarnings=True)["id"]
    parts = apigw.get_documentation_parts(restApiId=api)["items"]
    assert [p["location"] for p in parts] == [
        {"type": "API"}, {"type": "METHOD", "path": "/", "method": "GET"}, {"type": "MODEL", "name": "Empty"}]
    assert [json.loads(p["properties"]) for p in parts][0] == {"description": "the API"}

    # Merge replaces a part at the same location; overwrite replaces them all.
    one = dict(DOCUMENTED, **{"x-amazon-apigateway-documentation": {"documentationParts": [
        {"location": {"type": "API"}, "properties": {"description": "new"}}]}})
    ids = apigw.import_documentation_parts(restApiId=api, mode="merge", body=json.dumps(one))["ids"]
    parts = apigw.get_documentation_parts(restApiId=api)["items"]
    assert len(parts) == 3 and parts[-1]["id"] == ids[0] and json.loads(parts[-1]["properties"]) == {"description": "new"}
    ids = apigw.import_documentation_parts(restApiId=api, mode="overwrite", body=json.dumps(one))["ids"]
    assert [p["id"] for p in apigw.get_documentation_parts(restApiId=api)["items"]] == ids
    # YAML is read too; what is neither answers AWS's words.
    ids = apigw.import_documentation_parts(restApiId=api, mode="overwrite", body=yaml_of(DOCUMENTED))["ids"]
    assert len(ids) == 3
    with pytest.raises(apigw.exceptions.BadRequestException) as e:
        apigw.import_documentation_parts(restApiId=api, mode="overwrite", body="{'key:value}")
    assert e.value.response["Error"]["Message"] == "Unable to build importer with provided input."
    # Imported parts persist.
    lamina.restart()
    assert len(lamina.client("apigateway").get_documentation_parts(restApiId=api)["items"]) == 3


def yaml_of(value, indent=0):
    """A small YAML writer for the test's plain documents (no YAML library needed)."""
    pad = " " * indent
    if isinstance(value, dict):
        return "".join(f"{pad}{json.dumps(k)}:\n{yaml_of(v, indent + 2)}" if isinstance(v, (dict, list)) and v
                       else f"{pad}{json.dumps(k)}: {json.dumps(v)}\n" for k, v in value.items())
    return "".join(f"{pad}-\n{yaml_of(v, indent + 2)}" if isinstance(v, (dict, list)) else f"{pad}- {json.dumps(v)}\n"
                   for v in value)


def test_control_plane_details_answer_as_aws_does(lamina):
    apigw = lamina.client("apigateway")
    with pytest.raises(apigw.exceptions.BadRequestException) as e:
        apigw.create_rest_api(name="small", minimumCompressionSize=-1)
    assert e.value.response["Error"]["Message"] == "Invalid minimum compression size, must be between 0 and 10485760"
    api = apigw.create_rest_api(name="maps")
    kw = dict(restApiId=api["id"], resourceId=api["rootResourceId"], httpMethod="GET")
    apigw.put_method(authorizationType="NONE", **kw)
    # Maps given empty are shown empty; never given, not at all.
    made = apigw.put_method_response(statusCode="200", responseParameters={}, responseModels={}, **kw)
    assert (made["responseParameters"], made["responseModels"]) == ({}, {})
    assert apigw.get_method_response(statusCode="200", **kw)["responseModels"] == {}
    bare = apigw.put_method_response(statusCode="201", **kw)
    assert "responseModels" not in bare and "responseParameters" not in bare
    # Patched down to nothing, a map is shown as none.
    apigw.update_method_response(statusCode="201", **kw, patchOperations=[
        {"op": "add", "path": "/responseModels/application~1json", "value": "Empty"}])
    emptied = apigw.update_method_response(statusCode="201", **kw, patchOperations=[
        {"op": "remove", "path": "/responseModels/application~1json"}])
    assert "responseModels" not in emptied
    # A response template given as null or empty is kept as none: AWS shows null.
    apigw.put_integration(type="MOCK", **kw)
    path = f"/restapis/{api['id']}/resources/{api['rootResourceId']}/methods/GET/integration/responses/200"
    for given in [None, ""]:  # (boto3 would not send a null; the CLI and other SDKs do)
        status, _, raw = lamina.http("PUT", path, json.dumps({"responseTemplates": {"application/json": given}}).encode(),
                                     {"content-type": "application/json"})
        assert (status, json.loads(raw)["responseTemplates"]) == (201, {"application/json": None})
    # APIs made within one second are listed in the order they were made.
    made = [apigw.create_rest_api(name=f"order-{n}")["id"] for n in range(5)]
    listed = [a["id"] for a in apigw.get_rest_apis()["items"] if a["name"].startswith("order-")]
    assert listed == made
    # The body's violations come before the path's.
    with pytest.raises(apigw.exceptions.ClientError) as e:
        apigw.update_method_response(statusCode="wrong", patchOperations=[{"op": "wrong_op", "path": "/x"}], **kw)
    assert e.value.response["Error"]["Code"] == "ValidationException"
    message = e.value.response["Error"]["Message"]
    assert message.startswith("2 validation errors detected: Value 'wrong_op' at "
                              "'updateMethodResponseInput.patchOperations.1.member.op'"), message
    assert "; Value 'wrong' at 'statusCode'" in message
