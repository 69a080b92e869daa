"""Reserved concurrency: the API, AWS's rules, and throttling exactly as AWS answers it."""
import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

from conftest import create, function_zip, invoke_json, log_of

APP = function_zip("app.py")
REPORTER = function_zip("reporter.py")


def test_put_get_delete_and_account_settings(lamina, lam):
    create(lam, "r", code=APP)
    assert lam.get_function_concurrency(FunctionName="r").get("ReservedConcurrentExecutions") is None
    assert lam.put_function_concurrency(FunctionName="r", ReservedConcurrentExecutions=300)[
        "ReservedConcurrentExecutions"] == 300
    assert lam.get_function_concurrency(FunctionName="r")["ReservedConcurrentExecutions"] == 300
    assert lam.get_function(FunctionName="r")["Concurrency"] == {"ReservedConcurrentExecutions": 300}
    limits = lam.get_account_settings()["AccountLimit"]
    assert (limits["ConcurrentExecutions"], limits["UnreservedConcurrentExecutions"]) == (1000, 700)
    lamina.restart()
    lam = lamina.client()
    assert lam.get_function_concurrency(FunctionName="r")["ReservedConcurrentExecutions"] == 300
    lam.delete_function_concurrency(FunctionName="r")
    assert lam.get_function_concurrency(FunctionName="r").get("ReservedConcurrentExecutions") is None
    assert lam.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"] == 1000


def test_at_least_100_stay_unreserved(lam):
    create(lam, "a", code=APP)
    create(lam, "b", code=APP)
    lam.put_function_concurrency(FunctionName="a", ReservedConcurrentExecutions=800)
    with pytest.raises(ClientError) as e:
        lam.put_function_concurrency(FunctionName="b", ReservedConcurrentExecutions=101)
    err = e.value.response
    assert (err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Code"]) == (400, "InvalidParameterValueException")
    assert err["Error"]["Message"] == ("Specified ReservedConcurrentExecutions for function decreases account's "
                                       "UnreservedConcurrentExecution below its minimum value of [100].")
    assert lam.put_function_concurrency(FunctionName="b", ReservedConcurrentExecutions=100)[
        "ReservedConcurrentExecutions"] == 100
    # Raising a function's own reservation counts only the others against the rule.
    assert lam.put_function_concurrency(FunctionName="a", ReservedConcurrentExecutions=800)[
        "ReservedConcurrentExecutions"] == 800
    with pytest.raises(ClientError):
        lam.put_function_concurrency(FunctionName="nope", ReservedConcurrentExecutions=1)


def test_zero_reserved_throttles_every_invoke_with_awss_body(lamina, lam):
    create(lam, "off", code=APP)
    lam.put_function_concurrency(FunctionName="off", ReservedConcurrentExecutions=0)
    status, headers, body = lamina.http("POST", "/2015-03-31/functions/off/invocations", b"{}")
    assert status == 429
    assert headers["x-amzn-ErrorType"] == "TooManyRequestsException"
    assert json.loads(body) == {"Reason": "ReservedFunctionConcurrentInvocationLimitExceeded", "Type": "User",
                                "message": "Rate Exceeded."}
    with pytest.raises(ClientError) as e:
        invoke_json(lam, "off", {})
    assert e.value.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"


def test_reserved_concurrency_caps_one_function_only(lam, collector):
    create(lam, "one", code=REPORTER, handler="reporter.handler", Timeout=30,
           Environment={"Variables": {"REPORT_URL": collector.url}})
    create(lam, "other", code=APP)
    lam.put_function_concurrency(FunctionName="one", ReservedConcurrentExecutions=1)
    with ThreadPoolExecutor(max_workers=1) as pool:
        running = pool.submit(invoke_json, lam, "one", {"sleep": 2})
        collector.get()  # it is running now
        with pytest.raises(ClientError) as e:
            invoke_json(lam, "one", {})
        assert e.value.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
        r, _ = invoke_json(lam, "other", {"action": "echo"})
        assert "FunctionError" not in r, "other functions are not throttled"
        assert "FunctionError" not in running.result()[0]
    assert invoke_json(lam, "one", {})[1] == {"attempt": 1}, "capacity is back once it finishes"


def wait_ready(lam, name, qualifier, polls=600):
    for _ in range(polls):
        got = lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier=qualifier)
        if got["Status"] != "IN_PROGRESS":
            return got
        time.sleep(0.05)  # polling for a state change, bounded by `polls`
    pytest.fail(f"provisioned concurrency on {name}:{qualifier} never became ready")


