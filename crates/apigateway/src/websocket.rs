//! WebSocket APIs: the connections a stage holds, the `$connect`, message and
//! `$disconnect` routes they run, and the `@connections` management API that sends to,
//! describes and closes them. The socket itself is `aws-api`'s; this module sees frames
//! as data and answers with what to send.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::events::{self, WsEventType, WsFacts};
use crate::execute::{answers, json_error};
use crate::routing::{self, Address};
use crate::v2::{HttpSnapshot, Route};
use crate::{new_id, FunctionReply, GatewayRequest, GatewayResponse, GatewayService};

/// AWS's WebSocket limits, configurable.
#[derive(Debug, Clone, Copy)]
pub struct WsLimits {
    /// The largest frame, bytes (32 KB).
    pub max_frame: usize,
    /// The largest message, bytes (128 KB).
    pub max_message: usize,
    /// A connection idle this long is closed (10 minutes).
    pub idle_timeout: Duration,
    /// No connection lasts longer (2 hours).
    pub max_duration: Duration,
}

impl Default for WsLimits {
    fn default() -> Self {
        WsLimits {
            max_frame: 32 * 1024,
            max_message: 128 * 1024,
            idle_timeout: Duration::from_secs(600),
            max_duration: Duration::from_secs(7200),
        }
    }
}

/// What the gateway sends down a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outbound {
    /// A text message.
    Text(String),
    /// A binary message.
    Binary(Bytes),
    /// Close the connection.
    Close,
}

/// A WebSocket API stage a handshake is addressed to.
#[derive(Debug, Clone)]
pub struct WsTarget {
    api_id: String,
    account: String,
    region: String,
    stage: String,
    variables: BTreeMap<String, String>,
    snapshot: Arc<HttpSnapshot>,
    selection: String,
}

/// An accepted connection: its id, and what to send down it.
#[derive(Debug)]
pub struct WsAccepted {
    /// `connectionId`.
    pub id: String,
    /// Messages for the client, from `@connections` and two-way routes.
    pub outbound: mpsc::Receiver<Outbound>,
}

struct Connection {
    target: WsTarget,
    domain: String,
    source_ip: String,
    user_agent: Option<String>,
    headers: Vec<(String, String)>,
    connected_at_ms: i64,
    last_active_ms: AtomicI64,
    sender: mpsc::Sender<Outbound>,
    /// What the `$connect` authorizer granted: every event's `requestContext.authorizer`.
    authorizer: Option<Value>,
}

/// Every open connection, by id.
#[derive(Default)]
pub(crate) struct Connections {
    open: Mutex<HashMap<String, Arc<Connection>>>,
}

impl Connections {
    fn get(&self, id: &str) -> Option<Arc<Connection>> {
        self.open.lock().unwrap_or_else(|p| p.into_inner()).get(id).cloned()
    }

    pub fn count(&self) -> usize {
        self.open.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

/// A connection id in API Gateway's form: 12 letters, digits and `=`-free base64.
fn connection_id() -> String {
    let mut id = new_id(11);
    id.push('=');
    id
}

fn gone() -> GatewayResponse {
    json_error(410, "The connection is gone", Some("GoneException"))
}

/// The route key a message selects: its body's member named by the selection expression
/// (`$request.body.action`) if there is a route for it, else `$default`.
pub fn select_route<'a>(selection: &str, body: &[u8], routes: impl Iterator<Item = &'a str> + Clone) -> Option<String> {
    let path = selection
        .strip_prefix("$request.body.")
        .or_else(|| selection.strip_prefix("${request.body.").and_then(|p| p.strip_suffix('}')))
        .unwrap_or("");
    let chosen = serde_json::from_slice::<Value>(body).ok().and_then(|v| {
        let mut cur = &v;
        for part in path.split('.') {
            cur = cur.get(part)?;
        }
        match cur {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    });
    match chosen {
        Some(key) if !key.starts_with('$') && routes.clone().any(|r| r == key) => Some(key),
        _ => routes.into_iter().any(|r| r == "$default").then(|| "$default".to_owned()),
    }
}

impl GatewayService {
    /// The WebSocket API stage `address` names, if it names one.
    pub fn websocket(&self, address: &Address) -> Option<WsTarget> {
        let state = self.read();
        let api = state.http.get(&address.api_id).filter(|a| a.protocol_type == "WEBSOCKET")?;
        let (stage_name, _) = routing::split_first_segment(&address.path);
        let stage = api.stages.get(stage_name)?;
        let d = stage.deployment_id.as_ref().and_then(|d| api.deployments.get(d))?;
        Some(WsTarget {
            api_id: api.id.clone(),
            account: api.account.clone(),
            region: api.region.clone(),
            stage: stage.name.clone(),
            variables: stage.variables.clone(),
            snapshot: d.snapshot.clone(),
            selection: api.route_selection_expression.clone(),
        })
    }

    fn ws_route<'a>(t: &'a WsTarget, key: &str) -> Option<&'a Route> {
        t.snapshot.routes.iter().find(|r| r.route_key == key)
    }

