"""An API Gateway proxy function: what it answers is chosen by the `mode` query parameter."""
import base64
import json
import time

PNG = bytes([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0xFF])


def handler(event, context):
    query = event.get("queryStringParameters") or {}
    mode = query.get("mode", "echo")
    if mode == "echo":
        return {"statusCode": 200,
                "headers": {"content-type": "application/json", "x-echo": "yes"},
                "multiValueHeaders": {"x-multi": ["one", "two"]},
                "body": json.dumps({"event": event, "request_id": context.aws_request_id})}
    if mode == "malformed":
        return {"statusCode": 200, "body": {"not": "a string"}}
    if mode == "extra-field":
        return {"statusCode": 200, "body": "x", "unexpected": True}
    if mode == "error":
        raise ValueError("the handler failed")
    if mode == "sleep":
        time.sleep(float(query["seconds"]))
        return {"statusCode": 200, "body": "slept"}
    if mode == "binary":
        return {"statusCode": 200, "headers": {"content-type": "image/png"},
                "body": base64.b64encode(PNG).decode(), "isBase64Encoded": True}
    if mode == "plain":
        return {"hello": "world"}
    if mode == "cookies":
        return {"statusCode": 201, "cookies": ["a=1; Path=/", "b=2"], "body": "with cookies"}
    return {"statusCode": 400, "body": "unknown mode " + mode}
