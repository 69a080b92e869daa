//! AWS wire protocols for Lamina.
//!
//! One [`router`] serves every AWS API on one port, routed the way AWS clients address
//! them: Lambda's and API Gateway's REST paths (`/2015-03-31/…`, `/restapis`, `/apikeys`,
//! `/usageplans`, `/v2/apis`); SQS's, CloudWatch Logs' and SSM's JSON protocols
//! (`X-Amz-Target`); the query protocol (form `Action=…`) of SQS, SNS, STS and IAM, told
//! apart by the SigV4 credential scope or the action; and S3, by its hosts
//! (`bucket.s3.localhost`, `s3.localhost`) or a signature scoped to it (`s3_api.rs`, which
//! streams bodies both ways and decodes `aws-chunked` uploads in `chunked.rs`). In
//! authenticated mode (`auth.rs`) a request gets this far only with a valid signature by a
//! known key, scoped to the endpoint's service, and acts in that key's account (S3's are
//! checked without reading their bodies, and unsigned ones go on as anonymous,
//! `s3_api/signed.rs`); code download links carry a signature of the server's own
//! (`code_urls.rs`). Requests addressed to a deployed API (`{api-id}.execute-api.localhost`, or
//! a path form), or to a function URL (`{url-id}.lambda-url.{region}.localhost`), go to
//! the `gateway` crate's data plane first, through its front door, with the authentication
//! `edge.rs` gives it. Every service is served on the `protocol` crate: it routes a request to its operation (for Lambda, by the
//! model's HTTP bindings), reads it into the service's input tree from the service's
//! model, and writes the output tree or error back (`ingress.rs`, `lambda_api.rs`); their
//! modules (`*_api.rs`, `lambda_*.rs`) only turn trees into service calls and map each
//! service's errors in one place (`lambda_rest::service_error`, `sqs_api::service_error`,
//! `sns_api::service_error`, …). A Lambda call naming another account's function acts
//! there when its resource policy grants it (`lambda_api::handle`). Both API Gateway
//! control planes are served the same way (`apigw_api.rs`); v2's handlers read and write
//! its JSON in the wire form, which `apigw_api` converts from and to the model's trees.
//! Anything no handler takes is answered by `ingress::unserved` in the protocol the request
//! used.
//!
//! **Invariant:** the wire formats are `protocol`'s and this crate's alone (the events
//! functions receive are built by the services that send them). It never locks state,
//! touches the store or starts processes; the services do.
#![deny(missing_docs)]

mod apigw_api;
mod apigw_common;
mod apigw_definitions;
mod apigw_rest;
mod apigw_usage;
mod apigw_v2;
mod auth;
mod caller;
mod chunked;
mod cloudformation_api;
mod code_urls;
mod dynamodb_api;
mod ecr_api;
mod edge;
mod events_api;
mod iam_api;
mod ingress;
mod internal;
mod kinesis_api;
mod lambda_api;
mod lambda_configuration;
mod lambda_esm;
mod lambda_layers;
mod lambda_policy;
mod lambda_rest;
mod lambda_signing;
mod lambda_urls;
mod lambda_versions;
mod logs_api;
mod s3_api;
mod scheduler_api;
mod sns_api;
mod sqs_api;
mod ssm_api;
mod sts_api;

pub use code_urls::CodeUrls;
pub use internal::Internal;

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;

pub use auth::{AccessKey, Authenticator};

/// Entry points for the fuzz targets (`fuzz/`): the parsers of untrusted input, without
/// the services behind them.
#[doc(hidden)]
pub mod fuzz {
    /// A query-protocol body (form-encoded), read as SQS and SNS read their parameters.
    pub fn query_form(body: &[u8]) {
        // SQS and SNS read their forms through the protocol layer, from their models.
        let mut headers = axum::http::HeaderMap::new();
        headers.insert("content-type", axum::http::HeaderValue::from_static("application/x-www-form-urlencoded"));
        let req = protocol::Request {
            method: &axum::http::Method::POST,
            path: "/",
            query: "",
            headers: &headers,
            body: bytes::Bytes::copy_from_slice(body),
        };
        for service in ["sqs", "sns"] {
            if let Some(model) = protocol::service(service) {
                let _ = model.parse(protocol::Protocol::Query, &req);
            }
        }
    }

