//! ECR's repository catalogue (json 1.1 protocol,
//! `X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.<Operation>`). The protocol layer
//! reads and checks the input against ECR's model and writes the answer; this module turns
//! input trees into catalogue calls and repositories into output trees. The registry's own
//! operations (image uploads, `GetAuthorizationToken`) are not served: Lamina runs no
//! containers.

use ecr::{Caller, CreateInput, EcrError, EcrService, ImageId, PolicyKind, Repository};
use protocol::ServiceError;
use serde::Deserialize;
use serde_json::{json, Value};

/// The operations served.
pub(crate) const OPERATIONS: &[&str] = &[
    "CreateRepository",
    "DescribeRepositories",
    "DeleteRepository",
    "ListImages",
    "DescribeImages",
    "BatchGetImage",
    "BatchDeleteImage",
    "SetRepositoryPolicy",
    "GetRepositoryPolicy",
    "DeleteRepositoryPolicy",
    "PutLifecyclePolicy",
    "GetLifecyclePolicy",
    "DeleteLifecyclePolicy",
    "PutImageTagMutability",
    "PutImageScanningConfiguration",
    "TagResource",
    "UntagResource",
    "ListTagsForResource",
];

/// The largest request body ECR reads: a policy document, with room for JSON.
pub(crate) const MAX_BODY: usize = 64 * 1024;

