//! The SAM transform (`AWS::Serverless-2016-10-31`): a template's serverless resources
//! expanded into the CloudFormation resources AWS's own translator makes of them, with the
//! same logical ids, so `sam deploy`, `sam list` and `sam logs` find what they expect.
//! `globals.rs` merges the `Globals` section; `function.rs` expands functions (their role,
//! policies and `policies.rs`'s SAM policy templates, versions and aliases, function URLs)
//! and their event sources (`events.rs`); `apis.rs` the implicit and explicit REST and HTTP
//! APIs; the rest (layers, simple tables) is here. Pure: a tree in, a tree out.

mod apis;
mod events;
mod function;
mod globals;
mod policies;

use md5::{Digest, Md5};
use serde_json::{json, Map, Value};

use crate::template::TemplateError;

/// Where the stack is: what the translator writes into ARNs it makes.
#[derive(Debug, Clone)]
pub struct Place {
    /// The partition (`aws`).
    pub partition: String,
    /// The region.
    pub region: String,
}

/// A new resource: its type and properties (and attributes, when it has any).
pub(crate) fn resource(kind: &str, properties: Value) -> Value {
    json!({"Type": kind, "Properties": properties})
}

/// The translator's short hash of a value: ten hex digits of its MD5.
pub(crate) fn digest(v: &Value) -> String {
    let text = v.to_string();
    let sum = Md5::digest(text.as_bytes());
    sum.iter().take(5).map(|b| format!("{b:02x}")).collect()
}

/// The expanded template: every `AWS::Serverless::*` resource replaced by what it stands
/// for, `Globals` merged, references to renamed resources rewritten.
pub fn transform(tree: &Value, place: &Place) -> Result<Value, TemplateError> {
    let Value::Object(top) = tree else { return Err(TemplateError::format("unsupported structure.")) };
    let mut top = top.clone();
    let globals = top.remove("Globals");
    let mut resources: Map<String, Value> = match top.get("Resources") {
        Some(Value::Object(r)) => r.clone(),
        _ => return Err(TemplateError::format("At least one Resources member must be defined.")),
    };
    if let Some(g) = &globals {
        globals::merge(g, &mut resources)?;
    }
    let mut out = Out { resources: Map::new(), renamed: Vec::new(), place: place.clone() };
    let mut apis = apis::Apis::default();
    // Functions first: their events add to the APIs and buckets expanded after them.
    let serverless: Vec<(String, Value)> = resources.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    for (logical, r) in &serverless {
        let kind = r.get("Type").and_then(Value::as_str).unwrap_or_default();
        match kind {
            "AWS::Serverless::Function" => function::expand(logical, r, &mut out, &mut apis, &resources)?,
            "AWS::Serverless::Api" | "AWS::Serverless::HttpApi" => {}
            "AWS::Serverless::LayerVersion" => layer(logical, r, &mut out)?,
            "AWS::Serverless::SimpleTable" => simple_table(logical, r, &mut out),
            "AWS::Serverless::Application"
            | "AWS::Serverless::StateMachine"
            | "AWS::Serverless::GraphQLApi"
            | "AWS::Serverless::Connector" => {
                return Err(TemplateError(format!(
                    "Transform AWS::Serverless-2016-10-31 failed with: Lamina does not serve {kind} (resource {logical})"
                )))
            }
            k if k.starts_with("AWS::Serverless::") => {
                return Err(TemplateError(format!(
                    "Transform AWS::Serverless-2016-10-31 failed with: Invalid Serverless Application Specification document. Resource with id [{logical}] is invalid. Unknown resource type {k}"
                )))
            }
            _ => {
                if !out.resources.contains_key(logical) {
                    out.resources.insert(logical.clone(), r.clone());
                }
            }
        }
    }
    apis::expand(&serverless, &mut out, &mut apis)?;
    // Buckets that S3 events name get their notifications (added by events.rs).
    let mut resources = out.resources;
    for (from, to) in &out.renamed {
        rename(&mut resources, from, to);
    }
    top.insert("Resources".into(), Value::Object(resources));
    if let Some(outputs) = top.get_mut("Outputs") {
        for (from, to) in &out.renamed {
            rename_value(outputs, from, to, 0);
        }
    }
    // The transform is done: the result names none.
    match top.get("Transform") {
        Some(Value::String(_)) => {
            top.remove("Transform");
        }
        Some(Value::Array(items)) => {
            let rest: Vec<Value> = items.iter().filter(|t| t.as_str() != Some(crate::SAM_TRANSFORM)).cloned().collect();
            if rest.is_empty() {
                top.remove("Transform");
            } else {
                top.insert("Transform".into(), Value::Array(rest));
            }
        }
        _ => {}
    }
    Ok(Value::Object(top))
}

/// What the transform has made so far.
pub(crate) struct Out {
    pub resources: Map<String, Value>,
    /// References to rewrite: `Ref: from` (and `from.Attr`) become `to`.
    pub renamed: Vec<(String, Value)>,
    pub place: Place,
}

impl Out {
    pub fn add(&mut self, logical: impl Into<String>, r: Value) {
        self.resources.insert(logical.into(), r);
    }

    /// An AWS-managed policy's ARN.
    pub fn managed(&self, name: &str) -> String {
        format!("arn:{}:iam::aws:policy/{name}", self.place.partition)
    }
}

/// The resource attributes a serverless resource passes to what it becomes.
pub(crate) fn attributes(from: &Value, to: &mut Value) {
    for key in ["Condition", "DependsOn", "DeletionPolicy", "UpdateReplacePolicy", "Metadata"] {
        if let Some(v) = from.get(key) {
            to[key] = v.clone();
        }
    }
}

