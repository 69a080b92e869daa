//! REST APIs: the resource tree, methods, integrations, deployments and stages, and the
//! control-plane operations on them (`apigateway`).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::patch::Op;
use crate::{new_id, now_secs, Caller, GatewayError, GatewayService, PatchOperation, REST_KIND};

// The stored form of these types is this crate's own (serde, for the store's documents);
// their wire form is `aws-api`'s.

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
    /// `endpointConfiguration.types`: `REGIONAL`, `EDGE` or `PRIVATE`.
    pub endpoint_types: Vec<String>,
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
    /// `type`: `TOKEN`, `REQUEST` or `COGNITO_USER_POOLS`.
    pub kind: String,
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
    pub authorization_type: String,
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
    /// `type`: `HTTP`, `HTTP_PROXY`, `AWS`, `AWS_PROXY` or `MOCK`.
    pub kind: String,
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

/// Pages `items` (in their order) by `position` (the index to start at) and `limit`.
pub(crate) fn page<T>(items: Vec<T>, position: Option<&str>, limit: Option<i64>) -> Result<Page<T>, GatewayError> {
    let start = match position {
        None | Some("") => 0,
        Some(p) => p.parse::<usize>().map_err(|_| GatewayError::BadRequest("Invalid position parameter".into()))?,
    };
    let limit = match limit {
        None => 25,
        Some(n) if (1..=500).contains(&n) => n as usize,
        Some(_) => return Err(GatewayError::BadRequest("Invalid limit parameter: must be between 1 and 500".into())),
    };
    let total = items.len();
    let items: Vec<T> = items.into_iter().skip(start).take(limit).collect();
    let next = start + items.len();
    Ok(Page { items, position: (next < total).then(|| next.to_string()) })
}

const HTTP_METHODS: [&str; 8] = ["GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS", "HEAD", "ANY"];

fn check_http_method(m: &str) -> Result<(), GatewayError> {
    if HTTP_METHODS.contains(&m) {
        Ok(())
    } else {
        Err(GatewayError::BadRequest(
            "Invalid HttpMethod specified. Valid options are GET,PUT,POST,DELETE,PATCH,OPTIONS,HEAD,ANY".into(),
        ))
    }
}

pub(crate) fn check_path_part(part: &str) -> Result<(), GatewayError> {
    let inner = part.strip_prefix('{').and_then(|p| p.strip_suffix('}'));
    let name = inner.map(|n| n.strip_suffix('+').unwrap_or(n)).unwrap_or(part);
    let ok = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "._-:".contains(c))
        && (inner.is_some() || !part.contains(['{', '}']));
    if ok {
        Ok(())
    } else {
        Err(GatewayError::BadRequest(format!(
            "Resource's path part only allow a-zA-Z0-9._- and curly braces at the beginning and the end and an optional plus sign before the closing brace. Invalid path part: {part}"
        )))
    }
}

fn is_variable(part: &str) -> bool {
    part.starts_with('{')
}

impl RestApi {
    pub(crate) fn resource(&self, id: &str) -> Result<&Resource, GatewayError> {
        self.resources.get(id).ok_or_else(|| GatewayError::NotFound("Invalid Resource identifier specified".into()))
    }

    pub(crate) fn resource_mut(&mut self, id: &str) -> Result<&mut Resource, GatewayError> {
        self.resources.get_mut(id).ok_or_else(|| GatewayError::NotFound("Invalid Resource identifier specified".into()))
    }

    pub(crate) fn method_mut(&mut self, resource: &str, method: &str) -> Result<&mut Method, GatewayError> {
        self.resource_mut(resource)?
            .methods
            .get_mut(method)
            .ok_or_else(|| GatewayError::NotFound("Invalid Method identifier specified".into()))
    }

    pub(crate) fn integration_mut(&mut self, resource: &str, method: &str) -> Result<&mut Integration, GatewayError> {
        self.method_mut(resource, method)?
            .integration
            .as_mut()
            .ok_or_else(|| GatewayError::NotFound("Invalid Integration identifier specified".into()))
    }

    fn stage_mut(&mut self, name: &str) -> Result<&mut Stage, GatewayError> {
        self.stages.get_mut(name).ok_or_else(|| GatewayError::NotFound("Invalid Stage identifier specified".into()))
    }

    /// Adds a resource under `parent`, checking AWS's rules for siblings.
    pub(crate) fn add_resource(&mut self, parent: &str, part: &str) -> Result<Resource, GatewayError> {
        check_path_part(part)?;
        let p = self.resource(parent)?;
        if p.path_part.ends_with("+}") {
            return Err(GatewayError::BadRequest(format!(
                "Cannot create a child of a resource with a greedy path variable: {}",
                p.path_part
            )));
        }
        let path = if p.path == "/" { format!("/{part}") } else { format!("{}/{part}", p.path) };
        for sibling in self.resources.values().filter(|r| r.parent_id.as_deref() == Some(parent)) {
            if sibling.path_part == part {
                return Err(GatewayError::Conflict(format!(
                    "Another resource with the same parent already has this name: {part}"
                )));
            }
            if is_variable(&sibling.path_part) && is_variable(part) {
                return Err(GatewayError::BadRequest(format!(
                    "A sibling ({}) of this resource already has a variable path part -- only one is allowed",
                    sibling.path_part
                )));
            }
        }
        let r = Resource {
            id: new_id(10),
            parent_id: Some(parent.to_owned()),
            path_part: part.to_owned(),
            path,
            methods: BTreeMap::new(),
        };
        self.resources.insert(r.id.clone(), r.clone());
        Ok(r)
    }
}

impl GatewayService {
    /// Reads a REST API of the caller's.
    pub(crate) fn read_rest<T>(
        &self,
        caller: &Caller,
        id: &str,
        f: impl FnOnce(&RestApi) -> Result<T, GatewayError>,
    ) -> Result<T, GatewayError> {
        let state = self.read();
        match state.rest.get(id) {
            Some(api) if api.account == caller.account && api.region == caller.region => f(api),
            _ => Err(no_api(caller, id)),
        }
    }

