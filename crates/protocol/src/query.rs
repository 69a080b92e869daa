//! The query protocol's requests: form parameters (`Attribute.1.Name=…`,
//! `Tags.member.1.Key=…`) read into the canonical tree by a shape, the way the SDKs
//! write them (lists `.member.N`, or flattened `.N`; maps `.entry.N.key`, or flattened
//! `.N.Name`).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::json::TypeError;
use crate::model::{Kind, Member, Model, ShapeId};
use crate::scalar;

/// The form parameters of one request, by name.
pub struct Params(BTreeMap<String, String>);

impl Params {
    /// Collects parameters; the first of a repeated name counts.
    pub fn new(pairs: impl IntoIterator<Item = (String, String)>) -> Params {
        let mut map = BTreeMap::new();
        for (k, v) in pairs {
            map.entry(k).or_insert(v);
        }
        Params(map)
    }

    /// A parameter's value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// Whether `name` or anything under `name.` is present.
    fn has(&self, name: &str) -> bool {
        if self.0.contains_key(name) {
            return true;
        }
        let prefix = format!("{name}.");
        self.0.range(prefix.clone()..).next().is_some_and(|(k, _)| k.starts_with(&prefix))
    }
}

/// Reads a structure's members from the parameters.
pub fn read(model: &Model, shape: ShapeId, params: &Params) -> Result<Value, TypeError> {
    Ok(structure(model, shape, params, "")?.unwrap_or_else(|| Value::Object(Map::new())))
}

fn key(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

fn structure(model: &Model, shape: ShapeId, params: &Params, prefix: &str) -> Result<Option<Value>, TypeError> {
    let Kind::Structure { members, .. } = &model.shape(shape).kind else { return Ok(None) };
    let mut out = Map::new();
    for m in members {
        if let Some(v) = value(model, m, params, &key(prefix, m.query_wire_name()))? {
            out.insert(m.name.clone(), v);
        }
    }
    Ok((!out.is_empty() || (!prefix.is_empty() && params.get(prefix).is_some())).then_some(Value::Object(out)))
}

fn value(model: &Model, m: &Member, params: &Params, name: &str) -> Result<Option<Value>, TypeError> {
    let shape = model.shape(m.shape);
    // Only what the request has is read: a shape may contain itself.
    if !params.has(name) {
        return Ok(None);
    }
    match &shape.kind {
        Kind::Structure { .. } => structure(model, m.shape, params, name),
        Kind::List(item) => {
            let flattened = m.flattened || shape.flattened;
            // A flattened list's items are numbered under the member's own name.
            let base = if flattened {
                name.to_owned()
            } else {
                format!("{name}.{}", item.location_name.as_deref().unwrap_or("member"))
            };
            let mut items = Vec::new();
            for i in 1.. {
                let at = format!("{base}.{i}");
                if !params.has(&at) {
                    break;
                }
                items.push(value(model, item, params, &at)?.unwrap_or(Value::Null));
            }
            // `Name=` alone is the empty list.
            Ok((!items.is_empty() || params.get(name) == Some("")).then_some(Value::Array(items)))
        }
        Kind::Map(k, v) => {
            let flattened = m.flattened || shape.flattened;
            let base = if flattened { name.to_owned() } else { format!("{name}.entry") };
            let kname = k.location_name.as_deref().unwrap_or("key");
            let vname = v.location_name.as_deref().unwrap_or("value");
            let mut map = Map::new();
            for i in 1.. {
                let at = format!("{base}.{i}");
                if !params.has(&at) {
                    break;
                }
                let Some(key) = params.get(&format!("{at}.{kname}")) else { continue };
                let val = value(model, v, params, &format!("{at}.{vname}"))?.unwrap_or(Value::Null);
                map.insert(key.to_owned(), val);
            }
            Ok((!map.is_empty()).then_some(Value::Object(map)))
        }
        _ => match params.get(name) {
            Some(text) => scalar::from_text(model, m.shape, text)
                .map(Some)
                .map_err(|expected| TypeError { path: name.to_owned(), expected }),
            None => Ok(None),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params::new(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn lists_maps_and_structures_read_as_the_sdks_write_them() {
        let sns = crate::service("sns").unwrap();
        let op = sns.operation("CreateTopic").unwrap();
        let v = read(
            sns,
            op.input.unwrap(),
            &params(&[
                ("Action", "CreateTopic"),
                ("Name", "t"),
                ("Attributes.entry.1.key", "DisplayName"),
                ("Attributes.entry.1.value", "d"),
                ("Tags.member.1.Key", "k"),
                ("Tags.member.1.Value", "v"),
                ("Tags.member.2.Key", "k2"),
            ]),
        )
        .unwrap();
        assert_eq!(
            v,
            json!({"Name": "t", "Attributes": {"DisplayName": "d"}, "Tags": [{"Key": "k", "Value": "v"}, {"Key": "k2"}]})
        );
        let op = sns.operation("ListTopics").unwrap();
        assert_eq!(read(sns, op.input.unwrap(), &params(&[])).unwrap(), json!({}));
        let op = sns.operation("Publish").unwrap();
        let v = read(
            sns,
            op.input.unwrap(),
            &params(&[
                ("Message", "m"),
                ("MessageAttributes.entry.1.Name", "a"),
                ("MessageAttributes.entry.1.Value.DataType", "Number"),
                ("MessageAttributes.entry.1.Value.StringValue", "1"),
            ]),
        )
        .unwrap();
        assert_eq!(v, json!({"Message": "m", "MessageAttributes": {"a": {"DataType": "Number", "StringValue": "1"}}}));
    }

    #[test]
    fn numbers_and_booleans_are_typed_and_bad_ones_named() {
        let sts = crate::service("sts").unwrap();
        let op = sts.operation("AssumeRole").unwrap();
        let v = read(sts, op.input.unwrap(), &params(&[("RoleArn", "a"), ("DurationSeconds", "900")])).unwrap();
        assert_eq!(v, json!({"RoleArn": "a", "DurationSeconds": 900}));
        let e = read(sts, op.input.unwrap(), &params(&[("DurationSeconds", "soon")])).unwrap_err();
        assert_eq!(e.path, "DurationSeconds");
    }
}
