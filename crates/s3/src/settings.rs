//! A bucket's settings that S3 keeps as the documents they were given in (the model's
//! input trees) and answers as they were: CORS, lifecycle, policy, default encryption,
//! public access block, ownership controls, website, logging, transfer acceleration,
//! request payment, replication and Object Lock. Each is checked as S3 checks it; a
//! bucket that never had one answers S3's default (encryption, public access block and
//! ownership controls, which every new bucket has) or S3's error for a missing one.

use serde_json::{json, Value};

use crate::{Caller, S3Error, S3Service};

/// A bucket setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    /// `CORSConfiguration`.
    Cors,
    /// `LifecycleConfiguration`.
    Lifecycle,
    /// The bucket policy (a JSON document, as text).
    Policy,
    /// `ServerSideEncryptionConfiguration`.
    Encryption,
    /// `PublicAccessBlockConfiguration`.
    PublicAccessBlock,
    /// `OwnershipControls`.
    Ownership,
    /// `WebsiteConfiguration`.
    Website,
    /// `BucketLoggingStatus`.
    Logging,
    /// `AccelerateConfiguration`.
    Accelerate,
    /// `RequestPaymentConfiguration`.
    RequestPayment,
    /// `ReplicationConfiguration`.
    Replication,
    /// `ObjectLockConfiguration`.
    ObjectLock,
}

/// What a bucket without a setting answers.
enum Absent {
    /// This document.
    Document(Value),
    /// This error (`NoSuchCORSConfiguration`, …).
    Error(&'static str, &'static str),
}

fn malformed() -> S3Error {
    S3Error::new(
        "MalformedXML",
        400,
        "The XML you provided was not well-formed or did not validate against our published schema",
    )
}

/// An `AccessControlPolicy` S3 cannot read.
pub(crate) fn malformed_acl() -> S3Error {
    S3Error::new(
        "MalformedACLError",
        400,
        "The XML you provided was not well-formed or did not validate against our published schema",
    )
}

/// The methods a CORS rule may allow.
const CORS_METHODS: [&str; 5] = ["GET", "PUT", "HEAD", "POST", "DELETE"];

