"""The Lambda control plane through boto3, the aws CLI and raw HTTP, errors included."""
import base64
import hashlib
import json
import re
import urllib.request

import pytest
from botocore.exceptions import ClientError

from conftest import ROLE, create, function_zip, wait_updated, zip_bytes

APP = function_zip("app.py")


def error_of(excinfo):
    e = excinfo.value.response
    return e["Error"]["Code"], e["Error"]["Message"], e["ResponseMetadata"]["HTTPStatusCode"]


def test_create_get_list_update_delete(lam):
    created = create(lam, "fn-one", code=APP, Description="first", Environment={"Variables": {"AA": "1"}},
                     Tags={"team": "core"})
    assert created["FunctionArn"] == "arn:aws:lambda:us-east-1:000000000000:function:fn-one"
    assert created["CodeSha256"] == base64.b64encode(hashlib.sha256(APP).digest()).decode()
    assert created["CodeSize"] == len(APP)
    assert created["State"] == "Pending" and created["StateReasonCode"] == "Creating"
    assert "LastUpdateStatus" not in created, "a function being created has no update yet"
    assert re.fullmatch(r"arn:aws:lambda:us-east-1::runtime:[0-9a-f]{64}",
                        created["RuntimeVersionConfig"]["RuntimeVersionArn"])
    assert created["Version"] == "$LATEST" and created["PackageType"] == "Zip"
    assert created["Timeout"] == 3 and created["MemorySize"] == 128
    assert created["EphemeralStorage"] == {"Size": 512}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000", created["LastModified"])
    assert re.fullmatch(r"[0-9a-f-]{36}", created["RevisionId"])

    got = lam.get_function(FunctionName="fn-one")
    assert got["Configuration"]["State"] == "Active"
    assert got["Configuration"]["LastUpdateStatus"] == "Successful"
    assert got["Configuration"]["Environment"] == {"Variables": {"AA": "1"}}
    assert got["Tags"] == {"team": "core"}
    with urllib.request.urlopen(got["Code"]["Location"]) as r:
        assert r.read() == APP, "Code.Location downloads the deployment package"

    conf = lam.get_function_configuration(FunctionName=created["FunctionArn"])
    assert conf["Description"] == "first"

    updated = lam.update_function_configuration(FunctionName="fn-one", MemorySize=256, Timeout=30,
                                                 Environment={"Variables": {"BB": "2"}})
    assert updated["MemorySize"] == 256 and updated["Timeout"] == 30
    assert updated["LastUpdateStatus"] == "InProgress"
    assert updated["RevisionId"] != created["RevisionId"]
    assert lam.get_function_configuration(FunctionName="fn-one")["Environment"] == {"Variables": {"BB": "2"}}
    wait_updated(lam, "fn-one")

    new_zip = function_zip("app.py", extra="x")
    code = lam.update_function_code(FunctionName="fn-one", ZipFile=new_zip)
    assert code["CodeSha256"] == base64.b64encode(hashlib.sha256(new_zip).digest()).decode()
    assert code["MemorySize"] == 256, "configuration survives a code update"

    lam.delete_function(FunctionName="fn-one")
    with pytest.raises(ClientError) as e:
        lam.get_function(FunctionName="fn-one")
    assert error_of(e)[0] == "ResourceNotFoundException"


def test_list_functions_paginates(lam):
    for i in range(7):
        create(lam, f"page-{i}", code=APP)
    first = lam.list_functions(MaxItems=3)
    assert [f["FunctionName"] for f in first["Functions"]] == ["page-0", "page-1", "page-2"]
    second = lam.list_functions(MaxItems=3, Marker=first["NextMarker"])
    assert [f["FunctionName"] for f in second["Functions"]] == ["page-3", "page-4", "page-5"]
    names = [f["FunctionName"] for page in lam.get_paginator("list_functions").paginate(PaginationConfig={"PageSize": 2})
             for f in page["Functions"]]
    assert names == [f"page-{i}" for i in range(7)]


