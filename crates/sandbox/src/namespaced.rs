//! The namespace sandbox: every environment in its own mount, pid, ipc and uts
//! namespaces and cgroup, as an unprivileged user, under seccomp.

use model::sync::Mutex;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::cgroup::{Group, GroupLimits, Hierarchy};
use crate::jail::{Bind, CellSpec, JailSpec, Prestart, CELL_ENV};
use crate::{Confinement, LaunchSpec, Layout, Mounts, Sandbox, SandboxError, Sandboxed};

/// Environments run as uids from this range, each its own (named `sbx_user1051`, as on
/// AWS, inside): the Runtime API tells environments apart by uid. Each server on the host
/// claims a slice of [`UID_SLICE`] of its own.
const UIDS: std::ops::Range<u32> = 20_000..60_000;
/// How many uids one server claims: room for its concurrency and ready cells.
const UID_SLICE: u32 = 4_000;
/// Where servers claim their uid slices (a lock file each), host-wide.
const UID_CLAIMS: &str = "/run/lamina/uids";
/// The gid functions run as.
pub const SANDBOX_GID: u32 = 990;
/// AWS's per-environment limit on processes and threads.
pub const PIDS_MAX: u32 = 1024;
/// AWS's open-file limit for functions.
pub const NOFILE: u64 = 1024;
/// Memory that buys one full vCPU on AWS.
const MB_PER_VCPU: u64 = 1769;

/// `/etc` entries functions may need (name resolution, TLS roots, time zones, the
/// dynamic linker); nothing else of the host's `/etc` is visible.
const ETC: &[&str] = &[
    "resolv.conf",
    "hosts",
    "host.conf",
    "nsswitch.conf",
    "gai.conf",
    "protocols",
    "services",
    "ssl",
    "ca-certificates",
    "ca-certificates.conf",
    "pki",
    "localtime",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "alternatives",
    "mime.types",
    "os-release",
];

/// Top-level host directories that are symlinks into `/usr` on merged-/usr systems, or
/// directories to bind when they are not.
const SYSTEM_DIRS: &[&str] = &["/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32"];

/// Launches environments through `lamina sandbox-exec`.
#[derive(Debug)]
pub struct NamespaceSandbox {
    hierarchy: Hierarchy,
    helper: PathBuf,
    scratch_root: PathBuf,
    system_binds: Vec<Bind>,
    system_links: Vec<(PathBuf, PathBuf)>,
    freeze_idle: bool,
    tmp_images: Option<TmpImages>,
    uids: Arc<UidPool>,
    isolated_network: bool,
    cells: Mutex<HashMap<Option<RuntimeKey>, std::collections::VecDeque<Cell>>>,
    refilling: Mutex<()>,
    cells_made: AtomicU64,
    runtime_dir: PathBuf,
    spawner: std::sync::OnceLock<Spawner>,
    /// Cleans up after this server if it dies without doing so itself.
    reaper: Mutex<Option<crate::reaper::Reaper>>,
    /// The runtimes most recently started ahead, newest first, as kept in
    /// [`STARTED_AHEAD`] for the next server on this data directory.
    started_ahead: Mutex<Vec<RuntimeKey>>,
}

/// The file in the scratch directory that names the runtimes most recently started ahead,
/// so that a restarted server starts them again before any function asks.
const STARTED_AHEAD: &str = ".started-ahead.json";

/// How many runtimes [`STARTED_AHEAD`] names.
const REMEMBERED_RUNTIMES: usize = 4;

type SpawnRequest = (tokio::process::Command, std::sync::mpsc::SyncSender<std::io::Result<tokio::process::Child>>);

/// Starts helper processes from one thread that lives as long as the sandbox. A helper's
/// parent-death signal fires when the *thread* that forked it exits, so a helper forked
/// from a blocking-pool thread would be killed, environment and all, when that thread
/// retires after a burst of launches.
#[derive(Debug)]
struct Spawner {
    requests: Mutex<std::sync::mpsc::Sender<SpawnRequest>>,
}

impl Spawner {
    fn start(runtime: tokio::runtime::Handle) -> std::io::Result<Spawner> {
        let (requests, incoming) = std::sync::mpsc::channel::<SpawnRequest>();
        std::thread::Builder::new().name("lamina-spawner".into()).spawn(move || {
            // Children are reaped by the runtime's process driver.
            let _runtime = runtime.enter();
            for (mut command, reply) in incoming {
                let _ = reply.send(command.spawn());
            }
        })?;
        Ok(Spawner { requests: Mutex::new(requests) })
    }