impl Setting {
    /// Its key in the bucket's configuration document.
    fn key(self) -> &'static str {
        match self {
            Setting::Cors => "cors",
            Setting::Lifecycle => "lifecycle",
            Setting::Policy => "policy",
            Setting::Encryption => "encryption",
            Setting::PublicAccessBlock => "public_access_block",
            Setting::Ownership => "ownership",
            Setting::Website => "website",
            Setting::Logging => "logging",
            Setting::Accelerate => "accelerate",
            Setting::RequestPayment => "request_payment",
            Setting::Replication => "replication",
            Setting::ObjectLock => "object_lock",
        }
    }

    /// What a bucket answers that never had it set (`deleted`: or had it deleted).
    fn absent(self, deleted: bool) -> Absent {
        use Absent::{Document, Error};
        match self {
            Setting::Cors => Error("NoSuchCORSConfiguration", "The CORS configuration does not exist"),
            Setting::Lifecycle => Error("NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist"),
            Setting::Policy => Error("NoSuchBucketPolicy", "The bucket policy does not exist"),
            Setting::Website => {
                Error("NoSuchWebsiteConfiguration", "The specified bucket does not have a website configuration")
            }
            Setting::Replication => {
                Error("ReplicationConfigurationNotFoundError", "The replication configuration was not found")
            }
            Setting::ObjectLock => Error(
                "ObjectLockConfigurationNotFoundError",
                "Object Lock configuration does not exist for this bucket",
            ),
            // Every bucket has SSE-S3 by default, and gets it back when its own is deleted.
            Setting::Encryption => Document(json!({
                "Rules": [{ "ApplyServerSideEncryptionByDefault": { "SSEAlgorithm": "AES256" }, "BucketKeyEnabled": false }]
            })),
            Setting::PublicAccessBlock if deleted => {
                Error("NoSuchPublicAccessBlockConfiguration", "The public access block configuration was not found")
            }
            Setting::PublicAccessBlock => Document(json!({
                "BlockPublicAcls": true, "IgnorePublicAcls": true, "BlockPublicPolicy": true, "RestrictPublicBuckets": true,
            })),
            Setting::Ownership if deleted => {
                Error("OwnershipControlsNotFoundError", "The bucket ownership controls were not found")
            }
            Setting::Ownership => Document(json!({ "Rules": [{ "ObjectOwnership": "BucketOwnerEnforced" }] })),
            Setting::Logging | Setting::Accelerate => Document(json!({})),
            Setting::RequestPayment => Document(json!({ "Payer": "BucketOwner" })),
        }
    }

    /// Checks a document as S3 checks it before storing it.
    fn check(self, v: &Value) -> Result<(), S3Error> {
        let text = |v: &Value, m: &str| v.get(m).and_then(Value::as_str).map(str::to_owned);
        let list = |v: &Value, m: &str| v.get(m).and_then(Value::as_array).cloned().unwrap_or_default();
        match self {
            Setting::Cors => {
                let rules = list(v, "CORSRules");
                if rules.is_empty() || rules.len() > 100 {
                    return Err(malformed());
                }
                for rule in &rules {
                    let methods = list(rule, "AllowedMethods");
                    if methods.is_empty() || list(rule, "AllowedOrigins").is_empty() {
                        return Err(malformed());
                    }
                    if let Some(m) = methods.iter().filter_map(Value::as_str).find(|m| !CORS_METHODS.contains(m)) {
                        return Err(S3Error::new(
                            "InvalidRequest",
                            400,
                            format!("Found unsupported HTTP method in CORS config. Unsupported method is {m}"),
                        ));
                    }
                }
            }
            Setting::Lifecycle => {
                let rules = list(v, "Rules");
                if rules.is_empty() || rules.len() > 1000 {
                    return Err(malformed());
                }
                for rule in &rules {
                    if !matches!(text(rule, "Status").as_deref(), Some("Enabled" | "Disabled")) {
                        return Err(malformed());
                    }
                    for (action, path) in [
                        ("Expiration", "/Expiration/Days"),
                        ("NoncurrentVersionExpiration", "/NoncurrentVersionExpiration/NoncurrentDays"),
                        ("AbortIncompleteMultipartUpload", "/AbortIncompleteMultipartUpload/DaysAfterInitiation"),
                    ] {
                        if rule.pointer(path).and_then(Value::as_i64).is_some_and(|d| d < 1) {
                            return Err(S3Error::new(
                                "InvalidArgument",
                                400,
                                format!("'Days' for {action} action must be a positive integer"),
                            ));
                        }
                    }
                    if text(rule, "ID").is_some_and(|id| id.len() > 255) {
                        return Err(S3Error::new(
                            "InvalidArgument",
                            400,
                            "ID length should not exceed allowed limit of 255",
                        ));
                    }
                    let actions = [
                        "Expiration",
                        "Transitions",
                        "NoncurrentVersionExpiration",
                        "NoncurrentVersionTransitions",
                        "AbortIncompleteMultipartUpload",
                    ];
                    if !actions.iter().any(|a| rule.get(*a).is_some()) {
                        return Err(S3Error::new(
                            "InvalidRequest",
                            400,
                            "At least one action needs to be specified in a rule",
                        ));
                    }
                }
            }
            Setting::Policy => {
                let text = v.as_str().unwrap_or_default();
                iam::resource_policy::ResourcePolicy::parse(text)
                    .map_err(|_| S3Error::new("MalformedPolicy", 400, "This policy contains invalid Json"))?;
            }
            Setting::Encryption => {
                let rules = list(v, "Rules");
                let [rule] = rules.as_slice() else { return Err(malformed()) };
                let default = rule.get("ApplyServerSideEncryptionByDefault");
                let algorithm = default.and_then(|d| d.get("SSEAlgorithm")).and_then(Value::as_str);
                let kms = matches!(algorithm, Some("aws:kms" | "aws:kms:dsse"));
                if !(kms || algorithm == Some("AES256")) {
                    return Err(malformed());
                }
                if !kms && default.is_some_and(|d| d.get("KMSMasterKeyID").is_some()) {
                    return Err(S3Error::new(
                        "InvalidArgument",
                        400,
                        "a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse",
                    )
                    .with("ArgumentName", "ApplyServerSideEncryptionByDefault"));
                }
            }
            Setting::Ownership => {
                let rules = list(v, "Rules");
                let ownership = |r: &Value| text(r, "ObjectOwnership");
                let known = ["BucketOwnerPreferred", "ObjectWriter", "BucketOwnerEnforced"];
                if rules.len() != 1 || !ownership(&rules[0]).is_some_and(|o| known.contains(&o.as_str())) {
                    return Err(malformed());
                }
            }
            Setting::Accelerate => {
                if !matches!(text(v, "Status").as_deref(), Some("Enabled" | "Suspended")) {
                    return Err(malformed());
                }
            }
            Setting::RequestPayment => {
                if !matches!(text(v, "Payer").as_deref(), Some("Requester" | "BucketOwner")) {
                    return Err(malformed());
                }
            }
            Setting::PublicAccessBlock
            | Setting::Website
            | Setting::Logging
            | Setting::Replication
            | Setting::ObjectLock => {
                if !v.is_object() {
                    return Err(malformed());
                }
            }
        }
        Ok(())
    }
}

