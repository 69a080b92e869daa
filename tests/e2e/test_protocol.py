"""The protocol layer, as clients meet it: every operation of a modelled service answers in
its own protocol (501 `NotImplemented` where Lamina has no implementation yet), unknown
services too, the health endpoints answer, the server says `Ready.`, and each request
gets a line in the request log."""
import json
import time

import pytest
from botocore.exceptions import ClientError


def error_of(call):
    with pytest.raises(ClientError) as e:
        call()
    return e.value.response


@pytest.mark.parametrize(
    "service,call",
    [
        ("cloudformation", lambda c: c.describe_stacks()),  # query (XML)
        ("dynamodb", lambda c: c.list_tables()),  # json 1.0
        ("s3", lambda c: c.list_buckets()),  # rest-xml
        ("scheduler", lambda c: c.list_schedules()),  # rest-json
        ("cloudwatch", lambda c: c.list_metrics()),  # CBOR (the SDK's first choice)
        ("lambda", lambda c: c.list_capacity_providers()),  # rest-json, a served service
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
    assert health["services"]["s3"]["state"] == "not implemented"
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
