//! Buckets: CreateBucket (with AWS's `LocationConstraint` rules), HeadBucket,
//! ListBuckets, DeleteBucket and GetBucketLocation. Names are global: another account's
//! bucket of the same name is `BucketAlreadyExists`.

use store::BucketRecord;

use crate::{names, now_ms, Caller, S3Error, S3Service};

/// A bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    /// Its name.
    pub name: String,
    /// The owning account.
    pub account: String,
    /// Its region.
    pub region: String,
    /// When it was made, ms since the epoch.
    pub created_ms: i64,
}

impl From<BucketRecord> for Bucket {
    fn from(r: BucketRecord) -> Bucket {
        Bucket { name: r.name, account: r.account, region: r.region, created_ms: r.created_ms }
    }
}

/// The location constraints S3 knows (botocore's `BucketLocationConstraint`).
pub(crate) const LOCATIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "cn-north-1",
    "cn-northwest-1",
    "EU",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-2",
    "us-gov-east-1",
    "us-gov-west-1",
    "us-west-1",
    "us-west-2",
];

/// The region whose endpoint takes buckets without a `LocationConstraint`.
const DEFAULT_REGION: &str = "us-east-1";

impl S3Service {
    /// CreateBucket, sent to `caller.region`'s endpoint.
    /// `ownership`: `x-amz-object-ownership`, the bucket's ownership controls (else
    /// `BucketOwnerEnforced`).
    pub fn create_bucket(
        &self,
        caller: &Caller,
        name: &str,
        constraint: Option<&str>,
        ownership: Option<&str>,
    ) -> Result<Bucket, S3Error> {
        if caller.anonymous {
            return Err(crate::access::access_denied());
        }
        names::check_bucket(name)?;
        let region = bucket_region(&caller.region, constraint)?;
        let mut doc = crate::tagging::BucketDoc::default();
        if let Some(o) = ownership {
            if !["BucketOwnerPreferred", "ObjectWriter", "BucketOwnerEnforced"].contains(&o) {
                return Err(S3Error::new(
                    "InvalidArgument",
                    400,
                    format!("Invalid x-amz-object-ownership header: {o}"),
                )
                .with("ArgumentName", "x-amz-object-ownership"));
            }
            let rules = serde_json::json!({ "Rules": [{ "ObjectOwnership": o }] });
            doc.settings.insert("ownership".into(), rules);
        }
        let record = BucketRecord {
            name: name.to_owned(),
            account: caller.account.clone(),
            region: region.clone(),
            created_ms: now_ms(),
            doc: serde_json::to_string(&doc).map_err(S3Error::internal)?,
        };
        if self.inner.store.insert_bucket(&record)? {
            return Ok(record.into());
        }
        let existing = self.inner.store.bucket(name)?.ok_or_else(|| S3Error::internal("a bucket came and went"))?;
        if existing.account != caller.account {
            return Err(S3Error::new(
                "BucketAlreadyExists",
                409,
                "The requested bucket name is not available. The bucket namespace is shared by all users of the \
                 system. Please select a different name and try again.",
            )
            .with("BucketName", name));
        }
        // us-east-1 answers the owner's second CreateBucket with success, as it always has.
        if caller.region == DEFAULT_REGION && existing.region == DEFAULT_REGION {
            return Ok(existing.into());
        }
        Err(S3Error::new(
            "BucketAlreadyOwnedByYou",
            409,
            "Your previous request to create the named bucket succeeded and you already own it.",
        )
        .with("BucketName", name))
    }

    /// The bucket `name`, if `caller` may list it (HeadBucket, GetBucketLocation).
    pub fn bucket(&self, caller: &Caller, name: &str) -> Result<Bucket, S3Error> {
        self.access(caller, name, "s3:ListBucket", None).map(Bucket::from)
    }

    /// ListBuckets: the caller's, by name.
    pub fn list_buckets(&self, caller: &Caller) -> Result<Vec<Bucket>, S3Error> {
        if caller.anonymous {
            return Err(crate::access::access_denied());
        }
        Ok(self.inner.store.buckets(&caller.account)?.into_iter().map(Bucket::from).collect())
    }

