"""A chat backend for a WebSocket API: `$connect` wants `?token=let-me-in` (or a token an
authorizer admitted, `allow…`); `send`
broadcasts to the connections it names through `@connections`; `whoami` answers on a
two-way route; `$default` echoes. Every event is reported to the test's collector."""
import json
import os
import urllib.request

import boto3


def report(event, context):
    body = json.dumps({"request_id": context.aws_request_id, "event": event}).encode()
    urllib.request.urlopen(urllib.request.Request(os.environ["COLLECTOR"], data=body, method="POST"), timeout=10)


def handler(event, context):
    report(event, context)
    ctx = event["requestContext"]
    route = ctx["routeKey"]
    if route == "$connect":
        token = (event.get("queryStringParameters") or {}).get("token")
        answer = {"statusCode": 200 if token == "let-me-in" or (token or "").startswith("allow") else 403}
        offered = event["headers"].get("Sec-WebSocket-Protocol")
        if offered:
            # The subprotocol this backend speaks, of those the client offered.
            answer["headers"] = {"Sec-WebSocket-Protocol": offered.split(",")[-1].strip(), "X-Chat": "v2"}
        return answer
    if route == "$disconnect":
        return {"statusCode": 200}
    # The management API, at the endpoint AWS's own examples build from the event.
    api = boto3.client("apigatewaymanagementapi", endpoint_url=f"https://{ctx['domainName']}/{ctx['stage']}")
    message = json.loads(event.get("body") or "{}")
    if route == "send":
        for connection in message["to"]:
            api.post_to_connection(ConnectionId=connection, Data=json.dumps({"from": ctx["connectionId"],
                                                                              "text": message["text"]}))
        return {"statusCode": 200}
    if route == "whoami":
        return {"statusCode": 200, "body": json.dumps({"you": ctx["connectionId"]})}
    if route == "gone":
        try:
            api.post_to_connection(ConnectionId=message["id"], Data=b"hello?")
        except api.exceptions.GoneException:
            api.post_to_connection(ConnectionId=ctx["connectionId"], Data=b"that one is gone")
        return {"statusCode": 200}
    api.post_to_connection(ConnectionId=ctx["connectionId"], Data=json.dumps({"echo": message}))
    return {"statusCode": 200}
