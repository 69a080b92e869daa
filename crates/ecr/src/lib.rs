//! Lamina's ECR: the repository catalogue.
//!
//! [`EcrService`] owns every account's repositories: their settings (tag mutability, scan
//! on push, encryption), repository policy, lifecycle policy and tags, kept in memory and
//! written whole to the store's [`store::DocumentStore`] before a change is answered.
//! Deploy tools make and remove repositories (the CDK's bootstrap stack, the Serverless
//! Framework's `remove`), and CloudFormation's `AWS::ECR::Repository` is made here.
//!
//! Lamina serves no image registry (it runs no containers): a repository holds no
//! images, so image listings are empty and images asked for by id are not found. The
//! registry's own operations (`GetAuthorizationToken`, layer uploads, `PutImage`) are not
//! served, and answer so.
//!
//! It knows nothing of ECR's JSON: `aws-api` speaks it. Every change writes SQLite, so
//! callers run it off the async workers.
#![deny(missing_docs)]

use std::collections::BTreeMap;
use std::sync::Arc;

use model::sync::RwLock;
use serde::{Deserialize, Serialize};
use store::{Document, DocumentStore, StoreError};

/// The document kind repositories are stored as.
const KIND: &str = "ecr-repository";

/// The most tags a repository carries.
const MAX_TAGS: usize = 50;

/// The most repositories one DescribeRepositories page lists, and its default.
const MAX_PAGE: usize = 1000;
const DEFAULT_PAGE: usize = 100;

/// An ECR error, one variant per error type a caller can see.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EcrError {
    /// `InvalidParameterException`.
    #[error("{0}")]
    InvalidParameter(String),
    /// `RepositoryNotFoundException`.
    #[error("{0}")]
    RepositoryNotFound(String),
    /// `RepositoryAlreadyExistsException`.
    #[error("{0}")]
    RepositoryAlreadyExists(String),
    /// `RepositoryPolicyNotFoundException`.
    #[error("{0}")]
    RepositoryPolicyNotFound(String),
    /// `LifecyclePolicyNotFoundException`.
    #[error("{0}")]
    LifecyclePolicyNotFound(String),
    /// `ImageNotFoundException`.
    #[error("{0}")]
    ImageNotFound(String),
    /// `TooManyTagsException`.
    #[error("{0}")]
    TooManyTags(String),
    /// `AccessDeniedException`.
    #[error("{0}")]
    AccessDenied(String),
    /// `ServerException`: a failure of Lamina's own.
    #[error("{0}")]
    Server(String),
}

impl From<StoreError> for EcrError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "store failure");
        EcrError::Server("Lamina could not store the change.".into())
    }
}

/// Who calls: an account's principal, in a region.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The account (the registry a repository is in).
    pub account: String,
    /// The region.
    pub region: String,
    /// The principal's ARN (named in AccessDenied answers).
    pub principal: String,
}

/// A repository.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Repository {
    /// Its registry: the account.
    pub account: String,
    /// Its region.
    pub region: String,
    /// Its name.
    pub name: String,
    /// When it was made, in ms since the epoch.
    pub created_ms: i64,
    /// `MUTABLE`, `IMMUTABLE`, or either `_WITH_EXCLUSION`.
    pub tag_mutability: String,
    /// The tags exempt from `tag_mutability`, as given.
    #[serde(default)]
    pub mutability_exclusions: Vec<serde_json::Value>,
    /// Whether images are scanned on push.
    pub scan_on_push: bool,
    /// `AES256`, `KMS` or `KMS_DSSE`.
    pub encryption_type: String,
    /// The KMS key, for the KMS types.
    pub kms_key: Option<String>,
    /// The repository policy's text.
    pub policy: Option<String>,
    /// The lifecycle policy's text.
    pub lifecycle_policy: Option<String>,
    /// Its tags, in the order first given.
    pub tags: Vec<(String, String)>,
}

impl Repository {
    /// Its ARN.
    pub fn arn(&self) -> String {
        format!("arn:aws:ecr:{}:{}:repository/{}", self.region, self.account, self.name)
    }

    /// Its URI, where AWS would serve its images.
    pub fn uri(&self) -> String {
        format!("{}.dkr.ecr.{}.amazonaws.com/{}", self.account, self.region, self.name)
    }
}

