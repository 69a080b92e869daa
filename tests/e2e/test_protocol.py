"""The protocol layer, as clients meet it: every operation of a modelled service answers in
its own protocol (501 `NotImplemented` where Lamina has no implementation yet), unknown
services too, the health endpoints answer, the server says `Ready.`, and each request
gets a line in the request log."""
import json
import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import create, zip_bytes


def error_of(call):
    with pytest.raises(ClientError) as e:
        call()
    return e.value.response


@pytest.mark.parametrize(
    "service,call",
    [
        ("cloudformation", lambda c: c.list_stack_sets()),  # query (XML)
        ("dynamodb", lambda c: c.list_backups()),  # json 1.0, a served service (backups are not)
        ("s3", lambda c: c.list_bucket_inventory_configurations(Bucket="some-bucket")),  # rest-xml
        ("events", lambda c: c.list_archives()),  # json 1.1, a served service (archives are not)
        ("cloudwatch", lambda c: c.list_metrics()),  # CBOR (the SDK's first choice)
        ("lambda", lambda c: c.list_capacity_providers()),  # rest-json, a served service
        ("apigateway", lambda c: c.get_client_certificates()),
        ("apigatewayv2", lambda c: c.get_domain_names()),
    ],
)
def test_operations_lamina_lacks_answer_501_in_their_protocol(lamina, service, call):
    r = error_of(lambda: call(lamina.client(service)))
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert r["Error"]["Code"] == "NotImplemented"
    assert "not supported by Lamina" in r["Error"]["Message"]
    assert service in r["Error"]["Message"]


def test_an_unknown_service_answers_501_in_the_protocol_it_was_asked_in(lamina):
    r = error_of(lambda: lamina.client("kms").list_keys())
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert r["Error"]["Code"] == "NotImplemented"
    assert r["Error"]["Message"] == "The service kms is not supported by Lamina."


def test_an_unknown_action_of_a_query_service_is_invalid(lamina):
    status, _, body = lamina.http(
        "POST", "/", b"Action=NoSuchAction&Version=2010-03-31",
        {"Content-Type": "application/x-www-form-urlencoded",
         "Authorization": "AWS4-HMAC-SHA256 Credential=test/20261205/us-east-1/sns/aws4_request, "
                          "SignedHeaders=host, Signature=0"})
    assert status == 400
    assert b"<Code>InvalidAction</Code>" in body


def test_health_in_lamina_and_localstack_formats(lamina):
    status, _, body = lamina.http("GET", "/_lamina/health")
    assert status == 200
    health = json.loads(body)
    assert health["services"]["lambda"]["state"] == "running"
    assert health["services"]["s3"]["state"] == "running"
    assert health["services"]["dynamodb"]["state"] == "running"
    assert health["services"]["cloudwatch"]["state"] == "not implemented"
    status, _, body = lamina.http("GET", "/_localstack/health")
    assert status == 200
    health = json.loads(body)
    assert health["services"]["sqs"] == "running"
    assert set(health) >= {"services", "edition", "version"}


