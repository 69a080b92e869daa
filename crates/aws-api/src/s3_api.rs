//! S3 (rest-xml). A request is S3's by its host (`<bucket>.s3.localhost`,
//! `<bucket>.s3.<region>.localhost`, LocalStack's `….s3.localhost.localstack.cloud`, and
//! the endpoint hosts `s3.localhost`, `s3.<region>.localhost`) or, on any other host, by its
//! signature's scope (`…/s3/aws4_request`, or S3's older `AWS key:signature` form); a
//! virtual-hosted request is read as its path-style form. The protocol layer reads every
//! input but an object's bytes, which stream to the service (`aws-chunked` decoded on the
//! way, `chunked.rs`); GetObject's bytes stream back from the object's file.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::StreamExt;
use protocol::{Protocol, ServiceError};
use s3::{Caller, Conditions, CopyInput, ListQuery, Listed, ObjectMeta, PutInput, Range, S3Error, S3Service, Stored};
use serde_json::{json, Value};

use crate::{ingress, ApiState, RequestId};

mod lists;
mod notifications;
mod objects;
mod settings;
mod signed;

pub(crate) use signed::authenticated;

use lists::{check_encoding, list_buckets, list_parts, list_uploads, list_v1, list_v2, list_versions};
use objects::{
    complete_upload, copy_object, delete_objects, get_object, object_attributes, put_object, upload_part_copy,
};

/// The operations served.
pub(crate) const OPERATIONS: &[&str] = &[
    "CreateBucket",
    "HeadBucket",
    "ListBuckets",
    "DeleteBucket",
    "GetBucketLocation",
    "PutObject",
    "GetObject",
    "HeadObject",
    "DeleteObject",
    "DeleteObjects",
    "ListObjects",
    "ListObjectsV2",
    "CopyObject",
    "PutBucketVersioning",
    "GetBucketVersioning",
    "ListObjectVersions",
    "PutBucketTagging",
    "GetBucketTagging",
    "DeleteBucketTagging",
    "PutObjectTagging",
    "GetObjectTagging",
    "DeleteObjectTagging",
    "CreateMultipartUpload",
    "UploadPart",
    "UploadPartCopy",
    "CompleteMultipartUpload",
    "AbortMultipartUpload",
    "ListParts",
    "ListMultipartUploads",
    "PutBucketNotificationConfiguration",
    "GetBucketNotificationConfiguration",
    "GetObjectAttributes",
];

/// The largest XML body S3 reads (a DeleteObjects of 1,000 long keys fits).
const MAX_XML: usize = 2 * 1024 * 1024;

/// Where an S3 request is addressed: the bucket its host names, if it does, and the
/// region its host names, if it does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Addressed {
    pub(crate) bucket: Option<String>,
    pub(crate) region: Option<String>,
}

/// Whether a request is S3's, and how it is addressed.
pub(crate) fn addressed(parts: &Parts) -> Option<Addressed> {
    let host = parts.headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("");
    if let Some(a) = by_host(host) {
        return Some(a);
    }
    signed_for_s3(parts).then(Addressed::default)
}

/// Whether a request's host is one of S3's.
pub(crate) fn hosted(parts: &Parts) -> bool {
    by_host(parts.headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("")).is_some()
}

/// Reads an S3 host: `[<bucket>.]s3[.<region>].localhost[.localstack.cloud][:port]`.
fn by_host(host: &str) -> Option<Addressed> {
    let host = host.rsplit_once(':').filter(|(_, p)| p.bytes().all(|b| b.is_ascii_digit())).map_or(host, |(h, _)| h);
    let host = host.to_ascii_lowercase();
    let rest = host.strip_suffix(".localhost.localstack.cloud").or_else(|| host.strip_suffix(".localhost"))?;
    let labels: Vec<&str> = rest.split('.').collect();
    let region_like = |l: &str| l.contains('-') && l.bytes().any(|b| b.is_ascii_digit());
    match labels.as_slice() {
        ["s3"] => Some(Addressed::default()),
        ["s3", region] if region_like(region) => Some(Addressed { bucket: None, region: Some((*region).to_owned()) }),
        [.., "s3"] => Some(Addressed { bucket: Some(labels[..labels.len() - 1].join(".")), region: None }),
        [.., "s3", region] if labels.len() > 2 && region_like(region) => {
            Some(Addressed { bucket: Some(labels[..labels.len() - 2].join(".")), region: Some((*region).to_owned()) })
        }
        _ => None,
    }
}

