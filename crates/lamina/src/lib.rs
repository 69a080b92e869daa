//! Lamina as a library: [`start`] builds a whole server — store, sandbox, invoker, every
//! service and the API router — on a listener it is given, and [`Server::serve`] (or
//! [`run`], both at once) serves it until a shutdown future resolves. The `lamina` binary
//! (`main.rs`) reads the command line and the configuration and calls it; Rust
//! integration tests (`tests/`) start servers in-process on port 0 the same way.
//!
//! It only wires: configuration ([`config`]), construction, the listener (HTTP and HTTPS on
//! one port, `tls.rs`; connection limits, `serve.rs`) and shutdown. What a service does is
//! its crate's; the adapters in `sinks.rs` only forward (functions' output and access
//! logs to CloudWatch Logs, functions' credentials to the authenticator). Its errors are
//! `anyhow`'s: it is the binary's own library, and each is a start-up failure reported to
//! whoever started the server.
#![deny(missing_docs)]

pub mod config;
mod serve;
mod sinks;
mod tls;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

pub use config::Config;

/// Where the SDK layer lives.
pub fn sdk_dir(config: &Config) -> std::path::PathBuf {
    let dir = config.runtimes.sdk_dir.clone().unwrap_or_else(|| config.data_dir.join("sdk"));
    // Environments see it at the same path: it must be absolute.
    std::path::absolute(&dir).unwrap_or(dir)
}

/// Installs the SDK layer's missing parts in the background (once per directory; an
/// environment started meanwhile runs without them).
fn install_sdk(config: &Config) {
    let dir = sdk_dir(config);
    let extra = config.runtimes.sdk_node_packages.clone();
    if !config.runtimes.install_sdk || invoker::sdk::status(&dir, &extra) == (true, true) {
        return;
    }
    let python = config.runtimes.python.clone();
    std::thread::spawn(move || {
        tracing::info!(dir = %dir.display(), "installing the AWS SDKs for functions (boto3, the SDK v3 for Node.js)");
        match invoker::sdk::install(&dir, &python, &extra) {
            Ok(()) => tracing::info!("the AWS SDKs for functions are installed"),
            Err(why) => tracing::warn!("the AWS SDKs for functions could not be installed: {why}"),
        }
    });
}

/// The interpreters the config names for the runtimes.
pub fn runtime_commands(config: &Config) -> invoker::RuntimeCommands {
    invoker::RuntimeCommands {
        overrides: config.runtimes.overrides.clone(),
        python: config.runtimes.python.clone(),
        node: config.runtimes.node.clone(),
        ruby: config.runtimes.ruby.clone(),
        strict: config.runtimes.strict,
        sdk: Some(sdk_dir(config)),
        probe_cache: Some(config.data_dir.join("interpreters.json")),
    }
}

/// Chooses the sandbox the configuration asks for and the host allows; `data` is where
/// its scratch files go.
pub fn choose_sandbox(config: &Config, data: &std::path::Path) -> anyhow::Result<Arc<dyn sandbox::Sandbox>> {
    use crate::config::SandboxMode;
    let scratch = data.join("scratch");
    if config.sandbox.mode == SandboxMode::Process {
        tracing::warn!("sandbox mode `process`: environments run UNSANDBOXED, with Lamina's own privileges");
        return Ok(Arc::new(sandbox::ProcessSandbox::new(&scratch)));
    }
    let helper = std::env::current_exe().context("locating the lamina binary")?;
    let isolated_network = config.sandbox.network == crate::config::NetworkMode::None;
    let runtime_dir = data.join("runtime");
    let hosts = data.join("etc").join("hosts");
    let hosts = apigateway::hosts::prepare(&hosts)
        .inspect_err(|e| tracing::warn!("{}: {e}; environments resolve only the system's hosts", hosts.display()))
        .map(|()| hosts.as_path());
    let freeze = config.sandbox.freeze_idle;
    // Node resolves `@aws-sdk/…` from `/node_modules` (after the package's own
    // node_modules), in `require` and `import` alike: there the SDK layer's are.
    let links = vec![("/node_modules".into(), invoker::sdk::node_modules(&sdk_dir(config)))];
    match sandbox::NamespaceSandbox::new(&helper, &scratch, &runtime_dir, freeze, isolated_network, hosts.ok(), links) {
        Ok(s) => Ok(Arc::new(s)),
        Err(why) if config.sandbox.mode == SandboxMode::Auto => {
            tracing::warn!("cannot sandbox environments ({why}); running them UNSANDBOXED as plain processes");
            Ok(Arc::new(sandbox::ProcessSandbox::new(&scratch)))
        }
        Err(why) => anyhow::bail!("sandbox mode is `namespace` but this host cannot sandbox: {why}"),
    }
}

