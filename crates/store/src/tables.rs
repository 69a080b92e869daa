//! DynamoDB's durable state, in a SQLite file of its own: tables as documents; items by
//! (table, partition key, sort key), the keys in an encoding whose bytewise order is
//! DynamoDB's order, so a query is a range of that index (the items themselves in a rowid
//! table, where an item of a few KB fits its page rather than spilling to overflow pages); secondary indexes' entries
//! by (table, index, index keys, item keys); and the tables' stream records in the order
//! they were written. A write runs as one transaction that can read what it is about to
//! change ([`TableStore::write`]), so a condition and the write it guards are atomic, and
//! an item, its index entries and its stream record commit together.

use std::ops::Bound;
use std::path::Path;

use model::sync::Mutex;
use rusqlite::{params, Connection, OptionalExtension};

use crate::StoreError;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS ddb_tables (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS ddb_items (
    id INTEGER PRIMARY KEY,
    tbl INTEGER NOT NULL,
    pk BLOB NOT NULL,
    sk BLOB NOT NULL,
    item BLOB NOT NULL,
    size INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS ddb_items_by_key ON ddb_items (tbl, pk, sk);
CREATE TABLE IF NOT EXISTS ddb_index (
    tbl INTEGER NOT NULL,
    idx TEXT NOT NULL,
    ipk BLOB NOT NULL,
    isk BLOB NOT NULL,
    pk BLOB NOT NULL,
    sk BLOB NOT NULL,
    PRIMARY KEY (tbl, idx, ipk, isk, pk, sk)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ddb_stream_records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    stream TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    record BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS ddb_stream_records_by_stream ON ddb_stream_records (stream, seq);
CREATE TABLE IF NOT EXISTS ddb_tokens (
    token TEXT PRIMARY KEY,
    digest TEXT NOT NULL,
    at_ms INTEGER NOT NULL
);
";

/// A stored item: its keys and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredItem {
    /// The partition key, encoded.
    pub pk: Vec<u8>,
    /// The sort key, encoded (empty without one).
    pub sk: Vec<u8>,
    /// The item (the service's format).
    pub item: Vec<u8>,
}

/// An index entry: the index's keys, then the item's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexEntry {
    /// The index's partition key, encoded.
    pub ipk: Vec<u8>,
    /// The index's sort key, encoded (empty without one).
    pub isk: Vec<u8>,
    /// The item's partition key.
    pub pk: Vec<u8>,
    /// The item's sort key.
    pub sk: Vec<u8>,
}

/// A stream record as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamRecord {
    /// Its sequence number, increasing across every stream.
    pub seq: i64,
    /// When it was written (ms).
    pub at_ms: i64,
    /// The record (the service's format).
    pub record: Vec<u8>,
}

/// Where a range starts or ends on a sort key (or an index's key).
pub type KeyBound = Bound<Vec<u8>>;

/// A table's row counts and bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TableCounts {
    /// Items.
    pub items: u64,
    /// Their sizes' sum.
    pub bytes: u64,
}

/// DynamoDB's tables, items, indexes and stream records.
pub struct TableStore {
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
}

impl std::fmt::Debug for TableStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TableStore")
    }
}

fn connect(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // NORMAL in WAL mode keeps every commit across a process kill.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.pragma_update(None, "cache_size", -32_000)?;
    Ok(conn)
}

impl TableStore {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<TableStore, StoreError> {
        let writer = connect(path)?;
        writer.execute_batch(SCHEMA)?;
        let readers = (0..4).map(|_| connect(path).map(Mutex::new)).collect::<Result<_, _>>()?;
        Ok(TableStore { writer: Mutex::new(writer), readers })
    }

    fn read<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, StoreError> {
        for r in &self.readers {
            if let Some(c) = r.try_lock() {
                return Ok(f(&c)?);
            }
        }
        let c = self.readers[0].lock();
        Ok(f(&c)?)
    }

