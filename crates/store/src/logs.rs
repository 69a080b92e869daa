//! Durable CloudWatch Logs state: log groups, their streams and their events, in a SQLite
//! file of their own (`logs.db`), so that a busy function's output never queues behind
//! the async events and messages in `state.db`.
//!
//! Events are clustered by stream and time (one B-tree, no secondary index, so that a
//! line costs one insert): a stream reads in order directly, and a group's events are
//! merged across its streams in time order as they are read.

use model::sync::Mutex;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::StoreError;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS log_groups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    retention_days INTEGER,
    kms_key TEXT,
    class TEXT NOT NULL,
    tags TEXT NOT NULL,
    stored_bytes INTEGER NOT NULL DEFAULT 0,
    UNIQUE (account, region, name)
);
CREATE TABLE IF NOT EXISTS log_streams (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    first_event_ms INTEGER,
    last_event_ms INTEGER,
    last_ingestion_ms INTEGER,
    stored_bytes INTEGER NOT NULL DEFAULT 0,
    UNIQUE (group_id, name)
);
CREATE TABLE IF NOT EXISTS stream_events (
    stream_id INTEGER NOT NULL,
    ts_ms INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    ingest_ms INTEGER NOT NULL,
    message TEXT NOT NULL,
    PRIMARY KEY (stream_id, ts_ms, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS subscription_filters (
    group_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (group_id, name)
);
";

/// A log group as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogGroupRecord {
    /// Its row id, which its streams and events refer to.
    pub id: i64,
    /// The owning account.
    pub account: String,
    /// The region.
    pub region: String,
    /// `logGroupName`.
    pub name: String,
    /// `creationTime`, ms since the epoch.
    pub created_ms: i64,
    /// `retentionInDays`; none keeps events forever.
    pub retention_days: Option<i64>,
    /// `kmsKeyId`.
    pub kms_key: Option<String>,
    /// `logGroupClass`.
    pub class: String,
    /// Its tags, a JSON object of strings.
    pub tags: String,
    /// The bytes of its events' messages.
    pub stored_bytes: i64,
}

/// A log stream as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogStreamRecord {
    /// Its row id.
    pub id: i64,
    /// `logStreamName`.
    pub name: String,
    /// `creationTime`.
    pub created_ms: i64,
    /// `firstEventTimestamp`.
    pub first_event_ms: Option<i64>,
    /// `lastEventTimestamp`.
    pub last_event_ms: Option<i64>,
    /// `lastIngestionTime`.
    pub last_ingestion_ms: Option<i64>,
    /// The bytes of its events' messages.
    pub stored_bytes: i64,
}

/// A stored event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLogEvent {
    /// Its sequence number: unique, increasing in the order events were stored; with the
    /// timestamp, its position (`(timestamp_ms, seq)` orders events).
    pub seq: i64,
    /// The stream's name.
    pub stream: String,
    /// `timestamp`, ms.
    pub timestamp_ms: i64,
    /// `ingestionTime`, ms.
    pub ingestion_ms: i64,
    /// `message`.
    pub message: String,
}

/// Events for one stream, appended together.
#[derive(Debug, Clone)]
pub struct LogAppend {
    /// The account.
    pub account: String,
    /// The region.
    pub region: String,
    /// The group's name.
    pub group: String,
    /// The stream's name.
    pub stream: String,
    /// `(timestamp ms, message)`, in order.
    pub events: Vec<(i64, String)>,
    /// When they arrived, ms.
    pub ingestion_ms: i64,
    /// Whether a missing group or stream is created (Lambda's own output) rather than the
    /// events dropped (the caller checked that both exist).
    pub create: bool,
}

/// Which events a read wants.
#[derive(Debug, Clone, Default)]
pub struct EventRange {
    /// Events at or after this timestamp.
    pub start_ms: i64,
    /// Events at or before this timestamp.
    pub end_ms: i64,
    /// Only these streams (row ids); none means every stream of the group.
    pub streams: Option<Vec<i64>>,
}

/// Where the log groups, streams and events are kept.
pub struct LogStore {
    conn: Mutex<Db>,
}