def test_provisioned_environments_answer_without_a_cold_start(lamina, lam):
    create(lam, "pc", code=APP, Publish=True)
    lam.create_alias(FunctionName="pc", Name="live", FunctionVersion="1")
    put = lam.put_provisioned_concurrency_config(FunctionName="pc", Qualifier="live",
                                                 ProvisionedConcurrentExecutions=2)
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert (put["RequestedProvisionedConcurrentExecutions"], put["Status"]) == (2, "IN_PROGRESS")
    ready = wait_ready(lam, "pc", "live")
    assert (ready["Status"], ready["AllocatedProvisionedConcurrentExecutions"],
            ready["AvailableProvisionedConcurrentExecutions"]) == ("READY", 2, 2)

    r, ctx = invoke_json(lam, "pc", {"action": "context"}, Qualifier="live", LogType="Tail")
    assert ctx["env"]["AWS_LAMBDA_INITIALIZATION_TYPE"] == "provisioned-concurrency"
    assert r["ExecutedVersion"] == "1"
    report = [line for line in log_of(r).splitlines() if line.startswith("REPORT")][0]
    assert "Init Duration" not in report, report
    # Both provisioned environments serve at once, neither cold.
    with ThreadPoolExecutor(2) as pool:
        got = list(pool.map(lambda _: invoke_json(lam, "pc", {"action": "sleep", "seconds": 0.5},
                                                  Qualifier="1", LogType="Tail")[0], range(2)))
    for r in got:
        assert "Init Duration" not in log_of(r)

    listed = lam.list_provisioned_concurrency_configs(FunctionName="pc")["ProvisionedConcurrencyConfigs"]
    assert [(c["FunctionArn"], c["Status"]) for c in listed] == \
        [("arn:aws:lambda:us-east-1:000000000000:function:pc:live", "READY")]

    lamina.restart()
    lam = lamina.client()
    assert wait_ready(lam, "pc", "live")["Status"] == "READY", "re-provisioned after a restart"
    lam.delete_provisioned_concurrency_config(FunctionName="pc", Qualifier="live")
    _, ctx = invoke_json(lam, "pc", {"action": "context"}, Qualifier="live")
    assert ctx["env"]["AWS_LAMBDA_INITIALIZATION_TYPE"] == "on-demand"


