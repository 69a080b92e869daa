//! The privileged half of the namespace sandbox: `lamina sandbox-exec`.
//!
//! The server never forks itself. For each environment it starts a fresh, single-
//! threaded copy of the `lamina` binary in this mode, with a [`CellSpec`] in its
//! environment. That helper:
//!
//! 1. joins the environment's cgroups, so everything it starts is accounted;
//! 2. unshares mount, pid, ipc and uts (and, for the `none` network, net) namespaces
//!    and forks the namespace's init, which waits for the [`JailSpec`] on stdin: steps 1
//!    and 2 run ahead of time, in a pool of ready cells;
//! 3. the init builds a fresh root (a small tmpfs with read-only binds of `/usr` — bash
//!    over its `sh`, as on Amazon Linux — a few `/etc` files, the interpreters,
//!    `/var/task`, `/var/runtime`, `/opt`; its own ext4
//!    image (or a sized tmpfs) at `/tmp`; a new `/proc`; a minimal `/dev`), pivots into
//!    it and makes it read-only;
//! 4. the init forks the runtime, which sets AWS's rlimits, drops every capability and
//!    its uid/gid, sets `no_new_privs`, installs the seccomp filter and execs;
//! 5. the init reaps orphans and exits with the runtime's status; its death kills
//!    every process left in the namespace. The outer helper relays that status (a
//!    signal as the same signal) to the server.

use std::collections::BTreeMap;
use std::ffi::CString;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{unshare, CloneFlags};
use nix::sys::signal::{kill, signal, SigHandler, Signal};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{
    chdir, execve, fork, getpid, setgid, setgroups, sethostname, setsid, setuid, ForkResult, Gid, Pid, Uid,
};
use serde::{Deserialize, Serialize};

/// The environment variable carrying the [`CellSpec`] to the helper.
pub const CELL_ENV: &str = "LAMINA_JAIL_CELL";

/// What a helper needs to prepare an empty cell, before it knows its function: joining
/// the cgroup (slow on cgroup v1) and entering fresh namespaces happen here, ahead of
/// time. The [`JailSpec`] follows on stdin when the cell is claimed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CellSpec {
    /// `cgroup.procs` files to join.
    pub cgroup_procs: Vec<PathBuf>,
    /// Host directory on which the new root is mounted (in the helper's namespace only).
    pub root: PathBuf,
    /// Read-only binds every environment has (`/usr`, `/etc` files, interpreters).
    pub binds: Vec<Bind>,
    /// Symlinks to create in the new root: (path, target).
    pub symlinks: Vec<(PathBuf, PathBuf)>,
    /// Start the runtime before the function is known (see [`Prestart`]).
    pub prestart: Option<Prestart>,
    /// Give the environment a network namespace of its own (loopback only). The helper
    /// then listens for the Runtime API inside it, at [`ISOLATED_API_ADDRESS`], and
    /// hands the listening socket to the server over its stdin (a Unix socket).
    pub isolated_network: bool,
    /// A formatted ext4 image mounted at `/tmp` ahead, for a function of the usual
    /// ephemeral size (mounting one costs milliseconds).
    pub tmp_image: Option<PathBuf>,
}

/// A read-only bind mount into the new root.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Bind {
    /// Host path.
    pub source: PathBuf,
    /// Path inside the environment.
    pub target: PathBuf,
}

/// Everything the helper needs to build one environment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JailSpec {
    /// Read-only binds of this function (its code, the runtime client, layers), in order.
    pub binds: Vec<Bind>,
    /// Small files to write into the new root: (path, contents).
    pub files: Vec<(PathBuf, String)>,
    /// Size of `/tmp` in MB.
    pub tmp_mb: u32,
    /// A formatted ext4 image to mount at `/tmp` (disk-backed, so it is not charged
    /// to the function's memory); without one, `/tmp` is a tmpfs of `tmp_mb`.
    pub tmp_image: Option<PathBuf>,
    /// The cell's own `/tmp` (its [`CellSpec::tmp_image`]) is the function's: `tmp_mb` and
    /// `tmp_image` are not used. Otherwise a `/tmp` the cell mounted ahead is replaced.
    pub tmp_ready: bool,
    /// The program to exec, as a path inside the environment.
    pub program: PathBuf,
    /// Its arguments (after `argv[0]`).
    pub args: Vec<String>,
    /// Its complete environment.
    pub env: Vec<(String, String)>,
    /// Its working directory.
    pub cwd: PathBuf,
    /// Unprivileged uid and gid to run as.
    pub uid: u32,
    /// See `uid`.
    pub gid: u32,
    /// The environment's host name.
    pub hostname: String,
    /// `RLIMIT_NOFILE`.
    pub nofile: u64,
}