/// What CreateRepository is given.
#[derive(Debug, Clone, Default)]
pub struct CreateInput {
    /// The name.
    pub name: String,
    /// The tags.
    pub tags: Vec<(String, String)>,
    /// The tag mutability (default `MUTABLE`).
    pub tag_mutability: Option<String>,
    /// The mutability's exclusion filters.
    pub mutability_exclusions: Vec<serde_json::Value>,
    /// Whether images are scanned on push.
    pub scan_on_push: bool,
    /// The encryption type (default `AES256`) and KMS key.
    pub encryption: Option<(String, Option<String>)>,
}

/// An image, as asked for by id: its digest or tag.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageId {
    /// `sha256:…`.
    pub digest: Option<String>,
    /// The tag.
    pub tag: Option<String>,
}

/// The two policies a repository holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    /// The repository policy (who may reach it).
    Repository,
    /// The lifecycle policy (which images expire).
    Lifecycle,
}

impl PolicyKind {
    fn slot(self, r: &mut Repository) -> &mut Option<String> {
        match self {
            PolicyKind::Repository => &mut r.policy,
            PolicyKind::Lifecycle => &mut r.lifecycle_policy,
        }
    }

    /// The operation's name, for refusals: `put`, `get` or `delete`.
    fn operation(self, verb: &str) -> &'static str {
        match (self, verb) {
            (PolicyKind::Repository, "put") => "SetRepositoryPolicy",
            (PolicyKind::Repository, "get") => "GetRepositoryPolicy",
            (PolicyKind::Repository, _) => "DeleteRepositoryPolicy",
            (PolicyKind::Lifecycle, "put") => "PutLifecyclePolicy",
            (PolicyKind::Lifecycle, "get") => "GetLifecyclePolicy",
            (PolicyKind::Lifecycle, _) => "DeleteLifecyclePolicy",
        }
    }

    /// A repository policy is a JSON policy document; a lifecycle policy a JSON document
    /// with its `rules`.
    fn check(self, text: &str) -> Result<(), EcrError> {
        let doc: Option<serde_json::Value> = serde_json::from_str(text).ok();
        let member = |key: &str| doc.as_ref().and_then(|d| d.get(key));
        let (valid, message) = match self {
            PolicyKind::Repository => (
                member("Statement").is_some(),
                "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid repository policy provided'",
            ),
            PolicyKind::Lifecycle => (
                member("rules").is_some_and(serde_json::Value::is_array),
                "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation \
                 failure: object has missing required properties ([\"rules\"])'",
            ),
        };
        if valid {
            Ok(())
        } else {
            Err(EcrError::InvalidParameter(message.into()))
        }
    }

    fn not_found(self, r: &Repository) -> EcrError {
        let (noun, error): (&str, fn(String) -> EcrError) = match self {
            PolicyKind::Repository => ("Repository policy", EcrError::RepositoryPolicyNotFound),
            PolicyKind::Lifecycle => ("Lifecycle policy", EcrError::LifecyclePolicyNotFound),
        };
        error(format!(
            "{noun} does not exist for the repository with name '{}' in the registry with id '{}'",
            r.name, r.account
        ))
    }
}

/// Where a repository is kept: its account, region and name.
type Key = (String, String, String);

/// The repository catalogue.
#[derive(Clone)]
pub struct EcrService {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for EcrService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EcrService").finish_non_exhaustive()
    }
}

struct Inner {
    store: Arc<dyn DocumentStore>,
    repositories: RwLock<BTreeMap<Key, Repository>>,
}

impl EcrService {
    /// Loads every repository the store holds.
    pub fn start(store: Arc<dyn DocumentStore>) -> Result<EcrService, EcrError> {
        let mut repositories = BTreeMap::new();
        for d in store.documents(KIND)? {
            match serde_json::from_str::<Repository>(&d.doc) {
                Ok(r) => {
                    repositories.insert((r.account.clone(), r.region.clone(), r.name.clone()), r);
                }
                Err(e) => tracing::error!(id = d.id, error = %e, "a stored repository cannot be read; skipped"),
            }
        }
        Ok(EcrService { inner: Arc::new(Inner { store, repositories: RwLock::new(repositories) }) })
    }