    /// An `aws-chunked` upload body, decoded as S3 decodes it, split where `cut` says.
    pub fn aws_chunked(body: &[u8], cut: usize) {
        use futures_util::StreamExt;
        let cut = cut.min(body.len());
        let pieces =
            vec![Ok(bytes::Bytes::copy_from_slice(&body[..cut])), Ok(bytes::Bytes::copy_from_slice(&body[cut..]))];
        let slot = std::sync::Arc::new(model::sync::Mutex::new(None));
        let decoded = crate::chunked::decode(
            futures_util::stream::iter(pieces),
            Some(("x-amz-checksum-crc32".into(), slot)),
            None,
        );
        let mut decoded = std::pin::pin!(decoded);
        let runtime = tokio::runtime::Builder::new_current_thread().build().expect("a runtime");
        runtime.block_on(async {
            let mut total = 0;
            while let Some(piece) = decoded.next().await {
                match piece {
                    Ok(data) => total += data.len(),
                    Err(_) => break,
                }
                assert!(total <= body.len(), "decoded more than was sent");
            }
        });
    }
}
pub use caller::CallerPolicy;

/// What the API layer needs to serve requests: the services, shared (every request's
/// handler holds it, so a clone is one count, not one per service).
#[derive(Clone)]
pub struct ApiState(std::sync::Arc<Services>);

impl ApiState {
    /// The state over these services.
    pub fn new(services: Services) -> ApiState {
        ApiState(std::sync::Arc::new(services))
    }
}

impl std::ops::Deref for ApiState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

/// The services the API layer serves.
pub struct Services {
    /// The Lambda service.
    pub lambda: lambda::LambdaService,
    /// SQS.
    pub sqs: sqs::SqsService,
    /// SNS.
    pub sns: sns::SnsService,
    /// API Gateway.
    pub gateway: apigateway::GatewayService,
    /// The execute-api data plane (APIs served, function URLs, WebSockets).
    pub plane: gateway::DataPlane,
    /// IAM (roles and policies; not enforced).
    pub iam: iam::IamService,
    /// CloudWatch Logs.
    pub logs: logs::LogsService,
    /// SSM Parameter Store.
    pub ssm: ssm::SsmService,
    /// ECR's repository catalogue.
    pub ecr: ecr::EcrService,
    /// S3.
    pub s3: s3::S3Service,
    /// CloudFormation.
    pub cloudformation: cloudformation::CloudFormationService,
    /// EventBridge and Scheduler.
    pub events: events::EventsService,
    /// DynamoDB and DynamoDB Streams.
    pub dynamodb: std::sync::Arc<dynamodb::DynamoService>,
    /// Kinesis Data Streams.
    pub kinesis: std::sync::Arc<kinesis::KinesisService>,
    /// How callers map to accounts and regions (shared: the state is cloned per request).
    pub callers: std::sync::Arc<CallerPolicy>,
    /// Whether `POST /_lamina/clock` may move the async queue's clock forward (for tests
    /// of event age; off unless configured).
    pub adjustable_clock: bool,
    /// Signs the archive links GetFunction and GetLayerVersion answer.
    pub code_urls: CodeUrls,
}

/// The id of the request being served: generated once, answered in `x-amzn-RequestId`,
/// and used as the invocation id of an Invoke.
#[derive(Debug, Clone)]
pub(crate) struct RequestId(pub String);

async fn request_id(mut req: Request, next: Next) -> Response {
    let id = uuid::Uuid::new_v4().to_string();
    req.extensions_mut().insert(RequestId(id.clone()));
    let mut resp = next.run(req).await;
    // S3 names it in a header of its own.
    if resp.headers().contains_key("x-amz-request-id") {
        return resp;
    }
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert("x-amzn-requestid", v);
    }
    resp
}

/// `POST /_lamina/clock?advance_secs=N`: moves the async queue's clock forward, when the
/// server was started with an adjustable clock.
async fn advance_clock(
    axum::extract::State(s): axum::extract::State<ApiState>,
    axum::extract::RawQuery(q): axum::extract::RawQuery,
    req: Request,
) -> Response {
    let secs = q.as_deref().and_then(|q| {
        form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "advance_secs").and_then(|(_, v)| v.parse::<f64>().ok())
    });
    match secs {
        Some(secs) if s.adjustable_clock && secs.is_finite() && secs >= 0.0 => {
            // One clock: the async queue's, SQS's and S3's lifecycle's.
            s.lambda.queue().advance_clock(std::time::Duration::from_secs_f64(secs));
            s.sqs.advance_clock(std::time::Duration::ZERO);
            s.s3.clock_moved();
            s.events.clock_moved();
            StatusCode::NO_CONTENT.into_response()
        }
        _ => ingress::unserved(req).await,
    }
}