/// A runtime started ahead of time, in the cell, as its unprivileged user, inside the
/// pivoted root: it loads itself (an interpreter and Lamina's client) and then waits on
/// its stdin for the function's environment. When the cell is claimed, the init mounts
/// the function's code and `/tmp` and tells the runtime to go.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Prestart {
    /// The program, as a path inside the environment.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
    /// Its environment until it is told the function's.
    pub env: Vec<(String, String)>,
    /// Read-only binds it needs to start (the runtime client, the interpreter).
    pub binds: Vec<Bind>,
    /// Files to write into the root (passwd, group).
    pub files: Vec<(PathBuf, String)>,
    /// Its uid and gid.
    pub uid: u32,
    /// See `uid`.
    pub gid: u32,
    /// `RLIMIT_NOFILE`.
    pub nofile: u64,
    /// The host name.
    pub hostname: String,
}

/// Where the host's root stays reachable, to the init only, until a prestarted cell is
/// claimed.
const HOST_DIR: &str = "/.host";

/// Where the Runtime API listens inside an isolated network namespace (as on AWS).
pub const ISOLATED_API_ADDRESS: &str = "127.0.0.1:9001";

/// Why the jail could not be built; printed to the environment's log.
fn fail(step: &str, err: impl std::fmt::Display) -> ! {
    eprintln!("lamina sandbox: {step}: {err}");
    std::process::exit(126)
}

fn must<T, E: std::fmt::Display>(step: &str, r: Result<T, E>) -> T {
    r.unwrap_or_else(|e| fail(step, e))
}

/// Runs the helper. Never returns: the process becomes the environment.
pub fn run_helper() -> ! {
    let cell = std::env::var(CELL_ENV).unwrap_or_else(|_| fail("reading the cell spec", "missing"));
    let spec: CellSpec = must("parsing the cell spec", serde_json::from_str(&cell));

    // Die with the server: an environment never outlives the process that manages it.
    must("pdeathsig", nix::sys::prctl::set_pdeathsig(Signal::SIGKILL));
    let me = getpid().to_string();
    for procs in &spec.cgroup_procs {
        must("joining the cgroup", fs::write(procs, &me));
    }
    let mut flags =
        CloneFlags::CLONE_NEWNS | CloneFlags::CLONE_NEWPID | CloneFlags::CLONE_NEWIPC | CloneFlags::CLONE_NEWUTS;
    if spec.isolated_network {
        flags |= CloneFlags::CLONE_NEWNET;
    }
    must("unshare", unshare(flags));
    if spec.isolated_network {
        must("bringing up loopback", loopback_up());
        let listener = must("listening for the Runtime API", std::net::TcpListener::bind(ISOLATED_API_ADDRESS));
        must("handing over the Runtime API socket", send_fd(0, &listener));
    }

    // SAFETY: this process is a fresh exec of the lamina binary in sandbox-exec mode; no
    // thread other than this one exists, so the child may run arbitrary code.
    match must("fork", unsafe { fork() }) {
        ForkResult::Parent { child } => relay(child),
        ForkResult::Child => {
            must("pdeathsig", nix::sys::prctl::set_pdeathsig(Signal::SIGKILL));
            prepare_root(&spec);
            if let Some(prestart) = &spec.prestart {
                prestarted_init(&spec.root, prestart, spec.tmp_image.is_some());
            }
            // Wait here, ready, until the cell is claimed for a function.
            let mut text = String::new();
            must("reading the spec", std::io::Read::read_to_string(&mut std::io::stdin(), &mut text));
            if text.is_empty() {
                // Never claimed: the server let the cell go.
                std::process::exit(0);
            }
            let job: JailSpec = must("parsing the spec", serde_json::from_str(&text));
            init(&spec.root, &job, spec.tmp_image.is_some())
        }
    }
}

/// The outer helper: waits for the namespace's init and exits the same way.
fn relay(child: Pid) -> ! {
    loop {
        match waitpid(child, None) {
            Ok(WaitStatus::Exited(_, code)) if code > 128 && code <= 128 + 64 => {
                // The init reports a runtime killed by a signal as 128 + signal (an init
                // cannot die of its own signal); die of the same signal.
                if let Ok(sig) = Signal::try_from(code - 128) {
                    // SAFETY: restoring the default disposition of a signal is always sound.
                    let _ = unsafe { signal(sig, SigHandler::SigDfl) };
                    let _ = kill(getpid(), sig);
                }
                std::process::exit(code)
            }
            Ok(WaitStatus::Exited(_, code)) => std::process::exit(code),
            Ok(WaitStatus::Signaled(_, sig, _)) => std::process::exit(128 + sig as i32),
            Ok(_) => continue,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => fail("waiting for the environment", e),
        }
    }
}

