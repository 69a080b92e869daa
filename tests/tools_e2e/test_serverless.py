"""The Serverless Framework v3 against Lamina, as its users run it with the
`serverless-localstack` plugin pointed at the server: `serverless deploy` of a service
with a function behind a REST API and an HTTP API and another fed by a queue (the package
uploaded to the deployment bucket, the stack made through change sets), the function
answering through both APIs, `serverless invoke`, `serverless logs` of the queue's
worker, and `serverless remove`."""
import json
import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
SERVERLESS = os.environ["SERVERLESS_BIN"]


def sls(args, cwd, lamina):
    env = dict(os.environ, LAMINA_PORT=str(lamina.port), AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
               AWS_DEFAULT_REGION="us-east-1", SLS_TELEMETRY_DISABLED="1", SLS_NOTIFICATIONS_MODE="off")
    done = subprocess.run([SERVERLESS, *args, "--stage", "dev"], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, f"serverless {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done


def get(lamina, api, path):
    req = urllib.request.Request(f"{lamina.url}{path}", headers={"Host": f"{api}.execute-api.localhost:{lamina.port}"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def test_serverless_deploys_invokes_and_removes_a_service(lamina, tmp_path):
    app = tmp_path / "app"
    app.mkdir()
    for name in ("serverless.yml", "handler.py"):
        shutil.copy(HERE / "serverless" / name, app / name)
    # The plugin resolves from the service's directory; the package leaves it out.
    os.symlink(Path(SERVERLESS).parents[1], app / "node_modules")
    assert "Service deployed to stack sls-app-dev" in sls(["deploy"], app, lamina).stderr

    cfn = lamina.client("cloudformation")
    stack = cfn.describe_stacks(StackName="sls-app-dev")["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    queue = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}["JobsUrl"]
    rest = [a["id"] for a in lamina.client("apigateway").get_rest_apis()["items"] if a["name"] == "dev-sls-app"]
    http = [a["ApiId"] for a in lamina.client("apigatewayv2").get_apis()["Items"] if a["Name"] == "dev-sls-app"]
    assert len(rest) == 1 and len(http) == 1
    expected = {"message": "hello from serverless", "queue": queue}
    assert get(lamina, rest[0], "/dev/hello") == dict(expected, path="/hello")
    assert get(lamina, http[0], "/hi") == dict(expected, path="/hi")
    # The endpoint the plugin prints answers too.
    with urllib.request.urlopen(f"{lamina.url}/restapis/{rest[0]}/dev/_user_request_/hello", timeout=30) as r:
        assert json.loads(r.read())["path"] == "/hello"

    invoked = sls(["invoke", "-f", "hello", "--data", json.dumps({"path": "/direct"})], app, lamina)
    answer = json.loads(invoked.stdout)
    assert (answer["statusCode"], json.loads(answer["body"])["path"]) == (200, "/direct")

    lamina.client("sqs").send_message(QueueUrl=queue, MessageBody="job-1")
    deadline = time.monotonic() + 60
    while '{"jobs": ["job-1"]}' not in (logs := sls(["logs", "-f", "worker"], app, lamina).stdout):
        assert time.monotonic() < deadline, logs
        time.sleep(0.5)

    assert "successfully removed" in sls(["remove"], app, lamina).stderr
    assert lamina.client("lambda").list_functions()["Functions"] == []
    assert lamina.client("apigateway").get_rest_apis()["items"] == []
    assert lamina.client("sqs").list_queues().get("QueueUrls", []) == []
    assert lamina.client("s3").list_buckets()["Buckets"] == []
    gone = cfn.list_stacks(StackStatusFilter=["DELETE_COMPLETE"])["StackSummaries"]
    assert [s["StackName"] for s in gone] == ["sls-app-dev"]
