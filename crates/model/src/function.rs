//! Functions: the validated configuration and the raw input it is built from.

use std::collections::BTreeMap;

use crate::limits::*;
use crate::runtime::Runtime;
use crate::validate::{Invalid, Violation};

/// botocore's pattern for an execution role ARN.
pub const ROLE_PATTERN: &str = "arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+";
const ENV_NAME_PATTERN: &str = "[a-zA-Z]([a-zA-Z0-9_])+";

/// Environment variables Lambda sets itself, which a function may not override.
const RESERVED_ENV: &[&str] = &[
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SECRET_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
];

crate::aws_enum! {
    /// The instruction set a function is built for.
    pub enum Architecture {
        /// `x86_64`, the default.
        X86_64 = "x86_64",
        /// `arm64`.
        Arm64 = "arm64",
    }
}

crate::aws_enum! {
    /// X-Ray tracing mode.
    pub enum TracingMode {
        /// `PassThrough`, the default.
        PassThrough = "PassThrough",
        /// `Active`.
        Active = "Active",
    }
}

crate::aws_enum! {
    /// A function's lifecycle state.
    pub enum FunctionState {
        /// Being created.
        Pending = "Pending",
        /// Ready to invoke.
        Active = "Active",
        /// Creation failed.
        Failed = "Failed",
    }
}

crate::aws_enum! {
    /// The outcome of the last update.
    pub enum LastUpdateStatus {
        /// Applied.
        Successful = "Successful",
        /// Being applied.
        InProgress = "InProgress",
        /// Failed.
        Failed = "Failed",
    }
}

/// A function's validated configuration: everything a user sets, nothing derived.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionConfig {
    /// Runtime identifier; required for zip packages.
    pub runtime: Runtime,
    /// Execution role ARN (stored, not enforced).
    pub role: String,
    /// Handler string, e.g. `app.handler`.
    pub handler: String,
    /// Free text.
    pub description: String,
    /// Seconds before an invocation is stopped.
    pub timeout_s: u32,
    /// Memory limit in MB.
    pub memory_mb: u32,
    /// `/tmp` size in MB.
    pub ephemeral_mb: u32,
    /// The function's own environment variables: `None` if `Environment` was never
    /// given (AWS then shows none; an empty map given is shown empty).
    pub environment: Option<Variables>,
    /// Instruction set.
    pub architecture: Architecture,
    /// X-Ray mode (stored).
    pub tracing: TracingMode,
    /// `DeadLetterConfig.TargetArn`, if set.
    pub dead_letter_target: Option<String>,
    /// `Layers`, resolved, in the order they are merged into `/opt`.
    pub layers: Vec<crate::layer::FunctionLayer>,
    /// `LoggingConfig`.
    pub logging: LoggingConfig,
    /// `SnapStart.ApplyOn` is `PublishedVersions` (stored; Lamina's cold starts need no
    /// snapshot).
    pub snap_start: bool,
}

/// `LoggingConfig`: the format of a function's logs, their levels, and their log group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoggingConfig {
    /// `LogFormat` is `JSON` (else `Text`).
    pub json: bool,
    /// `ApplicationLogLevel`, with the JSON format only.
    pub application_level: Option<String>,
    /// `SystemLogLevel`, with the JSON format only.
    pub system_level: Option<String>,
    /// `LogGroup`, when not the function's own `/aws/lambda/<name>`.
    pub log_group: Option<String>,
}

/// `LoggingConfig` as sent: only the members given change.
#[derive(Debug, Clone, Default)]
pub struct LoggingDraft {
    /// `LogFormat`.
    pub log_format: Option<String>,
    /// `ApplicationLogLevel`.
    pub application_level: Option<String>,
    /// `SystemLogLevel`.
    pub system_level: Option<String>,
    /// `LogGroup`.
    pub log_group: Option<String>,
}

