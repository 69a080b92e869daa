//! AWS Lambda's REST-JSON API (`/2015-03-31/...`): routes, wire shapes, error mapping.

use std::collections::BTreeMap;

use axum::body::{Body, Bytes};
use axum::extract::{Extension, FromRequest, FromRequestParts, Path, RawQuery, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::Engine;
use lambda::{AccountSettings, Caller, CodeSource, CreateFunction, InvocationType, InvokeOutcome, LambdaError};
use model::limits;
use model::{Function, FunctionDraft, Invalid, Violation};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::{ApiState, RequestId};

pub(crate) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/2015-03-31/functions", post(create_function).get(list_functions))
        .route("/2015-03-31/functions/", post(create_function).get(list_functions))
        .route("/2015-03-31/functions/{name}", get(get_function).delete(delete_function))
        .route(
            "/2015-03-31/functions/{name}/configuration",
            get(get_function_configuration).put(update_function_configuration),
        )
        .route("/2015-03-31/functions/{name}/code", axum::routing::put(update_function_code))
        .route("/2015-03-31/functions/{name}/invocations", post(invoke))
        .route(
            "/2017-10-31/functions/{name}/concurrency",
            axum::routing::put(put_function_concurrency).delete(delete_function_concurrency),
        )
        .route("/2019-09-30/functions/{name}/concurrency", get(get_function_concurrency))
        .route(
            "/2024-08-31/functions/{name}/recursion-config",
            axum::routing::put(put_recursion_config).get(get_recursion_config),
        )
        .route(
            "/2019-09-25/functions/{name}/event-invoke-config",
            get(get_event_invoke_config)
                .put(put_event_invoke_config)
                .post(update_event_invoke_config)
                .delete(delete_event_invoke_config),
        )
        .route("/2019-09-25/functions/{name}/event-invoke-config/list", get(list_event_invoke_configs))
        .route("/2016-08-19/account-settings", get(account_settings))
        .route("/2016-08-19/account-settings/", get(account_settings))
        .route("/2017-03-31/tags/{arn}", get(list_tags).post(tag_resource).delete(untag_resource))
        .route("/_lamina/code/{account}/{region}/{name}/{file}", get(download_code))
        .merge(crate::lambda_versions::routes())
        .merge(crate::lambda_layers::routes())
        .merge(crate::lambda_esm::routes())
        .merge(crate::lambda_signing::routes())
}

// ---------------------------------------------------------------------------------------
// Errors: the one place a LambdaError becomes a response.

