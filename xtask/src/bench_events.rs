//! EventBridge: PutEvents matched against 1,000 rules with varied patterns, and how soon a
//! scheduled rule's event reaches its queue after its minute.

use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{bail, Context, Result};
use bytes::Bytes;

use super::{per_second, percentile, sorted, sqs_call, Conn, Row};

/// One EventBridge JSON-protocol call.
async fn events_call(conn: &mut Conn, operation: &str, body: serde_json::Value) -> Result<serde_json::Value> {
    let target = format!("AWSEvents.{operation}");
    let headers = [("content-type", "application/x-amz-json-1.1"), ("x-amz-target", target.as_str())];
    let (status, resp) = conn.call_with("POST", "/", &headers, Bytes::from(body.to_string())).await?;
    if status != 200 {
        bail!("EventBridge {operation}: {status} {}", String::from_utf8_lossy(&resp));
    }
    Ok(serde_json::from_slice(&resp)?)
}

const RULES: usize = 1000;
const SOURCES: usize = 50;
/// Clients putting events at once.
const CONNECTIONS: usize = 32;

/// Rule `i`'s pattern: a source of 50, and one of several content filters.
fn pattern(i: usize) -> serde_json::Value {
    let source = format!("bench.source{}", i % SOURCES);
    let detail = match i % 6 {
        0 => serde_json::json!({ "kind": [format!("kind-{}", i % 17)] }),
        1 => serde_json::json!({ "amount": [{ "numeric": [">", (i % 90) * 10, "<=", (i % 90) * 10 + 50] }] }),
        2 => serde_json::json!({ "region": [{ "prefix": format!("eu-{}", i % 7) }] }),
        3 => {
            serde_json::json!({ "status": [{ "anything-but": ["ok", "pending", format!("s{}", i % 5)] }], "kind": [format!("kind-{}", i % 17)] })
        }
        4 => serde_json::json!({ "path": [{ "wildcard": format!("/orders/*/item-{}", i % 13) }] }),
        _ => serde_json::json!({ "user": { "tier": ["gold", "silver"] }, "amount": [{ "numeric": [">=", 900] }] }),
    };
    // One rule in twenty names no source: it is tried against every event.
    if i % 20 == 19 {
        serde_json::json!({ "detail-type": [format!("type-{}", i % 11)], "detail": detail })
    } else {
        serde_json::json!({ "source": [source], "detail-type": [format!("type-{}", i % 11)], "detail": detail })
    }
}

/// Event `n`'s entry: mostly matching nothing past its source's rules' first check.
fn entry(n: usize) -> serde_json::Value {
    let detail = serde_json::json!({
        "kind": format!("kind-{}", n % 23),
        "amount": (n * 37) % 1000,
        "region": format!("eu-{}-x", n % 11),
        "status": if n.is_multiple_of(3) { "ok" } else { "failed" },
        "path": format!("/orders/{n}/item-{}", n % 29),
        "user": { "tier": if n.is_multiple_of(4) { "gold" } else { "bronze" } },
    });
    serde_json::json!({
        "Source": format!("bench.source{}", n % SOURCES),
        "DetailType": format!("type-{}", n % 11),
        "Detail": detail.to_string(),
    })
}

