//! WebSocket APIs: the connections a stage holds, the `$connect`, message and
//! `$disconnect` routes they run, and the `@connections` management API that sends to,
//! describes and closes them. The socket itself is `aws-api`'s; this module sees frames
//! as data and answers with what to send.

use model::sync::Mutex;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde_json::{json, Value};
use tokio::sync::Notify;

use crate::events::{self, WsEventType, WsFacts};
use crate::execute::{answers, json_error};
use crate::{DataPlane, FunctionReply, GatewayRequest, GatewayResponse};
use apigateway::kinds::{AuthorizationType, IntegrationType, PassthroughBehavior};
use apigateway::new_id;
use apigateway::routing::{self, Address};
use apigateway::template::{self, Scope};
use apigateway::v2::{HttpIntegration, HttpSnapshot, Route, WsIntegrationResponse};

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
    /// `apiKeySelectionExpression`.
    api_key_selection: String,
}

/// An accepted connection: its id, and what to send down it.
pub struct WsAccepted {
    /// `connectionId`.
    pub id: String,
    /// Messages for the client, from `@connections` and two-way routes.
    pub outbox: Arc<Outbox>,
}

/// Room for a burst of broadcasts while the client reads; beyond it, PostToConnection
/// answers LimitExceededException, as AWS does when a client's buffer is full.
const OUTBOX_CAPACITY: usize = 256;

/// What waits to go down one connection. Cheaper than a channel while empty (no
/// allocation at all), which is how an idle connection spends its life.
#[derive(Default)]
pub struct Outbox {
    queue: Mutex<VecDeque<Outbound>>,
    ready: Notify,
    closed: AtomicBool,
}

/// Why a message could not be queued.
enum Refused {
    /// The connection has closed.
    Gone,
    /// The client is not reading fast enough.
    Full,
}

impl Outbox {
    fn push(&self, message: Outbound) -> Result<(), Refused> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Refused::Gone);
        }
        {
            let mut queue = self.queue.lock();
            // A close is never refused for want of room.
            if queue.len() >= OUTBOX_CAPACITY && message != Outbound::Close {
                return Err(Refused::Full);
            }
            queue.push_back(message);
        }
        self.ready.notify_one();
        Ok(())
    }

    /// The next message to send, when there is one.
    pub async fn next(&self) -> Outbound {
        loop {
            if let Some(m) = self.queue.lock().pop_front() {
                return m;
            }
            // A notification sent while nobody waited is kept for the next wait.
            self.ready.notified().await;
        }
    }

    /// The connection has ended: nothing more is queued, and what was is dropped.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.queue.lock().clear();
    }
}

struct Connection {
    /// Shared by every connection to the stage's deployment.
    target: Arc<WsTarget>,
    domain: String,
    source_ip: String,
    user_agent: Option<String>,
    connected_at_ms: i64,
    last_active_ms: AtomicI64,
    outbox: Arc<Outbox>,
    /// What the `$connect` authorizer granted: every event's `requestContext.authorizer`.
    authorizer: Option<Value>,
}

impl Connection {
    fn send(&self, message: Outbound) {
        let _ = self.outbox.push(message);
    }
}

/// A connection forgotten as it closes, its `$disconnect` still to run.
pub struct Closing {
    id: String,
    connection: Arc<Connection>,
}

/// Every open connection, by id; and the stages they connect to.
#[derive(Default)]
pub(crate) struct Connections {
    open: Mutex<HashMap<String, Arc<Connection>>>,
    /// By API and stage: what a handshake needs of it, shared by its connections until
    /// the stage's deployment or variables change.
    targets: Mutex<HashMap<(String, String), Arc<WsTarget>>>,
}

impl Connections {
    fn get(&self, id: &str) -> Option<Arc<Connection>> {
        self.open.lock().get(id).cloned()
    }

    pub fn count(&self) -> usize {
        self.open.lock().len()
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

/// A selection expression's value for a message: a member of its JSON body
/// (`$request.body.action`, `${request.body.a.b}`), or the expression itself as a literal
/// (`\$default` is `$default`).
pub fn evaluate(expression: &str, body: &[u8]) -> Option<String> {
    let member = expression
        .strip_prefix("$request.body.")
        .or_else(|| expression.strip_prefix("${request.body.").and_then(|p| p.strip_suffix('}')));
    let Some(path) = member else {
        return Some(expression.replace('\\', ""));
    };
    let v = serde_json::from_slice::<Value>(body).ok()?;
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
}

/// The route key a message selects: the value the API's selection expression
/// (`$request.body.action`) finds in it if there is a route for that, else `$default`.
pub fn select_route<'a>(selection: &str, body: &[u8], routes: impl Iterator<Item = &'a str> + Clone) -> Option<String> {
    let chosen = selection.starts_with("$").then(|| evaluate(selection, body)).flatten();
    match chosen {
        Some(key) if !key.starts_with('$') && routes.clone().any(|r| r == key) => Some(key),
        _ => routes.into_iter().any(|r| r == "$default").then(|| "$default".to_owned()),
    }
}

/// A template chosen by a selection expression from `templates`: the one its value names,
/// else the `$default` one.
fn choose_template<'a>(
    templates: &'a BTreeMap<String, String>,
    expression: Option<&str>,
    body: &[u8],
) -> Option<&'a String> {
    expression.and_then(|e| evaluate(e, body)).and_then(|k| templates.get(&k)).or_else(|| templates.get("$default"))
}

