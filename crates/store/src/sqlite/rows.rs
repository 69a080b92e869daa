//! Rows to domain values and back: the columns of functions, versions, aliases,
//! provisioned configurations, layers and async events, and the JSON some columns hold.

use super::*;

pub(super) fn map_json(map: &impl serde::Serialize) -> String {
    serde_json::to_string(map).expect("string maps always serialize")
}

pub(super) fn parse_map<M: serde::de::DeserializeOwned>(text: &str) -> Result<M, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("map column: {e}")))
}

pub(super) struct RawFunction {
    f: Function,
    event_invoke: Option<String>,
    layers: String,
    logging: Option<String>,
    environment: String,
    tags: String,
    runtime: String,
    architecture: String,
    tracing: String,
    state: String,
    last_update_status: String,
}

pub(super) fn read_function(row: &Row<'_>) -> rusqlite::Result<RawFunction> {
    let placeholder = Runtime::parse("provided.al2023").expect("known runtime");
    Ok(RawFunction {
        f: Function {
            account: row.get(0)?,
            region: row.get(1)?,
            name: row.get(2)?,
            config: FunctionConfig {
                runtime: placeholder,
                role: row.get(4)?,
                handler: row.get(5)?,
                description: row.get(6)?,
                timeout_s: row.get(7)?,
                memory_mb: row.get(8)?,
                ephemeral_mb: row.get(9)?,
                environment: None,
                architecture: Architecture::X86_64,
                tracing: TracingMode::PassThrough,
                dead_letter_target: row.get(13)?,
                layers: Vec::new(),
                logging: LoggingConfig::default(),
                snap_start: row.get(27)?,
            },
            code: CodeInfo { sha256_hex: row.get(14)?, sha256_b64: row.get(15)?, size: row.get(16)? },
            revision_id: row.get(17)?,
            last_modified_ms: row.get(18)?,
            state: FunctionState::Active,
            last_update_status: LastUpdateStatus::Successful,
            tags: BTreeMap::new(),
            reserved_concurrency: row.get(22)?,
            recursive_loop: row.get(28)?,
            event_invoke: None,
            version: None,
            last_version: row.get(24)?,
            state_reason: None,
        },
        event_invoke: row.get(23)?,
        layers: row.get(25)?,
        logging: row.get(26)?,
        runtime: row.get(3)?,
        environment: row.get(10)?,
        architecture: row.get(11)?,
        tracing: row.get(12)?,
        state: row.get(19)?,
        tags: row.get(21)?,
        last_update_status: row.get(20)?,
    })
}

impl RawFunction {
    pub(super) fn finish(self) -> Result<Function, StoreError> {
        let corrupt = |what: &str, v: &str| StoreError::Corrupt(format!("{what} {v:?}"));
        let mut f = self.f;
        f.config.runtime = Runtime::parse(&self.runtime).ok_or_else(|| corrupt("runtime", &self.runtime))?;
        // `null`: no `Environment` was ever given.
        f.config.environment = match self.environment.as_str() {
            "null" => None,
            text => Some(parse_map(text)?),
        };
        f.config.architecture =
            Architecture::parse(&self.architecture).ok_or_else(|| corrupt("architecture", &self.architecture))?;
        f.config.tracing = TracingMode::parse(&self.tracing).ok_or_else(|| corrupt("tracing", &self.tracing))?;
        f.state = match self.state.as_str() {
            "Pending" => FunctionState::Pending,
            "Active" => FunctionState::Active,
            "Failed" => FunctionState::Failed,
            other => return Err(corrupt("state", other)),
        };
        f.last_update_status = match self.last_update_status.as_str() {
            "Successful" => LastUpdateStatus::Successful,
            "InProgress" => LastUpdateStatus::InProgress,
            "Failed" => LastUpdateStatus::Failed,
            other => return Err(corrupt("last_update_status", other)),
        };
        f.tags = parse_map(&self.tags)?;
        f.event_invoke = self.event_invoke.as_deref().map(parse_event_invoke).transpose()?;
        f.config.layers = parse_layers(&self.layers)?;
        f.config.logging = self.logging.as_deref().map(parse_logging).transpose()?.unwrap_or_default();
        Ok(f)
    }
}

pub(super) fn layers_json(layers: &[FunctionLayer]) -> String {
    let list: Vec<serde_json::Value> = layers
        .iter()
        .map(|l| serde_json::json!({ "arn": l.arn, "code_size": l.code_size, "sha256_hex": l.sha256_hex }))
        .collect();
    serde_json::Value::from(list).to_string()
}