    fn spawn(&self, command: tokio::process::Command) -> std::io::Result<tokio::process::Child> {
        let gone = || std::io::Error::other("the sandbox's spawner thread has stopped");
        let (reply, answer) = std::sync::mpsc::sync_channel(1);
        self.requests.lock().send((command, reply)).map_err(|_| gone())?;
        answer.recv().map_err(|_| gone())?
    }
}

/// Which prestarted runtime a cell holds: its program and arguments, the host
/// directories it reads (the runtime client, the interpreter), and the variables it read
/// as it started.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
struct RuntimeKey {
    program: PathBuf,
    args: Vec<String>,
    binds: Vec<PathBuf>,
    /// The [`crate::read_at_start`] variables of the launch's environment, by name (the
    /// last value of a name given twice, as the runtime's `{"env": ...}` takes it).
    env: Vec<(String, String)>,
}

impl RuntimeKey {
    fn of(spec: &LaunchSpec) -> RuntimeKey {
        let env: std::collections::BTreeMap<&str, &str> =
            spec.env.iter().filter(|(k, _)| crate::read_at_start(k)).map(|(k, v)| (k.as_str(), v.as_str())).collect();
        RuntimeKey {
            program: spec.program.clone(),
            args: spec.args.clone(),
            binds: std::iter::once(spec.mounts.runtime.clone()).chain(spec.mounts.shared.iter().cloned()).collect(),
            env: env.into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect(),
        }
    }
}

/// Uids of live environments, from this server's slice.
#[derive(Debug)]
struct UidPool {
    range: std::ops::Range<u32>,
    /// The lock that holds the slice for as long as this server lives (the kernel lets
    /// go of it however the process ends).
    _claim: nix::fcntl::Flock<std::fs::File>,
    state: Mutex<(u32, std::collections::BTreeSet<u32>)>,
}

impl UidPool {
    /// Claims the first slice of [`UIDS`] no other server on the host holds.
    fn claim() -> Result<UidPool, String> {
        use nix::fcntl::{Flock, FlockArg};
        let dir = Path::new(UID_CLAIMS);
        std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        for slice in 0..UIDS.len() as u32 / UID_SLICE {
            let path = dir.join(format!("{slice}.lock"));
            let file = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
                .map_err(|e| format!("opening {}: {e}", path.display()))?;
            if let Ok(claim) = Flock::lock(file, FlockArg::LockExclusiveNonblock) {
                let start = UIDS.start + slice * UID_SLICE;
                return Ok(UidPool { range: start..start + UID_SLICE, _claim: claim, state: Mutex::default() });
            }
        }
        Err(format!("every sandbox uid range is held by another Lamina server on this host (see {UID_CLAIMS})"))
    }

    fn take(&self) -> Option<u32> {
        let mut guard = self.state.lock();
        let (next, used) = &mut *guard;
        let size = self.range.len() as u32;
        for _ in 0..size {
            let uid = self.range.start + *next % size;
            *next = next.wrapping_add(1);
            if used.insert(uid) {
                return Some(uid);
            }
        }
        None
    }

    fn give_back(&self, uid: u32) {
        self.state.lock().1.remove(&uid);
    }
}

/// Formatted ext4 images for `/tmp`, one per environment, disk-backed so that files in
/// `/tmp` do not count against the function's memory. Each size is formatted once, into a
/// template kept in the data directory across restarts; an environment's image is a
/// sparse copy of it (the few extents `mkfs` wrote, a fraction of a millisecond, where
/// running `mkfs` again takes 5–25 ms and a process).
#[derive(Debug)]
struct TmpImages {
    dir: PathBuf,
    mkfs: PathBuf,
    /// Held while a template is formatted, so that two are not.
    formatting: Mutex<()>,
}