/// What a route's integration answered.
enum Answer {
    /// A proxy integration's payload: the function's result.
    Proxy(Bytes),
    /// A non-proxy integration's answer mapped through its integration response: a
    /// status (a `MOCK`'s `statusCode`; 200, or 500 for a function's error), and the
    /// message a two-way route sends back.
    Mapped { status: u16, message: Bytes },
}

/// What a non-proxy integration's templates can refer to: the event's body, query string,
/// headers and `requestContext` (`$context.connectionId`, `$context.routeKey`, …).
fn scope_of(event: &Value) -> Scope<'_> {
    let strings = |v: &Value| -> BTreeMap<String, String> {
        v.as_object()
            .map(|o| o.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned()))).collect())
            .unwrap_or_default()
    };
    let mut context = BTreeMap::new();
    if let Some(c) = event["requestContext"].as_object() {
        for (k, v) in c {
            match v {
                Value::String(s) => drop(context.insert(k.clone(), s.clone())),
                Value::Number(n) => drop(context.insert(k.clone(), n.to_string())),
                Value::Object(inner) => {
                    for (ik, iv) in inner {
                        if let Some(s) = iv.as_str() {
                            context.insert(format!("{k}.{ik}"), s.to_owned());
                        }
                    }
                }
                _ => {}
            }
        }
    }
    Scope {
        body: event["body"].as_str().unwrap_or(""),
        query: strings(&event["queryStringParameters"]),
        headers: strings(&event["headers"]),
        context,
        stage_variables: strings(&event["stageVariables"]),
        ..Scope::default()
    }
}

/// A non-proxy integration's answer (`integration_body`, selected by `selector`: a
/// status code or a function's error message) through the integration response whose
/// key matches, else the `$default` one; without one, the answer passes through.
fn map_answer(i: &HttpIntegration, selector: &str, integration_body: &[u8], request: &Scope<'_>) -> Result<Bytes, ()> {
    let matches = |key: &str| WsIntegrationResponse::pattern(key).ok().flatten().is_some_and(|p| p.matches(selector));
    let chosen =
        i.responses.values().find(|r| matches(&r.key)).or_else(|| i.responses.values().find(|r| r.key == "$default"));
    let Some(chosen) = chosen else { return Ok(Bytes::copy_from_slice(integration_body)) };
    match choose_template(&chosen.response_templates, chosen.template_selection_expression.as_deref(), integration_body)
    {
        Some(t) => {
            let text = String::from_utf8_lossy(integration_body);
            template::render(t, &Scope { body: &text, ..request.clone() }).map(Bytes::from).map_err(|e| {
                tracing::warn!("integration response template: {e}");
            })
        }
        None => Ok(Bytes::copy_from_slice(integration_body)),
    }
}

impl DataPlane {
    /// The WebSocket API stage `address` names, if it names one.
    pub fn websocket(&self, address: &Address) -> Option<Arc<WsTarget>> {
        let (stage_name, _) = routing::split_first_segment(&address.path);
        let (_, found) = self.inner.control.with_api(&address.api_id, |api| {
            let apigateway::Api::Http(api) = api else { return None };
            if api.protocol_type != apigateway::v2::ProtocolType::WebSocket {
                return None;
            }
            let stage = api.stages.get(stage_name)?;
            let d = stage.deployment_id.as_ref().and_then(|d| api.deployments.get(d))?;
            let mut targets = self.inner.connections.targets.lock();
            let key = (api.id.clone(), stage.name.clone());
            if let Some(t) = targets.get(&key).filter(|t| {
                Arc::ptr_eq(&t.snapshot, &d.snapshot)
                    && t.variables == stage.variables
                    && t.selection == api.route_selection_expression
                    && t.api_key_selection == api.api_key_selection_expression
            }) {
                return Some((t.clone(), false));
            }
            let target = Arc::new(WsTarget {
                api_id: api.id.clone(),
                account: api.account.clone(),
                region: api.region.clone(),
                stage: stage.name.clone(),
                variables: stage.variables.clone(),
                snapshot: d.snapshot.clone(),
                selection: api.route_selection_expression.clone(),
                api_key_selection: api.api_key_selection_expression.clone(),
            });
            targets.insert(key, target.clone());
            Some((target, true))
        })?;
        let (target, fresh) = found?;
        if fresh {
            // A miss is a new deployment: the time to forget the stages of deleted APIs.
            let apis: Vec<String> = self.inner.connections.targets.lock().keys().map(|(a, _)| a.clone()).collect();
            let gone: Vec<String> =
                apis.into_iter().filter(|a| self.inner.control.with_api(a, |_| ()).is_none()).collect();
            if !gone.is_empty() {
                self.inner.connections.targets.lock().retain(|(a, _), _| !gone.contains(a));
            }
        }
        Some(target)
    }

