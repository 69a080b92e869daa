//! Objects: PutObject (streamed to a blob, `Content-MD5` checked), HeadObject and
//! GetObject (with ranges), DeleteObject and DeleteObjects.

use std::collections::BTreeMap;

use bytes::Bytes;
use futures_util::Stream;
use serde::{Deserialize, Serialize};
use store::ObjectRecord;

use crate::checksums::Declared;
use crate::notifications::Happened;
use crate::{names, now_ms, Blobs, Caller, S3Error, S3Service};

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
    /// The object's tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// Its checksum, when the client asked for one: the algorithm (`CRC32`) and the
    /// value, base64 (a multipart upload's composite one ends `-<parts>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<(String, String)>,
    /// Whether that checksum is `COMPOSITE` (of a multipart upload's parts) rather than
    /// `FULL_OBJECT`, which none means.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub composite: bool,
    /// A multipart upload's parts, in order: what GetObject by `partNumber` and
    /// GetObjectAttributes read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<PartInfo>,
    /// Its ACL's grants, when one was set (else the owner's full control).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acl: Option<Vec<serde_json::Value>>,
}

/// A part of an object that was uploaded in parts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartInfo {
    /// Its length.
    pub size: u64,
    /// Its checksum (base64), when its upload kept them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<String>,
}

impl ObjectMeta {
    /// Part `n`'s bytes (from 1) of an object that was uploaded in parts: the first byte
    /// and the length; an object uploaded whole is its one part.
    pub fn part_range(&self, n: i64, size: u64) -> Result<(u64, u64), S3Error> {
        let refused = || {
            S3Error::new("InvalidPartNumber", 416, "The requested partnumber is not satisfiable")
                .with("PartNumberRequested", n.to_string())
                .with("ActualPartCount", self.parts.len().max(1).to_string())
        };
        if self.parts.is_empty() {
            return if n == 1 { Ok((0, size)) } else { Err(refused()) };
        }
        let index = usize::try_from(n - 1).ok().filter(|i| *i < self.parts.len()).ok_or_else(refused)?;
        let start = self.parts[..index].iter().map(|p| p.size).sum();
        Ok((start, self.parts[index].size))
    }
}

/// A request's conditions (`If-Match`, `If-None-Match`, `If-Modified-Since`,
/// `If-Unmodified-Since`), dates in ms since the epoch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conditions {
    /// `If-Match`: ETags, or `*`.
    pub if_match: Option<String>,
    /// `If-None-Match`: ETags, or `*`.
    pub if_none_match: Option<String>,
    /// `If-Modified-Since`.
    pub if_modified_since: Option<i64>,
    /// `If-Unmodified-Since`.
    pub if_unmodified_since: Option<i64>,
}

/// Whether an `If-Match`-style list (`"a", "b"`, or `*`) names `etag`.
fn names_etag(list: &str, etag: &str) -> bool {
    let etag = etag.trim_matches('"');
    list.split(',').map(|e| e.trim().trim_start_matches("W/").trim_matches('"')).any(|e| e == "*" || e == etag)
}

fn precondition_failed(condition: &str) -> S3Error {
    S3Error::new("PreconditionFailed", 412, "At least one of the pre-conditions you specified did not hold")
        .with("Condition", condition)
}

impl Conditions {
    /// Which of a read's conditions fails of the object, in HTTP's order of precedence
    /// (`If-Unmodified-Since` only without `If-Match`, `If-Modified-Since` only without
    /// `If-None-Match`, and not for a date still to come): its name, and whether it means
    /// `Not Modified` rather than a failed precondition.
    fn read_refusal(&self, o: &Stored) -> Option<(&'static str, bool)> {
        // HTTP dates have whole seconds.
        let modified = o.modified_ms / 1000 * 1000;
        match &self.if_match {
            Some(list) if !names_etag(list, &o.etag) => return Some(("If-Match", false)),
            Some(_) => {}
            None if self.if_unmodified_since.is_some_and(|t| modified > t) => {
                return Some(("If-Unmodified-Since", false))
            }
            None => {}
        }
        match &self.if_none_match {
            Some(list) => names_etag(list, &o.etag).then_some(("If-None-Match", true)),
            None => {
                let past = self.if_modified_since.filter(|t| *t <= now_ms());
                past.is_some_and(|t| modified <= t).then_some(("If-Modified-Since", true))
            }
        }
    }

