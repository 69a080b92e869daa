//! REST APIs' Lambda and Cognito authorizers.

use super::*;

impl GatewayService {
    /// CreateAuthorizer.
    pub fn create_authorizer(
        &self,
        caller: &Caller,
        api: &str,
        draft: Draft<Authorizer>,
    ) -> Result<Authorizer, GatewayError> {
        let Draft { kind, item: mut a } = draft;
        check_authorizer_name(&a)?;
        a.kind = read_authorizer_type(&kind)?;
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
                    (Op::Replace, "/type") => a.kind = read_authorizer_type(p.value()?)?,
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

/// Checks an authorizer's definition with AWS's rules and fills its defaults.
pub(super) fn check_authorizer(a: &mut Authorizer) -> Result<(), GatewayError> {
    check_authorizer_name(a)?;
    match a.kind {
        AuthorizerType::Token | AuthorizerType::Request => {
            let uri = a.uri.as_deref().unwrap_or("");
            if crate::routing::lambda_function_of(uri).is_none() {
                return Err(GatewayError::BadRequest(format!("Invalid Authorizer URI: {uri}. Authorizer URI should be a valid API Gateway ARN that represents a Lambda function invocation.")));
            }
        }
        AuthorizerType::CognitoUserPools if !a.provider_arns.is_empty() => {}
        AuthorizerType::CognitoUserPools => {
            return Err(GatewayError::BadRequest(
                "ProviderARNs need to be specified for COGNITO_USER_POOLS authorizers".into(),
            ))
        }
    }
    if a.kind == AuthorizerType::Token && a.identity_source.as_deref().is_none_or(str::is_empty) {
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

fn check_authorizer_name(a: &Authorizer) -> Result<(), GatewayError> {
    if a.name.trim().is_empty() {
        return Err(GatewayError::BadRequest("Authorizer name is required".into()));
    }
    Ok(())
}

fn read_authorizer_type(text: &str) -> Result<AuthorizerType, GatewayError> {
    AuthorizerType::parse(text).ok_or_else(|| crate::invalid_member("authorizer type", text, AuthorizerType::NAMES))
}
