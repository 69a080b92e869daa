//! Lambda function URLs' data plane: a request to `<url-id>.lambda-url.<region>.localhost`
//! becomes the payload format 2.0 event Lambda sends for function URLs (route and stage
//! `$default`, `accountId` `anonymous` unless signed, the signer under `authorizer.iam`),
//! its answer an HTTP response as an HTTP API maps one; CORS preflights are answered
//! here, without invoking. Which URL exists and who may call it is Lambda's to say.

use std::collections::BTreeMap;

use bytes::Bytes;
use serde_json::json;

use crate::events::{self, RequestFacts};
use crate::execute::{add_cors_headers, preflight_answer, proxy_answer};
use crate::{DataPlane, FunctionReply, GatewayRequest, GatewayResponse};

/// The host suffixes a function URL is reached by, after `<url-id>.lambda-url.<region>`.
const HOST_SUFFIXES: [&str; 2] = [".localhost.localstack.cloud", ".localhost"];

/// A function URL, as its data plane needs it.
#[derive(Debug, Clone)]
pub struct UrlTarget {
    /// The function (qualified by its alias, if the URL is an alias's).
    pub function_arn: String,
    /// The function's account.
    pub account: String,
    /// `AuthType`: whether calls must be signed (`AWS_IAM`) or not (`NONE`).
    pub iam: bool,
    /// Its CORS settings.
    pub cors: Option<model::Cors>,
    /// `InvokeMode` `RESPONSE_STREAM`: the function's answer is the response's body, after
    /// an HTTP prelude if it wrote one.
    pub streaming: bool,
}

/// The response a function streamed: its HTTP prelude (`statusCode`, `headers`,
/// `cookies`), then eight NUL bytes, then the body, when it used `HttpResponseStream`;
/// otherwise the body alone, answered 200.
fn streamed_answer(payload: &[u8]) -> GatewayResponse {
    const DELIMITER: [u8; 8] = [0; 8];
    let split = payload.windows(8).position(|w| w == DELIMITER).and_then(|at| {
        let prelude: serde_json::Value = serde_json::from_slice(&payload[..at]).ok()?;
        prelude.is_object().then_some((prelude, at))
    });
    let Some((prelude, at)) = split else {
        return GatewayResponse { status: 200, headers: Vec::new(), body: Bytes::copy_from_slice(payload) };
    };
    let status = prelude.get("statusCode").and_then(serde_json::Value::as_u64).and_then(|s| u16::try_from(s).ok());
    let mut headers: Vec<(String, String)> = prelude
        .get("headers")
        .and_then(serde_json::Value::as_object)
        .map(|h| h.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned()))).collect())
        .unwrap_or_default();
    for cookie in prelude.get("cookies").and_then(serde_json::Value::as_array).into_iter().flatten() {
        if let Some(c) = cookie.as_str() {
            headers.push(("set-cookie".into(), c.to_owned()));
        }
    }
    GatewayResponse { status: status.unwrap_or(200), headers, body: Bytes::copy_from_slice(&payload[at + 8..]) }
}

/// How a function URL's call went.
#[derive(Debug)]
pub enum UrlReply {
    /// The function ran (or failed, or could not be run).
    Function(FunctionReply),
    /// The function (behind a `RESPONSE_STREAM` URL) is streaming its answer.
    Streamed(lambda::ResponseStream),
    /// The function's resource policy does not let this caller in.
    Forbidden,
    /// Lambda's concurrency is exhausted.
    Throttled,
    /// The request is over the invoke payload limit; the text says what it is.
    TooLarge(String),
}

/// What a function URL answers: a whole response, or one whose body streams.
#[derive(Debug)]
pub enum UrlResponse {
    /// A whole response.
    Whole(GatewayResponse),
    /// Status and headers at once, the body as the function writes it.
    Streamed {
        /// Status and headers (the body is empty).
        head: GatewayResponse,
        /// The body.
        body: StreamedBody,
    },
}

