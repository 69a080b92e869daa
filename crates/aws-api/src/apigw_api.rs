//! API Gateway's two control planes (`apigateway`, `apigatewayv2`) on the protocol layer:
//! every request under their operations' path roots (`/restapis`, `/apikeys`, `/v2`, …) is
//! routed to its operation by the model's HTTP bindings, read into the operation's input
//! tree and checked against the model, run by one dispatch over the operation's name, and
//! answered (output or error) by the rest-json codec. The handlers (`apigw_rest`,
//! `apigw_definitions`, `apigw_usage`, `apigw_v2`) turn an input tree into a service call
//! and its result into an output tree; none of them sees HTTP.

use apigateway::{Caller, GatewayError};
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::response::Response;
use protocol::{Output, Protocol, ServiceError};
use serde_json::Value;

use crate::{apigw_definitions, apigw_rest, apigw_usage, ingress, ApiState, RequestId};

/// API Gateway's control-plane requests are small; imported definitions are the largest.
const MAX_BODY: usize = 6 * 1024 * 1024;

/// The operations of API Gateway v2's model that Lamina serves; the others answer 501.
pub(crate) const OPERATIONS_V2: &[&str] = &[
    "CreateApi",
    "ImportApi",
    "ReimportApi",
    "CreateAuthorizer",
    "CreateDeployment",
    "CreateIntegration",
    "CreateIntegrationResponse",
    "CreateRoute",
    "CreateRouteResponse",
    "CreateStage",
    "DeleteApi",
    "DeleteAuthorizer",
    "DeleteCorsConfiguration",
    "DeleteDeployment",
    "DeleteIntegration",
    "DeleteIntegrationResponse",
    "DeleteRoute",
    "DeleteRouteResponse",
    "DeleteStage",
    "GetApi",
    "GetApis",
    "GetAuthorizer",
    "GetAuthorizers",
    "GetDeployment",
    "GetDeployments",
    "GetIntegration",
    "GetIntegrationResponse",
    "GetIntegrationResponses",
    "GetIntegrations",
    "GetRoute",
    "GetRouteResponse",
    "GetRouteResponses",
    "GetRoutes",
    "GetStage",
    "GetStages",
    "UpdateApi",
    "UpdateAuthorizer",
    "UpdateIntegration",
    "UpdateIntegrationResponse",
    "UpdateRoute",
    "UpdateStage",
];

/// The operations of API Gateway's model that Lamina serves; the others answer 501.
pub(crate) const OPERATIONS: &[&str] = &[
    "CreateApiKey",
    "CreateAuthorizer",
    "CreateDeployment",
    "CreateDocumentationPart",
    "CreateModel",
    "CreateRequestValidator",
    "CreateResource",
    "CreateRestApi",
    "CreateStage",
    "CreateUsagePlan",
    "CreateUsagePlanKey",
    "CreateVpcLink",
    "DeleteApiKey",
    "DeleteAuthorizer",
    "DeleteDeployment",
    "DeleteDocumentationPart",
    "DeleteGatewayResponse",
    "DeleteIntegration",
    "DeleteIntegrationResponse",
    "DeleteMethod",
    "DeleteMethodResponse",
    "DeleteModel",
    "DeleteRequestValidator",
    "DeleteResource",
    "DeleteRestApi",
    "DeleteStage",
    "DeleteUsagePlan",
    "DeleteUsagePlanKey",
    "DeleteVpcLink",
    "GetAccount",
    "GetApiKey",
    "GetApiKeys",
    "GetAuthorizer",
    "GetAuthorizers",
    "GetDeployment",
    "GetDeployments",
    "GetDocumentationPart",
    "GetDocumentationParts",
    "GetGatewayResponse",
    "GetGatewayResponses",
    "GetIntegration",
    "GetIntegrationResponse",
    "GetMethod",
    "GetMethodResponse",
    "GetModel",
    "GetModels",
    "GetRequestValidator",
    "GetRequestValidators",
    "GetResource",
    "GetResources",
    "GetRestApi",
    "GetRestApis",
    "GetStage",
    "GetStages",
    "GetTags",
    "GetUsage",
    "GetUsagePlan",
    "GetUsagePlanKey",
    "GetUsagePlanKeys",
    "GetUsagePlans",
    "GetVpcLink",
    "GetVpcLinks",
    "ImportDocumentationParts",
    "ImportRestApi",
    "PutGatewayResponse",
    "PutIntegration",
    "PutIntegrationResponse",
    "PutMethod",
    "PutMethodResponse",
    "PutRestApi",
    "TagResource",
    "TestInvokeMethod",
    "UntagResource",
    "UpdateAccount",
    "UpdateApiKey",
    "UpdateAuthorizer",
    "UpdateDeployment",
    "UpdateDocumentationPart",
    "UpdateGatewayResponse",
    "UpdateIntegration",
    "UpdateIntegrationResponse",
    "UpdateMethod",
    "UpdateMethodResponse",
    "UpdateModel",
    "UpdateRequestValidator",
    "UpdateResource",
    "UpdateRestApi",
    "UpdateStage",
    "UpdateUsagePlan",
    "UpdateVpcLink",
];

