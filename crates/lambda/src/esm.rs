//! Event source mappings for SQS: the API, and the pollers that turn messages into
//! synchronous invocations.
//!
//! Each enabled mapping runs pollers (its `ScalingConfig.MaximumConcurrency`, 5 by
//! default, as AWS starts with). A poller long-polls the queue, so a message reaches the
//! function as soon as it is sent; gathers up to `BatchSize` messages within
//! `MaximumBatchingWindowInSeconds`; invokes the function with AWS's SQS event; and deletes
//! the batch when it succeeds — all of it, or with `ReportBatchItemFailures` all but the
//! items the function names. Failed messages become visible again after the queue's
//! visibility timeout, and SQS redrives them once `maxReceiveCount` is reached.

use model::sync::Mutex;
use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;
use std::time::Duration;

use base64::Engine;
use model::{FunctionRef, Invalid, Violation};
use serde_json::{json, Value};
use tokio::sync::watch;

use crate::stream_esm::{stream_kind, StreamSettings, StreamSource};
use crate::{now_ms, Caller, InvocationType, InvokeInput, InvokeOutcome, LambdaError, LambdaService};

/// An event source mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct Mapping {
    /// `UUID`.
    pub uuid: String,
    /// The owning account.
    pub account: String,
    /// The region.
    pub region: String,
    /// `FunctionName` as given (a name or ARN, possibly qualified).
    pub function: String,
    /// The function's ARN (qualified when the mapping names a version or alias).
    pub function_arn: String,
    /// `EventSourceArn`: the queue.
    pub source_arn: String,
    /// `BatchSize`.
    pub batch_size: u32,
    /// `MaximumBatchingWindowInSeconds`.
    pub window_s: u32,
    /// `Enabled`.
    pub enabled: bool,
    /// `ScalingConfig.MaximumConcurrency`.
    pub max_concurrency: Option<u32>,
    /// `FunctionResponseTypes` contains `ReportBatchItemFailures`.
    pub report_failures: bool,
    /// Milliseconds since the epoch of the last change.
    pub last_modified_ms: i64,
    /// Resource tags.
    pub tags: BTreeMap<String, String>,
    /// A stream source's settings (`None` for a queue).
    pub stream: Option<StreamSettings>,
    /// `FilterCriteria`'s patterns.
    pub filters: Vec<String>,
}

impl Mapping {
    /// The mapping's ARN.
    pub fn arn(&self) -> String {
        format!("arn:aws:lambda:{}:{}:event-source-mapping:{}", self.region, self.account, self.uuid)
    }

    fn to_json(&self) -> String {
        json!({
            "function": self.function, "function_arn": self.function_arn, "source_arn": self.source_arn,
            "batch_size": self.batch_size, "window_s": self.window_s, "enabled": self.enabled,
            "max_concurrency": self.max_concurrency, "report_failures": self.report_failures,
            "last_modified_ms": self.last_modified_ms, "tags": self.tags,
            "stream": self.stream.as_ref().map(StreamSettings::to_json), "filters": self.filters,
        })
        .to_string()
    }

    fn from_json(uuid: String, account: String, region: String, text: &str) -> Option<Mapping> {
        let v: Value = serde_json::from_str(text).ok()?;
        Some(Mapping {
            uuid,
            account,
            region,
            function: v["function"].as_str()?.to_owned(),
            function_arn: v["function_arn"].as_str()?.to_owned(),
            source_arn: v["source_arn"].as_str()?.to_owned(),
            batch_size: v["batch_size"].as_u64()? as u32,
            window_s: v["window_s"].as_u64().unwrap_or(0) as u32,
            enabled: v["enabled"].as_bool().unwrap_or(true),
            max_concurrency: v["max_concurrency"].as_u64().map(|n| n as u32),
            report_failures: v["report_failures"].as_bool().unwrap_or(false),
            last_modified_ms: v["last_modified_ms"].as_i64().unwrap_or(0),
            tags: v["tags"]
                .as_object()
                .map(|t| t.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned()))).collect())
                .unwrap_or_default(),
            stream: StreamSettings::from_json(&v["stream"]),
            filters: v["filters"]
                .as_array()
                .map(|f| f.iter().filter_map(|p| p.as_str().map(str::to_owned)).collect())
                .unwrap_or_default(),
        })
    }

    /// Its filters, read.
    pub(crate) fn patterns(&self) -> Vec<events::pattern::Pattern> {
        self.filters.iter().filter_map(|p| events::pattern::Pattern::parse(p).ok()).collect()
    }
}

