"""Reserved concurrency: the API, AWS's rules, and throttling exactly as AWS answers it."""
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

from conftest import create, function_zip, invoke_json

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
