//! The parameters older SDKs send instead of expressions (`Expected`, `QueryFilter`,
//! `ScanFilter`, `KeyConditions`, `AttributeUpdates`, `AttributesToGet`), read into the
//! same trees expressions are.

use super::{Cmp, Cond, Operand, Path, Update};
use crate::value::Value;

/// One attribute's condition: `Expected`'s entry, or a filter's or key condition's.
#[derive(Debug, Clone, Default)]
pub struct Condition {
    /// The attribute.
    pub attribute: String,
    /// `ComparisonOperator`.
    pub operator: Option<String>,
    /// `AttributeValueList`.
    pub values: Vec<Value>,
    /// `Value` (`Expected` only).
    pub value: Option<Value>,
    /// `Exists` (`Expected` only).
    pub exists: Option<bool>,
}

fn invalid(what: &str) -> String {
    format!("One or more parameter values were invalid: {what}")
}

/// One condition as a tree.
pub fn condition(c: &Condition) -> Result<Cond, String> {
    let path = Path::attr(&c.attribute);
    let attr = || Operand::Path(path.clone());
    if let Some(op) = &c.operator {
        if c.value.is_some() || c.exists.is_some() {
            return Err(invalid(&format!(
                "Exists and Value cannot be used with ComparisonOperator for Attribute: {}",
                c.attribute
            )));
        }
        let n = c.values.len();
        let want = |k: usize| {
            if n == k {
                Ok(())
            } else {
                Err(invalid(&format!("Invalid number of argument(s) for the {op} ComparisonOperator")))
            }
        };
        let v = |i: usize| Operand::Value(c.values[i].clone());
        let scalar = |i: usize| {
            if matches!(c.values[i], Value::S(_) | Value::N(_) | Value::B(_)) {
                Ok(())
            } else {
                Err(invalid(&format!(
                    "ComparisonOperator {op} is not valid for {} AttributeValue type",
                    c.values[i].type_name()
                )))
            }
        };
        let cmp = |k: Cmp| -> Result<Cond, String> {
            want(1)?;
            if k != Cmp::Eq && k != Cmp::Ne {
                scalar(0)?;
            }
            Ok(Cond::Compare(attr(), k, v(0)))
        };
        return match op.as_str() {
            "EQ" => cmp(Cmp::Eq),
            "NE" => cmp(Cmp::Ne),
            "LT" => cmp(Cmp::Lt),
            "LE" => cmp(Cmp::Le),
            "GT" => cmp(Cmp::Gt),
            "GE" => cmp(Cmp::Ge),
            "NOT_NULL" => want(0).map(|()| Cond::Exists(path.clone())),
            "NULL" => want(0).map(|()| Cond::NotExists(path.clone())),
            "CONTAINS" | "NOT_CONTAINS" => {
                want(1)?;
                scalar(0)?;
                let has = Cond::Contains(attr(), v(0));
                Ok(if op == "CONTAINS" {
                    has
                } else {
                    Cond::And(Box::new(Cond::Exists(path.clone())), Box::new(Cond::Not(Box::new(has))))
                })
            }
            "BEGINS_WITH" => {
                want(1)?;
                if !matches!(c.values[0], Value::S(_) | Value::B(_)) {
                    return Err(invalid(&format!(
                        "ComparisonOperator {op} is not valid for {} AttributeValue type",
                        c.values[0].type_name()
                    )));
                }
                Ok(Cond::BeginsWith(attr(), v(0)))
            }
            "IN" => {
                if n == 0 {
                    return Err(invalid(&format!("Invalid number of argument(s) for the {op} ComparisonOperator")));
                }
                (0..n).try_for_each(scalar)?;
                Ok(Cond::In(attr(), (0..n).map(v).collect()))
            }
            "BETWEEN" => {
                want(2)?;
                scalar(0)?;
                scalar(1)?;
                if super::eval::compare(&c.values[0], &c.values[1]).is_some_and(|o| o == std::cmp::Ordering::Greater) {
                    return Err(invalid(
                        "The BETWEEN condition was provided a range where the lower bound is greater than the upper bound",
                    ));
                }
                Ok(Cond::Between(attr(), v(0), v(1)))
            }
            other => Err(format!(
                "1 validation error detected: Value '{other}' at 'expected.{}.member.comparisonOperator' failed to satisfy constraint: Member must satisfy enum value set: [IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]",
                c.attribute
            )),
        };
    }
    match (c.exists, &c.value) {
        (Some(false), Some(_)) => {
            Err(invalid(&format!("Value cannot be used when Exists is false for Attribute: {}", c.attribute)))
        }
        (Some(false), None) => Ok(Cond::NotExists(path)),
        (_, Some(v)) => Ok(Cond::Compare(attr(), Cmp::Eq, Operand::Value(v.clone()))),
        (_, None) => {
            Err(invalid(&format!("Value must be provided when Exists is true for Attribute: {}", c.attribute)))
        }
    }
}

