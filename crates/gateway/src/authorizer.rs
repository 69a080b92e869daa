//! Lambda authorizers' pure parts: where the identity comes from, the method ARN a policy
//! is checked against, how an IAM policy or a simple response decides, and the result
//! cache keyed by identity with its TTL.

use model::sync::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use crate::events::RequestFacts;

/// `arn:aws:execute-api:{region}:{account}:{api}/{stage}/{METHOD}/{path}`: what a REST
/// authorizer's policy is checked against.
pub fn method_arn(region: &str, account: &str, api: &str, stage: &str, method: &str, resource_path: &str) -> String {
    format!("arn:aws:execute-api:{region}:{account}:{api}/{stage}/{method}/{}", resource_path.trim_start_matches('/'))
}

/// The ARN an authorizer invokes its function as: the API's, with `/authorizers/{id}`.
pub fn authorizer_arn(method_arn: &str, authorizer_id: &str) -> String {
    let api = method_arn.split('/').next().unwrap_or(method_arn);
    format!("{api}/authorizers/{authorizer_id}")
}

/// Whether `arn` matches an IAM resource pattern (`*` any run, `?` any one character).
pub use model::arn::arn_like as arn_matches;

/// What a policy says of a method ARN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// An `Allow` statement covers it and no `Deny` does.
    Allow,
    /// A `Deny` statement covers it.
    Deny,
    /// Nothing covers it.
    NoMatch,
}

fn as_list(v: Option<&Value>) -> Vec<&str> {
    match v {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Evaluates an authorizer's `policyDocument` for `arn`: an explicit deny wins.
pub fn decide(policy: &Value, arn: &str) -> Decision {
    let statements = match policy.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect::<Vec<_>>(),
        Some(o @ Value::Object(_)) => vec![o],
        _ => Vec::new(),
    };
    let mut allowed = false;
    for s in statements {
        let actions = as_list(s.get("Action"));
        let acts = actions.iter().any(|a| ["execute-api:Invoke", "execute-api:*", "*"].contains(a));
        if !acts || !as_list(s.get("Resource")).iter().any(|r| arn_matches(r, arn)) {
            continue;
        }
        match s.get("Effect").and_then(Value::as_str) {
            Some("Deny") => return Decision::Deny,
            Some("Allow") => allowed = true,
            _ => {}
        }
    }
    if allowed {
        Decision::Allow
    } else {
        Decision::NoMatch
    }
}

/// Where an identity source reads from.
enum Source<'s> {
    Header(&'s str),
    Query(&'s str),
    StageVariable(&'s str),
    Context(&'s str),
}

impl Source<'_> {
    /// The value for this request; `None` when missing or empty.
    fn value(&self, r: &RequestFacts<'_>) -> Option<String> {
        let v = match self {
            Source::Header(h) => {
                let values: Vec<&str> =
                    r.headers.iter().filter(|(k, _)| k.eq_ignore_ascii_case(h)).map(|(_, v)| v.as_str()).collect();
                (!values.is_empty()).then(|| values.join(","))
            }
            Source::Query(q) => query_value(r, q),
            Source::StageVariable(v) => r.stage_variables.get(*v).cloned(),
            Source::Context(c) => match *c {
                "httpMethod" => Some(r.method.to_owned()),
                "stage" => Some(r.stage.to_owned()),
                "identity.sourceIp" => Some(r.source_ip.to_owned()),
                _ => None,
            },
        };
        v.filter(|v| !v.is_empty())
    }
}

/// The values of a REST authorizer's identity sources (comma-separated
/// `method.request.header.X`, `method.request.querystring.X`, `stageVariables.X`,
/// `context.X`); `None` if any is missing or empty, which API Gateway answers with 401.
pub fn rest_identity(source: &str, r: &RequestFacts<'_>) -> Option<Vec<String>> {
    source
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            let source = if let Some(h) = s.strip_prefix("method.request.header.") {
                Source::Header(h)
            } else if let Some(q) = s.strip_prefix("method.request.querystring.") {
                Source::Query(q)
            } else if let Some(v) = s.strip_prefix("stageVariables.") {
                Source::StageVariable(v)
            } else {
                Source::Context(s.strip_prefix("context.")?)
            };
            source.value(r)
        })
        .collect()
}

/// The values of an HTTP API authorizer's identity sources (`$request.header.X`,
/// `$request.querystring.X`, `$context.X`, `$stageVariables.X`); `None` if any is missing.
pub fn http_identity(sources: &[String], r: &RequestFacts<'_>) -> Option<Vec<String>> {
    sources
        .iter()
        .map(|s| {
            let source = if let Some(h) = s.strip_prefix("$request.header.") {
                Source::Header(h)
            } else if let Some(q) = s.strip_prefix("$request.querystring.") {
                Source::Query(q)
            } else if let Some(v) = s.strip_prefix("$stageVariables.") {
                Source::StageVariable(v)
            } else {
                Source::Context(s.strip_prefix("$context.")?)
            };
            source.value(r)
        })
        .collect()
}

fn query_value(r: &RequestFacts<'_>, name: &str) -> Option<String> {
    let q = r.query?;
    let values: Vec<String> =
        form_urlencoded::parse(q.as_bytes()).filter(|(k, _)| k == name).map(|(_, v)| v.into_owned()).collect();
    (!values.is_empty()).then(|| values.join(","))
}

/// What an authorizer function answered, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Grant {
    /// `principalId`.
    pub principal_id: Option<String>,
    /// `policyDocument` (IAM format), if any.
    pub policy: Option<Value>,
    /// `isAuthorized` (HTTP API simple responses).
    pub simple: Option<bool>,
    /// `context`.
    pub context: Map<String, Value>,
    /// `usageIdentifierKey`: the API key, when the API's key source is the authorizer.
    pub usage_key: Option<String>,
}

