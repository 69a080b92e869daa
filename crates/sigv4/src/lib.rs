//! AWS Signature Version 4, the server's half: reading a request's signature (from the
//! `Authorization` header, or a presigned URL's query string), rebuilding the canonical
//! request the client signed, and checking the signature and its time. Pure and
//! synchronous, with no HTTP types: the caller hands over the request's parts as they
//! arrived, and a way to find a secret by access key.
//!
//! The canonical form follows AWS's rules for every service but S3: the path is
//! normalised (dot segments and repeated slashes removed) and encoded once more, the query
//! is decoded, encoded strictly and sorted, header values are trimmed with inner runs of
//! spaces collapsed, and the payload is the body's SHA-256. Only S3 lets a request leave
//! its body unsigned (`UNSIGNED-PAYLOAD` in `X-Amz-Content-Sha256`); for every other
//! service the body's own hash is what the signature must cover, so a body cannot be
//! swapped under a signature that declared it unsigned.

use ring::{digest, hmac};

pub mod v2;

/// The one algorithm SigV4 has.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// How far a request's time may be from the server's, in seconds (15 minutes).
pub const SKEW_SECONDS: i64 = 15 * 60;
/// The longest a presigned URL may live, in seconds (7 days).
pub const MAX_EXPIRES: i64 = 7 * 24 * 3600;
/// The payload hash of a request that does not sign its body.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// A request as it arrived.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// `GET`, `POST`, …
    pub method: &'a str,
    /// The path as sent, still percent-encoded.
    pub path: &'a str,
    /// The query string as sent, without `?`.
    pub query: Option<&'a str>,
    /// The headers, names in lower case, in the order received (a name may repeat).
    pub headers: &'a [(&'a str, &'a str)],
    /// The body.
    pub body: &'a [u8],
}

impl Request<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| *k == name).map(|(_, v)| *v)
    }
}

/// Where a request carried its signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carrier {
    /// The `Authorization` header.
    Header,
    /// A presigned URL's `X-Amz-*` query parameters.
    Query,
}

/// A request's signature, read but not yet checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// Where it was.
    pub carrier: Carrier,
    /// The access key ID.
    pub access_key: String,
    /// The credential scope's date, `YYYYMMDD`.
    pub date: String,
    /// The credential scope's region.
    pub region: String,
    /// The credential scope's service.
    pub service: String,
    /// The signed headers' names, as listed.
    pub signed_headers: Vec<String>,
    /// The signature, hex.
    pub signature: String,
    /// The request's time, `YYYYMMDD'T'HHMMSS'Z'`.
    pub amz_date: String,
    /// A presigned URL's lifetime, seconds.
    pub expires: Option<i64>,
    /// `X-Amz-Security-Token`, for temporary credentials.
    pub security_token: Option<String>,
}

/// Why a request is refused. The messages are AWS's and say nothing a caller does not
/// already know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No signature at all.
    Missing,
    /// A signature with parts missing or malformed (`IncompleteSignature`).
    Incomplete(String),
    /// An access key (or session token) this server does not know.
    UnknownKey,
    /// Temporary credentials that have expired.
    ExpiredToken,
    /// The signature does not match the request.
    Mismatch(String),
    /// The request's time is outside the allowed window.
    Expired(String),
}

/// The message for a signature that does not match.
pub const MISMATCH: &str = "The request signature we calculated does not match the signature you provided. \
Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

/// What a server knows of an access key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Secret {
    /// The secret access key.
    pub secret_key: String,
    /// The session token temporary credentials must present; `None` for long-term keys,
    /// which must present none.
    pub session_token: Option<String>,
}

/// Reads a request's signature: `Ok(None)` if it carries none.
pub fn parse(req: &Request<'_>) -> Result<Option<Signature>, Refusal> {
    if let Some(auth) = req.header("authorization") {
        return parse_header(req, auth).map(Some);
    }
    let query = query_pairs(req.query.unwrap_or(""));
    if query.iter().any(|(k, _)| k == "X-Amz-Signature" || k == "X-Amz-Credential" || k == "X-Amz-Algorithm") {
        return parse_query(&query).map(Some);
    }
    Ok(None)
}

