//! CORS: a preflight (`OPTIONS`) answered by the bucket's first rule that allows the
//! origin, the method and every requested header, and the same headers on an actual
//! request from an allowed origin. Anyone may preflight; the bucket's rules decide.

use serde_json::Value;

use crate::settings::Setting;
use crate::{S3Error, S3Service};

/// `Vary`, on every answer a rule shaped.
const VARY: &str = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method";

/// A request's CORS side.
#[derive(Debug, Clone, Copy)]
pub struct CorsRequest<'a> {
    /// `Origin`.
    pub origin: &'a str,
    /// The method: a preflight's `Access-Control-Request-Method`, else the request's own.
    pub method: &'a str,
    /// A preflight's `Access-Control-Request-Headers`, as listed.
    pub headers: &'a [String],
}

/// A pattern with at most one `*`, as S3's rules have.
fn wildcard(pattern: &str, text: &str, fold: bool) -> bool {
    let (p, t) =
        if fold { (pattern.to_ascii_lowercase(), text.to_ascii_lowercase()) } else { (pattern.into(), text.into()) };
    match p.split_once('*') {
        None => p == t,
        Some((head, tail)) => t.len() >= head.len() + tail.len() && t.starts_with(head) && t.ends_with(tail),
    }
}

fn strings(rule: &Value, member: &str) -> Vec<String> {
    let list = rule.get(member).and_then(Value::as_array);
    list.into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect()
}

/// The headers a matching rule answers with (`preflight`: with `Allow-Headers`).
fn answer(rule: &Value, req: &CorsRequest<'_>, preflight: bool) -> Vec<(&'static str, String)> {
    let any_origin = strings(rule, "AllowedOrigins").iter().any(|o| o == "*");
    let mut out = vec![
        ("access-control-allow-origin", if any_origin { "*".to_owned() } else { req.origin.to_owned() }),
        ("access-control-allow-methods", strings(rule, "AllowedMethods").join(", ")),
    ];
    if preflight && !req.headers.is_empty() {
        out.push(("access-control-allow-headers", req.headers.join(", ")));
    }
    let expose = strings(rule, "ExposeHeaders");
    if !expose.is_empty() {
        out.push(("access-control-expose-headers", expose.join(", ")));
    }
    if let Some(age) = rule.get("MaxAgeSeconds").and_then(Value::as_i64) {
        out.push(("access-control-max-age", age.to_string()));
    }
    if !any_origin {
        out.push(("access-control-allow-credentials", "true".into()));
    }
    out.push(("vary", VARY.into()));
    out
}

/// The first rule that allows the request.
fn matching<'r>(rules: &'r [Value], req: &CorsRequest<'_>) -> Option<&'r Value> {
    rules.iter().find(|rule| {
        strings(rule, "AllowedOrigins").iter().any(|o| wildcard(o, req.origin, false))
            && strings(rule, "AllowedMethods").iter().any(|m| m == req.method)
            && req.headers.iter().all(|h| strings(rule, "AllowedHeaders").iter().any(|a| wildcard(a, h, true)))
    })
}

fn forbidden(message: &str, method: &str, object: bool) -> S3Error {
    S3Error::new("AccessForbidden", 403, format!("CORSResponse: {message}"))
        .with("Method", method)
        .with("ResourceType", if object { "OBJECT" } else { "BUCKET" })
}

impl S3Service {
    /// The bucket's CORS rules, if it exists and has some.
    fn cors_rules(&self, bucket: &str) -> Result<Option<Vec<Value>>, S3Error> {
        let Some(b) = self.inner.store.bucket(bucket)? else { return Ok(None) };
        let doc = crate::versioning::doc_of(&b)?;
        let rules =
            S3Service::stored_setting(&doc, Setting::Cors).and_then(|c| c.get("CORSRules")?.as_array().cloned());
        Ok(Some(rules.unwrap_or_default()))
    }

    /// A preflight of a request to `bucket` (`object`: to a key of it): the headers to
    /// answer with, or S3's `AccessForbidden` (no such bucket, no CORS, no rule allows it).
    pub fn preflight(
        &self,
        bucket: &str,
        object: bool,
        origin: Option<&str>,
        method: Option<&str>,
        headers: &[String],
    ) -> Result<Vec<(&'static str, String)>, S3Error> {
        let Some(origin) = origin else {
            return Err(S3Error::new("BadRequest", 400, "Insufficient information. Origin request header needed."));
        };
        let shown = method.unwrap_or("OPTIONS");
        let Some(rules) = self.cors_rules(bucket)? else {
            return Err(forbidden("Bucket not found", "OPTIONS", false));
        };
        if rules.is_empty() {
            return Err(forbidden("CORS is not enabled for this bucket.", shown, false));
        }
        let refused = || {
            forbidden(
                "This CORS request is not allowed. This is usually because the evalution of Origin, request method / \
                 Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's \
                 CORS spec.",
                shown,
                object,
            )
        };
        let method = method.ok_or_else(refused)?;
        let req = CorsRequest { origin, method, headers };
        matching(&rules, &req).map(|rule| answer(rule, &req, true)).ok_or_else(refused)
    }

    /// The CORS headers an actual request from `origin` gets: none unless a rule allows it.
    pub fn cors_headers(&self, bucket: &str, origin: &str, method: &str) -> Vec<(&'static str, String)> {
        let rules = self.cors_rules(bucket).ok().flatten().unwrap_or_default();
        let req = CorsRequest { origin, method, headers: &[] };
        matching(&rules, &req).map(|rule| answer(rule, &req, false)).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_first_rule_allowing_origin_method_and_headers_answers() {
        let rules = vec![
            json!({ "AllowedOrigins": ["http://*.origin.com"], "AllowedMethods": ["GET", "PUT"], "MaxAgeSeconds": 3000,
                    "AllowedHeaders": ["x-amz-*"] }),
            json!({ "AllowedOrigins": ["*"], "AllowedMethods": ["GET"], "ExposeHeaders": ["x-amz-request-id"] }),
        ];
        let headers = vec!["x-AMZ-meta-a".to_owned()];
        let req = CorsRequest { origin: "http://test.origin.com", method: "PUT", headers: &headers };
        let got = answer(matching(&rules, &req).unwrap(), &req, true);
        assert_eq!(got[0], ("access-control-allow-origin", "http://test.origin.com".into()));
        assert_eq!(got[1], ("access-control-allow-methods", "GET, PUT".into()));
        assert!(got.contains(&("access-control-allow-credentials", "true".into())));
        assert!(got.contains(&("access-control-max-age", "3000".into())));
        let other = CorsRequest { origin: "http://else.com", method: "GET", headers: &[] };
        let got = answer(matching(&rules, &other).unwrap(), &other, false);
        assert_eq!(got[0], ("access-control-allow-origin", "*".into()));
        assert!(!got.iter().any(|(h, _)| *h == "access-control-allow-credentials"));
        assert!(matching(&rules, &CorsRequest { origin: "http://else.com", method: "PUT", headers: &[] }).is_none());
        assert!(matching(&rules, &CorsRequest { origin: "http://origin.com", method: "PUT", headers: &[] }).is_none());
    }
}