pub(crate) fn error_response(err: LambdaError) -> Response {
    use serde_json::json;
    let (status, kind, body) = match &err {
        LambdaError::Invalid(Invalid::Constraints(_)) => {
            (StatusCode::BAD_REQUEST, "ValidationException", json!({ "message": err.to_string() }))
        }
        LambdaError::Invalid(Invalid::Parameter(m)) => {
            (StatusCode::BAD_REQUEST, "InvalidParameterValueException", json!({ "Type": "User", "message": m }))
        }
        LambdaError::Invalid(Invalid::Untyped(m)) => {
            (StatusCode::BAD_REQUEST, "InvalidParameterValueException", json!({ "message": m }))
        }
        LambdaError::NotFound(m) => {
            (StatusCode::NOT_FOUND, "ResourceNotFoundException", json!({ "Type": "User", "Message": m }))
        }
        LambdaError::ProvisionedConfigNotFound(m) => (
            StatusCode::NOT_FOUND,
            "ProvisionedConcurrencyConfigNotFoundException",
            json!({ "Type": "User", "message": m }),
        ),
        LambdaError::Conflict(m) => {
            (StatusCode::CONFLICT, "ResourceConflictException", json!({ "Type": "User", "message": m }))
        }
        LambdaError::PreconditionFailed(m) => {
            (StatusCode::PRECONDITION_FAILED, "PreconditionFailedException", json!({ "Type": "User", "message": m }))
        }
        LambdaError::RequestTooLarge(m) => {
            (StatusCode::PAYLOAD_TOO_LARGE, "RequestEntityTooLargeException", json!({ "Type": "User", "message": m }))
        }
        LambdaError::InvalidRequestContent(m) => {
            (StatusCode::BAD_REQUEST, "InvalidRequestContentException", json!({ "Type": "User", "message": m }))
        }
        LambdaError::TooManyRequests { message, reason } => (
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequestsException",
            json!({ "Type": "User", "message": message, "Reason": reason }),
        ),
        LambdaError::AccessDenied(m) => {
            (StatusCode::FORBIDDEN, "AccessDeniedException", json!({ "Type": "User", "Message": m }))
        }
        LambdaError::CodeSigningConfigMissing(m) => {
            (StatusCode::NOT_FOUND, "ResourceNotFoundException", json!({ "Message": m }))
        }
        LambdaError::CodeSigningConfigNotFound(m) => {
            (StatusCode::NOT_FOUND, "CodeSigningConfigNotFoundException", json!({ "Type": "User", "Message": m }))
        }
        LambdaError::CodeVerificationFailed(m) => {
            (StatusCode::BAD_REQUEST, "CodeVerificationFailedException", json!({ "Type": "User", "Message": m }))
        }
        LambdaError::ForeignAccount => (StatusCode::FORBIDDEN, "AccessDeniedException", json!({})),
        LambdaError::PolicyLengthExceeded(m) => {
            (StatusCode::BAD_REQUEST, "PolicyLengthExceededException", json!({ "Type": "User", "message": m }))
        }
        LambdaError::InvalidRuntime(m) => {
            (StatusCode::BAD_GATEWAY, "InvalidRuntimeException", json!({ "Type": "User", "message": m }))
        }
        LambdaError::Service(m) => {
            (StatusCode::INTERNAL_SERVER_ERROR, "ServiceException", json!({ "Type": "Service", "message": m }))
        }
    };
    (status, [("content-type", "application/json"), ("x-amzn-errortype", kind)], body.to_string()).into_response()
}

pub(crate) fn json_response(status: StatusCode, value: &impl Serialize) -> Response {
    let body = serde_json::to_vec(value).expect("wire types always serialize");
    (status, [("content-type", "application/json")], body).into_response()
}

/// Reads a body of at most `limit` bytes; larger ones get AWS's 413 for `operation` —
/// at once when its `Content-Length` says so, else as soon as it grows past the limit.
async fn read_body(headers: &HeaderMap, body: Body, limit: usize, operation: &str) -> Result<Bytes, LambdaError> {
    let too_large = || {
        LambdaError::RequestTooLarge(format!(
            "Request must be smaller than {limit} bytes for the {operation} operation"
        ))
    };
    let declared = headers.get("content-length").and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    axum::body::to_bytes(body, limit).await.map_err(|_| too_large())
}

fn parse_json<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, LambdaError> {
    let bytes: &[u8] = if bytes.is_empty() { b"{}" } else { bytes };
    serde_json::from_slice(bytes)
        .map_err(|e| LambdaError::InvalidRequestContent(format!("Could not parse request body into json: {e}")))
}

fn query(raw: &Option<String>) -> Vec<(String, String)> {
    raw.as_deref().map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default()
}

