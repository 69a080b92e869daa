"""SNS over its query protocol: topics, subscriptions, filter policies, and fan-out to
SQS, Lambda and HTTP; SNS topics as Lambda destinations."""
import base64
import hashlib
import json
import urllib.request

import pytest
from botocore.exceptions import ClientError

from conftest import create, function_zip
from test_logs import wait_for

ACCOUNT = "000000000000"


def error_of(call, **kw):
    with pytest.raises(ClientError) as e:
        call(**kw)
    r = e.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"], r["Error"]["Message"]


def queue(sqs, name):
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    return url, f"arn:aws:sqs:us-east-1:{ACCOUNT}:{name}"


def test_topic_life_cycle(lamina):
    sns = lamina.client("sns")
    arn = sns.create_topic(Name="orders", Attributes={"DisplayName": "Orders"}, Tags=[{"Key": "k", "Value": "v"}])[
        "TopicArn"]
    assert arn == f"arn:aws:sns:us-east-1:{ACCOUNT}:orders"
    assert sns.create_topic(Name="orders", Attributes={"DisplayName": "Orders"})["TopicArn"] == arn
    assert [t["TopicArn"] for t in sns.list_topics()["Topics"]] == [arn]
    attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert (attrs["DisplayName"], attrs["Owner"], attrs["SubscriptionsConfirmed"]) == ("Orders", ACCOUNT, "0")
    sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName", AttributeValue="New")
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["DisplayName"] == "New"
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "k", "Value": "v"}]
    sns.untag_resource(ResourceArn=arn, TagKeys=["k"])
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == []
    lamina.restart()
    sns = lamina.client("sns")
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["DisplayName"] == "New"
    sns.delete_topic(TopicArn=arn)
    assert error_of(sns.get_topic_attributes, TopicArn=arn) == (404, "NotFound", "Topic does not exist")
    assert error_of(sns.publish, TopicArn=arn, Message="x")[:2] == (404, "NotFound")
    assert error_of(sns.create_topic, Name="bad name")[:2] == (400, "InvalidParameter")


def test_fan_out_to_sqs_with_raw_delivery_and_filters(lamina):
    sns, sqs = lamina.client("sns"), lamina.client("sqs")
    topic = sns.create_topic(Name="events")["TopicArn"]
    wrapped_url, wrapped = queue(sqs, "wrapped")
    raw_url, raw = queue(sqs, "raw")
    red_url, red = queue(sqs, "red")
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=wrapped)["SubscriptionArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=raw, Attributes={"RawMessageDelivery": "true"})
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=red,
                  Attributes={"FilterPolicy": json.dumps({"colour": ["red"], "size": [{"numeric": [">", 2]}]})})
    assert sub.startswith(topic + ":")
    assert sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]["Endpoint"] == wrapped
    assert len(sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]) == 3

    attrs = {"colour": {"DataType": "String", "StringValue": "blue"}, "size": {"DataType": "Number", "StringValue": "3"}}
    published = sns.publish(TopicArn=topic, Message="hello", Subject="greeting", MessageAttributes=attrs)
    note = json.loads(sqs.receive_message(QueueUrl=wrapped_url)["Messages"][0]["Body"])
    assert (note["Type"], note["MessageId"], note["TopicArn"]) == ("Notification", published["MessageId"], topic)
    assert (note["Message"], note["Subject"]) == ("hello", "greeting")
    assert note["MessageAttributes"]["colour"] == {"Type": "String", "Value": "blue"}
    assert {"Timestamp", "SignatureVersion", "Signature", "SigningCertURL", "UnsubscribeURL"} <= set(note)
    plain = sqs.receive_message(QueueUrl=raw_url, MessageAttributeNames=["All"])["Messages"][0]
    assert plain["Body"] == "hello"
    assert plain["MessageAttributes"]["colour"] == {"DataType": "String", "StringValue": "blue"}
    assert "Messages" not in sqs.receive_message(QueueUrl=red_url), "blue is filtered out"

    attrs["colour"]["StringValue"] = "red"
    sns.publish(TopicArn=topic, Message="a red one", MessageAttributes=attrs)
    assert json.loads(sqs.receive_message(QueueUrl=red_url)["Messages"][0]["Body"])["Message"] == "a red one"

    batch = sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[
        {"Id": "1", "Message": "one"}, {"Id": "2", "Message": "two"}])
    assert sorted(s["Id"] for s in batch["Successful"]) == ["1", "2"] and batch["Failed"] == []
    bodies = {m["Body"] for m in sqs.receive_message(QueueUrl=raw_url, MaxNumberOfMessages=10)["Messages"]}
    assert bodies == {"a red one", "one", "two"}

    sns.unsubscribe(SubscriptionArn=sub)
    sqs.purge_queue(QueueUrl=wrapped_url)
    sns.publish(TopicArn=topic, Message="after")
    assert "Messages" not in sqs.receive_message(QueueUrl=wrapped_url)
    assert error_of(sns.subscribe, TopicArn=topic, Protocol="sms", Endpoint="NAA+1555")[:2] == (400, "InvalidParameter")
    assert error_of(sns.set_subscription_attributes, SubscriptionArn=sub + "x", AttributeName="RawMessageDelivery",
                    AttributeValue="true")[:2] == (404, "NotFound")


