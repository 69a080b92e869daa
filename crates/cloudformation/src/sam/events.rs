//! A SAM function's `Events`: each made into the resources its source needs (API routes,
//! event source mappings, subscriptions, bucket notifications, rules, schedules, log
//! subscriptions) and the permission that lets the source invoke the function. Returns
//! the AWS-managed policies the function's role then needs.

use serde_json::{json, Map, Value};

use super::apis::{Apis, Route};
use super::function::Target;
use super::{resource, Out};
use crate::template::TemplateError;

fn invalid(logical: &str, event: &str, why: &str) -> TemplateError {
    TemplateError(format!(
        "Transform AWS::Serverless-2016-10-31 failed with: Invalid Serverless Application Specification document. Number of errors found: 1. Resource with id [{logical}] is invalid. Event with id [{event}] is invalid. {why}"
    ))
}

fn permission(target: &Target, principal: &str) -> Map<String, Value> {
    let mut p = Map::new();
    p.insert("Action".into(), json!("lambda:InvokeFunction"));
    p.insert("FunctionName".into(), target.reference.clone());
    p.insert("Principal".into(), json!(principal));
    p
}

/// Copies the listed members of `from` into `to`.
fn copy(from: &Value, to: &mut Map<String, Value>, keys: &[&str]) {
    for k in keys {
        if let Some(v) = from.get(*k) {
            to.insert((*k).to_owned(), v.clone());
        }
    }
}

/// An API path's form in a permission's source ARN: path parameters are `*`.
fn arn_path(path: &str) -> String {
    path.split('/').map(|seg| if seg.starts_with('{') { "*" } else { seg }).collect::<Vec<_>>().join("/")
}

