//! STS's query protocol: who the caller is (GetCallerIdentity) and temporary credentials
//! (AssumeRole), which authenticated mode accepts afterwards. Roles are not checked
//! against any trust policy (IAM is not enforced), so a caller may assume roles of its
//! own account only.

use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::auth::Authenticated;
use crate::sns_query::element;
use crate::CallerPolicy;

const NAMESPACE: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// The STS actions, to tell an STS query request from another service's.
pub(crate) const ACTIONS: &[&str] = &["GetCallerIdentity", "AssumeRole"];

fn xml(status: StatusCode, body: String) -> Response {
    (status, [("content-type", "text/xml")], body).into_response()
}

fn success(action: &str, result: &str, request_id: &str) -> Response {
    xml(
        StatusCode::OK,
        format!(
            "<{action}Response xmlns=\"{NAMESPACE}\"><{action}Result>{result}</{action}Result>\
             <ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{action}Response>"
        ),
    )
}

fn error(status: StatusCode, code: &str, message: &str, request_id: &str) -> Response {
    xml(
        status,
        format!(
            "<ErrorResponse xmlns=\"{NAMESPACE}\"><Error><Type>Sender</Type>{}{}</Error>\
             <RequestId>{request_id}</RequestId></ErrorResponse>",
            element("Code", code),
            element("Message", message)
        ),
    )
}

fn validation(value: &str, member: &str, constraint: &str, request_id: &str) -> Response {
    let message = format!(
        "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}"
    );
    error(StatusCode::BAD_REQUEST, "ValidationError", &message, request_id)
}

/// Who a request is: (account, ARN, user id).
fn identity(callers: &CallerPolicy, parts: &Parts) -> (String, String, String) {
    if let Some(who) = parts.extensions.get::<Authenticated>() {
        // An assumed role's session is `AROA…:{session}`; a key of the account, the account.
        let user_id = match who.principal.split_once(":assumed-role/") {
            Some((_, role_session)) => {
                let (role, session) = role_session.split_once('/').unwrap_or((role_session, ""));
                format!("{}:{session}", role_id(&who.account, role))
            }
            None => who.account.clone(),
        };
        return (who.account.clone(), who.principal.clone(), user_id);
    }
    let caller = callers.caller(parts);
    let arn = format!("arn:aws:iam::{}:root", caller.account);
    (caller.account.clone(), arn, caller.account)
}

/// A role's `AROA…` id: the same for the same role, across restarts (FNV-1a of its name).
fn role_id(account: &str, role: &str) -> String {
    let fnv = |seed: u64| {
        format!("{account}/{role}").bytes().fold(seed, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
    };
    let hex = format!("{:016X}{:016X}", fnv(0xcbf2_9ce4_8422_2325), fnv(0x8422_2325_cbf2_9ce4));
    format!("AROA{}", &hex[..17])
}

/// One STS action.
pub(crate) fn handle(callers: &CallerPolicy, parts: &Parts, params: &[(String, String)], request_id: &str) -> Response {
    let get = |k: &str| params.iter().find(|(name, _)| name == k).map(|(_, v)| v.as_str());
    match get("Action").unwrap_or_default() {
        "GetCallerIdentity" => {
            let (account, arn, user_id) = identity(callers, parts);
            let result =
                format!("{}{}{}", element("Arn", &arn), element("UserId", &user_id), element("Account", &account));
            success("GetCallerIdentity", &result, request_id)
        }
        "AssumeRole" => assume_role(callers, parts, &get, request_id),
        other => error(
            StatusCode::BAD_REQUEST,
            "InvalidAction",
            &format!("Could not find operation {other} for version 2011-06-15"),
            request_id,
        ),
    }
}

fn assume_role<'a>(
    callers: &CallerPolicy,
    parts: &Parts,
    get: &impl Fn(&str) -> Option<&'a str>,
    request_id: &str,
) -> Response {
    let role_arn = get("RoleArn").unwrap_or_default();
    let session = get("RoleSessionName").unwrap_or_default();
    if role_arn.len() < 20 {
        return validation(role_arn, "roleArn", "Member must have length greater than or equal to 20", request_id);
    }
    let valid_name = |c: char| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c);
    if !(2..=64).contains(&session.len()) || !session.chars().all(valid_name) {
        return validation(
            session,
            "roleSessionName",
            "Member must satisfy regular expression pattern: [\\w+=,.@-]* and have length between 2 and 64",
            request_id,
        );
    }
    let seconds = match get("DurationSeconds").map(str::parse::<i64>) {
        None => 3600,
        Some(Ok(s)) if (900..=43_200).contains(&s) => s,
        Some(_) => {
            let value = get("DurationSeconds").unwrap_or_default();
            return validation(value, "durationSeconds", "Member must be between 900 and 43200", request_id);
        }
    };
    // arn:aws:iam::{account}:role/{path/}{name}
    let parsed = role_arn.strip_prefix("arn:aws:iam::").and_then(|r| r.split_once(":role/"));
    let Some((role_account, role_path)) = parsed.filter(|(a, n)| a.len() == 12 && !n.is_empty()) else {
        return error(StatusCode::BAD_REQUEST, "ValidationError", &format!("{role_arn} is invalid"), request_id);
    };
    let role_name = role_path.rsplit('/').next().unwrap_or(role_path);
    let (account, principal, _) = identity(callers, parts);
    let assumed = format!("arn:aws:sts::{role_account}:assumed-role/{role_name}/{session}");
    let session_creds = match &callers.auth {
        Some(auth) => {
            if role_account != account {
                let message =
                    format!("User: {principal} is not authorized to perform: sts:AssumeRole on resource: {role_arn}");
                return error(StatusCode::FORBIDDEN, "AccessDenied", &message, request_id);
            }
            auth.assume(role_account, &assumed, seconds)
        }
        // Open mode accepts any credentials: these are only made up.
        None => crate::auth::Authenticator::new(Vec::new()).assume(role_account, &assumed, seconds),
    };
    let expiration = time::OffsetDateTime::from_unix_timestamp(session_creds.expires_at)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default();
    let result = format!(
        "<Credentials>{}{}{}{}</Credentials><AssumedRoleUser>{}{}</AssumedRoleUser>",
        element("AccessKeyId", &session_creds.access_key),
        element("SecretAccessKey", &session_creds.secret),
        element("SessionToken", &session_creds.token),
        element("Expiration", &expiration),
        element("AssumedRoleId", &format!("{}:{session}", role_id(role_account, role_name))),
        element("Arn", &assumed),
    );
    success("AssumeRole", &result, request_id)
}
