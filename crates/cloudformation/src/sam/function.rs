//! `AWS::Serverless::Function`: the function, its role (unless it names one) with the
//! policies it lists, its published version and alias (`AutoPublishAlias`), its URL, and
//! its event sources.

use serde_json::{json, Map, Value};

use super::{apis::Apis, attributes, digest, events, policies, resource, s3_location, Out};
use crate::template::TemplateError;

/// Properties passed to `AWS::Lambda::Function` as they are.
const SAME: [&str; 20] = [
    "Handler",
    "Runtime",
    "MemorySize",
    "Timeout",
    "Description",
    "Environment",
    "Layers",
    "Architectures",
    "EphemeralStorage",
    "KmsKeyArn",
    "VpcConfig",
    "FileSystemConfigs",
    "ImageConfig",
    "PackageType",
    "ReservedConcurrentExecutions",
    "FunctionName",
    "LoggingConfig",
    "SnapStart",
    "RecursiveLoop",
    "CodeSigningConfigArn",
];

fn invalid(logical: &str, why: &str) -> TemplateError {
    TemplateError(format!(
        "Transform AWS::Serverless-2016-10-31 failed with: Invalid Serverless Application Specification document. Number of errors found: 1. Resource with id [{logical}] is invalid. {why}"
    ))
}

/// How the function's events and URL call it: the function, or its alias.
pub(super) struct Target {
    /// `Ref` of what is invoked (the function's name, or the alias's ARN).
    pub reference: Value,
    /// `Fn::Sub` text of its ARN (`${F.Arn}` or `${FAliaslive}`).
    pub arn_sub: String,
    /// `Fn::GetAtt`/`Ref` of its ARN.
    pub arn: Value,
}