impl LoggingConfig {
    /// The configuration after `draft`, as AWS merges it: members not sent are kept; the
    /// JSON format has both levels (`INFO` unless given), the text format neither.
    pub fn merged(&self, draft: LoggingDraft) -> LoggingConfig {
        let mut next = self.clone();
        if let Some(format) = draft.log_format {
            next.json = format == "JSON";
        }
        if let Some(group) = draft.log_group {
            next.log_group = Some(group);
        }
        if next.json {
            let info = || Some("INFO".to_owned());
            next.application_level = draft.application_level.or(next.application_level).or_else(info);
            next.system_level = draft.system_level.or(next.system_level).or_else(info);
        } else {
            next.application_level = None;
            next.system_level = None;
        }
        next
    }
}

/// Code facts shown in a function's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeInfo {
    /// SHA-256 of the zip, base64 (AWS's `CodeSha256`).
    pub sha256_b64: String,
    /// SHA-256 of the zip, lowercase hex: the blob's name in the code store.
    pub sha256_hex: String,
    /// Size of the zip in bytes.
    pub size: u64,
}

/// A function as stored: `$LATEST` with its code and bookkeeping, or a published version
/// (a frozen copy of `$LATEST` as it was when published).
#[derive(Debug, Clone, PartialEq)]
pub struct Function {
    /// The function's name.
    pub name: String,
    /// The owning account.
    pub account: String,
    /// The region it lives in.
    pub region: String,
    /// The configuration.
    pub config: FunctionConfig,
    /// The deployment package.
    pub code: CodeInfo,
    /// Changes on every update; used for optimistic concurrency.
    pub revision_id: String,
    /// Milliseconds since the Unix epoch of the last change.
    pub last_modified_ms: i64,
    /// Lifecycle state.
    pub state: FunctionState,
    /// Outcome of the last update.
    pub last_update_status: LastUpdateStatus,
    /// Resource tags.
    pub tags: BTreeMap<String, String>,
    /// Concurrency reserved for this function (PutFunctionConcurrency), if any.
    pub reserved_concurrency: Option<u32>,
    /// `RecursiveLoop` as PutFunctionRecursionConfig set it: `Allow`; `None` is AWS's
    /// default, `Terminate`.
    pub recursive_loop: Option<String>,
    /// How asynchronous invocations are retried and where their outcomes go.
    pub event_invoke: Option<EventInvokeConfig>,
    /// `None` for `$LATEST`; the number of a published version.
    pub version: Option<u32>,
    /// On `$LATEST`: the highest version number ever published (numbers are never reused).
    pub last_version: u32,
    /// Why the function is `Failed` (this host cannot run its runtime), or, while it is
    /// `Active`, which interpreter stands in for its runtime's version. Derived from the
    /// host when the function is shown; never stored.
    pub state_reason: Option<String>,
}

/// PutFunctionEventInvokeConfig: retries, event age and destinations for async invokes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EventInvokeConfig {
    /// Retries after the first attempt, 0–2 (default 2).
    pub max_retries: Option<u32>,
    /// Oldest an event may be, 60–21600 s (default 21600).
    pub max_event_age_s: Option<u32>,
    /// Where a successful invocation's record goes.
    pub on_success: Option<String>,
    /// Where a failed (or expired) invocation's record goes.
    pub on_failure: Option<String>,
    /// Milliseconds since the epoch of the last change.
    pub last_modified_ms: i64,
}

impl EventInvokeConfig {
    /// Validates the numeric members as AWS does (a ValidationException).
    pub fn check(retries: Option<i64>, age: Option<i64>) -> Result<(Option<u32>, Option<u32>), Invalid> {
        let mut c = Checker { violations: Vec::new() };
        let r = c.int(retries, "maximumRetryAttempts", 0, 2);
        let a = c.int(age, "maximumEventAgeInSeconds", 60, ASYNC_MAX_EVENT_AGE_S as i64);
        if c.violations.is_empty() {
            Ok((r, a))
        } else {
            Err(Invalid::Constraints(c.violations))
        }
    }
}

