"""EventBridge Scheduler as a user drives it with boto3: one-time `at()` schedules that
delete themselves, `rate()` and `cron()` schedules in a time zone under an injected clock,
templated targets (SQS, Lambda, an event bus) and a universal one, groups, and AWS's
errors."""
import json

import pytest
from botocore.exceptions import ClientError

from conftest import ROLE, Lamina

ACCOUNT = "000000000000"
REGION = "us-east-1"


@pytest.fixture
def server(tmp_path):
    s = Lamina(tmp_path / "data", config="[async]\nadjustable_clock = true\n").start()
    yield s
    s.stop()


def advance(server, secs):
    assert server.http("POST", f"/_lamina/clock?advance_secs={secs}")[0] == 204


def queue(sqs, name):
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def bodies(sqs, url, n):
    got = []
    for _ in range(30):
        for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []):
            got.append(m["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        if len(got) >= n:
            return got
    pytest.fail(f"timed out waiting for {n} messages; got {got}")


def nothing_more(sqs, url):
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", []) == []


def error_of(call, **kw):
    with pytest.raises(ClientError) as e:
        call(**kw)
    return e.value.response["Error"]


def server_time(server, scheduler):
    """The server's clock, read from a schedule group's creation time."""
    scheduler.create_schedule_group(Name="clock-probe")
    when = scheduler.get_schedule_group(Name="clock-probe")["CreationDate"]
    scheduler.delete_schedule_group(Name="clock-probe")
    return when


def test_an_at_schedule_fires_once_with_its_context_then_deletes_itself(server):
    scheduler, sqs = server.client("scheduler"), server.client("sqs")
    url, arn = queue(sqs, "reminders")
    now = server_time(server, scheduler)
    at = (now.replace(microsecond=0, tzinfo=None) + __import__("datetime").timedelta(hours=1)).isoformat()
    created = scheduler.create_schedule(
        Name="remind-me", ScheduleExpression=f"at({at})", FlexibleTimeWindow={"Mode": "OFF"},
        ActionAfterCompletion="DELETE",
        Target={"Arn": arn, "RoleArn": ROLE, "Input": '{"arn": "<aws.scheduler.schedule-arn>", '
                                                      '"at": "<aws.scheduler.scheduled-time>"}'})
    assert created["ScheduleArn"] == f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/default/remind-me"
    got = scheduler.get_schedule(Name="remind-me")
    assert (got["ScheduleExpressionTimezone"], got["State"], got["ActionAfterCompletion"]) == ("UTC", "ENABLED", "DELETE")
    assert got["Target"]["RetryPolicy"] == {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185}
    advance(server, 3601)
    [body] = bodies(sqs, url, 1)
    assert json.loads(body) == {"arn": created["ScheduleArn"], "at": at + "Z"}
    nothing_more(sqs, url)
    e = error_of(scheduler.get_schedule, Name="remind-me")
    assert e == {"Code": "ResourceNotFoundException", "Message": "Schedule remind-me does not exist."}


def test_rate_and_cron_schedules_fire_on_their_times_in_their_zone(server):
    scheduler, sqs, events = server.client("scheduler"), server.client("sqs"), server.client("events")
    url, arn = queue(sqs, "ticks")
    scheduler.create_schedule_group(Name="jobs", Tags=[{"Key": "team", "Value": "ops"}])
    scheduler.create_schedule(Name="every-minute", GroupName="jobs", ScheduleExpression="rate(1 minute)",
                              FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 5},
                              Target={"Arn": arn, "RoleArn": ROLE, "Input": '"tick"'})
    advance(server, 61)
    assert bodies(sqs, url, 1) == ['"tick"']
    # 9:00 in New York, whatever the season: a universal target sends an SQS message.
    scheduler.create_schedule(Name="morning", GroupName="jobs", ScheduleExpression="cron(0 9 * * ? *)",
                              ScheduleExpressionTimezone="America/New_York", FlexibleTimeWindow={"Mode": "OFF"},
                              Target={"Arn": "arn:aws:scheduler:::aws-sdk:sqs:sendMessage", "RoleArn": ROLE,
                                      "Input": json.dumps({"QueueUrl": url, "MessageBody": "good morning"})})
    listed = scheduler.list_schedules(GroupName="jobs")["Schedules"]
    assert sorted(s["Name"] for s in listed) == ["every-minute", "morning"]
    assert scheduler.list_tags_for_resource(
        ResourceArn=f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule-group/jobs")["Tags"] == [{"Key": "team", "Value": "ops"}]
    # A day at once: the rate fires once for the missed minutes, the morning job once.
    advance(server, 86_400)
    assert sorted(bodies(sqs, url, 2)) == ['"tick"', "good morning"]
    nothing_more(sqs, url)
    scheduler.delete_schedule(Name="morning", GroupName="jobs")

    # An EventBridge target puts an event on the bus.
    events_url, events_q = queue(sqs, "from-bus")
    events.put_rule(Name="scheduled", EventPattern=json.dumps({"source": ["my.scheduler"]}))
    events.put_targets(Rule="scheduled", Targets=[{"Id": "q", "Arn": events_q}])
    scheduler.create_schedule(Name="to-bus", ScheduleExpression="rate(5 minutes)", FlexibleTimeWindow={"Mode": "OFF"},
                              Target={"Arn": f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default", "RoleArn": ROLE,
                                      "Input": json.dumps({"job": "report"}),
                                      "EventBridgeParameters": {"DetailType": "Job Due", "Source": "my.scheduler"}})
    scheduler.update_schedule(Name="every-minute", GroupName="jobs", ScheduleExpression="rate(1 minute)",
                              State="DISABLED", FlexibleTimeWindow={"Mode": "OFF"}, Target={"Arn": arn, "RoleArn": ROLE})
    advance(server, 301)
    [event] = bodies(sqs, events_url, 1)
    event = json.loads(event)
    assert (event["source"], event["detail-type"], event["detail"]) == ("my.scheduler", "Job Due", {"job": "report"})
    assert event["resources"] == [f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/default/to-bus"]
    nothing_more(sqs, url)


def test_schedules_are_checked_in_schedulers_words(server):
    scheduler = server.client("scheduler")
    target = {"Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:q", "RoleArn": ROLE}
    for bad in ["rate(10 seconds)", "rate(1 minutes)", "cron(0 1 * * * *)", "at(2030-01-01)", " rate(5 minutes)"]:
        e = error_of(scheduler.create_schedule, Name="bad", ScheduleExpression=bad, FlexibleTimeWindow={"Mode": "OFF"},
                     Target=target)
        assert e == {"Code": "ValidationException", "Message": f"Invalid Schedule Expression {bad}."}
    scheduler.create_schedule(Name="ok", ScheduleExpression="rate(5 minutes)", FlexibleTimeWindow={"Mode": "OFF"},
                              Target=target)
    e = error_of(scheduler.create_schedule, Name="ok", ScheduleExpression="rate(5 minutes)",
                 FlexibleTimeWindow={"Mode": "OFF"}, Target=target)
    assert e == {"Code": "ConflictException", "Message": "Schedule ok already exists."}
    e = error_of(scheduler.create_schedule, Name="x", GroupName="nope", ScheduleExpression="rate(5 minutes)",
                 FlexibleTimeWindow={"Mode": "OFF"}, Target=target)
    assert e == {"Code": "ResourceNotFoundException", "Message": "Schedule group nope does not exist."}
    e = error_of(scheduler.delete_schedule, Name="missing")
    assert e == {"Code": "ResourceNotFoundException", "Message": "Schedule missing does not exist."}


def test_a_schedule_whose_target_fails_sends_its_dead_letter(server):
    scheduler, sqs = server.client("scheduler"), server.client("sqs")
    dlq_url, dlq = queue(sqs, "schedule-dlq")
    arn = scheduler.create_schedule(
        Name="to-nowhere", ScheduleExpression="rate(1 hour)", FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:gone", "RoleArn": ROLE, "Input": '{"job": 1}',
                "DeadLetterConfig": {"Arn": dlq}, "RetryPolicy": {"MaximumRetryAttempts": 0}})["ScheduleArn"]
    advance(server, 3601)
    for _ in range(30):
        got = sqs.receive_message(QueueUrl=dlq_url, WaitTimeSeconds=1, MessageAttributeNames=["All"]).get("Messages")
        if got:
            break
    [letter] = got
    assert json.loads(letter["Body"]) == {"job": 1}
    attrs = {k: v["StringValue"] for k, v in letter["MessageAttributes"].items()}
    assert (attrs["SCHEDULE_ARN"], attrs["TARGET_ARN"], attrs["ERROR_CODE"]) == (
        arn, f"arn:aws:sqs:{REGION}:{ACCOUNT}:gone", "NO_RESOURCE")
    assert attrs["SCHEDULED_TIME"].endswith("Z") and attrs["EXECUTION_ID"]