def test_lambda_subscriptions_get_awss_sns_event(lamina, lam, collector):
    sns = lamina.client("sns")
    topic = sns.create_topic(Name="to-lambda")["TopicArn"]
    create(lam, "sub", code=function_zip("reporter.py"), handler="reporter.handler",
           Environment={"Variables": {"REPORT_URL": collector.url}})
    fn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:sub"
    sub = sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=fn)["SubscriptionArn"]
    mid = sns.publish(TopicArn=topic, Message="to a function", Subject="s",
                      MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}})["MessageId"]
    record = collector.get()["event"]["Records"][0]
    assert (record["EventSource"], record["EventVersion"], record["EventSubscriptionArn"]) == ("aws:sns", "1.0", sub)
    assert (record["Sns"]["Type"], record["Sns"]["MessageId"], record["Sns"]["TopicArn"]) == ("Notification", mid, topic)
    assert (record["Sns"]["Message"], record["Sns"]["Subject"]) == ("to a function", "s")
    assert record["Sns"]["MessageAttributes"] == {"k": {"Type": "String", "Value": "v"}}
    assert {"SigningCertUrl", "UnsubscribeUrl", "Signature", "Timestamp"} <= set(record["Sns"])

    # Delivery status logging: with a success feedback role and a sample rate of 100, each
    # delivery to the function is logged to CloudWatch Logs as AWS logs it.
    logs = lamina.client("logs")
    group = f"sns/us-east-1/{ACCOUNT}/to-lambda"
    role = f"arn:aws:iam::{ACCOUNT}:role/SNSSuccessFeedback"
    sns.set_topic_attributes(TopicArn=topic, AttributeName="LambdaSuccessFeedbackRoleArn", AttributeValue=role)
    sns.set_topic_attributes(TopicArn=topic, AttributeName="LambdaSuccessFeedbackSampleRate", AttributeValue="100")
    logged = sns.publish(TopicArn=topic, Message="logged")["MessageId"]
    collector.get()
    [stream] = wait_for(lambda: logs.describe_log_streams(logGroupName=group)["logStreams"]
                        if logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"] else [], "the log stream")
    [event] = logs.get_log_events(logGroupName=group, logStreamName=stream["logStreamName"])["events"]
    line = json.loads(event["message"])
    assert line["status"] == "SUCCESS"
    assert (line["notification"]["messageId"], line["notification"]["topicArn"]) == (logged, topic)
    assert line["notification"]["messageMD5Sum"] == hashlib.md5(b"logged").hexdigest()
    assert (line["delivery"]["destination"], line["delivery"]["statusCode"]) == (fn, 202)
    assert set(json.loads(line["delivery"]["providerResponse"])) == {"lambdaRequestId"}


def test_http_subscriptions_confirm_then_receive(lamina, collector):
    sns = lamina.client("sns")
    topic = sns.create_topic(Name="to-http")["TopicArn"]
    assert sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=collector.url)["SubscriptionArn"] == \
        "pending confirmation"
    confirmation, headers = collector.get_with_headers()
    assert confirmation["Type"] == "SubscriptionConfirmation"
    assert headers["x-amz-sns-message-id"] == confirmation["MessageId"]
    assert (headers["user-agent"], headers["accept-encoding"]) == ("Amazon Simple Notification Service Agent",
                                                                   "gzip,deflate")
    with urllib.request.urlopen(confirmation["SubscribeURL"], timeout=10) as r:
        assert b"<SubscriptionArn>" in r.read()
    [sub] = sns.list_subscriptions()["Subscriptions"]
    assert sub["SubscriptionArn"].startswith(topic)
    sns.publish(TopicArn=topic, Message="over http")
    note = collector.get()
    assert (note["Type"], note["Message"], note["TopicArn"]) == ("Notification", "over http", topic)
    # Unsubscribing by the notification's UnsubscribeURL sends an UnsubscribeConfirmation,
    # whose SubscribeURL restores the subscription.
    with urllib.request.urlopen(note["UnsubscribeURL"], timeout=10) as r:
        assert b"UnsubscribeResponse" in r.read()
    assert sns.list_subscriptions()["Subscriptions"] == []
    gone = collector.get()
    assert (gone["Type"], gone["TopicArn"]) == ("UnsubscribeConfirmation", topic)
    assert gone["Message"].startswith(f"You have chosen to deactivate subscription {sub['SubscriptionArn']}.")
    with urllib.request.urlopen(gone["SubscribeURL"], timeout=10) as r:
        assert sub["SubscriptionArn"].encode() in r.read()
    assert [s["SubscriptionArn"] for s in sns.list_subscriptions()["Subscriptions"]] == [sub["SubscriptionArn"]]
    sns.publish(TopicArn=topic, Message="again")
    assert collector.get()["Message"] == "again"
    # A `*.localhost` endpoint (a function URL's form) is the loopback, as RFC 6761 says.
    named = collector.url.replace("127.0.0.1", "sink.lambda-url.us-east-1.localhost")
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=named)
    assert collector.get()["Type"] == "SubscriptionConfirmation"


