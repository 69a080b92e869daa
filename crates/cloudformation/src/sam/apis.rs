//! The REST and HTTP APIs of a SAM template: the implicit `ServerlessRestApi` and
//! `ServerlessHttpApi` that events without an API of their own share, and each
//! `AWS::Serverless::Api` and `AWS::Serverless::HttpApi`, with a definition generated from
//! the events that name them when the template gives none; their deployment and stage.

use indexmap::IndexMap;
use serde_json::{json, Map, Value};

use super::{attributes, digest, resource, s3_location, Out};
use crate::template::TemplateError;

/// An event's route on an API.
pub(crate) struct Route {
    /// The path (`/items/{id}`, or `$default`).
    pub path: String,
    /// The OpenAPI method (`get`, `x-amazon-apigateway-any-method`, …).
    pub method: String,
    /// `Fn::Sub` text of the ARN invoked.
    pub function_arn_sub: String,
}

/// HTTP API integration settings.
struct HttpRoute {
    route: Route,
    version: String,
    timeout: Option<Value>,
}

/// The routes events put on each API.
#[derive(Default)]
pub(crate) struct Apis {
    rest: IndexMap<String, Vec<Route>>,
    http: IndexMap<String, Vec<HttpRoute>>,
}

fn method_key(method: &str) -> String {
    if method == "any" || method == "x-amazon-apigateway-any-method" {
        "x-amazon-apigateway-any-method".into()
    } else {
        method.to_owned()
    }
}

impl Apis {
    /// The stage a REST API's permissions are named for.
    pub fn rest_stage(&self, api: &str, all: &Map<String, Value>) -> String {
        if api == "ServerlessRestApi" {
            return "Prod".into();
        }
        all.get(api)
            .and_then(|a| a.pointer("/Properties/StageName"))
            .and_then(Value::as_str)
            .map(logical_part)
            .unwrap_or_else(|| "Prod".into())
    }

    pub fn rest_route(&mut self, api: &str, r: Route) {
        self.rest.entry(api.to_owned()).or_default().push(r);
    }

    pub fn http_route(&mut self, api: &str, r: Route, version: String, timeout: Option<Value>) {
        self.http.entry(api.to_owned()).or_default().push(HttpRoute { route: r, version, timeout });
    }
}

/// A function's invocation URI, as integrations name it (`partition` written out, or
/// `${AWS::Partition}`).
fn invocation(partition: &str, arn_sub: &str) -> String {
    format!("arn:{partition}:apigateway:${{AWS::Region}}:lambda:path/2015-03-31/functions/{arn_sub}/invocations")
}

fn swagger(routes: &[Route], partition: &str) -> Value {
    let mut paths = Map::new();
    for r in routes {
        let uri = invocation(partition, &r.function_arn_sub);
        let entry = paths.entry(r.path.clone()).or_insert_with(|| json!({}));
        entry[method_key(&r.method)] = json!({
            "x-amazon-apigateway-integration": {"httpMethod": "POST", "type": "aws_proxy", "uri": {"Fn::Sub": uri}},
            "responses": {},
        });
    }
    json!({"swagger": "2.0", "info": {"version": "1.0", "title": {"Ref": "AWS::StackName"}}, "paths": paths})
}

fn openapi(routes: &[HttpRoute], cors: Option<&Value>) -> Value {
    let mut paths = Map::new();
    for r in routes {
        let mut integration = json!({
            "httpMethod": "POST", "type": "aws_proxy",
            "uri": {"Fn::Sub": invocation("${AWS::Partition}", &r.route.function_arn_sub)}, "payloadFormatVersion": r.version,
        });
        if let Some(t) = &r.timeout {
            integration["timeoutInMillis"] = t.clone();
        }
        let entry = paths.entry(r.route.path.clone()).or_insert_with(|| json!({}));
        let mut op = json!({"x-amazon-apigateway-integration": integration, "responses": {}});
        if r.route.path == "$default" {
            op["isDefaultRoute"] = json!(true);
        }
        entry[method_key(&r.route.method)] = op;
    }
    let mut doc = json!({
        "openapi": "3.0.1",
        "info": {"version": "1.0", "title": {"Ref": "AWS::StackName"}},
        "paths": paths,
        "tags": [{"name": "httpapi:createdBy", "x-amazon-apigateway-tag-value": "SAM"}],
    });
    if let Some(c) = cors {
        doc["x-amazon-apigateway-cors"] = match c {
            Value::Bool(true) => json!({"allowOrigins": ["*"], "allowHeaders": ["*"], "allowMethods": ["*"]}),
            Value::String(origin) => json!({"allowOrigins": [origin]}),
            other => {
                let mut o = Map::new();
                for (k, v) in other.as_object().into_iter().flatten() {
                    let mut name = k.clone();
                    name.replace_range(..1, &k[..1].to_ascii_lowercase());
                    o.insert(name, v.clone());
                }
                Value::Object(o)
            }
        };
    }
    doc
}

