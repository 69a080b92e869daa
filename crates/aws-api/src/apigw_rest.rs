//! API Gateway's REST API control plane: REST APIs, resources, methods, integrations and
//! their responses, deployments, stages and authorizers; input trees into service calls,
//! results into output trees.

use apigateway::kinds::PassthroughBehavior;
use apigateway::rest::{
    Authorizer, AuthorizerType, Deployment, DeploymentInput, Draft, Integration, IntegrationResponse, IntegrationType,
    Method, MethodResponse, PutMode, Resource, RestApi, RestApiInput, Stage,
};
use apigateway::PatchOperation;
use serde_json::{json, Map, Value};

use crate::apigw_api::{none, ok, GwCall, GwReply};
use crate::apigw_common::{bool_map, boolean, integer, item_list, put as put_field, string, string_map, strings};
use crate::ApiState;

/// A List operation's paging and embedding parameters.
struct Paging {
    position: Option<String>,
    limit: Option<i64>,
    embed: Option<String>,
    deployment_id: Option<String>,
}

impl Paging {
    fn of(g: &GwCall) -> Paging {
        Paging {
            position: g.text("position"),
            limit: g.int("limit"),
            embed: g.input.get("embed").and_then(|e| e.get(0)).and_then(Value::as_str).map(str::to_owned),
            deployment_id: g.text("deploymentId"),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Wire shapes out.

fn rest_api_json(a: &RestApi) -> Value {
    let mut o = json!({
        "id": a.id,
        "name": a.name,
        "createdDate": a.created,
        "apiKeySource": a.api_key_source,
        "endpointConfiguration": {"types": a.endpoint_types, "ipAddressType": a.ip_address_type()},
        "disableExecuteApiEndpoint": a.disable_execute_api_endpoint,
        "rootResourceId": a.root_id,
    });
    put_field(&mut o, "description", json!(a.description));
    put_field(&mut o, "version", json!(a.version));
    put_field(&mut o, "binaryMediaTypes", json!(a.binary_media_types));
    put_field(&mut o, "minimumCompressionSize", json!(a.minimum_compression_size));
    put_field(&mut o, "policy", json!(a.policy));
    put_field(&mut o, "tags", json!(a.tags));
    if !a.vpc_endpoint_ids.is_empty() {
        o["endpointConfiguration"]["vpcEndpointIds"] = json!(a.vpc_endpoint_ids);
    }
    o
}

fn resource_json(r: &Resource, embed_methods: bool) -> Value {
    let mut o = json!({ "id": r.id, "path": r.path });
    put_field(&mut o, "parentId", json!(r.parent_id));
    if r.parent_id.is_some() {
        o["pathPart"] = json!(r.path_part);
    }
    let methods: Map<String, Value> = r
        .methods
        .iter()
        .map(|(k, m)| (k.clone(), if embed_methods { method_json(m, &r.id) } else { json!({}) }))
        .collect();
    put_field(&mut o, "resourceMethods", Value::Object(methods));
    o
}

fn method_json(m: &Method, resource_id: &str) -> Value {
    let mut o = json!({
        "httpMethod": m.http_method,
        "authorizationType": m.authorization_type,
        "apiKeyRequired": m.api_key_required,
    });
    put_field(&mut o, "authorizerId", json!(m.authorizer_id));
    put_field(&mut o, "operationName", json!(m.operation_name));
    put_field(&mut o, "requestValidatorId", json!(m.request_validator_id));
    put_field(&mut o, "requestParameters", json!(m.request_parameters));
    put_field(&mut o, "requestModels", json!(m.request_models));
    put_field(&mut o, "authorizationScopes", json!(m.authorization_scopes));
    let responses: Map<String, Value> = m.responses.iter().map(|(k, r)| (k.clone(), method_response_json(r))).collect();
    put_field(&mut o, "methodResponses", Value::Object(responses));
    if let Some(i) = &m.integration {
        o["methodIntegration"] = integration_json(i, resource_id);
    }
    o
}

fn method_response_json(r: &MethodResponse) -> Value {
    let mut o = json!({ "statusCode": r.status_code });
    put_field(&mut o, "responseParameters", json!(r.response_parameters));
    put_field(&mut o, "responseModels", json!(r.response_models));
    if r.given.0 && r.response_parameters.is_empty() {
        o["responseParameters"] = json!({});
    }
    if r.given.1 && r.response_models.is_empty() {
        o["responseModels"] = json!({});
    }
    o
}

fn integration_json(i: &Integration, resource_id: &str) -> Value {
    let mut o = json!({
        "type": i.kind,
        "passthroughBehavior": PassthroughBehavior::of(i.passthrough_behavior.as_deref()).as_str(),
        "timeoutInMillis": i.timeout_ms,
        "cacheNamespace": i.cache_namespace.as_deref().unwrap_or(resource_id),
        "cacheKeyParameters": i.cache_key_parameters,
    });
    // A mock integration connects to nothing: it shows a connection type only if given one.
    let connection = match i.kind {
        IntegrationType::Mock => i.connection_type.as_deref(),
        _ => Some(i.connection_type.as_deref().unwrap_or("INTERNET")),
    };
    put_field(&mut o, "connectionType", json!(connection));
    put_field(&mut o, "httpMethod", json!(i.http_method));
    put_field(&mut o, "uri", json!(i.uri));
    put_field(&mut o, "connectionId", json!(i.connection_id));
    put_field(&mut o, "credentials", json!(i.credentials));
    put_field(&mut o, "requestParameters", json!(i.request_parameters));
    put_field(&mut o, "requestTemplates", json!(i.request_templates));
    put_field(&mut o, "contentHandling", json!(i.content_handling));
    let responses: Map<String, Value> =
        i.responses.iter().map(|(k, r)| (k.clone(), integration_response_json(r))).collect();
    put_field(&mut o, "integrationResponses", Value::Object(responses));
    o
}

fn integration_response_json(r: &IntegrationResponse) -> Value {
    let mut o = json!({ "statusCode": r.status_code });
    put_field(&mut o, "selectionPattern", json!(r.selection_pattern));
    put_field(&mut o, "responseParameters", json!(r.response_parameters));
    // An empty template is no template: AWS shows it as null.
    let templates: Map<String, Value> = r
        .response_templates
        .iter()
        .map(|(k, v)| (k.clone(), if v.is_empty() { Value::Null } else { json!(v) }))
        .collect();
    put_field(&mut o, "responseTemplates", Value::Object(templates));
    put_field(&mut o, "contentHandling", json!(r.content_handling));
    o
}

fn deployment_json(d: &Deployment) -> Value {
    let mut o = json!({ "id": d.id, "createdDate": d.created });
    put_field(&mut o, "description", json!(d.description));
    o
}

fn stage_json(s: &Stage) -> Value {
    let settings: Map<String, Value> = s
        .method_settings
        .iter()
        .map(|(k, m)| {
            (
                k.clone(),
                json!({
                    "metricsEnabled": m.metrics_enabled,
                    "loggingLevel": m.logging_level,
                    "dataTraceEnabled": m.data_trace_enabled,
                    "throttlingBurstLimit": m.throttling_burst_limit,
                    "throttlingRateLimit": m.throttling_rate_limit,
                    "cachingEnabled": m.caching_enabled,
                    "cacheTtlInSeconds": m.cache_ttl_seconds,
                    "cacheDataEncrypted": m.cache_data_encrypted,
                    "requireAuthorizationForCacheControl": m.require_authorization_for_cache_control,
                    "unauthorizedCacheControlHeaderStrategy": m.unauthorized_cache_control_header_strategy,
                }),
            )
        })
        .collect();
    let mut o = json!({
        "deploymentId": s.deployment_id,
        "stageName": s.name,
        "cacheClusterEnabled": s.cache_cluster_enabled,
        "cacheClusterStatus": "NOT_AVAILABLE",
        "methodSettings": settings,
        "tracingEnabled": s.tracing_enabled,
        "createdDate": s.created,
        "lastUpdatedDate": s.last_updated,
    });
    put_field(&mut o, "description", json!(s.description));
    put_field(&mut o, "cacheClusterSize", json!(s.cache_cluster_size));
    put_field(&mut o, "variables", json!(s.variables));
    put_field(&mut o, "tags", json!(s.tags));
    if let Some(l) = &s.access_log {
        let mut log = json!({});
        put_field(&mut log, "destinationArn", json!(l.destination_arn));
        put_field(&mut log, "format", json!(l.format));
        o["accessLogSettings"] = log;
    }
    o
}

fn authorizer_json(a: &Authorizer) -> Value {
    let mut o = json!({ "id": a.id, "name": a.name, "type": a.kind, "authorizerResultTtlInSeconds": a.ttl_seconds });
    put_field(&mut o, "providerARNs", json!(a.provider_arns));
    put_field(&mut o, "authType", json!(a.auth_type));
    put_field(&mut o, "authorizerUri", json!(a.uri));
    put_field(&mut o, "authorizerCredentials", json!(a.credentials));
    put_field(&mut o, "identitySource", json!(a.identity_source));
    put_field(&mut o, "identityValidationExpression", json!(a.identity_validation_expression));
    o
}

pub(crate) fn items<T>(page: apigateway::rest::Page<T>, f: impl Fn(&T) -> Value) -> Value {
    let mut o = json!({ "items": page.items.iter().map(f).collect::<Vec<_>>() });
    put_field(&mut o, "position", json!(page.position));
    o
}

pub(crate) fn patch_operations(body: &Value) -> Vec<PatchOperation> {
    body.get("patchOperations")
        .and_then(Value::as_array)
        .map(|ops| {
            ops.iter()
                .map(|p| PatchOperation {
                    op: string(p, "op").unwrap_or_default(),
                    path: string(p, "path").unwrap_or_default(),
                    value: string(p, "value"),
                    from: string(p, "from"),
                })
                .collect()
        })
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------
// Handlers: parse, call the service, map.

/// An import's `mode` query parameter (`default` when absent).
pub(crate) fn put_mode(mode: Option<&str>, default: PutMode) -> Result<PutMode, apigateway::GatewayError> {
    match mode {
        None => Ok(default),
        Some("overwrite") => Ok(PutMode::Overwrite),
        Some("merge") => Ok(PutMode::Merge),
        Some(other) => Err(apigateway::GatewayError::BadRequest(format!(
            "Invalid mode: {other}. Valid values are merge, overwrite"
        ))),
    }
}

/// An import's parameters: `mode`, `failonwarnings`, and (ImportRestApi's `parameters`)
/// `endpointConfigurationTypes`.
pub(crate) struct ImportQuery {
    pub(crate) mode: Option<String>,
    pub(crate) failonwarnings: Option<bool>,
    endpoint_types: Option<String>,
}

impl ImportQuery {
    pub(crate) fn of(g: &GwCall) -> ImportQuery {
        let parameter = |k: &str| g.input.get("parameters").and_then(|p| p.get(k)).and_then(Value::as_str);
        ImportQuery {
            mode: g.text("mode"),
            failonwarnings: g.input.get("failOnWarnings").and_then(Value::as_bool),
            endpoint_types: parameter("endpointConfigurationTypes").map(str::to_owned),
        }
    }
}

/// ImportRestApi (`POST /restapis?mode=import`; the body is the definition).
pub(crate) fn import_rest_api(s: &ApiState, g: &GwCall) -> GwReply {
    let q = ImportQuery::of(g);
    let body = g.payload.clone().unwrap_or_default();
    let imported = s.gateway.import_rest_api(&g.caller, &body, q.failonwarnings.unwrap_or(false), q.endpoint_types);
    ok(imported, |a| rest_api_json(&a))
}

pub(crate) fn create_rest_api(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let b = &g.input;
    let endpoint = b.get("endpointConfiguration").cloned().unwrap_or(Value::Null);
    let input = RestApiInput {
        name: string(b, "name").unwrap_or_default(),
        description: string(b, "description"),
        version: string(b, "version"),
        binary_media_types: strings(b, "binaryMediaTypes"),
        minimum_compression_size: integer(b, "minimumCompressionSize"),
        api_key_source: string(b, "apiKeySource"),
        endpoint_types: endpoint.get("types").is_some().then(|| strings(&endpoint, "types")),
        ip_address_type: string(&endpoint, "ipAddressType"),
        vpc_endpoint_ids: strings(&endpoint, "vpcEndpointIds"),
        policy: string(b, "policy"),
        tags: string_map(b, "tags"),
        disable_execute_api_endpoint: boolean(b, "disableExecuteApiEndpoint").unwrap_or(false),
    };
    ok(s.gateway.create_rest_api(c, input), |a| rest_api_json(&a))
}

pub(crate) fn get_rest_apis(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let q = Paging::of(g);
    ok(s.gateway.rest_apis(c, q.position.as_deref(), q.limit), |p| items(p, rest_api_json))
}

pub(crate) fn get_rest_api(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let api = g.path(0);
    ok(s.gateway.rest_api(c, &api), |a| rest_api_json(&a))
}

pub(crate) fn update_rest_api(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let api = g.path(0);
    let b = &g.input;
    // UpdateRestApi's answer carries the tags even when there are none, as AWS's does.
    ok(s.gateway.update_rest_api(c, &api, &patch_operations(b)), |a| {
        let mut o = rest_api_json(&a);
        o["tags"] = json!(a.tags);
        o
    })
}

pub(crate) fn delete_rest_api(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let api = g.path(0);
    none(s.gateway.delete_rest_api(c, &api))
}

pub(crate) fn get_resources(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let api = g.path(0);
    let q = Paging::of(g);
    let embed = q.embed.as_deref() == Some("methods");
    ok(s.gateway.resources(c, &api, q.position.as_deref(), q.limit), |p| items(p, |r| resource_json(r, embed)))
}

pub(crate) fn get_resource(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, id) = (g.path(0), g.path(1));
    let q = Paging::of(g);
    let embed = q.embed.as_deref() == Some("methods");
    ok(s.gateway.resource(c, &api, &id), |r| resource_json(&r, embed))
}

pub(crate) fn create_resource(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, parent) = (g.path(0), g.path(1));
    let b = &g.input;
    let part = string(b, "pathPart").unwrap_or_default();
    ok(s.gateway.create_resource(c, &api, &parent, &part), |r| resource_json(&r, false))
}

pub(crate) fn delete_resource(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, id) = (g.path(0), g.path(1));
    none(s.gateway.delete_resource(c, &api, &id))
}

pub(crate) fn put_method(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, resource, method) = (g.path(0), g.path(1), g.path(2));
    let b = &g.input;
    let m = Method {
        http_method: method,
        authorizer_id: string(b, "authorizerId"),
        api_key_required: boolean(b, "apiKeyRequired").unwrap_or(false),
        operation_name: string(b, "operationName"),
        request_parameters: bool_map(b, "requestParameters"),
        request_models: string_map(b, "requestModels"),
        request_validator_id: string(b, "requestValidatorId"),
        authorization_scopes: strings(b, "authorizationScopes"),
        ..Default::default()
    };
    let m = Draft::new(string(b, "authorizationType").unwrap_or_default(), m);
    ok(s.gateway.put_method(c, &api, &resource, m), |m| method_json(&m, &resource))
}

