//! JSON bodies (the json and rest-json protocols, and CBOR's values): wire JSON read into
//! the canonical tree by a shape, and the canonical tree written back.
//!
//! The canonical tree is JSON too: structures are objects keyed by member name, maps are
//! objects, timestamps are numbers of seconds, blobs are base64 text. Reading keeps only
//! the members the shape has (AWS ignores the others) and drops nulls (but for the null
//! values of a service whose maps are sparse); a value of the wrong
//! type is an error naming the member.

use serde_json::{Map, Value};

use crate::model::{Kind, Member, Model, ShapeId, TimestampFormat};
use crate::timestamp;

/// A value of the wrong type, at a member path.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeError {
    /// Where (`Attributes.VisibilityTimeout`).
    pub path: String,
    /// What the model wants there.
    pub expected: &'static str,
}

fn expected(kind: &Kind) -> &'static str {
    match kind {
        Kind::Structure { .. } => "structure",
        Kind::List(_) => "list",
        Kind::Map(..) => "map",
        Kind::String => "string",
        Kind::Integer | Kind::Long => "integer",
        Kind::Float | Kind::Double => "number",
        Kind::Boolean => "boolean",
        Kind::Timestamp => "timestamp",
        Kind::Blob => "blob",
        Kind::Document => "document",
    }
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

/// Reads wire JSON of a shape into the canonical tree.
pub fn read(model: &Model, shape: ShapeId, value: Value, path: &str) -> Result<Value, TypeError> {
    let s = model.shape(shape);
    let wrong = || TypeError { path: path.to_owned(), expected: expected(&s.kind) };
    Ok(match (&s.kind, value) {
        (Kind::Structure { members, .. }, Value::Object(mut obj)) => {
            let mut out = Map::new();
            for m in members {
                if let Some(v) = obj.remove(m.wire_name()).filter(|v| !v.is_null()) {
                    // The path names the member as the caller wrote it.
                    out.insert(m.name.clone(), read(model, m.shape, v, &join(path, m.wire_name()))?);
                }
            }
            Value::Object(out)
        }
        (Kind::List(member), Value::Array(items)) => Value::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(i, v)| read(model, member.shape, v, &join(path, &(i + 1).to_string())))
                .collect::<Result<_, _>>()?,
        ),
        // Where the service's maps are sparse, a key whose value is null is kept (API
        // Gateway's `responseTemplates` keeps such a template, empty); elsewhere dropped.
        (Kind::Map(_, value), Value::Object(obj)) => {
            let sparse = crate::rules::of(model.service).sparse_maps;
            let mut out = Map::new();
            for (k, v) in obj {
                if v.is_null() {
                    if sparse {
                        out.insert(k, v);
                    }
                    continue;
                }
                let v = read(model, value.shape, v, &join(path, &k))?;
                out.insert(k, v);
            }
            Value::Object(out)
        }
        (Kind::String, v @ Value::String(_)) => v,
        (Kind::Integer | Kind::Long, Value::Number(n)) => match n.as_i64() {
            Some(i) => Value::from(i),
            // A whole number written with a fraction (`5.0`) is still that number.
            None => match n.as_f64() {
                Some(f) if f.fract() == 0.0 && f.abs() < 9.2e18 => Value::from(f as i64),
                _ => return Err(wrong()),
            },
        },
        (Kind::Float | Kind::Double, v @ Value::Number(_)) => v,
        (Kind::Float | Kind::Double, Value::String(s)) if matches!(s.as_str(), "NaN" | "Infinity" | "-Infinity") => {
            Value::String(s)
        }
        (Kind::Boolean, v @ Value::Bool(_)) => v,
        (Kind::Timestamp, v) => timestamp::seconds_of(&v).map(Value::from).ok_or_else(wrong)?,
        (Kind::Blob, v @ Value::String(_)) => v,
        (Kind::Document, v) => v,
        _ => return Err(wrong()),
    })
}

/// Writes the canonical tree of a shape as wire JSON: members by their wire names, only
/// those the shape has, timestamps in `default_format` unless the model says otherwise.
pub fn write(model: &Model, shape: ShapeId, value: &Value, default_format: TimestampFormat) -> Value {
    write_with(model, shape, value, default_format, None)
}

fn write_with(
    model: &Model,
    shape: ShapeId,
    value: &Value,
    default_format: TimestampFormat,
    member: Option<&Member>,
) -> Value {
    let s = model.shape(shape);
    match (&s.kind, value) {
        (Kind::Structure { members, .. }, Value::Object(obj)) => {
            let mut out = Map::new();
            for m in members {
                if let Some(v) = obj.get(&m.name).filter(|v| !v.is_null()) {
                    out.insert(m.wire_name().to_owned(), write_with(model, m.shape, v, default_format, Some(m)));
                }
            }
            Value::Object(out)
        }
        (Kind::List(m), Value::Array(items)) => {
            Value::Array(items.iter().map(|v| write_with(model, m.shape, v, default_format, Some(m))).collect())
        }
        (Kind::Map(_, m), Value::Object(obj)) => Value::Object(
            obj.iter()
                .map(|(k, v)| {
                    let v =
                        if v.is_null() { Value::Null } else { write_with(model, m.shape, v, default_format, Some(m)) };
                    (k.clone(), v)
                })
                .collect(),
        ),
        (Kind::Timestamp, v) => {
            let format = member.and_then(|m| m.timestamp_format).or(s.timestamp_format).unwrap_or(default_format);
            timestamp::seconds_of(v).map(|secs| timestamp::format(secs, format)).unwrap_or(Value::Null)
        }
        (Kind::Integer | Kind::Long, Value::String(text)) => {
            text.parse::<i64>().map(Value::from).unwrap_or(Value::Null)
        }
        (Kind::Boolean, Value::String(text)) => Value::Bool(text == "true"),
        (_, v) => v.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_by_shape_and_writes_back() {
        let model = crate::service("sqs").unwrap();
        let input = model.operation("SendMessage").unwrap().input.unwrap();
        let wire = json!({"QueueUrl": "u", "MessageBody": "b", "DelaySeconds": 5.0, "Unknown": 1,
            "MessageAttributes": {"a": {"DataType": "String", "StringValue": "v", "Junk": null}}, "MessageGroupId": null});
        let v = read(model, input, wire, "").unwrap();
        assert_eq!(
            v,
            json!({"QueueUrl": "u", "MessageBody": "b", "DelaySeconds": 5,
                "MessageAttributes": {"a": {"DataType": "String", "StringValue": "v"}}})
        );
        let err = read(model, input, json!({"DelaySeconds": "x"}), "").unwrap_err();
        assert_eq!(err, TypeError { path: "DelaySeconds".into(), expected: "integer" });
        let err = read(model, input, json!({"MessageAttributes": {"a": {"StringListValues": "x"}}}), "").unwrap_err();
        assert_eq!(err.path, "MessageAttributes.a.StringListValues");
        assert_eq!(write(model, input, &v, TimestampFormat::EpochSeconds), v);
        // SQS's maps drop a null value; API Gateway's keep it.
        let v = read(model, input, json!({"MessageAttributes": {"a": null}}), "").unwrap();
        assert_eq!(v, json!({"MessageAttributes": {}}));
        let gw = crate::service("apigateway").unwrap();
        let op = gw.operation("PutIntegrationResponse").unwrap().input.unwrap();
        let v = read(gw, op, json!({"responseTemplates": {"application/json": null}}), "").unwrap();
        assert_eq!(v, json!({"responseTemplates": {"application/json": null}}));
    }
}