    /// Runs a route's integration; the function's answer, if it has one.
    async fn ws_integrate(&self, t: &WsTarget, route: &Route, event: Value) -> Result<Option<Bytes>, ()> {
        let integration = route
            .target
            .as_deref()
            .and_then(|x| x.strip_prefix("integrations/"))
            .and_then(|id| t.snapshot.integrations.get(id))
            .ok_or(())?;
        match integration.integration_type.as_str() {
            "MOCK" => Ok(None),
            "AWS_PROXY" => {
                let uri = routing::with_stage_variables(integration.uri.as_deref().unwrap_or(""), &t.variables);
                let function = routing::lambda_function_of(&uri).ok_or(())?;
                let call = self.inner.functions.invoke(&function, event.to_string().into());
                match tokio::time::timeout(Duration::from_millis(integration.timeout_ms), call).await {
                    Ok(FunctionReply::Returned(p)) => Ok(Some(p)),
                    Ok(FunctionReply::Failed(_)) | Err(_) => Err(()),
                    Ok(FunctionReply::Unavailable(why)) => {
                        tracing::warn!(function, "integration failed: {why}");
                        Err(())
                    }
                }
            }
            _ => Err(()),
        }
    }

    fn facts<'a>(&self, c: &'a Connection, id: &'a str) -> WsFacts<'a> {
        WsFacts {
            connection_id: id,
            connected_at_ms: c.connected_at_ms,
            domain_name: &c.domain,
            api_id: &c.target.api_id,
            stage: &c.target.stage,
            source_ip: &c.source_ip,
            user_agent: c.user_agent.as_deref(),
            headers: &c.headers,
            query: None,
            stage_variables: &c.target.variables,
        }
    }

    /// The `$connect` event of a handshake: its headers and query string.
    fn connect_event(&self, conn: &Connection, id: &str, req: &GatewayRequest, now: i64) -> Value {
        let mut facts = self.facts(conn, id);
        facts.query = req.query.as_deref();
        events::websocket_event(&facts, WsEventType::Connect, "$connect", &req.request_id, now, None, None, None)
    }

    /// A handshake: runs `$connect` (if the API has it) and accepts the connection unless
    /// it refuses (a function error or a non-2xx `statusCode`).
    pub async fn ws_connect(&self, t: WsTarget, req: &GatewayRequest) -> Result<WsAccepted, GatewayResponse> {
        let id = connection_id();
        let now = model::clock::now_ms();
        // Room for a burst of broadcasts while the client reads; beyond it, PostToConnection
        // answers LimitExceededException, as AWS does when a client's buffer is full.
        let (sender, outbound) = mpsc::channel(256);
        let header = |n: &str| req.headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        let mut conn = Connection {
            domain: req.host.clone(),
            source_ip: req.source_ip.clone(),
            user_agent: header("user-agent"),
            headers: req.headers.clone(),
            connected_at_ms: now,
            last_active_ms: AtomicI64::new(now),
            sender,
            authorizer: None,
            target: t,
        };
        if let Some(route) = Self::ws_route(&conn.target, "$connect") {
            if route.authorization_type == "CUSTOM" {
                conn.authorizer = Some(self.ws_authorize(&conn, &id, route, req, now).await?);
            }
            let mut event = self.connect_event(&conn, &id, req, now);
            if let Some(a) = &conn.authorizer {
                event["requestContext"]["authorizer"] = a.clone();
            }
            match self.ws_integrate(&conn.target, route, event).await {
                Err(()) => return Err(answers::http_internal()),
                Ok(Some(payload)) => {
                    let status = serde_json::from_slice::<Value>(&payload)
                        .ok()
                        .and_then(|v| v.get("statusCode").and_then(Value::as_u64));
                    if let Some(s) = status.filter(|s| !(200..300).contains(s)) {
                        return Err(json_error(s as u16, "Forbidden", None));
                    }
                }
                Ok(None) => {}
            }
        }
        self.inner.connections.open.lock().unwrap_or_else(|p| p.into_inner()).insert(id.clone(), Arc::new(conn));
        Ok(WsAccepted { id, outbound })
    }

