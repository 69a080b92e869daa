//! The `lamina` binary: reads the configuration, wires the store, sandbox, invoker,
//! services and API router together, and serves them, over HTTP and HTTPS on one port
//! (`tls.rs`), until interrupted. It holds no logic of its own beyond that wiring.

mod config;
mod serve;
mod tls;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};

use config::Config;

#[derive(Parser)]
#[command(name = "lamina", version, about = "AWS Lambda and API Gateway on machines you own")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve every AWS API on one port.
    Serve(ServeArgs),
    /// Report which protections this host gives execution environments.
    Doctor(ServeArgs),
}

#[derive(clap::Args)]
struct ServeArgs {
    /// TOML configuration file.
    #[arg(long, env = "LAMINA_CONFIG")]
    config: Option<PathBuf>,
    /// Data directory (default: ./.lamina).
    #[arg(long, env = "LAMINA_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Address to listen on (default: 127.0.0.1).
    #[arg(long, env = "LAMINA_LISTEN")]
    listen: Option<std::net::IpAddr>,
    /// Port (default: 4566; 0 picks a free one).
    #[arg(long, env = "LAMINA_PORT")]
    port: Option<u16>,
    /// Default region (default: us-east-1).
    #[arg(long, env = "LAMINA_REGION")]
    region: Option<String>,
    /// Sandbox mode: auto, namespace or process (default: auto).
    #[arg(long, env = "LAMINA_SANDBOX")]
    sandbox: Option<config::SandboxMode>,
    /// Authentication: open (any credentials) or sigv4 (signed by a configured key).
    #[arg(long, env = "LAMINA_AUTH")]
    auth: Option<config::AuthMode>,
    /// Request log: off, error, warn or info (default: info).
    #[arg(long, env = "LAMINA_REQUEST_LOG")]
    request_log: Option<config::RequestLog>,
}

impl ServeArgs {
    fn config(self) -> anyhow::Result<Config> {
        let mut c = match &self.config {
            Some(path) => Config::from_file(path)?,
            None => Config::default(),
        };
        if let Some(d) = self.data_dir {
            c.data_dir = d;
        }
        if let Some(l) = self.listen {
            c.listen = l;
        }
        if let Some(p) = self.port {
            c.port = p;
        }
        if let Some(r) = self.region {
            c.region = r;
        }
        if let Some(m) = self.sandbox {
            c.sandbox.mode = m;
        }
        if let Some(a) = self.auth {
            c.auth.mode = a;
        }
        if let Some(l) = self.request_log {
            c.server.request_log = l;
        }
        c.validate()?;
        Ok(c)
    }
}

