//! The execute-api data plane: a request addressed to an API is matched against the
//! deployment its stage serves, sent to its integration, and answered as API Gateway
//! answers — including its own error responses.

mod http_api;
mod snapshot;
pub(crate) use snapshot::ApiSnapshot;
use snapshot::{http_snapshot, rest_snapshot};

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::Value;

use crate::authorizer;
use crate::events::{self, ProxyResponse, RequestFacts, RestRoute};
use crate::observe::Trace;
use crate::{mapped, DataPlane, FunctionReply, MAX_PAYLOAD};
use apigateway::kinds::{AuthorizationType, IntegrationType};
use apigateway::rest::{AccessLog, Authorizer, Integration, Resource};
use apigateway::routing::{self, Address};
use apigateway::usage::Refusal;
use apigateway::v2::{HttpIntegration, HttpSnapshot};

/// An HTTP request addressed to an API.
#[derive(Debug, Clone)]
pub struct GatewayRequest {
    /// The method.
    pub method: String,
    /// The `Host` it was sent to.
    pub host: String,
    /// The raw path as requested.
    pub path: String,
    /// The raw query string, without `?`.
    pub query: Option<String>,
    /// The headers, in order, names lower case.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Bytes,
    /// The client's address.
    pub source_ip: String,
    /// The request's id.
    pub request_id: String,
    /// What the server made of its SigV4 signature, for `AWS_IAM` methods.
    pub signature: Signed,
}

/// What the server made of a request's SigV4 signature.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Signed {
    /// Not verified (open mode): an `AWS_IAM` method only needs one to be there.
    #[default]
    Unchecked,
    /// Verified, by a key of this account.
    By(String),
    /// Verification failed, or there is none (authenticated mode).
    Refused,
}

impl GatewayRequest {
    /// Whether an `AWS_IAM` method lets this request through.
    pub(crate) fn iam_allows(&self) -> bool {
        match &self.signature {
            Signed::Unchecked => {
                self.headers.iter().any(|(k, v)| k == "authorization" && v.starts_with("AWS4-HMAC-SHA256 "))
            }
            Signed::By(_) => true,
            Signed::Refused => false,
        }
    }
}

impl GatewayRequest {
    /// What events and templates are built from: this request, routed to `path` (and
    /// `full_path`, with the stage) of the API and stage `(api id, account, stage, stage
    /// variables)`.
    pub(crate) fn facts<'a>(
        &'a self,
        (api_id, account, stage, variables): (&'a str, &'a str, &'a str, &'a BTreeMap<String, String>),
        path: &'a str,
        full_path: &'a str,
        params: &'a BTreeMap<String, String>,
        now: i64,
    ) -> RequestFacts<'a> {
        RequestFacts {
            method: &self.method,
            path,
            full_path,
            query: self.query.as_deref(),
            headers: &self.headers,
            body: &self.body,
            source_ip: &self.source_ip,
            domain_name: &self.host,
            api_id,
            account,
            stage,
            request_id: &self.request_id,
            time_ms: now,
            stage_variables: variables,
            path_parameters: params,
            protocol: "HTTP/1.1",
        }
    }
}

/// The answer.
#[derive(Debug, Clone)]
pub struct GatewayResponse {
    /// The status.
    pub status: u16,
    /// Headers, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Bytes,
}

impl GatewayResponse {
    /// API Gateway's answer to a request body over [`MAX_PAYLOAD`].
    pub fn too_large() -> GatewayResponse {
        answers::too_large()
    }
}

pub(crate) type HttpClient = outbound::Client;

pub(crate) fn json_error(status: u16, message: &str, error_type: Option<&str>) -> GatewayResponse {
    let mut headers = vec![("content-type".to_owned(), "application/json".to_owned())];
    if let Some(t) = error_type {
        headers.push(("x-amzn-errortype".into(), t.into()));
    }
    GatewayResponse { status, headers, body: Bytes::from(serde_json::json!({ "message": message }).to_string()) }
}

