//! The `lamina` binary: reads the command line and the configuration, sets up logging,
//! binds the port and runs the library's server ([`lamina::start`]) until SIGINT or
//! SIGTERM; `lamina doctor` reports the sandbox, `lamina install-sdk` installs the SDK layer. The helper subcommands the sandbox execs
//! (`sandbox-exec`, the reaper) are dispatched before anything else starts.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

use lamina::config::{self, Config};

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
    /// Install the AWS SDKs functions import (boto3, the SDK v3 for Node.js) into the SDK
    /// layer, as `serve` does in the background, and exit.
    InstallSdk(ServeArgs),
    /// EventBridge: emit AWS services' events onto a running server's buses.
    #[command(subcommand)]
    Events(EventsCommand),
}

#[derive(Subcommand)]
enum EventsCommand {
    /// Put an AWS service's event (EC2's, Auto Scaling's, ECS's, …) on a bus, as that
    /// service would: its `aws.` source is let in. Prints PutEvents' answer.
    Emit(EmitArgs),
    /// List the templates `emit --template` takes, with their default detail.
    Templates {
        /// The running server.
        #[arg(long, env = "LAMINA_ENDPOINT", default_value = "http://127.0.0.1:4566")]
        endpoint: String,
    },
}

#[derive(clap::Args)]
struct EmitArgs {
    /// The running server.
    #[arg(long, env = "LAMINA_ENDPOINT", default_value = "http://127.0.0.1:4566")]
    endpoint: String,
    /// A template of the catalogue (`lamina events templates`).
    #[arg(long)]
    template: Option<String>,
    /// The event's `source` (`aws.ec2`).
    #[arg(long)]
    source: Option<String>,
    /// The event's `detail-type`.
    #[arg(long)]
    detail_type: Option<String>,
    /// The event's `detail`, JSON (merged over a template's).
    #[arg(long)]
    detail: Option<String>,
    /// A resource ARN of the event (repeatable).
    #[arg(long = "resource")]
    resources: Vec<String>,
    /// The bus (default: the account's default bus).
    #[arg(long)]
    event_bus_name: Option<String>,
    /// The account (default: the server's).
    #[arg(long)]
    account: Option<String>,
    /// The region (default: the server's).
    #[arg(long)]
    region: Option<String>,
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
    /// Where the SDK layer lives (default: `sdk` in the data directory).
    #[arg(long, env = "LAMINA_SDK_DIR")]
    sdk_dir: Option<PathBuf>,
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
        if let Some(d) = self.sdk_dir {
            c.runtimes.sdk_dir = Some(d);
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
        Command::Events(command) => return events(command),
        Command::Serve(args) => (args, false),
        Command::Doctor(args) => (args, true),
        Command::InstallSdk(args) => {
            let config = args.config()?;
            let dir = lamina::sdk_dir(&config);
            invoker::sdk::install(&dir, &config.runtimes.python, &config.runtimes.sdk_node_packages)
                .map_err(|why| anyhow::anyhow!(why))?;
            println!("the AWS SDKs for functions are in {}", dir.display());
            return Ok(());
        }
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

/// `lamina events …`: a request to a running server's own endpoint.
fn events(command: EventsCommand) -> anyhow::Result<()> {
    let (endpoint, method, path, body) = match command {
        EventsCommand::Templates { endpoint } => (endpoint, "GET", "/_lamina/events/templates", String::new()),
        EventsCommand::Emit(a) => {
            let mut body = serde_json::Map::new();
            let detail = match a.detail {
                Some(d) => Some(serde_json::from_str::<serde_json::Value>(&d).context("--detail is not JSON")?),
                None => None,
            };
            let given = [
                ("Template", a.template.map(serde_json::Value::from)),
                ("Source", a.source.map(serde_json::Value::from)),
                ("DetailType", a.detail_type.map(serde_json::Value::from)),
                ("Detail", detail),
                ("Resources", (!a.resources.is_empty()).then(|| serde_json::Value::from(a.resources))),
                ("EventBusName", a.event_bus_name.map(serde_json::Value::from)),
                ("Account", a.account.map(serde_json::Value::from)),
                ("Region", a.region.map(serde_json::Value::from)),
            ];
            for (k, v) in given {
                if let Some(v) = v {
                    body.insert(k.to_owned(), v);
                }
            }
            (a.endpoint, "POST", "/_lamina/events/emit", serde_json::Value::Object(body).to_string())
        }
    };
    let (status, answer) = lamina::local_request(&endpoint, method, path, &body)?;
    println!("{answer}");
    if !(200..300).contains(&status) {
        std::process::exit(1);
    }
    Ok(())
}

fn doctor(config: &Config) -> anyhow::Result<()> {
    let sdk = lamina::sdk_dir(config);
    match invoker::sdk::status(&sdk, &config.runtimes.sdk_node_packages) {
        (true, true) => println!("sdk: boto3 and the AWS SDK v3 for Node.js, in {}", sdk.display()),
        (python, node) => println!(
            "sdk: {} in {} (`lamina serve` installs what is missing from PyPI and npm; `lamina install-sdk` too)",
            match (python, node) {
                (true, false) => "boto3 only; no AWS SDK for Node.js",
                (false, true) => "the AWS SDK v3 for Node.js only; no boto3",
                _ => "not installed",
            },
            sdk.display()
        ),
    }
    for (id, served) in invoker::runtime_report(lamina::runtime_commands(config)) {
        match served {
            Ok(by) => println!("runtime {id}: {by}"),
            Err(why) => println!("runtime {id}: unavailable: {why}"),
        }
    }
    match lamina::raise_fd_limit() {
        (limit, None) => {
            println!("open files: up to {limit} (WebSocket connections and environments hold one or more each)")
        }
        (limit, Some(ceiling)) => println!(
            "open files: up to {limit}, below the kernel's {ceiling}: raising the hard limit needs CAP_SYS_RESOURCE \
             (or `ulimit -Hn`, systemd's LimitNOFILE=, docker's --ulimit nofile=); one server holds at most about \
             {limit} WebSocket connections"
        ),
    }
    let data = std::env::temp_dir().join(format!("lamina-doctor-{}", std::process::id()));
    std::fs::create_dir_all(&data)?;
    let chosen = lamina::choose_sandbox(config, &data);
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

async fn serve(config: Config) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(SocketAddr::new(config.listen, config.port))
        .await
        .with_context(|| format!("binding {}:{}", config.listen, config.port))?;
    let server = lamina::start(listener, config).await?;
    // Tests and scripts read this line to find the port when started with --port 0.
    say(&format!("lamina listening on http://{}", server.local_addr()));
    // Testcontainers and LocalStack's tooling wait for this line.
    say("Ready.");
    server.serve(shutdown_signal()).await;
    Ok(())
}

async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
