//! Who may do what to a bucket and its objects. The owner's account may do anything its
//! bucket policy does not deny; another account, or an anonymous caller, only what the
//! policy allows it (`iam::resource_policy`: `s3:GetObject` on `arn:aws:s3:::b/k`, …) or
//! an ACL grants it (`READ`, `WRITE`, `FULL_CONTROL` to it, to `AuthenticatedUsers` or to
//! `AllUsers`). The public access block works as on AWS: `RestrictPublicBuckets` keeps a
//! public policy from letting anyone outside the account in, `IgnorePublicAcls` ignores
//! grants to the groups, and `BlockPublicPolicy` and `BlockPublicAcls` refuse to set them.
//! A bucket's own settings (configuration, notifications, ACLs) are its owner's alone.

use iam::resource_policy::{Requester, ResourcePolicy};
use serde_json::Value;
use store::BucketRecord;

use crate::settings::Setting;
use crate::tagging::BucketDoc;
use crate::{canonical_id, Caller, S3Error, S3Service};

const ALL_USERS: &str = "http://acs.amazonaws.com/groups/global/AllUsers";
const AUTHENTICATED_USERS: &str = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";

pub(crate) fn access_denied() -> S3Error {
    S3Error::new("AccessDenied", 403, "Access Denied")
}

/// The permission an ACL must grant for an action.
fn acl_permission(action: &str) -> &'static str {
    match action {
        "s3:PutObject" | "s3:DeleteObject" | "s3:DeleteObjectVersion" | "s3:AbortMultipartUpload" => "WRITE",
        _ => "READ",
    }
}

/// The public access block's four switches (all on for a new bucket).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Block {
    pub(crate) public_acls: bool,
    pub(crate) ignore_public_acls: bool,
    pub(crate) public_policy: bool,
    pub(crate) restrict_public_buckets: bool,
}

impl Block {
    fn of(doc: &BucketDoc) -> Block {
        let v = S3Service::stored_setting(doc, Setting::PublicAccessBlock);
        let on = |m: &str| match (doc.settings.get("public_access_block"), v) {
            // Never set: a new bucket's, all on.
            (None, _) => true,
            (_, Some(v)) => v.get(m).and_then(Value::as_bool).unwrap_or(false),
            (_, None) => false,
        };
        Block {
            public_acls: on("BlockPublicAcls"),
            ignore_public_acls: on("IgnorePublicAcls"),
            public_policy: on("BlockPublicPolicy"),
            restrict_public_buckets: on("RestrictPublicBuckets"),
        }
    }
}

/// Whether grants give `caller` `permission`.
fn granted(grants: &[Value], caller: &Caller, permission: &str, block: Block) -> bool {
    let me = (!caller.anonymous).then(|| canonical_id(&caller.account));
    grants.iter().any(|g| {
        let p = g.get("Permission").and_then(Value::as_str).unwrap_or_default();
        if p != permission && p != "FULL_CONTROL" {
            return false;
        }
        let grantee = g.get("Grantee").unwrap_or(&Value::Null);
        match grantee.get("URI").and_then(Value::as_str) {
            Some(_) if block.ignore_public_acls => false,
            Some(ALL_USERS) => true,
            Some(AUTHENTICATED_USERS) => !caller.anonymous,
            Some(_) => false,
            None => me.as_deref().is_some_and(|id| grantee.get("ID").and_then(Value::as_str) == Some(id)),
        }
    })
}

/// Whether a set of grants is public (to `AllUsers` or `AuthenticatedUsers`).
pub(crate) fn public_grants(grants: &[Value]) -> bool {
    grants.iter().any(|g| {
        g.pointer("/Grantee/URI").and_then(Value::as_str).is_some_and(|u| u == ALL_USERS || u == AUTHENTICATED_USERS)
    })
}

impl S3Service {
    /// The bucket, if `caller` may perform `action` on it (`key`: on that object of it).
    pub(crate) fn access(
        &self,
        caller: &Caller,
        bucket: &str,
        action: &str,
        key: Option<&str>,
    ) -> Result<BucketRecord, S3Error> {
        let b = self.inner.store.bucket(bucket)?.ok_or_else(|| S3Error::no_bucket(bucket))?;
        match self.permits(&b, caller, action, key)? {
            true => Ok(b),
            false => Err(access_denied()),
        }
    }

