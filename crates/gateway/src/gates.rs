//! The gates a request passes before its integration: throttles (the account's, the
//! stage's or method's, the route's), Lambda authorizers (run, or answered from their
//! cache), and JWT authorizers. Each refusal is API Gateway's own answer.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::authorizer::{self, Decision, Grant};
use crate::events::{self, RequestFacts, RestRoute};
use crate::execute::{answers, HttpTarget, RestTarget};
use crate::{DataPlane, FunctionReply, GatewayResponse};
use apigateway::rest::{Authorizer, AuthorizerType};
use apigateway::routing;
use apigateway::v2::HttpAuthorizer;

/// Why an authorizer let nothing through.
pub(crate) enum Refused {
    /// It said `Unauthorized`, or there was no identity: 401.
    Unauthorized,
    /// It failed or answered nonsense: API Gateway's 500.
    Failed,
}

/// One run of a Lambda authorizer: what to invoke, with what, and how its answer is
/// cached.
pub(crate) struct Run<'a> {
    pub authorizer_id: &'a str,
    /// What the authorizer invokes its function as (see [`authorizer::authorizer_arn`]).
    pub source_arn: String,
    pub uri: &'a str,
    pub identity: &'a [String],
    pub ttl_seconds: i64,
    pub simple: bool,
}

impl DataPlane {
    /// Takes a token from the account's bucket, then from `bucket` with these limits, if any.
    fn admit(&self, account: &str, region: &str, bucket: Option<(String, f64, f64)>) -> bool {
        let now = Instant::now();
        let key = format!("account:{account}:{region}");
        if !self.inner.control.throttle_allows(
            &key,
            routing::ACCOUNT_RATE_LIMIT,
            routing::ACCOUNT_BURST_LIMIT as f64,
            now,
        ) {
            return false;
        }
        bucket.is_none_or(|(key, rate, burst)| self.inner.control.throttle_allows(&key, rate, burst, now))
    }

    /// The account's and the stage's (or method's) throttles for a REST request.
    pub(crate) fn admit_rest(&self, t: &RestTarget, resource_path: &str, method: &str) -> bool {
        let exact = format!("{}/{method}", resource_path.replace('/', "~1"));
        let setting = match t.method_settings.get(&exact) {
            Some(s) => Some((exact, s)),
            None => t.method_settings.get("*/*").map(|s| ("*/*".to_owned(), s)),
        };
        let bucket = setting.map(|(key, s)| {
            (format!("stage:{}:{}:{key}", t.api_id, t.stage), s.throttling_rate_limit, s.throttling_burst_limit as f64)
        });
        self.admit(&t.account, &t.region, bucket)
    }

    /// The account's and the route's throttles for an HTTP API request.
    pub(crate) fn admit_http(&self, t: &HttpTarget, route_key: &str) -> bool {
        let own = t.route_settings.get(route_key);
        let rate = own.and_then(|s| s.throttling_rate_limit).or(t.default_route_settings.throttling_rate_limit);
        let burst = own.and_then(|s| s.throttling_burst_limit).or(t.default_route_settings.throttling_burst_limit);
        let bucket = (rate.is_some() || burst.is_some()).then(|| {
            (
                format!("route:{}:{}:{route_key}", t.api_id, t.stage),
                rate.unwrap_or(routing::ACCOUNT_RATE_LIMIT),
                burst.map_or(routing::ACCOUNT_BURST_LIMIT as f64, |b| b as f64),
            )
        });
        self.admit(&t.account, &t.region, bucket)
    }

    /// Runs a Lambda authorizer with the event `event()` builds, or takes the answer it
    /// gave this identity within its TTL.
    pub(crate) async fn run_authorizer(
        &self,
        run: Run<'_>,
        facts: &RequestFacts<'_>,
        event: impl FnOnce() -> Value,
    ) -> Result<Arc<Grant>, Refused> {
        let cache_key = format!("{}:{}:{}", run.authorizer_id, facts.api_id, run.identity.join("\u{1f}"));
        let now = Instant::now();
        if run.ttl_seconds > 0 {
            if let Some(g) = self.inner.grants.get(&cache_key, now) {
                return Ok(g);
            }
        }
        let uri = routing::with_stage_variables(run.uri, facts.stage_variables);
        let function = routing::lambda_function_of(&uri).ok_or(Refused::Failed)?;
        let reply = self.inner.functions.invoke(&function, event().to_string().into(), &run.source_arn);
        let grant = match tokio::time::timeout(Duration::from_secs(30), reply).await {
            Ok(FunctionReply::Returned(p)) => Grant::parse(&p, run.simple).ok_or(Refused::Failed)?,
            Ok(FunctionReply::Failed(p)) => {
                let message = serde_json::from_slice::<Value>(&p).ok().and_then(|v| v.get("errorMessage").cloned());
                return Err(if message.as_ref().and_then(Value::as_str) == Some("Unauthorized") {
                    Refused::Unauthorized
                } else {
                    Refused::Failed
                });
            }
            Ok(FunctionReply::Unavailable(why)) => {
                tracing::warn!(function, "authorizer failed: {why}");
                return Err(Refused::Failed);
            }
            Err(_) => return Err(Refused::Failed),
        };
        let grant = Arc::new(grant);
        if run.ttl_seconds > 0 {
            self.inner.grants.put(cache_key, grant.clone(), Duration::from_secs(run.ttl_seconds as u64), now);
        }
        Ok(grant)
    }

