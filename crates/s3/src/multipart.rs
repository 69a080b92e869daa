//! Multipart uploads: CreateMultipartUpload, UploadPart (each part a blob of its own),
//! CompleteMultipartUpload (the parts checked as AWS checks them, joined into the
//! object's blob, the object stored and the upload ended in one transaction),
//! AbortMultipartUpload, ListParts and ListMultipartUploads.

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use store::{ObjectRecord, PartRecord, UploadRecord};

use crate::checksums::{Algorithm, Declared};
use crate::objects::{hex, read_md5};
use crate::{names, now_ms, Caller, Conditions, ObjectMeta, S3Error, S3Service, Stored};

/// The largest part: 5 GiB.
const MAX_PART: u64 = 5 * 1024 * 1024 * 1024;
/// The smallest part but the last: 5 MiB.
const MIN_PART: u64 = 5 * 1024 * 1024;
/// The highest part number.
const MAX_PART_NUMBER: i64 = 10_000;

/// An upload in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    /// `UploadId`.
    pub id: String,
    /// `Key`.
    pub key: String,
    /// `Initiated`, ms.
    pub initiated_ms: i64,
}

/// A part, as ListParts shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// `PartNumber`.
    pub number: i64,
    /// `ETag`, quoted.
    pub etag: String,
    /// `Size`.
    pub size: u64,
    /// `LastModified`, ms.
    pub modified_ms: i64,
    /// Its checksum (the upload's algorithm, base64), when its upload keeps them.
    pub checksum: Option<(Algorithm, String)>,
}

/// What UploadPart takes beside the body.
#[derive(Debug, Clone, Default)]
pub struct PartInput {
    /// `Bucket`.
    pub bucket: String,
    /// `Key`.
    pub key: String,
    /// `UploadId`.
    pub upload_id: String,
    /// `PartNumber`.
    pub number: i64,
    /// `Content-MD5`.
    pub content_md5: Option<String>,
    /// The body's length, when the request says.
    pub length: Option<u64>,
    /// A checksum the client declared for the part.
    pub checksum: Option<Declared>,
}

/// A part as CompleteMultipartUpload lists it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListedPart {
    /// `PartNumber`.
    pub number: i64,
    /// `ETag`, quoted or not.
    pub etag: String,
    /// Its `Checksum<ALG>` by the upload's algorithm, when given.
    pub checksum: Option<(Algorithm, String)>,
}

/// What UploadPart answers: the part's ETag, and its checksum when its upload keeps one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartWritten {
    /// `ETag`, quoted.
    pub etag: String,
    /// The algorithm and the part's checksum, base64.
    pub checksum: Option<(Algorithm, String)>,
}

/// An `x-amz-copy-source-range` (`bytes=first-last`, within the source's `size`): the
/// first byte and the length.
fn copy_range(range: &str, size: u64) -> Result<(u64, u64), S3Error> {
    let bounds = range.strip_prefix("bytes=").and_then(|r| r.split_once('-'));
    let parsed = bounds.and_then(|(a, b)| Some((a.parse::<u64>().ok()?, b.parse::<u64>().ok()?)));
    let Some((first, last)) = parsed.filter(|(a, b)| a <= b) else {
        return Err(S3Error::new(
            "InvalidArgument",
            400,
            "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the \
             zero-based offsets of the first and last bytes to copy",
        )
        .with("ArgumentName", "x-amz-copy-source-range")
        .with("ArgumentValue", range));
    };
    if last >= size {
        return Err(S3Error::new(
            "InvalidRange",
            416,
            format!("Range specified is not valid for source object of size: {size}"),
        )
        .with("RangeRequested", range)
        .with("ActualObjectSize", size.to_string()));
    }
    Ok((first, last - first + 1))
}