impl Function {
    /// The unqualified ARN.
    pub fn arn(&self) -> String {
        crate::arn::function_arn(&self.region, &self.account, &self.name)
    }

    /// The version as AWS names it: `$LATEST` or the number.
    pub fn version_label(&self) -> String {
        self.version.map_or_else(|| "$LATEST".to_owned(), |n| n.to_string())
    }

    /// The ARN qualified with this version.
    pub fn qualified_arn(&self) -> String {
        format!("{}:{}", self.arn(), self.version_label())
    }

    /// Whether `other` has the same code and configuration, so that publishing this one
    /// after it would publish nothing new. Descriptions do not count: PublishVersion can
    /// give a version its own.
    pub fn same_release(&self, other: &Function) -> bool {
        let plain = |c: &FunctionConfig| FunctionConfig { description: String::new(), ..c.clone() };
        self.code == other.code && plain(&self.config) == plain(&other.config)
    }

    /// The CloudWatch log group the function writes to.
    pub fn log_group(&self) -> String {
        match &self.config.logging.log_group {
            Some(group) => group.clone(),
            None => format!("/aws/lambda/{}", self.name),
        }
    }

    /// The session its code runs as: its execution role assumed under the function's
    /// name (a name shorter than STS's two characters gets `@lambda_function`, as on AWS).
    /// The session acts in the function's own account, whatever account the role ARN
    /// names: a function cannot reach another account by naming its role. `(account,
    /// principal ARN)`.
    pub fn execution_session(&self) -> (String, String) {
        // arn:aws:iam::{account}:role/{path/}{name}
        let path = self.config.role.split_once(":role/").map_or("lambda-role", |(_, p)| p);
        let role = path.rsplit('/').next().unwrap_or(path);
        let session =
            if self.name.chars().count() < 2 { format!("{}@lambda_function", self.name) } else { self.name.clone() };
        (self.account.clone(), format!("arn:aws:sts::{}:assumed-role/{role}/{session}", self.account))
    }
}

/// Raw CreateFunction input, before validation. Numbers are wide so that out-of-range
/// values can be reported exactly as sent.
#[derive(Debug, Clone, Default)]
pub struct FunctionDraft {
    /// `Runtime`.
    pub runtime: Option<String>,
    /// `Role`.
    pub role: Option<String>,
    /// `Handler`.
    pub handler: Option<String>,
    /// `Description`.
    pub description: Option<String>,
    /// `Timeout`.
    pub timeout: Option<i64>,
    /// `MemorySize`.
    pub memory_size: Option<i64>,
    /// `EphemeralStorage.Size`.
    pub ephemeral_size: Option<i64>,
    /// `Environment.Variables`.
    pub environment: Option<Variables>,
    /// `Architectures`.
    pub architectures: Option<Vec<String>>,
    /// `TracingConfig.Mode`.
    pub tracing_mode: Option<String>,
    /// `DeadLetterConfig.TargetArn`.
    pub dead_letter_target: Option<String>,
    /// `Layers`, as ARNs; resolved by the service, which sets [`FunctionConfig::layers`].
    pub layers: Option<Vec<String>>,
    /// `LoggingConfig`.
    pub logging: Option<LoggingDraft>,
    /// `SnapStart.ApplyOn`.
    pub snap_start: Option<String>,
}

/// Raw UpdateFunctionConfiguration input: only the members that were sent.
pub type FunctionPatch = FunctionDraft;

/// A function's environment variables, in the order they were given (AWS shows and
/// measures them in that order).
pub type Variables = indexmap::IndexMap<String, String>;

struct Checker {
    violations: Vec<Violation>,
}

impl Checker {
    fn int(&mut self, value: Option<i64>, field: &str, min: i64, max: i64) -> Option<u32> {
        let v = value?;
        if v < min {
            self.violations.push(Violation::min_value(v, field, min));
            None
        } else if v > max {
            self.violations.push(Violation::max_value(v, field, max));
            None
        } else {
            Some(v as u32)
        }
    }
}

