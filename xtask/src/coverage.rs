//! `cargo xtask coverage`: asks a running `lamina serve` for every operation of every
//! vendored model, as a client would address it, and writes `docs/COVERAGE.md`: per
//! service, the operations that answer (anything but 501 `NotImplemented`) out of the
//! model's total.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use protocol::model::{Model, Operation, Protocol};

pub fn run(root: &Path) -> Result<()> {
    crate::run(crate::cargo().current_dir(root).args(["build", "--quiet", "-p", "lamina"]))?;
    let data = std::env::temp_dir().join(format!("lamina-coverage-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let mut child = Command::new(root.join("target/debug/lamina"))
        .args(["serve", "--port", "0", "--sandbox", "process", "--request-log", "off", "--data-dir"])
        .arg(&data)
        // The shared SDK layer: a fresh data directory's own would be installed meanwhile.
        .env("LAMINA_SDK_DIR", root.join("target/sdk-layer"))
        .env("LAMINA_LOG", "error")
        .stdout(Stdio::piped())
        .spawn()
        .context("starting lamina")?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().context("stdout")?).read_line(&mut line)?;
    let result = match line.trim().strip_prefix("lamina listening on http://") {
        Some(addr) => probe_all(root, addr.parse()?),
        None => Err(anyhow::anyhow!("lamina did not start: {line:?}")),
    };
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&data);
    result
}

fn probe_all(root: &Path, addr: SocketAddr) -> Result<()> {
    let mut doc = String::from(
        "# Coverage\n\nWritten by `cargo xtask coverage`, never by hand: every operation of each vendored \
         model (`crates/protocol/models/`), asked of a running `lamina serve` as the SDKs address it. An \
         operation counts as implemented when it answers anything but 501 `NotImplemented`.\n\n\
         | Service | Implemented | Operations | Share |\n|---|---:|---:|---:|\n",
    );
    let mut details = String::new();
    let (mut all_done, mut all_total) = (0, 0);
    for s in protocol::SERVICES {
        let model = protocol::service(s.name).with_context(|| format!("the {} model", s.name))?;
        let mut implemented = Vec::new();
        for op in &model.operations {
            if answers(addr, model, s.signing_name, op)? {
                implemented.push(op.name.as_str());
            }
        }
        let total = model.operations.len();
        all_done += implemented.len();
        all_total += total;
        doc += &format!(
            "| {} | {} | {total} | {:.0}% |\n",
            s.name,
            implemented.len(),
            100.0 * implemented.len() as f64 / total as f64
        );
        if !implemented.is_empty() {
            details += &format!("\n**{}**: {}.\n", s.name, implemented.join(", "));
        }
    }
    doc += &format!("| **all** | {all_done} | {all_total} | {:.0}% |\n", 100.0 * all_done as f64 / all_total as f64);
    doc += "\n## Implemented operations\n";
    doc += &details;
    std::fs::write(root.join("docs/COVERAGE.md"), doc)?;
    eprintln!("docs/COVERAGE.md: {all_done} of {all_total} operations");
    Ok(())
}

/// Sends one request naming `op` and tells whether Lamina implements it.
fn answers(addr: SocketAddr, model: &Model, signing: &str, op: &Operation) -> Result<bool> {
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential=test/20261205/us-east-1/{signing}/aws4_request, SignedHeaders=host, Signature=0"
    );
    let protocol = match model.protocol() {
        // CloudWatch's SDKs fall back to the query protocol; either answers the same.
        Protocol::Cbor => Protocol::Query,
        p => p,
    };
    let (method, path, headers, body) = match protocol {
        Protocol::Json => (
            "POST".to_owned(),
            "/".to_owned(),
            vec![
                ("X-Amz-Target".to_owned(), format!("{}.{}", model.target_prefix.as_deref().unwrap_or(""), op.name)),
                ("Content-Type".to_owned(), "application/x-amz-json-1.0".to_owned()),
            ],
            "{}".to_owned(),
        ),
        Protocol::Query => (
            "POST".to_owned(),
            "/".to_owned(),
            vec![("Content-Type".to_owned(), "application/x-www-form-urlencoded".to_owned())],
            format!("Action={}&Version={}", op.name, model.api_version),
        ),
        // The management API is addressed at a stage's URL.
        _ if model.service == "apigatewaymanagementapi" => {
            (op.method.to_string(), format!("/prod{}", op.template.example()), vec![], String::new())
        }
        _ => (op.method.to_string(), op.template.example(), vec![], String::new()),
    };
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {auth}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        request += &format!("{k}: {v}\r\n");
    }
    request += "\r\n";
    request += &body;
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    stream.write_all(request.as_bytes())?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer)?;
    let answer = String::from_utf8_lossy(&answer);
    let Some(status) = answer.split_whitespace().nth(1) else { bail!("no answer to {}", op.name) };
    // Lamina answers 501 only for what it does not implement (a HEAD answer has no body
    // to say `NotImplemented` in).
    Ok(status != "501")
}
