//! S3's object bodies and object writes: PutObject and UploadPart streamed in,
//! CompleteMultipartUpload, GetObject and HeadObject streamed out, CopyObject,
//! UploadPartCopy and DeleteObjects.

use super::settings;
use super::*;

pub(super) fn delete_objects(s3: &S3Service, caller: &Caller, bucket: &str, v: &Value) -> Result<Value, S3Error> {
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

/// `x-amz-copy-source` (`[/]bucket/key[?versionId=…]`, percent-encoded): bucket, key and
/// version.
fn copy_source(v: &Value) -> Result<(String, String, Option<String>), S3Error> {
    let raw = text(v, "CopySource");
    let (path, version) = match raw.split_once("?versionId=") {
        Some((p, ver)) => (p.to_owned(), Some(ver.to_owned())),
        None => (raw.clone(), None),
    };
    let decoded = percent_encoding::percent_decode_str(path.trim_start_matches('/')).decode_utf8_lossy().into_owned();
    match decoded.split_once('/').filter(|(b, k)| !b.is_empty() && !k.is_empty()) {
        Some((bucket, key)) => Ok((bucket.to_owned(), key.to_owned(), version)),
        None => Err(S3Error::new(
            "InvalidArgument",
            400,
            "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
        )
        .with("ArgumentName", "x-amz-copy-source")
        .with("ArgumentValue", raw)),
    }
}

/// UploadPartCopy: a part made of (a range of) another object.
pub(super) async fn upload_part_copy(s: &ApiState, call: &Call, model: &protocol::Model, parts: Parts) -> Response {
    let v = match read(model, "UploadPartCopy", &parts, &call.path, Bytes::new()) {
        Ok(i) => i.value,
        Err(e) => return ingress::error("s3", Protocol::RestXml, &e, &call.request_id),
    };
    let copied = async {
        let source = copy_source(&v)?;
        let part = s3::PartInput {
            bucket: text(&v, "Bucket"),
            key: text(&v, "Key"),
            upload_id: text(&v, "UploadId"),
            number: v.get("PartNumber").and_then(Value::as_i64).unwrap_or(0),
            content_md5: None,
            length: None,
            checksum: None,
        };
        let range = v.get("CopySourceRange").and_then(Value::as_str);
        let copied = s.s3.upload_part_copy(&call.caller, part, source, range, &conditions(&v, "CopySource")).await?;
        Ok::<_, S3Error>(copied.etag)
    };
    match copied.await {
        Ok(etag) => {
            let result = json!({ "ETag": etag, "LastModified": secs(model::clock::now_ms()) });
            let out = json!({ "CopyPartResult": result, "ServerSideEncryption": "AES256" });
            ingress::answer(model, Protocol::RestXml, "UploadPartCopy", out, &call.request_id)
        }
        Err(e) => fail(call, &e),
    }
}

/// CopyObject.
pub(super) fn copy_object(s3: &S3Service, caller: &Caller, bucket: &str, v: &Value) -> Result<Value, S3Error> {
    let (src_bucket, src_key, version) = copy_source(v)?;
    s3::names::check_storage_class(v.get("StorageClass").and_then(Value::as_str))?;
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
        source: (src_bucket, src_key, version),
        bucket: bucket.to_owned(),
        key: text(v, "Key"),
        replace,
        conditions: conditions(v, "CopySource"),
        checksum: v.get("ChecksumAlgorithm").and_then(Value::as_str).and_then(s3::Algorithm::parse),
        changes_attributes: ["StorageClass", "WebsiteRedirectLocation", "ServerSideEncryption", "SSEKMSKeyId"]
            .iter()
            .any(|m| v.get(*m).is_some()),
        write_conditions: Conditions {
            if_match: v.get("IfMatch").and_then(Value::as_str).map(str::to_owned),
            if_none_match: v.get("IfNoneMatch").and_then(Value::as_str).map(str::to_owned),
            ..Conditions::default()
        },
    };
    let o = s3.copy_object(caller, input)?;
    let mut result = json!({ "ETag": o.etag, "LastModified": secs(o.modified_ms) });
    checksum_members(&mut result, &o.meta);
    Ok(json!({
        "CopyObjectResult": result,
        "ServerSideEncryption": "AES256",
        "VersionId": o.version_id,
        "CopySourceVersionId": o.copied_from,
        "Expiration": o.expiration,
    }))
}

/// An upload's bytes as they arrive.
type Upload = std::pin::Pin<Box<dyn futures_util::Stream<Item = Result<Bytes, S3Error>> + Send>>;

