//! Attribute values in AWS's JSON (`{"S": "x"}`, `{"N": "1"}`, binary as base64): read
//! with DynamoDB's checks and words, and written, for the API's edge and for the stream
//! records Lambda receives.

use std::collections::BTreeMap;

use base64::Engine;
use serde_json::{json, Map, Value as Json};

use crate::number::Number;
use crate::value::{check_sets, Item, Value, MAX_DEPTH};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Reads one attribute value; the refusal in DynamoDB's words.
pub fn value_of(j: &Json) -> Result<Value, String> {
    read(j, 0)
}

fn read(j: &Json, depth: usize) -> Result<Value, String> {
    if depth > MAX_DEPTH {
        return Err(
            "Nesting Levels have exceeded supported limits: Nesting Levels of 32 is exceeding the maximum limit of 32"
                .into(),
        );
    }
    let Some(obj) = j.as_object() else {
        return Err("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes".into());
    };
    let set: Vec<(&String, &Json)> = obj.iter().filter(|(_, v)| !v.is_null()).collect();
    match set.len() {
        0 => return Err("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes".into()),
        1 => {}
        _ => {
            return Err(
                "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes"
                    .into(),
            )
        }
    }
    let (k, v) = set[0];
    let text = |v: &Json| v.as_str().map(str::to_owned).ok_or_else(|| format!("Invalid {k} value"));
    let number = |v: &Json| -> Result<Number, String> {
        let t = v.as_str().ok_or_else(|| "The parameter cannot be converted to a numeric value".to_owned())?;
        Number::parse(t).map_err(|e| e.to_string())
    };
    let bytes = |v: &Json| -> Result<Vec<u8>, String> {
        let t = v.as_str().ok_or_else(|| "Invalid binary value".to_owned())?;
        B64.decode(t).map_err(|_| "Invalid binary value".to_owned())
    };
    let list = |v: &Json| v.as_array().cloned().ok_or_else(|| format!("Invalid {k} value"));
    let out = match k.as_str() {
        "S" => Value::S(text(v)?),
        "N" => Value::N(number(v)?),
        "B" => Value::B(bytes(v)?),
        "SS" => Value::Ss(list(v)?.iter().map(text).collect::<Result<_, _>>()?),
        "NS" => Value::Ns(list(v)?.iter().map(number).collect::<Result<_, _>>()?),
        "BS" => Value::Bs(list(v)?.iter().map(bytes).collect::<Result<_, _>>()?),
        "M" => {
            let m = v.as_object().ok_or_else(|| "Invalid M value".to_owned())?;
            let mut out = BTreeMap::new();
            for (name, inner) in m {
                out.insert(name.clone(), read(inner, depth + 1)?);
            }
            Value::M(out)
        }
        "L" => Value::L(list(v)?.iter().map(|x| read(x, depth + 1)).collect::<Result<_, _>>()?),
        "NULL" => {
            match v {
                Json::Bool(true) => Value::Null,
                _ => return Err(
                    "One or more parameter values were invalid: Null attribute value types must have the value of true"
                        .into(),
                ),
            }
        }
        "BOOL" => Value::Bool(v.as_bool().ok_or_else(|| "Invalid BOOL value".to_owned())?),
        _ => return Err("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes".into()),
    };
    Ok(out)
}

/// Reads an item (a map of attribute values), sets checked.
pub fn item_of(j: &Json) -> Result<Item, String> {
    let mut out = Item::new();
    if let Some(m) = j.as_object() {
        for (k, v) in m {
            let v = value_of(v)?;
            check_sets(&v).map_err(|e| format!("One or more parameter values were invalid: {e}"))?;
            out.insert(k.clone(), v);
        }
    }
    Ok(out)
}

/// Writes one attribute value.
pub fn to_json(v: &Value) -> Json {
    match v {
        Value::S(s) => json!({ "S": s }),
        Value::N(n) => json!({ "N": n.to_string() }),
        Value::B(b) => json!({ "B": B64.encode(b) }),
        Value::Ss(s) => json!({ "SS": s }),
        Value::Ns(s) => json!({ "NS": s.iter().map(ToString::to_string).collect::<Vec<_>>() }),
        Value::Bs(s) => json!({ "BS": s.iter().map(|b| B64.encode(b)).collect::<Vec<_>>() }),
        Value::M(m) => json!({ "M": map_json(m) }),
        Value::L(l) => json!({ "L": l.iter().map(to_json).collect::<Vec<_>>() }),
        Value::Null => json!({ "NULL": true }),
        Value::Bool(b) => json!({ "BOOL": b }),
    }
}

/// Writes an item.
pub fn item_json(item: &Item) -> Json {
    Json::Object(map_json(item))
}

fn map_json(m: &BTreeMap<String, Value>) -> Map<String, Json> {
    m.iter().map(|(k, v)| (k.clone(), to_json(v))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_type() {
        let j = json!({
            "s": {"S": "x"}, "n": {"N": "1.50"}, "b": {"B": "AAE="}, "ss": {"SS": ["a", "b"]},
            "ns": {"NS": ["1", "2"]}, "bs": {"BS": ["AA=="]}, "m": {"M": {"k": {"BOOL": true}}},
            "l": {"L": [{"NULL": true}, {"S": ""}]}
        });
        let item = item_of(&j).unwrap();
        let back = item_json(&item);
        assert_eq!(back["n"], json!({"N": "1.5"}));
        assert_eq!(back["m"], json!({"M": {"k": {"BOOL": true}}}));
        assert_eq!(item_of(&back).unwrap(), item);
    }

    #[test]
    fn refusals_in_dynamodbs_words() {
        assert_eq!(
            value_of(&json!({})).unwrap_err(),
            "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
        );
        assert_eq!(
            value_of(&json!({"S": "a", "N": "1"})).unwrap_err(),
            "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes"
        );
        assert_eq!(
            item_of(&json!({"x": {"SS": []}})).unwrap_err(),
            "One or more parameter values were invalid: An string set  may not be empty"
        );
        assert_eq!(
            value_of(&json!({"N": "x"})).unwrap_err(),
            "The parameter cannot be converted to a numeric value: x"
        );
    }
}
