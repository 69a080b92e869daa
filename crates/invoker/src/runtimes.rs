//! Which program starts an environment for each runtime identifier.
//!
//! - `pythonX.Y`: Lamina's Python client (`bootstrap.py`) under the host interpreter
//!   configured for that identifier, else `pythonX.Y` on `PATH`, else the `python`
//!   fallback (`python3`).
//! - `nodejsNN.x`: Lamina's Node client (`bootstrap.js`) under the configured
//!   interpreter, else `node` on `PATH`.
//! - `rubyX.Y`: Lamina's Ruby client (`bootstrap.rb`) under the configured interpreter,
//!   else `rubyX.Y` on `PATH` (Debian's name for each version), else the `ruby` fallback.
//! - `provided*`: the package's own `bootstrap` (or one from a layer at `/opt`).
//! - everything else needs an explicit interpreter mapping, and otherwise answers
//!   `InvalidRuntimeException`.

use model::sync::Mutex;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use model::{Runtime, RuntimeFamily};

const PYTHON_CLIENT: &str = include_str!("../runtimes/bootstrap.py");
const NODE_CLIENT: &str = include_str!("../runtimes/bootstrap.js");
const RUBY_CLIENT: &str = include_str!("../runtimes/bootstrap.rb");

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
}

impl Default for RuntimeCommands {
    fn default() -> Self {
        RuntimeCommands {
            overrides: BTreeMap::new(),
            python: "python3".into(),
            node: "node".into(),
            ruby: "ruby".into(),
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
        /// Why the interpreter is not the runtime's own version, when it is not: the
        /// host has no such interpreter, and the nearest one runs the function.
        substitute: Option<String>,
    },
    /// The function's own `bootstrap`.
    Bootstrap,
}

/// An interpreter found for a runtime: its path and its version.
type Found = (PathBuf, String);

/// Why no program could be chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unavailable(pub String);

pub(crate) struct Resolver {
    commands: RuntimeCommands,
    cache: Mutex<HashMap<&'static str, Result<Found, Unavailable>>>,
    probes: Mutex<HashMap<PathBuf, Option<Probed>>>,
    roots: Mutex<BTreeSet<PathBuf>>,
}

/// A working interpreter, its version and the installation directories it needs at run
/// time.
#[derive(Debug, Clone)]
struct Probed {
    executable: PathBuf,
    version: String,
    roots: Vec<PathBuf>,
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
/// that can to the interpreter itself, which starts faster.
fn probe(candidate: &Path, family: RuntimeFamily) -> Option<Probed> {
    let found = find_on_path(candidate)?;
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
    roots.retain(|r| r.is_absolute() && !r.starts_with("/usr") && r != Path::new("/"));
    roots.sort();
    roots.dedup();
    Some(Probed { executable, version, roots })
}

/// The version a runtime identifier names, as its interpreter reports its own:
/// `python3.12` → `3.12`, `nodejs22.x` → `22`, `ruby3.3` → `3.3`.
fn wanted_version(runtime: Runtime) -> &'static str {
    let id = runtime.as_str();
    id.trim_start_matches("python").trim_start_matches("nodejs").trim_start_matches("ruby").trim_end_matches(".x")
}

/// Whether an interpreter of `version` (`3.11.7`, `20.19.2`) is the one `runtime` names.
fn same_version(runtime: Runtime, version: &str) -> bool {
    let wanted = wanted_version(runtime);
    version == wanted || version.strip_prefix(wanted).is_some_and(|rest| rest.starts_with('.'))
}

impl Resolver {
    pub(crate) fn new(commands: RuntimeCommands) -> Self {
        Resolver {
            commands,
            cache: Mutex::new(HashMap::new()),
            probes: Mutex::new(HashMap::new()),
            roots: Mutex::new(BTreeSet::new()),
        }
    }

    /// Installation directories of every interpreter found so far, after probing the
    /// Python and Node fallbacks (so that a custom runtime can use them too).
    pub(crate) fn shared_roots(&self) -> Vec<PathBuf> {
        let _ = self.probe_once(&self.commands.python, RuntimeFamily::Python);
        let _ = self.probe_once(&self.commands.node, RuntimeFamily::Node);
        self.roots.lock().iter().cloned().collect()
    }

    fn probe_once(&self, candidate: &Path, family: RuntimeFamily) -> Option<Found> {
        let mut probes = self.probes.lock();
        let probed = probes.entry(candidate.to_owned()).or_insert_with(|| probe(candidate, family)).clone()?;
        self.roots.lock().extend(probed.roots);
        Some((probed.executable, probed.version))
    }

