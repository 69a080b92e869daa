//! Lamina's SSM Parameter Store.
//!
//! [`SsmService`] owns every account's parameters: their versions (at most 100 each, the
//! oldest dropped first unless labelled), labels and tags, kept in memory and written
//! whole to the store's [`store::DocumentStore`] on every change, before the change is
//! answered. Names follow AWS's hierarchy rules (`names.rs`); `SecureString` values are
//! sealed at rest under the data directory's own key (`seal.rs`), opened only when a
//! caller asks to decrypt. `parameters.rs` holds the writes and reads of one parameter,
//! `query.rs` the listings (by path, DescribeParameters, filters and pages), `tags.rs`
//! the tags.
//!
//! It knows nothing of SSM's JSON: `aws-api` speaks it. Every operation reads or writes
//! SQLite, so callers run it off the async workers.
#![deny(missing_docs)]

pub mod names;
mod parameters;
pub mod query;
pub mod seal;
mod tags;
mod types;

use std::collections::BTreeMap;
use std::sync::Arc;

use model::sync::RwLock;
use store::{Document, DocumentStore, StoreError};

pub use model::Caller;
pub use seal::Sealer;
pub use types::{Described, Filter, Page, Parameter, ParameterType, PutInput, Shown, Tier, Version};

/// The document kind parameters are stored as.
const KIND: &str = "ssm-parameter";

/// An SSM error, as the API answers it: one variant per error type a caller can see.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SsmError {
    /// `ValidationException`.
    #[error("{0}")]
    Validation(String),
    /// `ParameterNotFound`.
    #[error("{0}")]
    NotFound(String),
    /// `ParameterAlreadyExists`.
    #[error("The parameter already exists. To overwrite this value, set the overwrite option in the request to true.")]
    AlreadyExists,
    /// `ParameterVersionNotFound`.
    #[error("{0}")]
    VersionNotFound(String),
    /// `ParameterPatternMismatchException`.
    #[error("{0}")]
    PatternMismatch(String),
    /// `HierarchyLevelLimitExceededException`.
    #[error("{0}")]
    HierarchyLevelLimitExceeded(String),
    /// `ParameterMaxVersionLimitExceeded`.
    #[error("{0}")]
    MaxVersionLimitExceeded(String),
    /// `ParameterVersionLabelLimitExceeded`.
    #[error("{0}")]
    LabelLimitExceeded(String),
    /// `InvalidFilterKey`.
    #[error("{0}")]
    InvalidFilterKey(String),
    /// `InvalidFilterOption`.
    #[error("{0}")]
    InvalidFilterOption(String),
    /// `InvalidFilterValue`.
    #[error("{0}")]
    InvalidFilterValue(String),
    /// `InvalidNextToken`.
    #[error("The nextToken is not valid")]
    InvalidNextToken,
    /// `InvalidResourceId`.
    #[error("")]
    InvalidResourceId,
    /// `InvalidResourceType`.
    #[error("")]
    InvalidResourceType,
    /// `TooManyTagsError`.
    #[error("{0}")]
    TooManyTags(String),
    /// `AccessDeniedException`.
    #[error("{0}")]
    AccessDenied(String),
    /// `InternalServerError`: a failure of Lamina's own.
    #[error("{0}")]
    Internal(String),
}

impl From<StoreError> for SsmError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "store failure");
        SsmError::Internal("Lamina could not store the change.".into())
    }
}

/// Where a parameter is kept: its account, region and key (`names::key_of`).
type Key = (String, String, String);

fn key(caller: &Caller, name: &str) -> Key {
    (caller.account.clone(), caller.region.clone(), names::key_of(name).to_owned())
}

/// SSM Parameter Store.
#[derive(Clone)]
pub struct SsmService {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for SsmService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SsmService").finish_non_exhaustive()
    }
}

struct Inner {
    store: Arc<dyn DocumentStore>,
    sealer: Sealer,
    parameters: RwLock<BTreeMap<Key, Parameter>>,
}

impl SsmService {
    /// Loads every parameter the store holds.
    pub fn start(store: Arc<dyn DocumentStore>, sealer: Sealer) -> Result<SsmService, SsmError> {
        let mut parameters = BTreeMap::new();
        for d in store.documents(KIND)? {
            match serde_json::from_str::<Parameter>(&d.doc) {
                Ok(p) if !p.versions.is_empty() => {
                    parameters.insert((p.account.clone(), p.region.clone(), names::key_of(&p.name).to_owned()), p);
                }
                Ok(_) => {}
                Err(e) => tracing::error!(id = d.id, error = %e, "a stored parameter cannot be read; skipped"),
            }
        }
        let inner = Inner { store, sealer, parameters: RwLock::new(parameters) };
        Ok(SsmService { inner: Arc::new(inner) })
    }

    /// Writes `p` to the store, then keeps it: what was answered survives a crash.
    fn keep(&self, map: &mut BTreeMap<Key, Parameter>, k: Key, p: Parameter) -> Result<(), SsmError> {
        let doc = serde_json::to_string(&p).map_err(|e| SsmError::Internal(e.to_string()))?;
        self.inner.store.put_document(&Document { kind: KIND.into(), id: doc_id(&k), doc })?;
        map.insert(k, p);
        Ok(())
    }

    /// Deletes `k` from the store, then forgets it.
    fn forget(&self, map: &mut BTreeMap<Key, Parameter>, k: &Key) -> Result<Option<Parameter>, SsmError> {
        if !map.contains_key(k) {
            return Ok(None);
        }
        self.inner.store.delete_document(KIND, &doc_id(k))?;
        Ok(map.remove(k))
    }

    /// A version's value as shown: opened if it is sealed and `decrypt` asks for it.
    fn shown_value(&self, p: &Parameter, v: &Version, decrypt: bool) -> String {
        if v.kind == ParameterType::SecureString && decrypt {
            let k = names::key_of(&p.name);
            return self.inner.sealer.open_value(k, &v.value).unwrap_or_default();
        }
        v.value.clone()
    }
}

fn doc_id((account, region, name): &Key) -> String {
    format!("{account}:{region}:{name}")
}
