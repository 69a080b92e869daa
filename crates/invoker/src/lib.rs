//! Lamina's execution model.
//!
//! The [`Invoker`] runs invocations in execution environments, following AWS's model:
//! an environment handles one invocation at a time and stays warm for the next; when
//! every warm environment of a function is busy, another one is started; environments
//! idle for longer than the configured time are reaped. Each environment is a process
//! tree from a [`sandbox::Sandbox`], talking to its own [`runtime_api::RuntimeApi`].
//! Some are initialised ahead of any invocation: provisioned concurrency's, and the one
//! [`Invoker::warm_up`] prepares for an updated function.
//!
//! Environments' output goes, line by line as it is printed, to a [`LogSink`] (`lamina`
//! wires CloudWatch Logs), each environment to a stream of its own.
//!
//! Which interpreter runs each runtime id (its own version, else the nearest, else none:
//! [`Invoker::runtime_status`]) and Lamina's runtime clients (Python, Node.js, Ruby, Java)
//! are its business too, as is the SDK layer functions import ([`sdk`]).
//!
//! It knows nothing of HTTP wire formats or AWS JSON; the API layer maps its results.
#![deny(missing_docs)]

mod environment;
mod launch;
mod logs;
mod runtimes;

use model::sync::Mutex;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use bytes::Bytes;
use model::Function;
use runtime_api::{Invocation, RuntimeApi};
use sandbox::{LaunchSpec, Limits, Mounts, Sandbox, SandboxError};
use store::CodeStore;

use environment::{error_doc, Environment};
pub use runtimes::{install_clients, report as runtime_report, RuntimeCommands};
pub mod sdk;

/// How the invoker runs environments.
#[derive(Debug, Clone)]
pub struct InvokerConfig {
    /// Host directory holding Lamina's runtime clients (`/var/runtime`).
    pub runtime_dir: PathBuf,
    /// Interpreters for each runtime.
    pub runtimes: RuntimeCommands,
    /// How long a warm environment may sit idle before it is reaped.
    pub idle_timeout: Duration,
    /// How long a runtime may take to initialise.
    pub init_timeout: Duration,
    /// `AWS_ENDPOINT_URL` inside functions, so SDK calls reach Lamina.
    pub endpoint_url: String,
    /// Lamina's certificate authority (PEM), which functions trust beside the system's
    /// roots, so they reach Lamina's HTTPS endpoints.
    pub trusted_ca: Option<PathBuf>,
    /// Issues functions' credentials when requests must be signed; without it they get
    /// placeholder keys naming their account, which open mode accepts.
    pub credentials: Option<Arc<dyn CredentialIssuer>>,
    /// Where functions' output goes, line by line as it is printed (CloudWatch Logs);
    /// without it, output is only kept for `LogType: Tail`.
    pub log_sink: Option<Arc<dyn LogSink>>,
}

/// Receives functions' log lines as they are printed, with Lambda's own `START`, `END`
/// and `REPORT` lines among them. Must not block: it is called on the invoke path.
pub trait LogSink: std::fmt::Debug + Send + Sync + 'static {
    /// Lines for one environment's stream: `(timestamp ms, message with its newline)`.
    /// Always taken.
    fn write(&self, stream: &LogStreamId, lines: Vec<(i64, String)>);
    /// Whether the sink has room for more output now. While it has none, environments'
    /// pipes are not read, so a function printing faster than the sink writes is slowed
    /// by its own blocking writes rather than losing lines.
    fn has_room(&self) -> bool {
        true
    }
    /// Resolves once the sink may have room again.
    fn until_room(&self) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + '_>> {
        Box::pin(std::future::ready(()))
    }
}

/// An execution environment's log stream, named as Lambda names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogStreamId {
    /// The function's account.
    pub account: String,
    /// Its region.
    pub region: String,
    /// `/aws/lambda/<name>`, or the function's configured group.
    pub group: String,
    /// `YYYY/MM/DD/[<version>]<environment id>`.
    pub stream: String,
}

/// Issues the temporary credentials a function's environment gets, as Lambda hands a
/// function its execution role's.
pub trait CredentialIssuer: std::fmt::Debug + Send + Sync + 'static {
    /// (access key ID, secret access key, session token): a session of the function's
    /// execution role, named after the function, new for each environment as Lambda's are.
    fn issue(&self, f: &Function) -> (String, String, String);
    /// Revokes credentials `issue` made, once their environment has stopped.
    fn revoke(&self, access_key: &str);
}

