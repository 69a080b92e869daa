//! PATCH updates of a REST API's resources, methods, method responses, integrations and
//! integration responses (UpdateResource, UpdateMethod, UpdateMethodResponse,
//! UpdateIntegration, UpdateIntegrationResponse), with AWS's rules and words for each
//! path.

use std::collections::BTreeMap;

use crate::patch::PatchOperation;
use crate::rest::{AuthorizationType, Integration, IntegrationResponse, Method, MethodResponse, Resource, RestApi};
use crate::{Caller, GatewayError, GatewayService};

fn bad(message: impl Into<String>) -> GatewayError {
    GatewayError::BadRequest(message.into())
}

fn not_found(message: &str) -> GatewayError {
    GatewayError::NotFound(message.into())
}

fn no_resource() -> GatewayError {
    not_found("Invalid Resource identifier specified")
}

fn invalid_path(p: &PatchOperation) -> GatewayError {
    bad(format!("Invalid patch path {}", p.path))
}

/// A patch path into a map member (`/requestParameters/method.request.querystring.q`,
/// `/responseModels/application~1json`): the key, unescaped; `None` when the path is not
/// exactly one key below `member`.
fn map_key(p: &PatchOperation, member: &str) -> Option<String> {
    let rest = p.path.strip_prefix(member)?.strip_prefix('/')?;
    (!rest.is_empty() && !rest.contains('/')).then(|| rest.replace("~1", "/").replace("~0", "~"))
}

/// Applies an `add`, `replace` or `remove` of one key of a map; `missing` answers the
/// removal or replacement of a key that is not there.
fn patch_map<V>(
    map: &mut BTreeMap<String, V>,
    key: String,
    p: &PatchOperation,
    value: impl FnOnce(Option<&str>) -> Result<V, GatewayError>,
    missing: &str,
) -> Result<(), GatewayError> {
    match p.op.as_str() {
        "add" => {
            map.insert(key, value(p.value.as_deref())?);
        }
        "replace" if map.contains_key(&key) => {
            map.insert(key, value(p.value.as_deref())?);
        }
        "remove" if map.remove(&key).is_some() => {}
        "replace" | "remove" => return Err(not_found(missing)),
        _ => return Err(invalid_path(p)),
    }
    Ok(())
}

fn flag(v: Option<&str>) -> Result<bool, GatewayError> {
    Ok(v.is_some_and(|v| v.eq_ignore_ascii_case("true")))
}

fn text(v: Option<&str>) -> Result<String, GatewayError> {
    Ok(v.unwrap_or_default().to_owned())
}

impl RestApi {
    /// Recomputes the paths of a resource and everything under it.
    fn repath(&mut self, id: &str) {
        let Some(r) = self.resources.get(id) else { return };
        let parent_path = r.parent_id.as_deref().and_then(|p| self.resources.get(p)).map(|p| p.path.clone());
        let path = match parent_path.as_deref() {
            None => "/".to_owned(),
            Some("/") => format!("/{}", r.path_part),
            Some(pp) => format!("{pp}/{}", r.path_part),
        };
        if let Some(r) = self.resources.get_mut(id) {
            r.path = path;
        }
        let children: Vec<String> =
            self.resources.values().filter(|c| c.parent_id.as_deref() == Some(id)).map(|c| c.id.clone()).collect();
        for c in children {
            self.repath(&c);
        }
    }

    fn is_under(&self, id: &str, ancestor: &str) -> bool {
        let mut cur = Some(id.to_owned());
        while let Some(c) = cur {
            if c == ancestor {
                return true;
            }
            cur = self.resources.get(&c).and_then(|r| r.parent_id.clone());
        }
        false
    }

    fn update_resource(&mut self, id: &str, patch: &[PatchOperation]) -> Result<Resource, GatewayError> {
        let mut r = self.resources.get(id).cloned().ok_or_else(no_resource)?;
        for p in patch {
            match (p.op.as_str(), p.path.as_str()) {
                ("replace", "/pathPart") if r.parent_id.is_none() => {
                    return Err(bad("Root resource cannot update its pathPart."))
                }
                ("replace", "/parentId") if r.parent_id.is_none() => {
                    return Err(bad("Root resource cannot update its parentId."))
                }
                ("replace", "/pathPart") => r.path_part = p.value.clone().unwrap_or_default(),
                ("replace", "/parentId") => {
                    let parent = p.value.clone().unwrap_or_default();
                    if !self.resources.contains_key(&parent) {
                        return Err(no_resource());
                    }
                    if self.is_under(&parent, id) {
                        return Err(bad("Resources cannot be cyclical."));
                    }
                    r.parent_id = Some(parent);
                }
                ("replace", _) => {
                    return Err(bad(format!(
                        "Invalid patch path  '{}' specified for op 'replace'. Must be one of: [/parentId, /pathPart]",
                        p.path
                    )))
                }
                (op, _) => {
                    return Err(bad(format!(
                        "Invalid patch path  '{}' specified for op '{op}'. Please choose supported operations",
                        p.path
                    )))
                }
            }
        }
        crate::rest::check_path_part(&r.path_part)?;
        let sibling =
            self.resources.values().any(|s| s.id != r.id && s.parent_id == r.parent_id && s.path_part == r.path_part);
        if sibling {
            return Err(GatewayError::Conflict(format!(
                "Another resource with the same parent already has this name: {}",
                r.path_part
            )));
        }
        self.resources.insert(id.to_owned(), r);
        self.repath(id);
        self.resources.get(id).cloned().ok_or_else(no_resource)
    }

