//! The REST API data model, as kept in memory and stored (serde: the store's documents
//! are this crate's own format; the wire form is `aws-api`'s).

use super::*;

// The stored form of these types is this crate's own (serde, for the store's documents);
// their wire form is `aws-api`'s.

pub use crate::kinds::{AuthorizationType, Draft, IntegrationType};

model::aws_enum! {
    /// A REST API's `endpointConfiguration.types` member.
    #[derive(Serialize, Deserialize)]
    #[serde(try_from = "String", into = "String")]
    pub enum EndpointType {
        /// `REGIONAL`.
        Regional = "REGIONAL",
        /// `EDGE`, the default.
        Edge = "EDGE",
        /// `PRIVATE`: reached through VPC endpoints.
        Private = "PRIVATE",
    }
}

model::aws_enum! {
    /// A REST API authorizer's `type`.
    #[derive(Default, Serialize, Deserialize)]
    #[serde(try_from = "String", into = "String")]
    pub enum AuthorizerType {
        /// `TOKEN`: a Lambda function given the caller's token.
        #[default]
        Token = "TOKEN",
        /// `REQUEST`: a Lambda function given the request's identity sources.
        Request = "REQUEST",
        /// `COGNITO_USER_POOLS`: a user pool's tokens.
        CognitoUserPools = "COGNITO_USER_POOLS",
    }
}

/// A REST API.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RestApi {
    /// Its id.
    pub id: String,
    /// The owning account.
    pub account: String,
    /// Its region.
    pub region: String,
    /// `name`.
    pub name: String,
    /// `description`.
    pub description: Option<String>,
    /// `version`.
    pub version: Option<String>,
    /// `createdDate`, seconds since the epoch.
    pub created: i64,
    /// The same in ms: APIs made in one second are listed in the order they were made.
    #[serde(default)]
    pub created_ms: i64,
    /// `binaryMediaTypes`.
    pub binary_media_types: Vec<String>,
    /// `minimumCompressionSize`.
    pub minimum_compression_size: Option<i64>,
    /// `apiKeySource`: `HEADER` or `AUTHORIZER`.
    pub api_key_source: String,
    /// `endpointConfiguration.types`.
    pub endpoint_types: Vec<EndpointType>,
    /// `endpointConfiguration.ipAddressType`, if set (see [`RestApi::ip_address_type`]).
    #[serde(default)]
    pub ip_address_type: Option<String>,
    /// `endpointConfiguration.vpcEndpointIds`.
    pub vpc_endpoint_ids: Vec<String>,
    /// `policy`.
    pub policy: Option<String>,
    /// `tags`.
    pub tags: BTreeMap<String, String>,
    /// `disableExecuteApiEndpoint`.
    pub disable_execute_api_endpoint: bool,
    /// `rootResourceId`.
    pub root_id: String,
    /// The resource tree, by id.
    pub resources: BTreeMap<String, Resource>,
    /// Deployments, by id.
    pub deployments: BTreeMap<String, Deployment>,
    /// Stages, by name.
    pub stages: BTreeMap<String, Stage>,
    /// Authorizers, by id.
    #[serde(default)]
    pub authorizers: BTreeMap<String, Authorizer>,
    /// Models, by name.
    #[serde(default)]
    pub models: BTreeMap<String, crate::definitions::Model>,
    /// Request validators, by id.
    #[serde(default)]
    pub request_validators: BTreeMap<String, crate::definitions::RequestValidator>,
    /// Documentation parts, by id.
    #[serde(default)]
    pub documentation_parts: BTreeMap<String, crate::definitions::DocumentationPart>,
    /// Gateway responses put, by type.
    #[serde(default)]
    pub gateway_responses: BTreeMap<String, crate::responses::GatewayResponse>,
}

/// A Lambda (or Cognito) authorizer of a REST API.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Authorizer {
    /// `id`.
    pub id: String,
    /// `name`.
    pub name: String,
    /// `type`.
    pub kind: AuthorizerType,
    /// `providerARNs`.
    pub provider_arns: Vec<String>,
    /// `authType`.
    pub auth_type: Option<String>,
    /// `authorizerUri`: the function to invoke.
    pub uri: Option<String>,
    /// `authorizerCredentials`.
    pub credentials: Option<String>,
    /// `identitySource`: where the identity comes from
    /// (`method.request.header.Authorization`, comma-separated for `REQUEST`).
    pub identity_source: Option<String>,
    /// `identityValidationExpression`: a `TOKEN` authorizer's token must match it.
    pub identity_validation_expression: Option<String>,
    /// `authorizerResultTtlInSeconds` (0–3600; 300 by default).
    pub ttl_seconds: i64,
}

