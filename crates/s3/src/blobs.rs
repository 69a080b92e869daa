//! Object bytes in files: `blobs/<2 hex>/<id>`, named by ids of their own, never by keys.
//! A write streams into `blobs/tmp/`, digesting as it goes, is fsynced, and is renamed
//! into place (its directory fsynced too) before it counts; a crash before that leaves a
//! temporary file that start-up removes.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use md5::Digest;
use tokio::io::AsyncWriteExt;

use crate::checksums::{Algorithm, Hasher};
use crate::S3Error;

/// The blob files.
#[derive(Debug)]
pub struct Blobs {
    dir: PathBuf,
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
}

impl Blobs {
    /// The blob directory at `dir`, made if need be.
    pub fn open(dir: &Path) -> std::io::Result<Blobs> {
        std::fs::create_dir_all(dir.join("tmp"))?;
        Ok(Blobs { dir: dir.to_owned() })
    }

    /// Where blob `id` is.
    pub fn path(&self, id: &str) -> PathBuf {
        let shard = id.get(..2).unwrap_or("00");
        self.dir.join(shard).join(id)
    }

    /// `len` bytes of blob `id` from `start`, read 1 MiB at a time (each read is a trip to
    /// the blocking pool: fewer, larger reads stream faster).
    pub async fn read(
        &self,
        id: &str,
        start: u64,
        len: u64,
    ) -> Result<impl Stream<Item = std::io::Result<Bytes>> + Send + 'static, S3Error> {
        use tokio::io::{AsyncReadExt, AsyncSeekExt};
        const CHUNK: u64 = 1024 * 1024;
        let mut file = tokio::fs::File::open(self.path(id)).await.map_err(S3Error::internal)?;
        file.seek(std::io::SeekFrom::Start(start)).await.map_err(S3Error::internal)?;
        Ok(futures_util::stream::unfold((file, len), |(mut file, left)| async move {
            if left == 0 {
                return None;
            }
            let mut buf = bytes::BytesMut::with_capacity(left.min(CHUNK) as usize);
            let mut limited = (&mut file).take(left.min(CHUNK));
            match limited.read_buf(&mut buf).await {
                Ok(0) => Some((Err(std::io::Error::other("the object's file ended early")), (file, 0))),
                Ok(n) => Some((Ok(buf.freeze()), (file, left - n as u64))),
                Err(e) => Some((Err(e), (file, 0))),
            }
        }))
    }

    /// Writes what `body` yields to a new blob, at most `max` bytes; when `expected` is
    /// given, exactly that many (else `IncompleteBody`), with its MD5 and its `checksum`
    /// by that algorithm. Nothing is left behind on an error.
    pub async fn write<S>(
        &self,
        body: S,
        expected: Option<u64>,
        max: u64,
        checksum: Option<Algorithm>,
    ) -> Result<Written, S3Error>
    where
        S: Stream<Item = Result<Bytes, S3Error>>,
    {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let tmp = self.dir.join("tmp").join(&id);
        match self.write_tmp(&tmp, body, expected, max, checksum.map(Hasher::new)).await {
            Ok((size, md5, checksum)) => {
                let path = self.path(&id);
                let placed = async {
                    let dir = path.parent().expect("a blob has a shard directory");
                    tokio::fs::create_dir_all(dir).await?;
                    tokio::fs::rename(&tmp, &path).await?;
                    tokio::fs::File::open(dir).await?.sync_all().await
                };
                if let Err(e) = placed.await {
                    let _ = tokio::fs::remove_file(&tmp).await;
                    return Err(S3Error::internal(format!("placing a blob: {e}")));
                }
                Ok(Written { id, size, md5, checksum })
            }
            Err(e) => {
                let _ = tokio::fs::remove_file(&tmp).await;
                Err(e)
            }
        }
    }

    async fn write_tmp<S>(
        &self,
        tmp: &Path,
        body: S,
        expected: Option<u64>,
        max: u64,
        mut checksum: Option<Hasher>,
    ) -> Result<(u64, [u8; 16], Option<Vec<u8>>), S3Error>
    where
        S: Stream<Item = Result<Bytes, S3Error>>,
    {
        let mut file = tokio::fs::File::create(tmp).await.map_err(S3Error::internal)?;
        let mut md5 = md5::Md5::new();
        let mut size = 0u64;
        let limit = expected.map_or(max, |e| e.min(max));
        let mut body = std::pin::pin!(body);
        while let Some(chunk) = body.next().await {
            let chunk = chunk?;
            size += chunk.len() as u64;
            if size > limit {
                return Err(too_large(expected, max));
            }
            md5.update(&chunk);
            if let Some(h) = &mut checksum {
                h.update(&chunk);
            }
            file.write_all(&chunk).await.map_err(S3Error::internal)?;
        }
        if expected.is_some_and(|e| e != size) {
            return Err(S3Error::new(
                "IncompleteBody",
                400,
                "You did not provide the number of bytes specified by the Content-Length HTTP header.",
            ));
        }
        file.sync_all().await.map_err(S3Error::internal)?;
        Ok((size, md5.finalize().into(), checksum.map(Hasher::finish)))
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
            out.sync_all().await?;
            let path = self.path(&id);
            let dir = path.parent().expect("a blob has a shard directory");
            tokio::fs::create_dir_all(dir).await?;
            tokio::fs::rename(&tmp, &path).await?;
            tokio::fs::File::open(dir).await?.sync_all().await?;
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
        let path = self.path(&new);
        let dir = path.parent().expect("a blob has a shard directory");
        std::fs::create_dir_all(dir)?;
        std::fs::hard_link(self.path(id), &path)?;
        std::fs::File::open(dir)?.sync_all()?;
        Ok(new)
    }

    /// Removes blob `id` (a missing one is already gone).
    pub fn remove(&self, id: &str) {
        if let Err(e) = std::fs::remove_file(self.path(id)) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(blob = id, "s3: cannot remove a blob: {e}");
            }
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
        let w = b.write(body(&["hello ", "world"]), Some(11), 100, Some(Algorithm::Crc32c)).await.unwrap();
        assert_eq!(w.size, 11);
        assert_eq!(w.checksum, Some(crate::checksums::of(Algorithm::Crc32c, b"hello world")));
        assert_eq!(std::fs::read(b.path(&w.id)).unwrap(), b"hello world");
        assert_eq!(w.md5.iter().map(|x| format!("{x:02x}")).collect::<String>(), "5eb63bbbe01eeed093cb22bb8f5acdc3");
        let short = b.write(body(&["hello"]), Some(11), 100, None).await.unwrap_err();
        assert_eq!(short.code, "IncompleteBody");
        let long = b.write(body(&["hello world!"]), Some(11), 100, None).await.unwrap_err();
        assert_eq!(long.code, "IncompleteBody");
        assert_eq!(b.write(body(&["x"; 3]), None, 2, None).await.unwrap_err().code, "EntityTooLarge");
        assert_eq!(std::fs::read_dir(dir.join("tmp")).unwrap().count(), 0, "nothing left behind");
        let kept: HashSet<String> = HashSet::new();
        assert_eq!(b.sweep(&kept).unwrap(), 1);
        assert!(!b.path(&w.id).exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
