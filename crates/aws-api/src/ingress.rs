//! What every request passes through, whichever service it is for: the request log;
//! reading a request of a service on the protocol layer and writing its answer or error;
//! the answer to operations and services Lamina does not serve (in the protocol the request
//! used, from the service's model); and the health endpoints.

use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use protocol::{Addressed, Protocol, ServiceError};

use crate::{ApiState, RequestId};

/// The services Lamina serves today; the others have a model and answer 501.
pub(crate) const SERVED: &[&str] = &[
    "lambda",
    "apigateway",
    "apigatewayv2",
    "apigatewaymanagementapi",
    "sqs",
    "sns",
    "logs",
    "sts",
    "iam",
    "ssm",
    "s3",
    "cloudformation",
    "cloudcontrol",
    "ecr",
    "events",
    "scheduler",
    "dynamodb",
    "dynamodbstreams",
    "kinesis",
];

/// The largest body read to answer a request no handler took.
const MAX_UNSERVED_BODY: usize = 11 * 1024 * 1024;

/// The error code of an answer, for the request log (set where errors are written).
#[derive(Debug, Clone)]
pub(crate) struct ErrorCode(pub String);

/// Turns the protocol layer's answer into an HTTP response.
pub(crate) fn to_response(r: protocol::Response, code: Option<&str>) -> Response {
    let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = (status, Body::from(r.body)).into_response();
    for (k, v) in r.headers {
        if let (Ok(k), Ok(v)) = (axum::http::HeaderName::try_from(k), HeaderValue::from_str(&v)) {
            resp.headers_mut().append(k, v);
        }
    }
    if let Some(code) = code {
        resp.extensions_mut().insert(ErrorCode(code.to_owned()));
    }
    resp
}

/// Whether a json-protocol request came in CBOR (`application/x-amz-cbor-1.1`, as the Java
/// SDK sends Kinesis's).
pub(crate) fn amz_cbor(parts: &axum::http::request::Parts) -> bool {
    parts
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/x-amz-cbor"))
}

/// A json-protocol answer re-encoded in CBOR for a request that came in it.
pub(crate) async fn as_amz_cbor(service: &str, operation: Option<&str>, resp: Response) -> Response {
    let (mut parts, body) = resp.into_parts();
    let Ok(json) = axum::body::to_bytes(body, usize::MAX).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "").into_response();
    };
    let ok = parts.status.is_success();
    let cbor = match protocol::service(service) {
        Some(m) => m.json_answer_as_cbor(if ok { operation } else { None }, &json),
        None => json.to_vec(),
    };
    parts.headers.insert("content-type", HeaderValue::from_static("application/x-amz-cbor-1.1"));
    parts.headers.remove("content-length");
    Response::from_parts(parts, Body::from(cbor))
}

/// An error of a modelled service, in a protocol.
pub(crate) fn error(service: &str, protocol: Protocol, e: &ServiceError, request_id: &str) -> Response {
    let model = protocol::service(service);
    to_response(e.render(model, protocol, request_id), Some(&e.client_code(model, protocol)))
}

/// A request's whole body, if it fits `limit` (refused before reading when its declared
/// length does not).
pub(crate) async fn read_body(parts: &axum::http::request::Parts, body: Body, limit: usize) -> Option<bytes::Bytes> {
    let declared =
        parts.headers.get("content-length").and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(n) if n > limit as u64 => None,
        _ => axum::body::to_bytes(body, limit).await.ok(),
    }
}

/// Reads a request of a modelled service: its model, operation and input tree (checked
/// against the model only if `implemented` says Lamina serves the operation: one it does
/// not answers 501 whatever its input); or the error a request that does not hold answers.
pub(crate) fn read(
    service: &str,
    protocol: Protocol,
    parts: &axum::http::request::Parts,
    body: bytes::Bytes,
    implemented: &[&str],
) -> Result<(&'static protocol::Model, protocol::Input), ServiceError> {
    let model = protocol::service(service).ok_or_else(|| {
        ServiceError::new("InternalFailure", format!("The model of {service} is missing.")).status(500)
    })?;
    let req = protocol::Request {
        method: &parts.method,
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or(""),
        headers: &parts.headers,
        body,
    };
    let input = model.read(protocol, &req)?;
    if !implemented.contains(&input.operation.as_str()) {
        return Err(ServiceError::not_implemented(service, &input.operation));
    }
    model.check(&input)?;
    Ok((model, input))
}

