//! The WebSocket benchmarks: how many idle connections one server holds and what each
//! costs it, and how fast `@connections` broadcasts to 10,000 of them. The client side is
//! a minimal hand-written WebSocket client (handshake and unfragmented frames), so that
//! the client's own cost stays small.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use super::{sorted, zip, Conn, Row, Server};

/// Raises this process's open-file limit as far as it may: to the kernel's ceiling with
/// CAP_SYS_RESOURCE, else to its hard limit.
pub(super) fn raise_fd_limit() {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    let max = std::fs::read_to_string("/proc/sys/fs/nr_open").ok().and_then(|s| s.trim().parse::<u64>().ok());
    if max.is_some_and(|max| setrlimit(Resource::RLIMIT_NOFILE, max, max).is_ok()) {
        return;
    }
    if let Ok((_, hard)) = getrlimit(Resource::RLIMIT_NOFILE) {
        let _ = setrlimit(Resource::RLIMIT_NOFILE, hard, hard);
    }
}

/// A process's open-file limit (soft), from `/proc/<pid>/limits`.
fn open_file_limit(pid: u32) -> Option<usize> {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

async fn call_json(conn: &mut Conn, method: &str, path: &str, body: serde_json::Value) -> Result<serde_json::Value> {
    let (status, answer) = conn.call(method, path, Bytes::from(body.to_string())).await?;
    if !(200..300).contains(&status) {
        bail!("{method} {path}: {status} {}", String::from_utf8_lossy(&answer));
    }
    Ok(if answer.is_empty() { serde_json::Value::Null } else { serde_json::from_slice(&answer)? })
}

/// A WebSocket API with a `whoami` two-way route (a Python function answering with the
/// connection's id) and a `$default` MOCK route; returns its id.
async fn create_api(conn: &mut Conn) -> Result<String> {
    let code = zip(&[(
        "whoami.py",
        b"def handler(event, context):\n    return {\"statusCode\": 200, \"body\": event[\"requestContext\"][\"connectionId\"]}\n",
        0o644,
    )])?;
    use base64::Engine;
    let function = serde_json::json!({
        "FunctionName": "ws-whoami", "Runtime": "python3.12", "Handler": "whoami.handler",
        "Role": "arn:aws:iam::000000000000:role/r",
        "Code": {"ZipFile": base64::engine::general_purpose::STANDARD.encode(code)},
    });
    let f = call_json(conn, "POST", "/2015-03-31/functions", function).await?;
    let arn = f["FunctionArn"].as_str().context("FunctionArn")?.to_owned();
    let api = call_json(
        conn,
        "POST",
        "/v2/apis",
        serde_json::json!({"name": "bench-ws", "protocolType": "WEBSOCKET", "routeSelectionExpression": "$request.body.action"}),
    )
    .await?;
    let id = api["apiId"].as_str().context("apiId")?.to_owned();
    let lambda = call_json(
        conn,
        "POST",
        &format!("/v2/apis/{id}/integrations"),
        serde_json::json!({"integrationType": "AWS_PROXY", "integrationUri": arn}),
    )
    .await?;
    let mock =
        call_json(conn, "POST", &format!("/v2/apis/{id}/integrations"), serde_json::json!({"integrationType": "MOCK"}))
            .await?;
    let route = call_json(
        conn,
        "POST",
        &format!("/v2/apis/{id}/routes"),
        serde_json::json!({"routeKey": "whoami", "target": format!("integrations/{}", lambda["integrationId"].as_str().unwrap_or("")),
                           "routeResponseSelectionExpression": "$default"}),
    )
    .await?;
    let route_id = route["routeId"].as_str().context("routeId")?;
    call_json(
        conn,
        "POST",
        &format!("/v2/apis/{id}/routes/{route_id}/routeresponses"),
        serde_json::json!({"routeResponseKey": "$default"}),
    )
    .await?;
    call_json(
        conn,
        "POST",
        &format!("/v2/apis/{id}/routes"),
        serde_json::json!({"routeKey": "$default", "target": format!("integrations/{}", mock["integrationId"].as_str().unwrap_or(""))}),
    )
    .await?;
    call_json(
        conn,
        "POST",
        &format!("/v2/apis/{id}/stages"),
        serde_json::json!({"stageName": "bench", "autoDeploy": true}),
    )
    .await?;
    Ok(id)
}

/// Opens a WebSocket connection from `source` and completes the handshake.
async fn open(server: SocketAddr, source: IpAddr, api: &str) -> Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(source, 0))?;
    let mut stream = socket.connect(server).await?;
    stream.set_nodelay(true)?;
    let request = format!(
        "GET /bench HTTP/1.1\r\nHost: {api}.execute-api.localhost:{}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        server.port()
    );
    stream.write_all(request.as_bytes()).await?;
    // The server says nothing after its 101 until it is asked, so the head is all there is.
    let mut head = Vec::with_capacity(256);
    let mut chunk = [0u8; 512];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            bail!("the server closed during the handshake");
        }
        head.extend_from_slice(&chunk[..n]);
    }
    if !head.starts_with(b"HTTP/1.1 101") {
        bail!("handshake refused: {}", String::from_utf8_lossy(&head));
    }
    Ok(stream)
}

/// Sends a masked text frame (mask key zero, so the payload goes as it is).
async fn send_text(stream: &mut TcpStream, text: &str) -> Result<()> {
    let mut frame = vec![0x81u8];
    let len = text.len();
    if len < 126 {
        frame.push(0x80 | len as u8);
    } else {
        frame.push(0x80 | 126);
        frame.extend_from_slice(&(len as u16).to_be_bytes());
    }
    frame.extend_from_slice(&[0, 0, 0, 0]);
    frame.extend_from_slice(text.as_bytes());
    stream.write_all(&frame).await?;
    Ok(())
}