/// Holds `<data>/lamina.lock` for as long as the server runs (the kernel lets go of it
/// however the process ends): a second server on the same data directory would corrupt
/// what the first one holds in memory, so it refuses to start.
fn lock_data_dir(data: &std::path::Path) -> anyhow::Result<nix::fcntl::Flock<std::fs::File>> {
    use nix::fcntl::{Flock, FlockArg};
    use std::io::Write;
    let path = data.join("lamina.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
        Ok(mut lock) => {
            lock.set_len(0)?;
            writeln!(lock, "{}", std::process::id())?;
            Ok(lock)
        }
        Err((_, nix::errno::Errno::EWOULDBLOCK)) => {
            let holder = std::fs::read_to_string(&path).unwrap_or_default();
            anyhow::bail!(
                "data directory {} is in use by another `lamina serve` (pid {}); stop it, or give this one its own --data-dir",
                data.display(),
                holder.trim()
            )
        }
        Err((_, e)) => Err(anyhow::anyhow!("locking {}: {e}", path.display())),
    }
}

/// Every environment holds a few descriptors (its Runtime API listener and connection,
/// its log pipe), and every WebSocket connection one; raise the limit so that a busy host
/// does not run out at the common default of 1024. Answers the limit now in force and
/// the kernel's ceiling, when the process could not reach it.
pub fn raise_fd_limit() -> (u64, Option<u64>) {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else { return (0, None) };
    // Up to the kernel's ceiling where allowed (raising the hard limit needs
    // CAP_SYS_RESOURCE): every WebSocket connection holds a descriptor.
    let ceiling = std::fs::read_to_string("/proc/sys/fs/nr_open").ok().and_then(|s| s.trim().parse::<u64>().ok());
    if let Some(max) = ceiling.filter(|max| *max > hard) {
        if setrlimit(Resource::RLIMIT_NOFILE, max, max).is_ok() {
            return (max, None);
        }
    }
    if soft < hard && setrlimit(Resource::RLIMIT_NOFILE, hard, hard).is_err() {
        tracing::warn!(soft, hard, "cannot raise the open-file limit");
        return (soft, ceiling);
    }
    (hard, ceiling.filter(|max| *max > hard))
}

/// A server built and listening, not yet serving.
pub struct Server {
    addr: SocketAddr,
    data_dir: std::path::PathBuf,
    listener: tls::DualListener,
    app: axum::Router,
    limits: serve::Limits,
    invoker: invoker::Invoker,
    /// The services CloudFormation reaches (it holds them weakly).
    _services: Arc<aws_api::ApiState>,
    _lock: nix::fcntl::Flock<std::fs::File>,
}

impl Server {
    /// The address it listens on (the port chosen, when it was given port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The data directory, canonical.
    pub fn data_dir(&self) -> &std::path::Path {
        &self.data_dir
    }

    /// Serves every API until `shutdown` resolves, lets open requests finish, and stops
    /// the execution environments.
    pub async fn serve(self, shutdown: impl Future<Output = ()>) {
        serve::serve(self.listener, self.app, self.limits, shutdown).await;
        self.invoker.shutdown();
        tracing::info!("stopped");
    }
}

/// Builds the server `config` describes on `listener` and serves it until `shutdown`
/// resolves.
pub async fn run(
    listener: tokio::net::TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    start(listener, config).await?.serve(shutdown).await;
    Ok(())
}

