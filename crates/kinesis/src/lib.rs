//! Lamina's Kinesis Data Streams.
//!
//! [`KinesisService`] owns every account's streams: their definitions in memory (written
//! whole to [`store::StreamStore`] on every change), their records in the store, committed
//! before PutRecord or PutRecords answers. `shards.rs` (pure) hashes partition keys to
//! shards by MD5 as Kinesis does and splits key ranges; `records.rs` puts and reads records
//! (shard iterators of every type, `MillisBehindLatest`, iterator expiry, closed shards'
//! children); `reshard.rs` is SplitShard, MergeShards and UpdateShardCount. Records older
//! than a stream's retention are dropped by [`KinesisService::tick`].
//!
//! It knows Kinesis's rules and words, not its HTTP: `aws-api` speaks its JSON. Every
//! operation reads or writes SQLite, so callers run it off the async workers.
#![deny(missing_docs)]

mod records;
mod reshard;
pub mod shards;

use std::collections::HashMap;
use std::sync::Arc;

use model::sync::RwLock;
use model::Clock;
use serde::{Deserialize, Serialize};
use store::{StoreError, StreamStore};

pub use model::Caller;
pub use records::{lambda_record, sequence_number as records_sequence, Entry, GetRecords, Put, Record};
pub use shards::Shard;

/// A Kinesis error, as the API answers it: one variant per error type a caller can see.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KinesisError {
    /// `ResourceNotFoundException`.
    #[error("{0}")]
    NotFound(String),
    /// `ResourceInUseException`.
    #[error("{0}")]
    InUse(String),
    /// `InvalidArgumentException`.
    #[error("{0}")]
    InvalidArgument(String),
    /// `LimitExceededException`.
    #[error("{0}")]
    LimitExceeded(String),
    /// `ExpiredIteratorException`.
    #[error("{0}")]
    ExpiredIterator(String),
    /// `ValidationException`.
    #[error("{0}")]
    Validation(String),
    /// `InternalFailure`.
    #[error("{0}")]
    Internal(String),
}

impl From<StoreError> for KinesisError {
    fn from(e: StoreError) -> KinesisError {
        KinesisError::Internal(e.to_string())
    }
}

fn invalid(msg: impl Into<String>) -> KinesisError {
    KinesisError::InvalidArgument(msg.into())
}

/// The most shards a stream may have.
const MAX_SHARDS: u32 = 500;

/// A stream, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stream {
    /// Its row in the store.
    #[serde(skip)]
    pub row: i64,
    /// Its account.
    pub account: String,
    /// Its region.
    pub region: String,
    /// Its name.
    pub name: String,
    /// When it was created (ms).
    pub created_ms: i64,
    /// `PROVISIONED` or `ON_DEMAND`.
    pub mode: String,
    /// Hours records are kept.
    pub retention_hours: u32,
    /// Its shards, open and closed, by number.
    pub shards: Vec<Shard>,
    /// Tags, in the order given.
    pub tags: Vec<(String, String)>,
    /// The KMS key records are encrypted with (stored; records are kept as given).
    pub kms_key: Option<String>,
    /// Shard-level metrics enabled (stored).
    pub metrics: Vec<String>,
}

impl Stream {
    /// `arn:aws:kinesis:<region>:<account>:stream/<name>`.
    pub fn arn(&self) -> String {
        format!("arn:aws:kinesis:{}:{}:stream/{}", self.region, self.account, self.name)
    }

    /// A shard by id.
    pub fn shard(&self, id: &str) -> Option<&Shard> {
        let i = shards::index_of(id)?;
        self.shards.iter().find(|s| s.index == i)
    }

    /// The shards that take records.
    pub fn open_shards(&self) -> impl Iterator<Item = &Shard> {
        self.shards.iter().filter(|s| s.is_open())
    }
}

/// How a request names a stream: `StreamName` or `StreamARN`.
#[derive(Debug, Clone, Default)]
pub struct StreamRef {
    /// `StreamName`.
    pub name: Option<String>,
    /// `StreamARN`.
    pub arn: Option<String>,
}

