//! Publish and the fan-out: the checks a message passes (in AWS's words), FIFO
//! deduplication and sequence numbers, the notification each protocol receives (signed),
//! dead-letter queues for deliveries that fail, and the durable HTTP outbox.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use sha2::Digest;
use store::{HttpDelivery, SubscriptionRecord, TopicRecord};

use crate::{checks, filter, for_topic, json_map, Attribute, Caller, Inner, SnsError, SnsService};

/// How long a claimed HTTP delivery is leased (a crash mid-delivery sends it again).
const DELIVERY_LEASE_MS: i64 = 60_000;
/// SNS's default HTTP retry policy: three retries, 20 s apart.
const HTTP_RETRIES: u32 = 3;
const HTTP_RETRY_DELAY_MS: i64 = 20_000;
/// How long a FIFO topic remembers a deduplication id.
const DEDUP_WINDOW_MS: i64 = 5 * 60 * 1000;

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
    /// `MessageGroupId`.
    pub group_id: Option<String>,
    /// `MessageDeduplicationId` (FIFO topics).
    pub dedup_id: Option<String>,
    /// The request's X-Ray trace header (`X-Amzn-Trace-Id`), passed on to SQS as the
    /// message's `AWSTraceHeader`.
    pub trace_header: Option<String>,
}

/// What Publish answers: the message id, and a FIFO topic's sequence number.
pub type Published = (String, Option<String>);

fn timestamp() -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    time::OffsetDateTime::now_utc().format(&fmt).unwrap_or_default()
}

/// FIFO sequence numbers: twenty digits, increasing, also across restarts (they start
/// from the clock).
fn next_sequence() -> String {
    static LAST: AtomicU64 = AtomicU64::new(0);
    let floor = (model::clock::now_ms().max(0) as u64).saturating_mul(1_000_000);
    let step = |last: u64| Some(last.saturating_add(1).max(floor));
    let last = LAST.fetch_update(Ordering::SeqCst, Ordering::SeqCst, step).unwrap_or_default();
    format!("{:020}", step(last).unwrap_or(floor))
}

impl SnsService {
    /// Checks a message against its topic, as Publish and each PublishBatch entry do.
    pub fn check_publish(&self, caller: &Caller, topic: &str, input: &PublishInput) -> Result<(), SnsError> {
        let t = self.topic(caller, "TopicArn", topic)?;
        check_message(&t, input)
    }

    /// Publish: the message id once every SQS and Lambda delivery is committed.
    pub async fn publish(&self, caller: &Caller, topic: &str, input: PublishInput) -> Result<Published, SnsError> {
        let t = self.topic(caller, "TopicArn", topic)?;
        check_message(&t, &input)?;
        let attributes = json_map(&t.attributes);
        let fifo = topic.ends_with(".fifo");
        let mut input = input;
        if fifo && input.dedup_id.is_none() {
            input.dedup_id = Some(hex(&sha2::Sha256::digest(input.message.as_bytes())));
        }
        if let (true, Some(dedup)) = (fifo, input.dedup_id.as_deref()) {
            if let Some(earlier) = self.inner.remembered(topic, dedup) {
                return Ok(earlier);
            }
        }
        let id = uuid::Uuid::new_v4().to_string();
        let sequence = fifo.then(next_sequence);
        let subs: Vec<SubscriptionRecord> = self
            .inner
            .subscriptions
            .read()
            .values()
            .filter(|s| s.topic_arn == topic && s.token.is_none())
            .cloned()
            .collect();
        let message = Message {
            id: &id,
            sequence: sequence.as_deref(),
            input: &input,
            signature_version: attributes.get("SignatureVersion").map(String::as_str).unwrap_or("1"),
            timestamp: timestamp(),
            published_ms: model::clock::now_ms(),
            signed: Default::default(),
        };
        for s in subs {
            let outcome = self.deliver(&s, &message).await;
            self.log_delivery(&s, &message, &attributes, &outcome);
            if let Err(e) = outcome {
                tracing::warn!(subscription = %s.arn, error = %e, "sns: delivery failed");
                self.dead_letter(&s, &message, &e).await;
            }
        }
        if let (true, Some(dedup)) = (fifo, input.dedup_id.as_deref()) {
            self.inner.remember(topic, dedup, (id.clone(), sequence.clone()));
        }
        Ok((id, sequence))
    }

