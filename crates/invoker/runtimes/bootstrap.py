"""Lamina's Python runtime client.

Speaks the Lambda Runtime API (AWS_LAMBDA_RUNTIME_API) and calls the handler named by
_HANDLER ("module.function") with AWS's (event, context) contract. Standard library only,
so that no package has to be installed for a function to run.
"""
import os
import sys

# Started with -S, the interpreter's own site-packages are not on the path: the host's
# packages are not the function's. AWS's SDK is (see _load_handler).
import importlib  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import socket  # noqa: E402
import time  # noqa: E402

PREFIX = "/2018-06-01/runtime"


class _Conn:
    """One keep-alive HTTP/1.1 connection to the Runtime API, reopened if it drops.

    A few lines over a raw socket instead of http.client: importing http.client (and
    the email package behind it) costs more than the rest of the runtime's start-up."""

    def __init__(self):
        host, _, port = os.environ["AWS_LAMBDA_RUNTIME_API"].rpartition(":")
        self.addr = (host, int(port))
        self.sock = None
        self.buf = b""

    def _connect(self):
        # The host as bytes: a str goes through the "idna" codec first, whose import
        # (stringprep, unicodedata) costs milliseconds of the first cold start.
        self.sock = socket.create_connection((self.addr[0].encode("ascii"), self.addr[1]))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def _read_until(self, marker):
        while marker not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("runtime API closed the connection")
            self.buf += chunk
        head, _, self.buf = self.buf.partition(marker)
        return head

    def _read_exactly(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(max(65536, n - len(self.buf)))
            if not chunk:
                raise ConnectionError("runtime API closed the connection")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def _exchange(self, method, path, body, headers):
        lines = ["%s %s%s HTTP/1.1" % (method, PREFIX, path), "Host: %s:%d" % self.addr]
        for k, v in (headers or {}).items():
            lines.append("%s: %s" % (k, v))
        body = body or b""
        lines.append("Content-Length: %d" % len(body))
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        head = self._read_until(b"\r\n\r\n").decode("latin-1").split("\r\n")
        status = int(head[0].split(" ", 2)[1])
        resp_headers = {}
        for line in head[1:]:
            k, _, v = line.partition(":")
            resp_headers[k.strip().lower()] = v.strip()
        if resp_headers.get("transfer-encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self._read_until(b"\r\n").split(b";")[0], 16)
                if size == 0:
                    self._read_until(b"\r\n")
                    break
                data += self._read_exactly(size)
                self._read_exactly(2)
        else:
            data = self._read_exactly(int(resp_headers.get("content-length", "0")))
        if resp_headers.get("connection", "").lower() == "close":
            self.sock.close()
            self.sock = None
        return status, resp_headers, data

    def request(self, method, path, body=None, headers=None):
        for attempt in (0, 1):
            if self.sock is None:
                self._connect()
            try:
                return self._exchange(method, path, body, headers)
            except OSError:
                self.sock.close()
                self.sock = None
                if attempt:
                    raise


CONN = None


def _error_doc(exc, error_type=None):
    import traceback  # only failures pay for it

    # AWS shows the function's own frames only, never the runtime's.
    tb = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename != __file__]
    return {
        "errorMessage": str(exc),
        "errorType": error_type or type(exc).__name__,
        "requestId": "",
        "stackTrace": traceback.format_list(tb),
    }


def _log_error(doc):
    # AWS prints the error to the function's log as "[ERROR] Type: message".
    lines = ["[ERROR] %s: %s" % (doc["errorType"], doc["errorMessage"])]
    if doc.get("stackTrace"):
        lines.append("Traceback (most recent call last):")
        lines.extend(s.rstrip("\n") for s in doc["stackTrace"])
    print("\r".join(lines), flush=True)


def _post_error(path, doc):
    body = json.dumps(doc).encode()
    CONN.request("POST", path, body, {
        "Content-Type": "application/json",
        "Lambda-Runtime-Function-Error-Type": doc["errorType"],
    })


def _init_error(doc):
    _log_error(doc)
    _post_error("/init/error", doc)
    sys.exit(1)


class Context:
    """The context object AWS passes as the handler's second argument."""

    def __init__(self, request_id, deadline_ms, arn, headers):
        self.aws_request_id = request_id
        self.invoked_function_arn = arn
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self._deadline_ms = deadline_ms
        cc = headers.get("lambda-runtime-client-context")
        self.client_context = json.loads(cc) if cc else None
        ci = headers.get("lambda-runtime-cognito-identity")
        self.identity = json.loads(ci) if ci else None

    def get_remaining_time_in_millis(self):
        return max(0, self._deadline_ms - int(time.time() * 1000))

    def log(self, msg):
        sys.stdout.write(msg)
        sys.stdout.flush()


class _RequestIdFilter(logging.Filter):
    """Adds the current request id to every record, as AWS's handler does."""

    request_id = None

    def filter(self, record):
        record.aws_request_id = self.request_id
        return True


_REQUEST_ID = _RequestIdFilter()


def _setup_logging():
    # AWS installs one handler on the root logger, writing
    # "[LEVEL]\t<time>Z\t<request id>\t<message>" to the function's log.
    handler = logging.StreamHandler(sys.stdout)
    formatter = logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
        "%Y-%m-%dT%H:%M:%S")
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    handler.addFilter(_REQUEST_ID)
    logging.getLogger().addHandler(handler)


