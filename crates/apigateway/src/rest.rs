//! REST APIs: the resource tree, methods, integrations, deployments and stages, and the
//! control-plane operations on them (`apigateway`).

mod authorizers;
use authorizers::check_authorizer;
mod deployments;
mod import;
mod methods;
mod types;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::patch::Op;
use crate::{new_id, now_secs, Caller, GatewayError, GatewayService, PatchOperation, REST_KIND};

pub use types::*;

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
    /// The resource `id`, or API Gateway's not-found answer.
    pub fn resource(&self, id: &str) -> Result<&Resource, GatewayError> {
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

    pub(crate) fn stage_mut(&mut self, name: &str) -> Result<&mut Stage, GatewayError> {
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
    pub fn read_under_api<T>(
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
        let endpoint_type = match endpoint_types.as_slice() {
            [] => {
                return Err(GatewayError::BadRequest(
                    "REGIONAL Configuration and EDGE Configuration cannot be both DISABLED.".into(),
                ))
            }
            [t] => read_endpoint_type(t)?,
            _ => return Err(GatewayError::BadRequest("Cannot create an api with multiple Endpoint Types.".into())),
        };
        check_ip_address_type(&[endpoint_type], input.ip_address_type.as_deref())?;
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
            endpoint_types: vec![endpoint_type],
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
                        let t = read_endpoint_type(p.value()?)?;
                        api.endpoint_types = vec![t];
                        // A private API is dual-stack only.
                        if t == EndpointType::Private {
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
            for crate::openapi::Operation { method: mut m, integration } in methods {
                check_http_method(&m.http_method)?;
                if let Some(name) = m.authorizer_id.take() {
                    m.authorizer_id = ids.get(&name).cloned();
                }
                if let Some(i) = integration {
                    m.integration = Some(check_integration(i).map_err(|e| {
                        GatewayError::BadRequest(format!("Errors found during import: {} {path}: {e}", m.http_method))
                    })?);
                }
                self.resource_mut(&resource)?.methods.insert(m.http_method.clone(), m);
            }
        }
        Ok(())
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

/// Reads an integration's type, checks the rest and fills its defaults, with AWS's messages.
fn check_integration(draft: Draft<Integration>) -> Result<Integration, GatewayError> {
    let Draft { kind, item: mut i } = draft;
    i.kind = IntegrationType::parse(&kind)
        .ok_or_else(|| crate::invalid_member("integration type", &kind, IntegrationType::NAMES))?;
    if i.timeout_ms == 0 {
        i.timeout_ms = 29_000;
    }
    if !(50..=29_000).contains(&i.timeout_ms) {
        return Err(GatewayError::BadRequest("Timeout should be between 50 ms and 29000 ms".into()));
    }
    if i.kind == IntegrationType::Mock {
        return Ok(i);
    }
    match i.http_method.as_deref() {
        None | Some("") => {
            return Err(GatewayError::BadRequest("Enumeration value for HttpMethod must be non-empty".into()))
        }
        Some(m) => check_http_method(m)?,
    }
    let uri = i.uri.as_deref().unwrap_or("");
    if i.kind.is_http() && !(uri.starts_with("http://") || uri.starts_with("https://")) {
        return Err(GatewayError::BadRequest("Invalid HTTP endpoint specified for URI".into()));
    }
    if i.kind.is_aws() && !uri.starts_with("arn:") {
        return Err(GatewayError::BadRequest("AWS ARN for integration must contain path or action".into()));
    }
    if i.kind == IntegrationType::AwsProxy && crate::routing::lambda_function_of(uri).is_none() {
        return Err(GatewayError::BadRequest(
            "Integrations of type 'AWS_PROXY' currently only supports Lambda function and Firehose stream invocations."
                .into(),
        ));
    }
    Ok(i)
}

/// The authorization types REST APIs' methods take.
pub(crate) const REST_AUTHORIZATION: &[AuthorizationType] = &[
    AuthorizationType::None,
    AuthorizationType::AwsIam,
    AuthorizationType::Custom,
    AuthorizationType::CognitoUserPools,
];

/// A method authorized by an authorizer names one of its API's.
pub(crate) fn check_method_authorizer(api: &RestApi, m: &Method) -> Result<(), GatewayError> {
    if m.authorization_type.uses_authorizer()
        && !m.authorizer_id.as_deref().is_some_and(|id| api.authorizers.contains_key(id))
    {
        return Err(GatewayError::BadRequest(
            "Invalid authorizer ID specified. Setting the authorization type to CUSTOM or COGNITO_USER_POOLS requires a valid authorizer.".into(),
        ));
    }
    Ok(())
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

/// Reads an `endpointConfiguration.types` member, with AWS's refusal of anything else.
fn read_endpoint_type(text: &str) -> Result<EndpointType, GatewayError> {
    EndpointType::parse(text).ok_or_else(|| {
        GatewayError::BadRequest("Invalid EndpointTypes specified. Valid options are REGIONAL,EDGE,PRIVATE".into())
    })
}

/// A private API answers over IPv4 and IPv6 both.
fn check_ip_address_type(types: &[EndpointType], ip: Option<&str>) -> Result<(), GatewayError> {
    if types.contains(&EndpointType::Private) && ip == Some("ipv4") {
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
            None if self.endpoint_types.contains(&EndpointType::Private) => "dualstack",
            None => "ipv4",
        }
    }
}

fn no_api(caller: &Caller, id: &str) -> GatewayError {
    GatewayError::NotFound(format!("Invalid API identifier specified {}:{id}", caller.account))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked(kind: &str, uri: Option<&str>) -> Result<Integration, String> {
        let i = Integration { http_method: Some("POST".into()), uri: uri.map(str::to_owned), ..Default::default() };
        check_integration(Draft::new(kind, i)).map_err(|e| e.to_string())
    }

    #[test]
    fn an_integrations_type_is_read_first_and_refused_in_aws_words() {
        assert_eq!(
            checked("LAMBDA", None).unwrap_err(),
            "Invalid integration type specified: LAMBDA. Valid values are HTTP, HTTP_PROXY, AWS, AWS_PROXY, MOCK"
        );
        let mock = checked("MOCK", None).unwrap();
        assert_eq!((mock.kind, mock.timeout_ms), (IntegrationType::Mock, 29_000));
        assert_eq!(checked("HTTP", Some("ftp://x")).unwrap_err(), "Invalid HTTP endpoint specified for URI");
        assert_eq!(checked("AWS", Some("x")).unwrap_err(), "AWS ARN for integration must contain path or action");
        let lambda = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:f/invocations";
        assert_eq!(checked("AWS_PROXY", Some(lambda)).unwrap().kind, IntegrationType::AwsProxy);
        assert!(checked("AWS_PROXY", Some("arn:aws:apigateway:us-east-1:sqs:path/q")).is_err());
    }

    #[test]
    fn endpoint_types_are_read_in_aws_words() {
        assert_eq!(read_endpoint_type("PRIVATE").unwrap(), EndpointType::Private);
        assert_eq!(
            read_endpoint_type("regional").unwrap_err().to_string(),
            "Invalid EndpointTypes specified. Valid options are REGIONAL,EDGE,PRIVATE"
        );
        assert!(check_ip_address_type(&[EndpointType::Private], Some("ipv4")).is_err());
        assert!(check_ip_address_type(&[EndpointType::Regional], Some("ipv4")).is_ok());
    }
}
