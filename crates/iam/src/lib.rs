//! IAM, minimal: roles (with their trust policy, attached managed policies and inline
//! policies), users (with theirs, and their access keys) and customer managed policies,
//! kept per account, stored whole as documents in the store's `DocumentStore` (kinds
//! `iam.role`, `iam.user` and `iam.policy`) and so persisted.
//!
//! **Not enforced**: nothing here decides what a caller may do. Roles exist so that tools
//! that create an execution role first (Terraform, test fixtures, the aws CLI) find what
//! they expect. A user's access keys are who a request is: the API layer hands them to its
//! authenticator, so that a request signed with one acts as that user (its account, its
//! ARN) in both auth modes. AWS managed policies (`arn:aws:iam::aws:policy/…`) can be
//! attached without being created.
//!
//! Resource policies are the exception: [`resource_policy`] (pure) checks and evaluates
//! them for the services that own such resources (SQS queues, SNS topics), which is how
//! one account reaches another's resources, as on AWS.
#![deny(missing_docs)]

pub mod resource_policy;

use model::sync::RwLock;
use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use store::{Document, DocumentStore, StoreError};

const ROLE_KIND: &str = "iam.role";
const POLICY_KIND: &str = "iam.policy";
const USER_KIND: &str = "iam.user";

/// Access keys a user may have at once (AWS's quota).
pub const ACCESS_KEYS_PER_USER: usize = 2;

/// Why an IAM operation failed, with AWS's codes.
#[derive(Debug, thiserror::Error)]
pub enum IamError {
    /// 404 `NoSuchEntity`.
    #[error("{0}")]
    NoSuchEntity(String),
    /// 409 `EntityAlreadyExists`.
    #[error("{0}")]
    EntityAlreadyExists(String),
    /// 409 `DeleteConflict`.
    #[error("{0}")]
    DeleteConflict(String),
    /// 409 `LimitExceeded`.
    #[error("{0}")]
    LimitExceeded(String),
    /// 400 `MalformedPolicyDocument`.
    #[error("{0}")]
    MalformedPolicyDocument(String),
    /// 400 `ValidationError`.
    #[error("{0}")]
    Validation(String),
    /// 500 `ServiceFailure`.
    #[error("{0}")]
    Service(String),
}

impl From<StoreError> for IamError {
    fn from(e: StoreError) -> Self {
        IamError::Service(e.to_string())
    }
}

/// A role.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Role {
    /// The account it belongs to.
    pub account: String,
    /// `RoleName`.
    pub name: String,
    /// `RoleId` (`AROA…`).
    pub id: String,
    /// `Path` (`/` by default).
    pub path: String,
    /// `AssumeRolePolicyDocument`, JSON as given.
    pub assume_role_policy: String,
    /// `Description`.
    pub description: Option<String>,
    /// `MaxSessionDuration`, seconds.
    pub max_session_duration: i64,
    /// `CreateDate`, Unix milliseconds.
    pub created_ms: i64,
    /// `Tags`, in order.
    pub tags: Vec<(String, String)>,
    /// Attached managed policies' ARNs.
    pub attached: Vec<String>,
    /// Inline policies: name → JSON document.
    pub inline: BTreeMap<String, String>,
}

impl Role {
    /// `arn:aws:iam::{account}:role{path}{name}`.
    pub fn arn(&self) -> String {
        format!("arn:aws:iam::{}:role{}{}", self.account, self.path, self.name)
    }
}

/// A user.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct User {
    /// The account it belongs to.
    pub account: String,
    /// `UserName`.
    pub name: String,
    /// `UserId` (`AIDA…`).
    pub id: String,
    /// `Path` (`/` by default).
    pub path: String,
    /// `CreateDate`, Unix milliseconds.
    pub created_ms: i64,
    /// `Tags`, in order.
    pub tags: Vec<(String, String)>,
    /// Attached managed policies' ARNs.
    pub attached: Vec<String>,
    /// Inline policies: name → JSON document.
    pub inline: BTreeMap<String, String>,
    /// Its access keys, oldest first.
    pub keys: Vec<UserKey>,
}

impl User {
    /// `arn:aws:iam::{account}:user{path}{name}`.
    pub fn arn(&self) -> String {
        format!("arn:aws:iam::{}:user{}{}", self.account, self.path, self.name)
    }
}