/// Create/UpdateEventSourceMapping input: only the members that were sent.
#[derive(Debug, Clone, Default)]
pub struct MappingInput {
    /// `EventSourceArn` (create only).
    pub source_arn: Option<String>,
    /// `FunctionName`.
    pub function: Option<String>,
    /// `Enabled`.
    pub enabled: Option<bool>,
    /// `BatchSize`.
    pub batch_size: Option<i64>,
    /// `MaximumBatchingWindowInSeconds`.
    pub window_s: Option<i64>,
    /// `ScalingConfig.MaximumConcurrency`; `Some(None)` clears it.
    pub max_concurrency: Option<Option<i64>>,
    /// `FunctionResponseTypes`.
    pub response_types: Option<Vec<String>>,
    /// `Tags` (create only).
    pub tags: Option<BTreeMap<String, String>>,
    /// `DestinationConfig`: given, with its `OnFailure` destination if it names one.
    pub destination: Option<Option<String>>,
    /// `StartingPosition`.
    pub starting_position: Option<String>,
    /// `StartingPositionTimestamp` (ms).
    pub starting_ms: Option<i64>,
    /// `ParallelizationFactor`.
    pub parallelization: Option<i64>,
    /// `BisectBatchOnFunctionError`.
    pub bisect: Option<bool>,
    /// `MaximumRetryAttempts`.
    pub max_retries: Option<i64>,
    /// `MaximumRecordAgeInSeconds`.
    pub max_age_s: Option<i64>,
    /// `TumblingWindowInSeconds`.
    pub tumbling_s: Option<i64>,
    /// `FilterCriteria`'s patterns.
    pub filters: Option<Vec<String>>,
}

/// The running pollers of every mapping, and SQS once it is attached.
#[derive(Default)]
pub(crate) struct EventSources {
    sqs: OnceLock<sqs::SqsService>,
    mappings: Mutex<BTreeMap<String, Mapping>>,
    /// Tells a mapping's pollers its configuration changed (or, dropped, that it is gone).
    pollers: Mutex<HashMap<String, watch::Sender<Mapping>>>,
    /// The sources of stream records, by kind (`dynamodb`, `kinesis`).
    pub(crate) streams: Mutex<HashMap<&'static str, std::sync::Arc<dyn StreamSource>>>,
}

const DEFAULT_POLLERS: u32 = 5;

/// A violation, in AWS's words, if a value given is outside `lo..=hi`.
fn within(v: Option<i64>, name: &str, lo: i64, hi: i64, out: &mut Vec<Violation>) {
    match v {
        Some(v) if v < lo => out.push(Violation::min_value(v, name, lo)),
        Some(v) if v > hi => out.push(Violation::max_value(v, name, hi)),
        _ => {}
    }
}

fn not_found() -> LambdaError {
    LambdaError::NotFound("The resource you requested does not exist.".into())
}

impl LambdaService {
    /// Attaches SQS and starts the pollers of every stored mapping.
    pub fn start_event_sources(&self, sqs: sqs::SqsService) -> Result<(), LambdaError> {
        let _ = self.sources.sqs.set(sqs);
        for row in self.store.all_mappings()? {
            if let Some(m) = Mapping::from_json(row.function, row.account, row.region, &row.item) {
                self.sources.mappings.lock().insert(m.uuid.clone(), m.clone());
                self.run_pollers(m);
            }
        }
        Ok(())
    }

