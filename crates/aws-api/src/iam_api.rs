//! IAM (query protocol; minimal: roles, users and policies, stored and returned, not
//! enforced). A user's access keys are handed to the authenticator as they are made,
//! made inactive or deleted, so that requests they sign act as the user. The protocol
//! layer reads and checks the input and writes the answer; policy documents travel
//! URL-encoded, as AWS sends them.

use iam::{IamError, IamService, Policy, Role, RoleInput, User};

use crate::auth::Authenticator;
use protocol::ServiceError;
use serde_json::{json, Value};

/// The operations Lamina implements; the model's others answer 501.
pub(crate) const OPERATIONS: &[&str] = &[
    "CreateRole",
    "GetRole",
    "ListRoles",
    "DeleteRole",
    "UpdateAssumeRolePolicy",
    "AttachRolePolicy",
    "DetachRolePolicy",
    "ListAttachedRolePolicies",
    "PutRolePolicy",
    "GetRolePolicy",
    "DeleteRolePolicy",
    "ListRolePolicies",
    "ListInstanceProfilesForRole",
    "CreatePolicy",
    "GetPolicy",
    "GetPolicyVersion",
    "CreatePolicyVersion",
    "ListPolicyVersions",
    "SetDefaultPolicyVersion",
    "DeletePolicyVersion",
    "DeletePolicy",
    "CreateUser",
    "GetUser",
    "ListUsers",
    "DeleteUser",
    "CreateAccessKey",
    "ListAccessKeys",
    "UpdateAccessKey",
    "DeleteAccessKey",
    "AttachUserPolicy",
    "DetachUserPolicy",
    "ListAttachedUserPolicies",
    "PutUserPolicy",
    "GetUserPolicy",
    "DeleteUserPolicy",
    "ListUserPolicies",
];

/// Who calls IAM, and where access keys are known.
pub(crate) struct Call<'a> {
    /// The account the request acts in.
    pub account: &'a str,
    /// The caller's ARN (root, a user, or an assumed role's session).
    pub principal: &'a str,
    /// Where a user's access keys are accepted.
    pub keys: &'a Authenticator,
}

impl Call<'_> {
    /// `UserName`, or the calling user's own when it is left out.
    fn user_name<'v>(&'v self, given: Option<&'v str>) -> Result<&'v str, IamError> {
        if let Some(name) = given {
            return Ok(name);
        }
        match self.principal.split_once(":user/") {
            Some((_, path_and_name)) => Ok(path_and_name.rsplit('/').next().unwrap_or(path_and_name)),
            None => Err(IamError::Validation("Must specify userName when calling with non-User credentials".into())),
        }
    }
}

/// An IAM error as the protocol layer writes it (status and fault from IAM's model).
fn service_error(e: &IamError) -> ServiceError {
    let code = match e {
        IamError::NoSuchEntity(_) => "NoSuchEntity",
        IamError::EntityAlreadyExists(_) => "EntityAlreadyExists",
        IamError::DeleteConflict(_) => "DeleteConflict",
        IamError::LimitExceeded(_) => "LimitExceeded",
        IamError::MalformedPolicyDocument(_) => "MalformedPolicyDocument",
        IamError::Validation(_) => "ValidationError",
        IamError::Service(_) => "ServiceFailure",
    };
    ServiceError::new(code, e.to_string())
}