/// Builds the server `config` describes on `listener`: opens (and locks) the data
/// directory, starts every service, and loads the service models in the background.
pub async fn start(listener: tokio::net::TcpListener, config: Config) -> anyhow::Result<Server> {
    let _ = raise_fd_limit();
    let data = &config.data_dir;
    std::fs::create_dir_all(data).with_context(|| format!("creating data directory {}", data.display()))?;
    let data = data.canonicalize()?;
    let lock = lock_data_dir(&data)?;
    install_sdk(&config);
    // The sandbox before the stores: the runtimes the last server started ahead start
    // while the services open (with this binary's runtime clients).
    invoker::install_clients(&data.join("runtime"))?;
    let sandbox = choose_sandbox(&config, &data)?;
    tracing::info!("sandbox: {}", sandbox.describe());
    let resumed = sandbox.clone();
    tokio::task::spawn_blocking(move || resumed.resume());
    let database = Arc::new(store::SqliteStore::open(&data.join("state.db"))?);
    let store: Arc<dyn store::MetadataStore> = database.clone();
    let code = store::CodeStore::open(&data.join("code"))?;

    let addr = listener.local_addr()?;
    let local = if addr.ip().is_unspecified() { SocketAddr::from(([127, 0, 0, 1], addr.port())) } else { addr };

    let authority = tls::authority(&data.join("tls"))?;
    let auth = authenticator(&config)?;
    // Temporary credentials (functions' sessions, assumed roles) are kept where requests
    // are checked: the authenticator, or in open mode a registry of their own.
    let issued = auth.clone().unwrap_or_else(|| Arc::new(aws_api::Authenticator::new(Vec::new())));
    let logs = logs::LogsService::start(store::LogStore::open(&data.join("logs.db"))?)
        .map_err(|e| anyhow::anyhow!("starting CloudWatch Logs: {e}"))?;
    let invoker = start_invoker(sandbox, &config, &data, local, &authority, &issued, &logs, code.clone())?;
    // One clock for everything that keeps time, so tests can move it once.
    let clock = model::Clock::default();
    let sqs =
        sqs::SqsService::start(database.clone(), clock.clone()).map_err(|e| anyhow::anyhow!("starting SQS: {e}"))?;
    let sns = sns::SnsService::start(
        database.clone(),
        sqs.clone(),
        Some(Arc::new(sinks::Logs(logs.clone()))),
        format!("http://{local}"),
        data.join("sns"),
    )
    .map_err(|e| anyhow::anyhow!("starting SNS: {e}"))?;
    let settings = lambda::LambdaSettings {
        async_queue: lambda::AsyncConfig {
            retry_delays: config.async_.retry_delays_secs.iter().map(|s| Duration::from_secs_f64(*s)).collect(),
            parallelism: config.async_.parallelism,
            clock: clock.clone(),
            ..Default::default()
        },
        concurrency_limit: config.functions.concurrency,
        authorize_services: config.auth.mode == config::AuthMode::Sigv4,
    };
    let destinations = lambda::Destinations::new(sqs.clone(), sns.clone());
    let lambda = lambda::LambdaService::start(store, code, invoker.clone(), settings, destinations)?;
    sns.deliver_to_functions(Arc::new(lambda.clone()));
    logs.deliver_subscriptions(Arc::new(sinks::LogSubscriptions(lambda.clone())));
    let dynamodb =
        dynamodb::DynamoService::open(Arc::new(store::TableStore::open(&data.join("dynamodb.db"))?), clock.clone())
            .map_err(|e| anyhow::anyhow!("starting DynamoDB: {e}"))?;
    lambda.attach_stream_source("dynamodb", sinks::DynamoStreams::connect(dynamodb.clone()));
    let kinesis =
        kinesis::KinesisService::open(Arc::new(store::StreamStore::open(&data.join("kinesis.db"))?), clock.clone())
            .map_err(|e| anyhow::anyhow!("starting Kinesis: {e}"))?;
    lambda.attach_stream_source("kinesis", sinks::KinesisStreams::connect(kinesis.clone()));
    upkeep_streams(dynamodb.clone(), kinesis.clone())?;
    lambda.start_event_sources(sqs.clone()).map_err(|e| anyhow::anyhow!("starting event source mappings: {e}"))?;
    let gateway = apigateway::GatewayService::start(
        database.clone(),
        apigateway::GatewaySettings {
            endpoint_host: format!("localhost:{}", local.port()),
            hosts_file: Some(data.join("etc").join("hosts")),
        },
    )
    .map_err(|e| anyhow::anyhow!("starting API Gateway: {e}"))?;
    let plane = gateway::DataPlane::new(gateway.clone(), lambda.clone(), sqs.clone(), plane_settings(&config, &logs));
    let iam = iam::IamService::start(database.clone()).map_err(|e| anyhow::anyhow!("starting IAM: {e}"))?;
    let (ssm, s3) = start_ssm_and_s3(&database, &data, clock.clone())?;
    lambda.read_code_from(Arc::new(sinks::S3Code(s3.clone())));
    let events =
        events::EventsService::open(Arc::new(store::EventStore::open(&data.join("events.db"))?), clock.clone())
            .map_err(|e| anyhow::anyhow!("starting EventBridge: {e}"))?;
    let targets =
        sinks::S3Events { sqs: sqs.clone(), sns: sns.clone(), lambda: lambda.clone(), events: events.clone() };
    s3.deliver_events(Arc::new(targets));
    s3.expire_objects();
    // IAM users' access keys act as their users, in either auth mode.
    for key in iam.active_keys() {
        issued.accept_user_key(&key);
    }
    let ecr = ecr::EcrService::start(database.clone()).map_err(|e| anyhow::anyhow!("starting ECR: {e}"))?;
    let cloudformation = cloudformation::CloudFormationService::start(database.clone())
        .map_err(|e| anyhow::anyhow!("starting CloudFormation: {e}"))?;
    let state = aws_api::ApiState::new(aws_api::Services {
        lambda,
        sqs,
        sns,
        gateway,
        plane,
        iam,
        logs,
        ssm,
        ecr,
        s3,
        cloudformation: cloudformation.clone(),
        events: events.clone(),
        dynamodb,
        kinesis: kinesis.clone(),
        callers: Arc::new(aws_api::CallerPolicy {
            default_account: config.account.clone(),
            default_region: config.region.clone(),
            auth,
            issued,
        }),
        adjustable_clock: config.async_.adjustable_clock,
        code_urls: aws_api::CodeUrls::open(&data.join("code-url.key")).context("opening the code link key")?,
    });
    // CloudFormation makes resources through the services' operations; the server holds
    // them for as long as it runs.
    let services = Arc::new(state.clone());
    let operations = Arc::new(aws_api::Internal::new(&services));
    cloudformation.connect(operations.clone());
    events.start(Arc::new(sinks::EventTargets {
        sqs: services.sqs.clone(),
        sns: services.sns.clone(),
        lambda: services.lambda.clone(),
        plane: services.plane.clone(),
        logs: services.logs.clone(),
        operations,
        host: format!("localhost:{}", local.port()),
    }));
    let app = aws_api::router(state);
    if config.async_.adjustable_clock {
        tracing::warn!(
            "async.adjustable_clock is on: POST /_lamina/clock moves the clock of the async queue, SQS, S3's \
             lifecycle, EventBridge's schedules and Scheduler forward"
        );
    }
    tracing::info!(data_dir = %data.display(), "state directory");
    // HTTP and HTTPS on the one port; the peer's address is the gateway's `sourceIp`.
    let limits = serve::Limits {
        header_timeout: Duration::from_secs_f64(config.server.header_timeout_secs),
        max_connections: config.server.max_connections,
    };
    let listener = tls::DualListener::new(listener, authority.server, limits.header_timeout);
    // The service models, read before the first request needs them.
    std::thread::spawn(|| {
        for s in protocol::SERVICES {
            protocol::service(s.name);
        }
    });
    Ok(Server {
        addr,
        data_dir: data,
        listener,
        app,
        limits,
        invoker: invoker.clone(),
        _services: services,
        _lock: lock,
    })
}

