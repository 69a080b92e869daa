//! `AWS::S3::Bucket` (its settings applied with S3's own Put/Delete operations) and
//! `AWS::S3::BucketPolicy`.

use serde_json::{json, Map, Value};

use super::{document, string, tag_list, Ctx, Failed, Kind, Made};
use crate::stack::Resource;

fn made(ctx: &Ctx<'_>, name: &str) -> Made {
    let region = &ctx.acting.region;
    Made::new(
        name,
        json!({
            "Arn": format!("arn:aws:s3:::{name}"),
            "DomainName": format!("{name}.s3.amazonaws.com"),
            "RegionalDomainName": format!("{name}.s3.{region}.amazonaws.com"),
            "DualStackDomainName": format!("{name}.s3.dualstack.{region}.amazonaws.com"),
            "WebsiteURL": format!("http://{name}.s3-website-{region}.amazonaws.com"),
        }),
    )
}

fn rename(v: &Value, names: &[(&str, &str)]) -> Value {
    let mut out = Map::new();
    if let Value::Object(o) = v {
        for (k, v) in o {
            let k = names.iter().find(|(from, _)| from == k).map(|(_, to)| *to).unwrap_or(k);
            out.insert(k.to_owned(), v.clone());
        }
    }
    Value::Object(out)
}

fn filter(f: Option<&Value>) -> Option<Value> {
    let rules = f?.pointer("/S3Key/Rules")?.clone();
    Some(json!({"Key": {"FilterRules": rules}}))
}

fn notifications(v: &Value) -> Value {
    let mut out = Map::new();
    for (from, to, target, arn) in [
        ("QueueConfigurations", "QueueConfigurations", "Queue", "QueueArn"),
        ("TopicConfigurations", "TopicConfigurations", "Topic", "TopicArn"),
        ("LambdaConfigurations", "LambdaFunctionConfigurations", "Function", "LambdaFunctionArn"),
    ] {
        let configs: Vec<Value> = v
            .get(from)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|c| {
                let mut o = json!({arn: c.get(target).map(string).unwrap_or_default(), "Events": [c.get("Event").map(string).unwrap_or_default()]});
                if let Some(f) = filter(c.get("Filter")) {
                    o["Filter"] = f;
                }
                o
            })
            .collect();
        if !configs.is_empty() {
            out.insert(to.to_owned(), Value::Array(configs));
        }
    }
    Value::Object(out)
}

fn lifecycle(v: &Value) -> Value {
    let rules: Vec<Value> = v
        .get("Rules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|r| {
            let mut o = json!({"Status": r.get("Status").map(string).unwrap_or_else(|| "Enabled".into())});
            if let Some(id) = r.get("Id") {
                o["ID"] = Value::String(string(id));
            }
            o["Filter"] = json!({"Prefix": r.get("Prefix").map(string).unwrap_or_default()});
            if let Some(days) = super::int(r.get("ExpirationInDays")) {
                o["Expiration"] = json!({"Days": days});
            } else if let Some(date) = r.get("ExpirationDate") {
                o["Expiration"] = json!({"Date": string(date)});
            } else if let Some(marker) = super::boolean(r.get("ExpiredObjectDeleteMarker")) {
                o["Expiration"] = json!({"ExpiredObjectDeleteMarker": marker});
            }
            if let Some(days) = super::int(r.get("NoncurrentVersionExpirationInDays")) {
                o["NoncurrentVersionExpiration"] = json!({"NoncurrentDays": days});
            } else if let Some(n) = r.get("NoncurrentVersionExpiration") {
                o["NoncurrentVersionExpiration"] = n.clone();
            }
            if let Some(t) = r.get("Transitions").or_else(|| r.get("Transition")) {
                let list = if t.is_array() { t.clone() } else { json!([t]) };
                let list: Vec<Value> = list
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|t| rename(t, &[("TransitionInDays", "Days"), ("TransitionDate", "Date")]))
                    .collect();
                o["Transitions"] = Value::Array(list);
            }
            if let Some(t) = r.get("NoncurrentVersionTransitions") {
                let list: Vec<Value> = t
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|t| rename(t, &[("TransitionInDays", "NoncurrentDays")]))
                    .collect();
                o["NoncurrentVersionTransitions"] = Value::Array(list);
            }
            if let Some(a) = r.get("AbortIncompleteMultipartUpload") {
                o["AbortIncompleteMultipartUpload"] = a.clone();
            }
            o
        })
        .collect();
    json!({"Rules": rules})
}