fn parse_header(req: &Request<'_>, auth: &str) -> Result<Signature, Refusal> {
    let (algorithm, rest) = auth.trim().split_once(' ').unwrap_or((auth.trim(), ""));
    if algorithm != ALGORITHM {
        return Err(Refusal::Incomplete(format!("Unsupported AWS 'algorithm': '{algorithm}'")));
    }
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',') {
        match part.trim().split_once('=') {
            Some(("Credential", v)) => credential = Some(v.trim()),
            Some(("SignedHeaders", v)) => signed_headers = Some(v.trim()),
            Some(("Signature", v)) => signature = Some(v.trim()),
            _ => {}
        }
    }
    let amz_date = req.header("x-amz-date");
    let mut missing = Vec::new();
    if credential.is_none() {
        missing.push("Authorization header requires 'Credential' parameter.");
    }
    if signature.is_none() {
        missing.push("Authorization header requires 'Signature' parameter.");
    }
    if signed_headers.is_none() {
        missing.push("Authorization header requires 'SignedHeaders' parameter.");
    }
    if amz_date.is_none() {
        missing.push("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
    }
    let (Some(credential), Some(signed_headers), Some(signature), Some(amz_date)) =
        (credential, signed_headers, signature, amz_date)
    else {
        return Err(Refusal::Incomplete(missing.join(" ")));
    };
    let (access_key, date, region, service) = scope(credential)?;
    Ok(Signature {
        carrier: Carrier::Header,
        access_key,
        date,
        region,
        service,
        signed_headers: signed_headers.split(';').map(str::to_owned).collect(),
        signature: signature.to_owned(),
        amz_date: amz_date.to_owned(),
        expires: None,
        security_token: req.header("x-amz-security-token").map(str::to_owned),
    })
}

fn parse_query(query: &[(String, String)]) -> Result<Signature, Refusal> {
    let get = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let required = ["X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-Date", "X-Amz-SignedHeaders"];
    if required.iter().any(|k| get(k).is_none()) {
        return Err(Refusal::Incomplete(
            "AWS query-string parameters must include 'X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Signature', \
             'X-Amz-Date', 'X-Amz-SignedHeaders'. Re-examine the query-string parameters."
                .into(),
        ));
    }
    let algorithm = get("X-Amz-Algorithm").unwrap_or_default();
    if algorithm != ALGORITHM {
        return Err(Refusal::Incomplete(format!("Unsupported AWS 'algorithm': '{algorithm}'")));
    }
    let expires = match get("X-Amz-Expires") {
        None => None,
        Some(e) => match e.parse::<i64>() {
            Ok(n) if (1..=MAX_EXPIRES).contains(&n) => Some(n),
            Ok(n) if n > MAX_EXPIRES => {
                return Err(Refusal::Incomplete(
                    "X-Amz-Expires must be less than a week (in seconds) that is 604800".into(),
                ))
            }
            _ => return Err(Refusal::Incomplete("X-Amz-Expires should be a number".into())),
        },
    };
    let (access_key, date, region, service) = scope(get("X-Amz-Credential").unwrap_or_default())?;
    Ok(Signature {
        carrier: Carrier::Query,
        access_key,
        date,
        region,
        service,
        signed_headers: get("X-Amz-SignedHeaders").unwrap_or_default().split(';').map(str::to_owned).collect(),
        signature: get("X-Amz-Signature").unwrap_or_default().to_owned(),
        amz_date: get("X-Amz-Date").unwrap_or_default().to_owned(),
        expires,
        security_token: get("X-Amz-Security-Token").map(str::to_owned),
    })
}

