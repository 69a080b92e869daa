"""Asynchronous invocation: accepted durably, retried, never lost across restarts."""
import json
import queue
import time

import pytest
from botocore.exceptions import ClientError

from conftest import Collector, Lamina, create, function_zip

REPORTER = function_zip("reporter.py")


def reporter(lam, collector, name="rep"):
    create(lam, name, code=REPORTER, handler="reporter.handler", Timeout=10,
           Environment={"Variables": {"REPORT_URL": collector.url}})


def test_event_is_accepted_and_runs(lam, collector):
    reporter(lam, collector)
    r = lam.invoke(FunctionName="rep", InvocationType="Event", Payload=json.dumps({"n": 1}))
    assert r["StatusCode"] == 202
    assert r["Payload"].read() == b""
    got = collector.get()
    assert got["event"] == {"n": 1}
    assert got["request_id"] == r["ResponseMetadata"]["RequestId"]


def test_failures_are_retried_with_the_same_request_id(lam, collector):
    reporter(lam, collector)
    r = lam.invoke(FunctionName="rep", InvocationType="Event", Payload=json.dumps({"fail_times": 2}))
    rid = r["ResponseMetadata"]["RequestId"]
    attempts = [collector.get() for _ in range(3)]
    assert [a["request_id"] for a in attempts] == [rid] * 3


def test_retries_stop_after_two(lam, collector):
    reporter(lam, collector)
    lam.invoke(FunctionName="rep", InvocationType="Event", Payload=json.dumps({"fail_times": 99, "tag": "doomed"}))
    for _ in range(3):
        assert collector.get()["event"]["tag"] == "doomed"
    # A later event is delivered, and the doomed one does not come back for a fourth try
    # (retries are 0.2 s apart in these tests).
    lam.invoke(FunctionName="rep", InvocationType="Event", Payload=json.dumps({"tag": "after"}))
    assert collector.get()["event"]["tag"] == "after"
    with pytest.raises(queue.Empty):
        collector.get(timeout=1.5)


def test_async_payload_limit(lam, collector):
    reporter(lam, collector)
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName="rep", InvocationType="Event", Payload=json.dumps({"pad": "x" * (1024 * 1024)}))
    assert e.value.response["Error"]["Code"] == "RequestEntityTooLargeException"


@pytest.mark.parametrize("hard", [False, True], ids=["restart", "kill-9"])
def test_accepted_events_survive_a_server_stop(tmp_path, collector, hard):
    server = Lamina(tmp_path / "data", config="[async]\nparallelism = 1\nretry_delays_secs = [0.2, 0.2]\n").start()
    try:
        lam = server.client()
        reporter(lam, collector)
        ids = set()
        for i in range(30):
            r = lam.invoke(FunctionName="rep", InvocationType="Event", Payload=json.dumps({"i": i, "sleep": 0.05}))
            ids.add(r["ResponseMetadata"]["RequestId"])
        # Stop while most of the accepted events are still queued.
        server.restart(hard=hard)
        delivered = set()
        while not ids <= delivered:
            delivered.add(collector.get(timeout=60)["request_id"])
        assert ids <= delivered
    finally:
        server.stop()


