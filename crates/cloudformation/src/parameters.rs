//! A stack's parameters: the values given, used from before, or defaulted, checked against
//! their declarations in CloudFormation's words. Pure; `AWS::SSM::Parameter::Value<…>`
//! types are read from SSM by the caller, after these checks.

use std::collections::HashMap;

use indexmap::IndexMap;
use serde_json::Value;

use crate::stack::Param;
use crate::template::{ParameterDecl, TemplateError};

/// A parameter as a request gives it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Given {
    /// `ParameterKey`.
    pub key: String,
    /// `ParameterValue`.
    pub value: Option<String>,
    /// `UsePreviousValue`.
    pub use_previous: bool,
}

/// The SSM parameter types' prefix.
pub const SSM_TYPE: &str = "AWS::SSM::Parameter::Value<";

/// Whether a declared type is a list (its value is split at commas).
pub fn is_list(kind: &str) -> bool {
    kind == "CommaDelimitedList" || kind.starts_with("List<") || (kind.starts_with(SSM_TYPE) && kind.contains("List<"))
}

fn known_type(kind: &str) -> bool {
    matches!(kind, "String" | "Number" | "CommaDelimitedList" | "List<Number>" | "List<String>")
        || kind.starts_with("AWS::EC2::")
        || kind.starts_with("AWS::Route53::")
        || kind.starts_with("List<AWS::EC2::")
        || kind.starts_with("List<AWS::Route53::")
        || (kind.starts_with(SSM_TYPE) && kind.ends_with('>'))
}

/// The parameters' values: each given (or, with `UsePreviousValue`, the previous one) or
/// defaulted, checked.
pub fn settle(
    declared: &IndexMap<String, ParameterDecl>,
    given: &[Given],
    previous: &[Param],
) -> Result<Vec<Param>, TemplateError> {
    let unknown: Vec<&str> = given.iter().filter(|g| !declared.contains_key(&g.key)).map(|g| g.key.as_str()).collect();
    if !unknown.is_empty() {
        return Err(TemplateError(format!("Parameters: [{}] do not exist in the template", unknown.join(", "))));
    }
    let mut out = Vec::new();
    let mut missing = Vec::new();
    for (name, decl) in declared {
        if !known_type(&decl.kind) {
            return Err(TemplateError::format(format!("Unrecognized parameter type: {}", decl.kind)));
        }
        let g = given.iter().find(|g| &g.key == name);
        let value = match g {
            Some(g) if g.use_previous => match previous.iter().find(|p| &p.key == name) {
                Some(p) => Some(p.value.clone()),
                None => {
                    return Err(TemplateError(format!(
                        "Invalid input for parameter key {name}. Cannot specify usePreviousValue as true for a parameter key not in the previous template"
                    )))
                }
            },
            Some(g) => g.value.clone(),
            None => decl.default.clone(),
        };
        let Some(value) = value else {
            missing.push(name.as_str());
            continue;
        };
        check(name, decl, &value)?;
        out.push(Param { key: name.clone(), value, resolved: None, no_echo: decl.no_echo });
    }
    if !missing.is_empty() {
        return Err(TemplateError(format!("Parameters: [{}] must have values", missing.join(", "))));
    }
    Ok(out)
}

/// One value against its declaration.
fn check(name: &str, d: &ParameterDecl, value: &str) -> Result<(), TemplateError> {
    let fail = |why: String| {
        Err(TemplateError(match &d.constraint_description {
            Some(c) => format!("Parameter '{name}' {why}: {c}"),
            None => format!("Parameter '{name}' {why}"),
        }))
    };
    let items: Vec<&str> = if is_list(&d.kind) { value.split(',').map(str::trim).collect() } else { vec![value] };
    for item in &items {
        if !d.allowed_values.is_empty() && !d.allowed_values.iter().any(|a| a == item) {
            return fail("must be one of AllowedValues".into());
        }
        if d.kind == "Number" || d.kind == "List<Number>" {
            let Ok(n) = item.parse::<f64>() else {
                return Err(TemplateError(format!("Parameter '{name}' must be a number.")));
            };
            if d.min_value.is_some_and(|m| n < m) {
                return fail(format!("must be a number not less than {}", d.min_value.unwrap_or_default()));
            }
            if d.max_value.is_some_and(|m| n > m) {
                return fail(format!("must be a number not greater than {}", d.max_value.unwrap_or_default()));
            }
        }
    }
    if d.kind == "String" {
        let chars = value.chars().count() as u64;
        if d.min_length.is_some_and(|m| chars < m) {
            return fail(format!("must contain at least {} characters", d.min_length.unwrap_or_default()));
        }
        if d.max_length.is_some_and(|m| chars > m) {
            return fail(format!("must contain at most {} characters", d.max_length.unwrap_or_default()));
        }
        if let Some(pattern) = &d.allowed_pattern {
            if !whole_match(pattern, value) {
                return fail(format!("must match pattern {pattern}"));
            }
        }
    }
    Ok(())
}