/// Whether the request is signed for S3: a SigV4 scope naming `s3` (header or presigned
/// query), or SigV2's header or query forms, which only S3 still takes.
fn signed_for_s3(parts: &Parts) -> bool {
    if crate::signed_service(&parts.headers).as_deref() == Some("s3") {
        return true;
    }
    let auth = parts.headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
    if auth.starts_with("AWS ") {
        return true;
    }
    let query = parts.uri.query().unwrap_or("");
    form_urlencoded::parse(query.as_bytes())
        .any(|(k, v)| (k == "X-Amz-Credential" && v.split('/').nth(3) == Some("s3")) || k == "AWSAccessKeyId")
}

/// The front door's S3 branch: S3's requests are answered here, the rest go on.
pub(crate) async fn front(State(s): State<ApiState>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    match addressed(&parts) {
        Some(a) => {
            let (host_id, request_id) = (host_id(), parts.extensions.get::<RequestId>().map(|r| r.0.clone()));
            let resp = handle(&s, a, parts, body, &host_id).await;
            s3_ids(resp, request_id.as_deref().unwrap_or_default(), &host_id)
        }
        None => next.run(Request::from_parts(parts, body)).await,
    }
}

/// An `x-amz-id-2`, as S3's look: base64 of random bytes.
pub(crate) fn host_id() -> String {
    use base64::Engine;
    let bytes = [uuid::Uuid::new_v4().into_bytes(), uuid::Uuid::new_v4().into_bytes()].concat();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// S3 names a request by `x-amz-request-id` and `x-amz-id-2`.
pub(crate) fn s3_ids(mut resp: Response, request_id: &str, host_id: &str) -> Response {
    let headers = resp.headers_mut();
    headers.remove("x-amzn-requestid");
    // The router's method table speaks for other services' routes, not S3's.
    headers.remove("allow");
    for (name, value) in [("x-amz-request-id", request_id), ("x-amz-id-2", host_id), ("server", "AmazonS3")] {
        if let Ok(v) = axum::http::HeaderValue::from_str(value) {
            headers.insert(name, v);
        }
    }
    resp
}

/// A presigned URL past its expiry (SigV4's `X-Amz-Date` plus `X-Amz-Expires`, SigV2's
/// `Expires`): refused in every auth mode, as AWS refuses it, with AWS's fields.
fn expired(parts: &Parts, now: i64) -> Option<S3Error> {
    let query: Vec<(String, String)> =
        form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes()).into_owned().collect();
    let get = |k: &str| query.iter().find(|(q, _)| q == k).map(|(_, v)| v.as_str());
    let iso = |secs: i64| {
        let t = time::OffsetDateTime::from_unix_timestamp(secs).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
    };
    let refused = || S3Error::new("AccessDenied", 403, "Request has expired");
    if let (Some(date), Some(expires)) = (get("X-Amz-Date"), get("X-Amz-Expires")) {
        let (signed, valid_for) = (amz_date(date)?, expires.parse::<i64>().ok()?);
        let until = signed + valid_for;
        return (now > until).then(|| {
            refused().with("X-Amz-Expires", expires).with("Expires", iso(until)).with("ServerTime", iso(now))
        });
    }
    if get("AWSAccessKeyId").is_some() {
        let until = get("Expires")?.parse::<i64>().ok()?;
        return (now > until).then(|| refused().with("Expires", iso(until)).with("ServerTime", iso(now)));
    }
    None
}

/// Seconds since the epoch of an `X-Amz-Date` (`20261206T073459Z`).
fn amz_date(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let n = |r: std::ops::Range<usize>| text.get(r)?.parse::<i32>().ok();
    let month = time::Month::try_from(u8::try_from(n(4..6)?).ok()?).ok()?;
    let date = time::Date::from_calendar_date(n(0..4)?, month, u8::try_from(n(6..8)?).ok()?).ok()?;
    let t = date
        .with_hms(u8::try_from(n(9..11)?).ok()?, u8::try_from(n(11..13)?).ok()?, u8::try_from(n(13..15)?).ok()?)
        .ok()?;
    Some(t.assume_utc().unix_timestamp())
}

