//! Bucket names and keys as S3 takes them. Pure.

use crate::S3Error;

/// The longest key, in bytes of UTF-8.
pub const MAX_KEY: usize = 1024;

/// Whether `name` is a valid bucket name under S3's general-purpose rules: 3 to 63
/// characters of lowercase letters, digits, dots and hyphens, beginning and ending with a
/// letter or digit, no `..`, not an IPv4 address, none of the reserved prefixes and
/// suffixes.
pub fn bucket_ok(name: &str) -> bool {
    let b = name.as_bytes();
    let edge = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    (3..=63).contains(&b.len())
        && b.iter().all(|&c| edge(c) || c == b'.' || c == b'-')
        && edge(b[0])
        && edge(b[b.len() - 1])
        && !name.contains("..")
        && name.parse::<std::net::Ipv4Addr>().is_err()
        && !["xn--", "sthree-", "amzn-s3-demo-"].iter().any(|p| name.starts_with(p))
        && !["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"].iter().any(|s| name.ends_with(s))
}

/// Checks a bucket name for CreateBucket.
pub fn check_bucket(name: &str) -> Result<(), S3Error> {
    if bucket_ok(name) {
        Ok(())
    } else {
        Err(S3Error::new("InvalidBucketName", 400, "The specified bucket is not valid.").with("BucketName", name))
    }
}

/// Checks a key: at most 1,024 bytes.
pub fn check_key(key: &str) -> Result<(), S3Error> {
    if key.len() > MAX_KEY {
        return Err(S3Error::new("KeyTooLongError", 400, "Your key is too long")
            .with("MaxSizeAllowed", MAX_KEY.to_string())
            .with("Size", key.len().to_string()));
    }
    Ok(())
}

/// Whether `region` is one of AWS's (a location constraint, or `us-east-1`).
pub fn region_known(region: &str) -> bool {
    region == "us-east-1" || crate::buckets::LOCATIONS.contains(&region)
}

/// The storage classes a general-purpose bucket takes (their objects are kept alike here).
const STORAGE_CLASSES: &[&str] = &[
    "STANDARD",
    "REDUCED_REDUNDANCY",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER",
    "DEEP_ARCHIVE",
    "GLACIER_IR",
];

/// `x-amz-storage-class`: one a general-purpose bucket takes (not Outposts', Snow's or a
/// directory bucket's), else S3's `InvalidStorageClass`.
pub fn check_storage_class(class: Option<&str>) -> Result<(), S3Error> {
    match class {
        Some(c) if !STORAGE_CLASSES.contains(&c) => {
            Err(S3Error::new("InvalidStorageClass", 400, "The storage class you specified is not valid")
                .with("StorageClassRequested", c))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names_follow_s3s_rules() {
        for ok in ["abc", "my-bucket.logs", "1bucket", &"a".repeat(63)] {
            assert!(bucket_ok(ok), "{ok}");
        }
        for bad in
            ["ab", "Bucket", "-abc", "abc-", "a..b", "192.168.0.1", "xn--abc", "abc-s3alias", "a_b", &"a".repeat(64)]
        {
            assert!(!bucket_ok(bad), "{bad}");
        }
    }

    #[test]
    fn keys_are_at_most_1024_bytes() {
        assert!(check_key(&"k".repeat(1024)).is_ok());
        let e = check_key(&"k".repeat(1025)).unwrap_err();
        assert_eq!((e.code, e.fields[1].1.as_str()), ("KeyTooLongError", "1025"));
    }
}
