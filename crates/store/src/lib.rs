//! Lamina's durable state.
//!
//! Two halves, both under the data directory:
//! - [`MetadataStore`], implemented by [`SqliteStore`]: functions, their published
//!   versions, aliases and provisioned-concurrency configurations, layer versions,
//!   Lambda's smaller resources as documents (code signing configurations), and the async
//!   event queue; [`QueueStore`], SQS's queues and messages, and
//!   [`TopicStore`], SNS's topics and subscriptions; and [`DocumentStore`], services' whole
//!   documents (API Gateway's APIs, keys and usage plans, IAM's roles, SSM's parameters); all in one SQLite database (WAL mode) so
//!   that everything a user created or an invoke accepted survives a restart or a
//!   `kill -9`;
//! - [`LogStore`]: CloudWatch Logs' groups, streams and events, in a second SQLite file
//!   so that log traffic never waits on the first;
//! - [`ObjectStore`]: S3's buckets and object versions, in a third SQLite file (the
//!   objects' bytes are the `s3` crate's files);
//! - [`EventStore`]: EventBridge's and Scheduler's buses, rules, schedules and the
//!   deliveries waiting for their targets, in a fourth;
//! - [`TableStore`]: DynamoDB's tables, items, index entries and stream records, in a
//!   fifth, and [`StreamStore`], Kinesis's streams and records, in a sixth;
//! - [`CodeStore`]: deployment packages stored once by SHA-256, and their extracted trees,
//!   which execution environments read.
//!
//! The store owns persistence formats and nothing else: it never validates user input
//! (the model does), never speaks HTTP, and never starts processes.
#![deny(missing_docs)]

mod code;
pub mod docs;
mod documents;
mod events;
mod kinesis;
mod logs;
mod objects;
mod queues;
mod sqlite;
mod tables;
mod topics;

pub use code::{inspect as inspect_zip, CodeError, CodePin, CodeStore};
pub use documents::{Document, DocumentStore};
pub use events::{EventCommit, EventStore, StoredDelivery};
pub use kinesis::{KinesisRecord, StreamStore};
pub use logs::{EventRange, LogAppend, LogGroupRecord, LogStore, LogStreamRecord, StoredLogEvent, StreamCursor};
pub use objects::{BucketRecord, ObjectRecord, ObjectStore, PartRecord, UploadRecord};
pub use queues::{Added, DedupWindow, Deleted, QueueCounts, QueueRecord, QueueStore, Received, StoredMessage};
pub use sqlite::SqliteStore;
pub use tables::{IndexEntry, KeyBound, StoredItem, StreamRecord, TableCounts, TableStore, Writes};
pub use topics::{HttpDelivery, SubscriptionRecord, TopicRecord, TopicStore};

use model::{Alias, Function, LayerVersion, ProvisionedConfig};

/// A failure of the metadata store. These are operator-facing: the API answers them
/// with a `ServiceException`.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite refused or failed.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A stored row could not be read back into the model.
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// The write could not be made (reported through another thread).
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

/// An accepted asynchronous invocation, waiting to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsyncEvent {
    /// The request id returned to the caller (`x-amzn-RequestId`).
    pub id: String,
    /// Owning account of the function.
    pub account: String,
    /// Region of the function.
    pub region: String,
    /// The function's name.
    pub function: String,
    /// The event payload.
    pub payload: Vec<u8>,
    /// When the event was accepted, in ms since the epoch.
    pub accepted_ms: i64,
    /// Attempts made so far.
    pub attempts: u32,
    /// Not to run before this time, in ms since the epoch.
    pub next_attempt_ms: i64,
    /// The version or alias invoked, if the caller named one.
    pub qualifier: Option<String>,
    /// Its place in the queue, which the store gives it when it is accepted (0 before).
    pub seq: i64,
}

