"""Layers: published and versioned, merged into /opt in order, found by Python, Node,
PATH and custom runtimes, shared across accounts only by permission."""
import json

import pytest
from botocore.exceptions import ClientError

from conftest import ROLE, create, function_zip, invoke_json, wait_updated, zip_bytes

PROBE = """
import json, os, subprocess, sys

def handler(event, context):
    out = {"path": sys.path, "version": "%d.%d" % sys.version_info[:2], "env": dict(os.environ)}
    for module in event.get("imports", []):
        try:
            out[module] = __import__(module).WHO
        except ImportError as e:
            out[module] = "ImportError: %s" % e
    if event.get("run"):
        out["ran"] = subprocess.run([event["run"]], capture_output=True, text=True).stdout.strip()
    return out
"""


def error_of(call, **kw):
    with pytest.raises(ClientError) as e:
        call(**kw)
    r = e.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"], r["Error"]["Message"]


def publish(lam, name, files, **kw):
    return lam.publish_layer_version(LayerName=name, Content={"ZipFile": zip_bytes(files)}, **kw)


def test_python_layers_merge_in_order(lamina, lam):
    create(lam, "probe", code=zip_bytes({"app.py": PROBE}))
    version = invoke_json(lam, "probe", {})[1]["version"]
    deps = publish(lam, "deps", {
        "python/fromopt.py": "WHO = 'opt/python'\n",
        f"python/lib/python{version}/site-packages/fromsite.py": "WHO = 'site-packages'\n",
        "python/shadow.py": "WHO = 'first'\n",
        "bin/layer-tool": ("#!/bin/sh\necho tool from a layer\n", 0o755),
    }, CompatibleRuntimes=["python3.12"], Description="deps", LicenseInfo="MIT")
    assert (deps["Version"], deps["LayerVersionArn"]) == (1, "arn:aws:lambda:us-east-1:000000000000:layer:deps:1")
    over = publish(lam, "over", {"python/shadow.py": "WHO = 'second'\n"})

    updated = lam.update_function_configuration(
        FunctionName="probe", Layers=[deps["LayerVersionArn"], over["LayerVersionArn"]])
    assert [layer["Arn"] for layer in updated["Layers"]] == [deps["LayerVersionArn"], over["LayerVersionArn"]]
    assert updated["Layers"][0]["CodeSize"] == deps["Content"]["CodeSize"]
    wait_updated(lam, "probe")
    _, out = invoke_json(lam, "probe", {"imports": ["fromopt", "fromsite", "shadow"], "run": "layer-tool"})
    assert (out["fromopt"], out["fromsite"], out["shadow"]) == ("opt/python", "site-packages", "second")
    assert out["ran"] == "tool from a layer", "/opt/bin is on PATH"
    assert "/opt/lib" in out["env"]["LD_LIBRARY_PATH"].split(":")
    opt = [p for p in out["path"] if p.startswith("/opt")]
    assert opt == [f"/opt/python/lib/python{version}/site-packages", "/opt/python"], out["path"]

    lam.update_function_configuration(FunctionName="probe", Layers=[over["LayerVersionArn"], deps["LayerVersionArn"]])
    wait_updated(lam, "probe")
    assert invoke_json(lam, "probe", {"imports": ["shadow"]})[1]["shadow"] == "first", "the later layer shadows"

    # A deleted layer version keeps working for the functions that use it, across a restart.
    lam.delete_layer_version(LayerName="deps", VersionNumber=1)
    assert error_of(lam.get_layer_version, LayerName="deps", VersionNumber=1) == \
        (404, "ResourceNotFoundException", "The resource you requested does not exist.")
    lamina.restart()
    lam = lamina.client()
    assert invoke_json(lam, "probe", {"imports": ["fromopt"]})[1]["fromopt"] == "opt/python"
    assert publish(lam, "deps", {"python/x.py": ""})["Version"] == 2, "numbers are never reused"


