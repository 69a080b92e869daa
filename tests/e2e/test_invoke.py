"""Invoke: results, errors, timeouts, limits, logs and scaling, as a caller sees them."""
import base64
import json
import os
import re
import shutil
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

from conftest import Lamina, create, function_zip, invoke_json, log_of, wait_updated, without_notice, zip_bytes

APP = function_zip("app.py")


@pytest.fixture
def py(lam):
    create(lam, "py", code=APP, Timeout=2)
    return lam


def test_python_result_context_and_environment(py):
    r, body = invoke_json(py, "py", {"action": "echo", "x": [1, 2]})
    assert r["StatusCode"] == 200
    assert r["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in r
    assert body["event"] == {"action": "echo", "x": [1, 2]}
    assert body["request_id"] == r["ResponseMetadata"]["RequestId"]

    _, ctx = invoke_json(py, "py", {"action": "context"})
    assert ctx["function_name"] == "py"
    assert ctx["function_version"] == "$LATEST"
    assert ctx["invoked_function_arn"] == "arn:aws:lambda:us-east-1:000000000000:function:py"
    assert ctx["memory_limit_in_mb"] == "128"
    assert ctx["log_group_name"] == "/aws/lambda/py"
    assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", ctx["log_stream_name"])
    assert 0 < ctx["remaining_ms"] <= 2000
    env = ctx["env"]
    for key, value in {"_HANDLER": "app.handler", "AWS_LAMBDA_FUNCTION_NAME": "py",
                       "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                       "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
                       "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12", "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/py",
                       "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand", "TZ": ":UTC"}.items():
        assert env[key] == value, key
    assert re.fullmatch(r"127\.0\.0\.1:\d+", env["AWS_LAMBDA_RUNTIME_API"])
    assert env["LAMBDA_TASK_ROOT"] == "/var/task"
    assert env["LAMBDA_RUNTIME_DIR"] == "/var/runtime"
    assert "LAMINA_TEST_SECRET" not in env, "nothing leaks from Lamina's own environment"


def test_functions_reach_lamina_through_the_sdk(py):
    # AWS_ENDPOINT_URL and the function's credentials point boto3 back at Lamina.
    r, body = invoke_json(py, "py", {"action": "call_lamina"})
    assert "FunctionError" not in r, body
    assert body == ["py"]


def test_warm_reuse_and_logs(py):
    first = py.invoke(FunctionName="py", Payload=b'{"action": "echo"}', LogType="Tail")
    second = py.invoke(FunctionName="py", Payload=b'{"action": "echo"}', LogType="Tail")
    first_env = json.loads(first["Payload"].read())["environment"]
    assert first_env == json.loads(second["Payload"].read())["environment"]
    cold, warm = without_notice(log_of(first)), log_of(second)
    rid = first["ResponseMetadata"]["RequestId"]
    assert cold.startswith(f"START RequestId: {rid} Version: $LATEST\n")
    assert 'echo {"action": "echo"}\n' in cold
    assert f"END RequestId: {rid}\n" in cold
    report = re.search(r"REPORT RequestId: (\S+)\tDuration: ([\d.]+) ms\tBilled Duration: (\d+) ms\t"
                       r"Memory Size: 128 MB\tMax Memory Used: (\d+) MB\tInit Duration: ([\d.]+) ms\t", cold)
    assert report and report.group(1) == rid and int(report.group(4)) > 0
    assert "Init Duration" not in warm, "only a cold start reports its init"
    assert "REPORT RequestId: " in warm
    # Back-to-back invokes without a log tail reuse the same warm environment too.
    envs = {invoke_json(py, "py", {"action": "echo"})[1]["environment"] for _ in range(20)}
    assert envs == {first_env}


def test_python_logging_is_formatted_as_on_aws(py):
    r = py.invoke(FunctionName="py", Payload=b'{"action": "log", "what": "this"}', LogType="Tail")
    rid = r["ResponseMetadata"]["RequestId"]
    assert re.search(r"\[INFO\]\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t" + rid + r"\tlogged this\n", log_of(r))


def test_concurrency_limit_answers_429(tmp_path, collector):
    server = Lamina(tmp_path / "data", config="[functions]\nconcurrency = 2\n").start()
    try:
        lam = server.client()
        create(lam, "busy", code=function_zip("reporter.py"), handler="reporter.handler", Timeout=30,
               Environment={"Variables": {"REPORT_URL": collector.url}})
        assert lam.get_account_settings()["AccountLimit"]["ConcurrentExecutions"] == 2
        with ThreadPoolExecutor(max_workers=2) as pool:
            calls = [pool.submit(invoke_json, lam, "busy", {"sleep": 2}) for _ in range(2)]
            collector.get()
            collector.get()  # both are running now
            with pytest.raises(ClientError) as e:
                invoke_json(lam, "busy", {})
            assert all("FunctionError" not in c.result()[0] for c in calls)
        throttled = e.value.response
        assert throttled["ResponseMetadata"]["HTTPStatusCode"] == 429
        assert throttled["Error"]["Code"] == "TooManyRequestsException"
        assert throttled["Reason"] == "ConcurrentInvocationLimitExceeded"
        assert invoke_json(lam, "busy", {})[1] == {"attempt": 1}, "capacity is back once they finish"
    finally:
        server.stop()


def test_log_tail_is_the_last_4kb(py):
    r = py.invoke(FunctionName="py", Payload=b'{"action": "print", "lines": 2000}', LogType="Tail")
    log = log_of(r)
    assert len(log.encode()) <= 4096
    assert "line 1999\n" in log and log.rstrip("\n").split("\n")[-1].startswith("REPORT RequestId:")


def test_function_error_is_unhandled_with_aws_error_document(py):
    r, body = invoke_json(py, "py", {"action": "error", "message": "bad input"})
    assert r["StatusCode"] == 200
    assert r["FunctionError"] == "Unhandled"
    assert body["errorMessage"] == "bad input"
    assert body["errorType"] == "ValueError"
    assert isinstance(body["stackTrace"], list) and any("app.py" in line for line in body["stackTrace"])
    assert not any("bootstrap" in line for line in body["stackTrace"]), "only the function's own frames, as AWS"
    # The environment survives a handled error.
    r, body = invoke_json(py, "py", {"action": "echo"})
    assert "FunctionError" not in r


def host_processes(needle):
    """Live host processes whose command line or environment contains `needle`."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    continue
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read()
            with open(f"/proc/{entry}/environ", "rb") as f:
                environ = f.read()
        except OSError:
            continue
        if needle.encode() in cmdline or needle.encode() in environ:
            found.append(int(entry))
    return found


def uid_processes(uid):
    """Live host processes running as `uid` (each sandboxed environment has its own)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as f:
                status = f.read()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("State", "").strip().startswith("Z"):
            continue
        if int(fields["Uid"].split()[0]) == uid:
            found.append(int(entry))
    return found


def wait_until_gone(needle, seconds=10):
    """SIGKILL is sent before the answer; delivery can lag on a busy machine. `needle`
    is a uid, or a string in a process's command line or environment."""
    find = uid_processes if isinstance(needle, int) else host_processes
    deadline = time.monotonic() + seconds
    while find(needle):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_timeout_kills_the_whole_process_tree(py):
    marker = "%d.%d" % (os.getpid(), time.monotonic_ns() % 10**9)
    r = py.invoke(FunctionName="py", Payload=json.dumps({"action": "spawn_and_hang", "marker": marker}),
                  LogType="Tail")
    body = json.loads(r["Payload"].read())
    assert r["FunctionError"] == "Unhandled"
    rid = r["ResponseMetadata"]["RequestId"]
    assert body == {"errorType": "Sandbox.Timedout",
                    "errorMessage": f"RequestId: {rid} Error: Task timed out after 2.00 seconds"}
    assert f"{rid} Task timed out after 2.00 seconds" in log_of(r)
    assert wait_until_gone(f"sleep {marker}"), "the function's orphaned grandchildren survived the timeout"
    # A fresh environment serves the next call.
    r, body = invoke_json(py, "py", {"action": "echo"})
    assert "FunctionError" not in r


def test_unserializable_result_is_a_marshal_error(py):
    r, body = invoke_json(py, "py", {"action": "unmarshalable"})
    assert r["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.MarshalError"
    assert body["errorMessage"].startswith("Unable to marshal response: Object of type set is not JSON serializable")


def test_idle_environments_are_reaped(tmp_path):
    server = Lamina(tmp_path / "data", config="[functions]\nidle_timeout_secs = 0.3\n").start()
    try:
        lam = server.client()
        create(lam, "idle", code=APP)
        _, body = invoke_json(lam, "idle", {"action": "echo"})
        assert uid_processes(body["uid"]), "the environment runs until it is reaped"
        assert wait_until_gone(body["uid"], seconds=30), "idle environment was not reaped"
        r = lam.invoke(FunctionName="idle", Payload=b'{"action": "echo"}', LogType="Tail")
        assert "Init Duration" in log_of(r), "the next invoke is a cold start"
    finally:
        server.stop()


def test_exit_is_runtime_exit_error(py):
    r, body = invoke_json(py, "py", {"action": "exit", "code": 3})
    rid = r["ResponseMetadata"]["RequestId"]
    assert r["FunctionError"] == "Unhandled"
    assert body == {"errorType": "Runtime.ExitError",
                    "errorMessage": f"RequestId: {rid} Error: Runtime exited with error: exit status 3"}
    r, _ = invoke_json(py, "py", {"action": "echo"})
    assert "FunctionError" not in r


def test_oversized_request_and_response(lamina, py):
    with pytest.raises(ClientError) as e:
        py.invoke(FunctionName="py", Payload=json.dumps({"pad": "x" * (6 * 1024 * 1024)}))
    err = e.value.response
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert err["Error"]["Code"] == "RequestEntityTooLargeException"
    before = invoke_json(py, "py", {"action": "echo"})[1]["environment"]
    # 7 MB: the runtime is still sending when the Runtime API stops reading.
    r, body = invoke_json(py, "py", {"action": "big", "size": 7 * 1024 * 1024})
    assert r["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Function.ResponseSizeTooLarge"
    assert body["errorMessage"] == "Response payload size exceeded maximum allowed payload size (6291556 bytes)."
    # The runtime lives on: the next invocation runs in the same environment.
    assert invoke_json(py, "py", {"action": "echo"})[1]["environment"] == before
    # Just under the limit goes through.
    r, body = invoke_json(py, "py", {"action": "big", "size": 6 * 1024 * 1024 - 100})
    assert "FunctionError" not in r and len(body) == 6 * 1024 * 1024 - 100


def test_dry_run_event_and_bad_payloads(lamina, py):
    assert py.invoke(FunctionName="py", InvocationType="DryRun")["StatusCode"] == 204
    status, headers, body = lamina.http("POST", "/2015-03-31/functions/py/invocations", b"{nope",
                                        {"x-amz-invocation-type": "RequestResponse"})
    assert (status, headers["x-amzn-ErrorType"]) == (400, "InvalidRequestContentException")
    assert json.loads(body)["message"].startswith("Could not parse request body into json")
    status, headers, _ = lamina.http("POST", "/2015-03-31/functions/py/invocations", b"{}",
                                     {"x-amz-invocation-type": "Sometimes"})
    assert (status, headers["x-amzn-ErrorType"]) == (400, "ValidationException")
    with pytest.raises(ClientError) as e:
        py.invoke(FunctionName="missing", Payload=b"{}")
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        py.invoke(FunctionName="py", Qualifier="7", Payload=b"{}")
    assert e.value.response["Error"]["Message"] == \
        "Function not found: arn:aws:lambda:us-east-1:000000000000:function:py:7"


def test_no_payload_is_the_empty_object(py):
    r = py.invoke(FunctionName="py")
    assert json.loads(r["Payload"].read())["event"] == {}


def test_init_errors_are_reported_as_aws_does(lam):
    create(lam, "bad-import", code=function_zip("bad_import.py"), handler="bad_import.handler")
    r, body = invoke_json(lam, "bad-import", {})
    assert r["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert body["errorMessage"] == ("Unable to import module 'bad_import': "
                                    "No module named 'module_that_does_not_exist'")
    create(lam, "no-handler", code=APP, handler="app.nothing_here")
    r, body = invoke_json(lam, "no-handler", {})
    assert body["errorType"] == "Runtime.HandlerNotFound"
    # A Java handler whose class the package lacks fails its init; on a host without a
    # JDK the function is Failed and its invokes refused at once.
    create(lam, "java", code=APP, runtime="java21", handler="x.Y::handle")
    if shutil.which("javac"):
        r, body = invoke_json(lam, "java", {})
        assert body == {"errorMessage": "Class not found: x.Y", "errorType": "java.lang.ClassNotFoundException"}
    else:
        with pytest.raises(ClientError) as e:
            invoke_json(lam, "java", {})
        assert e.value.response["Error"]["Code"] == "ResourceConflictException"


def test_update_code_runs_the_new_code(py):
    invoke_json(py, "py", {"action": "echo"})
    src = "def handler(event, context):\n    return 'v2'\n"
    py.update_function_code(FunctionName="py", ZipFile=zip_bytes({"app.py": src}))
    wait_updated(py, "py")
    r, body = invoke_json(py, "py", {})
    assert body == "v2"
    py.update_function_configuration(FunctionName="py", Environment={"Variables": {"COLOR": "blue"}})
    wait_updated(py, "py")
    py.update_function_code(FunctionName="py", ZipFile=zip_bytes(
        {"app.py": "import os\ndef handler(e, c):\n    return os.environ['COLOR']\n"}))
    wait_updated(py, "py")
    assert invoke_json(py, "py", {})[1] == "blue"


def test_twenty_parallel_invokes_scale_out(lam):
    create(lam, "par", code=APP, Timeout=30)
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(lambda _: invoke_json(lam, "par", {"action": "sleep", "seconds": 1.5}), range(20)))
    assert all("FunctionError" not in r for r, _ in results)
    envs = {body["environment"] for _, body in results}
    assert len(envs) >= 18, f"20 overlapping invokes ran in only {len(envs)} environments"


def test_node_runtimes(lam):
    code = function_zip("index.js", "esm.mjs")
    for runtime in ("nodejs20.x", "nodejs22.x"):
        create(lam, f"node-{runtime[6:8]}", runtime=runtime, handler="index.handler", code=code)
    r = lam.invoke(FunctionName="node-20", Payload=b'{"hello": "node"}', LogType="Tail")
    body = json.loads(r["Payload"].read())
    assert body["event"] == {"hello": "node"}
    assert body["functionName"] == "node-20"
    assert body["requestId"] == r["ResponseMetadata"]["RequestId"]
    assert 0 < body["remaining"] <= 3000
    assert re.search(r"\d{4}-\d\d-\d\dT[\d:.]+Z\t" + body["requestId"] + r"\tINFO\tnode echo \{\"hello\":\"node\"\}",
                     log_of(r))
    r, body = invoke_json(lam, "node-22", {"action": "error", "message": "nope"})
    assert r["FunctionError"] == "Unhandled"
    assert body["errorType"] == "TypeError" and body["errorMessage"] == "nope"
    assert isinstance(body["trace"], list)

    create(lam, "node-cb", runtime="nodejs20.x", handler="index.withCallback", code=code)
    assert invoke_json(lam, "node-cb", {"n": 1})[1] == {"viaCallback": True, "event": {"n": 1}}
    create(lam, "node-esm", runtime="nodejs24.x", handler="esm.handler", code=code)
    assert invoke_json(lam, "node-esm", {"n": 2})[1] == {"esm": True, "event": {"n": 2}}

    # An answer over 6 MB is refused mid-send; the runtime lives on for the next one.
    big = zip_bytes({"big.js": "exports.handler = async (e) => 'a'.repeat(e.bytes);\n"})
    create(lam, "node-big", runtime="nodejs20.x", handler="big.handler", code=big)
    colds = []
    for size in [7 * 1024 * 1024, 7 * 1024 * 1024, 3]:
        r, body = invoke_json(lam, "node-big", {"bytes": size}, LogType="Tail")
        assert body == "aaa" if size == 3 else body["errorType"] == "Function.ResponseSizeTooLarge"
        colds.append("Init Duration" in log_of(r))
    assert colds == [True, False, False], "one environment served all three"


def test_aws_cli_invoke_with_log_tail(lamina, py, tmp_path):
    out = tmp_path / "out.json"
    result = lamina.aws("lambda", "invoke", "--function-name", "py", "--payload", '{"action": "echo"}',
                        "--log-type", "Tail", str(out))
    assert result["StatusCode"] == 200
    assert json.loads(out.read_text())["event"] == {"action": "echo"}
    assert "START RequestId:" in base64.b64decode(result["LogResult"]).decode()
