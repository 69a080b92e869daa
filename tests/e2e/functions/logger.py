"""Prints the lines it is given; with `wait_queue`, then waits for a message on that SQS
queue before it prints once more and returns (so a test can read the log mid-invocation)."""
import boto3


def handler(event, context):
    for line in event.get("lines", []):
        print(line)
    if event.get("wait_queue"):
        sqs = boto3.client("sqs")
        while not sqs.receive_message(QueueUrl=event["wait_queue"], WaitTimeSeconds=5).get("Messages"):
            pass
        print("released")
    return {"group": context.log_group_name, "stream": context.log_stream_name}
