//! SQS's JSON protocol (`X-Amz-Target: AmazonSQS.<Operation>`, `application/x-amz-json-1.0`),
//! which current SDKs and the aws CLI speak. Errors carry the shape name in `__type` and
//! the query-protocol code in `x-amzn-query-error`, as AWS sends them.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use sqs::{AttributeValue, Caller, ReceiveInput, SendInput, SqsError, SqsService};

/// The largest SQS request body: a batch of ten 1 MiB messages, with room for JSON.
pub(crate) const MAX_BODY: usize = 11 * 1024 * 1024;

/// An SQS error in the JSON protocol's shape.
pub(crate) fn error_response(e: &SqsError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    let body = json!({ "__type": format!("com.amazonaws.sqs#{}", e.code), "message": e.message });
    let fault = if e.sender_fault { "Sender" } else { "Receiver" };
    let mut resp = (status, [("content-type", "application/x-amz-json-1.0")], body.to_string()).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("{};{fault}", e.query_code)) {
        resp.headers_mut().insert("x-amzn-query-error", v);
    }
    resp
}

fn ok(value: Value) -> Response {
    (StatusCode::OK, [("content-type", "application/x-amz-json-1.0")], value.to_string()).into_response()
}

fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, SqsError> {
    let body: &[u8] = if body.is_empty() { b"{}" } else { body };
    serde_json::from_slice(body).map_err(|e| SqsError::invalid_parameter(format!("Could not parse the request: {e}")))
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
struct Request {
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
    tags: Option<BTreeMap<String, String>>,
    tag_keys: Option<Vec<String>>,
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

/// Runs one JSON-protocol operation.
pub(crate) async fn handle(
    sqs: &SqsService,
    caller: &Caller,
    operation: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> Response {
    let host = headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("localhost:4566").to_owned();
    match run(sqs, caller, operation, &host, body).await {
        Ok(v) => ok(v),
        Err(e) => error_response(&e),
    }
}

async fn run(sqs: &SqsService, caller: &Caller, operation: &str, host: &str, body: &Bytes) -> Result<Value, SqsError> {
    let url_of = |(account, name): (String, String)| queue_url(host, &account, &name);
    Ok(match operation {
        "SendMessageBatch" => {
            let r: EntriesRequest<SendWire> = parse(body)?;
            let url = need(&r.queue_url, "QueueUrl")?;
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
            json!({ "Successful": successful, "Failed": failed })
        }
        "DeleteMessageBatch" | "ChangeMessageVisibilityBatch" => {
            let r: EntriesRequest<ReceiptEntry> = parse(body)?;
            let url = need(&r.queue_url, "QueueUrl")?;
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
            json!({ "Successful": successful, "Failed": failed })
        }
        "SendMessage" => {
            let w: SendWire = parse(body)?;
            let url = need(&w.queue_url, "QueueUrl")?.to_owned();
            sent_json(&sqs.send(caller, &url, w.into_input()?)?)
        }
        _ => {
            let r: Request = parse(body)?;
            single(sqs, caller, operation, r, &url_of).await?
        }
    })
}

async fn single(
    sqs: &SqsService,
    caller: &Caller,
    operation: &str,
    r: Request,
    url_of: &(dyn Fn((String, String)) -> String + Sync),
) -> Result<Value, SqsError> {
    let url = || need(&r.queue_url, "QueueUrl");
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
        "ListQueues" => {
            let (queues, next) =
                sqs.list_queues(caller, r.queue_name_prefix.as_deref(), r.max_results, r.next_token.as_deref())?;
            let mut o = json!({});
            if !queues.is_empty() {
                o["QueueUrls"] = json!(queues.into_iter().map(url_of).collect::<Vec<_>>());
            }
            if let Some(n) = next {
                o["NextToken"] = json!(n);
            }
            o
        }
        "DeleteQueue" => {
            sqs.delete_queue(caller, url()?)?;
            json!({})
        }
        "PurgeQueue" => {
            sqs.purge_queue(caller, url()?)?;
            json!({})
        }
        "GetQueueAttributes" => {
            let names = r.attribute_names.clone().unwrap_or_default();
            let attrs = sqs.get_attributes(caller, url()?, &names)?;
            if attrs.is_empty() {
                json!({})
            } else {
                json!({ "Attributes": attrs })
            }
        }
        "SetQueueAttributes" => {
            sqs.set_attributes(caller, url()?, r.attributes.clone().unwrap_or_default())?;
            json!({})
        }
        "ReceiveMessage" => {
            let mut names = r.attribute_names.clone().unwrap_or_default();
            names.extend(r.message_system_attribute_names.clone().unwrap_or_default());
            let input = ReceiveInput {
                max: r.max_number_of_messages,
                wait_s: r.wait_time_seconds,
                visibility_s: r.visibility_timeout,
                attribute_names: names,
                message_attribute_names: r.message_attribute_names.clone().unwrap_or_default(),
            };
            let messages = sqs.receive(caller, url()?, input).await?;
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
            json!({ "Messages": list })
        }
        "DeleteMessage" => {
            sqs.delete(caller, url()?, need(&r.receipt_handle, "ReceiptHandle")?)?;
            json!({})
        }
        "ChangeMessageVisibility" => {
            let timeout = r.visibility_timeout.ok_or_else(|| SqsError::missing("VisibilityTimeout"))?;
            sqs.change_visibility(caller, url()?, need(&r.receipt_handle, "ReceiptHandle")?, timeout)?;
            json!({})
        }
        "TagQueue" => {
            sqs.tags(caller, url()?, r.tags.clone().unwrap_or_default(), &[])?;
            json!({})
        }
        "UntagQueue" => {
            sqs.tags(caller, url()?, BTreeMap::new(), &r.tag_keys.clone().unwrap_or_default())?;
            json!({})
        }
        "ListQueueTags" => {
            let tags = sqs.tags(caller, url()?, BTreeMap::new(), &[])?;
            if tags.is_empty() {
                json!({})
            } else {
                json!({ "Tags": tags })
            }
        }
        "ListDeadLetterSourceQueues" => {
            let sources = sqs.dead_letter_sources(caller, url()?)?;
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
