//! Deliveries: committed in groups before PutEvents answers, sent to their targets
//! through [`Targets`], retried under the target's retry policy (exponential back-off with
//! jitter), and, when retries or the event's age run out or the target refuses, sent to
//! the target's dead-letter queue with EventBridge's attributes. Other buses are reached
//! here: the event is put on them as it is, if their policy lets the rule's account in.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use store::{EventCommit, EventStore};
use tokio::sync::Semaphore;

use crate::rules::{HttpParameters, RetryPolicy};
use crate::{buses, EventsError, EventsService, Inner};

/// Retries after the first attempt, unless the target says otherwise.
const DEFAULT_RETRIES: u32 = 185;
/// How old an event may grow while retried, unless the target says otherwise.
const DEFAULT_MAX_AGE_S: u32 = 86_400;
/// Deliveries in flight at once.
const PARALLELISM: usize = 64;
/// Deliveries committed in one transaction at most.
const COMMIT_BATCH: usize = 1024;

/// What a target is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TargetKind {
    /// A Lambda function (an `Event` invocation).
    Lambda,
    /// An SQS queue.
    Sqs,
    /// An SNS topic.
    Sns,
    /// Another event bus.
    Bus,
    /// An API Gateway REST API's stage, method and path.
    ApiGateway,
    /// A CloudWatch Logs group.
    Logs,
    /// A Scheduler universal target: an operation of a service Lamina serves
    /// (`arn:aws:scheduler:::aws-sdk:sqs:sendMessage`), its input the operation's.
    Universal,
    /// A service Lamina does not serve.
    Other,
}

impl TargetKind {
    /// The kind an ARN names.
    pub fn of(arn: &str) -> TargetKind {
        match arn.split(':').nth(2) {
            Some("lambda") => TargetKind::Lambda,
            Some("sqs") => TargetKind::Sqs,
            Some("sns") => TargetKind::Sns,
            Some("events") if arn.contains(":event-bus/") => TargetKind::Bus,
            Some("execute-api") => TargetKind::ApiGateway,
            Some("logs") => TargetKind::Logs,
            Some("scheduler") if arn.contains(":aws-sdk:") => TargetKind::Universal,
            _ => TargetKind::Other,
        }
    }
}

/// A delivery as stored: what one target gets of one event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Delivery {
    pub(crate) rule_arn: String,
    pub(crate) target_id: String,
    pub(crate) target_arn: String,
    pub(crate) kind: TargetKind,
    /// The rule's account and region.
    pub(crate) account: String,
    pub(crate) region: String,
    /// What the target receives.
    pub(crate) payload: String,
    /// The event (a dead letter's body), when it is not the payload itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) event: Option<String>,
    pub(crate) accepted_ms: i64,
    pub(crate) retry: RetryPolicy,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) dead_letter_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) message_group_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) dedup_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) http: Option<HttpParameters>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) trace_header: Option<String>,
    /// A schedule's firing: when it was due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) scheduled_ms: Option<i64>,
}

impl Delivery {
    /// What its target is sent, from the rule (or schedule) that sends it.
    fn outgoing(&self) -> Outgoing<'_> {
        let scheduled = self.rule_arn.contains(":scheduler:");
        Outgoing {
            kind: self.kind,
            arn: &self.target_arn,
            payload: &self.payload,
            source_arn: &self.rule_arn,
            account: &self.account,
            service: if scheduled { "scheduler.amazonaws.com" } else { "events.amazonaws.com" },
            message_group_id: self.message_group_id.as_deref(),
            dedup_id: self.dedup_id.as_deref(),
            attributes: Vec::new(),
            http: self.http.as_ref(),
            trace_header: self.trace_header.as_deref(),
        }
    }
}

/// One message for a target.
#[derive(Debug, Clone)]
pub struct Outgoing<'a> {
    /// What it is.
    pub kind: TargetKind,
    /// Its ARN.
    pub arn: &'a str,
    /// What it receives.
    pub payload: &'a str,
    /// The resource sending (the rule's or schedule's ARN: `aws:SourceArn`).
    pub source_arn: &'a str,
    /// The sender's account.
    pub account: &'a str,
    /// The sending service's principal (`events.amazonaws.com`, `scheduler.amazonaws.com`).
    pub service: &'a str,
    /// A FIFO queue's message group.
    pub message_group_id: Option<&'a str>,
    /// A FIFO queue's deduplication id.
    pub dedup_id: Option<&'a str>,
    /// An SQS message's string attributes (a dead letter's).
    pub attributes: Vec<(&'static str, String)>,
    /// API Gateway's request parameters.
    pub http: Option<&'a HttpParameters>,
    /// The X-Ray trace header.
    pub trace_header: Option<&'a str>,
}

