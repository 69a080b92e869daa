//! Which program starts an environment for each runtime identifier, and on which host
//! interpreter.
//!
//! - `pythonX.Y`, `nodejsNN.x`, `rubyX.Y`: Lamina's client for the language
//!   (`bootstrap.py`, `bootstrap.js`, `bootstrap.rb`) under an interpreter of that
//!   version: the config's mapping for the identifier, else one found on `PATH`
//!   (`python3.12`, Debian's `ruby3.1`), in pyenv, nvm, rbenv or asdf installations, or the
//!   family fallback (`python3`, `node`, `ruby`).
//! - `javaNN` (and `java8.al2`): Lamina's Java client and AWS's
//!   `com.amazonaws.services.lambda.runtime` interfaces, compiled on first use with a
//!   host `javac` and cached, under a JDK of that version from `/usr/lib/jvm`,
//!   `JAVA_HOME`, SDKMAN!, asdf or `PATH`.
//! - `provided*`: the package's own `bootstrap` (or one from a layer at `/opt`).
//! - `dotnet*`: the package's own `bootstrap` where the host has `dotnet` (a
//!   self-contained or `dotnet exec` bootstrap, as AWS's custom .NET runtimes use);
//!   otherwise unavailable.
//!
//! When the host lacks the exact version, the nearest one runs the function (the lowest
//! newer one, else the highest older one) and the environment's first log line says so;
//! with `strict`, the runtime is unavailable instead.

use model::sync::Mutex;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use model::{Runtime, RuntimeFamily};

const PYTHON_CLIENT: &str = include_str!("../runtimes/bootstrap.py");
const NODE_CLIENT: &str = include_str!("../runtimes/bootstrap.js");
const RUBY_CLIENT: &str = include_str!("../runtimes/bootstrap.rb");

/// Lamina's Java runtime client and the interfaces of AWS's `aws-lambda-java-core`, as
/// sources: compiled with a host `javac` on first use.
const JAVA_SOURCES: &[(&str, &str)] = &[
    (
        "com/amazonaws/services/lambda/runtime/Client.java",
        include_str!("../runtimes/java/com/amazonaws/services/lambda/runtime/Client.java"),
    ),
    (
        "com/amazonaws/services/lambda/runtime/ClientContext.java",
        include_str!("../runtimes/java/com/amazonaws/services/lambda/runtime/ClientContext.java"),
    ),
    (
        "com/amazonaws/services/lambda/runtime/CognitoIdentity.java",
        include_str!("../runtimes/java/com/amazonaws/services/lambda/runtime/CognitoIdentity.java"),
    ),
    (
        "com/amazonaws/services/lambda/runtime/Context.java",
        include_str!("../runtimes/java/com/amazonaws/services/lambda/runtime/Context.java"),
    ),
    (
        "com/amazonaws/services/lambda/runtime/LambdaLogger.java",
        include_str!("../runtimes/java/com/amazonaws/services/lambda/runtime/LambdaLogger.java"),
    ),
    (
        "com/amazonaws/services/lambda/runtime/LambdaRuntime.java",
        include_str!("../runtimes/java/com/amazonaws/services/lambda/runtime/LambdaRuntime.java"),
    ),
    (
        "com/amazonaws/services/lambda/runtime/RequestHandler.java",
        include_str!("../runtimes/java/com/amazonaws/services/lambda/runtime/RequestHandler.java"),
    ),
    (
        "com/amazonaws/services/lambda/runtime/RequestStreamHandler.java",
        include_str!("../runtimes/java/com/amazonaws/services/lambda/runtime/RequestStreamHandler.java"),
    ),
    (
        "com/amazonaws/services/lambda/runtime/logging/LogFormat.java",
        include_str!("../runtimes/java/com/amazonaws/services/lambda/runtime/logging/LogFormat.java"),
    ),
    (
        "com/amazonaws/services/lambda/runtime/logging/LogLevel.java",
        include_str!("../runtimes/java/com/amazonaws/services/lambda/runtime/logging/LogLevel.java"),
    ),
    ("lamina/runtime/Binder.java", include_str!("../runtimes/java/lamina/runtime/Binder.java")),
    ("lamina/runtime/Bootstrap.java", include_str!("../runtimes/java/lamina/runtime/Bootstrap.java")),
    ("lamina/runtime/Json.java", include_str!("../runtimes/java/lamina/runtime/Json.java")),
    ("lamina/runtime/RuntimeApi.java", include_str!("../runtimes/java/lamina/runtime/RuntimeApi.java")),
];

/// Host interpreters for runtime identifiers.
#[derive(Debug, Clone)]
pub struct RuntimeCommands {
    /// Exact mappings, e.g. `python3.12 = "/usr/bin/python3.12"`.
    pub overrides: BTreeMap<String, PathBuf>,
    /// Fallback interpreter for every `python*` runtime.
    pub python: PathBuf,
    /// Fallback interpreter for every `nodejs*` runtime.
    pub node: PathBuf,
    /// Fallback interpreter for every `ruby*` runtime.
    pub ruby: PathBuf,
    /// Refuse a runtime whose exact version the host lacks, instead of running it on the
    /// nearest version.
    pub strict: bool,
    /// Where the SDK layer lives (see [`crate::sdk`]); none: functions get no SDK.
    pub sdk: Option<PathBuf>,
    /// A file that keeps what probing the interpreters found, across restarts: a server
    /// answers from it at once and probes again in the background, off every invocation's
    /// path; none: every server probes on first use.
    pub probe_cache: Option<PathBuf>,
}

