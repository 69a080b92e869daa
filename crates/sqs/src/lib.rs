//! Lamina's SQS: queues and their messages, durable in the store.
//!
//! [`SqsService`] executes SQS's operations with plain Rust values: standard and FIFO
//! queues, message and system attributes with their MD5 digests, visibility timeouts,
//! long polling (a receive waits on its queue, never on a poll interval), dead-letter
//! redrive after `maxReceiveCount`, retention, FIFO per-group ordering (a batch hands out
//! a group's messages together; groups take turns) and five-minute deduplication per
//! queue or message group, queue policies (another account, or a service acting for
//! another account's resource, reaches a queue only as its `Policy` — set, or built by
//! AddPermission — allows), and tags. Every
//! accepted message is committed before the caller hears of it. Errors are [`SqsError`]s carrying AWS's error shape names and query codes.
//!
//! It knows nothing of HTTP or the wire protocols; `aws-api` speaks them.
#![deny(missing_docs)]

pub mod attributes;
pub mod digest;
mod messages;

use model::sync::{Mutex, RwLock};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use attributes::Settings;
pub use digest::AttributeValue;
pub use iam::resource_policy::Requester;
use model::Clock;
use store::{Added, DedupWindow, Deleted, QueueRecord, QueueStore, Received, StoreError, StoredMessage};
use tokio::sync::Notify;

/// An SQS error: the modelled shape name, AWS's query-protocol code, the message.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{code}: {message}")]
pub struct SqsError {
    /// The shape name (`QueueDoesNotExist`), the JSON protocol's `__type`.
    pub code: &'static str,
    /// The query-protocol code (`AWS.SimpleQueueService.NonExistentQueue`).
    pub query_code: &'static str,
    /// The message.
    pub message: String,
    /// Whether the caller (`Sender`) or SQS (`Receiver`) is at fault.
    pub sender_fault: bool,
    /// The HTTP status: 400 for the caller's faults but for 403 `AccessDenied`, 500 for SQS's.
    pub status: u16,
}

impl SqsError {
    fn new(code: &'static str, query_code: &'static str, message: impl Into<String>) -> Self {
        SqsError { code, query_code, message: message.into(), sender_fault: true, status: 400 }
    }

    /// `QueueDoesNotExist`.
    pub fn no_queue() -> Self {
        Self::new("QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist.")
    }

    /// `InvalidAttributeValue`.
    pub fn invalid_attribute_value(message: impl Into<String>) -> Self {
        Self::new("InvalidAttributeValue", "InvalidAttributeValue", message)
    }

    /// `InvalidAttributeName`.
    pub fn invalid_attribute_name(message: impl Into<String>) -> Self {
        Self::new("InvalidAttributeName", "InvalidAttributeName", message)
    }

    /// `InvalidParameterValue` (not in SQS's model: JSON clients see
    /// `InvalidParameterValueException`).
    pub fn invalid_parameter(message: impl Into<String>) -> Self {
        Self::new("InvalidParameterValueException", "InvalidParameterValue", message)
    }

    /// `MissingParameter`.
    pub fn missing(parameter: &str) -> Self {
        Self::new(
            "MissingRequiredParameterException",
            "MissingParameter",
            format!("The request must contain the parameter {parameter}."),
        )
    }

    fn receipt_invalid(handle: &str) -> Self {
        Self::new(
            "ReceiptHandleIsInvalid",
            "ReceiptHandleIsInvalid",
            format!("The input receipt handle \"{handle}\" is not a valid receipt handle."),
        )
    }

    /// Batch errors: `EmptyBatchRequest`, `TooManyEntriesInBatchRequest`,
    /// `BatchEntryIdsNotDistinct`, `InvalidBatchEntryId`.
    pub fn batch(code: &'static str, message: impl Into<String>) -> Self {
        let query_code = match code {
            "EmptyBatchRequest" => "AWS.SimpleQueueService.EmptyBatchRequest",
            "TooManyEntriesInBatchRequest" => "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
            "BatchEntryIdsNotDistinct" => "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
            "BatchRequestTooLong" => "AWS.SimpleQueueService.BatchRequestTooLong",
            _ => "AWS.SimpleQueueService.InvalidBatchEntryId",
        };
        Self::new(code, query_code, message)
    }

