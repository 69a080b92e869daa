"""IAM, minimal: roles and policies, stored and returned as AWS does (not enforced); a role
made with the aws CLI serves as a function's execution role."""
import json

import pytest
from botocore.exceptions import ClientError

from conftest import function_zip

TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                                 "Action": "sts:AssumeRole"}]}
LOGS = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["logs:CreateLogStream",
                                                                              "logs:PutLogEvents"],
                                                "Resource": "*"}]}
BASIC = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


def error(call):
    with pytest.raises(ClientError) as e:
        call()
    return e.value.response["ResponseMetadata"]["HTTPStatusCode"], e.value.response["Error"]["Code"]


def test_a_role_made_with_the_cli_is_a_functions_execution_role(lamina, lam, tmp_path):
    trust = tmp_path / "trust.json"
    trust.write_text(json.dumps(TRUST))
    role = lamina.aws("iam", "create-role", "--role-name", "lambda-exec", "--assume-role-policy-document",
                      f"file://{trust}")["Role"]
    assert role["Arn"] == "arn:aws:iam::000000000000:role/lambda-exec" and role["RoleId"].startswith("AROA")
    lamina.aws("iam", "attach-role-policy", "--role-name", "lambda-exec", "--policy-arn", BASIC)
    code = tmp_path / "f.zip"
    code.write_bytes(function_zip("app.py"))
    created = lamina.aws("lambda", "create-function", "--function-name", "with-role", "--runtime", "python3.12",
                         "--handler", "app.handler", "--role", role["Arn"], "--zip-file", f"fileb://{code}")
    assert created["Role"] == role["Arn"]
    assert lam.invoke(FunctionName="with-role", Payload=b'{"action": "echo"}')["StatusCode"] == 200


def test_roles_and_policies_are_kept_and_answered_as_aws_does(lamina):
    iam = lamina.client("iam")
    role = iam.create_role(RoleName="app", Path="/service-role/", AssumeRolePolicyDocument=json.dumps(TRUST),
                           Description="the app", Tags=[{"Key": "team", "Value": "core"}])["Role"]
    assert role["Arn"] == "arn:aws:iam::000000000000:role/service-role/app"
    got = iam.get_role(RoleName="app")["Role"]
    assert got["AssumeRolePolicyDocument"] == TRUST and got["Description"] == "the app"
    assert got["MaxSessionDuration"] == 3600 and got["Tags"] == [{"Key": "team", "Value": "core"}]
    assert error(lambda: iam.create_role(RoleName="app", AssumeRolePolicyDocument=json.dumps(TRUST))) == \
        (409, "EntityAlreadyExists")
    assert error(lambda: iam.create_role(RoleName="bad", AssumeRolePolicyDocument="{not json")) == \
        (400, "MalformedPolicyDocument")
    assert error(lambda: iam.get_role(RoleName="ghost")) == (404, "NoSuchEntity")
    huge = json.dumps({**TRUST, "Padding": "x" * 200_000})
    assert error(lambda: iam.create_role(RoleName="huge", AssumeRolePolicyDocument=huge)) == (400, "ValidationError")
    assert [r["RoleName"] for r in iam.list_roles(PathPrefix="/service-role/")["Roles"]] == ["app"]

    policy = iam.create_policy(PolicyName="logs", PolicyDocument=json.dumps(LOGS))["Policy"]
    assert policy["Arn"] == "arn:aws:iam::000000000000:policy/logs" and policy["DefaultVersionId"] == "v1"
    assert iam.get_policy_version(PolicyArn=policy["Arn"], VersionId="v1")["PolicyVersion"]["Document"] == LOGS
    iam.attach_role_policy(RoleName="app", PolicyArn=policy["Arn"])
    iam.attach_role_policy(RoleName="app", PolicyArn=BASIC)
    assert iam.get_policy(PolicyArn=policy["Arn"])["Policy"]["AttachmentCount"] == 1
    assert [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName="app")["AttachedPolicies"]] == \
        [policy["Arn"], BASIC]
    iam.put_role_policy(RoleName="app", PolicyName="inline", PolicyDocument=json.dumps(LOGS))
    assert iam.get_role_policy(RoleName="app", PolicyName="inline")["PolicyDocument"] == LOGS
    assert iam.list_role_policies(RoleName="app")["PolicyNames"] == ["inline"]
    iam.update_assume_role_policy(RoleName="app", PolicyDocument=json.dumps({**TRUST, "Id": "v2"}))

    # Kept across a restart.
    lamina.restart()
    iam = lamina.client("iam")
    assert iam.get_role(RoleName="app")["Role"]["AssumeRolePolicyDocument"]["Id"] == "v2"
    # Another account sees none of it.
    assert lamina.client("iam", key="111111111111").list_roles()["Roles"] == []
    assert error(lambda: lamina.client("iam", key="111111111111").get_role(RoleName="app")) == (404, "NoSuchEntity")
    assert error(lambda: iam.delete_role(RoleName="app")) == (409, "DeleteConflict")
    assert error(lambda: iam.delete_policy(PolicyArn=policy["Arn"])) == (409, "DeleteConflict")
    for arn in [policy["Arn"], BASIC]:
        iam.detach_role_policy(RoleName="app", PolicyArn=arn)
    iam.delete_role_policy(RoleName="app", PolicyName="inline")
    iam.delete_role(RoleName="app")
    iam.delete_policy(PolicyArn=policy["Arn"])
    assert iam.list_roles()["Roles"] == []
