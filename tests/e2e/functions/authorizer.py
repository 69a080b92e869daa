"""A Lambda authorizer. The token decides: `allow…` is allowed, `deny…` denied,
`unauthorized` refused as unauthenticated, `broken` answers nonsense. Its context counts
the calls this environment has served, so a test can tell a cached answer from a fresh one."""
CALLS = 0


def handler(event, context):
    global CALLS
    CALLS += 1
    if "routeArn" in event:  # an HTTP API's payload 2.0 with simple responses
        token = event["identitySource"][0]
        return {"isAuthorized": token.startswith("allow"), "context": {"calls": CALLS, "token": token}}
    if event["type"] == "TOKEN":
        token = event["authorizationToken"]
    else:
        token = ((event.get("headers") or {}).get("X-Token")
                 or (event.get("queryStringParameters") or {}).get("token") or "")
    if token == "unauthorized":
        raise Exception("Unauthorized")
    if token == "broken":
        return {"nonsense": True}
    effect = "Allow" if token.startswith("allow") else "Deny"
    answer = {
        "principalId": "user-" + token,
        "policyDocument": {"Version": "2012-10-17", "Statement": [
            {"Action": "execute-api:Invoke", "Effect": effect, "Resource": event["methodArn"]}]},
        "context": {"calls": CALLS, "token": token, "flag": True},
    }
    if token.startswith("allow-key-"):
        answer["usageIdentifierKey"] = token[len("allow-key-"):]
    return answer
