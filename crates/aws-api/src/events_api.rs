//! EventBridge (json 1.1 protocol, `X-Amz-Target: AWSEvents.<Operation>`). The protocol
//! layer reads and checks the input against EventBridge's model and writes the answer;
//! this module turns input trees into service calls and results into output trees.
//! Archives, replays, connections, API destinations and endpoints are not served: their
//! operations answer that Lamina does not support them.

use std::collections::BTreeMap;

use events::{
    Caller, Entry, EntryResult, EventsError, EventsService, FailedTarget, HttpParameters, InputTransformer,
    RetryPolicy, RuleInput, RuleRecord, Target,
};
use protocol::ServiceError;
use serde_json::{json, Map, Value};

/// The operations served.
pub(crate) const OPERATIONS: &[&str] = &[
    "CreateEventBus",
    "DescribeEventBus",
    "ListEventBuses",
    "DeleteEventBus",
    "UpdateEventBus",
    "PutPermission",
    "RemovePermission",
    "PutRule",
    "DescribeRule",
    "ListRules",
    "EnableRule",
    "DisableRule",
    "DeleteRule",
    "PutTargets",
    "RemoveTargets",
    "ListTargetsByRule",
    "ListRuleNamesByTarget",
    "PutEvents",
    "TestEventPattern",
    "TagResource",
    "UntagResource",
    "ListTagsForResource",
];

/// The largest request body read: PutEvents' 256 KB of entries, with room for JSON.
pub(crate) const MAX_BODY: usize = 1024 * 1024;

/// An EventBridge error as the protocol layer writes it; the one place they are mapped.
pub(crate) fn service_error(e: &EventsError) -> ServiceError {
    let code = match e {
        EventsError::Validation(_) => "ValidationException",
        EventsError::NotFound(_) => "ResourceNotFoundException",
        EventsError::AlreadyExists(_) => "ResourceAlreadyExistsException",
        EventsError::InvalidPattern(_) => "InvalidEventPatternException",
        EventsError::LimitExceeded(_) => "LimitExceededException",
        EventsError::AccessDenied(_) => "AccessDeniedException",
        EventsError::ManagedRule(_) => "ManagedRuleException",
        EventsError::Disabled(_) => "OperationDisabledException",
        EventsError::Internal(_) => "InternalException",
    };
    let out = ServiceError::new(code, e.to_string());
    if matches!(e, EventsError::Internal(_)) {
        out.status(500)
    } else {
        out
    }
}

/// A string member of an input tree.
pub(crate) fn s<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// A string member of an input tree, owned.
pub(crate) fn owned(v: &Value, key: &str) -> Option<String> {
    s(v, key).map(str::to_owned)
}

/// A timestamp of the output tree: seconds.
pub(crate) fn secs(ms: i64) -> Value {
    json!(ms as f64 / 1000.0)
}

