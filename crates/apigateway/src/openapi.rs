//! OpenAPI 3 and Swagger 2 definitions with API Gateway's extensions
//! (`x-amazon-apigateway-integration`, `-authorizer`, `-any-method`, `-binary-media-types`,
//! `-api-key-source`, `-endpoint-configuration`, `-documentation`), read into a REST API's
//! resources, methods, authorizers and documentation parts. Pure: the document in, the
//! definition out.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::definitions::DocumentationPart;
use crate::rest::{
    AuthorizationType, Authorizer, AuthorizerType, Draft, Integration, IntegrationResponse, Method, MethodResponse,
};
use crate::GatewayError;

/// What a definition describes.
#[derive(Debug, Clone, Default)]
pub struct Definition {
    /// `info.title`.
    pub name: String,
    /// `info.description`.
    pub description: Option<String>,
    /// `info.version`.
    pub version: Option<String>,
    /// `x-amazon-apigateway-binary-media-types`.
    pub binary_media_types: Vec<String>,
    /// `x-amazon-apigateway-api-key-source`.
    pub api_key_source: Option<String>,
    /// `x-amazon-apigateway-endpoint-configuration.types`.
    pub endpoint_types: Vec<String>,
    /// Authorizers from security schemes, by scheme name (ids are assigned on import).
    pub authorizers: BTreeMap<String, Authorizer>,
    /// Methods by path; a CUSTOM method's `authorizer_id` holds its scheme's name.
    pub paths: BTreeMap<String, Vec<Operation>>,
    /// What was ignored or could not be imported.
    pub warnings: Vec<String>,
    /// `x-amazon-apigateway-documentation.documentationParts`, in order (ids are
    /// assigned on import).
    pub documentation: Vec<DocumentationPart>,
}

/// A method of a definition, with its integration as given: its type is read on import.
#[derive(Debug, Clone)]
pub struct Operation {
    /// The method, without its integration.
    pub method: Method,
    /// `x-amazon-apigateway-integration`, if the method has one.
    pub integration: Option<Draft<Integration>>,
}

/// The documentation parts of a definition's `x-amazon-apigateway-documentation`, their
/// locations completed as AWS completes them (`path` `/` where the type has one).
pub fn documentation_parts(doc: &Value) -> Vec<DocumentationPart> {
    let parts = doc.get("x-amazon-apigateway-documentation").and_then(|d| d.get("documentationParts"));
    parts
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|p| {
            let location = p.get("location").cloned().unwrap_or(Value::Null);
            let location_type = text(&location, "type").unwrap_or_default();
            let has_path = !matches!(location_type.as_str(), "API" | "AUTHORIZER" | "MODEL");
            DocumentationPart {
                path: text(&location, "path").or_else(|| has_path.then(|| "/".to_owned())),
                method: text(&location, "method"),
                status_code: text(&location, "statusCode"),
                name: text(&location, "name"),
                location_type,
                properties: p.get("properties").map(Value::to_string).unwrap_or_else(|| "{}".into()),
                ..Default::default()
            }
        })
        .collect()
}

/// Parses a definition from JSON or YAML text.
pub fn parse(text: &[u8]) -> Result<Definition, GatewayError> {
    let doc: Value = match serde_json::from_slice(text) {
        Ok(v) => v,
        Err(_) => serde_yaml_ng::from_slice(text).map_err(|e| {
            GatewayError::BadRequest(format!("Invalid OpenAPI input: the document is neither JSON nor YAML ({e})"))
        })?,
    };
    read(&doc)
}

fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn text_map(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_object)
        .map(|o| o.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned()))).collect())
        .unwrap_or_default()
}

fn list(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default()
}

const METHODS: [(&str, &str); 8] = [
    ("get", "GET"),
    ("put", "PUT"),
    ("post", "POST"),
    ("delete", "DELETE"),
    ("patch", "PATCH"),
    ("head", "HEAD"),
    ("options", "OPTIONS"),
    ("x-amazon-apigateway-any-method", "ANY"),
];

/// Reads a parsed document.
pub fn read(doc: &Value) -> Result<Definition, GatewayError> {
    let openapi3 = doc.get("openapi").and_then(Value::as_str).is_some_and(|v| v.starts_with('3'));
    let swagger2 = doc.get("swagger").and_then(Value::as_str).is_some_and(|v| v.starts_with('2'));
    if !openapi3 && !swagger2 {
        return Err(GatewayError::BadRequest(
            "Invalid OpenAPI input: the document must be OpenAPI 3 (`openapi: 3.x`) or Swagger 2 (`swagger: 2.0`)"
                .into(),
        ));
    }
    let info = doc.get("info").cloned().unwrap_or(Value::Null);
    let mut def = Definition {
        name: text(&info, "title").unwrap_or_default(),
        description: text(&info, "description"),
        version: text(&info, "version"),
        binary_media_types: list(doc.get("x-amazon-apigateway-binary-media-types")),
        api_key_source: text(doc, "x-amazon-apigateway-api-key-source"),
        endpoint_types: list(doc.get("x-amazon-apigateway-endpoint-configuration").and_then(|e| e.get("types"))),
        documentation: documentation_parts(doc),
        ..Default::default()
    };
    if def.name.is_empty() {
        return Err(GatewayError::BadRequest("Invalid OpenAPI input: info.title is required".into()));
    }
    let schemes = security_schemes(doc, openapi3, &mut def);
    let global_security = doc.get("security");
    for (path, item) in doc.get("paths").and_then(Value::as_object).into_iter().flatten() {
        if !path.starts_with('/') {
            def.warnings.push(format!("Path {path} does not start with / and was ignored"));
            continue;
        }
        let shared_parameters = item.get("parameters");
        let mut methods = Vec::new();
        for (key, http_method) in METHODS {
            let Some(op) = item.get(key) else { continue };
            methods.push(method(op, http_method, shared_parameters, global_security, &def, &schemes));
        }
        def.paths.insert(path.clone(), methods);
    }
    Ok(def)
}

