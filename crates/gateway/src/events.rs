//! Pure event building and response parsing: the events API Gateway sends to a function
//! (the REST proxy event, and the HTTP API payload formats 1.0 and 2.0), and the proxy
//! responses it accepts back, validated as API Gateway validates them. No I/O here.

use std::collections::BTreeMap;

use base64::Engine;
use serde_json::{json, Map, Value};

/// What an event is built from: the request as received and where it was routed.
#[derive(Debug, Clone)]
pub struct RequestFacts<'a> {
    /// The method.
    pub method: &'a str,
    /// The path within the stage (`/items/1`), as sent.
    pub path: &'a str,
    /// The path as requested, with the stage (`/prod/items/1`).
    pub full_path: &'a str,
    /// The raw query string, without `?`.
    pub query: Option<&'a str>,
    /// The headers in the order received, names lower case.
    pub headers: &'a [(String, String)],
    /// The body.
    pub body: &'a [u8],
    /// The client's address.
    pub source_ip: &'a str,
    /// The host the request was sent to.
    pub domain_name: &'a str,
    /// The API's id.
    pub api_id: &'a str,
    /// The API's account.
    pub account: &'a str,
    /// The stage.
    pub stage: &'a str,
    /// The request's id.
    pub request_id: &'a str,
    /// When it arrived, ms since the epoch.
    pub time_ms: i64,
    /// The stage's variables.
    pub stage_variables: &'a BTreeMap<String, String>,
    /// The matched path parameters.
    pub path_parameters: &'a BTreeMap<String, String>,
    /// The protocol, `HTTP/1.1`.
    pub protocol: &'a str,
}

impl RequestFacts<'_> {
    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn user_agent(&self) -> Value {
        self.header("user-agent").map_or(Value::Null, |v| Value::String(v.to_owned()))
    }

    fn query_pairs(&self) -> Vec<(String, String)> {
        self.query.map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default()
    }

    fn domain_prefix(&self) -> &str {
        self.domain_name.split(['.', ':']).next().unwrap_or("")
    }
}

/// `09/Apr/2015:12:34:56 +0000`, API Gateway's request time format.
pub fn request_time(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000)).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let f = time::macros::format_description!("[day]/[month repr:short]/[year]:[hour]:[minute]:[second] +0000");
    t.format(&f).unwrap_or_default()
}

/// A header name as REST APIs show it, in the capitalised form clients send
/// (`content-type` → `Content-Type`). HTTP/1 servers here see names lower case; REST
/// events keep a client's capitalisation, and nearly every client sends this form.
pub fn title_case(name: &str) -> String {
    // The names whose usual form is not plain title case.
    if let Some(rest) = name.strip_prefix("sec-websocket-") {
        return format!("Sec-WebSocket-{}", title_case(rest));
    }
    match name {
        "www-authenticate" => return "WWW-Authenticate".into(),
        "content-md5" => return "Content-MD5".into(),
        "dnt" => return "DNT".into(),
        "te" => return "TE".into(),
        _ => {}
    }
    let mut out = String::with_capacity(name.len());
    let mut upper = true;
    for c in name.chars() {
        out.push(if upper { c.to_ascii_uppercase() } else { c });
        upper = c == '-';
    }
    out
}

/// Whether a media type matches one of an API's binary media types (`image/png`,
/// `image/*`, `*/*`).
pub fn is_binary_type(content_type: Option<&str>, binary_media_types: &[String]) -> bool {
    let Some(ct) = content_type else { return false };
    let ct = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    binary_media_types.iter().any(|m| {
        let m = m.to_ascii_lowercase();
        m == "*/*" || m == ct || m.strip_suffix("/*").is_some_and(|major| ct.split('/').next() == Some(major))
    })
}

/// Whether an HTTP API sends a body of this type as text (else base64).
pub fn is_text_type(content_type: Option<&str>) -> bool {
    let Some(ct) = content_type else { return false };
    let ct = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    ct.starts_with("text/") || ct.contains("json") || ct.contains("xml") || ct.contains("javascript")
}

