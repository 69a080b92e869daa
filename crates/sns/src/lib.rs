//! Lamina's SNS: topics and subscriptions, durable in the store, and the fan-out of
//! every published message.
//!
//! [`SnsService`] delivers each message to the topic's confirmed subscriptions whose
//! filter policy admits it (`filter.rs`):
//! - `sqs`: a message committed to the queue before Publish answers (the JSON
//!   notification, or with `RawMessageDelivery` the message itself with its attributes);
//! - `lambda`: an asynchronous invocation, accepted durably before Publish answers, with
//!   AWS's `Records[].Sns` event;
//! - `http` and `https`: a POST of the JSON notification from a durable outbox (committed
//!   before Publish answers), retried three times 20 s apart as SNS's default HTTP policy
//!   does; `https` endpoints must present a certificate the system trusts.
//!   Subscribing sends a `SubscriptionConfirmation` first; the subscriber confirms.
//!
//! It knows nothing of the query protocol; `aws-api` speaks it.
#![deny(missing_docs)]

pub mod filter;

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use iam::resource_policy::{Requester, ResourcePolicy};
use serde_json::{json, Value};
use store::{HttpDelivery, StoreError, SubscriptionRecord, TopicRecord, TopicStore};

/// An SNS error: its code, HTTP status and message.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{code}: {message}")]
pub struct SnsError {
    /// The error code (`NotFound`, `InvalidParameter`, …).
    pub code: &'static str,
    /// The HTTP status.
    pub status: u16,
    /// The message.
    pub message: String,
}

impl SnsError {
    /// `NotFound`.
    pub fn not_found(message: impl Into<String>) -> Self {
        SnsError { code: "NotFound", status: 404, message: message.into() }
    }

    /// `InvalidParameter`.
    pub fn invalid(message: impl Into<String>) -> Self {
        SnsError { code: "InvalidParameter", status: 400, message: message.into() }
    }

    /// `AuthorizationError`: the topic's policy does not let `account` perform `action`.
    pub fn not_authorized(account: &str, action: &str, resource: &str) -> Self {
        SnsError {
            code: "AuthorizationError",
            status: 403,
            message: format!(
                "User: arn:aws:iam::{account}:root is not authorized to perform: {action} on resource: {resource}"
            ),
        }
    }

    fn internal(e: StoreError) -> Self {
        tracing::error!(error = %e, "sns store failure");
        SnsError { code: "InternalError", status: 500, message: "Internal error".into() }
    }
}

impl From<StoreError> for SnsError {
    fn from(e: StoreError) -> Self {
        SnsError::internal(e)
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

/// Starts asynchronous invocations of Lambda functions (the `lambda` protocol).
pub trait FunctionTarget: Send + Sync + 'static {
    /// Queues one `Event` invocation of the function `arn` for a message of the topic
    /// `topic_arn` (what a resource policy's `SourceArn` for `sns.amazonaws.com` names);
    /// resolves once it is accepted.
    fn invoke_event<'a>(
        &'a self,
        arn: &'a str,
        payload: String,
        topic_arn: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;
}

/// A message attribute of a published message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    /// `DataType`: `String`, `String.Array`, `Number` or `Binary`.
    pub data_type: String,
    /// The value (base64 for `Binary`).
    pub value: String,
}

/// A Publish request, or one entry of PublishBatch.
#[derive(Debug, Clone, Default)]
pub struct PublishInput {
    /// `Message`.
    pub message: String,
    /// `Subject`.
    pub subject: Option<String>,
    /// `MessageStructure`: `json` for a message per protocol.
    pub structure: Option<String>,
    /// `MessageAttributes`.
    pub attributes: BTreeMap<String, Attribute>,
    /// `MessageGroupId` (FIFO topics).
    pub group_id: Option<String>,
    /// `MessageDeduplicationId` (FIFO topics).
    pub dedup_id: Option<String>,
}

/// A subscription as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// `SubscriptionArn`, or `PendingConfirmation`.
    pub arn: String,
    /// `TopicArn`.
    pub topic_arn: String,
    /// `Protocol`.
    pub protocol: String,
    /// `Endpoint`.
    pub endpoint: String,
    /// `Owner`.
    pub owner: String,
    /// Its attributes.
    pub attributes: BTreeMap<String, String>,
    /// Whether it waits for confirmation.
    pub pending: bool,
}

/// SNS.
#[derive(Clone)]
pub struct SnsService {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn TopicStore>,
    topics: RwLock<BTreeMap<String, TopicRecord>>,
    subscriptions: RwLock<BTreeMap<String, SubscriptionRecord>>,
    sqs: sqs::SqsService,
    functions: Arc<dyn FunctionTarget>,
    /// The base URL subscribers reach Lamina by (for `UnsubscribeURL` and confirmations).
    base_url: String,
    /// Wakes the HTTP outbox's dispatcher.
    outbox: tokio::sync::Notify,
}