/// A response body the function is still writing: the bytes already read past its
/// prelude, then each piece as it arrives; it ends with the stream (an error mid-stream
/// ends it early, as AWS's front end does).
#[derive(Debug)]
pub struct StreamedBody {
    first: Option<Bytes>,
    events: tokio::sync::mpsc::Receiver<lambda::StreamEvent>,
}

impl http_body::Body for StreamedBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        if let Some(first) = self.first.take().filter(|b| !b.is_empty()) {
            return std::task::Poll::Ready(Some(Ok(http_body::Frame::data(first))));
        }
        loop {
            return match self.events.poll_recv(cx) {
                std::task::Poll::Ready(Some(lambda::StreamEvent::Chunk(b))) if b.is_empty() => continue,
                std::task::Poll::Ready(Some(lambda::StreamEvent::Chunk(b))) => {
                    std::task::Poll::Ready(Some(Ok(http_body::Frame::data(b))))
                }
                std::task::Poll::Ready(Some(lambda::StreamEvent::Complete { .. }) | None) => {
                    std::task::Poll::Ready(None)
                }
                std::task::Poll::Pending => std::task::Poll::Pending,
            };
        }
    }
}

/// The head of a response the function streams: its HTTP prelude, read up to the eight
/// NUL bytes that end it, when the function used `HttpResponseStream` (else 200 and the
/// stream's content type), and the bytes after it.
async fn streamed_head(stream: lambda::ResponseStream) -> (GatewayResponse, StreamedBody) {
    let lambda::ResponseStream { content_type, mut events } = stream;
    if content_type != "application/vnd.awslambda.http-integration-response" {
        let head =
            GatewayResponse { status: 200, headers: vec![("content-type".into(), content_type)], body: Bytes::new() };
        return (head, StreamedBody { first: None, events });
    }
    // The prelude is small; a stream that never ends it is answered as it stands.
    const PRELUDE_MAX: usize = 1 << 20;
    let mut read = Vec::new();
    while let Some(lambda::StreamEvent::Chunk(b)) = events.recv().await {
        read.extend_from_slice(&b);
        if read.windows(8).any(|w| w == [0; 8]) || read.len() > PRELUDE_MAX {
            break;
        }
    }
    let whole = streamed_answer(&read);
    let rest = whole.body.clone();
    (GatewayResponse { body: Bytes::new(), ..whole }, StreamedBody { first: Some(rest), events })
}

/// The URL id (and region) a host names: `<url-id>.lambda-url.<region>.localhost[:port]`
/// or LocalStack's `….localhost.localstack.cloud`.
pub fn url_id(host: &str) -> Option<(String, String)> {
    let hostname =
        host.rsplit_once(':').filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit())).map_or(host, |(h, _)| h);
    let hostname = hostname.to_ascii_lowercase();
    let rest = HOST_SUFFIXES.iter().find_map(|s| hostname.strip_suffix(s))?;
    let (id, region) = rest.split_once(".lambda-url.")?;
    let ok = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    (ok(id) && ok(region)).then(|| (id.to_owned(), region.to_owned()))
}

fn answer(status: u16, message: &str, kind: &str, request_id: &str) -> GatewayResponse {
    GatewayResponse {
        status,
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("x-amzn-errortype".into(), kind.into()),
            ("x-amzn-requestid".into(), request_id.into()),
        ],
        body: Bytes::from(json!({ "Message": message }).to_string()),
    }
}

/// An `AWS_IAM` URL called without a signature.
fn forbidden(request_id: &str) -> GatewayResponse {
    answer(403, "Forbidden", "AccessDeniedException", request_id)
}

/// A URL no function has: AWS's 403, whose message is `null`.
fn no_such_url(request_id: &str) -> GatewayResponse {
    GatewayResponse { body: Bytes::from_static(b"{\"Message\":null}"), ..forbidden(request_id) }
}

/// A call no resource policy allows: AWS's 403, which points at its troubleshooting page.
fn not_allowed(request_id: &str) -> GatewayResponse {
    answer(
        403,
        "Forbidden. For troubleshooting Function URL authorization issues, see: \
         https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html",
        "AccessDeniedException",
        request_id,
    )
}

