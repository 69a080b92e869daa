//! S3: PUT and GET of 1 KiB objects against moto's server (the peer users run for it),
//! sequential and over 8 connections, in the same run; a 100 MiB GET from the page cache;
//! and the server's memory while a 1 GiB multipart upload streams in.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use bytes::Bytes;

use super::{per_second, percentile, sorted, start_moto, Conn, Row, Server, Settings};

/// A SigV4 header scoped to S3: how moto and Lamina (in its open mode, path style) tell
/// S3's requests apart.
const AUTH: &str =
    "AWS4-HMAC-SHA256 Credential=test/20261206/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0";

async fn s3_call(conn: &mut Conn, method: &str, path: &str, body: Bytes) -> Result<Bytes> {
    let headers = [("authorization", AUTH), ("x-amz-content-sha256", "UNSIGNED-PAYLOAD")];
    let (status, resp) = conn.call_with(method, path, &headers, body).await?;
    if !(200..300).contains(&status) {
        bail!("S3 {method} {path}: {status} {}", String::from_utf8_lossy(&resp));
    }
    Ok(resp)
}

/// Requests per second of `method` on 1 KiB objects, over `connections` connections for
/// `secs` seconds (each connection its own keys).
async fn rate(addr: SocketAddr, bucket: &str, method: &'static str, connections: usize, secs: f64) -> Result<f64> {
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let body = Bytes::from(vec![b'x'; 1024]);
    let mut tasks = Vec::new();
    for c in 0..connections {
        let (bucket, body) = (bucket.to_owned(), body.clone());
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::open(addr).await?;
            let mut done = 0u64;
            while Instant::now() < deadline {
                let path = format!("/{bucket}/c{c}/k{}", done % 100);
                let sent = if method == "PUT" { body.clone() } else { Bytes::new() };
                s3_call(&mut conn, method, &path, sent).await?;
                done += 1;
            }
            anyhow::Ok(done)
        }));
    }
    per_second(tasks).await
}

/// PUT then GET rates, each over `rounds` runs, sorted: `[put×1, get×1, put×8, get×8]`.
async fn rates(addr: SocketAddr, tag: &str, settings: &Settings) -> Result<[Vec<f64>; 4]> {
    let bucket = format!("bench-{tag}");
    let mut conn = Conn::open(addr).await?;
    s3_call(&mut conn, "PUT", &format!("/{bucket}"), Bytes::new()).await?;
    // Every key a GET may ask for exists before any is timed, however few PUTs a slow
    // server finished in its timed seconds.
    let body = Bytes::from(vec![b'x'; 1024]);
    for c in 0..8 {
        for k in 0..100 {
            s3_call(&mut conn, "PUT", &format!("/{bucket}/c{c}/k{k}"), body.clone()).await?;
        }
    }
    let mut out: [Vec<f64>; 4] = Default::default();
    for _ in 0..settings.throughput_rounds {
        for (i, (method, connections)) in [("PUT", 1), ("GET", 1), ("PUT", 8), ("GET", 8)].into_iter().enumerate() {
            eprintln!("s3 {tag}: {method} ×{connections}");
            out[i].push(rate(addr, &bucket, method, connections, settings.throughput_secs).await?);
        }
    }
    Ok(out.map(sorted))
}

/// MB/s of a 100 MiB GET, the object read once before (so it is in the page cache), its
/// bytes counted as they stream in (as a client writing them on does), never gathered.
async fn big_get(addr: SocketAddr) -> Result<Vec<f64>> {
    let mut conn = Conn::open(addr).await?;
    s3_call(&mut conn, "PUT", "/bench-big", Bytes::new()).await?;
    let size = 100 * 1024 * 1024;
    s3_call(&mut conn, "PUT", "/bench-big/object", Bytes::from(vec![7u8; size])).await?;
    let mut speeds = Vec::new();
    let headers = [("authorization", AUTH), ("x-amz-content-sha256", "UNSIGNED-PAYLOAD")];
    for _ in 0..4 {
        let start = Instant::now();
        let (status, got) = conn.call_counted("GET", "/bench-big/object", &headers).await?;
        let secs = start.elapsed().as_secs_f64();
        if status != 200 || got != size as u64 {
            bail!("the 100 MiB GET answered {status} with {got} bytes");
        }
        speeds.push(size as f64 / secs / 1e6);
    }
    speeds.remove(0);
    Ok(sorted(speeds))
}

