"""SQS over its JSON protocol, driven by boto3 and the aws CLI: queues, messages, digests,
long polling, visibility, redrive, FIFO, durability, and Lambda's dead letters."""
import hashlib
import json
import struct
import threading
import time

import pytest
from botocore.exceptions import ClientError

from conftest import Lamina, create, function_zip


@pytest.fixture
def sqs(lamina):
    return lamina.client("sqs")


def error_of(call, **kw):
    with pytest.raises(ClientError) as e:
        call(**kw)
    r = e.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"], r["Error"]["Message"]


def md5_of_attributes(attrs):
    buf = b""
    for name in sorted(attrs):
        a = attrs[name]
        buf += struct.pack(">I", len(name)) + name.encode()
        buf += struct.pack(">I", len(a["DataType"])) + a["DataType"].encode()
        if "BinaryValue" in a:
            buf += b"\x02" + struct.pack(">I", len(a["BinaryValue"])) + a["BinaryValue"]
        else:
            value = a["StringValue"].encode()
            buf += b"\x01" + struct.pack(">I", len(value)) + value
    return hashlib.md5(buf).hexdigest()


def test_queue_life_cycle(lamina, sqs):
    url = sqs.create_queue(QueueName="jobs", Attributes={"VisibilityTimeout": "45"}, tags={"team": "a"})["QueueUrl"]
    assert url.endswith("/000000000000/jobs")
    assert sqs.create_queue(QueueName="jobs", Attributes={"VisibilityTimeout": "45"})["QueueUrl"] == url
    status, code, message = error_of(sqs.create_queue, QueueName="jobs", Attributes={"VisibilityTimeout": "10"})
    assert (status, code) == (400, "QueueAlreadyExists")
    assert message == "A queue already exists with the same name and a different value for attribute VisibilityTimeout"
    sqs.create_queue(QueueName="jobs-2")
    sqs.create_queue(QueueName="other")
    assert sqs.get_queue_url(QueueName="jobs")["QueueUrl"] == url
    assert sorted(sqs.list_queues(QueueNamePrefix="jobs")["QueueUrls"]) == [url, url + "-2"]
    page = sqs.list_queues(MaxResults=2)
    assert len(page["QueueUrls"]) == 2 and "NextToken" in page

    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["QueueArn"] == "arn:aws:sqs:us-east-1:000000000000:jobs"
    assert (attrs["VisibilityTimeout"], attrs["MessageRetentionPeriod"], attrs["ApproximateNumberOfMessages"]) == \
        ("45", "345600", "0")
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"DelaySeconds": "5", "ReceiveMessageWaitTimeSeconds": "1"})
    got = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["DelaySeconds", "ReceiveMessageWaitTimeSeconds"])
    assert got["Attributes"] == {"DelaySeconds": "5", "ReceiveMessageWaitTimeSeconds": "1"}
    status, code, message = error_of(sqs.set_queue_attributes, QueueUrl=url, Attributes={"VisibilityTimeout": "99999"})
    assert (status, code, message) == (400, "InvalidAttributeValue", "Invalid value for the parameter VisibilityTimeout.")

    sqs.tag_queue(QueueUrl=url, Tags={"env": "test"})
    sqs.untag_queue(QueueUrl=url, TagKeys=["team"])
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"env": "test"}

    lamina.restart()
    sqs = lamina.client("sqs")
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["DelaySeconds"])["Attributes"] == {"DelaySeconds": "5"}
    sqs.delete_queue(QueueUrl=url)
    status, code, message = error_of(sqs.get_queue_url, QueueName="jobs")
    assert (status, code, message) == (400, "AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist.")
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.send_message(QueueUrl=url, MessageBody="x")


