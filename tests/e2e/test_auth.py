"""Authenticated mode (`--auth sigv4`): only requests signed by a configured key get in,
each acting in its key's account; refusals carry AWS's codes. Driven by boto3 and the aws
CLI signing for real, and by requests signed and then tampered with."""
import datetime
import hashlib
import json
import os
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from unittest import mock

import boto3
import botocore.auth
import pytest
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from conftest import CONFIG, LAMINA_BIN, Lamina, create, function_zip, zip_bytes

ALICE = ("AKIAALICEEXAMPLE", "alice-secret", "111111111111")
BOB = ("AKIABOBEXAMPLE00", "bob-secret", "222222222222")


@pytest.fixture
def secured(tmp_path):
    credentials = tmp_path / "credentials"
    credentials.write_text(f"[alice]\naws_access_key_id = {ALICE[0]}\naws_secret_access_key = {ALICE[1]}\n"
                           f"aws_account_id = {ALICE[2]}\n")
    config = CONFIG + (f'[auth]\nmode = "sigv4"\ncredentials_file = "{credentials}"\n'
                       f'[[auth.keys]]\naccess_key_id = "{BOB[0]}"\nsecret_access_key = "{BOB[1]}"\n'
                       f'account = "{BOB[2]}"\n')
    server = Lamina(tmp_path / "data", config=config).start()
    yield server
    server.stop()


def client(server, service, who, **kw):
    return boto3.client(service, endpoint_url=server.url, region_name="us-east-1", aws_access_key_id=who[0],
                        aws_secret_access_key=who[1],
                        config=Config(retries={"total_max_attempts": 1}, read_timeout=120), **kw)


def error_of(call):
    with pytest.raises(ClientError) as e:
        call()
    return e.value.response["ResponseMetadata"]["HTTPStatusCode"], e.value.response["Error"]["Code"], \
        e.value.response["Error"]["Message"]


def signed(server, method, path, body, who=ALICE, service="lambda", headers=None):
    """A request signed by botocore's SigV4 signer, not yet sent."""
    req = AWSRequest(method=method, url=server.url + path, data=body, headers=headers or {})
    botocore.auth.SigV4Auth(Credentials(who[0], who[1]), service, "us-east-1").add_auth(req)
    return req


def send(req, body=None):
    r = urllib.request.Request(req.url, data=req.body if body is None else body, method=req.method,
                               headers=dict(req.headers.items()))
    try:
        with urllib.request.urlopen(r, timeout=30) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def test_the_right_keys_get_in_and_act_in_their_account(secured):
    lam = client(secured, "lambda", ALICE)
    arn = create(lam, "mine", code=function_zip("app.py"))["FunctionArn"]
    assert arn.split(":")[4] == ALICE[2]
    queue = client(secured, "sqs", ALICE).create_queue(QueueName="jobs")["QueueUrl"]
    assert f"/{ALICE[2]}/jobs" in queue
    assert client(secured, "sns", ALICE).create_topic(Name="news")["TopicArn"].split(":")[4] == ALICE[2]
    assert client(secured, "apigatewayv2", ALICE).create_api(Name="a", ProtocolType="HTTP")["ApiId"]
    def cli(secret):
        env = dict(os.environ, AWS_ACCESS_KEY_ID=ALICE[0], AWS_SECRET_ACCESS_KEY=secret, AWS_DEFAULT_REGION="us-east-1",
                   AWS_PAGER="", AWS_MAX_ATTEMPTS="1")
        return subprocess.run(["aws", "--endpoint-url", secured.url, "lambda", "list-functions"], capture_output=True,
                              text=True, timeout=120, env=env)
    out = cli(ALICE[1])
    assert out.returncode == 0, out.stderr
    assert [f["FunctionName"] for f in json.loads(out.stdout)["Functions"]] == ["mine"]
    bad = cli("guess")
    assert bad.returncode != 0 and "InvalidSignatureException" in bad.stderr


