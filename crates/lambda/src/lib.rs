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
//! invoke through this service, and keeps functions' resource policies (`policy.rs`),
//! which decide cross-account invokes and, in authenticated mode, services' invokes,
//! function URLs' configurations (`urls.rs`), with who may call each, and code signing
//! configurations (`signing.rs`), which every new code deployment is checked against.
//!
//! It never parses HTTP or JSON requests and never formats AWS responses.
#![deny(missing_docs)]

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock};

use bytes::Bytes;
use invoker::{AsyncQueue, Capacity, FunctionLookup, InvokeError, InvokeRequest, InvokeResult, Invoker};
use model::arn::function_arn;
use model::limits;
use model::{
    Alias, EventInvokeConfig, Function, FunctionDraft, FunctionPatch, FunctionRef, FunctionState, Invalid,
    LastUpdateStatus, ProvisionedConfig, Qualifier,
};
use store::{AsyncEvent, CodeError, CodePin, CodeStore, MetadataStore, StoreError};

mod esm;
mod event_invoke;
mod layers;
pub mod policy;
mod signing;
pub mod urls;
mod versions;
pub use esm::{Mapping, MappingInput};
pub use layers::{LayerFilter, LayerPage};
pub use signing::{CodeSigningConfig, CodeSigningInput};
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

/// Who is calling, as the API layer determined it.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The account the request acts in.
    pub account: String,
    /// The region the request was sent to.
    pub region: String,
}

/// Where a function's code comes from in CreateFunction / UpdateFunctionCode.
#[derive(Debug, Clone)]
pub enum CodeSource {
    /// `ZipFile`: the archive itself.
    Zip(Vec<u8>),
    /// `S3Bucket` / `S3Key`.
    S3 {
        /// The bucket.
        bucket: String,
    },
    /// Nothing usable was given.
    None,
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

type Key = (String, String, String);

fn key_of(f: &Function) -> Key {
    (f.account.clone(), f.region.clone(), f.name.clone())
}

/// What a function has besides `$LATEST`.
#[derive(Default, Clone)]
struct Family {
    versions: BTreeMap<u32, Arc<Function>>,
    aliases: BTreeMap<String, Arc<Alias>>,
    /// Provisioned-concurrency configurations by qualifier (version number or alias).
    provisioned: BTreeMap<String, ProvisionedConfig>,
}

impl Family {
    /// The version an alias or version-number qualifier names now: for an invocation
    /// (`routed`), one of an alias's two versions chosen by their weights; otherwise the
    /// alias's own version, as the control plane shows it.
    fn pick(&self, latest: &Arc<Function>, qualifier: &str, routed: bool) -> Option<Arc<Function>> {
        let version = if model::is_version_number(qualifier) {
            qualifier.to_owned()
        } else {
            let alias = self.aliases.get(qualifier)?;
            match alias.routing {
                Some((extra, weight)) if routed && unit_random() < weight => extra.to_string(),
                _ => alias.function_version.clone(),
            }
        };
        if version == "$LATEST" {
            return Some(latest.clone());
        }
        self.versions.get(&version.parse().ok()?).cloned()
    }
}

/// A uniformly distributed number in [0, 1).
fn unit_random() -> f64 {
    (uuid::Uuid::new_v4().as_u64_pair().0 >> 11) as f64 / (1u64 << 53) as f64
}

/// An update of `$LATEST` being prepared. Its code and configuration are stored (a
/// restart finds the update done), and reads show them `InProgress` under the revision
/// the update answered with, while an environment is initialised with them; invocations
/// meanwhile run what the function was before, and another update is refused, as on AWS.
/// A version published with the update is `Pending` until it is done.
#[derive(Clone)]
struct Update {
    /// `$LATEST` as it was: what invocations run meanwhile.
    previous: Arc<Function>,
    /// The stored revision being prepared.
    revision: String,
    /// The revision reads show meanwhile (the update's answer's).
    shown_revision: String,
    /// The version published with the update, if any.
    version: Option<u32>,
}

struct Cache {
    functions: RwLock<HashMap<Key, Arc<Function>>>,
    /// Updates of `$LATEST` still being prepared, by function.
    updating: RwLock<HashMap<Key, Update>>,
    families: RwLock<HashMap<Key, Family>>,
    /// Concurrency reserved by the functions of each account.
    reserved: RwLock<HashMap<String, u32>>,
    /// Resource policies read so far, by function and qualifier (`""`: unqualified), so
    /// that the invokes they decide need not read the store.
    policies: RwLock<HashMap<(Key, String), Arc<policy::Policy>>>,
    /// Function URLs by URL id.
    urls: RwLock<HashMap<String, (Key, urls::UrlConfig)>>,
    limit: u32,
}

impl Cache {
    /// `$LATEST` (or a version) as the control plane shows it: `InProgress` while an update
    /// is being prepared, and a version published with it `Pending`.
    fn shown(&self, f: Arc<Function>) -> Arc<Function> {
        let updating = self.updating.read().unwrap_or_else(|p| p.into_inner());
        let Some(update) = updating.get(&key_of(&f)) else { return f };
        let mut view = (*f).clone();
        match f.version {
            None if update.revision == f.revision_id => {
                view.last_update_status = LastUpdateStatus::InProgress;
                view.revision_id = update.shown_revision.clone();
            }
            Some(n) if update.version == Some(n) => view.state = FunctionState::Pending,
            _ => return f,
        }
        Arc::new(view)
    }

