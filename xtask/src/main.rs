//! Lamina's developer tasks, one entry point:
//!
//! - `cargo xtask test`: checks that ARCHITECTURE.md names only paths that exist, installs what the tests need (a Python virtualenv in `.venv`
//!   with boto3, the aws CLI, pytest and awslambdaric, and aws CLI v2 in `.venv-awscli2`), checks formatting and lints,
//!   builds the binary and the `lambda_runtime` fixture, then runs every Rust test and
//!   the end-to-end suite.
//! - `cargo xtask bench`: builds release binaries, measures cold starts, warm latency
//!   and throughput against a real `lamina serve`, and rewrites `docs/PERFORMANCE.md`.
//! - `cargo xtask coverage`: asks a running server for every operation of every vendored
//!   model and rewrites `docs/COVERAGE.md`.
//! - `cargo xtask models [botocore-version]`: refreshes the vendored service models.

mod architecture;
mod bench;
mod coverage;
mod models;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_owned()
}

fn run(cmd: &mut Command) -> Result<()> {
    eprintln!("$ {cmd:?}");
    let status = cmd.status().with_context(|| format!("starting {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed: {status}");
    }
    Ok(())
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

/// Creates the virtualenv `dir` and installs `requirements` into it (then runs
/// `installer`, a Python script given the virtualenv, if any), once per change of either.
fn virtualenv(root: &Path, dir: &str, requirements: &str, installer: Option<&str>) -> Result<PathBuf> {
    let venv = root.join(dir);
    let python = venv.join("bin/python");
    if !python.exists() {
        run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    }
    let requirements = root.join(requirements);
    let mut wanted = std::fs::read_to_string(&requirements)?;
    if let Some(script) = installer {
        wanted += &std::fs::read_to_string(root.join(script))?;
    }
    let stamp = venv.join(".installed-requirements");
    if std::fs::read_to_string(&stamp).ok().as_deref() != Some(wanted.as_str()) {
        run(Command::new(&python)
            .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r"])
            .arg(&requirements))?;
        if let Some(script) = installer {
            run(Command::new(&python).arg(root.join(script)).arg(&venv))?;
        }
        std::fs::write(&stamp, wanted)?;
    }
    Ok(venv)
}

/// Builds the `lambda_runtime` fixture function; returns its `bootstrap`.
fn build_fixture(root: &Path, release: bool) -> Result<PathBuf> {
    let mut cmd = cargo();
    cmd.current_dir(root).args([
        "build",
        "--quiet",
        "--manifest-path",
        "tests/fixtures/rust-echo/Cargo.toml",
        "--target-dir",
        "target/fixtures",
    ]);
    if release {
        cmd.arg("--release");
    }
    run(&mut cmd)?;
    Ok(root.join("target/fixtures").join(if release { "release" } else { "debug" }).join("bootstrap"))
}

/// `cargo xtask test --tools`: the deploy tools' end-to-end tests (`tests/tools_e2e`),
/// with the tools installed into the repository's ignored tool directories.
fn test_tools(pytest_args: &[String]) -> Result<()> {
    let root = root();
    let venv = virtualenv(&root, ".venv", "tests/requirements.txt", None)?;
    let sam = virtualenv(&root, ".venv-sam", "tests/requirements-sam.txt", None)?;
    let cdk = node_tools(&root, ".tools/cdk", "tests/tools_e2e/cdk/package.json")?;
    let serverless = node_tools(&root, ".tools/serverless", "tests/tools_e2e/serverless/package.json")?;
    run(cargo().current_dir(&root).args(["build", "--quiet", "-p", "lamina"]))?;
    let path = format!("{}:{}", venv.join("bin").display(), std::env::var("PATH").unwrap_or_default());
    run(Command::new(venv.join("bin/python"))
        .current_dir(&root)
        .args(["-m", "pytest", "tests/tools_e2e", "-q", "-p", "no:cacheprovider"])
        .args(pytest_args)
        .env("PATH", path)
        .env("LAMINA_BIN", root.join("target/debug/lamina"))
        .env("SAM_BIN", sam.join("bin/sam"))
        .env("SAM_PYTHON", sam.join("bin/python"))
        .env("CDKLOCAL_BIN", cdk.join("node_modules/.bin/cdklocal"))
        .env("SERVERLESS_BIN", serverless.join("node_modules/.bin/serverless")))
}

/// Installs, with apt, the Debian packages whose programs are not on `PATH`:
/// `(program, package)` pairs.
pub(crate) fn debian_packages(wanted: &[(&str, &str)]) -> Result<()> {
    let on_path = |program: &str| {
        std::env::var_os("PATH").is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
    };
    let missing: Vec<&str> = wanted.iter().filter(|(program, _)| !on_path(program)).map(|(_, p)| *p).collect();
    if missing.is_empty() {
        return Ok(());
    }
    run(Command::new("apt-get").args(["update", "-qq"]))?;
    run(Command::new("apt-get")
        .env("DEBIAN_FRONTEND", "noninteractive")
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(&missing))
}

/// Installs the npm packages `package` pins into `dir` (with the `npm` on `PATH`), once per
/// change of it.
fn node_tools(root: &Path, dir: &str, package: &str) -> Result<PathBuf> {
    let dir = root.join(dir);
    std::fs::create_dir_all(&dir)?;
    let wanted = std::fs::read_to_string(root.join(package))?;
    let stamp = dir.join(".installed-package");
    if std::fs::read_to_string(&stamp).ok().as_deref() != Some(wanted.as_str()) {
        std::fs::write(dir.join("package.json"), &wanted)?;
        run(Command::new("npm").current_dir(&dir).args([
            "install",
            "--silent",
            "--no-audit",
            "--no-fund",
            "--no-package-lock",
        ]))?;
        std::fs::write(&stamp, wanted)?;
    }
    Ok(dir)
}

fn test(pytest_args: &[String]) -> Result<()> {
    if pytest_args.first().map(String::as_str) == Some("--tools") {
        return test_tools(&pytest_args[1..]);
    }
    let root = root();
    architecture::check(&root)?;
    let venv = virtualenv(&root, ".venv", "tests/requirements.txt", None)?;
    // aws CLI v2, for `aws logs tail` (v1 lacks it): its dependencies from PyPI, the CLI
    // itself from Debian's package (AWS does not publish v2 on PyPI).
    let aws_v2 =
        virtualenv(&root, ".venv-awscli2", "tests/requirements-awscli2.txt", Some("tests/tools/install_awscli2.py"))?
            .join("bin/aws");
    // Ruby for the Ruby runtime's tests, from Debian's packages (AWS's runtimes are Ruby).
    debian_packages(&[("ruby", "ruby")])?;
    run(cargo().current_dir(&root).args(["fmt", "--all", "--", "--check"]))?;
    run(cargo().current_dir(&root).args([
        "clippy",
        "--quiet",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    run(cargo().current_dir(&root).args(["build", "--quiet", "-p", "lamina"]))?;
    let fixture = build_fixture(&root, false)?;
    run(cargo().current_dir(&root).args(["test", "--quiet", "--workspace"]))?;
    let path = format!("{}:{}", venv.join("bin").display(), std::env::var("PATH").unwrap_or_default());
    run(Command::new(venv.join("bin/python"))
        .current_dir(&root)
        .args(["-m", "pytest", "tests/e2e", "-q", "-p", "no:cacheprovider"])
        .args(pytest_args)
        .env("PATH", path)
        .env("LAMINA_BIN", root.join("target/debug/lamina"))
        .env("AWS_CLI_V2", aws_v2)
        .env("RUST_ECHO_BIN", fixture))
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("test") => test(&args[1..]),
        // The bench's client shares the machine with the server it measures: it runs
        // optimised (as wrk would), so that its own cost does not count as the server's.
        Some("bench") if cfg!(debug_assertions) => run(cargo()
            .current_dir(root())
            .args(["run", "--quiet", "--release", "--package", "xtask", "--", "bench"])
            .args(&args[1..])),
        Some("bench") => bench::run(&root(), &args[1..]),
        Some("coverage") => coverage::run(&root()),
        Some("models") => models::run(&root(), &args[1..]),
        _ => {
            eprintln!(
                "usage: cargo xtask test [--tools] [pytest args...] | cargo xtask bench [--quick | --first-only | --warm-only | --gateway-only | --websocket-only | --auth-only | --logs-only | --s3-only | --cloudformation-only] | cargo xtask coverage | cargo xtask models [botocore-version]"
            );
            std::process::exit(2);
        }
    }
}
