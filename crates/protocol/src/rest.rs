//! The REST protocols' HTTP bindings (rest-json and rest-xml): members bound to URI labels,
//! query parameters, headers, a prefix of headers, the status code, a payload member or
//! the body's other members.

use base64::Engine;
use bytes::Bytes;
use serde_json::{Map, Value};

use crate::json::TypeError;
use crate::model::{Kind, Location, Member, Model, Operation, Protocol, TimestampFormat};
use crate::route::Labels;
use crate::{json, scalar, xml, xmlbody, Input, Output, Response};

/// Why a REST request could not be read.
#[derive(Debug)]
pub enum Unreadable {
    /// A member's text is not of its shape's type.
    Type(TypeError),
    /// The body is not JSON or XML.
    Body(String),
}

impl From<TypeError> for Unreadable {
    fn from(e: TypeError) -> Self {
        Unreadable::Type(e)
    }
}

/// Reads a REST request into the operation's input.
pub fn read(
    model: &Model,
    op: &Operation,
    protocol: Protocol,
    labels: Labels,
    query: &[(String, String)],
    headers: &http::HeaderMap,
    body: Bytes,
) -> Result<Input, Unreadable> {
    let mut input = Input { operation: op.name.clone(), value: Value::Object(Map::new()), payload: None };
    let Some(shape) = op.input else { return Ok(input) };
    let Kind::Structure { members, payload, .. } = &model.shape(shape).kind else { return Ok(input) };
    let mut out = Map::new();
    let text = |m: &Member, t: &str| {
        scalar::from_text(model, m.shape, t).map_err(|expected| TypeError { path: m.name.clone(), expected })
    };
    for (i, m) in members.iter().enumerate() {
        let v = match m.location {
            Location::Uri => match labels.iter().find(|(k, _)| k == m.wire_name()) {
                Some((_, t)) => Some(text(m, t)?),
                None => None,
            },
            Location::Query => query_member(model, m, query)?,
            Location::Header => match headers.get(m.wire_name()).and_then(|v| v.to_str().ok()) {
                Some(t) => Some(header_value(model, m, t)?),
                None => None,
            },
            Location::Headers => {
                let prefix = m.wire_name().to_ascii_lowercase();
                let map: Map<String, Value> = headers
                    .iter()
                    .filter_map(|(k, v)| {
                        let rest = k.as_str().strip_prefix(&prefix)?;
                        Some((rest.to_owned(), Value::String(v.to_str().ok()?.to_owned())))
                    })
                    .collect();
                (!map.is_empty()).then_some(Value::Object(map))
            }
            Location::StatusCode => None,
            Location::Body if *payload == Some(i) => payload_member(model, m, protocol, &body, &mut input.payload)?,
            Location::Body => None,
        };
        if let Some(v) = v {
            out.insert(m.name.clone(), v);
        }
    }
    // Without a payload member, the body holds the members bound to nothing else.
    if payload.is_none() && !body.is_empty() && members.iter().any(|m| m.location == Location::Body) {
        let body_members = match protocol {
            Protocol::RestXml => {
                let root = xml::parse(&body).map_err(Unreadable::Body)?;
                xmlbody::read_structure(model, shape, &root, "")?
            }
            _ => {
                let v: Value = serde_json::from_slice(&body).map_err(|e| Unreadable::Body(e.to_string()))?;
                json::read(model, shape, v, "")?
            }
        };
        if let Value::Object(obj) = body_members {
            for m in members.iter().filter(|m| m.location == Location::Body) {
                if let Some(v) = obj.get(&m.name) {
                    out.insert(m.name.clone(), v.clone());
                }
            }
        }
    }
    input.value = Value::Object(out);
    Ok(input)
}

