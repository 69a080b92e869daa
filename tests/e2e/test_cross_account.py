"""One account reaching another's queues and topics through ARNs — event source mappings,
subscriptions, dead-letter queues, destinations and plain queue URLs — is refused unless
the owner's resource policy allows it, as on AWS; in open mode (accounts chosen by
12-digit keys) and in authenticated mode (signed keys) alike."""
import json
import time
import urllib.error
import urllib.request

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import CONFIG, Lamina, create, function_zip

A = ("111111111111", "a-secret")
B = ("222222222222", "b-secret")


@pytest.fixture(params=["open", "sigv4"])
def server(request, tmp_path):
    config = CONFIG
    if request.param == "sigv4":
        config += '[auth]\nmode = "sigv4"\n' + "".join(
            f'[[auth.keys]]\naccess_key_id = "AKIA{who[0]}"\nsecret_access_key = "{who[1]}"\n'
            f'account = "{who[0]}"\n' for who in (A, B))
    s = Lamina(tmp_path / "data", config=config).start()
    s.mode = request.param
    yield s
    s.stop()


def as_(server, who, service):
    """A client acting in `who`'s account: its 12-digit key in open mode, its signed key
    in authenticated mode."""
    key = who[0] if server.mode == "open" else f"AKIA{who[0]}"
    return boto3.client(service, endpoint_url=server.url, region_name="us-east-1", aws_access_key_id=key,
                        aws_secret_access_key=who[1], config=Config(retries={"total_max_attempts": 1}))


def error_of(call, **kw):
    with pytest.raises(ClientError) as e:
        call(**kw)
    r = e.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"], r["Error"]["Message"]


def queue_of_a(server, name="private"):
    sqs = as_(server, A, "sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return sqs, url, arn


def allow(sqs, url, arn, principal, actions, condition=None):
    statement = {"Effect": "Allow", "Principal": principal, "Action": actions, "Resource": arn}
    if condition:
        statement["Condition"] = condition
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(
        {"Version": "2012-10-17", "Statement": [statement]})})


def count(sqs, url):
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages",
                                                                   "ApproximateNumberOfMessagesNotVisible"])
    return sum(int(v) for v in attrs["Attributes"].values())


def test_queue_urls_of_another_account_answer_as_its_policy_says(server):
    sqs_a, url, arn = queue_of_a(server)
    sqs_b = as_(server, B, "sqs")
    assert error_of(sqs_b.send_message, QueueUrl=url, MessageBody="from b")[:2] == (403, "AccessDenied")
    assert error_of(sqs_b.receive_message, QueueUrl=url)[:2] == (403, "AccessDenied")
    assert error_of(sqs_b.get_queue_url, QueueName="private", QueueOwnerAWSAccountId=A[0])[1] == \
        "AWS.SimpleQueueService.NonExistentQueue"
    allow(sqs_a, url, arn, {"AWS": f"arn:aws:iam::{B[0]}:root"}, ["sqs:SendMessage", "sqs:GetQueueUrl"])
    sqs_b.send_message(QueueUrl=url, MessageBody="from b")
    assert sqs_b.get_queue_url(QueueName="private", QueueOwnerAWSAccountId=A[0])["QueueUrl"] == url
    # Sending was granted, reading was not.
    assert error_of(sqs_b.receive_message, QueueUrl=url)[:2] == (403, "AccessDenied")
    assert [m["Body"] for m in sqs_a.receive_message(QueueUrl=url)["Messages"]] == ["from b"]
    # A policy that is not a policy is refused.
    assert error_of(sqs_a.set_queue_attributes, QueueUrl=url, Attributes={"Policy": "{not json"})[:2] == \
        (400, "InvalidAttributeValue")


def test_add_permission_grants_another_account_and_remove_permission_takes_it_back(server):
    sqs_a, url, _ = queue_of_a(server, "granted")
    sqs_b = as_(server, B, "sqs")
    sqs_a.add_permission(QueueUrl=url, Label="b-sends", AWSAccountIds=[B[0]], Actions=["SendMessage"])
    assert error_of(sqs_a.add_permission, QueueUrl=url, Label="b-sends", AWSAccountIds=[B[0]],
                    Actions=["SendMessage"])[2] == "Value b-sends for parameter Label is invalid. Reason: Already exists."
    sqs_b.send_message(QueueUrl=url, MessageBody="granted")
    assert error_of(sqs_b.receive_message, QueueUrl=url)[:2] == (403, "AccessDenied")
    statement = json.loads(sqs_a.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"])[
        "Statement"]
    assert statement[0]["Principal"] == {"AWS": f"arn:aws:iam::{B[0]}:root"} and statement[0]["Action"] == "SQS:SendMessage"
    sqs_a.remove_permission(QueueUrl=url, Label="b-sends")
    assert "Attributes" not in sqs_a.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])
    assert error_of(sqs_b.send_message, QueueUrl=url, MessageBody="again")[:2] == (403, "AccessDenied")
    assert error_of(sqs_a.remove_permission, QueueUrl=url, Label="b-sends")[2] == (
        "Value b-sends for parameter Label is invalid. Reason: can't find label.")