    /// What an invocation of `f` runs: while `$LATEST`'s update is being prepared, what it
    /// was before. A version published with the update cannot be invoked until it is
    /// ready (`Err`).
    fn running(&self, f: Arc<Function>) -> Result<Arc<Function>, Arc<Function>> {
        let updating = self.updating.read().unwrap_or_else(|p| p.into_inner());
        let Some(update) = updating.get(&key_of(&f)) else { return Ok(f) };
        match f.version {
            None if update.revision == f.revision_id => Ok(update.previous.clone()),
            Some(n) if update.version == Some(n) => Err(f),
            _ => Ok(f),
        }
    }

    /// `$LATEST` of a function, as stored.
    fn latest(&self, key: &Key) -> Option<Arc<Function>> {
        self.functions.read().unwrap_or_else(|p| p.into_inner()).get(key).cloned()
    }

    /// The concurrency a synchronous invocation of `f` (under `qualifier`, as the caller
    /// named it) may use. Provisioned concurrency is taken from the function's
    /// reservation: a qualifier without a provisioned configuration of its own gets only
    /// what the configurations leave, and is throttled when they claim it all.
    fn sync_capacity(&self, f: &Function, qualifier: Option<&str>) -> Capacity {
        match self.capacity(f) {
            Capacity::Reserved(n) => {
                let families = self.families.read().unwrap_or_else(|p| p.into_inner());
                let provisioned = families.get(&key_of(f)).map(|fam| &fam.provisioned);
                let own = qualifier.is_some_and(|q| provisioned.is_some_and(|p| p.contains_key(q)));
                let claimed: u32 = provisioned.map_or(0, |p| p.values().map(|c| c.requested).sum());
                Capacity::Reserved(if own { n } else { n.saturating_sub(claimed) })
            }
            unreserved => unreserved,
        }
    }

    fn reserved_in(&self, account: &str) -> u32 {
        self.reserved.read().unwrap_or_else(|p| p.into_inner()).get(account).copied().unwrap_or(0)
    }

    fn recount_reserved(&self, account: &str) {
        let sum: u32 = self
            .functions
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .filter(|f| f.account == account)
            .filter_map(|f| f.reserved_concurrency)
            .sum();
        self.reserved.write().unwrap_or_else(|p| p.into_inner()).insert(account.to_owned(), sum);
    }
}

impl FunctionLookup for Cache {
    fn function(&self, account: &str, region: &str, name: &str, qualifier: Option<&str>) -> Option<Arc<Function>> {
        let key = (account.to_owned(), region.to_owned(), name.to_owned());
        let latest = self.latest(&key)?;
        let f = match qualifier {
            None | Some("$LATEST") => latest,
            Some(q) => self.families.read().unwrap_or_else(|p| p.into_inner()).get(&key)?.pick(&latest, q, true)?,
        };
        // An event for a version still being prepared runs it as it is.
        Some(self.running(f).unwrap_or_else(|pending| pending))
    }

    fn event_invoke(
        &self,
        account: &str,
        region: &str,
        name: &str,
        qualifier: Option<&str>,
    ) -> Option<EventInvokeConfig> {
        let key = (account.to_owned(), region.to_owned(), name.to_owned());
        match qualifier {
            None | Some("$LATEST") => {
                self.functions.read().unwrap_or_else(|p| p.into_inner()).get(&key)?.event_invoke.clone()
            }
            Some(q) => {
                let families = self.families.read().unwrap_or_else(|p| p.into_inner());
                let family = families.get(&key)?;
                match q.parse::<u32>() {
                    Ok(n) => family.versions.get(&n)?.event_invoke.clone(),
                    Err(_) => family.aliases.get(q)?.event_invoke.clone(),
                }
            }
        }
    }