/// A user's access key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserKey {
    /// `AccessKeyId` (`AKIA…`).
    pub id: String,
    /// `SecretAccessKey`.
    pub secret: String,
    /// `Active`: it signs requests; `Inactive`: it does not.
    pub active: bool,
    /// `CreateDate`, Unix milliseconds.
    pub created_ms: i64,
}

/// An access key with whom it belongs to, for the authenticator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyHolder {
    /// The access key ID.
    pub id: String,
    /// Its secret.
    pub secret: String,
    /// The user's account.
    pub account: String,
    /// The user's ARN.
    pub arn: String,
}

/// A customer managed policy (one version, `v1`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Policy {
    /// The account it belongs to.
    pub account: String,
    /// `PolicyName`.
    pub name: String,
    /// `PolicyId` (`ANPA…`).
    pub id: String,
    /// `Path`.
    pub path: String,
    /// `Description`.
    pub description: Option<String>,
    /// The document of its default version, JSON as given.
    pub document: String,
    /// `CreateDate`, Unix milliseconds.
    pub created_ms: i64,
    /// Its versions (at most five), oldest first; empty in policies stored before
    /// versions were kept, whose one version is `v1`.
    #[serde(default)]
    pub versions: Vec<PolicyVersion>,
    /// The default version's number.
    #[serde(default = "first_version")]
    pub default_version: u32,
    /// The highest version number given so far (numbers are never reused).
    #[serde(default = "first_version")]
    pub last_version: u32,
}

fn first_version() -> u32 {
    1
}

/// One version of a managed policy.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PolicyVersion {
    /// Its number (`v<number>`).
    pub number: u32,
    /// Its document, JSON as given.
    pub document: String,
    /// `CreateDate`, Unix milliseconds.
    pub created_ms: i64,
}

/// The most versions a managed policy keeps.
const MAX_POLICY_VERSIONS: usize = 5;

impl Policy {
    /// `arn:aws:iam::{account}:policy{path}{name}`.
    pub fn arn(&self) -> String {
        format!("arn:aws:iam::{}:policy{}{}", self.account, self.path, self.name)
    }
}

/// CreateRole's input.
#[derive(Debug, Clone, Default)]
pub struct RoleInput {
    /// `RoleName`.
    pub name: String,
    /// `AssumeRolePolicyDocument`.
    pub assume_role_policy: String,
    /// `Path`.
    pub path: Option<String>,
    /// `Description`.
    pub description: Option<String>,
    /// `MaxSessionDuration`.
    pub max_session_duration: Option<i64>,
    /// `Tags`.
    pub tags: Vec<(String, String)>,
}

#[derive(Default)]
struct State {
    roles: BTreeMap<(String, String), Role>,
    users: BTreeMap<(String, String), User>,
    policies: BTreeMap<(String, String), Policy>,
}

/// IAM's roles and policies.
#[derive(Clone)]
pub struct IamService {
    store: Arc<dyn DocumentStore>,
    state: Arc<RwLock<State>>,
}

impl std::fmt::Debug for IamService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IamService").finish_non_exhaustive()
    }
}

/// An id of AWS's form: a prefix and 17 letters and digits.
fn new_id(prefix: &str) -> String {
    let hex = uuid::Uuid::new_v4().simple().to_string().to_ascii_uppercase();
    format!("{prefix}{}", &hex[..17])
}

fn check_name(name: &str, what: &str, max: usize) -> Result<(), IamError> {
    let ok =
        (1..=max).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(IamError::Validation(format!(
            "1 validation error detected: Value '{name}' at '{what}' failed to satisfy constraint: Member must satisfy \
             regular expression pattern: [\\w+=,.@-]+"
        )))
    }
}

fn check_path(path: &str) -> Result<(), IamError> {
    if path.starts_with('/') && path.ends_with('/') && path.len() <= 512 {
        Ok(())
    } else {
        Err(IamError::Validation(format!(
            "The specified value for path is invalid. It must begin and end with / and contain only alphanumeric \
             characters and/or / characters. Path: {path}"
        )))
    }
}

