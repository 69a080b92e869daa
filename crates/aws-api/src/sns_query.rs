//! SNS's query protocol: form-encoded `Action=…` requests and XML responses.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sns::{Attribute, Caller, PublishInput, SnsError, SnsService};

const NAMESPACE: &str = "http://sns.amazonaws.com/doc/2010-03-31/";

/// The SNS actions, to tell an SNS query request from another service's.
pub(crate) const ACTIONS: &[&str] = &[
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

pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
    out
}

pub(crate) fn element(name: &str, value: &str) -> String {
    format!("<{name}>{}</{name}>", escape(value))
}

fn entries(attrs: &BTreeMap<String, String>) -> String {
    let inner: String =
        attrs.iter().map(|(k, v)| format!("<entry>{}{}</entry>", element("key", k), element("value", v))).collect();
    format!("<Attributes>{inner}</Attributes>")
}

fn xml(status: StatusCode, body: String) -> Response {
    (status, [("content-type", "text/xml")], body).into_response()
}

fn success(action: &str, result: Option<String>, request_id: &str) -> Response {
    // Every response carries its result element: clients look for it whenever the
    // operation's output names one, even when it is empty.
    let result = format!("<{action}Result>{}</{action}Result>", result.unwrap_or_default());
    xml(
        StatusCode::OK,
        format!(
            "<{action}Response xmlns=\"{NAMESPACE}\">{result}<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{action}Response>"
        ),
    )
}

/// An SNS error in the query protocol's XML shape.
pub(crate) fn error_response(e: &SnsError, request_id: &str) -> Response {
    let fault = if e.status >= 500 { "Receiver" } else { "Sender" };
    xml(
        StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST),
        format!(
            "<ErrorResponse xmlns=\"{NAMESPACE}\"><Error><Type>{fault}</Type>{}{}</Error><RequestId>{request_id}</RequestId></ErrorResponse>",
            element("Code", e.code),
            element("Message", &e.message)
        ),
    )
}

/// Reads `params` every way SNS's actions do (a publish, its attributes, attribute maps
/// and lists), for the query-protocol fuzz target.
pub(crate) fn exercise(params: Vec<(String, String)>) {
    let p = Params(params);
    let _ = p.publish_input("");
    let _ = p.map("Attributes.entry", "key", "value");
    let _ = p.list("AttributeNames.member");
    let _ = p.message_attributes("MessageAttributes.entry");
}

/// Query parameters, with the list and map flattening the protocol uses.
struct Params(Vec<(String, String)>);

impl Params {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    fn need(&self, key: &str) -> Result<&str, SnsError> {
        self.get(key).ok_or_else(|| SnsError::invalid(format!("Invalid parameter: {key}")))
    }

