//! `cargo xtask bench`: measures a real `lamina serve` (release build) over loopback and
//! rewrites `docs/PERFORMANCE.md` with medians, percentiles and ratios to the targets in
//! PLATFORM.md. Every figure is the median of repeated runs, never a single one.

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;

use crate::{build_fixture, cargo, run as run_cmd};

mod doc;
mod rows;
use doc::write_doc;
use rows::{drain_row, main_rows, sandbox_rows, sqs_rows};

#[path = "bench_auth.rs"]
mod auth;
#[path = "bench_cloudformation.rs"]
mod cloudformation;
#[path = "bench_dynamodb.rs"]
mod dynamodb;
#[path = "bench_events.rs"]
mod events;
#[path = "bench_first.rs"]
mod first;
#[path = "bench_gateway.rs"]
mod gateway;
#[path = "bench_logs.rs"]
mod logs;
#[path = "bench_s3.rs"]
mod s3;
#[path = "bench_websocket.rs"]
mod websocket;

struct Settings {
    cold_runs: usize,
    warm_invokes: usize,
    throughput_secs: f64,
    throughput_rounds: usize,
    drain_events: usize,
    density_envs: u32,
    ws_connections: usize,
    /// How much the log-flood function prints.
    flood_megabytes: u64,
    /// Minutes a scheduled rule is watched for.
    ticks: usize,
}

struct Server {
    child: Child,
    addr: SocketAddr,
    /// Its data directory's parent (the config beside `state`).
    dir: std::path::PathBuf,
    /// Removes that directory with the server, unless it outlives it.
    _owned: Option<TempDir>,
}

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // A graceful stop, so the server removes its environments and cgroups.
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let _ = self.child.wait();
    }
}

fn start_server(root: &Path, sandbox: &str) -> Result<Server> {
    start_server_with(root, sandbox, "bench", "[functions]\nidle_timeout_secs = 600\n")
}

/// Where the bench's servers find the SDK layer (the e2e tests' too).
const SDK_LAYER: &str = "target/sdk-layer";

fn start_server_with(root: &Path, sandbox: &str, label: &str, config_toml: &str) -> Result<Server> {
    let data = TempDir(std::env::temp_dir().join(format!("lamina-bench-{}-{sandbox}-{label}", std::process::id())));
    let _ = std::fs::remove_dir_all(&data.0);
    let mut server = start_server_in(root, sandbox, &data.0, config_toml)?;
    server._owned = Some(data);
    Ok(server)
}

/// A server on the data directory under `dir`, which it leaves there when it stops (the
/// next one started there finds what it left).
fn start_server_in(root: &Path, sandbox: &str, dir: &Path, config_toml: &str) -> Result<Server> {
    std::fs::create_dir_all(dir)?;
    let config = dir.join("bench.toml");
    std::fs::write(&config, config_toml)?;
    let mut child = Command::new(root.join("target/release/lamina"))
        .args(["serve", "--port", "0", "--sandbox", sandbox, "--data-dir"])
        .arg(dir.join("state"))
        .arg("--config")
        .arg(&config)
        .env("LAMINA_LOG", "error")
        .env("LAMINA_REQUEST_LOG", "off")
        // The SDK layer installed once (by `kinds`), as on a host where it already is: no
        // server installs it in the background while it is measured.
        .env("LAMINA_SDK_DIR", root.join(SDK_LAYER))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting lamina")?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("piped")).read_line(&mut line)?;
    let Some(url) = line.trim().strip_prefix("lamina listening on http://") else {
        bail!("lamina did not start: {line:?}");
    };
    Ok(Server { child, addr: url.parse()?, dir: dir.to_owned(), _owned: None })
}

/// The server's peak resident memory over a stretch of a run: [`Peak::reset`] starts
/// it, [`Peak::kib`] reads it (the kernel's `VmHWM`, reset through `clear_refs`).
#[derive(Clone, Copy)]
struct Peak {
    pid: u32,
}

impl Peak {
    fn reset(self) {
        let _ = std::fs::write(format!("/proc/{}/clear_refs", self.pid), "5");
    }

    fn kib(self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.pid))
            .ok()
            .and_then(|s| {
                s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
            })
            .unwrap_or(0)
    }

    /// `; server peak RSS N MiB`, for a row's spread.
    fn note(self) -> String {
        format!("; server peak RSS {:.0} MiB", self.kib() as f64 / 1024.0)
    }
}

impl Server {
    /// Its peak resident memory, measured from a reset.
    fn peak(&self) -> Peak {
        Peak { pid: self.child.id() }
    }

    /// The server's data directory.
    fn data_dir(&self) -> std::path::PathBuf {
        self.dir.join("state")
    }

    /// The server process's resident memory, in KiB.
    fn rss_kib(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .ok()
            .and_then(|s| {
                s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
            })
            .unwrap_or(0)
    }
}