/// `GET /_lamina/metrics`: operational figures in the Prometheus text format.
async fn metrics(axum::extract::State(s): axum::extract::State<ApiState>) -> Response {
    let m = match s.lambda.metrics() {
        Ok(m) => m,
        Err(e) => return lambda_rest::error_response(e),
    };
    let i = m.invoker;
    let gauges: [(&str, &str, u64); 8] = [
        ("lamina_functions", "Functions in every account.", m.functions as u64),
        ("lamina_async_events_queued", "Async events accepted and not yet finished.", m.async_queued),
        ("lamina_environments_started_total", "Execution environments started.", i.environments_started),
        ("lamina_environments_idle", "Warm environments waiting for work.", i.environments_idle as u64),
        ("lamina_environments_provisioned", "Provisioned environments initialised.", i.environments_provisioned as u64),
        ("lamina_invocations_running", "Invocations running now.", i.invocations_running as u64),
        ("lamina_websocket_connections", "Open WebSocket API connections.", s.plane.websocket_connections() as u64),
        (
            "lamina_log_lines_dropped_total",
            "Log lines dropped: CloudWatch Logs' writer fell behind.",
            s.logs.dropped_lines(),
        ),
    ];
    let mut body = String::new();
    for (name, help, value) in gauges {
        let kind = if name.ends_with("_total") { "counter" } else { "gauge" };
        body.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"));
    }
    // API Gateway, per API and stage.
    let stages = s.plane.metrics();
    type Series = (&'static str, &'static str, fn(&gateway::StageMetrics) -> f64);
    let series: [Series; 5] = [
        ("lamina_apigateway_requests_total", "Requests answered.", |m| m.count as f64),
        ("lamina_apigateway_4xx_total", "Requests answered with a 4xx status.", |m| m.client_errors as f64),
        ("lamina_apigateway_5xx_total", "Requests answered with a 5xx status.", |m| m.server_errors as f64),
        ("lamina_apigateway_latency_ms_total", "Time to answer, summed, ms.", |m| m.latency_ms),
        ("lamina_apigateway_integration_latency_ms_total", "Time in the integration, summed, ms.", |m| {
            m.integration_latency_ms
        }),
    ];
    for (name, help, value) in series {
        body.push_str(&format!("# HELP {name} {help}\n# TYPE {name} counter\n"));
        for ((api, stage), m) in &stages {
            body.push_str(&format!("{name}{{api_id=\"{api}\",stage=\"{stage}\"}} {}\n", value(m)));
        }
    }
    ([("content-type", "text/plain; version=0.0.4")], body).into_response()
}

/// `POST /` (and `GET /?Action=…`): the JSON protocols name their operation in
/// `X-Amz-Target`; the query protocol in an `Action` form or query parameter.
async fn root_post(axum::extract::State(s): axum::extract::State<ApiState>, req: Request) -> Response {
    let target = req.headers().get("x-amz-target").and_then(|v| v.to_str().ok()).map(str::to_owned);
    if target.as_deref().is_some_and(|t| t.starts_with("Logs_20140328.")) {
        let request_id = req.extensions().get::<RequestId>().map(|r| r.0.clone()).unwrap_or_default();
        let (parts, body) = req.into_parts();
        let Ok(body) = axum::body::to_bytes(body, logs_api::MAX_BODY).await else {
            let message = format!("Upload too large: the request exceeds {} bytes", logs_api::MAX_BODY);
            let e = protocol::ServiceError::new("InvalidParameterException", message);
            return ingress::error("logs", protocol::Protocol::Json, &e, &request_id);
        };
        return modelled(&s, "logs", protocol::Protocol::Json, &parts, body, &request_id).await;
    }
    let json_service = target.as_deref().and_then(|t| JSON_SERVICES.iter().find(|j| t.starts_with(j.prefix)));
    if let Some(j) = json_service {
        let request_id = req.extensions().get::<RequestId>().map(|r| r.0.clone()).unwrap_or_default();
        let (parts, body) = req.into_parts();
        let Some(body) = ingress::read_body(&parts, body, j.max_body).await else {
            let e = protocol::ServiceError::new(j.too_large, "The request is larger than the service accepts.");
            return ingress::error(j.service, protocol::Protocol::Json, &e, &request_id);
        };
        if ingress::amz_cbor(&parts) {
            let operation = target.as_deref().and_then(|t| t.split_once('.')).map(|(_, op)| op);
            let resp = match protocol::cbor_as_json(&body) {
                Ok(json) => modelled(&s, j.service, protocol::Protocol::Json, &parts, json.into(), &request_id).await,
                Err(m) => {
                    let e = protocol::ServiceError::new("SerializationException", m);
                    ingress::error(j.service, protocol::Protocol::Json, &e, &request_id)
                }
            };
            return ingress::as_amz_cbor(j.service, operation, resp).await;
        }
        return modelled(&s, j.service, protocol::Protocol::Json, &parts, body, &request_id).await;
    }
    match target.as_deref() {
        Some(t) if t.starts_with("AmazonSQS.") => sqs_api::handle(&s, req, protocol::Protocol::Json, None).await,
        Some(_) => ingress::unserved(req).await,
        None => query_request(s, req).await,
    }
}