/// A resource: one path part under its parent, and its methods.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Resource {
    /// Its id.
    pub id: String,
    /// Its parent; `None` for the root.
    pub parent_id: Option<String>,
    /// `pathPart` (`items`, `{id}`, `{proxy+}`); empty for the root.
    pub path_part: String,
    /// The full path (`/items/{id}`).
    pub path: String,
    /// Methods by HTTP method (`GET`, …, `ANY`).
    pub methods: BTreeMap<String, Method>,
}

/// A method of a resource.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Method {
    /// `httpMethod`.
    pub http_method: String,
    /// `authorizationType`: `NONE`, `AWS_IAM`, `CUSTOM` or `COGNITO_USER_POOLS`.
    pub authorization_type: AuthorizationType,
    /// `authorizerId`.
    pub authorizer_id: Option<String>,
    /// `apiKeyRequired`.
    pub api_key_required: bool,
    /// `operationName`.
    pub operation_name: Option<String>,
    /// `requestParameters` (`method.request.querystring.x` → required).
    pub request_parameters: BTreeMap<String, bool>,
    /// `requestModels`.
    pub request_models: BTreeMap<String, String>,
    /// `requestValidatorId`.
    pub request_validator_id: Option<String>,
    /// `authorizationScopes`.
    pub authorization_scopes: Vec<String>,
    /// `methodResponses`, by status code.
    pub responses: BTreeMap<String, MethodResponse>,
    /// `methodIntegration`.
    pub integration: Option<Integration>,
}

/// A method response.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct MethodResponse {
    /// `statusCode`.
    pub status_code: String,
    /// `responseParameters` (`method.response.header.X` → required).
    pub response_parameters: BTreeMap<String, bool>,
    /// `responseModels`.
    pub response_models: BTreeMap<String, String>,
    /// Whether `responseParameters` and `responseModels` were given, if empty: AWS
    /// shows a map given empty, and none never given.
    #[serde(default)]
    pub given: (bool, bool),
}

/// A method's integration with its backend.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Integration {
    /// `type`.
    pub kind: IntegrationType,
    /// `httpMethod`: the method used to call the backend.
    pub http_method: Option<String>,
    /// `uri`.
    pub uri: Option<String>,
    /// `connectionType`.
    pub connection_type: Option<String>,
    /// `connectionId`.
    pub connection_id: Option<String>,
    /// `credentials`.
    pub credentials: Option<String>,
    /// `requestParameters` (`integration.request.path.x` → `method.request.path.x`).
    pub request_parameters: BTreeMap<String, String>,
    /// `requestTemplates`, by content type.
    pub request_templates: BTreeMap<String, String>,
    /// `passthroughBehavior`.
    pub passthrough_behavior: Option<String>,
    /// `contentHandling`.
    pub content_handling: Option<String>,
    /// `timeoutInMillis` (50–29,000; 29,000 by default).
    pub timeout_ms: u64,
    /// `cacheNamespace`.
    pub cache_namespace: Option<String>,
    /// `cacheKeyParameters`.
    pub cache_key_parameters: Vec<String>,
    /// `integrationResponses`, by status code.
    pub responses: BTreeMap<String, IntegrationResponse>,
}

/// An integration response: how a backend's answer maps to a method response.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct IntegrationResponse {
    /// `statusCode`.
    pub status_code: String,
    /// `selectionPattern`: a regular expression over the backend's status (HTTP) or error
    /// message (Lambda); none marks the default response.
    pub selection_pattern: Option<String>,
    /// `responseParameters` (`method.response.header.X` → `'literal'` or `integration.response.header.Y`).
    pub response_parameters: BTreeMap<String, String>,
    /// `responseTemplates`, by content type.
    pub response_templates: BTreeMap<String, String>,
    /// `contentHandling`.
    pub content_handling: Option<String>,
}

/// A deployment: a snapshot of the resource tree that stages serve.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Deployment {
    /// Its id.
    pub id: String,
    /// `description`.
    pub description: Option<String>,
    /// `createdDate`.
    pub created: i64,
    /// The resources as they were when it was made.
    pub resources: Arc<Vec<Resource>>,
    /// The authorizers as they were.
    #[serde(default)]
    pub authorizers: Arc<BTreeMap<String, Authorizer>>,
    /// The gateway responses put, as they were.
    #[serde(default)]
    pub gateway_responses: Arc<BTreeMap<String, crate::responses::GatewayResponse>>,
}

