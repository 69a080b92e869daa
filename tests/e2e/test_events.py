"""EventBridge as a user drives it with boto3 and the lamina CLI: event patterns (AWS's
published examples among them), PutEvents' per-entry answers, every target kind (SQS with
FIFO groups, Lambda, SNS, another bus, API Gateway), input transformers, retries into a
dead-letter queue, cross-account buses, scheduled rules under an injected clock, emitted
AWS service events, S3's events on the default bus, and persistence across kill -9."""
import json
import subprocess
import time

import pytest
from botocore.exceptions import ClientError

from conftest import LAMINA_BIN, ROLE, Lamina, create, function_zip, zip_bytes

ACCOUNT = "000000000000"
REGION = "us-east-1"
CLOCK = "[async]\nadjustable_clock = true\n"


@pytest.fixture
def events(lamina):
    return lamina.client("events")


@pytest.fixture
def sqs(lamina):
    return lamina.client("sqs")


def error_of(call, **kw):
    with pytest.raises(ClientError) as e:
        call(**kw)
    return e.value.response["Error"]


def queue(sqs, name, **attrs):
    url = sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]
    return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def messages(sqs, url, n, attributes=False):
    """The next n messages (long polls, at most 30 s), deleted as they are read."""
    got = []
    for _ in range(30):
        for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                     MessageAttributeNames=["All"]).get("Messages", []):
            got.append(m if attributes else json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        if len(got) >= n:
            return got
    pytest.fail(f"timed out waiting for {n} messages; got {got}")


def nothing_more(sqs, url):
    """No further message arrives within a long poll."""
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", []) == []


def put(events, source, detail_type, detail, **kw):
    entry = {"Source": source, "DetailType": detail_type, "Detail": json.dumps(detail), **kw}
    r = events.put_events(Entries=[entry])
    assert r["FailedEntryCount"] == 0, r
    return r["Entries"][0]["EventId"]


def rule_to_queue(events, sqs, name, pattern, bus=None, **target):
    url, arn = queue(sqs, name + "-q")
    kw = {"EventBusName": bus} if bus else {}
    events.put_rule(Name=name, EventPattern=json.dumps(pattern), **kw)
    events.put_targets(Rule=name, Targets=[{"Id": "q", "Arn": arn, **target}], **kw)
    return url, arn


def test_patterns_from_awss_guide_route_each_event_to_the_rules_it_matches(events, sqs):
    ec2 = {"source": ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"],
           "detail": {"state": ["running", "stopped"]}}
    orders = {"source": ["shop"], "detail": {"total": [{"numeric": [">", 100, "<=", 1000]}],
                                             "country": [{"anything-but": ["CN", "RU"]}],
                                             "file": [{"suffix": {"equals-ignore-case": ".PDF"}}]}}
    either = {"source": ["shop"], "$or": [{"detail": {"vip": [True]}}, {"detail": {"ip": [{"cidr": "10.0.0.0/24"}]}}]}
    ec2_url, _ = rule_to_queue(events, sqs, "ec2-state", ec2)
    orders_url, _ = rule_to_queue(events, sqs, "big-orders", orders)
    either_url, _ = rule_to_queue(events, sqs, "vip-or-internal", either)

    # Events named aws.* come from AWS's services only: a client's is refused per entry.
    r = events.put_events(Entries=[
        {"Source": "aws.ec2", "DetailType": "EC2 Instance State-change Notification", "Detail": "{}"},
        {"Source": "shop", "DetailType": "order", "Detail": json.dumps({"total": 150, "country": "FR", "file": "a.pdf"})},
        {"Source": "shop", "DetailType": "order", "Detail": json.dumps({"total": 150, "country": "CN", "file": "a.pdf"})},
        {"Source": "shop", "DetailType": "order", "Detail": json.dumps({"total": 5, "vip": True})},
        {"Source": "shop", "DetailType": "order", "Detail": json.dumps({"total": 5, "ip": "10.0.0.7"})},
    ])
    assert r["FailedEntryCount"] == 1
    assert r["Entries"][0] == {"ErrorCode": "NotAuthorizedForSourceException", "ErrorMessage": "Not authorized for the source."}
    accepted = [e["EventId"] for e in r["Entries"][1:]]

    [order] = messages(sqs, orders_url, 1)
    assert order["id"] == accepted[0]
    assert list(order) == ["version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"]
    assert (order["source"], order["account"], order["region"], order["resources"]) == ("shop", ACCOUNT, REGION, [])
    assert order["detail"] == {"total": 150, "country": "FR", "file": "a.pdf"}
    assert sorted(e["id"] for e in messages(sqs, either_url, 2)) == sorted(accepted[2:])
    nothing_more(sqs, orders_url)
    nothing_more(sqs, ec2_url)

    # TestEventPattern answers as PutRule decides; broken patterns in AWS's words.
    event = {"id": "1", "source": "aws.ec2", "detail-type": "EC2 Instance State-change Notification", "account": ACCOUNT,
             "time": "2026-01-01T00:00:00Z", "region": REGION, "resources": [], "detail": {"state": "running"}}
    assert events.test_event_pattern(EventPattern=json.dumps(ec2), Event=json.dumps(event))["Result"] is True
    event["detail"]["state"] = "pending"
    assert events.test_event_pattern(EventPattern=json.dumps(ec2), Event=json.dumps(event))["Result"] is False
    for pattern, reason in [
        ({"source": "shop"}, '"source" must be an object or an array'),
        ({"detail": {"n": [{"numeric": [">", 1, ">", 2]}]}}, "Bad numeric range operator: >"),
        ({"detail": {"ip": [{"cidr": "10.0.0.0"}]}}, "Malformed CIDR, one '/' required"),
        ({"detail": {"n": [{"EXISTS": True}]}}, "Unrecognized match type EXISTS"),
    ]:
        e = error_of(events.put_rule, Name="broken", EventPattern=json.dumps(pattern))
        assert e == {"Code": "InvalidEventPatternException", "Message": f"Event pattern is not valid. Reason: {reason}"}


def test_put_events_checks_each_entry_and_the_batch(events):
    r = events.put_events(Entries=[
        {"Source": "shop", "DetailType": "order"},
        {"Source": "shop", "Detail": "{}"},
        {"DetailType": "order", "Detail": "{}"},
        {"Source": "shop", "DetailType": "order", "Detail": "[1, 2]"},
    ])
    assert r["FailedEntryCount"] == 4
    assert [e["ErrorCode"] for e in r["Entries"]] == ["InvalidArgument", "InvalidArgument", "InvalidArgument", "MalformedDetail"]
    assert r["Entries"][0]["ErrorMessage"] == "Parameter Detail is not valid. Reason: Detail is a required argument."
    too_many = [{"Source": "shop", "DetailType": "order", "Detail": "{}"}] * 11
    e = error_of(events.put_events, Entries=too_many)
    assert e["Code"] == "ValidationException" and "Member must have length less than or equal to 10" in e["Message"]
    e = error_of(events.put_events, Entries=[{"Source": "shop", "DetailType": "big", "Detail": json.dumps({"x": "y" * 262_144})}])
    assert e == {"Code": "ValidationException", "Message": "Total size of the entries in the request is over the limit."}


def test_targets_get_the_event_a_constant_a_path_or_a_filled_template(events, sqs):
    events.put_rule(Name="shapes", EventPattern=json.dumps({"source": ["shop"]}))
    urls = {}
    targets = []
    for kind, extra in [
        ("whole", {}),
        ("constant", {"Input": json.dumps({"fixed": True})}),
        ("path", {"InputPath": "$.detail.order"}),
        ("template", {"InputTransformer": {
            "InputPathsMap": {"id": "$.detail.order.id", "items": "$.detail.order.items", "missing": "$.detail.nope"},
            "InputTemplate": '{"order": <id>, "text": "order <id> for <aws.events.rule-name>", '
                             '"items": <items>, "missing": <missing>}'}}),
        ("text", {"InputTransformer": {"InputPathsMap": {"id": "$.detail.order.id", "items": "$.detail.order.items"},
                                       "InputTemplate": '"Order <id> of <items> is in"'}}),
    ]:
        urls[kind], arn = queue(sqs, f"shape-{kind}")
        targets.append({"Id": kind, "Arn": arn, **extra})
    events.put_targets(Rule="shapes", Targets=targets)
    # A list inside a JSON template's string leaves no valid JSON: AWS delivers nothing.
    urls["invalid"], invalid = queue(sqs, "shape-invalid")
    events.put_rule(Name="invalid-shape", EventPattern=json.dumps({"source": ["shop"]}))
    events.put_targets(Rule="invalid-shape", Targets=[{"Id": "invalid", "Arn": invalid, "InputTransformer": {
        "InputPathsMap": {"items": "$.detail.order.items"}, "InputTemplate": '{"items": "<items>"}'}}])
    event_id = put(events, "shop", "order", {"order": {"id": "o-1", "items": ["a", "b"]}})

    assert messages(sqs, urls["whole"], 1)[0]["id"] == event_id
    assert messages(sqs, urls["constant"], 1) == [{"fixed": True}]
    assert messages(sqs, urls["path"], 1) == [{"id": "o-1", "items": ["a", "b"]}]
    assert messages(sqs, urls["template"], 1) == [
        {"order": "o-1", "text": "order o-1 for shapes", "items": ["a", "b"], "missing": ""}]
    assert messages(sqs, urls["text"], 1) == ["Order o-1 of [a,b] is in"]
    nothing_more(sqs, urls["invalid"])

    # Templates are checked when the target is put, in AWS's words.
    e = error_of(events.put_targets, Rule="shapes", Targets=[{"Id": "bad", "Arn": arn, "InputTransformer": {
        "InputPathsMap": {"a": "$.detail"}, "InputTemplate": '{"x": <undefined>}'}}])
    assert e == {"Code": "ValidationException", "Message": "InputTemplate for target bad contains invalid placeholder undefined."}
    e = error_of(events.put_targets, Rule="shapes", Targets=[{"Id": "two", "Arn": arn, "Input": "{}", "InputPath": "$"}])
    assert e["Message"] == "Only one of Input, InputPath, or InputTransformer must be provided for target two."
    e = error_of(events.put_targets, Rule="shapes", Targets=[{"Id": f"t{i}", "Arn": arn} for i in range(2)])
    assert e == {"Code": "LimitExceededException", "Message": "The requested resource exceeds the maximum number allowed."}


def test_lambda_sns_fifo_and_bus_targets_each_receive_the_event(lamina, events, sqs, collector):
    lam = lamina.client()
    create(lam, "on-order", handler="reporter.handler", code=function_zip("reporter.py"),
           Environment={"Variables": {"REPORT_URL": collector.url}})
    sns = lamina.client("sns")
    topic = sns.create_topic(Name="orders")["TopicArn"]
    topic_url, topic_q = queue(sqs, "from-topic")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=topic_q, Attributes={"RawMessageDelivery": "true"})
    fifo_url, fifo_arn = queue(sqs, "orders.fifo", FifoQueue="true")
    bus = events.create_event_bus(Name="audit")["EventBusArn"]
    audit_url, _ = rule_to_queue(events, sqs, "audit-all", {"source": ["shop"]}, bus="audit")

    events.put_rule(Name="fan-out", EventPattern=json.dumps({"source": ["shop"]}))
    events.put_targets(Rule="fan-out", Targets=[
        {"Id": "fn", "Arn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:on-order"},
        {"Id": "topic", "Arn": topic},
        {"Id": "fifo", "Arn": fifo_arn, "SqsParameters": {"MessageGroupId": "orders"}},
        {"Id": "bus", "Arn": bus},
    ])
    event_id = put(events, "shop", "order", {"n": 1})
    delivered = collector.get()["event"]
    assert (delivered["id"], delivered["detail"]) == (event_id, {"n": 1})
    assert messages(sqs, topic_url, 1)[0]["id"] == event_id
    [fifo] = messages(sqs, fifo_url, 1, attributes=True)
    assert json.loads(fifo["Body"])["id"] == event_id
    # Another bus of the region gets the event as it is.
    assert messages(sqs, audit_url, 1)[0]["id"] == event_id
    # A FIFO queue target needs its message group.
    e = error_of(events.put_targets, Rule="fan-out", Targets=[{"Id": "fifo2", "Arn": fifo_arn}])
    assert e["Message"] == "Parameter(s) SqsParameters must be specified for target: fifo2."


