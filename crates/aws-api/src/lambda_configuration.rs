//! A function's configuration as Lambda's API writes it (`FunctionConfiguration`, and the
//! shorter form ListFunctions lists).

use model::Function;
use serde::Serialize;

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct FunctionConfigurationWire {
    function_name: String,
    function_arn: String,
    runtime: &'static str,
    role: String,
    handler: String,
    code_size: u64,
    description: String,
    timeout: u32,
    memory_size: u32,
    last_modified: String,
    code_sha256: String,
    version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    environment: Option<EnvironmentOut>,
    tracing_config: ModeOut,
    #[serde(skip_serializing_if = "Option::is_none")]
    dead_letter_config: Option<TargetOut>,
    revision_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    state_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    state_reason_code: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_update_status: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_update_status_reason: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_update_status_reason_code: Option<&'static str>,
    package_type: &'static str,
    architectures: [&'static str; 1],
    ephemeral_storage: SizeOut,
    snap_start: SnapStartOut,
    logging_config: LoggingOut,
    #[serde(skip_serializing_if = "Option::is_none")]
    runtime_version_config: Option<RuntimeVersionOut>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    layers: Vec<LayerOut>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct RuntimeVersionOut {
    runtime_version_arn: String,
}

/// The runtime version a function runs on, as AWS names it
/// (`arn:aws:lambda:<region>::runtime:<64 hex digits>`): one per runtime and region here,
/// since Lamina runs one version of each runtime.
fn runtime_version_arn(region: &str, runtime: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, runtime.as_bytes());
    let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("arn:aws:lambda:{region}::runtime:{hex}")
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct LayerOut {
    arn: String,
    code_size: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct EnvironmentOut {
    variables: model::Variables,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ModeOut {
    mode: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct TargetOut {
    target_arn: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct SizeOut {
    size: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct SnapStartOut {
    apply_on: &'static str,
    optimization_status: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct LoggingOut {
    log_format: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    application_log_level: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    system_log_level: Option<String>,
    log_group: String,
}

/// AWS's `LastModified` format: `2026-11-27T09:09:30.123+0000`.
pub(crate) fn last_modified(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let fmt =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]+0000");
    t.format(&fmt).unwrap_or_default()
}

/// A function's configuration as AWS shows it. `shown` is the qualifier the caller gave
/// (a version, an alias or `$LATEST`), which qualifies `FunctionArn`.
pub(crate) fn configuration(f: &Function, shown: Option<&str>) -> FunctionConfigurationWire {
    use model::{FunctionState, LastUpdateStatus};
    let c = &f.config;
    // A function whose runtime this host cannot run is `Failed` (`InvalidRuntime`); one
    // whose runtime runs on another version says so in its reason, without a code.
    let (state_reason, state_reason_code) = match f.state {
        FunctionState::Pending => (Some("The function is being created.".to_owned()), Some("Creating")),
        FunctionState::Failed => (f.state_reason.clone(), Some("InvalidRuntime")),
        FunctionState::Active => (f.state_reason.clone(), None),
    };
    let (update_reason, update_reason_code) = match f.last_update_status {
        LastUpdateStatus::InProgress => (Some("The function is being created."), Some("Creating")),
        LastUpdateStatus::Successful | LastUpdateStatus::Failed => (None, None),
    };
    FunctionConfigurationWire {
        function_name: f.name.clone(),
        function_arn: match shown {
            Some(q) => format!("{}:{q}", f.arn()),
            None => f.arn(),
        },
        runtime: c.runtime.as_str(),
        role: c.role.clone(),
        handler: c.handler.clone(),
        code_size: f.code.size,
        description: c.description.clone(),
        timeout: c.timeout_s,
        memory_size: c.memory_mb,
        last_modified: last_modified(f.last_modified_ms),
        code_sha256: f.code.sha256_b64.clone(),
        version: f.version_label(),
        environment: c.environment.clone().map(|variables| EnvironmentOut { variables }),
        tracing_config: ModeOut { mode: c.tracing.as_str() },
        dead_letter_config: c.dead_letter_target.clone().map(|target_arn| TargetOut { target_arn }),
        revision_id: f.revision_id.clone(),
        state: Some(f.state.as_str()),
        state_reason,
        state_reason_code,
        // A function being created has no update to report yet.
        last_update_status: (f.state != FunctionState::Pending).then(|| f.last_update_status.as_str()),
        last_update_status_reason: update_reason,
        last_update_status_reason_code: update_reason_code,
        package_type: "Zip",
        architectures: [c.architecture.as_str()],
        ephemeral_storage: SizeOut { size: c.ephemeral_mb },
        // A published version of a function with SnapStart is optimized, as on AWS.
        snap_start: SnapStartOut {
            apply_on: if c.snap_start { "PublishedVersions" } else { "None" },
            optimization_status: if c.snap_start && f.version.is_some() { "On" } else { "Off" },
        },
        logging_config: LoggingOut {
            log_format: if c.logging.json { "JSON" } else { "Text" },
            application_log_level: c.logging.application_level.clone(),
            system_log_level: c.logging.system_level.clone(),
            log_group: f.log_group(),
        },
        runtime_version_config: Some(RuntimeVersionOut {
            runtime_version_arn: runtime_version_arn(&f.region, c.runtime.as_str()),
        }),
        layers: c.layers.iter().map(|l| LayerOut { arn: l.arn.clone(), code_size: l.code_size }).collect(),
    }
}

/// A function's configuration as the List operations show it: without its state, its
/// last update and its runtime version, as AWS lists functions and versions.
pub(crate) fn listed(f: &Function, shown: Option<&str>) -> FunctionConfigurationWire {
    FunctionConfigurationWire {
        state: None,
        state_reason: None,
        state_reason_code: None,
        last_update_status: None,
        last_update_status_reason: None,
        last_update_status_reason_code: None,
        runtime_version_config: None,
        ..configuration(f, shown)
    }
}