impl Default for RuntimeCommands {
    fn default() -> Self {
        RuntimeCommands {
            overrides: BTreeMap::new(),
            python: "python3".into(),
            node: "node".into(),
            ruby: "ruby".into(),
            strict: false,
            sdk: None,
            probe_cache: None,
        }
    }
}

/// What to execute for one environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Entry {
    /// An interpreter running one of Lamina's clients from the runtime directory.
    Client {
        /// Host path of the interpreter.
        interpreter: PathBuf,
        /// Interpreter flags before the script.
        flags: &'static [&'static str],
        /// File name of the client inside the runtime directory.
        script: &'static str,
        /// Why the interpreter is not the runtime's own version, when it is not.
        substitute: Option<String>,
    },
    /// A JVM running Lamina's Java client, compiled into the runtime directory.
    Jvm {
        /// Host path of `java`.
        java: PathBuf,
        /// The `javac` that compiles the client, if it is not compiled yet.
        javac: Option<PathBuf>,
        /// The compiled client's directory in the runtime directory, once compiled.
        classes: Option<String>,
        /// Why the JDK is not the runtime's own version, when it is not.
        substitute: Option<String>,
    },
    /// The function's own `bootstrap`.
    Bootstrap,
}

impl Entry {
    /// The notice an environment's log starts with when its interpreter is not its
    /// runtime's own version.
    pub(crate) fn substitute(&self) -> Option<&str> {
        match self {
            Entry::Client { substitute, .. } | Entry::Jvm { substitute, .. } => substitute.as_deref(),
            Entry::Bootstrap => None,
        }
    }
}

/// An interpreter found for a runtime: its path and its version.
type Found = (PathBuf, String);

/// Why no program could be chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unavailable(pub String);

pub(crate) struct Resolver {
    commands: RuntimeCommands,
    cache: Mutex<HashMap<&'static str, Result<Found, Unavailable>>>,
    /// Each candidate probed (or read from the cache), with its family.
    probes: Mutex<HashMap<PathBuf, (RuntimeFamily, Option<Probed>)>>,
    roots: Mutex<BTreeSet<PathBuf>>,
    /// The Java client's directory inside the runtime directory, once compiled.
    java_client: Mutex<Option<Result<String, Unavailable>>>,
}

/// A working interpreter, its version and the installation directories it needs at run
/// time.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Probed {
    executable: PathBuf,
    version: String,
    roots: Vec<PathBuf>,
}

/// A version manager's shim (pyenv's, rbenv's, asdf's): a script that runs the manager
/// to choose the interpreter.
fn is_shim(path: &Path) -> bool {
    path.parent().is_some_and(|dir| dir.ends_with("shims"))
}

fn find_on_path(name: &Path) -> Option<PathBuf> {
    if name.components().count() > 1 {
        return name.is_file().then(|| name.to_owned());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|p| p.is_file())
}

/// Runs a candidate interpreter once and asks it for its real executable and its
/// installation directories (which a sandbox must expose). This skips wrappers that
/// cannot run (a pyenv shim for a version that is not selected) and resolves the ones
/// that can to the interpreter itself, which starts faster. A JDK is read, not run.
fn probe(candidate: &Path, family: RuntimeFamily) -> Option<Probed> {
    let found = find_on_path(candidate)?;
    if family == RuntimeFamily::Java {
        return probe_jdk(&found);
    }
    // Each prints its executable, then its version, then (Python) its prefixes.
    let args: &[&str] = match family {
        RuntimeFamily::Python => &[
            "-S",
            "-c",
            "import sys; print(sys.executable); print(sys.version.split()[0]); print(sys.prefix); \
             print(sys.base_prefix)",
        ],
        RuntimeFamily::Ruby => &["--disable=gems", "-rrbconfig", "-e", "puts RbConfig.ruby, RUBY_VERSION"],
        _ => &["-p", "process.execPath + '\\n' + process.versions.node"],
    };
    let out = std::process::Command::new(&found).args(args).stdin(std::process::Stdio::null()).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    let mut lines = text.lines().map(PathBuf::from);
    let real = lines.next()?;
    let version = lines.next()?.display().to_string();
    let executable = if real.is_file() { real } else { found };
    // <prefix>/bin/<interpreter>: the installation (or virtualenv) it belongs to.
    let mut roots: Vec<PathBuf> = executable.parent().and_then(Path::parent).map(Path::to_owned).into_iter().collect();
    if family == RuntimeFamily::Python {
        roots.extend(lines); // sys.prefix and sys.base_prefix
    }
    // The interpreter may be a symlink into yet another installation.
    if let Ok(target) = std::fs::canonicalize(&executable) {
        if let Some(prefix) = target.parent().and_then(Path::parent) {
            roots.push(prefix.to_owned());
        }
    }
    Some(Probed { executable, version, roots: outside_usr(roots) })
}

fn outside_usr(mut roots: Vec<PathBuf>) -> Vec<PathBuf> {
    roots.retain(|r| r.is_absolute() && !r.starts_with("/usr") && r != Path::new("/"));
    roots.sort();
    roots.dedup();
    roots
}

/// One probe as the cache file keeps it.
#[derive(serde::Serialize, serde::Deserialize)]
struct Cached {
    candidate: PathBuf,
    family: String,
    found: Option<Probed>,
}