def test_two_accounts_cannot_see_each_others_resources(secured):
    alice, bob = client(secured, "lambda", ALICE), client(secured, "lambda", BOB)
    create(alice, "private", code=function_zip("app.py"))
    assert bob.list_functions()["Functions"] == []
    assert error_of(lambda: bob.get_function(FunctionName="private"))[1] == "ResourceNotFoundException"
    alice_sqs, bob_sqs = client(secured, "sqs", ALICE), client(secured, "sqs", BOB)
    url = alice_sqs.create_queue(QueueName="secret-jobs")["QueueUrl"]
    assert "QueueUrls" not in bob_sqs.list_queues()
    assert error_of(lambda: bob_sqs.get_queue_url(QueueName="secret-jobs"))[1] in (
        "AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist")
    # Knowing the URL is not enough.
    for call in [lambda: bob_sqs.send_message(QueueUrl=url, MessageBody="x"),
                 lambda: bob_sqs.receive_message(QueueUrl=url), lambda: bob_sqs.delete_queue(QueueUrl=url)]:
        status, code, message = error_of(call)
        assert (status, code, message) == (403, "AccessDenied", f"Access to the resource {url} is denied.")
    assert alice_sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])[
        "Attributes"]["ApproximateNumberOfMessages"] == "0"
    topic = client(secured, "sns", ALICE).create_topic(Name="private-news")["TopicArn"]
    assert error_of(lambda: client(secured, "sns", BOB).publish(TopicArn=topic, Message="x"))[1] == "NotFound"
    rest = client(secured, "apigateway", ALICE).create_rest_api(name="mine")["id"]
    assert error_of(lambda: client(secured, "apigateway", BOB).delete_rest_api(restApiId=rest))[1] == \
        "NotFoundException"


def test_wrong_unknown_missing_expired_and_tampered_signatures_are_refused(secured):
    wrong = client(secured, "lambda", (ALICE[0], "not-the-secret"))
    status, code, message = error_of(wrong.list_functions)
    assert (status, code) == (403, "InvalidSignatureException")
    assert message.startswith("The request signature we calculated does not match")
    assert error_of(client(secured, "lambda", ("AKIAUNKNOWN00000", "x")).list_functions)[:2] == \
        (403, "UnrecognizedClientException")
    assert error_of(client(secured, "sqs", ("AKIAUNKNOWN00000", "x")).list_queues)[:2] == (403, "InvalidClientTokenId")
    assert error_of(client(secured, "sns", (ALICE[0], "nope")).list_topics)[:2] == (403, "SignatureDoesNotMatch")

    status, headers, body = secured.http("GET", "/2015-03-31/functions/")
    assert (status, headers["x-amzn-ErrorType"]) == (403, "MissingAuthenticationTokenException")
    assert json.loads(body) == {"message": "Missing Authentication Token"}
    partial = f"AWS4-HMAC-SHA256 Credential={ALICE[0]}/20261127/us-east-1/lambda/aws4_request"
    status, headers, body = secured.http("GET", "/2015-03-31/functions/", headers={"Authorization": partial})
    assert (status, headers["x-amzn-ErrorType"]) == (403, "IncompleteSignatureException")
    assert "Authorization header requires 'Signature' parameter." in json.loads(body)["message"]
    status, _, body = secured.http("POST", "/", body=b"Action=ListQueues", headers={
        "Authorization": partial, "content-type": "application/x-www-form-urlencoded"})
    assert status == 403 and b"<Code>IncompleteSignature</Code>" in body

    # Signed twenty minutes ago: outside the fifteen AWS allows.
    past = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=20)
    with mock.patch("botocore.auth.get_current_datetime", return_value=past.replace(tzinfo=None)):
        status, code, message = error_of(client(secured, "lambda", ALICE).list_functions)
    assert (status, code) == (403, "InvalidSignatureException") and message.startswith("Signature expired: ")

    body = json.dumps({"FunctionName": "x"}).encode()
    req = signed(secured, "POST", "/2015-03-31/functions/x/invocations", body)
    status, headers, _ = send(req, body.replace(b"x", b"y"))
    assert (status, headers["x-amzn-ErrorType"]) == (403, "InvalidSignatureException")
    # Untouched, the same signed request gets through to Lambda (which has no such function).
    status, headers, _ = send(req)
    assert (status, headers["x-amzn-ErrorType"]) == (404, "ResourceNotFoundException")


