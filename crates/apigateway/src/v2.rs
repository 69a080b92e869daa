//! HTTP APIs: routes, integrations, deployments and stages, and the control-plane
//! operations on them (`apigatewayv2`, `/v2/apis`).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::routing::RouteKey;
use crate::{new_id, Caller, GatewayError, GatewayService, HTTP_KIND};

/// An HTTP API.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HttpApi {
    /// `apiId`.
    pub id: String,
    /// The owning account.
    pub account: String,
    /// Its region.
    pub region: String,
    /// `name`.
    pub name: String,
    /// `protocolType`: `HTTP`.
    pub protocol_type: String,
    /// `description`.
    pub description: Option<String>,
    /// `version`.
    pub version: Option<String>,
    /// `routeSelectionExpression`.
    pub route_selection_expression: String,
    /// `apiKeySelectionExpression`.
    pub api_key_selection_expression: String,
    /// `corsConfiguration`.
    pub cors: Option<Cors>,
    /// `disableExecuteApiEndpoint`.
    pub disable_execute_api_endpoint: bool,
    /// `disableSchemaValidation`.
    pub disable_schema_validation: bool,
    /// `apiGatewayManaged`: made by quick create.
    pub managed: bool,
    /// `tags`.
    pub tags: BTreeMap<String, String>,
    /// `createdDate`, ms since the epoch.
    pub created_ms: i64,
    /// Routes, by id.
    pub routes: BTreeMap<String, Route>,
    /// Integrations, by id.
    pub integrations: BTreeMap<String, HttpIntegration>,
    /// Deployments, by id.
    pub deployments: BTreeMap<String, HttpDeployment>,
    /// Stages, by name.
    pub stages: BTreeMap<String, HttpStage>,
    /// Authorizers, by id.
    #[serde(default)]
    pub authorizers: BTreeMap<String, HttpAuthorizer>,
}

/// An HTTP API authorizer: `JWT`, or a Lambda `REQUEST` authorizer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HttpAuthorizer {
    /// `authorizerId`.
    pub id: String,
    /// `name`.
    pub name: String,
    /// `authorizerType`: `JWT` or `REQUEST`.
    pub authorizer_type: String,
    /// `identitySource` (`$request.header.Authorization`, …).
    pub identity_source: Vec<String>,
    /// `jwtConfiguration.issuer`.
    pub jwt_issuer: Option<String>,
    /// `jwtConfiguration.audience`.
    pub jwt_audience: Vec<String>,
    /// `authorizerUri`: the function, for `REQUEST`.
    pub uri: Option<String>,
    /// `authorizerPayloadFormatVersion`: `1.0` or `2.0`.
    pub payload_format_version: Option<String>,
    /// `enableSimpleResponses`.
    pub simple_responses: bool,
    /// `authorizerResultTtlInSeconds` (0–3600).
    pub ttl_seconds: i64,
    /// `authorizerCredentialsArn`.
    pub credentials_arn: Option<String>,
}

/// CreateAuthorizer's and UpdateAuthorizer's fields.
#[derive(Debug, Clone, Default)]
pub struct AuthorizerInput {
    /// `name`.
    pub name: Option<String>,
    /// `authorizerType`.
    pub authorizer_type: Option<String>,
    /// `identitySource`.
    pub identity_source: Option<Vec<String>>,
    /// `jwtConfiguration.issuer`.
    pub jwt_issuer: Option<String>,
    /// `jwtConfiguration.audience`.
    pub jwt_audience: Option<Vec<String>>,
    /// `authorizerUri`.
    pub uri: Option<String>,
    /// `authorizerPayloadFormatVersion`.
    pub payload_format_version: Option<String>,
    /// `enableSimpleResponses`.
    pub simple_responses: Option<bool>,
    /// `authorizerResultTtlInSeconds`.
    pub ttl_seconds: Option<i64>,
    /// `authorizerCredentialsArn`.
    pub credentials_arn: Option<String>,
}

fn apply_authorizer(a: &mut HttpAuthorizer, i: AuthorizerInput, websocket: bool) -> Result<(), GatewayError> {
    if let Some(v) = i.name {
        a.name = v;
    }
    if let Some(v) = i.authorizer_type {
        a.authorizer_type = v;
    }
    if let Some(v) = i.identity_source {
        a.identity_source = v;
    }
    if i.jwt_issuer.is_some() {
        a.jwt_issuer = i.jwt_issuer;
    }
    if let Some(v) = i.jwt_audience {
        a.jwt_audience = v;
    }
    if i.uri.is_some() {
        a.uri = i.uri;
    }
    if i.payload_format_version.is_some() {
        a.payload_format_version = i.payload_format_version;
    }
    if let Some(v) = i.simple_responses {
        a.simple_responses = v;
    }
    if let Some(v) = i.ttl_seconds {
        a.ttl_seconds = v;
    }
    if i.credentials_arn.is_some() {
        a.credentials_arn = i.credentials_arn;
    }
    if a.name.trim().is_empty() {
        return Err(GatewayError::BadRequest("Name is required".into()));
    }
    if !(0..=3600).contains(&a.ttl_seconds) {
        return Err(GatewayError::BadRequest("AuthorizerResultTtlInSeconds must be between 0 and 3600".into()));
    }
    match a.authorizer_type.as_str() {
        "JWT" if websocket => {
            return Err(GatewayError::BadRequest("JWT authorizers are not supported for WebSocket APIs".into()))
        }
        "JWT" => {
            if a.jwt_issuer.as_deref().is_none_or(str::is_empty) || a.jwt_audience.is_empty() {
                return Err(GatewayError::BadRequest(
                    "JwtConfiguration with an Issuer and an Audience is required for JWT authorizers".into(),
                ));
            }
            if a.identity_source.len() != 1 {
                return Err(GatewayError::BadRequest("JWT authorizers take exactly one identity source".into()));
            }
        }
        "REQUEST" if websocket => {
            // A WebSocket API's authorizer runs on `$connect` and answers with a policy.
            let uri = a.uri.as_deref().unwrap_or("");
            if crate::routing::lambda_function_of(uri).is_none() {
                return Err(GatewayError::BadRequest(format!("Invalid authorizer URI specified: {uri}")));
            }
            for s in &a.identity_source {
                let known = ["route.request.header.", "route.request.querystring.", "stageVariables.", "context."];
                if !known.iter().any(|p| s.starts_with(p)) {
                    return Err(GatewayError::BadRequest(format!("Invalid identity source specified: {s}")));
                }
            }
            return Ok(());
        }
        "REQUEST" => {
            let uri = a.uri.as_deref().unwrap_or("");
            if crate::routing::lambda_function_of(uri).is_none() {
                return Err(GatewayError::BadRequest(format!("Invalid authorizer URI specified: {uri}")));
            }
            let version = a.payload_format_version.as_deref().unwrap_or("");
            if !["1.0", "2.0"].contains(&version) {
                return Err(GatewayError::BadRequest(
                    "AuthorizerPayloadFormatVersion must be 1.0 or 2.0 for REQUEST authorizers".into(),
                ));
            }
            if a.simple_responses && version != "2.0" {
                return Err(GatewayError::BadRequest(
                    "Simple responses are only supported with payload format version 2.0".into(),
                ));
            }
            if a.ttl_seconds > 0 && a.identity_source.is_empty() {
                return Err(GatewayError::BadRequest("Identity source is required when caching is enabled".into()));
            }
        }
        other => {
            return Err(GatewayError::BadRequest(format!(
                "Invalid authorizer type specified: {other}. Valid values are JWT, REQUEST"
            )))
        }
    }
    for s in &a.identity_source {
        if !s.starts_with('$') {
            return Err(GatewayError::BadRequest(format!("Invalid identity source specified: {s}")));
        }
    }
    Ok(())
}

