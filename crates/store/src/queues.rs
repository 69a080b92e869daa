//! Durable SQS state: queues, their messages, and FIFO deduplication records.

use rusqlite::{params, OptionalExtension, Row};

use crate::{SqliteStore, StoreError};

/// The tables, created with the rest of the schema.
pub(crate) const QUEUE_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS queues (
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    attributes TEXT NOT NULL,
    tags TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    modified_ms INTEGER NOT NULL,
    PRIMARY KEY (account, region, name)
);
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL,
    id TEXT NOT NULL,
    body TEXT NOT NULL,
    attributes TEXT NOT NULL,
    system TEXT NOT NULL,
    sent_ms INTEGER NOT NULL,
    visible_ms INTEGER NOT NULL,
    receive_count INTEGER NOT NULL,
    first_receive_ms INTEGER NOT NULL,
    receipt TEXT,
    group_id TEXT,
    dedup_id TEXT
);
CREATE INDEX IF NOT EXISTS messages_visible ON messages (queue, visible_ms, seq);
DROP INDEX IF EXISTS messages_receipt;
CREATE INDEX IF NOT EXISTS messages_id ON messages (queue, id);
CREATE TABLE IF NOT EXISTS dedup (
    queue TEXT NOT NULL,
    dedup_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL,
    PRIMARY KEY (queue, dedup_id)
);
";

/// A queue as stored: its settable attributes and tags as JSON objects of strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueRecord {
    /// The owning account.
    pub account: String,
    /// The region.
    pub region: String,
    /// The queue's name.
    pub name: String,
    /// The attributes set on it, JSON.
    pub attributes: String,
    /// Its tags, JSON.
    pub tags: String,
    /// Milliseconds since the epoch it was created.
    pub created_ms: i64,
    /// Milliseconds since the epoch its attributes last changed.
    pub modified_ms: i64,
}

impl QueueRecord {
    /// The key its messages are stored under.
    pub fn key(&self) -> String {
        format!("{}/{}/{}", self.account, self.region, self.name)
    }
}

/// A message as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    /// The position in the queue (and, for FIFO queues, the sequence number).
    pub seq: i64,
    /// `MessageId`.
    pub id: String,
    /// The body.
    pub body: String,
    /// The message attributes, JSON.
    pub attributes: String,
    /// The system attributes (`AWSTraceHeader`, the sender), JSON.
    pub system: String,
    /// When it was sent.
    pub sent_ms: i64,
    /// When it is (again) visible.
    pub visible_ms: i64,
    /// Times received.
    pub receive_count: u32,
    /// When it was first received; 0 if never.
    pub first_receive_ms: i64,
    /// The receipt handle of its latest receive.
    pub receipt: Option<String>,
    /// `MessageGroupId` (FIFO).
    pub group_id: Option<String>,
    /// `MessageDeduplicationId` (FIFO).
    pub dedup_id: Option<String>,
}

/// A received message's new state.
#[derive(Debug, Clone)]
pub struct Received {
    /// The message.
    pub seq: i64,
    /// Its new receipt handle.
    pub receipt: String,
    /// When it becomes visible again.
    pub visible_ms: i64,
    /// Its receive count now.
    pub receive_count: u32,
    /// Its first receive time.
    pub first_receive_ms: i64,
}

/// FIFO deduplication for [`QueueStore::add_messages`]: records live at `now_ms` hold
/// back a message with the same id, and each new one is recorded until `expires_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DedupWindow {
    /// Now, in milliseconds since the epoch.
    pub now_ms: i64,
    /// When the records of messages stored now expire.
    pub expires_ms: i64,
    /// Whether ids are unique within a message group only (`DeduplicationScope`
    /// `messageGroup`) rather than the queue.
    pub per_group: bool,
}

/// What [`QueueStore::add_messages`] did with one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Added {
    /// Stored, at this position.
    New(i64),
    /// Not stored: its deduplication id names this earlier message (id, position).
    Duplicate(String, i64),
}

