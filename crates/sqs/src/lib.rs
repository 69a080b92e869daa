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

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use attributes::Settings;
pub use digest::AttributeValue;
pub use iam::resource_policy::Requester;
use model::Clock;
use store::{Added, DedupWindow, QueueRecord, QueueStore, Received, StoreError, StoredMessage};
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

/// Who is calling.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The account.
    pub account: String,
    /// The region.
    pub region: String,
}

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

/// A queue as callers address it: its account and name.
pub type QueueId = (String, String);

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
        self.record.lock().unwrap_or_else(|p| p.into_inner()).key()
    }

    fn settings(&self) -> Settings {
        self.settings.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn attributes(&self) -> BTreeMap<String, String> {
        let record = self.record.lock().unwrap_or_else(|p| p.into_inner());
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

/// A queue's ARN.
pub fn queue_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:sqs:{region}:{account}:{name}")
}

/// Splits a queue URL (`http://host/<account>/<name>`) into account and name.
pub fn parse_queue_url(url: &str) -> Option<(String, String)> {
    let path = url.split_once("://").map_or(url, |(_, rest)| rest.split_once('/').map_or("", |(_, p)| p));
    let mut parts = path.trim_end_matches('/').rsplit('/');
    let name = parts.next()?;
    let account = parts.next()?;
    (account.len() == 12 && account.chars().all(|c| c.is_ascii_digit()) && !name.is_empty())
        .then(|| (account.to_owned(), name.to_owned()))
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

fn receipt_for(queue_key: &str, message_id: &str) -> String {
    use base64::Engine;
    let token = uuid::Uuid::new_v4().simple().to_string();
    base64::engine::general_purpose::STANDARD.encode(format!("{queue_key} {message_id} {token}"))
}

/// A FIFO message's `SequenceNumber`: twenty digits, as AWS's, increasing with the
/// store's order.
fn sequence_number(seq: i64) -> String {
    // Spread out, so that no run of zeros reads like an account id.
    (10_000_000_000_000_000_000u128 + seq.max(0) as u128 * 1_099_511_627_776).to_string()
}

/// A FIFO queue hands out a group's messages together, each group's in order. Groups
/// take turns as AWS's do: those never received first, then those received longest ago;
/// among equals, the group of the oldest message.
fn group_together(messages: &mut [StoredMessage]) {
    let mut rank: HashMap<Option<String>, (i64, usize)> = HashMap::new();
    for (i, m) in messages.iter().enumerate() {
        let r = rank.entry(m.group_id.clone()).or_insert((m.first_receive_ms, i));
        r.0 = r.0.max(m.first_receive_ms);
    }
    messages.sort_by_key(|m| rank.get(&m.group_id).copied().unwrap_or((i64::MAX, usize::MAX)));
}

/// The message id a receipt handle was issued for.
fn receipt_message_id(handle: &str) -> Option<String> {
    use base64::Engine;
    let text = base64::engine::general_purpose::STANDARD.decode(handle).ok()?;
    String::from_utf8(text).ok()?.split(' ').nth(1).map(str::to_owned)
}

fn receipt_is_well_formed(handle: &str) -> bool {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(handle)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .is_some_and(|s| s.split(' ').count() == 3)
}

fn attributes_json(attrs: &BTreeMap<String, AttributeValue>) -> String {
    use base64::Engine;
    let map: serde_json::Map<String, serde_json::Value> = attrs
        .iter()
        .map(|(k, v)| {
            let value = serde_json::json!({
                "t": v.data_type,
                "s": v.string,
                "b": v.binary.as_ref().map(|b| base64::engine::general_purpose::STANDARD.encode(b)),
            });
            (k.clone(), value)
        })
        .collect();
    serde_json::Value::Object(map).to_string()
}

fn parse_attributes(text: &str) -> BTreeMap<String, AttributeValue> {
    use base64::Engine;
    let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(text).unwrap_or_default();
    map.into_iter()
        .map(|(k, v)| {
            let value = AttributeValue {
                data_type: v["t"].as_str().unwrap_or("String").to_owned(),
                string: v["s"].as_str().map(str::to_owned),
                binary: v["b"].as_str().and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok()),
            };
            (k, value)
        })
        .collect()
}

/// What SQS says of a character XML cannot carry.
const INVALID_CHARACTERS: &str = "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF";

/// A character a message or a string attribute may carry (XML's).
fn valid_char(c: char) -> bool {
    let n = c as u32;
    n == 0x9 || n == 0xA || n == 0xD || (0x20..=0xD7FF).contains(&n) || (0xE000..=0xFFFD).contains(&n) || n >= 0x10000
}

fn check_message_attributes(attrs: &BTreeMap<String, AttributeValue>) -> Result<usize, SqsError> {
    if attrs.len() > 10 {
        return Err(SqsError::invalid_parameter(format!(
            "Number of message attributes [{}] exceeds the allowed maximum [10].",
            attrs.len()
        )));
    }
    let mut size = 0;
    for (name, v) in attrs {
        let name_ok = !name.is_empty()
            && name.len() <= 256
            && name.chars().all(|c| c.is_alphanumeric() || "_-.".contains(c))
            && !name.starts_with('.')
            && !name.ends_with('.')
            && !name.contains("..")
            && !name.to_ascii_lowercase().starts_with("aws.")
            && !name.to_ascii_lowercase().starts_with("amazon.");
        if !name_ok {
            return Err(SqsError::invalid_parameter(format!("Message (user) attribute name '{name}' is invalid.")));
        }
        let kind = v.data_type.split('.').next().unwrap_or("");
        if !matches!(kind, "String" | "Number" | "Binary") {
            return Err(SqsError::invalid_parameter(format!(
                "The type of message (user) attribute '{name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String."
            )));
        }
        let has_value = if v.is_binary() {
            v.binary.as_ref().is_some_and(|b| !b.is_empty())
        } else {
            v.string.as_ref().is_some_and(|s| !s.is_empty())
        };
        if !has_value {
            return Err(SqsError::invalid_parameter(format!(
                "Message (user) attribute '{name}' must contain a non-empty value of type '{kind}'."
            )));
        }
        if v.string.as_deref().is_some_and(|s| !s.chars().all(valid_char)) {
            return Err(SqsError::invalid_parameter(INVALID_CHARACTERS));
        }
        if kind == "Number" && v.string.as_deref().is_some_and(|s| s.trim().parse::<f64>().is_err()) {
            return Err(SqsError::invalid_parameter(format!(
                "Can't cast the value of message (user) attribute '{name}' to a number."
            )));
        }
        size += name.len()
            + v.data_type.len()
            + v.string.as_ref().map_or(0, String::len)
            + v.binary.as_ref().map_or(0, Vec::len);
    }
    Ok(size)
}

/// Whether a message attribute name matches a `MessageAttributeNames` entry (`All`,
/// `.*`, a name, or a `prefix.*`).
fn attribute_wanted(name: &str, wanted: &[String]) -> bool {
    wanted.iter().any(|w| {
        w == "All" || w == "*" || w == ".*" || w == name || w.strip_suffix(".*").is_some_and(|p| name.starts_with(p))
    })
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
        self.inner.queues.read().unwrap_or_else(|p| p.into_inner()).get(&key).cloned().ok_or_else(SqsError::no_queue)
    }

    /// The queue a `QueueUrl` names, which must be the caller's: queue policies, which
    /// could grant another account, are not modelled.
    /// The queue a URL names, if `caller` may perform `action` on it: any queue of its own
    /// account (unless the queue's policy denies it), another account's only as the
    /// queue's policy allows.
    fn by_url(&self, caller: &Caller, url: &str, action: &str) -> Result<Arc<Queue>, SqsError> {
        // A queue's bare name stands for its URL in the caller's account, as on AWS.
        let bare = (!url.is_empty() && !url.contains(['/', ':'])).then(|| (caller.account.clone(), url.to_owned()));
        let (account, name) = bare.or_else(|| parse_queue_url(url)).ok_or_else(SqsError::no_queue)?;
        let denied = || SqsError {
            status: 403,
            ..SqsError::new("AccessDenied", "AccessDenied", format!("Access to the resource {url} is denied."))
        };
        let found = self.queue(caller, &account, &name);
        if account != caller.account {
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
        let policy = q.settings.read().unwrap_or_else(|p| p.into_inner()).policy.clone();
        let r = q.record.lock().unwrap_or_else(|p| p.into_inner());
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
        self.inner.queues.read().unwrap_or_else(|p| p.into_inner()).get(&key).cloned()
    }

    /// CreateQueue: returns the queue's `(account, name)`. Creating an existing queue
    /// with the same attributes answers it again; with other attributes it fails.
    pub fn create_queue(
        &self,
        caller: &Caller,
        name: &str,
        attrs: BTreeMap<String, String>,
        tags: BTreeMap<String, String>,
    ) -> Result<QueueId, SqsError> {
        attributes::check(&attrs)?;
        let attrs = attributes::normalised(attrs);
        let fifo = attrs.get("FifoQueue").is_some_and(|v| v == "true");
        if !fifo {
            attributes::standard_only(&attrs)?;
        }
        check_name(name, fifo)?;
        let settings = Settings::from_attributes(&attrs);
        self.check_redrive(&settings, fifo)?;
        let _guard = self.inner.writes.lock().unwrap_or_else(|p| p.into_inner());
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
            return Ok((caller.account.clone(), name.to_owned()));
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
        self.inner.queues.write().unwrap_or_else(|p| p.into_inner()).insert(key, Arc::new(new_queue(record, settings)));
        Ok((caller.account.clone(), name.to_owned()))
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
    pub fn get_queue_url(
        &self,
        caller: &Caller,
        name: &str,
        owner: Option<&str>,
    ) -> Result<(String, String), SqsError> {
        let account = owner.unwrap_or(&caller.account);
        let q = self.queue(caller, account, name)?;
        // Another account's queue is found only when its policy lets the caller.
        if !self.permits(&q, &Requester::Account(&caller.account), "sqs:GetQueueUrl") {
            return Err(SqsError::no_queue());
        }
        Ok((account.to_owned(), name.to_owned()))
    }

    /// ListQueues: names with the prefix, in name order, paginated by `next_token` (the
    /// last name of the previous page).
    pub fn list_queues(
        &self,
        caller: &Caller,
        prefix: Option<&str>,
        max: Option<i64>,
        next_token: Option<&str>,
    ) -> Result<(Vec<QueueId>, Option<String>), SqsError> {
        if let Some(m) = max {
            if !(1..=1000).contains(&m) {
                return Err(SqsError::invalid_parameter("Value for parameter MaxResults is invalid. Reason: MaxResults must be an integer between 1 and 1000."));
            }
        }
        let mut names: Vec<String> = self
            .inner
            .queues
            .read()
            .unwrap_or_else(|p| p.into_inner())
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
        Ok((names.into_iter().map(|n| (caller.account.clone(), n)).collect(), next))
    }

    /// DeleteQueue, with its messages.
    pub fn delete_queue(&self, caller: &Caller, url: &str) -> Result<(), SqsError> {
        let _guard = self.inner.writes.lock().unwrap_or_else(|p| p.into_inner());
        let q = self.by_url(caller, url, "sqs:DeleteQueue")?;
        let record = q.record.lock().unwrap_or_else(|p| p.into_inner()).clone();
        self.inner.store.delete_queue(&record)?;
        let key = QueueKey { account: record.account, region: record.region, name: record.name };
        self.inner.queues.write().unwrap_or_else(|p| p.into_inner()).remove(&key);
        q.arrivals.notify_waiters();
        Ok(())
    }

    /// PurgeQueue; once a minute at most, as on AWS.
    pub fn purge_queue(&self, caller: &Caller, url: &str) -> Result<(), SqsError> {
        let q = self.by_url(caller, url, "sqs:PurgeQueue")?;
        let now = self.now();
        {
            let mut last = q.last_purge_ms.lock().unwrap_or_else(|p| p.into_inner());
            if *last != 0 && now - *last < 60_000 {
                let record = q.record.lock().unwrap_or_else(|p| p.into_inner());
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
        url: &str,
        names: &[String],
    ) -> Result<BTreeMap<String, String>, SqsError> {
        let q = self.by_url(caller, url, "sqs:GetQueueAttributes")?;
        for n in names {
            if n != "All" && !attributes::readable(n) {
                return Err(SqsError::invalid_attribute_name(format!("Unknown Attribute {n}.")));
            }
        }
        let record = q.record.lock().unwrap_or_else(|p| p.into_inner()).clone();
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
        url: &str,
        changes: BTreeMap<String, String>,
    ) -> Result<(), SqsError> {
        attributes::check(&changes)?;
        let changes = attributes::normalised(changes);
        let _guard = self.inner.writes.lock().unwrap_or_else(|p| p.into_inner());
        let q = self.by_url(caller, url, "sqs:SetQueueAttributes")?;
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
            let mut record = q.record.lock().unwrap_or_else(|p| p.into_inner());
            record.attributes = serde_json::to_string(attrs).unwrap_or_default();
            record.modified_ms = self.now();
            record.clone()
        };
        self.inner.store.update_queue(&record)?;
        *q.settings.write().unwrap_or_else(|p| p.into_inner()) = settings;
        Ok(())
    }

    /// AddPermission: a labelled statement of the queue's policy letting the accounts
    /// named perform the actions named.
    pub fn add_permission(
        &self,
        caller: &Caller,
        url: &str,
        label: &str,
        accounts: &[String],
        actions: &[String],
    ) -> Result<(), SqsError> {
        self.change_policy(caller, url, "sqs:AddPermission", |policy, arn| {
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
    pub fn remove_permission(&self, caller: &Caller, url: &str, label: &str) -> Result<(), SqsError> {
        self.change_policy(caller, url, "sqs:RemovePermission", |policy, _| {
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
        url: &str,
        action: &str,
        change: impl FnOnce(&mut serde_json::Value, &str) -> Result<(), SqsError>,
    ) -> Result<(), SqsError> {
        let _guard = self.inner.writes.lock().unwrap_or_else(|p| p.into_inner());
        let q = self.by_url(caller, url, action)?;
        let mut attrs = q.attributes();
        let record = q.record.lock().unwrap_or_else(|p| p.into_inner()).clone();
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
        url: &str,
        add: BTreeMap<String, String>,
        remove: &[String],
    ) -> Result<BTreeMap<String, String>, SqsError> {
        let _guard = self.inner.writes.lock().unwrap_or_else(|p| p.into_inner());
        let q = self.by_url(caller, url, tag_action(&add, remove))?;
        let mut record = q.record.lock().unwrap_or_else(|p| p.into_inner());
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

    /// SendMessage.
    pub fn send(&self, caller: &Caller, url: &str, input: SendInput) -> Result<Sent, SqsError> {
        let q = self.by_url(caller, url, "sqs:SendMessage")?;
        let mut sent = self.send_all(caller, &q, vec![input])?;
        sent.pop().expect("one message, one result")
    }

    /// SendMessageBatch: per entry, its result or its error.
    pub fn send_batch(
        &self,
        caller: &Caller,
        url: &str,
        entries: Vec<SendInput>,
    ) -> Result<Vec<Result<Sent, SqsError>>, SqsError> {
        let q = self.by_url(caller, url, "sqs:SendMessage")?;
        let total: usize = entries
            .iter()
            .map(|e| {
                e.body.len()
                    + e.attributes
                        .iter()
                        .map(|(k, v)| {
                            k.len()
                                + v.data_type.len()
                                + v.string.as_ref().map_or(0, String::len)
                                + v.binary.as_ref().map_or(0, Vec::len)
                        })
                        .sum::<usize>()
            })
            .sum();
        if total as i64 > attributes::MESSAGE_MAX_BYTES {
            return Err(SqsError::batch(
                "BatchRequestTooLong",
                format!(
                    "Batch requests cannot be longer than {} bytes. You have sent {total} bytes.",
                    attributes::MESSAGE_MAX_BYTES
                ),
            ));
        }
        // A FIFO queue refuses the whole batch for an entry without its group or
        // deduplication id.
        let settings = q.settings();
        if settings.fifo {
            if entries.iter().any(|e| e.group_id.is_none()) {
                return Err(SqsError::invalid_parameter("The request must contain the parameter MessageGroupId."));
            }
            if !settings.content_dedup && entries.iter().any(|e| e.dedup_id.is_none()) {
                return Err(SqsError::invalid_parameter(
                    "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly",
                ));
            }
        }
        // A batch entry too large is worded as one that "cannot be validated".
        let mut results = self.send_all(caller, &q, entries)?;
        for e in results.iter_mut().filter_map(|r| r.as_mut().err()) {
            if let Some(reason) = e.message.strip_prefix("One or more parameters are invalid. Reason: Message must be")
            {
                e.message = format!("One or more parameters cannot be validated. Reason: Message must be{reason}");
            }
        }
        Ok(results)
    }

    /// Sends a message, on `who`'s behalf, to the queue an ARN names (Lambda destinations
    /// and dead-letter queues, SNS deliveries) if the queue's policy lets `who` send;
    /// `Ok(false)` if there is no such queue.
    pub fn send_to_arn(&self, arn: &str, who: &Requester<'_>, input: SendInput) -> Result<bool, SqsError> {
        let Some(q) = self.by_arn(arn) else { return Ok(false) };
        if !self.permits(&q, who, "sqs:SendMessage") {
            return Err(SqsError {
                status: 403,
                ..SqsError::new("AccessDenied", "AccessDenied", format!("Access to the resource {arn} is denied."))
            });
        }
        let record = q.record.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let caller = Caller { account: record.account, region: record.region };
        self.send_all(&caller, &q, vec![input])?.pop().expect("one message, one result")?;
        Ok(true)
    }

    fn check_send(&self, q: &Queue, input: &SendInput, settings: &Settings) -> Result<(), SqsError> {
        if input.body.is_empty() {
            return Err(SqsError::missing("MessageBody"));
        }
        if !input.body.chars().all(valid_char) {
            return Err(SqsError::new("InvalidMessageContents", "InvalidMessageContents", INVALID_CHARACTERS));
        }
        let size = input.body.len() + check_message_attributes(&input.attributes)?;
        if size as i64 > settings.max_size {
            return Err(SqsError::invalid_parameter(format!(
                "One or more parameters are invalid. Reason: Message must be shorter than {} bytes.",
                settings.max_size
            )));
        }
        if let Some(d) = input.delay_s {
            if !(0..=900).contains(&d) {
                return Err(SqsError::invalid_parameter(format!(
                    "Value {d} for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900."
                )));
            }
            // A FIFO queue delays whole queues only: a message's own delay may be 0.
            if settings.fifo && d != 0 {
                return Err(SqsError::invalid_parameter(format!(
                    "Value {d} for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type."
                )));
            }
        }
        let _ = q;
        for (name, value) in [("MessageGroupId", &input.group_id), ("MessageDeduplicationId", &input.dedup_id)] {
            if let Some(v) = value.as_deref() {
                if !(1..=128).contains(&v.len()) || !v.chars().all(|c| c.is_ascii_graphic()) {
                    return Err(SqsError::invalid_parameter(format!(
                        "Value {v} for parameter {name} is invalid. Reason: {name} can only include alphanumeric and punctuation characters. 1 to 128 in length."
                    )));
                }
            }
        }
        if settings.fifo {
            if input.group_id.is_none() {
                return Err(SqsError::missing("MessageGroupId"));
            }
            if input.dedup_id.is_none() && !settings.content_dedup {
                return Err(SqsError::invalid_parameter(
                    "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly",
                ));
            }
        } else if input.dedup_id.is_some() {
            return Err(SqsError::invalid_parameter(
                "The request include parameter that is not valid for this queue type",
            ));
        }
        Ok(())
    }

    fn send_all(
        &self,
        caller: &Caller,
        q: &Queue,
        inputs: Vec<SendInput>,
    ) -> Result<Vec<Result<Sent, SqsError>>, SqsError> {
        let settings = q.settings();
        let key = q.key();
        let now = self.now();
        let mut results: Vec<Option<Result<Sent, SqsError>>> = Vec::with_capacity(inputs.len());
        let mut fresh: Vec<(usize, StoredMessage, Sent)> = Vec::new();
        for input in inputs {
            if let Err(e) = self.check_send(q, &input, &settings) {
                results.push(Some(Err(e)));
                continue;
            }
            let md5_body = digest::body(&input.body);
            let dedup_id = match (&input.dedup_id, settings.fifo) {
                (Some(d), true) => Some(d.clone()),
                (None, true) => {
                    use sha2::Digest;
                    Some(sha2::Sha256::digest(input.body.as_bytes()).iter().map(|b| format!("{b:02x}")).collect())
                }
                _ => None,
            };
            let id = uuid::Uuid::new_v4().to_string();
            let mut system = BTreeMap::new();
            system.insert("SenderId".to_owned(), caller.account.clone());
            for (k, v) in &input.system {
                if let Some(s) = &v.string {
                    system.insert(k.clone(), s.clone());
                }
            }
            // A FIFO queue's delay is the queue's, whatever a message says (it may say 0).
            let delay = if settings.fifo { settings.delay_s } else { input.delay_s.unwrap_or(settings.delay_s) };
            let stored = StoredMessage {
                seq: 0,
                id: id.clone(),
                body: input.body.clone(),
                attributes: attributes_json(&input.attributes),
                system: serde_json::to_string(&system).unwrap_or_default(),
                sent_ms: now,
                visible_ms: now + delay * 1000,
                receive_count: 0,
                first_receive_ms: 0,
                receipt: None,
                group_id: input.group_id.clone(),
                dedup_id: dedup_id.clone(),
            };
            let sent = Sent {
                id,
                md5_body,
                md5_attributes: digest::attributes(&input.attributes),
                md5_system: digest::attributes(&input.system),
                sequence: None,
            };
            let index = results.len();
            results.push(None);
            fresh.push((index, stored, sent));
        }
        if !fresh.is_empty() {
            let messages: Vec<StoredMessage> = fresh.iter().map(|(_, m, _)| m.clone()).collect();
            // The deduplication check and record are the store's, in the transaction that
            // stores the messages: concurrent retries and crashes cannot let a duplicate in.
            let window = settings.fifo.then_some(DedupWindow {
                now_ms: now,
                expires_ms: now + DEDUP_WINDOW_MS,
                per_group: q.attributes().get("DeduplicationScope").is_some_and(|s| s == "messageGroup"),
            });
            let added = self.inner.store.add_messages(&key, &messages, window)?;
            for ((index, _, mut sent), added) in fresh.into_iter().zip(added) {
                let seq = match added {
                    Added::New(seq) => seq,
                    Added::Duplicate(id, seq) => {
                        sent.id = id;
                        seq
                    }
                };
                if settings.fifo {
                    sent.sequence = Some(sequence_number(seq));
                }
                results[index] = Some(Ok(sent));
            }
            q.arrivals.notify_waiters();
        }
        Ok(results.into_iter().map(|r| r.expect("every entry answered")).collect())
    }

    /// ReceiveMessage, long-polling up to the wait time when nothing is there.
    pub async fn receive(&self, caller: &Caller, url: &str, input: ReceiveInput) -> Result<Vec<Message>, SqsError> {
        let q = self.by_url(caller, url, "sqs:ReceiveMessage")?;
        let max = input.max.unwrap_or(1);
        if !(1..=10).contains(&max) {
            return Err(SqsError::invalid_parameter(format!(
                "Value {max} for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided."
            )));
        }
        if let Some(w) = input.wait_s {
            if !(0..=20).contains(&w) {
                return Err(SqsError::invalid_parameter(format!(
                    "Value {w} for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided."
                )));
            }
        }
        if let Some(v) = input.visibility_s {
            if !(0..=43_200).contains(&v) {
                return Err(SqsError::invalid_parameter(format!(
                    "Value {v} for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and <= 43200, if provided."
                )));
            }
        }
        let wait = Duration::from_secs(input.wait_s.unwrap_or(q.settings().wait_s) as u64);
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            // Register for arrivals before looking, so none is missed in between.
            let arrived = q.arrivals.notified();
            tokio::pin!(arrived);
            arrived.as_mut().enable();
            let got = self.take(caller, &q, max as usize, &input).await?;
            if !got.is_empty() || tokio::time::Instant::now() >= deadline {
                return Ok(got);
            }
            // A delayed or in-flight message may become visible before anything arrives.
            let next = self.next_visible(&q)?.map_or(deadline, |at| at.min(deadline));
            tokio::select! {
                _ = &mut arrived => {}
                _ = tokio::time::sleep_until(next) => {}
            }
        }
    }

    /// When the next delayed or in-flight message of the queue becomes visible.
    fn next_visible(&self, q: &Queue) -> Result<Option<tokio::time::Instant>, SqsError> {
        let now = self.now();
        let at = self.inner.store.next_visible(&q.key(), now)?;
        Ok(at.map(|at| tokio::time::Instant::now() + Duration::from_millis((at - now).max(0) as u64)))
    }

    async fn take(
        &self,
        caller: &Caller,
        q: &Queue,
        max: usize,
        input: &ReceiveInput,
    ) -> Result<Vec<Message>, SqsError> {
        let _busy = q.busy.lock().await;
        let settings = q.settings();
        let key = q.key();
        let now = self.now();
        let expire = {
            let mut last = q.last_expiry_ms.lock().unwrap_or_else(|p| p.into_inner());
            let due = now - *last >= EXPIRY_EVERY_MS;
            if due {
                *last = now;
            }
            due
        };
        if expire {
            self.inner.store.expire(&key, now - settings.retention_s * 1000)?;
        }
        let mut candidates = self.inner.store.visible_messages(&key, now, max * 4 + 10, settings.fifo)?;
        if settings.fifo {
            group_together(&mut candidates);
        }
        // A FIFO group waits while an older message of it is in flight; a message that
        // became visible again ahead of the others in flight is handed out.
        let blocked: HashMap<String, i64> = if settings.fifo {
            self.inner.store.groups_in_flight(&key, now)?.into_iter().collect()
        } else {
            HashMap::new()
        };
        let dead_letter =
            settings.redrive.as_ref().and_then(|r| self.by_arn(&r.dead_letter_arn).map(|d| (r.max_receive_count, d)));
        let mut to_dlq = Vec::new();
        let mut chosen = Vec::new();
        for m in candidates {
            if chosen.len() >= max {
                break;
            }
            if let Some((limit, _)) = &dead_letter {
                if m.receive_count >= *limit {
                    to_dlq.push(m.seq);
                    continue;
                }
            }
            if m.group_id.as_ref().and_then(|g| blocked.get(g)).is_some_and(|oldest| *oldest < m.seq) {
                continue;
            }
            chosen.push(m);
        }
        if let Some((_, dlq)) = &dead_letter {
            if !to_dlq.is_empty() {
                let source = {
                    let record = q.record.lock().unwrap_or_else(|p| p.into_inner());
                    queue_arn(&record.region, &record.account, &record.name)
                };
                self.inner.store.move_messages(&to_dlq, &dlq.key(), now, &source)?;
                dlq.arrivals.notify_waiters();
            }
        }
        let visibility = input.visibility_s.unwrap_or(settings.visibility_s);
        let received: Vec<Received> = chosen
            .iter()
            .map(|m| Received {
                seq: m.seq,
                receipt: receipt_for(&key, &m.id),
                visible_ms: now + visibility * 1000,
                receive_count: m.receive_count + 1,
                first_receive_ms: if m.first_receive_ms == 0 { now } else { m.first_receive_ms },
            })
            .collect();
        self.inner.store.mark_received(&received)?;
        let _ = caller;
        Ok(chosen.into_iter().zip(received).map(|(m, r)| message_out(m, r, input, settings.fifo)).collect())
    }

    /// DeleteMessage. A receipt handle of a message already deleted is accepted, as on AWS.
    pub fn delete(&self, caller: &Caller, url: &str, receipt: &str) -> Result<(), SqsError> {
        let q = self.by_url(caller, url, "sqs:DeleteMessage")?;
        self.delete_in(&q, receipt)
    }

    fn delete_in(&self, q: &Queue, receipt: &str) -> Result<(), SqsError> {
        if !receipt_is_well_formed(receipt) {
            return Err(SqsError::receipt_invalid(receipt));
        }
        if let Some(m) = self.inner.store.message_by_receipt(&q.key(), receipt)? {
            // A FIFO queue's receipt dies with its visibility timeout: the group may be
            // handed out again.
            if q.settings().fifo && m.visible_ms <= self.now() {
                return Err(SqsError::invalid_parameter(format!(
                    "Value {receipt} for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired."
                )));
            }
            self.inner.store.delete_messages(&[m.seq])?;
            // Deleting a FIFO queue's in-flight message frees its group: a long poll
            // waiting on the group's next message gets it now.
            if q.settings().fifo {
                q.arrivals.notify_waiters();
            }
        }
        Ok(())
    }

    /// DeleteMessageBatch: per entry, ok or its error.
    pub fn delete_batch(
        &self,
        caller: &Caller,
        url: &str,
        receipts: &[String],
    ) -> Result<Vec<Result<(), SqsError>>, SqsError> {
        let q = self.by_url(caller, url, "sqs:DeleteMessage")?;
        Ok(receipts.iter().map(|r| self.delete_in(&q, r)).collect())
    }

    /// ChangeMessageVisibility.
    pub fn change_visibility(&self, caller: &Caller, url: &str, receipt: &str, timeout_s: i64) -> Result<(), SqsError> {
        let q = self.by_url(caller, url, "sqs:ChangeMessageVisibility")?;
        self.change_visibility_in(&q, receipt, timeout_s)
    }

    fn change_visibility_in(&self, q: &Queue, receipt: &str, timeout_s: i64) -> Result<(), SqsError> {
        if !(0..=43_200).contains(&timeout_s) {
            return Err(SqsError::invalid_parameter(format!(
                "Value {timeout_s} for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and <= 43200, if provided."
            )));
        }
        if !receipt_is_well_formed(receipt) {
            return Err(SqsError::receipt_invalid(receipt));
        }
        let now = self.now();
        // An earlier receipt of a message received again still names it, and a message
        // whose visibility timeout has run out may be hidden again, as on AWS.
        let m = match self.inner.store.message_by_receipt(&q.key(), receipt)? {
            Some(m) => Some(m),
            None => match receipt_message_id(receipt) {
                Some(id) => self.inner.store.message_by_id(&q.key(), &id)?,
                None => None,
            },
        };
        match m {
            Some(m) if m.receipt.is_some() => {
                self.inner.store.set_visible(&[(m.seq, now + timeout_s * 1000)])?;
                if timeout_s == 0 {
                    q.arrivals.notify_waiters();
                }
                Ok(())
            }
            _ => Err(SqsError::invalid_parameter(format!(
                "Value {receipt} for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change."
            ))),
        }
    }

    /// ChangeMessageVisibilityBatch: per entry, ok or its error.
    pub fn change_visibility_batch(
        &self,
        caller: &Caller,
        url: &str,
        entries: &[(String, i64)],
    ) -> Result<Vec<Result<(), SqsError>>, SqsError> {
        let q = self.by_url(caller, url, "sqs:ChangeMessageVisibility")?;
        Ok(entries.iter().map(|(r, t)| self.change_visibility_in(&q, r, *t)).collect())
    }

    /// ListDeadLetterSourceQueues: queues whose redrive policy targets this one.
    pub fn dead_letter_sources(&self, caller: &Caller, url: &str) -> Result<Vec<(String, String)>, SqsError> {
        let q = self.by_url(caller, url, "sqs:ListDeadLetterSourceQueues")?;
        let record = q.record.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let arn = queue_arn(&record.region, &record.account, &record.name);
        let queues = self.inner.queues.read().unwrap_or_else(|p| p.into_inner());
        let mut out: Vec<(String, String)> = queues
            .iter()
            .filter(|(_, other)| other.settings().redrive.is_some_and(|r| r.dead_letter_arn == arn))
            .map(|(k, _)| (k.account.clone(), k.name.clone()))
            .collect();
        out.sort();
        Ok(out)
    }

    /// Moves the clock forward (tests of visibility and retention), waking receivers.
    pub fn advance_clock(&self, by: Duration) {
        self.inner.clock.advance(by);
        for q in self.inner.queues.read().unwrap_or_else(|p| p.into_inner()).values() {
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

fn message_out(m: StoredMessage, r: Received, input: &ReceiveInput, fifo: bool) -> Message {
    let system: BTreeMap<String, String> = serde_json::from_str(&m.system).unwrap_or_default();
    let mut all = BTreeMap::new();
    all.insert("SenderId".to_owned(), system.get("SenderId").cloned().unwrap_or_default());
    all.insert("SentTimestamp".to_owned(), m.sent_ms.to_string());
    all.insert("ApproximateReceiveCount".to_owned(), r.receive_count.to_string());
    all.insert("ApproximateFirstReceiveTimestamp".to_owned(), r.first_receive_ms.to_string());
    for name in ["AWSTraceHeader", "DeadLetterQueueSourceArn"] {
        if let Some(value) = system.get(name) {
            all.insert(name.to_owned(), value.clone());
        }
    }
    // Standard queues keep a message's group too (fair queues), and show it.
    if let Some(g) = &m.group_id {
        all.insert("MessageGroupId".to_owned(), g.clone());
    }
    if fifo {
        all.insert("SequenceNumber".to_owned(), sequence_number(m.seq));
        if let Some(d) = &m.dedup_id {
            all.insert("MessageDeduplicationId".to_owned(), d.clone());
        }
    }
    let everything = input.attribute_names.iter().any(|n| n == "All");
    let attributes = all.into_iter().filter(|(k, _)| everything || input.attribute_names.contains(k)).collect();
    let message_attributes: BTreeMap<String, AttributeValue> = parse_attributes(&m.attributes)
        .into_iter()
        .filter(|(k, _)| attribute_wanted(k, &input.message_attribute_names))
        .collect();
    Message {
        id: m.id,
        receipt: r.receipt,
        md5_body: digest::body(&m.body),
        body: m.body,
        attributes,
        md5_attributes: digest::attributes(&message_attributes),
        message_attributes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_urls_and_batch_ids() {
        assert_eq!(
            parse_queue_url("http://localhost:4566/000000000000/jobs"),
            Some(("000000000000".into(), "jobs".into()))
        );
        assert_eq!(parse_queue_url("http://sqs.us-east-1.localhost/000000000000/j.fifo").unwrap().1, "j.fifo");
        assert_eq!(parse_queue_url("jobs"), None);
        assert!(SqsService::check_batch_ids(&["a", "b"]).is_ok());
        assert_eq!(SqsService::check_batch_ids(&["a", "a"]).unwrap_err().code, "BatchEntryIdsNotDistinct");
        assert_eq!(SqsService::check_batch_ids(&[]).unwrap_err().code, "EmptyBatchRequest");
        assert!(attribute_wanted("trace.id", &["trace.*".to_owned()]));
        assert!(!attribute_wanted("other", &["trace.*".to_owned()]));
    }
}