/// One API Gateway call, as its handler sees it.
pub(crate) struct GwCall {
    /// The account and region it acts in.
    pub(crate) caller: Caller,
    /// The input tree.
    pub(crate) input: Value,
    /// An imported definition (the blob payload of ImportRestApi, PutRestApi and
    /// ImportDocumentationParts).
    pub(crate) payload: Option<Bytes>,
    /// The path's labels, in the order the URI template names them.
    pub(crate) path: Vec<String>,
}

impl GwCall {
    /// The `i`th label of the path (`restapi_id`, `resource_id`, `http_method`, …).
    pub(crate) fn path(&self, i: usize) -> String {
        self.path.get(i).cloned().unwrap_or_default()
    }

    /// A string member.
    pub(crate) fn text(&self, member: &str) -> Option<String> {
        crate::apigw_common::string(&self.input, member)
    }

    /// An integer member.
    pub(crate) fn int(&self, member: &str) -> Option<i64> {
        self.input.get(member).and_then(Value::as_i64)
    }
}

/// A handler's answer: the output tree (`Value::Null` for an operation without output).
pub(crate) type GwReply = Result<Value, GatewayError>;

/// The output tree of a service call's result.
pub(crate) fn ok<T>(r: Result<T, GatewayError>, to_json: impl FnOnce(T) -> Value) -> GwReply {
    r.map(to_json)
}

/// The answer of an operation without output.
pub(crate) fn none(r: Result<(), GatewayError>) -> GwReply {
    r.map(|()| Value::Null)
}

/// The one place a `GatewayError` becomes an AWS error, for both control planes.
pub(crate) fn service_error(err: &GatewayError) -> ServiceError {
    let (code, status) = match err {
        GatewayError::BadRequest(_) => ("BadRequestException", 400),
        GatewayError::NotFound(_) => ("NotFoundException", 404),
        GatewayError::Conflict(_) => ("ConflictException", 409),
        GatewayError::LimitExceeded(_) => ("LimitExceededException", 429),
        GatewayError::Service(_) => ("ServiceUnavailableException", 503),
    };
    ServiceError::new(code, err.to_string()).status(status)
}

/// Every request to API Gateway's REST API control plane.
pub(crate) async fn handle(State(s): State<ApiState>, req: Request) -> Response {
    // Scheduler's tags share API Gateway's `/tags/{arn}`: its signature's scope tells.
    if crate::signed_service(req.headers()).as_deref() == Some("scheduler") {
        return crate::scheduler_api::handle(State(s), req).await;
    }
    serve(s, req, "apigateway").await
}

/// Every request to API Gateway v2's control plane (`/v2/…`).
pub(crate) async fn handle_v2(State(s): State<ApiState>, req: Request) -> Response {
    serve(s, req, "apigatewayv2").await
}