pub(super) fn parse_layers(text: &str) -> Result<Vec<FunctionLayer>, StoreError> {
    let corrupt = |e: &dyn std::fmt::Display| StoreError::Corrupt(format!("layers: {e}"));
    let list: Vec<serde_json::Value> = serde_json::from_str(text).map_err(|e| corrupt(&e))?;
    list.iter()
        .map(|v| {
            let text = |k: &str| v.get(k).and_then(serde_json::Value::as_str).map(str::to_owned);
            Ok(FunctionLayer {
                arn: text("arn").ok_or_else(|| corrupt(&"no arn"))?,
                code_size: v.get("code_size").and_then(serde_json::Value::as_u64).unwrap_or(0),
                sha256_hex: text("sha256_hex").ok_or_else(|| corrupt(&"no sha256_hex"))?,
            })
        })
        .collect()
}

/// `LoggingConfig`; a function with the defaults stores none.
pub(super) fn logging_json(l: &LoggingConfig) -> Option<String> {
    (*l != LoggingConfig::default()).then(|| {
        serde_json::json!({
            "json": l.json,
            "application_level": l.application_level,
            "system_level": l.system_level,
            "log_group": l.log_group,
        })
        .to_string()
    })
}

pub(super) fn parse_logging(text: &str) -> Result<LoggingConfig, StoreError> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("logging: {e}")))?;
    let text = |k: &str| v.get(k).and_then(serde_json::Value::as_str).map(str::to_owned);
    Ok(LoggingConfig {
        json: v.get("json").and_then(serde_json::Value::as_bool).unwrap_or(false),
        application_level: text("application_level"),
        system_level: text("system_level"),
        log_group: text("log_group"),
    })
}

pub(super) fn event_invoke_json(c: &EventInvokeConfig) -> String {
    serde_json::json!({
        "max_retries": c.max_retries,
        "max_event_age_s": c.max_event_age_s,
        "on_success": c.on_success,
        "on_failure": c.on_failure,
        "last_modified_ms": c.last_modified_ms,
    })
    .to_string()
}

pub(super) fn parse_event_invoke(text: &str) -> Result<EventInvokeConfig, StoreError> {
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("event_invoke: {e}")))?;
    let num = |k: &str| v.get(k).and_then(serde_json::Value::as_u64).map(|n| n as u32);
    let text = |k: &str| v.get(k).and_then(serde_json::Value::as_str).map(str::to_owned);
    Ok(EventInvokeConfig {
        max_retries: num("max_retries"),
        max_event_age_s: num("max_event_age_s"),
        on_success: text("on_success"),
        on_failure: text("on_failure"),
        last_modified_ms: v.get("last_modified_ms").and_then(serde_json::Value::as_i64).unwrap_or(0),
    })
}

pub(super) fn read_version(row: &Row<'_>) -> rusqlite::Result<RawFunction> {
    let mut raw = read_function(row)?;
    raw.f.version = Some(row.get(FUNCTION_PARAMS)?);
    Ok(raw)
}

pub(super) fn function_params(f: &Function) -> [Box<dyn rusqlite::ToSql + '_>; FUNCTION_PARAMS] {
    let c = &f.config;
    [
        Box::new(&f.account),
        Box::new(&f.region),
        Box::new(&f.name),
        Box::new(c.runtime.as_str()),
        Box::new(&c.role),
        Box::new(&c.handler),
        Box::new(&c.description),
        Box::new(c.timeout_s),
        Box::new(c.memory_mb),
        Box::new(c.ephemeral_mb),
        Box::new(c.environment.as_ref().map_or_else(|| "null".to_owned(), map_json)),
        Box::new(c.architecture.as_str()),
        Box::new(c.tracing.as_str()),
        Box::new(&c.dead_letter_target),
        Box::new(&f.code.sha256_hex),
        Box::new(&f.code.sha256_b64),
        Box::new(f.code.size),
        Box::new(&f.revision_id),
        Box::new(f.last_modified_ms),
        Box::new(f.state.as_str()),
        Box::new(f.last_update_status.as_str()),
        Box::new(map_json(&f.tags)),
        Box::new(f.reserved_concurrency),
        Box::new(f.event_invoke.as_ref().map(event_invoke_json)),
        Box::new(f.last_version),
        Box::new(layers_json(&c.layers)),
        Box::new(logging_json(&c.logging)),
        Box::new(c.snap_start),
        Box::new(&f.recursive_loop),
    ]
}