/// An S3 location as SAM takes it (`s3://bucket/key`, or `{Bucket, Key, Version}`) in the
/// names a type takes.
pub(crate) fn s3_location(v: &Value, bucket: &str, key: &str, version: &str) -> Result<Value, TemplateError> {
    match v {
        Value::String(uri) => {
            let rest = uri.strip_prefix("s3://").ok_or_else(|| {
                TemplateError(format!(
                    "Transform AWS::Serverless-2016-10-31 failed with: '{uri}' is not a valid S3 Uri of the form 's3://bucket/key' with optional versionId query parameter."
                ))
            })?;
            let (b, k) = rest.split_once('/').unwrap_or((rest, ""));
            let (k, v) = match k.split_once("?versionId=") {
                Some((k, v)) => (k, Some(v)),
                None => (k, None),
            };
            let mut o = json!({bucket: b, key: k});
            if let Some(v) = v {
                o[version] = json!(v);
            }
            Ok(o)
        }
        Value::Object(o) => {
            let mut out = json!({bucket: o.get("Bucket").cloned().unwrap_or(Value::Null), key: o.get("Key").cloned().unwrap_or(Value::Null)});
            if let Some(v) = o.get("Version") {
                out[version] = v.clone();
            }
            Ok(out)
        }
        _ => Err(TemplateError(
            "Transform AWS::Serverless-2016-10-31 failed with: an S3 location must be an S3 URI or an object".into(),
        )),
    }
}

fn layer(logical: &str, r: &Value, out: &mut Out) -> Result<(), TemplateError> {
    let p = r.get("Properties").cloned().unwrap_or_else(|| json!({}));
    let content = p.get("ContentUri").ok_or_else(|| {
        TemplateError(format!(
            "Transform AWS::Serverless-2016-10-31 failed with: Invalid Serverless Application Specification document. Resource with id [{logical}] is invalid. Missing required property 'ContentUri'."
        ))
    })?;
    let mut props = json!({
        "Content": s3_location(content, "S3Bucket", "S3Key", "S3ObjectVersion")?,
        "LayerName": p.get("LayerName").cloned().unwrap_or_else(|| json!(logical)),
    });
    for key in ["Description", "CompatibleRuntimes", "CompatibleArchitectures", "LicenseInfo"] {
        if let Some(v) = p.get(key) {
            props[key] = v.clone();
        }
    }
    let renamed = format!("{logical}{}", digest(&props));
    let mut res = resource("AWS::Lambda::LayerVersion", props);
    attributes(r, &mut res);
    let retain = p.get("RetentionPolicy").and_then(Value::as_str).unwrap_or("Retain");
    res["DeletionPolicy"] = json!(if retain.eq_ignore_ascii_case("delete") { "Delete" } else { "Retain" });
    out.add(renamed.clone(), res);
    out.renamed.push((logical.to_owned(), json!(renamed)));
    Ok(())
}

fn simple_table(logical: &str, r: &Value, out: &mut Out) {
    let p = r.get("Properties").cloned().unwrap_or_else(|| json!({}));
    let key = p.get("PrimaryKey").cloned().unwrap_or_else(|| json!({"Name": "id", "Type": "String"}));
    let short = |t: &Value| match t.as_str() {
        Some("Number") => "N",
        Some("Binary") => "B",
        _ => "S",
    };
    let mut props = json!({
        "AttributeDefinitions": [{"AttributeName": key["Name"], "AttributeType": short(&key["Type"])}],
        "KeySchema": [{"AttributeName": key["Name"], "KeyType": "HASH"}],
    });
    match p.get("ProvisionedThroughput") {
        Some(t) => props["ProvisionedThroughput"] = t.clone(),
        None => props["BillingMode"] = json!("PAY_PER_REQUEST"),
    }
    for k in ["TableName", "Tags", "SSESpecification", "PointInTimeRecoverySpecification"] {
        if let Some(v) = p.get(k) {
            props[k] = if k == "Tags" { tag_list(v) } else { v.clone() };
        }
    }
    let mut res = resource("AWS::DynamoDB::Table", props);
    attributes(r, &mut res);
    out.add(logical, res);
}

/// A SAM tag map as CloudFormation's tag list.
pub(crate) fn tag_list(v: &Value) -> Value {
    match v {
        Value::Object(o) => o.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect(),
        other => other.clone(),
    }
}

/// Rewrites `Ref`s and `Fn::GetAtt`s of a renamed resource everywhere in `resources`.
fn rename(resources: &mut Map<String, Value>, from: &str, to: &Value) {
    for r in resources.values_mut() {
        rename_value(r, from, to, 0);
    }
}

fn rename_value(v: &mut Value, from: &str, to: &Value, depth: usize) {
    if depth > 64 {
        return;
    }
    match v {
        Value::Object(o) => {
            if o.len() == 1 {
                if let Some(Value::String(name)) = o.get("Ref") {
                    if name == from {
                        *v = match to {
                            Value::String(s) => json!({"Ref": s}),
                            other => other.clone(),
                        };
                        return;
                    }
                }
                if let Some(Value::Array(parts)) = o.get_mut("Fn::GetAtt") {
                    if parts.first().and_then(Value::as_str) == Some(from) {
                        if let Value::String(s) = to {
                            parts[0] = json!(s);
                        }
                        return;
                    }
                }
                if let Some(Value::String(text)) = o.get_mut("Fn::Sub") {
                    if let Value::String(s) = to {
                        *text = text
                            .replace(&format!("${{{from}}}"), &format!("${{{s}}}"))
                            .replace(&format!("${{{from}."), &format!("${{{s}."));
                    }
                }
            }
            for v in o.values_mut() {
                rename_value(v, from, to, depth + 1);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rename_value(v, from, to, depth + 1)),
        _ => {}
    }
}