/// Why a target did not take a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// There is no such target (`NO_RESOURCE`): not retried.
    Missing(String),
    /// Its policy does not let the sender in (`NO_PERMISSIONS`): not retried.
    Denied(String),
    /// It refused the message as invalid (`INVALID_PARAMETER`): not retried.
    Invalid(String),
    /// It is throttled (`THROTTLING`): retried.
    Throttled(String),
    /// It failed (`INTERNAL_ERROR`): retried.
    Failed(String),
    /// Lamina does not reach such targets (`SDK_CLIENT_ERROR`): not retried.
    Unsupported(String),
}

impl Failure {
    fn retried(&self) -> bool {
        matches!(self, Failure::Throttled(_) | Failure::Failed(_))
    }

    fn code(&self) -> &'static str {
        match self {
            Failure::Missing(_) => "NO_RESOURCE",
            Failure::Denied(_) => "NO_PERMISSIONS",
            Failure::Invalid(_) => "INVALID_PARAMETER",
            Failure::Throttled(_) => "THROTTLING",
            Failure::Failed(_) => "INTERNAL_ERROR",
            Failure::Unsupported(_) => "SDK_CLIENT_ERROR",
        }
    }

    fn message(&self) -> &str {
        match self {
            Failure::Missing(m)
            | Failure::Denied(m)
            | Failure::Invalid(m)
            | Failure::Throttled(m)
            | Failure::Failed(m)
            | Failure::Unsupported(m) => m,
        }
    }
}

/// The results of a batch of sends, in order.
pub type Sent<'a> = Pin<Box<dyn Future<Output = Vec<Result<(), Failure>>> + Send + 'a>>;

/// Claimed deliveries: (row id, attempts made, the delivery).
type Claimed = Vec<(i64, u32, Delivery)>;

/// The services targets live in, connected once they have started.
pub trait Targets: Send + Sync + 'static {
    /// Sends one message: an `Event` invocation, a message to a queue, a publish to a
    /// topic, a request to an API's stage, a log event.
    fn send<'a>(&'a self, o: &'a Outgoing<'a>) -> Pin<Box<dyn Future<Output = Result<(), Failure>> + Send + 'a>>;

    /// Sends messages to one SQS queue (the same `arn`, `service`, `source_arn` and
    /// `account`), in one write where the service can: each one's result, in order.
    fn send_to_queue<'a>(&'a self, batch: &'a [Outgoing<'a>]) -> Sent<'a> {
        Box::pin(async move {
            let mut out = Vec::with_capacity(batch.len());
            for o in batch {
                out.push(self.send(o).await);
            }
            out
        })
    }
}

/// A write for the group-commit writer.
pub(crate) enum Write {
    /// Deliveries to accept; the caller waits for the commit.
    Add(Vec<(String, i64)>, tokio::sync::oneshot::Sender<Result<(), String>>),
    /// A finished delivery to forget. Nobody waits: if a crash loses the removal, the
    /// delivery is made again (at least once).
    Remove(i64),
}

/// Commits whatever arrived while the last transaction was written in the next one, so
/// concurrent PutEvents share a commit. On a thread of its own, off the async workers.
pub(crate) fn commit_loop(store: Arc<EventStore>, incoming: std::sync::mpsc::Receiver<Write>, inner: Weak<Inner>) {
    while let Ok(first) = incoming.recv() {
        let mut batch = vec![first];
        let mut added = 0;
        while added < COMMIT_BATCH {
            match incoming.try_recv() {
                Ok(next) => {
                    if let Write::Add(d, _) = &next {
                        added += d.len();
                    }
                    batch.push(next)
                }
                Err(_) => break,
            }
        }
        let mut commit = EventCommit::default();
        let mut removed = Vec::new();
        for w in &batch {
            match w {
                Write::Add(d, _) => commit.deliveries.extend(d.iter().cloned()),
                Write::Remove(id) => removed.push(*id),
            }
        }
        let result = store.commit(&commit).map_err(|e| e.to_string());
        if let Err(e) = &result {
            tracing::error!("events: cannot commit deliveries: {e}");
        }
        if let Err(e) = store.remove(&removed) {
            tracing::error!("events: cannot forget finished deliveries: {e}");
        }
        if !commit.deliveries.is_empty() {
            if let Some(inner) = inner.upgrade() {
                inner.deliveries_due.notify_one();
            }
        }
        for w in batch {
            if let Write::Add(_, ack) = w {
                let _ = ack.send(result.clone());
            }
        }
    }
}

