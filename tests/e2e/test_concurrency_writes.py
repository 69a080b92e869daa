"""Many callers writing the same code, name or ARN at once get AWS's answers, never a 500."""
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

from conftest import ROLE, function_zip

CODE = function_zip("app.py")


def outcome(call):
    try:
        call()
        return "ok"
    except ClientError as e:
        return e.response["Error"]["Code"]


def at_once(calls):
    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(outcome, calls))


def create_call(lamina, name, code=CODE):
    lam = lamina.client()  # a client per thread, as boto3 wants
    return lambda: lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                                       Code={"ZipFile": code})


def test_concurrent_creates_with_one_package_all_succeed(lamina):
    for round_ in range(5):
        names = [f"same-code-{round_}-{i}" for i in range(8)]
        assert at_once([create_call(lamina, n) for n in names]) == ["ok"] * 8
    lam = lamina.client()
    for round_ in range(5):
        for i in range(8):
            assert lam.invoke(FunctionName=f"same-code-{round_}-{i}", Payload=b"{}")["StatusCode"] == 200


def test_concurrent_creates_of_one_name_give_one_function_and_conflicts(lamina):
    for round_ in range(5):
        got = at_once([create_call(lamina, f"one-name-{round_}") for _ in range(8)])
        assert sorted(got) == ["ResourceConflictException"] * 7 + ["ok"], got
    assert lamina.client().invoke(FunctionName="one-name-0", Payload=b"{}")["StatusCode"] == 200


def test_deletes_racing_creates_of_the_same_package_never_lose_it(lamina):
    lam = lamina.client()
    for round_ in range(5):
        old = [f"old-{round_}-{i}" for i in range(4)]
        assert at_once([create_call(lamina, n) for n in old]) == ["ok"] * 4
        new = [f"new-{round_}-{i}" for i in range(4)]
        deleter = lamina.client()
        calls = [create_call(lamina, n) for n in new] + [
            (lambda n=n: deleter.delete_function(FunctionName=n)) for n in old]
        assert at_once(calls) == ["ok"] * 8
        for n in new:
            assert lam.invoke(FunctionName=n, Payload=b"{}")["StatusCode"] == 200, n


def test_concurrent_layer_versions_permissions_aliases_and_queues(lamina):
    clients = [lamina.client() for _ in range(8)]
    got = at_once([(lambda c=c: c.publish_layer_version(LayerName="shared", Content={"ZipFile": CODE}))
                   for c in clients])
    assert got == ["ok"] * 8
    versions = [v["Version"] for v in clients[0].list_layer_versions(LayerName="shared")["LayerVersions"]]
    assert sorted(versions) == list(range(1, 9))

    assert at_once([create_call(lamina, "target")]) == ["ok"]
    got = at_once([(lambda c=c: c.add_permission(FunctionName="target", StatementId="same", Action="lambda:InvokeFunction",
                                                 Principal="sns.amazonaws.com")) for c in clients])
    assert sorted(got) == ["ResourceConflictException"] * 7 + ["ok"], got
    got = at_once([(lambda c=c: c.create_alias(FunctionName="target", Name="live", FunctionVersion="$LATEST"))
                   for c in clients])
    assert sorted(got) == ["ResourceConflictException"] * 7 + ["ok"], got

    sqs = [lamina.client("sqs") for _ in range(8)]
    urls = []
    got = at_once([(lambda s=s: urls.append(s.create_queue(QueueName="same")["QueueUrl"])) for s in sqs])
    assert got == ["ok"] * 8 and len(set(urls)) == 1
    sns = [lamina.client("sns") for _ in range(8)]
    arns = []
    got = at_once([(lambda s=s: arns.append(s.create_topic(Name="same")["TopicArn"])) for s in sns])
    assert got == ["ok"] * 8 and len(set(arns)) == 1


def test_concurrent_roles_log_groups_and_apis_of_one_name(lamina):
    iam = [lamina.client("iam") for _ in range(8)]
    trust = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
    got = at_once([(lambda c=c: c.create_role(RoleName="same", AssumeRolePolicyDocument=trust)) for c in iam])
    assert sorted(got) == ["EntityAlreadyExists"] * 7 + ["ok"], got
    logs = [lamina.client("logs") for _ in range(8)]
    got = at_once([(lambda c=c: c.create_log_group(logGroupName="same")) for c in logs])
    assert sorted(got) == ["ResourceAlreadyExistsException"] * 7 + ["ok"], got
    # API Gateway names need not be unique: eight APIs, eight ids.
    apigw = [lamina.client("apigateway") for _ in range(8)]
    ids = []
    got = at_once([(lambda c=c: ids.append(c.create_rest_api(name="same")["id"])) for c in apigw])
    assert got == ["ok"] * 8 and len(set(ids)) == 8