/// The server's largest RSS (KiB) while a 1 GiB multipart upload (128 parts of 8 MiB)
/// streams in and completes, and how long it took.
async fn big_upload(server: &Server) -> Result<(u64, u64, f64)> {
    let mut conn = Conn::open(server.addr).await?;
    s3_call(&mut conn, "PUT", "/bench-multipart", Bytes::new()).await?;
    let created = s3_call(&mut conn, "POST", "/bench-multipart/huge?uploads", Bytes::new()).await?;
    let text = String::from_utf8_lossy(&created);
    let id = text.split("<UploadId>").nth(1).and_then(|t| t.split("</UploadId>").next()).context("no UploadId")?;
    let part = Bytes::from(vec![3u8; 8 * 1024 * 1024]);
    let before = server.rss_kib();
    let mut peak = before;
    let start = Instant::now();
    let mut listed = String::new();
    for n in 1..=128 {
        let headers = [("authorization", AUTH), ("x-amz-content-sha256", "UNSIGNED-PAYLOAD")];
        let path = format!("/bench-multipart/huge?partNumber={n}&uploadId={id}");
        let (status, etag) = conn.call_etag("PUT", &path, &headers, part.clone()).await?;
        if status != 200 {
            bail!("UploadPart {n}: {status}");
        }
        listed.push_str(&format!("<Part><PartNumber>{n}</PartNumber><ETag>{etag}</ETag></Part>"));
        peak = peak.max(server.rss_kib());
    }
    let body = format!("<CompleteMultipartUpload>{listed}</CompleteMultipartUpload>");
    s3_call(&mut conn, "POST", &format!("/bench-multipart/huge?uploadId={id}"), Bytes::from(body)).await?;
    peak = peak.max(server.rss_kib());
    Ok((before, peak, start.elapsed().as_secs_f64()))
}

/// S3's rows: Lamina on `server`, moto started beside it.
pub(super) async fn rows(server: &Server, root: &std::path::Path, settings: &Settings) -> Result<Vec<Row>> {
    let lamina = rates(server.addr, "lamina", settings).await?;
    let moto = match start_moto(root) {
        Ok((mut child, addr)) => {
            let r = rates(addr, "moto", settings).await;
            let _ = child.kill();
            let _ = child.wait();
            r.map_err(|e| e.to_string())
        }
        Err(e) => Err(e.to_string()),
    };
    let mut rows = Vec::new();
    for (i, what) in [
        "S3 PutObject of 1 KiB, one keep-alive connection",
        "S3 GetObject of 1 KiB, one keep-alive connection",
        "S3 PutObject of 1 KiB, 8 keep-alive connections",
        "S3 GetObject of 1 KiB, 8 keep-alive connections",
    ]
    .into_iter()
    .enumerate()
    {
        let ours = percentile(&lamina[i], 0.5);
        let (theirs, ratio) = match &moto {
            Ok(m) => {
                let theirs = percentile(&m[i], 0.5);
                (format!("moto 5.2.5 in the same run: {theirs:.0}/s"), format!("{:.1}× moto", ours / theirs))
            }
            Err(e) => (format!("moto could not run: {e}"), "—".into()),
        };
        rows.push(Row {
            what: what.into(),
            median: format!("{ours:.0}/s"),
            spread: format!(
                "min {:.0}/s, max {:.0}/s over {} runs; {theirs}",
                lamina[i][0],
                lamina[i][lamina[i].len() - 1],
                lamina[i].len()
            ),
            target: "≥ 5× moto".into(),
            ratio,
        });
    }
    eprintln!("s3: 100 MiB GET");
    let speeds = big_get(server.addr).await?;
    let speed = percentile(&speeds, 0.5);
    rows.push(Row {
        what: "S3 GetObject of 100 MiB from the page cache, one connection".into(),
        median: format!("{speed:.0} MB/s"),
        spread: format!("min {:.0}, max {:.0} MB/s over {} reads", speeds[0], speeds[speeds.len() - 1], speeds.len()),
        target: "≥ 1 GB/s".into(),
        ratio: format!("{:.2}× target", speed / 1000.0),
    });
    eprintln!("s3: 1 GiB multipart upload");
    let (before, peak, secs) = big_upload(server).await?;
    rows.push(Row {
        what: "S3 multipart upload of 1 GiB (128 parts of 8 MiB), one connection: the server's RSS".into(),
        median: format!("{} MiB peak", peak / 1024),
        spread: format!("{} MiB before; uploaded and completed in {secs:.1} s", before / 1024),
        target: "< 64 MiB".into(),
        ratio: format!("{:.2}× target", peak as f64 / 1024.0 / 64.0),
    });
    Ok(rows)
}
