//! Lamina's API Gateway: REST APIs (`apigateway`) and HTTP APIs (`apigatewayv2`), and
//! the execute-api data plane that serves them.
//!
//! [`GatewayService`] owns every API's configuration — for REST APIs the resource tree,
//! methods, integrations, authorizers, deployments and stages (`rest.rs`), models, request
//! validators and documentation parts (`definitions.rs`), gateway responses
//! (`responses.rs`, deployed with the API and applied to its own errors), and the PATCH
//! updates of
//! resources, methods, integrations and their responses (`updates.rs`); for HTTP APIs
//! the routes, integrations, authorizers, deployments and stages (`v2.rs`); API keys and
//! usage plans (`usage.rs`); VPC links, kept as configuration (`vpc_links.rs`) — keeps it
//! in memory, and writes each whole to the store's
//! `GatewayStore` on every change, so it survives a restart. A deployment is a snapshot: a
//! stage serves the deployment it points at, never the API's live configuration (an HTTP
//! API stage with auto-deploy gets a new deployment on every change, as on AWS).
//! Definitions can be imported from OpenAPI 3 or Swagger 2 (`openapi.rs`).
//!
//! The data plane (`execute.rs`) takes a plain HTTP request addressed to an API, finds the
//! API's snapshot (`execute/snapshot.rs`: every stage with its deployment, shared behind an
//! `Arc` until the configuration changes), matches it against the stage's deployment (`routing.rs`, pure), passes it through the gates
//! (`gates.rs`: throttles, Lambda and JWT authorizers, then API keys), builds AWS's proxy
//! events (`events.rs`, pure), calls the integration — a function through Lambda's
//! `invoke_for`, an HTTP backend through its own keep-alive connections (`backend.rs`), SQS,
//! or a `MOCK` (`targets.rs` says what Lambda's and SQS's answers are to the gateway), mapping non-proxy requests and answers with templates
//! (`mapped.rs`, `template.rs`) — validates and maps the answer as API Gateway does, and
//! records metrics and access logs (`observe.rs`). WebSocket APIs' connections, routes and
//! `@connections` are `websocket.rs`'s; the hosts file that lets sandboxed functions
//! resolve every API's host is `hosts.rs`'s. Lambda function URLs' data plane is
//! `function_urls.rs`'s: the same event building and answer mapping, for a URL Lambda
//! names; access log lines go to CloudWatch Logs through an [`AccessLogSink`].
//! TestInvokeMethod (`test_invoke.rs`) runs a method as it is now through the same
//! integration code, with API Gateway's execution log.
//!
//! It knows nothing of the control plane's JSON: `aws-api` speaks it. It never starts
//! processes; functions run in Lambda, which decides whether API Gateway may invoke them.
#![deny(missing_docs)]

pub mod authorizer;
mod backend;
pub mod definitions;
pub mod events;
mod execute;
pub mod function_urls;
mod gates;
pub mod hosts;
pub mod jwt;
mod mapped;
mod observe;
pub mod openapi;
mod patch;
pub mod responses;
pub mod rest;
pub mod routing;
mod targets;
pub mod template;
pub mod test_invoke;
pub mod throttle;
mod updates;
pub mod usage;
pub mod v2;
pub mod vpc_links;
pub mod websocket;

use model::sync::RwLock;
use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use store::{GatewayDocument, GatewayStore, StoreError};

pub use execute::{GatewayRequest, GatewayResponse, Signed, MAX_PAYLOAD};
pub use observe::StageMetrics;
pub use patch::PatchOperation;

/// An API Gateway error, as the control plane answers it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum GatewayError {
    /// `BadRequestException` (400).
    #[error("{0}")]
    BadRequest(String),
    /// `NotFoundException` (404).
    #[error("{0}")]
    NotFound(String),
    /// `ConflictException` (409).
    #[error("{0}")]
    Conflict(String),
    /// `LimitExceededException` (429).
    #[error("{0}")]
    LimitExceeded(String),
    /// A failure of Lamina's own (500).
    #[error("{0}")]
    Service(String),
}

impl From<StoreError> for GatewayError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "store failure");
        GatewayError::Service("Lamina could not store the change.".into())
    }
}

pub use model::Caller;

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

/// Where the gateway says its APIs can be reached.
#[derive(Clone)]
pub struct GatewaySettings {
    /// The host and port the server listens on, e.g. `localhost:4566`; APIs are at
    /// `{api-id}.execute-api.{this}`.
    pub endpoint_host: String,
    /// A hosts file to keep naming every API's host (`{api-id}.execute-api.localhost`)
    /// beside the system's entries, for environments to resolve them; see [`hosts`].
    pub hosts_file: Option<std::path::PathBuf>,
    /// Where access log lines go (CloudWatch Logs); none keeps no access logs.
    pub access_logs: Option<Arc<dyn AccessLogSink>>,
    /// WebSocket APIs' limits.
    pub websocket: websocket::WsLimits,
}

/// API Gateway's control plane and data plane.
#[derive(Clone)]
pub struct GatewayService {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for GatewayService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayService").finish_non_exhaustive()
    }
}