pub(super) fn expand(
    logical: &str,
    r: &Value,
    out: &mut Out,
    apis: &mut Apis,
    all: &Map<String, Value>,
) -> Result<(), TemplateError> {
    let p = r.get("Properties").cloned().unwrap_or_else(|| json!({}));
    let mut props = Map::new();
    for key in SAME {
        if let Some(v) = p.get(key) {
            props.insert(key.into(), v.clone());
        }
    }
    let code = match (p.get("InlineCode"), p.get("CodeUri"), p.get("ImageUri")) {
        (Some(inline), _, _) => json!({"ZipFile": inline}),
        (None, Some(uri), _) => s3_location(uri, "S3Bucket", "S3Key", "S3ObjectVersion")?,
        (None, None, Some(image)) => json!({"ImageUri": image}),
        (None, None, None) => return Err(invalid(logical, "Either 'InlineCode' or 'CodeUri' must be set.")),
    };
    props.insert("Code".into(), code.clone());
    if p.get("Tracing").and_then(Value::as_str) == Some("Active") {
        props.insert("TracingConfig".into(), json!({"Mode": "Active"}));
    } else if p.get("Tracing").and_then(Value::as_str) == Some("PassThrough") {
        props.insert("TracingConfig".into(), json!({"Mode": "PassThrough"}));
    }
    if let Some(dlq) = p.get("DeadLetterQueue") {
        props.insert(
            "DeadLetterConfig".into(),
            json!({"TargetArn": dlq.get("TargetArn").cloned().unwrap_or(Value::Null)}),
        );
    }
    let mut tags = vec![json!({"Key": "lambda:createdBy", "Value": "SAM"})];
    if let Some(Value::Object(t)) = p.get("Tags") {
        tags.extend(t.iter().map(|(k, v)| json!({"Key": k, "Value": v})));
    }
    props.insert("Tags".into(), Value::Array(tags.clone()));
    let role_logical = format!("{logical}Role");
    let own_role = p.get("Role").is_none();
    props.insert("Role".into(), p.get("Role").cloned().unwrap_or_else(|| json!({"Fn::GetAtt": [role_logical, "Arn"]})));

    // The version and alias events and URLs invoke, when the function publishes one.
    let alias = p.get("AutoPublishAlias").and_then(Value::as_str).map(str::to_owned);
    let target = match &alias {
        Some(name) => {
            let alias_logical = format!("{logical}Alias{name}");
            let version_logical = format!("{logical}Version{}", digest(&json!([code, p.get("AutoPublishCodeSha256")])));
            let mut version = json!({"FunctionName": {"Ref": logical}});
            if let Some(d) = p.get("VersionDescription") {
                version["Description"] = d.clone();
            }
            let mut v = resource("AWS::Lambda::Version", version);
            v["DeletionPolicy"] = json!("Retain");
            out.add(version_logical.clone(), v);
            let mut alias_props = json!({
                "Name": name,
                "FunctionName": {"Ref": logical},
                "FunctionVersion": {"Fn::GetAtt": [version_logical, "Version"]},
            });
            if let Some(pc) = p.get("ProvisionedConcurrencyConfig") {
                alias_props["ProvisionedConcurrencyConfig"] = pc.clone();
            }
            out.add(alias_logical.clone(), resource("AWS::Lambda::Alias", alias_props));
            out.renamed.push((format!("{logical}.Alias"), json!({"Ref": alias_logical})));
            out.renamed.push((format!("{logical}.Version"), json!({"Ref": version_logical})));
            Target {
                reference: json!({"Ref": alias_logical}),
                arn_sub: format!("${{{alias_logical}}}"),
                arn: json!({"Ref": alias_logical}),
            }
        }
        None => Target {
            reference: json!({"Ref": logical}),
            arn_sub: format!("${{{logical}.Arn}}"),
            arn: json!({"Fn::GetAtt": [logical, "Arn"]}),
        },
    };

    // Events, which may add to the role's managed policies.
    let mut managed: Vec<Value> = vec![json!(out.managed("service-role/AWSLambdaBasicExecutionRole"))];
    if p.get("Tracing").and_then(Value::as_str) == Some("Active") {
        managed.push(json!(out.managed("AWSXrayWriteOnlyAccess")));
    }
    if p.get("VpcConfig").is_some() {
        managed.push(json!(out.managed("service-role/AWSLambdaVPCAccessExecutionRole")));
    }
    if let Some(Value::Object(evs)) = p.get("Events") {
        for (name, ev) in evs {
            let extra = events::expand(logical, name, ev, &target, out, apis, all)?;
            for m in extra {
                let arn = json!(out.managed(m));
                if !managed.contains(&arn) {
                    managed.push(arn);
                }
            }
        }
    }

    if let Some(url) = p.get("FunctionUrlConfig") {
        let mut u = json!({"TargetFunctionArn": target.reference, "AuthType": url.get("AuthType").cloned().unwrap_or(json!("AWS_IAM"))});
        for key in ["Cors", "InvokeMode"] {
            if let Some(v) = url.get(key) {
                u[key] = v.clone();
            }
        }
        out.add(format!("{logical}Url"), resource("AWS::Lambda::Url", u));
        if url.get("AuthType").and_then(Value::as_str) == Some("NONE") {
            let mut perm = json!({
                "Action": "lambda:InvokeFunctionUrl",
                "FunctionName": {"Ref": logical},
                "FunctionUrlAuthType": "NONE",
                "Principal": "*",
            });
            if alias.is_some() {
                perm["FunctionName"] = target.reference.clone();
            }
            out.add(format!("{logical}UrlPublicPermissions"), resource("AWS::Lambda::Permission", perm));
            // A public URL's callers also need lambda:InvokeFunction, through the URL only.
            let invoke = json!({
                "Action": "lambda:InvokeFunction",
                "FunctionName": target.reference,
                "Principal": "*",
                "InvokedViaFunctionUrl": true,
            });
            out.add(format!("{logical}URLInvokeAllowPublicAccess"), resource("AWS::Lambda::Permission", invoke));
        }
    }

    if own_role {
        let mut inline = Vec::new();
        let listed = match p.get("Policies") {
            None => Vec::new(),
            Some(Value::Array(items)) => items.clone(),
            Some(one) => vec![one.clone()],
        };
        for (i, policy) in listed.iter().enumerate() {
            match policy {
                Value::String(name) if name.starts_with("arn:") => managed.push(json!(name)),
                Value::String(name) => managed.push(json!(out.managed(name))),
                Value::Object(o) if o.contains_key("Statement") => {
                    inline.push(json!({"PolicyName": format!("{logical}RolePolicy{i}"), "PolicyDocument": policy}));
                }
                Value::Object(o)
                    if o.len() == 1 && (o.contains_key("Ref") || o.keys().any(|k| k.starts_with("Fn::"))) =>
                {
                    managed.push(policy.clone());
                }
                Value::Object(o) if o.len() == 1 => {
                    let (template, params) = o.iter().next().map(|(k, v)| (k.clone(), v.clone())).unwrap_or_default();
                    let statements = policies::statements(&template, &params)?;
                    inline.push(json!({
                        "PolicyName": format!("{logical}RolePolicy{i}"),
                        "PolicyDocument": {"Statement": statements},
                    }));
                }
                _ => return Err(invalid(logical, "Policies must be names, ARNs, documents or policy templates.")),
            }
        }
        let mut role = json!({
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [{"Action": ["sts:AssumeRole"], "Effect": "Allow", "Principal": {"Service": ["lambda.amazonaws.com"]}}],
            },
            "ManagedPolicyArns": managed,
            "Tags": tags,
        });
        if !inline.is_empty() {
            role["Policies"] = Value::Array(inline);
        }
        if let Some(b) = p.get("PermissionsBoundary") {
            role["PermissionsBoundary"] = b.clone();
        }
        if let Some(path) = p.get("RolePath") {
            role["Path"] = path.clone();
        }
        let mut role_res = resource("AWS::IAM::Role", role);
        if let Some(c) = r.get("Condition") {
            role_res["Condition"] = c.clone();
        }
        out.add(role_logical, role_res);
    }
    let mut f = resource("AWS::Lambda::Function", Value::Object(props));
    attributes(r, &mut f);
    out.add(logical, f);
    Ok(())
}
