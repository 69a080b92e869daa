"""Kinesis Data Streams as boto3 uses them: streams and shards with Kinesis's hash key
ranges, records routed by the MD5 of their partition keys, iterators of every type,
resharding with parents read before children, records that survive a kill -9, and
event source mappings that keep each shard's order and bisect a poison record away."""
import base64
import hashlib
import json
import time

import pytest
from botocore.exceptions import ClientError

from conftest import create, zip_bytes

MAX = 2 ** 128 - 1


def error_of(call):
    with pytest.raises(ClientError) as e:
        call()
    return e.value.response


@pytest.fixture
def kinesis(lamina):
    return lamina.client("kinesis")


def shard_of(shards, key):
    h = int.from_bytes(hashlib.md5(key.encode()).digest(), "big")
    return next(s["ShardId"] for s in shards
                if int(s["HashKeyRange"]["StartingHashKey"]) <= h <= int(s["HashKeyRange"]["EndingHashKey"])
                and "EndingSequenceNumber" not in s["SequenceNumberRange"])


def read_all(kinesis, name, shard, kind="TRIM_HORIZON", **kw):
    it = kinesis.get_shard_iterator(StreamName=name, ShardId=shard, ShardIteratorType=kind, **kw)["ShardIterator"]
    return kinesis.get_records(ShardIterator=it)