    /// Reads a REST API for an operation on one of its resources: an API that does not
    /// exist answers as a resource that does not, as AWS answers.
    pub(crate) fn read_under_api<T>(
        &self,
        caller: &Caller,
        id: &str,
        f: impl FnOnce(&RestApi) -> Result<T, GatewayError>,
    ) -> Result<T, GatewayError> {
        self.read_rest(caller, id, f).map_err(crate::updates::missing_api_as_resource)
    }

    /// Changes a REST API for an operation on one of its resources (see
    /// [`GatewayService::read_under_api`]).
    pub(crate) fn change_under_api<T>(
        &self,
        caller: &Caller,
        id: &str,
        f: impl FnOnce(&mut RestApi) -> Result<T, GatewayError>,
    ) -> Result<T, GatewayError> {
        self.change_rest(caller, id, f).map_err(crate::updates::missing_api_as_resource)
    }

    /// Changes a REST API of the caller's and stores it; nothing changes if `f` fails.
    pub(crate) fn change_rest<T>(
        &self,
        caller: &Caller,
        id: &str,
        f: impl FnOnce(&mut RestApi) -> Result<T, GatewayError>,
    ) -> Result<T, GatewayError> {
        let mut state = self.write();
        let api = match state.rest.get(id) {
            Some(api) if api.account == caller.account && api.region == caller.region => api,
            _ => return Err(no_api(caller, id)),
        };
        let mut changed = api.clone();
        let out = f(&mut changed)?;
        self.save(REST_KIND, id, &changed)?;
        state.rest.insert(id.to_owned(), changed);
        Ok(out)
    }

    /// Stores a REST API as it is (for imports, which build it whole).
    pub(crate) fn put_rest(&self, api: RestApi) -> Result<RestApi, GatewayError> {
        let mut state = self.write();
        self.save(REST_KIND, &api.id, &api)?;
        state.rest.insert(api.id.clone(), api.clone());
        self.publish_hosts(&state);
        Ok(api)
    }

    /// CreateRestApi.
    pub fn create_rest_api(&self, caller: &Caller, input: RestApiInput) -> Result<RestApi, GatewayError> {
        if input.name.trim().is_empty() {
            return Err(GatewayError::BadRequest("Invalid REST API name specified".into()));
        }
        if input.description.as_deref() == Some("") {
            return Err(GatewayError::BadRequest("Description cannot be an empty string".into()));
        }
        if input.minimum_compression_size.is_some_and(|n| !(0..=MAX_COMPRESSION_SIZE).contains(&n)) {
            return Err(bad_compression_size());
        }
        let endpoint_types = input.endpoint_types.unwrap_or_else(|| vec!["EDGE".to_owned()]);
        match endpoint_types.len() {
            0 => {
                return Err(GatewayError::BadRequest(
                    "REGIONAL Configuration and EDGE Configuration cannot be both DISABLED.".into(),
                ))
            }
            1 => {}
            _ => return Err(GatewayError::BadRequest("Cannot create an api with multiple Endpoint Types.".into())),
        }
        if !["REGIONAL", "EDGE", "PRIVATE"].contains(&endpoint_types[0].as_str()) {
            return Err(GatewayError::BadRequest(
                "Invalid EndpointTypes specified. Valid options are REGIONAL,EDGE,PRIVATE".into(),
            ));
        }
        check_ip_address_type(&endpoint_types, input.ip_address_type.as_deref())?;
        let api_key_source = input.api_key_source.unwrap_or_else(|| "HEADER".into());
        if !["HEADER", "AUTHORIZER"].contains(&api_key_source.as_str()) {
            return Err(GatewayError::BadRequest(format!("Invalid API Key source specified: {api_key_source}")));
        }
        let root = Resource {
            id: new_id(10),
            parent_id: None,
            path_part: String::new(),
            path: "/".into(),
            methods: BTreeMap::new(),
        };
        let api = RestApi {
            id: new_id(10),
            account: caller.account.clone(),
            region: caller.region.clone(),
            name: input.name,
            description: input.description,
            version: input.version,
            created: now_secs(),
            created_ms: model::clock::now_ms(),
            binary_media_types: input.binary_media_types,
            minimum_compression_size: input.minimum_compression_size,
            api_key_source,
            endpoint_types,
            ip_address_type: input.ip_address_type,
            vpc_endpoint_ids: input.vpc_endpoint_ids,
            policy: input.policy,
            tags: input.tags,
            disable_execute_api_endpoint: input.disable_execute_api_endpoint,
            root_id: root.id.clone(),
            resources: BTreeMap::from([(root.id.clone(), root)]),
            deployments: BTreeMap::new(),
            stages: BTreeMap::new(),
            authorizers: BTreeMap::new(),
            models: crate::definitions::default_models(),
            request_validators: BTreeMap::new(),
            documentation_parts: BTreeMap::new(),
            gateway_responses: BTreeMap::new(),
        };
        self.put_rest(api)
    }

    /// GetRestApi.
    pub fn rest_api(&self, caller: &Caller, id: &str) -> Result<RestApi, GatewayError> {
        self.read_rest(caller, id, |api| Ok(api.clone()))
    }

    /// GetRestApis, by creation.
    pub fn rest_apis(
        &self,
        caller: &Caller,
        position: Option<&str>,
        limit: Option<i64>,
    ) -> Result<Page<RestApi>, GatewayError> {
        let state = self.read();
        let mut apis: Vec<RestApi> =
            state.rest.values().filter(|a| a.account == caller.account && a.region == caller.region).cloned().collect();
        apis.sort_by(|a, b| (a.created, a.created_ms, &a.id).cmp(&(b.created, b.created_ms, &b.id)));
        page(apis, position, limit)
    }

    /// DeleteRestApi.
    pub fn delete_rest_api(&self, caller: &Caller, id: &str) -> Result<(), GatewayError> {
        let mut state = self.write();
        match state.rest.get(id) {
            Some(api) if api.account == caller.account && api.region == caller.region => {}
            _ => return Err(no_api(caller, id)),
        }
        self.inner.store.delete_document(REST_KIND, id)?;
        state.rest.remove(id);
        self.publish_hosts(&state);
        Ok(())
    }