/// Who makes a request: its account and region, its principal (in authenticated mode,
/// or a temporary key's holder) and its client's address.
fn s3_caller(s: &ApiState, parts: &Parts) -> Caller {
    let mut caller = Caller::from(s.callers.caller(parts));
    let principal = match parts.extensions.get::<crate::auth::Authenticated>() {
        Some(who) => Some(who.principal.clone()),
        None => s.callers.open_principal(&parts.headers).map(|(_, principal)| principal),
    };
    if let Some(p) = principal {
        caller.principal = p;
    }
    caller.anonymous = parts.extensions.get::<signed::Anonymous>().is_some();
    caller.trace_header = parts.headers.get("x-amzn-trace-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
    if caller.region.is_empty() {
        // SigV2 names no region.
        caller.region = s.callers.default_region.clone();
    }
    if let Some(axum::extract::ConnectInfo(peer)) =
        parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
    {
        caller.source_ip = peer.ip().to_string();
    }
    caller
}

/// One S3 request, whole.
struct Call {
    caller: Caller,
    /// `x-amz-id-2`, also an error's `HostId`.
    host_id: String,
    /// The path-style path (`/<bucket>/<key>`), still percent-encoded.
    path: String,
    request_id: String,
    head: bool,
}

/// The path-style path (`/<bucket>/<key>`) of a request, still percent-encoded.
fn path_style(a: &Addressed, parts: &Parts) -> String {
    match &a.bucket {
        Some(b) if parts.uri.path() == "/" => format!("/{b}"),
        Some(b) => format!("/{b}{}", parts.uri.path()),
        None => parts.uri.path().to_owned(),
    }
}

/// The operation an S3 request is, for the request log (`-` if none).
pub(crate) fn operation_named(parts: &Parts, a: &Addressed) -> String {
    let pairs: Vec<(String, String)> =
        form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes()).into_owned().collect();
    match protocol::service("s3").and_then(|m| m.find_rest(&parts.method, &path_style(a, parts), &pairs)) {
        Some((op, _)) => operation(&op.name, parts, &pairs),
        None if parts.method == axum::http::Method::OPTIONS => "Preflight".into(),
        None => "-".into(),
    }
}

async fn handle(s: &ApiState, a: Addressed, parts: Parts, body: Body, host_id: &str) -> Response {
    let request_id = parts.extensions.get::<RequestId>().map(|r| r.0.clone()).unwrap_or_default();
    let path = path_style(&a, &parts);
    let mut caller = s3_caller(s, &parts);
    if let Some(region) = a.region {
        caller.region = region;
    }
    let head = parts.method == axum::http::Method::HEAD;
    let call = Call { caller, host_id: host_id.to_owned(), path, request_id, head };
    if let Some(e) = expired(&parts, crate::auth::unix_now()) {
        return fail(&call, &e);
    }
    if parts.method == axum::http::Method::OPTIONS {
        return settings::preflight(s, &call, &parts);
    }
    let Some(model) = protocol::service("s3") else {
        return fail(&call, &S3Error::internal("the model of s3 is missing"));
    };
    let pairs: Vec<(String, String)> =
        form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes()).into_owned().collect();
    let Some((op, _)) = model.find_rest(&parts.method, &call.path, &pairs) else {
        let e = S3Error::new("MethodNotAllowed", 405, "The specified method is not allowed against this resource.");
        return fail(&call, &e);
    };
    let op = operation(&op.name, &parts, &pairs);
    if !OPERATIONS.contains(&op.as_str()) && !settings::operations().any(|o| o == op) {
        return ingress::unserved_operation("s3", Protocol::RestXml, &op, &call.request_id);
    }
    if let Some(expected) = parts.headers.get("x-amz-expected-bucket-owner").and_then(|v| v.to_str().ok()) {
        let bucket = call.path.trim_start_matches('/').split('/').next().unwrap_or_default();
        if let Err(e) = s.s3.check_expected_owner(bucket, expected) {
            return fail(&call, &e);
        }
    }
    let origin = parts.headers.get("origin").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let method = parts.method.clone();
    let mut resp = answer(s, &call, model, &op, parts, body).await;
    if let Some(origin) = origin.filter(|_| resp.status().is_success()) {
        settings::decorate(s, &call, &origin, method.as_str(), &mut resp);
    }
    resp
}