/// The version `v<n>` of `p`.
pub fn version_of<'p>(p: &'p Policy, version: &str) -> Result<&'p PolicyVersion, IamError> {
    let number = version.strip_prefix('v').and_then(|n| n.parse::<u32>().ok());
    p.versions.iter().find(|v| Some(v.number) == number).ok_or_else(|| {
        IamError::NoSuchEntity(format!("Policy {} version {version} does not exist or is not attachable.", p.arn()))
    })
}

fn check_document(doc: &str) -> Result<(), IamError> {
    // The API's own bound on a policy document's length.
    if doc.len() > 131_072 {
        return Err(IamError::Validation(
            "1 validation error detected: Value at 'policyDocument' failed to satisfy constraint: Member must have \
             length less than or equal to 131072"
                .into(),
        ));
    }
    match serde_json::from_str::<serde_json::Value>(doc) {
        Ok(serde_json::Value::Object(o)) if o.contains_key("Statement") => Ok(()),
        _ => Err(IamError::MalformedPolicyDocument("Syntax errors in policy.".into())),
    }
}

fn no_role(name: &str) -> IamError {
    IamError::NoSuchEntity(format!("The role with name {name} cannot be found."))
}

fn no_user(name: &str) -> IamError {
    IamError::NoSuchEntity(format!("The user with name {name} cannot be found."))
}

fn no_key(id: &str) -> IamError {
    IamError::NoSuchEntity(format!("The Access Key with id {id} cannot be found."))
}

/// Attaches a managed policy to a role's or user's list, once.
fn attach(attached: &mut Vec<String>, policy_arn: &str) -> Result<(), IamError> {
    if !attached.iter().any(|a| a == policy_arn) {
        attached.push(policy_arn.to_owned());
    }
    Ok(())
}

/// Detaches a managed policy from a role's or user's list.
fn detach(attached: &mut Vec<String>, policy_arn: &str) -> Result<(), IamError> {
    let before = attached.len();
    attached.retain(|a| a != policy_arn);
    match attached.len() == before {
        true => Err(IamError::NoSuchEntity(format!("Policy {policy_arn} was not found."))),
        false => Ok(()),
    }
}

/// Deletes an inline policy of a role or user (`kind`).
fn delete_inline(inline: &mut BTreeMap<String, String>, kind: &str, policy: &str) -> Result<(), IamError> {
    inline.remove(policy).map(drop).ok_or_else(|| no_inline_policy(kind, policy))
}

/// AWS's answer for an inline policy a role or user (`kind`) does not have.
pub fn no_inline_policy(kind: &str, policy: &str) -> IamError {
    IamError::NoSuchEntity(format!("The {kind} policy with name {policy} cannot be found."))
}

/// A secret access key of AWS's form: 40 characters of letters, digits, `+` and `/`.
fn new_secret() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let random: Vec<u8> = (0..3).flat_map(|_| uuid::Uuid::new_v4().into_bytes()).collect();
    random.iter().take(40).map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char).collect()
}

impl IamService {
    /// Loads every role and policy from the store.
    pub fn start(store: Arc<dyn DocumentStore>) -> Result<Self, IamError> {
        let mut state = State::default();
        for d in store.documents(ROLE_KIND)? {
            let r: Role = serde_json::from_str(&d.doc).map_err(|e| IamError::Service(e.to_string()))?;
            state.roles.insert((r.account.clone(), r.name.clone()), r);
        }
        for d in store.documents(USER_KIND)? {
            let u: User = serde_json::from_str(&d.doc).map_err(|e| IamError::Service(e.to_string()))?;
            state.users.insert((u.account.clone(), u.name.clone()), u);
        }
        for d in store.documents(POLICY_KIND)? {
            let mut p: Policy = serde_json::from_str(&d.doc).map_err(|e| IamError::Service(e.to_string()))?;
            if p.versions.is_empty() {
                p.versions.push(PolicyVersion { number: 1, document: p.document.clone(), created_ms: p.created_ms });
            }
            state.policies.insert((p.account.clone(), p.arn()), p);
        }
        Ok(IamService { store, state: Arc::new(RwLock::new(state)) })
    }

    fn save_role(&self, r: &Role) -> Result<(), IamError> {
        let doc = serde_json::to_string(r).map_err(|e| IamError::Service(e.to_string()))?;
        let id = format!("{}/{}", r.account, r.name);
        self.store.put_document(&Document { kind: ROLE_KIND.into(), id, doc })?;
        Ok(())
    }