def test_account_settings_and_tags(lamina, lam):
    create(lam, "tagged", code=APP)
    s = lam.get_account_settings()
    assert s["AccountLimit"]["ConcurrentExecutions"] == 1000
    assert s["AccountLimit"]["CodeSizeUnzipped"] == 262144000
    assert s["AccountUsage"]["FunctionCount"] == 1
    assert s["AccountUsage"]["TotalCodeSize"] == len(APP)
    # Layer versions count toward the code stored; usage is the region's own.
    layer = zip_bytes({"python/lib.py": "X = 1\n"})
    lam.publish_layer_version(LayerName="counted", Content={"ZipFile": layer})
    assert lam.get_account_settings()["AccountUsage"]["TotalCodeSize"] == len(APP) + len(layer)
    west = lamina.client(region="us-west-2")
    assert west.get_account_settings()["AccountUsage"] == {"TotalCodeSize": 0, "FunctionCount": 0}

    arn = "arn:aws:lambda:us-east-1:000000000000:function:tagged"
    lam.tag_resource(Resource=arn, Tags={"a": "1", "b": "2"})
    lam.untag_resource(Resource=arn, TagKeys=["a"])
    assert lam.list_tags(Resource=arn)["Tags"] == {"b": "2"}
    # An empty tag-key list travels as none; an empty tag map is refused.
    with pytest.raises(ClientError) as e:
        lam.untag_resource(Resource=arn, TagKeys=[])
    assert error_of(e) == ("ValidationException",
                           "1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: "
                           "Member must not be null", 400)
    with pytest.raises(ClientError) as e:
        lam.tag_resource(Resource=arn, Tags={})
    assert error_of(e) == ("InvalidParameterValueException",
                           "An error occurred and the request cannot be processed.", 400)
    with pytest.raises(ClientError) as e:
        lam.list_tags(Resource="arn:aws:lambda:us-east-1:000000000000:function:ghost")
    assert error_of(e)[:2] == ("ResourceNotFoundException",
                               "Function not found: arn:aws:lambda:us-east-1:000000000000:function:ghost")


def test_recursion_config_is_kept_and_checked(lamina, lam):
    create(lam, "loops", code=APP)
    assert lam.get_function_recursion_config(FunctionName="loops")["RecursiveLoop"] == "Terminate"
    assert lam.put_function_recursion_config(FunctionName="loops", RecursiveLoop="Allow")["RecursiveLoop"] == "Allow"
    with pytest.raises(ClientError) as e:
        lam.put_function_recursion_config(FunctionName="loops", RecursiveLoop="Sometimes")
    assert error_of(e)[:2] == ("ValidationException", "1 validation error detected: Value 'Sometimes' at "
                               "'recursiveLoop' failed to satisfy constraint: Member must satisfy enum value set: "
                               "[Terminate, Allow]")
    lamina.restart()
    lam = lamina.client("lambda")
    assert lam.get_function_recursion_config(FunctionName="loops")["RecursiveLoop"] == "Allow"


def test_twelve_digit_keys_select_the_account(lamina):
    mine = lamina.client(key="111122223333")
    create(mine, "acct-fn", code=APP)
    assert mine.get_function(FunctionName="acct-fn")["Configuration"]["FunctionArn"].startswith(
        "arn:aws:lambda:us-east-1:111122223333:function:")
    with pytest.raises(ClientError):
        lamina.client().get_function(FunctionName="acct-fn")