struct Db {
    conn: Connection,
    /// The next event's sequence number.
    next_seq: i64,
}

fn group_row(r: &Row<'_>) -> rusqlite::Result<LogGroupRecord> {
    Ok(LogGroupRecord {
        id: r.get(0)?,
        account: r.get(1)?,
        region: r.get(2)?,
        name: r.get(3)?,
        created_ms: r.get(4)?,
        retention_days: r.get(5)?,
        kms_key: r.get(6)?,
        class: r.get(7)?,
        tags: r.get(8)?,
        stored_bytes: r.get(9)?,
    })
}

const GROUP_COLUMNS: &str = "id, account, region, name, created_ms, retention_days, kms_key, class, tags, stored_bytes";

fn stream_row(r: &Row<'_>) -> rusqlite::Result<LogStreamRecord> {
    Ok(LogStreamRecord {
        id: r.get(0)?,
        name: r.get(1)?,
        created_ms: r.get(2)?,
        first_event_ms: r.get(3)?,
        last_event_ms: r.get(4)?,
        last_ingestion_ms: r.get(5)?,
        stored_bytes: r.get(6)?,
    })
}

const STREAM_COLUMNS: &str = "id, name, created_ms, first_event_ms, last_event_ms, last_ingestion_ms, stored_bytes";

fn event_row(r: &Row<'_>) -> rusqlite::Result<StoredLogEvent> {
    Ok(StoredLogEvent {
        seq: r.get(0)?,
        stream: r.get(1)?,
        timestamp_ms: r.get(2)?,
        ingestion_ms: r.get(3)?,
        message: r.get(4)?,
    })
}

/// A stream's next events after a position, in order, within a range; at most `limit`.
fn events_after(
    c: &Connection,
    stream: &LogStreamRecord,
    range: &EventRange,
    after: (i64, i64),
    limit: usize,
) -> rusqlite::Result<Vec<StoredLogEvent>> {
    let mut stmt = c.prepare_cached(
        "SELECT seq, ?2, ts_ms, ingest_ms, message FROM stream_events
         WHERE stream_id = ?1 AND ts_ms >= ?3 AND ts_ms <= ?4 AND (ts_ms > ?5 OR (ts_ms = ?5 AND seq > ?6))
         ORDER BY ts_ms, seq LIMIT ?7",
    )?;
    let rows = stmt.query_map(
        params![stream.id, stream.name, range.start_ms, range.end_ms, after.0, after.1, limit as i64],
        event_row,
    )?;
    rows.collect()
}

