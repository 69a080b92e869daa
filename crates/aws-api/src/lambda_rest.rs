//! AWS Lambda's REST-JSON API (`/2015-03-31/...`): routes, wire shapes, error mapping.

use std::collections::BTreeMap;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use lambda::{
    AccountSettings, Caller, CodeSource, CreateFunction, InvocationType, InvokeOutcome, LambdaError, S3Location,
};
use model::limits;
use model::{FunctionDraft, Invalid, Violation};
use protocol::{Members, Output, ServiceError};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::lambda_api::{done, out, Call, Reply};
use crate::ApiState;

// ---------------------------------------------------------------------------------------
// Errors: the one place a LambdaError becomes an AWS error. The model gives each its
// status and its members' names (`message` or `Message`, `Type`).

pub(crate) fn service_error(err: &LambdaError) -> ServiceError {
    let e = |code: &str, message: &str| ServiceError::new(code, message);
    // Errors Lambda answers that its model does not declare, with their members as AWS
    // writes them.
    let unmodelled = |code: &str, status: u16, message_member: &str, message: &str| {
        e(code, message).status(status).members(Members::Empty).field("Type", "User").field(message_member, message)
    };
    match err {
        LambdaError::Invalid(Invalid::Constraints(_)) => e("ValidationException", &err.to_string()),
        LambdaError::Invalid(Invalid::Parameter(m)) => e("InvalidParameterValueException", m),
        LambdaError::Invalid(Invalid::Untyped(m)) => e("InvalidParameterValueException", m).members(Members::Untyped),
        LambdaError::NotFound(m) => e("ResourceNotFoundException", m),
        LambdaError::ProvisionedConfigNotFound(m) => e("ProvisionedConcurrencyConfigNotFoundException", m),
        LambdaError::Conflict(m) => e("ResourceConflictException", m),
        LambdaError::PreconditionFailed(m) => e("PreconditionFailedException", m),
        // The model calls it `RequestTooLargeException`; AWS answers this code.
        LambdaError::RequestTooLarge(m) => unmodelled("RequestEntityTooLargeException", 413, "message", m),
        LambdaError::InvalidRequestContent(m) => e("InvalidRequestContentException", m),
        LambdaError::TooManyRequests { message, reason } => {
            e("TooManyRequestsException", message).field("Reason", reason.to_string())
        }
        LambdaError::AccessDenied(m) => unmodelled("AccessDeniedException", 403, "Message", m),
        LambdaError::CodeSigningConfigMissing(m) => e("ResourceNotFoundException", m).members(Members::Untyped),
        LambdaError::CodeSigningConfigNotFound(m) => e("CodeSigningConfigNotFoundException", m),
        LambdaError::CodeVerificationFailed(m) => e("CodeVerificationFailedException", m),
        // AWS's body carries a null message (Java's exception without one).
        LambdaError::ForeignAccount => {
            e("AccessDeniedException", "").status(403).members(Members::Empty).field("Message", Value::Null)
        }
        LambdaError::PolicyLengthExceeded(m) => e("PolicyLengthExceededException", m),
        // AWS blames the function's runtime on its owner.
        LambdaError::InvalidRuntime(m) => ServiceError { sender_fault: Some(true), ..e("InvalidRuntimeException", m) },
        LambdaError::Service(m) => e("ServiceException", m),
    }
}

