//! Lamina's CloudWatch Logs: log groups, log streams and their events, durable in the
//! store's `LogStore` (a SQLite file of its own).
//!
//! [`LogsService`] executes the Logs operations with plain Rust values: groups with
//! retention (enforced on every read at once, and swept from disk every minute), tags,
//! streams, `PutLogEvents` with AWS's acceptance rules, `GetLogEvents` with forward and
//! backward tokens, and `FilterLogEvents` with filter patterns (`pattern.rs`). Functions'
//! output arrives through [`LogsService::ingest`], which never blocks an invocation: a
//! writer thread commits what is pending in one transaction, so a line is readable
//! milliseconds after it is printed. Readers of functions' output wait for
//! [`LogsService::until_room`] when the writer falls behind, so output is slowed, never
//! dropped. Errors are [`LogsError`]s named as AWS names them.
//!
//! It knows nothing of HTTP or the wire protocol; `aws-api` speaks it.
#![deny(missing_docs)]

mod events;
pub mod pattern;
mod subscriptions;

use model::sync::{Condvar, Mutex};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
pub use pattern::{Pattern, PatternError};
use store::{
    EventRange, LogAppend, LogGroupRecord, LogStore, LogStreamRecord, StoreError, StoredLogEvent, StreamCursor,
};
pub use subscriptions::{NewFilter, SubscriptionFilter, SubscriptionTarget, MAX_FILTERS};

/// The retention periods AWS accepts, in days.
pub const RETENTION_DAYS: [i64; 22] =
    [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];
/// The most a `PutLogEvents` batch may hold: messages plus 26 bytes per event.
pub const MAX_BATCH_BYTES: usize = 1_048_576;
/// The most events a read returns, and its default.
pub const MAX_EVENTS: usize = 10_000;
/// Lines, and bytes, waiting for the writer past which functions' output waits: readers of
/// environments' pipes stop reading until the writer has taken what is pending, so a fast
/// printer is slowed (its writes block), never truncated.
const ROOM_LINES: usize = 50_000;
const ROOM_BYTES: usize = 8 * 1024 * 1024;
/// The hard limit, past which lines are dropped (and counted) rather than let memory grow
/// without bound: only output that does not wait for room (Lambda's own lines, a flush's
/// last bytes, stages' access logs) can pass the soft limit, by a bounded amount.
const MAX_PENDING_LINES: usize = 16 * ROOM_LINES;
const MAX_PENDING_BYTES: usize = 16 * ROOM_BYTES;
const DAY_MS: i64 = 86_400_000;

/// A Logs error, with AWS's error shape name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogsError {
    /// `ResourceNotFoundException`.
    #[error("{0}")]
    ResourceNotFound(String),
    /// `ResourceAlreadyExistsException`.
    #[error("{0}")]
    ResourceAlreadyExists(String),
    /// `InvalidParameterException`.
    #[error("{0}")]
    InvalidParameter(String),
    /// `SerializationException`: the request is not JSON of the operation's shape.
    #[error("{0}")]
    Serialization(String),
    /// `ServiceUnavailableException`: the store failed.
    #[error("{0}")]
    ServiceUnavailable(String),
    /// `LimitExceededException`.
    #[error("{0}")]
    LimitExceeded(String),
    /// `AccessDeniedException`.
    #[error("{0}")]
    AccessDenied(String),
}

impl From<StoreError> for LogsError {
    fn from(e: StoreError) -> Self {
        LogsError::ServiceUnavailable(e.to_string())
    }
}

fn validation(value: &str, member: &str, constraint: &str) -> LogsError {
    LogsError::InvalidParameter(format!(
        "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}"
    ))
}

fn no_group() -> LogsError {
    LogsError::ResourceNotFound("The specified log group does not exist.".into())
}

fn no_stream() -> LogsError {
    LogsError::ResourceNotFound("The specified log stream does not exist.".into())
}

fn bad_token() -> LogsError {
    LogsError::InvalidParameter("The specified nextToken is invalid.".into())
}

pub use model::Caller;

