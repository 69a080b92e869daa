//! The hosts file environments see: the system's own entries and a line for each API's
//! host, so a function resolves the `domainName` its events carry
//! (`{api-id}.execute-api.localhost`, which the system's resolver may not know) as a
//! client on the machine does. Environments see the file through a bind mount, which
//! holds its inode: it is rewritten in place, never replaced.

use std::io::{self, Write};
use std::path::Path;

/// Where the system keeps its hosts.
const SYSTEM: &str = "/etc/hosts";

/// Makes the file (the system's entries, for now), so it can be bound before the
/// gateway fills it.
pub fn prepare(path: &Path) -> io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    write(path, std::iter::empty())
}

/// Rewrites the file: the system's entries, then `127.0.0.1` for each of `names`.
pub fn write(path: &Path, names: impl Iterator<Item = String>) -> io::Result<()> {
    let mut text = std::fs::read_to_string(SYSTEM).unwrap_or_else(|_| "127.0.0.1\tlocalhost\n".into());
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str("# Lamina's APIs\n");
    for name in names {
        text.push_str("127.0.0.1\t");
        text.push_str(&name);
        text.push('\n');
    }
    let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(false).open(path)?;
    // Over the old text, then cut to length: a reader never finds the file empty.
    f.write_all(text.as_bytes())?;
    f.set_len(text.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_systems_entries_and_a_shorter_list_leaves_no_tail() {
        let dir = std::env::temp_dir().join(format!("lamina-hosts-{}", std::process::id()));
        let path = dir.join("hosts");
        prepare(&path).unwrap();
        let names = |n: usize| (0..n).map(|i| format!("api{i}.execute-api.localhost"));
        write(&path, names(3)).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.ends_with("127.0.0.1\tapi2.execute-api.localhost\n"), "{text}");
        write(&path, names(1)).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.ends_with("# Lamina's APIs\n127.0.0.1\tapi0.execute-api.localhost\n"), "{text}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
