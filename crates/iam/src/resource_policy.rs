//! Resource-based policies (an SQS queue's `Policy`, an SNS topic's `Policy`): checked
//! when they are set, and evaluated when another account, or a service acting for one of
//! its resources, wants to act on the resource. Pure: no I/O.
//!
//! Evaluation follows IAM's rule for a resource policy: an explicit `Deny` that applies
//! refuses; otherwise an `Allow` that applies admits. Identity policies are not modelled
//! (IAM is not enforced), so a caller of the resource's own account is admitted unless a
//! `Deny` applies, and a caller of another account only by an `Allow`. A service acting for
//! a resource of the owner's own account (a topic delivering to a queue of the same
//! account) counts as the owner: AWS would want the policy to name the service even then,
//! which Lamina does not ask, so same-account setups that work today keep working.
//!
//! A statement applies when its principal names the requester (`*`, an account id, an
//! `arn:aws:iam::<account>:…` ARN, or a service), its action matches (case-insensitive,
//! with `*` and `?`), its resource matches (`ArnLike`), and every condition holds. The
//! condition operators are the string and ARN ones (`StringEquals`, `StringNotEquals`,
//! `StringEqualsIgnoreCase`, `StringLike`, `StringNotLike`, `ArnEquals`, `ArnLike`,
//! `ArnNotEquals`, `ArnNotLike`, each also with `IfExists`), on `aws:SourceArn`,
//! `aws:SourceAccount`, `aws:SourceOwner` and `aws:PrincipalAccount`; a statement with any
//! other operator or key never applies.

use model::wildcard::glob;
use serde_json::Value;

/// The longest policy document accepted, in bytes (SQS's and SNS's 30 KB).
pub const MAX_POLICY_BYTES: usize = 30 * 1024;
/// The most statements a policy may hold.
pub const MAX_STATEMENTS: usize = 100;

/// Who wants to act on a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requester<'a> {
    /// A caller of this account (its keys, or a role or user of it).
    Account(&'a str),
    /// A service acting for one of its resources, e.g. `sns.amazonaws.com` delivering a
    /// topic's message.
    Service {
        /// The service principal.
        service: &'a str,
        /// The resource the request comes from (`aws:SourceArn`).
        source_arn: &'a str,
        /// That resource's account (`aws:SourceAccount`).
        source_account: &'a str,
    },
    /// A request signed by no one (S3's anonymous callers): only a statement naming every
    /// principal (`*`) applies to it.
    Anonymous,
}

impl Requester<'_> {
    /// The account the request acts for (none for an anonymous one).
    pub fn account(&self) -> &str {
        match self {
            Requester::Account(a) => a,
            Requester::Service { source_account, .. } => source_account,
            Requester::Anonymous => "",
        }
    }
}

/// A parsed, checked policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourcePolicy {
    statements: Vec<Value>,
}

/// Why a policy document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PolicyError(pub String);

fn bad(why: impl Into<String>) -> PolicyError {
    PolicyError(why.into())
}

/// A value or a list of values, as policy grammar allows for most elements.
fn one_or_many(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    }
}

fn strings(v: &Value) -> Option<Vec<&str>> {
    one_or_many(v).into_iter().map(Value::as_str).collect()
}

impl ResourcePolicy {
    /// Parses and checks a policy document: JSON, within [`MAX_POLICY_BYTES`], with a
    /// `Statement` (one or a list of at most [`MAX_STATEMENTS`]) whose every entry has an
    /// `Effect` of `Allow` or `Deny`, a `Principal`, and an `Action` or `NotAction`.
    pub fn parse(text: &str) -> Result<ResourcePolicy, PolicyError> {
        if text.len() > MAX_POLICY_BYTES {
            return Err(bad(format!("the policy is longer than {MAX_POLICY_BYTES} bytes")));
        }
        let doc: Value = serde_json::from_str(text).map_err(|_| bad("the policy is not valid JSON"))?;
        let statement = doc.get("Statement").ok_or_else(|| bad("the policy has no Statement"))?;
        let statements: Vec<Value> = one_or_many(statement).into_iter().cloned().collect();
        if statements.len() > MAX_STATEMENTS {
            return Err(bad(format!("the policy has more than {MAX_STATEMENTS} statements")));
        }
        for s in &statements {
            match s.get("Effect").and_then(Value::as_str) {
                Some("Allow" | "Deny") => {}
                _ => return Err(bad("a statement's Effect is Allow or Deny")),
            }
            if s.get("Principal").is_none() && s.get("NotPrincipal").is_none() {
                return Err(bad("a statement names a Principal"));
            }
            let action =
                s.get("Action").or_else(|| s.get("NotAction")).ok_or_else(|| bad("a statement names an Action"))?;
            if strings(action).is_none() {
                return Err(bad("a statement's Action is a string or a list of strings"));
            }
        }
        Ok(ResourcePolicy { statements })
    }

    /// Whether a statement allows every principal (`*`) without a condition: a public
    /// policy, as S3's public access block calls it.
    pub fn is_public(&self) -> bool {
        self.statements.iter().any(|s| {
            s.get("Effect").and_then(Value::as_str) == Some("Allow")
                && s.get("Condition").is_none()
                && principal_matches(s, &Requester::Anonymous)
        })
    }

