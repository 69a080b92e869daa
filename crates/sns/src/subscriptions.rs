//! Subscriptions: Subscribe (with its per-protocol endpoint checks and idempotency),
//! confirmation, Unsubscribe, their attributes and listings, paginated by 100.

use std::collections::BTreeMap;

use base64::Engine;
use serde_json::Value;
use store::SubscriptionRecord;

use crate::{checks, filter, json_map, to_json, Caller, SnsError, SnsService};

/// The protocols SNS takes.
const PROTOCOLS: &[&str] = &["http", "https", "email", "email-json", "sms", "sqs", "application", "lambda", "firehose"];

const SUBSCRIPTION_ATTRIBUTES: &[&str] = &[
    "RawMessageDelivery",
    "FilterPolicy",
    "FilterPolicyScope",
    "RedrivePolicy",
    "DeliveryPolicy",
    "SubscriptionRoleArn",
    "ReplayPolicy",
];

/// Where a subscription keeps who made it (`SubscriptionPrincipal`).
const PRINCIPAL: &str = "SubscriptionPrincipal";

/// A subscription as the API lists it.
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
}

/// A page of a listing and the token of the next.
pub type Page = (Vec<Subscription>, Option<String>);

impl SnsService {
    /// Subscribe: `sqs` subscriptions of the caller's own queues, `lambda`, `sms`,
    /// `application` and `firehose` ones are confirmed at once; `http(s)` and `email`
    /// ones, and another account's queue, wait for a confirmation. The ARN, or `pending
    /// confirmation` for one that waits unless `return_arn`.
    pub async fn subscribe(
        &self,
        caller: &Caller,
        topic: &str,
        protocol: &str,
        endpoint: Option<&str>,
        attributes: BTreeMap<String, String>,
        return_arn: bool,
    ) -> Result<String, SnsError> {
        let t = self.topic(caller, "TopicArn", topic)?;
        if !PROTOCOLS.contains(&protocol) {
            return Err(SnsError::invalid(format!(
                "Invalid parameter: Amazon SNS does not support this protocol string: {protocol}"
            )));
        }
        let endpoint = endpoint.unwrap_or_default();
        check_endpoint(protocol, endpoint)?;
        let fifo_topic = topic.ends_with(".fifo");
        if protocol == "sqs" && endpoint.ends_with(".fifo") && !fifo_topic {
            return Err(SnsError::invalid(
                "Invalid parameter: Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed to standard SNS topics",
            ));
        }
        let mut given = BTreeMap::new();
        for (k, v) in attributes {
            let v = self
                .check_attribute(&k, &v, fifo_topic, protocol, endpoint)
                .map_err(|reason| SnsError::invalid(format!("Invalid parameter: Attributes Reason: {reason}")))?;
            given.insert(k, v);
        }
        let existing = self
            .inner
            .subscriptions
            .read()
            .values()
            .find(|s| s.topic_arn == topic && s.protocol == protocol && s.endpoint == endpoint)
            .cloned();
        if let Some(s) = existing {
            let current = json_map(&s.attributes);
            let defaults = [("RawMessageDelivery", "false"), ("FilterPolicyScope", "MessageAttributes")];
            let differs = given.iter().any(|(k, v)| {
                let now = current
                    .get(k)
                    .map(String::as_str)
                    .or_else(|| defaults.iter().find(|(name, _)| name == k).map(|(_, default)| *default));
                match v {
                    Some(v) => now != Some(v.as_str()),
                    None => now.is_some(),
                }
            });
            if differs {
                return Err(SnsError::invalid(
                    "Invalid parameter: Attributes Reason: Subscription already exists with different attributes",
                ));
            }
            // A pending subscription is asked to confirm again.
            if s.token.is_some() {
                self.send_confirmation(&s).await?;
            }
            return Ok(shown_arn(&s, return_arn));
        }
        let mut attrs: BTreeMap<String, String> = given.into_iter().filter_map(|(k, v)| Some((k, v?))).collect();
        attrs.insert(PRINCIPAL.into(), caller.principal.clone());
        // A queue of another account is the queue owner's to confirm, as on AWS: SNS sends
        // it a SubscriptionConfirmation (if the queue's policy lets SNS send) and delivers
        // nothing until the owner confirms.
        let foreign_queue = protocol == "sqs" && endpoint.split(':').nth(4) != Some(caller.account.as_str());
        let confirm = matches!(protocol, "http" | "https" | "email" | "email-json") || foreign_queue;
        let record = SubscriptionRecord {
            arn: format!("{}:{}", t.arn, uuid::Uuid::new_v4()),
            topic_arn: t.arn.clone(),
            protocol: protocol.to_owned(),
            endpoint: endpoint.to_owned(),
            owner: caller.account.clone(),
            attributes: to_json(&attrs),
            token: confirm.then(new_token),
        };
        self.save_subscription(record.clone())?;
        if confirm {
            self.send_confirmation(&record).await?;
        }
        Ok(shown_arn(&record, return_arn))
    }

