"""Java functions (`java8.al2`–`java25`) through Lamina's Java runtime client: a handler
compiled against `aws-lambda-java-core` interfaces that are not in its package, AWS's handler
forms (`pkg.Class`, `pkg.Class::method`) and signatures (Map, POJO, String, streams), the
events' JSON binding, classes at the root, jars in `lib/` and a layer's `java/lib`, errors in
AWS's Java shape, `JAVA_TOOL_OPTIONS`, heap sizing by memory, timeouts and out-of-memory.
The host's JDK compiles the fixtures; without one the file skips, naming it."""
import io
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from conftest import SUBSTITUTE_NOTICE, create, invoke_json, log_of, without_notice, zip_bytes

SOURCES = Path(__file__).parent / "functions" / "java"

if shutil.which("javac") is None:
    pytest.skip("java: this machine has no JDK (javac), so no Java function can be compiled or run",
                allow_module_level=True)


def javac(out, sources, classpath=None):
    out.mkdir(parents=True, exist_ok=True)
    files = [str(p) for p in sorted(sources.rglob("*.java"))]
    cmd = ["javac", "--release", "11", "-nowarn", "-d", str(out)]
    if classpath:
        cmd += ["-cp", ":".join(str(c) for c in classpath)]
    subprocess.run(cmd + files, check=True, capture_output=True)
    return out


def jar(classes, manifest=True):
    """The classes of a directory as a jar (a zip, with a manifest)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        if manifest:
            z.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\r\n\r\n")
        for p in sorted(classes.rglob("*.class")):
            z.write(p, p.relative_to(classes).as_posix())
    return buf.getvalue()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The function's classes, compiled against stand-ins for the core interfaces and the
    events library; only the function's own classes and the events jar are packaged."""
    root = tmp_path_factory.mktemp("java")
    stubs = javac(root / "stubs", SOURCES / "stubs")
    events = javac(root / "events", SOURCES / "events")
    layer = javac(root / "layer", SOURCES / "layer")
    app = javac(root / "app", SOURCES / "app", [stubs, events, layer])
    return {"app": app, "events": jar(events), "layer": jar(layer)}


def package(built, layout="root"):
    """The function's zip: classes at the root (with the events jar in lib/), or one fat jar."""
    if layout == "fat":
        fat = built["app"].parent / "fat"
        shutil.copytree(built["app"], fat, dirs_exist_ok=True)
        with zipfile.ZipFile(io.BytesIO(built["events"])) as z:
            z.extractall(fat)
        return jar(fat)
    files = {p.relative_to(built["app"]).as_posix(): p.read_bytes() for p in built["app"].rglob("*.class")}
    files["lib/events.jar"] = built["events"]
    return zip_bytes(files)


def test_a_request_handler_gets_the_event_and_its_context(lam, built):
    create(lam, "java-hello", runtime="java17", handler="example.Hello::handleRequest", code=package(built),
           MemorySize=512, Timeout=5,
           Environment={"Variables": {"GREETING": "hi", "JAVA_TOOL_OPTIONS": "-Dlamina.test=picked"}})
    r, body = invoke_json(lam, "java-hello", {"n": 1, "nested": {"list": [1, 2.5, "x", None, True]}}, LogType="Tail")
    assert "FunctionError" not in r, body
    assert body["event"] == {"n": 1, "nested": {"list": [1, 2.5, "x", None, True]}}
    assert body["requestId"] == r["ResponseMetadata"]["RequestId"]
    assert body["arn"] == "arn:aws:lambda:us-east-1:000000000000:function:java-hello"
    assert body["function"] == ["java-hello", "$LATEST", 512]
    assert body["log"][0] == "/aws/lambda/java-hello"
    assert 0 < body["remaining"] <= 5000
    assert body["greeting"] == "hi" and body["toolOption"] == "picked"
    # AWS gives the heap 85% of the function's memory.
    assert 0.75 * 512 * 2**20 < body["maxHeap"] <= 0.85 * 512 * 2**20, body["maxHeap"]
    log = log_of(r)
    assert "java got {n=1, nested={list=[1, 2.5, x, null, true]}}" in log
    assert "Picked up JAVA_TOOL_OPTIONS: -Dlamina.test=picked" in log
    # java17 runs on a JDK 17 where the host has one, else on the nearest, and says so.
    notice = SUBSTITUTE_NOTICE.match(log)
    assert (body["javaVersion"] == "17") == (notice is None), log
    # The class alone names a RequestHandler.
    create(lam, "java-class", runtime="java21", handler="example.Hello", code=package(built, "fat"))
    r, body = invoke_json(lam, "java-class", {"k": "v"}, LogType="Tail")
    assert body["event"] == {"k": "v"}, body
    notice = SUBSTITUTE_NOTICE.match(log_of(r))
    assert (body["javaVersion"] == "21") == (notice is None), log_of(r)
    if notice:
        assert notice.group(1) == "java21" and notice.group(2).split(".")[0] == body["javaVersion"]
        # The nearest JDK that runs Java 21's bytecode is a newer one, when the host has one.
        newer = [v for v in installed_majors() if v > 21]
        assert not newer or int(body["javaVersion"]) == min(newer)


def installed_majors():
    majors = set()
    for release in Path("/usr/lib/jvm").glob("*/release"):
        for line in release.read_text().splitlines():
            if line.startswith("JAVA_VERSION="):
                v = line.split("=", 1)[1].strip('"').split(".")
                majors.add(int(v[1] if v[0] == "1" else v[0]))
    return majors


