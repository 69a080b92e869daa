"""S3 lifecycle expiration, on a server whose clock the test moves on: current versions
expire at the midnight after their days (x-amz-expiration says when, and by which rule),
versioned buckets get delete markers and lose noncurrent versions, unfinished uploads are
aborted, filters by prefix and tag hold, and each expiry is an event."""
import json
import time

import pytest
from botocore.exceptions import ClientError

from conftest import Lamina

DAY = 24 * 3600


@pytest.fixture
def server(tmp_path):
    s = Lamina(tmp_path / "data", config="[async]\nadjustable_clock = true\n").start()
    yield s
    s.stop()


def advance(server, days):
    status, _, _ = server.http("POST", f"/_lamina/clock?advance_secs={days * DAY}")
    assert status == 204


def eventually(predicate, what):
    """Polls a condition the sweep (set off by the clock's move) makes true, for 30 s."""
    for _ in range(300):
        if predicate():
            return
        time.sleep(0.1)  # polling a condition, bounded by the loop
    pytest.fail(f"timed out waiting for {what}")


def keys(s3, bucket):
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


def test_objects_expire_by_prefix_and_tag_with_events(server):
    s3, sqs = server.client("s3"), server.client("sqs")
    s3.create_bucket(Bucket="aging")
    url = sqs.create_queue(QueueName="expiry-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.put_bucket_notification_configuration(Bucket="aging", NotificationConfiguration={
        "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:LifecycleExpiration:*"]}]})
    rules = [
        {"ID": "tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 1}},
        {"ID": "tagged", "Status": "Enabled", "Filter": {"Tag": {"Key": "ttl", "Value": "short"}},
         "Expiration": {"Days": 3}},
        {"ID": "uploads", "Status": "Enabled", "Filter": {}, "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2}},
    ]
    s3.put_bucket_lifecycle_configuration(Bucket="aging", LifecycleConfiguration={"Rules": rules})
    put = s3.put_object(Bucket="aging", Key="tmp/scratch", Body=b"x")
    assert put["Expiration"].endswith('rule-id="tmp"') and put["Expiration"].startswith('expiry-date="')
    assert s3.head_object(Bucket="aging", Key="tmp/scratch")["Expiration"] == put["Expiration"]
    s3.put_object(Bucket="aging", Key="keep/forever", Body=b"x")
    assert "Expiration" not in s3.head_object(Bucket="aging", Key="keep/forever")
    s3.put_object(Bucket="aging", Key="keep/tagged", Body=b"x", Tagging="ttl=short")
    upload = s3.create_multipart_upload(Bucket="aging", Key="never-finished")["UploadId"]

    advance(server, 2)
    eventually(lambda: keys(s3, "aging") == ["keep/forever", "keep/tagged"], "tmp/ to expire")
    assert s3.list_multipart_uploads(Bucket="aging").get("Uploads", []) == []
    with pytest.raises(ClientError):
        s3.list_parts(Bucket="aging", Key="never-finished", UploadId=upload)
    advance(server, 2)
    eventually(lambda: keys(s3, "aging") == ["keep/forever"], "the tagged object to expire")

    events = []
    for _ in range(30):
        for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []):
            body = json.loads(m["Body"])
            events.extend(r["eventName"] + " " + r["s3"]["object"]["key"] for r in body.get("Records", []))
        if len(events) >= 2:
            break
    assert events == ["LifecycleExpiration:Delete tmp/scratch", "LifecycleExpiration:Delete keep/tagged"]


def test_versioned_buckets_get_markers_and_lose_old_versions(server):
    s3 = server.client("s3")
    s3.create_bucket(Bucket="history")
    s3.put_bucket_versioning(Bucket="history", VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_lifecycle_configuration(Bucket="history", LifecycleConfiguration={"Rules": [
        {"ID": "all", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 5},
         "NoncurrentVersionExpiration": {"NoncurrentDays": 1}}]})
    v1 = s3.put_object(Bucket="history", Key="doc", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket="history", Key="doc", Body=b"two")["VersionId"]
    # Only the current version, read without a version id, says when it expires.
    assert "Expiration" not in s3.head_object(Bucket="history", Key="doc", VersionId=v1)
    assert "Expiration" not in s3.head_object(Bucket="history", Key="doc", VersionId=v2)
    assert 'rule-id="all"' in s3.head_object(Bucket="history", Key="doc")["Expiration"]

    def versions():
        listed = s3.list_object_versions(Bucket="history")
        return [v["VersionId"] for v in listed.get("Versions", [])], len(listed.get("DeleteMarkers", []))

    advance(server, 2)
    eventually(lambda: versions() == ([v2], 0), "the noncurrent version to go")
    advance(server, 5)
    eventually(lambda: versions()[1] == 1, "a delete marker")
    assert keys(s3, "history") == []
    assert s3.get_object(Bucket="history", Key="doc", VersionId=v2)["Body"].read() == b"two"
