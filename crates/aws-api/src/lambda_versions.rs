//! Lambda's version, alias and provisioned-concurrency operations: input trees into
//! service calls, results into output trees.

use std::collections::BTreeMap;
use std::sync::Arc;

use lambda::ProvisionedView;
use model::{Alias, AliasDraft, Function};
use serde::{Deserialize, Serialize};

use crate::lambda_api::{done, out, Call, Reply};
use crate::lambda_rest::{configuration, last_modified, listed, FunctionConfigurationWire};
use crate::ApiState;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PublishVersionIn {
    code_sha256: Option<String>,
    description: Option<String>,
    revision_id: Option<String>,
}

pub(crate) fn publish_version(s: &ApiState, c: &Call) -> Reply {
    let wire: PublishVersionIn = c.body()?;
    let v = s.lambda.publish_version(
        &c.caller,
        &c.function(),
        wire.code_sha256.as_deref(),
        wire.description,
        wire.revision_id.as_deref(),
    )?;
    out(configuration(&v, Some(&v.version_label())))
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListVersionsOut {
    versions: Vec<FunctionConfigurationWire>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_marker: Option<String>,
}

pub(crate) fn list_versions(s: &ApiState, c: &Call) -> Reply {
    let page = s.lambda.list_versions(&c.caller, &c.function(), c.marker().as_deref(), c.max_items())?;
    out(ListVersionsOut {
        versions: page.versions.iter().map(|v| listed(v, Some(&v.version_label()))).collect(),
        next_marker: page.next_marker,
    })
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

pub(crate) fn create_alias(s: &ApiState, c: &Call) -> Reply {
    let mut wire: AliasIn = c.body()?;
    let alias_name = wire.name.take().ok_or_else(|| model::Invalid::from(model::Violation::null("name")))?;
    let (f, a) = s.lambda.create_alias(&c.caller, &c.function(), &alias_name, wire.draft())?;
    out(alias_out(&f, &a))
}

pub(crate) fn get_alias(s: &ApiState, c: &Call) -> Reply {
    let (f, a) = s.lambda.get_alias(&c.caller, &c.function(), &c.label("Name"))?;
    out(alias_out(&f, &a))
}

pub(crate) fn update_alias(s: &ApiState, c: &Call) -> Reply {
    let mut wire: AliasIn = c.body()?;
    // The alias is the path's; a `Name` member in the body means nothing here.
    wire.name = None;
    let revision = wire.revision_id.take();
    let (f, a) =
        s.lambda.update_alias(&c.caller, &c.function(), &c.label("Name"), wire.draft(), revision.as_deref())?;
    out(alias_out(&f, &a))
}

pub(crate) fn delete_alias(s: &ApiState, c: &Call) -> Reply {
    s.lambda.delete_alias(&c.caller, &c.function(), &c.label("Name"))?;
    done()
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListAliasesOut {
    aliases: Vec<AliasOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_marker: Option<String>,
}

pub(crate) fn list_aliases(s: &ApiState, c: &Call) -> Reply {
    let page = s.lambda.list_aliases(
        &c.caller,
        &c.function(),
        c.text("FunctionVersion").as_deref(),
        c.marker().as_deref(),
        c.max_items(),
    )?;
    let f: &Arc<Function> = &page.function;
    out(ListAliasesOut {
        aliases: page.aliases.iter().map(|a| alias_out(f, a)).collect(),
        next_marker: page.next_marker,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ProvisionedIn {
    provisioned_concurrent_executions: Option<i64>,
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

pub(crate) fn put_provisioned(s: &ApiState, c: &Call) -> Reply {
    let wire: ProvisionedIn = c.body()?;
    let v = s.lambda.put_provisioned(
        &c.caller,
        &c.function(),
        c.qualifier().as_deref(),
        wire.provisioned_concurrent_executions,
    )?;
    out(provisioned_out(v, false))
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListProvisionedOut {
    provisioned_concurrency_configs: Vec<ProvisionedOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_marker: Option<String>,
}

pub(crate) fn list_provisioned(s: &ApiState, c: &Call) -> Reply {
    let (views, next_marker) =
        s.lambda.list_provisioned(&c.caller, &c.function(), c.marker().as_deref(), c.max_items())?;
    out(ListProvisionedOut {
        provisioned_concurrency_configs: views.into_iter().map(|v| provisioned_out(v, true)).collect(),
        next_marker,
    })
}

pub(crate) fn get_provisioned(s: &ApiState, c: &Call) -> Reply {
    let v = s.lambda.get_provisioned(&c.caller, &c.function(), c.qualifier().as_deref())?;
    out(provisioned_out(v, false))
}

pub(crate) fn delete_provisioned(s: &ApiState, c: &Call) -> Reply {
    s.lambda.delete_provisioned(&c.caller, &c.function(), c.qualifier().as_deref())?;
    done()
}