/// A policy document as IAM's XML carries it: percent-encoded (RFC 3986).
fn encoded(doc: &str) -> String {
    let mut out = String::with_capacity(doc.len() * 2);
    for b in doc.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A time in the tree: seconds.
fn date(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

fn role_json(r: &Role) -> Value {
    let tags: Vec<Value> = r.tags.iter().map(|(k, v)| json!({ "Key": k, "Value": v })).collect();
    json!({
        "Path": r.path, "RoleName": r.name, "RoleId": r.id, "Arn": r.arn(), "CreateDate": date(r.created_ms),
        "AssumeRolePolicyDocument": encoded(&r.assume_role_policy), "Description": r.description,
        "MaxSessionDuration": r.max_session_duration, "Tags": if tags.is_empty() { Value::Null } else { Value::Array(tags) },
    })
}

fn user_json(u: &User) -> Value {
    let tags: Vec<Value> = u.tags.iter().map(|(k, v)| json!({ "Key": k, "Value": v })).collect();
    json!({
        "Path": u.path, "UserName": u.name, "UserId": u.id, "Arn": u.arn(), "CreateDate": date(u.created_ms),
        "Tags": if tags.is_empty() { Value::Null } else { Value::Array(tags) },
    })
}

fn status(active: bool) -> &'static str {
    if active {
        "Active"
    } else {
        "Inactive"
    }
}

fn tags_of(input: &Value) -> Vec<(String, String)> {
    input
        .get("Tags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|t| {
            let text = |k: &str| t.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
            (text("Key"), text("Value"))
        })
        .collect()
}

fn attached_json(attached: &[String]) -> Value {
    let attached: Vec<Value> = attached
        .iter()
        .map(|arn| json!({ "PolicyName": arn.rsplit('/').next().unwrap_or(arn), "PolicyArn": arn }))
        .collect();
    json!({ "AttachedPolicies": attached, "IsTruncated": false })
}

/// GetRolePolicy / GetUserPolicy: an inline policy of the role or user `(member, name)`.
fn inline_json(
    (member, name): (&str, &str),
    kind: &str,
    inline: &std::collections::BTreeMap<String, String>,
    policy: &str,
) -> Result<Value, IamError> {
    let doc = inline.get(policy).ok_or_else(|| iam::no_inline_policy(kind, policy))?;
    let mut out = serde_json::Map::new();
    out.insert(member.to_owned(), json!(name));
    out.insert("PolicyName".into(), json!(policy));
    out.insert("PolicyDocument".into(), json!(encoded(doc)));
    Ok(Value::Object(out))
}

/// ListRolePolicies / ListUserPolicies.
fn names_json(inline: &std::collections::BTreeMap<String, String>) -> Value {
    json!({ "PolicyNames": inline.keys().collect::<Vec<_>>(), "IsTruncated": false })
}

fn policy_json(p: &Policy, attachments: usize) -> Value {
    json!({
        "PolicyName": p.name, "PolicyId": p.id, "Arn": p.arn(), "Path": p.path,
        "DefaultVersionId": format!("v{}", p.default_version),
        "AttachmentCount": attachments, "PermissionsBoundaryUsageCount": 0, "IsAttachable": true,
        "Description": p.description, "CreateDate": date(p.created_ms),
        "UpdateDate": date(p.versions.iter().map(|v| v.created_ms).max().unwrap_or(p.created_ms)),
    })
}

/// A version of a managed policy; its document only where one version is asked for (as
/// GetPolicyVersion answers; ListPolicyVersions and CreatePolicyVersion leave it out).
fn version_json(p: &Policy, v: &iam::PolicyVersion, with_document: bool) -> Value {
    let mut out = json!({
        "VersionId": format!("v{}", v.number),
        "IsDefaultVersion": v.number == p.default_version,
        "CreateDate": date(v.created_ms),
    });
    if with_document {
        out["Document"] = json!(encoded(&v.document));
    }
    out
}

/// Runs one IAM operation for `account` on its input tree (the model has checked that
/// required members are there).
pub(crate) fn run(iam: &IamService, call: &Call, operation: &str, input: &Value) -> Result<Value, ServiceError> {
    match users(iam, call, operation, input) {
        Some(result) => result,
        None => run_iam(iam, call.account, operation, input),
    }
    .map_err(|e| service_error(&e))
}

