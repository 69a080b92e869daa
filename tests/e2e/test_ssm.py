"""SSM Parameter Store, driven by boto3, both aws CLIs and a function's own SDK: versions,
selectors and labels, listings with their filters and pages, AWS's errors, SecureStrings
sealed at rest, and persistence across a kill -9."""
import json
import os
import subprocess

import pytest
from botocore.exceptions import ClientError

from conftest import create, zip_bytes


@pytest.fixture
def ssm(lamina):
    return lamina.client("ssm")


def body(response):
    """A response without boto3's ResponseMetadata."""
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


def error_of(call, **kw):
    with pytest.raises(ClientError) as e:
        call(**kw)
    return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]


def test_versions_selectors_labels_and_history(ssm):
    assert body(ssm.put_parameter(Name="/app/mode", Value="blue", Type="String")) == {"Version": 1, "Tier": "Standard"}
    ssm.put_parameter(Name="/app/mode", Value="green", Type="String", Overwrite=True, Description="live colour")
    p = ssm.get_parameter(Name="/app/mode")["Parameter"]
    assert (p["Value"], p["Version"], p["Type"], p["DataType"]) == ("green", 2, "String", "text")
    assert p["ARN"] == "arn:aws:ssm:us-east-1:000000000000:parameter/app/mode"
    first = ssm.get_parameter(Name="/app/mode:1")["Parameter"]
    assert (first["Value"], first["Selector"], first["Name"]) == ("blue", ":1", "/app/mode")
    assert body(ssm.label_parameter_version(Name="/app/mode", ParameterVersion=1, Labels=["stable", "1bad"])) == \
        {"InvalidLabels": ["1bad"], "ParameterVersion": 1}
    assert ssm.get_parameter(Name="/app/mode:stable")["Parameter"]["Value"] == "blue"
    # A label moves to the version it is put on.
    ssm.label_parameter_version(Name="/app/mode", Labels=["stable"])
    history = ssm.get_parameter_history(Name="/app/mode")["Parameters"]
    assert [(h["Version"], h["Value"], h["Labels"]) for h in history] == [(1, "blue", []), (2, "green", ["stable"])]
    assert history[1]["Description"] == "live colour" and history[1]["LastModifiedUser"].startswith("arn:aws:iam::")
    assert body(ssm.unlabel_parameter_version(Name="/app/mode", ParameterVersion=2, Labels=["stable", "nope"])) == \
        {"RemovedLabels": ["stable"], "InvalidLabels": ["nope"]}
    code, message = error_of(ssm.get_parameter, Name="/app/mode:9")
    assert (code, message) == ("ParameterVersionNotFound",
                               "Systems Manager could not find version 9 of /app/mode. Verify the version and try again.")
    # By ARN, and a one-level name with or without its slash.
    assert ssm.get_parameter(Name=p["ARN"])["Parameter"]["Value"] == "green"
    ssm.put_parameter(Name="flat", Value="1", Type="String")
    assert ssm.get_parameter(Name="/flat")["Parameter"]["Name"] == "/flat"
    found = ssm.get_parameters(Names=["flat", "/app/mode:1", "missing", "/app/mode:7"])
    assert [x["Value"] for x in found["Parameters"]] == ["1", "blue"]
    assert found["InvalidParameters"] == ["missing", "/app/mode:7"]


