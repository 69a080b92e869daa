//! Versioning: a bucket's state (never set, `Enabled`, `Suspended`), the version a write
//! makes, delete markers, and ListObjectVersions.

use base64::Engine;
use store::{BucketRecord, ObjectRecord};

use crate::notifications::Happened;
use crate::tagging::BucketDoc;
use crate::{now_ms, Caller, S3Error, S3Service, Stored};

/// What DeleteObject did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deleted {
    /// The version deleted, or the delete marker's (`null` in a suspended bucket).
    pub version_id: Option<String>,
    /// Whether a delete marker was made or deleted.
    pub delete_marker: bool,
}

/// A version or delete marker, as ListObjectVersions shows it.
#[derive(Debug, Clone)]
pub struct VersionEntry {
    /// The version (a delete marker's has no bytes).
    pub object: Stored,
    /// Whether it is its key's current version.
    pub latest: bool,
    /// Whether it is a delete marker.
    pub delete_marker: bool,
}

/// A page of ListObjectVersions.
#[derive(Debug, Clone, Default)]
pub struct VersionPage {
    /// Versions and delete markers, by key and newest first.
    pub entries: Vec<VersionEntry>,
    /// The common prefixes, in order.
    pub common_prefixes: Vec<String>,
    /// Whether more follow.
    pub is_truncated: bool,
    /// Where the next page starts: a key and a version id.
    pub next: Option<(String, String)>,
}

/// A new version id: 32 characters, as AWS's are.
fn new_version_id() -> String {
    let mut bytes = uuid::Uuid::new_v4().as_bytes().to_vec();
    bytes.extend_from_slice(&uuid::Uuid::new_v4().as_bytes()[..8]);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes).replace('-', ".")
}

impl BucketDoc {
    /// The version a write to the bucket makes: a new id when versioning is on, else the
    /// `null` version.
    pub(crate) fn next_version(&self) -> String {
        match self.versioning.as_deref() {
            Some("Enabled") => new_version_id(),
            _ => "null".into(),
        }
    }

    /// A new current version of `key`, made now, with its version id: its bytes, ETag and
    /// document for the caller to fill in.
    pub(crate) fn new_version(&self, bucket: String, key: String) -> ObjectRecord {
        ObjectRecord {
            bucket,
            key,
            version: self.next_version(),
            seq: 0,
            latest: true,
            marker: false,
            size: 0,
            etag: String::new(),
            modified_ms: now_ms(),
            blob: None,
            doc: "{}".into(),
        }
    }

    /// Whether the bucket ever had versioning configured (its `null` version is then shown
    /// as `null`).
    pub(crate) fn versioned(&self) -> bool {
        self.versioning.is_some()
    }
}

pub(crate) fn doc_of(b: &BucketRecord) -> Result<BucketDoc, S3Error> {
    serde_json::from_str(&b.doc).map_err(S3Error::internal)
}

impl S3Service {
    /// PutBucketVersioning: `Enabled` or `Suspended`.
    pub fn set_versioning(&self, caller: &Caller, bucket: &str, status: Option<&str>) -> Result<(), S3Error> {
        let mut doc = self.bucket_doc(caller, bucket)?;
        match status {
            Some(s @ ("Enabled" | "Suspended")) => doc.versioning = Some(s.to_owned()),
            _ => {
                return Err(S3Error::new(
                    "MalformedXML",
                    400,
                    "The XML you provided was not well-formed or did not validate against our published schema",
                ))
            }
        }
        self.save_doc(bucket, &doc)
    }

    /// GetBucketVersioning: the status, none if never set.
    pub fn versioning(&self, caller: &Caller, bucket: &str) -> Result<Option<String>, S3Error> {
        Ok(self.bucket_doc(caller, bucket)?.versioning)
    }

