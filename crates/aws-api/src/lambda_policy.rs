//! Functions' resource policies (`/2015-03-31/functions/{name}/policy`): AddPermission,
//! GetPolicy and RemovePermission.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use axum::Router;
use lambda::policy::Statement;
use model::{Invalid, Violation};
use serde::{Deserialize, Serialize};

use crate::lambda_rest::{json_response, query_one, ApiResult, Input, Operation, Who};
use crate::ApiState;

pub(crate) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/2015-03-31/functions/{name}/policy", post(add_permission).get(get_policy))
        .route("/2015-03-31/functions/{name}/policy/{sid}", axum::routing::delete(remove_permission))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AddPermissionIn {
    statement_id: Option<String>,
    action: Option<String>,
    principal: Option<String>,
    source_arn: Option<String>,
    source_account: Option<String>,
    event_source_token: Option<String>,
    #[serde(rename = "PrincipalOrgID")]
    principal_org_id: Option<String>,
    function_url_auth_type: Option<String>,
    revision_id: Option<String>,
}

impl Operation for AddPermissionIn {
    const NAME: &'static str = "AddPermission";
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct StatementOut {
    statement: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct PolicyOut {
    policy: String,
    revision_id: String,
}

async fn add_permission(
    State(s): State<ApiState>,
    Who(caller): Who,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
    Input(wire): Input<AddPermissionIn>,
) -> ApiResult {
    let missing: Vec<Violation> =
        [(&wire.statement_id, "statementId"), (&wire.action, "action"), (&wire.principal, "principal")]
            .into_iter()
            .filter(|(v, _)| v.is_none())
            .map(|(_, field)| Violation::null(field))
            .collect();
    if !missing.is_empty() {
        return Err(Invalid::Constraints(missing).into());
    }
    let statement = Statement {
        sid: wire.statement_id.unwrap_or_default(),
        action: wire.action.unwrap_or_default(),
        principal: wire.principal.unwrap_or_default(),
        source_arn: wire.source_arn,
        source_account: wire.source_account,
        principal_org_id: wire.principal_org_id,
        event_source_token: wire.event_source_token,
        function_url_auth_type: wire.function_url_auth_type,
    };
    let qualifier = query_one(&q, "Qualifier");
    let statement =
        s.lambda.add_permission(&caller, &name, qualifier.as_deref(), statement, wire.revision_id.as_deref())?;
    Ok(json_response(StatusCode::CREATED, &StatementOut { statement }))
}

async fn get_policy(
    State(s): State<ApiState>,
    Who(caller): Who,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let (policy, revision_id) = s.lambda.get_policy(&caller, &name, query_one(&q, "Qualifier").as_deref())?;
    Ok(json_response(StatusCode::OK, &PolicyOut { policy, revision_id }))
}

async fn remove_permission(
    State(s): State<ApiState>,
    Who(caller): Who,
    Path((name, sid)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let qualifier = query_one(&q, "Qualifier");
    let revision = query_one(&q, "RevisionId");
    s.lambda.remove_permission(&caller, &name, qualifier.as_deref(), &sid, revision.as_deref())?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