/// How long a claimed HTTP delivery is leased (a crash mid-delivery sends it again).
const DELIVERY_LEASE_MS: i64 = 60_000;
/// SNS's default HTTP retry policy: three retries, 20 s apart.
const HTTP_RETRIES: u32 = 3;
const HTTP_RETRY_DELAY_MS: i64 = 20_000;

const TOPIC_ATTRIBUTES: &[&str] = &[
    "DisplayName",
    "Policy",
    "DeliveryPolicy",
    "KmsMasterKeyId",
    "FifoTopic",
    "ContentBasedDeduplication",
    "SignatureVersion",
    "TracingConfig",
    "ArchivePolicy",
];
const SUBSCRIPTION_ATTRIBUTES: &[&str] = &[
    "RawMessageDelivery",
    "FilterPolicy",
    "FilterPolicyScope",
    "RedrivePolicy",
    "DeliveryPolicy",
    "SubscriptionRoleArn",
];

fn topic_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:sns:{region}:{account}:{name}")
}

fn json_map(text: &str) -> BTreeMap<String, String> {
    serde_json::from_str(text).unwrap_or_default()
}

fn to_json(map: &BTreeMap<String, String>) -> String {
    serde_json::to_string(map).unwrap_or_default()
}

fn timestamp() -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    time::OffsetDateTime::now_utc().format(&fmt).unwrap_or_default()
}

impl SnsService {
    /// Loads every topic and subscription.
    pub fn start(
        store: Arc<dyn TopicStore>,
        sqs: sqs::SqsService,
        functions: Arc<dyn FunctionTarget>,
        base_url: String,
    ) -> Result<Self, SnsError> {
        let topics = store.all_topics()?.into_iter().map(|t| (t.arn.clone(), t)).collect();
        let subscriptions = store.all_subscriptions()?.into_iter().map(|s| (s.arn.clone(), s)).collect();
        let inner = Arc::new(Inner {
            store,
            topics: RwLock::new(topics),
            subscriptions: RwLock::new(subscriptions),
            sqs,
            functions,
            base_url,
            outbox: tokio::sync::Notify::new(),
        });
        tokio::spawn(dispatch(inner.clone()));
        Ok(SnsService { inner })
    }

    /// Queues an HTTP delivery durably; the dispatcher sends it.
    fn queue_http(&self, url: &str, headers: &[(&str, String)], body: String) -> Result<(), SnsError> {
        let headers: serde_json::Map<String, Value> =
            headers.iter().map(|(k, v)| ((*k).to_owned(), json!(v))).collect();
        let delivery = HttpDelivery {
            id: 0,
            url: url.to_owned(),
            headers: Value::Object(headers).to_string(),
            body,
            attempts: 0,
            next_ms: model::clock::now_ms(),
        };
        self.inner.store.add_deliveries(&[delivery])?;
        self.inner.outbox.notify_one();
        Ok(())
    }

    fn topic(&self, caller: &Caller, arn: &str) -> Result<TopicRecord, SnsError> {
        let owned = arn.split(':').nth(4) == Some(caller.account.as_str());
        let topics = self.inner.topics.read().unwrap_or_else(|p| p.into_inner());
        topics.get(arn).filter(|_| owned).cloned().ok_or_else(|| SnsError::not_found("Topic does not exist"))
    }

    /// CreateTopic: idempotent for the same name and attributes.
    pub fn create_topic(
        &self,
        caller: &Caller,
        name: &str,
        attributes: BTreeMap<String, String>,
        tags: BTreeMap<String, String>,
    ) -> Result<String, SnsError> {
        let fifo = attributes.get("FifoTopic").is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let base = name.strip_suffix(".fifo").unwrap_or(name);
        let valid = !base.is_empty()
            && name.len() <= 256
            && base.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            && fifo == name.ends_with(".fifo");
        if !valid {
            return Err(SnsError::invalid(if name.ends_with(".fifo") != fifo {
                "Invalid parameter: Fifo Topic names must end with .fifo and must be made up of only uppercase and lowercase ASCII letters, numbers, underscores, and hyphens, and must be between 1 and 256 characters long."
            } else {
                "Invalid parameter: Topic Name"
            }));
        }
        if let Some(bad) = attributes.keys().find(|k| !TOPIC_ATTRIBUTES.contains(&k.as_str())) {
            return Err(SnsError::invalid(format!("Invalid parameter: Attributes Reason: Unknown attribute {bad}")));
        }
        let arn = topic_arn(&caller.region, &caller.account, name);
        if let Ok(existing) = self.topic(caller, &arn) {
            let current = json_map(&existing.attributes);
            if attributes.iter().any(|(k, v)| current.get(k) != Some(v)) {
                return Err(SnsError::invalid(
                    "Invalid parameter: Attributes Reason: Topic already exists with different attributes",
                ));
            }
            return Ok(arn);
        }
        let record = TopicRecord { arn: arn.clone(), attributes: to_json(&attributes), tags: to_json(&tags) };
        self.inner.store.put_topic(&record)?;
        self.inner.topics.write().unwrap_or_else(|p| p.into_inner()).insert(arn.clone(), record);
        Ok(arn)
    }