    fn sqs(&self) -> Result<&sqs::SqsService, LambdaError> {
        self.sources.sqs.get().ok_or_else(|| LambdaError::Service("SQS is not attached".into()))
    }

    fn check_mapping(m: &Mapping, fifo: bool) -> Result<(), LambdaError> {
        let max = if fifo { 10 } else { 10_000 };
        if m.batch_size < 1 || m.batch_size > max {
            return Err(Invalid::parameter(format!(
                "BatchSize must be between 1 and {max} for {} queues.",
                if fifo { "FIFO" } else { "standard" }
            ))
            .into());
        }
        if m.batch_size > 10 && m.window_s == 0 {
            return Err(Invalid::parameter(
                "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10",
            )
            .into());
        }
        Ok(())
    }

    fn apply_input(&self, caller: &Caller, m: &mut Mapping, input: MappingInput) -> Result<(), LambdaError> {
        let mut violations = Vec::new();
        within(input.batch_size, "batchSize", 1, 10_000, &mut violations);
        within(input.window_s, "maximumBatchingWindowInSeconds", 0, 300, &mut violations);
        within(input.max_concurrency.flatten(), "scalingConfig.maximumConcurrency", 2, 1000, &mut violations);
        if !violations.is_empty() {
            return Err(Invalid::Constraints(violations).into());
        }
        if let Some(types) = &input.response_types {
            if let Some(bad) = types.iter().find(|t| *t != "ReportBatchItemFailures") {
                return Err(Invalid::from(Violation::enumeration(
                    bad,
                    "functionResponseTypes",
                    &["ReportBatchItemFailures"],
                ))
                .into());
            }
            m.report_failures = !types.is_empty();
        }
        if let Some(f) = input.function {
            let (latest, shown) = self.resolve_version(caller, &f, None)?;
            m.function_arn = match shown {
                Some(q) => format!("{}:{q}", latest.arn()),
                None => latest.arn(),
            };
            m.function = f;
        }
        if let Some(b) = input.batch_size {
            m.batch_size = b as u32;
        }
        if let Some(w) = input.window_s {
            m.window_s = w as u32;
        }
        if let Some(e) = input.enabled {
            m.enabled = e;
        }
        if let Some(c) = input.max_concurrency {
            m.max_concurrency = c.map(|c| c as u32);
        }
        if let Some(filters) = input.filters {
            if filters.len() > 5 {
                return Err(Invalid::parameter("Invalid filter pattern definition.").into());
            }
            for f in &filters {
                events::pattern::Pattern::parse(f)
                    .map_err(|_| LambdaError::from(Invalid::parameter("Invalid filter pattern definition.")))?;
            }
            m.filters = filters;
        }
        if let Some(s) = m.stream.as_mut() {
            if let Some(p) = input.parallelization {
                s.parallelization = p as u32;
            }
            if let Some(b) = input.bisect {
                s.bisect = b;
            }
            if let Some(r) = input.max_retries {
                s.max_retries = r;
            }
            if let Some(a) = input.max_age_s {
                s.max_age_s = a;
            }
            if let Some(t) = input.tumbling_s {
                s.tumbling_s = t as u32;
            }
            if let Some(d) = input.destination {
                s.on_failure = d;
            }
        }
        Ok(())
    }

