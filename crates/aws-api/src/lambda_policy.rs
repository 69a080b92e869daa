//! Functions' resource policies (`/2015-03-31/functions/{name}/policy`): AddPermission,
//! GetPolicy and RemovePermission.

use lambda::policy::Statement;
use model::{Invalid, Violation};
use serde::{Deserialize, Serialize};

use crate::lambda_api::{done, out, Call, Reply};
use crate::ApiState;

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

pub(crate) fn add_permission(s: &ApiState, c: &Call) -> Reply {
    let wire: AddPermissionIn = c.body()?;
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
    let statement = s.lambda.add_permission(
        &c.caller,
        &c.function(),
        c.qualifier().as_deref(),
        statement,
        wire.revision_id.as_deref(),
    )?;
    out(StatementOut { statement })
}

pub(crate) fn get_policy(s: &ApiState, c: &Call) -> Reply {
    let (policy, revision_id) = s.lambda.get_policy(&c.caller, &c.function(), c.qualifier().as_deref())?;
    out(PolicyOut { policy, revision_id })
}

pub(crate) fn remove_permission(s: &ApiState, c: &Call) -> Reply {
    let revision = c.text("RevisionId");
    let sid = c.label("StatementId");
    s.lambda.remove_permission(&c.caller, &c.function(), c.qualifier().as_deref(), &sid, revision.as_deref())?;
    done()
}