def test_an_event_source_mapping_on_another_accounts_queue_needs_its_policy(server):
    sqs_a, url, arn = queue_of_a(server)
    sqs_a.send_message(QueueUrl=url, MessageBody="a's secret")
    lam_b = as_(server, B, "lambda")
    create(lam_b, "thief", code=function_zip("app.py"))
    status, code, message = error_of(lam_b.create_event_source_mapping, FunctionName="thief", EventSourceArn=arn)
    assert (status, code) == (400, "InvalidParameterValueException")
    assert message == "The function execution role does not have permissions to call ReceiveMessage on SQS"
    assert lam_b.list_event_source_mappings()["EventSourceMappings"] == []
    assert count(sqs_a, url) == 1, "A's message is untouched"

    allow(sqs_a, url, arn, {"AWS": B[0]},
          ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"])
    lam_b.create_event_source_mapping(FunctionName="thief", EventSourceArn=arn, BatchSize=1)
    # Granted, B's function consumes (and deletes) what A's queue holds.
    deadline = time.monotonic() + 30
    while count(sqs_a, url):
        assert time.monotonic() < deadline, "the mapping consumes the queue once its policy allows it"
        time.sleep(0.05)


def test_another_accounts_queue_or_topic_as_dead_letter_queue_or_destination_needs_its_policy(server):
    sqs_a, url, arn = queue_of_a(server)
    topic = as_(server, A, "sns").create_topic(Name="a-topic")["TopicArn"]
    lam_b = as_(server, B, "lambda")
    for target, action, service in ((arn, "SendMessage", "SQS"), (topic, "Publish", "SNS")):
        status, code, message = error_of(lambda: create(lam_b, "dlq-" + service.lower(), code=function_zip("app.py"),
                                                        DeadLetterConfig={"TargetArn": target}))
        assert (status, code) == (400, "InvalidParameterValueException")
        assert message == f"The provided execution role does not have permissions to call {action} on {service}"
    create(lam_b, "fails", code=function_zip("app.py"))
    for target, action in ((arn, "SendMessage"), (topic, "Publish")):
        status, code, message = error_of(
            lam_b.put_function_event_invoke_config, FunctionName="fails",
            DestinationConfig={"OnFailure": {"Destination": target}})
        assert (status, code) == (400, "InvalidParameterValueException")
        assert message == f"The function's execution role does not have permissions to call {action} on {target}"
    # Another account's function as a destination: only with its permission.
    lam_a = as_(server, A, "lambda")
    target_fn = create(lam_a, "a-fn", code=function_zip("app.py"))["FunctionArn"]
    assert error_of(lam_b.put_function_event_invoke_config, FunctionName="fails",
                    DestinationConfig={"OnFailure": {"Destination": target_fn}})[1] == "InvalidParameterValueException"
    lam_a.add_permission(FunctionName="a-fn", StatementId="b", Action="lambda:InvokeFunction", Principal=B[0])
    lam_b.put_function_event_invoke_config(FunctionName="fails",
                                           DestinationConfig={"OnFailure": {"Destination": target_fn}})

    # Granted by the queue's policy, B's failures land in A's queue.
    allow(sqs_a, url, arn, {"AWS": B[0]}, "sqs:SendMessage")
    create(lam_b, "dlq-granted", code=function_zip("app.py"), DeadLetterConfig={"TargetArn": arn})
    lam_b.put_function_event_invoke_config(FunctionName="dlq-granted", MaximumRetryAttempts=0)
    lam_b.invoke(FunctionName="dlq-granted", InvocationType="Event", Payload=json.dumps({"action": "error"}))
    got = sqs_a.receive_message(QueueUrl=url, WaitTimeSeconds=20, MessageAttributeNames=["All"])["Messages"]
    assert json.loads(got[0]["Body"]) == {"action": "error"}


def test_sns_delivers_to_another_accounts_queue_only_as_its_policy_allows_and_its_owner_confirms(server):
    sqs_a, url, arn = queue_of_a(server)
    sns_b = as_(server, B, "sns")
    topic = sns_b.create_topic(Name="b-topic")["TopicArn"]
    # Without A's policy: pending, and nothing reaches A's queue — not even the confirmation.
    sns_b.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    sns_b.publish(TopicArn=topic, Message="spam")
    assert count(sqs_a, url) == 0
    subs = sns_b.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert [s["SubscriptionArn"] for s in subs] == ["PendingConfirmation"]

    # A allows SNS to send for B's topic (and no other): the confirmation arrives, A
    # confirms, and B's messages follow.
    allow(sqs_a, url, arn, {"Service": "sns.amazonaws.com"}, "sqs:SendMessage",
          {"ArnEquals": {"aws:SourceArn": topic}})
    other = sns_b.create_topic(Name="b-other")["TopicArn"]
    sns_b.subscribe(TopicArn=other, Protocol="sqs", Endpoint=arn)
    # Subscribing again sends the confirmation again, as SNS does for a pending one.
    sns_b.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    messages = sqs_a.receive_message(QueueUrl=url, WaitTimeSeconds=5, MaxNumberOfMessages=10)["Messages"]
    confirmations = [json.loads(m["Body"]) for m in messages]
    assert [(c["Type"], c["TopicArn"]) for c in confirmations] == [("SubscriptionConfirmation", topic)]
    sqs_a.delete_message(QueueUrl=url, ReceiptHandle=messages[0]["ReceiptHandle"])
    as_(server, A, "sns").confirm_subscription(TopicArn=topic, Token=confirmations[0]["Token"])
    sns_b.publish(TopicArn=topic, Message="hello a")
    sns_b.publish(TopicArn=other, Message="not allowed by a's policy")
    got = sqs_a.receive_message(QueueUrl=url, WaitTimeSeconds=5, MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(m["Body"])["Message"] for m in got] == ["hello a"]


def test_code_links_and_layers_of_another_account(server):
    lam_a, lam_b = as_(server, A, "lambda"), as_(server, B, "lambda")
    create(lam_a, "a-code", code=function_zip("app.py"))
    layer = lam_a.publish_layer_version(LayerName="a-layer", Content={"ZipFile": function_zip("app.py")})
    # B cannot read A's function, so it gets no link; and A's link, bent to name other
    # code or to last longer, is refused.
    assert error_of(lam_b.get_function, FunctionName=f"arn:aws:lambda:us-east-1:{A[0]}:function:a-code")[1] in (
        "ResourceNotFoundException", "AccessDeniedException")
    link = lam_a.get_function(FunctionName="a-code")["Code"]["Location"]
    with urllib.request.urlopen(link, timeout=30) as r:
        assert r.read()[:2] == b"PK"
    for forged in (link.split("?")[0], link.replace("expires=", "expires=9")):
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(forged, timeout=30)
        assert e.value.code == 403
    # A's layer is B's to use only once A grants it.
    status, code, _ = error_of(lambda: create(lam_b, "b-uses", code=function_zip("app.py"),
                                              Layers=[layer["LayerVersionArn"]]))
    assert (status, code) == (400, "InvalidParameterValueException")
    assert error_of(lam_b.get_layer_version_by_arn, Arn=layer["LayerVersionArn"])[0] in (403, 404)
    layer_arn = layer["LayerArn"]
    assert error_of(lam_b.get_layer_version, LayerName=layer_arn, VersionNumber=1)[0] == 404
    lam_a.add_layer_version_permission(LayerName="a-layer", VersionNumber=1, StatementId="b",
                                       Action="lambda:GetLayerVersion", Principal=B[0])
    create(lam_b, "b-uses", code=function_zip("app.py"), Layers=[layer["LayerVersionArn"]])
    # Granted, B reads A's layer version by its layer ARN too.
    assert lam_b.get_layer_version(LayerName=layer_arn, VersionNumber=1)["LayerVersionArn"] == layer["LayerVersionArn"]


def test_another_accounts_function_by_arn_as_its_policy_grants(server):
    owner, other = as_(server, A, "lambda"), as_(server, B, "lambda")
    create(owner, "shared-fn", code=function_zip("app.py"))
    arn = f"arn:aws:lambda:us-east-1:{A[0]}:function:shared-fn"

    def code_of(call, **kw):
        with pytest.raises(ClientError) as e:
            call(**kw)
        return e.value.response["Error"]["Code"]

    # Not granted: the ARN is looked for in the caller's own account.
    assert code_of(other.get_function, FunctionName=arn) == "ResourceNotFoundException"
    owner.add_permission(FunctionName="shared-fn", StatementId="read", Principal=B[0],
                         Action="lambda:GetFunctionConfiguration")
    assert other.get_function_configuration(FunctionName=arn)["FunctionArn"] == arn
    assert code_of(other.get_function, FunctionName=arn) == "ResourceNotFoundException", "only what is granted"
    assert code_of(other.delete_function, FunctionName=arn) == "ResourceNotFoundException"
    owner.add_permission(FunctionName="shared-fn", StatementId="all", Principal=B[0], Action="lambda:*")
    other.tag_resource(Resource=arn, Tags={"by": "b"})
    assert owner.list_tags(Resource=arn)["Tags"] == {"by": "b"}
    assert other.get_function(FunctionName=arn)["Configuration"]["FunctionName"] == "shared-fn"
    # Even `lambda:*` grants only the operations AWS lets another account perform.
    assert code_of(other.add_permission, FunctionName=arn, StatementId="mine", Principal="*",
                   Action="lambda:InvokeFunction") == "ResourceNotFoundException"
    assert code_of(other.update_function_configuration, FunctionName=arn, Timeout=9) == "ResourceNotFoundException"