/// A LambdaError as an HTTP response (for Lamina's own routes beside the API: the code
/// links, the metrics).
pub(crate) fn error_response(err: LambdaError) -> Response {
    crate::ingress::error("lambda", protocol::Protocol::RestJson, &service_error(&err), "")
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
    #[serde(rename = "S3Key")]
    s3_key: Option<String>,
    #[serde(rename = "S3ObjectVersion")]
    s3_object_version: Option<String>,
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
    #[serde(rename = "S3Key")]
    s3_key: Option<String>,
    #[serde(rename = "S3ObjectVersion")]
    s3_object_version: Option<String>,
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

/// A package's S3 location, when a bucket is named.
pub(crate) fn s3_location(bucket: Option<String>, key: Option<String>, version: Option<String>) -> Option<S3Location> {
    bucket.map(|bucket| S3Location { bucket, key: key.unwrap_or_default(), version })
}

pub(crate) fn code_source(
    zip: Option<String>,
    s3: Option<S3Location>,
    image: Option<String>,
) -> Result<CodeSource, LambdaError> {
    if image.is_some() {
        return Err(Invalid::parameter(
            "Lamina runs .zip deployment packages; container images (ImageUri) are not supported.",
        )
        .into());
    }
    match (zip, s3) {
        (Some(b64), _) => {
            base64::engine::general_purpose::STANDARD.decode(b64.as_bytes()).map(CodeSource::Zip).map_err(|_| {
                LambdaError::InvalidRequestContent(
                    "Could not parse request body into json: ZipFile is not valid base64".into(),
                )
            })
        }
        (None, Some(location)) => Ok(CodeSource::S3(location)),
        (None, None) => Ok(CodeSource::None),
    }
}

pub(crate) use crate::lambda_configuration::{configuration, last_modified, listed, FunctionConfigurationWire};

// ---------------------------------------------------------------------------------------
// Handlers: an input tree into a service call, its result into an output tree.

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ConcurrencyWire {
    #[serde(skip_serializing_if = "Option::is_none")]
    reserved_concurrent_executions: Option<i64>,
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

/// PutFunctionEventInvokeConfig's and UpdateFunctionEventInvokeConfig's input.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct EventInvokeConfigIn {
    maximum_retry_attempts: Option<i64>,
    maximum_event_age_in_seconds: Option<i64>,
    destination_config: Option<DestinationConfigWire>,
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

pub(crate) fn create_function(s: &ApiState, c: &Call) -> Reply {
    let wire: CreateFunctionWire = c.body()?;
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
        code: code_source(
            code.zip_file,
            s3_location(code.s3_bucket, code.s3_key, code.s3_object_version),
            code.image_uri,
        )?,
        tags: wire.tags.unwrap_or_default(),
        publish: wire.publish == Some(true),
        code_signing: wire.code_signing_config_arn.filter(|a| !a.is_empty()),
    };
    let f = s.lambda.create_function(&c.caller, cmd)?;
    // With `Publish`, AWS answers the version's configuration under the unqualified ARN.
    out(configuration(&f, None))
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

pub(crate) fn get_function(s: &ApiState, c: &Call) -> Reply {
    let (f, shown) = s.lambda.get_function(&c.caller, &c.function(), c.qualifier().as_deref())?;
    let path = format!("/_lamina/code/{}/{}/{}/{}.zip", f.account, f.region, f.name, f.code.sha256_hex);
    let link = s.code_urls.sign(&path, &c.caller.account, unix_now());
    let location = format!("http://{}{path}?{link}", c.host);
    // Reserved concurrency belongs to the function, whichever version is shown; tags are
    // shown with the unpublished function only, as AWS shows them.
    let function = match f.version {
        Some(_) => s.lambda.get_function(&c.caller, &f.name, None)?.0,
        None => f.clone(),
    };
    let tags = (f.version.is_none() && !function.tags.is_empty()).then(|| function.tags.clone());
    out(GetFunctionOut {
        configuration: configuration(&f, shown.as_deref()),
        code: CodeLocationOut { repository_type: "S3", location },
        tags,
        concurrency: function
            .reserved_concurrency
            .map(|n| ConcurrencyWire { reserved_concurrent_executions: Some(i64::from(n)) }),
    })
}

/// `Code.Location`: the deployment package, addressed by its hash, through a link that
/// GetFunction signed.
pub(crate) async fn download_code(
    State(s): State<ApiState>,
    Path((account, region, name, file)): Path<(String, String, String, String)>,
    uri: axum::http::Uri,
) -> Response {
    if let Err(refused) = s.code_urls.check(uri.path(), uri.query(), unix_now()) {
        return link_refused(refused);
    }
    let caller = Caller { account, region };
    let Some(hex) = file.strip_suffix(".zip") else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match s.lambda.function_code(&caller, &name, hex) {
        Ok(zip) => ([("content-type", "application/zip")], zip).into_response(),
        Err(e) => error_response(e),
    }
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

pub(crate) fn get_function_configuration(s: &ApiState, c: &Call) -> Reply {
    let (f, shown) = s.lambda.get_function(&c.caller, &c.function(), c.qualifier().as_deref())?;
    out(configuration(&f, shown.as_deref()))
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListFunctionsOut {
    functions: Vec<FunctionConfigurationWire>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_marker: Option<String>,
}

pub(crate) fn list_functions(s: &ApiState, c: &Call) -> Reply {
    let all = c.text("FunctionVersion").as_deref() == Some("ALL");
    let page = s.lambda.list_functions(&c.caller, c.marker().as_deref(), c.max_items(), all)?;
    out(ListFunctionsOut {
        // Listing every version qualifies every ARN, `$LATEST`'s too.
        functions: page.functions.iter().map(|f| listed(f, all.then(|| f.version_label()).as_deref())).collect(),
        next_marker: page.next_marker,
    })
}

pub(crate) fn update_function_configuration(s: &ApiState, c: &Call) -> Reply {
    let wire: UpdateConfigurationWire = c.body()?;
    let patch = wire.config.into_draft(None)?;
    let f = s.lambda.update_configuration(&c.caller, &c.function(), patch, wire.revision_id.as_deref())?;
    out(configuration(&f, None))
}

pub(crate) fn update_function_code(s: &ApiState, c: &Call) -> Reply {
    let wire: UpdateCodeWire = c.body()?;
    if wire.dry_run == Some(true) {
        return Err(Invalid::parameter("Lamina does not support DryRun for UpdateFunctionCode yet.").into());
    }
    let s3 = s3_location(wire.s3_bucket, wire.s3_key, wire.s3_object_version);
    let source = code_source(wire.zip_file, s3, wire.image_uri)?;
    let publish = wire.publish == Some(true);
    let f = s.lambda.update_code(
        &c.caller,
        &c.function(),
        source,
        wire.revision_id.as_deref(),
        wire.architectures,
        publish,
    )?;
    out(configuration(&f, f.version.map(|_| f.version_label()).as_deref()))
}

pub(crate) fn delete_function(s: &ApiState, c: &Call) -> Reply {
    s.lambda.delete_function(&c.caller, &c.function(), c.qualifier().as_deref())?;
    Ok(json!({ "StatusCode": 204 }))
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

pub(crate) fn account_settings(s: &ApiState, c: &Call) -> Reply {
    let a: AccountSettings = s.lambda.account_settings(&c.caller)?;
    out(AccountSettingsOut {
        account_limit: AccountLimitOut {
            total_code_size: limits::TOTAL_CODE_SIZE_BYTES,
            code_size_unzipped: limits::CODE_UNZIPPED_MAX_BYTES,
            code_size_zipped: limits::CODE_ZIPPED_MAX_BYTES,
            concurrent_executions: a.concurrency_limit,
            unreserved_concurrent_executions: a.unreserved_concurrency,
        },
        account_usage: AccountUsageOut { total_code_size: a.total_code_size, function_count: a.function_count },
    })
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListTagsOut {
    tags: BTreeMap<String, String>,
}

pub(crate) fn list_tags(s: &ApiState, c: &Call) -> Reply {
    out(ListTagsOut { tags: s.lambda.list_tags(&c.caller, &c.label("Resource"))? })
}

pub(crate) fn tag_resource(s: &ApiState, c: &Call) -> Reply {
    let wire: TagsWire = c.body()?;
    let tags = wire.tags.ok_or_else(|| Invalid::from(Violation::null("tags")))?;
    if tags.is_empty() {
        return Err(Invalid::parameter("An error occurred and the request cannot be processed.").into());
    }
    s.lambda.tag_resource(&c.caller, &c.label("Resource"), tags)?;
    done()
}

pub(crate) fn untag_resource(s: &ApiState, c: &Call) -> Reply {
    let keys: Vec<String> = c.body::<UntagWire>()?.tag_keys.unwrap_or_default();
    // An empty list travels as no `tagKeys` at all.
    if keys.is_empty() {
        return Err(Invalid::from(Violation::null("tagKeys")).into());
    }
    s.lambda.untag_resource(&c.caller, &c.label("Resource"), &keys)?;
    done()
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UntagWire {
    tag_keys: Option<Vec<String>>,
}

pub(crate) fn put_function_concurrency(s: &ApiState, c: &Call) -> Reply {
    let requested = c
        .int("ReservedConcurrentExecutions")
        .ok_or_else(|| Invalid::from(Violation::null("reservedConcurrentExecutions")))?;
    let n = s.lambda.put_concurrency(&c.caller, &c.function(), requested)?;
    out(ConcurrencyWire { reserved_concurrent_executions: Some(i64::from(n)) })
}

/// PutFunctionRecursionConfig's body and GetFunctionRecursionConfig's answer.
#[derive(Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct RecursionWire {
    recursive_loop: Option<String>,
}

pub(crate) fn put_recursion_config(s: &ApiState, c: &Call) -> Reply {
    let setting = c.text("RecursiveLoop").ok_or_else(|| Invalid::from(Violation::null("recursiveLoop")))?;
    let set = s.lambda.put_recursion_config(&c.caller, &c.function(), &setting)?;
    out(RecursionWire { recursive_loop: Some(set) })
}

pub(crate) fn get_recursion_config(s: &ApiState, c: &Call) -> Reply {
    let setting = s.lambda.recursion_config(&c.caller, &c.function())?;
    out(RecursionWire { recursive_loop: Some(setting) })
}

pub(crate) fn get_function_concurrency(s: &ApiState, c: &Call) -> Reply {
    let n = s.lambda.get_concurrency(&c.caller, &c.function())?;
    out(ConcurrencyWire { reserved_concurrent_executions: n.map(i64::from) })
}

pub(crate) fn delete_function_concurrency(s: &ApiState, c: &Call) -> Reply {
    s.lambda.delete_concurrency(&c.caller, &c.function())?;
    done()
}

/// PutFunctionEventInvokeConfig, or UpdateFunctionEventInvokeConfig (`update`).
pub(crate) fn put_event_invoke_config(s: &ApiState, c: &Call, update: bool) -> Reply {
    let wire: EventInvokeConfigIn = c.body()?;
    let (arn, config) = s.lambda.put_event_invoke_config(
        &c.caller,
        &c.function(),
        c.qualifier().as_deref(),
        wire.into_input(),
        update,
    )?;
    out(event_invoke_out(arn, &config))
}

pub(crate) fn get_event_invoke_config(s: &ApiState, c: &Call) -> Reply {
    let (arn, config) = s.lambda.get_event_invoke_config(&c.caller, &c.function(), c.qualifier().as_deref())?;
    out(event_invoke_out(arn, &config))
}

pub(crate) fn delete_event_invoke_config(s: &ApiState, c: &Call) -> Reply {
    s.lambda.delete_event_invoke_config(&c.caller, &c.function(), c.qualifier().as_deref())?;
    done()
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct EventInvokeConfigListOut {
    function_event_invoke_configs: Vec<EventInvokeConfigOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_marker: Option<String>,
}

pub(crate) fn list_event_invoke_configs(s: &ApiState, c: &Call) -> Reply {
    let (configs, next_marker) =
        s.lambda.list_event_invoke_configs(&c.caller, &c.function(), c.marker().as_deref(), c.max_items())?;
    out(EventInvokeConfigListOut {
        function_event_invoke_configs: configs.into_iter().map(|(arn, c)| event_invoke_out(arn, &c)).collect(),
        next_marker,
    })
}

pub(crate) async fn invoke(s: &ApiState, c: &Call) -> Result<Output, LambdaError> {
    let kind = match c.text("InvocationType").as_deref().unwrap_or("RequestResponse") {
        "Event" => InvocationType::Event,
        "DryRun" => InvocationType::DryRun,
        _ => InvocationType::RequestResponse,
    };
    let log_tail = c.text("LogType").as_deref() == Some("Tail");
    let request = lambda::InvokeInput {
        request_id: c.request_id.clone(),
        payload: c.payload.clone().unwrap_or_default(),
        log_tail: log_tail && kind == InvocationType::RequestResponse,
        client_context: c.text("ClientContext"),
    };
    let outcome = s.lambda.invoke(&c.caller, &c.function(), c.qualifier().as_deref(), kind, request).await?;
    Ok(match outcome {
        InvokeOutcome::Accepted => Output::new(json!({ "StatusCode": 202 })),
        InvokeOutcome::Validated => Output::new(json!({ "StatusCode": 204 })),
        InvokeOutcome::Completed(r) => Output {
            value: json!({
                "StatusCode": 200,
                "ExecutedVersion": r.executed_version,
                "FunctionError": r.function_error,
                "LogResult": r.log_result,
            }),
            payload: Some(r.payload),
        },
    })
}

/// InvokeWithResponseStream: the function's response as AWS's event stream, a
/// `PayloadChunk` per piece as the function writes it (a response it did not stream is one
/// piece), then `InvokeComplete` with the error, if any, and the log's tail.
pub(crate) async fn invoke_with_response_stream(s: &ApiState, c: &Call) -> Result<Response, LambdaError> {
    use protocol::eventstream;
    let kind = match c.text("InvocationType").as_deref() {
        Some("DryRun") => InvocationType::DryRun,
        _ => InvocationType::Streaming,
    };
    let request = lambda::InvokeInput {
        request_id: c.request_id.clone(),
        payload: c.payload.clone().unwrap_or_default(),
        log_tail: c.text("LogType").as_deref() == Some("Tail"),
        client_context: c.text("ClientContext"),
    };
    let outcome = s.lambda.invoke(&c.caller, &c.function(), c.qualifier().as_deref(), kind, request).await?;
    let result = match outcome {
        InvokeOutcome::Completed(r) => r,
        InvokeOutcome::Accepted | InvokeOutcome::Validated => {
            let mut resp = Response::new(Body::empty());
            *resp.status_mut() = StatusCode::NO_CONTENT;
            resp.headers_mut().insert("x-amzn-requestid", header_value(&c.request_id));
            return Ok(resp);
        }
    };
    fn complete(code: Option<String>, details: Option<String>, log: Option<String>) -> Bytes {
        let doc = json!({ "ErrorCode": code, "ErrorDetails": details, "LogResult": log });
        let doc: serde_json::Map<String, Value> = doc
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        eventstream::event("InvokeComplete", "application/json", Value::Object(doc).to_string().as_bytes())
    }
    let body = match result.stream {
        Some(stream) => {
            let events = futures_util::stream::unfold(stream.events, |mut events| async move {
                let event = events.recv().await?;
                let message = match event {
                    lambda::StreamEvent::Chunk(bytes) => {
                        eventstream::event("PayloadChunk", "application/octet-stream", &bytes)
                    }
                    lambda::StreamEvent::Complete { error_code, error_details, log_result } => {
                        complete(error_code, error_details, log_result)
                    }
                };
                Some((Ok::<_, std::convert::Infallible>(message), events))
            });
            Body::from_stream(events)
        }
        None => {
            // A response the function did not stream: one piece, or the error.
            let mut whole = Vec::new();
            match result.function_error {
                None => {
                    whole.extend_from_slice(&eventstream::event(
                        "PayloadChunk",
                        "application/octet-stream",
                        &result.payload,
                    ));
                    whole.extend_from_slice(&complete(None, None, result.log_result));
                }
                Some(kind) => {
                    let details = String::from_utf8_lossy(&result.payload).into_owned();
                    whole.extend_from_slice(&complete(Some(kind.to_owned()), Some(details), result.log_result));
                }
            }
            Body::from(whole)
        }
    };
    let mut resp = Response::new(body);
    let h = resp.headers_mut();
    h.insert("content-type", HeaderValue::from_static(eventstream::CONTENT_TYPE));
    h.insert("x-amz-executed-version", header_value(&result.executed_version));
    h.insert("x-amzn-requestid", header_value(&c.request_id));
    Ok(resp)
}

fn header_value(v: &str) -> HeaderValue {
    HeaderValue::from_str(v).unwrap_or_else(|_| HeaderValue::from_static(""))
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

    #[tokio::test]
    async fn errors_the_model_does_not_declare_keep_aws_status_and_members() {
        async fn answer(e: LambdaError) -> (u16, String, serde_json::Value) {
            let resp = error_response(e);
            let status = resp.status().as_u16();
            let kind = resp.headers()["x-amzn-errortype"].to_str().unwrap().to_owned();
            let body = axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap();
            (status, kind, serde_json::from_slice(&body).unwrap())
        }
        let (status, kind, body) = answer(LambdaError::AccessDenied("no".into())).await;
        assert_eq!((status, kind.as_str()), (403, "AccessDeniedException"));
        assert_eq!(body, json!({"Type": "User", "Message": "no"}));
        let (status, kind, body) = answer(LambdaError::RequestTooLarge("big".into())).await;
        assert_eq!((status, kind.as_str()), (413, "RequestEntityTooLargeException"));
        assert_eq!(body, json!({"Type": "User", "message": "big"}));
        let (status, _, body) = answer(LambdaError::ForeignAccount).await;
        assert_eq!((status, body), (403, json!({"Message": null})));
        let (status, _, body) = answer(LambdaError::Invalid(Invalid::Untyped("x".into()))).await;
        assert_eq!((status, body), (400, json!({"message": "x"})));
        let (status, _, body) = answer(LambdaError::InvalidRuntime("r".into())).await;
        assert_eq!((status, body), (502, json!({"Type": "User", "Message": "r"})));
        let (status, _, body) = answer(LambdaError::TooManyRequests {
            message: "m".into(),
            reason: "ReservedFunctionConcurrentInvocationLimitExceeded",
        })
        .await;
        assert_eq!(
            (status, body),
            (
                429,
                json!({"Type": "User", "message": "m", "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded"})
            )
        );
    }
}