/// A CORS configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cors {
    /// `allowCredentials`.
    pub allow_credentials: Option<bool>,
    /// `allowHeaders`.
    pub allow_headers: Vec<String>,
    /// `allowMethods`.
    pub allow_methods: Vec<String>,
    /// `allowOrigins`.
    pub allow_origins: Vec<String>,
    /// `exposeHeaders`.
    pub expose_headers: Vec<String>,
    /// `maxAge`.
    pub max_age: Option<i64>,
}

/// A route.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Route {
    /// `routeId`.
    pub id: String,
    /// `routeKey`.
    pub route_key: String,
    /// `authorizationType`: `NONE`, `JWT`, `AWS_IAM` or `CUSTOM`.
    pub authorization_type: String,
    /// `authorizerId`.
    pub authorizer_id: Option<String>,
    /// `authorizationScopes`.
    pub authorization_scopes: Vec<String>,
    /// `apiKeyRequired`.
    pub api_key_required: bool,
    /// `operationName`.
    pub operation_name: Option<String>,
    /// `target`: `integrations/{id}`.
    pub target: Option<String>,
    /// `apiGatewayManaged`.
    pub managed: bool,
    /// `routeResponseSelectionExpression` (WebSocket APIs): with it and a route
    /// response, the route is two-way and the integration's answer goes back to the client.
    #[serde(default)]
    pub route_response_selection_expression: Option<String>,
    /// Route responses, by id.
    #[serde(default)]
    pub responses: BTreeMap<String, RouteResponse>,
}

impl Route {
    /// Whether the integration's answer goes back to the client (WebSocket APIs).
    pub fn two_way(&self) -> bool {
        self.route_response_selection_expression.is_some() && !self.responses.is_empty()
    }
}

/// A route response of a WebSocket API's route.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RouteResponse {
    /// `routeResponseId`.
    pub id: String,
    /// `routeResponseKey` (`$default`).
    pub key: String,
    /// `modelSelectionExpression`.
    pub model_selection_expression: Option<String>,
    /// `responseModels`.
    pub response_models: BTreeMap<String, String>,
}

/// An integration.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct HttpIntegration {
    /// `integrationId`.
    pub id: String,
    /// `integrationType`: `AWS_PROXY` or `HTTP_PROXY`.
    pub integration_type: String,
    /// `integrationUri`.
    pub uri: Option<String>,
    /// `integrationMethod`.
    pub method: Option<String>,
    /// `integrationSubtype`.
    pub subtype: Option<String>,
    /// `payloadFormatVersion`: `1.0` or `2.0`.
    pub payload_format_version: String,
    /// `timeoutInMillis` (50–30,000; 30,000 by default).
    pub timeout_ms: u64,
    /// `connectionType`.
    pub connection_type: String,
    /// `credentialsArn`.
    pub credentials_arn: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `requestParameters`.
    pub request_parameters: BTreeMap<String, String>,
    /// `apiGatewayManaged`.
    pub managed: bool,
    /// `requestTemplates` (WebSocket APIs' `MOCK` and `AWS` integrations), by the key the
    /// template selection expression picks.
    #[serde(default)]
    pub request_templates: BTreeMap<String, String>,
    /// `templateSelectionExpression`.
    #[serde(default)]
    pub template_selection_expression: Option<String>,
    /// `passthroughBehavior`.
    #[serde(default)]
    pub passthrough_behavior: Option<String>,
    /// `contentHandlingStrategy`.
    #[serde(default)]
    pub content_handling_strategy: Option<String>,
    /// `integrationResponseSelectionExpression`.
    #[serde(default)]
    pub integration_response_selection_expression: Option<String>,
    /// Integration responses (WebSocket APIs), by id.
    #[serde(default)]
    pub responses: BTreeMap<String, WsIntegrationResponse>,
}

/// An integration response of a WebSocket API's integration: how a non-proxy
/// integration's answer becomes the message a two-way route sends back.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WsIntegrationResponse {
    /// `integrationResponseId`.
    pub id: String,
    /// `integrationResponseKey`: `$default`, or a pattern between slashes (`/4\d\d/`)
    /// the integration's status code (or a function's error message) must match.
    pub key: String,
    /// `responseTemplates`, by the key the template selection expression picks.
    pub response_templates: BTreeMap<String, String>,
    /// `templateSelectionExpression`.
    pub template_selection_expression: Option<String>,
    /// `contentHandlingStrategy`.
    pub content_handling_strategy: Option<String>,
    /// `responseParameters`.
    pub response_parameters: BTreeMap<String, String>,
}

impl WsIntegrationResponse {
    /// The pattern of a key other than `$default`; an error for a malformed key.
    pub fn pattern(key: &str) -> Result<Option<crate::routing::Pattern>, GatewayError> {
        if key == "$default" {
            return Ok(None);
        }
        let invalid = || GatewayError::BadRequest(format!("Invalid integration response key specified: {key}"));
        let inner = key.strip_prefix('/').and_then(|k| k.strip_suffix('/')).filter(|k| !k.is_empty());
        crate::routing::Pattern::new(inner.ok_or_else(invalid)?).map(Some).map_err(|_| invalid())
    }
}

/// What an HTTP API's stage serves: routes and integrations as they were deployed.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct HttpSnapshot {
    /// The authorizers, by id.
    #[serde(default)]
    pub authorizers: BTreeMap<String, HttpAuthorizer>,
    /// The routes.
    pub routes: Vec<Route>,
    /// The integrations, by id.
    pub integrations: BTreeMap<String, HttpIntegration>,
    /// The CORS configuration.
    pub cors: Option<Cors>,
    /// The routes' keys, parsed once, with their index in `routes`.
    #[serde(skip)]
    parsed: std::sync::OnceLock<Vec<(RouteKey, usize)>>,
}

impl HttpSnapshot {
    /// The routes' keys, parsed, each with its route's index.
    pub fn route_keys(&self) -> &[(RouteKey, usize)] {
        self.parsed.get_or_init(|| {
            self.routes
                .iter()
                .enumerate()
                .filter_map(|(i, r)| RouteKey::parse(&r.route_key).ok().map(|k| (k, i)))
                .collect()
        })
    }
}