    /// DeleteBucket: only an empty one.
    pub fn delete_bucket(&self, caller: &Caller, name: &str) -> Result<(), S3Error> {
        self.owned(caller, name)?;
        match self.inner.store.delete_bucket(name)? {
            Some(parts) => {
                parts.iter().for_each(|b| self.inner.blobs.remove(b));
                Ok(())
            }
            None => Err(S3Error::new("BucketNotEmpty", 409, "The bucket you tried to delete is not empty")
                .with("BucketName", name)),
        }
    }

    /// `x-amz-expected-bucket-owner`: the request goes on only if `bucket` (when it exists)
    /// is that account's.
    pub fn check_expected_owner(&self, bucket: &str, expected: &str) -> Result<(), S3Error> {
        if expected.len() != 12 || !expected.bytes().all(|b| b.is_ascii_digit()) {
            return Err(S3Error::new(
                "InvalidBucketOwnerAWSAccountID",
                400,
                format!("The value of the expected bucket owner parameter must be an AWS Account ID... [{expected}]"),
            ));
        }
        match self.inner.store.bucket(bucket)? {
            Some(b) if b.account != expected => Err(crate::access::access_denied()),
            _ => Ok(()),
        }
    }

    /// The stored bucket, if it exists and is the caller's: what its settings need.
    pub(crate) fn owned(&self, caller: &Caller, name: &str) -> Result<BucketRecord, S3Error> {
        let b = self.inner.store.bucket(name)?.ok_or_else(|| S3Error::no_bucket(name))?;
        if caller.anonymous || b.account != caller.account {
            return Err(crate::access::access_denied());
        }
        Ok(b)
    }
}

/// The region a new bucket lives in: its constraint, as the endpoint it was sent to
/// allows it.
fn bucket_region(endpoint: &str, constraint: Option<&str>) -> Result<String, S3Error> {
    match constraint.filter(|c| !c.is_empty()) {
        None if endpoint == DEFAULT_REGION => Ok(DEFAULT_REGION.into()),
        None => Err(S3Error::new(
            "IllegalLocationConstraintException",
            400,
            "The unspecified location constraint is incompatible for the region specific endpoint this request was \
             sent to.",
        )),
        // us-east-1 takes none, and knows AWS's other regions (a region's own endpoint
        // takes its own name, whatever it is).
        Some(c) if c == DEFAULT_REGION || (endpoint == DEFAULT_REGION && !LOCATIONS.contains(&c)) => {
            Err(S3Error::new("InvalidLocationConstraint", 400, "The specified location-constraint is not valid")
                .with("LocationConstraint", c))
        }
        Some(c) if endpoint == DEFAULT_REGION || c == endpoint => Ok(c.to_owned()),
        Some(c) => Err(S3Error::new(
            "IllegalLocationConstraintException",
            400,
            format!("The {c} location constraint is incompatible for the region specific endpoint this request was sent to."),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_constraints_follow_the_endpoints_region() {
        assert_eq!(bucket_region("us-east-1", None).unwrap(), "us-east-1");
        assert_eq!(bucket_region("us-east-1", Some("eu-west-1")).unwrap(), "eu-west-1");
        assert_eq!(bucket_region("us-east-1", Some("us-east-1")).unwrap_err().code, "InvalidLocationConstraint");
        assert_eq!(bucket_region("us-east-1", Some("aws-global")).unwrap_err().code, "InvalidLocationConstraint");
        assert_eq!(bucket_region("local-1", Some("local-1")).unwrap(), "local-1");
        assert_eq!(bucket_region("eu-west-1", None).unwrap_err().code, "IllegalLocationConstraintException");
        assert_eq!(bucket_region("eu-west-1", Some("eu-west-1")).unwrap(), "eu-west-1");
        let e = bucket_region("eu-west-1", Some("us-west-2")).unwrap_err();
        assert!(e.message.starts_with("The us-west-2 location constraint is incompatible"));
    }
}
