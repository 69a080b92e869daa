//! AWS's wire protocols, driven by AWS's own service models.
//!
//! The models (botocore's `service-2.json`, vendored compressed under `models/` with their
//! licence) say, per service, which protocol it speaks, how each operation is addressed
//! (an `X-Amz-Target`, an `Action`, or a method and URI template), what its input and
//! output shapes are, and which constraints input must meet. One codec per protocol reads
//! them: [`address`] finds the service and protocol a request uses, [`Model::parse`]
//! routes it to an operation and reads it into a canonical JSON tree (checking the
//! model's constraints in AWS's words), [`Model::respond`] writes an operation's output,
//! and [`ServiceError::render`] an error, in that protocol.
//!
//! The canonical tree is `serde_json::Value`: structures are objects keyed by member
//! name, lists arrays, maps objects, timestamps numbers of seconds, blobs base64 text,
//! except a REST payload blob, which travels as bytes beside the tree. Services read and
//! write only this tree; they never see HTTP, XML or query strings.
//!
//! **Invariant:** no I/O, no async, no service logic. Where a service departs from the
//! generic rules, the departure is a row of `rules.rs`.
#![deny(missing_docs)]

mod cbor;
mod error;
pub mod eventstream;
mod json;
pub mod model;
mod query;
mod rest;
pub mod route;
pub mod rules;
mod scalar;
#[cfg(test)]
mod sdk_fixtures;
pub mod timestamp;
pub mod validate;
mod xml;
mod xmlbody;

use std::io::Read;
use std::sync::OnceLock;

use bytes::Bytes;
use serde_json::{Map, Value};

pub use error::{Members, ServiceError};

/// AWS's JSON protocols carried in CBOR (`application/x-amz-cbor-1.1`, which Kinesis's SDKs
/// send): a request's body as JSON text, for the json protocol's reader.
pub fn cbor_as_json(body: &[u8]) -> Result<Vec<u8>, String> {
    cbor::decode_times(body, cbor::Times::Millis).map(|v| v.to_string().into_bytes())
}

impl Model {
    /// An answer written by the json protocol, carried in CBOR instead: the operation's
    /// output shape says which strings are blobs (byte strings) and which numbers are
    /// timestamps (tag 1, milliseconds); an error's body is carried as it is.
    pub fn json_answer_as_cbor(&self, operation: Option<&str>, json_body: &[u8]) -> Vec<u8> {
        let value: serde_json::Value = serde_json::from_slice(json_body).unwrap_or(serde_json::Value::Null);
        match operation.and_then(|o| self.operation(o)).and_then(|o| o.output) {
            Some(shape) => cbor::encode_shaped_times(self, shape, &value, cbor::Times::Millis),
            None => cbor::encode(&value),
        }
    }
}
pub use model::{Model, Operation, Protocol};

/// A service with a vendored model: Lamina's name for it and the facts needed to
/// recognise its requests before its model is loaded (checked against the model by a
/// test).
#[derive(Debug)]
pub struct ServiceInfo {
    /// Lamina's name: the model's folder in botocore.
    pub name: &'static str,
    /// The name SigV4 credential scopes carry.
    pub signing_name: &'static str,
    /// The json protocol's `X-Amz-Target` prefix (and the CBOR protocol's service name).
    pub target_prefix: Option<&'static str>,
    /// Whether it answers the query protocol (natively, or for older SQS clients).
    pub query: bool,
}

macro_rules! services {
    ($( $name:literal, $signing:literal, $target:expr, $query:literal; )*) => {
        /// Every service whose model is vendored.
        pub const SERVICES: &[ServiceInfo] = &[
            $( ServiceInfo { name: $name, signing_name: $signing, target_prefix: $target, query: $query }, )*
        ];
        const MODEL_FILES: &[(&str, &[u8])] = &[
            $( ($name, include_bytes!(concat!("../models/", $name, ".json.gz"))), )*
        ];
    };
}

services! {
    "lambda", "lambda", None, false;
    "apigateway", "apigateway", None, false;
    "apigatewayv2", "apigateway", None, false;
    "apigatewaymanagementapi", "execute-api", None, false;
    "sqs", "sqs", Some("AmazonSQS"), true;
    "sns", "sns", None, true;
    "logs", "logs", Some("Logs_20140328"), false;
    "sts", "sts", None, true;
    "iam", "iam", None, true;
    "s3", "s3", None, false;
    "ssm", "ssm", Some("AmazonSSM"), false;
    "cloudformation", "cloudformation", None, true;
    "events", "events", Some("AWSEvents"), false;
    "scheduler", "scheduler", None, false;
    "dynamodb", "dynamodb", Some("DynamoDB_20120810"), false;
    "dynamodbstreams", "dynamodb", Some("DynamoDBStreams_20120810"), false;
    "kinesis", "kinesis", Some("Kinesis_20131202"), false;
    "cloudwatch", "monitoring", Some("GraniteServiceVersion20100801"), true;
    "cloudcontrol", "cloudcontrolapi", Some("CloudApiService"), false;
    "ecr", "ecr", Some("AmazonEC2ContainerRegistry_V20150921"), false;
}

