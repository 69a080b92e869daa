//! Deployment packages, stored once by content hash and extracted once for execution.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Component, Path, PathBuf};

use base64::Engine;
use model::limits::CODE_UNZIPPED_MAX_BYTES;
use model::CodeInfo;
use sha2::{Digest, Sha256};

/// Why a deployment package was refused or could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum CodeError {
    /// Not a readable zip archive, or one with unsafe entries.
    #[error("invalid zip: {0}")]
    InvalidZip(String),
    /// The archive expands past Lambda's unzipped limit.
    #[error("unzipped size {0} exceeds the limit")]
    TooLarge(u64),
    /// The blob is not in the store.
    #[error("no code blob {0}")]
    Missing(String),
    /// Disk I/O failed.
    #[error("code store I/O: {0}")]
    Io(#[from] io::Error),
}

/// Content-addressed zip blobs (`blobs/<hex>.zip`) and their extracted trees
/// (`code/<hex>/`), under one root.
#[derive(Debug, Clone)]
pub struct CodeStore {
    root: PathBuf,
}

impl CodeStore {
    /// Opens (creating) the store under `root`.
    pub fn open(root: &Path) -> Result<Self, CodeError> {
        fs::create_dir_all(root.join("blobs"))?;
        fs::create_dir_all(root.join("code"))?;
        Ok(CodeStore { root: root.to_owned() })
    }

    /// Checks that `zip` is an archive Lambda would accept, then stores it durably.
    pub fn put(&self, zip: &[u8]) -> Result<CodeInfo, CodeError> {
        inspect(zip)?;
        let digest = Sha256::digest(zip);
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        let info = CodeInfo {
            sha256_b64: base64::engine::general_purpose::STANDARD.encode(digest),
            sha256_hex: hex,
            size: zip.len() as u64,
        };
        let path = self.blob_path(&info.sha256_hex);
        if !path.exists() {
            let tmp = path.with_extension(format!("tmp{}", std::process::id()));
            let mut file = fs::File::create(&tmp)?;
            file.write_all(zip)?;
            file.sync_all()?;
            fs::rename(&tmp, &path)?;
        }
        Ok(info)
    }

    /// The stored zip.
    pub fn get(&self, sha256_hex: &str) -> Result<Vec<u8>, CodeError> {
        fs::read(self.blob_path(sha256_hex)).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => CodeError::Missing(sha256_hex.to_owned()),
            _ => CodeError::Io(e),
        })
    }

    /// Deletes a blob and its extracted tree (when no function uses it any more).
    pub fn remove(&self, sha256_hex: &str) -> Result<(), CodeError> {
        let _ = fs::remove_file(self.blob_path(sha256_hex));
        let dir = self.root.join("code").join(sha256_hex);
        if dir.exists() {
            fs::remove_dir_all(dir)?;
        }
        Ok(())
    }

    /// The directory holding the extracted package, extracting it on first use. The
    /// tree appears atomically: a crash mid-extraction leaves no half tree behind.
    pub fn extracted(&self, sha256_hex: &str) -> Result<PathBuf, CodeError> {
        let dir = self.root.join("code").join(sha256_hex);
        if dir.is_dir() {
            return Ok(dir);
        }
        let zip = self.get(sha256_hex)?;
        let tmp = self.root.join("code").join(format!(".{sha256_hex}.{}", uuid_like()));
        let result = extract(&zip, &tmp).and_then(|()| match fs::rename(&tmp, &dir) {
            Ok(()) => Ok(()),
            // Another environment extracted the same package first.
            Err(_) if dir.is_dir() => {
                let _ = fs::remove_dir_all(&tmp);
                Ok(())
            }
            Err(e) => Err(e.into()),
        });
        if result.is_err() {
            let _ = fs::remove_dir_all(&tmp);
        }
        result.map(|()| dir)
    }

    fn blob_path(&self, hex: &str) -> PathBuf {
        self.root.join("blobs").join(format!("{hex}.zip"))
    }
}

fn uuid_like() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{}-{nanos}", std::process::id())
}

fn open(zip: &[u8]) -> Result<zip::ZipArchive<io::Cursor<&[u8]>>, CodeError> {
    zip::ZipArchive::new(io::Cursor::new(zip)).map_err(|e| CodeError::InvalidZip(e.to_string()))
}

