//! HTTP and WebSocket APIs' authorizers (Lambda and JWT).

use super::*;

impl GatewayService {
    /// CreateAuthorizer.
    pub fn create_authorizer_v2(
        &self,
        caller: &Caller,
        api: &str,
        mut input: AuthorizerInput,
    ) -> Result<HttpAuthorizer, GatewayError> {
        // A new authorizer's type is required: none is refused as an empty one.
        input.authorizer_type.get_or_insert_with(String::new);
        self.change_http(caller, api, true, |api| {
            let mut a = HttpAuthorizer { id: new_id(6), ..Default::default() };
            apply_authorizer(&mut a, input, api.protocol_type == crate::v2::ProtocolType::WebSocket)?;
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
            let websocket = api.protocol_type == crate::v2::ProtocolType::WebSocket;
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

pub(super) fn apply_authorizer(
    a: &mut HttpAuthorizer,
    i: AuthorizerInput,
    websocket: bool,
) -> Result<(), GatewayError> {
    if let Some(v) = i.name {
        a.name = v;
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
    if let Some(t) = i.authorizer_type {
        a.authorizer_type = AuthorizerType::parse(&t)
            .ok_or_else(|| crate::invalid_member("authorizer type", &t, &["JWT", "REQUEST"]))?;
    }
    match a.authorizer_type {
        AuthorizerType::Jwt if websocket => {
            return Err(GatewayError::BadRequest("JWT authorizers are not supported for WebSocket APIs".into()))
        }
        AuthorizerType::Jwt => {
            if a.jwt_issuer.as_deref().is_none_or(str::is_empty) || a.jwt_audience.is_empty() {
                return Err(GatewayError::BadRequest(
                    "JwtConfiguration with an Issuer and an Audience is required for JWT authorizers".into(),
                ));
            }
            if a.identity_source.len() != 1 {
                return Err(GatewayError::BadRequest("JWT authorizers take exactly one identity source".into()));
            }
        }
        AuthorizerType::Request if websocket => {
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
        AuthorizerType::Request => {
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
    }
    for s in &a.identity_source {
        if !s.starts_with('$') {
            return Err(GatewayError::BadRequest(format!("Invalid identity source specified: {s}")));
        }
    }
    Ok(())
}
