"""Lambda function URLs: their configuration through boto3 and the aws CLI, and calls to
`http://<url-id>.lambda-url.<region>.localhost:<port>/` with curl (payload 2.0 events,
CORS, AWS_IAM signing), in open and authenticated mode."""
import http.client
import json
import re
import subprocess
from urllib.parse import urlsplit

import botocore.auth
import pytest
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from conftest import create, function_zip
from test_auth import ALICE, BOB, client, secured  # noqa: F401 (a fixture)
from test_logs import wait_for


NOT_ALLOWED = ("Forbidden. For troubleshooting Function URL authorization issues, see: "
               "https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html")


def error(call):
    with pytest.raises(ClientError) as e:
        call()
    r = e.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"], r["Error"]["Message"]


def curl(url, *args, stdin=None):
    """curl, which resolves `*.localhost` to the loopback by itself; returns (status,
    headers, body)."""
    out = subprocess.run(["curl", "-s", "-i", "--max-time", "60", *args, url], input=stdin, capture_output=True,
                         timeout=90)
    head, _, body = out.stdout.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers.setdefault(k.strip().lower(), []).append(v.strip())
    return int(lines[0].split()[1]), headers, body


def call(url, method="GET", path="/", body=b"", sign=None):
    """A request to a function URL, sent to the loopback with the URL's host; signed with
    SigV4 for `lambda` by `sign` (key, secret) if given."""
    parts = urlsplit(url)
    req = AWSRequest(method=method, url=f"{parts.scheme}://{parts.netloc}{path}", data=body)
    if sign:
        botocore.auth.SigV4Auth(Credentials(sign[0], sign[1]), "lambda", "us-east-1").add_auth(req)
    conn = http.client.HTTPConnection("127.0.0.1", parts.port, timeout=60)
    headers = dict(req.headers.items())
    headers["Host"] = parts.netloc
    conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse()
    return r.status, r.read()


def test_a_function_url_called_with_curl_gets_the_payload_2_event(lamina, lam):
    create(lam, "web", code=function_zip("url.py"), handler="url.handler")
    made = lam.create_function_url_config(FunctionName="web", AuthType="NONE")
    assert made["ResponseMetadata"]["HTTPStatusCode"] == 201
    url = made["FunctionUrl"]
    host = urlsplit(url).hostname
    assert host.endswith(".lambda-url.us-east-1.localhost") and len(host.split(".")[0]) == 32
    assert url == f"http://{host}:{lamina.port}/"
    assert made["FunctionArn"] == "arn:aws:lambda:us-east-1:000000000000:function:web"
    # As AWS answers, CreateFunctionUrlConfig shows InvokeMode only when it was given; Get shows it.
    assert made["AuthType"] == "NONE" and "InvokeMode" not in made
    assert lam.get_function_url_config(FunctionName="web")["InvokeMode"] == "BUFFERED"

    status, headers, body = curl(url + "items/7?color=red&color=blue&size=L", "-X", "POST",
                                 "-H", "content-type: text/plain", "-H", "cookie: a=1; b=2",
                                 "-H", "x-custom: yes", "--data-binary", "hello url")
    assert status == 201
    assert headers["set-cookie"] == ["session=abc; Path=/"] and headers["x-version"] == ["$LATEST"]
    assert headers["x-amzn-requestid"]
    event = json.loads(body)
    assert event["version"] == "2.0" and event["routeKey"] == "$default"
    assert event["rawPath"] == "/items/7" and event["rawQueryString"] == "color=red&color=blue&size=L"
    assert event["queryStringParameters"] == {"color": "red,blue", "size": "L"}
    assert event["cookies"] == ["a=1", "b=2"] and event["headers"]["x-custom"] == "yes"
    # As AWS's front end passes them on: the domain alone, the port apart, no hop-by-hop.
    assert event["headers"]["host"] == host and event["headers"]["x-forwarded-port"] == str(lamina.port)
    assert event["headers"]["x-forwarded-proto"] == "http" and "connection" not in event["headers"]
    assert event["body"] == "hello url" and event["isBase64Encoded"] is False
    ctx = event["requestContext"]
    assert ctx["accountId"] == "anonymous" and ctx["apiId"] == host.split(".")[0]
    assert ctx["domainName"] == host and ctx["domainPrefix"] == host.split(".")[0]
    assert ctx["stage"] == "$default" and ctx["http"]["method"] == "POST" and ctx["http"]["path"] == "/items/7"
    assert ctx["requestId"] == headers["x-amzn-requestid"][0]
    # The invocation runs under the URL request's id, as its log says.
    logs = lamina.client("logs")
    rid = headers["x-amzn-requestid"][0]
    events = wait_for(lambda: [e["message"] for e in logs.filter_log_events(logGroupName="/aws/lambda/web")["events"]
                               if e["message"].startswith("END ")], "the invocation's END line")
    assert f"END RequestId: {rid}" in [m.rstrip() for m in events]

    status, headers, body = curl(url + "plain")
    assert (status, body) == (200, b"just a string") and headers["content-type"] == ["application/json"]
    status, _, body = curl(url + "object")
    assert (status, json.loads(body)) == (200, {"as": "object"}), "a body given as JSON is sent as its text"
    status, _, body = curl(url + "fail")
    assert (status, body) == (502, b"Internal Server Error"), "AWS answers a failed function in plain text"
    status, headers, body = curl(url, "-H", "Expect:", "--data-binary", "@-", stdin=b"x" * (7 * 1024 * 1024))
    assert status == 413 and "smaller than" in json.loads(body)["Message"]

    # It survives a restart, at the same address.
    lamina.restart()
    url_after = lamina.client().get_function_url_config(FunctionName="web")["FunctionUrl"]
    assert urlsplit(url_after).hostname == host
    assert curl(url_after + "again")[0] == 201