impl FunctionDraft {
    /// Validates a CreateFunction request into a configuration.
    pub fn into_config(self) -> Result<FunctionConfig, Invalid> {
        let role = self.role.clone();
        let runtime = self.runtime.clone();
        let handler = self.handler.clone();
        let base = FunctionConfig {
            // Placeholders; `apply` below checks and replaces every member that was sent,
            // and the checks after it require the ones a zip function must have.
            runtime: Runtime::parse("provided.al2023").expect("known runtime"),
            role: String::new(),
            handler: String::new(),
            description: String::new(),
            timeout_s: TIMEOUT_DEFAULT_S,
            memory_mb: MEMORY_DEFAULT_MB,
            ephemeral_mb: EPHEMERAL_DEFAULT_MB,
            environment: None,
            architecture: Architecture::X86_64,
            tracing: TracingMode::PassThrough,
            dead_letter_target: None,
            layers: Vec::new(),
            logging: LoggingConfig::default(),
            snap_start: false,
        };
        let config = self.apply_to(base)?;
        if role.is_none() {
            return Err(Invalid::parameter("Role is required."));
        }
        if runtime.is_none() || handler.as_deref().unwrap_or("").is_empty() {
            return Err(Invalid::parameter(
                "Runtime and Handler are mandatory parameters for functions created with deployment packages.",
            ));
        }
        Ok(config)
    }

    /// Validates the members that were sent and applies them to `config`: the model's
    /// shape checks first (all of their violations together), then Lambda's own, as AWS
    /// orders them.
    pub fn apply_to(self, config: FunctionConfig) -> Result<FunctionConfig, Invalid> {
        let checked = self.check_shapes()?;
        self.check_service(&checked)?;
        Ok(self.apply(checked, config))
    }

    /// The members' shape checks, with the values they parse to.
    fn check_shapes(&self) -> Result<Checked, Invalid> {
        let mut c = Checker { violations: Vec::new() };

        let runtime = match self.runtime.as_deref() {
            Some(id) => match Runtime::parse(id) {
                Some(r) => Some(r),
                // Lambda words an unknown runtime its own way, under
                // InvalidParameterValueException (the model's check leaves it here).
                None => {
                    return Err(Invalid::parameter(format!(
                        "Value {id} at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: \
                         [{}] or be a valid ARN",
                        crate::runtime::LISTED_IN_ERRORS.join(", ")
                    )))
                }
            },
            None => None,
        };
        if let Some(role) = &self.role {
            if !is_role_arn(role) {
                c.violations.push(Violation::pattern(role, "role", ROLE_PATTERN));
            }
        }
        if let Some(handler) = &self.handler {
            if handler.len() > HANDLER_MAX {
                c.violations.push(Violation::max_length(handler, "handler", HANDLER_MAX));
            } else if !handler.is_empty() && handler.chars().any(char::is_whitespace) {
                c.violations.push(Violation::pattern(handler, "handler", "[^\\s]+"));
            }
        }
        if let Some(d) = &self.description {
            if d.chars().count() > DESCRIPTION_MAX {
                c.violations.push(Violation::max_length(d, "description", DESCRIPTION_MAX));
            }
        }
        let timeout = match self.timeout {
            // The shape has no maximum; the 900 s limit is a service check.
            Some(t) if t < TIMEOUT_MIN_S => {
                c.violations.push(Violation::min_value(t, "timeout", TIMEOUT_MIN_S));
                None
            }
            t => t,
        };
        let memory = c.int(self.memory_size, "memorySize", MEMORY_MIN_MB, MEMORY_MAX_MB);
        let ephemeral = c.int(self.ephemeral_size, "ephemeralStorage.size", EPHEMERAL_MIN_MB, EPHEMERAL_MAX_MB);
        let architecture = match &self.architectures {
            Some(list) if list.len() != 1 => {
                let shown = format!("[{}]", list.join(", "));
                c.violations.push(Violation::new(
                    shown,
                    "architectures",
                    if list.is_empty() {
                        "Member must have length greater than or equal to 1"
                    } else {
                        "Member must have length less than or equal to 1"
                    },
                ));
                None
            }
            Some(list) => match Architecture::parse(&list[0]) {
                Some(a) => Some(a),
                None => {
                    c.violations.push(Violation::enumeration(&list[0], "architectures", &["x86_64", "arm64"]));
                    None
                }
            },
            None => None,
        };
        let tracing = match self.tracing_mode.as_deref() {
            Some(m) => match TracingMode::parse(m) {
                Some(t) => Some(t),
                None => {
                    c.violations.push(Violation::enumeration(m, "tracingConfig.mode", &["Active", "PassThrough"]));
                    None
                }
            },
            None => None,
        };
        if let Some(env) = &self.environment {
            if env.keys().any(|k| !is_env_name(k)) {
                c.violations.push(Violation::sensitive(
                    "environment.variables",
                    format!("Map keys must satisfy constraint: [Member must satisfy regular expression pattern: {ENV_NAME_PATTERN}]"),
                ));
            }
        }
        if !c.violations.is_empty() {
            return Err(Invalid::Constraints(c.violations));
        }
        Ok(Checked { runtime, timeout, memory, ephemeral, architecture, tracing })
    }