def test_messages_round_trip_with_correct_digests(sqs):
    # The default largest message is AWS's 1 MiB; this queue takes 256 KiB at most.
    url = sqs.create_queue(QueueName="m", Attributes={"MaximumMessageSize": "262144"})["QueueUrl"]
    assert sqs.get_queue_attributes(QueueUrl=sqs.create_queue(QueueName="d")["QueueUrl"],
                                    AttributeNames=["MaximumMessageSize"])["Attributes"] == {
        "MaximumMessageSize": "1048576"}
    attrs = {"kind": {"DataType": "String", "StringValue": "order"},
             "count": {"DataType": "Number", "StringValue": "3"},
             "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"}}
    sent = sqs.send_message(QueueUrl=url, MessageBody="héllo", MessageAttributes=attrs)
    assert sent["MD5OfMessageBody"] == hashlib.md5("héllo".encode()).hexdigest()
    assert sent["MD5OfMessageAttributes"] == md5_of_attributes(attrs)

    got = sqs.receive_message(QueueUrl=url, AttributeNames=["All"], MessageAttributeNames=["All"])["Messages"]
    [m] = got
    assert (m["MessageId"], m["Body"], m["MD5OfBody"]) == (sent["MessageId"], "héllo", sent["MD5OfMessageBody"])
    assert m["MessageAttributes"] == attrs and m["MD5OfMessageAttributes"] == md5_of_attributes(attrs)
    assert m["Attributes"]["ApproximateReceiveCount"] == "1"
    assert {"SenderId", "SentTimestamp", "ApproximateFirstReceiveTimestamp"} <= set(m["Attributes"])
    assert "Messages" not in sqs.receive_message(QueueUrl=url), "in flight: invisible"
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
    again = sqs.receive_message(QueueUrl=url, AttributeNames=["ApproximateReceiveCount"])["Messages"][0]
    assert again["Attributes"] == {"ApproximateReceiveCount": "2"}
    sqs.delete_message(QueueUrl=url, ReceiptHandle=again["ReceiptHandle"])
    sqs.delete_message(QueueUrl=url, ReceiptHandle=again["ReceiptHandle"])  # deleting twice is fine
    assert error_of(sqs.delete_message, QueueUrl=url, ReceiptHandle="garbage")[1] == "ReceiptHandleIsInvalid"

    batch = sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": "a", "MessageBody": "one"}, {"Id": "b", "MessageBody": "two"},
        {"Id": "c", "MessageBody": "x" * 300_000}])
    assert sorted(s["Id"] for s in batch["Successful"]) == ["a", "b"]
    assert [(f["Id"], f["Code"], f["SenderFault"]) for f in batch["Failed"]] == [("c", "InvalidParameterValue", True)]
    msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert sorted(x["Body"] for x in msgs) == ["one", "two"]
    deleted = sqs.delete_message_batch(QueueUrl=url, Entries=[
        {"Id": str(i), "ReceiptHandle": x["ReceiptHandle"]} for i, x in enumerate(msgs)])
    assert len(deleted["Successful"]) == 2
    # One batch, one transaction: a malformed handle fails alone, an older receipt of a
    # message received again succeeds without deleting it, the latest one deletes it.
    sqs.send_message(QueueUrl=url, MessageBody="kept")
    first = sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)["Messages"][0]
    latest = sqs.receive_message(QueueUrl=url)["Messages"][0]
    assert latest["MessageId"] == first["MessageId"] and latest["ReceiptHandle"] != first["ReceiptHandle"]
    mixed = sqs.delete_message_batch(QueueUrl=url, Entries=[
        {"Id": "bad", "ReceiptHandle": "garbage"}, {"Id": "stale", "ReceiptHandle": first["ReceiptHandle"]}])
    assert [s["Id"] for s in mixed["Successful"]] == ["stale"]
    assert [(f["Id"], f["Code"], f["SenderFault"]) for f in mixed["Failed"]] == [
        ("bad", "ReceiptHandleIsInvalid", True)]
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"])[
        "Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "1"
    mixed = sqs.delete_message_batch(QueueUrl=url, Entries=[
        {"Id": "latest", "ReceiptHandle": latest["ReceiptHandle"]}, {"Id": "bad", "ReceiptHandle": "garbage"}])
    assert [s["Id"] for s in mixed["Successful"]] == ["latest"]
    assert [f["Id"] for f in mixed["Failed"]] == ["bad"]
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"])[
        "Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "0"
    assert error_of(sqs.send_message_batch, QueueUrl=url, Entries=[
        {"Id": "same", "MessageBody": "1"}, {"Id": "same", "MessageBody": "2"}])[1] == \
        "AWS.SimpleQueueService.BatchEntryIdsNotDistinct"
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])[
        "Attributes"]["ApproximateNumberOfMessages"] == "0"


def test_long_polling_returns_as_soon_as_a_message_arrives(sqs):
    url = sqs.create_queue(QueueName="lp")["QueueUrl"]
    sender = threading.Timer(0.3, lambda: sqs.send_message(QueueUrl=url, MessageBody="late"))
    sender.start()
    started = time.monotonic()
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=10)["Messages"]
    assert got[0]["Body"] == "late"
    assert time.monotonic() - started < 5, "the receive returned on arrival, not at the end of its wait"
    sender.join()