/// An ECR error as the protocol layer writes it; the one place they are mapped.
pub(crate) fn service_error(e: &EcrError) -> ServiceError {
    let code = match e {
        EcrError::InvalidParameter(_) => "InvalidParameterException",
        EcrError::RepositoryNotFound(_) => "RepositoryNotFoundException",
        EcrError::RepositoryAlreadyExists(_) => "RepositoryAlreadyExistsException",
        EcrError::RepositoryPolicyNotFound(_) => "RepositoryPolicyNotFoundException",
        EcrError::LifecyclePolicyNotFound(_) => "LifecyclePolicyNotFoundException",
        EcrError::ImageNotFound(_) => "ImageNotFoundException",
        EcrError::TooManyTags(_) => "TooManyTagsException",
        EcrError::AccessDenied(_) => "AccessDeniedException",
        EcrError::Server(_) => "ServerException",
    };
    let out = ServiceError::new(code, e.to_string());
    if matches!(e, EcrError::Server(_)) {
        out.status(500).receiver()
    } else {
        out
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Wire {
    registry_id: Option<String>,
    repository_name: Option<String>,
    repository_names: Option<Vec<String>>,
    tags: Option<Vec<Tag>>,
    tag_keys: Option<Vec<String>>,
    image_tag_mutability: Option<String>,
    image_tag_mutability_exclusion_filters: Option<Vec<Value>>,
    image_scanning_configuration: Option<Scanning>,
    encryption_configuration: Option<Encryption>,
    image_ids: Option<Vec<WireImageId>>,
    policy_text: Option<String>,
    lifecycle_policy_text: Option<String>,
    resource_arn: Option<String>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Tag {
    key: String,
    value: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Scanning {
    scan_on_push: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Encryption {
    encryption_type: String,
    kms_key: Option<String>,
}

#[derive(Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
struct WireImageId {
    image_digest: Option<String>,
    image_tag: Option<String>,
}

impl From<&WireImageId> for ImageId {
    fn from(w: &WireImageId) -> ImageId {
        ImageId { digest: w.image_digest.clone(), tag: w.image_tag.clone() }
    }
}

/// Runs one operation.
pub(crate) fn run(ecr: &EcrService, caller: &Caller, op: &str, input: &Value) -> Result<Value, ServiceError> {
    let w = Wire::deserialize(input)
        .map_err(|e| ServiceError::new("InvalidParameterException", format!("The request is not valid: {e}")))?;
    let err = |e: EcrError| service_error(&e);
    let registry = w.registry_id.as_deref();
    let name = w.repository_name.clone().unwrap_or_default();
    let tags = |list: &Option<Vec<Tag>>| -> Vec<(String, String)> {
        list.iter().flatten().map(|t| (t.key.clone(), t.value.clone())).collect()
    };
    let out = match op {
        "CreateRepository" => {
            let input = CreateInput {
                name,
                tags: tags(&w.tags),
                tag_mutability: w.image_tag_mutability.clone(),
                mutability_exclusions: w.image_tag_mutability_exclusion_filters.clone().unwrap_or_default(),
                scan_on_push: w.image_scanning_configuration.as_ref().and_then(|s| s.scan_on_push).unwrap_or(false),
                encryption: w.encryption_configuration.as_ref().map(|e| (e.encryption_type.clone(), e.kms_key.clone())),
            };
            json!({ "repository": repository_json(&ecr.create(caller, registry, input).map_err(err)?) })
        }
        "DescribeRepositories" => {
            let max = w.max_results.map(|m| m.max(1) as usize);
            let names = w.repository_names.as_deref();
            let (page, next) = ecr.describe(caller, registry, names, max, w.next_token.as_deref()).map_err(err)?;
            let list: Vec<Value> = page.iter().map(repository_json).collect();
            with_token(json!({ "repositories": list }), next)
        }
        "DeleteRepository" => {
            json!({ "repository": repository_json(&ecr.delete(caller, registry, &name).map_err(err)?) })
        }
        "ListImages" | "DescribeImages" | "BatchGetImage" | "BatchDeleteImage" => {
            let ids: Vec<ImageId> = w.image_ids.iter().flatten().map(ImageId::from).collect();
            images(ecr, caller, registry, &name, op, &ids, w.image_ids.as_deref().unwrap_or_default())?
        }
        "SetRepositoryPolicy"
        | "PutLifecyclePolicy"
        | "GetRepositoryPolicy"
        | "DeleteRepositoryPolicy"
        | "GetLifecyclePolicy"
        | "DeleteLifecyclePolicy" => {
            let (kind, member) = if op.contains("Lifecycle") {
                (PolicyKind::Lifecycle, "lifecyclePolicyText")
            } else {
                (PolicyKind::Repository, "policyText")
            };
            let (r, text) = if op.starts_with("Set") || op.starts_with("Put") {
                let text = w.policy_text.clone().or_else(|| w.lifecycle_policy_text.clone()).unwrap_or_default();
                (ecr.put_policy(caller, registry, &name, kind, &text).map_err(err)?, text)
            } else {
                ecr.policy(caller, registry, &name, kind, op.starts_with("Delete")).map_err(err)?
            };
            json!({ "registryId": r.account, "repositoryName": r.name, member: text })
        }
        "PutImageTagMutability" => {
            let mutability = w.image_tag_mutability.clone().unwrap_or_default();
            let exclusions = w.image_tag_mutability_exclusion_filters.clone();
            let r = ecr
                .change(caller, registry, &name, op, |r| {
                    r.tag_mutability = mutability;
                    r.mutability_exclusions = exclusions.unwrap_or_default();
                    Ok((r.clone(), true))
                })
                .map_err(err)?;
            let mut out =
                json!({ "registryId": r.account, "repositoryName": r.name, "imageTagMutability": r.tag_mutability });
            if !r.mutability_exclusions.is_empty() {
                out["imageTagMutabilityExclusionFilters"] = json!(r.mutability_exclusions);
            }
            out
        }
        "PutImageScanningConfiguration" => {
            let scan = w.image_scanning_configuration.as_ref().and_then(|s| s.scan_on_push).unwrap_or(false);
            let r = ecr
                .change(caller, registry, &name, op, |r| {
                    r.scan_on_push = scan;
                    Ok((r.clone(), true))
                })
                .map_err(err)?;
            json!({
                "registryId": r.account,
                "repositoryName": r.name,
                "imageScanningConfiguration": { "scanOnPush": r.scan_on_push },
            })
        }
        "TagResource" | "UntagResource" => {
            let arn = w.resource_arn.clone().unwrap_or_default();
            ecr.change_tags(caller, &arn, tags(&w.tags), w.tag_keys.as_deref().unwrap_or_default()).map_err(err)?;
            json!({})
        }
        _ => {
            let list = ecr.tags(caller, w.resource_arn.as_deref().unwrap_or_default()).map_err(err)?;
            json!({ "tags": list.iter().map(|(k, v)| json!({ "Key": k, "Value": v })).collect::<Vec<_>>() })
        }
    };
    Ok(out)
}

/// The image operations: a repository holds no images in Lamina, so listings are empty,
/// ids asked for are not found, and BatchGetImage and BatchDeleteImage fail each id.
fn images(
    ecr: &EcrService,
    caller: &Caller,
    registry: Option<&str>,
    name: &str,
    op: &str,
    ids: &[ImageId],
    wire: &[WireImageId],
) -> Result<Value, ServiceError> {
    let err = |e: EcrError| service_error(&e);
    ecr.repository(caller, registry, name).map_err(err)?;
    Ok(match op {
        "ListImages" => json!({ "imageIds": [] }),
        "DescribeImages" => {
            if let Some(first) = ids.first() {
                ecr.image(caller, registry, name, first).map_err(err)?;
            }
            json!({ "imageDetails": [] })
        }
        _ => {
            let failures: Vec<Value> = wire
                .iter()
                .map(|id| {
                    let mut shown = json!({});
                    if let Some(d) = &id.image_digest {
                        shown["imageDigest"] = json!(d);
                    }
                    if let Some(t) = &id.image_tag {
                        shown["imageTag"] = json!(t);
                    }
                    json!({ "imageId": shown, "failureCode": "ImageNotFound", "failureReason": "Requested image not found" })
                })
                .collect();
            let listed = if op == "BatchGetImage" { "images" } else { "imageIds" };
            json!({ listed: [], "failures": failures })
        }
    })
}

fn with_token(mut out: Value, token: Option<String>) -> Value {
    if let Some(t) = token {
        out["nextToken"] = json!(t);
    }
    out
}

/// A repository as the API shows it.
pub(crate) fn repository_json(r: &Repository) -> Value {
    let mut encryption = json!({ "encryptionType": r.encryption_type });
    if let Some(k) = &r.kms_key {
        encryption["kmsKey"] = json!(k);
    }
    let mut out = json!({
        "repositoryArn": r.arn(),
        "registryId": r.account,
        "repositoryName": r.name,
        "repositoryUri": r.uri(),
        "createdAt": r.created_ms as f64 / 1000.0,
        "imageTagMutability": r.tag_mutability,
        "imageScanningConfiguration": { "scanOnPush": r.scan_on_push },
        "encryptionConfiguration": encryption,
    });
    if !r.mutability_exclusions.is_empty() {
        out["imageTagMutabilityExclusionFilters"] = json!(r.mutability_exclusions);
    }
    out
}