    fn capacity(&self, f: &Function) -> Capacity {
        // A reservation belongs to the function; published versions share `$LATEST`'s.
        let reserved = match f.version {
            None => f.reserved_concurrency,
            Some(_) => self
                .functions
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .get(&key_of(f))
                .and_then(|latest| latest.reserved_concurrency),
        };
        match reserved {
            Some(n) => Capacity::Reserved(n),
            None => Capacity::Unreserved(self.limit.saturating_sub(self.reserved_in(&f.account))),
        }
    }
}

/// AWS's refusal of a destination the function's execution role cannot use.
fn no_permission(action: &str, arn: &str) -> LambdaError {
    Invalid::parameter(format!("The function's execution role does not have permissions to call {action} on {arn}"))
        .into()
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
    writes: Arc<Mutex<()>>,
    sources: Arc<esm::EventSources>,
    signing: Arc<signing::CodeSigning>,
}

fn now_ms() -> i64 {
    invoker::now_ms()
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

fn not_found(caller: &Caller, name: &str, qualifier: Option<&Qualifier>) -> LambdaError {
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
        async_config: invoker::AsyncConfig,
        concurrency_limit: u32,
        sinks: Vec<Arc<dyn invoker::MessageSink>>,
    ) -> Result<Self, StoreError> {
        // A package a stop left behind (one replaced while its update was prepared) goes.
        for hex in code.stored().unwrap_or_default() {
            if let Err(e) = code.remove_unused(&hex, || store.code_in_use(&hex).map_err(LambdaError::from)) {
                tracing::warn!("removing an unused package: {e}");
            }
        }
        let mut functions = HashMap::new();
        for f in store.all_functions()? {
            invoker.prepare(f.config.runtime);
            functions.insert(key_of(&f), Arc::new(f));
        }
        let mut families: HashMap<Key, Family> = HashMap::new();
        for v in store.all_versions()? {
            let n = v.version.unwrap_or(0);
            families.entry(key_of(&v)).or_default().versions.insert(n, Arc::new(v));
        }
        for a in store.all_aliases()? {
            let family = families.entry((a.account, a.region, a.function)).or_default();
            family.aliases.insert(a.item.name.clone(), Arc::new(a.item));
        }
        for p in store.all_provisioned()? {
            let family = families.entry((p.account, p.region, p.function)).or_default();
            family.provisioned.insert(p.item.qualifier.clone(), p.item);
        }
        let accounts: std::collections::BTreeSet<String> = functions.keys().map(|(a, _, _)| a.clone()).collect();
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
        let queue = AsyncQueue::start(store.clone(), invoker.clone(), cache.clone(), async_config, sinks)?;
        let service = LambdaService {
            store,
            code,
            invoker,
            queue,
            cache,
            concurrency_limit,
            writes: Arc::new(Mutex::new(())),
            sources: Arc::new(esm::EventSources::default()),
            signing,
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
                if self.cache.function(owner, region, &r.name, r.qualifier.as_ref().map(|q| q.as_str())).is_none() {
                    return Err(Invalid::parameter(format!("The destination ARN {arn} is invalid.")).into());
                }
            } else {
                let target = self.cache.function(owner, region, &r.name, r.qualifier.as_ref().map(|q| q.as_str()));
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
            if self.queue.can_deliver(arn) {
                if self.queue.permits(arn, account) == Some(false) {
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
            Some(arn) if !self.queue.can_deliver(arn) => Err(Invalid::parameter(format!(
                "Lamina cannot deliver to dead-letter queues yet: {arn}. Use an OnFailure destination \
                 (PutFunctionEventInvokeConfig) with a Lambda function ARN."
            ))
            .into()),
            Some(arn) if self.queue.permits(arn, account) == Some(false) => {
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
            functions: self.cache.functions.read().unwrap_or_else(|p| p.into_inner()).len(),
        })
    }

    /// The async queue, whose clock tests may move forward.
    pub fn queue(&self) -> &AsyncQueue {
        &self.queue
    }

    /// The invoker, for metrics and shutdown.
    pub fn invoker(&self) -> &Invoker {
        &self.invoker
    }

    fn cached(&self, caller: &Caller, name: &str) -> Option<Arc<Function>> {
        self.cache.latest(&(caller.account.clone(), caller.region.clone(), name.to_owned()))
    }

    fn remember(&self, f: Function) -> Arc<Function> {
        let f = Arc::new(f);
        self.cache.functions.write().unwrap_or_else(|p| p.into_inner()).insert(key_of(&f), f.clone());
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
                    let families = self.cache.families.read().unwrap_or_else(|p| p.into_inner());
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
        self.cache.families.read().unwrap_or_else(|p| p.into_inner()).get(&key_of(f)).cloned()
    }

    /// Stores a deployment package; the pin keeps it until the command records its user.
    fn store_code(&self, source: CodeSource) -> Result<(model::CodeInfo, CodePin), LambdaError> {
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
            CodeSource::S3 { bucket } => Err(Invalid::parameter(format!(
                "Error occurred while GetObject. S3 Error Code: NoSuchBucket. S3 Error Message: The specified bucket {bucket} does not exist"
            ))
            .into()),
            CodeSource::None => Err(Invalid::parameter("Please provide a source for function code.").into()),
        }
    }

    /// CreateFunction. The returned view shows the function `Pending`, as AWS answers;
    /// it is ready to invoke as soon as this returns.
    pub fn create_function(&self, caller: &Caller, cmd: CreateFunction) -> Result<Function, LambdaError> {
        let r = FunctionRef::parse(&cmd.name, "functionName").map_err(Invalid::from)?;
        if r.name_too_long() {
            // AWS words it as a validation error, under InvalidParameterValueException.
            let v = model::Violation::max_length(&cmd.name, "functionName", limits::FUNCTION_NAME_MAX);
            return Err(Invalid::parameter(Invalid::from(v).to_string()).into());
        }
        if r.qualifier.is_some() {
            return Err(Invalid::from(model::Violation::pattern(
                &cmd.name,
                "functionName",
                model::arn::FUNCTION_NAME_PATTERN,
            ))
            .into());
        }
        if let Some(region) = r.region.as_deref().filter(|reg| *reg != caller.region) {
            return Err(other_region(region, caller));
        }
        if r.account.as_deref().is_some_and(|a| a != caller.account) {
            return Err(LambdaError::ForeignAccount);
        }
        let layer_arns = cmd.draft.layers.clone();
        let mut config = cmd.draft.into_config()?;
        if let Some(arns) = layer_arns {
            config.layers = self.resolve_layers(caller, &arns)?;
        }
        self.check_dead_letter(&config, &caller.account)?;
        check_tags(&cmd.tags)?;
        let key = (caller.account.clone(), caller.region.clone(), r.name.clone());
        let code_signing = self.check_code_signing(caller, &key, cmd.code_signing.as_deref())?;
        let (code, pin) = self.store_code(cmd.code)?;
        let _guard = self.writes.lock().unwrap_or_else(|p| p.into_inner());
        if self.cached(caller, &r.name).is_some() {
            self.abandon(&code, pin);
            return Err(LambdaError::Conflict(format!("Function already exist: {}", r.name)));
        }
        let f = Function {
            name: r.name,
            account: caller.account.clone(),
            region: caller.region.clone(),
            config,
            code,
            revision_id: new_revision(),
            last_modified_ms: now_ms(),
            state: FunctionState::Active,
            last_update_status: LastUpdateStatus::Successful,
            tags: cmd.tags,
            reserved_concurrency: None,
            recursive_loop: None,
            event_invoke: None,
            version: None,
            last_version: 0,
        };
        if !self.store.insert_function(&f)? {
            self.abandon(&f.code, pin);
            return Err(LambdaError::Conflict(format!("Function already exist: {}", f.name)));
        }
        if let Some(arn) = code_signing {
            self.bind_code_signing(&f, &arn)?;
        }
        self.invoker.prepare(f.config.runtime);
        let latest = self.remember(f);
        let mut view = match cmd.publish {
            true => (*self.publish_locked(&latest, None)?).clone(),
            false => (*latest).clone(),
        };
        // As on AWS, the function answered is the one being created: `Pending`, under a
        // revision of its own; the stored one is `Active` under the revision that follows.
        view.state = FunctionState::Pending;
        view.revision_id = new_revision();
        Ok(view)
    }

    /// GetFunction / GetFunctionConfiguration: the version the name and qualifier select,
    /// and the qualifier as given (which qualifies the ARN shown).
    pub fn get_function(
        &self,
        caller: &Caller,
        name: &str,
        qualifier: Option<&str>,
    ) -> Result<(Arc<Function>, Option<String>), LambdaError> {
        let (f, q) = self.resolve_version(caller, name, qualifier)?;
        Ok((self.cache.shown(f), q))
    }

    /// A deployment package of a function or one of its versions, for `Code.Location`.
    pub fn function_code(&self, caller: &Caller, name: &str, sha256_hex: &str) -> Result<Vec<u8>, LambdaError> {
        let latest = self.resolve(caller, name, None)?;
        let in_use = latest.code.sha256_hex == sha256_hex
            || self.family(&latest).is_some_and(|f| f.versions.values().any(|v| v.code.sha256_hex == sha256_hex));
        if !in_use {
            return Err(not_found(caller, name, None));
        }
        Ok(self.code.get(sha256_hex)?)
    }

    /// ListFunctions; with `all_versions` (`FunctionVersion=ALL`), each function's
    /// published versions follow its `$LATEST`.
    pub fn list_functions(
        &self,
        caller: &Caller,
        marker: Option<&str>,
        max_items: Option<i64>,
        all_versions: bool,
    ) -> Result<FunctionPage, LambdaError> {
        let limit = versions::page_size(max_items, 10_000, limits::LIST_FUNCTIONS_PAGE_MAX)?;
        if all_versions {
            let latest = self.store.list_functions(&caller.account, &caller.region, None, i64::MAX as usize)?;
            let mut all = Vec::new();
            for f in latest {
                let f = Arc::new(f);
                let versions = self.family(&f).map(|fam| fam.versions.into_values().collect::<Vec<_>>());
                all.push(f);
                all.extend(versions.into_iter().flatten());
            }
            let key = |f: &Arc<Function>| format!("{}:{}", f.name, f.version_label());
            let (functions, next_marker) = versions::page(all, key, marker, limit);
            let functions = functions.into_iter().map(|f| self.cache.shown(f)).collect();
            return Ok(FunctionPage { functions, next_marker });
        }
        let mut rows = self.store.list_functions(&caller.account, &caller.region, marker, limit + 1)?;
        let next_marker = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|f| f.name.clone())
        } else {
            None
        };
        Ok(FunctionPage { functions: rows.into_iter().map(|f| self.cache.shown(Arc::new(f))).collect(), next_marker })
    }

