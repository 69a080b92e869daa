//! The gateway's benchmarks: an HTTP API in front of a warm function (latency and
//! throughput), and `HTTP_PROXY`'s overhead against nginx proxying the same local
//! backend in the same run.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use bytes::Bytes;
use http_body_util::Full;
use hyper_util::rt::TokioIo;

use super::{per_second, percentile, sorted, Conn, Row, Settings, TempDir};

/// Creates an HTTP API by quick create with `target`; returns its host.
pub(super) async fn quick_api(conn: &mut Conn, target: &str) -> Result<String> {
    let body = serde_json::json!({ "name": "bench", "protocolType": "HTTP", "target": target });
    let (status, answer) = conn.call("POST", "/v2/apis", Bytes::from(body.to_string())).await?;
    if status != 201 {
        bail!("CreateApi: {status} {}", String::from_utf8_lossy(&answer));
    }
    let api: serde_json::Value = serde_json::from_slice(&answer)?;
    let id = api["apiId"].as_str().context("apiId")?;
    Ok(format!("{id}.execute-api.localhost:{}", conn.addr.port()))
}

/// `GET path` with `host`, `n` times after a warm-up, on one connection; µs, sorted.
pub(super) async fn latency(addr: SocketAddr, host: &str, path: &str, n: usize) -> Result<Vec<f64>> {
    let mut conn = Conn::open(addr).await?;
    conn.host = host.to_owned();
    let mut us = Vec::with_capacity(n);
    for i in 0..n + 200 {
        let t = Instant::now();
        let (status, body) = conn.call_with("GET", path, &[], Bytes::new()).await?;
        if status != 200 {
            bail!("GET {host}{path}: {status} {}", String::from_utf8_lossy(&body));
        }
        if i >= 200 {
            us.push(t.elapsed().as_secs_f64() * 1e6);
        }
    }
    Ok(sorted(us))
}

/// Requests per second over `connections` keep-alive connections for `secs`.
pub(super) async fn rate(addr: SocketAddr, host: &str, path: &str, connections: usize, secs: f64) -> Result<f64> {
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (host, path) = (host.to_owned(), path.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::open(addr).await?;
            conn.host = host;
            let mut n = 0u64;
            while Instant::now() < deadline {
                let (status, _) = conn.call_with("GET", &path, &[], Bytes::new()).await?;
                if status != 200 {
                    bail!("status {status}");
                }
                n += 1;
            }
            anyhow::Ok(n)
        }));
    }
    per_second(tasks).await
}

/// A local HTTP backend on a thread of its own: every request gets a small JSON answer.
pub(super) fn start_backend() -> Result<SocketAddr> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    std::thread::Builder::new().name("bench-backend".into()).spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("a listener");
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                let _ = stream.set_nodelay(true);
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(|_req| async {
                        let resp = hyper::Response::builder()
                            .header("content-type", "application/json")
                            .body(Full::new(Bytes::from_static(b"{\"ok\":true}")))?;
                        anyhow::Ok(resp)
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
    })?;
    Ok(addr)
}

/// nginx, from PATH or installed from Debian now.
fn nginx_binary() -> Result<PathBuf> {
    let found =
        ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"].iter().map(PathBuf::from).find(|p| p.exists());
    if let Some(p) = found {
        return Ok(p);
    }
    eprintln!("installing nginx from Debian (apt-get)");
    let quiet = |args: &[&str]| {
        Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdout(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    };
    if !quiet(&["update", "-qq"]) || !quiet(&["install", "-y", "-qq", "nginx"]) {
        bail!("apt-get could not install nginx");
    }
    Ok(PathBuf::from("/usr/sbin/nginx"))
}

/// nginx proxying to `backend` with keep-alive upstream connections, as one would set it
/// up for speed: two workers (one per core), no access log.
pub(super) struct Nginx {
    child: Child,
    pub addr: SocketAddr,
    _dir: TempDir,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-QUIT", &self.child.id().to_string()]).status();
        let _ = self.child.wait();
    }
}

