//! botocore's `service-2.json` as read (the `Raw*` shapes), Lamina's overlays applied to
//! it, and its resolution into a [`Model`]: shapes by index, members with their HTTP
//! bindings, operations with their routes.

use super::*;
use serde::Deserialize;

/// Wire names a model no longer carries: for a shape, its element name, and for its
/// members (or a list's `member`, a map's `key` and `value`), their names and flattening.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Overlay {
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
    pub(super) fn apply(self, raw: &mut RawModel) -> Result<(), String> {
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
pub(super) struct RawModel {
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
    Full {
        uri: String,
        #[serde(default)]
        prefix: Option<String>,
    },
}

impl RawXmlNamespace {
    /// The attribute that declares it (`xmlns`, or `xmlns:<prefix>`) and its URI.
    fn declaration(&self) -> (String, String) {
        match self {
            RawXmlNamespace::Uri(u) | RawXmlNamespace::Full { uri: u, prefix: None } => ("xmlns".into(), u.clone()),
            RawXmlNamespace::Full { uri, prefix: Some(p) } => (format!("xmlns:{p}"), uri.clone()),
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

pub(super) fn resolve(service: &'static str, raw: RawModel) -> Result<Model, String> {
    // Shapes get ids in name order, so a model always resolves the same way.
    let mut names: Vec<&String> = raw.shapes.keys().collect();
    names.sort();
    let by_name: HashMap<String, ShapeId> =
        names.iter().enumerate().map(|(i, n)| ((*n).clone(), ShapeId(i as u32))).collect();
    let mut shapes = Vec::with_capacity(names.len());
    let mut errors_by_code = HashMap::new();
    for name in &names {
        let s = &raw.shapes[*name];
        let kind = shape_kind(service, &by_name, name, s)?;
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
            xml_namespace: s.xml_namespace.as_ref().map(RawXmlNamespace::declaration),
            flattened: s.flattened,
            timestamp_format: s.timestamp_format.as_deref().and_then(TimestampFormat::from_name),
            error,
            streaming: s.streaming,
            event_stream: s.eventstream,
        });
    }
    let mut operations = Vec::with_capacity(raw.operations.len());
    for (name, op) in &raw.operations {
        operations.push(resolve_operation(service, &by_name, name, op)?);
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

/// A member of a structure, list or map, with its HTTP binding.
fn resolve_member(
    service: &str,
    by_name: &HashMap<String, ShapeId>,
    name: &str,
    m: &RawMember,
    required: bool,
) -> Result<Member, String> {
    let id = |name: &str| by_name.get(name).copied().ok_or_else(|| format!("{service}: no shape {name}"));
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
        xml_namespace: m.xml_namespace.as_ref().map(RawXmlNamespace::declaration),
        flattened: m.flattened,
        json_value: m.jsonvalue,
        idempotency_token: m.idempotency_token,
        host_label: m.host_label,
        timestamp_format: m.timestamp_format.as_deref().and_then(TimestampFormat::from_name),
    })
}

/// What a shape is: its type, and a structure's, list's or map's members.
fn shape_kind(service: &str, by_name: &HashMap<String, ShapeId>, name: &str, s: &RawShape) -> Result<Kind, String> {
    let member = |n: &str, m: &RawMember, required: bool| resolve_member(service, by_name, n, m, required);
    Ok(match s.kind.as_str() {
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
    })
}

/// An operation: its HTTP binding, input, output and errors.
fn resolve_operation(
    service: &str,
    by_name: &HashMap<String, ShapeId>,
    name: &str,
    op: &RawOperation,
) -> Result<Operation, String> {
    let id = |name: &str| by_name.get(name).copied().ok_or_else(|| format!("{service}: no shape {name}"));
    let method = op.http.method.as_deref().unwrap_or("POST");
    let method = http::Method::from_bytes(method.as_bytes()).map_err(|e| format!("{service} {name}: {e}"))?;
    let uri = op.http.request_uri.as_deref().unwrap_or("/");
    Ok(Operation {
        name: name.to_owned(),
        method,
        template: Template::parse(uri).map_err(|e| format!("{service} {name}: {e}"))?,
        response_code: op.http.response_code.unwrap_or(200),
        input: op.input.as_ref().map(|r| id(&r.shape)).transpose()?,
        output: op.output.as_ref().map(|r| id(&r.shape)).transpose()?,
        result_wrapper: op.output.as_ref().and_then(|r| r.result_wrapper.clone()),
        errors: op.errors.iter().map(|r| id(&r.shape)).collect::<Result<_, _>>()?,
        host_prefix: op.endpoint.as_ref().and_then(|e| e.host_prefix.clone()),
        deprecated: op.deprecated,
    })
}