STREAMING = b"""exports.handler = awslambda.streamifyResponse(async (event, responseStream, context) => {
  const stream = awslambda.HttpResponseStream.from(responseStream, {
    statusCode: 200, headers: { "Content-Type": "text/html" } });
  stream.write("Hello,");
  stream.write(" world!");
  stream.end();
});
"""


def test_a_streaming_function_answers_its_url_in_response_stream_mode(lamina, lam):
    from conftest import zip_bytes
    create(lam, "streams", runtime="nodejs20.x", handler="index.handler", code=zip_bytes({"index.js": STREAMING}))
    url = lam.create_function_url_config(FunctionName="streams", AuthType="NONE",
                                         InvokeMode="RESPONSE_STREAM")["FunctionUrl"]
    status, headers, body = curl(url, "--data-binary", "{}")
    assert (status, body) == (200, b"Hello, world!")
    assert headers["content-type"] == ["text/html"]


def test_url_configs_are_managed_as_aws_does(lamina, lam):
    create(lam, "site", code=function_zip("url.py"), handler="url.handler")
    assert error(lambda: lam.get_function_url_config(FunctionName="site")) == (
        404, "ResourceNotFoundException", "The resource you requested does not exist.")
    lam.create_function_url_config(FunctionName="site", AuthType="NONE")
    status, code, message = error(lambda: lam.create_function_url_config(FunctionName="site", AuthType="NONE"))
    assert (status, code) == (409, "ResourceConflictException") and "FunctionUrlConfig exists" in message
    status, code, message = error(lambda: lam.create_function_url_config(FunctionName="site", AuthType="OPEN"))
    assert (status, code) == (400, "ValidationException") and "authType" in message
    assert error(lambda: lam.create_function_url_config(FunctionName="site", Qualifier="1", AuthType="NONE"))[:2] == (
        400, "ValidationException")
    assert error(lambda: lam.create_function_url_config(FunctionName="site", Qualifier="live",
                                                        AuthType="NONE"))[:2] == (404, "ResourceNotFoundException")
    assert error(lambda: lam.create_function_url_config(FunctionName="nope", AuthType="NONE"))[:2] == (
        404, "ResourceNotFoundException")

    # An alias's URL invokes the alias's version.
    version = lam.publish_version(FunctionName="site")["Version"]
    lam.create_alias(FunctionName="site", Name="live", FunctionVersion=version)
    live = lam.create_function_url_config(FunctionName="site", Qualifier="live", AuthType="NONE")
    assert live["FunctionArn"].endswith(":function:site:live")
    status, headers, _ = curl(live["FunctionUrl"])
    assert status == 201 and headers["x-version"] == [version]

    updated = lam.update_function_url_config(FunctionName="site", AuthType="AWS_IAM",
                                             Cors={"AllowOrigins": ["https://app.example"], "MaxAge": 300})
    assert updated["AuthType"] == "AWS_IAM" and updated["Cors"] == {"AllowOrigins": ["https://app.example"],
                                                                     "MaxAge": 300}
    assert "LastModifiedTime" in updated
    listed = lam.list_function_url_configs(FunctionName="site")["FunctionUrlConfigs"]
    assert sorted(u["FunctionArn"].split(":")[-1] for u in listed) == ["live", "site"]
    first = lam.list_function_url_configs(FunctionName="site", MaxItems=1)
    assert len(first["FunctionUrlConfigs"]) == 1 and "NextMarker" in first
    for bad in ["0", "51", "lots"]:
        status, headers, _ = lamina.http("GET", f"/2021-10-31/functions/site/urls?MaxItems={bad}")
        assert status == 400 and headers["x-amzn-ErrorType"] in ("ValidationException",
                                                                 "InvalidRequestContentException")
    # The aws CLI, as scripts call it.
    got = lamina.aws("lambda", "get-function-url-config", "--function-name", "site", "--qualifier", "live")
    assert got["FunctionUrl"] == live["FunctionUrl"]
    lamina.aws("lambda", "delete-function-url-config", "--function-name", "site", "--qualifier", "live")
    assert curl(live["FunctionUrl"])[0] == 403
    assert error(lambda: lam.delete_function_url_config(FunctionName="site", Qualifier="live"))[:2] == (
        404, "ResourceNotFoundException")
    # Deleting the function takes its URLs.
    url = lam.get_function_url_config(FunctionName="site")["FunctionUrl"]
    lam.delete_function(FunctionName="site")
    assert curl(url)[0] == 403


