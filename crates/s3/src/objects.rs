//! Objects: PutObject (streamed to a blob, `Content-MD5` checked), HeadObject and
//! GetObject (with ranges), DeleteObject and DeleteObjects.

use std::collections::BTreeMap;

use bytes::Bytes;
use futures_util::Stream;
use serde::{Deserialize, Serialize};
use store::ObjectRecord;

use crate::{names, now_ms, Caller, S3Error, S3Service};

/// The largest object a single PutObject takes: 5 GiB.
pub const MAX_PUT: u64 = 5 * 1024 * 1024 * 1024;

/// What S3 keeps of an object beside its bytes, as sent with it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectMeta {
    /// `Content-Type`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// `Content-Encoding`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_encoding: Option<String>,
    /// `Content-Disposition`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_disposition: Option<String>,
    /// `Content-Language`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_language: Option<String>,
    /// `Cache-Control`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<String>,
    /// `Expires`, as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// User metadata (`x-amz-meta-*`), names in lower case.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
}

/// What PutObject takes beside the body.
#[derive(Debug, Clone, Default)]
pub struct PutInput {
    /// `Bucket`.
    pub bucket: String,
    /// `Key`.
    pub key: String,
    /// The headers kept with it.
    pub meta: ObjectMeta,
    /// `Content-MD5`, base64.
    pub content_md5: Option<String>,
    /// The body's length, when the request says (`Content-Length`, or
    /// `x-amz-decoded-content-length` for `aws-chunked`).
    pub length: Option<u64>,
}

/// An object version as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// Its bucket.
    pub bucket: String,
    /// Its key.
    pub key: String,
    /// Its version id; `None` for the `null` version.
    pub version_id: Option<String>,
    /// Its length.
    pub size: u64,
    /// Its ETag, quoted.
    pub etag: String,
    /// When it was written, ms.
    pub modified_ms: i64,
    /// Its headers and user metadata.
    pub meta: ObjectMeta,
    /// The blob holding its bytes.
    pub blob: String,
}

impl Stored {
    pub(crate) fn of(r: ObjectRecord) -> Result<Stored, S3Error> {
        let meta = serde_json::from_str(&r.doc).map_err(S3Error::internal)?;
        Ok(Stored {
            version_id: (r.version != "null").then_some(r.version),
            bucket: r.bucket,
            key: r.key,
            size: r.size as u64,
            etag: r.etag,
            modified_ms: r.modified_ms,
            meta,
            blob: r.blob.unwrap_or_default(),
        })
    }
}

/// A byte range of an object: `start..=end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    /// The first byte.
    pub start: u64,
    /// The last byte.
    pub end: u64,
}

impl Range {
    /// Reads a `Range` header against an object of `size` bytes: `Ok(None)` for the whole
    /// object (no header, or one S3 ignores as malformed), `InvalidRange` when it lies
    /// past the end.
    pub fn read(header: Option<&str>, size: u64) -> Result<Option<Range>, S3Error> {
        let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else { return Ok(None) };
        if spec.contains(',') {
            return Ok(None);
        }
        let Some((a, b)) = spec.split_once('-') else { return Ok(None) };
        let (a, b) = (a.trim(), b.trim());
        let range = match (a.parse::<u64>(), b.parse::<u64>()) {
            (Ok(start), Ok(end)) if start <= end => (start < size).then(|| Range { start, end: end.min(size - 1) }),
            (Ok(_), Ok(_)) => return Ok(None),
            (Ok(start), Err(_)) if b.is_empty() => (start < size).then(|| Range { start, end: size - 1 }),
            (Err(_), Ok(n)) if a.is_empty() && n > 0 => {
                (size > 0).then(|| Range { start: size.saturating_sub(n), end: size - 1 })
            }
            _ => return Ok(None),
        };
        range.map(Some).ok_or_else(|| {
            S3Error::new("InvalidRange", 416, "The requested range is not satisfiable")
                .with("RangeRequested", header.unwrap_or_default())
                .with("ActualObjectSize", size.to_string())
        })
    }
}

