"""CloudWatch Logs: functions' output in `/aws/lambda/<name>` as it is printed (read with
`aws logs tail --follow`, aws CLI v2), the Logs API through boto3, filter patterns,
retention, and persistence."""
import json
import os
import queue
import subprocess
import threading
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import ROOT, SUBSTITUTE_NOTICE, create, function_zip

AWS_V2 = os.environ.get("AWS_CLI_V2", str(ROOT / ".venv-awscli2" / "bin" / "aws"))


def error(call):
    with pytest.raises(ClientError) as e:
        call()
    r = e.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"], r["Error"]["Message"]


def wait_for(predicate, what, timeout=30):
    """Polls `predicate` until it returns something truthy; a guard, not a timing assertion."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = predicate()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def messages(logs, group, **kw):
    return [e["message"] for e in logs.filter_log_events(logGroupName=group, **kw)["events"]]


def test_tail_follow_shows_a_line_printed_mid_invocation(lamina, lam):
    sqs = lamina.client("sqs")
    release = sqs.create_queue(QueueName="release")["QueueUrl"]
    create(lam, "talker", code=function_zip("logger.py"), handler="logger.handler", Timeout=60)
    first = json.loads(lam.invoke(FunctionName="talker", Payload=b'{"lines": ["warming up"]}')["Payload"].read())
    assert first["group"] == "/aws/lambda/talker"
    env = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1")
    tail = subprocess.Popen([AWS_V2, "--endpoint-url", lamina.url, "logs", "tail", "/aws/lambda/talker", "--follow",
                             "--format", "short"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in tail.stdout], daemon=True).start()

    def read_until(needle):
        seen = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                continue
            seen.append(line)
            if needle in line:
                return seen
        raise AssertionError(f"tail never showed {needle!r}: {seen} {tail.stderr.read() if tail.poll() else ''}")

    try:
        assert "warming up" in "".join(read_until("warming up"))
        marker = f"mid-invocation {uuid.uuid4()}"
        done = {}
        invoking = threading.Thread(target=lambda: done.update(lam.invoke(
            FunctionName="talker", Payload=json.dumps({"lines": [marker], "wait_queue": release}).encode())))
        invoking.start()
        read_until(marker)
        # The function is still waiting for its release: the line came out before the end.
        assert not done and invoking.is_alive()
        sqs.send_message(QueueUrl=release, MessageBody="go")
        invoking.join(timeout=60)
        assert done["StatusCode"] == 200
        after = read_until("END RequestId")
        assert any("released" in line for line in after)
    finally:
        tail.kill()
        tail.wait()


def test_each_environment_writes_its_own_stream_named_as_lambda_names_them(lamina, lam):
    create(lam, "streams", code=function_zip("logger.py"), handler="logger.handler")
    out = json.loads(lam.invoke(FunctionName="streams", Payload=b'{"lines": ["one"]}')["Payload"].read())
    logs = lamina.client("logs")
    stream = out["stream"]
    day = time.strftime("%Y/%m/%d", time.gmtime())
    assert stream.startswith(f"{day}/[$LATEST]") and len(stream.split("]")[1]) == 32
    wait_for(lambda: "one\n" in messages(logs, "/aws/lambda/streams"), "the line")
    described = logs.describe_log_streams(logGroupName="/aws/lambda/streams")["logStreams"]
    assert [s["logStreamName"] for s in described] == [stream]
    events = logs.get_log_events(logGroupName="/aws/lambda/streams", logStreamName=stream,
                                 startFromHead=True)["events"]
    text = [e["message"] for e in events if not SUBSTITUTE_NOTICE.match(e["message"])]
    assert text[0].startswith("START RequestId: ") and text[1] == "one\n"
    assert text[2].startswith("END RequestId: ") and text[3].startswith("REPORT RequestId: ")
    group = logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/")["logGroups"][0]
    assert group["logGroupName"] == "/aws/lambda/streams" and group["storedBytes"] > 0
    assert group["arn"] == "arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/streams:*"


def test_filter_log_events_with_patterns(lamina, lam):
    lines = [
        "[INFO] starting",
        "[ERROR] disk full on /dev/sda",
        "[WARN] retrying",
        json.dumps({"level": "ERROR", "ms": 250, "user": {"id": "u-7"}}),
        json.dumps({"level": "INFO", "ms": 12}),
        '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /a.gif HTTP/1.0" 404 2326',
    ]
    create(lam, "patterns", code=function_zip("logger.py"), handler="logger.handler")
    lam.invoke(FunctionName="patterns", Payload=json.dumps({"lines": lines}).encode())
    logs = lamina.client("logs")
    group = "/aws/lambda/patterns"
    wait_for(lambda: any("404 2326" in m for m in messages(logs, group)), "the last line")

    def found(pattern):
        return [m.rstrip("\n") for m in messages(logs, group, filterPattern=pattern)]

    assert found("ERROR") == [lines[1], lines[3]]
    assert found('"disk full"') == [lines[1]]
    assert found("?WARN ?INFO") == [lines[0], lines[2], lines[4]]
    assert found("ERROR -disk") == [lines[3]]
    assert found('{ $.level = "ERROR" && $.ms > 100 }') == [lines[3]]
    assert found('{ $.user.id = "u-*" || $.ms < 20 }') == [lines[3], lines[4]]
    assert found("[ip, id, user, time, request, status = 4*, size > 1000]") == [lines[5]]
    # The same through the aws CLI (v1), as scripts call it.
    cli = lamina.aws("logs", "filter-log-events", "--log-group-name", group, "--filter-pattern", "?WARN")
    assert [e["message"] for e in cli["events"]] == [lines[2] + "\n"]
    status, code, message = error(lambda: logs.filter_log_events(logGroupName=group, filterPattern="{ $.level = }"))
    assert (status, code) == (400, "InvalidParameterException") and "filter pattern" in message
    paged = logs.filter_log_events(logGroupName=group, limit=2)
    assert len(paged["events"]) == 2 and "nextToken" in paged
    rest = logs.filter_log_events(logGroupName=group, nextToken=paged["nextToken"])["events"]
    assert [e["eventId"] for e in paged["events"] + rest] == [e["eventId"] for e in
                                                               logs.filter_log_events(logGroupName=group)["events"]]


def test_the_logs_api_as_aws_answers_it(lamina):
    logs = lamina.client("logs")
    logs.create_log_group(logGroupName="app/orders", tags={"team": "a"})
    assert error(lambda: logs.create_log_group(logGroupName="app/orders"))[:2] == (
        400, "ResourceAlreadyExistsException")
    status, code, message = error(lambda: logs.create_log_group(logGroupName="bad name!"))
    assert (status, code) == (400, "InvalidParameterException") and "logGroupName" in message
    assert error(lambda: logs.create_log_stream(logGroupName="nope", logStreamName="s")) == (
        400, "ResourceNotFoundException", "The specified log group does not exist.")
    logs.create_log_stream(logGroupName="app/orders", logStreamName="web-1")
    assert error(lambda: logs.put_log_events(logGroupName="app/orders", logStreamName="web-2",
                                             logEvents=[{"timestamp": 1, "message": "x"}])) == (
        400, "ResourceNotFoundException", "The specified log stream does not exist.")
    now = int(time.time() * 1000)
    put = logs.put_log_events(logGroupName="app/orders", logStreamName="web-1",
                              logEvents=[{"timestamp": now + i, "message": f"event {i}"} for i in range(5)])
    assert "rejectedLogEventsInfo" not in put
    assert error(lambda: logs.put_log_events(
        logGroupName="app/orders", logStreamName="web-1",
        logEvents=[{"timestamp": now, "message": "b"}, {"timestamp": now - 1, "message": "a"}]))[:2] == (
        400, "InvalidParameterException")
    late = logs.put_log_events(logGroupName="app/orders", logStreamName="web-1", logEvents=[
        {"timestamp": now + 3 * 3600_000, "message": "from the future"}])
    assert late["rejectedLogEventsInfo"] == {"tooNewLogEventStartIndex": 0}

    # Bodies that are not the operation's JSON get SerializationException.
    for body in [b"{not json", b"[]", b'{"logGroupName": 5}']:
        status, headers, answer = lamina.http("POST", "/", body, {
            "content-type": "application/x-amz-json-1.1", "x-amz-target": "Logs_20140328.CreateLogGroup"})
        assert (status, json.loads(answer)["__type"]) == (400, "SerializationException"), answer

    # GetLogEvents: the newest page first, then backward; forward from the head.
    page = logs.get_log_events(logGroupName="app/orders", logStreamName="web-1", limit=2)
    assert [e["message"] for e in page["events"]] == ["event 3", "event 4"]
    back = logs.get_log_events(logGroupName="app/orders", logStreamName="web-1", limit=2,
                               nextToken=page["nextBackwardToken"])
    assert [e["message"] for e in back["events"]] == ["event 1", "event 2"]
    end = logs.get_log_events(logGroupName="app/orders", logStreamName="web-1", nextToken=page["nextForwardToken"])
    assert end["events"] == [] and end["nextForwardToken"] == page["nextForwardToken"]
    head = logs.get_log_events(logGroupName="app/orders", logStreamName="web-1", startFromHead=True, limit=3)
    assert [e["message"] for e in head["events"]] == ["event 0", "event 1", "event 2"]
    assert error(lambda: logs.get_log_events(logGroupName="app/orders", logStreamName="web-1",
                                             nextToken="garbage"))[:2] == (400, "InvalidParameterException")

    # Retention: events past it are gone at once, and new ones past it are refused.
    logs.create_log_stream(logGroupName="app/orders", logStreamName="batch")
    logs.put_log_events(logGroupName="app/orders", logStreamName="batch",
                        logEvents=[{"timestamp": now - 3 * 86400_000, "message": "three days old"}])
    assert "three days old" in messages(logs, "app/orders")
    assert error(lambda: logs.put_retention_policy(logGroupName="app/orders", retentionInDays=2))[:2] == (
        400, "InvalidParameterException")
    logs.put_retention_policy(logGroupName="app/orders", retentionInDays=1)
    assert "three days old" not in messages(logs, "app/orders")
    stale = logs.put_log_events(logGroupName="app/orders", logStreamName="batch",
                                logEvents=[{"timestamp": now - 86400_000 - 60_000, "message": "stale"},
                                           {"timestamp": now - 120_000, "message": "fresh"}])
    assert stale["rejectedLogEventsInfo"] == {"expiredLogEventEndIndex": 0}
    group = logs.describe_log_groups(logGroupNamePrefix="app/")["logGroups"][0]
    assert group["retentionInDays"] == 1
    assert logs.list_tags_log_group(logGroupName="app/orders")["tags"] == {"team": "a"}
    arn = group["logGroupArn"]
    logs.tag_resource(resourceArn=arn, tags={"env": "test"})
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"team": "a", "env": "test"}

    # DescribeLogStreams: by name, or by last event time, paged.
    streams = logs.describe_log_streams(logGroupName="app/orders", limit=1)
    assert [s["logStreamName"] for s in streams["logStreams"]] == ["batch"] and "nextToken" in streams
    newest = logs.describe_log_streams(logGroupName="app/orders", orderBy="LastEventTime", descending=True)
    assert newest["logStreams"][0]["logStreamName"] == "web-1"
    assert error(lambda: logs.describe_log_streams(logGroupName="app/orders", orderBy="LastEventTime",
                                                   logStreamNamePrefix="w"))[:2] == (400, "InvalidParameterException")

    # Everything survives a restart.
    lamina.restart()
    logs = lamina.client("logs")
    assert messages(logs, "app/orders", logStreamNames=["web-1"])[:5] == [f"event {i}" for i in range(5)]
    logs.delete_log_stream(logGroupName="app/orders", logStreamName="web-1")
    logs.delete_log_group(logGroupName="app/orders")
    assert logs.describe_log_groups()["logGroups"] == []
    assert error(lambda: logs.delete_log_group(logGroupName="app/orders"))[:2] == (400, "ResourceNotFoundException")


def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_a_function_flooding_its_log_is_slowed_and_loses_nothing(lamina, lam):
    create(lam, "flood", code=function_zip("hostile.py"), handler="hostile.log_flood", Timeout=300)
    assert lam.invoke(FunctionName="flood", Payload=b'{"megabytes": 1}')["StatusCode"] == 200
    warm = rss_kib(lamina.proc.pid)
    logs_db = lamina.data_dir / "logs.db"
    before_disk = sum(os.path.getsize(p) for p in lamina.data_dir.glob("logs.db*"))
    out = lam.invoke(FunctionName="flood", Payload=b'{"megabytes": 400}')
    assert out["StatusCode"] == 200 and json.loads(out["Payload"].read()) == "flooded"
    printed = 400 * 1024 * 1024 + 1024 * 1024
    logs = lamina.client("logs")
    # The writer commits what was printed last a few milliseconds after the answer: the
    # stream ends, once it has, with the function's last line, then END and REPORT.
    stream = logs.describe_log_streams(logGroupName="/aws/lambda/flood")["logStreams"][0]["logStreamName"]
    deadline = time.monotonic() + 30
    while True:
        last = [e["message"] for e in logs.get_log_events(logGroupName="/aws/lambda/flood", logStreamName=stream,
                                                          limit=3)["events"]]
        done = len(last) == 3 and last[0] == "flooded: 6400 lines\n" and last[2].startswith("REPORT")
        if done or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert last[0] == "flooded: 6400 lines\n" and last[1].startswith("END") and last[2].startswith("REPORT"), \
        [m[:40] for m in last]
    # Every byte printed is stored (START, END and REPORT besides).
    stored = logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/flood")["logGroups"][0]["storedBytes"]
    assert printed <= stored < printed + 4096, stored
    _, _, metrics = lamina.http("GET", "/_lamina/metrics")
    assert "lamina_log_lines_dropped_total 0" in metrics.decode()
    # Storage costs at most 1.5 bytes a byte printed.
    disk = sum(os.path.getsize(p) for p in lamina.data_dir.glob("logs.db*")) - before_disk
    assert disk <= 1.5 * printed, f"{disk / printed:.2f} bytes on disk a byte printed"
    assert logs_db.exists()
    assert lam.invoke(FunctionName="flood", Payload=b'{"megabytes": 1}')["StatusCode"] == 200
    # The server's memory comes back to where it was.
    deadline = time.monotonic() + 30
    while rss_kib(lamina.proc.pid) > 1.2 * warm:
        assert time.monotonic() < deadline, f"RSS {rss_kib(lamina.proc.pid)} KiB after the flood, {warm} KiB warm"
        time.sleep(0.1)


def test_logging_config_is_merged_as_aws_does_and_names_the_log_group(lamina, lam):
    default_group = "/aws/lambda/logcfg"
    created = create(lam, "logcfg", code=function_zip("app.py"), LoggingConfig={"LogFormat": "JSON"})
    assert created["LoggingConfig"] == {"LogFormat": "JSON", "ApplicationLogLevel": "INFO",
                                        "SystemLogLevel": "INFO", "LogGroup": default_group}
    updated = lam.update_function_configuration(
        FunctionName="logcfg", LoggingConfig={"ApplicationLogLevel": "DEBUG", "LogGroup": "cool_lambda"})
    assert updated["LoggingConfig"] == {"LogFormat": "JSON", "ApplicationLogLevel": "DEBUG",
                                        "SystemLogLevel": "INFO", "LogGroup": "cool_lambda"}
    lam.get_waiter("function_updated_v2").wait(FunctionName="logcfg")
    text = lam.update_function_configuration(FunctionName="logcfg", LoggingConfig={"LogFormat": "Text"})
    assert text["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": "cool_lambda"}
    lamina.restart()
    assert lam.get_function_configuration(FunctionName="logcfg")["LoggingConfig"] == text["LoggingConfig"]

    # The function's logs go to the group it names.
    lam.invoke(FunctionName="logcfg", Payload=b"{}")
    logs = lamina.client("logs")

    def streams():
        try:
            return logs.describe_log_streams(logGroupName="cool_lambda")["logStreams"]
        except logs.exceptions.ResourceNotFoundException:
            return []

    wait_for(streams, "a log stream in the configured group")
