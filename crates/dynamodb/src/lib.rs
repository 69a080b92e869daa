//! Lamina's DynamoDB and DynamoDB Streams.
//!
//! [`DynamoService`] owns every account's tables: their definitions in memory (written
//! whole to [`store::TableStore`] on every change), their items in the store, keyed so
//! that the store's order is DynamoDB's (`keys.rs`: numbers numerically, binary
//! bytewise). `tables.rs` creates, describes, updates and deletes tables (indexes,
//! streams, TTL, tags); `items.rs` writes and reads items, each write one transaction that
//! reads the item, checks its condition, and writes the item, its index entries and its
//! stream record together; `query.rs` is Query and Scan; `batch.rs` BatchGet/WriteItem;
//! `transact.rs` TransactWrite/GetItems; `streams.rs` the Streams API and the records a
//! table's writes leave; `ttl.rs` removes expired items (`sweep_ttl`, and `trim_streams`
//! for records past 24 hours, are the caller's to run now and then). Values (`value.rs`, `number.rs`:
//! 38 exact digits) and expressions (`expr/`) are pure.
//!
//! It knows DynamoDB's rules and words, not its HTTP: `aws-api` reads requests into the
//! inputs here (`json.rs` turns AWS's attribute-value JSON into values, for the edge and
//! for the stream records Lambda receives). Every operation reads or writes SQLite, so
//! callers run it off the async workers.
#![deny(missing_docs)]

pub mod batch;
pub mod expr;
pub mod items;
pub mod json;
pub mod keys;
pub mod number;
pub mod query;
pub mod streams;
pub mod tables;
pub mod transact;
mod ttl;
pub mod value;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use model::sync::RwLock;
use model::Clock;
use store::{StoreError, TableStore};

pub use model::Caller;
pub use tables::{Table, TableInput};

pub use value::{Item, Value};

/// Why a transaction was cancelled, for one of its actions.
#[derive(Debug, Clone, PartialEq)]
pub struct CancellationReason {
    /// `None`, `ConditionalCheckFailed`, `ValidationError`, `TransactionConflict`…
    pub code: String,
    /// Its message, if it has one.
    pub message: Option<String>,
    /// The item as it was, when the action asked for it.
    pub item: Option<Item>,
}

/// A DynamoDB error, as the API answers it: one variant per error type a caller can see.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DynamoError {
    /// `ValidationException`.
    #[error("{0}")]
    Validation(String),
    /// `ResourceNotFoundException`.
    #[error("{0}")]
    NotFound(String),
    /// `ResourceInUseException`.
    #[error("{0}")]
    InUse(String),
    /// `ConditionalCheckFailedException`, with the item when the caller asked for it.
    #[error("The conditional request failed")]
    ConditionFailed(Option<Item>),
    /// `TransactionCanceledException`.
    #[error("Transaction cancelled, please refer cancellation reasons for specific reasons [{}]", .0.iter().map(|r| r.code.as_str()).collect::<Vec<_>>().join(", "))]
    TransactionCanceled(Vec<CancellationReason>),
    /// `IdempotentParameterMismatchException`.
    #[error("{0}")]
    IdempotentMismatch(String),
    /// `LimitExceededException`.
    #[error("{0}")]
    LimitExceeded(String),
    /// `ExpiredIteratorException` (Streams).
    #[error("{0}")]
    ExpiredIterator(String),
    /// `TrimmedDataAccessException` (Streams).
    #[error("{0}")]
    TrimmedData(String),
    /// `InternalServerError`.
    #[error("{0}")]
    Internal(String),
}

impl From<StoreError> for DynamoError {
    fn from(e: StoreError) -> DynamoError {
        DynamoError::Internal(e.to_string())
    }
}

/// A `ValidationException`.
pub(crate) fn invalid(msg: impl Into<String>) -> DynamoError {
    DynamoError::Validation(msg.into())
}

/// A table and what is known of its rows, shared by readers.
#[derive(Debug)]
pub(crate) struct TableState {
    /// Its definition (replaced whole on a change).
    pub def: RwLock<Arc<Table>>,
    /// Items.
    pub items: AtomicU64,
    /// Their bytes.
    pub bytes: AtomicU64,
}

impl TableState {
    pub(crate) fn def(&self) -> Arc<Table> {
        self.def.read().clone()
    }

    pub(crate) fn counted(&self, items: i64, bytes: i64) {
        add(&self.items, items);
        add(&self.bytes, bytes);
    }
}

fn add(a: &AtomicU64, by: i64) {
    if by >= 0 {
        a.fetch_add(by as u64, Ordering::Relaxed);
    } else {
        let _ = a.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| Some(v.saturating_sub(by.unsigned_abs())));
    }
}

/// Tables by (account, region, name).
type Tables = HashMap<(String, String, String), Arc<TableState>>;

/// The DynamoDB service.
pub struct DynamoService {
    pub(crate) store: Arc<TableStore>,
    pub(crate) tables: RwLock<Tables>,
    pub(crate) clock: Clock,
    pub(crate) ttl_cursors: ttl::Cursors,
    /// Told after a write that left stream records (Lambda's pollers wait on it).
    pub(crate) stream_hook: std::sync::OnceLock<Box<dyn Fn() + Send + Sync>>,
}

impl std::fmt::Debug for DynamoService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DynamoService")
    }
}

impl DynamoService {
    /// Opens the service over its store: every table loaded, with its counts.
    pub fn open(store: Arc<TableStore>, clock: Clock) -> Result<Arc<DynamoService>, DynamoError> {
        let counts: HashMap<i64, store::TableCounts> = store.counts()?.into_iter().collect();
        let mut tables = Tables::new();
        for (id, _, doc) in store.tables()? {
            let mut def: Table =
                serde_json::from_str(&doc).map_err(|e| DynamoError::Internal(format!("stored table {id}: {e}")))?;
            def.row = id;
            let c = counts.get(&id).copied().unwrap_or_default();
            let key = (def.account.clone(), def.region.clone(), def.name.clone());
            let state = TableState {
                def: RwLock::new(Arc::new(def)),
                items: AtomicU64::new(c.items),
                bytes: AtomicU64::new(c.bytes),
            };
            tables.insert(key, Arc::new(state));
        }
        Ok(Arc::new(DynamoService {
            store,
            tables: RwLock::new(tables),
            clock,
            ttl_cursors: ttl::Cursors::default(),
            stream_hook: std::sync::OnceLock::new(),
        }))
    }

    /// Calls `hook` after every write that leaves stream records.
    pub fn on_stream_write(&self, hook: Box<dyn Fn() + Send + Sync>) {
        let _ = self.stream_hook.set(hook);
    }

    /// After a committed write to `t`: its stream's readers are told.
    pub(crate) fn written(&self, t: &Table) {
        if t.live_stream().is_some() {
            if let Some(h) = self.stream_hook.get() {
                h();
            }
        }
    }

    pub(crate) fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// A table, or `ResourceNotFoundException` in the words item operations use.
    pub(crate) fn table(&self, caller: &Caller, name: &str) -> Result<Arc<TableState>, DynamoError> {
        let name = tables::name_of(name);
        self.tables
            .read()
            .get(&(caller.account.clone(), caller.region.clone(), name.to_owned()))
            .cloned()
            .ok_or_else(|| DynamoError::NotFound("Requested resource not found".into()))
    }
}