fn mkdirs(path: &Path) {
    must("mkdir", fs::create_dir_all(path));
}

fn inside(root: &Path, target: &Path) -> PathBuf {
    root.join(target.strip_prefix("/").unwrap_or(target))
}

fn bind_ro(source: &Path, target: &Path) {
    let is_dir = fs::metadata(source).map(|m| m.is_dir()).unwrap_or(false);
    if is_dir {
        mkdirs(target);
    } else if !target.exists() {
        // A file already there (under a bound directory) is bound over as it is.
        if let Some(parent) = target.parent() {
            mkdirs(parent);
        }
        must("creating a mount point", fs::write(target, b""));
    }
    let step = format!("binding {}", source.display());
    must(&step, mount(Some(source), target, None::<&str>, MsFlags::MS_BIND | MsFlags::MS_REC, None::<&str>));
    let ro = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NODEV;
    must(&step, mount(None::<&str>, target, None::<&str>, ro, None::<&str>));
}

/// The part of the root every environment shares, built while the cell waits.
fn prepare_root(cell: &CellSpec) {
    let root = &cell.root;
    must(
        "making mounts private",
        mount(None::<&str>, "/", None::<&str>, MsFlags::MS_REC | MsFlags::MS_PRIVATE, None::<&str>),
    );
    must(
        "mounting the root",
        mount(Some("tmpfs"), root, Some("tmpfs"), MsFlags::MS_NOSUID | MsFlags::MS_NODEV, Some("size=16m,mode=0755")),
    );
    for bind in &cell.binds {
        bind_ro(&bind.source, &inside(root, &bind.target));
    }
    for (path, target) in &cell.symlinks {
        let at = inside(root, path);
        if let Some(parent) = at.parent() {
            mkdirs(parent);
        }
        must("symlink", symlink(target, &at));
    }
    // /opt exists, empty, until layers fill it, as on AWS.
    mkdirs(&inside(root, Path::new("/opt")));
    let proc_dir = inside(root, Path::new("/proc"));
    mkdirs(&proc_dir);
    let pflags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    must("mounting /proc", mount(Some("proc"), &proc_dir, Some("proc"), pflags, None::<&str>));

    let dev = inside(root, Path::new("/dev"));
    mkdirs(&dev);
    must(
        "mounting /dev",
        mount(Some("tmpfs"), &dev, Some("tmpfs"), MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC, Some("size=64k,mode=0755")),
    );
    for name in ["null", "zero", "full", "random", "urandom"] {
        let target = dev.join(name);
        must("creating a device", fs::write(&target, b""));
        let source = Path::new("/dev").join(name);
        must("binding a device", mount(Some(&source), &target, None::<&str>, MsFlags::MS_BIND, None::<&str>));
    }
    for (name, target) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ] {
        must("symlink", symlink(target, dev.join(name)));
    }
    let shm = dev.join("shm");
    mkdirs(&shm);
    must("mode of /dev/shm", fs::set_permissions(&shm, fs::Permissions::from_mode(0o1777)));
    if let Some(image) = &cell.tmp_image {
        let tmp = inside(root, Path::new("/tmp"));
        mkdirs(&tmp);
        mount_tmp_image(&tmp, image, Path::new("/"));
    }
}

/// The function's part of the root, then the pivot into it.
/// Writes one of the root's files; a script (`#!`) is executable, as AWS's entrypoint is.
fn write_file(at: &Path, contents: &str) {
    must("writing a file", fs::write(at, contents));
    if contents.starts_with("#!") {
        use std::os::unix::fs::PermissionsExt;
        must("making a script executable", fs::set_permissions(at, fs::Permissions::from_mode(0o755)));
    }
}

