//! A service model, resolved: botocore's `service-2.json` read into shapes that refer to
//! each other by index, operations with their parsed URI templates, and errors by code.

mod raw;
use raw::{resolve, Overlay, RawModel};
use std::collections::HashMap;
use std::sync::OnceLock;

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
    /// The XML namespace its element declares: the attribute (`xmlns`, `xmlns:xsi`) and
    /// the URI.
    pub xml_namespace: Option<(String, String)>,
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
#[derive(Debug, Clone)]
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
    /// The XML namespace its element declares: the attribute (`xmlns`, `xmlns:xsi`) and
    /// the URI.
    pub xml_namespace: Option<(String, String)>,
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