    fn internal(e: StoreError) -> Self {
        tracing::error!(error = %e, "sqs store failure");
        SqsError {
            sender_fault: false,
            status: 500,
            ..Self::new("InternalError", "InternalError", "We encountered an internal error. Please try again.")
        }
    }
}

impl From<StoreError> for SqsError {
    fn from(e: StoreError) -> Self {
        SqsError::internal(e)
    }
}

pub use model::Caller;

/// A SendMessage, or one entry of SendMessageBatch.
#[derive(Debug, Clone, Default)]
pub struct SendInput {
    /// `MessageBody`.
    pub body: String,
    /// `DelaySeconds`.
    pub delay_s: Option<i64>,
    /// `MessageAttributes`.
    pub attributes: BTreeMap<String, AttributeValue>,
    /// `MessageSystemAttributes` (`AWSTraceHeader`).
    pub system: BTreeMap<String, AttributeValue>,
    /// `MessageGroupId`.
    pub group_id: Option<String>,
    /// `MessageDeduplicationId`.
    pub dedup_id: Option<String>,
}

/// What SendMessage answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// `MessageId`.
    pub id: String,
    /// `MD5OfMessageBody`.
    pub md5_body: String,
    /// `MD5OfMessageAttributes`.
    pub md5_attributes: Option<String>,
    /// `MD5OfMessageSystemAttributes`.
    pub md5_system: Option<String>,
    /// `SequenceNumber` (FIFO).
    pub sequence: Option<String>,
}

/// A received message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// `MessageId`.
    pub id: String,
    /// `ReceiptHandle`.
    pub receipt: String,
    /// `Body`.
    pub body: String,
    /// `MD5OfBody`.
    pub md5_body: String,
    /// `Attributes`: the system attributes asked for.
    pub attributes: BTreeMap<String, String>,
    /// `MessageAttributes`: those asked for.
    pub message_attributes: BTreeMap<String, AttributeValue>,
    /// `MD5OfMessageAttributes` of those returned.
    pub md5_attributes: Option<String>,
}

/// A ReceiveMessage request.
#[derive(Debug, Clone, Default)]
pub struct ReceiveInput {
    /// `MaxNumberOfMessages`, 1–10.
    pub max: Option<i64>,
    /// `WaitTimeSeconds`, 0–20; the queue's default when absent.
    pub wait_s: Option<i64>,
    /// `VisibilityTimeout` for these messages; the queue's when absent.
    pub visibility_s: Option<i64>,
    /// `AttributeNames` / `MessageSystemAttributeNames`.
    pub attribute_names: Vec<String>,
    /// `MessageAttributeNames`.
    pub message_attribute_names: Vec<String>,
}

pub use model::QueueRef;

/// A queue's identity as callers name it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct QueueKey {
    account: String,
    region: String,
    name: String,
}

struct Queue {
    record: Mutex<QueueRecord>,
    settings: RwLock<Settings>,
    /// Woken whenever a message may have become receivable.
    arrivals: Notify,
    /// Serialises receives and visibility changes of this queue.
    busy: tokio::sync::Mutex<()>,
    last_purge_ms: Mutex<i64>,
    /// When messages past their retention were last deleted (a scan of the queue, so at
    /// most once a minute).
    last_expiry_ms: Mutex<i64>,
}

impl Queue {
    fn key(&self) -> String {
        self.record.lock().key()
    }

    fn settings(&self) -> Settings {
        self.settings.read().clone()
    }

    fn attributes(&self) -> BTreeMap<String, String> {
        let record = self.record.lock();
        serde_json::from_str(&record.attributes).unwrap_or_default()
    }
}

/// SQS.
#[derive(Clone)]
pub struct SqsService {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn QueueStore>,
    queues: RwLock<HashMap<QueueKey, Arc<Queue>>>,
    clock: Clock,
    writes: Mutex<()>,
}