impl LogStore {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // Commits reach the OS at once and survive the process's death; only the
        // machine's crash can lose the last ones. Logs do not wait on the disk.
        conn.pragma_update(None, "synchronous", "OFF")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA)?;
        let last: Option<i64> = conn.query_row("SELECT max(seq) FROM stream_events", [], |r| r.get(0))?;
        Ok(LogStore { conn: Mutex::new(Db { conn, next_seq: last.unwrap_or(0) + 1 }) })
    }

    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>) -> Result<T, StoreError> {
        let mut db = self.conn.lock();
        Ok(f(&mut db.conn)?)
    }

    /// Creates a group; `false` if one of that name exists.
    pub fn create_group(&self, g: &LogGroupRecord) -> Result<bool, StoreError> {
        self.with(|c| {
            let n = c.execute(
                "INSERT OR IGNORE INTO log_groups (account, region, name, created_ms, retention_days, kms_key, class, tags)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![g.account, g.region, g.name, g.created_ms, g.retention_days, g.kms_key, g.class, g.tags],
            )?;
            Ok(n == 1)
        })
    }

    /// A group by name.
    pub fn group(&self, account: &str, region: &str, name: &str) -> Result<Option<LogGroupRecord>, StoreError> {
        self.with(|c| {
            c.query_row(
                &format!("SELECT {GROUP_COLUMNS} FROM log_groups WHERE account = ?1 AND region = ?2 AND name = ?3"),
                params![account, region, name],
                group_row,
            )
            .optional()
        })
    }

    /// Groups in name order: those after `after` whose names start with `prefix`.
    pub fn groups(
        &self,
        account: &str,
        region: &str,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<LogGroupRecord>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {GROUP_COLUMNS} FROM log_groups WHERE account = ?1 AND region = ?2
                 AND substr(name, 1, length(?3)) = ?3 AND name > ?4 ORDER BY name LIMIT ?5"
            ))?;
            let rows =
                stmt.query_map(params![account, region, prefix, after.unwrap_or(""), limit as i64], group_row)?;
            rows.collect()
        })
    }

    /// Every group with a retention period, for the sweeper.
    pub fn groups_with_retention(&self) -> Result<Vec<LogGroupRecord>, StoreError> {
        self.with(|c| {
            let mut stmt =
                c.prepare(&format!("SELECT {GROUP_COLUMNS} FROM log_groups WHERE retention_days IS NOT NULL"))?;
            let rows = stmt.query_map([], group_row)?;
            rows.collect()
        })
    }

    /// Sets a group's retention and tags.
    pub fn update_group(&self, g: &LogGroupRecord) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE log_groups SET retention_days = ?2, tags = ?3 WHERE id = ?1",
                params![g.id, g.retention_days, g.tags],
            )
            .map(drop)
        })
    }

    /// Deletes a group with its streams and events; `false` if there was none.
    pub fn delete_group(&self, id: i64) -> Result<bool, StoreError> {
        self.with(|c| {
            let tx = c.transaction()?;
            tx.execute(
                "DELETE FROM stream_events WHERE stream_id IN (SELECT id FROM log_streams WHERE group_id = ?1)",
                params![id],
            )?;
            tx.execute("DELETE FROM log_streams WHERE group_id = ?1", params![id])?;
            tx.execute("DELETE FROM subscription_filters WHERE group_id = ?1", params![id])?;
            let n = tx.execute("DELETE FROM log_groups WHERE id = ?1", params![id])?;
            tx.commit()?;
            Ok(n == 1)
        })
    }

    /// Creates or replaces a group's subscription filter (its document is the `logs`
    /// crate's).
    pub fn put_subscription(&self, group_id: i64, name: &str, doc: &str) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "REPLACE INTO subscription_filters (group_id, name, doc) VALUES (?1, ?2, ?3)",
                params![group_id, name, doc],
            )
            .map(drop)
        })
    }

    /// Deletes a subscription filter; `false` if there was none.
    pub fn delete_subscription(&self, group_id: i64, name: &str) -> Result<bool, StoreError> {
        self.with(|c| {
            c.execute("DELETE FROM subscription_filters WHERE group_id = ?1 AND name = ?2", params![group_id, name])
                .map(|n| n == 1)
        })
    }

    /// Every subscription filter: (its group, its document), by group and name.
    pub fn subscriptions(&self) -> Result<Vec<(LogGroupRecord, String)>, StoreError> {
        self.with(|c| {
            let columns = GROUP_COLUMNS.split(", ").map(|col| format!("g.{col}")).collect::<Vec<_>>().join(", ");
            let mut stmt = c.prepare(&format!(
                "SELECT {columns}, f.doc FROM subscription_filters f JOIN log_groups g ON g.id = f.group_id \
                 ORDER BY g.id, f.name"
            ))?;
            let rows = stmt.query_map([], |r| Ok((group_row(r)?, r.get(10)?)))?;
            rows.collect()
        })
    }

    /// Creates a stream; `false` if one of that name exists.
    pub fn create_stream(&self, group_id: i64, name: &str, now_ms: i64) -> Result<bool, StoreError> {
        self.with(|c| {
            let n = c.execute(
                "INSERT OR IGNORE INTO log_streams (group_id, name, created_ms) VALUES (?1, ?2, ?3)",
                params![group_id, name, now_ms],
            )?;
            Ok(n == 1)
        })
    }

    /// A stream by name.
    pub fn stream(&self, group_id: i64, name: &str) -> Result<Option<LogStreamRecord>, StoreError> {
        self.with(|c| {
            c.query_row(
                &format!("SELECT {STREAM_COLUMNS} FROM log_streams WHERE group_id = ?1 AND name = ?2"),
                params![group_id, name],
                stream_row,
            )
            .optional()
        })
    }

    /// Every stream of a group, in name order.
    pub fn streams(&self, group_id: i64) -> Result<Vec<LogStreamRecord>, StoreError> {
        self.with(|c| {
            let mut stmt =
                c.prepare(&format!("SELECT {STREAM_COLUMNS} FROM log_streams WHERE group_id = ?1 ORDER BY name"))?;
            let rows = stmt.query_map(params![group_id], stream_row)?;
            rows.collect()
        })
    }

    /// Deletes a stream and its events; `false` if there was none.
    pub fn delete_stream(&self, group_id: i64, stream_id: i64) -> Result<bool, StoreError> {
        self.with(|c| {
            let tx = c.transaction()?;
            tx.execute("DELETE FROM stream_events WHERE stream_id = ?1", params![stream_id])?;
            let bytes: Option<i64> = tx
                .query_row("SELECT stored_bytes FROM log_streams WHERE id = ?1", params![stream_id], |r| r.get(0))
                .optional()?;
            let n = tx.execute("DELETE FROM log_streams WHERE id = ?1", params![stream_id])?;
            tx.execute(
                "UPDATE log_groups SET stored_bytes = max(0, stored_bytes - ?2) WHERE id = ?1",
                params![group_id, bytes.unwrap_or(0)],
            )?;
            tx.commit()?;
            Ok(n == 1)
        })
    }

    /// Appends batches of events in one transaction. A batch whose group or stream is
    /// missing, and that may not create them, is skipped (it was deleted meanwhile).
    pub fn append(&self, batches: &[LogAppend]) -> Result<(), StoreError> {
        let mut db = self.conn.lock();
        let Db { conn, next_seq } = &mut *db;
        let mut seq = *next_seq;
        let written = (|| {
            let tx = conn.transaction()?;
            for b in batches {
                if b.events.is_empty() {
                    continue;
                }
                if b.create {
                    tx.execute(
                        "INSERT OR IGNORE INTO log_groups (account, region, name, created_ms, class, tags)
                         VALUES (?1, ?2, ?3, ?4, 'STANDARD', '{}')",
                        params![b.account, b.region, b.group, b.ingestion_ms],
                    )?;
                }
                let group: Option<i64> = tx
                    .query_row(
                        "SELECT id FROM log_groups WHERE account = ?1 AND region = ?2 AND name = ?3",
                        params![b.account, b.region, b.group],
                        |r| r.get(0),
                    )
                    .optional()?;
                let Some(group) = group else { continue };
                if b.create {
                    tx.execute(
                        "INSERT OR IGNORE INTO log_streams (group_id, name, created_ms) VALUES (?1, ?2, ?3)",
                        params![group, b.stream, b.ingestion_ms],
                    )?;
                }
                let stream: Option<i64> = tx
                    .query_row(
                        "SELECT id FROM log_streams WHERE group_id = ?1 AND name = ?2",
                        params![group, b.stream],
                        |r| r.get(0),
                    )
                    .optional()?;
                let Some(stream) = stream else { continue };
                let mut bytes = 0i64;
                {
                    let mut insert = tx.prepare_cached(
                        "INSERT INTO stream_events (stream_id, ts_ms, seq, ingest_ms, message)
                         VALUES (?1, ?2, ?3, ?4, ?5)",
                    )?;
                    for (ts, message) in &b.events {
                        insert.execute(params![stream, ts, seq, b.ingestion_ms, message])?;
                        seq += 1;
                        bytes += message.len() as i64;
                    }
                }
                let first = b.events.iter().map(|e| e.0).min();
                let last = b.events.iter().map(|e| e.0).max();
                tx.execute(
                    "UPDATE log_streams SET
                        first_event_ms = min(coalesce(first_event_ms, ?2), ?2),
                        last_event_ms = max(coalesce(last_event_ms, ?3), ?3),
                        last_ingestion_ms = ?4,
                        stored_bytes = stored_bytes + ?5
                     WHERE id = ?1",
                    params![stream, first, last, b.ingestion_ms, bytes],
                )?;
                tx.execute(
                    "UPDATE log_groups SET stored_bytes = stored_bytes + ?2 WHERE id = ?1",
                    params![group, bytes],
                )?;
            }
            tx.commit()
        })();
        // Numbers a failed transaction took are skipped, never reused.
        *next_seq = seq;
        Ok(written?)
    }

    /// A stream's events in time order: those after `After` ascending, or those before
    /// `Before` descending, at most `limit`, within `[start_ms, end_ms]`.
    pub fn stream_events(
        &self,
        stream: &LogStreamRecord,
        start_ms: i64,
        end_ms: i64,
        from: StreamCursor,
        limit: usize,
    ) -> Result<Vec<StoredLogEvent>, StoreError> {
        let range = EventRange { start_ms, end_ms, streams: None };
        match from {
            StreamCursor::After(at) => self.with(|c| events_after(c, stream, &range, at, limit)),
            StreamCursor::Before((ts, seq)) => self.with(|c| {
                let mut stmt = c.prepare_cached(
                    "SELECT seq, ?2, ts_ms, ingest_ms, message FROM stream_events
                     WHERE stream_id = ?1 AND ts_ms >= ?3 AND ts_ms <= ?4 AND (ts_ms < ?5 OR (ts_ms = ?5 AND seq < ?6))
                     ORDER BY ts_ms DESC, seq DESC LIMIT ?7",
                )?;
                let rows = stmt
                    .query_map(params![stream.id, stream.name, start_ms, end_ms, ts, seq, limit as i64], event_row)?;
                rows.collect()
            }),
        }
    }

    /// A group's events in time order (ties in the order stored), those after the
    /// position `(timestamp, seq)`, at most `limit`: each stream's, merged.
    pub fn group_events(
        &self,
        group_id: i64,
        range: &EventRange,
        after: (i64, i64),
        limit: usize,
    ) -> Result<Vec<StoredLogEvent>, StoreError> {
        let streams: Vec<LogStreamRecord> = self
            .streams(group_id)?
            .into_iter()
            .filter(|s| range.streams.as_ref().is_none_or(|ids| ids.contains(&s.id)))
            // A stream whose events all lie before the position, or outside the range,
            // has nothing to give.
            .filter(|s| s.last_event_ms.is_some_and(|last| last >= after.0.max(range.start_ms)))
            .filter(|s| s.first_event_ms.is_some_and(|first| first <= range.end_ms))
            .collect();
        const CHUNK: usize = 64;
        self.with(|c| {
            let mut pending: Vec<VecDeque<StoredLogEvent>> = Vec::with_capacity(streams.len());
            let mut heap = BinaryHeap::new();
            for (i, s) in streams.iter().enumerate() {
                let first: VecDeque<_> = events_after(c, s, range, after, CHUNK)?.into();
                if let Some(e) = first.front() {
                    heap.push(Reverse((e.timestamp_ms, e.seq, i)));
                }
                pending.push(first);
            }
            let mut out = Vec::with_capacity(limit.min(1024));
            while out.len() < limit {
                let Some(Reverse((_, _, i))) = heap.pop() else { break };
                let Some(e) = pending[i].pop_front() else { break };
                if pending[i].is_empty() {
                    pending[i] = events_after(c, &streams[i], range, (e.timestamp_ms, e.seq), CHUNK)?.into();
                }
                if let Some(next) = pending[i].front() {
                    heap.push(Reverse((next.timestamp_ms, next.seq, i)));
                }
                out.push(e);
            }
            Ok(out)
        })
    }

    /// Deletes a group's events older than `before_ms`; how many went.
    pub fn expire(&self, group_id: i64, before_ms: i64) -> Result<usize, StoreError> {
        self.with(|c| {
            let tx = c.transaction()?;
            let n = tx.execute(
                "DELETE FROM stream_events WHERE stream_id IN (SELECT id FROM log_streams WHERE group_id = ?1)
                 AND ts_ms < ?2",
                params![group_id, before_ms],
            )?;
            if n > 0 {
                tx.execute(
                    "UPDATE log_streams SET stored_bytes = (SELECT coalesce(sum(length(CAST(message AS BLOB))), 0)
                     FROM stream_events WHERE stream_id = log_streams.id),
                     first_event_ms = (SELECT min(ts_ms) FROM stream_events WHERE stream_id = log_streams.id)
                     WHERE group_id = ?1",
                    params![group_id],
                )?;
                tx.execute(
                    "UPDATE log_groups SET stored_bytes = (SELECT coalesce(sum(stored_bytes), 0) FROM log_streams
                     WHERE group_id = ?1) WHERE id = ?1",
                    params![group_id],
                )?;
            }
            tx.commit()?;
            Ok(n)
        })
    }
}

