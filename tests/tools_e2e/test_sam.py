"""The AWS SAM CLI against Lamina, as its users run it: `sam build`, `sam deploy
--resolve-s3` (the managed bucket's stack, artifacts uploaded to S3, a change set created
and executed), the function answering through its API, `sam list endpoints`, `sam logs`,
an update of the code, and `sam delete`. Also Lamina's SAM transform against AWS's own
translator (aws-sam-translator, installed with the SAM CLI) on the templates in `sam/`."""
import json
import os
import re
import subprocess
import urllib.request
import uuid
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
SAM = os.environ["SAM_BIN"]
SAM_PYTHON = os.environ["SAM_PYTHON"]

TEMPLATE = """
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Timeout: 5
Resources:
  HelloFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: hello/
      Handler: app.handler
      Runtime: python3.11
      Events:
        Hello:
          Type: Api
          Properties: {Path: /hello, Method: get}
Outputs:
  HelloApi:
    Value: !Sub "https://${ServerlessRestApi}.execute-api.${AWS::Region}.amazonaws.com/Prod/hello/"
"""

CODE = """import json
def handler(event, context):
    print("serving", event["path"])
    return {"statusCode": 200, "body": json.dumps({"message": "%s"})}
"""


def env_for(lamina):
    return dict(os.environ, AWS_ENDPOINT_URL=lamina.url, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
                AWS_DEFAULT_REGION="us-east-1", SAM_CLI_TELEMETRY="0", SAM_CLI_POLL_DELAY="0.2")


def sam(args, cwd, env):
    done = subprocess.run([SAM, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"sam {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_sam_builds_deploys_lists_logs_updates_and_deletes(lamina, tmp_path):
    app = tmp_path / "app"
    (app / "hello").mkdir(parents=True)
    (app / "template.yaml").write_text(TEMPLATE)
    (app / "hello" / "app.py").write_text(CODE % "hello world")
    (app / "hello" / "requirements.txt").write_text("")
    env = env_for(lamina)
    sam(["build"], app, env)
    deploy = ["deploy", "--stack-name", "hello", "--resolve-s3", "--no-confirm-changeset", "--capabilities", "CAPABILITY_IAM"]
    out = sam(deploy, app, env)
    assert "Successfully created/updated stack - hello in us-east-1" in out
    cfn = lamina.client("cloudformation")
    api = cfn.describe_stack_resource(StackName="hello", LogicalResourceId="ServerlessRestApi")["StackResourceDetail"]
    api_id = api["PhysicalResourceId"]
    outputs = cfn.describe_stacks(StackName="hello")["Stacks"][0]["Outputs"]
    assert outputs[0]["OutputValue"] == f"https://{api_id}.execute-api.us-east-1.amazonaws.com/Prod/hello/"

    def hello():
        req = urllib.request.Request(f"{lamina.url}/Prod/hello", headers={"Host": f"{api_id}.execute-api.localhost:{lamina.port}"})
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())

    assert hello() == {"message": "hello world"}
    endpoints = json.loads(sam(["list", "endpoints", "--stack-name", "hello", "--output", "json"], app, env))
    rest = [e for e in endpoints if e["LogicalResourceId"] == "ServerlessRestApi"][0]
    assert rest["PhysicalResourceId"] == api_id
    assert f"https://{api_id}.execute-api.us-east-1.amazonaws.com/Prod" in rest["CloudEndpoint"]
    assert rest["Methods"] == ["/hello['get']"]
    logs = sam(["logs", "-n", "HelloFunction", "--stack-name", "hello"], app, env)
    assert "serving /hello" in logs and "REPORT RequestId" in logs

    # A change of code is an update of the function in place.
    function = cfn.describe_stack_resource(StackName="hello", LogicalResourceId="HelloFunction")
    (app / "hello" / "app.py").write_text(CODE % "hello again")
    sam(["build"], app, env)
    sam(deploy, app, env)
    assert hello() == {"message": "hello again"}
    again = cfn.describe_stack_resource(StackName="hello", LogicalResourceId="HelloFunction")
    assert again["StackResourceDetail"]["PhysicalResourceId"] == function["StackResourceDetail"]["PhysicalResourceId"]
    assert cfn.describe_stacks(StackName="hello")["Stacks"][0]["StackStatus"] == "UPDATE_COMPLETE"

    sam(["delete", "--stack-name", "hello", "--no-prompts"], app, env)
    assert lamina.client("lambda").list_functions()["Functions"] == []
    assert lamina.client("apigateway").get_rest_apis()["items"] == []
    gone = cfn.list_stacks(StackStatusFilter=["DELETE_COMPLETE"])["StackSummaries"]
    assert [s["StackName"] for s in gone] == ["hello"]


def normalized(resources):
    """Resources with the translator's content hashes in logical ids made comparable."""
    text = json.dumps(resources, sort_keys=True)
    text = re.sub(r"(Version|Deployment|Shared)[0-9a-f]{10}", r"\1<hash>", text)
    text = re.sub(r"RestApi deployment id: [0-9a-f]+", "RestApi deployment id: <hash>", text)
    return json.loads(text)


@pytest.mark.parametrize("template", sorted(p.name for p in (HERE / "sam").glob("*.yaml")))
def test_the_transform_matches_aws_sam_translator(lamina, template):
    body = (HERE / "sam" / template).read_text()
    theirs = subprocess.run([SAM_PYTHON, str(HERE / "translate.py"), str(HERE / "sam" / template)],
                            env=dict(os.environ, AWS_DEFAULT_REGION="us-east-1"), capture_output=True, text=True, check=True)
    expected = json.loads(theirs.stdout)
    cfn = lamina.client("cloudformation")
    made = cfn.create_change_set(StackName=f"t-{uuid.uuid4().hex[:8]}", ChangeSetName="c", ChangeSetType="CREATE",
                                 TemplateBody=body, Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"])
    ours = cfn.get_template(ChangeSetName=made["Id"], TemplateStage="Processed")["TemplateBody"]
    assert normalized(ours["Resources"]) == normalized(expected["Resources"])
    assert normalized(ours.get("Outputs")) == normalized(expected.get("Outputs"))
