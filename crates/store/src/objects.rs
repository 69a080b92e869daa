//! S3's metadata: buckets, object versions, multipart uploads and the outbox of event
//! notifications (queued in the transaction of the write that causes them), in a SQLite
//! file of its own so that object traffic never waits on the rest of the state. Each version
//! names the blob that holds its bytes: a file the `s3` crate writes (fsynced and renamed
//! into place before the row that names it is committed), or, for a small object, a row of
//! `inline_blobs` (named `i<rowid>`) inserted with the version's in one transaction, which
//! is then fsynced (`synchronous=FULL` for that commit alone), and deleted by a trigger
//! when its version goes or its bytes are replaced. Its ids are never reused
//! (`AUTOINCREMENT`), so a read that found a version before it went can never be handed
//! another object's bytes.

use std::path::Path;

use model::sync::Mutex;
use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::StoreError;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS buckets (
    name TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS objects (
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    version TEXT NOT NULL,
    seq INTEGER NOT NULL,
    latest INTEGER NOT NULL,
    marker INTEGER NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    modified_ms INTEGER NOT NULL,
    blob TEXT,
    doc TEXT NOT NULL,
    PRIMARY KEY (bucket, key, version)
);
CREATE INDEX IF NOT EXISTS objects_listing ON objects (bucket, latest, key);
CREATE TABLE IF NOT EXISTS uploads (
    id TEXT PRIMARY KEY,
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    initiated_ms INTEGER NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS uploads_listing ON uploads (bucket, key, initiated_ms);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS inline_blobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    data BLOB NOT NULL
);
CREATE TRIGGER IF NOT EXISTS inline_blobs_go_with_their_version AFTER DELETE ON objects
WHEN old.blob GLOB 'i[0-9]*' BEGIN
    DELETE FROM inline_blobs WHERE id = CAST(substr(old.blob, 2) AS INTEGER);
END;
CREATE TRIGGER IF NOT EXISTS inline_blobs_go_when_replaced AFTER UPDATE OF blob ON objects
WHEN old.blob GLOB 'i[0-9]*' AND old.blob IS NOT new.blob BEGIN
    DELETE FROM inline_blobs WHERE id = CAST(substr(old.blob, 2) AS INTEGER);
END;
CREATE TABLE IF NOT EXISTS parts (
    upload TEXT NOT NULL,
    number INTEGER NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    modified_ms INTEGER NOT NULL,
    blob TEXT NOT NULL,
    checksum TEXT,
    PRIMARY KEY (upload, number)
);
";

/// A multipart upload in progress, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRecord {
    /// Its id.
    pub id: String,
    /// The bucket.
    pub bucket: String,
    /// The key the object will have.
    pub key: String,
    /// When it was created, ms since the epoch.
    pub initiated_ms: i64,
    /// What the object will carry (headers, metadata), in the `s3` crate's format.
    pub doc: String,
}

/// An uploaded part, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartRecord {
    /// The upload.
    pub upload: String,
    /// Its part number (1–10,000).
    pub number: i64,
    /// Its length.
    pub size: i64,
    /// Its ETag, quoted.
    pub etag: String,
    /// When it was uploaded, ms.
    pub modified_ms: i64,
    /// The blob holding its bytes.
    pub blob: String,
    /// Its checksum (base64), when its upload has an algorithm.
    pub checksum: Option<String>,
}

/// A bucket, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketRecord {
    /// Its name, unique across accounts.
    pub name: String,
    /// The owning account.
    pub account: String,
    /// Its region (its `LocationConstraint`, or `us-east-1`).
    pub region: String,
    /// When it was made, ms since the epoch.
    pub created_ms: i64,
    /// Its configuration (versioning, tags, CORS, policy, …), in the `s3` crate's format.
    pub doc: String,
}

