//! CBOR bodies (the `smithy-rpc-v2-cbor` protocol CloudWatch's current SDKs speak):
//! decoded into JSON for the shape-driven reader, and encoded from the canonical tree with
//! blobs as byte strings and timestamps as tag 1.

use base64::Engine;
use ciborium::value::Value as Cbor;
use serde_json::{Map, Value};

use crate::model::{Kind, Model, ShapeId};
use crate::timestamp;

/// Nesting a CBOR body may have.
const MAX_DEPTH: usize = 64;

/// Decodes a CBOR document into JSON: byte strings as base64 text, tagged epoch times as
/// numbers.
pub fn decode(body: &[u8]) -> Result<Value, String> {
    decode_times(body, Times::Seconds)
}

/// How a CBOR body writes its times: epoch seconds (smithy's rpc-v2-cbor), or epoch
/// milliseconds (AWS's JSON protocols carried in CBOR, `application/x-amz-cbor-1.1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Times {
    /// Tag 1, seconds.
    Seconds,
    /// Tag 1, whole milliseconds.
    Millis,
}

/// Decodes a CBOR document whose times are written as `times` says.
pub fn decode_times(body: &[u8], times: Times) -> Result<Value, String> {
    let v: Cbor = ciborium::de::from_reader_with_recursion_limit(body, MAX_DEPTH).map_err(|e| e.to_string())?;
    to_json(v, times)
}

fn to_json(v: Cbor, times: Times) -> Result<Value, String> {
    Ok(match v {
        Cbor::Null => Value::Null,
        Cbor::Bool(b) => Value::Bool(b),
        Cbor::Integer(i) => {
            let i: i128 = i.into();
            i64::try_from(i).map(Value::from).map_err(|_| "an integer out of range".to_owned())?
        }
        Cbor::Float(f) => match serde_json::Number::from_f64(f) {
            Some(n) => Value::Number(n),
            None if f.is_nan() => Value::String("NaN".into()),
            None if f > 0.0 => Value::String("Infinity".into()),
            None => Value::String("-Infinity".into()),
        },
        Cbor::Text(s) => Value::String(s),
        Cbor::Bytes(b) => Value::String(base64::engine::general_purpose::STANDARD.encode(b)),
        Cbor::Array(items) => Value::Array(items.into_iter().map(|i| to_json(i, times)).collect::<Result<_, _>>()?),
        Cbor::Map(entries) => {
            let mut out = Map::new();
            for (k, v) in entries {
                let Cbor::Text(k) = k else { return Err("a map key that is not text".into()) };
                out.insert(k, to_json(v, times)?);
            }
            Value::Object(out)
        }
        Cbor::Tag(1, inner) if times == Times::Millis => match to_json(*inner, times)? {
            Value::Number(n) => {
                serde_json::Number::from_f64(n.as_f64().unwrap_or(0.0) / 1000.0).map_or(Value::Null, Value::Number)
            }
            other => other,
        },
        Cbor::Tag(_, inner) => to_json(*inner, times)?,
        _ => return Err("an unsupported CBOR value".into()),
    })
}

/// Encodes JSON without a shape (errors).
pub fn encode(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = ciborium::ser::into_writer(&generic(v), &mut out);
    out
}

fn generic(v: &Value) -> Cbor {
    match v {
        Value::Null => Cbor::Null,
        Value::Bool(b) => Cbor::Bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Cbor::Integer(i.into()),
            None => Cbor::Float(n.as_f64().unwrap_or(0.0)),
        },
        Value::String(s) => Cbor::Text(s.clone()),
        Value::Array(a) => Cbor::Array(a.iter().map(generic).collect()),
        Value::Object(o) => Cbor::Map(o.iter().map(|(k, v)| (Cbor::Text(k.clone()), generic(v))).collect()),
    }
}

/// Encodes a canonical value of a shape.
pub fn encode_shaped(model: &Model, shape: ShapeId, v: &Value) -> Vec<u8> {
    encode_shaped_times(model, shape, v, Times::Seconds)
}

/// Encodes a canonical value of a shape, its times written as `times` says.
pub fn encode_shaped_times(model: &Model, shape: ShapeId, v: &Value, times: Times) -> Vec<u8> {
    let mut out = Vec::new();
    let _ = ciborium::ser::into_writer(&shaped(model, shape, v, times), &mut out);
    out
}

fn shaped(model: &Model, shape: ShapeId, v: &Value, times: Times) -> Cbor {
    match (&model.shape(shape).kind, v) {
        (Kind::Structure { members, .. }, Value::Object(o)) => Cbor::Map(
            members
                .iter()
                .filter_map(|m| {
                    let v = o.get(&m.name).filter(|v| !v.is_null())?;
                    Some((Cbor::Text(m.wire_name().to_owned()), shaped(model, m.shape, v, times)))
                })
                .collect(),
        ),
        (Kind::List(m), Value::Array(a)) => Cbor::Array(a.iter().map(|v| shaped(model, m.shape, v, times)).collect()),
        (Kind::Map(_, m), Value::Object(o)) => {
            Cbor::Map(o.iter().map(|(k, v)| (Cbor::Text(k.clone()), shaped(model, m.shape, v, times))).collect())
        }
        (Kind::Blob, Value::String(s)) => {
            Cbor::Bytes(base64::engine::general_purpose::STANDARD.decode(s).unwrap_or_else(|_| s.as_bytes().to_vec()))
        }
        (Kind::Timestamp, v) => match timestamp::seconds_of(v) {
            Some(secs) if times == Times::Millis => {
                Cbor::Tag(1, Box::new(Cbor::Integer(((secs * 1000.0).round() as i64).into())))
            }
            Some(secs) => Cbor::Tag(1, Box::new(Cbor::Float(secs))),
            None => Cbor::Null,
        },
        (Kind::Float | Kind::Double, Value::String(s)) => Cbor::Float(match s.as_str() {
            "Infinity" => f64::INFINITY,
            "-Infinity" => f64::NEG_INFINITY,
            _ => f64::NAN,
        }),
        (_, v) => generic(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips_through_cbor() {
        let model = crate::service("cloudwatch").unwrap();
        let op = model.operation("GetMetricData").unwrap();
        let input = json!({"StartTime": 1_700_000_000.0, "EndTime": 1_700_000_060.5, "MaxDatapoints": 10,
            "MetricDataQueries": [{"Id": "q", "ReturnData": true}]});
        let bytes = encode_shaped(model, op.input.unwrap(), &input);
        let decoded = decode(&bytes).unwrap();
        assert_eq!(crate::json::read(model, op.input.unwrap(), decoded, "").unwrap(), input);
        assert!(decode(&[0x9f; 200]).is_err(), "nesting is bounded");
        assert!(decode(&[0xff]).is_err());
    }
}