/// The security schemes a definition's methods may name: Lambda and Cognito authorizers
/// (into `def`), and the names of the API key and IAM schemes.
fn security_schemes(doc: &Value, openapi3: bool, def: &mut Definition) -> Schemes {
    let schemes = if openapi3 {
        doc.get("components").and_then(|c| c.get("securitySchemes"))
    } else {
        doc.get("securityDefinitions")
    };
    let mut api_key_schemes = Vec::new();
    let mut iam_schemes = Vec::new();
    for (name, scheme) in schemes.and_then(Value::as_object).into_iter().flatten() {
        if let Some(a) = scheme.get("x-amazon-apigateway-authorizer") {
            let kind = text(a, "type").unwrap_or_default().to_ascii_uppercase();
            let kind = AuthorizerType::parse(&kind).unwrap_or(AuthorizerType::Token);
            let identity_source = text(a, "identitySource").or_else(|| {
                (kind == AuthorizerType::Token).then(|| {
                    format!("method.request.header.{}", text(scheme, "name").unwrap_or_else(|| "Authorization".into()))
                })
            });
            def.authorizers.insert(
                name.clone(),
                Authorizer {
                    id: String::new(),
                    name: name.clone(),
                    kind,
                    provider_arns: list(a.get("providerARNs")),
                    auth_type: text(scheme, "x-amazon-apigateway-authtype"),
                    uri: text(a, "authorizerUri"),
                    credentials: text(a, "authorizerCredentials"),
                    identity_source,
                    identity_validation_expression: text(a, "identityValidationExpression"),
                    ttl_seconds: a.get("authorizerResultTtlInSeconds").and_then(Value::as_i64).unwrap_or(300),
                },
            );
        } else if scheme.get("x-amazon-apigateway-authtype").and_then(Value::as_str) == Some("awsSigv4") {
            iam_schemes.push(name.clone());
        } else if scheme.get("type").and_then(Value::as_str) == Some("apiKey") {
            api_key_schemes.push(name.clone());
        }
    }
    Schemes { api_key: api_key_schemes, iam: iam_schemes }
}

/// The names of a definition's API key and IAM security schemes.
struct Schemes {
    api_key: Vec<String>,
    iam: Vec<String>,
}

/// A method of a path: its parameters, security, responses and integration.
fn method(
    op: &Value,
    http_method: &str,
    shared_parameters: Option<&Value>,
    global_security: Option<&Value>,
    def: &Definition,
    schemes: &Schemes,
) -> Operation {
    let mut m = Method {
        http_method: http_method.into(),
        authorization_type: AuthorizationType::None,
        operation_name: text(op, "operationId"),
        ..Default::default()
    };
    for p in shared_parameters
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .chain(op.get("parameters").and_then(Value::as_array).into_iter().flatten())
    {
        let place = match p.get("in").and_then(Value::as_str) {
            Some("path") => "path",
            Some("query") => "querystring",
            Some("header") => "header",
            _ => continue,
        };
        if let Some(name) = text(p, "name") {
            let required = p.get("required").and_then(Value::as_bool).unwrap_or(place == "path");
            m.request_parameters.insert(format!("method.request.{place}.{name}"), required);
        }
    }
    for requirement in op.get("security").or(global_security).and_then(Value::as_array).into_iter().flatten() {
        for scheme in requirement.as_object().into_iter().flatten().map(|(k, _)| k) {
            if schemes.api_key.contains(scheme) {
                m.api_key_required = true;
            } else if schemes.iam.contains(scheme) {
                m.authorization_type = AuthorizationType::AwsIam;
            } else if let Some(a) = def.authorizers.get(scheme) {
                m.authorization_type = match a.kind {
                    AuthorizerType::CognitoUserPools => AuthorizationType::CognitoUserPools,
                    _ => AuthorizationType::Custom,
                };
                m.authorizer_id = Some(scheme.clone());
                m.authorization_scopes = list(requirement.get(scheme));
            }
        }
    }
    for (status, r) in op.get("responses").and_then(Value::as_object).into_iter().flatten() {
        if status.len() == 3 && status.bytes().all(|b| b.is_ascii_digit()) {
            let headers = r.get("headers").and_then(Value::as_object);
            m.responses.insert(
                status.clone(),
                MethodResponse {
                    status_code: status.clone(),
                    response_parameters: headers
                        .into_iter()
                        .flatten()
                        .map(|(h, _)| (format!("method.response.header.{h}"), false))
                        .collect(),
                    response_models: BTreeMap::new(),
                    given: (false, false),
                },
            );
        }
    }
    // A method without an integration is imported as it is, as AWS imports it.
    Operation { method: m, integration: op.get("x-amazon-apigateway-integration").map(integration) }
}

