//! SigV4: reading a signature and rebuilding the canonical request from a request made
//! of the input (method, path, query, header lines, body, one per `\n`-separated part).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(5, '\n');
    let (method, path, query) = (parts.next().unwrap_or(""), parts.next().unwrap_or("/"), parts.next());
    let header_block = parts.next().unwrap_or("");
    let body = parts.next().unwrap_or("").as_bytes();
    let headers: Vec<(String, String)> = header_block
        .split('\u{1f}')
        .filter_map(|h| h.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.to_owned()))
        .collect();
    let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let req = sigv4::Request { method, path, query, headers: &headers, body };
    let _ = sigv4::canonical_path(path);
    let _ = sigv4::canonical_query(query.unwrap_or(""), false);
    if let Ok(Some(sig)) = sigv4::parse(&req) {
        let _ = sigv4::canonical_request(&req, &sig, sigv4::UNSIGNED_PAYLOAD);
        let secret = |_: &str| Some(sigv4::Secret { secret_key: "secret".into(), session_token: None });
        let _ = sigv4::verify(&req, &sig, 1_440_938_160, secret);
    }
});