fn finish_root(root: &Path, spec: &JailSpec, premounted: bool) {
    // /tmp first: a bind below it (an interpreter installed under /tmp) must land on top
    // of the function's /tmp, not be hidden by it.
    let tmp = inside(root, Path::new("/tmp"));
    mkdirs(&tmp);
    replace_tmp(&tmp, spec, Path::new("/"), premounted);
    for bind in &spec.binds {
        bind_ro(&bind.source, &inside(root, &bind.target));
    }
    for (path, contents) in &spec.files {
        let at = inside(root, path);
        if let Some(parent) = at.parent() {
            mkdirs(parent);
        }
        write_file(&at, contents);
    }

    let old = root.join(".old-root");
    mkdirs(&old);
    must("pivot_root", nix::unistd::pivot_root(root, &old));
    must("chdir /", chdir("/"));
    must("detaching the old root", umount2("/.old-root", MntFlags::MNT_DETACH));
    must("removing the old root", fs::remove_dir("/.old-root"));
    let ro = MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NODEV;
    must("making / read-only", mount(None::<&str>, "/", None::<&str>, ro, Some("size=16m,mode=0755")));
}

/// Mounts the function's `/tmp` at `tmp`, unless the one the cell mounted ahead is it;
/// `host` is where the host's root is visible.
fn replace_tmp(tmp: &Path, spec: &JailSpec, host: &Path, premounted: bool) {
    if spec.tmp_ready {
        return;
    }
    if premounted {
        // Its loop device goes with it (autoclear).
        must("unmounting the cell's /tmp", umount2(tmp, MntFlags::MNT_DETACH));
    }
    match &spec.tmp_image {
        Some(image) => mount_tmp_image(tmp, image, host),
        None => {
            let size = format!("size={}m,mode=1777", spec.tmp_mb);
            let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV;
            must("mounting /tmp", mount(Some("tmpfs"), tmp, Some("tmpfs"), flags, Some(size.as_str())));
        }
    }
}

/// Mounts an ext4 image (a host path, seen under `host`) at `tmp`.
fn mount_tmp_image(tmp: &Path, image: &Path, host: &Path) {
    // The open device must outlive the mount: with autoclear, closing the last reference
    // to an unmounted loop device detaches it.
    let (device, _open) = must("attaching /tmp's image", loop_attach(&inside(host, image), &host.join("dev")));
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV;
    must("mounting /tmp", mount(Some(&device), tmp, Some("ext4"), flags, None::<&str>));
    must("mode of /tmp", fs::set_permissions(tmp, fs::Permissions::from_mode(0o1777)));
}

/// The init of a cell whose runtime starts before its function is known.
fn prestarted_init(root: &Path, p: &Prestart, premounted: bool) -> ! {
    for bind in &p.binds {
        bind_ro(&bind.source, &inside(root, &bind.target));
    }
    for (path, contents) in &p.files {
        let at = inside(root, path);
        if let Some(parent) = at.parent() {
            mkdirs(parent);
        }
        write_file(&at, contents);
    }
    mkdirs(&inside(root, Path::new("/tmp")));
    mkdirs(&inside(root, Path::new("/var/task")));
    mkdirs(&inside(root, Path::new("/opt")));
    // Keep the host reachable, for the init alone, until the function's mounts are made.
    let host = inside(root, Path::new(HOST_DIR));
    mkdirs(&host);
    must("mode of the host dir", fs::set_permissions(&host, fs::Permissions::from_mode(0o700)));
    must("pivot_root", nix::unistd::pivot_root(root, &host));
    must("chdir /", chdir("/"));
    let ro = MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NODEV;
    must("making / read-only", mount(None::<&str>, "/", None::<&str>, ro, Some("size=16m,mode=0755")));
    must("sethostname", sethostname(&p.hostname));

    let (go_read, go_write) = must("go pipe", nix::unistd::pipe());
    let filters = seccomp_filters();
    // SAFETY: the init is single-threaded (it is the only thread of a process forked
    // from a single-threaded one).
    let child = match must("fork", unsafe { fork() }) {
        ForkResult::Child => {
            drop(go_write);
            let target = Target {
                program: &p.program,
                args: &p.args,
                env: &p.env,
                cwd: Path::new("/"),
                uid: p.uid,
                gid: p.gid,
                nofile: p.nofile,
                stdin: Some(std::os::fd::AsRawFd::as_raw_fd(&go_read)),
            };
            exec_runtime(&target, &filters)
        }
        ForkResult::Parent { child } => child,
    };
    drop(go_read);

    // Wait for the cell to be claimed.
    let mut text = String::new();
    must("reading the spec", std::io::Read::read_to_string(&mut std::io::stdin(), &mut text));
    if text.is_empty() {
        std::process::exit(0);
    }
    let spec: JailSpec = must("parsing the spec", serde_json::from_str(&text));
    let host = Path::new(HOST_DIR);
    replace_tmp(Path::new("/tmp"), &spec, host, premounted);
    for bind in &spec.binds {
        bind_ro(&inside(host, &bind.source), &bind.target);
    }
    must("detaching the host", umount2(HOST_DIR, MntFlags::MNT_DETACH));
    let go = serde_json::json!({ "env": spec.env.iter().cloned().collect::<BTreeMap<_, _>>(), "cwd": spec.cwd });
    must("telling the runtime to go", fs::File::from(go_write).write_all(go.to_string().as_bytes()));
    reap(child)
}

