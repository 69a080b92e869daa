//! EventBridge Scheduler (rest-json: `/schedules/{Name}`, `/schedule-groups/{Name}`,
//! `/tags/{ResourceArn}`), routed by the model's HTTP bindings; `/tags/…` is shared with
//! API Gateway and told apart by the signature's scope. This module turns input trees into
//! service calls and results into output trees.

use std::collections::BTreeMap;

use axum::extract::{Request, State};
use axum::response::Response;
use events::{
    Caller, EventsService, FlexibleWindow, RetryPolicy, ScheduleInput, ScheduleRecord, ScheduleTarget, SchedulerError,
};
use protocol::{Output, Protocol, ServiceError};
use serde_json::{json, Map, Value};

use crate::events_api::{owned, s, secs, tags_of};
use crate::{ingress, ApiState, RequestId};

/// The operations served.
pub(crate) const OPERATIONS: &[&str] = &[
    "CreateSchedule",
    "GetSchedule",
    "UpdateSchedule",
    "DeleteSchedule",
    "ListSchedules",
    "CreateScheduleGroup",
    "GetScheduleGroup",
    "DeleteScheduleGroup",
    "ListScheduleGroups",
    "TagResource",
    "UntagResource",
    "ListTagsForResource",
];

const MAX_BODY: usize = 1024 * 1024;

/// A Scheduler error as the protocol layer writes it; the one place they are mapped.
pub(crate) fn service_error(e: &SchedulerError) -> ServiceError {
    match e {
        SchedulerError::Validation(m) => ServiceError::new("ValidationException", m),
        SchedulerError::NotFound(m) => ServiceError::new("ResourceNotFoundException", m).status(404),
        SchedulerError::Conflict(m) => ServiceError::new("ConflictException", m).status(409),
        SchedulerError::Internal(m) => ServiceError::new("InternalServerException", m).status(500),
    }
}

/// Every request to Scheduler.
pub(crate) async fn handle(State(s): State<ApiState>, req: Request) -> Response {
    let request_id = req.extensions().get::<RequestId>().map(|r| r.0.clone()).unwrap_or_default();
    let fail = |e: &ServiceError| ingress::error("scheduler", Protocol::RestJson, e, &request_id);
    let (parts, body) = req.into_parts();
    let Some(body) = ingress::read_body(&parts, body, MAX_BODY).await else {
        return fail(&ServiceError::new("ValidationException", "The request is larger than the service accepts."));
    };
    let (model, input) = match ingress::read("scheduler", Protocol::RestJson, &parts, body, OPERATIONS) {
        Ok(read) => read,
        Err(e) => return fail(&e),
    };
    let caller = s.callers.caller(&parts);
    let (events, op, value) = (s.events.clone(), input.operation.clone(), input.value);
    let ran = tokio::task::spawn_blocking(move || run(&events, &caller, &op, &value)).await;
    let result = ran.unwrap_or_else(|e| Err(SchedulerError::Internal(format!("the operation stopped: {e}"))));
    match result {
        Ok(v) => {
            ingress::to_response(model.respond(Protocol::RestJson, &input.operation, Output::new(v), &request_id), None)
        }
        Err(e) => fail(&service_error(&e)),
    }
}

fn ms_of(v: &Value, key: &str) -> Option<i64> {
    v.get(key).and_then(protocol::timestamp::seconds_of).map(|s| (s * 1000.0) as i64)
}

/// Members of a target Lamina keeps and answers back without acting on them.
const OTHER_TARGET_MEMBERS: &[&str] = &["EcsParameters", "KinesisParameters", "SageMakerPipelineParameters"];