    /// Every table: its row id, name (the service's key) and document.
    pub fn tables(&self) -> Result<Vec<(i64, String, String)>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare("SELECT id, name, doc FROM ddb_tables ORDER BY id")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect()
        })
    }

    /// Every table's counts, by row id.
    pub fn counts(&self) -> Result<Vec<(i64, TableCounts)>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare("SELECT tbl, COUNT(*), COALESCE(SUM(size), 0) FROM ddb_items GROUP BY tbl")?;
            let rows = stmt.query_map([], |r| {
                Ok((r.get(0)?, TableCounts { items: r.get::<_, i64>(1)? as u64, bytes: r.get::<_, i64>(2)? as u64 }))
            })?;
            rows.collect()
        })
    }

    /// Creates a table's row; its id. `None` when the name is taken.
    pub fn create_table(&self, name: &str, doc: &str) -> Result<Option<i64>, StoreError> {
        let c = self.writer.lock();
        let n = c.execute("INSERT OR IGNORE INTO ddb_tables (name, doc) VALUES (?1, ?2)", params![name, doc])?;
        Ok((n == 1).then(|| c.last_insert_rowid()))
    }

    /// Replaces a table's document.
    pub fn update_table(&self, id: i64, doc: &str) -> Result<(), StoreError> {
        self.writer.lock().execute("UPDATE ddb_tables SET doc = ?2 WHERE id = ?1", params![id, doc])?;
        Ok(())
    }

    /// Deletes a table with its items and index entries (its stream records stay readable
    /// until they age out).
    pub fn delete_table(&self, id: i64) -> Result<(), StoreError> {
        let mut c = self.writer.lock();
        let tx = c.transaction()?;
        tx.execute("DELETE FROM ddb_items WHERE tbl = ?1", [id])?;
        tx.execute("DELETE FROM ddb_index WHERE tbl = ?1", [id])?;
        tx.execute("DELETE FROM ddb_tables WHERE id = ?1", [id])?;
        tx.commit()?;
        Ok(())
    }

    /// Drops every entry of one index (an index removed from a table).
    pub fn drop_index(&self, table: i64, index: &str) -> Result<(), StoreError> {
        self.writer.lock().execute("DELETE FROM ddb_index WHERE tbl = ?1 AND idx = ?2", params![table, index])?;
        Ok(())
    }

    /// One item's bytes. Read on the writing connection: a reader's cache is dropped
    /// whenever another connection commits, and a point read is as short as a write.
    pub fn get(&self, table: i64, pk: &[u8], sk: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let c = self.writer.lock();
        let mut stmt = c.prepare_cached("SELECT item FROM ddb_items WHERE tbl = ?1 AND pk = ?2 AND sk = ?3")?;
        let item = stmt.query_row(params![table, pk, sk], |r| r.get(0)).optional()?;
        Ok(item)
    }

    /// Items of one partition, their sort keys within bounds, in order (or reversed), at
    /// most `limit`.
    pub fn range(
        &self,
        table: i64,
        pk: &[u8],
        from: &KeyBound,
        to: &KeyBound,
        forward: bool,
        limit: usize,
    ) -> Result<Vec<StoredItem>, StoreError> {
        let mut q = Query::new("SELECT pk, sk, item FROM ddb_items WHERE tbl = ");
        q.int(table);
        q.sql(" AND pk = ");
        q.blob(pk);
        q.bounds("sk", from, to);
        q.sql(if forward { " ORDER BY sk ASC LIMIT " } else { " ORDER BY sk DESC LIMIT " });
        q.int(limit as i64);
        self.read(|c| {
            let mut stmt = c.prepare_cached(&q.text)?;
            let rows = stmt.query_map(rusqlite::params_from_iter(q.args.iter()), |r| {
                Ok(StoredItem { pk: r.get(0)?, sk: r.get(1)?, item: r.get(2)? })
            })?;
            rows.collect()
        })
    }

    /// Entries of one index partition, with their items, in the index's order, after
    /// `after` (an entry of the same partition).
    #[allow(clippy::too_many_arguments)]
    pub fn index_range(
        &self,
        table: i64,
        index: &str,
        ipk: &[u8],
        from: &KeyBound,
        to: &KeyBound,
        after: Option<&IndexEntry>,
        forward: bool,
        limit: usize,
    ) -> Result<Vec<(IndexEntry, Vec<u8>)>, StoreError> {
        let mut q = Query::new(INDEX_SELECT);
        q.int(table);
        q.sql(" AND x.idx = ");
        q.text(index);
        q.sql(" AND x.ipk = ");
        q.blob(ipk);
        q.bounds("x.isk", from, to);
        let (cmp, order) = if forward { (">", "ASC") } else { ("<", "DESC") };
        if let Some(a) = after {
            q.sql(&format!(" AND (x.isk, x.pk, x.sk) {cmp} ("));
            q.blob(&a.isk);
            q.sql(", ");
            q.blob(&a.pk);
            q.sql(", ");
            q.blob(&a.sk);
            q.sql(")");
        }
        q.sql(&format!(" ORDER BY x.isk {order}, x.pk {order}, x.sk {order} LIMIT "));
        q.int(limit as i64);
        self.read(|c| q.entries(c))
    }

    /// Items after `after` (a (pk, sk) pair) in key order, at most `limit`.
    pub fn scan(&self, table: i64, after: Option<(&[u8], &[u8])>, limit: usize) -> Result<Vec<StoredItem>, StoreError> {
        let mut q = Query::new("SELECT pk, sk, item FROM ddb_items WHERE tbl = ");
        q.int(table);
        if let Some((pk, sk)) = after {
            q.sql(" AND (pk, sk) > (");
            q.blob(pk);
            q.sql(", ");
            q.blob(sk);
            q.sql(")");
        }
        q.sql(" ORDER BY pk, sk LIMIT ");
        q.int(limit as i64);
        self.read(|c| {
            let mut stmt = c.prepare_cached(&q.text)?;
            let rows = stmt.query_map(rusqlite::params_from_iter(q.args.iter()), |r| {
                Ok(StoredItem { pk: r.get(0)?, sk: r.get(1)?, item: r.get(2)? })
            })?;
            rows.collect()
        })
    }

    /// Index entries (with their items) after `after`, in the index's key order.
    pub fn index_scan(
        &self,
        table: i64,
        index: &str,
        after: Option<&IndexEntry>,
        limit: usize,
    ) -> Result<Vec<(IndexEntry, Vec<u8>)>, StoreError> {
        let mut q = Query::new(INDEX_SELECT);
        q.int(table);
        q.sql(" AND x.idx = ");
        q.text(index);
        if let Some(a) = after {
            q.sql(" AND (x.ipk, x.isk, x.pk, x.sk) > (");
            q.blob(&a.ipk);
            q.sql(", ");
            q.blob(&a.isk);
            q.sql(", ");
            q.blob(&a.pk);
            q.sql(", ");
            q.blob(&a.sk);
            q.sql(")");
        }
        q.sql(" ORDER BY x.ipk, x.isk, x.pk, x.sk LIMIT ");
        q.int(limit as i64);
        self.read(|c| q.entries(c))
    }

    /// Runs `f` in one write transaction, committed if it returns `Ok`; nothing it wrote
    /// stays if it returns `Err`.
    pub fn write<T, E: From<StoreError>>(&self, f: impl FnOnce(&mut Writes<'_>) -> Result<T, E>) -> Result<T, E> {
        let mut c = self.writer.lock();
        let tx = c.transaction().map_err(|e| E::from(e.into()))?;
        let mut w = Writes { tx: &tx };
        let out = f(&mut w)?;
        tx.commit().map_err(|e| E::from(e.into()))?;
        Ok(out)
    }

    /// Stream records of one stream after `after` (a sequence number), at most `limit`.
    pub fn stream_records(&self, stream: &str, after: i64, limit: usize) -> Result<Vec<StreamRecord>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT seq, at_ms, record FROM ddb_stream_records WHERE stream = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
            )?;
            let rows = stmt.query_map(params![stream, after, limit as i64], |r| {
                Ok(StreamRecord { seq: r.get(0)?, at_ms: r.get(1)?, record: r.get(2)? })
            })?;
            rows.collect()
        })
    }

    /// The first and last sequence numbers a stream holds.
    pub fn stream_span(&self, stream: &str) -> Result<Option<(i64, i64)>, StoreError> {
        self.read(|c| {
            c.prepare_cached("SELECT MIN(seq), MAX(seq) FROM ddb_stream_records WHERE stream = ?1")?.query_row(
                [stream],
                |r| {
                    let lo: Option<i64> = r.get(0)?;
                    let hi: Option<i64> = r.get(1)?;
                    Ok(lo.zip(hi))
                },
            )
        })
    }

    /// The sequence number just before a stream's first record written at or after `ms`.
    pub fn stream_before(&self, stream: &str, ms: i64) -> Result<i64, StoreError> {
        self.read(|c| {
            c.prepare_cached("SELECT MIN(seq) FROM ddb_stream_records WHERE stream = ?1 AND at_ms >= ?2")?
                .query_row(params![stream, ms], |r| r.get::<_, Option<i64>>(0))
        })
        .and_then(|first| match first {
            Some(seq) => Ok(seq - 1),
            None => Ok(self.stream_span(stream)?.map_or(0, |(_, hi)| hi)),
        })
    }

    /// The highest sequence number written to any stream (0 if none).
    pub fn last_sequence(&self) -> Result<i64, StoreError> {
        self.read(|c| c.query_row("SELECT COALESCE(MAX(seq), 0) FROM ddb_stream_records", [], |r| r.get(0)))
    }

    /// Drops stream records written before `before_ms`.
    pub fn trim_streams(&self, before_ms: i64) -> Result<usize, StoreError> {
        Ok(self.writer.lock().execute("DELETE FROM ddb_stream_records WHERE at_ms < ?1", [before_ms])?)
    }
}