/// Events accepted per second by PutEvents (ten entries each) over `connections`, with
/// 1,000 rules on the bus; and how many deliveries the run made.
async fn put_events_rate(addr: SocketAddr, connections: usize, secs: f64) -> Result<(f64, u64)> {
    let mut conn = Conn::open(addr).await?;
    let url = sqs_call(&mut conn, "CreateQueue", serde_json::json!({ "QueueName": "bench-events-sink" })).await?
        ["QueueUrl"]
        .as_str()
        .context("QueueUrl")?
        .to_owned();
    let arn = "arn:aws:sqs:us-east-1:000000000000:bench-events-sink";
    for i in 0..RULES {
        let name = format!("bench-rule-{i}");
        events_call(&mut conn, "PutRule", serde_json::json!({ "Name": name, "EventPattern": pattern(i).to_string() }))
            .await?;
        events_call(
            &mut conn,
            "PutTargets",
            serde_json::json!({ "Rule": name, "Targets": [{ "Id": "q", "Arn": arn }] }),
        )
        .await?;
    }
    eprintln!("events: {RULES} rules made; putting events for {secs} s");
    // The requests are made before the clock starts: the client only sends them.
    let bodies: std::sync::Arc<Vec<Bytes>> = std::sync::Arc::new(
        (0..2_000)
            .map(|r| {
                let entries: Vec<serde_json::Value> = (r * 10..r * 10 + 10).map(entry).collect();
                Bytes::from(serde_json::json!({ "Entries": entries }).to_string())
            })
            .collect(),
    );
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let mut tasks = Vec::new();
    for c in 0..connections {
        let bodies = bodies.clone();
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::open(addr).await?;
            let headers = [("content-type", "application/x-amz-json-1.1"), ("x-amz-target", "AWSEvents.PutEvents")];
            let mut r = c * 61;
            let mut accepted = 0u64;
            while Instant::now() < deadline {
                let body = bodies[r % bodies.len()].clone();
                r += 1;
                let (status, answer) = conn.call_with("POST", "/", &headers, body).await?;
                if status != 200 || !answer.starts_with(b"{\"FailedEntryCount\":0") {
                    bail!("PutEvents: {status} {}", String::from_utf8_lossy(&answer));
                }
                accepted += 10;
            }
            anyhow::Ok(accepted)
        }));
    }
    let rate = per_second(tasks).await?;
    let attrs = sqs_call(
        &mut conn,
        "GetQueueAttributes",
        serde_json::json!({ "QueueUrl": url, "AttributeNames": ["ApproximateNumberOfMessages"] }),
    )
    .await?;
    let delivered = attrs["Attributes"]["ApproximateNumberOfMessages"].as_str().unwrap_or("0").parse().unwrap_or(0);
    Ok((rate, delivered))
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// From a `cron(* * * * ? *)` rule's minutes to their events in its queue, ms; `ticks`
/// minutes (each a wait for the next minute).
async fn tick_latency(addr: SocketAddr, ticks: usize) -> Result<Vec<f64>> {
    let mut conn = Conn::open(addr).await?;
    let url = sqs_call(&mut conn, "CreateQueue", serde_json::json!({ "QueueName": "bench-ticks" })).await?["QueueUrl"]
        .as_str()
        .context("QueueUrl")?
        .to_owned();
    let arn = "arn:aws:sqs:us-east-1:000000000000:bench-ticks";
    events_call(
        &mut conn,
        "PutRule",
        serde_json::json!({ "Name": "bench-every-minute", "ScheduleExpression": "cron(* * * * ? *)" }),
    )
    .await?;
    events_call(
        &mut conn,
        "PutTargets",
        serde_json::json!({ "Rule": "bench-every-minute", "Targets": [{ "Id": "q", "Arn": arn }] }),
    )
    .await?;
    let mut ms = Vec::new();
    let started = Instant::now();
    while ms.len() < ticks {
        if started.elapsed() > Duration::from_secs(70 * ticks as u64 + 30) {
            bail!("the scheduled rule did not fire");
        }
        let got = sqs_call(
            &mut conn,
            "ReceiveMessage",
            serde_json::json!({ "QueueUrl": url, "MaxNumberOfMessages": 10, "WaitTimeSeconds": 20 }),
        )
        .await?;
        let arrived = now_ms();
        for m in got["Messages"].as_array().into_iter().flatten() {
            let event: serde_json::Value = serde_json::from_str(m["Body"].as_str().unwrap_or("{}"))?;
            let time = event["time"].as_str().context("the event's time")?;
            // `2026-01-02T03:04:00Z`: the minute, in ms since the epoch.
            let tick = super::iso_ms(time).context("the event's time")?;
            ms.push((arrived - tick) as f64);
            let receipt = serde_json::json!({ "QueueUrl": url, "ReceiptHandle": m["ReceiptHandle"] });
            sqs_call(&mut conn, "DeleteMessage", receipt).await?;
        }
    }
    Ok(sorted(ms))
}

pub(super) async fn rows(addr: SocketAddr, secs: f64, ticks: usize) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    eprintln!("events: PutEvents against {RULES} rules");
    let (rate, delivered) = put_events_rate(addr, CONNECTIONS, secs).await?;
    rows.push(Row {
        what: format!("EventBridge PutEvents (10 entries each, {CONNECTIONS} connections) matched against {RULES} rules with varied patterns"),
        median: format!("{rate:.0} events/s"),
        spread: format!("{delivered} deliveries to SQS made by the run's matches"),
        target: "≥ 20,000/s".into(),
        ratio: format!("{:.2}×", rate / 20_000.0),
    });
    eprintln!("events: a scheduled rule's minutes ({ticks})");
    let ms = tick_latency(addr, ticks).await?;
    let p50 = percentile(&ms, 0.5);
    rows.push(Row {
        what: "Scheduled rule `cron(* * * * ? *)`: from its minute to its event in the target queue".into(),
        median: format!("{p50:.0} ms"),
        spread: format!("max {:.0} ms over {} minutes", ms.last().copied().unwrap_or(0.0), ms.len()),
        target: "≤ 1,000 ms".into(),
        ratio: format!("{:.2}×", p50 / 1000.0),
    });
    Ok(rows)
}