/// An environment's credentials, revoked when it is dropped (its environment stopped, or
/// never started).
pub(crate) struct CredentialLease {
    issuer: Arc<dyn CredentialIssuer>,
    access_key: String,
}

impl Drop for CredentialLease {
    fn drop(&mut self) {
        self.issuer.revoke(&self.access_key);
    }
}

/// In the runtime directory: the system's roots and Lamina's authority, for
/// `AWS_CA_BUNDLE` and `SSL_CERT_FILE`; and the authority alone, for `NODE_EXTRA_CA_CERTS`.
const CA_BUNDLE: &str = "ca-bundle.pem";
const LAMINA_CA: &str = "lamina-ca.pem";

/// The system's trusted roots, where Debian, Fedora and Alpine keep them.
const SYSTEM_ROOTS: &[&str] =
    &["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem"];

fn install_trust(runtime_dir: &std::path::Path, ca: &std::path::Path) -> std::io::Result<()> {
    let ca = std::fs::read(ca)?;
    let mut bundle = SYSTEM_ROOTS.iter().find_map(|p| std::fs::read(p).ok()).unwrap_or_default();
    if !bundle.ends_with(b"\n") && !bundle.is_empty() {
        bundle.push(b'\n');
    }
    bundle.extend_from_slice(&ca);
    std::fs::write(runtime_dir.join(CA_BUNDLE), bundle)?;
    std::fs::write(runtime_dir.join(LAMINA_CA), ca)
}

/// What this host runs a runtime on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuntimeStatus {
    /// An interpreter of the runtime's own version (or the function's own bootstrap).
    Ready,
    /// The nearest version this host has; the notice says which.
    Substitute(String),
    /// Nothing: why.
    Unavailable(String),
}

/// One synchronous invocation request.
#[derive(Debug, Clone)]
pub struct InvokeRequest {
    /// The request id (also the `x-amzn-RequestId` answered to the caller).
    pub request_id: String,
    /// The event.
    pub payload: Bytes,
    /// Whether to return the log tail.
    pub log_tail: bool,
    /// `X-Amz-Client-Context`, base64 as sent.
    pub client_context: Option<String>,
    /// The concurrency this invocation may use.
    pub capacity: Capacity,
    /// The version or alias the caller named, which qualifies the invoked function ARN.
    pub qualifier: Option<String>,
    /// Whether the caller takes a response the function streams as it is written
    /// (InvokeWithResponseStream, `RESPONSE_STREAM` URLs); otherwise it is gathered whole.
    pub stream: bool,
}

/// A piece of a response streamed to its caller; the last is always `Complete`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamEvent {
    /// Bytes the function wrote.
    Chunk(Bytes),
    /// The end: AWS's `InvokeComplete`.
    Complete {
        /// The error's type, when the function failed (mid-stream, or before it streamed).
        error_code: Option<String>,
        /// The error's document.
        error_details: Option<String>,
        /// The log's tail, base64, when asked for.
        log_result: Option<String>,
    },
}

/// A response the function streams, as its caller receives it.
#[derive(Debug)]
pub struct ResponseStream {
    /// The stream's `Content-Type`, as the function set it.
    pub content_type: String,
    /// Its pieces, as they are written.
    pub events: tokio::sync::mpsc::Receiver<StreamEvent>,
}

/// Which concurrency pool an invocation draws on, and its size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capacity {
    /// The function's reserved concurrency.
    Reserved(u32),
    /// The account's unreserved concurrency, shared by every function without a
    /// reservation.
    Unreserved(u32),
}

/// What a caller of Invoke sees.
#[derive(Debug)]
pub struct InvokeResult {
    /// The response payload, or the error document (empty while it streams).
    pub payload: Bytes,
    /// The response, as the function streams it, when the caller takes streams.
    pub stream: Option<ResponseStream>,
    /// `X-Amz-Function-Error`, when the function failed.
    pub function_error: Option<&'static str>,
    /// The last 4 KB of the invocation's log, base64 (`X-Amz-Log-Result`).
    pub log_result: Option<String>,
    /// `X-Amz-Executed-Version`.
    pub executed_version: String,
}