const QUEUE_NAME_MAX: usize = 80;
const DEDUP_WINDOW_MS: i64 = 5 * 60 * 1000;
const BATCH_MAX: usize = 10;
const EXPIRY_EVERY_MS: i64 = 60_000;

/// The action a tags call performs, as a queue policy names it.
fn tag_action(add: &BTreeMap<String, String>, remove: &[String]) -> &'static str {
    match (add.is_empty(), remove.is_empty()) {
        (true, true) => "sqs:ListQueueTags",
        (false, _) => "sqs:TagQueue",
        (true, false) => "sqs:UntagQueue",
    }
}

/// A queue as a request names it: by its `QueueUrl` (or a bare name, in the caller's
/// account), or by reference from another service. AWS's AccessDenied quotes the name as
/// given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueName {
    /// The queue named; none when the text names no account and queue.
    queue: Option<QueueRef>,
    /// How the request named it.
    shown: String,
}

impl QueueName {
    /// A `QueueUrl` as `caller` gave it: a URL (`http://host/<account>/<name>`) or a bare
    /// name, which stands for the caller's queue of that name, as on AWS.
    pub fn from_url(caller: &Caller, url: &str) -> QueueName {
        let bare = (!url.is_empty() && !url.contains(['/', ':'])).then(|| QueueRef::new(&caller.account, url));
        QueueName { queue: bare.or_else(|| QueueRef::from_url(url)), shown: url.to_owned() }
    }

    /// A queue another service names by reference, in `region`: shown by its ARN.
    pub fn of(queue: QueueRef, region: &str) -> QueueName {
        let shown = queue_arn(region, &queue.account, &queue.name);
        QueueName { queue: Some(queue), shown }
    }
}

/// A queue's ARN.
pub fn queue_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:sqs:{region}:{account}:{name}")
}

fn check_name(name: &str, fifo: bool) -> Result<(), SqsError> {
    let base = name.strip_suffix(".fifo").unwrap_or(name);
    let ok = !base.is_empty()
        && name.len() <= QUEUE_NAME_MAX
        && base.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && (fifo == name.ends_with(".fifo"));
    if ok {
        return Ok(());
    }
    if fifo != name.ends_with(".fifo") {
        return Err(SqsError::invalid_parameter(
            "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.",
        ));
    }
    Err(SqsError::invalid_parameter(
        "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length",
    ))
}

impl SqsService {
    /// Loads every queue.
    pub fn start(store: Arc<dyn QueueStore>, clock: Clock) -> Result<Self, SqsError> {
        let mut queues = HashMap::new();
        for record in store.all_queues()? {
            let key =
                QueueKey { account: record.account.clone(), region: record.region.clone(), name: record.name.clone() };
            let attrs: BTreeMap<String, String> = serde_json::from_str(&record.attributes).unwrap_or_default();
            queues.insert(key, Arc::new(new_queue(record, Settings::from_attributes(&attrs))));
        }
        Ok(SqsService { inner: Arc::new(Inner { store, queues: RwLock::new(queues), clock, writes: Mutex::new(()) }) })
    }

    fn now(&self) -> i64 {
        self.inner.clock.now_ms()
    }

    fn queue(&self, caller: &Caller, account: &str, name: &str) -> Result<Arc<Queue>, SqsError> {
        let key = QueueKey { account: account.to_owned(), region: caller.region.clone(), name: name.to_owned() };
        self.inner.queues.read().get(&key).cloned().ok_or_else(SqsError::no_queue)
    }

