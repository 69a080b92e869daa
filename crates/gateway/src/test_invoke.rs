//! TestInvokeMethod: runs one method of a REST API as it is now (deployed or not) on a
//! request described in the call, and answers what the client would have got, with API
//! Gateway's execution log.
//!
//! The method is the one named (no routing by path): `pathWithQueryString` only fills the
//! path parameters, where it matches the resource's path. Authorizers, API keys and
//! throttling are not applied, as on AWS; the integration runs for real.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;

use crate::execute::{Called, GatewayRequest, RestTarget, Signed};
use crate::{Caller, DataPlane, GatewayError};

/// TestInvokeMethod's input.
#[derive(Debug, Default)]
pub struct TestInvokeInput {
    /// `pathWithQueryString`: the path (and query) the request is made as.
    pub path_with_query: Option<String>,
    /// `body`.
    pub body: Option<String>,
    /// `headers`.
    pub headers: BTreeMap<String, String>,
    /// `multiValueHeaders`.
    pub multi_value_headers: BTreeMap<String, Vec<String>>,
    /// `stageVariables`.
    pub stage_variables: BTreeMap<String, String>,
}

/// TestInvokeMethod's answer.
#[derive(Debug)]
pub struct TestInvokeOutput {
    /// `status`.
    pub status: u16,
    /// `body`.
    pub body: String,
    /// `headers` (the last value of each) and `multiValueHeaders`, names as AWS writes them.
    pub headers: Vec<(String, String)>,
    /// `log`.
    pub log: String,
    /// `latency`, ms.
    pub latency_ms: u64,
}

/// A header name as API Gateway's own answers write it.
fn shown_name(name: &str) -> String {
    match name.to_ascii_lowercase().as_str() {
        "content-type" => "Content-Type".into(),
        "x-amzn-errortype" => "x-amzn-ErrorType".into(),
        _ => name.to_owned(),
    }
}

/// A map as Java prints one: `{a=1, b=2}`.
fn java_map<'a>(entries: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let parts: Vec<String> = entries.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{{{}}}", parts.join(", "))
}

/// The execution log, as API Gateway writes it: a heading, then one timestamped line each.
struct Log {
    lines: Vec<String>,
    stamp: String,
}

impl Log {
    fn new(request_id: &str) -> Self {
        let fmt = time::macros::format_description!(
            "[weekday repr:short] [month repr:short] [day] [hour]:[minute]:[second] UTC [year]"
        );
        let stamp = time::OffsetDateTime::now_utc().format(&fmt).unwrap_or_default();
        Log { lines: vec![format!("Execution log for request {request_id}")], stamp }
    }

    fn line(&mut self, text: impl AsRef<str>) {
        self.lines.push(format!("{} : {}", self.stamp, text.as_ref()));
    }

    fn finish(mut self) -> String {
        self.lines.push(String::new());
        self.lines.join("\n")
    }
}

