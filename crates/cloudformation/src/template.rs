//! A template's text read into a tree (JSON, or YAML with CloudFormation's short-form tags
//! such as `!Ref` and `!GetAtt`), and its sections checked as CloudFormation checks them.

use indexmap::IndexMap;
use serde_json::{Map, Value};

/// The most a template may hold: a `TemplateURL`'s object (a `TemplateBody` is held to
/// 51,200 bytes by the API's model).
pub const MAX_TEMPLATE_BYTES: usize = 1_000_000;
/// The most resources a template may declare.
pub const MAX_RESOURCES: usize = 500;
/// The most parameters, and outputs, a template may declare.
pub const MAX_PARAMETERS: usize = 200;
/// The most outputs a template may declare.
pub const MAX_OUTPUTS: usize = 200;

/// The sections a template may have.
const SECTIONS: [&str; 11] = [
    "AWSTemplateFormatVersion",
    "Description",
    "Metadata",
    "Parameters",
    "Rules",
    "Mappings",
    "Conditions",
    "Transform",
    "Resources",
    "Outputs",
    "Hooks",
];

/// The attributes a resource may have besides `Type` and `Properties`.
const RESOURCE_ATTRIBUTES: [&str; 9] = [
    "Type",
    "Properties",
    "DependsOn",
    "Condition",
    "DeletionPolicy",
    "UpdateReplacePolicy",
    "Metadata",
    "CreationPolicy",
    "UpdatePolicy",
];

/// A template that cannot be used, in CloudFormation's words (its `ValidationError`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TemplateError(pub String);

impl TemplateError {
    /// `Template format error: …`.
    pub fn format(message: impl std::fmt::Display) -> TemplateError {
        TemplateError(format!("Template format error: {message}"))
    }

    /// `Template error: …` (an intrinsic function used wrongly).
    pub fn usage(message: impl std::fmt::Display) -> TemplateError {
        TemplateError(format!("Template error: {message}"))
    }
}

/// Reads a template's text: JSON when it opens with `{`, YAML otherwise.
pub fn parse(body: &str) -> Result<Value, TemplateError> {
    if body.len() > MAX_TEMPLATE_BYTES {
        return Err(TemplateError::format(format!("Template may not exceed {MAX_TEMPLATE_BYTES} bytes in size.")));
    }
    if body.trim_start().starts_with('{') {
        return serde_json::from_str(body).map_err(|e| {
            // AWS counts the column one past serde's.
            TemplateError::format(format!("JSON not well-formed. (line {}, column {})", e.line(), e.column() + 1))
        });
    }
    let yaml: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(body).map_err(|_| TemplateError::format("YAML not well-formed."))?;
    match from_yaml(yaml)? {
        v @ Value::Object(_) => Ok(v),
        _ => Err(TemplateError::format("unsupported structure.")),
    }
}

/// The short-form tags, and the function each stands for.
fn long_form(tag: &str) -> Option<&'static str> {
    Some(match tag {
        "Ref" => "Ref",
        "Condition" => "Condition",
        "GetAtt" => "Fn::GetAtt",
        "Sub" => "Fn::Sub",
        "Join" => "Fn::Join",
        "Select" => "Fn::Select",
        "Split" => "Fn::Split",
        "If" => "Fn::If",
        "Equals" => "Fn::Equals",
        "Not" => "Fn::Not",
        "And" => "Fn::And",
        "Or" => "Fn::Or",
        "FindInMap" => "Fn::FindInMap",
        "GetAZs" => "Fn::GetAZs",
        "Base64" => "Fn::Base64",
        "ImportValue" => "Fn::ImportValue",
        "Cidr" => "Fn::Cidr",
        "Length" => "Fn::Length",
        "ToJsonString" => "Fn::ToJsonString",
        "Transform" => "Fn::Transform",
        "ForEach" => "Fn::ForEach",
        _ => return None,
    })
}

