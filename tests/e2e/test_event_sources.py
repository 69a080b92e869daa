"""SQS event source mappings: the API, AWS's SQS event, deletion on success, partial batch
failures and redrive."""
import json
import time

import pytest
from botocore.exceptions import ClientError

from conftest import create, zip_bytes

CONSUMER = """
import json, os, urllib.request

def handler(event, context):
    body = json.dumps({"request_id": context.aws_request_id, "event": event}).encode()
    req = urllib.request.Request(os.environ["REPORT_URL"], data=body, method="POST",
                                 headers={"content-type": "application/json"})
    urllib.request.urlopen(req, timeout=10).read()
    return {"batchItemFailures": [{"itemIdentifier": r["messageId"]}
                                  for r in event["Records"] if r["body"] == "fail"]}
"""


def consumer(lam, collector, name="consumer"):
    create(lam, name, code=zip_bytes({"app.py": CONSUMER}), Timeout=10,
           Environment={"Variables": {"REPORT_URL": collector.url}})


def count(sqs, url, attribute="ApproximateNumberOfMessages"):
    return int(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[attribute])["Attributes"][attribute])


def wait_for(predicate, what, polls=200):
    for _ in range(polls):
        if predicate():
            return
        time.sleep(0.05)  # polling a condition, bounded by `polls`
    pytest.fail(f"timed out waiting for {what}")


def test_messages_reach_the_function_as_awss_sqs_event(lamina, lam, collector):
    sqs = lamina.client("sqs")
    url = sqs.create_queue(QueueName="in")["QueueUrl"]
    arn = "arn:aws:sqs:us-east-1:000000000000:in"
    consumer(lam, collector)
    m = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="consumer", BatchSize=10)
    assert m["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert (m["State"], m["BatchSize"], m["EventSourceArn"]) == ("Creating", 10, arn)
    assert m["FunctionArn"] == "arn:aws:lambda:us-east-1:000000000000:function:consumer"

    sent = sqs.send_message(QueueUrl=url, MessageBody="hello",
                            MessageAttributes={"kind": {"DataType": "String", "StringValue": "greeting"}})
    started = time.monotonic()
    record = collector.get()["event"]["Records"][0]
    assert time.monotonic() - started < 5, "delivered on arrival, not on a poll interval"
    assert record["messageId"] == sent["MessageId"]
    assert (record["body"], record["md5OfBody"]) == ("hello", sent["MD5OfMessageBody"])
    assert record["md5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    assert record["messageAttributes"] == {"kind": {"stringValue": "greeting", "stringListValues": [],
                                                    "binaryListValues": [], "dataType": "String"}}
    assert (record["eventSource"], record["eventSourceARN"], record["awsRegion"]) == ("aws:sqs", arn, "us-east-1")
    assert {"ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"} <= \
        set(record["attributes"])
    assert record["receiptHandle"]
    wait_for(lambda: count(sqs, url) + count(sqs, url, "ApproximateNumberOfMessagesNotVisible") == 0,
             "the processed message to be deleted")

    got = lam.get_event_source_mapping(UUID=m["UUID"])
    assert got["State"] == "Enabled"
    assert [x["UUID"] for x in lam.list_event_source_mappings(FunctionName="consumer")["EventSourceMappings"]] == \
        [m["UUID"]]
    assert lam.list_event_source_mappings(EventSourceArn=arn + "-other")["EventSourceMappings"] == []
    updated = lam.update_event_source_mapping(UUID=m["UUID"], BatchSize=5)
    assert (updated["State"], updated["BatchSize"]) == ("Updating", 5)
    with pytest.raises(ClientError) as e:
        lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="consumer")
    assert e.value.response["Error"]["Code"] == "ResourceConflictException"

    lamina.restart()
    lam, sqs = lamina.client(), lamina.client("sqs")
    sqs.send_message(QueueUrl=url, MessageBody="after a restart")
    assert collector.get()["event"]["Records"][0]["body"] == "after a restart"
    assert lam.delete_event_source_mapping(UUID=m["UUID"])["State"] == "Deleting"
    with pytest.raises(ClientError) as e:
        lam.get_event_source_mapping(UUID=m["UUID"])
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_partial_batch_failures_come_back_and_redrive(lamina, lam, collector):
    sqs = lamina.client("sqs")
    sqs.create_queue(QueueName="dead")
    policy = json.dumps({"deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:dead", "maxReceiveCount": 2})
    url = sqs.create_queue(QueueName="work", Attributes={"VisibilityTimeout": "2", "RedrivePolicy": policy})["QueueUrl"]
    dlq = sqs.get_queue_url(QueueName="dead")["QueueUrl"]
    consumer(lam, collector)
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "ok", "MessageBody": "ok"},
                                                  {"Id": "bad", "MessageBody": "fail"}])
    lam.create_event_source_mapping(EventSourceArn="arn:aws:sqs:us-east-1:000000000000:work",
                                    FunctionName="consumer", BatchSize=10,
                                    FunctionResponseTypes=["ReportBatchItemFailures"])
    bodies = []
    while "fail" not in bodies or len(bodies) < 3:
        bodies += [r["body"] for r in collector.get()["event"]["Records"]]
    assert bodies.count("ok") == 1, "the successful item was deleted, not retried"
    # Received twice, the failing message is redriven to the dead-letter queue.
    moved = sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=20)["Messages"]
    assert moved[0]["Body"] == "fail"


