//! IAM, minimal: roles (with their trust policy, attached managed policies and inline
//! policies) and customer managed policies, kept per account, stored whole as documents
//! in the store's `GatewayStore` (kinds `iam.role` and `iam.policy`) and so persisted.
//!
//! **Not enforced**: nothing here decides what a caller may do. Roles exist so that tools
//! that create an execution role first (Terraform, test fixtures, the aws CLI) find what
//! they expect. AWS managed policies (`arn:aws:iam::aws:policy/…`) can be attached
//! without being created.
//!
//! Resource policies are the exception: [`resource_policy`] (pure) checks and evaluates
//! them for the services that own such resources (SQS queues, SNS topics), which is how
//! one account reaches another's resources, as on AWS.
#![deny(missing_docs)]

pub mod resource_policy;

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize};
use store::{GatewayDocument, GatewayStore, StoreError};

const ROLE_KIND: &str = "iam.role";
const POLICY_KIND: &str = "iam.policy";

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
    /// The document of its one version, JSON as given.
    pub document: String,
    /// `CreateDate`, Unix milliseconds.
    pub created_ms: i64,
}

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
    policies: BTreeMap<(String, String), Policy>,
}

/// IAM's roles and policies.
#[derive(Clone)]
pub struct IamService {
    store: Arc<dyn GatewayStore>,
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

impl IamService {
    /// Loads every role and policy from the store.
    pub fn start(store: Arc<dyn GatewayStore>) -> Result<Self, IamError> {
        let mut state = State::default();
        for d in store.documents(ROLE_KIND)? {
            let r: Role = serde_json::from_str(&d.doc).map_err(|e| IamError::Service(e.to_string()))?;
            state.roles.insert((r.account.clone(), r.name.clone()), r);
        }
        for d in store.documents(POLICY_KIND)? {
            let p: Policy = serde_json::from_str(&d.doc).map_err(|e| IamError::Service(e.to_string()))?;
            state.policies.insert((p.account.clone(), p.arn()), p);
        }
        Ok(IamService { store, state: Arc::new(RwLock::new(state)) })
    }

    fn save_role(&self, r: &Role) -> Result<(), IamError> {
        let doc = serde_json::to_string(r).map_err(|e| IamError::Service(e.to_string()))?;
        let id = format!("{}/{}", r.account, r.name);
        self.store.put_document(&GatewayDocument { kind: ROLE_KIND.into(), id, doc })?;
        Ok(())
    }

    fn change_role<T>(
        &self,
        account: &str,
        name: &str,
        f: impl FnOnce(&mut Role) -> Result<T, IamError>,
    ) -> Result<T, IamError> {
        let mut state = self.state.write().unwrap_or_else(|p| p.into_inner());
        let role = state.roles.get_mut(&(account.to_owned(), name.to_owned())).ok_or_else(|| no_role(name))?;
        let mut changed = role.clone();
        let out = f(&mut changed)?;
        self.save_role(&changed)?;
        *role = changed;
        Ok(out)
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
        let mut state = self.state.write().unwrap_or_else(|p| p.into_inner());
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
        let state = self.state.read().unwrap_or_else(|p| p.into_inner());
        state.roles.get(&(account.to_owned(), name.to_owned())).cloned().ok_or_else(|| no_role(name))
    }

    /// ListRoles: the account's roles under `path_prefix`, by name.
    pub fn roles(&self, account: &str, path_prefix: Option<&str>) -> Vec<Role> {
        let state = self.state.read().unwrap_or_else(|p| p.into_inner());
        state
            .roles
            .values()
            .filter(|r| r.account == account && path_prefix.is_none_or(|p| r.path.starts_with(p)))
            .cloned()
            .collect()
    }

    /// DeleteRole: refused while policies are attached or inline.
    pub fn delete_role(&self, account: &str, name: &str) -> Result<(), IamError> {
        let mut state = self.state.write().unwrap_or_else(|p| p.into_inner());
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
        let aws_managed = policy_arn.starts_with("arn:aws:iam::aws:policy/");
        if !aws_managed {
            let state = self.state.read().unwrap_or_else(|p| p.into_inner());
            if !state.policies.contains_key(&(account.to_owned(), policy_arn.to_owned())) {
                return Err(IamError::NoSuchEntity(format!(
                    "Policy {policy_arn} does not exist or is not attachable."
                )));
            }
        }
        self.change_role(account, name, |r| {
            if !r.attached.iter().any(|a| a == policy_arn) {
                r.attached.push(policy_arn.to_owned());
            }
            Ok(())
        })
    }

    /// DetachRolePolicy.
    pub fn detach_role_policy(&self, account: &str, name: &str, policy_arn: &str) -> Result<(), IamError> {
        self.change_role(account, name, |r| {
            let before = r.attached.len();
            r.attached.retain(|a| a != policy_arn);
            if r.attached.len() == before {
                return Err(IamError::NoSuchEntity(format!("Policy {policy_arn} was not found.")));
            }
            Ok(())
        })
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
        self.change_role(account, name, |r| {
            r.inline
                .remove(policy)
                .map(drop)
                .ok_or_else(|| IamError::NoSuchEntity(format!("The role policy with name {policy} cannot be found.")))
        })
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
        };
        let mut state = self.state.write().unwrap_or_else(|p| p.into_inner());
        let key = (account.to_owned(), policy.arn());
        if state.policies.contains_key(&key) {
            return Err(IamError::EntityAlreadyExists(format!(
                "A policy called {name} already exists. Duplicate names are not allowed."
            )));
        }
        let doc = serde_json::to_string(&policy).map_err(|e| IamError::Service(e.to_string()))?;
        self.store.put_document(&GatewayDocument { kind: POLICY_KIND.into(), id: policy.arn(), doc })?;
        state.policies.insert(key, policy.clone());
        Ok(policy)
    }

    /// GetPolicy (and GetPolicyVersion's document), with how many roles attach it.
    pub fn policy(&self, account: &str, arn: &str) -> Result<(Policy, usize), IamError> {
        let state = self.state.read().unwrap_or_else(|p| p.into_inner());
        let p = state
            .policies
            .get(&(account.to_owned(), arn.to_owned()))
            .cloned()
            .ok_or_else(|| IamError::NoSuchEntity(format!("Policy {arn} was not found.")))?;
        let attached =
            state.roles.values().filter(|r| r.account == account && r.attached.iter().any(|a| a == arn)).count();
        Ok((p, attached))
    }

    /// DeletePolicy: refused while attached.
    pub fn delete_policy(&self, account: &str, arn: &str) -> Result<(), IamError> {
        let (_, attached) = self.policy(account, arn)?;
        if attached > 0 {
            return Err(IamError::DeleteConflict("Cannot delete a policy attached to entities.".into()));
        }
        self.store.delete_document(POLICY_KIND, arn)?;
        self.state.write().unwrap_or_else(|p| p.into_inner()).policies.remove(&(account.to_owned(), arn.to_owned()));
        Ok(())
    }
}
