//! `AWS::DynamoDB::Table` and `AWS::Kinesis::Stream`, through DynamoDB's and Kinesis's
//! operations: a table with its indexes, stream, TTL and tags, changed in place where
//! UpdateTable can (billing, throughput, indexes added and removed, the stream); a stream
//! with its shard count and retention.

use serde_json::{json, Map, Value};

use super::{boolean, int, string, tag_map, Ctx, Failed, Kind, Made};
use crate::stack::Resource;

fn throughput(v: Option<&Value>) -> Option<Value> {
    let t = v?;
    Some(json!({
        "ReadCapacityUnits": int(t.get("ReadCapacityUnits")).unwrap_or(0),
        "WriteCapacityUnits": int(t.get("WriteCapacityUnits")).unwrap_or(0),
    }))
}

fn index(v: &Value) -> Value {
    let mut out = Map::new();
    for k in ["IndexName", "KeySchema", "Projection"] {
        if let Some(x) = v.get(k) {
            out.insert(k.into(), x.clone());
        }
    }
    if let Some(t) = throughput(v.get("ProvisionedThroughput")) {
        out.insert("ProvisionedThroughput".into(), t);
    }
    Value::Object(out)
}

fn stream_spec(props: &Value) -> Option<Value> {
    let view = props.get("StreamSpecification")?.get("StreamViewType").map(string)?;
    Some(json!({ "StreamEnabled": true, "StreamViewType": view }))
}

fn tags(props: &Value) -> Vec<Value> {
    tag_map(props.get("Tags")).into_iter().map(|(k, v)| json!({ "Key": k, "Value": v })).collect()
}

async fn table_attributes(ctx: &Ctx<'_>, name: &str) -> Result<Made, Failed> {
    let t = ctx.call("dynamodb", "DescribeTable", json!({ "TableName": name })).await?;
    let mut attrs = json!({ "Arn": t["Table"]["TableArn"] });
    if let Some(s) = t["Table"].get("LatestStreamArn").filter(|_| t["Table"].get("StreamSpecification").is_some()) {
        attrs["StreamArn"] = s.clone();
    }
    Ok(Made::new(name, attrs))
}

async fn ttl(ctx: &Ctx<'_>, name: &str, props: &Value, before: Option<&Value>) -> Result<(), Failed> {
    let spec = |p: Option<&Value>| {
        p.and_then(|p| p.get("TimeToLiveSpecification")).map(|t| {
            (t.get("AttributeName").map(string).unwrap_or_default(), boolean(t.get("Enabled")).unwrap_or(false))
        })
    };
    let (now, was) = (spec(Some(props)), spec(before));
    if now == was {
        return Ok(());
    }
    let (attr, enabled) = match (&now, &was) {
        (Some((a, e)), _) => (a.clone(), *e),
        (None, Some((a, true))) => (a.clone(), false),
        _ => return Ok(()),
    };
    if !enabled && !matches!(was, Some((_, true))) {
        return Ok(());
    }
    let input = json!({ "TableName": name, "TimeToLiveSpecification": { "AttributeName": attr, "Enabled": enabled } });
    ctx.call("dynamodb", "UpdateTimeToLive", input).await?;
    Ok(())
}

async fn create_table(ctx: &Ctx<'_>, props: &Value) -> Result<Made, Failed> {
    let name = props.get("TableName").map(string).unwrap_or_default();
    let mut input = json!({
        "TableName": name,
        "AttributeDefinitions": props.get("AttributeDefinitions").cloned().unwrap_or(json!([])),
        "KeySchema": props.get("KeySchema").cloned().unwrap_or(json!([])),
        "BillingMode": props.get("BillingMode").map(string).unwrap_or_else(|| "PROVISIONED".into()),
    });
    if let Some(t) = throughput(props.get("ProvisionedThroughput")) {
        input["ProvisionedThroughput"] = t;
    }
    for (key, wire) in
        [("GlobalSecondaryIndexes", "GlobalSecondaryIndexes"), ("LocalSecondaryIndexes", "LocalSecondaryIndexes")]
    {
        if let Some(Value::Array(list)) = props.get(key) {
            input[wire] = Value::Array(list.iter().map(index).collect());
        }
    }
    if let Some(s) = stream_spec(props) {
        input["StreamSpecification"] = s;
    }
    if let Some(sse) = props.get("SSESpecification") {
        let mut spec = json!({ "Enabled": boolean(sse.get("SSEEnabled")).unwrap_or(false) });
        if let Some(t) = sse.get("SSEType") {
            spec["SSEType"] = json!(string(t));
        }
        if let Some(k) = sse.get("KMSMasterKeyId") {
            spec["KMSMasterKeyId"] = json!(string(k));
        }
        input["SSESpecification"] = spec;
    }
    for key in ["TableClass"] {
        if let Some(v) = props.get(key) {
            input[key] = json!(string(v));
        }
    }
    if let Some(d) = boolean(props.get("DeletionProtectionEnabled")) {
        input["DeletionProtectionEnabled"] = json!(d);
    }
    let t = tags(props);
    if !t.is_empty() {
        input["Tags"] = Value::Array(t);
    }
    ctx.call("dynamodb", "CreateTable", input).await?;
    ttl(ctx, &name, props, None).await?;
    if let Some(p) = props.get("PointInTimeRecoverySpecification") {
        let on = boolean(p.get("PointInTimeRecoveryEnabled")).unwrap_or(false);
        let input =
            json!({ "TableName": name, "PointInTimeRecoverySpecification": { "PointInTimeRecoveryEnabled": on } });
        ctx.call("dynamodb", "UpdateContinuousBackups", input).await?;
    }
    table_attributes(ctx, &name).await
}