def test_sns_as_a_lambda_destination(lamina, lam):
    sns, sqs = lamina.client("sns"), lamina.client("sqs")
    topic = sns.create_topic(Name="failures")["TopicArn"]
    url, arn = queue(sqs, "failure-feed")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    create(lam, "fails", code=function_zip("app.py"))
    lam.put_function_event_invoke_config(FunctionName="fails", MaximumRetryAttempts=0,
                                         DestinationConfig={"OnFailure": {"Destination": topic}})
    r = lam.invoke(FunctionName="fails", InvocationType="Event", Payload=json.dumps({"action": "error"}))
    record = json.loads(sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20)["Messages"][0]["Body"])
    assert record["requestContext"]["requestId"] == r["ResponseMetadata"]["RequestId"]
    assert record["requestContext"]["condition"] == "RetriesExhausted"


def test_the_aws_cli_drives_sns(lamina):
    arn = lamina.aws("sns", "create-topic", "--name", "cli")["TopicArn"]
    out = lamina.aws("sns", "publish", "--topic-arn", arn, "--message", "from the cli")
    assert out["MessageId"]


def test_a_dead_letter_topic_gets_the_failed_event(lamina, lam):
    sns, sqs = lamina.client("sns"), lamina.client("sqs")
    topic = sns.create_topic(Name="dead-letters")["TopicArn"]
    url, arn = queue(sqs, "dead-letter-feed")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    create(lam, "fails-dlq", code=function_zip("app.py"), DeadLetterConfig={"TargetArn": topic})
    lam.put_function_event_invoke_config(FunctionName="fails-dlq", MaximumRetryAttempts=0)
    r = lam.invoke(FunctionName="fails-dlq", InvocationType="Event",
                   Payload=json.dumps({"action": "error", "message": "bad"}))
    m = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20, MessageAttributeNames=["All"])["Messages"][0]
    assert json.loads(m["Body"]) == {"action": "error", "message": "bad"}
    assert {k: v["StringValue"] for k, v in m["MessageAttributes"].items()} == \
        {"RequestID": r["ResponseMetadata"]["RequestId"], "ErrorCode": "200", "ErrorMessage": "bad"}