    fn change_role<T>(
        &self,
        account: &str,
        name: &str,
        f: impl FnOnce(&mut Role) -> Result<T, IamError>,
    ) -> Result<T, IamError> {
        let mut state = self.state.write();
        let role = state.roles.get_mut(&(account.to_owned(), name.to_owned())).ok_or_else(|| no_role(name))?;
        let mut changed = role.clone();
        let out = f(&mut changed)?;
        self.save_role(&changed)?;
        *role = changed;
        Ok(out)
    }

    fn save_user(&self, u: &User) -> Result<(), IamError> {
        let doc = serde_json::to_string(u).map_err(|e| IamError::Service(e.to_string()))?;
        let id = format!("{}/{}", u.account, u.name);
        self.store.put_document(&Document { kind: USER_KIND.into(), id, doc })?;
        Ok(())
    }

    fn change_user<T>(
        &self,
        account: &str,
        name: &str,
        f: impl FnOnce(&mut User) -> Result<T, IamError>,
    ) -> Result<T, IamError> {
        let mut state = self.state.write();
        let user = state.users.get_mut(&(account.to_owned(), name.to_owned())).ok_or_else(|| no_user(name))?;
        let mut changed = user.clone();
        let out = f(&mut changed)?;
        self.save_user(&changed)?;
        *user = changed;
        Ok(out)
    }

    /// CreateUser.
    pub fn create_user(
        &self,
        account: &str,
        name: &str,
        path: Option<&str>,
        tags: Vec<(String, String)>,
    ) -> Result<User, IamError> {
        check_name(name, "userName", 64)?;
        let path = path.unwrap_or("/").to_owned();
        check_path(&path)?;
        let mut state = self.state.write();
        let key = (account.to_owned(), name.to_owned());
        if state.users.contains_key(&key) {
            return Err(IamError::EntityAlreadyExists(format!("User with name {name} already exists.")));
        }
        let user = User {
            account: account.to_owned(),
            name: name.to_owned(),
            id: new_id("AIDA"),
            path,
            created_ms: model::clock::now_ms(),
            tags,
            attached: Vec::new(),
            inline: BTreeMap::new(),
            keys: Vec::new(),
        };
        self.save_user(&user)?;
        state.users.insert(key, user.clone());
        Ok(user)
    }

    /// GetUser.
    pub fn user(&self, account: &str, name: &str) -> Result<User, IamError> {
        let state = self.state.read();
        state.users.get(&(account.to_owned(), name.to_owned())).cloned().ok_or_else(|| no_user(name))
    }

    /// ListUsers: the account's users under `path_prefix`, by name.
    pub fn users(&self, account: &str, path_prefix: Option<&str>) -> Vec<User> {
        let state = self.state.read();
        state
            .users
            .values()
            .filter(|u| u.account == account && path_prefix.is_none_or(|p| u.path.starts_with(p)))
            .cloned()
            .collect()
    }

    /// DeleteUser: refused while it has access keys or policies.
    pub fn delete_user(&self, account: &str, name: &str) -> Result<(), IamError> {
        let mut state = self.state.write();
        let key = (account.to_owned(), name.to_owned());
        let user = state.users.get(&key).ok_or_else(|| no_user(name))?;
        if !user.keys.is_empty() {
            return Err(IamError::DeleteConflict("Cannot delete entity, must delete access keys first.".into()));
        }
        if !user.attached.is_empty() {
            return Err(IamError::DeleteConflict("Cannot delete entity, must detach all policies first.".into()));
        }
        if !user.inline.is_empty() {
            return Err(IamError::DeleteConflict("Cannot delete entity, must delete policies first.".into()));
        }
        self.store.delete_document(USER_KIND, &format!("{account}/{name}"))?;
        state.users.remove(&key);
        Ok(())
    }

    /// CreateAccessKey: a new active key of the user, who may have two.
    pub fn create_access_key(&self, account: &str, name: &str) -> Result<(User, UserKey), IamError> {
        self.change_user(account, name, |u| {
            if u.keys.len() >= ACCESS_KEYS_PER_USER {
                return Err(IamError::LimitExceeded(format!(
                    "Cannot exceed quota for AccessKeysPerUser: {ACCESS_KEYS_PER_USER}"
                )));
            }
            let key = UserKey {
                id: new_id("AKIA")[..20].to_owned(),
                secret: new_secret(),
                active: true,
                created_ms: model::clock::now_ms(),
            };
            u.keys.push(key.clone());
            Ok((u.clone(), key))
        })
    }

