//! Per-API snapshots of what the data plane serves: each stage's settings and the
//! deployment it points at, shared behind an `Arc` by every request until the API changes.

use super::*;

/// What the data plane serves of one API, built from its configuration on the first
/// request after a change and shared by every request until the next change: no request
/// copies a stage's settings.
pub(crate) enum ApiSnapshot {
    /// A REST API's stages that point at a deployment.
    Rest { disabled: bool, stages: HashMap<String, Arc<RestTarget>> },
    /// An HTTP API's stages (`None` for one without a deployment).
    Http { disabled: bool, stages: HashMap<String, Option<Arc<HttpTarget>>> },
    /// A WebSocket API (served through its connections).
    WebSocket { disabled: bool },
}

pub(super) fn rest_snapshot(api: &apigateway::rest::RestApi) -> ApiSnapshot {
    let stages = api
        .stages
        .values()
        .filter_map(|stage| {
            let d = api.deployments.get(&stage.deployment_id)?;
            let target = RestTarget {
                access_log: stage.access_log.clone(),
                api_id: api.id.clone(),
                account: api.account.clone(),
                region: api.region.clone(),
                binary_media_types: api.binary_media_types.clone(),
                api_key_source: api.api_key_source.clone(),
                stage: stage.name.clone(),
                variables: stage.variables.clone(),
                method_settings: stage.method_settings.clone(),
                resources: d.resources.clone(),
                authorizers: d.authorizers.clone(),
                gateway_responses: d.gateway_responses.clone(),
            };
            Some((stage.name.clone(), Arc::new(target)))
        })
        .collect();
    ApiSnapshot::Rest { disabled: api.disable_execute_api_endpoint, stages }
}

pub(super) fn http_snapshot(api: &apigateway::v2::HttpApi) -> ApiSnapshot {
    if api.protocol_type == apigateway::v2::ProtocolType::WebSocket {
        return ApiSnapshot::WebSocket { disabled: api.disable_execute_api_endpoint };
    }
    let stages = api
        .stages
        .values()
        .map(|stage| {
            let target = stage.deployment_id.as_ref().and_then(|d| api.deployments.get(d)).map(|d| {
                Arc::new(HttpTarget {
                    access_log: stage.access_log.clone(),
                    api_id: api.id.clone(),
                    account: api.account.clone(),
                    region: api.region.clone(),
                    default_route_settings: stage.default_route_settings.clone(),
                    route_settings: stage.route_settings.clone(),
                    stage: stage.name.clone(),
                    variables: stage.variables.clone(),
                    snapshot: d.snapshot.clone(),
                })
            });
            (stage.name.clone(), target)
        })
        .collect();
    ApiSnapshot::Http { disabled: api.disable_execute_api_endpoint, stages }
}