/// `Tags` as a list of `Key`/`Value` pairs, as a map.
pub(crate) fn tags_of(v: &Value) -> BTreeMap<String, String> {
    v.get("Tags")
        .and_then(Value::as_array)
        .map(|tags| {
            tags.iter()
                .filter_map(|t| Some((s(t, "Key")?.to_owned(), s(t, "Value").unwrap_or_default().to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

/// A page of `items`: `limit_key` of them from where `NextToken` says; the token of the
/// next page (opaque, as AWS's are) when there is one. `None` for a token not ours.
pub(crate) fn page<T>(items: Vec<T>, input: &Value, limit_key: &str) -> Option<(Vec<T>, Option<String>)> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let start = match s(input, "NextToken") {
        Some(t) => {
            let raw = b64.decode(t).ok()?;
            String::from_utf8(raw).ok()?.strip_prefix("lamina-page/")?.parse::<usize>().ok()?
        }
        None => 0,
    };
    let limit = input.get(limit_key).and_then(Value::as_u64).map_or(usize::MAX, |l| l as usize);
    let total = items.len();
    let taken: Vec<T> = items.into_iter().skip(start).take(limit).collect();
    let end = start.saturating_add(taken.len());
    let next = (end < total).then(|| b64.encode(format!("lamina-page/{end}")));
    Some((taken, next))
}

fn paged<T>(items: Vec<T>, input: &Value) -> Result<(Vec<T>, Option<String>), ServiceError> {
    page(items, input, "Limit")
        .ok_or_else(|| ServiceError::new("ValidationException", "The nextToken provided is invalid."))
}

fn bus_json(b: &events::BusRecord, full: bool) -> Value {
    let mut out = Map::new();
    out.insert("Name".into(), json!(b.name));
    out.insert("Arn".into(), json!(b.arn()));
    if let Some(d) = &b.description {
        out.insert("Description".into(), json!(d));
    }
    if full {
        if let Some(k) = &b.kms_key {
            out.insert("KmsKeyIdentifier".into(), json!(k));
        }
        if let Some(d) = &b.dead_letter_arn {
            out.insert("DeadLetterConfig".into(), json!({ "Arn": d }));
        }
    }
    if let Some(p) = &b.policy {
        out.insert("Policy".into(), json!(p));
    }
    out.insert("CreationTime".into(), secs(b.created_ms));
    out.insert("LastModifiedTime".into(), secs(b.modified_ms));
    Value::Object(out)
}

fn rule_json(r: &RuleRecord, describe: bool) -> Value {
    let mut out = Map::new();
    out.insert("Name".into(), json!(r.name));
    out.insert("Arn".into(), json!(r.arn()));
    if let Some(p) = &r.pattern {
        out.insert("EventPattern".into(), json!(p));
    }
    if let Some(x) = &r.schedule {
        out.insert("ScheduleExpression".into(), json!(x));
    }
    out.insert("State".into(), json!(r.state));
    if let Some(d) = &r.description {
        out.insert("Description".into(), json!(d));
    }
    if let Some(role) = &r.role_arn {
        out.insert("RoleArn".into(), json!(role));
    }
    if let Some(m) = &r.managed_by {
        out.insert("ManagedBy".into(), json!(m));
    }
    out.insert("EventBusName".into(), json!(r.bus));
    if describe {
        out.insert("CreatedBy".into(), json!(r.account));
    }
    Value::Object(out)
}

/// Members of a target Lamina keeps and answers back without acting on them.
const OTHER_TARGET_MEMBERS: &[&str] = &[
    "KinesisParameters",
    "RunCommandParameters",
    "EcsParameters",
    "BatchParameters",
    "RedshiftDataParameters",
    "SageMakerPipelineParameters",
    "AppSyncParameters",
];

fn target_of(t: &Value) -> Target {
    let transformer = t.get("InputTransformer").map(|tr| InputTransformer {
        paths: tr
            .get("InputPathsMap")
            .and_then(Value::as_object)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned())).collect())
            .unwrap_or_default(),
        template: owned(tr, "InputTemplate").unwrap_or_default(),
    });
    let retry = t.get("RetryPolicy").map(|r| RetryPolicy {
        max_attempts: r.get("MaximumRetryAttempts").and_then(Value::as_u64).map(|n| n as u32),
        max_age_s: r.get("MaximumEventAgeInSeconds").and_then(Value::as_u64).map(|n| n as u32),
    });
    let http = t.get("HttpParameters").map(|h| {
        let map = |key: &str| -> BTreeMap<String, String> {
            h.get(key)
                .and_then(Value::as_object)
                .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned())).collect())
                .unwrap_or_default()
        };
        HttpParameters {
            path_values: h
                .get("PathParameterValues")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
                .unwrap_or_default(),
            headers: map("HeaderParameters"),
            query: map("QueryStringParameters"),
        }
    });
    Target {
        id: owned(t, "Id").unwrap_or_default(),
        arn: owned(t, "Arn").unwrap_or_default(),
        role_arn: owned(t, "RoleArn"),
        input: owned(t, "Input"),
        input_path: owned(t, "InputPath"),
        input_transformer: transformer,
        retry_policy: retry,
        dead_letter_arn: t.get("DeadLetterConfig").and_then(|d| owned(d, "Arn")),
        message_group_id: t.get("SqsParameters").and_then(|p| owned(p, "MessageGroupId")),
        http,
        other: OTHER_TARGET_MEMBERS
            .iter()
            .filter_map(|m| t.get(*m).map(|v| ((*m).to_owned(), v.to_string())))
            .collect(),
    }
}