    /// Whether the bucket's policy and ACL let `caller` perform `action`.
    pub(crate) fn permits(
        &self,
        b: &BucketRecord,
        caller: &Caller,
        action: &str,
        key: Option<&str>,
    ) -> Result<bool, S3Error> {
        let owner = !caller.anonymous && b.account == caller.account;
        let doc = crate::versioning::doc_of(b)?;
        let policy = S3Service::stored_setting(&doc, Setting::Policy)
            .and_then(Value::as_str)
            .and_then(|p| ResourcePolicy::parse(p).ok());
        if policy.is_none() && owner {
            return Ok(true);
        }
        let block = Block::of(&doc);
        let who = match caller.anonymous {
            true => Requester::Anonymous,
            false => Requester::Account(&caller.account),
        };
        let resource = match key {
            Some(k) => format!("arn:aws:s3:::{}/{k}", b.name),
            None => crate::notifications::bucket_arn(&b.name),
        };
        if let Some(p) = &policy {
            // A public policy lets no one outside the account in while the bucket is restricted.
            let restricted = block.restrict_public_buckets && p.is_public() && !owner;
            if !restricted && p.allows(&b.account, &resource, &who, action) {
                return Ok(true);
            }
            if owner {
                // The owner is refused only by a Deny, which `allows` has just applied.
                return Ok(false);
            }
        }
        let grants = doc.settings.get("acl").and_then(Value::as_array).cloned().unwrap_or_default();
        let bucket_level = matches!(acl_permission(action), "WRITE") || key.is_none();
        Ok(bucket_level && granted(&grants, caller, acl_permission(action), block))
    }

    /// Whether an object's own ACL lets `caller` read it.
    pub(crate) fn object_readable(
        &self,
        b: &BucketRecord,
        caller: &Caller,
        acl: Option<&[Value]>,
    ) -> Result<bool, S3Error> {
        let doc = crate::versioning::doc_of(b)?;
        Ok(acl.is_some_and(|grants| granted(grants, caller, "READ", Block::of(&doc))))
    }

    /// Refuses a public ACL while the bucket blocks them (`BlockPublicAcls`).
    pub(crate) fn check_public_acl(&self, b: &BucketRecord, grants: &[Value]) -> Result<(), S3Error> {
        let doc = crate::versioning::doc_of(b)?;
        if Block::of(&doc).public_acls && public_grants(grants) {
            return Err(access_denied());
        }
        Ok(())
    }

    /// Refuses a public policy while the bucket blocks them (`BlockPublicPolicy`), in
    /// AWS's words.
    pub(crate) fn check_public_policy(&self, caller: &Caller, b: &BucketRecord, policy: &str) -> Result<(), S3Error> {
        let doc = crate::versioning::doc_of(b)?;
        let public = ResourcePolicy::parse(policy).is_ok_and(|p| p.is_public());
        if Block::of(&doc).public_policy && public {
            return Err(S3Error::new(
                "AccessDenied",
                403,
                format!(
                    "User: {} is not authorized to perform: s3:PutBucketPolicy on resource: \"arn:aws:s3:::{}\" \
                     because public policies are blocked by the BlockPublicPolicy block public access setting.",
                    caller.principal, b.name
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn grants_reach_whom_they_name_unless_public_ones_are_ignored() {
        let public = vec![json!({ "Grantee": { "Type": "Group", "URI": ALL_USERS }, "Permission": "READ" })];
        let mut anonymous = Caller::new("", "us-east-1");
        anonymous.anonymous = true;
        assert!(granted(&public, &anonymous, "READ", Block::default()));
        assert!(!granted(&public, &anonymous, "WRITE", Block::default()));
        assert!(!granted(&public, &anonymous, "READ", Block { ignore_public_acls: true, ..Block::default() }));
        let signed =
            vec![json!({ "Grantee": { "Type": "Group", "URI": AUTHENTICATED_USERS }, "Permission": "FULL_CONTROL" })];
        assert!(!granted(&signed, &anonymous, "READ", Block::default()));
        assert!(granted(&signed, &Caller::new("222222222222", "us-east-1"), "WRITE", Block::default()));
        let user =
            vec![json!({ "Grantee": { "Type": "CanonicalUser", "ID": canonical_id("2") }, "Permission": "READ" })];
        assert!(granted(&user, &Caller::new("2", "r"), "READ", Block::default()));
        assert!(!granted(&user, &Caller::new("3", "r"), "READ", Block::default()));
        assert!(public_grants(&public) && !public_grants(&user));
    }
}