/// The machine's `MemAvailable`, in KiB.
fn mem_available_kib() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines().find(|l| l.starts_with("MemAvailable:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// One gauge or counter from `/_lamina/metrics`.
async fn metric(conn: &mut Conn, name: &str) -> Result<u64> {
    let (status, body) = conn.call("GET", "/_lamina/metrics", Bytes::new()).await?;
    if status != 200 {
        bail!("metrics: {status}");
    }
    let text = String::from_utf8_lossy(&body);
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')).and_then(|v| v.trim().parse().ok()))
        .with_context(|| format!("no metric {name}"))
}

/// One keep-alive HTTP/1.1 connection.
struct Conn {
    sender: SendRequest<Full<Bytes>>,
    host: String,
    addr: SocketAddr,
}

impl Conn {
    async fn open(addr: SocketAddr) -> Result<Conn> {
        let stream = tokio::net::TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(conn);
        Ok(Conn { sender, host: addr.to_string(), addr })
    }

    async fn call(&mut self, method: &str, path: &str, body: Bytes) -> Result<(u16, Bytes)> {
        self.call_with(method, path, &[("content-type", "application/json")], body).await
    }

    /// A request to this connection's server.
    fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> Result<hyper::Request<Full<Bytes>>> {
        let mut req = hyper::Request::builder().method(method).uri(path).header("host", &self.host);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        Ok(req.body(Full::new(body))?)
    }

    async fn call_with(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> Result<(u16, Bytes)> {
        let req = self.request(method, path, headers, body)?;
        // A server that closes connections after each answer (moto's) gets a new one.
        if self.sender.is_closed() || self.sender.ready().await.is_err() {
            *self = Conn::open(self.addr).await?;
        }
        self.sender.ready().await?;
        let resp = self.sender.send_request(req).await?;
        let status = resp.status().as_u16();
        let body = resp.into_body().collect().await?.to_bytes();
        Ok((status, body))
    }

    /// A call whose answer is only counted as it arrives, never gathered (a large
    /// download, as a client writing to a file or a socket sees it): status and length.
    async fn call_counted(&mut self, method: &str, path: &str, headers: &[(&str, &str)]) -> Result<(u16, u64)> {
        let req = self.request(method, path, headers, Bytes::new())?;
        self.sender.ready().await?;
        let resp = self.sender.send_request(req).await?;
        let status = resp.status().as_u16();
        let mut body = resp.into_body();
        let mut length = 0u64;
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame?.into_data() {
                length += data.len() as u64;
            }
        }
        Ok((status, length))
    }

    /// A call whose answer's `ETag` is wanted (S3's UploadPart).
    async fn call_etag(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> Result<(u16, String)> {
        let req = self.request(method, path, headers, body)?;
        self.sender.ready().await?;
        let resp = self.sender.send_request(req).await?;
        let status = resp.status().as_u16();
        let etag = resp.headers().get("etag").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        resp.into_body().collect().await?;
        Ok((status, etag))
    }

    /// InvokeWithResponseStream, read until its first `PayloadChunk` has arrived whole;
    /// answers that chunk's payload and when it arrived (the rest is read and dropped).
    async fn first_streamed_chunk(&mut self, name: &str) -> Result<(Bytes, std::time::SystemTime)> {
        let path = format!("/2021-11-15/functions/{name}/response-streaming-invocations");
        let req = self.request("POST", &path, &[("content-type", "application/json")], Bytes::from_static(b"{}"))?;
        self.sender.ready().await?;
        let resp = self.sender.send_request(req).await?;
        if resp.status() != 200 {
            bail!("InvokeWithResponseStream {name}: {}", resp.status());
        }
        let mut body = resp.into_body();
        let mut buf = Vec::new();
        let mut first = None;
        while let Some(frame) = body.frame().await {
            let Ok(data) = frame?.into_data() else { continue };
            buf.extend_from_slice(&data);
            // An event stream message: its length, its headers' length, a CRC, headers,
            // payload, CRC.
            if first.is_none() && buf.len() >= 12 {
                let total = u32::from_be_bytes(buf[0..4].try_into()?) as usize;
                let headers = u32::from_be_bytes(buf[4..8].try_into()?) as usize;
                if buf.len() >= total {
                    let at = std::time::SystemTime::now();
                    first = Some((Bytes::copy_from_slice(&buf[12 + headers..total - 4]), at));
                }
            }
        }
        first.context("no PayloadChunk")
    }

    async fn invoke(&mut self, name: &str) -> Result<()> {
        let (status, body) =
            self.call("POST", &format!("/2015-03-31/functions/{name}/invocations"), Bytes::from_static(b"{}")).await?;
        if status != 200 {
            bail!("invoke {name}: {status} {}", String::from_utf8_lossy(&body));
        }
        Ok(())
    }
}

fn zip(files: &[(&str, &[u8], u32)]) -> Result<Vec<u8>> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data, mode) in files {
        w.start_file(*name, zip::write::SimpleFileOptions::default().unix_permissions(*mode))?;
        w.write_all(data)?;
    }
    Ok(w.finish()?.into_inner())
}

#[derive(Clone)]
struct Kind {
    label: &'static str,
    runtime: &'static str,
    handler: &'static str,
    zip: Vec<u8>,
    /// Layer version ARNs for the function's `Layers`.
    layers: Vec<String>,
}

/// CreateEventSourceMapping.
async fn create_mapping(conn: &mut Conn, mapping: &serde_json::Value) -> Result<()> {
    let (status, resp) =
        conn.call("POST", "/2015-03-31/event-source-mappings", Bytes::from(mapping.to_string())).await?;
    if status != 202 {
        bail!("mapping: {status} {}", String::from_utf8_lossy(&resp));
    }
    Ok(())
}

async fn create(conn: &mut Conn, name: &str, kind: &Kind) -> Result<()> {
    let body = serde_json::json!({
        "FunctionName": name,
        "Runtime": kind.runtime,
        "Handler": kind.handler,
        "Role": "arn:aws:iam::000000000000:role/bench",
        "MemorySize": 256,
        "Code": { "ZipFile": base64::engine::general_purpose::STANDARD.encode(&kind.zip) },
        "Layers": kind.layers,
    });
    let (status, resp) = conn.call("POST", "/2015-03-31/functions", Bytes::from(body.to_string())).await?;
    if status != 201 {
        bail!("create {name}: {status} {}", String::from_utf8_lossy(&resp));
    }
    Ok(())
}

/// Publishes `count` layers of 20 small Python modules each; returns their version ARNs.
async fn publish_layers(conn: &mut Conn, count: usize) -> Result<Vec<String>> {
    let mut arns = Vec::new();
    for n in 0..count {
        let files: Vec<(String, Vec<u8>)> =
            (0..20).map(|i| (format!("python/pkg{n}/mod{i}.py"), format!("VALUE = {i}\n").into_bytes())).collect();
        let refs: Vec<(&str, &[u8], u32)> = files.iter().map(|(f, d)| (f.as_str(), d.as_slice(), 0o644)).collect();
        let body = serde_json::json!({
            "Content": { "ZipFile": base64::engine::general_purpose::STANDARD.encode(zip(&refs)?) },
        });
        let (status, resp) =
            conn.call("POST", &format!("/2018-10-31/layers/bench-{n}/versions"), Bytes::from(body.to_string())).await?;
        if status != 201 {
            bail!("publish layer: {status} {}", String::from_utf8_lossy(&resp));
        }
        let v: serde_json::Value = serde_json::from_slice(&resp)?;
        arns.push(v["LayerVersionArn"].as_str().context("LayerVersionArn")?.to_owned());
    }
    Ok(arns)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
    v
}

struct Row {
    what: String,
    median: String,
    spread: String,
    target: String,
    ratio: String,
}

/// Creates and first-invokes `runs` functions; with a `gap`, waits that long before each
/// (so the sandbox's ready cells are back), else runs them back to back.
async fn cold_starts(addr: SocketAddr, kind: &Kind, runs: usize, gap: Duration) -> Result<(Vec<f64>, Vec<f64>)> {
    let mut conn = Conn::open(addr).await?;
    let (mut create_ms, mut first_ms) = (Vec::new(), Vec::new());
    for i in 0..runs {
        tokio::time::sleep(gap).await;
        let name = format!("cold-{}-{}-{i}", kind.label, gap.as_millis());
        let t = Instant::now();
        create(&mut conn, &name, kind).await?;
        create_ms.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        conn.invoke(&name).await?;
        first_ms.push(t.elapsed().as_secs_f64() * 1e3);
        conn.call("DELETE", &format!("/2015-03-31/functions/{name}"), Bytes::new()).await?;
    }
    Ok((sorted(create_ms), sorted(first_ms)))
}

async fn warm_latency(addr: SocketAddr, name: &str, n: usize) -> Result<Vec<f64>> {
    let mut conn = Conn::open(addr).await?;
    for _ in 0..200 {
        conn.invoke(name).await?;
    }
    let mut us = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        conn.invoke(name).await?;
        us.push(t.elapsed().as_secs_f64() * 1e6);
    }
    Ok(sorted(us))
}