/// A deployment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HttpDeployment {
    /// `deploymentId`.
    pub id: String,
    /// `description`.
    pub description: Option<String>,
    /// `createdDate`, ms.
    pub created_ms: i64,
    /// `autoDeployed`.
    pub auto_deployed: bool,
    /// What it serves.
    pub snapshot: Arc<HttpSnapshot>,
}

/// Throttling and logging settings of a stage or one of its routes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RouteSettings {
    /// `throttlingBurstLimit`.
    pub throttling_burst_limit: Option<i64>,
    /// `throttlingRateLimit`.
    pub throttling_rate_limit: Option<f64>,
    /// `detailedMetricsEnabled`.
    pub detailed_metrics_enabled: Option<bool>,
    /// `loggingLevel`.
    pub logging_level: Option<String>,
    /// `dataTraceEnabled`.
    pub data_trace_enabled: Option<bool>,
}

/// A stage.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct HttpStage {
    /// `stageName`.
    pub name: String,
    /// `deploymentId`.
    pub deployment_id: Option<String>,
    /// `autoDeploy`.
    pub auto_deploy: bool,
    /// `description`.
    pub description: Option<String>,
    /// `stageVariables`.
    pub variables: BTreeMap<String, String>,
    /// `defaultRouteSettings`.
    pub default_route_settings: RouteSettings,
    /// `routeSettings`, by route key.
    pub route_settings: BTreeMap<String, RouteSettings>,
    /// `accessLogSettings`.
    pub access_log: Option<crate::rest::AccessLog>,
    /// `apiGatewayManaged`.
    pub managed: bool,
    /// `tags`.
    pub tags: BTreeMap<String, String>,
    /// `createdDate`, ms.
    pub created_ms: i64,
    /// `lastUpdatedDate`, ms.
    pub last_updated_ms: i64,
}

/// CreateApi's and UpdateApi's fields; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ApiInput {
    /// `name`.
    pub name: Option<String>,
    /// `protocolType`.
    pub protocol_type: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `version`.
    pub version: Option<String>,
    /// `routeSelectionExpression`.
    pub route_selection_expression: Option<String>,
    /// `apiKeySelectionExpression`.
    pub api_key_selection_expression: Option<String>,
    /// `corsConfiguration`.
    pub cors: Option<Cors>,
    /// `disableExecuteApiEndpoint`.
    pub disable_execute_api_endpoint: Option<bool>,
    /// `disableSchemaValidation`.
    pub disable_schema_validation: Option<bool>,
    /// `tags`.
    pub tags: BTreeMap<String, String>,
    /// Quick create: `target`, a function ARN or an HTTP URL.
    pub target: Option<String>,
    /// Quick create: `routeKey` (`$default` unless given).
    pub route_key: Option<String>,
    /// Quick create: `credentialsArn`.
    pub credentials_arn: Option<String>,
}

/// CreateRoute's and UpdateRoute's fields.
#[derive(Debug, Clone, Default)]
pub struct RouteInput {
    /// `routeKey`.
    pub route_key: Option<String>,
    /// `authorizationType`.
    pub authorization_type: Option<String>,
    /// `authorizerId`.
    pub authorizer_id: Option<String>,
    /// `authorizationScopes`.
    pub authorization_scopes: Option<Vec<String>>,
    /// `apiKeyRequired`.
    pub api_key_required: Option<bool>,
    /// `operationName`.
    pub operation_name: Option<String>,
    /// `target`.
    pub target: Option<String>,
    /// `routeResponseSelectionExpression`.
    pub route_response_selection_expression: Option<String>,
}

/// CreateIntegration's and UpdateIntegration's fields.
#[derive(Debug, Clone, Default)]
pub struct IntegrationInput {
    /// `integrationType`.
    pub integration_type: Option<String>,
    /// `integrationUri`.
    pub uri: Option<String>,
    /// `integrationMethod`.
    pub method: Option<String>,
    /// `integrationSubtype`.
    pub subtype: Option<String>,
    /// `payloadFormatVersion`.
    pub payload_format_version: Option<String>,
    /// `timeoutInMillis`.
    pub timeout_ms: Option<i64>,
    /// `connectionType`.
    pub connection_type: Option<String>,
    /// `credentialsArn`.
    pub credentials_arn: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `requestParameters`.
    pub request_parameters: Option<BTreeMap<String, String>>,
    /// `requestTemplates`.
    pub request_templates: Option<BTreeMap<String, String>>,
    /// `templateSelectionExpression`.
    pub template_selection_expression: Option<String>,
    /// `passthroughBehavior`.
    pub passthrough_behavior: Option<String>,
    /// `contentHandlingStrategy`.
    pub content_handling_strategy: Option<String>,
    /// `integrationResponseSelectionExpression`.
    pub integration_response_selection_expression: Option<String>,
}

/// CreateStage's and UpdateStage's fields.
#[derive(Debug, Clone, Default)]
pub struct StageInput {
    /// `stageName`.
    pub name: Option<String>,
    /// `deploymentId`.
    pub deployment_id: Option<String>,
    /// `autoDeploy`.
    pub auto_deploy: Option<bool>,
    /// `description`.
    pub description: Option<String>,
    /// `stageVariables`.
    pub variables: Option<BTreeMap<String, String>>,
    /// `defaultRouteSettings`.
    pub default_route_settings: Option<RouteSettings>,
    /// `routeSettings`.
    pub route_settings: Option<BTreeMap<String, RouteSettings>>,
    /// `accessLogSettings`.
    pub access_log: Option<crate::rest::AccessLog>,
    /// `tags`.
    pub tags: BTreeMap<String, String>,
}

impl HttpApi {
    fn snapshot(&self) -> HttpSnapshot {
        HttpSnapshot {
            authorizers: self.authorizers.clone(),
            routes: self.routes.values().cloned().collect(),
            integrations: self.integrations.clone(),
            cors: self.cors.clone(),
            parsed: std::sync::OnceLock::new(),
        }
    }

    /// Deploys the API's current configuration to every auto-deploying stage.
    fn auto_deploy(&mut self) {
        let now = model::clock::now_ms();
        let names: Vec<String> = self.stages.values().filter(|s| s.auto_deploy).map(|s| s.name.clone()).collect();
        if names.is_empty() {
            return;
        }
        let d = HttpDeployment {
            id: new_id(6),
            description: Some("Automatic deployment triggered by changes to the Api configuration".into()),
            created_ms: now,
            auto_deployed: true,
            snapshot: Arc::new(self.snapshot()),
        };
        for name in names {
            if let Some(s) = self.stages.get_mut(&name) {
                // The deployment it replaces goes, as AWS's automatic deployments do.
                if let Some(old) = s.deployment_id.replace(d.id.clone()) {
                    if self.deployments.get(&old).is_some_and(|o| o.auto_deployed) {
                        self.deployments.remove(&old);
                    }
                }
                s.last_updated_ms = now;
            }
        }
        self.deployments.insert(d.id.clone(), d);
    }