/// A credential's parts: access key, date, region, service.
fn scope(credential: &str) -> Result<(String, String, String, String), Refusal> {
    let parts: Vec<&str> = credential.split('/').collect();
    let [key, date, region, service, terminator] = parts[..] else {
        return Err(Refusal::Incomplete(format!(
            "Credential should be scoped to a valid region, service and date: '{}'",
            parts.get(1..).map(|p| p.join("/")).unwrap_or_default()
        )));
    };
    if terminator != "aws4_request" {
        return Err(Refusal::Incomplete(format!(
            "Credential should be scoped with a valid terminator: 'aws4_request', not '{terminator}'."
        )));
    }
    if key.is_empty() || region.is_empty() || service.is_empty() || date.len() != 8 {
        return Err(Refusal::Incomplete("Credential should be scoped to a valid region, service and date.".into()));
    }
    Ok((key.to_owned(), date.to_owned(), region.to_owned(), service.to_owned()))
}

/// Signing keys already derived, by secret, date, region and service: a key serves every
/// request of its day, so a server derives it once rather than per request.
#[derive(Debug, Default)]
pub struct SigningKeys(model::sync::Mutex<std::collections::HashMap<(String, String, String, String), hmac::Key>>);

impl SigningKeys {
    /// The signing key for these, derived on first use.
    pub fn get(&self, secret: &str, date: &str, region: &str, service: &str) -> hmac::Key {
        let mut keys = self.0.lock();
        let id = (secret.to_owned(), date.to_owned(), region.to_owned(), service.to_owned());
        if let Some(k) = keys.get(&id) {
            return k.clone();
        }
        // Yesterday's keys go as today's come.
        if keys.len() >= 4096 {
            keys.clear();
        }
        let key = signing_key(secret, date, region, service);
        keys.insert(id, key.clone());
        key
    }
}

/// Checks a signature read from `req`: its time against `now` (Unix seconds), its key
/// (and session token) through `lookup`, and the signature itself.
pub fn verify(
    req: &Request<'_>,
    sig: &Signature,
    now: i64,
    lookup: impl FnOnce(&str) -> Option<Secret>,
) -> Result<(), Refusal> {
    verify_with(req, sig, now, lookup, &SigningKeys::default())
}

/// [`verify`], taking signing keys from `keys`.
pub fn verify_with(
    req: &Request<'_>,
    sig: &Signature,
    now: i64,
    lookup: impl FnOnce(&str) -> Option<Secret>,
    keys: &SigningKeys,
) -> Result<(), Refusal> {
    let payload = payload_hash(req, &sig.service)?;
    verify_payload(req, sig, now, lookup, keys, &payload)
}

/// What an S3 request whose body has not been read yet (it streams to the service)
/// declares of it: the payload hash it signed.
#[derive(Debug, Clone)]
pub enum Declared {
    /// `UNSIGNED-PAYLOAD` (and every presigned URL): nothing to check.
    Unsigned,
    /// `STREAMING-…`: an `aws-chunked` body (its checksum, if any, in a trailer).
    Streaming(String),
    /// An `aws-chunked` body whose chunks are signed, each to be checked as it arrives.
    SignedChunks(Box<ChunkSigner>),
    /// The body's SHA-256, hex, which the body must turn out to have.
    Digest(String),
}

/// [`verify_with`] for an S3 request whose body streams on unread: the signature covers
/// the payload hash the request declares (`X-Amz-Content-Sha256`; a presigned URL's is
/// `UNSIGNED-PAYLOAD`), and what that declares is returned for the reader of the body to
/// hold it to.
pub fn verify_declared(
    req: &Request<'_>,
    sig: &Signature,
    now: i64,
    lookup: impl FnOnce(&str) -> Option<Secret>,
    keys: &SigningKeys,
) -> Result<Declared, Refusal> {
    let declared = match (sig.carrier, req.header("x-amz-content-sha256")) {
        (Carrier::Query, _) => Declared::Unsigned,
        (_, None) => {
            return Err(Refusal::Incomplete("Missing required header for this request: x-amz-content-sha256".into()))
        }
        (_, Some(UNSIGNED_PAYLOAD)) => Declared::Unsigned,
        (_, Some(s)) if s.starts_with("STREAMING-") => Declared::Streaming(s.to_owned()),
        (_, Some(h)) if h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Declared::Digest(h.to_ascii_lowercase())
        }
        (_, Some(_)) => {
            return Err(Refusal::Incomplete(
                "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-… or a SHA-256 digest".into(),
            ))
        }
    };
    let payload = match &declared {
        Declared::Unsigned | Declared::SignedChunks(_) => UNSIGNED_PAYLOAD,
        Declared::Streaming(s) | Declared::Digest(s) => s.as_str(),
    };
    verify_payload(req, sig, now, lookup, keys, payload)?;
    Ok(declared)
}

