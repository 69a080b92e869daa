//! `AWS::ECR::Repository`: a repository of ECR's catalogue (Lamina serves no image
//! registry; the repository holds no images).

use serde_json::{json, Value};

use super::{string, tag_list, tag_map, truthy, Ctx, Failed, Kind, Made};
use crate::stack::Resource;

fn made(ctx: &Ctx<'_>, name: &str) -> Made {
    let uri = format!("{}.dkr.ecr.{}.amazonaws.com/{name}", ctx.acting.account, ctx.acting.region);
    Made::new(name, json!({"Arn": ctx.arn("ecr", &format!("repository/{name}")), "RepositoryUri": uri}))
}

/// `RepositoryPolicyText`, given as a JSON object or as its text.
fn policy_text(props: &Value) -> Option<String> {
    props.get("RepositoryPolicyText").map(string)
}

fn lifecycle_text(props: &Value) -> Option<String> {
    props.get("LifecyclePolicy").and_then(|l| l.get("LifecyclePolicyText")).map(string)
}

/// The mutability's exclusion filters, in the API's shape, if any.
fn exclusions(props: &Value) -> Option<Value> {
    let list = props.get("ImageTagMutabilityExclusionFilters").and_then(Value::as_array)?;
    let filter = |f: &Value| {
        json!({
            "filterType": f.get("ImageTagMutabilityExclusionFilterType").map(string),
            "filter": f.get("ImageTagMutabilityExclusionFilterValue").map(string),
        })
    };
    (!list.is_empty()).then(|| list.iter().map(filter).collect())
}

pub(super) async fn create(_: &Kind, ctx: &Ctx<'_>, props: &Value) -> Result<Made, Failed> {
    let name = props.get("RepositoryName").map(string).unwrap_or_default();
    let mut input = json!({"repositoryName": name});
    if let Some(m) = props.get("ImageTagMutability") {
        input["imageTagMutability"] = json!(string(m));
        if let Some(filters) = exclusions(props) {
            input["imageTagMutabilityExclusionFilters"] = filters;
        }
    }
    if let Some(scan) = props.get("ImageScanningConfiguration") {
        input["imageScanningConfiguration"] = json!({"scanOnPush": truthy(scan.get("ScanOnPush"))});
    }
    if let Some(e) = props.get("EncryptionConfiguration") {
        input["encryptionConfiguration"] = json!({"encryptionType": e.get("EncryptionType").map(string)});
        if let Some(k) = e.get("KmsKey") {
            input["encryptionConfiguration"]["kmsKey"] = json!(string(k));
        }
    }
    if !tag_map(props.get("Tags")).is_empty() {
        input["tags"] = tag_list(props.get("Tags"));
    }
    ctx.call("ecr", "CreateRepository", input).await?;
    if let Some(text) = policy_text(props) {
        ctx.call("ecr", "SetRepositoryPolicy", json!({"repositoryName": name, "policyText": text})).await?;
    }
    if let Some(text) = lifecycle_text(props) {
        ctx.call("ecr", "PutLifecyclePolicy", json!({"repositoryName": name, "lifecyclePolicyText": text})).await?;
    }
    Ok(made(ctx, &name))
}

pub(super) async fn update(_: &Kind, ctx: &Ctx<'_>, old: &Resource, props: &Value) -> Result<Made, Failed> {
    let name = old.physical.clone().unwrap_or_default();
    let before = &old.properties;
    let changed = |key: &str| before.get(key) != props.get(key);
    if changed("ImageTagMutability") || changed("ImageTagMutabilityExclusionFilters") {
        let mutability = props.get("ImageTagMutability").map(string).unwrap_or_else(|| "MUTABLE".into());
        let mut input = json!({"repositoryName": name, "imageTagMutability": mutability});
        if let Some(filters) = exclusions(props) {
            input["imageTagMutabilityExclusionFilters"] = filters;
        }
        ctx.call("ecr", "PutImageTagMutability", input).await?;
    }
    if changed("ImageScanningConfiguration") {
        let scan = truthy(props.get("ImageScanningConfiguration").and_then(|s| s.get("ScanOnPush")));
        let input = json!({"repositoryName": name, "imageScanningConfiguration": {"scanOnPush": scan}});
        ctx.call("ecr", "PutImageScanningConfiguration", input).await?;
    }
    if changed("RepositoryPolicyText") {
        match policy_text(props) {
            Some(text) => {
                ctx.call("ecr", "SetRepositoryPolicy", json!({"repositoryName": name, "policyText": text})).await?
            }
            None => ctx.call("ecr", "DeleteRepositoryPolicy", json!({"repositoryName": name})).await?,
        };
    }
    if lifecycle_text(before) != lifecycle_text(props) {
        match lifecycle_text(props) {
            Some(text) => {
                ctx.call("ecr", "PutLifecyclePolicy", json!({"repositoryName": name, "lifecyclePolicyText": text}))
                    .await?
            }
            None => ctx.call("ecr", "DeleteLifecyclePolicy", json!({"repositoryName": name})).await?,
        };
    }
    let (was, now) = (tag_map(before.get("Tags")), tag_map(props.get("Tags")));
    if was != now {
        let arn = ctx.arn("ecr", &format!("repository/{name}"));
        let gone: Vec<&String> = was.keys().filter(|k| !now.contains_key(*k)).collect();
        if !gone.is_empty() {
            ctx.call("ecr", "UntagResource", json!({"resourceArn": arn, "tagKeys": gone})).await?;
        }
        if !now.is_empty() {
            ctx.call("ecr", "TagResource", json!({"resourceArn": arn, "tags": tag_list(props.get("Tags"))})).await?;
        }
    }
    Ok(made(ctx, &name))
}

pub(super) async fn delete(_: &Kind, ctx: &Ctx<'_>, old: &Resource) -> Result<(), Failed> {
    let input = json!({"repositoryName": old.physical.as_deref().unwrap_or_default(), "force": true});
    ctx.call_gone_ok("ecr", "DeleteRepository", input).await
}