    /// A delivery that failed goes to the subscription's dead-letter queue: what the
    /// subscription would have received (the message and its attributes when delivery is
    /// raw, the notification otherwise).
    async fn dead_letter(&self, s: &SubscriptionRecord, m: &Message<'_>, why: &str) {
        let attrs = json_map(&s.attributes);
        let policy = attrs.get("RedrivePolicy").and_then(|p| serde_json::from_str::<Value>(p).ok());
        let Some(target) = policy.as_ref().and_then(|p| p.get("deadLetterTargetArn")).and_then(Value::as_str) else {
            return;
        };
        let text = message_for(m.input, &s.protocol);
        let (body, attributes) = if attrs.get("RawMessageDelivery").is_some_and(|v| v == "true") {
            (text, sqs_attributes(&m.input.attributes))
        } else {
            match self.notification(s, m, &text).await {
                Ok(n) => (n.to_string(), BTreeMap::new()),
                Err(e) => return tracing::warn!(subscription = %s.arn, error = %e, "sns: no dead letter"),
            }
        };
        let fifo = target.ends_with(".fifo");
        let send = sqs::SendInput {
            body,
            attributes,
            group_id: m.input.group_id.clone().filter(|_| fifo || m.sequence.is_none()),
            dedup_id: m.input.dedup_id.clone().filter(|_| fifo),
            ..Default::default()
        };
        match self.inner.sqs.send_to_arn(target, &for_topic(&s.topic_arn), send) {
            Ok(true) => {
                tracing::info!(subscription = %s.arn, error = %why, "sns: message sent to the dead-letter queue")
            }
            Ok(false) => tracing::warn!(subscription = %s.arn, "sns: the dead-letter queue does not exist"),
            Err(e) => {
                tracing::warn!(subscription = %s.arn, error = %e, "sns: the dead-letter queue refused the message")
            }
        }
    }

    /// The notification a subscriber receives, signed unless the topic is FIFO (AWS does
    /// not sign those).
    async fn notification(&self, s: &SubscriptionRecord, m: &Message<'_>, text: &str) -> Result<Value, SnsError> {
        let mut n = serde_json::Map::new();
        n.insert("Type".into(), json!("Notification"));
        n.insert("MessageId".into(), json!(m.id));
        if let Some(seq) = m.sequence {
            n.insert("SequenceNumber".into(), json!(seq));
        }
        n.insert("TopicArn".into(), json!(s.topic_arn));
        if let Some(subject) = &m.input.subject {
            n.insert("Subject".into(), json!(subject));
        }
        n.insert("Message".into(), json!(text));
        n.insert("Timestamp".into(), json!(m.timestamp));
        if m.sequence.is_none() {
            let signer = self.signer().await?;
            n.insert("SignatureVersion".into(), json!(m.signature_version));
            // The signed fields are the same for every subscriber given the same text:
            // one signature a text.
            let signature = {
                let mut signed = m.signed.lock();
                match signed.iter().find(|(t, _)| t == text) {
                    Some((_, sig)) => sig.clone(),
                    None => {
                        let sig = signer.sign(&Value::Object(n.clone()));
                        signed.push((text.to_owned(), sig.clone()));
                        sig
                    }
                }
            };
            n.insert("Signature".into(), json!(signature));
            n.insert("SigningCertURL".into(), json!(self.cert_url(&signer)));
        }
        n.insert(
            "UnsubscribeURL".into(),
            json!(format!("{}/?Action=Unsubscribe&SubscriptionArn={}", self.inner.base_url, s.arn)),
        );
        if !m.input.attributes.is_empty() {
            let attrs: serde_json::Map<String, Value> = m
                .input
                .attributes
                .iter()
                .map(|(k, a)| (k.clone(), json!({ "Type": a.data_type, "Value": a.value })))
                .collect();
            n.insert("MessageAttributes".into(), Value::Object(attrs));
        }
        Ok(Value::Object(n))
    }