/// A member bound to the query string: one parameter, a list of repeated ones, or a map
/// of every parameter.
fn query_member(model: &Model, m: &Member, query: &[(String, String)]) -> Result<Option<Value>, TypeError> {
    let text = |m: &Member, t: &str| {
        scalar::from_text(model, m.shape, t).map_err(|expected| TypeError { path: m.name.clone(), expected })
    };
    let shape = model.shape(m.shape);
    Ok(match &shape.kind {
        Kind::Map(_, val) => {
            let multi = matches!(model.shape(val.shape).kind, Kind::List(_));
            let mut map = Map::new();
            // Every parameter, those other members name too.
            for (k, v) in query {
                if multi {
                    let e = map.entry(k.clone()).or_insert_with(|| Value::Array(Vec::new()));
                    if let Value::Array(a) = e {
                        a.push(Value::String(v.clone()));
                    }
                } else {
                    map.entry(k.clone()).or_insert_with(|| Value::String(v.clone()));
                }
            }
            (!map.is_empty()).then_some(Value::Object(map))
        }
        Kind::List(item) => {
            let items: Vec<Value> = query
                .iter()
                .filter(|(k, _)| k == m.wire_name())
                .map(|(_, t)| text(item, t))
                .collect::<Result<_, _>>()?;
            (!items.is_empty()).then_some(Value::Array(items))
        }
        _ => match query.iter().find(|(k, _)| k == m.wire_name()) {
            Some((_, t)) => Some(text(m, t)?),
            None => None,
        },
    })
}

/// The member bound to the whole body: a blob (kept as bytes in `payload`), a string, or
/// a document in the protocol's format.
fn payload_member(
    model: &Model,
    m: &Member,
    protocol: Protocol,
    body: &Bytes,
    payload: &mut Option<Bytes>,
) -> Result<Option<Value>, Unreadable> {
    let shape = model.shape(m.shape);
    Ok(match &shape.kind {
        _ if body.is_empty() => None,
        Kind::Blob => {
            *payload = Some(body.clone());
            None
        }
        Kind::String => Some(Value::String(String::from_utf8_lossy(body).into_owned())),
        _ => Some(match protocol {
            Protocol::RestXml => {
                let root = xml::parse(body).map_err(Unreadable::Body)?;
                xmlbody::element(model, m, &root, &m.name)?
            }
            _ => {
                let v: Value = serde_json::from_slice(body).map_err(|e| Unreadable::Body(e.to_string()))?;
                json::read(model, m.shape, v, &m.name)?
            }
        })
        // An empty structure is no structure.
        .filter(|v| v.as_object().is_none_or(|o| !o.is_empty())),
    })
}

fn header_value(model: &Model, m: &Member, text: &str) -> Result<Value, TypeError> {
    let wrong = |expected| TypeError { path: m.name.clone(), expected };
    if m.json_value {
        // A JSON document, base64-encoded; the tree keeps its text.
        let decoded = base64::engine::general_purpose::STANDARD.decode(text.trim()).map_err(|_| wrong("JSON"))?;
        return String::from_utf8(decoded).map(Value::String).map_err(|_| wrong("JSON"));
    }
    match &model.shape(m.shape).kind {
        Kind::List(item) => {
            let timestamps = matches!(model.shape(item.shape).kind, Kind::Timestamp);
            split_header_list(text, timestamps)
                .iter()
                .map(|t| scalar::from_text(model, item.shape, t).map_err(wrong))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array)
        }
        _ => scalar::from_text(model, m.shape, text).map_err(wrong),
    }
}

/// A list header's items: split at commas outside double quotes (quotes and their
/// escapes removed); HTTP dates, which hold a comma of their own, split at every second.
fn split_header_list(text: &str, http_dates: bool) -> Vec<String> {
    if text.trim().is_empty() {
        return Vec::new();
    }
    if http_dates {
        let parts: Vec<&str> = text.split(',').collect();
        return parts.chunks(2).map(|c| c.join(",").trim().to_owned()).collect();
    }
    let mut items = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut was_quoted = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                quoted = !quoted;
                was_quoted = true;
            }
            '\\' if quoted => current.extend(chars.next()),
            ',' if !quoted => {
                items.push(if was_quoted { std::mem::take(&mut current) } else { current.trim().to_owned() });
                current.clear();
                was_quoted = false;
            }
            c if !quoted && c.is_whitespace() && current.is_empty() => {}
            c => current.push(c),
        }
    }
    items.push(if was_quoted { current } else { current.trim().to_owned() });
    items
}