/// Each setting: the property, S3's Put and Delete operations, and the input it puts.
type Shape = fn(&Value) -> Value;
const SETTINGS: [(&str, &str, Option<&str>, &str, Shape); 8] = [
    ("VersioningConfiguration", "PutBucketVersioning", None, "VersioningConfiguration", |v| v.clone()),
    ("CorsConfiguration", "PutBucketCors", Some("DeleteBucketCors"), "CORSConfiguration", |v| {
        let rules: Vec<Value> = v
            .get("CorsRules")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|r| rename(r, &[("ExposedHeaders", "ExposeHeaders"), ("Id", "ID"), ("MaxAge", "MaxAgeSeconds")]))
            .collect();
        json!({"CORSRules": rules})
    }),
    (
        "LifecycleConfiguration",
        "PutBucketLifecycleConfiguration",
        Some("DeleteBucketLifecycle"),
        "LifecycleConfiguration",
        lifecycle,
    ),
    (
        "BucketEncryption",
        "PutBucketEncryption",
        Some("DeleteBucketEncryption"),
        "ServerSideEncryptionConfiguration",
        |v| {
            let rules: Vec<Value> = v
                .get("ServerSideEncryptionConfiguration")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|r| rename(r, &[("ServerSideEncryptionByDefault", "ApplyServerSideEncryptionByDefault")]))
                .collect();
            json!({"Rules": rules})
        },
    ),
    (
        "PublicAccessBlockConfiguration",
        "PutPublicAccessBlock",
        Some("DeletePublicAccessBlock"),
        "PublicAccessBlockConfiguration",
        |v| v.clone(),
    ),
    (
        "OwnershipControls",
        "PutBucketOwnershipControls",
        Some("DeleteBucketOwnershipControls"),
        "OwnershipControls",
        |v| v.clone(),
    ),
    ("WebsiteConfiguration", "PutBucketWebsite", Some("DeleteBucketWebsite"), "WebsiteConfiguration", |v| {
        let mut o = json!({});
        if let Some(i) = v.get("IndexDocument") {
            o["IndexDocument"] = json!({"Suffix": string(i)});
        }
        if let Some(e) = v.get("ErrorDocument") {
            o["ErrorDocument"] = json!({"Key": string(e)});
        }
        o
    }),
    (
        "NotificationConfiguration",
        "PutBucketNotificationConfiguration",
        None,
        "NotificationConfiguration",
        notifications,
    ),
];

async fn apply(ctx: &Ctx<'_>, name: &str, before: &Value, props: &Value) -> Result<(), Failed> {
    for (property, put, delete, member, shape) in SETTINGS {
        let (was, is) = (before.get(property), props.get(property));
        if was == is {
            continue;
        }
        match (is, delete) {
            (Some(v), _) => {
                ctx.call("s3", put, json!({"Bucket": name, member: shape(v)})).await?;
            }
            (None, Some(delete)) => {
                ctx.call_gone_ok("s3", delete, json!({"Bucket": name})).await?;
            }
            (None, None) if property == "NotificationConfiguration" => {
                ctx.call("s3", put, json!({"Bucket": name, member: {}})).await?;
            }
            (None, None) => {}
        }
    }
    if before.get("Tags") != props.get("Tags") {
        let tags = tag_list(props.get("Tags"));
        if tags.as_array().is_some_and(|t| t.is_empty()) {
            ctx.call_gone_ok("s3", "DeleteBucketTagging", json!({"Bucket": name})).await?;
        } else {
            ctx.call("s3", "PutBucketTagging", json!({"Bucket": name, "Tagging": {"TagSet": tags}})).await?;
        }
    }
    Ok(())
}

pub(super) async fn create(kind: &Kind, ctx: &Ctx<'_>, props: &Value) -> Result<Made, Failed> {
    if kind.name == "AWS::S3::BucketPolicy" {
        let bucket = props.get("Bucket").map(string).unwrap_or_default();
        let policy = document(props.get("PolicyDocument").unwrap_or(&Value::Null));
        ctx.call("s3", "PutBucketPolicy", json!({"Bucket": bucket, "Policy": policy})).await?;
        return Ok(Made::new(bucket, json!({})));
    }
    let name = props.get("BucketName").map(string).unwrap_or_default();
    let mut input = json!({"Bucket": name});
    if ctx.acting.region != "us-east-1" {
        input["CreateBucketConfiguration"] = json!({"LocationConstraint": ctx.acting.region});
    }
    ctx.call("s3", "CreateBucket", input).await?;
    apply(ctx, &name, &json!({}), props).await?;
    Ok(made(ctx, &name))
}

pub(super) async fn update(kind: &Kind, ctx: &Ctx<'_>, old: &Resource, props: &Value) -> Result<Made, Failed> {
    if kind.name == "AWS::S3::BucketPolicy" {
        return create(kind, ctx, props).await;
    }
    let name = old.physical.clone().unwrap_or_default();
    apply(ctx, &name, &old.properties, props).await?;
    Ok(made(ctx, &name))
}

pub(super) async fn delete(kind: &Kind, ctx: &Ctx<'_>, old: &Resource) -> Result<(), Failed> {
    let name = old.physical.clone().unwrap_or_default();
    if kind.name == "AWS::S3::BucketPolicy" {
        return ctx.call_gone_ok("s3", "DeleteBucketPolicy", json!({"Bucket": name})).await;
    }
    ctx.call_gone_ok("s3", "DeleteBucket", json!({"Bucket": name})).await
}
