//! Lamina's configuration: one serde tree, filled from a TOML file, then environment
//! variables and flags (flags win). Unknown keys are errors.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Everything `lamina serve` can be told.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where state lives: `state.db`, code blobs, runtime clients, scratch space.
    pub data_dir: PathBuf,
    /// Address to listen on.
    pub listen: IpAddr,
    /// Port for every API (4566, as LocalStack, so its tooling works unchanged).
    pub port: u16,
    /// Region for requests that name none.
    pub region: String,
    /// Account for access keys that name none.
    pub account: String,
    /// Execution environments.
    pub functions: FunctionsConfig,
    /// Asynchronous invocation.
    #[serde(rename = "async")]
    pub async_: AsyncSection,
    /// Interpreters per runtime.
    pub runtimes: RuntimesConfig,
    /// How environments are isolated.
    pub sandbox: SandboxConfig,
    /// WebSocket APIs' limits.
    pub websocket: WebSocketConfig,
    /// Who may call the AWS APIs.
    pub auth: AuthConfig,
    /// What clients are allowed.
    pub server: ServerConfig,
}

/// `[server]`: limits on clients.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// A request's headers must arrive within this.
    pub header_timeout_secs: f64,
    /// HTTP connections open at once, at most; beyond it, accepting waits. (A connection
    /// upgraded to a WebSocket leaves this count: those are bounded by the open-file limit.)
    pub max_connections: usize,
    /// The request log: one line per AWS API request (account, service, operation,
    /// status, error code, duration) at this level and above: `info` logs every request,
    /// `warn` those answered 4xx or 5xx, `error` those answered 5xx, `off` none.
    pub request_log: RequestLog,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig { header_timeout_secs: 30.0, max_connections: 100_000, request_log: RequestLog::Info }
    }
}

/// Which requests the request log shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum RequestLog {
    /// None.
    Off,
    /// Those answered 5xx.
    Error,
    /// Those answered 4xx or 5xx.
    Warn,
    /// Every request.
    Info,
}

impl RequestLog {
    /// The tracing directive for the log's target.
    pub fn directive(self) -> &'static str {
        match self {
            RequestLog::Off => "lamina::requests=off",
            RequestLog::Error => "lamina::requests=error",
            RequestLog::Warn => "lamina::requests=warn",
            RequestLog::Info => "lamina::requests=info",
        }
    }
}

/// `[auth]`: open (any key; the default) or SigV4-verified against known keys.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// `open` or `sigv4`.
    pub mode: AuthMode,
    /// An AWS shared-credentials file: a section per key, with `aws_access_key_id`,
    /// `aws_secret_access_key` and `aws_account_id`.
    pub credentials_file: Option<PathBuf>,
    /// Keys given here directly.
    pub keys: Vec<KeyConfig>,
}

/// How requests are authenticated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum AuthMode {
    /// Any credentials; a 12-digit access key selects that account.
    #[default]
    Open,
    /// Only requests signed (SigV4) by a known key, acting in its account.
    Sigv4,
}

/// `[[auth.keys]]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyConfig {
    /// The access key ID.
    pub access_key_id: String,
    /// Its secret.
    pub secret_access_key: String,
    /// The account it acts in (12 digits).
    pub account: String,
}

impl AuthConfig {
    /// Every key: the file's, then those given directly.
    pub fn keys(&self) -> anyhow::Result<Vec<KeyConfig>> {
        let mut keys = match &self.credentials_file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| anyhow::anyhow!("cannot read credentials file {}: {e}", path.display()))?;
                parse_credentials(&text).map_err(|e| anyhow::anyhow!("credentials file {}: {e}", path.display()))?
            }
            None => Vec::new(),
        };
        keys.extend(self.keys.iter().cloned());
        for k in &keys {
            anyhow::ensure!(
                k.account.len() == 12 && k.account.bytes().all(|b| b.is_ascii_digit()),
                "auth: key {} has account {:?}, which is not 12 digits",
                k.access_key_id,
                k.account
            );
            anyhow::ensure!(!k.secret_access_key.is_empty(), "auth: key {} has an empty secret", k.access_key_id);
        }
        Ok(keys)
    }
}