/// Lamina's own additions to models, by service.
const OVERLAYS: &[(&str, &[u8])] =
    &[("sqs", include_bytes!("../models/overlays/sqs.json")), ("s3", include_bytes!("../models/overlays/s3.json"))];

/// The model of a service, loaded on first use.
pub fn service(name: &str) -> Option<&'static Model> {
    static LOADED: [OnceLock<Option<Model>>; 20] = [const { OnceLock::new() }; 20];
    let i = SERVICES.iter().position(|s| s.name == name)?;
    LOADED[i].get_or_init(|| load(SERVICES[i].name).ok()).as_ref()
}

/// Reads a vendored model; errors say what is wrong with it.
pub fn load(name: &'static str) -> Result<Model, String> {
    let (_, gz) = MODEL_FILES.iter().find(|(n, _)| *n == name).ok_or_else(|| format!("no model for {name}"))?;
    let mut doc = Vec::new();
    flate2::read::GzDecoder::new(*gz).read_to_end(&mut doc).map_err(|e| format!("{name}: {e}"))?;
    let overlay = OVERLAYS.iter().find(|(n, _)| *n == name).map(|(_, o)| *o);
    Model::from_json(name, &doc, overlay)
}

/// An HTTP request, as the codecs read it.
#[derive(Debug)]
pub struct Request<'a> {
    /// The method.
    pub method: &'a http::Method,
    /// The path, still percent-encoded.
    pub path: &'a str,
    /// The query string, without `?`.
    pub query: &'a str,
    /// The headers.
    pub headers: &'a http::HeaderMap,
    /// The whole body.
    pub body: Bytes,
}

impl Request<'_> {
    fn query_pairs(&self) -> Vec<(String, String)> {
        form_urlencoded::parse(self.query.as_bytes()).into_owned().collect()
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The service its SigV4 credential scope names.
    pub fn signed_service(&self) -> Option<&str> {
        let auth = self.header("authorization")?;
        let credential = auth.split("Credential=").nth(1)?.split([',', ' ']).next()?;
        credential.split('/').nth(3)
    }

    fn is_form(&self) -> bool {
        self.header("content-type").is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"))
    }

    /// The query protocol's parameters: the query string's, then the form body's.
    fn form(&self) -> Vec<(String, String)> {
        let mut pairs = self.query_pairs();
        if self.is_form()
            || (self.method == http::Method::POST && !self.body.is_empty() && !self.body.starts_with(b"{"))
        {
            pairs.extend(form_urlencoded::parse(&self.body).into_owned());
        }
        pairs
    }
}

/// An operation's input, read from a request.
#[derive(Debug, Clone, PartialEq)]
pub struct Input {
    /// The operation's name.
    pub operation: String,
    /// Its input structure, as the canonical tree.
    pub value: Value,
    /// The body, when the operation's input binds it whole as a blob (Lambda's `Invoke`
    /// payload, S3's object data).
    pub payload: Option<Bytes>,
}

/// An operation's output, to be written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Output {
    /// Its output structure, as the canonical tree.
    pub value: Value,
    /// The body, when the output binds a blob payload.
    pub payload: Option<Bytes>,
}

impl Output {
    /// An output of a tree.
    pub fn new(value: Value) -> Output {
        Output { value, payload: None }
    }
}

/// An HTTP response, as the codecs write it.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// The status.
    pub status: u16,
    /// Headers, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Bytes,
}

/// Which service a request is for, and in which protocol it is written.
#[derive(Debug)]
pub struct Addressed {
    /// The service's model, or the name of a service Lamina has no model for (`None`
    /// when even that is unknown).
    pub service: Result<&'static Model, Option<String>>,
    /// The protocol the request uses (and its answer will).
    pub protocol: Protocol,
}