fn family_name(family: RuntimeFamily) -> Option<&'static str> {
    match family {
        RuntimeFamily::Python => Some("python"),
        RuntimeFamily::Node => Some("node"),
        RuntimeFamily::Ruby => Some("ruby"),
        RuntimeFamily::Java => Some("java"),
        RuntimeFamily::Provided | RuntimeFamily::DotNet | RuntimeFamily::Go => None,
    }
}

/// The probes a cache file holds, without those whose interpreter is gone. A file that
/// cannot be read holds none (they are probed again).
fn load_probes(path: &Path) -> HashMap<PathBuf, (RuntimeFamily, Option<Probed>)> {
    let Ok(text) = std::fs::read(path) else { return HashMap::new() };
    let cached: Vec<Cached> = serde_json::from_slice(&text).unwrap_or_default();
    let family = |name: &str| {
        [RuntimeFamily::Python, RuntimeFamily::Node, RuntimeFamily::Ruby, RuntimeFamily::Java]
            .into_iter()
            .find(|f| family_name(*f) == Some(name))
    };
    cached
        .into_iter()
        .filter(|c| c.found.as_ref().is_none_or(|p| p.executable.is_file()))
        .filter_map(|c| Some((c.candidate, (family(&c.family)?, c.found))))
        .collect()
}

/// A JDK's `java`: its version from the JDK's `release` file, and the directories its
/// links lead to outside the JDK (Debian keeps a JDK's configuration in `/etc/java-N-…`).
fn probe_jdk(java: &Path) -> Option<Probed> {
    let executable = std::fs::canonicalize(java).ok()?;
    let home = executable.parent()?.parent()?.to_owned();
    let release = std::fs::read_to_string(home.join("release")).ok()?;
    let version =
        release.lines().find_map(|l| l.strip_prefix("JAVA_VERSION=")).map(|v| v.trim_matches('"').to_owned())?;
    let mut roots = vec![home.clone()];
    let mut stack = vec![(home, 0)];
    while let Some((dir, depth)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let Ok(kind) = entry.file_type() else { continue };
            if kind.is_symlink() {
                // `/etc/java-17-openjdk/...` → `/etc/java-17-openjdk`.
                if let Ok(target) = std::fs::canonicalize(entry.path()) {
                    if !target.starts_with("/usr") {
                        roots.push(target.components().take(3).collect());
                    }
                }
            } else if kind.is_dir() && depth < 5 {
                stack.push((entry.path(), depth + 1));
            }
        }
    }
    Some(Probed { executable, version, roots: outside_usr(roots) })
}

/// A version as numbers: `3.12.1` → [3, 12, 1], Java's `1.8.0_362` → [8, 0, 362].
fn numbers(version: &str) -> Vec<u32> {
    let mut parts: Vec<u32> =
        version.split(['.', '_', '-', '+']).map_while(|p| p.trim_start_matches('v').parse().ok()).collect();
    if parts.first() == Some(&1) && parts.len() > 1 {
        parts.remove(0); // Java 8 and before: 1.8
    }
    parts
}

/// The version a runtime identifier names, as its interpreter reports its own:
/// `python3.12` → `3.12`, `nodejs22.x` → `22`, `ruby3.3` → `3.3`, `java8.al2` → `8`.
fn wanted_version(runtime: Runtime) -> &'static str {
    let id = runtime.as_str();
    id.trim_start_matches("python")
        .trim_start_matches("nodejs")
        .trim_start_matches("ruby")
        .trim_start_matches("java")
        .trim_start_matches("dotnet")
        .trim_end_matches(".x")
        .trim_end_matches(".al2")
}

/// Whether an interpreter of `version` (`3.11.7`, `20.19.2`) is the one `runtime` names.
fn same_version(runtime: Runtime, version: &str) -> bool {
    let wanted = numbers(wanted_version(runtime));
    numbers(version).starts_with(&wanted)
}

/// Of interpreters that are not the runtime's own version, the nearest: the lowest newer
/// one (code written for an older version runs on it, as bytecode for Java 21 runs on 25),
/// else the highest older one.
fn nearest<T>(runtime: Runtime, found: &[(String, T)]) -> Option<&(String, T)> {
    let wanted = numbers(wanted_version(runtime));
    let key = |v: &str| -> Vec<u32> { numbers(v).into_iter().take(wanted.len()).collect() };
    let newer = found.iter().filter(|(v, _)| key(v) > wanted).min_by_key(|(v, _)| numbers(v));
    newer.or_else(|| found.iter().filter(|(v, _)| key(v) < wanted).max_by_key(|(v, _)| numbers(v)))
}

fn home() -> Option<PathBuf> {
    std::env::var_os("HOME").map(PathBuf::from)
}

fn root_or(var: &str, default: &str) -> Option<PathBuf> {
    std::env::var_os(var).map(PathBuf::from).or_else(|| Some(home()?.join(default)))
}

/// Subdirectories of `dir`, each with its name.
fn subdirs(dir: Option<PathBuf>) -> Vec<(String, PathBuf)> {
    let Some(dir) = dir else { return Vec::new() };
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut out: Vec<(String, PathBuf)> =
        entries.flatten().map(|e| (e.file_name().to_string_lossy().into_owned(), e.path())).collect();
    out.sort();
    out
}

