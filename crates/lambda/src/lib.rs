//! The Lambda service: AWS Lambda's control-plane commands and invocation entry points,
//! executed against the model, the store and the invoker.
//!
//! The API layer turns requests into calls on [`LambdaService`] with plain Rust values
//! and gets back domain values or a [`LambdaError`], whose variants are exactly the AWS
//! error types a caller can see. This crate keeps the in-memory view of every function,
//! version, alias and layer reference (so an invoke never touches SQLite) and keeps it in
//! step with the store. An update of `$LATEST` is stored at once and then prepared in the
//! background (an environment initialised with it): as on AWS, it shows `InProgress` and
//! invocations run the previous revision until it is ready. It also runs the SQS event
//! source mappings' pollers (`esm.rs`), which read queues through the `sqs` crate and
//! invoke through this service. It owns the durable async queue (`async_queue.rs`:
//! `Event` invocations committed before the 202, run with retries, concluded with their
//! destination records and dead letters, delivered by `destinations.rs` to SQS and SNS),
//! and services' invocations (`service_calls.rs`: API Gateway's and SNS's, and function
//! URLs', each resolved once and decided by the function's resource policy here). It
//! keeps functions' resource policies (`policy.rs`),
//! which decide cross-account invokes and, in authenticated mode, services' invokes,
//! function URLs' configurations (`urls.rs`), with who may call each, and code signing
//! configurations (`signing.rs`), which every new code deployment is checked against.
//!
//! It never parses HTTP or JSON requests and never formats AWS responses.
#![deny(missing_docs)]

use model::sync::{Mutex, RwLock};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use bytes::Bytes;
use invoker::{Capacity, InvokeError, InvokeRequest, InvokeResult, Invoker, RuntimeStatus};
use model::arn::function_arn;
use model::limits;
use model::{
    Alias, EventInvokeConfig, Function, FunctionDraft, FunctionPatch, FunctionRef, FunctionState, Invalid,
    LastUpdateStatus, ProvisionedConfig, Qualifier,
};
use store::{AsyncEvent, CodeError, CodePin, CodeStore, MetadataStore, StoreError};

mod async_queue;
mod cache;
mod destinations;
mod esm;
mod event_invoke;
mod functions;
mod invoke;
mod layers;
pub mod policy;
mod service_calls;
mod settings;
mod signing;
mod stream_esm;
pub mod urls;
mod versions;
pub use async_queue::{AsyncConfig, AsyncQueue};
use cache::{Cache, Family, Update};
pub use destinations::{Destinations, Message};
pub use esm::{Mapping, MappingInput};
pub use invoker::{ResponseStream, StreamEvent};
pub use layers::{LayerFilter, LayerPage};
pub use service_calls::ServicePrincipal;
pub use signing::{CodeSigningConfig, CodeSigningInput};
pub use stream_esm::{ShardInfo, StreamRecord, StreamSettings, StreamSource};
pub use versions::{AliasPage, ProvisionedView, VersionPage};

