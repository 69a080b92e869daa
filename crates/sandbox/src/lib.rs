//! Execution environments as isolated process trees.
//!
//! The invoker describes *what* to run in a [`LaunchSpec`]: a program, its arguments and
//! environment, the host directories to expose as `/var/task`, `/var/runtime` and `/opt`,
//! and the function's limits. A [`Sandbox`] decides *how*: it tells the invoker where
//! those directories appear inside the environment ([`Sandbox::layout`]) and starts the
//! process tree ([`Sandbox::launch`]), returning a [`Sandboxed`] handle that can wait for,
//! kill, freeze and measure the whole tree, and that hands over its output pipe.
//!
//! [`NamespaceSandbox`] is the real one: namespaces, a cgroup, a uid of its own, a
//! read-only root, a disk-backed `/tmp`, seccomp, all set up by the `lamina sandbox-exec`
//! helper ([`jail`]), with ready cells and prestarted runtimes to keep cold starts short.
//! [`tcp_peer_uid`] lets the Runtime API admit only its environment, each server's
//! environments running under a uid slice of its own; the [`reaper`] kills what a server
//! leaves when it dies. [`ProcessSandbox`]
//! is the degraded fallback: plain child processes with no enforced limits, for hosts
//! where Lamina cannot be root or has no cgroups; Lamina warns loudly when it uses it.
//!
//! This crate owns process creation for environments and all of Lamina's `unsafe` code;
//! it never speaks the Runtime API and never reads the store.
#![deny(missing_docs)]

mod cgroup;
#[allow(unsafe_code)]
pub mod jail;
mod namespaced;
mod peer;
pub mod reaper;

pub use peer::tcp_peer_uid;

pub use namespaced::NamespaceSandbox;

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};

/// Why an environment could not be started.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The program could not be executed (missing, not executable, bad interpreter).
    #[error("cannot start {program}: {source}")]
    Spawn {
        /// The program as the environment sees it.
        program: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// Setting up the environment's private directories failed.
    #[error("cannot prepare the environment: {0}")]
    Setup(std::io::Error),
}

/// Host directories an environment exposes to the function.
#[derive(Debug, Clone)]
pub struct Mounts {
    /// The extracted deployment package, read-only (`/var/task`).
    pub task: PathBuf,
    /// Lamina's runtime client for the function's language (`/var/runtime`).
    pub runtime: PathBuf,
    /// Merged layers (`/opt`), when the function has any.
    pub opt: Option<PathBuf>,
    /// Host directories exposed read-only at the same path (interpreter installations).
    pub shared: Vec<PathBuf>,
}

/// Where the mounts appear from inside the environment.
#[derive(Debug, Clone)]
pub struct Layout {
    /// `LAMBDA_TASK_ROOT`.
    pub task_root: PathBuf,
    /// `LAMBDA_RUNTIME_DIR`.
    pub runtime_dir: PathBuf,
    /// Where layers are, when present.
    pub opt_dir: PathBuf,
    /// The function's writable scratch space.
    pub tmp_dir: PathBuf,
}

/// The limits an environment runs under.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Memory in MB (`MemorySize`).
    pub memory_mb: u32,
    /// `/tmp` in MB (`EphemeralStorage.Size`).
    pub ephemeral_mb: u32,
}

/// Everything needed to start one execution environment.
#[derive(Debug, Clone)]
pub struct LaunchSpec {
    /// Unique id of the environment; names its private directories.
    pub id: String,
    /// The program to execute, as a path inside the environment.
    pub program: PathBuf,
    /// Arguments after the program.
    pub args: Vec<String>,
    /// The complete environment; nothing is inherited from Lamina.
    pub env: Vec<(String, String)>,
    /// Host directories to expose.
    pub mounts: Mounts,
    /// Resource limits.
    pub limits: Limits,
    /// The program is one of Lamina's runtime clients that can start before its function
    /// is known (it waits on stdin for `{"env": ..., "cwd": ...}` when
    /// `LAMINA_PRESTART=1`). A sandbox may then keep such runtimes ready, started with
    /// the variables of `env` that are [`read_at_start`]: a runtime is only handed to a
    /// launch whose values of those are the ones it started with.
    pub prestart: bool,
}

/// Whether a process reads the variable `name` as it starts, so that setting it later
/// (in a runtime started ahead of its function) would change nothing: the dynamic
/// loader's and the C library's, the locale and time zone, and the interpreters' own
/// (`PYTHONPATH`, `NODE_OPTIONS`, `NODE_EXTRA_CA_CERTS`, `RUBYLIB`, `RUBYOPT`, ...).
pub fn read_at_start(name: &str) -> bool {
    const PREFIXES: &[&str] = &["LD_", "LC_", "MALLOC_", "GLIBC_", "PYTHON", "NODE_", "UV_", "RUBY", "GEM_"];
    matches!(name, "LANG" | "LANGUAGE" | "TZ") || PREFIXES.iter().any(|p| name.starts_with(p))
}