    /// Lambda's own checks of members whose shapes are valid.
    fn check_service(&self, checked: &Checked) -> Result<(), Invalid> {
        // Service-level checks, after the shape checks pass, as AWS orders them.
        if let Some(t) = checked.timeout {
            if t > TIMEOUT_MAX_S {
                return Err(Invalid::parameter(format!(
                    "Timeout value {t} is invalid. Value must be between 1 and 900 seconds."
                )));
            }
        }
        if let Some(r) = checked.runtime {
            if let Some(instead) = r.create_blocked() {
                return Err(Invalid::parameter(format!(
                    "The runtime parameter of {r} is no longer supported for creating or updating AWS Lambda functions. \
                     We recommend you use the new runtime ({instead}) while creating or updating functions."
                )));
            }
        }
        if let Some(env) = &self.environment {
            let reserved: Vec<&str> = env.keys().map(String::as_str).filter(|k| RESERVED_ENV.contains(k)).collect();
            if !reserved.is_empty() {
                return Err(Invalid::parameter(format!(
                    "Lambda was unable to configure your environment variables because the environment variables \
                     you have provided contains reserved keys that are currently not supported for modification. \
                     Reserved keys used in this request: {}",
                    reserved.join(", ")
                )));
            }
            let measured = environment_json(env);
            if measured.len() > ENVIRONMENT_MAX_BYTES {
                return Err(Invalid::parameter(format!(
                    "Lambda was unable to configure your environment variables because the environment variables \
                     you have provided exceeded the 4KB limit. String measured: {measured}"
                )));
            }
        }
        if let Some(layers) = &self.layers {
            crate::layer::check_function_layers(layers)?;
        }
        if let Some(dlq) = &self.dead_letter_target {
            if !(dlq.is_empty() || dlq.starts_with("arn:aws:sqs:") || dlq.starts_with("arn:aws:sns:")) {
                return Err(Invalid::parameter(format!(
                    "The provided dead letter target ARN is not valid: {dlq}. The target must be an SQS queue or SNS topic ARN."
                )));
            }
        }
        Ok(())
    }