fn identity(r: &RequestFacts<'_>, api_key: Option<(&str, &str)>) -> Value {
    let mut id = json!({
        "accessKey": null,
        "accountId": null,
        "caller": null,
        "cognitoAuthenticationProvider": null,
        "cognitoAuthenticationType": null,
        "cognitoIdentityId": null,
        "cognitoIdentityPoolId": null,
        "principalOrgId": null,
        "sourceIp": r.source_ip,
        "user": null,
        "userAgent": r.user_agent(),
        "userArn": null,
    });
    if let Some((key, key_id)) = api_key {
        id["apiKey"] = json!(key);
        id["apiKeyId"] = json!(key_id);
    }
    id
}

fn string_map(m: &BTreeMap<String, String>) -> Value {
    if m.is_empty() {
        Value::Null
    } else {
        Value::Object(m.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect())
    }
}

/// The v1 shape's `headers`/`multiValueHeaders` and query maps (null when empty).
fn v1_maps(r: &RequestFacts<'_>, extra_headers: &[(String, String)], title: bool) -> [Value; 4] {
    let mut single = Map::new();
    let mut multi: Map<String, Value> = Map::new();
    for (k, v) in r.headers.iter().chain(extra_headers) {
        let k = if title { title_case(k) } else { k.clone() };
        single.insert(k.clone(), Value::String(v.clone()));
        match multi.get_mut(&k) {
            Some(Value::Array(a)) => a.push(Value::String(v.clone())),
            _ => {
                multi.insert(k, json!([v]));
            }
        }
    }
    let mut qs = Map::new();
    let mut mqs: Map<String, Value> = Map::new();
    for (k, v) in r.query_pairs() {
        qs.insert(k.clone(), Value::String(v.clone()));
        match mqs.get_mut(&k) {
            Some(Value::Array(a)) => a.push(Value::String(v)),
            _ => {
                mqs.insert(k, json!([v]));
            }
        }
    }
    let or_null = |m: Map<String, Value>| if m.is_empty() { Value::Null } else { Value::Object(m) };
    [or_null(single), or_null(multi), or_null(qs), or_null(mqs)]
}

fn body_field(body: &[u8], base64: bool) -> Value {
    if body.is_empty() {
        Value::Null
    } else if base64 {
        Value::String(base64::engine::general_purpose::STANDARD.encode(body))
    } else {
        Value::String(String::from_utf8_lossy(body).into_owned())
    }
}

/// Where a REST proxy event was routed: the resource and the caller's API key.
#[derive(Debug, Clone, Default)]
pub struct RestRoute<'a> {
    /// The resource's path template (`/items/{id}`).
    pub resource_path: &'a str,
    /// The resource's id.
    pub resource_id: &'a str,
    /// Whether the body is binary (its type is one of the API's binary media types).
    pub binary: bool,
    /// The API key and its id, when the method required one.
    pub api_key: Option<(&'a str, &'a str)>,
    /// The authorizer's context, when a Lambda authorizer ran.
    pub authorizer: Option<Value>,
}

/// The REST API's Lambda proxy event.
pub fn rest_event(r: &RequestFacts<'_>, route: &RestRoute<'_>, extra_headers: &[(String, String)]) -> Value {
    let [headers, multi_headers, qs, mqs] = v1_maps(r, extra_headers, true);
    let mut context = json!({
        "accountId": r.account,
        "apiId": r.api_id,
        "domainName": r.domain_name,
        "domainPrefix": r.domain_prefix(),
        "extendedRequestId": r.request_id,
        "httpMethod": r.method,
        "identity": identity(r, route.api_key),
        "path": r.full_path,
        "protocol": r.protocol,
        "requestId": r.request_id,
        "requestTime": request_time(r.time_ms),
        "requestTimeEpoch": r.time_ms,
        "resourceId": route.resource_id,
        "resourcePath": route.resource_path,
        "stage": r.stage,
    });
    if let Some(a) = &route.authorizer {
        context["authorizer"] = a.clone();
    }
    json!({
        "resource": route.resource_path,
        "path": r.path,
        "httpMethod": r.method,
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": qs,
        "multiValueQueryStringParameters": mqs,
        "pathParameters": string_map(r.path_parameters),
        "stageVariables": string_map(r.stage_variables),
        "requestContext": context,
        "body": body_field(r.body, route.binary),
        "isBase64Encoded": route.binary && !r.body.is_empty(),
    })
}