    /// UpdateRestApi.
    pub fn update_rest_api(
        &self,
        caller: &Caller,
        id: &str,
        patch: &[PatchOperation],
    ) -> Result<RestApi, GatewayError> {
        self.change_rest(caller, id, |api| {
            for p in patch {
                let op = p.kind()?;
                let seg = p.segments();
                match (op, seg.iter().map(String::as_str).collect::<Vec<_>>().as_slice()) {
                    (Op::Replace, ["name"]) => api.name = p.value()?.to_owned(),
                    (Op::Replace, ["description"]) => api.description = p.value.clone(),
                    (Op::Replace, ["version"]) => api.version = p.value.clone(),
                    (Op::Replace, ["policy"]) => api.policy = p.value.clone(),
                    (Op::Replace, ["apiKeySource"]) => api.api_key_source = p.value()?.to_owned(),
                    (Op::Replace, ["disableExecuteApiEndpoint"]) => {
                        api.disable_execute_api_endpoint = p.bool_value()?
                    }
                    (Op::Replace, ["minimumCompressionSize"]) => {
                        api.minimum_compression_size = match p.value.as_deref() {
                            None | Some("") => None,
                            Some(v) => Some(
                                v.parse()
                                    .ok()
                                    .filter(|n| (0..=MAX_COMPRESSION_SIZE).contains(n))
                                    .ok_or_else(bad_compression_size)?,
                            ),
                        }
                    }
                    (_, ["minimumCompressionSize"]) => {
                        return Err(GatewayError::BadRequest(
                            "Invalid patch operation specified. Must be one of: [replace]".into(),
                        ))
                    }
                    (Op::Remove, ["description"]) => api.description = None,
                    (_, ["binaryMediaTypes"]) => {
                        return Err(GatewayError::BadRequest(format!("Invalid patch path {}", p.path)))
                    }
                    (Op::Replace, ["binaryMediaTypes", t]) => {
                        let new = p.value()?.to_owned();
                        api.binary_media_types.retain(|m| m != t);
                        if !api.binary_media_types.contains(&new) {
                            api.binary_media_types.push(new);
                        }
                    }
                    (Op::Replace, ["endpointConfiguration", "types", _]) => {
                        let t = p.value()?;
                        if !["REGIONAL", "EDGE", "PRIVATE"].contains(&t) {
                            return Err(GatewayError::BadRequest(
                                "Invalid EndpointTypes specified. Valid options are REGIONAL,EDGE,PRIVATE".into(),
                            ));
                        }
                        api.endpoint_types = vec![t.to_owned()];
                        // A private API is dual-stack only.
                        if t == "PRIVATE" {
                            api.ip_address_type = Some("dualstack".into());
                        }
                    }
                    (_, ["endpointConfiguration", "types", _]) => {
                        return Err(GatewayError::BadRequest(
                            "Invalid patch operation specified. Must be 'add'|'remove'|'replace'".into(),
                        ))
                    }
                    (Op::Replace, ["endpointConfiguration", "ipAddressType"]) => {
                        let t = p.value()?;
                        if t != "ipv4" && t != "dualstack" {
                            return Err(GatewayError::BadRequest(
                                "ipAddressType must be either ipv4 or dualstack.".into(),
                            ));
                        }
                        check_ip_address_type(&api.endpoint_types, Some(t))?;
                        api.ip_address_type = Some(t.to_owned());
                    }
                    (_, ["endpointConfiguration", "ipAddressType"]) => {
                        return Err(GatewayError::BadRequest(
                            "Invalid patch operation specified. Must be one of: [replace]".into(),
                        ))
                    }
                    (Op::Add, ["binaryMediaTypes", t]) => {
                        if !api.binary_media_types.iter().any(|m| m == t) {
                            api.binary_media_types.push((*t).to_owned());
                        }
                    }
                    (Op::Remove, ["binaryMediaTypes", t]) => api.binary_media_types.retain(|m| m != t),
                    _ => return Err(p.unsupported()),
                }
            }
            Ok(api.clone())
        })
    }

    /// GetResources, sorted by path.
    pub fn resources(
        &self,
        caller: &Caller,
        api: &str,
        position: Option<&str>,
        limit: Option<i64>,
    ) -> Result<Page<Resource>, GatewayError> {
        self.read_rest(caller, api, |api| {
            let mut all: Vec<Resource> = api.resources.values().cloned().collect();
            all.sort_by(|a, b| a.path.cmp(&b.path));
            page(all, position, limit)
        })
    }

    /// GetResource.
    pub fn resource(&self, caller: &Caller, api: &str, id: &str) -> Result<Resource, GatewayError> {
        self.read_under_api(caller, api, |api| api.resource(id).cloned())
    }

    /// CreateResource.
    pub fn create_resource(
        &self,
        caller: &Caller,
        api: &str,
        parent: &str,
        part: &str,
    ) -> Result<Resource, GatewayError> {
        self.change_rest(caller, api, |api| api.add_resource(parent, part))
    }

    /// DeleteResource: the resource and everything under it.
    pub fn delete_resource(&self, caller: &Caller, api: &str, id: &str) -> Result<(), GatewayError> {
        self.change_under_api(caller, api, |api| {
            let r = api.resource(id)?;
            if r.parent_id.is_none() {
                return Err(GatewayError::BadRequest("Cannot delete root resource".into()));
            }
            let prefix = format!("{}/", r.path);
            let path = r.path.clone();
            api.resources.retain(|_, r| r.path != path && !r.path.starts_with(&prefix));
            Ok(())
        })
    }