/// A log group as the API describes it.
#[derive(Debug, Clone)]
pub struct LogGroup {
    /// `logGroupName`.
    pub name: String,
    /// `arn` (with `:*`); `logGroupArn` is without.
    pub arn: String,
    /// `creationTime`.
    pub created_ms: i64,
    /// `retentionInDays`.
    pub retention_days: Option<i64>,
    /// `kmsKeyId`.
    pub kms_key: Option<String>,
    /// `logGroupClass`.
    pub class: String,
    /// `storedBytes`.
    pub stored_bytes: i64,
}

/// A log stream as the API describes it.
#[derive(Debug, Clone)]
pub struct LogStream {
    /// `logStreamName`.
    pub name: String,
    /// `arn`.
    pub arn: String,
    /// `creationTime`.
    pub created_ms: i64,
    /// `firstEventTimestamp`.
    pub first_event_ms: Option<i64>,
    /// `lastEventTimestamp`.
    pub last_event_ms: Option<i64>,
    /// `lastIngestionTime`.
    pub last_ingestion_ms: Option<i64>,
    /// `storedBytes`.
    pub stored_bytes: i64,
}

/// An event read back.
#[derive(Debug, Clone)]
pub struct LogEvent {
    /// `eventId` (for `FilterLogEvents`).
    pub id: String,
    /// `logStreamName`.
    pub stream: String,
    /// `timestamp`.
    pub timestamp_ms: i64,
    /// `ingestionTime`.
    pub ingestion_ms: i64,
    /// `message`.
    pub message: String,
}

impl From<StoredLogEvent> for LogEvent {
    fn from(e: StoredLogEvent) -> Self {
        LogEvent {
            id: position_text(e.timestamp_ms, e.seq),
            stream: e.stream,
            timestamp_ms: e.timestamp_ms,
            ingestion_ms: e.ingestion_ms,
            message: e.message,
        }
    }
}

/// `DescribeLogStreams`' order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StreamOrder {
    /// By name (the default).
    #[default]
    Name,
    /// By the last event's timestamp.
    LastEventTime,
}

/// `DescribeLogStreams`' arguments.
#[derive(Debug, Clone, Default)]
pub struct StreamQuery {
    /// `logStreamNamePrefix`.
    pub prefix: Option<String>,
    /// `orderBy`.
    pub order: StreamOrder,
    /// `descending`.
    pub descending: bool,
    /// `nextToken`.
    pub token: Option<String>,
    /// `limit`.
    pub limit: Option<i64>,
}

/// `PutLogEvents`' rejected events, as indexes into the batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rejected {
    /// `tooNewLogEventStartIndex`: this event and the ones after are over two hours ahead.
    pub too_new_start: Option<usize>,
    /// `tooOldLogEventEndIndex`: this event and the ones before are over 14 days old.
    pub too_old_end: Option<usize>,
    /// `expiredLogEventEndIndex`: this event and the ones before are past the group's
    /// retention.
    pub expired_end: Option<usize>,
}

/// `GetLogEvents`' arguments.
#[derive(Debug, Clone, Default)]
pub struct GetQuery {
    /// `startTime`.
    pub start_ms: Option<i64>,
    /// `endTime`.
    pub end_ms: Option<i64>,
    /// `nextToken`.
    pub token: Option<String>,
    /// `limit`.
    pub limit: Option<i64>,
    /// `startFromHead`.
    pub from_head: bool,
}

/// `GetLogEvents`' answer.
#[derive(Debug, Clone)]
pub struct GetPage {
    /// `events`, oldest first.
    pub events: Vec<LogEvent>,
    /// `nextForwardToken`.
    pub forward: String,
    /// `nextBackwardToken`.
    pub backward: String,
}

/// `FilterLogEvents`' arguments.
#[derive(Debug, Clone, Default)]
pub struct FilterQuery {
    /// `logStreamNames`.
    pub streams: Option<Vec<String>>,
    /// `logStreamNamePrefix`.
    pub prefix: Option<String>,
    /// `startTime`.
    pub start_ms: Option<i64>,
    /// `endTime`.
    pub end_ms: Option<i64>,
    /// `filterPattern`.
    pub pattern: Option<String>,
    /// `nextToken`.
    pub token: Option<String>,
    /// `limit`.
    pub limit: Option<i64>,
}