/// Interpreters that version managers and distributions installed, by the version their
/// directory or name says, found without running any.
fn installed(family: RuntimeFamily) -> Vec<(String, PathBuf)> {
    let home = home();
    let mut out = Vec::new();
    let asdf = |plugin: &str| subdirs(root_or("ASDF_DATA_DIR", ".asdf").map(|d| d.join("installs").join(plugin)));
    match family {
        RuntimeFamily::Python => {
            for (v, dir) in
                subdirs(root_or("PYENV_ROOT", ".pyenv").map(|d| d.join("versions"))).into_iter().chain(asdf("python"))
            {
                let short: Vec<&str> = v.split('.').take(2).collect();
                out.push((v.clone(), dir.join("bin").join(format!("python{}", short.join(".")))));
            }
            for minor in 6..=20 {
                for dir in ["/usr/local/bin", "/usr/bin"] {
                    out.push((format!("3.{minor}"), PathBuf::from(format!("{dir}/python3.{minor}"))));
                }
            }
        }
        RuntimeFamily::Node => {
            for (v, dir) in subdirs(root_or("NVM_DIR", ".nvm").map(|d| d.join("versions/node")))
                .into_iter()
                .chain(asdf("nodejs"))
                .chain(subdirs(home.as_ref().map(|h| h.join(".volta/tools/image/node"))))
                .chain(subdirs(Some("/usr/local/n/versions/node".into())))
            {
                out.push((v.trim_start_matches('v').to_owned(), dir.join("bin/node")));
            }
        }
        RuntimeFamily::Ruby => {
            for (v, dir) in
                subdirs(root_or("RBENV_ROOT", ".rbenv").map(|d| d.join("versions"))).into_iter().chain(asdf("ruby"))
            {
                out.push((v, dir.join("bin/ruby")));
            }
            for minor in 0..=9 {
                out.push((format!("3.{minor}"), PathBuf::from(format!("/usr/bin/ruby3.{minor}"))));
            }
        }
        RuntimeFamily::Java => {
            let homes = subdirs(Some("/usr/lib/jvm".into()))
                .into_iter()
                .chain(std::env::var_os("JAVA_HOME").map(|h| (String::new(), PathBuf::from(h))))
                .chain(subdirs(root_or("SDKMAN_DIR", ".sdkman").map(|d| d.join("candidates/java"))))
                .chain(asdf("java"));
            let mut seen = BTreeSet::new();
            for (_, dir) in homes {
                let java = dir.join("bin/java");
                if let (Ok(real), Some(probed)) = (std::fs::canonicalize(&java), probe_jdk(&java)) {
                    if seen.insert(real) {
                        out.push((probed.version, java));
                    }
                }
            }
        }
        _ => {}
    }
    out.retain(|(v, path)| !numbers(v).is_empty() && path.is_file());
    out
}

impl Resolver {
    pub(crate) fn new(commands: RuntimeCommands) -> Self {
        let probes = commands.probe_cache.as_deref().map(load_probes).unwrap_or_default();
        Resolver {
            commands,
            cache: Mutex::new(HashMap::new()),
            probes: Mutex::new(probes),
            roots: Mutex::new(BTreeSet::new()),
            java_client: Mutex::new(None),
        }
    }

    /// Whether probes were read from a cache file.
    pub(crate) fn has_cache(&self) -> bool {
        !self.probes.lock().is_empty()
    }

    /// Probes the Python and Node fallbacks and every interpreter probed before (the
    /// cache's), without holding up anyone asking meanwhile, and keeps the answers: a
    /// server runs this once, in the background, as it starts. When an answer changed
    /// (an interpreter upgraded or removed), runtimes are resolved again on next use.
    pub(crate) fn refresh(&self) {
        let mut wanted: Vec<(PathBuf, RuntimeFamily)> = vec![
            (self.commands.python.clone(), RuntimeFamily::Python),
            (self.commands.node.clone(), RuntimeFamily::Node),
        ];
        wanted.extend(self.probes.lock().iter().map(|(candidate, (family, _))| (candidate.clone(), *family)));
        let mut seen = BTreeSet::new();
        wanted.retain(|(candidate, _)| seen.insert(candidate.clone()));
        let fresh: Vec<_> = wanted
            .into_iter()
            .map(|(candidate, family)| {
                let probed = probe(&candidate, family);
                (candidate, (family, probed))
            })
            .collect();
        let changed = {
            let mut probes = self.probes.lock();
            let mut changed = false;
            for (candidate, answer) in fresh {
                changed |= probes.get(&candidate) != Some(&answer);
                probes.insert(candidate, answer);
            }
            changed
        };
        if changed {
            self.cache.lock().clear();
            self.save();
        }
    }