async fn update_table(ctx: &Ctx<'_>, old: &Resource, props: &Value) -> Result<Made, Failed> {
    let name = old.physical.clone().unwrap_or_default();
    let before = &old.properties;
    let mut input = Map::new();
    let billing = props.get("BillingMode").map(string).unwrap_or_else(|| "PROVISIONED".into());
    let old_billing = before.get("BillingMode").map(string).unwrap_or_else(|| "PROVISIONED".into());
    if billing != old_billing {
        input.insert("BillingMode".into(), json!(billing));
    }
    let t = throughput(props.get("ProvisionedThroughput"));
    if t.is_some() && t != throughput(before.get("ProvisionedThroughput")) {
        input.insert("ProvisionedThroughput".into(), t.unwrap_or_default());
    }
    let names = |p: &Value| -> Vec<(String, Value)> {
        p.get("GlobalSecondaryIndexes")
            .and_then(Value::as_array)
            .map(|l| l.iter().map(|i| (i.get("IndexName").map(string).unwrap_or_default(), i.clone())).collect())
            .unwrap_or_default()
    };
    let (now, was) = (names(props), names(before));
    let mut updates = Vec::new();
    for (n, _) in &was {
        if !now.iter().any(|(m, _)| m == n) {
            updates.push(json!({ "Delete": { "IndexName": n } }));
        }
    }
    for (n, i) in &now {
        if !was.iter().any(|(m, _)| m == n) {
            updates.push(json!({ "Create": index(i) }));
        }
    }
    if !updates.is_empty() {
        input.insert("GlobalSecondaryIndexUpdates".into(), Value::Array(updates));
        input.insert("AttributeDefinitions".into(), props.get("AttributeDefinitions").cloned().unwrap_or(json!([])));
    }
    let (stream, old_stream) = (stream_spec(props), stream_spec(before));
    if stream != old_stream {
        if old_stream.is_some() {
            let off = json!({ "TableName": name, "StreamSpecification": { "StreamEnabled": false } });
            ctx.call("dynamodb", "UpdateTable", off).await?;
        }
        if let Some(s) = stream {
            input.insert("StreamSpecification".into(), s);
        }
    }
    if boolean(props.get("DeletionProtectionEnabled")) != boolean(before.get("DeletionProtectionEnabled")) {
        input.insert(
            "DeletionProtectionEnabled".into(),
            json!(boolean(props.get("DeletionProtectionEnabled")).unwrap_or(false)),
        );
    }
    if !input.is_empty() {
        input.insert("TableName".into(), json!(name));
        ctx.call("dynamodb", "UpdateTable", Value::Object(input)).await?;
    }
    ttl(ctx, &name, props, Some(before)).await?;
    let arn = ctx.arn("dynamodb", &format!("table/{name}"));
    let (new_tags, old_tags) = (tag_map(props.get("Tags")), tag_map(before.get("Tags")));
    let gone: Vec<&String> = old_tags.keys().filter(|k| !new_tags.contains_key(*k)).collect();
    if !gone.is_empty() {
        ctx.call("dynamodb", "UntagResource", json!({ "ResourceArn": arn, "TagKeys": gone })).await?;
    }
    if new_tags != old_tags && !new_tags.is_empty() {
        ctx.call("dynamodb", "TagResource", json!({ "ResourceArn": arn, "Tags": tags(props) })).await?;
    }
    table_attributes(ctx, &name).await
}

