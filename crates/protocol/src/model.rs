//! A service model, resolved: botocore's `service-2.json` read into shapes that refer to
//! each other by index, operations with their parsed URI templates, and errors by code.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::route::Template;

/// The wire protocols of AWS's services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// `awsJson1_0`/`awsJson1_1`: `POST /`, `X-Amz-Target: <prefix>.<Operation>`.
    Json,
    /// `restJson1`: operations bound to methods and URI templates, JSON bodies.
    RestJson,
    /// `restXml`: the same bindings, XML bodies (S3).
    RestXml,
    /// `awsQuery`: form-encoded `Action=…` requests, XML answers.
    Query,
    /// `smithy-rpc-v2-cbor`: `POST /service/<Service>/operation/<Operation>`, CBOR bodies.
    Cbor,
}

impl Protocol {
    fn from_name(name: &str) -> Option<Protocol> {
        match name {
            "json" => Some(Protocol::Json),
            "rest-json" => Some(Protocol::RestJson),
            "rest-xml" => Some(Protocol::RestXml),
            "query" => Some(Protocol::Query),
            "smithy-rpc-v2-cbor" => Some(Protocol::Cbor),
            _ => None,
        }
    }
}

/// An index into a model's shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ShapeId(u32);

/// What kind of value a shape is.
#[derive(Debug)]
pub enum Kind {
    /// Named members (also unions, which set exactly one).
    Structure {
        /// In the model's order.
        members: Vec<Member>,
        /// The member that is the whole HTTP body (REST protocols).
        payload: Option<usize>,
        /// A union: exactly one member is set.
        union: bool,
    },
    /// A list of one member shape.
    List(Box<Member>),
    /// A map from a key shape to a value shape.
    Map(Box<Member>, Box<Member>),
    /// Text (also enums).
    String,
    /// A 32-bit integer.
    Integer,
    /// A 64-bit integer.
    Long,
    /// A 32-bit float.
    Float,
    /// A 64-bit float.
    Double,
    /// true or false.
    Boolean,
    /// A point in time.
    Timestamp,
    /// Bytes (base64 in JSON and XML bodies).
    Blob,
    /// Any JSON value (a Smithy document).
    Document,
}

/// How a timestamp is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimestampFormat {
    /// `2026-12-05T11:17:44.123Z`.
    Iso8601,
    /// Seconds since the epoch, with a fraction.
    EpochSeconds,
    /// `Sat, 05 Dec 2026 11:17:44 GMT`.
    Rfc822,
}

impl TimestampFormat {
    fn from_name(name: &str) -> Option<TimestampFormat> {
        match name {
            "iso8601" => Some(TimestampFormat::Iso8601),
            "unixTimestamp" => Some(TimestampFormat::EpochSeconds),
            "rfc822" => Some(TimestampFormat::Rfc822),
            _ => None,
        }
    }
}

/// An error shape's wire facts.
#[derive(Debug, Clone)]
pub struct ErrorInfo {
    /// The code clients see (`error.code`, else the shape's name).
    pub code: String,
    /// The HTTP status.
    pub status: u16,
    /// Whether the caller is at fault (`Sender`) or the service (`Receiver`).
    pub sender_fault: bool,
}

/// A shape of the model.
#[derive(Debug)]
pub struct Shape {
    /// Its name in the model.
    pub name: String,
    /// What it is.
    pub kind: Kind,
    /// Its constraints.
    pub constraints: Constraints,
    /// The XML element name the shape takes wherever it appears (`locationName` on the shape).
    pub xml_name: Option<String>,
    /// The XML namespace its element declares.
    pub xml_namespace: Option<String>,
    /// A list or map written without a wrapper element (query and XML protocols).
    pub flattened: bool,
    /// How timestamps of this shape are written, when the model says.
    pub timestamp_format: Option<TimestampFormat>,
    /// Set for error shapes.
    pub error: Option<ErrorInfo>,
    /// A streaming blob: the body itself, not read into memory by the codec's callers.
    pub streaming: bool,
    /// An event stream (not served over these codecs).
    pub event_stream: bool,
}