/// One of API Gateway's own error answers as the API's deployed gateway responses
/// reshape it; any other answer as it is.
fn gateway_response(t: &RestTarget, resp: GatewayResponse, req: &GatewayRequest) -> GatewayResponse {
    let error_type =
        resp.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("x-amzn-errortype")).map(|(_, v)| v.as_str());
    let Some(kind) = apigateway::responses::kind_of(resp.status, error_type) else { return resp };
    let body: serde_json::Value = serde_json::from_slice(&resp.body).unwrap_or_default();
    let message = body.get("message").or_else(|| body.get("Message")).and_then(|m| m.as_str()).unwrap_or_default();
    let query =
        req.query.as_deref().map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default();
    let context = [
        ("requestId".to_owned(), req.request_id.clone()),
        ("stage".to_owned(), t.stage.clone()),
        ("apiId".to_owned(), t.api_id.clone()),
    ]
    .into();
    let scope = apigateway::template::Scope {
        body: "",
        query,
        headers: req.headers.iter().cloned().collect(),
        context,
        stage_variables: t.variables.clone(),
        ..Default::default()
    };
    match apigateway::responses::customised(&t.gateway_responses, kind, resp.status, message, &scope) {
        Some((status, extra, body)) => {
            let mut headers = resp.headers;
            headers.extend(extra);
            GatewayResponse { status, headers, body: Bytes::from(body) }
        }
        None => resp,
    }
}

/// API Gateway's own answers.
pub(crate) mod answers {
    use super::{json_error, GatewayResponse};

    pub fn missing_token() -> GatewayResponse {
        json_error(403, "Missing Authentication Token", Some("MissingAuthenticationTokenException"))
    }
    pub fn forbidden() -> GatewayResponse {
        json_error(403, "Forbidden", Some("ForbiddenException"))
    }
    pub fn rest_internal() -> GatewayResponse {
        json_error(500, "Internal server error", Some("InternalServerErrorException"))
    }
    pub fn rest_bad_gateway() -> GatewayResponse {
        json_error(502, "Internal server error", Some("InternalServerErrorException"))
    }
    pub fn rest_timeout() -> GatewayResponse {
        json_error(504, "Endpoint request timed out", None)
    }
    pub fn too_large() -> GatewayResponse {
        json_error(413, "Request Too Long", None)
    }
    pub fn too_many_requests() -> GatewayResponse {
        json_error(429, "Too Many Requests", Some("TooManyRequestsException"))
    }
    pub fn limit_exceeded() -> GatewayResponse {
        json_error(429, "Limit Exceeded", Some("LimitExceededException"))
    }
    pub fn unauthorized() -> GatewayResponse {
        json_error(401, "Unauthorized", Some("UnauthorizedException"))
    }
    pub fn denied(explicit: bool) -> GatewayResponse {
        let message = if explicit {
            "User is not authorized to access this resource with an explicit deny"
        } else {
            "User is not authorized to access this resource"
        };
        GatewayResponse {
            status: 403,
            headers: vec![
                ("content-type".into(), "application/json".into()),
                ("x-amzn-errortype".into(), "AccessDeniedException".into()),
            ],
            body: bytes::Bytes::from(serde_json::json!({ "Message": message }).to_string()),
        }
    }
    pub fn authorizer_failed() -> GatewayResponse {
        GatewayResponse {
            status: 500,
            headers: vec![
                ("content-type".into(), "application/json".into()),
                ("x-amzn-errortype".into(), "AuthorizerConfigurationException".into()),
            ],
            body: bytes::Bytes::from_static(b"{\"message\":null}"),
        }
    }
    pub fn not_found() -> GatewayResponse {
        json_error(404, "Not Found", None)
    }
    pub fn http_internal() -> GatewayResponse {
        json_error(500, "Internal Server Error", None)
    }
    pub fn too_many_requests_http() -> GatewayResponse {
        json_error(429, "Too Many Requests", None)
    }
    pub fn http_unauthorized() -> GatewayResponse {
        json_error(401, "Unauthorized", None)
    }
    pub fn http_forbidden() -> GatewayResponse {
        json_error(403, "Forbidden", None)
    }
    pub fn http_unavailable() -> GatewayResponse {
        json_error(503, "Service Unavailable", None)
    }
}

