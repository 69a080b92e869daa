//! API Gateway v2's control plane (HTTP and WebSocket APIs): input in its wire form into
//! service calls, results into output in its wire form (`apigw_api` converts both from and
//! to the model's trees).

use std::collections::BTreeMap;

use apigateway::v2::{
    ApiInput, AuthorizerInput, Cors, HttpApi, HttpAuthorizer, HttpDeployment, HttpIntegration, HttpStage,
    IntegrationInput, Route, RouteInput, RouteResponse, RouteSettings, StageInput, WsIntegrationResponse,
};
use serde_json::{json, Map, Value};

use crate::apigw_api::{none, ok, GwCall, GwReply};
use crate::apigw_common::{boolean, integer, iso8601, put, string, string_map, strings};
use crate::ApiState;

// ---------------------------------------------------------------------------------------
// Wire shapes.

fn cors_json(c: &Cors) -> Value {
    let mut o = json!({});
    put(&mut o, "allowCredentials", json!(c.allow_credentials));
    put(&mut o, "allowHeaders", json!(c.allow_headers));
    put(&mut o, "allowMethods", json!(c.allow_methods));
    put(&mut o, "allowOrigins", json!(c.allow_origins));
    put(&mut o, "exposeHeaders", json!(c.expose_headers));
    put(&mut o, "maxAge", json!(c.max_age));
    o
}

fn cors_of(v: &Value) -> Option<Cors> {
    let c = v.get("corsConfiguration")?;
    Some(Cors {
        allow_credentials: boolean(c, "allowCredentials"),
        allow_headers: strings(c, "allowHeaders"),
        allow_methods: strings(c, "allowMethods"),
        allow_origins: strings(c, "allowOrigins"),
        expose_headers: strings(c, "exposeHeaders"),
        max_age: integer(c, "maxAge"),
    })
}

fn api_json(a: &HttpApi, endpoint: String) -> Value {
    let mut o = json!({
        "apiId": a.id,
        "name": a.name,
        "protocolType": a.protocol_type.as_str(),
        "routeSelectionExpression": a.route_selection_expression,
        "apiKeySelectionExpression": a.api_key_selection_expression,
        "apiEndpoint": endpoint,
        "createdDate": iso8601(a.created_ms),
        "disableExecuteApiEndpoint": a.disable_execute_api_endpoint,
        "disableSchemaValidation": a.disable_schema_validation,
        "ipAddressType": "ipv4",
        "tags": a.tags,
    });
    put(&mut o, "description", json!(a.description));
    put(&mut o, "version", json!(a.version));
    if a.managed {
        o["apiGatewayManaged"] = json!(true);
    }
    if let Some(c) = &a.cors {
        o["corsConfiguration"] = cors_json(c);
    }
    o
}

fn route_json(r: &Route) -> Value {
    let mut o = json!({
        "routeId": r.id,
        "routeKey": r.route_key,
        "authorizationType": r.authorization_type,
        "apiKeyRequired": r.api_key_required,
    });
    put(&mut o, "authorizerId", json!(r.authorizer_id));
    put(&mut o, "authorizationScopes", json!(r.authorization_scopes));
    put(&mut o, "operationName", json!(r.operation_name));
    put(&mut o, "target", json!(r.target));
    put(&mut o, "routeResponseSelectionExpression", json!(r.route_response_selection_expression));
    if r.managed {
        o["apiGatewayManaged"] = json!(true);
    }
    o
}

fn integration_json(i: &HttpIntegration) -> Value {
    let mut o = json!({
        "integrationId": i.id,
        "integrationType": i.integration_type,
        "payloadFormatVersion": i.payload_format_version,
        "timeoutInMillis": i.timeout_ms,
        "connectionType": i.connection_type,
    });
    put(&mut o, "integrationUri", json!(i.uri));
    put(&mut o, "integrationMethod", json!(i.method));
    put(&mut o, "integrationSubtype", json!(i.subtype));
    put(&mut o, "credentialsArn", json!(i.credentials_arn));
    put(&mut o, "description", json!(i.description));
    put(&mut o, "requestParameters", json!(i.request_parameters));
    put(&mut o, "requestTemplates", json!(i.request_templates));
    put(&mut o, "templateSelectionExpression", json!(i.template_selection_expression));
    put(&mut o, "passthroughBehavior", json!(i.passthrough_behavior));
    put(&mut o, "contentHandlingStrategy", json!(i.content_handling_strategy));
    put(&mut o, "integrationResponseSelectionExpression", json!(i.integration_response_selection_expression));
    if i.managed {
        o["apiGatewayManaged"] = json!(true);
    }
    o
}

