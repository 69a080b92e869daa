//! Lambda's code signing configuration operations (`/2020-04-22/code-signing-configs`,
//! `/2020-06-30/functions/{name}/code-signing-config`).

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use lambda::{CodeSigningConfig, CodeSigningInput};
use serde::{Deserialize, Serialize};

use crate::lambda_rest::{json_response, last_modified, max_items, query_one, ApiResult, Input, Operation, Who};
use crate::ApiState;

pub(crate) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/2020-04-22/code-signing-configs", get(list_configs).post(create_config))
        .route("/2020-04-22/code-signing-configs/", get(list_configs).post(create_config))
        .route("/2020-04-22/code-signing-configs/{arn}", get(get_config).put(update_config).delete(delete_config))
        .route("/2020-04-22/code-signing-configs/{arn}/functions", get(list_functions))
        .route(
            "/2020-06-30/functions/{name}/code-signing-config",
            get(get_function_config).put(put_function_config).delete(delete_function_config),
        )
}

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

impl Operation for ConfigIn {
    const NAME: &'static str = "CreateCodeSigningConfig";
}

/// UpdateCodeSigningConfig's body: the same members.
#[derive(Deserialize)]
#[serde(transparent)]
struct ConfigUpdate(ConfigIn);

impl Operation for ConfigUpdate {
    const NAME: &'static str = "UpdateCodeSigningConfig";
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

fn wrapped(status: StatusCode, c: CodeSigningConfig) -> ApiResult {
    Ok(json_response(status, &Wrapped { code_signing_config: config_out(c) }))
}

async fn create_config(State(s): State<ApiState>, Who(caller): Who, Input(wire): Input<ConfigIn>) -> ApiResult {
    wrapped(StatusCode::CREATED, s.lambda.create_code_signing_config(&caller, wire.into_input())?)
}

async fn get_config(State(s): State<ApiState>, Who(caller): Who, Path(arn): Path<String>) -> ApiResult {
    wrapped(StatusCode::OK, s.lambda.get_code_signing_config(&caller, &arn)?)
}

async fn update_config(
    State(s): State<ApiState>,
    Who(caller): Who,
    Path(arn): Path<String>,
    Input(ConfigUpdate(wire)): Input<ConfigUpdate>,
) -> ApiResult {
    wrapped(StatusCode::OK, s.lambda.update_code_signing_config(&caller, &arn, wire.into_input())?)
}

async fn delete_config(State(s): State<ApiState>, Who(caller): Who, Path(arn): Path<String>) -> ApiResult {
    s.lambda.delete_code_signing_config(&caller, &arn)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListConfigsOut {
    code_signing_configs: Vec<ConfigOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_marker: Option<String>,
}

async fn list_configs(State(s): State<ApiState>, Who(caller): Who, RawQuery(q): RawQuery) -> ApiResult {
    let marker = query_one(&q, "Marker");
    let (configs, next_marker) = s.lambda.list_code_signing_configs(&caller, marker.as_deref(), max_items(&q)?)?;
    let out = ListConfigsOut { code_signing_configs: configs.into_iter().map(config_out).collect(), next_marker };
    Ok(json_response(StatusCode::OK, &out))
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListFunctionsOut {
    function_arns: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_marker: Option<String>,
}

async fn list_functions(
    State(s): State<ApiState>,
    Who(caller): Who,
    Path(arn): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let marker = query_one(&q, "Marker");
    let (function_arns, next_marker) =
        s.lambda.list_functions_by_code_signing_config(&caller, &arn, marker.as_deref(), max_items(&q)?)?;
    Ok(json_response(StatusCode::OK, &ListFunctionsOut { function_arns, next_marker }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutFunctionIn {
    code_signing_config_arn: Option<String>,
}

impl Operation for PutFunctionIn {
    const NAME: &'static str = "PutFunctionCodeSigningConfig";
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct FunctionConfigOut {
    code_signing_config_arn: String,
    function_name: String,
}

async fn put_function_config(
    State(s): State<ApiState>,
    Who(caller): Who,
    Path(name): Path<String>,
    Input(wire): Input<PutFunctionIn>,
) -> ApiResult {
    let arn = wire.code_signing_config_arn.unwrap_or_default();
    let (code_signing_config_arn, function_name) = s.lambda.put_function_code_signing_config(&caller, &name, &arn)?;
    Ok(json_response(StatusCode::OK, &FunctionConfigOut { code_signing_config_arn, function_name }))
}

/// A function without a configuration answers an empty object, as on AWS.
async fn get_function_config(State(s): State<ApiState>, Who(caller): Who, Path(name): Path<String>) -> ApiResult {
    Ok(match s.lambda.get_function_code_signing_config(&caller, &name)? {
        Some((code_signing_config_arn, function_name)) => {
            json_response(StatusCode::OK, &FunctionConfigOut { code_signing_config_arn, function_name })
        }
        None => json_response(StatusCode::OK, &serde_json::json!({})),
    })
}

async fn delete_function_config(State(s): State<ApiState>, Who(caller): Who, Path(name): Path<String>) -> ApiResult {
    s.lambda.delete_function_code_signing_config(&caller, &name)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