    /// The queue `queue` names, if `caller` may perform `action` on it: any queue of its
    /// own account (unless the queue's policy denies it), another account's only as the
    /// queue's policy allows.
    fn named(&self, caller: &Caller, queue: &QueueName, action: &str) -> Result<Arc<Queue>, SqsError> {
        let QueueRef { account, name } = queue.queue.as_ref().ok_or_else(SqsError::no_queue)?;
        let shown = &queue.shown;
        let denied = || SqsError {
            status: 403,
            ..SqsError::new("AccessDenied", "AccessDenied", format!("Access to the resource {shown} is denied."))
        };
        let found = self.queue(caller, account, name);
        if *account != caller.account {
            // Another account's queue that does not exist is as refused as one that does.
            let q = found.map_err(|_| denied())?;
            return match self.permits(&q, &Requester::Account(&caller.account), action) {
                true => Ok(q),
                false => Err(denied()),
            };
        }
        let q = found?;
        match self.permits(&q, &Requester::Account(&caller.account), action) {
            true => Ok(q),
            false => Err(denied()),
        }
    }

    /// Whether `who` may perform `action` (`sqs:SendMessage`, …) on the queue, under its
    /// policy.
    fn permits(&self, q: &Queue, who: &Requester<'_>, action: &str) -> bool {
        let policy = q.settings.read().policy.clone();
        let r = q.record.lock();
        match policy {
            // The common case, on every call: no policy, so the owner's alone.
            None => who.account() == r.account,
            Some(p) => p.allows(&r.account, &queue_arn(&r.region, &r.account, &r.name), who, action),
        }
    }

    /// Whether `who` may perform `action` on the queue this ARN names; `None` when there
    /// is no such queue. For the services that configure a queue as a target or source
    /// (event source mappings, dead-letter queues, destinations, subscriptions).
    pub fn allows(&self, arn: &str, who: &Requester<'_>, action: &str) -> Option<bool> {
        self.by_arn(arn).map(|q| self.permits(&q, who, action))
    }

    /// The queue an SQS ARN names, in any region.
    fn by_arn(&self, arn: &str) -> Option<Arc<Queue>> {
        let parts: Vec<&str> = arn.split(':').collect();
        let ["arn", _, "sqs", region, account, name] = parts.as_slice() else { return None };
        let key = QueueKey { account: (*account).to_owned(), region: (*region).to_owned(), name: (*name).to_owned() };
        self.inner.queues.read().get(&key).cloned()
    }

    /// CreateQueue: returns the queue's reference. Creating an existing queue
    /// with the same attributes answers it again; with other attributes it fails.
    pub fn create_queue(
        &self,
        caller: &Caller,
        name: &str,
        attrs: BTreeMap<String, String>,
        tags: BTreeMap<String, String>,
    ) -> Result<QueueRef, SqsError> {
        attributes::check(&attrs)?;
        let attrs = attributes::normalised(attrs);
        let fifo = attrs.get("FifoQueue").is_some_and(|v| v == "true");
        if !fifo {
            attributes::standard_only(&attrs)?;
        }
        check_name(name, fifo)?;
        let settings = Settings::from_attributes(&attrs);
        self.check_redrive(&settings, fifo)?;
        let _guard = self.inner.writes.lock();
        if let Ok(existing) = self.queue(caller, &caller.account, name) {
            // Only the attributes given are compared (a queue created again without them
            // is the same queue).
            let current = attributes::shown(&existing.attributes());
            let differs = attrs.iter().find(|(k, v)| current.get(*k) != Some(*v));
            if let Some((k, _)) = differs {
                return Err(SqsError::new(
                    "QueueNameExists",
                    "QueueAlreadyExists",
                    format!("A queue already exists with the same name and a different value for attribute {k}"),
                ));
            }
            return Ok(QueueRef::new(&caller.account, name));
        }
        let now = self.now();
        let record = QueueRecord {
            account: caller.account.clone(),
            region: caller.region.clone(),
            name: name.to_owned(),
            attributes: serde_json::to_string(&attrs).unwrap_or_default(),
            tags: serde_json::to_string(&tags).unwrap_or_default(),
            created_ms: now,
            modified_ms: now,
        };
        self.inner.store.create_queue(&record)?;
        let key = QueueKey { account: caller.account.clone(), region: caller.region.clone(), name: name.to_owned() };
        self.inner.queues.write().insert(key, Arc::new(new_queue(record, settings)));
        Ok(QueueRef::new(&caller.account, name))
    }