    fn check_target(&self, target: &str) -> Result<(), GatewayError> {
        let id = target.strip_prefix("integrations/").unwrap_or("");
        if self.integrations.contains_key(id) {
            Ok(())
        } else {
            Err(GatewayError::BadRequest(format!("Invalid target specified: {target}. Target must be of the form integrations/<integrationId> with an existing integration")))
        }
    }
}

fn check_cors(c: &Cors) -> Result<(), GatewayError> {
    if let Some(age) = c.max_age {
        if !(-1..=86_400).contains(&age) {
            return Err(GatewayError::BadRequest("MaxAge must be between -1 and 86400".into()));
        }
    }
    if c.allow_credentials == Some(true) && c.allow_origins.iter().any(|o| o == "*") {
        return Err(GatewayError::BadRequest(
            "allow-credentials is not supported when allow-origins is set to '*'. Use explicit origins instead.".into(),
        ));
    }
    Ok(())
}

fn apply_integration(i: &mut HttpIntegration, input: IntegrationInput, websocket: bool) -> Result<(), GatewayError> {
    if let Some(t) = input.integration_type {
        i.integration_type = t;
    }
    if input.uri.is_some() {
        i.uri = input.uri;
    }
    if input.method.is_some() {
        i.method = input.method;
    }
    if input.subtype.is_some() {
        i.subtype = input.subtype;
    }
    if let Some(v) = input.payload_format_version {
        i.payload_format_version = v;
    }
    if let Some(t) = input.timeout_ms {
        if !(50..=30_000).contains(&t) {
            return Err(GatewayError::BadRequest("Timeout must be between 50 ms and 30000 ms.".into()));
        }
        i.timeout_ms = t as u64;
    }
    if let Some(c) = input.connection_type {
        i.connection_type = c;
    }
    if input.credentials_arn.is_some() {
        i.credentials_arn = input.credentials_arn;
    }
    if input.description.is_some() {
        i.description = input.description;
    }
    if let Some(p) = input.request_parameters {
        i.request_parameters = p;
    }
    let templating = input.request_templates.is_some()
        || input.template_selection_expression.is_some()
        || input.passthrough_behavior.is_some()
        || input.content_handling_strategy.is_some()
        || input.integration_response_selection_expression.is_some();
    if templating && !websocket {
        return Err(GatewayError::BadRequest(
            "Request templates and integration responses are only supported for WebSocket APIs".into(),
        ));
    }
    if let Some(t) = input.request_templates {
        i.request_templates = t;
    }
    if input.template_selection_expression.is_some() {
        i.template_selection_expression = input.template_selection_expression;
    }
    if let Some(p) = input.passthrough_behavior {
        if !["WHEN_NO_MATCH", "NEVER", "WHEN_NO_TEMPLATES"].contains(&p.as_str()) {
            return Err(GatewayError::BadRequest(format!("Invalid passthrough behavior specified: {p}")));
        }
        i.passthrough_behavior = Some(p);
    }
    if input.content_handling_strategy.is_some() {
        i.content_handling_strategy = input.content_handling_strategy;
    }
    if input.integration_response_selection_expression.is_some() {
        i.integration_response_selection_expression = input.integration_response_selection_expression;
    }
    if websocket {
        // WebSocket integrations always speak payload format 1.0.
        if i.payload_format_version.is_empty() {
            i.payload_format_version = "1.0".into();
        }
        match i.integration_type.as_str() {
            "MOCK" => return Ok(()),
            "AWS" => {
                let uri = i.uri.as_deref().unwrap_or("");
                if crate::routing::lambda_function_of(uri).is_none() {
                    return Err(GatewayError::BadRequest(format!(
                        "Invalid integration URI specified: {uri}. Lamina's AWS integrations for WebSocket APIs \
                         take a Lambda function's invocation URI"
                    )));
                }
                return Ok(());
            }
            "HTTP" | "HTTP_PROXY" => {
                let uri = i.uri.as_deref().unwrap_or("");
                if !(uri.starts_with("http://") || uri.starts_with("https://")) {
                    return Err(GatewayError::BadRequest(format!("Invalid integration URI specified: {uri}")));
                }
                if i.method.is_none() {
                    i.method = Some("POST".into());
                }
                return Ok(());
            }
            _ => {}
        }
    }
    match i.integration_type.as_str() {
        "AWS_PROXY" => {
            let uri = i.uri.as_deref().unwrap_or("");
            if crate::routing::lambda_function_of(uri).is_none() {
                return Err(GatewayError::BadRequest(format!(
                    "Invalid integration URI specified: {uri}. AWS_PROXY integrations take a Lambda function ARN"
                )));
            }
            if !["1.0", "2.0"].contains(&i.payload_format_version.as_str()) {
                return Err(GatewayError::BadRequest(
                    "PayloadFormatVersion is required for AWS_PROXY integrations; it must be 1.0 or 2.0".into(),
                ));
            }
        }
        "HTTP_PROXY" => {
            let uri = i.uri.as_deref().unwrap_or("");
            if !(uri.starts_with("http://") || uri.starts_with("https://")) {
                return Err(GatewayError::BadRequest(format!("Invalid integration URI specified: {uri}")));
            }
            if i.payload_format_version.is_empty() {
                i.payload_format_version = "1.0".into();
            }
            if i.payload_format_version != "1.0" {
                return Err(GatewayError::BadRequest(
                    "HTTP_PROXY integrations support payload format version 1.0 only".into(),
                ));
            }
            if i.method.is_none() {
                i.method = Some("ANY".into());
            }
        }
        "MOCK" | "AWS" | "HTTP" => {
            return Err(GatewayError::BadRequest(format!(
                "Integration type {} is not supported for HTTP APIs",
                i.integration_type
            )))
        }
        other => {
            return Err(GatewayError::BadRequest(format!(
                "Invalid integration type specified: {other}. Valid values are AWS_PROXY, HTTP_PROXY"
            )))
        }
    }
    Ok(())
}