    /// PutMethod: `method.http_method` names it.
    pub fn put_method(
        &self,
        caller: &Caller,
        api: &str,
        resource: &str,
        method: Method,
    ) -> Result<Method, GatewayError> {
        self.change_under_api(caller, api, |api| {
            api.resource(resource)?;
            check_http_method(&method.http_method)?;
            match method.authorization_type.as_str() {
                "NONE" | "AWS_IAM" => {}
                "CUSTOM" | "COGNITO_USER_POOLS" => {
                    if !method.authorizer_id.as_deref().is_some_and(|id| api.authorizers.contains_key(id)) {
                        return Err(GatewayError::BadRequest("Invalid authorizer ID specified. Setting the authorization type to CUSTOM or COGNITO_USER_POOLS requires a valid authorizer.".into()));
                    }
                }
                other => {
                    return Err(GatewayError::BadRequest(format!("Invalid authorization type specified: {other}")))
                }
            }
            check_method_request(api, &method)?;
            let mut method = method;
            if !matches!(method.authorization_type.as_str(), "CUSTOM" | "COGNITO_USER_POOLS") {
                method.authorizer_id = None;
            }
            let r = api.resource_mut(resource)?;
            if r.methods.contains_key(&method.http_method) {
                return Err(GatewayError::Conflict("Method already exists for this resource".into()));
            }
            r.methods.insert(method.http_method.clone(), method.clone());
            Ok(method)
        })
    }

    /// GetMethod.
    pub fn method(&self, caller: &Caller, api: &str, resource: &str, method: &str) -> Result<Method, GatewayError> {
        self.read_under_api(caller, api, |api| {
            api.resource(resource)?
                .methods
                .get(method)
                .cloned()
                .ok_or_else(|| GatewayError::NotFound("Invalid Method identifier specified".into()))
        })
    }

    /// DeleteMethod.
    pub fn delete_method(&self, caller: &Caller, api: &str, resource: &str, method: &str) -> Result<(), GatewayError> {
        self.change_under_api(caller, api, |api| {
            api.resource_mut(resource)?
                .methods
                .remove(method)
                .map(drop)
                .ok_or_else(|| GatewayError::NotFound("Invalid Method identifier specified".into()))
        })
    }

    /// PutIntegration.
    pub fn put_integration(
        &self,
        caller: &Caller,
        api: &str,
        resource: &str,
        method: &str,
        mut integration: Integration,
    ) -> Result<Integration, GatewayError> {
        check_integration(&mut integration)?;
        self.change_under_api(caller, api, |api| {
            let m = api.method_mut(resource, method)?;
            // A re-put keeps the integration responses already defined.
            if let Some(old) = m.integration.take() {
                integration.responses = old.responses;
            }
            m.integration = Some(integration.clone());
            Ok(integration)
        })
    }

    /// GetIntegration.
    pub fn integration(
        &self,
        caller: &Caller,
        api: &str,
        resource: &str,
        method: &str,
    ) -> Result<Integration, GatewayError> {
        self.method(caller, api, resource, method)?
            .integration
            .ok_or_else(|| GatewayError::NotFound("Invalid Integration identifier specified".into()))
    }

    /// DeleteIntegration.
    pub fn delete_integration(
        &self,
        caller: &Caller,
        api: &str,
        resource: &str,
        method: &str,
    ) -> Result<(), GatewayError> {
        self.change_under_api(caller, api, |api| {
            api.method_mut(resource, method)?
                .integration
                .take()
                .map(drop)
                .ok_or_else(|| GatewayError::NotFound("Invalid Integration identifier specified".into()))
        })
    }

    /// PutMethodResponse.
    pub fn put_method_response(
        &self,
        caller: &Caller,
        api: &str,
        resource: &str,
        method: &str,
        response: MethodResponse,
    ) -> Result<MethodResponse, GatewayError> {
        check_status(&response.status_code)?;
        self.change_under_api(caller, api, |api| {
            let m = api.method_mut(resource, method)?;
            m.responses.insert(response.status_code.clone(), response.clone());
            Ok(response)
        })
    }

    /// GetMethodResponse.
    pub fn method_response(
        &self,
        caller: &Caller,
        api: &str,
        resource: &str,
        method: &str,
        status: &str,
    ) -> Result<MethodResponse, GatewayError> {
        self.method(caller, api, resource, method)?.responses.remove(status).ok_or_else(no_status)
    }

    /// DeleteMethodResponse.
    pub fn delete_method_response(
        &self,
        caller: &Caller,
        api: &str,
        resource: &str,
        method: &str,
        status: &str,
    ) -> Result<(), GatewayError> {
        self.change_under_api(caller, api, |api| {
            api.method_mut(resource, method)?.responses.remove(status).map(drop).ok_or_else(no_status)
        })
    }

    /// PutIntegrationResponse.
    pub fn put_integration_response(
        &self,
        caller: &Caller,
        api: &str,
        resource: &str,
        method: &str,
        response: IntegrationResponse,
    ) -> Result<IntegrationResponse, GatewayError> {
        check_status(&response.status_code)?;
        if let Some(p) = &response.selection_pattern {
            crate::routing::Pattern::new(p)
                .map_err(|e| GatewayError::BadRequest(format!("Invalid selection pattern specified: {e}")))?;
        }
        self.change_under_api(caller, api, |api| {
            let i = api.integration_mut(resource, method)?;
            i.responses.insert(response.status_code.clone(), response.clone());
            Ok(response)
        })
    }

    /// GetIntegrationResponse.
    pub fn integration_response(
        &self,
        caller: &Caller,
        api: &str,
        resource: &str,
        method: &str,
        status: &str,
    ) -> Result<IntegrationResponse, GatewayError> {
        self.integration(caller, api, resource, method)?.responses.remove(status).ok_or_else(no_status)
    }

    /// DeleteIntegrationResponse.
    pub fn delete_integration_response(
        &self,
        caller: &Caller,
        api: &str,
        resource: &str,
        method: &str,
        status: &str,
    ) -> Result<(), GatewayError> {
        self.change_under_api(caller, api, |api| {
            // A method that does not exist has no integration: that is what is missing.
            let integration = api.integration_mut(resource, method).map_err(|e| match e {
                GatewayError::NotFound(m) if m.starts_with("Invalid Method") => {
                    GatewayError::NotFound("Invalid Integration identifier specified".into())
                }
                e => e,
            })?;
            integration.responses.remove(status).map(drop).ok_or_else(no_status)
        })
    }