/// SSM (its documents in the database, its SecureString key in the data directory) and S3
/// (its own metadata file and blobs under `s3/`).
fn start_ssm_and_s3(
    database: &Arc<store::SqliteStore>,
    data: &std::path::Path,
    clock: model::Clock,
) -> anyhow::Result<(ssm::SsmService, s3::S3Service)> {
    let sealer = ssm::Sealer::open(&data.join("ssm").join("key")).context("opening SSM's SecureString key")?;
    let ssm = ssm::SsmService::start(database.clone(), sealer).map_err(|e| anyhow::anyhow!("starting SSM: {e}"))?;
    let s3 = s3::S3Service::start(&data.join("s3"), clock).map_err(|e| anyhow::anyhow!("starting S3: {e}"))?;
    Ok((ssm, s3))
}

/// The authenticator `--auth sigv4` needs, with the configured keys; none in open mode.
fn authenticator(config: &Config) -> anyhow::Result<Option<Arc<aws_api::Authenticator>>> {
    match config.auth.mode {
        config::AuthMode::Open => {
            tracing::warn!(
                "auth: open — any credentials are accepted; a 12-digit access key acts in that account, any other in {}",
                config.account
            );
            Ok(None)
        }
        config::AuthMode::Sigv4 => {
            let keys: Vec<aws_api::AccessKey> = config
                .auth
                .keys()?
                .into_iter()
                .map(|k| aws_api::AccessKey { id: k.access_key_id, secret: k.secret_access_key, account: k.account })
                .collect();
            tracing::info!("auth: sigv4 — requests must be signed by one of {} keys", keys.len());
            Ok(Some(Arc::new(aws_api::Authenticator::new(keys))))
        }
    }
}