/// An HTTP API's payload format 1.0 event for `route_key`.
pub fn http_event_v1(
    r: &RequestFacts<'_>,
    route_key: &str,
    route_path: &str,
    extra_headers: &[(String, String)],
) -> Value {
    let [headers, multi_headers, qs, mqs] = v1_maps(r, extra_headers, false);
    let binary = !is_text_type(r.header("content-type")) && !r.body.is_empty();
    json!({
        "version": "1.0",
        "resource": route_path,
        "path": r.full_path,
        "httpMethod": r.method,
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": qs,
        "multiValueQueryStringParameters": mqs,
        "requestContext": {
            "accountId": r.account,
            "apiId": r.api_id,
            "authorizer": {"claims": null, "scopes": null},
            "domainName": r.domain_name,
            "domainPrefix": r.domain_prefix(),
            "extendedRequestId": r.request_id,
            "httpMethod": r.method,
            "identity": identity(r, None),
            "path": r.full_path,
            "protocol": r.protocol,
            "requestId": r.request_id,
            "requestTime": request_time(r.time_ms),
            "requestTimeEpoch": r.time_ms,
            "resourceId": route_key,
            "resourcePath": route_path,
            "stage": r.stage,
        },
        "pathParameters": string_map(r.path_parameters),
        "stageVariables": string_map(r.stage_variables),
        "body": body_field(r.body, binary),
        "isBase64Encoded": binary,
    })
}

/// An HTTP API's payload format 2.0 event for `route_key`. Optional members are left
/// out when empty, as API Gateway does.
pub fn http_event_v2(
    r: &RequestFacts<'_>,
    route_key: &str,
    extra_headers: &[(String, String)],
    authorizer: Option<Value>,
) -> Value {
    let mut headers: Map<String, Value> = Map::new();
    let mut cookies: Vec<Value> = Vec::new();
    for (k, v) in r.headers.iter().chain(extra_headers) {
        let k = k.to_ascii_lowercase();
        if k == "cookie" {
            cookies.extend(v.split(';').map(str::trim).filter(|c| !c.is_empty()).map(|c| Value::String(c.to_owned())));
            continue;
        }
        match headers.get_mut(&k) {
            Some(Value::String(s)) => {
                s.push(',');
                s.push_str(v);
            }
            _ => {
                headers.insert(k, Value::String(v.clone()));
            }
        }
    }
    let mut qs: Map<String, Value> = Map::new();
    for (k, v) in r.query_pairs() {
        match qs.get_mut(&k) {
            Some(Value::String(s)) => {
                s.push(',');
                s.push_str(&v);
            }
            _ => {
                qs.insert(k, Value::String(v));
            }
        }
    }
    let binary = !is_text_type(r.header("content-type"));
    let mut context = json!({
        "accountId": r.account,
        "apiId": r.api_id,
        "domainName": r.domain_name,
        "domainPrefix": r.domain_prefix(),
        "http": {
            "method": r.method,
            "path": r.full_path,
            "protocol": r.protocol,
            "sourceIp": r.source_ip,
            "userAgent": r.header("user-agent").unwrap_or(""),
        },
        "requestId": r.request_id,
        "routeKey": route_key,
        "stage": r.stage,
        "time": request_time(r.time_ms),
        "timeEpoch": r.time_ms,
    });
    if let Some(a) = authorizer {
        context["authorizer"] = a;
    }
    let mut event = json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": r.full_path,
        "rawQueryString": r.query.unwrap_or(""),
        "headers": headers,
        "requestContext": context,
        "isBase64Encoded": binary && !r.body.is_empty(),
    });
    let e = event.as_object_mut().expect("an object");
    if !cookies.is_empty() {
        e.insert("cookies".into(), Value::Array(cookies));
    }
    if !qs.is_empty() {
        e.insert("queryStringParameters".into(), Value::Object(qs));
    }
    if !r.path_parameters.is_empty() {
        e.insert("pathParameters".into(), string_map(r.path_parameters));
    }
    if !r.stage_variables.is_empty() {
        e.insert("stageVariables".into(), string_map(r.stage_variables));
    }
    if !r.body.is_empty() {
        e.insert("body".into(), body_field(r.body, binary));
    }
    event
}

