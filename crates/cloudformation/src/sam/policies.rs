//! SAM's policy templates: a name and its parameters made into policy statements. Lamina
//! knows the templates functions use most; an unknown one is refused by name.

use serde_json::{json, Value};

use crate::template::TemplateError;

fn sub(text: &str, vars: Value) -> Value {
    json!({"Fn::Sub": [text, vars]})
}

fn param(params: &Value, name: &str, template: &str) -> Result<Value, TemplateError> {
    params.get(name).cloned().ok_or_else(|| {
        TemplateError(format!(
            "Transform AWS::Serverless-2016-10-31 failed with: Invalid Serverless Application Specification document. Missing parameter '{name}' in policy template '{template}'."
        ))
    })
}

fn statement(actions: &[&str], resource: Value) -> Value {
    json!({"Effect": "Allow", "Action": actions, "Resource": resource})
}

/// The statements of policy template `name` with `params`.
pub(super) fn statements(name: &str, params: &Value) -> Result<Vec<Value>, TemplateError> {
    let p = |n: &str| param(params, n, name);
    let table_arn = |p: Value| {
        sub(
            "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${tableName}",
            json!({"tableName": p}),
        )
    };
    let table_index = |p: Value| {
        sub(
            "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${tableName}/index/*",
            json!({"tableName": p}),
        )
    };
    let bucket = |p: Value| sub("arn:${AWS::Partition}:s3:::${bucketName}", json!({"bucketName": p}));
    let objects = |p: Value| sub("arn:${AWS::Partition}:s3:::${bucketName}/*", json!({"bucketName": p}));
    Ok(match name {
        "SQSPollerPolicy" => vec![statement(
            &["sqs:ChangeMessageVisibility", "sqs:ChangeMessageVisibilityBatch", "sqs:DeleteMessage", "sqs:DeleteMessageBatch", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"],
            sub("arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:${queueName}", json!({"queueName": p("QueueName")?})),
        )],
        "SQSSendMessagePolicy" => vec![statement(
            &["sqs:SendMessage*"],
            sub("arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:${queueName}", json!({"queueName": p("QueueName")?})),
        )],
        "SNSPublishMessagePolicy" => vec![statement(
            &["sns:Publish"],
            sub("arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:${topicName}", json!({"topicName": p("TopicName")?})),
        )],
        "LambdaInvokePolicy" => vec![statement(
            &["lambda:InvokeFunction"],
            sub("arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${functionName}*", json!({"functionName": p("FunctionName")?})),
        )],
        "DynamoDBCrudPolicy" => {
            let t = p("TableName")?;
            vec![statement(
                &["dynamodb:GetItem", "dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:Scan", "dynamodb:Query", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem", "dynamodb:BatchGetItem", "dynamodb:DescribeTable", "dynamodb:ConditionCheckItem"],
                json!([table_arn(t.clone()), table_index(t)]),
            )]
        }
        "DynamoDBReadPolicy" => {
            let t = p("TableName")?;
            vec![statement(
                &["dynamodb:GetItem", "dynamodb:Scan", "dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:DescribeTable"],
                json!([table_arn(t.clone()), table_index(t)]),
            )]
        }
        "DynamoDBWritePolicy" => {
            let t = p("TableName")?;
            vec![statement(
                &["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem"],
                json!([table_arn(t.clone()), table_index(t)]),
            )]
        }
        "DynamoDBStreamReadPolicy" => {
            let vars = json!({"tableName": p("TableName")?, "streamName": p("StreamName")?});
            vec![
                statement(
                    &["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
                    sub("arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${tableName}/stream/${streamName}", vars.clone()),
                ),
                statement(
                    &["dynamodb:ListStreams"],
                    sub("arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${tableName}/stream/*", vars),
                ),
            ]
        }
        "S3ReadPolicy" => {
            let b = p("BucketName")?;
            vec![statement(&["s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation", "s3:GetObjectVersion", "s3:GetLifecycleConfiguration"], json!([bucket(b.clone()), objects(b)]))]
        }
        "S3WritePolicy" => {
            let b = p("BucketName")?;
            vec![statement(&["s3:PutObject", "s3:PutObjectAcl", "s3:PutLifecycleConfiguration"], json!([bucket(b.clone()), objects(b)]))]
        }
        "S3CrudPolicy" => {
            let b = p("BucketName")?;
            vec![statement(
                &["s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation", "s3:GetObjectVersion", "s3:PutObject", "s3:PutObjectAcl", "s3:GetLifecycleConfiguration", "s3:PutLifecycleConfiguration", "s3:DeleteObject"],
                json!([bucket(b.clone()), objects(b)]),
            )]
        }
        "SSMParameterReadPolicy" => vec![statement(
            &["ssm:DescribeParameters", "ssm:GetParameters", "ssm:GetParameter", "ssm:GetParametersByPath"],
            sub("arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/${parameterName}", json!({"parameterName": p("ParameterName")?})),
        )],
        "CloudWatchPutMetricPolicy" => vec![statement(&["cloudwatch:PutMetricData"], json!("*"))],
        "EventBridgePutEventsPolicy" => vec![statement(
            &["events:PutEvents"],
            sub("arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/${eventBusName}", json!({"eventBusName": p("EventBusName")?})),
        )],
        "KinesisStreamReadPolicy" => vec![statement(
            &["kinesis:ListStreams", "kinesis:DescribeStream", "kinesis:GetShardIterator", "kinesis:GetRecords"],
            sub("arn:${AWS::Partition}:kinesis:${AWS::Region}:${AWS::AccountId}:stream/${streamName}", json!({"streamName": p("StreamName")?})),
        )],
        "AWSSecretsManagerGetSecretValuePolicy" => vec![statement(&["secretsmanager:GetSecretValue"], p("SecretArn")?)],
        "KMSDecryptPolicy" => vec![statement(
            &["kms:Decrypt"],
            sub("arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/${keyId}", json!({"keyId": p("KeyId")?})),
        )],
        "StepFunctionsExecutionPolicy" => vec![statement(
            &["states:StartExecution"],
            sub("arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:${stateMachineName}", json!({"stateMachineName": p("StateMachineName")?})),
        )],
        "VPCAccessPolicy" => vec![statement(
            &["ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DetachNetworkInterface"],
            json!("*"),
        )],
        "AWSXrayWriteOnlyAccess" => vec![statement(&["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets", "xray:GetSamplingStatisticSummaries"], json!("*"))],
        other => {
            return Err(TemplateError(format!(
                "Transform AWS::Serverless-2016-10-31 failed with: Invalid Serverless Application Specification document. Policy template '{other}' is not served by Lamina."
            )))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_make_statements_and_name_what_is_missing() {
        let s = statements("SQSPollerPolicy", &json!({"QueueName": {"Fn::GetAtt": ["Q", "QueueName"]}})).unwrap();
        assert_eq!(s[0]["Resource"]["Fn::Sub"][1], json!({"queueName": {"Fn::GetAtt": ["Q", "QueueName"]}}));
        assert!(statements("SQSPollerPolicy", &json!({})).unwrap_err().0.contains("Missing parameter 'QueueName'"));
        assert!(statements("NoSuchPolicy", &json!({})).is_err());
    }
}