    /// DeleteObject: a version named is deleted for good; without one, an unversioned
    /// bucket's object goes, and a versioned bucket gets a delete marker.
    pub fn delete_object(
        &self,
        caller: &Caller,
        bucket: &str,
        key: &str,
        version: Option<&str>,
    ) -> Result<Deleted, S3Error> {
        let action = if version.is_some() { "s3:DeleteObjectVersion" } else { "s3:DeleteObject" };
        let b = self.access(caller, bucket, action, Some(key))?;
        let doc = doc_of(&b)?;
        let removed = |version: Option<&str>| {
            let happened = Happened { name: "ObjectRemoved:Delete", key, size: None, etag: None, version };
            doc.events(&b, caller, happened)
        };
        if let Some(v) = version {
            let was = self.inner.store.object(bucket, key, Some(v))?;
            let events = removed(Some(v));
            self.drop_version(bucket, key, v, &events)?;
            return Ok(Deleted { version_id: Some(v.to_owned()), delete_marker: was.is_some_and(|o| o.marker) });
        }
        if !doc.versioned() {
            let events = removed(None);
            self.drop_version(bucket, key, "null", &events)?;
            return Ok(Deleted { version_id: None, delete_marker: false });
        }
        let version = self.put_marker(&b, &doc, key, caller, "ObjectRemoved:DeleteMarkerCreated", now_ms())?;
        Ok(Deleted { version_id: Some(version), delete_marker: true })
    }

    /// Deletes one version of a key for good (nothing if it is not there), queuing `events`
    /// with it.
    pub(crate) fn drop_version(
        &self,
        bucket: &str,
        key: &str,
        version: &str,
        events: &[String],
    ) -> Result<(), S3Error> {
        if let Some(Some(blob)) = self.inner.store.delete_version(bucket, key, version, events)? {
            self.inner.blobs.remove(&blob);
        }
        self.queued(events);
        Ok(())
    }

    /// Puts a delete marker on `key` (made at `at`, ms), with the event `name` it is
    /// (`ObjectRemoved:DeleteMarkerCreated`, or lifecycle's); its version id.
    pub(crate) fn put_marker(
        &self,
        b: &BucketRecord,
        doc: &BucketDoc,
        key: &str,
        caller: &Caller,
        name: &'static str,
        at: i64,
    ) -> Result<String, S3Error> {
        let marker = ObjectRecord { marker: true, modified_ms: at, ..doc.new_version(b.name.clone(), key.into()) };
        let happened = Happened { name, key, size: None, etag: None, version: Some(&marker.version) };
        let events = doc.events(b, caller, happened);
        let gone = self.inner.store.put_object(&marker, &events)?;
        self.inner.blobs.remove_later(gone);
        self.queued(&events);
        Ok(marker.version)
    }

    /// ListObjectVersions: versions and delete markers under `prefix`, folded at the
    /// delimiter, after the markers, at most `max` entries.
    pub fn list_versions(
        &self,
        caller: &Caller,
        bucket: &str,
        prefix: &str,
        delimiter: Option<&str>,
        marker: (&str, &str),
        max: usize,
    ) -> Result<VersionPage, S3Error> {
        self.access(caller, bucket, "s3:ListBucketVersions", None)?;
        let (key_marker, version_marker) = marker;
        let seq = match (key_marker, version_marker) {
            (k, v) if !k.is_empty() && !v.is_empty() => self.inner.store.object(bucket, k, Some(v))?.map(|o| o.seq),
            _ => None,
        };
        let mut at: Option<(String, Option<i64>)> = (!key_marker.is_empty()).then(|| (key_marker.to_owned(), seq));
        let mut page = VersionPage::default();
        'pages: loop {
            let start = at.as_ref().map(|(k, s)| (k.as_str(), *s));
            let rows = self.inner.store.versions(bucket, prefix, start, max.max(1) + 1)?;
            if rows.is_empty() {
                break;
            }
            for r in rows {
                if page.entries.len() + page.common_prefixes.len() == max {
                    page.is_truncated = true;
                    break 'pages;
                }
                let folded = delimiter.filter(|d| !d.is_empty()).and_then(|d| {
                    let rest = &r.key[prefix.len()..];
                    rest.find(d).map(|i| format!("{prefix}{}", &rest[..i + d.len()]))
                });
                match folded {
                    Some(p) => {
                        // Past every version under this prefix.
                        at = Some((format!("{p}{}", char::MAX), None));
                        page.next = Some((p.clone(), String::new()));
                        page.common_prefixes.push(p);
                        continue 'pages;
                    }
                    None => {
                        at = Some((r.key.clone(), Some(r.seq)));
                        page.next = Some((r.key.clone(), r.version.clone()));
                        let (latest, delete_marker) = (r.latest, r.marker);
                        page.entries.push(VersionEntry { object: Stored::of(r)?, latest, delete_marker });
                    }
                }
            }
        }
        if !page.is_truncated {
            page.next = None;
        }
        Ok(page)
    }
}