/// Checks the chunks of a `STREAMING-AWS4-HMAC-SHA256-PAYLOAD` body: each chunk's
/// signature chains from the one before it, the first from the request's own.
#[derive(Clone)]
pub struct ChunkSigner {
    key: hmac::Key,
    amz_date: String,
    scope: String,
    previous: String,
}

impl std::fmt::Debug for ChunkSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkSigner").field("scope", &self.scope).finish_non_exhaustive()
    }
}

/// The SHA-256 of nothing, hex.
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

impl ChunkSigner {
    /// The signer of a request whose signature `sig` was just verified with `secret`.
    pub fn new(sig: &Signature, secret: &Secret, keys: &SigningKeys) -> ChunkSigner {
        ChunkSigner {
            key: keys.get(&secret.secret_key, &sig.date, &sig.region, &sig.service),
            amz_date: sig.amz_date.clone(),
            scope: format!("{}/{}/{}/aws4_request", sig.date, sig.region, sig.service),
            previous: sig.signature.clone(),
        }
    }

    /// Whether `signature` is the next chunk's, whose data hashes to `data_sha256` (hex).
    pub fn verify(&mut self, signature: &str, data_sha256: &str) -> bool {
        let to_sign = format!(
            "AWS4-HMAC-SHA256-PAYLOAD\n{}\n{}\n{}\n{EMPTY_SHA256}\n{data_sha256}",
            self.amz_date, self.scope, self.previous
        );
        let expected = sign(&self.key, &to_sign);
        let ok = constant_time_eq(expected.as_bytes(), signature.as_bytes());
        self.previous = expected;
        ok
    }
}

fn verify_payload(
    req: &Request<'_>,
    sig: &Signature,
    now: i64,
    lookup: impl FnOnce(&str) -> Option<Secret>,
    keys: &SigningKeys,
    payload: &str,
) -> Result<(), Refusal> {
    let signed_at = parse_amz_date(&sig.amz_date).ok_or_else(|| {
        Refusal::Incomplete(format!("Date must be in ISO-8601 'basic format'. Got '{}'.", sig.amz_date))
    })?;
    check_time(sig, signed_at, now)?;
    let secret = lookup(&sig.access_key).ok_or(Refusal::UnknownKey)?;
    if secret.session_token.as_deref() != sig.security_token.as_deref() {
        return Err(Refusal::UnknownKey);
    }
    if !sig.amz_date.starts_with(&sig.date) {
        return Err(Refusal::Mismatch(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}', \
             from '{}'.",
            sig.date,
            &sig.amz_date[..8],
            sig.amz_date
        )));
    }
    if !sig.signed_headers.iter().any(|h| h == "host") {
        return Err(Refusal::Mismatch(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.".into(),
        ));
    }
    let canonical = canonical_request(req, sig, payload);
    let key = keys.get(&secret.secret_key, &sig.date, &sig.region, &sig.service);
    let expected = sign(&key, &string_to_sign(sig, &canonical));
    if constant_time_eq(expected.as_bytes(), sig.signature.as_bytes()) {
        Ok(())
    } else {
        Err(Refusal::Mismatch(MISMATCH.into()))
    }
}