/// Why an invocation could not be run at all.
#[derive(Debug, Clone, thiserror::Error)]
pub enum InvokeError {
    /// The pool the invocation draws on is full: the function's reserved concurrency
    /// (`reserved`) or the account's unreserved concurrency.
    #[error("Rate Exceeded.")]
    TooManyRequests {
        /// Whether the function's own reservation is what is full.
        reserved: bool,
    },
    /// The runtime cannot run on this host.
    #[error("{0}")]
    InvalidRuntime(String),
    /// Lamina itself failed.
    #[error("{0}")]
    Service(String),
}

/// Runs invocations in warm, scaled-out execution environments.
#[derive(Clone)]
pub struct Invoker {
    inner: Arc<Inner>,
}

struct Inner {
    config: InvokerConfig,
    sandbox: Arc<dyn Sandbox>,
    code: CodeStore,
    resolver: Arc<runtimes::Resolver>,
    pools: Mutex<HashMap<String, Pool>>,
    running: Mutex<Running>,
    started: AtomicU64,
    /// Environments initialising ahead of invocations at once (provisioned ones, and
    /// those prepared for an update), so that a large allocation does not starve
    /// invocations of CPU.
    warmups: Arc<tokio::sync::Semaphore>,
    /// Told whenever an environment whose caller already has its answer is back.
    returned: tokio::sync::Notify,
}

/// The environments of one version of one function.
#[derive(Default)]
struct Pool {
    /// Idle on-demand environments.
    warm: Vec<Environment>,
    /// Idle provisioned environments, initialised ahead of any invocation.
    provisioned: Vec<Environment>,
    /// Provisioned concurrency wanted, and the version it is for.
    target: u32,
    function: Option<Arc<Function>>,
    /// Provisioned environments initialised and alive (idle or running an invocation).
    live: u32,
    /// Provisioned environments being started.
    starting: u32,
    /// Why the last provisioned environment failed to initialise, if it did.
    failure: Option<String>,
    /// Environments whose caller has its answer and which are closing their log, about
    /// to be idle again: the next invocation waits for one rather than start another.
    closing: u32,
}

impl Pool {
    fn is_empty(&self) -> bool {
        self.warm.is_empty()
            && self.provisioned.is_empty()
            && self.target == 0
            && self.live == 0
            && self.starting == 0
            && self.closing == 0
    }
}

/// Where a function's reserved concurrency is counted: every version shares it.
fn function_key(f: &Function) -> String {
    format!("{}:{}:{}", f.account, f.region, f.name)
}

/// Where one version's environments are kept.
fn pool_key(f: &Function) -> String {
    format!("{}:{}", function_key(f), f.version_label())
}

/// A snapshot of the invoker's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvokerStats {
    /// Environments started since the invoker was created.
    pub environments_started: u64,
    /// Environments idle and warm, provisioned ones included.
    pub environments_idle: usize,
    /// Provisioned environments initialised (idle or busy).
    pub environments_provisioned: usize,
    /// Invocations running now.
    pub invocations_running: usize,
}

/// Provisioned concurrency of one version, as GetProvisionedConcurrencyConfig reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisionedStatus {
    /// Environments initialised and kept.
    pub allocated: u32,
    /// Why initialising an environment failed, when it did.
    pub failure: Option<String>,
}

fn trace_id() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("Root=1-{secs:08x}-{};Parent={};Sampled=0", &id[..24], &id[16..32])
}

enum LaunchFailure {
    /// The function's entry point cannot start: reported to the caller as a function error.
    Entrypoint(String),
    Unavailable(String),
    Internal(String),
}

type Reply = tokio::sync::oneshot::Sender<Result<InvokeResult, InvokeError>>;

/// Invocations running now, per reserving function and per account (unreserved).
#[derive(Default)]
struct Running {
    counts: HashMap<String, u32>,
}

/// One running invocation's place in its pool, given back on drop.
struct Slot<'a> {
    running: &'a Mutex<Running>,
    pool: String,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut running = self.running.lock();
        if let Some(n) = running.counts.get_mut(&self.pool) {
            *n -= 1;
            if *n == 0 {
                running.counts.remove(&self.pool);
            }
        }
    }
}

