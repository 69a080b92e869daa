//! SQS's query protocol (older SDKs): form-encoded `Action=…` requests, to `/` or to a
//! queue's URL, and XML responses.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use sqs::{AttributeValue, Caller, ReceiveInput, SendInput, SqsError, SqsService};

use crate::sns_query::{element, escape};
use crate::sqs_json::queue_url;

const NAMESPACE: &str = "http://queue.amazonaws.com/doc/2012-11-05/";

/// The SQS actions, to tell an SQS query request from another service's.
pub(crate) const ACTIONS: &[&str] = &[
    "CreateQueue",
    "GetQueueUrl",
    "ListQueues",
    "DeleteQueue",
    "PurgeQueue",
    "GetQueueAttributes",
    "SetQueueAttributes",
    "SendMessage",
    "SendMessageBatch",
    "ReceiveMessage",
    "DeleteMessage",
    "DeleteMessageBatch",
    "ChangeMessageVisibility",
    "ChangeMessageVisibilityBatch",
    "TagQueue",
    "UntagQueue",
    "ListQueueTags",
    "ListDeadLetterSourceQueues",
];

fn xml(status: StatusCode, body: String) -> Response {
    (status, [("content-type", "text/xml")], body).into_response()
}

pub(crate) fn error_response(e: &SqsError, request_id: &str) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    let fault = if e.sender_fault { "Sender" } else { "Receiver" };
    xml(
        status,
        format!(
            "<ErrorResponse xmlns=\"{NAMESPACE}\"><Error><Type>{fault}</Type>{}{}<Detail/></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
            element("Code", e.query_code),
            element("Message", &e.message)
        ),
    )
}

struct Params(Vec<(String, String)>);

impl Params {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    fn need(&self, key: &str) -> Result<&str, SqsError> {
        self.get(key).ok_or_else(|| SqsError::missing(key))
    }

    fn int(&self, key: &str) -> Result<Option<i64>, SqsError> {
        self.get(key)
            .map(|v| {
                v.parse().map_err(|_| SqsError::invalid_parameter(format!("Value {v} for parameter {key} is invalid.")))
            })
            .transpose()
    }

    /// `<prefix>.N.<a>` / `.<b>` pairs, in N order.
    fn pairs(&self, prefix: &str, a: &str, b: &str) -> BTreeMap<String, String> {
        (1..)
            .map_while(|n| {
                let key = self.get(&format!("{prefix}.{n}.{a}"))?;
                Some((key.to_owned(), self.get(&format!("{prefix}.{n}.{b}")).unwrap_or_default().to_owned()))
            })
            .collect()
    }

    /// `<prefix>.N` values, in N order.
    fn list(&self, prefix: &str) -> Vec<String> {
        (1..).map_while(|n| self.get(&format!("{prefix}.{n}")).map(str::to_owned)).collect()
    }

    fn message_attributes(&self, prefix: &str) -> Result<BTreeMap<String, AttributeValue>, SqsError> {
        let mut out = BTreeMap::new();
        for n in 1.. {
            let base = format!("{prefix}.{n}");
            let Some(name) = self.get(&format!("{base}.Name")) else { break };
            let data_type = self.get(&format!("{base}.Value.DataType")).ok_or_else(|| {
                SqsError::invalid_parameter(format!(
                    "The message attribute '{name}' must contain a non-empty attribute type."
                ))
            })?;
            let binary = match self.get(&format!("{base}.Value.BinaryValue")) {
                Some(b) => Some(base64::engine::general_purpose::STANDARD.decode(b).map_err(|_| {
                    SqsError::invalid_parameter(format!("The message attribute '{name}' has an invalid binary value."))
                })?),
                None => None,
            };
            let string = self.get(&format!("{base}.Value.StringValue")).map(str::to_owned);
            out.insert(name.to_owned(), AttributeValue { data_type: data_type.to_owned(), string, binary });
        }
        Ok(out)
    }

    fn send_input(&self, prefix: &str) -> Result<SendInput, SqsError> {
        let key = |k: &str| if prefix.is_empty() { k.to_owned() } else { format!("{prefix}.{k}") };
        Ok(SendInput {
            body: self.get(&key("MessageBody")).ok_or_else(|| SqsError::missing("MessageBody"))?.to_owned(),
            delay_s: self.int(&key("DelaySeconds"))?,
            attributes: self.message_attributes(&key("MessageAttribute"))?,
            system: self.message_attributes(&key("MessageSystemAttribute"))?,
            group_id: self.get(&key("MessageGroupId")).map(str::to_owned),
            dedup_id: self.get(&key("MessageDeduplicationId")).map(str::to_owned),
        })
    }
}

fn attribute_value_xml(v: &AttributeValue) -> String {
    let value = match (&v.string, &v.binary) {
        (_, Some(b)) => element("BinaryValue", &base64::engine::general_purpose::STANDARD.encode(b)),
        (Some(s), None) => element("StringValue", s),
        (None, None) => String::new(),
    };
    format!("{value}{}", element("DataType", &v.data_type))
}

