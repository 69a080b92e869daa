//! HTTP APIs' execution: route matching, authorizers, the Lambda (payload 1.0 and 2.0)
//! and HTTP proxy integrations, and CORS.

use super::*;

impl DataPlane {
    pub(crate) async fn execute_http(
        &self,
        t: &HttpTarget,
        path: &str,
        req: &GatewayRequest,
        now: i64,
        trace: &mut Trace,
    ) -> GatewayResponse {
        let cors = t.snapshot.cors.as_ref();
        let origin = req.headers.iter().find(|(k, _)| k == "origin").map(|(_, v)| v.clone());
        if let (Some(c), Some(o)) = (cors, &origin) {
            let preflight =
                req.method == "OPTIONS" && req.headers.iter().any(|(k, _)| k == "access-control-request-method");
            if preflight {
                return preflight_answer(c, o, req);
            }
        }
        let keys = t.snapshot.route_keys();
        let Some((i, params)) = routing::match_route(keys.iter().map(|(k, i)| (k, *i)), &req.method, path) else {
            return answers::not_found();
        };
        let route = &t.snapshot.routes[i];
        trace.route_key = Some(route.route_key.clone());
        trace.resource_path = Some(route.route_key.split_once(' ').map_or(path, |(_, p)| p).to_owned());
        if !self.admit_http(t, &route.route_key) {
            return answers::too_many_requests_http();
        }
        let integration = route
            .target
            .as_deref()
            .and_then(|t| t.strip_prefix("integrations/"))
            .and_then(|id| t.snapshot.integrations.get(id));
        let Some(integration) = integration else { return answers::not_found() };
        let full_path = if t.stage == "$default" { path.to_owned() } else { format!("/{}{}", t.stage, path) };
        let facts = req.facts((&t.api_id, &t.account, &t.stage, &t.variables), path, &full_path, &params, now);
        let authorizer = route.authorizer_id.as_deref().and_then(|id| t.snapshot.authorizers.get(id));
        let mut grant = None;
        match (route.authorization_type, authorizer) {
            (AuthorizationType::Jwt, Some(a)) => match self.authorize_jwt(a, &route.authorization_scopes, &facts).await
            {
                Ok(v) => grant = Some(v),
                Err(r) => return r,
            },
            (AuthorizationType::Custom, Some(a)) => {
                let arn = authorizer::method_arn(&t.region, &t.account, &t.api_id, &t.stage, &req.method, path);
                match self.authorize_http(a, &route.route_key, &arn, &facts).await {
                    Ok(v) => grant = Some(v),
                    Err(r) => return r,
                }
            }
            (AuthorizationType::Jwt | AuthorizationType::Custom, None) => return answers::http_internal(),
            (AuthorizationType::AwsIam, _) if !req.iam_allows() => {
                return json_error(403, "Forbidden", None);
            }
            _ => {}
        }
        let timeout = Duration::from_millis(integration.timeout_ms);
        trace.integration_started = Some(Instant::now());
        let mut resp = match integration.integration_type {
            IntegrationType::AwsProxy => {
                self.http_lambda(integration, &facts, &route.route_key, t, req, timeout, grant).await
            }
            IntegrationType::HttpProxy => {
                let url = http_backend_url(integration, &t.variables, &params, path, req.query.as_deref());
                let method = integration.method.as_deref().filter(|m| *m != "ANY").unwrap_or(&req.method).to_owned();
                match self.forward(&method, &url, req, timeout).await {
                    Ok(r) => r,
                    Err(Failure::Timeout) => answers::http_unavailable(),
                    Err(Failure::Unreachable) => answers::http_internal(),
                }
            }
            _ => answers::http_internal(),
        };
        if let (Some(c), Some(o)) = (cors, &origin) {
            add_cors_headers(&mut resp, c, o);
        }
        resp
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn http_lambda(
        &self,
        integration: &HttpIntegration,
        facts: &RequestFacts<'_>,
        route_key: &str,
        t: &HttpTarget,
        req: &GatewayRequest,
        timeout: Duration,
        authorizer: Option<Value>,
    ) -> GatewayResponse {
        let uri = routing::with_stage_variables(integration.uri.as_deref().unwrap_or(""), &t.variables);
        let Some(function) = routing::lambda_function_of(&uri) else { return answers::http_internal() };
        let v2 = integration.payload_format_version == "2.0";
        let extra = forwarded_headers(req, false);
        let event = if v2 {
            events::http_event_v2(facts, route_key, &extra, authorizer)
        } else {
            let route_path = route_key.split_once(' ').map_or(facts.path, |(_, p)| p);
            let mut e = events::http_event_v1(facts, route_key, route_path, &extra);
            if let Some(a) = authorizer {
                e["requestContext"]["authorizer"] = a;
            }
            e
        };
        let source = authorizer::method_arn(&t.region, &t.account, &t.api_id, &t.stage, &req.method, facts.path);
        let call = self.inner.functions.invoke(&function, event.to_string().into(), &source);
        let reply = tokio::time::timeout(timeout, call);
        let payload = match reply.await {
            Err(_) => return answers::http_unavailable(),
            Ok(FunctionReply::Unavailable(why)) => {
                tracing::warn!(function, "integration failed: {why}");
                return answers::http_internal();
            }
            Ok(FunctionReply::Failed(_)) => return answers::http_internal(),
            Ok(FunctionReply::Returned(p)) => p,
        };
        let parsed = if v2 { events::http_proxy_response_v2(&payload) } else { events::rest_proxy_response(&payload) };
        match parsed {
            Some(p) => proxy_answer(p, true, !v2),
            None => answers::http_internal(),
        }
    }

    /// Sends a request to an HTTP backend and returns its answer as it is.
    pub(crate) async fn forward(
        &self,
        method: &str,
        url: &str,
        req: &GatewayRequest,
        timeout: Duration,
    ) -> Result<GatewayResponse, Failure> {
        let uri: hyper::Uri = url.parse().map_err(|_| Failure::Unreachable)?;
        let mut b = hyper::Request::builder().method(method).uri(uri);
        for (k, v) in &req.headers {
            if !is_hop_by_hop(k) && k != "host" {
                b = b.header(k.as_str(), v.as_str());
            }
        }
        for (k, v) in forwarded_headers(req, false) {
            b = b.header(k, v);
        }
        let outbound = b.body(http_body_util::Full::new(req.body.clone())).map_err(|_| Failure::Unreachable)?;
        let call = async {
            let (parts, body) = self.inner.backends.send(outbound, MAX_PAYLOAD).await.map_err(|e| {
                tracing::debug!(url, "backend failed: {e}");
                Failure::Unreachable
            })?;
            let headers = parts
                .headers
                .iter()
                .filter(|(k, _)| !is_hop_by_hop(k.as_str()) && k.as_str() != "content-length")
                .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
                .collect();
            Ok(GatewayResponse { status: parts.status.as_u16(), headers, body })
        };
        tokio::time::timeout(timeout, call).await.map_err(|_| Failure::Timeout)?
    }
}
