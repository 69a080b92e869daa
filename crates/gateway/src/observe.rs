//! What the gateway records of each request: per API and stage metrics (count, 4xx, 5xx,
//! latency, integration latency), and access log lines in the stage's format, with its
//! `$context` variables, handed to CloudWatch Logs (which never makes a request wait).

use model::sync::Mutex;
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use apigateway::template::{self, Scope};

/// What the data plane learned about one request on its way through.
#[derive(Debug, Default)]
pub(crate) struct Trace {
    /// The matched resource path (REST) or route key (HTTP API).
    pub resource_path: Option<String>,
    /// The route key (HTTP APIs).
    pub route_key: Option<String>,
    /// When the integration was called.
    pub integration_started: Option<Instant>,
    /// The authorizer's principal.
    pub principal_id: Option<String>,
}

/// One API stage's figures since start-up.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StageMetrics {
    /// Requests answered.
    pub count: u64,
    /// Of them, 4xx answers.
    pub client_errors: u64,
    /// Of them, 5xx answers.
    pub server_errors: u64,
    /// Total latency, ms.
    pub latency_ms: f64,
    /// Total integration latency, ms.
    pub integration_latency_ms: f64,
}

/// Metrics by API id, then stage.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    apis: Mutex<HashMap<String, HashMap<String, StageMetrics>>>,
}

impl Metrics {
    pub fn record(&self, api: &str, stage: &str, status: u16, latency: Duration, integration: Option<Duration>) {
        let mut apis = self.apis.lock();
        let stages = match apis.get_mut(api) {
            Some(s) => s,
            None => apis.entry(api.to_owned()).or_default(),
        };
        let m = match stages.get_mut(stage) {
            Some(m) => m,
            None => stages.entry(stage.to_owned()).or_default(),
        };
        m.count += 1;
        m.client_errors += u64::from((400..500).contains(&status));
        m.server_errors += u64::from(status >= 500);
        m.latency_ms += latency.as_secs_f64() * 1000.0;
        m.integration_latency_ms += integration.map_or(0.0, |d| d.as_secs_f64() * 1000.0);
    }

    pub fn snapshot(&self) -> BTreeMap<(String, String), StageMetrics> {
        let apis = self.apis.lock();
        apis.iter()
            .flat_map(|(api, stages)| stages.iter().map(move |(stage, m)| ((api.clone(), stage.clone()), m.clone())))
            .collect()
    }
}

/// An access log line: the stage's format with its `$context` variables filled (empty
/// when the format cannot be rendered within a template's bounds).
pub fn access_line(format: &str, context: BTreeMap<String, String>) -> String {
    template::render(format, &Scope { context, ..Default::default() }).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_fill_context_variables() {
        let ctx = BTreeMap::from([("requestId".to_owned(), "r1".to_owned()), ("status".to_owned(), "200".to_owned())]);
        assert_eq!(
            access_line("{\"id\":\"$context.requestId\",\"s\":$context.status}", ctx),
            "{\"id\":\"r1\",\"s\":200}"
        );
    }

    #[test]
    fn metrics_count_by_stage_and_class() {
        let m = Metrics::default();
        m.record("a", "prod", 200, Duration::from_millis(2), Some(Duration::from_millis(1)));
        m.record("a", "prod", 404, Duration::from_millis(2), None);
        m.record("a", "prod", 502, Duration::from_millis(2), None);
        let s = &m.snapshot()[&("a".to_owned(), "prod".to_owned())];
        assert_eq!((s.count, s.client_errors, s.server_errors), (3, 1, 1));
        assert!((s.latency_ms - 6.0).abs() < 1e-9 && (s.integration_latency_ms - 1.0).abs() < 1e-9);
    }
}