impl TmpImages {
    fn new(dir: PathBuf) -> Option<TmpImages> {
        let mkfs = ["/usr/sbin/mkfs.ext4", "/sbin/mkfs.ext4"].iter().map(PathBuf::from).find(|p| p.is_file())?;
        std::fs::create_dir_all(&dir).ok()?;
        // What a stop left half made, and images of the layout before templates.
        for entry in std::fs::read_dir(&dir).ok()?.flatten() {
            let name = entry.file_name();
            if !Self::is_template_name(&name.to_string_lossy()) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        Some(TmpImages { dir, mkfs, formatting: Mutex::new(()) })
    }

    fn is_template_name(name: &str) -> bool {
        name.strip_suffix(".img").is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    }

    /// Image size whose usable space is `mb` MB: ext4's overhead is ~15 MB plus 0.41%.
    fn image_bytes(mb: u32) -> u64 {
        let mb = f64::from(mb);
        (((mb + 15.0) / 0.9959).ceil() as u64 + 1) * 1024 * 1024
    }

    fn format(&self, path: &Path, mb: u32) -> std::io::Result<()> {
        let file = std::fs::File::create(path)?;
        file.set_len(Self::image_bytes(mb))?;
        drop(file);
        let status = std::process::Command::new(&self.mkfs)
            .args(["-q", "-F", "-O", "^has_journal,^resize_inode", "-E", "lazy_itable_init=1,nodiscard", "-m", "0"])
            .args(["-i", "65536"])
            .arg(path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()?;
        if status.success() {
            Ok(())
        } else {
            Err(std::io::Error::other(format!("mkfs.ext4 failed: {status}")))
        }
    }

    /// The template of `mb` MB, formatted first if there is none. It is written under
    /// another name, synced and renamed: a template is whole or absent, whenever the
    /// server or the host stopped.
    fn template(&self, mb: u32) -> std::io::Result<PathBuf> {
        let path = self.dir.join(format!("{mb}.img"));
        let whole = |p: &Path| std::fs::metadata(p).is_ok_and(|m| m.len() == Self::image_bytes(mb));
        if whole(&path) {
            return Ok(path);
        }
        let _one = self.formatting.lock();
        if whole(&path) {
            return Ok(path);
        }
        let partial = self.dir.join(format!("{mb}.img.partial"));
        self.format(&partial, mb)?;
        std::fs::File::open(&partial)?.sync_all()?;
        std::fs::rename(&partial, &path)?;
        Ok(path)
    }

    /// Puts an image of `mb` MB at `dest`: a sparse copy of the template.
    fn take(&self, mb: u32, dest: &Path) -> std::io::Result<()> {
        let template = self.template(mb)?;
        sparse_copy(&template, dest, Self::image_bytes(mb))
    }
}

/// Copies `from`'s data extents to a new sparse file `to` of `len` bytes; its holes stay
/// holes.
fn sparse_copy(from: &Path, to: &Path, len: u64) -> std::io::Result<()> {
    use nix::unistd::{lseek, Whence};
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::FileExt;
    let src = std::fs::File::open(from)?;
    let dst = std::fs::File::create(to)?;
    dst.set_len(len)?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut offset: i64 = 0;
    loop {
        let data = match lseek(src.as_raw_fd(), offset, Whence::SeekData) {
            Ok(d) => d,
            // No data past `offset`.
            Err(nix::errno::Errno::ENXIO) => break,
            Err(e) => return Err(e.into()),
        };
        let hole = lseek(src.as_raw_fd(), data, Whence::SeekHole)?;
        let mut at = data as u64;
        while at < hole as u64 {
            let n = buf.len().min((hole as u64 - at) as usize);
            src.read_exact_at(&mut buf[..n], at)?;
            dst.write_all_at(&buf[..n], at)?;
            at += n as u64;
        }
        offset = hole;
    }
    Ok(())
}

/// An environment's cgroup as its [`Confinement`]; it also holds the environment's uid
/// until the environment is gone.
#[derive(Debug)]
struct CgroupConfinement {
    group: Group,
    freeze_idle: bool,
    uid: u32,
    uids: Arc<UidPool>,
}

impl Confinement for CgroupConfinement {
    fn freeze(&self) {
        if self.freeze_idle {
            self.group.freeze();
        }
    }
    fn thaw(&self) {
        if self.freeze_idle {
            self.group.thaw();
        }
    }
    fn kill_all(&self) {
        self.group.kill_all();
    }
    fn peak_memory(&self) -> Option<u64> {
        self.group.peak_memory()
    }
    fn out_of_memory(&self) -> bool {
        self.group.oom_killed()
    }
}

impl Drop for CgroupConfinement {
    fn drop(&mut self) {
        self.group.kill_all();
        self.uids.give_back(self.uid);
        if self.group.remove() {
            return;
        }
        // The last processes may still be exiting; remove the group once they are gone.
        let group = std::mem::replace(&mut self.group, Group::empty());
        std::thread::spawn(move || {
            for _ in 0..200 {
                std::thread::sleep(std::time::Duration::from_millis(10));
                if group.remove() {
                    return;
                }
                group.kill_all();
            }
            tracing::warn!(?group, "could not remove an environment's cgroup");
        });
    }
}

/// A helper that has joined its cgroup and entered its namespaces ahead of time, and
/// waits on its channel for the spec of the environment it will become.
#[derive(Debug)]
struct Cell {
    child: tokio::process::Child,
    pid: i32,
    scratch: PathBuf,
    confinement: CgroupConfinement,
    channel: std::os::unix::net::UnixStream,
    output: std::os::fd::OwnedFd,
    /// The size of the `/tmp` the cell mounted ahead, if it did.
    tmp_mb: Option<u32>,
}

/// The ephemeral storage most functions have (AWS's default): cells mount a `/tmp` of
/// this size ahead.
const USUAL_TMP_MB: u32 = 512;

/// Cells kept ready. Joining a cgroup costs milliseconds on cgroup v1 (an RCU grace
/// period); a ready cell takes that off the cold start.
const READY_CELLS: usize = 2;

impl NamespaceSandbox {
    fn spawn_cell(&self, key: Option<&RuntimeKey>) -> std::io::Result<Cell> {
        let n = self.cells_made.fetch_add(1, Ordering::Relaxed);
        let id = format!("cell-{n}");
        let uid = self.uids.take().ok_or_else(|| std::io::Error::other("no free sandbox uid"))?;
        // Generous until claimed; the function's limits are written then.
        let limits = GroupLimits { memory_bytes: 256 * 1024 * 1024, pids: PIDS_MAX, cpu_shares: 1024 };
        let group = match Group::create(&self.hierarchy, &id, limits) {
            Ok(g) => g,
            Err(e) => {
                self.uids.give_back(uid);
                return Err(e);
            }
        };
        let confinement = CgroupConfinement { group, freeze_idle: self.freeze_idle, uid, uids: self.uids.clone() };
        let scratch = self.scratch_root.join(&id);
        let root = scratch.join("root");
        std::fs::create_dir_all(&root)?;
        // `/tmp` of the usual size, mounted ahead.
        let tmp_image = match &self.tmp_images {
            Some(pool) => {
                let image = scratch.join("tmp-ahead.img");
                pool.take(USUAL_TMP_MB, &image)?;
                Some(image)
            }
            None => None,
        };
        let cell_spec = CellSpec {
            cgroup_procs: confinement.group.procs_files(),
            root,
            binds: self.system_binds.clone(),
            symlinks: self.system_links.clone(),
            prestart: key.map(|k| Prestart {
                program: k.program.clone(),
                args: k.args.clone(),
                env: [("LAMINA_PRESTART".into(), "1".into()), ("PATH".into(), "/usr/local/bin:/usr/bin:/bin".into())]
                    .into_iter()
                    .chain(k.env.iter().cloned())
                    .collect(),
                binds: k
                    .binds
                    .iter()
                    .map(|p| Bind {
                        source: p.clone(),
                        target: if p == &self.runtime_dir { "/var/runtime".into() } else { p.clone() },
                    })
                    .collect(),
                files: root_files(uid, &k.program, &k.args),
                uid,
                gid: SANDBOX_GID,
                nofile: NOFILE,
                hostname: "localhost".into(),
            }),
            isolated_network: self.isolated_network,
            tmp_image: tmp_image.clone(),
        };
        let (reader, writer) = std::io::pipe()?;
        let writer = std::os::fd::OwnedFd::from(writer);
        let stderr = writer.try_clone()?;
        let (ours, theirs) = std::os::unix::net::UnixStream::pair()?;
        let mut command = tokio::process::Command::new(&self.helper);
        command
            .arg("sandbox-exec")
            .env_clear()
            .env(CELL_ENV, serde_json::to_string(&cell_spec).map_err(std::io::Error::other)?)
            .stdin(Stdio::from(std::os::fd::OwnedFd::from(theirs)))
            .stdout(Stdio::from(writer))
            .stderr(Stdio::from(stderr))
            .process_group(0)
            .kill_on_drop(true);
        let spawner = match self.spawner.get() {
            Some(s) => s,
            None => {
                let runtime = tokio::runtime::Handle::try_current().map_err(std::io::Error::other)?;
                let started = Spawner::start(runtime)?;
                self.spawner.get_or_init(|| started)
            }
        };
        let child = spawner.spawn(command)?;
        let pid = child.id().map(|p| p as i32).unwrap_or(-1);
        let tmp_mb = tmp_image.map(|_| USUAL_TMP_MB);
        Ok(Cell { child, pid, scratch, confinement, channel: ours, output: reader.into(), tmp_mb })
    }

    /// A ready cell of `key`, if one is: the oldest, whose runtime has had longest to
    /// come up.
    fn ready_cell(&self, key: &Option<RuntimeKey>) -> Option<Cell> {
        loop {
            let mut ready = self.cells.lock().get_mut(key)?.pop_front()?;
            if matches!(ready.child.try_wait(), Ok(None)) {
                return Some(ready);
            }
        }
    }

    /// Tops the ready cells of `key` up (only inside a tokio runtime, which spawning
    /// needs).
    fn refill(&self, key: Option<RuntimeKey>) {
        if tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        // One refill at a time: those racing would each fill the same gap.
        let _one = self.refilling.lock();
        let ready = |this: &Self| this.cells.lock().get(&key).map_or(0, std::collections::VecDeque::len);
        while ready(self) < READY_CELLS {
            match self.spawn_cell(key.as_ref()) {
                Ok(cell) => self.cells.lock().entry(key.clone()).or_default().push_back(cell),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot prepare a sandbox cell");
                    return;
                }
            }
        }
    }

    /// Checks that this host can sandbox (root, a cgroup hierarchy) and prepares the
    /// parts every environment shares. `helper` is the `lamina` binary.
    /// With `isolated_network`, each environment has a network namespace of its own with
    /// loopback only (the `none` network mode); otherwise it shares the host's.
    pub fn new(
        helper: &Path,
        scratch_root: &Path,
        runtime_dir: &Path,
        freeze_idle: bool,
        isolated_network: bool,
        hosts: Option<&Path>,
        links: Vec<(PathBuf, PathBuf)>,
    ) -> Result<Self, String> {
        if !nix::unistd::Uid::effective().is_root() {
            return Err("not running as root".into());
        }
        let hierarchy = Hierarchy::detect()?;
        let mut system_binds = vec![Bind { source: "/usr".into(), target: "/usr".into() }];
        let mut system_links = Vec::new();
        for dir in SYSTEM_DIRS {
            let path = Path::new(dir);
            match std::fs::read_link(path) {
                Ok(target) => system_links.push((path.to_owned(), target)),
                Err(_) if path.is_dir() => system_binds.push(Bind { source: path.into(), target: path.into() }),
                Err(_) => {}
            }
        }
        // `/bin/sh` is bash, as on Amazon Linux (AWS's custom-runtime tutorial's bootstrap
        // sets `-o pipefail`, which dash does not know): bash is bound where the host's
        // `sh` link leads (dash on Debian), inside the environment only.
        let (sh, bash) = (Path::new("/usr/bin/sh"), Path::new("/usr/bin/bash"));
        if bash.is_file() && std::fs::canonicalize(sh).is_ok_and(|real| real != bash) {
            system_binds.push(Bind { source: bash.into(), target: sh.into() });
        }
        for name in ETC {
            let path = Path::new("/etc").join(name);
            // Lamina's own hosts file, when it keeps one, names its APIs too.
            let source = match hosts {
                Some(h) if *name == "hosts" => h.to_owned(),
                _ => path.clone(),
            };
            if source.exists() {
                system_binds.push(Bind { source, target: path });
            }
        }
        // Links every environment's root has besides the system's (`/node_modules` → the
        // SDK layer's, where Node finds packages for CommonJS and ES modules alike).
        system_links.extend(links);
        remove_cell_dirs(scratch_root);
        let uids = Arc::new(UidPool::claim()?);
        let reaper = crate::reaper::Reaper::start(helper, &hierarchy.dirs())
            .map_err(|e| format!("starting the sandbox reaper: {e}"))?;
        let tmp_images = TmpImages::new(scratch_root.join(".tmp-images"));
        if tmp_images.is_none() {
            tracing::warn!("mkfs.ext4 not found: /tmp is a tmpfs, and files in it count against a function's memory");
        }
        Ok(NamespaceSandbox {
            hierarchy,
            helper: helper.to_owned(),
            scratch_root: scratch_root.to_owned(),
            system_binds,
            system_links,
            freeze_idle,
            tmp_images,
            uids,
            isolated_network,
            cells: Mutex::new(HashMap::new()),
            refilling: Mutex::new(()),
            cells_made: AtomicU64::new(0),
            runtime_dir: runtime_dir.to_owned(),
            spawner: std::sync::OnceLock::new(),
            reaper: Mutex::new(Some(reaper)),
            started_ahead: Mutex::new(Self::read_started_ahead(scratch_root)),
        })
    }

    /// The runtimes an earlier server on this data directory last started ahead, those
    /// whose programs and directories are still there. A file that cannot be read names
    /// none: it only saves time.
    fn read_started_ahead(scratch_root: &Path) -> Vec<RuntimeKey> {
        let Ok(text) = std::fs::read_to_string(scratch_root.join(STARTED_AHEAD)) else { return Vec::new() };
        let keys: Vec<RuntimeKey> = serde_json::from_str(&text).unwrap_or_default();
        keys.into_iter()
            .filter(|k| k.program.is_file() && k.binds.iter().all(|b| b.exists()))
            .take(REMEMBERED_RUNTIMES)
            .collect()
    }

    /// Puts `key` first among the runtimes started ahead, and writes them down when that
    /// changed them (whole or not at all: a temporary file renamed over the last, under
    /// the lock, so that two writers never share the temporary file).
    fn remember(&self, key: &RuntimeKey) {
        let mut keys = self.started_ahead.lock();
        if keys.first() == Some(key) {
            return;
        }
        keys.retain(|k| k != key);
        keys.insert(0, key.clone());
        keys.truncate(REMEMBERED_RUNTIMES);
        let keys = &*keys;
        let write = || -> std::io::Result<()> {
            use std::os::unix::fs::OpenOptionsExt;
            let tmp = self.scratch_root.join(format!("{STARTED_AHEAD}.tmp"));
            let mut file =
                std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp)?;
            std::io::Write::write_all(&mut file, &serde_json::to_vec(keys).map_err(std::io::Error::other)?)?;
            std::fs::rename(&tmp, self.scratch_root.join(STARTED_AHEAD))
        };
        if let Err(e) = write() {
            tracing::debug!(error = %e, "cannot write down the runtimes started ahead");
        }
    }