def test_provisioned_concurrency_rules(lam):
    create(lam, "pr", code=APP, Publish=True)
    lam.create_alias(FunctionName="pr", Name="live", FunctionVersion="1")
    lam.create_alias(FunctionName="pr", Name="head", FunctionVersion="$LATEST")

    def error(call, **kw):
        with pytest.raises(ClientError) as e:
            call(**kw)
        r = e.value.response
        return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"], r["Error"]["Message"]

    unpublished = (400, "InvalidParameterValueException",
                   "Provisioned Concurrency Configs cannot be applied to unpublished function versions.")
    assert error(lam.put_provisioned_concurrency_config, FunctionName="pr", Qualifier="head",
                 ProvisionedConcurrentExecutions=1) == unpublished
    assert error(lam.put_provisioned_concurrency_config, FunctionName="pr", Qualifier="$LATEST",
                 ProvisionedConcurrentExecutions=1)[:2] == (400, "InvalidParameterValueException")
    assert error(lam.get_provisioned_concurrency_config, FunctionName="pr", Qualifier="1") == \
        (404, "ProvisionedConcurrencyConfigNotFoundException", "No Provisioned Concurrency Config found for this function")
    lam.delete_provisioned_concurrency_config(FunctionName="pr", Qualifier="1")  # none to delete: succeeds, as on AWS
    assert error(lam.put_provisioned_concurrency_config, FunctionName="pr", Qualifier="7",
                 ProvisionedConcurrentExecutions=1)[:2] == (404, "ResourceNotFoundException")
    status, _, body = lam_http_put(lam, "pr", "1", 0)
    assert (status, json.loads(body)["message"]) == (400, "1 validation error detected: Value '0' at "
                                                          "'provisionedConcurrentExecutions' failed to satisfy "
                                                          "constraint: Member must have value greater than or equal to 1")

    lam.put_provisioned_concurrency_config(FunctionName="pr", Qualifier="live", ProvisionedConcurrentExecutions=1)
    assert error(lam.put_provisioned_concurrency_config, FunctionName="pr", Qualifier="1",
                 ProvisionedConcurrentExecutions=1) == \
        (409, "ResourceConflictException", "Version is pointed by a Provisioned Concurrency alias")
    assert error(lam.put_function_concurrency, FunctionName="pr", ReservedConcurrentExecutions=0) == (
        400, "InvalidParameterValueException",
        " ReservedConcurrentExecutions  0 should not be lower than function's total provisioned concurrency [1].")
    with pytest.raises(ClientError) as e:
        lam.put_function_concurrency(FunctionName="pr", ReservedConcurrentExecutions=0)
    assert "Type" not in e.value.response, "AWS answers this one without Type"
    lam.put_function_concurrency(FunctionName="pr", ReservedConcurrentExecutions=3)
    assert error(lam.put_provisioned_concurrency_config, FunctionName="pr", Qualifier="live",
                 ProvisionedConcurrentExecutions=4) == \
        (400, "InvalidParameterValueException",
         "Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function")
    lam.delete_alias(FunctionName="pr", Name="live")
    assert lam.list_provisioned_concurrency_configs(FunctionName="pr")["ProvisionedConcurrencyConfigs"] == []


def lam_http_put(lam, name, qualifier, n):
    """PutProvisionedConcurrencyConfig as raw HTTP (botocore refuses 0 before sending)."""
    import urllib.request
    req = urllib.request.Request(
        f"{lam.meta.endpoint_url}/2019-09-30/functions/{name}/provisioned-concurrency?Qualifier={qualifier}",
        data=json.dumps({"ProvisionedConcurrentExecutions": n}).encode(), method="PUT")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def test_provisioned_concurrency_is_taken_from_the_reservation(lam):
    create(lam, "share", code=APP, Publish=True)
    lam.put_function_concurrency(FunctionName="share", ReservedConcurrentExecutions=1)
    assert invoke_json(lam, "share", {})[1]["event"] == {}
    lam.put_provisioned_concurrency_config(FunctionName="share", Qualifier="1", ProvisionedConcurrentExecutions=1)
    assert wait_ready(lam, "share", "1")["Status"] == "READY"
    # The one reserved execution is version 1's: `$LATEST` has none left.
    with pytest.raises(ClientError) as e:
        invoke_json(lam, "share", {}, Qualifier="$LATEST")
    assert (e.value.response["Error"]["Code"], e.value.response["Reason"]) == \
        ("TooManyRequestsException", "ReservedFunctionConcurrentInvocationLimitExceeded")
    r, body = invoke_json(lam, "share", {"action": "context"}, Qualifier="1")
    assert body["env"]["AWS_LAMBDA_INITIALIZATION_TYPE"] == "provisioned-concurrency"
    lam.delete_provisioned_concurrency_config(FunctionName="share", Qualifier="1")
    assert invoke_json(lam, "share", {})[1]["event"] == {}


def test_provisioning_a_function_whose_init_fails_reports_failed(lam):
    create(lam, "pf", code=function_zip("bad_import.py"), handler="bad_import.handler", Publish=True)
    lam.put_provisioned_concurrency_config(FunctionName="pf", Qualifier="1", ProvisionedConcurrentExecutions=1)
    got = wait_ready(lam, "pf", "1")
    assert (got["Status"], got["AllocatedProvisionedConcurrentExecutions"]) == ("FAILED", 0)
    assert got["StatusReason"] == "FUNCTION_ERROR_INIT_FAILURE", got["StatusReason"]