def test_visibility_and_redrive_under_an_adjusted_clock(tmp_path):
    server = Lamina(tmp_path / "data", config="[async]\nadjustable_clock = true\n").start()
    try:
        sqs = server.client("sqs")
        dlq = sqs.create_queue(QueueName="dead")["QueueUrl"]
        policy = json.dumps({"deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:dead", "maxReceiveCount": 2})
        url = sqs.create_queue(QueueName="work", Attributes={"RedrivePolicy": policy, "VisibilityTimeout": "30"})[
            "QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="poison")
        for attempt in (1, 2):
            m = sqs.receive_message(QueueUrl=url, AttributeNames=["ApproximateReceiveCount"])["Messages"][0]
            assert m["Attributes"]["ApproximateReceiveCount"] == str(attempt)
            assert "Messages" not in sqs.receive_message(QueueUrl=url)
            status, _, _ = server.http("POST", "/_lamina/clock?advance_secs=31")
            assert status == 204
        # The third receive finds it received twice: it moves to the dead-letter queue.
        assert "Messages" not in sqs.receive_message(QueueUrl=url)
        moved = sqs.receive_message(QueueUrl=dlq)["Messages"]
        assert moved[0]["Body"] == "poison"
        assert sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"] == [url]
        status, code, _ = error_of(sqs.create_queue, QueueName="bad", Attributes={"RedrivePolicy": json.dumps(
            {"deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:nowhere", "maxReceiveCount": 2})})
        assert (status, code) == (400, "InvalidAttributeValue")
    finally:
        server.stop()


def test_fifo_order_groups_and_deduplication(sqs):
    assert error_of(sqs.create_queue, QueueName="plain.fifo")[1] == "InvalidParameterValue"
    url = sqs.create_queue(QueueName="orders.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    assert error_of(sqs.send_message, QueueUrl=url, MessageBody="x", MessageGroupId="g")[1] == "InvalidParameterValue"
    first = sqs.send_message(QueueUrl=url, MessageBody="a1", MessageGroupId="a", MessageDeduplicationId="1")
    again = sqs.send_message(QueueUrl=url, MessageBody="a1", MessageGroupId="a", MessageDeduplicationId="1")
    assert again["MessageId"] == first["MessageId"], "deduplicated"
    for body, group in [("a2", "a"), ("b1", "b"), ("a3", "a")]:
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=group, MessageDeduplicationId=body)
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
    # A batch hands out each group's messages together, in order (as AWS does).
    assert [m["Body"] for m in got] == ["a1", "a2", "a3", "b1"]
    seqs = [int(m["Attributes"]["SequenceNumber"]) for m in got[:3]]
    assert seqs == sorted(seqs) and len(got[0]["Attributes"]["SequenceNumber"]) == 20
    assert "Messages" not in sqs.receive_message(QueueUrl=url), "every group has messages in flight"
    sqs.send_message(QueueUrl=url, MessageBody="b2", MessageGroupId="b", MessageDeduplicationId="b2")
    sqs.send_message(QueueUrl=url, MessageBody="c1", MessageGroupId="c", MessageDeduplicationId="c1")
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]] == ["c1"], \
        "group b waits for its message in flight"

    content = sqs.create_queue(QueueName="cbd.fifo", Attributes={"FifoQueue": "true",
                                                                 "ContentBasedDeduplication": "true"})["QueueUrl"]
    one = sqs.send_message(QueueUrl=content, MessageBody="same", MessageGroupId="g")
    two = sqs.send_message(QueueUrl=content, MessageBody="same", MessageGroupId="g")
    assert one["MessageId"] == two["MessageId"]
    assert sqs.get_queue_attributes(QueueUrl=content, AttributeNames=["ApproximateNumberOfMessages"])[
        "Attributes"]["ApproximateNumberOfMessages"] == "1"


def test_sent_messages_survive_kill_9(tmp_path):
    server = Lamina(tmp_path / "data").start()
    try:
        sqs = server.client("sqs")
        url = sqs.create_queue(QueueName="durable")["QueueUrl"]
        for i in range(0, 50, 10):
            sqs.send_message_batch(QueueUrl=url, Entries=[
                {"Id": str(n), "MessageBody": f"m{n}"} for n in range(i, i + 10)])
        server.restart(hard=True)
        sqs = server.client("sqs")
        bodies = set()
        while True:
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not got:
                break
            bodies.update(m["Body"] for m in got)
            sqs.delete_message_batch(QueueUrl=url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)])
        assert bodies == {f"m{n}" for n in range(50)}
    finally:
        server.stop()


