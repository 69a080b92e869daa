//! EventBridge's and Scheduler's durable state, in a SQLite file of its own: their
//! documents (buses, rules with their targets, schedules, schedule groups), each a kind
//! and an id, in a format the `events` crate owns; and the deliveries waiting to reach a
//! target, each a document with its attempts and the time it is next due. A write that
//! accepts events or fires a schedule commits its deliveries and its documents in one
//! transaction, so an event is never half accepted and a schedule never fires twice.

use std::path::Path;

use model::sync::Mutex;
use rusqlite::{params, Connection};

use crate::{Document, StoreError};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS event_documents (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE TABLE IF NOT EXISTS event_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    doc TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_ms INTEGER NOT NULL,
    leased INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS event_deliveries_due ON event_deliveries (leased, next_ms);
";

/// A delivery waiting for its target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDelivery {
    /// Its row id.
    pub id: i64,
    /// What to deliver, where, and under which retry policy (the service's format).
    pub doc: String,
    /// Attempts made so far.
    pub attempts: u32,
}

/// One transaction: deliveries accepted, documents written and removed.
#[derive(Debug, Default)]
pub struct EventCommit {
    /// New deliveries: each document and when it is first due.
    pub deliveries: Vec<(String, i64)>,
    /// Documents created or replaced.
    pub put: Vec<Document>,
    /// Documents removed: (kind, id).
    pub delete: Vec<(String, String)>,
}

impl EventCommit {
    /// Whether it writes nothing.
    pub fn is_empty(&self) -> bool {
        self.deliveries.is_empty() && self.put.is_empty() && self.delete.is_empty()
    }
}

/// Where EventBridge and Scheduler keep their state.
pub struct EventStore {
    conn: Mutex<Connection>,
}

impl std::fmt::Debug for EventStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EventStore")
    }
}

impl EventStore {
    /// Opens (creating if needed) the database at `path`; deliveries a crash left leased
    /// are due again.
    pub fn open(path: &Path) -> Result<EventStore, StoreError> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // NORMAL in WAL mode keeps every commit across a process kill.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA)?;
        conn.execute("UPDATE event_deliveries SET leased = 0 WHERE leased = 1", [])?;
        Ok(EventStore { conn: Mutex::new(conn) })
    }

    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>) -> Result<T, StoreError> {
        let mut conn = self.conn.lock();
        Ok(f(&mut conn)?)
    }

    /// Writes deliveries and documents in one transaction.
    pub fn commit(&self, c: &EventCommit) -> Result<(), StoreError> {
        if c.is_empty() {
            return Ok(());
        }
        self.with(|conn| {
            let tx = conn.transaction()?;
            {
                let mut add = tx.prepare_cached("INSERT INTO event_deliveries (doc, next_ms) VALUES (?1, ?2)")?;
                for (doc, due) in &c.deliveries {
                    add.execute(params![doc, due])?;
                }
                let mut put = tx.prepare_cached("REPLACE INTO event_documents (kind, id, doc) VALUES (?1, ?2, ?3)")?;
                for d in &c.put {
                    put.execute(params![d.kind, d.id, d.doc])?;
                }
                let mut delete = tx.prepare_cached("DELETE FROM event_documents WHERE kind = ?1 AND id = ?2")?;
                for (kind, id) in &c.delete {
                    delete.execute(params![kind, id])?;
                }
            }
            tx.commit()
        })
    }

    /// Every document of a kind, in id order.
    pub fn documents(&self, kind: &str) -> Result<Vec<Document>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare("SELECT kind, id, doc FROM event_documents WHERE kind = ?1 ORDER BY id")?;
            let rows =
                stmt.query_map(params![kind], |r| Ok(Document { kind: r.get(0)?, id: r.get(1)?, doc: r.get(2)? }))?;
            rows.collect()
        })
    }

    /// Leases up to `limit` deliveries due by `now_ms`, oldest first.
    pub fn claim(&self, now_ms: i64, limit: usize) -> Result<Vec<StoredDelivery>, StoreError> {
        self.with(|c| {
            let tx = c.transaction()?;
            let claimed = {
                let mut stmt = tx.prepare_cached(
                    "SELECT id, doc, attempts FROM event_deliveries WHERE leased = 0 AND next_ms <= ?1 \
                     ORDER BY next_ms, id LIMIT ?2",
                )?;
                let rows = stmt.query_map(params![now_ms, limit as i64], |r| {
                    Ok(StoredDelivery { id: r.get(0)?, doc: r.get(1)?, attempts: r.get(2)? })
                })?;
                rows.collect::<rusqlite::Result<Vec<_>>>()?
            };
            {
                let mut lease = tx.prepare_cached("UPDATE event_deliveries SET leased = 1 WHERE id = ?1")?;
                for d in &claimed {
                    lease.execute(params![d.id])?;
                }
            }
            tx.commit()?;
            Ok(claimed)
        })
    }

    /// Puts a leased delivery back, due again at `next_ms` after `attempts` attempts.
    pub fn retry(&self, id: i64, attempts: u32, next_ms: i64) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE event_deliveries SET attempts = ?2, next_ms = ?3, leased = 0 WHERE id = ?1",
                params![id, attempts, next_ms],
            )
            .map(drop)
        })
    }

    /// Forgets finished deliveries.
    pub fn remove(&self, ids: &[i64]) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        self.with(|c| {
            let tx = c.transaction()?;
            {
                let mut stmt = tx.prepare_cached("DELETE FROM event_deliveries WHERE id = ?1")?;
                for id in ids {
                    stmt.execute(params![id])?;
                }
            }
            tx.commit()
        })
    }

    /// When the next delivery not leased is due.
    pub fn next_due(&self) -> Result<Option<i64>, StoreError> {
        self.with(|c| c.query_row("SELECT MIN(next_ms) FROM event_deliveries WHERE leased = 0", [], |r| r.get(0)))
    }

    /// Deliveries not finished (leased or waiting).
    pub fn pending(&self) -> Result<u64, StoreError> {
        self.with(|c| c.query_row("SELECT COUNT(*) FROM event_deliveries", [], |r| r.get::<_, i64>(0)))
            .map(|n| n as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deliveries_and_documents_commit_together_and_leases_end_with_the_process() {
        let dir = std::env::temp_dir().join(format!("lamina-events-store-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("events.db");
        let _ = std::fs::remove_file(&path);
        {
            let s = EventStore::open(&path).unwrap();
            let doc = Document { kind: "rule".into(), id: "a/r/default/x".into(), doc: "{}".into() };
            let c =
                EventCommit { deliveries: vec![("d1".into(), 10), ("d2".into(), 20)], put: vec![doc], delete: vec![] };
            s.commit(&c).unwrap();
            let claimed = s.claim(15, 10).unwrap();
            assert_eq!(claimed.len(), 1);
            assert_eq!(claimed[0].doc, "d1");
            assert!(s.claim(15, 10).unwrap().is_empty(), "a leased delivery is not claimed twice");
            assert_eq!(s.next_due().unwrap(), Some(20));
        }
        // As after a kill -9: the lease is gone, the delivery due again.
        let s = EventStore::open(&path).unwrap();
        assert_eq!(s.claim(15, 10).unwrap().len(), 1);
        assert_eq!(s.documents("rule").unwrap().len(), 1);
        let all = s.claim(100, 10).unwrap();
        s.remove(&all.iter().map(|d| d.id).collect::<Vec<_>>()).unwrap();
        assert_eq!(s.pending().unwrap(), 1);
        std::fs::remove_dir_all(&dir).ok();
    }
}
