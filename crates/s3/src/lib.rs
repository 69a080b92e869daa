//! Lamina's S3.
//!
//! [`S3Service`] owns buckets and objects. An object's bytes go to a blob file under the
//! data directory (`blobs.rs`: streamed to a temporary file while their digests are
//! computed, renamed into place and fsynced), and its metadata to the store's
//! [`store::ObjectStore`] only then, so an answered write survives a `kill -9` and an
//! interrupted one leaves nothing visible. A PutObject of at most 64 KiB keeps its bytes
//! in the store instead, with its row, in one fsynced commit. Keys are opaque: they name
//! rows, never files.
//! `buckets.rs` holds the buckets (names in `names.rs`), `objects.rs` the objects,
//! `checksums.rs` their flexible checksums, `listing.rs` ListObjects and ListObjectsV2,
//! `multipart.rs` multipart uploads, `tagging.rs` tags (and the bucket's configuration
//! document), `versioning.rs` versions and delete markers, `settings.rs` the settings kept
//! as documents (CORS, lifecycle, policy, encryption, …), `lifecycle.rs` their expiration,
//! `acl.rs` ACLs, `access.rs` who may do what (policy, ACLs, public access block),
//! `cors.rs` preflights, `notifications.rs` event notifications (queued with the write that
//! causes them, delivered to SQS, SNS and Lambda through [`EventTargets`]).
//!
//! It knows nothing of S3's XML or HTTP: `aws-api` speaks them, and hands bodies in as
//! streams of bytes already decoded (`aws-chunked` included). Metadata calls are short
//! SQLite statements; callers run them off the async workers.
#![deny(missing_docs)]

mod access;
mod acl;
mod blobs;
mod buckets;
mod checksums;
mod cors;
mod lifecycle;
mod listing;
mod multipart;
pub mod names;
mod notifications;
mod objects;
mod settings;
mod tagging;
mod versioning;

use std::borrow::Cow;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use store::{ObjectStore, StoreError};

pub use acl::Acl;
pub use blobs::Blobs;
pub use buckets::Bucket;
pub use checksums::{Algorithm, Declared};
pub use listing::{ListQuery, Listed, MAX_KEYS};
pub use multipart::{ListedPart, Part, PartInput, PartWritten, Upload};
pub use notifications::{
    Destination, EventTargets, Notifications, Outgoing, Reach, TargetKind, Undelivered, TOPIC_SUBJECT,
};
pub use objects::{Conditions, CopyInput, ObjectMeta, PartInfo, PutInput, Range, Stored};
pub use settings::Setting;
pub use tagging::check_tags;
pub use versioning::{Deleted, VersionEntry, VersionPage};

/// An S3 error, as the API answers it: its code, message and status, and the extra
/// fields S3 adds to the `<Error>` document (`BucketName`, `Key`, …).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct S3Error {
    /// `Code`.
    pub code: &'static str,
    /// `Message`.
    pub message: String,
    /// The HTTP status.
    pub status: u16,
    /// Further fields of the error document, in order.
    pub fields: Vec<(Cow<'static, str>, String)>,
    /// Headers the answer carries (`x-amz-delete-marker`, …).
    pub headers: Vec<(&'static str, String)>,
}

impl S3Error {
    /// An error with no extra fields.
    pub fn new(code: &'static str, status: u16, message: impl Into<String>) -> S3Error {
        S3Error { code, message: message.into(), status, fields: Vec::new(), headers: Vec::new() }
    }

    /// The same, with a header.
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> S3Error {
        self.headers.push((name, value.into()));
        self
    }

    /// The same, with one more field.
    pub fn with(mut self, name: impl Into<Cow<'static, str>>, value: impl Into<String>) -> S3Error {
        self.fields.push((name.into(), value.into()));
        self
    }

    /// `NoSuchBucket`.
    pub fn no_bucket(name: &str) -> S3Error {
        S3Error::new("NoSuchBucket", 404, "The specified bucket does not exist").with("BucketName", name)
    }

    /// `NoSuchKey`.
    pub fn no_key(key: &str) -> S3Error {
        S3Error::new("NoSuchKey", 404, "The specified key does not exist.").with("Key", key)
    }

    /// `InternalError`: a failure of Lamina's own.
    pub fn internal(why: impl std::fmt::Display) -> S3Error {
        tracing::error!("s3: {why}");
        S3Error::new("InternalError", 500, "We encountered an internal error. Please try again.")
    }
}

impl From<StoreError> for S3Error {
    fn from(e: StoreError) -> Self {
        S3Error::internal(e)
    }
}

/// S3.
#[derive(Clone)]
pub struct S3Service {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for S3Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Service").finish_non_exhaustive()
    }
}