/// A YAML tree as the JSON tree it stands for.
fn from_yaml(v: serde_yaml_ng::Value) -> Result<Value, TemplateError> {
    use serde_yaml_ng::Value as Y;
    Ok(match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                n.as_f64().and_then(serde_json::Number::from_f64).map(Value::Number).unwrap_or(Value::Null)
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(items.into_iter().map(from_yaml).collect::<Result<_, _>>()?),
        Y::Mapping(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let key = match from_yaml(k)? {
                    Value::String(s) => s,
                    Value::Null => "null".to_owned(),
                    Value::Array(_) | Value::Object(_) => {
                        return Err(TemplateError::format("YAML not well-formed."));
                    }
                    other => other.to_string(),
                };
                out.insert(key, from_yaml(v)?);
            }
            Value::Object(out)
        }
        Y::Tagged(t) => {
            let tag = t.tag.to_string();
            let name = tag.trim_start_matches('!');
            let Some(function) = long_form(name) else {
                return Err(TemplateError::format(format!("YAML not well-formed. Unknown tag {tag}")));
            };
            let inner = from_yaml(t.value)?;
            let inner = match (function, inner) {
                // `!GetAtt Resource.Attribute`: the name up to the first dot.
                ("Fn::GetAtt", Value::String(s)) => match s.split_once('.') {
                    Some((resource, attribute)) => Value::from(vec![resource, attribute]),
                    None => Value::String(s),
                },
                (_, inner) => inner,
            };
            let mut out = Map::new();
            out.insert(function.to_owned(), inner);
            Value::Object(out)
        }
    })
}

/// `GetTemplate`'s `Processed` text: YAML for a YAML template no macro expanded (its short
/// forms written long), JSON otherwise, as CloudFormation answers.
pub fn processed_text(body: &str, processed: &Value) -> String {
    let yaml = !body.trim_start().starts_with('{');
    let expanded = parse(body).and_then(|t| transforms(&t)).is_ok_and(|t| !t.is_empty());
    if yaml && !expanded {
        let mut out = String::new();
        write_yaml(processed, 0, &mut out);
        out
    } else {
        processed.to_string()
    }
}

/// A scalar as YAML writes it: plain where YAML reads it back as the same string, else
/// quoted.
fn yaml_scalar(v: &Value) -> String {
    match v {
        Value::String(s) => {
            let plain = !s.is_empty()
                && !s.starts_with([
                    ' ', '-', '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`',
                ])
                && !s.ends_with([' ', ':'])
                && !s.contains(": ")
                && !s.contains(" #")
                && !s.contains(['\n', '\t'])
                && !matches!(
                    s.to_ascii_lowercase().as_str(),
                    "true" | "false" | "yes" | "no" | "null" | "~" | "on" | "off"
                )
                && s.parse::<f64>().is_err();
            if plain {
                s.clone()
            } else if s.contains(['\n', '\t']) {
                Value::String(s.clone()).to_string()
            } else {
                format!("'{}'", s.replace('\'', "''"))
            }
        }
        Value::Null => "null".into(),
        other => other.to_string(),
    }
}

fn write_yaml(v: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(o) if !o.is_empty() => {
            for (k, v) in o {
                out.push_str(&format!("{pad}{}:", yaml_scalar(&Value::String(k.clone()))));
                match v {
                    Value::Object(c) if !c.is_empty() => {
                        out.push('\n');
                        write_yaml(v, indent + 2, out);
                    }
                    Value::Array(items) if !items.is_empty() => {
                        out.push('\n');
                        write_yaml(v, indent + 2, out);
                    }
                    other => out.push_str(&format!(" {}\n", flow(other))),
                }
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for item in items {
                match item {
                    Value::Object(c) if !c.is_empty() => {
                        let mut inner = String::new();
                        write_yaml(item, indent + 2, &mut inner);
                        // The first key goes on the dash's line.
                        out.push_str(&format!("{pad}- {}", inner.trim_start()));
                    }
                    Value::Array(a) if !a.is_empty() => {
                        out.push_str(&format!("{pad}-\n"));
                        write_yaml(item, indent + 2, out);
                    }
                    other => out.push_str(&format!("{pad}- {}\n", flow(other))),
                }
            }
        }
        other => out.push_str(&format!("{pad}{}\n", flow(other))),
    }
}

