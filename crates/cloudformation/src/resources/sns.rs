//! `AWS::SNS::Topic`, `AWS::SNS::Subscription` and `AWS::SNS::TopicPolicy`.

use serde_json::{json, Map, Value};

use super::{document, string, tag_list, Ctx, Failed, Kind, Made};
use crate::stack::Resource;

/// Topic properties that are topic attributes.
const TOPIC_ATTRIBUTES: [&str; 8] = [
    "DisplayName",
    "KmsMasterKeyId",
    "ContentBasedDeduplication",
    "SignatureVersion",
    "TracingConfig",
    "ArchivePolicy",
    "DataProtectionPolicy",
    "FifoThroughputScope",
];

/// Subscription properties that are subscription attributes.
const SUBSCRIPTION_ATTRIBUTES: [&str; 7] = [
    "FilterPolicy",
    "FilterPolicyScope",
    "RawMessageDelivery",
    "RedrivePolicy",
    "DeliveryPolicy",
    "SubscriptionRoleArn",
    "ReplayPolicy",
];

fn text(v: &Value) -> String {
    match v {
        Value::Object(_) | Value::Array(_) => document(v),
        other => string(other),
    }
}

/// The topic's ARN, known from its name before it is made.
pub(super) fn planned(ctx: &Ctx<'_>, props: &Value) -> Option<String> {
    Some(ctx.arn("sns", props.get("TopicName")?.as_str()?))
}

fn topic(arn: &str) -> Made {
    let name = super::last_part(arn);
    Made::new(arn, json!({"TopicArn": arn, "TopicName": name}))
}

async fn subscribe(ctx: &Ctx<'_>, topic: &str, props: &Value) -> Result<String, Failed> {
    let mut attributes = Map::new();
    for name in SUBSCRIPTION_ATTRIBUTES {
        if let Some(v) = props.get(name) {
            attributes.insert(name.to_owned(), Value::String(text(v)));
        }
    }
    let out = ctx
        .call(
            "sns",
            "Subscribe",
            json!({
                "TopicArn": topic,
                "Protocol": props.get("Protocol").map(string).unwrap_or_default(),
                "Endpoint": props.get("Endpoint").map(string).unwrap_or_default(),
                "Attributes": attributes,
                "ReturnSubscriptionArn": true,
            }),
        )
        .await?;
    Ok(out["SubscriptionArn"].as_str().unwrap_or_default().to_owned())
}

pub(super) async fn create(kind: &Kind, ctx: &Ctx<'_>, props: &Value) -> Result<Made, Failed> {
    match kind.name {
        "AWS::SNS::Topic" => {
            let mut attributes = Map::new();
            for name in TOPIC_ATTRIBUTES {
                if let Some(v) = props.get(name) {
                    attributes.insert(name.to_owned(), Value::String(text(v)));
                }
            }
            if super::truthy(props.get("FifoTopic")) {
                attributes.insert("FifoTopic".into(), json!("true"));
            }
            let mut input = json!({
                "Name": props.get("TopicName").map(string).unwrap_or_default(),
                "Attributes": attributes,
            });
            let tags = tag_list(props.get("Tags"));
            if tags.as_array().is_some_and(|t| !t.is_empty()) {
                input["Tags"] = tags;
            }
            let out = ctx.call("sns", "CreateTopic", input).await?;
            let arn = out["TopicArn"].as_str().unwrap_or_default().to_owned();
            for s in props.get("Subscription").and_then(Value::as_array).into_iter().flatten() {
                subscribe(ctx, &arn, s).await?;
            }
            Ok(topic(&arn))
        }
        "AWS::SNS::Subscription" => {
            let topic = props.get("TopicArn").map(string).unwrap_or_default();
            let arn = subscribe(ctx, &topic, props).await?;
            Ok(Made::new(arn.clone(), json!({"Arn": arn})))
        }
        _ => {
            set_policy(ctx, props, &document(props.get("PolicyDocument").unwrap_or(&Value::Null))).await?;
            Ok(Made::new(super::generated_name(ctx.stack_name, ctx.logical, 128, false), json!({})))
        }
    }
}

async fn set_policy(ctx: &Ctx<'_>, props: &Value, policy: &str) -> Result<(), Failed> {
    for arn in props.get("Topics").and_then(Value::as_array).into_iter().flatten() {
        ctx.call(
            "sns",
            "SetTopicAttributes",
            json!({"TopicArn": string(arn), "AttributeName": "Policy", "AttributeValue": policy}),
        )
        .await?;
    }
    Ok(())
}

pub(super) async fn update(kind: &Kind, ctx: &Ctx<'_>, old: &Resource, props: &Value) -> Result<Made, Failed> {
    let physical = old.physical.clone().unwrap_or_default();
    match kind.name {
        "AWS::SNS::Topic" => {
            for name in TOPIC_ATTRIBUTES {
                if old.properties.get(name) != props.get(name) {
                    let value = props.get(name).map(text).unwrap_or_default();
                    ctx.call(
                        "sns",
                        "SetTopicAttributes",
                        json!({"TopicArn": physical, "AttributeName": name, "AttributeValue": value}),
                    )
                    .await?;
                }
            }
            if old.properties.get("Tags") != props.get("Tags") {
                let tags = tag_list(props.get("Tags"));
                if tags.as_array().is_some_and(|t| !t.is_empty()) {
                    ctx.call("sns", "TagResource", json!({"ResourceArn": physical, "Tags": tags})).await?;
                }
            }
            Ok(topic(&physical))
        }
        "AWS::SNS::Subscription" => {
            for name in SUBSCRIPTION_ATTRIBUTES {
                if old.properties.get(name) != props.get(name) {
                    let value = props.get(name).map(text).unwrap_or_default();
                    ctx.call(
                        "sns",
                        "SetSubscriptionAttributes",
                        json!({"SubscriptionArn": physical, "AttributeName": name, "AttributeValue": value}),
                    )
                    .await?;
                }
            }
            Ok(Made::new(physical.clone(), json!({"Arn": physical})))
        }
        _ => {
            set_policy(ctx, props, &document(props.get("PolicyDocument").unwrap_or(&Value::Null))).await?;
            Ok(Made::new(physical, json!({})))
        }
    }
}

pub(super) async fn delete(kind: &Kind, ctx: &Ctx<'_>, old: &Resource) -> Result<(), Failed> {
    let physical = old.physical.clone().unwrap_or_default();
    match kind.name {
        "AWS::SNS::Topic" => ctx.call_gone_ok("sns", "DeleteTopic", json!({"TopicArn": physical})).await,
        "AWS::SNS::Subscription" => ctx.call_gone_ok("sns", "Unsubscribe", json!({"SubscriptionArn": physical})).await,
        _ => Ok(()),
    }
}