/// Latency of a plain API call that runs no function (GetFunctionConfiguration): the
/// HTTP and routing floor that an invoke's added latency is measured against.
async fn api_floor(addr: SocketAddr, name: &str, n: usize) -> Result<Vec<f64>> {
    let mut conn = Conn::open(addr).await?;
    let path = format!("/2015-03-31/functions/{name}/configuration");
    let mut us = Vec::with_capacity(n);
    for i in 0..n + 200 {
        let t = Instant::now();
        let (status, _) = conn.call("GET", &path, Bytes::new()).await?;
        if status != 200 {
            bail!("GetFunctionConfiguration: {status}");
        }
        if i >= 200 {
            us.push(t.elapsed().as_secs_f64() * 1e6);
        }
    }
    Ok(sorted(us))
}

/// Seconds from the first accepted event to the last one finished, for `events` async
/// invokes of a warm no-op function; and how long accepting took.
async fn drain(addr: SocketAddr, name: &str, events: usize) -> Result<(f64, f64)> {
    let mut conn = Conn::open(addr).await?;
    let start = Instant::now();
    async_accept_rate(addr, name, ACCEPT_CONNECTIONS, events).await?;
    let accepted = start.elapsed().as_secs_f64();
    while metric(&mut conn, "lamina_async_events_queued").await? > 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok((start.elapsed().as_secs_f64(), accepted))
}

