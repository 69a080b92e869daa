//! Functions' resource policies: AddPermission, RemovePermission and GetPolicy, and the
//! checks they feed — another account invoking a function, and (in authenticated mode)
//! a service invoking one on an event's behalf.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use model::arn::{arn_like, function_arn};
use model::{Function, Invalid, Qualifier, Violation};

use std::sync::Arc;

use crate::{key_of, new_revision, Caller, LambdaError, LambdaService};

/// The action an invoke needs.
pub const INVOKE: &str = "lambda:InvokeFunction";

/// A policy as stored: its statements and revision.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Policy {
    revision_id: String,
    statements: Vec<Statement>,
}

/// One AddPermission statement.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    /// `StatementId`.
    pub sid: String,
    /// `Action`, e.g. `lambda:InvokeFunction`.
    pub action: String,
    /// `Principal`: an account ID, an IAM ARN, a service (`sns.amazonaws.com`) or `*`.
    pub principal: String,
    /// `SourceArn`, which may hold `*` and `?` wildcards.
    pub source_arn: Option<String>,
    /// `SourceAccount`.
    pub source_account: Option<String>,
    /// `PrincipalOrgID`.
    pub principal_org_id: Option<String>,
    /// `EventSourceToken`.
    pub event_source_token: Option<String>,
    /// `FunctionUrlAuthType`.
    pub function_url_auth_type: Option<String>,
}

/// Who asks to act on a function.
#[derive(Debug, Clone, Copy)]
pub enum Principal<'a> {
    /// A caller of another account.
    Account(&'a str),
    /// A service, on behalf of one of its resources.
    Service {
        /// The service principal, e.g. `sns.amazonaws.com`.
        service: &'a str,
        /// The resource the event comes from (a topic, an API's method).
        source_arn: &'a str,
        /// The account that resource belongs to.
        source_account: &'a str,
    },
}

impl Statement {
    fn grants(&self, action: &str) -> bool {
        self.action == "*" || self.action == "lambda:*" || self.action == action
    }

    /// Whether this statement lets `who` perform `action`. Organisations are not
    /// modelled: a statement narrowed to one admits nobody.
    pub fn allows(&self, who: Principal<'_>, action: &str) -> bool {
        if !self.grants(action) || self.principal_org_id.is_some() {
            return false;
        }
        match who {
            Principal::Account(account) => {
                let named = self.principal == "*"
                    || self.principal == account
                    || self
                        .principal
                        .strip_prefix("arn:aws:iam::")
                        .is_some_and(|r| r.split(':').next() == Some(account));
                named && self.source_account.as_deref().is_none_or(|a| a == account) && self.source_arn.is_none()
            }
            Principal::Service { service, source_arn, source_account } => {
                (self.principal == service || self.principal == "*")
                    && self.source_account.as_deref().is_none_or(|a| a == source_account)
                    && self.source_arn.as_deref().is_none_or(|pattern| arn_like(pattern, source_arn))
            }
        }
    }

    /// The statement as AWS writes it, for `resource`.
    fn json(&self, resource: &str) -> Value {
        let principal = if self.principal == "*" {
            json!("*")
        } else if self.principal.len() == 12 && self.principal.bytes().all(|b| b.is_ascii_digit()) {
            json!({ "AWS": format!("arn:aws:iam::{}:root", self.principal) })
        } else if self.principal.starts_with("arn:") {
            json!({ "AWS": self.principal })
        } else {
            json!({ "Service": self.principal })
        };
        let mut condition = serde_json::Map::new();
        let mut put = |operator: &str, key: &str, value: &Option<String>| {
            if let Some(v) = value {
                let entry = condition.entry(operator).or_insert_with(|| json!({}));
                entry[key] = json!(v);
            }
        };
        put("StringEquals", "AWS:SourceAccount", &self.source_account);
        put("StringEquals", "aws:PrincipalOrgID", &self.principal_org_id);
        put("StringEquals", "lambda:EventSourceToken", &self.event_source_token);
        put("StringEquals", "lambda:FunctionUrlAuthType", &self.function_url_auth_type);
        put("ArnLike", "AWS:SourceArn", &self.source_arn);
        let mut s = json!({
            "Sid": self.sid,
            "Effect": "Allow",
            "Principal": principal,
            "Action": self.action,
            "Resource": resource,
        });
        if !condition.is_empty() {
            s["Condition"] = Value::Object(condition);
        }
        s
    }