/// A request of either control plane: routed, read and checked from the model, run, and
/// answered from it. v2's handlers read and write its JSON in the wire form (camelCase
/// names where the model's members are PascalCase): its input tree is written out for them
/// and their output read back.
async fn serve(s: ApiState, req: Request, service: &'static str) -> Response {
    let request_id = req.extensions().get::<RequestId>().map(|r| r.0.clone()).unwrap_or_default();
    let Some(model) = protocol::service(service) else { return ingress::unserved(req).await };
    let v2 = service == "apigatewayv2";
    let pairs: Vec<(String, String)> =
        req.uri().query().map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default();
    let Some((op, labels)) = model.find_rest(req.method(), req.uri().path(), &pairs) else {
        return ingress::unserved(req).await;
    };
    let operation = op.name.clone();
    let fail = |e: &ServiceError| ingress::error(service, Protocol::RestJson, e, &request_id);
    let (parts, body) = req.into_parts();
    let Some(body) = ingress::read_body(&parts, body, MAX_BODY).await else {
        return fail(&service_error(&GatewayError::BadRequest("Request body is too large".into())));
    };
    let served = if v2 { OPERATIONS_V2 } else { OPERATIONS };
    let input = match ingress::read(service, Protocol::RestJson, &parts, body, served) {
        Ok((_, input)) => input,
        Err(e) => return fail(&e),
    };
    let call = GwCall {
        caller: s.callers.caller(&parts),
        input: if v2 { model.input_as_wire(&operation, &input.value) } else { input.value },
        payload: input.payload,
        path: labels.into_iter().map(|(_, v)| v).collect(),
    };
    let result = if v2 { run_v2(&s, &call, &operation) } else { run(&s, &call, &operation).await };
    let output = match result {
        Ok(v) if v2 => model.output_from_wire(&operation, v),
        Ok(v) => Ok(v),
        Err(e) => Err(service_error(&e)),
    };
    match output {
        Ok(v) => ingress::to_response(model.respond(Protocol::RestJson, &operation, Output::new(v), &request_id), None),
        Err(e) => fail(&e),
    }
}

/// Runs one operation of API Gateway v2.
pub(crate) fn run_v2(s: &ApiState, g: &GwCall, operation: &str) -> GwReply {
    use crate::apigw_v2 as v2;
    match operation {
        "CreateApi" => v2::create_api(s, g),
        "ImportApi" => v2::import_api(s, g),
        "ReimportApi" => v2::reimport_api(s, g),
        "GetApis" => v2::get_apis(s, g),
        "GetApi" => v2::get_api(s, g),
        "UpdateApi" => v2::update_api(s, g),
        "DeleteApi" => v2::delete_api(s, g),
        "DeleteCorsConfiguration" => v2::delete_cors(s, g),
        "CreateRoute" => v2::create_route(s, g),
        "GetRoutes" => v2::get_routes(s, g),
        "GetRoute" => v2::get_route(s, g),
        "UpdateRoute" => v2::update_route(s, g),
        "DeleteRoute" => v2::delete_route(s, g),
        "CreateIntegration" => v2::create_integration(s, g),
        "GetIntegrations" => v2::get_integrations(s, g),
        "GetIntegration" => v2::get_integration(s, g),
        "UpdateIntegration" => v2::update_integration(s, g),
        "DeleteIntegration" => v2::delete_integration(s, g),
        "CreateIntegrationResponse" => v2::create_integration_response(s, g),
        "GetIntegrationResponses" => v2::get_integration_responses(s, g),
        "GetIntegrationResponse" => v2::get_integration_response(s, g),
        "UpdateIntegrationResponse" => v2::update_integration_response(s, g),
        "DeleteIntegrationResponse" => v2::delete_integration_response(s, g),
        "CreateStage" => v2::create_stage(s, g),
        "GetStages" => v2::get_stages(s, g),
        "GetStage" => v2::get_stage(s, g),
        "UpdateStage" => v2::update_stage(s, g),
        "DeleteStage" => v2::delete_stage(s, g),
        "CreateDeployment" => v2::create_deployment(s, g),
        "GetDeployments" => v2::get_deployments(s, g),
        "GetDeployment" => v2::get_deployment(s, g),
        "DeleteDeployment" => v2::delete_deployment(s, g),
        "CreateRouteResponse" => v2::create_route_response(s, g),
        "GetRouteResponses" => v2::get_route_responses(s, g),
        "GetRouteResponse" => v2::get_route_response(s, g),
        "DeleteRouteResponse" => v2::delete_route_response(s, g),
        "CreateAuthorizer" => v2::create_authorizer(s, g),
        "GetAuthorizers" => v2::get_authorizers(s, g),
        "GetAuthorizer" => v2::get_authorizer(s, g),
        "UpdateAuthorizer" => v2::update_authorizer(s, g),
        "DeleteAuthorizer" => v2::delete_authorizer(s, g),
        other => Err(GatewayError::Service(format!("no handler for {other}"))),
    }
}

