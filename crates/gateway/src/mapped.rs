//! Non-proxy integrations (`HTTP`, `MOCK`, `AWS`): the request mapped through the
//! integration's request template and parameters, the backend called — an HTTP endpoint, a
//! function, or an SQS queue — and its answer mapped through the integration response
//! whose selection pattern matches (else the default one) with its response template.

use std::collections::BTreeMap;

use bytes::Bytes;
use serde_json::{json, Value};

use crate::events::{self, RequestFacts};
use crate::execute::answers;
use crate::{DataPlane, FunctionReply, GatewayResponse, SqsMessage};
use apigateway::kinds::PassthroughBehavior;
use apigateway::rest::{Integration, IntegrationResponse};
use apigateway::routing;
use apigateway::template::{self, Scope, TemplateError};

/// What a request's templates can refer to.
pub(crate) fn scope<'a>(f: &RequestFacts<'a>, resource_path: &str) -> Scope<'a> {
    let body = std::str::from_utf8(f.body).unwrap_or("");
    let query: BTreeMap<String, String> =
        f.query.map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default();
    let context = BTreeMap::from([
        ("requestId".to_owned(), f.request_id.to_owned()),
        ("extendedRequestId".to_owned(), f.request_id.to_owned()),
        ("stage".to_owned(), f.stage.to_owned()),
        ("httpMethod".to_owned(), f.method.to_owned()),
        ("resourcePath".to_owned(), resource_path.to_owned()),
        ("path".to_owned(), f.full_path.to_owned()),
        ("apiId".to_owned(), f.api_id.to_owned()),
        ("accountId".to_owned(), f.account.to_owned()),
        ("domainName".to_owned(), f.domain_name.to_owned()),
        ("protocol".to_owned(), f.protocol.to_owned()),
        ("identity.sourceIp".to_owned(), f.source_ip.to_owned()),
        ("identity.userAgent".to_owned(), f.header("user-agent").unwrap_or("").to_owned()),
        ("requestTime".to_owned(), events::request_time(f.time_ms)),
        ("requestTimeEpoch".to_owned(), f.time_ms.to_string()),
    ]);
    Scope {
        body,
        path: f.path_parameters.clone(),
        query,
        headers: f.headers.iter().cloned().collect(),
        context,
        stage_variables: f.stage_variables.clone(),
    }
}

fn media_type(content_type: Option<&str>) -> String {
    content_type.map_or_else(
        || "application/json".to_owned(),
        |c| c.split(';').next().unwrap_or("").trim().to_ascii_lowercase(),
    )
}

/// The request body a non-proxy integration sends: its request template for the
/// request's content type rendered, or the body passed through when none matches (the
/// default `WHEN_NO_MATCH`; `NEVER` refuses such a request, which this answers with an
/// empty body). A template that cannot be rendered within its bounds fails the request.
pub(crate) fn request_body(i: &Integration, f: &RequestFacts<'_>, scope: &Scope<'_>) -> Result<String, TemplateError> {
    let ct = media_type(f.header("content-type"));
    let passthrough = PassthroughBehavior::of(i.passthrough_behavior.as_deref());
    Ok(match i.request_templates.get(&ct) {
        Some(t) => template::render(t, scope)?,
        None if i.request_templates.is_empty() || passthrough != PassthroughBehavior::WhenNoTemplates => {
            if passthrough == PassthroughBehavior::Never {
                String::new()
            } else {
                scope.body.to_owned()
            }
        }
        None => scope.body.to_owned(),
    })
}

/// The status a `MOCK` integration answers: its request template's `statusCode`.
pub(crate) fn mock_status(i: &Integration, f: &RequestFacts<'_>, scope: &Scope<'_>) -> Result<u16, TemplateError> {
    let ct = media_type(f.header("content-type"));
    let template = i.request_templates.get(&ct).or_else(|| i.request_templates.get("application/json"));
    let rendered = template.map(|t| template::render(t, scope)).transpose()?;
    Ok(rendered
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|v| v.get("statusCode").and_then(Value::as_u64))
        .map_or(200, |s| s as u16))
}

