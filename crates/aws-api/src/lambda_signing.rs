//! Lambda's code signing configuration operations (`/2020-04-22/code-signing-configs`,
//! `/2020-06-30/functions/{name}/code-signing-config`).

use lambda::{CodeSigningConfig, CodeSigningInput};
use serde::{Deserialize, Serialize};

use crate::lambda_api::{done, out, Call, Reply};
use crate::lambda_rest::last_modified;
use crate::ApiState;

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
struct PublishersWire {
    signing_profile_version_arns: Option<Vec<String>>,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
struct PoliciesWire {
    untrusted_artifact_on_deployment: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ConfigIn {
    description: Option<String>,
    allowed_publishers: Option<PublishersWire>,
    code_signing_policies: Option<PoliciesWire>,
}

impl ConfigIn {
    fn into_input(self) -> CodeSigningInput {
        CodeSigningInput {
            description: self.description,
            profiles: self.allowed_publishers.and_then(|p| p.signing_profile_version_arns),
            policy: self.code_signing_policies.and_then(|p| p.untrusted_artifact_on_deployment),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ConfigOut {
    code_signing_config_id: String,
    code_signing_config_arn: String,
    description: String,
    allowed_publishers: PublishersWire,
    code_signing_policies: PoliciesWire,
    last_modified: String,
}

fn config_out(c: CodeSigningConfig) -> ConfigOut {
    ConfigOut {
        code_signing_config_arn: c.arn(),
        code_signing_config_id: c.id,
        description: c.description,
        allowed_publishers: PublishersWire { signing_profile_version_arns: Some(c.profiles) },
        code_signing_policies: PoliciesWire { untrusted_artifact_on_deployment: Some(c.policy) },
        last_modified: last_modified(c.last_modified_ms),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Wrapped {
    code_signing_config: ConfigOut,
}

fn wrapped(c: CodeSigningConfig) -> Reply {
    out(Wrapped { code_signing_config: config_out(c) })
}

pub(crate) fn create_config(s: &ApiState, c: &Call) -> Reply {
    wrapped(s.lambda.create_code_signing_config(&c.caller, c.body::<ConfigIn>()?.into_input())?)
}

/// The `CodeSigningConfigArn` label.
fn arn(c: &Call) -> String {
    c.label("CodeSigningConfigArn")
}

pub(crate) fn get_config(s: &ApiState, c: &Call) -> Reply {
    wrapped(s.lambda.get_code_signing_config(&c.caller, &arn(c))?)
}

pub(crate) fn update_config(s: &ApiState, c: &Call) -> Reply {
    wrapped(s.lambda.update_code_signing_config(&c.caller, &arn(c), c.body::<ConfigIn>()?.into_input())?)
}

pub(crate) fn delete_config(s: &ApiState, c: &Call) -> Reply {
    s.lambda.delete_code_signing_config(&c.caller, &arn(c))?;
    done()
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListConfigsOut {
    code_signing_configs: Vec<ConfigOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_marker: Option<String>,
}

pub(crate) fn list_configs(s: &ApiState, c: &Call) -> Reply {
    let (configs, next_marker) = s.lambda.list_code_signing_configs(&c.caller, c.marker().as_deref(), c.max_items())?;
    out(ListConfigsOut { code_signing_configs: configs.into_iter().map(config_out).collect(), next_marker })
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListFunctionsOut {
    function_arns: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_marker: Option<String>,
}

pub(crate) fn list_functions(s: &ApiState, c: &Call) -> Reply {
    let (function_arns, next_marker) =
        s.lambda.list_functions_by_code_signing_config(&c.caller, &arn(c), c.marker().as_deref(), c.max_items())?;
    out(ListFunctionsOut { function_arns, next_marker })
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct FunctionConfigOut {
    code_signing_config_arn: String,
    function_name: String,
}

pub(crate) fn put_function_config(s: &ApiState, c: &Call) -> Reply {
    let (code_signing_config_arn, function_name) =
        s.lambda.put_function_code_signing_config(&c.caller, &c.function(), &arn(c))?;
    out(FunctionConfigOut { code_signing_config_arn, function_name })
}

/// A function without a configuration answers an empty object, as on AWS.
pub(crate) fn get_function_config(s: &ApiState, c: &Call) -> Reply {
    match s.lambda.get_function_code_signing_config(&c.caller, &c.function())? {
        Some((code_signing_config_arn, function_name)) => {
            out(FunctionConfigOut { code_signing_config_arn, function_name })
        }
        None => Ok(serde_json::json!({})),
    }
}

pub(crate) fn delete_function_config(s: &ApiState, c: &Call) -> Reply {
    s.lambda.delete_function_code_signing_config(&c.caller, &c.function())?;
    done()
}
