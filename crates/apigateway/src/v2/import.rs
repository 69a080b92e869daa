//! ImportApi and ReimportApi for HTTP APIs: an OpenAPI 3 definition (JSON or YAML) read
//! into the API's routes and integrations, as API Gateway reads it: a route per path and
//! method (`x-amazon-apigateway-any-method` is `ANY`, the path `$default` the default
//! route), each operation's `x-amazon-apigateway-integration` an integration (identical
//! ones shared), `info.title` the name and `x-amazon-apigateway-cors` the CORS settings.

use serde_json::Value;

use crate::v2::{ApiInput, HttpApi, IntegrationInput, RouteInput};
use crate::{Caller, GatewayError, GatewayService};

/// The methods an OpenAPI path item may hold, and their route key's method.
const METHODS: [(&str, &str); 8] = [
    ("get", "GET"),
    ("put", "PUT"),
    ("post", "POST"),
    ("delete", "DELETE"),
    ("options", "OPTIONS"),
    ("head", "HEAD"),
    ("patch", "PATCH"),
    ("x-amazon-apigateway-any-method", "ANY"),
];

fn bad(why: &str) -> GatewayError {
    GatewayError::BadRequest(format!("Warnings found during import:\n\tParse issue: {why}"))
}

fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

fn strings(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

/// An OpenAPI 3 document, read.
fn parse(body: &str) -> Result<Value, GatewayError> {
    let doc: Value = match serde_json::from_str(body) {
        Ok(v) => v,
        Err(_) => serde_yaml_ng::from_str(body).map_err(|_| bad("the definition is neither JSON nor YAML"))?,
    };
    let version = text(&doc, "openapi").unwrap_or_default();
    if !version.starts_with('3') {
        return Err(bad("HTTP APIs import OpenAPI 3 definitions (an \"openapi\" version 3.x)"));
    }
    Ok(doc)
}

/// The API's own settings from a definition.
fn api_input(doc: &Value) -> Result<ApiInput, GatewayError> {
    let name = doc.pointer("/info/title").and_then(Value::as_str).ok_or_else(|| bad("info.title is required"))?;
    let cors = doc.get("x-amazon-apigateway-cors").map(|c| model::Cors {
        allow_credentials: c.get("allowCredentials").and_then(Value::as_bool),
        allow_headers: strings(c, "allowHeaders"),
        allow_methods: strings(c, "allowMethods"),
        allow_origins: strings(c, "allowOrigins"),
        expose_headers: strings(c, "exposeHeaders"),
        max_age: c.get("maxAge").and_then(Value::as_i64),
    });
    Ok(ApiInput {
        name: Some(name.to_owned()),
        protocol_type: Some("HTTP".into()),
        description: doc.pointer("/info/description").and_then(Value::as_str).map(str::to_owned),
        version: doc.get("info").and_then(|i| text(i, "version")),
        cors,
        disable_execute_api_endpoint: doc
            .get("x-amazon-apigateway-disable-execute-api-endpoint")
            .and_then(Value::as_bool),
        ..ApiInput::default()
    })
}

/// `(route key, integration)` for each operation of the definition.
fn operations(doc: &Value) -> Result<Vec<(String, IntegrationInput)>, GatewayError> {
    let mut out = Vec::new();
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else { return Ok(out) };
    for (path, item) in paths {
        for (key, method) in METHODS {
            let Some(op) = item.get(key) else { continue };
            let route_key = if path == "$default" { "$default".to_owned() } else { format!("{method} {path}") };
            let Some(i) =
                op.get("x-amazon-apigateway-integration").or_else(|| item.get("x-amazon-apigateway-integration"))
            else {
                return Err(bad(&format!("{route_key} has no x-amazon-apigateway-integration")));
            };
            let kind = text(i, "type").unwrap_or_default().to_ascii_uppercase();
            let integration = IntegrationInput {
                integration_type: Some(kind.clone()),
                uri: text(i, "uri"),
                method: text(i, "httpMethod").map(|m| m.to_ascii_uppercase()),
                payload_format_version: text(i, "payloadFormatVersion").or_else(|| Some("1.0".into())),
                timeout_ms: i.get("timeoutInMillis").and_then(Value::as_i64),
                connection_type: text(i, "connectionType"),
                credentials_arn: text(i, "credentials"),
                description: text(i, "description"),
                ..IntegrationInput::default()
            };
            out.push((route_key, integration));
        }
    }
    Ok(out)
}

impl GatewayService {
    /// ImportApi: a new HTTP API from an OpenAPI 3 definition.
    pub fn import_api(&self, caller: &Caller, body: &str) -> Result<HttpApi, GatewayError> {
        let doc = parse(body)?;
        let ops = operations(&doc)?;
        let api = self.create_api(caller, api_input(&doc)?)?;
        if let Err(e) = self.add_operations(caller, &api.id, ops) {
            let _ = self.delete_api(caller, &api.id);
            return Err(e);
        }
        self.api(caller, &api.id)
    }

    /// ReimportApi: the API's routes and integrations replaced by a definition's.
    pub fn reimport_api(&self, caller: &Caller, id: &str, body: &str) -> Result<HttpApi, GatewayError> {
        let doc = parse(body)?;
        let ops = operations(&doc)?;
        let mut input = api_input(&doc)?;
        input.protocol_type = None;
        self.update_api(caller, id, input)?;
        for r in self.routes(caller, id)? {
            self.delete_route(caller, id, &r.id)?;
        }
        for i in self.integrations_v2(caller, id)? {
            self.delete_integration_v2(caller, id, &i.id)?;
        }
        self.add_operations(caller, id, ops)?;
        self.api(caller, id)
    }

    fn add_operations(
        &self,
        caller: &Caller,
        api: &str,
        ops: Vec<(String, IntegrationInput)>,
    ) -> Result<(), GatewayError> {
        let mut made: Vec<(String, String)> = Vec::new();
        for (route_key, integration) in ops {
            let same = format!(
                "{:?}",
                (
                    &integration.integration_type,
                    &integration.uri,
                    &integration.method,
                    &integration.payload_format_version
                )
            );
            let target = match made.iter().find(|(k, _)| *k == same) {
                Some((_, id)) => id.clone(),
                None => {
                    let id = self.create_integration(caller, api, integration)?.id;
                    made.push((same, id.clone()));
                    id
                }
            };
            let route = RouteInput {
                route_key: Some(route_key),
                target: Some(format!("integrations/{target}")),
                ..RouteInput::default()
            };
            self.create_route(caller, api, route)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_definition_is_routes_and_shared_integrations() {
        let doc = json!({
            "openapi": "3.0.1",
            "info": {"title": "shop", "version": "1.0"},
            "paths": {
                "/items/{id}": {
                    "get": {"x-amazon-apigateway-integration": {"type": "aws_proxy", "httpMethod": "POST", "uri": "arn:f", "payloadFormatVersion": "2.0"}},
                    "x-amazon-apigateway-any-method": {"x-amazon-apigateway-integration": {"type": "aws_proxy", "httpMethod": "POST", "uri": "arn:f", "payloadFormatVersion": "2.0"}}
                },
                "$default": {"x-amazon-apigateway-any-method": {"x-amazon-apigateway-integration": {"type": "http_proxy", "httpMethod": "ANY", "uri": "http://b"}}}
            }
        });
        let ops = operations(&doc).unwrap();
        let keys: Vec<&str> = ops.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["GET /items/{id}", "ANY /items/{id}", "$default"]);
        assert_eq!(ops[0].1.integration_type.as_deref(), Some("AWS_PROXY"));
        assert_eq!(ops[2].1.payload_format_version.as_deref(), Some("1.0"));
        assert_eq!(api_input(&doc).unwrap().name.as_deref(), Some("shop"));
        assert!(parse(r#"{"swagger": "2.0"}"#).is_err());
    }
}