/// Provisions `envs` environments of a Python function and reports how long they took
/// to be ready, the memory each costs the machine, and the server's own growth; then
/// checks that invocations are served by them without another start.
async fn density(server: &Server, kind: &Kind, envs: u32) -> Result<Vec<Row>> {
    let addr = server.addr;
    let mut conn = Conn::open(addr).await?;
    create(&mut conn, "dense", kind).await?;
    let (status, body) = conn.call("POST", "/2015-03-31/functions/dense/versions", Bytes::from_static(b"{}")).await?;
    if status != 201 {
        bail!("publish: {status} {}", String::from_utf8_lossy(&body));
    }
    // Let start-up settle (ready cells, runtime probes) before the baseline.
    let (status, _) =
        conn.call("POST", "/2015-03-31/functions/dense/invocations?Qualifier=1", Bytes::from_static(b"{}")).await?;
    if status != 200 {
        bail!("invoke: {status}");
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (available_before, rss_before) = (mem_available_kib(), server.rss_kib());
    let path = "/2019-09-30/functions/dense/provisioned-concurrency?Qualifier=1";
    let start = Instant::now();
    let body = serde_json::json!({ "ProvisionedConcurrentExecutions": envs }).to_string();
    let (status, resp) = conn.call("PUT", path, Bytes::from(body)).await?;
    if status != 202 {
        bail!("provision: {status} {}", String::from_utf8_lossy(&resp));
    }
    loop {
        let (_, resp) = conn.call("GET", path, Bytes::new()).await?;
        let v: serde_json::Value = serde_json::from_slice(&resp)?;
        match v["Status"].as_str() {
            Some("READY") => break,
            Some("IN_PROGRESS") => tokio::time::sleep(Duration::from_millis(100)).await,
            _ => bail!("provisioning failed: {v}"),
        }
    }
    let ready_secs = start.elapsed().as_secs_f64();
    // Page tables and slab settle a moment after the last start.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let per_env_mib = (available_before.saturating_sub(mem_available_kib())) as f64 / f64::from(envs) / 1024.0;
    let server_kib = server.rss_kib().saturating_sub(rss_before) as f64 / f64::from(envs);
    let started = metric(&mut conn, "lamina_environments_started_total").await?;
    let invokes = 2 * envs as usize;
    let t = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..50 {
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::open(addr).await?;
            for _ in 0..invokes / 50 {
                let (status, body) = conn
                    .call("POST", "/2015-03-31/functions/dense/invocations?Qualifier=1", Bytes::from_static(b"{}"))
                    .await?;
                if status != 200 {
                    bail!("invoke: {status} {}", String::from_utf8_lossy(&body));
                }
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let rate = invokes as f64 / t.elapsed().as_secs_f64();
    let restarted = metric(&mut conn, "lamina_environments_started_total").await? - started;
    let target = "1,000 concurrent warm Python environments";
    Ok(vec![
        Row {
            what: format!("Density: {envs} provisioned Python environments, all initialised (READY)"),
            median: format!("{ready_secs:.1} s to READY"),
            spread: format!("{:.0} environments/s started", f64::from(envs) / ready_secs),
            target: target.into(),
            ratio: format!("{:.2}× target", f64::from(envs) / 1000.0),
        },
        Row {
            what: format!("Density: memory per warm Python environment, {envs} at once"),
            median: format!("{per_env_mib:.1} MiB"),
            spread: format!(
                "machine's MemAvailable drop / {envs}; the server's own RSS grew {server_kib:.0} KiB per environment"
            ),
            target: "1,000 within 24 GB (≤ 24 MiB each)".into(),
            ratio: format!("{:.2}× budget", per_env_mib / 24.0),
        },
        Row {
            what: format!("Density: warm Python invokes with {envs} environments up, 50 connections"),
            median: format!("{rate:.0}/s"),
            spread: format!("{invokes} invokes; {restarted} environments started meanwhile"),
            target: "—".into(),
            ratio: "—".into(),
        },
    ])
}

/// One SQS JSON-protocol call.
async fn sqs_call(conn: &mut Conn, operation: &str, body: serde_json::Value) -> Result<serde_json::Value> {
    let target = format!("AmazonSQS.{operation}");
    // A credential scope names the service, which is how moto routes a request; Lamina in
    // its open mode accepts any signature.
    let auth = "AWS4-HMAC-SHA256 Credential=test/20261127/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0";
    let headers =
        [("content-type", "application/x-amz-json-1.0"), ("x-amz-target", target.as_str()), ("authorization", auth)];
    let (status, resp) = conn.call_with("POST", "/", &headers, Bytes::from(body.to_string())).await?;
    if status != 200 {
        bail!("SQS {operation}: {status} {}", String::from_utf8_lossy(&resp));
    }
    Ok(serde_json::from_slice(&resp)?)
}

/// Messages per second through SendMessageBatch, ReceiveMessage and DeleteMessageBatch,
/// ten at a time, each connection on a queue of its own.
async fn sqs_throughput(addr: SocketAddr, connections: usize, secs: f64, tag: &str) -> Result<f64> {
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let mut tasks = Vec::new();
    for c in 0..connections {
        let name = format!("bench-{tag}-{c}-{}", uuid_suffix());
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::open(addr).await?;
            let url = sqs_call(&mut conn, "CreateQueue", serde_json::json!({ "QueueName": name })).await?["QueueUrl"]
                .as_str()
                .context("QueueUrl")?
                .to_owned();
            let entries: Vec<serde_json::Value> =
                (0..10).map(|i| serde_json::json!({ "Id": i.to_string(), "MessageBody": format!("message {i}") })).collect();
            let mut done = 0u64;
            while Instant::now() < deadline {
                sqs_call(&mut conn, "SendMessageBatch", serde_json::json!({ "QueueUrl": url, "Entries": entries })).await?;
                let got = sqs_call(
                    &mut conn,
                    "ReceiveMessage",
                    serde_json::json!({ "QueueUrl": url, "MaxNumberOfMessages": 10, "WaitTimeSeconds": 0 }),
                )
                .await?;
                let receipts: Vec<serde_json::Value> = got["Messages"]
                    .as_array()
                    .map(|ms| {
                        ms.iter()
                            .enumerate()
                            .map(|(i, m)| serde_json::json!({ "Id": i.to_string(), "ReceiptHandle": m["ReceiptHandle"] }))
                            .collect()
                    })
                    .unwrap_or_default();
                if !receipts.is_empty() {
                    done += receipts.len() as u64;
                    sqs_call(&mut conn, "DeleteMessageBatch", serde_json::json!({ "QueueUrl": url, "Entries": receipts }))
                        .await?;
                }
            }
            anyhow::Ok(done)
        }));
    }
    per_second(tasks).await
}

