//! SNS (its query protocol: form `Action=…` requests, XML answers). The protocol layer reads
//! a request into SNS's model's input tree, checks it, and writes the answer from the
//! output tree; this module turns trees into service calls and results into trees.

use std::collections::BTreeMap;

use protocol::ServiceError;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use sns::{Attribute, Caller, PublishInput, SnsError, SnsService};

/// The operations Lamina implements; the model's others answer 501.
pub(crate) const OPERATIONS: &[&str] = &[
    "CreateTopic",
    "ListTopics",
    "DeleteTopic",
    "GetTopicAttributes",
    "SetTopicAttributes",
    "Subscribe",
    "ConfirmSubscription",
    "Unsubscribe",
    "ListSubscriptions",
    "ListSubscriptionsByTopic",
    "GetSubscriptionAttributes",
    "SetSubscriptionAttributes",
    "Publish",
    "PublishBatch",
    "TagResource",
    "UntagResource",
    "ListTagsForResource",
];

/// An SNS error as the protocol layer writes it.
pub(crate) fn service_error(e: &SnsError) -> ServiceError {
    let mut out = ServiceError::new(e.code, e.message.clone()).status(e.status);
    out.sender_fault = Some(e.status < 500);
    out
}

fn parse<T: DeserializeOwned>(input: &Value) -> Result<T, SnsError> {
    T::deserialize(input).map_err(|e| SnsError::invalid(format!("Invalid parameter: {e}")))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Tag {
    key: String,
    #[serde(default)]
    value: String,
}

fn tags(tags: Option<Vec<Tag>>) -> BTreeMap<String, String> {
    tags.unwrap_or_default().into_iter().map(|t| (t.key, t.value)).collect()
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AttributeWire {
    data_type: Option<String>,
    string_value: Option<String>,
    binary_value: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct PublishWire {
    id: Option<String>,
    topic_arn: Option<String>,
    target_arn: Option<String>,
    message: Option<String>,
    subject: Option<String>,
    message_structure: Option<String>,
    message_attributes: Option<BTreeMap<String, AttributeWire>>,
    message_group_id: Option<String>,
    message_deduplication_id: Option<String>,
}

impl PublishWire {
    fn into_input(self) -> Result<PublishInput, SnsError> {
        let mut attributes = BTreeMap::new();
        for (name, a) in self.message_attributes.unwrap_or_default() {
            let reason = |what: &str| {
                SnsError::invalid(format!(
                    "Invalid parameter: MessageAttributes Reason: The message attribute '{name}' must contain a non-empty message attribute {what}."
                ))
            };
            let data_type = a.data_type.ok_or_else(|| reason("type"))?;
            let value = a.string_value.or(a.binary_value).ok_or_else(|| reason("value"))?;
            attributes.insert(name, Attribute { data_type, value });
        }
        Ok(PublishInput {
            message: self.message.ok_or_else(|| SnsError::invalid("Invalid parameter: Message"))?,
            subject: self.subject,
            structure: self.message_structure,
            attributes,
            group_id: self.message_group_id,
            dedup_id: self.message_deduplication_id,
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PublishBatchWire {
    topic_arn: String,
    #[serde(default)]
    publish_batch_request_entries: Vec<PublishWire>,
}

/// The request members the simple operations read.
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct Wire {
    name: Option<String>,
    topic_arn: Option<String>,
    subscription_arn: Option<String>,
    resource_arn: Option<String>,
    protocol: Option<String>,
    endpoint: Option<String>,
    token: Option<String>,
    next_token: Option<String>,
    attribute_name: Option<String>,
    attribute_value: Option<String>,
    attributes: Option<BTreeMap<String, String>>,
    tags: Option<Vec<Tag>>,
    tag_keys: Option<Vec<String>>,
}

fn need<'a>(v: &'a Option<String>, name: &str) -> Result<&'a str, SnsError> {
    v.as_deref().ok_or_else(|| SnsError::invalid(format!("Invalid parameter: {name}")))
}

fn subscription(s: &sns::Subscription) -> Value {
    json!({ "Owner": s.owner, "Protocol": s.protocol, "Endpoint": s.endpoint,
            "SubscriptionArn": s.arn, "TopicArn": s.topic_arn })
}

/// Runs one SNS operation on its input tree; the output tree.
pub(crate) async fn run(sns: &SnsService, caller: &Caller, operation: &str, input: Value) -> Result<Value, SnsError> {
    if operation == "Publish" {
        let w: PublishWire = parse(&input)?;
        let topic = w.topic_arn.clone().or_else(|| w.target_arn.clone()).ok_or_else(|| {
            SnsError::invalid("Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter")
        })?;
        let (id, sequence) = sns.publish(caller, &topic, w.into_input()?).await?;
        return Ok(json!({ "MessageId": id, "SequenceNumber": sequence }));
    }
    if operation == "PublishBatch" {
        return publish_batch(sns, caller, parse(&input)?).await;
    }
    let w: Wire = parse(&input)?;
    Ok(match operation {
        "CreateTopic" => {
            let arn = sns.create_topic(
                caller,
                need(&w.name, "Name")?,
                w.attributes.clone().unwrap_or_default(),
                tags(w.tags),
            )?;
            json!({ "TopicArn": arn })
        }
        "ListTopics" => {
            let (topics, next) = sns.list_topics(caller, w.next_token.as_deref());
            let topics: Vec<Value> = topics.iter().map(|t| json!({ "TopicArn": t })).collect();
            json!({ "Topics": topics, "NextToken": next })
        }
        "DeleteTopic" => {
            sns.delete_topic(caller, need(&w.topic_arn, "TopicArn")?)?;
            json!({})
        }
        "GetTopicAttributes" => json!({ "Attributes": sns.topic_attributes(caller, need(&w.topic_arn, "TopicArn")?)? }),
        "SetTopicAttributes" => {
            let value = w.attribute_value.as_deref().unwrap_or_default();
            sns.set_topic_attribute(
                caller,
                need(&w.topic_arn, "TopicArn")?,
                need(&w.attribute_name, "AttributeName")?,
                value,
            )?;
            json!({})
        }
        "Subscribe" => {
            let s = sns
                .subscribe(
                    caller,
                    need(&w.topic_arn, "TopicArn")?,
                    need(&w.protocol, "Protocol")?,
                    need(&w.endpoint, "Endpoint")?,
                    w.attributes.clone().unwrap_or_default(),
                )
                .await?;
            // AWS answers a subscription that waits for confirmation this way; listings show
            // `PendingConfirmation`.
            let shown = if s.pending { "pending confirmation".to_owned() } else { s.arn };
            json!({ "SubscriptionArn": shown })
        }
        "ConfirmSubscription" => {
            json!({ "SubscriptionArn": sns.confirm(need(&w.topic_arn, "TopicArn")?, need(&w.token, "Token")?)? })
        }
        "Unsubscribe" => {
            sns.unsubscribe(need(&w.subscription_arn, "SubscriptionArn")?)?;
            json!({})
        }
        "ListSubscriptions" | "ListSubscriptionsByTopic" => {
            let topic =
                if operation == "ListSubscriptionsByTopic" { Some(need(&w.topic_arn, "TopicArn")?) } else { None };
            let subs: Vec<Value> = sns.list_subscriptions(caller, topic)?.iter().map(subscription).collect();
            json!({ "Subscriptions": subs })
        }
        "GetSubscriptionAttributes" => {
            json!({ "Attributes": sns.subscription_attributes(need(&w.subscription_arn, "SubscriptionArn")?)? })
        }
        "SetSubscriptionAttributes" => {
            let value = w.attribute_value.as_deref().unwrap_or_default();
            sns.set_subscription_attribute(
                need(&w.subscription_arn, "SubscriptionArn")?,
                need(&w.attribute_name, "AttributeName")?,
                value,
            )?;
            json!({})
        }
        "TagResource" => {
            sns.tags(caller, need(&w.resource_arn, "ResourceArn")?, tags(w.tags), &[])?;
            json!({})
        }
        "UntagResource" => {
            sns.tags(
                caller,
                need(&w.resource_arn, "ResourceArn")?,
                BTreeMap::new(),
                &w.tag_keys.clone().unwrap_or_default(),
            )?;
            json!({})
        }
        "ListTagsForResource" => {
            let tags = sns.tags(caller, need(&w.resource_arn, "ResourceArn")?, BTreeMap::new(), &[])?;
            let tags: Vec<Value> = tags.iter().map(|(k, v)| json!({ "Key": k, "Value": v })).collect();
            json!({ "Tags": tags })
        }
        other => {
            return Err(SnsError {
                code: "InvalidAction",
                status: 400,
                message: format!("The action {other} is not valid for this web service."),
            })
        }
    })
}

async fn publish_batch(sns: &SnsService, caller: &Caller, w: PublishBatchWire) -> Result<Value, SnsError> {
    // The whole batch is refused before any entry is published.
    if w.publish_batch_request_entries.is_empty() {
        return Err(SnsError {
            code: "EmptyBatchRequest",
            status: 400,
            message: "The batch request doesn't contain any entries".into(),
        });
    }
    if w.publish_batch_request_entries.len() > 10 {
        return Err(SnsError {
            code: "TooManyEntriesInBatchRequest",
            status: 400,
            message: "The batch request contains more entries than permissible.".into(),
        });
    }
    let (mut ok, mut failed) = (Vec::new(), Vec::new());
    for entry in w.publish_batch_request_entries {
        let id = entry.id.clone().unwrap_or_default();
        let result = match entry.into_input() {
            Ok(input) => sns.publish(caller, &w.topic_arn, input).await,
            Err(e) => Err(e),
        };
        match result {
            Ok((message_id, sequence)) => {
                ok.push(json!({ "Id": id, "MessageId": message_id, "SequenceNumber": sequence }))
            }
            Err(e) => failed.push(json!({ "Id": id, "Code": e.code, "Message": e.message, "SenderFault": true })),
        }
    }
    Ok(json!({ "Successful": ok, "Failed": failed }))
}