def test_aws_errors_for_bad_input(ssm):
    ssm.put_parameter(Name="/x/y", Value="v", Type="String")
    assert error_of(ssm.put_parameter, Name="/x/y", Value="w", Type="String") == (
        "ParameterAlreadyExists",
        "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.")
    assert error_of(ssm.put_parameter, Name="/new", Value="w") == (
        "ValidationException", "A parameter type is required when you create a parameter.")
    code, message = error_of(ssm.put_parameter, Name="/x/y", Value="w", Overwrite=True, Tags=[{"Key": "a", "Value": "b"}])
    assert code == "ValidationException" and message.startswith("Invalid request: tags and overwrite can't be used")
    for bad in ["/a//b", "a/b/c", "/a b"]:
        code, message = error_of(ssm.get_parameter, Name=bad)
        assert code == "ValidationException" and "sub-paths divided by slash symbol" in message, bad
    assert error_of(ssm.put_parameter, Name="/aws/mine", Value="v", Type="String") == (
        "AccessDeniedException", "No access to reserved parameter name: /aws/mine.")
    assert error_of(ssm.put_parameter, Name="ssmthing", Value="v", Type="String")[0] == "ValidationException"
    assert error_of(ssm.put_parameter, Name="/p", Value="abc", Type="String", AllowedPattern="^[0-9]+$") == (
        "ParameterPatternMismatchException", "Parameter value, cannot be validated against allowedPattern: ^[0-9]+$")
    code, message = error_of(ssm.put_parameter, Name="/big", Value="x" * 5000, Type="String")
    assert code == "ValidationException" and message.startswith("Standard tier parameters support a maximum")
    assert ssm.put_parameter(Name="/big", Value="x" * 5000, Type="String", Tier="Intelligent-Tiering")["Tier"] == \
        "Advanced"
    assert error_of(ssm.put_parameter, Name="/a" * 16, Value="v", Type="String")[0] == \
        "HierarchyLevelLimitExceededException"
    assert error_of(ssm.put_parameter, Name="/t", Value="v", Type="Text")[0] == "ValidationException"
    assert error_of(ssm.get_parameter, Name="/nope") == ("ParameterNotFound", "")
    assert error_of(ssm.delete_parameter, Name="/nope")[0] == "ParameterNotFound"
    # Nothing refused was stored.
    names = {p["Name"] for p in ssm.describe_parameters()["Parameters"]}
    assert names == {"/x/y", "/big"}


def test_paths_filters_and_pages(ssm):
    for i in range(12):
        ssm.put_parameter(Name=f"/svc/api/k{i:02}", Value=str(i), Type="String")
    ssm.put_parameter(Name="/svc/db/password", Value="s3cret", Type="SecureString", Tags=[{"Key": "team", "Value": "db"}])
    ssm.put_parameter(Name="/svc/top", Value="t", Type="StringList")
    assert [p["Name"] for p in ssm.get_parameters_by_path(Path="/svc")["Parameters"]] == ["/svc/top"]
    pages = ssm.get_paginator("get_parameters_by_path").paginate(Path="/svc", Recursive=True,
                                                                  PaginationConfig={"PageSize": 5})
    seen = [p["Name"] for page in pages for p in page["Parameters"]]
    assert len(seen) == 14 and len(set(seen)) == 14
    secure = ssm.get_parameters_by_path(Path="/svc", Recursive=True, WithDecryption=True,
                                        ParameterFilters=[{"Key": "Type", "Values": ["SecureString"]}])
    assert [(p["Name"], p["Value"]) for p in secure["Parameters"]] == [("/svc/db/password", "s3cret")]
    code, message = error_of(ssm.get_parameters_by_path, Path="/svc", ParameterFilters=[{"Key": "Name", "Values": ["x"]}])
    assert (code, message) == ("InvalidFilterKey",
                               "The following filter key is not valid: Name. Valid filter keys include: [Type, KeyId].")
    described = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Option": "BeginsWith",
                                                           "Values": ["/svc/api/k1"]}])["Parameters"]
    assert sorted(p["Name"] for p in described) == ["/svc/api/k10", "/svc/api/k11"]
    tagged = ssm.describe_parameters(ParameterFilters=[{"Key": "tag:team", "Values": ["db"]}])["Parameters"]
    assert [(p["Name"], p["KeyId"]) for p in tagged] == [("/svc/db/password", "alias/aws/ssm")]
    one_level = ssm.describe_parameters(ParameterFilters=[{"Key": "Path", "Values": ["/svc/db"]}])["Parameters"]
    assert [p["Name"] for p in one_level] == ["/svc/db/password"]
    legacy = ssm.describe_parameters(Filters=[{"Key": "Type", "Values": ["StringList"]}])["Parameters"]
    assert [p["Name"] for p in legacy] == ["/svc/top"]
    assert error_of(ssm.describe_parameters, Filters=[{"Key": "Type", "Values": ["String"]}],
                    ParameterFilters=[{"Key": "Type", "Values": ["String"]}]) == (
        "ValidationException", "You can use either Filters or ParameterFilters in a single request.")
    # Tags, and deletes.
    ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId="/svc/top", Tags=[{"Key": "k", "Value": "v"}])
    assert ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId="/svc/top")["TagList"] == \
        [{"Key": "k", "Value": "v"}]
    ssm.remove_tags_from_resource(ResourceType="Parameter", ResourceId="/svc/top", TagKeys=["k"])
    assert ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId="/svc/top")["TagList"] == []
    assert error_of(ssm.list_tags_for_resource, ResourceType="Parameter", ResourceId="/none")[0] == "InvalidResourceId"
    out = ssm.delete_parameters(Names=["/svc/top", "/svc/none"])
    assert (out["DeletedParameters"], out["InvalidParameters"]) == (["/svc/top"], ["/svc/none"])
    ssm.delete_parameter(Name="/svc/db/password")
    assert error_of(ssm.get_parameter, Name="/svc/db/password")[0] == "ParameterNotFound"


