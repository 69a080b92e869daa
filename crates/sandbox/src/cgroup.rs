//! Per-environment cgroups, on either hierarchy: v2 (one unified tree) or v1 (one tree
//! per controller: memory, pids, cpu, freezer).

use model::sync::Mutex;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Which cgroup hierarchy the host offers, and where Lamina's groups live.
#[derive(Debug, Clone)]
pub enum Hierarchy {
    /// The unified hierarchy, with Lamina's parent group.
    V2 {
        /// `<mount>/lamina`
        parent: PathBuf,
    },
    /// One mount per controller, each with Lamina's parent group.
    V1 {
        /// `<memory mount>/lamina`
        memory: PathBuf,
        /// `<pids mount>/lamina`
        pids: PathBuf,
        /// `<cpu mount>/lamina`
        cpu: PathBuf,
        /// `<freezer mount>/lamina`
        freezer: PathBuf,
    },
}

const V1_CONTROLLERS: [&str; 4] = ["memory", "pids", "cpu", "freezer"];

fn mounts() -> Vec<(PathBuf, String, String)> {
    // (mount point, fs type, options)
    fs::read_to_string("/proc/self/mounts")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            (f.len() >= 4).then(|| (PathBuf::from(f[1]), f[2].to_owned(), f[3].to_owned()))
        })
        .collect()
}

impl Hierarchy {
    /// Finds a usable hierarchy and creates this server's parent groups in it,
    /// `lamina/<pid>`, after removing those of servers that are gone. v2 is used when
    /// its root offers the memory, pids and cpu controllers; otherwise v1 when all four
    /// v1 controllers are mounted.
    pub fn detect() -> Result<Hierarchy, String> {
        let h = Self::detect_base()?;
        let stale: Vec<PathBuf> = h.dirs().iter().flat_map(|base| stale(base)).collect();
        remove_trees(&stale);
        let instance = std::process::id().to_string();
        let h = match h {
            Hierarchy::V2 { parent } => {
                let dir = parent.join(&instance);
                fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
                fs::write(dir.join("cgroup.subtree_control"), "+memory +pids +cpu")
                    .map_err(|e| format!("enabling controllers in {}: {e}", dir.display()))?;
                Hierarchy::V2 { parent: dir }
            }
            Hierarchy::V1 { memory, pids, cpu, freezer } => {
                let [memory, pids, cpu, freezer] = [memory, pids, cpu, freezer].map(|d| d.join(&instance));
                for dir in [&memory, &pids, &cpu, &freezer] {
                    fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
                }
                Hierarchy::V1 { memory, pids, cpu, freezer }
            }
        };
        Ok(h)
    }

    /// This server's parent groups, one per hierarchy in use.
    pub fn dirs(&self) -> Vec<PathBuf> {
        match self {
            Hierarchy::V2 { parent } => vec![parent.clone()],
            Hierarchy::V1 { memory, pids, cpu, freezer } => {
                vec![memory.clone(), pids.clone(), cpu.clone(), freezer.clone()]
            }
        }
    }

    /// Kills what is left in this server's groups and removes them (at shutdown).
    pub fn remove_all(&self) {
        remove_trees(&self.dirs());
    }

    fn detect_base() -> Result<Hierarchy, String> {
        let mounts = mounts();
        if let Some((root, _, _)) = mounts.iter().find(|(_, t, _)| t == "cgroup2") {
            let controllers = fs::read_to_string(root.join("cgroup.controllers")).unwrap_or_default();
            let have = |c: &str| controllers.split_whitespace().any(|x| x == c);
            if have("memory") && have("pids") && have("cpu") {
                let parent = root.join("lamina");
                fs::create_dir_all(&parent).map_err(|e| format!("creating {}: {e}", parent.display()))?;
                // Controllers must be enabled for children at every level below the root.
                let enable = "+memory +pids +cpu";
                let _ = fs::write(root.join("cgroup.subtree_control"), enable);
                fs::write(parent.join("cgroup.subtree_control"), enable)
                    .map_err(|e| format!("enabling controllers in {}: {e}", parent.display()))?;
                return Ok(Hierarchy::V2 { parent });
            }
        }
        let find = |controller: &str| {
            mounts
                .iter()
                .find(|(_, t, opts)| t == "cgroup" && opts.split(',').any(|o| o == controller))
                .map(|(p, _, _)| p.join("lamina"))
        };
        let found: Vec<Option<PathBuf>> = V1_CONTROLLERS.iter().map(|c| find(c)).collect();
        if let [Some(memory), Some(pids), Some(cpu), Some(freezer)] = &found[..] {
            for dir in [memory, pids, cpu, freezer] {
                fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
            }
            return Ok(Hierarchy::V1 {
                memory: memory.clone(),
                pids: pids.clone(),
                cpu: cpu.clone(),
                freezer: freezer.clone(),
            });
        }
        let missing: Vec<&str> =
            V1_CONTROLLERS.iter().zip(&found).filter(|(_, f)| f.is_none()).map(|(c, _)| *c).collect();
        Err(format!("no cgroup v2 with memory, pids and cpu, and cgroup v1 lacks {}", missing.join(", ")))
    }

