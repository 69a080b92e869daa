//! S3's listings: ListObjects, ListObjectsV2, ListObjectVersions, ListParts and
//! ListMultipartUploads, with `encoding-type=url`.

use super::*;

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
                c["ChecksumType"] = json!(if o.meta.composite { "COMPOSITE" } else { "FULL_OBJECT" });
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

pub(super) fn list_versions(s3: &S3Service, caller: &Caller, bucket: &str, v: &Value) -> Result<Value, S3Error> {
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
                entry["ChecksumType"] = json!(if o.meta.composite { "COMPOSITE" } else { "FULL_OBJECT" });
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

pub(super) fn list_v1(s3: &S3Service, caller: &Caller, bucket: &str, v: &Value) -> Result<Value, S3Error> {
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

pub(super) fn list_v2(s3: &S3Service, caller: &Caller, bucket: &str, v: &Value) -> Result<Value, S3Error> {
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

pub(super) fn list_parts(s3: &S3Service, caller: &Caller, bucket: &str, v: &Value) -> Result<Value, S3Error> {
    let (key, id) = (text(v, "Key"), text(v, "UploadId"));
    let max = v.get("MaxParts").and_then(Value::as_i64).map_or(1000, |m| m.clamp(0, 1000) as usize);
    let marker = v.get("PartNumberMarker").and_then(Value::as_str).and_then(|m| m.parse().ok()).unwrap_or(0);
    let (parts, truncated) = s3.list_parts(caller, bucket, &key, &id, marker, max)?;
    let listed: Vec<Value> = parts
        .iter()
        .map(|p| {
            let mut part =
                json!({ "PartNumber": p.number, "LastModified": secs(p.modified_ms), "ETag": p.etag, "Size": p.size });
            if let Some((algorithm, value)) = &p.checksum {
                part[algorithm.member()] = json!(value);
            }
            part
        })
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

pub(super) fn list_uploads(s3: &S3Service, caller: &Caller, bucket: &str, v: &Value) -> Result<Value, S3Error> {
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

/// ListBuckets: the caller's buckets by name, filtered by `Prefix` and `BucketRegion`, a
/// page of `MaxBuckets` at a time after a `ContinuationToken` (the last name, base64).
pub(super) fn list_buckets(s3: &S3Service, caller: &Caller, v: &Value) -> Result<Value, S3Error> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let prefix = v.get("Prefix").and_then(Value::as_str).unwrap_or_default();
    let region = v.get("BucketRegion").and_then(Value::as_str);
    if region.is_some_and(|r| !s3::names::region_known(r)) {
        let message = format!("Argument value {} is not a valid AWS Region", region.unwrap_or_default());
        return Err(S3Error::new("InvalidArgument", 400, message).with("ArgumentName", "bucket-region"));
    }
    let max = v.get("MaxBuckets").and_then(Value::as_i64).map_or(10_000, |m| m.clamp(1, 10_000) as usize);
    let token = v.get("ContinuationToken").and_then(Value::as_str).filter(|t| !t.is_empty());
    let after = token.and_then(|t| b64.decode(t).ok()).and_then(|b| String::from_utf8(b).ok()).unwrap_or_default();
    let matching: Vec<s3::Bucket> = s3
        .list_buckets(caller)?
        .into_iter()
        .filter(|b| b.name.starts_with(prefix) && b.name > after && region.is_none_or(|r| b.region == r))
        .collect();
    let page = &matching[..matching.len().min(max)];
    let buckets: Vec<Value> = page
        .iter()
        .map(|b| {
            json!({
                "Name": b.name,
                "CreationDate": secs(b.created_ms),
                "BucketRegion": b.region,
                "BucketArn": format!("arn:aws:s3:::{}", b.name),
            })
        })
        .collect();
    let mut out = json!({ "Buckets": buckets, "Owner": owner(&caller.account) });
    if let Some(last) = page.last().filter(|_| matching.len() > max) {
        out["ContinuationToken"] = json!(b64.encode(&last.name));
    }
    if v.get("Prefix").is_some() {
        out["Prefix"] = json!(prefix);
    }
    Ok(out)
}

/// `EncodingType`: only `url` is one (S3's error for any other, empty included).
pub(super) fn check_encoding(v: &Value) -> Result<(), S3Error> {
    match v.get("EncodingType").and_then(Value::as_str) {
        None | Some("url") => Ok(()),
        Some(other) => {
            let e = S3Error::new("InvalidArgument", 400, "Invalid Encoding Method specified in Request")
                .with("ArgumentName", "encoding-type");
            Err(if other.is_empty() { e } else { e.with("ArgumentValue", other) })
        }
    }
}