impl Inner {
    /// Takes a place in the invocation's pool, or says which pool is full.
    fn admit(&self, f: &Function, capacity: Capacity) -> Result<Slot<'_>, InvokeError> {
        let (pool, limit, reserved) = match capacity {
            Capacity::Reserved(n) => (format!("f:{}", function_key(f)), n, true),
            Capacity::Unreserved(n) => (format!("a:{}", f.account), n, false),
        };
        let mut running = self.running.lock();
        let count = running.counts.entry(pool.clone()).or_insert(0);
        if *count >= limit {
            if *count == 0 {
                running.counts.remove(&pool);
            }
            return Err(InvokeError::TooManyRequests { reserved });
        }
        *count += 1;
        Ok(Slot { running: &self.running, pool })
    }
}

impl Invoker {
    /// Creates an invoker and starts its idle reaper. Must be called inside a tokio runtime.
    pub fn new(config: InvokerConfig, sandbox: Arc<dyn Sandbox>, code: CodeStore) -> std::io::Result<Self> {
        runtimes::install_clients(&config.runtime_dir)?;
        if let Some(sdk) = &config.runtimes.sdk {
            // `/var/runtime/node_modules`, where AWS's Node runtimes keep the SDK: a link to
            // the SDK layer's (which environments see at its own path).
            let link = config.runtime_dir.join("node_modules");
            let target = sdk::node_modules(sdk);
            if std::fs::read_link(&link).ok().as_deref() != Some(target.as_path()) {
                let _ = std::fs::remove_file(&link);
                std::os::unix::fs::symlink(&target, &link)?;
            }
        }
        if let Some(ca) = &config.trusted_ca {
            install_trust(&config.runtime_dir, ca)?;
        }
        let resolver = Arc::new(runtimes::Resolver::new(config.runtimes.clone()));
        // The host's interpreters are probed again in the background (the server answers
        // from the last run's probes meanwhile), never on an invocation's path: at once on
        // a first start, a little later on a restart, when functions may be starting.
        let refreshing = resolver.clone();
        let delay = if resolver.has_cache() { PROBE_AGAIN_AFTER } else { Duration::ZERO };
        std::thread::Builder::new().name("lamina-probe".into()).spawn(move || {
            std::thread::sleep(delay);
            refreshing.refresh()
        })?;
        let inner = Arc::new(Inner {
            resolver,
            config,
            sandbox,
            code,
            pools: Mutex::new(HashMap::new()),
            running: Mutex::new(Running::default()),
            started: AtomicU64::new(0),
            warmups: Arc::new(tokio::sync::Semaphore::new(WARMUPS_AT_ONCE)),
            returned: tokio::sync::Notify::new(),
        });
        let weak = Arc::downgrade(&inner);
        let period = (inner.config.idle_timeout / 4).clamp(Duration::from_millis(50), Duration::from_secs(5));
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            loop {
                tick.tick().await;
                let Some(inner) = weak.upgrade() else { break };
                inner.reap();
                inner.provision_missing();
            }
        });
        let weak = Arc::downgrade(&inner);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(FREEZE_AFTER);
            loop {
                tick.tick().await;
                let Some(inner) = weak.upgrade() else { break };
                inner.freeze_idle();
            }
        });
        Ok(Invoker { inner })
    }

    /// What the invoker is doing now, for `/_lamina/metrics`.
    pub fn stats(&self) -> InvokerStats {
        let pools = self.inner.pools.lock();
        let running = self.inner.running.lock();
        InvokerStats {
            environments_started: self.inner.started.load(Ordering::Relaxed),
            environments_idle: pools.values().map(|p| p.warm.len() + p.provisioned.len()).sum(),
            environments_provisioned: pools.values().map(|p| p.live as usize).sum(),
            // Every invocation holds a place in exactly one pool.
            invocations_running: running.counts.values().map(|n| *n as usize).sum(),
        }
    }

    /// Keeps `target` environments of this version initialised ahead of invocations,
    /// with `AWS_LAMBDA_INITIALIZATION_TYPE=provisioned-concurrency`; 0 releases them.
    /// Environments are started in the background; [`Invoker::provisioned`] reports
    /// progress.
    pub fn provision(&self, function: Arc<Function>, target: u32) {
        {
            let mut pools = self.inner.pools.lock();
            let pool = pools.entry(pool_key(&function)).or_default();
            pool.target = target;
            pool.failure = None;
            pool.function = (target > 0).then_some(function);
            let excess = (pool.live as usize).saturating_sub(target as usize).min(pool.provisioned.len());
            let released: Vec<_> = pool.provisioned.drain(..excess).collect();
            pool.live -= released.len() as u32;
            drop(pools);
            drop(released);
        }
        self.inner.provision_missing();
    }

    /// How far provisioning of this version has got.
    pub fn provisioned(&self, function: &Function) -> ProvisionedStatus {
        let pools = self.inner.pools.lock();
        match pools.get(&pool_key(function)) {
            Some(p) => ProvisionedStatus { allocated: p.live.min(p.target), failure: p.failure.clone() },
            None => ProvisionedStatus { allocated: 0, failure: None },
        }
    }

    /// Runs one invocation of `function` (a version, or `$LATEST`). The invocation runs to
    /// completion even if the caller goes away.
    pub async fn invoke(&self, function: Arc<Function>, req: InvokeRequest) -> Result<InvokeResult, InvokeError> {
        let inner = self.inner.clone();
        let (reply, answer) = tokio::sync::oneshot::channel();
        tokio::spawn(async move { inner.invoke(&function, req, reply).await });
        answer.await.map_err(|_| InvokeError::Service("the invocation task failed".into()))?
    }

    /// What this host runs `runtime` on. The first question about a runtime may probe
    /// its interpreters (once per server; CreateFunction and start-up resolve them ahead).
    pub fn runtime_status(&self, runtime: model::Runtime) -> RuntimeStatus {
        let resolver = &self.inner.resolver;
        let known = resolver.known(runtime).or_else(|| {
            let _ = resolver.entry(runtime);
            resolver.known(runtime)
        });
        match known {
            None => RuntimeStatus::Ready,
            Some(Ok(None)) => RuntimeStatus::Ready,
            Some(Ok(Some(notice))) => RuntimeStatus::Substitute(notice),
            Some(Err(why)) => RuntimeStatus::Unavailable(why.0),
        }
    }

    /// Makes a function ready to start, in the background: resolves its runtime's
    /// interpreter (compiling Lamina's Java client, for Java), unpacks its package and
    /// layers, and has the sandbox ready a cell for it (with its runtime started, where
    /// the runtime allows), so that its first cold start pays for none of it. AWS does
    /// this work while the function is `Pending`.
    pub fn prepare(&self, function: Arc<Function>) {
        let inner = self.inner.clone();
        tokio::spawn(async move {
            // A function that cannot start says why when it is invoked.
            let Ok((entry, mounts)) = inner.unpack(&function).await else { return };
            let layout = inner.sandbox.layout("prepared", &mounts);
            let Ok(command) = launch::command(&function, entry, &mounts, &layout) else { return };
            // No credentials are issued for it: only what the runtime reads as it starts
            // matters here.
            let none = (function.account.clone(), String::new(), String::new());
            let env = inner.variables(&function, false, &layout, String::new(), "", none);
            let limits =
                sandbox::Limits { memory_mb: function.config.memory_mb, ephemeral_mb: function.config.ephemeral_mb };
            let like = sandbox::LaunchSpec {
                id: "prepared".into(),
                program: command.program,
                args: command.args,
                env,
                mounts,
                limits,
                prestart: command.prestart,
            };
            let sandbox = inner.sandbox.clone();
            let _ = tokio::task::spawn_blocking(move || sandbox.prepare(&like)).await;
        });
    }

    /// Starts one on-demand environment of `function` and initialises it ahead of any
    /// invocation (AWS's proactive initialisation), then keeps it idle for the first
    /// invocation of this revision. Resolves once it is ready, or could not be made ready
    /// (the first invocation then starts its own, and reports why).
    pub fn warm_up(&self, function: Arc<Function>) -> impl std::future::Future<Output = ()> + Send + 'static {
        let inner = self.inner.clone();
        async move {
            match inner.start_initialized(&function, false).await {
                Ok(env) => inner.checkin(pool_key(&function), env, true, false),
                Err(why) => tracing::debug!(function = %function.name, error = %why,
                    "an environment prepared for an update did not initialise"),
            }
        }
    }

    /// Stops the idle on-demand environments of one revision of a version (the revision
    /// `$LATEST` had before an update, or a deleted version's).
    pub fn retire(&self, function: &Function) {
        let removed = {
            let mut pools = self.inner.pools.lock();
            let Some(pool) = pools.get_mut(&pool_key(function)) else { return };
            let (gone, kept) =
                std::mem::take(&mut pool.warm).into_iter().partition(|e| e.revision == function.revision_id);
            pool.warm = kept;
            gone
        };
        drop::<Vec<Environment>>(removed);
    }

    /// Stops every environment of a function, all versions and provisioned ones included
    /// (after a delete).
    pub fn retire_all(&self, function: &Function) {
        let prefix = format!("{}:", function_key(function));
        let mut removed = Vec::new();
        self.inner.pools.lock().retain(|k, pool| {
            let gone = k.starts_with(&prefix);
            if gone {
                removed.push(std::mem::take(pool));
            }
            !gone
        });
        drop(removed);
    }

    /// Stops every environment and releases the sandbox's host resources.
    pub fn shutdown(&self) {
        let all = std::mem::take(&mut *self.inner.pools.lock());
        drop(all);
        self.inner.sandbox.shutdown();
    }
}