/// What a REST request needs from the API and its stage: part of the API's snapshot.
pub(crate) struct RestTarget {
    pub(crate) access_log: Option<AccessLog>,
    pub(crate) api_id: String,
    pub(crate) account: String,
    pub(crate) region: String,
    pub(crate) binary_media_types: Vec<String>,
    pub(crate) api_key_source: String,
    pub(crate) stage: String,
    pub(crate) variables: BTreeMap<String, String>,
    pub(crate) method_settings: BTreeMap<String, apigateway::rest::MethodSetting>,
    pub(crate) resources: Arc<Vec<Resource>>,
    pub(crate) authorizers: Arc<BTreeMap<String, Authorizer>>,
    pub(crate) gateway_responses: Arc<BTreeMap<String, apigateway::responses::GatewayResponse>>,
}

/// The method a REST request reached, and what it brought there.
pub(crate) struct Called<'a> {
    pub(crate) resource: &'a Resource,
    pub(crate) integration: &'a apigateway::rest::Integration,
    pub(crate) params: &'a BTreeMap<String, String>,
    /// The API key's value and id, when the method requires one.
    pub(crate) api_key: Option<(String, String)>,
    /// The authorizer's context, for `requestContext.authorizer`.
    pub(crate) authorizer: Option<Value>,
}

/// What an HTTP API request needs from the API.
pub(crate) struct HttpTarget {
    pub(crate) access_log: Option<AccessLog>,
    pub(crate) api_id: String,
    pub(crate) account: String,
    pub(crate) region: String,
    pub(crate) default_route_settings: apigateway::v2::RouteSettings,
    pub(crate) route_settings: BTreeMap<String, apigateway::v2::RouteSettings>,
    pub(crate) stage: String,
    pub(crate) variables: BTreeMap<String, String>,
    pub(crate) snapshot: Arc<HttpSnapshot>,
}

/// The stage a request was served by, for its metrics and access log.
enum Served {
    Rest(Arc<RestTarget>),
    Http(Arc<HttpTarget>),
}

impl Served {
    fn names(&self) -> (&str, &str, Option<&AccessLog>) {
        match self {
            Served::Rest(t) => (&t.api_id, &t.stage, t.access_log.as_ref()),
            Served::Http(t) => (&t.api_id, &t.stage, t.access_log.as_ref()),
        }
    }
}

enum Target {
    Rest(Arc<RestTarget>, String),
    Http(Arc<HttpTarget>, String),
    /// A plain request to a WebSocket API: only `@connections` answers those.
    WebSocket(String),
    Unknown(GatewayResponse),
}

impl DataPlane {
    /// Which API a request addresses, if any (by host or path form).
    pub fn address(&self, host: &str, path: &str) -> Option<Address> {
        routing::address(host, path)
    }

    /// The snapshot of the API `api_id`: the cached one while the configuration's
    /// generation has not moved on, else one built now (under the configuration's read
    /// lock, with the generation it has, so a change cannot slip in between).
    fn snapshot(&self, api_id: &str) -> Option<Arc<ApiSnapshot>> {
        let current = self.inner.control.generation();
        if let Some((generation, s)) = self.inner.snapshots.read().get(api_id) {
            if *generation == current {
                return Some(s.clone());
            }
        }
        let built = self.inner.control.with_api(api_id, |api| match api {
            apigateway::Api::Rest(api) => rest_snapshot(api),
            apigateway::Api::Http(api) => http_snapshot(api),
        });
        let Some((generation, built)) = built else {
            self.inner.snapshots.write().remove(api_id);
            return None;
        };
        let built = Arc::new(built);
        self.inner.snapshots.write().insert(api_id.to_owned(), (generation, built.clone()));
        Some(built)
    }

