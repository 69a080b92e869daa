//! Lambda's version, alias and provisioned-concurrency operations: routes and wire shapes.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use lambda::ProvisionedView;
use model::{Alias, AliasDraft, Function};
use serde::{Deserialize, Serialize};

use crate::lambda_rest::{
    configuration, json_response, last_modified, listed, max_items, qualifier, query_one, ApiResult,
    FunctionConfigurationWire, Input, Operation, Who,
};
use crate::ApiState;

pub(crate) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/2015-03-31/functions/{name}/versions", post(publish_version).get(list_versions))
        .route("/2015-03-31/functions/{name}/aliases", post(create_alias).get(list_aliases))
        .route("/2015-03-31/functions/{name}/aliases/{alias}", get(get_alias).put(update_alias).delete(delete_alias))
        .route(
            "/2019-09-30/functions/{name}/provisioned-concurrency",
            get(get_or_list_provisioned).put(put_provisioned).delete(delete_provisioned),
        )
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PublishVersionIn {
    code_sha256: Option<String>,
    description: Option<String>,
    revision_id: Option<String>,
}

impl Operation for PublishVersionIn {
    const NAME: &'static str = "PublishVersion";
}

async fn publish_version(
    State(s): State<ApiState>,
    Who(caller): Who,
    Path(name): Path<String>,
    Input(wire): Input<PublishVersionIn>,
) -> ApiResult {
    let v = s.lambda.publish_version(
        &caller,
        &name,
        wire.code_sha256.as_deref(),
        wire.description,
        wire.revision_id.as_deref(),
    )?;
    Ok(json_response(StatusCode::CREATED, &configuration(&v, Some(&v.version_label()))))
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListVersionsOut {
    versions: Vec<FunctionConfigurationWire>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_marker: Option<String>,
}

async fn list_versions(
    State(s): State<ApiState>,
    Who(caller): Who,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let page = s.lambda.list_versions(&caller, &name, query_one(&q, "Marker").as_deref(), max_items(&q)?)?;
    let out = ListVersionsOut {
        versions: page.versions.iter().map(|v| listed(v, Some(&v.version_label()))).collect(),
        next_marker: page.next_marker,
    };
    Ok(json_response(StatusCode::OK, &out))
}

#[derive(Deserialize, Serialize, Default)]
#[serde(rename_all = "PascalCase")]
struct RoutingWire {
    #[serde(skip_serializing_if = "Option::is_none")]
    additional_version_weights: Option<BTreeMap<String, f64>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AliasIn {
    name: Option<String>,
    function_version: Option<String>,
    description: Option<String>,
    routing_config: Option<RoutingWire>,
    revision_id: Option<String>,
}

impl Operation for AliasIn {
    const NAME: &'static str = "CreateAlias";
}

/// UpdateAlias's input: the same members.
#[derive(Deserialize)]
#[serde(transparent)]
struct AliasUpdate(AliasIn);

impl Operation for AliasUpdate {
    const NAME: &'static str = "UpdateAlias";
}

impl AliasIn {
    fn draft(&mut self) -> AliasDraft {
        AliasDraft {
            function_version: self.function_version.take(),
            description: self.description.take(),
            weights: self.routing_config.take().map(|r| r.additional_version_weights.unwrap_or_default()),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AliasOut {
    alias_arn: String,
    name: String,
    function_version: String,
    description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    routing_config: Option<RoutingWire>,
    revision_id: String,
}

fn alias_out(f: &Function, a: &Alias) -> AliasOut {
    AliasOut {
        alias_arn: format!("{}:{}", f.arn(), a.name),
        name: a.name.clone(),
        function_version: a.function_version.clone(),
        description: a.description.clone(),
        routing_config: a
            .routing
            .map(|(v, w)| RoutingWire { additional_version_weights: Some(BTreeMap::from([(v.to_string(), w)])) }),
        revision_id: a.revision_id.clone(),
    }
}

async fn create_alias(
    State(s): State<ApiState>,
    Who(caller): Who,
    Path(name): Path<String>,
    Input(mut wire): Input<AliasIn>,
) -> ApiResult {
    let alias_name = wire.name.take().ok_or_else(|| model::Invalid::from(model::Violation::null("name")))?;
    let (f, a) = s.lambda.create_alias(&caller, &name, &alias_name, wire.draft())?;
    Ok(json_response(StatusCode::CREATED, &alias_out(&f, &a)))
}

async fn get_alias(
    State(s): State<ApiState>,
    Who(caller): Who,
    Path((name, alias)): Path<(String, String)>,
) -> ApiResult {
    let (f, a) = s.lambda.get_alias(&caller, &name, &alias)?;
    Ok(json_response(StatusCode::OK, &alias_out(&f, &a)))
}

async fn update_alias(
    State(s): State<ApiState>,
    Who(caller): Who,
    Path((name, alias)): Path<(String, String)>,
    Input(AliasUpdate(mut wire)): Input<AliasUpdate>,
) -> ApiResult {
    let revision = wire.revision_id.take();
    let (f, a) = s.lambda.update_alias(&caller, &name, &alias, wire.draft(), revision.as_deref())?;
    Ok(json_response(StatusCode::OK, &alias_out(&f, &a)))
}

async fn delete_alias(
    State(s): State<ApiState>,
    Who(caller): Who,
    Path((name, alias)): Path<(String, String)>,
) -> ApiResult {
    s.lambda.delete_alias(&caller, &name, &alias)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListAliasesOut {
    aliases: Vec<AliasOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_marker: Option<String>,
}

async fn list_aliases(
    State(s): State<ApiState>,
    Who(caller): Who,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let page = s.lambda.list_aliases(
        &caller,
        &name,
        query_one(&q, "FunctionVersion").as_deref(),
        query_one(&q, "Marker").as_deref(),
        max_items(&q)?,
    )?;
    let f: &Arc<Function> = &page.function;
    let out = ListAliasesOut {
        aliases: page.aliases.iter().map(|a| alias_out(f, a)).collect(),
        next_marker: page.next_marker,
    };
    Ok(json_response(StatusCode::OK, &out))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ProvisionedIn {
    provisioned_concurrent_executions: Option<i64>,
}

impl Operation for ProvisionedIn {
    const NAME: &'static str = "PutProvisionedConcurrencyConfig";
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ProvisionedOut {
    #[serde(skip_serializing_if = "Option::is_none")]
    function_arn: Option<String>,
    requested_provisioned_concurrent_executions: u32,
    available_provisioned_concurrent_executions: u32,
    allocated_provisioned_concurrent_executions: u32,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    status_reason: Option<String>,
    last_modified: String,
}

fn provisioned_out(v: ProvisionedView, with_arn: bool) -> ProvisionedOut {
    ProvisionedOut {
        function_arn: with_arn.then_some(v.function_arn),
        requested_provisioned_concurrent_executions: v.config.requested,
        available_provisioned_concurrent_executions: v.allocated,
        allocated_provisioned_concurrent_executions: v.allocated,
        status: v.status,
        status_reason: v.status_reason,
        last_modified: last_modified(v.config.last_modified_ms),
    }
}

async fn put_provisioned(
    State(s): State<ApiState>,
    Who(caller): Who,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
    Input(wire): Input<ProvisionedIn>,
) -> ApiResult {
    let v =
        s.lambda.put_provisioned(&caller, &name, qualifier(&q).as_deref(), wire.provisioned_concurrent_executions)?;
    Ok(json_response(StatusCode::ACCEPTED, &provisioned_out(v, false)))
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListProvisionedOut {
    provisioned_concurrency_configs: Vec<ProvisionedOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_marker: Option<String>,
}

/// GetProvisionedConcurrencyConfig, or with `List=ALL` ListProvisionedConcurrencyConfigs:
/// AWS serves both on one path.
async fn get_or_list_provisioned(
    State(s): State<ApiState>,
    Who(caller): Who,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    if query_one(&q, "List").is_some() {
        let (views, next_marker) =
            s.lambda.list_provisioned(&caller, &name, query_one(&q, "Marker").as_deref(), max_items(&q)?)?;
        let out = ListProvisionedOut {
            provisioned_concurrency_configs: views.into_iter().map(|v| provisioned_out(v, true)).collect(),
            next_marker,
        };
        return Ok(json_response(StatusCode::OK, &out));
    }
    let v = s.lambda.get_provisioned(&caller, &name, qualifier(&q).as_deref())?;
    Ok(json_response(StatusCode::OK, &provisioned_out(v, false)))
}

async fn delete_provisioned(
    State(s): State<ApiState>,
    Who(caller): Who,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    s.lambda.delete_provisioned(&caller, &name, qualifier(&q).as_deref())?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