/// Finds the service and protocol of a request: by `X-Amz-Target`, by the CBOR
/// protocol's path, by the `Action` of a query request, by the SigV4 scope, and, for an
/// unsigned REST request, by the first service whose URI templates match (never S3,
/// which only its scope or host selects).
pub fn address(req: &Request) -> Addressed {
    let signed = req.signed_service().map(str::to_owned);
    let by_signing = |protocol: Protocol| -> Addressed {
        let candidates: Vec<&ServiceInfo> =
            SERVICES.iter().filter(|s| Some(s.signing_name) == signed.as_deref()).collect();
        if candidates.is_empty() {
            return Addressed { service: Err(signed.clone()), protocol };
        }
        // Several services share a scope (API Gateway's two versions): the one whose
        // templates match.
        if candidates.len() > 1 {
            let pairs = req.query_pairs();
            for c in &candidates {
                if let Some(m) = service(c.name) {
                    if m.find_rest(req.method, req.path, &pairs).is_some() {
                        return Addressed { service: Ok(m), protocol: m.protocol() };
                    }
                }
            }
        }
        match service(candidates[0].name) {
            Some(m) => Addressed {
                service: Ok(m),
                protocol: if protocol == Protocol::RestJson { m.protocol() } else { protocol },
            },
            None => Addressed { service: Err(Some(candidates[0].name.to_owned())), protocol },
        }
    };
    if req.header("smithy-protocol") == Some("rpc-v2-cbor") {
        let name = req.path.strip_prefix("/service/").and_then(|p| p.split('/').next()).unwrap_or("");
        let hit = SERVICES.iter().find(|s| s.target_prefix == Some(name)).and_then(|s| service(s.name));
        return match hit {
            Some(m) => Addressed { service: Ok(m), protocol: Protocol::Cbor },
            None => Addressed { service: Err(Some(name.to_owned())), protocol: Protocol::Cbor },
        };
    }
    if let Some(target) = req.header("x-amz-target") {
        let prefix = target.split('.').next().unwrap_or("");
        let hit = SERVICES.iter().find(|s| s.target_prefix == Some(prefix)).and_then(|s| service(s.name));
        return match hit {
            Some(m) => Addressed { service: Ok(m), protocol: Protocol::Json },
            None => Addressed { service: Err(signed.or_else(|| Some(prefix.to_owned()))), protocol: Protocol::Json },
        };
    }
    let is_query = req.path == "/" && (req.is_form() || req.query_pairs().iter().any(|(k, _)| k == "Action"));
    if is_query
        || (req.is_form() && signed.as_deref().is_some_and(|s| SERVICES.iter().any(|i| i.signing_name == s && i.query)))
    {
        if signed.is_some() {
            return by_signing(Protocol::Query);
        }
        let form = req.form();
        let action = form.iter().find(|(k, _)| k == "Action").map(|(_, v)| v.as_str()).unwrap_or("");
        for s in SERVICES.iter().filter(|s| s.query) {
            if let Some(m) = service(s.name).filter(|m| m.operation(action).is_some()) {
                return Addressed { service: Ok(m), protocol: Protocol::Query };
            }
        }
        return Addressed { service: Err(None), protocol: Protocol::Query };
    }
    if signed.is_some() {
        return by_signing(Protocol::RestJson);
    }
    let pairs = req.query_pairs();
    for s in SERVICES.iter().filter(|s| s.name != "s3" && s.target_prefix.is_none() && !s.query) {
        if let Some(m) = service(s.name) {
            if m.find_rest(req.method, req.path, &pairs).is_some() {
                return Addressed { service: Ok(m), protocol: m.protocol() };
            }
        }
    }
    let xml = req.header("content-type").is_some_and(|t| t.contains("xml"));
    Addressed { service: Err(None), protocol: if xml { Protocol::RestXml } else { Protocol::RestJson } }
}

impl Model {
    /// The REST operation a method, path and query name, with its labels.
    pub fn find_rest(
        &self,
        method: &http::Method,
        path: &str,
        query: &[(String, String)],
    ) -> Option<(&Operation, route::Labels)> {
        let (i, labels) = self.routes().find(|i| &self.operations[i].template, method, path, query)?;
        Some((&self.operations[i], labels))
    }

    /// Reads a REST request as the operation `name`, which the caller chose among those
    /// sharing its route by what the model cannot route on (S3's PutObject and
    /// CopyObject differ in a header, DeleteObject and AbortMultipartUpload in a query
    /// member).
    pub fn read_as(&self, name: &str, protocol: Protocol, req: &Request<'_>) -> Result<Input, ServiceError> {
        let unknown = || ServiceError::new("UnknownOperationException", format!("Operation {name} is not supported."));
        let op = self.operation(name).ok_or_else(unknown)?;
        let pairs = req.query_pairs();
        let labels = op.template.matches(req.path, &pairs).ok_or_else(|| unknown().status(404))?;
        let rules = rules::of(self.service);
        let input = rest::read(self, op, protocol, labels, &pairs, req.headers, req.body.clone()).map_err(|e| {
            let detail = match e {
                rest::Unreadable::Type(t) => format!("Value for parameter {} is not a valid {}.", t.path, t.expected),
                rest::Unreadable::Body(b) => format!("{}{b}", rules.malformed_prefix),
            };
            ServiceError::new(rules.malformed, detail)
        })?;
        let mut value = input.value;
        fill_idempotency_tokens(self, op, &mut value);
        Ok(Input { operation: op.name.clone(), value, payload: input.payload })
    }