const INDEX_SELECT: &str = "SELECT x.ipk, x.isk, x.pk, x.sk, i.item FROM ddb_index x JOIN ddb_items i \
     ON i.tbl = x.tbl AND i.pk = x.pk AND i.sk = x.sk WHERE x.tbl = ";

/// A statement built with its arguments, each `?N` in order.
struct Query {
    text: String,
    args: Vec<rusqlite::types::Value>,
}

impl Query {
    fn new(start: &str) -> Query {
        Query { text: start.to_owned(), args: Vec::new() }
    }

    fn sql(&mut self, s: &str) {
        self.text.push_str(s);
    }

    fn arg(&mut self, v: rusqlite::types::Value) {
        self.args.push(v);
        self.text.push_str(&format!("?{}", self.args.len()));
    }

    fn int(&mut self, v: i64) {
        self.arg(rusqlite::types::Value::Integer(v));
    }

    fn blob(&mut self, v: &[u8]) {
        self.arg(rusqlite::types::Value::Blob(v.to_vec()));
    }

    fn text(&mut self, v: &str) {
        self.arg(rusqlite::types::Value::Text(v.to_owned()));
    }

    fn bounds(&mut self, col: &str, from: &KeyBound, to: &KeyBound) {
        match from {
            Bound::Included(v) => {
                self.sql(&format!(" AND {col} >= "));
                self.blob(v);
            }
            Bound::Excluded(v) => {
                self.sql(&format!(" AND {col} > "));
                self.blob(v);
            }
            Bound::Unbounded => {}
        }
        match to {
            Bound::Included(v) => {
                self.sql(&format!(" AND {col} <= "));
                self.blob(v);
            }
            Bound::Excluded(v) => {
                self.sql(&format!(" AND {col} < "));
                self.blob(v);
            }
            Bound::Unbounded => {}
        }
    }