struct Inner {
    store: Arc<dyn GatewayStore>,
    functions: targets::Functions,
    queues: targets::Queues,
    settings: GatewaySettings,
    state: RwLock<State>,
    /// The data plane's view of each API, dropped on every change of the configuration.
    snapshots: RwLock<HashMap<String, Arc<execute::ApiSnapshot>>>,
    http: execute::HttpClient,
    backends: backend::Backends,
    buckets: throttle::Buckets,
    quotas: throttle::Quotas,
    grants: authorizer::Cache,
    jwks: jwt::Jwks,
    metrics: observe::Metrics,
    connections: websocket::Connections,
}

#[derive(Default)]
struct State {
    rest: HashMap<String, rest::RestApi>,
    http: HashMap<String, v2::HttpApi>,
    keys: HashMap<String, usage::ApiKey>,
    plans: HashMap<String, usage::UsagePlan>,
    links: HashMap<String, vpc_links::VpcLink>,
}

const REST_KIND: &str = "restapi";
const HTTP_KIND: &str = "httpapi";

impl GatewayService {
    /// Loads every API from the store; integrations call `lambda` and `sqs`.
    pub fn start(
        store: Arc<dyn GatewayStore>,
        lambda: lambda::LambdaService,
        sqs: sqs::SqsService,
        settings: GatewaySettings,
    ) -> Result<Self, GatewayError> {
        let mut state = State::default();
        for d in store.documents(REST_KIND)? {
            let api: rest::RestApi = read_doc(&d)?;
            state.rest.insert(api.id.clone(), api);
        }
        for d in store.documents(HTTP_KIND)? {
            let api: v2::HttpApi = read_doc(&d)?;
            state.http.insert(api.id.clone(), api);
        }
        for d in store.documents(usage::KEY_KIND)? {
            let key: usage::ApiKey = read_doc(&d)?;
            state.keys.insert(key.id.clone(), key);
        }
        for d in store.documents(usage::PLAN_KIND)? {
            let plan: usage::UsagePlan = read_doc(&d)?;
            state.plans.insert(plan.id.clone(), plan);
        }
        for d in store.documents(vpc_links::LINK_KIND)? {
            let link: vpc_links::VpcLink = read_doc(&d)?;
            state.links.insert(link.id.clone(), link);
        }
        let service = GatewayService {
            inner: Arc::new(Inner {
                store,
                functions: targets::Functions(lambda),
                queues: targets::Queues(sqs),
                settings: settings.clone(),
                state: RwLock::new(state),
                http: outbound::client(),
                backends: backend::Backends::new(outbound::connector()),
                buckets: throttle::Buckets::default(),
                quotas: throttle::Quotas::default(),
                grants: authorizer::Cache::default(),
                jwks: jwt::Jwks::default(),
                metrics: observe::Metrics::default(),
                snapshots: RwLock::new(HashMap::new()),
                connections: websocket::Connections::default(),
            }),
        };
        service.publish_hosts(&service.read());
        Ok(service)
    }

    /// Rewrites the hosts file with the APIs there are now.
    fn publish_hosts(&self, state: &State) {
        let Some(path) = &self.inner.settings.hosts_file else { return };
        let domain = self.inner.settings.endpoint_host.split(':').next().unwrap_or("localhost");
        let names = state.rest.keys().chain(state.http.keys()).map(|id| format!("{id}.execute-api.{domain}"));
        if let Err(e) = hosts::write(path, names) {
            tracing::warn!("writing {}: {e}", path.display());
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.inner.state.read()
    }

    /// The configuration, to change: every API's data-plane snapshot is dropped while the
    /// lock is held, so the next request builds its snapshot from the changed one.
    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        let state = self.inner.state.write();
        self.inner.snapshots.write().clear();
        state
    }

    fn save<T: serde::Serialize>(&self, kind: &str, id: &str, doc: &T) -> Result<(), GatewayError> {
        let doc = serde_json::to_string(doc).map_err(|e| GatewayError::Service(e.to_string()))?;
        self.inner.store.put_document(&GatewayDocument { kind: kind.into(), id: id.into(), doc })?;
        Ok(())
    }

    /// Requests served per API and stage since start-up.
    pub fn metrics(&self) -> std::collections::BTreeMap<(String, String), StageMetrics> {
        self.inner.metrics.snapshot()
    }

    /// The host an API's execute-api URLs use: `{api-id}.execute-api.{endpoint}`.
    pub fn api_host(&self, api_id: &str) -> String {
        format!("{api_id}.execute-api.{}", self.inner.settings.endpoint_host)
    }
}

fn read_doc<T: serde::de::DeserializeOwned>(d: &GatewayDocument) -> Result<T, GatewayError> {
    serde_json::from_str(&d.doc)
        .map_err(|e| GatewayError::Service(format!("stored {} {} is unreadable: {e}", d.kind, d.id)))
}

/// A fresh identifier of `len` lowercase letters and digits, as API Gateway's ids are.
pub(crate) fn new_id(len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::with_capacity(len);
    while out.len() < len {
        for b in uuid::Uuid::new_v4().as_bytes() {
            // 252 is the largest multiple of 36 below 256: no bias.
            if *b < 252 && out.len() < len {
                out.push(ALPHABET[(*b % 36) as usize] as char);
            }
        }
    }
    out
}

/// Seconds since the epoch.
pub(crate) fn now_secs() -> i64 {
    model::clock::now_ms() / 1000
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_lowercase_alphanumerics_of_the_asked_length() {
        let a = super::new_id(10);
        assert_eq!(a.len(), 10);
        assert!(a.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
        assert_ne!(a, super::new_id(10));
    }
}