def _load_handler():
    task_root = os.environ.get("LAMBDA_TASK_ROOT", "/var/task")
    opt = os.environ.get("LAMINA_OPT_DIR", "/opt")
    ver = "python%d.%d" % sys.version_info[:2]
    # AWS's order: the package, then a layer's site-packages, then its python/.
    for p in reversed([task_root, opt + "/python/lib/%s/site-packages" % ver, opt + "/python"]):
        if p not in sys.path:
            sys.path.insert(0, p)
    # boto3 from Lamina's SDK layer (for this Python version), after the function's own
    # packages and its layers.
    sdk = os.environ.pop("LAMINA_SDK_PYTHON", None)
    if sdk:
        sys.path.append("%s/%d.%d" % (sdk, sys.version_info[0], sys.version_info[1]))
    spec = os.environ.get("_HANDLER", "")
    module_name, _, func_name = spec.rpartition(".")
    if not module_name:
        _init_error({"errorMessage": "Bad handler '%s': not enough values to unpack (expected 2, got 1)" % spec,
                     "errorType": "Runtime.MalformedHandlerName", "requestId": "", "stackTrace": []})
    module_name = module_name.replace("/", ".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        _init_error({"errorMessage": "Unable to import module '%s': %s" % (module_name, e),
                     "errorType": "Runtime.ImportModuleError", "requestId": "", "stackTrace": []})
    except SyntaxError as e:
        _init_error({"errorMessage": "Syntax error in module '%s': %s" % (module_name, e),
                     "errorType": "Runtime.UserCodeSyntaxError", "requestId": "", "stackTrace": []})
    except Exception as e:  # noqa: BLE001 - any init failure is reported, as AWS does
        _init_error(_error_doc(e))
    handler = getattr(module, func_name, None)
    if handler is None:
        _init_error({"errorMessage": "Handler '%s' missing on module '%s'" % (func_name, module_name),
                     "errorType": "Runtime.HandlerNotFound", "requestId": "", "stackTrace": []})
    return handler


def _await_function():
    """Started ahead of its function (LAMINA_PRESTART=1): everything above is loaded;
    the function's environment arrives on stdin when the environment is claimed."""
    # The compiler's first use costs a millisecond and more; the function's module needs it.
    compile("def _warm(a):\n    return a\n", "<lamina>", "exec")
    go = json.loads(sys.stdin.buffer.read())
    os.environ.clear()
    os.environ.update(go["env"])
    os.chdir(go["cwd"])


def main():
    global CONN
    if os.environ.get("LAMINA_PRESTART") == "1":
        _await_function()
    CONN = _Conn()
    sys.stdout.reconfigure(line_buffering=True)
    sys.stderr.reconfigure(line_buffering=True)
    _setup_logging()
    handler = _load_handler()
    while True:
        status, headers, body = CONN.request("GET", "/invocation/next")
        if status != 200:
            sys.exit(0)
        request_id = headers.get("lambda-runtime-aws-request-id")
        _REQUEST_ID.request_id = request_id
        os.environ["_X_AMZN_TRACE_ID"] = headers.get("lambda-runtime-trace-id", "")
        context = Context(request_id, int(headers.get("lambda-runtime-deadline-ms", "0")),
                          headers.get("lambda-runtime-invoked-function-arn"), headers)
        try:
            event = json.loads(body) if body else {}
            result = handler(event, context)
        except Exception as e:  # noqa: BLE001 - the handler's errors go back to the caller
            doc = _error_doc(e)
            doc["requestId"] = request_id
            _log_error(doc)
            _post_error("/invocation/%s/error" % request_id, doc)
            continue
        try:
            out = json.dumps(result).encode()
        except (TypeError, ValueError) as e:
            doc = {"errorMessage": "Unable to marshal response: %s" % e, "errorType": "Runtime.MarshalError",
                   "requestId": request_id, "stackTrace": []}
            _log_error(doc)
            _post_error("/invocation/%s/error" % request_id, doc)
            continue
        try:
            CONN.request("POST", "/invocation/%s/response" % request_id, out,
                         {"Content-Type": "application/json"})
        except OSError:
            # The Runtime API stops reading an answer over its size limit and records it as
            # too large; the runtime goes on to the next invocation, as AWS's clients do.
            pass


if __name__ == "__main__":
    main()
