//! The durable asynchronous invocation queue.
//!
//! An `Event` invocation is accepted only once it is committed to the store; the caller's
//! 202 means it will run. A dispatcher takes due events under a lease (so a crash
//! mid-run makes them due again after a restart), runs them through the [`Invoker`], and
//! retries failures on AWS's schedule: up to `max_retries` more attempts, with the
//! configured delays, while the event is younger than `max_event_age`.
//!
//! Time comes from a [`Clock`], which tests may move forward to age events without
//! waiting for hours.

use std::sync::Arc;
use std::time::Duration;

use invoker::{Capacity, InvokeError, InvokeRequest, InvokeResult, Invoker};
use model::{Clock, Function};
use store::{AsyncEvent, MetadataStore, StoreError};
use tokio::sync::{Notify, Semaphore};

use crate::destinations::{arn_service, Destinations, Message};
use crate::Cache;

/// AWS's dead-letter message: the original event, with the request id, the status code
/// and the error message as attributes.
fn dead_letter(event: &AsyncEvent, condition: Condition, last: Option<&InvokeResult>) -> Message {
    let error_message = last
        .and_then(|r| serde_json::from_slice::<serde_json::Value>(&r.payload).ok())
        .and_then(|v| v.get("errorMessage").and_then(|m| m.as_str()).map(str::to_owned))
        .unwrap_or_else(|| condition.as_str().to_owned());
    Message {
        body: String::from_utf8_lossy(&event.payload).into_owned(),
        attributes: vec![
            ("RequestID".to_owned(), "String", event.id.clone()),
            ("ErrorCode".to_owned(), "Number", "200".to_owned()),
            ("ErrorMessage".to_owned(), "String", error_message.chars().take(1024).collect()),
        ],
    }
}

/// Retry policy and parallelism of the async queue.
#[derive(Debug, Clone)]
pub struct AsyncConfig {
    /// Delay before each retry: AWS waits about one minute, then two.
    pub retry_delays: Vec<Duration>,
    /// Retries after the first attempt (AWS's `MaximumRetryAttempts`, default 2).
    pub max_retries: u32,
    /// Events older than this are dropped (AWS's `MaximumEventAgeInSeconds`).
    pub max_event_age: Duration,
    /// Events run at once.
    pub parallelism: usize,
    /// What the queue takes the time from.
    pub clock: Clock,
}

impl Default for AsyncConfig {
    fn default() -> Self {
        AsyncConfig {
            retry_delays: vec![Duration::from_secs(60), Duration::from_secs(120)],
            max_retries: model::limits::ASYNC_RETRIES_DEFAULT,
            max_event_age: Duration::from_secs(model::limits::ASYNC_MAX_EVENT_AGE_S),
            parallelism: 64,
            clock: Clock::default(),
        }
    }
}

/// Accepts async invocations durably and runs them in the background.
#[derive(Clone)]
pub struct AsyncQueue {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn MetadataStore>,
    invoker: Invoker,
    cache: Arc<Cache>,
    config: AsyncConfig,
    wake: Arc<Notify>,
    permits: Arc<Semaphore>,
    /// Writes on their way to the group-commit writer.
    commits: std::sync::mpsc::Sender<Write>,
    /// Where records and messages for queues and topics go.
    destinations: Destinations,
}

type Ack = tokio::sync::oneshot::Sender<Result<(), String>>;

/// A write to the event table, made by the group-commit writer.
enum Write {
    /// Accept an event; the caller waits for the commit.
    Add(AsyncEvent, Ack),
    /// Remove a finished event (by its `seq`). Nobody waits: the event is leased until
    /// then, and if a crash loses the removal the event runs again (delivery is at least
    /// once).
    Remove(i64),
}

/// Events committed in one transaction at most.
const COMMIT_BATCH: usize = 512;