pub(super) fn read_event(row: &Row<'_>) -> rusqlite::Result<AsyncEvent> {
    Ok(AsyncEvent {
        id: row.get(0)?,
        account: row.get(1)?,
        region: row.get(2)?,
        function: row.get(3)?,
        payload: row.get(4)?,
        accepted_ms: row.get(5)?,
        attempts: row.get(6)?,
        next_attempt_ms: row.get(7)?,
        qualifier: row.get(8)?,
        seq: row.get(9)?,
    })
}

pub(super) fn read_alias(row: &Row<'_>) -> rusqlite::Result<Scoped<Alias>> {
    let routing = match (row.get::<_, Option<u32>>(6)?, row.get::<_, Option<f64>>(7)?) {
        (Some(v), Some(w)) => Some((v, w)),
        _ => None,
    };
    Ok(Scoped {
        account: row.get(0)?,
        region: row.get(1)?,
        function: row.get(2)?,
        item: Alias {
            name: row.get(3)?,
            function_version: row.get(4)?,
            description: row.get(5)?,
            routing,
            revision_id: row.get(8)?,
            event_invoke: None,
        },
    })
}

pub(super) fn read_provisioned(row: &Row<'_>) -> rusqlite::Result<Scoped<ProvisionedConfig>> {
    Ok(Scoped {
        account: row.get(0)?,
        region: row.get(1)?,
        function: row.get(2)?,
        item: ProvisionedConfig { qualifier: row.get(3)?, requested: row.get(4)?, last_modified_ms: row.get(5)? },
    })
}

pub(super) const LAYER_COLUMNS: &str =
    "account, region, name, version, description, license, runtimes, architectures, \
    code_sha256_hex, code_sha256_b64, code_size, created_ms, policy";

pub(super) fn policy_json(p: &LayerPolicy) -> String {
    let statements: Vec<serde_json::Value> = p
        .statements
        .iter()
        .map(|s| serde_json::json!({ "sid": s.sid, "principal": s.principal, "organization": s.organization }))
        .collect();
    serde_json::json!({ "revision_id": p.revision_id, "statements": statements }).to_string()
}

pub(super) fn parse_policy(text: &str) -> Result<LayerPolicy, StoreError> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("policy: {e}")))?;
    let text = |v: &serde_json::Value, k: &str| v.get(k).and_then(serde_json::Value::as_str).map(str::to_owned);
    let statements = v.get("statements").and_then(serde_json::Value::as_array).cloned().unwrap_or_default();
    Ok(LayerPolicy {
        revision_id: text(&v, "revision_id").unwrap_or_default(),
        statements: statements
            .iter()
            .map(|s| LayerStatement {
                sid: text(s, "sid").unwrap_or_default(),
                principal: text(s, "principal").unwrap_or_default(),
                organization: text(s, "organization"),
            })
            .collect(),
    })
}

pub(super) fn list_json(items: &[String]) -> String {
    serde_json::to_string(items).expect("string lists always serialize")
}

pub(super) fn read_layer(row: &Row<'_>) -> rusqlite::Result<(LayerVersion, String, String, String)> {
    Ok((
        LayerVersion {
            account: row.get(0)?,
            region: row.get(1)?,
            name: row.get(2)?,
            version: row.get(3)?,
            description: row.get(4)?,
            license: row.get(5)?,
            runtimes: Vec::new(),
            architectures: Vec::new(),
            code: CodeInfo { sha256_hex: row.get(8)?, sha256_b64: row.get(9)?, size: row.get(10)? },
            created_ms: row.get(11)?,
            policy: LayerPolicy::default(),
        },
        row.get(6)?,
        row.get(7)?,
        row.get(12)?,
    ))
}

pub(super) fn finish_layer(
    (mut layer, runtimes, architectures, policy): (LayerVersion, String, String, String),
) -> Result<LayerVersion, StoreError> {
    let list = |t: &str| serde_json::from_str::<Vec<String>>(t).map_err(|e| StoreError::Corrupt(format!("list: {e}")));
    layer.runtimes = list(&runtimes)?;
    layer.architectures = list(&architectures)?;
    layer.policy = parse_policy(&policy)?;
    Ok(layer)
}

pub(super) fn collect<T>(
    c: &Connection,
    sql: &str,
    read: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<Vec<T>> {
    let mut stmt = c.prepare(sql)?;
    let rows = stmt.query_map([], read)?;
    rows.collect()
}
