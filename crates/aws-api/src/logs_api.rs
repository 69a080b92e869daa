//! CloudWatch Logs (json 1.1 protocol, `X-Amz-Target: Logs_20140328.<Operation>`). The
//! protocol layer reads and checks the input against Logs' model (in AWS's words:
//! `InvalidParameterException`, `1 validation error detected: …`) and writes the answer;
//! this module turns input trees into service calls and results into output trees.

use std::collections::BTreeMap;

use logs::{
    Caller, FilterQuery, GetQuery, LogEvent, LogGroup, LogStream, LogsError, LogsService, StreamOrder, StreamQuery,
};
use protocol::ServiceError;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

/// The largest request body Logs reads: a full `PutLogEvents` batch, with room for JSON.
pub(crate) const MAX_BODY: usize = 2 * 1024 * 1024;

/// A Logs error as the protocol layer writes it; the one place they are mapped.
pub(crate) fn service_error(e: &LogsError) -> ServiceError {
    let code = match e {
        LogsError::ResourceNotFound(_) => "ResourceNotFoundException",
        LogsError::ResourceAlreadyExists(_) => "ResourceAlreadyExistsException",
        LogsError::InvalidParameter(_) => "InvalidParameterException",
        LogsError::Serialization(_) => "SerializationException",
        LogsError::ServiceUnavailable(_) => "ServiceUnavailableException",
        LogsError::LimitExceeded(_) => "LimitExceededException",
        LogsError::AccessDenied(_) => "AccessDeniedException",
    };
    ServiceError::new(code, e.to_string())
}

fn parse<T: DeserializeOwned>(input: &Value) -> Result<T, LogsError> {
    T::deserialize(input).map_err(|e| LogsError::Serialization(format!("The request does not fit the operation: {e}")))
}