/// Lines of a function's output waiting for the writer.
#[derive(Default)]
struct Pending {
    batches: Vec<LogAppend>,
    lines: usize,
    bytes: usize,
}

struct Inner {
    store: LogStore,
    pending: Mutex<Pending>,
    wake: Condvar,
    /// Woken whenever the writer takes what was pending.
    room: tokio::sync::Notify,
    dropped: AtomicU64,
    /// Held by the writer from taking what is pending until it is committed, and by a
    /// group's deletion: output queued before a group is deleted goes with it, never
    /// recreating it after.
    commit: Mutex<()>,
    /// Subscription filters, and the lines waiting to be sent.
    subscriptions: Mutex<subscriptions::Subscriptions>,
    /// Where subscribed lines go, once connected.
    target: std::sync::OnceLock<Arc<dyn SubscriptionTarget>>,
    /// Woken when lines wait to be sent.
    lines_waiting: tokio::sync::Notify,
}

/// CloudWatch Logs.
#[derive(Clone)]
pub struct LogsService {
    inner: Arc<Inner>,
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// An event's position as tokens write it: 56 digits, the timestamp's 20 then the
/// sequence number's 36, as AWS's tokens look.
fn position_text(ts: i64, seq: i64) -> String {
    format!("{:020}{:036}", ts.max(0), seq.max(0))
}

fn parse_position(text: &str) -> Option<(i64, i64)> {
    if text.len() != 56 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((text[..20].parse().ok()?, text[20..].parse().ok()?))
}

fn encode_token(s: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

fn decode_token(t: &str) -> Result<String, LogsError> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(t).map_err(|_| bad_token())?;
    String::from_utf8(bytes).map_err(|_| bad_token())
}

pub(crate) fn check_group_name(name: &str, member: &str) -> Result<(), LogsError> {
    if name.is_empty() || name.len() > 512 {
        return Err(validation(name, member, "Member must have length between 1 and 512"));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || "._-/#".contains(c)) {
        return Err(validation(name, member, r"Member must satisfy regular expression pattern: [\.\-_/#A-Za-z0-9]+"));
    }
    Ok(())
}

fn check_stream_name(name: &str) -> Result<(), LogsError> {
    if name.is_empty() || name.len() > 512 {
        return Err(validation(name, "logStreamName", "Member must have length between 1 and 512"));
    }
    if name.contains([':', '*']) {
        return Err(validation(name, "logStreamName", "Member must satisfy regular expression pattern: [^:*]*"));
    }
    Ok(())
}

fn limit(value: Option<i64>, max: usize) -> Result<usize, LogsError> {
    match value {
        None => Ok(max),
        Some(n) if n >= 1 && n as usize <= max => Ok(n as usize),
        Some(n) => Err(validation(&n.to_string(), "limit", &format!("Member must have value between 1 and {max}"))),
    }
}

/// A group's name from `logGroupName` or `logGroupIdentifier` (a name or an ARN).
pub fn group_name(name: Option<&str>, identifier: Option<&str>) -> Result<String, LogsError> {
    match (name, identifier) {
        (Some(_), Some(_)) => {
            Err(LogsError::InvalidParameter("LogGroup name and LogGroup ARN are mutually exclusive parameters.".into()))
        }
        (Some(n), None) => Ok(n.to_owned()),
        (None, Some(id)) => {
            let name = match id.strip_prefix("arn:") {
                Some(_) => id.split(":log-group:").nth(1).map(|n| n.trim_end_matches(":*")).ok_or_else(no_group)?,
                None => id,
            };
            Ok(name.to_owned())
        }
        (None, None) => {
            Err(LogsError::InvalidParameter("Should provide either logGroupName or logGroupIdentifier.".into()))
        }
    }
}

impl LogsService {
    /// Starts the service on its store: a writer thread for functions' output and a
    /// sweeper that deletes events past their group's retention.
    pub fn start(store: LogStore) -> std::io::Result<Self> {
        let inner = Arc::new(Inner {
            store,
            pending: Mutex::new(Pending::default()),
            wake: Condvar::new(),
            room: tokio::sync::Notify::new(),
            dropped: AtomicU64::new(0),
            commit: Mutex::new(()),
            subscriptions: Mutex::new(Default::default()),
            target: std::sync::OnceLock::new(),
            lines_waiting: tokio::sync::Notify::new(),
        });
        let service = LogsService { inner: inner.clone() };
        service.load_subscriptions().map_err(|e| std::io::Error::other(e.to_string()))?;
        let weak = Arc::downgrade(&inner);
        std::thread::Builder::new().name("logs-writer".into()).spawn(move || writer(weak))?;
        let weak = Arc::downgrade(&inner);
        std::thread::Builder::new().name("logs-retention".into()).spawn(move || loop {
            let Some(inner) = weak.upgrade() else { return };
            sweep(&inner.store, now_ms());
            drop(inner);
            std::thread::sleep(Duration::from_secs(60));
        })?;
        Ok(service)
    }

