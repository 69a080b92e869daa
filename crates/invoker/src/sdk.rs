//! The AWS SDKs that AWS's managed runtimes include: boto3 for Python and the v3 clients
//! for Node.js. Lamina installs them once, from the package registries the host can reach,
//! into a directory every environment sees read-only (after the function's own packages
//! and its layers, as on AWS). The host's own Python packages are never importable.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The boto3 that Python functions import: the release whose botocore models Lamina
/// vendors, or for a Python it no longer supports (3.9) the newest that does, as AWS's
/// older runtimes carry older SDKs.
pub const BOTO3: &str = "boto3<=1.44.18";

/// The Python versions the layer serves, one `pip --target` directory each (their
/// dependencies differ: urllib3 2 needs Python 3.10).
pub const PYTHON_VERSIONS: &[&str] = &["3.9", "3.10", "3.11", "3.12", "3.13", "3.14"];

/// The SDK v3 releases Node.js functions require: the newest 3.x of each package (its
/// clients are released on their own).
pub const NODE_SDK_VERSION: &str = "3";

/// The v3 packages installed for Node.js: the clients of the services Lamina serves, and
/// the DynamoDB document client and S3 presigner functions commonly use with them.
pub const NODE_PACKAGES: &[&str] = &[
    "client-api-gateway",
    "client-apigatewaymanagementapi",
    "client-apigatewayv2",
    "client-cloudformation",
    "client-cloudwatch-logs",
    "client-dynamodb",
    "client-ecr",
    "client-eventbridge",
    "client-iam",
    "client-kinesis",
    "client-lambda",
    "client-s3",
    "client-scheduler",
    "client-sns",
    "client-sqs",
    "client-ssm",
    "client-sts",
    "lib-dynamodb",
    "s3-request-presigner",
];

/// The Python part of the layer: a `pip --target` directory per Python version, named by
/// it (`3.12`).
pub fn python_dir(sdk: &Path) -> PathBuf {
    sdk.join("python")
}

fn python_ready(sdk: &Path, version: &str) -> bool {
    python_dir(sdk).join(version).join("boto3").is_dir()
}

/// The Node.js part of the layer: its `node_modules`.
pub fn node_modules(sdk: &Path) -> PathBuf {
    sdk.join("nodejs").join("node_modules")
}

/// What the layer holds: (boto3 ready, Node.js packages ready: [`NODE_PACKAGES`] and the
/// `extra` ones the configuration adds).
pub fn status(sdk: &Path, extra: &[String]) -> (bool, bool) {
    let python = PYTHON_VERSIONS.iter().all(|v| python_ready(sdk, v));
    let modules = node_modules(sdk).join("@aws-sdk");
    let node = NODE_PACKAGES.iter().copied().chain(extra.iter().map(String::as_str)).all(|p| modules.join(p).is_dir());
    (python, node)
}

/// Whether any part of the layer is installed (and so is shown to environments).
pub fn present(sdk: &Path) -> bool {
    python_dir(sdk).is_dir() || node_modules(sdk).is_dir()
}

