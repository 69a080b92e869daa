"""The AWS CDK against Lamina, as its users run it through `cdklocal`: `cdklocal bootstrap`
(the CDKToolkit stack: its bucket, roles, policies and version parameter), `cdklocal
deploy` of an app with a function, an HTTP API and a queue (the assets published to S3,
the change set executed), the function answering through the API, and `cdklocal destroy`."""
import json
import os
import shutil
import subprocess
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
CDKLOCAL = os.environ["CDKLOCAL_BIN"]


def cdk(args, cwd, lamina):
    env = dict(os.environ, AWS_ENDPOINT_URL=lamina.url, AWS_ENDPOINT_URL_S3=lamina.url, AWS_ACCESS_KEY_ID="test",
               AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1", CDK_DISABLE_VERSION_CHECK="1")
    done = subprocess.run([CDKLOCAL, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"cdklocal {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def test_cdk_bootstraps_deploys_and_destroys_an_app(lamina, tmp_path):
    app = tmp_path / "app"
    app.mkdir()
    shutil.copy(HERE / "cdk" / "app.js", app / "app.js")
    (app / "cdk.json").write_text(json.dumps({"app": "node app.js"}))
    # The app resolves aws-cdk-lib from the tools' installation.
    os.symlink(Path(CDKLOCAL).parents[1], app / "node_modules")
    out = cdk(["bootstrap", "aws://000000000000/us-east-1"], app, lamina)
    assert "bootstrapped" in out
    cfn = lamina.client("cloudformation")
    assert cfn.describe_stacks(StackName="CDKToolkit")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    version = lamina.client("ssm").get_parameter(Name="/cdk-bootstrap/hnb659fds/version")["Parameter"]["Value"]
    assert int(version) >= 20

    cdk(["deploy", "--require-approval", "never"], app, lamina)
    outputs = {o["OutputKey"]: o["OutputValue"] for o in cfn.describe_stacks(StackName="CdkApp")["Stacks"][0]["Outputs"]}
    req = urllib.request.Request(f"{lamina.url}/hello", headers={"Host": f"{outputs['ApiId']}.execute-api.localhost:{lamina.port}"})
    with urllib.request.urlopen(req, timeout=30) as r:
        assert json.loads(r.read()) == {"path": "/hello", "queue": outputs["QueueUrl"]}
    lamina.client("sqs").send_message(QueueUrl=outputs["QueueUrl"], MessageBody="a job")

    cdk(["destroy", "--force"], app, lamina)
    assert lamina.client("lambda").list_functions()["Functions"] == []
    assert lamina.client("apigatewayv2").get_apis()["Items"] == []
    gone = cfn.list_stacks(StackStatusFilter=["DELETE_COMPLETE"])["StackSummaries"]
    assert [s["StackName"] for s in gone] == ["CdkApp"]
