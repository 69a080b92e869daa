"""CloudFormation, as a user drives it with boto3 and the aws CLI: stacks created, updated
and deleted with their resources made through the services themselves, waiters, events,
outputs, exports, parameters, rollbacks, and stacks that survive a restart."""

import json
import threading
import time
import urllib.request

import pytest
from botocore.exceptions import ClientError

APP = """
AWSTemplateFormatVersion: '2010-09-09'
Description: An app of a queue, a topic, a role and a function.
Parameters:
  Greeting:
    Type: String
    Default: hello
    AllowedValues: [hello, hi]
  Secret:
    Type: String
    NoEcho: true
    Default: s3cr3t
Conditions:
  Friendly: !Equals [!Ref Greeting, hi]
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 45
      Tags:
        - Key: app
          Value: !Ref AWS::StackName
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      DisplayName: !Sub '${AWS::StackName} news'
  Subscription:
    Type: AWS::SNS::Subscription
    Properties:
      TopicArn: !Ref Topic
      Protocol: sqs
      Endpoint: !GetAtt Queue.Arn
      RawMessageDelivery: true
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Principal: {Service: lambda.amazonaws.com}
            Action: sts:AssumeRole
  Function:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: !GetAtt Role.Arn
      Environment:
        Variables:
          GREETING: !If [Friendly, !Sub '${Greeting}!', !Ref Greeting]
          QUEUE: !Ref Queue
      Code:
        ZipFile: |
          import os
          def handler(event, context):
              return {"greeting": os.environ["GREETING"], "queue": os.environ["QUEUE"]}
  Logs:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: !Sub '/aws/lambda/${Function}'
      RetentionInDays: 7
  Setting:
    Type: AWS::SSM::Parameter
    Properties:
      Name: !Sub '/${AWS::StackName}/queue-arn'
      Type: String
      Value: !GetAtt Queue.Arn
Outputs:
  QueueUrl:
    Value: !Ref Queue
    Export:
      Name: !Sub '${AWS::StackName}-queue'
  FunctionArn:
    Description: The function
    Value: !GetAtt Function.Arn
"""


def deploy(cfn, name, body, **kw):
    cfn.create_stack(StackName=name, TemplateBody=body, Capabilities=["CAPABILITY_IAM"], **kw)
    cfn.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 600})
    return cfn.describe_stacks(StackName=name)["Stacks"][0]


def api_get(lamina, api, path):
    """A GET of a deployed API on Lamina, addressed by its execute-api host."""
    req = urllib.request.Request(f"{lamina.url}{path}", headers={"Host": f"{api}.execute-api.localhost:{lamina.port}"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, json.loads(r.read())


def statuses(cfn, name):
    events = cfn.describe_stack_events(StackName=name)["StackEvents"]
    return [(e["LogicalResourceId"], e["ResourceStatus"]) for e in reversed(events)]


def test_a_stack_makes_its_resources_through_the_services(lamina):
    cfn = lamina.client("cloudformation")
    stack = deploy(cfn, "app", APP, Parameters=[{"ParameterKey": "Greeting", "ParameterValue": "hi"}],
                   Tags=[{"Key": "team", "Value": "core"}, {"Key": "app", "Value": "overridden"}])
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert stack["Description"] == "An app of a queue, a topic, a role and a function."
    assert {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]} == {"Greeting": "hi", "Secret": "****"}
    outputs = {o["OutputKey"]: o for o in stack["Outputs"]}
    queue_url = outputs["QueueUrl"]["OutputValue"]
    assert queue_url.endswith("/000000000000/" + queue_url.rsplit("/", 1)[1])
    assert queue_url.rsplit("/", 1)[1].startswith("app-Queue-")
    assert outputs["QueueUrl"]["ExportName"] == "app-queue"

    # Each resource is the service's own.
    sqs = lamina.client("sqs")
    attrs = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    assert attrs["VisibilityTimeout"] == "45"
    # The stack's tags and CloudFormation's own reach a function, not a queue (as on AWS).
    assert sqs.list_queue_tags(QueueUrl=queue_url)["Tags"] == {"app": "app"}
    system = {"aws:cloudformation:stack-name": "app", "aws:cloudformation:stack-id": stack["StackId"]}
    lam = lamina.client("lambda")
    fn = outputs["FunctionArn"]["OutputValue"].rsplit(":", 1)[1]
    assert lam.get_function(FunctionName=fn)["Tags"] == {
        "app": "overridden", "team": "core", "aws:cloudformation:logical-id": "Function", **system}
    assert fn.startswith("app-Function-")
    answer = json.loads(lam.invoke(FunctionName=fn)["Payload"].read())
    assert answer == {"greeting": "hi!", "queue": queue_url}
    ssm = lamina.client("ssm")
    assert ssm.get_parameter(Name="/app/queue-arn")["Parameter"]["Value"] == attrs["QueueArn"]
    logs = lamina.client("logs")
    group = logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{fn}")["logGroups"][0]
    assert group["retentionInDays"] == 7
    # The subscription delivers the topic's messages to the queue.
    sns = lamina.client("sns")
    topic = cfn.describe_stack_resource(StackName="app", LogicalResourceId="Topic")["StackResourceDetail"]
    assert topic["ResourceStatus"] == "CREATE_COMPLETE"
    sns.publish(TopicArn=topic["PhysicalResourceId"], Message="news")
    got = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=5)["Messages"]
    assert got[0]["Body"] == "news"

    # Events: the stack's, then each resource's, in AWS's order.
    events = statuses(cfn, "app")
    assert events[0] == ("app", "CREATE_IN_PROGRESS") and events[-1] == ("app", "CREATE_COMPLETE")
    fn_events = [s for (r, s) in events if r == "Function"]
    assert fn_events == ["CREATE_IN_PROGRESS", "CREATE_IN_PROGRESS", "CREATE_COMPLETE"]
    assert events.index(("Role", "CREATE_COMPLETE")) < events.index(("Function", "CREATE_IN_PROGRESS"))
    resources = cfn.list_stack_resources(StackName="app")["StackResourceSummaries"]
    assert sorted(r["LogicalResourceId"] for r in resources) == [
        "Function", "Logs", "Queue", "Role", "Setting", "Subscription", "Topic"]
    assert {r["ResourceStatus"] for r in resources} == {"CREATE_COMPLETE"}
    exports = cfn.list_exports()["Exports"]
    assert [(e["Name"], e["Value"]) for e in exports] == [("app-queue", queue_url)]
    original = cfn.get_template(StackName="app")["TemplateBody"]
    assert original == APP

    # Delete: every resource goes.
    cfn.delete_stack(StackName="app")
    cfn.get_waiter("stack_delete_complete").wait(StackName="app", WaiterConfig={"Delay": 0.1, "MaxAttempts": 600})
    with pytest.raises(ClientError) as e:
        sqs.get_queue_attributes(QueueUrl=queue_url)
    assert "NonExistentQueue" in str(e.value)
    with pytest.raises(ClientError):
        lam.get_function(FunctionName=fn)
    assert ssm.get_parameters(Names=["/app/queue-arn"])["InvalidParameters"] == ["/app/queue-arn"]
    deleted = cfn.list_stacks(StackStatusFilter=["DELETE_COMPLETE"])["StackSummaries"]
    assert [s["StackName"] for s in deleted] == ["app"]
    with pytest.raises(ClientError) as e:
        cfn.describe_stacks(StackName="app")
    assert e.value.response["Error"] == {"Type": "Sender", "Code": "ValidationError", "Message": "Stack with id app does not exist"}