/// TestInvokeMethod: the method run now, on the request described.
pub(crate) async fn test_invoke_method(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, resource, method) = (g.path(0), g.path(1), g.path(2));
    let b = &g.input;
    let multi = b.get("multiValueHeaders").and_then(Value::as_object).map(|o| {
        o.iter()
            .map(|(k, v)| {
                (k.clone(), v.as_array().into_iter().flatten().filter_map(|x| x.as_str().map(str::to_owned)).collect())
            })
            .collect()
    });
    let input = gateway::test_invoke::TestInvokeInput {
        path_with_query: string(b, "pathWithQueryString"),
        body: string(b, "body"),
        headers: string_map(b, "headers"),
        multi_value_headers: multi.unwrap_or_default(),
        stage_variables: string_map(b, "stageVariables"),
    };
    let r = s.plane.test_invoke_method(c, &api, &resource, &method, input).await;
    ok(r, |out| {
        let mut headers = Map::new();
        let mut multi: Map<String, Value> = Map::new();
        for (k, v) in &out.headers {
            headers.insert(k.clone(), json!(v));
            match multi.get_mut(k).and_then(Value::as_array_mut) {
                Some(list) => list.push(json!(v)),
                None => {
                    multi.insert(k.clone(), json!([v]));
                }
            }
        }
        json!({
            "status": out.status,
            "body": out.body,
            "headers": headers,
            "multiValueHeaders": multi,
            "log": out.log,
            "latency": out.latency_ms,
        })
    })
}