/// The integration response for a backend answer: the one whose selection pattern
/// matches `selector` (an HTTP status, or a function's error message), else the default.
fn select<'a>(i: &'a Integration, selector: Option<&str>) -> Option<&'a IntegrationResponse> {
    let is_default = |r: &&IntegrationResponse| r.selection_pattern.as_deref().is_none_or(str::is_empty);
    selector
        .and_then(|text| {
            i.responses.values().filter(|r| !is_default(r)).find(|r| {
                r.selection_pattern
                    .as_deref()
                    .and_then(|p| routing::Pattern::new(p).ok())
                    .is_some_and(|p| p.matches(text))
            })
        })
        .or_else(|| i.responses.values().find(is_default))
}

/// A backend's answer mapped through the chosen integration response.
pub(crate) fn answer(
    i: &Integration,
    selector: Option<&str>,
    backend_headers: &[(String, String)],
    body: Bytes,
    request: &Scope<'_>,
) -> GatewayResponse {
    let Some(chosen) = select(i, selector) else {
        // A backend answer no integration response maps is API Gateway's 500.
        return answers::rest_internal();
    };
    let status = chosen.status_code.parse().unwrap_or(200);
    let mut headers = vec![("content-type".to_owned(), "application/json".to_owned())];
    for (target, source) in &chosen.response_parameters {
        let Some(name) = target.strip_prefix("method.response.header.") else { continue };
        let value = if let Some(lit) = source.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
            Some(lit.to_owned())
        } else if let Some(h) = source.strip_prefix("integration.response.header.") {
            backend_headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(h)).map(|(_, v)| v.clone())
        } else {
            None
        };
        if let Some(v) = value {
            headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
            headers.push((name.to_owned(), v));
        }
    }
    let template =
        chosen.response_templates.get("application/json").or_else(|| chosen.response_templates.values().next());
    let body = match template {
        Some(t) if !t.trim().is_empty() => {
            let text = String::from_utf8_lossy(&body).into_owned();
            let scope = Scope { body: &text, ..request.clone() };
            match template::render(t, &scope) {
                Ok(rendered) => Bytes::from(rendered),
                Err(e) => {
                    tracing::warn!("integration response template: {e}");
                    return answers::rest_internal();
                }
            }
        }
        _ => body,
    };
    GatewayResponse { status, headers, body }
}

/// The SQS queue an `AWS` integration's URI names:
/// `arn:aws:apigateway:{region}:sqs:path/{account}/{queue}`, or `…:sqs:action/SendMessage`
/// with the queue in the `QueueUrl` parameter.
#[derive(Debug, PartialEq, Eq)]
enum SqsTarget {
    /// `path/{account}/{queue}`.
    Queue(String, String),
    /// `action/{Action}`.
    Action(String),
}

fn sqs_target(uri: &str) -> Option<SqsTarget> {
    let (_, rest) = uri.split_once(":sqs:")?;
    if let Some(path) = rest.strip_prefix("path/") {
        let (account, queue) = path.trim_matches('/').split_once('/')?;
        return Some(SqsTarget::Queue(account.to_owned(), queue.to_owned()));
    }
    rest.strip_prefix("action/").map(|a| SqsTarget::Action(a.to_owned()))
}

/// The value of an integration request parameter's source: `'literal'`,
/// `method.request.body`, or a method request's path, query or header parameter.
fn parameter_value(source: &str, scope: &Scope<'_>) -> Option<String> {
    if let Some(lit) = source.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
        return Some(lit.to_owned());
    }
    if source == "method.request.body" {
        return Some(scope.body.to_owned());
    }
    if let Some(p) = source.strip_prefix("method.request.path.") {
        return scope.path.get(p).cloned();
    }
    if let Some(q) = source.strip_prefix("method.request.querystring.") {
        return scope.query.get(q).cloned();
    }
    if let Some(h) = source.strip_prefix("method.request.header.") {
        return scope.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(h)).map(|(_, v)| v.clone());
    }
    if let Some(v) = source.strip_prefix("stageVariables.") {
        return scope.stage_variables.get(v).cloned();
    }
    source.strip_prefix("context.").and_then(|c| scope.context.get(c).cloned())
}

