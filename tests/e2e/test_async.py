"""Asynchronous invocation: accepted durably, retried, never lost across restarts."""
import json
import queue

import pytest

from conftest import Lamina, create, function_zip

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
    from botocore.exceptions import ClientError
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