impl S3Service {
    /// `Put<Setting>`: checked, then stored as given.
    pub fn put_setting(&self, caller: &Caller, bucket: &str, setting: Setting, v: Value) -> Result<(), S3Error> {
        let mut doc = self.bucket_doc(caller, bucket)?;
        setting.check(&v)?;
        if setting == Setting::Policy {
            let b = self.owned(caller, bucket)?;
            self.check_public_policy(caller, &b, v.as_str().unwrap_or_default())?;
        }
        doc.settings.insert(setting.key().to_owned(), v);
        self.save_doc(bucket, &doc)
    }

    /// `Get<Setting>`: the document as stored, S3's default, or S3's error for a missing one.
    pub fn setting(&self, caller: &Caller, bucket: &str, setting: Setting) -> Result<Value, S3Error> {
        let doc = self.bucket_doc(caller, bucket)?;
        match doc.settings.get(setting.key()) {
            Some(v) if !v.is_null() => Ok(v.clone()),
            stored => match setting.absent(stored.is_some()) {
                Absent::Document(v) => Ok(v),
                Absent::Error(code, message) => Err(S3Error::new(code, 404, message).with("BucketName", bucket)),
            },
        }
    }

    /// `Delete<Setting>`: gone (encryption back to S3's default).
    pub fn delete_setting(&self, caller: &Caller, bucket: &str, setting: Setting) -> Result<(), S3Error> {
        let mut doc = self.bucket_doc(caller, bucket)?;
        match setting {
            Setting::Encryption => doc.settings.remove(setting.key()),
            _ => doc.settings.insert(setting.key().to_owned(), Value::Null),
        };
        self.save_doc(bucket, &doc)
    }

    /// A setting's document for S3's own use (CORS, lifecycle, policy), if the bucket has
    /// one.
    pub(crate) fn stored_setting(doc: &crate::tagging::BucketDoc, setting: Setting) -> Option<&Value> {
        doc.settings.get(setting.key()).filter(|v| !v.is_null())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_checked_as_s3_checks_them() {
        let cors = json!({ "CORSRules": [{ "AllowedOrigins": ["*"], "AllowedMethods": ["GET", "PATCH"] }] });
        let e = Setting::Cors.check(&cors).unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            ("InvalidRequest", "Found unsupported HTTP method in CORS config. Unsupported method is PATCH")
        );
        assert_eq!(Setting::Cors.check(&json!({ "CORSRules": [] })).unwrap_err().code, "MalformedXML");
        let rule = json!({ "Rules": [{ "ID": "r", "Status": "Enabled", "Filter": { "Prefix": "" } }] });
        assert_eq!(
            Setting::Lifecycle.check(&rule).unwrap_err().message,
            "At least one action needs to be specified in a rule"
        );
        assert_eq!(Setting::Policy.check(&json!("{nope")).unwrap_err().code, "MalformedPolicy");
        assert!(Setting::Ownership.check(&json!({ "Rules": [{ "ObjectOwnership": "ObjectWriter" }] })).is_ok());
        assert!(Setting::Encryption
            .check(&json!({ "Rules": [{ "ApplyServerSideEncryptionByDefault": { "SSEAlgorithm": "DES" } }] }))
            .is_err());
    }

    #[test]
    fn new_buckets_have_s3s_defaults_until_deleted() {
        assert!(matches!(Setting::Ownership.absent(false), Absent::Document(_)));
        assert!(matches!(Setting::Ownership.absent(true), Absent::Error("OwnershipControlsNotFoundError", _)));
        assert!(matches!(Setting::Encryption.absent(true), Absent::Document(_)));
        assert!(matches!(Setting::Cors.absent(false), Absent::Error("NoSuchCORSConfiguration", _)));
    }
}