    fn cert_url(&self, signer: &crate::signing::Signer) -> String {
        format!("{}/_lamina/sns/{}", self.inner.base_url, signer.cert_file)
    }

    /// Delivers to one subscriber: the provider's status and answer where SNS learns them
    /// at once (SQS, Lambda), for the delivery status logs; `None` otherwise (filtered
    /// out, or queued for HTTP).
    async fn deliver(&self, s: &SubscriptionRecord, m: &Message<'_>) -> Result<Option<Delivered>, String> {
        let attrs = json_map(&s.attributes);
        let input = m.input;
        let text = message_for(input, &s.protocol);
        if let Some(policy) = attrs.get("FilterPolicy") {
            let policy: Value = serde_json::from_str(policy).unwrap_or(Value::Null);
            let list: Vec<(String, String, String)> =
                input.attributes.iter().map(|(k, a)| (k.clone(), a.data_type.clone(), a.value.clone())).collect();
            let body_scope = attrs.get("FilterPolicyScope").is_some_and(|v| v == "MessageBody");
            if !filter::admits(&policy, &filter::Subject { attributes: &list, body: &text }, body_scope) {
                return Ok(None);
            }
        }
        let raw = attrs.get("RawMessageDelivery").is_some_and(|v| v == "true");
        match s.protocol.as_str() {
            "sqs" => self.deliver_to_queue(s, m, text, raw).await,
            "lambda" => self.deliver_to_function(s, m, &text).await,
            "http" | "https" => {
                let body = if raw {
                    text
                } else {
                    self.notification(s, m, &text).await.map_err(|e| e.to_string())?.to_string()
                };
                let topic_policy = self
                    .inner
                    .topics
                    .read()
                    .get(&s.topic_arn)
                    .and_then(|t| json_map(&t.attributes).remove("DeliveryPolicy"));
                let policy = crate::effective_delivery_policy(
                    attrs.get("DeliveryPolicy").or(topic_policy.as_ref()).map(String::as_str),
                );
                let content_type = policy["http"]["defaultRequestPolicy"]["headerContentType"]
                    .as_str()
                    .unwrap_or("text/plain; charset=UTF-8")
                    .to_owned();
                let headers = [
                    ("content-type", content_type),
                    ("x-amz-sns-message-type", "Notification".to_owned()),
                    ("x-amz-sns-message-id", m.id.to_owned()),
                    ("x-amz-sns-topic-arn", s.topic_arn.clone()),
                    ("x-amz-sns-subscription-arn", s.arn.clone()),
                ];
                if raw {
                    let mut headers = headers.to_vec();
                    headers.push(("x-amz-sns-rawdelivery", "true".to_owned()));
                    return self.queue_http(&s.endpoint, &headers, body).map(|()| None).map_err(|e| e.to_string());
                }
                self.queue_http(&s.endpoint, &headers, body).map(|()| None).map_err(|e| e.to_string())
            }
            other => {
                // Email, SMS, mobile push and Firehose have no way off this machine.
                tracing::info!(protocol = other, endpoint = %s.endpoint, message_id = m.id, "sns: not delivered (no gateway for this protocol)");
                Ok(None)
            }
        }
    }