    /// Routes a request to an operation and reads its input, checking the model's
    /// constraints unless the service checks its own.
    pub fn parse(&self, protocol: Protocol, req: &Request) -> Result<Input, ServiceError> {
        let input = self.read(protocol, req)?;
        self.check(&input)?;
        Ok(input)
    }

    /// Routes a request to an operation and reads its input, without checking the
    /// model's constraints (see [`Model::check`]).
    pub fn read(&self, protocol: Protocol, req: &Request) -> Result<Input, ServiceError> {
        let rules = rules::of(self.service);
        let malformed =
            |detail: String| ServiceError::new(rules.malformed, format!("{}{detail}", rules.malformed_prefix));
        // The SDKs compress some bodies (CloudWatch's metric data), adding `gzip` last.
        let inflated;
        let req = match req.header("content-encoding") {
            Some(enc) if enc.split(',').next_back().is_some_and(|e| e.trim().eq_ignore_ascii_case("gzip")) => {
                inflated = Request { body: gunzip(&req.body).map_err(malformed)?, ..*req };
                &inflated
            }
            _ => req,
        };
        let type_error = |e: json::TypeError| {
            ServiceError::new(rules.malformed, format!("Value for parameter {} is not a valid {}.", e.path, e.expected))
        };
        let (op, value, payload) = match protocol {
            Protocol::Json | Protocol::Cbor => {
                let name = match protocol {
                    Protocol::Json => req.header("x-amz-target").and_then(|t| t.split_once('.')).map(|(_, op)| op),
                    _ => req.path.rsplit_once("/operation/").map(|(_, op)| op),
                }
                .unwrap_or("");
                let op = self.operation(name).ok_or_else(|| unknown_operation(name))?;
                let body = if req.body.is_empty() {
                    Value::Object(Map::new())
                } else if protocol == Protocol::Cbor {
                    cbor::decode(&req.body).map_err(malformed)?
                } else {
                    serde_json::from_slice(&req.body).map_err(|e| malformed(e.to_string()))?
                };
                let value = match op.input {
                    Some(shape) => json::read(self, shape, body, "").map_err(type_error)?,
                    None => Value::Object(Map::new()),
                };
                (op, value, None)
            }
            Protocol::Query => {
                let params = query::Params::new(req.form());
                let action = params.get("Action").unwrap_or("");
                let op = self.operation(action).ok_or_else(|| rules.invalid_action(action))?;
                let value = match op.input {
                    Some(shape) => query::read(self, shape, &params).map_err(type_error)?,
                    None => Value::Object(Map::new()),
                };
                (op, value, None)
            }
            Protocol::RestJson | Protocol::RestXml => {
                let pairs = req.query_pairs();
                let (op, labels) = self
                    .find_rest(req.method, req.path, &pairs)
                    .ok_or_else(|| unknown_operation(&format!("{} {}", req.method, req.path)).status(404))?;
                let input = rest::read(self, op, protocol, labels, &pairs, req.headers, req.body.clone()).map_err(
                    |e| match e {
                        rest::Unreadable::Type(t) => type_error(t),
                        rest::Unreadable::Body(b) => malformed(b),
                    },
                )?;
                (op, input.value, input.payload)
            }
        };
        let mut value = value;
        fill_idempotency_tokens(self, op, &mut value);
        Ok(Input { operation: op.name.clone(), value, payload })
    }

    /// Checks an input against the model's constraints, unless the service checks its own;
    /// the error answers every violation, in AWS's words and order.
    pub fn check(&self, input: &Input) -> Result<(), ServiceError> {
        let rules = rules::of(self.service);
        let Some(op) = self.operation(&input.operation) else { return Ok(()) };
        let (rules::Validation::Checked(code), Some(shape)) = (rules.validation, op.input) else { return Ok(()) };
        // A blob payload travels beside the tree: it is there if the body is.
        let mut checked = std::borrow::Cow::Borrowed(&input.value);
        if let (Some(_), model::Kind::Structure { members, payload: Some(i), .. }) =
            (&input.payload, &self.shape(shape).kind)
        {
            if let Value::Object(obj) = checked.to_mut() {
                obj.insert(members[*i].name.clone(), Value::Bool(true));
            }
        }
        let violations = validate::check(self, &op.name, shape, &checked, &rules);
        if violations.is_empty() {
            Ok(())
        } else {
            Err(ServiceError::new(code, validate::message(&violations)))
        }
    }