/// One version of an object (or a delete marker), as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRecord {
    /// The bucket.
    pub bucket: String,
    /// The key: opaque bytes of UTF-8, never a path.
    pub key: String,
    /// The version id; `null` in a bucket that never had versioning on.
    pub version: String,
    /// Orders a key's versions: the newest has the highest.
    pub seq: i64,
    /// Whether this is the key's current version.
    pub latest: bool,
    /// Whether this is a delete marker.
    pub marker: bool,
    /// Its length in bytes.
    pub size: i64,
    /// Its ETag, quoted as S3 shows it.
    pub etag: String,
    /// When it was written, ms since the epoch.
    pub modified_ms: i64,
    /// The blob holding its bytes (none for a delete marker).
    pub blob: Option<String>,
    /// Its metadata (content headers, user metadata, tags, checksums), in the `s3`
    /// crate's format.
    pub doc: String,
}

/// S3's metadata store.
pub struct ObjectStore {
    conn: Mutex<Connection>,
    /// The WAL file, open for the fsyncs that make commits with bytes in them durable
    /// without holding the connection (so that concurrent writes share the disk's
    /// flushes); `None` if it could not be opened, and then those commits are
    /// `synchronous=FULL`.
    wal: Option<std::fs::File>,
}

impl std::fmt::Debug for ObjectStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectStore").finish_non_exhaustive()
    }
}

const OBJECT_COLUMNS: &str = "bucket, key, version, seq, latest, marker, size, etag, modified_ms, blob, doc";

fn object_of(r: &Row<'_>) -> rusqlite::Result<ObjectRecord> {
    Ok(ObjectRecord {
        bucket: r.get(0)?,
        key: r.get(1)?,
        version: r.get(2)?,
        seq: r.get(3)?,
        latest: r.get(4)?,
        marker: r.get(5)?,
        size: r.get(6)?,
        etag: r.get(7)?,
        modified_ms: r.get(8)?,
        blob: r.get(9)?,
        doc: r.get(10)?,
    })
}

/// `put_object`'s work, inside a transaction of the caller's. A key's `null` version is
/// rewritten in place (its row and index entries stay where they are, so an overwrite
/// touches as few pages as it can); any other version is a new row.
fn put_object_in(tx: &rusqlite::Transaction<'_>, o: &ObjectRecord) -> rusqlite::Result<Vec<String>> {
    let seq: i64 = tx
        .prepare_cached("SELECT COALESCE(MAX(seq), 0) + 1 FROM objects WHERE bucket = ?1 AND key = ?2")?
        .query_row(params![o.bucket, o.key], |r| r.get(0))?;
    let old: Option<Option<String>> = match o.version.as_str() {
        "null" => tx
            .prepare_cached("SELECT blob FROM objects WHERE bucket = ?1 AND key = ?2 AND version = 'null'")?
            .query_row(params![o.bucket, o.key], |r| r.get(0))
            .optional()?,
        _ => None,
    };
    tx.prepare_cached("UPDATE objects SET latest = 0 WHERE bucket = ?1 AND key = ?2 AND latest = 1 AND version != ?3")?
        .execute(params![o.bucket, o.key, o.version])?;
    if old.is_some() {
        tx.prepare_cached(
            "UPDATE objects SET seq = ?3, marker = ?4, size = ?5, etag = ?6, modified_ms = ?7, blob = ?8, doc = ?9 \
             WHERE bucket = ?1 AND key = ?2 AND version = 'null'",
        )?
        .execute(params![o.bucket, o.key, seq, o.marker, o.size, o.etag, o.modified_ms, o.blob, o.doc])?;
        tx.prepare_cached(
            "UPDATE objects SET latest = 1 WHERE bucket = ?1 AND key = ?2 AND version = 'null' AND latest = 0",
        )?
        .execute(params![o.bucket, o.key])?;
    } else {
        tx.prepare_cached(&format!(
            "INSERT INTO objects ({OBJECT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6, ?7, ?8, ?9, ?10)"
        ))?
        .execute(params![
            o.bucket,
            o.key,
            o.version,
            seq,
            o.marker,
            o.size,
            o.etag,
            o.modified_ms,
            o.blob,
            o.doc
        ])?;
    }
    Ok(old.flatten().into_iter().collect())
}

