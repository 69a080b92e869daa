//! Object bytes in files: `blobs/<2 hex>/<id>`, named by ids of their own, never by keys.
//! A write streams into `blobs/tmp/`, digesting as it goes, and is renamed into place and
//! then fsynced before it counts. On ext4, XFS and btrfs that one fsync also makes the new
//! name durable (their journals commit the rename with the file); elsewhere the directory
//! is fsynced too. A crash before the object's row commits leaves a file no row names,
//! which start-up removes with the temporary files. A small body is gathered first and
//! written, placed and synced in one trip to the blocking pool; the 256 shard directories
//! are made once and kept open for their fsyncs. The blobs an overwrite or a delete frees
//! are removed after the answer, off the request's path. Reads go a mebibyte at a time
//! straight into the buffer that is sent.
//!
//! A PutObject body of at most 64 KiB is not written here: `write` hands it back for the
//! store to keep with the object's row in one fsynced commit (the fsync of a file already
//! there, where a new file's costs a journal commit too).

use std::collections::HashSet;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use md5::Digest;
use tokio::io::AsyncWriteExt;

use crate::checksums::{Algorithm, Hasher};
use crate::S3Error;

/// A body up to this long is gathered in memory, then written in one go.
const SMALL: usize = 256 * 1024;
/// A PutObject body up to this long is kept with its object's row.
pub const INLINE: usize = 64 * 1024;
/// How much a read of a blob takes at once.
const READ_CHUNK: u64 = 1024 * 1024;

/// The blob files.
#[derive(Debug, Clone)]
pub struct Blobs {
    dir: PathBuf,
    /// The shard directories (`00` to `ff`), open for their fsyncs.
    shards: Arc<Vec<std::fs::File>>,
    /// Whether a file's fsync makes its new name durable too, so a shard needs no fsync of
    /// its own after a rename.
    names_with_files: bool,
}

/// A blob written: its id, length and MD5.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The blob's id.
    pub id: String,
    /// Its length in bytes.
    pub size: u64,
    /// The MD5 of its bytes.
    pub md5: [u8; 16],
    /// Their checksum by the algorithm asked for, if one was.
    pub checksum: Option<Vec<u8>>,
    /// The bytes themselves, for the store to keep, when the blob is inline.
    pub inline: Option<Vec<u8>>,
}

impl Blobs {
    /// The blob directory at `dir`, made if need be.
    pub fn open(dir: &Path) -> std::io::Result<Blobs> {
        std::fs::create_dir_all(dir.join("tmp"))?;
        let mut shards = Vec::with_capacity(256);
        for n in 0..=255u8 {
            let shard = dir.join(format!("{n:02x}"));
            std::fs::create_dir_all(&shard)?;
            shards.push(std::fs::File::open(&shard)?);
        }
        std::fs::File::open(dir)?.sync_all()?;
        let names_with_files = names_durable_with_files(dir);
        Ok(Blobs { dir: dir.to_owned(), shards: Arc::new(shards), names_with_files })
    }

    /// Places a written temporary file as blob `id`: renamed into its shard, then the file
    /// and its new name made durable. On an error nothing is left under either name.
    fn place(&self, file: &std::fs::File, tmp: &Path, id: &str) -> std::io::Result<()> {
        let path = self.path(id);
        std::fs::rename(tmp, &path)?;
        let synced = file.sync_all().and_then(|()| match self.names_with_files {
            true => Ok(()),
            false => self.shard(id).sync_all(),
        });
        if synced.is_err() {
            let _ = std::fs::remove_file(&path);
        }
        synced
    }

    /// The open shard directory of blob `id`.
    fn shard(&self, id: &str) -> &std::fs::File {
        let shard = id.get(..2).and_then(|h| u8::from_str_radix(h, 16).ok()).unwrap_or(0);
        &self.shards[usize::from(shard)]
    }

    /// Whether blob `id` is kept in the store, with its object's row, rather than here
    /// (the store names those `i<n>`; file blobs are named in hex).
    pub fn is_inline(id: &str) -> bool {
        id.starts_with('i')
    }

    /// What an inline blob is called until the store names it.
    pub const INLINE_ID: &'static str = "i";

    /// Where blob `id` is.
    pub fn path(&self, id: &str) -> PathBuf {
        let shard = id.get(..2).unwrap_or("00");
        self.dir.join(shard).join(id)
    }