def test_mapping_errors(lamina, lam, collector):
    sqs = lamina.client("sqs")
    sqs.create_queue(QueueName="q")
    consumer(lam, collector)
    with pytest.raises(ClientError) as e:
        lam.create_event_source_mapping(EventSourceArn="arn:aws:sqs:us-east-1:000000000000:missing",
                                        FunctionName="consumer")
    assert e.value.response["Error"]["Code"] == "InvalidParameterValueException"
    with pytest.raises(ClientError) as e:
        lam.create_event_source_mapping(EventSourceArn="arn:aws:sqs:us-east-1:000000000000:q",
                                        FunctionName="consumer", BatchSize=100)
    assert e.value.response["Error"]["Message"] == \
        "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10"
    with pytest.raises(ClientError) as e:
        lam.create_event_source_mapping(EventSourceArn="arn:aws:sqs:us-east-1:000000000000:q",
                                        FunctionName="nobody")
    assert (e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]) == (
        "InvalidParameterValueException", "Function does not exist")
    # The function is looked at before the queue; a DestinationConfig before both.
    with pytest.raises(ClientError) as e:
        lam.create_event_source_mapping(EventSourceArn="arn:aws:sqs:us-east-1:000000000000:missing",
                                        FunctionName="nobody")
    assert e.value.response["Error"]["Message"] == "Function does not exist"
    with pytest.raises(ClientError) as e:
        lam.create_event_source_mapping(
            EventSourceArn="arn:aws:sqs:us-east-1:000000000000:q", FunctionName="nobody",
            DestinationConfig={"OnSuccess": {"Destination": "arn:aws:sqs:us-east-1:000000000000:q"}})
    assert e.value.response["Error"]["Message"] == \
        "Unsupported DestinationConfig parameter for given event source mapping type."


def test_mappings_and_functions_are_tagged_as_aws_tags_them(lamina, lam, collector):
    lamina.client("sqs").create_queue(QueueName="tagged")
    consumer(lam, collector)
    m = lam.create_event_source_mapping(EventSourceArn="arn:aws:sqs:us-east-1:000000000000:tagged",
                                        FunctionName="consumer", Tags={"team": "a"})
    arn = m["EventSourceMappingArn"]
    assert lam.list_tags(Resource=arn)["Tags"] == {"team": "a"}
    lam.tag_resource(Resource=arn, Tags={"stage": "dev"})
    lam.untag_resource(Resource=arn, TagKeys=["team"])
    lamina.restart()
    assert lam.list_tags(Resource=arn)["Tags"] == {"stage": "dev"}, "a mapping's tags survive a restart"

    def err(call, **kw):
        with pytest.raises(ClientError) as e:
            call(**kw)
        return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]

    missing = "arn:aws:lambda:us-east-1:000000000000:event-source-mapping:00000000-0000-0000-0000-000000000000"
    assert err(lam.list_tags, Resource=missing) == (
        "ResourceNotFoundException", f"Event source mapping not found: {missing}")
    provider = "arn:aws:lambda:us-east-1:000000000000:capacity-provider:p"
    assert err(lam.tag_resource, Resource=provider, Tags={"a": "b"}) == (
        "ResourceNotFoundException", f"Capacity provider not found: {provider}")
    function = "arn:aws:lambda:us-east-1:000000000000:function:consumer"
    before = lam.get_function_configuration(FunctionName="consumer")["RevisionId"]
    lam.tag_resource(Resource=function, Tags={"a": "b"})
    assert lam.get_function_configuration(FunctionName="consumer")["RevisionId"] != before, "tags are a revision"
    assert err(lam.tag_resource, Resource=function + ":1", Tags={"a": "b"}) == (
        "InvalidParameterValueException",
        "Tags on function aliases and versions are not supported. Please specify a function ARN.")
