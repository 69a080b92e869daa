//! Authenticated mode: every AWS API request must carry a valid Signature Version 4 (in
//! its `Authorization` header or a presigned URL) by a key this server knows, and acts in
//! that key's account. Refusals have AWS's codes in each protocol's shape, and say no more
//! than AWS does. Functions get temporary keys of their own account; IAM users' access
//! keys act as their users.

use model::sync::RwLock;
use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use sigv4::Refusal;

use crate::ApiState;

/// The most this layer reads of a body to hash it: the largest body the API at `path`
/// takes — a function's or layer's code, base64, in JSON; else an SQS batch,
/// form-encoded. Each API applies its own limit after.
fn body_limit(path: &str) -> usize {
    if path.starts_with("/2015-03-31/functions") || path.starts_with("/2018-10-31/layers") {
        model::limits::CODE_REQUEST_MAX_BYTES
    } else {
        3 * crate::sqs_api::MAX_BODY
    }
}

/// An access key this server accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKey {
    /// The access key ID.
    pub id: String,
    /// Its secret.
    pub secret: String,
    /// The account it acts in.
    pub account: String,
}

struct Known {
    secret: sigv4::Secret,
    account: String,
    /// Who the key is: `arn:aws:iam::{account}:root`, an IAM user, or an assumed role's
    /// session.
    principal: String,
    /// When temporary credentials stop working (Unix seconds).
    expires_at: Option<i64>,
}

/// Temporary credentials (STS's `Credentials`).
#[derive(Debug, Clone)]
pub struct Session {
    /// `AccessKeyId`.
    pub access_key: String,
    /// `SecretAccessKey`.
    pub secret: String,
    /// `SessionToken`.
    pub token: String,
    /// When they expire (Unix seconds).
    pub expires_at: i64,
}

/// The keys of authenticated mode: configured ones, and the temporary ones issued to
/// functions.
pub struct Authenticator {
    keys: RwLock<HashMap<String, Arc<Known>>>,
    /// Signing keys derived from the secrets above.
    signing: sigv4::SigningKeys,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator").finish_non_exhaustive()
    }
}

/// Who a verified request is.
#[derive(Debug, Clone)]
pub(crate) struct Authenticated {
    pub account: String,
    pub region: String,
    /// `arn:aws:iam::{account}:root`, an IAM user, or an assumed role's session.
    pub principal: String,
}

/// A request's headers as a signature check reads them.
fn header_pairs(parts: &axum::http::request::Parts) -> Vec<(&str, &str)> {
    parts.headers.iter().filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?))).collect()
}

/// A request as a signature check reads it: its line, `headers` and `body`.
fn signed_request<'a>(
    parts: &'a axum::http::request::Parts,
    headers: &'a [(&'a str, &'a str)],
    body: &'a [u8],
) -> sigv4::Request<'a> {
    sigv4::Request { method: parts.method.as_str(), path: parts.uri.path(), query: parts.uri.query(), headers, body }
}

pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// A fresh (access key ID, secret, session token), random.
fn new_credentials() -> (String, String, String) {
    let random = || uuid::Uuid::new_v4().simple().to_string();
    let id = format!("ASIA{}", random()[..16].to_ascii_uppercase());
    (id, format!("{}{}", random(), &random()[..8]), format!("{}{}", random(), random()))
}

impl Authenticator {
    /// An authenticator accepting `keys`.
    pub fn new(keys: Vec<AccessKey>) -> Authenticator {
        let keys = keys
            .into_iter()
            .map(|k| {
                let known = Known {
                    secret: sigv4::Secret { secret_key: k.secret, session_token: None },
                    principal: format!("arn:aws:iam::{}:root", k.account),
                    account: k.account,
                    expires_at: None,
                };
                (k.id, Arc::new(known))
            })
            .collect();
        Authenticator { keys: RwLock::new(keys), signing: sigv4::SigningKeys::default() }
    }

    /// Fresh temporary credentials acting in `account` as `principal` (an assumed role's
    /// session) — (access key id, secret, session token) — for one function environment,
    /// as Lambda gives each environment its own: they work until [`Authenticator::revoke`]
    /// (when the environment stops).
    pub fn session_for(&self, account: &str, principal: &str) -> (String, String, String) {
        let issued = new_credentials();
        let known = Known {
            secret: sigv4::Secret { secret_key: issued.1.clone(), session_token: Some(issued.2.clone()) },
            account: account.to_owned(),
            principal: principal.to_owned(),
            expires_at: None,
        };
        self.keys.write().insert(issued.0.clone(), Arc::new(known));
        issued
    }

    /// Accepts an IAM user's access key (made by CreateAccessKey, or found at startup):
    /// requests it signs act as that user.
    pub fn accept_user_key(&self, key: &iam::KeyHolder) {
        let known = Known {
            secret: sigv4::Secret { secret_key: key.secret.clone(), session_token: None },
            account: key.account.clone(),
            principal: key.arn.clone(),
            expires_at: None,
        };
        self.keys.write().insert(key.id.clone(), Arc::new(known));
    }

