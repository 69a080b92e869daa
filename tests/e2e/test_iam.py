"""IAM, minimal: roles, users and policies, stored and returned as AWS does (not enforced); a
role made with the aws CLI serves as a function's execution role, and a user's access keys
act as that user."""
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


def test_a_users_access_key_acts_as_the_user_in_open_mode(lamina):
    iam = lamina.client("iam")
    user = iam.create_user(UserName="dev", Tags=[{"Key": "team", "Value": "core"}])["User"]
    assert (user["Arn"], user["Path"], user["Tags"]) == ("arn:aws:iam::000000000000:user/dev", "/",
                                                         [{"Key": "team", "Value": "core"}])
    assert user["UserId"].startswith("AIDA") and len(user["UserId"]) == 21
    key = iam.create_access_key(UserName="dev")["AccessKey"]
    assert (key["UserName"], key["Status"], len(key["AccessKeyId"]), len(key["SecretAccessKey"])) == (
        "dev", "Active", 20, 40)
    assert key["AccessKeyId"].startswith("AKIA")
    as_dev = {"key": key["AccessKeyId"]}  # open mode reads who a key is, without checking the signature

    me = lamina.client("sts", **as_dev).get_caller_identity()
    assert (me["Arn"], me["UserId"], me["Account"]) == (user["Arn"], user["UserId"], "000000000000")
    assert lamina.client("iam", **as_dev).get_user()["User"]["UserName"] == "dev", "GetUser names the caller"
    sns = lamina.client("sns", **as_dev)
    topic = sns.create_topic(Name="t")["TopicArn"]
    sub = sns.subscribe(TopicArn=topic, Protocol="sms", Endpoint="+15555550100",
                        ReturnSubscriptionArn=True)["SubscriptionArn"]
    assert sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]["SubscriptionPrincipal"] == user["Arn"]

    # A second key; a third is over AWS's quota; the user cannot go while it has keys.
    second = iam.create_access_key(UserName="dev")["AccessKey"]["AccessKeyId"]
    assert error(lambda: iam.create_access_key(UserName="dev")) == (409, "LimitExceeded")
    assert [k["AccessKeyId"] for k in iam.list_access_keys(UserName="dev")["AccessKeyMetadata"]] == [
        key["AccessKeyId"], second]
    assert error(lambda: iam.delete_user(UserName="dev")) == (409, "DeleteConflict")
    assert error(lambda: iam.get_user()) == (400, "ValidationError"), "the account's root is not a user"

    # Kept across a kill -9.
    lamina.restart(hard=True)
    assert lamina.client("sts", **as_dev).get_caller_identity()["Arn"] == user["Arn"]
    iam = lamina.client("iam")
    iam.delete_access_key(UserName="dev", AccessKeyId=key["AccessKeyId"])
    iam.delete_access_key(UserName="dev", AccessKeyId=second)
    # Open mode takes any key: one no longer known acts as the account.
    assert lamina.client("sts", **as_dev).get_caller_identity()["Arn"] == "arn:aws:iam::000000000000:root"
    iam.delete_user(UserName="dev")
    assert error(lambda: iam.get_user(UserName="dev")) == (404, "NoSuchEntity")


def test_users_have_policies_as_roles_do(lamina):
    iam = lamina.client("iam")
    iam.create_user(UserName="ops", Path="/team/")
    policy = iam.create_policy(PolicyName="logs", PolicyDocument=json.dumps(LOGS))["Policy"]
    iam.attach_user_policy(UserName="ops", PolicyArn=policy["Arn"])
    iam.put_user_policy(UserName="ops", PolicyName="inline", PolicyDocument=json.dumps(LOGS))
    assert iam.get_policy(PolicyArn=policy["Arn"])["Policy"]["AttachmentCount"] == 1
    assert iam.list_attached_user_policies(UserName="ops")["AttachedPolicies"] == [
        {"PolicyName": "logs", "PolicyArn": policy["Arn"]}]
    assert iam.list_user_policies(UserName="ops")["PolicyNames"] == ["inline"]
    assert json.loads(json.dumps(iam.get_user_policy(UserName="ops", PolicyName="inline")["PolicyDocument"])) == LOGS
    assert [u["Arn"] for u in iam.list_users(PathPrefix="/team/")["Users"]] == ["arn:aws:iam::000000000000:user/team/ops"]
    assert error(lambda: iam.delete_user(UserName="ops")) == (409, "DeleteConflict")
    assert error(lambda: iam.delete_policy(PolicyArn=policy["Arn"])) == (409, "DeleteConflict")
    iam.detach_user_policy(UserName="ops", PolicyArn=policy["Arn"])
    iam.delete_user_policy(UserName="ops", PolicyName="inline")
    iam.delete_user(UserName="ops")
    assert error(lambda: iam.create_user(UserName="bad name")) == (400, "ValidationError")


def test_managed_policies_keep_up_to_five_versions(lamina):
    iam = lamina.client("iam")

    def doc(action):
        return json.dumps({"Version": "2012-10-17",
                           "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]})

    arn = iam.create_policy(PolicyName="versioned", PolicyDocument=doc("sqs:SendMessage"))["Policy"]["Arn"]
    made = iam.create_policy_version(PolicyArn=arn, PolicyDocument=doc("sqs:*"), SetAsDefault=True)["PolicyVersion"]
    assert (made["VersionId"], made["IsDefaultVersion"]) == ("v2", True)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v2"
    shown = iam.get_policy_version(PolicyArn=arn, VersionId="v2")["PolicyVersion"]
    assert shown["Document"]["Statement"][0]["Action"] == "sqs:*"
    for action in ("sns:*", "s3:*", "logs:*"):
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=doc(action))
    with pytest.raises(ClientError) as e:
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=doc("ssm:*"))
    assert e.value.response["Error"]["Code"] == "LimitExceeded"
    with pytest.raises(ClientError) as e:
        iam.delete_policy_version(PolicyArn=arn, VersionId="v2")
    assert (e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]) == (
        "DeleteConflict", "Cannot delete the default version of a policy.")
    iam.delete_policy_version(PolicyArn=arn, VersionId="v1")
    # Numbers are never reused.
    assert iam.create_policy_version(PolicyArn=arn, PolicyDocument=doc("ssm:*"))["PolicyVersion"]["VersionId"] == "v6"
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v6")
    lamina.restart(hard=True)
    iam = lamina.client("iam")
    listed = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    assert [(v["VersionId"], v["IsDefaultVersion"]) for v in listed] == [
        ("v6", True), ("v5", False), ("v4", False), ("v3", False), ("v2", False)]
    with pytest.raises(ClientError) as e:
        iam.get_policy_version(PolicyArn=arn, VersionId="v1")
    assert e.value.response["Error"]["Code"] == "NoSuchEntity"