    /// UpdateAccessKey: `Active` or `Inactive`.
    pub fn update_access_key(&self, account: &str, name: &str, id: &str, active: bool) -> Result<(), IamError> {
        self.change_user(account, name, |u| {
            let key = u.keys.iter_mut().find(|k| k.id == id).ok_or_else(|| no_key(id))?;
            key.active = active;
            Ok(())
        })
    }

    /// DeleteAccessKey.
    pub fn delete_access_key(&self, account: &str, name: &str, id: &str) -> Result<(), IamError> {
        self.change_user(account, name, |u| {
            let before = u.keys.len();
            u.keys.retain(|k| k.id != id);
            if u.keys.len() == before {
                return Err(no_key(id));
            }
            Ok(())
        })
    }

    /// Every active access key of every user, for the authenticator.
    pub fn active_keys(&self) -> Vec<KeyHolder> {
        let state = self.state.read();
        state
            .users
            .values()
            .flat_map(|u| {
                u.keys.iter().filter(|k| k.active).map(|k| KeyHolder {
                    id: k.id.clone(),
                    secret: k.secret.clone(),
                    account: u.account.clone(),
                    arn: u.arn(),
                })
            })
            .collect()
    }

    /// The user an access key belongs to, active or not.
    pub fn key_holder(&self, id: &str) -> Option<(KeyHolder, bool)> {
        let state = self.state.read();
        state.users.values().find_map(|u| {
            let k = u.keys.iter().find(|k| k.id == id)?;
            let holder =
                KeyHolder { id: k.id.clone(), secret: k.secret.clone(), account: u.account.clone(), arn: u.arn() };
            Some((holder, k.active))
        })
    }

    /// AttachUserPolicy: a policy of the account, or an AWS managed one.
    pub fn attach_user_policy(&self, account: &str, name: &str, policy_arn: &str) -> Result<(), IamError> {
        self.check_attachable(account, policy_arn)?;
        self.change_user(account, name, |u| attach(&mut u.attached, policy_arn))
    }

    /// DetachUserPolicy.
    pub fn detach_user_policy(&self, account: &str, name: &str, policy_arn: &str) -> Result<(), IamError> {
        self.change_user(account, name, |u| detach(&mut u.attached, policy_arn))
    }

    /// PutUserPolicy: creates or replaces an inline policy.
    pub fn put_user_policy(&self, account: &str, name: &str, policy: &str, document: &str) -> Result<(), IamError> {
        check_name(policy, "policyName", 128)?;
        check_document(document)?;
        self.change_user(account, name, |u| {
            u.inline.insert(policy.to_owned(), document.to_owned());
            Ok(())
        })
    }

    /// DeleteUserPolicy.
    pub fn delete_user_policy(&self, account: &str, name: &str, policy: &str) -> Result<(), IamError> {
        self.change_user(account, name, |u| delete_inline(&mut u.inline, "user", policy))
    }

    /// Refuses a customer managed policy the account does not have.
    fn check_attachable(&self, account: &str, policy_arn: &str) -> Result<(), IamError> {
        let aws_managed = policy_arn.starts_with("arn:aws:iam::aws:policy/");
        let state = self.state.read();
        if !aws_managed && !state.policies.contains_key(&(account.to_owned(), policy_arn.to_owned())) {
            return Err(IamError::NoSuchEntity(format!("Policy {policy_arn} does not exist or is not attachable.")));
        }
        Ok(())
    }