    /// Lines of function output dropped because the writer fell too far behind.
    pub fn dropped_lines(&self) -> u64 {
        self.inner.dropped.load(Ordering::Relaxed)
    }

    /// Whether output may be queued now without passing the soft limit.
    pub fn has_room(&self) -> bool {
        let p = self.inner.pending.lock();
        p.lines < ROOM_LINES && p.bytes < ROOM_BYTES
    }

    /// Resolves once there is room for more output (at once if there is now).
    pub async fn until_room(&self) {
        loop {
            let taken = self.inner.room.notified();
            tokio::pin!(taken);
            taken.as_mut().enable();
            if self.has_room() {
                return;
            }
            taken.await;
        }
    }

    /// Queues `line` for the stream `stream` of the log group `group_arn` names
    /// (`arn:aws:logs:<region>:<account>:log-group:<name>[:*]`, as an access log's
    /// destination does); a line for anything else is dropped.
    pub fn ingest_to_arn(&self, group_arn: &str, stream: &str, line: String) {
        let parts: Vec<&str> = group_arn.splitn(7, ':').collect();
        let (Some(&"logs"), Some(region), Some(account), Some(&"log-group"), Some(group)) =
            (parts.get(2), parts.get(3), parts.get(4), parts.get(5), parts.get(6))
        else {
            return;
        };
        let group = group.strip_suffix(":*").unwrap_or(group);
        self.ingest(account, region, group, stream, vec![(model::clock::now_ms(), line)]);
    }

    /// Queues a function's output for its log stream (creating the group and stream if
    /// need be). Never blocks on the store; callers that can wait ask [`Self::has_room`]
    /// first.
    pub fn ingest(&self, account: &str, region: &str, group: &str, stream: &str, events: Vec<(i64, String)>) {
        if events.is_empty() {
            return;
        }
        let bytes: usize = events.iter().map(|(_, m)| m.len()).sum();
        let mut p = self.inner.pending.lock();
        if p.lines + events.len() > MAX_PENDING_LINES || p.bytes + bytes > MAX_PENDING_BYTES {
            self.inner.dropped.fetch_add(events.len() as u64, Ordering::Relaxed);
            return;
        }
        let idle = p.batches.is_empty();
        p.lines += events.len();
        p.bytes += bytes;
        p.batches.push(LogAppend {
            account: account.to_owned(),
            region: region.to_owned(),
            group: group.to_owned(),
            stream: stream.to_owned(),
            ingestion_ms: now_ms(),
            events,
            create: true,
        });
        drop(p);
        // The writer waits only when nothing is pending; otherwise it is busy and will
        // take this with the rest.
        if idle {
            self.inner.wake.notify_one();
        }
    }

    pub(crate) fn group(&self, c: &Caller, name: &str) -> Result<LogGroupRecord, LogsError> {
        self.inner.store.group(&c.account, &c.region, name)?.ok_or_else(no_group)
    }