    /// The host path behind a path inside the environment, for checks before launch.
    fn host_path(&self, inner: &Path, mounts: &Mounts) -> PathBuf {
        for (prefix, host) in
            [("/var/task", Some(&mounts.task)), ("/var/runtime", Some(&mounts.runtime)), ("/opt", mounts.opt.as_ref())]
        {
            if let (Ok(rest), Some(host)) = (inner.strip_prefix(prefix), host) {
                return host.join(rest);
            }
        }
        inner.to_owned()
    }
}

/// Removes the scratch directories of cells (unclaimed ones at shutdown, and those a
/// killed server left behind at start-up).
fn remove_cell_dirs(scratch_root: &Path) {
    let Ok(entries) = std::fs::read_dir(scratch_root) else { return };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with("cell-") {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// The files an environment's root holds besides its binds: its users, and
/// `/lambda-entrypoint.sh`, where AWS's images keep the script that starts the runtime
/// (`/lambda-entrypoint.sh <handler>`): here it starts this environment's runtime.
fn root_files(uid: u32, program: &Path, args: &[String]) -> Vec<(PathBuf, String)> {
    let quote = |s: &str| format!("'{}'", s.replace('\'', "'\\''"));
    let command: Vec<String> =
        std::iter::once(quote(&program.display().to_string())).chain(args.iter().map(|a| quote(a))).collect();
    vec![
        (
            "/etc/passwd".into(),
            format!("root:x:0:0:root:/root:/sbin/nologin\nsbx_user1051:x:{uid}:{SANDBOX_GID}::/tmp:/sbin/nologin\n"),
        ),
        ("/etc/group".into(), format!("root:x:0:\nsbx_user1051:x:{SANDBOX_GID}:\n")),
        (
            "/lambda-entrypoint.sh".into(),
            format!(
                "#!/bin/sh\n# Starts this environment's runtime; the first argument, if any, is the handler.\n\
                 if [ $# -ge 1 ]; then export _HANDLER=\"$1\"; fi\nexec {}\n",
                command.join(" ")
            ),
        ),
    ]
}

impl Sandbox for NamespaceSandbox {
    fn layout(&self, _id: &str, _mounts: &Mounts) -> Layout {
        Layout {
            task_root: "/var/task".into(),
            runtime_dir: "/var/runtime".into(),
            opt_dir: "/opt".into(),
            tmp_dir: "/tmp".into(),
        }
    }

    fn launch(&self, spec: LaunchSpec) -> Result<Sandboxed, SandboxError> {
        use std::io::Write;
        use std::os::unix::fs::PermissionsExt;
        // The runtime runs as an unprivileged user: its program must be executable by
        // others. Checked here so the caller gets the same error as without a sandbox.
        let host_program = self.host_path(&spec.program, &spec.mounts);
        match std::fs::metadata(&host_program) {
            Err(e) => return Err(SandboxError::Spawn { program: spec.program.display().to_string(), source: e }),
            Ok(m) if m.permissions().mode() & 0o001 == 0 => {
                return Err(SandboxError::Spawn {
                    program: spec.program.display().to_string(),
                    source: std::io::ErrorKind::PermissionDenied.into(),
                })
            }
            Ok(_) => {}
        }

        // A cell with this runtime already started, else a plain ready cell.
        let key = spec.prestart.then(|| RuntimeKey::of(&spec));
        let cell = match key.as_ref().and_then(|_| self.ready_cell(&key)) {
            Some(cell) => cell,
            None => match self.ready_cell(&None) {
                Some(cell) => cell,
                None => self.spawn_cell(None).map_err(SandboxError::Setup)?,
            },
        };
        let memory_mb = u64::from(spec.limits.memory_mb);
        let limits = GroupLimits {
            memory_bytes: memory_mb * 1024 * 1024,
            pids: PIDS_MAX,
            cpu_shares: (1024 * memory_mb / MB_PER_VCPU).max(2),
        };
        cell.confinement.group.set_limits(limits).map_err(SandboxError::Setup)?;
        let tmp_ready = cell.tmp_mb == Some(spec.limits.ephemeral_mb);
        let tmp_image = match &self.tmp_images {
            Some(pool) if !tmp_ready => {
                let image = cell.scratch.join("tmp.img");
                pool.take(spec.limits.ephemeral_mb, &image).map_err(SandboxError::Setup)?;
                Some(image)
            }
            _ => None,
        };

        // Interpreters found since the cell was made are bound now.
        let mut binds: Vec<Bind> = spec
            .mounts
            .shared
            .iter()
            .filter(|p| !self.system_binds.iter().any(|b| p.starts_with(&b.source)))
            .map(|p| Bind { source: p.clone(), target: p.clone() })
            .collect();
        binds.push(Bind { source: spec.mounts.task.clone(), target: "/var/task".into() });
        binds.push(Bind { source: spec.mounts.runtime.clone(), target: "/var/runtime".into() });
        if let Some(opt) = &spec.mounts.opt {
            binds.push(Bind { source: opt.clone(), target: "/opt".into() });
        }
        let uid = cell.confinement.uid;
        let jail = JailSpec {
            binds,
            files: root_files(uid, &spec.program, &spec.args),
            tmp_mb: spec.limits.ephemeral_mb,
            tmp_image,
            tmp_ready,
            program: spec.program.clone(),
            args: spec.args.clone(),
            env: spec.env.clone(),
            cwd: "/var/task".into(),
            uid,
            gid: SANDBOX_GID,
            hostname: "localhost".into(),
            nofile: NOFILE,
        };
        let json = serde_json::to_vec(&jail).map_err(|e| SandboxError::Setup(std::io::Error::other(e)))?;
        // The cell's init reads the spec to its end, then builds the environment.
        (&cell.channel).write_all(&json).map_err(SandboxError::Setup)?;
        cell.channel.shutdown(std::net::Shutdown::Write).map_err(SandboxError::Setup)?;
        let api_channel = self.isolated_network.then_some(cell.channel);
        Ok(Sandboxed::new(
            cell.child,
            cell.pid,
            Some(cell.scratch),
            Some(Box::new(cell.confinement)),
            Some(uid),
            api_channel,
            cell.output,
        ))
    }

    fn shutdown(&self) {
        drop(std::mem::take(&mut *self.cells.lock()));
        self.hierarchy.remove_all();
        remove_cell_dirs(&self.scratch_root);
        if let Some(reaper) = self.reaper.lock().take() {
            reaper.finish();
        }
    }

    fn isolated_runtime_api(&self) -> Option<&'static str> {
        self.isolated_network.then_some(crate::jail::ISOLATED_API_ADDRESS)
    }

    fn prepare(&self, like: &LaunchSpec) {
        // The runtime first: it takes longest to come up.
        if like.prestart {
            let key = RuntimeKey::of(like);
            self.remember(&key);
            self.refill(Some(key));
        }
        self.refill(None);
    }

    fn resume(&self) {
        let keys = self.started_ahead.lock().clone();
        for key in keys {
            self.refill(Some(key));
        }
    }

    fn describe(&self) -> String {
        format!(
            "namespaces (mount, pid, ipc, uts{}), cgroup {} (memory, pids, cpu{}), seccomp, a uid of its own, \
             read-only root, /tmp on {}",
            if self.isolated_network { ", net: loopback only" } else { "; host network" },
            self.hierarchy.version(),
            if self.freeze_idle { ", freezer" } else { "" },
            if self.tmp_images.is_some() { "its own ext4 image" } else { "tmpfs (counted as memory)" }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(env: &[(&str, &str)]) -> LaunchSpec {
        LaunchSpec {
            id: "t".into(),
            program: "/usr/bin/node".into(),
            args: vec!["/var/runtime/bootstrap.js".into()],
            env: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            mounts: Mounts { task: "/task".into(), runtime: "/runtime".into(), opt: None, shared: Vec::new() },
            limits: crate::Limits { memory_mb: 128, ephemeral_mb: 512 },
            prestart: true,
        }
    }

    #[test]
    fn a_runtime_started_ahead_is_keyed_by_what_it_reads_as_it_starts() {
        let base = RuntimeKey::of(&spec(&[("TZ", ":UTC"), ("AWS_REGION", "us-east-1"), ("_HANDLER", "a.b")]));
        // Variables read later (the function's name, its handler) do not matter.
        assert_eq!(base, RuntimeKey::of(&spec(&[("_HANDLER", "c.d"), ("TZ", ":UTC"), ("AWS_REGION", "eu-west-1")])));
        // NODE_OPTIONS does; a name given twice counts with its last value.
        let opts = RuntimeKey::of(&spec(&[("TZ", ":UTC"), ("NODE_OPTIONS", "--no-deprecation")]));
        assert_ne!(base, opts);
        assert_eq!(
            opts.env,
            [("NODE_OPTIONS".to_owned(), "--no-deprecation".to_owned()), ("TZ".into(), ":UTC".into())]
        );
        assert_eq!(base, RuntimeKey::of(&spec(&[("TZ", "Europe/Paris"), ("TZ", ":UTC")])));
        for name in ["LD_LIBRARY_PATH", "LANG", "LC_ALL", "PYTHONPATH", "NODE_EXTRA_CA_CERTS", "RUBYOPT", "GEM_PATH"] {
            assert!(crate::read_at_start(name), "{name}");
        }
        for name in ["PATH", "AWS_REGION", "_HANDLER", "AWS_LAMBDA_RUNTIME_API", "HOME"] {
            assert!(!crate::read_at_start(name), "{name}");
        }
    }

    #[test]
    fn a_sparse_copy_has_the_data_and_keeps_the_holes() {
        use std::os::unix::fs::{FileExt, MetadataExt};
        let dir = std::env::temp_dir().join(format!("lamina-sparse-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (from, to) = (dir.join("from.img"), dir.join("to.img"));
        let len = 64 * 1024 * 1024;
        let f = std::fs::File::create(&from).unwrap();
        f.set_len(len).unwrap();
        f.write_all_at(b"superblock", 1024).unwrap();
        f.write_all_at(&vec![7u8; 200_000], 40 * 1024 * 1024).unwrap();
        drop(f);
        sparse_copy(&from, &to, len).unwrap();
        assert_eq!(std::fs::read(&from).unwrap(), std::fs::read(&to).unwrap());
        // Well under the length: only the written extents take blocks.
        let meta = std::fs::metadata(&to).unwrap();
        assert_eq!(meta.len(), len);
        assert!(meta.blocks() * 512 < 4 * 1024 * 1024, "{} blocks", meta.blocks());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn only_whole_templates_are_kept() {
        assert!(TmpImages::is_template_name("512.img"));
        assert!(!TmpImages::is_template_name("512.img.partial"));
        assert!(!TmpImages::is_template_name("512-3.img"));
        assert!(!TmpImages::is_template_name(".img"));
    }
}