/// The body of a PutObject or UploadPart as its bytes arrive (`aws-chunked` decoded), its
/// length when the request says, and the checksum it declares: `x-amz-checksum-<alg>` as
/// a header or a trailer (`x-amz-trailer`), or only its algorithm
/// (`x-amz-sdk-checksum-algorithm`, for S3 to compute and keep).
fn upload_body(parts: &Parts, body: Body) -> (Option<u64>, Upload, Option<s3::Declared>) {
    let header = |n: &str| parts.headers.get(n).and_then(|v| v.to_str().ok());
    let chunked = header("x-amz-content-sha256").is_some_and(|h| h.starts_with("STREAMING-"))
        || header("content-encoding").is_some_and(|e| e.split(',').any(|p| p.trim() == "aws-chunked"));
    let declared = |n: &str| header(n).and_then(|v| v.parse::<u64>().ok());
    let length = if chunked { declared("x-amz-decoded-content-length") } else { declared("content-length") };
    let algorithms = s3::Algorithm::NAMES.iter().filter_map(|n| s3::Algorithm::parse(n));
    let trailer = header("x-amz-trailer").map(|t| t.trim().to_ascii_lowercase());
    let named = |a: s3::Algorithm| header(&a.header()).is_some() || trailer.as_deref() == Some(a.header().as_str());
    let sdk = header("x-amz-sdk-checksum-algorithm").and_then(|a| s3::Algorithm::parse(&a.to_ascii_uppercase()));
    let algorithm = algorithms.clone().find(|a| named(*a)).or(sdk);
    let slot = algorithm
        .filter(|a| trailer.as_deref() == Some(a.header().as_str()))
        .map(|a| (a.header(), std::sync::Arc::new(model::sync::Mutex::new(None))));
    let checksum = algorithm.map(|a| s3::Declared {
        algorithm: a,
        header: header(&a.header()).map(str::to_owned),
        trailer: slot.as_ref().map(|(_, s)| s.clone()),
    });
    let raw = body.into_data_stream().map(|r| {
        r.map_err(|e| match super::signed::is_digest_mismatch(&e) {
            true => super::signed::DigestMismatch::error(),
            false => S3Error::new("IncompleteBody", 400, e.to_string()),
        })
    });
    if chunked {
        let signer = parts.extensions.get::<super::signed::ChunkSigning>().map(|s| s.0.clone());
        (length, Box::pin(crate::chunked::decode(raw, slot, signer)), checksum)
    } else {
        (length, Box::pin(raw), checksum)
    }
}

/// A kept checksum's output members (`ChecksumSHA256`, `ChecksumType`).
pub(super) fn checksum_members(out: &mut Value, meta: &ObjectMeta) {
    if let Some((algorithm, value)) = &meta.checksum {
        out[format!("Checksum{algorithm}")] = json!(value);
        out["ChecksumType"] = json!(if meta.composite { "COMPOSITE" } else { "FULL_OBJECT" });
    }
}