    /// ListTopics, paginated by 100 as SNS does.
    pub fn list_topics(&self, caller: &Caller, next: Option<&str>) -> (Vec<String>, Option<String>) {
        let prefix = format!("arn:aws:sns:{}:{}:", caller.region, caller.account);
        let topics = self.inner.topics.read().unwrap_or_else(|p| p.into_inner());
        let all: Vec<String> =
            topics.keys().filter(|a| a.starts_with(&prefix) && next.is_none_or(|n| a.as_str() > n)).cloned().collect();
        let token = (all.len() > 100).then(|| all[99].clone());
        (all.into_iter().take(100).collect(), token)
    }

    /// DeleteTopic, with its subscriptions; deleting a missing topic is not an error.
    pub fn delete_topic(&self, caller: &Caller, arn: &str) -> Result<(), SnsError> {
        if self.topic(caller, arn).is_err() {
            return Ok(());
        }
        self.inner.store.delete_topic(arn)?;
        self.inner.topics.write().unwrap_or_else(|p| p.into_inner()).remove(arn);
        self.inner.subscriptions.write().unwrap_or_else(|p| p.into_inner()).retain(|_, s| s.topic_arn != arn);
        Ok(())
    }

    /// GetTopicAttributes, with the computed ones.
    pub fn topic_attributes(&self, caller: &Caller, arn: &str) -> Result<BTreeMap<String, String>, SnsError> {
        let t = self.topic(caller, arn)?;
        let subs = self.inner.subscriptions.read().unwrap_or_else(|p| p.into_inner());
        let (mut confirmed, mut pending) = (0, 0);
        for s in subs.values().filter(|s| s.topic_arn == arn) {
            if s.token.is_some() {
                pending += 1;
            } else {
                confirmed += 1;
            }
        }
        let mut out = json_map(&t.attributes);
        out.insert("TopicArn".into(), arn.to_owned());
        out.insert("Owner".into(), caller.account.clone());
        out.insert("SubscriptionsConfirmed".into(), confirmed.to_string());
        out.insert("SubscriptionsPending".into(), pending.to_string());
        out.insert("SubscriptionsDeleted".into(), "0".into());
        out.entry("DisplayName".into()).or_default();
        out.entry("EffectiveDeliveryPolicy".into()).or_insert_with(|| {
            r#"{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,"numRetries":3,"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},"disableSubscriptionOverrides":false}}"#.into()
        });
        out.entry("Policy".into()).or_insert_with(|| {
            json!({
                "Version": "2008-10-17", "Id": "__default_policy_ID",
                "Statement": [{"Sid": "__default_statement_ID", "Effect": "Allow", "Principal": {"AWS": "*"},
                               "Action": ["SNS:Publish", "SNS:Subscribe", "SNS:GetTopicAttributes"], "Resource": arn,
                               "Condition": {"StringEquals": {"AWS:SourceOwner": caller.account}}}]
            })
            .to_string()
        });
        Ok(out)
    }

    /// SetTopicAttributes.
    pub fn set_topic_attribute(&self, caller: &Caller, arn: &str, name: &str, value: &str) -> Result<(), SnsError> {
        let mut t = self.topic(caller, arn)?;
        if !TOPIC_ATTRIBUTES.contains(&name) || name == "FifoTopic" {
            return Err(SnsError::invalid("Invalid parameter: AttributeName"));
        }
        if name == "Policy" {
            ResourcePolicy::parse(value)
                .map_err(|e| SnsError::invalid(format!("Invalid parameter: Policy Error: {e}")))?;
        }
        let mut attrs = json_map(&t.attributes);
        attrs.insert(name.to_owned(), value.to_owned());
        t.attributes = to_json(&attrs);
        self.inner.store.put_topic(&t)?;
        self.inner.topics.write().unwrap_or_else(|p| p.into_inner()).insert(arn.to_owned(), t);
        Ok(())
    }

