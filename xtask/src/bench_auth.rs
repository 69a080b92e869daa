//! What authenticated mode costs: the same warm invoke, signed (SigV4) to a server in
//! `sigv4` mode and unsigned to one in open mode, alternately so both see the same
//! machine. Each request is signed once, before timing: the figure is the server's
//! verification, not the client's signing.

use std::net::SocketAddr;
use std::time::Instant;

use anyhow::{bail, Result};
use base64::Engine;
use bytes::Bytes;

use super::{percentile, sorted, Conn, Kind, Row};

/// The key the authenticated server is configured with.
pub(super) const KEY: (&str, &str, &str) = ("AKIABENCHEXAMPLE", "bench-secret", "000000000000");

/// The `[auth]` section for the authenticated server.
pub(super) fn config() -> String {
    format!(
        "[functions]\nidle_timeout_secs = 600\n[auth]\nmode = \"sigv4\"\n[[auth.keys]]\naccess_key_id = \"{}\"\n\
         secret_access_key = \"{}\"\naccount = \"{}\"\n",
        KEY.0, KEY.1, KEY.2
    )
}

/// A request's headers, signed now for `conn`'s host.
fn signed(conn: &Conn, method: &str, path: &str, body: &[u8]) -> Vec<(&'static str, String)> {
    let (path, query) = path.split_once('?').map_or((path, None), |(p, q)| (p, Some(q)));
    let host = [("host", conn.host.as_str())];
    let req = sigv4::Request { method, path, query, headers: &host, body };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    let mut headers = sigv4::sign_request(&req, KEY.0, KEY.1, "us-east-1", "lambda", now);
    headers.push(("content-type", "application/json".into()));
    headers
}

async fn call(conn: &mut Conn, sign: bool, method: &str, path: &str, body: Bytes) -> Result<(u16, Bytes)> {
    let headers =
        if sign { signed(conn, method, path, &body) } else { vec![("content-type", "application/json".into())] };
    let refs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    conn.call_with(method, path, &refs, body).await
}

async fn create(conn: &mut Conn, sign: bool, kind: &Kind) -> Result<()> {
    let body = serde_json::json!({
        "FunctionName": "auth-bench",
        "Runtime": kind.runtime,
        "Handler": kind.handler,
        "Role": "arn:aws:iam::000000000000:role/bench",
        "MemorySize": 256,
        "Code": { "ZipFile": base64::engine::general_purpose::STANDARD.encode(&kind.zip) },
    });
    let (status, resp) = call(conn, sign, "POST", "/2015-03-31/functions", Bytes::from(body.to_string())).await?;
    if status != 201 {
        bail!("create: {status} {}", String::from_utf8_lossy(&resp));
    }
    Ok(())
}

/// `n` warm invokes to each server, alternating one by one so both see the same moment of
/// the machine: their latencies, µs (open, signed). Each request is signed once, then
/// sent `n` times.
async fn invokes(plain: &mut Conn, authed: &mut Conn, n: usize) -> Result<(Vec<f64>, Vec<f64>)> {
    let path = "/2015-03-31/functions/auth-bench/invocations";
    let unsigned = vec![("content-type", "application/json".to_owned())];
    let signed = signed(authed, "POST", path, b"{}");
    let (mut open_us, mut auth_us) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for _ in 0..n {
        for (conn, headers, out) in [(&mut *plain, &unsigned, &mut open_us), (&mut *authed, &signed, &mut auth_us)] {
            let refs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let t = Instant::now();
            let (status, body) = conn.call_with("POST", path, &refs, Bytes::from_static(b"{}")).await?;
            if status != 200 {
                bail!("invoke: {status} {}", String::from_utf8_lossy(&body));
            }
            out.push(t.elapsed().as_secs_f64() * 1e6);
        }
    }
    Ok((open_us, auth_us))
}

/// The row: signed against unsigned warm invokes, as a ratio.
pub(super) async fn rows(open: SocketAddr, secured: SocketAddr, kind: &Kind, per_round: usize) -> Result<Vec<Row>> {
    let mut plain = Conn::open(open).await?;
    let mut authed = Conn::open(secured).await?;
    create(&mut plain, false, kind).await?;
    create(&mut authed, true, kind).await?;
    // Unsigned, the authenticated server refuses: the figure below is of verified requests.
    let (status, _) = call(&mut authed, false, "GET", "/2015-03-31/functions/", Bytes::new()).await?;
    if status != 403 {
        bail!("an unsigned request to the sigv4 server answered {status}");
    }
    invokes(&mut plain, &mut authed, 200).await?;
    let (open_us, auth_us) = invokes(&mut plain, &mut authed, per_round * 5).await?;
    let (open_us, auth_us) = (sorted(open_us), sorted(auth_us));
    let (o, a) = (percentile(&open_us, 0.5), percentile(&auth_us, 0.5));
    Ok(vec![Row {
        what: format!(
            "SigV4 verification: warm invoke ({}), signed to a sigv4 server against unsigned to an open one",
            kind.label
        ),
        median: format!("{:+.0} µs", a - o),
        spread: format!(
            "signed {a:.0} µs, unsigned {o:.0} µs (medians of {} each, sent alternately); p99 {:.0} against {:.0} µs",
            auth_us.len(),
            percentile(&auth_us, 0.99),
            percentile(&open_us, 0.99)
        ),
        target: "< 5% overhead".into(),
        ratio: format!("{:.3}× unsigned", a / o),
    }])
}