    /// CreateRepository.
    pub fn create(&self, caller: &Caller, registry: Option<&str>, input: CreateInput) -> Result<Repository, EcrError> {
        let account = own_registry(caller, registry, "CreateRepository", &input.name)?;
        let k = (account.to_owned(), caller.region.clone(), input.name.clone());
        let mut map = self.inner.repositories.write();
        if map.contains_key(&k) {
            return Err(EcrError::RepositoryAlreadyExists(format!(
                "The repository with name '{}' already exists in the registry with id '{account}'",
                input.name
            )));
        }
        let tags = merged_tags(Vec::new(), input.tags)?;
        let (encryption_type, kms_key) = input.encryption.unwrap_or_else(|| ("AES256".into(), None));
        if encryption_type == "AES256" && kms_key.is_some() {
            return Err(EcrError::InvalidParameter(
                "Invalid parameter at 'encryptionConfiguration' failed to satisfy constraint: 'KMS key should not be specified when encryption type is AES256'".into(),
            ));
        }
        let r = Repository {
            account: account.to_owned(),
            region: caller.region.clone(),
            name: input.name,
            created_ms: model::clock::now_ms(),
            tag_mutability: input.tag_mutability.unwrap_or_else(|| "MUTABLE".into()),
            mutability_exclusions: input.mutability_exclusions,
            scan_on_push: input.scan_on_push,
            encryption_type,
            kms_key,
            policy: None,
            lifecycle_policy: None,
            tags,
        };
        self.keep(&mut map, k, r.clone())?;
        Ok(r)
    }

    /// DescribeRepositories: the named ones (each must exist), or a page of all, by name.
    pub fn describe(
        &self,
        caller: &Caller,
        registry: Option<&str>,
        names: Option<&[String]>,
        max: Option<usize>,
        token: Option<&str>,
    ) -> Result<(Vec<Repository>, Option<String>), EcrError> {
        let account = own_registry(caller, registry, "DescribeRepositories", "*")?;
        let map = self.inner.repositories.read();
        if let Some(names) = names {
            let mut found = Vec::with_capacity(names.len());
            for name in names {
                let k = (account.to_owned(), caller.region.clone(), name.clone());
                found.push(map.get(&k).cloned().ok_or_else(|| not_found(name, account))?);
            }
            return Ok((found, None));
        }
        let max = max.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
        let after = token.map(open_token).transpose()?;
        let mut page: Vec<Repository> = map
            .values()
            .filter(|r| r.account == account && r.region == caller.region)
            .filter(|r| after.as_deref().is_none_or(|a| r.name.as_str() > a))
            .take(max + 1)
            .cloned()
            .collect();
        let next = (page.len() > max).then(|| {
            page.truncate(max);
            page.last().map(|r| seal_token(&r.name)).unwrap_or_default()
        });
        Ok((page, next))
    }

    /// A repository of the caller's registry.
    pub fn repository(&self, caller: &Caller, registry: Option<&str>, name: &str) -> Result<Repository, EcrError> {
        self.change(caller, registry, name, "DescribeRepositories", |r| Ok((r.clone(), false)))
    }

    /// DeleteRepository. A repository holds no images here, so `force` changes nothing.
    pub fn delete(&self, caller: &Caller, registry: Option<&str>, name: &str) -> Result<Repository, EcrError> {
        let account = own_registry(caller, registry, "DeleteRepository", name)?;
        let k = (account.to_owned(), caller.region.clone(), name.to_owned());
        let mut map = self.inner.repositories.write();
        if !map.contains_key(&k) {
            return Err(not_found(name, account));
        }
        self.inner.store.delete_document(KIND, &doc_id(&k))?;
        Ok(map.remove(&k).expect("checked above"))
    }

    /// Runs `f` on a repository of the caller's registry, keeping it when `f` says it
    /// changed it.
    pub fn change<T>(
        &self,
        caller: &Caller,
        registry: Option<&str>,
        name: &str,
        operation: &str,
        f: impl FnOnce(&mut Repository) -> Result<(T, bool), EcrError>,
    ) -> Result<T, EcrError> {
        let account = own_registry(caller, registry, operation, name)?;
        let k = (account.to_owned(), caller.region.clone(), name.to_owned());
        let mut map = self.inner.repositories.write();
        let mut r = map.get(&k).cloned().ok_or_else(|| not_found(name, account))?;
        let (out, changed) = f(&mut r)?;
        if changed {
            self.keep(&mut map, k, r)?;
        }
        Ok(out)
    }