/// Environments initialised ahead of invocations at once.
const WARMUPS_AT_ONCE: usize = 4;

/// How long a restarted server waits before probing the host's interpreters again.
const PROBE_AGAIN_AFTER: Duration = Duration::from_secs(10);

/// How many times an invocation waits (20 ms at most each) for an environment closing its
/// log before it starts another.
const CLOSING_WAITS: usize = 3;

/// Environments idle this long are frozen. Freezing right after every invocation would
/// put two cgroup writes on the path of every warm invoke under load; an environment
/// that is truly idle is frozen within twice this.
const FREEZE_AFTER: Duration = Duration::from_millis(100);

impl Inner {
    fn freeze_idle(&self) {
        let mut pools = self.pools.lock();
        for env in pools.values_mut().flat_map(|p| p.warm.iter_mut().chain(p.provisioned.iter_mut())) {
            if env.last_used.elapsed() >= FREEZE_AFTER {
                env.freeze();
            }
        }
    }

    /// Starts the provisioned environments each pool lacks, in the background.
    fn provision_missing(self: &Arc<Self>) {
        let mut wanted = Vec::new();
        {
            let mut pools = self.pools.lock();
            for pool in pools.values_mut() {
                let Some(f) = pool.function.clone() else { continue };
                if pool.failure.is_some() {
                    continue;
                }
                let missing = pool.target.saturating_sub(pool.live + pool.starting);
                pool.starting += missing;
                wanted.extend(std::iter::repeat_n(f, missing as usize));
            }
        }
        for f in wanted {
            let inner = self.clone();
            tokio::spawn(async move {
                let started = inner.start_initialized(&f, true).await;
                let mut pools = inner.pools.lock();
                let pool = pools.entry(pool_key(&f)).or_default();
                pool.starting = pool.starting.saturating_sub(1);
                let current = pool.function.as_ref().is_some_and(|c| c.revision_id == f.revision_id);
                match started {
                    Ok(env) if current && pool.live < pool.target => {
                        pool.live += 1;
                        pool.provisioned.push(env);
                    }
                    Ok(env) => drop(env),
                    Err(why) => {
                        tracing::warn!(function = %f.name, version = %f.version_label(), error = %why,
                            "a provisioned environment failed to initialise");
                        pool.failure = Some(why);
                    }
                }
            });
        }
    }