    /// `v1` or `v2`, for reports.
    pub fn version(&self) -> &'static str {
        match self {
            Hierarchy::V2 { .. } => "v2",
            Hierarchy::V1 { .. } => "v1",
        }
    }
}

/// The groups of Lamina servers that no longer run, in every hierarchy.
fn stale(base: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(base) else { return Vec::new() };
    let own = fs::read_to_string("/proc/self/comm").unwrap_or_default();
    entries
        .flatten()
        .filter(|e| e.path().is_dir())
        .filter(|e| {
            let live = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()).is_some_and(|pid| {
                // A live Lamina server's groups: a process named as this one is, or as
                // Lamina (a build installed under another name, `lamina-1.2`).
                let comm = fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
                comm == own || comm.trim().starts_with("lamina")
            });
            !live
        })
        .map(|e| e.path())
        .collect()
}

/// Every group at or below `dir`, children after their parent.
fn subtree(dir: &Path) -> Vec<PathBuf> {
    let mut all = vec![dir.to_owned()];
    let mut i = 0;
    while i < all.len() {
        if let Ok(entries) = fs::read_dir(&all[i]) {
            all.extend(entries.flatten().filter(|e| e.path().is_dir()).map(|e| e.path()));
        }
        i += 1;
    }
    all
}

/// Kills every process in the groups at or below `dirs` (across hierarchies) and removes
/// the groups. Frozen processes cannot die, so everything is thawed first; a killed
/// process leaves its groups a moment later, so removal is retried briefly.
pub(crate) fn remove_trees(dirs: &[PathBuf]) {
    let groups: Vec<PathBuf> = dirs.iter().flat_map(|d| subtree(d)).collect();
    for g in &groups {
        let _ = fs::write(g.join("freezer.state"), "THAWED");
        let _ = fs::write(g.join("cgroup.freeze"), "0");
    }
    for g in &groups {
        for pid in fs::read_to_string(g.join("cgroup.procs")).unwrap_or_default().lines() {
            if let Ok(pid) = pid.trim().parse::<i32>() {
                let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
            }
        }
    }
    let mut left: Vec<&PathBuf> = groups.iter().rev().collect(); // children first
    for _ in 0..200 {
        left.retain(|g| fs::remove_dir(g).is_err() && g.exists());
        if left.is_empty() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    tracing::warn!(left = left.len(), "some cgroups could not be removed");
}

/// Limits applied to one environment's group.
#[derive(Debug, Clone, Copy)]
pub struct GroupLimits {
    /// Memory in bytes, swap included.
    pub memory_bytes: u64,
    /// Most processes and threads.
    pub pids: u32,
    /// CPU weight relative to other environments (v1 `cpu.shares` scale, 1024 = one CPU).
    pub cpu_shares: u64,
}

/// One environment's cgroup (one directory per v1 controller).
#[derive(Debug)]
pub struct Group {
    v2: bool,
    /// Directories: v2 has one; v1 has memory, pids, cpu, freezer in that order.
    dirs: Vec<PathBuf>,
    /// The peak-memory file, open once: it is read after every invocation.
    peak: Mutex<Option<fs::File>>,
}

fn write(path: &Path, value: &str) -> io::Result<()> {
    fs::write(path, value).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))
}

impl Group {
    /// A group with no directories (what is left after its removal was handed off).
    pub fn empty() -> Group {
        Group { v2: false, dirs: Vec::new(), peak: Mutex::new(None) }
    }

    /// Creates the group `name` and applies `limits`.
    pub fn create(h: &Hierarchy, name: &str, limits: GroupLimits) -> io::Result<Group> {
        let group = match h {
            Hierarchy::V2 { parent } => Group { v2: true, dirs: vec![parent.join(name)], peak: Mutex::new(None) },
            Hierarchy::V1 { memory, pids, cpu, freezer } => Group {
                v2: false,
                dirs: [memory, pids, cpu, freezer].iter().map(|p| p.join(name)).collect(),
                peak: Mutex::new(None),
            },
        };
        for d in &group.dirs {
            fs::create_dir(d)?;
        }
        if group.v2 {
            let _ = write(&group.dirs[0].join("memory.swap.max"), "0");
        }
        group.set_limits(limits)?;
        Ok(group)
    }