    /// Whether `who` may perform `action` (e.g. `sqs:SendMessage`) on `resource`, which
    /// belongs to `owner`.
    pub fn allows(&self, owner: &str, resource: &str, who: &Requester<'_>, action: &str) -> bool {
        let applies = |effect: &str| {
            self.statements.iter().any(|s| {
                s.get("Effect").and_then(Value::as_str) == Some(effect)
                    && principal_matches(s, who)
                    && action_matches(s, action)
                    && resource_matches(s, resource)
                    && conditions_hold(s.get("Condition"), who)
            })
        };
        if applies("Deny") {
            return false;
        }
        who.account() == owner || applies("Allow")
    }
}

/// With no policy, only the owner's own callers, and services acting for the owner's own
/// resources, act on a resource.
pub fn allows(policy: Option<&ResourcePolicy>, owner: &str, resource: &str, who: &Requester<'_>, action: &str) -> bool {
    match policy {
        Some(p) => p.allows(owner, resource, who, action),
        None => who.account() == owner,
    }
}

fn principal_matches(s: &Value, who: &Requester<'_>) -> bool {
    let Some(principal) = s.get("Principal") else { return false };
    if principal.as_str() == Some("*") {
        return true;
    }
    let aws = principal.get("AWS").and_then(strings).unwrap_or_default();
    if aws.contains(&"*") {
        return true;
    }
    match who {
        Requester::Account(account) => aws.iter().any(|p| {
            *p == *account || p.strip_prefix("arn:aws:iam::").is_some_and(|r| r.split(':').next() == Some(account))
        }),
        Requester::Service { service, .. } => principal
            .get("Service")
            .and_then(strings)
            .unwrap_or_default()
            .iter()
            .any(|p| p.eq_ignore_ascii_case(service)),
        Requester::Anonymous => false,
    }
}

fn action_matches(s: &Value, action: &str) -> bool {
    let matches =
        |v: &Value| strings(v).unwrap_or_default().iter().any(|p| glob(p.as_bytes(), action.as_bytes(), true));
    match (s.get("Action"), s.get("NotAction")) {
        (Some(a), _) => matches(a),
        (None, Some(n)) => !matches(n),
        (None, None) => false,
    }
}

fn resource_matches(s: &Value, resource: &str) -> bool {
    match s.get("Resource") {
        None => true,
        Some(r) => strings(r).unwrap_or_default().iter().any(|p| glob(p.as_bytes(), resource.as_bytes(), false)),
    }
}

fn context<'a>(who: &Requester<'a>, key: &str) -> Result<Option<&'a str>, ()> {
    let key = key.to_ascii_lowercase();
    match (key.as_str(), who) {
        ("aws:sourcearn", Requester::Service { source_arn, .. }) => Ok(Some(source_arn)),
        ("aws:sourceaccount" | "aws:sourceowner", Requester::Service { source_account, .. }) => {
            Ok(Some(source_account))
        }
        ("aws:sourcearn" | "aws:sourceaccount" | "aws:sourceowner", Requester::Account(_)) => Ok(None),
        ("aws:principalaccount", Requester::Account(a)) => Ok(Some(a)),
        ("aws:principalaccount", Requester::Service { .. } | Requester::Anonymous) => Ok(None),
        ("aws:sourcearn" | "aws:sourceaccount" | "aws:sourceowner", Requester::Anonymous) => Ok(None),
        _ => Err(()),
    }
}