/// A json-protocol service reached by its `X-Amz-Target` prefix and answered by [`modelled`].
struct JsonService {
    prefix: &'static str,
    service: &'static str,
    max_body: usize,
    /// The error code of a body too large.
    too_large: &'static str,
}

const JSON_SERVICES: &[JsonService] = &[
    JsonService { prefix: "AmazonSSM.", service: "ssm", max_body: ssm_api::MAX_BODY, too_large: "ValidationException" },
    JsonService {
        prefix: "AWSEvents.",
        service: "events",
        max_body: events_api::MAX_BODY,
        too_large: "ValidationException",
    },
    JsonService {
        prefix: "DynamoDB_20120810.",
        service: "dynamodb",
        max_body: dynamodb_api::MAX_BODY,
        too_large: "ValidationException",
    },
    JsonService {
        prefix: "DynamoDBStreams_20120810.",
        service: "dynamodbstreams",
        max_body: dynamodb_api::MAX_BODY,
        too_large: "ValidationException",
    },
    JsonService {
        prefix: "Kinesis_20131202.",
        service: "kinesis",
        max_body: kinesis_api::MAX_BODY,
        too_large: "ValidationException",
    },
    JsonService {
        prefix: "CloudApiService.",
        service: "cloudcontrol",
        max_body: 1024 * 1024,
        too_large: "ValidationException",
    },
    JsonService {
        prefix: "AmazonEC2ContainerRegistry_V20150921.",
        service: "ecr",
        max_body: ecr_api::MAX_BODY,
        too_large: "InvalidParameterException",
    },
];

/// The service a SigV4 credential scope names (`…/<region>/<service>/aws4_request`).
pub(crate) fn signed_service(headers: &axum::http::HeaderMap) -> Option<String> {
    let auth = headers.get("authorization")?.to_str().ok()?;
    let credential = auth.split("Credential=").nth(1)?.split([',', ' ']).next()?;
    credential.split('/').nth(3).map(str::to_owned)
}

/// The query-protocol service an action belongs to.
pub(crate) fn query_service_of(action: &str) -> Option<&'static str> {
    if sqs_api::OPERATIONS.contains(&action) {
        Some("sqs")
    } else if sts_api::OPERATIONS.contains(&action) {
        Some("sts")
    } else if iam_api::OPERATIONS.contains(&action) {
        Some("iam")
    } else if sns_api::OPERATIONS.contains(&action) {
        Some("sns")
    } else if cloudformation_api::OPERATIONS.contains(&action) {
        Some("cloudformation")
    } else {
        None
    }
}

async fn query_request(s: ApiState, req: Request) -> Response {
    query_request_for(s, req, None).await
}