/// What `tasks` count, summed, per second from now until the last ends.
async fn per_second(tasks: Vec<tokio::task::JoinHandle<Result<u64>>>) -> Result<f64> {
    let start = Instant::now();
    let mut total = 0;
    for t in tasks {
        total += t.await??;
    }
    Ok(total as f64 / start.elapsed().as_secs_f64())
}

/// `2026-01-02T03:04:05Z` as ms since the epoch.
fn iso_ms(t: &str) -> Option<i64> {
    let b = t.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[10] != b'T' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| t.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 86_400) + hh * 3600 + mm * 60 + ss) * 1000)
}

fn uuid_suffix() -> String {
    format!(
        "{:x}",
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
    )
}

/// Starts moto's server from `.venv-bench` (installing it first), on a free port.
fn start_moto(root: &Path) -> Result<(Child, SocketAddr)> {
    let venv = root.join(".venv-bench");
    let python = venv.join("bin/python");
    if !python.exists() {
        run_cmd(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    }
    let requirements = root.join("bench/requirements.txt");
    let wanted = std::fs::read_to_string(&requirements)?;
    let stamp = venv.join(".installed-requirements");
    if std::fs::read_to_string(&stamp).ok().as_deref() != Some(wanted.as_str()) {
        run_cmd(
            Command::new(&python)
                .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r"])
                .arg(&requirements),
        )?;
        std::fs::write(&stamp, wanted)?;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let child = Command::new(&python)
        .args(["-m", "moto.server", "-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting moto")?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    for _ in 0..200 {
        if std::net::TcpStream::connect(addr).is_ok() {
            return Ok((child, addr));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    bail!("moto did not start on {addr}")
}

/// A Python function `name` that reports each invocation to a listener here; the
/// instants reports arrive, on this process's clock.
async fn reporting_function(conn: &mut Conn, name: &str) -> Result<tokio::sync::mpsc::UnboundedReceiver<Instant>> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let report = format!("http://{}/", listener.local_addr()?);
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Instant>();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut sock, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                // The function sends a small POST; its end is the end of its body.
                while let Ok(n) = sock.read(&mut chunk).await {
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                        let length = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0)))
                            .unwrap_or(0);
                        if buf.len() >= end + 4 + length {
                            break;
                        }
                    }
                }
                let _ = tx.send(Instant::now());
                let _ = sock.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await;
            });
        }
    });
    let code = format!(
        "import urllib.request\n\ndef handler(event, context):\n    urllib.request.urlopen(urllib.request.Request({report:?}, data=b'x', method='POST'), timeout=10).read()\n"
    );
    let body = serde_json::json!({
        "FunctionName": name, "Runtime": "python3.12", "Handler": "app.handler",
        "Role": "arn:aws:iam::000000000000:role/bench", "MemorySize": 256,
        "Code": { "ZipFile": base64::engine::general_purpose::STANDARD.encode(zip(&[("app.py", code.as_bytes(), 0o644)])?) },
    });
    let (status, resp) = conn.call("POST", "/2015-03-31/functions", Bytes::from(body.to_string())).await?;
    if status != 201 {
        bail!("create: {status} {}", String::from_utf8_lossy(&resp));
    }
    Ok(rx)
}

/// The latency from SendMessage to the function's invocation through an event source
/// mapping: the function reports to a listener here, and the gap is measured on one clock.
async fn esm_latency(addr: SocketAddr, samples: usize) -> Result<Vec<f64>> {
    let mut conn = Conn::open(addr).await?;
    let mut rx = reporting_function(&mut conn, "esm-latency").await?;
    let url = sqs_call(&mut conn, "CreateQueue", serde_json::json!({ "QueueName": "esm-latency" })).await?["QueueUrl"]
        .as_str()
        .context("QueueUrl")?
        .to_owned();
    let mapping = serde_json::json!({
        "EventSourceArn": "arn:aws:sqs:us-east-1:000000000000:esm-latency", "FunctionName": "esm-latency", "BatchSize": 1,
    });
    create_mapping(&mut conn, &mapping).await?;
    let mut ms = Vec::new();
    // The first message meets a cold start: it is not a sample.
    for i in 0..=samples {
        let sent = Instant::now();
        sqs_call(&mut conn, "SendMessage", serde_json::json!({ "QueueUrl": url, "MessageBody": "ping" })).await?;
        let arrived = tokio::time::timeout(Duration::from_secs(30), rx.recv()).await?.context("listener closed")?;
        if i > 0 {
            ms.push(arrived.duration_since(sent).as_secs_f64() * 1e3);
        }
    }
    Ok(sorted(ms))
}

/// Producers of async events at once: many clients, each waiting for its 202.
const ACCEPT_CONNECTIONS: usize = 32;