    fn save_subscription(&self, s: SubscriptionRecord) -> Result<(), SnsError> {
        self.inner.store.put_subscription(&s)?;
        self.inner.subscriptions.write().insert(s.arn.clone(), s);
        Ok(())
    }

    /// Checks one attribute of a subscription; its value as kept (`None`: removed). The
    /// error is the reason, which Subscribe and SetSubscriptionAttributes word apart.
    fn check_attribute(
        &self,
        name: &str,
        value: &str,
        fifo_topic: bool,
        protocol: &str,
        endpoint: &str,
    ) -> Result<Option<String>, String> {
        if !SUBSCRIPTION_ATTRIBUTES.contains(&name) {
            return Err(format!("Unknown attribute {name}"));
        }
        Ok(match name {
            "RawMessageDelivery" => match value.to_ascii_lowercase().as_str() {
                v @ ("true" | "false") => Some(v.to_owned()),
                _ => return Err(format!("RawMessageDelivery: Invalid value [{value}]. Must be true or false.")),
            },
            "FilterPolicy" if value.is_empty() => None,
            "FilterPolicy" => {
                let v = checks::json_document("FilterPolicy", value)?;
                filter::check_value(&v)?;
                Some(value.to_owned())
            }
            "FilterPolicyScope" => match value {
                "MessageAttributes" | "MessageBody" => Some(value.to_owned()),
                _ => {
                    return Err(format!(
                        "FilterPolicyScope: Invalid value [{value}]. Please use either MessageBody or MessageAttributes"
                    ))
                }
            },
            "RedrivePolicy" if value.is_empty() => None,
            "RedrivePolicy" => {
                let v = checks::json_document("RedrivePolicy", value)?;
                let target = v.get("deadLetterTargetArn").and_then(Value::as_str).unwrap_or_default();
                if checks::arn("", target).is_err() {
                    return Err("RedrivePolicy: deadLetterTargetArn is an invalid arn".into());
                }
                if fifo_topic && protocol == "sqs" && endpoint.ends_with(".fifo") && !target.ends_with(".fifo") {
                    return Err(
                        "RedrivePolicy: must use a FIFO queue as DLQ for a FIFO Subscription to a FIFO Topic.".into()
                    );
                }
                Some(value.to_owned())
            }
            _ => Some(value.to_owned()),
        })
    }

    /// ConfirmSubscription.
    pub fn confirm(&self, caller: &Caller, topic: &str, token: &str) -> Result<String, SnsError> {
        let parsed = checks::arn("Topic", topic).map_err(|_| SnsError::invalid("Invalid parameter: Topic"))?;
        if parsed.region != caller.region {
            return Err(SnsError::invalid("Invalid parameter: Topic"));
        }
        let shaped = token.len() >= 32 && token.chars().all(|c| c.is_ascii_hexdigit());
        if !shaped {
            return Err(SnsError::invalid("Invalid token"));
        }
        {
            let mut subs = self.inner.subscriptions.write();
            let found = subs.values_mut().find(|s| s.topic_arn == topic && s.token.as_deref() == Some(token));
            if let Some(s) = found {
                s.token = None;
                self.inner.store.put_subscription(s)?;
                return Ok(s.arn.clone());
            }
        }
        // An UnsubscribeConfirmation's token brings the subscription back, while its
        // topic exists.
        let topic_exists = self.inner.topics.read().contains_key(topic);
        match self.restorable(topic, token)?.filter(|_| topic_exists) {
            Some(s) => {
                let arn = s.arn.clone();
                self.save_subscription(s)?;
                Ok(arn)
            }
            None => Err(SnsError::invalid("Invalid parameter: Token")),
        }
    }