/// Reads one unfragmented server frame's payload.
async fn read_frame(stream: &mut TcpStream) -> Result<Vec<u8>> {
    let mut head = [0u8; 2];
    stream.read_exact(&mut head).await?;
    let len = match head[1] & 0x7f {
        126 => {
            let mut l = [0u8; 2];
            stream.read_exact(&mut l).await?;
            u16::from_be_bytes(l) as usize
        }
        127 => {
            let mut l = [0u8; 8];
            stream.read_exact(&mut l).await?;
            u64::from_be_bytes(l) as usize
        }
        n => n as usize,
    };
    let mut payload = vec![0u8; len];
    stream.read_exact(&mut payload).await?;
    Ok(payload)
}

/// The rows: idle connections held with their memory, and the broadcast rate.
pub(super) async fn rows(server: &Server, connections: usize, broadcast_to: usize) -> Result<Vec<Row>> {
    let addr = server.addr;
    let mut conn = Conn::open(addr).await?;
    let api = create_api(&mut conn).await?;
    // Each connection is a descriptor in the server and one in this client: neither may
    // go past its open-file limit (leaving room for everything else they hold).
    let limit = [open_file_limit(server.child.id()), open_file_limit(std::process::id())]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(usize::MAX);
    let capped = connections.min(limit.saturating_sub(2_000));
    let before_rss = server.rss_kib();
    let sources: Vec<IpAddr> = (1..=8).map(|i| IpAddr::V4(Ipv4Addr::new(127, 0, 0, i))).collect();
    let started = Instant::now();
    let mut streams: Vec<TcpStream> = Vec::with_capacity(capped);
    let mut failure = None;
    while streams.len() < capped {
        let batch = (capped - streams.len()).min(100);
        let mut tasks = Vec::with_capacity(batch);
        for i in 0..batch {
            let source = sources[(streams.len() + i) % sources.len()];
            let api = api.clone();
            tasks.push(tokio::spawn(async move { open(addr, source, &api).await }));
        }
        for t in tasks {
            match t.await? {
                Ok(s) => streams.push(s),
                Err(e) => failure = Some(e),
            }
        }
        if let Some(e) = failure.take() {
            eprintln!("websocket: stopped at {} connections: {e:#}", streams.len());
            break;
        }
    }
    let opened = started.elapsed();
    let held = streams.len();
    // Let the server settle before reading its memory.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_per = (server.rss_kib().saturating_sub(before_rss)) as f64 * 1024.0 / held.max(1) as f64;
    let cap_note = if capped < connections {
        format!(
            "; {connections} asked, capped by the open-file limit of {limit} (RLIMIT_NOFILE's hard limit, which only CAP_SYS_RESOURCE raises)"
        )
    } else {
        String::new()
    };
    let mut rows = vec![Row {
        what: "WebSocket: idle connections held by one server, opened from 8 loopback addresses".into(),
        median: format!("{held} connections"),
        spread: format!(
            "opened in {:.1} s ({:.0}/s); the server's RSS grew {:.1} KiB per connection{cap_note}",
            opened.as_secs_f64(),
            held as f64 / opened.as_secs_f64(),
            rss_per / 1024.0
        ),
        target: "100,000 at ≤ 4 KB each".into(),
        ratio: format!("{:.2}× the count; {:.2}× the memory", held as f64 / 100_000.0, rss_per / 4096.0),
    }];

    // Broadcast: learn 10,000 connections' ids, then post to each through @connections.
    let n = broadcast_to.min(held);
    let mut ids = Vec::with_capacity(n);
    // In rounds of 50, within the function's concurrency.
    for round in streams[..n].chunks_mut(50) {
        for s in round.iter_mut() {
            send_text(s, r#"{"action":"whoami"}"#).await?;
        }
        for s in round.iter_mut() {
            let id = String::from_utf8(read_frame(s).await?)?;
            if id.len() != 12 {
                bail!("whoami answered {id:?}");
            }
            ids.push(id);
        }
    }
    let started = Instant::now();
    let chunks: Vec<Vec<String>> = ids.chunks(n.div_ceil(8).max(1)).map(|c| c.to_vec()).collect();
    let mut posters = Vec::new();
    for chunk in chunks {
        posters.push(tokio::spawn(async move {
            let mut c = Conn::open(addr).await?;
            for id in chunk {
                let (status, _) =
                    c.call("POST", &format!("/bench/@connections/{id}"), Bytes::from_static(b"{\"news\":1}")).await?;
                if status != 200 {
                    bail!("PostToConnection: {status}");
                }
            }
            anyhow::Ok(())
        }));
    }
    for p in posters {
        p.await??;
    }
    let posted = started.elapsed();
    for s in streams.iter_mut().take(n) {
        let frame = read_frame(s).await?;
        if frame != b"{\"news\":1}" {
            bail!("a connection got {:?}", String::from_utf8_lossy(&frame));
        }
    }
    let delivered = started.elapsed();
    let rates = sorted(vec![n as f64 / delivered.as_secs_f64()]);
    rows.push(Row {
        what: format!("WebSocket broadcast: PostToConnection to {n} connections, 8 keep-alive connections posting"),
        median: format!("{:.0} messages/s", rates[0]),
        spread: format!(
            "all {n} posted in {:.2} s and received by their clients in {:.2} s",
            posted.as_secs_f64(),
            delivered.as_secs_f64()
        ),
        target: "—".into(),
        ratio: "—".into(),
    });
    drop(streams);
    Ok(rows)
}