    /// Writes the probes to the cache file (whole, then renamed into place).
    fn save(&self) {
        let Some(path) = self.commands.probe_cache.as_deref() else { return };
        let entries: Vec<Cached> = self
            .probes
            .lock()
            .iter()
            .filter_map(|(candidate, (family, found))| {
                Some(Cached {
                    candidate: candidate.clone(),
                    family: family_name(*family)?.to_owned(),
                    found: found.clone(),
                })
            })
            .collect();
        let Ok(text) = serde_json::to_vec(&entries) else { return };
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        if std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, path)).is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
    }

    /// Installation directories of every interpreter found so far, with the Python and
    /// Node fallbacks' once they are known (so that a custom runtime can use them too).
    /// Never probes: a function's own bootstrap needs no interpreter to start.
    pub(crate) fn shared_roots(&self) -> Vec<PathBuf> {
        let mut roots: Vec<PathBuf> = self.roots.lock().iter().cloned().collect();
        let probes = self.probes.lock();
        for fallback in [&self.commands.python, &self.commands.node] {
            if let Some((_, Some(probed))) = probes.get(fallback) {
                roots.extend(probed.roots.iter().cloned());
            }
        }
        drop(probes);
        roots.extend(self.sdk().map(Path::to_owned));
        roots.sort();
        roots.dedup();
        roots
    }

    /// The SDK layer, once any part of it is installed.
    pub(crate) fn sdk(&self) -> Option<&Path> {
        let sdk = self.commands.sdk.as_deref()?;
        crate::sdk::present(sdk).then_some(sdk)
    }

    fn probe_once(&self, candidate: &Path, family: RuntimeFamily) -> Option<Found> {
        let mut probes = self.probes.lock();
        let probed = match probes.get(candidate) {
            Some((_, known)) => known.clone(),
            None => {
                let probed = probe(candidate, family);
                probes.insert(candidate.to_owned(), (family, probed.clone()));
                drop(probes);
                self.save();
                probed
            }
        }?;
        self.roots.lock().extend(probed.roots);
        Some((probed.executable, probed.version))
    }

    /// The resolution already made for a runtime, if any (without probing).
    pub(crate) fn known(&self, runtime: Runtime) -> Option<Result<Option<String>, Unavailable>> {
        match runtime.family() {
            RuntimeFamily::Provided => return Some(Ok(None)),
            RuntimeFamily::Python | RuntimeFamily::Node | RuntimeFamily::Ruby | RuntimeFamily::Java => {}
            _ => return Some(self.entry(runtime).map(|e| e.substitute().map(str::to_owned))),
        }
        let cached = self.cache.lock().get(runtime.as_str()).cloned()?;
        // A JVM without a javac to compile Lamina's client (none compiled yet) cannot run.
        if let Ok((java, _)) = &cached {
            let compiled = matches!(self.java_client.lock().as_ref(), Some(Ok(_)));
            if runtime.family() == RuntimeFamily::Java && !compiled && self.javac_for(java).is_none() {
                return Some(Err(Unavailable(format!(
                    "The runtime {runtime} is not available on this Lamina host: it has a Java runtime ({}) but no \
                     javac to compile Lamina's Java runtime client; install a JDK.",
                    java.display()
                ))));
            }
        }
        Some(cached.map(|(interpreter, version)| self.substitute(runtime, &interpreter, &version)))
    }

    fn substitute(&self, runtime: Runtime, interpreter: &Path, version: &str) -> Option<String> {
        (!same_version(runtime, version)).then(|| {
            format!(
                "Lamina: this host has no interpreter for {runtime}; the function runs on version {version} ({})",
                interpreter.display()
            )
        })
    }

    pub(crate) fn entry(&self, runtime: Runtime) -> Result<Entry, Unavailable> {
        let (flags, script): (&[&str], _) = match runtime.family() {
            RuntimeFamily::Provided => return Ok(Entry::Bootstrap),
            // -S: the client adds its own paths, without running the host's .pth files
            // (which can cost more than the whole start-up). -B: /var/task is
            // read-only on AWS; no bytecode is written into the package.
            RuntimeFamily::Python => (&["-S", "-B"], "bootstrap.py"),
            // As AWS's Node.js runtimes start it (the heap sizes follow, from the memory).
            RuntimeFamily::Node => (&["--expose-gc", "--max-http-header-size", "81920"], "bootstrap.js"),
            RuntimeFamily::Ruby => (&[], "bootstrap.rb"),
            RuntimeFamily::Java => (&[], ""),
            RuntimeFamily::DotNet => {
                return match find_on_path(Path::new("dotnet")) {
                    Some(dotnet) => {
                        // An installation outside /usr (`~/.dotnet`) is exposed to the sandbox.
                        let real = std::fs::canonicalize(&dotnet).unwrap_or(dotnet);
                        self.roots.lock().extend(outside_usr(real.parent().map(Path::to_owned).into_iter().collect()));
                        Ok(Entry::Bootstrap)
                    }
                    None => Err(Unavailable(format!(
                        "The runtime {runtime} is not available on this Lamina host: it has no .NET (`dotnet` is not on \
                         PATH). Install the .NET {} runtime, or deploy the function as provided.al2023 with a \
                         self-contained bootstrap.",
                        wanted_version(runtime)
                    ))),
                };
            }
            RuntimeFamily::Go => {
                return Err(Unavailable(format!(
                "The runtime {runtime} is not available on this Lamina host; deploy Go functions as provided.al2023."
            )))
            }
        };
        let mut cache = self.cache.lock();
        let (interpreter, version) =
            cache.entry(runtime.as_str()).or_insert_with(|| self.interpreter(runtime)).clone()?;
        drop(cache);
        let substitute = self.substitute(runtime, &interpreter, &version);
        if runtime.family() == RuntimeFamily::Java {
            let javac = self.javac_for(&interpreter);
            return Ok(Entry::Jvm { java: interpreter, javac, classes: None, substitute });
        }
        Ok(Entry::Client { interpreter, flags, script, substitute })
    }

    /// The candidates for a runtime, by version: the family fallback and every
    /// installation found.
    fn candidates(&self, runtime: Runtime) -> Vec<(String, PathBuf)> {
        let family = runtime.family();
        let fallback = match family {
            RuntimeFamily::Python => Some(&self.commands.python),
            RuntimeFamily::Node => Some(&self.commands.node),
            RuntimeFamily::Ruby => Some(&self.commands.ruby),
            _ => None,
        };
        let mut out = Vec::new();
        // The exact name on PATH (`python3.12`, `ruby3.3`) first, unless it is a version
        // manager's shim: running one costs a tenth of a second, and the installations
        // behind it are listed below anyway.
        let exact = Path::new(runtime.as_str());
        if matches!(family, RuntimeFamily::Python | RuntimeFamily::Ruby)
            && find_on_path(exact).is_some_and(|p| !is_shim(&p))
        {
            if let Some((_, version)) = self.probe_once(exact, family) {
                out.push((version, exact.to_owned()));
            }
        }
        let installed = installed(family);
        // The fallback is probed (for its version) only when nothing has the exact one.
        let exact_found = out.iter().chain(&installed).any(|(v, _)| same_version(runtime, v));
        if let Some(fallback) = fallback.filter(|_| !exact_found) {
            if let Some((_, version)) = self.probe_once(fallback, family) {
                out.push((version, fallback.clone()));
            }
        }
        if family == RuntimeFamily::Java {
            if let Some((_, version)) = self.probe_once(Path::new("java"), family) {
                out.push((version, PathBuf::from("java")));
            }
        }
        out.extend(installed);
        out
    }

    fn interpreter(&self, runtime: Runtime) -> Result<Found, Unavailable> {
        let family = runtime.family();
        if let Some(p) = self.commands.overrides.get(runtime.as_str()) {
            return self.probe_once(p, family).ok_or_else(|| {
                Unavailable(format!("The runtime {runtime} is not available on this Lamina host: {p:?} was not found."))
            });
        }
        let mut candidates = self.candidates(runtime);
        // The exact version, else the nearest: each probed when chosen, and dropped if it
        // does not run.
        while !candidates.is_empty() {
            let chosen = match candidates.iter().position(|(v, _)| same_version(runtime, v)) {
                Some(i) => i,
                None if self.commands.strict => {
                    let found: Vec<&str> = candidates.iter().map(|(v, _)| v.as_str()).collect();
                    return Err(Unavailable(format!(
                        "The runtime {runtime} is not available on this Lamina host: it has no interpreter of version {} \
                         (found: {}), and [runtimes] strict is set.",
                        wanted_version(runtime),
                        found.join(", ")
                    )));
                }
                None => {
                    let best = nearest(runtime, &candidates).map(|c| c.1.clone());
                    best.and_then(|b| candidates.iter().position(|(_, p)| *p == b)).unwrap_or_default()
                }
            };
            let (_, path) = candidates.remove(chosen);
            if let Some(found) = self.probe_once(&path, family) {
                return Ok(found);
            }
        }
        let looked = match family {
            RuntimeFamily::Java => "no JDK was found in /usr/lib/jvm, JAVA_HOME, SDKMAN!, asdf or on PATH".to_owned(),
            _ => format!(
                "no interpreter was found on PATH or in pyenv, nvm, rbenv or asdf (fallback: {})",
                match family {
                    RuntimeFamily::Python => self.commands.python.display(),
                    RuntimeFamily::Node => self.commands.node.display(),
                    _ => self.commands.ruby.display(),
                }
            ),
        };
        Err(Unavailable(format!("The runtime {runtime} is not available on this Lamina host: {looked}.")))
    }

    /// A `javac` for Lamina's Java client: the JDK's own, else any other JDK's.
    fn javac_for(&self, java: &Path) -> Option<PathBuf> {
        let own = java.parent().map(|bin| bin.join("javac")).filter(|p| p.is_file());
        own.or_else(|| {
            installed(RuntimeFamily::Java)
                .into_iter()
                .filter_map(|(_, j)| j.parent().map(|bin| bin.join("javac")))
                .find(|p| p.is_file())
        })
        .or_else(|| find_on_path(Path::new("javac")))
    }

    /// Compiles Lamina's Java client into `runtime_dir` once (kept across restarts, by the
    /// sources' digest) and answers its directory's name there.
    pub(crate) fn java_client(&self, runtime_dir: &Path, javac: Option<&Path>) -> Result<String, Unavailable> {
        let mut compiled = self.java_client.lock();
        if let Some(done) = compiled.as_ref() {
            return done.clone();
        }
        let result = compile_java_client(runtime_dir, javac);
        *compiled = Some(result.clone());
        result
    }
}

