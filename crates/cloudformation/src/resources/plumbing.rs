//! Deploy tools' own plumbing, recorded without effect so their stacks complete:
//! `AWS::CDK::Metadata`, `AWS::KMS::Key`, `AWS::KMS::Alias` and
//! `AWS::CloudFormation::WaitConditionHandle`. Lamina encrypts nothing with KMS; these
//! answer the ids and attributes a template reads.

use serde_json::{json, Value};

use super::{string, Ctx, Kind, Made};

pub(super) fn create(kind: &Kind, ctx: &Ctx<'_>, props: &Value) -> Made {
    match kind.name {
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