    /// `<prefix>.entry.N.<key>` / `.<value>` pairs (or `.member.N.`), in N order.
    fn map(&self, prefix: &str, key: &str, value: &str) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for n in 1.. {
            let base = [format!("{prefix}.entry.{n}"), format!("{prefix}.member.{n}")]
                .into_iter()
                .find(|b| self.get(&format!("{b}.{key}")).is_some());
            let Some(base) = base else { break };
            let k = self.get(&format!("{base}.{key}")).unwrap_or_default().to_owned();
            let v = self.get(&format!("{base}.{value}")).unwrap_or_default().to_owned();
            out.insert(k, v);
        }
        out
    }

    fn list(&self, prefix: &str) -> Vec<String> {
        (1..).map_while(|n| self.get(&format!("{prefix}.member.{n}")).map(str::to_owned)).collect()
    }

    fn message_attributes(&self, prefix: &str) -> Result<BTreeMap<String, Attribute>, SnsError> {
        let mut out = BTreeMap::new();
        for n in 1.. {
            let base = format!("{prefix}.entry.{n}");
            let Some(name) = self.get(&format!("{base}.Name")) else { break };
            let data_type = self
                .get(&format!("{base}.Value.DataType"))
                .ok_or_else(|| SnsError::invalid(format!("Invalid parameter: MessageAttributes Reason: The message attribute '{name}' must contain a non-empty message attribute type.")))?;
            let value = self
                .get(&format!("{base}.Value.StringValue"))
                .or_else(|| self.get(&format!("{base}.Value.BinaryValue")))
                .ok_or_else(|| SnsError::invalid(format!("Invalid parameter: MessageAttributes Reason: The message attribute '{name}' must contain a non-empty message attribute value.")))?;
            out.insert(name.to_owned(), Attribute { data_type: data_type.to_owned(), value: value.to_owned() });
        }
        Ok(out)
    }

    fn publish_input(&self, prefix: &str) -> Result<PublishInput, SnsError> {
        let key = |k: &str| if prefix.is_empty() { k.to_owned() } else { format!("{prefix}.{k}") };
        Ok(PublishInput {
            message: self
                .get(&key("Message"))
                .ok_or_else(|| SnsError::invalid("Invalid parameter: Message"))?
                .to_owned(),
            subject: self.get(&key("Subject")).map(str::to_owned),
            structure: self.get(&key("MessageStructure")).map(str::to_owned),
            attributes: self.message_attributes(&key("MessageAttributes"))?,
            group_id: self.get(&key("MessageGroupId")).map(str::to_owned),
            dedup_id: self.get(&key("MessageDeduplicationId")).map(str::to_owned),
        })
    }
}

fn subscription_xml(s: &sns::Subscription) -> String {
    format!(
        "<member>{}{}{}{}{}</member>",
        element("Owner", &s.owner),
        element("Protocol", &s.protocol),
        element("Endpoint", &s.endpoint),
        element("SubscriptionArn", &s.arn),
        element("TopicArn", &s.topic_arn)
    )
}

/// Runs one SNS action.
pub(crate) async fn handle(
    sns: &SnsService,
    caller: &Caller,
    params: Vec<(String, String)>,
    request_id: &str,
) -> Response {
    let p = Params(params);
    let action = p.get("Action").unwrap_or_default().to_owned();
    match run(sns, caller, &action, &p).await {
        Ok(result) => success(&action, result, request_id),
        Err(e) => error_response(&e, request_id),
    }
}

