//! Gateway responses: what a REST API answers for the errors API Gateway raises itself
//! (a missing route, a refused key, a failed integration). Every type has AWS's default;
//! `DEFAULT_4XX` and `DEFAULT_5XX` set, once put, the defaults of their class; a type put
//! explicitly stands alone. They are kept in the API's document and applied by the data
//! plane (`execute.rs`) to its own errors.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::patch::{Op, PatchOperation};
use crate::{Caller, GatewayError, GatewayService};

/// Every response type, with the status it answers by default (`None`: the class
/// defaults, which have none of their own).
pub const RESPONSE_TYPES: &[(&str, Option<&str>)] = &[
    ("ACCESS_DENIED", Some("403")),
    ("API_CONFIGURATION_ERROR", Some("500")),
    ("AUTHORIZER_CONFIGURATION_ERROR", Some("500")),
    ("AUTHORIZER_FAILURE", Some("500")),
    ("BAD_REQUEST_BODY", Some("400")),
    ("BAD_REQUEST_PARAMETERS", Some("400")),
    ("DEFAULT_4XX", None),
    ("DEFAULT_5XX", None),
    ("EXPIRED_TOKEN", Some("403")),
    ("INTEGRATION_FAILURE", Some("504")),
    ("INTEGRATION_TIMEOUT", Some("504")),
    ("INVALID_API_KEY", Some("403")),
    ("INVALID_SIGNATURE", Some("403")),
    ("MISSING_AUTHENTICATION_TOKEN", Some("403")),
    ("QUOTA_EXCEEDED", Some("429")),
    ("REQUEST_TOO_LARGE", Some("413")),
    ("RESOURCE_NOT_FOUND", Some("404")),
    ("THROTTLED", Some("429")),
    ("UNAUTHORIZED", Some("401")),
    ("UNSUPPORTED_MEDIA_TYPE", Some("415")),
    ("WAF_FILTERED", Some("403")),
];

/// The template every default response carries.
const DEFAULT_TEMPLATE: &str = "{\"message\":$context.error.messageString}";

/// A gateway response as the API shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GatewayResponse {
    /// `responseType`.
    pub response_type: String,
    /// `statusCode`.
    pub status_code: Option<String>,
    /// `responseParameters`: `gatewayresponse.header.X` → a static `'value'` or a
    /// `method.request.*` reference.
    pub parameters: BTreeMap<String, String>,
    /// `responseTemplates`, by content type.
    pub templates: BTreeMap<String, String>,
    /// `defaultResponse`: not put explicitly.
    #[serde(default)]
    pub default: bool,
}

fn default_status(kind: &str) -> Option<&'static str> {
    RESPONSE_TYPES.iter().find(|(k, _)| *k == kind).and_then(|(_, s)| *s)
}

fn not_set() -> GatewayError {
    GatewayError::NotFound("Gateway response type not defined on api".into())
}

/// The response a type has on this API: its own if put, else its class default's (if
/// that was put) with the type's status, else AWS's.
pub fn effective(put: &BTreeMap<String, GatewayResponse>, kind: &str) -> GatewayResponse {
    if let Some(r) = put.get(kind) {
        return r.clone();
    }
    let status = default_status(kind);
    let class = match status {
        Some(s) if s.starts_with('5') => put.get("DEFAULT_5XX"),
        Some(_) => put.get("DEFAULT_4XX"),
        None => None,
    };
    match class {
        Some(c) => GatewayResponse {
            response_type: kind.to_owned(),
            status_code: c.status_code.clone().or(status.map(str::to_owned)),
            parameters: c.parameters.clone(),
            templates: c.templates.clone(),
            default: true,
        },
        None => GatewayResponse {
            response_type: kind.to_owned(),
            status_code: status.map(str::to_owned),
            parameters: BTreeMap::new(),
            templates: [("application/json".to_owned(), DEFAULT_TEMPLATE.to_owned())].into(),
            default: true,
        },
    }
}

impl GatewayService {
    /// GetGatewayResponses: every type, effective.
    pub fn gateway_responses(&self, caller: &Caller, api: &str) -> Result<Vec<GatewayResponse>, GatewayError> {
        self.read_rest(caller, api, |api| {
            Ok(RESPONSE_TYPES.iter().map(|(k, _)| effective(&api.gateway_responses, k)).collect())
        })
    }

