//! SNS (its query protocol: form `Action=…` requests, XML answers). The protocol layer reads
//! a request into SNS's model's input tree, checks it, and writes the answer from the
//! output tree; this module turns trees into service calls and results into trees.

use std::collections::BTreeMap;

use protocol::ServiceError;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use sns::checks::{self, AttributeInput};
use sns::{Caller, PublishInput, SnsError, SnsService};

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
    "AddPermission",
    "RemovePermission",
    "PutDataProtectionPolicy",
    "GetDataProtectionPolicy",
    "CreatePlatformApplication",
    "GetPlatformApplicationAttributes",
    "SetPlatformApplicationAttributes",
    "DeletePlatformApplication",
    "ListPlatformApplications",
    "CreatePlatformEndpoint",
    "GetEndpointAttributes",
    "SetEndpointAttributes",
    "DeleteEndpoint",
    "ListEndpointsByPlatformApplication",
    "SetSMSAttributes",
    "GetSMSAttributes",
    "CheckIfPhoneNumberIsOptedOut",
    "ListPhoneNumbersOptedOut",
    "OptInPhoneNumber",
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

#[derive(Deserialize, Clone)]
#[serde(rename_all = "PascalCase")]
struct Tag {
    key: String,
    #[serde(default)]
    value: String,
}

