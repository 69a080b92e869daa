//! docs/PERFORMANCE.md: this run's rows, each beside the previous run's median.

use super::*;

/// Writes docs/PERFORMANCE.md, with the previous run's medians beside these.
pub(super) fn write_doc(root: &Path, quick: bool, rows: &[Row]) -> Result<()> {
    let date = output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]);
    let commit = output("git", &["-C", &root.display().to_string(), "rev-parse", "--short", "HEAD"]);
    let rustc = output("rustc", &["--version"]);
    let mut doc = String::new();
    doc.push_str("# Performance\n\n");
    doc.push_str("Written by `cargo xtask bench`; do not edit by hand. Every figure comes from a release build of\n");
    doc.push_str(
        "`lamina serve` driven over loopback HTTP/1.1 by the bench client (itself a release build, as wrk would\n",
    );
    doc.push_str("be) on the same machine. Throughput rows give the server's peak resident memory during them.\n\n");
    doc.push_str(&format!("- Date: {date}\n- Machine: {}\n- Commit: {commit}; {rustc}\n", machine()));
    doc.push_str(&format!(
        "- Mode: {}; sandbox: namespaces + cgroups unless a row says otherwise; functions have 256 MB\n\n",
        if quick { "--quick (fewer runs)" } else { "full" }
    ));
    let path = root.join("docs/PERFORMANCE.md");
    let previous = Previous::read(&std::fs::read_to_string(&path).unwrap_or_default());
    if let Some(run) = &previous.run {
        doc.push_str(&format!("The previous run's medians (commit {run}) stand beside this one's.\n\n"));
    }
    doc.push_str("| What | Median | Previous run | Spread | Target | Ratio |\n|---|---|---|---|---|---|\n");
    for r in rows {
        let before = previous.median(&r.what).unwrap_or("—");
        doc.push_str(&format!(
            "| {} | {} | {before} | {} | {} | {} |\n",
            r.what, r.median, r.spread, r.target, r.ratio
        ));
    }
    doc.push_str("\n`provided` is a function on the official `lambda_runtime` crate (`tests/fixtures/rust-echo`);\n");
    doc.push_str("`provided-minimal` is a standard-library-only bootstrap (`src/noop.rs` there), which shows\n");
    doc.push_str("Lamina's own overhead without a runtime client's. Client, server and functions share the 2 cores.\n");
    doc.push_str("\nTargets are PLATFORM.md's; the AWS figures are the maxday/lambda-perf init durations.\n");
    doc.push_str("A ratio below 1 is better than the target for latencies, worse for throughputs.\n");
    std::fs::create_dir_all(path.parent().expect("docs"))?;
    std::fs::write(&path, &doc)?;
    println!("{doc}");
    eprintln!("wrote {}", path.display());
    Ok(())
}

/// The medians of the run `docs/PERFORMANCE.md` holds, by row, so that a new run shows
/// them beside its own (the before and after of a change, both written by the bench).
struct Previous {
    /// `<commit>, <date>` of that run.
    run: Option<String>,
    medians: Vec<(String, String)>,
}

impl Previous {
    fn read(doc: &str) -> Previous {
        let field = |name: &str| {
            doc.lines().find_map(|l| l.strip_prefix(name)).map(|v| v.split(';').next().unwrap_or(v).trim().to_owned())
        };
        let run = match (field("- Commit: "), field("- Date: ")) {
            (Some(commit), Some(date)) => Some(format!("{commit}, {date}")),
            _ => None,
        };
        let medians = doc
            .lines()
            .filter_map(|l| {
                let cells: Vec<&str> = l.strip_prefix("| ")?.split(" | ").collect();
                let (what, median) = (cells.first()?, cells.get(1)?);
                (cells.len() >= 5 && *what != "What" && !what.starts_with("---"))
                    .then(|| ((*what).to_owned(), (*median).to_owned()))
            })
            .collect();
        Previous { run, medians }
    }

    fn median(&self, what: &str) -> Option<&str> {
        self.medians.iter().find(|(w, _)| w == what).map(|(_, m)| m.as_str())
    }
}
