"""A function URL's backend: echoes its event as JSON, or fails when asked to."""
import json
import os


def handler(event, context):
    if event.get("rawPath") == "/fail":
        raise RuntimeError("asked to fail")
    if event.get("rawPath") == "/plain":
        return "just a string"
    if event.get("rawPath") == "/object":
        return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": {"as": "object"}}
    return {
        "statusCode": 201,
        "headers": {"content-type": "application/json", "x-version": os.environ["AWS_LAMBDA_FUNCTION_VERSION"]},
        "cookies": ["session=abc; Path=/"],
        "body": json.dumps(event),
    }