/// A line on standard output for whoever started the server. A closed stdout (the reader
/// took the first line and left) must not stop it, so errors are ignored.
fn say(line: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn main() -> anyhow::Result<()> {
    // The sandbox helper: a fresh single-threaded process that becomes an execution
    // environment. Nothing else (no runtime, no logging threads) may start before it.
    if std::env::args_os().nth(1).is_some_and(|a| a == "sandbox-exec") {
        sandbox::jail::run_helper();
    }
    if std::env::args_os().nth(1).is_some_and(|a| a == sandbox::reaper::SUBCOMMAND) {
        sandbox::reaper::run();
    }
    let cli = Cli::parse();
    let (args, doctor_only) = match cli.command {
        Command::Serve(args) => (args, false),
        Command::Doctor(args) => (args, true),
    };
    let config = args.config()?;
    let filter = tracing_subscriber::EnvFilter::try_from_env("LAMINA_LOG")
        .unwrap_or_else(|_| "info".into())
        .add_directive(config.server.request_log.directive().parse()?);
    // Colours only for a terminal: piped logs stay plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi).with_writer(std::io::stderr).init();
    if doctor_only {
        return doctor(&config);
    }
    tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(serve(config))
}

/// Chooses the sandbox the configuration asks for and the host allows.
fn choose_sandbox(config: &Config, data: &std::path::Path) -> anyhow::Result<Arc<dyn sandbox::Sandbox>> {
    use config::SandboxMode;
    let scratch = data.join("scratch");
    if config.sandbox.mode == SandboxMode::Process {
        tracing::warn!("sandbox mode `process`: environments run UNSANDBOXED, with Lamina's own privileges");
        return Ok(Arc::new(sandbox::ProcessSandbox::new(&scratch)));
    }
    let helper = std::env::current_exe().context("locating the lamina binary")?;
    let isolated_network = config.sandbox.network == config::NetworkMode::None;
    let runtime_dir = data.join("runtime");
    let hosts = data.join("etc").join("hosts");
    let hosts = apigateway::hosts::prepare(&hosts)
        .inspect_err(|e| tracing::warn!("{}: {e}; environments resolve only the system's hosts", hosts.display()))
        .map(|()| hosts.as_path());
    let freeze = config.sandbox.freeze_idle;
    match sandbox::NamespaceSandbox::new(&helper, &scratch, &runtime_dir, freeze, isolated_network, hosts.ok()) {
        Ok(s) => Ok(Arc::new(s)),
        Err(why) if config.sandbox.mode == SandboxMode::Auto => {
            tracing::warn!("cannot sandbox environments ({why}); running them UNSANDBOXED as plain processes");
            Ok(Arc::new(sandbox::ProcessSandbox::new(&scratch)))
        }
        Err(why) => anyhow::bail!("sandbox mode is `namespace` but this host cannot sandbox: {why}"),
    }
}

fn doctor(config: &Config) -> anyhow::Result<()> {
    let data = std::env::temp_dir().join(format!("lamina-doctor-{}", std::process::id()));
    std::fs::create_dir_all(&data)?;
    let chosen = choose_sandbox(config, &data);
    let _ = std::fs::remove_dir_all(&data);
    match chosen {
        Ok(s) => {
            println!("sandbox: {}", s.describe());
            for line in sandbox::jail::seccomp_policy() {
                println!("seccomp: {line}");
            }
            s.shutdown();
            Ok(())
        }
        Err(e) => {
            println!("sandbox: unavailable: {e}");
            std::process::exit(1)
        }
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
/// does not run out at the common default of 1024.
fn raise_fd_limit() {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else { return };
    // As root, up to the kernel's ceiling: every WebSocket connection holds a descriptor.
    let ceiling = std::fs::read_to_string("/proc/sys/fs/nr_open").ok().and_then(|s| s.trim().parse::<u64>().ok());
    if let Some(max) = ceiling.filter(|max| *max > hard) {
        if setrlimit(Resource::RLIMIT_NOFILE, max, max).is_ok() {
            return;
        }
    }
    if soft < hard && setrlimit(Resource::RLIMIT_NOFILE, hard, hard).is_err() {
        tracing::warn!(soft, hard, "cannot raise the open-file limit");
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    raise_fd_limit();
    let data = &config.data_dir;
    std::fs::create_dir_all(data).with_context(|| format!("creating data directory {}", data.display()))?;
    let data = data.canonicalize()?;
    let _lock = lock_data_dir(&data)?;
    let database = Arc::new(store::SqliteStore::open(&data.join("state.db"))?);
    let store: Arc<dyn store::MetadataStore> = database.clone();
    let code = store::CodeStore::open(&data.join("code"))?;

    let listener = tokio::net::TcpListener::bind(SocketAddr::new(config.listen, config.port))
        .await
        .with_context(|| format!("binding {}:{}", config.listen, config.port))?;
    let addr = listener.local_addr()?;
    let local = if addr.ip().is_unspecified() { SocketAddr::from(([127, 0, 0, 1], addr.port())) } else { addr };

    let authority = tls::authority(&data.join("tls"))?;
    let auth = match config.auth.mode {
        config::AuthMode::Open => {
            tracing::warn!(
                "auth: open — any credentials are accepted; a 12-digit access key acts in that account, any other in {}",
                config.account
            );
            None
        }
        config::AuthMode::Sigv4 => {
            let keys: Vec<aws_api::AccessKey> = config
                .auth
                .keys()?
                .into_iter()
                .map(|k| aws_api::AccessKey { id: k.access_key_id, secret: k.secret_access_key, account: k.account })
                .collect();
            tracing::info!("auth: sigv4 — requests must be signed by one of {} keys", keys.len());
            Some(Arc::new(aws_api::Authenticator::new(keys)))
        }
    };
    // Temporary credentials (functions' sessions, assumed roles) are kept where requests
    // are checked: the authenticator, or in open mode a registry of their own.
    let issued = auth.clone().unwrap_or_else(|| Arc::new(aws_api::Authenticator::new(Vec::new())));
    let logs = logs::LogsService::start(store::LogStore::open(&data.join("logs.db"))?)
        .map_err(|e| anyhow::anyhow!("starting CloudWatch Logs: {e}"))?;
    let sandbox = choose_sandbox(&config, &data)?;
    tracing::info!("sandbox: {}", sandbox.describe());
    let invoker = invoker::Invoker::new(
        invoker::InvokerConfig {
            runtime_dir: data.join("runtime"),
            runtimes: invoker::RuntimeCommands {
                overrides: config.runtimes.overrides.clone(),
                python: config.runtimes.python.clone(),
                node: config.runtimes.node.clone(),
            },
            idle_timeout: Duration::from_secs_f64(config.functions.idle_timeout_secs),
            init_timeout: Duration::from_secs_f64(config.functions.init_timeout_secs),
            endpoint_url: format!("http://{local}"),
            trusted_ca: Some(authority.ca_file.clone()),
            credentials: Some(Arc::new(FunctionKeys(issued.clone()))),
            log_sink: Some(Arc::new(Logs(logs.clone()))),
        },
        sandbox,
        code.clone(),
    )?;
    // One clock for everything that keeps time, so tests can move it once.
    let clock = model::Clock::default();
    let sqs =
        sqs::SqsService::start(database.clone(), clock.clone()).map_err(|e| anyhow::anyhow!("starting SQS: {e}"))?;
    let functions = Arc::new(Functions {
        lambda: std::sync::OnceLock::new(),
        check_policies: config.auth.mode == config::AuthMode::Sigv4,
    });
    let sns = sns::SnsService::start(
        database.clone(),
        sqs.clone(),
        functions.clone(),
        Some(Arc::new(Logs(logs.clone()))),
        format!("http://{local}"),
        data.join("sns"),
    )
    .map_err(|e| anyhow::anyhow!("starting SNS: {e}"))?;
    let async_config = invoker::AsyncConfig {
        retry_delays: config.async_.retry_delays_secs.iter().map(|s| Duration::from_secs_f64(*s)).collect(),
        parallelism: config.async_.parallelism,
        clock,
        ..Default::default()
    };
    let lambda =
        // Queues and topics for destinations and dead-letter queues (SNS joins here).
        lambda::LambdaService::start(
            store,
            code,
            invoker.clone(),
            async_config,
            config.functions.concurrency,
            vec![Arc::new(SqsSink(sqs.clone())), Arc::new(SnsSink(sns.clone()))],
        )?;
    let _ = functions.lambda.set(lambda.clone());
    lambda.start_event_sources(sqs.clone()).map_err(|e| anyhow::anyhow!("starting event source mappings: {e}"))?;
    let gateway = apigateway::GatewayService::start(
        database.clone(),
        functions.clone(),
        Arc::new(Queues(sqs.clone())),
        apigateway::GatewaySettings {
            endpoint_host: format!("localhost:{}", local.port()),
            hosts_file: Some(data.join("etc").join("hosts")),
            access_logs: Some(Arc::new(Logs(logs.clone()))),
            websocket: apigateway::websocket::WsLimits {
                max_frame: config.websocket.max_frame_bytes,
                max_message: config.websocket.max_message_bytes,
                idle_timeout: Duration::from_secs_f64(config.websocket.idle_timeout_secs),
                max_duration: Duration::from_secs_f64(config.websocket.max_connection_secs),
            },
        },
    )
    .map_err(|e| anyhow::anyhow!("starting API Gateway: {e}"))?;
    let iam = iam::IamService::start(database.clone()).map_err(|e| anyhow::anyhow!("starting IAM: {e}"))?;
    // IAM users' access keys act as their users, in either auth mode.
    for key in iam.active_keys() {
        issued.accept_user_key(&key);
    }
    let app = aws_api::router(aws_api::ApiState {
        lambda,
        sqs,
        sns,
        gateway,
        iam,
        logs,
        callers: Arc::new(aws_api::CallerPolicy {
            default_account: config.account.clone(),
            default_region: config.region.clone(),
            auth,
            issued,
        }),
        adjustable_clock: config.async_.adjustable_clock,
        code_urls: aws_api::CodeUrls::open(&data.join("code-url.key")).context("opening the code link key")?,
    });
    if config.async_.adjustable_clock {
        tracing::warn!("async.adjustable_clock is on: POST /_lamina/clock moves the async queue's clock forward");
    }

    tracing::info!(data_dir = %data.display(), "state directory");
    // Tests and scripts read this line to find the port when started with --port 0.
    say(&format!("lamina listening on http://{addr}"));
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
    // Testcontainers and LocalStack's tooling wait for this line.
    say("Ready.");
    serve::serve(listener, app, limits, shutdown_signal()).await;
    invoker.shutdown();
    tracing::info!("stopped");
    Ok(())
}

/// A sink's outcome: `Ok(false)` means the target `what` does not exist.
fn delivered<E: std::fmt::Display>(outcome: Result<bool, E>, what: &str) -> Result<(), String> {
    match outcome {
        Ok(true) => Ok(()),
        Ok(false) => Err(format!("the {what} does not exist")),
        Err(e) => Err(e.to_string()),
    }
}

/// Functions' output and stages' access logs, into CloudWatch Logs.
struct Logs(logs::LogsService);

impl std::fmt::Debug for Logs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Logs")
    }
}

impl invoker::LogSink for Logs {
    fn write(&self, s: &invoker::LogStreamId, lines: Vec<(i64, String)>) {
        self.0.ingest(&s.account, &s.region, &s.group, &s.stream, lines);
    }

    fn has_room(&self) -> bool {
        self.0.has_room()
    }

    fn until_room(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(self.0.until_room())
    }
}

impl sns::DeliveryLog for Logs {
    fn write(&self, account: &str, region: &str, group: &str, stream: &str, line: String) {
        self.0.ingest(account, region, group, stream, vec![(model::clock::now_ms(), line)]);
    }
}

impl apigateway::AccessLogSink for Logs {
    /// `destination_arn` is `arn:aws:logs:<region>:<account>:log-group:<name>[:*]`; a
    /// line for anything else is dropped.
    fn write(&self, destination_arn: &str, stream: &str, line: String) {
        let parts: Vec<&str> = destination_arn.splitn(7, ':').collect();
        let (Some(&"logs"), Some(region), Some(account), Some(&"log-group"), Some(group)) =
            (parts.get(2), parts.get(3), parts.get(4), parts.get(5), parts.get(6))
        else {
            return;
        };
        let group = group.strip_suffix(":*").unwrap_or(group);
        self.0.ingest(account, region, group, stream, vec![(model::clock::now_ms(), line)]);
    }
}

/// Delivers Lambda's destination records and dead-letter messages to SQS queues.
struct SqsSink(sqs::SqsService);

impl invoker::MessageSink for SqsSink {
    fn service(&self) -> &'static str {
        "sqs"
    }

    fn permits(&self, target_arn: &str, sender: &str) -> Option<bool> {
        self.0.allows(target_arn, &sqs::Requester::Account(sender), "sqs:SendMessage")
    }

    fn send<'a>(
        &'a self,
        target_arn: &'a str,
        sender: &'a str,
        message: invoker::Message,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>> {
        let attributes = message
            .attributes
            .into_iter()
            .map(|(k, t, v)| (k, sqs::AttributeValue { data_type: t.into(), string: Some(v), binary: None }))
            .collect();
        let input = sqs::SendInput { body: message.body, attributes, ..Default::default() };
        Box::pin(
            async move { delivered(self.0.send_to_arn(target_arn, &sqs::Requester::Account(sender), input), "queue") },
        )
    }
}

/// Delivers Lambda's destination records and dead-letter messages to SNS topics.
struct SnsSink(sns::SnsService);

impl invoker::MessageSink for SnsSink {
    fn service(&self) -> &'static str {
        "sns"
    }

    fn permits(&self, target_arn: &str, sender: &str) -> Option<bool> {
        self.0.permits(target_arn, sender)
    }

    fn send<'a>(
        &'a self,
        target_arn: &'a str,
        sender: &'a str,
        message: invoker::Message,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>> {
        let attributes = message
            .attributes
            .into_iter()
            .map(|(k, t, v)| (k, sns::Attribute { data_type: t.into(), value: v }))
            .collect();
        let input = sns::PublishInput { message: message.body, attributes, ..Default::default() };
        Box::pin(async move { delivered(self.0.publish_to_arn(target_arn, sender, input).await, "topic") })
    }
}