    fn target(&self, address: &Address) -> Target {
        let Some(api) = self.snapshot(&address.api_id) else { return Target::Unknown(answers::not_found()) };
        match &*api {
            ApiSnapshot::Rest { disabled: true, .. } => Target::Unknown(answers::forbidden()),
            ApiSnapshot::Rest { stages, .. } => {
                let (stage_name, rest) = routing::split_first_segment(&address.path);
                match stages.get(stage_name) {
                    Some(t) => Target::Rest(t.clone(), rest.to_owned()),
                    None => Target::Unknown(answers::forbidden()),
                }
            }
            ApiSnapshot::Http { disabled: true, .. } | ApiSnapshot::WebSocket { disabled: true } => {
                Target::Unknown(answers::http_forbidden())
            }
            ApiSnapshot::WebSocket { .. } => Target::WebSocket(address.api_id.clone()),
            ApiSnapshot::Http { stages, .. } => {
                let (first, rest) = routing::split_first_segment(&address.path);
                let (stage, path) = match stages.get(first).filter(|_| first != "$default") {
                    Some(s) => (s, rest.to_owned()),
                    None => match stages.get("$default") {
                        Some(s) => (s, address.path.clone()),
                        None => return Target::Unknown(answers::not_found()),
                    },
                };
                match stage {
                    Some(t) => Target::Http(t.clone(), path),
                    None => Target::Unknown(answers::not_found()),
                }
            }
        }
    }

    /// Serves one execute-api request.
    pub async fn execute(&self, address: Address, req: GatewayRequest) -> GatewayResponse {
        let started = Instant::now();
        let now = model::clock::now_ms();
        let mut trace = Trace::default();
        let (resp, served) = match self.target(&address) {
            Target::Unknown(r) => (r, None),
            Target::WebSocket(api_id) => (
                self.manage_connection(Some(&api_id), &address.path, &req).unwrap_or_else(answers::http_forbidden),
                None,
            ),
            Target::Rest(t, path) => {
                let mut resp = self.execute_rest(&t, &path, &req, now, &mut trace).await;
                if !t.gateway_responses.is_empty() {
                    resp = gateway_response(&t, resp, &req);
                }
                resp.headers.push(("x-amzn-requestid".into(), req.request_id.clone()));
                resp.headers.push(("x-amz-apigw-id".into(), apigw_id(&req.request_id)));
                (resp, Some(Served::Rest(t)))
            }
            Target::Http(t, path) => {
                let mut resp = self.execute_http(&t, &path, &req, now, &mut trace).await;
                resp.headers.push(("apigw-requestid".into(), apigw_id(&req.request_id)));
                (resp, Some(Served::Http(t)))
            }
        };
        if let Some(served) = served {
            let (api_id, stage, access_log) = served.names();
            let finished = Instant::now();
            let latency = finished - started;
            let integration = trace.integration_started.map(|s| finished - s);
            self.inner.metrics.record(api_id, stage, resp.status, latency, integration);
            if let Some(log) = access_log {
                if let (Some(destination), Some(format)) = (&log.destination_arn, &log.format) {
                    let context = access_context(&req, &resp, api_id, stage, now, latency, integration, &trace);
                    if let Some(sink) = &self.inner.settings.access_logs {
                        let line = crate::observe::access_line(format, context);
                        sink.write(destination, &format!("{api_id}/{stage}"), line);
                    }
                }
            }
        }
        resp
    }