    /// Starts an environment and waits for its initialisation, a few at a time.
    async fn start_initialized(&self, f: &Function, provisioned: bool) -> Result<Environment, String> {
        let _permit = self.warmups.clone().acquire_owned().await;
        match self.launch(f, provisioned).await {
            Ok(mut env) => env.initialize().await.map(|()| env),
            Err(LaunchFailure::Entrypoint(m) | LaunchFailure::Unavailable(m) | LaunchFailure::Internal(m)) => Err(m),
        }
    }

    fn reap(&self) {
        let idle = self.config.idle_timeout;
        let mut expired = Vec::new();
        {
            let mut pools = self.pools.lock();
            for pool in pools.values_mut() {
                let (old, keep): (Vec<_>, Vec<_>) = pool.warm.drain(..).partition(|e| e.last_used.elapsed() > idle);
                pool.warm = keep;
                expired.extend(old);
            }
            pools.retain(|_, pool| !pool.is_empty());
        }
        // Dropping kills the process trees, outside the lock.
        drop(expired);
    }

    /// Takes an idle environment of this version: a provisioned one first, then a warm one.
    fn checkout(&self, key: &str, revision: &str) -> Option<Environment> {
        let mut stale = Vec::new();
        let found = {
            let mut pools = self.pools.lock();
            let pool = pools.get_mut(key)?;
            let mut found = None;
            while let Some(mut env) = pool.provisioned.pop() {
                if env.alive() {
                    found = Some(env);
                    break;
                }
                pool.live = pool.live.saturating_sub(1);
                stale.push(env);
            }
            while found.is_none() {
                let Some(mut env) = pool.warm.pop() else { break };
                if env.revision == revision && env.alive() {
                    found = Some(env);
                } else {
                    stale.push(env);
                }
            }
            found
        };
        drop(stale);
        found
    }