/// What [`QueueStore::delete_received`] did with one receipt handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deleted {
    /// The message it was issued for is gone now.
    Deleted,
    /// No message in the queue holds it (deleted before, or received again since).
    Unknown,
    /// Its message's visibility timeout ran out, which ends a FIFO receipt: kept.
    Expired,
}

/// Counts behind `ApproximateNumberOfMessages*`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueCounts {
    /// Visible now.
    pub visible: u64,
    /// Received and not yet visible again.
    pub in_flight: u64,
    /// Not yet visible because of a delay.
    pub delayed: u64,
}

/// Deletes a message by its id and receipt, unless visible again by `?4`. The unary `+`
/// keeps SQLite from reading the visibility index for the range, which would scan every
/// message of the queue in flight: the id finds the one row.
const DELETE_RECEIVED: &str = "DELETE FROM messages WHERE queue = ?1 AND id = ?2 AND receipt = ?3 AND +visible_ms > ?4";

const MESSAGE_COLUMNS: &str = "seq, id, body, attributes, system, sent_ms, visible_ms, receive_count, \
    first_receive_ms, receipt, group_id, dedup_id";

fn read_message(row: &Row<'_>) -> rusqlite::Result<StoredMessage> {
    Ok(StoredMessage {
        seq: row.get(0)?,
        id: row.get(1)?,
        body: row.get(2)?,
        attributes: row.get(3)?,
        system: row.get(4)?,
        sent_ms: row.get(5)?,
        visible_ms: row.get(6)?,
        receive_count: row.get(7)?,
        first_receive_ms: row.get(8)?,
        receipt: row.get(9)?,
        group_id: row.get(10)?,
        dedup_id: row.get(11)?,
    })
}

fn read_queue(row: &Row<'_>) -> rusqlite::Result<QueueRecord> {
    Ok(QueueRecord {
        account: row.get(0)?,
        region: row.get(1)?,
        name: row.get(2)?,
        attributes: row.get(3)?,
        tags: row.get(4)?,
        created_ms: row.get(5)?,
        modified_ms: row.get(6)?,
    })
}

/// Where SQS keeps its queues and messages. Every call is one transaction.
pub trait QueueStore: Send + Sync + 'static {
    /// Creates a queue; `Ok(false)` if one with that name exists.
    fn create_queue(&self, q: &QueueRecord) -> Result<bool, StoreError>;
    /// Replaces a queue's attributes and tags.
    fn update_queue(&self, q: &QueueRecord) -> Result<(), StoreError>;
    /// Deletes a queue and its messages.
    fn delete_queue(&self, q: &QueueRecord) -> Result<(), StoreError>;
    /// Every queue, for start-up.
    fn all_queues(&self) -> Result<Vec<QueueRecord>, StoreError>;
    /// Stores new messages, in one transaction. With a `dedup` window, a message whose
    /// deduplication id is still live (from an earlier call or earlier in this one) is not
    /// stored, and each one stored has its id recorded in the same transaction, so a crash
    /// leaves both or neither.
    fn add_messages(
        &self,
        queue: &str,
        messages: &[StoredMessage],
        dedup: Option<DedupWindow>,
    ) -> Result<Vec<Added>, StoreError>;
    /// Messages visible at `now`, at most `limit`: in queue order for FIFO queues
    /// (`in_order`), else longest-visible first (which the index serves without sorting).
    fn visible_messages(
        &self,
        queue: &str,
        now: i64,
        limit: usize,
        in_order: bool,
    ) -> Result<Vec<StoredMessage>, StoreError>;
    /// The earliest time after `now` at which a message of the queue becomes visible.
    fn next_visible(&self, queue: &str, now: i64) -> Result<Option<i64>, StoreError>;
    /// FIFO message groups with a message in flight at `now`, each with the position of
    /// its oldest message in flight.
    fn groups_in_flight(&self, queue: &str, now: i64) -> Result<Vec<(String, i64)>, StoreError>;
    /// Records receives.
    fn mark_received(&self, received: &[Received]) -> Result<(), StoreError>;
    /// Moves messages to another queue (dead-letter redrive), keeping their receive
    /// counts and naming the queue they came from, `source_arn`.
    fn move_messages(&self, seqs: &[i64], to_queue: &str, now: i64, source_arn: &str) -> Result<(), StoreError>;
    /// A message by its id.
    fn message_by_id(&self, queue: &str, id: &str) -> Result<Option<StoredMessage>, StoreError>;
    /// Deletes the messages receipt handles were issued for, each given with the message
    /// id it names, in one transaction. With `expired_at`, a message visible again by then
    /// is kept ([`Deleted::Expired`]).
    fn delete_received(
        &self,
        queue: &str,
        receipts: &[(&str, &str)],
        expired_at: Option<i64>,
    ) -> Result<Vec<Deleted>, StoreError>;
    /// Sets when messages become visible again.
    fn set_visible(&self, updates: &[(i64, i64)]) -> Result<(), StoreError>;
    /// Deletes every message of a queue, and its deduplication records.
    fn purge(&self, queue: &str) -> Result<(), StoreError>;
    /// Deletes messages sent before `before_ms` (past their retention).
    fn expire(&self, queue: &str, before_ms: i64) -> Result<(), StoreError>;
    /// The queue's message counts at `now`.
    fn counts(&self, queue: &str, now: i64) -> Result<QueueCounts, StoreError>;
}