    /// CreateEventSourceMapping for a DynamoDB or Kinesis stream.
    fn create_stream_mapping(
        &self,
        caller: &Caller,
        source: &str,
        function: &str,
        input: MappingInput,
    ) -> Result<Mapping, LambdaError> {
        let mut violations = Vec::new();
        within(input.parallelization, "parallelizationFactor", 1, 10, &mut violations);
        within(input.max_retries, "maximumRetryAttempts", -1, 10_000, &mut violations);
        within(input.max_age_s, "maximumRecordAgeInSeconds", -1, 604_800, &mut violations);
        within(input.tumbling_s, "tumblingWindowInSeconds", 0, 900, &mut violations);
        if !violations.is_empty() {
            return Err(Invalid::Constraints(violations).into());
        }
        if let Some(a) = input.max_age_s {
            if (0..60).contains(&a) {
                return Err(Invalid::parameter("MaximumRecordAgeInSeconds must be -1 or between 60 and 604800.").into());
            }
        }
        let position = input.starting_position.clone().ok_or_else(|| {
            LambdaError::from(Invalid::parameter("StartingPosition is required for stream event sources."))
        })?;
        if !["TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"].contains(&position.as_str()) {
            return Err(Invalid::from(Violation::enumeration(
                &position,
                "startingPosition",
                &["TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"],
            ))
            .into());
        }
        if position == "AT_TIMESTAMP" && input.starting_ms.is_none() {
            return Err(Invalid::parameter(
                "StartingPositionTimestamp must be provided when StartingPosition is AT_TIMESTAMP.",
            )
            .into());
        }
        if let Err(LambdaError::NotFound(_)) = self.resolve_version(caller, function, None) {
            return Err(Invalid::parameter("Function does not exist").into());
        }
        let exists = self.stream_source(source).and_then(|s| s.shards(source)).is_some();
        if !exists {
            return Err(Invalid::parameter(format!("Stream not found: {source}")).into());
        }
        if let Some(Some(d)) = &input.destination {
            let service = crate::destinations::arn_service(d);
            if !matches!(service, Some("sqs" | "sns" | "s3")) {
                return Err(Invalid::parameter(format!(
                    "Lamina delivers stream failure records to SQS queues, SNS topics and S3 buckets; {d} is none of them."
                ))
                .into());
            }
        }
        let mut m = Mapping {
            uuid: uuid::Uuid::new_v4().to_string(),
            account: caller.account.clone(),
            region: caller.region.clone(),
            function: String::new(),
            function_arn: String::new(),
            source_arn: source.to_owned(),
            batch_size: 100,
            window_s: 0,
            enabled: true,
            max_concurrency: None,
            report_failures: false,
            last_modified_ms: now_ms(),
            tags: input.tags.clone().unwrap_or_default(),
            stream: Some(StreamSettings {
                starting_position: position,
                starting_ms: input.starting_ms,
                parallelization: 1,
                bisect: false,
                max_retries: -1,
                max_age_s: -1,
                on_failure: None,
                tumbling_s: 0,
            }),
            filters: Vec::new(),
        };
        crate::check_tags(&m.tags)?;
        let _guard = self.writes.lock();
        self.apply_input(caller, &mut m, input)?;
        let existing = self
            .sources
            .mappings
            .lock()
            .values()
            .find(|o| o.source_arn == m.source_arn && o.function_arn == m.function_arn)
            .map(|o| o.uuid.clone());
        if let Some(uuid) = existing {
            return Err(LambdaError::Conflict(format!(
                "The event source arn (\" {} \") and function (\" {function} \") provided mapping already exists. Please update or delete the existing mapping with UUID {uuid}",
                m.source_arn
            )));
        }
        self.store.put_mapping(&m.uuid, &m.account, &m.region, &m.to_json())?;
        self.sources.mappings.lock().insert(m.uuid.clone(), m.clone());
        self.run_pollers(m.clone());
        Ok(m)
    }