/// Every error a Lambda API caller can see, one variant per AWS error type.
#[derive(Debug, thiserror::Error)]
pub enum LambdaError {
    /// `ValidationException` or `InvalidParameterValueException`.
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// `ResourceNotFoundException`.
    #[error("{0}")]
    NotFound(String),
    /// `ProvisionedConcurrencyConfigNotFoundException`.
    #[error("{0}")]
    ProvisionedConfigNotFound(String),
    /// `ResourceConflictException`.
    #[error("{0}")]
    Conflict(String),
    /// `PreconditionFailedException`.
    #[error("{0}")]
    PreconditionFailed(String),
    /// `RequestEntityTooLargeException`.
    #[error("{0}")]
    RequestTooLarge(String),
    /// `InvalidRequestContentException`.
    #[error("{0}")]
    InvalidRequestContent(String),
    /// `TooManyRequestsException`.
    #[error("{message}")]
    TooManyRequests {
        /// The message.
        message: String,
        /// AWS's `Reason` member.
        reason: &'static str,
    },
    /// `InvalidRuntimeException`.
    #[error("{0}")]
    InvalidRuntime(String),
    /// 403 `AccessDeniedException`: no resource policy lets the caller do this.
    #[error("{0}")]
    AccessDenied(String),
    /// 404 `ResourceNotFoundException` of the code signing configuration operations
    /// (without the `Type` the other operations' carry).
    #[error("{0}")]
    CodeSigningConfigMissing(String),
    /// 404 `CodeSigningConfigNotFoundException`.
    #[error("{0}")]
    CodeSigningConfigNotFound(String),
    /// 400 `CodeVerificationFailedException`: code not signed by an allowed profile under
    /// an `Enforce` policy.
    #[error("{0}")]
    CodeVerificationFailed(String),
    /// 403 `AccessDeniedException` with no message: a function would be made in another
    /// account.
    #[error("access denied")]
    ForeignAccount,
    /// 400 `PolicyLengthExceededException`.
    #[error("{0}")]
    PolicyLengthExceeded(String),
    /// `ServiceException`: Lamina failed.
    #[error("{0}")]
    Service(String),
}

impl From<StoreError> for LambdaError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "store failure");
        LambdaError::Service("An internal error occurred in the Lambda service.".into())
    }
}

impl From<CodeError> for LambdaError {
    fn from(e: CodeError) -> Self {
        match e {
            CodeError::InvalidZip(_) => LambdaError::Invalid(Invalid::parameter(
                "Could not unzip uploaded file. Please check your file, then try to upload again.",
            )),
            CodeError::TooLarge(_) => LambdaError::Invalid(Invalid::parameter(format!(
                "Unzipped size must be smaller than {} bytes",
                limits::CODE_UNZIPPED_MAX_BYTES
            ))),
            CodeError::Missing(_) | CodeError::Io(_) => {
                tracing::error!(error = %e, "code store failure");
                LambdaError::Service("An internal error occurred in the Lambda service.".into())
            }
        }
    }
}

pub use model::Caller;

/// Where a function's code comes from in CreateFunction / UpdateFunctionCode.
#[derive(Debug, Clone)]
pub enum CodeSource {
    /// `ZipFile`: the archive itself.
    Zip(Vec<u8>),
    /// `S3Bucket` / `S3Key` / `S3ObjectVersion`.
    S3(S3Location),
    /// Nothing usable was given.
    None,
}

/// S3 as Lambda uses it (connected after both start): where deployment packages named by
/// their S3 location are read, and where stream mappings' failure records are written.
pub trait CodeObjects: Send + Sync {
    /// The object's bytes, read as `caller`, if it is at most `max` bytes long; else S3's
    /// error code and message (`None` for an object over `max`).
    fn fetch(&self, caller: &Caller, location: &S3Location, max: u64) -> Result<Vec<u8>, Option<(String, String)>>;

    /// Writes an object as `caller` (the bucket's policy decides); why not, if it cannot.
    fn write<'a>(
        &'a self,
        caller: &'a Caller,
        bucket: &'a str,
        key: &'a str,
        body: Vec<u8>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send + 'a>>;
}

/// A deployment package's S3 location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    /// `S3Bucket`.
    pub bucket: String,
    /// `S3Key`.
    pub key: String,
    /// `S3ObjectVersion`.
    pub version: Option<String>,
}

/// A CreateFunction command.
#[derive(Debug, Clone)]
pub struct CreateFunction {
    /// `FunctionName`.
    pub name: String,
    /// Every other configuration member.
    pub draft: FunctionDraft,
    /// `Code`.
    pub code: CodeSource,
    /// `Tags`.
    pub tags: BTreeMap<String, String>,
    /// `Publish`: publish version 1 at once.
    pub publish: bool,
    /// `CodeSigningConfigArn`: the code signing configuration the function uses.
    pub code_signing: Option<String>,
}