def test_template_errors_are_cloudformations(lamina):
    cfn = lamina.client("cloudformation")

    def refused(**kw):
        with pytest.raises(ClientError) as e:
            cfn.create_stack(StackName="bad", **kw)
        return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]

    body = {"Resources": {"A": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": {"Ref": "InvalidRef"}}}}}
    assert refused(TemplateBody=json.dumps(body)) == (
        "ValidationError",
        "Template format error: Unresolved resource dependencies [InvalidRef] in the Resources block of the template")
    circle = {"Resources": {"A": {"Type": "AWS::SNS::Topic", "DependsOn": "B"},
                            "B": {"Type": "AWS::SNS::Topic", "DependsOn": "A"}}}
    assert refused(TemplateBody=json.dumps(circle)) == (
        "ValidationError", "Template format error: Circular dependency between resources: [A, B]")
    assert refused(TemplateBody='{"this is invalid JSON"="bobbins"}') == (
        "ValidationError", "Template format error: JSON not well-formed. (line 1, column 25)")
    role = {"Resources": {"R": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {}}}}}
    assert refused(TemplateBody=json.dumps(role)) == (
        "InsufficientCapabilitiesException", "Requires capabilities : [CAPABILITY_IAM]")
    att = {"Resources": {"T": {"Type": "AWS::SNS::Topic"}}, "Outputs": {"O": {"Value": {"Fn::GetAtt": ["T", "Nope"]}}}}
    assert refused(TemplateBody=json.dumps(att)) == (
        "ValidationError", "Template error: resource T does not support attribute type Nope in Fn::GetAtt")
    params = {"Parameters": {"P": {"Type": "String"}}, "Resources": {"T": {"Type": "AWS::SNS::Topic"}}}
    assert refused(TemplateBody=json.dumps(params)) == ("ValidationError", "Parameters: [P] must have values")
    checked = cfn.validate_template(TemplateBody=json.dumps(role))
    assert checked["Capabilities"] == ["CAPABILITY_IAM"]
    assert checked["CapabilitiesReason"] == "The following resource(s) require capabilities: [AWS::IAM::Role]"
    assert cfn.describe_stacks()["Stacks"] == []


def test_a_failed_create_rolls_back_what_it_made(lamina):
    cfn = lamina.client("cloudformation")
    body = {
        "Resources": {
            "Queue": {"Type": "AWS::SQS::Queue"},
            "Broken": {"Type": "AWS::SQS::Queue", "DependsOn": "Queue",
                       "Properties": {"VisibilityTimeout": 999999}},
        }
    }
    cfn.create_stack(StackName="broken", TemplateBody=json.dumps(body))
    with pytest.raises(Exception):
        cfn.get_waiter("stack_create_complete").wait(StackName="broken", WaiterConfig={"Delay": 0.1, "MaxAttempts": 600})
    stack = cfn.describe_stacks(StackName="broken")["Stacks"][0]
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    events = statuses(cfn, "broken")
    assert ("Broken", "CREATE_FAILED") in events
    assert events[-3:] == [("Queue", "DELETE_IN_PROGRESS"), ("Queue", "DELETE_COMPLETE"), ("broken", "ROLLBACK_COMPLETE")]
    reason = [e for e in cfn.describe_stack_events(StackName="broken")["StackEvents"]
              if e["LogicalResourceId"] == "Broken" and e["ResourceStatus"] == "CREATE_FAILED"][0]["ResourceStatusReason"]
    assert reason.startswith("Resource handler returned message: \"") and "VisibilityTimeout" in reason, reason
    assert lamina.client("sqs").list_queues().get("QueueUrls", []) == []
    # A stack that rolled back cannot be updated, only deleted.
    with pytest.raises(ClientError) as e:
        cfn.update_stack(StackName="broken", TemplateBody=json.dumps(body))
    assert "is in ROLLBACK_COMPLETE state and can not be updated." in str(e.value)