/// Runs one operation.
async fn answer(s: &ApiState, call: &Call, model: &protocol::Model, op: &str, parts: Parts, body: Body) -> Response {
    match op {
        "PutObject" | "UploadPart" => put_object(s, call, model, op, parts, body).await,
        "CompleteMultipartUpload" => complete_upload(s, call, model, parts, body).await,
        "UploadPartCopy" => upload_part_copy(s, call, model, parts).await,
        "GetObject" | "HeadObject" => get_object(s, call, model, op, &parts).await,
        _ => {
            let Some(bytes) = ingress::read_body(&parts, body, MAX_XML).await else {
                return fail(
                    call,
                    &S3Error::new("EntityTooLarge", 400, "Your proposed upload exceeds the maximum allowed size"),
                );
            };
            let input = match read(model, op, &parts, &call.path, bytes) {
                Ok(input) => input,
                Err(e) => return ingress::error("s3", Protocol::RestXml, &e, &call.request_id),
            };
            let (s3, caller, value) = (s.s3.clone(), call.caller.clone(), input.value);
            let op2 = op.to_owned();
            let ran = tokio::task::spawn_blocking(move || run(&s3, &caller, &op2, &value)).await;
            match ran.unwrap_or_else(|e| Err(S3Error::internal(e))) {
                Ok(Answer::Xml(v)) => {
                    let mut resp = ingress::answer(model, Protocol::RestXml, op, v, &call.request_id);
                    // Bucket policies are set with no content, as AWS answers.
                    if op == "PutBucketPolicy" {
                        *resp.status_mut() = axum::http::StatusCode::NO_CONTENT;
                    }
                    resp
                }
                Ok(Answer::Raw(r)) => r,
                Err(e) => fail(call, &e),
            }
        }
    }
}

/// The operation a request is, where operations share a route: the model routes by
/// method, path and query literals, S3 also by a query member (`uploadId`) and a header
/// (`x-amz-copy-source`).
fn operation(routed: &str, parts: &Parts, pairs: &[(String, String)]) -> String {
    let upload = pairs.iter().any(|(k, _)| k == "uploadId");
    let copying = parts.headers.contains_key("x-amz-copy-source");
    match routed {
        "PutObject" | "CopyObject" | "UploadPart" | "UploadPartCopy" => match (upload, copying) {
            (true, true) => "UploadPartCopy",
            (true, false) => "UploadPart",
            (false, true) => "CopyObject",
            (false, false) => "PutObject",
        },
        "GetObject" | "ListParts" if upload => "ListParts",
        "GetObject" | "ListParts" => "GetObject",
        "DeleteObject" | "AbortMultipartUpload" if upload => "AbortMultipartUpload",
        "DeleteObject" | "AbortMultipartUpload" => "DeleteObject",
        // The deprecated forms share the route; the documents are the current ones.
        "PutBucketNotification" => "PutBucketNotificationConfiguration",
        "GetBucketNotification" => "GetBucketNotificationConfiguration",
        "PutBucketLifecycle" => "PutBucketLifecycleConfiguration",
        "GetBucketLifecycle" => "GetBucketLifecycleConfiguration",
        name => name,
    }
    .to_owned()
}

/// Reads the input of operation `op` from the protocol layer, the body given.
fn read(
    model: &protocol::Model,
    op: &str,
    parts: &Parts,
    path: &str,
    body: Bytes,
) -> Result<protocol::Input, ServiceError> {
    let req = protocol::Request {
        method: &parts.method,
        path,
        query: parts.uri.query().unwrap_or(""),
        headers: &parts.headers,
        body,
    };
    model.read_as(op, Protocol::RestXml, &req)
}

/// An answer: an output tree for the protocol layer, or a response made here.
enum Answer {
    Xml(Value),
    Raw(Response),
}

/// An operation of [`run`]'s for another service (CloudFormation's providers): its output
/// tree (`null` for the answers written by hand).
pub(crate) fn run_tree(s3: &S3Service, caller: &Caller, op: &str, v: &Value) -> Result<Value, S3Error> {
    run(s3, caller, op, v).map(|a| match a {
        Answer::Xml(v) => v,
        Answer::Raw(_) => Value::Null,
    })
}

