//! IAM (query protocol; minimal: roles and policies, stored and returned, not enforced).
//! The protocol layer reads and checks the input and writes the answer; policy documents
//! travel URL-encoded, as AWS sends them.

use iam::{IamError, IamService, Policy, Role, RoleInput};
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
    "DeletePolicy",
];

/// An IAM error as the protocol layer writes it (status and fault from IAM's model).
fn service_error(e: &IamError) -> ServiceError {
    let code = match e {
        IamError::NoSuchEntity(_) => "NoSuchEntity",
        IamError::EntityAlreadyExists(_) => "EntityAlreadyExists",
        IamError::DeleteConflict(_) => "DeleteConflict",
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

fn policy_json(p: &Policy, attachments: usize) -> Value {
    json!({
        "PolicyName": p.name, "PolicyId": p.id, "Arn": p.arn(), "Path": p.path, "DefaultVersionId": "v1",
        "AttachmentCount": attachments, "PermissionsBoundaryUsageCount": 0, "IsAttachable": true,
        "Description": p.description, "CreateDate": date(p.created_ms), "UpdateDate": date(p.created_ms),
    })
}

/// Runs one IAM operation for `account` on its input tree (the model has checked that
/// required members are there).
pub(crate) fn run(iam: &IamService, account: &str, operation: &str, input: &Value) -> Result<Value, ServiceError> {
    run_iam(iam, account, operation, input).map_err(|e| service_error(&e))
}

fn run_iam(iam: &IamService, account: &str, operation: &str, input: &Value) -> Result<Value, IamError> {
    let get = |k: &str| input.get(k).and_then(Value::as_str);
    let need = |k: &str| get(k).unwrap_or_default();
    Ok(match operation {
        "CreateRole" => {
            let tags = input
                .get("Tags")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|t| {
                    let text = |k: &str| t.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
                    (text("Key"), text("Value"))
                })
                .collect();
            let rin = RoleInput {
                name: need("RoleName").to_owned(),
                assume_role_policy: need("AssumeRolePolicyDocument").to_owned(),
                path: get("Path").map(str::to_owned),
                description: get("Description").map(str::to_owned),
                max_session_duration: input.get("MaxSessionDuration").and_then(Value::as_i64),
                tags,
            };
            json!({ "Role": role_json(&iam.create_role(account, rin)?) })
        }
        "GetRole" => json!({ "Role": role_json(&iam.role(account, need("RoleName"))?) }),
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
        "ListAttachedRolePolicies" => {
            let role = iam.role(account, need("RoleName"))?;
            let attached: Vec<Value> = role
                .attached
                .iter()
                .map(|arn| json!({ "PolicyName": arn.rsplit('/').next().unwrap_or(arn), "PolicyArn": arn }))
                .collect();
            json!({ "AttachedPolicies": attached, "IsTruncated": false })
        }
        "PutRolePolicy" => {
            iam.put_role_policy(account, need("RoleName"), need("PolicyName"), need("PolicyDocument"))?;
            json!({})
        }
        "GetRolePolicy" => {
            let (name, policy) = (need("RoleName"), need("PolicyName"));
            let role = iam.role(account, name)?;
            let doc = role.inline.get(policy).ok_or_else(|| {
                IamError::NoSuchEntity(format!("The role policy with name {policy} cannot be found."))
            })?;
            json!({ "RoleName": name, "PolicyName": policy, "PolicyDocument": encoded(doc) })
        }
        "DeleteRolePolicy" => {
            iam.delete_role_policy(account, need("RoleName"), need("PolicyName"))?;
            json!({})
        }
        "ListRolePolicies" => {
            let role = iam.role(account, need("RoleName"))?;
            json!({ "PolicyNames": role.inline.keys().collect::<Vec<_>>(), "IsTruncated": false })
        }
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
            let version = need("VersionId");
            if version != "v1" {
                return Err(IamError::NoSuchEntity(format!(
                    "Policy {} version {version} does not exist or is not attachable.",
                    p.arn()
                )));
            }
            json!({ "PolicyVersion": {
                "Document": encoded(&p.document), "VersionId": "v1", "IsDefaultVersion": true,
                "CreateDate": date(p.created_ms),
            } })
        }
        "DeletePolicy" => {
            iam.delete_policy(account, need("PolicyArn"))?;
            json!({})
        }
        other => return Err(IamError::Validation(format!("Could not find operation {other} for version 2010-05-08"))),
    })
}
