//! DynamoDB: PutItem and GetItem of 1 KB items over 8 connections, beside moto's server in
//! the same run; and a Query of 100 items from a table of a million.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use bytes::Bytes;
use serde_json::json;

use super::{create_mapping, per_second, percentile, reporting_function, sorted, Conn, Peak, Row};

/// Connections putting and getting at once.
const CONNECTIONS: usize = 8;

/// One DynamoDB call (json 1.0), its answer's bytes. The credential scope names the
/// service, which is how moto routes a request; Lamina in its open mode accepts any
/// signature. Bodies are text made by `format!`: the client (this debug-built task) does
/// as little as it can per call, so that it measures the server.
async fn ddb_raw(conn: &mut Conn, operation: &str, body: String) -> Result<Bytes> {
    let target = format!("DynamoDB_20120810.{operation}");
    let auth =
        "AWS4-HMAC-SHA256 Credential=test/20261206/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0";
    let headers =
        [("content-type", "application/x-amz-json-1.0"), ("x-amz-target", target.as_str()), ("authorization", auth)];
    let (status, resp) = conn.call_with("POST", "/", &headers, Bytes::from(body)).await?;
    if status != 200 {
        bail!("DynamoDB {operation}: {status} {}", String::from_utf8_lossy(&resp));
    }
    Ok(resp)
}