fn apply_route(api: &HttpApi, r: &mut Route, input: RouteInput) -> Result<(), GatewayError> {
    if let Some(k) = input.route_key {
        if api.protocol_type == "WEBSOCKET" {
            if k.is_empty() || k.len() > 128 {
                return Err(GatewayError::BadRequest(format!("Invalid route key specified: {k}")));
            }
        } else {
            RouteKey::parse(&k).map_err(GatewayError::BadRequest)?;
        }
        if api.routes.values().any(|o| o.id != r.id && o.route_key == k) {
            return Err(GatewayError::Conflict(format!("Route with key {k} already exists for this API")));
        }
        r.route_key = k;
    }
    if let Some(t) = input.authorization_type {
        if !["NONE", "JWT", "AWS_IAM", "CUSTOM"].contains(&t.as_str()) {
            return Err(GatewayError::BadRequest(format!("Invalid authorization type specified: {t}")));
        }
        r.authorization_type = t;
    }
    if input.authorizer_id.is_some() {
        r.authorizer_id = input.authorizer_id;
    }
    if let Some(s) = input.authorization_scopes {
        r.authorization_scopes = s;
    }
    if let Some(k) = input.api_key_required {
        r.api_key_required = k;
    }
    if input.operation_name.is_some() {
        r.operation_name = input.operation_name;
    }
    if let Some(t) = input.target {
        if !t.is_empty() {
            api.check_target(&t)?;
        }
        r.target = (!t.is_empty()).then_some(t);
    }
    if let Some(e) = input.route_response_selection_expression {
        if api.protocol_type != "WEBSOCKET" {
            return Err(GatewayError::BadRequest(
                "RouteResponseSelectionExpression is only supported for WebSocket APIs".into(),
            ));
        }
        r.route_response_selection_expression = (!e.is_empty()).then_some(e);
    }
    match (r.authorization_type.as_str(), r.authorizer_id.as_deref().and_then(|id| api.authorizers.get(id))) {
        ("JWT", Some(a)) if a.authorizer_type == "JWT" => {}
        ("CUSTOM", Some(a)) if a.authorizer_type == "REQUEST" => {}
        ("JWT" | "CUSTOM", _) => {
            return Err(GatewayError::BadRequest(format!(
                "Unable to set authorization type {} without an authorizer of that kind",
                r.authorization_type
            )))
        }
        _ => {}
    }
    Ok(())
}

fn apply_stage(s: &mut HttpStage, input: StageInput, api: &HttpApi) -> Result<(), GatewayError> {
    if let Some(d) = input.deployment_id {
        if !api.deployments.contains_key(&d) {
            return Err(GatewayError::NotFound(format!("Invalid deployment identifier specified {d}")));
        }
        s.deployment_id = Some(d);
    }
    if let Some(a) = input.auto_deploy {
        s.auto_deploy = a;
    }
    if input.description.is_some() {
        s.description = input.description;
    }
    if let Some(v) = input.variables {
        s.variables = v;
    }
    if let Some(d) = input.default_route_settings {
        s.default_route_settings = d;
    }
    if let Some(r) = input.route_settings {
        s.route_settings = r;
    }
    if input.access_log.is_some() {
        s.access_log = input.access_log;
    }
    s.tags.extend(input.tags);
    Ok(())
}

impl GatewayService {
    fn read_http<T>(
        &self,
        caller: &Caller,
        id: &str,
        f: impl FnOnce(&HttpApi) -> Result<T, GatewayError>,
    ) -> Result<T, GatewayError> {
        let state = self.read();
        match state.http.get(id) {
            Some(api) if api.account == caller.account && api.region == caller.region => f(api),
            _ => Err(no_api(id)),
        }
    }

    /// Changes an HTTP API of the caller's, redeploys its auto-deploying stages when
    /// `redeploy`, and stores it; nothing changes if `f` fails.
    fn change_http<T>(
        &self,
        caller: &Caller,
        id: &str,
        redeploy: bool,
        f: impl FnOnce(&mut HttpApi) -> Result<T, GatewayError>,
    ) -> Result<T, GatewayError> {
        let mut state = self.write();
        let api = match state.http.get(id) {
            Some(api) if api.account == caller.account && api.region == caller.region => api,
            _ => return Err(no_api(id)),
        };
        let mut changed = api.clone();
        let out = f(&mut changed)?;
        if redeploy {
            changed.auto_deploy();
        }
        self.save(HTTP_KIND, id, &changed)?;
        state.http.insert(id.to_owned(), changed);
        Ok(out)
    }

    /// CreateApi, including quick create (`target`).
    pub fn create_api(&self, caller: &Caller, input: ApiInput) -> Result<HttpApi, GatewayError> {
        let name = input
            .name
            .filter(|n| !n.trim().is_empty())
            .ok_or_else(|| GatewayError::BadRequest("Name is required".into()))?;
        let protocol_type = input.protocol_type.unwrap_or_default();
        let websocket = match protocol_type.as_str() {
            "HTTP" => false,
            "WEBSOCKET" => true,
            other => {
                return Err(GatewayError::BadRequest(format!(
                    "Invalid protocol type specified: {other}. Valid values are HTTP, WEBSOCKET"
                )))
            }
        };
        if websocket {
            let e = input.route_selection_expression.as_deref().unwrap_or("");
            if !e.starts_with("$request.body.") && e != "${request.body.action}" && !e.starts_with("${request.body.") {
                return Err(GatewayError::BadRequest(
                    "A WebSocket API needs a RouteSelectionExpression of the form $request.body.<field>".into(),
                ));
            }
            if input.target.is_some() || input.cors.is_some() {
                return Err(GatewayError::BadRequest(
                    "Target and CorsConfiguration are only supported for HTTP APIs".into(),
                ));
            }
        }
        if let Some(c) = &input.cors {
            check_cors(c)?;
        }
        let now = model::clock::now_ms();
        let mut api = HttpApi {
            id: new_id(10),
            account: caller.account.clone(),
            region: caller.region.clone(),
            name,
            protocol_type,
            description: input.description,
            version: input.version,
            route_selection_expression: input
                .route_selection_expression
                .unwrap_or_else(|| "$request.method $request.path".into()),
            api_key_selection_expression: input
                .api_key_selection_expression
                .unwrap_or_else(|| "$request.header.x-api-key".into()),
            cors: input.cors,
            disable_execute_api_endpoint: input.disable_execute_api_endpoint.unwrap_or(false),
            disable_schema_validation: input.disable_schema_validation.unwrap_or(false),
            managed: false,
            tags: input.tags,
            created_ms: now,
            routes: BTreeMap::new(),
            integrations: BTreeMap::new(),
            deployments: BTreeMap::new(),
            stages: BTreeMap::new(),
            authorizers: BTreeMap::new(),
        };
        if let Some(target) = input.target {
            // Quick create: an integration, a route to it, and an auto-deploying
            // `$default` stage, all managed by API Gateway.
            let lambda = crate::routing::lambda_function_of(&target).is_some();
            let mut integration = HttpIntegration {
                id: new_id(7),
                connection_type: "INTERNET".into(),
                timeout_ms: 30_000,
                managed: true,
                ..Default::default()
            };
            apply_integration(
                &mut integration,
                IntegrationInput {
                    integration_type: Some(if lambda { "AWS_PROXY" } else { "HTTP_PROXY" }.into()),
                    uri: Some(target),
                    method: Some(if lambda { "POST" } else { "ANY" }.into()),
                    payload_format_version: Some(if lambda { "2.0" } else { "1.0" }.into()),
                    credentials_arn: input.credentials_arn,
                    ..Default::default()
                },
                false,
            )?;
            let route_key = input.route_key.unwrap_or_else(|| "$default".into());
            RouteKey::parse(&route_key).map_err(GatewayError::BadRequest)?;
            let route = Route {
                id: new_id(7),
                route_key,
                authorization_type: "NONE".into(),
                target: Some(format!("integrations/{}", integration.id)),
                managed: true,
                ..Default::default()
            };
            api.managed = true;
            api.integrations.insert(integration.id.clone(), integration);
            api.routes.insert(route.id.clone(), route);
            api.stages.insert(
                "$default".into(),
                HttpStage {
                    name: "$default".into(),
                    auto_deploy: true,
                    managed: true,
                    created_ms: now,
                    last_updated_ms: now,
                    ..Default::default()
                },
            );
            api.auto_deploy();
        }
        let mut state = self.write();
        self.save(HTTP_KIND, &api.id, &api)?;
        state.http.insert(api.id.clone(), api.clone());
        self.publish_hosts(&state);
        Ok(api)
    }