/// An operation's output tree, answered in the request's protocol.
pub(crate) fn answer(
    model: &protocol::Model,
    protocol: Protocol,
    operation: &str,
    output: serde_json::Value,
    request_id: &str,
) -> Response {
    to_response(model.respond(protocol, operation, protocol::Output::new(output), request_id), None)
}

/// An operation no handler took, of a service Lamina serves: 501 if the model has it,
/// else the protocol's own unknown-operation answer.
pub(crate) fn unserved_operation(service: &str, protocol: Protocol, operation: &str, request_id: &str) -> Response {
    let e = match protocol::service(service).and_then(|m| m.operation(operation)) {
        Some(_) => ServiceError::not_implemented(service, operation),
        None if protocol == Protocol::Query => protocol::rules::of(service).invalid_action(operation),
        None => ServiceError::new("UnknownOperationException", format!("Operation {operation} is not supported.")),
    };
    error(service, protocol, &e, request_id)
}

/// The query-protocol service, among those Lamina does not serve yet, whose model has an
/// action (for unsigned requests).
pub(crate) fn query_service_for(action: &str) -> Option<&'static str> {
    protocol::SERVICES
        .iter()
        .filter(|s| s.query)
        .find(|s| protocol::service(s.name).is_some_and(|m| m.operation(action).is_some()))
        .map(|s| s.name)
}

/// The router's fallback: a request no route took. Whatever service it addresses, the
/// answer is in that service's protocol.
pub(crate) async fn unserved(req: Request) -> Response {
    let request_id = req.extensions().get::<RequestId>().map(|r| r.0.clone()).unwrap_or_default();
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, MAX_UNSERVED_BODY).await.unwrap_or_default();
    let query = parts.uri.query().unwrap_or("");
    let preq = protocol::Request {
        method: &parts.method,
        path: parts.uri.path(),
        query,
        headers: &parts.headers,
        body: body.clone(),
    };
    let Addressed { service, protocol } = protocol::address(&preq);
    let model = service.as_ref().ok().copied();
    let e = match &service {
        Ok(model) => match operation_of(model, protocol, &preq) {
            Some(op) => ServiceError::not_implemented(model.service, &op),
            None => unknown_operation(protocol, &preq),
        },
        Err(Some(name)) => ServiceError::unknown_service(name),
        Err(None) => unknown_operation(protocol, &preq),
    };
    to_response(e.render(model, protocol, &request_id), Some(&e.code))
}

/// A request that names no operation of its service.
fn unknown_operation(protocol: Protocol, req: &protocol::Request) -> ServiceError {
    match protocol {
        Protocol::Query => ServiceError::new("InvalidAction", "The action or operation requested is not valid."),
        Protocol::RestJson | Protocol::RestXml => ServiceError::new(
            "UnknownOperationException",
            format!("No AWS operation matches {} {}", req.method, req.path),
        )
        .status(404),
        Protocol::Json | Protocol::Cbor => {
            ServiceError::new("UnknownOperationException", "The operation requested is not supported.")
        }
    }
}

/// The operation a request names, without reading its input.
fn operation_of(model: &protocol::Model, protocol: Protocol, req: &protocol::Request) -> Option<String> {
    let name = match protocol {
        Protocol::Json => req.headers.get("x-amz-target")?.to_str().ok()?.split_once('.')?.1.to_owned(),
        Protocol::Cbor => req.path.rsplit_once("/operation/")?.1.to_owned(),
        Protocol::Query => form_urlencoded::parse(req.query.as_bytes())
            .chain(form_urlencoded::parse(&req.body))
            .find(|(k, _)| k == "Action")?
            .1
            .into_owned(),
        Protocol::RestJson | Protocol::RestXml => {
            let pairs: Vec<(String, String)> = form_urlencoded::parse(req.query.as_bytes()).into_owned().collect();
            model.find_rest(req.method, req.path, &pairs)?.0.name.clone()
        }
    };
    model.operation(&name).map(|o| o.name.clone())
}

/// What the request log says of a request: its service and operation.
struct Named {
    service: String,
    operation: String,
}