@pytest.mark.parametrize("kwargs,code,message", [
    ({"MemorySize": 20000}, "ValidationException",
     "1 validation error detected: Value '20000' at 'memorySize' failed to satisfy constraint: "
     "Member must have value less than or equal to 10240"),
    ({"Timeout": 901}, "InvalidParameterValueException",
     "Timeout value 901 is invalid. Value must be between 1 and 900 seconds."),
    ({"Runtime": "python2.7"}, "InvalidParameterValueException",
     "The runtime parameter of python2.7 is no longer supported for creating or updating AWS Lambda functions. "
     "We recommend you use the new runtime (python3.14) while creating or updating functions."),
    ({"Role": "not-a-role"}, "ValidationException",
     "1 validation error detected: Value 'not-a-role' at 'role' failed to satisfy constraint: "
     "Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+"),
    ({"Handler": "has space"}, "ValidationException",
     "1 validation error detected: Value 'has space' at 'handler' failed to satisfy constraint: "
     "Member must satisfy regular expression pattern: [^\\s]+"),
    ({"Environment": {"Variables": {"AWS_REGION": "x"}}}, "InvalidParameterValueException",
     "Lambda was unable to configure your environment variables because the environment variables you have "
     "provided contains reserved keys that are currently not supported for modification. "
     "Reserved keys used in this request: AWS_REGION"),
    ({"FunctionName": "bad name!"}, "ValidationException", None),
    # AWS's recorded answer: the validation wording, under InvalidParameterValueException.
    ({"FunctionName": "x" * 65}, "InvalidParameterValueException",
     "1 validation error detected: Value '" + "x" * 65 + "' at 'functionName' failed to satisfy constraint: "
     "Member must have length less than or equal to 64"),
])
def test_create_validation_errors(lam, kwargs, code, message):
    args = {"FunctionName": "v", "Runtime": "python3.12", "Role": ROLE, "Handler": "app.handler",
            "Code": {"ZipFile": APP}}
    args.update(kwargs)
    with pytest.raises(ClientError) as e:
        lam.create_function(**args)
    got_code, got_message, status = error_of(e)
    assert (got_code, status) == (code, 400)
    if message:
        assert got_message == message


def test_environment_over_4kb_and_bad_zip(lamina, lam):
    with pytest.raises(ClientError) as e:
        create(lam, "big-env", code=APP, Environment={"Variables": {"BIG": "x" * 5000}})
    code, message, _ = error_of(e)
    assert code == "InvalidParameterValueException"
    assert message.startswith("Lambda was unable to configure your environment variables because the "
                              "environment variables you have provided exceeded the 4KB limit.")
    # The variables are measured, and shown, in the order given.
    with pytest.raises(ClientError) as e:
        create(lam, "big-env", code=APP, Environment={"Variables": {"SMALL": "ok", "BIG": "x" * 5000}})
    assert error_of(e)[1].endswith('String measured: {"SMALL":"ok","BIG":"' + "x" * 5000 + '"}')
    create(lam, "ordered", code=APP, Environment={"Variables": {"ZZ": "1", "AA": "2"}})
    status, _, raw = lamina.http("GET", "/2015-03-31/functions/ordered/configuration")
    shown = json.loads(raw, object_pairs_hook=list)
    assert status == 200 and dict(shown)["Environment"] == [("Variables", [("ZZ", "1"), ("AA", "2")])]
    with pytest.raises(ClientError) as e:
        create(lam, "bad-zip", code=b"this is not a zip")
    assert error_of(e) == ("InvalidParameterValueException",
                           "Could not unzip uploaded file. Please check your file, then try to upload again.", 400)
    # 300 MB of zeros zips to a few hundred KB: refused by its unzipped size.
    bomb = zip_bytes({"zeros.bin": bytes(300 * 1024 * 1024)})
    assert len(bomb) < 1024 * 1024
    with pytest.raises(ClientError) as e:
        create(lam, "bomb", code=bomb)
    assert error_of(e) == ("InvalidParameterValueException", "Unzipped size must be smaller than 262144000 bytes", 400)
    escaping = zip_bytes({"../../escape.py": "x = 1"})
    with pytest.raises(ClientError) as e:
        create(lam, "evil-zip", code=escaping)
    assert error_of(e)[0] == "InvalidParameterValueException"


