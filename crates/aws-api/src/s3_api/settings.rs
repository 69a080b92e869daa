//! A bucket's settings kept as documents (Put/Get/Delete of CORS, lifecycle, policy,
//! encryption, public access block, ownership controls, website, logging, acceleration,
//! request payment, replication, Object Lock), ACLs, and CORS at the door: preflights and
//! the headers an allowed origin's request gets.

use s3::{Acl, Setting};

use super::*;

/// A setting's operations and document.
struct Doc {
    setting: Setting,
    put: &'static str,
    get: &'static str,
    delete: Option<&'static str>,
    /// The input member that holds its document.
    member: &'static str,
    /// Whether Get answers the document's members at the top, or the document under
    /// `member`.
    flat: bool,
}

/// Each setting.
const SETTINGS: &[Doc] = &[
    Doc {
        setting: Setting::Cors,
        put: "PutBucketCors",
        get: "GetBucketCors",
        delete: Some("DeleteBucketCors"),
        member: "CORSConfiguration",
        flat: true,
    },
    Doc {
        setting: Setting::Lifecycle,
        put: "PutBucketLifecycleConfiguration",
        get: "GetBucketLifecycleConfiguration",
        delete: Some("DeleteBucketLifecycle"),
        member: "LifecycleConfiguration",
        flat: true,
    },
    Doc {
        setting: Setting::Policy,
        put: "PutBucketPolicy",
        get: "GetBucketPolicy",
        delete: Some("DeleteBucketPolicy"),
        member: "Policy",
        flat: false,
    },
    Doc {
        setting: Setting::Encryption,
        put: "PutBucketEncryption",
        get: "GetBucketEncryption",
        delete: Some("DeleteBucketEncryption"),
        member: "ServerSideEncryptionConfiguration",
        flat: false,
    },
    Doc {
        setting: Setting::PublicAccessBlock,
        put: "PutPublicAccessBlock",
        get: "GetPublicAccessBlock",
        delete: Some("DeletePublicAccessBlock"),
        member: "PublicAccessBlockConfiguration",
        flat: false,
    },
    Doc {
        setting: Setting::Ownership,
        put: "PutBucketOwnershipControls",
        get: "GetBucketOwnershipControls",
        delete: Some("DeleteBucketOwnershipControls"),
        member: "OwnershipControls",
        flat: false,
    },
    Doc {
        setting: Setting::Website,
        put: "PutBucketWebsite",
        get: "GetBucketWebsite",
        delete: Some("DeleteBucketWebsite"),
        member: "WebsiteConfiguration",
        flat: true,
    },
    Doc {
        setting: Setting::Logging,
        put: "PutBucketLogging",
        get: "GetBucketLogging",
        delete: None,
        member: "BucketLoggingStatus",
        flat: true,
    },
    Doc {
        setting: Setting::Accelerate,
        put: "PutBucketAccelerateConfiguration",
        get: "GetBucketAccelerateConfiguration",
        delete: None,
        member: "AccelerateConfiguration",
        flat: true,
    },
    Doc {
        setting: Setting::RequestPayment,
        put: "PutBucketRequestPayment",
        get: "GetBucketRequestPayment",
        delete: None,
        member: "RequestPaymentConfiguration",
        flat: true,
    },
    Doc {
        setting: Setting::Replication,
        put: "PutBucketReplication",
        get: "GetBucketReplication",
        delete: Some("DeleteBucketReplication"),
        member: "ReplicationConfiguration",
        flat: false,
    },
    Doc {
        setting: Setting::ObjectLock,
        put: "PutObjectLockConfiguration",
        get: "GetObjectLockConfiguration",
        delete: None,
        member: "ObjectLockConfiguration",
        flat: false,
    },
];

/// The operations served here.
pub(super) fn operations() -> impl Iterator<Item = &'static str> {
    let acl = ["PutBucketAcl", "GetBucketAcl", "PutObjectAcl", "GetObjectAcl"];
    SETTINGS.iter().flat_map(|d| [Some(d.put), Some(d.get), d.delete]).flatten().chain(acl)
}

