//! Deployment packages, stored once by content hash and extracted once for execution.

use model::sync::Mutex;
use std::collections::HashMap;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

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
/// (`code/<hex>/`), under one root. Clones share one set of pins.
#[derive(Debug, Clone)]
pub struct CodeStore {
    root: PathBuf,
    /// Blobs that a command has stored and not yet recorded as used, by how many such
    /// commands: [`CodeStore::remove_unused`] leaves them alone.
    pins: Arc<Mutex<HashMap<String, usize>>>,
}

/// A stored blob held against removal until this is dropped: keep it until the function
/// or layer that uses the blob is recorded, so that a concurrent delete of another user
/// of the same package cannot take it away in between.
#[derive(Debug)]
pub struct CodePin {
    pins: Arc<Mutex<HashMap<String, usize>>>,
    hex: String,
}

impl Drop for CodePin {
    fn drop(&mut self) {
        let mut pins = self.pins.lock();
        if let Some(n) = pins.get_mut(&self.hex) {
            *n -= 1;
            if *n == 0 {
                pins.remove(&self.hex);
            }
        }
    }
}

impl CodeStore {
    /// Opens (creating) the store under `root`.
    pub fn open(root: &Path) -> Result<Self, CodeError> {
        fs::create_dir_all(root.join("blobs"))?;
        fs::create_dir_all(root.join("code"))?;
        Ok(CodeStore { root: root.to_owned(), pins: Arc::default() })
    }

    /// Checks that `zip` is an archive Lambda would accept, then stores it durably; the
    /// pin holds it until its user is recorded. Many callers may store the same package at
    /// once.
    pub fn put(&self, zip: &[u8]) -> Result<(CodeInfo, CodePin), CodeError> {
        inspect(zip)?;
        let digest = Sha256::digest(zip);
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        let info = CodeInfo {
            sha256_b64: base64::engine::general_purpose::STANDARD.encode(digest),
            sha256_hex: hex,
            size: zip.len() as u64,
        };
        *self.pins.lock().entry(info.sha256_hex.clone()).or_default() += 1;
        let pin = CodePin { pins: self.pins.clone(), hex: info.sha256_hex.clone() };
        let path = self.blob_path(&info.sha256_hex);
        if !path.exists() {
            // Each writer its own temporary file; the rename is atomic, and the last of
            // several identical ones wins.
            let tmp = self.root.join("blobs").join(format!(".{}.{}", info.sha256_hex, unique()));
            let written = fs::File::create(&tmp)
                .and_then(|mut file| file.write_all(zip).and_then(|()| file.sync_all()))
                .and_then(|()| fs::rename(&tmp, &path));
            if let Err(e) = written {
                let _ = fs::remove_file(&tmp);
                return Err(e.into());
            }
        }
        Ok((info, pin))
    }