    /// GetObject's and HeadObject's conditions against the object: `PreconditionFailed`
    /// (412), or `NotModified` (304).
    pub fn check_read(&self, o: &Stored) -> Result<(), S3Error> {
        match self.read_refusal(o) {
            None => Ok(()),
            Some((_, true)) => Err(S3Error::new("NotModified", 304, "Not Modified")),
            Some((name, false)) => Err(precondition_failed(name)),
        }
    }

    /// A copy's conditions on its source (`x-amz-copy-source-if-*`): any that fails is a
    /// failed precondition, named by its header.
    pub fn check_copy_source(&self, o: &Stored) -> Result<(), S3Error> {
        match self.read_refusal(o) {
            None => Ok(()),
            Some((name, _)) => Err(precondition_failed(&format!("x-amz-copy-source-{name}"))),
        }
    }

    /// PutObject's conditions (`If-None-Match: *`, `If-Match`) against the key's current
    /// object, if any.
    pub(crate) fn allows_write(&self, current: Option<&ObjectRecord>) -> Result<(), S3Error> {
        if let (Some(list), Some(c)) = (&self.if_none_match, current) {
            if names_etag(list, &c.etag) {
                return Err(precondition_failed("If-None-Match"));
            }
        }
        match (&self.if_match, current) {
            (Some(list), Some(c)) if !names_etag(list, &c.etag) => Err(precondition_failed("If-Match")),
            (Some(_), None) => Err(S3Error::new("NoSuchKey", 404, "The specified key does not exist.")),
            _ => Ok(()),
        }
    }
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
    /// `If-None-Match` (`*`) and `If-Match`: the write happens only if they hold.
    pub conditions: Conditions,
    /// A checksum the client declared (or asked for), to check the body against and keep.
    pub checksum: Option<Declared>,
}

