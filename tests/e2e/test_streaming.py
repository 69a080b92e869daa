"""Response streaming: InvokeWithResponseStream's event stream (`PayloadChunk`s as the
function writes, then `InvokeComplete` with any error and the log's tail), function URLs in
`RESPONSE_STREAM` mode (the HTTP prelude of `awslambda.HttpResponseStream.from`, then the
body as it is written), Node's `awslambda.streamifyResponse`, a `provided` runtime streaming
through the Runtime API (chunked, with error trailers), plain Invoke of a streaming function
(the whole answer), and AWS's 20 MB limit with its bandwidth cap after 6 MB.

That a piece arrives while the function is still running is shown without timing: the
function writes its first piece, then waits for an S3 object that the test puts only once
it has read that piece."""
import base64
import http.client
import json
import time

import pytest

from conftest import create, zip_bytes

NODE = """
const { S3Client, GetObjectCommand } = require('@aws-sdk/client-s3');
const s3 = new S3Client({ forcePathStyle: true });

async function gate(key) {
  for (;;) {
    try { await s3.send(new GetObjectCommand({ Bucket: 'gates', Key: key })); return; }
    catch (e) { await new Promise((r) => setTimeout(r, 20)); }
  }
}

exports.handler = awslambda.streamifyResponse(async (event, responseStream, context) => {
  const raw = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString() : event.body;
  const body = raw ? JSON.parse(raw) : event;
  if (body.prelude) {
    responseStream = awslambda.HttpResponseStream.from(responseStream,
      { statusCode: 201, headers: { 'x-kind': 'streamed', 'content-type': 'text/plain' }, cookies: ['a=1'] });
  }
  if (body.big) {
    const piece = Buffer.alloc(1024 * 1024, 120);
    for (let i = 0; i < body.big; i++) {
      if (!responseStream.write(piece)) await new Promise((r) => responseStream.once('drain', r));
    }
    responseStream.end();
    return;
  }
  responseStream.write('first;');
  await gate(body.gate);
  responseStream.write('second;');
  if (body.fail) throw new TypeError('broke mid-stream');
  responseStream.end();
});

exports.plain = async (event) => {
  if (event.fail) throw new RangeError('plain failure');
  return { plain: true };
};
"""

# A custom runtime streaming through the Runtime API itself: chunked, with AWS's error
# trailers when asked to fail.
PROVIDED = r'''
import base64, http.client, json, os

api = os.environ["AWS_LAMBDA_RUNTIME_API"]
endpoint = os.environ["AWS_ENDPOINT_URL"].split("//")[1]

def gate(key):
    while True:
        c = http.client.HTTPConnection(endpoint)
        c.request("GET", "/gates/" + key, headers={"Host": "s3.localhost:" + endpoint.split(":")[1]})
        if c.getresponse().status == 200:
            return
        c.close()

while True:
    c = http.client.HTTPConnection(api)
    c.request("GET", "/2018-06-01/runtime/invocation/next")
    r = c.getresponse()
    rid = r.getheader("Lambda-Runtime-Aws-Request-Id")
    event = json.loads(r.read())
    out = http.client.HTTPConnection(api)
    out.putrequest("POST", "/2018-06-01/runtime/invocation/%s/response" % rid)
    out.putheader("Lambda-Runtime-Function-Response-Mode", "streaming")
    out.putheader("Content-Type", "text/plain")
    out.putheader("Transfer-Encoding", "chunked")
    out.putheader("Trailer", "Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body")
    out.endheaders()
    def chunk(data):
        out.send(b"%x\r\n%s\r\n" % (len(data), data))
    chunk(b"one;")
    gate(event["gate"])
    chunk(b"two;")
    if event.get("fail"):
        doc = base64.b64encode(json.dumps({"errorType": "Custom.Broken", "errorMessage": "gone"}).encode())
        out.send(b"0\r\nLambda-Runtime-Function-Error-Type: Custom.Broken\r\n"
                 b"Lambda-Runtime-Function-Error-Body: " + doc + b"\r\n\r\n")
    else:
        out.send(b"0\r\n\r\n")
    out.getresponse().read()
'''