    /// Tags of a topic: TagResource, UntagResource, ListTagsForResource.
    pub fn tags(
        &self,
        caller: &Caller,
        arn: &str,
        add: BTreeMap<String, String>,
        remove: &[String],
    ) -> Result<BTreeMap<String, String>, SnsError> {
        let mut t = self.topic(caller, arn).map_err(|_| SnsError {
            code: "ResourceNotFound",
            status: 404,
            message: "Resource does not exist".into(),
        })?;
        let mut tags = json_map(&t.tags);
        if add.is_empty() && remove.is_empty() {
            return Ok(tags);
        }
        tags.extend(add);
        for k in remove {
            tags.remove(k);
        }
        t.tags = to_json(&tags);
        self.inner.store.put_topic(&t)?;
        self.inner.topics.write().unwrap_or_else(|p| p.into_inner()).insert(arn.to_owned(), t);
        Ok(tags)
    }

    /// Subscribe: `sqs` subscriptions of the caller's own queues and `lambda` ones are
    /// confirmed at once; `http(s)` ones, and another account's queue, get a
    /// `SubscriptionConfirmation` and wait.
    pub async fn subscribe(
        &self,
        caller: &Caller,
        topic: &str,
        protocol: &str,
        endpoint: &str,
        attributes: BTreeMap<String, String>,
    ) -> Result<Subscription, SnsError> {
        self.topic(caller, topic)?;
        let endpoint_ok = match protocol {
            "sqs" => endpoint.starts_with("arn:aws:sqs:"),
            "lambda" => endpoint.starts_with("arn:aws:lambda:"),
            "http" => endpoint.starts_with("http://"),
            "https" => endpoint.starts_with("https://"),
            _ => {
                return Err(SnsError::invalid(format!(
                    "Invalid parameter: Lamina delivers to sqs, lambda, http and https subscriptions, not {protocol}"
                )))
            }
        };
        if !endpoint_ok {
            return Err(SnsError::invalid(format!("Invalid parameter: {} Endpoint", protocol.to_uppercase())));
        }
        for (k, v) in &attributes {
            self.check_subscription_attribute(k, v)?;
        }
        let existing = self
            .inner
            .subscriptions
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .find(|s| s.topic_arn == topic && s.protocol == protocol && s.endpoint == endpoint)
            .cloned();
        if let Some(s) = existing {
            // A pending subscription is asked to confirm again.
            if s.token.is_some() {
                self.send_confirmation(&s)?;
            }
            return Ok(view(&s));
        }
        let http = protocol.starts_with("http");
        // A queue of another account is the queue owner's to confirm, as on AWS: SNS sends
        // it a SubscriptionConfirmation (if the queue's policy lets SNS send) and delivers
        // nothing until the owner confirms.
        let foreign_queue = protocol == "sqs" && endpoint.split(':').nth(4) != Some(caller.account.as_str());
        let record = SubscriptionRecord {
            arn: format!("{topic}:{}", uuid::Uuid::new_v4()),
            topic_arn: topic.to_owned(),
            protocol: protocol.to_owned(),
            endpoint: endpoint.to_owned(),
            owner: caller.account.clone(),
            attributes: to_json(&attributes),
            token: (http || foreign_queue).then(|| uuid::Uuid::new_v4().simple().to_string()),
        };
        self.inner.store.put_subscription(&record)?;
        self.inner.subscriptions.write().unwrap_or_else(|p| p.into_inner()).insert(record.arn.clone(), record.clone());
        if http || foreign_queue {
            self.send_confirmation(&record)?;
        }
        Ok(view(&record))
    }

    fn check_subscription_attribute(&self, name: &str, value: &str) -> Result<(), SnsError> {
        if !SUBSCRIPTION_ATTRIBUTES.contains(&name) {
            return Err(SnsError::invalid("Invalid parameter: AttributeName"));
        }
        match name {
            "FilterPolicy" => {
                filter::check(value).map_err(|e| SnsError::invalid(format!("Invalid parameter: {e}")))?;
            }
            "FilterPolicyScope" if value != "MessageAttributes" && value != "MessageBody" => {
                return Err(SnsError::invalid(format!(
                    "Invalid parameter: Attributes Reason: FilterPolicyScope: Invalid value [{value}]. Please use either MessageBody or MessageAttributes"
                )))
            }
            "RawMessageDelivery" if !value.eq_ignore_ascii_case("true") && !value.eq_ignore_ascii_case("false") => {
                return Err(SnsError::invalid("Invalid parameter: RawMessageDelivery"))
            }
            _ => {}
        }
        Ok(())
    }