/// Waits for the runtime, reaping orphans, and exits as it did.
fn reap(child: Pid) -> ! {
    loop {
        match waitpid(None::<Pid>, None) {
            Ok(WaitStatus::Exited(pid, code)) if pid == child => std::process::exit(code),
            Ok(WaitStatus::Signaled(pid, sig, _)) if pid == child => std::process::exit(128 + sig as i32),
            Ok(_) => continue,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => fail("reaping", e),
        }
    }
}

// From <linux/loop.h>.
const LOOP_CTL_GET_FREE: libc::c_ulong = 0x4C82;
const LOOP_CONFIGURE: libc::c_ulong = 0x4C0A;
const LO_FLAGS_AUTOCLEAR: u32 = 4;

#[repr(C)]
struct LoopInfo64 {
    lo_device: u64,
    lo_inode: u64,
    lo_rdevice: u64,
    lo_offset: u64,
    lo_sizelimit: u64,
    lo_number: u32,
    lo_encrypt_type: u32,
    lo_encrypt_key_size: u32,
    lo_flags: u32,
    lo_file_name: [u8; 64],
    lo_crypt_name: [u8; 64],
    lo_encrypt_key: [u8; 32],
    lo_init: [u64; 2],
}

#[repr(C)]
struct LoopConfig {
    fd: u32,
    block_size: u32,
    info: LoopInfo64,
    reserved: [u64; 8],
}

/// Attaches `image` to a free loop device that detaches itself when its last mount
/// goes (with the environment's mount namespace). Returns the device path and the open
/// device, which must stay open until the device is mounted.
fn loop_attach(image: &Path, dev: &Path) -> std::io::Result<(PathBuf, fs::File)> {
    use std::os::fd::AsRawFd;
    let control = fs::OpenOptions::new().read(true).write(true).open(dev.join("loop-control"))?;
    let file = fs::OpenOptions::new().read(true).write(true).open(image)?;
    for _ in 0..64 {
        // SAFETY: LOOP_CTL_GET_FREE takes no argument and returns a device number.
        let n = unsafe { libc::ioctl(control.as_raw_fd(), LOOP_CTL_GET_FREE) };
        if n < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let path = dev.join(format!("loop{n}"));
        let device = fs::OpenOptions::new().read(true).write(true).open(&path)?;
        let config = LoopConfig {
            fd: file.as_raw_fd() as u32,
            block_size: 0,
            info: LoopInfo64 {
                lo_device: 0,
                lo_inode: 0,
                lo_rdevice: 0,
                lo_offset: 0,
                lo_sizelimit: 0,
                lo_number: 0,
                lo_encrypt_type: 0,
                lo_encrypt_key_size: 0,
                lo_flags: LO_FLAGS_AUTOCLEAR,
                lo_file_name: [0; 64],
                lo_crypt_name: [0; 64],
                lo_encrypt_key: [0; 32],
                lo_init: [0; 2],
            },
            reserved: [0; 8],
        };
        // SAFETY: LOOP_CONFIGURE reads one `struct loop_config`, which `config` lays out
        // exactly (repr(C), the kernel's field order and sizes), and keeps no pointer.
        let r = unsafe { libc::ioctl(device.as_raw_fd(), LOOP_CONFIGURE, &config as *const LoopConfig) };
        if r == 0 {
            return Ok((path, device));
        }
        let err = std::io::Error::last_os_error();
        // Another process took the device between the two calls: try the next one.
        if err.raw_os_error() != Some(libc::EBUSY) {
            return Err(err);
        }
    }
    Err(std::io::Error::other("no free loop device"))
}

/// Sets `lo` up in a fresh network namespace.
fn loopback_up() -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let sock = std::net::UdpSocket::bind("0.0.0.0:0")?;
    // SAFETY: ifreq is plain data; all-zero is a valid value.
    let mut ifr: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in ifr.ifr_name.iter_mut().zip(b"lo\0") {
        *dst = *src as libc::c_char;
    }
    // SAFETY: SIOCGIFFLAGS fills the flags of the ifreq it is given, which lives on
    // this stack frame for the whole call.
    if unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut ifr) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: reading and writing the flags member of the union SIOCGIFFLAGS just set.
    unsafe { ifr.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short };
    // SAFETY: SIOCSIFFLAGS reads the ifreq, valid for the call.
    if unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &ifr) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Sends `listener`'s descriptor over the Unix socket at `channel`.