    fn describe_group(&self, g: LogGroupRecord) -> LogGroup {
        LogGroup {
            arn: format!("arn:aws:logs:{}:{}:log-group:{}:*", g.region, g.account, g.name),
            name: g.name,
            created_ms: g.created_ms,
            retention_days: g.retention_days,
            kms_key: g.kms_key,
            class: g.class,
            stored_bytes: g.stored_bytes,
        }
    }

    /// `CreateLogGroup`.
    pub fn create_group(
        &self,
        c: &Caller,
        name: &str,
        kms_key: Option<String>,
        class: Option<String>,
        tags: BTreeMap<String, String>,
    ) -> Result<(), LogsError> {
        check_group_name(name, "logGroupName")?;
        let class = class.unwrap_or_else(|| "STANDARD".into());
        if !["STANDARD", "INFREQUENT_ACCESS", "DELIVERY"].contains(&class.as_str()) {
            return Err(validation(
                &class,
                "logGroupClass",
                "Member must satisfy enum value set: [STANDARD, INFREQUENT_ACCESS, DELIVERY]",
            ));
        }
        let record = LogGroupRecord {
            id: 0,
            account: c.account.clone(),
            region: c.region.clone(),
            name: name.to_owned(),
            created_ms: now_ms(),
            retention_days: None,
            kms_key,
            class,
            tags: serde_json::to_string(&tags).expect("string maps serialize"),
            stored_bytes: 0,
        };
        if !self.inner.store.create_group(&record)? {
            return Err(LogsError::ResourceAlreadyExists("The specified log group already exists".into()));
        }
        Ok(())
    }

    /// `DescribeLogGroups`: groups in name order, and the token for the next page.
    pub fn describe_groups(
        &self,
        c: &Caller,
        prefix: Option<&str>,
        pattern: Option<&str>,
        token: Option<&str>,
        limit_: Option<i64>,
    ) -> Result<(Vec<LogGroup>, Option<String>), LogsError> {
        if prefix.is_some() && pattern.is_some() {
            return Err(LogsError::InvalidParameter(
                "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.".into(),
            ));
        }
        if let Some(p) = prefix {
            check_group_name(p, "logGroupNamePrefix")?;
        }
        let limit = limit(limit_, 50)?;
        let mut after = token.map(decode_token).transpose()?;
        let needle = pattern.map(str::to_ascii_lowercase);
        let mut out = Vec::new();
        loop {
            let page = self.inner.store.groups(&c.account, &c.region, prefix.unwrap_or(""), after.as_deref(), 200)?;
            let done = page.len() < 200;
            for g in page {
                after = Some(g.name.clone());
                if needle.as_ref().is_some_and(|n| !g.name.to_ascii_lowercase().contains(n.as_str())) {
                    continue;
                }
                out.push(self.describe_group(g));
                if out.len() == limit {
                    let more = !self
                        .inner
                        .store
                        .groups(&c.account, &c.region, prefix.unwrap_or(""), after.as_deref(), 1)?
                        .is_empty();
                    return Ok((out, more.then(|| encode_token(after.as_deref().unwrap_or("")))));
                }
            }
            if done {
                return Ok((out, None));
            }
        }
    }

    /// `DeleteLogGroup`.
    pub fn delete_group(&self, c: &Caller, name: &str) -> Result<(), LogsError> {
        check_group_name(name, "logGroupName")?;
        let g = self.group(c, name)?;
        let _committing = self.inner.commit.lock();
        {
            // What the group's streams were sent before now is deleted with it.
            let mut p = self.inner.pending.lock();
            let gone = |b: &LogAppend| b.account == c.account && b.region == c.region && b.group == name;
            let (lines, bytes) = p.batches.iter().filter(|b| gone(b)).fold((0, 0), |(l, n), b| {
                (l + b.events.len(), n + b.events.iter().map(|(_, m)| m.len()).sum::<usize>())
            });
            p.batches.retain(|b| !gone(b));
            p.lines -= lines;
            p.bytes -= bytes;
        }
        self.inner.store.delete_group(g.id)?;
        self.forget_subscriptions(&g);
        Ok(())
    }