    /// ConfirmSubscription.
    pub fn confirm(&self, topic: &str, token: &str) -> Result<String, SnsError> {
        let mut subs = self.inner.subscriptions.write().unwrap_or_else(|p| p.into_inner());
        let found = subs.values_mut().find(|s| s.topic_arn == topic && s.token.as_deref() == Some(token));
        let Some(s) = found else {
            return Err(SnsError::invalid("Invalid token"));
        };
        s.token = None;
        self.inner.store.put_subscription(s)?;
        Ok(s.arn.clone())
    }

    fn subscription(&self, arn: &str) -> Result<SubscriptionRecord, SnsError> {
        let subs = self.inner.subscriptions.read().unwrap_or_else(|p| p.into_inner());
        subs.get(arn).cloned().ok_or_else(|| SnsError::not_found("Subscription does not exist"))
    }

    /// Unsubscribe; a missing subscription is not an error.
    pub fn unsubscribe(&self, arn: &str) -> Result<(), SnsError> {
        self.inner.store.delete_subscription(arn)?;
        self.inner.subscriptions.write().unwrap_or_else(|p| p.into_inner()).remove(arn);
        Ok(())
    }

    /// GetSubscriptionAttributes.
    pub fn subscription_attributes(&self, arn: &str) -> Result<BTreeMap<String, String>, SnsError> {
        let s = self.subscription(arn)?;
        let mut out = json_map(&s.attributes);
        out.insert("SubscriptionArn".into(), s.arn.clone());
        out.insert("TopicArn".into(), s.topic_arn.clone());
        out.insert("Protocol".into(), s.protocol.clone());
        out.insert("Endpoint".into(), s.endpoint.clone());
        out.insert("Owner".into(), s.owner.clone());
        out.insert("PendingConfirmation".into(), s.token.is_some().to_string());
        out.insert("ConfirmationWasAuthenticated".into(), "true".into());
        out.entry("RawMessageDelivery".into()).or_insert_with(|| "false".into());
        Ok(out)
    }

    /// SetSubscriptionAttributes.
    pub fn set_subscription_attribute(&self, arn: &str, name: &str, value: &str) -> Result<(), SnsError> {
        self.check_subscription_attribute(name, value)?;
        let mut s = self.subscription(arn)?;
        let mut attrs = json_map(&s.attributes);
        attrs.insert(name.to_owned(), value.to_owned());
        s.attributes = to_json(&attrs);
        self.inner.store.put_subscription(&s)?;
        self.inner.subscriptions.write().unwrap_or_else(|p| p.into_inner()).insert(arn.to_owned(), s);
        Ok(())
    }

    /// ListSubscriptions (the caller's) or ListSubscriptionsByTopic.
    pub fn list_subscriptions(&self, caller: &Caller, topic: Option<&str>) -> Result<Vec<Subscription>, SnsError> {
        if let Some(t) = topic {
            self.topic(caller, t)?;
        }
        let subs = self.inner.subscriptions.read().unwrap_or_else(|p| p.into_inner());
        Ok(subs
            .values()
            .filter(|s| match topic {
                Some(t) => s.topic_arn == t,
                None => s.owner == caller.account,
            })
            .map(view)
            .collect())
    }

    /// Publish: returns the message id once every SQS and Lambda delivery is committed.
    pub async fn publish(
        &self,
        caller: &Caller,
        topic: &str,
        input: PublishInput,
    ) -> Result<(String, Option<String>), SnsError> {
        let t = self.topic(caller, topic)?;
        self.check_publish(&t, &input)?;
        let id = uuid::Uuid::new_v4().to_string();
        let fifo = topic.ends_with(".fifo");
        let subs: Vec<SubscriptionRecord> = self
            .inner
            .subscriptions
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .filter(|s| s.topic_arn == topic && s.token.is_none())
            .cloned()
            .collect();
        for s in subs {
            if let Err(e) = self.deliver(&s, &id, &input).await {
                tracing::warn!(subscription = %s.arn, error = %e, "sns: delivery failed");
            }
        }
        let sequence = fifo.then(|| format!("{:020}", model::clock::now_ms()));
        Ok((id, sequence))
    }

    /// Publishes to a topic named by ARN for a function of account `sender` (Lambda
    /// destinations and dead-letter topics), if the topic's policy lets it; `Ok(false)` if
    /// there is no such topic.
    pub async fn publish_to_arn(&self, topic: &str, sender: &str, input: PublishInput) -> Result<bool, SnsError> {
        let parts: Vec<&str> = topic.split(':').collect();
        let (Some(region), Some(account)) = (parts.get(3), parts.get(4)) else { return Ok(false) };
        let caller = Caller { account: (*account).to_owned(), region: (*region).to_owned() };
        let Ok(t) = self.topic(&caller, topic) else { return Ok(false) };
        if !Self::topic_permits(&t, &Requester::Account(sender), "SNS:Publish") {
            return Err(SnsError::not_authorized(sender, "SNS:Publish", topic));
        }
        self.publish(&caller, topic, input).await.map(|_| true)
    }