    /// CreateRole.
    pub fn create_role(&self, account: &str, input: RoleInput) -> Result<Role, IamError> {
        check_name(&input.name, "roleName", 64)?;
        let path = input.path.unwrap_or_else(|| "/".into());
        check_path(&path)?;
        check_document(&input.assume_role_policy)?;
        let max = input.max_session_duration.unwrap_or(3600);
        if !(3600..=43_200).contains(&max) {
            return Err(IamError::Validation(format!(
                "1 validation error detected: Value '{max}' at 'maxSessionDuration' failed to satisfy constraint: \
                 Member must have value less than or equal to 43200"
            )));
        }
        let mut state = self.state.write();
        let key = (account.to_owned(), input.name.clone());
        if state.roles.contains_key(&key) {
            return Err(IamError::EntityAlreadyExists(format!("Role with name {} already exists.", input.name)));
        }
        let role = Role {
            account: account.to_owned(),
            name: input.name,
            id: new_id("AROA"),
            path,
            assume_role_policy: input.assume_role_policy,
            description: input.description,
            max_session_duration: max,
            created_ms: model::clock::now_ms(),
            tags: input.tags,
            attached: Vec::new(),
            inline: BTreeMap::new(),
        };
        self.save_role(&role)?;
        state.roles.insert(key, role.clone());
        Ok(role)
    }

    /// GetRole.
    pub fn role(&self, account: &str, name: &str) -> Result<Role, IamError> {
        let state = self.state.read();
        state.roles.get(&(account.to_owned(), name.to_owned())).cloned().ok_or_else(|| no_role(name))
    }

    /// ListRoles: the account's roles under `path_prefix`, by name.
    pub fn roles(&self, account: &str, path_prefix: Option<&str>) -> Vec<Role> {
        let state = self.state.read();
        state
            .roles
            .values()
            .filter(|r| r.account == account && path_prefix.is_none_or(|p| r.path.starts_with(p)))
            .cloned()
            .collect()
    }

    /// DeleteRole: refused while policies are attached or inline.
    pub fn delete_role(&self, account: &str, name: &str) -> Result<(), IamError> {
        let mut state = self.state.write();
        let key = (account.to_owned(), name.to_owned());
        let role = state.roles.get(&key).ok_or_else(|| no_role(name))?;
        if !role.attached.is_empty() {
            return Err(IamError::DeleteConflict("Cannot delete entity, must detach all policies first.".into()));
        }
        if !role.inline.is_empty() {
            return Err(IamError::DeleteConflict("Cannot delete entity, must delete policies first.".into()));
        }
        self.store.delete_document(ROLE_KIND, &format!("{account}/{name}"))?;
        state.roles.remove(&key);
        Ok(())
    }

    /// UpdateAssumeRolePolicy.
    pub fn update_assume_role_policy(&self, account: &str, name: &str, document: &str) -> Result<(), IamError> {
        check_document(document)?;
        self.change_role(account, name, |r| {
            r.assume_role_policy = document.to_owned();
            Ok(())
        })
    }

    /// AttachRolePolicy: a policy of the account, or an AWS managed one.
    pub fn attach_role_policy(&self, account: &str, name: &str, policy_arn: &str) -> Result<(), IamError> {
        self.check_attachable(account, policy_arn)?;
        self.change_role(account, name, |r| attach(&mut r.attached, policy_arn))
    }

    /// DetachRolePolicy.
    pub fn detach_role_policy(&self, account: &str, name: &str, policy_arn: &str) -> Result<(), IamError> {
        self.change_role(account, name, |r| detach(&mut r.attached, policy_arn))
    }

    /// PutRolePolicy: creates or replaces an inline policy.
    pub fn put_role_policy(&self, account: &str, name: &str, policy: &str, document: &str) -> Result<(), IamError> {
        check_name(policy, "policyName", 128)?;
        check_document(document)?;
        self.change_role(account, name, |r| {
            r.inline.insert(policy.to_owned(), document.to_owned());
            Ok(())
        })
    }

    /// DeleteRolePolicy.
    pub fn delete_role_policy(&self, account: &str, name: &str, policy: &str) -> Result<(), IamError> {
        self.change_role(account, name, |r| delete_inline(&mut r.inline, "role", policy))
    }

