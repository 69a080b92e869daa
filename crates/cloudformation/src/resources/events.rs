//! `AWS::Events::Rule`, `AWS::Events::EventBus`, `AWS::Scheduler::Schedule` and
//! `AWS::Scheduler::ScheduleGroup`, through EventBridge's and Scheduler's operations.

use serde_json::{json, Map, Value};

use super::{string, Ctx, Failed, Kind, Made};
use crate::stack::Resource;

/// A property that is JSON as an object in a template and a string on the wire.
fn json_text(v: &Value) -> Value {
    match v {
        Value::String(s) => json!(s),
        other => json!(other.to_string()),
    }
}

fn copy(from: &Value, to: &mut Map<String, Value>, keys: &[&str]) {
    for k in keys {
        if let Some(v) = from.get(*k) {
            to.insert((*k).to_owned(), v.clone());
        }
    }
}

/// A rule's targets as PutTargets takes them (its `Input` text, and the rest as given).
fn targets(props: &Value) -> Vec<Value> {
    let Some(Value::Array(ts)) = props.get("Targets") else { return Vec::new() };
    ts.iter()
        .map(|t| {
            let mut t = t.clone();
            if let Some(o) = t.as_object_mut() {
                if let Some(input) = o.get("Input").cloned() {
                    o.insert("Input".into(), json_text(&input));
                }
                if let Some(Value::Object(tr)) = o.get_mut("InputTransformer") {
                    if let Some(m) = tr.get("InputPathsMap").cloned() {
                        tr.insert("InputPathsMap".into(), m);
                    }
                }
            }
            t
        })
        .collect()
}

fn bus_of(props: &Value) -> Option<String> {
    props.get("EventBusName").map(string)
}

fn rule_made(ctx: &Ctx<'_>, name: &str, bus: Option<&str>) -> Made {
    let (physical, arn) = match bus.filter(|b| *b != "default") {
        Some(b) => {
            let b = b.rsplit('/').next().unwrap_or(b);
            (format!("{b}|{name}"), ctx.arn("events", &format!("rule/{b}/{name}")))
        }
        None => (name.to_owned(), ctx.arn("events", &format!("rule/{name}"))),
    };
    Made::new(physical, json!({ "Arn": arn }))
}

async fn put_rule(ctx: &Ctx<'_>, name: &str, props: &Value) -> Result<(), Failed> {
    let mut input = Map::new();
    input.insert("Name".into(), json!(name));
    copy(props, &mut input, &["EventBusName", "ScheduleExpression", "State", "Description", "RoleArn"]);
    if let Some(p) = props.get("EventPattern") {
        input.insert("EventPattern".into(), json_text(p));
    }
    ctx.call("events", "PutRule", Value::Object(input)).await?;
    Ok(())
}

async fn put_targets(ctx: &Ctx<'_>, name: &str, props: &Value) -> Result<(), Failed> {
    let targets = targets(props);
    if targets.is_empty() {
        return Ok(());
    }
    let mut input = json!({ "Rule": name, "Targets": targets });
    if let Some(b) = bus_of(props) {
        input["EventBusName"] = json!(b);
    }
    ctx.call("events", "PutTargets", input).await?;
    Ok(())
}

fn schedule_input(name: &str, props: &Value) -> Value {
    let mut input = Map::new();
    input.insert("Name".into(), json!(name));
    copy(
        props,
        &mut input,
        &[
            "GroupName",
            "ScheduleExpression",
            "ScheduleExpressionTimezone",
            "StartDate",
            "EndDate",
            "Description",
            "State",
            "KmsKeyArn",
            "FlexibleTimeWindow",
            "ActionAfterCompletion",
        ],
    );
    let mut target = props.get("Target").cloned().unwrap_or_else(|| json!({}));
    if let Some(input) = target.get("Input").cloned() {
        target["Input"] = json_text(&input);
    }
    input.insert("Target".into(), target);
    Value::Object(input)
}

fn schedule_made(ctx: &Ctx<'_>, name: &str, props: &Value) -> Made {
    let group = props.get("GroupName").map(string).unwrap_or_else(|| "default".into());
    Made::new(name, json!({ "Arn": ctx.arn("scheduler", &format!("schedule/{group}/{name}")) }))
}