fn sqs_error(code: &str, message: &str, request_id: &str) -> (u16, Value) {
    (400, json!({ "Error": { "Code": code, "Message": message, "Type": "Sender" }, "RequestId": request_id }))
}

impl DataPlane {
    /// An `AWS` integration: a function invoked with the mapped request (non-proxy), or
    /// SQS's SendMessage.
    pub(crate) async fn integrate_aws(
        &self,
        i: &Integration,
        f: &RequestFacts<'_>,
        scope: &Scope<'_>,
        region: &str,
    ) -> GatewayResponse {
        let uri = routing::with_stage_variables(i.uri.as_deref().unwrap_or(""), f.stage_variables);
        if let Some(function) = routing::lambda_function_of(&uri) {
            let Ok(mut payload) = request_body(i, f, scope) else { return answers::rest_internal() };
            if payload.trim().is_empty() {
                payload = "{}".into();
            }
            let source = crate::authorizer::method_arn(region, f.account, f.api_id, f.stage, f.method, f.path);
            return match self.inner.functions.invoke(&function, payload.into(), &source).await {
                FunctionReply::Returned(p) => answer(i, None, &[], p, scope),
                FunctionReply::Failed(p) => {
                    let message = serde_json::from_slice::<Value>(&p)
                        .ok()
                        .and_then(|v| v.get("errorMessage").and_then(Value::as_str).map(str::to_owned))
                        .unwrap_or_default();
                    answer(i, Some(&message), &[], p, scope)
                }
                FunctionReply::Unavailable(why) => {
                    tracing::warn!(function, "integration failed: {why}");
                    answers::rest_internal()
                }
            };
        }
        let Some(target) = sqs_target(&uri) else { return answers::rest_internal() };
        let Ok(body) = request_body(i, f, scope) else { return answers::rest_internal() };
        let (status, body) = self.send_to_queue(i, body, scope, region, target, f.request_id).await;
        answer(i, Some(&status.to_string()), &[], Bytes::from(body.to_string()), scope)
    }

