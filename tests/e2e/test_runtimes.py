"""What every language runs on: AWS's SDK inside each runtime (from Lamina's SDK layer),
never the host's own packages; each runtime id on its exact interpreter version where the
host has it (PATH, pyenv, nvm, rbenv, asdf, /usr/lib/jvm), else on the nearest, saying so
in the function's StateReason and first log line; `strict` refusing instead, the function
`Failed` and its invokes refused at once; runtimes the host lacks (.NET) `Failed` too; and
`lamina doctor` naming what serves each runtime id."""
import json
import shutil
import subprocess

import pytest
from botocore.exceptions import ClientError

from conftest import LAMINA_BIN, SUBSTITUTE_NOTICE, Lamina, create, invoke_json, log_of, zip_bytes

SDK_PY = """
import importlib.util, os, sys

def handler(event, context):
    import boto3
    names = [f["FunctionName"] for f in boto3.client("lambda").list_functions()["Functions"]]
    return {
        "boto3": boto3.__version__,
        "boto3_from": boto3.__file__,
        "functions": names,
        "host_pytest": importlib.util.find_spec("pytest") is not None,
        "version": "%d.%d.%d" % sys.version_info[:3],
    }
"""

SDK_JS = """
const { LambdaClient, ListFunctionsCommand } = require('@aws-sdk/client-lambda');
const { DynamoDBDocumentClient } = require('@aws-sdk/lib-dynamodb');
exports.handler = async () => {
  const out = await new LambdaClient({}).send(new ListFunctionsCommand({}));
  return { functions: out.Functions.map(f => f.FunctionName), doc: typeof DynamoDBDocumentClient.from,
           node: process.versions.node };
};
"""


SDK_MJS = """
import { LambdaClient, ListFunctionsCommand } from '@aws-sdk/client-lambda';
export const handler = async () => (await new LambdaClient({}).send(new ListFunctionsCommand({}))).Functions.length;
"""


def test_the_sdk_is_inside_and_the_hosts_packages_are_not(lam):
    # python3.11 is the test virtualenv's own interpreter on this host, whose site-packages
    # hold pytest and boto3: neither comes from there.
    create(lam, "sdk-py", runtime="python3.11", code=zip_bytes({"app.py": SDK_PY}), Timeout=30)
    r, body = invoke_json(lam, "sdk-py", {})
    assert "FunctionError" not in r, body
    assert body["boto3"] == "1.44.18" and "/sdk-layer/python/3.11/boto3/" in body["boto3_from"], body
    assert body["functions"] == ["sdk-py"]
    assert body["host_pytest"] is False
    create(lam, "sdk-js", runtime="nodejs20.x", handler="index.handler", code=zip_bytes({"index.js": SDK_JS}),
           Timeout=30)
    r, body = invoke_json(lam, "sdk-js", {})
    assert "FunctionError" not in r, body
    assert sorted(body["functions"]) == ["sdk-js", "sdk-py"] and body["doc"] == "function"
    # An ES module imports it too, as AWS's own examples do.
    create(lam, "sdk-mjs", runtime="nodejs20.x", handler="index.handler", code=zip_bytes({"index.mjs": SDK_MJS}),
           Timeout=30)
    r, body = invoke_json(lam, "sdk-mjs", {})
    assert "FunctionError" not in r, body
    assert body == 3


def host_python(version):
    """Whether pyenv (or PATH) has this Python version, as Lamina looks for it."""
    return shutil.which(f"python{version}") is not None or any(
        p.name.startswith(version + ".") for p in (__import__("pathlib").Path.home() / ".pyenv/versions").glob("*"))


@pytest.mark.parametrize("runtime", ["python3.9", "python3.13", "python3.14"])
def test_each_python_runtime_runs_on_its_own_version_or_says_which(lam, runtime):
    name = "v-" + runtime.replace(".", "-")
    create(lam, name, runtime=runtime, code=zip_bytes({"app.py": SDK_PY}), Timeout=30)
    config = lam.get_function_configuration(FunctionName=name)
    r, body = invoke_json(lam, name, {}, LogType="Tail")
    wanted = runtime.removeprefix("python")
    notice = SUBSTITUTE_NOTICE.match(log_of(r))
    if host_python(wanted):
        assert body["version"].startswith(wanted + "."), body
        assert notice is None and config["State"] == "Active" and "StateReason" not in config
    else:
        assert notice and notice.group(1, 2) == (runtime, body["version"]), log_of(r)
        # The function says so too, while Active.
        assert config["State"] == "Active" and config["StateReason"] == notice.group(0).strip()
        assert "StateReasonCode" not in config
    # boto3 for that Python (the newest that still supports it).
    assert body["boto3"].startswith("1.4") and f"/python/{body['version'].rsplit('.', 1)[0]}/boto3" in body["boto3_from"]


def error_of(call, **kw):
    with pytest.raises(ClientError) as e:
        call(**kw)
    r = e.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"], r["Error"]["Message"]