    /// Brings an input tree built by another service (CloudFormation's properties) to the
    /// model's scalar types, as CloudFormation reads its templates: `"true"` where a
    /// boolean is wanted, `"30"` where a number is, `30` where a string is. What cannot be
    /// read so is left for [`Model::check`] to refuse.
    pub fn coerce_input(&self, operation: &str, value: &mut Value) {
        if let Some(shape) = self.operation(operation).and_then(|op| op.input) {
            coerce(self, shape, value, 0);
        }
    }

    /// An operation's input tree as the JSON protocols write it (wire names), for a
    /// handler that reads a service's JSON in its wire form.
    pub fn input_as_wire(&self, operation: &str, input: &Value) -> Value {
        match self.operation(operation).and_then(|op| op.input) {
            Some(shape) => json::write(self, shape, input, model::TimestampFormat::EpochSeconds),
            None => Value::Object(Map::new()),
        }
    }

    /// An operation's output, given in the JSON protocols' wire form, read into the output
    /// tree (members the model does not have are left out).
    pub fn output_from_wire(&self, operation: &str, wire: Value) -> Result<Value, ServiceError> {
        match self.operation(operation).and_then(|op| op.output) {
            Some(shape) if !wire.is_null() => json::read(self, shape, wire, "").map_err(|e| {
                ServiceError::new("InternalFailure", format!("output member {} is not a {}", e.path, e.expected))
                    .status(500)
                    .receiver()
            }),
            _ => Ok(Value::Null),
        }
    }

    /// Writes an operation's output in a protocol.
    pub fn respond(&self, protocol: Protocol, operation: &str, output: Output, request_id: &str) -> Response {
        let Some(op) = self.operation(operation) else {
            return ServiceError::new("InternalFailure", format!("no operation {operation}")).status(500).render(
                Some(self),
                protocol,
                request_id,
            );
        };
        match protocol {
            Protocol::Json => {
                let body = match op.output {
                    Some(shape) => json::write(self, shape, &output.value, model::TimestampFormat::EpochSeconds),
                    None => Value::Object(Map::new()),
                };
                let version = self.json_version.as_deref().unwrap_or("1.0");
                Response {
                    status: 200,
                    headers: vec![("content-type".into(), format!("application/x-amz-json-{version}"))],
                    body: body.to_string().into(),
                }
            }
            Protocol::Cbor => {
                let body = match op.output {
                    Some(shape) => cbor::encode_shaped(self, shape, &output.value),
                    None => cbor::encode(&Value::Object(Map::new())),
                };
                Response {
                    status: 200,
                    headers: vec![
                        ("content-type".into(), "application/cbor".into()),
                        ("smithy-protocol".into(), "rpc-v2-cbor".into()),
                    ],
                    body: body.into(),
                }
            }
            Protocol::Query => {
                let mut w = xml::XmlWriter::new();
                let root = format!("{}Response", op.name);
                let ns = self.xml_namespace.clone().unwrap_or_default();
                w.open(&root, Some(("xmlns", &ns)));
                if let Some(shape) = op.output {
                    let result = op.result_wrapper.clone().unwrap_or_else(|| format!("{}Result", op.name));
                    let mut inner = xml::XmlWriter::empty();
                    xmlbody::write_members(&mut inner, self, shape, &output.value);
                    // An empty result is written as AWS writes it: `<ReceiveMessageResult/>`.
                    if inner.is_empty() {
                        w.empty_element(&result);
                    } else {
                        w.open(&result, None);
                        w.append(inner);
                        w.close(&result);
                    }
                }
                w.open("ResponseMetadata", None);
                w.leaf("RequestId", request_id);
                w.close("ResponseMetadata");
                w.close(&root);
                Response {
                    status: 200,
                    headers: vec![("content-type".into(), "text/xml".into())],
                    body: w.finish().into(),
                }
            }
            Protocol::RestJson | Protocol::RestXml => rest::write(self, op, protocol, output),
        }
    }

    fn routes(&self) -> &route::RouteTable {
        self.route_table
            .get_or_init(|| route::RouteTable::new(self.operations.iter().map(|o| (&o.method, &o.template))))
    }
}

/// The largest body a compressed request may inflate to.
const MAX_INFLATED: u64 = 32 * 1024 * 1024;

fn gunzip(body: &[u8]) -> Result<Bytes, String> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(body)
        .take(MAX_INFLATED + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("The body is not valid gzip: {e}"))?;
    if out.len() as u64 > MAX_INFLATED {
        return Err("The body inflates past 32 MiB.".into());
    }
    Ok(out.into())
}

/// An operation a model does not have.
fn unknown_operation(name: &str) -> ServiceError {
    ServiceError::new("UnknownOperationException", format!("Operation {name} is not supported."))
}