/// The account and region a function ARN names: the caller that invokes it on behalf of
/// another service.
fn owner_of(arn: &str) -> Result<lambda::Caller, String> {
    let parts: Vec<&str> = arn.split(':').collect();
    match (parts.get(3), parts.get(4)) {
        (Some(region), Some(account)) => {
            Ok(lambda::Caller { account: (*account).to_owned(), region: (*region).to_owned() })
        }
        _ => Err(format!("not a function ARN: {arn}")),
    }
}

/// Functions' credentials: temporary keys of their execution role's session, known to
/// the server (verified in authenticated mode, read as who they are in open mode).
#[derive(Debug)]
struct FunctionKeys(Arc<aws_api::Authenticator>);

impl invoker::CredentialIssuer for FunctionKeys {
    fn issue(&self, f: &model::Function) -> (String, String, String) {
        let (account, principal) = f.execution_session();
        self.0.session_for(&account, &principal)
    }

    fn revoke(&self, access_key: &str) {
        self.0.revoke(access_key);
    }
}

/// Lets SNS and API Gateway invoke functions. In authenticated mode, only functions whose
/// resource policy allows the service, for the topic or API at hand.
struct Functions {
    lambda: std::sync::OnceLock<lambda::LambdaService>,
    check_policies: bool,
}