/// What a WebSocket event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WsEventType {
    /// `$connect`.
    Connect,
    /// A message.
    Message,
    /// `$disconnect`.
    Disconnect,
}

/// A WebSocket connection as its events describe it.
#[derive(Debug, Clone)]
pub struct WsFacts<'a> {
    /// `connectionId`.
    pub connection_id: &'a str,
    /// `connectedAt`, ms.
    pub connected_at_ms: i64,
    /// `domainName`: the host the client connected to.
    pub domain_name: &'a str,
    /// `apiId`.
    pub api_id: &'a str,
    /// `stage`.
    pub stage: &'a str,
    /// The client's address.
    pub source_ip: &'a str,
    /// Its `User-Agent`.
    pub user_agent: Option<&'a str>,
    /// The handshake's headers (for `$connect`), names lower case.
    pub headers: &'a [(String, String)],
    /// The handshake's query string (for `$connect`).
    pub query: Option<&'a str>,
    /// The stage's variables.
    pub stage_variables: &'a BTreeMap<String, String>,
}

/// A WebSocket API's event: `$connect` (with the handshake's headers and query string),
/// a message (with its body), or `$disconnect` (with the close status and reason).
#[allow(clippy::too_many_arguments)]
pub fn websocket_event(
    c: &WsFacts<'_>,
    kind: WsEventType,
    route_key: &str,
    request_id: &str,
    now_ms: i64,
    body: Option<(&[u8], bool)>,
    message_id: Option<&str>,
    disconnect: Option<(u16, &str)>,
) -> Value {
    let mut context = json!({
        "routeKey": route_key,
        "eventType": match kind {
            WsEventType::Connect => "CONNECT",
            WsEventType::Message => "MESSAGE",
            WsEventType::Disconnect => "DISCONNECT",
        },
        "extendedRequestId": request_id,
        "requestTime": request_time(now_ms),
        "messageDirection": "IN",
        "stage": c.stage,
        "connectedAt": c.connected_at_ms,
        "requestTimeEpoch": now_ms,
        "identity": { "sourceIp": c.source_ip, "userAgent": c.user_agent },
        "requestId": request_id,
        "domainName": c.domain_name,
        "connectionId": c.connection_id,
        "apiId": c.api_id,
    });
    if let Some(id) = message_id {
        context["messageId"] = json!(id);
    }
    if let Some((code, reason)) = disconnect {
        context["disconnectStatusCode"] = json!(code);
        context["disconnectReason"] = json!(reason);
    }
    let mut event = json!({ "requestContext": context, "isBase64Encoded": false });
    if kind == WsEventType::Disconnect {
        // Not the handshake's headers: the few API Gateway sends every `$disconnect`.
        let headers = json!({
            "Host": c.domain_name,
            "x-api-key": "",
            "X-Forwarded-For": c.source_ip,
            "x-restapi": "",
        });
        let multi: serde_json::Map<String, Value> =
            headers.as_object().into_iter().flatten().map(|(k, v)| (k.clone(), json!([v]))).collect();
        event["headers"] = headers;
        event["multiValueHeaders"] = Value::Object(multi);
    }
    if kind == WsEventType::Connect {
        let facts = RequestFacts {
            method: "GET",
            path: "/",
            full_path: "/",
            query: c.query,
            headers: c.headers,
            body: b"",
            source_ip: c.source_ip,
            domain_name: c.domain_name,
            api_id: c.api_id,
            account: "",
            stage: c.stage,
            request_id,
            time_ms: now_ms,
            stage_variables: c.stage_variables,
            path_parameters: &BTreeMap::new(),
            protocol: "HTTP/1.1",
        };
        let [headers, multi_headers, qs, mqs] = v1_maps(&facts, &[], true);
        event["headers"] = headers;
        event["multiValueHeaders"] = multi_headers;
        event["queryStringParameters"] = qs;
        event["multiValueQueryStringParameters"] = mqs;
    }
    if !c.stage_variables.is_empty() {
        event["stageVariables"] = string_map(c.stage_variables);
    }
    if let Some((data, binary)) = body {
        event["body"] = body_field(data, binary);
        event["isBase64Encoded"] = json!(binary);
    }
    event
}