/// Accepted `Event` invokes per second over `connections` keep-alive connections.
async fn async_accept_rate(addr: SocketAddr, name: &str, connections: usize, events: usize) -> Result<f64> {
    let per = events / connections;
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let path = format!("/2015-03-31/functions/{name}/invocations");
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::open(addr).await?;
            for _ in 0..per {
                let req = hyper::Request::builder()
                    .method("POST")
                    .uri(&path)
                    .header("host", &conn.host)
                    .header("x-amz-invocation-type", "Event")
                    .body(Full::new(Bytes::from_static(b"{}")))?;
                conn.sender.ready().await?;
                let resp = conn.sender.send_request(req).await?;
                if resp.status().as_u16() != 202 {
                    bail!("async invoke: {}", resp.status());
                }
                resp.into_body().collect().await?;
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok((per * connections) as f64 / start.elapsed().as_secs_f64())
}

async fn throughput(addr: SocketAddr, name: &str, connections: usize, secs: f64) -> Result<f64> {
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let name = name.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::open(addr).await?;
            let mut n = 0u64;
            while Instant::now() < deadline {
                conn.invoke(&name).await?;
                n += 1;
            }
            anyhow::Ok(n)
        }));
    }
    per_second(tasks).await
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let mem_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| m.lines().next().and_then(|l| l.split_whitespace().nth(1)).and_then(|kb| kb.parse::<f64>().ok()))
        .map(|kb| kb / 1024.0 / 1024.0)
        .unwrap_or(0.0);
    format!("{cores} cores ({cpu}), {mem_gib:.0} GiB RAM")
}

fn output(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

pub fn run(root: &Path, args: &[String]) -> Result<()> {
    let quick = args.iter().any(|a| a == "--quick");
    let settings = Settings::new(quick);
    let kinds = kinds(root)?;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    if only(root, args, &rt, &kinds, &settings)? {
        return Ok(());
    }
    let mut rows = first_rows(root, &rt, &kinds, &settings)?;
    let (sandboxed, server) = sandbox_rows(root, &rt, &kinds[0], &settings)?;
    rows.extend(sandboxed);
    rows.extend(rt.block_on(main_rows(&server, &kinds, &settings))?);
    drop(server);
    rows.push(drain_row(root, &rt, &kinds[3], &settings)?);
    rows.extend(sqs_rows(root, &rt, &settings)?);
    let server = start_server_with(root, "namespace", "s3", "")?;
    rows.extend(rt.block_on(s3::rows(&server, root, &settings))?);
    drop(server);
    let server = start_server_with(root, "namespace", "cloudformation", "")?;
    rows.extend(rt.block_on(cloudformation::rows(&server, &settings))?);
    drop(server);
    let server = start_server_with(root, "namespace", "events", "")?;
    rows.extend(rt.block_on(events::rows(server.addr, settings.throughput_secs * 2.0, settings.ticks))?);
    drop(server);
    rows.extend(dynamodb_rows(root, &rt, &settings)?);
    // Authenticated mode against open mode: two fresh servers, the same function.
    let open = start_server_with(root, "namespace", "open", "[functions]\nidle_timeout_secs = 600\n")?;
    let secured = start_server_with(root, "namespace", "sigv4", &auth::config())?;
    eprintln!("sigv4 verification");
    let minimal = kinds.iter().find(|k| k.label == "provided-minimal").context("no provided-minimal kind")?;
    rows.extend(rt.block_on(auth::rows(open.addr, secured.addr, minimal, settings.warm_invokes / 5))?);
    drop((open, secured));

    // WebSocket connections: a fresh server, with room for them.
    websocket::raise_fd_limit();
    let server = start_server_with(root, "namespace", "websocket", "[functions]\nidle_timeout_secs = 600\n")?;
    eprintln!("websocket: {} connections", settings.ws_connections);
    rows.extend(rt.block_on(websocket::rows(&server, settings.ws_connections, 10_000))?);
    drop(server);

    // Density: account concurrency above 1,000, so that AWS's rule (100 stay unreserved)
    // leaves room for 1,000 provisioned environments.
    let server =
        start_server_with(root, "namespace", "density", "[functions]\nidle_timeout_secs = 600\nconcurrency = 1100\n")?;
    eprintln!("density: {} Python environments", settings.density_envs);
    rows.extend(rt.block_on(density(&server, &kinds[0], settings.density_envs))?);
    drop(server);
    write_doc(root, quick, &rows)
}

impl Settings {
    fn new(quick: bool) -> Settings {
        if quick {
            Settings {
                cold_runs: 5,
                warm_invokes: 500,
                throughput_secs: 1.0,
                throughput_rounds: 1,
                drain_events: 2_000,
                density_envs: 100,
                ws_connections: 10_000,
                flood_megabytes: 128,
                ticks: 1,
            }
        } else {
            Settings {
                cold_runs: 20,
                warm_invokes: 5000,
                throughput_secs: 3.0,
                throughput_rounds: 3,
                drain_events: 10_000,
                density_envs: 1_000,
                ws_connections: 100_000,
                flood_megabytes: 1024,
                ticks: 2,
            }
        }
    }
}

/// A Java 17 hello world (a `RequestHandler` compiled with the host's `javac` against the
/// e2e tests' stand-ins for `aws-lambda-java-core`, which the package does not carry), or
/// none where the host has no JDK.
fn java_kind(root: &Path) -> Result<Option<Kind>> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let Some(javac) = std::env::split_paths(&path).map(|d| d.join("javac")).find(|p| p.is_file()) else {
        return Ok(None);
    };
    let dir = root.join("target/bench-java");
    let _ = std::fs::remove_dir_all(&dir);
    let src = dir.join("src/bench/Hello.java");
    std::fs::create_dir_all(src.parent().unwrap())?;
    std::fs::write(
        &src,
        "package bench;\n\nimport com.amazonaws.services.lambda.runtime.Context;\n\
         import com.amazonaws.services.lambda.runtime.RequestHandler;\nimport java.util.Map;\n\n\
         public class Hello implements RequestHandler<Map<String, Object>, String> {\n    \
         public String handleRequest(Map<String, Object> event, Context context) {\n        \
         return \"hello\";\n    }\n}\n",
    )?;
    let stubs = root.join("tests/e2e/functions/java/stubs");
    let mut sources = vec![src];
    let mut stack = vec![stubs.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d)?.flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                sources.push(e.path());
            }
        }
    }
    let classes = dir.join("classes");
    run_cmd(Command::new(javac).args(["--release", "17", "-nowarn", "-d"]).arg(&classes).args(&sources))?;
    let class = std::fs::read(classes.join("bench/Hello.class"))?;
    Ok(Some(Kind {
        label: "java",
        runtime: "java17",
        handler: "bench.Hello::handleRequest",
        zip: zip(&[("bench/Hello.class", &class, 0o644)])?,
        layers: Vec::new(),
    }))
}