    /// Stops accepting an IAM user's access key (deleted, or made inactive).
    pub fn forget_user_key(&self, id: &str) {
        let mut keys = self.keys.write();
        if keys.get(id).is_some_and(|k| k.principal.contains(":user/")) {
            keys.remove(id);
        }
    }

    /// Forgets temporary credentials this authenticator issued (an environment's, as it
    /// stops); configured keys stay.
    pub fn revoke(&self, access_key: &str) {
        let mut keys = self.keys.write();
        if keys.get(access_key).is_some_and(|k| k.secret.session_token.is_some()) {
            keys.remove(access_key);
        }
    }

    /// New temporary credentials acting in `account` as `principal` (an assumed role's
    /// session ARN) for `seconds`: what STS's AssumeRole hands out.
    pub fn assume(&self, account: &str, principal: &str, seconds: i64) -> Session {
        let (access_key, secret, token) = new_credentials();
        let now = unix_now();
        let expires_at = now + seconds;
        let known = Known {
            secret: sigv4::Secret { secret_key: secret.clone(), session_token: Some(token.clone()) },
            account: account.to_owned(),
            principal: principal.to_owned(),
            expires_at: Some(expires_at),
        };
        let mut keys = self.keys.write();
        // Expired sessions are forgotten as new ones are made.
        keys.retain(|_, k| k.expires_at.is_none_or(|e| e > now));
        keys.insert(access_key.clone(), Arc::new(known));
        Session { access_key, secret, token, expires_at }
    }

    /// The account and principal of a key this authenticator issued or was given, while
    /// it is valid (open mode reads who a function's session is this way, unverified).
    pub(crate) fn holder(&self, access_key: &str) -> Option<(String, String)> {
        let keys = self.keys.read();
        let k = keys.get(access_key)?;
        k.expires_at.is_none_or(|e| e > unix_now()).then(|| (k.account.clone(), k.principal.clone()))
    }

    /// Verifies an S3 request's signature without reading its body, which streams on:
    /// who it is and what it declares of its body; `None` if it is not signed at all (an
    /// anonymous request, which only public policies and grants let in).
    /// `resource` is the request's path-style path, which a SigV2 signature covers.
    pub(crate) fn check_s3(
        &self,
        parts: &axum::http::request::Parts,
        resource: &str,
    ) -> Result<Option<(Authenticated, sigv4::Declared)>, Refusal> {
        let headers = header_pairs(parts);
        let req = signed_request(parts, &headers, &[]);
        let now = unix_now();
        let Some(sig) = sigv4::parse(&req)? else {
            let Some(v2) = sigv4::v2::parse(&req) else { return Ok(None) };
            let known = self.valid_key(&v2.access_key, now)?;
            sigv4::v2::verify(&req, &v2, resource, now, |_| known.as_ref().map(|k| k.secret.clone()))?;
            let known = known.ok_or(Refusal::UnknownKey)?;
            let who = Authenticated {
                account: known.account.clone(),
                region: String::new(),
                principal: known.principal.clone(),
            };
            return Ok(Some((who, sigv4::Declared::Unsigned)));
        };
        if sig.service != "s3" {
            return Err(Refusal::Incomplete("Credential should be scoped to correct service: 's3'. ".into()));
        }
        let known = self.valid_key(&sig.access_key, now)?;
        let declared =
            sigv4::verify_declared(&req, &sig, now, |_| known.as_ref().map(|k| k.secret.clone()), &self.signing)?;
        let known = known.ok_or(Refusal::UnknownKey)?;
        // Signed chunks are checked as they arrive, each against this request's signature.
        let declared = match declared {
            sigv4::Declared::Streaming(s) if s.starts_with("STREAMING-AWS4-HMAC-SHA256-PAYLOAD") => {
                sigv4::Declared::SignedChunks(Box::new(sigv4::ChunkSigner::new(&sig, &known.secret, &self.signing)))
            }
            other => other,
        };
        let who =
            Authenticated { account: known.account.clone(), region: sig.region, principal: known.principal.clone() };
        Ok(Some((who, declared)))
    }

    /// The key `id`, if known, unless it has expired.
    fn valid_key(&self, id: &str, now: i64) -> Result<Option<Arc<Known>>, Refusal> {
        let known = self.keys.read().get(id).cloned();
        if known.as_ref().is_some_and(|k| k.expires_at.is_some_and(|e| e <= now)) {
            return Err(Refusal::ExpiredToken);
        }
        Ok(known)
    }