def test_event_invoke_config_api_and_validation(lamina, lam):
    create(lam, "cfg", code=REPORTER, handler="reporter.handler")
    arn = "arn:aws:lambda:us-east-1:000000000000:function:cfg"
    with pytest.raises(ClientError) as e:
        lam.get_function_event_invoke_config(FunctionName="cfg")
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert e.value.response["Error"]["Message"] == f"The function {arn}:$LATEST doesn't have an EventInvokeConfig"

    create(lam, "cfg-sink", code=REPORTER, handler="reporter.handler")
    sink = "arn:aws:lambda:us-east-1:000000000000:function:cfg-sink"
    put = lam.put_function_event_invoke_config(
        FunctionName="cfg", MaximumRetryAttempts=1, MaximumEventAgeInSeconds=120,
        DestinationConfig={"OnFailure": {"Destination": sink}})
    assert put["FunctionArn"] == f"{arn}:$LATEST"
    assert (put["MaximumRetryAttempts"], put["MaximumEventAgeInSeconds"]) == (1, 120)
    assert put["DestinationConfig"] == {"OnSuccess": {}, "OnFailure": {"Destination": sink}}
    assert put["LastModified"].year >= 2026

    updated = lam.update_function_event_invoke_config(FunctionName="cfg", MaximumRetryAttempts=0)
    assert (updated["MaximumRetryAttempts"], updated["MaximumEventAgeInSeconds"]) == (0, 120), "update merges"
    replaced = lam.put_function_event_invoke_config(FunctionName="cfg", MaximumRetryAttempts=2)
    assert "MaximumEventAgeInSeconds" not in replaced, "put replaces"
    listed = lam.list_function_event_invoke_configs(FunctionName="cfg")["FunctionEventInvokeConfigs"]
    assert [c["MaximumRetryAttempts"] for c in listed] == [2]
    lamina.restart()
    lam = lamina.client()
    assert lam.get_function_event_invoke_config(FunctionName="cfg")["MaximumRetryAttempts"] == 2
    lam.delete_function_event_invoke_config(FunctionName="cfg")
    assert lam.list_function_event_invoke_configs(FunctionName="cfg")["FunctionEventInvokeConfigs"] == []

    for body, message in [
        ({"MaximumRetryAttempts": 3}, "1 validation error detected: Value '3' at 'maximumRetryAttempts' failed to "
                                      "satisfy constraint: Member must have value less than or equal to 2"),
        ({"MaximumEventAgeInSeconds": 59}, "1 validation error detected: Value '59' at 'maximumEventAgeInSeconds' "
                                           "failed to satisfy constraint: Member must have value greater than or equal to 60"),
    ]:
        status, headers, raw = lamina.http("PUT", "/2019-09-25/functions/cfg/event-invoke-config",
                                           json.dumps(body).encode())
        assert (status, headers["x-amzn-ErrorType"], json.loads(raw)) == (400, "ValidationException", {"message": message})
    with pytest.raises(ClientError) as e:
        lam.put_function_event_invoke_config(
            FunctionName="cfg", DestinationConfig={"OnFailure": {"Destination": "arn:aws:events:us-east-1:000000000000:event-bus/b"}})
    assert e.value.response["Error"]["Code"] == "InvalidParameterValueException", "no EventBridge"
    # Update changes a configuration; it does not make one.
    with pytest.raises(ClientError) as e:
        lam.update_function_event_invoke_config(FunctionName="cfg", MaximumRetryAttempts=0)
    assert (e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]) == (
        "ResourceNotFoundException",
        "The function arn:aws:lambda:us-east-1:000000000000:function:cfg:$LATEST doesn't have an EventInvokeConfig")


def test_failures_and_successes_reach_their_destinations(lam, collector):
    sink_collector = Collector()
    try:
        create(lam, "sink", code=REPORTER, handler="reporter.handler",
               Environment={"Variables": {"REPORT_URL": sink_collector.url}})
        sink = "arn:aws:lambda:us-east-1:000000000000:function:sink"
        reporter(lam, collector, name="flaky")
        lam.put_function_event_invoke_config(
            FunctionName="flaky", MaximumRetryAttempts=0,
            DestinationConfig={"OnFailure": {"Destination": sink}, "OnSuccess": {"Destination": sink}})

        failed = lam.invoke(FunctionName="flaky", InvocationType="Event", Payload=json.dumps({"fail_times": 9}))
        rid = failed["ResponseMetadata"]["RequestId"]
        assert collector.get()["request_id"] == rid
        record = sink_collector.get()["event"]
        assert record["version"] == "1.0"
        assert record["requestContext"] == {
            "requestId": rid, "functionArn": "arn:aws:lambda:us-east-1:000000000000:function:flaky:$LATEST",
            "condition": "RetriesExhausted", "approximateInvokeCount": 1}
        assert record["requestPayload"] == {"fail_times": 9}
        assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST",
                                             "functionError": "Unhandled"}
        assert record["responsePayload"]["errorType"] == "RuntimeError"
        assert record["responsePayload"]["errorMessage"] == "failing attempt 1 on purpose"
        with pytest.raises(queue.Empty):
            collector.get(timeout=1), "MaximumRetryAttempts=0: no retry"

        ok = lam.invoke(FunctionName="flaky", InvocationType="Event", Payload=json.dumps({"n": 1}))
        collector.get()
        record = sink_collector.get()["event"]
        assert record["requestContext"]["condition"] == "Success"
        assert record["requestContext"]["requestId"] == ok["ResponseMetadata"]["RequestId"]
        assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
        assert record["responsePayload"] == {"attempt": 1}
    finally:
        sink_collector.close()


def test_zero_reserved_concurrency_sends_events_to_failure(lam, collector):
    create(lam, "sink0", code=REPORTER, handler="reporter.handler",
           Environment={"Variables": {"REPORT_URL": collector.url}})
    create(lam, "never", code=REPORTER, handler="reporter.handler")
    lam.put_function_concurrency(FunctionName="never", ReservedConcurrentExecutions=0)
    lam.put_function_event_invoke_config(
        FunctionName="never",
        DestinationConfig={"OnFailure": {"Destination": "arn:aws:lambda:us-east-1:000000000000:function:sink0"}})
    r = lam.invoke(FunctionName="never", InvocationType="Event", Payload=b'{"k": "v"}')
    assert r["StatusCode"] == 202
    record = collector.get()["event"]
    assert record["requestContext"]["condition"] == "ZeroReservedConcurrency"
    assert record["requestContext"]["approximateInvokeCount"] == 0
    assert record["requestPayload"] == {"k": "v"}
    assert "responsePayload" not in record