/// Where a stream read starts: a position `(timestamp ms, seq)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamCursor {
    /// Events after this position, oldest first.
    After((i64, i64)),
    /// Events before this position, newest first.
    Before((i64, i64)),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (LogStore, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("lamina-logs-test-{}-{}", std::process::id(), uuid_like()));
        std::fs::create_dir_all(&dir).unwrap();
        (LogStore::open(&dir.join("logs.db")).unwrap(), dir)
    }

    fn uuid_like() -> u128 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
    }

    fn append(group: &str, stream: &str, events: &[(i64, &str)]) -> LogAppend {
        LogAppend {
            account: "1".into(),
            region: "r".into(),
            group: group.into(),
            stream: stream.into(),
            events: events.iter().map(|(t, m)| (*t, m.to_string())).collect(),
            ingestion_ms: 100,
            create: true,
        }
    }

    #[test]
    fn appended_events_read_back_in_time_order_and_survive_reopening() {
        let (s, dir) = store();
        s.append(&[append("/g", "b", &[(20, "late")]), append("/g", "a", &[(10, "early"), (20, "tie")])]).unwrap();
        drop(s);
        let s = LogStore::open(&dir.join("logs.db")).unwrap();
        let g = s.group("1", "r", "/g").unwrap().unwrap();
        assert_eq!(g.stored_bytes, 12);
        let range = EventRange { start_ms: 0, end_ms: i64::MAX, streams: None };
        let all: Vec<String> =
            s.group_events(g.id, &range, (i64::MIN, 0), 10).unwrap().into_iter().map(|e| e.message).collect();
        assert_eq!(all, ["early", "late", "tie"]);
        let a = s.stream(g.id, "a").unwrap().unwrap();
        assert_eq!((a.first_event_ms, a.last_event_ms), (Some(10), Some(20)));
        let only_a = EventRange { streams: Some(vec![a.id]), ..range };
        assert_eq!(s.group_events(g.id, &only_a, (i64::MIN, 0), 10).unwrap().len(), 2);
        let newest = s.stream_events(&a, 0, i64::MAX, StreamCursor::Before((i64::MAX, i64::MAX)), 1).unwrap();
        assert_eq!(newest[0].message, "tie");
    }

    #[test]
    fn expiry_drops_old_events_and_recounts_bytes() {
        let (s, _dir) = store();
        s.append(&[append("/g", "a", &[(10, "old"), (50, "new!")])]).unwrap();
        let g = s.group("1", "r", "/g").unwrap().unwrap();
        assert_eq!(s.expire(g.id, 20).unwrap(), 1);
        assert_eq!(s.group("1", "r", "/g").unwrap().unwrap().stored_bytes, 4);
        assert_eq!(s.stream(g.id, "a").unwrap().unwrap().first_event_ms, Some(50));
    }

    #[test]
    fn deleting_a_group_takes_its_streams_and_events() {
        let (s, _dir) = store();
        s.append(&[append("/g", "a", &[(10, "x")])]).unwrap();
        let g = s.group("1", "r", "/g").unwrap().unwrap();
        assert!(s.delete_group(g.id).unwrap());
        assert!(s.group("1", "r", "/g").unwrap().is_none());
        let mut without_create = append("/g", "a", &[(10, "x")]);
        without_create.create = false;
        s.append(&[without_create]).unwrap();
        assert!(s.group("1", "r", "/g").unwrap().is_none(), "a batch for a deleted group is dropped");
    }
}