fn integration(i: &Value) -> Draft<Integration> {
    let mut out = Integration {
        http_method: text(i, "httpMethod").map(|m| m.to_ascii_uppercase()),
        uri: text(i, "uri"),
        connection_type: text(i, "connectionType"),
        connection_id: text(i, "connectionId"),
        credentials: text(i, "credentials"),
        request_parameters: text_map(i.get("requestParameters")),
        request_templates: text_map(i.get("requestTemplates")),
        passthrough_behavior: text(i, "passthroughBehavior").map(|p| p.to_ascii_uppercase()),
        content_handling: text(i, "contentHandling"),
        timeout_ms: i.get("timeoutInMillis").and_then(Value::as_u64).unwrap_or(0),
        cache_namespace: text(i, "cacheNamespace"),
        cache_key_parameters: list(i.get("cacheKeyParameters")),
        ..Default::default()
    };
    for (pattern, r) in i.get("responses").and_then(Value::as_object).into_iter().flatten() {
        let status = text(r, "statusCode").unwrap_or_else(|| "200".into());
        out.responses.insert(
            status.clone(),
            IntegrationResponse {
                status_code: status,
                selection_pattern: (pattern != "default").then(|| pattern.clone()),
                response_parameters: text_map(r.get("responseParameters")),
                response_templates: text_map(r.get("responseTemplates")),
                content_handling: text(r, "contentHandling"),
            },
        );
    }
    Draft::new(text(i, "type").unwrap_or_default().to_ascii_uppercase(), out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"
openapi: 3.0.1
info: {title: pets, version: "1.0"}
x-amazon-apigateway-binary-media-types: [image/png]
components:
  securitySchemes:
    key: {type: apiKey, name: x-api-key, in: header}
    tokens:
      type: apiKey
      name: Authorization
      in: header
      x-amazon-apigateway-authtype: custom
      x-amazon-apigateway-authorizer:
        type: token
        authorizerUri: arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:authz/invocations
        authorizerResultTtlInSeconds: 60
paths:
  /pets/{id}:
    get:
      parameters: [{name: id, in: path, required: true}]
      security: [{key: []}, {tokens: []}]
      responses: {"200": {description: ok}}
      x-amazon-apigateway-integration:
        type: aws_proxy
        httpMethod: POST
        uri: arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:pets/invocations
  /health:
    x-amazon-apigateway-any-method:
      x-amazon-apigateway-integration:
        type: mock
        requestTemplates: {application/json: '{"statusCode": 200}'}
        responses:
          default: {statusCode: "200", responseTemplates: {application/json: '{"ok": true}'}}
          "5\\d{2}": {statusCode: "500"}
    delete: {}
"#;

    #[test]
    fn a_yaml_openapi_3_document_reads_into_methods_and_authorizers() {
        let d = parse(DOC.as_bytes()).unwrap();
        assert_eq!((d.name.as_str(), d.binary_media_types.as_slice()), ("pets", &["image/png".to_owned()][..]));
        let get = &d.paths["/pets/{id}"][0].method;
        assert_eq!(get.http_method, "GET");
        assert!(get.api_key_required);
        assert_eq!((get.authorization_type, get.authorizer_id.as_deref()), (AuthorizationType::Custom, Some("tokens")));
        assert!(get.request_parameters["method.request.path.id"]);
        assert_eq!(d.paths["/pets/{id}"][0].integration.as_ref().unwrap().kind, "AWS_PROXY");
        assert_eq!(d.authorizers["tokens"].identity_source.as_deref(), Some("method.request.header.Authorization"));
        assert_eq!(d.authorizers["tokens"].ttl_seconds, 60);
        let any = d.paths["/health"].iter().find(|o| o.method.http_method == "ANY").unwrap();
        let i = &any.integration.as_ref().unwrap().item;
        assert_eq!(i.responses["500"].selection_pattern.as_deref(), Some("5\\d{2}"));
        assert_eq!(i.responses["200"].selection_pattern, None);
        assert!(d.warnings.is_empty(), "a method without an integration is imported as AWS imports it");
    }

    #[test]
    fn documents_that_are_not_openapi_are_refused() {
        assert!(parse(b"{\"hello\": 1}").is_err());
        assert!(parse(b": : :").is_err());
        assert!(parse(b"{\"swagger\": \"2.0\", \"info\": {}}").is_err());
    }
}