fn required<T>(v: Option<T>, member: &str) -> Result<T, LogsError> {
    v.ok_or_else(|| {
        LogsError::InvalidParameter(format!(
            "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
        ))
    })
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Wire {
    log_group_name: Option<String>,
    log_group_identifier: Option<String>,
    log_group_name_prefix: Option<String>,
    log_group_name_pattern: Option<String>,
    log_stream_name: Option<String>,
    log_stream_name_prefix: Option<String>,
    log_stream_names: Option<Vec<String>>,
    kms_key_id: Option<String>,
    log_group_class: Option<String>,
    tags: Option<Value>,
    tag_keys: Option<Vec<String>>,
    resource_arn: Option<String>,
    retention_in_days: Option<i64>,
    order_by: Option<String>,
    descending: Option<bool>,
    next_token: Option<String>,
    limit: Option<i64>,
    log_events: Option<Vec<InputEvent>>,
    start_time: Option<i64>,
    end_time: Option<i64>,
    start_from_head: Option<bool>,
    filter_pattern: Option<String>,
    filter_name: Option<String>,
    filter_name_prefix: Option<String>,
    destination_arn: Option<String>,
    role_arn: Option<String>,
    distribution: Option<String>,
    apply_on_transformed_logs: Option<bool>,
}

#[derive(Deserialize)]
struct InputEvent {
    timestamp: Option<i64>,
    message: Option<String>,
}

fn group_json(g: &LogGroup) -> Value {
    let mut o = json!({
        "logGroupName": g.name,
        "creationTime": g.created_ms,
        "metricFilterCount": 0,
        "arn": g.arn,
        "logGroupArn": g.arn.trim_end_matches(":*"),
        "storedBytes": g.stored_bytes,
        "logGroupClass": g.class,
        "deletionProtectionEnabled": false,
    });
    if let Some(d) = g.retention_days {
        o["retentionInDays"] = json!(d);
    }
    if let Some(k) = &g.kms_key {
        o["kmsKeyId"] = json!(k);
    }
    o
}

fn stream_json(s: &LogStream) -> Value {
    let mut o = json!({
        "logStreamName": s.name,
        "creationTime": s.created_ms,
        "arn": s.arn,
        "storedBytes": s.stored_bytes,
    });
    for (k, v) in [
        ("firstEventTimestamp", s.first_event_ms),
        ("lastEventTimestamp", s.last_event_ms),
        ("lastIngestionTime", s.last_ingestion_ms),
    ] {
        if let Some(v) = v {
            o[k] = json!(v);
        }
    }
    o
}

fn filtered_json(e: &LogEvent) -> Value {
    json!({
        "logStreamName": e.stream,
        "timestamp": e.timestamp_ms,
        "message": e.message,
        "ingestionTime": e.ingestion_ms,
        "eventId": e.id,
    })
}

/// `tags` as a map (`{"k": "v"}`), or as a list of keys (`UntagLogGroup`).
fn tag_map(v: Option<Value>) -> Result<Option<BTreeMap<String, String>>, LogsError> {
    v.map(|v| {
        serde_json::from_value(v).map_err(|_| LogsError::InvalidParameter("tags must map keys to values.".into()))
    })
    .transpose()
}

fn tag_keys(v: Option<Value>) -> Result<Option<Vec<String>>, LogsError> {
    v.map(|v| serde_json::from_value(v).map_err(|_| LogsError::InvalidParameter("tags must list tag keys.".into())))
        .transpose()
}

/// The group a resource ARN (`arn:aws:logs:…:log-group:<name>[:*]`) names.
fn arn_group(arn: &str) -> Result<String, LogsError> {
    logs::group_name(None, Some(arn))
}

pub(crate) const OPERATIONS: [&str; 20] = [
    "CreateLogGroup",
    "DescribeLogGroups",
    "DeleteLogGroup",
    "PutRetentionPolicy",
    "DeleteRetentionPolicy",
    "CreateLogStream",
    "DeleteLogStream",
    "DescribeLogStreams",
    "PutLogEvents",
    "GetLogEvents",
    "FilterLogEvents",
    "ListTagsLogGroup",
    "TagLogGroup",
    "UntagLogGroup",
    "ListTagsForResource",
    "TagResource",
    "UntagResource",
    "PutSubscriptionFilter",
    "DescribeSubscriptionFilters",
    "DeleteSubscriptionFilter",
];

/// Runs one operation on its input tree.
pub(crate) fn run(s: &LogsService, caller: &Caller, operation: &str, input: &Value) -> Result<Value, ServiceError> {
    dispatch(s, caller, operation, input).map_err(|e| service_error(&e))
}

fn dispatch(s: &LogsService, c: &Caller, operation: &str, input: &Value) -> Result<Value, LogsError> {
    let w: Wire = parse(input)?;
    match operation {
        "CreateLogGroup" => {
            let name = required(w.log_group_name, "logGroupName")?;
            s.create_group(c, &name, w.kms_key_id, w.log_group_class, tag_map(w.tags)?.unwrap_or_default())?;
            Ok(json!({}))
        }
        "DescribeLogGroups" => describe_groups(s, c, w),
        "DeleteLogGroup" => {
            s.delete_group(c, &required(w.log_group_name, "logGroupName")?)?;
            Ok(json!({}))
        }
        "PutRetentionPolicy" => {
            let name = required(w.log_group_name, "logGroupName")?;
            let days = required(w.retention_in_days, "retentionInDays")?;
            s.set_retention(c, &name, Some(days))?;
            Ok(json!({}))
        }
        "DeleteRetentionPolicy" => {
            s.set_retention(c, &required(w.log_group_name, "logGroupName")?, None)?;
            Ok(json!({}))
        }
        "CreateLogStream" => {
            let name = required(w.log_group_name, "logGroupName")?;
            s.create_stream(c, &name, &required(w.log_stream_name, "logStreamName")?)?;
            Ok(json!({}))
        }
        "DeleteLogStream" => {
            let name = required(w.log_group_name, "logGroupName")?;
            s.delete_stream(c, &name, &required(w.log_stream_name, "logStreamName")?)?;
            Ok(json!({}))
        }
        "DescribeLogStreams" => describe_streams(s, c, w),
        "PutLogEvents" => put_events(s, c, w),
        "GetLogEvents" => get_events(s, c, w),
        "FilterLogEvents" => filter_events(s, c, w),
        "ListTagsLogGroup" => Ok(json!({ "tags": s.tags(c, &required(w.log_group_name, "logGroupName")?)? })),
        "TagLogGroup" => {
            let name = required(w.log_group_name, "logGroupName")?;
            s.retag(c, &name, required(tag_map(w.tags)?, "tags")?, &[])?;
            Ok(json!({}))
        }
        "UntagLogGroup" => {
            let name = required(w.log_group_name, "logGroupName")?;
            s.retag(c, &name, BTreeMap::new(), &required(tag_keys(w.tags)?, "tags")?)?;
            Ok(json!({}))
        }
        "ListTagsForResource" => {
            Ok(json!({ "tags": s.tags(c, &arn_group(&required(w.resource_arn, "resourceArn")?)?)? }))
        }
        "TagResource" => {
            let name = arn_group(&required(w.resource_arn, "resourceArn")?)?;
            s.retag(c, &name, required(tag_map(w.tags)?, "tags")?, &[])?;
            Ok(json!({}))
        }
        "UntagResource" => {
            let name = arn_group(&required(w.resource_arn, "resourceArn")?)?;
            s.retag(c, &name, BTreeMap::new(), &required(w.tag_keys, "tagKeys")?)?;
            Ok(json!({}))
        }
        "PutSubscriptionFilter" => {
            let filter = logs::NewFilter {
                group: required(w.log_group_name, "logGroupName")?,
                name: required(w.filter_name, "filterName")?,
                pattern: required(w.filter_pattern, "filterPattern")?,
                destination: required(w.destination_arn, "destinationArn")?,
                role_arn: w.role_arn,
                distribution: w.distribution,
                apply_on_transformed: w.apply_on_transformed_logs.unwrap_or(false),
            };
            s.put_subscription(c, filter)?;
            Ok(json!({}))
        }
        "DescribeSubscriptionFilters" => {
            let group = required(w.log_group_name, "logGroupName")?;
            let all = s.subscriptions(c, &group, w.filter_name_prefix.as_deref())?;
            let filters: Vec<Value> = all
                .iter()
                .map(|f| {
                    let mut o = json!({
                        "filterName": f.name,
                        "logGroupName": group,
                        "filterPattern": f.pattern,
                        "destinationArn": f.destination,
                        "distribution": f.distribution,
                        "applyOnTransformedLogs": f.apply_on_transformed,
                        "creationTime": f.created_ms,
                    });
                    if let Some(r) = &f.role_arn {
                        o["roleArn"] = json!(r);
                    }
                    o
                })
                .collect();
            Ok(json!({ "subscriptionFilters": filters }))
        }
        "DeleteSubscriptionFilter" => {
            let group = required(w.log_group_name, "logGroupName")?;
            s.delete_subscription(c, &group, &required(w.filter_name, "filterName")?)?;
            Ok(json!({}))
        }
        other => unreachable!("{other} is not in OPERATIONS"),
    }
}

/// The group an operation names, by `logGroupName` or `logGroupIdentifier`.
fn group_of(w: &Wire) -> Result<String, LogsError> {
    logs::group_name(w.log_group_name.as_deref(), w.log_group_identifier.as_deref())
}

/// DescribeLogGroups.
fn describe_groups(s: &LogsService, c: &Caller, w: Wire) -> Result<Value, LogsError> {
    let (groups, next) = s.describe_groups(
        c,
        w.log_group_name_prefix.as_deref(),
        w.log_group_name_pattern.as_deref(),
        w.next_token.as_deref(),
        w.limit,
    )?;
    let mut o = json!({ "logGroups": groups.iter().map(group_json).collect::<Vec<_>>() });
    if let Some(t) = next {
        o["nextToken"] = json!(t);
    }
    Ok(o)
}

/// DescribeLogStreams.
fn describe_streams(s: &LogsService, c: &Caller, w: Wire) -> Result<Value, LogsError> {
    let name = group_of(&w)?;
    let order = match w.order_by.as_deref() {
        None | Some("LogStreamName") => StreamOrder::Name,
        Some("LastEventTime") => StreamOrder::LastEventTime,
        Some(other) => {
            return Err(LogsError::InvalidParameter(format!(
                "1 validation error detected: Value '{other}' at 'orderBy' failed to satisfy constraint: \
                     Member must satisfy enum value set: [LogStreamName, LastEventTime]"
            )))
        }
    };
    let q = StreamQuery {
        prefix: w.log_stream_name_prefix,
        order,
        descending: w.descending.unwrap_or(false),
        token: w.next_token,
        limit: w.limit,
    };
    let (streams, next) = s.describe_streams(c, &name, q)?;
    let mut o = json!({ "logStreams": streams.iter().map(stream_json).collect::<Vec<_>>() });
    if let Some(t) = next {
        o["nextToken"] = json!(t);
    }
    Ok(o)
}

/// PutLogEvents.
fn put_events(s: &LogsService, c: &Caller, w: Wire) -> Result<Value, LogsError> {
    let name = required(w.log_group_name, "logGroupName")?;
    let stream = required(w.log_stream_name, "logStreamName")?;
    let events = required(w.log_events, "logEvents")?
        .into_iter()
        .map(|e| Ok((required(e.timestamp, "timestamp")?, required(e.message, "message")?)))
        .collect::<Result<Vec<_>, LogsError>>()?;
    let rejected = s.put_events(c, &name, &stream, events)?;
    let mut o = json!({ "nextSequenceToken": format!("{:056}", 0) });
    let mut info = serde_json::Map::new();
    for (k, v) in [
        ("tooNewLogEventStartIndex", rejected.too_new_start),
        ("tooOldLogEventEndIndex", rejected.too_old_end),
        ("expiredLogEventEndIndex", rejected.expired_end),
    ] {
        if let Some(v) = v {
            info.insert(k.into(), json!(v));
        }
    }
    if !info.is_empty() {
        o["rejectedLogEventsInfo"] = Value::Object(info);
    }
    Ok(o)
}

/// GetLogEvents.
fn get_events(s: &LogsService, c: &Caller, w: Wire) -> Result<Value, LogsError> {
    let name = group_of(&w)?;
    let stream = required(w.log_stream_name, "logStreamName")?;
    let q = GetQuery {
        start_ms: w.start_time,
        end_ms: w.end_time,
        token: w.next_token,
        limit: w.limit,
        from_head: w.start_from_head.unwrap_or(false),
    };
    let page = s.get_events(c, &name, &stream, q)?;
    let events: Vec<Value> = page
        .events
        .iter()
        .map(|e| json!({ "timestamp": e.timestamp_ms, "message": e.message, "ingestionTime": e.ingestion_ms }))
        .collect();
    Ok(json!({ "events": events, "nextForwardToken": page.forward, "nextBackwardToken": page.backward }))
}

/// FilterLogEvents.
fn filter_events(s: &LogsService, c: &Caller, w: Wire) -> Result<Value, LogsError> {
    let name = group_of(&w)?;
    let q = FilterQuery {
        streams: w.log_stream_names,
        prefix: w.log_stream_name_prefix,
        start_ms: w.start_time,
        end_ms: w.end_time,
        pattern: w.filter_pattern,
        token: w.next_token,
        limit: w.limit,
    };
    let (events, next) = s.filter_events(c, &name, q)?;
    let mut o = json!({ "events": events.iter().map(filtered_json).collect::<Vec<_>>(), "searchedLogStreams": [] });
    if let Some(t) = next {
        o["nextToken"] = json!(t);
    }
    Ok(o)
}