    fn entries(&self, c: &Connection) -> rusqlite::Result<Vec<(IndexEntry, Vec<u8>)>> {
        let mut stmt = c.prepare_cached(&self.text)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(self.args.iter()), |r| {
            Ok((IndexEntry { ipk: r.get(0)?, isk: r.get(1)?, pk: r.get(2)?, sk: r.get(3)? }, r.get::<_, Vec<u8>>(4)?))
        })?;
        rows.collect()
    }
}

/// The writes of one transaction.
pub struct Writes<'t> {
    tx: &'t rusqlite::Transaction<'t>,
}

impl std::fmt::Debug for Writes<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Writes")
    }
}

impl Writes<'_> {
    /// One item's bytes, as this transaction sees them.
    pub fn get(&self, table: i64, pk: &[u8], sk: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .tx
            .prepare_cached("SELECT item FROM ddb_items WHERE tbl = ?1 AND pk = ?2 AND sk = ?3")?
            .query_row(params![table, pk, sk], |r| r.get(0))
            .optional()?)
    }

    /// Writes an item.
    pub fn put(&mut self, table: i64, pk: &[u8], sk: &[u8], item: &[u8], size: usize) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "INSERT INTO ddb_items (tbl, pk, sk, item, size) VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (tbl, pk, sk) DO UPDATE SET item = excluded.item, size = excluded.size",
            )?
            .execute(params![table, pk, sk, item, size as i64])?;
        Ok(())
    }

    /// Deletes an item.
    pub fn delete(&mut self, table: i64, pk: &[u8], sk: &[u8]) -> Result<(), StoreError> {
        self.tx
            .prepare_cached("DELETE FROM ddb_items WHERE tbl = ?1 AND pk = ?2 AND sk = ?3")?
            .execute(params![table, pk, sk])?;
        Ok(())
    }

    /// Adds an index entry.
    pub fn index_put(&mut self, table: i64, index: &str, e: &IndexEntry) -> Result<(), StoreError> {
        self.tx
            .prepare_cached("REPLACE INTO ddb_index (tbl, idx, ipk, isk, pk, sk) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?
            .execute(params![table, index, e.ipk, e.isk, e.pk, e.sk])?;
        Ok(())
    }

    /// Removes an index entry.
    pub fn index_delete(&mut self, table: i64, index: &str, e: &IndexEntry) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "DELETE FROM ddb_index WHERE tbl = ?1 AND idx = ?2 AND ipk = ?3 AND isk = ?4 AND pk = ?5 AND sk = ?6",
            )?
            .execute(params![table, index, e.ipk, e.isk, e.pk, e.sk])?;
        Ok(())
    }

    /// Appends a stream record; its sequence number.
    pub fn stream_append(&mut self, stream: &str, at_ms: i64, record: &[u8]) -> Result<i64, StoreError> {
        self.tx
            .prepare_cached("INSERT INTO ddb_stream_records (stream, at_ms, record) VALUES (?1, ?2, ?3)")?
            .execute(params![stream, at_ms, record])?;
        Ok(self.tx.last_insert_rowid())
    }

    /// Records an idempotency token and its request's digest; the digest recorded before
    /// if the token was used since `since_ms`.
    pub fn token(
        &mut self,
        token: &str,
        digest: &str,
        now_ms: i64,
        since_ms: i64,
    ) -> Result<Option<String>, StoreError> {
        let seen: Option<(String, i64)> = self
            .tx
            .prepare_cached("SELECT digest, at_ms FROM ddb_tokens WHERE token = ?1")?
            .query_row([token], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        match seen {
            Some((d, at)) if at >= since_ms => Ok(Some(d)),
            _ => {
                self.tx
                    .prepare_cached("REPLACE INTO ddb_tokens (token, digest, at_ms) VALUES (?1, ?2, ?3)")?
                    .execute(params![token, digest, now_ms])?;
                Ok(None)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_leaves_nothing() {
        let dir = std::env::temp_dir().join(format!("lamina-tables-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let s = TableStore::open(&dir.join("t.db")).unwrap();
        let id = s.create_table("t", "{}").unwrap().unwrap();
        assert_eq!(s.create_table("t", "{}").unwrap(), None);
        let r: Result<(), StoreError> = s.write(|w| {
            w.put(id, b"a", b"", b"item", 4)?;
            Err(StoreError::Corrupt("refused".into()))
        });
        assert!(r.is_err());
        assert_eq!(s.get(id, b"a", b"").unwrap(), None);
        s.write::<_, StoreError>(|w| {
            for k in [b"1", b"2", b"3"] {
                w.put(id, b"p", k, b"x", 1)?;
            }
            Ok(())
        })
        .unwrap();
        let got = s.range(id, b"p", &Bound::Excluded(b"1".to_vec()), &Bound::Unbounded, false, 10).unwrap();
        assert_eq!(got.iter().map(|i| i.sk.clone()).collect::<Vec<_>>(), vec![b"3".to_vec(), b"2".to_vec()]);
        assert_eq!(s.counts().unwrap(), vec![(id, TableCounts { items: 3, bytes: 3 })]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