impl StreamRef {
    /// By name.
    pub fn named(name: &str) -> StreamRef {
        StreamRef { name: Some(name.to_owned()), arn: None }
    }
}

type Streams = HashMap<(String, String, String), Arc<RwLock<Stream>>>;

/// The Kinesis service.
pub struct KinesisService {
    store: Arc<StreamStore>,
    streams: RwLock<Streams>,
    clock: Clock,
    /// Told after every PutRecord(s) (Lambda's pollers wait on it).
    put_hook: std::sync::OnceLock<Box<dyn Fn() + Send + Sync>>,
}

impl std::fmt::Debug for KinesisService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KinesisService")
    }
}

impl KinesisService {
    /// Opens the service over its store: every stream loaded.
    pub fn open(store: Arc<StreamStore>, clock: Clock) -> Result<Arc<KinesisService>, KinesisError> {
        let mut streams = Streams::new();
        for (id, _, doc) in store.streams()? {
            let mut s: Stream =
                serde_json::from_str(&doc).map_err(|e| KinesisError::Internal(format!("stored stream {id}: {e}")))?;
            s.row = id;
            streams.insert((s.account.clone(), s.region.clone(), s.name.clone()), Arc::new(RwLock::new(s)));
        }
        Ok(Arc::new(KinesisService {
            store,
            streams: RwLock::new(streams),
            clock,
            put_hook: std::sync::OnceLock::new(),
        }))
    }

    /// Calls `hook` after every write of records.
    pub fn on_put(&self, hook: Box<dyn Fn() + Send + Sync>) {
        let _ = self.put_hook.set(hook);
    }

    fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// A stream as a request names it.
    pub(crate) fn stream(&self, caller: &Caller, r: &StreamRef) -> Result<Arc<RwLock<Stream>>, KinesisError> {
        let name = match (&r.name, &r.arn) {
            (Some(n), _) => n.clone(),
            (None, Some(arn)) => {
                let (account, name) = arn_parts(arn).ok_or_else(|| invalid(format!("Invalid StreamARN {arn}")))?;
                if account != caller.account {
                    return Err(KinesisError::NotFound(format!("Stream {name} under account {account} not found.")));
                }
                name
            }
            (None, None) => return Err(invalid("Either StreamName or StreamARN should be provided.")),
        };
        self.streams
            .read()
            .get(&(caller.account.clone(), caller.region.clone(), name.clone()))
            .cloned()
            .ok_or_else(|| KinesisError::NotFound(format!("Stream {name} under account {} not found.", caller.account)))
    }

    /// A stream by ARN, any account's (Lambda's pollers).
    pub fn stream_by_arn(&self, arn: &str) -> Option<Stream> {
        let rest = arn.strip_prefix("arn:aws:kinesis:")?;
        let mut p = rest.splitn(3, ':');
        let (region, account, res) = (p.next()?, p.next()?, p.next()?);
        let name = res.strip_prefix("stream/")?;
        let s = self.streams.read().get(&(account.to_owned(), region.to_owned(), name.to_owned())).cloned()?;
        let out = s.read().clone();
        Some(out)
    }

    fn save(&self, s: &Stream) -> Result<(), KinesisError> {
        let doc = serde_json::to_string(s).map_err(|e| KinesisError::Internal(e.to_string()))?;
        self.store.update_stream(s.row, &doc)?;
        Ok(())
    }