fn conditions_hold(conditions: Option<&Value>, who: &Requester<'_>) -> bool {
    let Some(conditions) = conditions else { return true };
    let Some(operators) = conditions.as_object() else { return false };
    operators.iter().all(|(operator, tests)| {
        let (op, if_exists) = match operator.strip_suffix("IfExists") {
            Some(op) => (op, true),
            None => (operator.as_str(), false),
        };
        let Some(tests) = tests.as_object() else { return false };
        tests.iter().all(|(key, wanted)| {
            let Ok(value) = context(who, key) else { return false };
            let Some(wanted) = strings(wanted) else { return false };
            let negated = op.contains("Not");
            let Some(value) = value else { return if_exists || negated };
            let any = |f: &dyn Fn(&str) -> bool| wanted.iter().any(|w| f(w));
            match op {
                "StringEquals" | "ArnEquals" => any(&|w| w == value),
                "StringEqualsIgnoreCase" => any(&|w| w.eq_ignore_ascii_case(value)),
                "StringLike" | "ArnLike" => any(&|w| glob(w.as_bytes(), value.as_bytes(), false)),
                "StringNotEquals" | "ArnNotEquals" => !any(&|w| w == value),
                "StringNotEqualsIgnoreCase" => !any(&|w| w.eq_ignore_ascii_case(value)),
                "StringNotLike" | "ArnNotLike" => !any(&|w| glob(w.as_bytes(), value.as_bytes(), false)),
                _ => false,
            }
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUEUE: &str = "arn:aws:sqs:us-east-1:111111111111:q";
    const TOPIC: &str = "arn:aws:sns:us-east-1:222222222222:t";

    fn sns(topic: &str) -> Requester<'_> {
        Requester::Service { service: "sns.amazonaws.com", source_arn: topic, source_account: "222222222222" }
    }

    #[test]
    fn the_owner_alone_without_a_policy() {
        assert!(allows(None, "111111111111", QUEUE, &Requester::Account("111111111111"), "sqs:SendMessage"));
        assert!(!allows(None, "111111111111", QUEUE, &Requester::Account("222222222222"), "sqs:SendMessage"));
        assert!(!allows(None, "111111111111", QUEUE, &sns(TOPIC), "sqs:SendMessage"));
        let own_topic = Requester::Service {
            service: "sns.amazonaws.com",
            source_arn: "arn:aws:sns:us-east-1:111111111111:t",
            source_account: "111111111111",
        };
        assert!(allows(None, "111111111111", QUEUE, &own_topic, "sqs:SendMessage"));
    }

    #[test]
    fn sns_with_a_source_arn_and_accounts_by_id_or_arn() {
        let p = ResourcePolicy::parse(&format!(
            r#"{{"Version":"2012-10-17","Statement":[
                {{"Effect":"Allow","Principal":{{"Service":"sns.amazonaws.com"}},"Action":"sqs:SendMessage",
                  "Resource":"{QUEUE}","Condition":{{"ArnEquals":{{"aws:SourceArn":"{TOPIC}"}}}}}},
                {{"Effect":"Allow","Principal":{{"AWS":["arn:aws:iam::333333333333:root"]}},"Action":["SQS:Receive*","sqs:DeleteMessage"],"Resource":"*"}}]}}"#
        ))
        .unwrap();
        let owner = "111111111111";
        assert!(p.allows(owner, QUEUE, &sns(TOPIC), "sqs:SendMessage"));
        assert!(!p.allows(owner, QUEUE, &sns("arn:aws:sns:us-east-1:222222222222:other"), "sqs:SendMessage"));
        assert!(!p.allows(owner, QUEUE, &sns(TOPIC), "sqs:ReceiveMessage"));
        assert!(p.allows(owner, QUEUE, &Requester::Account("333333333333"), "sqs:ReceiveMessage"));
        assert!(!p.allows(owner, QUEUE, &Requester::Account("333333333333"), "sqs:SendMessage"));
        assert!(!p.allows(owner, QUEUE, &Requester::Account("222222222222"), "sqs:ReceiveMessage"));
        // A condition on the source is not met by a plain caller.
        let anyone = ResourcePolicy::parse(
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"sqs:*","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:222222222222:*"}}}}"#,
        )
        .unwrap();
        assert!(anyone.allows(owner, QUEUE, &sns(TOPIC), "sqs:SendMessage"));
        assert!(!anyone.allows(owner, QUEUE, &Requester::Account("222222222222"), "sqs:SendMessage"));
    }

    #[test]
    fn deny_wins_even_for_the_owner_and_unknown_conditions_never_apply() {
        let p = ResourcePolicy::parse(
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*"},
                {"Effect":"Deny","Principal":{"AWS":"222222222222"},"Action":"sqs:DeleteMessage"},
                {"Effect":"Deny","Principal":"*","Action":"sqs:PurgeQueue"},
                {"Effect":"Allow","Principal":"*","Action":"sqs:X","Condition":{"IpAddress":{"aws:SourceIp":"1.2.3.4"}}}]}"#,
        )
        .unwrap();
        let owner = "111111111111";
        assert!(p.allows(owner, QUEUE, &Requester::Account("222222222222"), "sqs:SendMessage"));
        assert!(!p.allows(owner, QUEUE, &Requester::Account("222222222222"), "sqs:DeleteMessage"));
        assert!(!p.allows(owner, QUEUE, &Requester::Account(owner), "sqs:PurgeQueue"));
        let only = ResourcePolicy::parse(
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sqs:X","Condition":{"IpAddress":{"aws:SourceIp":"1.2.3.4"}}}]}"#,
        )
        .unwrap();
        assert!(!only.allows(owner, QUEUE, &Requester::Account("222222222222"), "sqs:X"));
    }

    #[test]
    fn documents_are_checked_and_bounded() {
        for bad in [
            "",
            "{",
            "[]",
            r#"{"Statement":[{"Effect":"Maybe","Principal":"*","Action":"*"}]}"#,
            r#"{"Statement":[{"Effect":"Allow","Action":"*"}]}"#,
            r#"{"Statement":[{"Effect":"Allow","Principal":"*"}]}"#,
        ] {
            assert!(ResourcePolicy::parse(bad).is_err(), "{bad}");
        }
        let huge = format!(
            r#"{{"Statement":[{}]}}"#,
            vec![r#"{"Effect":"Allow","Principal":"*","Action":"*"}"#; 101].join(",")
        );
        assert!(ResourcePolicy::parse(&huge).is_err());
        let deep = "[".repeat(20_000);
        assert!(ResourcePolicy::parse(&deep).is_err());
    }
}