def test_an_api_gateway_stage_receives_the_event_as_a_post(lamina, events, collector):
    lam = lamina.client()
    fn = create(lam, "api-backend", handler="reporter.handler", code=function_zip("reporter.py"),
                Environment={"Variables": {"REPORT_URL": collector.url}})["FunctionArn"]
    apigw = lamina.client("apigateway")
    api = apigw.create_rest_api(name="hooks")["id"]
    root = apigw.get_resources(restApiId=api)["items"][0]["id"]
    hook = apigw.create_resource(restApiId=api, parentId=root, pathPart="hook")["id"]
    apigw.put_method(restApiId=api, resourceId=hook, httpMethod="POST", authorizationType="NONE")
    apigw.put_integration(restApiId=api, resourceId=hook, httpMethod="POST", type="AWS_PROXY", integrationHttpMethod="POST",
                          uri=f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{fn}/invocations")
    apigw.create_deployment(restApiId=api, stageName="test")
    events.put_rule(Name="to-api", EventPattern=json.dumps({"source": ["shop"]}))
    events.put_targets(Rule="to-api", Targets=[{
        "Id": "api", "Arn": f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api}/test/POST/hook",
        "HttpParameters": {"HeaderParameters": {"X-Order": "yes"}, "QueryStringParameters": {"from": "events"}}}])
    event_id = put(events, "shop", "order", {"n": 2})
    request = collector.get()["event"]
    assert (request["httpMethod"], request["resource"], request["path"]) == ("POST", "/hook", "/hook/")
    assert {k.lower(): v for k, v in request["headers"].items()}["x-order"] == "yes"
    assert request["queryStringParameters"] == {"from": "events"}
    assert json.loads(request["body"])["id"] == event_id


