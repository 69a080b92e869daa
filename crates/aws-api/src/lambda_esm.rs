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
            destination: self.destination_config.is_some(),
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
        state_transition_reason: "USER_INITIATED",
        function_response_types: if m.report_failures { vec!["ReportBatchItemFailures"] } else { Vec::new() },
        scaling_config: m.max_concurrency.map(|c| ScalingWire { maximum_concurrency: Some(i64::from(c)) }),
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
    let m = s.lambda.update_mapping(&c.caller, &c.label("UUID"), c.body::<MappingIn>()?.into_input())?;
    out(mapping_out(m, Some("Updating")))
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