    fn update_method(
        &mut self,
        resource: &str,
        method: &str,
        patch: &[PatchOperation],
    ) -> Result<Method, GatewayError> {
        let mut m = self.resource(resource)?.methods.get(method).cloned().ok_or_else(no_method)?;
        for p in patch {
            if let Some(key) = map_key(p, "/requestParameters") {
                patch_map(&mut m.request_parameters, key, p, flag, "Invalid parameter name specified")?;
                continue;
            }
            if let Some(key) = map_key(p, "/requestModels") {
                patch_map(&mut m.request_models, key, p, text, "Content-Type specified was not found")?;
                continue;
            }
            let scalar =
                ["/operationName", "/apiKeyRequired", "/authorizationType", "/authorizerId", "/requestValidatorId"];
            if !scalar.contains(&p.path.as_str()) {
                return Err(invalid_path(p));
            }
            if p.op != "replace" {
                return Err(bad("Invalid patch operation specified. Must be one of: [replace]"));
            }
            let value = p.value.clone().filter(|v| !v.is_empty());
            match p.path.as_str() {
                "/operationName" => m.operation_name = value,
                "/apiKeyRequired" => m.api_key_required = flag(value.as_deref())?,
                "/authorizationType" => {
                    m.authorization_type = match value {
                        Some(t) => AuthorizationType::read(&t, crate::rest::REST_AUTHORIZATION)?,
                        None => AuthorizationType::None,
                    }
                }
                "/authorizerId" => m.authorizer_id = value,
                _ => m.request_validator_id = value,
            }
        }
        crate::rest::check_method_authorizer(self, &m)?;
        if m.request_validator_id.as_ref().is_some_and(|v| !self.request_validators.contains_key(v)) {
            return Err(bad("Invalid Request Validator identifier specified"));
        }
        // Only an authorizer-backed method keeps an authorizer.
        if !m.authorization_type.uses_authorizer() {
            m.authorizer_id = None;
        }
        self.resource_mut(resource)?.methods.insert(method.to_owned(), m.clone());
        Ok(m)
    }

    fn update_method_response(
        &mut self,
        resource: &str,
        method: &str,
        status: &str,
        patch: &[PatchOperation],
    ) -> Result<MethodResponse, GatewayError> {
        let m = self.resource(resource)?.methods.get(method).ok_or_else(no_method)?;
        let mut r =
            m.responses.get(status).cloned().ok_or_else(|| not_found("Invalid Response status code specified"))?;
        for p in patch {
            if let Some(key) = map_key(p, "/responseParameters") {
                patch_map(&mut r.response_parameters, key, p, flag, "Invalid parameter name specified")?;
            } else if let Some(key) = map_key(p, "/responseModels") {
                patch_map(&mut r.response_models, key, p, text, "Content-Type specified was not found")?;
            } else {
                return Err(invalid_path(p));
            }
        }
        // A map patched down to nothing is shown as none, as AWS shows it.
        r.given = (r.given.0 && !r.response_parameters.is_empty(), r.given.1 && !r.response_models.is_empty());
        self.method_mut(resource, method)?.responses.insert(status.to_owned(), r.clone());
        Ok(r)
    }

    fn update_integration(
        &mut self,
        resource: &str,
        method: &str,
        patch: &[PatchOperation],
    ) -> Result<Integration, GatewayError> {
        let mut i = self.integration_mut(resource, method)?.clone();
        for p in patch {
            if let Some(key) = map_key(p, "/requestParameters") {
                patch_map(&mut i.request_parameters, key, p, text, "Invalid parameter name specified")?;
                continue;
            }
            if let Some(key) = map_key(p, "/requestTemplates") {
                patch_map(&mut i.request_templates, key, p, text, "Content-Type specified was not found")?;
                continue;
            }
            if let Some(key) = map_key(p, "/cacheKeyParameters") {
                match p.op.as_str() {
                    "add" if !i.cache_key_parameters.contains(&key) => i.cache_key_parameters.push(key),
                    "add" => {}
                    "remove" => i.cache_key_parameters.retain(|k| *k != key),
                    _ => return Err(invalid_path(p)),
                }
                continue;
            }
            if p.op != "replace" {
                return Err(invalid_path(p));
            }
            let value = p.value.clone().filter(|v| !v.is_empty());
            match p.path.as_str() {
                "/uri" => i.uri = value,
                "/httpMethod" => i.http_method = value,
                "/connectionType" => i.connection_type = value,
                "/connectionId" => i.connection_id = value,
                "/credentials" => i.credentials = value,
                "/passthroughBehavior" => i.passthrough_behavior = value,
                "/contentHandling" => i.content_handling = value,
                "/cacheNamespace" => i.cache_namespace = value,
                "/timeoutInMillis" => {
                    i.timeout_ms = value
                        .and_then(|v| v.parse().ok())
                        .filter(|ms| (50..=29_000).contains(ms))
                        .ok_or_else(|| bad("Timeout should be between 50 ms and 29000 ms"))?
                }
                _ => return Err(invalid_path(p)),
            }
        }
        *self.integration_mut(resource, method)? = i.clone();
        Ok(i)
    }