pub(crate) fn get_method(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, resource, method) = (g.path(0), g.path(1), g.path(2));
    ok(s.gateway.method(c, &api, &resource, &method), |m| method_json(&m, &resource))
}

pub(crate) fn delete_method(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, resource, method) = (g.path(0), g.path(1), g.path(2));
    none(s.gateway.delete_method(c, &api, &resource, &method))
}

pub(crate) fn put_integration(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, resource, method) = (g.path(0), g.path(1), g.path(2));
    let b = &g.input;
    let i = Integration {
        // The body's `httpMethod`: the integration's, not the method's.
        http_method: string(b, "integrationHttpMethod"),
        uri: string(b, "uri"),
        connection_type: string(b, "connectionType"),
        connection_id: string(b, "connectionId"),
        credentials: string(b, "credentials"),
        request_parameters: string_map(b, "requestParameters"),
        request_templates: string_map(b, "requestTemplates"),
        passthrough_behavior: string(b, "passthroughBehavior"),
        content_handling: string(b, "contentHandling"),
        timeout_ms: integer(b, "timeoutInMillis").map_or(0, |t| t.max(1) as u64),
        cache_namespace: string(b, "cacheNamespace"),
        cache_key_parameters: strings(b, "cacheKeyParameters"),
        ..Default::default()
    };
    let i = Draft::new(string(b, "type").unwrap_or_default(), i);
    ok(s.gateway.put_integration(c, &api, &resource, &method, i), |i| integration_json(&i, &resource))
}

