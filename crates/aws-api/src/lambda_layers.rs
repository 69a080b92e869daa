//! Lambda's layer operations: input trees into service calls, results into output trees;
//! and the archive links GetLayerVersion answers.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use lambda::{Caller, LambdaError, LayerFilter};
use model::{Invalid, LayerDraft, LayerStatement, LayerVersion, Violation};
use serde::{Deserialize, Serialize};

use crate::lambda_api::{done, out, Call, Reply};
use crate::lambda_rest::{code_source, last_modified};
use crate::ApiState;

/// A `VersionNumber` path member.
fn version_number(text: &str) -> Result<i64, LambdaError> {
    text.parse::<i64>().map_err(|_| {
        LambdaError::InvalidRequestContent(format!("Could not parse request: VersionNumber '{text}' is not a number"))
    })
}

/// The call's `VersionNumber` label.
fn version_of(c: &Call) -> i64 {
    c.int("VersionNumber").unwrap_or_default()
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct ContentIn {
    zip_file: Option<String>,
    #[serde(rename = "S3Bucket")]
    s3_bucket: Option<String>,
    #[serde(rename = "S3Key")]
    s3_key: Option<String>,
    #[serde(rename = "S3ObjectVersion")]
    s3_object_version: Option<String>,
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

/// Where `Content.Location` links to: the version's archive, for `caller`'s account, on
/// the host the request came to.
struct Link<'a> {
    host: &'a str,
    urls: &'a crate::CodeUrls,
    caller: &'a str,
}

impl<'a> Link<'a> {
    fn new(s: &'a ApiState, c: &'a Call) -> Link<'a> {
        Link { host: &c.host, urls: &s.code_urls, caller: &c.caller.account }
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

pub(crate) fn publish_layer_version(s: &ApiState, c: &Call) -> Reply {
    let wire: PublishLayerIn = c.body()?;
    let content = wire.content.ok_or_else(|| Invalid::from(Violation::null("content")))?;
    let draft = LayerDraft {
        description: wire.description,
        license: wire.license_info,
        runtimes: wire.compatible_runtimes,
        architectures: wire.compatible_architectures,
    };
    let s3 = crate::lambda_rest::s3_location(content.s3_bucket, content.s3_key, content.s3_object_version);
    let source = code_source(content.zip_file, s3, None)?;
    let v = s.lambda.publish_layer_version(&c.caller, &c.label("LayerName"), source, draft)?;
    out(layer_out(v, Some(Link::new(s, c))))
}

pub(crate) fn get_layer_version(s: &ApiState, c: &Call) -> Reply {
    let v = s.lambda.get_layer_version(&c.caller, &c.label("LayerName"), version_of(c))?;
    out(layer_out(v, Some(Link::new(s, c))))
}

pub(crate) fn delete_layer_version(s: &ApiState, c: &Call) -> Reply {
    s.lambda.delete_layer_version(&c.caller, &c.label("LayerName"), version_of(c))?;
    done()
}

fn filter(c: &Call) -> LayerFilter {
    LayerFilter { runtime: c.text("CompatibleRuntime"), architecture: c.text("CompatibleArchitecture") }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListLayerVersionsOut {
    layer_versions: Vec<LayerVersionOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_marker: Option<String>,
}

pub(crate) fn list_layer_versions(s: &ApiState, c: &Call) -> Reply {
    let page = s.lambda.list_layer_versions(
        &c.caller,
        &c.label("LayerName"),
        filter(c),
        c.marker().as_deref(),
        c.max_items(),
    )?;
    out(ListLayerVersionsOut {
        layer_versions: page.versions.into_iter().map(|v| layer_out(v, None)).collect(),
        next_marker: page.next_marker,
    })
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

pub(crate) fn get_layer_version_by_arn(s: &ApiState, c: &Call) -> Reply {
    let arn = c.text("Arn").ok_or_else(|| Invalid::from(Violation::null("arn")))?;
    let v = s.lambda.get_layer_version_by_arn(&c.caller, &arn)?;
    out(layer_out(v, Some(Link::new(s, c))))
}

pub(crate) fn list_layers(s: &ApiState, c: &Call) -> Reply {
    let page = s.lambda.list_layers(&c.caller, filter(c), c.marker().as_deref(), c.max_items())?;
    out(ListLayersOut {
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
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AddPermissionIn {
    statement_id: Option<String>,
    action: Option<String>,
    principal: Option<String>,
    organization_id: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct StatementOut {
    statement: String,
    revision_id: String,
}

pub(crate) fn add_layer_permission(s: &ApiState, c: &Call) -> Reply {
    let wire: AddPermissionIn = c.body()?;
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
        &c.caller,
        &c.label("LayerName"),
        version_of(c),
        statement,
        wire.action.as_deref().unwrap_or_default(),
        c.text("RevisionId").as_deref(),
    )?;
    out(StatementOut { statement, revision_id })
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct PolicyOut {
    policy: String,
    revision_id: String,
}

pub(crate) fn get_layer_policy(s: &ApiState, c: &Call) -> Reply {
    let (policy, revision_id) = s.lambda.get_layer_policy(&c.caller, &c.label("LayerName"), version_of(c))?;
    out(PolicyOut { policy, revision_id })
}

pub(crate) fn remove_layer_permission(s: &ApiState, c: &Call) -> Reply {
    s.lambda.remove_layer_permission(
        &c.caller,
        &c.label("LayerName"),
        version_of(c),
        &c.label("StatementId"),
        c.text("RevisionId").as_deref(),
    )?;
    done()
}

/// `Content.Location`: a layer version's archive, through a link GetLayerVersion signed.
pub(crate) async fn download_layer(
    State(s): State<ApiState>,
    Path((account, region, name, version)): Path<(String, String, String, String)>,
    uri: axum::http::Uri,
) -> Response {
    if let Err(refused) = s.code_urls.check(uri.path(), uri.query(), crate::lambda_rest::unix_now()) {
        return crate::lambda_rest::link_refused(refused);
    }
    let caller = Caller { account, region };
    match version_number(&version).and_then(|v| s.lambda.layer_code(&caller, &name, v)) {
        Ok(zip) => ([("content-type", "application/zip")], zip).into_response(),
        Err(e) => crate::lambda_rest::error_response(e),
    }
}