/// The invoker, in `sandbox`, with functions' credentials from `issued` and their output
/// to `logs`.
#[allow(clippy::too_many_arguments)]
fn start_invoker(
    sandbox: Arc<dyn sandbox::Sandbox>,
    config: &Config,
    data: &std::path::Path,
    local: SocketAddr,
    authority: &tls::Authority,
    issued: &Arc<aws_api::Authenticator>,
    logs: &logs::LogsService,
    code: store::CodeStore,
) -> anyhow::Result<invoker::Invoker> {
    Ok(invoker::Invoker::new(
        invoker::InvokerConfig {
            runtime_dir: data.join("runtime"),
            runtimes: runtime_commands(config),
            idle_timeout: Duration::from_secs_f64(config.functions.idle_timeout_secs),
            init_timeout: Duration::from_secs_f64(config.functions.init_timeout_secs),
            endpoint_url: format!("http://{local}"),
            trusted_ca: Some(authority.ca_file.clone()),
            credentials: Some(Arc::new(sinks::FunctionKeys(issued.clone()))),
            log_sink: Some(Arc::new(sinks::Logs(logs.clone()))),
        },
        sandbox,
        code,
    )?)
}

/// The data plane's access logs (to CloudWatch Logs) and WebSocket limits.
fn plane_settings(config: &Config, logs: &logs::LogsService) -> gateway::PlaneSettings {
    gateway::PlaneSettings {
        access_logs: Some(Arc::new(sinks::Logs(logs.clone()))),
        websocket: gateway::websocket::WsLimits {
            max_frame: config.websocket.max_frame_bytes,
            max_message: config.websocket.max_message_bytes,
            idle_timeout: Duration::from_secs_f64(config.websocket.idle_timeout_secs),
            max_duration: Duration::from_secs_f64(config.websocket.max_connection_secs),
        },
    }
}

/// DynamoDB's and Kinesis's upkeep, on a thread of its own (a periodic task on the
/// blocking pool would keep its idle threads from ever retiring): expired items (TTL)
/// removed every second; stream records past their retention dropped every minute.
fn upkeep_streams(d: Arc<dynamodb::DynamoService>, k: Arc<kinesis::KinesisService>) -> anyhow::Result<()> {
    std::thread::Builder::new()
        .name("lamina-streams-upkeep".into())
        .spawn(move || {
            for second in 0u64.. {
                std::thread::sleep(std::time::Duration::from_secs(1));
                if let Err(e) = d.sweep_ttl() {
                    tracing::warn!("dynamodb: time to live: {e}");
                }
                if second % 60 == 59 {
                    if let Err(e) = d.trim_streams() {
                        tracing::warn!("dynamodb: stream retention: {e}");
                    }
                    if let Err(e) = k.tick() {
                        tracing::warn!("kinesis: retention: {e}");
                    }
                }
            }
        })
        .context("starting the streams' upkeep")?;
    Ok(())
}

/// One plain HTTP/1.1 request to a running server (`lamina events …`): `endpoint` is
/// `http://host:port`; the answer's status and body.
pub fn local_request(endpoint: &str, method: &str, path: &str, body: &str) -> anyhow::Result<(u16, String)> {
    use std::io::{Read, Write};
    let authority = endpoint
        .strip_prefix("http://")
        .ok_or_else(|| anyhow::anyhow!("the endpoint must be an http:// URL: {endpoint}"))?
        .trim_end_matches('/');
    let mut stream = std::net::TcpStream::connect(authority).with_context(|| format!("connecting to {endpoint}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes())?;
    let mut raw = Vec::new();
    stream.take(16 * 1024 * 1024).read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    let (head, rest) = text.split_once("\r\n\r\n").ok_or_else(|| anyhow::anyhow!("no HTTP answer from {endpoint}"))?;
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let chunked = head.lines().any(|l| l.to_ascii_lowercase().starts_with("transfer-encoding: chunked"));
    let body = if chunked { dechunk(rest) } else { rest.to_owned() };
    Ok((status, body))
}

/// A chunked body's data.
fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else { break };
        if n == 0 || after.len() < n {
            break;
        }
        out.push_str(&after[..n]);
        rest = after[n..].trim_start_matches("\r\n");
    }
    out
}
