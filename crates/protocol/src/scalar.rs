//! Scalars written as text (query parameters, XML, URI labels, query strings, headers)
//! read into the canonical tree, and written back.

use serde_json::Value;

use crate::model::{Kind, Model, ShapeId, TimestampFormat};
use crate::timestamp;

/// Reads text as a value of a scalar shape; on failure, what the shape wanted.
pub fn from_text(model: &Model, shape: ShapeId, text: &str) -> Result<Value, &'static str> {
    Ok(match &model.shape(shape).kind {
        Kind::Integer | Kind::Long => Value::from(text.trim().parse::<i64>().map_err(|_| "integer")?),
        Kind::Float | Kind::Double => match text.trim() {
            t @ ("NaN" | "Infinity" | "-Infinity") => Value::String(t.to_owned()),
            t => {
                let f = t.parse::<f64>().map_err(|_| "number")?;
                serde_json::Number::from_f64(f).map(Value::Number).ok_or("number")?
            }
        },
        Kind::Boolean => match text.trim() {
            t if t.eq_ignore_ascii_case("true") => Value::Bool(true),
            t if t.eq_ignore_ascii_case("false") => Value::Bool(false),
            _ => return Err("boolean"),
        },
        Kind::Timestamp => Value::from(timestamp::parse(text).ok_or("timestamp")?),
        _ => Value::String(text.to_owned()),
    })
}

/// Writes a canonical scalar as text.
pub fn to_text(model: &Model, shape: ShapeId, v: &Value, format: TimestampFormat) -> Option<String> {
    Some(match (&model.shape(shape).kind, v) {
        (_, Value::Null) => return None,
        (Kind::Timestamp, v) => match timestamp::format(timestamp::seconds_of(v)?, format) {
            Value::String(s) => s,
            other => other.to_string(),
        },
        (_, Value::String(s)) => s.clone(),
        (_, Value::Bool(b)) => b.to_string(),
        (_, Value::Number(n)) => n.to_string(),
        (_, other) => other.to_string(),
    })
}