    /// SetRepositoryPolicy or PutLifecyclePolicy: the text checked, then kept.
    pub fn put_policy(
        &self,
        caller: &Caller,
        registry: Option<&str>,
        name: &str,
        kind: PolicyKind,
        text: &str,
    ) -> Result<Repository, EcrError> {
        kind.check(text)?;
        self.change(caller, registry, name, kind.operation("put"), |r| {
            *kind.slot(r) = Some(text.to_owned());
            Ok((r.clone(), true))
        })
    }

    /// GetRepositoryPolicy or GetLifecyclePolicy, or their deletes when `delete`.
    pub fn policy(
        &self,
        caller: &Caller,
        registry: Option<&str>,
        name: &str,
        kind: PolicyKind,
        delete: bool,
    ) -> Result<(Repository, String), EcrError> {
        self.change(caller, registry, name, kind.operation(if delete { "delete" } else { "get" }), |r| {
            let text = kind.slot(r).clone().ok_or_else(|| kind.not_found(r))?;
            if delete {
                *kind.slot(r) = None;
            }
            Ok(((r.clone(), text), delete))
        })
    }

    /// DescribeImages with ids, and BatchGetImage: no repository holds images, so the
    /// first id asked for is not found.
    pub fn image(&self, caller: &Caller, registry: Option<&str>, name: &str, id: &ImageId) -> Result<(), EcrError> {
        let r = self.repository(caller, registry, name)?;
        let digest = id.digest.as_deref().unwrap_or("null");
        let tag = id.tag.as_deref().unwrap_or("null");
        Err(EcrError::ImageNotFound(format!(
            "The image with imageId {{imageDigest:'{digest}', imageTag:'{tag}'}} does not exist within the repository with name '{}' in the registry with id '{}'",
            r.name, r.account
        )))
    }

    /// TagResource and UntagResource in one: the tags after the change.
    pub fn change_tags(
        &self,
        caller: &Caller,
        arn: &str,
        add: Vec<(String, String)>,
        remove: &[String],
    ) -> Result<(), EcrError> {
        let (registry, name) = parse_arn(caller, arn)?;
        self.change(caller, Some(&registry), &name, "TagResource", |r| {
            let mut tags = merged_tags(std::mem::take(&mut r.tags), add)?;
            tags.retain(|(k, _)| !remove.contains(k));
            r.tags = tags;
            Ok(((), true))
        })
    }

    /// ListTagsForResource.
    pub fn tags(&self, caller: &Caller, arn: &str) -> Result<Vec<(String, String)>, EcrError> {
        let (registry, name) = parse_arn(caller, arn)?;
        Ok(self.repository(caller, Some(&registry), &name)?.tags)
    }

    /// Writes `r` to the store, then keeps it.
    fn keep(&self, map: &mut BTreeMap<Key, Repository>, k: Key, r: Repository) -> Result<(), EcrError> {
        let doc = serde_json::to_string(&r).map_err(|e| EcrError::Server(e.to_string()))?;
        self.inner.store.put_document(&Document { kind: KIND.into(), id: doc_id(&k), doc })?;
        map.insert(k, r);
        Ok(())
    }
}

fn doc_id((account, region, name): &Key) -> String {
    format!("{account}:{region}:{name}")
}

fn not_found(name: &str, account: &str) -> EcrError {
    EcrError::RepositoryNotFound(format!(
        "The repository with name '{name}' does not exist in the registry with id '{account}'"
    ))
}