def test_async_failures_land_in_an_sqs_dead_letter_queue_and_destination(lam, sqs):
    dlq = sqs.create_queue(QueueName="fn-dlq")["QueueUrl"]
    dest = sqs.create_queue(QueueName="fn-failures")["QueueUrl"]
    create(lam, "fails", code=function_zip("app.py"),
           DeadLetterConfig={"TargetArn": "arn:aws:sqs:us-east-1:000000000000:fn-dlq"})
    lam.put_function_event_invoke_config(
        FunctionName="fails", MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:000000000000:fn-failures"}})
    r = lam.invoke(FunctionName="fails", InvocationType="Event",
                   Payload=json.dumps({"action": "error", "message": "no good"}))
    rid = r["ResponseMetadata"]["RequestId"]

    dead = sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=20, MessageAttributeNames=["All"])["Messages"][0]
    assert json.loads(dead["Body"]) == {"action": "error", "message": "no good"}
    assert {k: v["StringValue"] for k, v in dead["MessageAttributes"].items()} == \
        {"RequestID": rid, "ErrorCode": "200", "ErrorMessage": "no good"}
    record = json.loads(sqs.receive_message(QueueUrl=dest, WaitTimeSeconds=20)["Messages"][0]["Body"])
    assert record["requestContext"]["requestId"] == rid
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["responsePayload"]["errorMessage"] == "no good"


def test_the_aws_cli_drives_sqs(lamina):
    url = lamina.aws("sqs", "create-queue", "--queue-name", "cli")["QueueUrl"]
    lamina.aws("sqs", "send-message", "--queue-url", url, "--message-body", "from the cli")
    got = lamina.aws("sqs", "receive-message", "--queue-url", url)
    assert got["Messages"][0]["Body"] == "from the cli"


def test_a_waiting_receive_gets_a_delayed_message_when_it_becomes_visible(sqs):
    url = sqs.create_queue(QueueName="delayed")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=1)
    assert "Messages" not in sqs.receive_message(QueueUrl=url), "delayed: not yet visible"
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesDelayed"])
    assert attrs["Attributes"]["ApproximateNumberOfMessagesDelayed"] == "1"
    started = time.monotonic()
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=10)["Messages"]
    assert got[0]["Body"] == "later"
    assert time.monotonic() - started < 5


def query(lamina, params, path="/"):
    """An SQS query-protocol request, as older SDKs send it; returns (status, XML root)."""
    import urllib.parse
    import xml.etree.ElementTree as ET
    body = urllib.parse.urlencode(dict(params, Version="2012-11-05")).encode()
    status, _, raw = lamina.http("POST", path, body, {"content-type": "application/x-www-form-urlencoded",
                                                       "authorization": "AWS4-HMAC-SHA256 Credential=test/20261127/"
                                                                        "us-east-1/sqs/aws4_request, Signature=0"})
    return status, ET.fromstring(raw)