/// The checksum algorithm an upload keeps (`ChecksumAlgorithm` when it was created).
fn upload_algorithm(u: &UploadRecord) -> Result<Option<Algorithm>, S3Error> {
    let meta: ObjectMeta = serde_json::from_str(&u.doc).map_err(S3Error::internal)?;
    Ok(meta.checksum.and_then(|(a, _)| Algorithm::parse(&a)))
}

fn no_upload(id: &str) -> S3Error {
    S3Error::new(
        "NoSuchUpload",
        404,
        "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or \
         completed.",
    )
    .with("UploadId", id)
}

impl S3Service {
    /// CreateMultipartUpload: the new upload's id.
    pub fn create_upload(
        &self,
        caller: &Caller,
        bucket: &str,
        key: &str,
        meta: &ObjectMeta,
    ) -> Result<String, S3Error> {
        self.access(caller, bucket, "s3:PutObject", Some(key))?;
        names::check_key(key)?;
        let id = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
        let doc = serde_json::to_string(meta).map_err(S3Error::internal)?;
        let record =
            UploadRecord { id: id.clone(), bucket: bucket.into(), key: key.into(), initiated_ms: now_ms(), doc };
        self.inner.store.insert_upload(&record)?;
        Ok(id)
    }

    /// The upload `id` of `bucket`/`key`, if the caller may perform `action` on it.
    fn upload_of(
        &self,
        caller: &Caller,
        (bucket, key, id): (&str, &str, &str),
        action: &str,
    ) -> Result<UploadRecord, S3Error> {
        self.access(caller, bucket, action, Some(key))?;
        let u = self.inner.store.upload(id)?.filter(|u| u.bucket == bucket && u.key == key);
        u.ok_or_else(|| no_upload(id))
    }

    /// UploadPart: the part's ETag and checksum (by its upload's algorithm, or the one
    /// the part declares).
    pub async fn upload_part<S>(&self, caller: &Caller, input: PartInput, body: S) -> Result<PartWritten, S3Error>
    where
        S: Stream<Item = Result<Bytes, S3Error>>,
    {
        if !(1..=MAX_PART_NUMBER).contains(&input.number) {
            return Err(S3Error::new(
                "InvalidArgument",
                400,
                "Part number must be an integer between 1 and 10000, inclusive",
            )
            .with("ArgumentName", "partNumber")
            .with("ArgumentValue", input.number.to_string()));
        }
        let upload = self.upload_of(caller, (&input.bucket, &input.key, &input.upload_id), "s3:PutObject")?;
        let kept = upload_algorithm(&upload)?;
        let declared = input.checksum.as_ref().map(|d| d.algorithm);
        if let Some((kept, declared)) = kept.zip(declared).filter(|(k, d)| k != d) {
            return Err(S3Error::new(
                "InvalidRequest",
                400,
                format!(
                    "Checksum Type mismatch occurred, expected checksum Type: {}, actual checksum Type: {}",
                    kept.as_str().to_ascii_lowercase(),
                    declared.as_str().to_ascii_lowercase()
                ),
            ));
        }
        let algorithm = kept.or(declared);
        let expected_md5 = input.content_md5.as_deref().map(read_md5).transpose()?;
        let written = self.inner.blobs.write(body, input.length, MAX_PART, algorithm, false).await?;
        if expected_md5.is_some_and(|e| e != written.md5) {
            self.inner.blobs.remove(&written.id);
            return Err(S3Error::new(
                "BadDigest",
                400,
                "The Content-MD5 you specified did not match what we received.",
            ));
        }
        let checksum = match (algorithm, &written.checksum) {
            (Some(a), Some(computed)) => {
                let declared = input.checksum.clone().unwrap_or(Declared { algorithm: a, header: None, trailer: None });
                match declared.check(computed) {
                    Ok(value) => Some((a, value)),
                    Err(e) => {
                        self.inner.blobs.remove(&written.id);
                        return Err(e);
                    }
                }
            }
            _ => None,
        };
        let etag = format!("\"{}\"", hex(&written.md5));
        let part = PartRecord {
            upload: input.upload_id.clone(),
            number: input.number,
            size: written.size as i64,
            etag: etag.clone(),
            modified_ms: now_ms(),
            blob: written.id.clone(),
            checksum: checksum.as_ref().map(|(_, v)| v.clone()),
        };
        // The upload may have ended while the part streamed in.
        if self.inner.store.upload(&input.upload_id)?.is_none() {
            self.inner.blobs.remove(&written.id);
            return Err(no_upload(&input.upload_id));
        }
        match self.inner.store.put_part(&part) {
            Ok(old) => self.inner.blobs.remove_later(old),
            Err(e) => {
                self.inner.blobs.remove(&written.id);
                return Err(e.into());
            }
        }
        Ok(PartWritten { etag, checksum })
    }

