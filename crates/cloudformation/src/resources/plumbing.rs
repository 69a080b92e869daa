//! Deploy tools' own plumbing, recorded without effect so their stacks complete:
//! `AWS::CDK::Metadata`, `AWS::ECR::Repository`, `AWS::KMS::Key`, `AWS::KMS::Alias` and
//! `AWS::CloudFormation::WaitConditionHandle`. Lamina runs no container images and
//! encrypts nothing with KMS; these answer the ids and attributes a template reads.

use serde_json::{json, Value};

use super::{string, Ctx, Kind, Made};

pub(super) fn create(kind: &Kind, ctx: &Ctx<'_>, props: &Value) -> Made {
    match kind.name {
        "AWS::ECR::Repository" => {
            let name = props
                .get("RepositoryName")
                .map(string)
                .unwrap_or_else(|| super::generated_name(ctx.stack_name, ctx.logical, 256, true));
            let uri = format!("{}.dkr.ecr.{}.amazonaws.com/{name}", ctx.acting.account, ctx.acting.region);
            Made::new(name.clone(), json!({"Arn": ctx.arn("ecr", &format!("repository/{name}")), "RepositoryUri": uri}))
        }
        "AWS::KMS::Key" => {
            let id = uuid::Uuid::new_v4().to_string();
            Made::new(id.clone(), json!({"Arn": ctx.arn("kms", &format!("key/{id}")), "KeyId": id}))
        }
        "AWS::KMS::Alias" => Made::new(props.get("AliasName").map(string).unwrap_or_default(), json!({})),
        "AWS::CloudFormation::WaitConditionHandle" => {
            Made::new(format!("http://{}/_lamina/wait-condition/{}", ctx.acting.host, uuid::Uuid::new_v4()), json!({}))
        }
        _ => Made::new(super::generated_name(ctx.stack_name, ctx.logical, 128, false), json!({})),
    }
}