/// Reads AWS's shared-credentials format (INI): `[profile]` sections of `name = value`
/// lines, `#` and `;` comments.
fn parse_credentials(text: &str) -> Result<Vec<KeyConfig>, String> {
    let mut sections: Vec<(String, BTreeMap<String, String>)> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            sections.push((name.trim().to_owned(), BTreeMap::new()));
            continue;
        }
        let (Some((k, v)), Some((_, entries))) = (line.split_once('='), sections.last_mut()) else {
            return Err(format!("line {}: expected `[profile]` or `name = value`", n + 1));
        };
        entries.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
    }
    sections
        .into_iter()
        .map(|(name, e)| {
            let get = |k: &str| e.get(k).cloned().ok_or(format!("[{name}] has no {k}"));
            Ok(KeyConfig {
                access_key_id: get("aws_access_key_id")?,
                secret_access_key: get("aws_secret_access_key")?,
                account: get("aws_account_id")?,
            })
        })
        .collect()
}

/// `[websocket]`: AWS's limits by default.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebSocketConfig {
    /// The largest frame a client may send, bytes.
    pub max_frame_bytes: usize,
    /// The largest message, bytes.
    pub max_message_bytes: usize,
    /// A connection with no message for this long is closed.
    pub idle_timeout_secs: f64,
    /// No connection lasts longer.
    pub max_connection_secs: f64,
}

impl Default for WebSocketConfig {
    fn default() -> Self {
        WebSocketConfig {
            max_frame_bytes: 32 * 1024,
            max_message_bytes: 128 * 1024,
            idle_timeout_secs: 600.0,
            max_connection_secs: 7200.0,
        }
    }
}

/// `[sandbox]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SandboxConfig {
    /// `auto` (namespaces when the host allows, else plain processes with a warning),
    /// `namespace` (refuse to start without them) or `process` (never isolate).
    pub mode: SandboxMode,
    /// Freeze idle environments between invocations (the cgroup freezer), as AWS does.
    pub freeze_idle: bool,
    /// `host`: functions share the host's network, like Lambda's default. `none`: each
    /// environment has a network namespace of its own with loopback only.
    pub network: NetworkMode,
}

/// See [`SandboxConfig::network`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NetworkMode {
    /// The host's network.
    Host,
    /// Loopback only.
    None,
}

/// See [`SandboxConfig::mode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum SandboxMode {
    /// Namespaces when possible.
    Auto,
    /// Namespaces or nothing.
    Namespace,
    /// Plain processes.
    Process,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig { mode: SandboxMode::Auto, freeze_idle: true, network: NetworkMode::Host }
    }
}

/// `[functions]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FunctionsConfig {
    /// Seconds a warm environment may idle before it is stopped.
    pub idle_timeout_secs: f64,
    /// Seconds a runtime may take to initialise.
    pub init_timeout_secs: f64,
    /// Account-wide concurrent executions.
    pub concurrency: u32,
}

/// `[async]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AsyncSection {
    /// Seconds before each retry of a failed async event.
    pub retry_delays_secs: Vec<f64>,
    /// Async events run at once.
    pub parallelism: usize,
    /// Lets `POST /_lamina/clock?advance_secs=N` move the async queue's clock forward, so
    /// that tests can age events past `MaximumEventAgeInSeconds` without waiting. Never
    /// enable it where real events flow.
    pub adjustable_clock: bool,
}

/// `[runtimes]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RuntimesConfig {
    /// Interpreter for every `python*` runtime without its own entry.
    pub python: PathBuf,
    /// Interpreter for every `nodejs*` runtime without its own entry.
    pub node: PathBuf,
    /// Interpreter for every `ruby*` runtime without its own entry.
    pub ruby: PathBuf,
    /// Interpreter per runtime id, e.g. `"python3.12" = "/usr/bin/python3.12"`.
    pub overrides: BTreeMap<String, PathBuf>,
    /// Refuse a runtime whose exact version the host lacks (its functions go `Failed`),
    /// instead of running it on the nearest version with a notice.
    pub strict: bool,
    /// Where the SDK layer (boto3, the AWS SDK v3 for Node.js) lives; default: `sdk`
    /// under the data directory.
    pub sdk_dir: Option<PathBuf>,
    /// Install the SDK layer's missing parts from PyPI and npm when the server starts.
    pub install_sdk: bool,
    /// More `@aws-sdk/…` packages for Node.js functions than the layer's own (the clients
    /// of the services Lamina serves), e.g. `["client-sfn"]`.
    pub sdk_node_packages: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from(".lamina"),
            listen: IpAddr::from([127, 0, 0, 1]),
            port: 4566,
            region: "us-east-1".into(),
            account: "000000000000".into(),
            functions: FunctionsConfig::default(),
            async_: AsyncSection::default(),
            runtimes: RuntimesConfig::default(),
            sandbox: SandboxConfig::default(),
            websocket: WebSocketConfig::default(),
            auth: AuthConfig::default(),
            server: ServerConfig::default(),
        }
    }
}