    /// GetApi.
    pub fn api(&self, caller: &Caller, id: &str) -> Result<HttpApi, GatewayError> {
        self.read_http(caller, id, |a| Ok(a.clone()))
    }

    /// GetApis, by creation.
    pub fn apis(&self, caller: &Caller) -> Vec<HttpApi> {
        let state = self.read();
        let mut apis: Vec<HttpApi> =
            state.http.values().filter(|a| a.account == caller.account && a.region == caller.region).cloned().collect();
        apis.sort_by(|a, b| (a.created_ms, &a.id).cmp(&(b.created_ms, &b.id)));
        apis
    }

    /// UpdateApi.
    pub fn update_api(&self, caller: &Caller, id: &str, input: ApiInput) -> Result<HttpApi, GatewayError> {
        self.change_http(caller, id, true, |api| {
            if let Some(n) = input.name {
                api.name = n;
            }
            if input.description.is_some() {
                api.description = input.description;
            }
            if input.version.is_some() {
                api.version = input.version;
            }
            if let Some(e) = input.route_selection_expression {
                api.route_selection_expression = e;
            }
            if let Some(e) = input.api_key_selection_expression {
                api.api_key_selection_expression = e;
            }
            if let Some(c) = input.cors {
                check_cors(&c)?;
                api.cors = Some(c);
            }
            if let Some(d) = input.disable_execute_api_endpoint {
                api.disable_execute_api_endpoint = d;
            }
            if let Some(d) = input.disable_schema_validation {
                api.disable_schema_validation = d;
            }
            Ok(api.clone())
        })
    }

    /// DeleteCorsConfiguration.
    pub fn delete_cors(&self, caller: &Caller, id: &str) -> Result<(), GatewayError> {
        self.change_http(caller, id, true, |api| {
            api.cors = None;
            Ok(())
        })
    }

    /// DeleteApi.
    pub fn delete_api(&self, caller: &Caller, id: &str) -> Result<(), GatewayError> {
        let mut state = self.write();
        match state.http.get(id) {
            Some(api) if api.account == caller.account && api.region == caller.region => {}
            _ => return Err(no_api(id)),
        }
        self.inner.store.delete_document(HTTP_KIND, id)?;
        state.http.remove(id);
        self.publish_hosts(&state);
        Ok(())
    }

    /// CreateRoute.
    pub fn create_route(&self, caller: &Caller, api: &str, input: RouteInput) -> Result<Route, GatewayError> {
        if input.route_key.is_none() {
            return Err(GatewayError::BadRequest("RouteKey is required".into()));
        }
        self.change_http(caller, api, true, |api| {
            let mut r = Route { id: new_id(7), authorization_type: "NONE".into(), ..Default::default() };
            apply_route(api, &mut r, input)?;
            api.routes.insert(r.id.clone(), r.clone());
            Ok(r)
        })
    }

    /// GetRoute.
    pub fn route(&self, caller: &Caller, api: &str, id: &str) -> Result<Route, GatewayError> {
        self.read_http(caller, api, |a| a.routes.get(id).cloned().ok_or_else(|| no_route(id)))
    }

    /// GetRoutes.
    pub fn routes(&self, caller: &Caller, api: &str) -> Result<Vec<Route>, GatewayError> {
        self.read_http(caller, api, |a| Ok(a.routes.values().cloned().collect()))
    }

    /// UpdateRoute.
    pub fn update_route(&self, caller: &Caller, api: &str, id: &str, input: RouteInput) -> Result<Route, GatewayError> {
        self.change_http(caller, api, true, |api| {
            let mut r = api.routes.get(id).cloned().ok_or_else(|| no_route(id))?;
            apply_route(api, &mut r, input)?;
            api.routes.insert(id.to_owned(), r.clone());
            Ok(r)
        })
    }

    /// DeleteRoute.
    pub fn delete_route(&self, caller: &Caller, api: &str, id: &str) -> Result<(), GatewayError> {
        self.change_http(caller, api, true, |api| api.routes.remove(id).map(drop).ok_or_else(|| no_route(id)))
    }

    /// CreateIntegration.
    pub fn create_integration(
        &self,
        caller: &Caller,
        api: &str,
        input: IntegrationInput,
    ) -> Result<HttpIntegration, GatewayError> {
        self.change_http(caller, api, true, |api| {
            let mut i = HttpIntegration {
                id: new_id(7),
                timeout_ms: 30_000,
                connection_type: "INTERNET".into(),
                ..Default::default()
            };
            apply_integration(&mut i, input, api.protocol_type == "WEBSOCKET")?;
            api.integrations.insert(i.id.clone(), i.clone());
            Ok(i)
        })
    }

    /// GetIntegration.
    pub fn integration_v2(&self, caller: &Caller, api: &str, id: &str) -> Result<HttpIntegration, GatewayError> {
        self.read_http(caller, api, |a| a.integrations.get(id).cloned().ok_or_else(|| no_integration(id)))
    }

    /// GetIntegrations.
    pub fn integrations_v2(&self, caller: &Caller, api: &str) -> Result<Vec<HttpIntegration>, GatewayError> {
        self.read_http(caller, api, |a| Ok(a.integrations.values().cloned().collect()))
    }

    /// UpdateIntegration.
    pub fn update_integration_v2(
        &self,
        caller: &Caller,
        api: &str,
        id: &str,
        input: IntegrationInput,
    ) -> Result<HttpIntegration, GatewayError> {
        self.change_http(caller, api, true, |api| {
            let websocket = api.protocol_type == "WEBSOCKET";
            let i = api.integrations.get_mut(id).ok_or_else(|| no_integration(id))?;
            apply_integration(i, input, websocket)?;
            Ok(i.clone())
        })
    }

    /// DeleteIntegration: refused while a route targets it.
    pub fn delete_integration_v2(&self, caller: &Caller, api: &str, id: &str) -> Result<(), GatewayError> {
        self.change_http(caller, api, true, |api| {
            if !api.integrations.contains_key(id) {
                return Err(no_integration(id));
            }
            let target = format!("integrations/{id}");
            if let Some(r) = api.routes.values().find(|r| r.target.as_deref() == Some(target.as_str())) {
                return Err(GatewayError::Conflict(format!(
                    "Integration {id} is used by route {} and cannot be deleted",
                    r.route_key
                )));
            }
            api.integrations.remove(id);
            Ok(())
        })
    }