fn schedule_input(v: &Value) -> ScheduleInput {
    let t = v.get("Target").cloned().unwrap_or_default();
    let window = v.get("FlexibleTimeWindow").cloned().unwrap_or_default();
    let target = ScheduleTarget {
        arn: owned(&t, "Arn").unwrap_or_default(),
        role_arn: owned(&t, "RoleArn").unwrap_or_default(),
        input: owned(&t, "Input"),
        retry_policy: t.get("RetryPolicy").map(|r| RetryPolicy {
            max_attempts: r.get("MaximumRetryAttempts").and_then(Value::as_u64).map(|n| n as u32),
            max_age_s: r.get("MaximumEventAgeInSeconds").and_then(Value::as_u64).map(|n| n as u32),
        }),
        dead_letter_arn: t.get("DeadLetterConfig").and_then(|d| owned(d, "Arn")),
        message_group_id: t.get("SqsParameters").and_then(|p| owned(p, "MessageGroupId")),
        event: t.get("EventBridgeParameters").and_then(|p| Some((owned(p, "DetailType")?, owned(p, "Source")?))),
        other: OTHER_TARGET_MEMBERS
            .iter()
            .filter_map(|m| t.get(*m).map(|v| ((*m).to_owned(), v.to_string())))
            .collect(),
    };
    ScheduleInput {
        name: owned(v, "Name").unwrap_or_default(),
        group: owned(v, "GroupName"),
        expression: owned(v, "ScheduleExpression").unwrap_or_default(),
        timezone: owned(v, "ScheduleExpressionTimezone"),
        start_ms: ms_of(v, "StartDate"),
        end_ms: ms_of(v, "EndDate"),
        description: owned(v, "Description"),
        state: owned(v, "State"),
        kms_key: owned(v, "KmsKeyArn"),
        window: FlexibleWindow {
            flexible: s(&window, "Mode") == Some("FLEXIBLE"),
            max_minutes: window.get("MaximumWindowInMinutes").and_then(Value::as_u64).map(|n| n as u32),
        },
        after_completion: owned(v, "ActionAfterCompletion"),
        target,
    }
}

fn schedule_json(r: &ScheduleRecord) -> Value {
    let t = &r.target;
    let mut target = Map::new();
    target.insert("Arn".into(), json!(t.arn));
    target.insert("RoleArn".into(), json!(t.role_arn));
    if let Some(i) = &t.input {
        target.insert("Input".into(), json!(i));
    }
    let retry = t.retry_policy.unwrap_or(RetryPolicy { max_attempts: None, max_age_s: None });
    target.insert(
        "RetryPolicy".into(),
        json!({
            "MaximumEventAgeInSeconds": retry.max_age_s.unwrap_or(86_400),
            "MaximumRetryAttempts": retry.max_attempts.unwrap_or(185),
        }),
    );
    if let Some(d) = &t.dead_letter_arn {
        target.insert("DeadLetterConfig".into(), json!({ "Arn": d }));
    }
    if let Some(g) = &t.message_group_id {
        target.insert("SqsParameters".into(), json!({ "MessageGroupId": g }));
    }
    if let Some((detail_type, source)) = &t.event {
        target.insert("EventBridgeParameters".into(), json!({ "DetailType": detail_type, "Source": source }));
    }
    for (k, v) in &t.other {
        if let Ok(v) = serde_json::from_str::<Value>(v) {
            target.insert(k.clone(), v);
        }
    }
    let mut out = Map::new();
    out.insert("ActionAfterCompletion".into(), json!(r.after_completion));
    out.insert("Arn".into(), json!(r.arn()));
    out.insert("CreationDate".into(), secs(r.created_ms));
    if let Some(d) = &r.description {
        out.insert("Description".into(), json!(d));
    }
    if let Some(e) = r.end_ms {
        out.insert("EndDate".into(), secs(e));
    }
    let mut window = json!({ "Mode": if r.window.flexible { "FLEXIBLE" } else { "OFF" } });
    if let Some(m) = r.window.max_minutes {
        window["MaximumWindowInMinutes"] = json!(m);
    }
    out.insert("FlexibleTimeWindow".into(), window);
    out.insert("GroupName".into(), json!(r.group));
    if let Some(k) = &r.kms_key {
        out.insert("KmsKeyArn".into(), json!(k));
    }
    out.insert("LastModificationDate".into(), secs(r.modified_ms));
    out.insert("Name".into(), json!(r.name));
    out.insert("ScheduleExpression".into(), json!(r.expression));
    out.insert("ScheduleExpressionTimezone".into(), json!(r.timezone.as_deref().unwrap_or("UTC")));
    if let Some(st) = r.start_ms {
        out.insert("StartDate".into(), secs(st));
    }
    out.insert("State".into(), json!(r.state));
    out.insert("Target".into(), Value::Object(target));
    Value::Object(out)
}