fn check_time(sig: &Signature, signed_at: i64, now: i64) -> Result<(), Refusal> {
    if signed_at > now + SKEW_SECONDS {
        return Err(Refusal::Expired(format!(
            "Signature not yet current: {} is still later than {} ({} + 15 min.)",
            sig.amz_date,
            amz_date(now + SKEW_SECONDS),
            amz_date(now)
        )));
    }
    match sig.expires {
        // A presigned URL lives for its X-Amz-Expires.
        Some(expires) if now > signed_at + expires => Err(Refusal::Expired(format!(
            "Signature expired: {} is now earlier than {} ({} - {expires} sec.)",
            sig.amz_date,
            amz_date(now - expires),
            amz_date(now)
        ))),
        Some(_) => Ok(()),
        None if signed_at < now - SKEW_SECONDS => Err(Refusal::Expired(format!(
            "Signature expired: {} is now earlier than {} ({} - 15 min.)",
            sig.amz_date,
            amz_date(now - SKEW_SECONDS),
            amz_date(now)
        ))),
        None => Ok(()),
    }
}

/// The payload hash the client must have signed: for S3, `UNSIGNED-PAYLOAD` when the body
/// is declared unsigned; otherwise the body's SHA-256 (presigned URLs included), which a
/// declared `X-Amz-Content-Sha256` must equal.
fn payload_hash(req: &Request<'_>, service: &str) -> Result<String, Refusal> {
    let declared = req.header("x-amz-content-sha256");
    if declared == Some(UNSIGNED_PAYLOAD) {
        if service == "s3" {
            return Ok(UNSIGNED_PAYLOAD.into());
        }
        // Not S3's: the signature must cover the body as it arrived.
        return Ok(hex(digest::digest(&digest::SHA256, req.body).as_ref()));
    }
    let actual = hex(digest::digest(&digest::SHA256, req.body).as_ref());
    match declared {
        Some(d) if !d.eq_ignore_ascii_case(&actual) => Err(Refusal::Mismatch(
            "The provided 'x-amz-content-sha256' header does not match what was computed.".into(),
        )),
        _ => Ok(actual),
    }
}

/// The canonical request: method, path, query, headers, signed header names, payload.
pub fn canonical_request(req: &Request<'_>, sig: &Signature, payload_hash: &str) -> String {
    let mut out = String::with_capacity(256);
    out.push_str(req.method);
    out.push('\n');
    // S3 signs its path as sent: keys are opaque, so nothing is normalised or re-encoded.
    match sig.service.as_str() {
        "s3" => out.push_str(req.path),
        _ => out.push_str(&canonical_path(req.path)),
    }
    out.push('\n');
    out.push_str(&canonical_query(req.query.unwrap_or(""), sig.carrier == Carrier::Query));
    out.push('\n');
    for name in &sig.signed_headers {
        out.push_str(name);
        out.push(':');
        let mut first = true;
        for (_, v) in req.headers.iter().filter(|(k, _)| k == name) {
            if !first {
                out.push(',');
            }
            first = false;
            out.push_str(&collapse_spaces(v));
        }
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&sig.signed_headers.join(";"));
    out.push('\n');
    out.push_str(payload_hash);
    out
}

/// The path, dot segments and repeated slashes removed, encoded once more.
pub fn canonical_path(path: &str) -> String {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty() && *s != ".").collect();
    let mut kept: Vec<&str> = Vec::with_capacity(segments.len());
    for s in segments {
        if s == ".." {
            kept.pop();
        } else {
            kept.push(s);
        }
    }
    let mut normal = String::from("/");
    normal.push_str(&kept.join("/"));
    if path.ends_with('/') && !kept.is_empty() {
        normal.push('/');
    }
    encode(&normal, true)
}

