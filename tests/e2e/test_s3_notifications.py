"""S3's event notifications, as a user configures them with boto3 and the aws CLI: to a
queue (with the test event S3 sends when the configuration is saved), to a topic, and to
a function as an async invoke; prefix and suffix filters; AWS's errors for destinations
that do not exist or do not let S3 in; and events that survive a kill -9."""
import json

import pytest
from botocore.exceptions import ClientError

from conftest import create, function_zip

ACCOUNT = "000000000000"
REGION = "us-east-1"


@pytest.fixture
def s3(lamina):
    return lamina.client("s3")


@pytest.fixture
def sqs(lamina):
    return lamina.client("sqs")


def error_of(call, **kw):
    with pytest.raises(ClientError) as e:
        call(**kw)
    return e.value.response["Error"]


def queue(sqs, name):
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def received(sqs, url, n, until=None):
    """The next n messages' bodies (or, with `until`, those until it holds of them), parsed,
    in the order they were sent; long polls, for at most 30 s."""
    bodies = []
    done = until or (lambda got: len(got) >= n)
    for _ in range(30):
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        for m in got:
            bodies.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        if done(bodies):
            return bodies
    pytest.fail(f"timed out waiting for messages; got {bodies}")


def test_a_queue_gets_the_test_event_then_each_write_and_delete(lamina, s3, sqs):
    s3.create_bucket(Bucket="uploads")
    url, arn = queue(sqs, "uploads-events")
    s3.put_bucket_notification_configuration(Bucket="uploads", NotificationConfiguration={
        "QueueConfigurations": [{"Id": "all", "QueueArn": arn, "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]}],
    })
    [test_event] = received(sqs, url, 1)
    assert (test_event["Service"], test_event["Event"], test_event["Bucket"]) == ("Amazon S3", "s3:TestEvent", "uploads")
    s3.put_object(Bucket="uploads", Key="dir/my report@1.txt", Body=b"hello s3")
    s3.copy_object(Bucket="uploads", Key="copy.txt", CopySource={"Bucket": "uploads", "Key": "dir/my report@1.txt"})
    upload = s3.create_multipart_upload(Bucket="uploads", Key="big")["UploadId"]
    etag = s3.upload_part(Bucket="uploads", Key="big", UploadId=upload, PartNumber=1, Body=b"x" * 10)["ETag"]
    s3.complete_multipart_upload(Bucket="uploads", Key="big", UploadId=upload,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    s3.delete_objects(Bucket="uploads", Delete={"Objects": [{"Key": "copy.txt"}, {"Key": "big"}]})
    records = [b["Records"][0] for b in received(sqs, url, 5)]
    assert [(r["eventName"], r["s3"]["object"]["key"]) for r in records] == [
        ("ObjectCreated:Put", "dir/my+report%401.txt"),
        ("ObjectCreated:Copy", "copy.txt"),
        ("ObjectCreated:CompleteMultipartUpload", "big"),
        ("ObjectRemoved:Delete", "copy.txt"),
        ("ObjectRemoved:Delete", "big"),
    ]
    put = records[0]
    assert (put["eventVersion"], put["eventSource"], put["awsRegion"]) == ("2.1", "aws:s3", REGION)
    assert put["s3"]["bucket"]["name"] == "uploads"
    assert put["s3"]["bucket"]["arn"] == "arn:aws:s3:::uploads"
    assert put["s3"]["configurationId"] == "all"
    assert (put["s3"]["object"]["size"], put["s3"]["object"]["eTag"]) == (8, "b60d991fa6dbd33863c7cec70d15dbac")
    assert put["requestParameters"]["sourceIPAddress"] == "127.0.0.1"
    assert records[2]["s3"]["object"]["eTag"].endswith("-1")
    assert records[0]["s3"]["object"]["sequencer"] < records[1]["s3"]["object"]["sequencer"]
    assert "size" not in records[3]["s3"]["object"]

    got = s3.get_bucket_notification_configuration(Bucket="uploads")
    assert got["QueueConfigurations"] == [
        {"Id": "all", "QueueArn": arn, "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]}]
    # An empty configuration turns notifications off.
    s3.put_bucket_notification_configuration(Bucket="uploads", NotificationConfiguration={})
    assert "QueueConfigurations" not in s3.get_bucket_notification_configuration(Bucket="uploads")
    s3.put_object(Bucket="uploads", Key="quiet", Body=b"")
    assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)


def test_filters_versions_and_tagging_events(lamina, s3, sqs):
    s3.create_bucket(Bucket="filtered")
    s3.put_bucket_versioning(Bucket="filtered", VersioningConfiguration={"Status": "Enabled"})
    url, arn = queue(sqs, "filtered-events")
    s3.put_bucket_notification_configuration(Bucket="filtered", NotificationConfiguration={
        "QueueConfigurations": [{
            "QueueArn": arn,
            "Events": ["s3:ObjectCreated:Put", "s3:ObjectRemoved:DeleteMarkerCreated", "s3:ObjectTagging:*"],
            "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "in/"}, {"Name": "Suffix", "Value": ".csv"}]}},
        }],
    })
    received(sqs, url, 1)
    config = s3.get_bucket_notification_configuration(Bucket="filtered")["QueueConfigurations"][0]
    assert config["Filter"]["Key"]["FilterRules"] == [{"Name": "Prefix", "Value": "in/"},
                                                      {"Name": "Suffix", "Value": ".csv"}]
    assert config["Id"]
    s3.put_object(Bucket="filtered", Key="out/a.csv", Body=b"1")
    s3.put_object(Bucket="filtered", Key="in/a.txt", Body=b"2")
    version = s3.put_object(Bucket="filtered", Key="in/a.csv", Body=b"3")["VersionId"]
    s3.put_object_tagging(Bucket="filtered", Key="in/a.csv", Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    marker = s3.delete_object(Bucket="filtered", Key="in/a.csv")["VersionId"]
    put, tagged, deleted = [b["Records"][0] for b in received(sqs, url, 3)]
    assert (put["eventName"], put["s3"]["object"]["key"], put["s3"]["object"]["versionId"]) == \
        ("ObjectCreated:Put", "in/a.csv", version)
    assert (tagged["eventName"], tagged["eventVersion"], tagged["s3"]["object"]["versionId"]) == \
        ("ObjectTagging:Put", "2.3", version)
    assert "sequencer" not in tagged["s3"]["object"]
    assert (deleted["eventName"], deleted["s3"]["object"]["versionId"]) == ("ObjectRemoved:DeleteMarkerCreated", marker)


def test_a_topic_and_a_function_get_their_events(lamina, lam, s3, sqs, collector):
    s3.create_bucket(Bucket="fanout")
    sns = lamina.client("sns")
    topic = sns.create_topic(Name="bucket-events")["TopicArn"]
    url, arn = queue(sqs, "from-topic")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    create(lam, "on-upload", code=function_zip("reporter.py"), handler="reporter.handler",
           Environment={"Variables": {"REPORT_URL": collector.url}})
    fn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:on-upload"
    s3.put_bucket_notification_configuration(Bucket="fanout", NotificationConfiguration={
        "TopicConfigurations": [{"TopicArn": topic, "Events": ["s3:ObjectCreated:*"]}],
        "LambdaFunctionConfigurations": [{"Id": "to-fn", "LambdaFunctionArn": fn, "Events": ["s3:ObjectCreated:Put"]}],
    })
    s3.put_object(Bucket="fanout", Key="photo.jpg", Body=b"jpeg")
    event = collector.get()["event"]
    [record] = event["Records"]
    assert (record["eventName"], record["s3"]["configurationId"], record["s3"]["object"]["key"]) == \
        ("ObjectCreated:Put", "to-fn", "photo.jpg")
    test_note, note = received(sqs, url, 2)
    assert (test_note["Subject"], json.loads(test_note["Message"])["Event"]) == ("Amazon S3 Notification", "s3:TestEvent")
    assert note["Subject"] == "Amazon S3 Notification"
    assert json.loads(note["Message"])["Records"][0]["s3"]["object"]["key"] == "photo.jpg"


def test_destinations_are_validated_as_aws_validates_them(lamina, s3, sqs):
    s3.create_bucket(Bucket="strict")
    put = s3.put_bucket_notification_configuration
    bad = error_of(put, Bucket="strict", NotificationConfiguration={
        "QueueConfigurations": [{"QueueArn": "not-an-arn", "Events": ["s3:ObjectCreated:*"]}]})
    assert (bad["Code"], bad["Message"], bad["ArgumentName"], bad["ArgumentValue"]) == \
        ("InvalidArgument", "The ARN could not be parsed", "Queue", "not-an-arn")
    missing = f"arn:aws:sqs:{REGION}:{ACCOUNT}:no-such-queue"
    fn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:no-such-function"
    bad = error_of(put, Bucket="strict", NotificationConfiguration={
        "QueueConfigurations": [{"QueueArn": missing, "Events": ["s3:ObjectCreated:*"]}],
        "LambdaFunctionConfigurations": [{"LambdaFunctionArn": fn, "Events": ["s3:ObjectCreated:*"]}]})
    assert (bad["Code"], bad["Message"]) == ("InvalidArgument", "Unable to validate the following destination configurations")
    assert (bad["ArgumentName1"], bad["ArgumentValue1"]) == (missing, "The destination queue does not exist")
    assert (bad["ArgumentName2"], bad["ArgumentValue2"]) == (f"{fn}, null", f"Not authorized to invoke function [{fn}]")
    bad = error_of(put, Bucket="strict", NotificationConfiguration={"QueueConfigurations": [{
        "QueueArn": missing, "Events": ["s3:ObjectCreated:*"],
        "Filter": {"Key": {"FilterRules": [{"Name": "middle", "Value": "x"}]}}}]})
    assert (bad["Message"], bad["ArgumentName"]) == ("filter rule name must be either prefix or suffix", "FilterRule.Name")
    # Another account's queue lets S3 in only by its policy.
    other = lamina.client("sqs", key="222222222222")
    other_url = other.create_queue(QueueName="theirs")["QueueUrl"]
    theirs = "arn:aws:sqs:us-east-1:222222222222:theirs"
    bad = error_of(put, Bucket="strict", NotificationConfiguration={
        "QueueConfigurations": [{"QueueArn": theirs, "Events": ["s3:ObjectCreated:*"]}]})
    assert bad["ArgumentValue1"] == \
        "Permissions on the destination queue do not allow S3 to publish notifications from this bucket"
    policy = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sqs:SendMessage", "Resource": theirs,
        "Condition": {"ArnEquals": {"aws:SourceArn": "arn:aws:s3:::strict"}}}]}
    other.set_queue_attributes(QueueUrl=other_url, Attributes={"Policy": json.dumps(policy)})
    put(Bucket="strict", NotificationConfiguration={
        "QueueConfigurations": [{"QueueArn": theirs, "Events": ["s3:ObjectCreated:*"]}]})
    s3.put_object(Bucket="strict", Key="shared", Body=b"x")
    assert received(other, other_url, 2)[1]["Records"][0]["s3"]["object"]["key"] == "shared"
    # Skipping validation stores what AWS would store.
    put(Bucket="strict", SkipDestinationValidation=True, NotificationConfiguration={
        "QueueConfigurations": [{"Id": "later", "QueueArn": missing, "Events": ["s3:ObjectCreated:*"]}]})
    assert s3.get_bucket_notification_configuration(Bucket="strict")["QueueConfigurations"][0]["Id"] == "later"
    assert error_of(put, Bucket="no-such-bucket", NotificationConfiguration={})["Code"] == "NoSuchBucket"


def test_the_cli_configures_notifications_and_events_survive_kill_9(lamina, sqs):
    assert lamina.aws("s3", "mb", "s3://durable-events", expect_ok=False).returncode == 0
    url, arn = queue(sqs, "durable-events")
    config = {"QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]}
    lamina.aws("s3api", "put-bucket-notification-configuration", "--bucket", "durable-events",
               "--notification-configuration", json.dumps(config))
    shown = lamina.aws("s3api", "get-bucket-notification-configuration", "--bucket", "durable-events")
    assert shown["QueueConfigurations"][0]["QueueArn"] == arn
    received(sqs, url, 1)
    s3 = lamina.client("s3")
    for i in range(20):
        s3.put_object(Bucket="durable-events", Key=f"k{i}", Body=b"x")
    lamina.kill9()
    lamina.start()
    sqs = lamina.client("sqs")
    # Delivery is at least once: an event sent just before the kill may come again.
    wanted = {f"k{i}" for i in range(20)}
    keys = lambda bodies: {b["Records"][0]["s3"]["object"]["key"] for b in bodies}  # noqa: E731
    assert keys(received(sqs, url, 20, until=lambda got: keys(got) >= wanted)) == wanted
    s3 = lamina.client("s3")
    s3.put_object(Bucket="durable-events", Key="after", Body=b"x")
    assert received(sqs, url, 1)[0]["Records"][0]["s3"]["object"]["key"] == "after"


def test_acl_events_and_the_trace_header_reach_the_queue(lamina, s3, sqs):
    s3.create_bucket(Bucket="traced")
    s3.put_bucket_ownership_controls(Bucket="traced", OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    url, arn = queue(sqs, "traced-events")
    s3.put_bucket_notification_configuration(Bucket="traced", NotificationConfiguration={
        "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*", "s3:ObjectAcl:Put"]}]})
    received(sqs, url, 1)
    trace = "Root=1-3152b799-8954dae64eda91bc9a23a7e8;Parent=7fa8c0f79203be72;Sampled=1"

    def add_trace(request, **kwargs):
        request.headers["X-Amzn-Trace-Id"] = trace

    s3.meta.events.register("before-send.s3.PutObject", add_trace)
    s3.put_object(Bucket="traced", Key="k", Body=b"x")
    s3.put_object_acl(Bucket="traced", Key="k", ACL="private")
    got = []
    for _ in range(30):
        got += sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                   AttributeNames=["AWSTraceHeader"]).get("Messages", [])
        if len(got) >= 2:
            break
    put, acl = (json.loads(m["Body"])["Records"][0] for m in got)
    assert got[0]["Attributes"]["AWSTraceHeader"] == trace
    assert (put["eventName"], acl["eventName"], acl["eventVersion"]) == ("ObjectCreated:Put", "ObjectAcl:Put", "2.3")