    /// `PutRetentionPolicy` (`Some(days)`) and `DeleteRetentionPolicy` (`None`). Events
    /// past the new period stop being returned at once and leave the disk with the next
    /// sweep.
    pub fn set_retention(&self, c: &Caller, name: &str, days: Option<i64>) -> Result<(), LogsError> {
        check_group_name(name, "logGroupName")?;
        if let Some(d) = days {
            if !RETENTION_DAYS.contains(&d) {
                let set: Vec<String> = RETENTION_DAYS.iter().map(i64::to_string).collect();
                return Err(validation(
                    &d.to_string(),
                    "retentionInDays",
                    &format!("Member must satisfy enum value set: [{}]", set.join(", ")),
                ));
            }
        }
        let mut g = self.group(c, name)?;
        g.retention_days = days;
        self.inner.store.update_group(&g)?;
        if let Some(d) = days {
            self.inner.store.expire(g.id, now_ms() - d * DAY_MS)?;
        }
        Ok(())
    }

    /// A group's tags (`ListTagsLogGroup`, `ListTagsForResource`).
    pub fn tags(&self, c: &Caller, name: &str) -> Result<BTreeMap<String, String>, LogsError> {
        let g = self.group(c, name)?;
        Ok(serde_json::from_str(&g.tags).unwrap_or_default())
    }

    /// Adds tags to a group (`set`) and removes others (`remove`).
    pub fn retag(
        &self,
        c: &Caller,
        name: &str,
        set: BTreeMap<String, String>,
        remove: &[String],
    ) -> Result<(), LogsError> {
        let mut g = self.group(c, name)?;
        let mut tags: BTreeMap<String, String> = serde_json::from_str(&g.tags).unwrap_or_default();
        tags.extend(set);
        for k in remove {
            tags.remove(k);
        }
        if tags.len() > 50 {
            return Err(LogsError::InvalidParameter("A log group can have at most 50 tags.".into()));
        }
        g.tags = serde_json::to_string(&tags).expect("string maps serialize");
        self.inner.store.update_group(&g)?;
        Ok(())
    }

    /// `CreateLogStream`.
    pub fn create_stream(&self, c: &Caller, group: &str, stream: &str) -> Result<(), LogsError> {
        check_group_name(group, "logGroupName")?;
        check_stream_name(stream)?;
        let g = self.group(c, group)?;
        if !self.inner.store.create_stream(g.id, stream, now_ms())? {
            return Err(LogsError::ResourceAlreadyExists("The specified log stream already exists".into()));
        }
        Ok(())
    }

    /// `DeleteLogStream`.
    pub fn delete_stream(&self, c: &Caller, group: &str, stream: &str) -> Result<(), LogsError> {
        check_stream_name(stream)?;
        let g = self.group(c, group)?;
        let s = self.inner.store.stream(g.id, stream)?.ok_or_else(no_stream)?;
        self.inner.store.delete_stream(g.id, s.id)?;
        Ok(())
    }

    fn describe_stream(&self, g: &LogGroupRecord, s: LogStreamRecord) -> LogStream {
        LogStream {
            arn: format!("arn:aws:logs:{}:{}:log-group:{}:log-stream:{}", g.region, g.account, g.name, s.name),
            name: s.name,
            created_ms: s.created_ms,
            first_event_ms: s.first_event_ms,
            last_event_ms: s.last_event_ms,
            last_ingestion_ms: s.last_ingestion_ms,
            stored_bytes: s.stored_bytes,
        }
    }