/// What CopyObject takes.
#[derive(Debug, Clone, Default)]
pub struct CopyInput {
    /// The source: bucket, key and version.
    pub source: (String, String, Option<String>),
    /// The destination bucket.
    pub bucket: String,
    /// The destination key.
    pub key: String,
    /// `x-amz-metadata-directive: REPLACE`: the new object takes `meta` rather than the
    /// source's.
    pub replace: Option<ObjectMeta>,
    /// `x-amz-copy-source-if-*`, against the source.
    pub conditions: Conditions,
    /// `x-amz-checksum-algorithm`: the copy's checksum is computed anew by it.
    pub checksum: Option<crate::Algorithm>,
    /// Whether the request names a storage class, a website redirect or encryption: each
    /// makes a copy onto itself legal, as a metadata replacement does.
    pub changes_attributes: bool,
    /// `If-Match`/`If-None-Match`, against the destination key's current object.
    pub write_conditions: Conditions,
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
    /// `x-amz-expiration`, when a lifecycle rule will expire it (shown for the current
    /// version, read or written without a version id).
    pub expiration: Option<String>,
    /// A copy's source version, when the source has one (`x-amz-copy-source-version-id`).
    pub copied_from: Option<String>,
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
            expiration: None,
            copied_from: None,
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
        let bucket = self.access(caller, &input.bucket, "s3:PutObject", Some(&input.key))?;
        let versioning = crate::versioning::doc_of(&bucket)?;
        names::check_key(&input.key)?;
        if input.conditions != Conditions::default() {
            // Refused before the body is read, when it would be; checked again as it commits.
            let current = self.inner.store.object(&input.bucket, &input.key, None)?.filter(|o| !o.marker);
            input.conditions.allows_write(current.as_ref())?;
        }
        let expected_md5 = input.content_md5.as_deref().map(read_md5).transpose()?;
        // With none asked for, S3 keeps a CRC64NVME of every object, as AWS now does.
        let declared = input.checksum.clone().unwrap_or(Declared::default_for_objects());
        let written = self.inner.blobs.write(body, input.length, MAX_PUT, Some(declared.algorithm), true).await?;
        let mut meta = input.meta;
        if let (declared, Some(computed)) = (&declared, &written.checksum) {
            match declared.check(computed) {
                Ok(value) => meta.checksum = Some((declared.algorithm.as_str().into(), value)),
                Err(e) => {
                    self.inner.blobs.remove(&written.id);
                    return Err(e);
                }
            }
        }
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
            size: written.size as i64,
            etag: format!("\"{}\"", hex(&written.md5)),
            blob: Some(written.id.clone()),
            doc: serde_json::to_string(&meta).map_err(S3Error::internal)?,
            ..versioning.new_version(input.bucket, input.key)
        };
        let events = versioning.events(&bucket, caller, created("ObjectCreated:Put", &record));
        let mut stored = self.commit(record, written.inline.as_deref(), &input.conditions, &events)?;
        stored.expiration = versioning.expiration(&stored);
        Ok(stored)
    }

    /// Stores a version whose blob is written (or is `inline`, stored with it), if the
    /// conditions still hold of the key's current object (checked in the same
    /// transaction), with the `events` it causes; else the blob goes. A `null` version is
    /// not named in the answer (a suspended bucket's write shows none, as on AWS).
    fn commit(
        &self,
        mut record: ObjectRecord,
        inline: Option<&[u8]>,
        conditions: &Conditions,
        events: &[String],
    ) -> Result<Stored, S3Error> {
        let blob = record.blob.clone().unwrap_or_default();
        let mut refused = None;
        let stored = self.inner.store.put_object_if(&mut record, inline, events, |current| {
            match conditions.allows_write(current) {
                Ok(()) => true,
                Err(e) => {
                    refused = Some(e);
                    false
                }
            }
        });
        match stored {
            Ok(Some(replaced)) => self.inner.blobs.remove_later(replaced),
            Ok(None) => {
                self.inner.blobs.remove(&blob);
                return Err(refused.unwrap_or_else(|| precondition_failed("If-Match")));
            }
            Err(e) => {
                self.inner.blobs.remove(&blob);
                return Err(e.into());
            }
        }
        self.queued(events);
        Stored::of(record)
    }

    /// CopyObject: the source's bytes shared with the new object (blobs never change, so
    /// a copy is a hard link), its metadata copied or replaced.
    pub fn copy_object(&self, caller: &Caller, input: CopyInput) -> Result<Stored, S3Error> {
        let (src_bucket, src_key, src_version) = &input.source;
        let bucket = self.access(caller, &input.bucket, "s3:PutObject", Some(&input.key))?;
        let versioning = crate::versioning::doc_of(&bucket)?;
        names::check_key(&input.key)?;
        let source = self.object(caller, src_bucket, src_key, src_version.as_deref())?;
        input.conditions.check_copy_source(&source)?;
        let same = *src_bucket == input.bucket && *src_key == input.key;
        if same && input.replace.is_none() && !input.changes_attributes {
            return Err(S3Error::new(
                "InvalidRequest",
                400,
                "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
            ));
        }
        // An inline source's bytes are copied into the new version's row.
        let (blob, inline) = match Blobs::is_inline(&source.blob) {
            true => (Blobs::INLINE_ID.into(), Some(self.inline_bytes(&source.blob)?)),
            false => (self.inner.blobs.link(&source.blob).map_err(S3Error::internal)?, None),
        };
        let source_version = source.version_id.clone();
        // Tags go with the copy whatever becomes of the metadata (`x-amz-tagging-directive`
        // `COPY`, the default).
        let mut meta = match input.replace {
            Some(mut meta) => {
                meta.tags = source.meta.tags.clone();
                meta.checksum = source.meta.checksum.clone();
                meta.composite = source.meta.composite;
                meta
            }
            None => source.meta,
        };
        // A copy is one object: a multipart source's copy has its own MD5 for an ETag, and
        // a checksum asked for is the whole object's.
        let multipart = source.etag.contains('-');
        let mut etag = source.etag;
        if multipart || input.checksum.is_some() {
            let (md5, sum) = match &inline {
                Some(data) => Blobs::digest_of(data, input.checksum),
                None => self.inner.blobs.digest(&blob, input.checksum).map_err(S3Error::internal)?,
            };
            if multipart {
                etag = format!("\"{}\"", hex(&md5));
                meta.parts.clear();
            }
            if let (Some(a), Some(sum)) = (input.checksum, sum) {
                meta.checksum = Some((a.as_str().into(), crate::checksums::base64(&sum)));
                meta.composite = false;
            }
        }
        let record = ObjectRecord {
            size: source.size as i64,
            etag,
            blob: Some(blob),
            doc: serde_json::to_string(&meta).map_err(S3Error::internal)?,
            ..versioning.new_version(input.bucket, input.key)
        };
        let events = versioning.events(&bucket, caller, created("ObjectCreated:Copy", &record));
        let mut stored = self.commit(record, inline.as_deref(), &input.write_conditions, &events)?;
        stored.expiration = versioning.expiration(&stored);
        if versioning.versioned() {
            // A copy names the null version it made, where a PutObject does not.
            stored.version_id.get_or_insert_with(|| "null".into());
        }
        stored.copied_from = source_version;
        Ok(stored)
    }

    /// HeadObject and GetObject's object: the latest version unless one is named. A
    /// caller the bucket does not let read may still read an object whose own ACL lets it.
    pub fn object(&self, caller: &Caller, bucket: &str, key: &str, version: Option<&str>) -> Result<Stored, S3Error> {
        let b = self.inner.store.bucket(bucket)?.ok_or_else(|| S3Error::no_bucket(bucket))?;
        let action = if version.is_some() { "s3:GetObjectVersion" } else { "s3:GetObject" };
        if !self.permits(&b, caller, action, Some(key))? {
            let found = self.inner.store.object(bucket, key, version)?.filter(|o| !o.marker);
            let stored = found.map(Stored::of).transpose()?;
            return match stored {
                Some(o) if self.object_readable(&b, caller, o.meta.acl.as_deref())? => Ok(o),
                _ => Err(crate::access::access_denied()),
            };
        }
        let Some(found) = self.inner.store.object(bucket, key, version)? else {
            return Err(match version {
                Some(v) => S3Error::new("NoSuchVersion", 404, "The specified version does not exist.")
                    .with("Key", key)
                    .with("VersionId", v),
                None => S3Error::no_key(key),
            });
        };
        if found.marker {
            // The latest is a delete marker: gone; a marker asked for by version: not an object.
            let e = match version {
                None => S3Error::no_key(key),
                Some(_) => {
                    S3Error::new("MethodNotAllowed", 405, "The specified method is not allowed against this resource.")
                        .with("Method", "GET")
                        .with("ResourceType", "DeleteMarker")
                }
            };
            return Err(e.header("x-amz-delete-marker", "true").header("x-amz-version-id", found.version));
        }
        let mut o = Stored::of(found)?;
        if version.is_none() {
            o.expiration = crate::versioning::doc_of(&b)?.expiration(&o);
        }
        Ok(o)
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
        if Blobs::is_inline(&o.blob) {
            return self.inline_bytes(&o.blob).map(Some);
        }
        std::fs::read(self.inner.blobs.path(&o.blob)).map(Some).map_err(S3Error::internal)
    }

    /// The bytes of inline blob `id`.
    fn inline_bytes(&self, id: &str) -> Result<Vec<u8>, S3Error> {
        self.inner.store.inline_blob(id)?.ok_or_else(|| S3Error::internal(format!("inline blob {id} is missing")))
    }

    /// `len` bytes of blob `id` from `start`, as they are read: an inline blob's from the
    /// store at once, a file's a mebibyte at a time.
    pub async fn read_blob(
        &self,
        id: &str,
        start: u64,
        len: u64,
    ) -> Result<futures_util::stream::BoxStream<'static, std::io::Result<Bytes>>, S3Error> {
        use futures_util::StreamExt;
        if !Blobs::is_inline(id) {
            return Ok(self.inner.blobs.read(id, start, len).await?.boxed());
        }
        let data = Bytes::from(self.inline_bytes(id)?);
        let end = start.saturating_add(len);
        if end > data.len() as u64 {
            return Err(S3Error::internal(format!("inline blob {id} is shorter than its object")));
        }
        let part = data.slice(start as usize..end as usize);
        Ok(futures_util::stream::once(async move { Ok(part) }).boxed())
    }

    /// DeleteObjects: each key's outcome, in order (a key that was not there is deleted
    /// all the same).
    pub fn delete_objects(
        &self,
        caller: &Caller,
        bucket: &str,
        keys: &[(String, Option<String>)],
    ) -> Result<Vec<Result<crate::Deleted, S3Error>>, S3Error> {
        self.inner.store.bucket(bucket)?.ok_or_else(|| S3Error::no_bucket(bucket))?;
        Ok(keys.iter().map(|(k, v)| self.delete_object(caller, bucket, k, v.as_deref())).collect())
    }
}