pub(crate) fn get_integration(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, resource, method) = (g.path(0), g.path(1), g.path(2));
    ok(s.gateway.integration(c, &api, &resource, &method), |i| integration_json(&i, &resource))
}

pub(crate) fn delete_integration(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, resource, method) = (g.path(0), g.path(1), g.path(2));
    none(s.gateway.delete_integration(c, &api, &resource, &method))
}

pub(crate) fn put_method_response(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, resource, method, status) = (g.path(0), g.path(1), g.path(2), g.path(3));
    let b = &g.input;
    let r = MethodResponse {
        status_code: status,
        response_parameters: bool_map(b, "responseParameters"),
        response_models: string_map(b, "responseModels"),
        given: (
            b.get("responseParameters").is_some_and(Value::is_object),
            b.get("responseModels").is_some_and(Value::is_object),
        ),
    };
    ok(s.gateway.put_method_response(c, &api, &resource, &method, r), |r| method_response_json(&r))
}

pub(crate) fn update_resource(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, id) = (g.path(0), g.path(1));
    let b = &g.input;
    ok(s.gateway.update_resource(c, &api, &id, &patch_operations(b)), |r| resource_json(&r, false))
}

pub(crate) fn update_method(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, resource, method) = (g.path(0), g.path(1), g.path(2));
    let b = &g.input;
    let patch = patch_operations(b);
    ok(s.gateway.update_method(c, &api, &resource, &method, &patch), |m| method_json(&m, &resource))
}