    fn check_revision(f: &Function, revision: Option<&str>) -> Result<(), LambdaError> {
        match revision {
            Some(r) if r != f.revision_id => Err(LambdaError::PreconditionFailed(
                "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id".into(),
            )),
            _ => Ok(()),
        }
    }

    /// Stores `new` as `$LATEST` in place of `old`, under a new revision.
    fn replace(&self, old: &Function, mut new: Function) -> Result<Arc<Function>, LambdaError> {
        new.revision_id = new_revision();
        // Later than the newest version, even within its millisecond: PublishVersion tells
        // a change since that version by it.
        let newest = self.family(old).and_then(|f| f.versions.values().next_back().map(|v| v.last_modified_ms));
        new.last_modified_ms = now_ms().max(newest.map_or(0, |t| t + 1));
        if !self.store.update_function(&new)? {
            return Err(not_found(
                &Caller { account: old.account.clone(), region: old.region.clone() },
                &old.name,
                None,
            ));
        }
        Ok(self.remember(new))
    }

    /// Refuses a change of `$LATEST` while an update of it is being prepared.
    fn check_not_updating(&self, f: &Function) -> Result<(), LambdaError> {
        match self.cache.updating.read().unwrap_or_else(|p| p.into_inner()).contains_key(&key_of(f)) {
            true => Err(LambdaError::Conflict(format!(
                "The operation cannot be performed at this time. An update is in progress for resource: {}",
                f.arn()
            ))),
            false => Ok(()),
        }
    }