fn target_json(t: &Target) -> Value {
    let mut out = Map::new();
    out.insert("Id".into(), json!(t.id));
    out.insert("Arn".into(), json!(t.arn));
    if let Some(r) = &t.role_arn {
        out.insert("RoleArn".into(), json!(r));
    }
    if let Some(i) = &t.input {
        out.insert("Input".into(), json!(i));
    }
    if let Some(p) = &t.input_path {
        out.insert("InputPath".into(), json!(p));
    }
    if let Some(tr) = &t.input_transformer {
        let mut m = Map::new();
        if !tr.paths.is_empty() {
            let paths: Map<String, Value> = tr.paths.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
            m.insert("InputPathsMap".into(), Value::Object(paths));
        }
        m.insert("InputTemplate".into(), json!(tr.template));
        out.insert("InputTransformer".into(), Value::Object(m));
    }
    if let Some(g) = &t.message_group_id {
        out.insert("SqsParameters".into(), json!({ "MessageGroupId": g }));
    }
    if let Some(h) = &t.http {
        let mut m = Map::new();
        if !h.path_values.is_empty() {
            m.insert("PathParameterValues".into(), json!(h.path_values));
        }
        if !h.headers.is_empty() {
            m.insert("HeaderParameters".into(), json!(h.headers));
        }
        if !h.query.is_empty() {
            m.insert("QueryStringParameters".into(), json!(h.query));
        }
        out.insert("HttpParameters".into(), Value::Object(m));
    }
    for (k, v) in &t.other {
        if let Ok(v) = serde_json::from_str::<Value>(v) {
            out.insert(k.clone(), v);
        }
    }
    if let Some(r) = &t.retry_policy {
        let mut m = Map::new();
        if let Some(n) = r.max_attempts {
            m.insert("MaximumRetryAttempts".into(), json!(n));
        }
        if let Some(n) = r.max_age_s {
            m.insert("MaximumEventAgeInSeconds".into(), json!(n));
        }
        out.insert("RetryPolicy".into(), Value::Object(m));
    }
    if let Some(d) = &t.dead_letter_arn {
        out.insert("DeadLetterConfig".into(), json!({ "Arn": d }));
    }
    Value::Object(out)
}

fn failed_json(failed: &[FailedTarget]) -> Value {
    json!({
        "FailedEntryCount": failed.len(),
        "FailedEntries": failed
            .iter()
            .map(|f| json!({ "TargetId": f.id, "ErrorCode": f.code, "ErrorMessage": f.message }))
            .collect::<Vec<_>>(),
    })
}

/// PutEvents' entries, as the service takes them.
fn entries_of(input: &Value) -> Vec<Entry> {
    let Some(entries) = input.get("Entries").and_then(Value::as_array) else { return Vec::new() };
    entries
        .iter()
        .map(|e| Entry {
            time_ms: e.get("Time").and_then(protocol::timestamp::seconds_of).map(|s| (s * 1000.0) as i64),
            source: owned(e, "Source"),
            resources: e
                .get("Resources")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
                .unwrap_or_default(),
            detail_type: owned(e, "DetailType"),
            detail: owned(e, "Detail"),
            bus: owned(e, "EventBusName"),
            trace_header: owned(e, "TraceHeader"),
        })
        .collect()
}

/// PutEvents' answer.
pub(crate) fn put_events_json(results: &[EntryResult]) -> Value {
    let failed = results.iter().filter(|r| matches!(r, EntryResult::Failed(..))).count();
    let entries: Vec<Value> = results
        .iter()
        .map(|r| match r {
            EntryResult::Accepted(id) => json!({ "EventId": id }),
            EntryResult::Failed(code, message) => json!({ "ErrorCode": code, "ErrorMessage": message }),
        })
        .collect();
    json!({ "FailedEntryCount": failed, "Entries": entries })
}

/// PutEvents: entries accepted durably before the answer.
pub(crate) async fn put_events(events: &EventsService, caller: &Caller, input: &Value) -> Result<Value, ServiceError> {
    let results = events.put_events(caller, entries_of(input), false).await.map_err(|e| service_error(&e))?;
    Ok(put_events_json(&results))
}

