//! `cargo xtask models [botocore-version]`: refreshes the vendored service models in
//! `crates/protocol/models/` from a botocore release on PyPI.

use std::io::Write;
use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};

pub fn run(root: &Path, args: &[String]) -> Result<()> {
    let spec = match args.first() {
        Some(v) => format!("botocore=={v}"),
        None => "botocore".to_owned(),
    };
    let scratch = std::env::temp_dir().join(format!("lamina-models-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    crate::run(
        Command::new("python3")
            .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps", "--target"])
            .arg(&scratch)
            .arg(&spec),
    )?;
    let result = copy(root, &scratch);
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

fn copy(root: &Path, scratch: &Path) -> Result<()> {
    let dist = std::fs::read_dir(scratch)?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("botocore-") && n.ends_with(".dist-info"))
        })
        .context("botocore's dist-info")?;
    let version = dist
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_prefix("botocore-"))
        .and_then(|n| n.strip_suffix(".dist-info"))
        .context("botocore's version")?
        .to_owned();
    let models = root.join("crates/protocol/models");
    let mut manifest = format!("botocore {version}\n");
    for service in protocol::SERVICES {
        let dir = scratch.join("botocore/data").join(service.name);
        let mut versions: Vec<String> = std::fs::read_dir(&dir)
            .with_context(|| format!("{}", dir.display()))?
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|v| dir.join(v).join("service-2.json.gz").exists() || dir.join(v).join("service-2.json").exists())
            .collect();
        versions.sort();
        let Some(api) = versions.pop() else { bail!("botocore {version} has no model for {}", service.name) };
        let gz = dir.join(&api).join("service-2.json.gz");
        let target = models.join(format!("{}.json.gz", service.name));
        if gz.exists() {
            std::fs::copy(&gz, &target)?;
        } else {
            let json = std::fs::read(dir.join(&api).join("service-2.json"))?;
            let mut enc = flate2::write::GzEncoder::new(std::fs::File::create(&target)?, flate2::Compression::best());
            enc.write_all(&json)?;
            enc.finish()?;
        }
        manifest += &format!("{} {api}\n", service.name);
    }
    std::fs::write(models.join("VERSION"), manifest)?;
    for (from, to) in [("LICENSE.txt", "LICENSE"), ("NOTICE", "NOTICE")] {
        let src = dist.join(from);
        let src = if src.exists() { src } else { dist.join("licenses").join(from) };
        std::fs::copy(&src, models.join(to)).with_context(|| format!("{}", src.display()))?;
    }
    eprintln!("models refreshed from botocore {version}; run `cargo xtask test`");
    Ok(())
}