/// A new version's event (`ObjectCreated:Put`, …).
pub(crate) fn created<'a>(name: &'static str, r: &'a ObjectRecord) -> Happened<'a> {
    Happened { name, key: &r.key, size: Some(r.size as u64), etag: Some(&r.etag), version: Some(&r.version) }
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

    fn stored(etag: &str, modified_ms: i64) -> Stored {
        Stored {
            bucket: "b".into(),
            key: "k".into(),
            version_id: None,
            size: 1,
            etag: format!("\"{etag}\""),
            modified_ms,
            meta: ObjectMeta::default(),
            blob: String::new(),
            expiration: None,
            copied_from: None,
        }
    }

    #[test]
    fn read_conditions_follow_https_precedence() {
        let o = stored("abc", 10_500);
        let c = |f: fn(&mut Conditions)| {
            let mut c = Conditions::default();
            f(&mut c);
            c.check_read(&o).map_err(|e| (e.status, e.fields.first().map(|f| f.1.clone())))
        };
        assert_eq!(c(|c| c.if_match = Some("\"abc\"".into())), Ok(()));
        assert_eq!(c(|c| c.if_match = Some("\"x\", *".into())), Ok(()));
        assert_eq!(c(|c| c.if_match = Some("x".into())), Err((412, Some("If-Match".into()))));
        assert_eq!(c(|c| c.if_none_match = Some("abc".into())), Err((304, None)));
        assert_eq!(c(|c| c.if_modified_since = Some(10_000)), Err((304, None)), "same second: not modified");
        assert_eq!(c(|c| c.if_modified_since = Some(9_000)), Ok(()));
        assert_eq!(c(|c| c.if_unmodified_since = Some(9_000)), Err((412, Some("If-Unmodified-Since".into()))));
        // If-Match holding outweighs If-Unmodified-Since failing, as in RFC 7232.
        assert_eq!(
            c(|c| {
                c.if_match = Some("abc".into());
                c.if_unmodified_since = Some(0);
            }),
            Ok(())
        );
        // If-None-Match not matching outweighs If-Modified-Since.
        assert_eq!(
            c(|c| {
                c.if_none_match = Some("zzz".into());
                c.if_modified_since = Some(20_000);
            }),
            Ok(())
        );
    }

    #[test]
    fn content_md5_must_be_sixteen_bytes_of_base64() {
        assert_eq!(read_md5("XrY7u+Ae7tCTyyK7j1rNww==").unwrap()[0], 0x5e);
        assert_eq!(read_md5("nope").unwrap_err().code, "InvalidDigest");
    }
}