def test_an_update_changes_in_place_replaces_and_removes(lamina):
    cfn = lamina.client("cloudformation")
    v1 = {
        "Parameters": {"Timeout": {"Type": "Number", "Default": 30}},
        "Resources": {
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": {"Ref": "Timeout"}}},
            "Topic": {"Type": "AWS::SNS::Topic"},
            "Gone": {"Type": "AWS::SNS::Topic"},
        },
    }
    deploy(cfn, "upd", json.dumps(v1))
    before = {r["LogicalResourceId"]: r["PhysicalResourceId"]
              for r in cfn.list_stack_resources(StackName="upd")["StackResourceSummaries"]}
    v2 = {
        "Parameters": v1["Parameters"],
        "Resources": {
            "Queue": v1["Resources"]["Queue"],
            "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"FifoTopic": True}},
        },
    }
    cfn.update_stack(StackName="upd", TemplateBody=json.dumps(v2), Parameters=[{"ParameterKey": "Timeout", "ParameterValue": "60"}])
    cfn.get_waiter("stack_update_complete").wait(StackName="upd", WaiterConfig={"Delay": 0.1, "MaxAttempts": 600})
    after = {r["LogicalResourceId"]: r["PhysicalResourceId"]
             for r in cfn.list_stack_resources(StackName="upd")["StackResourceSummaries"]}
    assert set(after) == {"Queue", "Topic"}
    assert after["Queue"] == before["Queue"]
    assert after["Topic"] != before["Topic"] and after["Topic"].endswith(".fifo")
    sqs = lamina.client("sqs")
    assert sqs.get_queue_attributes(QueueUrl=after["Queue"], AttributeNames=["VisibilityTimeout"])["Attributes"] == {
        "VisibilityTimeout": "60"}
    topics = [t["TopicArn"] for t in lamina.client("sns").list_topics()["Topics"]]
    assert topics == [after["Topic"]]
    with pytest.raises(ClientError) as e:
        cfn.update_stack(StackName="upd", TemplateBody=json.dumps(v2), Parameters=[{"ParameterKey": "Timeout", "UsePreviousValue": True}])
    assert e.value.response["Error"]["Message"] == "No updates are to be performed."


def test_stacks_survive_a_restart(lamina):
    cfn = lamina.client("cloudformation")
    deploy(cfn, "kept", json.dumps({"Resources": {"Q": {"Type": "AWS::SQS::Queue"}},
                                    "Outputs": {"U": {"Value": {"Ref": "Q"}}}}))
    lamina.restart(hard=True)
    cfn = lamina.client("cloudformation")
    stack = cfn.describe_stacks(StackName="kept")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert [s for (_, s) in statuses(cfn, "kept")][-1] == "CREATE_COMPLETE"
    cfn.delete_stack(StackName="kept")
    cfn.get_waiter("stack_delete_complete").wait(StackName="kept", WaiterConfig={"Delay": 0.1, "MaxAttempts": 600})
    assert lamina.client("sqs").list_queues().get("QueueUrls", []) == []