/// One DynamoDB call whose answer is read.
async fn ddb_call(conn: &mut Conn, operation: &str, body: serde_json::Value) -> Result<serde_json::Value> {
    Ok(serde_json::from_slice(&ddb_raw(conn, operation, body.to_string()).await?)?)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

async fn create_table(addr: SocketAddr, name: &str, range: bool) -> Result<()> {
    let mut conn = Conn::open(addr).await?;
    let mut attrs = vec![json!({ "AttributeName": "pk", "AttributeType": "S" })];
    let mut keys = vec![json!({ "AttributeName": "pk", "KeyType": "HASH" })];
    if range {
        attrs.push(json!({ "AttributeName": "sk", "AttributeType": "N" }));
        keys.push(json!({ "AttributeName": "sk", "KeyType": "RANGE" }));
    }
    ddb_call(
        &mut conn,
        "CreateTable",
        json!({ "TableName": name, "AttributeDefinitions": attrs, "KeySchema": keys, "BillingMode": "PAY_PER_REQUEST" }),
    )
    .await?;
    Ok(())
}

/// Operations per second: each connection puts a 1 KB item, then gets it back.
async fn put_get(addr: SocketAddr, table: &str, secs: f64, tag: &str) -> Result<f64> {
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let payload = "x".repeat(1000);
    let mut tasks = Vec::new();
    for c in 0..CONNECTIONS {
        let (table, payload, tag) = (table.to_owned(), payload.clone(), tag.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::open(addr).await?;
            let mut done = 0u64;
            let mut n = 0u64;
            while Instant::now() < deadline {
                let id = format!("{tag}-{c}-{}", n % 1000);
                let item = format!(r#"{{"pk":{{"S":"{id}"}},"data":{{"S":"{payload}"}},"n":{{"N":"{n}"}}}}"#);
                ddb_raw(&mut conn, "PutItem", format!(r#"{{"TableName":"{table}","Item":{item}}}"#)).await?;
                let key = format!(r#"{{"pk":{{"S":"{id}"}}}}"#);
                let got = ddb_raw(&mut conn, "GetItem", format!(r#"{{"TableName":"{table}","Key":{key}}}"#)).await?;
                if !contains(&got, br#""Item""#) {
                    bail!("GetItem found nothing");
                }
                done += 2;
                n += 1;
            }
            anyhow::Ok(done)
        }));
    }
    per_second(tasks).await
}

/// Fills a table with `items` items of 100 per partition, over 8 connections.
async fn fill(addr: SocketAddr, table: &str, items: usize) -> Result<()> {
    let per = items / CONNECTIONS;
    let mut tasks = Vec::new();
    for c in 0..CONNECTIONS {
        let table = table.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::open(addr).await?;
            let start = c * per;
            let mut i = start;
            while i < start + per {
                let batch: Vec<serde_json::Value> = (i..(i + 25).min(start + per))
                    .map(|n| {
                        json!({ "PutRequest": { "Item": {
                            "pk": { "S": format!("p{}", n / 100) }, "sk": { "N": (n % 100).to_string() },
                            "v": { "S": "value" }
                        }}})
                    })
                    .collect();
                i += batch.len();
                ddb_call(&mut conn, "BatchWriteItem", json!({ "RequestItems": { table.clone(): batch } })).await?;
            }
            anyhow::Ok(0u64)
        }));
    }
    per_second(tasks).await?;
    Ok(())
}

/// Latencies (µs) of Queries of one whole partition (100 items).
async fn query_latency(addr: SocketAddr, table: &str, partitions: usize, samples: usize) -> Result<Vec<f64>> {
    let mut conn = Conn::open(addr).await?;
    let mut out = Vec::with_capacity(samples);
    for s in 0..samples {
        let p = (s * 7919) % partitions;
        let body = format!(
            r#"{{"TableName":"{table}","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{{":p":{{"S":"p{p}"}}}}}}"#
        );
        let t = Instant::now();
        let got = ddb_raw(&mut conn, "Query", body).await?;
        out.push(t.elapsed().as_secs_f64() * 1e6);
        if !contains(&got, br#""Count":100,"#) {
            bail!("Query did not find 100 items");
        }
    }
    Ok(sorted(out))
}

/// Latencies (ms) from a PutItem to the invocation its stream record causes, through an
/// event source mapping; the first (a cold start) is not a sample.
async fn stream_latency(addr: SocketAddr, samples: usize) -> Result<Vec<f64>> {
    let mut conn = Conn::open(addr).await?;
    let mut rx = reporting_function(&mut conn, "stream-latency").await?;
    let table = ddb_call(
        &mut conn,
        "CreateTable",
        json!({ "TableName": "bench-stream", "AttributeDefinitions": [{ "AttributeName": "pk", "AttributeType": "S" }],
                "KeySchema": [{ "AttributeName": "pk", "KeyType": "HASH" }], "BillingMode": "PAY_PER_REQUEST",
                "StreamSpecification": { "StreamEnabled": true, "StreamViewType": "NEW_IMAGE" } }),
    )
    .await?;
    let arn = table["TableDescription"]["LatestStreamArn"].as_str().unwrap_or_default().to_owned();
    // From the stream's start (it is new, so empty): a mapping reading from LATEST misses
    // what is written before its poller has begun, as on AWS.
    let mapping = json!({ "EventSourceArn": arn, "FunctionName": "stream-latency", "BatchSize": 1,
                          "StartingPosition": "TRIM_HORIZON" });
    create_mapping(&mut conn, &mapping).await?;
    let mut ms = Vec::new();
    for i in 0..=samples {
        let sent = Instant::now();
        ddb_raw(&mut conn, "PutItem", format!(r#"{{"TableName":"bench-stream","Item":{{"pk":{{"S":"k{i}"}}}}}}"#))
            .await?;
        let arrived = tokio::time::timeout(Duration::from_secs(30), rx.recv()).await?;
        let Some(arrived) = arrived else { bail!("the listener closed") };
        if i > 0 {
            ms.push(arrived.duration_since(sent).as_secs_f64() * 1e3);
        }
    }
    Ok(sorted(ms))
}

/// The rows: Lamina's figures beside moto's (`Err` says why moto could not run).
pub(super) async fn rows(
    lamina: SocketAddr,
    peak: Peak,
    moto: std::result::Result<SocketAddr, String>,
    secs: f64,
    rounds: usize,
    items: usize,
) -> Result<Vec<Row>> {
    eprintln!("dynamodb: put and get");
    create_table(lamina, "bench-kv", false).await?;
    let mut rates = Vec::new();
    peak.reset();
    for r in 0..rounds {
        rates.push(put_get(lamina, "bench-kv", secs, &format!("l{r}")).await?);
    }
    let peak = peak.note();
    let rates = sorted(rates);
    let rate = percentile(&rates, 0.5);
    let (moto_text, ratio) = match moto {
        Ok(addr) => {
            eprintln!("dynamodb: put and get, moto");
            create_table(addr, "bench-kv", false).await?;
            let mut m = Vec::new();
            for r in 0..rounds {
                m.push(put_get(addr, "bench-kv", secs, &format!("m{r}")).await?);
            }
            let m = percentile(&sorted(m), 0.5);
            (format!("moto in the same run: {m:.0} ops/s"), format!("{:.1}× moto", rate / m))
        }
        Err(e) => (format!("moto could not run: {e}"), "—".into()),
    };
    let mut rows = vec![Row {
        what: format!("DynamoDB PutItem then GetItem, 1 KB items, {CONNECTIONS} connections"),
        median: format!("{rate:.0} ops/s"),
        spread: format!(
            "min {:.0}/s, max {:.0}/s over {rounds} runs of {secs:.0} s{peak}; {moto_text}",
            rates[0],
            rates[rates.len() - 1]
        ),
        target: "≥ 10,000 ops/s and ≥ 10× moto".into(),
        ratio,
    }];
    eprintln!("dynamodb: filling a table of {items} items");
    create_table(lamina, "bench-query", true).await?;
    let filled = Instant::now();
    fill(lamina, "bench-query", items).await?;
    let fill_rate = items as f64 / filled.elapsed().as_secs_f64();
    let lat = query_latency(lamina, "bench-query", items / 100, 500).await?;
    let p50 = percentile(&lat, 0.5);
    rows.push(Row {
        what: format!("DynamoDB Query of 100 items (one partition) from a table of {items} items"),
        median: format!("{:.2} ms", p50 / 1000.0),
        spread: format!(
            "p90 {:.2} ms, p99 {:.2} ms over {} queries; filled by BatchWriteItem at {fill_rate:.0} items/s",
            percentile(&lat, 0.9) / 1000.0,
            percentile(&lat, 0.99) / 1000.0,
            lat.len()
        ),
        target: "p50 < 2 ms".into(),
        ratio: format!("{:.1}× under", 2000.0 / p50),
    });
    eprintln!("dynamodb: stream to function");
    let lat = stream_latency(lamina, 50).await?;
    let p50 = percentile(&lat, 0.5);
    rows.push(Row {
        what: "DynamoDB PutItem to the function's invocation through its stream's event source mapping".into(),
        median: format!("{p50:.2} ms"),
        spread: format!("p90 {:.2} ms over {} writes (a warm Python function)", percentile(&lat, 0.9), lat.len()),
        target: "p50 < 10 ms".into(),
        ratio: format!("{:.1}× under", 10.0 / p50),
    });
    Ok(rows)
}