fn settings_json(r: &RouteSettings) -> Value {
    let mut o = json!({ "detailedMetricsEnabled": r.detailed_metrics_enabled.unwrap_or(false) });
    put(&mut o, "throttlingBurstLimit", json!(r.throttling_burst_limit));
    put(&mut o, "throttlingRateLimit", json!(r.throttling_rate_limit));
    put(&mut o, "loggingLevel", json!(r.logging_level));
    put(&mut o, "dataTraceEnabled", json!(r.data_trace_enabled));
    o
}

fn settings_of(v: &Value) -> RouteSettings {
    RouteSettings {
        throttling_burst_limit: integer(v, "throttlingBurstLimit"),
        throttling_rate_limit: v.get("throttlingRateLimit").and_then(Value::as_f64),
        detailed_metrics_enabled: boolean(v, "detailedMetricsEnabled"),
        logging_level: string(v, "loggingLevel"),
        data_trace_enabled: boolean(v, "dataTraceEnabled"),
    }
}

fn stage_json(s: &HttpStage) -> Value {
    let routes: Map<String, Value> = s.route_settings.iter().map(|(k, r)| (k.clone(), settings_json(r))).collect();
    let mut o = json!({
        "stageName": s.name,
        "autoDeploy": s.auto_deploy,
        "defaultRouteSettings": settings_json(&s.default_route_settings),
        "routeSettings": routes,
        "stageVariables": s.variables,
        "createdDate": iso8601(s.created_ms),
        "lastUpdatedDate": iso8601(s.last_updated_ms),
        "tags": s.tags,
    });
    put(&mut o, "deploymentId", json!(s.deployment_id));
    put(&mut o, "description", json!(s.description));
    if s.managed {
        o["apiGatewayManaged"] = json!(true);
    }
    if let Some(l) = &s.access_log {
        let mut log = json!({});
        put(&mut log, "destinationArn", json!(l.destination_arn));
        put(&mut log, "format", json!(l.format));
        o["accessLogSettings"] = log;
    }
    o
}

fn deployment_json(d: &HttpDeployment) -> Value {
    let mut o = json!({
        "deploymentId": d.id,
        "deploymentStatus": "DEPLOYED",
        "createdDate": iso8601(d.created_ms),
        "autoDeployed": d.auto_deployed,
    });
    put(&mut o, "description", json!(d.description));
    o
}

fn authorizer_json(a: &HttpAuthorizer) -> Value {
    let mut o = json!({
        "authorizerId": a.id,
        "name": a.name,
        "authorizerType": a.authorizer_type,
        "identitySource": a.identity_source,
    });
    if a.authorizer_type == apigateway::v2::AuthorizerType::Jwt {
        o["jwtConfiguration"] = json!({ "audience": a.jwt_audience, "issuer": a.jwt_issuer });
    } else {
        o["authorizerResultTtlInSeconds"] = json!(a.ttl_seconds);
        o["enableSimpleResponses"] = json!(a.simple_responses);
    }
    put(&mut o, "authorizerUri", json!(a.uri));
    put(&mut o, "authorizerPayloadFormatVersion", json!(a.payload_format_version));
    put(&mut o, "authorizerCredentialsArn", json!(a.credentials_arn));
    o
}

fn authorizer_input(b: &Value) -> AuthorizerInput {
    let jwt = b.get("jwtConfiguration");
    AuthorizerInput {
        name: string(b, "name"),
        authorizer_type: string(b, "authorizerType"),
        identity_source: b.get("identitySource").map(|_| strings(b, "identitySource")),
        jwt_issuer: jwt.and_then(|j| string(j, "issuer")),
        jwt_audience: jwt.and_then(|j| j.get("audience")).map(|_| strings(jwt.unwrap_or(&Value::Null), "audience")),
        uri: string(b, "authorizerUri"),
        payload_format_version: string(b, "authorizerPayloadFormatVersion"),
        simple_responses: boolean(b, "enableSimpleResponses"),
        ttl_seconds: integer(b, "authorizerResultTtlInSeconds"),
        credentials_arn: string(b, "authorizerCredentialsArn"),
    }
}

fn items<T>(list: Vec<T>, f: impl Fn(&T) -> Value) -> Value {
    json!({ "items": list.iter().map(f).collect::<Vec<_>>() })
}

