//! API Gateway's API keys, usage plans and VPC links (`/apikeys`, `/usageplans`,
//! `/vpclinks`).

use apigateway::usage::{ApiKey, ApiKeyInput, ApiStage, Quota, Throttle, UsagePlan};
use apigateway::vpc_links::VpcLink;
use serde_json::{json, Map, Value};

use crate::apigw_api::{none, ok, GwCall, GwReply};
use crate::apigw_common::{boolean, integer, put, string, string_map};
use crate::apigw_rest::{items, patch_operations};
use crate::ApiState;

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

pub(crate) fn create_vpc_link(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let b = &g.input;
    let targets = crate::apigw_common::strings(b, "targetArns");
    let name = string(b, "name").unwrap_or_default();
    let created = s.gateway.create_vpc_link(c, &name, string(b, "description"), targets, string_map(b, "tags"));
    ok(created, |l| vpc_link_json(&l, true))
}

pub(crate) fn get_vpc_links(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let links = s.gateway.vpc_links(c);
    Ok(crate::apigw_common::item_list(&links, |l| vpc_link_json(l, false)))
}

fn with_tags(l: &VpcLink) -> Value {
    let mut o = vpc_link_json(l, false);
    o["tags"] = json!(l.tags);
    o
}

pub(crate) fn get_vpc_link(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let id = g.path(0);
    ok(s.gateway.vpc_link(c, &id), |l| with_tags(&l))
}

pub(crate) fn update_vpc_link(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let id = g.path(0);
    let b = &g.input;
    let patch = patch_operations(b);
    ok(s.gateway.update_vpc_link(c, &id, &patch), |l| with_tags(&l))
}

pub(crate) fn delete_vpc_link(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let id = g.path(0);
    none(s.gateway.delete_vpc_link(c, &id))
}

/// The query parameters of the key, plan and usage operations.
struct KeyQuery {
    include_value: Option<bool>,
    include_values: Option<bool>,
    name: Option<String>,
    position: Option<String>,
    limit: Option<i64>,
    key_id: Option<String>,
    start_date: Option<String>,
    end_date: Option<String>,
}

impl KeyQuery {
    fn of(g: &GwCall) -> KeyQuery {
        let flag = |k: &str| g.input.get(k).and_then(Value::as_bool);
        KeyQuery {
            include_value: flag("includeValue"),
            include_values: flag("includeValues"),
            name: g.text("nameQuery"),
            position: g.text("position"),
            limit: g.int("limit"),
            key_id: g.text("keyId"),
            start_date: g.text("startDate"),
            end_date: g.text("endDate"),
        }
    }
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

pub(crate) fn create_api_key(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let b = &g.input;
    let input = ApiKeyInput {
        name: string(b, "name"),
        description: string(b, "description"),
        enabled: boolean(b, "enabled").unwrap_or(false),
        value: string(b, "value"),
        customer_id: string(b, "customerId"),
        stage_keys: b
            .get("stageKeys")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|k| Some(format!("{}/{}", string(k, "restApiId")?, string(k, "stageName")?)))
                    .collect()
            })
            .unwrap_or_default(),
        tags: string_map(b, "tags"),
    };
    ok(s.gateway.create_api_key(c, input), |k| key_json(&k, true))
}

pub(crate) fn get_api_keys(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let q = KeyQuery::of(g);
    let with_values = q.include_values.unwrap_or(false);
    ok(s.gateway.api_keys(c, q.name.as_deref(), q.position.as_deref(), q.limit), |p| {
        items(p, |k| key_json(k, with_values))
    })
}

pub(crate) fn get_api_key(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let id = g.path(0);
    let q = KeyQuery::of(g);
    let with_value = q.include_value.unwrap_or(false);
    ok(s.gateway.api_key(c, &id), |k| key_json(&k, with_value))
}

pub(crate) fn update_api_key(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let id = g.path(0);
    let b = &g.input;
    ok(s.gateway.update_api_key(c, &id, &patch_operations(b)), |k| key_json(&k, false))
}

pub(crate) fn delete_api_key(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let id = g.path(0);
    none(s.gateway.delete_api_key(c, &id))
}