/// A function that failed, or answered what a URL cannot return: AWS's 502, in plain text.
fn function_failed(request_id: &str) -> GatewayResponse {
    GatewayResponse {
        body: Bytes::from_static(b"Internal Server Error"),
        ..answer(502, "Internal Server Error", "InternalServerError", request_id)
    }
}

/// The access key a SigV4 request was signed with.
fn access_key(req: &GatewayRequest) -> Option<String> {
    let from_header = req
        .headers
        .iter()
        .find(|(k, _)| k == "authorization")
        .and_then(|(_, v)| v.split("Credential=").nth(1)?.split('/').next().map(str::to_owned));
    from_header.or_else(|| {
        let q = req.query.as_deref()?;
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "X-Amz-Credential")
            .and_then(|(_, v)| v.split('/').next().map(str::to_owned))
    })
}

/// The headers a function URL's event carries: as AWS's front end passes them on, `host`
/// is the URL's domain alone and the port is in `x-forwarded-port`.
fn url_event_headers(req: &GatewayRequest) -> Vec<(String, String)> {
    let (domain, port) = match req.host.rsplit_once(':') {
        Some((domain, port)) if port.bytes().all(|b| b.is_ascii_digit()) => (domain, port),
        _ => (req.host.as_str(), "80"),
    };
    let mut headers: Vec<(String, String)> = req
        .headers
        .iter()
        .filter(|(k, _)| !crate::execute::is_hop_by_hop(k))
        .map(|(k, v)| if k == "host" { (k.clone(), domain.to_owned()) } else { (k.clone(), v.clone()) })
        .collect();
    let port = port.to_owned();
    for (name, value) in [("x-forwarded-port", port), ("x-forwarded-proto", "http".to_owned())] {
        if !headers.iter().any(|(k, _)| k == name) {
            headers.push((name.to_owned(), value));
        }
    }
    headers
}

impl DataPlane {
    /// Serves a request to the function URL `url_id`. `caller` is the account of the
    /// request's signer, if it was signed (and, in authenticated mode, verified).
    pub async fn function_url(&self, url_id: &str, caller: Option<&str>, req: &GatewayRequest) -> UrlResponse {
        match self.function_url_answer(url_id, caller, req).await {
            Ok(whole) => UrlResponse::Whole(whole),
            Err((mut head, body, origin, cors)) => {
                if let (Some(c), Some(o)) = (&cors, &origin) {
                    add_cors_headers(&mut head, c, o);
                }
                head.headers.push(("x-amzn-requestid".into(), req.request_id.clone()));
                UrlResponse::Streamed { head, body }
            }
        }
    }