/// A stage: a name under which a deployment is served, with its settings.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Stage {
    /// `stageName`.
    pub name: String,
    /// `deploymentId`.
    pub deployment_id: String,
    /// `description`.
    pub description: Option<String>,
    /// `variables`.
    pub variables: BTreeMap<String, String>,
    /// `methodSettings`, by `{resource path}/{method}` (`*/*` for all).
    pub method_settings: BTreeMap<String, MethodSetting>,
    /// `cacheClusterEnabled`.
    pub cache_cluster_enabled: bool,
    /// `cacheClusterSize`.
    pub cache_cluster_size: Option<String>,
    /// `tracingEnabled`.
    pub tracing_enabled: bool,
    /// `accessLogSettings`.
    pub access_log: Option<AccessLog>,
    /// `tags`.
    pub tags: BTreeMap<String, String>,
    /// `createdDate`.
    pub created: i64,
    /// `lastUpdatedDate`.
    pub last_updated: i64,
}

/// A stage's method settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MethodSetting {
    /// `metricsEnabled`.
    pub metrics_enabled: bool,
    /// `loggingLevel`.
    pub logging_level: String,
    /// `dataTraceEnabled`.
    pub data_trace_enabled: bool,
    /// `throttlingBurstLimit`.
    pub throttling_burst_limit: i64,
    /// `throttlingRateLimit`.
    pub throttling_rate_limit: f64,
    /// `cachingEnabled`.
    pub caching_enabled: bool,
    /// `cacheTtlInSeconds`.
    pub cache_ttl_seconds: i64,
    /// `cacheDataEncrypted`.
    pub cache_data_encrypted: bool,
    /// `requireAuthorizationForCacheControl`.
    pub require_authorization_for_cache_control: bool,
    /// `unauthorizedCacheControlHeaderStrategy`.
    pub unauthorized_cache_control_header_strategy: String,
}

impl Default for MethodSetting {
    fn default() -> Self {
        MethodSetting {
            metrics_enabled: false,
            logging_level: "OFF".into(),
            data_trace_enabled: false,
            throttling_burst_limit: crate::routing::ACCOUNT_BURST_LIMIT as i64,
            throttling_rate_limit: crate::routing::ACCOUNT_RATE_LIMIT,
            caching_enabled: false,
            cache_ttl_seconds: 300,
            cache_data_encrypted: false,
            require_authorization_for_cache_control: true,
            unauthorized_cache_control_header_strategy: "SUCCEED_WITH_RESPONSE_HEADER".into(),
        }
    }
}

/// A stage's access log settings.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AccessLog {
    /// `destinationArn`.
    pub destination_arn: Option<String>,
    /// `format`, with `$context` variables.
    pub format: Option<String>,
}

/// What CreateRestApi takes.
#[derive(Debug, Clone, Default)]
pub struct RestApiInput {
    /// `name`.
    pub name: String,
    /// `description`.
    pub description: Option<String>,
    /// `version`.
    pub version: Option<String>,
    /// `binaryMediaTypes`.
    pub binary_media_types: Vec<String>,
    /// `minimumCompressionSize`.
    pub minimum_compression_size: Option<i64>,
    /// `apiKeySource`.
    pub api_key_source: Option<String>,
    /// `endpointConfiguration.types`, if given (`EDGE` if not).
    pub endpoint_types: Option<Vec<String>>,
    /// `endpointConfiguration.ipAddressType`.
    pub ip_address_type: Option<String>,
    /// `endpointConfiguration.vpcEndpointIds`.
    pub vpc_endpoint_ids: Vec<String>,
    /// `policy`.
    pub policy: Option<String>,
    /// `tags`.
    pub tags: BTreeMap<String, String>,
    /// `disableExecuteApiEndpoint`.
    pub disable_execute_api_endpoint: bool,
}

/// What CreateDeployment takes.
#[derive(Debug, Clone, Default)]
pub struct DeploymentInput {
    /// `stageName`: the stage to create or move to the new deployment.
    pub stage_name: Option<String>,
    /// `stageDescription`.
    pub stage_description: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `variables` for the stage.
    pub variables: BTreeMap<String, String>,
}

/// A page of a list.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Where the next page starts, if there is one.
    pub position: Option<String>,
}
