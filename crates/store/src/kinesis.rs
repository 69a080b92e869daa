//! Kinesis Data Streams' durable state, in a SQLite file of its own: streams as documents
//! (their shards, hash ranges and parents are the `kinesis` crate's format), and records
//! by (stream, shard, sequence number), a record's sequence number increasing across every
//! stream so that a shard's order is the order records were accepted. A PutRecords call's
//! records commit in one transaction, before it is answered.

use std::path::Path;

use model::sync::Mutex;
use rusqlite::{params, Connection, OptionalExtension};

use crate::StoreError;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS kin_streams (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS kin_records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    stream INTEGER NOT NULL,
    shard INTEGER NOT NULL,
    at_ms INTEGER NOT NULL,
    pk TEXT NOT NULL,
    data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS kin_records_by_shard ON kin_records (stream, shard, seq);
CREATE INDEX IF NOT EXISTS kin_records_by_time ON kin_records (stream, at_ms);
";

/// A record as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KinesisRecord {
    /// Its sequence number.
    pub seq: i64,
    /// When it was accepted (ms).
    pub at_ms: i64,
    /// Its partition key.
    pub partition_key: String,
    /// Its data.
    pub data: Vec<u8>,
}

/// Kinesis's streams and records.
pub struct StreamStore {
    writer: Mutex<Connection>,
    reader: Mutex<Connection>,
}

impl std::fmt::Debug for StreamStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StreamStore")
    }
}

fn connect(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // NORMAL in WAL mode keeps every commit across a process kill.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(conn)
}

impl StreamStore {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<StreamStore, StoreError> {
        let writer = connect(path)?;
        writer.execute_batch(SCHEMA)?;
        let reader = connect(path)?;
        Ok(StreamStore { writer: Mutex::new(writer), reader: Mutex::new(reader) })
    }

    /// Every stream: its row id, name (the service's key) and document.
    pub fn streams(&self) -> Result<Vec<(i64, String, String)>, StoreError> {
        let c = self.reader.lock();
        let mut stmt = c.prepare("SELECT id, name, doc FROM kin_streams ORDER BY id")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Creates a stream's row; its id. `None` when the name is taken.
    pub fn create_stream(&self, name: &str, doc: &str) -> Result<Option<i64>, StoreError> {
        let c = self.writer.lock();
        let n = c.execute("INSERT OR IGNORE INTO kin_streams (name, doc) VALUES (?1, ?2)", params![name, doc])?;
        Ok((n == 1).then(|| c.last_insert_rowid()))
    }

    /// Replaces a stream's document.
    pub fn update_stream(&self, id: i64, doc: &str) -> Result<(), StoreError> {
        self.writer.lock().execute("UPDATE kin_streams SET doc = ?2 WHERE id = ?1", params![id, doc])?;
        Ok(())
    }

    /// Deletes a stream and its records.
    pub fn delete_stream(&self, id: i64) -> Result<(), StoreError> {
        let mut c = self.writer.lock();
        let tx = c.transaction()?;
        tx.execute("DELETE FROM kin_records WHERE stream = ?1", [id])?;
        tx.execute("DELETE FROM kin_streams WHERE id = ?1", [id])?;
        tx.commit()?;
        Ok(())
    }

    /// The highest sequence number given so far (0 if none).
    pub fn last_sequence(&self) -> Result<i64, StoreError> {
        let c = self.reader.lock();
        Ok(c.query_row("SELECT COALESCE(MAX(seq), 0) FROM kin_records", [], |r| r.get(0))?)
    }

    /// Appends records (shard, partition key, data), in one transaction; their sequence
    /// numbers, in order.
    pub fn append(&self, stream: i64, at_ms: i64, records: &[(u32, &str, &[u8])]) -> Result<Vec<i64>, StoreError> {
        let mut c = self.writer.lock();
        let tx = c.transaction()?;
        let mut out = Vec::with_capacity(records.len());
        {
            let mut add = tx.prepare_cached(
                "INSERT INTO kin_records (stream, shard, at_ms, pk, data) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for (shard, pk, data) in records {
                add.execute(params![stream, shard, at_ms, pk, data])?;
                out.push(tx.last_insert_rowid());
            }
        }
        tx.commit()?;
        Ok(out)
    }

    /// A shard's records after a sequence number, at most `limit`.
    pub fn records(&self, stream: i64, shard: u32, after: i64, limit: usize) -> Result<Vec<KinesisRecord>, StoreError> {
        let c = self.reader.lock();
        let mut stmt = c.prepare_cached(
            "SELECT seq, at_ms, pk, data FROM kin_records WHERE stream = ?1 AND shard = ?2 AND seq > ?3 ORDER BY seq LIMIT ?4",
        )?;
        let rows = stmt.query_map(params![stream, shard, after, limit as i64], |r| {
            Ok(KinesisRecord { seq: r.get(0)?, at_ms: r.get(1)?, partition_key: r.get(2)?, data: r.get(3)? })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A shard's newest record: its sequence number and when it was accepted.
    pub fn newest(&self, stream: i64, shard: u32) -> Result<Option<(i64, i64)>, StoreError> {
        let c = self.reader.lock();
        let mut stmt = c.prepare_cached(
            "SELECT seq, at_ms FROM kin_records WHERE stream = ?1 AND shard = ?2 ORDER BY seq DESC LIMIT 1",
        )?;
        let newest = stmt.query_row(params![stream, shard], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
        Ok(newest)
    }

    /// The sequence number just before a shard's first record accepted at or after `ms`
    /// (its newest, if none was).
    pub fn before_time(&self, stream: i64, shard: u32, ms: i64) -> Result<Option<i64>, StoreError> {
        let c = self.reader.lock();
        let mut stmt =
            c.prepare_cached("SELECT MIN(seq) FROM kin_records WHERE stream = ?1 AND shard = ?2 AND at_ms >= ?3")?;
        let first = stmt.query_row(params![stream, shard, ms], |r| r.get::<_, Option<i64>>(0))?;
        Ok(first.map(|s| s - 1))
    }

    /// Drops a stream's records accepted before `before_ms`; how many.
    pub fn trim(&self, stream: i64, before_ms: i64) -> Result<usize, StoreError> {
        Ok(self
            .writer
            .lock()
            .execute("DELETE FROM kin_records WHERE stream = ?1 AND at_ms < ?2", params![stream, before_ms])?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_keep_their_shards_order() {
        let dir = std::env::temp_dir().join(format!("lamina-kinesis-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let s = StreamStore::open(&dir.join("k.db")).unwrap();
        let id = s.create_stream("a/b/s", "{}").unwrap().unwrap();
        assert_eq!(s.create_stream("a/b/s", "{}").unwrap(), None);
        let seqs = s.append(id, 10, &[(0, "k", b"one"), (1, "j", b"two"), (0, "k", b"three")]).unwrap();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]));
        let got = s.records(id, 0, 0, 10).unwrap();
        assert_eq!(got.iter().map(|r| r.data.clone()).collect::<Vec<_>>(), vec![b"one".to_vec(), b"three".to_vec()]);
        assert_eq!(s.newest(id, 1).unwrap().map(|n| n.0), Some(seqs[1]));
        assert_eq!(s.before_time(id, 0, 10).unwrap(), Some(seqs[0] - 1));
        s.delete_stream(id).unwrap();
        assert!(s.records(id, 0, 0, 10).unwrap().is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