def test_duplicate_and_missing_functions_answer_aws_shapes(lamina, lam):
    create(lam, "dup", code=APP)
    with pytest.raises(ClientError) as e:
        create(lam, "dup", code=APP)
    assert error_of(e) == ("ResourceConflictException", "Function already exist: dup", 409)

    # The raw wire shapes: header, request id, and the body's member names.
    status, headers, body = lamina.http("GET", "/2015-03-31/functions/nope")
    assert status == 404
    assert headers["x-amzn-ErrorType"] == "ResourceNotFoundException"
    assert re.fullmatch(r"[0-9a-f-]{36}", headers["x-amzn-RequestId"])
    assert json.loads(body) == {"Type": "User",
                                "Message": "Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope"}

    payload = {"FunctionName": "dup", "Runtime": "python3.12", "Role": ROLE, "Handler": "app.handler",
               "Code": {"ZipFile": base64.b64encode(APP).decode()}}
    status, headers, body = lamina.http("POST", "/2015-03-31/functions", json.dumps(payload).encode(),
                                        {"content-type": "application/json"})
    assert (status, headers["x-amzn-ErrorType"]) == (409, "ResourceConflictException")
    assert json.loads(body) == {"Type": "User", "message": "Function already exist: dup"}

    payload.update(FunctionName="enum", Runtime="cobol85")
    status, headers, body = lamina.http("POST", "/2015-03-31/functions", json.dumps(payload).encode())
    # Lambda's own words for an unknown runtime (AWS's recorded answer), not the model's.
    assert (status, headers["x-amzn-ErrorType"]) == (400, "InvalidParameterValueException")
    doc = json.loads(body)
    assert doc["Type"] == "User"
    assert doc["message"].startswith("Value cobol85 at 'runtime' failed to satisfy constraint: Member must satisfy "
                                     "enum value set: [nodejs20.x, python3.14, provided.al2023,")
    assert doc["message"].endswith(", provided.al2, java8.al2] or be a valid ARN")

    status, headers, body = lamina.http("POST", "/2015-03-31/functions", b"{not json")
    assert (status, headers["x-amzn-ErrorType"]) == (400, "InvalidRequestContentException")

    status, headers, body = lamina.http("POST", "/2015-03-31/functions", json.dumps({"Runtime": "python3.12"}).encode())
    assert status == 400 and headers["x-amzn-ErrorType"] == "ValidationException"
    assert json.loads(body)["message"].startswith(
        "3 validation errors detected: Value null at 'functionName' failed to satisfy constraint: Member must not be null")


def test_revision_id_is_a_precondition(lam):
    created = create(lam, "rev", code=APP)
    active = lam.get_function_configuration(FunctionName="rev")
    # As on AWS, becoming Active is a revision of its own: the one CreateFunction answered is stale.
    assert active["RevisionId"] != created["RevisionId"]
    for stale in ["stale", created["RevisionId"]]:
        with pytest.raises(ClientError) as e:
            lam.update_function_configuration(FunctionName="rev", Description="x", RevisionId=stale)
        assert error_of(e)[0] == "PreconditionFailedException"
        assert error_of(e)[2] == 412
    ok = lam.update_function_configuration(FunctionName="rev", Description="x", RevisionId=active["RevisionId"])
    assert ok["Description"] == "x" and ok["LastUpdateStatus"] == "InProgress"
    wait_updated(lam, "rev")
    done = lam.get_function_configuration(FunctionName="rev")
    assert done["LastUpdateStatus"] == "Successful" and done["RevisionId"] not in (ok["RevisionId"], active["RevisionId"])


def test_an_empty_environment_given_is_echoed_and_none_given_is_absent(lamina, lam):
    empty = create(lam, "env-empty", code=APP, Environment={"Variables": {}})
    assert empty["Environment"] == {"Variables": {}}
    bare = create(lam, "env-none", code=APP)
    assert "Environment" not in bare
    lamina.restart()
    assert lam.get_function(FunctionName="env-empty")["Configuration"]["Environment"] == {"Variables": {}}
    assert "Environment" not in lam.get_function_configuration(FunctionName="env-none")