    /// CreateEventSourceMapping (SQS sources).
    pub fn create_mapping(&self, caller: &Caller, input: MappingInput) -> Result<Mapping, LambdaError> {
        let source = input.source_arn.clone().ok_or_else(|| Invalid::parameter("Unrecognized event source."))?;
        let function = input.function.clone().ok_or_else(|| Invalid::from(Violation::null("functionName")))?;
        FunctionRef::parse(&function, "functionName").map_err(Invalid::from)?;
        if stream_kind(&source).is_some() {
            return self.create_stream_mapping(caller, &source, &function, input);
        }
        if source.split(':').nth(2) != Some("sqs") {
            return Err(Invalid::parameter(format!(
                "Lamina maps SQS queues to functions; {source} is not an SQS queue ARN."
            ))
            .into());
        }
        if input.destination.is_some() {
            return Err(Invalid::parameter(
                "Unsupported DestinationConfig parameter for given event source mapping type.",
            )
            .into());
        }
        for (given, name) in [
            (input.starting_position.is_some(), "StartingPosition"),
            (input.parallelization.is_some(), "ParallelizationFactor"),
            (input.bisect.is_some(), "BisectBatchOnFunctionError"),
            (input.max_retries.is_some(), "MaximumRetryAttempts"),
            (input.max_age_s.is_some(), "MaximumRecordAgeInSeconds"),
            (input.tumbling_s.is_some(), "TumblingWindowInSeconds"),
        ] {
            if given {
                return Err(Invalid::parameter(format!(
                    "Unsupported {name} parameter for given event source mapping type."
                ))
                .into());
            }
        }
        if let Err(LambdaError::NotFound(_)) = self.resolve_version(caller, &function, None) {
            return Err(Invalid::parameter("Function does not exist").into());
        }
        let sqs = self.sqs()?;
        let Some(fifo) = sqs.is_fifo(&source) else {
            return Err(Invalid::parameter(
                "Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The specified queue does not exist.",
            )
            .into());
        };
        // The mapping reads as the function's account: another account's queue must
        // grant it, in its policy, what a poller does.
        for action in ["ReceiveMessage", "DeleteMessage", "GetQueueAttributes"] {
            let who = sqs::Requester::Account(&caller.account);
            if sqs.allows(&source, &who, &format!("sqs:{action}")) == Some(false) {
                return Err(Invalid::parameter(format!(
                    "The function execution role does not have permissions to call {action} on SQS"
                ))
                .into());
            }
        }
        let mut m = Mapping {
            uuid: uuid::Uuid::new_v4().to_string(),
            account: caller.account.clone(),
            region: caller.region.clone(),
            function: String::new(),
            function_arn: String::new(),
            source_arn: source.clone(),
            batch_size: 10,
            window_s: 0,
            enabled: true,
            max_concurrency: None,
            report_failures: false,
            last_modified_ms: now_ms(),
            tags: input.tags.clone().unwrap_or_default(),
            stream: None,
            filters: Vec::new(),
        };
        crate::check_tags(&m.tags)?;
        let _guard = self.writes.lock();
        self.apply_input(caller, &mut m, input)?;
        Self::check_mapping(&m, fifo)?;
        let existing = self
            .sources
            .mappings
            .lock()
            .values()
            .find(|o| o.source_arn == m.source_arn && o.function_arn == m.function_arn)
            .map(|o| o.uuid.clone());
        if let Some(uuid) = existing {
            return Err(LambdaError::Conflict(format!(
                "An event source mapping with SQS arn (\" {} \") and function (\" {} \") already exists. Please update or delete the existing mapping with UUID {uuid}",
                m.source_arn, function
            )));
        }
        self.store.put_mapping(&m.uuid, &m.account, &m.region, &m.to_json())?;
        self.sources.mappings.lock().insert(m.uuid.clone(), m.clone());
        self.run_pollers(m.clone());
        Ok(m)
    }

    fn mapping(&self, caller: &Caller, uuid: &str) -> Result<Mapping, LambdaError> {
        let mappings = self.sources.mappings.lock();
        mappings
            .get(uuid)
            .filter(|m| m.account == caller.account && m.region == caller.region)
            .cloned()
            .ok_or_else(not_found)
    }

    /// Changes a mapping's tags (TagResource, UntagResource), by its ARN.
    pub(crate) fn retag_mapping(
        &self,
        caller: &Caller,
        arn: &str,
        uuid: &str,
        change: impl FnOnce(&mut BTreeMap<String, String>),
    ) -> Result<BTreeMap<String, String>, LambdaError> {
        let _guard = self.writes.lock();
        let mut m = self
            .mapping(caller, uuid)
            .map_err(|_| LambdaError::NotFound(format!("Event source mapping not found: {arn}")))?;
        change(&mut m.tags);
        crate::check_tags(&m.tags)?;
        self.store.put_mapping(&m.uuid, &m.account, &m.region, &m.to_json())?;
        self.sources.mappings.lock().insert(m.uuid.clone(), m.clone());
        Ok(m.tags)
    }