/// A value on one line: scalars, and empty collections.
fn flow(v: &Value) -> String {
    match v {
        Value::Object(_) => "{}".into(),
        Value::Array(_) => "[]".into(),
        other => yaml_scalar(other),
    }
}

/// A parameter's declaration.
#[derive(Debug, Clone, PartialEq)]
pub struct ParameterDecl {
    /// `Type`.
    pub kind: String,
    /// `Default`, as a string (a list's items joined by commas).
    pub default: Option<String>,
    /// `AllowedValues`.
    pub allowed_values: Vec<String>,
    /// `AllowedPattern`.
    pub allowed_pattern: Option<String>,
    /// `NoEcho`.
    pub no_echo: bool,
    /// `MinLength`, `MaxLength`.
    pub min_length: Option<u64>,
    /// `MaxLength`.
    pub max_length: Option<u64>,
    /// `MinValue`.
    pub min_value: Option<f64>,
    /// `MaxValue`.
    pub max_value: Option<f64>,
    /// `Description`.
    pub description: Option<String>,
    /// `ConstraintDescription`.
    pub constraint_description: Option<String>,
}

/// A resource's declaration.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceDecl {
    /// `Type`.
    pub kind: String,
    /// `Properties` (an object; empty when absent).
    pub properties: Value,
    /// `DependsOn`.
    pub depends_on: Vec<String>,
    /// `Condition`.
    pub condition: Option<String>,
    /// `DeletionPolicy` (`Delete` when absent).
    pub deletion_policy: Option<Value>,
    /// `UpdateReplacePolicy`.
    pub update_replace_policy: Option<Value>,
    /// `Metadata`.
    pub metadata: Option<Value>,
}

/// An output's declaration.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputDecl {
    /// `Value`.
    pub value: Value,
    /// `Description`.
    pub description: Option<Value>,
    /// `Export.Name`.
    pub export: Option<Value>,
    /// `Condition`.
    pub condition: Option<String>,
}

/// A template's sections, checked.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Template {
    /// `Description`.
    pub description: Option<String>,
    /// `Parameters`, in the template's order.
    pub parameters: IndexMap<String, ParameterDecl>,
    /// `Mappings`.
    pub mappings: Map<String, Value>,
    /// `Conditions`.
    pub conditions: Map<String, Value>,
    /// `Resources`, in the template's order.
    pub resources: IndexMap<String, ResourceDecl>,
    /// `Outputs`.
    pub outputs: IndexMap<String, OutputDecl>,
    /// `Transform`: the macros named.
    pub transforms: Vec<String>,
    /// `Metadata`.
    pub metadata: Option<Value>,
}

/// Whether a logical name is CloudFormation's kind of name: letters and digits.
pub fn is_alphanumeric(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric())
}

/// A scalar as CloudFormation reads it where a string is wanted.
pub fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The `Transform` section's macros.
pub fn transforms(tree: &Value) -> Result<Vec<String>, TemplateError> {
    match tree.get("Transform") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => Ok(s.clone()),
                Value::Object(o) => o
                    .get("Name")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .ok_or_else(|| TemplateError("Key Name of transform definition must be a string.".into())),
                _ => Err(TemplateError("Key Name of transform definition must be a string.".into())),
            })
            .collect(),
        Some(Value::Object(o)) => o
            .get("Name")
            .and_then(Value::as_str)
            .map(|s| vec![s.to_owned()])
            .ok_or_else(|| TemplateError("Key Name of transform definition must be a string.".into())),
        Some(_) => Err(TemplateError::format("unsupported structure.")),
    }
}