    pub(crate) fn entry(&self, runtime: Runtime) -> Result<Entry, Unavailable> {
        let (flags, script): (&[&str], _) = match runtime.family() {
            RuntimeFamily::Provided => return Ok(Entry::Bootstrap),
            // -S: the client adds site-packages itself, without running the host's .pth
            // files (which can cost more than the whole start-up). -B: /var/task is
            // read-only on AWS; no bytecode is written into the package.
            RuntimeFamily::Python => (&["-S", "-B"], "bootstrap.py"),
            RuntimeFamily::Node => (&[], "bootstrap.js"),
            RuntimeFamily::Ruby => (&[], "bootstrap.rb"),
            _ => {
                return Err(Unavailable(format!(
                    "The runtime {runtime} is not available on this Lamina host. \
                     Supported here: python3.9-python3.14, nodejs18.x-nodejs24.x, ruby3.2-ruby3.4, provided.al2, \
                     provided.al2023."
                )))
            }
        };
        let mut cache = self.cache.lock();
        let (interpreter, version) =
            cache.entry(runtime.as_str()).or_insert_with(|| self.interpreter(runtime)).clone()?;
        let substitute = (!same_version(runtime, &version)).then(|| {
            format!(
                "Lamina: this host has no interpreter for {runtime}; the function runs on version {version} ({})",
                interpreter.display()
            )
        });
        Ok(Entry::Client { interpreter, flags, script, substitute })
    }

    fn interpreter(&self, runtime: Runtime) -> Result<Found, Unavailable> {
        let mut candidates: Vec<PathBuf> = Vec::new();
        if let Some(p) = self.commands.overrides.get(runtime.as_str()) {
            candidates.push(p.clone());
        } else {
            match runtime.family() {
                // The exact version when the host has it, else the family fallback.
                RuntimeFamily::Python => {
                    candidates.push(PathBuf::from(runtime.as_str()));
                    candidates.push(self.commands.python.clone());
                }
                RuntimeFamily::Ruby => {
                    candidates.push(PathBuf::from(runtime.as_str()));
                    candidates.push(self.commands.ruby.clone());
                }
                _ => candidates.push(self.commands.node.clone()),
            }
        }
        candidates.iter().find_map(|c| self.probe_once(c, runtime.family())).ok_or_else(|| {
            Unavailable(format!(
                "The runtime {runtime} is not available on this Lamina host: none of {candidates:?} was found."
            ))
        })
    }
}

/// What serves each runtime identifier a function can be created with on this host
/// (`lamina doctor`): the interpreter and its version, the function's own bootstrap, or
/// why nothing does.
pub fn report(commands: RuntimeCommands) -> Vec<(&'static str, Result<String, String>)> {
    let resolver = Resolver::new(commands);
    let served = |runtime: Runtime| -> Result<String, String> {
        let substitute = match resolver.entry(runtime).map_err(|u| u.0)? {
            Entry::Bootstrap => return Ok("the function's own bootstrap".to_owned()),
            Entry::Client { substitute, .. } => substitute,
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
pub(crate) fn install_clients(dir: &Path) -> std::io::Result<()> {
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
    fn provided_runs_the_bootstrap_and_java_is_unavailable() {
        let r = Resolver::new(RuntimeCommands::default());
        assert_eq!(r.entry(Runtime::parse("provided.al2023").unwrap()), Ok(Entry::Bootstrap));
        assert!(r.entry(Runtime::parse("java21").unwrap()).is_err());
    }

    #[test]
    fn python_falls_back_to_the_family_interpreter() {
        let r = Resolver::new(RuntimeCommands::default());
        // python3.9 is rarely installed; the fallback `python3` is on every test host.
        match r.entry(Runtime::parse("python3.9").unwrap()).unwrap() {
            Entry::Client { interpreter, script, .. } => {
                assert!(interpreter.is_file());
                assert_eq!(script, "bootstrap.py");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_substitute_interpreter_is_named() {
        let r = Resolver::new(RuntimeCommands::default());
        // The host's python3 runs every version it is not: at most one of these is it.
        let substitutes = ["python3.9", "python3.14"]
            .iter()
            .filter_map(|id| match r.entry(Runtime::parse(id).unwrap()).unwrap() {
                Entry::Client { substitute, .. } => substitute,
                Entry::Bootstrap => None,
            })
            .collect::<Vec<_>>();
        assert!(!substitutes.is_empty());
        assert!(substitutes[0].starts_with("Lamina: this host has no interpreter for python3."), "{substitutes:?}");
        assert!(same_version(Runtime::parse("python3.12").unwrap(), "3.12.1"));
        assert!(!same_version(Runtime::parse("python3.9").unwrap(), "3.11.7"));
        assert!(same_version(Runtime::parse("nodejs20.x").unwrap(), "20.19.2"));
        assert!(!same_version(Runtime::parse("nodejs22.x").unwrap(), "20.19.2"));
        assert!(
            same_version(Runtime::parse("ruby3.3").unwrap(), "3.3.0")
                && !same_version(Runtime::parse("ruby3.3").unwrap(), "3.1.2")
        );
    }

    #[test]
    fn the_report_names_what_serves_each_runtime() {
        let report: HashMap<_, _> = report(RuntimeCommands::default()).into_iter().collect();
        assert_eq!(report["provided.al2023"], Ok("the function's own bootstrap".to_owned()));
        assert!(report["java21"].as_ref().is_err_and(|why| why.contains("java21 is not available")));
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
}