    /// A mapping's tags, by its ARN.
    pub(crate) fn retag_mapping_read(
        &self,
        caller: &Caller,
        arn: &str,
        uuid: &str,
    ) -> Result<BTreeMap<String, String>, LambdaError> {
        let m = self
            .mapping(caller, uuid)
            .map_err(|_| LambdaError::NotFound(format!("Event source mapping not found: {arn}")))?;
        Ok(m.tags)
    }

    /// GetEventSourceMapping.
    pub fn get_mapping(&self, caller: &Caller, uuid: &str) -> Result<Mapping, LambdaError> {
        self.mapping(caller, uuid)
    }

    /// UpdateEventSourceMapping.
    pub fn update_mapping(&self, caller: &Caller, uuid: &str, input: MappingInput) -> Result<Mapping, LambdaError> {
        let _guard = self.writes.lock();
        let mut m = self.mapping(caller, uuid)?;
        self.apply_input(caller, &mut m, input)?;
        if m.stream.is_none() {
            let fifo = self.sqs()?.is_fifo(&m.source_arn).unwrap_or(false);
            Self::check_mapping(&m, fifo)?;
        }
        m.last_modified_ms = now_ms();
        self.store.put_mapping(&m.uuid, &m.account, &m.region, &m.to_json())?;
        self.sources.mappings.lock().insert(m.uuid.clone(), m.clone());
        let restart = {
            let pollers = self.sources.pollers.lock();
            match pollers.get(uuid) {
                // Running pollers pick the change up; a new poller count needs a restart.
                Some(tx) => {
                    let count_changed = tx.borrow().max_concurrency != m.max_concurrency;
                    let _ = tx.send(m.clone());
                    count_changed
                }
                None => true,
            }
        };
        if restart {
            self.sources.pollers.lock().remove(uuid);
            self.run_pollers(m.clone());
        }
        Ok(m)
    }

    /// DeleteEventSourceMapping: its pollers stop.
    pub fn delete_mapping(&self, caller: &Caller, uuid: &str) -> Result<Mapping, LambdaError> {
        let _guard = self.writes.lock();
        let m = self.mapping(caller, uuid)?;
        self.store.delete_mapping(uuid)?;
        self.sources.mappings.lock().remove(uuid);
        self.sources.pollers.lock().remove(uuid);
        if m.stream.is_some() {
            self.forget_checkpoints(uuid);
        }
        Ok(m)
    }

    /// ListEventSourceMappings, optionally by queue and function.
    pub fn list_mappings(
        &self,
        caller: &Caller,
        source_arn: Option<&str>,
        function: Option<&str>,
        marker: Option<&str>,
        max_items: Option<i64>,
    ) -> Result<(Vec<Mapping>, Option<String>), LambdaError> {
        let function_arn = match function {
            // A function that does not exist has no mappings: the list is empty.
            Some(f) => match self.resolve_version(caller, f, None) {
                Ok((latest, shown)) => Some(shown.map_or_else(|| latest.arn(), |q| format!("{}:{q}", latest.arn()))),
                Err(LambdaError::NotFound(_)) => return Ok((Vec::new(), None)),
                Err(e) => return Err(e),
            },
            None => None,
        };
        let all: Vec<Mapping> = self
            .sources
            .mappings
            .lock()
            .values()
            .filter(|m| m.account == caller.account && m.region == caller.region)
            .filter(|m| source_arn.is_none_or(|s| m.source_arn == s))
            .filter(|m| function_arn.as_ref().is_none_or(|f| &m.function_arn == f))
            .cloned()
            .collect();
        let size = crate::versions::page_size(max_items, 10_000, 100)?;
        Ok(crate::versions::page(all, |m| m.uuid.clone(), marker, size))
    }