    fn check_redrive(&self, settings: &Settings, fifo: bool) -> Result<(), SqsError> {
        let Some(r) = &settings.redrive else { return Ok(()) };
        let Some(target) = self.by_arn(&r.dead_letter_arn) else {
            return Err(SqsError::invalid_attribute_value(format!(
                "Value {{\"deadLetterTargetArn\":\"{}\",\"maxReceiveCount\":{}}} for parameter RedrivePolicy is invalid. Reason: Dead-letter target does not exist.",
                r.dead_letter_arn, r.max_receive_count
            )));
        };
        if target.settings().fifo != fifo {
            return Err(SqsError::invalid_attribute_value(
                "Value for parameter RedrivePolicy is invalid. Reason: Dead-letter queue must be same type of queue as the source.",
            ));
        }
        Ok(())
    }

    /// GetQueueUrl.
    pub fn get_queue_url(&self, caller: &Caller, name: &str, owner: Option<&str>) -> Result<QueueRef, SqsError> {
        let account = owner.unwrap_or(&caller.account);
        let q = self.queue(caller, account, name)?;
        // Another account's queue is found only when its policy lets the caller.
        if !self.permits(&q, &Requester::Account(&caller.account), "sqs:GetQueueUrl") {
            return Err(SqsError::no_queue());
        }
        Ok(QueueRef::new(account, name))
    }

    /// ListQueues: names with the prefix, in name order, paginated by `next_token` (the
    /// last name of the previous page).
    pub fn list_queues(
        &self,
        caller: &Caller,
        prefix: Option<&str>,
        max: Option<i64>,
        next_token: Option<&str>,
    ) -> Result<(Vec<QueueRef>, Option<String>), SqsError> {
        if let Some(m) = max {
            if !(1..=1000).contains(&m) {
                return Err(SqsError::invalid_parameter("Value for parameter MaxResults is invalid. Reason: MaxResults must be an integer between 1 and 1000."));
            }
        }
        let mut names: Vec<String> = self
            .inner
            .queues
            .read()
            .keys()
            .filter(|k| k.account == caller.account && k.region == caller.region)
            .filter(|k| prefix.is_none_or(|p| k.name.starts_with(p)))
            .filter(|k| next_token.is_none_or(|t| k.name.as_str() > t))
            .map(|k| k.name.clone())
            .collect();
        names.sort();
        let size = max.map_or(1000, |m| m as usize);
        let next = (max.is_some() && names.len() > size).then(|| names[size - 1].clone());
        names.truncate(size);
        Ok((names.into_iter().map(|n| QueueRef::new(&caller.account, n)).collect(), next))
    }

    /// DeleteQueue, with its messages.
    pub fn delete_queue(&self, caller: &Caller, queue: &QueueName) -> Result<(), SqsError> {
        let _guard = self.inner.writes.lock();
        let q = self.named(caller, queue, "sqs:DeleteQueue")?;
        let record = q.record.lock().clone();
        self.inner.store.delete_queue(&record)?;
        let key = QueueKey { account: record.account, region: record.region, name: record.name };
        self.inner.queues.write().remove(&key);
        q.arrivals.notify_waiters();
        Ok(())
    }

    /// PurgeQueue; once a minute at most, as on AWS.
    pub fn purge_queue(&self, caller: &Caller, queue: &QueueName) -> Result<(), SqsError> {
        let q = self.named(caller, queue, "sqs:PurgeQueue")?;
        let now = self.now();
        {
            let mut last = q.last_purge_ms.lock();
            if *last != 0 && now - *last < 60_000 {
                let record = q.record.lock();
                return Err(SqsError::new(
                    "PurgeQueueInProgress",
                    "AWS.SimpleQueueService.PurgeQueueInProgress",
                    format!("Only one PurgeQueue operation on {} is allowed every 60 seconds.", record.name),
                ));
            }
            *last = now;
        }
        self.inner.store.purge(&q.key())?;
        Ok(())
    }