    /// Runs the `$connect` route's Lambda authorizer: the `authorizer` member of the
    /// connection's events if it allows, else the refusal.
    async fn ws_authorize(
        &self,
        conn: &Connection,
        id: &str,
        route: &Route,
        req: &GatewayRequest,
        now: i64,
    ) -> Result<Value, GatewayResponse> {
        let a = route
            .authorizer_id
            .as_deref()
            .and_then(|a| conn.target.snapshot.authorizers.get(a))
            .ok_or_else(answers::http_internal)?;
        let empty = BTreeMap::new();
        let facts =
            req.facts((&conn.target.api_id, "", &conn.target.stage, &conn.target.variables), "/", "/", &empty, now);
        // A WebSocket API's identity sources are a REST method's, by another name.
        let sources: Vec<String> =
            a.identity_source.iter().map(|s| s.replacen("route.request.", "method.request.", 1)).collect();
        let identity = if sources.is_empty() {
            Vec::new()
        } else {
            crate::authorizer::rest_identity(&sources.join(","), &facts).ok_or_else(answers::http_unauthorized)?
        };
        let arn = crate::authorizer::method_arn(
            &conn.target.region,
            &conn.target.account,
            &conn.target.api_id,
            &conn.target.stage,
            "$connect",
            "",
        );
        let arn = arn.trim_end_matches('/').to_owned();
        let run = crate::gates::Run {
            authorizer_id: &a.id,
            uri: a.uri.as_deref().unwrap_or(""),
            identity: &identity,
            ttl_seconds: a.ttl_seconds,
            simple: false,
        };
        let event = || {
            let mut e = self.connect_event(conn, id, req, now);
            e["type"] = json!("REQUEST");
            e["methodArn"] = json!(arn);
            e
        };
        let grant = match self.run_authorizer(run, &facts, event).await {
            Ok(g) => g,
            Err(crate::gates::Refused::Unauthorized) => return Err(answers::http_unauthorized()),
            Err(crate::gates::Refused::Failed) => return Err(answers::http_internal()),
        };
        if grant.decide(&arn) != crate::authorizer::Decision::Allow {
            return Err(answers::http_forbidden());
        }
        let mut context = grant.context.clone();
        context.insert("principalId".into(), grant.principal_id.clone().map_or(Value::Null, Value::String));
        Ok(Value::Object(context))
    }

    /// A message from the client: routed by the API's selection expression, its
    /// integration run, and — for a two-way route — its answer sent back.
    pub async fn ws_message(&self, id: &str, data: &[u8], binary: bool) {
        let Some(c) = self.inner.connections.get(id) else { return };
        let now = model::clock::now_ms();
        c.last_active_ms.store(now, Ordering::Relaxed);
        let request_id = uuid::Uuid::new_v4().to_string();
        let keys = c.target.snapshot.routes.iter().map(|r| r.route_key.as_str());
        let route = select_route(&c.target.selection, data, keys).and_then(|k| Self::ws_route(&c.target, &k));
        let Some(route) = route else {
            let error = json!({ "message": "Forbidden", "connectionId": id, "requestId": request_id });
            let _ = c.sender.try_send(Outbound::Text(error.to_string()));
            return;
        };
        let message_id = new_id(12);
        let facts = self.facts(&c, id);
        let event = events::websocket_event(
            &facts,
            WsEventType::Message,
            &route.route_key,
            &request_id,
            now,
            Some((data, binary)),
            Some(&message_id),
            None,
        );
        let mut event = event;
        if let Some(a) = &c.authorizer {
            event["requestContext"]["authorizer"] = a.clone();
        }
        match self.ws_integrate(&c.target, route, event).await {
            Err(()) => {
                let error = json!({ "message": "Internal server error", "connectionId": id, "requestId": request_id });
                let _ = c.sender.try_send(Outbound::Text(error.to_string()));
            }
            Ok(Some(payload)) if route.two_way() => {
                // A proxy answer's body, or the answer itself.
                let parsed: Option<Value> = serde_json::from_slice(&payload).ok();
                let body = match parsed.as_ref().and_then(|v| v.get("body")) {
                    Some(Value::String(b)) => b.clone(),
                    Some(other) => other.to_string(),
                    None => String::from_utf8_lossy(&payload).into_owned(),
                };
                let _ = c.sender.try_send(Outbound::Text(body));
            }
            Ok(_) => {}
        }
    }