impl Default for FunctionsConfig {
    fn default() -> Self {
        FunctionsConfig { idle_timeout_secs: 300.0, init_timeout_secs: 10.0, concurrency: 1000 }
    }
}

impl Default for AsyncSection {
    fn default() -> Self {
        AsyncSection { retry_delays_secs: vec![60.0, 120.0], parallelism: 64, adjustable_clock: false }
    }
}

impl Default for RuntimesConfig {
    fn default() -> Self {
        RuntimesConfig {
            python: "python3".into(),
            node: "node".into(),
            ruby: "ruby".into(),
            overrides: BTreeMap::new(),
            strict: false,
            sdk_dir: None,
            install_sdk: true,
            sdk_node_packages: Vec::new(),
        }
    }
}

impl Config {
    /// Reads a TOML file.
    pub fn from_file(path: &Path) -> anyhow::Result<Config> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read config file {}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| anyhow::anyhow!("invalid config file {}: {e}", path.display()))
    }

    /// Checks values no type can express.
    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.account.len() == 12 && self.account.chars().all(|c| c.is_ascii_digit()),
            "account must be 12 digits"
        );
        anyhow::ensure!(self.functions.idle_timeout_secs > 0.0, "functions.idle_timeout_secs must be positive");
        anyhow::ensure!(self.functions.init_timeout_secs > 0.0, "functions.init_timeout_secs must be positive");
        anyhow::ensure!(self.functions.concurrency > 0, "functions.concurrency must be positive");
        if let Some(bad) = self.runtimes.sdk_node_packages.iter().find(|p| !invoker::sdk::valid_package(p)) {
            anyhow::bail!(
                "runtimes.sdk_node_packages: {bad:?} is not an @aws-sdk package name (such as \"client-sfn\")"
            );
        }
        anyhow::ensure!(
            self.async_.retry_delays_secs.iter().all(|d| *d >= 0.0),
            "async.retry_delays_secs must not be negative"
        );
        let ws = &self.websocket;
        anyhow::ensure!(
            ws.max_frame_bytes > 0 && ws.max_message_bytes >= ws.max_frame_bytes,
            "websocket: a message must allow at least one frame"
        );
        anyhow::ensure!(
            ws.idle_timeout_secs > 0.0 && ws.max_connection_secs > 0.0,
            "websocket timeouts must be positive"
        );
        anyhow::ensure!(self.server.header_timeout_secs > 0.0, "server.header_timeout_secs must be positive");
        anyhow::ensure!(self.server.max_connections > 0, "server.max_connections must be positive");
        if self.auth.mode == AuthMode::Sigv4 {
            anyhow::ensure!(!self.auth.keys()?.is_empty(), "auth.mode is sigv4, but no keys are configured");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_values_override_defaults_and_unknown_keys_fail() {
        let c: Config = toml::from_str("port = 9000\n[functions]\nidle_timeout_secs = 1.5\n").unwrap();
        assert_eq!(c.port, 9000);
        assert_eq!(c.functions.idle_timeout_secs, 1.5);
        assert_eq!(c.functions.concurrency, 1000);
        assert!(toml::from_str::<Config>("prot = 1\n").is_err());
        assert!(toml::from_str::<Config>("[functions]\nidle = 1\n").is_err());
    }

    #[test]
    fn credentials_files_map_keys_to_secrets_and_accounts() {
        let text = "# team keys\n[alice]\naws_access_key_id = AKIAALICE\naws_secret_access_key = s1\n\
                    aws_account_id = 111111111111\n\n[bob]\nAWS_ACCESS_KEY_ID=AKIABOB\naws_secret_access_key=s2\n\
                    aws_account_id=222222222222\n";
        let keys = parse_credentials(text).unwrap();
        let got: Vec<(&str, &str, &str)> =
            keys.iter().map(|k| (k.access_key_id.as_str(), k.secret_access_key.as_str(), k.account.as_str())).collect();
        assert_eq!(got, [("AKIAALICE", "s1", "111111111111"), ("AKIABOB", "s2", "222222222222")]);
        assert!(parse_credentials("[x]\naws_access_key_id = A\n").unwrap_err().contains("aws_secret_access_key"));
        assert!(parse_credentials("aws_access_key_id = A\n").is_err());
    }
}