/// Names a request from its headers, path and (for form bodies) body, without parsing
/// its input.
fn name(parts: &axum::http::request::Parts, body: &[u8]) -> Named {
    let path = parts.uri.path();
    if path.starts_with("/_lamina/") || path.starts_with("/_localstack/") {
        return Named { service: "lamina".into(), operation: path.to_owned() };
    }
    if let Some(a) = crate::s3_api::addressed(parts) {
        return Named { service: "s3".into(), operation: crate::s3_api::operation_named(parts, &a) };
    }
    let preq = protocol::Request {
        method: &parts.method,
        path,
        query: parts.uri.query().unwrap_or(""),
        headers: &parts.headers,
        body: bytes::Bytes::copy_from_slice(body),
    };
    let Addressed { service, protocol } = protocol::address(&preq);
    match service {
        Ok(model) => Named {
            service: model.service.to_owned(),
            operation: operation_of(model, protocol, &preq).unwrap_or_else(|| "-".into()),
        },
        Err(name) => Named {
            service: name.unwrap_or_else(|| "-".into()),
            operation: parts
                .headers
                .get("x-amz-target")
                .and_then(|t| t.to_str().ok())
                .and_then(|t| t.split_once('.'))
                .map(|(_, op)| op.to_owned())
                .unwrap_or_else(|| "-".into()),
        },
    }
}

/// One line per request: account, service, operation, status, error code and duration,
/// at the level `[server] request_log` sets (target `lamina::requests`).
pub(crate) async fn request_log(State(s): State<ApiState>, req: Request, next: Next) -> Response {
    if !tracing::enabled!(target: "lamina::requests", tracing::Level::ERROR) {
        return next.run(req).await;
    }
    let start = Instant::now();
    let (parts, body) = req.into_parts();
    // A query request names its operation in its form body: read it (bounded), then
    // hand it on. Execute-API and function-URL traffic is logged by API Gateway.
    let is_form = parts
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    let small = parts
        .headers
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .is_some_and(|n| n <= MAX_UNSERVED_BODY);
    let (body, peeked) = if is_form && small {
        match axum::body::to_bytes(body, MAX_UNSERVED_BODY).await {
            Ok(b) => (Body::from(b.clone()), b),
            Err(_) => (Body::empty(), bytes::Bytes::new()),
        }
    } else {
        (body, bytes::Bytes::new())
    };
    let named = name(&parts, &peeked);
    let account = s.callers.caller(&parts).account;
    let resp = next.run(Request::from_parts(parts, body)).await;
    let status = resp.status().as_u16();
    let code = resp
        .extensions()
        .get::<ErrorCode>()
        .map(|c| c.0.clone())
        .or_else(|| resp.headers().get("x-amzn-errortype").and_then(|v| v.to_str().ok()).map(str::to_owned))
        .or_else(|| {
            let q = resp.headers().get("x-amzn-query-error")?.to_str().ok()?;
            Some(q.split(';').next().unwrap_or(q).to_owned())
        });
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    let error = code.as_deref().map(|c| format!(" ({c})")).unwrap_or_default();
    let (service, operation) = (&named.service, &named.operation);
    macro_rules! line {
        ($level:expr) => {
            tracing::event!(
                target: "lamina::requests",
                $level,
                account = %account,
                ms = format_args!("{ms:.2}"),
                "{service}.{operation} => {status}{error}"
            )
        };
    }
    if status >= 500 {
        line!(tracing::Level::ERROR);
    } else if status >= 400 {
        line!(tracing::Level::WARN);
    } else {
        line!(tracing::Level::INFO);
    }
    resp
}

/// The first path segments of a REST service's operations (Lambda's `2015-03-31`, API
/// Gateway's `restapis`, v2's `v2`): the router sends every request under them to the
/// service, which routes it by its model.
pub(crate) fn path_roots(service: &str) -> std::collections::BTreeSet<String> {
    protocol::service(service)
        .map(|m| {
            m.operations
                .iter()
                .filter_map(|op| op.template.example().split('/').nth(1).map(str::to_owned))
                .filter(|root| !root.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// `GET /_lamina/health`: each modelled service, whether Lamina serves it, and its
/// model's operation count.
pub(crate) async fn health() -> Response {
    let services: serde_json::Map<String, serde_json::Value> = protocol::SERVICES
        .iter()
        .map(|s| {
            let state = if SERVED.contains(&s.name) { "running" } else { "not implemented" };
            (s.name.to_owned(), serde_json::json!({ "state": state }))
        })
        .collect();
    let body = serde_json::json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION"), "services": services });
    ([("content-type", "application/json")], body.to_string()).into_response()
}

/// `GET /_localstack/health`, in LocalStack's format, for tools that probe it.
pub(crate) async fn localstack_health() -> Response {
    let services: serde_json::Map<String, serde_json::Value> = protocol::SERVICES
        .iter()
        .map(|s| {
            let state = if SERVED.contains(&s.name) { "running" } else { "disabled" };
            (s.name.to_owned(), serde_json::Value::from(state))
        })
        .collect();
    let body =
        serde_json::json!({ "services": services, "edition": "community", "version": env!("CARGO_PKG_VERSION") });
    ([("content-type", "application/json")], body.to_string()).into_response()
}