/// The back-off before retry `n` (1-based): 1 s doubling to 5 minutes, with jitter.
fn backoff_ms(n: u32) -> i64 {
    let base = 1_000i64.saturating_mul(1 << n.saturating_sub(1).min(9)).min(300_000);
    let jitter = (uuid::Uuid::new_v4().as_u128() % 1000) as i64 * base / 4000;
    base + jitter
}

impl EventsService {
    /// Commits deliveries (in a group with others') and waits for the commit.
    pub(crate) async fn accept(&self, deliveries: Vec<Delivery>) -> Result<(), EventsError> {
        if deliveries.is_empty() {
            return Ok(());
        }
        let now = self.inner.clock.now_ms();
        let docs = deliveries.iter().map(|d| (serde_json::to_string(d).expect("a delivery serialises"), now)).collect();
        let (ack, done) = tokio::sync::oneshot::channel();
        self.inner
            .commits
            .send(Write::Add(docs, ack))
            .map_err(|_| EventsError::Internal("the commit writer has stopped".into()))?;
        match done.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(EventsError::Internal(format!("the store failed: {e}"))),
            Err(_) => Err(EventsError::Internal("the commit writer has stopped".into())),
        }
    }

    fn forget(&self, id: i64) {
        let _ = self.inner.commits.send(Write::Remove(id));
    }

    /// Sends one delivery; what became of it.
    async fn attempt(&self, d: &Delivery) -> Result<(), Failure> {
        if d.kind == TargetKind::Bus {
            return self.to_bus(d).await;
        }
        let targets = self.inner.targets.get().ok_or_else(|| Failure::Failed("targets are not connected".into()))?;
        targets.send(&d.outgoing()).await
    }

    /// Puts the event on another bus, as the rule's account. In another region it is a new
    /// event there, with an id of its own; in the same region it keeps its id (as AWS's
    /// recorded answers show).
    async fn to_bus(&self, d: &Delivery) -> Result<(), Failure> {
        let mut event: Value = serde_json::from_str(&d.payload).map_err(|e| Failure::Invalid(e.to_string()))?;
        let caller = crate::Caller::new(d.account.clone(), d.region.clone());
        let key = buses::resolve(&caller, Some(&d.target_arn));
        if key.region != d.region {
            if let Some(id) = event.get_mut("id") {
                *id = Value::String(crate::new_id());
            }
        }
        let now = self.inner.clock.now_ms();
        self.ensure_bus(&key, now);
        let deliveries = {
            let state = self.inner.state.read();
            let Some(bus) = state.buses.get(&key) else {
                return Err(Failure::Missing(format!("Event bus {} does not exist.", key.name)));
            };
            if !bus.admits(&d.account) {
                return Err(Failure::Denied(format!("Not authorized to put events on {}.", key.arn())));
            }
            self.route(&state, &key, &event, now, d.trace_header.as_deref())
        };
        self.accept(deliveries).await.map_err(|e| Failure::Failed(e.to_string()))
    }

    /// Ends a delivery in its dead-letter queue (or drops it, logged, without one).
    async fn dead_letter(&self, d: &Delivery, failure: &Failure, condition: Option<&str>, attempts: u32) {
        let Some(queue) = &d.dead_letter_arn else {
            tracing::warn!(rule = %d.rule_arn, target = %d.target_arn, "events: an event was dropped: {}", failure.message());
            return;
        };
        let Some(targets) = self.inner.targets.get() else { return };
        // A rule's dead letters name it; a schedule's name it and its firing.
        let mut attributes = match d.scheduled_ms {
            None => vec![("RULE_ARN", d.rule_arn.clone())],
            Some(due) => vec![
                ("SCHEDULE_ARN", d.rule_arn.clone()),
                ("EXECUTION_ID", d.dedup_id.clone().unwrap_or_default()),
                ("SCHEDULED_TIME", crate::iso_seconds(due)),
                ("INVOCATION_TIME", crate::iso_seconds(self.inner.clock.now_ms())),
            ],
        };
        attributes.extend([
            ("TARGET_ARN", d.target_arn.clone()),
            ("ERROR_CODE", failure.code().to_owned()),
            ("ERROR_MESSAGE", failure.message().to_owned()),
        ]);
        if let Some(c) = condition {
            attributes.push(("EXHAUSTED_RETRY_CONDITION", c.to_owned()));
        }
        attributes.push(("RETRY_ATTEMPTS", attempts.to_string()));
        // The event itself, to a standard queue, with the failure's attributes.
        let o = Outgoing {
            kind: TargetKind::Sqs,
            arn: queue,
            payload: d.event.as_deref().unwrap_or(&d.payload),
            message_group_id: None,
            dedup_id: None,
            attributes,
            http: None,
            ..d.outgoing()
        };
        if let Err(e) = targets.send(&o).await {
            tracing::warn!(queue = %queue, "events: a dead letter could not be sent: {}", e.message());
        }
    }

    /// Runs one claimed delivery to its end or its next retry.
    async fn run(&self, id: i64, attempts: u32, d: Delivery) {
        let result = self.attempt(&d).await;
        self.conclude(id, attempts, &d, result).await;
    }

    /// Runs claimed deliveries to one SQS queue together: one write for all of them.
    async fn run_queue_batch(&self, batch: Claimed) {
        let Some(targets) = self.inner.targets.get() else { return };
        let outgoing: Vec<Outgoing<'_>> = batch.iter().map(|(_, _, d)| d.outgoing()).collect();
        let results = targets.send_to_queue(&outgoing).await;
        for ((id, attempts, d), result) in batch.iter().zip(results) {
            self.conclude(*id, *attempts, d, result).await;
        }
    }

    /// What follows an attempt: forgotten when done; else retried, or a dead letter.
    async fn conclude(&self, id: i64, attempts: u32, d: &Delivery, result: Result<(), Failure>) {
        let failure = match result {
            Ok(()) => return self.forget(id),
            Err(f) => f,
        };
        let attempts = attempts + 1;
        let now = self.inner.clock.now_ms();
        let max_retries = d.retry.max_attempts.unwrap_or(DEFAULT_RETRIES);
        let max_age_ms = i64::from(d.retry.max_age_s.unwrap_or(DEFAULT_MAX_AGE_S)) * 1000;
        let next = now + backoff_ms(attempts);
        let condition = if !failure.retried() {
            None
        } else if attempts > max_retries {
            Some("MaximumRetryAttempts")
        } else if next - d.accepted_ms > max_age_ms {
            Some("MaximumEventAgeInSeconds")
        } else {
            if let Err(e) = self.inner.store.retry(id, attempts, next) {
                tracing::error!("events: cannot reschedule a delivery: {e}");
            }
            self.inner.deliveries_due.notify_one();
            return;
        };
        self.dead_letter(d, &failure, condition, attempts - 1).await;
        self.forget(id);
    }
}

