"""STS: who a key is (GetCallerIdentity), and temporary credentials (AssumeRole)."""
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