    async fn send_to_queue(
        &self,
        i: &Integration,
        body: String,
        scope: &Scope<'_>,
        region: &str,
        target: SqsTarget,
        request_id: &str,
    ) -> (u16, Value) {
        // The action's parameters: the mapped body as a form, then the mapped query string.
        let mut params: BTreeMap<String, String> = BTreeMap::new();
        if body.contains('=') && !body.trim_start().starts_with('{') {
            params.extend(form_urlencoded::parse(body.as_bytes()).into_owned());
        }
        for (target, source) in &i.request_parameters {
            if let Some(name) = target.strip_prefix("integration.request.querystring.") {
                if let Some(v) = parameter_value(source, scope) {
                    params.insert(name.to_owned(), v);
                }
            }
        }
        let queue = match target {
            SqsTarget::Queue(account, queue) => Some((account, queue)),
            SqsTarget::Action(a) => {
                params.entry("Action".into()).or_insert(a);
                None
            }
        };
        match params.get("Action").map(String::as_str) {
            Some("SendMessage") => {}
            Some(other) => {
                return sqs_error(
                    "InvalidAction",
                    &format!("The action {other} is not valid for this endpoint."),
                    request_id,
                )
            }
            None => return sqs_error("MissingAction", "The request must contain the parameter Action.", request_id),
        }
        let (account, queue) = match queue {
            Some(q) => q,
            None => {
                let url = params.get("QueueUrl").cloned().unwrap_or_default();
                let mut parts = url.trim_end_matches('/').rsplit('/');
                match (parts.next(), parts.next()) {
                    (Some(q), Some(a)) if !q.is_empty() => (a.to_owned(), q.to_owned()),
                    _ => {
                        return sqs_error(
                            "MissingParameter",
                            "The request must contain the parameter QueueUrl.",
                            request_id,
                        )
                    }
                }
            }
        };
        let Some(message_body) = params.get("MessageBody").filter(|b| !b.is_empty()).cloned() else {
            return sqs_error("MissingParameter", "The request must contain the parameter MessageBody.", request_id);
        };
        let message = SqsMessage {
            region: region.to_owned(),
            account,
            queue,
            body: message_body,
            delay_seconds: params.get("DelaySeconds").and_then(|d| d.parse().ok()),
            group_id: params.get("MessageGroupId").cloned(),
            deduplication_id: params.get("MessageDeduplicationId").cloned(),
        };
        match self.inner.queues.send(message).await {
            Ok(sent) => (
                200,
                json!({ "SendMessageResponse": {
                    "ResponseMetadata": { "RequestId": request_id },
                    "SendMessageResult": {
                        "MD5OfMessageAttributes": null,
                        "MD5OfMessageBody": sent.md5_of_body,
                        "MD5OfMessageSystemAttributes": null,
                        "MessageId": sent.message_id,
                        "SequenceNumber": sent.sequence_number,
                    }
                }}),
            ),
            Err(e) => sqs_error(&e.code, &e.message, request_id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mock_integrations_answer_their_mapped_response() {
        let mut i = Integration {
            kind: apigateway::kinds::IntegrationType::Mock,
            request_templates: BTreeMap::from([("application/json".to_owned(), "{\"statusCode\": 404}".to_owned())]),
            ..Default::default()
        };
        i.responses.insert(
            "200".into(),
            IntegrationResponse {
                status_code: "200".into(),
                response_templates: BTreeMap::from([("application/json".to_owned(), "ok".to_owned())]),
                ..Default::default()
            },
        );
        i.responses.insert(
            "404".into(),
            IntegrationResponse {
                status_code: "404".into(),
                selection_pattern: Some("404".into()),
                response_parameters: BTreeMap::from([(
                    "method.response.header.X-Why".to_owned(),
                    "'missing'".to_owned(),
                )]),
                response_templates: BTreeMap::from([(
                    "application/json".to_owned(),
                    "{\"id\": \"$context.requestId\"}".to_owned(),
                )]),
                ..Default::default()
            },
        );
        let headers = vec![("content-type".to_owned(), "application/json".to_owned())];
        let (vars, params) = (BTreeMap::new(), BTreeMap::new());
        let f = RequestFacts {
            method: "GET",
            path: "/",
            full_path: "/prod/",
            query: None,
            headers: &headers,
            body: b"",
            source_ip: "127.0.0.1",
            domain_name: "h",
            api_id: "a",
            account: "0",
            stage: "prod",
            request_id: "r-9",
            time_ms: 0,
            stage_variables: &vars,
            path_parameters: &params,
            protocol: "HTTP/1.1",
        };
        let scope = scope(&f, "/");
        let status = mock_status(&i, &f, &scope).unwrap();
        let r = answer(&i, Some(&status.to_string()), &[], Bytes::new(), &scope);
        assert_eq!((r.status, &r.body[..]), (404, &b"{\"id\": \"r-9\"}"[..]));
        assert!(r.headers.contains(&("X-Why".into(), "missing".into())));
        let r = answer(&i, Some("200"), &[], Bytes::new(), &scope);
        assert_eq!((r.status, &r.body[..]), (200, &b"ok"[..]));
    }

    #[test]
    fn sqs_uris_name_their_queue_or_action() {
        assert_eq!(
            sqs_target("arn:aws:apigateway:us-east-1:sqs:path/000000000000/jobs"),
            Some(SqsTarget::Queue("000000000000".into(), "jobs".into()))
        );
        assert_eq!(
            sqs_target("arn:aws:apigateway:us-east-1:sqs:action/SendMessage"),
            Some(SqsTarget::Action("SendMessage".into()))
        );
        assert!(sqs_target("arn:aws:apigateway:us-east-1:lambda:path/x").is_none());
    }

    #[test]
    fn lambda_errors_select_by_message_and_success_takes_the_default() {
        let mut i = Integration::default();
        i.responses.insert("200".into(), IntegrationResponse { status_code: "200".into(), ..Default::default() });
        i.responses.insert(
            "400".into(),
            IntegrationResponse {
                status_code: "400".into(),
                selection_pattern: Some(".*Bad.*".into()),
                ..Default::default()
            },
        );
        assert_eq!(select(&i, Some("Bad input")).unwrap().status_code, "400");
        assert_eq!(select(&i, Some("other")).unwrap().status_code, "200");
        assert_eq!(select(&i, None).unwrap().status_code, "200");
    }
}