/// The operations whose input is all in the request's line, headers and XML body.
fn run(s3: &S3Service, caller: &Caller, op: &str, v: &Value) -> Result<Answer, S3Error> {
    let bucket = text(v, "Bucket");
    if let Some(out) = settings::run(s3, caller, op, &bucket, v) {
        return out.map(Answer::Xml);
    }
    let out = match op {
        "CreateBucket" => {
            let constraint = v.pointer("/CreateBucketConfiguration/LocationConstraint").and_then(Value::as_str);
            let ownership = v.get("ObjectOwnership").and_then(Value::as_str);
            let b = s3.create_bucket(caller, &bucket, constraint, ownership)?;
            json!({ "Location": format!("/{}", b.name) })
        }
        "HeadBucket" => {
            let b = s3.bucket(caller, &bucket)?;
            json!({ "BucketRegion": b.region, "AccessPointAlias": false, "BucketArn": format!("arn:aws:s3:::{}", b.name) })
        }
        "ListBuckets" => list_buckets(s3, caller, v)?,
        "DeleteBucket" => {
            s3.delete_bucket(caller, &bucket)?;
            json!({})
        }
        "GetBucketLocation" => {
            let b = s3.bucket(caller, &bucket)?;
            return Ok(Answer::Raw(location(&b.region)));
        }
        "DeleteObject" => {
            let version = v.get("VersionId").and_then(Value::as_str);
            let d = s3.delete_object(caller, &bucket, &text(v, "Key"), version)?;
            let marker = d.delete_marker.then_some(true);
            json!({ "DeleteMarker": marker, "VersionId": d.version_id })
        }
        "PutBucketVersioning" => {
            let status = v.pointer("/VersioningConfiguration/Status").and_then(Value::as_str);
            s3.set_versioning(caller, &bucket, status)?;
            json!({})
        }
        "GetBucketVersioning" => json!({ "Status": s3.versioning(caller, &bucket)? }),
        "PutBucketNotificationConfiguration" => {
            let config = notifications::read(v.get("NotificationConfiguration").unwrap_or(&Value::Null));
            let skip = v.get("SkipDestinationValidation").and_then(Value::as_bool).unwrap_or(false);
            s3.set_notifications(caller, &bucket, config, skip)?;
            json!({})
        }
        "GetBucketNotificationConfiguration" => notifications::write(&s3.notifications(caller, &bucket)?),
        "ListObjectVersions" => {
            check_encoding(v)?;
            list_versions(s3, caller, &bucket, v)?
        }
        "DeleteObjects" => delete_objects(s3, caller, &bucket, v)?,
        "CopyObject" => copy_object(s3, caller, &bucket, v)?,
        "GetObjectAttributes" => object_attributes(s3, caller, &bucket, v)?,
        "PutBucketTagging" => {
            s3.set_bucket_tags(caller, &bucket, Some(&tag_set(v)?))?;
            json!({})
        }
        "GetBucketTagging" => json!({ "TagSet": tag_list(&s3.bucket_tags(caller, &bucket)?) }),
        "DeleteBucketTagging" => {
            s3.set_bucket_tags(caller, &bucket, None)?;
            json!({})
        }
        "PutObjectTagging" | "DeleteObjectTagging" => {
            let version = v.get("VersionId").and_then(Value::as_str);
            let tags = (op == "PutObjectTagging").then(|| tag_set(v)).transpose()?;
            let version = s3.set_object_tags(caller, &bucket, &text(v, "Key"), version, tags.as_deref())?;
            json!({ "VersionId": version })
        }
        "GetObjectTagging" => {
            let version = v.get("VersionId").and_then(Value::as_str);
            let o = s3.object(caller, &bucket, &text(v, "Key"), version)?;
            json!({ "TagSet": tag_list(&o.meta.tags), "VersionId": o.version_id })
        }
        "CreateMultipartUpload" => {
            let key = text(v, "Key");
            s3::names::check_storage_class(v.get("StorageClass").and_then(Value::as_str))?;
            let mut meta = meta_of(v);
            if v.get("ACL").is_some() {
                meta.acl = Some(s3.acl_grants(caller, &bucket, &settings::acl_of(v))?);
            }
            // The checksum its parts are kept with: composite unless the whole object's
            // is asked for (CRC64NVME's can only be the whole object's).
            let algorithm = v.get("ChecksumAlgorithm").and_then(Value::as_str).and_then(s3::Algorithm::parse);
            if let Some(a) = algorithm {
                let kind = v.get("ChecksumType").and_then(Value::as_str);
                let full = kind == Some("FULL_OBJECT") || (kind.is_none() && a == s3::Algorithm::Crc64Nvme);
                if full && !a.can_be_full_object() {
                    return Err(S3Error::new(
                        "InvalidRequest",
                        400,
                        format!(
                            "The FULL_OBJECT checksum type cannot be used with the {} checksum algorithm.",
                            a.as_str().to_ascii_lowercase()
                        ),
                    ));
                }
                meta.checksum = Some((a.as_str().into(), String::new()));
                meta.composite = !full;
            }
            let id = s3.create_upload(caller, &bucket, &key, &meta)?;
            let mut out = json!({ "Bucket": bucket, "Key": key, "UploadId": id, "ServerSideEncryption": "AES256" });
            if let Some(a) = algorithm {
                out["ChecksumAlgorithm"] = json!(a.as_str());
                out["ChecksumType"] = json!(if meta.composite { "COMPOSITE" } else { "FULL_OBJECT" });
            }
            out
        }
        "AbortMultipartUpload" => {
            s3.abort_upload(caller, &bucket, &text(v, "Key"), &text(v, "UploadId"))?;
            json!({})
        }
        "ListParts" => list_parts(s3, caller, &bucket, v)?,
        "ListMultipartUploads" => {
            check_encoding(v)?;
            list_uploads(s3, caller, &bucket, v)?
        }
        "ListObjects" => {
            check_encoding(v)?;
            list_v1(s3, caller, &bucket, v)?
        }
        _ => {
            check_encoding(v)?;
            list_v2(s3, caller, &bucket, v)?
        }
    };
    Ok(Answer::Xml(out))
}