/// A function's proxy response, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyResponse {
    /// The status.
    pub status: u16,
    /// Headers, in order; a name may repeat.
    pub headers: Vec<(String, String)>,
    /// The body as the function gave it.
    pub body: String,
    /// Whether `body` is base64.
    pub base64: bool,
}

impl ProxyResponse {
    /// The body's bytes: decoded from base64 when `decode` and it is base64.
    pub fn body_bytes(&self, decode: bool) -> Option<Vec<u8>> {
        if self.base64 && decode {
            base64::engine::general_purpose::STANDARD.decode(self.body.trim()).ok()
        } else {
            Some(self.body.clone().into_bytes())
        }
    }
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn status_of(v: Option<&Value>) -> Option<u16> {
    let n = match v? {
        Value::Number(n) => n.as_u64()?,
        Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    (100..=599).contains(&n).then_some(n as u16)
}

/// Parses the shared members of the proxy response formats; `None` if malformed.
fn proxy_members(o: &Map<String, Value>, allowed: &[&str]) -> Option<ProxyResponse> {
    if o.keys().any(|k| !allowed.contains(&k.as_str())) {
        return None;
    }
    let status = status_of(o.get("statusCode"))?;
    let mut headers = Vec::new();
    match o.get("headers") {
        None | Some(Value::Null) => {}
        Some(Value::Object(h)) => {
            for (k, v) in h {
                headers.push((k.clone(), scalar(v)?));
            }
        }
        Some(_) => return None,
    }
    match o.get("multiValueHeaders") {
        None | Some(Value::Null) => {}
        Some(Value::Object(h)) => {
            for (k, vs) in h {
                // A name in both maps takes the multi-value list.
                headers.retain(|(n, _)| !n.eq_ignore_ascii_case(k));
                for v in vs.as_array()? {
                    headers.push((k.clone(), scalar(v)?));
                }
            }
        }
        Some(_) => return None,
    }
    let body = match o.get("body") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return None,
    };
    let base64 = match o.get("isBase64Encoded") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "true",
        Some(_) => return None,
    };
    Some(ProxyResponse { status, headers, body, base64 })
}

/// A REST API's (and payload format 1.0's) proxy response: an object with `statusCode`
/// and only `headers`, `multiValueHeaders`, `body` and `isBase64Encoded` besides; anything
/// else is malformed and answered with 502.
pub fn rest_proxy_response(payload: &[u8]) -> Option<ProxyResponse> {
    let v: Value = serde_json::from_slice(payload).ok()?;
    proxy_members(
        v.as_object()?,
        &["statusCode", "statusDescription", "headers", "multiValueHeaders", "body", "isBase64Encoded"],
    )
}