/// The operations on users and their keys; `None` for the others.
fn users(iam: &IamService, call: &Call, operation: &str, input: &Value) -> Option<Result<Value, IamError>> {
    let get = |k: &str| input.get(k).and_then(Value::as_str);
    let need = |k: &str| get(k).unwrap_or_default();
    let account = call.account;
    let run = || -> Result<Option<Value>, IamError> {
        Ok(Some(match operation {
            "CreateUser" => {
                let user = iam.create_user(account, need("UserName"), get("Path"), tags_of(input))?;
                json!({ "User": user_json(&user) })
            }
            "GetUser" => json!({ "User": user_json(&iam.user(account, call.user_name(get("UserName"))?)?) }),
            "ListUsers" => {
                let users: Vec<Value> = iam.users(account, get("PathPrefix")).iter().map(user_json).collect();
                json!({ "Users": users, "IsTruncated": false })
            }
            "DeleteUser" => {
                iam.delete_user(account, need("UserName"))?;
                json!({})
            }
            "CreateAccessKey" => {
                let (user, key) = iam.create_access_key(account, call.user_name(get("UserName"))?)?;
                call.keys.accept_user_key(&iam::KeyHolder {
                    id: key.id.clone(),
                    secret: key.secret.clone(),
                    account: user.account.clone(),
                    arn: user.arn(),
                });
                json!({ "AccessKey": {
                    "UserName": user.name, "AccessKeyId": key.id, "Status": status(key.active),
                    "SecretAccessKey": key.secret, "CreateDate": date(key.created_ms),
                } })
            }
            "ListAccessKeys" => {
                let user = iam.user(account, call.user_name(get("UserName"))?)?;
                let keys: Vec<Value> = user
                    .keys
                    .iter()
                    .map(|k| {
                        json!({
                            "UserName": user.name, "AccessKeyId": k.id, "Status": status(k.active),
                            "CreateDate": date(k.created_ms),
                        })
                    })
                    .collect();
                json!({ "AccessKeyMetadata": keys, "IsTruncated": false })
            }
            "UpdateAccessKey" => {
                let (name, id) = (call.user_name(get("UserName"))?, need("AccessKeyId"));
                let active = need("Status") == "Active";
                iam.update_access_key(account, name, id, active)?;
                match iam.key_holder(id) {
                    Some((holder, true)) => call.keys.accept_user_key(&holder),
                    _ => call.keys.forget_user_key(id),
                }
                json!({})
            }
            "DeleteAccessKey" => {
                let id = need("AccessKeyId");
                iam.delete_access_key(account, call.user_name(get("UserName"))?, id)?;
                call.keys.forget_user_key(id);
                json!({})
            }
            "AttachUserPolicy" => {
                iam.attach_user_policy(account, need("UserName"), need("PolicyArn"))?;
                json!({})
            }
            "DetachUserPolicy" => {
                iam.detach_user_policy(account, need("UserName"), need("PolicyArn"))?;
                json!({})
            }
            "ListAttachedUserPolicies" => attached_json(&iam.user(account, need("UserName"))?.attached),
            "PutUserPolicy" => {
                iam.put_user_policy(account, need("UserName"), need("PolicyName"), need("PolicyDocument"))?;
                json!({})
            }
            "GetUserPolicy" => {
                let (name, policy) = (need("UserName"), need("PolicyName"));
                inline_json(("UserName", name), "user", &iam.user(account, name)?.inline, policy)?
            }
            "DeleteUserPolicy" => {
                iam.delete_user_policy(account, need("UserName"), need("PolicyName"))?;
                json!({})
            }
            "ListUserPolicies" => names_json(&iam.user(account, need("UserName"))?.inline),
            _ => return Ok(None),
        }))
    };
    run().transpose()
}

