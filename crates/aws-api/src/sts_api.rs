//! STS (query protocol): who the caller is (GetCallerIdentity) and temporary credentials
//! (AssumeRole), which authenticated mode accepts afterwards. Roles are not checked
//! against any trust policy (IAM is not enforced), so a caller may assume roles of its
//! own account only. The protocol layer reads and checks the input (role ARN length,
//! session name pattern, duration range, in AWS's words) and writes the answer.

use axum::http::request::Parts;
use protocol::ServiceError;
use serde_json::{json, Value};

use crate::auth::Authenticated;
use crate::CallerPolicy;

/// The operations Lamina implements; the model's others answer 501.
pub(crate) const OPERATIONS: &[&str] = &["GetCallerIdentity", "AssumeRole"];

/// Who a request is: (account, ARN, user id).
pub(crate) fn identity(callers: &CallerPolicy, parts: &Parts) -> (String, String, String) {
    if let Some(who) = parts.extensions.get::<Authenticated>() {
        return (who.account.clone(), who.principal.clone(), user_id_of(&who.account, &who.principal));
    }
    if let Some((account, principal)) = callers.open_principal(&parts.headers) {
        let user_id = user_id_of(&account, &principal);
        return (account, principal, user_id);
    }
    let caller = callers.caller(parts);
    let arn = format!("arn:aws:iam::{}:root", caller.account);
    (caller.account.clone(), arn, caller.account)
}

/// An identity's `UserId`: an assumed role's session is `AROA…:{session}`; a key of the
/// account, the account.
fn user_id_of(account: &str, principal: &str) -> String {
    match principal.split_once(":assumed-role/") {
        Some((_, role_session)) => {
            let (role, session) = role_session.split_once('/').unwrap_or((role_session, ""));
            format!("{}:{session}", role_id(account, role))
        }
        None => account.to_owned(),
    }
}

/// A role's `AROA…` id: the same for the same role, across restarts (FNV-1a of its name).
fn role_id(account: &str, role: &str) -> String {
    let fnv = |seed: u64| {
        format!("{account}/{role}").bytes().fold(seed, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
    };
    let hex = format!("{:016X}{:016X}", fnv(0xcbf2_9ce4_8422_2325), fnv(0x8422_2325_cbf2_9ce4));
    format!("AROA{}", &hex[..17])
}

/// Runs one STS operation on its input tree.
pub(crate) fn run(
    callers: &CallerPolicy,
    iam: &iam::IamService,
    parts: &Parts,
    operation: &str,
    input: &Value,
) -> Result<Value, ServiceError> {
    match operation {
        "GetCallerIdentity" => {
            let (account, arn, mut user_id) = identity(callers, parts);
            // An IAM user is known by its `AIDA…` id.
            if let Some((_, path_and_name)) = arn.split_once(":user/") {
                let name = path_and_name.rsplit('/').next().unwrap_or(path_and_name);
                if let Ok(user) = iam.user(&account, name) {
                    user_id = user.id;
                }
            }
            Ok(json!({ "Arn": arn, "UserId": user_id, "Account": account }))
        }
        "AssumeRole" => assume_role(callers, parts, input),
        other => {
            Err(ServiceError::new("InvalidAction", format!("Could not find operation {other} for version 2011-06-15")))
        }
    }
}

fn assume_role(callers: &CallerPolicy, parts: &Parts, input: &Value) -> Result<Value, ServiceError> {
    let text = |k: &str| input.get(k).and_then(Value::as_str).unwrap_or_default();
    let (role_arn, session) = (text("RoleArn"), text("RoleSessionName"));
    let seconds = input.get("DurationSeconds").and_then(Value::as_i64).unwrap_or(3600);
    // arn:aws:iam::{account}:role/{path/}{name}
    let parsed = role_arn.strip_prefix("arn:aws:iam::").and_then(|r| r.split_once(":role/"));
    let Some((role_account, role_path)) = parsed.filter(|(a, n)| a.len() == 12 && !n.is_empty()) else {
        return Err(ServiceError::new("ValidationError", format!("{role_arn} is invalid")));
    };
    let role_name = role_path.rsplit('/').next().unwrap_or(role_path);
    let (account, principal, _) = identity(callers, parts);
    let assumed = format!("arn:aws:sts::{role_account}:assumed-role/{role_name}/{session}");
    let session_creds = match &callers.auth {
        Some(auth) => {
            if role_account != account {
                let message =
                    format!("User: {principal} is not authorized to perform: sts:AssumeRole on resource: {role_arn}");
                return Err(ServiceError::new("AccessDenied", message).status(403));
            }
            auth.assume(role_account, &assumed, seconds)
        }
        // Open mode accepts any credentials; the session's are known as the role's.
        None => callers.issued.assume(role_account, &assumed, seconds),
    };
    Ok(json!({
        "Credentials": {
            "AccessKeyId": session_creds.access_key,
            "SecretAccessKey": session_creds.secret,
            "SessionToken": session_creds.token,
            "Expiration": session_creds.expires_at,
        },
        "AssumedRoleUser": {
            "AssumedRoleId": format!("{}:{session}", role_id(role_account, role_name)),
            "Arn": assumed,
        },
    }))
}