impl Grant {
    /// Parses an authorizer function's answer; `None` if it is not one.
    pub fn parse(payload: &[u8], simple: bool) -> Option<Grant> {
        let v: Value = serde_json::from_slice(payload).ok()?;
        let o = v.as_object()?;
        let context = match o.get("context") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(m)) => m.clone(),
            Some(_) => return None,
        };
        let g = Grant {
            principal_id: o.get("principalId").and_then(|p| match p {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            }),
            policy: o.get("policyDocument").filter(|p| p.is_object()).cloned(),
            simple: o.get("isAuthorized").and_then(Value::as_bool),
            context,
            usage_key: o.get("usageIdentifierKey").and_then(Value::as_str).map(str::to_owned),
        };
        let valid = if simple { g.simple.is_some() || g.policy.is_some() } else { g.policy.is_some() };
        valid.then_some(g)
    }

    /// Whether it lets the request through to `arn`.
    pub fn decide(&self, arn: &str) -> Decision {
        if let Some(ok) = self.simple {
            return if ok { Decision::Allow } else { Decision::Deny };
        }
        self.policy.as_ref().map_or(Decision::NoMatch, |p| decide(p, arn))
    }
}

/// Authorizer results cached by authorizer and identity, for their TTL.
#[derive(Debug, Default)]
pub struct Cache {
    entries: Mutex<HashMap<String, (Instant, Arc<Grant>)>>,
}

impl Cache {
    /// The cached result for `key`, if it has not expired.
    pub fn get(&self, key: &str, now: Instant) -> Option<Arc<Grant>> {
        let mut entries = self.entries.lock();
        match entries.get(key) {
            Some((until, g)) if *until > now => Some(g.clone()),
            Some(_) => {
                entries.remove(key);
                None
            }
            None => None,
        }
    }

    /// Keeps `grant` for `ttl`.
    pub fn put(&self, key: String, grant: Arc<Grant>, ttl: Duration, now: Instant) {
        let mut entries = self.entries.lock();
        if entries.len() > 100_000 {
            entries.retain(|_, (until, _)| *until > now);
        }
        entries.insert(key, (now + ttl, grant));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn arns_match_iam_wildcards() {
        let arn = "arn:aws:execute-api:us-east-1:000000000000:abc/prod/GET/items/1";
        assert!(arn_matches("arn:aws:execute-api:us-east-1:000000000000:abc/prod/GET/items/1", arn));
        assert!(arn_matches("arn:aws:execute-api:us-east-1:000000000000:abc/*/GET/*", arn));
        assert!(arn_matches("*", arn));
        assert!(!arn_matches("arn:aws:execute-api:us-east-1:000000000000:abc/prod/POST/*", arn));
        assert!(arn_matches("arn:aws:execute-api:us-east-1:000000000000:abc/prod/GET/items/?", arn));
    }

    #[test]
    fn an_explicit_deny_wins() {
        let arn = "arn:aws:execute-api:r:a:api/prod/GET/x";
        let allow = json!({"Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": "*"}]});
        assert_eq!(decide(&allow, arn), Decision::Allow);
        let both = json!({"Statement": [
            {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": ["*"]},
            {"Action": ["execute-api:Invoke"], "Effect": "Deny", "Resource": "arn:aws:execute-api:r:a:api/prod/GET/*"}]});
        assert_eq!(decide(&both, arn), Decision::Deny);
        let other = json!({"Statement": {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": "arn:aws:execute-api:r:a:api/prod/POST/x"}});
        assert_eq!(decide(&other, arn), Decision::NoMatch);
    }

    #[test]
    fn answers_parse_into_grants() {
        let g =
            Grant::parse(br#"{"principalId": "u1", "policyDocument": {"Statement": []}, "context": {"n": 1}}"#, false)
                .unwrap();
        assert_eq!(g.principal_id.as_deref(), Some("u1"));
        assert_eq!(g.context["n"], 1);
        assert!(Grant::parse(br#"{"principalId": "u1"}"#, false).is_none());
        let s = Grant::parse(br#"{"isAuthorized": false}"#, true).unwrap();
        assert_eq!(s.decide("x"), Decision::Deny);
        assert!(Grant::parse(b"not json", true).is_none());
    }

    #[test]
    fn the_cache_expires_entries() {
        let c = Cache::default();
        let now = Instant::now();
        let g = Arc::new(Grant::parse(br#"{"isAuthorized": true}"#, true).unwrap());
        c.put("k".into(), g, Duration::from_secs(10), now);
        assert!(c.get("k", now + Duration::from_secs(5)).is_some());
        assert!(c.get("k", now + Duration::from_secs(11)).is_none());
    }
}