/// UpdateMethodResponse answers 201, as AWS does.
pub(crate) fn update_method_response(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, resource, method, status) = (g.path(0), g.path(1), g.path(2), g.path(3));
    let b = &g.input;
    let patch = patch_operations(b);
    ok(s.gateway.update_method_response(c, &api, &resource, &method, &status, &patch), |r| method_response_json(&r))
}

pub(crate) fn update_integration(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, resource, method) = (g.path(0), g.path(1), g.path(2));
    let b = &g.input;
    let patch = patch_operations(b);
    ok(s.gateway.update_integration(c, &api, &resource, &method, &patch), |i| integration_json(&i, &resource))
}

pub(crate) fn update_integration_response(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, resource, method, status) = (g.path(0), g.path(1), g.path(2), g.path(3));
    let b = &g.input;
    let patch = patch_operations(b);
    ok(s.gateway.update_integration_response(c, &api, &resource, &method, &status, &patch), |r| {
        integration_response_json(&r)
    })
}

pub(crate) fn get_method_response(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, resource, method, status) = (g.path(0), g.path(1), g.path(2), g.path(3));
    ok(s.gateway.method_response(c, &api, &resource, &method, &status), |r| method_response_json(&r))
}

pub(crate) fn delete_method_response(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, resource, method, status) = (g.path(0), g.path(1), g.path(2), g.path(3));
    none(s.gateway.delete_method_response(c, &api, &resource, &method, &status))
}