    /// Sets every member that was sent.
    fn apply(self, checked: Checked, mut config: FunctionConfig) -> FunctionConfig {
        let Checked { runtime, timeout, memory, ephemeral, architecture, tracing } = checked;
        if let Some(r) = runtime {
            config.runtime = r;
        }
        if let Some(role) = self.role {
            config.role = role;
        }
        if let Some(h) = self.handler {
            config.handler = h;
        }
        if let Some(d) = self.description {
            config.description = d;
        }
        if let Some(t) = timeout {
            config.timeout_s = t as u32;
        }
        if let Some(m) = memory {
            config.memory_mb = m;
        }
        if let Some(e) = ephemeral {
            config.ephemeral_mb = e;
        }
        if let Some(env) = self.environment {
            config.environment = Some(env);
        }
        if let Some(logging) = self.logging {
            config.logging = config.logging.merged(logging);
        }
        if let Some(apply_on) = self.snap_start {
            config.snap_start = apply_on == "PublishedVersions";
        }
        if let Some(a) = architecture {
            config.architecture = a;
        }
        if let Some(t) = tracing {
            config.tracing = t;
        }
        if let Some(dlq) = self.dead_letter_target {
            config.dead_letter_target = if dlq.is_empty() { None } else { Some(dlq) };
        }
        config
    }
}

/// A draft's members, parsed by its shape checks.
struct Checked {
    runtime: Option<Runtime>,
    timeout: Option<i64>,
    memory: Option<u32>,
    ephemeral: Option<u32>,
    architecture: Option<Architecture>,
    tracing: Option<TracingMode>,
}

fn is_role_arn(s: &str) -> bool {
    // arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+
    let Some(rest) = s.strip_prefix("arn:") else {
        return false;
    };
    let Some((partition, rest)) = rest.split_once(':') else {
        return false;
    };
    if !(partition.is_empty()
        || (partition.starts_with("aws") && partition[3..].chars().all(|c| c.is_ascii_alphabetic() || c == '-')))
    {
        return false;
    }
    let Some(rest) = rest.strip_prefix("iam::") else {
        return false;
    };
    let Some((account, rest)) = rest.split_once(':') else {
        return false;
    };
    if account.len() != 12 || !account.chars().all(|c| c.is_ascii_digit()) {
        return false;
    }
    let Some(path) = rest.strip_prefix("role") else {
        return false;
    };
    let path = path.strip_prefix('/').unwrap_or(path);
    !path.is_empty() && path.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@-_/".contains(c))
}