def test_the_query_protocol_of_older_sdks(lamina, sqs):
    ns = {"q": "http://queue.amazonaws.com/doc/2012-11-05/"}
    status, root = query(lamina, {"Action": "CreateQueue", "QueueName": "old", "Attribute.1.Name": "VisibilityTimeout",
                                  "Attribute.1.Value": "40"})
    assert status == 200
    url = root.find("q:CreateQueueResult/q:QueueUrl", ns).text
    assert url.endswith("/000000000000/old")
    path = "/" + "/".join(url.rsplit("/", 2)[-2:])
    status, root = query(lamina, {"Action": "SendMessage", "MessageBody": "from 2012", "MessageAttribute.1.Name": "k",
                                  "MessageAttribute.1.Value.DataType": "String",
                                  "MessageAttribute.1.Value.StringValue": "v"}, path)
    assert status == 200
    assert root.find("q:SendMessageResult/q:MD5OfMessageBody", ns).text == hashlib.md5(b"from 2012").hexdigest()
    # The JSON protocol sees the same queue and message.
    m = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"][0]
    assert (m["Body"], m["MessageAttributes"]["k"]["StringValue"]) == ("from 2012", "v")
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
    status, root = query(lamina, {"Action": "ReceiveMessage", "QueueUrl": url, "AttributeName.1": "All",
                                  "MessageAttributeName.1": "All"})
    message = root.find("q:ReceiveMessageResult/q:Message", ns)
    assert message.find("q:Body", ns).text == "from 2012"
    names = {a.find("q:Name", ns).text for a in message.findall("q:Attribute", ns)}
    assert "ApproximateReceiveCount" in names
    assert message.find("q:MessageAttribute/q:Value/q:StringValue", ns).text == "v"
    status, root = query(lamina, {"Action": "DeleteMessage", "QueueUrl": url,
                                  "ReceiptHandle": message.find("q:ReceiptHandle", ns).text})
    assert status == 200
    status, root = query(lamina, {"Action": "GetQueueAttributes", "QueueUrl": url, "AttributeName.1": "All"})
    attrs = {a.find("q:Name", ns).text: a.find("q:Value", ns).text
             for a in root.findall("q:GetQueueAttributesResult/q:Attribute", ns)}
    assert (attrs["VisibilityTimeout"], attrs["ApproximateNumberOfMessages"]) == ("40", "0")
    status, root = query(lamina, {"Action": "GetQueueUrl", "QueueName": "missing"})
    assert status == 400
    assert root.find("q:Error/q:Code", ns).text == "AWS.SimpleQueueService.NonExistentQueue"
    assert root.find("q:Error/q:Type", ns).text == "Sender"
    detail = root.find("q:Error/q:Detail", ns)
    assert detail is not None and not detail.text, "SQS's errors carry an empty Detail"


def test_an_oversized_query_request_gets_an_sqs_error(lamina, sqs):
    """A body over the limit is refused from its length, before it is read."""
    import socket
    import xml.etree.ElementTree as ET
    url = sqs.create_queue(QueueName="big")["QueueUrl"]
    with socket.create_connection(("127.0.0.1", lamina.port), timeout=30) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/x-www-form-urlencoded\r\n"
                     b"content-length: 41943040\r\n\r\nAction=SendMessage&MessageBody=xxxx")
        raw = b""
        while b"</ErrorResponse>" not in raw:
            chunk = sock.recv(65536)
            if not chunk:
                break
            raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400"), head
    ns = {"q": "http://queue.amazonaws.com/doc/2012-11-05/"}
    assert ET.fromstring(body).find("q:Error/q:Code", ns).text == "InvalidParameterValue"
    assert sqs.list_queues()["QueueUrls"] == [url], "the server is still up"


def test_fifo_sends_retried_across_kill_9_arrive_once_and_in_order(tmp_path):
    server = Lamina(tmp_path / "data").start()
    try:
        url = server.client("sqs").create_queue(
            QueueName="exactly.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
        up, sent, total = threading.Event(), [], 300
        up.set()

        def sender():
            sqs = server.client("sqs")
            for n in range(total):
                while True:  # a client retrying with the same deduplication id, as the SDKs do
                    try:
                        sqs.send_message(QueueUrl=url, MessageBody=f"m{n}", MessageGroupId="g",
                                         MessageDeduplicationId=f"d{n}")
                        break
                    except Exception:  # the server is down: wait until it is back
                        up.wait(timeout=60)
                sent.append(n)

        t = threading.Thread(target=sender)
        t.start()
        for kill_at in range(40, total, 50):
            while len(sent) < kill_at and t.is_alive():
                time.sleep(0.005)
            up.clear()
            server.restart(hard=True)
            up.set()
        t.join(timeout=120)
        assert len(sent) == total
        sqs = server.client("sqs")
        bodies = []
        while True:
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not got:
                break
            bodies += [m["Body"] for m in got]
            sqs.delete_message_batch(QueueUrl=url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)])
        assert bodies == [f"m{n}" for n in range(total)]
    finally:
        server.stop()


def test_fifo_messages_take_a_zero_delay_and_refuse_others(sqs):
    url = sqs.create_queue(QueueName="d.fifo", Attributes={"FifoQueue": "true",
                                                            "ContentBasedDeduplication": "true"})["QueueUrl"]
    assert sqs.send_message(QueueUrl=url, MessageBody="now", MessageGroupId="g", DelaySeconds=0)["MessageId"]
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=url, MessageBody="later", MessageGroupId="g", DelaySeconds=2)
    assert e.value.response["Error"] == {
        "Code": "InvalidParameterValue", "Type": "Sender", "QueryErrorCode": "InvalidParameterValueException",
        "Message": "Value 2 for parameter DelaySeconds is invalid. Reason: The request include parameter that is "
                   "not valid for this queue type."}