    /// CreateDeployment: snapshots the resource tree; with a stage name, creates that
    /// stage or points it at the new deployment.
    pub fn create_deployment(
        &self,
        caller: &Caller,
        api: &str,
        input: DeploymentInput,
    ) -> Result<Deployment, GatewayError> {
        self.change_rest(caller, api, |api| {
            let methods: Vec<&Method> = api.resources.values().flat_map(|r| r.methods.values()).collect();
            if methods.is_empty() {
                return Err(GatewayError::BadRequest("The REST API doesn't contain any methods".into()));
            }
            if methods.iter().any(|m| m.integration.is_none()) {
                return Err(GatewayError::BadRequest("No integration defined for method".into()));
            }
            let now = now_secs();
            let d = Deployment {
                id: new_id(6),
                description: input.description,
                created: now,
                resources: Arc::new(api.resources.values().cloned().collect()),
                authorizers: Arc::new(api.authorizers.clone()),
                gateway_responses: Arc::new(api.gateway_responses.clone()),
            };
            api.deployments.insert(d.id.clone(), d.clone());
            if let Some(name) = input.stage_name.filter(|n| !n.is_empty()) {
                check_stage_name(&name)?;
                let stage = api.stages.entry(name.clone()).or_insert_with(|| Stage {
                    name,
                    created: now,
                    description: input.stage_description,
                    ..Default::default()
                });
                stage.deployment_id = d.id.clone();
                stage.variables.extend(input.variables);
                stage.last_updated = now;
            }
            Ok(d)
        })
    }

    /// GetDeployments.
    pub fn deployments(
        &self,
        caller: &Caller,
        api: &str,
        position: Option<&str>,
        limit: Option<i64>,
    ) -> Result<Page<Deployment>, GatewayError> {
        self.read_rest(caller, api, |api| {
            let mut all: Vec<Deployment> = api.deployments.values().cloned().collect();
            all.sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
            page(all, position, limit)
        })
    }

    /// GetDeployment.
    pub fn deployment(&self, caller: &Caller, api: &str, id: &str) -> Result<Deployment, GatewayError> {
        self.read_rest(caller, api, |api| {
            api.deployments
                .get(id)
                .cloned()
                .ok_or_else(|| GatewayError::NotFound("Invalid Deployment identifier specified".into()))
        })
    }

    /// DeleteDeployment: refused while a stage serves it.
    pub fn delete_deployment(&self, caller: &Caller, api: &str, id: &str) -> Result<(), GatewayError> {
        self.change_rest(caller, api, |api| {
            if !api.deployments.contains_key(id) {
                return Err(GatewayError::NotFound("Invalid Deployment identifier specified".into()));
            }
            if api.stages.values().any(|s| s.deployment_id == id) {
                return Err(GatewayError::BadRequest(
                    "Active stages pointing to this deployment must be moved or deleted".into(),
                ));
            }
            api.deployments.remove(id);
            Ok(())
        })
    }

    /// CreateStage.
    pub fn create_stage(&self, caller: &Caller, api: &str, stage: Stage) -> Result<Stage, GatewayError> {
        check_stage_name(&stage.name)?;
        self.change_rest(caller, api, |api| {
            if !api.deployments.contains_key(&stage.deployment_id) {
                return Err(GatewayError::NotFound("Invalid Deployment identifier specified".into()));
            }
            if api.stages.contains_key(&stage.name) {
                return Err(GatewayError::Conflict("Stage already exists".into()));
            }
            let now = now_secs();
            let stage = Stage { created: now, last_updated: now, ..stage };
            api.stages.insert(stage.name.clone(), stage.clone());
            Ok(stage)
        })
    }

    /// GetStages.
    pub fn stages(&self, caller: &Caller, api: &str, deployment: Option<&str>) -> Result<Vec<Stage>, GatewayError> {
        self.read_rest(caller, api, |api| {
            Ok(api.stages.values().filter(|s| deployment.is_none_or(|d| s.deployment_id == d)).cloned().collect())
        })
    }

    /// GetStage.
    pub fn stage(&self, caller: &Caller, api: &str, name: &str) -> Result<Stage, GatewayError> {
        self.read_rest(caller, api, |api| {
            api.stages
                .get(name)
                .cloned()
                .ok_or_else(|| GatewayError::NotFound("Invalid Stage identifier specified".into()))
        })
    }

    /// DeleteStage.
    pub fn delete_stage(&self, caller: &Caller, api: &str, name: &str) -> Result<(), GatewayError> {
        self.change_rest(caller, api, |api| {
            api.stages
                .remove(name)
                .map(drop)
                .ok_or_else(|| GatewayError::NotFound("Invalid Stage identifier specified".into()))
        })
    }

    /// UpdateStage.
    pub fn update_stage(
        &self,
        caller: &Caller,
        api: &str,
        name: &str,
        patch: &[PatchOperation],
    ) -> Result<Stage, GatewayError> {
        self.change_rest(caller, api, |api| {
            let deployments: Vec<String> = api.deployments.keys().cloned().collect();
            let stage = api.stage_mut(name)?;
            for p in patch {
                apply_stage_patch(stage, p, &deployments)?;
            }
            stage.last_updated = now_secs();
            Ok(stage.clone())
        })
    }
}

