//! `AWS::IAM::Role`, `AWS::IAM::Policy` and `AWS::IAM::ManagedPolicy`.

use serde_json::{json, Value};

use super::{document, string, tag_list, Ctx, Failed, Kind, Made};
use crate::stack::Resource;

fn list(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array).map(|a| a.iter().map(string).collect()).unwrap_or_default()
}

/// Inline policies: `(name, document)`.
fn inline(props: &Value) -> Vec<(String, String)> {
    props
        .get("Policies")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|p| {
                    (
                        p.get("PolicyName").map(string).unwrap_or_default(),
                        document(p.get("PolicyDocument").unwrap_or(&Value::Null)),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn role_made(ctx: &Ctx<'_>, name: &str) -> Result<Made, Failed> {
    let out = ctx.call("iam", "GetRole", json!({"RoleName": name})).await?;
    let role = &out["Role"];
    Ok(Made::new(name, json!({"Arn": role["Arn"], "RoleId": role["RoleId"]})))
}

/// Attaches and puts what `props` has and `before` had not; detaches and deletes the rest.
async fn sync_role_policies(ctx: &Ctx<'_>, name: &str, before: &Value, props: &Value) -> Result<(), Failed> {
    let (was, is) = (list(before.get("ManagedPolicyArns")), list(props.get("ManagedPolicyArns")));
    for arn in was.iter().filter(|a| !is.contains(a)) {
        ctx.call_gone_ok("iam", "DetachRolePolicy", json!({"RoleName": name, "PolicyArn": arn})).await?;
    }
    for arn in is.iter().filter(|a| !was.contains(a)) {
        ctx.call("iam", "AttachRolePolicy", json!({"RoleName": name, "PolicyArn": arn})).await?;
    }
    let (was, is) = (inline(before), inline(props));
    for (policy, _) in was.iter().filter(|(n, _)| !is.iter().any(|(m, _)| m == n)) {
        ctx.call_gone_ok("iam", "DeleteRolePolicy", json!({"RoleName": name, "PolicyName": policy})).await?;
    }
    for (policy, doc) in is.iter().filter(|p| !was.contains(p)) {
        ctx.call("iam", "PutRolePolicy", json!({"RoleName": name, "PolicyName": policy, "PolicyDocument": doc}))
            .await?;
    }
    Ok(())
}

/// Puts or deletes an inline policy on each role, user and group it names.
async fn inline_policy(ctx: &Ctx<'_>, props: &Value, put: bool) -> Result<(), Failed> {
    let name = props.get("PolicyName").map(string).unwrap_or_default();
    let doc = document(props.get("PolicyDocument").unwrap_or(&Value::Null));
    for (member, noun) in [("Roles", "Role"), ("Users", "User")] {
        for target in list(props.get(member)) {
            let target = super::last_part(&target).rsplit('/').next().unwrap_or_default().to_owned();
            let key = format!("{noun}Name");
            if put {
                let input = json!({key: target, "PolicyName": name, "PolicyDocument": doc});
                ctx.call("iam", &format!("Put{noun}Policy"), input).await?;
            } else {
                let input = json!({key: target, "PolicyName": name});
                ctx.call_gone_ok("iam", &format!("Delete{noun}Policy"), input).await?;
            }
        }
    }
    Ok(())
}

async fn attachments(ctx: &Ctx<'_>, arn: &str, props: &Value, attach: bool) -> Result<(), Failed> {
    for (member, noun) in [("Roles", "Role"), ("Users", "User")] {
        for target in list(props.get(member)) {
            let input = json!({format!("{noun}Name"): target, "PolicyArn": arn});
            if attach {
                ctx.call("iam", &format!("Attach{noun}Policy"), input).await?;
            } else {
                ctx.call_gone_ok("iam", &format!("Detach{noun}Policy"), input).await?;
            }
        }
    }
    Ok(())
}

pub(super) async fn create(kind: &Kind, ctx: &Ctx<'_>, props: &Value) -> Result<Made, Failed> {
    match kind.name {
        "AWS::IAM::Role" => {
            let name = props.get("RoleName").map(string).unwrap_or_default();
            let mut input = json!({
                "RoleName": name,
                "AssumeRolePolicyDocument": document(props.get("AssumeRolePolicyDocument").unwrap_or(&Value::Null)),
                "Path": props.get("Path").map(string).unwrap_or_else(|| "/".into()),
            });
            for key in ["Description", "PermissionsBoundary"] {
                if let Some(v) = props.get(key) {
                    input[key] = Value::String(string(v));
                }
            }
            if let Some(n) = super::int(props.get("MaxSessionDuration")) {
                input["MaxSessionDuration"] = json!(n);
            }
            let tags = tag_list(props.get("Tags"));
            if tags.as_array().is_some_and(|t| !t.is_empty()) {
                input["Tags"] = tags;
            }
            ctx.call("iam", "CreateRole", input).await?;
            sync_role_policies(ctx, &name, &json!({}), props).await?;
            role_made(ctx, &name).await
        }
        "AWS::IAM::Policy" => {
            inline_policy(ctx, props, true).await?;
            Ok(Made::new(super::generated_name(ctx.stack_name, ctx.logical, 128, false), json!({})))
        }
        _ => {
            let mut input = json!({
                "PolicyName": props.get("ManagedPolicyName").map(string).unwrap_or_default(),
                "PolicyDocument": document(props.get("PolicyDocument").unwrap_or(&Value::Null)),
                "Path": props.get("Path").map(string).unwrap_or_else(|| "/".into()),
            });
            if let Some(d) = props.get("Description") {
                input["Description"] = Value::String(string(d));
            }
            let out = ctx.call("iam", "CreatePolicy", input).await?;
            let arn = out["Policy"]["Arn"].as_str().unwrap_or_default().to_owned();
            attachments(ctx, &arn, props, true).await?;
            managed_made(ctx, &arn).await
        }
    }
}

/// A managed policy's `Ref` (its ARN) and attributes, as it now is.
async fn managed_made(ctx: &Ctx<'_>, arn: &str) -> Result<Made, Failed> {
    let out = ctx.call("iam", "GetPolicy", json!({"PolicyArn": arn})).await?;
    let p = &out["Policy"];
    Ok(Made::new(
        arn,
        json!({
            "PolicyArn": arn, "PolicyId": p["PolicyId"], "DefaultVersionId": p["DefaultVersionId"],
            "AttachmentCount": p["AttachmentCount"], "IsAttachable": p["IsAttachable"],
            "CreateDate": p["CreateDate"], "UpdateDate": p["UpdateDate"],
        }),
    ))
}

pub(super) async fn update(kind: &Kind, ctx: &Ctx<'_>, old: &Resource, props: &Value) -> Result<Made, Failed> {
    let physical = old.physical.clone().unwrap_or_default();
    match kind.name {
        "AWS::IAM::Role" => {
            if old.properties.get("AssumeRolePolicyDocument") != props.get("AssumeRolePolicyDocument") {
                let doc = document(props.get("AssumeRolePolicyDocument").unwrap_or(&Value::Null));
                ctx.call("iam", "UpdateAssumeRolePolicy", json!({"RoleName": physical, "PolicyDocument": doc})).await?;
            }
            sync_role_policies(ctx, &physical, &old.properties, props).await?;
            role_made(ctx, &physical).await
        }
        "AWS::IAM::Policy" => {
            inline_policy(ctx, &old.properties, false).await?;
            inline_policy(ctx, props, true).await?;
            Ok(Made::new(physical, json!({})))
        }
        _ => {
            // A new document is the policy's new default version, the oldest other version
            // deleted first when it has five, as CloudFormation does.
            if old.properties.get("PolicyDocument") != props.get("PolicyDocument") {
                let listed = ctx.call("iam", "ListPolicyVersions", json!({"PolicyArn": physical})).await?;
                let versions = listed["Versions"].as_array().cloned().unwrap_or_default();
                if versions.len() >= 5 {
                    let oldest = versions.iter().rev().find(|v| v["IsDefaultVersion"] != json!(true));
                    if let Some(id) = oldest.and_then(|v| v["VersionId"].as_str()) {
                        let input = json!({"PolicyArn": physical, "VersionId": id});
                        ctx.call("iam", "DeletePolicyVersion", input).await?;
                    }
                }
                let doc = document(props.get("PolicyDocument").unwrap_or(&Value::Null));
                let input = json!({"PolicyArn": physical, "PolicyDocument": doc, "SetAsDefault": true});
                ctx.call("iam", "CreatePolicyVersion", input).await?;
            }
            // Detach what left the lists, attach what joined them.
            attachments(ctx, &physical, &subtract(&old.properties, props), false).await?;
            attachments(ctx, &physical, &subtract(props, &old.properties), true).await?;
            managed_made(ctx, &physical).await
        }
    }
}

/// `props`' `Roles` and `Users` less those of `other`.
fn subtract(props: &Value, other: &Value) -> Value {
    let mut out = json!({});
    for member in ["Roles", "Users"] {
        let keep = list(other.get(member));
        out[member] = json!(list(props.get(member)).into_iter().filter(|x| !keep.contains(x)).collect::<Vec<_>>());
    }
    out
}

pub(super) async fn delete(kind: &Kind, ctx: &Ctx<'_>, old: &Resource) -> Result<(), Failed> {
    let physical = old.physical.clone().unwrap_or_default();
    match kind.name {
        "AWS::IAM::Role" => {
            sync_role_policies(ctx, &physical, &old.properties, &json!({})).await?;
            ctx.call_gone_ok("iam", "DeleteRole", json!({"RoleName": physical})).await
        }
        "AWS::IAM::Policy" => inline_policy(ctx, &old.properties, false).await,
        _ => {
            attachments(ctx, &physical, &old.properties, false).await?;
            ctx.call_gone_ok("iam", "DeletePolicy", json!({"PolicyArn": physical})).await
        }
    }
}