@pytest.fixture
def gates(lamina):
    s3 = lamina.client("s3")
    s3.create_bucket(Bucket="gates")
    # The provided runtime's gate is an anonymous GET: the bucket lets anyone read.
    s3.delete_public_access_block(Bucket="gates")
    s3.put_bucket_policy(Bucket="gates", Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::gates/*"}]}))
    return s3


def events_of(response, gates=None, gate=None, after=b""):
    """The stream's events, opening the gate once the piece `after` has arrived."""
    out = []
    for event in response["EventStream"]:
        out.append(event)
        if gate and "PayloadChunk" in event and event["PayloadChunk"]["Payload"].endswith(after):
            gates.put_object(Bucket="gates", Key=gate, Body=b"open")
    return out


def test_a_node_function_streams_through_invoke_with_response_stream(lam, gates):
    create(lam, "streamer", runtime="nodejs20.x", handler="index.handler", code=zip_bytes({"index.js": NODE}),
           Timeout=30)
    r = lam.invoke_with_response_stream(FunctionName="streamer", Payload=json.dumps({"gate": "g1"}), LogType="Tail")
    assert r["StatusCode"] == 200 and r["ExecutedVersion"] == "$LATEST"
    events = events_of(r, gates, "g1", b"first;")
    assert [e["PayloadChunk"]["Payload"] for e in events[:-1]] == [b"first;", b"second;"]
    complete = events[-1]["InvokeComplete"]
    assert "ErrorCode" not in complete
    log = base64.b64decode(complete["LogResult"]).decode()
    assert "REPORT RequestId: " in log
    # An error after the first piece ends the stream with it.
    r = lam.invoke_with_response_stream(FunctionName="streamer", Payload=json.dumps({"gate": "g2", "fail": True}))
    events = events_of(r, gates, "g2", b"first;")
    assert [e["PayloadChunk"]["Payload"] for e in events[:-1]] == [b"first;", b"second;"]
    complete = events[-1]["InvokeComplete"]
    assert complete["ErrorCode"] == "TypeError"
    assert json.loads(complete["ErrorDetails"])["errorMessage"] == "broke mid-stream"
    # Invoke gathers a streamed answer whole.
    gates.put_object(Bucket="gates", Key="g3", Body=b"open")
    r = lam.invoke(FunctionName="streamer", Payload=json.dumps({"gate": "g3"}))
    assert r["Payload"].read() == b"first;second;" and "FunctionError" not in r


def test_a_function_that_does_not_stream_answers_in_one_piece(lam):
    create(lam, "plain", runtime="nodejs20.x", handler="index.plain", code=zip_bytes({"index.js": NODE}))
    events = list(lam.invoke_with_response_stream(FunctionName="plain", Payload=b"{}")["EventStream"])
    assert events == [{"PayloadChunk": {"Payload": b'{"plain":true}'}}, {"InvokeComplete": {}}]
    events = list(lam.invoke_with_response_stream(FunctionName="plain", Payload=b'{"fail": 1}')["EventStream"])
    assert len(events) == 1 and events[0]["InvokeComplete"]["ErrorCode"] == "Unhandled"
    assert json.loads(events[0]["InvokeComplete"]["ErrorDetails"])["errorType"] == "RangeError"
    # DryRun checks, runs nothing.
    assert lam.invoke_with_response_stream(FunctionName="plain", InvocationType="DryRun")["StatusCode"] == 204


def test_a_response_stream_url_sends_the_prelude_then_the_body_as_it_is_written(lamina, lam, gates):
    create(lam, "url-streamer", runtime="nodejs20.x", handler="index.handler", code=zip_bytes({"index.js": NODE}),
           Timeout=30)
    url = lam.create_function_url_config(FunctionName="url-streamer", AuthType="NONE",
                                         InvokeMode="RESPONSE_STREAM")["FunctionUrl"]
    lam.add_permission(FunctionName="url-streamer", StatementId="public", Action="lambda:InvokeFunctionUrl",
                       Principal="*", FunctionUrlAuthType="NONE")
    conn = http.client.HTTPConnection("127.0.0.1", lamina.port, timeout=60)
    conn.request("POST", "/", body=json.dumps({"prelude": True, "gate": "u1"}),
                 headers={"Host": url.split("//")[1].rstrip("/")})
    r = conn.getresponse()
    assert r.status == 201 and r.getheader("x-kind") == "streamed" and r.getheader("set-cookie") == "a=1"
    assert r.getheader("transfer-encoding") == "chunked"
    assert r.read1(64) == b"first;"
    gates.put_object(Bucket="gates", Key="u1", Body=b"open")
    assert r.read() == b"second;"


def test_a_provided_runtime_streams_through_the_runtime_api(lam, gates):
    bootstrap = "#!/bin/sh\nexec python3 \"$LAMBDA_TASK_ROOT/runtime.py\"\n"
    create(lam, "custom-streamer", runtime="provided.al2023", handler="x",
           code=zip_bytes({"bootstrap": (bootstrap, 0o755), "runtime.py": PROVIDED}), Timeout=30)
    r = lam.invoke_with_response_stream(FunctionName="custom-streamer", Payload=json.dumps({"gate": "p1"}))
    events = events_of(r, gates, "p1", b"one;")
    assert [e["PayloadChunk"]["Payload"] for e in events[:-1]] == [b"one;", b"two;"]
    assert events[-1] == {"InvokeComplete": {}}
    r = lam.invoke_with_response_stream(FunctionName="custom-streamer",
                                        Payload=json.dumps({"gate": "p2", "fail": True}))
    events = events_of(r, gates, "p2", b"one;")
    complete = events[-1]["InvokeComplete"]
    assert complete["ErrorCode"] == "Custom.Broken"
    assert json.loads(complete["ErrorDetails"]) == {"errorType": "Custom.Broken", "errorMessage": "gone"}


def test_a_stream_past_20_mb_is_cut_and_paced_after_6_mb(lam):
    create(lam, "flood", runtime="nodejs20.x", handler="index.handler", code=zip_bytes({"index.js": NODE}),
           Timeout=60, MemorySize=512)
    started = time.monotonic()
    r = lam.invoke_with_response_stream(FunctionName="flood", Payload=json.dumps({"big": 21}))
    received, complete = 0, None
    for event in r["EventStream"]:
        if "PayloadChunk" in event:
            received += len(event["PayloadChunk"]["Payload"])
        else:
            complete = event["InvokeComplete"]
    elapsed = time.monotonic() - started
    assert received <= 20 * 1024 * 1024
    assert complete["ErrorCode"] == "Function.ResponseSizeTooLarge", complete
    # Past the first 6 MB, AWS sends 2 MB a second: the 14 MB after them take 7 s at least.
    assert elapsed >= 7 * 0.95, elapsed