/// A page of ListFunctions.
#[derive(Debug)]
pub struct FunctionPage {
    /// The functions.
    pub functions: Vec<Arc<Function>>,
    /// `NextMarker`, when more remain.
    pub next_marker: Option<String>,
}

/// Account limits and usage (GetAccountSettings).
#[derive(Debug)]
pub struct AccountSettings {
    /// Concurrent executions allowed.
    pub concurrency_limit: u32,
    /// Concurrency not reserved by any function.
    pub unreserved_concurrency: u32,
    /// Functions in the account.
    pub function_count: u64,
    /// Bytes of code stored.
    pub total_code_size: u64,
}

/// How an Invoke was asked to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvocationType {
    /// `RequestResponse`.
    RequestResponse,
    /// `Event`.
    Event,
    /// `DryRun`.
    DryRun,
    /// `RequestResponse` through InvokeWithResponseStream or a `RESPONSE_STREAM` function
    /// URL: a response the function streams reaches the caller as it is written.
    Streaming,
}

/// What an Invoke call produced.
#[derive(Debug)]
pub enum InvokeOutcome {
    /// A synchronous result.
    Completed(InvokeResult),
    /// The event was accepted for asynchronous processing.
    Accepted,
    /// DryRun: the caller may invoke.
    Validated,
}

/// One invocation as the API layer received it.
#[derive(Debug, Clone)]
pub struct InvokeInput {
    /// The request id, which becomes the invocation's id.
    pub request_id: String,
    /// The event.
    pub payload: Bytes,
    /// `LogType: Tail`.
    pub log_tail: bool,
    /// `X-Amz-Client-Context`.
    pub client_context: Option<String>,
}

pub(crate) use model::FunctionKey as Key;

pub(crate) fn key_of(f: &Function) -> Key {
    Key::new(&f.account, &f.region, &f.name)
}

/// AWS's refusal of a destination the function's execution role cannot use.
fn no_permission(action: &str, arn: &str) -> LambdaError {
    Invalid::parameter(format!("The function's execution role does not have permissions to call {action} on {arn}"))
        .into()
}

/// How the Lambda service runs.
#[derive(Debug, Clone)]
pub struct LambdaSettings {
    /// The async queue's retries, parallelism and clock.
    pub async_queue: AsyncConfig,
    /// The account concurrency limit (AWS's default is 1,000).
    pub concurrency_limit: u32,
    /// Whether services (API Gateway, SNS) and function URLs' callers need a resource
    /// policy statement to invoke a function, as on AWS (authenticated mode).
    pub authorize_services: bool,
}

/// The Lambda service.
#[derive(Clone)]
pub struct LambdaService {
    store: Arc<dyn MetadataStore>,
    code: CodeStore,
    invoker: Invoker,
    queue: AsyncQueue,
    cache: Arc<Cache>,
    concurrency_limit: u32,
    /// Whether services' invocations need a resource policy statement (authenticated
    /// mode); in open mode every service may invoke every function.
    authorize_services: bool,
    writes: Arc<Mutex<()>>,
    sources: Arc<esm::EventSources>,
    signing: Arc<signing::CodeSigning>,
    /// Where packages named by S3 location are read.
    objects: Arc<std::sync::OnceLock<Arc<dyn CodeObjects>>>,
}

fn now_ms() -> i64 {
    model::clock::now_ms()
}

fn new_revision() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Invoke and PutFunctionConcurrency name a missing function with the version they
/// address, `$LATEST` when none is named.
fn latest_named(e: LambdaError, name: &str, qualifier: Option<&str>) -> LambdaError {
    let unqualified =
        qualifier.is_none() && FunctionRef::parse(name, "functionName").is_ok_and(|r| r.qualifier.is_none());
    match e {
        LambdaError::NotFound(m) if unqualified && m.starts_with("Function not found: ") => {
            LambdaError::NotFound(format!("{m}:$LATEST"))
        }
        e => e,
    }
}