    async fn execute_rest(
        &self,
        t: &RestTarget,
        path: &str,
        req: &GatewayRequest,
        now: i64,
        trace: &mut Trace,
    ) -> GatewayResponse {
        let candidates = t.resources.iter().map(|r| (r.path.as_str(), r));
        let Some((resource, params)) = routing::best_match(candidates, path) else { return answers::missing_token() };
        trace.resource_path = Some(resource.path.clone());
        let Some(method) = resource.methods.get(&req.method).or_else(|| resource.methods.get("ANY")) else {
            return answers::missing_token();
        };
        let Some(integration) = method.integration.as_ref() else { return answers::missing_token() };
        if !self.admit_rest(t, &resource.path, &method.http_method) {
            return answers::too_many_requests();
        }
        let full_path = format!("/{}{}", t.stage, if path == "/" { "" } else { path });
        let facts = req.facts((&t.api_id, &t.account, &t.stage, &t.variables), path, &full_path, &params, now);
        let mut grant = None;
        match method.authorization_type {
            AuthorizationType::Custom => {
                let authorizer = method.authorizer_id.as_deref().and_then(|id| t.authorizers.get(id));
                let Some(authorizer) = authorizer else { return answers::authorizer_failed() };
                let arn =
                    authorizer::method_arn(&t.region, &t.account, &t.api_id, &t.stage, &req.method, &resource.path);
                match self.authorize_rest(authorizer, &facts, &resource.path, &arn).await {
                    Ok(g) => grant = Some(g),
                    Err(refused) => return refused,
                }
            }
            // In authenticated mode the signature was verified; in open mode an AWS_IAM
            // method needs one there, as any caller of it on AWS sends.
            AuthorizationType::AwsIam if !req.iam_allows() => {
                return answers::missing_token();
            }
            // There is no Cognito here to check a user pool's tokens against: refused,
            // rather than let through unchecked.
            AuthorizationType::CognitoUserPools => return answers::unauthorized(),
            _ => {}
        }
        let mut api_key = None;
        if method.api_key_required {
            let value = if t.api_key_source == "AUTHORIZER" {
                grant.as_ref().and_then(|g| g.usage_key.clone())
            } else {
                facts.header("x-api-key").map(str::to_owned)
            };
            let method_key = format!("{}/{}", resource.path, method.http_method);
            match self.inner.control.admit_key(&t.api_id, &t.stage, &method_key, value.as_deref()) {
                Ok(k) => api_key = Some(k),
                Err(Refusal::Forbidden) => return answers::forbidden(),
                Err(Refusal::Throttled) => return answers::too_many_requests(),
                Err(Refusal::QuotaExceeded) => return answers::limit_exceeded(),
            }
        }
        trace.principal_id = grant.as_ref().and_then(|g| g.principal_id.clone());
        let authorizer_context = grant.as_ref().map(|g| {
            let mut c = g.context.clone();
            c.insert("principalId".into(), g.principal_id.clone().map_or(Value::Null, Value::String));
            c.insert("integrationLatency".into(), Value::from(0));
            Value::Object(c)
        });
        trace.integration_started = Some(Instant::now());
        let called = Called { resource, integration, params: &params, api_key, authorizer: authorizer_context };
        self.integrate_rest(t, &called, &facts, req).await.0
    }