def test_failed_deliveries_are_retried_then_sent_to_the_dead_letter_queue(lamina, events, sqs):
    lam = lamina.client()
    fn = create(lam, "broken", code=zip_bytes({"app.py": "def handler(e, c):\n    raise RuntimeError('down')\n"}))
    apigw = lamina.client("apigateway")
    api = apigw.create_rest_api(name="down")["id"]
    root = apigw.get_resources(restApiId=api)["items"][0]["id"]
    apigw.put_method(restApiId=api, resourceId=root, httpMethod="POST", authorizationType="NONE")
    apigw.put_integration(restApiId=api, resourceId=root, httpMethod="POST", type="AWS_PROXY", integrationHttpMethod="POST",
                          uri=f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{fn['FunctionArn']}/invocations")
    apigw.create_deployment(restApiId=api, stageName="prod")
    dlq_url, dlq = queue(sqs, "events-dlq")
    events.put_rule(Name="fragile", EventPattern=json.dumps({"source": ["shop"]}))
    events.put_targets(Rule="fragile", Targets=[
        # The API answers 502 each time: retried once, then the dead-letter queue.
        {"Id": "api", "Arn": f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api}/prod/POST/",
         "RetryPolicy": {"MaximumRetryAttempts": 1, "MaximumEventAgeInSeconds": 60}, "DeadLetterConfig": {"Arn": dlq}},
        # A queue that does not exist is not retried.
        {"Id": "gone", "Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:no-such-queue", "DeadLetterConfig": {"Arn": dlq}},
    ])
    event_id = put(events, "shop", "order", {"n": 3})
    letters = {m["MessageAttributes"]["TARGET_ARN"]["StringValue"].split(":")[2]: m
               for m in messages(sqs, dlq_url, 2, attributes=True)}
    api_letter, queue_letter = letters["execute-api"], letters["sqs"]
    assert json.loads(api_letter["Body"])["id"] == event_id
    attrs = {k: v["StringValue"] for k, v in api_letter["MessageAttributes"].items()}
    assert attrs["RULE_ARN"] == f"arn:aws:events:{REGION}:{ACCOUNT}:rule/fragile"
    assert (attrs["ERROR_CODE"], attrs["EXHAUSTED_RETRY_CONDITION"], attrs["RETRY_ATTEMPTS"]) == (
        "INTERNAL_ERROR", "MaximumRetryAttempts", "1")
    attrs = {k: v["StringValue"] for k, v in queue_letter["MessageAttributes"].items()}
    assert (attrs["ERROR_CODE"], attrs["RETRY_ATTEMPTS"]) == ("NO_RESOURCE", "0")
    assert "EXHAUSTED_RETRY_CONDITION" not in attrs