/// The current version of `o`'s key (none when it has none, or a delete marker), inside a
/// transaction of the caller's.
fn current_in(tx: &rusqlite::Transaction<'_>, o: &ObjectRecord) -> rusqlite::Result<Option<ObjectRecord>> {
    tx.prepare_cached(&format!(
        "SELECT {OBJECT_COLUMNS} FROM objects WHERE bucket = ?1 AND key = ?2 AND latest = 1 AND marker = 0"
    ))?
    .query_row(params![o.bucket, o.key], object_of)
    .optional()
}

/// Queues event notifications inside a transaction of the caller's.
fn push_events_in(tx: &rusqlite::Transaction<'_>, events: &[String]) -> rusqlite::Result<()> {
    for e in events {
        tx.prepare_cached("INSERT INTO events (doc) VALUES (?1)")?.execute(params![e])?;
    }
    Ok(())
}

/// Deletes an upload and its parts inside a transaction of the caller's; the parts' blobs.
fn end_upload_in(tx: &rusqlite::Transaction<'_>, id: &str) -> rusqlite::Result<Vec<String>> {
    let mut gone = Vec::new();
    {
        let mut stmt = tx.prepare("SELECT blob FROM parts WHERE upload = ?1")?;
        let rows = stmt.query_map(params![id], |r| r.get::<_, String>(0))?;
        for r in rows {
            gone.push(r?);
        }
    }
    tx.execute("DELETE FROM parts WHERE upload = ?1", params![id])?;
    tx.execute("DELETE FROM uploads WHERE id = ?1", params![id])?;
    Ok(gone)
}

fn upload_of(r: &Row<'_>) -> rusqlite::Result<UploadRecord> {
    Ok(UploadRecord { id: r.get(0)?, bucket: r.get(1)?, key: r.get(2)?, initiated_ms: r.get(3)?, doc: r.get(4)? })
}

fn bucket_of(r: &Row<'_>) -> rusqlite::Result<BucketRecord> {
    Ok(BucketRecord { name: r.get(0)?, account: r.get(1)?, region: r.get(2)?, created_ms: r.get(3)?, doc: r.get(4)? })
}

