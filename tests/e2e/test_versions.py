"""Published versions and aliases: frozen code and configuration, qualified ARNs,
weighted routing, and AWS's preconditions and errors."""
import json
from collections import Counter

import pytest
from botocore.exceptions import ClientError

from conftest import Collector, create, function_zip, invoke_json, wait_updated, zip_bytes

APP = function_zip("app.py")
ARN = "arn:aws:lambda:us-east-1:000000000000:function:v"


def context_of(lam, qualifier=None, name="v"):
    kw = {"Qualifier": qualifier} if qualifier else {}
    r, body = invoke_json(lam, name, {"action": "context"}, **kw)
    return r["ExecutedVersion"], body


def error_of(call, **kw):
    with pytest.raises(ClientError) as e:
        call(**kw)
    r = e.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"], r["Error"]["Message"]


def test_publish_freezes_code_and_configuration(lamina, lam):
    create(lam, "v", code=APP, Environment={"Variables": {"MARK": "one"}})
    v1 = lam.publish_version(FunctionName="v", Description="first")
    assert (v1["Version"], v1["FunctionArn"], v1["Description"]) == ("1", ARN + ":1", "first")
    assert lam.publish_version(FunctionName="v")["Version"] == "1", "nothing changed: nothing published"

    lam.update_function_configuration(FunctionName="v", Environment={"Variables": {"MARK": "two"}})
    wait_updated(lam, "v")
    latest = lam.get_function(FunctionName="v")["Configuration"]
    assert error_of(lam.publish_version, FunctionName="v", RevisionId="stale")[:2] == \
        (412, "PreconditionFailedException")
    status, code, message = error_of(lam.publish_version, FunctionName="v", CodeSha256="bm9wZQ==")
    assert (status, code) == (400, "InvalidParameterValueException")
    assert message == (f"CodeSHA256 (bm9wZQ==) is different from current CodeSHA256 in $LATEST "
                       f"({latest['CodeSha256']}). Please try again with the CodeSHA256 in $LATEST.")
    v2 = lam.publish_version(FunctionName="v", CodeSha256=latest["CodeSha256"], RevisionId=latest["RevisionId"])
    assert v2["Version"] == "2"

    for qualifier, mark in [("1", "one"), ("2", "two"), ("$LATEST", "two"), (None, "two")]:
        executed, ctx = context_of(lam, qualifier)
        assert executed == (qualifier if qualifier in ("1", "2") else "$LATEST")
        assert ctx["env"]["MARK"] == mark
        assert ctx["function_version"] == executed
        assert ctx["env"]["AWS_LAMBDA_FUNCTION_VERSION"] == executed
        assert ctx["invoked_function_arn"] == (f"{ARN}:{qualifier}" if qualifier else ARN)
        assert f"[{executed}]" in ctx["log_stream_name"]

    got = lam.get_function_configuration(FunctionName="v", Qualifier="1")
    assert (got["Version"], got["FunctionArn"], got["Environment"]["Variables"]) == ("1", ARN + ":1", {"MARK": "one"})
    versions = lam.list_versions_by_function(FunctionName="v")["Versions"]
    assert [(x["Version"], x["FunctionArn"]) for x in versions] == \
        [("$LATEST", ARN + ":$LATEST"), ("1", ARN + ":1"), ("2", ARN + ":2")]
    page = lam.list_versions_by_function(FunctionName="v", MaxItems=2)
    assert [x["Version"] for x in page["Versions"]] == ["$LATEST", "1"]
    rest = lam.list_versions_by_function(FunctionName="v", Marker=page["NextMarker"])
    assert [x["Version"] for x in rest["Versions"]] == ["2"] and "NextMarker" not in rest

    lamina.restart()
    lam = lamina.client()
    assert context_of(lam, "1")[1]["env"]["MARK"] == "one", "versions survive a restart"
    lam.delete_function(FunctionName="v", Qualifier="1")
    assert error_of(context_of, lam=lam, qualifier="1")[:2] == (404, "ResourceNotFoundException")
    lam.delete_function(FunctionName="v", Qualifier="1")  # deleting what is gone succeeds, as on AWS
    assert lam.publish_version(FunctionName="v")["Version"] == "2", "numbers are never reused"
    status, code, message = error_of(lam.delete_function, FunctionName="v", Qualifier="$LATEST")
    assert (code, message) == ("InvalidParameterValueException",
                               "$LATEST version cannot be deleted without deleting the function.")


