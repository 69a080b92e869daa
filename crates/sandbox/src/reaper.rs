//! The reaper: a small process started beside the server that outlives it. When the
//! server ends by any means — `kill -9` included — the pipe it holds open closes, and the
//! reaper thaws and kills every process left in the server's cgroups (frozen idle
//! environments and ready cells would otherwise stay until the next start), removes the
//! groups, and exits.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// The subcommand of the `lamina` binary that runs [`run`].
pub const SUBCOMMAND: &str = "sandbox-reaper";

/// The reaper as the server holds it: its stdin open until the server ends.
#[derive(Debug)]
pub(crate) struct Reaper {
    child: Child,
}

impl Reaper {
    /// Starts `helper sandbox-reaper <dirs>…` in a process group of its own, so a
    /// terminal's Ctrl-C, meant for the server, does not stop it before its work.
    pub(crate) fn start(helper: &std::path::Path, dirs: &[PathBuf]) -> std::io::Result<Reaper> {
        use std::os::unix::process::CommandExt;
        let child = Command::new(helper)
            .arg(SUBCOMMAND)
            .args(dirs)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .env_clear()
            .process_group(0)
            .spawn()?;
        Ok(Reaper { child })
    }

    /// At an orderly shutdown, once the server has cleaned up itself: lets the reaper go.
    pub(crate) fn finish(mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

/// The reaper's body: waits for its stdin to close, then removes the groups named on its
/// command line with everything in them.
pub fn run() -> ! {
    let dirs: Vec<PathBuf> = std::env::args_os().skip(2).map(PathBuf::from).collect();
    let mut sink = [0u8; 64];
    let mut stdin = std::io::stdin();
    while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
    crate::cgroup::remove_trees(&dirs);
    std::process::exit(0)
}