    /// Starts preparing `$LATEST` as just stored, `previous` being what it was (see
    /// [`Update`]), with `version` published from it. Answers the revision reads show
    /// until the update is done.
    fn begin_update(&self, previous: Arc<Function>, version: Option<u32>) -> String {
        let key = key_of(&previous);
        let shown_revision = new_revision();
        let Some(prepared) = self.cache.latest(&key) else { return shown_revision };
        let update = Update {
            previous,
            revision: prepared.revision_id.clone(),
            shown_revision: shown_revision.clone(),
            version,
        };
        self.cache.updating.write().unwrap_or_else(|p| p.into_inner()).insert(key, update);
        // A function that may not run (reserved concurrency 0) has nothing to prepare.
        let ready = (prepared.reserved_concurrency != Some(0)).then(|| self.invoker.warm_up(prepared.clone()));
        let service = self.clone();
        tokio::spawn(async move {
            if let Some(ready) = ready {
                ready.await;
            }
            service.finish_update(&prepared);
        });
        shown_revision
    }

    /// Ends the update that prepared `prepared`: invocations now run it, and what the
    /// function was before is let go.
    fn finish_update(&self, prepared: &Arc<Function>) {
        let _guard = self.writes.lock().unwrap_or_else(|p| p.into_inner());
        let key = key_of(prepared);
        let update = {
            let mut updating = self.cache.updating.write().unwrap_or_else(|p| p.into_inner());
            match updating.get(&key) {
                Some(u) if u.revision == prepared.revision_id => updating.remove(&key),
                _ => None,
            }
        };
        if self.cache.latest(&key).is_none_or(|now| now.revision_id != prepared.revision_id) {
            // Deleted or changed meanwhile: the environment prepared is of no use.
            self.invoker.retire(prepared);
        }
        let Some(update) = update else { return };
        self.invoker.retire(&update.previous);
        if update.previous.code.sha256_hex != prepared.code.sha256_hex {
            if let Err(e) = self.discard_if_unused(&update.previous.code) {
                tracing::warn!("removing an unused package: {e}");
            }
        }
    }

    /// `$LATEST` being updated, as the update answers: `InProgress`, under the revision
    /// reads show until it is done.
    fn in_progress(stored: &Function, shown_revision: String) -> Function {
        let mut view = stored.clone();
        view.last_update_status = LastUpdateStatus::InProgress;
        view.revision_id = shown_revision;
        view
    }

    /// UpdateFunctionCode. The returned view shows the update `InProgress`, as AWS answers.
    pub fn update_code(
        &self,
        caller: &Caller,
        name: &str,
        source: CodeSource,
        revision: Option<&str>,
        architectures: Option<Vec<String>>,
        publish: bool,
    ) -> Result<Function, LambdaError> {
        let (code, pin) = self.store_code(source)?;
        let _guard = self.writes.lock().unwrap_or_else(|p| p.into_inner());
        let result = (|| {
            let old = self.resolve(caller, name, None)?;
            self.check_not_updating(&old)?;
            Self::check_revision(&old, revision)?;
            self.check_code_signing(caller, &key_of(&old), None)?;
            let mut new = (*old).clone();
            if architectures.is_some() {
                new.config = FunctionPatch { architectures, ..Default::default() }.apply_to(new.config)?;
            }
            new.code = code.clone();
            let stored = self.replace(&old, new)?;
            if !publish {
                let shown = self.begin_update(old, None);
                return Ok(Self::in_progress(&stored, shown));
            }
            // The version answered is the one being created, as on AWS.
            let mut version = (*self.publish_locked(&stored, None)?).clone();
            self.begin_update(old, version.version);
            version.state = FunctionState::Pending;
            Ok(version)
        })();
        if result.is_err() {
            self.abandon(&code, pin);
        }
        result
    }

    /// Removes a package that no recorded function, version or layer uses, and that no
    /// command is storing right now (its pin).
    pub(crate) fn discard_if_unused(&self, code: &model::CodeInfo) -> Result<(), LambdaError> {
        let hex = &code.sha256_hex;
        self.code.remove_unused(hex, || self.store.code_in_use(hex).map_err(LambdaError::from))
    }

    /// After a command that stored `code` failed: lets go of its pin, and of the package
    /// if nothing else uses it.
    pub(crate) fn abandon(&self, code: &model::CodeInfo, pin: CodePin) {
        drop(pin);
        if let Err(e) = self.discard_if_unused(code) {
            tracing::warn!("removing an unused package: {e}");
        }
    }

