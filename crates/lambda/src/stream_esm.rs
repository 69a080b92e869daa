//! Event source mappings for streams (DynamoDB Streams, Kinesis): each shard of the stream
//! is read in order by a poller of its own, from a checkpoint kept in the store after
//! every batch, so a restart (or a `kill -9`) resumes where the last batch ended.
//!
//! A batch is invoked synchronously, `ParallelizationFactor` lanes at a time (a partition
//! key always in the same lane, so its order holds). A failed batch is retried (halved
//! first with `BisectBatchOnFunctionError`) until it succeeds, `MaximumRetryAttempts` are
//! spent or its records pass `MaximumRecordAgeInSeconds`; until then it blocks its shard,
//! as on AWS. Then AWS's failure record (the shard and the batch's sequence range) goes
//! to the `OnFailure` destination and the shard moves on. `ReportBatchItemFailures`
//! checkpoints before the first record the function names, and retries from there.
//! `FilterCriteria` drops the records no filter matches before they are batched.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::watch;

use crate::esm::Mapping;
use crate::{Caller, InvocationType, InvokeInput, InvokeOutcome, LambdaService};

/// A stream whose records a mapping reads: implemented for DynamoDB Streams and Kinesis
/// by the services that own them.
pub trait StreamSource: Send + Sync {
    /// The stream's shards, parents first; `None` if there is no such stream. Kept in
    /// memory: cheap enough to ask on an async worker.
    fn shards(&self, arn: &str) -> Option<Vec<ShardInfo>>;
    /// Records of a shard after a position (`None`: from its oldest), at most `limit`.
    fn read(&self, arn: &str, shard: &str, after: Option<&str>, limit: usize) -> Result<Vec<StreamRecord>, String>;
    /// The position of the shard's newest record now (where `LATEST` starts).
    fn latest(&self, arn: &str, shard: &str) -> Option<String>;
    /// The position just before the first record written at or after `ms`.
    fn at_time(&self, arn: &str, shard: &str, ms: i64) -> Option<String>;
    /// Notified whenever records are written to any stream of this source.
    fn woken(&self) -> Arc<tokio::sync::Notify>;
}

/// A shard of a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardInfo {
    /// Its id.
    pub id: String,
    /// The shard it was split or merged from.
    pub parent: Option<String>,
    /// The second shard it was merged from.
    pub adjacent_parent: Option<String>,
    /// Whether it takes no more records.
    pub closed: bool,
}

/// One record, as the function receives it (the mapping adds `eventSourceARN`).
#[derive(Debug, Clone, PartialEq)]
pub struct StreamRecord {
    /// Its sequence number: the position after it.
    pub sequence: String,
    /// When it was written (ms).
    pub at_ms: i64,
    /// The key that orders it (a partition key, or an item's key).
    pub partition_key: String,
    /// The record.
    pub event: Value,
}

/// A stream mapping's own settings.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamSettings {
    /// `StartingPosition`.
    pub starting_position: String,
    /// `StartingPositionTimestamp` (ms).
    pub starting_ms: Option<i64>,
    /// `ParallelizationFactor`.
    pub parallelization: u32,
    /// `BisectBatchOnFunctionError`.
    pub bisect: bool,
    /// `MaximumRetryAttempts` (-1: until the records expire).
    pub max_retries: i64,
    /// `MaximumRecordAgeInSeconds` (-1: never too old).
    pub max_age_s: i64,
    /// `DestinationConfig.OnFailure.Destination`.
    pub on_failure: Option<String>,
    /// `TumblingWindowInSeconds`.
    pub tumbling_s: u32,
}

impl StreamSettings {
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "starting_position": self.starting_position, "starting_ms": self.starting_ms,
            "parallelization": self.parallelization, "bisect": self.bisect, "max_retries": self.max_retries,
            "max_age_s": self.max_age_s, "on_failure": self.on_failure, "tumbling_s": self.tumbling_s,
        })
    }

    pub(crate) fn from_json(v: &Value) -> Option<StreamSettings> {
        Some(StreamSettings {
            starting_position: v["starting_position"].as_str()?.to_owned(),
            starting_ms: v["starting_ms"].as_i64(),
            parallelization: v["parallelization"].as_u64().unwrap_or(1) as u32,
            bisect: v["bisect"].as_bool().unwrap_or(false),
            max_retries: v["max_retries"].as_i64().unwrap_or(-1),
            max_age_s: v["max_age_s"].as_i64().unwrap_or(-1),
            on_failure: v["on_failure"].as_str().map(str::to_owned),
            tumbling_s: v["tumbling_s"].as_u64().unwrap_or(0) as u32,
        })
    }
}

