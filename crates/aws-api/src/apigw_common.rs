//! What API Gateway's two control planes (`apigateway` and `apigatewayv2`, both
//! REST-JSON) share: the caller and body extractors, field readers, and the one mapping
//! from `GatewayError` to a response.

use std::collections::BTreeMap;

use apigateway::{Caller, GatewayError};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::ApiState;

/// The caller, as API Gateway sees it.
pub(crate) struct GwCaller(pub Caller);

impl FromRequestParts<ApiState> for GwCaller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, Response> {
        let c = state.callers.caller(parts);
        Ok(GwCaller(Caller { account: c.account, region: c.region }))
    }
}

/// A query string's parameters; malformed ones are a `BadRequestException`, as every
/// other bad input to API Gateway's control planes.
pub(crate) struct Query<T>(pub T);

impl<T: serde::de::DeserializeOwned> FromRequestParts<ApiState> for Query<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, Response> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(q)) => Ok(Query(q)),
            Err(e) => Err(error_response(GatewayError::BadRequest(format!("Invalid query string: {}", e.body_text())))),
        }
    }
}

/// A raw body (an imported definition), up to the control plane's limit.
pub(crate) struct RawBody(pub axum::body::Bytes);

impl FromRequest<ApiState> for RawBody {
    type Rejection = Response;

    async fn from_request(req: Request, _: &ApiState) -> Result<Self, Response> {
        axum::body::to_bytes(req.into_body(), MAX_BODY)
            .await
            .map(RawBody)
            .map_err(|_| error_response(GatewayError::BadRequest("Request body is too large".into())))
    }
}

/// A JSON body (`Null` when empty); malformed JSON is a `BadRequestException`.
pub(crate) struct JsonBody(pub Value);

/// API Gateway's control-plane requests are small; imported definitions are the largest.
const MAX_BODY: usize = 6 * 1024 * 1024;

impl FromRequest<ApiState> for JsonBody {
    type Rejection = Response;

    async fn from_request(req: Request, _: &ApiState) -> Result<Self, Response> {
        let bytes = axum::body::to_bytes(req.into_body(), MAX_BODY)
            .await
            .map_err(|_| error_response(GatewayError::BadRequest("Request body is too large".into())))?;
        parse_json(&bytes).map(JsonBody).map_err(error_response)
    }
}

/// A JSON body (`Null` when empty); malformed JSON is a `BadRequestException`.
pub(crate) fn parse_json(bytes: &[u8]) -> Result<Value, GatewayError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    serde_json::from_slice(bytes).map_err(|e| GatewayError::BadRequest(format!("Invalid JSON in request body: {e}")))
}

/// The one place a `GatewayError` becomes a response: status, `x-amzn-ErrorType` and
/// `{"message": …}`.
pub(crate) fn error_response(err: GatewayError) -> Response {
    let (status, kind) = match &err {
        GatewayError::BadRequest(_) => (StatusCode::BAD_REQUEST, "BadRequestException"),
        GatewayError::NotFound(_) => (StatusCode::NOT_FOUND, "NotFoundException"),
        GatewayError::Conflict(_) => (StatusCode::CONFLICT, "ConflictException"),
        GatewayError::LimitExceeded(_) => (StatusCode::TOO_MANY_REQUESTS, "LimitExceededException"),
        GatewayError::Service(_) => (StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailableException"),
    };
    (
        status,
        [("content-type", "application/json"), ("x-amzn-errortype", kind)],
        json!({ "message": err.to_string() }).to_string(),
    )
        .into_response()
}

/// A JSON answer.
pub(crate) fn answer(status: StatusCode, body: Value) -> Response {
    (status, [("content-type", "application/json")], body.to_string()).into_response()
}

/// The outcome of a service call as a response.
pub(crate) fn reply<T>(r: Result<T, GatewayError>, status: StatusCode, to_json: impl FnOnce(T) -> Value) -> Response {
    match r {
        Ok(v) => answer(status, to_json(v)),
        Err(e) => error_response(e),
    }
}

/// A list answer of API Gateway's REST API (`{"item": [...]}`, which the SDKs read as
/// `items`).
pub(crate) fn item_list<T>(list: &[T], f: impl Fn(&T) -> Value) -> Value {
    serde_json::json!({ "item": list.iter().map(f).collect::<Vec<_>>() })
}

/// An empty answer, or the error.
pub(crate) fn done(r: Result<(), GatewayError>, status: StatusCode) -> Response {
    match r {
        Ok(()) => status.into_response(),
        Err(e) => error_response(e),
    }
}

pub(crate) fn string(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

pub(crate) fn boolean(v: &Value, key: &str) -> Option<bool> {
    v.get(key).and_then(Value::as_bool)
}

pub(crate) fn integer(v: &Value, key: &str) -> Option<i64> {
    v.get(key).and_then(Value::as_i64)
}

pub(crate) fn strings(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default()
}

pub(crate) fn string_map(v: &Value, key: &str) -> BTreeMap<String, String> {
    v.get(key)
        .and_then(Value::as_object)
        .map(|o| o.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned()))).collect())
        .unwrap_or_default()
}

pub(crate) fn bool_map(v: &Value, key: &str) -> BTreeMap<String, bool> {
    v.get(key)
        .and_then(Value::as_object)
        .map(|o| o.iter().filter_map(|(k, v)| Some((k.clone(), v.as_bool()?))).collect())
        .unwrap_or_default()
}

/// Inserts `value` under `key` unless it is empty (`None`, an empty map or list).
pub(crate) fn put(o: &mut Value, key: &str, value: Value) {
    let empty = match &value {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    };
    if !empty {
        o[key] = value;
    }
}

/// An ISO 8601 timestamp from ms since the epoch (`apigatewayv2`'s dates).
pub(crate) fn iso8601(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000)).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}