def test_node_layer_and_a_bash_runtime_from_a_layer(lam):
    node_deps = publish(lam, "node-deps", {"nodejs/node_modules/greeter/index.js":
                                           "exports.greet = (n) => `hello ${n} from a layer`;\n"})
    create(lam, "node-fn", runtime="nodejs20.x", handler="index.handler", Layers=[node_deps["LayerVersionArn"]],
           code=zip_bytes({"index.js": "const g = require('greeter');\n"
                                       "exports.handler = async (e) => g.greet(e.name);\n"}))
    assert invoke_json(lam, "node-fn", {"name": "node"})[1] == "hello node from a layer"

    bootstrap = """#!/bin/bash
set -euo pipefail
source "$LAMBDA_TASK_ROOT/$(echo "$_HANDLER" | cut -d. -f1).sh"
while true; do
  HEADERS="$(mktemp)"
  EVENT=$(curl -sS -LD "$HEADERS" "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/next")
  ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
  RESPONSE=$($(echo "$_HANDLER" | cut -d. -f2) "$EVENT")
  curl -sS -X POST "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/$ID/response" -d "$RESPONSE" >/dev/null
done
"""
    runtime = publish(lam, "bash-runtime", {"bootstrap": (bootstrap, 0o755)}, CompatibleRuntimes=["provided.al2023"])
    create(lam, "bash-fn", runtime="provided.al2023", handler="function.handler",
           Layers=[runtime["LayerVersionArn"]],
           code=zip_bytes({"function.sh": 'handler() { echo "{\\"bash\\": $1}"; }\n'}))
    r, body = invoke_json(lam, "bash-fn", {"k": "v"})
    assert "FunctionError" not in r, body
    assert body == {"bash": {"k": "v"}}


def test_layer_api_listing_and_lookup(lamina, lam):
    first = publish(lam, "libs", {"python/a.py": ""}, CompatibleRuntimes=["python3.12"],
                    CompatibleArchitectures=["x86_64"])
    second = publish(lam, "libs", {"python/a.py": "# 2"}, CompatibleRuntimes=["nodejs20.x"])
    publish(lam, "other", {"python/o.py": ""}, CompatibleRuntimes=["python3.12"])
    got = lam.get_layer_version(LayerName="libs", VersionNumber=1)
    assert (got["LayerArn"], got["CompatibleRuntimes"], got["CompatibleArchitectures"]) == \
        ("arn:aws:lambda:us-east-1:000000000000:layer:libs", ["python3.12"], ["x86_64"])
    assert got["Content"]["CodeSha256"] == first["Content"]["CodeSha256"]
    status, _, body = lamina.http("GET", got["Content"]["Location"].split(str(lamina.port), 1)[1])
    assert status == 200 and body[:2] == b"PK", "Content.Location downloads the archive"
    by_arn = lam.get_layer_version_by_arn(Arn=second["LayerVersionArn"])
    assert by_arn["Version"] == 2

    versions = lam.list_layer_versions(LayerName="libs")["LayerVersions"]
    assert [v["Version"] for v in versions] == [2, 1], "newest first"
    page = lam.list_layer_versions(LayerName="libs", MaxItems=1)
    assert [v["Version"] for v in page["LayerVersions"]] == [2]
    assert [v["Version"] for v in lam.list_layer_versions(LayerName="libs", Marker=page["NextMarker"])[
        "LayerVersions"]] == [1]
    assert [v["Version"] for v in lam.list_layer_versions(LayerName="libs", CompatibleRuntime="python3.12")[
        "LayerVersions"]] == [1]
    layers = lam.list_layers()["Layers"]
    assert [(x["LayerName"], x["LatestMatchingVersion"]["Version"]) for x in layers] == [("libs", 2), ("other", 1)]
    layers = lam.list_layers(CompatibleRuntime="python3.12")["Layers"]
    assert [(x["LayerName"], x["LatestMatchingVersion"]["Version"]) for x in layers] == [("libs", 1), ("other", 1)]
    out = lamina.aws("lambda", "list-layer-versions", "--layer-name", "libs")
    assert [v["Version"] for v in out["LayerVersions"]] == [2, 1]

    assert error_of(lam.get_layer_version, LayerName="libs", VersionNumber=9)[:2] == (404, "ResourceNotFoundException")
    assert error_of(publish, lam=lam, name="bad name", files={"a": ""})[:2] == (400, "ValidationException")
    assert error_of(publish, lam=lam, name="rt", files={"a": ""}, CompatibleRuntimes=["cobol9"])[:2] == \
        (400, "ValidationException")