/// Creates execution environments.
pub trait Sandbox: Send + Sync + 'static {
    /// Where `mounts` appear inside environments this sandbox creates.
    fn layout(&self, id: &str, mounts: &Mounts) -> Layout;
    /// Starts the environment's first process, in what [`Sandbox::prepare`] readied if it
    /// can. What it used is not replaced here, on the launch's path: callers call
    /// `prepare` again after the launch.
    fn launch(&self, spec: LaunchSpec) -> Result<Sandboxed, SandboxError>;
    /// Readies what launching environments like `like` needs, ahead of their next launch
    /// (ready cells, with its program started in them when `prestart`), so that launching
    /// one costs less. Only what a process reads as it starts matters of `like`'s
    /// environment ([`read_at_start`]). Blocks while it works; sandboxes with nothing to
    /// ready do nothing.
    fn prepare(&self, _like: &LaunchSpec) {}
    /// Readies, as the server starts and before any function asks, the runtimes an
    /// earlier server on the same data directory last started ahead. Blocks while it
    /// works.
    fn resume(&self) {}
    /// A short description for start-up logs, e.g. `process (no isolation)`.
    fn describe(&self) -> String;
    /// Releases what the sandbox holds on the host, once every environment is gone.
    fn shutdown(&self) {}
    /// When environments have a network of their own, the address their Runtime API has
    /// inside it; the listener then comes from [`Sandboxed::runtime_api_listener`].
    /// `None`: environments share the host's loopback, and the caller listens there.
    fn isolated_runtime_api(&self) -> Option<&'static str> {
        None
    }
}

/// The resource controls around an environment (a cgroup, for sandboxes that have one).
/// A sandbox without them passes none, and [`Sandboxed`] falls back to what a plain
/// process offers.
pub trait Confinement: Send + std::fmt::Debug {
    /// Stops every process of the environment between invocations.
    fn freeze(&self);
    /// Resumes the environment before an invocation.
    fn thaw(&self);
    /// Kills every process of the environment, wherever it moved.
    fn kill_all(&self);
    /// Peak memory of the environment in bytes.
    fn peak_memory(&self) -> Option<u64>;
    /// Whether the kernel killed a process of the environment for exceeding its memory.
    fn out_of_memory(&self) -> bool;
}

/// A running environment's process tree.
#[derive(Debug)]
pub struct Sandboxed {
    child: tokio::process::Child,
    pid: i32,
    scratch: Option<PathBuf>,
    confinement: Option<Box<dyn Confinement>>,
    uid: Option<u32>,
    api_channel: Option<std::os::unix::net::UnixStream>,
    output: Option<OwnedFd>,
}

impl Sandboxed {
    fn new(
        child: tokio::process::Child,
        pid: i32,
        scratch: Option<PathBuf>,
        confinement: Option<Box<dyn Confinement>>,
        uid: Option<u32>,
        api_channel: Option<std::os::unix::net::UnixStream>,
        output: OwnedFd,
    ) -> Self {
        Sandboxed { child, pid, scratch, confinement, uid, api_channel, output: Some(output) }
    }

    /// The read end of the environment's output (its stdout and stderr), once.
    pub fn take_output(&mut self) -> Option<OwnedFd> {
        self.output.take()
    }

    /// With an isolated network, the Runtime API listener the environment created inside
    /// it. Connections made before the caller serves it wait in its backlog.
    pub async fn runtime_api_listener(&mut self) -> std::io::Result<Option<tokio::net::TcpListener>> {
        let Some(channel) = self.api_channel.take() else { return Ok(None) };
        let listener =
            tokio::task::spawn_blocking(move || receive_listener(&channel)).await.map_err(std::io::Error::other)??;
        listener.set_nonblocking(true)?;
        Ok(Some(tokio::net::TcpListener::from_std(listener)?))
    }

    /// The uid the environment's processes run as, when it has one of its own: only
    /// connections from that uid may reach its Runtime API.
    pub fn uid(&self) -> Option<u32> {
        self.uid
    }

    /// The first process's pid, as the host sees it.
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Waits for the first process to exit.
    pub async fn wait(&mut self) -> std::io::Result<ExitStatus> {
        self.child.wait().await
    }

    /// The first process's exit status, if it has exited.
    pub fn try_wait(&mut self) -> std::io::Result<Option<ExitStatus>> {
        self.child.try_wait()
    }

    /// Kills every process of the environment at once.
    pub fn kill(&self) {
        use nix::sys::signal::{killpg, Signal};
        use nix::unistd::Pid;
        if let Some(c) = &self.confinement {
            c.kill_all();
        }
        // The first process leads its own process group, so this reaches its children.
        let _ = killpg(Pid::from_raw(self.pid), Signal::SIGKILL);
    }

    /// Stops the environment between invocations (a no-op without confinement).
    pub fn freeze(&self) {
        if let Some(c) = &self.confinement {
            c.freeze();
        }
    }

    /// Resumes the environment for an invocation (a no-op without confinement).
    pub fn thaw(&self) {
        if let Some(c) = &self.confinement {
            c.thaw();
        }
    }

    /// Whether the environment died for exceeding its memory limit.
    pub fn out_of_memory(&self) -> bool {
        self.confinement.as_ref().is_some_and(|c| c.out_of_memory())
    }