def test_the_custom_id_tag_chooses_a_urls_id_as_localstack_lets_it(lamina, lam):
    create(lam, "tagged", code=function_zip("url.py"), handler="url.handler", Tags={"_custom_id_": "My-App"})
    lam.create_alias(FunctionName="tagged", Name="live", FunctionVersion="$LATEST")
    url = lam.create_function_url_config(FunctionName="tagged", AuthType="NONE")["FunctionUrl"]
    assert url.startswith("http://my-app.lambda-url.us-east-1."), url
    aliased = lam.create_function_url_config(FunctionName="tagged", Qualifier="live", AuthType="NONE")["FunctionUrl"]
    assert aliased.startswith("http://my-app-live.lambda-url.us-east-1."), aliased
    for u in (url, aliased):
        status, body = call(u)
        assert status == 201 and json.loads(body)["requestContext"]["domainName"] == urlsplit(u).hostname
    # An id already taken, or one that is no DNS label, gets a random id, as AWS gives.
    create(lam, "twin", code=function_zip("url.py"), handler="url.handler", Tags={"_custom_id_": "my-app"})
    create(lam, "odd", code=function_zip("url.py"), handler="url.handler", Tags={"_custom_id_": "not_a_label"})
    for name in ("twin", "odd"):
        other = lam.create_function_url_config(FunctionName=name, AuthType="NONE")["FunctionUrl"]
        assert re.match(r"http://[0-9a-f]{32}\.lambda-url\.us-east-1\.", other), other
    lamina.restart()
    assert call(url)[0] == 201, "the URL survives a restart"