/// Builds the release binary and the fixtures, and the kinds of no-op function (Java's
/// where the host has a JDK).
fn kinds(root: &Path) -> Result<Vec<Kind>> {
    crate::debian_packages(&[("ruby", "ruby")])?;
    run_cmd(cargo().current_dir(root).args(["build", "--quiet", "--release", "-p", "lamina"]))?;
    run_cmd(
        Command::new(root.join("target/release/lamina")).arg("install-sdk").arg("--sdk-dir").arg(root.join(SDK_LAYER)),
    )?;
    let fixture = build_fixture(root, true)?;
    let rust_bootstrap = std::fs::read(&fixture)?;
    let minimal_bootstrap = std::fs::read(fixture.with_file_name("noop"))?;
    let java = java_kind(root)?;
    let mut kinds = vec![
        Kind {
            label: "python",
            runtime: "python3.12",
            handler: "app.handler",
            zip: zip(&[("app.py", b"def handler(event, context):\n    return None\n", 0o644)])?,
            layers: Vec::new(),
        },
        Kind {
            label: "node",
            runtime: "nodejs20.x",
            handler: "index.handler",
            zip: zip(&[("index.js", b"exports.handler = async () => null;\n", 0o644)])?,
            layers: Vec::new(),
        },
        Kind {
            label: "provided",
            runtime: "provided.al2023",
            handler: "bootstrap",
            zip: zip(&[("bootstrap", &rust_bootstrap, 0o755)])?,
            layers: Vec::new(),
        },
        Kind {
            label: "provided-minimal",
            runtime: "provided.al2023",
            handler: "bootstrap",
            zip: zip(&[("bootstrap", &minimal_bootstrap, 0o755)])?,
            layers: Vec::new(),
        },
        Kind {
            label: "ruby",
            runtime: "ruby3.3",
            handler: "app.handler",
            zip: zip(&[("app.rb", b"def handler(event:, context:)\n  nil\nend\n", 0o644)])?,
            layers: Vec::new(),
        },
    ];
    kinds.extend(java);
    Ok(kinds)
}