    /// CreateStream: `shards` provisioned (or 4 on demand).
    pub fn create_stream(
        &self,
        caller: &Caller,
        name: &str,
        shard_count: Option<u32>,
        mode: Option<&str>,
        tags: Vec<(String, String)>,
    ) -> Result<(), KinesisError> {
        let mode = mode.unwrap_or("PROVISIONED");
        let count = match (mode, shard_count) {
            ("ON_DEMAND", _) => 4,
            (_, Some(n)) => n,
            // Without a count, a stream is on demand (as AWS creates it now).
            (_, None) => 4,
        };
        let mode = if shard_count.is_none() { "ON_DEMAND" } else { mode };
        if count > MAX_SHARDS {
            return Err(KinesisError::LimitExceeded(format!(
                "This request would exceed the shard limit for the account {} in {}. Current shard count for the account: 0. Limit: {MAX_SHARDS}. Number of additional shards that would have resulted from this request: {count}. Refer to the AWS Service Limits page (https://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) for current limits and how to request higher limits.",
                caller.account, caller.region
            )));
        }
        let first = self.store.last_sequence()?;
        let shards = shards::even_ranges(count)
            .into_iter()
            .enumerate()
            .map(|(i, (a, b))| Shard {
                index: i as u32,
                start: a.to_string(),
                end: b.to_string(),
                parent: None,
                adjacent_parent: None,
                first_seq: first,
                closed_at: None,
            })
            .collect();
        let mut s = Stream {
            row: 0,
            account: caller.account.clone(),
            region: caller.region.clone(),
            name: name.to_owned(),
            created_ms: self.now_ms(),
            mode: mode.to_owned(),
            retention_hours: 24,
            shards,
            tags,
            kms_key: None,
            metrics: Vec::new(),
        };
        let key = (caller.account.clone(), caller.region.clone(), name.to_owned());
        let mut streams = self.streams.write();
        let taken = || KinesisError::InUse(format!("Stream {name} under account {} already exists.", caller.account));
        if streams.contains_key(&key) {
            return Err(taken());
        }
        let doc = serde_json::to_string(&s).map_err(|e| KinesisError::Internal(e.to_string()))?;
        let row = self
            .store
            .create_stream(&format!("{}/{}/{name}", caller.account, caller.region), &doc)?
            .ok_or_else(taken)?;
        s.row = row;
        streams.insert(key, Arc::new(RwLock::new(s)));
        Ok(())
    }

    /// DescribeStream and the like: the stream as it is now.
    pub fn describe(&self, caller: &Caller, r: &StreamRef) -> Result<Stream, KinesisError> {
        Ok(self.stream(caller, r)?.read().clone())
    }

    /// ListStreams: names after `start`, at most `limit`; whether more follow.
    pub fn list(&self, caller: &Caller, start: Option<&str>, limit: usize) -> (Vec<Stream>, bool) {
        let mut all: Vec<Stream> = self
            .streams
            .read()
            .iter()
            .filter(|((a, r, _), _)| *a == caller.account && *r == caller.region)
            .map(|(_, s)| s.read().clone())
            .filter(|s| start.is_none_or(|st| s.name.as_str() > st))
            .collect();
        all.sort_by(|a, b| a.name.cmp(&b.name));
        let more = all.len() > limit;
        all.truncate(limit);
        (all, more)
    }

    /// DeleteStream.
    pub fn delete(&self, caller: &Caller, r: &StreamRef) -> Result<(), KinesisError> {
        let s = self.stream(caller, r)?;
        let (row, name) = {
            let s = s.read();
            (s.row, s.name.clone())
        };
        self.store.delete_stream(row)?;
        self.streams.write().remove(&(caller.account.clone(), caller.region.clone(), name));
        Ok(())
    }

    /// Increase/DecreaseStreamRetentionPeriod.
    pub fn set_retention(
        &self,
        caller: &Caller,
        r: &StreamRef,
        hours: u32,
        increase: bool,
    ) -> Result<(), KinesisError> {
        let s = self.stream(caller, r)?;
        let mut s = s.write();
        if !(24..=8760).contains(&hours) {
            return Err(invalid(format!(
                "Minimum allowed retention period is 24 hours. Maximum allowed retention period is 8760 hours. Requested retention period ({hours} hours) is out of range."
            )));
        }
        if increase && hours < s.retention_hours {
            return Err(invalid(format!(
                "Requested retention period ({hours} hours) for stream {} can not be shorter than existing retention period ({} hours). Use DecreaseRetentionPeriod API.",
                s.name, s.retention_hours
            )));
        }
        if !increase && hours > s.retention_hours {
            return Err(invalid(format!(
                "Requested retention period ({hours} hours) for stream {} can not be longer than existing retention period ({} hours). Use IncreaseRetentionPeriod API.",
                s.name, s.retention_hours
            )));
        }
        s.retention_hours = hours;
        self.save(&s)
    }