/// Runs one control-plane operation (they write the store: off the async workers).
pub(crate) fn run(events: &EventsService, caller: &Caller, op: &str, input: &Value) -> Result<Value, ServiceError> {
    let err = |e: EventsError| service_error(&e);
    let bus = s(input, "EventBusName");
    let out = match op {
        "CreateEventBus" => {
            let new = events::NewBus {
                name: owned(input, "Name").unwrap_or_default(),
                event_source: owned(input, "EventSourceName"),
                description: owned(input, "Description"),
                kms_key: owned(input, "KmsKeyIdentifier"),
                dead_letter_arn: input.get("DeadLetterConfig").and_then(|d| owned(d, "Arn")),
                tags: tags_of(input),
            };
            let (description, kms, dlq) = (new.description.clone(), new.kms_key.clone(), new.dead_letter_arn.clone());
            let arn = events.create_bus(caller, new).map_err(err)?;
            let mut out = json!({ "EventBusArn": arn });
            if let Some(d) = description {
                out["Description"] = json!(d);
            }
            if let Some(k) = kms {
                out["KmsKeyIdentifier"] = json!(k);
            }
            if let Some(d) = dlq {
                out["DeadLetterConfig"] = json!({ "Arn": d });
            }
            out
        }
        "DescribeEventBus" => bus_json(&events.describe_bus(caller, s(input, "Name")).map_err(err)?, true),
        "UpdateEventBus" => {
            let b = events.describe_bus(caller, s(input, "Name")).map_err(err)?;
            json!({ "Arn": b.arn(), "Name": b.name })
        }
        "ListEventBuses" => {
            let buses = events.list_buses(caller, s(input, "NamePrefix"));
            let (buses, next) = paged(buses, input)?;
            let mut out = json!({ "EventBuses": buses.iter().map(|b| bus_json(b, false)).collect::<Vec<_>>() });
            if let Some(n) = next {
                out["NextToken"] = json!(n);
            }
            out
        }
        "DeleteEventBus" => {
            events.delete_bus(caller, s(input, "Name").unwrap_or_default()).map_err(err)?;
            json!({})
        }
        "PutPermission" => {
            let condition = input.get("Condition").map(|c| events::Condition {
                kind: owned(c, "Type").unwrap_or_default(),
                key: owned(c, "Key").unwrap_or_default(),
                value: owned(c, "Value").unwrap_or_default(),
            });
            let p = events::Permission {
                bus: owned(input, "EventBusName"),
                action: owned(input, "Action"),
                principal: owned(input, "Principal"),
                statement_id: owned(input, "StatementId"),
                condition,
                policy: owned(input, "Policy"),
            };
            events.put_permission(caller, p).map_err(err)?;
            json!({})
        }
        "RemovePermission" => {
            let all = input.get("RemoveAllPermissions").and_then(Value::as_bool).unwrap_or(false);
            events.remove_permission(caller, bus, s(input, "StatementId"), all).map_err(err)?;
            json!({})
        }
        "PutRule" => {
            let rule = RuleInput {
                name: owned(input, "Name").unwrap_or_default(),
                bus: owned(input, "EventBusName"),
                pattern: owned(input, "EventPattern"),
                schedule: owned(input, "ScheduleExpression"),
                state: owned(input, "State"),
                description: owned(input, "Description"),
                role_arn: owned(input, "RoleArn"),
                tags: tags_of(input),
            };
            json!({ "RuleArn": events.put_rule(caller, rule).map_err(err)? })
        }
        "DescribeRule" => {
            rule_json(&events.describe_rule(caller, s(input, "Name").unwrap_or_default(), bus).map_err(err)?, true)
        }
        "ListRules" => {
            let rules = events.list_rules(caller, bus, s(input, "NamePrefix")).map_err(err)?;
            let (rules, next) = paged(rules, input)?;
            let mut out = json!({ "Rules": rules.iter().map(|r| rule_json(r, false)).collect::<Vec<_>>() });
            if let Some(n) = next {
                out["NextToken"] = json!(n);
            }
            out
        }
        "EnableRule" | "DisableRule" => {
            let name = s(input, "Name").unwrap_or_default();
            events.set_rule_state(caller, name, bus, op == "EnableRule").map_err(err)?;
            json!({})
        }
        "DeleteRule" => {
            events.delete_rule(caller, s(input, "Name").unwrap_or_default(), bus).map_err(err)?;
            json!({})
        }
        "PutTargets" => {
            let targets: Vec<Target> = input
                .get("Targets")
                .and_then(Value::as_array)
                .map(|t| t.iter().map(target_of).collect())
                .unwrap_or_default();
            failed_json(&events.put_targets(caller, s(input, "Rule").unwrap_or_default(), bus, targets).map_err(err)?)
        }
        "RemoveTargets" => {
            let ids: Vec<String> = input
                .get("Ids")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
                .unwrap_or_default();
            failed_json(&events.remove_targets(caller, s(input, "Rule").unwrap_or_default(), bus, &ids).map_err(err)?)
        }
        "ListTargetsByRule" => {
            let targets = events.list_targets(caller, s(input, "Rule").unwrap_or_default(), bus).map_err(err)?;
            let (targets, next) = paged(targets, input)?;
            let mut out = json!({ "Targets": targets.iter().map(target_json).collect::<Vec<_>>() });
            if let Some(n) = next {
                out["NextToken"] = json!(n);
            }
            out
        }
        "ListRuleNamesByTarget" => {
            let names = events.rules_by_target(caller, s(input, "TargetArn").unwrap_or_default(), bus).map_err(err)?;
            let (names, next) = paged(names, input)?;
            let mut out = json!({ "RuleNames": names });
            if let Some(n) = next {
                out["NextToken"] = json!(n);
            }
            out
        }
        "TestEventPattern" => {
            let result = events
                .test_pattern(s(input, "EventPattern").unwrap_or_default(), s(input, "Event").unwrap_or_default())
                .map_err(err)?;
            json!({ "Result": result })
        }
        "TagResource" => {
            events
                .change_tags(caller, s(input, "ResourceARN").unwrap_or_default(), tags_of(input), &[])
                .map_err(err)?;
            json!({})
        }
        "UntagResource" => {
            let keys: Vec<String> = input
                .get("TagKeys")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
                .unwrap_or_default();
            events
                .change_tags(caller, s(input, "ResourceARN").unwrap_or_default(), BTreeMap::new(), &keys)
                .map_err(err)?;
            json!({})
        }
        "ListTagsForResource" => {
            let tags = events.tags(caller, s(input, "ResourceARN").unwrap_or_default()).map_err(err)?;
            json!({ "Tags": tags.iter().map(|(k, v)| json!({ "Key": k, "Value": v })).collect::<Vec<_>>() })
        }
        other => return Err(ServiceError::not_implemented("events", other)),
    };
    Ok(out)
}

