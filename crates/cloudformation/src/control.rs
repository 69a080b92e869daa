//! Cloud Control API's reads (`GetResource`): a resource's current properties, read from
//! its service, in its CloudFormation type's shape. Deploy tools ask it for what
//! CloudFormation made (SAM's `sam list endpoints` reads function URLs so).

use serde_json::{json, Map, Value};

use crate::operations::{Acting, Operations};
use crate::CfnError;

fn not_found(kind: &str, id: &str) -> CfnError {
    CfnError::ResourceNotFound(format!("{kind} with identifier '{id}' was not found"))
}

/// The members of `from` named, under the names given.
fn take(from: &Value, names: &[(&str, &str)]) -> Map<String, Value> {
    names
        .iter()
        .filter_map(|(f, t)| from.get(*f).filter(|v| !v.is_null()).map(|v| ((*t).to_owned(), v.clone())))
        .collect()
}

/// `GetResource`: the identifier and the properties, as JSON text.
pub(crate) async fn get(ops: &dyn Operations, acting: &Acting, kind: &str, id: &str) -> Result<Value, CfnError> {
    let read = |service: &'static str, operation: &'static str, input: Value| async move {
        ops.call(acting, service, operation, input).await.map_err(|e| {
            if e.is_not_found() {
                not_found(kind, id)
            } else {
                CfnError::Validation(e.message)
            }
        })
    };
    let props = match kind {
        "AWS::Lambda::Url" => {
            let out = read("lambda", "GetFunctionUrlConfig", json!({"FunctionName": id})).await?;
            let mut p = take(
                &out,
                &[
                    ("FunctionUrl", "FunctionUrl"),
                    ("FunctionArn", "FunctionArn"),
                    ("AuthType", "AuthType"),
                    ("Cors", "Cors"),
                    ("InvokeMode", "InvokeMode"),
                ],
            );
            p.insert("TargetFunctionArn".into(), out["FunctionArn"].clone());
            p
        }
        "AWS::Lambda::Function" => {
            let out = read("lambda", "GetFunctionConfiguration", json!({"FunctionName": id})).await?;
            take(
                &out,
                &[
                    ("FunctionName", "FunctionName"),
                    ("FunctionArn", "Arn"),
                    ("Runtime", "Runtime"),
                    ("Role", "Role"),
                    ("Handler", "Handler"),
                    ("Description", "Description"),
                    ("Timeout", "Timeout"),
                    ("MemorySize", "MemorySize"),
                    ("Environment", "Environment"),
                    ("Architectures", "Architectures"),
                    ("PackageType", "PackageType"),
                    ("EphemeralStorage", "EphemeralStorage"),
                    ("TracingConfig", "TracingConfig"),
                    ("LoggingConfig", "LoggingConfig"),
                ],
            )
        }
        "AWS::SQS::Queue" => {
            let out = read("sqs", "GetQueueAttributes", json!({"QueueUrl": id, "AttributeNames": ["All"]})).await?;
            let mut p: Map<String, Value> = out["Attributes"].as_object().cloned().unwrap_or_default();
            p.insert("QueueUrl".into(), json!(id));
            if let Some(arn) = p.remove("QueueArn") {
                p.insert(
                    "QueueName".into(),
                    json!(arn.as_str().and_then(|a| a.rsplit(':').next()).unwrap_or_default()),
                );
                p.insert("Arn".into(), arn);
            }
            p
        }
        "AWS::SNS::Topic" => {
            let out = read("sns", "GetTopicAttributes", json!({"TopicArn": id})).await?;
            let mut p = Map::new();
            p.insert("TopicArn".into(), json!(id));
            p.insert("TopicName".into(), json!(id.rsplit(':').next().unwrap_or_default()));
            if let Some(d) = out.pointer("/Attributes/DisplayName") {
                p.insert("DisplayName".into(), d.clone());
            }
            p
        }
        "AWS::S3::Bucket" => {
            read("s3", "HeadBucket", json!({"Bucket": id})).await?;
            let mut p = Map::new();
            p.insert("BucketName".into(), json!(id));
            p.insert("Arn".into(), json!(format!("arn:aws:s3:::{id}")));
            p
        }
        "AWS::Logs::LogGroup" => {
            let out = read("logs", "DescribeLogGroups", json!({"logGroupNamePrefix": id})).await?;
            let group = out["logGroups"]
                .as_array()
                .and_then(|g| g.iter().find(|g| g["logGroupName"] == id))
                .cloned()
                .ok_or_else(|| not_found(kind, id))?;
            take(&group, &[("logGroupName", "LogGroupName"), ("retentionInDays", "RetentionInDays"), ("arn", "Arn")])
        }
        "AWS::IAM::Role" => {
            let out = read("iam", "GetRole", json!({"RoleName": id})).await?;
            take(
                &out["Role"],
                &[
                    ("RoleName", "RoleName"),
                    ("Arn", "Arn"),
                    ("RoleId", "RoleId"),
                    ("Path", "Path"),
                    ("Description", "Description"),
                    ("MaxSessionDuration", "MaxSessionDuration"),
                ],
            )
        }
        "AWS::SSM::Parameter" => {
            let out = read("ssm", "GetParameter", json!({"Name": id})).await?;
            take(&out["Parameter"], &[("Name", "Name"), ("Type", "Type"), ("Value", "Value"), ("DataType", "DataType")])
        }
        "AWS::ApiGateway::RestApi" => {
            let out = read("apigateway", "GetRestApi", json!({"restApiId": id})).await?;
            let mut p = take(
                &out,
                &[
                    ("id", "RestApiId"),
                    ("name", "Name"),
                    ("description", "Description"),
                    ("rootResourceId", "RootResourceId"),
                ],
            );
            p.entry("RestApiId").or_insert_with(|| json!(id));
            p
        }
        "AWS::ApiGatewayV2::Api" => {
            let out = read("apigatewayv2", "GetApi", json!({"ApiId": id})).await?;
            take(
                &out,
                &[
                    ("ApiId", "ApiId"),
                    ("Name", "Name"),
                    ("ProtocolType", "ProtocolType"),
                    ("ApiEndpoint", "ApiEndpoint"),
                    ("Description", "Description"),
                ],
            )
        }
        other => return Err(CfnError::UnsupportedAction(format!("Resource type {other} does not support GET action"))),
    };
    Ok(json!({"Identifier": id, "Properties": Value::Object(props).to_string()}))
}