/// Validates an archive without extracting it: readable, entries inside the tree, and
/// within the unzipped size limit. Returns the unzipped size.
pub fn inspect(zip: &[u8]) -> Result<u64, CodeError> {
    let mut archive = open(zip)?;
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let entry = archive.by_index_raw(i).map_err(|e| CodeError::InvalidZip(e.to_string()))?;
        if entry.enclosed_name().is_none() {
            return Err(CodeError::InvalidZip(format!("entry {:?} escapes the archive", entry.name())));
        }
        total = total.saturating_add(entry.size());
    }
    if total > CODE_UNZIPPED_MAX_BYTES {
        return Err(CodeError::TooLarge(total));
    }
    Ok(total)
}

const S_IFMT: u32 = 0o170000;
const S_IFLNK: u32 = 0o120000;

fn extract(zip: &[u8], dest: &Path) -> Result<(), CodeError> {
    use std::os::unix::fs::PermissionsExt;
    let mut archive = open(zip)?;
    fs::create_dir_all(dest)?;
    let mut budget = CODE_UNZIPPED_MAX_BYTES;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(|e| CodeError::InvalidZip(e.to_string()))?;
        let rel = entry
            .enclosed_name()
            .ok_or_else(|| CodeError::InvalidZip(format!("entry {:?} escapes the archive", entry.name())))?;
        let target = dest.join(&rel);
        if entry.is_dir() {
            fs::create_dir_all(&target)?;
            continue;
        }
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent)?;
        }
        let mode = entry.unix_mode().unwrap_or(0o644);
        if mode & S_IFMT == S_IFLNK {
            let mut link = String::new();
            entry.read_to_string(&mut link)?;
            let link_path = Path::new(&link);
            let escapes = link_path.is_absolute() || {
                // Resolve lexically from the link's directory; it must stay in the tree.
                let mut depth: i64 = rel.components().count() as i64 - 1;
                link_path.components().any(|c| {
                    match c {
                        Component::ParentDir => depth -= 1,
                        Component::Normal(_) => depth += 1,
                        _ => {}
                    }
                    depth < 0
                })
            };
            if escapes {
                return Err(CodeError::InvalidZip(format!("symlink {rel:?} points outside the archive")));
            }
            std::os::unix::fs::symlink(link_path, &target)?;
            continue;
        }
        let mut out = fs::File::create(&target)?;
        let copied = io::copy(&mut (&mut entry).take(budget + 1), &mut out)?;
        if copied > budget {
            return Err(CodeError::TooLarge(CODE_UNZIPPED_MAX_BYTES + 1));
        }
        budget -= copied;
        // Everyone may read; execute bits are kept as packaged.
        let perm = 0o444 | (mode & 0o755);
        fs::set_permissions(&target, fs::Permissions::from_mode(perm))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;
    use zip::write::SimpleFileOptions;

    fn zip_of(files: &[(&str, &[u8], u32)]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, data, mode) in files {
            w.start_file(*name, SimpleFileOptions::default().unix_permissions(*mode)).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    fn temp_root(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("lamina-code-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn stores_by_hash_and_extracts_with_modes() {
        let root = temp_root("ok");
        let store = CodeStore::open(&root).unwrap();
        let zip = zip_of(&[("bootstrap", b"#!/bin/sh\n", 0o755), ("lib/a.py", b"x = 1\n", 0o644)]);
        let info = store.put(&zip).unwrap();
        assert_eq!(info.size, zip.len() as u64);
        assert_eq!(info.sha256_hex.len(), 64);
        assert_eq!(store.get(&info.sha256_hex).unwrap(), zip);
        let dir = store.extracted(&info.sha256_hex).unwrap();
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(dir.join("bootstrap")).unwrap().permissions().mode();
        assert_eq!(mode & 0o111, 0o111);
        assert_eq!(fs::read_to_string(dir.join("lib/a.py")).unwrap(), "x = 1\n");
        assert_eq!(store.extracted(&info.sha256_hex).unwrap(), dir, "second call reuses the tree");
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn refuses_garbage_and_escapes() {
        assert!(matches!(inspect(b"not a zip"), Err(CodeError::InvalidZip(_))));
        let evil = zip_of(&[("../../etc/evil", b"x", 0o644)]);
        assert!(matches!(inspect(&evil), Err(CodeError::InvalidZip(_))));
    }
}