impl Template {
    /// Checks a template's tree (after its transforms ran) and reads its sections.
    pub fn read(tree: &Value) -> Result<Template, TemplateError> {
        let Value::Object(top) = tree else { return Err(TemplateError::format("unsupported structure.")) };
        let unknown: Vec<&str> = top.keys().map(String::as_str).filter(|k| !SECTIONS.contains(k)).collect();
        if !unknown.is_empty() {
            return Err(TemplateError::format(format!(
                "Invalid template property or properties [{}]",
                unknown.join(", ")
            )));
        }
        if let Some(v) = top.get("AWSTemplateFormatVersion") {
            if scalar(v).as_deref() != Some("2010-09-09") {
                return Err(TemplateError::format(format!(
                    "Unsupported template version {}",
                    scalar(v).unwrap_or_default()
                )));
            }
        }
        let description = match top.get("Description") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.len() <= 1024 => Some(s.clone()),
            Some(Value::String(_)) => {
                return Err(TemplateError::format("Template description cannot be longer than 1024 characters."))
            }
            Some(_) => return Err(TemplateError::format("Every Description member must be a string.")),
        };
        let mut t = Template {
            description,
            transforms: transforms(tree)?,
            metadata: top.get("Metadata").cloned(),
            ..Template::default()
        };
        t.parameters = read_parameters(top.get("Parameters"))?;
        t.mappings = read_mappings(top.get("Mappings"))?;
        t.conditions = match top.get("Conditions") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(c)) => c.clone(),
            Some(_) => return Err(TemplateError::format("Every Conditions member must be an object.")),
        };
        t.resources = read_resources(top.get("Resources"))?;
        for name in t.parameters.keys() {
            if t.resources.contains_key(name) {
                return Err(TemplateError::format(format!("Parameter and resource names must be unique: {name}")));
            }
        }
        t.outputs = read_outputs(top.get("Outputs"))?;
        reject_nulls(tree, &mut String::new())?;
        Ok(t)
    }
}

/// `null` is refused in the sections that are evaluated.
fn reject_nulls(tree: &Value, path: &mut String) -> Result<(), TemplateError> {
    for section in ["Resources", "Outputs"] {
        if let Some(v) = tree.get(section) {
            path.clear();
            path.push('/');
            path.push_str(section);
            no_null(v, path)?;
        }
    }
    Ok(())
}