def test_secure_strings_are_sealed_at_rest_and_survive_a_kill_9(lamina, ssm):
    ssm.put_parameter(Name="/db/password", Value="correct-horse-battery", Type="SecureString")
    ssm.put_parameter(Name="/db/password", Value="correct-horse-staple", Type="SecureString", Overwrite=True)
    sealed = ssm.get_parameter(Name="/db/password")["Parameter"]["Value"]
    assert "correct-horse" not in sealed
    for root, _, files in os.walk(lamina.data_dir):
        for f in files:
            with open(os.path.join(root, f), "rb") as fh:
                assert b"correct-horse" not in fh.read(), f
    lamina.restart(hard=True)
    ssm = lamina.client("ssm")
    p = ssm.get_parameter(Name="/db/password", WithDecryption=True)["Parameter"]
    assert (p["Value"], p["Version"]) == ("correct-horse-staple", 2)
    assert ssm.get_parameter(Name="/db/password:1", WithDecryption=True)["Parameter"]["Value"] == \
        "correct-horse-battery"
    # A Secrets Manager reference must be asked for decrypted; Lamina holds no secrets.
    assert error_of(ssm.get_parameter, Name="/aws/reference/secretsmanager/db")[0] == "ValidationException"
    assert error_of(ssm.get_parameter, Name="/aws/reference/secretsmanager/db", WithDecryption=True) == (
        "ParameterNotFound", "Secret aws/reference/secretsmanager/db not found.")


@pytest.mark.parametrize("cli", ["aws", "aws2"])
def test_both_aws_clis(lamina, cli):
    binary = "aws" if cli == "aws" else os.environ.get("AWS_CLI_V2", "aws")
    env = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1",
               AWS_PAGER="")

    def aws(*args):
        p = subprocess.run([binary, "--endpoint-url", lamina.url, "ssm", *args], capture_output=True, text=True,
                           env=env, timeout=120)
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout) if p.stdout.strip() else None

    assert aws("put-parameter", "--name", "/cli/list", "--value", "a,b,c", "--type", "StringList") == \
        {"Version": 1, "Tier": "Standard"}
    for i in range(13):
        aws("put-parameter", "--name", f"/cli/n/{i}", "--value", str(i), "--type", "String")
    # The CLI follows NextToken to the end by itself.
    listed = aws("get-parameters-by-path", "--path", "/cli", "--recursive")["Parameters"]
    assert len(listed) == 14
    got = aws("get-parameter", "--name", "/cli/list")["Parameter"]
    assert (got["Type"], got["Value"]) == ("StringList", "a,b,c")


def test_functions_read_parameters_through_their_endpoint(lamina):
    lamina.client("ssm").put_parameter(Name="/fn/secret", Value="from-ssm", Type="SecureString")
    code = zip_bytes({"reader.py": "import boto3\n\ndef handler(event, context):\n"
                                  "    p = boto3.client('ssm').get_parameter(Name='/fn/secret', WithDecryption=True)\n"
                                  "    return p['Parameter']['Value']\n"})
    lam = lamina.client()
    create(lam, "reader", handler="reader.handler", code=code, Timeout=30)
    assert json.loads(lam.invoke(FunctionName="reader")["Payload"].read()) == "from-ssm"