    /// Verifies a request's signature for the service whose signing name is `service`
    /// (its credential must be scoped to it, when one is named): who it is, or why not.
    pub(crate) fn check(
        &self,
        parts: &axum::http::request::Parts,
        body: &[u8],
        service: Option<&str>,
    ) -> Result<Authenticated, Refusal> {
        let headers = header_pairs(parts);
        let req = signed_request(parts, &headers, body);
        let sig = sigv4::parse(&req)?.ok_or(Refusal::Missing)?;
        if let Some(service) = service.filter(|s| *s != sig.service) {
            return Err(Refusal::Incomplete(format!("Credential should be scoped to correct service: '{service}'. ")));
        }
        let now = unix_now();
        let known = self.valid_key(&sig.access_key, now)?;
        sigv4::verify_with(&req, &sig, now, |_| known.as_ref().map(|k| k.secret.clone()), &self.signing)?;
        let known = known.ok_or(Refusal::UnknownKey)?;
        Ok(Authenticated { account: known.account.clone(), region: sig.region, principal: known.principal.clone() })
    }
}

/// Lets through only requests signed by a known key (in authenticated mode); each goes on
/// with its account.
pub(crate) async fn authenticate(State(s): State<ApiState>, req: Request, next: Next) -> Response {
    let Some(auth) = s.callers.auth.as_ref() else { return next.run(req).await };
    // Lamina's own operational endpoints are not AWS APIs; archive links carry their own
    // signature, as presigned S3 URLs do.
    let path = req.uri().path();
    if ["/_lamina/metrics", "/_lamina/clock"].contains(&path)
        || path.starts_with("/_lamina/code/")
        || path.starts_with("/_lamina/layer-code/")
        || path.starts_with("/_lamina/sns/")
    {
        return next.run(req).await;
    }
    let request_id = req.extensions().get::<crate::RequestId>().map(|r| r.0.clone()).unwrap_or_default();
    let (mut parts, body) = req.into_parts();
    // S3 by its host, or by its signature where no other service's endpoint is addressed.
    let s3 = crate::s3_api::addressed(&parts)
        .is_some_and(|_| crate::s3_api::hosted(&parts) || endpoint_service(&parts, &[]).is_none());
    if s3 {
        // S3's bodies stream on to the service, held to what the signature declares.
        return crate::s3_api::authenticated(auth, parts, body, &request_id, next).await;
    }
    let declared =
        parts.headers.get("content-length").and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    let limit = body_limit(parts.uri.path());
    if declared.is_some_and(|n| n > limit as u64) {
        return too_large();
    }
    let Ok(bytes) = axum::body::to_bytes(body, limit).await else { return too_large() };
    match auth.check(&parts, &bytes, endpoint_service(&parts, &bytes)) {
        Ok(who) => {
            parts.extensions.insert(who);
            next.run(Request::from_parts(parts, Body::from(bytes))).await
        }
        Err(refusal) => refused(&parts, &refusal, &request_id),
    }
}

/// The query protocol's services: a request to `/` goes to the one its credential scope
/// names.
const QUERY_SERVICES: [&str; 4] = ["sqs", "sns", "sts", "iam"];

/// The signing name of the service a request is addressed to, which its credential scope
/// must name, as each AWS endpoint requires of its own; `None` for what no AWS service
/// answers (Lamina's own paths, and what will be answered 404).
pub(crate) fn endpoint_service(parts: &axum::http::request::Parts, body: &[u8]) -> Option<&'static str> {
    if let Some(target) = parts.headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
        return match target.split_once('.').map(|(prefix, _)| prefix) {
            Some("Logs_20140328") => Some("logs"),
            Some("AmazonSQS") => Some("sqs"),
            Some("AmazonSSM") => Some("ssm"),
            Some("AmazonEC2ContainerRegistry_V20150921") => Some("ecr"),
            Some("AWSEvents") => Some("events"),
            Some("DynamoDB_20120810") | Some("DynamoDBStreams_20120810") => Some("dynamodb"),
            Some("Kinesis_20131202") => Some("kinesis"),
            _ => None,
        };
    }
    let path = parts.uri.path();
    let first = path.split('/').nth(1).unwrap_or("");
    let dated = first.len() == 10 && first.starts_with("20") && first.bytes().all(|b| b.is_ascii_digit() || b == b'-');
    if dated {
        return Some("lambda");
    }
    if matches!(first, "schedules" | "schedule-groups") {
        return Some("scheduler");
    }
    // Scheduler's tags share API Gateway's path: the scope tells them apart.
    if first == "tags" && crate::signed_service(&parts.headers).as_deref() == Some("scheduler") {
        return Some("scheduler");
    }
    if matches!(first, "restapis" | "apikeys" | "usageplans" | "v2" | "tags" | "account" | "domainnames") {
        return Some("apigateway");
    }
    let queue_path = first.len() == 12 && first.bytes().all(|b| b.is_ascii_digit());
    if queue_path {
        return Some("sqs");
    }
    if path != "/" {
        return None;
    }
    // The query protocol: routed by the scope when it names one of its services, else by
    // the action, whose service the scope must then name.
    if let Some(scoped) = crate::signed_service(&parts.headers) {
        if let Some(known) = QUERY_SERVICES.iter().find(|s| **s == scoped) {
            return Some(known);
        }
    }
    let query = parts.uri.query().unwrap_or("").as_bytes();
    let action = form_urlencoded::parse(query)
        .chain(form_urlencoded::parse(body))
        .find(|(k, _)| k == "Action")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    crate::query_service_of(&action)
}