impl QueueStore for SqliteStore {
    fn create_queue(&self, q: &QueueRecord) -> Result<bool, StoreError> {
        let n = self.with(|c| {
            c.execute(
                "INSERT OR IGNORE INTO queues (account, region, name, attributes, tags, created_ms, modified_ms) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![q.account, q.region, q.name, q.attributes, q.tags, q.created_ms, q.modified_ms],
            )
        })?;
        Ok(n == 1)
    }

    fn update_queue(&self, q: &QueueRecord) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE queues SET attributes = ?4, tags = ?5, modified_ms = ?6 \
                 WHERE account = ?1 AND region = ?2 AND name = ?3",
                params![q.account, q.region, q.name, q.attributes, q.tags, q.modified_ms],
            )
            .map(drop)
        })
    }

    fn delete_queue(&self, q: &QueueRecord) -> Result<(), StoreError> {
        self.with(|c| {
            let tx = c.unchecked_transaction()?;
            tx.execute(
                "DELETE FROM queues WHERE account = ?1 AND region = ?2 AND name = ?3",
                params![q.account, q.region, q.name],
            )?;
            tx.execute("DELETE FROM messages WHERE queue = ?1", params![q.key()])?;
            tx.execute("DELETE FROM dedup WHERE queue = ?1", params![q.key()])?;
            tx.commit()
        })
    }

    fn all_queues(&self) -> Result<Vec<QueueRecord>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT account, region, name, attributes, tags, created_ms, modified_ms FROM queues ORDER BY name",
            )?;
            let rows = stmt.query_map([], read_queue)?;
            rows.collect()
        })
    }

    fn add_messages(
        &self,
        queue: &str,
        messages: &[StoredMessage],
        dedup: Option<DedupWindow>,
    ) -> Result<Vec<Added>, StoreError> {
        self.with(|c| {
            let tx = c.unchecked_transaction()?;
            let mut added = Vec::with_capacity(messages.len());
            {
                let mut insert = tx.prepare_cached(
                    "INSERT INTO messages (queue, id, body, attributes, system, sent_ms, visible_ms, receive_count, \
                     first_receive_ms, receipt, group_id, dedup_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, 0, NULL, ?8, ?9)",
                )?;
                let mut earlier = tx.prepare_cached(
                    "SELECT message_id, sequence FROM dedup WHERE queue = ?1 AND dedup_id = ?2 AND expires_ms > ?3",
                )?;
                let mut remember = tx.prepare_cached(
                    "REPLACE INTO dedup (queue, dedup_id, message_id, sequence, expires_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
                )?;
                for m in messages {
                    let key = m.dedup_id.as_deref().map(|d| match (dedup.is_some_and(|w| w.per_group), &m.group_id) {
                        (true, Some(g)) => format!("{g}\u{1f}{d}"),
                        _ => d.to_owned(),
                    });
                    let window = dedup.zip(key.as_deref());
                    if let Some((w, d)) = window {
                        let found: Option<(String, i64)> =
                            earlier.query_row(params![queue, d, w.now_ms], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
                        if let Some((id, seq)) = found {
                            added.push(Added::Duplicate(id, seq));
                            continue;
                        }
                    }
                    insert.execute(params![
                        queue,
                        m.id,
                        m.body,
                        m.attributes,
                        m.system,
                        m.sent_ms,
                        m.visible_ms,
                        m.group_id,
                        m.dedup_id
                    ])?;
                    let seq = tx.last_insert_rowid();
                    if let Some((w, d)) = window {
                        remember.execute(params![queue, d, m.id, seq, w.expires_ms])?;
                    }
                    added.push(Added::New(seq));
                }
            }
            tx.commit()?;
            Ok(added)
        })
    }

    fn visible_messages(
        &self,
        queue: &str,
        now: i64,
        limit: usize,
        in_order: bool,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        let order = if in_order { "seq" } else { "visible_ms, seq" };
        self.with(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages WHERE queue = ?1 AND visible_ms <= ?2 ORDER BY {order} LIMIT ?3"
            ))?;
            let rows = stmt.query_map(params![queue, now, limit as i64], read_message)?;
            rows.collect()
        })
    }

    fn next_visible(&self, queue: &str, now: i64) -> Result<Option<i64>, StoreError> {
        self.with(|c| {
            c.prepare_cached("SELECT MIN(visible_ms) FROM messages WHERE queue = ?1 AND visible_ms > ?2")?
                .query_row(params![queue, now], |r| r.get(0))
        })
    }

    fn groups_in_flight(&self, queue: &str, now: i64) -> Result<Vec<(String, i64)>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT group_id, MIN(seq) FROM messages WHERE queue = ?1 AND visible_ms > ?2 AND receive_count > 0 \
                 AND group_id IS NOT NULL GROUP BY group_id",
            )?;
            let rows = stmt.query_map(params![queue, now], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect()
        })
    }

    fn mark_received(&self, received: &[Received]) -> Result<(), StoreError> {
        self.with(|c| {
            let tx = c.unchecked_transaction()?;
            {
                let mut update = tx.prepare_cached(
                    "UPDATE messages SET receipt = ?2, visible_ms = ?3, receive_count = ?4, first_receive_ms = ?5 \
                     WHERE seq = ?1",
                )?;
                for r in received {
                    update.execute(params![r.seq, r.receipt, r.visible_ms, r.receive_count, r.first_receive_ms])?;
                }
            }
            tx.commit()
        })
    }

    fn move_messages(&self, seqs: &[i64], to_queue: &str, now: i64, source_arn: &str) -> Result<(), StoreError> {
        if seqs.is_empty() {
            return Ok(());
        }
        self.with(|c| {
            // A new position at the end of the dead-letter queue, visible at once; the id,
            // body, attributes, sent time and receives so far stay, and the message says
            // where it came from (`DeadLetterQueueSourceArn`).
            let tx = c.unchecked_transaction()?;
            {
                let mut copy = tx.prepare_cached(
                    "INSERT INTO messages (queue, id, body, attributes, system, sent_ms, visible_ms, receive_count, \
                     first_receive_ms, receipt, group_id, dedup_id) \
                     SELECT ?2, id, body, attributes, json_set(system, '$.DeadLetterQueueSourceArn', ?4), sent_ms, ?3, \
                     receive_count, first_receive_ms, NULL, group_id, dedup_id \
                     FROM messages WHERE seq = ?1",
                )?;
                let mut delete = tx.prepare_cached("DELETE FROM messages WHERE seq = ?1")?;
                for seq in seqs {
                    copy.execute(params![seq, to_queue, now, source_arn])?;
                    delete.execute(params![seq])?;
                }
            }
            tx.commit()
        })
    }

    fn message_by_id(&self, queue: &str, id: &str) -> Result<Option<StoredMessage>, StoreError> {
        self.with(|c| {
            c.prepare_cached(&format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE queue = ?1 AND id = ?2"))?
                .query_row(params![queue, id], read_message)
                .optional()
        })
    }

    fn delete_received(
        &self,
        queue: &str,
        receipts: &[(&str, &str)],
        expired_at: Option<i64>,
    ) -> Result<Vec<Deleted>, StoreError> {
        self.with(|c| {
            let tx = c.unchecked_transaction()?;
            let mut outcomes = Vec::with_capacity(receipts.len());
            {
                let mut delete = tx.prepare_cached(DELETE_RECEIVED)?;
                let mut held =
                    tx.prepare_cached("SELECT 1 FROM messages WHERE queue = ?1 AND id = ?2 AND receipt = ?3")?;
                let at = expired_at.unwrap_or(i64::MIN);
                for (id, receipt) in receipts {
                    outcomes.push(if delete.execute(params![queue, id, receipt, at])? > 0 {
                        Deleted::Deleted
                    } else if expired_at.is_some() && held.exists(params![queue, id, receipt])? {
                        Deleted::Expired
                    } else {
                        Deleted::Unknown
                    });
                }
            }
            tx.commit()?;
            Ok(outcomes)
        })
    }

    fn set_visible(&self, updates: &[(i64, i64)]) -> Result<(), StoreError> {
        self.with(|c| {
            let tx = c.unchecked_transaction()?;
            {
                let mut update = tx.prepare_cached("UPDATE messages SET visible_ms = ?2 WHERE seq = ?1")?;
                for (seq, visible) in updates {
                    update.execute(params![seq, visible])?;
                }
            }
            tx.commit()
        })
    }

    fn purge(&self, queue: &str) -> Result<(), StoreError> {
        self.with(|c| {
            let tx = c.unchecked_transaction()?;
            tx.execute("DELETE FROM messages WHERE queue = ?1", params![queue])?;
            tx.execute("DELETE FROM dedup WHERE queue = ?1", params![queue])?;
            tx.commit()
        })
    }

    fn expire(&self, queue: &str, before_ms: i64) -> Result<(), StoreError> {
        self.with(|c| {
            let tx = c.unchecked_transaction()?;
            tx.execute("DELETE FROM messages WHERE queue = ?1 AND sent_ms < ?2", params![queue, before_ms])?;
            tx.execute("DELETE FROM dedup WHERE queue = ?1 AND expires_ms < ?2", params![queue, before_ms])?;
            tx.commit()
        })
    }

    fn counts(&self, queue: &str, now: i64) -> Result<QueueCounts, StoreError> {
        self.with(|c| {
            c.prepare_cached(
                "SELECT COALESCE(SUM(visible_ms <= ?2), 0), COALESCE(SUM(visible_ms > ?2 AND receive_count > 0), 0), \
                 COALESCE(SUM(visible_ms > ?2 AND receive_count = 0), 0) FROM messages WHERE queue = ?1",
            )?
            .query_row(params![queue, now], |r| {
                Ok(QueueCounts {
                    visible: r.get::<_, i64>(0)? as u64,
                    in_flight: r.get::<_, i64>(1)? as u64,
                    delayed: r.get::<_, i64>(2)? as u64,
                })
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SqliteStore;

    fn message(id: &str, dedup: &str) -> StoredMessage {
        StoredMessage {
            seq: 0,
            id: id.into(),
            body: "b".into(),
            attributes: "{}".into(),
            system: "{}".into(),
            sent_ms: 0,
            visible_ms: 0,
            receive_count: 0,
            first_receive_ms: 0,
            receipt: None,
            group_id: Some("g".into()),
            dedup_id: Some(dedup.into()),
        }
    }

    #[test]
    fn concurrent_sends_with_one_deduplication_id_store_one_message() {
        let dir = std::env::temp_dir().join(format!("lamina-dedup-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let store = std::sync::Arc::new(SqliteStore::open(&dir.join("state.db")).unwrap());
        let window = Some(DedupWindow { now_ms: 1_000, expires_ms: 301_000, per_group: false });
        let threads: Vec<_> = (0..8)
            .map(|i| {
                let store = store.clone();
                std::thread::spawn(move || {
                    store.add_messages("q", &[message(&format!("m{i}"), "same")], window).unwrap().remove(0)
                })
            })
            .collect();
        let added: Vec<Added> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        let new: Vec<i64> = added.iter().filter_map(|a| if let Added::New(s) = a { Some(*s) } else { None }).collect();
        assert_eq!(new.len(), 1, "{added:?}");
        assert!(added.iter().all(|a| match a {
            Added::New(_) => true,
            Added::Duplicate(_, seq) => *seq == new[0],
        }));
        assert_eq!(store.visible_messages("q", 1_000, 10, true).unwrap().len(), 1);
        // Within one batch too; and after the window, the id is free again.
        let batch = store.add_messages("q", &[message("a", "x"), message("b", "x")], window).unwrap();
        assert!(matches!(&batch[..], [Added::New(s), Added::Duplicate(id, d)] if id == "a" && d == s));
        let later = Some(DedupWindow { now_ms: 400_000, expires_ms: 700_000, per_group: false });
        assert!(matches!(store.add_messages("q", &[message("c", "x")], later).unwrap()[..], [Added::New(_)]));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn receipts_delete_what_they_name_unless_expired() {
        let dir = std::env::temp_dir().join(format!("lamina-delete-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let store = SqliteStore::open(&dir.join("state.db")).unwrap();
        let added = store.add_messages("q", &[message("a", "1"), message("b", "2"), message("c", "3")], None).unwrap();
        let seqs: Vec<i64> = added.iter().map(|a| if let Added::New(s) = a { *s } else { unreachable!() }).collect();
        // `a` and `b` in flight until 5,000; `c` was visible again at 2,000.
        let received: Vec<Received> = seqs
            .iter()
            .zip(["ra", "rb", "rc"])
            .zip([5_000, 5_000, 2_000])
            .map(|((seq, receipt), visible_ms)| Received {
                seq: *seq,
                receipt: receipt.into(),
                visible_ms,
                receive_count: 1,
                first_receive_ms: 1_000,
            })
            .collect();
        store.mark_received(&received).unwrap();
        let outcomes = store
            .delete_received("q", &[("a", "ra"), ("b", "old"), ("c", "rc"), ("a", "ra"), ("b", "rb")], Some(3_000))
            .unwrap();
        assert_eq!(
            outcomes,
            [Deleted::Deleted, Deleted::Unknown, Deleted::Expired, Deleted::Unknown, Deleted::Deleted]
        );
        // Without an expiry (a standard queue), a receipt past its timeout still deletes.
        assert_eq!(store.delete_received("q", &[("c", "rc")], None).unwrap(), [Deleted::Deleted]);
        assert_eq!(store.counts("q", 0).unwrap(), QueueCounts::default());
        // One row found by its id, however many messages are in flight.
        let plan: String = store
            .with(|c| {
                c.query_row(&format!("EXPLAIN QUERY PLAN {DELETE_RECEIVED}"), params!["q", "a", "r", 0], |r| {
                    r.get::<_, String>(3)
                })
            })
            .unwrap();
        assert!(plan.contains("messages_id (queue=? AND id=?)"), "{plan}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