    /// Writes the group's limits (again when a ready cell is given to a function).
    pub fn set_limits(&self, limits: GroupLimits) -> io::Result<()> {
        if self.v2 {
            let dir = &self.dirs[0];
            write(&dir.join("memory.max"), &limits.memory_bytes.to_string())?;
            write(&dir.join("pids.max"), &limits.pids.to_string())?;
            // cpu.weight is 1..10000 with 100 the default; v1's 1024 maps to 100.
            let weight = (limits.cpu_shares * 100 / 1024).clamp(1, 10_000);
            write(&dir.join("cpu.weight"), &weight.to_string())
        } else {
            let mem = &self.dirs[0];
            // With swap accounting, memsw must stay >= the memory limit: order the writes.
            let memsw = mem.join("memory.memsw.limit_in_bytes");
            let value = limits.memory_bytes.to_string();
            if memsw.exists() {
                let current: u64 = fs::read_to_string(&memsw).ok().and_then(|v| v.trim().parse().ok()).unwrap_or(0);
                if limits.memory_bytes > current {
                    write(&memsw, &value)?;
                    write(&mem.join("memory.limit_in_bytes"), &value)?;
                } else {
                    write(&mem.join("memory.limit_in_bytes"), &value)?;
                    write(&memsw, &value)?;
                }
            } else {
                write(&mem.join("memory.limit_in_bytes"), &value)?;
            }
            write(&self.dirs[1].join("pids.max"), &limits.pids.to_string())?;
            write(&self.dirs[2].join("cpu.shares"), &limits.cpu_shares.max(2).to_string())
        }
    }

    /// The `cgroup.procs` files a process writes its pid into to join the group.
    pub fn procs_files(&self) -> Vec<PathBuf> {
        self.dirs.iter().map(|d| d.join("cgroup.procs")).collect()
    }

    fn freezer_write(&self, frozen: bool) {
        if self.dirs.is_empty() {
            return;
        }
        let _ = if self.v2 {
            fs::write(self.dirs[0].join("cgroup.freeze"), if frozen { "1" } else { "0" })
        } else {
            fs::write(self.dirs[3].join("freezer.state"), if frozen { "FROZEN" } else { "THAWED" })
        };
    }

    /// Stops every process in the group.
    pub fn freeze(&self) {
        self.freezer_write(true);
    }

    /// Resumes every process in the group.
    pub fn thaw(&self) {
        self.freezer_write(false);
    }

    /// Kills every process in the group.
    pub fn kill_all(&self) {
        if self.v2 && fs::write(self.dirs[0].join("cgroup.kill"), "1").is_ok() {
            return;
        }
        // Frozen processes only die once thawed.
        self.thaw();
        let Some(procs) = self.procs_files().into_iter().next() else { return };
        let procs = fs::read_to_string(procs).unwrap_or_default();
        for pid in procs.lines().filter_map(|l| l.trim().parse::<i32>().ok()) {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
        }
    }

    /// Peak memory use in bytes.
    pub fn peak_memory(&self) -> Option<u64> {
        use std::os::unix::fs::FileExt;
        let mut open = self.peak.lock();
        if open.is_none() {
            let name = if self.v2 { "memory.peak" } else { "memory.max_usage_in_bytes" };
            *open = Some(fs::File::open(self.dirs.first()?.join(name)).ok()?);
        }
        // A control file is generated anew by each read from its start.
        let mut buf = [0u8; 32];
        let n = open.as_ref()?.read_at(&mut buf, 0).ok()?;
        std::str::from_utf8(&buf[..n]).ok()?.trim().parse().ok()
    }

    /// Whether the kernel's OOM killer has killed a process of the group.
    pub fn oom_killed(&self) -> bool {
        let file = if self.v2 { self.dirs[0].join("memory.events") } else { self.dirs[0].join("memory.oom_control") };
        fs::read_to_string(file)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.strip_prefix("oom_kill "))
            .any(|n| n.trim().parse::<u64>().unwrap_or(0) > 0)
    }

    /// Removes the group's directories; they must be empty of processes.
    pub fn remove(&self) -> bool {
        self.peak.lock().take();
        self.dirs.iter().all(|d| fs::remove_dir(d).is_ok() || !d.exists())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_groups_of_servers_that_are_gone_are_stale() {
        let base = std::env::temp_dir().join(format!("lamina-stale-{}", std::process::id()));
        // This process (named as this test binary is), a pid beyond any pid_max, and
        // init, which is not a Lamina server.
        let own = base.join(std::process::id().to_string());
        let gone = base.join("999999999");
        let init = base.join("1");
        for dir in [&own, &gone, &init] {
            fs::create_dir_all(dir).unwrap();
        }
        let mut found = stale(&base);
        found.sort();
        assert_eq!(found, [init, gone]);
        fs::remove_dir_all(&base).unwrap();
    }
}
