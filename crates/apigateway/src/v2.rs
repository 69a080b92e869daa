//! HTTP APIs: routes, integrations, deployments and stages, and the control-plane
//! operations on them (`apigatewayv2`, `/v2/apis`).

mod authorizers;
mod deployments;
mod import;
mod responses;
mod types;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::routing::RouteKey;
use crate::{new_id, Caller, GatewayError, GatewayService, HTTP_KIND};

pub use types::*;

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
    // The type is read last, where AWS checks it.
    let kind = input.integration_type;
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
        if crate::kinds::PassthroughBehavior::parse(&p).is_none() {
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
    if let Some(t) = kind {
        i.integration_type = IntegrationType::parse(&t)
            .ok_or_else(|| crate::invalid_member("integration type", &t, &["AWS_PROXY", "HTTP_PROXY"]))?;
    }
    check_integration(i, websocket)
}

/// Checks an integration's type and URI as HTTP or WebSocket APIs take them, filling the
/// defaults each type has (payload format, method).
fn check_integration(i: &mut HttpIntegration, websocket: bool) -> Result<(), GatewayError> {
    if websocket {
        // WebSocket integrations always speak payload format 1.0.
        if i.payload_format_version.is_empty() {
            i.payload_format_version = "1.0".into();
        }
        match i.integration_type {
            IntegrationType::Mock => return Ok(()),
            IntegrationType::Aws => {
                let uri = i.uri.as_deref().unwrap_or("");
                if crate::routing::lambda_function_of(uri).is_none() {
                    return Err(GatewayError::BadRequest(format!(
                        "Invalid integration URI specified: {uri}. Lamina's AWS integrations for WebSocket APIs \
                         take a Lambda function's invocation URI"
                    )));
                }
                return Ok(());
            }
            IntegrationType::Http | IntegrationType::HttpProxy => {
                let uri = i.uri.as_deref().unwrap_or("");
                if !(uri.starts_with("http://") || uri.starts_with("https://")) {
                    return Err(GatewayError::BadRequest(format!("Invalid integration URI specified: {uri}")));
                }
                if i.method.is_none() {
                    i.method = Some("POST".into());
                }
                return Ok(());
            }
            IntegrationType::AwsProxy => {}
        }
    }
    match i.integration_type {
        IntegrationType::AwsProxy => {
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
        IntegrationType::HttpProxy => {
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
        IntegrationType::Mock | IntegrationType::Aws | IntegrationType::Http => {
            return Err(GatewayError::BadRequest(format!(
                "Integration type {} is not supported for HTTP APIs",
                i.integration_type
            )))
        }
    }
    Ok(())
}

/// Quick create: an integration with `target`, a route to it, and an auto-deploying
/// `$default` stage, all managed by API Gateway.
fn quick_create(
    api: &mut HttpApi,
    target: String,
    route_key: Option<String>,
    credentials_arn: Option<String>,
    now: i64,
) -> Result<(), GatewayError> {
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
            credentials_arn,
            ..Default::default()
        },
        false,
    )?;
    let route_key = route_key.unwrap_or_else(|| "$default".into());
    RouteKey::parse(&route_key).map_err(GatewayError::BadRequest)?;
    let route = Route {
        id: new_id(7),
        route_key,
        authorization_type: AuthorizationType::None,
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
    Ok(())
}

/// The authorization types HTTP and WebSocket APIs' routes take.
const V2_AUTHORIZATION: &[AuthorizationType] =
    &[AuthorizationType::None, AuthorizationType::Jwt, AuthorizationType::AwsIam, AuthorizationType::Custom];

fn apply_route(api: &HttpApi, r: &mut Route, input: RouteInput) -> Result<(), GatewayError> {
    if let Some(k) = input.route_key {
        if api.protocol_type == crate::v2::ProtocolType::WebSocket {
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
        r.authorization_type = AuthorizationType::read(&t, V2_AUTHORIZATION)?;
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
        if api.protocol_type != crate::v2::ProtocolType::WebSocket {
            return Err(GatewayError::BadRequest(
                "RouteResponseSelectionExpression is only supported for WebSocket APIs".into(),
            ));
        }
        r.route_response_selection_expression = (!e.is_empty()).then_some(e);
    }
    let authorizer = r.authorizer_id.as_deref().and_then(|id| api.authorizers.get(id));
    match (r.authorization_type, authorizer.map(|a| a.authorizer_type)) {
        (AuthorizationType::Jwt, Some(AuthorizerType::Jwt)) => {}
        (AuthorizationType::Custom, Some(AuthorizerType::Request)) => {}
        (AuthorizationType::Jwt | AuthorizationType::Custom, _) => {
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
        let protocol_type = ProtocolType::read(input.protocol_type.as_deref().unwrap_or_default())?;
        let websocket = protocol_type == ProtocolType::WebSocket;
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
            quick_create(&mut api, target, input.route_key, input.credentials_arn, now)?;
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
            let mut r = Route { id: new_id(7), ..Default::default() };
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
        mut input: IntegrationInput,
    ) -> Result<HttpIntegration, GatewayError> {
        // A new integration's type is required: none is refused as an empty one.
        input.integration_type.get_or_insert_with(String::new);
        self.change_http(caller, api, true, |api| {
            let mut i = HttpIntegration {
                id: new_id(7),
                timeout_ms: 30_000,
                connection_type: "INTERNET".into(),
                ..Default::default()
            };
            apply_integration(&mut i, input, api.protocol_type == crate::v2::ProtocolType::WebSocket)?;
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
            let websocket = api.protocol_type == crate::v2::ProtocolType::WebSocket;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn applied(kind: &str, websocket: bool) -> Result<HttpIntegration, String> {
        let mut i = HttpIntegration { timeout_ms: 30_000, ..Default::default() };
        let input = IntegrationInput {
            integration_type: Some(kind.into()),
            uri: Some("https://example.com/".into()),
            ..Default::default()
        };
        apply_integration(&mut i, input, websocket).map(|()| i).map_err(|e| e.to_string())
    }

    #[test]
    fn integration_types_are_read_as_each_kind_of_api_takes_them() {
        assert_eq!(applied("HTTP_PROXY", false).unwrap().integration_type, IntegrationType::HttpProxy);
        assert_eq!(applied("MOCK", false).unwrap_err(), "Integration type MOCK is not supported for HTTP APIs");
        assert_eq!(
            applied("LAMBDA", false).unwrap_err(),
            "Invalid integration type specified: LAMBDA. Valid values are AWS_PROXY, HTTP_PROXY"
        );
        let ws = applied("HTTP", true).unwrap();
        assert_eq!((ws.integration_type, ws.method.as_deref()), (IntegrationType::Http, Some("POST")));
        assert_eq!(applied("MOCK", true).unwrap().integration_type, IntegrationType::Mock);
    }
}