    /// Peak memory of the environment in bytes, when the sandbox can measure it:
    /// from the confinement, else the first process's high-water mark.
    pub fn max_memory_bytes(&self) -> Option<u64> {
        if let Some(peak) = self.confinement.as_ref().and_then(|c| c.peak_memory()) {
            return Some(peak);
        }
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb * 1024)
    }
}

impl Drop for Sandboxed {
    fn drop(&mut self) {
        self.kill();
        if let Some(dir) = self.scratch.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Receives one listening socket sent by the helper (`jail::send_fd`).
fn receive_listener(channel: &std::os::unix::net::UnixStream) -> std::io::Result<std::net::TcpListener> {
    use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags, UnixAddr};
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    let mut byte = [0u8; 1];
    let mut iov = [std::io::IoSliceMut::new(&mut byte)];
    let mut space = nix::cmsg_space!([std::os::fd::RawFd; 1]);
    let msg = recvmsg::<UnixAddr>(channel.as_raw_fd(), &mut iov, Some(&mut space), MsgFlags::MSG_CMSG_CLOEXEC)?;
    for cmsg in msg.cmsgs()? {
        if let ControlMessageOwned::ScmRights(fds) = cmsg {
            if let Some(&fd) = fds.first() {
                // SAFETY: SCM_RIGHTS just installed `fd` in this process; nothing else
                // owns it.
                #[allow(unsafe_code)]
                let owned = unsafe { OwnedFd::from_raw_fd(fd) };
                return Ok(std::net::TcpListener::from(owned));
            }
        }
    }
    Err(std::io::Error::other("the environment did not hand over its Runtime API socket"))
}

/// Plain child processes: no namespaces, no cgroups, no enforced limits.
#[derive(Debug, Clone)]
pub struct ProcessSandbox {
    scratch_root: PathBuf,
}

impl ProcessSandbox {
    /// Environments get private scratch directories under `scratch_root`.
    pub fn new(scratch_root: &Path) -> Self {
        ProcessSandbox { scratch_root: scratch_root.to_owned() }
    }
}

impl Sandbox for ProcessSandbox {
    fn layout(&self, id: &str, mounts: &Mounts) -> Layout {
        Layout {
            task_root: mounts.task.clone(),
            runtime_dir: mounts.runtime.clone(),
            opt_dir: mounts.opt.clone().unwrap_or_else(|| PathBuf::from("/opt")),
            tmp_dir: self.scratch_root.join(id),
        }
    }

    fn launch(&self, spec: LaunchSpec) -> Result<Sandboxed, SandboxError> {
        let layout = self.layout(&spec.id, &spec.mounts);
        std::fs::create_dir_all(&layout.tmp_dir).map_err(SandboxError::Setup)?;
        let (reader, writer) = std::io::pipe().map_err(SandboxError::Setup)?;
        let writer = OwnedFd::from(writer);
        let stderr = writer.try_clone().map_err(SandboxError::Setup)?;
        let mut cmd = tokio::process::Command::new(&spec.program);
        cmd.args(&spec.args)
            .env_clear()
            .envs(spec.env.iter().map(|(k, v)| (k, v)))
            .env("TMPDIR", &layout.tmp_dir)
            .current_dir(&layout.task_root)
            .stdin(Stdio::null())
            .stdout(Stdio::from(writer))
            .stderr(Stdio::from(stderr))
            .process_group(0)
            .kill_on_drop(true);
        let child = cmd
            .spawn()
            .map_err(|source| SandboxError::Spawn { program: spec.program.display().to_string(), source })?;
        let pid = child.id().map(|p| p as i32).unwrap_or(-1);
        drop(cmd);
        Ok(Sandboxed::new(child, pid, Some(layout.tmp_dir), None, None, None, reader.into()))
    }

    fn describe(&self) -> String {
        "process (no isolation: plain child processes, limits not enforced)".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn launches_with_only_the_given_environment_and_kills_the_tree() {
        let root = std::env::temp_dir().join(format!("lamina-sandbox-{}", std::process::id()));
        let sandbox = ProcessSandbox::new(&root);
        let mounts =
            Mounts { task: std::env::temp_dir(), runtime: std::env::temp_dir(), opt: None, shared: Vec::new() };
        let mut env = sandbox
            .launch(LaunchSpec {
                id: "t1".into(),
                program: "/bin/sh".into(),
                args: vec!["-c".into(), "echo \"$ONLY:$HOME\"; sleep 30 & wait".into()],
                env: vec![("ONLY".into(), "yes".into())],
                mounts,
                limits: Limits { memory_mb: 128, ephemeral_mb: 512 },
                prestart: false,
            })
            .unwrap();
        let reader = std::io::PipeReader::from(env.take_output().unwrap());
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(reader), &mut line).unwrap();
        assert_eq!(line, "yes:\n", "nothing inherited from the parent");
        assert!(root.join("t1").is_dir());
        env.kill();
        let status = env.wait().await.unwrap();
        assert!(!status.success());
        drop(env);
        assert!(!root.join("t1").exists(), "scratch removed");
    }
}
