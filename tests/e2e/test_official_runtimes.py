"""The official runtime clients run unmodified as `provided` functions."""
import json
import sys
from pathlib import Path

from conftest import RUST_ECHO_BIN, create, function_zip, invoke_json, log_of, zip_bytes


def test_rust_lambda_runtime_crate(lam):
    bootstrap = Path(RUST_ECHO_BIN).read_bytes()
    create(lam, "rust-echo", runtime="provided.al2023", handler="bootstrap",
           code=zip_bytes({"bootstrap": (bootstrap, 0o755)}))
    r = lam.invoke(FunctionName="rust-echo", Payload=b'{"from": "rust"}', LogType="Tail")
    body = json.loads(r["Payload"].read())
    assert body["echo"] == {"from": "rust"}
    assert body["request_id"] == r["ResponseMetadata"]["RequestId"]
    assert body["function"] == "rust-echo"
    assert body["arn"] == "arn:aws:lambda:us-east-1:000000000000:function:rust-echo"
    assert "Init Duration" in log_of(r)
    r, err = invoke_json(lam, "rust-echo", {"fail": "rust says no"})
    assert r["FunctionError"] == "Unhandled"
    assert err["errorMessage"] == "rust says no"


def test_python_awslambdaric(lam):
    # A custom runtime whose bootstrap starts the official Python client.
    bootstrap = f"#!/bin/sh\nexec {sys.executable} -m awslambdaric app.handler\n"
    create(lam, "ric", runtime="provided.al2", handler="app.handler",
           code=function_zip("app.py", bootstrap=(bootstrap, 0o755)))
    r, body = invoke_json(lam, "ric", {"action": "echo", "via": "awslambdaric"})
    assert "FunctionError" not in r, body
    assert body["event"] == {"action": "echo", "via": "awslambdaric"}
    assert body["request_id"] == r["ResponseMetadata"]["RequestId"]
    r, body = invoke_json(lam, "ric", {"action": "error", "message": "ric error"})
    assert r["FunctionError"] == "Unhandled"
    assert body["errorType"] == "ValueError" and body["errorMessage"] == "ric error"


def test_handwritten_shell_bootstrap_and_missing_bootstrap(lam):
    script = """#!/bin/sh
set -eu
while true; do
  headers=$(mktemp)
  event=$(curl -sS -D "$headers" "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/next")
  id=$(grep -i lambda-runtime-aws-request-id "$headers" | tr -d '\\r' | cut -d' ' -f2)
  echo "shell got $event"
  curl -sS -o /dev/null -X POST -d "{\\"shell\\": $event}" "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/$id/response"
done
"""
    create(lam, "shell", runtime="provided.al2023", handler="x", code=zip_bytes({"bootstrap": (script, 0o755)}))
    r, body = invoke_json(lam, "shell", {"n": 1})
    assert body == {"shell": {"n": 1}}
    assert invoke_json(lam, "shell", {"n": 2})[1] == {"shell": {"n": 2}}

    create(lam, "no-bootstrap", runtime="provided.al2023", handler="x", code=zip_bytes({"readme.txt": "hi"}))
    r, body = invoke_json(lam, "no-bootstrap", {})
    rid = r["ResponseMetadata"]["RequestId"]
    assert r["FunctionError"] == "Unhandled"
    assert body == {"errorType": "Runtime.InvalidEntrypoint",
                    "errorMessage": f"RequestId: {rid} Error: Couldn't find valid bootstrap(s): "
                                    "[/var/task/bootstrap /opt/bootstrap]"}

    create(lam, "not-executable", runtime="provided.al2023", handler="x",
           code=zip_bytes({"bootstrap": ("#!/bin/sh\necho hi\n", 0o644)}))
    r, body = invoke_json(lam, "not-executable", {})
    assert body["errorType"] == "Runtime.InvalidEntrypoint"
    assert "permission denied" in body["errorMessage"]


def test_aws_tutorial_bootstrap_runs_under_bash_as_sh(lam):
    # AWS's custom-runtime tutorial: `#!/bin/sh` with `set -euo pipefail`, which needs
    # /bin/sh to be bash, as it is on Amazon Linux.
    script = """#!/bin/sh
set -euo pipefail
while true; do
  HEADERS="$(mktemp)"
  EVENT_DATA=$(curl -sS -LD "$HEADERS" "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/next")
  REQUEST_ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
  PIPE=$(false | true && echo ignored || echo caught)
  RESPONSE="{\\"bash\\": \\"${BASH_VERSION:-}\\", \\"pipefail\\": \\"$PIPE\\", \\"event\\": $EVENT_DATA}"
  curl -sS -o /dev/null -X POST "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/$REQUEST_ID/response" -d "$RESPONSE"
done
"""
    create(lam, "tutorial", runtime="provided.al2023", handler="function.handler",
           code=zip_bytes({"bootstrap": (script, 0o755)}))
    r, body = invoke_json(lam, "tutorial", {"n": 1}, LogType="Tail")
    assert "FunctionError" not in r, (body, log_of(r))
    assert body["bash"].startswith("5.") and body["pipefail"] == "caught" and body["event"] == {"n": 1}
