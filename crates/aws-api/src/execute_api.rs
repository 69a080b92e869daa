//! The execute-api front door: requests addressed to an API (by host or path form) go to
//! the gateway's data plane before any AWS API route sees them.

use std::net::SocketAddr;

use apigateway::{GatewayRequest, GatewayResponse, GatewayService, MAX_PAYLOAD};
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::RequestId;

/// Serves execute-api requests; passes every other request on.
pub(crate) async fn front_door(State(gateway): State<GatewayService>, req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get("host")
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()))
        .unwrap_or("")
        .to_owned();
    let Some(address) = gateway.address(&host, req.uri().path()) else { return next.run(req).await };
    let request_id = req.extensions().get::<RequestId>().map(|r| r.0.clone()).unwrap_or_default();
    let source_ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "127.0.0.1".to_owned(), |c| c.0.ip().to_string());
    let (parts, body) = req.into_parts();
    let declared =
        parts.headers.get("content-length").and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_PAYLOAD as u64) {
        return to_response(GatewayResponse::too_large());
    }
    let Ok(body) = axum::body::to_bytes(body, MAX_PAYLOAD).await else {
        return to_response(GatewayResponse::too_large());
    };
    let headers = parts
        .headers
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    let request = GatewayRequest {
        method: parts.method.as_str().to_owned(),
        host,
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers,
        body,
        source_ip,
        request_id,
    };
    to_response(gateway.execute(address, request).await)
}

fn to_response(r: GatewayResponse) -> Response {
    let mut resp = Body::from(r.body).into_response();
    *resp.status_mut() = StatusCode::from_u16(r.status).unwrap_or(StatusCode::BAD_GATEWAY);
    let headers = resp.headers_mut();
    for (k, v) in r.headers {
        if let (Ok(k), Ok(v)) = (HeaderName::from_bytes(k.as_bytes()), HeaderValue::from_str(&v)) {
            headers.append(k, v);
        }
    }
    resp
}