    /// The stored zip.
    pub fn get(&self, sha256_hex: &str) -> Result<Vec<u8>, CodeError> {
        fs::read(self.blob_path(sha256_hex)).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => CodeError::Missing(sha256_hex.to_owned()),
            _ => CodeError::Io(e),
        })
    }

    /// Deletes a blob and its extracted tree unless it is pinned or `in_use` says a
    /// recorded function or layer still uses it; both are asked while new pins wait, so a
    /// package being stored again is never removed under its new user.
    pub fn remove_unused<E: From<CodeError>>(
        &self,
        sha256_hex: &str,
        in_use: impl FnOnce() -> Result<bool, E>,
    ) -> Result<(), E> {
        let pins = self.pins.lock();
        if pins.contains_key(sha256_hex) || in_use()? {
            return Ok(());
        }
        self.remove(sha256_hex)?;
        drop(pins);
        Ok(())
    }

    /// Deletes a blob and its extracted tree.
    fn remove(&self, sha256_hex: &str) -> Result<(), CodeError> {
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
        let tmp = self.root.join("code").join(format!(".{sha256_hex}.{}", unique()));
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

    /// The merged `/opt` of a list of layers: later layers' files shadow earlier ones'.
    /// One layer is its extracted tree itself. Several are merged once per distinct list,
    /// under `opt/<hash of the list>/`, as a tree of hard links into the layers' extracted
    /// trees: no file is copied, and every function with the same layers shares it.
    pub fn merged(&self, layers: &[String]) -> Result<PathBuf, CodeError> {
        let trees = layers.iter().map(|hex| self.extracted(hex)).collect::<Result<Vec<_>, _>>()?;
        if let [one] = trees.as_slice() {
            return Ok(one.clone());
        }
        let key: String = Sha256::digest(layers.join(",").as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
        let opt = self.root.join("opt");
        let dir = opt.join(&key);
        if dir.is_dir() {
            return Ok(dir);
        }
        fs::create_dir_all(&opt)?;
        let tmp = opt.join(format!(".{key}.{}", unique()));
        let result =
            trees.iter().try_for_each(|tree| link_tree(tree, &tmp)).and_then(|()| match fs::rename(&tmp, &dir) {
                Ok(()) => Ok(()),
                Err(_) if dir.is_dir() => {
                    let _ = fs::remove_dir_all(&tmp);
                    Ok(())
                }
                Err(e) => Err(e),
            });
        if result.is_err() {
            let _ = fs::remove_dir_all(&tmp);
        }
        result.map(|()| dir).map_err(CodeError::Io)
    }

    /// The packages stored, by SHA-256 (hex).
    pub fn stored(&self) -> Result<Vec<String>, CodeError> {
        let mut hexes = Vec::new();
        for entry in fs::read_dir(self.root.join("blobs"))? {
            let name = entry?.file_name();
            let name = name.to_string_lossy();
            if let Some(hex) = name.strip_suffix(".zip").filter(|h| !h.starts_with('.')) {
                hexes.push(hex.to_owned());
            }
        }
        Ok(hexes)
    }

    fn blob_path(&self, hex: &str) -> PathBuf {
        self.root.join("blobs").join(format!("{hex}.zip"))
    }
}

/// Mirrors `from` into `to` with hard links (symlinks are recreated), replacing what is
/// already there: the later tree shadows the earlier.
fn link_tree(from: &Path, to: &Path) -> io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let (source, target) = (entry.path(), to.join(entry.file_name()));
        let kind = entry.file_type()?;
        let existing = fs::symlink_metadata(&target).ok();
        if kind.is_dir() {
            if existing.as_ref().is_some_and(|m| !m.is_dir()) {
                fs::remove_file(&target)?;
            }
            link_tree(&source, &target)?;
            continue;
        }
        match existing {
            Some(m) if m.is_dir() => fs::remove_dir_all(&target)?,
            Some(_) => fs::remove_file(&target)?,
            None => {}
        }
        if kind.is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(&source)?, &target)?;
        } else {
            fs::hard_link(&source, &target)?;
        }
    }
    Ok(())
}

/// A name no other temporary file of this process, or of another, has.
fn unique() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::{SystemTime, UNIX_EPOCH};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{}-{nanos}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

fn open(zip: &[u8]) -> Result<zip::ZipArchive<io::Cursor<&[u8]>>, CodeError> {
    zip::ZipArchive::new(io::Cursor::new(zip)).map_err(|e| CodeError::InvalidZip(e.to_string()))
}