def test_strict_mode_refuses_a_version_the_host_lacks(tmp_path):
    from conftest import CONFIG
    server = Lamina(tmp_path / "strict", config=CONFIG + "\n[runtimes]\nstrict = true\n").start()
    try:
        lam = server.client()
        node = subprocess.run(["node", "-p", "process.versions.node"], capture_output=True, text=True).stdout.strip()
        missing = next(r for r in ["nodejs18.x", "nodejs22.x", "nodejs24.x"] if not node.startswith(r[6:8] + "."))
        create(lam, "strict-missing", runtime=missing, handler="index.handler",
               code=zip_bytes({"index.js": "exports.handler = async () => 1;"}))
        config = lam.get_function_configuration(FunctionName="strict-missing")
        assert (config["State"], config["StateReasonCode"]) == ("Failed", "InvalidRuntime"), config
        assert f"The runtime {missing} is not available on this Lamina host" in config["StateReason"]
        assert "strict" in config["StateReason"]
        status, code, message = error_of(lam.invoke, FunctionName="strict-missing", Payload=b"{}")
        assert (status, code) == (409, "ResourceConflictException")
        assert message.startswith("The operation cannot be performed at this time. The function is currently in the "
                                  "following state: Failed. ") and config["StateReason"] in message
        # A version the host has still runs.
        major = node.split(".")[0]
        create(lam, "strict-ok", runtime=f"nodejs{major}.x", handler="index.handler",
               code=zip_bytes({"index.js": "exports.handler = async () => 1;"}))
        assert lam.get_function_configuration(FunctionName="strict-ok")["State"] == "Active"
        assert invoke_json(lam, "strict-ok", {})[1] == 1
    finally:
        server.stop()


@pytest.mark.skipif(shutil.which("dotnet") is not None, reason="dotnet: this host has .NET, so dotnet8 is not Failed")
def test_a_runtime_the_host_lacks_fails_at_once(lam):
    created = create(lam, "dotnet-fn", runtime="dotnet8", handler="App::App.Function::Handler",
                     code=zip_bytes({"App.dll": b"\0"}))
    assert created["State"] == "Pending"
    config = lam.get_function_configuration(FunctionName="dotnet-fn")
    assert (config["State"], config["StateReasonCode"]) == ("Failed", "InvalidRuntime")
    assert config["StateReason"].startswith("The runtime dotnet8 is not available on this Lamina host: it has no .NET")
    status, code, message = error_of(lam.invoke, FunctionName="dotnet-fn", Payload=b"{}")
    assert (status, code) == (409, "ResourceConflictException") and config["StateReason"] in message
    # The waiter deploy tools use stops at once, on the failure.
    with pytest.raises(Exception, match="Failed"):
        lam.get_waiter("function_active_v2").wait(FunctionName="dotnet-fn", WaiterConfig={"Delay": 1, "MaxAttempts": 3})


def test_doctor_names_what_serves_each_runtime(tmp_path):
    out = subprocess.run([LAMINA_BIN, "doctor", "--data-dir", str(tmp_path / "d")], capture_output=True, text=True,
                         timeout=120).stdout
    lines = {line.split(":", 1)[0]: line.split(":", 1)[1].strip() for line in out.splitlines() if ":" in line}
    assert lines["runtime provided.al2023"] == "the function's own bootstrap"
    if shutil.which("javac"):
        assert "/bin/java (" in lines["runtime java17"], lines["runtime java17"]
    assert lines["runtime dotnet8"].startswith("unavailable: ") or shutil.which("dotnet")
    assert lines["sdk"].startswith("boto3 and the AWS SDK v3 for Node.js, in ") or "install" in lines["sdk"]
    # The open-file limit it could reach, and why not higher where the host stops it.
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with open("/proc/sys/fs/nr_open") as f:
        ceiling = int(f.read())
    limit = int(lines["open files"].split()[2].rstrip(","))
    assert limit >= min(hard, ceiling), lines["open files"]
    assert ("CAP_SYS_RESOURCE" in lines["open files"]) == (limit < ceiling), lines["open files"]


WRAPPED = """
import os, sys

def handler(event, context):
    return {"wrapped": os.environ.get("WRAPPED_BY"), "argv0": sys.argv[0] if sys.argv else None}
"""


def test_an_exec_wrapper_starts_the_runtime(lam):
    """AWS_LAMBDA_EXEC_WRAPPER: the runtime starts as the wrapper script with the runtime's
    command line as its arguments."""
    wrapper = "#!/bin/bash\nexport WRAPPED_BY=\"$(basename \"$0\") $#\"\nexec \"$@\"\n"
    create(lam, "wrapped", runtime="python3.12", code=zip_bytes({"app.py": WRAPPED, "wrap.sh": (wrapper, 0o755)}),
           Environment={"Variables": {"AWS_LAMBDA_EXEC_WRAPPER": "/var/task/wrap.sh"}})
    r, body = invoke_json(lam, "wrapped", {})
    assert "FunctionError" not in r, body
    name, count = body["wrapped"].split()
    assert name == "wrap.sh" and int(count) >= 2  # the interpreter, its flags and the client
    # A wrapper that is not there is the runtime's failure to start, in AWS's words.
    create(lam, "badly-wrapped", runtime="python3.12", code=zip_bytes({"app.py": WRAPPED}),
           Environment={"Variables": {"AWS_LAMBDA_EXEC_WRAPPER": "/var/task/missing.sh"}})
    r, body = invoke_json(lam, "badly-wrapped", {})
    assert r["FunctionError"] == "Unhandled" and body["errorType"] == "Runtime.InvalidEntrypoint", body


def test_without_the_sdk_layer_a_function_says_so(tmp_path):
    from conftest import CONFIG
    empty = tmp_path / "no-sdk"
    server = Lamina(tmp_path / "bare", config=CONFIG + "\n[runtimes]\ninstall_sdk = false\n",
                    env={"LAMINA_SDK_DIR": str(empty)}).start()
    try:
        lam = server.client()
        create(lam, "no-sdk", runtime="python3.11", code=zip_bytes({"app.py": SDK_PY}))
        r = lam.invoke(FunctionName="no-sdk", Payload=b"{}", LogType="Tail")
        assert r["FunctionError"] == "Unhandled"
        assert json.loads(r["Payload"].read())["errorType"] == "ModuleNotFoundError"
        assert f"Lamina: boto3 is not in this host's SDK layer ({empty}) yet" in log_of(r)
    finally:
        server.stop()