fn send_fd(channel: i32, listener: &std::net::TcpListener) -> nix::Result<usize> {
    use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags, UnixAddr};
    use std::os::fd::AsRawFd;
    let fds = [listener.as_raw_fd()];
    let data = [std::io::IoSlice::new(b"L")];
    sendmsg::<UnixAddr>(channel, &data, &[ControlMessage::ScmRights(&fds)], MsgFlags::empty(), None)
}

/// PID 1 of the environment's namespace.
fn init(root: &Path, spec: &JailSpec, premounted: bool) -> ! {
    finish_root(root, spec, premounted);
    must("sethostname", sethostname(&spec.hostname));
    let filters = seccomp_filters();
    // SAFETY: the init is single-threaded (it is the only thread of a process forked
    // from a single-threaded one).
    match must("fork", unsafe { fork() }) {
        ForkResult::Child => {
            let target = Target {
                program: &spec.program,
                args: &spec.args,
                env: &spec.env,
                cwd: &spec.cwd,
                uid: spec.uid,
                gid: spec.gid,
                nofile: spec.nofile,
                stdin: None,
            };
            exec_runtime(&target, &filters)
        }
        ForkResult::Parent { child } => reap(child),
    }
}

/// What the runtime process becomes.
struct Target<'a> {
    program: &'a Path,
    args: &'a [String],
    env: &'a [(String, String)],
    cwd: &'a Path,
    uid: u32,
    gid: u32,
    nofile: u64,
    /// Its stdin; `/dev/null` when `None`.
    stdin: Option<i32>,
}

/// AWS's core-file limit in an execution environment (10 GiB).
const AWS_CORE: u64 = 10 * 1024 * 1024 * 1024;
/// AWS's locked-memory limit (64 KiB).
const AWS_MEMLOCK: u64 = 64 * 1024;
/// AWS's process limit: processes and threads of the environment, whose uid is its own.
const AWS_NPROC: u64 = 742;
/// AWS's stack size (8 MiB; its hard limit is unlimited).
const AWS_STACK: u64 = 8 * 1024 * 1024;

/// The limits an AWS execution environment has beside `RLIMIT_NOFILE`, as (soft, hard),
/// none above this host's hard limit (raising one needs `CAP_SYS_RESOURCE`). Core files
/// stay off when the kernel hands them to a host program (`core_pattern` `|…`): a crash in
/// a sandbox must not start one. Otherwise they are written inside the environment's own
/// filesystem, as on AWS.
fn aws_limits() -> [(&'static str, nix::sys::resource::Resource, u64, u64); 4] {
    use nix::sys::resource::{getrlimit, Resource, RLIM_INFINITY};
    let piped = fs::read_to_string("/proc/sys/kernel/core_pattern").map_or(true, |p| p.starts_with('|'));
    let hard = |resource| getrlimit(resource).map_or(RLIM_INFINITY, |(_, hard)| hard);
    let both = |resource, want: u64| {
        let v = want.min(hard(resource));
        (v, v)
    };
    let core = if piped { (0, 0) } else { both(Resource::RLIMIT_CORE, AWS_CORE) };
    let memlock = both(Resource::RLIMIT_MEMLOCK, AWS_MEMLOCK);
    let nproc = both(Resource::RLIMIT_NPROC, AWS_NPROC);
    let stack_hard = hard(Resource::RLIMIT_STACK);
    [
        ("RLIMIT_CORE", Resource::RLIMIT_CORE, core.0, core.1),
        ("RLIMIT_MEMLOCK", Resource::RLIMIT_MEMLOCK, memlock.0, memlock.1),
        ("RLIMIT_NPROC", Resource::RLIMIT_NPROC, nproc.0, nproc.1),
        ("RLIMIT_STACK", Resource::RLIMIT_STACK, AWS_STACK.min(stack_hard), stack_hard),
    ]
}

/// The runtime process: limits, privileges, filter, exec.
fn exec_runtime(t: &Target<'_>, filters: &[seccompiler::BpfProgram]) -> ! {
    use nix::sys::resource::{setrlimit, Resource};
    must("setsid", setsid());
    // Stdin may be the channel the Runtime API socket came over; the runtime gets none,
    // or its go pipe.
    let null = must("opening /dev/null", fs::File::open("/dev/null"));
    let stdin = t.stdin.unwrap_or(std::os::fd::AsRawFd::as_raw_fd(&null));
    must("stdin", nix::unistd::dup2(stdin, 0));
    must("RLIMIT_NOFILE", setrlimit(Resource::RLIMIT_NOFILE, t.nofile, t.nofile));
    for (what, resource, soft, hard) in aws_limits() {
        must(what, setrlimit(resource, soft, hard));
    }
    drop_bounding_set();
    let gid = Gid::from_raw(t.gid);
    must("setgroups", setgroups(&[gid]));
    must("setgid", setgid(gid));
    must("setuid", setuid(Uid::from_raw(t.uid)));
    must("no_new_privs", nix::sys::prctl::set_no_new_privs());
    must("chdir", chdir(t.cwd));
    for filter in filters {
        must("seccomp", seccompiler::apply_filter(filter));
    }

    let program = cstring(t.program.as_os_str().as_encoded_bytes());
    let mut argv = vec![program.clone()];
    argv.extend(t.args.iter().map(|a| cstring(a.as_bytes())));
    let envp: Vec<CString> = t.env.iter().map(|(k, v)| cstring(format!("{k}={v}").as_bytes())).collect();
    let err = execve(&program, &argv, &envp).unwrap_err();
    fail(&format!("fork/exec {}", t.program.display()), err)
}

fn cstring(bytes: &[u8]) -> CString {
    CString::new(bytes.to_vec()).unwrap_or_else(|_| fail("argument", "contains a NUL byte"))
}

fn drop_bounding_set() {
    for cap in 0..=63 {
        // SAFETY: PR_CAPBSET_DROP takes a capability number and no pointers; numbers past
        // the kernel's last capability fail with EINVAL, which is ignored.
        unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong, 0, 0, 0) };
    }
}

