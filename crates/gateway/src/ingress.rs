//! The front door of execute-api and function URL hosts: a request addressed to an API
//! (by `{api-id}.execute-api.localhost` host or path form), to a function URL's host, or to
//! `@connections` goes to the data plane before any AWS route sees it, WebSocket upgrades
//! included; every other request passes on. Authentication is the edge's ([`Edge`]): it
//! verifies a signed request (authenticated mode) or reads who sent it (open mode), and
//! answers in AWS's words what it refuses or what nothing serves.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;

use crate::websocket::{Outbound, WsAccepted, WsLimits};
use crate::{DataPlane, GatewayRequest, GatewayResponse, Signed, MAX_PAYLOAD};
use axum::body::Body;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, FromRequestParts, Request};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

/// What the front door asks of the edge that owns authentication and AWS's own answers.
pub trait Edge: Send + Sync {
    /// Whether requests must be signed by a known key (`--auth sigv4`).
    fn authenticated(&self) -> bool;
    /// The account whose key signed the request for `service`: verified in authenticated
    /// mode (else the edge's refusal, as AWS words it), read from the credential in open
    /// mode.
    fn signer(&self, parts: &axum::http::request::Parts, body: &[u8], service: &str) -> Result<String, Box<Response>>;
    /// The id the edge gave the request.
    fn request_id(&self, req: &Request) -> String;
    /// The answer to a request nothing serves.
    fn unserved(&self, req: Request) -> Pin<Box<dyn Future<Output = Response> + Send + 'static>>;
}

/// A request's headers, in order, as the gateway takes them.
fn header_list(headers: &axum::http::HeaderMap) -> Vec<(String, String)> {
    headers.iter().map(|(k, v)| (k.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned())).collect()
}

/// A request to a Lambda function URL: its signer, if signed (verified in authenticated
/// mode), is the caller an `AWS_IAM` URL needs.
async fn function_url(edge: &dyn Edge, gateway: &DataPlane, url_id: &str, host: String, req: Request) -> Response {
    let request_id = edge.request_id(&req);
    let source_ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "127.0.0.1".to_owned(), |c| c.0.ip().to_string());
    let (parts, body) = req.into_parts();
    let Ok(body) = axum::body::to_bytes(body, MAX_PAYLOAD).await else {
        return to_response(GatewayResponse::too_large());
    };
    let signed = parts.headers.contains_key("authorization")
        || parts.uri.query().is_some_and(|q| q.contains("X-Amz-Signature="));
    let caller = if signed { edge.signer(&parts, &body, "lambda").ok() } else { None };
    let request = GatewayRequest {
        method: parts.method.as_str().to_owned(),
        host,
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: header_list(&parts.headers),
        body,
        source_ip,
        request_id,
        signature: Signed::Unchecked,
    };
    match gateway.function_url(url_id, caller.as_deref(), &request).await {
        crate::function_urls::UrlResponse::Whole(r) => to_response(r),
        crate::function_urls::UrlResponse::Streamed { head, body } => {
            let mut resp = to_response(head);
            *resp.body_mut() = Body::new(body);
            resp
        }
    }
}

