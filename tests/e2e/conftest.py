"""The end-to-end harness: starts the real `lamina` binary on a free port and drives it
with boto3, the aws CLI and plain HTTP."""
import base64
import io
import json
import os
import queue
import re
import signal
import subprocess
import tempfile
import threading
import time
import urllib.request
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = Path(__file__).resolve().parent / "functions"
LAMINA_BIN = os.environ.get("LAMINA_BIN", str(ROOT / "target" / "debug" / "lamina"))
RUST_ECHO_BIN = os.environ.get("RUST_ECHO_BIN", str(ROOT / "target" / "fixtures" / "debug" / "bootstrap"))
ROLE = "arn:aws:iam::000000000000:role/lambda-role"
# The SDK layer (boto3, the AWS SDK v3 for Node.js) every test server's functions import,
# installed once for the whole run (`lamina install-sdk`), not once per server.
SDK_DIR = os.environ.setdefault("LAMINA_SDK_DIR", str(ROOT / "target" / "sdk-layer"))


@pytest.fixture(scope="session", autouse=True)
def sdk_layer():
    subprocess.run([LAMINA_BIN, "install-sdk"], check=True, capture_output=True, timeout=600)

CONFIG = """
[functions]
idle_timeout_secs = 30
[async]
retry_delays_secs = [0.2, 0.2]
"""


class Lamina:
    """One `lamina serve` process with its own data directory."""

    def __init__(self, data_dir, config=CONFIG, env=None):
        self.data_dir = Path(data_dir)
        self.env = env or {}
        self.config_path = self.data_dir.parent / (self.data_dir.name + ".toml")
        self.config_path.write_text(config)
        self.proc = None
        self.port = None

    def start(self):
        # A restart takes the port back. Between a `kill -9` and the new start, another
        # process's connection may briefly hold it as its own (ephemeral) port: the start
        # is tried again until the port is free, for a few seconds at most.
        for attempt in range(50):
            self.proc = subprocess.Popen(
                [LAMINA_BIN, "serve", "--port", str(self.port or 0), "--data-dir", str(self.data_dir),
                 "--config", str(self.config_path)],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                # A secret in Lamina's own environment: functions must never see it.
                env=dict(os.environ, LAMINA_TEST_SECRET="do-not-leak", **self.env),
            )
            line = self.proc.stdout.readline()
            if line.startswith("lamina listening on "):
                break
            err = self.proc.stderr.read() if self.proc.poll() is not None else ""
            if not (self.port and "Address already in use" in err and attempt < 49):
                raise RuntimeError(f"lamina did not start: {line!r} {err}")
            time.sleep(0.1)
        self.port = int(line.rsplit(":", 1)[1])
        # Testcontainers waits for this line: it comes once requests are accepted.
        self.ready_line = self.proc.stdout.readline()
        # Keep draining stderr so the server never blocks on a full pipe; the lines are
        # kept for tests of the server's own output.
        self.stderr_lines = []
        threading.Thread(target=lambda: self.stderr_lines.extend(self.proc.stderr), daemon=True).start()
        return self

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=20)

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=20)

    def restart(self, hard=False):
        self.kill9() if hard else self.stop()
        return self.start()

    def client(self, service="lambda", **kw):
        return boto3.client(
            service,
            endpoint_url=kw.pop("endpoint_url", self.url),
            region_name=kw.pop("region", "us-east-1"),
            aws_access_key_id=kw.pop("key", "test"),
            aws_secret_access_key="test",
            config=Config(retries={"total_max_attempts": 1}, read_timeout=120, connect_timeout=10),
            **kw,
        )

    def http(self, method, path, body=None, headers=None):
        """A plain HTTP request; returns (status, headers, body bytes)."""
        req = urllib.request.Request(self.url + path, data=body, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def aws(self, *args, expect_ok=True, endpoint=None):
        """Runs the aws CLI against this server (at `endpoint`, if given); returns parsed
        JSON output (or None)."""
        env = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
                   AWS_DEFAULT_REGION="us-east-1", AWS_MAX_ATTEMPTS="1", AWS_PAGER="")
        p = subprocess.run(["aws", "--endpoint-url", endpoint or self.url, *args], capture_output=True, text=True, env=env,
                           timeout=120)
        if expect_ok:
            assert p.returncode == 0, p.stderr
            return json.loads(p.stdout) if p.stdout.strip() else None
        return p


@pytest.fixture
def lamina(tmp_path):
    server = Lamina(tmp_path / "data").start()
    yield server
    server.stop()


@pytest.fixture
def lam(lamina):
    return lamina.client()


def zip_bytes(files):
    """A zip of {name: text-or-bytes-or-(data, mode)}."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in files.items():
            mode = 0o644
            if isinstance(content, tuple):
                content, mode = content
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, content)
    return buf.getvalue()


def function_zip(*names, **extra):
    """Zips files from tests/e2e/functions, plus any extra {name: content}."""
    files = {n: (FUNCTIONS / n).read_text() for n in names}
    files.update(extra)
    return zip_bytes(files)


def create(lam, name, runtime="python3.12", handler="app.handler", code=None, **kw):
    return lam.create_function(FunctionName=name, Runtime=runtime, Role=ROLE, Handler=handler,
                               Code={"ZipFile": code}, **kw)


def wait_updated(lam, name):
    """Waits until a function's update is done, with boto3's waiter, as deploy tools do."""
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.05, "MaxAttempts": 600})


def invoke_json(lam, name, payload=None, **kw):
    r = lam.invoke(FunctionName=name, Payload=json.dumps(payload if payload is not None else {}), **kw)
    body = r["Payload"].read()
    return r, json.loads(body) if body else None


def log_of(response):
    return base64.b64decode(response["LogResult"]).decode()


# The first line of a cold environment whose interpreter is not its runtime's own version
# (python3.12 on a host whose Python is 3.11): Lamina says so.
SUBSTITUTE_NOTICE = re.compile(r"Lamina: this host has no interpreter for (\S+); the function runs on version "
                               r"(\S+) \((\S+)\)\n")


def without_notice(log):
    """A log without the substitute-interpreter notice it may begin with."""
    return SUBSTITUTE_NOTICE.sub("", log, count=1) if SUBSTITUTE_NOTICE.match(log) else log


class Collector:
    """A loopback HTTP server that functions report to; tests wait on what arrives. Each
    reply tells the function how many reports its request id has made so far."""

    def __init__(self, tls=None):
        """`tls`: (certificate file, key file) to serve HTTPS."""
        self.items = queue.Queue()
        self.seen = {}
        self.lock = threading.Lock()
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("content-length", 0))
                item = json.loads(self.rfile.read(n))
                with collector.lock:
                    key = item.get("request_id")
                    collector.seen[key] = collector.seen.get(key, 0) + 1
                    reply = json.dumps({"seen": collector.seen[key]}).encode()
                collector.items.put((item, {k.lower(): v for k, v in self.headers.items()}))
                self.send_response(200)
                self.send_header("content-length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        scheme = "http"
        if tls:
            import ssl
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            scheme = "https"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"{scheme}://127.0.0.1:{self.server.server_address[1]}/"

    def get(self, timeout=30):
        return self.items.get(timeout=timeout)[0]

    def get_with_headers(self, timeout=30):
        """The next report and the headers it came with (names lower case)."""
        return self.items.get(timeout=timeout)

    def close(self):
        self.server.shutdown()


@pytest.fixture
def collector():
    c = Collector()
    yield c
    c.close()