impl Functions {
    /// Whether `service`, acting for `source_arn`, may invoke `arn`.
    fn permitted(
        &self,
        lambda: &lambda::LambdaService,
        arn: &str,
        service: &str,
        source_arn: &str,
    ) -> Result<(), String> {
        if !self.check_policies || lambda.service_may_invoke(arn, service, source_arn) {
            return Ok(());
        }
        Err(format!("no resource policy of {arn} allows {service} to invoke it for {source_arn}"))
    }
}

impl sns::FunctionTarget for Functions {
    fn invoke_event<'a>(
        &'a self,
        arn: &'a str,
        payload: String,
        topic_arn: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<String, String>> + Send + 'a>> {
        Box::pin(async move {
            let lambda = self.lambda.get().ok_or("Lambda is not started")?;
            self.permitted(lambda, arn, "sns.amazonaws.com", topic_arn)?;
            let caller = owner_of(arn)?;
            let request_id = uuid::Uuid::new_v4().to_string();
            let input = lambda::InvokeInput {
                request_id: request_id.clone(),
                payload: payload.into(),
                log_tail: false,
                client_context: None,
            };
            lambda
                .invoke(&caller, arn, None, lambda::InvocationType::Event, input)
                .await
                .map(|_| request_id)
                .map_err(|e| e.to_string())
        })
    }
}

