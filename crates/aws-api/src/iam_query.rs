//! IAM's query protocol (minimal: roles and policies; stored and returned, not enforced):
//! form-encoded `Action=…` requests and XML answers, with policy documents URL-encoded as
//! AWS sends them.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use iam::{IamError, IamService, Policy, Role, RoleInput};

use crate::sns_query::element;

const NAMESPACE: &str = "https://iam.amazonaws.com/doc/2010-05-08/";

/// The IAM actions, to tell an IAM query request from another service's.
pub(crate) const ACTIONS: &[&str] = &[
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

fn xml(status: StatusCode, body: String) -> Response {
    (status, [("content-type", "text/xml")], body).into_response()
}

fn success(action: &str, result: &str, request_id: &str) -> Response {
    let result = if result.is_empty() { String::new() } else { format!("<{action}Result>{result}</{action}Result>") };
    xml(
        StatusCode::OK,
        format!(
            "<{action}Response xmlns=\"{NAMESPACE}\">{result}<ResponseMetadata><RequestId>{request_id}</RequestId>\
             </ResponseMetadata></{action}Response>"
        ),
    )
}

fn error_response(e: &IamError, request_id: &str) -> Response {
    let (status, code) = match e {
        IamError::NoSuchEntity(_) => (StatusCode::NOT_FOUND, "NoSuchEntity"),
        IamError::EntityAlreadyExists(_) => (StatusCode::CONFLICT, "EntityAlreadyExists"),
        IamError::DeleteConflict(_) => (StatusCode::CONFLICT, "DeleteConflict"),
        IamError::MalformedPolicyDocument(_) => (StatusCode::BAD_REQUEST, "MalformedPolicyDocument"),
        IamError::Validation(_) => (StatusCode::BAD_REQUEST, "ValidationError"),
        IamError::Service(_) => (StatusCode::INTERNAL_SERVER_ERROR, "ServiceFailure"),
    };
    let fault = if status.is_server_error() { "Receiver" } else { "Sender" };
    xml(
        status,
        format!(
            "<ErrorResponse xmlns=\"{NAMESPACE}\"><Error><Type>{fault}</Type>{}{}</Error><RequestId>{request_id}</RequestId></ErrorResponse>",
            element("Code", code),
            element("Message", &e.to_string())
        ),
    )
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

fn date(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ms / 1000)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

fn role_xml(r: &Role) -> String {
    let mut out = format!(
        "{}{}{}{}{}{}",
        element("Path", &r.path),
        element("RoleName", &r.name),
        element("RoleId", &r.id),
        element("Arn", &r.arn()),
        element("CreateDate", &date(r.created_ms)),
        element("AssumeRolePolicyDocument", &encoded(&r.assume_role_policy)),
    );
    if let Some(d) = &r.description {
        out.push_str(&element("Description", d));
    }
    out.push_str(&element("MaxSessionDuration", &r.max_session_duration.to_string()));
    if !r.tags.is_empty() {
        let tags: String = r
            .tags
            .iter()
            .map(|(k, v)| format!("<member>{}{}</member>", element("Key", k), element("Value", v)))
            .collect();
        out.push_str(&format!("<Tags>{tags}</Tags>"));
    }
    out
}

fn policy_xml(p: &Policy, attachments: usize) -> String {
    let mut out = format!(
        "{}{}{}{}{}{}{}{}",
        element("PolicyName", &p.name),
        element("PolicyId", &p.id),
        element("Arn", &p.arn()),
        element("Path", &p.path),
        element("DefaultVersionId", "v1"),
        element("AttachmentCount", &attachments.to_string()),
        element("PermissionsBoundaryUsageCount", "0"),
        element("IsAttachable", "true"),
    );
    if let Some(d) = &p.description {
        out.push_str(&element("Description", d));
    }
    out.push_str(&element("CreateDate", &date(p.created_ms)));
    out.push_str(&element("UpdateDate", &date(p.created_ms)));
    out
}

fn members(values: impl Iterator<Item = String>) -> String {
    values.map(|v| format!("<member>{v}</member>")).collect()
}

/// One IAM action for `account`.
pub(crate) fn handle(iam: &IamService, account: &str, params: &[(String, String)], request_id: &str) -> Response {
    let get = |k: &str| params.iter().find(|(name, _)| name == k).map(|(_, v)| v.as_str());
    let need = |k: &str| {
        get(k).ok_or_else(|| {
            IamError::Validation(format!(
                "1 validation error detected: Value null at '{}{}' failed to satisfy constraint: Member must not be null",
                k[..1].to_ascii_lowercase(),
                &k[1..]
            ))
        })
    };
    let action = get("Action").unwrap_or_default();
    let result: Result<String, IamError> = (|| match action {
        "CreateRole" => {
            let tags = (1..)
                .map_while(|n| {
                    let key = get(&format!("Tags.member.{n}.Key"))?;
                    Some((key.to_owned(), get(&format!("Tags.member.{n}.Value")).unwrap_or_default().to_owned()))
                })
                .collect();
            let max = get("MaxSessionDuration").map(|v| v.parse::<i64>().unwrap_or(0));
            let input = RoleInput {
                name: need("RoleName")?.to_owned(),
                assume_role_policy: need("AssumeRolePolicyDocument")?.to_owned(),
                path: get("Path").map(str::to_owned),
                description: get("Description").map(str::to_owned),
                max_session_duration: max,
                tags,
            };
            Ok(format!("<Role>{}</Role>", role_xml(&iam.create_role(account, input)?)))
        }
        "GetRole" => Ok(format!("<Role>{}</Role>", role_xml(&iam.role(account, need("RoleName")?)?))),
        "ListRoles" => {
            let roles = iam.roles(account, get("PathPrefix"));
            Ok(format!("<Roles>{}</Roles><IsTruncated>false</IsTruncated>", members(roles.iter().map(role_xml))))
        }
        "DeleteRole" => iam.delete_role(account, need("RoleName")?).map(|()| String::new()),
        "UpdateAssumeRolePolicy" => {
            iam.update_assume_role_policy(account, need("RoleName")?, need("PolicyDocument")?).map(|()| String::new())
        }
        "AttachRolePolicy" => {
            iam.attach_role_policy(account, need("RoleName")?, need("PolicyArn")?).map(|()| String::new())
        }
        "DetachRolePolicy" => {
            iam.detach_role_policy(account, need("RoleName")?, need("PolicyArn")?).map(|()| String::new())
        }
        "ListAttachedRolePolicies" => {
            let role = iam.role(account, need("RoleName")?)?;
            let attached = role.attached.iter().map(|arn| {
                let name = arn.rsplit('/').next().unwrap_or(arn);
                format!("{}{}", element("PolicyName", name), element("PolicyArn", arn))
            });
            Ok(format!("<AttachedPolicies>{}</AttachedPolicies><IsTruncated>false</IsTruncated>", members(attached)))
        }
        "PutRolePolicy" => iam
            .put_role_policy(account, need("RoleName")?, need("PolicyName")?, need("PolicyDocument")?)
            .map(|()| String::new()),
        "GetRolePolicy" => {
            let (name, policy) = (need("RoleName")?, need("PolicyName")?);
            let role = iam.role(account, name)?;
            let doc = role.inline.get(policy).ok_or_else(|| {
                IamError::NoSuchEntity(format!("The role policy with name {policy} cannot be found."))
            })?;
            Ok(format!(
                "{}{}{}",
                element("RoleName", name),
                element("PolicyName", policy),
                element("PolicyDocument", &encoded(doc))
            ))
        }
        "DeleteRolePolicy" => {
            iam.delete_role_policy(account, need("RoleName")?, need("PolicyName")?).map(|()| String::new())
        }
        "ListRolePolicies" => {
            let role = iam.role(account, need("RoleName")?)?;
            let names = role.inline.keys().map(|n| crate::sns_query::escape(n));
            Ok(format!("<PolicyNames>{}</PolicyNames><IsTruncated>false</IsTruncated>", members(names)))
        }
        // Instance profiles are not modelled: a role has none (Terraform asks before
        // deleting one).
        "ListInstanceProfilesForRole" => {
            iam.role(account, need("RoleName")?)?;
            Ok("<InstanceProfiles/><IsTruncated>false</IsTruncated>".into())
        }
        "CreatePolicy" => {
            let description = get("Description").map(str::to_owned);
            let p =
                iam.create_policy(account, need("PolicyName")?, need("PolicyDocument")?, get("Path"), description)?;
            Ok(format!("<Policy>{}</Policy>", policy_xml(&p, 0)))
        }
        "GetPolicy" => {
            let (p, attached) = iam.policy(account, need("PolicyArn")?)?;
            Ok(format!("<Policy>{}</Policy>", policy_xml(&p, attached)))
        }
        "GetPolicyVersion" => {
            let (p, _) = iam.policy(account, need("PolicyArn")?)?;
            let version = need("VersionId")?;
            if version != "v1" {
                return Err(IamError::NoSuchEntity(format!(
                    "Policy {} version {version} does not exist or is not attachable.",
                    p.arn()
                )));
            }
            Ok(format!(
                "<PolicyVersion>{}{}{}{}</PolicyVersion>",
                element("Document", &encoded(&p.document)),
                element("VersionId", "v1"),
                element("IsDefaultVersion", "true"),
                element("CreateDate", &date(p.created_ms))
            ))
        }
        "DeletePolicy" => iam.delete_policy(account, need("PolicyArn")?).map(|()| String::new()),
        other => Err(IamError::Validation(format!("Could not find operation {other} for version 2010-05-08"))),
    })();
    match result {
        Ok(body) => success(action, &body, request_id),
        Err(e) => error_response(&e, request_id),
    }
}