/// A query-protocol request; `path_queue` is the SQS queue (account, name) whose URL it
/// was sent to, if any.
async fn query_request_for(s: ApiState, req: Request, path_queue: Option<(String, String)>) -> Response {
    // `GET /` or `POST /` signed for another service (S3's ListBuckets, CloudFormation).
    let signed = signed_service(req.headers());
    if signed.as_deref().is_some_and(|svc| !["sqs", "sns", "sts", "iam", "cloudformation"].contains(&svc)) {
        return ingress::unserved(req).await;
    }
    if signed.as_deref() == Some("sqs") || path_queue.is_some() {
        return sqs_api::handle(&s, req, protocol::Protocol::Query, path_queue).await;
    }
    let request_id = req.extensions().get::<RequestId>().map(|r| r.0.clone()).unwrap_or_default();
    let (parts, body) = req.into_parts();
    let mut params: Vec<(String, String)> =
        parts.uri.query().map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default();
    // Room for an SQS batch of ten 1 MiB messages, form-encoded; a larger body is refused
    // rather than read in part.
    const LIMIT: usize = sqs_api::MAX_BODY * 3;
    let Some(bytes) = ingress::read_body(&parts, body, LIMIT).await else {
        let e = protocol::ServiceError::new(
            "InvalidParameterValueException",
            "The request is larger than the service accepts.",
        );
        let service = signed.as_deref().unwrap_or("sqs");
        return ingress::error(service, protocol::Protocol::Query, &e, &request_id);
    };
    params.extend(form_urlencoded::parse(&bytes).into_owned());
    let action = params.iter().find(|(k, _)| k == "Action").map(|(_, v)| v.clone()).unwrap_or_default();
    let service = match signed.as_deref() {
        Some(name) => name,
        None => query_service_of(&action).or_else(|| ingress::query_service_for(&action)).unwrap_or(""),
    };
    if service == "sqs" {
        let req = Request::from_parts(parts, axum::body::Body::from(bytes));
        return sqs_api::handle(&s, req, protocol::Protocol::Query, None).await;
    }
    if !["sns", "sts", "iam", "cloudformation"].contains(&service) {
        return ingress::unserved_operation(service, protocol::Protocol::Query, &action, &request_id);
    }
    modelled(&s, service, protocol::Protocol::Query, &parts, bytes, &request_id).await
}

