//! API Gateway's models, request validators, documentation parts and gateway responses
//! (`/restapis/{api}/models`, `…/requestvalidators`, `…/documentation/parts` with their
//! import, `…/gatewayresponses`): routes and wire shapes.

use apigateway::definitions::{DocumentationPart, Model, RequestValidator};
use apigateway::responses::GatewayResponse;
use apigateway::rest::PutMode;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};

use crate::apigw_common::{
    boolean, done, item_list, put as put_field, reply, string, string_map, GwCaller, JsonBody, Query, RawBody,
};
use crate::apigw_rest::patch_operations;
use crate::ApiState;

pub(crate) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/restapis/{api}/models", post(create_model).get(get_models))
        .route("/restapis/{api}/models/{name}", get(get_model).patch(update_model).delete(delete_model))
        .route("/restapis/{api}/requestvalidators", post(create_validator).get(get_validators))
        .route(
            "/restapis/{api}/requestvalidators/{id}",
            get(get_validator).patch(update_validator).delete(delete_validator),
        )
        .route("/restapis/{api}/documentation/parts", post(create_part).get(get_parts).put(import_parts))
        .route("/restapis/{api}/documentation/parts/{id}", get(get_part).patch(update_part).delete(delete_part))
        .route("/restapis/{api}/gatewayresponses", get(get_responses))
        .route(
            "/restapis/{api}/gatewayresponses/{kind}",
            get(get_response).put(put_response).patch(update_response).delete(delete_response),
        )
}

fn response_json(r: &GatewayResponse) -> Value {
    let mut out = json!({
        "responseType": r.response_type, "defaultResponse": r.default,
        "responseParameters": r.parameters, "responseTemplates": r.templates,
    });
    put_field(&mut out, "statusCode", json!(r.status_code));
    out
}

async fn get_responses(State(s): State<ApiState>, GwCaller(c): GwCaller, Path(api): Path<String>) -> Response {
    reply(s.gateway.gateway_responses(&c, &api), StatusCode::OK, |list| item_list(&list, response_json))
}

async fn get_response(
    State(s): State<ApiState>,
    GwCaller(c): GwCaller,
    Path((api, kind)): Path<(String, String)>,
) -> Response {
    reply(s.gateway.gateway_response(&c, &api, &kind), StatusCode::OK, |r| response_json(&r))
}

async fn put_response(
    State(s): State<ApiState>,
    GwCaller(c): GwCaller,
    Path((api, kind)): Path<(String, String)>,
    JsonBody(b): JsonBody,
) -> Response {
    let map = |key: &str| b.get(key).is_some_and(Value::is_object).then(|| string_map(&b, key));
    let put = s.gateway.put_gateway_response(
        &c,
        &api,
        &kind,
        string(&b, "statusCode"),
        map("responseParameters"),
        map("responseTemplates"),
    );
    reply(put, StatusCode::CREATED, |r| response_json(&r))
}

async fn update_response(
    State(s): State<ApiState>,
    GwCaller(c): GwCaller,
    Path((api, kind)): Path<(String, String)>,
    JsonBody(b): JsonBody,
) -> Response {
    let patch = patch_operations(&b);
    reply(s.gateway.update_gateway_response(&c, &api, &kind, &patch), StatusCode::OK, |r| response_json(&r))
}

async fn delete_response(
    State(s): State<ApiState>,
    GwCaller(c): GwCaller,
    Path((api, kind)): Path<(String, String)>,
) -> Response {
    done(s.gateway.delete_gateway_response(&c, &api, &kind), StatusCode::ACCEPTED)
}

fn part_json(p: &DocumentationPart) -> Value {
    let mut location = json!({ "type": p.location_type });
    put_field(&mut location, "path", json!(p.path));
    put_field(&mut location, "method", json!(p.method));
    put_field(&mut location, "statusCode", json!(p.status_code));
    put_field(&mut location, "name", json!(p.name));
    json!({ "id": p.id, "location": location, "properties": p.properties })
}

async fn create_part(
    State(s): State<ApiState>,
    GwCaller(c): GwCaller,
    Path(api): Path<String>,
    JsonBody(b): JsonBody,
) -> Response {
    let location = b.get("location").cloned().unwrap_or(Value::Null);
    let part = DocumentationPart {
        id: String::new(),
        location_type: string(&location, "type").unwrap_or_default(),
        path: string(&location, "path"),
        method: string(&location, "method"),
        status_code: string(&location, "statusCode"),
        name: string(&location, "name"),
        properties: string(&b, "properties").unwrap_or_default(),
        seq: 0,
    };
    reply(s.gateway.create_documentation_part(&c, &api, part), StatusCode::CREATED, |p| part_json(&p))
}

/// ImportDocumentationParts (`PUT …/documentation/parts?mode=…&failonwarnings=…`).
async fn import_parts(
    State(s): State<ApiState>,
    GwCaller(c): GwCaller,
    Path(api): Path<String>,
    Query(q): Query<crate::apigw_rest::ImportQuery>,
    RawBody(body): RawBody,
) -> Response {
    let mode = match crate::apigw_rest::put_mode(q.mode.as_deref(), PutMode::Merge) {
        Ok(m) => m,
        Err(e) => return crate::apigw_common::error_response(e),
    };
    let imported = s.gateway.import_documentation_parts(&c, &api, &body, mode, q.failonwarnings.unwrap_or(false));
    reply(imported, StatusCode::OK, |(ids, warnings)| {
        let mut out = json!({ "ids": ids });
        if !warnings.is_empty() {
            out["warnings"] = json!(warnings);
        }
        out
    })
}