    /// UploadPartCopy: the part is the `source` object (bucket, key, version), or the
    /// range of it `x-amz-copy-source-range` names (`bytes=first-last`), if `conditions`
    /// hold of it; the part's ETag.
    pub async fn upload_part_copy(
        &self,
        caller: &Caller,
        mut input: PartInput,
        source: (String, String, Option<String>),
        range: Option<&str>,
        conditions: &Conditions,
    ) -> Result<PartWritten, S3Error> {
        self.upload_of(caller, (&input.bucket, &input.key, &input.upload_id), "s3:PutObject")?;
        let src = self.object(caller, &source.0, &source.1, source.2.as_deref())?;
        conditions.check_copy_source(&src)?;
        let (start, len) = match range {
            None => (0, src.size),
            Some(r) => copy_range(r, src.size)?,
        };
        input.length = Some(len);
        let bytes = self.read_blob(&src.blob, start, len).await?;
        self.upload_part(caller, input, bytes.map(|r| r.map_err(S3Error::internal))).await
    }

    /// CompleteMultipartUpload: the parts listed (ascending, each as uploaded, all but the
    /// last at least 5 MiB) become the object, whose ETag is the MD5 of their MD5s with
    /// their count.
    pub async fn complete_upload(
        &self,
        caller: &Caller,
        bucket: &str,
        key: &str,
        id: &str,
        listed: &[ListedPart],
        conditions: &Conditions,
    ) -> Result<Stored, S3Error> {
        let upload = self.upload_of(caller, (bucket, key, id), "s3:PutObject")?;
        let b = self.access(caller, bucket, "s3:PutObject", Some(key))?;
        let versioning = crate::versioning::doc_of(&b)?;
        if listed.is_empty() {
            return Err(S3Error::new("InvalidRequest", 400, "You must specify at least one part"));
        }
        if listed.windows(2).any(|w| w[0].number >= w[1].number) {
            return Err(S3Error::new(
                "InvalidPartOrder",
                400,
                "The list of parts was not in ascending order. Parts must be ordered by part number.",
            )
            .with("UploadId", id));
        }
        let parts = self.inner.store.parts(id, 0, MAX_PART_NUMBER as usize)?;
        let mut meta: ObjectMeta = serde_json::from_str(&upload.doc).map_err(S3Error::internal)?;
        let kept = upload_algorithm(&upload)?;
        let chosen = choose_parts(id, &parts, listed, kept.filter(|_| meta.composite))?;
        // An upload that kept none gets the whole object's CRC64NVME, as AWS gives it.
        let algorithm = kept.or(Some(Algorithm::Crc64Nvme));
        let blobs: Vec<String> = chosen.iter().map(|p| p.blob.clone()).collect();
        meta.parts =
            chosen.iter().map(|p| crate::PartInfo { size: p.size as u64, checksum: p.checksum.clone() }).collect();
        let full_object = algorithm.filter(|_| !meta.composite);
        let (blob, size, whole) = self.inner.blobs.concat(&blobs, full_object).await?;
        meta.checksum = match (algorithm, whole) {
            (Some(a), Some(whole)) => Some((a.as_str().into(), crate::checksums::base64(&whole))),
            (Some(a), None) => {
                let sums: Option<Vec<Vec<u8>>> =
                    chosen.iter().map(|p| p.checksum.as_deref().and_then(crate::checksums::unbase64)).collect();
                sums.map(|sums| (a.as_str().into(), crate::checksums::composite(a, &sums)))
            }
            (None, _) => None,
        };
        let mut md5s = Vec::with_capacity(16 * chosen.len());
        for p in &chosen {
            md5s.extend(unhex(p.etag.trim_matches('"')));
        }
        let etag = format!("\"{}-{}\"", hex(&md5::compute_digest(&md5s)), chosen.len());
        let record = ObjectRecord {
            size: size as i64,
            etag,
            blob: Some(blob.clone()),
            doc: serde_json::to_string(&meta).map_err(S3Error::internal)?,
            ..versioning.new_version(bucket.into(), key.into())
        };
        let events =
            versioning.events(&b, caller, crate::objects::created("ObjectCreated:CompleteMultipartUpload", &record));
        // `If-Match`/`If-None-Match` hold of the key as the object completes, or the
        // upload stays as it was.
        let mut refused = None;
        let ended = self.inner.store.end_upload_if(id, Some(&record), &events, |current| {
            conditions.allows_write(current).map_err(|e| refused = Some(e)).is_ok()
        });
        match ended {
            Ok(Some(gone)) => self.inner.blobs.remove_later(gone),
            Ok(None) => {
                self.inner.blobs.remove(&blob);
                return Err(refused.unwrap_or_else(|| S3Error::internal("a refused completion without a reason")));
            }
            Err(e) => {
                self.inner.blobs.remove(&blob);
                return Err(e.into());
            }
        }
        self.queued(&events);
        let mut stored = Stored::of(record)?;
        stored.expiration = versioning.expiration(&stored);
        Ok(stored)
    }