def test_a_signature_for_another_service_or_an_unsigned_body_is_refused(secured):
    create(client(secured, "lambda", ALICE), "echo", code=function_zip("app.py"))
    path = "/2015-03-31/functions/echo/invocations"
    body = json.dumps({"action": "echo"}).encode()
    for service in ("sqs", "s3", "execute-api"):
        status, headers, text = send(signed(secured, "POST", path, body, service=service))
        assert (status, headers["x-amzn-ErrorType"]) == (403, "IncompleteSignatureException"), service
        assert json.loads(text) == {"message": "Credential should be scoped to correct service: 'lambda'. "}
    # The query protocol names its service in the scope; a Lambda-scoped signature is not SQS's.
    form = b"Action=ListQueues&Version=2012-11-05"
    status, _, text = send(signed(secured, "POST", "/", form, service="lambda",
                                  headers={"Content-Type": "application/x-www-form-urlencoded"}))
    assert status == 403 and b"<Code>IncompleteSignature</Code>" in text, text
    assert b"Credential should be scoped to correct service: &apos;sqs&apos;. " in text, text
    # UNSIGNED-PAYLOAD is S3's alone: on Lambda the signature must cover the body, so a
    # body swapped under it is refused.
    req = signed(secured, "POST", path, body, headers={"X-Amz-Content-Sha256": "UNSIGNED-PAYLOAD"})
    status, headers, _ = send(req, json.dumps({"action": "echo", "swapped": True}).encode())
    assert (status, headers["x-amzn-ErrorType"]) == (403, "InvalidSignatureException")
    # Signed with the body's hash, the same call goes through.
    req = signed(secured, "POST", path, body, headers={"X-Amz-Content-Sha256": hashlib.sha256(body).hexdigest()})
    status, _, out = send(req)
    assert status == 200 and json.loads(out)["event"] == {"action": "echo"}


def test_code_links_work_for_ten_minutes_and_only_as_issued(secured):
    alice = client(secured, "lambda", ALICE)
    create(alice, "private", code=function_zip("app.py"))
    alice.publish_layer_version(LayerName="private-layer", Content={"ZipFile": function_zip("app.py")})
    location = alice.get_function(FunctionName="private")["Code"]["Location"]
    layer = alice.get_layer_version(LayerName="private-layer", VersionNumber=1)["Content"]["Location"]
    for link in (location, layer):
        # The link is the credential: it works with none, as a presigned S3 URL does...
        with urllib.request.urlopen(link, timeout=30) as r:
            assert r.read()[:2] == b"PK"
        expires = int(urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)["expires"][0])
        assert abs(expires - (time.time() + 600)) < 60
        # ...but not without its signature, nor stretched, nor pointed at other code.
        bare = link.split("?")[0]
        for forged in (bare, link.replace(f"expires={expires}", f"expires={expires + 3600}"),
                       link.replace(ALICE[2], BOB[2])):
            status, headers, body = send(AWSRequest(method="GET", url=forged))
            assert status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in body, (forged, body)
    # Bob, signing with his own key, gets nothing of Alice's code either.
    status, _, _ = send(signed(secured, "GET", location.split(str(secured.port), 1)[1].split("?")[0], b"", who=BOB))
    assert status == 403


def test_presigned_urls_work_until_they_expire(secured):
    lam = client(secured, "lambda", ALICE)
    create(lam, "listed", code=function_zip("app.py"))
    url = lam.generate_presigned_url("list_functions", ExpiresIn=300)
    with urllib.request.urlopen(url, timeout=30) as r:
        assert [f["FunctionName"] for f in json.loads(r.read())["Functions"]] == ["listed"]
    past = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=10)
    with mock.patch("botocore.auth.get_current_datetime", return_value=past.replace(tzinfo=None)):
        stale = lam.generate_presigned_url("list_functions", ExpiresIn=60)
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(stale, timeout=30)
    assert e.value.code == 403 and e.value.headers["x-amzn-ErrorType"] == "InvalidSignatureException"