/// Lets API Gateway send messages to SQS (`AWS` integrations).
struct Queues(sqs::SqsService);

impl apigateway::Queues for Queues {
    fn send(&self, m: apigateway::SqsMessage) -> apigateway::SqsSending<'_> {
        let caller = sqs::Caller { account: m.account.clone(), region: m.region.clone() };
        let url = format!("http://localhost/{}/{}", m.account, m.queue);
        let input = sqs::SendInput {
            body: m.body,
            delay_s: m.delay_seconds.map(i64::from),
            group_id: m.group_id,
            dedup_id: m.deduplication_id,
            ..Default::default()
        };
        let sent = self.0.send(&caller, &url, input);
        Box::pin(async move {
            sent.map(|s| apigateway::SqsSent { message_id: s.id, md5_of_body: s.md5_body, sequence_number: s.sequence })
                .map_err(|e| apigateway::SqsFailure { code: e.query_code.to_owned(), message: e.message })
        })
    }
}

/// Lets API Gateway invoke functions synchronously (`AWS_PROXY` integrations).
impl apigateway::Functions for Functions {
    fn invoke<'a>(
        &'a self,
        arn: &'a str,
        payload: bytes::Bytes,
        source_arn: &'a str,
    ) -> Pin<Box<dyn Future<Output = apigateway::FunctionReply> + Send + 'a>> {
        use apigateway::FunctionReply;
        Box::pin(async move {
            let Some(lambda) = self.lambda.get() else {
                return FunctionReply::Unavailable("Lambda is not started".into());
            };
            if let Err(why) = self.permitted(lambda, arn, "apigateway.amazonaws.com", source_arn) {
                // API Gateway's "Invalid permissions on Lambda function": a 500 to the client.
                return FunctionReply::Unavailable(why);
            }
            match invoke_owned(lambda, arn, None, payload).await {
                Ok(reply) => reply,
                Err(e) => FunctionReply::Unavailable(e.to_string()),
            }
        })
    }

    fn function_url(&self, url_id: &str) -> Option<apigateway::function_urls::UrlTarget> {
        let url = self.lambda.get()?.function_url(url_id)?;
        let cors = url.config.cors.map(|c| apigateway::v2::Cors {
            allow_credentials: c.allow_credentials,
            allow_headers: c.allow_headers,
            allow_methods: c.allow_methods,
            allow_origins: c.allow_origins,
            expose_headers: c.expose_headers,
            max_age: c.max_age,
        });
        Some(apigateway::function_urls::UrlTarget {
            function_arn: url.function_arn,
            account: url.account,
            iam: url.config.auth_type == "AWS_IAM",
            cors,
            streaming: url.config.invoke_mode == "RESPONSE_STREAM",
        })
    }

    fn invoke_url<'a>(
        &'a self,
        url_id: &'a str,
        caller: Option<&'a str>,
        request_id: &'a str,
        payload: bytes::Bytes,
    ) -> apigateway::function_urls::UrlCall<'a> {
        use apigateway::function_urls::UrlReply;
        use apigateway::FunctionReply;
        Box::pin(async move {
            let Some(lambda) = self.lambda.get() else {
                return UrlReply::Function(FunctionReply::Unavailable("Lambda is not started".into()));
            };
            // Resource policies decide in authenticated mode, as for the other services.
            if self.check_policies && !lambda.url_permits(url_id, caller) {
                return UrlReply::Forbidden;
            }
            let Some(url) = lambda.function_url(url_id) else { return UrlReply::Forbidden };
            match invoke_owned(lambda, &url.function_arn, Some(request_id), payload).await {
                Ok(reply) => UrlReply::Function(reply),
                Err(lambda::LambdaError::TooManyRequests { .. }) => UrlReply::Throttled,
                Err(lambda::LambdaError::RequestTooLarge(why)) => UrlReply::TooLarge(why),
                Err(e) => UrlReply::Function(FunctionReply::Unavailable(e.to_string())),
            }
        })
    }
}

/// Invokes `arn` synchronously in its own account, for a service calling on a client's
/// behalf (API Gateway, a function URL), under `request_id` or a new one.
async fn invoke_owned(
    lambda: &lambda::LambdaService,
    arn: &str,
    request_id: Option<&str>,
    payload: bytes::Bytes,
) -> Result<apigateway::FunctionReply, lambda::LambdaError> {
    use apigateway::FunctionReply;
    let caller = owner_of(arn).map_err(lambda::LambdaError::Service)?;
    let input = lambda::InvokeInput {
        request_id: request_id.map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned),
        payload,
        log_tail: false,
        client_context: None,
    };
    Ok(match lambda.invoke(&caller, arn, None, lambda::InvocationType::RequestResponse, input).await? {
        lambda::InvokeOutcome::Completed(r) if r.function_error.is_some() => FunctionReply::Failed(r.payload),
        lambda::InvokeOutcome::Completed(r) => FunctionReply::Returned(r.payload),
        _ => FunctionReply::Unavailable("the invocation did not complete".into()),
    })
}

async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