    /// AbortMultipartUpload.
    pub fn abort_upload(&self, caller: &Caller, bucket: &str, key: &str, id: &str) -> Result<(), S3Error> {
        self.upload_of(caller, (bucket, key, id), "s3:AbortMultipartUpload")?;
        let gone = self.inner.store.end_upload(id, None, &[])?;
        self.inner.blobs.remove_later(gone);
        Ok(())
    }

    /// ListParts: a page of parts after `marker`, and whether more follow.
    pub fn list_parts(
        &self,
        caller: &Caller,
        bucket: &str,
        key: &str,
        id: &str,
        marker: i64,
        max: usize,
    ) -> Result<(Vec<Part>, bool), S3Error> {
        let upload = self.upload_of(caller, (bucket, key, id), "s3:ListMultipartUploadParts")?;
        let algorithm = upload_algorithm(&upload)?;
        let mut parts = self.inner.store.parts(id, marker, max + 1)?;
        let truncated = parts.len() > max;
        parts.truncate(max);
        let parts = parts
            .into_iter()
            .map(|p| Part {
                number: p.number,
                etag: p.etag,
                size: p.size as u64,
                modified_ms: p.modified_ms,
                checksum: algorithm.zip(p.checksum),
            })
            .collect();
        Ok((parts, truncated))
    }

    /// ListMultipartUploads: a page of a bucket's uploads, and whether more follow.
    pub fn list_uploads(
        &self,
        caller: &Caller,
        bucket: &str,
        prefix: &str,
        after: (&str, &str),
        max: usize,
    ) -> Result<(Vec<Upload>, bool), S3Error> {
        self.access(caller, bucket, "s3:ListBucketMultipartUploads", None)?;
        let mut found = self.inner.store.uploads(bucket, prefix, after, max + 1)?;
        let truncated = found.len() > max;
        found.truncate(max);
        let uploads =
            found.into_iter().map(|u| Upload { id: u.id, key: u.key, initiated_ms: u.initiated_ms }).collect();
        Ok((uploads, truncated))
    }
}