def test_the_server_says_ready_and_logs_each_request(lamina):
    assert "Ready." in lamina.ready_line
    sqs = lamina.client("sqs", key="123456789012")
    sqs.create_queue(QueueName="logged")
    error_of(lambda: sqs.get_queue_url(QueueName="missing"))
    wanted = ["sqs.CreateQueue => 200", "sqs.GetQueueUrl => 400 (AWS.SimpleQueueService.NonExistentQueue)"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        lines = [l for l in list(lamina.stderr_lines) if "lamina::requests" in l]
        if all(any(w in l for l in lines) for w in wanted):
            break
        time.sleep(0.05)
    for w in wanted:
        line = next(l for l in lines if w in l)
        assert "123456789012" in line and "ms=" in line


def test_input_breaking_the_model_is_refused_in_aws_words(lamina):
    # Lambda: the current model's pattern, the lower-camel member path, `{"message"}` only.
    lam = lamina.client("lambda")
    r = error_of(lambda: lam.get_function(FunctionName="invalid:function:name"))
    assert r["Error"]["Code"] == "ValidationException"
    assert r["Error"]["Message"].startswith(
        "1 validation error detected: Value 'invalid:function:name' at 'functionName' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?")
    status, headers, body = lamina.http("GET", "/2015-03-31/functions/bad!name")
    assert (status, headers["x-amzn-ErrorType"]) == (400, "ValidationException")
    assert list(json.loads(body)) == ["message"]
    # Invoke is checked too, its payload untouched.
    r = error_of(lambda: lam.invoke(FunctionName="bad!name", Payload=b"{}"))
    assert r["Error"]["Code"] == "ValidationException"
    # API Gateway: paths of body members start with the operation's input.
    gw = lamina.client("apigateway")
    api = gw.create_rest_api(name="v")["id"]
    r = error_of(lambda: gw.update_rest_api(restApiId=api, patchOperations=[
        {"op": "replace", "path": "/name", "value": "n"}, {"op": "wrong", "path": "/name", "value": "n"}]))
    assert r["Error"]["Code"] == "ValidationException"
    assert r["Error"]["Message"].startswith(
        "1 validation error detected: Value 'wrong' at 'updateRestApiInput.patchOperations.2.member.op' "
        "failed to satisfy constraint: Member must satisfy enum value set: [")
    # CloudWatch Logs answers the same check as InvalidParameterException.
    logs = lamina.client("logs")
    logs.create_log_group(logGroupName="g")
    logs.create_log_stream(logGroupName="g", logStreamName="s")
    r = error_of(lambda: logs.get_log_events(logGroupName="g", logStreamName="s", limit=10001))
    assert r["Error"] == {
        "Code": "InvalidParameterException",
        "Message": "1 validation error detected: Value '10001' at 'limit' failed to satisfy constraint: "
                   "Member must have value less than or equal to 10000"}
    # STS (query protocol): ValidationError, with two violations in the model's order.
    sts = boto3.client("sts", endpoint_url=lamina.url, region_name="us-east-1", aws_access_key_id="test",
                       aws_secret_access_key="test", config=Config(parameter_validation=False))
    r = error_of(lambda: sts.assume_role(RoleArn="arn:aws:iam::000000000000:role/r", RoleSessionName="bad name!",
                                         DurationSeconds=60))
    assert r["Error"]["Code"] == "ValidationError"
    assert r["Error"]["Message"] == (
        "2 validation errors detected: Value 'bad name!' at 'roleSessionName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [\\w+=,.@-]*; Value '60' at 'durationSeconds' failed "
        "to satisfy constraint: Member must have value greater than or equal to 900")


def test_sqs_answers_its_query_protocol_by_get_and_post(lamina):
    url = lamina.client("sqs").create_queue(QueueName="q")["QueueUrl"]
    path = "/" + url.split("/", 3)[3]
    status, _, body = lamina.http("GET", path + "?Action=SendMessage&MessageBody=hi")
    assert status == 200 and b"<SendMessageResult><MD5OfMessageBody>" in body
    status, _, body = lamina.http("POST", "/", b"Action=ReceiveMessage&QueueUrl=" + url.encode(),
                                  {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200 and b"<Body>hi</Body>" in body
    # The account's own actions are not for a queue's URL; a URL alone names nothing.
    status, _, body = lamina.http("GET", path + "?Action=ListQueues")
    assert status == 400 and b"The action ListQueues is not valid for this endpoint." in body
    status, _, body = lamina.http("GET", path)
    assert status == 404 and b"<UnknownOperationException" in body


def test_an_operation_lamina_lacks_answers_501_whatever_its_input(lamina):
    iam = boto3.client("iam", endpoint_url=lamina.url, region_name="us-east-1", aws_access_key_id="test",
                       aws_secret_access_key="test", config=Config(parameter_validation=False))
    r = error_of(lambda: iam.create_group())  # GroupName is required, but CreateGroup is not served
    assert (r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"]) == (501, "NotImplemented")
    # A served operation with the same fault is refused as AWS refuses it.
    r = error_of(lambda: iam.get_role())
    assert (r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"]) == (400, "ValidationError")
    assert r["Error"]["Message"] == ("1 validation error detected: Value null at 'roleName' failed to satisfy "
                                     "constraint: Member must not be null")


def test_lambda_is_routed_by_its_model(lamina):
    # Two segments under Lambda's root that name no operation are not a queue's URL:
    # they answer rest-json's unknown operation.
    status, headers, body = lamina.http("GET", "/2015-03-31/no-such-thing")
    assert status == 404
    assert headers["x-amzn-ErrorType"] == "UnknownOperationException"
    assert json.loads(body)["message"] == "No AWS operation matches GET /2015-03-31/no-such-thing"
    # A served operation's input is read from the model: a header member outside its
    # enum is refused in AWS's words before anything runs.
    status, headers, body = lamina.http(
        "POST", "/2015-03-31/functions/f/invocations", b"{}", {"X-Amz-Invocation-Type": "Sometimes"})
    assert (status, headers["x-amzn-ErrorType"]) == (400, "ValidationException")
    assert json.loads(body)["message"] == (
        "1 validation error detected: Value 'Sometimes' at 'invocationType' failed to satisfy constraint: "
        "Member must satisfy enum value set: [Event, RequestResponse, DryRun]")
    # A body that is not JSON, and a member of the wrong type, named as the caller wrote it.
    status, headers, body = lamina.http("POST", "/2015-03-31/functions", b"{nope")
    assert (status, headers["x-amzn-ErrorType"]) == (400, "InvalidRequestContentException")
    assert json.loads(body)["message"].startswith("Could not parse request body into json: ")
    status, headers, body = lamina.http("POST", "/v2/apis", b'{"name": 5}')
    assert (status, headers["x-amzn-ErrorType"]) == (400, "BadRequestException")
    assert json.loads(body)["message"] == "Value for parameter name is not a valid string."
    # Its output is written from the model: DeleteFunction's status is an output member.
    lam = lamina.client("lambda")
    create(lam, "routed", code=zip_bytes({"app.py": "def handler(e, c):\n    return e\n"}))
    assert lam.delete_function(FunctionName="routed")["ResponseMetadata"]["HTTPStatusCode"] == 204
    r = error_of(lambda: lam.delete_function(FunctionName="routed"))
    assert (r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"]) == (404, "ResourceNotFoundException")