/// Claims due deliveries and runs them, at most [`PARALLELISM`] at once.
pub(crate) async fn deliver_loop(events: EventsService) {
    let permits = Arc::new(Semaphore::new(PARALLELISM));
    loop {
        let now = events.inner.clock.now_ms();
        let room = permits.available_permits().max(1);
        let claimed = match events.inner.store.claim(now, room) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!("events: cannot read deliveries: {e}");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if claimed.is_empty() {
            let wait = match events.inner.store.next_due() {
                Ok(Some(due)) => Duration::from_millis((due - now).clamp(1, 60_000) as u64),
                _ => Duration::from_secs(60),
            };
            tokio::select! {
                _ = events.inner.deliveries_due.notified() => {}
                _ = tokio::time::sleep(wait) => {}
            }
            continue;
        }
        // Deliveries to the same queue go together (one write); the rest one by one.
        let mut queues: std::collections::BTreeMap<(String, String), Claimed> = Default::default();
        let mut single = Vec::new();
        for c in claimed {
            match serde_json::from_str::<Delivery>(&c.doc) {
                Ok(d) if d.kind == TargetKind::Sqs => {
                    queues.entry((d.target_arn.clone(), d.rule_arn.clone())).or_default().push((c.id, c.attempts, d))
                }
                Ok(d) => single.push((c.id, c.attempts, d)),
                Err(e) => {
                    tracing::error!("events: an unreadable delivery was dropped: {e}");
                    events.forget(c.id);
                }
            }
        }
        for batch in queues.into_values() {
            let Ok(permit) = permits.clone().acquire_owned().await else { return };
            let events = events.clone();
            tokio::spawn(async move {
                events.run_queue_batch(batch).await;
                drop(permit);
            });
        }
        for (id, attempts, d) in single {
            let Ok(permit) = permits.clone().acquire_owned().await else { return };
            let events = events.clone();
            tokio::spawn(async move {
                events.run(id, attempts, d).await;
                drop(permit);
            });
        }
    }
}