def test_publish_on_create_and_update_and_with_the_cli(lamina, lam):
    created = create(lam, "v", code=APP, Publish=True)
    # AWS answers version 1 under the unqualified ARN.
    assert (created["Version"], created["FunctionArn"]) == ("1", ARN)
    updated = lam.update_function_code(FunctionName="v", ZipFile=function_zip("app.py", extra="x"), Publish=True)
    assert updated["Version"] == "2"
    wait_updated(lam, "v")
    out = lamina.aws("lambda", "list-versions-by-function", "--function-name", "v")
    assert [x["Version"] for x in out["Versions"]] == ["$LATEST", "1", "2"]
    out = lamina.aws("lambda", "publish-version", "--function-name", "v")
    assert out["Version"] == "2"


def test_aliases_route_between_versions(lamina, lam):
    create(lam, "v", code=APP, Environment={"Variables": {"MARK": "one"}}, Publish=True)
    lam.update_function_configuration(FunctionName="v", Environment={"Variables": {"MARK": "two"}})
    wait_updated(lam, "v")
    lam.publish_version(FunctionName="v")

    alias = lam.create_alias(FunctionName="v", Name="live", FunctionVersion="1", Description="prod")
    assert (alias["AliasArn"], alias["FunctionVersion"], alias["Description"]) == (ARN + ":live", "1", "prod")
    assert error_of(lam.create_alias, FunctionName="v", Name="live", FunctionVersion="1") == \
        (409, "ResourceConflictException", f"Alias already exists: {ARN}:live")
    assert error_of(lam.create_alias, FunctionName="v", Name="12", FunctionVersion="1")[:2] == \
        (400, "ValidationException")
    assert error_of(lam.create_alias, FunctionName="v", Name="x", FunctionVersion="9")[:2] == \
        (404, "ResourceNotFoundException")
    with pytest.raises(ClientError) as e:
        lam.create_alias(FunctionName="v", Name="x", FunctionVersion="$LATEST",
                         RoutingConfig={"AdditionalVersionWeights": {"1": 0.5}})
    assert (e.value.response["Error"]["Message"], "Type" in e.value.response) == (
        "$LATEST is not supported for an alias pointing to more than 1 version", False), "AWS words it without Type"
    # Weights are Java doubles in AWS's messages; map keys carry no not-null rule.
    assert error_of(lam.create_alias, FunctionName="v", Name="x", FunctionVersion="1",
                    RoutingConfig={"AdditionalVersionWeights": {"2": 2}})[2] == (
        "1 validation error detected: Value '{2=2.0}' at 'routingConfig.additionalVersionWeights' failed to satisfy "
        "constraint: Map value must satisfy constraint: [Member must have value less than or equal to 1.0, "
        "Member must have value greater than or equal to 0.0, Member must not be null]")
    assert error_of(lam.create_alias, FunctionName="v", Name="x", FunctionVersion="1",
                    RoutingConfig={"AdditionalVersionWeights": {"$LATEST": 0.5}})[2].endswith(
        "Map keys must satisfy constraint: [Member must have length less than or equal to 1024, Member must have "
        "length greater than or equal to 1, Member must satisfy regular expression pattern: [0-9]+]")
    assert error_of(lam.create_alias, FunctionName="v-unknown", Name="x", FunctionVersion="1") == \
        (404, "ResourceNotFoundException", f"Function not found: {ARN}-unknown:1"), "named with the version"
    assert error_of(lam.create_alias, FunctionName="v", Name="x", FunctionVersion="1",
                    RoutingConfig={"AdditionalVersionWeights": {"2": 0.1, "3": 0.1}})[:2] == \
        (400, "InvalidParameterValueException"), "one extra version at most"
    assert error_of(lam.get_alias, FunctionName="v", Name="nope") == \
        (404, "ResourceNotFoundException", f"Cannot find alias arn: {ARN}:nope")
    assert error_of(lam.update_alias, FunctionName="v", Name="nope", Description="d") == \
        (404, "ResourceNotFoundException", f"Alias not found: {ARN}:nope"), "UpdateAlias words it its own way"

    executed, ctx = context_of(lam, "live")
    assert (executed, ctx["env"]["MARK"], ctx["invoked_function_arn"]) == ("1", "one", ARN + ":live")
    for name in [ARN + ":live", "000000000000:function:v:live", "v:live"]:
        r, _ = invoke_json(lam, name, {})
        assert r["ExecutedVersion"] == "1", name
    assert error_of(lam.invoke, FunctionName="v:live", Qualifier="1", Payload=b"{}") == \
        (400, "InvalidParameterValueException",
         "The derived qualifier from the function name does not match the specified qualifier.")
    got = lam.get_function(FunctionName="v", Qualifier="live")["Configuration"]
    assert (got["FunctionArn"], got["Version"]) == (ARN + ":live", "1")

    assert error_of(lam.update_alias, FunctionName="v", Name="live", FunctionVersion="2", RevisionId="stale")[:2] == \
        (412, "PreconditionFailedException")
    shifted = lam.update_alias(FunctionName="v", Name="live", FunctionVersion="2", RevisionId=alias["RevisionId"],
                               RoutingConfig={"AdditionalVersionWeights": {"1": 0.3}})
    assert shifted["RoutingConfig"] == {"AdditionalVersionWeights": {"1": 0.3}}
    assert shifted["Description"] == "prod", "UpdateAlias changes only what it is given"
    seen = Counter(context_of(lam, "live")[0] for _ in range(300))
    # Binomial(300, 0.3): mean 90, standard deviation 7.9; this range is ±5 deviations.
    assert set(seen) == {"1", "2"} and 50 <= seen["1"] <= 130, seen

    lam.create_alias(FunctionName="v", Name="old", FunctionVersion="1")
    names = [a["Name"] for a in lam.list_aliases(FunctionName="v")["Aliases"]]
    assert names == ["live", "old"]
    assert [a["Name"] for a in lam.list_aliases(FunctionName="v", FunctionVersion="1")["Aliases"]] == ["old"]
    status, code, message = error_of(lam.delete_function, FunctionName="v", Qualifier="1")
    assert (status, code) == (409, "ResourceConflictException")
    assert message == "Unable to delete version because the following aliases reference it: [live, old]"

    lamina.restart()
    lam = lamina.client()
    assert lam.get_alias(FunctionName="v", Name="live")["RoutingConfig"] == {"AdditionalVersionWeights": {"1": 0.3}}
    lam.delete_alias(FunctionName="v", Name="old")
    lam.delete_alias(FunctionName="v", Name="old")  # again: succeeds, as on AWS
    lam.update_alias(FunctionName="v", Name="live", RoutingConfig={"AdditionalVersionWeights": {}})
    assert "RoutingConfig" not in lam.get_alias(FunctionName="v", Name="live")
    lam.delete_function(FunctionName="v", Qualifier="1")
    assert [a["Name"] for a in lam.list_aliases(FunctionName="v")["Aliases"]] == ["live"]


