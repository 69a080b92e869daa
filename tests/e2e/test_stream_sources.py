"""Event source mappings from streams: a DynamoDB table's stream feeding a function with
AWS's `aws:dynamodb` records, in order; a poison record bisected away to the on-failure
queue with AWS's failure record; ReportBatchItemFailures; FilterCriteria; and a mapping
that resumes where it stopped after a kill -9."""
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
    images = [r["dynamodb"].get("NewImage", {}) for r in event["Records"]]
    if any("poison" in i for i in images):
        raise RuntimeError("a poison record")
    return {"batchItemFailures": [{"itemIdentifier": r["dynamodb"]["SequenceNumber"]}
                                  for r, i in zip(event["Records"], images) if "retry" in i]}
"""


def S(v):
    return {"S": v}


def consumer(lam, collector, name="consumer"):
    create(lam, name, code=zip_bytes({"app.py": CONSUMER}), Timeout=10,
           Environment={"Variables": {"REPORT_URL": collector.url}})


def stream_table(ddb, name, view="NEW_AND_OLD_IMAGES"):
    return ddb.create_table(
        TableName=name, AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": view},
    )["TableDescription"]["LatestStreamArn"]


def records(collector, n, timeout=30):
    """The next `n` records the function received, across invocations."""
    out = []
    while len(out) < n:
        out += collector.get(timeout=timeout)["event"]["Records"]
    return out


def test_a_tables_stream_feeds_a_function_in_order(lamina, lam, collector):
    ddb = lamina.client("dynamodb")
    arn = stream_table(ddb, "orders")
    consumer(lam, collector)
    m = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="consumer", StartingPosition="TRIM_HORIZON",
                                        BatchSize=10)
    assert m["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert (m["State"], m["StartingPosition"], m["BatchSize"], m["ParallelizationFactor"]) == (
        "Creating", "TRIM_HORIZON", 10, 1)
    assert (m["MaximumRetryAttempts"], m["MaximumRecordAgeInSeconds"], m["BisectBatchOnFunctionError"]) == (-1, -1, False)
    assert m["DestinationConfig"] == {"OnFailure": {}}

    ddb.put_item(TableName="orders", Item={"pk": S("a"), "v": S("1")})
    ddb.update_item(TableName="orders", Key={"pk": S("a")}, UpdateExpression="SET v = :v",
                    ExpressionAttributeValues={":v": S("2")})
    ddb.delete_item(TableName="orders", Key={"pk": S("a")})
    got = records(collector, 3)
    assert [r["eventName"] for r in got] == ["INSERT", "MODIFY", "REMOVE"]
    assert all(r["eventSourceARN"] == arn and r["eventSource"] == "aws:dynamodb" for r in got)
    assert got[0]["dynamodb"]["NewImage"] == {"pk": S("a"), "v": S("1")}
    assert got[1]["dynamodb"]["OldImage"]["v"] == S("1") and got[1]["dynamodb"]["NewImage"]["v"] == S("2")
    assert got[2]["dynamodb"]["Keys"] == {"pk": S("a")} and "NewImage" not in got[2]["dynamodb"]

    with pytest.raises(ClientError) as e:
        lam.create_event_source_mapping(EventSourceArn=arn + "x", FunctionName="consumer",
                                        StartingPosition="LATEST")
    assert e.value.response["Error"] == {"Code": "InvalidParameterValueException",
                                         "Message": f"Stream not found: {arn}x"}
    with pytest.raises(ClientError) as e:
        lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="consumer", StartingPosition="LATEST")
    assert e.value.response["Error"]["Code"] == "ResourceConflictException"


def test_a_poison_record_is_bisected_to_the_on_failure_queue(lamina, lam, collector):
    ddb, sqs = lamina.client("dynamodb"), lamina.client("sqs")
    dlq = sqs.create_queue(QueueName="failures")["QueueUrl"]
    arn = stream_table(ddb, "jobs", view="NEW_IMAGE")
    consumer(lam, collector)
    for i in range(4):
        item = {"pk": S(f"k{i}")}
        if i == 2:
            item["poison"] = {"BOOL": True}
        ddb.put_item(TableName="jobs", Item=item)
    m = lam.create_event_source_mapping(
        EventSourceArn=arn, FunctionName="consumer", StartingPosition="TRIM_HORIZON", BatchSize=10,
        MaximumRetryAttempts=1, BisectBatchOnFunctionError=True,
        DestinationConfig={"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:000000000000:failures"}})
    assert m["DestinationConfig"] == {"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:000000000000:failures"}}
    failure = None
    for _ in range(20):
        got = sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=2).get("Messages")
        if got:
            failure = json.loads(got[0]["Body"])
            break
    assert failure is not None, "the poison record's failure record arrives"
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert failure["requestContext"]["functionArn"] == "arn:aws:lambda:us-east-1:000000000000:function:consumer"
    assert failure["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"}
    info = failure["DDBStreamBatchInfo"]
    assert (info["batchSize"], info["streamArn"]) == (1, arn)
    assert info["startSequenceNumber"] == info["endSequenceNumber"]
    # Every other record reached the function and succeeded: each key was seen in a batch
    # without the poison one.
    seen_ok = set()
    while not {"k0", "k1", "k3"} <= seen_ok:
        batch = collector.get()["event"]["Records"]
        keys = [r["dynamodb"]["Keys"]["pk"]["S"] for r in batch]
        if "k2" not in keys:
            seen_ok.update(keys)


def test_reported_failures_are_retried_from_the_first(lamina, lam, collector):
    ddb = lamina.client("dynamodb")
    arn = stream_table(ddb, "partial", view="NEW_IMAGE")
    consumer(lam, collector)
    ddb.put_item(TableName="partial", Item={"pk": S("a")})
    ddb.put_item(TableName="partial", Item={"pk": S("b"), "retry": {"BOOL": True}})
    ddb.put_item(TableName="partial", Item={"pk": S("c")})
    lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="consumer", StartingPosition="TRIM_HORIZON",
                                    BatchSize=10, MaximumRetryAttempts=1,
                                    FunctionResponseTypes=["ReportBatchItemFailures"])
    first = [r["dynamodb"]["Keys"]["pk"]["S"] for r in collector.get()["event"]["Records"]]
    again = [r["dynamodb"]["Keys"]["pk"]["S"] for r in collector.get()["event"]["Records"]]
    assert first == ["a", "b", "c"]
    assert again == ["b", "c"], "checkpointed at the first failure, retried from there"


def test_filter_criteria_pass_only_matching_records(lamina, lam, collector):
    ddb = lamina.client("dynamodb")
    arn = stream_table(ddb, "filtered", view="NEW_IMAGE")
    consumer(lam, collector)
    lam.create_event_source_mapping(
        EventSourceArn=arn, FunctionName="consumer", StartingPosition="LATEST", BatchSize=1,
        FilterCriteria={"Filters": [{"Pattern": json.dumps(
            {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"kind": {"S": ["wanted"]}}}})}]})
    with pytest.raises(ClientError) as e:
        lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="consumer", StartingPosition="LATEST",
                                        FilterCriteria={"Filters": [{"Pattern": "not json"}]})
    assert e.value.response["Error"] == {"Code": "InvalidParameterValueException",
                                         "Message": "Invalid filter pattern definition."}
    ddb.put_item(TableName="filtered", Item={"pk": S("x"), "kind": S("other")})
    ddb.put_item(TableName="filtered", Item={"pk": S("y"), "kind": S("wanted")})
    ddb.put_item(TableName="filtered", Item={"pk": S("y"), "kind": S("wanted"), "more": S("1")})
    got = collector.get()["event"]["Records"]
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in got] == ["y"]
    assert got[0]["eventName"] == "INSERT"


def test_a_mapping_resumes_after_a_kill_9(lamina, lam, collector):
    ddb = lamina.client("dynamodb")
    arn = stream_table(ddb, "resumed", view="KEYS_ONLY")
    consumer(lam, collector)
    lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="consumer", StartingPosition="TRIM_HORIZON",
                                    BatchSize=5)
    for i in range(5):
        ddb.put_item(TableName="resumed", Item={"pk": S(f"k{i}")})
    first = [r["dynamodb"]["Keys"]["pk"]["S"] for r in records(collector, 5)]
    assert first == [f"k{i}" for i in range(5)]
    lamina.restart(hard=True)
    ddb = lamina.client("dynamodb")
    for i in range(5, 10):
        ddb.put_item(TableName="resumed", Item={"pk": S(f"k{i}")})
    after = []
    while "k9" not in after:
        after += [r["dynamodb"]["Keys"]["pk"]["S"] for r in collector.get()["event"]["Records"]]
    # Nothing lost, nothing out of order; at most the batch in flight at the kill again.
    new = [k for k in after if k not in first]
    assert new == [f"k{i}" for i in range(5, 10)]
    assert len(after) <= 10


def test_failure_records_can_go_to_a_bucket_with_the_batch(lamina, lam, collector):
    ddb, s3 = lamina.client("dynamodb"), lamina.client("s3")
    s3.create_bucket(Bucket="esm-failures")
    arn = stream_table(ddb, "to-bucket", view="NEW_IMAGE")
    consumer(lam, collector)
    m = lam.create_event_source_mapping(
        EventSourceArn=arn, FunctionName="consumer", StartingPosition="TRIM_HORIZON", BatchSize=1,
        MaximumRetryAttempts=0, DestinationConfig={"OnFailure": {"Destination": "arn:aws:s3:::esm-failures"}})
    ddb.put_item(TableName="to-bucket", Item={"pk": S("p"), "poison": {"BOOL": True}})
    keys = []
    for _ in range(400):
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket="esm-failures").get("Contents", [])]
        if keys:
            break
        time.sleep(0.05)  # polling a condition, bounded by the loop
    assert len(keys) == 1
    record = json.loads(s3.get_object(Bucket="esm-failures", Key=keys[0])["Body"].read())
    shard = record["DDBStreamBatchInfo"]["shardId"]
    assert keys[0].startswith(f"aws/lambda/{m['UUID']}/{shard}/")
    assert record["payload"]["Records"][0]["dynamodb"]["Keys"] == {"pk": S("p")}
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