def test_aws_cli_drives_the_control_plane(lamina, tmp_path):
    zip_path = tmp_path / "fn.zip"
    zip_path.write_bytes(APP)
    out = lamina.aws("lambda", "create-function", "--function-name", "cli-fn", "--runtime", "python3.13",
                     "--handler", "app.handler", "--role", ROLE, "--zip-file", f"fileb://{zip_path}")
    assert out["FunctionName"] == "cli-fn"
    listed = lamina.aws("lambda", "list-functions")
    assert [f["FunctionName"] for f in listed["Functions"]] == ["cli-fn"]
    failed = lamina.aws("lambda", "get-function", "--function-name", "ghost", expect_ok=False)
    assert failed.returncode != 0
    assert "ResourceNotFoundException" in failed.stderr
    lamina.aws("lambda", "delete-function", "--function-name", "cli-fn")
    assert lamina.aws("lambda", "list-functions")["Functions"] == []


def test_state_survives_restart_and_kill9(lamina):
    lam = lamina.client()
    create(lam, "durable", code=APP, Tags={"k": "v"})
    lamina.restart()
    lam = lamina.client()
    assert lam.get_function(FunctionName="durable")["Tags"] == {"k": "v"}
    lam.update_function_configuration(FunctionName="durable", MemorySize=512)
    lamina.restart(hard=True)
    lam = lamina.client()
    assert lam.get_function_configuration(FunctionName="durable")["MemorySize"] == 512
    r = lam.invoke(FunctionName="durable", Payload=b'{"action": "echo"}')
    assert r["StatusCode"] == 200 and "FunctionError" not in r


def test_failed_commands_leave_no_code_behind(lamina, lam):
    create(lam, "keep", code=APP)
    blobs = lamina.data_dir / "code" / "blobs"
    before = sorted(p.name for p in blobs.iterdir())
    other = zip_bytes({"app.py": "def handler(e, c):\n    return 'other'\n"})
    with pytest.raises(ClientError):
        create(lam, "keep", code=other)  # duplicate name
    with pytest.raises(ClientError):
        lam.update_function_code(FunctionName="ghost", ZipFile=other)
    with pytest.raises(ClientError):
        lam.update_function_code(FunctionName="keep", ZipFile=other, RevisionId="stale")
    assert sorted(p.name for p in blobs.iterdir()) == before


def test_the_same_port_speaks_https_with_a_certificate_of_the_data_directorys_own_ca(lamina):
    ca = lamina.data_dir / "tls" / "ca.pem"
    for host in ["localhost", "127.0.0.1"]:
        secure = lamina.client(endpoint_url=f"https://{host}:{lamina.port}", verify=str(ca))
        assert secure.list_functions()["Functions"] == []
    # Real TLS: a client that does not trust the authority refuses the certificate.
    with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
        urllib.request.urlopen(f"https://localhost:{lamina.port}/2015-03-31/functions", timeout=10)
    out = lamina.aws("lambda", "list-functions", "--ca-bundle", str(ca), endpoint=f"https://localhost:{lamina.port}")
    assert out["Functions"] == []


