//! JWT authorizers of HTTP APIs: tokens are verified against the issuer's signing keys,
//! found through its OpenID discovery document (`{issuer}/.well-known/openid-configuration`
//! → `jwks_uri`) and cached; the issuer, audience, expiry and the route's scopes are checked
//! as API Gateway checks them.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use http_body_util::BodyExt;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, Validation};
use serde_json::{Map, Value};

use crate::execute::HttpClient;

/// Why a token is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwtRefusal {
    /// 401: no token, a bad signature, the wrong issuer or audience, expired.
    Unauthorized,
    /// 403: a valid token without any of the route's scopes.
    Forbidden,
}

/// A verified token: its claims (as the event shows them) and scopes.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The claims, values as strings.
    pub claims: Map<String, Value>,
    /// The `scope` (or `scp`) claim's scopes, if any.
    pub scopes: Option<Vec<String>>,
}

/// Signing keys by issuer, with when they were fetched.
#[derive(Default)]
pub struct Jwks {
    keys: tokio::sync::Mutex<HashMap<String, (Instant, JwkSet)>>,
}

impl std::fmt::Debug for Jwks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jwks").finish_non_exhaustive()
    }
}

/// Keys are fetched again after this long, or sooner for an unknown key id.
const KEYS_TTL: Duration = Duration::from_secs(3600);
/// An unknown key id fetches again at most this often.
const REFETCH_AFTER: Duration = Duration::from_secs(10);

async fn get_json(client: &HttpClient, url: &str) -> Option<Value> {
    let uri: hyper::Uri = url.parse().ok()?;
    let req = hyper::Request::get(uri).body(http_body_util::Full::new(bytes::Bytes::new())).ok()?;
    let resp = tokio::time::timeout(Duration::from_secs(5), client.request(req)).await.ok()?.ok()?;
    if !resp.status().is_success() {
        return None;
    }
    let body = http_body_util::Limited::new(resp.into_body(), 1 << 20).collect().await.ok()?.to_bytes();
    serde_json::from_slice(&body).ok()
}

async fn fetch_keys(client: &HttpClient, issuer: &str) -> Option<JwkSet> {
    let discovery = format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'));
    let config = get_json(client, &discovery).await?;
    let jwks_uri = config.get("jwks_uri")?.as_str()?.to_owned();
    serde_json::from_value(get_json(client, &jwks_uri).await?).ok()
}

fn stringify(v: &Value) -> Value {
    match v {
        Value::String(_) => v.clone(),
        Value::Array(a) => {
            let items: Vec<String> =
                a.iter().map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned)).collect();
            Value::String(format!("[{}]", items.join(" ")))
        }
        other => Value::String(other.to_string()),
    }
}

impl Jwks {
    async fn key_set(&self, client: &HttpClient, issuer: &str, kid: Option<&str>) -> Option<JwkSet> {
        let mut keys = self.keys.lock().await;
        let stale = match keys.get(issuer) {
            None => true,
            Some((at, set)) => {
                at.elapsed() > KEYS_TTL || (kid.is_some_and(|k| set.find(k).is_none()) && at.elapsed() > REFETCH_AFTER)
            }
        };
        if stale {
            if let Some(set) = fetch_keys(client, issuer).await {
                keys.insert(issuer.to_owned(), (Instant::now(), set));
            }
        }
        keys.get(issuer).map(|(_, s)| s.clone())
    }

    /// Verifies `token` (with or without a `Bearer ` prefix).
    pub async fn verify(
        &self,
        client: &HttpClient,
        token: &str,
        issuer: &str,
        audiences: &[String],
        required_scopes: &[String],
    ) -> Result<Verified, JwtRefusal> {
        let token = token.strip_prefix("Bearer ").or_else(|| token.strip_prefix("bearer ")).unwrap_or(token).trim();
        let header = jsonwebtoken::decode_header(token).map_err(|_| JwtRefusal::Unauthorized)?;
        let set = self.key_set(client, issuer, header.kid.as_deref()).await.ok_or(JwtRefusal::Unauthorized)?;
        let jwk = match header.kid.as_deref() {
            Some(kid) => set.find(kid),
            None => set.keys.first(),
        }
        .ok_or(JwtRefusal::Unauthorized)?;
        let key = DecodingKey::from_jwk(jwk).map_err(|_| JwtRefusal::Unauthorized)?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[issuer]);
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["exp", "iss"]);
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation)
            .map_err(|_| JwtRefusal::Unauthorized)?;
        let claims = data.claims;
        if !audiences.is_empty() {
            let aud: Vec<&str> = match claims.get("aud") {
                Some(Value::String(s)) => vec![s.as_str()],
                Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
                _ => claims.get("client_id").and_then(Value::as_str).into_iter().collect(),
            };
            if !aud.iter().any(|a| audiences.iter().any(|x| x == a)) {
                return Err(JwtRefusal::Unauthorized);
            }
        }
        let scopes: Option<Vec<String>> = match claims.get("scope").or_else(|| claims.get("scp")) {
            Some(Value::String(s)) => Some(s.split_whitespace().map(str::to_owned).collect()),
            Some(Value::Array(a)) => Some(a.iter().filter_map(Value::as_str).map(str::to_owned).collect()),
            _ => None,
        };
        if !required_scopes.is_empty()
            && !scopes.as_ref().is_some_and(|s| s.iter().any(|x| required_scopes.contains(x)))
        {
            return Err(JwtRefusal::Forbidden);
        }
        let claims = claims.iter().map(|(k, v)| (k.clone(), stringify(v))).collect();
        Ok(Verified { claims, scopes })
    }
}