impl DataPlane {
    /// TestInvokeMethod.
    pub async fn test_invoke_method(
        &self,
        caller: &Caller,
        api_id: &str,
        resource_id: &str,
        http_method: &str,
        input: TestInvokeInput,
    ) -> Result<TestInvokeOutput, GatewayError> {
        let (target, resource) = self.inner.control.read_under_api(caller, api_id, |api| {
            let resource = api.resource(resource_id)?.clone();
            if !resource.methods.contains_key(http_method) && !resource.methods.contains_key("ANY") {
                return Err(GatewayError::NotFound("Invalid Method identifier specified".into()));
            }
            let target = test_target(api, &resource, input.stage_variables.clone());
            Ok((target, resource))
        })?;
        let Some(method) = resource.methods.get(http_method).or_else(|| resource.methods.get("ANY")) else {
            return Err(GatewayError::NotFound("Invalid Method identifier specified".into()));
        };
        let started = Instant::now();
        let request_id = uuid::Uuid::new_v4().to_string();
        let mut log = Log::new(&request_id);
        log.line(format!("Starting execution for request: {request_id}"));

        let given = input.path_with_query.filter(|p| !p.is_empty()).unwrap_or_else(|| resource.path.clone());
        let (path, query) = match given.split_once('?') {
            Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
            None => (given, None),
        };
        let params =
            apigateway::routing::best_match([(resource.path.as_str(), ())], &path).map(|(_, p)| p).unwrap_or_default();
        let mut headers: Vec<(String, String)> =
            input.headers.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.clone())).collect();
        for (k, values) in &input.multi_value_headers {
            if !input.headers.contains_key(k) {
                headers.extend(values.iter().map(|v| (k.to_ascii_lowercase(), v.clone())));
            }
        }
        let body = input.body.unwrap_or_default();
        let query_pairs: Vec<(String, String)> =
            query.as_deref().map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default();
        log.line(format!("HTTP Method: {http_method}, Resource Path: {path}"));
        log.line(format!("Method request path: {}", java_map(params.iter().map(|(k, v)| (k.as_str(), v.as_str())))));
        log.line(format!(
            "Method request query string: {}",
            java_map(query_pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        ));
        log.line(format!(
            "Method request headers: {}",
            java_map(input.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        ));
        log.line(format!("Method request body before transformations: {body}"));

        let req = GatewayRequest {
            method: http_method.to_owned(),
            host: format!("{api_id}.execute-api.{}.amazonaws.com", target.region),
            path: path.clone(),
            query,
            headers,
            body: Bytes::from(body),
            source_ip: "test-invoke-source-ip".into(),
            request_id: request_id.clone(),
            signature: Signed::Unchecked,
        };
        let full_path = format!("/{}{}", target.stage, if path == "/" { "" } else { path.as_str() });
        let now = model::clock::now_ms();
        let facts = req.facts(
            (&target.api_id, &target.account, &target.stage, &target.variables),
            &path,
            &full_path,
            &params,
            now,
        );
        let (status, mut resp_headers, resp_body) = match &method.integration {
            None => {
                log.line("Execution failed due to configuration error: No integration defined for method");
                (
                    500,
                    vec![("x-amzn-ErrorType".to_owned(), "InternalServerErrorException".to_owned())],
                    internal_error(),
                )
            }
            Some(integration) => {
                let called =
                    Called { resource: &resource, integration, params: &params, api_key: None, authorizer: None };
                self.test_integration(&target, &called, &facts, &req, &mut log).await
            }
        };
        log.line(format!("Method completed with status: {status}"));
        for (k, _) in &mut resp_headers {
            *k = shown_name(k);
        }
        Ok(TestInvokeOutput {
            status,
            body: String::from_utf8_lossy(&resp_body).into_owned(),
            headers: resp_headers,
            log: log.finish(),
            latency_ms: started.elapsed().as_millis() as u64,
        })
    }

    /// Runs a method's integration as the data plane does, logging it as API Gateway's
    /// execution log does: status, headers and body.
    async fn test_integration(
        &self,
        target: &RestTarget,
        called: &Called<'_>,
        facts: &crate::events::RequestFacts<'_>,
        req: &GatewayRequest,
        log: &mut Log,
    ) -> (u16, Vec<(String, String)>, Bytes) {
        let sent = Instant::now();
        let (resp, failure) = self.integrate_rest(target, called, facts, req).await;
        match failure {
            Some(why) => {
                log.line(why);
                // API Gateway's own failure: its error type is the only header.
                let headers =
                    resp.headers.into_iter().filter(|(k, _)| k.eq_ignore_ascii_case("x-amzn-errortype")).collect();
                (resp.status, headers, resp.body)
            }
            None => {
                if called.integration.kind != apigateway::rest::IntegrationType::Mock {
                    let uri = called.integration.uri.as_deref().unwrap_or("");
                    let uri = apigateway::routing::with_stage_variables(uri, &target.variables);
                    log.line(format!("Endpoint request URI: {uri}"));
                    log.line(format!(
                        "Received response. Status: {}, Integration latency: {} ms",
                        resp.status,
                        sent.elapsed().as_millis()
                    ));
                }
                let text = String::from_utf8_lossy(&resp.body).into_owned();
                log.line(format!("Method response body after transformations: {text}"));
                let shown: Vec<(String, String)> =
                    resp.headers.iter().map(|(k, v)| (shown_name(k), v.clone())).collect();
                log.line(format!(
                    "Method response headers: {}",
                    java_map(shown.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                ));
                log.line("Successfully completed execution");
                (resp.status, resp.headers, resp.body)
            }
        }
    }
}

/// The stage a test invocation runs in: `test-invoke-stage`, with the method's resource
/// as it is now (undeployed) and the given stage variables.
fn test_target(
    api: &apigateway::rest::RestApi,
    resource: &apigateway::rest::Resource,
    variables: BTreeMap<String, String>,
) -> RestTarget {
    RestTarget {
        access_log: None,
        api_id: api.id.clone(),
        account: api.account.clone(),
        region: api.region.clone(),
        binary_media_types: api.binary_media_types.clone(),
        api_key_source: api.api_key_source.clone(),
        stage: "test-invoke-stage".into(),
        variables,
        method_settings: BTreeMap::new(),
        resources: Arc::new(vec![resource.clone()]),
        authorizers: Arc::new(api.authorizers.clone()),
        gateway_responses: Arc::new(api.gateway_responses.clone()),
    }
}

fn internal_error() -> Bytes {
    Bytes::from(serde_json::json!({ "message": "Internal server error" }).to_string())
}