def test_cors_preflights_are_answered_and_responses_carry_the_headers(lamina, lam):
    create(lam, "api", code=function_zip("url.py"), handler="url.handler")
    url = lam.create_function_url_config(
        FunctionName="api", AuthType="NONE",
        Cors={"AllowOrigins": ["https://app.example"], "AllowMethods": ["GET", "POST"],
              "AllowHeaders": ["x-token"], "ExposeHeaders": ["x-version"], "MaxAge": 600,
              "AllowCredentials": True})["FunctionUrl"]
    status, headers, body = curl(url + "x", "-X", "OPTIONS", "-H", "origin: https://app.example",
                                 "-H", "access-control-request-method: POST")
    assert status in (200, 204) and body == b""
    assert headers["access-control-allow-origin"] == ["https://app.example"]
    assert headers["access-control-allow-methods"] == ["GET,POST"]
    assert headers["access-control-allow-headers"] == ["x-token"]
    assert headers["access-control-max-age"] == ["600"] and headers["access-control-allow-credentials"] == ["true"]
    status, headers, _ = curl(url + "x", "-H", "origin: https://app.example")
    assert status == 201 and headers["access-control-allow-origin"] == ["https://app.example"]
    assert headers["access-control-expose-headers"] == ["x-version"]
    status, headers, _ = curl(url + "x", "-H", "origin: https://evil.example")
    assert status == 201 and "access-control-allow-origin" not in headers


def test_aws_iam_urls_want_a_signature(lamina, lam):
    create(lam, "private", code=function_zip("url.py"), handler="url.handler")
    url = lam.create_function_url_config(FunctionName="private", AuthType="AWS_IAM")["FunctionUrl"]
    status, _, body = curl(url)
    assert status == 403 and json.loads(body) == {"Message": "Forbidden"}
    gone = url.replace(urlsplit(url).hostname.split(".")[0], "0" * 32)
    status, headers, body = curl(gone)
    assert (status, json.loads(body)) == (403, {"Message": None}), "a URL no function has"
    assert headers["x-amzn-errortype"] == ["AccessDeniedException"]
    status, body = call(url, "POST", "/who", b"{}", sign=("000000000000", "secret"))
    assert status == 201
    ctx = json.loads(body)["requestContext"]
    assert ctx["accountId"] == "000000000000"
    assert ctx["authorizer"]["iam"]["accessKey"] == "000000000000"


def test_authenticated_mode_holds_urls_to_the_functions_policy(secured):
    lam = client(secured, "lambda", ALICE)
    create(lam, "guarded", code=function_zip("url.py"), handler="url.handler")
    public = lam.create_function_url_config(FunctionName="guarded", AuthType="NONE")["FunctionUrl"]
    # NONE needs a statement letting everyone call the URL, as on AWS.
    status, _, body = curl(public)
    assert (status, json.loads(body)) == (403, {"Message": NOT_ALLOWED})
    lam.add_permission(FunctionName="guarded", StatementId="public", Action="lambda:InvokeFunctionUrl",
                       Principal="*", FunctionUrlAuthType="NONE")
    assert curl(public)[0] == 201

    create(lam, "iam-only", code=function_zip("url.py"), handler="url.handler")
    private = lam.create_function_url_config(FunctionName="iam-only", AuthType="AWS_IAM")["FunctionUrl"]
    assert call(private, sign=ALICE)[0] == 201, "the function's own account needs no statement"
    assert call(private, sign=(ALICE[0], "wrong-secret"))[0] == 403
    assert call(private, sign=BOB)[0] == 403
    lam.add_permission(FunctionName="iam-only", StatementId="bob", Action="lambda:InvokeFunctionUrl",
                       Principal=BOB[2], FunctionUrlAuthType="AWS_IAM")
    status, body = call(private, sign=BOB)
    assert status == 201 and json.loads(body)["requestContext"]["accountId"] == BOB[2]
