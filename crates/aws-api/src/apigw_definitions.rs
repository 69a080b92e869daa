//! API Gateway's models, request validators, documentation parts and gateway responses
//! (`/restapis/{api}/models`, `…/requestvalidators`, `…/documentation/parts` with their
//! import, `…/gatewayresponses`): input trees into service calls, results into output trees.

use apigateway::definitions::{DocumentationPart, Model, RequestValidator};
use apigateway::responses::GatewayResponse;
use apigateway::rest::PutMode;
use serde_json::{json, Value};

use crate::apigw_api::{none, ok, GwCall, GwReply};
use crate::apigw_common::{boolean, item_list, put as put_field, string, string_map};
use crate::apigw_rest::patch_operations;
use crate::ApiState;

fn response_json(r: &GatewayResponse) -> Value {
    let mut out = json!({
        "responseType": r.response_type, "defaultResponse": r.default,
        "responseParameters": r.parameters, "responseTemplates": r.templates,
    });
    put_field(&mut out, "statusCode", json!(r.status_code));
    out
}

pub(crate) fn get_responses(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let api = g.path(0);
    ok(s.gateway.gateway_responses(c, &api), |list| item_list(&list, response_json))
}

pub(crate) fn get_response(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, kind) = (g.path(0), g.path(1));
    ok(s.gateway.gateway_response(c, &api, &kind), |r| response_json(&r))
}

pub(crate) fn put_response(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, kind) = (g.path(0), g.path(1));
    let b = &g.input;
    let map = |key: &str| b.get(key).is_some_and(Value::is_object).then(|| string_map(b, key));
    let put = s.gateway.put_gateway_response(
        c,
        &api,
        &kind,
        string(b, "statusCode"),
        map("responseParameters"),
        map("responseTemplates"),
    );
    ok(put, |r| response_json(&r))
}

pub(crate) fn update_response(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, kind) = (g.path(0), g.path(1));
    let b = &g.input;
    let patch = patch_operations(b);
    ok(s.gateway.update_gateway_response(c, &api, &kind, &patch), |r| response_json(&r))
}

pub(crate) fn delete_response(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, kind) = (g.path(0), g.path(1));
    none(s.gateway.delete_gateway_response(c, &api, &kind))
}

fn part_json(p: &DocumentationPart) -> Value {
    let mut location = json!({ "type": p.location_type });
    put_field(&mut location, "path", json!(p.path));
    put_field(&mut location, "method", json!(p.method));
    put_field(&mut location, "statusCode", json!(p.status_code));
    put_field(&mut location, "name", json!(p.name));
    json!({ "id": p.id, "location": location, "properties": p.properties })
}

pub(crate) fn create_part(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let api = g.path(0);
    let b = &g.input;
    let location = b.get("location").cloned().unwrap_or(Value::Null);
    let part = DocumentationPart {
        id: String::new(),
        location_type: string(&location, "type").unwrap_or_default(),
        path: string(&location, "path"),
        method: string(&location, "method"),
        status_code: string(&location, "statusCode"),
        name: string(&location, "name"),
        properties: string(b, "properties").unwrap_or_default(),
        seq: 0,
    };
    ok(s.gateway.create_documentation_part(c, &api, part), |p| part_json(&p))
}

/// ImportDocumentationParts (`PUT …/documentation/parts?mode=…&failonwarnings=…`).
pub(crate) fn import_parts(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let api = g.path(0);
    let q = crate::apigw_rest::ImportQuery::of(g);
    let body = g.payload.clone().unwrap_or_default();
    let mode = crate::apigw_rest::put_mode(q.mode.as_deref(), PutMode::Merge)?;
    let imported = s.gateway.import_documentation_parts(c, &api, &body, mode, q.failonwarnings.unwrap_or(false));
    ok(imported, |(ids, warnings)| {
        let mut out = json!({ "ids": ids });
        if !warnings.is_empty() {
            out["warnings"] = json!(warnings);
        }
        out
    })
}

pub(crate) fn get_parts(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let api = g.path(0);
    ok(s.gateway.documentation_parts(c, &api), |list| item_list(&list, part_json))
}

pub(crate) fn get_part(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, id) = (g.path(0), g.path(1));
    ok(s.gateway.documentation_part(c, &api, &id), |p| part_json(&p))
}

pub(crate) fn update_part(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, id) = (g.path(0), g.path(1));
    let b = &g.input;
    let patch = patch_operations(b);
    ok(s.gateway.update_documentation_part(c, &api, &id, &patch), |p| part_json(&p))
}

pub(crate) fn delete_part(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, id) = (g.path(0), g.path(1));
    none(s.gateway.delete_documentation_part(c, &api, &id))
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

pub(crate) fn create_model(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let api = g.path(0);
    let b = &g.input;
    let m = Model {
        id: String::new(),
        name: string(b, "name").unwrap_or_default(),
        description: string(b, "description"),
        schema: string(b, "schema").unwrap_or_default(),
        content_type: string(b, "contentType").unwrap_or_else(|| "application/json".into()),
    };
    ok(s.gateway.create_model(c, &api, m), |m| model_json(&m))
}

pub(crate) fn get_models(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let api = g.path(0);
    ok(s.gateway.models(c, &api), |list| item_list(&list, model_json))
}

pub(crate) fn get_model(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, name) = (g.path(0), g.path(1));
    ok(s.gateway.model(c, &api, &name), |m| model_json(&m))
}

pub(crate) fn update_model(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, name) = (g.path(0), g.path(1));
    let b = &g.input;
    ok(s.gateway.update_model(c, &api, &name, &patch_operations(b)), |m| model_json(&m))
}

pub(crate) fn delete_model(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, name) = (g.path(0), g.path(1));
    none(s.gateway.delete_model(c, &api, &name))
}

pub(crate) fn create_validator(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let api = g.path(0);
    let b = &g.input;
    let v = RequestValidator {
        id: String::new(),
        name: string(b, "name").unwrap_or_default(),
        validate_body: boolean(b, "validateRequestBody").unwrap_or(false),
        validate_parameters: boolean(b, "validateRequestParameters").unwrap_or(false),
    };
    ok(s.gateway.create_request_validator(c, &api, v), |v| validator_json(&v))
}

pub(crate) fn get_validators(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let api = g.path(0);
    ok(s.gateway.request_validators(c, &api), |list| item_list(&list, validator_json))
}

pub(crate) fn get_validator(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, id) = (g.path(0), g.path(1));
    ok(s.gateway.request_validator(c, &api, &id), |v| validator_json(&v))
}

pub(crate) fn update_validator(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, id) = (g.path(0), g.path(1));
    let b = &g.input;
    let patch = patch_operations(b);
    ok(s.gateway.update_request_validator(c, &api, &id, &patch), |v| validator_json(&v))
}

pub(crate) fn delete_validator(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (api, id) = (g.path(0), g.path(1));
    none(s.gateway.delete_request_validator(c, &api, &id))
}