/// Checks an authorizer's definition with AWS's rules and fills its defaults.
fn check_authorizer(a: &mut Authorizer) -> Result<(), GatewayError> {
    if a.name.trim().is_empty() {
        return Err(GatewayError::BadRequest("Authorizer name is required".into()));
    }
    match a.kind.as_str() {
        "TOKEN" | "REQUEST" => {
            let uri = a.uri.as_deref().unwrap_or("");
            if crate::routing::lambda_function_of(uri).is_none() {
                return Err(GatewayError::BadRequest(format!("Invalid Authorizer URI: {uri}. Authorizer URI should be a valid API Gateway ARN that represents a Lambda function invocation.")));
            }
        }
        "COGNITO_USER_POOLS" if !a.provider_arns.is_empty() => {}
        "COGNITO_USER_POOLS" => {
            return Err(GatewayError::BadRequest(
                "ProviderARNs need to be specified for COGNITO_USER_POOLS authorizers".into(),
            ))
        }
        other => {
            return Err(GatewayError::BadRequest(format!(
                "Invalid authorizer type specified: {other}. Valid values are TOKEN, REQUEST, COGNITO_USER_POOLS"
            )))
        }
    }
    if a.kind == "TOKEN" && a.identity_source.as_deref().is_none_or(str::is_empty) {
        return Err(GatewayError::BadRequest("Identity source is required for TOKEN authorizers".into()));
    }
    if !(0..=3600).contains(&a.ttl_seconds) {
        return Err(GatewayError::BadRequest("Authorizer result TTL must be between 0 and 3600 seconds".into()));
    }
    if let Some(e) = &a.identity_validation_expression {
        crate::routing::Pattern::new(e)
            .map_err(|err| GatewayError::BadRequest(format!("Invalid identity validation expression: {err}")))?;
    }
    Ok(())
}

impl GatewayService {
    /// CreateAuthorizer.
    pub fn create_authorizer(&self, caller: &Caller, api: &str, mut a: Authorizer) -> Result<Authorizer, GatewayError> {
        a.id = new_id(6);
        check_authorizer(&mut a)?;
        self.change_rest(caller, api, |api| {
            api.authorizers.insert(a.id.clone(), a.clone());
            Ok(a)
        })
        // AWS's answer for an API that does not exist, word for word.
        .map_err(|e| match e {
            GatewayError::NotFound(_) => GatewayError::Conflict(
                "Unable to complete operation due to concurrent modification. Please try again later.".into(),
            ),
            e => e,
        })
    }

    /// GetAuthorizers.
    pub fn authorizers(&self, caller: &Caller, api: &str) -> Result<Vec<Authorizer>, GatewayError> {
        self.read_rest(caller, api, |api| Ok(api.authorizers.values().cloned().collect()))
    }

    /// GetAuthorizer.
    pub fn authorizer(&self, caller: &Caller, api: &str, id: &str) -> Result<Authorizer, GatewayError> {
        self.read_rest(caller, api, |api| api.authorizers.get(id).cloned().ok_or_else(no_authorizer))
    }

    /// UpdateAuthorizer.
    pub fn update_authorizer(
        &self,
        caller: &Caller,
        api: &str,
        id: &str,
        patch: &[PatchOperation],
    ) -> Result<Authorizer, GatewayError> {
        self.change_rest(caller, api, |api| {
            let mut a = api.authorizers.get(id).cloned().ok_or_else(no_authorizer)?;
            for p in patch {
                match (p.kind()?, p.path.as_str()) {
                    (Op::Replace, "/name") => a.name = p.value()?.to_owned(),
                    (Op::Replace, "/type") => a.kind = p.value()?.to_owned(),
                    (Op::Replace, "/authorizerUri") => a.uri = p.value.clone(),
                    (Op::Replace, "/authorizerCredentials") => a.credentials = p.value.clone(),
                    (Op::Replace, "/identitySource") => a.identity_source = p.value.clone(),
                    (Op::Replace, "/identityValidationExpression") => {
                        a.identity_validation_expression = p.value.clone()
                    }
                    (Op::Replace, "/authorizerResultTtlInSeconds") => {
                        a.ttl_seconds = p.value()?.parse().map_err(|_| p.unsupported())?
                    }
                    (Op::Replace, "/authType") => a.auth_type = p.value.clone(),
                    _ => return Err(p.unsupported()),
                }
            }
            check_authorizer(&mut a)?;
            api.authorizers.insert(id.to_owned(), a.clone());
            Ok(a)
        })
    }

    /// DeleteAuthorizer: refused while a method uses it.
    pub fn delete_authorizer(&self, caller: &Caller, api: &str, id: &str) -> Result<(), GatewayError> {
        self.change_rest(caller, api, |api| {
            if !api.authorizers.contains_key(id) {
                return Err(no_authorizer());
            }
            if api.resources.values().flat_map(|r| r.methods.values()).any(|m| m.authorizer_id.as_deref() == Some(id)) {
                return Err(GatewayError::Conflict("Cannot delete authorizer, is referenced in method".into()));
            }
            api.authorizers.remove(id);
            Ok(())
        })
    }
}

/// How PutRestApi combines a definition with the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutMode {
    /// `overwrite`: the definition replaces the API's resources, methods and authorizers.
    Overwrite,
    /// `merge`: the definition's are added, replacing those of the same path and method.
    Merge,
}

impl RestApi {
    /// The id of the resource at `path`, made (with its parents) if it does not exist.
    fn ensure_path(&mut self, path: &str) -> Result<String, GatewayError> {
        let mut id = self.root_id.clone();
        for part in path.split('/').filter(|p| !p.is_empty()) {
            let existing =
                self.resources.values().find(|r| r.parent_id.as_deref() == Some(id.as_str()) && r.path_part == part);
            id = match existing {
                Some(r) => r.id.clone(),
                None => self.add_resource(&id, part)?.id,
            };
        }
        Ok(id)
    }