/// The document kind checkpoints are kept as: `<uuid>/<shard>` → position.
const CHECKPOINT: &str = "esm-checkpoint";

/// Which service a stream ARN belongs to (`dynamodb`, `kinesis`).
pub(crate) fn stream_kind(arn: &str) -> Option<&'static str> {
    match arn.split(':').nth(2)? {
        "dynamodb" if arn.contains("/stream/") => Some("dynamodb"),
        "kinesis" => Some("kinesis"),
        _ => None,
    }
}

/// Whether a record passes a mapping's filters (none: every record does). Kinesis's
/// `data` and SQS's `body` are matched as JSON when they are JSON.
pub(crate) fn passes(filters: &[events::pattern::Pattern], record: &Value) -> bool {
    if filters.is_empty() {
        return true;
    }
    let mut shown = record.clone();
    if let Some(data) = record.pointer("/kinesis/data").and_then(Value::as_str) {
        use base64::Engine;
        let decoded = base64::engine::general_purpose::STANDARD.decode(data).ok();
        if let Some(j) = decoded.and_then(|b| serde_json::from_slice::<Value>(&b).ok()) {
            shown["data"] = j;
        }
    }
    if let Some(body) = record.get("body").and_then(Value::as_str) {
        if let Ok(j) = serde_json::from_str::<Value>(body) {
            shown["body"] = j;
        }
    }
    filters.iter().any(|f| f.matches_value(&shown))
}

fn iso(ms: i64, fraction: bool) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let base = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    if fraction {
        format!("{base}.{:03}Z", t.millisecond())
    } else {
        format!("{base}Z")
    }
}

/// A tumbling window being aggregated.
#[derive(Debug, Clone)]
struct Window {
    start_ms: i64,
    end_ms: i64,
    state: Value,
}

/// How a batch left the function.
enum Outcome {
    /// Done (every record, or every record before those the function named).
    Done,
    /// Failed from record `from` on (0: the whole batch), with this response context.
    Failed { from: usize, status: u16, error: Option<String> },
}

impl LambdaService {
    /// Registers the source of one kind of stream (`dynamodb`, `kinesis`).
    pub fn attach_stream_source(&self, kind: &'static str, source: Arc<dyn StreamSource>) {
        self.sources.streams.lock().insert(kind, source);
    }

    pub(crate) fn stream_source(&self, arn: &str) -> Option<Arc<dyn StreamSource>> {
        let kind = stream_kind(arn)?;
        self.sources.streams.lock().get(kind).cloned()
    }

