//! The check that keeps ARCHITECTURE.md true to the tree: every repository path it names
//! in backticks (`crates/…`, `xtask/…`, `tests/…`, `docs/…`, `fuzz/…`, or a file `*.rs`)
//! must exist. A path with a directory is looked up from the root, or under any crate or
//! tree it is written relative to; a bare `name.rs` must exist somewhere in the sources.

use std::path::Path;

use anyhow::{bail, Result};

const ROOTS: [&str; 5] = ["crates/", "xtask/", "tests/", "docs/", "fuzz/"];

/// Fails, listing them, if ARCHITECTURE.md names paths that no longer exist.
pub fn check(root: &Path) -> Result<()> {
    let doc = std::fs::read_to_string(root.join("ARCHITECTURE.md"))?;
    let lines = doc.lines().count();
    let files = sources(root);
    let mut missing = Vec::new();
    let mut fenced = false;
    for line in doc.lines() {
        if line.starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue; // the data directory's layout: paths at run time, not in the tree
        }
        for (i, token) in line.split('`').enumerate() {
            let named = i % 2 == 1
                && !token.contains([' ', '<', '{', '*'])
                && (ROOTS.iter().any(|r| token.starts_with(r)) || token.ends_with(".rs"));
            if named && !exists(root, &files, token) {
                missing.push(token.to_owned());
            }
        }
    }
    if !missing.is_empty() {
        bail!("ARCHITECTURE.md names paths that do not exist: {}", missing.join(", "));
    }
    if lines > 205 {
        bail!("ARCHITECTURE.md has {lines} lines; keep it a short map (about 200)");
    }
    Ok(())
}

fn exists(root: &Path, files: &[String], path: &str) -> bool {
    let path = path.trim_end_matches('/');
    if root.join(path).exists() {
        return true;
    }
    let suffix = format!("/{path}");
    files.iter().any(|f| f.ends_with(&suffix) || f.contains(&format!("{suffix}/")))
}

/// Every file under the source trees, relative to the root.
fn sources(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut pending: Vec<std::path::PathBuf> = ROOTS.iter().map(|r| root.join(r)).collect();
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if name == "target" || name == "node_modules" || name.to_string_lossy().starts_with('.') {
                continue;
            }
            if path.is_dir() {
                pending.push(path);
            } else if let Ok(relative) = path.strip_prefix(root) {
                out.push(relative.to_string_lossy().into_owned());
            }
        }
    }
    out
}