    /// GetQueueAttributes: the named attributes (`All` for every one).
    pub fn get_attributes(
        &self,
        caller: &Caller,
        queue: &QueueName,
        names: &[String],
    ) -> Result<BTreeMap<String, String>, SqsError> {
        let q = self.named(caller, queue, "sqs:GetQueueAttributes")?;
        for n in names {
            if n != "All" && !attributes::readable(n) {
                return Err(SqsError::invalid_attribute_name(format!("Unknown Attribute {n}.")));
            }
        }
        let record = q.record.lock().clone();
        let mut all = attributes::shown(&q.attributes());
        let counts = self.inner.store.counts(&record.key(), self.now())?;
        all.insert("ApproximateNumberOfMessages".into(), counts.visible.to_string());
        all.insert("ApproximateNumberOfMessagesNotVisible".into(), counts.in_flight.to_string());
        all.insert("ApproximateNumberOfMessagesDelayed".into(), counts.delayed.to_string());
        all.insert("CreatedTimestamp".into(), (record.created_ms / 1000).to_string());
        all.insert("LastModifiedTimestamp".into(), (record.modified_ms / 1000).to_string());
        all.insert("QueueArn".into(), queue_arn(&record.region, &record.account, &record.name));
        let everything = names.iter().any(|n| n == "All");
        Ok(all.into_iter().filter(|(k, _)| everything || names.contains(k)).collect())
    }

    /// SetQueueAttributes.
    pub fn set_attributes(
        &self,
        caller: &Caller,
        queue: &QueueName,
        changes: BTreeMap<String, String>,
    ) -> Result<(), SqsError> {
        attributes::check(&changes)?;
        let changes = attributes::normalised(changes);
        let _guard = self.inner.writes.lock();
        let q = self.named(caller, queue, "sqs:SetQueueAttributes")?;
        let mut attrs = q.attributes();
        let fifo = q.settings().fifo;
        if !fifo {
            attributes::standard_only(&changes)?;
        } else if changes.get("FifoQueue").is_some_and(|v| v != "true") {
            return Err(SqsError::invalid_attribute_value(
                "Invalid value for the parameter FifoQueue. Reason: Modifying queue type is not supported.",
            ));
        }
        // SSE-KMS and SQS-managed encryption exclude each other: naming a KMS key (even
        // none) ends the SQS-managed kind, as AWS shows it.
        if changes.contains_key("KmsMasterKeyId") && !changes.contains_key("SqsManagedSseEnabled") {
            attrs.insert("SqsManagedSseEnabled".into(), "false".into());
        }
        for (k, v) in changes {
            // An empty policy or redrive policy removes it.
            if v.is_empty() && (k == "Policy" || k == "RedrivePolicy") {
                attrs.remove(&k);
            } else {
                attrs.insert(k, v);
            }
        }
        // Without a KMS key there is no data key to reuse.
        if attrs.get("KmsMasterKeyId").is_some_and(String::is_empty) {
            attrs.remove("KmsMasterKeyId");
            attrs.remove("KmsDataKeyReusePeriodSeconds");
        }
        let settings = Settings::from_attributes(&attrs);
        self.check_redrive(&settings, fifo)?;
        self.save_attributes(&q, &attrs, settings)?;
        q.arrivals.notify_waiters();
        Ok(())
    }

    /// Keeps a queue's new attributes, durably, and the settings made of them.
    fn save_attributes(&self, q: &Queue, attrs: &BTreeMap<String, String>, settings: Settings) -> Result<(), SqsError> {
        let record = {
            let mut record = q.record.lock();
            record.attributes = serde_json::to_string(attrs).unwrap_or_default();
            record.modified_ms = self.now();
            record.clone()
        };
        self.inner.store.update_queue(&record)?;
        *q.settings.write() = settings;
        Ok(())
    }