pub(crate) fn put_integration_response(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, resource, method, status) = (g.path(0), g.path(1), g.path(2), g.path(3));
    let b = &g.input;
    let r = IntegrationResponse {
        status_code: status,
        selection_pattern: string(b, "selectionPattern"),
        response_parameters: string_map(b, "responseParameters"),
        // A template given as null is kept as none (empty text), as AWS keeps it.
        response_templates: b
            .get("responseTemplates")
            .and_then(Value::as_object)
            .map(|o| o.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned())).collect())
            .unwrap_or_default(),
        content_handling: string(b, "contentHandling"),
    };
    ok(s.gateway.put_integration_response(c, &api, &resource, &method, r), |r| integration_response_json(&r))
}

pub(crate) fn get_integration_response(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, resource, method, status) = (g.path(0), g.path(1), g.path(2), g.path(3));
    ok(s.gateway.integration_response(c, &api, &resource, &method, &status), |r| integration_response_json(&r))
}

pub(crate) fn delete_integration_response(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, resource, method, status) = (g.path(0), g.path(1), g.path(2), g.path(3));
    none(s.gateway.delete_integration_response(c, &api, &resource, &method, &status))
}

pub(crate) fn create_deployment(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let api = g.path(0);
    let b = &g.input;
    let input = DeploymentInput {
        stage_name: string(b, "stageName"),
        stage_description: string(b, "stageDescription"),
        description: string(b, "description"),
        variables: string_map(b, "variables"),
    };
    ok(s.gateway.create_deployment(c, &api, input), |d| deployment_json(&d))
}

pub(crate) fn get_deployments(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let api = g.path(0);
    let q = Paging::of(g);
    ok(s.gateway.deployments(c, &api, q.position.as_deref(), q.limit), |p| items(p, deployment_json))
}

pub(crate) fn get_deployment(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, id) = (g.path(0), g.path(1));
    ok(s.gateway.deployment(c, &api, &id), |d| deployment_json(&d))
}

