//! Access control lists: a bucket's and an object's, set by a canned ACL (`x-amz-acl`) or
//! as grants (`AccessControlPolicy`), answered as S3 lists them (the owner's
//! `FULL_CONTROL` first). Under ownership controls of `BucketOwnerEnforced`, every new
//! bucket's, ACLs are off: setting one other than the owner's full control is
//! `AccessControlListNotSupported`, as on AWS.

use serde_json::{json, Value};

use crate::notifications::Happened;
use crate::settings::Setting;
use crate::{canonical_id, Caller, S3Error, S3Service};

/// The groups a grant may name.
const ALL_USERS: &str = "http://acs.amazonaws.com/groups/global/AllUsers";
const AUTHENTICATED_USERS: &str = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";
const LOG_DELIVERY: &str = "http://acs.amazonaws.com/groups/s3/LogDelivery";

/// An ACL as a request sets it.
#[derive(Debug, Clone, PartialEq)]
pub enum Acl {
    /// A canned ACL: `private`, `public-read`, …
    Canned(String),
    /// `AccessControlPolicy.Grants`, as the model reads them.
    Grants(Vec<Value>),
}

fn group(uri: &str, permission: &str) -> Value {
    json!({ "Grantee": { "Type": "Group", "URI": uri }, "Permission": permission })
}

/// The owner's grant of `FULL_CONTROL`.
fn owner_grant(account: &str) -> Value {
    json!({ "Grantee": { "Type": "CanonicalUser", "ID": canonical_id(account) }, "Permission": "FULL_CONTROL" })
}

/// The grants a canned ACL stands for, beside the owner's; `None` if it is not one.
fn canned(name: &str) -> Option<Vec<Value>> {
    Some(match name {
        "private" | "bucket-owner-read" | "bucket-owner-full-control" | "aws-exec-read" => Vec::new(),
        "public-read" => vec![group(ALL_USERS, "READ")],
        "public-read-write" => vec![group(ALL_USERS, "READ"), group(ALL_USERS, "WRITE")],
        "authenticated-read" => vec![group(AUTHENTICATED_USERS, "READ")],
        "log-delivery-write" => vec![group(LOG_DELIVERY, "WRITE"), group(LOG_DELIVERY, "READ_ACP")],
        _ => return None,
    })
}

impl Acl {
    /// The grants it stands for, the owner's first; checked.
    pub(crate) fn grants(&self, owner: &str) -> Result<Vec<Value>, S3Error> {
        match self {
            Acl::Canned(name) => {
                let extra = canned(name).ok_or_else(|| {
                    S3Error::new("InvalidArgument", 400, "The canned ACL is not one S3 knows")
                        .with("ArgumentName", "x-amz-acl")
                        .with("ArgumentValue", name.as_str())
                })?;
                Ok(std::iter::once(owner_grant(owner)).chain(extra).collect())
            }
            Acl::Grants(grants) => {
                let permissions = ["FULL_CONTROL", "WRITE", "WRITE_ACP", "READ", "READ_ACP"];
                for g in grants {
                    let permission = g.get("Permission").and_then(Value::as_str).unwrap_or_default();
                    if !permissions.contains(&permission) || g.get("Grantee").is_none() {
                        return Err(crate::settings::malformed_acl());
                    }
                }
                Ok(grants.clone())
            }
        }
    }

    /// Whether a bucket whose ACLs are off still takes it: only the owner's full control.
    fn allowed_without_acls(&self, owner: &str) -> bool {
        match self {
            Acl::Canned(name) => matches!(name.as_str(), "private" | "bucket-owner-full-control"),
            Acl::Grants(grants) => grants.as_slice() == [owner_grant(owner)],
        }
    }
}

impl S3Service {
    /// Whether the bucket's ownership controls leave ACLs on; if not, `acl` must be the
    /// owner's full control.
    fn check_acl(&self, caller: &Caller, bucket: &str, acl: &Acl) -> Result<(), S3Error> {
        let ownership = self.setting(caller, bucket, Setting::Ownership).ok();
        let enforced = ownership
            .as_ref()
            .and_then(|o| o.pointer("/Rules/0/ObjectOwnership"))
            .is_some_and(|o| o == "BucketOwnerEnforced");
        if enforced && !acl.allowed_without_acls(&caller.account) {
            return Err(S3Error::new("AccessControlListNotSupported", 400, "The bucket does not allow ACLs"));
        }
        Ok(())
    }