def test_async_invocations_run_the_version_they_named(lam, collector):
    create(lam, "av", code=function_zip("reporter.py"), handler="reporter.handler",
           Environment={"Variables": {"REPORT_URL": collector.url, "MARK": "one"}}, Publish=True)
    lam.create_alias(FunctionName="av", Name="live", FunctionVersion="1")
    lam.update_function_configuration(FunctionName="av", Environment={"Variables": {"REPORT_URL": "http://0.0.0.0:9/"}})
    r = lam.invoke(FunctionName="av", Qualifier="live", InvocationType="Event", Payload=json.dumps({"n": 1}))
    assert collector.get()["request_id"] == r["ResponseMetadata"]["RequestId"]


def test_versions_and_aliases_have_their_own_event_invoke_configs(lamina, lam, collector):
    sink_collector = Collector()
    try:
        create(lam, "sink", code=function_zip("reporter.py"), handler="reporter.handler",
               Environment={"Variables": {"REPORT_URL": sink_collector.url}})
        create(lam, "ev", code=function_zip("reporter.py"), handler="reporter.handler",
               Environment={"Variables": {"REPORT_URL": collector.url}}, Publish=True)
        lam.create_alias(FunctionName="ev", Name="live", FunctionVersion="1")
        sink = "arn:aws:lambda:us-east-1:000000000000:function:sink"
        arn = "arn:aws:lambda:us-east-1:000000000000:function:ev"
        put = lam.put_function_event_invoke_config(FunctionName="ev", Qualifier="live", MaximumRetryAttempts=0,
                                                   DestinationConfig={"OnFailure": {"Destination": sink}})
        assert put["FunctionArn"] == arn + ":live"
        lam.put_function_event_invoke_config(FunctionName="ev", Qualifier="1", MaximumRetryAttempts=1)
        with pytest.raises(ClientError) as e:
            lam.get_function_event_invoke_config(FunctionName="ev")
        assert e.value.response["Error"]["Message"] == \
            f"The function {arn}:$LATEST doesn't have an EventInvokeConfig"
        lamina.restart()
        lam = lamina.client()
        listed = lam.list_function_event_invoke_configs(FunctionName="ev")["FunctionEventInvokeConfigs"]
        assert sorted((c["FunctionArn"], c["MaximumRetryAttempts"]) for c in listed) == \
            [(arn + ":1", 1), (arn + ":live", 0)], "kept across a restart"

        r = lam.invoke(FunctionName="ev", Qualifier="live", InvocationType="Event",
                       Payload=json.dumps({"fail_times": 9}))
        rid = r["ResponseMetadata"]["RequestId"]
        assert collector.get()["request_id"] == rid
        record = sink_collector.get()["event"]
        assert record["requestContext"]["requestId"] == rid
        assert record["requestContext"]["condition"] == "RetriesExhausted"
        assert record["requestContext"]["approximateInvokeCount"] == 1, "the alias's MaximumRetryAttempts=0"
        assert record["responseContext"]["executedVersion"] == "1"

        lam.delete_function_event_invoke_config(FunctionName="ev", Qualifier="live")
        with pytest.raises(ClientError) as e:
            lam.get_function_event_invoke_config(FunctionName="ev", Qualifier="live")
        assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
        with pytest.raises(ClientError) as e:
            lam.put_function_event_invoke_config(FunctionName="ev", Qualifier="nope", MaximumRetryAttempts=0)
        assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    finally:
        sink_collector.close()