    /// Applies an OpenAPI definition.
    fn apply(&mut self, def: crate::openapi::Definition, mode: PutMode) -> Result<(), GatewayError> {
        if mode == PutMode::Overwrite {
            self.documentation_parts.clear();
            let root = self.root_id.clone();
            self.resources.retain(|id, _| *id == root);
            if let Some(r) = self.resources.get_mut(&root) {
                r.methods.clear();
            }
            self.authorizers.clear();
            self.binary_media_types = def.binary_media_types.clone();
            self.name = def.name.clone();
            self.description = def.description.clone();
            self.version = def.version.clone();
        } else {
            for t in &def.binary_media_types {
                if !self.binary_media_types.contains(t) {
                    self.binary_media_types.push(t.clone());
                }
            }
        }
        if let Some(source) = def.api_key_source {
            self.api_key_source = source.to_ascii_uppercase();
        }
        let mut ids = BTreeMap::new();
        for (name, mut a) in def.authorizers {
            a.id = self.authorizers.values().find(|x| x.name == name).map_or_else(|| new_id(6), |x| x.id.clone());
            check_authorizer(&mut a)?;
            ids.insert(name, a.id.clone());
            self.authorizers.insert(a.id.clone(), a);
        }
        for part in def.documentation {
            crate::definitions::put_part(self, part);
        }
        for (path, methods) in def.paths {
            let resource = self.ensure_path(&path)?;
            for mut m in methods {
                check_http_method(&m.http_method)?;
                if let Some(name) = m.authorizer_id.take() {
                    m.authorizer_id = ids.get(&name).cloned();
                }
                if let Some(i) = m.integration.as_mut() {
                    check_integration(i).map_err(|e| {
                        GatewayError::BadRequest(format!("Errors found during import: {} {path}: {e}", m.http_method))
                    })?;
                }
                self.resource_mut(&resource)?.methods.insert(m.http_method.clone(), m);
            }
        }
        Ok(())
    }
}

impl GatewayService {
    /// ImportRestApi: a new REST API from an OpenAPI 3 or Swagger 2 definition (JSON or
    /// YAML). `endpoint_type` is the `endpointConfigurationTypes` parameter.
    pub fn import_rest_api(
        &self,
        caller: &Caller,
        document: &[u8],
        fail_on_warnings: bool,
        endpoint_type: Option<String>,
    ) -> Result<RestApi, GatewayError> {
        let def = crate::openapi::parse(document)?;
        if fail_on_warnings && !def.warnings.is_empty() {
            return Err(GatewayError::BadRequest(format!(
                "Warnings found during import:\n{}",
                def.warnings.join("\n")
            )));
        }
        let endpoint_types = match endpoint_type {
            Some(t) => Some(vec![t]),
            None => Some(def.endpoint_types.clone()).filter(|t| !t.is_empty()),
        };
        let created = self.create_rest_api(
            caller,
            RestApiInput {
                name: def.name.clone(),
                description: def.description.clone(),
                version: def.version.clone(),
                endpoint_types,
                ..Default::default()
            },
        )?;
        let outcome = self.change_rest(caller, &created.id, |api| api.apply(def, PutMode::Merge).map(|()| api.clone()));
        if outcome.is_err() {
            // An import is all or nothing.
            let _ = self.delete_rest_api(caller, &created.id);
        }
        outcome
    }

    /// PutRestApi: updates a REST API from a definition.
    pub fn put_rest_api(
        &self,
        caller: &Caller,
        id: &str,
        document: &[u8],
        mode: PutMode,
        fail_on_warnings: bool,
    ) -> Result<RestApi, GatewayError> {
        let def = crate::openapi::parse(document)?;
        if fail_on_warnings && !def.warnings.is_empty() {
            return Err(GatewayError::BadRequest(format!(
                "Warnings found during import:\n{}",
                def.warnings.join("\n")
            )));
        }
        self.change_rest(caller, id, |api| api.apply(def, mode).map(|()| api.clone()))
    }
}

/// The largest `minimumCompressionSize`: 10 MiB.
const MAX_COMPRESSION_SIZE: i64 = 10_485_760;

fn bad_compression_size() -> GatewayError {
    GatewayError::BadRequest("Invalid minimum compression size, must be between 0 and 10485760".into())
}

fn no_status() -> GatewayError {
    GatewayError::NotFound("Invalid Response status code specified".into())
}

fn no_authorizer() -> GatewayError {
    GatewayError::NotFound("Invalid Authorizer identifier specified".into())
}

fn apply_stage_patch(stage: &mut Stage, p: &PatchOperation, deployments: &[String]) -> Result<(), GatewayError> {
    let op = p.kind()?;
    let seg = p.segments();
    let seg: Vec<&str> = seg.iter().map(String::as_str).collect();
    match (op, seg.as_slice()) {
        (Op::Replace, ["description"]) => stage.description = p.value.clone(),
        (Op::Replace, ["deploymentId"]) => {
            let d = p.value()?;
            if !deployments.iter().any(|x| x == d) {
                return Err(GatewayError::BadRequest(format!("Deployment id does not exist: {d}")));
            }
            stage.deployment_id = d.to_owned();
        }
        (Op::Replace | Op::Add, ["variables", name]) => {
            stage.variables.insert((*name).to_owned(), p.value()?.to_owned());
        }
        (Op::Remove, ["variables", name]) => {
            stage.variables.remove(*name);
        }
        (Op::Replace, ["tracingEnabled"]) => stage.tracing_enabled = p.bool_value()?,
        (Op::Replace, ["cacheClusterEnabled"]) => stage.cache_cluster_enabled = p.bool_value()?,
        (Op::Replace, ["cacheClusterSize"]) => stage.cache_cluster_size = p.value.clone(),
        (Op::Add | Op::Replace, ["accessLogSettings", field @ ("destinationArn" | "format")]) => {
            let value = p
                .value
                .clone()
                .filter(|v| !v.is_empty())
                .ok_or_else(|| GatewayError::BadRequest("Access Log value must not be empty".into()))?;
            let log = stage.access_log.get_or_insert_with(AccessLog::default);
            match *field {
                "destinationArn" => log.destination_arn = Some(value),
                _ => log.format = Some(value),
            }
        }
        (Op::Add | Op::Replace, ["accessLogSettings", ..]) => {
            return Err(GatewayError::BadRequest(
                "Invalid accessLogSettings path. Must be one of : [/accessLogSettings/destinationArn, \
                 /accessLogSettings/format]"
                    .into(),
            ))
        }
        (Op::Remove, ["accessLogSettings"]) => stage.access_log = None,
        (Op::Remove, ["accessLogSettings", field]) => {
            return Err(GatewayError::BadRequest(format!(
                "Cannot remove method setting accessLogSettings/{field} because there is no method setting for this \
                 method "
            )))
        }
        (Op::Replace, [resource, method, group, field]) => {
            // The key keeps the resource path escaped, as AWS shows it: `~1items/GET`.
            let raw: Vec<&str> = p.path.trim_start_matches('/').split('/').collect();
            let key = format!("{}/{}", raw[0], raw[1]);
            if *resource != "*" && !resource.starts_with('/') {
                return Err(p.unsupported());
            }
            check_http_method(method).or_else(|e| if *method == "*" { Ok(()) } else { Err(e) })?;
            let s = stage.method_settings.entry(key).or_default();
            let number = || p.value()?.parse::<f64>().map_err(|_| p.unsupported());
            match (*group, *field) {
                ("throttling", "rateLimit") => s.throttling_rate_limit = number()?,
                ("throttling", "burstLimit") => s.throttling_burst_limit = number()? as i64,
                ("metrics", "enabled") => s.metrics_enabled = p.bool_value()?,
                ("logging", "loglevel") => s.logging_level = p.value()?.to_owned(),
                ("logging", "dataTrace") => s.data_trace_enabled = p.bool_value()?,
                ("caching", "enabled") => s.caching_enabled = p.bool_value()?,
                ("caching", "ttlInSeconds") => s.cache_ttl_seconds = number()? as i64,
                ("caching", "dataEncrypted") => s.cache_data_encrypted = p.bool_value()?,
                _ => return Err(p.unsupported()),
            }
        }
        (Op::Remove, [_, _]) => {
            let key = p.path.trim_start_matches('/').to_owned();
            stage.method_settings.remove(&key);
        }
        _ => return Err(p.unsupported()),
    }
    Ok(())
}