fn run_iam(iam: &IamService, account: &str, operation: &str, input: &Value) -> Result<Value, IamError> {
    let get = |k: &str| input.get(k).and_then(Value::as_str);
    let need = |k: &str| get(k).unwrap_or_default();
    Ok(match operation {
        "CreateRole" => {
            let rin = RoleInput {
                name: need("RoleName").to_owned(),
                assume_role_policy: need("AssumeRolePolicyDocument").to_owned(),
                path: get("Path").map(str::to_owned),
                description: get("Description").map(str::to_owned),
                max_session_duration: input.get("MaxSessionDuration").and_then(Value::as_i64),
                tags: tags_of(input),
            };
            json!({ "Role": role_json(&iam.create_role(account, rin)?) })
        }
        "GetRole" => {
            // GetRole alone shows when the role was last used (never, here: `{}`).
            let mut role = role_json(&iam.role(account, need("RoleName"))?);
            role["RoleLastUsed"] = json!({});
            json!({ "Role": role })
        }
        "ListRoles" => {
            let roles: Vec<Value> = iam.roles(account, get("PathPrefix")).iter().map(role_json).collect();
            json!({ "Roles": roles, "IsTruncated": false })
        }
        "DeleteRole" => {
            iam.delete_role(account, need("RoleName"))?;
            json!({})
        }
        "UpdateAssumeRolePolicy" => {
            iam.update_assume_role_policy(account, need("RoleName"), need("PolicyDocument"))?;
            json!({})
        }
        "AttachRolePolicy" => {
            iam.attach_role_policy(account, need("RoleName"), need("PolicyArn"))?;
            json!({})
        }
        "DetachRolePolicy" => {
            iam.detach_role_policy(account, need("RoleName"), need("PolicyArn"))?;
            json!({})
        }
        "ListAttachedRolePolicies" => attached_json(&iam.role(account, need("RoleName"))?.attached),
        "PutRolePolicy" => {
            iam.put_role_policy(account, need("RoleName"), need("PolicyName"), need("PolicyDocument"))?;
            json!({})
        }
        "GetRolePolicy" => {
            let (name, policy) = (need("RoleName"), need("PolicyName"));
            inline_json(("RoleName", name), "role", &iam.role(account, name)?.inline, policy)?
        }
        "DeleteRolePolicy" => {
            iam.delete_role_policy(account, need("RoleName"), need("PolicyName"))?;
            json!({})
        }
        "ListRolePolicies" => names_json(&iam.role(account, need("RoleName"))?.inline),
        // Instance profiles are not modelled: a role has none (Terraform asks before
        // deleting one).
        "ListInstanceProfilesForRole" => {
            iam.role(account, need("RoleName"))?;
            json!({ "InstanceProfiles": [], "IsTruncated": false })
        }
        "CreatePolicy" => {
            let description = get("Description").map(str::to_owned);
            let p = iam.create_policy(account, need("PolicyName"), need("PolicyDocument"), get("Path"), description)?;
            json!({ "Policy": policy_json(&p, 0) })
        }
        "GetPolicy" => {
            let (p, attached) = iam.policy(account, need("PolicyArn"))?;
            json!({ "Policy": policy_json(&p, attached) })
        }
        "GetPolicyVersion" => {
            let (p, _) = iam.policy(account, need("PolicyArn"))?;
            let v = iam::version_of(&p, need("VersionId"))?;
            json!({ "PolicyVersion": version_json(&p, v, true) })
        }
        "CreatePolicyVersion" => {
            let set_default = input.get("SetAsDefault").and_then(Value::as_bool).unwrap_or(false);
            let arn = need("PolicyArn");
            let v = iam.create_policy_version(account, arn, need("PolicyDocument"), set_default)?;
            let (p, _) = iam.policy(account, arn)?;
            json!({ "PolicyVersion": version_json(&p, &v, false) })
        }
        "ListPolicyVersions" => {
            let (p, _) = iam.policy(account, need("PolicyArn"))?;
            let list: Vec<Value> = p.versions.iter().rev().map(|v| version_json(&p, v, false)).collect();
            json!({ "Versions": list, "IsTruncated": false })
        }
        "SetDefaultPolicyVersion" => {
            iam.set_default_policy_version(account, need("PolicyArn"), need("VersionId"))?;
            json!({})
        }
        "DeletePolicyVersion" => {
            iam.delete_policy_version(account, need("PolicyArn"), need("VersionId"))?;
            json!({})
        }
        "DeletePolicy" => {
            iam.delete_policy(account, need("PolicyArn"))?;
            json!({})
        }
        other => return Err(IamError::Validation(format!("Could not find operation {other} for version 2010-05-08"))),
    })
}
