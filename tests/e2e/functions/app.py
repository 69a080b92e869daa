"""A Python function whose behaviour is chosen by the event's "action"."""
import json
import logging
import os
import subprocess
import sys
import time

print("init: module loaded")


def handler(event, context):
    action = event.get("action", "echo")
    if action == "echo":
        print("echo", json.dumps(event))
        return {"event": event, "pid": os.getpid(), "request_id": context.aws_request_id,
                "environment": context.log_stream_name, "uid": os.getuid()}
    if action == "context":
        return {
            "function_name": context.function_name,
            "function_version": context.function_version,
            "invoked_function_arn": context.invoked_function_arn,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "log_group_name": context.log_group_name,
            "log_stream_name": context.log_stream_name,
            "remaining_ms": context.get_remaining_time_in_millis(),
            "env": dict(os.environ),
        }
    if action == "error":
        raise ValueError(event.get("message", "boom"))
    if action == "sleep":
        time.sleep(event["seconds"])
        return {"slept": event["seconds"], "environment": context.log_stream_name}
    if action == "spawn_and_hang":
        # A grandchild that outlives its parent, marked so the test can look for it.
        subprocess.Popen(["sh", "-c", "sleep %s & sleep %s" % (event["marker"], event["marker"])],
                         start_new_session=True)
        time.sleep(1000)
    if action == "exit":
        sys.stdout.flush()
        os._exit(event.get("code", 1))
    if action == "big":
        return "x" * event["size"]
    if action == "log":
        logger = logging.getLogger()
        logger.setLevel(logging.INFO)
        logger.info("logged %s", event["what"])
        return "logged"
    if action == "call_lamina":
        import boto3  # from the SDK layer, as the Lambda runtime provides it

        functions = boto3.client("lambda").list_functions()["Functions"]
        return sorted(f["FunctionName"] for f in functions)
    if action == "credentials":
        time.sleep(event.get("seconds", 0))
        return {"environment": context.log_stream_name,
                "credentials": [os.environ[k] for k in
                                ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")]}
    if action == "stat":
        st = os.stat(event["path"])
        return {"mode": oct(st.st_mode), "uid": st.st_uid, "gid": st.st_gid}
    if action == "unmarshalable":
        return {"a set": {1, 2}}
    if action == "print":
        for i in range(event["lines"]):
            print("line", i)
        return "printed"
    raise RuntimeError("unknown action " + action)
