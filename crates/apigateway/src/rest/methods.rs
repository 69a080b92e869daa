//! Methods, integrations and their responses: Put/Get/Delete of each.

use super::*;

impl GatewayService {
    /// PutMethod: `method.http_method` names it.
    pub fn put_method(
        &self,
        caller: &Caller,
        api: &str,
        resource: &str,
        method: Draft<Method>,
    ) -> Result<Method, GatewayError> {
        self.change_under_api(caller, api, |api| {
            api.resource(resource)?;
            let Draft { kind, item: mut method } = method.clone();
            check_http_method(&method.http_method)?;
            method.authorization_type = AuthorizationType::read(&kind, REST_AUTHORIZATION)?;
            check_method_authorizer(api, &method)?;
            check_method_request(api, &method)?;
            if !method.authorization_type.uses_authorizer() {
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
        integration: Draft<Integration>,
    ) -> Result<Integration, GatewayError> {
        let mut integration = check_integration(integration)?;
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
}