fn no_null(v: &Value, path: &mut String) -> Result<(), TemplateError> {
    match v {
        Value::Null => Err(TemplateError(format!("[{path}] 'null' values are not allowed in templates"))),
        Value::Object(o) => {
            for (k, v) in o {
                let len = path.len();
                path.push('/');
                path.push_str(k);
                no_null(v, path)?;
                path.truncate(len);
            }
            Ok(())
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("/{i}"));
                no_null(v, path)?;
                path.truncate(len);
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn read_parameters(section: Option<&Value>) -> Result<IndexMap<String, ParameterDecl>, TemplateError> {
    let mut out = IndexMap::new();
    let params = match section {
        None | Some(Value::Null) => return Ok(out),
        Some(Value::Object(p)) => p,
        Some(_) => return Err(TemplateError::format("Parameters section must be an object.")),
    };
    if params.len() > MAX_PARAMETERS {
        return Err(TemplateError::format(format!(
            "Parameters count {} exceeds the limit of {MAX_PARAMETERS}.",
            params.len()
        )));
    }
    for (name, decl) in params {
        if !is_alphanumeric(name) {
            return Err(TemplateError::format(format!("Parameter name {name} is non alphanumeric.")));
        }
        let Value::Object(d) = decl else {
            return Err(TemplateError::format(format!("Every Parameters object must be an object: {name}")));
        };
        let Some(kind) = d.get("Type").and_then(Value::as_str) else {
            return Err(TemplateError::format(format!(
                "[/Parameters/{name}] Every Parameters object must contain a Type member."
            )));
        };
        let text = |key: &str| d.get(key).and_then(scalar);
        let number = |key: &str| text(key).and_then(|s| s.parse::<f64>().ok());
        let default = match d.get("Default") {
            Some(Value::Array(items)) => Some(items.iter().filter_map(scalar).collect::<Vec<_>>().join(",")),
            Some(v) => scalar(v),
            None => None,
        };
        out.insert(
            name.clone(),
            ParameterDecl {
                kind: kind.to_owned(),
                default,
                allowed_values: d
                    .get("AllowedValues")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(scalar).collect())
                    .unwrap_or_default(),
                allowed_pattern: text("AllowedPattern"),
                no_echo: text("NoEcho").is_some_and(|s| s.eq_ignore_ascii_case("true")),
                min_length: number("MinLength").map(|n| n as u64),
                max_length: number("MaxLength").map(|n| n as u64),
                min_value: number("MinValue"),
                max_value: number("MaxValue"),
                description: text("Description"),
                constraint_description: text("ConstraintDescription"),
            },
        );
    }
    Ok(out)
}

fn read_mappings(section: Option<&Value>) -> Result<Map<String, Value>, TemplateError> {
    let maps = match section {
        None | Some(Value::Null) => return Ok(Map::new()),
        Some(Value::Object(m)) => m,
        Some(_) => return Err(TemplateError::format("Every Mappings member must be a map")),
    };
    for (name, map) in maps {
        let Value::Object(top) = map else {
            return Err(TemplateError::format(format!("Every Mappings member {name} must be a map")));
        };
        for second in top.values() {
            let Value::Object(second) = second else {
                return Err(TemplateError::format(format!("Every Mappings member {name} must be a map")));
            };
            for v in second.values() {
                let fine = match v {
                    Value::Array(items) => items.iter().all(|i| scalar(i).is_some()),
                    v => scalar(v).is_some(),
                };
                if !fine {
                    return Err(TemplateError::format("Every Mappings attribute must be a String or a List."));
                }
            }
        }
    }
    Ok(maps.clone())
}

fn read_resources(section: Option<&Value>) -> Result<IndexMap<String, ResourceDecl>, TemplateError> {
    let resources = match section {
        Some(Value::Object(r)) if !r.is_empty() => r,
        _ => return Err(TemplateError::format("At least one Resources member must be defined.")),
    };
    if resources.len() > MAX_RESOURCES {
        return Err(TemplateError::format(format!(
            "Number of resources, {}, is greater than maximum allowed, {MAX_RESOURCES}",
            resources.len()
        )));
    }
    let mut out = IndexMap::new();
    for (name, decl) in resources {
        if !is_alphanumeric(name) {
            return Err(TemplateError::format(format!("Resource name {name} is non alphanumeric.")));
        }
        let Value::Object(d) = decl else {
            return Err(TemplateError::format("Any Resources member must be an object."));
        };
        let Some(kind) = d.get("Type").and_then(Value::as_str) else {
            return Err(TemplateError::format(format!(
                "[/Resources/{name}] Every Resources object must contain a Type member."
            )));
        };
        if let Some(bad) = d.keys().find(|k| !RESOURCE_ATTRIBUTES.contains(&k.as_str())) {
            return Err(TemplateError(format!("Invalid template resource property '{bad}'")));
        }
        let properties = match d.get("Properties") {
            None => Value::Object(Map::new()),
            Some(p @ Value::Object(_)) => p.clone(),
            Some(_) => {
                return Err(TemplateError::format(format!(
                    "[/Resources/{name}/Properties] Every Properties member must be an object."
                )))
            }
        };
        let depends_on = match d.get("DependsOn") {
            None => Vec::new(),
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(items)) if items.iter().all(Value::is_string) => {
                items.iter().filter_map(|i| i.as_str().map(str::to_owned)).collect()
            }
            Some(_) => {
                return Err(TemplateError::format(format!(
                    "DependsOn must be a string or list of strings in resource {name}"
                )))
            }
        };
        let condition = match d.get("Condition") {
            None => None,
            Some(Value::String(c)) => Some(c.clone()),
            Some(_) => {
                return Err(TemplateError::format(format!(
                    "Every Condition member of resource {name} must be a string."
                )))
            }
        };
        out.insert(
            name.clone(),
            ResourceDecl {
                kind: kind.to_owned(),
                properties,
                depends_on,
                condition,
                deletion_policy: d.get("DeletionPolicy").cloned(),
                update_replace_policy: d.get("UpdateReplacePolicy").cloned(),
                metadata: d.get("Metadata").cloned(),
            },
        );
    }
    Ok(out)
}