    /// UpdateFunctionConfiguration.
    pub fn update_configuration(
        &self,
        caller: &Caller,
        name: &str,
        patch: FunctionPatch,
        revision: Option<&str>,
    ) -> Result<Function, LambdaError> {
        let _guard = self.writes.lock().unwrap_or_else(|p| p.into_inner());
        let old = self.resolve(caller, name, None)?;
        self.check_not_updating(&old)?;
        Self::check_revision(&old, revision)?;
        let mut new = (*old).clone();
        let layer_arns = patch.layers.clone();
        new.config = patch.apply_to(new.config)?;
        if let Some(arns) = layer_arns {
            new.config.layers = self.resolve_layers(caller, &arns)?;
        }
        self.check_dead_letter(&new.config, &old.account)?;
        self.invoker.prepare(new.config.runtime);
        let stored = self.replace(&old, new)?;
        let shown = self.begin_update(old, None);
        Ok(Self::in_progress(&stored, shown))
    }

    /// DeleteFunction: the whole function, or (with a version qualifier) one version.
    pub fn delete_function(&self, caller: &Caller, name: &str, qualifier: Option<&str>) -> Result<(), LambdaError> {
        let _guard = self.writes.lock().unwrap_or_else(|p| p.into_inner());
        let named = FunctionRef::parse(name, "functionName").ok().and_then(|r| r.qualifier);
        let given = qualifier.map(|q| Qualifier::parse(q).unwrap_or_else(|| Qualifier::Named(q.to_owned())));
        if let (Some(a), Some(b)) = (&named, &given) {
            if a != b {
                return Err(Invalid::parameter(
                    "The derived qualifier from the function name does not match the specified qualifier.",
                )
                .into());
            }
        }
        if named.or(given) == Some(Qualifier::Latest) {
            return Err(Invalid::parameter("$LATEST version cannot be deleted without deleting the function.").into());
        }
        // A function that does not exist is named without the version asked for.
        let (f, q) = self.resolve_ref(caller, name, qualifier).map_err(|e| match e {
            LambdaError::NotFound(m) if m.starts_with("Function not found: ") => {
                match FunctionRef::parse(name, "functionName") {
                    Ok(r) => not_found(caller, &r.name, None),
                    Err(_) => LambdaError::NotFound(m),
                }
            }
            e => e,
        })?;
        if let Some(Qualifier::Named(q)) = q {
            return self.delete_version(caller, &f, &q);
        }
        self.store.delete_function(&f.account, &f.region, &f.name)?;
        self.cache.functions.write().unwrap_or_else(|p| p.into_inner()).remove(&key_of(&f));
        let update = self.cache.updating.write().unwrap_or_else(|p| p.into_inner()).remove(&key_of(&f));
        self.cache.policies.write().unwrap_or_else(|p| p.into_inner()).retain(|(k, _), _| *k != key_of(&f));
        self.forget_urls_of(&key_of(&f));
        self.forget_code_signing(&key_of(&f))?;
        let family = self.cache.families.write().unwrap_or_else(|p| p.into_inner()).remove(&key_of(&f));
        self.invoker.retire_all(&f);
        let blobs = std::iter::once(f.code.sha256_hex.clone())
            .chain(update.map(|u| u.previous.code.sha256_hex.clone()))
            .chain(family.iter().flat_map(|fam| fam.versions.values().map(|v| v.code.sha256_hex.clone())));
        for hex in blobs.collect::<std::collections::BTreeSet<_>>() {
            self.code.remove_unused(&hex, || self.store.code_in_use(&hex).map_err(LambdaError::from))?;
        }
        self.cache.recount_reserved(&f.account);
        Ok(())
    }

    /// GetAccountSettings.
    pub fn account_settings(&self, caller: &Caller) -> Result<AccountSettings, LambdaError> {
        let (function_count, total_code_size) = self.store.usage(&caller.account, &caller.region)?;
        Ok(AccountSettings {
            concurrency_limit: self.concurrency_limit,
            unreserved_concurrency: self.concurrency_limit.saturating_sub(self.cache.reserved_in(&caller.account)),
            function_count,
            total_code_size,
        })
    }

    /// What a tagging operation's `Resource` names: a function (unqualified: AWS tags
    /// neither versions nor aliases), an event source mapping, or a capacity provider
    /// (Lamina has none).
    fn tagged(&self, caller: &Caller, resource: &str) -> Result<Tagged, LambdaError> {
        let parts: Vec<&str> = resource.splitn(7, ':').collect();
        match parts.as_slice() {
            ["arn", _, "lambda", _, _, "event-source-mapping", uuid] => Ok(Tagged::Mapping((*uuid).to_owned())),
            ["arn", _, "lambda", _, _, "capacity-provider", _] => {
                Err(LambdaError::NotFound(format!("Capacity provider not found: {resource}")))
            }
            _ => {
                let r = FunctionRef::parse(resource, "resource")
                    .ok()
                    .filter(|r| r.account.is_some() && r.region.is_some())
                    .ok_or_else(|| Invalid::from(model::Violation::pattern(resource, "resource", TAGGABLE_PATTERN)))?;
                if r.qualifier.is_some() {
                    return Err(Invalid::parameter(
                        "Tags on function aliases and versions are not supported. Please specify a function ARN.",
                    )
                    .into());
                }
                let f = self.resolve(caller, resource, None).map_err(|e| match e {
                    LambdaError::NotFound(_) => not_found(caller, &r.name, None),
                    other => other,
                })?;
                Ok(Tagged::Function(f))
            }
        }
    }

