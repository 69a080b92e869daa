// A CDK app as its users write one: a function behind an HTTP API, a queue it may send to.
const cdk = require('aws-cdk-lib');
const lambda = require('aws-cdk-lib/aws-lambda');
const sqs = require('aws-cdk-lib/aws-sqs');
const apigwv2 = require('aws-cdk-lib/aws-apigatewayv2');
const { HttpLambdaIntegration } = require('aws-cdk-lib/aws-apigatewayv2-integrations');

const app = new cdk.App();
const stack = new cdk.Stack(app, 'CdkApp');
const queue = new sqs.Queue(stack, 'Jobs');
const fn = new lambda.Function(stack, 'Hello', {
  runtime: lambda.Runtime.PYTHON_3_12,
  handler: 'index.handler',
  code: lambda.Code.fromInline(
    'import json, os\ndef handler(event, context):\n' +
    '    return {"statusCode": 200, "body": json.dumps({"path": event["rawPath"], "queue": os.environ["QUEUE"]})}\n'),
  environment: { QUEUE: queue.queueUrl },
});
queue.grantSendMessages(fn);
const api = new apigwv2.HttpApi(stack, 'Api', { defaultIntegration: new HttpLambdaIntegration('HelloIntegration', fn) });
new cdk.CfnOutput(stack, 'ApiId', { value: api.apiId });
new cdk.CfnOutput(stack, 'QueueUrl', { value: queue.queueUrl });