/// Conditions joined by `ConditionalOperator` (`AND` unless it says `OR`).
pub fn conditions(list: &[Condition], or: bool) -> Result<Option<Cond>, String> {
    let mut out: Option<Cond> = None;
    for c in list {
        let next = condition(c)?;
        out = Some(match out {
            None => next,
            Some(prev) if or => Cond::Or(Box::new(prev), Box::new(next)),
            Some(prev) => Cond::And(Box::new(prev), Box::new(next)),
        });
    }
    Ok(out)
}

/// One `AttributeUpdates` entry: its attribute, `Action` (`PUT` unless given) and `Value`.
#[derive(Debug, Clone)]
pub struct AttributeUpdate {
    /// The attribute.
    pub attribute: String,
    /// `PUT`, `ADD` or `DELETE`.
    pub action: Option<String>,
    /// The value.
    pub value: Option<Value>,
}

/// `AttributeUpdates` as an update.
pub fn attribute_updates(list: &[AttributeUpdate]) -> Result<Update, String> {
    let mut u = Update::default();
    for a in list {
        let path = Path::attr(&a.attribute);
        match (a.action.as_deref().unwrap_or("PUT"), &a.value) {
            ("PUT", Some(v)) => u.set.push((path, Operand::Value(v.clone()))),
            ("PUT", None) => {
                return Err(invalid(&format!(
                    "Only DELETE action is allowed when no attribute value is specified: {}",
                    a.attribute
                )))
            }
            ("DELETE", None) => u.remove.push(path),
            ("DELETE", Some(v @ (Value::Ss(_) | Value::Ns(_) | Value::Bs(_)))) => {
                u.delete.push((path, Operand::Value(v.clone())))
            }
            ("DELETE", Some(_)) => {
                return Err(invalid(&format!(
                    "DELETE action with value is not supported for the type {}",
                    a.value.as_ref().map(Value::type_name).unwrap_or("")
                )))
            }
            ("ADD", Some(v @ (Value::N(_) | Value::Ss(_) | Value::Ns(_) | Value::Bs(_)))) => {
                u.add.push((path, Operand::Value(v.clone())))
            }
            ("ADD", Some(v @ Value::L(_))) => {
                let current = Operand::IfNotExists(path.clone(), Box::new(Operand::Value(Value::L(Vec::new()))));
                u.set.push((path, Operand::ListAppend(Box::new(current), Box::new(Operand::Value(v.clone())))));
            }
            ("ADD", Some(v)) => {
                return Err(invalid(&format!("ADD action is not supported for the type {}", v.type_name())));
            }
            ("ADD", None) => {
                return Err(invalid(&format!(
                    "Only DELETE action is allowed when no attribute value is specified: {}",
                    a.attribute
                )))
            }
            (other, _) => return Err(format!("Unknown action: {other}")),
        }
    }
    Ok(u)
}

/// `AttributesToGet` as a projection.
pub fn attributes_to_get(names: &[String]) -> Result<Vec<Path>, String> {
    for (i, n) in names.iter().enumerate() {
        if names[..i].contains(n) {
            return Err(invalid(&format!("Duplicate value in attribute name: {n}")));
        }
    }
    Ok(names.iter().map(|n| Path::attr(n)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::evaluate;
    use crate::number::Number;
    use crate::value::Item;

    #[test]
    fn expected_reads_as_a_condition() {
        let item = Item::from([("a".to_owned(), Value::N(Number::parse("3").unwrap()))]);
        let eq = Condition {
            attribute: "a".into(),
            value: Some(Value::N(Number::parse("3").unwrap())),
            ..Default::default()
        };
        assert!(evaluate(&condition(&eq).unwrap(), &item));
        let absent = Condition { attribute: "b".into(), exists: Some(false), ..Default::default() };
        assert!(evaluate(&condition(&absent).unwrap(), &item));
        let between = Condition {
            attribute: "a".into(),
            operator: Some("BETWEEN".into()),
            values: vec![Value::N(Number::parse("1").unwrap()), Value::N(Number::parse("5").unwrap())],
            ..Default::default()
        };
        assert!(evaluate(&condition(&between).unwrap(), &item));
        let wrong = Condition { attribute: "a".into(), operator: Some("EQ".into()), ..Default::default() };
        assert_eq!(
            condition(&wrong).unwrap_err(),
            "One or more parameter values were invalid: Invalid number of argument(s) for the EQ ComparisonOperator"
        );
    }
}