/// Something that belongs to one function.
#[derive(Debug, Clone, PartialEq)]
pub struct Scoped<T> {
    /// The function's account.
    pub account: String,
    /// The function's region.
    pub region: String,
    /// The function's name.
    pub function: String,
    /// The thing itself.
    pub item: T,
}

/// Where functions and async events are kept.
pub trait MetadataStore: Send + Sync + 'static {
    /// Inserts a new function; `Ok(false)` if one with that name already exists.
    fn insert_function(&self, f: &Function) -> Result<bool, StoreError>;
    /// Replaces a function's row; `Ok(false)` if it does not exist.
    fn update_function(&self, f: &Function) -> Result<bool, StoreError>;
    /// Reads one function.
    fn get_function(&self, account: &str, region: &str, name: &str) -> Result<Option<Function>, StoreError>;
    /// Deletes a function with its versions, aliases, provisioned-concurrency configurations
    /// and pending async events; `Ok(false)` if it did not exist.
    fn delete_function(&self, account: &str, region: &str, name: &str) -> Result<bool, StoreError>;
    /// Functions in name order, starting after `after`, at most `limit`.
    fn list_functions(
        &self,
        account: &str,
        region: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Function>, StoreError>;
    /// Every function in every account, for start-up.
    fn all_functions(&self) -> Result<Vec<Function>, StoreError>;
    /// Number of functions, and the code bytes of every function, version and layer
    /// version, in an account's region.
    fn usage(&self, account: &str, region: &str) -> Result<(u64, u64), StoreError>;
    /// Whether any function or version still uses a code blob.
    fn code_in_use(&self, sha256_hex: &str) -> Result<bool, StoreError>;

    /// Durably records accepted async events and removes finished ones, all in one
    /// transaction.
    fn write_events(&self, added: &[&AsyncEvent], removed: &[i64]) -> Result<(), StoreError>;
    /// Takes the events due at `now_ms`, oldest first, at most `limit`, and leases them
    /// until `lease_until_ms` so that they are not taken again while they run.
    fn claim_due_events(&self, now_ms: i64, lease_until_ms: i64, limit: usize) -> Result<Vec<AsyncEvent>, StoreError>;
    /// Releases every lease: at start-up, nothing is running.
    fn release_leases(&self) -> Result<(), StoreError>;
    /// Records a failed attempt and when to try again, releasing the lease.
    fn reschedule_event(&self, seq: i64, attempts: u32, next_attempt_ms: i64) -> Result<(), StoreError>;
    /// The earliest time any queued event may be taken.
    fn next_event_due(&self) -> Result<Option<i64>, StoreError>;
    /// Events accepted and not yet finished.
    fn queued_events(&self) -> Result<u64, StoreError>;

    /// Stores a published `version` and `$LATEST`'s new `last_version` and revision, at once;
    /// `Ok(false)` if the function no longer exists.
    fn publish_version(&self, latest: &Function, version: &Function) -> Result<bool, StoreError>;
    /// Deletes a published version and its provisioned-concurrency configuration.
    fn delete_version(&self, account: &str, region: &str, name: &str, version: u32) -> Result<bool, StoreError>;
    /// Every published version, for start-up.
    fn all_versions(&self) -> Result<Vec<Function>, StoreError>;
    /// Creates or replaces an alias.
    fn put_alias(&self, account: &str, region: &str, function: &str, alias: &Alias) -> Result<(), StoreError>;
    /// Deletes an alias and its provisioned-concurrency configuration.
    fn delete_alias(&self, account: &str, region: &str, function: &str, name: &str) -> Result<bool, StoreError>;
    /// Every alias, for start-up.
    fn all_aliases(&self) -> Result<Vec<Scoped<Alias>>, StoreError>;
    /// Sets (or with `None` removes) a published version's EventInvokeConfig, the one
    /// thing about a version that can change; `Ok(false)` if the version does not exist.
    fn set_version_event_invoke(
        &self,
        account: &str,
        region: &str,
        name: &str,
        version: u32,
        config: Option<&model::EventInvokeConfig>,
    ) -> Result<bool, StoreError>;
    /// Creates or replaces a provisioned-concurrency configuration.
    fn put_provisioned(
        &self,
        account: &str,
        region: &str,
        function: &str,
        config: &ProvisionedConfig,
    ) -> Result<(), StoreError>;
    /// Deletes a provisioned-concurrency configuration.
    fn delete_provisioned(
        &self,
        account: &str,
        region: &str,
        function: &str,
        qualifier: &str,
    ) -> Result<(), StoreError>;
    /// Every provisioned-concurrency configuration, for start-up.
    fn all_provisioned(&self) -> Result<Vec<Scoped<ProvisionedConfig>>, StoreError>;

    /// A function's resource policy for one qualifier (`""`: the unqualified function),
    /// as the Lambda service wrote it.
    fn function_policy(
        &self,
        account: &str,
        region: &str,
        function: &str,
        qualifier: &str,
    ) -> Result<Option<String>, StoreError>;
    /// Replaces (or, with `None`, removes) a function's resource policy for a qualifier.
    fn set_function_policy(
        &self,
        account: &str,
        region: &str,
        function: &str,
        qualifier: &str,
        policy: Option<&str>,
    ) -> Result<(), StoreError>;

    /// Sets (`Some`, a document the `lambda` crate owns) or removes (`None`) the function
    /// URL of a function's qualifier (`""`: unqualified).
    fn set_function_url(
        &self,
        account: &str,
        region: &str,
        function: &str,
        qualifier: &str,
        config: Option<&str>,
    ) -> Result<(), StoreError>;
    /// Every function URL configuration.
    fn all_function_urls(&self) -> Result<Vec<Scoped<String>>, StoreError>;

    /// Creates or replaces an event source mapping (its configuration, JSON).
    fn put_mapping(&self, uuid: &str, account: &str, region: &str, config: &str) -> Result<(), StoreError>;
    /// Deletes an event source mapping.
    fn delete_mapping(&self, uuid: &str) -> Result<(), StoreError>;
    /// Every event source mapping, for start-up: `function` holds the UUID, `item` the
    /// configuration.
    fn all_mappings(&self) -> Result<Vec<Scoped<String>>, StoreError>;

    // Lambda's smaller resources (code signing configurations and which function uses
    // which), kept as JSON documents of a kind under a key.

    /// Creates or replaces a document.
    fn put_lambda_document(&self, kind: &str, key: &str, body: &str) -> Result<(), StoreError>;
    /// Deletes a document (nothing if there is none).
    fn delete_lambda_document(&self, kind: &str, key: &str) -> Result<(), StoreError>;
    /// Every document of a kind, as `(key, body)`, for start-up.
    fn lambda_documents(&self, kind: &str) -> Result<Vec<(String, String)>, StoreError>;

    /// Stores a new version of a layer under the next number (numbers are never
    /// reused), and returns that number; `layer.version` is ignored.
    fn publish_layer_version(&self, layer: &LayerVersion) -> Result<u32, StoreError>;
    /// The versions of one layer (`name`), or of every layer, by name then version.
    fn layer_versions(&self, account: &str, region: &str, name: Option<&str>) -> Result<Vec<LayerVersion>, StoreError>;
    /// One layer version.
    fn get_layer_version(
        &self,
        account: &str,
        region: &str,
        name: &str,
        version: u32,
    ) -> Result<Option<LayerVersion>, StoreError>;
    /// Deletes one layer version; `Ok(false)` if it did not exist.
    fn delete_layer_version(&self, account: &str, region: &str, name: &str, version: u32) -> Result<bool, StoreError>;
    /// Replaces a layer version's policy; `Ok(false)` if it does not exist.
    fn set_layer_policy(
        &self,
        account: &str,
        region: &str,
        name: &str,
        version: u32,
        policy: &model::LayerPolicy,
    ) -> Result<bool, StoreError>;
}
