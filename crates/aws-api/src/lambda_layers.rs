//! Lambda's layer operations (`/2018-10-31/layers/...`): routes and wire shapes.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use lambda::{Caller, LambdaError, LayerFilter};
use model::{Invalid, LayerDraft, LayerStatement, LayerVersion, Violation};
use serde::{Deserialize, Serialize};

use crate::lambda_rest::{
    code_source, json_response, last_modified, max_items, query_one, ApiResult, Input, Operation, Who,
};
use crate::ApiState;

pub(crate) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/2018-10-31/layers", get(list_layers_or_find))
        .route("/2018-10-31/layers/{name}/versions", post(publish_layer_version).get(list_layer_versions))
        .route("/2018-10-31/layers/{name}/versions/{version}", get(get_layer_version).delete(delete_layer_version))
        .route("/2018-10-31/layers/{name}/versions/{version}/policy", post(add_layer_permission).get(get_layer_policy))
        .route(
            "/2018-10-31/layers/{name}/versions/{version}/policy/{sid}",
            axum::routing::delete(remove_layer_permission),
        )
        .route("/_lamina/layer-code/{account}/{region}/{name}/{version}", get(download_layer))
}

/// A `VersionNumber` path member.
fn version_number(v: &str) -> Result<i64, LambdaError> {
    v.parse::<i64>().map_err(|_| {
        LambdaError::InvalidRequestContent(format!("Could not parse request: VersionNumber '{v}' is not a number"))
    })
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct ContentIn {
    zip_file: Option<String>,
    #[serde(rename = "S3Bucket")]
    s3_bucket: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PublishLayerIn {
    content: Option<ContentIn>,
    description: Option<String>,
    license_info: Option<String>,
    compatible_runtimes: Option<Vec<String>>,
    compatible_architectures: Option<Vec<String>>,
}

impl Operation for PublishLayerIn {
    const NAME: &'static str = "PublishLayerVersion";
    const MAX_BYTES: usize = model::limits::CODE_REQUEST_MAX_BYTES;
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ContentOut {
    location: String,
    code_sha256: String,
    code_size: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct LayerVersionOut {
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<ContentOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    layer_arn: Option<String>,
    layer_version_arn: String,
    description: String,
    created_date: String,
    version: u32,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    compatible_runtimes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    license_info: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    compatible_architectures: Vec<String>,
}

fn host(headers: &HeaderMap) -> &str {
    headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("localhost:4566")
}

/// Where `Content.Location` links to: the version's archive, for `caller`'s account, on
/// the host the request came to.
struct Link<'a> {
    host: &'a str,
    urls: &'a crate::CodeUrls,
    caller: &'a str,
}

impl<'a> Link<'a> {
    fn new(s: &'a ApiState, headers: &'a HeaderMap, caller: &'a Caller) -> Link<'a> {
        Link { host: host(headers), urls: &s.code_urls, caller: &caller.account }
    }
}

/// GetLayerVersion's shape (with a link to the archive), or a list item's (without
/// `Content`).
fn layer_out(v: LayerVersion, link: Option<Link<'_>>) -> LayerVersionOut {
    let layer_arn = link.as_ref().map(|_| v.layer_arn());
    LayerVersionOut {
        content: link.map(|l| {
            let path = format!("/_lamina/layer-code/{}/{}/{}/{}", v.account, v.region, v.name, v.version);
            let query = l.urls.sign(&path, l.caller, crate::lambda_rest::unix_now());
            ContentOut {
                location: format!("http://{}{path}?{query}", l.host),
                code_sha256: v.code.sha256_b64.clone(),
                code_size: v.code.size,
            }
        }),
        layer_arn,
        layer_version_arn: v.arn(),
        description: v.description,
        created_date: last_modified(v.created_ms),
        version: v.version,
        compatible_runtimes: v.runtimes,
        license_info: v.license,
        compatible_architectures: v.architectures,
    }
}

async fn publish_layer_version(
    State(s): State<ApiState>,
    Who(caller): Who,
    Path(name): Path<String>,
    headers: HeaderMap,
    Input(wire): Input<PublishLayerIn>,
) -> ApiResult {
    let content = wire.content.ok_or_else(|| Invalid::from(Violation::null("content")))?;
    let draft = LayerDraft {
        description: wire.description,
        license: wire.license_info,
        runtimes: wire.compatible_runtimes,
        architectures: wire.compatible_architectures,
    };
    let v = s.lambda.publish_layer_version(
        &caller,
        &name,
        code_source(content.zip_file, content.s3_bucket, None)?,
        draft,
    )?;
    Ok(json_response(StatusCode::CREATED, &layer_out(v, Some(Link::new(&s, &headers, &caller)))))
}

async fn get_layer_version(
    State(s): State<ApiState>,
    Who(caller): Who,
    Path((name, version)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult {
    let v = s.lambda.get_layer_version(&caller, &name, version_number(&version)?)?;
    Ok(json_response(StatusCode::OK, &layer_out(v, Some(Link::new(&s, &headers, &caller)))))
}

async fn delete_layer_version(
    State(s): State<ApiState>,
    Who(caller): Who,
    Path((name, version)): Path<(String, String)>,
) -> ApiResult {
    s.lambda.delete_layer_version(&caller, &name, version_number(&version)?)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn filter(q: &Option<String>) -> LayerFilter {
    LayerFilter { runtime: query_one(q, "CompatibleRuntime"), architecture: query_one(q, "CompatibleArchitecture") }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListLayerVersionsOut {
    layer_versions: Vec<LayerVersionOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_marker: Option<String>,
}

async fn list_layer_versions(
    State(s): State<ApiState>,
    Who(caller): Who,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let page =
        s.lambda.list_layer_versions(&caller, &name, filter(&q), query_one(&q, "Marker").as_deref(), max_items(&q)?)?;
    let out = ListLayerVersionsOut {
        layer_versions: page.versions.into_iter().map(|v| layer_out(v, None)).collect(),
        next_marker: page.next_marker,
    };
    Ok(json_response(StatusCode::OK, &out))
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct LayerItemOut {
    layer_name: String,
    layer_arn: String,
    latest_matching_version: LayerVersionOut,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListLayersOut {
    layers: Vec<LayerItemOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_marker: Option<String>,
}

/// ListLayers, or with `find=LayerVersion&Arn=…` GetLayerVersionByArn: AWS serves both
/// on one path.
async fn list_layers_or_find(
    State(s): State<ApiState>,
    Who(caller): Who,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> ApiResult {
    if query_one(&q, "find").as_deref() == Some("LayerVersion") {
        let arn = query_one(&q, "Arn").ok_or_else(|| Invalid::from(Violation::null("arn")))?;
        let v = s.lambda.get_layer_version_by_arn(&caller, &arn)?;
        return Ok(json_response(StatusCode::OK, &layer_out(v, Some(Link::new(&s, &headers, &caller)))));
    }
    let page = s.lambda.list_layers(&caller, filter(&q), query_one(&q, "Marker").as_deref(), max_items(&q)?)?;
    let out = ListLayersOut {
        layers: page
            .versions
            .into_iter()
            .map(|v| LayerItemOut {
                layer_name: v.name.clone(),
                layer_arn: v.layer_arn(),
                latest_matching_version: layer_out(v, None),
            })
            .collect(),
        next_marker: page.next_marker,
    };
    Ok(json_response(StatusCode::OK, &out))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AddPermissionIn {
    statement_id: Option<String>,
    action: Option<String>,
    principal: Option<String>,
    organization_id: Option<String>,
}

impl Operation for AddPermissionIn {
    const NAME: &'static str = "AddLayerVersionPermission";
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct StatementOut {
    statement: String,
    revision_id: String,
}

async fn add_layer_permission(
    State(s): State<ApiState>,
    Who(caller): Who,
    Path((name, version)): Path<(String, String)>,
    RawQuery(q): RawQuery,
    Input(wire): Input<AddPermissionIn>,
) -> ApiResult {
    let mut missing = Vec::new();
    for (value, field) in
        [(&wire.statement_id, "statementId"), (&wire.action, "action"), (&wire.principal, "principal")]
    {
        if value.is_none() {
            missing.push(Violation::null(field));
        }
    }
    if !missing.is_empty() {
        return Err(Invalid::Constraints(missing).into());
    }
    let statement = LayerStatement {
        sid: wire.statement_id.unwrap_or_default(),
        principal: wire.principal.unwrap_or_default(),
        organization: wire.organization_id,
    };
    let (statement, revision_id) = s.lambda.add_layer_permission(
        &caller,
        &name,
        version_number(&version)?,
        statement,
        wire.action.as_deref().unwrap_or_default(),
        query_one(&q, "RevisionId").as_deref(),
    )?;
    Ok(json_response(StatusCode::CREATED, &StatementOut { statement, revision_id }))
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct PolicyOut {
    policy: String,
    revision_id: String,
}

async fn get_layer_policy(
    State(s): State<ApiState>,
    Who(caller): Who,
    Path((name, version)): Path<(String, String)>,
) -> ApiResult {
    let (policy, revision_id) = s.lambda.get_layer_policy(&caller, &name, version_number(&version)?)?;
    Ok(json_response(StatusCode::OK, &PolicyOut { policy, revision_id }))
}

async fn remove_layer_permission(
    State(s): State<ApiState>,
    Who(caller): Who,
    Path((name, version, sid)): Path<(String, String, String)>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    s.lambda.remove_layer_permission(
        &caller,
        &name,
        version_number(&version)?,
        &sid,
        query_one(&q, "RevisionId").as_deref(),
    )?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `Content.Location`: a layer version's archive, through a link GetLayerVersion signed.
async fn download_layer(
    State(s): State<ApiState>,
    Path((account, region, name, version)): Path<(String, String, String, String)>,
    uri: axum::http::Uri,
) -> ApiResult {
    if let Err(refused) = s.code_urls.check(uri.path(), uri.query(), crate::lambda_rest::unix_now()) {
        return Ok(crate::lambda_rest::link_refused(refused));
    }
    let caller = Caller { account, region };
    let zip = s.lambda.layer_code(&caller, &name, version_number(&version)?)?;
    Ok(([("content-type", "application/zip")], zip).into_response())
}