    /// Whether a function of account `sender` may publish to the topic this ARN names;
    /// `None` if there is no such topic.
    pub fn permits(&self, topic: &str, sender: &str) -> Option<bool> {
        let t = self.inner.topics.read().unwrap_or_else(|p| p.into_inner()).get(topic).cloned()?;
        Some(Self::topic_permits(&t, &Requester::Account(sender), "SNS:Publish"))
    }

    /// The topic's policy decides for another account; with none set, only the owner.
    fn topic_permits(t: &TopicRecord, who: &Requester<'_>, action: &str) -> bool {
        let owner = t.arn.split(':').nth(4).unwrap_or_default();
        let policy = json_map(&t.attributes).get("Policy").and_then(|p| ResourcePolicy::parse(p).ok());
        iam::resource_policy::allows(policy.as_ref(), owner, &t.arn, who, action)
    }

    /// Whether a topic with this ARN exists.
    pub fn exists(&self, arn: &str) -> bool {
        self.inner.topics.read().unwrap_or_else(|p| p.into_inner()).contains_key(arn)
    }

    fn check_publish(&self, t: &TopicRecord, input: &PublishInput) -> Result<(), SnsError> {
        if input.message.is_empty() {
            return Err(SnsError::invalid("Invalid parameter: Empty message"));
        }
        if input.message.len() > 262_144 {
            return Err(SnsError::invalid("Invalid parameter: Message too long"));
        }
        if input.structure.as_deref() == Some("json") {
            let v: Value = serde_json::from_str(&input.message).map_err(|_| {
                SnsError::invalid("Invalid parameter: Message Structure - JSON message body failed to parse")
            })?;
            if v.get("default").is_none() {
                return Err(SnsError::invalid(
                    "Invalid parameter: Message Structure - No default entry in JSON message body",
                ));
            }
        }
        let fifo = t.arn.ends_with(".fifo");
        if fifo && input.group_id.is_none() {
            return Err(SnsError::invalid(
                "Invalid parameter: The MessageGroupId parameter is required for FIFO topics",
            ));
        }
        if !fifo && input.dedup_id.is_some() {
            return Err(SnsError::invalid(
                "Invalid parameter: MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that is not valid for this topic type",
            ));
        }
        Ok(())
    }

    /// The message a protocol receives: with `MessageStructure: json`, its own entry or
    /// `default`.
    fn message_for(input: &PublishInput, protocol: &str) -> String {
        if input.structure.as_deref() != Some("json") {
            return input.message.clone();
        }
        let v: Value = serde_json::from_str(&input.message).unwrap_or_default();
        v.get(protocol).or_else(|| v.get("default")).and_then(Value::as_str).unwrap_or_default().to_owned()
    }

    fn notification(&self, s: &SubscriptionRecord, id: &str, input: &PublishInput, message: &str) -> Value {
        let mut n = json!({
            "Type": "Notification",
            "MessageId": id,
            "TopicArn": s.topic_arn,
            "Message": message,
            "Timestamp": timestamp(),
            "SignatureVersion": "1",
            "Signature": "TGFtaW5hIGRvZXMgbm90IHNpZ24gU05TIG1lc3NhZ2Vz",
            "SigningCertURL": format!("{}/_lamina/sns/SimpleNotificationService.pem", self.inner.base_url),
            "UnsubscribeURL": format!("{}/?Action=Unsubscribe&SubscriptionArn={}", self.inner.base_url, s.arn),
        });
        if let Some(subject) = &input.subject {
            n["Subject"] = json!(subject);
        }
        if !input.attributes.is_empty() {
            let attrs: serde_json::Map<String, Value> = input
                .attributes
                .iter()
                .map(|(k, a)| (k.clone(), json!({ "Type": a.data_type, "Value": a.value })))
                .collect();
            n["MessageAttributes"] = Value::Object(attrs);
        }
        n
    }