    /// Runs a REST method's integration for a routed request: the answer, and for a
    /// failure of the gateway's own, what went wrong (TestInvokeMethod's log shows it).
    pub(crate) async fn integrate_rest(
        &self,
        t: &RestTarget,
        called: &Called<'_>,
        facts: &RequestFacts<'_>,
        req: &GatewayRequest,
    ) -> (GatewayResponse, Option<&'static str>) {
        let (resource, integration, params) = (called.resource, called.integration, called.params);
        let timeout = Duration::from_millis(integration.timeout_ms);
        let unreachable = "Execution failed due to configuration error: Invalid endpoint address";
        let resp = match integration.kind {
            IntegrationType::AwsProxy => {
                let uri = routing::with_stage_variables(integration.uri.as_deref().unwrap_or(""), &t.variables);
                let Some(function) = routing::lambda_function_of(&uri) else { return (answers::rest_internal(), None) };
                let route = RestRoute {
                    resource_path: &resource.path,
                    resource_id: &resource.id,
                    binary: events::is_binary_type(facts.header("content-type"), &t.binary_media_types),
                    api_key: called.api_key.as_ref().map(|(v, id)| (v.as_str(), id.as_str())),
                    authorizer: called.authorizer.clone(),
                };
                let event = events::rest_event(facts, &route, &forwarded_headers(req, true));
                let source =
                    authorizer::method_arn(&t.region, &t.account, &t.api_id, &t.stage, &req.method, &resource.path);
                let call = self.inner.functions.invoke(&function, event.to_string().into(), &source);
                let reply = tokio::time::timeout(timeout, call);
                match reply.await {
                    Err(_) => answers::rest_timeout(),
                    Ok(FunctionReply::Unavailable(why)) => {
                        tracing::warn!(function, "integration failed: {why}");
                        answers::rest_internal()
                    }
                    Ok(FunctionReply::Failed(_)) => answers::rest_bad_gateway(),
                    Ok(FunctionReply::Returned(payload)) => match events::rest_proxy_response(&payload) {
                        None => answers::rest_bad_gateway(),
                        Some(p) => {
                            let accept = facts.header("accept");
                            let decode = accept.is_some_and(|a| {
                                a.split(',').any(|m| events::is_binary_type(Some(m), &t.binary_media_types))
                            });
                            proxy_answer(p, decode, true)
                        }
                    },
                }
            }
            IntegrationType::HttpProxy => {
                let url = backend_url(integration, &t.variables, params, req.query.as_deref());
                let method =
                    integration.http_method.as_deref().filter(|m| *m != "ANY").unwrap_or(&req.method).to_owned();
                match self.forward(&method, &url, req, timeout).await {
                    Ok(r) => r,
                    Err(Failure::Timeout) => answers::rest_timeout(),
                    Err(Failure::Unreachable) => return (answers::rest_internal(), Some(unreachable)),
                }
            }
            IntegrationType::Http => {
                let url = backend_url(integration, &t.variables, params, req.query.as_deref());
                let method =
                    integration.http_method.as_deref().filter(|m| *m != "ANY").unwrap_or(&req.method).to_owned();
                let scope = mapped::scope(facts, &resource.path);
                let Ok(body) = mapped::request_body(integration, facts, &scope) else {
                    return (answers::rest_internal(), None);
                };
                let outbound = GatewayRequest { body: body.into(), ..req.clone() };
                match self.forward(&method, &url, &outbound, timeout).await {
                    Ok(r) => mapped::answer(integration, Some(&r.status.to_string()), &r.headers, r.body, &scope),
                    Err(Failure::Timeout) => answers::rest_timeout(),
                    Err(Failure::Unreachable) => return (answers::rest_internal(), Some(unreachable)),
                }
            }
            IntegrationType::Mock => {
                let scope = mapped::scope(facts, &resource.path);
                let Ok(status) = mapped::mock_status(integration, facts, &scope) else {
                    return (answers::rest_internal(), None);
                };
                mapped::answer(integration, Some(&status.to_string()), &[], Bytes::new(), &scope)
            }
            IntegrationType::Aws => {
                let scope = mapped::scope(facts, &resource.path);
                let reply = tokio::time::timeout(timeout, self.integrate_aws(integration, facts, &scope, &t.region));
                match reply.await {
                    Ok(r) => r,
                    Err(_) => answers::rest_timeout(),
                }
            }
        };
        (resp, None)
    }
}

pub(crate) enum Failure {
    Timeout,
    Unreachable,
}