    /// Sends a message to an SQS subscriber (committed before Publish answers), as the
    /// topic: the queue's policy must let SNS send for it.
    async fn deliver_to_queue(
        &self,
        s: &SubscriptionRecord,
        m: &Message<'_>,
        text: String,
        raw: bool,
    ) -> Result<Option<Delivered>, String> {
        let input = m.input;
        let fifo_queue = s.endpoint.ends_with(".fifo");
        let (body, attributes) = if raw {
            (text, sqs_attributes(&input.attributes))
        } else {
            (self.notification(s, m, &text).await.map_err(|e| e.to_string())?.to_string(), BTreeMap::new())
        };
        let system = input
            .trace_header
            .iter()
            .map(|t| {
                let value = sqs::AttributeValue { data_type: "String".into(), string: Some(t.clone()), binary: None };
                ("AWSTraceHeader".to_owned(), value)
            })
            .collect();
        let send = sqs::SendInput {
            body,
            attributes,
            system,
            // A FIFO topic's groups order FIFO queues only; a standard topic
            // passes the group on (standard queues show it).
            group_id: input.group_id.clone().filter(|_| fifo_queue || m.sequence.is_none()),
            dedup_id: input.dedup_id.clone().filter(|_| fifo_queue),
            ..Default::default()
        };
        // SNS sends for the topic; the queue's policy must let it, unless the
        // queue is the topic owner's own.
        match self.inner.sqs.send_to_arn(&s.endpoint, &for_topic(&s.topic_arn), send) {
            Ok(true) => Ok(Some(Delivered {
                status: 200,
                provider: json!({ "sqsRequestId": uuid::Uuid::new_v4().to_string() }),
            })),
            Ok(false) => Err("the queue does not exist".into()),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Queues an `Event` invocation of a Lambda subscriber with AWS's `Records[].Sns` event.
    async fn deliver_to_function(
        &self,
        s: &SubscriptionRecord,
        m: &Message<'_>,
        text: &str,
    ) -> Result<Option<Delivered>, String> {
        let mut sns = self.notification(s, m, text).await.map_err(|e| e.to_string())?;
        if let Some(o) = sns.as_object_mut() {
            // The Lambda event spells these two as AWS does there.
            if let Some(v) = o.remove("SigningCertURL") {
                o.insert("SigningCertUrl".into(), v);
            }
            if let Some(v) = o.remove("UnsubscribeURL") {
                o.insert("UnsubscribeUrl".into(), v);
            }
            // Lambda's events say version 1 whatever the topic signs with.
            o.insert("SignatureVersion".into(), json!("1"));
            o.entry("Subject").or_insert(Value::Null);
            o.entry("MessageAttributes").or_insert_with(|| json!({}));
        }
        let event = json!({ "Records": [{
            "EventSource": "aws:sns", "EventVersion": "1.0", "EventSubscriptionArn": s.arn, "Sns": sns,
        }]});
        let functions = self.inner.functions.get().ok_or("Lambda is not started")?;
        let request_id = functions.invoke_event(&s.endpoint, event.to_string(), &s.topic_arn).await?;
        Ok(Some(Delivered { status: 202, provider: json!({ "lambdaRequestId": request_id }) }))
    }

    /// Writes a delivery's status log line, when the topic asks for one for the
    /// subscriber's protocol: successes (sampled at `…SuccessFeedbackSampleRate` percent)
    /// to `sns/<region>/<account>/<topic>`, failures to the same group's `/Failure`.
    fn log_delivery(
        &self,
        s: &SubscriptionRecord,
        m: &Message<'_>,
        topic: &BTreeMap<String, String>,
        outcome: &Result<Option<Delivered>, String>,
    ) {
        let Some(sink) = &self.inner.delivery_log else { return };
        let prefix = match s.protocol.as_str() {
            "lambda" => "Lambda",
            "sqs" => "SQS",
            _ => return,
        };
        let (status, code, provider, failure) = match outcome {
            Ok(None) => return,
            Ok(Some(d)) => ("SUCCESS", d.status, d.provider.clone(), false),
            Err(why) => ("FAILURE", 500, json!({ "ErrorMessage": why }), true),
        };
        let role = if failure { "FailureFeedbackRoleArn" } else { "SuccessFeedbackRoleArn" };
        if topic.get(&format!("{prefix}{role}")).is_none_or(|r| r.is_empty()) {
            return;
        }
        if !failure {
            let rate: f64 =
                topic.get(&format!("{prefix}SuccessFeedbackSampleRate")).and_then(|r| r.parse().ok()).unwrap_or(0.0);
            if rate <= 0.0 || (rate < 100.0 && rand_percent() >= rate) {
                return;
            }
        }
        let Ok(parsed) = checks::arn("TopicArn", &s.topic_arn) else { return };
        let mut group = format!("sns/{}/{}/{}", parsed.region, parsed.account, parsed.resource);
        if failure {
            group.push_str("/Failure");
        }
        let digest = md5::Md5::digest(m.input.message.as_bytes());
        let line = json!({
            "notification": {
                "messageMD5Sum": digest.iter().map(|b| format!("{b:02x}")).collect::<String>(),
                "messageId": m.id,
                "topicArn": s.topic_arn,
                "timestamp": log_timestamp(m.published_ms),
            },
            "delivery": {
                "deliveryId": uuid::Uuid::new_v4().to_string(),
                "destination": s.endpoint,
                // The provider's answer as JSON text, as AWS logs it.
                "providerResponse": provider.to_string(),
                "dwellTimeMs": (model::clock::now_ms() - m.published_ms).max(0),
                "statusCode": code,
            },
            "status": status,
        });
        // One stream a day in each group.
        let day = log_timestamp(m.published_ms);
        let stream = format!("{}/sns", day.split(' ').next().unwrap_or_default().replace('-', "/"));
        sink.write(parsed.account, parsed.region, &group, &stream, line.to_string());
    }

    /// Asks a subscriber to confirm: over HTTP(S), or into another account's queue.
    pub(crate) async fn send_confirmation(&self, s: &SubscriptionRecord) -> Result<(), SnsError> {
        let token = s.token.clone().unwrap_or_default();
        if s.protocol.starts_with("email") {
            tracing::info!(endpoint = %s.endpoint, "sns: a confirmation for an email subscription was not sent (no mail gateway)");
            return Ok(());
        }
        let message = format!(
            "You have chosen to subscribe to the topic {}.\nTo confirm the subscription, visit the SubscribeURL included in this message.",
            s.topic_arn
        );
        let (id, body) = self.confirmation("SubscriptionConfirmation", &s.topic_arn, &token, message).await?;
        if s.protocol == "sqs" {
            let send = sqs::SendInput { body: body.to_string(), ..Default::default() };
            if let Err(e) = self.inner.sqs.send_to_arn(&s.endpoint, &for_topic(&s.topic_arn), send) {
                tracing::warn!(subscription = %s.arn, error = %e, "sns: the confirmation did not reach the queue");
            }
            return Ok(());
        }
        let headers = [
            ("content-type", "text/plain; charset=UTF-8".to_owned()),
            ("x-amz-sns-message-id", id),
            ("x-amz-sns-message-type", "SubscriptionConfirmation".to_owned()),
            ("x-amz-sns-topic-arn", s.topic_arn.clone()),
        ];
        self.queue_http(&s.endpoint, &headers, body.to_string())
    }

    /// A signed `SubscriptionConfirmation` or `UnsubscribeConfirmation` whose SubscribeURL
    /// confirms `token`: its message id and body.
    async fn confirmation(
        &self,
        kind: &str,
        topic: &str,
        token: &str,
        message: String,
    ) -> Result<(String, Value), SnsError> {
        let signer = self.signer().await?;
        let id = uuid::Uuid::new_v4().to_string();
        let mut body = json!({
            "Type": kind,
            "MessageId": id,
            "Token": token,
            "TopicArn": topic,
            "Message": message,
            "SubscribeURL": format!("{}/?Action=ConfirmSubscription&TopicArn={topic}&Token={token}", self.inner.base_url),
            "Timestamp": timestamp(),
            "SignatureVersion": "1",
        });
        body["Signature"] = json!(signer.sign(&body));
        body["SigningCertURL"] = json!(self.cert_url(&signer));
        Ok((id, body))
    }

    /// Tells an HTTP(S) subscriber its subscription was deleted, with a token (and a
    /// SubscribeURL) that restores it, as SNS does.
    pub(crate) async fn send_unsubscribe_confirmation(
        &self,
        s: &SubscriptionRecord,
        token: &str,
    ) -> Result<(), SnsError> {
        let message = format!(
            "You have chosen to deactivate subscription {}.\nTo cancel this operation and restore the subscription, visit the SubscribeURL included in this message.",
            s.arn
        );
        let (id, body) = self.confirmation("UnsubscribeConfirmation", &s.topic_arn, token, message).await?;
        let headers = [
            ("content-type", "text/plain; charset=UTF-8".to_owned()),
            ("x-amz-sns-message-id", id),
            ("x-amz-sns-message-type", "UnsubscribeConfirmation".to_owned()),
            ("x-amz-sns-subscription-arn", s.arn.clone()),
            ("x-amz-sns-topic-arn", s.topic_arn.clone()),
        ];
        self.queue_http(&s.endpoint, &headers, body.to_string())
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
}

/// What a subscriber's service answered a delivery: its status code and response, as the
/// delivery status logs show them.
struct Delivered {
    status: u16,
    provider: Value,
}

/// A uniformly distributed percentage in [0, 100).
fn rand_percent() -> f64 {
    f64::from(uuid::Uuid::new_v4().as_u128() as u32) / f64::from(u32::MAX) * 100.0
}

/// A delivery status log's notification time: `2026-12-05 20:01:02.345`.
fn log_timestamp(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second].[subsecond digits:3]");
    t.format(&fmt).unwrap_or_default()
}

/// A message on its way to subscribers.
struct Message<'a> {
    id: &'a str,
    sequence: Option<&'a str>,
    input: &'a PublishInput,
    signature_version: &'a str,
    /// When it was published (every subscriber's notification says the same).
    timestamp: String,
    /// The same, ms since the epoch (a delivery's dwell time counts from it).
    published_ms: i64,
    /// The signatures made so far, by the text signed.
    signed: model::sync::Mutex<Vec<(String, String)>>,
}

impl Inner {
    /// What a FIFO topic answered for this deduplication id within the window.
    fn remembered(&self, topic: &str, dedup: &str) -> Option<Published> {
        let mut seen = self.dedup.lock();
        let now = model::clock::now_ms();
        seen.retain(|_, (until, _)| *until > now);
        seen.get(&(topic.to_owned(), dedup.to_owned())).map(|(_, p)| p.clone())
    }