    /// AddPermission: a labelled statement of the queue's policy letting the accounts
    /// named perform the actions named.
    pub fn add_permission(
        &self,
        caller: &Caller,
        queue: &QueueName,
        label: &str,
        accounts: &[String],
        actions: &[String],
    ) -> Result<(), SqsError> {
        self.change_policy(caller, queue, "sqs:AddPermission", |policy, arn| {
            let statements = policy["Statement"].as_array_mut().ok_or_else(|| SqsError::invalid_parameter("Policy"))?;
            if statements.iter().any(|s| s["Sid"] == label) {
                return Err(SqsError::invalid_parameter(format!(
                    "Value {label} for parameter Label is invalid. Reason: Already exists."
                )));
            }
            let one_or_many = |items: Vec<String>| match items.len() {
                1 => serde_json::json!(items[0]),
                _ => serde_json::json!(items),
            };
            statements.push(serde_json::json!({
                "Sid": label,
                "Effect": "Allow",
                "Principal": {"AWS": one_or_many(accounts.iter().map(|a| format!("arn:aws:iam::{a}:root")).collect())},
                "Action": one_or_many(actions.iter().map(|a| format!("SQS:{a}")).collect()),
                "Resource": arn,
            }));
            Ok(())
        })
    }

    /// RemovePermission: the statement with that label goes.
    pub fn remove_permission(&self, caller: &Caller, queue: &QueueName, label: &str) -> Result<(), SqsError> {
        self.change_policy(caller, queue, "sqs:RemovePermission", |policy, _| {
            let statements = policy["Statement"].as_array_mut();
            let before = statements.as_ref().map_or(0, |s| s.len());
            let statements = statements.ok_or_else(|| SqsError::invalid_parameter("Policy"))?;
            statements.retain(|s| s["Sid"] != label);
            if statements.len() == before {
                return Err(SqsError::invalid_parameter(format!(
                    "Value {label} for parameter Label is invalid. Reason: can't find label."
                )));
            }
            Ok(())
        })
    }

    /// Changes the queue's policy (made empty if it has none); a policy left with no
    /// statement is removed.
    fn change_policy(
        &self,
        caller: &Caller,
        queue: &QueueName,
        action: &str,
        change: impl FnOnce(&mut serde_json::Value, &str) -> Result<(), SqsError>,
    ) -> Result<(), SqsError> {
        let _guard = self.inner.writes.lock();
        let q = self.named(caller, queue, action)?;
        let mut attrs = q.attributes();
        let record = q.record.lock().clone();
        let arn = queue_arn(&record.region, &record.account, &record.name);
        let mut policy = attrs
            .get("Policy")
            .and_then(|p| serde_json::from_str::<serde_json::Value>(p).ok())
            .filter(|p| p["Statement"].is_array())
            .unwrap_or_else(|| {
                serde_json::json!({"Version": "2008-10-17", "Id": format!("{arn}/SQSDefaultPolicy"), "Statement": []})
            });
        change(&mut policy, &arn)?;
        if policy["Statement"].as_array().is_some_and(|s| s.is_empty()) {
            attrs.remove("Policy");
        } else {
            attrs.insert("Policy".into(), policy.to_string());
        }
        let settings = Settings::from_attributes(&attrs);
        self.save_attributes(&q, &attrs, settings)
    }

    /// TagQueue, UntagQueue and ListQueueTags (with nothing to add or remove).
    pub fn tags(
        &self,
        caller: &Caller,
        queue: &QueueName,
        add: BTreeMap<String, String>,
        remove: &[String],
    ) -> Result<BTreeMap<String, String>, SqsError> {
        let _guard = self.inner.writes.lock();
        let q = self.named(caller, queue, tag_action(&add, remove))?;
        let mut record = q.record.lock();
        let mut tags: BTreeMap<String, String> = serde_json::from_str(&record.tags).unwrap_or_default();
        if add.is_empty() && remove.is_empty() {
            return Ok(tags);
        }
        tags.extend(add);
        for k in remove {
            tags.remove(k);
        }
        if tags.len() > 50 {
            return Err(SqsError::invalid_parameter("Too many tags added for queue."));
        }
        record.tags = serde_json::to_string(&tags).unwrap_or_default();
        self.inner.store.update_queue(&record)?;
        Ok(tags)
    }