/// FNV-1a of the Java sources: the name of their compiled directory.
fn java_digest() -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (name, text) in JAVA_SOURCES {
        for b in name.bytes().chain(text.bytes()) {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("java-{h:016x}")
}

fn compile_java_client(runtime_dir: &Path, javac: Option<&Path>) -> Result<String, Unavailable> {
    let name = java_digest();
    let done = runtime_dir.join(&name);
    if done.join("lamina/runtime/Bootstrap.class").is_file() {
        return Ok(name);
    }
    let unavailable = |why: String| Unavailable(format!("Lamina's Java runtime client could not be compiled: {why}"));
    let Some(javac) = javac else {
        return Err(unavailable("this host has a Java runtime but no javac (install a JDK).".into()));
    };
    let work = runtime_dir.join(format!(".{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    let (src, out) = (work.join("src"), work.join("classes"));
    let mut files = Vec::new();
    for (path, text) in JAVA_SOURCES {
        let file = src.join(path);
        std::fs::create_dir_all(file.parent().unwrap_or(&src)).map_err(|e| unavailable(e.to_string()))?;
        std::fs::write(&file, text).map_err(|e| unavailable(e.to_string()))?;
        files.push(file);
    }
    // Bytecode for Java 8, so that every JDK the functions may run on loads it.
    let result = std::process::Command::new(javac)
        .args(["--release", "8", "-nowarn", "-encoding", "UTF-8", "-d"])
        .arg(&out)
        .args(&files)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| unavailable(format!("{}: {e}", javac.display())))?;
    if !result.status.success() {
        let _ = std::fs::remove_dir_all(&work);
        return Err(unavailable(String::from_utf8_lossy(&result.stderr).into_owned()));
    }
    // Readable by the sandbox's users; moved into place whole.
    let _ = std::process::Command::new("chmod").args(["-R", "a+rX"]).arg(&out).status();
    match std::fs::rename(&out, &done) {
        Ok(()) => {}
        Err(_) if done.join("lamina/runtime/Bootstrap.class").is_file() => {}
        Err(e) => return Err(unavailable(e.to_string())),
    }
    let _ = std::fs::remove_dir_all(&work);
    Ok(name)
}

/// What serves each runtime identifier a function can be created with on this host
/// (`lamina doctor`): the interpreter and its version, the function's own bootstrap, or
/// why nothing does.
pub fn report(commands: RuntimeCommands) -> Vec<(&'static str, Result<String, String>)> {
    let resolver = Resolver::new(commands);
    let served = |runtime: Runtime| -> Result<String, String> {
        let entry = resolver.entry(runtime).map_err(|u| u.0)?;
        let substitute = match &entry {
            Entry::Bootstrap if runtime.family() == RuntimeFamily::DotNet => {
                return Ok("the function's own bootstrap, with the host's dotnet".to_owned())
            }
            Entry::Bootstrap => return Ok("the function's own bootstrap".to_owned()),
            Entry::Jvm { javac: None, .. } => {
                return Err("a Java runtime was found but no javac to compile Lamina's Java client".to_owned())
            }
            entry => entry.substitute(),
        };
        let (interpreter, version) = resolver.interpreter(runtime).map_err(|u| u.0)?;
        let nearest = if substitute.is_some() { "; not its own version: the nearest this host has" } else { "" };
        Ok(format!("{} ({version}{nearest})", interpreter.display()))
    };
    Runtime::all_ids()
        .iter()
        .filter_map(|id| Runtime::parse(id))
        .filter(|runtime| runtime.create_blocked().is_none())
        .map(|runtime| (runtime.as_str(), served(runtime)))
        .collect()
}

/// Writes Lamina's runtime clients into `dir` (the host side of `/var/runtime`).
pub fn install_clients(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (name, text) in [("bootstrap.py", PYTHON_CLIENT), ("bootstrap.js", NODE_CLIENT), ("bootstrap.rb", RUBY_CLIENT)]
    {
        let path = dir.join(name);
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text) {
            let tmp = dir.join(format!(".{name}.tmp"));
            std::fs::write(&tmp, text)?;
            std::fs::rename(&tmp, &path)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provided_runs_the_bootstrap_and_go_is_refused() {
        let r = Resolver::new(RuntimeCommands::default());
        assert_eq!(r.entry(Runtime::parse("provided.al2023").unwrap()), Ok(Entry::Bootstrap));
        let go = r.entry(Runtime::parse("go1.x").unwrap()).unwrap_err();
        assert!(go.0.contains("provided.al2023"), "{}", go.0);
    }

    #[test]
    fn python_runs_on_some_interpreter_and_says_when_it_is_not_its_version() {
        let r = Resolver::new(RuntimeCommands::default());
        // The fallback `python3` is on every test host: every Python runtime runs.
        for id in ["python3.9", "python3.14"] {
            match r.entry(Runtime::parse(id).unwrap()).unwrap() {
                Entry::Client { interpreter, script, substitute, .. } => {
                    assert!(interpreter.is_file());
                    assert_eq!(script, "bootstrap.py");
                    if let Some(notice) = substitute {
                        assert!(notice.starts_with(&format!("Lamina: this host has no interpreter for {id};")));
                    }
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn versions_compare_as_their_interpreters_report_them() {
        assert!(same_version(Runtime::parse("python3.12").unwrap(), "3.12.1"));
        assert!(!same_version(Runtime::parse("python3.9").unwrap(), "3.11.7"));
        assert!(same_version(Runtime::parse("nodejs20.x").unwrap(), "20.19.2"));
        assert!(!same_version(Runtime::parse("nodejs22.x").unwrap(), "20.19.2"));
        assert!(same_version(Runtime::parse("ruby3.3").unwrap(), "3.3.0"));
        assert!(!same_version(Runtime::parse("ruby3.3").unwrap(), "3.1.2"));
        assert!(same_version(Runtime::parse("java8.al2").unwrap(), "1.8.0_362"));
        assert!(same_version(Runtime::parse("java17").unwrap(), "17.0.15"));
        assert!(!same_version(Runtime::parse("java21").unwrap(), "25.0.3"));
    }

    #[test]
    fn the_nearest_is_the_lowest_newer_else_the_highest_older() {
        let found = |vs: &[&str]| vs.iter().map(|v| (v.to_string(), ())).collect::<Vec<_>>();
        let java21 = Runtime::parse("java21").unwrap();
        assert_eq!(nearest(java21, &found(&["17.0.15", "25.0.3", "11.0.2"])).unwrap().0, "25.0.3");
        assert_eq!(nearest(java21, &found(&["17.0.15", "11.0.2"])).unwrap().0, "17.0.15");
        let py314 = Runtime::parse("python3.14").unwrap();
        assert_eq!(nearest(py314, &found(&["3.9.18", "3.13.0", "3.11.7"])).unwrap().0, "3.13.0");
        let py39 = Runtime::parse("python3.9").unwrap();
        assert_eq!(nearest(py39, &found(&["3.13.0", "3.10.13", "3.11.7"])).unwrap().0, "3.10.13");
    }

    #[test]
    fn strict_mode_refuses_what_is_not_the_exact_version() {
        let commands = RuntimeCommands { strict: true, ..RuntimeCommands::default() };
        let r = Resolver::new(commands);
        // A host has at most one of these Node majors on PATH and in nvm, usually neither.
        let refused: Vec<Unavailable> =
            ["nodejs18.x", "nodejs24.x"].iter().filter_map(|id| r.entry(Runtime::parse(id).unwrap()).err()).collect();
        assert!(!refused.is_empty());
        assert!(refused[0].0.contains("[runtimes] strict is set"), "{}", refused[0].0);
    }

    #[test]
    fn the_report_names_what_serves_each_runtime() {
        let report: HashMap<_, _> = report(RuntimeCommands::default()).into_iter().collect();
        assert_eq!(report["provided.al2023"], Ok("the function's own bootstrap".to_owned()));
        assert!(report["python3.12"].as_ref().is_ok_and(|by| by.contains('(')), "{:?}", report["python3.12"]);
        // Runtimes AWS no longer lets a function be created with are left out.
        assert!(!report.contains_key("python2.7"));
    }

    #[test]
    fn explicit_mapping_wins_and_a_missing_one_is_reported() {
        let mut commands = RuntimeCommands::default();
        commands.overrides.insert("nodejs20.x".into(), "/nonexistent/node".into());
        let r = Resolver::new(commands);
        let err = r.entry(Runtime::parse("nodejs20.x").unwrap()).unwrap_err();
        assert!(err.0.contains("/nonexistent/node"), "{}", err.0);
    }

    #[test]
    fn probes_are_kept_across_restarts_and_refreshed_in_the_background() {
        let dir = std::env::temp_dir().join(format!("lamina-probes-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cache = dir.join("interpreters.json");
        let commands = RuntimeCommands { probe_cache: Some(cache.clone()), ..RuntimeCommands::default() };
        let python = Runtime::parse("python3.12").unwrap();
        let first = Resolver::new(commands.clone());
        let Entry::Client { interpreter, .. } = first.entry(python).unwrap() else { panic!("not a client") };
        assert!(cache.is_file(), "a probe is written down");

        // A restarted server answers from the file: a candidate it holds is not run again.
        let text = std::fs::read_to_string(&cache).unwrap();
        let fake = dir.join("python-from-the-cache");
        std::fs::copy(&interpreter, &fake).unwrap();
        // The file, with what probing `interpreter` found changed to `to`.
        let found_at = |to: &Path| {
            let mut entries: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
            for e in &mut entries {
                if e["found"]["executable"] == interpreter.to_string_lossy().as_ref() {
                    e["found"]["executable"] = to.to_string_lossy().as_ref().into();
                }
            }
            serde_json::to_string(&entries).unwrap()
        };
        std::fs::write(&cache, found_at(&fake)).unwrap();
        let second = Resolver::new(commands.clone());
        let Entry::Client { interpreter: cached, .. } = second.entry(python).unwrap() else { panic!() };
        assert_eq!(cached, fake);

        // Probing again finds the real interpreter, and later resolutions use it.
        second.refresh();
        let Entry::Client { interpreter: fresh, .. } = second.entry(python).unwrap() else { panic!() };
        assert_eq!(fresh, interpreter);
        assert!(!std::fs::read_to_string(&cache).unwrap().contains("python-from-the-cache"));

        // An interpreter that is gone is not taken from the file.
        std::fs::write(&cache, found_at(Path::new("/nonexistent/python3"))).unwrap();
        let Entry::Client { interpreter: third, .. } = Resolver::new(commands).entry(python).unwrap() else { panic!() };
        assert_eq!(third, interpreter);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_java_client_compiles_once_where_a_jdk_is() {
        let r = Resolver::new(RuntimeCommands::default());
        let Ok(Entry::Jvm { javac: Some(javac), .. }) = r.entry(Runtime::parse("java17").unwrap()) else {
            // A host without a JDK cannot run Java functions; the e2e tests say so.
            return;
        };
        let dir = std::env::temp_dir().join(format!("lamina-java-client-{}", std::process::id()));
        let name = r.java_client(&dir, Some(&javac)).unwrap();
        assert!(dir.join(&name).join("lamina/runtime/Bootstrap.class").is_file());
        assert!(dir.join(&name).join("com/amazonaws/services/lambda/runtime/RequestHandler.class").is_file());
        // Cached: a second resolver finds it compiled and needs no javac.
        assert_eq!(Resolver::new(RuntimeCommands::default()).java_client(&dir, None), Ok(name));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