def test_each_operation_answers_a_missing_or_wrong_target_in_aws_words(lam):
    arn = "arn:aws:lambda:us-east-1:000000000000:function:"

    def err(call, **kw):
        with pytest.raises(ClientError) as e:
            call(**kw)
        return error_of(e)

    long = "x" * 65  # too long to be a function's name: it names none
    assert err(lam.get_function, FunctionName=long) == ("ResourceNotFoundException", f"Function not found: {arn}{long}", 404)
    assert err(lam.get_function, FunctionName="arn:aws:lambda:eu-west-1:000000000000:function:f") == (
        "ResourceNotFoundException", "Functions from 'eu-west-1' are not reachable in this region ('us-east-1')", 404)
    # Creating by ARN: another region is out of reach, another account's is refused.
    assert err(create, lam=lam, name="arn:aws:lambda:eu-west-1:000000000000:function:f", code=APP) == (
        "ResourceNotFoundException", "Functions from 'eu-west-1' are not reachable in this region ('us-east-1')", 404)
    with pytest.raises(ClientError) as e:
        create(lam, "arn:aws:lambda:us-east-1:123456789012:function:f", code=APP)
    assert (e.value.response["Error"]["Code"], e.value.response["ResponseMetadata"]["HTTPStatusCode"]) == (
        "AccessDeniedException", 403)
    assert e.value.response["Error"]["Message"] is None, "AWS's body has a null message"
    create(lam, "look", code=APP)
    assert err(lam.get_function, FunctionName="look", Qualifier="$latest")[1] == f"Function not found: {arn}look:$latest"
    assert err(lam.delete_function, FunctionName="gone", Qualifier="3")[1] == f"Function not found: {arn}gone"
    assert err(lam.delete_function, FunctionName="look:$LATEST") == (
        "InvalidParameterValueException", "$LATEST version cannot be deleted without deleting the function.", 400)
    assert err(lam.get_function_url_config, FunctionName="gone")[1] == "The resource you requested does not exist."
    assert err(lam.create_function_url_config, FunctionName="gone", AuthType="NONE")[1] == "Function does not exist"
    assert err(lam.put_function_event_invoke_config, FunctionName="gone", MaximumRetryAttempts=1)[1] == \
        "The function doesn't exist."
    assert err(lam.get_function_event_invoke_config, FunctionName="gone")[1] == \
        f"The function {arn}gone:$LATEST doesn't have an EventInvokeConfig"
    assert err(lam.put_function_event_invoke_config, FunctionName="look") == (
        "InvalidParameterValueException", "You must specify at least one of error handling or destination setting.", 400)
    assert err(lam.put_function_concurrency, FunctionName="look:$LATEST", ReservedConcurrentExecutions=1)[1].startswith(
        "This operation is permitted on Lambda functions only.")
    assert err(lam.add_permission, FunctionName="look", Qualifier="$LATEST", StatementId="s", Principal="*",
               Action="lambda:InvokeFunction")[1] == "We currently do not support adding policies for $LATEST."
    assert err(lam.get_policy, FunctionName="gone")[1] == "The resource you requested does not exist."
    assert err(lam.add_permission, FunctionName="look", StatementId="s", Principal="invalid.nonaws.com",
               Action="lambda:InvokeFunction") == (
        "InvalidParameterValueException", "The provided principal was invalid. Please check the principal and try again.",
        400)
    assert err(lam.put_function_event_invoke_config, FunctionName="look",
               DestinationConfig={"OnSuccess": {"Destination": arn + "look"}})[1] == \
        "You can't specify the function as a destination for itself."
    assert err(lam.put_function_event_invoke_config, FunctionName="look",
               DestinationConfig={"OnSuccess": {"Destination": arn + "gone"}})[1] == \
        f"The destination ARN {arn}gone is invalid."
    assert lam.list_event_source_mappings(FunctionName="gone")["EventSourceMappings"] == []
    assert err(lam.invoke, FunctionName="gone")[1] == f"Function not found: {arn}gone:$LATEST"