/// Validates an archive without extracting it: readable; every entry inside the tree,
/// named once, and every symlink pointing inside it; within the unzipped size limit (as
/// declared: extraction counts what really comes out). Returns the declared size.
pub fn inspect(zip: &[u8]) -> Result<u64, CodeError> {
    let mut archive = open(zip)?;
    let mut total: u64 = 0;
    let mut names = std::collections::HashSet::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(|e| CodeError::InvalidZip(e.to_string()))?;
        let rel = entry
            .enclosed_name()
            .ok_or_else(|| CodeError::InvalidZip(format!("entry {:?} escapes the archive", entry.name())))?;
        // `a`, `a/` and `./a` are one path: a second entry for it could hide the first.
        let key: PathBuf = rel.components().filter(|c| matches!(c, Component::Normal(_))).collect();
        if !names.insert(key) {
            return Err(CodeError::InvalidZip(format!("entry {:?} appears twice", entry.name())));
        }
        if is_symlink(&entry) {
            symlink_target(&mut entry, &rel)?;
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

fn is_symlink<R: Read>(entry: &zip::read::ZipFile<'_, R>) -> bool {
    entry.unix_mode().is_some_and(|m| m & S_IFMT == S_IFLNK)
}

/// A symlink entry's target, which must stay inside the tree when resolved from the
/// link's own directory (read as written: no other link is followed).
fn symlink_target<R: Read>(entry: &mut zip::read::ZipFile<'_, R>, rel: &Path) -> Result<PathBuf, CodeError> {
    let mut link = String::new();
    entry.take(4096).read_to_string(&mut link).map_err(|_| CodeError::InvalidZip("unreadable symlink".into()))?;
    let link_path = PathBuf::from(link);
    let mut depth: i64 = rel.components().count() as i64 - 1;
    let escapes = link_path.is_absolute()
        || link_path.components().any(|c| {
            match c {
                Component::ParentDir => depth -= 1,
                Component::Normal(_) => depth += 1,
                _ => {}
            }
            depth < 0
        });
    if escapes {
        return Err(CodeError::InvalidZip(format!("symlink {rel:?} points outside the archive")));
    }
    Ok(link_path)
}

/// Extracts an archive [`inspect`] accepted into `dest`: directories and files first,
/// symlinks last, so that nothing is ever written through a link (a link that resolves
/// outside the tree through others, `a -> b/../..` with `b -> .`, cannot be a path to
/// write by); the unzipped limit is enforced on the bytes that really come out.
fn extract(zip: &[u8], dest: &Path) -> Result<(), CodeError> {
    use std::os::unix::fs::PermissionsExt;
    let mut archive = open(zip)?;
    fs::create_dir_all(dest)?;
    let mut budget = CODE_UNZIPPED_MAX_BYTES;
    let mut links = Vec::new();
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
        if is_symlink(&entry) {
            links.push((symlink_target(&mut entry, &rel)?, target));
            continue;
        }
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent)?;
        }
        let mode = entry.unix_mode().unwrap_or(0o644);
        let mut out = fs::OpenOptions::new().write(true).create_new(true).open(&target)?;
        let copied = io::copy(&mut (&mut entry).take(budget + 1), &mut out)?;
        if copied > budget {
            return Err(CodeError::TooLarge(CODE_UNZIPPED_MAX_BYTES + 1));
        }
        budget -= copied;
        // Everyone may read; execute bits are kept as packaged.
        let perm = 0o444 | (mode & 0o755);
        fs::set_permissions(&target, fs::Permissions::from_mode(perm))?;
    }
    for (link, target) in links {
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent)?;
        }
        std::os::unix::fs::symlink(link, &target)?;
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
        let (info, _pin) = store.put(&zip).unwrap();
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
    fn layers_merge_in_order_by_links_and_are_shared() {
        use std::os::unix::fs::MetadataExt;
        let root = temp_root("merge");
        let store = CodeStore::open(&root).unwrap();
        let (a, _) = store.put(&zip_of(&[("python/m.py", b"a", 0o644), ("bin/tool", b"a", 0o755)])).unwrap();
        let (b, _) = store.put(&zip_of(&[("python/m.py", b"b", 0o644), ("lib/x.so", b"b", 0o644)])).unwrap();
        let list = [a.sha256_hex.clone(), b.sha256_hex.clone()];
        let merged = store.merged(&list).unwrap();
        assert_eq!(fs::read(merged.join("python/m.py")).unwrap(), b"b", "the later layer shadows");
        assert_eq!(fs::read(merged.join("bin/tool")).unwrap(), b"a");
        let linked = fs::metadata(merged.join("lib/x.so")).unwrap();
        let original = fs::metadata(store.extracted(&b.sha256_hex).unwrap().join("lib/x.so")).unwrap();
        assert_eq!(linked.ino(), original.ino(), "hard-linked, not copied");
        assert_eq!(store.merged(&list).unwrap(), merged, "cached");
        assert_eq!(store.merged(&list[..1]).unwrap(), store.extracted(&a.sha256_hex).unwrap());
        fs::remove_dir_all(&root).unwrap();
    }

    fn zip_with(build: impl FnOnce(&mut zip::ZipWriter<Cursor<Vec<u8>>>)) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        build(&mut w);
        w.finish().unwrap().into_inner()
    }

    #[test]
    fn refuses_a_name_given_twice_and_links_out_of_the_tree() {
        let twice = zip_with(|w| {
            w.start_file("a", SimpleFileOptions::default()).unwrap();
            w.write_all(b"first").unwrap();
            w.start_file("./a", SimpleFileOptions::default()).unwrap();
            w.write_all(b"second").unwrap();
        });
        assert!(matches!(inspect(&twice), Err(CodeError::InvalidZip(m)) if m.contains("twice")));
        let file_and_dir = zip_with(|w| {
            w.start_file("a", SimpleFileOptions::default()).unwrap();
            w.add_directory("a", SimpleFileOptions::default()).unwrap();
        });
        assert!(matches!(inspect(&file_and_dir), Err(CodeError::InvalidZip(_))));
        for target in ["/etc/passwd", "../outside", "sub/../../outside"] {
            let out = zip_with(|w| w.add_symlink("link", target, SimpleFileOptions::default()).unwrap());
            assert!(matches!(inspect(&out), Err(CodeError::InvalidZip(m)) if m.contains("outside")), "{target}");
        }
        let inside = zip_with(|w| {
            w.add_symlink("node_modules/.bin/tool", "../pkg/bin/tool", SimpleFileOptions::default()).unwrap();
        });
        assert!(inspect(&inside).is_ok());
    }

    #[test]
    fn nothing_is_written_through_a_link() {
        // `b -> .` makes `a -> b/b/b/../../..` lead three levels up, though it reads as
        // inside; a file under `a/` must not land there.
        let root = temp_root("links");
        let store = CodeStore::open(&root).unwrap();
        let zip = zip_with(|w| {
            w.add_symlink("b", ".", SimpleFileOptions::default()).unwrap();
            w.add_symlink("a", "b/b/b/../../..", SimpleFileOptions::default()).unwrap();
            w.start_file("a/escaped", SimpleFileOptions::default()).unwrap();
            w.write_all(b"x").unwrap();
        });
        let (info, _pin) = store.put(&zip).unwrap();
        let extracted = store.extracted(&info.sha256_hex);
        assert!(extracted.is_err(), "a link over a directory of the archive fails the extraction");
        let mut found = Vec::new();
        let mut stack = vec![root.clone()];
        while let Some(dir) = stack.pop() {
            for e in fs::read_dir(&dir).unwrap().flatten() {
                if e.file_type().unwrap().is_dir() {
                    stack.push(e.path());
                } else if e.file_name() == "escaped" {
                    found.push(e.path());
                }
            }
        }
        assert!(found.is_empty(), "{found:?}");
        assert!(!root.parent().unwrap().join("escaped").exists());
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn refuses_garbage_and_escapes() {
        assert!(matches!(inspect(b"not a zip"), Err(CodeError::InvalidZip(_))));
        let evil = zip_of(&[("../../etc/evil", b"x", 0o644)]);
        assert!(matches!(inspect(&evil), Err(CodeError::InvalidZip(_))));
    }

    #[test]
    fn one_package_stored_and_extracted_by_many_at_once_and_held_while_pinned() {
        let root = temp_root("concurrent");
        let store = CodeStore::open(&root).unwrap();
        let zip = zip_of(&[("app.py", b"x = 1", 0o644)]);
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (store, zip) = (store.clone(), zip.clone());
                std::thread::spawn(move || {
                    let (info, pin) = store.put(&zip).unwrap();
                    (store.extracted(&info.sha256_hex).unwrap(), info, pin)
                })
            })
            .collect();
        let done: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        let (dir, info, _) = &done[0];
        assert_eq!(fs::read(dir.join("app.py")).unwrap(), b"x = 1");
        // Pinned, a package no recorded user has is kept; unpinned, it goes.
        store.remove_unused::<CodeError>(&info.sha256_hex, || Ok(false)).unwrap();
        assert!(store.get(&info.sha256_hex).is_ok());
        let hex = info.sha256_hex.clone();
        drop(done);
        store.remove_unused::<CodeError>(&hex, || Ok(true)).unwrap();
        assert!(store.get(&hex).is_ok(), "still in use");
        store.remove_unused::<CodeError>(&hex, || Ok(false)).unwrap();
        assert!(matches!(store.get(&hex), Err(CodeError::Missing(_))));
        let leftovers: Vec<_> = fs::read_dir(root.join("blobs")).unwrap().collect();
        assert!(leftovers.is_empty(), "no temporary file is left behind");
    }
}
