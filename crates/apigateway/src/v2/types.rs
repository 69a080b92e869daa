//! The HTTP and WebSocket API data model, as kept in memory and stored (serde: the
//! store's documents are this crate's own format; the wire form is `aws-api`'s).

use super::*;

model::aws_enum! {
    /// `protocolType`: what an API serves. Stored by its AWS name.
    #[derive(Default, Serialize, Deserialize)]
    #[serde(try_from = "String", into = "String")]
    pub enum ProtocolType {
        /// `HTTP`: an HTTP API.
        #[default]
        Http = "HTTP",
        /// `WEBSOCKET`: a WebSocket API.
        WebSocket = "WEBSOCKET",
    }
}

impl ProtocolType {
    /// Reads CreateApi's `ProtocolType`, with AWS's refusal of anything else.
    pub fn read(s: &str) -> Result<ProtocolType, GatewayError> {
        ProtocolType::parse(s).ok_or_else(|| crate::invalid_member("protocol type", s, ProtocolType::NAMES))
    }
}

pub use crate::kinds::{AuthorizationType, IntegrationType};

model::aws_enum! {
    /// An HTTP or WebSocket API authorizer's `authorizerType`.
    #[derive(Default, Serialize, Deserialize)]
    #[serde(try_from = "String", into = "String")]
    pub enum AuthorizerType {
        /// `REQUEST`: a Lambda function given the request's identity sources.
        #[default]
        Request = "REQUEST",
        /// `JWT`: tokens from an issuer, for an audience (HTTP APIs).
        Jwt = "JWT",
    }
}

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
    /// `protocolType`.
    pub protocol_type: ProtocolType,
    /// `description`.
    pub description: Option<String>,
    /// `version`.
    pub version: Option<String>,
    /// `routeSelectionExpression`.
    pub route_selection_expression: String,
    /// `apiKeySelectionExpression`.
    pub api_key_selection_expression: String,
    /// `corsConfiguration`.
    #[serde(default, with = "store::docs::cors")]
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
    /// `authorizerType`.
    pub authorizer_type: AuthorizerType,
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

pub use model::Cors;

/// A route.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Route {
    /// `routeId`.
    pub id: String,
    /// `routeKey`.
    pub route_key: String,
    /// `authorizationType`: `NONE`, `JWT`, `AWS_IAM` or `CUSTOM`.
    pub authorization_type: AuthorizationType,
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
    /// `integrationType`: `AWS_PROXY` or `HTTP_PROXY` (and `MOCK`, `AWS` and `HTTP` for
    /// WebSocket APIs).
    pub integration_type: IntegrationType,
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
    #[serde(default, with = "store::docs::cors")]
    pub cors: Option<Cors>,
    /// The routes' keys, parsed once, with their index in `routes`.
    #[serde(skip)]
    pub(super) parsed: std::sync::OnceLock<Vec<(RouteKey, usize)>>,
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