    /// Starts (or restarts) the pollers of a mapping. They stop when the mapping's
    /// sender is dropped (deleted or replaced).
    fn run_pollers(&self, m: Mapping) {
        let (tx, rx) = watch::channel(m.clone());
        self.sources.pollers.lock().insert(m.uuid.clone(), tx);
        if m.stream.is_some() {
            self.run_stream_pollers(m, rx);
            return;
        }
        for _ in 0..m.max_concurrency.unwrap_or(DEFAULT_POLLERS) {
            let service = self.clone();
            let rx = rx.clone();
            tokio::spawn(async move { service.poll(rx).await });
        }
    }

    async fn poll(self, mut rx: watch::Receiver<Mapping>) {
        loop {
            let m = rx.borrow_and_update().clone();
            if rx.has_changed().is_err() {
                return;
            }
            if !m.enabled {
                if rx.changed().await.is_err() {
                    return;
                }
                continue;
            }
            let batch = tokio::select! {
                batch = self.gather(&m) => batch,
                changed = rx.changed() => {
                    if changed.is_err() { return; }
                    continue;
                }
            };
            match batch {
                Ok(messages) if messages.is_empty() => {}
                Ok(messages) => self.deliver(&m, messages).await,
                Err(e) => {
                    tracing::warn!(mapping = %m.uuid, error = %e, "event source mapping: cannot read the queue");
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                        changed = rx.changed() => if changed.is_err() { return; },
                    }
                }
            }
        }
    }

    /// Long-polls for up to `BatchSize` messages, waiting at most the batching window
    /// for more once the first has arrived.
    async fn gather(&self, m: &Mapping) -> Result<Vec<sqs::Message>, sqs::SqsError> {
        let sqs = self.sqs().map_err(|e| sqs::SqsError::invalid_parameter(e.to_string()))?;
        // The function's account reads the queue, which may be another's (its policy then
        // decides, at every receive).
        let queue = queue_of(&m.source_arn);
        let caller = Caller::new(&m.account, &m.region);
        let receive = |wait_s: i64, max: usize| sqs::ReceiveInput {
            max: Some(max.min(10) as i64),
            wait_s: Some(wait_s),
            visibility_s: None,
            attribute_names: vec!["All".into()],
            message_attribute_names: vec!["All".into()],
        };
        let mut batch = sqs.receive(&caller, &queue, receive(20, m.batch_size as usize)).await?;
        if batch.is_empty() || m.window_s == 0 {
            return Ok(batch);
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(u64::from(m.window_s));
        while batch.len() < m.batch_size as usize {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                break;
            }
            let more = sqs.receive(
                &caller,
                &queue,
                receive(left.as_secs().clamp(1, 20) as i64, m.batch_size as usize - batch.len()),
            );
            match tokio::time::timeout(left, more).await {
                Ok(Ok(more)) => batch.extend(more),
                Ok(Err(e)) => return Err(e),
                Err(_) => break,
            }
        }
        Ok(batch)
    }

    async fn deliver(&self, m: &Mapping, messages: Vec<sqs::Message>) {
        // Messages no filter matches are deleted unseen, as AWS does.
        let filters = m.patterns();
        let (messages, dropped): (Vec<sqs::Message>, Vec<sqs::Message>) = messages.into_iter().partition(|msg| {
            crate::stream_esm::passes(&filters, &sqs_event(m, std::slice::from_ref(msg))["Records"][0])
        });
        if !dropped.is_empty() {
            if let Ok(sqs) = self.sqs() {
                let receipts: Vec<String> = dropped.iter().map(|msg| msg.receipt.clone()).collect();
                let caller = Caller::new(&m.account, &m.region);
                if let Err(e) = sqs.delete_batch(&caller, &queue_of(&m.source_arn), &receipts) {
                    tracing::warn!(mapping = %m.uuid, error = %e, "event source mapping: cannot delete filtered messages");
                }
            }
        }
        if messages.is_empty() {
            return;
        }
        let event = sqs_event(m, &messages);
        let caller = Caller::new(&m.account, &m.region);
        let input = InvokeInput {
            request_id: uuid::Uuid::new_v4().to_string(),
            payload: event.to_string().into(),
            log_tail: false,
            client_context: None,
        };
        let outcome = self.invoke(&caller, &m.function_arn, None, InvocationType::RequestResponse, input).await;
        let failed: Vec<String> = match outcome {
            Ok(InvokeOutcome::Completed(r)) if r.function_error.is_none() => {
                if m.report_failures {
                    batch_item_failures(&r.payload, &messages)
                } else {
                    Vec::new()
                }
            }
            // A failed or throttled batch: every message comes back after its visibility
            // timeout (and is redriven by the queue when it has been received too often).
            Ok(_) | Err(_) => return,
        };
        let done: Vec<String> =
            messages.iter().filter(|msg| !failed.contains(&msg.id)).map(|msg| msg.receipt.clone()).collect();
        if let Ok(sqs) = self.sqs() {
            let caller = Caller::new(&m.account, &m.region);
            if let Err(e) = sqs.delete_batch(&caller, &queue_of(&m.source_arn), &done) {
                tracing::warn!(mapping = %m.uuid, error = %e, "event source mapping: cannot delete a processed batch");
            }
        }
    }
}

