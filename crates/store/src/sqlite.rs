//! The SQLite implementation of [`MetadataStore`].

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use model::{
    Alias, Architecture, CodeInfo, EventInvokeConfig, Function, FunctionConfig, FunctionLayer, FunctionState,
    LastUpdateStatus, LayerPolicy, LayerStatement, LayerVersion, LoggingConfig, ProvisionedConfig, Runtime,
    TracingMode,
};
use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::{AsyncEvent, MetadataStore, Scoped, StoreError};

/// The columns of a function row, shared by `$LATEST` (`functions`) and published
/// versions (`function_versions`, which add the version number).
const FUNCTION_TABLE_COLUMNS: &str = "
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    runtime TEXT NOT NULL,
    role TEXT NOT NULL,
    handler TEXT NOT NULL,
    description TEXT NOT NULL,
    timeout_s INTEGER NOT NULL,
    memory_mb INTEGER NOT NULL,
    ephemeral_mb INTEGER NOT NULL,
    environment TEXT NOT NULL,
    architecture TEXT NOT NULL,
    tracing TEXT NOT NULL,
    dead_letter_target TEXT,
    code_sha256_hex TEXT NOT NULL,
    code_sha256_b64 TEXT NOT NULL,
    code_size INTEGER NOT NULL,
    revision_id TEXT NOT NULL,
    last_modified_ms INTEGER NOT NULL,
    state TEXT NOT NULL,
    last_update_status TEXT NOT NULL,
    tags TEXT NOT NULL,
    reserved_concurrency INTEGER,
    event_invoke TEXT,
    last_version INTEGER NOT NULL DEFAULT 0,
    layers TEXT NOT NULL DEFAULT '[]',
    logging TEXT,
    snap_start INTEGER NOT NULL DEFAULT 0,
    recursive_loop TEXT";

/// The function tables, built from [`FUNCTION_TABLE_COLUMNS`].
fn function_tables() -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS functions ({FUNCTION_TABLE_COLUMNS}, PRIMARY KEY (account, region, name));
         CREATE TABLE IF NOT EXISTS function_versions ({FUNCTION_TABLE_COLUMNS}, version INTEGER NOT NULL,
             PRIMARY KEY (account, region, name, version));"
    )
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS aliases (
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    function TEXT NOT NULL,
    name TEXT NOT NULL,
    function_version TEXT NOT NULL,
    description TEXT NOT NULL,
    routing_version INTEGER,
    routing_weight REAL,
    revision_id TEXT NOT NULL,
    event_invoke TEXT,
    PRIMARY KEY (account, region, function, name)
);
CREATE TABLE IF NOT EXISTS layers (
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    last_version INTEGER NOT NULL,
    PRIMARY KEY (account, region, name)
);
CREATE TABLE IF NOT EXISTS layer_versions (
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    description TEXT NOT NULL,
    license TEXT,
    runtimes TEXT NOT NULL,
    architectures TEXT NOT NULL,
    code_sha256_hex TEXT NOT NULL,
    code_sha256_b64 TEXT NOT NULL,
    code_size INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    policy TEXT NOT NULL,
    PRIMARY KEY (account, region, name, version)
);
CREATE TABLE IF NOT EXISTS lambda_documents (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (kind, key)
);
CREATE TABLE IF NOT EXISTS event_source_mappings (
    uuid TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    config TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS provisioned_concurrency (
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    function TEXT NOT NULL,
    qualifier TEXT NOT NULL,
    requested INTEGER NOT NULL,
    last_modified_ms INTEGER NOT NULL,
    PRIMARY KEY (account, region, function, qualifier)
);
CREATE TABLE IF NOT EXISTS async_events (
    id TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    function TEXT NOT NULL,
    payload BLOB NOT NULL,
    accepted_ms INTEGER NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_ms INTEGER NOT NULL,
    lease_ms INTEGER NOT NULL DEFAULT 0,
    qualifier TEXT
);
CREATE INDEX IF NOT EXISTS async_events_due ON async_events (next_attempt_ms);
CREATE TABLE IF NOT EXISTS function_policies (
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    function TEXT NOT NULL,
    qualifier TEXT NOT NULL,
    policy TEXT NOT NULL,
    PRIMARY KEY (account, region, function, qualifier)
);
CREATE TABLE IF NOT EXISTS function_urls (
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    function TEXT NOT NULL,
    qualifier TEXT NOT NULL,
    config TEXT NOT NULL,
    PRIMARY KEY (account, region, function, qualifier)
);
";

const FUNCTION_COLUMNS: &str = "account, region, name, runtime, role, handler, description, timeout_s, memory_mb, \
    ephemeral_mb, environment, architecture, tracing, dead_letter_target, code_sha256_hex, code_sha256_b64, \
    code_size, revision_id, last_modified_ms, state, last_update_status, tags, reserved_concurrency, event_invoke, \
    last_version, layers, logging, snap_start, recursive_loop";
const FUNCTION_PARAMS: usize = 29;

/// Sets (`Some`) or deletes (`None`) the `column` of a table keyed by account, region,
/// function and qualifier.
fn set_per_qualifier(
    c: &Connection,
    table: &str,
    column: &str,
    [account, region, function, qualifier]: [&str; 4],
    value: Option<&str>,
) -> rusqlite::Result<()> {
    match value {
        Some(v) => c.execute(
            &format!(
                "INSERT OR REPLACE INTO {table} (account, region, function, qualifier, {column}) \
                 VALUES (?1, ?2, ?3, ?4, ?5)"
            ),
            params![account, region, function, qualifier, v],
        ),
        None => c.execute(
            &format!("DELETE FROM {table} WHERE account = ?1 AND region = ?2 AND function = ?3 AND qualifier = ?4"),
            params![account, region, function, qualifier],
        ),
    }
    .map(drop)
}

/// `?1, ?2, …, ?n`.
fn placeholders(n: usize) -> String {
    (1..=n).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ")
}

/// Functions and async events in one SQLite file, in WAL mode.
pub struct SqliteStore {
    conn: Mutex<Connection>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // NORMAL in WAL mode keeps every commit across a process kill; only an OS crash
        // can lose the last transactions.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(&function_tables())?;
        conn.execute_batch(SCHEMA)?;
        conn.execute_batch(crate::queues::QUEUE_SCHEMA)?;
        conn.execute_batch(crate::topics::TOPIC_SCHEMA)?;
        conn.execute_batch(crate::gateway::GATEWAY_SCHEMA)?;
        // Columns added after the first release; adding one that exists fails harmlessly.
        let _ = conn.execute("ALTER TABLE functions ADD COLUMN reserved_concurrency INTEGER", []);
        let _ = conn.execute("ALTER TABLE functions ADD COLUMN event_invoke TEXT", []);
        let _ = conn.execute("ALTER TABLE functions ADD COLUMN last_version INTEGER NOT NULL DEFAULT 0", []);
        let _ = conn.execute("ALTER TABLE async_events ADD COLUMN qualifier TEXT", []);
        let _ = conn.execute("ALTER TABLE aliases ADD COLUMN event_invoke TEXT", []);
        for table in ["functions", "function_versions"] {
            let _ = conn.execute(&format!("ALTER TABLE {table} ADD COLUMN layers TEXT NOT NULL DEFAULT '[]'"), []);
            let _ = conn.execute(&format!("ALTER TABLE {table} ADD COLUMN logging TEXT"), []);
            let _ = conn.execute(&format!("ALTER TABLE {table} ADD COLUMN snap_start INTEGER NOT NULL DEFAULT 0"), []);
            let _ = conn.execute(&format!("ALTER TABLE {table} ADD COLUMN recursive_loop TEXT"), []);
        }
        Ok(SqliteStore { conn: Mutex::new(conn) })
    }

    pub(crate) fn with<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, StoreError> {
        let conn = self.conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        Ok(f(&conn)?)
    }
}