    /// AddTagsToStream.
    pub fn add_tags(&self, caller: &Caller, r: &StreamRef, tags: Vec<(String, String)>) -> Result<(), KinesisError> {
        let s = self.stream(caller, r)?;
        let mut s = s.write();
        for (k, v) in tags {
            match s.tags.iter_mut().find(|(x, _)| *x == k) {
                Some(slot) => slot.1 = v,
                None => s.tags.push((k, v)),
            }
        }
        if s.tags.len() > 50 {
            return Err(invalid("Failed to add tags to stream: a stream can have at most 50 tags."));
        }
        self.save(&s)
    }

    /// RemoveTagsFromStream.
    pub fn remove_tags(&self, caller: &Caller, r: &StreamRef, keys: &[String]) -> Result<(), KinesisError> {
        let s = self.stream(caller, r)?;
        let mut s = s.write();
        s.tags.retain(|(k, _)| !keys.contains(k));
        self.save(&s)
    }

    /// StartStreamEncryption / StopStreamEncryption (stored).
    pub fn set_encryption(&self, caller: &Caller, r: &StreamRef, key: Option<String>) -> Result<(), KinesisError> {
        let s = self.stream(caller, r)?;
        let mut s = s.write();
        s.kms_key = key;
        self.save(&s)
    }

    /// Enable/DisableEnhancedMonitoring: the metrics before and after.
    pub fn set_metrics(
        &self,
        caller: &Caller,
        r: &StreamRef,
        metrics: &[String],
        enable: bool,
    ) -> Result<(Vec<String>, Vec<String>, String), KinesisError> {
        let s = self.stream(caller, r)?;
        let mut s = s.write();
        let before = s.metrics.clone();
        let all = [
            "IncomingBytes",
            "IncomingRecords",
            "OutgoingBytes",
            "OutgoingRecords",
            "WriteProvisionedThroughputExceeded",
            "ReadProvisionedThroughputExceeded",
            "IteratorAgeMilliseconds",
        ];
        let named: Vec<String> = if metrics.iter().any(|m| m == "ALL") {
            all.iter().map(|m| (*m).to_owned()).collect()
        } else {
            metrics.to_vec()
        };
        if enable {
            for m in named {
                if !s.metrics.contains(&m) {
                    s.metrics.push(m);
                }
            }
        } else {
            s.metrics.retain(|m| !named.contains(m));
        }
        let after = s.metrics.clone();
        self.save(&s)?;
        Ok((before, after, s.name.clone()))
    }

    /// UpdateStreamMode.
    pub fn set_mode(&self, caller: &Caller, arn: &str, mode: &str) -> Result<(), KinesisError> {
        let s = self.stream(caller, &StreamRef { name: None, arn: Some(arn.to_owned()) })?;
        let mut s = s.write();
        s.mode = mode.to_owned();
        self.save(&s)
    }

    /// Upkeep: records past their stream's retention dropped; how many.
    pub fn tick(&self) -> Result<usize, KinesisError> {
        let now = self.now_ms();
        let all: Vec<(i64, u32)> = self
            .streams
            .read()
            .values()
            .map(|s| {
                let s = s.read();
                (s.row, s.retention_hours)
            })
            .collect();
        let mut dropped = 0;
        for (row, hours) in all {
            dropped += self.store.trim(row, now - i64::from(hours) * 3_600_000)?;
        }
        Ok(dropped)
    }
}

/// The account and name a stream ARN names.
fn arn_parts(arn: &str) -> Option<(String, String)> {
    let rest = arn.strip_prefix("arn:aws:kinesis:")?;
    let mut p = rest.splitn(3, ':');
    let (_region, account, res) = (p.next()?, p.next()?, p.next()?);
    Some((account.to_owned(), res.strip_prefix("stream/")?.to_owned()))
}
