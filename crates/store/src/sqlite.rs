//! The SQLite implementation of [`MetadataStore`].

use model::sync::Mutex;
use std::collections::BTreeMap;
use std::path::Path;

use model::{
    Alias, Architecture, CodeInfo, EventInvokeConfig, Function, FunctionConfig, FunctionLayer, FunctionState,
    LastUpdateStatus, LayerPolicy, LayerStatement, LayerVersion, LoggingConfig, ProvisionedConfig, Runtime,
    TracingMode,
};
use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::{AsyncEvent, MetadataStore, Scoped, StoreError};

mod rows;
use rows::*;

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

/// Accepted async events, in the order they came (`seq`, never reused): appending keeps
/// a commit's writes on the last pages, however long the queue.
const ASYNC_TABLE: &str = "
CREATE TABLE IF NOT EXISTS async_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL,
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
DROP INDEX IF EXISTS async_events_due;
-- The order events are claimed in: a claim reads from the front, as far as it takes.
CREATE INDEX IF NOT EXISTS async_events_order ON async_events (next_attempt_ms, accepted_ms);
-- Events being run: few, however many are queued.
CREATE INDEX IF NOT EXISTS async_events_leased ON async_events (lease_ms) WHERE lease_ms != 0;
";

/// Moves the events of a queue from before `seq` (keyed by their random request id, so
/// that each commit wrote all over the table) into the current table, in accept order.
fn migrate_async_events(conn: &Connection) -> rusqlite::Result<()> {
    let sql: Option<String> = conn
        .query_row("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'async_events'", [], |r| r.get(0))
        .optional()?;
    if sql.is_none_or(|sql| sql.contains("seq INTEGER PRIMARY KEY")) {
        return conn.execute_batch(ASYNC_TABLE);
    }
    let _ = conn.execute("ALTER TABLE async_events ADD COLUMN qualifier TEXT", []);
    let tx = conn.unchecked_transaction()?;
    tx.execute_batch(
        "ALTER TABLE async_events RENAME TO async_events_before_seq;
         DROP INDEX IF EXISTS async_events_due;",
    )?;
    tx.execute_batch(ASYNC_TABLE)?;
    tx.execute_batch(
        "INSERT INTO async_events (id, account, region, function, payload, accepted_ms, attempts, next_attempt_ms, \
           lease_ms, qualifier) \
         SELECT id, account, region, function, payload, accepted_ms, attempts, next_attempt_ms, lease_ms, qualifier \
         FROM async_events_before_seq ORDER BY accepted_ms;
         DROP TABLE async_events_before_seq;",
    )?;
    tx.commit()
}

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
        conn.execute_batch(crate::documents::DOCUMENT_SCHEMA)?;
        // Columns added after the first release; adding one that exists fails harmlessly.
        let _ = conn.execute("ALTER TABLE functions ADD COLUMN reserved_concurrency INTEGER", []);
        let _ = conn.execute("ALTER TABLE functions ADD COLUMN event_invoke TEXT", []);
        let _ = conn.execute("ALTER TABLE functions ADD COLUMN last_version INTEGER NOT NULL DEFAULT 0", []);
        migrate_async_events(&conn)?;
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
        let conn = self.conn.lock();
        Ok(f(&conn)?)
    }
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

    fn write_events(&self, added: &[&AsyncEvent], removed: &[i64]) -> Result<(), StoreError> {
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
                let mut delete = tx.prepare_cached("DELETE FROM async_events WHERE seq = ?1")?;
                for seq in removed {
                    delete.execute(params![seq])?;
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
                     qualifier, seq FROM async_events WHERE next_attempt_ms <= ?1 AND lease_ms <= ?1 \
                     ORDER BY next_attempt_ms, accepted_ms LIMIT ?2",
                )?;
                let rows = stmt.query_map(params![now_ms, limit as i64], read_event)?;
                rows.collect::<rusqlite::Result<Vec<_>>>()?
            };
            {
                let mut lease = tx.prepare_cached("UPDATE async_events SET lease_ms = ?2 WHERE seq = ?1")?;
                for e in &events {
                    lease.execute(params![e.seq, lease_until_ms])?;
                }
            }
            tx.commit()?;
            Ok(events)
        })
    }

    fn release_leases(&self) -> Result<(), StoreError> {
        self.with(|c| c.execute("UPDATE async_events SET lease_ms = 0 WHERE lease_ms != 0", []).map(drop))
    }

    fn reschedule_event(&self, seq: i64, attempts: u32, next_attempt_ms: i64) -> Result<(), StoreError> {
        self.with(|c| {
            c.prepare_cached(
                "UPDATE async_events SET attempts = ?2, next_attempt_ms = ?3, lease_ms = 0 WHERE seq = ?1",
            )?
            .execute(params![seq, attempts, next_attempt_ms])
            .map(drop)
        })
    }

    fn next_event_due(&self) -> Result<Option<i64>, StoreError> {
        // The first event not being run, and the first lease to run out: two index reads,
        // not a scan of the queue (this is asked after every accept and every finish).
        self.with(|c| {
            c.prepare_cached(
                "SELECT MIN(due) FROM (\
                   SELECT due FROM (SELECT next_attempt_ms AS due FROM async_events WHERE lease_ms = 0 \
                                    ORDER BY next_attempt_ms, accepted_ms LIMIT 1) \
                   UNION ALL \
                   SELECT MIN(MAX(next_attempt_ms, lease_ms)) FROM async_events WHERE lease_ms != 0)",
            )?
            .query_row([], |r| r.get(0))
        })
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
mod tests;
