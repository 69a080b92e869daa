//! `AWS::Logs::LogGroup`, `AWS::Logs::LogStream` and `AWS::Logs::SubscriptionFilter`.

use serde_json::{json, Value};

use super::{string, tag_map, Ctx, Failed, Kind, Made};
use crate::stack::Resource;

fn made(ctx: &Ctx<'_>, name: &str) -> Made {
    Made::new(name, json!({"Arn": ctx.arn("logs", &format!("log-group:{name}:*"))}))
}

async fn retention(ctx: &Ctx<'_>, name: &str, props: &Value) -> Result<(), Failed> {
    match super::int(props.get("RetentionInDays")) {
        Some(days) => {
            ctx.call("logs", "PutRetentionPolicy", json!({"logGroupName": name, "retentionInDays": days})).await?;
        }
        None => {
            ctx.call("logs", "DeleteRetentionPolicy", json!({"logGroupName": name})).await?;
        }
    }
    Ok(())
}

/// PutSubscriptionFilter from a filter's properties.
async fn subscription(ctx: &Ctx<'_>, props: &Value) -> Result<Made, Failed> {
    let name = props.get("FilterName").map(string).unwrap_or_default();
    let mut input = json!({
        "logGroupName": props.get("LogGroupName").map(string).unwrap_or_default(),
        "filterName": name,
        "filterPattern": props.get("FilterPattern").map(string).unwrap_or_default(),
        "destinationArn": props.get("DestinationArn").map(string).unwrap_or_default(),
    });
    for (prop, member) in [("RoleArn", "roleArn"), ("Distribution", "distribution")] {
        if let Some(v) = props.get(prop) {
            input[member] = Value::String(string(v));
        }
    }
    ctx.call("logs", "PutSubscriptionFilter", input).await?;
    Ok(Made::new(name, json!({})))
}

pub(super) async fn create(kind: &Kind, ctx: &Ctx<'_>, props: &Value) -> Result<Made, Failed> {
    if kind.name == "AWS::Logs::SubscriptionFilter" {
        return subscription(ctx, props).await;
    }
    if kind.name == "AWS::Logs::LogStream" {
        let group = props.get("LogGroupName").map(string).unwrap_or_default();
        let stream = props.get("LogStreamName").map(string).unwrap_or_default();
        ctx.call("logs", "CreateLogStream", json!({"logGroupName": group, "logStreamName": stream})).await?;
        return Ok(Made::new(stream, json!({})));
    }
    let name = props.get("LogGroupName").map(string).unwrap_or_default();
    let mut input = json!({"logGroupName": name});
    let tags = tag_map(props.get("Tags"));
    if !tags.is_empty() {
        input["tags"] = Value::Object(tags);
    }
    if let Some(k) = props.get("KmsKeyId") {
        input["kmsKeyId"] = Value::String(string(k));
    }
    ctx.call("logs", "CreateLogGroup", input).await?;
    if props.get("RetentionInDays").is_some() {
        retention(ctx, &name, props).await?;
    }
    Ok(made(ctx, &name))
}

pub(super) async fn update(kind: &Kind, ctx: &Ctx<'_>, old: &Resource, props: &Value) -> Result<Made, Failed> {
    if kind.name == "AWS::Logs::SubscriptionFilter" {
        return subscription(ctx, props).await;
    }
    let name = old.physical.clone().unwrap_or_default();
    if old.properties.get("RetentionInDays") != props.get("RetentionInDays") {
        retention(ctx, &name, props).await?;
    }
    let (before, after) = (tag_map(old.properties.get("Tags")), tag_map(props.get("Tags")));
    if before != after {
        let arn = ctx.arn("logs", &format!("log-group:{name}"));
        let gone: Vec<&String> = before.keys().filter(|k| !after.contains_key(*k)).collect();
        if !gone.is_empty() {
            ctx.call("logs", "UntagResource", json!({"resourceArn": arn, "tagKeys": gone})).await?;
        }
        if !after.is_empty() {
            ctx.call("logs", "TagResource", json!({"resourceArn": arn, "tags": after})).await?;
        }
    }
    Ok(made(ctx, &name))
}

pub(super) async fn delete(kind: &Kind, ctx: &Ctx<'_>, old: &Resource) -> Result<(), Failed> {
    let name = old.physical.clone().unwrap_or_default();
    if kind.name == "AWS::Logs::SubscriptionFilter" {
        let group = old.properties.get("LogGroupName").map(string).unwrap_or_default();
        return ctx
            .call_gone_ok("logs", "DeleteSubscriptionFilter", json!({"logGroupName": group, "filterName": name}))
            .await;
    }
    if kind.name == "AWS::Logs::LogStream" {
        let group = old.properties.get("LogGroupName").map(string).unwrap_or_default();
        return ctx
            .call_gone_ok("logs", "DeleteLogStream", json!({"logGroupName": group, "logStreamName": name}))
            .await;
    }
    ctx.call_gone_ok("logs", "DeleteLogGroup", json!({"logGroupName": name})).await
}