def test_streams_shards_and_records(kinesis):
    kinesis.create_stream(StreamName="clicks", ShardCount=2, Tags={"team": "web"})
    kinesis.get_waiter("stream_exists").wait(StreamName="clicks", WaiterConfig={"Delay": 1})
    d = kinesis.describe_stream(StreamName="clicks")["StreamDescription"]
    assert (d["StreamStatus"], d["RetentionPeriodHours"], d["StreamModeDetails"]) == (
        "ACTIVE", 24, {"StreamMode": "PROVISIONED"})
    assert d["StreamARN"] == "arn:aws:kinesis:us-east-1:000000000000:stream/clicks"
    shards = d["Shards"]
    assert [s["ShardId"] for s in shards] == ["shardId-000000000000", "shardId-000000000001"]
    ranges = [(int(s["HashKeyRange"]["StartingHashKey"]), int(s["HashKeyRange"]["EndingHashKey"])) for s in shards]
    assert ranges[0][0] == 0 and ranges[-1][1] == MAX and ranges[0][1] + 1 == ranges[1][0]
    assert kinesis.list_streams()["StreamNames"] == ["clicks"]
    assert kinesis.list_tags_for_stream(StreamName="clicks")["Tags"] == [{"Key": "team", "Value": "web"}]
    dup = error_of(lambda: kinesis.create_stream(StreamName="clicks", ShardCount=1))
    assert dup["Error"] == {"Code": "ResourceInUseException",
                            "Message": "Stream clicks under account 000000000000 already exists."}
    missing = error_of(lambda: kinesis.describe_stream(StreamName="nope"))
    assert missing["Error"] == {"Code": "ResourceNotFoundException",
                                "Message": "Stream nope under account 000000000000 not found."}

    sent = {}
    for i in range(20):
        key = f"user-{i % 7}"
        r = kinesis.put_record(StreamName="clicks", Data=f"event {i}".encode(), PartitionKey=key)
        assert r["ShardId"] == shard_of(shards, key), "routed by the MD5 of the partition key"
        sent.setdefault(r["ShardId"], []).append((r["SequenceNumber"], f"event {i}".encode()))
    batch = kinesis.put_records(StreamName="clicks", Records=[
        {"Data": b"low", "PartitionKey": "x", "ExplicitHashKey": "0"},
        {"Data": b"high", "PartitionKey": "x", "ExplicitHashKey": str(MAX)}])
    assert batch["FailedRecordCount"] == 0
    assert [r["ShardId"] for r in batch["Records"]] == ["shardId-000000000000", "shardId-000000000001"]
    for r, data in zip(batch["Records"], [b"low", b"high"]):
        sent.setdefault(r["ShardId"], []).append((r["SequenceNumber"], data))

    for shard, records in sent.items():
        got = read_all(kinesis, "clicks", shard)
        assert [(r["SequenceNumber"], r["Data"]) for r in got["Records"]] == records, "each shard in order"
        assert got["MillisBehindLatest"] == 0 and got["NextShardIterator"]
        seq = records[3][0]
        at = read_all(kinesis, "clicks", shard, "AT_SEQUENCE_NUMBER", StartingSequenceNumber=seq)["Records"]
        after = read_all(kinesis, "clicks", shard, "AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=seq)["Records"]
        assert at[0]["SequenceNumber"] == seq and after[0]["SequenceNumber"] == records[4][0]
    latest = kinesis.get_shard_iterator(StreamName="clicks", ShardId="shardId-000000000000",
                                        ShardIteratorType="LATEST")["ShardIterator"]
    assert kinesis.get_records(ShardIterator=latest)["Records"] == []
    kinesis.put_record(StreamName="clicks", Data=b"new", PartitionKey="x", ExplicitHashKey="1")
    assert [r["Data"] for r in kinesis.get_records(ShardIterator=latest)["Records"]] == [b"new"]
    since = read_all(kinesis, "clicks", "shardId-000000000000", "AT_TIMESTAMP", Timestamp=time.time() + 3600)
    assert since["Records"] == []
    paged = kinesis.get_records(ShardIterator=kinesis.get_shard_iterator(
        StreamName="clicks", ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON")["ShardIterator"], Limit=2)
    assert len(paged["Records"]) == 2 and paged["MillisBehindLatest"] >= 0

    bad = error_of(lambda: kinesis.get_shard_iterator(StreamName="clicks", ShardId="shardId-000000000009",
                                                       ShardIteratorType="LATEST"))
    assert bad["Error"]["Code"] == "ResourceNotFoundException"
    shorter = error_of(lambda: kinesis.increase_stream_retention_period(StreamName="clicks", RetentionPeriodHours=12))
    assert shorter["Error"]["Code"] in ("InvalidArgumentException", "ValidationException")
    kinesis.increase_stream_retention_period(StreamName="clicks", RetentionPeriodHours=48)
    assert kinesis.describe_stream_summary(StreamName="clicks")["StreamDescriptionSummary"]["RetentionPeriodHours"] == 48


def test_resharding_closes_parents_and_names_children(kinesis):
    kinesis.create_stream(StreamName="reshard", ShardCount=1)
    before = kinesis.put_record(StreamName="reshard", Data=b"before", PartitionKey="k")
    kinesis.split_shard(StreamName="reshard", ShardToSplit="shardId-000000000000", NewStartingHashKey=str(2 ** 127))
    shards = kinesis.list_shards(StreamName="reshard")["Shards"]
    assert [s["ShardId"] for s in shards] == ["shardId-000000000000", "shardId-000000000001", "shardId-000000000002"]
    assert "EndingSequenceNumber" in shards[0]["SequenceNumberRange"]
    assert all(s["ParentShardId"] == "shardId-000000000000" for s in shards[1:])
    open_ = kinesis.list_shards(StreamName="reshard", ShardFilter={"Type": "AT_LATEST"})["Shards"]
    assert [s["ShardId"] for s in open_] == ["shardId-000000000001", "shardId-000000000002"]
    after = kinesis.put_record(StreamName="reshard", Data=b"after", PartitionKey="k")
    assert after["ShardId"] != "shardId-000000000000"
    parent = read_all(kinesis, "reshard", "shardId-000000000000")
    assert [r["SequenceNumber"] for r in parent["Records"]] == [before["SequenceNumber"]]
    end = kinesis.get_records(ShardIterator=parent["NextShardIterator"])
    assert "NextShardIterator" not in end
    assert sorted(c["ShardId"] for c in end["ChildShards"]) == ["shardId-000000000001", "shardId-000000000002"]

    kinesis.merge_shards(StreamName="reshard", ShardToMerge="shardId-000000000001",
                         AdjacentShardToMerge="shardId-000000000002")
    merged = kinesis.list_shards(StreamName="reshard", ShardFilter={"Type": "AT_LATEST"})["Shards"]
    assert [(s["ShardId"], s["ParentShardId"], s["AdjacentParentShardId"]) for s in merged] == [
        ("shardId-000000000003", "shardId-000000000001", "shardId-000000000002")]
    assert merged[0]["HashKeyRange"] == {"StartingHashKey": "0", "EndingHashKey": str(MAX)}
    scaled = kinesis.update_shard_count(StreamName="reshard", TargetShardCount=2, ScalingType="UNIFORM_SCALING")
    assert (scaled["CurrentShardCount"], scaled["TargetShardCount"]) == (1, 2)
    assert len(kinesis.list_shards(StreamName="reshard", ShardFilter={"Type": "AT_LATEST"})["Shards"]) == 2
    not_adjacent = error_of(lambda: kinesis.merge_shards(StreamName="reshard", ShardToMerge="shardId-000000000003",
                                                          AdjacentShardToMerge="shardId-000000000001"))
    assert not_adjacent["Error"]["Code"] == "ResourceNotFoundException"


def test_records_survive_a_kill_9(lamina):
    kinesis = lamina.client("kinesis")
    kinesis.create_stream(StreamName="durable", ShardCount=1)
    seqs = [kinesis.put_record(StreamName="durable", Data=str(i).encode(), PartitionKey="k")["SequenceNumber"]
            for i in range(10)]
    lamina.restart(hard=True)
    kinesis = lamina.client("kinesis")
    got = read_all(kinesis, "durable", "shardId-000000000000")["Records"]
    assert [r["SequenceNumber"] for r in got] == seqs


CONSUMER = """
import base64, json, os, urllib.request

def handler(event, context):
    body = json.dumps({"request_id": context.aws_request_id, "event": event}).encode()
    req = urllib.request.Request(os.environ["REPORT_URL"], data=body, method="POST",
                                 headers={"content-type": "application/json"})
    urllib.request.urlopen(req, timeout=10).read()
    if any(base64.b64decode(r["kinesis"]["data"]) == b"poison" for r in event["Records"]):
        raise RuntimeError("a poison record")
    return {}
"""


def test_a_mapping_keeps_each_keys_order_and_bisects_a_poison_record(lamina, lam, collector):
    kinesis, sqs = lamina.client("kinesis"), lamina.client("sqs")
    dlq = sqs.create_queue(QueueName="kinesis-failures")["QueueUrl"]
    kinesis.create_stream(StreamName="orders", ShardCount=2)
    arn = "arn:aws:kinesis:us-east-1:000000000000:stream/orders"
    create(lam, "consumer", code=zip_bytes({"app.py": CONSUMER}), Timeout=10,
           Environment={"Variables": {"REPORT_URL": collector.url}})
    m = lam.create_event_source_mapping(
        EventSourceArn=arn, FunctionName="consumer", StartingPosition="TRIM_HORIZON", BatchSize=10,
        ParallelizationFactor=3, BisectBatchOnFunctionError=True, MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:000000000000:kinesis-failures"}})
    assert (m["ParallelizationFactor"], m["StartingPosition"]) == (3, "TRIM_HORIZON")
    sent = {}
    for i in range(30):
        key = f"k{i % 5}"
        data = b"poison" if i == 17 else f"{key}:{i}".encode()
        kinesis.put_record(StreamName="orders", Data=data, PartitionKey=key)
        if data != b"poison":
            sent.setdefault(key, []).append(data.decode())
    got = {}
    deadline = time.monotonic() + 60
    while sum(len(v) for v in got.values()) < 29 and time.monotonic() < deadline:
        records = collector.get()["event"]["Records"]
        import base64
        datas = [base64.b64decode(r["kinesis"]["data"]) for r in records]
        if b"poison" in datas:
            continue  # a failed batch: its records come again
        for r, d in zip(records, datas):
            assert r["eventSource"] == "aws:kinesis" and r["eventSourceARN"] == arn
            assert r["eventID"].startswith("shardId-")
            got.setdefault(r["kinesis"]["partitionKey"], []).append(d.decode())
    assert {k: v for k, v in got.items()} == sent, "every key's records, once each, in order"
    failure = None
    for _ in range(20):
        msgs = sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=2).get("Messages")
        if msgs:
            failure = json.loads(msgs[0]["Body"])
            break
    assert failure is not None
    info = failure["KinesisBatchInfo"]
    assert (info["batchSize"], info["streamArn"]) == (1, arn)
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"


def test_the_java_sdks_cbor_is_spoken(lamina, kinesis):
    """The Java SDK sends Kinesis's JSON protocol as CBOR (`application/x-amz-cbor-1.1`):
    blobs as byte strings, timestamps tagged, answers in kind."""
    import cbor2
    kinesis.create_stream(StreamName="cbor", ShardCount=1)

    def call(op, payload):
        headers = {"Content-Type": "application/x-amz-cbor-1.1", "X-Amz-Target": f"Kinesis_20131202.{op}",
                   "Authorization": "AWS4-HMAC-SHA256 Credential=test/20261206/us-east-1/kinesis/aws4_request, "
                                    "SignedHeaders=host, Signature=0"}
        status, h, body = lamina.http("POST", "/", cbor2.dumps(payload), headers)
        assert h["content-type"] == "application/x-amz-cbor-1.1"
        # Times are tag 1 with whole milliseconds, as the Java SDK reads them: untagged here
        # to read them as numbers.
        timed = b"ApproximateArrivalTimestamp\xc1\x1b"
        if timed in body:
            body = body.replace(timed, b"ApproximateArrivalTimestamp\x1b")
            return status, cbor2.loads(body)
        return status, cbor2.loads(body)

    status, put = call("PutRecord", {"StreamName": "cbor", "Data": b"\x00\xffbinary", "PartitionKey": "k"})
    assert status == 200 and put["ShardId"] == "shardId-000000000000"
    at = cbor2.CBORTag(1, int(time.time() * 1000) - 60_000)
    status, it = call("GetShardIterator", {"StreamName": "cbor", "ShardId": "shardId-000000000000",
                                           "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": at})
    assert status == 200
    status, got = call("GetRecords", {"ShardIterator": it["ShardIterator"]})
    record = got["Records"][0]
    assert record["Data"] == b"\x00\xffbinary", "a blob is a byte string"
    assert abs(record["ApproximateArrivalTimestamp"] - time.time() * 1000) < 60_000, "milliseconds since the epoch"
    status, err = call("DescribeStream", {"StreamName": "missing"})
    assert status == 400 and err["__type"].endswith("ResourceNotFoundException")


WINDOWED = """
import base64, json, os, urllib.request

def handler(event, context):
    body = json.dumps({"request_id": context.aws_request_id, "event": event}).encode()
    req = urllib.request.Request(os.environ["REPORT_URL"], data=body, method="POST",
                                 headers={"content-type": "application/json"})
    urllib.request.urlopen(req, timeout=10).read()
    total = event["state"].get("total", 0)
    total += sum(int(base64.b64decode(r["kinesis"]["data"])) for r in event["Records"])
    return {"state": {"total": total}}
"""


def test_tumbling_windows_carry_state_to_a_final_invocation(lamina, lam, collector):
    kinesis = lamina.client("kinesis")
    kinesis.create_stream(StreamName="sums", ShardCount=1)
    create(lam, "summer", code=zip_bytes({"app.py": WINDOWED}), Timeout=10,
           Environment={"Variables": {"REPORT_URL": collector.url}})
    m = lam.create_event_source_mapping(EventSourceArn="arn:aws:kinesis:us-east-1:000000000000:stream/sums",
                                        FunctionName="summer", StartingPosition="TRIM_HORIZON", BatchSize=2,
                                        TumblingWindowInSeconds=2)
    assert m["TumblingWindowInSeconds"] == 2
    for v in (1, 2, 3):
        kinesis.put_record(StreamName="sums", Data=str(v).encode(), PartitionKey="k")
    finals, invoked = [], []
    while sum(f["state"].get("total", 0) for f in finals) < 6:
        event = collector.get()["event"]
        assert event["shardId"] == "shardId-000000000000" and {"start", "end"} <= set(event["window"])
        assert event["isWindowTerminatedEarly"] is False
        (finals if event["isFinalInvokeForWindow"] else invoked).append(event)
    # Each window's final invocation has no records and the state its records summed to.
    assert sum(f["state"]["total"] for f in finals) == 6
    assert all(f["Records"] == [] for f in finals)
    for f in finals:
        mine = [e for e in invoked if e["window"] == f["window"]]
        assert mine and mine[0]["state"] == {}, "a window starts with no state"
        for before, after in zip(mine, mine[1:]):
            got = sum(int(base64.b64decode(r["kinesis"]["data"])) for r in before["Records"])
            assert after["state"]["total"] == before["state"].get("total", 0) + got, "state carried along"
