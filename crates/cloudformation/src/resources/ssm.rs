//! `AWS::SSM::Parameter`.

use serde_json::{json, Value};

use super::{string, Ctx, Failed, Kind, Made};
use crate::stack::Resource;

async fn put(ctx: &Ctx<'_>, name: &str, props: &Value, overwrite: bool) -> Result<Made, Failed> {
    let kind = props.get("Type").map(string).unwrap_or_else(|| "String".into());
    if kind == "SecureString" {
        return Err(Failed::invalid(
            "SecureString parameters cannot be created with CloudFormation; use the String or StringList type",
        ));
    }
    let value = props.get("Value").map(string).unwrap_or_default();
    let mut input = json!({"Name": name, "Value": value, "Type": kind, "Overwrite": overwrite});
    for key in ["Description", "AllowedPattern", "Tier", "DataType", "Policies"] {
        if let Some(v) = props.get(key) {
            input[key] = Value::String(string(v));
        }
    }
    if !overwrite {
        if let Some(Value::Object(tags)) = props.get("Tags") {
            input["Tags"] = tags.iter().map(|(k, v)| json!({"Key": k, "Value": string(v)})).collect();
        }
    }
    ctx.call("ssm", "PutParameter", input).await?;
    Ok(Made::new(name, json!({"Type": kind, "Value": value})))
}

pub(super) async fn create(_: &Kind, ctx: &Ctx<'_>, props: &Value) -> Result<Made, Failed> {
    let name = match props.get("Name") {
        Some(n) => string(n),
        None => format!("CFN-{}-{}", ctx.logical, super::suffix()),
    };
    put(ctx, &name, props, false).await
}

pub(super) async fn update(_: &Kind, ctx: &Ctx<'_>, old: &Resource, props: &Value) -> Result<Made, Failed> {
    let name = old.physical.as_deref().unwrap_or_default();
    let made = put(ctx, name, props, true).await?;
    let tags = |v: &Value| v.get("Tags").and_then(Value::as_object).cloned().unwrap_or_default();
    let (before, after) = (tags(&old.properties), tags(props));
    let gone: Vec<&String> = before.keys().filter(|k| !after.contains_key(*k)).collect();
    if !gone.is_empty() {
        let input = json!({"ResourceType": "Parameter", "ResourceId": name, "TagKeys": gone});
        ctx.call("ssm", "RemoveTagsFromResource", input).await?;
    }
    if !after.is_empty() && before != after {
        let list: Vec<Value> = after.iter().map(|(k, v)| json!({"Key": k, "Value": string(v)})).collect();
        ctx.call("ssm", "AddTagsToResource", json!({"ResourceType": "Parameter", "ResourceId": name, "Tags": list}))
            .await?;
    }
    Ok(made)
}

pub(super) async fn delete(_: &Kind, ctx: &Ctx<'_>, old: &Resource) -> Result<(), Failed> {
    ctx.call_gone_ok("ssm", "DeleteParameter", json!({"Name": old.physical.as_deref().unwrap_or_default()})).await
}