/// Whether `name` can name a package of the `@aws-sdk` scope (`client-sfn`).
pub fn valid_package(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Installs whatever part of the layer is missing, with `python` (its pip) and `npm`.
/// Each part is installed beside its place and moved there whole, so that an environment
/// never sees half of it and concurrent installers do not collide. Blocking; returns why a
/// part could not be installed.
pub fn install(sdk: &Path, python: &Path, extra: &[String]) -> Result<(), String> {
    std::fs::create_dir_all(sdk).map_err(|e| format!("{}: {e}", sdk.display()))?;
    let (python_done, node_done) = status(sdk, extra);
    let mut failures = Vec::new();
    if !python_done {
        std::fs::create_dir_all(python_dir(sdk)).map_err(|e| format!("{}: {e}", sdk.display()))?;
        for version in PYTHON_VERSIONS.iter().filter(|v| !python_ready(sdk, v)) {
            let work = sdk.join(format!(".python{version}-{}", std::process::id()));
            // Wheels for that version (all of boto3's are pure Python), whichever Python
            // runs pip.
            let mut pip = Command::new(python);
            pip.args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-warn-script-location"])
                .args(["--no-compile", "--only-binary=:all:", "--python-version", version, "--target"])
                .arg(&work)
                .arg(BOTO3);
            if let Err(why) = run(&mut pip).and_then(|()| publish(&work, &python_dir(sdk).join(version))) {
                failures.push(format!("boto3 for Python {version} functions: {why}"));
            }
            let _ = std::fs::remove_dir_all(&work); // what a failed install left
        }
    }
    if !node_done {
        let work = sdk.join(format!(".nodejs-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&work);
        let mut npm = Command::new("npm");
        npm.args([
            "install",
            "--loglevel=error",
            "--no-audit",
            "--no-fund",
            "--no-save",
            "--no-package-lock",
            "--prefix",
        ])
        .arg(&work)
        .args(
            NODE_PACKAGES
                .iter()
                .copied()
                .chain(extra.iter().map(String::as_str).filter(|p| valid_package(p)))
                .map(|p| format!("@aws-sdk/{p}@{NODE_SDK_VERSION}")),
        );
        if let Err(why) = run(&mut npm).and_then(|()| replace(&work, &sdk.join("nodejs"))) {
            failures.push(format!("the AWS SDK v3 for Node.js functions: {why}"));
        }
        let _ = std::fs::remove_dir_all(&work);
    }
    match failures.is_empty() {
        true => Ok(()),
        false => Err(failures.join("; ")),
    }
}

/// Puts a finished installation in the place of an older one (which lacked packages the
/// configuration now names).
fn replace(work: &Path, place: &Path) -> Result<(), String> {
    if place.is_dir() {
        let old = place.with_file_name(format!(".replaced-{}", std::process::id()));
        std::fs::rename(place, &old).map_err(|e| format!("{}: {e}", place.display()))?;
        let result = publish(work, place);
        let _ = std::fs::remove_dir_all(&old);
        return result;
    }
    publish(work, place)
}

fn run(command: &mut Command) -> Result<(), String> {
    let out = command.stdin(Stdio::null()).output().map_err(|e| format!("{:?}: {e}", command.get_program()))?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last: Vec<&str> = stderr.lines().rev().take(3).collect();
    Err(format!("{:?} failed: {}", command.get_program(), last.into_iter().rev().collect::<Vec<_>>().join(" / ")))
}

/// Moves a finished installation into place, readable by the sandbox's users; another
/// installer's finished copy wins.
fn publish(work: &Path, place: &Path) -> Result<(), String> {
    let _ = Command::new("chmod").args(["-R", "a+rX"]).arg(work).status();
    let result = match std::fs::rename(work, place) {
        Ok(()) => Ok(()),
        Err(_) if place.is_dir() => Ok(()),
        Err(e) => Err(format!("{}: {e}", place.display())),
    };
    let _ = std::fs::remove_dir_all(work);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_names_of_the_aws_sdk_scope_are_installed() {
        assert!(valid_package("client-sfn") && valid_package("lib-storage"));
        for bad in ["", "client-sfn@1.0.0", "../x", "@evil/x", "Client", "a b"] {
            assert!(!valid_package(bad), "{bad}");
        }
    }

    #[test]
    fn a_layer_is_ready_when_every_package_named_is_there() {
        let dir = std::env::temp_dir().join(format!("lamina-sdk-status-{}", std::process::id()));
        for p in NODE_PACKAGES {
            std::fs::create_dir_all(node_modules(&dir).join("@aws-sdk").join(p)).unwrap();
        }
        assert!(present(&dir));
        assert_eq!(status(&dir, &[]), (false, true));
        assert_eq!(status(&dir, &["client-sfn".to_owned()]), (false, false));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