def test_another_accounts_bus_takes_events_only_as_its_policy_allows(lamina, sqs):
    owner, sender = lamina.client("events", key="111111111111"), lamina.client("events", key="222222222222")
    owner_sqs = lamina.client("sqs", key="111111111111")
    bus = owner.create_event_bus(Name="shared")["EventBusArn"]
    url, _ = rule_to_queue(owner, owner_sqs, "inbox", {"source": ["partner"]}, bus="shared")
    entry = {"Source": "partner", "DetailType": "hello", "Detail": "{}", "EventBusName": bus}
    e = error_of(sender.put_events, Entries=[entry])
    assert e["Code"] == "AccessDeniedException"
    owner.put_permission(EventBusName="shared", Action="events:PutEvents", Principal="222222222222", StatementId="partner")
    policy = json.loads(owner.describe_event_bus(Name="shared")["Policy"])
    assert policy["Statement"][0]["Principal"] == {"AWS": "arn:aws:iam::222222222222:root"}
    event_id = sender.put_events(Entries=[entry])["Entries"][0]["EventId"]
    [got] = messages(owner_sqs, url, 1)
    assert (got["id"], got["account"]) == (event_id, "222222222222")


def test_scheduled_rules_fire_once_per_tick_under_an_injected_clock(tmp_path):
    server = Lamina(tmp_path / "data", config=CLOCK).start()
    try:
        events, sqs = server.client("events"), server.client("sqs")
        url, arn = queue(sqs, "ticks")
        events.put_rule(Name="every-5", ScheduleExpression="cron(0/5 * * * ? *)")
        events.put_targets(Rule="every-5", Targets=[{"Id": "q", "Arn": arn}])
        e = error_of(events.put_rule, Name="bad", ScheduleExpression="rate(1 minutes)")
        assert e == {"Code": "ValidationException", "Message": "Parameter ScheduleExpression is not valid."}
        events.create_event_bus(Name="custom")
        e = error_of(events.put_rule, Name="bad", ScheduleExpression="rate(1 minute)", EventBusName="custom")
        assert e["Message"] == "ScheduleExpression is supported only on the default event bus."

        assert server.http("POST", "/_lamina/clock?advance_secs=300")[0] == 204
        [tick] = messages(sqs, url, 1)
        assert (tick["source"], tick["detail-type"], tick["detail"]) == ("aws.events", "Scheduled Event", {})
        assert tick["resources"] == [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/every-5"]
        minute, second = tick["time"][14:16], tick["time"][17:19]
        assert int(minute) % 5 == 0 and second == "00", tick["time"]
        # An hour passes at once: the ticks missed are not made up, one fires.
        server.http("POST", "/_lamina/clock?advance_secs=3600")
        assert len(messages(sqs, url, 1)) == 1
        nothing_more(sqs, url)
        # A disabled rule does not fire.
        events.disable_rule(Name="every-5")
        server.http("POST", "/_lamina/clock?advance_secs=600")
        nothing_more(sqs, url)
    finally:
        server.stop()


def test_emitted_ec2_events_are_routed_by_rules(lamina, events, sqs):
    url, _ = rule_to_queue(events, sqs, "ec2-stopped", {"source": ["aws.ec2"], "detail": {"state": ["stopped"]}})
    cli = subprocess.run([LAMINA_BIN, "events", "emit", "--endpoint", lamina.url, "--source", "aws.ec2",
                          "--detail-type", "EC2 Instance State-change Notification",
                          "--detail", '{"instance-id": "i-0123456789abcdef0", "state": "stopped"}',
                          "--resource", f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/i-0123456789abcdef0"],
                         capture_output=True, text=True, timeout=60)
    assert cli.returncode == 0, cli.stderr
    event_id = json.loads(cli.stdout)["Entries"][0]["EventId"]
    [got] = messages(sqs, url, 1)
    assert (got["id"], got["source"], got["detail-type"]) == (event_id, "aws.ec2", "EC2 Instance State-change Notification")
    assert got["detail"] == {"instance-id": "i-0123456789abcdef0", "state": "stopped"}

    # The same through the HTTP endpoint, from the catalogue's template.
    status, _, body = lamina.http("POST", "/_lamina/events/emit", json.dumps(
        {"Template": "ec2-instance-state-change", "Detail": {"state": "stopped"}}).encode())
    assert status == 200, body
    [got] = messages(sqs, url, 1)
    assert got["detail"]["state"] == "stopped" and got["detail"]["instance-id"].startswith("i-")
    assert got["resources"] == [f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{got['detail']['instance-id']}"]
    status, _, body = lamina.http("GET", "/_lamina/events/templates")
    names = {t["Template"] for t in json.loads(body)["Templates"]}
    assert {"ec2-instance-state-change", "autoscaling-launch-lifecycle-action", "s3-object-created",
            "ecs-task-state-change", "codepipeline-pipeline-execution-state-change"} <= names


def test_s3_sends_its_events_to_the_default_bus_when_asked(lamina, events, sqs):
    s3 = lamina.client("s3")
    s3.create_bucket(Bucket="reports")
    url, _ = rule_to_queue(events, sqs, "new-reports", {"source": ["aws.s3"], "detail-type": ["Object Created"],
                                                         "detail": {"bucket": {"name": ["reports"]}}})
    s3.put_bucket_notification_configuration(Bucket="reports", NotificationConfiguration={"EventBridgeConfiguration": {}})
    s3.put_object(Bucket="reports", Key="q1.csv", Body=b"a,b\n")
    [got] = messages(sqs, url, 1)
    assert got["resources"] == ["arn:aws:s3:::reports"]
    assert got["detail"]["object"]["key"] == "q1.csv" and got["detail"]["reason"] == "PutObject"
    assert got["detail"]["object"]["size"] == 4


def test_subscription_filters_send_matching_lines_decoded(lamina, collector):
    lam, logs = lamina.client(), lamina.client("logs")
    env = {"Variables": {"REPORT_URL": collector.url}}
    sink = create(lam, "sink", handler="logsink.handler", code=function_zip("logsink.py"), Environment=env)["FunctionArn"]
    logs.create_log_group(logGroupName="app")
    logs.create_log_stream(logGroupName="app", logStreamName="web-1")
    logs.put_subscription_filter(logGroupName="app", filterName="errors", filterPattern="ERROR", destinationArn=sink)
    now = int(time.time() * 1000)
    logs.put_log_events(logGroupName="app", logStreamName="web-1", logEvents=[
        {"timestamp": now, "message": "ERROR disk full"}, {"timestamp": now + 1, "message": "all good"},
        {"timestamp": now + 2, "message": "ERROR again"}])
    data = collector.get()["event"]
    assert {k: data[k] for k in ["messageType", "owner", "logGroup", "logStream", "subscriptionFilters"]} == {
        "messageType": "DATA_MESSAGE", "owner": ACCOUNT, "logGroup": "app", "logStream": "web-1",
        "subscriptionFilters": ["errors"]}
    assert [(e["timestamp"], e["message"]) for e in data["logEvents"]] == [(now, "ERROR disk full"), (now + 2, "ERROR again")]
    assert all(len(e["id"]) == 56 for e in data["logEvents"])
    described = logs.describe_subscription_filters(logGroupName="app")["subscriptionFilters"]
    assert [(f["filterName"], f["filterPattern"], f["destinationArn"], f["distribution"]) for f in described] == [
        ("errors", "ERROR", sink, "ByLogStream")]

    # A function's own log group feeds another function; the sink subscribed to its own
    # group never receives its own lines (it prints an ERROR line each time it runs).
    create(lam, "producer", code=zip_bytes({"app.py": "def handler(e, c):\n    print('ERROR boom')\n"}))
    for group in ["/aws/lambda/producer", "/aws/lambda/sink"]:
        logs.create_log_group(logGroupName=group) if group == "/aws/lambda/producer" else None
        logs.put_subscription_filter(logGroupName=group, filterName="errors", filterPattern="ERROR", destinationArn=sink)
    lam.invoke(FunctionName="producer", Payload=b"{}")
    lines = collector.get()["event"]
    assert lines["logGroup"] == "/aws/lambda/producer"
    assert [e["message"].strip() for e in lines["logEvents"]] == ["ERROR boom"]
    with pytest.raises(Exception):
        collector.get(timeout=3)

    logs.put_subscription_filter(logGroupName="app", filterName="all", filterPattern="", destinationArn=sink)
    e = error_of(logs.put_subscription_filter, logGroupName="app", filterName="third", filterPattern="",
                 destinationArn=sink)
    assert e == {"Code": "LimitExceededException", "Message": "Resource limit exceeded."}
    logs.delete_subscription_filter(logGroupName="app", filterName="all")
    e = error_of(logs.delete_subscription_filter, logGroupName="app", filterName="all")
    assert e == {"Code": "ResourceNotFoundException", "Message": "The specified subscription filter does not exist."}
    e = error_of(logs.put_subscription_filter, logGroupName="app", filterName="x", filterPattern="",
                 destinationArn="arn:aws:lambda:us-east-1:123456789012:function:elsewhere")
    assert e["Code"] == "AccessDeniedException"


def drain(sqs, url):
    """Every message until a long poll finds none."""
    got = []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        if not batch:
            return got
        for m in batch:
            got.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def test_rules_deliveries_and_schedules_survive_kill_9(tmp_path):
    server = Lamina(tmp_path / "data").start()
    events, sqs, scheduler = server.client("events"), server.client("sqs"), server.client("scheduler")
    url, arn = queue(sqs, "durable")
    events.put_rule(Name="keep", EventPattern=json.dumps({"source": ["shop"]}))
    events.put_targets(Rule="keep", Targets=[{"Id": "q", "Arn": arn}])
    accepted = [put(events, "shop", "order", {"n": i}) for i in range(5)]
    # Due two seconds from now, while the server is down.
    due = time.time() + 2
    at = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(due + 1))
    scheduler.create_schedule(Name="while-down", ScheduleExpression=f"at({at})", FlexibleTimeWindow={"Mode": "OFF"},
                              Target={"Arn": arn, "RoleArn": ROLE, "Input": json.dumps({"schedule": "fired"})})
    server.kill9()
    while time.time() < due + 1.5:
        time.sleep(0.2)
    server.start()
    try:
        events, sqs = server.client("events"), server.client("sqs")
        assert events.list_targets_by_rule(Rule="keep")["Targets"] == [{"Id": "q", "Arn": arn}]
        # Every accepted event arrives (a delivery the kill cut short comes again: at least
        # once), and the schedule due while the server was down fires once.
        got = messages(sqs, url, 6) + drain(sqs, url)
        assert {m["id"] for m in got if "id" in m} == set(accepted)
        assert [m for m in got if "schedule" in m] == [{"schedule": "fired"}]
    finally:
        server.stop()


SAM_EVENTS = """
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  Orders:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      InlineCode: |
        import json, os, urllib.request
        def handler(event, context):
            print("ERROR order seen")
            body = json.dumps({"request_id": context.aws_request_id, "event": event}).encode()
            urllib.request.urlopen(urllib.request.Request(os.environ["REPORT_URL"], data=body), timeout=10).read()
      Environment:
        Variables:
          REPORT_URL: {url}
      Events:
        Placed:
          Type: EventBridgeRule
          Properties:
            Pattern: {{source: [shop], detail-type: [order]}}
        Nightly:
          Type: ScheduleV2
          Properties:
            ScheduleExpression: cron(0 3 * * ? *)
  Audit:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      InlineCode: |
        def handler(event, context):
            return event["awslogs"]["data"][:10]
      Events:
        Errors:
          Type: CloudWatchLogs
          Properties:
            LogGroupName: !Ref OrdersLogs
            FilterPattern: ERROR
  OrdersLogs:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: !Sub /aws/lambda/${Orders}
Outputs:
  Rule: {Value: !Ref OrdersPlaced}
"""


def test_sam_event_sources_deploy_as_rules_schedules_and_subscriptions(lamina, events, collector):
    cfn = lamina.client("cloudformation")
    cfn.create_stack(StackName="orders", TemplateBody=SAM_EVENTS.replace("{url}", collector.url).replace("{{", "{").replace("}}", "}"),
                     Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"])
    cfn.get_waiter("stack_create_complete").wait(StackName="orders", WaiterConfig={"Delay": 0.1, "MaxAttempts": 600})
    rule = cfn.describe_stacks(StackName="orders")["Stacks"][0]["Outputs"][0]["OutputValue"]
    assert json.loads(events.describe_rule(Name=rule)["EventPattern"]) == {"source": ["shop"], "detail-type": ["order"]}
    [schedule] = lamina.client("scheduler").list_schedules()["Schedules"]
    assert schedule["State"] == "ENABLED"
    [subscription] = lamina.client("logs").describe_subscription_filters(
        logGroupName=next(f for f in lamina.client().list_functions()["Functions"] if f["FunctionName"].startswith("orders-Orders"))
        ["LoggingConfig"]["LogGroup"])["subscriptionFilters"]
    assert subscription["filterPattern"] == "ERROR"
    event_id = put(events, "shop", "order", {"n": 9})
    assert collector.get()["event"]["id"] == event_id
    cfn.delete_stack(StackName="orders")
    cfn.get_waiter("stack_delete_complete").wait(StackName="orders", WaiterConfig={"Delay": 0.1, "MaxAttempts": 600})
    assert events.list_rules()["Rules"] == []
    assert lamina.client("scheduler").list_schedules()["Schedules"] == []


ALICE = ("AKIAALICEEXAMPLE", "alice-secret", "111111111111")


def test_in_authenticated_mode_targets_and_subscriptions_need_their_resource_policies(tmp_path, collector):
    config = ('[auth]\nmode = "sigv4"\n'
              f'[[auth.keys]]\naccess_key_id = "{ALICE[0]}"\nsecret_access_key = "{ALICE[1]}"\naccount = "{ALICE[2]}"\n')
    server = Lamina(tmp_path / "data", config=config).start()
    try:
        signed = {"aws_access_key_id": ALICE[0], "aws_secret_access_key": ALICE[1], "region_name": REGION}
        import boto3
        from botocore.config import Config
        client = lambda service: boto3.client(service, endpoint_url=server.url, config=Config(retries={"total_max_attempts": 1}), **signed)  # noqa: E731
        lam, events, sqs, logs, scheduler = (client(s) for s in ["lambda", "events", "sqs", "logs", "scheduler"])
        fn = create(lam, "guarded", handler="reporter.handler", code=function_zip("reporter.py"),
                    Environment={"Variables": {"REPORT_URL": collector.url}})["FunctionArn"]
        dlq_url, dlq = queue(sqs, "guarded-dlq")
        rule = events.put_rule(Name="guarded", EventPattern=json.dumps({"source": ["shop"]}))["RuleArn"]
        events.put_targets(Rule="guarded", Targets=[{"Id": "fn", "Arn": fn, "DeadLetterConfig": {"Arn": dlq}}])
        put(events, "shop", "order", {"n": 1})
        [letter] = messages(sqs, dlq_url, 1, attributes=True)
        assert letter["MessageAttributes"]["ERROR_CODE"]["StringValue"] == "NO_PERMISSIONS"
        lam.add_permission(FunctionName="guarded", StatementId="events", Action="lambda:InvokeFunction",
                           Principal="events.amazonaws.com", SourceArn=rule)
        event_id = put(events, "shop", "order", {"n": 2})
        assert collector.get()["event"]["id"] == event_id

        logs.create_log_group(logGroupName="guarded-logs")
        e = error_of(logs.put_subscription_filter, logGroupName="guarded-logs", filterName="f", filterPattern="",
                     destinationArn=fn)
        assert e == {"Code": "InvalidParameterException", "Message": "Could not execute the lambda function. Make sure "
                     "you have given CloudWatch Logs permission to execute your function."}
        lam.add_permission(FunctionName="guarded", StatementId="logs", Action="lambda:InvokeFunction",
                           Principal=f"logs.{REGION}.amazonaws.com",
                           SourceArn=f"arn:aws:logs:{REGION}:{ALICE[2]}:log-group:guarded-logs:*")
        logs.put_subscription_filter(logGroupName="guarded-logs", filterName="f", filterPattern="", destinationArn=fn)

        # Scheduler's paths, its tags' shared with API Gateway's, go by the signature's scope.
        group = scheduler.create_schedule_group(Name="signed", Tags=[{"Key": "k", "Value": "v"}])["ScheduleGroupArn"]
        assert scheduler.list_tags_for_resource(ResourceArn=group)["Tags"] == [{"Key": "k", "Value": "v"}]
        assert [g["Name"] for g in scheduler.list_schedule_groups()["ScheduleGroups"]] == ["default", "signed"]
    finally:
        server.stop()