/// Constraints a value of a shape must satisfy, as the model states them.
#[derive(Debug, Default)]
pub struct Constraints {
    /// Minimum length (strings, blobs, lists, maps) or value (numbers).
    pub min: Option<f64>,
    /// Maximum length or value.
    pub max: Option<f64>,
    /// The Java regular expression a string must match, whole.
    pub pattern: Option<String>,
    /// The values an enum string may take.
    pub enum_values: Vec<String>,
    compiled: OnceLock<Option<Pattern>>,
}

/// A model's Java pattern in the Rust engines' dialect:
/// - Java reads `-` after a class escape inside brackets (`[\w-_]`) as itself; the Rust
///   engines want it escaped;
/// - Java writes characters past the BMP as surrogate pairs (`\uD800\uDC00`), and has
///   POSIX classes as `\p{Print}`;
/// - a repetition bound past 1,000 (`.{1,100000}`) is left open: the shape's length
///   constraint checks it, and the engines would compile it into a huge program.
fn java_classes(pattern: &str) -> String {
    let chars: Vec<char> = open_large_bounds(pattern).chars().collect();
    let mut out = String::with_capacity(chars.len());
    let mut depth = 0usize;
    let mut after_class_escape = false;
    let mut i = 0;
    let hex4 = |at: usize| -> Option<u32> {
        if chars.get(at) == Some(&'\\') && chars.get(at + 1) == Some(&'u') {
            let h: String = chars.get(at + 2..at + 6)?.iter().collect();
            u32::from_str_radix(&h, 16).ok()
        } else {
            None
        }
    };
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' {
            if let (Some(hi @ 0xD800..=0xDBFF), Some(lo @ 0xDC00..=0xDFFF)) = (hex4(i), hex4(i + 6)) {
                let cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                out.push_str(&format!("\\x{{{cp:X}}}"));
                i += 12;
                after_class_escape = false;
                continue;
            }
            let rest: String = chars[i..chars.len().min(i + 9)].iter().collect();
            if rest.starts_with("\\p{Print}") {
                out.push_str("[[:print:]]");
                i += 9;
                after_class_escape = false;
                continue;
            }
            out.push(c);
            if let Some(&n) = chars.get(i + 1) {
                out.push(n);
                after_class_escape = depth > 0 && matches!(n, 'w' | 'W' | 'd' | 'D' | 's' | 'S');
            }
            i += 2;
            continue;
        }
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            '-' if after_class_escape => out.push('\\'),
            _ => {}
        }
        after_class_escape = false;
        out.push(c);
        i += 1;
    }
    out
}