    /// `len` bytes of blob `id` from `start`, read 1 MiB at a time (each read one trip to
    /// the blocking pool, straight into the buffer that is sent).
    pub async fn read(
        &self,
        id: &str,
        start: u64,
        len: u64,
    ) -> Result<impl Stream<Item = std::io::Result<Bytes>> + Send + 'static, S3Error> {
        let path = self.path(id);
        let file = tokio::task::spawn_blocking(move || std::fs::File::open(path))
            .await
            .map_err(S3Error::internal)?
            .map_err(S3Error::internal)?;
        let file = Arc::new(file);
        Ok(futures_util::stream::unfold((file, start, len), |(file, at, left)| async move {
            if left == 0 {
                return None;
            }
            let want = left.min(READ_CHUNK) as usize;
            let f = file.clone();
            let read = tokio::task::spawn_blocking(move || {
                let mut buf = vec![0u8; want];
                let mut filled = 0;
                while filled < want {
                    match f.read_at(&mut buf[filled..], at + filled as u64)? {
                        0 => return Err(std::io::Error::other("the object's file ended early")),
                        n => filled += n,
                    }
                }
                Ok(Bytes::from(buf))
            })
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e)));
            match read {
                Ok(bytes) => Some((Ok(bytes), (file, at + want as u64, left - want as u64))),
                Err(e) => Some((Err(e), (file, at, 0))),
            }
        }))
    }

    /// Writes what `body` yields to a new blob, at most `max` bytes; when `expected` is
    /// given, exactly that many (else `IncompleteBody`), with its MD5 and its `checksum`
    /// by that algorithm. With `inline`, a body of at most [`INLINE`] bytes is handed back
    /// instead of written. Nothing is left behind on an error.
    pub async fn write<S>(
        &self,
        body: S,
        expected: Option<u64>,
        max: u64,
        checksum: Option<Algorithm>,
        inline: bool,
    ) -> Result<Written, S3Error>
    where
        S: Stream<Item = Result<Bytes, S3Error>>,
    {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let tmp = self.dir.join("tmp").join(&id);
        let mut received = Received {
            md5: md5::Md5::new(),
            checksum: checksum.map(Hasher::new),
            size: 0,
            held: Vec::new(),
            file: None,
        };
        if let Err(e) = received.take(&tmp, body, expected, max).await {
            if received.size as usize > SMALL {
                // Its temporary file had been made.
                let _ = tokio::fs::remove_file(&tmp).await;
            }
            return Err(e);
        }
        let held = std::mem::take(&mut received.held);
        if inline && received.file.is_none() && received.size as usize <= INLINE {
            return Ok(Written {
                id: Self::INLINE_ID.into(),
                size: received.size,
                md5: received.md5.finalize().into(),
                checksum: received.checksum.map(Hasher::finish),
                inline: Some(held.concat()),
            });
        }
        let file = match received.file.take() {
            Some(f) => Some(f.into_std().await),
            None => None,
        };
        let (blobs, tmp2, id2) = (self.clone(), tmp.clone(), id.clone());
        // Written (if gathered), placed and synced in one trip to the blocking pool.
        let placed = tokio::task::spawn_blocking(move || {
            let file = match file {
                Some(f) => f,
                None => {
                    let mut f = std::fs::File::create(&tmp2)?;
                    for chunk in &held {
                        f.write_all(chunk)?;
                    }
                    f
                }
            };
            blobs.place(&file, &tmp2, &id2)
        })
        .await
        .unwrap_or_else(|e| Err(std::io::Error::other(e)));
        if let Err(e) = placed {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(S3Error::internal(format!("placing a blob: {e}")));
        }
        Ok(Written {
            id,
            size: received.size,
            md5: received.md5.finalize().into(),
            checksum: received.checksum.map(Hasher::finish),
            inline: None,
        })
    }

    /// A new blob holding the given blobs one after another (a completed multipart
    /// upload's parts), copied file to file; its id, length and, if asked, its checksum.
    pub async fn concat(
        &self,
        parts: &[String],
        checksum: Option<Algorithm>,
    ) -> Result<(String, u64, Option<Vec<u8>>), S3Error> {
        use tokio::io::AsyncReadExt;
        let id = uuid::Uuid::new_v4().simple().to_string();
        let tmp = self.dir.join("tmp").join(&id);
        let mut hasher = checksum.map(Hasher::new);
        let copied = async {
            let mut out = tokio::fs::File::create(&tmp).await?;
            let mut size = 0;
            let mut buf = vec![0u8; 1024 * 1024];
            for p in parts {
                let mut part = tokio::fs::File::open(self.path(p)).await?;
                match &mut hasher {
                    None => size += tokio::io::copy(&mut part, &mut out).await?,
                    Some(h) => loop {
                        let n = part.read(&mut buf).await?;
                        if n == 0 {
                            break;
                        }
                        h.update(&buf[..n]);
                        out.write_all(&buf[..n]).await?;
                        size += n as u64;
                    },
                }
            }
            let (blobs, out, tmp, id) = (self.clone(), out.into_std().await, tmp.clone(), id.clone());
            tokio::task::spawn_blocking(move || blobs.place(&out, &tmp, &id))
                .await
                .unwrap_or_else(|e| Err(std::io::Error::other(e)))?;
            Ok::<u64, std::io::Error>(size)
        };
        match copied.await {
            Ok(size) => Ok((id, size, hasher.map(Hasher::finish))),
            Err(e) => {
                let _ = tokio::fs::remove_file(&tmp).await;
                Err(S3Error::internal(format!("joining parts: {e}")))
            }
        }
    }

    /// A new blob with blob `id`'s bytes: a hard link, as blobs never change.
    pub fn link(&self, id: &str) -> std::io::Result<String> {
        let new = uuid::Uuid::new_v4().simple().to_string();
        std::fs::hard_link(self.path(id), self.path(&new))?;
        self.shard(&new).sync_all()?;
        Ok(new)
    }

    /// The MD5 of `data` and, if asked, its checksum.
    pub fn digest_of(data: &[u8], checksum: Option<Algorithm>) -> ([u8; 16], Option<Vec<u8>>) {
        let mut sum = checksum.map(Hasher::new);
        if let Some(h) = &mut sum {
            h.update(data);
        }
        (md5::Md5::digest(data).into(), sum.map(Hasher::finish))
    }

    /// Blob `id`'s MD5 and, if asked, its checksum, read through (blocking).
    pub fn digest(&self, id: &str, checksum: Option<Algorithm>) -> std::io::Result<([u8; 16], Option<Vec<u8>>)> {
        let mut file = std::fs::File::open(self.path(id))?;
        let (mut md5, mut sum) = (md5::Md5::new(), checksum.map(Hasher::new));
        let mut buf = vec![0u8; READ_CHUNK as usize];
        loop {
            let n = std::io::Read::read(&mut file, &mut buf)?;
            if n == 0 {
                break;
            }
            md5.update(&buf[..n]);
            if let Some(h) = &mut sum {
                h.update(&buf[..n]);
            }
        }
        Ok((md5.finalize().into(), sum.map(Hasher::finish)))
    }

    /// Removes blob `id` (a missing one is already gone).
    pub fn remove(&self, id: &str) {
        if Self::is_inline(id) {
            // The store deletes it with its row.
            return;
        }
        if let Err(e) = std::fs::remove_file(self.path(id)) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(blob = id, "s3: cannot remove a blob: {e}");
            }
        }
    }

    /// Removes the blobs an object's change freed, after the answer: on the blocking pool
    /// when there is one. A crash before they go leaves blobs no row names, which start-up
    /// removes.
    pub fn remove_later(&self, ids: impl IntoIterator<Item = String>) {
        let ids: Vec<String> = ids.into_iter().filter(|id| !Self::is_inline(id)).collect();
        if ids.is_empty() {
            return;
        }
        let blobs = self.clone();
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => drop(rt.spawn_blocking(move || ids.iter().for_each(|id| blobs.remove(id)))),
            Err(_) => ids.iter().for_each(|id| blobs.remove(id)),
        }
    }

    /// Removes temporary files and blobs not in `kept`; how many went.
    pub fn sweep(&self, kept: &HashSet<String>) -> std::io::Result<usize> {
        let mut removed = 0;
        for shard in std::fs::read_dir(&self.dir)? {
            let shard = shard?.path();
            if !shard.is_dir() {
                continue;
            }
            let temporary = shard.file_name().is_some_and(|n| n == "tmp");
            for f in std::fs::read_dir(&shard)? {
                let f = f?;
                let name = f.file_name().to_string_lossy().into_owned();
                if temporary || !kept.contains(&name) {
                    std::fs::remove_file(f.path())?;
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }
}

/// Whether the filesystem under `dir` commits a renamed file's new name with the file's own
/// fsync: ext4 and XFS, whose journals log the rename before the fsync's commit, and btrfs,
/// whose fsync logs a renamed inode's new name. Anything else, or a failed check, says no.
fn names_durable_with_files(dir: &Path) -> bool {
    use nix::sys::statfs::{statfs, BTRFS_SUPER_MAGIC, EXT4_SUPER_MAGIC, XFS_SUPER_MAGIC};
    statfs(dir).is_ok_and(|fs| [EXT4_SUPER_MAGIC, XFS_SUPER_MAGIC, BTRFS_SUPER_MAGIC].contains(&fs.filesystem_type()))
}

/// A body as it arrives: digested, and held in memory while it is small, then written to
/// its temporary file.
struct Received {
    md5: md5::Md5,
    checksum: Option<Hasher>,
    size: u64,
    held: Vec<Bytes>,
    file: Option<tokio::fs::File>,
}

impl Received {
    async fn take<S>(&mut self, tmp: &Path, body: S, expected: Option<u64>, max: u64) -> Result<(), S3Error>
    where
        S: Stream<Item = Result<Bytes, S3Error>>,
    {
        let limit = expected.map_or(max, |e| e.min(max));
        let mut body = std::pin::pin!(body);
        while let Some(chunk) = body.next().await {
            let chunk = chunk?;
            self.size += chunk.len() as u64;
            if self.size > limit {
                return Err(too_large(expected, max));
            }
            self.md5.update(&chunk);
            if let Some(h) = &mut self.checksum {
                h.update(&chunk);
            }
            match &mut self.file {
                Some(f) => f.write_all(&chunk).await.map_err(S3Error::internal)?,
                None if self.size as usize <= SMALL => self.held.push(chunk),
                None => {
                    let mut f = tokio::fs::File::create(tmp).await.map_err(S3Error::internal)?;
                    for held in self.held.drain(..) {
                        f.write_all(&held).await.map_err(S3Error::internal)?;
                    }
                    f.write_all(&chunk).await.map_err(S3Error::internal)?;
                    self.file = Some(f);
                }
            }
        }
        if expected.is_some_and(|e| e != self.size) {
            return Err(S3Error::new(
                "IncompleteBody",
                400,
                "You did not provide the number of bytes specified by the Content-Length HTTP header.",
            ));
        }
        if let Some(f) = &mut self.file {
            f.flush().await.map_err(S3Error::internal)?;
        }
        Ok(())
    }
}

fn too_large(expected: Option<u64>, max: u64) -> S3Error {
    match expected {
        Some(_) if expected.is_some_and(|e| e <= max) => {
            S3Error::new("IncompleteBody", 400, "The request body is longer than its Content-Length.")
        }
        _ => S3Error::new("EntityTooLarge", 400, "Your proposed upload exceeds the maximum allowed size")
            .with("MaxSizeAllowed", max.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(parts: &[&'static str]) -> impl Stream<Item = Result<Bytes, S3Error>> {
        futures_util::stream::iter(parts.iter().map(|p| Ok(Bytes::from_static(p.as_bytes()))).collect::<Vec<_>>())
    }

    #[tokio::test]
    async fn a_blob_is_placed_whole_or_not_at_all() {
        let dir = std::env::temp_dir().join(format!("lamina-blobs-{}", std::process::id()));
        let b = Blobs::open(&dir).unwrap();
        let w = b.write(body(&["hello ", "world"]), Some(11), 100, Some(Algorithm::Crc32c), false).await.unwrap();
        assert_eq!(w.size, 11);
        assert_eq!(w.checksum, Some(crate::checksums::of(Algorithm::Crc32c, b"hello world")));
        assert_eq!(std::fs::read(b.path(&w.id)).unwrap(), b"hello world");
        assert_eq!(w.md5.iter().map(|x| format!("{x:02x}")).collect::<String>(), "5eb63bbbe01eeed093cb22bb8f5acdc3");
        let short = b.write(body(&["hello"]), Some(11), 100, None, false).await.unwrap_err();
        assert_eq!(short.code, "IncompleteBody");
        let long = b.write(body(&["hello world!"]), Some(11), 100, None, false).await.unwrap_err();
        assert_eq!(long.code, "IncompleteBody");
        assert_eq!(b.write(body(&["x"; 3]), None, 2, None, false).await.unwrap_err().code, "EntityTooLarge");
        assert_eq!(std::fs::read_dir(dir.join("tmp")).unwrap().count(), 0, "nothing left behind");
        let kept: HashSet<String> = HashSet::new();
        assert_eq!(b.sweep(&kept).unwrap(), 1);
        assert!(!b.path(&w.id).exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn a_small_body_is_handed_back_for_the_store_and_a_larger_one_written() {
        let dir = std::env::temp_dir().join(format!("lamina-blobs-inline-{}", std::process::id()));
        let b = Blobs::open(&dir).unwrap();
        let at_limit: &'static str = "x".repeat(INLINE).leak();
        let w = b.write(body(&[at_limit]), None, u64::MAX, Some(Algorithm::Crc32), true).await.unwrap();
        assert!(Blobs::is_inline(&w.id) && !b.path(&w.id).exists());
        assert_eq!(w.inline.as_deref(), Some(at_limit.as_bytes()));
        assert_eq!((w.md5, w.checksum), Blobs::digest_of(at_limit.as_bytes(), Some(Algorithm::Crc32)));
        let over = b.write(body(&[at_limit, "!"]), None, u64::MAX, None, true).await.unwrap();
        assert!(!Blobs::is_inline(&over.id) && over.inline.is_none());
        assert_eq!(std::fs::metadata(b.path(&over.id)).unwrap().len(), INLINE as u64 + 1);
        let part = b.write(body(&["part"]), None, u64::MAX, None, false).await.unwrap();
        assert!(part.inline.is_none() && b.path(&part.id).exists(), "parts are always files");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
