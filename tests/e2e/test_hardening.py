"""Hostile input: archives that try to escape or explode, and what the server does with
them; refused with AWS's errors, with nothing written outside the data directory."""
import io
import json
import socket
import time
import uuid
import zipfile
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from conftest import CONFIG, Lamina, create, function_zip

UNZIP = "Could not unzip uploaded file. Please check your file, then try to upload again."


def archive(entries):
    """A zip of (name, data, unix mode) entries, written as given (no name checks)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data, mode in entries:
            info = zipfile.ZipInfo(name)
            info.external_attr = mode << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    return buf.getvalue()


def refusal(lam, code):
    with pytest.raises(ClientError) as e:
        create(lam, f"hostile-{uuid.uuid4().hex[:8]}", code=code)
    err = e.value.response
    return err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Code"], err["Error"]["Message"]


def test_archives_that_escape_or_repeat_themselves_are_refused(lamina, lam):
    marker = f"lamina-escape-{uuid.uuid4().hex}"
    app = ("app.py", b"def handler(e, c):\n    return 1\n", 0o100644)
    cases = {
        "zip-slip": [app, (f"../../../../../../tmp/{marker}", b"x", 0o100644)],
        "absolute path": [app, (f"/tmp/{marker}", b"x", 0o100644)],
        "symlink to /": [app, ("root", b"/", 0o120777)],
        "symlink climbing out": [app, ("lib/up", b"../../..", 0o120777)],
        "a name twice": [app, ("./app.py", b"def handler(e, c):\n    return 2\n", 0o100644)],
    }
    for case, entries in cases.items():
        assert refusal(lam, archive(entries)) == (400, "InvalidParameterValueException", UNZIP), case
    assert not Path(f"/tmp/{marker}").exists()
    assert not any(p.name == marker for p in Path(lamina.data_dir).rglob("*"))
    assert lam.list_functions()["Functions"] == []


def test_an_archive_that_unzips_past_the_limit_is_refused(lamina, lam):
    # A few hundred KiB of zip that would unzip past Lambda's 250 MB.
    bomb = archive([("app.py", b"x = 1\n", 0o100644), ("zeros.bin", bytes(263 * 1024 * 1024), 0o100644)])
    assert len(bomb) < 1024 * 1024
    status, code, message = refusal(lam, bomb)
    assert (status, code) == (400, "InvalidParameterValueException")
    assert message == "Unzipped size must be smaller than 262144000 bytes"


def test_slow_and_silent_clients_are_let_go_while_others_are_served(tmp_path):
    server = Lamina(tmp_path / "data", config=CONFIG + "[server]\nheader_timeout_secs = 1\n").start()
    try:
        lam = server.client()
        slow = []
        for i in range(200):
            s = socket.create_connection(("127.0.0.1", server.port), timeout=30)
            if i % 2:
                s.sendall(b"GET /2015-03-31/functions/ HTTP/1.1\r\nHost: x\r\nX-Trickle: ")  # never finished
            slow.append(s)
        # Everyone else is served meanwhile.
        for _ in range(20):
            assert lam.list_functions()["Functions"] == []
        # And the slow ones are closed by the server: their reads end.
        started = time.monotonic()
        for s in slow:
            assert s.recv(1024) == b""
            s.close()
        assert time.monotonic() - started < 25
    finally:
        server.stop()


def test_a_body_over_the_limit_is_refused_before_it_is_read(lamina, lam):
    create(lam, "small", code=function_zip("app.py"))
    s = socket.create_connection(("127.0.0.1", lamina.port), timeout=30)
    s.sendall(b"POST /2015-03-31/functions/small/invocations HTTP/1.1\r\nHost: x\r\n"
              b"Content-Length: 209715200\r\n\r\n" + b"{" * 65536)
    answer = s.recv(4096).decode()
    s.close()
    assert answer.startswith("HTTP/1.1 413"), answer
    assert "RequestEntityTooLargeException" in answer
    assert lam.invoke(FunctionName="small", Payload=b'{"action": "echo"}')["StatusCode"] == 200


def test_malformed_and_deeply_nested_bodies_get_a_clean_400(lamina, lam):
    deep = b"[" * 100_000 + b"]" * 100_000
    for body in [b"{not json", deep, b"\xff\xfe\x00garbage"]:
        status, headers, text = lamina.http("POST", "/2015-03-31/functions", body=body,
                                            headers={"content-type": "application/json"})
        assert status == 400, (body[:20], text)
    status, _, text = lamina.http("POST", "/", body=b"Action=SendMessage&" + b"a" * 10 + b"=%%%zz",
                                  headers={"content-type": "application/x-www-form-urlencoded"})
    assert status == 400, text
    assert lam.list_functions()["Functions"] == []


def test_deeply_nested_api_definitions_get_a_clean_400(lamina):
    gw = lamina.client("apigateway")
    for body in [b"[" * 50_000 + b"]" * 50_000, b"a:\n" + b"".join(b"  " * i + b"- \n" for i in range(2000)),
                 b"openapi: 3.0.1\npaths: {/x: " + b"{a: " * 5000 + b"1" + b"}" * 5001]:
        with pytest.raises(ClientError) as e:
            gw.import_rest_api(body=body)
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400, body[:30]
        assert e.value.response["Error"]["Code"] == "BadRequestException"
    assert gw.get_rest_apis()["items"] == []


def logs_error(call):
    with pytest.raises(ClientError) as e:
        call()
    err = e.value.response
    return err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Code"], err["Error"]["Message"]


def test_filter_pattern_bombs_are_refused_and_the_server_stays_up(lamina):
    logs = lamina.client("logs")
    logs.create_log_group(logGroupName="bombs")
    logs.create_log_stream(logGroupName="bombs", logStreamName="s")
    logs.put_log_events(logGroupName="bombs", logStreamName="s",
                        logEvents=[{"timestamp": int(time.time() * 1000), "message": '{"a": 1}'}])
    nested = "{ " + "(" * 5000 + "$.a = 1" + ")" * 5000 + " }"
    chain = "{ " + " && ".join(["$.a = 1"] * 50_000) + " }"
    for bomb in (nested, chain):
        status, code, message = logs_error(lambda: logs.filter_log_events(logGroupName="bombs", filterPattern=bomb))
        assert (status, code) == (400, "InvalidParameterException")
        assert message.endswith("at 'filterPattern' failed to satisfy constraint: "
                                "Member must have length less than or equal to 1024"), message[-200:]
    # Within AWS's 1,024 characters: nesting past the parser's depth is refused too...
    deep = "{ " + "(" * 400 + "$.a = 1" + ")" * 400 + " }"
    status, code, _ = logs_error(lambda: logs.filter_log_events(logGroupName="bombs", filterPattern=deep))
    assert (status, code) == (400, "InvalidParameterException")
    # ...and a long flat chain, or many `...`, still answers.
    chain = "{ " + " && ".join(["$.a = 1"] * 90) + " }"
    assert [e["message"] for e in logs.filter_log_events(logGroupName="bombs", filterPattern=chain)["events"]] == [
        '{"a": 1}']
    dots = "[" + ", ".join(["..."] * 200) + ", x = 2]"
    assert logs.filter_log_events(logGroupName="bombs", filterPattern=dots)["events"] == []
    assert logs.describe_log_groups()["logGroups"][0]["logGroupName"] == "bombs"


def mock_api(lamina, response_template):
    """A REST API whose `GET /bomb` is a MOCK answering through `response_template`,
    deployed to `prod`."""
    apigw = lamina.client("apigateway")
    api = apigw.create_rest_api(name="bomb")
    res = apigw.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart="bomb")
    kw = dict(restApiId=api["id"], resourceId=res["id"], httpMethod="GET")
    apigw.put_method(authorizationType="NONE", **kw)
    apigw.put_integration(type="MOCK", requestTemplates={"application/json": '{"statusCode": 200}'}, **kw)
    apigw.put_method_response(statusCode="200", **kw)
    apigw.put_integration_response(statusCode="200", responseTemplates={"application/json": response_template},
                                   **kw)
    apigw.create_deployment(restApiId=api["id"], stageName="prod")
    return api["id"]


def test_mapping_template_bombs_answer_500_and_the_server_stays_up(tmp_path):
    server = Lamina(tmp_path / "data").start()
    try:
        deep = mock_api(server, "$util.escapeJavaScript(" * 5000 + "'x'" + ")" * 5000)
        grows = mock_api(server, "$util.base64Encode(" * 48 + "'0123456789'" + ")" * 48)
        fine = mock_api(server, '{"ok": "$util.base64Encode(\'hi\')"}')
        for _ in range(2):
            for api_id in (deep, grows):
                status, _, body = server.http("GET", f"/restapis/{api_id}/prod/_user_request_/bomb")
                assert (status, json.loads(body)) == (500, {"message": "Internal server error"})
            status, _, body = server.http("GET", f"/restapis/{fine}/prod/_user_request_/bomb")
            assert (status, json.loads(body)) == (200, {"ok": "aGk="})
            # The APIs are stored: after a restart they are served, and refused, the same.
            server.restart()
    finally:
        server.stop()


def test_huge_headers_are_refused_and_the_server_stays_up(lamina, lam):
    s = socket.create_connection(("127.0.0.1", lamina.port), timeout=30)
    s.sendall(b"GET /2015-03-31/functions/ HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (1024 * 1024) + b"\r\n\r\n")
    answer = s.recv(4096).decode(errors="replace")
    s.close()
    assert answer.startswith("HTTP/1.1 431"), answer[:100]
    many = "".join(f"X-H{i}: v\r\n" for i in range(5000)).encode()
    s = socket.create_connection(("127.0.0.1", lamina.port), timeout=30)
    s.sendall(b"GET /2015-03-31/functions/ HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n")
    answer = s.recv(4096).decode(errors="replace")
    s.close()
    assert answer.startswith("HTTP/1.1 431"), answer[:100]
    assert lam.list_functions()["Functions"] == []
