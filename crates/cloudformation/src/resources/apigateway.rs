//! `AWS::ApiGateway::*` (REST APIs: the API with `Body`/`BodyS3Location` or built by
//! parts, resources, methods with their integrations, deployments, stages, authorizers,
//! gateway responses, request validators, models, API keys, usage plans and their keys) and
//! `AWS::ApiGatewayV2::*` (HTTP and WebSocket APIs, `Body` imported; routes, integrations,
//! stages, deployments, authorizers). REST's operations take camelCase members; v2's take
//! the template's own names.

use serde_json::{json, Map, Value};

use super::{string, tag_map, Ctx, Failed, Kind, Made};
use crate::stack::Resource;

/// Members whose values are user maps, kept as they are.
const VERBATIM: [&str; 10] = [
    "RequestParameters",
    "RequestTemplates",
    "ResponseParameters",
    "ResponseTemplates",
    "RequestModels",
    "ResponseModels",
    "Variables",
    "StageVariables",
    "Parameters",
    "Schema",
];

/// A template object with REST's camelCase member names (user maps kept as they are).
fn camel(v: &Value) -> Value {
    match v {
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| {
                    let mut name = k.clone();
                    if let Some(first) = name.get(..1) {
                        name.replace_range(..1, &first.to_ascii_lowercase());
                    }
                    let v = if VERBATIM.contains(&k.as_str()) { v.clone() } else { camel(v) };
                    (name, v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(camel).collect()),
        other => other.clone(),
    }
}

/// The members of `props` named, camelCased.
fn pick(props: &Value, names: &[&str]) -> Map<String, Value> {
    let mut out = Map::new();
    for n in names {
        if let Some(v) = props.get(*n) {
            let c = camel(&json!({ *n: v }));
            if let Value::Object(o) = c {
                out.extend(o);
            }
        }
    }
    out
}

fn id(out: &Value, key: &str) -> String {
    out[key].as_str().unwrap_or_default().to_owned()
}

/// A REST API's definition: `Body`, or the object `BodyS3Location` names.
async fn definition(ctx: &Ctx<'_>, props: &Value) -> Result<Option<String>, Failed> {
    if let Some(body) = props.get("Body") {
        return Ok(Some(match body {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }));
    }
    let Some(at) = props.get("BodyS3Location") else { return Ok(None) };
    let (bucket, key) =
        (at.get("Bucket").map(string).unwrap_or_default(), at.get("Key").map(string).unwrap_or_default());
    let bytes = ctx.ops.read_object(ctx.acting, &bucket, &key, 10 * 1024 * 1024).await?;
    Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
}

async fn root_resource(ctx: &Ctx<'_>, api: &str) -> Result<String, Failed> {
    let out = ctx.call("apigateway", "GetResources", json!({"restApiId": api, "limit": 500})).await?;
    Ok(out["items"]
        .as_array()
        .and_then(|items| items.iter().find(|r| r["path"] == "/"))
        .map(|r| id(r, "id"))
        .unwrap_or_default())
}

async fn rest_api_made(ctx: &Ctx<'_>, api: &str) -> Result<Made, Failed> {
    let root = root_resource(ctx, api).await?;
    Ok(Made::new(api, json!({"RestApiId": api, "RootResourceId": root})))
}

async fn put_definition(ctx: &Ctx<'_>, api: &str, props: &Value) -> Result<(), Failed> {
    if let Some(body) = definition(ctx, props).await? {
        let mut input = json!({"restApiId": api, "mode": props.get("Mode").map(string).unwrap_or_else(|| "overwrite".into()), "body": body});
        if let Some(f) = super::boolean(props.get("FailOnWarnings")) {
            input["failOnWarnings"] = json!(f);
        }
        if let Some(p) = props.get("Parameters") {
            input["parameters"] = p.clone();
        }
        ctx.call("apigateway", "PutRestApi", input).await?;
        if let Some(name) = props.get("Name") {
            let patch = json!([{"op": "replace", "path": "/name", "value": string(name)}]);
            ctx.call("apigateway", "UpdateRestApi", json!({"restApiId": api, "patchOperations": patch})).await?;
        }
    }
    Ok(())
}

/// A method, its integration and their responses.
async fn put_method(ctx: &Ctx<'_>, props: &Value) -> Result<(), Failed> {
    let api = props.get("RestApiId").map(string).unwrap_or_default();
    let resource = props.get("ResourceId").map(string).unwrap_or_default();
    let method = props.get("HttpMethod").map(string).unwrap_or_default();
    let at = json!({"restApiId": api, "resourceId": resource, "httpMethod": method});
    let mut input = pick(
        props,
        &[
            "AuthorizationType",
            "AuthorizerId",
            "ApiKeyRequired",
            "OperationName",
            "RequestParameters",
            "RequestModels",
            "RequestValidatorId",
            "AuthorizationScopes",
        ],
    );
    input.entry("authorizationType").or_insert_with(|| json!("NONE"));
    input.extend(at.as_object().cloned().unwrap_or_default());
    ctx.call("apigateway", "PutMethod", Value::Object(input)).await?;
    for r in props.get("MethodResponses").and_then(Value::as_array).into_iter().flatten() {
        let mut input = pick(r, &["StatusCode", "ResponseParameters", "ResponseModels"]);
        input.extend(at.as_object().cloned().unwrap_or_default());
        input.insert("statusCode".into(), json!(r.get("StatusCode").map(string).unwrap_or_default()));
        ctx.call("apigateway", "PutMethodResponse", Value::Object(input)).await?;
    }
    if let Some(i) = props.get("Integration") {
        let mut input = pick(
            i,
            &[
                "Type",
                "IntegrationHttpMethod",
                "Uri",
                "ConnectionType",
                "ConnectionId",
                "Credentials",
                "RequestParameters",
                "RequestTemplates",
                "PassthroughBehavior",
                "CacheNamespace",
                "CacheKeyParameters",
                "ContentHandling",
                "TimeoutInMillis",
                "TlsConfig",
            ],
        );
        input.extend(at.as_object().cloned().unwrap_or_default());
        ctx.call("apigateway", "PutIntegration", Value::Object(input)).await?;
        for r in i.get("IntegrationResponses").and_then(Value::as_array).into_iter().flatten() {
            let mut input =
                pick(r, &["SelectionPattern", "ResponseParameters", "ResponseTemplates", "ContentHandling"]);
            input.extend(at.as_object().cloned().unwrap_or_default());
            input.insert("statusCode".into(), json!(r.get("StatusCode").map(string).unwrap_or_default()));
            ctx.call("apigateway", "PutIntegrationResponse", Value::Object(input)).await?;
        }
    }
    Ok(())
}

/// Stage settings written as patches (REST): method settings' throttles and logging.
fn method_patches(props: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    for m in props.get("MethodSettings").and_then(Value::as_array).into_iter().flatten() {
        let path = m.get("ResourcePath").map(string).unwrap_or_else(|| "/*".into());
        let path = if path == "/*" { "*".to_owned() } else { path.replace('/', "~1") };
        let method = m.get("HttpMethod").map(string).unwrap_or_else(|| "*".into());
        for (prop, setting) in [
            ("ThrottlingBurstLimit", "throttling/burstLimit"),
            ("ThrottlingRateLimit", "throttling/rateLimit"),
            ("LoggingLevel", "logging/loglevel"),
            ("MetricsEnabled", "metrics/enabled"),
            ("DataTraceEnabled", "logging/dataTrace"),
            ("CachingEnabled", "caching/enabled"),
        ] {
            if let Some(v) = m.get(prop) {
                out.push(json!({"op": "replace", "path": format!("/{path}/{method}/{setting}"), "value": string(v)}));
            }
        }
    }
    out
}

/// A stage's `AccessLogSetting` as UpdateStage's patches (CreateStage takes none): set
/// where given or changed, removed where it was and is no more.
fn access_log_patches(before: Option<&Value>, props: &Value) -> Vec<Value> {
    let (was, is) = (before.and_then(|b| b.get("AccessLogSetting")), props.get("AccessLogSetting"));
    if was == is {
        return Vec::new();
    }
    let Some(setting) = is else {
        return vec![json!({"op": "remove", "path": "/accessLogSettings"})];
    };
    [("DestinationArn", "destinationArn"), ("Format", "format")]
        .iter()
        .filter_map(|(prop, field)| {
            let value = setting.get(*prop)?;
            Some(json!({"op": "replace", "path": format!("/accessLogSettings/{field}"), "value": string(value)}))
        })
        .collect()
}

/// A REST authorizer's properties that change in place, and their patch paths.
const AUTHORIZER_FIELDS: &[(&str, &str)] = &[
    ("Name", "/name"),
    ("Type", "/type"),
    ("AuthType", "/authType"),
    ("AuthorizerUri", "/authorizerUri"),
    ("AuthorizerCredentials", "/authorizerCredentials"),
    ("IdentitySource", "/identitySource"),
    ("IdentityValidationExpression", "/identityValidationExpression"),
    ("AuthorizerResultTtlInSeconds", "/authorizerResultTtlInSeconds"),
];

/// A usage plan's limits: the property, its patch path, and its members' fields.
type Limits = [(&'static str, &'static str, &'static [(&'static str, &'static str)])];
const PLAN_LIMITS: &Limits = &[
    ("Throttle", "/throttle", &[("BurstLimit", "burstLimit"), ("RateLimit", "rateLimit")]),
    ("Quota", "/quota", &[("Limit", "limit"), ("Period", "period"), ("Offset", "offset")]),
];

/// A usage plan's changed settings as UpdateUsagePlan's patches.
fn usage_plan_patches(before: &Value, props: &Value) -> Vec<Value> {
    let mut patch = Vec::new();
    let changed = |prop: &str| before.get(prop) != props.get(prop);
    for (prop, path) in [("UsagePlanName", "/name"), ("Description", "/description")] {
        if changed(prop) {
            let value = props.get(prop).map(string).unwrap_or_default();
            patch.push(json!({"op": "replace", "path": path, "value": value}));
        }
    }
    for &(prop, path, fields) in PLAN_LIMITS {
        if !changed(prop) {
            continue;
        }
        let Some(group) = props.get(prop) else {
            patch.push(json!({"op": "remove", "path": path}));
            continue;
        };
        for (member, field) in fields {
            if let Some(v) = group.get(*member) {
                patch.push(json!({"op": "replace", "path": format!("{path}/{field}"), "value": string(v)}));
            }
        }
    }
    let stages = |p: &Value| -> Vec<String> {
        let list = p.get("ApiStages").and_then(Value::as_array).cloned().unwrap_or_default();
        list.iter()
            .map(|s| {
                format!(
                    "{}:{}",
                    s.get("ApiId").map(string).unwrap_or_default(),
                    s.get("Stage").map(string).unwrap_or_default()
                )
            })
            .collect()
    };
    let (was, is) = (stages(before), stages(props));
    for gone in was.iter().filter(|s| !is.contains(s)) {
        patch.push(json!({"op": "remove", "path": "/apiStages", "value": gone}));
    }
    for new in is.iter().filter(|s| !was.contains(s)) {
        patch.push(json!({"op": "add", "path": "/apiStages", "value": new}));
    }
    patch
}

pub(super) async fn create(kind: &Kind, ctx: &Ctx<'_>, props: &Value) -> Result<Made, Failed> {
    let api = props.get("RestApiId").map(string).unwrap_or_default();
    match kind.name {
        "AWS::ApiGateway::RestApi" => {
            let mut input = pick(
                props,
                &[
                    "Description",
                    "Version",
                    "CloneFrom",
                    "BinaryMediaTypes",
                    "MinimumCompressionSize",
                    "EndpointConfiguration",
                    "DisableExecuteApiEndpoint",
                ],
            );
            let name = match props.get("Name") {
                Some(n) => string(n),
                None => {
                    let body = definition(ctx, props).await?;
                    let title = body
                        .and_then(|b| {
                            serde_json::from_str::<Value>(&b).ok().or_else(|| serde_yaml_ng::from_str(&b).ok())
                        })
                        .and_then(|d| d.pointer("/info/title").map(string));
                    title.unwrap_or_else(|| ctx.logical.to_owned())
                }
            };
            input.insert("name".into(), json!(name));
            if let Some(s) = props.get("ApiKeySourceType") {
                input.insert("apiKeySource".into(), json!(string(s)));
            }
            if let Some(p) = props.get("Policy") {
                input.insert("policy".into(), json!(super::document(p)));
            }
            let tags = tag_map(props.get("Tags"));
            if !tags.is_empty() {
                input.insert("tags".into(), Value::Object(tags));
            }
            let out = ctx.call("apigateway", "CreateRestApi", Value::Object(input)).await?;
            let api = id(&out, "id");
            put_definition(ctx, &api, props).await?;
            rest_api_made(ctx, &api).await
        }
        "AWS::ApiGateway::Resource" => {
            let out = ctx
                .call(
                    "apigateway",
                    "CreateResource",
                    json!({"restApiId": api, "parentId": props.get("ParentId").map(string).unwrap_or_default(), "pathPart": props.get("PathPart").map(string).unwrap_or_default()}),
                )
                .await?;
            let rid = id(&out, "id");
            Ok(Made::new(rid.clone(), json!({"ResourceId": rid})))
        }
        "AWS::ApiGateway::Method" => {
            put_method(ctx, props).await?;
            Ok(Made::new(super::generated_name(ctx.stack_name, ctx.logical, 128, false), json!({})))
        }
        "AWS::ApiGateway::Deployment" => {
            let mut input = pick(props, &["StageName", "Description"]);
            input.insert("restApiId".into(), json!(api));
            if let Some(d) = props.pointer("/StageDescription/Description") {
                input.insert("stageDescription".into(), json!(string(d)));
            }
            let out = ctx.call("apigateway", "CreateDeployment", Value::Object(input)).await?;
            let did = id(&out, "id");
            Ok(Made::new(did.clone(), json!({"DeploymentId": did})))
        }
        "AWS::ApiGateway::Stage" => {
            let mut input = pick(
                props,
                &[
                    "StageName",
                    "DeploymentId",
                    "Description",
                    "CacheClusterEnabled",
                    "CacheClusterSize",
                    "Variables",
                    "TracingEnabled",
                    "DocumentationVersion",
                ],
            );
            input.insert("restApiId".into(), json!(api));
            let tags = tag_map(props.get("Tags"));
            if !tags.is_empty() {
                input.insert("tags".into(), Value::Object(tags));
            }
            let out = ctx.call("apigateway", "CreateStage", Value::Object(input)).await?;
            let name = id(&out, "stageName");
            let mut patches = access_log_patches(None, props);
            patches.extend(method_patches(props));
            if !patches.is_empty() {
                ctx.call(
                    "apigateway",
                    "UpdateStage",
                    json!({"restApiId": api, "stageName": name, "patchOperations": patches}),
                )
                .await?;
            }
            Ok(Made::new(name, json!({})))
        }
        "AWS::ApiGateway::Authorizer" => {
            let fields: Vec<&str> = AUTHORIZER_FIELDS.iter().map(|(prop, _)| *prop).collect();
            let mut input = pick(props, &fields);
            if let Some(p) = props.get("ProviderARNs") {
                input.insert("providerARNs".into(), p.clone());
            }
            input.insert("restApiId".into(), json!(api));
            let out = ctx.call("apigateway", "CreateAuthorizer", Value::Object(input)).await?;
            let aid = id(&out, "id");
            Ok(Made::new(aid.clone(), json!({"AuthorizerId": aid})))
        }
        "AWS::ApiGateway::GatewayResponse" => {
            let mut input = pick(props, &["ResponseType", "StatusCode", "ResponseParameters", "ResponseTemplates"]);
            input.insert("restApiId".into(), json!(api));
            ctx.call("apigateway", "PutGatewayResponse", Value::Object(input)).await?;
            Ok(Made::new(super::generated_name(ctx.stack_name, ctx.logical, 128, false), json!({})))
        }
        "AWS::ApiGateway::RequestValidator" => {
            let mut input = pick(props, &["Name", "ValidateRequestBody", "ValidateRequestParameters"]);
            input.insert("restApiId".into(), json!(api));
            let out = ctx.call("apigateway", "CreateRequestValidator", Value::Object(input)).await?;
            let vid = id(&out, "id");
            Ok(Made::new(vid.clone(), json!({"RequestValidatorId": vid})))
        }
        "AWS::ApiGateway::Model" => {
            let mut input = pick(props, &["Name", "Description", "ContentType"]);
            let name = props.get("Name").map(string).unwrap_or_else(|| format!("{}{}", ctx.logical, super::suffix()));
            input.insert("name".into(), json!(name));
            input.entry("contentType").or_insert_with(|| json!("application/json"));
            if let Some(schema) = props.get("Schema") {
                input.insert("schema".into(), json!(super::document(schema)));
            }
            input.insert("restApiId".into(), json!(api));
            ctx.call("apigateway", "CreateModel", Value::Object(input)).await?;
            Ok(Made::new(name, json!({})))
        }
        "AWS::ApiGateway::ApiKey" => {
            let mut input = pick(props, &["Description", "Enabled", "GenerateDistinctId", "Value", "CustomerId"]);
            input.insert(
                "name".into(),
                json!(props.get("Name").map(string).unwrap_or_else(|| super::generated_name(
                    ctx.stack_name,
                    ctx.logical,
                    128,
                    false
                ))),
            );
            if let Some(keys) = props.get("StageKeys").and_then(Value::as_array) {
                input.insert("stageKeys".into(), keys.iter().map(|k| json!({"restApiId": k.get("RestApiId").map(string), "stageName": k.get("StageName").map(string)})).collect());
            }
            let tags = tag_map(props.get("Tags"));
            if !tags.is_empty() {
                input.insert("tags".into(), Value::Object(tags));
            }
            let out = ctx.call("apigateway", "CreateApiKey", Value::Object(input)).await?;
            let kid = id(&out, "id");
            Ok(Made::new(kid.clone(), json!({"APIKeyId": kid})))
        }
        "AWS::ApiGateway::UsagePlan" => {
            let mut input = pick(props, &["Description", "Throttle", "Quota"]);
            input.insert(
                "name".into(),
                json!(props.get("UsagePlanName").map(string).unwrap_or_else(|| super::generated_name(
                    ctx.stack_name,
                    ctx.logical,
                    128,
                    false
                ))),
            );
            if let Some(stages) = props.get("ApiStages").and_then(Value::as_array) {
                input.insert("apiStages".into(), stages.iter().map(camel).collect());
            }
            let tags = tag_map(props.get("Tags"));
            if !tags.is_empty() {
                input.insert("tags".into(), Value::Object(tags));
            }
            let out = ctx.call("apigateway", "CreateUsagePlan", Value::Object(input)).await?;
            let pid = id(&out, "id");
            Ok(Made::new(pid.clone(), json!({"Id": pid})))
        }
        "AWS::ApiGateway::Account" => {
            account(ctx, props).await?;
            let id = super::generated_name(ctx.stack_name, ctx.logical, 128, false);
            Ok(Made::new(id.clone(), json!({"Id": id})))
        }
        "AWS::ApiGateway::UsagePlanKey" => {
            let input = pick(props, &["UsagePlanId", "KeyId", "KeyType"]);
            let out = ctx.call("apigateway", "CreateUsagePlanKey", Value::Object(input)).await?;
            let kid = id(&out, "id");
            Ok(Made::new(
                format!("{}:{kid}", props.get("UsagePlanId").map(string).unwrap_or_default()),
                json!({"Id": kid}),
            ))
        }
        _ => create_v2(kind, ctx, props).await,
    }
}

/// v2's input: the template's members, those the operation takes.
fn v2_input(props: &Value, skip: &[&str]) -> Map<String, Value> {
    let mut out: Map<String, Value> = props.as_object().cloned().unwrap_or_default();
    out.retain(|k, _| !skip.contains(&k.as_str()));
    out
}

async fn create_v2(kind: &Kind, ctx: &Ctx<'_>, props: &Value) -> Result<Made, Failed> {
    match kind.name {
        "AWS::ApiGatewayV2::Api" => {
            let out = match definition(ctx, props).await? {
                Some(body) => {
                    let mut input = json!({"Body": body});
                    if let Some(f) = super::boolean(props.get("FailOnWarnings")) {
                        input["FailOnWarnings"] = json!(f);
                    }
                    if let Some(b) = props.get("BasePath") {
                        input["Basepath"] = json!(string(b));
                    }
                    let out = ctx.call("apigatewayv2", "ImportApi", input).await?;
                    let mut patch = v2_input(
                        props,
                        &["Body", "BodyS3Location", "FailOnWarnings", "BasePath", "Tags", "ProtocolType"],
                    );
                    if !patch.is_empty() {
                        patch.insert("ApiId".into(), out["ApiId"].clone());
                        ctx.call("apigatewayv2", "UpdateApi", Value::Object(patch)).await?
                    } else {
                        out
                    }
                }
                None => {
                    let input = v2_input(props, &["FailOnWarnings", "BasePath"]);
                    ctx.call("apigatewayv2", "CreateApi", Value::Object(input)).await?
                }
            };
            let aid = id(&out, "ApiId");
            Ok(Made::new(aid.clone(), json!({"ApiId": aid, "ApiEndpoint": out["ApiEndpoint"]})))
        }
        "AWS::ApiGatewayV2::Stage" => {
            let out = ctx.call("apigatewayv2", "CreateStage", Value::Object(v2_input(props, &[]))).await?;
            Ok(Made::new(id(&out, "StageName"), json!({})))
        }
        "AWS::ApiGatewayV2::Route" => {
            let out = ctx.call("apigatewayv2", "CreateRoute", Value::Object(v2_input(props, &[]))).await?;
            let rid = id(&out, "RouteId");
            Ok(Made::new(rid.clone(), json!({"RouteId": rid})))
        }
        "AWS::ApiGatewayV2::Integration" => {
            let out = ctx.call("apigatewayv2", "CreateIntegration", Value::Object(v2_input(props, &[]))).await?;
            let iid = id(&out, "IntegrationId");
            Ok(Made::new(iid.clone(), json!({"IntegrationId": iid})))
        }
        "AWS::ApiGatewayV2::Deployment" => {
            let out = ctx.call("apigatewayv2", "CreateDeployment", Value::Object(v2_input(props, &[]))).await?;
            let did = id(&out, "DeploymentId");
            Ok(Made::new(did.clone(), json!({"DeploymentId": did})))
        }
        _ => {
            let out = ctx.call("apigatewayv2", "CreateAuthorizer", Value::Object(v2_input(props, &[]))).await?;
            let aid = id(&out, "AuthorizerId");
            Ok(Made::new(aid.clone(), json!({"AuthorizerId": aid})))
        }
    }
}

pub(super) async fn update(kind: &Kind, ctx: &Ctx<'_>, old: &Resource, props: &Value) -> Result<Made, Failed> {
    let physical = old.physical.clone().unwrap_or_default();
    let api = props.get("RestApiId").map(string).unwrap_or_default();
    match kind.name {
        "AWS::ApiGateway::RestApi" => {
            if old.properties.get("Body") != props.get("Body")
                || old.properties.get("BodyS3Location") != props.get("BodyS3Location")
            {
                put_definition(ctx, &physical, props).await?;
            }
            let mut patch = Vec::new();
            for (prop, path) in [("Description", "/description"), ("Name", "/name")] {
                if old.properties.get(prop) != props.get(prop) {
                    if let Some(v) = props.get(prop) {
                        patch.push(json!({"op": "replace", "path": path, "value": string(v)}));
                    }
                }
            }
            if !patch.is_empty() {
                ctx.call("apigateway", "UpdateRestApi", json!({"restApiId": physical, "patchOperations": patch}))
                    .await?;
            }
            retag(ctx, &format!("/restapis/{physical}"), &old.properties, props).await?;
            rest_api_made(ctx, &physical).await
        }
        "AWS::ApiGateway::Method" => {
            delete(kind, ctx, old).await?;
            put_method(ctx, props).await?;
            Ok(Made { physical, attributes: old.attributes.clone() })
        }
        "AWS::ApiGateway::Stage" => {
            let mut patch = Vec::new();
            for (prop, path) in [
                ("DeploymentId", "/deploymentId"),
                ("Description", "/description"),
                ("TracingEnabled", "/tracingEnabled"),
            ] {
                if old.properties.get(prop) != props.get(prop) {
                    patch.push(json!({"op": "replace", "path": path, "value": props.get(prop).map(string).unwrap_or_default()}));
                }
            }
            let before = old.properties.get("Variables").and_then(Value::as_object).cloned().unwrap_or_default();
            let after = props.get("Variables").and_then(Value::as_object).cloned().unwrap_or_default();
            for k in before.keys().filter(|k| !after.contains_key(*k)) {
                patch.push(json!({"op": "remove", "path": format!("/variables/{k}")}));
            }
            for (k, v) in after.iter().filter(|(k, v)| before.get(*k) != Some(*v)) {
                patch.push(json!({"op": "replace", "path": format!("/variables/{k}"), "value": string(v)}));
            }
            patch.extend(access_log_patches(Some(&old.properties), props));
            patch.extend(method_patches(props));
            if !patch.is_empty() {
                ctx.call(
                    "apigateway",
                    "UpdateStage",
                    json!({"restApiId": api, "stageName": physical, "patchOperations": patch}),
                )
                .await?;
            }
            retag(ctx, &format!("/restapis/{api}/stages/{physical}"), &old.properties, props).await?;
            Ok(Made { physical, attributes: old.attributes.clone() })
        }
        "AWS::ApiGateway::GatewayResponse" => {
            create(kind, ctx, props).await.map(|_| Made { physical, attributes: old.attributes.clone() })
        }
        "AWS::ApiGateway::Account" => {
            account(ctx, props).await?;
            Ok(Made { physical, attributes: old.attributes.clone() })
        }
        "AWS::ApiGateway::Authorizer" => {
            let mut patch = Vec::new();
            for (prop, path) in AUTHORIZER_FIELDS {
                if old.properties.get(*prop) != props.get(*prop) {
                    let mut op = json!({"op": "replace", "path": path});
                    if let Some(v) = props.get(*prop) {
                        op["value"] = json!(string(v));
                    }
                    patch.push(op);
                }
            }
            if !patch.is_empty() {
                let input = json!({"restApiId": api, "authorizerId": physical, "patchOperations": patch});
                ctx.call("apigateway", "UpdateAuthorizer", input).await?;
            }
            Ok(Made { physical, attributes: old.attributes.clone() })
        }
        "AWS::ApiGateway::Deployment" => {
            if old.properties.get("Description") != props.get("Description") {
                let value = props.get("Description").map(string).unwrap_or_default();
                let patch = json!([{"op": "replace", "path": "/description", "value": value}]);
                let input = json!({"restApiId": api, "deploymentId": physical, "patchOperations": patch});
                ctx.call("apigateway", "UpdateDeployment", input).await?;
            }
            Ok(Made { physical, attributes: old.attributes.clone() })
        }
        "AWS::ApiGateway::UsagePlan" => {
            let patch = usage_plan_patches(&old.properties, props);
            if !patch.is_empty() {
                let input = json!({"usagePlanId": physical, "patchOperations": patch});
                ctx.call("apigateway", "UpdateUsagePlan", input).await?;
            }
            retag(ctx, &format!("/usageplans/{physical}"), &old.properties, props).await?;
            Ok(Made { physical, attributes: old.attributes.clone() })
        }
        "AWS::ApiGatewayV2::Api" => {
            if definition(ctx, props).await?.is_some() {
                let body = definition(ctx, props).await?.unwrap_or_default();
                ctx.call("apigatewayv2", "ReimportApi", json!({"ApiId": physical, "Body": body})).await?;
            } else {
                let mut input = v2_input(props, &["FailOnWarnings", "BasePath", "Tags", "ProtocolType"]);
                input.insert("ApiId".into(), json!(physical));
                ctx.call("apigatewayv2", "UpdateApi", Value::Object(input)).await?;
            }
            Ok(Made { physical, attributes: old.attributes.clone() })
        }
        "AWS::ApiGatewayV2::Stage" => {
            let mut input = v2_input(props, &["Tags"]);
            input.insert("StageName".into(), json!(physical));
            ctx.call("apigatewayv2", "UpdateStage", Value::Object(input)).await?;
            Ok(Made { physical, attributes: old.attributes.clone() })
        }
        "AWS::ApiGatewayV2::Route" | "AWS::ApiGatewayV2::Integration" | "AWS::ApiGatewayV2::Authorizer" => {
            let (op, key) = match kind.name {
                "AWS::ApiGatewayV2::Route" => ("UpdateRoute", "RouteId"),
                "AWS::ApiGatewayV2::Integration" => ("UpdateIntegration", "IntegrationId"),
                _ => ("UpdateAuthorizer", "AuthorizerId"),
            };
            let mut input = v2_input(props, &[]);
            input.insert(key.into(), json!(physical));
            ctx.call("apigatewayv2", op, Value::Object(input)).await?;
            Ok(Made { physical, attributes: old.attributes.clone() })
        }
        // The rest change by replacement, or carry nothing to update.
        _ => Ok(Made { physical, attributes: old.attributes.clone() }),
    }
}

/// Brings a resource's tags from `old`'s to `props`' (TagResource, UntagResource).
async fn retag(ctx: &Ctx<'_>, path: &str, old: &Value, props: &Value) -> Result<(), Failed> {
    let (was, is) = (tag_map(old.get("Tags")), tag_map(props.get("Tags")));
    if was == is {
        return Ok(());
    }
    let arn = format!("arn:aws:apigateway:{}::{path}", ctx.acting.region);
    let gone: Vec<&String> = was.keys().filter(|k| !is.contains_key(*k)).collect();
    if !gone.is_empty() {
        ctx.call("apigateway", "UntagResource", json!({"resourceArn": arn, "tagKeys": gone})).await?;
    }
    if !is.is_empty() {
        ctx.call("apigateway", "TagResource", json!({"resourceArn": arn, "tags": is})).await?;
    }
    Ok(())
}

/// `AWS::ApiGateway::Account`: the account's CloudWatch role, set by UpdateAccount.
async fn account(ctx: &Ctx<'_>, props: &Value) -> Result<(), Failed> {
    let role = props.get("CloudWatchRoleArn").map(string).unwrap_or_default();
    let patch = json!([{"op": "replace", "path": "/cloudwatchRoleArn", "value": role}]);
    ctx.call("apigateway", "UpdateAccount", json!({"patchOperations": patch})).await?;
    Ok(())
}

pub(super) async fn delete(kind: &Kind, ctx: &Ctx<'_>, old: &Resource) -> Result<(), Failed> {
    if kind.name == "AWS::ApiGateway::Account" {
        // The account's settings stay as the stack left them, as on AWS.
        return Ok(());
    }
    let physical = old.physical.clone().unwrap_or_default();
    let p = &old.properties;
    let api = p.get("RestApiId").map(string).unwrap_or_default();
    let v2api = p.get("ApiId").map(string).unwrap_or_default();
    let (service, op, input) = match kind.name {
        "AWS::ApiGateway::RestApi" => ("apigateway", "DeleteRestApi", json!({"restApiId": physical})),
        "AWS::ApiGateway::Resource" => {
            ("apigateway", "DeleteResource", json!({"restApiId": api, "resourceId": physical}))
        }
        "AWS::ApiGateway::Method" => (
            "apigateway",
            "DeleteMethod",
            json!({"restApiId": api, "resourceId": p.get("ResourceId").map(string), "httpMethod": p.get("HttpMethod").map(string)}),
        ),
        "AWS::ApiGateway::Deployment" => {
            // A deployment that made its own stage takes the stage with it, unless another
            // deployment has taken the stage over since (a replacement's).
            if let Some(stage) = p.get("StageName") {
                let at = json!({"restApiId": api, "stageName": string(stage)});
                let ours = match ctx.ops.call(ctx.acting, "apigateway", "GetStage", at.clone()).await {
                    Ok(s) => s.get("deploymentId").and_then(Value::as_str) == Some(physical.as_str()),
                    Err(_) => false,
                };
                if ours {
                    ctx.call_gone_ok("apigateway", "DeleteStage", at).await?;
                }
            }
            ("apigateway", "DeleteDeployment", json!({"restApiId": api, "deploymentId": physical}))
        }
        "AWS::ApiGateway::Stage" => ("apigateway", "DeleteStage", json!({"restApiId": api, "stageName": physical})),
        "AWS::ApiGateway::Authorizer" => {
            ("apigateway", "DeleteAuthorizer", json!({"restApiId": api, "authorizerId": physical}))
        }
        "AWS::ApiGateway::GatewayResponse" => (
            "apigateway",
            "DeleteGatewayResponse",
            json!({"restApiId": api, "responseType": p.get("ResponseType").map(string)}),
        ),
        "AWS::ApiGateway::RequestValidator" => {
            ("apigateway", "DeleteRequestValidator", json!({"restApiId": api, "requestValidatorId": physical}))
        }
        "AWS::ApiGateway::Model" => ("apigateway", "DeleteModel", json!({"restApiId": api, "modelName": physical})),
        "AWS::ApiGateway::ApiKey" => ("apigateway", "DeleteApiKey", json!({"apiKey": physical})),
        "AWS::ApiGateway::UsagePlan" => ("apigateway", "DeleteUsagePlan", json!({"usagePlanId": physical})),
        "AWS::ApiGateway::UsagePlanKey" => (
            "apigateway",
            "DeleteUsagePlanKey",
            json!({"usagePlanId": p.get("UsagePlanId").map(string), "keyId": p.get("KeyId").map(string)}),
        ),
        "AWS::ApiGatewayV2::Api" => ("apigatewayv2", "DeleteApi", json!({"ApiId": physical})),
        "AWS::ApiGatewayV2::Stage" => ("apigatewayv2", "DeleteStage", json!({"ApiId": v2api, "StageName": physical})),
        "AWS::ApiGatewayV2::Route" => ("apigatewayv2", "DeleteRoute", json!({"ApiId": v2api, "RouteId": physical})),
        "AWS::ApiGatewayV2::Integration" => {
            ("apigatewayv2", "DeleteIntegration", json!({"ApiId": v2api, "IntegrationId": physical}))
        }
        "AWS::ApiGatewayV2::Deployment" => {
            ("apigatewayv2", "DeleteDeployment", json!({"ApiId": v2api, "DeploymentId": physical}))
        }
        _ => ("apigatewayv2", "DeleteAuthorizer", json!({"ApiId": v2api, "AuthorizerId": physical})),
    };
    ctx.call_gone_ok(service, op, input).await
}
