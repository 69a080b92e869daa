"""STS: who a key is (GetCallerIdentity), and temporary credentials (AssumeRole); and the
other calls tools make first (awslocal, Terraform's reads)."""
import json
import os
import subprocess

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