    /// Starts a stream mapping's pollers: one per shard, a child shard's after its
    /// parent's has been read to its end.
    pub(crate) fn run_stream_pollers(&self, m: Mapping, rx: watch::Receiver<Mapping>) {
        let service = self.clone();
        tokio::spawn(async move {
            let Some(source) = service.stream_source(&m.source_arn) else { return };
            let mut started: Vec<String> = Vec::new();
            let done: Arc<model::sync::Mutex<Vec<String>>> = Arc::default();
            let mut rx = rx;
            // Shards there when the mapping starts begin at its starting position; shards
            // made later (resharding) are read from their start.
            let mut first_listing = true;
            loop {
                if rx.has_changed().is_err() {
                    return;
                }
                let shards = source.shards(&m.source_arn).unwrap_or_default();
                let ids: Vec<String> = shards.iter().map(|s| s.id.clone()).collect();
                for shard in shards {
                    if started.contains(&shard.id) {
                        continue;
                    }
                    // A child waits for its parent to be read to its end (or to age out).
                    let ready = [&shard.parent, &shard.adjacent_parent]
                        .into_iter()
                        .flatten()
                        .all(|p| done.lock().contains(p) || !ids.contains(p));
                    if !ready {
                        continue;
                    }
                    started.push(shard.id.clone());
                    let (svc, rx2, src, finished) = (service.clone(), rx.clone(), source.clone(), done.clone());
                    let initial = first_listing;
                    tokio::spawn(async move {
                        let id = shard.id.clone();
                        if svc.poll_shard(rx2, src, shard, initial).await {
                            finished.lock().push(id);
                        }
                    });
                }
                first_listing = false;
                // New shards (resharding) are looked for now and then.
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    changed = rx.changed() => if changed.is_err() { return; },
                }
            }
        });
    }

    fn checkpoint(&self, m: &Mapping, shard: &str) -> Option<Option<String>> {
        let key = format!("{}/{shard}", m.uuid);
        let docs = self.store.lambda_documents(CHECKPOINT).ok()?;
        docs.into_iter().find(|(k, _)| *k == key).map(|(_, v)| if v.is_empty() { None } else { Some(v) })
    }

    /// Drops a deleted mapping's checkpoints.
    pub(crate) fn forget_checkpoints(&self, uuid: &str) {
        let prefix = format!("{uuid}/");
        for (key, _) in self.store.lambda_documents(CHECKPOINT).unwrap_or_default() {
            if key.starts_with(&prefix) {
                if let Err(e) = self.store.delete_lambda_document(CHECKPOINT, &key) {
                    tracing::warn!(mapping = uuid, error = %e, "event source mapping: cannot drop a checkpoint");
                }
            }
        }
    }

    fn save_checkpoint(&self, m: &Mapping, shard: &str, at: Option<&str>) {
        let key = format!("{}/{shard}", m.uuid);
        if let Err(e) = self.store.put_lambda_document(CHECKPOINT, &key, at.unwrap_or("")) {
            tracing::warn!(mapping = %m.uuid, error = %e, "event source mapping: cannot keep a checkpoint");
        }
    }

    /// Reads one shard until the mapping goes (false) or the shard is closed and read to
    /// its end (true).
    async fn poll_shard(
        &self,
        mut rx: watch::Receiver<Mapping>,
        source: Arc<dyn StreamSource>,
        shard: ShardInfo,
        initial: bool,
    ) -> bool {
        let first = rx.borrow().clone();
        let Some(settings) = first.stream.clone() else { return false };
        let mut at = match self.checkpoint(&first, &shard.id) {
            Some(at) => at,
            None if !initial => None,
            None => {
                let at = match settings.starting_position.as_str() {
                    "LATEST" => source.latest(&first.source_arn, &shard.id),
                    "AT_TIMESTAMP" => source.at_time(&first.source_arn, &shard.id, settings.starting_ms.unwrap_or(0)),
                    _ => None,
                };
                self.save_checkpoint(&first, &shard.id, at.as_deref());
                at
            }
        };
        let woken = source.woken();
        // The tumbling window being aggregated, with its state.
        let mut window: Option<Window> = None;
        let mut caught_up = false;
        loop {
            let m = rx.borrow_and_update().clone();
            if rx.has_changed().is_err() {
                return false;
            }
            if !m.enabled {
                if rx.changed().await.is_err() {
                    return false;
                }
                continue;
            }
            let notified = woken.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            // Catching up, a read may be large: on the blocking pool. Caught up, it is one
            // index seek, done here (a read a second on the pool would keep its idle
            // threads from ever retiring).
            let read = if caught_up {
                Ok(source.read(&m.source_arn, &shard.id, at.as_deref(), m.batch_size as usize))
            } else {
                let (src, arn, id, after, limit) =
                    (source.clone(), m.source_arn.clone(), shard.id.clone(), at.clone(), m.batch_size as usize);
                tokio::task::spawn_blocking(move || src.read(&arn, &id, after.as_deref(), limit)).await
            };
            let mut records = match read {
                Ok(Ok(r)) => r,
                Ok(Err(e)) => {
                    tracing::warn!(mapping = %m.uuid, error = %e, "event source mapping: cannot read the stream");
                    Vec::new()
                }
                Err(_) => return false,
            };
            caught_up = records.is_empty();
            if records.is_empty() {
                let closed = shard.closed
                    || source.shards(&m.source_arn).is_some_and(|s| s.iter().any(|x| x.id == shard.id && x.closed));
                // A window whose time is up gets its final invocation.
                if let Some(w) = window.take() {
                    if crate::now_ms() >= w.end_ms || closed {
                        if !self.final_window(&m, &settings_of(&m), &shard.id, w, &mut rx).await {
                            return false;
                        }
                    } else {
                        window = Some(w);
                    }
                }
                if closed {
                    return true;
                }
                let wait = window.as_ref().map_or(Duration::from_secs(1), |w| {
                    Duration::from_millis((w.end_ms - crate::now_ms()).clamp(1, 1000) as u64)
                });
                tokio::select! {
                    _ = notified => {}
                    _ = tokio::time::sleep(wait) => {}
                    changed = rx.changed() => if changed.is_err() { return false; },
                }
                continue;
            }
            // A batching window: wait for a full batch, or for the window to end.
            if m.window_s > 0 && records.len() < m.batch_size as usize {
                let deadline = tokio::time::Instant::now() + Duration::from_secs(u64::from(m.window_s));
                while records.len() < m.batch_size as usize && tokio::time::Instant::now() < deadline {
                    let notified = woken.notified();
                    tokio::pin!(notified);
                    notified.as_mut().enable();
                    let (src, arn, id) = (source.clone(), m.source_arn.clone(), shard.id.clone());
                    let after = records.last().map(|r| r.sequence.clone());
                    let want = m.batch_size as usize - records.len();
                    let more = tokio::task::spawn_blocking(move || src.read(&arn, &id, after.as_deref(), want)).await;
                    match more {
                        Ok(Ok(more)) if !more.is_empty() => records.extend(more),
                        _ => {
                            tokio::select! {
                                _ = notified => {}
                                _ = tokio::time::sleep_until(deadline) => {}
                            }
                        }
                    }
                }
            }
            let last = records.last().map(|r| r.sequence.clone());
            let kept: Vec<StreamRecord> = records.into_iter().filter(|r| passes(&m.patterns(), &r.event)).collect();
            let s = settings_of(&m);
            if s.tumbling_s > 0 {
                if !self.deliver_windows(&m, &s, &shard.id, kept, &mut window, &mut rx).await {
                    return false;
                }
            } else if !kept.is_empty() && !self.deliver_batch(&m, &s, &shard.id, kept, &mut rx).await {
                return false;
            }
            at = last;
            self.save_checkpoint(&m, &shard.id, at.as_deref());
        }
    }

    /// Delivers records in their tumbling windows: each window's records with the state
    /// the last invocation returned, and a final invocation when a window ends; `false`
    /// if the mapping went meanwhile.
    async fn deliver_windows(
        &self,
        m: &Mapping,
        s: &StreamSettings,
        shard: &str,
        records: Vec<StreamRecord>,
        window: &mut Option<Window>,
        rx: &mut watch::Receiver<Mapping>,
    ) -> bool {
        let size = i64::from(s.tumbling_s) * 1000;
        let mut groups: Vec<(i64, Vec<StreamRecord>)> = Vec::new();
        for r in records {
            let start = r.at_ms - r.at_ms.rem_euclid(size);
            match groups.last_mut() {
                Some((s0, g)) if *s0 == start => g.push(r),
                _ => groups.push((start, vec![r])),
            }
        }
        for (start, batch) in groups {
            if let Some(w) = window.take_if(|w| w.start_ms != start) {
                if !self.final_window(m, s, shard, w, rx).await {
                    return false;
                }
            }
            let w = window.get_or_insert_with(|| Window { start_ms: start, end_ms: start + size, state: json!({}) });
            match self.invoke_window(m, s, shard, &batch, w, false, rx).await {
                Some(state) => w.state = state,
                None => return false,
            }
        }
        true
    }

    /// A window's last invocation: no records, its state, `isFinalInvokeForWindow`.
    async fn final_window(
        &self,
        m: &Mapping,
        s: &StreamSettings,
        shard: &str,
        w: Window,
        rx: &mut watch::Receiver<Mapping>,
    ) -> bool {
        let mut w = w;
        self.invoke_window(m, s, shard, &[], &mut w, true, rx).await.is_some()
    }

    /// One invocation within a window, retried as the mapping says; the state it returned
    /// (the window's, unchanged, if it was given up on), or `None` if the mapping went.
    #[allow(clippy::too_many_arguments)]
    async fn invoke_window(
        &self,
        m: &Mapping,
        s: &StreamSettings,
        shard: &str,
        batch: &[StreamRecord],
        w: &mut Window,
        last: bool,
        rx: &mut watch::Receiver<Mapping>,
    ) -> Option<Value> {
        let mut event = self.event_of(m, batch);
        event["window"] = json!({ "start": iso(w.start_ms, false), "end": iso(w.end_ms, false) });
        event["state"] = w.state.clone();
        event["shardId"] = json!(shard);
        event["eventSourceARN"] = json!(m.source_arn);
        event["isFinalInvokeForWindow"] = json!(last);
        event["isWindowTerminatedEarly"] = json!(false);
        let mut attempts = 0i64;
        loop {
            attempts += 1;
            let caller = Caller::new(&m.account, &m.region);
            let input = InvokeInput {
                request_id: uuid::Uuid::new_v4().to_string(),
                payload: event.to_string().into(),
                log_tail: false,
                client_context: None,
            };
            let (status, error) =
                match self.invoke(&caller, &m.function_arn, None, InvocationType::RequestResponse, input).await {
                    Ok(InvokeOutcome::Completed(r)) if r.function_error.is_none() => {
                        let state = serde_json::from_slice::<Value>(&r.payload)
                            .ok()
                            .and_then(|v| v.get("state").filter(|s| s.is_object()).cloned())
                            .unwrap_or_else(|| json!({}));
                        return Some(state);
                    }
                    Ok(InvokeOutcome::Completed(r)) => (200, r.function_error.map(str::to_owned)),
                    Ok(_) => return Some(w.state.clone()),
                    Err(_) => (500, None),
                };
            if s.max_retries >= 0 && attempts > s.max_retries {
                if !batch.is_empty() {
                    self.failed_batch(m, s, shard, batch, "RetryAttemptsExhausted", attempts, status, error).await;
                }
                return Some(w.state.clone());
            }
            let backoff = Duration::from_millis((100u64 << attempts.min(7)).min(10_000));
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                changed = rx.changed() => if changed.is_err() { return None; },
            }
        }
    }

    /// Delivers a batch in its lanes; `false` if the mapping went meanwhile.
    async fn deliver_batch(
        &self,
        m: &Mapping,
        s: &StreamSettings,
        shard: &str,
        records: Vec<StreamRecord>,
        rx: &mut watch::Receiver<Mapping>,
    ) -> bool {
        let lanes = s.parallelization.max(1) as usize;
        let mut by_lane: Vec<Vec<StreamRecord>> = vec![Vec::new(); lanes];
        for r in records {
            let h = r
                .partition_key
                .bytes()
                .fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
            by_lane[(h % lanes as u64) as usize].push(r);
        }
        let mut set = tokio::task::JoinSet::new();
        for lane in by_lane.into_iter().filter(|l| !l.is_empty()) {
            let (svc, m, s, shard, rx) = (self.clone(), m.clone(), s.clone(), shard.to_owned(), rx.clone());
            set.spawn(async move { svc.deliver_lane(&m, &s, &shard, lane, rx).await });
        }
        let mut alive = true;
        while let Some(r) = set.join_next().await {
            alive &= r.unwrap_or(false);
        }
        alive
    }

    /// One lane's records, retried and bisected as the mapping says; `false` if the
    /// mapping went meanwhile.
    async fn deliver_lane(
        &self,
        m: &Mapping,
        s: &StreamSettings,
        shard: &str,
        records: Vec<StreamRecord>,
        mut rx: watch::Receiver<Mapping>,
    ) -> bool {
        let mut pending: VecDeque<(Vec<StreamRecord>, i64)> = VecDeque::from([(records, 0)]);
        while let Some((mut batch, mut attempts)) = pending.pop_front() {
            loop {
                if s.max_age_s >= 0 {
                    let oldest_allowed = crate::now_ms() - s.max_age_s * 1000;
                    let (old, young): (Vec<_>, Vec<_>) = batch.into_iter().partition(|r| r.at_ms < oldest_allowed);
                    if !old.is_empty() {
                        self.failed_batch(m, s, shard, &old, "RecordAgeExceeded", attempts, 200, None).await;
                    }
                    batch = young;
                }
                if batch.is_empty() {
                    break;
                }
                let outcome = self.invoke_batch(m, &batch).await;
                attempts += 1;
                let (from, status, error) = match outcome {
                    Outcome::Done => break,
                    Outcome::Failed { from, status, error } => (from, status, error),
                };
                if from > 0 {
                    // Checkpointed before the first failure: the rest is retried.
                    batch.drain(..from);
                }
                if s.bisect && batch.len() > 1 {
                    let second = batch.split_off(batch.len() / 2);
                    pending.push_front((second, attempts));
                    pending.push_front((batch, attempts));
                    break;
                }
                if s.max_retries >= 0 && attempts > s.max_retries {
                    self.failed_batch(m, s, shard, &batch, "RetryAttemptsExhausted", attempts, status, error).await;
                    break;
                }
                let backoff = Duration::from_millis((100u64 << attempts.min(7)).min(10_000));
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    changed = rx.changed() => if changed.is_err() { return false; },
                }
            }
        }
        true
    }

    /// The event a batch is invoked with.
    fn event_of(&self, m: &Mapping, batch: &[StreamRecord]) -> Value {
        let kinesis = stream_kind(&m.source_arn) == Some("kinesis");
        let role = if kinesis {
            let caller = Caller::new(&m.account, &m.region);
            self.resolve_version(&caller, &m.function_arn, None).ok().map(|(f, _)| f.config.role.clone())
        } else {
            None
        };
        let records: Vec<Value> = batch
            .iter()
            .map(|r| {
                let mut e = r.event.clone();
                e["eventSourceARN"] = json!(m.source_arn);
                if let Some(role) = &role {
                    e["invokeIdentityArn"] = json!(role);
                }
                e
            })
            .collect();
        json!({ "Records": records })
    }

    async fn invoke_batch(&self, m: &Mapping, batch: &[StreamRecord]) -> Outcome {
        let event = self.event_of(m, batch);
        let caller = Caller::new(&m.account, &m.region);
        let input = InvokeInput {
            request_id: uuid::Uuid::new_v4().to_string(),
            payload: event.to_string().into(),
            log_tail: false,
            client_context: None,
        };
        match self.invoke(&caller, &m.function_arn, None, InvocationType::RequestResponse, input).await {
            Ok(InvokeOutcome::Completed(r)) if r.function_error.is_none() => {
                if !m.report_failures {
                    return Outcome::Done;
                }
                match reported(&r.payload, batch) {
                    Some(None) => Outcome::Done,
                    Some(Some(i)) => Outcome::Failed { from: i, status: 200, error: None },
                    None => Outcome::Failed { from: 0, status: 200, error: None },
                }
            }
            Ok(InvokeOutcome::Completed(r)) => {
                Outcome::Failed { from: 0, status: 200, error: r.function_error.map(str::to_owned) }
            }
            Ok(_) => Outcome::Done,
            Err(_) => Outcome::Failed { from: 0, status: 500, error: None },
        }
    }

    /// Sends AWS's record of a batch given up on to the mapping's `OnFailure` destination.
    #[allow(clippy::too_many_arguments)]
    async fn failed_batch(
        &self,
        m: &Mapping,
        s: &StreamSettings,
        shard: &str,
        batch: &[StreamRecord],
        condition: &str,
        attempts: i64,
        status: u16,
        error: Option<String>,
    ) {
        tracing::warn!(mapping = %m.uuid, shard, condition, records = batch.len(), "event source mapping: a batch is skipped");
        let Some(dest) = &s.on_failure else { return };
        let (Some(first), Some(last)) = (batch.first(), batch.last()) else { return };
        let now_ms = crate::now_ms();
        let kinesis = stream_kind(&m.source_arn) == Some("kinesis");
        let info_key = if kinesis { "KinesisBatchInfo" } else { "DDBStreamBatchInfo" };
        // `functionError` is there, null, when the function answered but named failures.
        let response = json!({ "statusCode": status, "executedVersion": "$LATEST", "functionError": error });
        let record = json!({
            "requestContext": {
                "requestId": uuid::Uuid::new_v4().to_string(),
                "functionArn": m.function_arn,
                "condition": condition,
                "approximateInvokeCount": attempts,
            },
            "responseContext": response,
            "version": "1.0",
            "timestamp": iso(now_ms, true),
            info_key: {
                "shardId": shard,
                "startSequenceNumber": first.sequence,
                "endSequenceNumber": last.sequence,
                // Kinesis's arrival times carry milliseconds; DynamoDB's whole seconds.
                "approximateArrivalOfFirstRecord": iso(first.at_ms, kinesis),
                "approximateArrivalOfLastRecord": iso(last.at_ms, kinesis),
                "batchSize": batch.len(),
                "streamArn": m.source_arn,
            },
        });
        if crate::destinations::arn_service(dest) == Some("s3") {
            // S3 keeps the batch itself too, under a key of the mapping, shard and time.
            let mut record = record;
            record["payload"] = self.event_of(m, batch);
            let bucket = dest.rsplit(':').next().unwrap_or_default();
            let now = iso(now_ms, false);
            let (day, time) = now.split_once('T').unwrap_or((&now, ""));
            let time = time.trim_end_matches('Z').replace(':', ".");
            let key = format!(
                "aws/lambda/{}/{shard}/{}/{day}T{time}-{}",
                m.uuid,
                day.replace('-', "/"),
                uuid::Uuid::new_v4()
            );
            let written = match self.objects.get() {
                Some(o) => {
                    o.write(&Caller::new(&m.account, &m.region), bucket, &key, record.to_string().into_bytes()).await
                }
                None => Err("S3 is not attached".into()),
            };
            if let Err(e) = written {
                tracing::warn!(mapping = %m.uuid, error = %e, "event source mapping: cannot write a failure record to S3");
            }
            return;
        }
        let message = crate::Message { body: record.to_string(), attributes: Vec::new() };
        if let Err(e) = self.queue.destinations().send(dest, &m.account, message).await {
            tracing::warn!(mapping = %m.uuid, error = %e, "event source mapping: cannot deliver a failure record");
        }
    }
}