def test_a_published_version_keeps_running_its_own_code(lam):
    def code(text):
        return zip_bytes({"app.py": f"def handler(event, context):\n    return {text!r}\n"})

    create(lam, "frozen", code=code("old code"), Publish=True, Tags={"team": "a"})
    lam.put_function_concurrency(FunctionName="frozen", ReservedConcurrentExecutions=5)
    v1 = lam.get_function(FunctionName="frozen", Qualifier="1")
    # As AWS answers (its recorded answers show no tags for a version).
    assert ("Tags" not in v1, v1["Concurrency"]) == (True, {"ReservedConcurrentExecutions": 5}), \
        "a version shows its function's concurrency, and its tags only unqualified"
    assert lam.get_function(FunctionName="frozen")["Tags"] == {"team": "a"}
    lam.update_function_code(FunctionName="frozen", ZipFile=code("new code"))
    wait_updated(lam, "frozen")
    assert invoke_json(lam, "frozen", {})[1] == "new code"
    r, body = invoke_json(lam, "frozen", {}, Qualifier="1")
    assert (r["ExecutedVersion"], body) == ("1", "old code")
    v1 = lam.get_function(FunctionName="frozen", Qualifier="1")
    latest = lam.get_function(FunctionName="frozen")
    assert v1["Configuration"]["CodeSha256"] != latest["Configuration"]["CodeSha256"]


def test_list_functions_with_all_versions_pages_through_them(lam):
    create(lam, "all-a", code=APP, Publish=True)
    create(lam, "all-b", code=APP)
    pages = lam.get_paginator("list_functions").paginate(FunctionVersion="ALL", PaginationConfig={"PageSize": 1})
    listed = pages.build_full_result()["Functions"]
    assert [(f["FunctionName"], f["Version"]) for f in listed] == [("all-a", "$LATEST"), ("all-a", "1"),
                                                                  ("all-b", "$LATEST")]
    assert listed[0]["FunctionArn"].endswith(":function:all-a:$LATEST") and listed[1]["FunctionArn"].endswith(":all-a:1")
    assert "State" not in listed[0], "the List operations show no state, as AWS lists functions"
    default = lam.list_functions()["Functions"]
    assert [f["FunctionName"] for f in default] == ["all-a", "all-b"]
    assert error_of(lam.list_functions, FunctionVersion="latest")[:2] == (400, "ValidationException")


def test_a_configuration_only_change_is_published_as_a_new_version(lam):
    create(lam, "desc", code=APP)
    assert lam.publish_version(FunctionName="desc")["Version"] == "1"
    lam.update_function_configuration(FunctionName="desc", Description="changed")
    lam.get_waiter("function_updated_v2").wait(FunctionName="desc")
    v2 = lam.publish_version(FunctionName="desc")
    assert (v2["Version"], v2["Description"]) == ("2", "changed")
    assert lam.publish_version(FunctionName="desc")["Version"] == "2", "nothing changed since: nothing published"


def test_snap_start_is_kept_and_published_versions_are_optimized(lamina, lam):
    created = create(lam, "snappy", code=APP)
    assert created["SnapStart"] == {"ApplyOn": "None", "OptimizationStatus": "Off"}
    updated = lam.update_function_configuration(FunctionName="snappy", SnapStart={"ApplyOn": "PublishedVersions"})
    assert updated["SnapStart"] == {"ApplyOn": "PublishedVersions", "OptimizationStatus": "Off"}
    lam.get_waiter("function_updated_v2").wait(FunctionName="snappy")
    v1 = lam.publish_version(FunctionName="snappy")
    assert v1["SnapStart"] == {"ApplyOn": "PublishedVersions", "OptimizationStatus": "On"}
    lamina.restart()
    lam = lamina.client()
    assert lam.get_function_configuration(FunctionName="snappy")["SnapStart"]["ApplyOn"] == "PublishedVersions"
    with pytest.raises(ClientError) as e:
        lam.update_function_configuration(FunctionName="snappy", SnapStart={"ApplyOn": "Sometimes"})
    assert e.value.response["Error"]["Code"] == "ValidationException"