    fn update_integration_response(
        &mut self,
        resource: &str,
        method: &str,
        status: &str,
        patch: &[PatchOperation],
    ) -> Result<IntegrationResponse, GatewayError> {
        let integration = self.integration_mut(resource, method)?;
        let mut r = integration
            .responses
            .get(status)
            .cloned()
            .ok_or_else(|| not_found("Invalid Response status code specified"))?;
        for p in patch {
            if let Some(key) = map_key(p, "/responseParameters") {
                patch_map(&mut r.response_parameters, key, p, text, "Invalid parameter name specified")?;
            } else if let Some(key) = map_key(p, "/responseTemplates") {
                patch_map(&mut r.response_templates, key, p, text, "Content-Type specified was not found")?;
            } else {
                match (p.op.as_str(), p.path.as_str()) {
                    ("replace", "/selectionPattern") => r.selection_pattern = p.value.clone(),
                    ("replace", "/contentHandling") => r.content_handling = p.value.clone(),
                    _ => return Err(invalid_path(p)),
                }
            }
        }
        self.integration_mut(resource, method)?.responses.insert(status.to_owned(), r.clone());
        Ok(r)
    }
}

fn no_method() -> GatewayError {
    not_found("Invalid Method identifier specified")
}

impl GatewayService {
    /// UpdateResource: `replace` of `/pathPart` and `/parentId`; the paths below follow.
    pub fn update_resource(
        &self,
        caller: &Caller,
        api: &str,
        id: &str,
        patch: &[PatchOperation],
    ) -> Result<Resource, GatewayError> {
        self.change_under_api(caller, api, |a| a.update_resource(id, patch))
    }

    /// UpdateMethod.
    pub fn update_method(
        &self,
        caller: &Caller,
        api: &str,
        resource: &str,
        method: &str,
        patch: &[PatchOperation],
    ) -> Result<Method, GatewayError> {
        self.change_under_api(caller, api, |a| a.update_method(resource, method, patch))
    }

    /// UpdateMethodResponse.
    pub fn update_method_response(
        &self,
        caller: &Caller,
        api: &str,
        resource: &str,
        method: &str,
        status: &str,
        patch: &[PatchOperation],
    ) -> Result<MethodResponse, GatewayError> {
        self.change_under_api(caller, api, |a| a.update_method_response(resource, method, status, patch))
    }

    /// UpdateIntegration.
    pub fn update_integration(
        &self,
        caller: &Caller,
        api: &str,
        resource: &str,
        method: &str,
        patch: &[PatchOperation],
    ) -> Result<Integration, GatewayError> {
        self.change_under_api(caller, api, |a| a.update_integration(resource, method, patch))
    }

    /// UpdateIntegrationResponse.
    pub fn update_integration_response(
        &self,
        caller: &Caller,
        api: &str,
        resource: &str,
        method: &str,
        status: &str,
        patch: &[PatchOperation],
    ) -> Result<IntegrationResponse, GatewayError> {
        self.change_under_api(caller, api, |a| a.update_integration_response(resource, method, status, patch))
    }
}

/// The operations under a resource answer an API that does not exist as a resource that
/// does not.
pub(crate) fn missing_api_as_resource(e: GatewayError) -> GatewayError {
    match e {
        GatewayError::NotFound(m) if m.starts_with("Invalid API identifier") => no_resource(),
        e => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(op: &str, path: &str, value: Option<&str>) -> PatchOperation {
        PatchOperation { op: op.into(), path: path.into(), value: value.map(str::to_owned), from: None }
    }

    #[test]
    fn map_paths_name_one_escaped_key() {
        assert_eq!(
            map_key(&op("add", "/requestModels/application~1json", None), "/requestModels").as_deref(),
            Some("application/json")
        );
        assert_eq!(map_key(&op("add", "/requestModels/application/json", None), "/requestModels"), None);
        assert_eq!(map_key(&op("add", "/requestModels", None), "/requestModels"), None);
    }

    #[test]
    fn removing_a_missing_key_is_not_found() {
        let mut m: BTreeMap<String, bool> = BTreeMap::new();
        let e = patch_map(&mut m, "x".into(), &op("remove", "/p/x", None), flag, "Invalid parameter name specified");
        assert_eq!(e.unwrap_err().to_string(), "Invalid parameter name specified");
        patch_map(&mut m, "x".into(), &op("add", "/p/x", Some("true")), flag, "").unwrap();
        assert_eq!(m.get("x"), Some(&true));
    }
}