fn open_large_bounds(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut rest = pattern;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let close = tail.find('}').unwrap_or(0);
        let inner = &tail[1..close.max(1)];
        match inner.split_once(',') {
            Some((lo, hi))
                if close > 0
                    && lo.chars().all(|c| c.is_ascii_digit())
                    && hi.parse::<u64>().is_ok_and(|hi| hi > 1000) =>
            {
                out.push('{');
                out.push_str(lo);
                out.push_str(",}");
                rest = &tail[close + 1..];
            }
            _ => {
                out.push('{');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// A model's pattern, compiled: by the `regex` crate when it can express it, else by
/// `fancy-regex` (the models use look-ahead), whose backtracking is bounded.
#[derive(Debug)]
pub enum Pattern {
    /// Linear-time matching.
    Linear(regex::Regex),
    /// Backtracking, with a step limit.
    Backtracking(fancy_regex::Regex),
}

impl Pattern {
    /// Whether the whole text matches. A match that runs out of steps counts as a match:
    /// the service then decides, as it would without the pattern.
    pub fn is_match(&self, text: &str) -> bool {
        match self {
            Pattern::Linear(re) => re.is_match(text),
            Pattern::Backtracking(re) => re.is_match(text).unwrap_or(true),
        }
    }
}

impl Constraints {
    /// The pattern, compiled to match whole strings; `None` when there is no pattern or the
    /// regex engine cannot express it (then it is not checked).
    pub fn regex(&self) -> Option<&Pattern> {
        self.compiled
            .get_or_init(|| {
                let p = self.pattern.as_deref()?;
                let whole = format!("^(?:{})$", java_classes(p));
                match regex::RegexBuilder::new(&whole).size_limit(1 << 22).build() {
                    Ok(re) => Some(Pattern::Linear(re)),
                    Err(_) => fancy_regex::RegexBuilder::new(&whole)
                        .backtrack_limit(100_000)
                        .build()
                        .ok()
                        .map(Pattern::Backtracking),
                }
            })
            .as_ref()
    }
}

/// Where a member travels in an HTTP request or response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// In the body (or, for query, the form).
    Body,
    /// A label of the URI template.
    Uri,
    /// A query-string parameter.
    Query,
    /// One header.
    Header,
    /// Every header with a prefix (a map).
    Headers,
    /// The HTTP status code (responses).
    StatusCode,
}

/// A member of a structure, or the member/key/value of a list or map.
#[derive(Debug)]
pub struct Member {
    /// The member's name in the model.
    pub name: String,
    /// Its shape.
    pub shape: ShapeId,
    /// Whether the structure requires it.
    pub required: bool,
    /// Where it travels.
    pub location: Location,
    /// Its name on the wire, when it differs: the header, query parameter, label or XML
    /// element.
    pub location_name: Option<String>,
    /// The name the query protocol uses, where it differs from `location_name`.
    pub query_name: Option<String>,
    /// Written as an XML attribute.
    pub xml_attribute: bool,
    /// The XML namespace its element declares.
    pub xml_namespace: Option<String>,
    /// A flattened list or map (query and XML protocols).
    pub flattened: bool,
    /// A header whose value is base64-encoded JSON.
    pub json_value: bool,
    /// Filled with a fresh token when the caller leaves it out.
    pub idempotency_token: bool,
    /// Part of the request's host (`hostPrefix`).
    pub host_label: bool,
    /// How a timestamp member is written, when the model says.
    pub timestamp_format: Option<TimestampFormat>,
}

impl Member {
    /// The member's name on the wire.
    pub fn wire_name(&self) -> &str {
        self.location_name.as_deref().unwrap_or(&self.name)
    }

    /// The member's name in the query protocol's parameters and answers.
    pub fn query_wire_name(&self) -> &str {
        self.query_name.as_deref().unwrap_or(self.wire_name())
    }
}

/// An operation of the model.
#[derive(Debug)]
pub struct Operation {
    /// Its name (`CreateFunction`).
    pub name: String,
    /// The HTTP method its REST binding uses.
    pub method: http::Method,
    /// Its REST binding: the URI template with its query literals.
    pub template: Template,
    /// The status of a successful answer.
    pub response_code: u16,
    /// The input structure.
    pub input: Option<ShapeId>,
    /// The output structure.
    pub output: Option<ShapeId>,
    /// The query protocol's result element (`CreateQueueResult`).
    pub result_wrapper: Option<String>,
    /// The errors the operation declares.
    pub errors: Vec<ShapeId>,
    /// The host prefix the SDKs add (`{RequestRoute}.`).
    pub host_prefix: Option<String>,
    /// Whether the model marks it deprecated.
    pub deprecated: bool,
}

/// A whole service model.
#[derive(Debug)]
pub struct Model {
    /// Lamina's name for the service (`lambda`, `sqs`, `cloudwatch`).
    pub service: &'static str,
    /// The service's protocols, the preferred first.
    pub protocols: Vec<Protocol>,
    /// The JSON protocol's version (`1.0` or `1.1`).
    pub json_version: Option<String>,
    /// The JSON protocol's `X-Amz-Target` prefix.
    pub target_prefix: Option<String>,
    /// The name SigV4 scopes use.
    pub signing_name: String,
    /// The endpoint prefix (`monitoring` for CloudWatch).
    pub endpoint_prefix: String,
    /// The API version (`2012-11-05`).
    pub api_version: String,
    /// The shape id's service name in JSON errors (`com.amazonaws.sqs`), from `uid`.
    pub error_namespace: String,
    /// The query protocol's XML namespace.
    pub xml_namespace: Option<String>,
    /// The model's `serviceId` (`SQS`, `CloudWatch`).
    pub service_id: String,
    /// Serves query-protocol callers' codes alongside JSON (`awsQueryCompatible`).
    pub query_compatible: bool,
    /// Operations, sorted by name.
    pub operations: Vec<Operation>,
    shapes: Vec<Shape>,
    by_name: HashMap<String, ShapeId>,
    errors_by_code: HashMap<String, ShapeId>,
    pub(crate) route_table: OnceLock<crate::route::RouteTable>,
}

impl Model {
    /// A shape by id.
    pub fn shape(&self, id: ShapeId) -> &Shape {
        &self.shapes[id.0 as usize]
    }

    /// A shape by name.
    pub fn shape_named(&self, name: &str) -> Option<&Shape> {
        self.by_name.get(name).map(|id| self.shape(*id))
    }

    /// An operation by name.
    pub fn operation(&self, name: &str) -> Option<&Operation> {
        self.operations.binary_search_by(|o| o.name.as_str().cmp(name)).ok().map(|i| &self.operations[i])
    }

    /// The error shape clients know by this code (or by this shape name).
    pub fn error_shape(&self, code: &str) -> Option<&Shape> {
        self.errors_by_code.get(code).or_else(|| self.by_name.get(code)).map(|id| self.shape(*id))
    }

    /// The protocol this service prefers.
    pub fn protocol(&self) -> Protocol {
        self.protocols.first().copied().unwrap_or(Protocol::Json)
    }

    /// Every shape, for tests and tools.
    pub fn shapes(&self) -> &[Shape] {
        &self.shapes
    }

    /// Reads a botocore `service-2.json` document, with an overlay of Lamina's applied to
    /// it (`models/overlays/`).
    pub fn from_json(service: &'static str, doc: &[u8], overlay: Option<&[u8]>) -> Result<Model, String> {
        let mut raw: RawModel = serde_json::from_slice(doc).map_err(|e| format!("{service}: {e}"))?;
        if let Some(overlay) = overlay {
            let overlay: Overlay = serde_json::from_slice(overlay).map_err(|e| format!("{service} overlay: {e}"))?;
            overlay.apply(&mut raw).map_err(|e| format!("{service} overlay: {e}"))?;
        }
        resolve(service, raw)
    }
}

/// Wire names a model no longer carries: for a shape, its element name, and for its
/// members (or a list's `member`, a map's `key` and `value`), their names and flattening.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Overlay {
    #[serde(default)]
    metadata: Option<OverlayMetadata>,
    shapes: HashMap<String, OverlayShape>,
    /// Shapes the model does not have at all (errors a service answers without declaring
    /// them), in the model's own format.
    #[serde(default)]
    added: HashMap<String, RawShape>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct OverlayMetadata {
    xml_namespace: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct OverlayShape {
    #[serde(default)]
    location_name: Option<String>,
    #[serde(default)]
    error: Option<RawError>,
    #[serde(default)]
    members: HashMap<String, OverlayMember>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct OverlayMember {
    #[serde(default)]
    location_name: Option<String>,
    #[serde(default)]
    query_name: Option<String>,
    #[serde(default)]
    flattened: Option<bool>,
}

impl Overlay {
    fn apply(self, raw: &mut RawModel) -> Result<(), String> {
        if let Some(ns) = self.metadata.and_then(|m| m.xml_namespace) {
            raw.metadata.xml_namespace = Some(ns);
        }
        for (name, shape) in self.added {
            if raw.shapes.insert(name.clone(), shape).is_some() {
                return Err(format!("shape {name} is in the model already"));
            }
        }
        for (name, over) in self.shapes {
            let shape = raw.shapes.get_mut(&name).ok_or_else(|| format!("no shape {name}"))?;
            if over.location_name.is_some() {
                shape.location_name = over.location_name;
            }
            if over.error.is_some() {
                shape.error = over.error;
            }
            for (mname, m) in over.members {
                let target = match mname.as_str() {
                    "member" if shape.member.is_some() => shape.member.as_mut(),
                    "key" if shape.key.is_some() => shape.key.as_mut(),
                    "value" if shape.value.is_some() => shape.value.as_mut(),
                    _ => shape.members.as_mut().and_then(|ms| ms.get_mut(&mname)),
                };
                let target = target.ok_or_else(|| format!("no member {name}.{mname}"))?;
                if m.location_name.is_some() {
                    target.location_name = m.location_name;
                }
                if m.query_name.is_some() {
                    target.query_name = m.query_name;
                }
                if let Some(f) = m.flattened {
                    target.flattened = f;
                }
            }
        }
        Ok(())
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMetadata {
    api_version: String,
    endpoint_prefix: String,
    #[serde(default)]
    protocol: Option<String>,
    #[serde(default)]
    protocols: Vec<String>,
    #[serde(default)]
    json_version: Option<String>,
    #[serde(default)]
    target_prefix: Option<String>,
    #[serde(default)]
    signing_name: Option<String>,
    #[serde(default)]
    xml_namespace: Option<String>,
    #[serde(default)]
    service_id: Option<String>,
    #[serde(default)]
    aws_query_compatible: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
struct RawModel {
    metadata: RawMetadata,
    operations: HashMap<String, RawOperation>,
    shapes: HashMap<String, RawShape>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawHttp {
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    request_uri: Option<String>,
    #[serde(default)]
    response_code: Option<u16>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRef {
    shape: String,
    #[serde(default)]
    result_wrapper: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEndpoint {
    host_prefix: Option<String>,
}

#[derive(Deserialize)]
struct RawOperation {
    http: RawHttp,
    #[serde(default)]
    input: Option<RawRef>,
    #[serde(default)]
    output: Option<RawRef>,
    #[serde(default)]
    errors: Vec<RawRef>,
    #[serde(default)]
    endpoint: Option<RawEndpoint>,
    #[serde(default)]
    deprecated: bool,
}

/// `xmlNamespace`: a URI, or a URI with a prefix.
#[derive(Deserialize)]
#[serde(untagged)]
enum RawXmlNamespace {
    Uri(String),
    Full { uri: String },
}

impl RawXmlNamespace {
    fn uri(&self) -> String {
        match self {
            RawXmlNamespace::Uri(u) | RawXmlNamespace::Full { uri: u } => u.clone(),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMember {
    shape: String,
    #[serde(default)]
    location: Option<String>,
    #[serde(default)]
    location_name: Option<String>,
    #[serde(default)]
    query_name: Option<String>,
    #[serde(default)]
    xml_attribute: bool,
    #[serde(default)]
    xml_namespace: Option<RawXmlNamespace>,
    #[serde(default)]
    flattened: bool,
    #[serde(default)]
    jsonvalue: bool,
    #[serde(default)]
    idempotency_token: bool,
    #[serde(default)]
    host_label: bool,
    #[serde(default)]
    timestamp_format: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawError {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    http_status_code: Option<u16>,
    #[serde(default)]
    sender_fault: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawShape {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    members: Option<indexmap::IndexMap<String, RawMember>>,
    #[serde(default)]
    member: Option<RawMember>,
    #[serde(default)]
    key: Option<RawMember>,
    #[serde(default)]
    value: Option<RawMember>,
    #[serde(default)]
    required: Vec<String>,
    #[serde(default)]
    payload: Option<String>,
    #[serde(default)]
    min: Option<f64>,
    #[serde(default)]
    max: Option<f64>,
    #[serde(default)]
    pattern: Option<String>,
    #[serde(default, rename = "enum")]
    enum_values: Vec<String>,
    #[serde(default)]
    location_name: Option<String>,
    #[serde(default)]
    xml_namespace: Option<RawXmlNamespace>,
    #[serde(default)]
    flattened: bool,
    #[serde(default)]
    timestamp_format: Option<String>,
    #[serde(default)]
    exception: bool,
    #[serde(default)]
    fault: bool,
    #[serde(default)]
    error: Option<RawError>,
    #[serde(default)]
    streaming: bool,
    #[serde(default)]
    eventstream: bool,
    #[serde(default)]
    union: bool,
    #[serde(default)]
    document: bool,
}

fn resolve(service: &'static str, raw: RawModel) -> Result<Model, String> {
    // Shapes get ids in name order, so a model always resolves the same way.
    let mut names: Vec<&String> = raw.shapes.keys().collect();
    names.sort();
    let by_name: HashMap<String, ShapeId> =
        names.iter().enumerate().map(|(i, n)| ((*n).clone(), ShapeId(i as u32))).collect();
    let id = |name: &str| by_name.get(name).copied().ok_or_else(|| format!("{service}: no shape {name}"));
    let member = |name: &str, m: &RawMember, required: bool| -> Result<Member, String> {
        let location = match m.location.as_deref() {
            None => Location::Body,
            Some("uri") => Location::Uri,
            Some("querystring") => Location::Query,
            Some("header") => Location::Header,
            Some("headers") => Location::Headers,
            Some("statusCode") => Location::StatusCode,
            Some(other) => return Err(format!("{service}: member {name} has location {other}")),
        };
        Ok(Member {
            name: name.to_owned(),
            shape: id(&m.shape)?,
            required,
            location,
            location_name: m.location_name.clone(),
            query_name: m.query_name.clone(),
            xml_attribute: m.xml_attribute,
            xml_namespace: m.xml_namespace.as_ref().map(RawXmlNamespace::uri),
            flattened: m.flattened,
            json_value: m.jsonvalue,
            idempotency_token: m.idempotency_token,
            host_label: m.host_label,
            timestamp_format: m.timestamp_format.as_deref().and_then(TimestampFormat::from_name),
        })
    };
    let mut shapes = Vec::with_capacity(names.len());
    let mut errors_by_code = HashMap::new();
    for name in &names {
        let s = &raw.shapes[*name];
        let kind = match s.kind.as_str() {
            "structure" if s.document => Kind::Document,
            "structure" | "union" => {
                let mut members = Vec::new();
                let mut payload = None;
                for (i, (mname, m)) in s.members.iter().flatten().enumerate() {
                    if s.payload.as_deref() == Some(mname.as_str()) {
                        payload = Some(i);
                    }
                    members.push(member(mname, m, s.required.iter().any(|r| r == mname))?);
                }
                Kind::Structure { members, payload, union: s.union || s.kind == "union" }
            }
            "list" => {
                let m = s.member.as_ref().ok_or_else(|| format!("{service}: list {name} has no member"))?;
                Kind::List(Box::new(member("member", m, false)?))
            }
            "map" => {
                let k = s.key.as_ref().ok_or_else(|| format!("{service}: map {name} has no key"))?;
                let v = s.value.as_ref().ok_or_else(|| format!("{service}: map {name} has no value"))?;
                Kind::Map(Box::new(member("key", k, false)?), Box::new(member("value", v, false)?))
            }
            "string" => Kind::String,
            "integer" => Kind::Integer,
            "long" => Kind::Long,
            "float" => Kind::Float,
            "double" => Kind::Double,
            "boolean" => Kind::Boolean,
            "timestamp" => Kind::Timestamp,
            "blob" => Kind::Blob,
            other => return Err(format!("{service}: shape {name} has type {other}")),
        };
        let error = (s.exception || s.fault || s.error.is_some()).then(|| {
            let e = s.error.as_ref();
            ErrorInfo {
                code: e.and_then(|e| e.code.clone()).unwrap_or_else(|| (*name).clone()),
                status: e.and_then(|e| e.http_status_code).unwrap_or(if s.fault { 500 } else { 400 }),
                sender_fault: e.map(|e| e.sender_fault).unwrap_or(!s.fault),
            }
        });
        if let Some(e) = &error {
            errors_by_code.insert(e.code.clone(), by_name[*name]);
        }
        shapes.push(Shape {
            name: (*name).clone(),
            kind,
            constraints: Constraints {
                min: s.min,
                max: s.max,
                pattern: s.pattern.clone(),
                enum_values: s.enum_values.clone(),
                compiled: OnceLock::new(),
            },
            xml_name: s.location_name.clone(),
            xml_namespace: s.xml_namespace.as_ref().map(RawXmlNamespace::uri),
            flattened: s.flattened,
            timestamp_format: s.timestamp_format.as_deref().and_then(TimestampFormat::from_name),
            error,
            streaming: s.streaming,
            event_stream: s.eventstream,
        });
    }
    let mut operations = Vec::with_capacity(raw.operations.len());
    for (name, op) in &raw.operations {
        let method = op.http.method.as_deref().unwrap_or("POST");
        let method = http::Method::from_bytes(method.as_bytes()).map_err(|e| format!("{service} {name}: {e}"))?;
        let uri = op.http.request_uri.as_deref().unwrap_or("/");
        operations.push(Operation {
            name: name.clone(),
            method,
            template: Template::parse(uri).map_err(|e| format!("{service} {name}: {e}"))?,
            response_code: op.http.response_code.unwrap_or(200),
            input: op.input.as_ref().map(|r| id(&r.shape)).transpose()?,
            output: op.output.as_ref().map(|r| id(&r.shape)).transpose()?,
            result_wrapper: op.output.as_ref().and_then(|r| r.result_wrapper.clone()),
            errors: op.errors.iter().map(|r| id(&r.shape)).collect::<Result<_, _>>()?,
            host_prefix: op.endpoint.as_ref().and_then(|e| e.host_prefix.clone()),
            deprecated: op.deprecated,
        });
    }
    operations.sort_by(|a, b| a.name.cmp(&b.name));
    let m = raw.metadata;
    let mut protocols: Vec<Protocol> = m.protocols.iter().filter_map(|p| Protocol::from_name(p)).collect();
    if protocols.is_empty() {
        protocols.extend(m.protocol.as_deref().and_then(Protocol::from_name));
    }
    if protocols.is_empty() {
        return Err(format!("{service}: no protocol Lamina knows"));
    }
    Ok(Model {
        service,
        protocols,
        json_version: m.json_version,
        target_prefix: m.target_prefix,
        signing_name: m.signing_name.unwrap_or_else(|| m.endpoint_prefix.clone()),
        error_namespace: format!("com.amazonaws.{}", m.endpoint_prefix),
        endpoint_prefix: m.endpoint_prefix,
        api_version: m.api_version,
        xml_namespace: m.xml_namespace,
        service_id: m.service_id.unwrap_or_default(),
        query_compatible: m.aws_query_compatible.is_some(),
        operations,
        shapes,
        by_name,
        errors_by_code,
        route_table: OnceLock::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_patterns_are_read_as_java_reads_them() {
        let re = |p: &str| regex::Regex::new(&format!("^(?:{})$", java_classes(p))).unwrap();
        assert!(re("[\\w-_]*").is_match("a-b_c"));
        assert!(re("\\p{Print}+").is_match("a b~"));
        assert!(!re("\\p{Print}+").is_match("a\u{7}"));
        let r = re("[\\u0020-\\uD7FF\\uE000-\\uFFFD\\uD800\\uDC00-\\uDBFF\\uDFFF\\r\\n\\t]*");
        assert!(r.is_match("role 😀\n"));
        assert!(!r.is_match("\u{1}"));
        assert!(re("^.{1,100000}$").is_match("x"));
    }
}
