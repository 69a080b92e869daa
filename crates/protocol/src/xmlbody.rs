//! Structures as XML (the query protocol's answers, rest-xml bodies): the canonical tree
//! written by a shape, and an XML body read back into it.

use serde_json::{Map, Value};

use crate::json::TypeError;
use crate::model::{Kind, Member, Model, ShapeId, TimestampFormat};
use crate::scalar;
use crate::xml::{Element, XmlWriter};

/// Writes the members of a structure value as child elements.
pub fn write_members(w: &mut XmlWriter, model: &Model, shape: ShapeId, value: &Value) {
    let Kind::Structure { members, .. } = &model.shape(shape).kind else { return };
    let Value::Object(obj) = value else { return };
    for m in members.iter().filter(|m| !m.xml_attribute) {
        if let Some(v) = obj.get(&m.name).filter(|v| !v.is_null()) {
            write_member(w, model, m, m.query_wire_name(), v);
        }
    }
}

/// The attributes a structure value writes on its own element.
pub fn attributes(model: &Model, shape: ShapeId, value: &Value) -> Vec<(String, String)> {
    let Kind::Structure { members, .. } = &model.shape(shape).kind else { return Vec::new() };
    members
        .iter()
        .filter(|m| m.xml_attribute)
        .filter_map(|m| {
            let v = value.get(&m.name)?;
            Some((m.wire_name().to_owned(), scalar::to_text(model, m.shape, v, TimestampFormat::Iso8601)?))
        })
        .collect()
}

/// Writes one member named `name`.
pub fn write_member(w: &mut XmlWriter, model: &Model, m: &Member, name: &str, v: &Value) {
    let shape = model.shape(m.shape);
    match (&shape.kind, v) {
        (Kind::Structure { .. }, _) => {
            let mut attrs = attributes(model, m.shape, v);
            if let Some(ns) = m.xml_namespace.as_ref().or(shape.xml_namespace.as_ref()) {
                attrs.insert(0, ns.clone());
            }
            w.open_with(name, attrs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            write_members(w, model, m.shape, v);
            w.close(name);
        }
        (Kind::List(item), Value::Array(items)) => {
            if m.flattened || shape.flattened {
                // A flattened list's items take the member's own name.
                for i in items {
                    write_member(w, model, item, name, i);
                }
            } else {
                w.open(name, None);
                let item_name = item.location_name.as_deref().unwrap_or("member");
                for i in items {
                    write_member(w, model, item, item_name, i);
                }
                w.close(name);
            }
        }
        (Kind::Map(k, val), Value::Object(obj)) => {
            let kname = k.location_name.as_deref().unwrap_or("key");
            let vname = val.location_name.as_deref().unwrap_or("value");
            let flattened = m.flattened || shape.flattened;
            if !flattened {
                w.open(name, None);
            }
            for (key, item) in obj {
                let entry = if flattened { name } else { "entry" };
                w.open(entry, None);
                w.leaf(kname, key);
                write_member(w, model, val, vname, item);
                w.close(entry);
            }
            if !flattened {
                w.close(name);
            }
        }
        _ => {
            let format = m.timestamp_format.or(shape.timestamp_format).unwrap_or(TimestampFormat::Iso8601);
            if let Some(text) = scalar::to_text(model, m.shape, v, format) {
                w.leaf(name, &text);
            }
        }
    }
}

/// Reads an element's children as the members of a structure.
pub fn read_structure(model: &Model, shape: ShapeId, el: &Element, path: &str) -> Result<Value, TypeError> {
    let Kind::Structure { members, .. } = &model.shape(shape).kind else {
        return Ok(Value::Object(Map::new()));
    };
    let mut out = Map::new();
    for m in members {
        let path = if path.is_empty() { m.name.clone() } else { format!("{path}.{}", m.name) };
        if m.xml_attribute {
            if let Some((_, text)) = el.attributes.iter().find(|(k, _)| k == m.wire_name()) {
                out.insert(m.name.clone(), scalar(model, m, text, &path)?);
            }
            continue;
        }
        if let Some(v) = read_member(model, m, el, &path)? {
            out.insert(m.name.clone(), v);
        }
    }
    Ok(Value::Object(out))
}

fn scalar(model: &Model, m: &Member, text: &str, path: &str) -> Result<Value, TypeError> {
    scalar::from_text(model, m.shape, text).map_err(|expected| TypeError { path: path.to_owned(), expected })
}

/// Reads member `m` from among `parent`'s children.
fn read_member(model: &Model, m: &Member, parent: &Element, path: &str) -> Result<Option<Value>, TypeError> {
    let shape = model.shape(m.shape);
    let name = m.wire_name();
    match &shape.kind {
        Kind::List(item) if m.flattened || shape.flattened => {
            let items: Vec<&Element> = parent.named(name).collect();
            if items.is_empty() {
                return Ok(None);
            }
            items
                .iter()
                .enumerate()
                .map(|(i, el)| element(model, item, el, &format!("{path}.{}", i + 1)))
                .collect::<Result<Vec<_>, _>>()
                .map(|v| Some(Value::Array(v)))
        }
        Kind::Map(..) if m.flattened || shape.flattened => {
            let entries: Vec<&Element> = parent.named(name).collect();
            if entries.is_empty() {
                return Ok(None);
            }
            map_entries(model, m, &entries, path).map(Some)
        }
        _ => match parent.named(name).next() {
            Some(el) => element(model, m, el, path).map(Some),
            None => Ok(None),
        },
    }
}

fn map_entries(model: &Model, m: &Member, entries: &[&Element], path: &str) -> Result<Value, TypeError> {
    let Kind::Map(k, v) = &model.shape(m.shape).kind else { return Ok(Value::Null) };
    let kname = k.location_name.as_deref().unwrap_or("key");
    let vname = v.location_name.as_deref().unwrap_or("value");
    let mut out = Map::new();
    for e in entries {
        let Some(key) = e.named(kname).next().map(|k| k.text.clone()) else { continue };
        if let Some(val) = e.named(vname).next() {
            let val = element(model, v, val, &format!("{path}.{key}"))?;
            out.insert(key, val);
        }
    }
    Ok(Value::Object(out))
}

/// Reads one element as a value of member `m`'s shape.
pub fn element(model: &Model, m: &Member, el: &Element, path: &str) -> Result<Value, TypeError> {
    let shape = model.shape(m.shape);
    match &shape.kind {
        Kind::Structure { .. } => read_structure(model, m.shape, el, path),
        Kind::List(item) => {
            let item_name = item.location_name.as_deref().unwrap_or("member");
            el.named(item_name)
                .enumerate()
                .map(|(i, c)| element(model, item, c, &format!("{path}.{}", i + 1)))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array)
        }
        Kind::Map(..) => {
            let entries: Vec<&Element> = el.named("entry").collect();
            map_entries(model, m, &entries, path)
        }
        _ => scalar(model, m, &el.text, path),
    }
}