    /// A function URL's whole answer, or (`Err`) the head and body of one the function
    /// streams, with what its CORS headers need.
    #[allow(clippy::type_complexity)]
    async fn function_url_answer(
        &self,
        url_id: &str,
        caller: Option<&str>,
        req: &GatewayRequest,
    ) -> Result<GatewayResponse, (GatewayResponse, StreamedBody, Option<String>, Option<model::Cors>)> {
        let functions = &self.inner.functions;
        let Some(url) = functions.function_url(url_id) else { return Ok(no_such_url(&req.request_id)) };
        let origin = req.headers.iter().find(|(k, _)| k == "origin").map(|(_, v)| v.clone());
        if let (Some(c), Some(o)) = (&url.cors, &origin) {
            if req.method == "OPTIONS" && req.headers.iter().any(|(k, _)| k == "access-control-request-method") {
                let mut resp = preflight_answer(c, o, req);
                resp.headers.push(("x-amzn-requestid".into(), req.request_id.clone()));
                return Ok(resp);
            }
        }
        if url.iam && caller.is_none() {
            return Ok(forbidden(&req.request_id));
        }
        let now = model::clock::now_ms();
        let no_map = BTreeMap::new();
        let account = if url.iam { caller.unwrap_or("anonymous") } else { "anonymous" };
        // A function URL's event carries its path decoded, and the headers the client sent
        // less the hop-by-hop ones, plus the forwarding ones AWS's front end adds.
        let path = apigateway::routing::percent_decode(&req.path);
        let headers = url_event_headers(req);
        let facts = RequestFacts {
            method: &req.method,
            path: &path,
            full_path: &path,
            query: req.query.as_deref(),
            headers: &headers,
            body: &req.body,
            source_ip: &req.source_ip,
            domain_name: req.host.rsplit_once(':').map_or(req.host.as_str(), |(h, _)| h),
            api_id: url_id,
            account,
            stage: "$default",
            request_id: &req.request_id,
            time_ms: now,
            stage_variables: &no_map,
            path_parameters: &no_map,
            protocol: "HTTP/1.1",
        };
        let authorizer = url.iam.then(|| {
            let key = access_key(req).unwrap_or_default();
            json!({ "iam": {
                "accessKey": key,
                "accountId": account,
                "callerId": key,
                "cognitoIdentity": null,
                "principalOrgId": null,
                "userArn": format!("arn:aws:iam::{account}:root"),
                "userId": account,
            }})
        });
        let event = events::http_event_v2(&facts, "$default", &[], authorizer);
        let signer = if url.iam { caller } else { None };
        let mut resp = match functions.invoke_url(url_id, signer, &req.request_id, Bytes::from(event.to_string())).await
        {
            UrlReply::Streamed(stream) => {
                let (head, body) = streamed_head(stream).await;
                return Err((head, body, origin, url.cors));
            }
            UrlReply::Forbidden => return Ok(not_allowed(&req.request_id)),
            UrlReply::Throttled => answer(429, "Rate Exceeded.", "TooManyRequestsException", &req.request_id),
            UrlReply::TooLarge(why) => answer(413, &why, "RequestEntityTooLargeException", &req.request_id),
            UrlReply::Function(FunctionReply::Returned(payload)) if url.streaming => streamed_answer(&payload),
            UrlReply::Function(FunctionReply::Returned(payload)) => match events::http_proxy_response_v2(&payload) {
                Some(p) => proxy_answer(p, true, false),
                None => function_failed(&req.request_id),
            },
            UrlReply::Function(FunctionReply::Failed(_)) => function_failed(&req.request_id),
            UrlReply::Function(FunctionReply::Unavailable(why)) => {
                tracing::warn!(url_id, "function URL call failed: {why}");
                function_failed(&req.request_id)
            }
        };
        if let (Some(c), Some(o)) = (&url.cors, &origin) {
            add_cors_headers(&mut resp, c, o);
        }
        resp.headers.retain(|(k, _)| !k.eq_ignore_ascii_case("x-amzn-requestid"));
        resp.headers.push(("x-amzn-requestid".into(), req.request_id.clone()));
        Ok(resp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_hosts_name_their_id_and_region() {
        let id = |h: &str| url_id(h);
        assert_eq!(id("abc123.lambda-url.us-east-1.localhost:4566"), Some(("abc123".into(), "us-east-1".into())));
        assert_eq!(id("ABC.lambda-url.eu-west-1.localhost.localstack.cloud"), Some(("abc".into(), "eu-west-1".into())));
        assert_eq!(id("abc.execute-api.localhost:4566"), None);
        assert_eq!(id("a.b.lambda-url.us-east-1.localhost"), None);
        assert_eq!(id(".lambda-url.us-east-1.localhost"), None);
        assert_eq!(id("localhost:4566"), None);
    }

    #[test]
    fn a_streamed_answer_reads_its_prelude_or_is_the_body() {
        let mut payload = br#"{"statusCode":201,"headers":{"content-type":"text/html"},"cookies":["a=1"]}"#.to_vec();
        payload.extend_from_slice(&[0; 8]);
        payload.extend_from_slice(b"Hello, world!");
        let r = streamed_answer(&payload);
        assert_eq!(r.status, 201);
        assert_eq!(r.headers, [("content-type".into(), "text/html".into()), ("set-cookie".into(), "a=1".into())]);
        assert_eq!(&r.body[..], b"Hello, world!");
        let r = streamed_answer(b"no prelude");
        assert_eq!((r.status, &r.body[..]), (200, &b"no prelude"[..]));
    }
}