pub(crate) fn create_usage_plan(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let b = &g.input;
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
        c,
        string(b, "name").unwrap_or_default(),
        string(b, "description"),
        stages,
        throttle_of(b.get("throttle")),
        quota,
        string_map(b, "tags"),
    );
    ok(plan, |p| plan_json(&p))
}

pub(crate) fn get_usage_plans(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let q = KeyQuery::of(g);
    ok(s.gateway.usage_plans(c, q.key_id.as_deref(), q.position.as_deref(), q.limit), |p| items(p, plan_json))
}

pub(crate) fn get_usage_plan(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let id = g.path(0);
    ok(s.gateway.usage_plan(c, &id), |p| plan_json(&p))
}

pub(crate) fn update_usage_plan(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let id = g.path(0);
    let b = &g.input;
    ok(s.gateway.update_usage_plan(c, &id, &patch_operations(b)), |p| plan_json(&p))
}

pub(crate) fn delete_usage_plan(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let id = g.path(0);
    none(s.gateway.delete_usage_plan(c, &id))
}

pub(crate) fn create_usage_plan_key(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let id = g.path(0);
    let b = &g.input;
    let key = string(b, "keyId").unwrap_or_default();
    let kind = string(b, "keyType").unwrap_or_default();
    ok(s.gateway.create_usage_plan_key(c, &id, &key, &kind), |k| plan_key_json(&k))
}

pub(crate) fn get_usage_plan_keys(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let id = g.path(0);
    ok(s.gateway.usage_plan_keys(c, &id), |keys| json!({ "items": keys.iter().map(plan_key_json).collect::<Vec<_>>() }))
}

pub(crate) fn get_usage_plan_key(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (id, key) = (g.path(0), g.path(1));
    ok(s.gateway.usage_plan_key(c, &id, &key), |k| plan_key_json(&k))
}

pub(crate) fn delete_usage_plan_key(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let (id, key) = (g.path(0), g.path(1));
    none(s.gateway.delete_usage_plan_key(c, &id, &key))
}

/// GetUsage: the current quota period's figures, one `[used, remaining]` per key.
pub(crate) fn get_usage(s: &ApiState, g: &GwCall) -> GwReply {
    let c = &g.caller;
    let id = g.path(0);
    let q = KeyQuery::of(g);
    ok(s.gateway.usage(c, &id, q.key_id.as_deref()), |usage| {
        let values: Map<String, Value> =
            usage.into_iter().map(|(k, (used, remaining))| (k, json!([[used, remaining]]))).collect();
        json!({
            "usagePlanId": id,
            "startDate": q.start_date,
            "endDate": q.end_date,
            "items": values,
        })
    })
}

pub(crate) fn get_account(s: &ApiState, g: &GwCall) -> GwReply {
    Ok(account_json(&s.gateway.account_settings(&g.caller)))
}

pub(crate) fn update_account(s: &ApiState, g: &GwCall) -> GwReply {
    ok(s.gateway.update_account(&g.caller, &patch_operations(&g.input)), |a| account_json(&a))
}

/// The account's settings, with the limits and features every account has.
fn account_json(a: &apigateway::account::AccountSettings) -> Value {
    let mut out = json!({
        "throttleSettings": {"burstLimit": 5000, "rateLimit": 10000.0},
        "features": ["UsagePlans"],
        "apiKeyVersion": "4",
    });
    if let Some(arn) = &a.cloudwatch_role_arn {
        out["cloudwatchRoleArn"] = json!(arn);
    }
    out
}

pub(crate) fn get_tags(s: &ApiState, g: &GwCall) -> GwReply {
    let arn = g.path(0);
    ok(s.gateway.tags(&g.caller, &arn), |t| json!({ "tags": t }))
}

pub(crate) fn tag_resource(s: &ApiState, g: &GwCall) -> GwReply {
    let arn = g.path(0);
    let add = string_map(&g.input, "tags");
    none(s.gateway.change_tags(&g.caller, &arn, &add, &[]))
}

pub(crate) fn untag_resource(s: &ApiState, g: &GwCall) -> GwReply {
    let arn = g.path(0);
    let keys: Vec<String> = g
        .input
        .get("tagKeys")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|k| k.as_str())
        .map(str::to_owned)
        .collect();
    none(s.gateway.change_tags(&g.caller, &arn, &Default::default(), &keys))
}