    fn check(&self) -> Result<(), LambdaError> {
        let sid_ok = (1..=100).contains(&self.sid.len())
            && self.sid.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !sid_ok {
            return Err(Invalid::from(Violation::pattern(&self.sid, "statementId", "([a-zA-Z0-9-_.]+)")).into());
        }
        let action_ok = self.action == "*"
            || self
                .action
                .strip_prefix("lambda:")
                .is_some_and(|a| a == "*" || (!a.is_empty() && a.chars().all(|c| c.is_ascii_alphabetic())));
        if !action_ok {
            return Err(
                Invalid::from(Violation::pattern(&self.action, "action", "(lambda:[*]|lambda:[a-zA-Z]+|[*])")).into()
            );
        }
        if self.principal.is_empty() || self.principal.contains(char::is_whitespace) {
            return Err(Invalid::from(Violation::pattern(&self.principal, "principal", "[^\\s]+")).into());
        }
        // Anyone, an account, an IAM ARN, or a service of AWS's.
        let p = &self.principal;
        let known = p == "*"
            || (p.len() == 12 && p.bytes().all(|b| b.is_ascii_digit()))
            || p.starts_with("arn:")
            || p.ends_with(".amazonaws.com")
            || p.ends_with(".amazon.com");
        if !known {
            return Err(Invalid::parameter(
                "The provided principal was invalid. Please check the principal and try again.",
            )
            .into());
        }
        if let Some(t) = &self.function_url_auth_type {
            if t != "NONE" && t != "AWS_IAM" {
                return Err(
                    Invalid::from(Violation::enumeration(t, "functionUrlAuthType", &["NONE", "AWS_IAM"])).into()
                );
            }
        }
        Ok(())
    }
}

/// The key a policy is kept under: its qualifier, or `""` for the unqualified function
/// (which `$LATEST` is).
fn key(qualifier: Option<&str>) -> &str {
    match qualifier {
        None | Some("$LATEST") => "",
        Some(q) => q,
    }
}

impl LambdaService {
    fn policy_of(&self, f: &Function, qualifier: Option<&str>) -> Result<Arc<Policy>, LambdaError> {
        let id = (key_of(f), key(qualifier).to_owned());
        if let Some(p) = self.cache.policies.read().get(&id) {
            return Ok(p.clone());
        }
        let stored = self.store.function_policy(&f.account, &f.region, &f.name, &id.1)?;
        let policy: Arc<Policy> =
            Arc::new(stored.and_then(|text| serde_json::from_str(&text).ok()).unwrap_or_default());
        self.cache.policies.write().insert(id, policy.clone());
        Ok(policy)
    }

    /// Stores a qualifier's policy (none, once it has no statement left) and remembers it.
    fn keep_policy(&self, f: &Function, qualifier: Option<&str>, policy: Policy) -> Result<(), LambdaError> {
        let text = serde_json::to_string(&policy).map_err(|e| LambdaError::Service(e.to_string()))?;
        if text.len() > 20 * 1024 {
            return Err(LambdaError::PolicyLengthExceeded("The final policy size is bigger than the limit.".into()));
        }
        let stored = (!policy.statements.is_empty()).then_some(text.as_str());
        self.store.set_function_policy(&f.account, &f.region, &f.name, key(qualifier), stored)?;
        let id = (key_of(f), key(qualifier).to_owned());
        self.cache.policies.write().insert(id, Arc::new(policy));
        Ok(())
    }

    /// Drops the policy of a version or alias being deleted.
    pub(crate) fn forget_policy(&self, f: &Function, qualifier: &str) -> Result<(), LambdaError> {
        self.store.set_function_policy(&f.account, &f.region, &f.name, qualifier, None)?;
        self.cache.policies.write().remove(&(key_of(f), qualifier.to_owned()));
        Ok(())
    }

    /// The ARN a qualifier's policy statements name.
    fn policy_resource(f: &Function, qualifier: Option<&str>) -> String {
        let arn = function_arn(&f.region, &f.account, &f.name);
        match key(qualifier) {
            "" => arn,
            q => format!("{arn}:{q}"),
        }
    }