    fn remember(&self, topic: &str, dedup: &str, published: Published) {
        let mut seen = self.dedup.lock();
        seen.insert((topic.to_owned(), dedup.to_owned()), (model::clock::now_ms() + DEDUP_WINDOW_MS, published));
    }
}

/// A message's checks against its topic, in the order SNS makes them.
fn check_message(t: &TopicRecord, input: &PublishInput) -> Result<(), SnsError> {
    if input.message.is_empty() {
        return Err(SnsError::invalid("Invalid parameter: Empty message"));
    }
    if input.subject.as_deref() == Some("") {
        return Err(SnsError::invalid("Invalid parameter: Subject"));
    }
    if checks::message_size(&input.message, &input.attributes) > checks::MAX_MESSAGE_BYTES {
        return Err(SnsError::invalid("Invalid parameter: Message too long"));
    }
    if input.structure.as_deref() == Some("json") {
        let v: Value = serde_json::from_str(&input.message).map_err(|_| {
            SnsError::invalid("Invalid parameter: Message Structure - JSON message body failed to parse")
        })?;
        if !v.get("default").is_some_and(Value::is_string) {
            return Err(SnsError::invalid(
                "Invalid parameter: Message Structure - No default entry in JSON message body",
            ));
        }
    }
    let fifo = t.arn.ends_with(".fifo");
    if fifo && input.group_id.is_none() {
        return Err(SnsError::invalid("Invalid parameter: The MessageGroupId parameter is required for FIFO topics"));
    }
    let content_dedup = json_map(&t.attributes).get("ContentBasedDeduplication").is_some_and(|v| v == "true");
    if fifo && input.dedup_id.is_none() && !content_dedup {
        return Err(SnsError::invalid(
            "Invalid parameter: The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly",
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
    let entry = |key: &str| v.get(key).and_then(Value::as_str);
    entry(protocol).or_else(|| entry("default")).unwrap_or_default().to_owned()
}

/// SNS message attributes as SQS message attributes (binary ones decoded).
fn sqs_attributes(attributes: &BTreeMap<String, Attribute>) -> BTreeMap<String, sqs::AttributeValue> {
    use base64::Engine;
    attributes
        .iter()
        .map(|(k, a)| {
            let value = if a.data_type.starts_with("Binary") {
                sqs::AttributeValue {
                    data_type: a.data_type.clone(),
                    string: None,
                    binary: base64::engine::general_purpose::STANDARD.decode(&a.value).ok(),
                }
            } else {
                sqs::AttributeValue { data_type: a.data_type.clone(), string: Some(a.value.clone()), binary: None }
            };
            (k.clone(), value)
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Sends the HTTP outbox's due deliveries, for as long as the service lives.
pub(crate) async fn dispatch(inner: Arc<Inner>) {
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

/// One client for every delivery (see `outbound`: system roots, `*.localhost` on the
/// loopback).
fn client() -> &'static outbound::Client {
    static CLIENT: std::sync::OnceLock<outbound::Client> = std::sync::OnceLock::new();
    CLIENT.get_or_init(outbound::client)
}

async fn post(url: &str, headers: &BTreeMap<String, String>, body: String) -> Result<u16, String> {
    use http_body_util::Full;
    let uri: hyper::Uri = url.parse().map_err(|e| format!("{e}"))?;
    // SNS's agent names itself, and takes compressed answers, on every delivery.
    let mut req = hyper::Request::post(uri)
        .header("user-agent", "Amazon Simple Notification Service Agent")
        .header("accept-encoding", "gzip,deflate");
    if !headers.contains_key("content-type") {
        req = req.header("content-type", "text/plain; charset=UTF-8");
    }
    for (k, v) in headers {
        req = req.header(k.as_str(), v);
    }
    let req = req.body(Full::new(bytes::Bytes::from(body))).map_err(|e| e.to_string())?;
    let resp = tokio::time::timeout(Duration::from_secs(15), client().request(req))
        .await
        .map_err(|_| "timed out".to_owned())?
        .map_err(|e| format!("{e:?}"))?;
    Ok(resp.status().as_u16())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topic(arn: &str, attributes: &str) -> TopicRecord {
        TopicRecord { arn: arn.into(), attributes: attributes.into(), tags: "{}".into() }
    }

    #[test]
    fn messages_are_checked_in_aws_words() {
        let t = topic("arn:aws:sns:us-east-1:1:t", "{}");
        let input = |m: &str| PublishInput { message: m.into(), ..Default::default() };
        let words = |t: &TopicRecord, i: PublishInput| check_message(t, &i).unwrap_err().message;
        assert_eq!(words(&t, input("")), "Invalid parameter: Empty message");
        assert_eq!(
            words(&t, PublishInput { subject: Some(String::new()), ..input("m") }),
            "Invalid parameter: Subject"
        );
        assert_eq!(words(&t, input(&"a".repeat(262_145))), "Invalid parameter: Message too long");
        let json = |m: &str| PublishInput { structure: Some("json".into()), ..input(m) };
        assert!(words(&t, json(r#"{"default": {"o": 1}}"#)).contains("No default entry"));
        assert!(words(&t, json(r#"{"default": "x"} }"#)).contains("failed to parse"));
        let fifo = topic("arn:aws:sns:us-east-1:1:t.fifo", "{}");
        assert!(words(&fifo, input("m")).contains("MessageGroupId parameter is required"));
        assert!(words(&fifo, PublishInput { group_id: Some("g".into()), ..input("m") })
            .contains("ContentBasedDeduplication enabled"));
        let dedup = topic("arn:aws:sns:us-east-1:1:t.fifo", r#"{"ContentBasedDeduplication":"true"}"#);
        assert!(check_message(&dedup, &PublishInput { group_id: Some("g".into()), ..input("m") }).is_ok());
    }

    #[test]
    fn sequence_numbers_increase_and_have_twenty_digits() {
        let a = next_sequence();
        let b = next_sequence();
        assert_eq!(a.len(), 20);
        assert!(b > a);
    }
}
