//! API Gateway's API keys, usage plans and VPC links (`/apikeys`, `/usageplans`,
//! `/vpclinks`).

use apigateway::usage::{ApiKey, ApiKeyInput, ApiStage, Quota, Throttle, UsagePlan};
use apigateway::vpc_links::VpcLink;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Map, Value};

use crate::apigw_common::{boolean, done, integer, put, reply, string, string_map, GwCaller, JsonBody, Query};
use crate::apigw_rest::{items, patch_operations};
use crate::ApiState;

pub(crate) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/apikeys", post(create_api_key).get(get_api_keys))
        .route("/apikeys/{id}", get(get_api_key).patch(update_api_key).delete(delete_api_key))
        .route("/usageplans", post(create_usage_plan).get(get_usage_plans))
        .route("/usageplans/{id}", get(get_usage_plan).patch(update_usage_plan).delete(delete_usage_plan))
        .route("/usageplans/{id}/keys", post(create_usage_plan_key).get(get_usage_plan_keys))
        .route("/usageplans/{id}/keys/{key}", get(get_usage_plan_key).delete(delete_usage_plan_key))
        .route("/usageplans/{id}/usage", get(get_usage))
        .route("/vpclinks", post(create_vpc_link).get(get_vpc_links))
        .route("/vpclinks/{id}", get(get_vpc_link).patch(update_vpc_link).delete(delete_vpc_link))
}

/// A VPC link as the API shows it: `PENDING` as created, `AVAILABLE` after.
fn vpc_link_json(l: &VpcLink, created: bool) -> Value {
    let mut o = json!({ "id": l.id, "name": l.name, "targetArns": l.target_arns });
    put(&mut o, "description", json!(l.description));
    if created {
        o["status"] = json!("PENDING");
    } else {
        o["status"] = json!("AVAILABLE");
        o["statusMessage"] = json!("Your vpc link is ready for use");
    }
    o
}

async fn create_vpc_link(State(s): State<ApiState>, GwCaller(c): GwCaller, JsonBody(b): JsonBody) -> Response {
    let targets = crate::apigw_common::strings(&b, "targetArns");
    let name = string(&b, "name").unwrap_or_default();
    let created = s.gateway.create_vpc_link(&c, &name, string(&b, "description"), targets, string_map(&b, "tags"));
    reply(created, StatusCode::ACCEPTED, |l| vpc_link_json(&l, true))
}

async fn get_vpc_links(State(s): State<ApiState>, GwCaller(c): GwCaller) -> Response {
    let links = s.gateway.vpc_links(&c);
    crate::apigw_common::answer(StatusCode::OK, crate::apigw_common::item_list(&links, |l| vpc_link_json(l, false)))
}

fn with_tags(l: &VpcLink) -> Value {
    let mut o = vpc_link_json(l, false);
    o["tags"] = json!(l.tags);
    o
}

async fn get_vpc_link(State(s): State<ApiState>, GwCaller(c): GwCaller, Path(id): Path<String>) -> Response {
    reply(s.gateway.vpc_link(&c, &id), StatusCode::OK, |l| with_tags(&l))
}

async fn update_vpc_link(
    State(s): State<ApiState>,
    GwCaller(c): GwCaller,
    Path(id): Path<String>,
    JsonBody(b): JsonBody,
) -> Response {
    let patch = patch_operations(&b);
    reply(s.gateway.update_vpc_link(&c, &id, &patch), StatusCode::OK, |l| with_tags(&l))
}

async fn delete_vpc_link(State(s): State<ApiState>, GwCaller(c): GwCaller, Path(id): Path<String>) -> Response {
    done(s.gateway.delete_vpc_link(&c, &id), StatusCode::ACCEPTED)
}

#[derive(serde::Deserialize)]
struct KeyQuery {
    #[serde(rename = "includeValue")]
    include_value: Option<bool>,
    #[serde(rename = "includeValues")]
    include_values: Option<bool>,
    name: Option<String>,
    position: Option<String>,
    limit: Option<i64>,
    #[serde(rename = "keyId")]
    key_id: Option<String>,
    #[serde(rename = "startDate")]
    start_date: Option<String>,
    #[serde(rename = "endDate")]
    end_date: Option<String>,
}

