//! Errors as every protocol writes them. A service names an error by its code (or its
//! shape's name) and a message; the model supplies the status, the fault and the shape's
//! own member names (`message` or `Message`, Lambda's `Type`).

use serde_json::{json, Map, Value};

use crate::model::{Kind, Model, Protocol, Shape};
use crate::xml::XmlWriter;
use crate::Response;

/// An error a service (or the protocol layer) answers with.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceError {
    /// The code: an error shape's name or `error.code` (`ResourceNotFoundException`,
    /// `AWS.SimpleQueueService.NonExistentQueue`), or a code the model does not declare
    /// (`ValidationException`).
    pub code: String,
    /// The message.
    pub message: String,
    /// The status; by default the model's, else 400.
    pub status: Option<u16>,
    /// Whether the caller is at fault; by default the model's, else true.
    pub sender_fault: Option<bool>,
    /// More members of the error's body (`Reason`, `BucketName`), by their wire names.
    pub fields: Vec<(String, Value)>,
    /// Headers to answer with besides the protocol's own.
    pub headers: Vec<(String, String)>,
    /// Which of its members a JSON body carries.
    pub members: Members,
}

/// Which members an error's JSON body carries: all of them, or (where AWS answers so)
/// all but Lambda's `Type`, or none at all (`{}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Members {
    /// `Type` (where the shape has it), the message and the extra fields.
    #[default]
    All,
    /// The message and the extra fields.
    Untyped,
    /// Only the extra fields (`{}` without them).
    Empty,
}