/// `POST /_lamina/events/emit`: an AWS service's event (EC2's, Auto Scaling's, …) put on a
/// bus as that service would, bypassing the `aws.` source rule. The body names a
/// `Template` of the catalogue and/or `Source`, `DetailType`, `Detail` (an object, merged
/// over the template's), `Resources` and `EventBusName`; in open mode `Account` and
/// `Region` choose where. Answered as PutEvents answers.
pub(crate) async fn emit(
    axum::extract::State(state): axum::extract::State<crate::ApiState>,
    req: axum::extract::Request,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let bad = |m: String| {
        let body = json!({ "__type": "ValidationException", "message": m });
        (axum::http::StatusCode::BAD_REQUEST, [("content-type", "application/json")], body.to_string()).into_response()
    };
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return bad("The request is larger than the service accepts.".into());
    };
    let input: Value = match serde_json::from_slice(&bytes) {
        Ok(v @ Value::Object(_)) => v,
        _ => return bad("The body is not a JSON object.".into()),
    };
    let mut caller = state.callers.caller(&parts);
    // Only open mode lets the body choose the account; a signed request acts as its signer.
    if state.callers.auth.is_none() {
        if let Some(a) = s(&input, "Account") {
            caller.account = a.to_owned();
        }
        if let Some(r) = s(&input, "Region") {
            caller.region = r.to_owned();
        }
    }
    let detail = match input.get("Detail") {
        Some(Value::String(text)) => match serde_json::from_str::<Value>(text) {
            Ok(v) => Some(v),
            Err(_) => return bad("Detail is malformed.".into()),
        },
        other => other.cloned(),
    };
    let emitted = events::Emitted {
        template: owned(&input, "Template"),
        source: owned(&input, "Source"),
        detail_type: owned(&input, "DetailType"),
        detail,
        resources: input
            .get("Resources")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect()),
        bus: owned(&input, "EventBusName"),
    };
    match state.events.emit(&caller, emitted).await {
        Ok(result) => {
            let body = put_events_json(&[result]);
            ([("content-type", "application/json")], body.to_string()).into_response()
        }
        Err(e) => {
            let e = service_error(&e);
            let status = axum::http::StatusCode::from_u16(e.status.unwrap_or(400))
                .unwrap_or(axum::http::StatusCode::BAD_REQUEST);
            let body = json!({ "__type": e.code, "message": e.message });
            (status, [("content-type", "application/json")], body.to_string()).into_response()
        }
    }
}

/// `GET /_lamina/events/templates`: the catalogue `emit` takes.
pub(crate) async fn templates() -> axum::response::Response {
    use axum::response::IntoResponse;
    let all: Vec<Value> = events::catalogue::templates()
        .into_iter()
        .map(|t| json!({ "Template": t.name, "Source": t.source, "DetailType": t.detail_type, "Resources": t.resources, "Detail": t.detail }))
        .collect();
    ([("content-type", "application/json")], json!({ "Templates": all }).to_string()).into_response()
}