def test_functions_call_back_with_keys_of_their_own_account(secured):
    code = zip_bytes({"sdk.py": "import boto3\n\ndef handler(event, context):\n"
                                "    sqs = boto3.client('sqs')\n"
                                "    url = sqs.create_queue(QueueName='made-inside')['QueueUrl']\n"
                                "    return {'url': url, 'queues': sqs.list_queues().get('QueueUrls', [])}\n"})
    lam = client(secured, "lambda", ALICE)
    create(lam, "caller", handler="sdk.handler", code=code, Timeout=30)
    out = json.loads(lam.invoke(FunctionName="caller")["Payload"].read())
    assert f"/{ALICE[2]}/made-inside" in out["url"], out
    assert client(secured, "sqs", ALICE).get_queue_url(QueueName="made-inside")["QueueUrl"]
    # Its keys are a session of its execution role, named after it.
    who = zip_bytes({"who.py": "import boto3\n\ndef handler(event, context):\n"
                               "    return boto3.client('sts').get_caller_identity()['Arn']\n"})
    create(lam, "x", handler="who.handler", code=who, Timeout=30)
    role = lam.get_function(FunctionName="x")["Configuration"]["Role"].rsplit("/", 1)[-1]
    assert json.loads(lam.invoke(FunctionName="x")["Payload"].read()) == \
        f"arn:aws:sts::{ALICE[2]}:assumed-role/{role}/x@lambda_function"
    # Unsigned, @connections is refused too.
    status, headers, _ = secured.http("POST", "/prod/@connections/abc", body=b"hi")
    assert (status, headers["x-amzn-ErrorType"]) == (403, "MissingAuthenticationTokenException")


