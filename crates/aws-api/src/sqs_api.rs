//! SQS, both its protocols: the JSON protocol (`X-Amz-Target: AmazonSQS.<Operation>`) that
//! current SDKs and the aws CLI speak, and the query protocol (form `Action=…` to `/` or
//! to a queue's URL, by POST or GET) of older ones. The protocol layer reads either into
//! one input tree, from SQS's model, and writes the answer and errors back in the same
//! protocol; this module only turns trees into service calls and results into trees.

use std::collections::BTreeMap;

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use protocol::{Protocol, ServiceError};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use sqs::{AttributeValue, Caller, QueueName, ReceiveInput, SendInput, SqsError, SqsService};

use crate::ingress;

/// The largest SQS request body: a batch of ten 1 MiB messages, with room for JSON; a
/// form-encoded batch may take three times that.
pub(crate) const MAX_BODY: usize = 11 * 1024 * 1024;

/// The operations Lamina implements; the model's others answer 501.
pub(crate) const OPERATIONS: &[&str] = &[
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
    "AddPermission",
    "RemovePermission",
];

/// A batch's answer: AWS leaves out `Failed` when nothing failed.
fn batch_result(successful: Vec<Value>, failed: Vec<Value>) -> Value {
    if failed.is_empty() {
        json!({ "Successful": successful })
    } else {
        json!({ "Successful": successful, "Failed": failed })
    }
}

/// An SQS error as the protocol layer writes it: the shape name, AWS's status and fault
/// (the query code comes from the model).
pub(crate) fn service_error(e: &SqsError) -> ServiceError {
    let mut out = ServiceError::new(e.code, e.message.clone()).status(e.status);
    out.sender_fault = Some(e.sender_fault);
    out
}

/// Serves one SQS request in `protocol`; `path_queue` is the queue URL a query request
/// was sent to, if any.
pub(crate) async fn handle(
    s: &crate::ApiState,
    req: Request,
    protocol: Protocol,
    path_queue: Option<(String, String)>,
) -> Response {
    let request_id = req.extensions().get::<crate::RequestId>().map(|r| r.0.clone()).unwrap_or_default();
    let (parts, body) = req.into_parts();
    let fail = |e: &ServiceError| ingress::error("sqs", protocol, e, &request_id);
    let limit = if protocol == Protocol::Query { MAX_BODY * 3 } else { MAX_BODY };
    let Some(body) = ingress::read_body(&parts, body, limit).await else {
        return fail(&ServiceError::new("InvalidParameterValueException", "The request is larger than SQS accepts."));
    };
    // A queue's URL without an action names no operation.
    if protocol == Protocol::Query && path_queue.is_some() {
        let named = form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
            .chain(form_urlencoded::parse(&body))
            .any(|(k, v)| k == "Action" && !v.is_empty());
        if !named {
            let body = "<?xml version=\"1.0\"?><UnknownOperationException/>";
            return (axum::http::StatusCode::NOT_FOUND, [("content-type", "text/xml")], body).into_response();
        }
    }
    let (model, mut input) = match ingress::read("sqs", protocol, &parts, body, OPERATIONS) {
        Ok(read) => read,
        Err(e) => return fail(&e),
    };
    // The account's own actions are not sent to a queue's URL.
    if path_queue.is_some() && ["CreateQueue", "ListQueues"].contains(&input.operation.as_str()) {
        return fail(&protocol::rules::of("sqs").invalid_action(&input.operation));
    }
    let host = parts.headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("localhost:4566").to_owned();
    // A query request sent to a queue's URL names that queue.
    if let (Some((account, name)), Value::Object(obj)) = (path_queue, &mut input.value) {
        obj.entry("QueueUrl").or_insert_with(|| json!(queue_url(&host, &account, &name)));
    }
    // The query protocol's GetQueueAttributes without names means all of them.
    if protocol == Protocol::Query
        && input.operation == "GetQueueAttributes"
        && input.value.get("AttributeNames").is_none()
    {
        input.value["AttributeNames"] = json!(["All"]);
    }
    // An X-Ray trace header travels with the message sent, as its `AWSTraceHeader`.
    if input.operation == "SendMessage" {
        if let (Some(trace), Value::Object(obj)) =
            (parts.headers.get("x-amzn-trace-id").and_then(|v| v.to_str().ok()), &mut input.value)
        {
            let system = obj.entry("MessageSystemAttributes").or_insert_with(|| json!({}));
            if let Value::Object(system) = system {
                system.entry("AWSTraceHeader").or_insert_with(|| json!({ "DataType": "String", "StringValue": trace }));
            }
        }
    }
    let caller = s.callers.caller(&parts);
    match run(&s.sqs, &caller, &input.operation, &host, input.value).await {
        Ok(v) => ingress::answer(model, protocol, &input.operation, v, &request_id),
        Err(e) => {
            let mut e = service_error(&e);
            // The query protocol words a missing queue as its WSDL-era API did.
            if protocol == Protocol::Query && e.code == "QueueDoesNotExist" {
                e.message = "The specified queue does not exist for this wsdl version.".into();
            }
            fail(&e)
        }
    }
}