struct Inner {
    store: ObjectStore,
    blobs: Blobs,
    /// Where notifications go, once connected.
    targets: OnceLock<Arc<dyn EventTargets>>,
    /// Wakes the notifications' dispatcher.
    wake: tokio::sync::Notify,
    /// The clock lifecycle rules go by (the server's, which tests move on).
    clock: model::Clock,
    /// Wakes the lifecycle sweep when that clock moves.
    clock_moved: Arc<tokio::sync::Notify>,
}

/// Who makes a request: an account in a region, as a principal, from an address, with
/// the trace it belongs to (what an event notification names and carries).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The account (12 digits).
    pub account: String,
    /// The region the request was sent to.
    pub region: String,
    /// The principal's ARN: the account's root, an IAM user, an assumed role's session.
    pub principal: String,
    /// The client's address.
    pub source_ip: String,
    /// Whether the request was signed by no one (only public policies and grants let
    /// it in).
    pub anonymous: bool,
    /// The request's X-Ray trace header (`X-Amzn-Trace-Id`), which S3 passes on to the
    /// queues its notifications go to.
    pub trace_header: Option<String>,
}

impl Caller {
    /// The root of `account`, in `region`, on the loopback.
    pub fn new(account: impl Into<String>, region: impl Into<String>) -> Caller {
        let account = account.into();
        Caller {
            principal: format!("arn:aws:iam::{account}:root"),
            account,
            region: region.into(),
            source_ip: "127.0.0.1".into(),
            anonymous: false,
            trace_header: None,
        }
    }

    /// The `principalId` an event notification shows: the account for its root, else
    /// `AWS:` and the principal's name (`AWS:user/alice`).
    fn principal_id(&self) -> String {
        if self.anonymous {
            return "Anonymous".into();
        }
        match self.principal.rsplit_once(':') {
            Some((_, "root")) | None => self.account.clone(),
            Some((_, name)) => format!("AWS:{name}"),
        }
    }
}

impl From<model::Caller> for Caller {
    fn from(c: model::Caller) -> Caller {
        Caller::new(c.account, c.region)
    }
}

impl S3Service {
    /// Opens S3's state under `dir` (`meta.db`, `blobs/`), removing what an interrupted
    /// write left behind; lifecycle rules go by `clock`.
    pub fn start(dir: &Path, clock: model::Clock) -> Result<S3Service, S3Error> {
        let store = ObjectStore::open(&dir.join("meta.db"))?;
        let blobs = Blobs::open(&dir.join("blobs")).map_err(S3Error::internal)?;
        let kept: std::collections::HashSet<String> = store.blobs()?.into_iter().collect();
        let removed = blobs.sweep(&kept).map_err(S3Error::internal)?;
        if removed > 0 {
            tracing::info!(removed, "s3: removed blobs no object names (writes a crash interrupted)");
        }
        let inner = Inner {
            store,
            blobs,
            targets: OnceLock::new(),
            wake: tokio::sync::Notify::new(),
            clock,
            clock_moved: Arc::new(tokio::sync::Notify::new()),
        };
        Ok(S3Service { inner: Arc::new(inner) })
    }

    /// The server's clock moved on: lifecycle rules may have work due.
    pub fn clock_moved(&self) {
        self.inner.clock_moved.notify_one();
    }

    /// Where object bytes are written and read.
    pub fn blobs(&self) -> &Blobs {
        &self.inner.blobs
    }
}

/// The canonical user id S3 shows as an account's `Owner.ID`.
pub fn canonical_id(account: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("lamina-s3-owner:{account}").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Milliseconds since the epoch, now.
fn now_ms() -> i64 {
    model::clock::now_ms()
}