def test_pojo_string_stream_and_event_signatures(lam, built):
    code = package(built)
    create(lam, "java-orders", runtime="java17", handler="example.Orders::handle", code=code)
    order = {"id": "o-1", "lines": [{"SKU": "a", "quantity": 2}, {"sku": "b", "quantity": "3"}], "rush": True,
             "unknown": {"ignored": 1}}
    r, body = invoke_json(lam, "java-orders", order)
    # Getters become properties, nulls are left out, as AWS's serializer writes a POJO.
    assert body == {"items": 5, "orderId": "o-1", "rush": True}, body
    create(lam, "java-shout", runtime="java17", handler="example.Orders::shout", code=code)
    assert invoke_json(lam, "java-shout", "quiet")[1] == "QUIET!"
    r, body = invoke_json(lam, "java-shout", {"not": "a string"})
    assert r["FunctionError"] == "Unhandled"
    assert (body["errorType"], body["errorMessage"]) == ("java.lang.RuntimeException",
                                                          "An error occurred during JSON parsing"), body
    create(lam, "java-upper", runtime="java17", handler="example.Upper", code=code)
    r = lam.invoke(FunctionName="java-upper", Payload=b'{"raw": "bytes"}')
    assert r["Payload"].read() == b'{"RAW": "BYTES"}'
    # An SQS event binds to the events library's classes (bundled in lib/).
    create(lam, "java-queue", runtime="java17", handler="example.Queue::handleRequest", code=code)
    event = {"Records": [{
        "messageId": "m1", "receiptHandle": "rh", "body": "hello", "md5OfBody": "x",
        "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:q", "awsRegion": "us-east-1",
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {"kind": {"stringValue": "order", "dataType": "String", "stringListValues": []}},
    }]}
    r, body = invoke_json(lam, "java-queue", event)
    assert body == "m1=hello@arn:aws:sqs:us-east-1:000000000000:q attr=order count=1;", body


def test_java_errors_have_aws_shape(lam, built):
    code = package(built)
    create(lam, "java-fail", runtime="java17", handler="example.Orders::fail", code=code)
    r, body = invoke_json(lam, "java-fail", {}, LogType="Tail")
    assert r["FunctionError"] == "Unhandled"
    assert body["errorType"] == "java.lang.IllegalStateException" and body["errorMessage"] == "order rejected"
    assert body["stackTrace"] and body["stackTrace"][0].startswith("example.Orders.fail(Orders.java:"), body
    assert not any("lamina" in f for f in body["stackTrace"])
    assert body["cause"]["errorType"] == "java.lang.NumberFormatException"
    assert body["cause"]["errorMessage"] == 'For input string: "not a number"'
    log = log_of(r)
    assert "order rejected: java.lang.IllegalStateException" in log
    assert "Caused by: java.lang.NumberFormatException" in log
    # A handler that cannot be loaded fails its init, in AWS's words.
    create(lam, "java-missing", runtime="java17", handler="example.Nope::handleRequest", code=code)
    r, body = invoke_json(lam, "java-missing", {})
    assert r["FunctionError"] == "Unhandled"
    assert body == {"errorMessage": "Class not found: example.Nope", "errorType": "java.lang.ClassNotFoundException"}
    create(lam, "java-nomethod", runtime="java17", handler="example.Orders::absent", code=code)
    r, body = invoke_json(lam, "java-nomethod", {})
    assert body["errorType"] == "java.lang.NoSuchMethodException"
    assert body["errorMessage"] == ("No public method named absent with appropriate method signature found on class "
                                    "example.Orders")


def test_java_layers_timeouts_and_out_of_memory(lam, built):
    layer = lam.publish_layer_version(LayerName="java-greeter", Content={"ZipFile": zip_bytes(
        {"java/lib/greeter.jar": built["layer"]})})
    create(lam, "java-layer", runtime="java17", handler="example.Orders::greet", code=package(built),
           Layers=[layer["LayerVersionArn"]])
    assert invoke_json(lam, "java-layer", "ada")[1] == "hello ada from a layer"
    create(lam, "java-slow", runtime="java17", handler="example.Hello", code=package(built), Timeout=1)
    r, body = invoke_json(lam, "java-slow", {"sleep": 5000}, LogType="Tail")
    assert r["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Sandbox.Timedout" and "Task timed out after 1.00 seconds" in body["errorMessage"]
    # Past its heap the function fails with the JVM's error, and the next invoke runs in a
    # fresh environment.
    create(lam, "java-hog", runtime="java17", handler="example.Hello", code=package(built), MemorySize=256)
    r, body = invoke_json(lam, "java-hog", {"hoard": True}, LogType="Tail")
    assert r["FunctionError"] == "Unhandled"
    assert body["errorType"] == "java.lang.OutOfMemoryError" and body["errorMessage"] == "Java heap space", body
    r, body = invoke_json(lam, "java-hog", {"n": 2}, LogType="Tail")
    assert "FunctionError" not in r and body["event"] == {"n": 2}
    assert "Init Duration" in without_notice(log_of(r))


def test_every_java_runtime_id_runs(lam, built):
    """java8.al2 and java11 run on the nearest JDK this host has (bytecode for 11 runs on
    any newer one), each saying which."""
    for runtime in ["java8.al2", "java11", "java25"]:
        name = "java-" + runtime.replace(".", "-")
        create(lam, name, runtime=runtime, handler="example.Orders::shout", code=package(built))
        r = lam.invoke(FunctionName=name, Payload=json.dumps("x"), LogType="Tail")
        assert r["Payload"].read() == b'"X!"', runtime
        notice = SUBSTITUTE_NOTICE.match(log_of(r))
        if notice:
            assert notice.group(1) == runtime