fn parse<T: DeserializeOwned>(input: &Value) -> Result<T, SqsError> {
    T::deserialize(input).map_err(|e| SqsError::invalid_parameter(format!("Could not parse the request: {e}")))
}

/// The URL callers use for a queue, on the host they reached Lamina by.
pub(crate) fn queue_url(host: &str, account: &str, name: &str) -> String {
    format!("http://{host}/{account}/{name}")
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct AttributeWire {
    data_type: Option<String>,
    string_value: Option<String>,
    binary_value: Option<String>,
}

fn attributes_in(wire: Option<BTreeMap<String, AttributeWire>>) -> Result<BTreeMap<String, AttributeValue>, SqsError> {
    wire.unwrap_or_default()
        .into_iter()
        .map(|(name, w)| {
            let data_type = w.data_type.ok_or_else(|| {
                SqsError::invalid_parameter(format!(
                    "The message attribute '{name}' must contain a non-empty attribute type."
                ))
            })?;
            let binary = match w.binary_value {
                Some(b) => Some(base64::engine::general_purpose::STANDARD.decode(b).map_err(|_| {
                    SqsError::invalid_parameter(format!("The message attribute '{name}' has an invalid binary value."))
                })?),
                None => None,
            };
            Ok((name, AttributeValue { data_type, string: w.string_value, binary }))
        })
        .collect()
}

fn attributes_out(attrs: &BTreeMap<String, AttributeValue>) -> Value {
    let map: serde_json::Map<String, Value> = attrs
        .iter()
        .map(|(k, v)| {
            let mut o = json!({ "DataType": v.data_type });
            if let Some(s) = &v.string {
                o["StringValue"] = json!(s);
            }
            if let Some(b) = &v.binary {
                o["BinaryValue"] = json!(base64::engine::general_purpose::STANDARD.encode(b));
            }
            (k.clone(), o)
        })
        .collect();
    Value::Object(map)
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct SendWire {
    id: Option<String>,
    queue_url: Option<String>,
    message_body: Option<String>,
    delay_seconds: Option<i64>,
    message_attributes: Option<BTreeMap<String, AttributeWire>>,
    message_system_attributes: Option<BTreeMap<String, AttributeWire>>,
    message_group_id: Option<String>,
    message_deduplication_id: Option<String>,
}

impl SendWire {
    fn into_input(self) -> Result<SendInput, SqsError> {
        Ok(SendInput {
            body: self.message_body.ok_or_else(|| SqsError::missing("MessageBody"))?,
            delay_s: self.delay_seconds,
            attributes: attributes_in(self.message_attributes)?,
            system: attributes_in(self.message_system_attributes)?,
            group_id: self.message_group_id,
            dedup_id: self.message_deduplication_id,
        })
    }
}

fn sent_json(s: &sqs::Sent) -> Value {
    let mut o = json!({ "MessageId": s.id, "MD5OfMessageBody": s.md5_body });
    if let Some(m) = &s.md5_attributes {
        o["MD5OfMessageAttributes"] = json!(m);
    }
    if let Some(m) = &s.md5_system {
        o["MD5OfMessageSystemAttributes"] = json!(m);
    }
    if let Some(q) = &s.sequence {
        o["SequenceNumber"] = json!(q);
    }
    o
}

fn failed_json(id: &str, e: &SqsError) -> Value {
    json!({ "Id": id, "SenderFault": e.sender_fault, "Code": e.query_code, "Message": e.message })
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct Wire {
    queue_url: Option<String>,
    queue_name: Option<String>,
    #[serde(rename = "QueueOwnerAWSAccountId")]
    queue_owner: Option<String>,
    queue_name_prefix: Option<String>,
    next_token: Option<String>,
    max_results: Option<i64>,
    attributes: Option<BTreeMap<String, String>>,
    attribute_names: Option<Vec<String>>,
    message_system_attribute_names: Option<Vec<String>>,
    message_attribute_names: Option<Vec<String>>,
    max_number_of_messages: Option<i64>,
    visibility_timeout: Option<i64>,
    wait_time_seconds: Option<i64>,
    receipt_handle: Option<String>,
    /// CreateQueue spells it `tags`, TagQueue `Tags`.
    #[serde(alias = "tags")]
    tags: Option<BTreeMap<String, String>>,
    tag_keys: Option<Vec<String>>,
    label: Option<String>,
    #[serde(rename = "AWSAccountIds")]
    aws_account_ids: Option<Vec<String>>,
    actions: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct EntriesRequest<T> {
    queue_url: Option<String>,
    entries: Option<Vec<T>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ReceiptEntry {
    id: String,
    receipt_handle: Option<String>,
    visibility_timeout: Option<i64>,
}

fn need<'a>(value: &'a Option<String>, name: &str) -> Result<&'a str, SqsError> {
    value.as_deref().ok_or_else(|| SqsError::missing(name))
}

fn batch_ids<'a>(ids: impl Iterator<Item = &'a str>) -> Result<(), SqsError> {
    let ids: Vec<&str> = ids.collect();
    SqsService::check_batch_ids(&ids)
}

pub(crate) async fn run(
    sqs: &SqsService,
    caller: &Caller,
    operation: &str,
    host: &str,
    body: Value,
) -> Result<Value, SqsError> {
    let url_of = |q: sqs::QueueRef| queue_url(host, &q.account, &q.name);
    Ok(match operation {
        "SendMessageBatch" => {
            let r: EntriesRequest<SendWire> = parse(&body)?;
            let url = &QueueName::from_url(caller, need(&r.queue_url, "QueueUrl")?);
            let entries = r.entries.unwrap_or_default();
            batch_ids(entries.iter().map(|e| e.id.as_deref().unwrap_or("")))?;
            let ids: Vec<String> = entries.iter().map(|e| e.id.clone().unwrap_or_default()).collect();
            let mut inputs = Vec::new();
            let mut early: Vec<Option<SqsError>> = Vec::new();
            for e in entries {
                match e.into_input() {
                    Ok(i) => {
                        inputs.push(i);
                        early.push(None);
                    }
                    Err(err) => {
                        inputs.push(SendInput::default());
                        early.push(Some(err));
                    }
                }
            }
            let results = sqs.send_batch(caller, url, inputs)?;
            let (mut successful, mut failed) = (Vec::new(), Vec::new());
            for ((id, result), early) in ids.iter().zip(results).zip(early) {
                match (early, result) {
                    (Some(e), _) | (None, Err(e)) => failed.push(failed_json(id, &e)),
                    (None, Ok(s)) => {
                        let mut o = sent_json(&s);
                        o["Id"] = json!(id);
                        successful.push(o);
                    }
                }
            }
            batch_result(successful, failed)
        }
        "DeleteMessageBatch" | "ChangeMessageVisibilityBatch" => {
            let r: EntriesRequest<ReceiptEntry> = parse(&body)?;
            let url = &QueueName::from_url(caller, need(&r.queue_url, "QueueUrl")?);
            let entries = r.entries.unwrap_or_default();
            batch_ids(entries.iter().map(|e| e.id.as_str()))?;
            let results = if operation == "DeleteMessageBatch" {
                let receipts: Vec<String> =
                    entries.iter().map(|e| e.receipt_handle.clone().unwrap_or_default()).collect();
                sqs.delete_batch(caller, url, &receipts)?
            } else {
                let changes: Vec<(String, i64)> = entries
                    .iter()
                    .map(|e| (e.receipt_handle.clone().unwrap_or_default(), e.visibility_timeout.unwrap_or(0)))
                    .collect();
                sqs.change_visibility_batch(caller, url, &changes)?
            };
            let (mut successful, mut failed) = (Vec::new(), Vec::new());
            for (e, result) in entries.iter().zip(results) {
                match result {
                    Ok(()) => successful.push(json!({ "Id": e.id })),
                    Err(err) => failed.push(failed_json(&e.id, &err)),
                }
            }
            batch_result(successful, failed)
        }
        "SendMessage" => {
            let w: SendWire = parse(&body)?;
            let url = QueueName::from_url(caller, need(&w.queue_url, "QueueUrl")?);
            sent_json(&sqs.send(caller, &url, w.into_input()?)?)
        }
        _ => {
            let r: Wire = parse(&body)?;
            single(sqs, caller, operation, r, &url_of).await?
        }
    })
}

async fn single(
    sqs: &SqsService,
    caller: &Caller,
    operation: &str,
    r: Wire,
    url_of: &(dyn Fn(sqs::QueueRef) -> String + Sync),
) -> Result<Value, SqsError> {
    let url = || need(&r.queue_url, "QueueUrl").map(|u| QueueName::from_url(caller, u));
    Ok(match operation {
        "CreateQueue" => {
            let name = need(&r.queue_name, "QueueName")?;
            let q = sqs.create_queue(
                caller,
                name,
                r.attributes.clone().unwrap_or_default(),
                r.tags.clone().unwrap_or_default(),
            )?;
            json!({ "QueueUrl": url_of(q) })
        }
        "GetQueueUrl" => {
            let name = need(&r.queue_name, "QueueName")?;
            json!({ "QueueUrl": url_of(sqs.get_queue_url(caller, name, r.queue_owner.as_deref())?) })
        }
        "ListQueues" => list_queues(sqs, caller, &r, url_of)?,
        "DeleteQueue" => {
            sqs.delete_queue(caller, &url()?)?;
            json!({})
        }
        "PurgeQueue" => {
            sqs.purge_queue(caller, &url()?)?;
            json!({})
        }
        "GetQueueAttributes" => {
            let names = r.attribute_names.clone().unwrap_or_default();
            let attrs = sqs.get_attributes(caller, &url()?, &names)?;
            if attrs.is_empty() {
                json!({})
            } else {
                json!({ "Attributes": attrs })
            }
        }
        "SetQueueAttributes" => {
            sqs.set_attributes(caller, &url()?, r.attributes.clone().unwrap_or_default())?;
            json!({})
        }
        "ReceiveMessage" => receive_message(sqs, caller, &r, &url()?).await?,
        "DeleteMessage" => {
            sqs.delete(caller, &url()?, need(&r.receipt_handle, "ReceiptHandle")?)?;
            json!({})
        }
        "ChangeMessageVisibility" => {
            let timeout = r.visibility_timeout.ok_or_else(|| SqsError::missing("VisibilityTimeout"))?;
            sqs.change_visibility(caller, &url()?, need(&r.receipt_handle, "ReceiptHandle")?, timeout)?;
            json!({})
        }
        "TagQueue" => {
            sqs.tags(caller, &url()?, r.tags.clone().unwrap_or_default(), &[])?;
            json!({})
        }
        "UntagQueue" => {
            sqs.tags(caller, &url()?, BTreeMap::new(), &r.tag_keys.clone().unwrap_or_default())?;
            json!({})
        }
        "ListQueueTags" => {
            let tags = sqs.tags(caller, &url()?, BTreeMap::new(), &[])?;
            if tags.is_empty() {
                json!({})
            } else {
                json!({ "Tags": tags })
            }
        }
        "AddPermission" => {
            let accounts = r.aws_account_ids.clone().unwrap_or_default();
            let actions = r.actions.clone().unwrap_or_default();
            sqs.add_permission(caller, &url()?, need(&r.label, "Label")?, &accounts, &actions)?;
            json!({})
        }
        "RemovePermission" => {
            sqs.remove_permission(caller, &url()?, need(&r.label, "Label")?)?;
            json!({})
        }
        "ListDeadLetterSourceQueues" => {
            let sources = sqs.dead_letter_sources(caller, &url()?)?;
            json!({ "queueUrls": sources.into_iter().map(url_of).collect::<Vec<_>>() })
        }
        other => {
            return Err(SqsError {
                code: "UnsupportedOperation",
                query_code: "AWS.SimpleQueueService.UnsupportedOperation",
                message: format!("Lamina does not support the SQS operation {other}."),
                sender_fault: true,
                status: 400,
            })
        }
    })
}

/// ReceiveMessage: the messages with the attributes asked for.
async fn receive_message(sqs: &SqsService, caller: &Caller, r: &Wire, url: &QueueName) -> Result<Value, SqsError> {
    let mut names = r.attribute_names.clone().unwrap_or_default();
    names.extend(r.message_system_attribute_names.clone().unwrap_or_default());
    let input = ReceiveInput {
        max: r.max_number_of_messages,
        wait_s: r.wait_time_seconds,
        visibility_s: r.visibility_timeout,
        attribute_names: names,
        message_attribute_names: r.message_attribute_names.clone().unwrap_or_default(),
    };
    let messages = sqs.receive(caller, url, input).await?;
    if messages.is_empty() {
        return Ok(json!({}));
    }
    let list: Vec<Value> = messages
        .iter()
        .map(|m| {
            let mut o = json!({
                "MessageId": m.id, "ReceiptHandle": m.receipt, "MD5OfBody": m.md5_body, "Body": m.body,
            });
            if !m.attributes.is_empty() {
                o["Attributes"] = json!(m.attributes);
            }
            if !m.message_attributes.is_empty() {
                o["MessageAttributes"] = attributes_out(&m.message_attributes);
                o["MD5OfMessageAttributes"] = json!(m.md5_attributes);
            }
            o
        })
        .collect();
    Ok(json!({ "Messages": list }))
}

/// ListQueues: a page of the caller's queues' URLs.
fn list_queues(
    sqs: &SqsService,
    caller: &Caller,
    r: &Wire,
    url_of: &(dyn Fn(sqs::QueueRef) -> String + Sync),
) -> Result<Value, SqsError> {
    let (queues, next) =
        sqs.list_queues(caller, r.queue_name_prefix.as_deref(), r.max_results, r.next_token.as_deref())?;
    let mut o = json!({});
    if !queues.is_empty() {
        o["QueueUrls"] = json!(queues.into_iter().map(url_of).collect::<Vec<_>>());
    }
    if let Some(n) = next {
        o["NextToken"] = json!(n);
    }
    Ok(o)
}