    /// CreatePolicy.
    pub fn create_policy(
        &self,
        account: &str,
        name: &str,
        document: &str,
        path: Option<&str>,
        description: Option<String>,
    ) -> Result<Policy, IamError> {
        check_name(name, "policyName", 128)?;
        let path = path.unwrap_or("/").to_owned();
        check_path(&path)?;
        check_document(document)?;
        let now = model::clock::now_ms();
        let policy = Policy {
            account: account.to_owned(),
            name: name.to_owned(),
            id: new_id("ANPA"),
            path,
            description,
            document: document.to_owned(),
            created_ms: now,
            versions: vec![PolicyVersion { number: 1, document: document.to_owned(), created_ms: now }],
            default_version: 1,
            last_version: 1,
        };
        let mut state = self.state.write();
        let key = (account.to_owned(), policy.arn());
        if state.policies.contains_key(&key) {
            return Err(IamError::EntityAlreadyExists(format!(
                "A policy called {name} already exists. Duplicate names are not allowed."
            )));
        }
        let doc = serde_json::to_string(&policy).map_err(|e| IamError::Service(e.to_string()))?;
        self.store.put_document(&Document { kind: POLICY_KIND.into(), id: policy.arn(), doc })?;
        state.policies.insert(key, policy.clone());
        Ok(policy)
    }

    /// GetPolicy (and GetPolicyVersion's document), with how many roles and users attach it.
    pub fn policy(&self, account: &str, arn: &str) -> Result<(Policy, usize), IamError> {
        let state = self.state.read();
        let p = state
            .policies
            .get(&(account.to_owned(), arn.to_owned()))
            .cloned()
            .ok_or_else(|| IamError::NoSuchEntity(format!("Policy {arn} was not found.")))?;
        let attached =
            state.roles.values().filter(|r| r.account == account && r.attached.iter().any(|a| a == arn)).count()
                + state.users.values().filter(|u| u.account == account && u.attached.iter().any(|a| a == arn)).count();
        Ok((p, attached))
    }

    /// Changes a managed policy with `f`, then stores it.
    fn change_policy<T>(
        &self,
        account: &str,
        arn: &str,
        f: impl FnOnce(&mut Policy) -> Result<T, IamError>,
    ) -> Result<T, IamError> {
        let mut state = self.state.write();
        let key = (account.to_owned(), arn.to_owned());
        let mut p = state
            .policies
            .get(&key)
            .cloned()
            .ok_or_else(|| IamError::NoSuchEntity(format!("Policy {arn} was not found.")))?;
        let out = f(&mut p)?;
        let doc = serde_json::to_string(&p).map_err(|e| IamError::Service(e.to_string()))?;
        self.store.put_document(&Document { kind: POLICY_KIND.into(), id: p.arn(), doc })?;
        state.policies.insert(key, p);
        Ok(out)
    }

    /// CreatePolicyVersion: at most five versions; the new one the default if `set_default`.
    pub fn create_policy_version(
        &self,
        account: &str,
        arn: &str,
        document: &str,
        set_default: bool,
    ) -> Result<PolicyVersion, IamError> {
        check_document(document)?;
        self.change_policy(account, arn, |p| {
            if p.versions.len() >= MAX_POLICY_VERSIONS {
                return Err(IamError::LimitExceeded(
                    "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.".into(),
                ));
            }
            p.last_version += 1;
            let v = PolicyVersion { number: p.last_version, document: document.to_owned(), created_ms: model::clock::now_ms() };
            p.versions.push(v.clone());
            if set_default {
                p.default_version = v.number;
                p.document = v.document.clone();
            }
            Ok(v)
        })
    }

    /// SetDefaultPolicyVersion.
    pub fn set_default_policy_version(&self, account: &str, arn: &str, version: &str) -> Result<(), IamError> {
        self.change_policy(account, arn, |p| {
            let v = version_of(p, version)?.clone();
            p.default_version = v.number;
            p.document = v.document;
            Ok(())
        })
    }

    /// DeletePolicyVersion: never the default one.
    pub fn delete_policy_version(&self, account: &str, arn: &str, version: &str) -> Result<(), IamError> {
        self.change_policy(account, arn, |p| {
            let number = version_of(p, version)?.number;
            if number == p.default_version {
                return Err(IamError::DeleteConflict("Cannot delete the default version of a policy.".into()));
            }
            p.versions.retain(|v| v.number != number);
            Ok(())
        })
    }

    /// DeletePolicy: refused while attached.
    pub fn delete_policy(&self, account: &str, arn: &str) -> Result<(), IamError> {
        let (_, attached) = self.policy(account, arn)?;
        if attached > 0 {
            return Err(IamError::DeleteConflict("Cannot delete a policy attached to entities.".into()));
        }
        self.store.delete_document(POLICY_KIND, arn)?;
        self.state.write().policies.remove(&(account.to_owned(), arn.to_owned()));
        Ok(())
    }
}