/// The query, each name and value decoded then strictly encoded, sorted; a presigned
/// URL's own signature left out.
pub fn canonical_query(query: &str, presigned: bool) -> String {
    let mut pairs: Vec<(String, String)> = query_pairs(query)
        .into_iter()
        .filter(|(k, _)| !(presigned && k == "X-Amz-Signature"))
        .map(|(k, v)| (encode(&k, false), encode(&v, false)))
        .collect();
    pairs.sort();
    pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
}

/// The query's pairs, percent-decoded (a `+` stays a `+`).
fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex_at = |j: usize| bytes.get(j).and_then(|b| (*b as char).to_digit(16));
        match (bytes[i], hex_at(i + 1), hex_at(i + 2)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// RFC 3986 encoding: all but the unreserved characters (and `/`, if `keep_slash`).
fn encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') || (keep_slash && b == b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn collapse_spaces(v: &str) -> String {
    v.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Signs a request as a client does, at `now` (Unix seconds), over its `host` and
/// `x-amz-date`: the headers to add (`x-amz-date`, `authorization`).
pub fn sign_request(
    req: &Request<'_>,
    access_key: &str,
    secret: &str,
    region: &str,
    service: &str,
    now: i64,
) -> Vec<(&'static str, String)> {
    let amz = amz_date(now);
    let sig = Signature {
        carrier: Carrier::Header,
        access_key: access_key.into(),
        date: amz[..8].into(),
        region: region.into(),
        service: service.into(),
        signed_headers: vec!["host".into(), "x-amz-date".into()],
        signature: String::new(),
        amz_date: amz.clone(),
        expires: None,
        security_token: None,
    };
    let mut headers: Vec<(&str, &str)> = req.headers.iter().filter(|(k, _)| *k != "x-amz-date").copied().collect();
    headers.push(("x-amz-date", &amz));
    let payload = hex(digest::digest(&digest::SHA256, req.body).as_ref());
    let canonical = canonical_request(&Request { headers: &headers, ..*req }, &sig, &payload);
    let signature = sign(&signing_key(secret, &sig.date, region, service), &string_to_sign(&sig, &canonical));
    let authorization = format!(
        "{ALGORITHM} Credential={access_key}/{}/{region}/{service}/aws4_request, SignedHeaders=host;x-amz-date, \
         Signature={signature}",
        sig.date
    );
    vec![("x-amz-date", amz), ("authorization", authorization)]
}

/// The string a signature signs.
pub fn string_to_sign(sig: &Signature, canonical_request: &str) -> String {
    let hashed = hex(digest::digest(&digest::SHA256, canonical_request.as_bytes()).as_ref());
    format!("{ALGORITHM}\n{}\n{}/{}/{}/aws4_request\n{hashed}", sig.amz_date, sig.date, sig.region, sig.service)
}

/// The signing key for a secret, date, region and service.
pub fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> hmac::Key {
    let step = |key: &[u8], data: &str| hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data.as_bytes());
    let k_date = step(format!("AWS4{secret}").as_bytes(), date);
    let k_region = step(k_date.as_ref(), region);
    let k_service = step(k_region.as_ref(), service);
    let k_signing = step(k_service.as_ref(), "aws4_request");
    hmac::Key::new(hmac::HMAC_SHA256, k_signing.as_ref())
}

/// A signature, hex.
pub fn sign(key: &hmac::Key, string_to_sign: &str) -> String {
    hex(hmac::sign(key, string_to_sign.as_bytes()).as_ref())
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 15) as usize] as char);
    }
    out
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `YYYYMMDD'T'HHMMSS'Z'` as Unix seconds.
pub fn parse_amz_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (hh, mm, ss) = (num(9..11)?, num(11..13)?, num(13..15)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    Some(days_from_civil(y, m, d) * 86_400 + hh * 3600 + mm * 60 + ss)
}

/// Unix seconds as `YYYYMMDD'T'HHMMSS'Z'`.
pub fn amz_date(t: i64) -> String {
    let (days, secs) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z", secs / 3600, secs % 3600 / 60, secs % 60)
}

// Howard Hinnant's algorithms for the proleptic Gregorian calendar.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests;
