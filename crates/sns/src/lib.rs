//! Lamina's SNS: topics and subscriptions, durable in the store, and the fan-out of
//! every published message.
//!
//! [`SnsService`] delivers each message to the topic's confirmed subscriptions whose
//! filter policy admits it (`filter.rs`), from `delivery.rs`:
//! - `sqs`: a message committed to the queue before Publish answers (the JSON
//!   notification, or with `RawMessageDelivery` the message itself with its attributes);
//! - `lambda`: an asynchronous invocation, accepted durably before Publish answers, with
//!   AWS's `Records[].Sns` event;
//! - `http` and `https`: a POST of the JSON notification from a durable outbox (committed
//!   before Publish answers), retried three times 20 s apart as SNS's default HTTP policy
//!   does; `https` endpoints must present a certificate the system trusts.
//!   Subscribing sends a `SubscriptionConfirmation` first; the subscriber confirms.
//!   Unsubscribing sends an `UnsubscribeConfirmation`, whose token restores it.
//! - `email`, `email-json` and `sms` subscriptions are kept and listed as AWS keeps them;
//!   what they would send leaves no machine (there is no mail or SMS gateway): it is
//!   logged.
//!
//! Notifications are signed as AWS signs them (`signing.rs`), with a key of the data
//! directory whose certificate is served at `SigningCertURL`. Topics (this file) carry
//! AWS's default policy, delivery policy and FIFO attributes; subscriptions
//! (`subscriptions.rs`) their attributes, checked in AWS's words (`checks.rs`). Mobile push
//! applications and endpoints, and SMS settings, are kept in `platform.rs`. Deliveries to
//! Lambda and SQS are logged to CloudWatch Logs, through a [`DeliveryLog`], when the topic
//! asks for delivery status logging.
//!
//! It knows nothing of the query protocol; `aws-api` speaks it.
#![deny(missing_docs)]

pub mod checks;
mod delivery;
pub mod filter;
mod platform;
pub mod signing;
mod subscriptions;

use model::sync::RwLock;
use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

use iam::resource_policy::{Requester, ResourcePolicy};
use serde_json::{json, Value};
use store::{StoreError, SubscriptionRecord, TopicRecord, TopicStore};

pub use delivery::PublishInput;
pub use platform::Listed;
pub use subscriptions::{Page, Subscription};

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
    /// The caller's identity ARN (a subscription's `SubscriptionPrincipal`).
    pub principal: String,
}

/// Starts asynchronous invocations of Lambda functions (the `lambda` protocol).
pub trait FunctionTarget: Send + Sync + 'static {
    /// Queues one `Event` invocation of the function `arn` for a message of the topic
    /// `topic_arn` (what a resource policy's `SourceArn` for `sns.amazonaws.com` names);
    /// resolves once it is accepted, with the invocation's request id.
    fn invoke_event<'a>(
        &'a self,
        arn: &'a str,
        payload: String,
        topic_arn: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<String, String>> + Send + 'a>>;
}

/// Where delivery status logs go (CloudWatch Logs): SNS writes one JSON line per delivery
/// to a topic whose `<Protocol>SuccessFeedbackRoleArn` or `…FailureFeedbackRoleArn` is set.
pub trait DeliveryLog: Send + Sync + 'static {
    /// Writes `line` to the stream `stream` of the log group `group` (both made if need
    /// be) of `account` in `region`.
    fn write(&self, account: &str, region: &str, group: &str, stream: &str, line: String);
}

/// A message attribute of a published message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    /// `DataType`: `String`, `String.Array`, `Number` or `Binary`.
    pub data_type: String,
    /// The value (base64 for `Binary`).
    pub value: String,
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
    /// Lambda, once it is started (after SNS, which it delivers destinations to).
    functions: std::sync::OnceLock<Arc<dyn FunctionTarget>>,
    /// Where delivery status logs go, if anywhere.
    delivery_log: Option<Arc<dyn DeliveryLog>>,
    /// The base URL subscribers reach Lamina by (for `UnsubscribeURL` and confirmations).
    base_url: String,
    /// Where the signing key lives; it is made on first use.
    key_dir: PathBuf,
    signer: tokio::sync::OnceCell<Arc<signing::Signer>>,
    /// Wakes the HTTP outbox's dispatcher.
    outbox: tokio::sync::Notify,
    /// Platform applications, endpoints and SMS settings.
    documents: RwLock<platform::Documents>,
    /// What FIFO topics answered, by (topic, deduplication id), until the window closes.
    dedup: model::sync::Mutex<std::collections::HashMap<(String, String), (i64, delivery::Published)>>,
}