/// A `Tagging` body's `TagSet`, as pairs; a tag without its key or value is malformed.
fn tag_set(v: &Value) -> Result<Vec<(String, String)>, S3Error> {
    let set = v.pointer("/Tagging/TagSet").and_then(Value::as_array);
    set.into_iter()
        .flatten()
        .map(|t| match (t.get("Key").and_then(Value::as_str), t.get("Value").and_then(Value::as_str)) {
            (Some(k), Some(v)) => Ok((k.to_owned(), v.to_owned())),
            _ => Err(S3Error::new(
                "MalformedXML",
                400,
                "The XML you provided was not well-formed or did not validate against our published schema",
            )),
        })
        .collect()
}

fn tag_list(tags: &BTreeMap<String, String>) -> Vec<Value> {
    tags.iter().map(|(k, v)| json!({ "Key": k, "Value": v })).collect()
}

fn text(v: &Value, member: &str) -> String {
    v.get(member).and_then(Value::as_str).unwrap_or_default().to_owned()
}

/// S3's times, in whole seconds (its answers show `.000Z`).
fn secs(ms: i64) -> f64 {
    ms.div_euclid(1000) as f64
}

fn owner(account: &str) -> Value {
    json!({ "ID": s3::canonical_id(account) })
}

/// GetBucketLocation's answer: the constraint itself is the document (empty for us-east-1).
fn location(region: &str) -> Response {
    let inner = if region == "us-east-1" { String::new() } else { region.to_owned() };
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LocationConstraint xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">{inner}</LocationConstraint>"
    );
    ([("content-type", "application/xml")], body).into_response()
}

/// What `encoding-type=url` encodes: all but unreserved characters and `/`.
const KEY_ENCODED: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~').remove(b'/');

