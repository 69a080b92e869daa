//! CloudWatch Logs and function URLs: how soon a printed line can be read back with
//! FilterLogEvents (while the invocation that printed it still runs), a function URL in
//! front of a warm function, against the API floor, and a function flooding its log.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use bytes::Bytes;

use super::{create, percentile, sorted, zip, Conn, Kind, Row};

/// One CloudWatch Logs JSON-protocol call.
async fn logs_call(conn: &mut Conn, operation: &str, body: serde_json::Value) -> Result<serde_json::Value> {
    let target = format!("Logs_20140328.{operation}");
    let headers = [("content-type", "application/x-amz-json-1.1"), ("x-amz-target", target.as_str())];
    let (status, resp) = conn.call_with("POST", "/", &headers, Bytes::from(body.to_string())).await?;
    if status != 200 {
        bail!("Logs {operation}: {status} {}", String::from_utf8_lossy(&resp));
    }
    Ok(serde_json::from_slice(&resp)?)
}

/// From sending an Invoke whose function prints a marker (and then sleeps) to the first
/// FilterLogEvents that returns it; ms, sorted.
async fn visibility(addr: SocketAddr, samples: usize) -> Result<Vec<f64>> {
    let mut conn = Conn::open(addr).await?;
    let printer = Kind {
        label: "printer",
        runtime: "python3.12",
        handler: "app.handler",
        zip: zip(&[(
            "app.py",
            b"import time\ndef handler(event, context):\n    print(event['marker'])\n    time.sleep(0.3)\n",
            0o644,
        )])?,
        layers: Vec::new(),
    };
    create(&mut conn, "log-printer", &printer).await?;
    let mut ms = Vec::with_capacity(samples);
    for i in 0..samples + 1 {
        let marker = format!("marker-{i}-{}", super::uuid_suffix());
        let payload = serde_json::json!({ "marker": marker }).to_string();
        let invoking = tokio::spawn(async move {
            let mut c = Conn::open(addr).await?;
            let (status, body) =
                c.call("POST", "/2015-03-31/functions/log-printer/invocations", Bytes::from(payload)).await?;
            if status != 200 {
                bail!("invoke: {status} {}", String::from_utf8_lossy(&body));
            }
            anyhow::Ok(())
        });
        let sent = Instant::now();
        let query = serde_json::json!({
            "logGroupName": "/aws/lambda/log-printer",
            "filterPattern": format!("\"{marker}\""),
        });
        loop {
            if sent.elapsed() > Duration::from_secs(30) {
                bail!("{marker} never showed up in FilterLogEvents");
            }
            let found = match logs_call(&mut conn, "FilterLogEvents", query.clone()).await {
                Ok(v) => v["events"].as_array().is_some_and(|e| !e.is_empty()),
                // The group is made by the first line of the first invocation.
                Err(_) => false,
            };
            if found {
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        // The first sample includes the cold start; it is left out.
        if i > 0 {
            ms.push(sent.elapsed().as_secs_f64() * 1e3);
        }
        invoking.await??;
    }
    Ok(sorted(ms))
}

/// Creates a function URL (auth `NONE`) for `function`; returns its host.
async fn function_url(conn: &mut Conn, function: &str) -> Result<String> {
    let body = serde_json::json!({ "AuthType": "NONE" });
    let (status, answer) =
        conn.call("POST", &format!("/2021-10-31/functions/{function}/url"), Bytes::from(body.to_string())).await?;
    if status != 201 {
        bail!("CreateFunctionUrlConfig: {status} {}", String::from_utf8_lossy(&answer));
    }
    let url: serde_json::Value = serde_json::from_slice(&answer)?;
    let address = url["FunctionUrl"].as_str().context("FunctionUrl")?;
    Ok(address.trim_start_matches("http://").trim_end_matches('/').to_owned())
}

pub(super) async fn rows(conn: &mut Conn, addr: SocketAddr, floor_p50: f64, warm_invokes: usize) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    eprintln!("function URL to warm-provided-minimal");
    let host = function_url(conn, "warm-provided-minimal").await?;
    let us = super::gateway::latency(addr, &host, "/items/1?x=1", warm_invokes).await?;
    let p50 = percentile(&us, 0.5);
    rows.push(Row {
        what: "Function URL → Lambda (provided-minimal no-op, payload 2.0), one keep-alive connection".into(),
        median: format!("{p50:.0} µs"),
        spread: format!(
            "{:.0} µs over the API floor; p99 {:.0} µs ({} requests)",
            p50 - floor_p50,
            percentile(&us, 0.99),
            us.len()
        ),
        target: "—".into(),
        ratio: "—".into(),
    });
    eprintln!("logs: print to FilterLogEvents");
    let ms = visibility(addr, 30).await?;
    let p50 = percentile(&ms, 0.5);
    rows.push(Row {
        what: "A printed line, from sending the Invoke to FilterLogEvents returning it (warm python, mid-invocation)"
            .into(),
        median: format!("{p50:.2} ms"),
        spread: format!("p90 {:.2} ms; {} lines, polled every 1 ms", percentile(&ms, 0.9), ms.len()),
        target: "≤ 1 s (`aws logs tail --follow`)".into(),
        ratio: format!("{:.4}× target", p50 / 1000.0),
    });
    Ok(rows)
}

/// The size of `logs.db` and its WAL, in bytes.
fn logs_db_bytes(data: &Path) -> u64 {
    ["logs.db", "logs.db-wal", "logs.db-shm"]
        .iter()
        .filter_map(|f| std::fs::metadata(data.join(f)).ok())
        .map(|m| m.len())
        .sum()
}

/// A function printing `megabytes` of 64 KiB lines as fast as it can: how fast the
/// output is accepted, how many lines are lost (none may be), what the disk holds a byte
/// printed, and the server's memory before and after.
pub(super) async fn flood(addr: SocketAddr, data: &Path, rss_kib: &dyn Fn() -> u64, megabytes: u64) -> Result<Row> {
    let mut conn = Conn::open(addr).await?;
    let code = b"import os\ndef handler(event, context):\n    line = 'y' * (64 * 1024 - 1) + '\\n'\n    out = os.fdopen(1, 'w', buffering=1 << 20, closefd=False)\n    for _ in range(event['lines']):\n        out.write(line)\n    out.flush()\n    return 'flooded'\n";
    let body = serde_json::json!({
        "FunctionName": "log-flood",
        "Runtime": "python3.12",
        "Handler": "app.handler",
        "Role": "arn:aws:iam::000000000000:role/bench",
        "MemorySize": 256,
        "Timeout": 900,
        "Code": { "ZipFile": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, zip(&[("app.py", code, 0o644)])?) },
    });
    let (status, resp) = conn.call("POST", "/2015-03-31/functions", Bytes::from(body.to_string())).await?;
    if status != 201 {
        bail!("create log-flood: {status} {}", String::from_utf8_lossy(&resp));
    }
    let invoke = |lines: u64| {
        let payload = Bytes::from(serde_json::json!({ "lines": lines }).to_string());
        async move {
            let mut c = Conn::open(addr).await?;
            let (status, body) = c.call("POST", "/2015-03-31/functions/log-flood/invocations", payload).await?;
            if status != 200 || body.as_ref() != b"\"flooded\"" {
                bail!("flood invoke: {status} {}", String::from_utf8_lossy(&body));
            }
            anyhow::Ok(())
        }
    };
    invoke(16).await?; // warm: the environment exists, the group too
    let stored = |v: &serde_json::Value| v["logGroups"][0]["storedBytes"].as_u64().unwrap_or(0);
    let query = serde_json::json!({ "logGroupNamePrefix": "/aws/lambda/log-flood" });
    let stored_before = stored(&logs_call(&mut conn, "DescribeLogGroups", query.clone()).await?);
    let (disk_before, rss_before) = (logs_db_bytes(data), rss_kib());
    let lines = megabytes * 16;
    let printed = lines * 64 * 1024;
    let started = Instant::now();
    invoke(lines).await?;
    let seconds = started.elapsed().as_secs_f64();
    // What was printed is in the store once the writer has caught up (within its gather).
    let deadline = Instant::now() + Duration::from_secs(60);
    let stored_output = loop {
        let now = stored(&logs_call(&mut conn, "DescribeLogGroups", query.clone()).await?) - stored_before;
        if now >= printed || Instant::now() > deadline {
            break now;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    // Lambda's own START, END and REPORT lines are a few hundred bytes; whole lines of
    // output missing show in the division.
    let lost = printed.saturating_sub(stored_output).div_ceil(64 * 1024);
    let disk = logs_db_bytes(data).saturating_sub(disk_before) as f64 / printed as f64;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_after = rss_kib();
    Ok(Row {
        what: format!("A function printing {megabytes} MiB of 64 KiB lines as fast as it can (python)"),
        median: format!("{:.0} MiB/s accepted", megabytes as f64 / seconds),
        spread: format!(
            "{lost} lines lost; {disk:.2} bytes on disk a byte printed; server RSS {} MiB before, {} MiB 2 s after",
            rss_before / 1024,
            rss_after / 1024
        ),
        target: "0 lost; ≤ 1.5 bytes a byte; RSS within 20%".into(),
        ratio: format!("{:.2}× RSS", rss_after as f64 / rss_before.max(1) as f64),
    })
}
