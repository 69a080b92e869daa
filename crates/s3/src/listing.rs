//! ListObjects and ListObjectsV2: keys in byte order from a marker on, folded into
//! `CommonPrefixes` at the delimiter, a page of at most `MaxKeys` entries.

use crate::{Caller, S3Error, S3Service, Stored};

/// The most entries a page holds.
pub const MAX_KEYS: usize = 1000;

/// What a listing asks for.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// `prefix`.
    pub prefix: String,
    /// `delimiter`.
    pub delimiter: Option<String>,
    /// `max-keys` (1,000 unless fewer are asked for).
    pub max_keys: Option<usize>,
    /// Where the page starts: after this key (`marker`, `start-after`, or a continuation
    /// token's key).
    pub after: String,
}

/// A page of a listing.
#[derive(Debug, Clone, Default)]
pub struct Listed {
    /// The objects, in key order.
    pub contents: Vec<Stored>,
    /// The common prefixes, in order.
    pub common_prefixes: Vec<String>,
    /// Whether more follow.
    pub is_truncated: bool,
    /// The last key or prefix of the page: where the next page starts.
    pub last: Option<String>,
}

impl S3Service {
    /// Lists a bucket's current objects.
    pub fn list_objects(&self, caller: &Caller, bucket: &str, q: &ListQuery) -> Result<Listed, S3Error> {
        self.access(caller, bucket, "s3:ListBucket", None)?;
        let max = q.max_keys.unwrap_or(MAX_KEYS).min(MAX_KEYS);
        let mut out = Listed::default();
        let mut after = q.after.clone();
        let delimiter = q.delimiter.as_deref().filter(|d| !d.is_empty());
        loop {
            let batch = self.inner.store.list(bucket, &q.prefix, &after, max.max(1) + 1)?;
            if batch.is_empty() {
                return Ok(out);
            }
            for record in batch {
                let folded = delimiter.and_then(|d| {
                    let rest = &record.key[q.prefix.len()..];
                    rest.find(d).map(|i| format!("{}{}", q.prefix, &rest[..i + d.len()]))
                });
                if out.contents.len() + out.common_prefixes.len() == max {
                    out.is_truncated = true;
                    return Ok(out);
                }
                match folded {
                    Some(p) => {
                        // Past every key under this prefix: the next one sorts after them all.
                        after = format!("{p}{}", char::MAX);
                        out.last = Some(p.clone());
                        out.common_prefixes.push(p);
                        break;
                    }
                    None => {
                        after.clone_from(&record.key);
                        out.last = Some(record.key.clone());
                        out.contents.push(Stored::of(record)?);
                    }
                }
            }
        }
    }
}