    /// CreateStage.
    pub fn create_stage_v2(&self, caller: &Caller, api: &str, input: StageInput) -> Result<HttpStage, GatewayError> {
        let name = input.name.clone().unwrap_or_default();
        if name != "$default"
            && (name.is_empty()
                || name.len() > 128
                || !name.chars().all(|c| c.is_ascii_alphanumeric() || "-_".contains(c)))
        {
            return Err(GatewayError::BadRequest(format!("Invalid stage name specified: {name}")));
        }
        self.change_http(caller, api, false, |api| {
            if api.stages.contains_key(&name) {
                return Err(GatewayError::Conflict(format!("Stage {name} already exists")));
            }
            let now = model::clock::now_ms();
            let mut s = HttpStage { name: name.clone(), created_ms: now, last_updated_ms: now, ..Default::default() };
            apply_stage(&mut s, input, api)?;
            api.stages.insert(name.clone(), s);
            if api.stages[&name].auto_deploy {
                api.auto_deploy();
            }
            Ok(api.stages[&name].clone())
        })
    }

    /// GetStage.
    pub fn stage_v2(&self, caller: &Caller, api: &str, name: &str) -> Result<HttpStage, GatewayError> {
        self.read_http(caller, api, |a| a.stages.get(name).cloned().ok_or_else(|| no_stage(name)))
    }

    /// GetStages.
    pub fn stages_v2(&self, caller: &Caller, api: &str) -> Result<Vec<HttpStage>, GatewayError> {
        self.read_http(caller, api, |a| Ok(a.stages.values().cloned().collect()))
    }

    /// UpdateStage.
    pub fn update_stage_v2(
        &self,
        caller: &Caller,
        api: &str,
        name: &str,
        input: StageInput,
    ) -> Result<HttpStage, GatewayError> {
        self.change_http(caller, api, false, |api| {
            let mut s = api.stages.get(name).cloned().ok_or_else(|| no_stage(name))?;
            let was_auto = s.auto_deploy;
            apply_stage(&mut s, input, api)?;
            s.last_updated_ms = model::clock::now_ms();
            let auto = s.auto_deploy;
            api.stages.insert(name.to_owned(), s);
            if auto && !was_auto {
                api.auto_deploy();
            }
            Ok(api.stages[name].clone())
        })
    }

    /// DeleteStage.
    pub fn delete_stage_v2(&self, caller: &Caller, api: &str, name: &str) -> Result<(), GatewayError> {
        self.change_http(caller, api, false, |api| api.stages.remove(name).map(drop).ok_or_else(|| no_stage(name)))
    }

    /// CreateDeployment; with a stage name, points that stage at it.
    pub fn create_deployment_v2(
        &self,
        caller: &Caller,
        api: &str,
        description: Option<String>,
        stage: Option<String>,
    ) -> Result<HttpDeployment, GatewayError> {
        self.change_http(caller, api, false, |api| {
            if api.routes.is_empty() {
                return Err(GatewayError::BadRequest(
                    "Unable to deploy API because no routes exist in this API".into(),
                ));
            }
            let now = model::clock::now_ms();
            if let Some(name) = &stage {
                let s = api.stages.get(name).ok_or_else(|| no_stage(name))?;
                if s.auto_deploy {
                    return Err(GatewayError::BadRequest(format!(
                        "Stage {name} has autoDeploy enabled; its deployments are made automatically"
                    )));
                }
            }
            let d = HttpDeployment {
                id: new_id(6),
                description,
                created_ms: now,
                auto_deployed: false,
                snapshot: Arc::new(api.snapshot()),
            };
            api.deployments.insert(d.id.clone(), d.clone());
            if let Some(s) = stage.and_then(|name| api.stages.get_mut(&name)) {
                s.deployment_id = Some(d.id.clone());
                s.last_updated_ms = now;
            }
            Ok(d)
        })
    }

    /// GetDeployments.
    pub fn deployments_v2(&self, caller: &Caller, api: &str) -> Result<Vec<HttpDeployment>, GatewayError> {
        self.read_http(caller, api, |a| Ok(a.deployments.values().cloned().collect()))
    }

    /// GetDeployment.
    pub fn deployment_v2(&self, caller: &Caller, api: &str, id: &str) -> Result<HttpDeployment, GatewayError> {
        self.read_http(caller, api, |a| {
            a.deployments
                .get(id)
                .cloned()
                .ok_or_else(|| GatewayError::NotFound(format!("Invalid deployment identifier specified {id}")))
        })
    }

    /// DeleteDeployment.
    pub fn delete_deployment_v2(&self, caller: &Caller, api: &str, id: &str) -> Result<(), GatewayError> {
        self.change_http(caller, api, false, |a| {
            a.deployments
                .remove(id)
                .map(drop)
                .ok_or_else(|| GatewayError::NotFound(format!("Invalid deployment identifier specified {id}")))
        })
    }
}

impl GatewayService {
    /// CreateAuthorizer.
    pub fn create_authorizer_v2(
        &self,
        caller: &Caller,
        api: &str,
        input: AuthorizerInput,
    ) -> Result<HttpAuthorizer, GatewayError> {
        self.change_http(caller, api, true, |api| {
            let mut a = HttpAuthorizer { id: new_id(6), ..Default::default() };
            apply_authorizer(&mut a, input, api.protocol_type == "WEBSOCKET")?;
            api.authorizers.insert(a.id.clone(), a.clone());
            Ok(a)
        })
    }

    /// GetAuthorizer.
    pub fn authorizer_v2(&self, caller: &Caller, api: &str, id: &str) -> Result<HttpAuthorizer, GatewayError> {
        self.read_http(caller, api, |a| a.authorizers.get(id).cloned().ok_or_else(|| no_authorizer(id)))
    }

    /// GetAuthorizers.
    pub fn authorizers_v2(&self, caller: &Caller, api: &str) -> Result<Vec<HttpAuthorizer>, GatewayError> {
        self.read_http(caller, api, |a| Ok(a.authorizers.values().cloned().collect()))
    }

    /// UpdateAuthorizer.
    pub fn update_authorizer_v2(
        &self,
        caller: &Caller,
        api: &str,
        id: &str,
        input: AuthorizerInput,
    ) -> Result<HttpAuthorizer, GatewayError> {
        self.change_http(caller, api, true, |api| {
            let websocket = api.protocol_type == "WEBSOCKET";
            let a = api.authorizers.get_mut(id).ok_or_else(|| no_authorizer(id))?;
            apply_authorizer(a, input, websocket)?;
            Ok(a.clone())
        })
    }