fn api_input(b: &Value) -> ApiInput {
    ApiInput {
        name: string(b, "name"),
        protocol_type: string(b, "protocolType"),
        description: string(b, "description"),
        version: string(b, "version"),
        route_selection_expression: string(b, "routeSelectionExpression"),
        api_key_selection_expression: string(b, "apiKeySelectionExpression"),
        cors: cors_of(b),
        disable_execute_api_endpoint: boolean(b, "disableExecuteApiEndpoint"),
        disable_schema_validation: boolean(b, "disableSchemaValidation"),
        tags: string_map(b, "tags"),
        target: string(b, "target"),
        route_key: string(b, "routeKey"),
        credentials_arn: string(b, "credentialsArn"),
    }
}

fn route_input(b: &Value) -> RouteInput {
    RouteInput {
        route_key: string(b, "routeKey"),
        authorization_type: string(b, "authorizationType"),
        authorizer_id: string(b, "authorizerId"),
        authorization_scopes: b.get("authorizationScopes").map(|_| strings(b, "authorizationScopes")),
        api_key_required: boolean(b, "apiKeyRequired"),
        operation_name: string(b, "operationName"),
        target: string(b, "target"),
        route_response_selection_expression: string(b, "routeResponseSelectionExpression"),
    }
}

fn integration_input(b: &Value) -> IntegrationInput {
    IntegrationInput {
        integration_type: string(b, "integrationType"),
        uri: string(b, "integrationUri"),
        method: string(b, "integrationMethod"),
        subtype: string(b, "integrationSubtype"),
        payload_format_version: string(b, "payloadFormatVersion"),
        timeout_ms: integer(b, "timeoutInMillis"),
        connection_type: string(b, "connectionType"),
        credentials_arn: string(b, "credentialsArn"),
        description: string(b, "description"),
        request_parameters: b.get("requestParameters").map(|_| string_map(b, "requestParameters")),
        request_templates: b.get("requestTemplates").map(|_| string_map(b, "requestTemplates")),
        template_selection_expression: string(b, "templateSelectionExpression"),
        passthrough_behavior: string(b, "passthroughBehavior"),
        content_handling_strategy: string(b, "contentHandlingStrategy"),
        integration_response_selection_expression: string(b, "integrationResponseSelectionExpression"),
    }
}

fn stage_input(b: &Value) -> StageInput {
    let route_settings = b
        .get("routeSettings")
        .and_then(Value::as_object)
        .map(|o| o.iter().map(|(k, v)| (k.clone(), settings_of(v))).collect::<BTreeMap<_, _>>());
    let access_log = b.get("accessLogSettings").map(|l| apigateway::rest::AccessLog {
        destination_arn: string(l, "destinationArn"),
        format: string(l, "format"),
    });
    StageInput {
        name: string(b, "stageName"),
        deployment_id: string(b, "deploymentId"),
        auto_deploy: boolean(b, "autoDeploy"),
        description: string(b, "description"),
        variables: b.get("stageVariables").map(|_| string_map(b, "stageVariables")),
        default_route_settings: b.get("defaultRouteSettings").map(settings_of),
        route_settings,
        access_log,
        tags: string_map(b, "tags"),
    }
}

// ---------------------------------------------------------------------------------------
// Handlers.

pub(crate) fn create_api(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let b = &g.input;
    let gw = s.gateway.clone();
    ok(s.gateway.create_api(c, api_input(b)), |a| api_json(&a, endpoint(&gw, &a.id)))
}

fn endpoint(g: &apigateway::GatewayService, id: &str) -> String {
    format!("http://{}", g.api_host(id))
}

pub(crate) fn import_api(s: &ApiState, g: &GwCall) -> GwReply {
    let body = string(&g.input, "body").unwrap_or_default();
    let gw = s.gateway.clone();
    ok(s.gateway.import_api(&g.caller, &body), |a| api_json(&a, endpoint(&gw, &a.id)))
}

pub(crate) fn reimport_api(s: &ApiState, g: &GwCall) -> GwReply {
    let body = string(&g.input, "body").unwrap_or_default();
    let gw = s.gateway.clone();
    ok(s.gateway.reimport_api(&g.caller, &g.path(0), &body), |a| api_json(&a, endpoint(&gw, &a.id)))
}

pub(crate) fn get_apis(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let gw = s.gateway.clone();
    ok(Ok(s.gateway.apis(c)), |apis| items(apis, |a| api_json(a, endpoint(&gw, &a.id))))
}