    /// The function and qualifier a policy operation is on: the qualifier, if any, must
    /// name a version or alias that exists.
    fn policy_target(
        &self,
        caller: &Caller,
        name: &str,
        qualifier: Option<&str>,
    ) -> Result<(std::sync::Arc<Function>, Option<String>), LambdaError> {
        let (f, shown) = self.resolve_version(caller, name, qualifier).map_err(|e| match e {
            // A missing alias of a function that exists is worded as one.
            LambdaError::NotFound(m) if m.starts_with("Function not found: ") => {
                let arn = m.trim_start_matches("Function not found: ").to_owned();
                // Only a qualifier an alias could have (no `$`, not all digits) names an alias.
                let alias = arn.rsplit(':').next().filter(|q| {
                    !q.chars().all(|c| c.is_ascii_digit())
                        && q.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                });
                let function_exists = model::FunctionRef::parse(name, "functionName")
                    .is_ok_and(|r| self.cached(caller, &r.name).is_some());
                match (alias, function_exists, arn.matches(':').count() >= 7) {
                    (Some(_), true, true) => LambdaError::NotFound(format!("Cannot find alias arn: {arn}")),
                    _ => LambdaError::NotFound(m),
                }
            }
            e => e,
        })?;
        let latest = self.cached(caller, &f.name).unwrap_or(f);
        Ok((latest, shown.filter(|q| q != "$LATEST")))
    }

    /// AddPermission: the statement as AWS shows it.
    pub fn add_permission(
        &self,
        caller: &Caller,
        name: &str,
        qualifier: Option<&str>,
        statement: Statement,
        revision: Option<&str>,
    ) -> Result<String, LambdaError> {
        statement.check()?;
        let _guard = self.writes.lock();
        let (f, q) = self.policy_target(caller, name, qualifier)?;
        let named_latest = qualifier == Some("$LATEST")
            || model::FunctionRef::parse(name, "functionName").is_ok_and(|r| r.qualifier == Some(Qualifier::Latest));
        if named_latest {
            return Err(Invalid::parameter("We currently do not support adding policies for $LATEST.").into());
        }
        let mut policy = (*self.policy_of(&f, q.as_deref())?).clone();
        // AWS takes the revision of the policy or of what it is on (the function, version
        // or alias).
        if revision.is_some() && revision != self.target_revision(&f, q.as_deref()).as_deref() {
            check_revision(&policy, revision)?;
        }
        if policy.statements.iter().any(|s| s.sid == statement.sid) {
            return Err(LambdaError::Conflict(format!(
                "The statement id ({}) provided already exists. Please provide a new statement id, or remove the existing statement.",
                statement.sid
            )));
        }
        let shown = statement.json(&Self::policy_resource(&f, q.as_deref()));
        policy.statements.push(statement);
        policy.revision_id = new_revision();
        self.keep_policy(&f, q.as_deref(), policy)?;
        Ok(shown.to_string())
    }

    /// The `RevisionId` of `$LATEST`, a version or an alias.
    fn target_revision(&self, latest: &Function, qualifier: Option<&str>) -> Option<String> {
        let Some(q) = qualifier else { return Some(latest.revision_id.clone()) };
        let family = self.family(latest)?;
        match q.parse::<u32>() {
            Ok(n) => family.versions.get(&n).map(|v| v.revision_id.clone()),
            Err(_) => family.aliases.get(q).map(|a| a.revision_id.clone()),
        }
    }

    /// RemovePermission.
    pub fn remove_permission(
        &self,
        caller: &Caller,
        name: &str,
        qualifier: Option<&str>,
        sid: &str,
        revision: Option<&str>,
    ) -> Result<(), LambdaError> {
        let _guard = self.writes.lock();
        let (f, q) = self.policy_target(caller, name, qualifier).map_err(|e| match e {
            LambdaError::NotFound(m) if m.starts_with("Function not found: ") => {
                LambdaError::NotFound(m.replacen("Function not found: ", "No policy found for: ", 1))
            }
            e => e,
        })?;
        let mut policy = (*self.policy_of(&f, q.as_deref())?).clone();
        if policy.statements.is_empty() {
            return Err(LambdaError::NotFound("No policy is associated with the given resource.".into()));
        }
        check_revision(&policy, revision)?;
        let before = policy.statements.len();
        policy.statements.retain(|s| s.sid != sid);
        if policy.statements.len() == before {
            return Err(LambdaError::NotFound(format!("Statement {sid} is not found in resource policy.")));
        }
        policy.revision_id = new_revision();
        self.keep_policy(&f, q.as_deref(), policy)
    }

    /// GetPolicy: the policy document and its revision.
    pub fn get_policy(
        &self,
        caller: &Caller,
        name: &str,
        qualifier: Option<&str>,
    ) -> Result<(String, String), LambdaError> {
        let (f, q) = self
            .policy_target(caller, name, qualifier)
            .map_err(|e| crate::missing_function_as(e, "The resource you requested does not exist."))?;
        let policy = self.policy_of(&f, q.as_deref())?;
        if policy.statements.is_empty() {
            return Err(LambdaError::NotFound("The resource you requested does not exist.".into()));
        }
        let resource = Self::policy_resource(&f, q.as_deref());
        let statements: Vec<Value> = policy.statements.iter().map(|s| s.json(&resource)).collect();
        let doc = json!({ "Version": "2012-10-17", "Id": "default", "Statement": statements });
        Ok((doc.to_string(), policy.revision_id.clone()))
    }