/// System calls a function never needs: they answer `EPERM`.
pub const DENIED_SYSCALLS: &[(&str, i64)] = &[
    ("mount", libc::SYS_mount),
    ("umount2", libc::SYS_umount2),
    ("pivot_root", libc::SYS_pivot_root),
    ("chroot", libc::SYS_chroot),
    ("ptrace", libc::SYS_ptrace),
    ("process_vm_readv", libc::SYS_process_vm_readv),
    ("process_vm_writev", libc::SYS_process_vm_writev),
    ("kexec_load", libc::SYS_kexec_load),
    ("kexec_file_load", libc::SYS_kexec_file_load),
    ("bpf", libc::SYS_bpf),
    ("perf_event_open", libc::SYS_perf_event_open),
    ("init_module", libc::SYS_init_module),
    ("finit_module", libc::SYS_finit_module),
    ("delete_module", libc::SYS_delete_module),
    ("reboot", libc::SYS_reboot),
    ("swapon", libc::SYS_swapon),
    ("swapoff", libc::SYS_swapoff),
    ("acct", libc::SYS_acct),
    ("settimeofday", libc::SYS_settimeofday),
    ("clock_settime", libc::SYS_clock_settime),
    ("clock_adjtime", libc::SYS_clock_adjtime),
    ("adjtimex", libc::SYS_adjtimex),
    ("syslog", libc::SYS_syslog),
    ("unshare", libc::SYS_unshare),
    ("setns", libc::SYS_setns),
    ("keyctl", libc::SYS_keyctl),
    ("add_key", libc::SYS_add_key),
    ("request_key", libc::SYS_request_key),
    ("open_by_handle_at", libc::SYS_open_by_handle_at),
    ("name_to_handle_at", libc::SYS_name_to_handle_at),
    ("userfaultfd", libc::SYS_userfaultfd),
    ("quotactl", libc::SYS_quotactl),
    ("iopl", libc::SYS_iopl),
    ("ioperm", libc::SYS_ioperm),
    ("fsopen", libc::SYS_fsopen),
    ("fsmount", libc::SYS_fsmount),
    ("fsconfig", libc::SYS_fsconfig),
    ("move_mount", libc::SYS_move_mount),
    ("open_tree", libc::SYS_open_tree),
    ("mount_setattr", libc::SYS_mount_setattr),
    ("io_uring_setup", libc::SYS_io_uring_setup),
    ("vhangup", libc::SYS_vhangup),
    ("lookup_dcookie", libc::SYS_lookup_dcookie),
];

