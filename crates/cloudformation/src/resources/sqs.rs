//! `AWS::SQS::Queue` and `AWS::SQS::QueuePolicy`.

use serde_json::{json, Map, Value};

use super::{document, string, tag_map, Ctx, Failed, Kind, Made};
use crate::stack::Resource;

/// The queue attributes the properties set, and their defaults (what a removed property
/// goes back to).
const ATTRIBUTES: [(&str, &str); 13] = [
    ("DelaySeconds", "0"),
    ("MaximumMessageSize", "262144"),
    ("MessageRetentionPeriod", "345600"),
    ("ReceiveMessageWaitTimeSeconds", "0"),
    ("VisibilityTimeout", "30"),
    ("RedrivePolicy", ""),
    ("RedriveAllowPolicy", ""),
    ("KmsMasterKeyId", ""),
    ("KmsDataKeyReusePeriodSeconds", "300"),
    ("SqsManagedSseEnabled", "true"),
    ("ContentBasedDeduplication", "false"),
    ("DeduplicationScope", "queue"),
    ("FifoThroughputLimit", "perQueue"),
];

fn attributes(props: &Value, create: bool) -> Map<String, Value> {
    let mut out = Map::new();
    for (name, default) in ATTRIBUTES {
        match props.get(name) {
            Some(v) => {
                out.insert(name.to_owned(), Value::String(document_or_string(v)));
            }
            None if !create && !default.is_empty() => {
                // Only a FIFO queue has the FIFO attributes.
                if ["ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"].contains(&name)
                    && !super::truthy(props.get("FifoQueue"))
                {
                    continue;
                }
                out.insert(name.to_owned(), Value::String(default.to_owned()));
            }
            None => {}
        }
    }
    if create && super::truthy(props.get("FifoQueue")) {
        out.insert("FifoQueue".into(), json!("true"));
    }
    out
}

fn document_or_string(v: &Value) -> String {
    match v {
        Value::Object(_) | Value::Array(_) => document(v),
        other => string(other),
    }
}

/// The queue's URL, known from its name before it is made.
pub(super) fn planned(ctx: &Ctx<'_>, props: &Value) -> Option<String> {
    let name = props.get("QueueName")?.as_str()?;
    Some(format!("http://{}/{}/{name}", ctx.acting.host, ctx.acting.account))
}

fn made(ctx: &Ctx<'_>, url: &str) -> Made {
    let name = url.rsplit('/').next().unwrap_or_default();
    Made::new(url, json!({"Arn": ctx.arn("sqs", name), "QueueName": name, "QueueUrl": url}))
}

pub(super) async fn create(kind: &Kind, ctx: &Ctx<'_>, props: &Value) -> Result<Made, Failed> {
    match kind.name {
        "AWS::SQS::Queue" => {
            let name = props.get("QueueName").map(string).unwrap_or_default();
            let out = ctx
                .call(
                    "sqs",
                    "CreateQueue",
                    json!({"QueueName": name, "Attributes": attributes(props, true), "tags": tag_map(props.get("Tags"))}),
                )
                .await?;
            Ok(made(ctx, out["QueueUrl"].as_str().unwrap_or_default()))
        }
        _ => {
            set_policy(ctx, props, &document(props.get("PolicyDocument").unwrap_or(&Value::Null))).await?;
            Ok(Made::new(super::generated_name(ctx.stack_name, ctx.logical, 128, false), json!({})))
        }
    }
}

async fn set_policy(ctx: &Ctx<'_>, props: &Value, policy: &str) -> Result<(), Failed> {
    for url in props.get("Queues").and_then(Value::as_array).into_iter().flatten() {
        ctx.call("sqs", "SetQueueAttributes", json!({"QueueUrl": string(url), "Attributes": {"Policy": policy}}))
            .await?;
    }
    Ok(())
}

pub(super) async fn update(kind: &Kind, ctx: &Ctx<'_>, old: &Resource, props: &Value) -> Result<Made, Failed> {
    let physical = old.physical.clone().unwrap_or_default();
    match kind.name {
        "AWS::SQS::Queue" => {
            ctx.call(
                "sqs",
                "SetQueueAttributes",
                json!({"QueueUrl": physical, "Attributes": attributes(props, false)}),
            )
            .await?;
            let (before, after) = (tag_map(old.properties.get("Tags")), tag_map(props.get("Tags")));
            let gone: Vec<&String> = before.keys().filter(|k| !after.contains_key(*k)).collect();
            if !gone.is_empty() {
                ctx.call("sqs", "UntagQueue", json!({"QueueUrl": physical, "TagKeys": gone})).await?;
            }
            if !after.is_empty() && before != after {
                ctx.call("sqs", "TagQueue", json!({"QueueUrl": physical, "Tags": after})).await?;
            }
            Ok(made(ctx, &physical))
        }
        _ => {
            set_policy(ctx, &old.properties, "").await?;
            set_policy(ctx, props, &document(props.get("PolicyDocument").unwrap_or(&Value::Null))).await?;
            Ok(Made::new(physical, json!({})))
        }
    }
}

pub(super) async fn delete(kind: &Kind, ctx: &Ctx<'_>, old: &Resource) -> Result<(), Failed> {
    match kind.name {
        "AWS::SQS::Queue" => {
            ctx.call_gone_ok("sqs", "DeleteQueue", json!({"QueueUrl": old.physical.as_deref().unwrap_or_default()}))
                .await
        }
        _ => {
            for url in old.properties.get("Queues").and_then(Value::as_array).into_iter().flatten() {
                ctx.call_gone_ok(
                    "sqs",
                    "SetQueueAttributes",
                    json!({"QueueUrl": string(url), "Attributes": {"Policy": ""}}),
                )
                .await?;
            }
            Ok(())
        }
    }
}