    /// The connection closed, however it closed: runs `$disconnect` and forgets it.
    pub async fn ws_disconnect(&self, id: &str, status: u16, reason: &str) {
        let removed = self.inner.connections.open.lock().unwrap_or_else(|p| p.into_inner()).remove(id);
        let Some(c) = removed else { return };
        if let Some(route) = Self::ws_route(&c.target, "$disconnect") {
            let request_id = uuid::Uuid::new_v4().to_string();
            let facts = self.facts(&c, id);
            let now = model::clock::now_ms();
            let event = events::websocket_event(
                &facts,
                WsEventType::Disconnect,
                "$disconnect",
                &request_id,
                now,
                None,
                None,
                Some((status, reason)),
            );
            let mut event = event;
            if let Some(a) = &c.authorizer {
                event["requestContext"]["authorizer"] = a.clone();
            }
            let _ = self.ws_integrate(&c.target, route, event).await;
        }
    }

    /// `@connections`: PostToConnection, GetConnection and DeleteConnection, for a request
    /// to `/{stage}/@connections/{id}` of a WebSocket API (`api_id`), or of whichever API
    /// holds the connection when the request came by another host (a function's endpoint
    /// built from the `domainName` its client connected to).
    pub fn manage_connection(&self, api_id: Option<&str>, path: &str, req: &GatewayRequest) -> Option<GatewayResponse> {
        let (stage, rest) = routing::split_first_segment(path);
        let id = rest.strip_prefix("/@connections/").filter(|id| !id.is_empty() && !id.contains('/'))?;
        let id = routing::percent_decode(id);
        let c = match self.inner.connections.get(&id) {
            Some(c) if api_id.is_none_or(|a| c.target.api_id == a) && c.target.stage == stage => c,
            _ => return Some(gone()),
        };
        let limits = self.inner.settings.websocket;
        Some(match req.method.as_str() {
            "POST" => {
                if req.body.len() > limits.max_message {
                    return Some(json_error(413, "Message too long", Some("PayloadTooLargeException")));
                }
                let message = match std::str::from_utf8(&req.body) {
                    Ok(text) => Outbound::Text(text.to_owned()),
                    Err(_) => Outbound::Binary(req.body.clone()),
                };
                match c.sender.try_send(message) {
                    Ok(()) => GatewayResponse { status: 200, headers: Vec::new(), body: Bytes::new() },
                    Err(mpsc::error::TrySendError::Closed(_)) => gone(),
                    Err(mpsc::error::TrySendError::Full(_)) => {
                        json_error(429, "The client's buffer is full", Some("LimitExceededException"))
                    }
                }
            }
            "GET" => {
                let iso = |ms: i64| {
                    time::OffsetDateTime::from_unix_timestamp(ms / 1000)
                        .ok()
                        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
                        .unwrap_or_default()
                };
                let body = json!({
                    "connectedAt": iso(c.connected_at_ms),
                    "identity": { "sourceIp": c.source_ip, "userAgent": c.user_agent },
                    "lastActiveAt": iso(c.last_active_ms.load(Ordering::Relaxed)),
                });
                GatewayResponse {
                    status: 200,
                    headers: vec![("content-type".into(), "application/json".into())],
                    body: Bytes::from(body.to_string()),
                }
            }
            "DELETE" => {
                let _ = c.sender.try_send(Outbound::Close);
                GatewayResponse { status: 204, headers: Vec::new(), body: Bytes::new() }
            }
            _ => json_error(405, "Method Not Allowed", None),
        })
    }

    /// Open WebSocket connections.
    pub fn websocket_connections(&self) -> usize {
        self.inner.connections.count()
    }

    /// The WebSocket limits this server applies.
    pub fn websocket_limits(&self) -> WsLimits {
        self.inner.settings.websocket
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_select_their_route_or_the_default() {
        let routes = ["$connect", "join", "send", "$default"];
        let pick = |body: &str| select_route("$request.body.action", body.as_bytes(), routes.iter().copied());
        assert_eq!(pick(r#"{"action": "join"}"#).as_deref(), Some("join"));
        assert_eq!(pick(r#"{"action": "unknown"}"#).as_deref(), Some("$default"));
        assert_eq!(pick("not json").as_deref(), Some("$default"));
        assert_eq!(pick(r#"{"action": "$connect"}"#).as_deref(), Some("$default"));
        let nested = select_route("$request.body.msg.kind", br#"{"msg": {"kind": "send"}}"#, routes.iter().copied());
        assert_eq!(nested.as_deref(), Some("send"));
        assert_eq!(select_route("$request.body.action", b"{}", ["join"].into_iter()), None);
    }
}