async fn run(sns: &SnsService, caller: &Caller, action: &str, p: &Params) -> Result<Option<String>, SnsError> {
    Ok(match action {
        "CreateTopic" => {
            let arn = sns.create_topic(
                caller,
                p.need("Name")?,
                p.map("Attributes", "key", "value"),
                p.map("Tags", "Key", "Value"),
            )?;
            Some(element("TopicArn", &arn))
        }
        "ListTopics" => {
            let (topics, next) = sns.list_topics(caller, p.get("NextToken"));
            let members: String =
                topics.iter().map(|t| format!("<member>{}</member>", element("TopicArn", t))).collect();
            Some(format!("<Topics>{members}</Topics>{}", next.map(|n| element("NextToken", &n)).unwrap_or_default()))
        }
        "DeleteTopic" => {
            sns.delete_topic(caller, p.need("TopicArn")?)?;
            None
        }
        "GetTopicAttributes" => Some(entries(&sns.topic_attributes(caller, p.need("TopicArn")?)?)),
        "SetTopicAttributes" => {
            let value = p.get("AttributeValue").unwrap_or_default();
            sns.set_topic_attribute(caller, p.need("TopicArn")?, p.need("AttributeName")?, value)?;
            None
        }
        "Subscribe" => {
            let endpoint = p.need("Endpoint")?;
            let s = sns
                .subscribe(
                    caller,
                    p.need("TopicArn")?,
                    p.need("Protocol")?,
                    endpoint,
                    p.map("Attributes", "key", "value"),
                )
                .await?;
            // AWS answers a subscription that waits for confirmation this way; listings show
            // `PendingConfirmation`.
            let shown = if s.pending { "pending confirmation" } else { &s.arn };
            Some(element("SubscriptionArn", shown))
        }
        "ConfirmSubscription" => Some(element("SubscriptionArn", &sns.confirm(p.need("TopicArn")?, p.need("Token")?)?)),
        "Unsubscribe" => {
            sns.unsubscribe(p.need("SubscriptionArn")?)?;
            None
        }
        "ListSubscriptions" | "ListSubscriptionsByTopic" => {
            let topic = if action == "ListSubscriptionsByTopic" { Some(p.need("TopicArn")?) } else { None };
            let members: String = sns.list_subscriptions(caller, topic)?.iter().map(subscription_xml).collect();
            Some(format!("<Subscriptions>{members}</Subscriptions>"))
        }
        "GetSubscriptionAttributes" => Some(entries(&sns.subscription_attributes(p.need("SubscriptionArn")?)?)),
        "SetSubscriptionAttributes" => {
            let value = p.get("AttributeValue").unwrap_or_default();
            sns.set_subscription_attribute(p.need("SubscriptionArn")?, p.need("AttributeName")?, value)?;
            None
        }
        "Publish" => {
            let topic = p.get("TopicArn").or_else(|| p.get("TargetArn")).ok_or_else(|| {
                SnsError::invalid("Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter")
            })?;
            let (id, sequence) = sns.publish(caller, topic, p.publish_input("")?).await?;
            Some(format!(
                "{}{}",
                element("MessageId", &id),
                sequence.map(|s| element("SequenceNumber", &s)).unwrap_or_default()
            ))
        }
        "PublishBatch" => {
            let topic = p.need("TopicArn")?;
            let ids: Vec<&str> =
                (1..).map_while(|n| p.get(&format!("PublishBatchRequestEntries.member.{n}.Id"))).collect();
            // The whole batch is refused before any entry is published.
            if ids.is_empty() {
                return Err(SnsError {
                    code: "EmptyBatchRequest",
                    status: 400,
                    message: "The batch request doesn't contain any entries".into(),
                });
            }
            if ids.len() > 10 {
                return Err(SnsError {
                    code: "TooManyEntriesInBatchRequest",
                    status: 400,
                    message: "The batch request contains more entries than permissible.".into(),
                });
            }
            let (mut ok, mut failed) = (String::new(), String::new());
            for (n, id) in ids.into_iter().enumerate() {
                let prefix = format!("PublishBatchRequestEntries.member.{}", n + 1);
                let result = match p.publish_input(&prefix) {
                    Ok(input) => sns.publish(caller, topic, input).await,
                    Err(e) => Err(e),
                };
                match result {
                    Ok((message_id, _)) => ok.push_str(&format!(
                        "<member>{}{}</member>",
                        element("Id", id),
                        element("MessageId", &message_id)
                    )),
                    Err(e) => failed.push_str(&format!(
                        "<member>{}{}{}<SenderFault>true</SenderFault></member>",
                        element("Id", id),
                        element("Code", e.code),
                        element("Message", &e.message)
                    )),
                }
            }
            Some(format!("<Successful>{ok}</Successful><Failed>{failed}</Failed>"))
        }
        "TagResource" => {
            sns.tags(caller, p.need("ResourceArn")?, p.map("Tags", "Key", "Value"), &[])?;
            None
        }
        "UntagResource" => {
            sns.tags(caller, p.need("ResourceArn")?, BTreeMap::new(), &p.list("TagKeys"))?;
            None
        }
        "ListTagsForResource" => {
            let tags = sns.tags(caller, p.need("ResourceArn")?, BTreeMap::new(), &[])?;
            let members: String = tags
                .iter()
                .map(|(k, v)| format!("<member>{}{}</member>", element("Key", k), element("Value", v)))
                .collect();
            Some(format!("<Tags>{members}</Tags>"))
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