/// Serves execute-api and function URL requests; passes every other request on.
pub async fn front_door(gateway: DataPlane, edge: &dyn Edge, req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get("host")
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()))
        .unwrap_or("")
        .to_owned();
    if let Some((url_id, _)) = crate::function_urls::url_id(&host) {
        return function_url(edge, &gateway, &url_id, host, req).await;
    }
    let address = gateway.address(&host, req.uri().path());
    let management = address.is_none() && req.uri().path().contains("/@connections/");
    if address.is_none() && !management {
        return next.run(req).await;
    }
    let request_id = edge.request_id(&req);
    let source_ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "127.0.0.1".to_owned(), |c| c.0.ip().to_string());
    let (mut parts, body) = req.into_parts();
    let upgrade = match address.as_ref().and_then(|a| gateway.websocket(a)) {
        Some(t) if parts.headers.get("upgrade").is_some_and(|u| u.as_bytes().eq_ignore_ascii_case(b"websocket")) => {
            match WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
                Ok(u) => Some((t, u)),
                Err(rejection) => return rejection.into_response(),
            }
        }
        _ => None,
    };
    let declared =
        parts.headers.get("content-length").and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_PAYLOAD as u64) {
        return to_response(GatewayResponse::too_large());
    }
    let Ok(body) = axum::body::to_bytes(body, MAX_PAYLOAD).await else {
        return to_response(GatewayResponse::too_large());
    };
    let headers = header_list(&parts.headers);
    let mut request = GatewayRequest {
        method: parts.method.as_str().to_owned(),
        host,
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers,
        body,
        source_ip,
        request_id,
        signature: Signed::Unchecked,
    };
    // `AWS_IAM` methods: in authenticated mode the signature is verified here, where the
    // keys are.
    if edge.authenticated() && address.is_some() {
        let signed = request.headers.iter().any(|(k, _)| k == "authorization")
            || request.query.as_deref().is_some_and(|q| q.contains("X-Amz-Signature="));
        request.signature = match signed.then(|| edge.signer(&parts, &request.body, "execute-api")) {
            Some(Ok(account)) => Signed::By(account),
            _ => Signed::Refused,
        };
    }
    // `@connections` is an AWS API (apigatewaymanagementapi): signed, in authenticated mode.
    if edge.authenticated() && request.path.contains("/@connections/") {
        if let Err(refused) = edge.signer(&parts, &request.body, "execute-api") {
            return *refused;
        }
    }
    if let Some((target, upgrade)) = upgrade {
        return accept_websocket(gateway, target, upgrade, &request).await;
    }
    match address {
        Some(address) => to_response(gateway.execute(address, request).await),
        None => match gateway.manage_connection(None, &request.path, &request) {
            Some(answer) => to_response(answer),
            None => edge.unserved(Request::from_parts(parts, Body::from(request.body.clone()))).await,
        },
    }
}

/// Runs `$connect` for a WebSocket upgrade and, if it accepts, completes the handshake
/// (with the subprotocol and headers `$connect` chose) and serves the connection.
async fn accept_websocket(
    gateway: DataPlane,
    target: std::sync::Arc<crate::websocket::WsTarget>,
    upgrade: WebSocketUpgrade,
    request: &GatewayRequest,
) -> Response {
    match gateway.ws_connect(target, request).await {
        Err(refused) => to_response(refused),
        Ok((accepted, headers)) => {
            let limits = gateway.websocket_limits();
            let id = accepted.id.clone();
            let on_failure = gateway.clone();
            // The subprotocol `$connect` chose (of those the client offered), as on AWS.
            let protocol = headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("sec-websocket-protocol"));
            let upgrade = match protocol {
                Some((_, p)) => upgrade.protocols([p.trim().to_owned()]),
                None => upgrade,
            };
            let mut response = upgrade
                .max_frame_size(limits.max_frame)
                .max_message_size(limits.max_message)
                // Small buffers, grown as messages need: an idle connection should cost
                // a few KiB, not the 128 KiB apiece these default to.
                .read_buffer_size(1024)
                .write_buffer_size(0)
                .on_failed_upgrade(move |_| {
                    tokio::spawn(async move { on_failure.ws_disconnect(&id, 1006, "The handshake failed").await });
                })
                .on_upgrade(move |socket| serve_connection(gateway, accepted, socket, limits));
            // `$connect`'s other headers go out with the handshake's answer.
            for (k, v) in headers {
                let handshake = ["sec-websocket-protocol", "sec-websocket-accept", "upgrade", "connection"];
                if handshake.iter().any(|h| k.eq_ignore_ascii_case(h)) {
                    continue;
                }
                if let (Ok(k), Ok(v)) = (HeaderName::from_bytes(k.as_bytes()), HeaderValue::from_str(&v)) {
                    response.headers_mut().append(k, v);
                }
            }
            response
        }
    }
}

