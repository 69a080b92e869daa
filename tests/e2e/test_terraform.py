"""The calls the Terraform AWS provider makes for an `aws_iam_role`, an
`aws_lambda_function` using it, its `aws_lambda_function_url` and its
`aws_cloudwatch_log_group` — create, read, update (waiting on `LastUpdateStatus`),
destroy — replayed with boto3 (Terraform itself cannot be downloaded here). Every call
must answer as AWS does: a 404 or a wrong shape would stop a `terraform apply`."""
import json
import subprocess

import pytest

from conftest import function_zip

TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                                 "Action": "sts:AssumeRole"}]}
BASIC = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


def test_terraform_creates_reads_updates_and_destroys_a_role_and_a_function(lamina):
    iam, lam, sts, logs = lamina.client("iam"), lamina.client("lambda"), lamina.client("sts"), lamina.client("logs")
    account = sts.get_caller_identity()["Account"]

    # aws_iam_role: create, then read back.
    role = iam.create_role(RoleName="tf-exec", AssumeRolePolicyDocument=json.dumps(TRUST), Path="/",
                           Description="managed by terraform", MaxSessionDuration=3600,
                           Tags=[{"Key": "managed-by", "Value": "terraform"}])["Role"]
    assert iam.get_role(RoleName="tf-exec")["Role"]["Arn"] == role["Arn"] == f"arn:aws:iam::{account}:role/tf-exec"
    assert iam.list_role_policies(RoleName="tf-exec")["PolicyNames"] == []
    assert iam.list_attached_role_policies(RoleName="tf-exec")["AttachedPolicies"] == []
    iam.attach_role_policy(RoleName="tf-exec", PolicyArn=BASIC)

    # aws_lambda_function: create, wait for Active, read.
    lam.create_function(FunctionName="tf-fn", Runtime="python3.12", Role=role["Arn"], Handler="app.handler",
                        Code={"ZipFile": function_zip("app.py")}, Publish=False, Timeout=3, MemorySize=128,
                        Tags={"managed-by": "terraform"}, Environment={"Variables": {"STAGE": "dev"}})
    lam.get_waiter("function_active_v2").wait(FunctionName="tf-fn")
    got = lam.get_function(FunctionName="tf-fn")
    assert {"Code", "Configuration", "Tags"} <= set(got)
    assert got["Configuration"]["Role"] == role["Arn"] and got["Tags"] == {"managed-by": "terraform"}
    assert got["Code"]["RepositoryType"] == "S3" and got["Code"]["Location"]
    # A function without a code signing configuration answers an empty object, as on AWS.
    assert "CodeSigningConfigArn" not in lam.get_function_code_signing_config(FunctionName="tf-fn")
    assert [v["Version"] for v in lam.list_versions_by_function(FunctionName="tf-fn")["Versions"]] == ["$LATEST"]
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_policy(FunctionName="tf-fn")

    # aws_cloudwatch_log_group for the function: create, retention, read (tags by ARN).
    logs.create_log_group(logGroupName="/aws/lambda/tf-fn", tags={"managed-by": "terraform"})
    logs.put_retention_policy(logGroupName="/aws/lambda/tf-fn", retentionInDays=14)
    group = logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/tf-fn")["logGroups"][0]
    assert group["retentionInDays"] == 14
    assert logs.list_tags_for_resource(resourceArn=group["logGroupArn"])["tags"] == {"managed-by": "terraform"}

    # aws_lambda_function_url (and the aws_lambda_permission that opens it): create, read.
    made = lam.create_function_url_config(FunctionName="tf-fn", AuthType="NONE",
                                          Cors={"AllowOrigins": ["*"], "AllowMethods": ["GET"]})
    lam.add_permission(FunctionName="tf-fn", StatementId="FunctionURLAllowPublicAccess",
                       Action="lambda:InvokeFunctionUrl", Principal="*", FunctionUrlAuthType="NONE")
    url = lam.get_function_url_config(FunctionName="tf-fn")
    assert url["FunctionUrl"] == made["FunctionUrl"] and url["AuthType"] == "NONE"
    assert url["Cors"] == {"AllowOrigins": ["*"], "AllowMethods": ["GET"]} and url["InvokeMode"] == "BUFFERED"
    policy = json.loads(lam.get_policy(FunctionName="tf-fn")["Policy"])
    assert policy["Statement"][0]["Condition"] == {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}}

    # Update: configuration, then code, each waited on.
    lam.update_function_configuration(FunctionName="tf-fn", Timeout=10, Environment={"Variables": {"STAGE": "prod"}})
    lam.get_waiter("function_updated_v2").wait(FunctionName="tf-fn")
    lam.put_function_concurrency(FunctionName="tf-fn", ReservedConcurrentExecutions=2)
    lam.update_function_code(FunctionName="tf-fn", ZipFile=function_zip("app.py", extra="x"))
    lam.get_waiter("function_updated_v2").wait(FunctionName="tf-fn")
    got = lam.get_function(FunctionName="tf-fn")
    assert got["Configuration"]["Timeout"] == 10 and got["Configuration"]["LastUpdateStatus"] == "Successful"
    assert got["Concurrency"] == {"ReservedConcurrentExecutions": 2}
    assert lam.invoke(FunctionName="tf-fn", Payload=b'{"action": "echo"}')["StatusCode"] == 200
    lam.update_function_url_config(FunctionName="tf-fn", AuthType="NONE", Cors={"AllowOrigins": ["https://a.example"]})
    assert lam.get_function_url_config(FunctionName="tf-fn")["Cors"] == {"AllowOrigins": ["https://a.example"]}
    served = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", made["FunctionUrl"]],
                            capture_output=True, text=True, timeout=90).stdout
    assert served == "200"

    # Destroy: the URL, the log group, the function, then the role (the provider looks for instance profiles and
    # policies first).
    lam.delete_function_url_config(FunctionName="tf-fn")
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function_url_config(FunctionName="tf-fn")
    logs.delete_log_group(logGroupName="/aws/lambda/tf-fn")
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.delete_log_group(logGroupName="/aws/lambda/tf-fn")
    lam.delete_function(FunctionName="tf-fn")
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function(FunctionName="tf-fn")
    assert iam.list_instance_profiles_for_role(RoleName="tf-exec")["InstanceProfiles"] == []
    for p in iam.list_attached_role_policies(RoleName="tf-exec")["AttachedPolicies"]:
        iam.detach_role_policy(RoleName="tf-exec", PolicyArn=p["PolicyArn"])
    iam.delete_role(RoleName="tf-exec")
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_role(RoleName="tf-exec")
