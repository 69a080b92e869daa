//! What API Gateway's two control planes' handlers share: readers of the fields of their
//! input, and writers of their output.

use std::collections::BTreeMap;

use serde_json::Value;

/// A list answer of API Gateway's REST API: its `items` (written `item` on the wire).
pub(crate) fn item_list<T>(list: &[T], f: impl Fn(&T) -> Value) -> Value {
    serde_json::json!({ "items": list.iter().map(f).collect::<Vec<_>>() })
}

pub(crate) fn string(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

pub(crate) fn boolean(v: &Value, key: &str) -> Option<bool> {
    v.get(key).and_then(Value::as_bool)
}

pub(crate) fn integer(v: &Value, key: &str) -> Option<i64> {
    v.get(key).and_then(Value::as_i64)
}

pub(crate) fn strings(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default()
}

pub(crate) fn string_map(v: &Value, key: &str) -> BTreeMap<String, String> {
    v.get(key)
        .and_then(Value::as_object)
        .map(|o| o.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned()))).collect())
        .unwrap_or_default()
}

pub(crate) fn bool_map(v: &Value, key: &str) -> BTreeMap<String, bool> {
    v.get(key)
        .and_then(Value::as_object)
        .map(|o| o.iter().filter_map(|(k, v)| Some((k.clone(), v.as_bool()?))).collect())
        .unwrap_or_default()
}

/// Inserts `value` under `key` unless it is empty (`None`, an empty map or list).
pub(crate) fn put(o: &mut Value, key: &str, value: Value) {
    let empty = match &value {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    };
    if !empty {
        o[key] = value;
    }
}

/// An ISO 8601 timestamp from ms since the epoch (`apigatewayv2`'s dates).
pub(crate) fn iso8601(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000)).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}