/// A request of SNS, STS, IAM, CloudWatch Logs, SSM or CloudFormation, on the protocol layer: read and checked
/// from the service's model, run, and answered from it in the request's protocol.
async fn modelled(
    s: &ApiState,
    service: &str,
    q: protocol::Protocol,
    parts: &axum::http::request::Parts,
    body: bytes::Bytes,
    request_id: &str,
) -> Response {
    let served = match service {
        "sns" => sns_api::OPERATIONS,
        "sts" => sts_api::OPERATIONS,
        "logs" => logs_api::OPERATIONS.as_slice(),
        "ssm" => ssm_api::OPERATIONS,
        "cloudformation" => cloudformation_api::OPERATIONS,
        "cloudcontrol" => cloudformation_api::CONTROL_OPERATIONS,
        "ecr" => ecr_api::OPERATIONS,
        "events" => events_api::OPERATIONS,
        "dynamodb" => dynamodb_api::OPERATIONS,
        "dynamodbstreams" => dynamodb_api::STREAM_OPERATIONS,
        "kinesis" => kinesis_api::OPERATIONS,
        _ => iam_api::OPERATIONS,
    };
    let (model, input) = match ingress::read(service, q, parts, body, served) {
        Ok(read) => read,
        Err(e) => return ingress::error(service, q, &e, request_id),
    };
    let op = input.operation.as_str();
    let caller = s.callers.caller(parts);
    let result = match service {
        "sns" => {
            let principal = sts_api::identity(&s.callers, parts).1;
            let caller = sns::Caller { account: caller.account, region: caller.region, principal };
            let trace = parts.headers.get("x-amzn-trace-id").and_then(|v| v.to_str().ok());
            sns_api::run(&s.sns, &caller, op, input.value.clone(), trace).await.map_err(|e| sns_api::service_error(&e))
        }
        "sts" => sts_api::run(&s.callers, &s.iam, parts, op, &input.value),
        "cloudformation" | "cloudcontrol" => {
            let principal = sts_api::identity(&s.callers, parts).1;
            let host = parts.headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("localhost:4566");
            let acting = cloudformation::Acting {
                account: caller.account,
                region: caller.region,
                principal,
                host: host.to_owned(),
            };
            let ran = if service == "cloudcontrol" {
                cloudformation_api::run_control(&s.cloudformation, &acting, op, &input.value).await
            } else {
                cloudformation_api::run(&s.cloudformation, &acting, op, &input.value).await
            };
            ran.map_err(|e| cloudformation_api::service_error(&e))
        }
        "logs" => {
            // Every Logs operation reads or writes its SQLite file: off the async workers.
            let (logs, op, value) = (s.logs.clone(), op.to_owned(), input.value.clone());
            tokio::task::spawn_blocking(move || logs_api::run(&logs, &caller, &op, &value)).await.unwrap_or_else(|e| {
                let stopped = logs::LogsError::ServiceUnavailable(format!("the operation stopped: {e}"));
                Err(logs_api::service_error(&stopped))
            })
        }
        "ssm" => {
            // Every SSM operation reads or writes SQLite: off the async workers.
            let user = sts_api::identity(&s.callers, parts).1;
            let (ssm, op, value) = (s.ssm.clone(), op.to_owned(), input.value.clone());
            let run = move || ssm_api::run(&ssm, &caller, &user, &op, &value);
            tokio::task::spawn_blocking(run).await.unwrap_or_else(|e| {
                Err(ssm_api::service_error(&ssm::SsmError::Internal(format!("the operation stopped: {e}"))))
            })
        }
        "ecr" => {
            // Every change writes SQLite: off the async workers.
            let principal = sts_api::identity(&s.callers, parts).1;
            let caller = ecr::Caller { account: caller.account, region: caller.region, principal };
            let (ecr, op, value) = (s.ecr.clone(), op.to_owned(), input.value.clone());
            tokio::task::spawn_blocking(move || ecr_api::run(&ecr, &caller, &op, &value)).await.unwrap_or_else(|e| {
                Err(ecr_api::service_error(&ecr::EcrError::Server(format!("the operation stopped: {e}"))))
            })
        }
        // One item's read or write is a short statement or two: on the async worker, as a
        // queue's send is; the rest (queries, scans, batches, tables) on the pool.
        "dynamodb" if dynamodb_api::SINGLE_ITEM.contains(&op) => {
            dynamodb_api::run(&s.dynamodb, &caller, "", op, &input.value)
        }
        "dynamodb" | "dynamodbstreams" => {
            // Every operation reads or writes the store: off the async workers.
            let host = parts.headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("localhost:4566").to_owned();
            let (d, op, value, streams) =
                (s.dynamodb.clone(), op.to_owned(), input.value.clone(), service == "dynamodbstreams");
            tokio::task::spawn_blocking(move || {
                if streams {
                    dynamodb_api::run_streams(&d, &caller, &op, &value)
                } else {
                    dynamodb_api::run(&d, &caller, &host, &op, &value)
                }
            })
            .await
            .unwrap_or_else(|e| {
                Err(dynamodb_api::service_error(&dynamodb::DynamoError::Internal(format!(
                    "the operation stopped: {e}"
                ))))
            })
        }
        "kinesis" => {
            // Every operation reads or writes the store: off the async workers.
            let (k, op, value) = (s.kinesis.clone(), op.to_owned(), input.value.clone());
            tokio::task::spawn_blocking(move || kinesis_api::run(&k, &caller, &op, &value)).await.unwrap_or_else(|e| {
                Err(kinesis_api::service_error(&kinesis::KinesisError::Internal(format!("the operation stopped: {e}"))))
            })
        }
        "events" if op == "PutEvents" => events_api::put_events(&s.events, &caller, &input.value).await,
        "events" => {
            // Every change writes the store: off the async workers.
            let (events, op, value) = (s.events.clone(), op.to_owned(), input.value.clone());
            tokio::task::spawn_blocking(move || events_api::run(&events, &caller, &op, &value)).await.unwrap_or_else(
                |e| {
                    Err(events_api::service_error(&events::EventsError::Internal(format!(
                        "the operation stopped: {e}"
                    ))))
                },
            )
        }
        _ => {
            let principal = sts_api::identity(&s.callers, parts).1;
            let call = iam_api::Call { account: &caller.account, principal: &principal, keys: &s.callers.issued };
            iam_api::run(&s.iam, &call, op, &input.value)
        }
    };
    match result {
        Ok(v) => ingress::answer(model, q, op, v, request_id),
        Err(e) => ingress::error(service, q, &e, request_id),
    }
}