def test_https_subscriptions_verify_the_endpoint_certificate(tmp_path):
    """An HTTPS endpoint with a certificate from a CA Lamina trusts (SSL_CERT_FILE) gets
    its confirmation and notifications over TLS."""
    import subprocess
    from conftest import Collector, Lamina

    def openssl(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=tmp_path)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "1",
            "-subj", "/CN=Lamina Test CA")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj",
            "/CN=127.0.0.1")
    (tmp_path / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out",
            "server.pem", "-days", "1", "-extfile", "san.ext")
    endpoint = Collector(tls=(str(tmp_path / "server.pem"), str(tmp_path / "server.key")))
    server = Lamina(tmp_path / "data", env={"SSL_CERT_FILE": str(tmp_path / "ca.pem")}).start()
    try:
        sns = server.client("sns")
        topic = sns.create_topic(Name="tls")["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="https", Endpoint=endpoint.url)
        confirmation = endpoint.get()
        sns.confirm_subscription(TopicArn=topic, Token=confirmation["Token"])
        sns.publish(TopicArn=topic, Message="over tls")
        assert endpoint.get()["Message"] == "over tls"
    finally:
        server.stop()
        endpoint.close()


def test_bad_batches_and_attributes_are_refused_whole(lamina):
    sns, sqs = lamina.client("sns"), lamina.client("sqs")
    topic = sns.create_topic(Name="strict")["TopicArn"]
    url, arn = queue(sqs, "strict-feed")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    status, code, _ = error_of(sns.publish_batch, TopicArn=topic, PublishBatchRequestEntries=[
        {"Id": str(i), "Message": f"m{i}"} for i in range(11)])
    assert (status, code) == (400, "TooManyEntriesInBatchRequest")
    assert "Messages" not in sqs.receive_message(QueueUrl=url), "nothing of a refused batch was published"
    status, code, message = error_of(sns.subscribe, TopicArn=topic, Protocol="sqs", Endpoint=arn + "-2",
                                     Attributes={"FilterPolicyScope": "Everything"})
    assert (status, code) == (400, "InvalidParameter")
    assert "Invalid value [Everything]" in message


def test_notifications_are_signed_as_aws_signs_them(lamina):
    """Both signature versions verify against the certificate at SigningCertURL; FIFO
    topics' notifications carry a sequence number and no signature, as on AWS."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    sns, sqs = lamina.client("sns"), lamina.client("sqs")
    for version in ["1", "2"]:
        topic = sns.create_topic(Name=f"signed-{version}", Attributes={"SignatureVersion": version})["TopicArn"]
        url, arn = queue(sqs, f"signed-{version}")
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
        sns.publish(TopicArn=topic, Message="hello", Subject="greeting")
        note = json.loads(sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5)["Messages"][0]["Body"])
        assert note["SignatureVersion"] == version
        assert "/SimpleNotificationService-" in note["SigningCertURL"]
        cert = x509.load_pem_x509_certificate(urllib.request.urlopen(note["SigningCertURL"]).read())
        fields = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
        text = "".join(f"{f}\n{note[f]}\n" for f in fields if f in note).encode()
        digest = hashes.SHA1() if version == "1" else hashes.SHA256()
        cert.public_key().verify(base64.b64decode(note["Signature"]), text, padding.PKCS1v15(), digest)
        with pytest.raises(Exception):
            cert.public_key().verify(base64.b64decode(note["Signature"]), text + b"x", padding.PKCS1v15(), digest)

    fifo = sns.create_topic(Name="ordered.fifo", Attributes={"FifoTopic": "true", "ContentBasedDeduplication": "true"})
    attrs = sns.get_topic_attributes(TopicArn=fifo["TopicArn"])["Attributes"]
    assert (attrs["FifoTopic"], attrs["ContentBasedDeduplication"]) == ("true", "true")
    url = sqs.create_queue(QueueName="plain-for-fifo")["QueueUrl"]
    sns.subscribe(TopicArn=fifo["TopicArn"], Protocol="sqs", Endpoint=f"arn:aws:sqs:us-east-1:{ACCOUNT}:plain-for-fifo")
    first = sns.publish(TopicArn=fifo["TopicArn"], Message="once", MessageGroupId="g")
    again = sns.publish(TopicArn=fifo["TopicArn"], Message="once", MessageGroupId="g")
    assert first["MessageId"] == again["MessageId"] and len(first["SequenceNumber"]) == 20
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5, MaxNumberOfMessages=10, AttributeNames=["All"])[
        "Messages"]
    assert len(got) == 1 and "MessageGroupId" not in got[0]["Attributes"]
    note = json.loads(got[0]["Body"])
    assert note["SequenceNumber"] == first["SequenceNumber"] and "Signature" not in note


def test_sns_answers_bad_input_in_aws_words(lamina):
    sns = lamina.client("sns")
    topic = sns.create_topic(Name="words")["TopicArn"]
    assert error_of(sns.publish, TopicArn="randomstring", Message="m") == (
        400, "InvalidParameter", "Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 1")
    assert error_of(sns.publish, TopicArn=topic, Message="m", Subject="") == (
        400, "InvalidParameter", "Invalid parameter: Subject")
    assert error_of(sns.publish, TopicArn=topic, Message="m",
                    MessageAttributes={"a^b": {"DataType": "String", "StringValue": "v"}})[1] == "ParameterValueInvalid"
    assert error_of(sns.publish_batch, TopicArn=topic, PublishBatchRequestEntries=[
        {"Id": "1", "Message": "a"}, {"Id": "1", "Message": "b"}])[1] == "BatchEntryIdsNotDistinct"
    assert error_of(sns.tag_resource, ResourceArn=topic, Tags=[{"Key": "k", "Value": "1"}, {"Key": "k", "Value": "2"}]) == (
        400, "InvalidParameter", "Invalid parameter: Duplicated keys are not allowed.")
    assert error_of(sns.subscribe, TopicArn=topic, Protocol="carrier-pigeon", Endpoint="x")[2] == (
        "Invalid parameter: Amazon SNS does not support this protocol string: carrier-pigeon")
    assert error_of(sns.subscribe, TopicArn=topic, Protocol="sms", Endpoint="+15--55") == (
        400, "InvalidParameter", "Invalid SMS endpoint: +15--55")
    west = lamina.client("sns", region="eu-west-1")
    assert error_of(west.get_topic_attributes, TopicArn=topic) == (400, "InvalidParameter", "Invalid parameter: TopicArn")

    policy = json.loads(sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"])
    assert policy["Statement"][0]["Action"][0] == "SNS:GetTopicAttributes" and len(policy["Statement"][0]["Action"]) == 8
    sns.add_permission(TopicArn=topic, Label="pub", AWSAccountId=["111111111111"], ActionName=["Publish"])
    assert error_of(sns.add_permission, TopicArn=topic, Label="pub", AWSAccountId=["1"], ActionName=["Publish"])[2] == (
        "Invalid parameter: Statement already exists")
    lamina.restart()
    sns = lamina.client("sns")
    statements = json.loads(sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"])["Statement"]
    assert statements[1] == {"Sid": "pub", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
                             "Action": "SNS:Publish", "Resource": topic}
    sns.remove_permission(TopicArn=topic, Label="pub")
    assert len(json.loads(sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"])["Statement"]) == 1


def test_platform_applications_endpoints_and_sms_settings_are_kept(lamina):
    sns = lamina.client("sns")
    assert error_of(sns.create_platform_application, Name="app", Platform="AAA",
                    Attributes={"PlatformPrincipal": "p", "PlatformCredential": "c"}) == (
        400, "InvalidParameter", "Invalid parameter: Platform Reason: AAA is not supported")
    app = sns.create_platform_application(Name="app", Platform="GCM",
                                          Attributes={"PlatformPrincipal": "p", "PlatformCredential": "c"})[
        "PlatformApplicationArn"]
    assert app == f"arn:aws:sns:us-east-1:{ACCOUNT}:app/GCM/app"
    endpoint = sns.create_platform_endpoint(PlatformApplicationArn=app, Token="t1", CustomUserData="data")["EndpointArn"]
    assert sns.create_platform_endpoint(PlatformApplicationArn=app, Token="t1", CustomUserData="data")[
        "EndpointArn"] == endpoint
    assert error_of(sns.create_platform_endpoint, PlatformApplicationArn=app, Token="t1",
                    Attributes={"Enabled": "false"})[2].endswith("already exists with the same Token, but different attributes.")
    sns.set_sms_attributes(attributes={"DefaultSMSType": "Transactional"})
    assert error_of(sns.set_sms_attributes, attributes={"DefaultSMSType": "Loud"})[2] == "DefaultSMSType is invalid"
    lamina.restart()
    sns = lamina.client("sns")
    assert sns.get_platform_application_attributes(PlatformApplicationArn=app)["Attributes"] == {"Enabled": "true"}
    assert sns.get_endpoint_attributes(EndpointArn=endpoint)["Attributes"] == {
        "CustomUserData": "data", "Enabled": "true", "Token": "t1"}
    assert sns.publish(TargetArn=endpoint, Message="push")["MessageId"]
    assert error_of(sns.publish, TargetArn=f"arn:aws:sns:us-east-1:{ACCOUNT}:endpoint/x", Message="m")[2] == (
        "Invalid parameter: TargetArn Reason: Wrong number of slashes in relative portion of the ARN.")
    sns.set_endpoint_attributes(EndpointArn=endpoint, Attributes={"Enabled": "false"})
    assert error_of(sns.publish, TargetArn=endpoint, Message="push")[1] == "EndpointDisabled"
    assert sns.get_sms_attributes()["attributes"] == {"DefaultSMSType": "Transactional", "MonthlySpendLimit": "1"}
    assert sns.check_if_phone_number_is_opted_out(phoneNumber="+15550100")["isOptedOut"] is False
    # The ARN is read before the attributes are wanted; then the model's check; then the app.
    assert error_of(sns.set_platform_application_attributes, PlatformApplicationArn="invalid-arn", Attributes={}) == (
        400, "InvalidParameter", "Invalid parameter: PlatformApplicationArn Reason: An ARN must have at least 6 elements, not 1")
    assert error_of(sns.set_platform_application_attributes, PlatformApplicationArn=app, Attributes={}) == (
        400, "ValidationError",
        "1 validation error detected: Value null at 'attributes' failed to satisfy constraint: Member must not be null")
    sns.delete_platform_application(PlatformApplicationArn=app)
    assert error_of(sns.list_endpoints_by_platform_application, PlatformApplicationArn=app) == (
        404, "NotFound", "PlatformApplication does not exist")
    assert error_of(sns.get_endpoint_attributes, EndpointArn=endpoint) == (404, "NotFound", "Endpoint does not exist")