fn map_json(map: &impl serde::Serialize) -> String {
    serde_json::to_string(map).expect("string maps always serialize")
}

fn parse_map<M: serde::de::DeserializeOwned>(text: &str) -> Result<M, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("map column: {e}")))
}

struct RawFunction {
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

fn read_function(row: &Row<'_>) -> rusqlite::Result<RawFunction> {
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
    fn finish(self) -> Result<Function, StoreError> {
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

fn layers_json(layers: &[FunctionLayer]) -> String {
    let list: Vec<serde_json::Value> = layers
        .iter()
        .map(|l| serde_json::json!({ "arn": l.arn, "code_size": l.code_size, "sha256_hex": l.sha256_hex }))
        .collect();
    serde_json::Value::from(list).to_string()
}

fn parse_layers(text: &str) -> Result<Vec<FunctionLayer>, StoreError> {
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
fn logging_json(l: &LoggingConfig) -> Option<String> {
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

fn parse_logging(text: &str) -> Result<LoggingConfig, StoreError> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("logging: {e}")))?;
    let text = |k: &str| v.get(k).and_then(serde_json::Value::as_str).map(str::to_owned);
    Ok(LoggingConfig {
        json: v.get("json").and_then(serde_json::Value::as_bool).unwrap_or(false),
        application_level: text("application_level"),
        system_level: text("system_level"),
        log_group: text("log_group"),
    })
}

fn event_invoke_json(c: &EventInvokeConfig) -> String {
    serde_json::json!({
        "max_retries": c.max_retries,
        "max_event_age_s": c.max_event_age_s,
        "on_success": c.on_success,
        "on_failure": c.on_failure,
        "last_modified_ms": c.last_modified_ms,
    })
    .to_string()
}

fn parse_event_invoke(text: &str) -> Result<EventInvokeConfig, StoreError> {
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

fn read_version(row: &Row<'_>) -> rusqlite::Result<RawFunction> {
    let mut raw = read_function(row)?;
    raw.f.version = Some(row.get(FUNCTION_PARAMS)?);
    Ok(raw)
}

fn function_params(f: &Function) -> [Box<dyn rusqlite::ToSql + '_>; FUNCTION_PARAMS] {
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

fn read_event(row: &Row<'_>) -> rusqlite::Result<AsyncEvent> {
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
    })
}

fn read_alias(row: &Row<'_>) -> rusqlite::Result<Scoped<Alias>> {
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

fn read_provisioned(row: &Row<'_>) -> rusqlite::Result<Scoped<ProvisionedConfig>> {
    Ok(Scoped {
        account: row.get(0)?,
        region: row.get(1)?,
        function: row.get(2)?,
        item: ProvisionedConfig { qualifier: row.get(3)?, requested: row.get(4)?, last_modified_ms: row.get(5)? },
    })
}

const LAYER_COLUMNS: &str = "account, region, name, version, description, license, runtimes, architectures, \
    code_sha256_hex, code_sha256_b64, code_size, created_ms, policy";

fn policy_json(p: &LayerPolicy) -> String {
    let statements: Vec<serde_json::Value> = p
        .statements
        .iter()
        .map(|s| serde_json::json!({ "sid": s.sid, "principal": s.principal, "organization": s.organization }))
        .collect();
    serde_json::json!({ "revision_id": p.revision_id, "statements": statements }).to_string()
}

fn parse_policy(text: &str) -> Result<LayerPolicy, StoreError> {
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

fn list_json(items: &[String]) -> String {
    serde_json::to_string(items).expect("string lists always serialize")
}

fn read_layer(row: &Row<'_>) -> rusqlite::Result<(LayerVersion, String, String, String)> {
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

fn finish_layer(
    (mut layer, runtimes, architectures, policy): (LayerVersion, String, String, String),
) -> Result<LayerVersion, StoreError> {
    let list = |t: &str| serde_json::from_str::<Vec<String>>(t).map_err(|e| StoreError::Corrupt(format!("list: {e}")));
    layer.runtimes = list(&runtimes)?;
    layer.architectures = list(&architectures)?;
    layer.policy = parse_policy(&policy)?;
    Ok(layer)
}

fn collect<T>(
    c: &Connection,
    sql: &str,
    read: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<Vec<T>> {
    let mut stmt = c.prepare(sql)?;
    let rows = stmt.query_map([], read)?;
    rows.collect()
}

impl MetadataStore for SqliteStore {
    fn insert_function(&self, f: &Function) -> Result<bool, StoreError> {
        let sql =
            format!("INSERT OR IGNORE INTO functions ({FUNCTION_COLUMNS}) VALUES ({})", placeholders(FUNCTION_PARAMS));
        let p = function_params(f);
        let n = self.with(|c| c.execute(&sql, rusqlite::params_from_iter(p.iter())))?;
        Ok(n == 1)
    }

    fn update_function(&self, f: &Function) -> Result<bool, StoreError> {
        let sql = format!(
            "REPLACE INTO functions ({FUNCTION_COLUMNS}) SELECT {} \
             WHERE EXISTS (SELECT 1 FROM functions WHERE account = ?1 AND region = ?2 AND name = ?3)",
            placeholders(FUNCTION_PARAMS)
        );
        let p = function_params(f);
        let n = self.with(|c| c.execute(&sql, rusqlite::params_from_iter(p.iter())))?;
        Ok(n >= 1)
    }

    fn get_function(&self, account: &str, region: &str, name: &str) -> Result<Option<Function>, StoreError> {
        let sql = format!("SELECT {FUNCTION_COLUMNS} FROM functions WHERE account = ?1 AND region = ?2 AND name = ?3");
        let raw = self.with(|c| c.query_row(&sql, params![account, region, name], read_function).optional())?;
        raw.map(RawFunction::finish).transpose()
    }

    fn delete_function(&self, account: &str, region: &str, name: &str) -> Result<bool, StoreError> {
        self.with(|c| {
            let tx = c.unchecked_transaction()?;
            let n = tx.execute(
                "DELETE FROM functions WHERE account = ?1 AND region = ?2 AND name = ?3",
                params![account, region, name],
            )?;
            for table in ["async_events", "aliases", "provisioned_concurrency", "function_policies", "function_urls"] {
                tx.execute(
                    &format!("DELETE FROM {table} WHERE account = ?1 AND region = ?2 AND function = ?3"),
                    params![account, region, name],
                )?;
            }
            tx.execute(
                "DELETE FROM function_versions WHERE account = ?1 AND region = ?2 AND name = ?3",
                params![account, region, name],
            )?;
            tx.commit()?;
            Ok(n == 1)
        })
    }

    fn list_functions(
        &self,
        account: &str,
        region: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Function>, StoreError> {
        let sql = format!(
            "SELECT {FUNCTION_COLUMNS} FROM functions WHERE account = ?1 AND region = ?2 AND name > ?3 \
             ORDER BY name LIMIT ?4"
        );
        let raws = self.with(|c| {
            let mut stmt = c.prepare_cached(&sql)?;
            let rows = stmt.query_map(params![account, region, after.unwrap_or(""), limit as i64], read_function)?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })?;
        raws.into_iter().map(RawFunction::finish).collect()
    }

    fn all_functions(&self) -> Result<Vec<Function>, StoreError> {
        let sql = format!("SELECT {FUNCTION_COLUMNS} FROM functions");
        let raws = self.with(|c| {
            let mut stmt = c.prepare(&sql)?;
            let rows = stmt.query_map([], read_function)?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })?;
        raws.into_iter().map(RawFunction::finish).collect()
    }

    fn usage(&self, account: &str, region: &str) -> Result<(u64, u64), StoreError> {
        self.with(|c| {
            c.query_row(
                "SELECT COUNT(*), COALESCE(SUM(code_size), 0) \
                 + (SELECT COALESCE(SUM(code_size), 0) FROM function_versions WHERE account = ?1 AND region = ?2) \
                 + (SELECT COALESCE(SUM(code_size), 0) FROM layer_versions WHERE account = ?1 AND region = ?2) \
                 FROM functions WHERE account = ?1 AND region = ?2",
                params![account, region],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)),
            )
        })
    }

    fn code_in_use(&self, sha256_hex: &str) -> Result<bool, StoreError> {
        self.with(|c| {
            c.query_row(
                "SELECT EXISTS (SELECT 1 FROM functions WHERE code_sha256_hex = ?1) \
                 OR EXISTS (SELECT 1 FROM function_versions WHERE code_sha256_hex = ?1) \
                 OR EXISTS (SELECT 1 FROM layer_versions WHERE code_sha256_hex = ?1) \
                 OR EXISTS (SELECT 1 FROM functions WHERE instr(layers, ?1) > 0) \
                 OR EXISTS (SELECT 1 FROM function_versions WHERE instr(layers, ?1) > 0)",
                params![sha256_hex],
                |r| r.get(0),
            )
        })
    }

    fn write_events(&self, added: &[&AsyncEvent], removed: &[&str]) -> Result<(), StoreError> {
        self.with(|c| {
            let tx = c.unchecked_transaction()?;
            {
                let mut insert = tx.prepare_cached(
                "INSERT INTO async_events (id, account, region, function, payload, accepted_ms, attempts, next_attempt_ms, \
                 qualifier) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                )?;
                for e in added {
                    insert.execute(params![
                        e.id,
                        e.account,
                        e.region,
                        e.function,
                        e.payload,
                        e.accepted_ms,
                        e.attempts,
                        e.next_attempt_ms,
                        e.qualifier
                    ])?;
                }
                let mut delete = tx.prepare_cached("DELETE FROM async_events WHERE id = ?1")?;
                for id in removed {
                    delete.execute(params![id])?;
                }
            }
            tx.commit()
        })
    }

    fn claim_due_events(&self, now_ms: i64, lease_until_ms: i64, limit: usize) -> Result<Vec<AsyncEvent>, StoreError> {
        self.with(|c| {
            let tx = c.unchecked_transaction()?;
            let events = {
                let mut stmt = tx.prepare_cached(
                    "SELECT id, account, region, function, payload, accepted_ms, attempts, next_attempt_ms, \
                     qualifier FROM async_events WHERE next_attempt_ms <= ?1 AND lease_ms <= ?1 \
                     ORDER BY next_attempt_ms, accepted_ms LIMIT ?2",
                )?;
                let rows = stmt.query_map(params![now_ms, limit as i64], read_event)?;
                rows.collect::<rusqlite::Result<Vec<_>>>()?
            };
            {
                let mut lease = tx.prepare_cached("UPDATE async_events SET lease_ms = ?2 WHERE id = ?1")?;
                for e in &events {
                    lease.execute(params![e.id, lease_until_ms])?;
                }
            }
            tx.commit()?;
            Ok(events)
        })
    }

    fn release_leases(&self) -> Result<(), StoreError> {
        self.with(|c| c.execute("UPDATE async_events SET lease_ms = 0 WHERE lease_ms != 0", []).map(drop))
    }

    fn reschedule_event(&self, id: &str, attempts: u32, next_attempt_ms: i64) -> Result<(), StoreError> {
        self.with(|c| {
            c.prepare_cached("UPDATE async_events SET attempts = ?2, next_attempt_ms = ?3, lease_ms = 0 WHERE id = ?1")?
                .execute(params![id, attempts, next_attempt_ms])
                .map(drop)
        })
    }

    fn next_event_due(&self) -> Result<Option<i64>, StoreError> {
        self.with(|c| c.query_row("SELECT MIN(MAX(next_attempt_ms, lease_ms)) FROM async_events", [], |r| r.get(0)))
    }

    fn queued_events(&self) -> Result<u64, StoreError> {
        self.with(|c| c.query_row("SELECT COUNT(*) FROM async_events", [], |r| r.get::<_, i64>(0)).map(|n| n as u64))
    }

    fn publish_version(&self, latest: &Function, version: &Function) -> Result<bool, StoreError> {
        let sql = format!(
            "INSERT INTO function_versions ({FUNCTION_COLUMNS}, version) VALUES ({})",
            placeholders(FUNCTION_PARAMS + 1)
        );
        let mut p: Vec<Box<dyn rusqlite::ToSql + '_>> = function_params(version).into_iter().collect();
        p.push(Box::new(version.version));
        self.with(|c| {
            let tx = c.unchecked_transaction()?;
            let n = tx.execute(
                "UPDATE functions SET last_version = ?4, revision_id = ?5 WHERE account = ?1 AND region = ?2 AND name = ?3",
                params![latest.account, latest.region, latest.name, latest.last_version, latest.revision_id],
            )?;
            if n == 1 {
                tx.execute(&sql, rusqlite::params_from_iter(p.iter()))?;
            }
            tx.commit()?;
            Ok(n == 1)
        })
    }

    fn delete_version(&self, account: &str, region: &str, name: &str, version: u32) -> Result<bool, StoreError> {
        self.with(|c| {
            let tx = c.unchecked_transaction()?;
            let n = tx.execute(
                "DELETE FROM function_versions WHERE account = ?1 AND region = ?2 AND name = ?3 AND version = ?4",
                params![account, region, name, version],
            )?;
            tx.execute(
                "DELETE FROM provisioned_concurrency WHERE account = ?1 AND region = ?2 AND function = ?3 \
                 AND qualifier = ?4",
                params![account, region, name, version.to_string()],
            )?;
            tx.commit()?;
            Ok(n == 1)
        })
    }

    fn all_versions(&self) -> Result<Vec<Function>, StoreError> {
        let sql = format!("SELECT {FUNCTION_COLUMNS}, version FROM function_versions");
        let raws = self.with(|c| collect(c, &sql, read_version))?;
        raws.into_iter().map(RawFunction::finish).collect()
    }

    fn put_alias(&self, account: &str, region: &str, function: &str, a: &Alias) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "REPLACE INTO aliases (account, region, function, name, function_version, description, \
                 routing_version, routing_weight, revision_id, event_invoke) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    account,
                    region,
                    function,
                    a.name,
                    a.function_version,
                    a.description,
                    a.routing.map(|r| r.0),
                    a.routing.map(|r| r.1),
                    a.revision_id,
                    a.event_invoke.as_ref().map(event_invoke_json)
                ],
            )
            .map(drop)
        })
    }

    fn delete_alias(&self, account: &str, region: &str, function: &str, name: &str) -> Result<bool, StoreError> {
        self.with(|c| {
            let tx = c.unchecked_transaction()?;
            let n = tx.execute(
                "DELETE FROM aliases WHERE account = ?1 AND region = ?2 AND function = ?3 AND name = ?4",
                params![account, region, function, name],
            )?;
            tx.execute(
                "DELETE FROM provisioned_concurrency WHERE account = ?1 AND region = ?2 AND function = ?3 \
                 AND qualifier = ?4",
                params![account, region, function, name],
            )?;
            tx.commit()?;
            Ok(n == 1)
        })
    }

    fn all_aliases(&self) -> Result<Vec<Scoped<Alias>>, StoreError> {
        self.with(|c| {
            collect(
                c,
                "SELECT account, region, function, name, function_version, description, routing_version, \
                 routing_weight, revision_id, event_invoke FROM aliases",
                |row| Ok((read_alias(row)?, row.get::<_, Option<String>>(9)?)),
            )
        })?
        .into_iter()
        .map(|(mut alias, config)| {
            alias.item.event_invoke = config.as_deref().map(parse_event_invoke).transpose()?;
            Ok(alias)
        })
        .collect()
    }

    fn set_version_event_invoke(
        &self,
        account: &str,
        region: &str,
        name: &str,
        version: u32,
        config: Option<&EventInvokeConfig>,
    ) -> Result<bool, StoreError> {
        let n = self.with(|c| {
            c.execute(
                "UPDATE function_versions SET event_invoke = ?5 WHERE account = ?1 AND region = ?2 AND name = ?3 \
                 AND version = ?4",
                params![account, region, name, version, config.map(event_invoke_json)],
            )
        })?;
        Ok(n == 1)
    }

    fn put_provisioned(
        &self,
        account: &str,
        region: &str,
        function: &str,
        p: &ProvisionedConfig,
    ) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "REPLACE INTO provisioned_concurrency (account, region, function, qualifier, requested, \
                 last_modified_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![account, region, function, p.qualifier, p.requested, p.last_modified_ms],
            )
            .map(drop)
        })
    }

    fn delete_provisioned(
        &self,
        account: &str,
        region: &str,
        function: &str,
        qualifier: &str,
    ) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "DELETE FROM provisioned_concurrency WHERE account = ?1 AND region = ?2 AND function = ?3 \
                 AND qualifier = ?4",
                params![account, region, function, qualifier],
            )
            .map(drop)
        })
    }

    fn put_mapping(&self, uuid: &str, account: &str, region: &str, config: &str) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "REPLACE INTO event_source_mappings (uuid, account, region, config) VALUES (?1, ?2, ?3, ?4)",
                params![uuid, account, region, config],
            )
            .map(drop)
        })
    }

    fn put_lambda_document(&self, kind: &str, key: &str, body: &str) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute("REPLACE INTO lambda_documents (kind, key, body) VALUES (?1, ?2, ?3)", params![kind, key, body])
                .map(drop)
        })
    }

    fn delete_lambda_document(&self, kind: &str, key: &str) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute("DELETE FROM lambda_documents WHERE kind = ?1 AND key = ?2", params![kind, key]).map(drop)
        })
    }

    fn lambda_documents(&self, kind: &str) -> Result<Vec<(String, String)>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare("SELECT key, body FROM lambda_documents WHERE kind = ?1 ORDER BY key")?;
            let rows = stmt.query_map(params![kind], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect()
        })
    }

    fn delete_mapping(&self, uuid: &str) -> Result<(), StoreError> {
        self.with(|c| c.execute("DELETE FROM event_source_mappings WHERE uuid = ?1", params![uuid]).map(drop))
    }

    fn all_mappings(&self) -> Result<Vec<Scoped<String>>, StoreError> {
        self.with(|c| {
            collect(c, "SELECT account, region, uuid, config FROM event_source_mappings", |r| {
                Ok(Scoped { account: r.get(0)?, region: r.get(1)?, function: r.get(2)?, item: r.get(3)? })
            })
        })
    }

    fn publish_layer_version(&self, layer: &LayerVersion) -> Result<u32, StoreError> {
        self.with(|c| {
            let tx = c.unchecked_transaction()?;
            tx.execute(
                "INSERT INTO layers (account, region, name, last_version) VALUES (?1, ?2, ?3, 1) \
                 ON CONFLICT (account, region, name) DO UPDATE SET last_version = last_version + 1",
                params![layer.account, layer.region, layer.name],
            )?;
            let version: u32 = tx.query_row(
                "SELECT last_version FROM layers WHERE account = ?1 AND region = ?2 AND name = ?3",
                params![layer.account, layer.region, layer.name],
                |r| r.get(0),
            )?;
            tx.execute(
                &format!("INSERT INTO layer_versions ({LAYER_COLUMNS}) VALUES ({})", placeholders(13)),
                params![
                    layer.account,
                    layer.region,
                    layer.name,
                    version,
                    layer.description,
                    layer.license,
                    list_json(&layer.runtimes),
                    list_json(&layer.architectures),
                    layer.code.sha256_hex,
                    layer.code.sha256_b64,
                    layer.code.size,
                    layer.created_ms,
                    policy_json(&layer.policy)
                ],
            )?;
            tx.commit()?;
            Ok(version)
        })
    }

    fn layer_versions(&self, account: &str, region: &str, name: Option<&str>) -> Result<Vec<LayerVersion>, StoreError> {
        let sql = format!(
            "SELECT {LAYER_COLUMNS} FROM layer_versions WHERE account = ?1 AND region = ?2 \
             AND (?3 IS NULL OR name = ?3) ORDER BY name, version"
        );
        let rows = self.with(|c| {
            let mut stmt = c.prepare_cached(&sql)?;
            let rows = stmt.query_map(params![account, region, name], read_layer)?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })?;
        rows.into_iter().map(finish_layer).collect()
    }

    fn get_layer_version(
        &self,
        account: &str,
        region: &str,
        name: &str,
        version: u32,
    ) -> Result<Option<LayerVersion>, StoreError> {
        let sql = format!(
            "SELECT {LAYER_COLUMNS} FROM layer_versions WHERE account = ?1 AND region = ?2 AND name = ?3 AND version = ?4"
        );
        let row = self.with(|c| c.query_row(&sql, params![account, region, name, version], read_layer).optional())?;
        row.map(finish_layer).transpose()
    }

    fn delete_layer_version(&self, account: &str, region: &str, name: &str, version: u32) -> Result<bool, StoreError> {
        let n = self.with(|c| {
            c.execute(
                "DELETE FROM layer_versions WHERE account = ?1 AND region = ?2 AND name = ?3 AND version = ?4",
                params![account, region, name, version],
            )
        })?;
        Ok(n == 1)
    }

    fn set_layer_policy(
        &self,
        account: &str,
        region: &str,
        name: &str,
        version: u32,
        policy: &LayerPolicy,
    ) -> Result<bool, StoreError> {
        let n = self.with(|c| {
            c.execute(
                "UPDATE layer_versions SET policy = ?5 WHERE account = ?1 AND region = ?2 AND name = ?3 AND version = ?4",
                params![account, region, name, version, policy_json(policy)],
            )
        })?;
        Ok(n == 1)
    }

    fn function_policy(
        &self,
        account: &str,
        region: &str,
        function: &str,
        qualifier: &str,
    ) -> Result<Option<String>, StoreError> {
        self.with(|c| {
            c.query_row(
                "SELECT policy FROM function_policies WHERE account = ?1 AND region = ?2 AND function = ?3 \
                 AND qualifier = ?4",
                params![account, region, function, qualifier],
                |r| r.get(0),
            )
            .optional()
        })
    }

    fn set_function_policy(
        &self,
        account: &str,
        region: &str,
        function: &str,
        qualifier: &str,
        policy: Option<&str>,
    ) -> Result<(), StoreError> {
        self.with(|c| match policy {
            Some(p) => c
                .execute(
                    "INSERT OR REPLACE INTO function_policies (account, region, function, qualifier, policy) \
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![account, region, function, qualifier, p],
                )
                .map(drop),
            None => c
                .execute(
                    "DELETE FROM function_policies WHERE account = ?1 AND region = ?2 AND function = ?3 \
                     AND qualifier = ?4",
                    params![account, region, function, qualifier],
                )
                .map(drop),
        })
    }

    fn set_function_url(
        &self,
        account: &str,
        region: &str,
        function: &str,
        qualifier: &str,
        config: Option<&str>,
    ) -> Result<(), StoreError> {
        self.with(|c| set_per_qualifier(c, "function_urls", "config", [account, region, function, qualifier], config))
    }

    fn all_function_urls(&self) -> Result<Vec<Scoped<String>>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare("SELECT account, region, function, config FROM function_urls")?;
            let rows = stmt.query_map([], |r| {
                Ok(Scoped { account: r.get(0)?, region: r.get(1)?, function: r.get(2)?, item: r.get(3)? })
            })?;
            rows.collect()
        })
    }

    fn all_provisioned(&self) -> Result<Vec<Scoped<ProvisionedConfig>>, StoreError> {
        self.with(|c| {
            collect(
                c,
                "SELECT account, region, function, qualifier, requested, last_modified_ms FROM provisioned_concurrency",
                read_provisioned,
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn function(name: &str) -> Function {
        Function {
            name: name.into(),
            account: "000000000000".into(),
            region: "us-east-1".into(),
            config: FunctionConfig {
                runtime: Runtime::parse("python3.12").unwrap(),
                role: "arn:aws:iam::000000000000:role/r".into(),
                handler: "app.handler".into(),
                description: String::new(),
                timeout_s: 3,
                memory_mb: 128,
                ephemeral_mb: 512,
                environment: Some(model::Variables::from([("A".to_string(), "b".to_string())])),
                architecture: Architecture::X86_64,
                tracing: TracingMode::PassThrough,
                dead_letter_target: None,
                logging: LoggingConfig { json: true, log_group: Some("custom".into()), ..Default::default() },
                snap_start: true,
                layers: vec![FunctionLayer {
                    arn: "arn:aws:lambda:us-east-1:000000000000:layer:l:1".into(),
                    code_size: 5,
                    sha256_hex: "layerhex".into(),
                }],
            },
            code: CodeInfo { sha256_b64: "b64".into(), sha256_hex: "hex".into(), size: 10 },
            revision_id: "r1".into(),
            last_modified_ms: 1,
            state: FunctionState::Active,
            last_update_status: LastUpdateStatus::Successful,
            tags: BTreeMap::new(),
            reserved_concurrency: None,
            recursive_loop: None,
            version: None,
            last_version: 0,
            event_invoke: Some(EventInvokeConfig {
                max_retries: Some(0),
                on_failure: Some("arn:aws:lambda:us-east-1:000000000000:function:dlq".into()),
                ..Default::default()
            }),
        }
    }

    #[test]
    fn functions_round_trip_and_survive_reopen() {
        let dir = std::env::temp_dir().join(format!("lamina-store-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("state.db");
        let _ = std::fs::remove_file(&path);
        {
            let s = SqliteStore::open(&path).unwrap();
            assert!(s.insert_function(&function("b")).unwrap());
            assert!(s.insert_function(&function("a")).unwrap());
            assert!(!s.insert_function(&function("a")).unwrap(), "duplicate refused");
            let mut f = function("a");
            f.config.memory_mb = 512;
            assert!(s.update_function(&f).unwrap());
            assert!(!s.update_function(&function("zzz")).unwrap());
        }
        let s = SqliteStore::open(&path).unwrap();
        let a = s.get_function("000000000000", "us-east-1", "a").unwrap().unwrap();
        assert_eq!(a.config.memory_mb, 512);
        assert_eq!(a.config.environment.as_ref().and_then(|e| e.get("A")).map(String::as_str), Some("b"));
        assert_eq!(a.config.logging.log_group.as_deref(), Some("custom"));
        assert_eq!(a.config.layers[0].sha256_hex, "layerhex");
        assert!(s.code_in_use("layerhex").unwrap(), "a layer a function uses stays");
        assert_eq!(
            a.event_invoke.as_ref().and_then(|e| e.on_failure.as_deref()),
            Some("arn:aws:lambda:us-east-1:000000000000:function:dlq")
        );
        let page = s.list_functions("000000000000", "us-east-1", Some("a"), 10).unwrap();
        assert_eq!(page.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(), ["b"]);
        assert!(s.delete_function("000000000000", "us-east-1", "a").unwrap());
        assert!(s.get_function("000000000000", "us-east-1", "a").unwrap().is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_database_from_before_versions_opens_and_keeps_its_rows() {
        let dir = std::env::temp_dir().join(format!("lamina-store-migrate-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("state.db");
        let _ = std::fs::remove_file(&path);
        {
            // The tables as the release before versions created them.
            let c = Connection::open(&path).unwrap();
            let old_columns = FUNCTION_TABLE_COLUMNS
                .replace(",\n    last_version INTEGER NOT NULL DEFAULT 0", "")
                .replace(",\n    layers TEXT NOT NULL DEFAULT '[]'", "")
                .replace(",\n    logging TEXT", "")
                .replace(",\n    snap_start INTEGER NOT NULL DEFAULT 0", "")
                .replace(",\n    recursive_loop TEXT", "");
            c.execute_batch(&format!(
                "CREATE TABLE functions ({old_columns}, PRIMARY KEY (account, region, name));
                 CREATE TABLE async_events (id TEXT PRIMARY KEY, account TEXT NOT NULL, region TEXT NOT NULL,
                     function TEXT NOT NULL, payload BLOB NOT NULL, accepted_ms INTEGER NOT NULL,
                     attempts INTEGER NOT NULL, next_attempt_ms INTEGER NOT NULL, lease_ms INTEGER NOT NULL DEFAULT 0);
                 INSERT INTO async_events (id, account, region, function, payload, accepted_ms, attempts, next_attempt_ms)
                     VALUES ('e1', 'a', 'r', 'f', x'7b7d', 0, 0, 0);"
            ))
            .unwrap();
            let mut f = function("old");
            f.event_invoke = None;
            let p = function_params(&f);
            let sql = format!(
                "INSERT INTO functions ({}) VALUES ({})",
                FUNCTION_COLUMNS.replace(", last_version, layers, logging, snap_start, recursive_loop", ""),
                placeholders(FUNCTION_PARAMS - 5)
            );
            c.execute(&sql, rusqlite::params_from_iter(p.iter().take(FUNCTION_PARAMS - 5))).unwrap();
        }
        let s = SqliteStore::open(&path).unwrap();
        let old = s.get_function("000000000000", "us-east-1", "old").unwrap().unwrap();
        assert_eq!(old.last_version, 0);
        assert!(!old.config.snap_start && old.config.logging == LoggingConfig::default(), "later columns default");
        assert_eq!(old.recursive_loop, None);
        let mut version = old.clone();
        version.version = Some(1);
        let mut latest = old;
        latest.last_version = 1;
        assert!(s.publish_version(&latest, &version).unwrap());
        assert_eq!(s.all_versions().unwrap().len(), 1);
        let events = s.claim_due_events(10, 100, 10).unwrap();
        assert_eq!((events[0].id.as_str(), events[0].qualifier.as_deref()), ("e1", None));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn async_events_queue_in_due_order() {
        let s = SqliteStore::open(Path::new(":memory:")).unwrap();
        let ev = |id: &str, due: i64| AsyncEvent {
            id: id.into(),
            account: "a".into(),
            region: "r".into(),
            function: "f".into(),
            payload: b"{}".to_vec(),
            accepted_ms: 0,
            attempts: 0,
            next_attempt_ms: due,
            qualifier: None,
        };
        s.write_events(&[&ev("late", 50), &ev("early", 10)], &[]).unwrap();
        assert_eq!(s.next_event_due().unwrap(), Some(10));
        let due: Vec<_> = s.claim_due_events(20, 500, 10).unwrap().into_iter().map(|e| e.id).collect();
        assert_eq!(due, ["early"]);
        assert!(s.claim_due_events(20, 500, 10).unwrap().is_empty(), "claimed events are leased");
        s.reschedule_event("early", 1, 100).unwrap();
        let due: Vec<_> = s.claim_due_events(100, 500, 10).unwrap().into_iter().map(|e| (e.id, e.attempts)).collect();
        assert_eq!(due, [("late".to_string(), 0), ("early".to_string(), 1)]);
        s.write_events(&[], &["late"]).unwrap();
        assert!(s.claim_due_events(400, 1500, 10).unwrap().is_empty(), "still leased");
        s.release_leases().unwrap();
        assert_eq!(s.claim_due_events(400, 1500, 10).unwrap().len(), 1, "a restart releases leases");
    }
}