    fn ws_route<'a>(t: &'a WsTarget, key: &str) -> Option<&'a Route> {
        t.snapshot.routes.iter().find(|r| r.route_key == key)
    }

    /// Runs a route's integration: a function by proxy, an HTTP endpoint by proxy, or a
    /// `MOCK`, function or HTTP endpoint through the integration's request template and
    /// integration responses.
    async fn ws_integrate(&self, t: &WsTarget, route: &Route, event: Value) -> Result<Answer, ()> {
        let integration = route
            .target
            .as_deref()
            .and_then(|x| x.strip_prefix("integrations/"))
            .and_then(|id| t.snapshot.integrations.get(id))
            .ok_or(())?;
        let function = || {
            let uri = routing::with_stage_variables(integration.uri.as_deref().unwrap_or(""), &t.variables);
            routing::lambda_function_of(&uri).ok_or(())
        };
        let source_arn =
            crate::authorizer::method_arn(&t.region, &t.account, &t.api_id, &t.stage, &route.route_key, "");
        let source_arn = source_arn.trim_end_matches('/');
        let invoke = |function: String, payload: Bytes| async move {
            let call = self.inner.functions.invoke(&function, payload, source_arn);
            match tokio::time::timeout(Duration::from_millis(integration.timeout_ms), call).await {
                Ok(FunctionReply::Unavailable(why)) => {
                    tracing::warn!(function, "integration failed: {why}");
                    None
                }
                Ok(reply) => Some(reply),
                Err(_) => None,
            }
        };
        if integration.integration_type == IntegrationType::AwsProxy {
            return match invoke(function()?, event.to_string().into()).await {
                Some(FunctionReply::Returned(p)) => Ok(Answer::Proxy(p)),
                _ => Err(()),
            };
        }
        let scope = scope_of(&event);
        let body = scope.body.as_bytes();
        let payload = match choose_template(
            &integration.request_templates,
            integration.template_selection_expression.as_deref(),
            body,
        ) {
            Some(template) => template::render(template, &scope).map_err(|e| {
                tracing::warn!("integration request template: {e}");
            })?,
            None => match PassthroughBehavior::of(integration.passthrough_behavior.as_deref()) {
                PassthroughBehavior::Never => return Err(()),
                PassthroughBehavior::WhenNoTemplates if !integration.request_templates.is_empty() => return Err(()),
                _ => scope.body.to_owned(),
            },
        };
        match integration.integration_type {
            IntegrationType::Mock => {
                let status = serde_json::from_str::<Value>(&payload)
                    .ok()
                    .and_then(|v| v.get("statusCode").and_then(Value::as_u64))
                    .map_or(200, |s| s as u16);
                Ok(Answer::Mapped { status, message: map_answer(integration, &status.to_string(), b"", &scope)? })
            }
            IntegrationType::Http | IntegrationType::HttpProxy => {
                let url = routing::with_stage_variables(integration.uri.as_deref().unwrap_or(""), &t.variables);
                let method = integration.method.as_deref().unwrap_or("POST");
                let proxy = integration.integration_type == IntegrationType::HttpProxy;
                let body = match (proxy, event["isBase64Encoded"].as_bool()) {
                    // A binary message goes on as the bytes the client sent.
                    (true, Some(true)) => {
                        use base64::Engine;
                        Bytes::from(base64::engine::general_purpose::STANDARD.decode(body).map_err(|_| ())?)
                    }
                    (true, _) => Bytes::copy_from_slice(body),
                    (false, _) => Bytes::from(payload),
                };
                let timeout = Duration::from_millis(integration.timeout_ms);
                let (status, answer) = self.ws_http(method, &url, body, timeout).await.ok_or(())?;
                let message =
                    if proxy { answer } else { map_answer(integration, &status.to_string(), &answer, &scope)? };
                Ok(Answer::Mapped { status, message })
            }
            IntegrationType::Aws => match invoke(function()?, payload.into()).await {
                Some(FunctionReply::Returned(p)) => {
                    Ok(Answer::Mapped { status: 200, message: map_answer(integration, "200", &p, &scope)? })
                }
                Some(FunctionReply::Failed(error)) => {
                    let message = serde_json::from_slice::<Value>(&error)
                        .ok()
                        .and_then(|e| e.get("errorMessage").and_then(Value::as_str).map(str::to_owned))
                        .unwrap_or_default();
                    Ok(Answer::Mapped { status: 500, message: map_answer(integration, &message, &error, &scope)? })
                }
                _ => Err(()),
            },
            IntegrationType::AwsProxy => Err(()),
        }
    }

    /// Calls an HTTP backend with a message: its status and body, or nothing if it
    /// cannot be reached in time.
    async fn ws_http(&self, method: &str, url: &str, body: Bytes, timeout: Duration) -> Option<(u16, Bytes)> {
        let request = hyper::Request::builder()
            .method(method)
            .uri(url)
            .header("content-type", "application/json")
            .body(http_body_util::Full::new(body))
            .ok()?;
        match tokio::time::timeout(timeout, self.inner.backends.send(request, crate::MAX_PAYLOAD)).await {
            Ok(Ok((parts, body))) => Some((parts.status.as_u16(), body)),
            Ok(Err(e)) => {
                tracing::debug!(url, "backend failed: {e}");
                None
            }
            Err(_) => None,
        }
    }

    fn facts<'a>(&self, c: &'a Connection, id: &'a str, headers: &'a [(String, String)]) -> WsFacts<'a> {
        WsFacts {
            connection_id: id,
            connected_at_ms: c.connected_at_ms,
            domain_name: &c.domain,
            api_id: &c.target.api_id,
            stage: &c.target.stage,
            source_ip: &c.source_ip,
            user_agent: c.user_agent.as_deref(),
            headers,
            query: None,
            stage_variables: &c.target.variables,
        }
    }

    /// The `$connect` event of a handshake: its headers and query string.
    fn connect_event(&self, conn: &Connection, id: &str, req: &GatewayRequest, now: i64) -> Value {
        let mut facts = self.facts(conn, id, &req.headers);
        facts.query = req.query.as_deref();
        events::websocket_event(&facts, WsEventType::Connect, "$connect", &req.request_id, now, None, None, None)
    }

    /// A handshake: runs `$connect` (if the API has it) and accepts the connection unless
    /// it refuses (a function error or a non-2xx `statusCode`); with the connection, the
    /// headers `$connect` answered for the handshake's response (`Sec-WebSocket-Protocol`).
    pub async fn ws_connect(
        &self,
        t: Arc<WsTarget>,
        req: &GatewayRequest,
    ) -> Result<(WsAccepted, Vec<(String, String)>), GatewayResponse> {
        let id = connection_id();
        let now = model::clock::now_ms();
        let outbox = Arc::new(Outbox::default());
        let header = |n: &str| req.headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        let mut conn = Connection {
            domain: req.host.clone(),
            source_ip: req.source_ip.clone(),
            user_agent: header("user-agent"),
            connected_at_ms: now,
            last_active_ms: AtomicI64::new(now),
            outbox: outbox.clone(),
            authorizer: None,
            target: t,
        };
        let mut headers = Vec::new();
        if let Some(route) = Self::ws_route(&conn.target, "$connect") {
            let mut usage_key = None;
            if route.authorization_type == AuthorizationType::AwsIam && !req.iam_allows() {
                return Err(answers::http_forbidden());
            }
            if route.authorization_type == AuthorizationType::Custom {
                let (context, key) = self.ws_authorize(&conn, &id, route, req, now).await?;
                conn.authorizer = Some(context);
                usage_key = key;
            }
            if route.api_key_required {
                self.ws_admit_key(&conn.target, req, usage_key)?;
            }
            let mut event = self.connect_event(&conn, &id, req, now);
            if let Some(a) = &conn.authorizer {
                event["requestContext"]["authorizer"] = a.clone();
            }
            let status = match self.ws_integrate(&conn.target, route, event).await {
                Err(()) => return Err(answers::http_internal()),
                Ok(Answer::Proxy(payload)) => {
                    let answer = serde_json::from_slice::<Value>(&payload).unwrap_or_default();
                    if let Some(h) = answer.get("headers").and_then(Value::as_object) {
                        let text = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                        headers.extend(h.iter().map(|(k, v)| (k.clone(), text(v))));
                    }
                    answer.get("statusCode").and_then(Value::as_u64).map_or(200, |s| s as u16)
                }
                Ok(Answer::Mapped { status, .. }) => status,
            };
            if !(200..300).contains(&status) {
                return Err(json_error(status, "Forbidden", None));
            }
        }
        self.inner.connections.open.lock().insert(id.clone(), Arc::new(conn));
        Ok((WsAccepted { id, outbox }, headers))
    }

    /// The API key a `$connect` that requires one was given (by the API's key selection
    /// expression: the `x-api-key` header, or the authorizer's `usageIdentifierKey`),
    /// admitted by a usage plan of the stage.
    fn ws_admit_key(
        &self,
        t: &WsTarget,
        req: &GatewayRequest,
        usage_key: Option<String>,
    ) -> Result<(), GatewayResponse> {
        let value = if t.api_key_selection.contains("authorizer.usageIdentifierKey") {
            usage_key
        } else {
            let name = t.api_key_selection.trim_start_matches("$request.header.");
            req.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone())
        };
        match self.inner.control.admit_key(&t.api_id, &t.stage, "$connect", value.as_deref()) {
            Ok(_) => Ok(()),
            Err(apigateway::usage::Refusal::Forbidden) => Err(answers::http_forbidden()),
            Err(_) => Err(json_error(429, "Too Many Requests", None)),
        }
    }

    /// Runs the `$connect` route's Lambda authorizer: the `authorizer` member of the
    /// connection's events (and the `usageIdentifierKey` it named) if it allows, else the
    /// refusal.
    async fn ws_authorize(
        &self,
        conn: &Connection,
        id: &str,
        route: &Route,
        req: &GatewayRequest,
        now: i64,
    ) -> Result<(Value, Option<String>), GatewayResponse> {
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
            source_arn: crate::authorizer::authorizer_arn(&arn, &a.id),
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
        Ok((Value::Object(context), grant.usage_key.clone()))
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
            c.send(Outbound::Text(error.to_string()));
            return;
        };
        let message_id = new_id(12);
        let facts = self.facts(&c, id, &[]);
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
                c.send(Outbound::Text(error.to_string()));
            }
            Ok(Answer::Proxy(payload)) if route.two_way() => {
                // A proxy answer's body, or the answer itself.
                let parsed: Option<Value> = serde_json::from_slice(&payload).ok();
                let body = match parsed.as_ref().and_then(|v| v.get("body")) {
                    Some(Value::String(b)) => b.clone(),
                    Some(other) => other.to_string(),
                    None => String::from_utf8_lossy(&payload).into_owned(),
                };
                c.send(Outbound::Text(body));
            }
            Ok(Answer::Mapped { message, .. }) if route.two_way() && !message.is_empty() => {
                let out = match String::from_utf8(message.to_vec()) {
                    Ok(text) => Outbound::Text(text),
                    Err(_) => Outbound::Binary(message),
                };
                c.send(out);
            }
            Ok(_) => {}
        }
    }

    /// The connection closed, however it closed: forgets it and runs `$disconnect`.
    pub async fn ws_disconnect(&self, id: &str, status: u16, reason: &str) {
        if let Some(closing) = self.ws_forget(id) {
            self.ws_disconnected(closing, status, reason).await;
        }
    }

    /// The connection is closing: from now on `@connections` finds it gone, as its client
    /// may ask as soon as it sees the close frame.
    pub fn ws_forget(&self, id: &str) -> Option<Closing> {
        let c = self.inner.connections.open.lock().remove(id)?;
        c.outbox.close();
        Some(Closing { id: id.to_owned(), connection: c })
    }

    /// Runs `$disconnect` for a connection forgotten with [`DataPlane::ws_forget`].
    pub async fn ws_disconnected(&self, closing: Closing, status: u16, reason: &str) {
        let Closing { id, connection: c } = closing;
        let id = id.as_str();
        if let Some(route) = Self::ws_route(&c.target, "$disconnect") {
            let request_id = uuid::Uuid::new_v4().to_string();
            let facts = self.facts(&c, id, &[]);
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
                match c.outbox.push(message) {
                    Ok(()) => GatewayResponse { status: 200, headers: Vec::new(), body: Bytes::new() },
                    Err(Refused::Gone) => gone(),
                    Err(Refused::Full) => {
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
            "DELETE" => match c.outbox.push(Outbound::Close) {
                Err(Refused::Gone) => gone(),
                _ => GatewayResponse { status: 204, headers: Vec::new(), body: Bytes::new() },
            },
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