async fn create_stream(ctx: &Ctx<'_>, props: &Value) -> Result<Made, Failed> {
    let name = props.get("Name").map(string).unwrap_or_default();
    let mut input = json!({ "StreamName": name });
    let mode = props.get("StreamModeDetails").and_then(|m| m.get("StreamMode")).map(string);
    match &mode {
        Some(m) if m == "ON_DEMAND" => input["StreamModeDetails"] = json!({ "StreamMode": "ON_DEMAND" }),
        _ => input["ShardCount"] = json!(int(props.get("ShardCount")).unwrap_or(1)),
    }
    let t = tag_map(props.get("Tags"));
    if !t.is_empty() {
        input["Tags"] = Value::Object(t);
    }
    ctx.call("kinesis", "CreateStream", input).await?;
    if let Some(h) = int(props.get("RetentionPeriodHours")).filter(|h| *h > 24) {
        ctx.call("kinesis", "IncreaseStreamRetentionPeriod", json!({ "StreamName": name, "RetentionPeriodHours": h }))
            .await?;
    }
    if let Some(key) = props.get("StreamEncryption").and_then(|e| e.get("KeyId")).map(string) {
        ctx.call(
            "kinesis",
            "StartStreamEncryption",
            json!({ "StreamName": name, "EncryptionType": "KMS", "KeyId": key }),
        )
        .await?;
    }
    Ok(Made::new(name.clone(), json!({ "Arn": ctx.arn("kinesis", &format!("stream/{name}")) })))
}

async fn update_stream(ctx: &Ctx<'_>, old: &Resource, props: &Value) -> Result<Made, Failed> {
    let name = old.physical.clone().unwrap_or_default();
    let before = &old.properties;
    if let (Some(now), was) = (int(props.get("ShardCount")), int(before.get("ShardCount"))) {
        if Some(now) != was {
            let input = json!({ "StreamName": name, "TargetShardCount": now, "ScalingType": "UNIFORM_SCALING" });
            ctx.call("kinesis", "UpdateShardCount", input).await?;
        }
    }
    let (now, was) =
        (int(props.get("RetentionPeriodHours")).unwrap_or(24), int(before.get("RetentionPeriodHours")).unwrap_or(24));
    if now != was {
        let op = if now > was { "IncreaseStreamRetentionPeriod" } else { "DecreaseStreamRetentionPeriod" };
        ctx.call("kinesis", op, json!({ "StreamName": name, "RetentionPeriodHours": now })).await?;
    }
    let (new_tags, old_tags) = (tag_map(props.get("Tags")), tag_map(before.get("Tags")));
    let gone: Vec<&String> = old_tags.keys().filter(|k| !new_tags.contains_key(*k)).collect();
    if !gone.is_empty() {
        ctx.call("kinesis", "RemoveTagsFromStream", json!({ "StreamName": name, "TagKeys": gone })).await?;
    }
    if new_tags != old_tags && !new_tags.is_empty() {
        ctx.call("kinesis", "AddTagsToStream", json!({ "StreamName": name, "Tags": new_tags })).await?;
    }
    Ok(Made::new(name.clone(), json!({ "Arn": ctx.arn("kinesis", &format!("stream/{name}")) })))
}

pub(super) async fn create(kind: &Kind, ctx: &Ctx<'_>, props: &Value) -> Result<Made, Failed> {
    match kind.name {
        "AWS::DynamoDB::Table" => create_table(ctx, props).await,
        _ => create_stream(ctx, props).await,
    }
}

pub(super) async fn update(kind: &Kind, ctx: &Ctx<'_>, old: &Resource, props: &Value) -> Result<Made, Failed> {
    match kind.name {
        "AWS::DynamoDB::Table" => update_table(ctx, old, props).await,
        _ => update_stream(ctx, old, props).await,
    }
}

pub(super) async fn delete(kind: &Kind, ctx: &Ctx<'_>, old: &Resource) -> Result<(), Failed> {
    let name = old.physical.as_deref().unwrap_or_default();
    match kind.name {
        "AWS::DynamoDB::Table" => ctx.call_gone_ok("dynamodb", "DeleteTable", json!({ "TableName": name })).await,
        _ => ctx.call_gone_ok("kinesis", "DeleteStream", json!({ "StreamName": name })).await,
    }
}
