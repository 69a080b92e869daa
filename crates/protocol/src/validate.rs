//! Input checked against the model's constraints, reported in AWS's words and order:
//! `2 validation errors detected: Value 'x' at 'functionName' failed to satisfy
//! constraint: Member must satisfy regular expression pattern: …; Value null at 'role'
//! failed to satisfy constraint: Member must not be null`.

use serde_json::Value;

use crate::model::{Kind, Member, Model, Shape, ShapeId};
use crate::rules::Rules;

/// Violations reported at most (AWS stops listing there too).
const MAX_REPORTED: usize = 10;

/// One failed constraint.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// The value as AWS prints it (`'x'`, `'[a, b]'`), or `null`.
    pub value: String,
    /// The member path (`vpcConfig.subnetIds`, `patchOperations.1.member.op`).
    pub path: String,
    /// The constraint (`Member must not be null`).
    pub constraint: String,
}

/// The message for a list of violations.
pub fn message(violations: &[Violation]) -> String {
    let n = violations.len();
    let list: Vec<String> = violations
        .iter()
        .map(|v| {
            let value = if v.value == "null" { "null".to_owned() } else { format!("'{}'", v.value) };
            let value = if v.value.is_empty() { String::new() } else { format!(" {value}") };
            format!("Value{value} at '{}' failed to satisfy constraint: {}", v.path, v.constraint)
        })
        .collect();
    let noun = if n == 1 { "error" } else { "errors" };
    format!("{n} validation {noun} detected: {}", list.join("; "))
}

/// Checks an input structure; the violations in AWS's order.
pub fn check(model: &Model, operation: &str, input: ShapeId, value: &Value, rules: &Rules) -> Vec<Violation> {
    let mut out = Vec::new();
    let shape = model.shape(input);
    let Kind::Structure { members, .. } = &shape.kind else { return out };
    let prefix = if rules.input_prefix { format!("{}Input", lower_first(operation)) } else { String::new() };
    for m in members {
        let path = if m.location == crate::model::Location::Body && !prefix.is_empty() {
            format!("{prefix}.{}", lower_first(&m.name))
        } else {
            lower_first(&m.name)
        };
        member(model, m, value.get(&m.name), &path, rules, &mut out);
    }
    out.retain(|v| {
        let scoped = format!("{operation}:{}", v.path);
        !rules.own_checks.iter().any(|own| *own == v.path || *own == scoped)
    });
    // Where the body is validated as its own structure (`…Input.`), AWS reports it before
    // the members bound to the URI.
    if !prefix.is_empty() {
        let body = format!("{prefix}.");
        out.sort_by_key(|v| !v.path.starts_with(&body));
    }
    for v in &mut out {
        v.constraint = in_service_order(&v.constraint, rules.enum_orders);
    }
    out.truncate(MAX_REPORTED);
    out
}