    /// An idle environment of the version, waiting (briefly) for one that is closing its
    /// log after answering, as a caller invoking again at once expects its warm one.
    async fn checkout_or_closing(&self, key: &str, revision: &str) -> Option<Environment> {
        for _ in 0..CLOSING_WAITS {
            let returned = self.returned.notified();
            tokio::pin!(returned);
            returned.as_mut().enable();
            if let Some(env) = self.checkout(key, revision) {
                return Some(env);
            }
            let closing = self.pools.lock().get(key).is_some_and(|p| p.closing > 0);
            if !closing {
                return None;
            }
            // Bounded: a log that never closes does not hold the invocation up.
            let _ = tokio::time::timeout(Duration::from_millis(20), returned).await;
        }
        self.checkout(key, revision)
    }

    /// Marks an environment as closing its log after its caller got the answer.
    fn closing(&self, key: &str) {
        self.pools.lock().entry(key.to_owned()).or_default().closing += 1;
    }

    /// Returns an environment after an invocation; `reusable: false` means it is gone.
    /// `was_closing` undoes [`Inner::closing`].
    fn checkin(&self, key: String, env: Environment, reusable: bool, was_closing: bool) {
        let mut pools = self.pools.lock();
        let pool = pools.entry(key).or_default();
        if was_closing {
            pool.closing = pool.closing.saturating_sub(1);
        }
        let dropped = match (env.provisioned, reusable) {
            (false, true) => {
                pool.warm.push(env);
                None
            }
            (false, false) => Some(env),
            (true, true) if pool.live <= pool.target => {
                pool.provisioned.push(env);
                None
            }
            (true, _) => {
                // Dead, or no longer wanted (the configuration shrank): the pool tops
                // itself up from the reaper's tick.
                pool.live = pool.live.saturating_sub(1);
                Some(env)
            }
        };
        drop(pools);
        drop(dropped);
        if was_closing {
            self.returned.notify_waiters();
        }
    }