/// Commits accepted and finished events in groups: whatever arrived while the last
/// transaction was being written goes into the next one, so concurrent accepts share a
/// commit. Runs on a thread of its own, keeping SQLite off the async workers.
fn commit_loop(store: Arc<dyn MetadataStore>, incoming: std::sync::mpsc::Receiver<Write>, wake: Arc<Notify>) {
    while let Ok(first) = incoming.recv() {
        let mut batch = vec![first];
        while batch.len() < COMMIT_BATCH {
            match incoming.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let (mut added, mut removed) = (Vec::new(), Vec::new());
        for write in &batch {
            match write {
                Write::Add(event, _) => added.push(event),
                Write::Remove(seq) => removed.push(*seq),
            }
        }
        let result = store.write_events(&added, &removed).map_err(|e| e.to_string());
        if let Err(e) = &result {
            tracing::error!(error = %e, "async queue: cannot commit");
        }
        if !added.is_empty() {
            wake.notify_one();
        }
        for write in batch {
            if let Write::Add(_, ack) = write {
                let _ = ack.send(result.clone());
            }
        }
    }
}

/// Why an event ended, as destination records name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Condition {
    Success,
    RetriesExhausted,
    EventAgeExceeded,
    ZeroReservedConcurrency,
}

impl Condition {
    fn as_str(self) -> &'static str {
        match self {
            Condition::Success => "Success",
            Condition::RetriesExhausted => "RetriesExhausted",
            Condition::EventAgeExceeded => "EventAgeExceeded",
            Condition::ZeroReservedConcurrency => "ZeroReservedConcurrency",
        }
    }
}

/// AWS's destination record for an asynchronous invocation.
fn destination_record(
    function: &Function,
    event: &AsyncEvent,
    condition: Condition,
    invokes: u32,
    last: Option<&InvokeResult>,
    now: i64,
) -> serde_json::Value {
    let timestamp = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(now) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .format(time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        ))
        .unwrap_or_default();
    let as_json = |bytes: &[u8]| {
        serde_json::from_slice::<serde_json::Value>(bytes)
            .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(bytes).into_owned()))
    };
    let mut record = serde_json::json!({
        "version": "1.0",
        "timestamp": timestamp,
        "requestContext": {
            "requestId": event.id,
            "functionArn": function.qualified_arn(),
            "condition": condition.as_str(),
            "approximateInvokeCount": invokes,
        },
        "requestPayload": as_json(&event.payload),
    });
    if let Some(r) = last {
        let mut context = serde_json::json!({ "statusCode": 200, "executedVersion": r.executed_version });
        if let Some(fe) = r.function_error {
            context["functionError"] = fe.into();
        }
        record["responseContext"] = context;
        record["responsePayload"] = as_json(&r.payload);
    }
    record
}

/// A lease long enough for the longest invocation (900 s) plus initialisation.
const LEASE: Duration = Duration::from_secs(960);
/// How long a throttled event waits before it is tried again.
const THROTTLE_DELAY: Duration = Duration::from_secs(1);

impl AsyncQueue {
    /// Starts the dispatcher. Events leased by a previous run are released first: after
    /// a restart, nothing is running.
    pub(crate) fn start(
        store: Arc<dyn MetadataStore>,
        invoker: Invoker,
        cache: Arc<Cache>,
        config: AsyncConfig,
        destinations: Destinations,
    ) -> Result<Self, StoreError> {
        store.release_leases()?;
        let wake = Arc::new(Notify::new());
        let (commits, incoming) = std::sync::mpsc::channel();
        {
            let (store, wake) = (store.clone(), wake.clone());
            std::thread::Builder::new()
                .name("lamina-async-commit".into())
                .spawn(move || commit_loop(store, incoming, wake))
                .map_err(|e| StoreError::Unavailable(format!("cannot start the commit thread: {e}")))?;
        }
        let inner = Arc::new(Inner {
            permits: Arc::new(Semaphore::new(config.parallelism.max(1))),
            store,
            invoker,
            cache,
            config,
            wake,
            commits,
            destinations,
        });
        let queue = AsyncQueue { inner };
        let q = queue.clone();
        tokio::spawn(async move { q.dispatch_loop().await });
        Ok(queue)
    }

    /// Durably accepts one event, stamped with the queue's time. When this returns `Ok`,
    /// the event is committed and will run.
    pub async fn accept(&self, mut event: AsyncEvent) -> Result<(), StoreError> {
        let now = self.inner.config.clock.now_ms();
        event.accepted_ms = now;
        event.next_attempt_ms = now;
        let (ack, committed) = tokio::sync::oneshot::channel();
        let gone = || StoreError::Unavailable("the async commit thread has stopped".into());
        self.inner.commits.send(Write::Add(event, ack)).map_err(|_| gone())?;
        committed.await.map_err(|_| gone())?.map_err(StoreError::Unavailable)
    }

    /// Where records and messages for queues and topics go.
    pub fn destinations(&self) -> &Destinations {
        &self.inner.destinations
    }