def test_kill9_mid_delivery_loses_nothing(tmp_path, collector):
    """SIGKILL while events are being accepted and run: after a restart, every accepted
    event has run to success or reached its failure destination."""
    server = Lamina(tmp_path / "data", config="[async]\nparallelism = 1\nretry_delays_secs = [0.2, 0.2]\n").start()
    sink_collector = Collector()
    try:
        lam = server.client()
        create(lam, "sink", code=REPORTER, handler="reporter.handler",
               Environment={"Variables": {"REPORT_URL": sink_collector.url}})
        reporter(lam, collector, name="work")
        lam.put_function_event_invoke_config(
            FunctionName="work", MaximumRetryAttempts=0,
            DestinationConfig={"OnFailure": {"Destination": "arn:aws:lambda:us-east-1:000000000000:function:sink"}})
        succeed, fail = set(), set()
        for i in range(40):
            doomed = i % 2 == 1
            r = lam.invoke(FunctionName="work", InvocationType="Event",
                           Payload=json.dumps({"i": i, "fail_times": 99 if doomed else 0, "sleep": 0.02}))
            (fail if doomed else succeed).add(r["ResponseMetadata"]["RequestId"])
        server.restart(hard=True)
        ran, failed_over = set(), set()
        deadline = time.monotonic() + 120
        while not (succeed <= ran and fail <= failed_over) and time.monotonic() < deadline:
            try:
                ran.add(collector.get(timeout=0.2)["request_id"])
            except queue.Empty:
                pass
            try:
                record = sink_collector.get(timeout=0.2)["event"]
                assert record["requestContext"]["condition"] == "RetriesExhausted"
                failed_over.add(record["requestContext"]["requestId"])
            except queue.Empty:
                pass
        assert succeed <= ran, f"{len(succeed - ran)} accepted events never ran"
        assert fail <= failed_over, f"{len(fail - failed_over)} failed events never reached their destination"
    finally:
        sink_collector.close()
        server.stop()


def test_event_age_expiry_under_an_adjusted_clock(tmp_path, collector):
    """An event that keeps failing waits a minute for its retry (AWS's schedule); moving
    the queue's clock past MaximumEventAgeInSeconds ends it as EventAgeExceeded."""
    server = Lamina(tmp_path / "data", config="[async]\nadjustable_clock = true\n").start()
    sink_collector = Collector()
    try:
        lam = server.client()
        create(lam, "aged-sink", code=REPORTER, handler="reporter.handler",
               Environment={"Variables": {"REPORT_URL": sink_collector.url}})
        reporter(lam, collector, name="aging")
        lam.put_function_event_invoke_config(
            FunctionName="aging", MaximumEventAgeInSeconds=60, MaximumRetryAttempts=2,
            DestinationConfig={"OnFailure": {"Destination": "arn:aws:lambda:us-east-1:000000000000:function:aged-sink"}})
        r = lam.invoke(FunctionName="aging", InvocationType="Event", Payload=json.dumps({"fail_times": 99}))
        rid = r["ResponseMetadata"]["RequestId"]
        assert collector.get()["request_id"] == rid  # the first attempt; the retry is due in 60 s

        # The attempt reports before it fails and is rescheduled: move the clock until the
        # rescheduled retry comes due (each move ages the event further).
        for _ in range(30):
            status, _, _ = server.http("POST", "/_lamina/clock?advance_secs=61")
            assert status == 204
            try:
                record = sink_collector.get(timeout=1)["event"]
                break
            except queue.Empty:
                continue
        else:
            pytest.fail("the expired event never reached its failure destination")
        assert record["requestContext"] == {
            "requestId": rid, "functionArn": "arn:aws:lambda:us-east-1:000000000000:function:aging:$LATEST",
            "condition": "EventAgeExceeded", "approximateInvokeCount": 1}
        assert record["requestPayload"] == {"fail_times": 99}
        with pytest.raises(queue.Empty):
            collector.get(timeout=1), "an expired event is not retried"
    finally:
        sink_collector.close()
        server.stop()


def test_the_clock_cannot_be_moved_unless_configured(lamina):
    status, headers, _ = lamina.http("POST", "/_lamina/clock?advance_secs=61")
    assert (status, headers["x-amzn-ErrorType"]) == (404, "UnknownOperationException")