impl ServiceError {
    /// An error by code and message.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> ServiceError {
        ServiceError {
            code: code.into(),
            message: message.into(),
            status: None,
            sender_fault: None,
            fields: Vec::new(),
            headers: Vec::new(),
            members: Members::All,
        }
    }

    /// With a JSON body of only these members.
    pub fn members(mut self, members: Members) -> ServiceError {
        self.members = members;
        self
    }

    /// With an explicit status.
    pub fn status(mut self, status: u16) -> ServiceError {
        self.status = Some(status);
        self
    }

    /// With the service at fault.
    pub fn receiver(mut self) -> ServiceError {
        self.sender_fault = Some(false);
        self
    }

    /// With another body member.
    pub fn field(mut self, name: impl Into<String>, value: impl Into<Value>) -> ServiceError {
        self.fields.push((name.into(), value.into()));
        self
    }

    /// With a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> ServiceError {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// An operation of a served service Lamina does not implement (501).
    pub fn not_implemented(service: &str, operation: &str) -> ServiceError {
        ServiceError::new(
            "NotImplemented",
            format!("The operation {operation} of service {service} is not supported by Lamina yet."),
        )
        .status(501)
        .receiver()
    }

    /// A service Lamina does not serve (501).
    pub fn unknown_service(service: &str) -> ServiceError {
        ServiceError::new("NotImplemented", format!("The service {service} is not supported by Lamina."))
            .status(501)
            .receiver()
    }

    /// The model's facts about this error, if it declares it.
    fn shape<'m>(&self, model: Option<&'m Model>) -> Option<&'m Shape> {
        model.and_then(|m| m.error_shape(&self.code))
    }

    /// The status answered.
    pub fn resolved_status(&self, model: Option<&Model>) -> u16 {
        self.status.or_else(|| self.shape(model).and_then(|s| s.error.as_ref()).map(|e| e.status)).unwrap_or(400)
    }

    fn resolved_sender(&self, model: Option<&Model>) -> bool {
        self.sender_fault
            .or_else(|| self.shape(model).and_then(|s| s.error.as_ref()).map(|e| e.sender_fault))
            .unwrap_or(true)
    }

    /// The code query-protocol clients see (`error.code`), and the shape name JSON
    /// clients see.
    fn codes(&self, model: Option<&Model>) -> (String, String) {
        match self.shape(model) {
            Some(s) => (s.error.as_ref().map(|e| e.code.clone()).unwrap_or_else(|| s.name.clone()), s.name.clone()),
            None => (self.code.clone(), self.code.clone()),
        }
    }

    /// The code the client reports: the query code where the protocol (or the service's
    /// query compatibility) carries it, else the shape's name.
    pub fn client_code(&self, model: Option<&Model>, protocol: Protocol) -> String {
        let (query_code, shape_name) = self.codes(model);
        let query =
            matches!(protocol, Protocol::Query | Protocol::RestXml) || model.is_some_and(|m| m.query_compatible);
        if query {
            query_code
        } else {
            shape_name
        }
    }

    /// The error's body members as JSON: the message under the shape's own member name,
    /// `Type` where the shape has one, and the extra fields.
    fn json_members(&self, model: Option<&Model>, default_message: &str) -> Map<String, Value> {
        let mut body = Map::new();
        if self.members == Members::Empty {
            body.extend(self.fields.iter().map(|(k, v)| (k.clone(), v.clone())));
            return body;
        }
        let members = match self.shape(model).map(|s| &s.kind) {
            Some(Kind::Structure { members, .. }) => members.as_slice(),
            _ => &[],
        };
        let message_name = members
            .iter()
            .find(|m| m.name.eq_ignore_ascii_case("message"))
            .map(|m| m.wire_name().to_owned())
            .unwrap_or_else(|| default_message.to_owned());
        if self.members == Members::All && members.iter().any(|m| m.name == "Type") {
            let who = if self.resolved_sender(model) { "User" } else { "Service" };
            body.insert("Type".into(), json!(who));
        }
        body.insert(message_name, json!(self.message));
        for (k, v) in &self.fields {
            body.insert(k.clone(), v.clone());
        }
        body
    }

    /// This error as `protocol` writes it for `model` (`None`: a service Lamina does not
    /// serve, answered in the request's protocol).
    pub fn render(&self, model: Option<&Model>, protocol: Protocol, request_id: &str) -> Response {
        let status = self.resolved_status(model);
        let sender = self.resolved_sender(model);
        let (query_code, shape_name) = self.codes(model);
        let mut headers: Vec<(String, String)> = self.headers.clone();
        let body = match protocol {
            Protocol::Json | Protocol::Cbor => {
                let prefix = model.map(|m| crate::rules::of(m.service).json_type_prefix).unwrap_or("");
                let mut body = self.json_members(model, "message");
                body.insert("__type".into(), json!(format!("{prefix}{shape_name}")));
                if model.is_some_and(|m| m.query_compatible) {
                    let fault = if sender { "Sender" } else { "Receiver" };
                    headers.push(("x-amzn-query-error".into(), format!("{query_code};{fault}")));
                }
                if protocol == Protocol::Cbor {
                    headers.push(("smithy-protocol".into(), "rpc-v2-cbor".into()));
                    headers.push(("content-type".into(), "application/cbor".into()));
                    crate::cbor::encode(&Value::Object(body))
                } else {
                    let version = model.and_then(|m| m.json_version.as_deref()).unwrap_or("1.0");
                    headers.push(("content-type".into(), format!("application/x-amz-json-{version}")));
                    Value::Object(body).to_string().into_bytes()
                }
            }
            Protocol::RestJson => {
                headers.push(("x-amzn-errortype".into(), shape_name.clone()));
                headers.push(("content-type".into(), "application/json".into()));
                Value::Object(self.json_members(model, "message")).to_string().into_bytes()
            }
            Protocol::Query => {
                let ns = model.and_then(|m| m.xml_namespace.clone());
                let mut w = XmlWriter::new();
                w.open("ErrorResponse", ns.as_deref().map(|n| ("xmlns", n)));
                w.open("Error", None);
                w.leaf("Type", if sender { "Sender" } else { "Receiver" });
                w.leaf("Code", &query_code);
                w.leaf("Message", &self.message);
                self.xml_fields(&mut w, |_| true);
                if model.is_some_and(|m| crate::rules::of(m.service).query_error_detail) {
                    w.leaf("Detail", "");
                }
                w.close("Error");
                w.leaf("RequestId", request_id);
                w.close("ErrorResponse");
                headers.push(("content-type".into(), "text/xml".into()));
                w.finish()
            }
            Protocol::RestXml => {
                let mut w = XmlWriter::new();
                w.open("Error", None);
                w.leaf("Code", &query_code);
                w.leaf("Message", &self.message);
                // S3's `HostId` follows the request id.
                self.xml_fields(&mut w, |k| k != "HostId");
                w.leaf("RequestId", request_id);
                self.xml_fields(&mut w, |k| k == "HostId");
                w.close("Error");
                headers.push(("content-type".into(), "application/xml".into()));
                w.finish()
            }
        };
        Response { status, headers, body: body.into() }
    }

    /// Writes the extra fields `pick` chooses, in order.
    fn xml_fields(&self, w: &mut XmlWriter, pick: impl Fn(&str) -> bool) {
        for (k, v) in self.fields.iter().filter(|(k, _)| pick(k)) {
            match v {
                Value::String(s) => w.leaf(k, s),
                Value::Null => {}
                other => w.leaf(k, &other.to_string()),
            }
        }
    }
}

impl std::fmt::Display for ServiceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ServiceError {}