fn group_json(g: &events::GroupRecord) -> Value {
    json!({
        "Arn": g.arn(),
        "CreationDate": secs(g.created_ms),
        "LastModificationDate": secs(g.modified_ms),
        "Name": g.name,
        "State": "ACTIVE",
    })
}

fn page<T>(items: Vec<T>, input: &Value) -> Result<(Vec<T>, Option<String>), SchedulerError> {
    crate::events_api::page(items, input, "MaxResults")
        .ok_or_else(|| SchedulerError::Validation("Invalid NextToken.".into()))
}

fn with_next(mut out: Value, next: Option<String>) -> Value {
    if let Some(n) = next {
        out["NextToken"] = json!(n);
    }
    out
}

/// Runs one operation.
pub(crate) fn run(events: &EventsService, caller: &Caller, op: &str, input: &Value) -> Result<Value, SchedulerError> {
    let name = s(input, "Name").unwrap_or_default();
    Ok(match op {
        "CreateSchedule" => json!({ "ScheduleArn": events.create_schedule(caller, schedule_input(input))? }),
        "UpdateSchedule" => json!({ "ScheduleArn": events.update_schedule(caller, schedule_input(input))? }),
        "GetSchedule" => schedule_json(&events.schedule(caller, name, s(input, "GroupName"))?),
        "DeleteSchedule" => {
            events.delete_schedule(caller, name, s(input, "GroupName"))?;
            json!({})
        }
        "ListSchedules" => {
            let all = events.schedules(caller, s(input, "GroupName"), s(input, "NamePrefix"), s(input, "State"));
            let (items, next) = page(all, input)?;
            let items: Vec<Value> = items
                .iter()
                .map(|r| {
                    json!({
                        "Arn": r.arn(),
                        "CreationDate": secs(r.created_ms),
                        "GroupName": r.group,
                        "LastModificationDate": secs(r.modified_ms),
                        "Name": r.name,
                        "State": r.state,
                        "Target": { "Arn": r.target.arn },
                    })
                })
                .collect();
            with_next(json!({ "Schedules": items }), next)
        }
        "CreateScheduleGroup" => json!({ "ScheduleGroupArn": events.create_group(caller, name, tags_of(input))? }),
        "GetScheduleGroup" => group_json(&events.group(caller, name)?),
        "DeleteScheduleGroup" => {
            events.delete_group(caller, name)?;
            json!({})
        }
        "ListScheduleGroups" => {
            let (items, next) = page(events.groups(caller, s(input, "NamePrefix")), input)?;
            with_next(json!({ "ScheduleGroups": items.iter().map(group_json).collect::<Vec<_>>() }), next)
        }
        "TagResource" | "UntagResource" | "ListTagsForResource" => {
            let arn = s(input, "ResourceArn").unwrap_or_default();
            let keys: Vec<String> = input
                .get("TagKeys")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
                .unwrap_or_default();
            let tags = match op {
                "TagResource" => events.change_group_tags(caller, arn, tags_of(input), &[])?,
                "UntagResource" => events.change_group_tags(caller, arn, BTreeMap::new(), &keys)?,
                _ => events.group_tags(caller, arn)?,
            };
            if op == "ListTagsForResource" {
                json!({ "Tags": tags.iter().map(|(k, v)| json!({ "Key": k, "Value": v })).collect::<Vec<_>>() })
            } else {
                json!({})
            }
        }
        other => return Err(SchedulerError::Validation(format!("The operation {other} is not supported."))),
    })
}