pub(crate) fn update_deployment(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, id) = (g.path(0), g.path(1));
    ok(s.gateway.update_deployment(c, &api, &id, &patch_operations(&g.input)), |d| deployment_json(&d))
}

pub(crate) fn delete_deployment(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, id) = (g.path(0), g.path(1));
    none(s.gateway.delete_deployment(c, &api, &id))
}

pub(crate) fn create_stage(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let api = g.path(0);
    let b = &g.input;
    let stage = Stage {
        name: string(b, "stageName").unwrap_or_default(),
        deployment_id: string(b, "deploymentId").unwrap_or_default(),
        description: string(b, "description"),
        variables: string_map(b, "variables"),
        cache_cluster_enabled: boolean(b, "cacheClusterEnabled").unwrap_or(false),
        cache_cluster_size: string(b, "cacheClusterSize"),
        tracing_enabled: boolean(b, "tracingEnabled").unwrap_or(false),
        tags: string_map(b, "tags"),
        ..Default::default()
    };
    ok(s.gateway.create_stage(c, &api, stage), |s| stage_json(&s))
}

pub(crate) fn get_stages(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let api = g.path(0);
    let q = Paging::of(g);
    ok(
        s.gateway.stages(c, &api, q.deployment_id.as_deref()),
        |stages| json!({ "item": stages.iter().map(stage_json).collect::<Vec<_>>() }),
    )
}

pub(crate) fn get_stage(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, name) = (g.path(0), g.path(1));
    ok(s.gateway.stage(c, &api, &name), |s| stage_json(&s))
}

pub(crate) fn update_stage(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, name) = (g.path(0), g.path(1));
    let b = &g.input;
    ok(s.gateway.update_stage(c, &api, &name, &patch_operations(b)), |s| stage_json(&s))
}

pub(crate) fn delete_stage(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, name) = (g.path(0), g.path(1));
    none(s.gateway.delete_stage(c, &api, &name))
}

pub(crate) fn create_authorizer(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let api = g.path(0);
    let b = &g.input;
    let a = Authorizer {
        id: String::new(),
        name: string(b, "name").unwrap_or_default(),
        kind: AuthorizerType::default(),
        provider_arns: strings(b, "providerARNs"),
        auth_type: string(b, "authType"),
        uri: string(b, "authorizerUri"),
        credentials: string(b, "authorizerCredentials"),
        identity_source: string(b, "identitySource"),
        identity_validation_expression: string(b, "identityValidationExpression"),
        ttl_seconds: integer(b, "authorizerResultTtlInSeconds").unwrap_or(300),
    };
    let a = Draft::new(string(b, "type").unwrap_or_default(), a);
    ok(s.gateway.create_authorizer(c, &api, a), |a| authorizer_json(&a))
}

pub(crate) fn get_authorizers(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let api = g.path(0);
    ok(s.gateway.authorizers(c, &api), |list| item_list(&list, authorizer_json))
}

pub(crate) fn get_authorizer(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, id) = (g.path(0), g.path(1));
    ok(s.gateway.authorizer(c, &api, &id), |a| authorizer_json(&a))
}

pub(crate) fn update_authorizer(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, id) = (g.path(0), g.path(1));
    let b = &g.input;
    ok(s.gateway.update_authorizer(c, &api, &id, &patch_operations(b)), |a| authorizer_json(&a))
}

pub(crate) fn delete_authorizer(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, id) = (g.path(0), g.path(1));
    none(s.gateway.delete_authorizer(c, &api, &id))
}

/// PutRestApi: `?mode=overwrite` (the default) or `merge`.
pub(crate) fn put_rest_api(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let api = g.path(0);
    let q = ImportQuery::of(g);
    let body = g.payload.clone().unwrap_or_default();
    let mode = put_mode(q.mode.as_deref(), PutMode::Overwrite)?;
    let put = s.gateway.put_rest_api(c, &api, &body, mode, q.failonwarnings.unwrap_or(false));
    ok(put, |a| rest_api_json(&a))
}