/// Rewords "no such function" (or alias) the way an operation answers it: URL configs,
/// event invoke configs and policies each have their own words. Other answers (a wrong
/// region) stay as they are.
pub(crate) fn missing_function_as(e: LambdaError, message: &str) -> LambdaError {
    match e {
        LambdaError::NotFound(m)
            if m.starts_with("Function not found: ") || m.starts_with("Cannot find alias arn: ") =>
        {
            LambdaError::NotFound(message.to_owned())
        }
        e => e,
    }
}

/// AWS's answer to a function ARN naming another region than the endpoint's.
fn other_region(region: &str, caller: &Caller) -> LambdaError {
    LambdaError::NotFound(format!("Functions from '{region}' are not reachable in this region ('{}')", caller.region))
}

pub(crate) fn not_found(caller: &Caller, name: &str, qualifier: Option<&Qualifier>) -> LambdaError {
    let mut arn = function_arn(&caller.region, &caller.account, name);
    if let Some(q) = qualifier {
        arn.push(':');
        arn.push_str(q.as_str());
    }
    LambdaError::NotFound(format!("Function not found: {arn}"))
}

impl LambdaService {
    /// Loads every function into memory and starts the async queue.
    pub fn start(
        store: Arc<dyn MetadataStore>,
        code: CodeStore,
        invoker: Invoker,
        settings: LambdaSettings,
        destinations: Destinations,
    ) -> Result<Self, StoreError> {
        let LambdaSettings { async_queue, concurrency_limit, authorize_services } = settings;
        // A package a stop left behind (one replaced while its update was prepared) goes.
        for hex in code.stored().unwrap_or_default() {
            if let Err(e) = code.remove_unused(&hex, || store.code_in_use(&hex).map_err(LambdaError::from)) {
                tracing::warn!("removing an unused package: {e}");
            }
        }
        let mut functions = HashMap::new();
        for f in store.all_functions()? {
            let f = Arc::new(f);
            invoker.prepare(f.clone());
            functions.insert(key_of(&f), f);
        }
        let mut families: HashMap<Key, Family> = HashMap::new();
        for v in store.all_versions()? {
            let n = v.version.unwrap_or(0);
            families.entry(key_of(&v)).or_default().versions.insert(n, Arc::new(v));
        }
        for a in store.all_aliases()? {
            let family = families.entry(Key::new(a.account, a.region, a.function)).or_default();
            family.aliases.insert(a.item.name.clone(), Arc::new(a.item));
        }
        for p in store.all_provisioned()? {
            let family = families.entry(Key::new(p.account, p.region, p.function)).or_default();
            family.provisioned.insert(p.item.qualifier.clone(), p.item);
        }
        let accounts: std::collections::BTreeSet<String> = functions.keys().map(|k: &Key| k.account.clone()).collect();
        let keys: Vec<Key> = families.keys().cloned().collect();
        let cache = Arc::new(Cache {
            functions: RwLock::new(functions),
            updating: RwLock::new(HashMap::new()),
            families: RwLock::new(families),
            reserved: RwLock::new(HashMap::new()),
            policies: RwLock::new(HashMap::new()),
            urls: RwLock::new(HashMap::new()),
            limit: concurrency_limit,
        });
        for account in accounts {
            cache.recount_reserved(&account);
        }
        let signing = Arc::new(signing::CodeSigning::load(store.as_ref())?);
        let queue = AsyncQueue::start(store.clone(), invoker.clone(), cache.clone(), async_queue, destinations)?;
        let service = LambdaService {
            store,
            code,
            invoker,
            queue,
            cache,
            concurrency_limit,
            authorize_services,
            writes: Arc::new(Mutex::new(())),
            sources: Arc::new(esm::EventSources::default()),
            signing,
            objects: Arc::new(std::sync::OnceLock::new()),
        };
        service.load_urls()?;
        for key in keys {
            service.apply_provisioning(&key);
        }
        Ok(service)
    }