def test_code_signing_configs_are_kept_applied_and_refused_as_aws_refuses_them(lamina, lam):
    profile = "arn:aws:signer:us-east-1:000000000000:/signing-profiles/team"
    made = lam.create_code_signing_config(Description="team", AllowedPublishers={"SigningProfileVersionArns": [profile]},
                                          CodeSigningPolicies={"UntrustedArtifactOnDeployment": "Enforce"})
    assert made["ResponseMetadata"]["HTTPStatusCode"] == 201
    csc = made["CodeSigningConfig"]
    arn = csc["CodeSigningConfigArn"]
    assert re.fullmatch(r"arn:aws:lambda:us-east-1:000000000000:code-signing-config:csc-[a-z0-9]{17}", arn)
    assert arn.endswith(csc["CodeSigningConfigId"])
    assert csc["AllowedPublishers"] == {"SigningProfileVersionArns": [profile]}

    # Lamina serves no Signer, so no package carries an allowed signature: Enforce refuses
    # a new function's code, as AWS refuses unsigned code.
    with pytest.raises(ClientError) as e:
        create(lam, "signed", code=APP, CodeSigningConfigArn=arn)
    assert error_of(e)[0] == "CodeVerificationFailedException" and error_of(e)[2] == 400
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function(FunctionName="signed")

    # Warn lets it through; the function is listed under the configuration.
    lam.update_code_signing_config(CodeSigningConfigArn=arn, CodeSigningPolicies={"UntrustedArtifactOnDeployment": "Warn"})
    create(lam, "signed", code=APP, CodeSigningConfigArn=arn)
    assert lam.get_function_code_signing_config(FunctionName="signed")["CodeSigningConfigArn"] == arn
    assert lam.list_functions_by_code_signing_config(CodeSigningConfigArn=arn)["FunctionArns"] == [
        "arn:aws:lambda:us-east-1:000000000000:function:signed"]
    lam.update_function_code(FunctionName="signed", ZipFile=APP)
    wait_updated(lam, "signed")

    # Back to Enforce: the next code update is refused; configuration updates are not code.
    lam.update_code_signing_config(CodeSigningConfigArn=arn, CodeSigningPolicies={"UntrustedArtifactOnDeployment": "Enforce"})
    with pytest.raises(ClientError) as e:
        lam.update_function_code(FunctionName="signed", ZipFile=APP)
    assert error_of(e)[0] == "CodeVerificationFailedException"
    lam.update_function_configuration(FunctionName="signed", Description="still allowed")

    # In use, it cannot be deleted; everything survives a kill -9.
    with pytest.raises(lam.exceptions.ResourceConflictException):
        lam.delete_code_signing_config(CodeSigningConfigArn=arn)
    lamina.restart(hard=True)
    lam = lamina.client()
    assert lam.get_code_signing_config(CodeSigningConfigArn=arn)["CodeSigningConfig"]["CodeSigningPolicies"] == {
        "UntrustedArtifactOnDeployment": "Enforce"}
    assert lam.get_function_code_signing_config(FunctionName="signed")["CodeSigningConfigArn"] == arn
    assert [c["CodeSigningConfigArn"] for c in lam.list_code_signing_configs()["CodeSigningConfigs"]] == [arn]

    # Missing things, in AWS's words.
    ghost = arn[:-1] + ("x" if arn[-1] != "x" else "y")
    with pytest.raises(ClientError) as e:
        lam.get_code_signing_config(CodeSigningConfigArn=ghost)
    assert error_of(e) == ("ResourceNotFoundException",
                           f"The Lambda code signing configuration {ghost} can not be found.", 404)
    with pytest.raises(ClientError) as e:
        lam.put_function_code_signing_config(FunctionName="signed", CodeSigningConfigArn=ghost)
    assert error_of(e) == ("CodeSigningConfigNotFoundException",
                           "The code signing configuration cannot be found. Check that the provided configuration "
                           f"is not deleted: {ghost}.", 404)
    with pytest.raises(ClientError) as e:
        lam.delete_function_code_signing_config(FunctionName="ghost")
    assert error_of(e) == ("ResourceNotFoundException",
                           "Function not found: arn:aws:lambda:us-east-1:000000000000:function:ghost", 404)

    # Let go by the function (and a function without one answers `{}`), then deleted.
    lam.delete_function_code_signing_config(FunctionName="signed")
    got = lam.get_function_code_signing_config(FunctionName="signed")
    assert "CodeSigningConfigArn" not in got
    assert lam.list_functions_by_code_signing_config(CodeSigningConfigArn=arn)["FunctionArns"] == []
    lam.update_function_code(FunctionName="signed", ZipFile=APP)
    assert lam.delete_code_signing_config(CodeSigningConfigArn=arn)["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert lam.list_code_signing_configs()["CodeSigningConfigs"] == []