fn too_large() -> Response {
    (StatusCode::PAYLOAD_TOO_LARGE, [("content-type", "application/json")], r#"{"message":"Request Entity Too Large"}"#)
        .into_response()
}

/// A refusal in the shape of the protocol the request speaks.
pub(crate) fn refused(parts: &axum::http::request::Parts, refusal: &Refusal, request_id: &str) -> Response {
    const INVALID_TOKEN: &str = "The security token included in the request is invalid.";
    // (status, code in JSON protocols, code in the query protocol, message)
    let (status, json_code, query_code, message) = match refusal {
        Refusal::Missing => {
            (403, "MissingAuthenticationTokenException", "MissingAuthenticationToken", "Missing Authentication Token")
        }
        Refusal::Incomplete(m) => (403, "IncompleteSignatureException", "IncompleteSignature", m.as_str()),
        Refusal::UnknownKey => (403, "UnrecognizedClientException", "InvalidClientTokenId", INVALID_TOKEN),
        Refusal::ExpiredToken => {
            (403, "ExpiredTokenException", "ExpiredToken", "The security token included in the request is expired")
        }
        Refusal::Mismatch(m) | Refusal::Expired(m) => {
            (403, "InvalidSignatureException", "SignatureDoesNotMatch", m.as_str())
        }
    };
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::FORBIDDEN);
    let path = parts.uri.path();
    let json_protocol = parts.headers.contains_key("x-amz-target");
    let queue_path = path.split('/').nth(1).is_some_and(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()));
    if json_protocol {
        // SQS's JSON protocol, which also names the query protocol's code.
        let body = json!({ "__type": format!("com.amazon.coral.service#{json_code}"), "message": message });
        let mut resp = (status, [("content-type", "application/x-amz-json-1.0")], body.to_string()).into_response();
        if let Ok(v) = HeaderValue::from_str(&format!("{query_code};Sender")) {
            resp.headers_mut().insert("x-amzn-query-error", v);
        }
        resp
    } else if path == "/" || queue_path {
        let e = protocol::ServiceError::new(query_code, message).status(status.as_u16());
        crate::ingress::to_response(e.render(None, protocol::Protocol::Query, request_id), Some(query_code))
    } else {
        let mut resp =
            (status, [("content-type", "application/json")], json!({ "message": message }).to_string()).into_response();
        if let Ok(v) = HeaderValue::from_str(json_code) {
            resp.headers_mut().insert("x-amzn-ErrorType", v);
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed_parts(key: &str, secret: &str, token: &str) -> axum::http::request::Parts {
        let now = unix_now();
        let headers = [("host", "localhost:4566")];
        let req =
            sigv4::Request { method: "GET", path: "/2015-03-31/functions/", query: None, headers: &headers, body: b"" };
        let mut builder =
            axum::http::Request::builder().method("GET").uri("/2015-03-31/functions/").header("host", "localhost:4566");
        for (k, v) in sigv4::sign_request(&req, key, secret, "us-east-1", "lambda", now) {
            builder = builder.header(k, v);
        }
        // The token is not part of what `sign_request` signs; it is checked beside it.
        builder.header("x-amz-security-token", token).body(()).unwrap().into_parts().0
    }

    #[test]
    fn temporary_credentials_work_until_they_expire() {
        let auth = Authenticator::new(Vec::new());
        let live = auth.assume("111111111111", "arn:aws:sts::111111111111:assumed-role/r/s", 900);
        let who = auth.check(&signed_parts(&live.access_key, &live.secret, &live.token), b"", None).unwrap();
        assert_eq!(
            (who.account.as_str(), who.principal.as_str()),
            ("111111111111", "arn:aws:sts::111111111111:assumed-role/r/s")
        );
        let gone = auth.assume("111111111111", "arn:aws:sts::111111111111:assumed-role/r/s", -1);
        let refused = auth.check(&signed_parts(&gone.access_key, &gone.secret, &gone.token), b"", None);
        assert!(matches!(refused, Err(Refusal::ExpiredToken)));
        let wrong_token = auth.check(&signed_parts(&live.access_key, &live.secret, "other"), b"", None);
        assert!(matches!(wrong_token, Err(Refusal::UnknownKey)));
    }
}