pub(super) fn start_nginx(backend: SocketAddr) -> Result<(Nginx, String)> {
    let binary = nginx_binary()?;
    let version = Command::new(&binary)
        .arg("-v")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stderr).trim().trim_start_matches("nginx version: ").to_owned())
        .unwrap_or_default();
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let dir = std::env::temp_dir().join(format!("lamina-bench-nginx-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let conf = format!(
        "worker_processes 2;\ndaemon off;\npid {dir}/nginx.pid;\nerror_log {dir}/error.log;\n\
         events {{ worker_connections 1024; }}\n\
         http {{\n  access_log off;\n  client_body_temp_path {dir}/body;\n  proxy_temp_path {dir}/proxy;\n\
           upstream backend {{ server {backend}; keepalive 64; }}\n\
           server {{\n    listen 127.0.0.1:{port};\n    location / {{\n      proxy_pass http://backend;\n\
               proxy_http_version 1.1;\n      proxy_set_header Connection \"\";\n    }}\n  }}\n}}\n",
        dir = dir.display()
    );
    std::fs::write(dir.join("nginx.conf"), conf)?;
    let child = Command::new(&binary)
        .args(["-p", &dir.display().to_string(), "-c", &dir.join("nginx.conf").display().to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting nginx")?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(addr).is_err() {
        if Instant::now() > deadline {
            bail!("nginx did not start listening on {addr}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok((Nginx { child, addr, _dir: TempDir(dir) }, version))
}

/// The three latencies of the proxy comparison, each median of its own run: the
/// backend directly, through Lamina's HTTP API `HTTP_PROXY`, and through nginx.
pub(super) struct ProxyFigures {
    pub direct: Vec<f64>,
    pub lamina: Vec<f64>,
    pub nginx: Vec<f64>,
}

pub(super) async fn proxy_comparison(
    lamina: SocketAddr,
    lamina_host: &str,
    backend: SocketAddr,
    nginx: SocketAddr,
    n: usize,
    rounds: usize,
) -> Result<ProxyFigures> {
    let (mut direct, mut through_lamina, mut through_nginx) = (Vec::new(), Vec::new(), Vec::new());
    // Interleaved rounds, so that a machine slowing down mid-run touches all three alike.
    for _ in 0..rounds {
        direct.push(percentile(&latency(backend, &backend.to_string(), "/items?x=1", n).await?, 0.5));
        through_lamina.push(percentile(&latency(lamina, lamina_host, "/items?x=1", n).await?, 0.5));
        through_nginx.push(percentile(&latency(nginx, &nginx.to_string(), "/items?x=1", n).await?, 0.5));
    }
    Ok(ProxyFigures { direct: sorted(direct), lamina: sorted(through_lamina), nginx: sorted(through_nginx) })
}

/// The gateway's rows: HTTP API → Lambda latency and throughput, and the proxy comparison.
/// The functions `warm-provided` and `warm-provided-minimal` must exist.
pub(super) async fn rows(conn: &mut Conn, addr: SocketAddr, floor_p50: f64, settings: &Settings) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for label in ["provided", "provided-minimal"] {
        eprintln!("gateway: HTTP API to warm-{label}");
        let host = quick_api(conn, &format!("arn:aws:lambda:us-east-1:000000000000:function:warm-{label}")).await?;
        let us = latency(addr, &host, "/items/1?x=1", settings.warm_invokes).await?;
        let p50 = percentile(&us, 0.5);
        rows.push(Row {
            what: format!("HTTP API → Lambda ({label} no-op, payload 2.0), one keep-alive connection"),
            median: format!("{p50:.0} µs"),
            spread: format!(
                "{:.0} µs over the API floor; p99 {:.0} µs ({} requests)",
                p50 - floor_p50,
                percentile(&us, 0.99),
                us.len()
            ),
            target: "≤ 250 µs p50".into(),
            ratio: format!("{:.2}× target", p50 / 250.0),
        });
        if label == "provided" {
            let mut rates = Vec::new();
            for _ in 0..settings.throughput_rounds {
                rates.push(rate(addr, &host, "/items/1", 8, settings.throughput_secs).await?);
            }
            let rates = sorted(rates);
            rows.push(Row {
                what: format!("HTTP API → Lambda ({label} no-op) throughput, 8 keep-alive connections"),
                median: format!("{:.0}/s", percentile(&rates, 0.5)),
                spread: format!("min {:.0}/s, max {:.0}/s over {} runs", rates[0], rates[rates.len() - 1], rates.len()),
                target: "—".into(),
                ratio: "—".into(),
            });
        }
    }
    eprintln!("gateway: HTTP_PROXY against nginx");
    let backend = start_backend()?;
    let proxy_host = quick_api(conn, &format!("http://{backend}")).await?;
    let (nginx, nginx_version) = start_nginx(backend)?;
    let rounds = settings.throughput_rounds.max(3);
    let figures = proxy_comparison(addr, &proxy_host, backend, nginx.addr, settings.warm_invokes / 2, rounds).await?;
    drop(nginx);
    let direct = percentile(&figures.direct, 0.5);
    let (lamina_p50, nginx_p50) = (percentile(&figures.lamina, 0.5), percentile(&figures.nginx, 0.5));
    let (lamina_over, nginx_over) = (lamina_p50 - direct, nginx_p50 - direct);
    rows.push(Row {
        what: "HTTP_PROXY overhead: HTTP API → local backend, against nginx proxy_pass (keep-alive) to it".into(),
        median: format!("{lamina_over:.0} µs added"),
        spread: format!(
            "Lamina {lamina_p50:.0} µs, nginx {nginx_version} {nginx_p50:.0} µs ({nginx_over:.0} µs added), backend directly {direct:.0} µs; medians of {rounds} interleaved rounds"
        ),
        target: "≤ 1.2× nginx's overhead".into(),
        ratio: format!("{:.2}× nginx", lamina_over / nginx_over),
    });
    Ok(rows)
}