    /// The subscription an ARN names, checked as SNS checks it.
    fn subscription(&self, arn: &str) -> Result<SubscriptionRecord, SnsError> {
        let parsed = checks::arn("SubscriptionArn", arn)?;
        if !parsed.resource.contains(':') {
            return Err(SnsError::invalid("Invalid parameter: SubscriptionId"));
        }
        let subs = self.inner.subscriptions.read();
        subs.get(arn).cloned().ok_or_else(|| SnsError::not_found("Subscription does not exist"))
    }

    /// Unsubscribe; a missing subscription is not an error. A confirmed HTTP(S)
    /// subscriber is sent an UnsubscribeConfirmation whose token restores the
    /// subscription through ConfirmSubscription, as on AWS.
    pub async fn unsubscribe(&self, arn: &str) -> Result<(), SnsError> {
        let s = match self.subscription(arn) {
            Ok(s) => s,
            Err(e) if e.code == "NotFound" => return Ok(()),
            Err(e) => return Err(e),
        };
        self.inner.store.delete_subscription(arn)?;
        self.inner.subscriptions.write().remove(arn);
        if matches!(s.protocol.as_str(), "http" | "https") && s.token.is_none() {
            let token = new_token();
            let kept = serde_json::json!({
                "arn": s.arn, "topic_arn": s.topic_arn, "protocol": s.protocol, "endpoint": s.endpoint,
                "owner": s.owner, "attributes": s.attributes,
            });
            self.inner.store.put_document(UNSUBSCRIBED, &token, &kept.to_string())?;
            self.send_unsubscribe_confirmation(&s, &token).await?;
        }
        Ok(())
    }

    /// The subscription an UnsubscribeConfirmation's token restores, taken out of the
    /// store.
    fn restorable(&self, topic: &str, token: &str) -> Result<Option<SubscriptionRecord>, SnsError> {
        let Some((_, body)) = self.inner.store.documents(UNSUBSCRIBED)?.into_iter().find(|(k, _)| k == token) else {
            return Ok(None);
        };
        let v: Value = serde_json::from_str(&body).unwrap_or_default();
        let text = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
        if text("topic_arn") != topic {
            return Ok(None);
        }
        self.inner.store.delete_documents(UNSUBSCRIBED, &[token.to_owned()])?;
        Ok(Some(SubscriptionRecord {
            arn: text("arn"),
            topic_arn: text("topic_arn"),
            protocol: text("protocol"),
            endpoint: text("endpoint"),
            owner: text("owner"),
            attributes: text("attributes"),
            token: None,
        }))
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
        if out.contains_key("FilterPolicy") {
            out.entry("FilterPolicyScope".into()).or_insert_with(|| "MessageAttributes".into());
        } else {
            out.remove("FilterPolicyScope");
        }
        Ok(out)
    }

    /// SetSubscriptionAttributes.
    pub fn set_subscription_attribute(&self, arn: &str, name: &str, value: &str) -> Result<(), SnsError> {
        let mut s = self.subscription(arn)?;
        if !SUBSCRIPTION_ATTRIBUTES.contains(&name) {
            return Err(SnsError::invalid("Invalid parameter: AttributeName"));
        }
        let kept = self
            .check_attribute(name, value, s.topic_arn.ends_with(".fifo"), &s.protocol, &s.endpoint)
            .map_err(|reason| SnsError::invalid(format!("Invalid parameter: {reason}")))?;
        let mut attrs = json_map(&s.attributes);
        match kept {
            Some(v) => attrs.insert(name.to_owned(), v),
            None => attrs.remove(name),
        };
        s.attributes = to_json(&attrs);
        self.save_subscription(s)
    }