pub(super) async fn create(kind: &Kind, ctx: &Ctx<'_>, props: &Value) -> Result<Made, Failed> {
    let name = props.get("Name").map(string).unwrap_or_default();
    match kind.name {
        "AWS::Events::EventBus" => {
            let mut input = Map::new();
            input.insert("Name".into(), json!(name));
            copy(
                props,
                &mut input,
                &["EventSourceName", "Description", "KmsKeyIdentifier", "DeadLetterConfig", "Tags"],
            );
            let out = ctx.call("events", "CreateEventBus", Value::Object(input)).await?;
            if let Some(policy) = props.get("Policy") {
                ctx.call("events", "PutPermission", json!({ "EventBusName": name, "Policy": json_text(policy) }))
                    .await?;
            }
            let arn = out.get("EventBusArn").cloned().unwrap_or_default();
            Ok(Made::new(name.clone(), json!({ "Arn": arn, "Name": name })))
        }
        "AWS::Events::Rule" => {
            put_rule(ctx, &name, props).await?;
            put_targets(ctx, &name, props).await?;
            Ok(rule_made(ctx, &name, bus_of(props).as_deref()))
        }
        "AWS::Scheduler::ScheduleGroup" => {
            let mut input = json!({ "Name": name });
            if let Some(t) = props.get("Tags") {
                input["Tags"] = t.clone();
            }
            let out = ctx.call("scheduler", "CreateScheduleGroup", input).await?;
            Ok(Made::new(
                name,
                json!({ "Arn": out.get("ScheduleGroupArn").cloned().unwrap_or_default(), "State": "ACTIVE" }),
            ))
        }
        _ => {
            ctx.call("scheduler", "CreateSchedule", schedule_input(&name, props)).await?;
            Ok(schedule_made(ctx, &name, props))
        }
    }
}

/// A resource's name, from its physical id (a rule on another bus is `bus|name`).
fn name_of(old: &Resource) -> String {
    let physical = old.physical.clone().unwrap_or_default();
    physical.rsplit('|').next().unwrap_or_default().to_owned()
}

pub(super) async fn update(kind: &Kind, ctx: &Ctx<'_>, old: &Resource, props: &Value) -> Result<Made, Failed> {
    let name = name_of(old);
    match kind.name {
        "AWS::Events::Rule" => {
            put_rule(ctx, &name, props).await?;
            let ids =
                |p: &Value| -> Vec<String> { targets(p).iter().filter_map(|t| t.get("Id").map(string)).collect() };
            let kept = ids(props);
            let gone: Vec<String> = ids(&old.properties).into_iter().filter(|i| !kept.contains(i)).collect();
            if !gone.is_empty() {
                let mut input = json!({ "Rule": name, "Ids": gone });
                if let Some(b) = bus_of(props) {
                    input["EventBusName"] = json!(b);
                }
                ctx.call("events", "RemoveTargets", input).await?;
            }
            put_targets(ctx, &name, props).await?;
            Ok(rule_made(ctx, &name, bus_of(props).as_deref()))
        }
        "AWS::Scheduler::Schedule" => {
            ctx.call("scheduler", "UpdateSchedule", schedule_input(&name, props)).await?;
            Ok(schedule_made(ctx, &name, props))
        }
        // A bus's policy and a group's tags are all that change in place.
        "AWS::Events::EventBus" => {
            if old.properties.get("Policy") != props.get("Policy") {
                let input = match props.get("Policy") {
                    Some(policy) => json!({ "EventBusName": name, "Policy": json_text(policy) }),
                    None => json!({ "EventBusName": name, "RemoveAllPermissions": true }),
                };
                let op = if props.get("Policy").is_some() { "PutPermission" } else { "RemovePermission" };
                ctx.call("events", op, input).await?;
            }
            Ok(Made { physical: name, attributes: old.attributes.clone() })
        }
        _ => Ok(Made { physical: old.physical.clone().unwrap_or_default(), attributes: old.attributes.clone() }),
    }
}

pub(super) async fn delete(kind: &Kind, ctx: &Ctx<'_>, old: &Resource) -> Result<(), Failed> {
    let props = &old.properties;
    let name = name_of(old);
    match kind.name {
        "AWS::Events::EventBus" => ctx.call_gone_ok("events", "DeleteEventBus", json!({ "Name": name })).await,
        "AWS::Events::Rule" => {
            let ids: Vec<String> = targets(props).iter().filter_map(|t| t.get("Id").map(string)).collect();
            let mut on_bus = json!({});
            if let Some(b) = bus_of(props) {
                on_bus["EventBusName"] = json!(b);
            }
            if !ids.is_empty() {
                let mut input = json!({ "Rule": name, "Ids": ids, "Force": true });
                input.as_object_mut().expect("an object").extend(on_bus.as_object().cloned().unwrap_or_default());
                ctx.call_gone_ok("events", "RemoveTargets", input).await?;
            }
            let mut input = json!({ "Name": name, "Force": true });
            input.as_object_mut().expect("an object").extend(on_bus.as_object().cloned().unwrap_or_default());
            ctx.call_gone_ok("events", "DeleteRule", input).await
        }
        "AWS::Scheduler::ScheduleGroup" => {
            ctx.call_gone_ok("scheduler", "DeleteScheduleGroup", json!({ "Name": name })).await
        }
        _ => {
            let mut input = json!({ "Name": name });
            if let Some(g) = props.get("GroupName") {
                input["GroupName"] = g.clone();
            }
            ctx.call_gone_ok("scheduler", "DeleteSchedule", input).await
        }
    }
}