/// A stage name as it goes into a logical id: its letters and digits.
fn logical_part(stage: &str) -> String {
    stage.replace(|c: char| !c.is_ascii_alphanumeric(), "")
}

/// An API resource: its definition and settings, and the serverless resource's attributes.
fn api_resource(kind: &str, body: Value, extra: Map<String, Value>, from: Option<&Value>) -> Value {
    let mut props = extra;
    props.extend(body.as_object().cloned().unwrap_or_default());
    let mut api = resource(kind, Value::Object(props));
    if let Some(from) = from {
        attributes(from, &mut api);
    }
    api
}

/// A REST API, its deployment and its stage.
fn rest_api(
    logical: &str,
    body: Value,
    stage: &Value,
    extra: Map<String, Value>,
    stage_extra: Map<String, Value>,
    from: Option<&Value>,
    out: &mut Out,
) {
    let api = api_resource("AWS::ApiGateway::RestApi", body, extra, from);
    let hash = digest(&api["Properties"]);
    out.add(logical, api);
    let deployment = format!("{logical}Deployment{hash}");
    out.add(
        deployment.clone(),
        resource(
            "AWS::ApiGateway::Deployment",
            json!({
                "Description": format!("RestApi deployment id: {hash}"),
                "RestApiId": {"Ref": logical},
                "StageName": "Stage",
            }),
        ),
    );
    let stage_name = stage.as_str().map(logical_part).unwrap_or_else(|| "Prod".into());
    let mut sp = json!({"DeploymentId": {"Ref": deployment}, "RestApiId": {"Ref": logical}, "StageName": stage});
    for (k, v) in stage_extra {
        sp[k] = v;
    }
    out.add(format!("{logical}{stage_name}Stage"), resource("AWS::ApiGateway::Stage", sp));
}

/// An HTTP API and its stage.
fn http_api(
    logical: &str,
    body: Value,
    stage: &Value,
    extra: Map<String, Value>,
    stage_extra: Map<String, Value>,
    from: Option<&Value>,
    out: &mut Out,
) {
    out.add(logical, api_resource("AWS::ApiGatewayV2::Api", body, extra, from));
    let stage_logical = match stage.as_str() {
        Some("$default") | None => format!("{logical}ApiGatewayDefaultStage"),
        Some(s) => format!("{logical}{}Stage", logical_part(s)),
    };
    let mut sp = json!({"ApiId": {"Ref": logical}, "StageName": stage, "AutoDeploy": true});
    for (k, v) in stage_extra {
        sp[k] = v;
    }
    let mut tags = json!({"httpapi:createdBy": "SAM"});
    if let Some(Value::Object(own)) = from.and_then(|f| f.pointer("/Properties/Tags")) {
        for (k, v) in own {
            tags[k] = v.clone();
        }
    }
    sp["Tags"] = tags;
    out.add(stage_logical, resource("AWS::ApiGatewayV2::Stage", sp));
}

fn pick(p: &Value, keys: &[&str]) -> Map<String, Value> {
    keys.iter().filter_map(|k| p.get(*k).map(|v| ((*k).to_owned(), v.clone()))).collect()
}