/// Runs one operation.
pub(crate) async fn run(s: &ApiState, g: &GwCall, operation: &str) -> GwReply {
    use apigw_definitions as defs;
    use apigw_rest as rest;
    use apigw_usage as usage;
    match operation {
        "TestInvokeMethod" => rest::test_invoke_method(s, g).await,
        "CreateRestApi" => rest::create_rest_api(s, g),
        "ImportRestApi" => rest::import_rest_api(s, g),
        "GetRestApis" => rest::get_rest_apis(s, g),
        "GetRestApi" => rest::get_rest_api(s, g),
        "UpdateRestApi" => rest::update_rest_api(s, g),
        "DeleteRestApi" => rest::delete_rest_api(s, g),
        "PutRestApi" => rest::put_rest_api(s, g),
        "GetResources" => rest::get_resources(s, g),
        "GetResource" => rest::get_resource(s, g),
        "CreateResource" => rest::create_resource(s, g),
        "DeleteResource" => rest::delete_resource(s, g),
        "UpdateResource" => rest::update_resource(s, g),
        "PutMethod" => rest::put_method(s, g),
        "GetMethod" => rest::get_method(s, g),
        "DeleteMethod" => rest::delete_method(s, g),
        "UpdateMethod" => rest::update_method(s, g),
        "PutIntegration" => rest::put_integration(s, g),
        "GetIntegration" => rest::get_integration(s, g),
        "DeleteIntegration" => rest::delete_integration(s, g),
        "UpdateIntegration" => rest::update_integration(s, g),
        "PutMethodResponse" => rest::put_method_response(s, g),
        "GetMethodResponse" => rest::get_method_response(s, g),
        "DeleteMethodResponse" => rest::delete_method_response(s, g),
        "UpdateMethodResponse" => rest::update_method_response(s, g),
        "PutIntegrationResponse" => rest::put_integration_response(s, g),
        "GetIntegrationResponse" => rest::get_integration_response(s, g),
        "DeleteIntegrationResponse" => rest::delete_integration_response(s, g),
        "UpdateIntegrationResponse" => rest::update_integration_response(s, g),
        "CreateDeployment" => rest::create_deployment(s, g),
        "GetDeployments" => rest::get_deployments(s, g),
        "GetDeployment" => rest::get_deployment(s, g),
        "UpdateDeployment" => rest::update_deployment(s, g),
        "DeleteDeployment" => rest::delete_deployment(s, g),
        "CreateStage" => rest::create_stage(s, g),
        "GetStages" => rest::get_stages(s, g),
        "GetStage" => rest::get_stage(s, g),
        "UpdateStage" => rest::update_stage(s, g),
        "DeleteStage" => rest::delete_stage(s, g),
        "CreateAuthorizer" => rest::create_authorizer(s, g),
        "GetAuthorizers" => rest::get_authorizers(s, g),
        "GetAuthorizer" => rest::get_authorizer(s, g),
        "UpdateAuthorizer" => rest::update_authorizer(s, g),
        "DeleteAuthorizer" => rest::delete_authorizer(s, g),
        "CreateModel" => defs::create_model(s, g),
        "GetModels" => defs::get_models(s, g),
        "GetModel" => defs::get_model(s, g),
        "UpdateModel" => defs::update_model(s, g),
        "DeleteModel" => defs::delete_model(s, g),
        "CreateRequestValidator" => defs::create_validator(s, g),
        "GetRequestValidators" => defs::get_validators(s, g),
        "GetRequestValidator" => defs::get_validator(s, g),
        "UpdateRequestValidator" => defs::update_validator(s, g),
        "DeleteRequestValidator" => defs::delete_validator(s, g),
        "CreateDocumentationPart" => defs::create_part(s, g),
        "GetDocumentationParts" => defs::get_parts(s, g),
        "ImportDocumentationParts" => defs::import_parts(s, g),
        "GetDocumentationPart" => defs::get_part(s, g),
        "UpdateDocumentationPart" => defs::update_part(s, g),
        "DeleteDocumentationPart" => defs::delete_part(s, g),
        "GetGatewayResponses" => defs::get_responses(s, g),
        "GetGatewayResponse" => defs::get_response(s, g),
        "PutGatewayResponse" => defs::put_response(s, g),
        "UpdateGatewayResponse" => defs::update_response(s, g),
        "DeleteGatewayResponse" => defs::delete_response(s, g),
        "CreateApiKey" => usage::create_api_key(s, g),
        "GetApiKeys" => usage::get_api_keys(s, g),
        "GetApiKey" => usage::get_api_key(s, g),
        "UpdateApiKey" => usage::update_api_key(s, g),
        "DeleteApiKey" => usage::delete_api_key(s, g),
        "CreateUsagePlan" => usage::create_usage_plan(s, g),
        "GetUsagePlans" => usage::get_usage_plans(s, g),
        "GetUsagePlan" => usage::get_usage_plan(s, g),
        "UpdateUsagePlan" => usage::update_usage_plan(s, g),
        "GetAccount" => usage::get_account(s, g),
        "GetTags" => usage::get_tags(s, g),
        "TagResource" => usage::tag_resource(s, g),
        "UntagResource" => usage::untag_resource(s, g),
        "UpdateAccount" => usage::update_account(s, g),
        "DeleteUsagePlan" => usage::delete_usage_plan(s, g),
        "CreateUsagePlanKey" => usage::create_usage_plan_key(s, g),
        "GetUsagePlanKeys" => usage::get_usage_plan_keys(s, g),
        "GetUsagePlanKey" => usage::get_usage_plan_key(s, g),
        "DeleteUsagePlanKey" => usage::delete_usage_plan_key(s, g),
        "GetUsage" => usage::get_usage(s, g),
        "CreateVpcLink" => usage::create_vpc_link(s, g),
        "GetVpcLinks" => usage::get_vpc_links(s, g),
        "GetVpcLink" => usage::get_vpc_link(s, g),
        "UpdateVpcLink" => usage::update_vpc_link(s, g),
        "DeleteVpcLink" => usage::delete_vpc_link(s, g),
        other => Err(GatewayError::Service(format!("no handler for {other}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_served_operation_is_in_the_model_and_roots_are_apigateways() {
        let model = protocol::service("apigateway").unwrap();
        for op in OPERATIONS {
            assert!(model.operation(op).is_some(), "{op} is not in API Gateway's model");
        }
        let roots = ingress::path_roots("apigateway");
        for root in ["restapis", "apikeys", "usageplans", "vpclinks"] {
            assert!(roots.contains(root), "{roots:?}");
        }
        // Lambda's and API Gateway v2's roots are their own.
        assert!(!roots.contains("v2") && !roots.iter().any(|r| r.starts_with("20")), "{roots:?}");
        let model = protocol::service("apigatewayv2").unwrap();
        for op in OPERATIONS_V2 {
            assert!(model.operation(op).is_some(), "{op} is not in API Gateway v2's model");
        }
        assert_eq!(ingress::path_roots("apigatewayv2").into_iter().collect::<Vec<_>>(), ["v2"]);
    }
}