fn tags(tags: Option<Vec<Tag>>) -> Vec<(String, String)> {
    tags.unwrap_or_default().into_iter().map(|t| (t.key, t.value)).collect()
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AttributeWire {
    #[serde(default)]
    data_type: String,
    string_value: Option<String>,
    binary_value: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct PublishWire {
    id: Option<String>,
    topic_arn: Option<String>,
    target_arn: Option<String>,
    phone_number: Option<String>,
    message: Option<String>,
    subject: Option<String>,
    message_structure: Option<String>,
    message_attributes: Option<BTreeMap<String, AttributeWire>>,
    message_group_id: Option<String>,
    message_deduplication_id: Option<String>,
}

impl PublishWire {
    fn into_input(self, trace: Option<&str>) -> Result<PublishInput, SnsError> {
        let attributes = self
            .message_attributes
            .unwrap_or_default()
            .into_iter()
            .map(|(name, a)| {
                (name, AttributeInput { data_type: a.data_type, string: a.string_value, binary: a.binary_value })
            })
            .collect();
        Ok(PublishInput {
            message: self.message.ok_or_else(|| SnsError::invalid("Invalid parameter: Message"))?,
            subject: self.subject,
            structure: self.message_structure,
            attributes: checks::message_attributes(attributes)?,
            group_id: self.message_group_id,
            dedup_id: self.message_deduplication_id,
            trace_header: trace.map(str::to_owned),
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
    return_subscription_arn: Option<bool>,
    label: Option<String>,
    #[serde(rename = "AWSAccountId")]
    aws_account_id: Option<Vec<String>>,
    action_name: Option<Vec<String>>,
    data_protection_policy: Option<String>,
    platform: Option<String>,
    platform_application_arn: Option<String>,
    endpoint_arn: Option<String>,
    custom_user_data: Option<String>,
    /// SetSMSAttributes' map and GetSMSAttributes' list share this lower-case name.
    #[serde(rename = "attributes")]
    sms_attributes: Option<Value>,
    #[serde(rename = "phoneNumber")]
    phone_number: Option<String>,
}

fn with_attributes(items: sns::Listed, arn_name: &str) -> Vec<Value> {
    items.into_iter().map(|(arn, a)| json!({ arn_name: arn, "Attributes": a })).collect()
}

fn need<'a>(v: &'a Option<String>, name: &str) -> Result<&'a str, SnsError> {
    v.as_deref()
        .ok_or_else(|| SnsError::invalid(format!("Invalid parameter: {name} Reason: no value for required parameter")))
}

fn subscriptions((page, next): sns::Page) -> Value {
    let subs: Vec<Value> = page
        .iter()
        .map(|s| {
            json!({ "Owner": s.owner, "Protocol": s.protocol, "Endpoint": s.endpoint,
                    "SubscriptionArn": s.arn, "TopicArn": s.topic_arn })
        })
        .collect();
    json!({ "Subscriptions": subs, "NextToken": next })
}

/// Runs one SNS operation on its input tree; the output tree.
/// `trace` is the request's `X-Amzn-Trace-Id`, which published messages carry on.
pub(crate) async fn run(
    sns: &SnsService,
    caller: &Caller,
    operation: &str,
    input: Value,
    trace: Option<&str>,
) -> Result<Value, SnsError> {
    if operation == "Publish" {
        return publish(sns, caller, parse(&input)?, trace).await;
    }
    if operation == "PublishBatch" {
        return publish_batch(sns, caller, parse(&input)?, trace).await;
    }
    let w: Wire = parse(&input)?;
    let found = match topics_operation(sns, caller, operation, &w)? {
        Some(v) => Some(v),
        None => match platform_operation(sns, caller, operation, &w)? {
            Some(v) => Some(v),
            None => match sms_operation(sns, caller, operation, &w)? {
                Some(v) => Some(v),
                None => match subscriptions_operation(sns, caller, operation, &w).await? {
                    Some(v) => Some(v),
                    None => tags_operation(sns, caller, operation, &w)?,
                },
            },
        },
    };
    found.ok_or_else(|| SnsError {
        code: "InvalidAction",
        status: 400,
        message: format!("The action {operation} is not valid for this web service."),
    })
}

/// Topics, their attributes, permissions and data protection policies. `None` for an operation of another group.
fn topics_operation(sns: &SnsService, caller: &Caller, operation: &str, w: &Wire) -> Result<Option<Value>, SnsError> {
    Ok(Some(match operation {
        "CreateTopic" => {
            let attributes = w.attributes.clone().unwrap_or_default();
            let arn = sns.create_topic(caller, need(&w.name, "Name")?, attributes, tags(w.tags.clone()))?;
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
            let (topic, name) = (need(&w.topic_arn, "TopicArn")?, need(&w.attribute_name, "AttributeName")?);
            sns.set_topic_attribute(caller, topic, name, value)?;
            json!({})
        }
        "AddPermission" => {
            let accounts = w.aws_account_id.clone().unwrap_or_default();
            let actions = w.action_name.clone().unwrap_or_default();
            let (topic, label) = (need(&w.topic_arn, "TopicArn")?, need(&w.label, "Label")?);
            sns.add_permission(caller, topic, label, &accounts, &actions)?;
            json!({})
        }
        "RemovePermission" => {
            sns.remove_permission(caller, need(&w.topic_arn, "TopicArn")?, need(&w.label, "Label")?)?;
            json!({})
        }
        "PutDataProtectionPolicy" => {
            let (arn, policy) =
                (need(&w.resource_arn, "ResourceArn")?, need(&w.data_protection_policy, "DataProtectionPolicy")?);
            sns.put_data_protection_policy(caller, arn, policy)?;
            json!({})
        }
        "GetDataProtectionPolicy" => {
            json!({ "DataProtectionPolicy": sns.data_protection_policy(caller, need(&w.resource_arn, "ResourceArn")?)? })
        }
        _ => return Ok(None),
    }))
}

/// Platform applications and their endpoints. `None` for an operation of another group.
fn platform_operation(sns: &SnsService, caller: &Caller, operation: &str, w: &Wire) -> Result<Option<Value>, SnsError> {
    Ok(Some(match operation {
        "CreatePlatformApplication" => {
            let (name, platform) = (need(&w.name, "Name")?, need(&w.platform, "Platform")?);
            let arn =
                sns.create_platform_application(caller, name, platform, w.attributes.clone().unwrap_or_default())?;
            json!({ "PlatformApplicationArn": arn })
        }
        "GetPlatformApplicationAttributes" => {
            let arn = need(&w.platform_application_arn, "PlatformApplicationArn")?;
            json!({ "Attributes": sns.platform_application_attributes(caller, arn)? })
        }
        "SetPlatformApplicationAttributes" => {
            let arn = need(&w.platform_application_arn, "PlatformApplicationArn")?;
            sns::checks::arn("PlatformApplicationArn", arn)?;
            let Some(attributes) = w.attributes.clone() else {
                return Err(SnsError {
                    code: "ValidationError",
                    status: 400,
                    message: "1 validation error detected: Value null at 'attributes' failed to satisfy constraint: \
                              Member must not be null"
                        .into(),
                });
            };
            sns.set_platform_application_attributes(caller, arn, attributes)?;
            json!({})
        }
        "DeletePlatformApplication" => {
            sns.delete_platform_application(caller, need(&w.platform_application_arn, "PlatformApplicationArn")?)?;
            json!({})
        }
        "ListPlatformApplications" => {
            json!({ "PlatformApplications": with_attributes(sns.list_platform_applications(caller), "PlatformApplicationArn") })
        }
        "CreatePlatformEndpoint" => {
            let (app, token) = (need(&w.platform_application_arn, "PlatformApplicationArn")?, need(&w.token, "Token")?);
            let attributes = w.attributes.clone().unwrap_or_default();
            let arn = sns.create_platform_endpoint(caller, app, token, w.custom_user_data.clone(), attributes)?;
            json!({ "EndpointArn": arn })
        }
        "GetEndpointAttributes" => {
            json!({ "Attributes": sns.endpoint_attributes(caller, need(&w.endpoint_arn, "EndpointArn")?)? })
        }
        "SetEndpointAttributes" => {
            let arn = need(&w.endpoint_arn, "EndpointArn")?;
            sns.set_endpoint_attributes(caller, arn, w.attributes.clone().unwrap_or_default())?;
            json!({})
        }
        "DeleteEndpoint" => {
            sns.delete_endpoint(caller, need(&w.endpoint_arn, "EndpointArn")?)?;
            json!({})
        }
        "ListEndpointsByPlatformApplication" => {
            let app = need(&w.platform_application_arn, "PlatformApplicationArn")?;
            json!({ "Endpoints": with_attributes(sns.list_endpoints(caller, app)?, "EndpointArn") })
        }
        _ => return Ok(None),
    }))
}

/// SMS settings and opted-out phone numbers. `None` for an operation of another group.
fn sms_operation(sns: &SnsService, caller: &Caller, operation: &str, w: &Wire) -> Result<Option<Value>, SnsError> {
    Ok(Some(match operation {
        "SetSMSAttributes" => {
            let attributes: BTreeMap<String, String> = parse(&w.sms_attributes.clone().unwrap_or_default())?;
            sns.set_sms_attributes(caller, attributes)?;
            json!({})
        }
        "GetSMSAttributes" => {
            let names: Vec<String> = match &w.sms_attributes {
                Some(v) => parse(v)?,
                None => Vec::new(),
            };
            json!({ "attributes": sns.sms_attributes(caller, &names) })
        }
        "CheckIfPhoneNumberIsOptedOut" => {
            json!({ "isOptedOut": sns.phone_number_opted_out(need(&w.phone_number, "PhoneNumber")?)? })
        }
        "ListPhoneNumbersOptedOut" => json!({ "phoneNumbers": [] }),
        "OptInPhoneNumber" => {
            sns.opt_in_phone_number(need(&w.phone_number, "PhoneNumber")?)?;
            json!({})
        }
        _ => return Ok(None),
    }))
}

/// Subscriptions. `None` for an operation of another group.
async fn subscriptions_operation(
    sns: &SnsService,
    caller: &Caller,
    operation: &str,
    w: &Wire,
) -> Result<Option<Value>, SnsError> {
    Ok(Some(match operation {
        "Subscribe" => {
            let arn = sns
                .subscribe(
                    caller,
                    need(&w.topic_arn, "TopicArn")?,
                    need(&w.protocol, "Protocol")?,
                    w.endpoint.as_deref(),
                    w.attributes.clone().unwrap_or_default(),
                    w.return_subscription_arn.unwrap_or(false),
                )
                .await?;
            json!({ "SubscriptionArn": arn })
        }
        "ConfirmSubscription" => {
            let arn = sns.confirm(caller, need(&w.topic_arn, "TopicArn")?, need(&w.token, "Token")?)?;
            json!({ "SubscriptionArn": arn })
        }
        "Unsubscribe" => {
            sns.unsubscribe(need(&w.subscription_arn, "SubscriptionArn")?).await?;
            json!({})
        }
        "ListSubscriptions" => subscriptions(sns.list_subscriptions(caller, None, w.next_token.as_deref())?),
        "ListSubscriptionsByTopic" => {
            let topic = need(&w.topic_arn, "TopicArn")?;
            subscriptions(sns.list_subscriptions(caller, Some(topic), w.next_token.as_deref())?)
        }
        "GetSubscriptionAttributes" => {
            json!({ "Attributes": sns.subscription_attributes(need(&w.subscription_arn, "SubscriptionArn")?)? })
        }
        "SetSubscriptionAttributes" => {
            let value = w.attribute_value.as_deref().unwrap_or_default();
            let (arn, name) =
                (need(&w.subscription_arn, "SubscriptionArn")?, need(&w.attribute_name, "AttributeName")?);
            sns.set_subscription_attribute(arn, name, value)?;
            json!({})
        }
        _ => return Ok(None),
    }))
}

/// Tags of topics. `None` for an operation of another group.
fn tags_operation(sns: &SnsService, caller: &Caller, operation: &str, w: &Wire) -> Result<Option<Value>, SnsError> {
    Ok(Some(match operation {
        "TagResource" => {
            sns.tags(caller, need(&w.resource_arn, "ResourceArn")?, tags(w.tags.clone()), &[])?;
            json!({})
        }
        "UntagResource" => {
            let keys = w.tag_keys.clone().unwrap_or_default();
            sns.tags(caller, need(&w.resource_arn, "ResourceArn")?, Vec::new(), &keys)?;
            json!({})
        }
        "ListTagsForResource" => {
            let tags = sns.tags(caller, need(&w.resource_arn, "ResourceArn")?, Vec::new(), &[])?;
            let tags: Vec<Value> = tags.iter().map(|(k, v)| json!({ "Key": k, "Value": v })).collect();
            json!({ "Tags": tags })
        }
        _ => return Ok(None),
    }))
}

/// Publish, to a topic (`TopicArn` or `TargetArn`) or a phone number.
async fn publish(sns: &SnsService, caller: &Caller, w: PublishWire, trace: Option<&str>) -> Result<Value, SnsError> {
    if let Some(number) = w.phone_number.clone() {
        if !checks::phone_number_ok(&number) {
            return Err(SnsError::invalid(format!(
                "Invalid parameter: PhoneNumber Reason: {number} is not valid to publish to"
            )));
        }
        w.into_input(trace)?;
        // There is no SMS gateway on this machine: the message is accepted and logged.
        let id = uuid::Uuid::new_v4().to_string();
        tracing::info!(phone_number = %number, message_id = %id, "sns: SMS not sent (no SMS gateway)");
        return Ok(json!({ "MessageId": id }));
    }
    let (param, topic) = match (w.topic_arn.clone(), w.target_arn.clone()) {
        (Some(t), _) => ("TopicArn", t),
        (None, Some(t)) => ("TargetArn", t),
        (None, None) => {
            return Err(SnsError::invalid(
                "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter",
            ))
        }
    };
    let parsed = checks::arn(param, &topic)?;
    if parsed.resource.starts_with("endpoint/") {
        let id = sns.publish_to_endpoint(caller, &topic, &w.into_input(trace)?.message)?;
        return Ok(json!({ "MessageId": id }));
    }
    let (id, sequence) = sns.publish(caller, &topic, w.into_input(trace)?).await?;
    Ok(json!({ "MessageId": id, "SequenceNumber": sequence }))
}

fn batch_error(code: &'static str, message: &str) -> SnsError {
    SnsError { code, status: 400, message: message.into() }
}

async fn publish_batch(
    sns: &SnsService,
    caller: &Caller,
    w: PublishBatchWire,
    trace: Option<&str>,
) -> Result<Value, SnsError> {
    // The whole batch is refused before any entry is published.
    let entries = w.publish_batch_request_entries;
    let ids: Vec<String> = entries.iter().map(|e| e.id.clone().unwrap_or_default()).collect();
    let mut inputs = Vec::with_capacity(entries.len());
    for e in entries {
        inputs.push(e.into_input(trace)?);
    }
    if inputs.is_empty() {
        return Err(batch_error("EmptyBatchRequest", "The batch request doesn't contain any entries"));
    }
    if inputs.len() > 10 {
        return Err(batch_error(
            "TooManyEntriesInBatchRequest",
            "The batch request contains more entries than permissible.",
        ));
    }
    if ids.iter().enumerate().any(|(i, id)| ids[..i].contains(id)) {
        return Err(batch_error(
            "BatchEntryIdsNotDistinct",
            "Two or more batch entries in the request have the same Id.",
        ));
    }
    for id in &ids {
        checks::batch_entry_id(id)?;
    }
    let total: usize = inputs.iter().map(|i| checks::message_size(&i.message, &i.attributes)).sum();
    if total > checks::MAX_MESSAGE_BYTES {
        return Err(batch_error(
            "BatchRequestTooLong",
            "The length of all the messages put together is more than the limit.",
        ));
    }
    for input in &inputs {
        sns.check_publish(caller, &w.topic_arn, input)?;
    }
    let (mut ok, mut failed) = (Vec::new(), Vec::new());
    for (id, input) in ids.into_iter().zip(inputs) {
        match sns.publish(caller, &w.topic_arn, input).await {
            Ok((message_id, sequence)) => {
                ok.push(json!({ "Id": id, "MessageId": message_id, "SequenceNumber": sequence }))
            }
            Err(e) => failed.push(json!({ "Id": id, "Code": e.code, "Message": e.message, "SenderFault": true })),
        }
    }
    Ok(json!({ "Successful": ok, "Failed": failed }))
}