    /// ListSubscriptions (the caller's) or ListSubscriptionsByTopic, 100 a page.
    pub fn list_subscriptions(
        &self,
        caller: &Caller,
        topic: Option<&str>,
        next: Option<&str>,
    ) -> Result<Page, SnsError> {
        if let Some(t) = topic {
            self.topic(caller, "TopicArn", t)?;
        }
        let after = match next {
            Some(token) => Some(
                base64::engine::general_purpose::STANDARD
                    .decode(token)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .ok_or_else(|| SnsError::invalid("Invalid parameter: NextToken"))?,
            ),
            None => None,
        };
        let subs = self.inner.subscriptions.read();
        let mut page: Vec<&SubscriptionRecord> = subs
            .values()
            .filter(|s| match topic {
                Some(t) => s.topic_arn == t,
                None => s.owner == caller.account && s.topic_arn.split(':').nth(3) == Some(caller.region.as_str()),
            })
            .filter(|s| after.as_deref().is_none_or(|a| s.arn.as_str() > a))
            .take(101)
            .collect();
        let token = (page.len() > 100).then(|| {
            page.truncate(100);
            base64::engine::general_purpose::STANDARD.encode(&page[99].arn)
        });
        let page = page.into_iter().map(view).collect();
        Ok((page, token))
    }
}

/// Store kind of the subscriptions an UnsubscribeConfirmation's token can restore.
const UNSUBSCRIBED: &str = "unsubscribed";

/// A new confirmation token: hex, as long as AWS's.
fn new_token() -> String {
    (0..4).map(|_| uuid::Uuid::new_v4().simple().to_string()).collect()
}

/// The ARN Subscribe answers: a subscription waiting for confirmation is `pending
/// confirmation` unless the caller asked for the ARN.
fn shown_arn(s: &SubscriptionRecord, return_arn: bool) -> String {
    if s.token.is_some() && !return_arn {
        "pending confirmation".to_owned()
    } else {
        s.arn.clone()
    }
}

/// Checks a subscription's endpoint as its protocol needs it.
fn check_endpoint(protocol: &str, endpoint: &str) -> Result<(), SnsError> {
    let arn_of =
        |service: &str| checks::arn("Endpoint", endpoint).is_ok() && endpoint.split(':').nth(2) == Some(service);
    let (ok, message) = match protocol {
        "sqs" => (arn_of("sqs"), "Invalid parameter: SQS endpoint ARN".to_owned()),
        "lambda" => (arn_of("lambda"), "Invalid parameter: Lambda endpoint ARN".to_owned()),
        "firehose" => (arn_of("firehose"), "Invalid parameter: Firehose endpoint ARN".to_owned()),
        "application" => (arn_of("sns"), "Invalid parameter: Application endpoint ARN".to_owned()),
        "http" => (
            endpoint.starts_with("http://"),
            "Invalid parameter: Endpoint must match the specified protocol".to_owned(),
        ),
        "https" => (
            endpoint.starts_with("https://"),
            "Invalid parameter: Endpoint must match the specified protocol".to_owned(),
        ),
        "email" | "email-json" => (endpoint.contains('@'), "Invalid parameter: Email address".to_owned()),
        _ => (checks::phone_number_ok(endpoint), format!("Invalid SMS endpoint: {endpoint}")),
    };
    if ok {
        Ok(())
    } else {
        Err(SnsError::invalid(message))
    }
}

/// A subscription as listed: one that waits for confirmation shows `PendingConfirmation`.
pub(crate) fn view(s: &SubscriptionRecord) -> Subscription {
    Subscription {
        arn: if s.token.is_some() { "PendingConfirmation".into() } else { s.arn.clone() },
        topic_arn: s.topic_arn.clone(),
        protocol: s.protocol.clone(),
        endpoint: s.endpoint.clone(),
        owner: s.owner.clone(),
    }
}
