"""Function updates as AWS runs them: `InProgress` while the new code and configuration are
prepared (an environment initialised with them), invocations on what the function was
meanwhile, another update refused, then `Successful` and the prepared environment used."""
import base64
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from botocore.exceptions import ClientError

from conftest import create, wait_updated, zip_bytes

ARN = "arn:aws:lambda:us-east-1:000000000000:function:upd"
BUSY = f"The operation cannot be performed at this time. An update is in progress for resource: {ARN}"

# Its initialisation waits for the test's gate when GATE_URL is set: the update that sets
# it cannot finish before the test lets it.
SOURCE = """import os, urllib.request
if os.environ.get("GATE_URL"):
    urllib.request.urlopen(os.environ["GATE_URL"], timeout=60).read()
def handler(event, context):
    return os.environ.get("MARK", "none") + "{suffix}"
"""


def code(suffix=""):
    return zip_bytes({"app.py": SOURCE.replace("{suffix}", suffix)})


class Gate:
    """An HTTP server whose GETs wait until the test opens it; it counts them."""

    def __init__(self):
        self.open_event = threading.Event()
        self.hits = 0
        gate = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                gate.hits += 1
                gate.open_event.wait(timeout=60)
                self.send_response(200)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"

    def open(self):
        self.open_event.set()

    def close(self):
        self.open_event.clear()


@pytest.fixture
def gate():
    g = Gate()
    yield g
    g.open()
    g.server.shutdown()


def error_of(call, **kw):
    with pytest.raises(ClientError) as e:
        call(**kw)
    r = e.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"], r["Error"]["Message"]


def payload(lam, **kw):
    r = lam.invoke(FunctionName="upd", LogType="Tail", **kw)
    return r["Payload"].read().decode(), base64.b64decode(r["LogResult"]).decode()


def test_an_update_is_in_progress_until_an_environment_is_ready(lam, gate):
    create(lam, "upd", code=code(), Environment={"Variables": {"MARK": "one"}})
    assert payload(lam)[0] == '"one"'

    answer = lam.update_function_configuration(
        FunctionName="upd", Environment={"Variables": {"MARK": "two", "GATE_URL": gate.url}})
    assert answer["LastUpdateStatus"] == "InProgress"
    got = lam.get_function_configuration(FunctionName="upd")
    assert (got["LastUpdateStatus"], got["LastUpdateStatusReason"], got["LastUpdateStatusReasonCode"]) == (
        "InProgress", "The function is being created.", "Creating")
    assert got["RevisionId"] == answer["RevisionId"], "reads show the update's revision meanwhile"
    assert got["Environment"]["Variables"]["MARK"] == "two", "the new configuration is what reads show"

    # Another change of $LATEST waits for this one, as AWS refuses it.
    assert error_of(lam.update_function_configuration, FunctionName="upd", Description="x") == (
        409, "ResourceConflictException", BUSY)
    assert error_of(lam.update_function_code, FunctionName="upd", ZipFile=code("!")) == (
        409, "ResourceConflictException", BUSY)
    assert error_of(lam.publish_version, FunctionName="upd") == (409, "ResourceConflictException", BUSY)
    # Invocations meanwhile run what the function was.
    assert payload(lam)[0] == '"one"'

    gate.open()
    wait_updated(lam, "upd")
    done = lam.get_function_configuration(FunctionName="upd")
    assert done["LastUpdateStatus"] == "Successful" and "LastUpdateStatusReason" not in done
    assert done["RevisionId"] != answer["RevisionId"]
    body, log = payload(lam)
    assert body == '"two"'
    assert "Init Duration" not in log, "the environment initialised for the update answers"
    assert gate.hits == 1, "the update's environment initialised once and was used"


def test_a_version_published_with_an_update_is_pending_until_it_is_ready(lam, gate):
    create(lam, "upd", code=code(), Environment={"Variables": {"MARK": "one", "GATE_URL": gate.url}})
    gate.open()
    assert payload(lam)[0] == '"one"'
    gate.close()

    v1 = lam.update_function_code(FunctionName="upd", ZipFile=code(" again"), Publish=True)
    assert (v1["Version"], v1["State"], v1["StateReasonCode"]) == ("1", "Pending", "Creating")
    got = lam.get_function(FunctionName="upd", Qualifier="1")["Configuration"]
    assert (got["State"], got["StateReason"]) == ("Pending", "The function is being created.")
    assert "LastUpdateStatus" not in got, "a version being created has no update yet"
    latest = lam.get_function(FunctionName="upd")["Configuration"]
    assert (latest["State"], latest["LastUpdateStatus"]) == ("Active", "InProgress")
    assert error_of(lam.invoke, FunctionName="upd", Qualifier="1") == (
        409, "ResourceConflictException",
        "The operation cannot be performed at this time. The function is currently in the following state: Pending")
    assert payload(lam)[0] == '"one"', "$LATEST runs the code it had"

    gate.open()
    wait_updated(lam, "upd")
    got = lam.get_function(FunctionName="upd", Qualifier="1")["Configuration"]
    assert (got["State"], got["LastUpdateStatus"]) == ("Active", "Successful")
    assert payload(lam, Qualifier="1")[0] == '"one again"'
    assert payload(lam)[0] == '"one again"'


def test_an_update_interrupted_by_kill9_is_done_after_the_restart(lamina, lam, gate):
    create(lam, "upd", code=code(), Environment={"Variables": {"MARK": "one"}})
    answer = lam.update_function_configuration(
        FunctionName="upd", Environment={"Variables": {"MARK": "two", "GATE_URL": gate.url}})
    assert answer["LastUpdateStatus"] == "InProgress"
    lamina.restart(hard=True)
    gate.open()
    lam = lamina.client()
    got = lam.get_function_configuration(FunctionName="upd")
    assert got["LastUpdateStatus"] == "Successful" and got["Environment"]["Variables"]["MARK"] == "two"
    assert payload(lam)[0] == '"two"'


def test_a_function_deleted_during_its_update_is_gone_and_its_name_free(lam, gate):
    create(lam, "upd", code=code(), Environment={"Variables": {"MARK": "one"}})
    lam.update_function_configuration(FunctionName="upd", Environment={"Variables": {"MARK": "two",
                                                                                     "GATE_URL": gate.url}})
    lam.delete_function(FunctionName="upd")
    assert error_of(lam.get_function, FunctionName="upd")[:2] == (404, "ResourceNotFoundException")
    create(lam, "upd", code=code(" anew"), Environment={"Variables": {"MARK": "three"}})
    assert lam.get_function_configuration(FunctionName="upd")["LastUpdateStatus"] == "Successful"
    gate.open()  # the abandoned preparation finishes and is let go
    assert payload(lam)[0] == '"three anew"'
    lam.update_function_configuration(FunctionName="upd", Description="after")
    wait_updated(lam, "upd")
    assert payload(lam)[0] == '"three anew"'