fn check_stage_name(name: &str) -> Result<(), GatewayError> {
    if !name.is_empty() && name.len() <= 128 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        Ok(())
    } else {
        Err(GatewayError::BadRequest(
            "Stage name only allows a-zA-Z0-9_ and must be between 1 and 128 characters long".into(),
        ))
    }
}

fn check_status(code: &str) -> Result<(), GatewayError> {
    if code.len() == 3
        && code.bytes().all(|b| b.is_ascii_digit())
        && ('1'..='5').contains(&code.chars().next().unwrap_or('0'))
    {
        Ok(())
    } else {
        Err(GatewayError::BadRequest(format!("Invalid status code specified: {code}")))
    }
}

/// Checks an integration and fills its defaults, with AWS's messages.
fn check_integration(i: &mut Integration) -> Result<(), GatewayError> {
    if !["HTTP", "HTTP_PROXY", "AWS", "AWS_PROXY", "MOCK"].contains(&i.kind.as_str()) {
        return Err(GatewayError::BadRequest(format!(
            "Invalid integration type specified: {}. Valid values are HTTP, HTTP_PROXY, AWS, AWS_PROXY, MOCK",
            i.kind
        )));
    }
    if i.timeout_ms == 0 {
        i.timeout_ms = 29_000;
    }
    if !(50..=29_000).contains(&i.timeout_ms) {
        return Err(GatewayError::BadRequest("Timeout should be between 50 ms and 29000 ms".into()));
    }
    if i.kind == "MOCK" {
        return Ok(());
    }
    match i.http_method.as_deref() {
        None | Some("") => {
            return Err(GatewayError::BadRequest("Enumeration value for HttpMethod must be non-empty".into()))
        }
        Some(m) => check_http_method(m)?,
    }
    let uri = i.uri.as_deref().unwrap_or("");
    match i.kind.as_str() {
        "HTTP" | "HTTP_PROXY" if !(uri.starts_with("http://") || uri.starts_with("https://")) => {
            Err(GatewayError::BadRequest("Invalid HTTP endpoint specified for URI".into()))
        }
        "AWS" | "AWS_PROXY" if !uri.starts_with("arn:") => {
            Err(GatewayError::BadRequest("AWS ARN for integration must contain path or action".into()))
        }
        "AWS_PROXY" if crate::routing::lambda_function_of(uri).is_none() => Err(GatewayError::BadRequest(
            "Integrations of type 'AWS_PROXY' currently only supports Lambda function and Firehose stream invocations."
                .into(),
        )),
        _ => Ok(()),
    }
}

/// A method request's validator and models must exist, and its parameters' names be
/// unique across the query string, headers and path.
fn check_method_request(api: &RestApi, m: &Method) -> Result<(), GatewayError> {
    if m.request_validator_id.as_deref().is_some_and(|id| !api.request_validators.contains_key(id)) {
        return Err(GatewayError::BadRequest("Invalid Request Validator identifier specified".into()));
    }
    if let Some(name) = m.request_models.values().find(|name| !api.models.contains_key(*name)) {
        return Err(GatewayError::BadRequest(format!("Invalid model identifier specified: {name}")));
    }
    let mut names = std::collections::HashSet::new();
    for key in m.request_parameters.keys() {
        let name = ["method.request.querystring.", "method.request.header.", "method.request.path."]
            .iter()
            .find_map(|p| key.strip_prefix(p));
        if let Some(name) = name {
            if !names.insert(name.to_ascii_lowercase()) {
                return Err(GatewayError::BadRequest(
                    "Parameter names must be unique across querystring, header and path".into(),
                ));
            }
        }
    }
    Ok(())
}

/// A private API answers over IPv4 and IPv6 both.
fn check_ip_address_type(types: &[String], ip: Option<&str>) -> Result<(), GatewayError> {
    if types.iter().any(|t| t == "PRIVATE") && ip == Some("ipv4") {
        return Err(GatewayError::BadRequest("Only dualstack ipAddressType is supported for Private APIs.".into()));
    }
    Ok(())
}

impl RestApi {
    /// `endpointConfiguration.ipAddressType`: as set, else `dualstack` for a private API
    /// and `ipv4` for the others.
    pub fn ip_address_type(&self) -> &str {
        match &self.ip_address_type {
            Some(t) => t,
            None if self.endpoint_types.iter().any(|t| t == "PRIVATE") => "dualstack",
            None => "ipv4",
        }
    }
}

fn no_api(caller: &Caller, id: &str) -> GatewayError {
    GatewayError::NotFound(format!("Invalid API identifier specified {}:{id}", caller.account))
}