/// One WebSocket connection, until it closes however it closes (the client's close frame,
/// a vanished client, an oversized frame, the idle timeout, the maximum duration, or
/// DeleteConnection); then `$disconnect` runs. An idle connection is this task and
/// little else, so what it holds across its waits is kept small: one timer, and the
/// rarer work (a message's route, the close) boxed rather than inline.
async fn serve_connection(gateway: DataPlane, accepted: WsAccepted, mut socket: WebSocket, limits: WsLimits) {
    let (status, reason, close_frame) = converse(&gateway, &accepted, &mut socket, limits).await;
    accepted.outbox.close();
    // Gone before the client can see the close frame, so that it finds it gone.
    let closing = gateway.ws_forget(&accepted.id);
    let we_closed = match close_frame {
        Some((code, text)) => {
            let frame = Message::Close(Some(CloseFrame { code, reason: text.into() }));
            let _ = socket.send(frame).await;
            true
        }
        None => false,
    };
    Box::pin(async move {
        // The closing handshake: a close frame sent is answered by the client's before
        // the socket goes (or after a grace period, for a client that never answers).
        if status == 1009 {
            // The rest of the oversized frame cannot be read past: the socket stays open
            // a while so the client reads the close frame before the reset that closing
            // on unread data sends.
            tokio::spawn(async move {
                tokio::time::sleep(CLOSE_GRACE).await;
                drop(socket);
            });
        } else {
            if we_closed {
                let _ = tokio::time::timeout(CLOSE_GRACE, async {
                    while let Some(Ok(m)) = socket.recv().await {
                        if matches!(m, Message::Close(_)) {
                            break;
                        }
                    }
                })
                .await;
            }
            drop(socket);
        }
        if let Some(closing) = closing {
            gateway.ws_disconnected(closing, status, &reason).await;
        }
    })
    .await;
}

/// Frames in and messages out until the connection ends: how it ended (status, reason),
/// and the close frame this side is to send, if it is the one closing.
async fn converse(
    gateway: &DataPlane,
    accepted: &WsAccepted,
    socket: &mut WebSocket,
    limits: WsLimits,
) -> (u16, String, Option<(u16, &'static str)>) {
    let deadline = tokio::time::Instant::now() + limits.max_duration;
    let timer = tokio::time::sleep_until(deadline.min(tokio::time::Instant::now() + limits.idle_timeout));
    tokio::pin!(timer);
    loop {
        let sent = tokio::select! {
            incoming = socket.recv() => {
                let (data, binary) = match incoming {
                    Some(Ok(Message::Text(text))) => (Bytes::from(text), false),
                    Some(Ok(Message::Binary(data))) => (data, true),
                    Some(Ok(Message::Close(frame))) => {
                        let (code, text) = frame.map_or((1005, String::new()), |f| (f.code, f.reason.to_string()));
                        let reason = format!("Client-side close frame status code '{code}' and reason '{text}'");
                        return (code, reason, None);
                    }
                    Some(Ok(_)) => continue,
                    Some(Err(e)) if e.to_string().to_ascii_lowercase().contains("too") => {
                        return (1009, "Message too big".into(), Some((1009, "Message too big")));
                    }
                    Some(Err(_)) | None => return (1006, "Going away".into(), None),
                };
                let idle_until = tokio::time::Instant::now() + limits.idle_timeout;
                timer.as_mut().reset(idle_until.min(deadline));
                Box::pin(gateway.ws_message(&accepted.id, &data, binary)).await;
                Ok(())
            }
            out = accepted.outbox.next() => match out {
                Outbound::Text(t) => socket.send(Message::Text(t.into())).await,
                Outbound::Binary(b) => socket.send(Message::Binary(b)).await,
                Outbound::Close => {
                    let frame = Some((1000, "Connection closed by the server"));
                    return (1000, "Connection closed by DeleteConnection".into(), frame);
                }
            },
            () = &mut timer => {
                if tokio::time::Instant::now() >= deadline {
                    return (1001, "Maximum connection duration".into(), Some((1001, "Going away")));
                }
                return (1001, "Idle timeout".into(), Some((1001, "Going away")));
            }
        };
        if sent.is_err() {
            return (1006, "Going away".into(), None);
        }
    }
}

/// How long a closing connection waits for the client's close frame.
const CLOSE_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

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