fn settings_of(m: &Mapping) -> StreamSettings {
    m.stream.clone().unwrap_or(StreamSettings {
        starting_position: "TRIM_HORIZON".into(),
        starting_ms: None,
        parallelization: 1,
        bisect: false,
        max_retries: -1,
        max_age_s: -1,
        on_failure: None,
        tumbling_s: 0,
    })
}

/// The index of the first record the function reported failed: `Some(None)` if none,
/// `None` if the answer does not name records of the batch (the whole batch failed).
fn reported(payload: &[u8], batch: &[StreamRecord]) -> Option<Option<usize>> {
    let Ok(v) = serde_json::from_slice::<Value>(payload) else { return Some(None) };
    let items = match v.get("batchItemFailures") {
        None | Some(Value::Null) => return Some(None),
        Some(items) => items.as_array()?,
    };
    let mut first: Option<usize> = None;
    for item in items {
        let id = item.get("itemIdentifier").and_then(Value::as_str)?;
        let i = batch.iter().position(|r| r.sequence == id)?;
        first = Some(first.map_or(i, |f: usize| f.min(i)));
    }
    Some(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(seq: &str) -> StreamRecord {
        StreamRecord { sequence: seq.into(), at_ms: 0, partition_key: "k".into(), event: json!({}) }
    }

    #[test]
    fn reported_failures_name_the_first_record_to_retry() {
        let batch = [rec("1"), rec("2"), rec("3")];
        assert_eq!(reported(br#"{"batchItemFailures": []}"#, &batch), Some(None));
        assert_eq!(
            reported(br#"{"batchItemFailures": [{"itemIdentifier": "3"}, {"itemIdentifier": "2"}]}"#, &batch),
            Some(Some(1))
        );
        assert_eq!(reported(br#"{"batchItemFailures": [{"itemIdentifier": "9"}]}"#, &batch), None);
        assert_eq!(reported(b"null", &batch), Some(None));
    }

    #[test]
    fn filters_see_kinesis_data_as_json() {
        use base64::Engine;
        let data = base64::engine::general_purpose::STANDARD.encode(br#"{"kind": "a"}"#);
        let record = json!({ "kinesis": { "data": data } });
        let p = events::pattern::Pattern::parse(r#"{"data": {"kind": ["a"]}}"#).unwrap();
        assert!(passes(&[p], &record));
        let q = events::pattern::Pattern::parse(r#"{"data": {"kind": ["b"]}}"#).unwrap();
        assert!(!passes(&[q], &record));
    }
}