    async fn deliver(&self, s: &SubscriptionRecord, id: &str, input: &PublishInput) -> Result<(), String> {
        let attrs = json_map(&s.attributes);
        let message = Self::message_for(input, &s.protocol);
        if let Some(policy) = attrs.get("FilterPolicy") {
            let policy: Value = serde_json::from_str(policy).unwrap_or(Value::Null);
            let list: Vec<(String, String, String)> =
                input.attributes.iter().map(|(k, a)| (k.clone(), a.data_type.clone(), a.value.clone())).collect();
            let body_scope = attrs.get("FilterPolicyScope").is_some_and(|v| v == "MessageBody");
            if !filter::admits(&policy, &filter::Subject { attributes: &list, body: &message }, body_scope) {
                return Ok(());
            }
        }
        let raw = attrs.get("RawMessageDelivery").is_some_and(|v| v.eq_ignore_ascii_case("true"));
        match s.protocol.as_str() {
            "sqs" => {
                let (body, attributes) = if raw {
                    let attributes = input
                        .attributes
                        .iter()
                        .map(|(k, a)| {
                            let value = if a.data_type.starts_with("Binary") {
                                use base64::Engine;
                                sqs::AttributeValue {
                                    data_type: a.data_type.clone(),
                                    string: None,
                                    binary: base64::engine::general_purpose::STANDARD.decode(&a.value).ok(),
                                }
                            } else {
                                sqs::AttributeValue {
                                    data_type: a.data_type.clone(),
                                    string: Some(a.value.clone()),
                                    binary: None,
                                }
                            };
                            (k.clone(), value)
                        })
                        .collect();
                    (message.clone(), attributes)
                } else {
                    (self.notification(s, id, input, &message).to_string(), BTreeMap::new())
                };
                let send = sqs::SendInput {
                    body,
                    attributes,
                    group_id: input.group_id.clone(),
                    dedup_id: input.dedup_id.clone().or_else(|| input.group_id.as_ref().map(|_| id.to_owned())),
                    ..Default::default()
                };
                // SNS sends for the topic; the queue's policy must let it, unless the
                // queue is the topic owner's own.
                match self.inner.sqs.send_to_arn(&s.endpoint, &for_topic(&s.topic_arn), send) {
                    Ok(true) => Ok(()),
                    Ok(false) => Err("the queue does not exist".into()),
                    Err(e) => Err(e.to_string()),
                }
            }
            "lambda" => {
                let mut sns = self.notification(s, id, input, &message);
                if let Some(o) = sns.as_object_mut() {
                    // The Lambda event spells these two as AWS does there.
                    if let Some(v) = o.remove("SigningCertURL") {
                        o.insert("SigningCertUrl".into(), v);
                    }
                    if let Some(v) = o.remove("UnsubscribeURL") {
                        o.insert("UnsubscribeUrl".into(), v);
                    }
                    o.entry("Subject").or_insert(Value::Null);
                    o.entry("MessageAttributes").or_insert_with(|| json!({}));
                }
                let event = json!({ "Records": [{
                    "EventSource": "aws:sns", "EventVersion": "1.0", "EventSubscriptionArn": s.arn, "Sns": sns,
                }]});
                self.inner.functions.invoke_event(&s.endpoint, event.to_string(), &s.topic_arn).await
            }
            _ => {
                let body = self.notification(s, id, input, &message).to_string();
                let headers = [
                    ("x-amz-sns-message-type", "Notification".to_owned()),
                    ("x-amz-sns-message-id", id.to_owned()),
                    ("x-amz-sns-topic-arn", s.topic_arn.clone()),
                    ("x-amz-sns-subscription-arn", s.arn.clone()),
                ];
                self.queue_http(&s.endpoint, &headers, if raw { message } else { body }).map_err(|e| e.to_string())
            }
        }
    }

    fn send_confirmation(&self, s: &SubscriptionRecord) -> Result<(), SnsError> {
        let token = s.token.clone().unwrap_or_default();
        let body = json!({
            "Type": "SubscriptionConfirmation",
            "MessageId": uuid::Uuid::new_v4().to_string(),
            "Token": token,
            "TopicArn": s.topic_arn,
            "Message": format!("You have chosen to subscribe to the topic {}.\nTo confirm the subscription, visit the SubscribeURL included in this message.", s.topic_arn),
            "SubscribeURL": format!("{}/?Action=ConfirmSubscription&TopicArn={}&Token={token}", self.inner.base_url, s.topic_arn),
            "Timestamp": timestamp(),
            "SignatureVersion": "1",
            "Signature": "TGFtaW5hIGRvZXMgbm90IHNpZ24gU05TIG1lc3NhZ2Vz",
            "SigningCertURL": format!("{}/_lamina/sns/SimpleNotificationService.pem", self.inner.base_url),
        });
        if s.protocol == "sqs" {
            let send = sqs::SendInput { body: body.to_string(), ..Default::default() };
            if let Err(e) = self.inner.sqs.send_to_arn(&s.endpoint, &for_topic(&s.topic_arn), send) {
                tracing::warn!(subscription = %s.arn, error = %e, "sns: the confirmation did not reach the queue");
            }
            return Ok(());
        }
        let headers = [
            ("x-amz-sns-message-type", "SubscriptionConfirmation".to_owned()),
            ("x-amz-sns-topic-arn", s.topic_arn.clone()),
        ];
        self.queue_http(&s.endpoint, &headers, body.to_string())
    }
}