def test_function_layer_errors(lam):
    arns = [publish(lam, f"l{n}", {f"python/m{n}.py": ""})["LayerVersionArn"] for n in range(6)]
    assert error_of(create, lam=lam, name="six", code=function_zip("app.py"), Layers=arns) == \
        (400, "InvalidParameterValueException", "Cannot reference more than 5 layers.")
    missing = "arn:aws:lambda:us-east-1:000000000000:layer:l0:7"
    assert error_of(create, lam=lam, name="unknown", code=function_zip("app.py"), Layers=[missing]) == \
        (400, "InvalidParameterValueException", f"Layer version {missing} does not exist.")
    assert error_of(create, lam=lam, name="bad", code=function_zip("app.py"), Layers=["l0:1"])[:2] == \
        (400, "ValidationException")
    create(lam, "five", code=function_zip("app.py"), Layers=arns[:5])
    assert len(lam.get_function(FunctionName="five")["Configuration"]["Layers"]) == 5
    second = publish(lam, "l0", {"python/m0.py": "x = 2"})["LayerVersionArn"]
    assert error_of(lam.update_function_configuration, FunctionName="five", Layers=[arns[0], second]) == (
        400, "InvalidParameterValueException",
        "Two different versions of the same layer are not allowed to be referenced in the same function. "
        f"{arns[0]} and {second} are versions of the same layer.")
    assert error_of(lam.get_layer_version, LayerName="l0", VersionNumber=0) == \
        (400, "InvalidParameterValueException", "Layer Version Cannot be less than 1")
    assert error_of(lam.delete_layer_version, LayerName="l0", VersionNumber=-1) == \
        (400, "InvalidParameterValueException", "Layer Version Cannot be less than 1")
    elsewhere = "arn:aws:lambda:ap-southeast-1:000000000000:layer:l0:1"
    assert error_of(create, lam=lam, name="far", code=function_zip("app.py"), Layers=[elsewhere]) == (
        400, "InvalidParameterValueException",
        "Layers are not in the same region as the function. Layers are expected to be in region us-east-1.")


def test_layer_permissions_gate_other_accounts(lamina, lam):
    owner = lamina.client(key="111111111111")
    other = lamina.client(key="222222222222")
    arn = publish(owner, "shared", {"python/shared.py": "WHO = 'shared'\n"})["LayerVersionArn"]
    probe = zip_bytes({"app.py": PROBE})

    def create_in_other():
        return other.create_function(FunctionName="user", Runtime="python3.12", Role=ROLE, Handler="app.handler",
                                     Code={"ZipFile": probe}, Layers=[arn])

    assert error_of(create_in_other)[:2] == (400, "InvalidParameterValueException")
    assert error_of(owner.get_layer_version_policy, LayerName="shared", VersionNumber=1) == \
        (404, "ResourceNotFoundException", "No policy is associated with the given resource.")
    added = owner.add_layer_version_permission(LayerName="shared", VersionNumber=1, StatementId="to-222",
                                               Action="lambda:GetLayerVersion", Principal="222222222222")
    assert json.loads(added["Statement"]) == {
        "Sid": "to-222", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222222222222:root"},
        "Action": "lambda:GetLayerVersion", "Resource": arn}
    assert error_of(owner.add_layer_version_permission, LayerName="shared", VersionNumber=1, StatementId="to-222",
                    Action="lambda:GetLayerVersion", Principal="*")[:2] == (409, "ResourceConflictException")
    assert error_of(owner.add_layer_version_permission, LayerName="shared", VersionNumber=1, StatementId="x",
                    Action="lambda:GetLayerVersion", Principal="*", RevisionId="stale")[:2] == \
        (412, "PreconditionFailedException")
    policy = owner.get_layer_version_policy(LayerName="shared", VersionNumber=1)
    assert policy["RevisionId"] == added["RevisionId"]
    assert [s["Sid"] for s in json.loads(policy["Policy"])["Statement"]] == ["to-222"]

    create_in_other()
    assert invoke_json(other, "user", {"imports": ["shared"]})[1]["shared"] == "shared"
    assert other.get_layer_version_by_arn(Arn=arn)["Version"] == 1
    owner.remove_layer_version_permission(LayerName="shared", VersionNumber=1, StatementId="to-222")
    assert error_of(other.get_layer_version_by_arn, Arn=arn)[:2] == (404, "ResourceNotFoundException")
    assert invoke_json(other, "user", {"imports": ["shared"]})[1]["shared"] == "shared", \
        "a function keeps the layers it was given"