    /// ListDeadLetterSourceQueues: queues whose redrive policy targets this one.
    pub fn dead_letter_sources(&self, caller: &Caller, queue: &QueueName) -> Result<Vec<QueueRef>, SqsError> {
        let q = self.named(caller, queue, "sqs:ListDeadLetterSourceQueues")?;
        let record = q.record.lock().clone();
        let arn = queue_arn(&record.region, &record.account, &record.name);
        let queues = self.inner.queues.read();
        let mut out: Vec<QueueRef> = queues
            .iter()
            .filter(|(_, other)| other.settings().redrive.is_some_and(|r| r.dead_letter_arn == arn))
            .map(|(k, _)| QueueRef::new(&k.account, &k.name))
            .collect();
        out.sort();
        Ok(out)
    }

    /// Moves the clock forward (tests of visibility and retention), waking receivers.
    pub fn advance_clock(&self, by: Duration) {
        self.inner.clock.advance(by);
        for q in self.inner.queues.read().values() {
            q.arrivals.notify_waiters();
        }
    }

    /// Whether the queue an ARN names is a FIFO queue; `None` if there is no such queue.
    pub fn is_fifo(&self, arn: &str) -> Option<bool> {
        self.by_arn(arn).map(|q| q.settings().fifo)
    }

    /// Whether a queue with this ARN exists.
    pub fn exists(&self, arn: &str) -> bool {
        self.by_arn(arn).is_some()
    }

    /// Checks a batch's entry ids: 1–10 entries, distinct, well-formed.
    pub fn check_batch_ids(ids: &[&str]) -> Result<(), SqsError> {
        if ids.is_empty() {
            return Err(SqsError::batch(
                "EmptyBatchRequest",
                "There should be at least one SendMessageBatchRequestEntry in the request.",
            ));
        }
        if ids.len() > BATCH_MAX {
            return Err(SqsError::batch(
                "TooManyEntriesInBatchRequest",
                format!("Maximum number of entries per request are 10. You have sent {}.", ids.len()),
            ));
        }
        let mut seen = HashSet::new();
        for id in ids {
            if id.is_empty() || id.len() > 80 || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(SqsError::batch(
                    "InvalidBatchEntryId",
                    "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.",
                ));
            }
            if !seen.insert(*id) {
                return Err(SqsError::batch("BatchEntryIdsNotDistinct", format!("Id {id} repeated.")));
            }
        }
        Ok(())
    }
}

fn new_queue(record: QueueRecord, settings: Settings) -> Queue {
    Queue {
        record: Mutex::new(record),
        settings: RwLock::new(settings),
        arrivals: Notify::new(),
        busy: tokio::sync::Mutex::new(()),
        last_purge_ms: Mutex::new(0),
        last_expiry_ms: Mutex::new(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_urls_and_batch_ids() {
        assert!(SqsService::check_batch_ids(&["a", "b"]).is_ok());
        assert_eq!(SqsService::check_batch_ids(&["a", "a"]).unwrap_err().code, "BatchEntryIdsNotDistinct");
        assert_eq!(SqsService::check_batch_ids(&[]).unwrap_err().code, "EmptyBatchRequest");
    }

    #[test]
    fn a_queue_is_named_by_url_by_bare_name_or_by_reference() {
        let caller = Caller::new("111111111111", "us-east-1");
        let url = QueueName::from_url(&caller, "http://localhost:4566/222222222222/jobs");
        assert_eq!(url.queue, Some(QueueRef::new("222222222222", "jobs")));
        assert_eq!(url.shown, "http://localhost:4566/222222222222/jobs");
        assert_eq!(QueueName::from_url(&caller, "jobs").queue, Some(QueueRef::new("111111111111", "jobs")));
        assert_eq!(QueueName::from_url(&caller, "http://localhost:4566/jobs").queue, None);
        let referred = QueueName::of(QueueRef::new("222222222222", "jobs"), "eu-west-1");
        assert_eq!(referred.shown, "arn:aws:sqs:eu-west-1:222222222222:jobs");
    }
}