/// The `$context` variables of an access log line.
#[allow(clippy::too_many_arguments)]
fn access_context(
    req: &GatewayRequest,
    resp: &GatewayResponse,
    api_id: &str,
    stage: &str,
    now: i64,
    latency: Duration,
    integration: Option<Duration>,
    trace: &Trace,
) -> BTreeMap<String, String> {
    let header = |name: &str| req.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    let error_type = resp.headers.iter().find(|(k, _)| k == "x-amzn-errortype").map(|(_, v)| v.clone());
    let error_message = error_type
        .as_ref()
        .and_then(|_| serde_json::from_slice::<Value>(&resp.body).ok()?.get("message")?.as_str().map(str::to_owned));
    let ms = |d: Option<Duration>| d.map_or_else(|| "-".to_owned(), |d| d.as_millis().to_string());
    let entries = [
        ("requestId", req.request_id.clone()),
        ("extendedRequestId", req.request_id.clone()),
        ("apiId", api_id.to_owned()),
        ("stage", stage.to_owned()),
        ("domainName", req.host.clone()),
        ("httpMethod", req.method.clone()),
        ("path", req.path.clone()),
        ("resourcePath", trace.resource_path.clone().unwrap_or_default()),
        ("routeKey", trace.route_key.clone().unwrap_or_else(|| "-".into())),
        ("protocol", "HTTP/1.1".to_owned()),
        ("status", resp.status.to_string()),
        ("responseLength", resp.body.len().to_string()),
        ("responseLatency", latency.as_millis().to_string()),
        ("integrationLatency", ms(integration)),
        ("integration.latency", ms(integration)),
        ("identity.sourceIp", req.source_ip.clone()),
        ("identity.userAgent", header("user-agent")),
        ("identity.caller", "-".to_owned()),
        ("identity.user", "-".to_owned()),
        ("requestTime", events::request_time(now)),
        ("requestTimeEpoch", now.to_string()),
        ("authorizer.principalId", trace.principal_id.clone().unwrap_or_else(|| "-".into())),
        ("error.responseType", error_type.unwrap_or_else(|| "-".into())),
        ("error.message", error_message.unwrap_or_else(|| "-".into())),
    ];
    entries.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// API Gateway's own id for a request, a short derivative of the request id.
fn apigw_id(request_id: &str) -> String {
    let mut id: String = request_id.chars().filter(|c| c.is_ascii_alphanumeric()).take(14).collect();
    id.push('=');
    id
}

pub(crate) fn is_hop_by_hop(name: &str) -> bool {
    matches!(
        name,
        "connection"
            | "keep-alive"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
    )
}

/// The headers API Gateway adds to what it passes on.
fn forwarded_headers(req: &GatewayRequest, title: bool) -> Vec<(String, String)> {
    let port = req.host.rsplit_once(':').map(|(_, p)| p.to_owned()).unwrap_or_else(|| "80".into());
    let forwarded_for = match req.headers.iter().find(|(k, _)| k == "x-forwarded-for") {
        Some((_, v)) => format!("{v}, {}", req.source_ip),
        None => req.source_ip.clone(),
    };
    let id: String = req.request_id.chars().filter(|c| *c != '-').take(24).collect();
    let trace = format!("Root=1-{:08x}-{id}", model::clock::now_ms() / 1000);
    let names = if title {
        ["X-Amzn-Trace-Id", "X-Forwarded-For", "X-Forwarded-Port", "X-Forwarded-Proto"]
    } else {
        ["x-amzn-trace-id", "x-forwarded-for", "x-forwarded-port", "x-forwarded-proto"]
    };
    let existing = |n: &str| req.headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(n));
    let mut out = Vec::with_capacity(4);
    if !existing(names[0]) {
        out.push((names[0].to_owned(), trace));
    }
    out.push((names[1].to_owned(), forwarded_for));
    if !existing(names[2]) {
        out.push((names[2].to_owned(), port));
    }
    if !existing(names[3]) {
        out.push((names[3].to_owned(), "http".to_owned()));
    }
    // X-Forwarded-For replaces the client's own, which it extends.
    out
}

/// A function's validated proxy response as the client sees it.
pub(crate) fn proxy_answer(p: ProxyResponse, decode: bool, default_json: bool) -> GatewayResponse {
    let Some(body) = p.body_bytes(decode) else { return answers::rest_bad_gateway() };
    let mut headers = p.headers;
    if default_json && !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-type")) {
        headers.push(("content-type".into(), "application/json".into()));
    }
    headers.retain(|(k, _)| !is_hop_by_hop(&k.to_ascii_lowercase()) && !k.eq_ignore_ascii_case("content-length"));
    GatewayResponse { status: p.status, headers, body: Bytes::from(body) }
}