pub(crate) fn get_api(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let api = g.path(0);
    let gw = s.gateway.clone();
    ok(s.gateway.api(c, &api), |a| api_json(&a, endpoint(&gw, &a.id)))
}

pub(crate) fn update_api(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let api = g.path(0);
    let b = &g.input;
    let gw = s.gateway.clone();
    ok(s.gateway.update_api(c, &api, api_input(b)), |a| api_json(&a, endpoint(&gw, &a.id)))
}

pub(crate) fn delete_api(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let api = g.path(0);
    none(s.gateway.delete_api(c, &api))
}

pub(crate) fn delete_cors(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let api = g.path(0);
    none(s.gateway.delete_cors(c, &api))
}

pub(crate) fn create_route(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let api = g.path(0);
    let b = &g.input;
    ok(s.gateway.create_route(c, &api, route_input(b)), |r| route_json(&r))
}

pub(crate) fn get_routes(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let api = g.path(0);
    ok(s.gateway.routes(c, &api), |r| items(r, route_json))
}

pub(crate) fn get_route(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, id) = (g.path(0), g.path(1));
    ok(s.gateway.route(c, &api, &id), |r| route_json(&r))
}

pub(crate) fn update_route(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, id) = (g.path(0), g.path(1));
    let b = &g.input;
    ok(s.gateway.update_route(c, &api, &id, route_input(b)), |r| route_json(&r))
}

pub(crate) fn delete_route(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, id) = (g.path(0), g.path(1));
    none(s.gateway.delete_route(c, &api, &id))
}

pub(crate) fn create_integration(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let api = g.path(0);
    let b = &g.input;
    ok(s.gateway.create_integration(c, &api, integration_input(b)), |i| integration_json(&i))
}

pub(crate) fn get_integrations(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let api = g.path(0);
    ok(s.gateway.integrations_v2(c, &api), |i| items(i, integration_json))
}

pub(crate) fn get_integration(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, id) = (g.path(0), g.path(1));
    ok(s.gateway.integration_v2(c, &api, &id), |i| integration_json(&i))
}

pub(crate) fn update_integration(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, id) = (g.path(0), g.path(1));
    let b = &g.input;
    ok(s.gateway.update_integration_v2(c, &api, &id, integration_input(b)), |i| integration_json(&i))
}

pub(crate) fn delete_integration(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, id) = (g.path(0), g.path(1));
    none(s.gateway.delete_integration_v2(c, &api, &id))
}

pub(crate) fn create_stage(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let api = g.path(0);
    let b = &g.input;
    ok(s.gateway.create_stage_v2(c, &api, stage_input(b)), |s| stage_json(&s))
}

pub(crate) fn get_stages(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let api = g.path(0);
    ok(s.gateway.stages_v2(c, &api), |st| items(st, stage_json))
}

pub(crate) fn get_stage(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, name) = (g.path(0), g.path(1));
    ok(s.gateway.stage_v2(c, &api, &name), |s| stage_json(&s))
}

pub(crate) fn update_stage(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, name) = (g.path(0), g.path(1));
    let b = &g.input;
    ok(s.gateway.update_stage_v2(c, &api, &name, stage_input(b)), |s| stage_json(&s))
}

pub(crate) fn delete_stage(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, name) = (g.path(0), g.path(1));
    none(s.gateway.delete_stage_v2(c, &api, &name))
}

pub(crate) fn create_deployment(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let api = g.path(0);
    let b = &g.input;
    ok(s.gateway.create_deployment_v2(c, &api, string(b, "description"), string(b, "stageName")), |d| {
        deployment_json(&d)
    })
}

pub(crate) fn get_deployments(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let api = g.path(0);
    ok(s.gateway.deployments_v2(c, &api), |d| items(d, deployment_json))
}

pub(crate) fn get_deployment(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, id) = (g.path(0), g.path(1));
    ok(s.gateway.deployment_v2(c, &api, &id), |d| deployment_json(&d))
}

pub(crate) fn delete_deployment(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, id) = (g.path(0), g.path(1));
    none(s.gateway.delete_deployment_v2(c, &api, &id))
}

pub(crate) fn create_authorizer(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let api = g.path(0);
    let b = &g.input;
    ok(s.gateway.create_authorizer_v2(c, &api, authorizer_input(b)), |a| authorizer_json(&a))
}

pub(crate) fn get_authorizers(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let api = g.path(0);
    ok(s.gateway.authorizers_v2(c, &api), |a| items(a, authorizer_json))
}