/// Namespace flags `clone` may not carry: a function makes no namespaces, so it never
/// becomes root in one of its own (where raw, packet and netfilter sockets open).
const NAMESPACE_FLAGS: &[(&str, u64)] = &[
    ("CLONE_NEWUSER", libc::CLONE_NEWUSER as u64),
    ("CLONE_NEWNET", libc::CLONE_NEWNET as u64),
    ("CLONE_NEWNS", libc::CLONE_NEWNS as u64),
    ("CLONE_NEWPID", libc::CLONE_NEWPID as u64),
    ("CLONE_NEWUTS", libc::CLONE_NEWUTS as u64),
    ("CLONE_NEWIPC", libc::CLONE_NEWIPC as u64),
    ("CLONE_NEWCGROUP", libc::CLONE_NEWCGROUP as u64),
];

/// What the sandbox's seccomp policy refuses, one line each, for `lamina doctor`.
pub fn seccomp_policy() -> Vec<String> {
    let mut out =
        vec![format!("EPERM: {}", DENIED_SYSCALLS.iter().map(|(name, _)| *name).collect::<Vec<_>>().join(", "))];
    let flags: Vec<&str> = NAMESPACE_FLAGS.iter().map(|(name, _)| *name).collect();
    out.push(format!("EPERM: clone with {}", flags.join(" | ")));
    out.push("ENOSYS: clone3 (its flags sit behind a pointer; the C library falls back to clone)".into());
    out.push("EPERM: socket(AF_PACKET, …), socket(AF_INET or AF_INET6, SOCK_RAW, …)".into());
    out.push("EPERM: socket(AF_NETLINK, …, protocol) for every protocol but NETLINK_ROUTE".into());
    out
}

/// A condition on an `int` argument: only its low 32 bits, which are all the kernel reads
/// of it, so that setting the high ones cannot slip past the filter.
fn int_arg(index: u8, op: seccompiler::SeccompCmpOp, value: u64) -> seccompiler::SeccompCondition {
    use seccompiler::{SeccompCmpArgLen, SeccompCondition};
    must("a seccomp condition", SeccompCondition::new(index, SeccompCmpArgLen::Dword, op, value))
}

fn rule(conditions: Vec<seccompiler::SeccompCondition>) -> seccompiler::SeccompRule {
    must("a seccomp rule", seccompiler::SeccompRule::new(conditions))
}

/// The filters every runtime process is put under, in the order they are installed:
/// `clone3` answers `ENOSYS` (as Docker's default profile does, so that the C library
/// uses `clone`, whose flags a filter can see); everything else refused answers `EPERM`.
fn seccomp_filters() -> [seccompiler::BpfProgram; 2] {
    use seccompiler::SeccompCmpOp::{Eq, MaskedEq, Ne};
    use seccompiler::{SeccompAction, SeccompFilter, TargetArch};
    let arch = if cfg!(target_arch = "aarch64") { TargetArch::aarch64 } else { TargetArch::x86_64 };
    let compile = |rules: BTreeMap<i64, Vec<seccompiler::SeccompRule>>, errno: i32| -> seccompiler::BpfProgram {
        let filter = must(
            "building the seccomp filter",
            SeccompFilter::new(rules, SeccompAction::Allow, SeccompAction::Errno(errno as u32), arch),
        );
        must("compiling the seccomp filter", filter.try_into())
    };
    let clone3 = compile(BTreeMap::from([(libc::SYS_clone3, Vec::new())]), libc::ENOSYS);

    let mut rules: BTreeMap<i64, Vec<seccompiler::SeccompRule>> =
        DENIED_SYSCALLS.iter().map(|(_, nr)| (*nr, Vec::new())).collect();
    // clone's flags are its first argument on both architectures; every namespace flag
    // sits in the low 32 bits.
    rules.insert(
        libc::SYS_clone,
        NAMESPACE_FLAGS.iter().map(|(_, flag)| rule(vec![int_arg(0, MaskedEq(*flag), *flag)])).collect(),
    );
    let sock_type_mask = 0xf; // SOCK_NONBLOCK and SOCK_CLOEXEC ride above the type
    rules.insert(
        libc::SYS_socket,
        vec![
            rule(vec![int_arg(0, Eq, libc::AF_PACKET as u64)]),
            rule(vec![
                int_arg(0, Eq, libc::AF_INET as u64),
                int_arg(1, MaskedEq(sock_type_mask), libc::SOCK_RAW as u64),
            ]),
            rule(vec![
                int_arg(0, Eq, libc::AF_INET6 as u64),
                int_arg(1, MaskedEq(sock_type_mask), libc::SOCK_RAW as u64),
            ]),
            rule(vec![int_arg(0, Eq, libc::AF_NETLINK as u64), int_arg(2, Ne, libc::NETLINK_ROUTE as u64)]),
        ],
    );
    [clone3, compile(rules, libc::EPERM)]
}