/// SNS acting for a topic: what a queue's policy is asked about SNS's deliveries.
fn for_topic(topic_arn: &str) -> Requester<'_> {
    let owner = topic_arn.split(':').nth(4).unwrap_or_default();
    Requester::Service { service: "sns.amazonaws.com", source_arn: topic_arn, source_account: owner }
}

fn view(s: &SubscriptionRecord) -> Subscription {
    Subscription {
        arn: if s.token.is_some() { "PendingConfirmation".into() } else { s.arn.clone() },
        topic_arn: s.topic_arn.clone(),
        protocol: s.protocol.clone(),
        endpoint: s.endpoint.clone(),
        owner: s.owner.clone(),
        attributes: json_map(&s.attributes),
        pending: s.token.is_some(),
    }
}

/// Sends the HTTP outbox's due deliveries, for as long as the service lives.
async fn dispatch(inner: Arc<Inner>) {
    loop {
        let now = model::clock::now_ms();
        match inner.store.claim_deliveries(now, now + DELIVERY_LEASE_MS, 32) {
            Ok(due) => {
                for d in due {
                    let inner = inner.clone();
                    tokio::spawn(async move { attempt(&inner, d).await });
                }
            }
            Err(e) => tracing::error!(error = %e, "sns: cannot read the http outbox"),
        }
        let wait = match inner.store.next_delivery_due() {
            Ok(Some(due)) => Duration::from_millis((due - model::clock::now_ms()).clamp(0, 60_000) as u64),
            _ => Duration::from_secs(60),
        };
        tokio::select! {
            _ = inner.outbox.notified() => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// One attempt at an HTTP delivery: removed when the endpoint takes it, retried on SNS's
/// schedule when it does not, abandoned (and logged) after the last retry.
async fn attempt(inner: &Inner, d: HttpDelivery) {
    let headers: BTreeMap<String, String> = serde_json::from_str(&d.headers).unwrap_or_default();
    let outcome = post(&d.url, &headers, d.body.clone()).await;
    let result = match outcome {
        Ok(status) if (200..300).contains(&status) => inner.store.remove_delivery(d.id),
        failed => {
            let why = match failed {
                Ok(status) => format!("status {status}"),
                Err(e) => e,
            };
            if d.attempts >= HTTP_RETRIES {
                tracing::warn!(url = %d.url, error = %why, "sns: http delivery abandoned after its retries");
                inner.store.remove_delivery(d.id)
            } else {
                tracing::debug!(url = %d.url, error = %why, "sns: http delivery failed; retrying");
                inner.store.retry_delivery(d.id, d.attempts + 1, model::clock::now_ms() + HTTP_RETRY_DELAY_MS)
            }
        }
    };
    if let Err(e) = result {
        tracing::error!(error = %e, "sns: cannot update the http outbox");
    }
    inner.outbox.notify_one();
}

type HttpClient = hyper_util::client::legacy::Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    http_body_util::Full<bytes::Bytes>,
>;

/// One client for every delivery: plain HTTP, and HTTPS verified against the system's
/// trusted certificates (`SSL_CERT_FILE` / `SSL_CERT_DIR` name others, as usual).
fn client() -> Result<&'static HttpClient, String> {
    static CLIENT: std::sync::OnceLock<Result<HttpClient, String>> = std::sync::OnceLock::new();
    CLIENT
        .get_or_init(|| {
            let connector = hyper_rustls::HttpsConnectorBuilder::new()
                .with_native_roots()
                .map_err(|e| format!("no trusted certificates for https deliveries: {e}"))?
                .https_or_http()
                .enable_http1()
                .build();
            Ok(hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build(connector))
        })
        .as_ref()
        .map_err(Clone::clone)
}

async fn post(url: &str, headers: &BTreeMap<String, String>, body: String) -> Result<u16, String> {
    use http_body_util::Full;
    let uri: hyper::Uri = url.parse().map_err(|e| format!("{e}"))?;
    let mut req = hyper::Request::post(uri).header("content-type", "text/plain; charset=UTF-8");
    for (k, v) in headers {
        req = req.header(k.as_str(), v);
    }
    let req = req.body(Full::new(bytes::Bytes::from(body))).map_err(|e| e.to_string())?;
    let resp = tokio::time::timeout(Duration::from_secs(15), client()?.request(req))
        .await
        .map_err(|_| "timed out".to_owned())?
        .map_err(|e| format!("{e:?}"))?;
    Ok(resp.status().as_u16())
}