pub(crate) fn get_authorizer(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, id) = (g.path(0), g.path(1));
    ok(s.gateway.authorizer_v2(c, &api, &id), |a| authorizer_json(&a))
}

pub(crate) fn update_authorizer(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, id) = (g.path(0), g.path(1));
    let b = &g.input;
    ok(s.gateway.update_authorizer_v2(c, &api, &id, authorizer_input(b)), |a| authorizer_json(&a))
}

pub(crate) fn delete_authorizer(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, id) = (g.path(0), g.path(1));
    none(s.gateway.delete_authorizer_v2(c, &api, &id))
}

fn route_response_json(r: &RouteResponse) -> Value {
    let mut o = json!({ "routeResponseId": r.id, "routeResponseKey": r.key });
    put(&mut o, "modelSelectionExpression", json!(r.model_selection_expression));
    put(&mut o, "responseModels", json!(r.response_models));
    o
}

pub(crate) fn create_route_response(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, route) = (g.path(0), g.path(1));
    let b = &g.input;
    let r = RouteResponse {
        id: String::new(),
        key: string(b, "routeResponseKey").unwrap_or_default(),
        model_selection_expression: string(b, "modelSelectionExpression"),
        response_models: string_map(b, "responseModels"),
    };
    ok(s.gateway.create_route_response(c, &api, &route, r), |r| route_response_json(&r))
}

pub(crate) fn get_route_responses(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, route) = (g.path(0), g.path(1));
    ok(s.gateway.route_responses(c, &api, &route), |r| items(r, route_response_json))
}

pub(crate) fn get_route_response(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, route, id) = (g.path(0), g.path(1), g.path(2));
    ok(s.gateway.route_response(c, &api, &route, &id), |r| route_response_json(&r))
}

pub(crate) fn delete_route_response(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, route, id) = (g.path(0), g.path(1), g.path(2));
    none(s.gateway.delete_route_response(c, &api, &route, &id))
}

fn integration_response_json(r: &WsIntegrationResponse) -> Value {
    let mut o = json!({ "integrationResponseId": r.id, "integrationResponseKey": r.key });
    put(&mut o, "responseTemplates", json!(r.response_templates));
    put(&mut o, "templateSelectionExpression", json!(r.template_selection_expression));
    put(&mut o, "contentHandlingStrategy", json!(r.content_handling_strategy));
    put(&mut o, "responseParameters", json!(r.response_parameters));
    o
}

/// The members of an integration response a request sets.
fn apply_integration_response(r: &mut WsIntegrationResponse, b: &Value) {
    if let Some(k) = string(b, "integrationResponseKey") {
        r.key = k;
    }
    if b.get("responseTemplates").is_some() {
        r.response_templates = string_map(b, "responseTemplates");
    }
    if let Some(t) = string(b, "templateSelectionExpression") {
        r.template_selection_expression = Some(t);
    }
    if let Some(c) = string(b, "contentHandlingStrategy") {
        r.content_handling_strategy = Some(c);
    }
    if b.get("responseParameters").is_some() {
        r.response_parameters = string_map(b, "responseParameters");
    }
}

pub(crate) fn create_integration_response(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, integration) = (g.path(0), g.path(1));
    let b = &g.input;
    let mut r = WsIntegrationResponse::default();
    apply_integration_response(&mut r, b);
    ok(s.gateway.create_integration_response_v2(c, &api, &integration, r), |r| integration_response_json(&r))
}

pub(crate) fn get_integration_responses(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, integration) = (g.path(0), g.path(1));
    ok(s.gateway.integration_responses_v2(c, &api, &integration), |r| items(r, integration_response_json))
}

pub(crate) fn get_integration_response(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, integration, id) = (g.path(0), g.path(1), g.path(2));
    ok(s.gateway.integration_response_v2(c, &api, &integration, &id), |r| integration_response_json(&r))
}

pub(crate) fn update_integration_response(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, integration, id) = (g.path(0), g.path(1), g.path(2));
    let b = &g.input;
    let updated =
        s.gateway.update_integration_response_v2(c, &api, &integration, &id, |r| apply_integration_response(r, b));
    ok(updated, |r| integration_response_json(&r))
}

pub(crate) fn delete_integration_response(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, integration, id) = (g.path(0), g.path(1), g.path(2));
    none(s.gateway.delete_integration_response_v2(c, &api, &integration, &id))
}
