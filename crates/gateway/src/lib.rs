//! Lamina's execute-api data plane: requests to REST, HTTP and WebSocket APIs, and to
//! Lambda function URLs, served as AWS's front ends serve them. The APIs' configuration is
//! `apigateway`'s; this crate only reads it.
//!
//! [`DataPlane`] takes a plain request addressed to an API (`execute.rs`), finds the API's
//! snapshot (`execute/snapshot.rs`: every stage with the deployment it points at, behind an
//! `Arc`, rebuilt only when the configuration's generation has moved on), matches it
//! (`apigateway::routing`, pure), passes it through the gates (`gates.rs`: throttles,
//! Lambda and JWT authorizers in `authorizer.rs` and `jwt.rs`, then API keys), builds
//! AWS's events (`events.rs`, pure), calls the integration — a function through Lambda's
//! `invoke_for`, an HTTP backend over its own keep-alive connections (`backend.rs`), SQS,
//! or a `MOCK` (`targets.rs` says what Lambda's and SQS's answers are to the gateway),
//! mapping non-proxy requests and answers with templates (`mapped.rs`) — validates and
//! maps the answer as API Gateway does, and records metrics and access logs
//! (`observe.rs`). HTTP APIs' execution is `execute/http_api.rs`'s; WebSocket APIs'
//! connections, routes and `@connections` are `websocket.rs`'s; function URLs'
//! `function_urls.rs`'s; TestInvokeMethod (`test_invoke.rs`) runs a method as it is now
//! through the same integration code. `ingress.rs` is the front door: the HTTP edge of
//! API and function URL hosts, WebSocket handshakes and connections, with the
//! authentication the server's edge provides ([`ingress::Edge`]).
//!
//! It never changes an API's configuration, never starts processes, and knows no AWS
//! control-plane JSON.
#![deny(missing_docs)]

pub mod authorizer;
mod backend;
pub mod events;
mod execute;
pub mod function_urls;
mod gates;
pub mod ingress;
pub mod jwt;
mod mapped;
mod observe;
mod targets;
pub mod test_invoke;
pub mod websocket;

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use model::sync::RwLock;

pub use apigateway::{Caller, GatewayError, GatewayService, MAX_PAYLOAD};
pub use execute::{GatewayRequest, GatewayResponse, Signed};
pub use observe::StageMetrics;

/// How a function answered an integration's invocation.
#[derive(Debug)]
pub enum FunctionReply {
    /// The function returned this payload.
    Returned(Bytes),
    /// The function failed (`X-Amz-Function-Error`); the payload is its error document.
    Failed(Bytes),
    /// Lambda could not run it: throttled, missing, or not permitted. The text says why,
    /// for Lamina's own log.
    Unavailable(String),
}

/// A message an `AWS` integration sends to SQS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqsMessage {
    /// The queue's region.
    pub region: String,
    /// The queue's account.
    pub account: String,
    /// The queue's name.
    pub queue: String,
    /// `MessageBody`.
    pub body: String,
    /// `DelaySeconds`.
    pub delay_seconds: Option<u32>,
    /// `MessageGroupId`.
    pub group_id: Option<String>,
    /// `MessageDeduplicationId`.
    pub deduplication_id: Option<String>,
}

/// What SQS answered a send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqsSent {
    /// `MessageId`.
    pub message_id: String,
    /// `MD5OfMessageBody`.
    pub md5_of_body: String,
    /// `SequenceNumber`, for FIFO queues.
    pub sequence_number: Option<String>,
}

/// SQS's refusal of a send: its error code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqsFailure {
    /// The query-protocol error code (`AWS.SimpleQueueService.NonExistentQueue`).
    pub code: String,
    /// The message.
    pub message: String,
}

/// Receives stages' access log lines (wired to CloudWatch Logs). Must not block: it is
/// called on the request path.
pub trait AccessLogSink: Send + Sync + 'static {
    /// Appends `line` to the log group `destination_arn` names, in the stream `stream`.
    fn write(&self, destination_arn: &str, stream: &str, line: String);
}

/// What the data plane needs besides the configuration.
#[derive(Clone)]
pub struct PlaneSettings {
    /// Where access log lines go (CloudWatch Logs); none keeps no access logs.
    pub access_logs: Option<Arc<dyn AccessLogSink>>,
    /// WebSocket APIs' limits.
    pub websocket: websocket::WsLimits,
}

/// The execute-api data plane.
#[derive(Clone)]
pub struct DataPlane {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for DataPlane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataPlane").finish_non_exhaustive()
    }
}

struct Inner {
    /// The APIs' configuration.
    control: GatewayService,
    functions: targets::Functions,
    queues: targets::Queues,
    settings: PlaneSettings,
    /// Each API's snapshot, with the configuration generation it was built at.
    snapshots: RwLock<HashMap<String, (u64, Arc<execute::ApiSnapshot>)>>,
    http: execute::HttpClient,
    backends: backend::Backends,
    grants: authorizer::Cache,
    jwks: jwt::Jwks,
    metrics: observe::Metrics,
    connections: websocket::Connections,
}

impl DataPlane {
    /// The data plane of the APIs `control` keeps, calling `lambda` and `sqs`.
    pub fn new(
        control: GatewayService,
        lambda: lambda::LambdaService,
        sqs: sqs::SqsService,
        settings: PlaneSettings,
    ) -> DataPlane {
        DataPlane {
            inner: Arc::new(Inner {
                control,
                functions: targets::Functions(lambda),
                queues: targets::Queues(sqs),
                settings,
                snapshots: RwLock::new(HashMap::new()),
                http: outbound::client(),
                backends: backend::Backends::new(outbound::connector()),
                grants: authorizer::Cache::default(),
                jwks: jwt::Jwks::default(),
                metrics: observe::Metrics::default(),
                connections: websocket::Connections::default(),
            }),
        }
    }

    /// The APIs' configuration.
    pub fn control(&self) -> &GatewayService {
        &self.inner.control
    }

    /// Requests served per API and stage since start-up.
    pub fn metrics(&self) -> std::collections::BTreeMap<(String, String), StageMetrics> {
        self.inner.metrics.snapshot()
    }
}