/// `POST` or `GET /<account>/<queue>`: SQS addressed to a queue's URL.
async fn queue_post(
    axum::extract::State(s): axum::extract::State<ApiState>,
    axum::extract::Path((account, queue)): axum::extract::Path<(String, String)>,
    req: Request,
) -> Response {
    // Current SDKs post the JSON protocol to a queue's URL too.
    if req.headers().get("x-amz-target").and_then(|t| t.to_str().ok()).is_some_and(|t| t.starts_with("AmazonSQS.")) {
        return sqs_api::handle(&s, req, protocol::Protocol::Json, None).await;
    }
    query_request_for(s, req, Some((account, queue))).await
}

/// `GET /_lamina/sns/SimpleNotificationService-….pem`: the certificate SNS's messages are
/// signed under (their `SigningCertURL`).
async fn sns_certificate(
    axum::extract::State(s): axum::extract::State<ApiState>,
    axum::extract::Path(file): axum::extract::Path<String>,
) -> Response {
    match s.sns.certificate(&file).await {
        Some(pem) => ([(axum::http::header::CONTENT_TYPE, "application/x-x509-ca-cert")], pem).into_response(),
        None => axum::http::StatusCode::NOT_FOUND.into_response(),
    }
}

async fn root_get(axum::extract::State(s): axum::extract::State<ApiState>, req: Request) -> Response {
    query_request(s, req).await
}

/// `router`, with every path under `service`'s roots going to `handler`.
fn rooted<H, T>(mut router: Router<ApiState>, service: &str, handler: H) -> Router<ApiState>
where
    H: axum::handler::Handler<T, ApiState>,
    T: 'static,
{
    for root in ingress::path_roots(service) {
        router = router
            .route(&format!("/{root}"), axum::routing::any(handler.clone()))
            .route(&format!("/{root}/{{*rest}}"), axum::routing::any(handler.clone()));
    }
    router
}

/// Every AWS API Lamina serves, on one router.
pub fn router(state: ApiState) -> Router {
    // Lambda and both API Gateway control planes: every path under their operations'
    // roots (`/2015-03-31/…`, `/restapis/…`, `/v2/…`) goes to the protocol layer, which
    // routes it by the model.
    let modelled = Router::new()
        .route("/_lamina/code/{account}/{region}/{name}/{file}", axum::routing::get(lambda_rest::download_code))
        .route(
            "/_lamina/layer-code/{account}/{region}/{name}/{version}",
            axum::routing::get(lambda_layers::download_layer),
        );
    let modelled = rooted(modelled, "lambda", lambda_api::handle);
    let modelled = rooted(modelled, "apigateway", apigw_api::handle);
    let modelled = rooted(modelled, "apigatewayv2", apigw_api::handle_v2);
    // Scheduler's roots but `/tags`, which API Gateway's handler hands on by signature.
    let mut modelled = modelled;
    let taken = ingress::path_roots("apigateway");
    for root in ingress::path_roots("scheduler").difference(&taken) {
        modelled = modelled
            .route(&format!("/{root}"), axum::routing::any(scheduler_api::handle))
            .route(&format!("/{root}/{{*rest}}"), axum::routing::any(scheduler_api::handle));
    }
    Router::new()
        .merge(modelled)
        .route("/_lamina/clock", axum::routing::post(advance_clock))
        .route("/_lamina/metrics", axum::routing::get(metrics))
        .route("/_lamina/health", axum::routing::get(ingress::health))
        .route("/_localstack/health", axum::routing::get(ingress::localstack_health))
        .route("/_lamina/sns/{file}", axum::routing::get(sns_certificate))
        .route("/_lamina/events/emit", axum::routing::post(events_api::emit))
        .route("/_lamina/events/templates", axum::routing::get(events_api::templates))
        .route("/", axum::routing::post(root_post).get(root_get))
        .route("/{account}/{queue}", axum::routing::post(queue_post).get(queue_post))
        .fallback(ingress::unserved)
        .method_not_allowed_fallback(ingress::unserved)
        .layer(middleware::from_fn_with_state(state.clone(), s3_api::front))
        .layer(middleware::from_fn_with_state(state.clone(), auth::authenticate))
        .layer(middleware::from_fn_with_state(state.clone(), ingress::request_log))
        .layer(middleware::from_fn_with_state(state.clone(), edge::front_door))
        .layer(middleware::from_fn(request_id))
        .with_state(state)
}