/// The attributes CreateTopic and SetTopicAttributes take.
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
    "FifoThroughputScope",
    "HTTPSuccessFeedbackRoleArn",
    "HTTPSuccessFeedbackSampleRate",
    "HTTPFailureFeedbackRoleArn",
    "LambdaSuccessFeedbackRoleArn",
    "LambdaSuccessFeedbackSampleRate",
    "LambdaFailureFeedbackRoleArn",
    "SQSSuccessFeedbackRoleArn",
    "SQSSuccessFeedbackSampleRate",
    "SQSFailureFeedbackRoleArn",
    "ApplicationSuccessFeedbackRoleArn",
    "ApplicationSuccessFeedbackSampleRate",
    "ApplicationFailureFeedbackRoleArn",
    "FirehoseSuccessFeedbackRoleArn",
    "FirehoseSuccessFeedbackSampleRate",
    "FirehoseFailureFeedbackRoleArn",
];

/// Where a topic keeps its data protection policy (not one of its attributes).
const DATA_PROTECTION: &str = "$DataProtectionPolicy";

/// The actions a topic's default policy lets its owner's account perform, in AWS's order.
const DEFAULT_POLICY_ACTIONS: &[&str] = &[
    "SNS:GetTopicAttributes",
    "SNS:SetTopicAttributes",
    "SNS:AddPermission",
    "SNS:RemovePermission",
    "SNS:DeleteTopic",
    "SNS:Subscribe",
    "SNS:ListSubscriptionsByTopic",
    "SNS:Publish",
];