/// An S3 error, as S3 answers it (a HEAD request's without a body).
fn fail(call: &Call, e: &S3Error) -> Response {
    let mut se = ServiceError::new(e.code, e.message.clone()).status(e.status);
    se.fields = e.fields.iter().map(|(k, v)| (k.to_string(), Value::String(v.clone()))).collect();
    se.fields.push(("HostId".into(), Value::String(call.host_id.clone())));
    let mut resp = ingress::error("s3", Protocol::RestXml, &se, &call.request_id);
    for (k, v) in &e.headers {
        if let Ok(v) = axum::http::HeaderValue::from_str(v) {
            resp.headers_mut().insert(*k, v);
        }
    }
    if call.head {
        *resp.body_mut() = Body::empty();
    }
    resp
}

/// A request's conditions, from its input's `<prefix>IfMatch`, `…IfNoneMatch`,
/// `…IfModifiedSince` and `…IfUnmodifiedSince` (the prefix `CopySource` for CopyObject's
/// conditions on its source).
fn conditions(v: &Value, prefix: &str) -> Conditions {
    let t = |m: &str| v.get(format!("{prefix}{m}")).and_then(Value::as_str).map(str::to_owned);
    let at = |m: &str| {
        v.get(format!("{prefix}{m}")).and_then(protocol::timestamp::seconds_of).map(|secs| (secs * 1000.0) as i64)
    };
    Conditions {
        if_match: t("IfMatch"),
        if_none_match: t("IfNoneMatch"),
        if_modified_since: at("IfModifiedSince"),
        if_unmodified_since: at("IfUnmodifiedSince"),
    }
}

/// The headers an object is stored with, from a PutObject's input.
fn meta_of(v: &Value) -> ObjectMeta {
    let t = |m: &str| v.get(m).and_then(Value::as_str).map(str::to_owned);
    let metadata: BTreeMap<String, String> = v
        .get("Metadata")
        .and_then(Value::as_object)
        .map(|o| o.iter().filter_map(|(k, v)| Some((k.to_ascii_lowercase(), v.as_str()?.to_owned()))).collect())
        .unwrap_or_default();
    ObjectMeta {
        content_type: t("ContentType"),
        content_encoding: t("ContentEncoding").filter(|e| e != "aws-chunked"),
        content_disposition: t("ContentDisposition"),
        content_language: t("ContentLanguage"),
        cache_control: t("CacheControl"),
        expires: t("Expires"),
        metadata,
        tags: BTreeMap::new(),
        checksum: None,
        composite: false,
        parts: Vec::new(),
        acl: None,
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presigned_urls_expire() {
        let parts = |q: &str| Request::builder().uri(format!("/b/k?{q}")).body(()).unwrap().into_parts().0;
        let v4 = parts("X-Amz-Date=20261206T000000Z&X-Amz-Expires=60&X-Amz-Credential=k%2F20261206%2Fus-east-1%2Fs3%2Faws4_request");
        let signed = amz_date("20261206T000000Z").unwrap();
        assert!(expired(&v4, signed + 60).is_none());
        let e = expired(&v4, signed + 61).unwrap();
        assert_eq!((e.code, e.status, e.message.as_str()), ("AccessDenied", 403, "Request has expired"));
        assert_eq!(e.fields[1], ("Expires".into(), "2026-12-06T00:01:00Z".to_owned()));
        let v2 = parts("AWSAccessKeyId=k&Signature=s&Expires=100");
        assert!(expired(&v2, 100).is_none());
        assert!(expired(&v2, 101).is_some());
        assert!(expired(&parts("versionId=1"), 1 << 40).is_none());
    }

    #[test]
    fn s3_hosts_name_their_bucket_and_region() {
        let a = |bucket: Option<&str>, region: Option<&str>| {
            Some(Addressed { bucket: bucket.map(str::to_owned), region: region.map(str::to_owned) })
        };
        assert_eq!(by_host("s3.localhost:4566"), a(None, None));
        assert_eq!(by_host("s3.eu-west-1.localhost"), a(None, Some("eu-west-1")));
        assert_eq!(by_host("my.bucket.s3.localhost:4566"), a(Some("my.bucket"), None));
        assert_eq!(by_host("logs.s3.us-east-2.localhost"), a(Some("logs"), Some("us-east-2")));
        assert_eq!(by_host("b.s3.localhost.localstack.cloud:4566"), a(Some("b"), None));
        assert_eq!(by_host("localhost:4566"), None);
        assert_eq!(by_host("abc.execute-api.localhost:4566"), None);
    }
}