fn sent_xml(s: &sqs::Sent) -> String {
    let mut out = element("MD5OfMessageBody", &s.md5_body);
    if let Some(m) = &s.md5_attributes {
        out.push_str(&element("MD5OfMessageAttributes", m));
    }
    if let Some(m) = &s.md5_system {
        out.push_str(&element("MD5OfMessageSystemAttributes", m));
    }
    out.push_str(&element("MessageId", &s.id));
    if let Some(q) = &s.sequence {
        out.push_str(&element("SequenceNumber", q));
    }
    out
}

fn batch_error_xml(id: &str, e: &SqsError) -> String {
    format!(
        "<BatchResultErrorEntry>{}<SenderFault>{}</SenderFault>{}{}</BatchResultErrorEntry>",
        element("Id", id),
        e.sender_fault,
        element("Code", e.query_code),
        element("Message", &e.message)
    )
}

/// Runs one SQS query action. `path_queue` is the queue URL the request was posted to.
pub(crate) async fn handle(
    sqs: &SqsService,
    caller: &Caller,
    params: Vec<(String, String)>,
    host: &str,
    path_queue: Option<String>,
    request_id: &str,
) -> Response {
    let mut params = params;
    if let Some(url) = path_queue {
        if !params.iter().any(|(k, _)| k == "QueueUrl") {
            params.push(("QueueUrl".into(), url));
        }
    }
    let p = Params(params);
    let action = p.get("Action").unwrap_or_default().to_owned();
    match run(sqs, caller, &action, &p, host).await {
        Ok(result) => xml(
            StatusCode::OK,
            format!(
                "<{action}Response xmlns=\"{NAMESPACE}\"><{action}Result>{result}</{action}Result><ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{action}Response>"
            ),
        ),
        Err(e) => error_response(&e, request_id),
    }
}