    /// The grants a new object's ACL (`x-amz-acl` on PutObject, CreateMultipartUpload)
    /// stands for, if the bucket takes ACLs.
    pub fn acl_grants(&self, caller: &Caller, bucket: &str, acl: &Acl) -> Result<Vec<Value>, S3Error> {
        self.check_acl(caller, bucket, acl)?;
        let b = self.inner.store.bucket(bucket)?.ok_or_else(|| S3Error::no_bucket(bucket))?;
        let grants = acl.grants(&b.account)?;
        self.check_public_acl(&b, &grants)?;
        Ok(grants)
    }

    /// PutBucketAcl.
    pub fn put_bucket_acl(&self, caller: &Caller, bucket: &str, acl: &Acl) -> Result<(), S3Error> {
        let grants = self.acl_grants(caller, bucket, acl)?;
        let mut doc = self.bucket_doc(caller, bucket)?;
        doc.settings.insert("acl".into(), Value::Array(grants));
        self.save_doc(bucket, &doc)
    }

    /// GetBucketAcl: the owner and the grants.
    pub fn bucket_acl(&self, caller: &Caller, bucket: &str) -> Result<(String, Vec<Value>), S3Error> {
        let doc = self.bucket_doc(caller, bucket)?;
        let grants = match doc.settings.get("acl").and_then(Value::as_array) {
            Some(g) => g.clone(),
            None => vec![owner_grant(&caller.account)],
        };
        Ok((canonical_id(&caller.account), grants))
    }

    /// PutObjectAcl, on a key's version (its latest unless one is named).
    pub fn put_object_acl(
        &self,
        caller: &Caller,
        bucket: &str,
        key: &str,
        version: Option<&str>,
        acl: &Acl,
    ) -> Result<Option<String>, S3Error> {
        let grants = self.acl_grants(caller, bucket, acl)?;
        let b = self.owned(caller, bucket)?;
        let mut o = self.object(caller, bucket, key, version)?;
        o.meta.acl = Some(grants);
        let doc = serde_json::to_string(&o.meta).map_err(S3Error::internal)?;
        let stored = o.version_id.clone().unwrap_or_else(|| "null".into());
        let happened = Happened { name: "ObjectAcl:Put", key, size: None, etag: Some(&o.etag), version: Some(&stored) };
        let events = crate::versioning::doc_of(&b)?.events(&b, caller, happened);
        if !self.inner.store.update_object(bucket, key, &stored, &doc, &events)? {
            return Err(S3Error::no_key(key));
        }
        self.queued(&events);
        Ok(o.version_id)
    }

    /// GetObjectAcl: the owner and the grants.
    pub fn object_acl(
        &self,
        caller: &Caller,
        bucket: &str,
        key: &str,
        version: Option<&str>,
    ) -> Result<(String, Vec<Value>), S3Error> {
        let o = self.object(caller, bucket, key, version)?;
        let grants = o.meta.acl.unwrap_or_else(|| vec![owner_grant(&caller.account)]);
        Ok((canonical_id(&caller.account), grants))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canned_acls_stand_for_their_grants() {
        let g = Acl::Canned("public-read".into()).grants("1").unwrap();
        assert_eq!(g.len(), 2);
        assert_eq!(g[0]["Permission"], "FULL_CONTROL");
        assert_eq!((g[1]["Grantee"]["URI"].as_str(), g[1]["Permission"].as_str()), (Some(ALL_USERS), Some("READ")));
        assert!(Acl::Canned("nope".into()).grants("1").is_err());
        assert!(Acl::Canned("bucket-owner-full-control".into()).allowed_without_acls("1"));
        assert!(!Acl::Canned("public-read".into()).allowed_without_acls("1"));
    }
}
