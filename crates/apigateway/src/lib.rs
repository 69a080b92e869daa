//! Lamina's API Gateway control planes: REST APIs (`apigateway`) and HTTP and WebSocket
//! APIs (`apigatewayv2`). The execute-api data plane that serves them is the `gateway`
//! crate's.
//!
//! [`GatewayService`] owns every API's configuration — for REST APIs the resource tree,
//! methods, integrations, authorizers, deployments and stages (`rest.rs`), models, request
//! validators and documentation parts (`definitions.rs`), gateway responses
//! (`responses.rs`, deployed with the API and rendered with `template.rs` when the data
//! plane answers its own errors), and the PATCH updates of resources, methods,
//! integrations and their responses (`updates.rs`); for HTTP APIs the routes,
//! integrations, authorizers, deployments and stages (`v2.rs`); API keys and usage plans
//! (`usage.rs`, with the key check and quotas the data plane asks for); VPC links, kept as
//! configuration (`vpc_links.rs`) — keeps it in memory, and writes each whole to the
//! store's `DocumentStore` on every change, so it survives a restart. A deployment is a
//! snapshot: a stage serves the deployment it points at, never the API's live
//! configuration (an HTTP API stage with auto-deploy gets a new deployment on every change,
//! as on AWS). Definitions can be imported from OpenAPI 3 or Swagger 2 (`openapi.rs`).
//! The data plane reads an API through [`GatewayService::with_api`], and knows its view is
//! stale when [`GatewayService::generation`] has moved on. `routing.rs` (pure) matches
//! hosts, paths and routes for both; `hosts.rs` keeps the hosts file sandboxes see;
//! `kinds.rs` holds the closed sets both planes share.
//!
//! It knows nothing of the control plane's JSON: `aws-api` speaks it. It never starts
//! processes and never calls another service.
#![deny(missing_docs)]

pub mod account;
pub mod definitions;
pub mod hosts;
pub mod kinds;
pub mod openapi;
mod patch;
pub mod responses;
pub mod rest;
pub mod routing;
mod tags;
pub mod template;
pub mod throttle;
mod updates;
pub mod usage;
pub mod v2;
pub mod vpc_links;

use model::sync::RwLock;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use store::{Document, DocumentStore, StoreError};

pub use patch::PatchOperation;

/// The largest request or answer payload API Gateway passes on: 10 MB.
pub const MAX_PAYLOAD: usize = 10 * 1024 * 1024;

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

/// AWS's refusal of a member outside a closed set: `Invalid {what} specified: {text}.
/// Valid values are …`.
pub(crate) fn invalid_member(what: &str, text: &str, names: &[&str]) -> GatewayError {
    GatewayError::BadRequest(format!("Invalid {what} specified: {text}. Valid values are {}", names.join(", ")))
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
}

/// API Gateway's control plane.
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
    store: Arc<dyn DocumentStore>,
    settings: GatewaySettings,
    state: RwLock<State>,
    /// Counts changes of the configuration, so that views of it (the data plane's
    /// snapshots) know when they are stale.
    generation: AtomicU64,
    /// Requests let through per throttle key (the data plane's gates and usage plans').
    buckets: throttle::Buckets,
    /// Requests counted against usage plans' quotas (GetUsage reads them).
    quotas: throttle::Quotas,
}

#[derive(Default)]
struct State {
    rest: HashMap<String, rest::RestApi>,
    http: HashMap<String, v2::HttpApi>,
    keys: HashMap<String, usage::ApiKey>,
    plans: HashMap<String, usage::UsagePlan>,
    links: HashMap<String, vpc_links::VpcLink>,
    accounts: HashMap<(String, String), account::AccountSettings>,
}

const REST_KIND: &str = "restapi";
const HTTP_KIND: &str = "httpapi";

impl GatewayService {
    /// Loads every API from the store.
    pub fn start(store: Arc<dyn DocumentStore>, settings: GatewaySettings) -> Result<Self, GatewayError> {
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
        for d in store.documents(account::ACCOUNT_KIND)? {
            let settings: account::AccountSettings = read_doc(&d)?;
            state.accounts.insert((settings.account.clone(), settings.region.clone()), settings);
        }
        let service = GatewayService {
            inner: Arc::new(Inner {
                store,
                settings: settings.clone(),
                state: RwLock::new(state),
                generation: AtomicU64::new(0),
                buckets: throttle::Buckets::default(),
                quotas: throttle::Quotas::default(),
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

    /// The configuration, to change: its generation moves on while the lock is held, so a
    /// view built before the change is known to be stale.
    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        let state = self.inner.state.write();
        self.inner.generation.fetch_add(1, Ordering::SeqCst);
        state
    }

    /// The configuration's generation: it moves on with every change.
    pub fn generation(&self) -> u64 {
        self.inner.generation.load(Ordering::SeqCst)
    }

    /// Runs `f` on the API `api_id` (REST, HTTP or WebSocket) under the configuration's read
    /// lock, with the generation it has; `None` if there is no such API.
    pub fn with_api<T>(&self, api_id: &str, f: impl FnOnce(Api<'_>) -> T) -> Option<(u64, T)> {
        let state = self.read();
        let generation = self.generation();
        let api = match (state.rest.get(api_id), state.http.get(api_id)) {
            (Some(api), _) => Api::Rest(api),
            (None, Some(api)) => Api::Http(api),
            (None, None) => return None,
        };
        Some((generation, f(api)))
    }

    /// Whether the token bucket `key` lets one more request through now.
    pub fn throttle_allows(&self, key: &str, rate: f64, burst: f64, now: std::time::Instant) -> bool {
        self.inner.buckets.allow(key, rate, burst, now)
    }

    fn save<T: serde::Serialize>(&self, kind: &str, id: &str, doc: &T) -> Result<(), GatewayError> {
        let doc = serde_json::to_string(doc).map_err(|e| GatewayError::Service(e.to_string()))?;
        self.inner.store.put_document(&Document { kind: kind.into(), id: id.into(), doc })?;
        Ok(())
    }

    /// The host an API's execute-api URLs use: `{api-id}.execute-api.{endpoint}`.
    pub fn api_host(&self, api_id: &str) -> String {
        format!("{api_id}.execute-api.{}", self.inner.settings.endpoint_host)
    }
}

/// An API, as [`GatewayService::with_api`] shows it.
#[derive(Debug, Clone, Copy)]
pub enum Api<'a> {
    /// A REST API.
    Rest(&'a rest::RestApi),
    /// An HTTP or WebSocket API.
    Http(&'a v2::HttpApi),
}

fn read_doc<T: serde::de::DeserializeOwned>(d: &Document) -> Result<T, GatewayError> {
    serde_json::from_str(&d.doc)
        .map_err(|e| GatewayError::Service(format!("stored {} {} is unreadable: {e}", d.kind, d.id)))
}

/// A fresh identifier of `len` lowercase letters and digits, as API Gateway's ids are.
pub fn new_id(len: usize) -> String {
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
pub fn now_secs() -> i64 {
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