async fn run(sqs: &SqsService, caller: &Caller, action: &str, p: &Params, host: &str) -> Result<String, SqsError> {
    let url_of = |(account, name): (String, String)| queue_url(host, &account, &name);
    let url = || p.need("QueueUrl");
    Ok(match action {
        "CreateQueue" => {
            let q = sqs.create_queue(
                caller,
                p.need("QueueName")?,
                p.pairs("Attribute", "Name", "Value"),
                p.pairs("Tag", "Key", "Value"),
            )?;
            element("QueueUrl", &url_of(q))
        }
        "GetQueueUrl" => element(
            "QueueUrl",
            &url_of(sqs.get_queue_url(caller, p.need("QueueName")?, p.get("QueueOwnerAWSAccountId"))?),
        ),
        "ListQueues" => {
            let (queues, next) =
                sqs.list_queues(caller, p.get("QueueNamePrefix"), p.int("MaxResults")?, p.get("NextToken"))?;
            let mut out: String = queues.into_iter().map(|q| element("QueueUrl", &url_of(q))).collect();
            if let Some(n) = next {
                out.push_str(&element("NextToken", &n));
            }
            out
        }
        "DeleteQueue" => {
            sqs.delete_queue(caller, url()?)?;
            String::new()
        }
        "PurgeQueue" => {
            sqs.purge_queue(caller, url()?)?;
            String::new()
        }
        "GetQueueAttributes" => {
            let mut names = p.list("AttributeName");
            if names.is_empty() {
                names.push("All".into());
            }
            let attrs = sqs.get_attributes(caller, url()?, &names)?;
            attrs
                .iter()
                .map(|(k, v)| format!("<Attribute>{}{}</Attribute>", element("Name", k), element("Value", v)))
                .collect()
        }
        "SetQueueAttributes" => {
            sqs.set_attributes(caller, url()?, p.pairs("Attribute", "Name", "Value"))?;
            String::new()
        }
        "SendMessage" => sent_xml(&sqs.send(caller, url()?, p.send_input("")?)?),
        "SendMessageBatch" => {
            let prefix = "SendMessageBatchRequestEntry";
            let ids = p.list_ids(prefix);
            sqs::SqsService::check_batch_ids(&ids.iter().map(String::as_str).collect::<Vec<_>>())?;
            let inputs: Vec<Result<SendInput, SqsError>> =
                (1..=ids.len()).map(|n| p.send_input(&format!("{prefix}.{n}"))).collect();
            let valid: Vec<SendInput> = inputs.iter().map(|i| i.clone().unwrap_or_default()).collect();
            let results = sqs.send_batch(caller, url()?, valid)?;
            let mut out = String::new();
            for ((id, input), result) in ids.iter().zip(inputs).zip(results) {
                match input.and(result) {
                    Ok(s) => out.push_str(&format!(
                        "<SendMessageBatchResultEntry>{}{}</SendMessageBatchResultEntry>",
                        element("Id", id),
                        sent_xml(&s)
                    )),
                    Err(e) => out.push_str(&batch_error_xml(id, &e)),
                }
            }
            out
        }
        "ReceiveMessage" => {
            let input = ReceiveInput {
                max: p.int("MaxNumberOfMessages")?,
                wait_s: p.int("WaitTimeSeconds")?,
                visibility_s: p.int("VisibilityTimeout")?,
                attribute_names: [p.list("AttributeName"), p.list("MessageSystemAttributeName")].concat(),
                message_attribute_names: p.list("MessageAttributeName"),
            };
            let messages = sqs.receive(caller, url()?, input).await?;
            messages
                .iter()
                .map(|m| {
                    let mut out = format!(
                        "<Message>{}{}{}{}",
                        element("MessageId", &m.id),
                        element("ReceiptHandle", &m.receipt),
                        element("MD5OfBody", &m.md5_body),
                        element("Body", &m.body)
                    );
                    for (k, v) in &m.attributes {
                        out.push_str(&format!("<Attribute>{}{}</Attribute>", element("Name", k), element("Value", v)));
                    }
                    if let Some(md5) = &m.md5_attributes {
                        out.push_str(&element("MD5OfMessageAttributes", md5));
                    }
                    for (k, v) in &m.message_attributes {
                        out.push_str(&format!(
                            "<MessageAttribute>{}<Value>{}</Value></MessageAttribute>",
                            element("Name", k),
                            attribute_value_xml(v)
                        ));
                    }
                    out.push_str("</Message>");
                    out
                })
                .collect()
        }
        "DeleteMessage" => {
            sqs.delete(caller, url()?, p.need("ReceiptHandle")?)?;
            String::new()
        }
        "ChangeMessageVisibility" => {
            let timeout = p.int("VisibilityTimeout")?.ok_or_else(|| SqsError::missing("VisibilityTimeout"))?;
            sqs.change_visibility(caller, url()?, p.need("ReceiptHandle")?, timeout)?;
            String::new()
        }
        "DeleteMessageBatch" | "ChangeMessageVisibilityBatch" => {
            let prefix = format!("{action}RequestEntry");
            let ids = p.list_ids(&prefix);
            sqs::SqsService::check_batch_ids(&ids.iter().map(String::as_str).collect::<Vec<_>>())?;
            let receipt = |n: usize| p.get(&format!("{prefix}.{n}.ReceiptHandle")).unwrap_or_default().to_owned();
            let results = if action == "DeleteMessageBatch" {
                let receipts: Vec<String> = (1..=ids.len()).map(receipt).collect();
                sqs.delete_batch(caller, url()?, &receipts)?
            } else {
                let mut changes = Vec::new();
                for n in 1..=ids.len() {
                    changes.push((receipt(n), p.int(&format!("{prefix}.{n}.VisibilityTimeout"))?.unwrap_or(0)));
                }
                sqs.change_visibility_batch(caller, url()?, &changes)?
            };
            let entry = format!("{action}ResultEntry");
            ids.iter()
                .zip(results)
                .map(|(id, r)| match r {
                    Ok(()) => format!("<{entry}>{}</{entry}>", element("Id", id)),
                    Err(e) => batch_error_xml(id, &e),
                })
                .collect()
        }
        "TagQueue" => {
            sqs.tags(caller, url()?, p.pairs("Tag", "Key", "Value"), &[])?;
            String::new()
        }
        "UntagQueue" => {
            sqs.tags(caller, url()?, BTreeMap::new(), &p.list("TagKey"))?;
            String::new()
        }
        "ListQueueTags" => {
            let tags = sqs.tags(caller, url()?, BTreeMap::new(), &[])?;
            tags.iter().map(|(k, v)| format!("<Tag>{}{}</Tag>", element("Key", k), element("Value", v))).collect()
        }
        "ListDeadLetterSourceQueues" => {
            sqs.dead_letter_sources(caller, url()?)?.into_iter().map(|q| element("QueueUrl", &url_of(q))).collect()
        }
        other => {
            return Err(SqsError::invalid_parameter(format!(
                "The action {} is not valid for this endpoint.",
                escape(other)
            )))
        }
    })
}

/// Reads `params` every way SQS's actions do (a message, its attributes, attribute maps,
/// lists and batch entries), for the query-protocol fuzz target.
pub(crate) fn exercise(params: Vec<(String, String)>) {
    let p = Params(params);
    let _ = p.send_input("");
    let _ = p.pairs("Attribute", "Name", "Value");
    let _ = p.list("AttributeName");
    let _ = p.int("MaxNumberOfMessages");
    for (n, _) in p.list_ids("SendMessageBatchRequestEntry").iter().enumerate() {
        let _ = p.send_input(&format!("SendMessageBatchRequestEntry.{}", n + 1));
    }
}

impl Params {
    /// The `Id`s of a batch's entries, in order.
    fn list_ids(&self, prefix: &str) -> Vec<String> {
        (1..).map_while(|n| self.get(&format!("{prefix}.{n}.Id")).map(str::to_owned)).collect()
    }
}