/// The registry a request names: the caller's own. Another account's repositories are
/// reached only through their repository policy, which Lamina does not evaluate, so they
/// are refused as AWS refuses a caller no policy allows.
fn own_registry<'a>(
    caller: &'a Caller,
    registry: Option<&'a str>,
    operation: &str,
    name: &str,
) -> Result<&'a str, EcrError> {
    match registry {
        None => Ok(&caller.account),
        Some(r) if r == caller.account => Ok(r),
        Some(r) => Err(EcrError::AccessDenied(format!(
            "User: {} is not authorized to perform: ecr:{operation} on resource: arn:aws:ecr:{}:{r}:repository/{name} because no resource-based policy allows the ecr:{operation} action",
            caller.principal, caller.region
        ))),
    }
}

/// A repository's registry and name, from its ARN.
fn parse_arn(caller: &Caller, arn: &str) -> Result<(String, String), EcrError> {
    let invalid = || {
        EcrError::InvalidParameter(format!(
            "Invalid parameter at 'resourceArn' failed to satisfy constraint: 'Invalid ARN: {arn}'"
        ))
    };
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [_, _, "ecr", region, account, resource] = parts[..] else { return Err(invalid()) };
    let name = resource.strip_prefix("repository/").ok_or_else(invalid)?;
    if region != caller.region {
        return Err(not_found(name, account));
    }
    Ok((account.to_owned(), name.to_owned()))
}

/// `old` with `add` merged in (a key given again takes its new value), checked.
fn merged_tags(mut old: Vec<(String, String)>, add: Vec<(String, String)>) -> Result<Vec<(String, String)>, EcrError> {
    for (k, v) in add {
        if k.starts_with("aws:") {
            return Err(EcrError::InvalidParameter(
                "Invalid parameter at 'tags' failed to satisfy constraint: 'Tag keys must not start with aws:'".into(),
            ));
        }
        match old.iter_mut().find(|(key, _)| *key == k) {
            Some(slot) => slot.1 = v,
            None => old.push((k, v)),
        }
    }
    if old.len() > MAX_TAGS {
        return Err(EcrError::TooManyTags(format!("A repository can have at most {MAX_TAGS} tags")));
    }
    Ok(old)
}

/// A page token: the last name listed, hex-encoded (names are ASCII).
fn seal_token(name: &str) -> String {
    name.bytes().map(|b| format!("{b:02x}")).collect()
}