def test_sqs_answers_as_aws_does_for_fifo_groups_receipts_and_attributes(sqs):
    url = sqs.create_queue(QueueName="turns.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true",
                                                               "VisibilityTimeout": "30"})["QueueUrl"]
    for body, group in [("g1-m1", "1"), ("g1-m2", "1"), ("g2-m1", "2")]:
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=group)
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2)["Messages"]
    assert [m["Body"] for m in got] == ["g1-m1", "g1-m2"]
    # Ending one message's timeout hands it out again before the rest of its group, and
    # the group never received goes first.
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"], VisibilityTimeout=0)
    again = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=3)["Messages"]
    assert [m["Body"] for m in again] == ["g2-m1", "g1-m1"]
    # The first receipt of a message received again still names it.
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"], VisibilityTimeout=5)

    plain = sqs.create_queue(QueueName="plain-words")["QueueUrl"]
    assert error_of(sqs.set_queue_attributes, QueueUrl=plain, Attributes={"FifoQueue": "true"})[2] == (
        "Unknown Attribute FifoQueue.")
    assert error_of(sqs.send_message, QueueUrl=plain, MessageBody="m", MessageGroupId="a b")[2].endswith(
        "MessageGroupId can only include alphanumeric and punctuation characters. 1 to 128 in length.")
    assert error_of(sqs.send_message, QueueUrl=plain, MessageBody="m",
                    MessageAttributes={"a": {"DataType": "String", "StringValue": ""}})[1] == "InvalidParameterValue"
    sqs.send_message(QueueUrl="plain-words", MessageBody="by name")
    sqs.set_queue_attributes(QueueUrl=plain, Attributes={"Policy": ""})
    assert "Policy" not in sqs.get_queue_attributes(QueueUrl=plain, AttributeNames=["All"])["Attributes"]
    m = sqs.receive_message(QueueUrl=plain)["Messages"][0]
    sqs.delete_message(QueueUrl=plain, ReceiptHandle=m["ReceiptHandle"])
    assert error_of(sqs.change_message_visibility, QueueUrl=plain, ReceiptHandle=m["ReceiptHandle"],
                    VisibilityTimeout=10)[1] == "InvalidParameterValue"


def test_a_long_poll_gets_a_fifo_groups_next_message_once_the_one_in_flight_is_deleted(sqs):
    url = sqs.create_queue(QueueName="freed.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true",
                                                               "VisibilityTimeout": "60"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="m1", MessageGroupId="g")
    first = sqs.receive_message(QueueUrl=url)["Messages"][0]
    sqs.send_message(QueueUrl=url, MessageBody="m2", MessageGroupId="g")
    got = {}

    def poll():
        got["reply"] = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20)

    waiter = threading.Thread(target=poll)
    waiter.start()
    # The group is in flight: the poll waits. (Its answer is checked below; an early
    # answer would carry nothing or the wrong message.)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
    started = time.monotonic()
    waiter.join(timeout=25)
    assert [m["Body"] for m in got["reply"].get("Messages", [])] == ["m2"]
    # Freed by the delete, not by the wait running out.
    assert time.monotonic() - started < 15


def test_kms_keys_end_sqs_managed_encryption_and_batch_entries_say_cannot_be_validated(sqs):
    url = sqs.create_queue(QueueName="enc", Attributes={"MaximumMessageSize": "1024"})["QueueUrl"]
    shown = lambda: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]  # noqa: E731
    assert shown()["SqsManagedSseEnabled"] == "true"
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"KmsMasterKeyId": "testKeyId"})
    assert (shown()["SqsManagedSseEnabled"], shown()["KmsMasterKeyId"]) == ("false", "testKeyId")
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"KmsMasterKeyId": ""})
    assert shown()["SqsManagedSseEnabled"] == "false" and "KmsMasterKeyId" not in shown()

    r = sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "big", "MessageBody": "x" * 1025},
                                                      {"Id": "ok", "MessageBody": "x"}])
    assert [e["Id"] for e in r["Successful"]] == ["ok"]
    assert r["Failed"][0]["Message"] == (
        "One or more parameters cannot be validated. Reason: Message must be shorter than 1024 bytes.")
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=url, MessageBody="x" * 1025)
    assert e.value.response["Error"]["Message"] == (
        "One or more parameters are invalid. Reason: Message must be shorter than 1024 bytes.")