pub(super) fn expand(
    logical: &str,
    name: &str,
    ev: &Value,
    target: &Target,
    out: &mut Out,
    apis: &mut Apis,
    all: &Map<String, Value>,
) -> Result<Vec<&'static str>, TemplateError> {
    let kind = ev
        .get("Type")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(logical, name, "Missing required property 'Type'."))?;
    let p = ev.get("Properties").cloned().unwrap_or_else(|| json!({}));
    let id = format!("{logical}{name}");
    let mut policies = Vec::new();
    match kind {
        "Api" => {
            let path = p
                .get("Path")
                .and_then(Value::as_str)
                .ok_or_else(|| invalid(logical, name, "Missing required property 'Path'."))?;
            let method = p
                .get("Method")
                .and_then(Value::as_str)
                .ok_or_else(|| invalid(logical, name, "Missing required property 'Method'."))?;
            let api = match p.get("RestApiId") {
                Some(Value::Object(r)) => r.get("Ref").and_then(Value::as_str).map(str::to_owned).ok_or_else(|| {
                    invalid(
                        logical,
                        name,
                        "RestApiId must be a Ref to an AWS::Serverless::Api resource in the same template.",
                    )
                })?,
                Some(Value::String(s)) => s.clone(),
                _ => "ServerlessRestApi".to_owned(),
            };
            let stage = apis.rest_stage(&api, all);
            apis.rest_route(
                &api,
                Route {
                    path: path.to_owned(),
                    method: method.to_lowercase(),
                    function_arn_sub: target.arn_sub.clone(),
                },
            );
            let mut perm = permission(target, "apigateway.amazonaws.com");
            let source = format!(
                "arn:{}:execute-api:${{AWS::Region}}:${{AWS::AccountId}}:${{__ApiId__}}/${{__Stage__}}/{}{}",
                out.place.partition,
                if method.eq_ignore_ascii_case("any") { "*".to_owned() } else { method.to_uppercase() },
                arn_path(path)
            );
            perm.insert(
                "SourceArn".into(),
                json!({"Fn::Sub": [source, {"__ApiId__": {"Ref": api}, "__Stage__": "*"}]}),
            );
            out.add(format!("{id}Permission{stage}"), resource("AWS::Lambda::Permission", Value::Object(perm)));
        }
        "HttpApi" => {
            let path = p.get("Path").and_then(Value::as_str).unwrap_or("$default");
            let method = p.get("Method").and_then(Value::as_str).unwrap_or("x-amazon-apigateway-any-method");
            let method = if method.eq_ignore_ascii_case("any") {
                "x-amazon-apigateway-any-method".to_owned()
            } else {
                method.to_lowercase()
            };
            let api = match p.get("ApiId") {
                Some(Value::Object(r)) => r.get("Ref").and_then(Value::as_str).map(str::to_owned).ok_or_else(|| {
                    invalid(
                        logical,
                        name,
                        "ApiId must be a Ref to an AWS::Serverless::HttpApi resource in the same template.",
                    )
                })?,
                Some(Value::String(s)) => s.clone(),
                _ => "ServerlessHttpApi".to_owned(),
            };
            let version = p.get("PayloadFormatVersion").and_then(Value::as_str).unwrap_or("2.0").to_owned();
            let timeout = p.get("TimeoutInMillis").cloned();
            apis.http_route(
                &api,
                Route { path: path.to_owned(), method: method.clone(), function_arn_sub: target.arn_sub.clone() },
                version,
                timeout,
            );
            let mut perm = permission(target, "apigateway.amazonaws.com");
            let route = if path == "$default" {
                "*".to_owned()
            } else {
                let m = if method == "x-amazon-apigateway-any-method" { "*".to_owned() } else { method.to_uppercase() };
                format!("{m}{}", arn_path(path))
            };
            let source = format!(
                "arn:${{AWS::Partition}}:execute-api:${{AWS::Region}}:${{AWS::AccountId}}:${{__ApiId__}}/${{__Stage__}}/{route}"
            );
            perm.insert(
                "SourceArn".into(),
                json!({"Fn::Sub": [source, {"__ApiId__": {"Ref": api}, "__Stage__": "*"}]}),
            );
            out.add(format!("{id}Permission"), resource("AWS::Lambda::Permission", Value::Object(perm)));
        }
        "SQS" | "DynamoDB" | "Kinesis" | "MQ" | "MSK" | "DocumentDB" => {
            let source = match kind {
                "SQS" => p.get("Queue"),
                "MQ" | "MSK" | "DocumentDB" => p.get("Broker").or_else(|| p.get("Stream")).or_else(|| p.get("Cluster")),
                _ => p.get("Stream"),
            }
            .cloned()
            .ok_or_else(|| invalid(logical, name, "Missing the event source (Queue or Stream)."))?;
            let mut m = Map::new();
            m.insert("EventSourceArn".into(), source);
            m.insert("FunctionName".into(), target.reference.clone());
            copy(
                &p,
                &mut m,
                &[
                    "BatchSize",
                    "Enabled",
                    "MaximumBatchingWindowInSeconds",
                    "FilterCriteria",
                    "FunctionResponseTypes",
                    "ScalingConfig",
                    "StartingPosition",
                    "StartingPositionTimestamp",
                    "MaximumRecordAgeInSeconds",
                    "MaximumRetryAttempts",
                    "BisectBatchOnFunctionError",
                    "ParallelizationFactor",
                    "TumblingWindowInSeconds",
                    "DestinationConfig",
                    "MetricsConfig",
                ],
            );
            out.add(id, resource("AWS::Lambda::EventSourceMapping", Value::Object(m)));
            policies.push(match kind {
                "SQS" => "service-role/AWSLambdaSQSQueueExecutionRole",
                "DynamoDB" => "service-role/AWSLambdaDynamoDBExecutionRole",
                _ => "service-role/AWSLambdaKinesisExecutionRole",
            });
        }
        "SNS" => {
            let topic =
                p.get("Topic").cloned().ok_or_else(|| invalid(logical, name, "Missing required property 'Topic'."))?;
            let mut s = Map::new();
            s.insert("Endpoint".into(), target.arn.clone());
            s.insert("Protocol".into(), json!("lambda"));
            s.insert("TopicArn".into(), topic.clone());
            copy(&p, &mut s, &["FilterPolicy", "FilterPolicyScope", "Region", "RedrivePolicy"]);
            out.add(id.clone(), resource("AWS::SNS::Subscription", Value::Object(s)));
            let mut perm = permission(target, "sns.amazonaws.com");
            perm.insert("SourceArn".into(), topic);
            out.add(format!("{id}Permission"), resource("AWS::Lambda::Permission", Value::Object(perm)));
        }
        "S3" => {
            let bucket =
                p.get("Bucket").and_then(|b| b.get("Ref")).and_then(Value::as_str).map(str::to_owned).ok_or_else(
                    || invalid(logical, name, "S3 events must reference an S3 bucket in the same template."),
                )?;
            let events = match p.get("Events") {
                Some(Value::Array(e)) => e.clone(),
                Some(one) => vec![one.clone()],
                None => return Err(invalid(logical, name, "Missing required property 'Events'.")),
            };
            let mut perm = permission(target, "s3.amazonaws.com");
            perm.insert("SourceAccount".into(), json!({"Ref": "AWS::AccountId"}));
            let perm_id = format!("{id}Permission");
            out.add(perm_id.clone(), resource("AWS::Lambda::Permission", Value::Object(perm)));
            // The bucket is expanded later; its notifications are added to it now.
            let b =
                out.resources.entry(bucket.clone()).or_insert_with(|| all.get(&bucket).cloned().unwrap_or(Value::Null));
            if b.get("Type").and_then(Value::as_str) != Some("AWS::S3::Bucket") {
                return Err(invalid(logical, name, "S3 events must reference an S3 bucket in the same template."));
            }
            let props = b.as_object_mut().map(|o| o.entry("Properties").or_insert_with(|| json!({})));
            if let Some(Value::Object(props)) = props {
                let config = props.entry("NotificationConfiguration").or_insert_with(|| json!({}));
                let list = config.as_object_mut().map(|c| c.entry("LambdaConfigurations").or_insert_with(|| json!([])));
                if let Some(Value::Array(list)) = list {
                    for e in events {
                        let mut c = json!({"Event": e, "Function": target.arn});
                        if let Some(f) = p.get("Filter") {
                            c["Filter"] = f.clone();
                        }
                        list.push(c);
                    }
                }
            }
            let depends = b.as_object_mut().map(|o| o.entry("DependsOn").or_insert_with(|| json!([])));
            if let Some(d) = depends {
                let mut items = match d.take() {
                    Value::Array(a) => a,
                    Value::String(s) => vec![json!(s)],
                    _ => Vec::new(),
                };
                items.push(json!(perm_id));
                *d = Value::Array(items);
            }
        }
        "Schedule" | "CloudWatchEvent" | "EventBridgeRule" => {
            let mut rule = Map::new();
            if kind == "Schedule" {
                let expr = p
                    .get("Schedule")
                    .cloned()
                    .ok_or_else(|| invalid(logical, name, "Missing required property 'Schedule'."))?;
                rule.insert("ScheduleExpression".into(), expr);
                match (p.get("State"), p.get("Enabled").and_then(Value::as_bool)) {
                    (Some(state), _) => {
                        rule.insert("State".into(), state.clone());
                    }
                    (None, Some(enabled)) => {
                        rule.insert("State".into(), json!(if enabled { "ENABLED" } else { "DISABLED" }));
                    }
                    (None, None) => {}
                }
            } else {
                rule.insert("EventPattern".into(), p.get("Pattern").cloned().unwrap_or_else(|| json!({})));
                copy(&p, &mut rule, &["EventBusName", "State"]);
            }
            copy(&p, &mut rule, &["Name", "Description"]);
            let mut t = json!({"Arn": target.arn, "Id": format!("{id}LambdaTarget")});
            copy(
                &p,
                t.as_object_mut().expect("an object"),
                &["Input", "InputPath", "InputTransformer", "RetryPolicy", "DeadLetterConfig"],
            );
            rule.insert("Targets".into(), json!([t]));
            out.add(id.clone(), resource("AWS::Events::Rule", Value::Object(rule)));
            let mut perm = permission(target, "events.amazonaws.com");
            perm.insert("SourceArn".into(), json!({"Fn::GetAtt": [id, "Arn"]}));
            out.add(format!("{id}Permission"), resource("AWS::Lambda::Permission", Value::Object(perm)));
        }
        "ScheduleV2" => {
            let role = format!("{id}Role");
            out.add(role.clone(), resource("AWS::IAM::Role", json!({
                "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Action": ["sts:AssumeRole"], "Effect": "Allow", "Principal": {"Service": ["scheduler.amazonaws.com"]}}]},
                "Policies": [{"PolicyName": format!("{id}LambdaPolicy"), "PolicyDocument": {"Statement": [{"Action": "lambda:InvokeFunction", "Effect": "Allow", "Resource": target.arn}]}}],
            })));
            let mut s = Map::new();
            s.insert(
                "ScheduleExpression".into(),
                p.get("ScheduleExpression")
                    .cloned()
                    .ok_or_else(|| invalid(logical, name, "Missing required property 'ScheduleExpression'."))?,
            );
            s.insert(
                "FlexibleTimeWindow".into(),
                p.get("FlexibleTimeWindow").cloned().unwrap_or_else(|| json!({"Mode": "OFF"})),
            );
            let mut t = json!({"Arn": target.arn, "RoleArn": {"Fn::GetAtt": [role, "Arn"]}});
            copy(&p, t.as_object_mut().expect("an object"), &["Input", "RetryPolicy", "DeadLetterConfig"]);
            s.insert("Target".into(), t);
            copy(
                &p,
                &mut s,
                &[
                    "Name",
                    "Description",
                    "GroupName",
                    "ScheduleExpressionTimezone",
                    "StartDate",
                    "EndDate",
                    "State",
                    "KmsKeyArn",
                ],
            );
            out.add(id, resource("AWS::Scheduler::Schedule", Value::Object(s)));
        }
        "CloudWatchLogs" => {
            let group = p
                .get("LogGroupName")
                .cloned()
                .ok_or_else(|| invalid(logical, name, "Missing required property 'LogGroupName'."))?;
            let perm_id = format!("{id}Permission");
            let mut perm = permission(target, "logs.amazonaws.com");
            perm.insert("SourceArn".into(), json!({"Fn::Sub": ["arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:${__LogGroupName__}:*", {"__LogGroupName__": group}]}));
            out.add(perm_id.clone(), resource("AWS::Lambda::Permission", Value::Object(perm)));
            let mut f = resource(
                "AWS::Logs::SubscriptionFilter",
                json!({
                    "DestinationArn": target.arn, "FilterPattern": p.get("FilterPattern").cloned().unwrap_or(json!("")), "LogGroupName": group,
                }),
            );
            f["DependsOn"] = json!([perm_id]);
            out.add(id, f);
        }
        other => {
            return Err(invalid(logical, name, &format!("Lamina does not serve SAM events of type {other}.")));
        }
    }
    Ok(policies)
}