fn open_token(token: &str) -> Result<String, EcrError> {
    let bad = || {
        EcrError::InvalidParameter(
            "Invalid parameter at 'nextToken' failed to satisfy constraint: 'Invalid token'".into(),
        )
    };
    if !token.len().is_multiple_of(2) || !token.is_ascii() {
        return Err(bad());
    }
    let bytes = (0..token.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&token[i..i + 2], 16))
        .collect::<Result<Vec<u8>, _>>()
        .map_err(|_| bad())?;
    String::from_utf8(bytes).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(tag: &str) -> Arc<dyn DocumentStore> {
        let dir = std::env::temp_dir().join(format!("lamina-ecr-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Arc::new(store::SqliteStore::open(&dir.join("state.db")).unwrap())
    }

    fn service(tag: &str) -> EcrService {
        EcrService::start(store(tag)).unwrap()
    }

    fn caller() -> Caller {
        Caller {
            account: "111111111111".into(),
            region: "us-east-1".into(),
            principal: "arn:aws:iam::111111111111:root".into(),
        }
    }

    fn make(ecr: &EcrService, name: &str) -> Repository {
        ecr.create(&caller(), None, CreateInput { name: name.into(), ..Default::default() }).unwrap()
    }

    #[test]
    fn a_repository_is_made_once_and_found_by_name() {
        let ecr = service("made");
        let r = make(&ecr, "team/app");
        assert_eq!(r.arn(), "arn:aws:ecr:us-east-1:111111111111:repository/team/app");
        assert_eq!(r.uri(), "111111111111.dkr.ecr.us-east-1.amazonaws.com/team/app");
        assert_eq!((r.tag_mutability.as_str(), r.encryption_type.as_str()), ("MUTABLE", "AES256"));
        let again = ecr.create(&caller(), None, CreateInput { name: "team/app".into(), ..Default::default() });
        assert_eq!(
            again.unwrap_err().to_string(),
            "The repository with name 'team/app' already exists in the registry with id '111111111111'"
        );
        let names = ["team/app".to_owned(), "missing".to_owned()];
        let err = ecr.describe(&caller(), None, Some(&names), None, None).unwrap_err();
        assert_eq!(
            err,
            EcrError::RepositoryNotFound(
                "The repository with name 'missing' does not exist in the registry with id '111111111111'".into()
            )
        );
    }

    #[test]
    fn listings_page_by_name_and_stay_in_the_region() {
        let ecr = service("pages");
        for n in ["c", "a", "b"] {
            make(&ecr, n);
        }
        let elsewhere = Caller { region: "eu-west-1".into(), ..caller() };
        ecr.create(&elsewhere, None, CreateInput { name: "z".into(), ..Default::default() }).unwrap();
        let (first, token) = ecr.describe(&caller(), None, None, Some(2), None).unwrap();
        assert_eq!(first.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        let (rest, end) = ecr.describe(&caller(), None, None, Some(2), token.as_deref()).unwrap();
        assert_eq!((rest.len(), rest[0].name.as_str(), end), (1, "c", None));
        assert!(matches!(ecr.describe(&caller(), None, None, None, Some("zz")), Err(EcrError::InvalidParameter(_))));
    }

    #[test]
    fn policies_are_checked_kept_and_deleted() {
        let ecr = service("policies");
        make(&ecr, "app");
        let (repo, lifecycle) = (PolicyKind::Repository, PolicyKind::Lifecycle);
        let missing = ecr.policy(&caller(), None, "app", repo, false).unwrap_err();
        assert!(matches!(missing, EcrError::RepositoryPolicyNotFound(_)));
        assert!(matches!(ecr.put_policy(&caller(), None, "app", repo, "{}"), Err(EcrError::InvalidParameter(_))));
        ecr.put_policy(&caller(), None, "app", repo, r#"{"Version":"2012-10-17","Statement":[]}"#).unwrap();
        let (_, text) = ecr.policy(&caller(), None, "app", repo, true).unwrap();
        assert!(text.contains("Statement"));
        assert!(ecr.policy(&caller(), None, "app", repo, false).is_err());
        let bad = ecr.put_policy(&caller(), None, "app", lifecycle, r#"{"rule":[]}"#);
        assert!(matches!(bad, Err(EcrError::InvalidParameter(_))));
        assert!(matches!(
            ecr.policy(&caller(), None, "app", lifecycle, false),
            Err(EcrError::LifecyclePolicyNotFound(m)) if m.starts_with("Lifecycle policy does not exist")
        ));
        ecr.put_policy(&caller(), None, "app", lifecycle, r#"{"rules":[]}"#).unwrap();
        assert_eq!(ecr.policy(&caller(), None, "app", lifecycle, false).unwrap().1, r#"{"rules":[]}"#);
    }

    #[test]
    fn tags_merge_by_key_and_other_registries_are_refused() {
        let ecr = service("tags");
        let r = make(&ecr, "app");
        ecr.change_tags(&caller(), &r.arn(), vec![("a".into(), "1".into()), ("b".into(), "2".into())], &[]).unwrap();
        ecr.change_tags(&caller(), &r.arn(), vec![("a".into(), "3".into())], &["b".into()]).unwrap();
        assert_eq!(ecr.tags(&caller(), &r.arn()).unwrap(), vec![("a".to_owned(), "3".to_owned())]);
        let other = ecr.describe(&caller(), Some("222222222222"), None, None, None).unwrap_err();
        assert!(matches!(other, EcrError::AccessDenied(m) if m.contains("ecr:DescribeRepositories")));
    }

    #[test]
    fn repositories_survive_a_restart_and_deletes_are_kept() {
        let store = store("restart");
        let ecr = EcrService::start(store.clone()).unwrap();
        make(&ecr, "kept");
        make(&ecr, "gone");
        ecr.delete(&caller(), None, "gone").unwrap();
        let again = EcrService::start(store).unwrap();
        let (all, _) = again.describe(&caller(), None, None, None, None).unwrap();
        assert_eq!(all.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["kept"]);
        let id = ImageId { tag: Some("latest".into()), digest: None };
        let err = again.image(&caller(), None, "kept", &id).unwrap_err();
        assert_eq!(
            err.to_string(),
            "The image with imageId {imageDigest:'null', imageTag:'latest'} does not exist within the repository with name 'kept' in the registry with id '111111111111'"
        );
    }
}