/// The actions AddPermission may grant.
const GRANTABLE_ACTIONS: &[&str] = &[
    "GetTopicAttributes",
    "SetTopicAttributes",
    "AddPermission",
    "RemovePermission",
    "DeleteTopic",
    "Subscribe",
    "ListSubscriptionsByTopic",
    "Publish",
    "Receive",
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

/// A topic's default policy: its account may do everything AWS lists.
fn default_policy(arn: &str, account: &str) -> Value {
    json!({
        "Version": "2008-10-17", "Id": "__default_policy_ID",
        "Statement": [{"Sid": "__default_statement_ID", "Effect": "Allow", "Principal": {"AWS": "*"},
                       "Action": DEFAULT_POLICY_ACTIONS, "Resource": arn,
                       "Condition": {"StringEquals": {"AWS:SourceOwner": account}}}]
    })
}

/// The delivery policy a topic applies: SNS's defaults, overridden by the topic's own.
fn effective_delivery_policy(own: Option<&str>) -> Value {
    let mut http = json!({
        "defaultHealthyRetryPolicy": {
            "minDelayTarget": 20, "maxDelayTarget": 20, "numRetries": 3, "numMaxDelayRetries": 0,
            "numNoDelayRetries": 0, "numMinDelayRetries": 0, "backoffFunction": "linear"
        },
        "disableSubscriptionOverrides": false,
        "defaultRequestPolicy": {"headerContentType": "text/plain; charset=UTF-8"}
    });
    let own: Option<Value> = own.and_then(|p| serde_json::from_str(p).ok());
    if let Some(Value::Object(given)) = own.as_ref().and_then(|p| p.get("http")) {
        for (k, v) in given {
            match (http.get_mut(k), v) {
                (Some(Value::Object(base)), Value::Object(over)) => {
                    base.extend(over.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
                _ => http[k] = v.clone(),
            }
        }
    }
    json!({ "http": http })
}

/// A delivery policy as a topic stores it: without nulls, and with
/// `disableSubscriptionOverrides` spelled out; `None` for an empty one (which removes it).
fn stored_delivery_policy(given: &str) -> Result<Option<String>, SnsError> {
    if given.is_empty() {
        return Ok(None);
    }
    let mut v = checks::json_document("DeliveryPolicy", given)
        .map_err(|e| SnsError::invalid(format!("Invalid parameter: {e}")))?;
    fn without_nulls(v: &mut Value) {
        if let Value::Object(m) = v {
            m.retain(|_, v| !v.is_null());
            m.values_mut().for_each(without_nulls);
        }
    }
    without_nulls(&mut v);
    if let Some(Value::Object(http)) = v.get_mut("http") {
        http.entry("disableSubscriptionOverrides").or_insert(json!(false));
    }
    Ok(Some(v.to_string()))
}

impl SnsService {
    /// Loads every topic and subscription. The key messages are signed with lives in
    /// `key_dir`, made on first use.
    pub fn start(
        store: Arc<dyn TopicStore>,
        sqs: sqs::SqsService,
        delivery_log: Option<Arc<dyn DeliveryLog>>,
        base_url: String,
        key_dir: PathBuf,
    ) -> Result<Self, SnsError> {
        let topics = store.all_topics()?.into_iter().map(|t| (t.arn.clone(), t)).collect();
        let subscriptions = store.all_subscriptions()?.into_iter().map(|s| (s.arn.clone(), s)).collect();
        let documents = RwLock::new(platform::Documents::load(store.as_ref())?);
        let inner = Arc::new(Inner {
            store,
            topics: RwLock::new(topics),
            subscriptions: RwLock::new(subscriptions),
            sqs,
            functions: std::sync::OnceLock::new(),
            delivery_log,
            base_url,
            key_dir,
            signer: tokio::sync::OnceCell::new(),
            outbox: tokio::sync::Notify::new(),
            dedup: Default::default(),
            documents,
        });
        tokio::spawn(delivery::dispatch(inner.clone()));
        Ok(SnsService { inner })
    }

    /// Connects the `lambda` protocol's deliveries to Lambda; until then they fail and
    /// are retried as any failed delivery is.
    pub fn deliver_to_functions(&self, functions: Arc<dyn FunctionTarget>) {
        if self.inner.functions.set(functions).is_err() {
            tracing::warn!("SNS's function target was connected twice; the first stays");
        }
    }

    /// The signing key and certificate, made (or loaded) on first use.
    pub async fn signer(&self) -> Result<Arc<signing::Signer>, SnsError> {
        let dir = self.inner.key_dir.clone();
        self.inner
            .signer
            .get_or_try_init(|| async move {
                tokio::task::spawn_blocking(move || signing::Signer::load_or_create(&dir))
                    .await
                    .map_err(|e| e.to_string())?
                    .map(Arc::new)
            })
            .await
            .cloned()
            .map_err(|e| {
                tracing::error!(error = %e, "sns: no signing key");
                SnsError { code: "InternalError", status: 500, message: "Internal error".into() }
            })
    }

    /// The signing certificate (PEM) if `file` is its name in `SigningCertURL`.
    pub async fn certificate(&self, file: &str) -> Option<String> {
        let signer = self.signer().await.ok()?;
        (signer.cert_file == file).then(|| signer.cert_pem.clone())
    }

    /// The topic an ARN given as `param` names, in the caller's region and account.
    fn topic(&self, caller: &Caller, param: &str, arn: &str) -> Result<TopicRecord, SnsError> {
        let parsed = checks::arn(param, arn)?;
        if parsed.region != caller.region {
            return Err(SnsError::invalid(format!("Invalid parameter: {param}")));
        }
        let topics = self.inner.topics.read();
        topics
            .get(arn)
            .filter(|_| parsed.account == caller.account)
            .cloned()
            .ok_or_else(|| SnsError::not_found("Topic does not exist"))
    }

    fn save_topic(&self, t: TopicRecord) -> Result<(), SnsError> {
        self.inner.store.put_topic(&t)?;
        self.inner.topics.write().insert(t.arn.clone(), t);
        Ok(())
    }

    /// CreateTopic: idempotent for the same name, attributes and tags.
    pub fn create_topic(
        &self,
        caller: &Caller,
        name: &str,
        mut attributes: BTreeMap<String, String>,
        tags: Vec<(String, String)>,
    ) -> Result<String, SnsError> {
        let fifo = match attributes.get("FifoTopic").map(|v| v.to_ascii_lowercase()) {
            Some(v) if v == "true" => true,
            Some(v) if v == "false" => false,
            Some(_) => return Err(SnsError::invalid("Invalid parameter: FifoTopic Reason: Invalid value")),
            None => false,
        };
        // A standard topic is the default: `FifoTopic=false` is not kept.
        if !fifo {
            attributes.remove("FifoTopic");
        }
        let base = name.strip_suffix(".fifo").unwrap_or(name);
        let valid = !base.is_empty()
            && name.len() <= 256
            && base.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            && fifo == name.ends_with(".fifo");
        if !valid {
            return Err(SnsError::invalid("Invalid parameter: Topic Name"));
        }
        if let Some(bad) = attributes.keys().find(|k| !TOPIC_ATTRIBUTES.contains(&k.as_str())) {
            return Err(SnsError::invalid(format!("Invalid parameter: Attributes Reason: Unknown attribute {bad}")));
        }
        let tags = unique_tags(tags)?;
        if let Some(p) = attributes.get("DeliveryPolicy").cloned() {
            match stored_delivery_policy(&p)? {
                Some(p) => attributes.insert("DeliveryPolicy".into(), p),
                None => attributes.remove("DeliveryPolicy"),
            };
        }
        let arn = topic_arn(&caller.region, &caller.account, name);
        if let Ok(existing) = self.topic(caller, "TopicArn", &arn) {
            let current = json_map(&existing.attributes);
            if attributes.iter().any(|(k, v)| current.get(k) != Some(v)) {
                return Err(SnsError::invalid(
                    "Invalid parameter: Attributes Reason: Topic already exists with different attributes",
                ));
            }
            let current_tags = json_map(&existing.tags);
            if tags.iter().any(|(k, v)| current_tags.get(k) != Some(v)) {
                return Err(SnsError::invalid(
                    "Invalid parameter: Tags Reason: Topic already exists with different tags",
                ));
            }
            return Ok(arn);
        }
        if fifo {
            attributes.entry("ContentBasedDeduplication".into()).or_insert_with(|| "false".into());
        }
        self.save_topic(TopicRecord { arn: arn.clone(), attributes: to_json(&attributes), tags: to_json(&tags) })?;
        Ok(arn)
    }

    /// ListTopics, paginated by 100 as SNS does.
    pub fn list_topics(&self, caller: &Caller, next: Option<&str>) -> (Vec<String>, Option<String>) {
        let prefix = format!("arn:aws:sns:{}:{}:", caller.region, caller.account);
        let topics = self.inner.topics.read();
        let all: Vec<String> =
            topics.keys().filter(|a| a.starts_with(&prefix) && next.is_none_or(|n| a.as_str() > n)).cloned().collect();
        let token = (all.len() > 100).then(|| all[99].clone());
        (all.into_iter().take(100).collect(), token)
    }

    /// DeleteTopic, with its subscriptions; deleting a missing topic is not an error.
    pub fn delete_topic(&self, caller: &Caller, arn: &str) -> Result<(), SnsError> {
        match self.topic(caller, "TopicArn", arn) {
            Ok(_) => {}
            Err(e) if e.code == "NotFound" => return Ok(()),
            Err(e) => return Err(e),
        }
        self.inner.store.delete_topic(arn)?;
        self.inner.topics.write().remove(arn);
        self.inner.subscriptions.write().retain(|_, s| s.topic_arn != arn);
        Ok(())
    }

    /// GetTopicAttributes, with the computed ones.
    pub fn topic_attributes(&self, caller: &Caller, arn: &str) -> Result<BTreeMap<String, String>, SnsError> {
        let t = self.topic(caller, "TopicArn", arn)?;
        let subs = self.inner.subscriptions.read();
        let (mut confirmed, mut pending) = (0, 0);
        for s in subs.values().filter(|s| s.topic_arn == arn) {
            if s.token.is_some() {
                pending += 1;
            } else {
                confirmed += 1;
            }
        }
        let mut out = json_map(&t.attributes);
        out.remove(DATA_PROTECTION);
        out.insert("TopicArn".into(), arn.to_owned());
        out.insert("Owner".into(), caller.account.clone());
        out.insert("SubscriptionsConfirmed".into(), confirmed.to_string());
        out.insert("SubscriptionsPending".into(), pending.to_string());
        out.insert("SubscriptionsDeleted".into(), "0".into());
        out.entry("DisplayName".into()).or_default();
        let effective = effective_delivery_policy(out.get("DeliveryPolicy").map(String::as_str));
        out.insert("EffectiveDeliveryPolicy".into(), effective.to_string());
        out.entry("Policy".into()).or_insert_with(|| default_policy(arn, &caller.account).to_string());
        Ok(out)
    }

    /// SetTopicAttributes.
    pub fn set_topic_attribute(&self, caller: &Caller, arn: &str, name: &str, value: &str) -> Result<(), SnsError> {
        let mut t = self.topic(caller, "TopicArn", arn)?;
        if !TOPIC_ATTRIBUTES.contains(&name) || name == "FifoTopic" {
            return Err(SnsError::invalid("Invalid parameter: AttributeName"));
        }
        let mut attrs = json_map(&t.attributes);
        match name {
            "Policy" => {
                ResourcePolicy::parse(value)
                    .map_err(|e| SnsError::invalid(format!("Invalid parameter: Policy Error: {e}")))?;
                attrs.insert(name.to_owned(), value.to_owned());
            }
            "DeliveryPolicy" => match stored_delivery_policy(value)? {
                Some(p) => {
                    attrs.insert(name.to_owned(), p);
                }
                None => {
                    attrs.remove(name);
                }
            },
            "ContentBasedDeduplication" if !arn.ends_with(".fifo") => {
                return Err(SnsError::invalid(
                    "Invalid parameter: Attributes Reason: Content-based deduplication can only be set for FIFO topics",
                ))
            }
            _ => {
                attrs.insert(name.to_owned(), value.to_owned());
            }
        }
        t.attributes = to_json(&attrs);
        self.save_topic(t)
    }

    /// AddPermission: a statement of the topic's policy, labelled, letting the accounts
    /// named perform the actions named.
    pub fn add_permission(
        &self,
        caller: &Caller,
        arn: &str,
        label: &str,
        accounts: &[String],
        actions: &[String],
    ) -> Result<(), SnsError> {
        let mut t = self.topic(caller, "TopicArn", arn)?;
        if actions.iter().any(|a| !GRANTABLE_ACTIONS.contains(&a.as_str())) {
            return Err(SnsError::invalid("Invalid parameter: Policy statement action out of service scope!"));
        }
        let mut attrs = json_map(&t.attributes);
        let mut policy: Value = attrs
            .get("Policy")
            .and_then(|p| serde_json::from_str(p).ok())
            .unwrap_or_else(|| default_policy(arn, &caller.account));
        let statements = policy["Statement"].as_array().cloned().unwrap_or_default();
        if statements.iter().any(|s| s["Sid"] == label) {
            return Err(SnsError::invalid("Invalid parameter: Statement already exists"));
        }
        let one_or_many = |items: Vec<String>| match items.len() {
            1 => json!(items[0]),
            _ => json!(items),
        };
        let principals = one_or_many(accounts.iter().map(|a| format!("arn:aws:iam::{a}:root")).collect());
        let actions = one_or_many(actions.iter().map(|a| format!("SNS:{a}")).collect());
        let mut statements = statements;
        statements.push(json!({
            "Sid": label, "Effect": "Allow", "Principal": {"AWS": principals}, "Action": actions, "Resource": arn,
        }));
        policy["Statement"] = Value::Array(statements);
        attrs.insert("Policy".into(), policy.to_string());
        t.attributes = to_json(&attrs);
        self.save_topic(t)
    }

    /// RemovePermission: the statement with that label goes; removing a missing one is
    /// not an error.
    pub fn remove_permission(&self, caller: &Caller, arn: &str, label: &str) -> Result<(), SnsError> {
        let mut t = self.topic(caller, "TopicArn", arn)?;
        let mut attrs = json_map(&t.attributes);
        let Some(mut policy) = attrs.get("Policy").and_then(|p| serde_json::from_str::<Value>(p).ok()) else {
            return Ok(());
        };
        if let Some(statements) = policy["Statement"].as_array_mut() {
            statements.retain(|s| s["Sid"] != label);
        }
        attrs.insert("Policy".into(), policy.to_string());
        t.attributes = to_json(&attrs);
        self.save_topic(t)
    }

    /// PutDataProtectionPolicy (stored, returned; not applied to messages).
    pub fn put_data_protection_policy(&self, caller: &Caller, arn: &str, policy: &str) -> Result<(), SnsError> {
        let mut t = self.topic(caller, "ResourceArn", arn)?;
        checks::json_document("DataProtectionPolicy", policy)
            .map_err(|e| SnsError::invalid(format!("Invalid parameter: {e}")))?;
        let mut attrs = json_map(&t.attributes);
        attrs.insert(DATA_PROTECTION.into(), policy.to_owned());
        t.attributes = to_json(&attrs);
        self.save_topic(t)
    }

    /// GetDataProtectionPolicy: the policy, or an empty one.
    pub fn data_protection_policy(&self, caller: &Caller, arn: &str) -> Result<String, SnsError> {
        let t = self.topic(caller, "ResourceArn", arn)?;
        Ok(json_map(&t.attributes).remove(DATA_PROTECTION).unwrap_or_default())
    }

    /// Tags of a topic: TagResource, UntagResource, ListTagsForResource.
    pub fn tags(
        &self,
        caller: &Caller,
        arn: &str,
        add: Vec<(String, String)>,
        remove: &[String],
    ) -> Result<BTreeMap<String, String>, SnsError> {
        let add = unique_tags(add)?;
        let mut t = self.topic(caller, "ResourceArn", arn).map_err(|e| match e.code {
            "NotFound" => SnsError { code: "ResourceNotFound", status: 404, message: "Resource does not exist".into() },
            _ => e,
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
        self.save_topic(t)?;
        Ok(tags)
    }

    /// Publishes to a topic named by ARN on `who`'s behalf (a function of another account
    /// for Lambda destinations and dead-letter topics, S3 for a bucket's notifications),
    /// if the topic's policy lets `who` publish; `Ok(false)` if there is no such topic.
    pub async fn publish_to_arn(
        &self,
        topic: &str,
        who: &Requester<'_>,
        input: PublishInput,
    ) -> Result<bool, SnsError> {
        let parts: Vec<&str> = topic.split(':').collect();
        let (Some(region), Some(account)) = (parts.get(3), parts.get(4)) else { return Ok(false) };
        let caller = Caller {
            account: (*account).to_owned(),
            region: (*region).to_owned(),
            principal: match who {
                Requester::Account(sender) => format!("arn:aws:iam::{sender}:root"),
                Requester::Service { service, .. } => (*service).to_owned(),
                Requester::Anonymous => "*".to_owned(),
            },
        };
        let Ok(t) = self.topic(&caller, "TopicArn", topic) else { return Ok(false) };
        if !Self::topic_permits(&t, who, "SNS:Publish") {
            return Err(SnsError::not_authorized(who.account(), "SNS:Publish", topic));
        }
        self.publish(&caller, topic, input).await.map(|_| true)
    }

    /// Whether `who` may publish to the topic this ARN names; `None` if there is no such
    /// topic.
    pub fn permits(&self, topic: &str, who: &Requester<'_>) -> Option<bool> {
        let t = self.inner.topics.read().get(topic).cloned()?;
        Some(Self::topic_permits(&t, who, "SNS:Publish"))
    }

    /// The topic's policy decides for another account; with none set, only the owner.
    fn topic_permits(t: &TopicRecord, who: &Requester<'_>, action: &str) -> bool {
        let owner = t.arn.split(':').nth(4).unwrap_or_default();
        let policy = json_map(&t.attributes).get("Policy").and_then(|p| ResourcePolicy::parse(p).ok());
        iam::resource_policy::allows(policy.as_ref(), owner, &t.arn, who, action)
    }

    /// Whether a topic with this ARN exists.
    pub fn exists(&self, arn: &str) -> bool {
        self.inner.topics.read().contains_key(arn)
    }
}

/// Tags as given, refused if a key repeats.
fn unique_tags(tags: Vec<(String, String)>) -> Result<BTreeMap<String, String>, SnsError> {
    let mut out = BTreeMap::new();
    for (k, v) in tags {
        if out.insert(k, v).is_some() {
            return Err(SnsError::invalid("Invalid parameter: Duplicated keys are not allowed."));
        }
    }
    Ok(out)
}

/// SNS acting for a topic: what a queue's policy is asked about SNS's deliveries.
fn for_topic(topic_arn: &str) -> Requester<'_> {
    let owner = topic_arn.split(':').nth(4).unwrap_or_default();
    Requester::Service { service: "sns.amazonaws.com", source_arn: topic_arn, source_account: owner }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_policies_merge_over_the_defaults() {
        let stored = stored_delivery_policy(r#"{"http":{"defaultHealthyRetryPolicy":{"numRetries":1},"x":null}}"#)
            .unwrap()
            .unwrap();
        let v: Value = serde_json::from_str(&stored).unwrap();
        assert_eq!(v["http"]["disableSubscriptionOverrides"], json!(false));
        assert!(v["http"].get("x").is_none());
        let effective = effective_delivery_policy(Some(&stored));
        assert_eq!(effective["http"]["defaultHealthyRetryPolicy"]["numRetries"], json!(1));
        assert_eq!(effective["http"]["defaultHealthyRetryPolicy"]["minDelayTarget"], json!(20));
        assert_eq!(effective["http"]["defaultRequestPolicy"]["headerContentType"], json!("text/plain; charset=UTF-8"));
        assert_eq!(stored_delivery_policy("").unwrap(), None);
    }

    #[test]
    fn repeated_tag_keys_are_refused() {
        let e = unique_tags(vec![("k".into(), "1".into()), ("k".into(), "1".into())]).unwrap_err();
        assert_eq!(e.message, "Invalid parameter: Duplicated keys are not allowed.");
    }
}