fn key_json(k: &ApiKey, with_value: bool) -> Value {
    let mut o = json!({
        "id": k.id,
        "name": k.name,
        "enabled": k.enabled,
        "createdDate": k.created,
        "lastUpdatedDate": k.last_updated,
        "stageKeys": k.stage_keys,
    });
    if with_value {
        o["value"] = json!(k.value);
    }
    put(&mut o, "description", json!(k.description));
    put(&mut o, "customerId", json!(k.customer_id));
    put(&mut o, "tags", json!(k.tags));
    o
}

fn throttle_json(t: &Throttle) -> Value {
    json!({ "burstLimit": t.burst_limit, "rateLimit": t.rate_limit })
}

fn throttle_of(v: Option<&Value>) -> Option<Throttle> {
    let v = v.filter(|v| v.is_object())?;
    Some(Throttle {
        burst_limit: integer(v, "burstLimit").unwrap_or(0),
        rate_limit: v.get("rateLimit").and_then(Value::as_f64).unwrap_or(0.0),
    })
}

fn plan_json(p: &UsagePlan) -> Value {
    let stages: Vec<Value> = p
        .api_stages
        .iter()
        .map(|s| {
            let mut o = json!({ "apiId": s.api_id, "stage": s.stage });
            let t: Map<String, Value> = s.throttle.iter().map(|(k, t)| (k.clone(), throttle_json(t))).collect();
            put(&mut o, "throttle", Value::Object(t));
            o
        })
        .collect();
    let mut o = json!({ "id": p.id, "name": p.name, "apiStages": stages });
    put(&mut o, "description", json!(p.description));
    put(&mut o, "productCode", json!(p.product_code));
    put(&mut o, "tags", json!(p.tags));
    if let Some(t) = &p.throttle {
        o["throttle"] = throttle_json(t);
    }
    if let Some(q) = &p.quota {
        o["quota"] = json!({ "limit": q.limit, "offset": q.offset, "period": q.period });
    }
    o
}

fn plan_key_json(k: &ApiKey) -> Value {
    json!({ "id": k.id, "type": "API_KEY", "value": k.value, "name": k.name })
}

async fn create_api_key(State(s): State<ApiState>, GwCaller(c): GwCaller, JsonBody(b): JsonBody) -> Response {
    let input = ApiKeyInput {
        name: string(&b, "name"),
        description: string(&b, "description"),
        enabled: boolean(&b, "enabled").unwrap_or(false),
        value: string(&b, "value"),
        customer_id: string(&b, "customerId"),
        stage_keys: b
            .get("stageKeys")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|k| Some(format!("{}/{}", string(k, "restApiId")?, string(k, "stageName")?)))
                    .collect()
            })
            .unwrap_or_default(),
        tags: string_map(&b, "tags"),
    };
    reply(s.gateway.create_api_key(&c, input), StatusCode::CREATED, |k| key_json(&k, true))
}

async fn get_api_keys(State(s): State<ApiState>, GwCaller(c): GwCaller, Query(q): Query<KeyQuery>) -> Response {
    let with_values = q.include_values.unwrap_or(false);
    reply(s.gateway.api_keys(&c, q.name.as_deref(), q.position.as_deref(), q.limit), StatusCode::OK, |p| {
        items(p, |k| key_json(k, with_values))
    })
}

async fn get_api_key(
    State(s): State<ApiState>,
    GwCaller(c): GwCaller,
    Path(id): Path<String>,
    Query(q): Query<KeyQuery>,
) -> Response {
    let with_value = q.include_value.unwrap_or(false);
    reply(s.gateway.api_key(&c, &id), StatusCode::OK, |k| key_json(&k, with_value))
}

async fn update_api_key(
    State(s): State<ApiState>,
    GwCaller(c): GwCaller,
    Path(id): Path<String>,
    JsonBody(b): JsonBody,
) -> Response {
    reply(s.gateway.update_api_key(&c, &id, &patch_operations(&b)), StatusCode::OK, |k| key_json(&k, false))
}

async fn delete_api_key(State(s): State<ApiState>, GwCaller(c): GwCaller, Path(id): Path<String>) -> Response {
    done(s.gateway.delete_api_key(&c, &id), StatusCode::ACCEPTED)
}