def test_open_mode_says_so_at_start_up(tmp_path):
    config = tmp_path / "open.toml"
    config.write_text(CONFIG)
    proc = subprocess.Popen([LAMINA_BIN, "serve", "--port", "0", "--data-dir", str(tmp_path / "d"), "--config",
                             str(config)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # What it logs while starting is written before it says where it listens.
    assert proc.stdout.readline().startswith("lamina listening on ")
    proc.terminate()
    _, logged = proc.communicate(timeout=20)
    assert "auth: open — any credentials are accepted" in logged


def test_a_cross_account_invoke_fails_until_add_permission_allows_it(secured):
    alice, bob = client(secured, "lambda", ALICE), client(secured, "lambda", BOB)
    arn = create(alice, "shared", code=function_zip("app.py"))["FunctionArn"]
    status, code, message = error_of(lambda: bob.invoke(FunctionName=arn, Payload=b"{}"))
    assert (status, code) == (403, "AccessDeniedException")
    assert message == (f"User: arn:aws:iam::{BOB[2]}:root is not authorized to perform: lambda:InvokeFunction on "
                       f"resource: {arn} because no resource-based policy allows the lambda:InvokeFunction action")
    assert error_of(lambda: alice.get_policy(FunctionName="shared"))[:2] == (404, "ResourceNotFoundException")

    added = json.loads(alice.add_permission(FunctionName="shared", StatementId="bob", Action="lambda:InvokeFunction",
                                            Principal=BOB[2])["Statement"])
    assert added == {"Sid": "bob", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{BOB[2]}:root"},
                     "Action": "lambda:InvokeFunction", "Resource": arn}
    out = json.loads(bob.invoke(FunctionName=arn, Payload=b'{"action": "echo"}')["Payload"].read())
    assert out["event"] == {"action": "echo"}
    policy = alice.get_policy(FunctionName="shared")
    assert json.loads(policy["Policy"]) == {"Version": "2012-10-17", "Id": "default", "Statement": [added]}

    assert error_of(lambda: alice.add_permission(FunctionName="shared", StatementId="bob", Action="lambda:*",
                                                 Principal=BOB[2]))[:2] == (409, "ResourceConflictException")
    assert error_of(lambda: alice.add_permission(FunctionName="shared", StatementId="x", Action="s3:GetObject",
                                                 Principal=BOB[2]))[:2] == (400, "ValidationException")
    # Bob can grant himself nothing on Alice's function.
    assert error_of(lambda: bob.add_permission(FunctionName=arn, StatementId="me", Action="lambda:InvokeFunction",
                                               Principal=BOB[2]))[1] == "ResourceNotFoundException"
    # A service principal, held to its source, admits no account.
    topic = f"arn:aws:sns:us-east-1:{ALICE[2]}:news"
    service = json.loads(alice.add_permission(FunctionName="shared", StatementId="news", Principal="sns.amazonaws.com",
                                              Action="lambda:InvokeFunction", SourceArn=topic)["Statement"])
    assert service["Principal"] == {"Service": "sns.amazonaws.com"}
    assert service["Condition"] == {"ArnLike": {"AWS:SourceArn": topic}}

    assert error_of(lambda: alice.remove_permission(FunctionName="shared", StatementId="bob",
                                                    RevisionId="stale"))[:2] == (412, "PreconditionFailedException")
    alice.remove_permission(FunctionName="shared", StatementId="bob")
    assert error_of(lambda: bob.invoke(FunctionName=arn))[1] == "AccessDeniedException"
    assert error_of(lambda: alice.remove_permission(FunctionName="shared", StatementId="bob"))[1] == \
        "ResourceNotFoundException"

    # A permission on an alias covers the alias, not the function.
    version = alice.publish_version(FunctionName="shared")["Version"]
    alias = alice.create_alias(FunctionName="shared", Name="live", FunctionVersion=version)
    # AddPermission's RevisionId may be the alias's own, as on AWS.
    alice.add_permission(FunctionName="shared", Qualifier="live", StatementId="bob-live",
                         Action="lambda:InvokeFunction", Principal=f"arn:aws:iam::{BOB[2]}:root",
                         RevisionId=alias["RevisionId"])
    # A qualifier no alias could have names a missing function version.
    assert error_of(lambda: alice.add_permission(FunctionName="shared", Qualifier="not-$-alias", StatementId="x",
                                                 Action="lambda:InvokeFunction", Principal=BOB[2]))[1:] == (
        "ResourceNotFoundException", f"Function not found: {arn}:not-$-alias")
    assert bob.invoke(FunctionName=f"{arn}:live")["StatusCode"] == 200
    assert error_of(lambda: bob.invoke(FunctionName=arn))[1] == "AccessDeniedException"
    assert json.loads(alice.get_policy(FunctionName="shared", Qualifier="live")["Policy"])["Statement"][0][
        "Resource"] == f"{arn}:live"
    # Policies survive a restart.
    secured.restart()
    alice, bob = client(secured, "lambda", ALICE), client(secured, "lambda", BOB)
    assert bob.invoke(FunctionName=f"{arn}:live")["StatusCode"] == 200
    # They go with what they are on: an alias or a function made again starts without.
    alice.delete_alias(FunctionName="shared", Name="live")
    alice.create_alias(FunctionName="shared", Name="live", FunctionVersion=version)
    assert error_of(lambda: bob.invoke(FunctionName=f"{arn}:live"))[1] == "AccessDeniedException"
    alice.add_permission(FunctionName="shared", StatementId="bob", Action="lambda:InvokeFunction",
                         Principal=BOB[2])
    assert bob.invoke(FunctionName=arn)["StatusCode"] == 200
    alice.delete_function(FunctionName="shared")
    create(alice, "shared", code=function_zip("app.py"))
    assert error_of(lambda: bob.invoke(FunctionName=arn))[1] == "AccessDeniedException"


def test_api_gateway_invokes_a_function_only_when_its_policy_allows_the_api(secured):
    lam = client(secured, "lambda", ALICE)
    arn = create(lam, "behind-api", handler="api.handler", code=function_zip("api.py"))["FunctionArn"]
    api = client(secured, "apigatewayv2", ALICE).create_api(Name="pub", ProtocolType="HTTP", Target=arn)
    path = f"/_aws/execute-api/{api['ApiId']}/hello"
    # Execute-api traffic needs no signature; the function, a permission for the API.
    status, _, body = secured.http("GET", path)
    assert (status, json.loads(body)) == (500, {"message": "Internal Server Error"})
    lam.add_permission(FunctionName="behind-api", StatementId="other-api", Action="lambda:InvokeFunction",
                       Principal="apigateway.amazonaws.com",
                       SourceArn=f"arn:aws:execute-api:us-east-1:{ALICE[2]}:someotherapi/*")
    assert secured.http("GET", path)[0] == 500
    lam.add_permission(FunctionName="behind-api", StatementId="this-api", Action="lambda:InvokeFunction",
                       Principal="apigateway.amazonaws.com",
                       SourceArn=f"arn:aws:execute-api:us-east-1:{ALICE[2]}:{api['ApiId']}/*/*/hello")
    status, _, body = secured.http("GET", path)
    assert status == 200, body


def test_sns_invokes_a_function_only_when_its_policy_allows_the_topic(secured, collector):
    lam, sns = client(secured, "lambda", ALICE), client(secured, "sns", ALICE)
    arn = create(lam, "subscriber", handler="reporter.handler", code=function_zip("reporter.py"),
                 Environment={"Variables": {"REPORT_URL": collector.url}})["FunctionArn"]
    # One at a time, in the order accepted: a message accepted first would be reported first.
    lam.put_function_concurrency(FunctionName="subscriber", ReservedConcurrentExecutions=1)
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=arn)
    sns.publish(TopicArn=topic, Message="before the permission")
    lam.add_permission(FunctionName="subscriber", StatementId="alerts", Action="lambda:InvokeFunction",
                       Principal="sns.amazonaws.com", SourceArn=topic)
    sns.publish(TopicArn=topic, Message="after the permission")
    first = collector.get()["event"]["Records"][0]["Sns"]
    assert first["Message"] == "after the permission"


def test_assumed_role_credentials_are_accepted_in_their_account_only(secured):
    sts = client(secured, "sts", ALICE)
    who = sts.get_caller_identity()
    assert (who["Account"], who["Arn"]) == (ALICE[2], f"arn:aws:iam::{ALICE[2]}:root")
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{ALICE[2]}:role/deployer", RoleSessionName="ci")["Credentials"]
    session = boto3.client("sts", endpoint_url=secured.url, region_name="us-east-1",
                           aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                           aws_session_token=creds["SessionToken"])
    assumed = session.get_caller_identity()
    assert assumed["Arn"] == f"arn:aws:sts::{ALICE[2]}:assumed-role/deployer/ci"
    assert assumed["UserId"].startswith("AROA") and assumed["Account"] == ALICE[2]
    lam = boto3.client("lambda", endpoint_url=secured.url, region_name="us-east-1",
                       aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                       aws_session_token=creds["SessionToken"])
    assert lam.list_functions()["Functions"] == []
    # Without its session token the key is refused.
    bare = boto3.client("lambda", endpoint_url=secured.url, region_name="us-east-1",
                        aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"])
    assert error_of(bare.list_functions)[:2] == (403, "UnrecognizedClientException")
    # Another account's role is out of reach.
    status, code, message = error_of(lambda: sts.assume_role(RoleArn=f"arn:aws:iam::{BOB[2]}:role/admin",
                                                             RoleSessionName="sneaky"))
    assert (status, code) == (403, "AccessDenied")
    assert message == (f"User: arn:aws:iam::{ALICE[2]}:root is not authorized to perform: sts:AssumeRole on "
                       f"resource: arn:aws:iam::{BOB[2]}:role/admin")


def test_aws_iam_routes_take_only_verified_signatures(secured):
    lam = client(secured, "lambda", ALICE)
    arn = create(lam, "iam-route", handler="api.handler", code=function_zip("api.py"))["FunctionArn"]
    lam.add_permission(FunctionName="iam-route", StatementId="api", Action="lambda:InvokeFunction",
                       Principal="apigateway.amazonaws.com")
    v2 = client(secured, "apigatewayv2", ALICE)
    api = v2.create_api(Name="private", ProtocolType="HTTP", Target=arn)["ApiId"]
    route = v2.get_routes(ApiId=api)["Items"][0]
    v2.update_route(ApiId=api, RouteId=route["RouteId"], AuthorizationType="AWS_IAM")
    path = f"/_aws/execute-api/{api}/private"
    assert secured.http("GET", path)[0] == 403
    good = signed(secured, "GET", path, b"", service="execute-api")
    assert send(good)[0] == 200
    forged = signed(secured, "GET", path, b"", who=(ALICE[0], "not-alices-secret"), service="execute-api")
    assert send(forged)[0] == 403
    stranger = signed(secured, "GET", path, b"", who=("AKIASTRANGER0000", "x"), service="execute-api")
    assert send(stranger)[0] == 403


def test_an_iam_users_access_keys_sign_requests_while_active(secured):
    iam = client(secured, "iam", BOB)
    iam.create_user(UserName="carol")
    key = iam.create_access_key(UserName="carol")["AccessKey"]
    carol = (key["AccessKeyId"], key["SecretAccessKey"])
    assert client(secured, "sts", carol).get_caller_identity()["Arn"] == "arn:aws:iam::222222222222:user/carol"
    assert client(secured, "lambda", carol).list_functions()["Functions"] == [], "acts in the user's account"
    forged = (key["AccessKeyId"], "not-the-secret")
    assert error_of(lambda: client(secured, "sts", forged).get_caller_identity())[:2] == (403, "SignatureDoesNotMatch")

    iam.update_access_key(UserName="carol", AccessKeyId=carol[0], Status="Inactive")
    assert error_of(lambda: client(secured, "sts", carol).get_caller_identity())[:2] == (403, "InvalidClientTokenId")
    iam.update_access_key(UserName="carol", AccessKeyId=carol[0], Status="Active")
    secured.restart(hard=True)
    assert client(secured, "sts", carol).get_caller_identity()["Arn"] == "arn:aws:iam::222222222222:user/carol"
    client(secured, "iam", BOB).delete_access_key(UserName="carol", AccessKeyId=carol[0])
    assert error_of(lambda: client(secured, "sts", carol).get_caller_identity())[:2] == (403, "InvalidClientTokenId")


def test_s3_streams_signed_bodies_and_lets_in_whom_the_bucket_allows(secured, tmp_path):
    alice, bob = client(secured, "s3", ALICE), client(secured, "s3", BOB)
    alice.create_bucket(Bucket="alices")
    # A body larger than any buffered request streams in, signed (boto3 sends aws-chunked
    # or a digest), and through the CLI's multipart upload.
    big = os.urandom(24 * 1024 * 1024)
    alice.put_object(Bucket="alices", Key="big.bin", Body=big)
    assert alice.get_object(Bucket="alices", Key="big.bin")["Body"].read() == big
    # A body that is not what its signature declared is refused, and nothing is stored.
    req = signed(secured, "PUT", "/alices/tampered", b"declared", service="s3",
                 headers={"Host": f"s3.localhost:{secured.port}",
                          "x-amz-content-sha256": hashlib.sha256(b"declared").hexdigest()})
    status, _, body = send(req, body=b"swapped!")
    assert status == 400 and b"<Code>XAmzContentSHA256Mismatch</Code>" in body
    assert error_of(lambda: alice.head_object(Bucket="alices", Key="tampered"))[0] == 404
    # Presigned URLs carry their signature in the URL.
    url = alice.generate_presigned_url("get_object", Params={"Bucket": "alices", "Key": "big.bin"}, ExpiresIn=60)
    with urllib.request.urlopen(url, timeout=60) as r:
        assert r.read() == big
    # Another account, and anyone at all, get in only as the bucket's policy says.
    alice.put_object(Bucket="alices", Key="shared/readme", Body=b"for bob")
    assert error_of(lambda: bob.get_object(Bucket="alices", Key="shared/readme"))[:2] == (403, "AccessDenied")
    anonymous = f"{secured.url}/alices/shared/readme"
    assert send(AWSRequest(method="GET", url=anonymous, headers={"Host": f"s3.localhost:{secured.port}"}))[0] == 403
    to_bob = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{BOB[2]}:root"}, "Action": "s3:GetObject",
              "Resource": "arn:aws:s3:::alices/shared/*"}
    alice.put_bucket_policy(Bucket="alices", Policy=json.dumps({"Version": "2012-10-17", "Statement": [to_bob]}))
    assert bob.get_object(Bucket="alices", Key="shared/readme")["Body"].read() == b"for bob"
    assert error_of(lambda: bob.get_object(Bucket="alices", Key="big.bin"))[:2] == (403, "AccessDenied")
    assert error_of(lambda: bob.put_object(Bucket="alices", Key="shared/x", Body=b"x"))[:2] == (403, "AccessDenied")
    assert error_of(lambda: bob.list_objects_v2(Bucket="alices"))[:2] == (403, "AccessDenied")
    # A public policy is blocked until the bucket's public access block is lifted.
    to_all = dict(to_bob, Principal="*")
    public = json.dumps({"Version": "2012-10-17", "Statement": [to_all]})
    assert error_of(lambda: alice.put_bucket_policy(Bucket="alices", Policy=public))[:2] == (403, "AccessDenied")
    alice.delete_public_access_block(Bucket="alices")
    alice.put_bucket_policy(Bucket="alices", Policy=public)
    status, _, body = send(AWSRequest(method="GET", url=anonymous, headers={"Host": f"s3.localhost:{secured.port}"}))
    assert (status, body) == (200, b"for bob")
    # An anonymous caller lists no one's buckets.
    status, _, body = send(AWSRequest(method="GET", url=secured.url + "/", headers={"Host": f"s3.localhost:{secured.port}"}))
    assert status == 403 and b"AccessDenied" in body