    /// Whether the policy of `f` (for `qualifier`) grants `who` `lambda:InvokeFunctionUrl`
    /// for a URL of `auth_type` (a statement's `FunctionUrlAuthType` must match, if set).
    pub(crate) fn url_statement_allows(
        &self,
        f: &Function,
        qualifier: Option<&str>,
        who: Principal<'_>,
        auth_type: &str,
    ) -> bool {
        self.policy_of(f, qualifier).is_ok_and(|p| {
            p.statements.iter().any(|s| {
                s.allows(who, crate::urls::INVOKE_URL)
                    && s.function_url_auth_type.as_deref().is_none_or(|t| t == auth_type)
            })
        })
    }

    /// The account a caller acts in when it names another account's function by ARN
    /// (`FunctionName` or a tagging `Resource`): that account, if the function's resource
    /// policy (for the qualifier named) grants the caller's account `action`; else `None`,
    /// and the call looks in the caller's own account, as AWS answers one not granted.
    pub fn grant_of(&self, caller: &Caller, name: &str, action: &str) -> Option<Caller> {
        let r = model::FunctionRef::parse(name, "functionName").ok()?;
        let owner = r.account.as_deref().filter(|a| *a != caller.account)?;
        let region = r.region.clone().unwrap_or_else(|| caller.region.clone());
        let qualifier = r.qualifier.as_ref().map(|q| q.as_str().to_owned());
        let f = self.cache.event_target(owner, &region, &r.name, None)?;
        self.policy_allows(
            &f,
            qualifier.as_deref().filter(|q| *q != "$LATEST"),
            Principal::Account(&caller.account),
            action,
        )
        .then(|| Caller { account: owner.to_owned(), region })
    }

    /// Whether the policy of `f` (for `qualifier`) lets `who` perform `action`.
    pub fn policy_allows(&self, f: &Function, qualifier: Option<&str>, who: Principal<'_>, action: &str) -> bool {
        self.policy_of(f, qualifier).is_ok_and(|p| p.statements.iter().any(|s| s.allows(who, action)))
    }
}

fn check_revision(policy: &Policy, revision: Option<&str>) -> Result<(), LambdaError> {
    match revision {
        Some(r) if r != policy.revision_id => Err(LambdaError::PreconditionFailed(
            "The Revision Id provided does not match the latest Revision Id. Call the GetPolicy API to retrieve the latest Revision Id"
                .into(),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statement(principal: &str) -> Statement {
        Statement { sid: "s".into(), action: INVOKE.into(), principal: principal.into(), ..Default::default() }
    }

    #[test]
    fn account_principals_admit_their_account_only() {
        for p in ["222222222222", "arn:aws:iam::222222222222:root", "*"] {
            assert!(statement(p).allows(Principal::Account("222222222222"), INVOKE), "{p}");
        }
        assert!(!statement("333333333333").allows(Principal::Account("222222222222"), INVOKE));
        let wrong_action = Statement { action: "lambda:GetFunction".into(), ..statement("222222222222") };
        assert!(!wrong_action.allows(Principal::Account("222222222222"), INVOKE));
    }

    #[test]
    fn service_principals_are_held_to_their_source() {
        let s = Statement {
            source_arn: Some("arn:aws:execute-api:us-east-1:111111111111:abc123/*/GET/pets".into()),
            ..statement("apigateway.amazonaws.com")
        };
        let from = |arn| Principal::Service {
            service: "apigateway.amazonaws.com",
            source_arn: arn,
            source_account: "111111111111",
        };
        assert!(s.allows(from("arn:aws:execute-api:us-east-1:111111111111:abc123/prod/GET/pets"), INVOKE));
        assert!(!s.allows(from("arn:aws:execute-api:us-east-1:111111111111:other/prod/GET/pets"), INVOKE));
        let sns = Principal::Service { service: "sns.amazonaws.com", source_arn: "x", source_account: "111111111111" };
        assert!(!s.allows(sns, INVOKE));
    }

    #[test]
    fn arn_like_wildcards() {
        assert!(arn_like("arn:*:sns:*", "arn:aws:sns:us-east-1:1:t"));
        assert!(arn_like("a?c", "abc") && !arn_like("a?c", "ac"));
        assert!(!arn_like("arn:aws:sns:us-east-1:1:t", "arn:aws:sns:us-east-1:1:t2"));
    }
}