pub(super) fn expand(serverless: &[(String, Value)], out: &mut Out, apis: &mut Apis) -> Result<(), TemplateError> {
    let declared = |name: &str| serverless.iter().any(|(k, _)| k == name);
    if let Some(routes) = apis.rest.get("ServerlessRestApi").filter(|_| !declared("ServerlessRestApi")) {
        rest_api(
            "ServerlessRestApi",
            json!({"Body": swagger(routes, &out.place.partition.clone())}),
            &json!("Prod"),
            Map::new(),
            Map::new(),
            None,
            out,
        );
    }
    if let Some(routes) = apis.http.get("ServerlessHttpApi").filter(|_| !declared("ServerlessHttpApi")) {
        http_api(
            "ServerlessHttpApi",
            json!({"Body": openapi(routes, None)}),
            &json!("$default"),
            Map::new(),
            Map::new(),
            None,
            out,
        );
    }
    for (logical, r) in serverless {
        let kind = r.get("Type").and_then(Value::as_str).unwrap_or_default();
        let p = r.get("Properties").cloned().unwrap_or_else(|| json!({}));
        match kind {
            "AWS::Serverless::Api" => {
                let stage = p.get("StageName").cloned().ok_or_else(|| {
                    TemplateError(format!("Transform AWS::Serverless-2016-10-31 failed with: Invalid Serverless Application Specification document. Resource with id [{logical}] is invalid. Missing required property 'StageName'."))
                })?;
                let body = match (p.get("DefinitionBody"), p.get("DefinitionUri")) {
                    (Some(b), _) => json!({"Body": b}),
                    (None, Some(uri)) => json!({"BodyS3Location": s3_location(uri, "Bucket", "Key", "Version")?}),
                    (None, None) => {
                        json!({"Body": swagger(apis.rest.get(logical).map(Vec::as_slice).unwrap_or(&[]), &out.place.partition.clone())})
                    }
                };
                let mut extra = pick(
                    &p,
                    &[
                        "Name",
                        "Description",
                        "BinaryMediaTypes",
                        "MinimumCompressionSize",
                        "DisableExecuteApiEndpoint",
                        "ApiKeySourceType",
                        "Policy",
                    ],
                );
                match p.get("EndpointConfiguration") {
                    Some(Value::String(t)) => {
                        extra.insert("EndpointConfiguration".into(), json!({"Types": [t]}));
                    }
                    Some(Value::Object(o)) => {
                        extra.insert(
                            "EndpointConfiguration".into(),
                            json!({"Types": [o.get("Type").cloned().unwrap_or(json!("EDGE"))]}),
                        );
                    }
                    _ => {}
                }
                if let Some(Value::Object(tags)) = p.get("Tags") {
                    extra.insert("Tags".into(), tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect());
                }
                let stage_extra = pick(
                    &p,
                    &[
                        "Variables",
                        "MethodSettings",
                        "TracingEnabled",
                        "CacheClusterEnabled",
                        "CacheClusterSize",
                        "AccessLogSetting",
                    ],
                );
                rest_api(logical, body, &stage, extra, stage_extra, Some(r), out);
            }
            "AWS::Serverless::HttpApi" => {
                let stage = p.get("StageName").cloned().unwrap_or_else(|| json!("$default"));
                let body = match (p.get("DefinitionBody"), p.get("DefinitionUri")) {
                    (Some(b), _) => json!({"Body": b}),
                    (None, Some(uri)) => json!({"BodyS3Location": s3_location(uri, "Bucket", "Key", "Version")?}),
                    (None, None) => {
                        json!({"Body": openapi(apis.http.get(logical).map(Vec::as_slice).unwrap_or(&[]), p.get("CorsConfiguration"))})
                    }
                };
                let mut extra = pick(&p, &["Description", "FailOnWarnings", "DisableExecuteApiEndpoint"]);
                if let Some(tags) = p.get("Tags") {
                    extra.insert("Tags".into(), tags.clone());
                }
                let stage_extra =
                    pick(&p, &["StageVariables", "DefaultRouteSettings", "RouteSettings", "AccessLogSettings"]);
                http_api(logical, body, &stage, extra, stage_extra, Some(r), out);
            }
            _ => {}
        }
    }
    Ok(())
}