    /// Checks a destination ARN for a function of `account`: a Lambda function, or a queue
    /// or topic of a service Lamina delivers to; another account's only where its
    /// resource policy lets `account` send there.
    pub(crate) fn check_destination(&self, arn: &str, account: &str) -> Result<(), LambdaError> {
        if arn.is_empty() {
            return Ok(());
        }
        let service = arn.split(':').nth(2).unwrap_or("");
        if service == "lambda" {
            let Ok(r) = FunctionRef::parse(arn, "destination") else {
                return Err(Invalid::parameter(format!("The destination ARN {arn} is invalid.")).into());
            };
            let (Some(owner), Some(region)) = (&r.account, &r.region) else {
                return Err(Invalid::parameter(format!("The destination ARN {arn} is invalid.")).into());
            };
            if owner == account {
                // A function of the caller's own must exist.
                if self.cache.event_target(owner, region, &r.name, r.qualifier.as_ref().map(|q| q.as_str())).is_none() {
                    return Err(Invalid::parameter(format!("The destination ARN {arn} is invalid.")).into());
                }
            } else {
                let target = self.cache.event_target(owner, region, &r.name, r.qualifier.as_ref().map(|q| q.as_str()));
                let allowed = target.is_some_and(|f| {
                    let q = r.qualifier.as_ref().map(|q| q.as_str().to_owned());
                    self.policy_allows(&f, q.as_deref(), policy::Principal::Account(account), policy::INVOKE)
                });
                if !allowed {
                    return Err(no_permission("InvokeFunction", arn));
                }
            }
            return Ok(());
        } else if arn.starts_with("arn:") && matches!(service, "sqs" | "sns" | "events" | "s3") {
            if self.queue.destinations().can_deliver(arn) {
                if self.queue.destinations().permits(arn, account) == Some(false) {
                    let action = if service == "sns" { "Publish" } else { "SendMessage" };
                    return Err(no_permission(action, arn));
                }
                return Ok(());
            }
            return Err(Invalid::parameter(format!(
                "Lamina cannot deliver to {service} destinations yet: {arn}. Use a Lambda function ARN."
            ))
            .into());
        }
        Err(Invalid::parameter(format!("The destination ARN {arn} is invalid.")).into())
    }

    /// Checks a dead-letter target of a function of `account` (the model has checked it
    /// is an SQS or SNS ARN): it is refused while no service delivers to it, rather than
    /// accepted and never used, and, in another account, unless its policy lets `account`
    /// send there.
    fn check_dead_letter(&self, config: &model::FunctionConfig, account: &str) -> Result<(), LambdaError> {
        match &config.dead_letter_target {
            Some(arn) if !self.queue.destinations().can_deliver(arn) => Err(Invalid::parameter(format!(
                "Lamina cannot deliver to dead-letter queues yet: {arn}. Use an OnFailure destination \
                 (PutFunctionEventInvokeConfig) with a Lambda function ARN."
            ))
            .into()),
            Some(arn) if self.queue.destinations().permits(arn, account) == Some(false) => {
                let (action, service) =
                    if arn.split(':').nth(2) == Some("sns") { ("Publish", "SNS") } else { ("SendMessage", "SQS") };
                Err(Invalid::parameter(format!(
                    "The provided execution role does not have permissions to call {action} on {service}"
                ))
                .into())
            }
            _ => Ok(()),
        }
    }

    /// Operational figures, for `/_lamina/metrics`.
    pub fn metrics(&self) -> Result<Metrics, LambdaError> {
        Ok(Metrics {
            invoker: self.invoker.stats(),
            async_queued: self.store.queued_events()?,
            functions: self.cache.functions.read().len(),
        })
    }

    /// The async queue, whose clock tests may move forward.
    pub fn queue(&self) -> &AsyncQueue {
        &self.queue
    }