    /// Runs one invocation and sends its result on `reply` as soon as it is known; the
    /// environment's log is completed afterwards (before it, when the tail is wanted).
    async fn invoke(&self, f: &Function, req: InvokeRequest, reply: Reply) {
        let _slot = match self.admit(f, req.capacity) {
            Ok(slot) => slot,
            Err(e) => {
                let _ = reply.send(Err(e));
                return;
            }
        };
        let key = pool_key(f);
        let version = f.version_label();
        let mut env = match self.checkout_or_closing(&key, &f.revision_id).await {
            Some(env) => env,
            None => match self.launch_for(f, &req.request_id).await {
                Ok(env) => env,
                Err(answer) => {
                    let _ = reply.send(answer);
                    return;
                }
            },
        };
        let invocation = Invocation {
            request_id: req.request_id.clone(),
            payload: req.payload,
            timeout: Duration::from_secs(u64::from(f.config.timeout_s)),
            invoked_function_arn: match &req.qualifier {
                Some(q) => format!("{}:{q}", f.arn()),
                None => f.arn(),
            },
            trace_id: trace_id(),
            client_context: req.client_context.and_then(|b64| {
                base64::engine::general_purpose::STANDARD.decode(b64).ok().and_then(|v| String::from_utf8(v).ok())
            }),
            cognito_identity: None,
        };
        let mut settled = env.run(invocation.clone(), &version).await;
        if settled.undelivered {
            // A warm environment whose runtime exited before taking the invocation (as
            // Java's does after an OutOfMemoryError) never saw it: a fresh one runs it.
            drop(env);
            env = match self.launch_for(f, &req.request_id).await {
                Ok(env) => env,
                Err(answer) => {
                    let _ = reply.send(answer);
                    return;
                }
            };
            settled = env.run(invocation, &version).await;
        }
        if let Some(streaming) = settled.stream.take() {
            if req.stream {
                // The caller gets the stream at once; the log closes after it.
                let (events, received) = tokio::sync::mpsc::channel(16);
                let content_type = streaming.content_type.clone();
                let answer = InvokeResult {
                    stream: Some(ResponseStream { content_type, events: received }),
                    ..self.result(f, Bytes::new(), false, None)
                };
                let _ = reply.send(Ok(answer));
                let end = env.pump(streaming, Some(&events), &mut Vec::new(), &mut settled.closing).await;
                let (log, reusable) = env.close_log(settled.closing);
                let (error_code, error_details) = match end {
                    environment::StreamEnd::Ended => (None, None),
                    environment::StreamEnd::Failed(code, doc) => {
                        (Some(code), Some(String::from_utf8_lossy(&doc).into_owned()))
                    }
                };
                let log_result = req.log_tail.then(|| {
                    base64::engine::general_purpose::STANDARD.encode(logs::tail(&log, model::limits::LOG_TAIL_BYTES))
                });
                let _ = events.send(StreamEvent::Complete { error_code, error_details, log_result }).await;
                self.checkin(key, env, reusable, false);
                return;
            }
            // Gathered whole, as Invoke answers a streaming function: up to its limit.
            let mut whole = Vec::new();
            let end = env.pump(streaming, None, &mut whole, &mut settled.closing).await;
            (settled.payload, settled.function_error) = match end {
                environment::StreamEnd::Ended if whole.len() > runtime_api::MAX_RESPONSE_BYTES => (
                    error_doc(
                        "Function.ResponseSizeTooLarge",
                        format!(
                            "Response payload size exceeded maximum allowed payload size ({} bytes).",
                            runtime_api::MAX_RESPONSE_BYTES
                        ),
                    ),
                    true,
                ),
                environment::StreamEnd::Ended => (Bytes::from(whole), false),
                environment::StreamEnd::Failed(_, doc) => (doc, true),
            };
        }
        let (payload, function_error) = (settled.payload, settled.function_error);
        let reply = if req.log_tail {
            Some(reply)
        } else {
            // The caller may invoke again before the log closes: it then waits for this
            // environment (`checkout_or_closing`) instead of starting another.
            self.closing(&key);
            let _ = reply.send(Ok(self.result(f, payload.clone(), function_error, None)));
            None
        };
        let was_closing = reply.is_none();
        let (log, reusable) = env.close_log(settled.closing);
        if let Some(reply) = reply {
            let _ = reply.send(Ok(self.result(f, payload, function_error, Some(&log))));
        }
        self.checkin(key, env, reusable, was_closing);
    }

    /// A fresh environment for one invocation of `f`, or the answer its caller gets when
    /// none can start.
    async fn launch_for(&self, f: &Function, id: &str) -> Result<Environment, Result<InvokeResult, InvokeError>> {
        match self.launch(f, false).await {
            Ok(env) => Ok(env),
            Err(LaunchFailure::Unavailable(m)) => Err(Err(InvokeError::InvalidRuntime(m))),
            Err(LaunchFailure::Internal(m)) => Err(Err(InvokeError::Service(m))),
            Err(LaunchFailure::Entrypoint(message)) => {
                let log = format!(
                    "START RequestId: {id} Version: {version}\n{message}\nRuntime.InvalidEntrypoint\nEND RequestId: {id}\n\
                     REPORT RequestId: {id}\tDuration: 0.00 ms\tBilled Duration: 0 ms\tMemory Size: {} MB\t\
                     Max Memory Used: 0 MB\tStatus: error\tError Type: Runtime.InvalidEntrypoint\n",
                    f.config.memory_mb,
                    version = f.version_label(),
                );
                Err(Ok(self.result(
                    f,
                    error_doc("Runtime.InvalidEntrypoint", format!("RequestId: {id} Error: {message}")),
                    true,
                    Some(log.as_bytes()),
                )))
            }
        }
    }

    /// What the caller sees; `log` is given when the caller asked for its tail.
    fn result(&self, f: &Function, payload: Bytes, function_error: bool, log: Option<&[u8]>) -> InvokeResult {
        InvokeResult {
            payload,
            stream: None,
            function_error: function_error.then_some("Unhandled"),
            log_result: log.map(|log| {
                base64::engine::general_purpose::STANDARD.encode(logs::tail(log, model::limits::LOG_TAIL_BYTES))
            }),
            executed_version: f.version_label(),
        }
    }
}