/// A REST integration's backend URL: `{name}` placeholders filled from the path
/// parameters its request parameters map (or of the same name), and the query string
/// passed on.
fn backend_url(
    i: &Integration,
    variables: &BTreeMap<String, String>,
    params: &BTreeMap<String, String>,
    query: Option<&str>,
) -> String {
    let mut url = routing::with_stage_variables(i.uri.as_deref().unwrap_or(""), variables);
    for (target, source) in &i.request_parameters {
        if let (Some(name), Some(from)) =
            (target.strip_prefix("integration.request.path."), source.strip_prefix("method.request.path."))
        {
            if let Some(v) = params.get(from) {
                url = url.replace(&format!("{{{name}}}"), v);
            }
        }
    }
    for (name, v) in params {
        url = url.replace(&format!("{{{name}}}"), v).replace(&format!("{{{name}+}}"), v);
    }
    with_query(url, query)
}

/// An HTTP API's backend URL: `{name}` placeholders from the path parameters; a URI with
/// no path gets the request's path; the query string is passed on.
fn http_backend_url(
    i: &HttpIntegration,
    variables: &BTreeMap<String, String>,
    params: &BTreeMap<String, String>,
    path: &str,
    query: Option<&str>,
) -> String {
    let mut url = routing::with_stage_variables(i.uri.as_deref().unwrap_or(""), variables);
    for (name, v) in params {
        url = url.replace(&format!("{{{name}}}"), v).replace(&format!("{{{name}+}}"), v);
    }
    let after_scheme = url.split_once("://").map_or("", |(_, rest)| rest);
    if !after_scheme.contains('/') {
        url.push_str(path);
    }
    with_query(url, query)
}

fn with_query(mut url: String, query: Option<&str>) -> String {
    if let Some(q) = query.filter(|q| !q.is_empty()) {
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(q);
    }
    url
}

/// An HTTP API (or a function URL) answers CORS preflight requests itself when CORS is
/// configured.
pub(crate) fn preflight_answer(c: &model::Cors, origin: &str, req: &GatewayRequest) -> GatewayResponse {
    let asked = |name: &str| req.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let headers = c.preflight(origin, asked("access-control-request-method"), asked("access-control-request-headers"));
    GatewayResponse { status: 204, headers, body: Bytes::new() }
}

/// Puts the CORS headers `c` gives `origin` on an answer, in place of the integration's.
pub(crate) fn add_cors_headers(resp: &mut GatewayResponse, c: &model::Cors, origin: &str) {
    if let Some(headers) = c.answer_headers(origin) {
        resp.headers.retain(|(k, _)| !k.to_ascii_lowercase().starts_with("access-control-"));
        resp.headers.extend(headers);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_urls_fill_placeholders_and_pass_the_query_on() {
        let i = Integration {
            uri: Some("http://127.0.0.1:9000/api/{proxy}".into()),
            request_parameters: BTreeMap::from([(
                "integration.request.path.proxy".to_owned(),
                "method.request.path.proxy".to_owned(),
            )]),
            ..Default::default()
        };
        let params = BTreeMap::from([("proxy".to_owned(), "a/b".to_owned())]);
        assert_eq!(backend_url(&i, &BTreeMap::new(), &params, Some("x=1")), "http://127.0.0.1:9000/api/a/b?x=1");
        let h = HttpIntegration { uri: Some("http://127.0.0.1:9000".into()), ..Default::default() };
        assert_eq!(
            http_backend_url(&h, &BTreeMap::new(), &BTreeMap::new(), "/items/1", None),
            "http://127.0.0.1:9000/items/1"
        );
        let h = HttpIntegration { uri: Some("http://127.0.0.1:9000/v1/{proxy}".into()), ..Default::default() };
        assert_eq!(
            http_backend_url(&h, &BTreeMap::new(), &params, "/a/b", Some("q=2")),
            "http://127.0.0.1:9000/v1/a/b?q=2"
        );
    }
}