/// The queue an SQS ARN names.
fn queue_of(arn: &str) -> sqs::QueueName {
    let parts: Vec<&str> = arn.split(':').collect();
    let part = |i: usize| parts.get(i).copied().unwrap_or("");
    sqs::QueueName::of(sqs::QueueRef::new(part(4), part(5)), part(3))
}

/// The ids the function reported in `batchItemFailures`. A response that does not parse,
/// or names an id not in the batch, fails the whole batch, as on AWS.
fn batch_item_failures(payload: &[u8], messages: &[sqs::Message]) -> Vec<String> {
    let everything = || messages.iter().map(|m| m.id.clone()).collect();
    let Ok(v) = serde_json::from_slice::<Value>(payload) else { return Vec::new() };
    let Some(items) = v.get("batchItemFailures") else { return Vec::new() };
    let Some(items) = items.as_array() else { return everything() };
    let mut ids = Vec::new();
    for item in items {
        match item.get("itemIdentifier").and_then(Value::as_str) {
            Some(id) if messages.iter().any(|m| m.id == id) => ids.push(id.to_owned()),
            _ => return everything(),
        }
    }
    ids
}

/// AWS's SQS event for a batch.
fn sqs_event(m: &Mapping, messages: &[sqs::Message]) -> Value {
    let records: Vec<Value> = messages
        .iter()
        .map(|msg| {
            let attributes: serde_json::Map<String, Value> =
                msg.attributes.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
            let message_attributes: serde_json::Map<String, Value> = msg
                .message_attributes
                .iter()
                .map(|(k, v)| {
                    let mut a = json!({ "stringListValues": [], "binaryListValues": [], "dataType": v.data_type });
                    if let Some(s) = &v.string {
                        a["stringValue"] = json!(s);
                    }
                    if let Some(b) = &v.binary {
                        a["binaryValue"] = json!(base64::engine::general_purpose::STANDARD.encode(b));
                    }
                    (k.clone(), a)
                })
                .collect();
            let mut record = json!({
                "messageId": msg.id,
                "receiptHandle": msg.receipt,
                "body": msg.body,
                "attributes": attributes,
                "messageAttributes": message_attributes,
                "md5OfBody": msg.md5_body,
                "eventSource": "aws:sqs",
                "eventSourceARN": m.source_arn,
                "awsRegion": m.region,
            });
            if let Some(md5) = &msg.md5_attributes {
                record["md5OfMessageAttributes"] = json!(md5);
            }
            record
        })
        .collect();
    json!({ "Records": records })
}