/// The uploaded parts a completion lists, checked: each uploaded with that ETag (and
/// with that checksum, which an upload keeping composite checksums must be given), all but
/// the last at least 5 MiB.
fn choose_parts(
    id: &str,
    parts: &[PartRecord],
    listed: &[ListedPart],
    composite: Option<Algorithm>,
) -> Result<Vec<PartRecord>, S3Error> {
    let mut chosen = Vec::with_capacity(listed.len());
    for l in listed {
        if let Some(a) = composite.filter(|_| l.checksum.is_none()) {
            return Err(S3Error::new(
                "InvalidRequest",
                400,
                format!(
                    "The upload was created using a {} checksum. The complete request must include the checksum for \
                     each part. It was missing for part {} in the request.",
                    a.as_str().to_ascii_lowercase(),
                    l.number
                ),
            ));
        }
        let wanted = l.etag.trim_matches('"');
        let found = parts.iter().find(|p| {
            let same_sum = match &l.checksum {
                Some((_, sum)) => p.checksum.as_deref() == Some(sum.as_str()),
                None => true,
            };
            p.number == l.number && p.etag.trim_matches('"') == wanted && same_sum
        });
        let Some(p) = found else {
            return Err(S3Error::new(
                "InvalidPart",
                400,
                "One or more of the specified parts could not be found.  The part may not have been uploaded, or the \
                 specified entity tag may not match the part's entity tag.",
            )
            .with("UploadId", id)
            .with("PartNumber", l.number.to_string())
            .with("ETag", wanted));
        };
        chosen.push(p.clone());
    }
    if let Some(small) = chosen[..chosen.len() - 1].iter().find(|p| (p.size as u64) < MIN_PART) {
        return Err(S3Error::new(
            "EntityTooSmall",
            400,
            "Your proposed upload is smaller than the minimum allowed size",
        )
        .with("ProposedSize", small.size.to_string())
        .with("MinSizeAllowed", MIN_PART.to_string()));
    }
    Ok(chosen)
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len() / 2).filter_map(|i| u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()).collect()
}

mod md5 {
    /// The MD5 of `bytes`.
    pub(super) fn compute_digest(bytes: &[u8]) -> [u8; 16] {
        use ::md5::Digest;
        ::md5::Md5::digest(bytes).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(number: i64, size: i64, etag: &str) -> PartRecord {
        PartRecord {
            upload: "u".into(),
            number,
            size,
            etag: format!("\"{etag}\""),
            modified_ms: 0,
            blob: format!("b{number}"),
            checksum: None,
        }
    }

    #[test]
    fn completions_name_parts_as_uploaded_and_small_ones_only_last() {
        let big = MIN_PART as i64;
        let parts = [part(1, big, "aa"), part(2, 10, "bb"), part(3, big, "cc")];
        let listed = |list: &[(i64, &str)]| -> Vec<ListedPart> {
            list.iter().map(|(n, e)| ListedPart { number: *n, etag: (*e).to_owned(), checksum: None }).collect()
        };
        let ok = choose_parts("u", &parts, &listed(&[(1, "aa"), (2, "\"bb\"")]), None).unwrap();
        assert_eq!(ok.len(), 2);
        let e = choose_parts("u", &parts, &listed(&[(1, "aa"), (2, "zz")]), None).unwrap_err();
        assert_eq!((e.code, e.fields[1].1.as_str(), e.fields[2].1.as_str()), ("InvalidPart", "2", "zz"));
        let e = choose_parts("u", &parts, &listed(&[(2, "bb"), (3, "cc")]), None).unwrap_err();
        assert_eq!((e.code, e.fields[0].1.as_str()), ("EntityTooSmall", "10"));
        let e = choose_parts("u", &parts, &listed(&[(1, "aa")]), Some(Algorithm::Crc32)).unwrap_err();
        assert!(e.message.starts_with("The upload was created using a crc32 checksum."));
    }
}