    /// GetGatewayResponse.
    pub fn gateway_response(&self, caller: &Caller, api: &str, kind: &str) -> Result<GatewayResponse, GatewayError> {
        self.read_rest(caller, api, |api| Ok(effective(&api.gateway_responses, kind)))
    }

    /// PutGatewayResponse: the type's response, whole (what is not given is the type's
    /// default).
    pub fn put_gateway_response(
        &self,
        caller: &Caller,
        api: &str,
        kind: &str,
        status_code: Option<String>,
        parameters: Option<BTreeMap<String, String>>,
        templates: Option<BTreeMap<String, String>>,
    ) -> Result<GatewayResponse, GatewayError> {
        let response = GatewayResponse {
            response_type: kind.to_owned(),
            status_code: status_code.or_else(|| default_status(kind).map(str::to_owned)),
            parameters: parameters.unwrap_or_default(),
            templates: templates
                .unwrap_or_else(|| [("application/json".to_owned(), DEFAULT_TEMPLATE.to_owned())].into()),
            default: false,
        };
        self.change_rest(caller, api, |api| {
            api.gateway_responses.insert(kind.to_owned(), response.clone());
            Ok(response)
        })
    }

    /// UpdateGatewayResponse: from the effective response, which becomes the type's own.
    pub fn update_gateway_response(
        &self,
        caller: &Caller,
        api: &str,
        kind: &str,
        patch: &[PatchOperation],
    ) -> Result<GatewayResponse, GatewayError> {
        self.change_rest(caller, api, |api| {
            let mut r = effective(&api.gateway_responses, kind);
            r.default = false;
            for p in patch {
                apply(&mut r, p)?;
            }
            api.gateway_responses.insert(kind.to_owned(), r.clone());
            Ok(r)
        })
    }

    /// DeleteGatewayResponse: back to the default; a type never put is not found.
    pub fn delete_gateway_response(&self, caller: &Caller, api: &str, kind: &str) -> Result<(), GatewayError> {
        self.change_rest(caller, api, |api| api.gateway_responses.remove(kind).map(drop).ok_or_else(not_set))
    }
}

/// Which response type one of API Gateway's own error answers is, by its status and
/// `x-amzn-ErrorType` (`execute.rs` makes them); `None` for an answer of the backend.
pub fn kind_of(status: u16, error_type: Option<&str>) -> Option<&'static str> {
    Some(match (status, error_type) {
        (403, Some("MissingAuthenticationTokenException")) => "MISSING_AUTHENTICATION_TOKEN",
        (403, Some("ForbiddenException")) => "INVALID_API_KEY",
        (403, Some("AccessDeniedException")) => "ACCESS_DENIED",
        (401, Some("UnauthorizedException")) => "UNAUTHORIZED",
        (429, Some("TooManyRequestsException")) => "THROTTLED",
        (429, Some("LimitExceededException")) => "QUOTA_EXCEEDED",
        (500, Some("AuthorizerConfigurationException")) => "AUTHORIZER_CONFIGURATION_ERROR",
        (500, Some("InternalServerErrorException")) => "API_CONFIGURATION_ERROR",
        (502, Some("InternalServerErrorException")) => "DEFAULT_5XX",
        (504, None) => "INTEGRATION_TIMEOUT",
        (413, None) => "REQUEST_TOO_LARGE",
        _ => return None,
    })
}

/// A customised answer: status, headers to add, body.
pub type Customised = (u16, Vec<(String, String)>, String);

