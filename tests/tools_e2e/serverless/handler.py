import json
import os


def hello(event, context):
    body = {"message": "hello from serverless", "path": event.get("rawPath") or event.get("path"),
            "queue": os.environ["QUEUE_URL"]}
    return {"statusCode": 200, "body": json.dumps(body)}


def work(event, context):
    print(json.dumps({"jobs": [r["body"] for r in event["Records"]]}))
    return {}