fn read_outputs(section: Option<&Value>) -> Result<IndexMap<String, OutputDecl>, TemplateError> {
    let outputs = match section {
        None => return Ok(IndexMap::new()),
        Some(Value::Object(o)) => o,
        Some(_) => return Err(TemplateError::format("Every Outputs member must contain a Value object")),
    };
    if outputs.len() > MAX_OUTPUTS {
        return Err(TemplateError::format(format!(
            "Outputs count {} exceeds the limit of {MAX_OUTPUTS}.",
            outputs.len()
        )));
    }
    let mut out = IndexMap::new();
    for (name, decl) in outputs {
        if !is_alphanumeric(name) {
            return Err(TemplateError::format(format!("Output name {name} is non alphanumeric.")));
        }
        let Some(value) = decl.get("Value") else {
            return Err(TemplateError::format("Every Outputs member must contain a Value object"));
        };
        let export = match decl.get("Export") {
            None => None,
            Some(e) => Some(e.get("Name").cloned().ok_or_else(|| {
                TemplateError::format(format!("Output {name} is malformed. The Name field of Export must not be null"))
            })?),
        };
        out.insert(
            name.clone(),
            OutputDecl {
                value: value.clone(),
                description: decl.get("Description").cloned(),
                export,
                condition: decl.get("Condition").and_then(Value::as_str).map(str::to_owned),
            },
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn yaml_short_forms_are_the_long_forms() {
        let body = "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: !Sub '${AWS::StackName}-q'\n      Tags:\n        - Key: a\n          Value: !GetAtt T.TopicName\n        - Key: b\n          Value: !Join [',', [!Ref P, !Select [0, !GetAZs '']]]\n";
        let tree = parse(body).unwrap();
        let props = &tree["Resources"]["Q"]["Properties"];
        assert_eq!(props["QueueName"], json!({"Fn::Sub": "${AWS::StackName}-q"}));
        assert_eq!(props["Tags"][0]["Value"], json!({"Fn::GetAtt": ["T", "TopicName"]}));
        assert_eq!(
            props["Tags"][1]["Value"],
            json!({"Fn::Join": [",", [{"Ref": "P"}, {"Fn::Select": [0, {"Fn::GetAZs": ""}]}]]})
        );
    }

    #[test]
    fn yaml_keys_and_versions_are_strings() {
        let tree = parse(
            "AWSTemplateFormatVersion: 2010-09-09\nMappings:\n  M:\n    123456789012:\n      a: 1\nResources: {}\n",
        )
        .unwrap();
        assert_eq!(tree["AWSTemplateFormatVersion"], json!("2010-09-09"));
        assert_eq!(tree["Mappings"]["M"]["123456789012"]["a"], json!(1));
    }

    #[test]
    fn malformed_text_answers_cloudformations_words() {
        assert_eq!(
            parse(r#"{"this is invalid JSON"="bobbins"}"#).unwrap_err().0,
            "Template format error: JSON not well-formed. (line 1, column 25)"
        );
        assert_eq!(parse("a: [b\n").unwrap_err().0, "Template format error: YAML not well-formed.");
        assert_eq!(parse("just text").unwrap_err().0, "Template format error: unsupported structure.");
    }

    #[test]
    fn sections_are_checked_as_aws_checks_them() {
        let read = |v: Value| Template::read(&v).map(|_| ()).unwrap_err().0;
        assert_eq!(
            read(json!({"Resources": {}})),
            "Template format error: At least one Resources member must be defined."
        );
        assert_eq!(
            read(json!({"Resources": {"A": {"Properties": {}}}})),
            "Template format error: [/Resources/A] Every Resources object must contain a Type member."
        );
        assert_eq!(
            read(json!({"Resources": {"A": {"Type": "AWS::SNS::Topic", "Invalid": 1}}})),
            "Invalid template resource property 'Invalid'"
        );
        assert_eq!(
            read(json!({"Resources": {"my-bad": {"Type": "AWS::SNS::Topic"}}})),
            "Template format error: Resource name my-bad is non alphanumeric."
        );
        assert_eq!(
            read(json!({"Resources": {"A": {"Type": "AWS::SNS::Topic"}}, "Outputs": {"O": {"Description": "x"}}})),
            "Template format error: Every Outputs member must contain a Value object"
        );
        assert_eq!(
            read(json!({"Resources": {"A": {"Type": "AWS::SNS::Topic"}}, "Outputs": {"O": {"Value": null}}})),
            "[/Outputs/O/Value] 'null' values are not allowed in templates"
        );
        assert_eq!(
            read(json!({"Mappings": {"A": {"B": {"C": {"D": 1}}}}, "Resources": {"A": {"Type": "AWS::SNS::Topic"}}})),
            "Template format error: Every Mappings attribute must be a String or a List."
        );
        assert_eq!(
            read(json!({"Mappings": {"A": "x"}, "Resources": {"B": {"Type": "AWS::SNS::Topic"}}})),
            "Template format error: Every Mappings member A must be a map"
        );
        assert_eq!(
            read(json!({"Resources": {"A": "x"}})),
            "Template format error: Any Resources member must be an object."
        );
        assert_eq!(
            read(json!({"Resource": {}, "Resources": {"A": {"Type": "T"}}})),
            "Template format error: Invalid template property or properties [Resource]"
        );
    }

    #[test]
    fn a_yaml_template_is_processed_to_yaml() {
        let body = "Resources:\n  topic:\n    Type: AWS::SNS::Topic\nOutputs:\n  TopicName:\n    Value: !GetAtt topic.TopicName\n";
        assert_eq!(
            processed_text(body, &parse(body).unwrap()),
            "Resources:\n  topic:\n    Type: AWS::SNS::Topic\nOutputs:\n  TopicName:\n    Value:\n      Fn::GetAtt:\n        - topic\n        - TopicName\n"
        );
        let odd = json!({"A": ["yes", "1", "a: b", "", "it's"], "B": [{"K": 1, "L": "x"}]});
        let mut out = String::new();
        write_yaml(&odd, 0, &mut out);
        assert_eq!(out, "A:\n  - 'yes'\n  - '1'\n  - 'a: b'\n  - ''\n  - it's\nB:\n  - K: 1\n    L: x\n");
        assert_eq!(processed_text("{\"Resources\": {}}", &json!({"Resources": {}})), "{\"Resources\":{}}");
    }

    #[test]
    fn a_template_keeps_its_order() {
        let t = Template::read(
            &parse("Resources:\n  Z:\n    Type: A::B::C\n  A:\n    Type: A::B::C\n    DependsOn: Z\n").unwrap(),
        )
        .unwrap();
        assert_eq!(t.resources.keys().collect::<Vec<_>>(), ["Z", "A"]);
        assert_eq!(t.resources["A"].depends_on, ["Z"]);
    }
}