/// The `--*-only` runs: one section's rows, printed, not written. `false` for a full run.
fn only(
    root: &Path,
    args: &[String],
    rt: &tokio::runtime::Runtime,
    kinds: &[Kind],
    settings: &Settings,
) -> Result<bool> {
    if args.iter().any(|a| a == "--websocket-only") {
        websocket::raise_fd_limit();
        let server = start_server_with(root, "namespace", "websocket", "[functions]\nidle_timeout_secs = 600\n")?;
        for r in rt.block_on(websocket::rows(&server, settings.ws_connections, 10_000))? {
            println!("| {} | {} | {} | {} | {} |", r.what, r.median, r.spread, r.target, r.ratio);
        }
        return Ok(true);
    }
    if args.iter().any(|a| a == "--cloudformation-only") {
        let server = start_server_with(root, "namespace", "cloudformation", "")?;
        for r in rt.block_on(cloudformation::rows(&server, settings))? {
            println!("| {} | {} | {} | {} | {} |", r.what, r.median, r.spread, r.target, r.ratio);
        }
        return Ok(true);
    }
    if args.iter().any(|a| a == "--events-only") {
        let server = start_server_with(root, "namespace", "events", "")?;
        for r in rt.block_on(events::rows(server.addr, settings.throughput_secs * 2.0, settings.ticks))? {
            println!("| {} | {} | {} | {} | {} |", r.what, r.median, r.spread, r.target, r.ratio);
        }
        return Ok(true);
    }
    if args.iter().any(|a| a == "--warm-only") {
        // The warm path alone: the API floor, warm latency, throughput and async accepts.
        let server = start_server(root, "namespace")?;
        let chosen: Vec<Kind> =
            kinds.iter().filter(|k| matches!(k.label, "python" | "provided" | "provided-minimal")).cloned().collect();
        let rows = rt.block_on(rows::warm_path(&server, &chosen, settings))?;
        for r in rows {
            println!("| {} | {} | {} | {} | {} |", r.what, r.median, r.spread, r.target, r.ratio);
        }
        return Ok(true);
    }
    if args.iter().any(|a| a == "--accept-only") {
        // Async accepts alone, while the function drains them.
        let server = start_server_with(root, "namespace", "accept", "[functions]\nidle_timeout_secs = 600\n")?;
        let minimal = kinds.iter().find(|k| k.label == "provided-minimal").context("no provided-minimal kind")?;
        let row = rt.block_on(async {
            let mut conn = Conn::open(server.addr).await?;
            create(&mut conn, "warm-provided-minimal", minimal).await?;
            conn.invoke("warm-provided-minimal").await?;
            rows::accept_row(&server, settings).await
        })?;
        println!("| {} | {} | {} | {} | {} |", row.what, row.median, row.spread, row.target, row.ratio);
        return Ok(true);
    }
    if args.iter().any(|a| a == "--sqs-only") {
        // Lamina's SQS throughput alone, without moto or the mapping's latency.
        let server = start_server_with(root, "namespace", "sqs", "")?;
        server.peak().reset();
        for r in 0..settings.throughput_rounds {
            let rate = rt.block_on(sqs_throughput(server.addr, 4, settings.throughput_secs, &format!("o{r}")))?;
            println!("SQS send + receive + delete: {rate:.0} messages/s");
        }
        println!("server{}", server.peak().note());
        return Ok(true);
    }
    if args.iter().any(|a| a == "--cold-only") {
        // Back-to-back cold starts alone, of every kind.
        let server = start_server(root, "namespace")?;
        for r in rt.block_on(rows::cold_rows(server.addr, kinds, settings))? {
            println!("| {} | {} | {} | {} | {} |", r.what, r.median, r.spread, r.target, r.ratio);
        }
        return Ok(true);
    }
    if args.iter().any(|a| a == "--first-only") {
        for r in first_rows(root, rt, kinds, settings)? {
            println!("| {} | {} | {} | {} | {} |", r.what, r.median, r.spread, r.target, r.ratio);
        }
        return Ok(true);
    }
    if args.iter().any(|a| a == "--dynamodb-only") {
        for r in dynamodb_rows(root, rt, settings)? {
            println!("| {} | {} | {} | {} | {} |", r.what, r.median, r.spread, r.target, r.ratio);
        }
        return Ok(true);
    }
    if args.iter().any(|a| a == "--s3-only") {
        let server = start_server_with(root, "namespace", "s3", "")?;
        for r in rt.block_on(s3::rows(&server, root, settings))? {
            println!("| {} | {} | {} | {} | {} |", r.what, r.median, r.spread, r.target, r.ratio);
        }
        return Ok(true);
    }
    if args.iter().any(|a| a == "--auth-only") {
        let open = start_server_with(root, "namespace", "open", "[functions]\nidle_timeout_secs = 600\n")?;
        let secured = start_server_with(root, "namespace", "sigv4", &auth::config())?;
        let minimal = kinds.iter().find(|k| k.label == "provided-minimal").context("no provided-minimal kind")?;
        for r in rt.block_on(auth::rows(open.addr, secured.addr, minimal, settings.warm_invokes / 5))? {
            println!("| {} | {} | {} | {} | {} |", r.what, r.median, r.spread, r.target, r.ratio);
        }
        return Ok(true);
    }
    if args.iter().any(|a| a == "--logs-only") {
        let server = start_server(root, "namespace")?;
        let rows = rt.block_on(async {
            let mut conn = Conn::open(server.addr).await?;
            create(&mut conn, "warm-provided-minimal", &kinds[3]).await?;
            let floor = percentile(&api_floor(server.addr, "warm-provided-minimal", settings.warm_invokes).await?, 0.5);
            let mut rows = logs::rows(&mut conn, server.addr, floor, settings.warm_invokes).await?;
            eprintln!("logs: flood");
            rows.push(
                logs::flood(server.addr, &server.data_dir(), &|| server.rss_kib(), settings.flood_megabytes).await?,
            );
            anyhow::Ok(rows)
        })?;
        for r in rows {
            println!("| {} | {} | {} | {} | {} |", r.what, r.median, r.spread, r.target, r.ratio);
        }
        return Ok(true);
    }
    if args.iter().any(|a| a == "--gateway-only") {
        // A shorter loop for work on the gateway: its rows only, printed, not written.
        let server = start_server(root, "namespace")?;
        let rows = rt.block_on(async {
            let mut conn = Conn::open(server.addr).await?;
            for kind in &kinds[2..] {
                create(&mut conn, &format!("warm-{}", kind.label), kind).await?;
            }
            let floor = percentile(&api_floor(server.addr, "warm-provided", settings.warm_invokes).await?, 0.5);
            println!("API floor {floor:.0} µs");
            gateway::rows(&mut conn, server.addr, floor, settings).await
        })?;
        for r in rows {
            println!("| {} | {} | {} | {} | {} |", r.what, r.median, r.spread, r.target, r.ratio);
        }
        return Ok(true);
    }
    Ok(false)
}

/// The first invoke on a freshly started server, for `provided` and Python.
fn first_rows(root: &Path, rt: &tokio::runtime::Runtime, kinds: &[Kind], settings: &Settings) -> Result<Vec<Row>> {
    let chosen: Vec<&Kind> = kinds.iter().filter(|k| matches!(k.label, "provided" | "python")).collect();
    first::rows(root, rt, &chosen, settings.cold_runs.min(10))
}

/// DynamoDB's rows: a fresh server, and moto's beside it.
fn dynamodb_rows(root: &Path, rt: &tokio::runtime::Runtime, settings: &Settings) -> Result<Vec<Row>> {
    let server = start_server_with(root, "namespace", "dynamodb", "")?;
    let moto = start_moto(root);
    let items = if settings.throughput_secs < 2.0 { 100_000 } else { 1_000_000 };
    let addr = moto.as_ref().map(|(_, a)| *a).map_err(|e| e.to_string());
    let rows = rt.block_on(dynamodb::rows(
        server.addr,
        server.peak(),
        addr,
        settings.throughput_secs,
        settings.throughput_rounds,
        items,
    ));
    if let Ok((mut child, _)) = moto {
        let _ = child.kill();
        let _ = child.wait();
    }
    rows
}

fn ms(v: f64) -> String {
    format!("{v:.2} ms")
}
