//! Tags: an object's (at most 10, kept with its version) and a bucket's (at most 50, in
//! its configuration), checked as S3 checks them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::notifications::Happened;
use crate::{names, Caller, S3Error, S3Service};

/// The most tags an object carries.
const MAX_OBJECT_TAGS: usize = 10;
/// The most tags a bucket carries.
const MAX_BUCKET_TAGS: usize = 50;

/// A bucket's configuration, as stored.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct BucketDoc {
    /// Its tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) tags: BTreeMap<String, String>,
    /// Its versioning: `Enabled` or `Suspended`; none if it never had any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) versioning: Option<String>,
    /// Its event notifications.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) notifications: Option<crate::Notifications>,
    /// Its settings kept as documents (`settings.rs`) and its ACL's grants (`acl`); a
    /// `null` is one deleted.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) settings: BTreeMap<String, serde_json::Value>,
}

fn invalid_tag(message: &str, key: &str) -> S3Error {
    S3Error::new("InvalidTag", 400, message).with("TagKey", key)
}

/// What a tag's key and value may hold: letters, digits, spaces and `_ . : / = + - @`.
fn tag_text(text: &str) -> bool {
    text.chars().all(|c| c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c))
}

/// Checks a tag set given as pairs (duplicates refused), at most `max` of them, as S3
/// checks a bucket's (`what`: `Bucket`) or an object's.
pub fn check_tags(pairs: &[(String, String)], max: usize, what: &str) -> Result<BTreeMap<String, String>, S3Error> {
    if pairs.len() > max {
        return Err(S3Error::new("BadRequest", 400, format!("{what} tags cannot be greater than {max}")));
    }
    let mut tags = BTreeMap::new();
    for (k, v) in pairs {
        if k.is_empty() || k.chars().count() > 128 || !tag_text(k) {
            return Err(invalid_tag("The TagKey you have provided is invalid", k));
        }
        if v.chars().count() > 256 {
            return Err(invalid_tag("The TagValue you have provided is too long, max 256", k));
        }
        if !tag_text(v) {
            return Err(invalid_tag("The TagValue you have provided is invalid", k).with("TagValue", v.as_str()));
        }
        if k.to_ascii_lowercase().starts_with("aws:") {
            let message = match what {
                "Bucket" => "System tags cannot be added/updated by requester",
                _ => "Your TagKey cannot be prefixed with aws:",
            };
            return Err(invalid_tag(message, k));
        }
        if tags.insert(k.clone(), v.clone()).is_some() {
            return Err(invalid_tag("Cannot provide multiple Tags with the same key", k));
        }
    }
    Ok(tags)
}

impl S3Service {
    /// Replaces a bucket's configuration document.
    pub(crate) fn save_doc(&self, bucket: &str, doc: &BucketDoc) -> Result<(), S3Error> {
        let text = serde_json::to_string(doc).map_err(S3Error::internal)?;
        self.inner.store.update_bucket(bucket, &text)?;
        Ok(())
    }

    pub(crate) fn bucket_doc(&self, caller: &Caller, bucket: &str) -> Result<BucketDoc, S3Error> {
        let b = self.owned(caller, bucket)?;
        serde_json::from_str(&b.doc).map_err(S3Error::internal)
    }

    /// PutBucketTagging (`Some`) and DeleteBucketTagging (`None`).
    pub fn set_bucket_tags(
        &self,
        caller: &Caller,
        bucket: &str,
        tags: Option<&[(String, String)]>,
    ) -> Result<(), S3Error> {
        let mut doc = self.bucket_doc(caller, bucket)?;
        doc.tags = match tags {
            Some(pairs) => check_tags(pairs, MAX_BUCKET_TAGS, "Bucket")?,
            None => BTreeMap::new(),
        };
        self.save_doc(bucket, &doc)
    }

    /// GetBucketTagging: `NoSuchTagSet` for a bucket without tags.
    pub fn bucket_tags(&self, caller: &Caller, bucket: &str) -> Result<BTreeMap<String, String>, S3Error> {
        let doc = self.bucket_doc(caller, bucket)?;
        if doc.tags.is_empty() {
            return Err(S3Error::new("NoSuchTagSet", 404, "The TagSet does not exist").with("BucketName", bucket));
        }
        Ok(doc.tags)
    }

    /// PutObjectTagging (`Some`) and DeleteObjectTagging (`None`) on a key's version.
    pub fn set_object_tags(
        &self,
        caller: &Caller,
        bucket: &str,
        key: &str,
        version: Option<&str>,
        tags: Option<&[(String, String)]>,
    ) -> Result<Option<String>, S3Error> {
        names::check_key(key)?;
        let b = self.access(caller, bucket, "s3:PutObjectTagging", Some(key))?;
        let mut o = self.object(caller, bucket, key, version)?;
        o.meta.tags = match tags {
            Some(pairs) => check_tags(pairs, MAX_OBJECT_TAGS, "Object")?,
            None => BTreeMap::new(),
        };
        let doc = serde_json::to_string(&o.meta).map_err(S3Error::internal)?;
        let stored_version = o.version_id.clone().unwrap_or_else(|| "null".into());
        let happened = Happened {
            name: if tags.is_some() { "ObjectTagging:Put" } else { "ObjectTagging:Delete" },
            key,
            size: None,
            etag: Some(&o.etag),
            version: Some(&stored_version),
        };
        let events = crate::versioning::doc_of(&b)?.events(&b, caller, happened);
        if !self.inner.store.update_object(bucket, key, &stored_version, &doc, &events)? {
            return Err(S3Error::no_key(key));
        }
        self.queued(&events);
        Ok(o.version_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn tag_sets_are_checked_as_s3_checks_them() {
        assert_eq!(check_tags(&pairs(&[("a", "1"), ("b", "")]), 10, "Object").unwrap().len(), 2);
        assert_eq!(check_tags(&pairs(&[("a", "1"), ("a", "2")]), 10, "Object").unwrap_err().code, "InvalidTag");
        assert_eq!(check_tags(&pairs(&[("aws:x", "1")]), 10, "Object").unwrap_err().code, "InvalidTag");
        let e = check_tags(&pairs(&[("aws:x", "1")]), 50, "Bucket").unwrap_err();
        assert_eq!(e.message, "System tags cannot be added/updated by requester");
        let e = check_tags(&pairs(&[("Key1,Key2", "1")]), 10, "Object").unwrap_err();
        assert_eq!(
            (e.message.as_str(), e.fields[0].1.as_str()),
            ("The TagKey you have provided is invalid", "Key1,Key2")
        );
        let e = check_tags(&pairs(&[("k", "Val1,Val2")]), 10, "Object").unwrap_err();
        assert_eq!(e.fields[1], ("TagValue".into(), "Val1,Val2".to_owned()));
        assert!(check_tags(&pairs(&[("team name", "a-b_c.d:e/f=g+h@i")]), 10, "Object").is_ok());
        let many: Vec<(String, String)> = (0..11).map(|i| (i.to_string(), String::new())).collect();
        let e = check_tags(&many, 10, "Object").unwrap_err();
        assert_eq!((e.code, e.message.as_str()), ("BadRequest", "Object tags cannot be greater than 10"));
        assert!(check_tags(&pairs(&[("k", &"v".repeat(257))]), 10, "Object").is_err());
    }
}
