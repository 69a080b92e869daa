//! CloudWatch Logs and function URLs: how soon a printed line can be read back with
//! FilterLogEvents (while the invocation that printed it still runs), and a function URL
//! in front of a warm function, against the API floor.

use std::net::SocketAddr;
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
