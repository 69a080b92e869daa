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
    "CompleteMultipartUpload",
    "AbortMultipartUpload",
    "ListParts",
    "ListMultipartUploads",
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
        Some(a) => handle(&s, a, parts, body).await,
        None => next.run(Request::from_parts(parts, body)).await,
    }
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

/// One S3 request, whole.
struct Call {
    caller: Caller,
    /// The path-style path (`/<bucket>/<key>`), still percent-encoded.
    path: String,
    request_id: String,
    head: bool,
}

async fn handle(s: &ApiState, a: Addressed, parts: Parts, body: Body) -> Response {
    let request_id = parts.extensions.get::<RequestId>().map(|r| r.0.clone()).unwrap_or_default();
    let path = match &a.bucket {
        Some(b) if parts.uri.path() == "/" => format!("/{b}"),
        Some(b) => format!("/{b}{}", parts.uri.path()),
        None => parts.uri.path().to_owned(),
    };
    let mut caller = s.callers.caller(&parts);
    if let Some(region) = a.region {
        caller.region = region;
    }
    let head = parts.method == axum::http::Method::HEAD;
    let call = Call { caller, path, request_id, head };
    if let Some(e) = expired(&parts, crate::auth::unix_now()) {
        return fail(&call, &e);
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
    if !OPERATIONS.contains(&op.as_str()) {
        return ingress::unserved_operation("s3", Protocol::RestXml, &op, &call.request_id);
    }
    match op.as_str() {
        "PutObject" | "UploadPart" => put_object(s, &call, model, &op, parts, body).await,
        "CompleteMultipartUpload" => complete_upload(s, &call, model, parts, body).await,
        "GetObject" | "HeadObject" => get_object(s, &call, model, &op, &parts).await,
        _ => {
            let Some(bytes) = ingress::read_body(&parts, body, MAX_XML).await else {
                return fail(
                    &call,
                    &S3Error::new("EntityTooLarge", 400, "Your proposed upload exceeds the maximum allowed size"),
                );
            };
            let input = match read(model, &op, &parts, &call.path, bytes) {
                Ok(input) => input,
                Err(e) => return ingress::error("s3", Protocol::RestXml, &e, &call.request_id),
            };
            let (s3, caller, value) = (s.s3.clone(), call.caller.clone(), input.value);
            let op2 = op.clone();
            let ran = tokio::task::spawn_blocking(move || run(&s3, &caller, &op2, &value)).await;
            match ran.unwrap_or_else(|e| Err(S3Error::internal(e))) {
                Ok(Answer::Xml(v)) => ingress::answer(model, Protocol::RestXml, &op, v, &call.request_id),
                Ok(Answer::Raw(r)) => r,
                Err(e) => fail(&call, &e),
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

/// The operations whose input is all in the request's line, headers and XML body.
fn run(s3: &S3Service, caller: &Caller, op: &str, v: &Value) -> Result<Answer, S3Error> {
    let bucket = text(v, "Bucket");
    let out = match op {
        "CreateBucket" => {
            let constraint = v.pointer("/CreateBucketConfiguration/LocationConstraint").and_then(Value::as_str);
            let b = s3.create_bucket(caller, &bucket, constraint)?;
            json!({ "Location": format!("/{}", b.name) })
        }
        "HeadBucket" => {
            let b = s3.bucket(caller, &bucket)?;
            json!({ "BucketRegion": b.region, "AccessPointAlias": false })
        }
        "ListBuckets" => {
            let buckets: Vec<Value> = s3
                .list_buckets(caller)?
                .iter()
                .map(|b| json!({ "Name": b.name, "CreationDate": secs(b.created_ms), "BucketRegion": b.region }))
                .collect();
            json!({ "Buckets": buckets, "Owner": owner(&caller.account) })
        }
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
        "ListObjectVersions" => list_versions(s3, caller, &bucket, v)?,
        "DeleteObjects" => delete_objects(s3, caller, &bucket, v)?,
        "CopyObject" => copy_object(s3, caller, &bucket, v)?,
        "PutBucketTagging" => {
            s3.set_bucket_tags(caller, &bucket, Some(&tag_set(v)))?;
            json!({})
        }
        "GetBucketTagging" => json!({ "TagSet": tag_list(&s3.bucket_tags(caller, &bucket)?) }),
        "DeleteBucketTagging" => {
            s3.set_bucket_tags(caller, &bucket, None)?;
            json!({})
        }
        "PutObjectTagging" | "DeleteObjectTagging" => {
            let version = v.get("VersionId").and_then(Value::as_str);
            let tags = (op == "PutObjectTagging").then(|| tag_set(v));
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
            let id = s3.create_upload(caller, &bucket, &key, &meta_of(v))?;
            json!({ "Bucket": bucket, "Key": key, "UploadId": id })
        }
        "AbortMultipartUpload" => {
            s3.abort_upload(caller, &bucket, &text(v, "Key"), &text(v, "UploadId"))?;
            json!({})
        }
        "ListParts" => list_parts(s3, caller, &bucket, v)?,
        "ListMultipartUploads" => list_uploads(s3, caller, &bucket, v)?,
        "ListObjects" => list_v1(s3, caller, &bucket, v)?,
        _ => list_v2(s3, caller, &bucket, v)?,
    };
    Ok(Answer::Xml(out))
}

/// A `Tagging` body's `TagSet`, as pairs.
fn tag_set(v: &Value) -> Vec<(String, String)> {
    let set = v.pointer("/Tagging/TagSet").and_then(Value::as_array);
    set.into_iter().flatten().map(|t| (text(t, "Key"), text(t, "Value"))).collect()
}

fn tag_list(tags: &BTreeMap<String, String>) -> Vec<Value> {
    tags.iter().map(|(k, v)| json!({ "Key": k, "Value": v })).collect()
}

fn text(v: &Value, member: &str) -> String {
    v.get(member).and_then(Value::as_str).unwrap_or_default().to_owned()
}

fn secs(ms: i64) -> f64 {
    ms as f64 / 1000.0
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

fn delete_objects(s3: &S3Service, caller: &Caller, bucket: &str, v: &Value) -> Result<Value, S3Error> {
    let objects = v.pointer("/Delete/Objects").and_then(Value::as_array).cloned().unwrap_or_default();
    if objects.len() > 1000 {
        return Err(S3Error::new(
            "MalformedXML",
            400,
            "The XML you provided was not well-formed or did not validate against our published schema",
        ));
    }
    let quiet = v.pointer("/Delete/Quiet").and_then(Value::as_bool).unwrap_or(false);
    let keys: Vec<(String, Option<String>)> = objects
        .iter()
        .map(|o| (text(o, "Key"), o.get("VersionId").and_then(Value::as_str).map(str::to_owned)))
        .collect();
    let results = s3.delete_objects(caller, bucket, &keys)?;
    let (mut deleted, mut errors) = (Vec::new(), Vec::new());
    for ((key, asked), r) in keys.iter().zip(results) {
        match r {
            Ok(d) if !quiet => {
                let mut entry = json!({ "Key": key });
                match (asked, d.delete_marker) {
                    (Some(v), marker) => {
                        entry["VersionId"] = json!(v);
                        if marker {
                            entry["DeleteMarker"] = json!(true);
                            entry["DeleteMarkerVersionId"] = json!(v);
                        }
                    }
                    (None, true) => {
                        entry["DeleteMarker"] = json!(true);
                        entry["DeleteMarkerVersionId"] = json!(d.version_id);
                    }
                    (None, false) => {}
                }
                deleted.push(entry);
            }
            Ok(_) => {}
            Err(e) => errors.push(json!({ "Key": key, "Code": e.code, "Message": e.message })),
        }
    }
    Ok(json!({ "Deleted": deleted, "Errors": errors }))
}

/// What `encoding-type=url` encodes: all but unreserved characters and `/`.
const KEY_ENCODED: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~').remove(b'/');

/// `encoding-type=url`: keys and prefixes in the answer percent-encoded.
fn encoder(v: &Value) -> impl Fn(&str) -> String {
    let url = v.get("EncodingType").and_then(Value::as_str) == Some("url");
    move |s: &str| if url { percent_encoding::utf8_percent_encode(s, KEY_ENCODED).to_string() } else { s.to_owned() }
}

fn contents(listed: &Listed, encode: &dyn Fn(&str) -> String, with_owner: Option<&str>) -> Vec<Value> {
    listed
        .contents
        .iter()
        .map(|o| {
            let mut c = json!({
                "Key": encode(&o.key),
                "LastModified": secs(o.modified_ms),
                "ETag": o.etag,
                "Size": o.size,
                "StorageClass": "STANDARD",
            });
            if let Some((algorithm, _)) = &o.meta.checksum {
                c["ChecksumAlgorithm"] = json!([algorithm]);
                c["ChecksumType"] = json!("FULL_OBJECT");
            }
            if let Some(account) = with_owner {
                c["Owner"] = owner(account);
            }
            c
        })
        .collect()
}

fn prefixes(listed: &Listed, encode: &dyn Fn(&str) -> String) -> Vec<Value> {
    listed.common_prefixes.iter().map(|p| json!({ "Prefix": encode(p) })).collect()
}

fn max_keys(v: &Value) -> Result<Option<usize>, S3Error> {
    match v.get("MaxKeys").and_then(Value::as_i64) {
        Some(n) if n < 0 => {
            Err(S3Error::new("InvalidArgument", 400, "Argument maxKeys must be an integer between 0 and 2147483647")
                .with("ArgumentName", "maxKeys")
                .with("ArgumentValue", n.to_string()))
        }
        Some(n) => Ok(Some(n as usize)),
        None => Ok(None),
    }
}

fn list_versions(s3: &S3Service, caller: &Caller, bucket: &str, v: &Value) -> Result<Value, S3Error> {
    let encode = encoder(v);
    let prefix = text(v, "Prefix");
    let delimiter = v.get("Delimiter").and_then(Value::as_str);
    let (key_marker, version_marker) = (text(v, "KeyMarker"), text(v, "VersionIdMarker"));
    let max = max_keys(v)?.unwrap_or(s3::MAX_KEYS).min(s3::MAX_KEYS);
    let page = s3.list_versions(caller, bucket, &prefix, delimiter, (&key_marker, &version_marker), max)?;
    let (mut versions, mut markers) = (Vec::new(), Vec::new());
    for entry in &page.entries {
        let (o, latest) = (&entry.object, entry.latest);
        let version = o.version_id.clone().unwrap_or_else(|| "null".into());
        if entry.delete_marker {
            markers.push(json!({
                "Owner": owner(&caller.account),
                "Key": encode(&o.key),
                "VersionId": version,
                "IsLatest": latest,
                "LastModified": secs(o.modified_ms),
            }));
        } else {
            let mut entry = json!({
                "ETag": o.etag,
                "Size": o.size,
                "StorageClass": "STANDARD",
                "Key": encode(&o.key),
                "VersionId": version,
                "IsLatest": latest,
                "LastModified": secs(o.modified_ms),
                "Owner": owner(&caller.account),
            });
            if let Some((algorithm, _)) = &o.meta.checksum {
                entry["ChecksumAlgorithm"] = json!([algorithm]);
                entry["ChecksumType"] = json!("FULL_OBJECT");
            }
            versions.push(entry);
        }
    }
    let mut out = json!({
        "IsTruncated": page.is_truncated,
        "KeyMarker": encode(&key_marker),
        "VersionIdMarker": version_marker,
        "Versions": versions,
        "DeleteMarkers": markers,
        "Name": bucket,
        "Prefix": encode(&prefix),
        "MaxKeys": max,
        "CommonPrefixes": page.common_prefixes.iter().map(|p| json!({ "Prefix": encode(p) })).collect::<Vec<_>>(),
    });
    if let Some(d) = delimiter {
        out["Delimiter"] = json!(encode(d));
    }
    if let Some((k, ver)) = page.next {
        out["NextKeyMarker"] = json!(encode(&k));
        if !ver.is_empty() {
            out["NextVersionIdMarker"] = json!(ver);
        }
    }
    if let Some(e) = v.get("EncodingType") {
        out["EncodingType"] = e.clone();
    }
    Ok(out)
}

fn list_v1(s3: &S3Service, caller: &Caller, bucket: &str, v: &Value) -> Result<Value, S3Error> {
    let encode = encoder(v);
    let q = ListQuery {
        prefix: text(v, "Prefix"),
        delimiter: v.get("Delimiter").and_then(Value::as_str).map(str::to_owned),
        max_keys: max_keys(v)?,
        after: text(v, "Marker"),
    };
    let listed = s3.list_objects(caller, bucket, &q)?;
    let mut out = json!({
        "IsTruncated": listed.is_truncated,
        "Marker": encode(&q.after),
        "Contents": contents(&listed, &encode, Some(&caller.account)),
        "Name": bucket,
        "Prefix": encode(&q.prefix),
        "MaxKeys": q.max_keys.unwrap_or(s3::MAX_KEYS),
        "CommonPrefixes": prefixes(&listed, &encode),
    });
    if let Some(d) = &q.delimiter {
        out["Delimiter"] = json!(encode(d));
        if listed.is_truncated {
            out["NextMarker"] = json!(listed.last.as_deref().map(&encode));
        }
    }
    if let Some(e) = v.get("EncodingType") {
        out["EncodingType"] = e.clone();
    }
    Ok(out)
}

fn list_v2(s3: &S3Service, caller: &Caller, bucket: &str, v: &Value) -> Result<Value, S3Error> {
    use base64::Engine;
    let encode = encoder(v);
    let token = v.get("ContinuationToken").and_then(Value::as_str);
    let after = match token {
        Some(t) => base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(t)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| s.strip_prefix("lamina:").map(str::to_owned))
            .ok_or_else(|| {
                S3Error::new("InvalidArgument", 400, "The continuation token provided is incorrect")
                    .with("ArgumentName", "continuation-token")
            })?,
        None => text(v, "StartAfter"),
    };
    let q = ListQuery {
        prefix: text(v, "Prefix"),
        delimiter: v.get("Delimiter").and_then(Value::as_str).map(str::to_owned),
        max_keys: max_keys(v)?,
        after,
    };
    let listed = s3.list_objects(caller, bucket, &q)?;
    let mut out = json!({
        "IsTruncated": listed.is_truncated,
        "Contents": contents(&listed, &encode, None),
        "Name": bucket,
        "Prefix": encode(&q.prefix),
        "MaxKeys": q.max_keys.unwrap_or(s3::MAX_KEYS),
        "CommonPrefixes": prefixes(&listed, &encode),
        "KeyCount": listed.contents.len() + listed.common_prefixes.len(),
    });
    if let Some(d) = &q.delimiter {
        out["Delimiter"] = json!(encode(d));
    }
    if let Some(t) = token {
        out["ContinuationToken"] = json!(t);
    }
    if let Some(sa) = v.get("StartAfter").and_then(Value::as_str) {
        out["StartAfter"] = json!(encode(sa));
    }
    if listed.is_truncated {
        let last = listed.last.clone().unwrap_or_default();
        out["NextContinuationToken"] =
            json!(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("lamina:{last}")));
    }
    if let Some(e) = v.get("EncodingType") {
        out["EncodingType"] = e.clone();
    }
    Ok(out)
}

/// An S3 error, as S3 answers it (a HEAD request's without a body).
fn fail(call: &Call, e: &S3Error) -> Response {
    let mut se = ServiceError::new(e.code, e.message.clone()).status(e.status);
    se.fields = e.fields.iter().map(|(k, v)| ((*k).to_owned(), Value::String(v.clone()))).collect();
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

/// CopyObject: `x-amz-copy-source` (`[/]bucket/key[?versionId=…]`, percent-encoded).
fn copy_object(s3: &S3Service, caller: &Caller, bucket: &str, v: &Value) -> Result<Value, S3Error> {
    let raw = text(v, "CopySource");
    let (path, version) = match raw.split_once("?versionId=") {
        Some((p, ver)) => (p.to_owned(), Some(ver.to_owned())),
        None => (raw.clone(), None),
    };
    let decoded = percent_encoding::percent_decode_str(path.trim_start_matches('/')).decode_utf8_lossy().into_owned();
    let Some((src_bucket, src_key)) = decoded.split_once('/').filter(|(b, k)| !b.is_empty() && !k.is_empty()) else {
        return Err(S3Error::new(
            "InvalidArgument",
            400,
            "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
        )
        .with("ArgumentName", "x-amz-copy-source")
        .with("ArgumentValue", raw));
    };
    let replace = match v.get("MetadataDirective").and_then(Value::as_str) {
        Some("REPLACE") => Some(meta_of(v)),
        Some("COPY") | None => None,
        Some(other) => {
            return Err(S3Error::new("InvalidArgument", 400, format!("Unknown metadata directive: {other}"))
                .with("ArgumentName", "x-amz-metadata-directive")
                .with("ArgumentValue", other))
        }
    };
    let input = CopyInput {
        source: (src_bucket.to_owned(), src_key.to_owned(), version),
        bucket: bucket.to_owned(),
        key: text(v, "Key"),
        replace,
        conditions: conditions(v, "CopySource"),
    };
    let o = s3.copy_object(caller, input)?;
    Ok(json!({
        "CopyObjectResult": { "ETag": o.etag, "LastModified": secs(o.modified_ms) },
        "ServerSideEncryption": "AES256",
    }))
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
    }
}

/// An upload's bytes as they arrive.
type Upload = std::pin::Pin<Box<dyn futures_util::Stream<Item = Result<Bytes, S3Error>> + Send>>;

/// The body of a PutObject or UploadPart as its bytes arrive (`aws-chunked` decoded), its
/// length when the request says, and the CRC32 it declares (`x-amz-checksum-crc32` as a
/// header or a trailer, or `x-amz-sdk-checksum-algorithm: CRC32`).
fn upload_body(parts: &Parts, body: Body) -> (Option<u64>, Upload, Option<s3::DeclaredCrc32>) {
    let header = |n: &str| parts.headers.get(n).and_then(|v| v.to_str().ok());
    let chunked = header("x-amz-content-sha256").is_some_and(|h| h.starts_with("STREAMING-"))
        || header("content-encoding").is_some_and(|e| e.split(',').any(|p| p.trim() == "aws-chunked"));
    let declared = |n: &str| header(n).and_then(|v| v.parse::<u64>().ok());
    let length = if chunked { declared("x-amz-decoded-content-length") } else { declared("content-length") };
    const CRC32: &str = "x-amz-checksum-crc32";
    let trailing = header("x-amz-trailer").is_some_and(|t| t.split(',').any(|n| n.trim().eq_ignore_ascii_case(CRC32)));
    let slot = trailing.then(|| std::sync::Arc::new(model::sync::Mutex::new(None)));
    let algorithm = header("x-amz-sdk-checksum-algorithm").is_some_and(|a| a.eq_ignore_ascii_case("CRC32"));
    let crc32 = (header(CRC32).is_some() || slot.is_some() || algorithm)
        .then(|| s3::DeclaredCrc32 { header: header(CRC32).map(str::to_owned), trailer: slot.clone() });
    let raw = body.into_data_stream().map(|r| r.map_err(|e| S3Error::new("IncompleteBody", 400, e.to_string())));
    if chunked {
        (length, Box::pin(crate::chunked::decode(raw, slot.map(|s| (CRC32, s)))), crc32)
    } else {
        (length, Box::pin(raw), crc32)
    }
}

async fn put_object(
    s: &ApiState,
    call: &Call,
    model: &protocol::Model,
    op: &str,
    parts: Parts,
    body: Body,
) -> Response {
    let input = match read(model, op, &parts, &call.path, Bytes::new()) {
        Ok(i) => i.value,
        Err(e) => return ingress::error("s3", Protocol::RestXml, &e, &call.request_id),
    };
    let (length, body, crc32) = upload_body(&parts, body);
    let content_md5 = input.get("ContentMD5").and_then(Value::as_str).map(str::to_owned);
    let (bucket, key) = (text(&input, "Bucket"), text(&input, "Key"));
    let out = if op == "UploadPart" {
        let part = s3::PartInput {
            bucket,
            key,
            upload_id: text(&input, "UploadId"),
            number: input.get("PartNumber").and_then(Value::as_i64).unwrap_or(0),
            content_md5,
            length,
        };
        s.s3.upload_part(&call.caller, part, body)
            .await
            .map(|etag| json!({ "ETag": etag, "ServerSideEncryption": "AES256" }))
    } else {
        let conditions = conditions(&input, "");
        let mut meta = meta_of(&input);
        if let Some(tagging) = input.get("Tagging").and_then(Value::as_str) {
            let pairs: Vec<(String, String)> = form_urlencoded::parse(tagging.as_bytes()).into_owned().collect();
            match s3::check_tags(&pairs, 10, "Object") {
                Ok(tags) => meta.tags = tags,
                Err(e) => {
                    let mut resp = fail(call, &e);
                    resp.headers_mut().insert("connection", axum::http::HeaderValue::from_static("close"));
                    return resp;
                }
            }
        }
        let put = PutInput { bucket, key, meta, content_md5, length, conditions, crc32 };
        let stored = s.s3.put_object(&call.caller, put, body).await;
        stored.map(|o| {
            let mut out = json!({ "ETag": o.etag, "ServerSideEncryption": "AES256", "VersionId": o.version_id });
            if let Some((_, value)) = &o.meta.checksum {
                out["ChecksumCRC32"] = json!(value);
                out["ChecksumType"] = json!("FULL_OBJECT");
            }
            out
        })
    };
    match out {
        Ok(out) => ingress::answer(model, Protocol::RestXml, op, out, &call.request_id),
        Err(e) => {
            // The body may not have been read to its end: the connection cannot carry
            // another request, and says so.
            let mut resp = fail(call, &e);
            resp.headers_mut().insert("connection", axum::http::HeaderValue::from_static("close"));
            resp
        }
    }
}

async fn complete_upload(s: &ApiState, call: &Call, model: &protocol::Model, parts: Parts, body: Body) -> Response {
    let Some(bytes) = ingress::read_body(&parts, body, MAX_XML).await else {
        return fail(
            call,
            &S3Error::new("EntityTooLarge", 400, "Your proposed upload exceeds the maximum allowed size"),
        );
    };
    let input = match read(model, "CompleteMultipartUpload", &parts, &call.path, bytes) {
        Ok(i) => i.value,
        Err(e) => return ingress::error("s3", Protocol::RestXml, &e, &call.request_id),
    };
    let listed: Vec<(i64, String)> = input
        .pointer("/MultipartUpload/Parts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|p| (p.get("PartNumber").and_then(Value::as_i64).unwrap_or(0), text(p, "ETag")))
        .collect();
    let (bucket, key, id) = (text(&input, "Bucket"), text(&input, "Key"), text(&input, "UploadId"));
    match s.s3.complete_upload(&call.caller, &bucket, &key, &id, &listed).await {
        Ok(o) => {
            let out = json!({
                "Location": format!("/{bucket}/{}", percent_encoding::utf8_percent_encode(&key, KEY_ENCODED)),
                "Bucket": bucket,
                "Key": key,
                "ETag": o.etag,
                "ServerSideEncryption": "AES256",
            });
            ingress::answer(model, Protocol::RestXml, "CompleteMultipartUpload", out, &call.request_id)
        }
        Err(e) => fail(call, &e),
    }
}

fn list_parts(s3: &S3Service, caller: &Caller, bucket: &str, v: &Value) -> Result<Value, S3Error> {
    let (key, id) = (text(v, "Key"), text(v, "UploadId"));
    let max = v.get("MaxParts").and_then(Value::as_i64).map_or(1000, |m| m.clamp(0, 1000) as usize);
    let marker = v.get("PartNumberMarker").and_then(Value::as_str).and_then(|m| m.parse().ok()).unwrap_or(0);
    let (parts, truncated) = s3.list_parts(caller, bucket, &key, &id, marker, max)?;
    let listed: Vec<Value> = parts
        .iter()
        .map(|p| json!({ "PartNumber": p.number, "LastModified": secs(p.modified_ms), "ETag": p.etag, "Size": p.size }))
        .collect();
    let mut out = json!({
        "Bucket": bucket,
        "Key": key,
        "UploadId": id,
        "PartNumberMarker": marker.to_string(),
        "MaxParts": max,
        "IsTruncated": truncated,
        "Parts": listed,
        "Initiator": owner(&caller.account),
        "Owner": owner(&caller.account),
        "StorageClass": "STANDARD",
    });
    if let Some(last) = parts.last().filter(|_| truncated) {
        out["NextPartNumberMarker"] = json!(last.number.to_string());
    }
    Ok(out)
}

fn list_uploads(s3: &S3Service, caller: &Caller, bucket: &str, v: &Value) -> Result<Value, S3Error> {
    let max = v.get("MaxUploads").and_then(Value::as_i64).map_or(1000, |m| m.clamp(0, 1000) as usize);
    let (prefix, key_marker, id_marker) = (text(v, "Prefix"), text(v, "KeyMarker"), text(v, "UploadIdMarker"));
    let (uploads, truncated) = s3.list_uploads(caller, bucket, &prefix, (&key_marker, &id_marker), max)?;
    let listed: Vec<Value> = uploads
        .iter()
        .map(|u| {
            json!({
                "UploadId": u.id,
                "Key": u.key,
                "Initiated": secs(u.initiated_ms),
                "StorageClass": "STANDARD",
                "Owner": owner(&caller.account),
                "Initiator": owner(&caller.account),
            })
        })
        .collect();
    let mut out = json!({
        "Bucket": bucket,
        "KeyMarker": key_marker,
        "UploadIdMarker": id_marker,
        "MaxUploads": max,
        "IsTruncated": truncated,
        "Uploads": listed,
        "Prefix": prefix,
    });
    if let Some(last) = uploads.last().filter(|_| truncated) {
        out["NextKeyMarker"] = json!(last.key);
        out["NextUploadIdMarker"] = json!(last.id);
    }
    Ok(out)
}

async fn get_object(s: &ApiState, call: &Call, model: &protocol::Model, op: &str, parts: &Parts) -> Response {
    let input = match read(model, op, parts, &call.path, Bytes::new()) {
        Ok(i) => i.value,
        Err(e) => return ingress::error("s3", Protocol::RestXml, &e, &call.request_id),
    };
    let (s3, caller, bucket, key) = (s.s3.clone(), call.caller.clone(), text(&input, "Bucket"), text(&input, "Key"));
    let version = input.get("VersionId").and_then(Value::as_str).map(str::to_owned);
    let found = tokio::task::spawn_blocking(move || s3.object(&caller, &bucket, &key, version.as_deref())).await;
    let o = match found.unwrap_or_else(|e| Err(S3Error::internal(e))) {
        Ok(o) => o,
        Err(e) => return fail(call, &e),
    };
    if let Err(e) = conditions(&input, "").check_read(&o) {
        return match e.status {
            304 => {
                let headers = json!({ "ETag": o.etag, "LastModified": secs(o.modified_ms) });
                let mut resp = ingress::answer(model, Protocol::RestXml, op, headers, &call.request_id);
                *resp.status_mut() = axum::http::StatusCode::NOT_MODIFIED;
                *resp.body_mut() = Body::empty();
                resp.headers_mut().remove("content-type");
                resp
            }
            _ => fail(call, &e),
        };
    }
    let range = match Range::read(parts.headers.get("range").and_then(|v| v.to_str().ok()), o.size) {
        Ok(r) => r,
        Err(e) => return fail(call, &e),
    };
    let (start, len) = range.map_or((0, o.size), |r| (r.start, r.end - r.start + 1));
    let mut out = object_headers(&o);
    out["ContentLength"] = json!(len);
    if let Some(r) = range {
        out["ContentRange"] = json!(format!("bytes {}-{}/{}", r.start, r.end, o.size));
    }
    let mut resp = ingress::answer(model, Protocol::RestXml, op, out, &call.request_id);
    if range.is_some() {
        *resp.status_mut() = axum::http::StatusCode::PARTIAL_CONTENT;
    }
    resp.headers_mut().insert("content-length", len.into());
    if let Some(v) = o.meta.expires.as_deref().and_then(|e| axum::http::HeaderValue::from_str(e).ok()) {
        resp.headers_mut().insert("expires", v);
    }
    if op == "HeadObject" || call.head {
        *resp.body_mut() = Body::empty();
        return resp;
    }
    match file_stream(&s.s3.blobs().path(&o.blob), start, len).await {
        Ok(body) => {
            *resp.body_mut() = body;
            resp
        }
        Err(e) => fail(call, &S3Error::internal(e)),
    }
}

/// The headers GetObject and HeadObject answer with.
fn object_headers(o: &Stored) -> Value {
    let m = &o.meta;
    let mut out = json!({
        "ETag": o.etag,
        "LastModified": secs(o.modified_ms),
        "AcceptRanges": "bytes",
        "ContentType": m.content_type.clone().unwrap_or_else(|| "binary/octet-stream".into()),
        "ServerSideEncryption": "AES256",
        "Metadata": m.metadata,
    });
    let mut put = |k: &str, v: &Option<String>| {
        if let Some(v) = v {
            out[k] = json!(v);
        }
    };
    put("ContentEncoding", &m.content_encoding);
    put("ContentDisposition", &m.content_disposition);
    put("ContentLanguage", &m.content_language);
    put("CacheControl", &m.cache_control);
    put("VersionId", &o.version_id);
    if !m.tags.is_empty() {
        out["TagCount"] = json!(m.tags.len());
    }
    out
}

/// `len` bytes of a file from `start`, as a body read 1 MiB at a time (each read is a
/// trip to the blocking pool: fewer, larger reads stream faster).
async fn file_stream(path: &std::path::Path, start: u64, len: u64) -> std::io::Result<Body> {
    use tokio::io::{AsyncReadExt, AsyncSeekExt};
    const CHUNK: u64 = 1024 * 1024;
    let mut file = tokio::fs::File::open(path).await?;
    file.seek(std::io::SeekFrom::Start(start)).await?;
    let stream = futures_util::stream::unfold((file, len), |(mut file, left)| async move {
        if left == 0 {
            return None;
        }
        let mut buf = bytes::BytesMut::with_capacity(left.min(CHUNK) as usize);
        let mut limited = (&mut file).take(left.min(CHUNK));
        match limited.read_buf(&mut buf).await {
            Ok(0) => Some((Err(std::io::Error::other("the object's file ended early")), (file, 0))),
            Ok(n) => Some((Ok(buf.freeze()), (file, left - n as u64))),
            Err(e) => Some((Err(e), (file, 0))),
        }
    });
    Ok(Body::from_stream(stream))
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
        assert_eq!(e.fields[1], ("Expires", "2026-12-06T00:01:00Z".to_owned()));
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