/// Writes an operation's output as a REST response.
pub fn write(model: &Model, op: &Operation, protocol: Protocol, output: Output) -> Response {
    let mut response = Response { status: op.response_code, headers: Vec::new(), body: Bytes::new() };
    let Some(shape) = op.output else {
        return response;
    };
    let Kind::Structure { members, payload, .. } = &model.shape(shape).kind else { return response };
    let obj = output.value.as_object().cloned().unwrap_or_default();
    for m in members {
        let Some(v) = obj.get(&m.name).filter(|v| !v.is_null()) else { continue };
        match m.location {
            Location::StatusCode => {
                if let Some(code) = v.as_u64().and_then(|c| u16::try_from(c).ok()) {
                    response.status = code;
                }
            }
            Location::Header => {
                if let Some(t) = header_text(model, m, v) {
                    response.headers.push((m.wire_name().to_owned(), t));
                }
            }
            Location::Headers => {
                if let Value::Object(map) = v {
                    for (k, v) in map {
                        if let Some(t) = v.as_str() {
                            response.headers.push((format!("{}{k}", m.wire_name()), t.to_owned()));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    let has_header = |name: &str| response.headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(name));
    let content_type = |default: &str| if has_header("content-type") { None } else { Some(default.to_owned()) };
    let mut body_type = None;
    if let Some(p) = payload.map(|i| &members[i]) {
        let shape = model.shape(p.shape);
        match (&shape.kind, obj.get(&p.name)) {
            (Kind::Blob, v) => {
                response.body = match (output.payload, v) {
                    (Some(bytes), _) => bytes,
                    (None, Some(Value::String(b64))) => {
                        base64::engine::general_purpose::STANDARD.decode(b64).unwrap_or_default().into()
                    }
                    _ => Bytes::new(),
                };
                body_type = content_type("application/octet-stream");
            }
            (Kind::String, Some(Value::String(s))) => {
                response.body = Bytes::from(s.clone());
                body_type = content_type("text/plain");
            }
            (_, Some(v)) if !v.is_null() => match protocol {
                Protocol::RestXml => {
                    let mut w = xml::XmlWriter::new();
                    let name = shape.xml_name.as_deref().unwrap_or(p.wire_name());
                    // The document's root declares the service's namespace, when it has one.
                    let mut root = p.clone();
                    if root.xml_namespace.is_none() && shape.xml_namespace.is_none() {
                        root.xml_namespace = model.xml_namespace.as_ref().map(|uri| ("xmlns".to_owned(), uri.clone()));
                    }
                    xmlbody::write_member(&mut w, model, &root, name, v);
                    response.body = w.finish().into();
                    body_type = content_type("application/xml");
                }
                _ => {
                    response.body = json::write(model, p.shape, v, TimestampFormat::EpochSeconds).to_string().into();
                    body_type = content_type("application/json");
                }
            },
            _ => {}
        }
    } else if members.iter().any(|m| m.location == Location::Body) {
        match protocol {
            Protocol::RestXml => {
                let root = model.shape(shape).xml_name.clone().unwrap_or_else(|| op.name.clone() + "Result");
                let mut w = xml::XmlWriter::new();
                let mut attrs = xmlbody::attributes(model, shape, &output.value);
                let service_ns = model.xml_namespace.as_ref().map(|uri| ("xmlns".to_owned(), uri.clone()));
                if let Some(ns) = service_ns.or_else(|| model.shape(shape).xml_namespace.clone()) {
                    attrs.insert(0, ns);
                }
                w.open_with(&root, attrs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
                xmlbody::write_members(&mut w, model, shape, &output.value);
                w.close(&root);
                response.body = w.finish().into();
                body_type = content_type("application/xml");
            }
            _ => {
                let body: Map<String, Value> =
                    match json::write(model, shape, &output.value, TimestampFormat::EpochSeconds) {
                        Value::Object(o) => o
                            .into_iter()
                            .filter(|(k, _)| members.iter().any(|m| m.location == Location::Body && m.wire_name() == k))
                            .collect(),
                        _ => Map::new(),
                    };
                response.body = Value::Object(body).to_string().into();
                body_type = content_type("application/json");
            }
        }
    }
    if let Some(t) = body_type {
        response.headers.push(("content-type".into(), t));
    }
    response
}

fn header_text(model: &Model, m: &Member, v: &Value) -> Option<String> {
    if m.json_value {
        let text = v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string());
        return Some(base64::engine::general_purpose::STANDARD.encode(text));
    }
    match (&model.shape(m.shape).kind, v) {
        (Kind::List(item), Value::Array(items)) => Some(
            items
                .iter()
                .filter_map(|i| scalar::to_text(model, item.shape, i, TimestampFormat::Rfc822))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        _ => scalar::to_text(model, m.shape, v, m.timestamp_format.unwrap_or(TimestampFormat::Rfc822)),
    }
}
