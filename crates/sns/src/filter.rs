//! SNS subscription filter policies: which messages a subscription receives.

use serde_json::Value;

/// A message as filters see it: its attributes (`Type`, `Value`) and its body.
pub struct Subject<'a> {
    /// `MessageAttributes`: name → (data type, value).
    pub attributes: &'a [(String, String, String)],
    /// The message body.
    pub body: &'a str,
}

/// Whether `policy` (a filter policy document) admits the message. `body_scope` selects
/// `FilterPolicyScope: MessageBody`.
pub fn admits(policy: &Value, subject: &Subject<'_>, body_scope: bool) -> bool {
    let Some(rules) = policy.as_object() else { return true };
    if body_scope {
        let Ok(body) = serde_json::from_str::<Value>(subject.body) else { return false };
        return object_matches(rules, &body);
    }
    rules.iter().all(|(name, conditions)| {
        let attribute = subject.attributes.iter().find(|(n, _, _)| n == name);
        let values: Vec<Value> = match attribute {
            None => Vec::new(),
            Some((_, kind, value)) if kind.starts_with("String.Array") => {
                serde_json::from_str::<Vec<Value>>(value).unwrap_or_default()
            }
            Some((_, kind, value)) if kind.starts_with("Number") => {
                vec![value.trim().parse::<f64>().map(Value::from).unwrap_or(Value::Null)]
            }
            Some((_, _, value)) => vec![Value::from(value.clone())],
        };
        conditions_match(conditions, attribute.is_some(), &values)
    })
}

fn object_matches(rules: &serde_json::Map<String, Value>, body: &Value) -> bool {
    rules.iter().all(|(key, rule)| {
        let value = body.get(key);
        match rule {
            Value::Object(nested) => value.is_some_and(|v| object_matches(nested, v)),
            _ => {
                let values = match value {
                    Some(Value::Array(items)) => items.clone(),
                    Some(v) => vec![v.clone()],
                    None => Vec::new(),
                };
                conditions_match(rule, value.is_some(), &values)
            }
        }
    })
}

/// Whether any of a key's conditions matches any of its values.
fn conditions_match(conditions: &Value, present: bool, values: &[Value]) -> bool {
    let list = match conditions {
        Value::Array(items) => items.clone(),
        other => vec![other.clone()],
    };
    list.iter().any(|c| match c {
        Value::Object(o) if o.contains_key("exists") => o["exists"].as_bool() == Some(present),
        _ => values.iter().any(|v| condition_matches(c, v)),
    })
}

fn number(v: &Value) -> Option<f64> {
    v.as_f64().or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

fn condition_matches(c: &Value, v: &Value) -> bool {
    match c {
        Value::String(s) => v.as_str() == Some(s),
        Value::Number(n) => number(v).is_some_and(|x| Some(x) == n.as_f64()),
        Value::Bool(b) => v.as_bool() == Some(*b),
        Value::Null => v.is_null(),
        Value::Object(o) => o.iter().all(|(op, arg)| operator_matches(op, arg, v)),
        Value::Array(_) => false,
    }
}

fn operator_matches(op: &str, arg: &Value, v: &Value) -> bool {
    let text = v.as_str();
    match op {
        "prefix" => text.zip(arg.as_str()).is_some_and(|(t, p)| t.starts_with(p)),
        "suffix" => text.zip(arg.as_str()).is_some_and(|(t, p)| t.ends_with(p)),
        "equals-ignore-case" => text.zip(arg.as_str()).is_some_and(|(t, p)| t.eq_ignore_ascii_case(p)),
        "anything-but" => match arg {
            Value::Array(items) => !items.iter().any(|i| condition_matches(i, v)),
            Value::Object(_) => !condition_matches(arg, v),
            other => !condition_matches(other, v),
        },
        "numeric" => {
            let Some(x) = number(v) else { return false };
            let parts = arg.as_array().cloned().unwrap_or_default();
            parts.chunks(2).all(|pair| {
                match (pair.first().and_then(Value::as_str), pair.get(1).and_then(Value::as_f64)) {
                    (Some("="), Some(n)) => x == n,
                    (Some("<"), Some(n)) => x < n,
                    (Some("<="), Some(n)) => x <= n,
                    (Some(">"), Some(n)) => x > n,
                    (Some(">="), Some(n)) => x >= n,
                    _ => false,
                }
            })
        }
        _ => false,
    }
}

/// Checks a parsed filter policy document as SNS does when it is set.
pub fn check_value(policy: &Value) -> Result<(), String> {
    if !policy.is_object() {
        return Err("FilterPolicy: Filter policy must be a JSON object".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn attrs(list: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
        list.iter().map(|(a, b, c)| ((*a).to_owned(), (*b).to_owned(), (*c).to_owned())).collect()
    }

    #[test]
    fn attribute_policies() {
        let a =
            attrs(&[("colour", "String", "red"), ("size", "Number", "7"), ("tags", "String.Array", "[\"x\",\"y\"]")]);
        let s = Subject { attributes: &a, body: "" };
        assert!(admits(&json!({"colour": ["red", "blue"]}), &s, false));
        assert!(!admits(&json!({"colour": ["blue"]}), &s, false));
        assert!(admits(&json!({"size": [{"numeric": [">", 5, "<=", 7]}]}), &s, false));
        assert!(!admits(&json!({"size": [{"numeric": ["<", 5]}]}), &s, false));
        assert!(admits(&json!({"colour": [{"prefix": "re"}], "tags": ["y"]}), &s, false));
        assert!(admits(&json!({"colour": [{"anything-but": ["blue"]}]}), &s, false));
        assert!(admits(&json!({"missing": [{"exists": false}]}), &s, false));
        assert!(!admits(&json!({"missing": ["x"]}), &s, false));
    }

    #[test]
    fn body_policies() {
        let s = Subject { attributes: &[], body: r#"{"order": {"kind": "book", "price": 12}}"# };
        assert!(admits(&json!({"order": {"kind": ["book"], "price": [{"numeric": [">", 10]}]}}), &s, true));
        assert!(!admits(&json!({"order": {"kind": ["pen"]}}), &s, true));
    }
}
