"""Lamina's Python runtime client.

Speaks the Lambda Runtime API (AWS_LAMBDA_RUNTIME_API) and calls the handler named by
_HANDLER ("module.function") with AWS's (event, context) contract. Standard library only,
so that no package has to be installed for a function to run.
"""
import http.client
import importlib
import json
import os
import sys
import time
import traceback

API = os.environ["AWS_LAMBDA_RUNTIME_API"]
PREFIX = "/2018-06-01/runtime"


class _Conn:
    """One keep-alive connection to the Runtime API, reopened if it drops."""

    def __init__(self):
        host, _, port = API.rpartition(":")
        self.host, self.port = host, int(port)
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port)
            try:
                self.conn.request(method, PREFIX + path, body=body, headers=headers or {})
                resp = self.conn.getresponse()
                data = resp.read()
                return resp.status, resp.headers, data
            except (http.client.HTTPException, ConnectionError, OSError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise


CONN = _Conn()


def _error_doc(exc, error_type=None):
    tb = traceback.extract_tb(exc.__traceback__)
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
        cc = headers.get("Lambda-Runtime-Client-Context")
        self.client_context = json.loads(cc) if cc else None
        ci = headers.get("Lambda-Runtime-Cognito-Identity")
        self.identity = json.loads(ci) if ci else None

    def get_remaining_time_in_millis(self):
        return max(0, self._deadline_ms - int(time.time() * 1000))

    def log(self, msg):
        sys.stdout.write(msg)
        sys.stdout.flush()


def _load_handler():
    task_root = os.environ.get("LAMBDA_TASK_ROOT", "/var/task")
    opt = os.environ.get("LAMINA_OPT_DIR", "/opt")
    ver = "python%d.%d" % sys.version_info[:2]
    for p in reversed([task_root, opt + "/python", opt + "/python/lib/%s/site-packages" % ver]):
        if p not in sys.path:
            sys.path.insert(0, p)
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


def main():
    sys.stdout.reconfigure(line_buffering=True)
    sys.stderr.reconfigure(line_buffering=True)
    handler = _load_handler()
    while True:
        status, headers, body = CONN.request("GET", "/invocation/next")
        if status != 200:
            sys.exit(0)
        request_id = headers.get("Lambda-Runtime-Aws-Request-Id")
        os.environ["_X_AMZN_TRACE_ID"] = headers.get("Lambda-Runtime-Trace-Id", "")
        context = Context(request_id, int(headers.get("Lambda-Runtime-Deadline-Ms", "0")),
                          headers.get("Lambda-Runtime-Invoked-Function-Arn"), headers)
        try:
            event = json.loads(body) if body else {}
            result = handler(event, context)
            out = json.dumps(result).encode()
        except Exception as e:  # noqa: BLE001 - the handler's errors go back to the caller
            doc = _error_doc(e)
            doc["requestId"] = request_id
            _log_error(doc)
            _post_error("/invocation/%s/error" % request_id, doc)
            continue
        CONN.request("POST", "/invocation/%s/response" % request_id, out,
                     {"Content-Type": "application/json"})


if __name__ == "__main__":
    main()