/// Whether `value` matches all of `pattern` (a Java regular expression, as AWS reads it).
fn whole_match(pattern: &str, value: &str) -> bool {
    regex::Regex::new(&format!("^(?:{pattern})$")).map(|r| r.is_match(value)).unwrap_or(true)
}

/// The values `Ref` reads: lists as lists of strings, everything else as a string.
pub fn values(declared: &IndexMap<String, ParameterDecl>, params: &[Param]) -> HashMap<String, Value> {
    params
        .iter()
        .map(|p| {
            let kind = declared.get(&p.key).map(|d| d.kind.as_str()).unwrap_or("String");
            let value = p.resolved.as_deref().unwrap_or(&p.value);
            let v = if is_list(kind) {
                Value::from(value.split(',').map(|s| s.trim().to_owned()).collect::<Vec<_>>())
            } else {
                Value::from(value)
            };
            (p.key.clone(), v)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::{parse, Template};

    fn declared() -> IndexMap<String, ParameterDecl> {
        Template::read(
            &parse(
                r#"{"Parameters": {
                "Env": {"Type": "String", "AllowedValues": ["dev", "prod"], "Default": "dev"},
                "Size": {"Type": "Number", "MinValue": 1, "MaxValue": 10},
                "Name": {"Type": "String", "AllowedPattern": "[a-z]+", "MaxLength": 5, "NoEcho": true},
                "Zones": {"Type": "CommaDelimitedList", "Default": "a, b"}
            }, "Resources": {"R": {"Type": "T"}}}"#,
            )
            .unwrap(),
        )
        .unwrap()
        .parameters
    }

    fn given(pairs: &[(&str, &str)]) -> Vec<Given> {
        pairs.iter().map(|(k, v)| Given { key: (*k).into(), value: Some((*v).into()), use_previous: false }).collect()
    }

    #[test]
    fn values_are_given_defaulted_and_checked() {
        let d = declared();
        let p = settle(&d, &given(&[("Size", "3"), ("Name", "abc")]), &[]).unwrap();
        assert_eq!(
            p.iter().map(|p| (p.key.as_str(), p.value.as_str())).collect::<Vec<_>>(),
            [("Env", "dev"), ("Size", "3"), ("Name", "abc"), ("Zones", "a, b")]
        );
        assert!(p[2].no_echo);
        let v = values(&d, &p);
        assert_eq!(v["Zones"], serde_json::json!(["a", "b"]));
        assert_eq!(v["Size"], serde_json::json!("3"));
        let err = |g: &[(&str, &str)]| settle(&d, &given(g), &[]).unwrap_err().0;
        assert_eq!(err(&[("Name", "abc")]), "Parameters: [Size] must have values");
        assert_eq!(err(&[("Size", "x"), ("Name", "a")]), "Parameter 'Size' must be a number.");
        assert_eq!(err(&[("Size", "11"), ("Name", "a")]), "Parameter 'Size' must be a number not greater than 10");
        assert_eq!(err(&[("Size", "1"), ("Name", "ABC")]), "Parameter 'Name' must match pattern [a-z]+");
        assert_eq!(err(&[("Size", "1"), ("Name", "abcdef")]), "Parameter 'Name' must contain at most 5 characters");
        assert_eq!(err(&[("Size", "1"), ("Name", "a"), ("Env", "qa")]), "Parameter 'Env' must be one of AllowedValues");
        assert_eq!(err(&[("Nope", "1")]), "Parameters: [Nope] do not exist in the template");
    }

    #[test]
    fn a_previous_value_is_kept() {
        let d = declared();
        let before = settle(&d, &given(&[("Size", "3"), ("Name", "abc")]), &[]).unwrap();
        let mut g = given(&[("Name", "xyz")]);
        g.push(Given { key: "Size".into(), value: None, use_previous: true });
        let after = settle(&d, &g, &before).unwrap();
        assert_eq!(after[1].value, "3");
        assert_eq!(after[2].value, "xyz");
    }
}