def test_change_sets_show_what_they_change_and_then_do_it(lamina):
    cfn = lamina.client("cloudformation")
    v1 = {"Resources": {"Queue": {"Type": "AWS::SQS::Queue", "Properties": {"DelaySeconds": 1}},
                        "Topic": {"Type": "AWS::SNS::Topic"}}}
    made = cfn.create_change_set(StackName="cs", ChangeSetName="first", ChangeSetType="CREATE",
                                 TemplateBody=json.dumps(v1))
    assert made["Id"].startswith("arn:aws:cloudformation:us-east-1:000000000000:changeSet/first/")
    assert cfn.describe_stacks(StackName="cs")["Stacks"][0]["StackStatus"] == "REVIEW_IN_PROGRESS"
    cfn.get_waiter("change_set_create_complete").wait(ChangeSetName=made["Id"], WaiterConfig={"Delay": 0.1})
    described = cfn.describe_change_set(ChangeSetName="first", StackName="cs")
    assert (described["Status"], described["ExecutionStatus"]) == ("CREATE_COMPLETE", "AVAILABLE")
    assert [(c["ResourceChange"]["Action"], c["ResourceChange"]["LogicalResourceId"]) for c in described["Changes"]] == [
        ("Add", "Queue"), ("Add", "Topic")]
    assert cfn.get_template(ChangeSetName=made["Id"])["TemplateBody"] == v1
    cfn.execute_change_set(ChangeSetName="first", StackName="cs")
    cfn.get_waiter("stack_create_complete").wait(StackName="cs", WaiterConfig={"Delay": 0.1, "MaxAttempts": 600})
    assert cfn.describe_change_set(ChangeSetName=made["Id"])["ExecutionStatus"] == "EXECUTE_COMPLETE"
    queue = cfn.describe_stack_resource(StackName="cs", LogicalResourceId="Queue")["StackResourceDetail"]["PhysicalResourceId"]

    v2 = {"Resources": {"Queue": {"Type": "AWS::SQS::Queue", "Properties": {"DelaySeconds": 2}},
                        "Other": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": {"Fn::GetAtt": ["Queue", "QueueName"]}}}}}
    update = cfn.create_change_set(StackName="cs", ChangeSetName="second", TemplateBody=json.dumps(v2))
    cfn.get_waiter("change_set_create_complete").wait(ChangeSetName=update["Id"], WaiterConfig={"Delay": 0.1})
    changes = {c["ResourceChange"]["LogicalResourceId"]: c["ResourceChange"]
               for c in cfn.describe_change_set(ChangeSetName=update["Id"])["Changes"]}
    assert changes["Queue"]["Action"] == "Modify" and changes["Queue"]["Replacement"] == "False"
    assert changes["Queue"]["PhysicalResourceId"] == queue
    assert [d["Target"]["Name"] for d in changes["Queue"]["Details"]] == ["DelaySeconds"]
    assert changes["Other"]["Action"] == "Add"
    assert changes["Topic"]["Action"] == "Remove" and changes["Topic"]["PolicyAction"] == "Delete"
    assert [s["ChangeSetName"] for s in cfn.list_change_sets(StackName="cs")["Summaries"]] == ["first", "second"]
    # Nothing changes until it is executed.
    attrs = lamina.client("sqs").get_queue_attributes(QueueUrl=queue, AttributeNames=["DelaySeconds"])["Attributes"]
    assert attrs == {"DelaySeconds": "1"}
    cfn.execute_change_set(ChangeSetName=update["Id"])
    cfn.get_waiter("stack_update_complete").wait(StackName="cs", WaiterConfig={"Delay": 0.1, "MaxAttempts": 600})
    attrs = lamina.client("sqs").get_queue_attributes(QueueUrl=queue, AttributeNames=["DelaySeconds"])["Attributes"]
    assert attrs == {"DelaySeconds": "2"}
    topics = lamina.client("sns").list_topics()["Topics"]
    assert len(topics) == 1 and "cs-Other-" in topics[0]["TopicArn"]

    # The same template again is no change.
    same = cfn.create_change_set(StackName="cs", ChangeSetName="same", TemplateBody=json.dumps(v2))
    with pytest.raises(Exception):
        cfn.get_waiter("change_set_create_complete").wait(ChangeSetName=same["Id"], WaiterConfig={"Delay": 0.1})
    failed = cfn.describe_change_set(ChangeSetName=same["Id"])
    assert (failed["Status"], failed["ExecutionStatus"]) == ("FAILED", "UNAVAILABLE")
    assert failed["StatusReason"] == (
        "The submitted information didn't contain changes. Submit different information to create a change set.")
    cfn.delete_change_set(ChangeSetName=same["Id"])
    with pytest.raises(ClientError) as e:
        cfn.describe_change_set(ChangeSetName=same["Id"])
    assert e.value.response["Error"]["Code"] == "ChangeSetNotFound"
    with pytest.raises(ClientError) as e:
        cfn.create_change_set(StackName="cs", ChangeSetName="again", ChangeSetType="CREATE", TemplateBody=json.dumps(v2))
    assert e.value.response["Error"]["Message"] == (
        "Stack [cs] already exists and cannot be created again with the changeSet [again].")


API = """
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}]}
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: !GetAtt Role.Arn
      Code:
        ZipFile: |
          import json
          def handler(event, context):
              path = event.get("rawPath") or event.get("path")
              return {"statusCode": 200, "body": json.dumps({"path": path, "version": event.get("version", "1.0")})}
  Rest:
    Type: AWS::ApiGateway::RestApi
    Properties:
      Name: rest
      Body:
        swagger: '2.0'
        info: {title: ignored, version: '1'}
        paths:
          /hello:
            get:
              x-amazon-apigateway-integration:
                type: aws_proxy
                httpMethod: POST
                uri: !Sub 'arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Fn.Arn}/invocations'
  Deployment:
    Type: AWS::ApiGateway::Deployment
    Properties:
      RestApiId: !Ref Rest
  Stage:
    Type: AWS::ApiGateway::Stage
    Properties:
      RestApiId: !Ref Rest
      DeploymentId: !Ref Deployment
      StageName: prod
  RestPermission:
    Type: AWS::Lambda::Permission
    Properties:
      FunctionName: !Ref Fn
      Action: lambda:InvokeFunction
      Principal: apigateway.amazonaws.com
      SourceArn: !Sub 'arn:aws:execute-api:${AWS::Region}:${AWS::AccountId}:${Rest}/*/GET/hello'
  Http:
    Type: AWS::ApiGatewayV2::Api
    Properties:
      Body:
        openapi: '3.0.1'
        info: {title: http, version: '1'}
        paths:
          /hi:
            get:
              x-amazon-apigateway-integration:
                type: aws_proxy
                httpMethod: POST
                uri: !GetAtt Fn.Arn
                payloadFormatVersion: '2.0'
  HttpStage:
    Type: AWS::ApiGatewayV2::Stage
    Properties:
      ApiId: !Ref Http
      StageName: $default
      AutoDeploy: true
  HttpPermission:
    Type: AWS::Lambda::Permission
    Properties:
      FunctionName: !Ref Fn
      Action: lambda:InvokeFunction
      Principal: apigateway.amazonaws.com
Outputs:
  RestId: {Value: !Ref Rest}
  HttpId: {Value: !Ref Http}
  Root: {Value: !GetAtt Rest.RootResourceId}
"""


def test_apis_deployed_by_a_stack_answer_through_lamina(lamina):
    cfn = lamina.client("cloudformation")
    stack = deploy(cfn, "apis", API)
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}

    assert api_get(lamina, outputs["RestId"], "/prod/hello") == (200, {"path": "/hello", "version": "1.0"})
    assert api_get(lamina, outputs["HttpId"], "/hi") == (200, {"path": "/hi", "version": "2.0"})
    apigw = lamina.client("apigateway")
    resources = apigw.get_resources(restApiId=outputs["RestId"])["items"]
    assert {r["path"]: r["id"] for r in resources}["/"] == outputs["Root"]
    assert apigw.get_rest_api(restApiId=outputs["RestId"])["name"] == "rest"
    routes = lamina.client("apigatewayv2").get_routes(ApiId=outputs["HttpId"])["Items"]
    assert [r["RouteKey"] for r in routes] == ["GET /hi"]
    cfn.delete_stack(StackName="apis")
    cfn.get_waiter("stack_delete_complete").wait(StackName="apis", WaiterConfig={"Delay": 0.1, "MaxAttempts": 600})
    assert apigw.get_rest_apis()["items"] == []
    assert lamina.client("apigatewayv2").get_apis()["Items"] == []


SAM_APP = """
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.12
    Timeout: 10
    Environment:
      Variables:
        STAGE: test
Resources:
  Jobs:
    Type: AWS::SQS::Queue
  Hello:
    Type: AWS::Serverless::Function
    Properties:
      Handler: index.handler
      AutoPublishAlias: live
      InlineCode: |
        import json, os
        def handler(event, context):
            path = event.get("rawPath") or event.get("path")
            return {"statusCode": 200, "body": json.dumps({"path": path, "stage": os.environ["STAGE"]})}
      Policies:
        - SQSPollerPolicy:
            QueueName: !GetAtt Jobs.QueueName
      Events:
        Rest:
          Type: Api
          Properties: {Path: /hello, Method: get}
        Http:
          Type: HttpApi
          Properties: {Path: /hi, Method: get}
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      Handler: index.handler
      InlineCode: |
        def handler(event, context):
            return len(event["Records"])
      Events:
        Queue:
          Type: SQS
          Properties: {Queue: !GetAtt Jobs.Arn, BatchSize: 5}
Outputs:
  RestApi: {Value: !Ref ServerlessRestApi}
  HttpApi: {Value: !Ref ServerlessHttpApi}
  HelloAlias: {Value: !Ref Hello.Alias}
"""


def test_a_sam_template_deploys_with_change_sets_and_answers(lamina):
    cfn = lamina.client("cloudformation")
    made = cfn.create_change_set(StackName="sam-app", ChangeSetName="deploy1", ChangeSetType="CREATE",
                                 TemplateBody=SAM_APP, Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"])
    cfn.get_waiter("change_set_create_complete").wait(ChangeSetName=made["Id"], WaiterConfig={"Delay": 0.1})
    added = sorted((c["ResourceChange"]["LogicalResourceId"], c["ResourceChange"]["ResourceType"])
                   for c in cfn.describe_change_set(ChangeSetName=made["Id"])["Changes"])
    names = [n for n, _ in added]
    assert ("Hello", "AWS::Lambda::Function") in added and ("HelloRole", "AWS::IAM::Role") in added
    assert ("HelloAliaslive", "AWS::Lambda::Alias") in added
    assert [n for n in names if n.startswith("HelloVersion")] and [n for n in names if n.startswith("ServerlessRestApiDeployment")]
    for expected in ["HelloRestPermissionProd", "HelloHttpPermission", "ServerlessRestApi", "ServerlessRestApiProdStage",
                     "ServerlessHttpApi", "ServerlessHttpApiApiGatewayDefaultStage", "WorkerQueue", "WorkerRole", "Jobs"]:
        assert expected in names, expected
    cfn.execute_change_set(ChangeSetName=made["Id"])
    cfn.get_waiter("stack_create_complete").wait(StackName="sam-app", WaiterConfig={"Delay": 0.1, "MaxAttempts": 600})
    stack = cfn.describe_stacks(StackName="sam-app")["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    assert outputs["HelloAlias"].endswith(":live")

    assert api_get(lamina, outputs["RestApi"], "/Prod/hello") == (200, {"path": "/hello", "stage": "test"})
    assert api_get(lamina, outputs["HttpApi"], "/hi") == (200, {"path": "/hi", "stage": "test"})
    processed = cfn.get_template(StackName="sam-app", TemplateStage="Processed")["TemplateBody"]
    assert "Transform" not in processed and processed["Resources"]["Hello"]["Type"] == "AWS::Lambda::Function"
    assert cfn.get_template(StackName="sam-app")["TemplateBody"] == SAM_APP
    role = processed["Resources"]["HelloRole"]["Properties"]
    assert role["ManagedPolicyArns"] == ["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]
    assert role["Policies"][0]["PolicyName"] == "HelloRolePolicy0"
    worker_role = processed["Resources"]["WorkerRole"]["Properties"]["ManagedPolicyArns"]
    assert "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole" in worker_role
    mappings = lamina.client("lambda").list_event_source_mappings()["EventSourceMappings"]
    assert [m["BatchSize"] for m in mappings] == [5]
    cfn.delete_stack(StackName="sam-app")
    cfn.get_waiter("stack_delete_complete").wait(StackName="sam-app", WaiterConfig={"Delay": 0.1, "MaxAttempts": 600})
    assert lamina.client("lambda").list_functions()["Functions"] == []


def test_a_deployment_killed_midway_rolls_back_after_the_restart_leaving_nothing(lamina):
    cfn = lamina.client("cloudformation")
    # A chain of functions, each made after the one before: the deployment takes a while.
    resources = {"Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}}}}
    for i in range(30):
        resources[f"F{i}"] = {
            "Type": "AWS::Lambda::Function",
            "DependsOn": f"F{i - 1}" if i else "Role",
            "Properties": {"Runtime": "python3.12", "Handler": "index.handler", "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                           "Code": {"ZipFile": "def handler(e, c):\n    return 1\n"}},
        }
    # CreateStack answers once the stack settles, or after a few seconds: it is sent from a
    # thread, and the server killed once some functions exist and others do not yet.
    def create():
        try:
            cfn.create_stack(StackName="chain", TemplateBody=json.dumps({"Resources": resources}),
                             Capabilities=["CAPABILITY_IAM"])
        except Exception:  # the server is killed under it
            pass

    sender = threading.Thread(target=create)
    sender.start()
    lam = lamina.client("lambda")
    deadline = time.monotonic() + 60
    while len(lam.list_functions()["Functions"]) < 3:
        assert time.monotonic() < deadline, "the deployment made no functions"
        time.sleep(0.01)
    lamina.kill9()
    sender.join()
    lamina.start()
    cfn = lamina.client("cloudformation")
    deadline = time.monotonic() + 60
    while (stack := cfn.describe_stacks(StackName="chain")["Stacks"][0])["StackStatus"].endswith("IN_PROGRESS"):
        assert time.monotonic() < deadline, stack["StackStatus"]
        time.sleep(0.05)
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    events = cfn.describe_stack_events(StackName="chain")["StackEvents"]
    rollback = [e for e in events if e["LogicalResourceId"] == "chain" and e["ResourceStatus"] == "ROLLBACK_IN_PROGRESS"]
    assert rollback[0]["ResourceStatusReason"].startswith("Lamina restarted during the deployment.")
    # Nothing the interrupted deployment made is left behind.
    assert lamina.client("lambda").list_functions()["Functions"] == []
    assert lamina.client("iam").list_roles()["Roles"] == []
    statuses_seen = {s for (_, s) in statuses(cfn, "chain")}
    assert {"CREATE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS", "ROLLBACK_COMPLETE"} <= statuses_seen


def test_dynamic_references_reach_the_service_and_never_the_stack_record(lamina):
    ssm = lamina.client("ssm")
    ssm.put_parameter(Name="/app/greeting", Value="hello from ssm", Type="String")
    cfn = lamina.client("cloudformation")
    body = {"Resources": {"Copy": {"Type": "AWS::SSM::Parameter", "Properties": {
        "Name": "/app/copy", "Type": "String", "Value": "{{resolve:ssm:/app/greeting}}"}}}}
    deploy(cfn, "dynamic", json.dumps(body))
    assert ssm.get_parameter(Name="/app/copy")["Parameter"]["Value"] == "hello from ssm"
    shown = [e.get("ResourceProperties", "") for e in cfn.describe_stack_events(StackName="dynamic")["StackEvents"]]
    assert any("{{resolve:ssm:/app/greeting}}" in p for p in shown)
    assert not any("hello from ssm" in p for p in shown)
    missing = {"Resources": {"Copy": {"Type": "AWS::SSM::Parameter", "Properties": {
        "Type": "String", "Value": "{{resolve:ssm:/app/nothing}}"}}}}
    cfn.create_stack(StackName="missing", TemplateBody=json.dumps(missing))
    stack = cfn.describe_stacks(StackName="missing")["Stacks"][0]
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    failed = [e for e in cfn.describe_stack_events(StackName="missing")["StackEvents"] if e["ResourceStatus"] == "CREATE_FAILED"]
    assert "{{resolve:ssm:/app/nothing}}" in failed[0]["ResourceStatusReason"]


def typed_stack(version):
    """A resource of each type changed in place from version 1 to 2, and one of each
    replaced (a name changed)."""
    v = str(version)
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    allow = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sqs:SendMessage" if version == 1 else "sqs:*", "Resource": "*"}]}
    lifecycle = {"rules": [{"rulePriority": 1, "selection": {
        "tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 5 * version}, "action": {"type": "expire"}}]}
    return json.dumps({"Resources": {
        "Role": {"Type": "AWS::IAM::Role", "Properties": {
            "RoleName": "typed-role", "AssumeRolePolicyDocument": trust,
            "Policies": [{"PolicyName": "inline", "PolicyDocument": allow}]}},
        "RoleR": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": f"typed-role-{v}", "AssumeRolePolicyDocument": trust}},
        "Managed": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"PolicyDocument": allow}},
        "Param": {"Type": "AWS::SSM::Parameter", "Properties": {"Name": "/typed/p", "Type": "String", "Value": f"value-{v}"}},
        "ParamR": {"Type": "AWS::SSM::Parameter", "Properties": {"Name": f"/typed/r{v}", "Type": "String", "Value": "r"}},
        "Group": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "/typed/g", "RetentionInDays": 7 * version}},
        "GroupR": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": f"/typed/g{v}"}},
        "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {
            "BucketName": "typed-bucket", "Tags": [{"Key": "v", "Value": v}],
            "VersioningConfiguration": {"Status": "Enabled" if version == 1 else "Suspended"}}},
        "BucketR": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": f"typed-bucket-{v}"}},
        "Repo": {"Type": "AWS::ECR::Repository", "Properties": {
            "RepositoryName": "typed/repo", "ImageTagMutability": "MUTABLE" if version == 1 else "IMMUTABLE",
            "LifecyclePolicy": {"LifecyclePolicyText": json.dumps(lifecycle)}}},
        "RepoR": {"Type": "AWS::ECR::Repository", "Properties": {"RepositoryName": f"typed/repo-{v}"}},
        "Api": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {"Name": "typed", "ProtocolType": "HTTP"}},
        "Integration": {"Type": "AWS::ApiGatewayV2::Integration", "Properties": {
            "ApiId": {"Ref": "Api"}, "IntegrationType": "HTTP_PROXY", "IntegrationMethod": "GET",
            "IntegrationUri": f"https://example.com/{v}", "PayloadFormatVersion": "1.0"}},
        "Route": {"Type": "AWS::ApiGatewayV2::Route", "Properties": {
            "ApiId": {"Ref": "Api"}, "RouteKey": f"GET /v{v}",
            "Target": {"Fn::Sub": "integrations/${Integration}"}}},
    }})


def test_each_type_updates_in_place_replaces_and_deletes(lamina):
    cfn = lamina.client("cloudformation")
    cfn.create_stack(StackName="typed", TemplateBody=typed_stack(1), Capabilities=["CAPABILITY_NAMED_IAM"])
    waiting = {"Delay": 0.1, "MaxAttempts": 600}
    cfn.get_waiter("stack_create_complete").wait(StackName="typed", WaiterConfig=waiting)

    def physical():
        listed = cfn.list_stack_resources(StackName="typed")["StackResourceSummaries"]
        return {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in listed}

    before = physical()
    iam, ssm, logs, s3, ecr, v2 = (lamina.client(s) for s in ("iam", "ssm", "logs", "s3", "ecr", "apigatewayv2"))
    assert ecr.get_lifecycle_policy(repositoryName="typed/repo")["lifecyclePolicyText"]
    cfn.update_stack(StackName="typed", TemplateBody=typed_stack(2), Capabilities=["CAPABILITY_NAMED_IAM"])
    cfn.get_waiter("stack_update_complete").wait(StackName="typed", WaiterConfig=waiting)
    after = physical()
    in_place = ["Role", "Managed", "Param", "Group", "Bucket", "Repo", "Api", "Integration", "Route"]
    assert {k: after[k] for k in in_place} == {k: before[k] for k in in_place}
    replaced = {"RoleR": "typed-role-2", "ParamR": "/typed/r2", "GroupR": "/typed/g2", "BucketR": "typed-bucket-2",
                "RepoR": "typed/repo-2"}
    assert {k: after[k] for k in replaced} == replaced
    # The in-place changes reached each service.
    inline = iam.get_role_policy(RoleName="typed-role", PolicyName="inline")["PolicyDocument"]
    assert inline["Statement"][0]["Action"] == "sqs:*"
    managed = iam.get_policy(PolicyArn=after["Managed"])["Policy"]
    assert managed["DefaultVersionId"] == "v2"
    assert ssm.get_parameter(Name="/typed/p")["Parameter"]["Value"] == "value-2"
    group = logs.describe_log_groups(logGroupNamePrefix="/typed/g")["logGroups"]
    assert {g["logGroupName"]: g.get("retentionInDays") for g in group} == {"/typed/g": 14, "/typed/g2": None}
    assert s3.get_bucket_versioning(Bucket="typed-bucket")["Status"] == "Suspended"
    assert s3.get_bucket_tagging(Bucket="typed-bucket")["TagSet"] == [{"Key": "v", "Value": "2"}]
    repo = ecr.describe_repositories(repositoryNames=["typed/repo"])["repositories"][0]
    assert repo["imageTagMutability"] == "IMMUTABLE"
    assert json.loads(ecr.get_lifecycle_policy(repositoryName="typed/repo")["lifecyclePolicyText"])[
        "rules"][0]["selection"]["countNumber"] == 10
    assert v2.get_integration(ApiId=after["Api"], IntegrationId=after["Integration"])["IntegrationUri"] == \
        "https://example.com/2"
    assert [r["RouteKey"] for r in v2.get_routes(ApiId=after["Api"])["Items"]] == ["GET /v2"]
    # What was replaced is gone.
    for call, kw in [(iam.get_role, {"RoleName": "typed-role-1"}), (ssm.get_parameter, {"Name": "/typed/r1"}),
                     (s3.head_bucket, {"Bucket": "typed-bucket-1"}),
                     (ecr.describe_repositories, {"repositoryNames": ["typed/repo-1"]})]:
        with pytest.raises(ClientError):
            call(**kw)
    cfn.delete_stack(StackName="typed")
    cfn.get_waiter("stack_delete_complete").wait(StackName="typed", WaiterConfig=waiting)
    assert [r["RoleName"] for r in iam.list_roles()["Roles"] if r["RoleName"].startswith("typed")] == []
    with pytest.raises(ClientError) as gone:
        iam.get_policy(PolicyArn=after["Managed"])
    assert gone.value.response["Error"]["Code"] == "NoSuchEntity"
    assert ssm.describe_parameters()["Parameters"] == []
    assert logs.describe_log_groups(logGroupNamePrefix="/typed")["logGroups"] == []
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == []
    assert ecr.describe_repositories()["repositories"] == []
    assert v2.get_apis()["Items"] == []


def rest_settings_stack(version):
    v = str(version)
    return json.dumps({"Resources": {
        "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "settings", "Tags": [{"Key": "v", "Value": v}]}},
        "Method": {"Type": "AWS::ApiGateway::Method", "Properties": {
            "RestApiId": {"Ref": "Api"}, "ResourceId": {"Fn::GetAtt": ["Api", "RootResourceId"]},
            "HttpMethod": "GET", "AuthorizationType": "NONE", "Integration": {"Type": "MOCK"}}},
        "Deployment": {"Type": "AWS::ApiGateway::Deployment", "DependsOn": ["Method"],
                       "Properties": {"RestApiId": {"Ref": "Api"}, "Description": f"deployment {v}"}},
        "Logs": {"Type": "AWS::Logs::LogGroup"},
        "Stage": {"Type": "AWS::ApiGateway::Stage", "Properties": {
            "RestApiId": {"Ref": "Api"}, "DeploymentId": {"Ref": "Deployment"}, "StageName": "live",
            "AccessLogSetting": {"DestinationArn": {"Fn::GetAtt": ["Logs", "Arn"]}, "Format": f"$context.requestId {v}"}}},
        "Plan": {"Type": "AWS::ApiGateway::UsagePlan", "DependsOn": ["Stage"], "Properties": {
            "ApiStages": [{"ApiId": {"Ref": "Api"}, "Stage": "live"}],
            "Quota": {"Limit": 5000 if version == 1 else 7000, "Period": "MONTH"},
            "Tags": [{"Key": "plan", "Value": v}]}},
        "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                    "Principal": {"Service": "apigateway.amazonaws.com"}}]}}},
        "Account": {"Type": "AWS::ApiGateway::Account", "Properties": {"CloudWatchRoleArn": {"Fn::GetAtt": ["Role", "Arn"]}}},
        "Authorizer": {"Type": "AWS::ApiGateway::Authorizer", "Properties": {
            "RestApiId": {"Ref": "Api"}, "Name": "tokens", "Type": "TOKEN",
            "IdentitySource": "method.request.header.Authorization",
            "AuthorizerResultTtlInSeconds": 300 if version == 1 else 60,
            "AuthorizerUri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
                             "arn:aws:lambda:us-east-1:000000000000:function:auth/invocations"}},
    }})


def test_rest_api_settings_change_in_place(lamina):
    cfn, apigw = lamina.client("cloudformation"), lamina.client("apigateway")
    waiting = {"Delay": 0.1, "MaxAttempts": 600}
    deploy(cfn, "settings", rest_settings_stack(1))

    def physical():
        listed = cfn.list_stack_resources(StackName="settings")["StackResourceSummaries"]
        return {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in listed}

    before = physical()
    api = before["Api"]
    stack_id = cfn.describe_stacks(StackName="settings")["Stacks"][0]["StackId"]
    api_arn = f"arn:aws:apigateway:us-east-1::/restapis/{api}"
    assert apigw.get_tags(resourceArn=api_arn)["tags"] == {
        "v": "1", "aws:cloudformation:stack-name": "settings", "aws:cloudformation:stack-id": stack_id,
        "aws:cloudformation:logical-id": "Api"}
    role = cfn.describe_stack_resource(StackName="settings", LogicalResourceId="Role")["StackResourceDetail"]
    assert apigw.get_account()["cloudwatchRoleArn"].endswith("/" + role["PhysicalResourceId"])

    cfn.update_stack(StackName="settings", TemplateBody=rest_settings_stack(2), Capabilities=["CAPABILITY_IAM"])
    cfn.get_waiter("stack_update_complete").wait(StackName="settings", WaiterConfig=waiting)
    after = physical()
    assert after == before
    assert apigw.get_deployment(restApiId=api, deploymentId=after["Deployment"])["description"] == "deployment 2"
    stage = apigw.get_stage(restApiId=api, stageName="live")
    assert stage["deploymentId"] == after["Deployment"]
    assert stage["accessLogSettings"]["format"] == "$context.requestId 2"
    assert stage["accessLogSettings"]["destinationArn"] == \
        f"arn:aws:logs:us-east-1:000000000000:log-group:{after['Logs']}:*"
    plan = apigw.get_usage_plan(usagePlanId=after["Plan"])
    assert (plan["quota"]["limit"], plan["tags"]["plan"]) == (7000, "2")
    assert plan["apiStages"] == [{"apiId": api, "stage": "live"}]
    assert apigw.get_tags(resourceArn=api_arn)["tags"]["v"] == "2"
    authorizer = apigw.get_authorizer(restApiId=api, authorizerId=after["Authorizer"])
    assert authorizer["authorizerResultTtlInSeconds"] == 60
    # The tags are the API's own: a client changes them too.
    apigw.untag_resource(resourceArn=api_arn, tagKeys=["v"])
    assert "v" not in apigw.get_tags(resourceArn=api_arn)["tags"]

    # The account's setting outlives the stack, as on AWS.
    cfn.delete_stack(StackName="settings")
    cfn.get_waiter("stack_delete_complete").wait(StackName="settings", WaiterConfig=waiting)
    assert apigw.get_account()["cloudwatchRoleArn"].endswith("/" + role["PhysicalResourceId"])
    assert apigw.get_rest_apis()["items"] == [] and apigw.get_usage_plans()["items"] == []


STREAMS_APP = """
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  Sessions:
    Type: AWS::Serverless::SimpleTable
    Properties:
      PrimaryKey: {Name: id, Type: String}
  Orders:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions:
        - {AttributeName: pk, AttributeType: S}
        - {AttributeName: status, AttributeType: S}
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
      BillingMode: PAY_PER_REQUEST
      GlobalSecondaryIndexes:
        - IndexName: by-status
          KeySchema: [{AttributeName: status, KeyType: HASH}]
          Projection: {ProjectionType: KEYS_ONLY}
      StreamSpecification: {StreamViewType: NEW_IMAGE}
      TimeToLiveSpecification: {AttributeName: expires, Enabled: true}
      Tags: [{Key: app, Value: shop}]
  Clicks:
    Type: AWS::Kinesis::Stream
    Properties:
      ShardCount: 2
      RetentionPeriodHours: 48
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      InlineCode: "def handler(event, context):\\n    return {}\\n"
      Events:
        OrderChanges:
          Type: DynamoDB
          Properties:
            Stream: !GetAtt Orders.StreamArn
            StartingPosition: TRIM_HORIZON
            BatchSize: 10
        ClickStream:
          Type: Kinesis
          Properties:
            Stream: !GetAtt Clicks.Arn
            StartingPosition: LATEST
            ParallelizationFactor: 2
Outputs:
  Orders: {Value: !Ref Orders}
  Sessions: {Value: !Ref Sessions}
  Clicks: {Value: !Ref Clicks}
  OrdersStream: {Value: !GetAtt Orders.StreamArn}
"""


def test_tables_streams_and_their_mappings_deploy_from_a_sam_template(lamina):
    cfn, ddb, kinesis = lamina.client("cloudformation"), lamina.client("dynamodb"), lamina.client("kinesis")
    cfn.create_stack(StackName="streams", TemplateBody=STREAMS_APP,
                     Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"])
    cfn.get_waiter("stack_create_complete").wait(StackName="streams", WaiterConfig={"Delay": 0.1, "MaxAttempts": 600})
    outputs = {o["OutputKey"]: o["OutputValue"] for o in cfn.describe_stacks(StackName="streams")["Stacks"][0]["Outputs"]}
    assert outputs["Orders"].startswith("streams-Orders-")
    orders = ddb.describe_table(TableName=outputs["Orders"])["Table"]
    assert orders["LatestStreamArn"] == outputs["OrdersStream"]
    assert [i["IndexName"] for i in orders["GlobalSecondaryIndexes"]] == ["by-status"]
    assert ddb.describe_time_to_live(TableName=outputs["Orders"])["TimeToLiveDescription"]["TimeToLiveStatus"] == "ENABLED"
    assert ddb.list_tags_of_resource(ResourceArn=orders["TableArn"])["Tags"] == [{"Key": "app", "Value": "shop"}]
    sessions = ddb.describe_table(TableName=outputs["Sessions"])["Table"]
    assert sessions["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    clicks = kinesis.describe_stream(StreamName=outputs["Clicks"])["StreamDescription"]
    assert (len(clicks["Shards"]), clicks["RetentionPeriodHours"]) == (2, 48)
    mappings = lamina.client("lambda").list_event_source_mappings()["EventSourceMappings"]
    by_source = {m["EventSourceArn"]: m for m in mappings}
    assert by_source[outputs["OrdersStream"]]["StartingPosition"] == "TRIM_HORIZON"
    assert by_source[clicks["StreamARN"]]["ParallelizationFactor"] == 2

    cfn.delete_stack(StackName="streams")
    cfn.get_waiter("stack_delete_complete").wait(StackName="streams", WaiterConfig={"Delay": 0.1, "MaxAttempts": 600})
    assert ddb.list_tables()["TableNames"] == []
    assert kinesis.list_streams()["StreamNames"] == []