fn is_env_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && s.len() >= 2
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The variables as the JSON object AWS measures against the 4 KB limit.
fn environment_json(env: &Variables) -> String {
    let body: Vec<String> = env.iter().map(|(k, v)| format!("\"{k}\":\"{v}\"")).collect();
    format!("{{{}}}", body.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logging_config_merges_as_aws_does() {
        let draft = |format: Option<&str>, app: Option<&str>, group: Option<&str>| LoggingDraft {
            log_format: format.map(str::to_owned),
            application_level: app.map(str::to_owned),
            system_level: None,
            log_group: group.map(str::to_owned),
        };
        let json = LoggingConfig::default().merged(draft(Some("JSON"), None, None));
        assert!(json.json);
        assert_eq!((json.application_level.as_deref(), json.system_level.as_deref()), (Some("INFO"), Some("INFO")));
        let debug = json.merged(draft(None, Some("DEBUG"), Some("g")));
        assert_eq!((debug.application_level.as_deref(), debug.log_group.as_deref()), (Some("DEBUG"), Some("g")));
        let text = debug.merged(draft(Some("Text"), None, None));
        assert_eq!(text, LoggingConfig { log_group: Some("g".into()), ..Default::default() });
    }

    fn draft() -> FunctionDraft {
        FunctionDraft {
            runtime: Some("python3.12".into()),
            role: Some("arn:aws:iam::123456789012:role/lambda-role".into()),
            handler: Some("app.handler".into()),
            ..Default::default()
        }
    }

    #[test]
    fn defaults_match_aws() {
        let c = draft().into_config().unwrap();
        assert_eq!(c.timeout_s, 3);
        assert_eq!(c.memory_mb, 128);
        assert_eq!(c.ephemeral_mb, 512);
        assert_eq!(c.architecture, Architecture::X86_64);
        assert_eq!(c.runtime.as_str(), "python3.12");
    }

    #[test]
    fn memory_out_of_range_is_a_validation_exception() {
        let e = FunctionDraft { memory_size: Some(20000), ..draft() }.into_config().unwrap_err();
        assert_eq!(
            e.to_string(),
            "1 validation error detected: Value '20000' at 'memorySize' failed to satisfy constraint: \
             Member must have value less than or equal to 10240"
        );
        let e = FunctionDraft { memory_size: Some(64), ..draft() }.into_config().unwrap_err();
        assert!(matches!(e, Invalid::Constraints(_)));
    }

    #[test]
    fn timeout_over_900_is_an_invalid_parameter() {
        let e = FunctionDraft { timeout: Some(901), ..draft() }.into_config().unwrap_err();
        assert_eq!(e, Invalid::parameter("Timeout value 901 is invalid. Value must be between 1 and 900 seconds."));
        let e = FunctionDraft { timeout: Some(0), ..draft() }.into_config().unwrap_err();
        assert!(matches!(e, Invalid::Constraints(_)));
    }

    #[test]
    fn unknown_and_deprecated_runtimes() {
        let e = FunctionDraft { runtime: Some("cobol".into()), ..draft() }.into_config().unwrap_err();
        assert!(matches!(&e, Invalid::Parameter(m) if m.starts_with(
            "Value cobol at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: [nodejs20.x, "
        )));
        let e = FunctionDraft { runtime: Some("python2.7".into()), ..draft() }.into_config().unwrap_err();
        assert!(
            matches!(&e, Invalid::Parameter(m) if m.starts_with("The runtime parameter of python2.7 is no longer supported"))
        );
    }

    #[test]
    fn bad_role_and_handler() {
        let e = FunctionDraft { role: Some("not-a-role".into()), ..draft() }.into_config().unwrap_err();
        assert!(e
            .to_string()
            .contains("at 'role' failed to satisfy constraint: Member must satisfy regular expression pattern"));
        let e = FunctionDraft { handler: Some("a b".into()), ..draft() }.into_config().unwrap_err();
        assert!(e.to_string().contains("at 'handler'"));
        assert!(is_role_arn("arn:aws:iam::000000000000:role/service-role/x"));
    }

    #[test]
    fn missing_runtime_or_handler() {
        let e = FunctionDraft { handler: None, ..draft() }.into_config().unwrap_err();
        assert!(matches!(e, Invalid::Parameter(m) if m.contains("Runtime and Handler are mandatory")));
    }

    #[test]
    fn environment_limits() {
        let mut env = Variables::new();
        env.insert("BIG".to_string(), "x".repeat(4100));
        let e = FunctionDraft { environment: Some(env), ..draft() }.into_config().unwrap_err();
        assert!(matches!(&e, Invalid::Parameter(m) if m.contains("exceeded the 4KB limit")));

        let mut env = Variables::new();
        env.insert("AWS_REGION".to_string(), "x".into());
        let e = FunctionDraft { environment: Some(env), ..draft() }.into_config().unwrap_err();
        assert!(matches!(&e, Invalid::Parameter(m) if m.ends_with("Reserved keys used in this request: AWS_REGION")));

        let mut env = Variables::new();
        env.insert("1BAD".to_string(), "x".into());
        let e = FunctionDraft { environment: Some(env), ..draft() }.into_config().unwrap_err();
        assert!(e.to_string().starts_with("1 validation error detected: Value at 'environment.variables'"));
    }

    #[test]
    fn patch_only_touches_what_was_sent() {
        let base = draft().into_config().unwrap();
        let patched = FunctionPatch { memory_size: Some(256), ..Default::default() }.apply_to(base.clone()).unwrap();
        assert_eq!(patched.memory_mb, 256);
        assert_eq!(patched.handler, base.handler);
    }
}