/// Members marked `idempotencyToken` that the caller left out get a fresh token, as the
/// SDKs would have sent.
fn fill_idempotency_tokens(model: &Model, op: &Operation, value: &mut Value) {
    let Some(shape) = op.input else { return };
    let model::Kind::Structure { members, .. } = &model.shape(shape).kind else { return };
    let Value::Object(obj) = value else { return };
    for m in members.iter().filter(|m| m.idempotency_token) {
        obj.entry(m.name.clone()).or_insert_with(|| Value::String(uuid::Uuid::new_v4().to_string()));
    }
}

/// [`Model::coerce_input`]'s walk, bounded in depth.
fn coerce(model: &Model, shape: model::ShapeId, value: &mut Value, depth: usize) {
    if depth > 32 {
        return;
    }
    match (&model.shape(shape).kind, &mut *value) {
        (model::Kind::Structure { members, .. }, Value::Object(obj)) => {
            for m in members {
                if let Some(v) = obj.get_mut(&m.name) {
                    coerce(model, m.shape, v, depth + 1);
                }
            }
        }
        (model::Kind::List(member), Value::Array(items)) => {
            for v in items {
                coerce(model, member.shape, v, depth + 1);
            }
        }
        (model::Kind::Map(_, member), Value::Object(obj)) => {
            for v in obj.values_mut() {
                coerce(model, member.shape, v, depth + 1);
            }
        }
        (model::Kind::Boolean, Value::String(s))
            if s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false") =>
        {
            *value = Value::Bool(s.eq_ignore_ascii_case("true"));
        }
        (model::Kind::Integer | model::Kind::Long, Value::String(s)) => {
            if let Ok(n) = s.trim().parse::<i64>() {
                *value = Value::from(n);
            }
        }
        (model::Kind::Float | model::Kind::Double, Value::String(s)) => {
            if let Some(n) = s.trim().parse::<f64>().ok().and_then(serde_json::Number::from_f64) {
                *value = Value::Number(n);
            }
        }
        (model::Kind::String, Value::Number(_) | Value::Bool(_)) => {
            *value = Value::String(value.to_string());
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request<'a>(
        method: &'a http::Method,
        path: &'a str,
        query: &'a str,
        headers: &'a http::HeaderMap,
        body: &[u8],
    ) -> Request<'a> {
        Request { method, path, query, headers, body: Bytes::copy_from_slice(body) }
    }

    #[test]
    fn a_lambda_invoke_reads_labels_headers_query_and_payload() {
        let lambda = service("lambda").unwrap();
        let mut headers = http::HeaderMap::new();
        headers.insert("x-amz-invocation-type", "Event".parse().unwrap());
        headers.insert("x-amz-log-type", "Tail".parse().unwrap());
        let post = http::Method::POST;
        let req = request(&post, "/2015-03-31/functions/my%3Afn/invocations", "Qualifier=prod", &headers, b"{\"k\":1}");
        let input = lambda.parse(Protocol::RestJson, &req).unwrap();
        assert_eq!(input.operation, "Invoke");
        assert_eq!(
            input.value,
            json!({"FunctionName": "my:fn", "InvocationType": "Event", "LogType": "Tail", "Qualifier": "prod"})
        );
        assert_eq!(input.payload.as_deref(), Some(&b"{\"k\":1}"[..]));
        // And the answer: status, headers and the raw payload.
        let out = Output {
            value: json!({"StatusCode": 202, "FunctionError": "Unhandled", "ExecutedVersion": "1"}),
            payload: Some(Bytes::from_static(b"[1]")),
        };
        let r = lambda.respond(Protocol::RestJson, "Invoke", out, "id");
        assert_eq!(r.status, 202);
        assert!(r.headers.contains(&("X-Amz-Function-Error".into(), "Unhandled".into())), "{:?}", r.headers);
        assert!(r.headers.contains(&("X-Amz-Executed-Version".into(), "1".into())));
        assert_eq!(&r.body[..], b"[1]");
    }

    #[test]
    fn validation_answers_in_the_services_words() {
        let lambda = service("lambda").unwrap();
        let get = http::Method::GET;
        let headers = http::HeaderMap::new();
        let e = lambda
            .parse(Protocol::RestJson, &request(&get, "/2015-03-31/functions/bad!name", "", &headers, b""))
            .unwrap_err();
        assert_eq!(e.code, "ValidationException");
        assert!(
            e.message.starts_with("1 validation error detected: Value 'bad!name' at 'functionName'"),
            "{}",
            e.message
        );
        let r = e.render(Some(lambda), Protocol::RestJson, "id");
        assert_eq!(r.status, 400);
        assert_eq!(serde_json::from_slice::<Value>(&r.body).unwrap(), json!({"message": e.message}));
        // Lambda's modelled errors carry `Type`, and the shape's own casing of `Message`.
        let r = ServiceError::new("ResourceNotFoundException", "Function not found: x").render(
            Some(lambda),
            Protocol::RestJson,
            "id",
        );
        assert_eq!(r.status, 404);
        assert!(r.headers.contains(&("x-amzn-errortype".into(), "ResourceNotFoundException".into())));
        assert_eq!(
            serde_json::from_slice::<Value>(&r.body).unwrap(),
            json!({"Type": "User", "Message": "Function not found: x"})
        );
    }

    #[test]
    fn sqs_answers_both_its_protocols_from_one_model() {
        let sqs = service("sqs").unwrap();
        let post = http::Method::POST;
        let mut form = http::HeaderMap::new();
        form.insert("content-type", "application/x-www-form-urlencoded".parse().unwrap());
        let body = b"Action=SendMessage&QueueUrl=u&MessageBody=b&MessageAttribute.1.Name=a&MessageAttribute.1.Value.DataType=String&MessageAttribute.1.Value.StringValue=v";
        let query = sqs.parse(Protocol::Query, &request(&post, "/", "", &form, body)).unwrap();
        let mut json_headers = http::HeaderMap::new();
        json_headers.insert("x-amz-target", "AmazonSQS.SendMessage".parse().unwrap());
        let body =
            br#"{"QueueUrl":"u","MessageBody":"b","MessageAttributes":{"a":{"DataType":"String","StringValue":"v"}}}"#;
        let json = sqs.parse(Protocol::Json, &request(&post, "/", "", &json_headers, body)).unwrap();
        assert_eq!(query, json);
        let out = Output::new(json!({"Messages": [{"MessageId": "m", "Body": "b", "Attributes": {"SenderId": "s"}}]}));
        let xml = sqs.respond(Protocol::Query, "ReceiveMessage", out, "rid");
        let xml = String::from_utf8(xml.body.to_vec()).unwrap();
        assert!(xml.contains("<ReceiveMessageResult><Message><MessageId>m</MessageId><Body>b</Body><Attribute><Name>SenderId</Name><Value>s</Value></Attribute></Message></ReceiveMessageResult>"), "{xml}");
        assert!(xml.contains("xmlns=\"http://queue.amazonaws.com/doc/2012-11-05/\""));
        // Errors: the JSON type and the query code, from the model.
        let e = ServiceError::new("QueueDoesNotExist", "The specified queue does not exist.");
        let r = e.render(Some(sqs), Protocol::Json, "rid");
        assert!(r
            .headers
            .contains(&("x-amzn-query-error".into(), "AWS.SimpleQueueService.NonExistentQueue;Sender".into())));
        assert_eq!(serde_json::from_slice::<Value>(&r.body).unwrap()["__type"], "com.amazonaws.sqs#QueueDoesNotExist");
        let r = e.render(Some(sqs), Protocol::Query, "rid");
        assert!(String::from_utf8_lossy(&r.body).contains("<Code>AWS.SimpleQueueService.NonExistentQueue</Code>"));
    }

    #[test]
    fn compressed_bodies_are_inflated_within_a_bound() {
        use std::io::Write;
        let logs = service("logs").unwrap();
        let post = http::Method::POST;
        let mut headers = http::HeaderMap::new();
        headers.insert("x-amz-target", "Logs_20140328.CreateLogGroup".parse().unwrap());
        headers.insert("content-encoding", "gzip".parse().unwrap());
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(br#"{"logGroupName":"g"}"#).unwrap();
        let body = gz.finish().unwrap();
        let input = logs.parse(Protocol::Json, &request(&post, "/", "", &headers, &body)).unwrap();
        assert_eq!(input.value, json!({"logGroupName": "g"}));
        // A bomb: 40 MiB of zeros in a few KiB.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&vec![b' '; 40 << 20]).unwrap();
        let bomb = gz.finish().unwrap();
        let e = logs.parse(Protocol::Json, &request(&post, "/", "", &headers, &bomb)).unwrap_err();
        assert!(e.message.contains("32 MiB"), "{}", e.message);
    }

    #[test]
    fn a_request_is_read_as_the_operation_its_caller_chose_among_those_sharing_its_route() {
        let s3 = service("s3").unwrap();
        let delete = http::Method::DELETE;
        let mut h = http::HeaderMap::new();
        h.insert("x-amz-request-payer", "requester".parse().unwrap());
        let req = request(&delete, "/b/a%20key", "uploadId=u1", &h, b"");
        let abort = s3.read_as("AbortMultipartUpload", Protocol::RestXml, &req).unwrap();
        assert_eq!(abort.value["Key"], "a key");
        assert_eq!(abort.value["UploadId"], "u1");
        let plain = s3.read_as("DeleteObject", Protocol::RestXml, &request(&delete, "/b/k", "", &h, b"")).unwrap();
        assert_eq!((plain.operation.as_str(), &plain.value["Bucket"]), ("DeleteObject", &json!("b")));
        assert!(s3.read_as("NoSuchOperation", Protocol::RestXml, &req).is_err());
        assert!(s3.read_as("ListBuckets", Protocol::RestXml, &req).is_err(), "its route must match");
    }

    #[test]
    fn requests_find_their_service_and_protocol() {
        let post = http::Method::POST;
        let get = http::Method::GET;
        let mut h = http::HeaderMap::new();
        h.insert("x-amz-target", "DynamoDB_20120810.ListTables".parse().unwrap());
        let a = address(&request(&post, "/", "", &h, b"{}"));
        assert_eq!((a.service.unwrap().service, a.protocol), ("dynamodb", Protocol::Json));
        let mut h = http::HeaderMap::new();
        h.insert("smithy-protocol", "rpc-v2-cbor".parse().unwrap());
        let a = address(&request(&post, "/service/GraniteServiceVersion20100801/operation/ListMetrics", "", &h, b""));
        assert_eq!((a.service.unwrap().service, a.protocol), ("cloudwatch", Protocol::Cbor));
        let h = http::HeaderMap::new();
        let a = address(&request(&get, "/2015-03-31/functions/", "", &h, b""));
        assert_eq!((a.service.unwrap().service, a.protocol), ("lambda", Protocol::RestJson));
        let a = address(&request(&get, "/v2/apis", "", &h, b""));
        assert_eq!(a.service.unwrap().service, "apigatewayv2");
        let a = address(&request(&post, "/", "Action=DescribeStacks", &h, b""));
        assert_eq!((a.service.unwrap().service, a.protocol), ("cloudformation", Protocol::Query));
        let mut h = http::HeaderMap::new();
        h.insert(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=k/20261205/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0"
                .parse()
                .unwrap(),
        );
        let a = address(&request(&get, "/", "", &h, b""));
        assert_eq!((a.service.unwrap().service, a.protocol), ("s3", Protocol::RestXml));
        let mut h = http::HeaderMap::new();
        h.insert(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=k/20261205/us-east-1/kms/aws4_request, SignedHeaders=host, Signature=0"
                .parse()
                .unwrap(),
        );
        h.insert("x-amz-target", "TrentService.ListKeys".parse().unwrap());
        let a = address(&request(&post, "/", "", &h, b"{}"));
        assert_eq!((a.service.unwrap_err(), a.protocol), (Some("kms".to_owned()), Protocol::Json));
    }

    #[test]
    fn every_model_loads_and_agrees_with_the_service_table() {
        let mut broken = Vec::new();
        for s in SERVICES {
            let m = load(s.name).unwrap();
            assert_eq!(m.signing_name, s.signing_name, "{}", s.name);
            assert_eq!(m.target_prefix.as_deref(), s.target_prefix, "{}", s.name);
            assert_eq!(
                s.query,
                m.protocols.contains(&Protocol::Query) || m.query_compatible,
                "{} answers the query protocol",
                s.name
            );
            assert!(!m.operations.is_empty());
            // Every pattern compiles in one of the two engines.
            broken.extend(
                m.shapes()
                    .iter()
                    .filter(|shape| shape.constraints.pattern.is_some() && shape.constraints.regex().is_none())
                    .map(|shape| format!("{} {}: {:?}", s.name, shape.name, shape.constraints.pattern)),
            );
        }
        assert!(broken.is_empty(), "{broken:#?}");
    }

    #[test]
    fn coerced_trees_take_the_models_scalar_types() {
        let model = service("s3").unwrap();
        let mut v = serde_json::json!({"Bucket": "b", "PublicAccessBlockConfiguration": {"BlockPublicAcls": "true", "IgnorePublicAcls": "no"}});
        model.coerce_input("PutPublicAccessBlock", &mut v);
        assert_eq!(v["PublicAccessBlockConfiguration"]["BlockPublicAcls"], serde_json::json!(true));
        assert_eq!(v["PublicAccessBlockConfiguration"]["IgnorePublicAcls"], serde_json::json!("no"));
        let sqs = service("sqs").unwrap();
        let mut v = serde_json::json!({"QueueUrl": "u", "MaxNumberOfMessages": "5", "VisibilityTimeout": 30});
        sqs.coerce_input("ReceiveMessage", &mut v);
        assert_eq!(
            (v["MaxNumberOfMessages"].clone(), v["QueueUrl"].clone()),
            (serde_json::json!(5), serde_json::json!("u"))
        );
    }
}