/// Runs a setting's or an ACL's operation; `None` if `op` is neither.
pub(super) fn run(
    s3: &S3Service,
    caller: &Caller,
    op: &str,
    bucket: &str,
    v: &Value,
) -> Option<Result<Value, S3Error>> {
    let acl_op = || -> Result<Value, S3Error> {
        let key = text(v, "Key");
        let version = v.get("VersionId").and_then(Value::as_str);
        let (owner, grants) = match op {
            "PutBucketAcl" => {
                s3.put_bucket_acl(caller, bucket, &acl_of(v))?;
                return Ok(json!({}));
            }
            "PutObjectAcl" => {
                s3.put_object_acl(caller, bucket, &key, version, &acl_of(v))?;
                return Ok(json!({}));
            }
            "GetBucketAcl" => s3.bucket_acl(caller, bucket)?,
            _ => s3.object_acl(caller, bucket, &key, version)?,
        };
        Ok(json!({ "Owner": { "ID": owner }, "Grants": grants }))
    };
    if op.ends_with("Acl") {
        return Some(acl_op());
    }
    let d = SETTINGS.iter().find(|d| d.put == op || d.get == op || d.delete == Some(op))?;
    let out = if op == d.put {
        let doc = v.get(d.member).cloned().unwrap_or(Value::Null);
        s3.put_setting(caller, bucket, d.setting, doc).map(|()| json!({}))
    } else if op == d.get {
        s3.setting(caller, bucket, d.setting).map(|doc| if d.flat { doc } else { json!({ d.member: doc }) })
    } else {
        return Some(s3.delete_setting(caller, bucket, d.setting).map(|()| json!({})));
    };
    // Lifecycle answers say which objects transitions leave alone: S3's default.
    Some(out.map(|mut out| {
        if d.setting == Setting::Lifecycle {
            out["TransitionDefaultMinimumObjectSize"] = json!("all_storage_classes_128K");
        }
        out
    }))
}

/// The ACL a request sets: `x-amz-acl`, or its `AccessControlPolicy`'s grants.
pub(super) fn acl_of(v: &Value) -> Acl {
    match v.get("ACL").and_then(Value::as_str) {
        Some(canned) => Acl::Canned(canned.to_owned()),
        None => {
            Acl::Grants(v.pointer("/AccessControlPolicy/Grants").and_then(Value::as_array).cloned().unwrap_or_default())
        }
    }
}

/// A preflight (`OPTIONS`): answered by the bucket's CORS rules, to anyone.
pub(super) fn preflight(s: &ApiState, call: &Call, parts: &Parts) -> Response {
    let header = |n: &str| parts.headers.get(n).and_then(|v| v.to_str().ok());
    let mut segments = call.path.trim_start_matches('/').splitn(2, '/');
    let bucket = segments.next().unwrap_or_default();
    let object = segments.next().is_some_and(|k| !k.is_empty());
    let requested: Vec<String> = header("access-control-request-headers")
        .map(|h| h.split(',').map(|n| n.trim().to_ascii_lowercase()).filter(|n| !n.is_empty()).collect())
        .unwrap_or_default();
    let method = header("access-control-request-method");
    match s.s3.preflight(bucket, object, header("origin"), method, &requested) {
        Ok(headers) => {
            let mut resp = axum::http::StatusCode::OK.into_response();
            add_headers(&mut resp, &headers);
            resp
        }
        Err(e) => fail(call, &e),
    }
}

/// An allowed origin's request gets the CORS headers of the rule that allows it.
pub(super) fn decorate(s: &ApiState, call: &Call, origin: &str, method: &str, resp: &mut Response) {
    let bucket = call.path.trim_start_matches('/').split('/').next().unwrap_or_default();
    if !bucket.is_empty() {
        add_headers(resp, &s.s3.cors_headers(bucket, origin, method));
    }
}

fn add_headers(resp: &mut Response, headers: &[(&'static str, String)]) {
    for (name, value) in headers {
        if let Ok(v) = axum::http::HeaderValue::from_str(value) {
            resp.headers_mut().insert(*name, v);
        }
    }
}