    /// Changes a function's or mapping's tags; a function's revision changes with them,
    /// as on AWS.
    fn retag(
        &self,
        caller: &Caller,
        resource: &str,
        change: impl FnOnce(&mut BTreeMap<String, String>),
    ) -> Result<(), LambdaError> {
        match self.tagged(caller, resource)? {
            Tagged::Mapping(uuid) => self.retag_mapping(caller, resource, &uuid, change).map(drop),
            Tagged::Function(_) => {
                let _guard = self.writes.lock().unwrap_or_else(|p| p.into_inner());
                let Tagged::Function(old) = self.tagged(caller, resource)? else { return Ok(()) };
                let mut new = (*old).clone();
                change(&mut new.tags);
                check_tags(&new.tags)?;
                new.revision_id = new_revision();
                if !self.store.update_function(&new)? {
                    return Err(not_found(caller, &old.name, None));
                }
                self.remember(new);
                Ok(())
            }
        }
    }

    /// ListTags.
    pub fn list_tags(&self, caller: &Caller, resource: &str) -> Result<BTreeMap<String, String>, LambdaError> {
        match self.tagged(caller, resource)? {
            Tagged::Function(f) => Ok(f.tags.clone()),
            Tagged::Mapping(uuid) => self.retag_mapping_read(caller, resource, &uuid),
        }
    }

    /// TagResource.
    pub fn tag_resource(
        &self,
        caller: &Caller,
        resource: &str,
        tags: BTreeMap<String, String>,
    ) -> Result<(), LambdaError> {
        self.retag(caller, resource, |t| t.extend(tags))
    }

    /// UntagResource.
    pub fn untag_resource(&self, caller: &Caller, resource: &str, keys: &[String]) -> Result<(), LambdaError> {
        self.retag(caller, resource, |t| {
            for k in keys {
                t.remove(k);
            }
        })
    }

    /// PutFunctionConcurrency: reserves concurrency for a function, keeping at least
    /// 100 unreserved in the account, as AWS does.
    pub fn put_concurrency(&self, caller: &Caller, name: &str, reserved: i64) -> Result<u32, LambdaError> {
        if reserved < 0 {
            return Err(Invalid::from(model::Violation::min_value(reserved, "reservedConcurrentExecutions", 0)).into());
        }
        if FunctionRef::parse(name, "functionName").is_ok_and(|r| r.qualifier.is_some()) {
            return Err(Invalid::parameter(
                "This operation is permitted on Lambda functions only. Aliases and versions do not support this \
                 operation. Please specify either a function name or an unqualified function ARN.",
            )
            .into());
        }
        let _guard = self.writes.lock().unwrap_or_else(|p| p.into_inner());
        let old = self.resolve(caller, name, None).map_err(|e| latest_named(e, name, None))?;
        let provisioned: i64 =
            self.family(&old).map_or(0, |fam| fam.provisioned.values().map(|c| i64::from(c.requested)).sum());
        if reserved < provisioned {
            // AWS answers this one without `Type`.
            return Err(LambdaError::from(Invalid::Untyped(format!(
                " ReservedConcurrentExecutions  {reserved} should not be lower than function's total provisioned \
                 concurrency [{provisioned}]."
            ))));
        }
        let others = self.cache.reserved_in(&caller.account).saturating_sub(old.reserved_concurrency.unwrap_or(0));
        let unreserved = i64::from(self.concurrency_limit) - i64::from(others) - reserved;
        if unreserved < i64::from(limits::UNRESERVED_MIN) {
            return Err(LambdaError::from(Invalid::Untyped(format!(
                "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution \
                 below its minimum value of [{}].",
                limits::UNRESERVED_MIN
            ))));
        }
        let mut new = (*old).clone();
        new.reserved_concurrency = Some(reserved as u32);
        if !self.store.update_function(&new)? {
            return Err(not_found(caller, &old.name, None));
        }
        self.remember(new);
        Ok(reserved as u32)
    }

    /// PutFunctionRecursionConfig: whether Lambda lets a recursive loop through this
    /// function run (`Allow`) or stops it (`Terminate`, the default).
    pub fn put_recursion_config(&self, caller: &Caller, name: &str, setting: &str) -> Result<String, LambdaError> {
        let _guard = self.writes.lock().unwrap_or_else(|p| p.into_inner());
        let old = self.resolve(caller, name, None).map_err(|e| latest_named(e, name, None))?;
        let mut new = (*old).clone();
        new.recursive_loop = (setting == "Allow").then(|| setting.to_owned());
        if !self.store.update_function(&new)? {
            return Err(not_found(caller, &old.name, None));
        }
        self.remember(new);
        Ok(setting.to_owned())
    }

    /// GetFunctionRecursionConfig.
    pub fn recursion_config(&self, caller: &Caller, name: &str) -> Result<String, LambdaError> {
        let f = self.resolve(caller, name, None)?;
        Ok(f.recursive_loop.clone().unwrap_or_else(|| "Terminate".into()))
    }

    /// GetFunctionConcurrency.
    pub fn get_concurrency(&self, caller: &Caller, name: &str) -> Result<Option<u32>, LambdaError> {
        Ok(self.resolve(caller, name, None)?.reserved_concurrency)
    }