/// What a REST API answers for one of its own errors, once it has gateway responses
/// deployed: the response's status, its `gatewayresponse.header.*` parameters (static
/// `'values'` or `method.request.*` references) and its template for `application/json`
/// (or its first), rendered with `$context.error.*`.
pub fn customised(
    put: &BTreeMap<String, GatewayResponse>,
    kind: &str,
    status: u16,
    message: &str,
    scope: &crate::template::Scope<'_>,
) -> Option<Customised> {
    let r = effective(put, kind);
    let status = r.status_code.as_deref().and_then(|s| s.parse().ok()).unwrap_or(status);
    let mut headers = Vec::new();
    for (name, source) in &r.parameters {
        let Some(header) = name.strip_prefix("gatewayresponse.header.") else { continue };
        let value = if let Some(v) = source.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) {
            Some(v.to_owned())
        } else if let Some(h) = source.strip_prefix("method.request.header.") {
            scope.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(h)).map(|(_, v)| v.clone())
        } else if let Some(q) = source.strip_prefix("method.request.querystring.") {
            scope.query.get(q).cloned()
        } else if let Some(p) = source.strip_prefix("method.request.path.") {
            scope.path.get(p).cloned()
        } else {
            None
        };
        if let Some(v) = value {
            headers.push((header.to_owned(), v));
        }
    }
    let template = r.templates.get("application/json").or_else(|| r.templates.values().next())?;
    let mut scope = scope.clone();
    scope.context.insert("error.message".into(), message.to_owned());
    scope.context.insert("error.messageString".into(), serde_json::Value::from(message).to_string());
    scope.context.insert("error.responseType".into(), kind.to_owned());
    let body = crate::template::render(template, &scope).ok()?;
    Some((status, headers, body))
}

fn apply(r: &mut GatewayResponse, p: &PatchOperation) -> Result<(), GatewayError> {
    let bad_path = || {
        let path = if p.path.is_empty() { "null" } else { p.path.as_str() };
        GatewayError::BadRequest(format!("Invalid patch path {path}"))
    };
    let segments = p.segments();
    let op = p.kind()?;
    match (segments.first().map(String::as_str), segments.get(1), segments.len()) {
        (Some("statusCode"), None, 1) if op == Op::Replace => r.status_code = Some(p.value()?.to_owned()),
        (Some(field @ ("responseParameters" | "responseTemplates")), Some(name), 2) => {
            let map = if field == "responseParameters" { &mut r.parameters } else { &mut r.templates };
            match op {
                Op::Remove => {
                    map.remove(name);
                }
                _ => {
                    let value =
                        p.value.as_deref().filter(|v| !v.is_empty()).ok_or_else(|| {
                            GatewayError::BadRequest(format!("Invalid null or empty value in {field}"))
                        })?;
                    if op == Op::Replace && !map.contains_key(name) {
                        return Err(GatewayError::NotFound("Invalid parameter name specified".into()));
                    }
                    map.insert(name.clone(), value.to_owned());
                }
            }
        }
        _ => return Err(bad_path()),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(op: &str, path: &str, value: Option<&str>) -> PatchOperation {
        PatchOperation { op: op.into(), path: path.into(), value: value.map(Into::into), from: None }
    }

    #[test]
    fn class_defaults_apply_to_the_types_not_put() {
        let mut api = BTreeMap::new();
        let five = GatewayResponse {
            response_type: "DEFAULT_5XX".into(),
            status_code: Some("599".into()),
            parameters: [("gatewayresponse.header.x".to_owned(), "'y'".to_owned())].into(),
            ..Default::default()
        };
        api.insert("DEFAULT_5XX".to_owned(), five);
        let e = effective(&api, "INTEGRATION_FAILURE");
        assert_eq!((e.status_code.as_deref(), e.default, e.parameters.len()), (Some("599"), true, 1));
        let e = effective(&api, "ACCESS_DENIED");
        assert_eq!(
            (e.status_code.as_deref(), e.templates.get("application/json").map(String::as_str)),
            (Some("403"), Some(DEFAULT_TEMPLATE))
        );
    }

    #[test]
    fn patches_in_aws_words() {
        let mut r = GatewayResponse::default();
        assert_eq!(
            apply(&mut r, &op("add", "/statusCode", Some("1"))).unwrap_err().to_string(),
            "Invalid patch path /statusCode"
        );
        assert_eq!(apply(&mut r, &op("add", "", Some("1"))).unwrap_err().to_string(), "Invalid patch path null");
        assert_eq!(
            apply(&mut r, &op("replace", "/responseParameters/h", Some("'v'"))).unwrap_err().to_string(),
            "Invalid parameter name specified"
        );
        apply(&mut r, &op("add", "/responseTemplates/application~1xml", Some("<x/>"))).unwrap();
        assert_eq!(r.templates.get("application/xml").map(String::as_str), Some("<x/>"));
        assert_eq!(
            apply(&mut r, &op("replace", "/responseTemplates/application~1xml", None)).unwrap_err().to_string(),
            "Invalid null or empty value in responseTemplates"
        );
    }
}