async fn get_parts(State(s): State<ApiState>, GwCaller(c): GwCaller, Path(api): Path<String>) -> Response {
    reply(s.gateway.documentation_parts(&c, &api), StatusCode::OK, |list| item_list(&list, part_json))
}

async fn get_part(
    State(s): State<ApiState>,
    GwCaller(c): GwCaller,
    Path((api, id)): Path<(String, String)>,
) -> Response {
    reply(s.gateway.documentation_part(&c, &api, &id), StatusCode::OK, |p| part_json(&p))
}

async fn update_part(
    State(s): State<ApiState>,
    GwCaller(c): GwCaller,
    Path((api, id)): Path<(String, String)>,
    JsonBody(b): JsonBody,
) -> Response {
    let patch = patch_operations(&b);
    reply(s.gateway.update_documentation_part(&c, &api, &id, &patch), StatusCode::OK, |p| part_json(&p))
}

async fn delete_part(
    State(s): State<ApiState>,
    GwCaller(c): GwCaller,
    Path((api, id)): Path<(String, String)>,
) -> Response {
    done(s.gateway.delete_documentation_part(&c, &api, &id), StatusCode::ACCEPTED)
}

fn model_json(m: &Model) -> Value {
    let mut o = json!({ "id": m.id, "name": m.name, "contentType": m.content_type, "schema": m.schema });
    put_field(&mut o, "description", json!(m.description));
    o
}

fn validator_json(v: &RequestValidator) -> Value {
    json!({
        "id": v.id,
        "name": v.name,
        "validateRequestBody": v.validate_body,
        "validateRequestParameters": v.validate_parameters,
    })
}

async fn create_model(
    State(s): State<ApiState>,
    GwCaller(c): GwCaller,
    Path(api): Path<String>,
    JsonBody(b): JsonBody,
) -> Response {
    let m = Model {
        id: String::new(),
        name: string(&b, "name").unwrap_or_default(),
        description: string(&b, "description"),
        schema: string(&b, "schema").unwrap_or_default(),
        content_type: string(&b, "contentType").unwrap_or_else(|| "application/json".into()),
    };
    reply(s.gateway.create_model(&c, &api, m), StatusCode::CREATED, |m| model_json(&m))
}

async fn get_models(State(s): State<ApiState>, GwCaller(c): GwCaller, Path(api): Path<String>) -> Response {
    reply(s.gateway.models(&c, &api), StatusCode::OK, |list| item_list(&list, model_json))
}

async fn get_model(
    State(s): State<ApiState>,
    GwCaller(c): GwCaller,
    Path((api, name)): Path<(String, String)>,
) -> Response {
    reply(s.gateway.model(&c, &api, &name), StatusCode::OK, |m| model_json(&m))
}

async fn update_model(
    State(s): State<ApiState>,
    GwCaller(c): GwCaller,
    Path((api, name)): Path<(String, String)>,
    JsonBody(b): JsonBody,
) -> Response {
    reply(s.gateway.update_model(&c, &api, &name, &patch_operations(&b)), StatusCode::OK, |m| model_json(&m))
}

async fn delete_model(
    State(s): State<ApiState>,
    GwCaller(c): GwCaller,
    Path((api, name)): Path<(String, String)>,
) -> Response {
    done(s.gateway.delete_model(&c, &api, &name), StatusCode::ACCEPTED)
}

async fn create_validator(
    State(s): State<ApiState>,
    GwCaller(c): GwCaller,
    Path(api): Path<String>,
    JsonBody(b): JsonBody,
) -> Response {
    let v = RequestValidator {
        id: String::new(),
        name: string(&b, "name").unwrap_or_default(),
        validate_body: boolean(&b, "validateRequestBody").unwrap_or(false),
        validate_parameters: boolean(&b, "validateRequestParameters").unwrap_or(false),
    };
    reply(s.gateway.create_request_validator(&c, &api, v), StatusCode::CREATED, |v| validator_json(&v))
}

async fn get_validators(State(s): State<ApiState>, GwCaller(c): GwCaller, Path(api): Path<String>) -> Response {
    reply(s.gateway.request_validators(&c, &api), StatusCode::OK, |list| item_list(&list, validator_json))
}

async fn get_validator(
    State(s): State<ApiState>,
    GwCaller(c): GwCaller,
    Path((api, id)): Path<(String, String)>,
) -> Response {
    reply(s.gateway.request_validator(&c, &api, &id), StatusCode::OK, |v| validator_json(&v))
}

async fn update_validator(
    State(s): State<ApiState>,
    GwCaller(c): GwCaller,
    Path((api, id)): Path<(String, String)>,
    JsonBody(b): JsonBody,
) -> Response {
    let patch = patch_operations(&b);
    reply(s.gateway.update_request_validator(&c, &api, &id, &patch), StatusCode::OK, |v| validator_json(&v))
}

async fn delete_validator(
    State(s): State<ApiState>,
    GwCaller(c): GwCaller,
    Path((api, id)): Path<(String, String)>,
) -> Response {
    done(s.gateway.delete_request_validator(&c, &api, &id), StatusCode::ACCEPTED)
}
