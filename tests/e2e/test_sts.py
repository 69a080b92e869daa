"""STS: who a key is (GetCallerIdentity), and temporary credentials (AssumeRole); and the
other calls tools make first (awslocal, Terraform's reads)."""
import json
import os
import subprocess
import time

import boto3
import pytest
from botocore.exceptions import ClientError


def test_get_caller_identity_maps_keys_to_accounts(lamina):
    for key, account in [("111111111111", "111111111111"), ("222222222222", "222222222222"),
                         ("test", "000000000000")]:
        who = lamina.client("sts", key=key).get_caller_identity()
        assert (who["Account"], who["Arn"], who["UserId"]) == (account, f"arn:aws:iam::{account}:root", account)
    out = lamina.aws("sts", "get-caller-identity")
    assert out["Account"] == "000000000000"


def test_assume_role_answers_credentials_in_aws_shape(lamina):
    sts = lamina.client("sts", key="111111111111")
    out = sts.assume_role(RoleArn="arn:aws:iam::111111111111:role/deployer", RoleSessionName="ci-run",
                          DurationSeconds=900)
    creds = out["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA") and creds["SecretAccessKey"] and creds["SessionToken"]
    assert out["AssumedRoleUser"]["Arn"] == "arn:aws:sts::111111111111:assumed-role/deployer/ci-run"
    assert out["AssumedRoleUser"]["AssumedRoleId"].startswith("AROA")
    assert out["AssumedRoleUser"]["AssumedRoleId"].endswith(":ci-run")
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn="arn:aws:iam::111111111111:role/deployer", RoleSessionName="has space")
    assert (e.value.response["ResponseMetadata"]["HTTPStatusCode"], e.value.response["Error"]["Code"]) == \
        (400, "ValidationError")


def test_awslocal_and_the_calls_terraform_reads_with(lamina, lam, tmp_path):
    from conftest import create, function_zip
    create(lam, "tf", code=function_zip("app.py"))
    env = dict(os.environ, LOCALSTACK_HOST=f"127.0.0.1:{lamina.port}", AWS_ACCESS_KEY_ID="test",
               AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1", DISABLE_DEPRECATION_NOTICE="1")
    out = subprocess.run(["awslocal", "lambda", "list-functions"], capture_output=True, text=True, env=env,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert [f["FunctionName"] for f in json.loads(out.stdout)["Functions"]] == ["tf"]
    assert lam.get_function_code_signing_config(FunctionName="tf")["ResponseMetadata"]["HTTPStatusCode"] == 200
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function_code_signing_config(FunctionName="none")


def test_functions_run_as_a_session_of_their_execution_role(lamina, lam):
    from conftest import create, zip_bytes
    code = zip_bytes({"who.py": "import boto3\n\ndef handler(event, context):\n"
                                "    who = boto3.client('sts').get_caller_identity()\n"
                                "    queue = boto3.client('sqs').create_queue(QueueName='from-inside')['QueueUrl']\n"
                                "    return [who['Arn'], who['UserId'], who['Account'], queue]\n"})
    role = "arn:aws:iam::000000000000:role/service-role/runner"
    for name, session in [("identity", "identity"), ("i", "i@lambda_function")]:
        lam.create_function(FunctionName=name, Runtime="python3.12", Role=role, Handler="who.handler",
                            Code={"ZipFile": code}, Timeout=30)
        r = lam.invoke(FunctionName=name)
        assert "FunctionError" not in r
        arn, user_id, account, queue = json.loads(r["Payload"].read())
        assert arn == f"arn:aws:sts::000000000000:assumed-role/runner/{session}"
        assert user_id.startswith("AROA") and user_id.endswith(f":{session}")
        # The session acts in the role's account.
        assert account == "000000000000" and queue.endswith("/000000000000/from-inside")
    # Open mode: credentials from AssumeRole are read as the role's session too.
    creds = lamina.client("sts").assume_role(RoleArn="arn:aws:iam::111111111111:role/deployer",
                                             RoleSessionName="ci")["Credentials"]
    assumed = boto3.client("sts", endpoint_url=lamina.url, region_name="us-east-1",
                           aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                           aws_session_token=creds["SessionToken"])
    who = assumed.get_caller_identity()
    assert (who["Arn"], who["Account"]) == ("arn:aws:sts::111111111111:assumed-role/deployer/ci", "111111111111")


def test_each_environment_has_credentials_of_its_own_while_it_lives(lamina, lam):
    from concurrent.futures import ThreadPoolExecutor

    from conftest import create, function_zip
    create(lam, "keys", code=function_zip("app.py"), Timeout=30)
    with ThreadPoolExecutor(2) as pool:
        got = list(pool.map(lambda _: json.loads(lam.invoke(
            FunctionName="keys", Payload=json.dumps({"action": "credentials", "seconds": 1}))["Payload"].read()),
            range(2)))
    assert got[0]["environment"] != got[1]["environment"], "two environments"
    keys = [g["credentials"] for g in got]
    assert all(keys[0][i] != keys[1][i] for i in range(3)), keys

    def who(creds):
        sts = boto3.client("sts", endpoint_url=lamina.url, region_name="us-east-1", aws_access_key_id=creds[0],
                           aws_secret_access_key=creds[1], aws_session_token=creds[2])
        return sts.get_caller_identity()["Arn"]

    session = "arn:aws:sts::000000000000:assumed-role/lambda-role/keys"
    assert [who(k) for k in keys] == [session, session]
    # Once the environments are gone, their keys are nobody's: open mode reads them as the
    # default account.
    lam.delete_function(FunctionName="keys")
    deadline = time.monotonic() + 30
    while [who(k) for k in keys] != ["arn:aws:iam::000000000000:root"] * 2:
        assert time.monotonic() < deadline, "the environments' keys outlived them"
        time.sleep(0.1)