/// `FunctionName` → `functionName`, as AWS writes member paths.
fn lower_first(name: &str) -> String {
    let mut c = name.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

fn member(model: &Model, m: &Member, value: Option<&Value>, path: &str, rules: &Rules, out: &mut Vec<Violation>) {
    match value.filter(|v| !v.is_null()) {
        None if m.required => out.push(Violation {
            value: "null".into(),
            path: path.to_owned(),
            constraint: "Member must not be null".into(),
        }),
        None => {}
        Some(v) => shape_value(model, m.shape, v, path, rules, out),
    }
}

fn shape_value(model: &Model, id: ShapeId, v: &Value, path: &str, rules: &Rules, out: &mut Vec<Violation>) {
    let shape = model.shape(id);
    for constraint in failed(shape, v) {
        out.push(Violation { value: display(model, id, v), path: path.to_owned(), constraint });
    }
    match (&shape.kind, v) {
        (Kind::Structure { members, .. }, Value::Object(obj)) => {
            for m in members {
                member(model, m, obj.get(&m.name), &format!("{path}.{}", lower_first(&m.name)), rules, out);
            }
        }
        (Kind::List(m), Value::Array(items)) => {
            let inner = model.shape(m.shape);
            if matches!(inner.kind, Kind::Structure { .. }) {
                for (i, item) in items.iter().enumerate() {
                    shape_value(model, m.shape, item, &format!("{path}.{}.member", i + 1), rules, out);
                }
            } else if items.iter().any(|item| item.is_null() || !failed(inner, item).is_empty()) {
                out.push(Violation {
                    value: display(model, id, v),
                    path: path.to_owned(),
                    constraint: format!(
                        "Member must satisfy constraint: [{}]",
                        all_constraints(inner, rules.list_not_null).join(", ")
                    ),
                });
            }
        }
        (Kind::Map(k, val), Value::Object(obj)) => {
            let key_shape = model.shape(k.shape);
            if obj.keys().any(|key| !failed(key_shape, &Value::String(key.clone())).is_empty()) {
                out.push(Violation {
                    value: display(model, id, v),
                    path: path.to_owned(),
                    constraint: format!(
                        "Map keys must satisfy constraint: [{}]",
                        all_constraints(key_shape, false).join(", ")
                    ),
                });
            }
            let value_shape = model.shape(val.shape);
            if matches!(value_shape.kind, Kind::Structure { .. }) {
                for (key, item) in obj {
                    shape_value(model, val.shape, item, &format!("{path}.{key}.member"), rules, out);
                }
            } else if obj.values().any(|item| !failed(value_shape, item).is_empty()) {
                out.push(Violation {
                    value: display(model, id, v),
                    path: path.to_owned(),
                    constraint: format!(
                        "Map value must satisfy constraint: [{}]",
                        all_constraints(value_shape, rules.list_not_null).join(", ")
                    ),
                });
            }
        }
        _ => {}
    }
}

/// Every constraint of a shape, in the order AWS lists a list member's or a map value's
/// (`not_null` where the service adds its own "must not be null"; map keys never do).
fn all_constraints(shape: &Shape, not_null: bool) -> Vec<String> {
    let c = &shape.constraints;
    let mut out = Vec::new();
    if let Some(max) = c.max {
        out.push(bound(shape, false, max));
    }
    if let Some(min) = c.min {
        out.push(bound(shape, true, min));
    }
    if !c.enum_values.is_empty() {
        out.push(format!("Member must satisfy enum value set: [{}]", c.enum_values.join(", ")));
    } else if let Some(p) = &c.pattern {
        out.push(format!("Member must satisfy regular expression pattern: {p}"));
    }
    if not_null {
        out.push("Member must not be null".into());
    }
    out
}

/// A length or range bound, the number printed as the service's Java types print it.
fn bound(shape: &Shape, min: bool, n: f64) -> String {
    let length = matches!(shape.kind, Kind::String | Kind::Blob | Kind::List(_) | Kind::Map(..));
    let what = if length { "length" } else { "value" };
    let how = if min { "greater" } else { "less" };
    let n = if matches!(shape.kind, Kind::Float | Kind::Double) { java_double(n) } else { number(n) };
    format!("Member must have {what} {how} than or equal to {n}")
}

fn number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e18 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// A floating-point number as Java's `Double.toString` writes it: `2.0`, `0.5`, `-1.0`,
/// and `1.0E7` / `1.0E-4` outside [10^-3, 10^7).
fn java_double(n: f64) -> String {
    let a = n.abs();
    if n == 0.0 || (1e-3..1e7).contains(&a) {
        let s = format!("{n}");
        return if s.contains('.') { s } else { format!("{s}.0") };
    }
    let s = format!("{n:e}");
    let (mantissa, exponent) = s.split_once('e').unwrap_or((&s, "0"));
    let mantissa = if mantissa.contains('.') { mantissa.to_owned() } else { format!("{mantissa}.0") };
    format!("{mantissa}E{exponent}")
}

/// An enum constraint's values in the order the service lists them, where it has one of
/// its own for that set.
fn in_service_order(constraint: &str, orders: &[&[&str]]) -> String {
    const SET: &str = "Member must satisfy enum value set: [";
    let Some(start) = constraint.find(SET).map(|i| i + SET.len()) else { return constraint.to_owned() };
    let Some(len) = constraint[start..].find(']') else { return constraint.to_owned() };
    let mut listed: Vec<&str> = constraint[start..start + len].split(", ").collect();
    listed.sort_unstable();
    let order = orders.iter().find(|o| {
        let mut sorted = o.to_vec();
        sorted.sort_unstable();
        sorted == listed
    });
    match order {
        Some(o) => format!("{}{}{}", &constraint[..start], o.join(", "), &constraint[start + len..]),
        None => constraint.to_owned(),
    }
}

/// The constraints a value breaks, in the order AWS reports them.
fn failed(shape: &Shape, v: &Value) -> Vec<String> {
    let c = &shape.constraints;
    let mut out = Vec::new();
    let size = match (&shape.kind, v) {
        (Kind::String, Value::String(s)) => {
            if !c.enum_values.is_empty() && !c.enum_values.iter().any(|e| e == s) {
                out.push(format!("Member must satisfy enum value set: [{}]", c.enum_values.join(", ")));
            }
            if let Some(re) = c.regex() {
                if !re.is_match(s) {
                    out.push(format!(
                        "Member must satisfy regular expression pattern: {}",
                        c.pattern.as_deref().unwrap_or_default()
                    ));
                }
            }
            Some(s.chars().count() as f64)
        }
        (Kind::Blob, Value::String(s)) => Some((s.trim_end_matches('=').len() * 3 / 4) as f64),
        (Kind::List(_), Value::Array(a)) => Some(a.len() as f64),
        (Kind::Map(..), Value::Object(o)) => Some(o.len() as f64),
        (Kind::Integer | Kind::Long | Kind::Float | Kind::Double, Value::Number(n)) => n.as_f64(),
        _ => None,
    };
    if let Some(size) = size {
        if let Some(max) = c.max.filter(|max| size > *max) {
            out.push(bound(shape, false, max));
        }
        if let Some(min) = c.min.filter(|min| size < *min) {
            out.push(bound(shape, true, min));
        }
    }
    out
}

/// A value as AWS's messages print it: text bare, lists `[a, b]`, maps `{k=v}`,
/// structures `Shape(member=value, …)`.
fn display(model: &Model, id: ShapeId, v: &Value) -> String {
    let shape = model.shape(id);
    match (&shape.kind, v) {
        (_, Value::String(s)) => s.clone(),
        (_, Value::Null) => "null".into(),
        (Kind::Float | Kind::Double, Value::Number(n)) => n.as_f64().map(java_double).unwrap_or_else(|| n.to_string()),
        (Kind::List(m), Value::Array(items)) => {
            format!("[{}]", items.iter().map(|i| display(model, m.shape, i)).collect::<Vec<_>>().join(", "))
        }
        (Kind::Map(_, m), Value::Object(obj)) => format!(
            "{{{}}}",
            obj.iter().map(|(k, i)| format!("{k}={}", display(model, m.shape, i))).collect::<Vec<_>>().join(", ")
        ),
        (Kind::Structure { members, .. }, Value::Object(obj)) => format!(
            "{}({})",
            shape.name,
            members
                .iter()
                .map(|m| format!(
                    "{}={}",
                    lower_first(&m.name),
                    obj.get(&m.name).map(|i| display(model, m.shape, i)).unwrap_or_else(|| "null".into())
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        (_, other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn enums_are_listed_in_the_services_own_order() {
        let orders: &[&[&str]] = &[&["c", "a", "b"]];
        assert_eq!(
            super::in_service_order("Member must satisfy enum value set: [a, b, c]", orders),
            "Member must satisfy enum value set: [c, a, b]"
        );
        let other = "Member must satisfy enum value set: [a, b]";
        assert_eq!(super::in_service_order(other, orders), other);
    }

    use super::*;
    use serde_json::json;

    fn lambda_check(op: &str, v: Value) -> String {
        let model = crate::service("lambda").unwrap();
        let input = model.operation(op).unwrap().input.unwrap();
        message(&check(model, op, input, &v, &crate::rules::of("lambda")))
    }

    #[test]
    fn lambda_messages_read_as_aws_writes_them() {
        let pattern = crate::service("lambda").unwrap().shape_named("NamespacedFunctionName").unwrap();
        assert_eq!(
            lambda_check("GetFunction", json!({"FunctionName": "invalid:function:name"})),
            format!(
                "1 validation error detected: Value 'invalid:function:name' at 'functionName' failed to satisfy constraint: \
                 Member must satisfy regular expression pattern: {}",
                pattern.constraints.pattern.as_deref().unwrap()
            )
        );
        let m = lambda_check("CreateFunction", json!({"FunctionName": "f", "Code": {}, "Role": "r1"}));
        assert!(m.starts_with("1 validation error detected: Value 'r1' at 'role' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:"), "{m}");
        assert_eq!(
            lambda_check("PutProvisionedConcurrencyConfig", json!({"FunctionName": "f", "Qualifier": "a", "ProvisionedConcurrentExecutions": 0})),
            "1 validation error detected: Value '0' at 'provisionedConcurrentExecutions' failed to satisfy constraint: Member must have value greater than or equal to 1"
        );
        assert_eq!(
            lambda_check("CreateFunction", json!({"FunctionName": "f", "Code": {}, "Role": "arn:aws:iam::123456789012:role/r", "Architectures": ["X86_64"]})),
            "1 validation error detected: Value '[X86_64]' at 'architectures' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64], Member must not be null]"
        );
        assert_eq!(
            lambda_check("CreateAlias", json!({"FunctionName": "f", "Name": "a", "FunctionVersion": "1",
                "RoutingConfig": {"AdditionalVersionWeights": {"$LATEST": 0.5, "2": 2}}})),
            "2 validation errors detected: Value '{$LATEST=0.5, 2=2.0}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: \
             Map keys must satisfy constraint: [Member must have length less than or equal to 1024, Member must have length greater than or equal to 1, \
             Member must satisfy regular expression pattern: [0-9]+]; \
             Value '{$LATEST=0.5, 2=2.0}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: \
             Map value must satisfy constraint: [Member must have value less than or equal to 1.0, \
             Member must have value greater than or equal to 0.0, Member must not be null]"
        );
        assert_eq!(java_double(1e7), "1.0E7");
        assert_eq!(java_double(-0.25), "-0.25");
        assert_eq!(
            lambda_check("Invoke", json!({})),
            "1 validation error detected: Value null at 'functionName' failed to satisfy constraint: Member must not be null"
        );
    }
}