    /// DeleteAuthorizer: refused while a route uses it.
    pub fn delete_authorizer_v2(&self, caller: &Caller, api: &str, id: &str) -> Result<(), GatewayError> {
        self.change_http(caller, api, true, |api| {
            if !api.authorizers.contains_key(id) {
                return Err(no_authorizer(id));
            }
            if api.routes.values().any(|r| r.authorizer_id.as_deref() == Some(id)) {
                return Err(GatewayError::Conflict(format!(
                    "Authorizer {id} is used by a route and cannot be deleted"
                )));
            }
            api.authorizers.remove(id);
            Ok(())
        })
    }
}

impl GatewayService {
    /// CreateRouteResponse.
    pub fn create_route_response(
        &self,
        caller: &Caller,
        api: &str,
        route: &str,
        mut response: RouteResponse,
    ) -> Result<RouteResponse, GatewayError> {
        if response.key.is_empty() {
            return Err(GatewayError::BadRequest("RouteResponseKey is required".into()));
        }
        self.change_http(caller, api, true, |api| {
            if api.protocol_type != "WEBSOCKET" {
                return Err(GatewayError::BadRequest("Route responses are only supported for WebSocket APIs".into()));
            }
            let r = api.routes.get_mut(route).ok_or_else(|| no_route(route))?;
            if r.responses.values().any(|x| x.key == response.key) {
                return Err(GatewayError::Conflict(format!("Route response {} already exists", response.key)));
            }
            response.id = new_id(6);
            r.responses.insert(response.id.clone(), response.clone());
            Ok(response)
        })
    }

    /// GetRouteResponses.
    pub fn route_responses(&self, caller: &Caller, api: &str, route: &str) -> Result<Vec<RouteResponse>, GatewayError> {
        self.read_http(caller, api, |a| {
            Ok(a.routes.get(route).ok_or_else(|| no_route(route))?.responses.values().cloned().collect())
        })
    }

    /// GetRouteResponse.
    pub fn route_response(
        &self,
        caller: &Caller,
        api: &str,
        route: &str,
        id: &str,
    ) -> Result<RouteResponse, GatewayError> {
        self.read_http(caller, api, |a| {
            a.routes
                .get(route)
                .ok_or_else(|| no_route(route))?
                .responses
                .get(id)
                .cloned()
                .ok_or_else(|| no_route_response(id))
        })
    }

    /// DeleteRouteResponse.
    pub fn delete_route_response(&self, caller: &Caller, api: &str, route: &str, id: &str) -> Result<(), GatewayError> {
        self.change_http(caller, api, true, |a| {
            let r = a.routes.get_mut(route).ok_or_else(|| no_route(route))?;
            r.responses.remove(id).map(drop).ok_or_else(|| no_route_response(id))
        })
    }
}

impl GatewayService {
    fn change_integration<T>(
        &self,
        caller: &Caller,
        api: &str,
        integration: &str,
        f: impl FnOnce(&mut HttpIntegration) -> Result<T, GatewayError>,
    ) -> Result<T, GatewayError> {
        self.change_http(caller, api, true, |api| {
            if api.protocol_type != "WEBSOCKET" {
                return Err(GatewayError::BadRequest(
                    "Integration responses are only supported for WebSocket APIs".into(),
                ));
            }
            f(api.integrations.get_mut(integration).ok_or_else(|| no_integration(integration))?)
        })
    }

    /// CreateIntegrationResponse.
    pub fn create_integration_response_v2(
        &self,
        caller: &Caller,
        api: &str,
        integration: &str,
        mut response: WsIntegrationResponse,
    ) -> Result<WsIntegrationResponse, GatewayError> {
        WsIntegrationResponse::pattern(&response.key)?;
        self.change_integration(caller, api, integration, |i| {
            if i.responses.values().any(|x| x.key == response.key) {
                return Err(GatewayError::Conflict(format!("Integration response {} already exists", response.key)));
            }
            response.id = new_id(6);
            i.responses.insert(response.id.clone(), response.clone());
            Ok(response)
        })
    }

    /// UpdateIntegrationResponse: the members `change` sets replace the stored ones.
    pub fn update_integration_response_v2(
        &self,
        caller: &Caller,
        api: &str,
        integration: &str,
        id: &str,
        change: impl FnOnce(&mut WsIntegrationResponse),
    ) -> Result<WsIntegrationResponse, GatewayError> {
        self.change_integration(caller, api, integration, |i| {
            let mut updated = i.responses.get(id).cloned().ok_or_else(|| no_integration_response(id))?;
            change(&mut updated);
            WsIntegrationResponse::pattern(&updated.key)?;
            if i.responses.values().any(|x| x.id != id && x.key == updated.key) {
                return Err(GatewayError::Conflict(format!("Integration response {} already exists", updated.key)));
            }
            i.responses.insert(id.to_owned(), updated.clone());
            Ok(updated)
        })
    }

    /// GetIntegrationResponses.
    pub fn integration_responses_v2(
        &self,
        caller: &Caller,
        api: &str,
        integration: &str,
    ) -> Result<Vec<WsIntegrationResponse>, GatewayError> {
        self.read_http(caller, api, |a| {
            Ok(a.integrations
                .get(integration)
                .ok_or_else(|| no_integration(integration))?
                .responses
                .values()
                .cloned()
                .collect())
        })
    }

    /// GetIntegrationResponse.
    pub fn integration_response_v2(
        &self,
        caller: &Caller,
        api: &str,
        integration: &str,
        id: &str,
    ) -> Result<WsIntegrationResponse, GatewayError> {
        self.read_http(caller, api, |a| {
            let i = a.integrations.get(integration).ok_or_else(|| no_integration(integration))?;
            i.responses.get(id).cloned().ok_or_else(|| no_integration_response(id))
        })
    }

    /// DeleteIntegrationResponse.
    pub fn delete_integration_response_v2(
        &self,
        caller: &Caller,
        api: &str,
        integration: &str,
        id: &str,
    ) -> Result<(), GatewayError> {
        self.change_integration(caller, api, integration, |i| {
            i.responses.remove(id).map(drop).ok_or_else(|| no_integration_response(id))
        })
    }
}

fn no_integration_response(id: &str) -> GatewayError {
    GatewayError::NotFound(format!("Invalid IntegrationResponse identifier specified {id}"))
}

fn no_route_response(id: &str) -> GatewayError {
    GatewayError::NotFound(format!("Invalid RouteResponse identifier specified {id}"))
}

fn no_authorizer(id: &str) -> GatewayError {
    GatewayError::NotFound(format!("Invalid Authorizer identifier specified {id}"))
}

fn no_api(id: &str) -> GatewayError {
    GatewayError::NotFound(format!("Invalid API identifier specified {id}"))
}

fn no_route(id: &str) -> GatewayError {
    GatewayError::NotFound(format!("Invalid Route identifier specified {id}"))
}

fn no_integration(id: &str) -> GatewayError {
    GatewayError::NotFound(format!("Invalid Integration identifier specified {id}"))
}

fn no_stage(name: &str) -> GatewayError {
    GatewayError::NotFound(format!("Invalid stage identifier specified {name}"))
}