/// A payload format 2.0 response: an object with `statusCode` is a proxy response (with
/// `cookies` too); any other JSON is the body of a 200 `application/json` answer.
pub fn http_proxy_response_v2(payload: &[u8]) -> Option<ProxyResponse> {
    let v: Value = serde_json::from_slice(payload).ok()?;
    if let Some(o) = v.as_object().filter(|o| o.contains_key("statusCode")) {
        // A body given as JSON (an object, a list, a number) is sent as its JSON text.
        let mut o = o.clone();
        if let Some(b) = o.get_mut("body").filter(|b| !matches!(b, Value::String(_) | Value::Null)) {
            *b = Value::String(b.to_string());
        }
        let o = &o;
        let mut r =
            proxy_members(o, &["statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded", "cookies"])?;
        match o.get("cookies") {
            None | Some(Value::Null) => {}
            Some(Value::Array(cs)) => {
                for c in cs {
                    r.headers.push(("set-cookie".into(), c.as_str()?.to_owned()));
                }
            }
            Some(_) => return None,
        }
        if !r.headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-type")) {
            r.headers.push(("content-type".into(), "application/json".into()));
        }
        return Some(r);
    }
    let body = match &v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    Some(ProxyResponse {
        status: 200,
        headers: vec![("content-type".into(), "application/json".into())],
        body,
        base64: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts<'a>(
        headers: &'a [(String, String)],
        empty: &'a BTreeMap<String, String>,
        params: &'a BTreeMap<String, String>,
    ) -> RequestFacts<'a> {
        RequestFacts {
            method: "POST",
            path: "/items/7",
            full_path: "/prod/items/7",
            query: Some("a=1&a=2&b=x%20y"),
            headers,
            body: b"{\"k\":1}",
            source_ip: "127.0.0.1",
            domain_name: "abc.execute-api.localhost:4566",
            api_id: "abc",
            account: "000000000000",
            stage: "prod",
            request_id: "r-1",
            time_ms: 1_428_582_896_000,
            stage_variables: empty,
            path_parameters: params,
            protocol: "HTTP/1.1",
        }
    }

    #[test]
    fn the_rest_event_has_every_member_with_aws_formats() {
        let headers = vec![
            ("content-type".to_owned(), "application/json".to_owned()),
            ("x-multi".into(), "1".into()),
            ("x-multi".into(), "2".into()),
        ];
        let empty = BTreeMap::new();
        let params = BTreeMap::from([("id".to_owned(), "7".to_owned())]);
        let r = facts(&headers, &empty, &params);
        let e =
            rest_event(&r, &RestRoute { resource_path: "/items/{id}", resource_id: "res1", ..Default::default() }, &[]);
        assert_eq!(e["resource"], "/items/{id}");
        assert_eq!(e["path"], "/items/7");
        assert_eq!(e["headers"]["Content-Type"], "application/json");
        assert_eq!(e["headers"]["X-Multi"], "2");
        assert_eq!(e["multiValueHeaders"]["X-Multi"], json!(["1", "2"]));
        assert_eq!(e["queryStringParameters"], json!({"a": "2", "b": "x y"}));
        assert_eq!(e["multiValueQueryStringParameters"]["a"], json!(["1", "2"]));
        assert_eq!(e["pathParameters"], json!({"id": "7"}));
        assert_eq!(e["stageVariables"], Value::Null);
        assert_eq!(e["requestContext"]["path"], "/prod/items/7");
        assert_eq!(e["requestContext"]["requestTime"], "09/Apr/2015:12:34:56 +0000");
        assert_eq!(e["requestContext"]["identity"]["sourceIp"], "127.0.0.1");
        assert_eq!(e["body"], "{\"k\":1}");
        assert_eq!(e["isBase64Encoded"], false);
    }

    #[test]
    fn the_v2_event_joins_repeats_and_leaves_out_empty_members() {
        let headers = vec![
            ("x-multi".to_owned(), "1".to_owned()),
            ("x-multi".into(), "2".into()),
            ("cookie".into(), "a=1; b=2".into()),
        ];
        let empty = BTreeMap::new();
        let r = facts(&headers, &empty, &empty);
        let e = http_event_v2(&r, "$default", &[], None);
        assert_eq!(e["headers"]["x-multi"], "1,2");
        assert_eq!(e["cookies"], json!(["a=1", "b=2"]));
        assert!(e["headers"].get("cookie").is_none());
        assert_eq!(e["queryStringParameters"]["a"], "1,2");
        assert_eq!(e["rawQueryString"], "a=1&a=2&b=x%20y");
        assert!(e.get("pathParameters").is_none() && e.get("stageVariables").is_none());
        // No content type: the body is sent base64.
        assert_eq!(e["isBase64Encoded"], true);
        assert_eq!(e["body"], "eyJrIjoxfQ==");
    }

    #[test]
    fn proxy_responses_are_validated_as_api_gateway_does() {
        let ok = rest_proxy_response(br#"{"statusCode": 201, "headers": {"X-A": "1", "N": 2}, "body": "hi"}"#).unwrap();
        assert_eq!((ok.status, ok.body.as_str()), (201, "hi"));
        assert!(ok.headers.contains(&("N".into(), "2".into())));
        let multi = rest_proxy_response(
            br#"{"statusCode": "200", "headers": {"A": "x"}, "multiValueHeaders": {"A": ["1", "2"]}}"#,
        )
        .unwrap();
        assert_eq!(multi.headers, vec![("A".to_owned(), "1".to_owned()), ("A".into(), "2".into())]);
        for bad in [
            &b"not json"[..],
            b"[]",
            br#"{"body": "x"}"#,
            br#"{"statusCode": 200, "body": {"a": 1}}"#,
            br#"{"statusCode": 200, "extra": 1}"#,
            br#"{"statusCode": 99}"#,
        ] {
            assert!(rest_proxy_response(bad).is_none(), "{}", String::from_utf8_lossy(bad));
        }
        let plain = http_proxy_response_v2(br#"{"hello": "world"}"#).unwrap();
        assert_eq!((plain.status, plain.body.as_str()), (200, r#"{"hello":"world"}"#));
        assert_eq!(http_proxy_response_v2(br#""text""#).unwrap().body, "text");
        let object = http_proxy_response_v2(br#"{"statusCode": 200, "body": {"a": [1]}}"#).unwrap();
        assert_eq!(object.body, r#"{"a":[1]}"#, "a JSON body is sent as its text");
        let c = http_proxy_response_v2(br#"{"statusCode": 302, "cookies": ["a=1", "b=2"]}"#).unwrap();
        assert_eq!(c.headers.iter().filter(|(k, _)| k == "set-cookie").count(), 2);
        let b = rest_proxy_response(br#"{"statusCode": 200, "body": "aGk=", "isBase64Encoded": true}"#).unwrap();
        assert_eq!(b.body_bytes(true).unwrap(), b"hi");
        assert_eq!(b.body_bytes(false).unwrap(), b"aGk=");
    }

    #[test]
    fn media_types_and_header_names() {
        let types = vec!["image/*".to_owned(), "application/octet-stream".into()];
        assert!(is_binary_type(Some("image/png"), &types));
        assert!(is_binary_type(Some("application/octet-stream; x=y"), &types));
        assert!(!is_binary_type(Some("text/plain"), &types));
        assert!(is_text_type(Some("application/json; charset=utf-8")));
        assert!(!is_text_type(Some("application/x-www-form-urlencoded")));
        assert_eq!(title_case("x-forwarded-for"), "X-Forwarded-For");
        assert_eq!(title_case("sec-websocket-key"), "Sec-WebSocket-Key");
    }
}