    /// A function as the control plane shows it: an update in progress (see
    /// [`cache::Cache::shown`]), and `Failed` when this host cannot run its runtime, with
    /// the reason (or, while `Active`, a notice naming the interpreter that stands in for
    /// its runtime's version).
    pub(crate) fn shown(&self, f: Arc<Function>) -> Arc<Function> {
        let f = self.cache.shown(f);
        if f.state != FunctionState::Active {
            return f;
        }
        let (state, reason) = match self.invoker.runtime_status(f.config.runtime) {
            RuntimeStatus::Ready => return f,
            RuntimeStatus::Substitute(notice) => (FunctionState::Active, notice),
            RuntimeStatus::Unavailable(why) => (FunctionState::Failed, why),
        };
        let mut view = (*f).clone();
        view.state = state;
        view.state_reason = Some(reason);
        Arc::new(view)
    }

    /// The invoker, for metrics and shutdown.
    pub fn invoker(&self) -> &Invoker {
        &self.invoker
    }

    fn cached(&self, caller: &Caller, name: &str) -> Option<Arc<Function>> {
        self.cache.latest(&Key::new(&caller.account, &caller.region, name))
    }

    fn remember(&self, f: Function) -> Arc<Function> {
        let f = Arc::new(f);
        self.cache.functions.write().insert(key_of(&f), f.clone());
        self.cache.recount_reserved(&f.account);
        f
    }

    /// Resolves a `FunctionName` (and `Qualifier`) to `$LATEST` of a function in the
    /// caller's account, and the qualifier asked for, if any.
    fn resolve_ref(
        &self,
        caller: &Caller,
        name: &str,
        qualifier: Option<&str>,
    ) -> Result<(Arc<Function>, Option<Qualifier>), LambdaError> {
        let r = FunctionRef::parse(name, "functionName").map_err(Invalid::from)?;
        if let Some(region) = r.region.as_deref().filter(|reg| *reg != caller.region) {
            return Err(other_region(region, caller));
        }
        // The model admits `$` anywhere in a qualifier; one that no version or alias can
        // have (`$latest`) names nothing.
        let q = qualifier.map(|q| Qualifier::parse(q).unwrap_or_else(|| Qualifier::Named(q.to_owned())));
        if let (Some(a), Some(b)) = (&r.qualifier, &q) {
            if a != b {
                return Err(Invalid::parameter(
                    "The derived qualifier from the function name does not match the specified qualifier.",
                )
                .into());
            }
        }
        let q = q.or(r.qualifier.clone());
        if r.account.as_deref().is_some_and(|a| a != caller.account) {
            return Err(not_found(caller, &r.name, q.as_ref()));
        }
        let f = self.cached(caller, &r.name).ok_or_else(|| not_found(caller, &r.name, q.as_ref()))?;
        Ok((f, q))
    }

    /// Resolves a `FunctionName` to `$LATEST`, for operations on `$LATEST` only.
    fn resolve(&self, caller: &Caller, name: &str, qualifier: Option<&str>) -> Result<Arc<Function>, LambdaError> {
        match self.resolve_ref(caller, name, qualifier)? {
            (f, None | Some(Qualifier::Latest)) => Ok(f),
            (f, Some(other)) => Err(not_found(caller, &f.name, Some(&other))),
        }
    }

    /// Resolves a `FunctionName` and `Qualifier` to the version they name: `$LATEST`, a
    /// published version, or (choosing by the routing weights) an alias's version. Also
    /// returns the qualifier as given, which qualifies the ARN the caller sees.
    fn resolve_version(
        &self,
        caller: &Caller,
        name: &str,
        qualifier: Option<&str>,
    ) -> Result<(Arc<Function>, Option<String>), LambdaError> {
        self.resolve_picked(caller, name, qualifier, false)
    }

    /// As [`Self::resolve_version`], an alias with a routing configuration choosing
    /// between its versions by their weights when `routed` (an invocation).
    fn resolve_picked(
        &self,
        caller: &Caller,
        name: &str,
        qualifier: Option<&str>,
        routed: bool,
    ) -> Result<(Arc<Function>, Option<String>), LambdaError> {
        let (latest, q) = self.resolve_ref(caller, name, qualifier)?;
        match q {
            None => Ok((latest, None)),
            Some(Qualifier::Latest) => Ok((latest, Some("$LATEST".to_owned()))),
            Some(Qualifier::Named(q)) => {
                let found = {
                    let families = self.cache.families.read();
                    families.get(&key_of(&latest)).and_then(|fam| fam.pick(&latest, &q, routed))
                };
                match found {
                    Some(v) => Ok((v, Some(q))),
                    None => Err(not_found(caller, &latest.name, Some(&Qualifier::Named(q)))),
                }
            }
        }
    }