    /// `DescribeLogStreams`.
    pub fn describe_streams(
        &self,
        c: &Caller,
        group: &str,
        q: StreamQuery,
    ) -> Result<(Vec<LogStream>, Option<String>), LogsError> {
        if q.prefix.is_some() && q.order == StreamOrder::LastEventTime {
            return Err(LogsError::InvalidParameter(
                "Cannot order by LastEventTime with a logStreamNamePrefix.".into(),
            ));
        }
        let limit = limit(q.limit, 50)?;
        let g = self.group(c, group)?;
        let mut streams = self.inner.store.streams(g.id)?;
        if let Some(p) = &q.prefix {
            streams.retain(|s| s.name.starts_with(p.as_str()));
        }
        if q.order == StreamOrder::LastEventTime {
            streams.sort_by(|a, b| a.last_event_ms.cmp(&b.last_event_ms).then_with(|| a.name.cmp(&b.name)));
        }
        if q.descending {
            streams.reverse();
        }
        let skip = match q.token.as_deref() {
            None => 0,
            Some(t) => decode_token(t)?.parse::<usize>().map_err(|_| bad_token())?,
        };
        let total = streams.len();
        let page: Vec<LogStream> =
            streams.into_iter().skip(skip).take(limit).map(|s| self.describe_stream(&g, s)).collect();
        let next = (skip + page.len() < total).then(|| encode_token(&(skip + page.len()).to_string()));
        Ok((page, next))
    }
}

/// How long the writer lets output gather after the first line before it commits: a
/// transaction per burst rather than per line, for a few milliseconds of delay.
const GATHER: Duration = Duration::from_millis(10);

/// Commits pending function output, one transaction per wake-up, until the service goes.
fn writer(inner: std::sync::Weak<Inner>) {
    let mut since_trim = 0;
    loop {
        let Some(i) = inner.upgrade() else { return };
        {
            let mut p = i.pending.lock();
            while p.batches.is_empty() {
                p = i.wake.wait_timeout(p, Duration::from_secs(1));
                if p.batches.is_empty() && Arc::strong_count(&i) == 1 {
                    return;
                }
                if p.batches.is_empty() && since_trim >= TRIM_AFTER_BYTES {
                    since_trim = 0;
                    give_back_free_memory();
                }
            }
        }
        std::thread::sleep(GATHER);
        let _committing = i.commit.lock();
        let batches = {
            let mut p = i.pending.lock();
            since_trim += p.bytes;
            p.lines = 0;
            p.bytes = 0;
            std::mem::take(&mut p.batches)
        };
        i.room.notify_waiters();
        let batches = by_stream(batches);
        match i.store.append(&batches) {
            Ok(()) => LogsService { inner: i.clone() }.subscribed(&batches),
            Err(e) => {
                let lines: usize = batches.iter().map(|b| b.events.len()).sum();
                i.dropped.fetch_add(lines as u64, Ordering::Relaxed);
                tracing::warn!("function logs not written: {e}");
            }
        }
    }
}

/// How much output passes through the writer before, once it idles, the memory it held
/// is handed back to the system.
const TRIM_AFTER_BYTES: usize = 32 * 1024 * 1024;

/// Returns the allocator's free pages to the system. A flood of output is tens of
/// megabytes of lines freed in any order on several threads; glibc keeps such holes in
/// its arenas, so without this the server would hold a flood's peak for good.
fn give_back_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks the allocator's own free lists, under its locks.
    #[allow(unsafe_code)]
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Merges batches for the same stream, keeping each stream's lines in order.
fn by_stream(batches: Vec<LogAppend>) -> Vec<LogAppend> {
    let mut merged: Vec<LogAppend> = Vec::new();
    let mut index: std::collections::HashMap<(String, String, String, String), usize> = Default::default();
    for b in batches {
        let key = (b.account.clone(), b.region.clone(), b.group.clone(), b.stream.clone());
        match index.get(&key) {
            Some(&i) => {
                merged[i].events.extend(b.events);
                merged[i].ingestion_ms = b.ingestion_ms;
            }
            None => {
                index.insert(key, merged.len());
                merged.push(b);
            }
        }
    }
    merged
}

/// Deletes events past their group's retention.
fn sweep(store: &LogStore, now: i64) {
    match store.groups_with_retention() {
        Ok(groups) => {
            for g in groups {
                if let Some(days) = g.retention_days {
                    if let Err(e) = store.expire(g.id, now - days * DAY_MS) {
                        tracing::warn!(group = %g.name, "retention sweep failed: {e}");
                    }
                }
            }
        }
        Err(e) => tracing::warn!("retention sweep failed: {e}"),
    }
}

#[cfg(test)]
mod tests;