impl S3Service {
    /// PutObject: the body streamed to a blob, checked against `Content-MD5`, then the
    /// version stored; the answer comes only after both are durable.
    pub async fn put_object<S>(&self, caller: &Caller, input: PutInput, body: S) -> Result<Stored, S3Error>
    where
        S: Stream<Item = Result<Bytes, S3Error>>,
    {
        self.owned(caller, &input.bucket)?;
        names::check_key(&input.key)?;
        let expected_md5 = input.content_md5.as_deref().map(read_md5).transpose()?;
        let written = self.inner.blobs.write(body, input.length, MAX_PUT).await?;
        if let Some(expected) = expected_md5.filter(|e| *e != written.md5) {
            self.inner.blobs.remove(&written.id);
            return Err(S3Error::new(
                "BadDigest",
                400,
                "The Content-MD5 you specified did not match what we received.",
            )
            .with("ExpectedDigest", hex(&expected))
            .with("CalculatedDigest", base64(&written.md5)));
        }
        let record = ObjectRecord {
            bucket: input.bucket,
            key: input.key,
            version: "null".into(),
            seq: 0,
            latest: true,
            marker: false,
            size: written.size as i64,
            etag: format!("\"{}\"", hex(&written.md5)),
            modified_ms: now_ms(),
            blob: Some(written.id.clone()),
            doc: serde_json::to_string(&input.meta).map_err(S3Error::internal)?,
        };
        match self.inner.store.put_object(&record) {
            Ok(replaced) => replaced.iter().for_each(|b| self.inner.blobs.remove(b)),
            Err(e) => {
                self.inner.blobs.remove(&written.id);
                return Err(e.into());
            }
        }
        Stored::of(record)
    }

    /// HeadObject and GetObject's object: the latest version unless one is named.
    pub fn object(&self, caller: &Caller, bucket: &str, key: &str, version: Option<&str>) -> Result<Stored, S3Error> {
        self.owned(caller, bucket)?;
        let found = self.inner.store.object(bucket, key, version)?.filter(|o| !o.marker);
        Stored::of(found.ok_or_else(|| S3Error::no_key(key))?)
    }

    /// An object's whole bytes, for other services (a function's package): `None` when it
    /// is longer than `max`.
    pub fn read_whole(
        &self,
        caller: &Caller,
        bucket: &str,
        key: &str,
        version: Option<&str>,
        max: u64,
    ) -> Result<Option<Vec<u8>>, S3Error> {
        let o = self.object(caller, bucket, key, version)?;
        if o.size > max {
            return Ok(None);
        }
        std::fs::read(self.inner.blobs.path(&o.blob)).map(Some).map_err(S3Error::internal)
    }

    /// DeleteObject: the key's current version goes (deleting a missing key succeeds).
    pub fn delete_object(&self, caller: &Caller, bucket: &str, key: &str) -> Result<(), S3Error> {
        self.owned(caller, bucket)?;
        if let Some(Some(blob)) = self.inner.store.delete_version(bucket, key, "null")? {
            self.inner.blobs.remove(&blob);
        }
        Ok(())
    }

    /// DeleteObjects: each key's outcome, in order (`Ok` also for a key that was not there).
    pub fn delete_objects(
        &self,
        caller: &Caller,
        bucket: &str,
        keys: &[String],
    ) -> Result<Vec<Result<(), S3Error>>, S3Error> {
        self.owned(caller, bucket)?;
        Ok(keys.iter().map(|k| self.delete_object(caller, bucket, k)).collect())
    }
}

pub(crate) fn read_md5(text: &str) -> Result<[u8; 16], S3Error> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD.decode(text.trim()).ok();
    bytes.and_then(|b| <[u8; 16]>::try_from(b.as_slice()).ok()).ok_or_else(|| {
        S3Error::new("InvalidDigest", 400, "The Content-MD5 you specified was invalid.").with("Content-MD5", text)
    })
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn base64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_read_as_s3_reads_them() {
        let r = |h: &str| Range::read(Some(h), 10);
        assert_eq!(r("bytes=0-4").unwrap(), Some(Range { start: 0, end: 4 }));
        assert_eq!(r("bytes=5-").unwrap(), Some(Range { start: 5, end: 9 }));
        assert_eq!(r("bytes=-3").unwrap(), Some(Range { start: 7, end: 9 }));
        assert_eq!(r("bytes=8-100").unwrap(), Some(Range { start: 8, end: 9 }));
        assert_eq!(r("bytes=4-2").unwrap(), None, "malformed: the whole object");
        assert_eq!(r("items=0-1").unwrap(), None);
        let e = r("bytes=10-").unwrap_err();
        assert_eq!((e.status, e.code), (416, "InvalidRange"));
        assert_eq!(Range::read(None, 10).unwrap(), None);
    }

    #[test]
    fn content_md5_must_be_sixteen_bytes_of_base64() {
        assert_eq!(read_md5("XrY7u+Ae7tCTyyK7j1rNww==").unwrap()[0], 0x5e);
        assert_eq!(read_md5("nope").unwrap_err().code, "InvalidDigest");
    }
}