    fn family(&self, f: &Function) -> Option<Family> {
        self.cache.families.read().get(&key_of(f)).cloned()
    }

    /// Reads deployment packages named by S3 location from `objects`.
    pub fn read_code_from(&self, objects: Arc<dyn CodeObjects>) {
        let _ = self.objects.set(objects);
    }

    /// Stores a deployment package; the pin keeps it until the command records its user.
    fn store_code(&self, caller: &Caller, source: CodeSource) -> Result<(model::CodeInfo, CodePin), LambdaError> {
        match source {
            CodeSource::Zip(zip) => {
                if zip.len() as u64 > limits::CODE_ZIPPED_MAX_BYTES {
                    return Err(LambdaError::RequestTooLarge(format!(
                        "Zipped size must be smaller than {} bytes",
                        limits::CODE_ZIPPED_MAX_BYTES
                    )));
                }
                Ok(self.code.put(&zip)?)
            }
            CodeSource::S3(location) => {
                // A package from S3 may be as large as its unzipped limit.
                let max = limits::CODE_UNZIPPED_MAX_BYTES;
                let fetched = match self.objects.get() {
                    Some(objects) => objects.fetch(caller, &location, max),
                    None => Err(Some(("NoSuchBucket".into(), "The specified bucket does not exist".into()))),
                };
                let zip = fetched.map_err(|e| match e {
                    Some((code, message)) => Invalid::parameter(format!(
                        "Error occurred while GetObject. S3 Error Code: {code}. S3 Error Message: {message}"
                    )),
                    None => Invalid::parameter(format!("Unzipped size must be smaller than {max} bytes")),
                })?;
                Ok(self.code.put(&zip)?)
            }
            CodeSource::None => Err(Invalid::parameter("Please provide a source for function code.").into()),
        }
    }
}

/// Operational figures of the Lambda service.
#[derive(Debug, Clone)]
pub struct Metrics {
    /// The invoker's environments and running invocations.
    pub invoker: invoker::InvokerStats,
    /// Async events accepted and not yet finished.
    pub async_queued: u64,
    /// Functions in every account.
    pub functions: usize,
}

/// Raw PutFunctionEventInvokeConfig input. A destination of `Some("")` clears it.
#[derive(Debug, Clone, Default)]
pub struct EventInvokeInput {
    /// `MaximumRetryAttempts`.
    pub max_retries: Option<i64>,
    /// `MaximumEventAgeInSeconds`.
    pub max_event_age: Option<i64>,
    /// `DestinationConfig.OnSuccess.Destination`.
    pub on_success: Option<String>,
    /// `DestinationConfig.OnFailure.Destination`.
    pub on_failure: Option<String>,
}

/// The resources the tagging operations take, as the model's `resource` pattern names them.
const TAGGABLE_PATTERN: &str = "arn:(aws[a-zA-Z-]*):lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:\\d{12}:(function:[a-zA-Z0-9-_]+(:(\\$LATEST|[a-zA-Z0-9-_]+))?|code-signing-config:csc-[a-z0-9]{17}|event-source-mapping:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|capacity-provider:[a-zA-Z0-9-_]+)";

/// A resource the tagging operations address.
enum Tagged {
    Function(Arc<Function>),
    Mapping(String),
}

pub(crate) fn check_tags(tags: &BTreeMap<String, String>) -> Result<(), LambdaError> {
    if tags.len() > limits::TAGS_MAX {
        return Err(Invalid::parameter("Number of tags exceeds resource tag limit.").into());
    }
    Ok(())
}