impl ObjectStore {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<ObjectStore, StoreError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Unavailable(e.to_string()))?;
        }
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.set_prepared_statement_cache_capacity(64);
        conn.execute_batch(SCHEMA)?;
        // Parts' checksums came after the first stores were made.
        let has_checksums: bool =
            conn.query_row("SELECT COUNT(*) FROM pragma_table_info('parts') WHERE name = 'checksum'", [], |r| {
                r.get(0)
            })?;
        if !has_checksums {
            conn.execute_batch("ALTER TABLE parts ADD COLUMN checksum TEXT")?;
        }
        // The WAL exists once the connection has read the schema; SQLite never truncates it
        // while the connection is open (a checkpoint rewrites it from the start), and
        // takes no locks on it, so this handle stays the file's for the store's life.
        let mut wal_path = path.as_os_str().to_owned();
        wal_path.push("-wal");
        let wal = std::fs::File::open(&wal_path).ok();
        Ok(ObjectStore { conn: Mutex::new(conn), wal })
    }

    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>) -> Result<T, StoreError> {
        let mut conn = self.conn.lock();
        Ok(f(&mut conn)?)
    }

    /// Stores a new bucket; false if one of that name exists.
    pub fn insert_bucket(&self, b: &BucketRecord) -> Result<bool, StoreError> {
        let n = self.with(|c| {
            c.execute(
                "INSERT OR IGNORE INTO buckets (name, account, region, created_ms, doc) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![b.name, b.account, b.region, b.created_ms, b.doc],
            )
        })?;
        Ok(n == 1)
    }

    /// The bucket of that name.
    pub fn bucket(&self, name: &str) -> Result<Option<BucketRecord>, StoreError> {
        self.with(|c| {
            c.prepare_cached("SELECT name, account, region, created_ms, doc FROM buckets WHERE name = ?1")?
                .query_row(params![name], bucket_of)
                .optional()
        })
    }

    /// Every bucket, by name.
    pub fn all_buckets(&self) -> Result<Vec<BucketRecord>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare("SELECT name, account, region, created_ms, doc FROM buckets ORDER BY name")?;
            let rows = stmt.query_map([], bucket_of)?;
            rows.collect()
        })
    }

    /// An account's buckets, by name.
    pub fn buckets(&self, account: &str) -> Result<Vec<BucketRecord>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT name, account, region, created_ms, doc FROM buckets WHERE account = ?1 ORDER BY name",
            )?;
            let rows = stmt.query_map(params![account], bucket_of)?;
            rows.collect()
        })
    }

    /// Replaces a bucket's configuration.
    pub fn update_bucket(&self, name: &str, doc: &str) -> Result<(), StoreError> {
        self.with(|c| c.execute("UPDATE buckets SET doc = ?2 WHERE name = ?1", params![name, doc]).map(drop))
    }

    /// Deletes a bucket if it holds no object version, with its unfinished uploads: the
    /// blobs of their parts (for the caller to delete), or `None` if it is not empty.
    pub fn delete_bucket(&self, name: &str) -> Result<Option<Vec<String>>, StoreError> {
        self.with(|c| {
            let tx = c.transaction()?;
            let any: bool =
                tx.query_row("SELECT EXISTS (SELECT 1 FROM objects WHERE bucket = ?1)", params![name], |r| r.get(0))?;
            if any {
                return Ok(None);
            }
            let uploads: Vec<String> = {
                let mut stmt = tx.prepare("SELECT id FROM uploads WHERE bucket = ?1")?;
                let rows = stmt.query_map(params![name], |r| r.get(0))?;
                rows.collect::<rusqlite::Result<_>>()?
            };
            let mut gone = Vec::new();
            for u in uploads {
                gone.extend(end_upload_in(&tx, &u)?);
            }
            tx.execute("DELETE FROM buckets WHERE name = ?1", params![name])?;
            tx.commit()?;
            Ok(Some(gone))
        })
    }

    /// Stores a new version of a key as its latest; a `null` version replaces the key's
    /// `null` version, if it has one. The blobs no version names any more are returned,
    /// for the caller to delete once this has committed. `events` (event notifications'
    /// documents) are queued in the same transaction, as they are by every write here.
    pub fn put_object(&self, o: &ObjectRecord, events: &[String]) -> Result<Vec<String>, StoreError> {
        self.put_object_if(&mut o.clone(), None, events, |_| true).map(|r| r.unwrap_or_default())
    }

    /// `put_object`, if `allowed` says yes to the key's current version (none when it has
    /// none) in the same transaction; `None` when it says no. With `inline`, those are the
    /// version's bytes, stored in the same transaction under a new id that becomes `o`'s
    /// blob, and the commit is fsynced before this returns.
    pub fn put_object_if(
        &self,
        o: &mut ObjectRecord,
        inline: Option<&[u8]>,
        events: &[String],
        allowed: impl FnOnce(Option<&ObjectRecord>) -> bool,
    ) -> Result<Option<Vec<String>>, StoreError> {
        // Only a commit with bytes in it waits for the disk: on the WAL's fsync, which also
        // makes every commit before it durable. A checkpoint between the commit and the
        // fsync has already synced the commit's pages.
        let full = inline.is_some() && self.wal.is_none();
        let put = self.with(|c| {
            if full {
                c.pragma_update(None, "synchronous", "FULL")?;
            }
            let put = (|| {
                let tx = c.transaction()?;
                if !allowed(current_in(&tx, o)?.as_ref()) {
                    return Ok(None);
                }
                if let Some(data) = inline {
                    tx.prepare_cached("INSERT INTO inline_blobs (data) VALUES (?1)")?.execute(params![data])?;
                    o.blob = Some(format!("i{}", tx.last_insert_rowid()));
                }
                let gone = put_object_in(&tx, o)?;
                push_events_in(&tx, events)?;
                tx.commit()?;
                Ok(Some(gone))
            })();
            if full {
                c.pragma_update(None, "synchronous", "NORMAL")?;
            }
            put
        })?;
        if let (Some(_), Some(_), Some(wal)) = (&put, inline, &self.wal) {
            wal.sync_data().map_err(|e| StoreError::Unavailable(format!("syncing S3's WAL: {e}")))?;
        }
        Ok(put)
    }

    /// The bytes of inline blob `id` (`i<rowid>`), if there is one.
    pub fn inline_blob(&self, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let Some(rowid) = id.strip_prefix('i').and_then(|n| n.parse::<i64>().ok()) else {
            return Ok(None);
        };
        self.with(|c| {
            c.prepare_cached("SELECT data FROM inline_blobs WHERE id = ?1")?
                .query_row(params![rowid], |r| r.get(0))
                .optional()
        })
    }

    /// Replaces a version's metadata document; false if the version is not there.
    pub fn update_object(
        &self,
        bucket: &str,
        key: &str,
        version: &str,
        doc: &str,
        events: &[String],
    ) -> Result<bool, StoreError> {
        self.with(|c| {
            let tx = c.transaction()?;
            let n = tx.execute(
                "UPDATE objects SET doc = ?4 WHERE bucket = ?1 AND key = ?2 AND version = ?3",
                params![bucket, key, version, doc],
            )?;
            if n == 1 {
                push_events_in(&tx, events)?;
            }
            tx.commit()?;
            Ok(n == 1)
        })
    }

    /// A key's version: the latest unless one is named.
    pub fn object(&self, bucket: &str, key: &str, version: Option<&str>) -> Result<Option<ObjectRecord>, StoreError> {
        self.with(|c| match version {
            Some(v) => c
                .prepare_cached(&format!(
                    "SELECT {OBJECT_COLUMNS} FROM objects WHERE bucket = ?1 AND key = ?2 AND version = ?3"
                ))?
                .query_row(params![bucket, key, v], object_of)
                .optional(),
            None => c
                .prepare_cached(&format!(
                    "SELECT {OBJECT_COLUMNS} FROM objects WHERE bucket = ?1 AND key = ?2 AND latest = 1"
                ))?
                .query_row(params![bucket, key], object_of)
                .optional(),
        })
    }

    /// Deletes one version of a key (the newest left becomes its latest); the blob it
    /// named, if it did and it existed. `events` are queued whether it existed or not (S3
    /// notifies a delete of what was not there).
    pub fn delete_version(
        &self,
        bucket: &str,
        key: &str,
        version: &str,
        events: &[String],
    ) -> Result<Option<Option<String>>, StoreError> {
        self.with(|c| {
            let tx = c.transaction()?;
            let old: Option<Option<String>> = tx
                .query_row(
                    "SELECT blob FROM objects WHERE bucket = ?1 AND key = ?2 AND version = ?3",
                    params![bucket, key, version],
                    |r| r.get(0),
                )
                .optional()?;
            if old.is_some() {
                tx.execute(
                    "DELETE FROM objects WHERE bucket = ?1 AND key = ?2 AND version = ?3",
                    params![bucket, key, version],
                )?;
                tx.execute(
                    "UPDATE objects SET latest = 1 WHERE bucket = ?1 AND key = ?2 AND seq = \
                     (SELECT MAX(seq) FROM objects WHERE bucket = ?1 AND key = ?2)",
                    params![bucket, key],
                )?;
            }
            push_events_in(&tx, events)?;
            tx.commit()?;
            Ok(old)
        })
    }

    /// Latest versions that are not delete markers, in key order: keys after `after`
    /// that begin with `prefix`, at most `limit`.
    pub fn list(&self, bucket: &str, prefix: &str, after: &str, limit: usize) -> Result<Vec<ObjectRecord>, StoreError> {
        self.with(|c| {
            // Keys from `max(after, prefix)` on; the prefix is checked in Rust, where a
            // byte comparison is exact.
            let from = if prefix > after { prefix } else { after };
            let op = if prefix > after { ">=" } else { ">" };
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {OBJECT_COLUMNS} FROM objects WHERE bucket = ?1 AND latest = 1 AND marker = 0 \
                 AND key {op} ?2 ORDER BY key LIMIT ?3"
            ))?;
            let rows = stmt.query_map(params![bucket, from, limit as i64], object_of)?;
            let mut out = Vec::new();
            for r in rows {
                let r = r?;
                if !r.key.starts_with(prefix) {
                    break;
                }
                out.push(r);
            }
            Ok(out)
        })
    }

    /// Every version and delete marker, in key order and newest first within a key: keys
    /// that begin with `prefix`, after the marker (a key, and within it a version's
    /// sequence: versions older than it follow), at most `limit`.
    pub fn versions(
        &self,
        bucket: &str,
        prefix: &str,
        marker: Option<(&str, Option<i64>)>,
        limit: usize,
    ) -> Result<Vec<ObjectRecord>, StoreError> {
        self.with(|c| {
            let order = format!("ORDER BY key, seq DESC LIMIT {limit}");
            let select = format!("SELECT {OBJECT_COLUMNS} FROM objects WHERE bucket = ?1 AND");
            let rows: Vec<ObjectRecord> = match marker {
                Some((key, Some(seq))) if key >= prefix => {
                    let mut stmt =
                        c.prepare_cached(&format!("{select} (key > ?2 OR (key = ?2 AND seq < ?3)) {order}"))?;
                    let rows = stmt.query_map(params![bucket, key, seq], object_of)?;
                    rows.collect::<rusqlite::Result<_>>()?
                }
                Some((key, None)) if key >= prefix => {
                    let mut stmt = c.prepare_cached(&format!("{select} key > ?2 {order}"))?;
                    let rows = stmt.query_map(params![bucket, key], object_of)?;
                    rows.collect::<rusqlite::Result<_>>()?
                }
                _ => {
                    let mut stmt = c.prepare_cached(&format!("{select} key >= ?2 {order}"))?;
                    let rows = stmt.query_map(params![bucket, prefix], object_of)?;
                    rows.collect::<rusqlite::Result<_>>()?
                }
            };
            Ok(rows.into_iter().take_while(|r| r.key.starts_with(prefix)).collect())
        })
    }

    /// Every blob a version or a part names: what the blob directory must keep.
    pub fn blobs(&self) -> Result<Vec<String>, StoreError> {
        self.with(|c| {
            let mut stmt =
                c.prepare("SELECT blob FROM objects WHERE blob IS NOT NULL UNION ALL SELECT blob FROM parts")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            rows.collect()
        })
    }

    /// Stores a new multipart upload.
    pub fn insert_upload(&self, u: &UploadRecord) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO uploads (id, bucket, key, initiated_ms, doc) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![u.id, u.bucket, u.key, u.initiated_ms, u.doc],
            )
            .map(drop)
        })
    }

    /// The upload of that id.
    pub fn upload(&self, id: &str) -> Result<Option<UploadRecord>, StoreError> {
        self.with(|c| {
            c.query_row("SELECT id, bucket, key, initiated_ms, doc FROM uploads WHERE id = ?1", params![id], upload_of)
                .optional()
        })
    }

    /// A bucket's uploads in (key, initiation) order, after the given key (and, for that
    /// key, after the given upload id), at most `limit`.
    pub fn uploads(
        &self,
        bucket: &str,
        prefix: &str,
        after: (&str, &str),
        limit: usize,
    ) -> Result<Vec<UploadRecord>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, bucket, key, initiated_ms, doc FROM uploads WHERE bucket = ?1 AND key >= ?2 \
                 ORDER BY key, initiated_ms, id",
            )?;
            let rows = stmt.query_map(params![bucket, prefix], upload_of)?;
            let mut out = Vec::new();
            let mut passed_marker = after.1.is_empty();
            for r in rows {
                let r = r?;
                if !r.key.starts_with(prefix) {
                    break;
                }
                if r.key.as_str() < after.0 || (r.key == after.0 && (after.1.is_empty() || !passed_marker)) {
                    passed_marker |= r.key == after.0 && r.id == after.1;
                    continue;
                }
                out.push(r);
                if out.len() == limit {
                    break;
                }
            }
            Ok(out)
        })
    }

    /// Stores a part, replacing one of the same number; the blob it replaced, if any.
    pub fn put_part(&self, p: &PartRecord) -> Result<Option<String>, StoreError> {
        self.with(|c| {
            let tx = c.transaction()?;
            let old: Option<String> = tx
                .query_row(
                    "SELECT blob FROM parts WHERE upload = ?1 AND number = ?2",
                    params![p.upload, p.number],
                    |r| r.get(0),
                )
                .optional()?;
            tx.execute(
                "REPLACE INTO parts (upload, number, size, etag, modified_ms, blob, checksum) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![p.upload, p.number, p.size, p.etag, p.modified_ms, p.blob, p.checksum],
            )?;
            tx.commit()?;
            Ok(old)
        })
    }

    /// An upload's parts in number order, after `after`, at most `limit`.
    pub fn parts(&self, upload: &str, after: i64, limit: usize) -> Result<Vec<PartRecord>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT upload, number, size, etag, modified_ms, blob, checksum FROM parts \
                 WHERE upload = ?1 AND number > ?2 ORDER BY number LIMIT ?3",
            )?;
            let rows = stmt.query_map(params![upload, after, limit as i64], |r| {
                Ok(PartRecord {
                    upload: r.get(0)?,
                    number: r.get(1)?,
                    size: r.get(2)?,
                    etag: r.get(3)?,
                    modified_ms: r.get(4)?,
                    blob: r.get(5)?,
                    checksum: r.get(6)?,
                })
            })?;
            rows.collect()
        })
    }

    /// Ends an upload: its parts' blobs, for the caller to delete once this has
    /// committed; with `object`, the object it completed into is stored in the same
    /// transaction (and the blobs that object replaced are returned too).
    pub fn end_upload(
        &self,
        id: &str,
        object: Option<&ObjectRecord>,
        events: &[String],
    ) -> Result<Vec<String>, StoreError> {
        self.end_upload_if(id, object, events, |_| true).map(Option::unwrap_or_default)
    }

    /// `end_upload`, if `allowed` says yes to the current version of the key the object
    /// completes (checked in the same transaction); `None` when it says no, and the upload
    /// stays.
    pub fn end_upload_if(
        &self,
        id: &str,
        object: Option<&ObjectRecord>,
        events: &[String],
        allowed: impl FnOnce(Option<&ObjectRecord>) -> bool,
    ) -> Result<Option<Vec<String>>, StoreError> {
        self.with(|c| {
            let tx = c.transaction()?;
            let mut gone = match object {
                Some(o) => {
                    if !allowed(current_in(&tx, o)?.as_ref()) {
                        return Ok(None);
                    }
                    put_object_in(&tx, o)?
                }
                None => Vec::new(),
            };
            gone.extend(end_upload_in(&tx, id)?);
            push_events_in(&tx, events)?;
            tx.commit()?;
            Ok(Some(gone))
        })
    }

    /// Queues event notifications on their own (a configuration's test event).
    pub fn push_events(&self, events: &[String]) -> Result<(), StoreError> {
        self.with(|c| {
            let tx = c.transaction()?;
            push_events_in(&tx, events)?;
            tx.commit()
        })
    }

    /// The oldest queued event notifications, at most `limit`: (id, document).
    pub fn events(&self, limit: usize) -> Result<Vec<(i64, String)>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare_cached("SELECT id, doc FROM events ORDER BY id LIMIT ?1")?;
            let rows = stmt.query_map(params![limit as i64], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect()
        })
    }

    /// Forgets a delivered (or undeliverable) event notification.
    pub fn drop_event(&self, id: i64) -> Result<(), StoreError> {
        self.with(|c| c.execute("DELETE FROM events WHERE id = ?1", params![id]).map(drop))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(key: &str, version: &str, blob: &str) -> ObjectRecord {
        ObjectRecord {
            bucket: "b".into(),
            key: key.into(),
            version: version.into(),
            seq: 0,
            latest: true,
            marker: false,
            size: 1,
            etag: "\"e\"".into(),
            modified_ms: 1,
            blob: Some(blob.into()),
            doc: "{}".into(),
        }
    }

    #[test]
    fn versions_replace_and_list_in_key_order() {
        let dir = std::env::temp_dir().join(format!("lamina-objects-{}", std::process::id()));
        let s = ObjectStore::open(&dir.join("s3.db")).unwrap();
        let b =
            BucketRecord { name: "b".into(), account: "a".into(), region: "r".into(), created_ms: 1, doc: "{}".into() };
        assert!(s.insert_bucket(&b).unwrap());
        assert!(!s.insert_bucket(&b).unwrap());
        assert!(s.put_object(&object("k", "null", "blob1"), &[]).unwrap().is_empty());
        assert_eq!(s.put_object(&object("k", "null", "blob2"), &[]).unwrap(), ["blob1"]);
        assert!(s.put_object(&object("k", "v2", "blob3"), &[]).unwrap().is_empty());
        assert_eq!(s.object("b", "k", None).unwrap().unwrap().blob.as_deref(), Some("blob3"));
        assert_eq!(s.object("b", "k", Some("null")).unwrap().unwrap().blob.as_deref(), Some("blob2"));
        for k in ["a/1", "a/2", "b/1", "ab"] {
            s.put_object(&object(k, "null", k), &[]).unwrap();
        }
        let keys = |v: Vec<ObjectRecord>| v.into_iter().map(|o| o.key).collect::<Vec<_>>();
        assert_eq!(keys(s.list("b", "a", "", 10).unwrap()), ["a/1", "a/2", "ab"]);
        assert_eq!(keys(s.list("b", "a", "a/1", 10).unwrap()), ["a/2", "ab"]);
        assert_eq!(keys(s.list("b", "", "ab", 2).unwrap()), ["b/1", "k"]);
        assert!(s.delete_bucket("b").unwrap().is_none(), "not empty");
        assert_eq!(s.delete_version("b", "k", "v2", &[]).unwrap(), Some(Some("blob3".into())));
        assert_eq!(s.object("b", "k", None).unwrap().unwrap().version, "null", "the older one is latest again");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn inline_bytes_live_and_go_with_their_version() {
        let dir = std::env::temp_dir().join(format!("lamina-inline-{}", std::process::id()));
        let s = ObjectStore::open(&dir.join("s3.db")).unwrap();
        assert!(s.wal.is_some(), "the WAL is open for the fsyncs of commits with bytes");
        let put = |key: &str, version: &str, data: &[u8], allowed: bool| {
            let mut o = object(key, version, "i");
            let gone = s.put_object_if(&mut o, Some(data), &[], |_| allowed).unwrap();
            (o.blob.unwrap(), gone)
        };
        let (one, gone) = put("k", "null", b"one", true);
        assert_eq!(gone, Some(vec![]));
        assert_eq!(s.inline_blob(&one).unwrap().as_deref(), Some(&b"one"[..]));
        let (two, gone) = put("k", "null", b"two", false);
        assert_eq!(gone, None, "refused");
        assert_eq!(s.inline_blob(&two).unwrap(), None, "nothing stored");
        // A new null version takes the old one's place, and the old bytes go in its transaction.
        let (three, gone) = put("k", "null", b"three", true);
        assert_eq!(gone, Some(vec![one.clone()]));
        assert_eq!(s.inline_blob(&one).unwrap(), None);
        let (four, _) = put("k", "v2", b"four", true);
        assert_eq!(s.object("b", "k", None).unwrap().unwrap().version, "v2");
        assert_eq!(s.delete_version("b", "k", "v2", &[]).unwrap(), Some(Some(four.clone())));
        assert_eq!(s.inline_blob(&four).unwrap(), None);
        // The newest id went with its version; the next is still a new one.
        let (five, _) = put("k", "v3", b"five", true);
        assert!(![&one, &two, &three, &four].contains(&&five), "{five} was used before");
        assert_eq!(s.delete_version("b", "k", "v3", &[]).unwrap(), Some(Some(five.clone())));
        let latest = s.object("b", "k", None).unwrap().unwrap();
        assert_eq!((latest.version.as_str(), latest.blob.as_deref()), ("null", Some(three.as_str())));
        drop(s);
        // Committed bytes are there when the file is opened again.
        let s = ObjectStore::open(&dir.join("s3.db")).unwrap();
        assert_eq!(s.inline_blob(&three).unwrap().as_deref(), Some(&b"three"[..]));
        // A file's blob replacing inline bytes takes them with it too.
        assert_eq!(s.put_object(&object("k", "null", "file-blob"), &[]).unwrap(), vec![three.clone()]);
        assert_eq!(s.inline_blob(&three).unwrap(), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
