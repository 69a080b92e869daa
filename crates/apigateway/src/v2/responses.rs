//! WebSocket APIs' route responses and integration responses.

use super::*;

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
            if api.protocol_type != crate::v2::ProtocolType::WebSocket {
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
    pub(crate) fn change_integration<T>(
        &self,
        caller: &Caller,
        api: &str,
        integration: &str,
        f: impl FnOnce(&mut HttpIntegration) -> Result<T, GatewayError>,
    ) -> Result<T, GatewayError> {
        self.change_http(caller, api, true, |api| {
            if api.protocol_type != crate::v2::ProtocolType::WebSocket {
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