    /// DeleteFunctionConcurrency.
    pub fn delete_concurrency(&self, caller: &Caller, name: &str) -> Result<(), LambdaError> {
        let _guard = self.writes.lock().unwrap_or_else(|p| p.into_inner());
        let old = self.resolve(caller, name, None)?;
        let mut new = (*old).clone();
        new.reserved_concurrency = None;
        if !self.store.update_function(&new)? {
            return Err(not_found(caller, &old.name, None));
        }
        self.remember(new);
        Ok(())
    }

    /// The version an Invoke names: in the caller's account, or — named by ARN — in
    /// another account whose resource policy lets the caller invoke it.
    fn resolve_invoked(
        &self,
        caller: &Caller,
        name: &str,
        qualifier: Option<&str>,
    ) -> Result<(Arc<Function>, Option<String>), LambdaError> {
        let owner =
            FunctionRef::parse(name, "functionName").ok().and_then(|r| r.account).filter(|a| *a != caller.account);
        let (f, shown) = match owner {
            None => self.resolve_picked(caller, name, qualifier, true)?,
            Some(owner) => self.resolve_granted(caller, owner, name, qualifier)?,
        };
        let f = self.cache.running(f).map_err(|_| {
            LambdaError::Conflict(
                "The operation cannot be performed at this time. The function is currently in the following state: Pending"
                    .into(),
            )
        })?;
        Ok((f, shown))
    }

    /// The version an Invoke names by another account's ARN, if that account's resource
    /// policy lets the caller invoke it.
    fn resolve_granted(
        &self,
        caller: &Caller,
        owner: String,
        name: &str,
        qualifier: Option<&str>,
    ) -> Result<(Arc<Function>, Option<String>), LambdaError> {
        let as_owner = Caller { account: owner, region: caller.region.clone() };
        let (f, shown) = self.resolve_picked(&as_owner, name, qualifier, true)?;
        if !self.policy_allows(&f, shown.as_deref(), policy::Principal::Account(&caller.account), policy::INVOKE) {
            let mut arn = function_arn(&f.region, &f.account, &f.name);
            if let Some(q) = &shown {
                arn = format!("{arn}:{q}");
            }
            return Err(LambdaError::AccessDenied(format!(
                "User: arn:aws:iam::{}:root is not authorized to perform: lambda:InvokeFunction on resource: {arn} \
                 because no resource-based policy allows the lambda:InvokeFunction action",
                caller.account
            )));
        }
        Ok((f, shown))
    }

    /// Invoke, in any of its three types.
    pub async fn invoke(
        &self,
        caller: &Caller,
        name: &str,
        qualifier: Option<&str>,
        kind: InvocationType,
        input: InvokeInput,
    ) -> Result<InvokeOutcome, LambdaError> {
        let (f, shown) = self.resolve_invoked(caller, name, qualifier).map_err(|e| latest_named(e, name, qualifier))?;
        // No payload is the empty object, as AWS hands it on (to the function, and to a
        // destination's record).
        let payload = if input.payload.is_empty() { Bytes::from_static(b"{}") } else { input.payload };
        let request = InvokeRequest {
            request_id: input.request_id,
            payload,
            log_tail: input.log_tail,
            client_context: input.client_context,
            capacity: self.cache.sync_capacity(&f, shown.as_deref()),
            qualifier: shown.clone(),
        };
        let limit = match kind {
            InvocationType::Event => limits::ASYNC_PAYLOAD_MAX_BYTES,
            _ => limits::SYNC_PAYLOAD_MAX_BYTES,
        };
        if request.payload.len() > limit {
            return Err(LambdaError::RequestTooLarge(format!(
                "Request must be smaller than {limit} bytes for the InvokeFunction operation"
            )));
        }
        check_json(&request.payload)?;
        match kind {
            InvocationType::DryRun => Ok(InvokeOutcome::Validated),
            InvocationType::Event => {
                let event = AsyncEvent {
                    id: request.request_id,
                    account: f.account.clone(),
                    region: f.region.clone(),
                    function: f.name.clone(),
                    payload: request.payload.to_vec(),
                    accepted_ms: 0,
                    attempts: 0,
                    next_attempt_ms: 0,
                    qualifier: shown,
                };
                self.queue.accept(event).await?;
                Ok(InvokeOutcome::Accepted)
            }
            InvocationType::RequestResponse => match self.invoker.invoke(f, request).await {
                Ok(result) => Ok(InvokeOutcome::Completed(result)),
                Err(InvokeError::TooManyRequests { reserved }) => Err(LambdaError::TooManyRequests {
                    message: "Rate Exceeded.".into(),
                    reason: if reserved {
                        "ReservedFunctionConcurrentInvocationLimitExceeded"
                    } else {
                        "ConcurrentInvocationLimitExceeded"
                    },
                }),
                Err(InvokeError::InvalidRuntime(m)) => Err(LambdaError::InvalidRuntime(m)),
                Err(InvokeError::Service(m)) => {
                    tracing::error!(error = %m, "invocation failed inside Lamina");
                    Err(LambdaError::Service(m))
                }
            },
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

fn check_json(payload: &Bytes) -> Result<(), LambdaError> {
    if payload.is_empty() {
        return Ok(());
    }
    serde_json::from_slice::<serde::de::IgnoredAny>(payload).map(drop).map_err(|e| {
        LambdaError::InvalidRequestContent(format!(
            "Could not parse request body into json: Could not parse payload into json: {e}"
        ))
    })
}