pub(crate) fn query_one(raw: &Option<String>, key: &str) -> Option<String> {
    query(raw).into_iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

// ---------------------------------------------------------------------------------------
// Wire shapes.

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct EnvironmentWire {
    variables: Option<model::Variables>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct SizeWire {
    size: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct ModeWire {
    mode: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct TargetWire {
    target_arn: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct CodeWire {
    zip_file: Option<String>,
    #[serde(rename = "S3Bucket")]
    s3_bucket: Option<String>,
    image_uri: Option<String>,
}

/// The members CreateFunction and UpdateFunctionConfiguration share.
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct ConfigWire {
    runtime: Option<String>,
    role: Option<String>,
    handler: Option<String>,
    description: Option<String>,
    timeout: Option<i64>,
    memory_size: Option<i64>,
    environment: Option<EnvironmentWire>,
    ephemeral_storage: Option<SizeWire>,
    tracing_config: Option<ModeWire>,
    dead_letter_config: Option<TargetWire>,
    layers: Option<Vec<String>>,
    logging_config: Option<LoggingWire>,
    snap_start: Option<SnapStartWire>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct SnapStartWire {
    apply_on: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct LoggingWire {
    log_format: Option<String>,
    application_log_level: Option<String>,
    system_log_level: Option<String>,
    log_group: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateFunctionWire {
    function_name: Option<String>,
    code: Option<CodeWire>,
    tags: Option<BTreeMap<String, String>>,
    architectures: Option<Vec<String>>,
    package_type: Option<String>,
    publish: Option<bool>,
    code_signing_config_arn: Option<String>,
    #[serde(flatten)]
    config: ConfigWire,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateConfigurationWire {
    revision_id: Option<String>,
    #[serde(flatten)]
    config: ConfigWire,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateCodeWire {
    zip_file: Option<String>,
    #[serde(rename = "S3Bucket")]
    s3_bucket: Option<String>,
    image_uri: Option<String>,
    revision_id: Option<String>,
    architectures: Option<Vec<String>>,
    publish: Option<bool>,
    dry_run: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TagsWire {
    tags: Option<BTreeMap<String, String>>,
}

impl ConfigWire {
    fn into_draft(self, architectures: Option<Vec<String>>) -> Result<FunctionDraft, LambdaError> {
        Ok(FunctionDraft {
            runtime: self.runtime,
            role: self.role,
            handler: self.handler,
            description: self.description,
            timeout: self.timeout,
            memory_size: self.memory_size,
            ephemeral_size: self.ephemeral_storage.and_then(|e| e.size),
            environment: self.environment.map(|e| e.variables.unwrap_or_default()),
            architectures,
            tracing_mode: self.tracing_config.and_then(|t| t.mode),
            dead_letter_target: self.dead_letter_config.map(|d| d.target_arn.unwrap_or_default()),
            layers: self.layers,
            logging: self.logging_config.map(|l| model::LoggingDraft {
                log_format: l.log_format,
                application_level: l.application_log_level,
                system_level: l.system_log_level,
                log_group: l.log_group,
            }),
            snap_start: self.snap_start.map(|s| s.apply_on.unwrap_or_else(|| "None".into())),
        })
    }
}

pub(crate) fn code_source(
    zip: Option<String>,
    s3_bucket: Option<String>,
    image: Option<String>,
) -> Result<CodeSource, LambdaError> {
    if image.is_some() {
        return Err(Invalid::parameter(
            "Lamina runs .zip deployment packages; container images (ImageUri) are not supported.",
        )
        .into());
    }
    match (zip, s3_bucket) {
        (Some(b64), _) => {
            base64::engine::general_purpose::STANDARD.decode(b64.as_bytes()).map(CodeSource::Zip).map_err(|_| {
                LambdaError::InvalidRequestContent(
                    "Could not parse request body into json: ZipFile is not valid base64".into(),
                )
            })
        }
        (None, Some(bucket)) => Ok(CodeSource::S3 { bucket }),
        (None, None) => Ok(CodeSource::None),
    }
}

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
    state_reason: Option<&'static str>,
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
    let (state_reason, state_reason_code) = match f.state {
        FunctionState::Pending => (Some("The function is being created."), Some("Creating")),
        FunctionState::Active | FunctionState::Failed => (None, None),
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

// ---------------------------------------------------------------------------------------
// Extractors: the caller, and a request body parsed as one operation's input.

/// The error side of every handler: a [`LambdaError`] answered in AWS's shape.
pub(crate) struct ApiError(LambdaError);

impl<E: Into<LambdaError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        error_response(self.0)
    }
}

pub(crate) type ApiResult = Result<Response, ApiError>;

/// The caller of a request, from its SigV4 credential.
pub(crate) struct Who(pub(crate) Caller);

impl FromRequestParts<ApiState> for Who {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, Self::Rejection> {
        Ok(Who(state.callers.caller(parts)))
    }
}

/// An operation's JSON input: its name and body limit, for AWS's 413 message.
pub(crate) trait Operation: DeserializeOwned {
    const NAME: &'static str;
    const MAX_BYTES: usize = 1024 * 1024;
}

/// A request body read within its operation's limit and parsed.
pub(crate) struct Input<T>(pub(crate) T);

impl<T: Operation> FromRequest<ApiState> for Input<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _: &ApiState) -> Result<Self, ApiError> {
        let (parts, body) = req.into_parts();
        let bytes = read_body(&parts.headers, body, T::MAX_BYTES, T::NAME).await?;
        Ok(Input(parse_json(&bytes)?))
    }
}

impl Operation for CreateFunctionWire {
    const NAME: &'static str = "CreateFunction";
    const MAX_BYTES: usize = limits::CODE_REQUEST_MAX_BYTES;
}

impl Operation for UpdateConfigurationWire {
    const NAME: &'static str = "UpdateFunctionConfiguration";
}

impl Operation for UpdateCodeWire {
    const NAME: &'static str = "UpdateFunctionCode";
    const MAX_BYTES: usize = limits::CODE_REQUEST_MAX_BYTES;
}

impl Operation for TagsWire {
    const NAME: &'static str = "TagResource";
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ConcurrencyWire {
    #[serde(skip_serializing_if = "Option::is_none")]
    reserved_concurrent_executions: Option<i64>,
}

impl Operation for ConcurrencyWire {
    const NAME: &'static str = "PutFunctionConcurrency";
}

#[derive(Deserialize, Serialize, Default)]
#[serde(rename_all = "PascalCase")]
struct DestinationWire {
    #[serde(skip_serializing_if = "Option::is_none")]
    destination: Option<String>,
}

#[derive(Deserialize, Serialize, Default)]
#[serde(rename_all = "PascalCase")]
struct DestinationConfigWire {
    on_success: Option<DestinationWire>,
    on_failure: Option<DestinationWire>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct EventInvokeConfigIn {
    maximum_retry_attempts: Option<i64>,
    maximum_event_age_in_seconds: Option<i64>,
    destination_config: Option<DestinationConfigWire>,
}

impl Operation for EventInvokeConfigIn {
    const NAME: &'static str = "PutFunctionEventInvokeConfig";
}

/// UpdateFunctionEventInvokeConfig's input: the same members.
#[derive(Deserialize)]
#[serde(transparent)]
struct EventInvokeConfigUpdate(EventInvokeConfigIn);

impl Operation for EventInvokeConfigUpdate {
    const NAME: &'static str = "UpdateFunctionEventInvokeConfig";
}

impl EventInvokeConfigIn {
    fn into_input(self) -> lambda::EventInvokeInput {
        let d = self.destination_config.unwrap_or_default();
        let dest = |w: Option<DestinationWire>| w.map(|w| w.destination.unwrap_or_default());
        lambda::EventInvokeInput {
            max_retries: self.maximum_retry_attempts,
            max_event_age: self.maximum_event_age_in_seconds,
            on_success: dest(d.on_success),
            on_failure: dest(d.on_failure),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct EventInvokeConfigOut {
    last_modified: f64,
    function_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    maximum_retry_attempts: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    maximum_event_age_in_seconds: Option<u32>,
    destination_config: DestinationConfigWire,
}

fn event_invoke_out(function_arn: String, c: &model::EventInvokeConfig) -> EventInvokeConfigOut {
    EventInvokeConfigOut {
        last_modified: c.last_modified_ms as f64 / 1000.0,
        function_arn,
        maximum_retry_attempts: c.max_retries,
        maximum_event_age_in_seconds: c.max_event_age_s,
        destination_config: DestinationConfigWire {
            on_success: Some(DestinationWire { destination: c.on_success.clone() }),
            on_failure: Some(DestinationWire { destination: c.on_failure.clone() }),
        },
    }
}

/// The `Qualifier` query parameter, where an operation takes one.
pub(crate) fn qualifier(q: &Option<String>) -> Option<String> {
    query_one(q, "Qualifier")
}

// ---------------------------------------------------------------------------------------
// Handlers: parse, call the service, map the result.

async fn create_function(
    State(s): State<ApiState>,
    Who(caller): Who,
    Input(wire): Input<CreateFunctionWire>,
) -> ApiResult {
    let mut missing = Vec::new();
    if wire.function_name.is_none() {
        missing.push(Violation::null("functionName"));
    }
    if wire.code.is_none() {
        missing.push(Violation::null("code"));
    }
    if wire.config.role.is_none() {
        missing.push(Violation::null("role"));
    }
    if !missing.is_empty() {
        return Err(Invalid::Constraints(missing).into());
    }
    if wire.package_type.as_deref().is_some_and(|p| p != "Zip") {
        return Err(Invalid::parameter(
            "Lamina runs .zip deployment packages; container images (PackageType Image) are not supported.",
        )
        .into());
    }
    let code = wire.code.unwrap_or_default();
    let cmd = CreateFunction {
        name: wire.function_name.unwrap_or_default(),
        draft: wire.config.into_draft(wire.architectures)?,
        code: code_source(code.zip_file, code.s3_bucket, code.image_uri)?,
        tags: wire.tags.unwrap_or_default(),
        publish: wire.publish == Some(true),
        code_signing: wire.code_signing_config_arn.filter(|a| !a.is_empty()),
    };
    let f = s.lambda.create_function(&caller, cmd)?;
    // With `Publish`, AWS answers the version's configuration under the unqualified ARN.
    Ok(json_response(StatusCode::CREATED, &configuration(&f, None)))
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CodeLocationOut {
    repository_type: &'static str,
    location: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct GetFunctionOut {
    configuration: FunctionConfigurationWire,
    code: CodeLocationOut,
    #[serde(skip_serializing_if = "Option::is_none")]
    tags: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    concurrency: Option<ConcurrencyWire>,
}

async fn get_function(
    State(s): State<ApiState>,
    Who(caller): Who,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> ApiResult {
    let (f, shown) = s.lambda.get_function(&caller, &name, qualifier(&q).as_deref())?;
    let host = headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("localhost:4566");
    let path = format!("/_lamina/code/{}/{}/{}/{}.zip", f.account, f.region, f.name, f.code.sha256_hex);
    let link = s.code_urls.sign(&path, &caller.account, unix_now());
    let location = format!("http://{host}{path}?{link}");
    // Tags and reserved concurrency belong to the function, whichever version is shown.
    let function = match f.version {
        Some(_) => s.lambda.get_function(&caller, &f.name, None)?.0,
        None => f.clone(),
    };
    let out = GetFunctionOut {
        configuration: configuration(&f, shown.as_deref()),
        code: CodeLocationOut { repository_type: "S3", location },
        tags: (!function.tags.is_empty()).then(|| function.tags.clone()),
        concurrency: function
            .reserved_concurrency
            .map(|n| ConcurrencyWire { reserved_concurrent_executions: Some(i64::from(n)) }),
    };
    Ok(json_response(StatusCode::OK, &out))
}

/// `Code.Location`: the deployment package, addressed by its hash, through a link that
/// GetFunction signed.
async fn download_code(
    State(s): State<ApiState>,
    Path((account, region, name, file)): Path<(String, String, String, String)>,
    uri: axum::http::Uri,
) -> ApiResult {
    if let Err(refused) = s.code_urls.check(uri.path(), uri.query(), unix_now()) {
        return Ok(link_refused(refused));
    }
    let caller = Caller { account, region };
    let Some(hex) = file.strip_suffix(".zip") else {
        return Ok(StatusCode::NOT_FOUND.into_response());
    };
    let zip = s.lambda.function_code(&caller, &name, hex)?;
    Ok(([("content-type", "application/zip")], zip).into_response())
}

/// Seconds since the epoch.
pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// S3's answer to a presigned link that is expired or not genuine.
pub(crate) fn link_refused(refused: crate::code_urls::LinkRefusal) -> Response {
    let (code, message) = match refused {
        crate::code_urls::LinkRefusal::Expired => ("AccessDenied", "Request has expired"),
        crate::code_urls::LinkRefusal::Invalid => (
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. \
             Check your key and signing method.",
        ),
    };
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    );
    (StatusCode::FORBIDDEN, [("content-type", "application/xml")], xml).into_response()
}

async fn get_function_configuration(
    State(s): State<ApiState>,
    Who(caller): Who,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let (f, shown) = s.lambda.get_function(&caller, &name, qualifier(&q).as_deref())?;
    Ok(json_response(StatusCode::OK, &configuration(&f, shown.as_deref())))
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListFunctionsOut {
    functions: Vec<FunctionConfigurationWire>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_marker: Option<String>,
}

/// The `MaxItems` query parameter of a List operation.
pub(crate) fn max_items(q: &Option<String>) -> Result<Option<i64>, LambdaError> {
    match query_one(q, "MaxItems") {
        Some(v) => Ok(Some(v.parse::<i64>().map_err(|_| {
            LambdaError::InvalidRequestContent(format!("Could not parse request: MaxItems '{v}' is not a number"))
        })?)),
        None => Ok(None),
    }
}

async fn list_functions(State(s): State<ApiState>, Who(caller): Who, RawQuery(q): RawQuery) -> ApiResult {
    let all = query_one(&q, "FunctionVersion").as_deref() == Some("ALL");
    let page = s.lambda.list_functions(&caller, query_one(&q, "Marker").as_deref(), max_items(&q)?, all)?;
    let out = ListFunctionsOut {
        // Listing every version qualifies every ARN, `$LATEST`'s too.
        functions: page.functions.iter().map(|f| listed(f, all.then(|| f.version_label()).as_deref())).collect(),
        next_marker: page.next_marker,
    };
    Ok(json_response(StatusCode::OK, &out))
}

async fn update_function_configuration(
    State(s): State<ApiState>,
    Who(caller): Who,
    Path(name): Path<String>,
    Input(wire): Input<UpdateConfigurationWire>,
) -> ApiResult {
    let patch = wire.config.into_draft(None)?;
    let f = s.lambda.update_configuration(&caller, &name, patch, wire.revision_id.as_deref())?;
    Ok(json_response(StatusCode::OK, &configuration(&f, None)))
}

async fn update_function_code(
    State(s): State<ApiState>,
    Who(caller): Who,
    Path(name): Path<String>,
    Input(wire): Input<UpdateCodeWire>,
) -> ApiResult {
    if wire.dry_run == Some(true) {
        return Err(Invalid::parameter("Lamina does not support DryRun for UpdateFunctionCode yet.").into());
    }
    let source = code_source(wire.zip_file, wire.s3_bucket, wire.image_uri)?;
    let publish = wire.publish == Some(true);
    let f = s.lambda.update_code(&caller, &name, source, wire.revision_id.as_deref(), wire.architectures, publish)?;
    Ok(json_response(StatusCode::OK, &configuration(&f, f.version.map(|_| f.version_label()).as_deref())))
}

async fn delete_function(
    State(s): State<ApiState>,
    Who(caller): Who,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    s.lambda.delete_function(&caller, &name, qualifier(&q).as_deref())?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AccountLimitOut {
    total_code_size: u64,
    code_size_unzipped: u64,
    code_size_zipped: u64,
    concurrent_executions: u32,
    unreserved_concurrent_executions: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AccountUsageOut {
    total_code_size: u64,
    function_count: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AccountSettingsOut {
    account_limit: AccountLimitOut,
    account_usage: AccountUsageOut,
}

async fn account_settings(State(s): State<ApiState>, Who(caller): Who) -> ApiResult {
    let a: AccountSettings = s.lambda.account_settings(&caller)?;
    let out = AccountSettingsOut {
        account_limit: AccountLimitOut {
            total_code_size: limits::TOTAL_CODE_SIZE_BYTES,
            code_size_unzipped: limits::CODE_UNZIPPED_MAX_BYTES,
            code_size_zipped: limits::CODE_ZIPPED_MAX_BYTES,
            concurrent_executions: a.concurrency_limit,
            unreserved_concurrent_executions: a.unreserved_concurrency,
        },
        account_usage: AccountUsageOut { total_code_size: a.total_code_size, function_count: a.function_count },
    };
    Ok(json_response(StatusCode::OK, &out))
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListTagsOut {
    tags: BTreeMap<String, String>,
}

async fn list_tags(State(s): State<ApiState>, Who(caller): Who, Path(arn): Path<String>) -> ApiResult {
    let tags = s.lambda.list_tags(&caller, &arn)?;
    Ok(json_response(StatusCode::OK, &ListTagsOut { tags }))
}

async fn tag_resource(
    State(s): State<ApiState>,
    Who(caller): Who,
    Path(arn): Path<String>,
    Input(wire): Input<TagsWire>,
) -> ApiResult {
    let tags = wire.tags.ok_or_else(|| Invalid::from(Violation::null("tags")))?;
    if tags.is_empty() {
        return Err(Invalid::parameter("An error occurred and the request cannot be processed.").into());
    }
    s.lambda.tag_resource(&caller, &arn, tags)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn untag_resource(
    State(s): State<ApiState>,
    Who(caller): Who,
    Path(arn): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let keys: Vec<String> = query(&q).into_iter().filter(|(k, _)| k == "tagKeys").map(|(_, v)| v).collect();
    // An empty list travels as no `tagKeys` at all.
    if keys.is_empty() {
        return Err(Invalid::from(Violation::null("tagKeys")).into());
    }
    s.lambda.untag_resource(&caller, &arn, &keys)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn put_function_concurrency(
    State(s): State<ApiState>,
    Who(caller): Who,
    Path(name): Path<String>,
    Input(wire): Input<ConcurrencyWire>,
) -> ApiResult {
    let requested = wire
        .reserved_concurrent_executions
        .ok_or_else(|| Invalid::from(Violation::null("reservedConcurrentExecutions")))?;
    let n = s.lambda.put_concurrency(&caller, &name, requested)?;
    Ok(json_response(StatusCode::OK, &ConcurrencyWire { reserved_concurrent_executions: Some(i64::from(n)) }))
}

/// PutFunctionRecursionConfig's body and GetFunctionRecursionConfig's answer.
#[derive(Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct RecursionWire {
    recursive_loop: Option<String>,
}

impl Operation for RecursionWire {
    const NAME: &'static str = "PutFunctionRecursionConfig";
}

async fn put_recursion_config(
    State(s): State<ApiState>,
    Who(caller): Who,
    Path(name): Path<String>,
    Input(wire): Input<RecursionWire>,
) -> ApiResult {
    let setting = wire.recursive_loop.ok_or_else(|| Invalid::from(Violation::null("recursiveLoop")))?;
    let set = s.lambda.put_recursion_config(&caller, &name, &setting)?;
    Ok(json_response(StatusCode::OK, &RecursionWire { recursive_loop: Some(set) }))
}

async fn get_recursion_config(State(s): State<ApiState>, Who(caller): Who, Path(name): Path<String>) -> ApiResult {
    let setting = s.lambda.recursion_config(&caller, &name)?;
    Ok(json_response(StatusCode::OK, &RecursionWire { recursive_loop: Some(setting) }))
}

async fn get_function_concurrency(State(s): State<ApiState>, Who(caller): Who, Path(name): Path<String>) -> ApiResult {
    let n = s.lambda.get_concurrency(&caller, &name)?;
    Ok(json_response(StatusCode::OK, &ConcurrencyWire { reserved_concurrent_executions: n.map(i64::from) }))
}

async fn delete_function_concurrency(
    State(s): State<ApiState>,
    Who(caller): Who,
    Path(name): Path<String>,
) -> ApiResult {
    s.lambda.delete_concurrency(&caller, &name)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn put_event_invoke_config(
    State(s): State<ApiState>,
    Who(caller): Who,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
    Input(wire): Input<EventInvokeConfigIn>,
) -> ApiResult {
    let (arn, c) =
        s.lambda.put_event_invoke_config(&caller, &name, qualifier(&q).as_deref(), wire.into_input(), false)?;
    Ok(json_response(StatusCode::OK, &event_invoke_out(arn, &c)))
}

async fn update_event_invoke_config(
    State(s): State<ApiState>,
    Who(caller): Who,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
    Input(EventInvokeConfigUpdate(wire)): Input<EventInvokeConfigUpdate>,
) -> ApiResult {
    let (arn, c) =
        s.lambda.put_event_invoke_config(&caller, &name, qualifier(&q).as_deref(), wire.into_input(), true)?;
    Ok(json_response(StatusCode::OK, &event_invoke_out(arn, &c)))
}

async fn get_event_invoke_config(
    State(s): State<ApiState>,
    Who(caller): Who,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let (arn, c) = s.lambda.get_event_invoke_config(&caller, &name, qualifier(&q).as_deref())?;
    Ok(json_response(StatusCode::OK, &event_invoke_out(arn, &c)))
}

async fn delete_event_invoke_config(
    State(s): State<ApiState>,
    Who(caller): Who,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    s.lambda.delete_event_invoke_config(&caller, &name, qualifier(&q).as_deref())?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct EventInvokeConfigListOut {
    function_event_invoke_configs: Vec<EventInvokeConfigOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_marker: Option<String>,
}

async fn list_event_invoke_configs(
    State(s): State<ApiState>,
    Who(caller): Who,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let (configs, next_marker) =
        s.lambda.list_event_invoke_configs(&caller, &name, query_one(&q, "Marker").as_deref(), max_items(&q)?)?;
    let out = EventInvokeConfigListOut {
        function_event_invoke_configs: configs.into_iter().map(|(arn, c)| event_invoke_out(arn, &c)).collect(),
        next_marker,
    };
    Ok(json_response(StatusCode::OK, &out))
}

async fn invoke(
    State(s): State<ApiState>,
    Who(caller): Who,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
    Extension(RequestId(request_id)): Extension<RequestId>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let kind = match header("x-amz-invocation-type").unwrap_or("RequestResponse") {
        "RequestResponse" => InvocationType::RequestResponse,
        "Event" => InvocationType::Event,
        "DryRun" => InvocationType::DryRun,
        other => {
            return Err(Invalid::from(Violation::enumeration(
                other,
                "invocationType",
                &["Event", "RequestResponse", "DryRun"],
            ))
            .into())
        }
    };
    let log_tail = match header("x-amz-log-type").unwrap_or("None") {
        "None" => false,
        "Tail" => true,
        other => return Err(Invalid::from(Violation::enumeration(other, "logType", &["None", "Tail"])).into()),
    };
    let payload = read_body(&headers, body, limits::SYNC_PAYLOAD_MAX_BYTES, "InvokeFunction").await?;
    let request = lambda::InvokeInput {
        request_id,
        payload,
        log_tail: log_tail && kind == InvocationType::RequestResponse,
        client_context: header("x-amz-client-context").map(str::to_owned),
    };
    let outcome = s.lambda.invoke(&caller, &name, qualifier(&q).as_deref(), kind, request).await?;
    Ok(match outcome {
        InvokeOutcome::Accepted => StatusCode::ACCEPTED.into_response(),
        InvokeOutcome::Validated => StatusCode::NO_CONTENT.into_response(),
        InvokeOutcome::Completed(r) => {
            let mut resp = Response::new(Body::from(r.payload));
            let h = resp.headers_mut();
            h.insert("content-type", HeaderValue::from_static("application/json"));
            if let Ok(v) = HeaderValue::from_str(&r.executed_version) {
                h.insert("x-amz-executed-version", v);
            }
            if let Some(fe) = r.function_error {
                h.insert("x-amz-function-error", HeaderValue::from_static(fe));
            }
            if let Some(log) = r.log_result.and_then(|l| HeaderValue::from_str(&l).ok()) {
                h.insert("x-amz-log-result", log);
            }
            resp
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_modified_is_formatted_as_aws_does() {
        assert_eq!(last_modified(1_795_000_000_123), "2026-11-18T11:06:40.123+0000");
    }

    #[tokio::test]
    async fn errors_carry_type_header_and_body_shape() {
        let resp = error_response(LambdaError::NotFound("Function not found: x".into()));
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);
        assert_eq!(resp.headers()["x-amzn-errortype"], "ResourceNotFoundException");
        let body = axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v, serde_json::json!({"Type": "User", "Message": "Function not found: x"}));

        let resp = error_response(LambdaError::Invalid(Invalid::from(Violation::max_value(2, "x", 1))));
        assert_eq!(resp.headers()["x-amzn-errortype"], "ValidationException");
        let body = axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v.as_object().unwrap().keys().collect::<Vec<_>>(), ["message"]);
    }
}
