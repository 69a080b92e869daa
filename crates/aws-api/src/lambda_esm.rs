//! Lambda's event source mapping operations: input trees into service calls, results
//! into output trees.

use lambda::{Mapping, MappingInput};
use serde::{Deserialize, Serialize};

use crate::lambda_api::{out, Call, Reply};
use crate::ApiState;

#[derive(Deserialize, Serialize, Default)]
#[serde(rename_all = "PascalCase")]
struct ScalingWire {
    maximum_concurrency: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MappingIn {
    event_source_arn: Option<String>,
    function_name: Option<String>,
    enabled: Option<bool>,
    batch_size: Option<i64>,
    maximum_batching_window_in_seconds: Option<i64>,
    scaling_config: Option<ScalingWire>,
    function_response_types: Option<Vec<String>>,
    tags: Option<std::collections::BTreeMap<String, String>>,
    destination_config: Option<serde_json::Value>,
    starting_position: Option<String>,
    starting_position_timestamp: Option<f64>,
    parallelization_factor: Option<i64>,
    bisect_batch_on_function_error: Option<bool>,
    maximum_retry_attempts: Option<i64>,
    maximum_record_age_in_seconds: Option<i64>,
    tumbling_window_in_seconds: Option<i64>,
    filter_criteria: Option<serde_json::Value>,
}

impl MappingIn {
    fn into_input(self) -> MappingInput {
        MappingInput {
            source_arn: self.event_source_arn,
            function: self.function_name,
            enabled: self.enabled,
            batch_size: self.batch_size,
            window_s: self.maximum_batching_window_in_seconds,
            max_concurrency: self.scaling_config.map(|s| s.maximum_concurrency),
            response_types: self.function_response_types,
            tags: self.tags,
            destination: self
                .destination_config
                .map(|d| d.pointer("/OnFailure/Destination").and_then(serde_json::Value::as_str).map(str::to_owned)),
            starting_position: self.starting_position,
            starting_ms: self.starting_position_timestamp.map(|s| (s * 1000.0) as i64),
            parallelization: self.parallelization_factor,
            bisect: self.bisect_batch_on_function_error,
            max_retries: self.maximum_retry_attempts,
            max_age_s: self.maximum_record_age_in_seconds,
            tumbling_s: self.tumbling_window_in_seconds,
            filters: self.filter_criteria.map(|f| {
                f.get("Filters")
                    .and_then(serde_json::Value::as_array)
                    .map(|l| {
                        l.iter().map(|p| p.get("Pattern").and_then(|x| x.as_str()).unwrap_or("").to_owned()).collect()
                    })
                    .unwrap_or_default()
            }),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct MappingOut {
    #[serde(rename = "UUID")]
    uuid: String,
    batch_size: u32,
    maximum_batching_window_in_seconds: u32,
    event_source_arn: String,
    function_arn: String,
    last_modified: f64,
    state: &'static str,
    state_transition_reason: &'static str,
    function_response_types: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scaling_config: Option<ScalingWire>,
    event_source_mapping_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    filter_criteria: Option<serde_json::Value>,
    #[serde(flatten)]
    stream: Option<StreamOut>,
}

/// What only a stream's mapping shows.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct StreamOut {
    starting_position: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    starting_position_timestamp: Option<f64>,
    parallelization_factor: u32,
    bisect_batch_on_function_error: bool,
    maximum_retry_attempts: i64,
    maximum_record_age_in_seconds: i64,
    tumbling_window_in_seconds: u32,
    destination_config: serde_json::Value,
    last_processing_result: &'static str,
}

/// A mapping as AWS shows it; `transition` is the state an operation leaves it in.
fn mapping_out(m: Mapping, transition: Option<&'static str>) -> MappingOut {
    MappingOut {
        event_source_mapping_arn: format!("arn:aws:lambda:{}:{}:event-source-mapping:{}", m.region, m.account, m.uuid),
        uuid: m.uuid,
        batch_size: m.batch_size,
        maximum_batching_window_in_seconds: m.window_s,
        event_source_arn: m.source_arn,
        function_arn: m.function_arn,
        last_modified: m.last_modified_ms as f64 / 1000.0,
        state: transition.unwrap_or(if m.enabled { "Enabled" } else { "Disabled" }),
        state_transition_reason: if m.stream.is_some() { "User action" } else { "USER_INITIATED" },
        function_response_types: if m.report_failures { vec!["ReportBatchItemFailures"] } else { Vec::new() },
        scaling_config: m.max_concurrency.map(|c| ScalingWire { maximum_concurrency: Some(i64::from(c)) }),
        filter_criteria: (!m.filters.is_empty()).then(|| {
            serde_json::json!({ "Filters": m.filters.iter().map(|p| serde_json::json!({ "Pattern": p })).collect::<Vec<_>>() })
        }),
        stream: m.stream.map(|s| StreamOut {
            starting_position: s.starting_position,
            starting_position_timestamp: s.starting_ms.map(|ms| ms as f64 / 1000.0),
            parallelization_factor: s.parallelization,
            bisect_batch_on_function_error: s.bisect,
            maximum_retry_attempts: s.max_retries,
            maximum_record_age_in_seconds: s.max_age_s,
            tumbling_window_in_seconds: s.tumbling_s,
            destination_config: match s.on_failure {
                Some(d) => serde_json::json!({ "OnFailure": { "Destination": d } }),
                None => serde_json::json!({ "OnFailure": {} }),
            },
            last_processing_result: "No records processed",
        }),
    }
}

pub(crate) fn create_mapping(s: &ApiState, c: &Call) -> Reply {
    let m = s.lambda.create_mapping(&c.caller, c.body::<MappingIn>()?.into_input())?;
    out(mapping_out(m, Some("Creating")))
}

pub(crate) fn get_mapping(s: &ApiState, c: &Call) -> Reply {
    out(mapping_out(s.lambda.get_mapping(&c.caller, &c.label("UUID"))?, None))
}

pub(crate) fn update_mapping(s: &ApiState, c: &Call) -> Reply {
    let input = c.body::<MappingIn>()?.into_input();
    let before = s.lambda.get_mapping(&c.caller, &c.label("UUID"))?.enabled;
    let transition = match input.enabled {
        Some(false) if before => "Disabling",
        Some(true) if !before => "Enabling",
        _ => "Updating",
    };
    let m = s.lambda.update_mapping(&c.caller, &c.label("UUID"), input)?;
    out(mapping_out(m, Some(transition)))
}

pub(crate) fn delete_mapping(s: &ApiState, c: &Call) -> Reply {
    let m = s.lambda.delete_mapping(&c.caller, &c.label("UUID"))?;
    out(mapping_out(m, Some("Deleting")))
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListOut {
    event_source_mappings: Vec<MappingOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_marker: Option<String>,
}

pub(crate) fn list_mappings(s: &ApiState, c: &Call) -> Reply {
    let (mappings, next_marker) = s.lambda.list_mappings(
        &c.caller,
        c.text("EventSourceArn").as_deref(),
        c.text("FunctionName").as_deref(),
        c.marker().as_deref(),
        c.max_items(),
    )?;
    out(ListOut { event_source_mappings: mappings.into_iter().map(|m| mapping_out(m, None)).collect(), next_marker })
}