    /// A REST method's Lambda authorizer, and its decision for the method ARN.
    pub(crate) async fn authorize_rest(
        &self,
        a: &Authorizer,
        facts: &RequestFacts<'_>,
        resource_path: &str,
        arn: &str,
    ) -> Result<Arc<Grant>, GatewayResponse> {
        let source = a.identity_source.as_deref().unwrap_or("");
        let identity = if source.trim().is_empty() && a.kind == AuthorizerType::Request && a.ttl_seconds == 0 {
            Vec::new()
        } else {
            authorizer::rest_identity(source, facts).ok_or_else(answers::unauthorized)?
        };
        if a.kind == AuthorizerType::Token {
            if let Some(p) = a.identity_validation_expression.as_deref().and_then(|e| routing::Pattern::new(e).ok()) {
                if !identity.first().is_some_and(|t| p.matches(t)) {
                    return Err(answers::unauthorized());
                }
            }
        }
        let run = Run {
            authorizer_id: &a.id,
            source_arn: authorizer::authorizer_arn(arn, &a.id),
            uri: a.uri.as_deref().unwrap_or(""),
            identity: &identity,
            ttl_seconds: a.ttl_seconds,
            simple: false,
        };
        let event = || {
            if a.kind == AuthorizerType::Token {
                return serde_json::json!({
                    "type": "TOKEN",
                    "authorizationToken": identity.first().cloned().unwrap_or_default(),
                    "methodArn": arn,
                });
            }
            let route = RestRoute { resource_path, ..Default::default() };
            let mut e = events::rest_event(facts, &route, &[]);
            if let Some(o) = e.as_object_mut() {
                o.remove("body");
                o.remove("isBase64Encoded");
                o.insert("type".into(), "REQUEST".into());
                o.insert("methodArn".into(), arn.into());
            }
            e
        };
        let grant = match self.run_authorizer(run, facts, event).await {
            Ok(g) => g,
            Err(Refused::Unauthorized) => return Err(answers::unauthorized()),
            Err(Refused::Failed) => return Err(answers::authorizer_failed()),
        };
        match grant.decide(arn) {
            Decision::Allow => Ok(grant),
            Decision::Deny => Err(answers::denied(true)),
            Decision::NoMatch => Err(answers::denied(false)),
        }
    }

    /// A JWT authorizer's check; the `authorizer` member of the event on success.
    pub(crate) async fn authorize_jwt(
        &self,
        a: &HttpAuthorizer,
        scopes: &[String],
        facts: &RequestFacts<'_>,
    ) -> Result<Value, GatewayResponse> {
        let token = authorizer::http_identity(&a.identity_source, facts)
            .and_then(|v| v.into_iter().next())
            .ok_or_else(answers::http_unauthorized)?;
        let issuer = a.jwt_issuer.as_deref().unwrap_or("");
        match self.inner.jwks.verify(&self.inner.http, &token, issuer, &a.jwt_audience, scopes).await {
            Ok(v) => Ok(serde_json::json!({ "jwt": { "claims": v.claims, "scopes": v.scopes } })),
            Err(crate::jwt::JwtRefusal::Unauthorized) => Err(answers::http_unauthorized()),
            Err(crate::jwt::JwtRefusal::Forbidden) => Err(answers::http_forbidden()),
        }
    }

    /// A Lambda `REQUEST` authorizer of an HTTP API; the `authorizer` member of the event.
    pub(crate) async fn authorize_http(
        &self,
        a: &HttpAuthorizer,
        route_key: &str,
        arn: &str,
        facts: &RequestFacts<'_>,
    ) -> Result<Value, GatewayResponse> {
        let identity = if a.identity_source.is_empty() {
            Vec::new()
        } else {
            authorizer::http_identity(&a.identity_source, facts).ok_or_else(answers::http_unauthorized)?
        };
        let v2 = a.payload_format_version.as_deref() == Some("2.0");
        let run = Run {
            authorizer_id: &a.id,
            source_arn: authorizer::authorizer_arn(arn, &a.id),
            uri: a.uri.as_deref().unwrap_or(""),
            identity: &identity,
            ttl_seconds: a.ttl_seconds,
            simple: a.simple_responses,
        };
        let event = || {
            let mut event = if v2 {
                events::http_event_v2(facts, route_key, &[], None)
            } else {
                let path = route_key.split_once(' ').map_or(facts.path, |(_, p)| p);
                events::rest_event(facts, &RestRoute { resource_path: path, ..Default::default() }, &[])
            };
            if let Some(o) = event.as_object_mut() {
                o.remove("body");
                o.remove("isBase64Encoded");
                o.insert("type".into(), "REQUEST".into());
                if v2 {
                    o.insert("routeArn".into(), arn.into());
                    o.insert("identitySource".into(), identity.clone().into());
                } else {
                    o.insert("methodArn".into(), arn.into());
                    o.insert("identitySource".into(), identity.join(",").into());
                }
            }
            event
        };
        let grant = match self.run_authorizer(run, facts, event).await {
            Ok(g) => g,
            Err(Refused::Unauthorized) => return Err(answers::http_unauthorized()),
            Err(Refused::Failed) => return Err(answers::http_internal()),
        };
        if grant.decide(arn) != Decision::Allow {
            return Err(answers::http_forbidden());
        }
        let mut context = grant.context.clone();
        Ok(if v2 {
            if let Some(p) = &grant.principal_id {
                context.entry("principalId").or_insert_with(|| Value::String(p.clone()));
            }
            serde_json::json!({ "lambda": context })
        } else {
            context.insert("principalId".into(), grant.principal_id.clone().map_or(Value::Null, Value::String));
            context.insert("integrationLatency".into(), Value::from(0));
            Value::Object(context)
        })
    }
}