async fn create_usage_plan(State(s): State<ApiState>, GwCaller(c): GwCaller, JsonBody(b): JsonBody) -> Response {
    let stages = b
        .get("apiStages")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|st| ApiStage {
                    api_id: string(st, "apiId").unwrap_or_default(),
                    stage: string(st, "stage").unwrap_or_default(),
                    throttle: st
                        .get("throttle")
                        .and_then(Value::as_object)
                        .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), throttle_of(Some(v))?))).collect())
                        .unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default();
    let quota = b.get("quota").filter(|q| q.is_object()).map(|q| Quota {
        limit: integer(q, "limit").unwrap_or(0),
        offset: integer(q, "offset").unwrap_or(0),
        period: string(q, "period").unwrap_or_default(),
    });
    let plan = s.gateway.create_usage_plan(
        &c,
        string(&b, "name").unwrap_or_default(),
        string(&b, "description"),
        stages,
        throttle_of(b.get("throttle")),
        quota,
        string_map(&b, "tags"),
    );
    reply(plan, StatusCode::CREATED, |p| plan_json(&p))
}

async fn get_usage_plans(State(s): State<ApiState>, GwCaller(c): GwCaller, Query(q): Query<KeyQuery>) -> Response {
    reply(s.gateway.usage_plans(&c, q.key_id.as_deref(), q.position.as_deref(), q.limit), StatusCode::OK, |p| {
        items(p, plan_json)
    })
}

async fn get_usage_plan(State(s): State<ApiState>, GwCaller(c): GwCaller, Path(id): Path<String>) -> Response {
    reply(s.gateway.usage_plan(&c, &id), StatusCode::OK, |p| plan_json(&p))
}

async fn update_usage_plan(
    State(s): State<ApiState>,
    GwCaller(c): GwCaller,
    Path(id): Path<String>,
    JsonBody(b): JsonBody,
) -> Response {
    reply(s.gateway.update_usage_plan(&c, &id, &patch_operations(&b)), StatusCode::OK, |p| plan_json(&p))
}

async fn delete_usage_plan(State(s): State<ApiState>, GwCaller(c): GwCaller, Path(id): Path<String>) -> Response {
    done(s.gateway.delete_usage_plan(&c, &id), StatusCode::ACCEPTED)
}

async fn create_usage_plan_key(
    State(s): State<ApiState>,
    GwCaller(c): GwCaller,
    Path(id): Path<String>,
    JsonBody(b): JsonBody,
) -> Response {
    let key = string(&b, "keyId").unwrap_or_default();
    let kind = string(&b, "keyType").unwrap_or_default();
    reply(s.gateway.create_usage_plan_key(&c, &id, &key, &kind), StatusCode::CREATED, |k| plan_key_json(&k))
}

async fn get_usage_plan_keys(State(s): State<ApiState>, GwCaller(c): GwCaller, Path(id): Path<String>) -> Response {
    reply(
        s.gateway.usage_plan_keys(&c, &id),
        StatusCode::OK,
        |keys| json!({ "item": keys.iter().map(plan_key_json).collect::<Vec<_>>() }),
    )
}

async fn get_usage_plan_key(
    State(s): State<ApiState>,
    GwCaller(c): GwCaller,
    Path((id, key)): Path<(String, String)>,
) -> Response {
    reply(s.gateway.usage_plan_key(&c, &id, &key), StatusCode::OK, |k| plan_key_json(&k))
}

async fn delete_usage_plan_key(
    State(s): State<ApiState>,
    GwCaller(c): GwCaller,
    Path((id, key)): Path<(String, String)>,
) -> Response {
    done(s.gateway.delete_usage_plan_key(&c, &id, &key), StatusCode::ACCEPTED)
}

/// GetUsage: the current quota period's figures, one `[used, remaining]` per key.
async fn get_usage(
    State(s): State<ApiState>,
    GwCaller(c): GwCaller,
    Path(id): Path<String>,
    Query(q): Query<KeyQuery>,
) -> Response {
    reply(s.gateway.usage(&c, &id, q.key_id.as_deref()), StatusCode::OK, |usage| {
        let values: Map<String, Value> =
            usage.into_iter().map(|(k, (used, remaining))| (k, json!([[used, remaining]]))).collect();
        json!({
            "usagePlanId": id,
            "startDate": q.start_date,
            "endDate": q.end_date,
            "values": values,
        })
    })
}