pub(super) async fn put_object(
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
    let (length, body, checksum) = upload_body(&parts, body);
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
            checksum,
        };
        s.s3.upload_part(&call.caller, part, body).await.map(|written| {
            let mut out = json!({ "ETag": written.etag, "ServerSideEncryption": "AES256" });
            if let Some((algorithm, value)) = written.checksum {
                out[algorithm.member()] = json!(value);
            }
            out
        })
    } else {
        let conditions = conditions(&input, "");
        let mut meta = meta_of(&input);
        if let Err(e) = s3::names::check_storage_class(input.get("StorageClass").and_then(Value::as_str)) {
            let mut resp = fail(call, &e);
            resp.headers_mut().insert("connection", axum::http::HeaderValue::from_static("close"));
            return resp;
        }
        if input.get("ACL").is_some() {
            match s.s3.acl_grants(&call.caller, &bucket, &settings::acl_of(&input)) {
                Ok(grants) => meta.acl = Some(grants),
                Err(e) => {
                    let mut resp = fail(call, &e);
                    resp.headers_mut().insert("connection", axum::http::HeaderValue::from_static("close"));
                    return resp;
                }
            }
        }
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
        let put = PutInput { bucket, key, meta, content_md5, length, conditions, checksum };
        let stored = s.s3.put_object(&call.caller, put, body).await;
        stored.map(|o| {
            let mut out = json!({
                "ETag": o.etag,
                "ServerSideEncryption": "AES256",
                "VersionId": o.version_id,
                "Expiration": o.expiration,
            });
            checksum_members(&mut out, &o.meta);
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

pub(super) async fn complete_upload(
    s: &ApiState,
    call: &Call,
    model: &protocol::Model,
    parts: Parts,
    body: Body,
) -> Response {
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
    let listed: Vec<s3::ListedPart> = input
        .pointer("/MultipartUpload/Parts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|p| s3::ListedPart {
            number: p.get("PartNumber").and_then(Value::as_i64).unwrap_or(0),
            etag: text(p, "ETag"),
            checksum: s3::Algorithm::NAMES
                .iter()
                .filter_map(|n| s3::Algorithm::parse(n))
                .find_map(|a| p.get(a.member()).and_then(Value::as_str).map(|v| (a, v.to_owned()))),
        })
        .collect();
    let (bucket, key, id) = (text(&input, "Bucket"), text(&input, "Key"), text(&input, "UploadId"));
    match s.s3.complete_upload(&call.caller, &bucket, &key, &id, &listed, &conditions(&input, "")).await {
        Ok(o) => {
            let mut out = json!({
                "Location": format!("/{bucket}/{}", percent_encoding::utf8_percent_encode(&key, KEY_ENCODED)),
                "Bucket": bucket,
                "Key": key,
                "ETag": o.etag,
                "ServerSideEncryption": "AES256",
                "VersionId": o.version_id,
                "Expiration": o.expiration,
            });
            checksum_members(&mut out, &o.meta);
            ingress::answer(model, Protocol::RestXml, "CompleteMultipartUpload", out, &call.request_id)
        }
        Err(e) => fail(call, &e),
    }
}

pub(super) async fn get_object(
    s: &ApiState,
    call: &Call,
    model: &protocol::Model,
    op: &str,
    parts: &Parts,
) -> Response {
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
    let part = input.get("PartNumber").and_then(Value::as_i64);
    let range = match part {
        // A part is the range it was uploaded as.
        Some(n) => match o.meta.part_range(n, o.size) {
            Ok((start, len)) => Some(Range { start, end: (start + len).max(1) - 1 }).filter(|_| len > 0),
            Err(e) => return fail(call, &e),
        },
        None => match Range::read(parts.headers.get("range").and_then(|v| v.to_str().ok()), o.size) {
            Ok(r) => r,
            Err(e) => return fail(call, &e),
        },
    };
    let (start, len) = range.map_or((0, o.size), |r| (r.start, r.end - r.start + 1));
    let mut out = object_headers(&o);
    if let Some(n) = part.filter(|_| !o.meta.parts.is_empty()) {
        out["PartsCount"] = json!(o.meta.parts.len());
        if input.get("ChecksumMode").and_then(Value::as_str) == Some("ENABLED") && o.meta.composite {
            let sum = usize::try_from(n - 1).ok().and_then(|i| o.meta.parts.get(i)?.checksum.clone());
            if let (Some((algorithm, _)), Some(sum)) = (&o.meta.checksum, sum) {
                out[format!("Checksum{algorithm}")] = json!(sum);
                out["ChecksumType"] = json!("COMPOSITE");
            }
        }
    }
    // The whole object's checksum, when asked for (a range has none).
    if input.get("ChecksumMode").and_then(Value::as_str) == Some("ENABLED") && range.is_none() && part.is_none() {
        checksum_members(&mut out, &o.meta);
    }
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
    match s.s3.read_blob(&o.blob, start, len).await {
        Ok(bytes) => {
            *resp.body_mut() = Body::from_stream(bytes);
            resp
        }
        Err(e) => fail(call, &e),
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
    if let Some(e) = &o.expiration {
        out["Expiration"] = json!(e);
    }
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

/// GetObjectAttributes: the attributes `x-amz-object-attributes` names.
pub(super) fn object_attributes(s3: &S3Service, caller: &Caller, bucket: &str, v: &Value) -> Result<Value, S3Error> {
    let version = v.get("VersionId").and_then(Value::as_str);
    let o = s3.object(caller, bucket, &text(v, "Key"), version)?;
    let wanted: Vec<&str> =
        v.get("ObjectAttributes").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
    let mut out = json!({ "LastModified": secs(o.modified_ms), "VersionId": o.version_id });
    for attribute in wanted {
        match attribute {
            "ETag" => out["ETag"] = json!(o.etag.trim_matches('"')),
            "StorageClass" => out["StorageClass"] = json!("STANDARD"),
            "ObjectSize" => out["ObjectSize"] = json!(o.size),
            "Checksum" => {
                if let Some((algorithm, value)) = &o.meta.checksum {
                    // A composite checksum is given without its part count here.
                    let value = value.split_once('-').map_or(value.as_str(), |(v, _)| v);
                    out["Checksum"] = json!({
                        format!("Checksum{algorithm}"): value,
                        "ChecksumType": if o.meta.composite { "COMPOSITE" } else { "FULL_OBJECT" },
                    });
                }
            }
            "ObjectParts" if !o.meta.parts.is_empty() => {
                let mut parts = json!({ "TotalPartsCount": o.meta.parts.len() });
                if let Some((algorithm, _)) = o.meta.checksum.as_ref().filter(|_| o.meta.composite) {
                    let marker = v.get("PartNumberMarker").and_then(Value::as_i64).unwrap_or(0).max(0) as usize;
                    let max = v.get("MaxParts").and_then(Value::as_i64).map_or(1000, |m| m.clamp(0, 1000) as usize);
                    let listed: Vec<Value> = o.meta.parts.iter().enumerate().skip(marker).take(max).map(|(i, p)| {
                        json!({ "PartNumber": i + 1, "Size": p.size, format!("Checksum{algorithm}"): p.checksum })
                    }).collect();
                    let next = marker + listed.len();
                    parts["PartNumberMarker"] = json!(marker);
                    parts["NextPartNumberMarker"] = json!(next);
                    parts["MaxParts"] = json!(max);
                    parts["IsTruncated"] = json!(next < o.meta.parts.len());
                    parts["Parts"] = json!(listed);
                }
                out["ObjectParts"] = parts;
            }
            _ => {}
        }
    }
    Ok(out)
}