    /// Moves the queue's clock forward (for tests of event age), and looks again for
    /// events that are now due.
    pub fn advance_clock(&self, by: Duration) {
        self.inner.config.clock.advance(by);
        self.inner.wake.notify_one();
    }

    fn now_ms(&self) -> i64 {
        self.inner.config.clock.now_ms()
    }

    async fn dispatch_loop(self) {
        loop {
            let free = self.inner.permits.available_permits();
            if free > 0 {
                let now = self.now_ms();
                match self.inner.store.claim_due_events(now, now + LEASE.as_millis() as i64, free) {
                    Ok(events) => {
                        for event in events {
                            let permit = match self.inner.permits.clone().acquire_owned().await {
                                Ok(p) => p,
                                Err(_) => return,
                            };
                            let q = self.clone();
                            tokio::spawn(async move {
                                q.run(event).await;
                                drop(permit);
                                q.inner.wake.notify_one();
                            });
                        }
                    }
                    Err(e) => tracing::error!(error = %e, "async queue: cannot read due events"),
                }
            }
            let wait = match self.inner.store.next_event_due() {
                Ok(Some(due)) if self.inner.permits.available_permits() > 0 => {
                    Duration::from_millis((due - self.now_ms()).clamp(0, 60_000) as u64)
                }
                _ => Duration::from_secs(60),
            };
            tokio::select! {
                _ = self.inner.wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    async fn run(&self, event: AsyncEvent) {
        let inner = &self.inner;
        let found =
            inner.cache.event_target(&event.account, &event.region, &event.function, event.qualifier.as_deref());
        let Some(function) = found else {
            self.remove(event.seq);
            return;
        };
        let settings = self.settings(&event);
        let max_retries = settings.max_retries.unwrap_or(inner.config.max_retries);
        let max_age =
            settings.max_event_age_s.map(|s| Duration::from_secs(u64::from(s))).unwrap_or(inner.config.max_event_age);
        let age = Duration::from_millis((self.now_ms() - event.accepted_ms).max(0) as u64);
        if age > max_age {
            tracing::warn!(function = %event.function, id = %event.id, "async event expired: older than its maximum event age");
            self.conclude(&function, &event, Condition::EventAgeExceeded, event.attempts, None).await;
            return;
        }
        let capacity = inner.cache.capacity(&function);
        if capacity == Capacity::Reserved(0) {
            // A function that may never run: AWS sends its events straight to failure.
            self.conclude(&function, &event, Condition::ZeroReservedConcurrency, 0, None).await;
            return;
        }
        let request = InvokeRequest {
            stream: false,
            request_id: event.id.clone(),
            payload: event.payload.clone().into(),
            log_tail: false,
            client_context: None,
            capacity,
            qualifier: event.qualifier.clone(),
        };
        let outcome = inner.invoker.invoke(function.clone(), request).await;
        let (failed_attempt, delay) = match &outcome {
            Ok(r) if r.function_error.is_none() => {
                self.conclude(&function, &event, Condition::Success, event.attempts + 1, outcome.ok().as_ref()).await;
                return;
            }
            // Throttles are retried without using up an attempt, as AWS does.
            Err(InvokeError::TooManyRequests { .. }) => (false, THROTTLE_DELAY),
            Ok(_) | Err(_) => {
                let attempt = event.attempts as usize;
                let delays = &inner.config.retry_delays;
                (true, delays.get(attempt).or(delays.last()).copied().unwrap_or_default())
            }
        };
        let attempts = event.attempts + u32::from(failed_attempt);
        if attempts > max_retries {
            tracing::warn!(function = %event.function, id = %event.id, attempts, "async event failed its last retry");
            self.conclude(&function, &event, Condition::RetriesExhausted, attempts, outcome.ok().as_ref()).await;
            return;
        }
        if let Err(e) = inner.store.reschedule_event(event.seq, attempts, self.now_ms() + delay.as_millis() as i64) {
            tracing::error!(error = %e, id = %event.id, "async queue: cannot reschedule");
        }
    }

    /// Ends an event: sends its record to the destination its outcome calls for, and a
    /// failed event to the function's dead-letter queue, if it has them; then removes it.
    /// Both are delivered durably before the event goes, so a crash between the two
    /// delivers them twice rather than never.
    async fn conclude(
        &self,
        function: &Function,
        event: &AsyncEvent,
        condition: Condition,
        invokes: u32,
        last: Option<&InvokeResult>,
    ) {
        let settings = self.settings(event);
        let destination = match condition {
            Condition::Success => settings.on_success,
            Condition::RetriesExhausted | Condition::EventAgeExceeded | Condition::ZeroReservedConcurrency => {
                settings.on_failure
            }
        };
        if let Some(arn) = destination {
            let record = destination_record(function, event, condition, invokes, last, self.now_ms());
            self.deliver(&arn, &event.account, record).await;
        }
        if let (Some(dlq), false) = (&function.config.dead_letter_target, condition == Condition::Success) {
            self.send(dlq, &event.account, dead_letter(event, condition, last)).await;
        }
        self.remove(event.seq);
    }

    /// The retry and destination settings for an event: those of the version or alias it
    /// was invoked through.
    fn settings(&self, event: &AsyncEvent) -> model::EventInvokeConfig {
        let qualifier = event.qualifier.as_deref();
        self.inner.cache.event_invoke(&event.account, &event.region, &event.function, qualifier).unwrap_or_default()
    }

    /// Sends a message for a function of account `sender` to the queue or topic `arn`
    /// through its service's sink.
    async fn send(&self, arn: &str, sender: &str, message: Message) {
        if let Err(e) = self.inner.destinations.send(arn, sender, message).await {
            tracing::error!(error = %e, target = arn, "async queue: cannot deliver a message");
        }
    }

    /// Delivers a destination record: as an asynchronous invocation of a Lambda
    /// function, or as a message to a queue or topic.
    async fn deliver(&self, arn: &str, sender: &str, record: serde_json::Value) {
        if arn_service(arn) != Some("lambda") {
            self.send(arn, sender, Message { body: record.to_string(), attributes: Vec::new() }).await;
            return;
        }
        let target = model::FunctionRef::parse(arn, "destination").ok().and_then(|r| {
            let (account, region) = (r.account?, r.region?);
            let qualifier = r.qualifier.as_ref().map(|q| q.as_str().to_owned());
            self.inner.cache.event_target(&account, &region, &r.name, qualifier.as_deref()).map(|f| (f, qualifier))
        });
        let Some((target, qualifier)) = target else {
            tracing::warn!(destination = arn, "async destination not found; record dropped");
            return;
        };
        let event = AsyncEvent {
            id: uuid::Uuid::new_v4().to_string(),
            account: target.account.clone(),
            region: target.region.clone(),
            function: target.name.clone(),
            payload: record.to_string().into_bytes(),
            accepted_ms: 0,
            attempts: 0,
            next_attempt_ms: 0,
            qualifier,
            seq: 0,
        };
        if let Err(e) = self.accept(event).await {
            tracing::error!(error = %e, destination = arn, "async queue: cannot queue a destination record");
        }
    }

    fn remove(&self, seq: i64) {
        if self.inner.commits.send(Write::Remove(seq)).is_err() {
            tracing::error!(seq, "async queue: cannot remove a finished event: the commit thread has stopped");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dead_letters_carry_the_event_and_awss_attributes() {
        let event = AsyncEvent {
            id: "req-1".into(),
            account: "000000000000".into(),
            region: "us-east-1".into(),
            function: "f".into(),
            payload: br#"{"k":"v"}"#.to_vec(),
            accepted_ms: 0,
            attempts: 2,
            next_attempt_ms: 0,
            qualifier: None,
            seq: 0,
        };
        let failed = InvokeResult {
            stream: None,
            payload: bytes::Bytes::from_static(br#"{"errorMessage":"boom","errorType":"ValueError"}"#),
            function_error: Some("Unhandled"),
            log_result: None,
            executed_version: "$LATEST".into(),
        };
        let m = dead_letter(&event, Condition::RetriesExhausted, Some(&failed));
        assert_eq!(m.body, r#"{"k":"v"}"#);
        let attr = |k: &str| m.attributes.iter().find(|(n, _, _)| n == k).map(|(_, _, v)| v.as_str());
        assert_eq!(
            (attr("RequestID"), attr("ErrorCode"), attr("ErrorMessage")),
            (Some("req-1"), Some("200"), Some("boom"))
        );
        let expired = dead_letter(&event, Condition::EventAgeExceeded, None);
        assert_eq!(expired.attributes[2].2, "EventAgeExceeded");
    }
}
