//! Function URLs' configuration (`/2021-10-31/functions/{name}/url`, `/urls`):
//! CreateFunctionUrlConfig, GetFunctionUrlConfig, UpdateFunctionUrlConfig,
//! DeleteFunctionUrlConfig and ListFunctionUrlConfigs. A URL is answered as
//! `http://<url-id>.lambda-url.<region>.localhost:<port>/`, on the port the call came in on.

use lambda::urls::{Cors, FunctionUrl, UrlInput};
use serde::{Deserialize, Serialize};

use crate::lambda_api::{done, out, Call, Reply};
use crate::ApiState;

#[derive(Deserialize, Serialize, Default)]
#[serde(rename_all = "PascalCase")]
struct CorsWire {
    #[serde(skip_serializing_if = "Option::is_none")]
    allow_credentials: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    allow_headers: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    allow_methods: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    allow_origins: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expose_headers: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_age: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UrlWire {
    auth_type: Option<String>,
    cors: Option<CorsWire>,
    invoke_mode: Option<String>,
}

impl UrlWire {
    fn into_input(self) -> UrlInput {
        UrlInput {
            auth_type: self.auth_type,
            cors: self.cors.map(|c| Cors {
                allow_credentials: c.allow_credentials,
                allow_headers: c.allow_headers.unwrap_or_default(),
                allow_methods: c.allow_methods.unwrap_or_default(),
                allow_origins: c.allow_origins.unwrap_or_default(),
                expose_headers: c.expose_headers.unwrap_or_default(),
                max_age: c.max_age,
            }),
            invoke_mode: self.invoke_mode,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct UrlOut {
    function_url: String,
    function_arn: String,
    auth_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    cors: Option<CorsWire>,
    creation_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_modified_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    invoke_mode: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListOut {
    function_url_configs: Vec<UrlOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_marker: Option<String>,
}

/// `2026-11-27T09:09:30.123Z`, as Function URLs' times are written.
fn url_time(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    t.format(&fmt).unwrap_or_default()
}

/// The URL a function URL is reached at, on the port this request came in on.
fn url_address(host: &str, url: &FunctionUrl) -> String {
    let port = host.rsplit_once(':').map(|(_, p)| p).filter(|p| p.bytes().all(|b| b.is_ascii_digit()));
    let port = port.map(|p| format!(":{p}")).unwrap_or_default();
    format!("http://{}.lambda-url.{}.localhost{port}/", url.config.url_id, url.region)
}

/// A URL config as AWS shows it: Create and Update show `LastModifiedTime` (Update only)
/// and `InvokeMode` only once a request set it (`modified`, `invoke_mode`: always shown).
fn url_out(host: &str, url: FunctionUrl, modified: bool, invoke_mode: bool) -> UrlOut {
    let invoke_mode = invoke_mode || url.config.invoke_mode_given;
    let c = &url.config;
    UrlOut {
        function_url: url_address(host, &url),
        function_arn: url.function_arn.clone(),
        auth_type: c.auth_type.as_str().to_owned(),
        cors: c.cors.as_ref().map(|c| CorsWire {
            allow_credentials: c.allow_credentials,
            allow_headers: Some(c.allow_headers.clone()).filter(|v| !v.is_empty()),
            allow_methods: Some(c.allow_methods.clone()).filter(|v| !v.is_empty()),
            allow_origins: Some(c.allow_origins.clone()).filter(|v| !v.is_empty()),
            expose_headers: Some(c.expose_headers.clone()).filter(|v| !v.is_empty()),
            max_age: c.max_age,
        }),
        creation_time: url_time(c.created_ms),
        last_modified_time: modified.then(|| url_time(c.modified_ms)),
        invoke_mode: invoke_mode.then(|| c.invoke_mode.as_str().to_owned()),
    }
}

pub(crate) fn create_url(s: &ApiState, c: &Call) -> Reply {
    let wire: UrlWire = c.body()?;
    let url = s.lambda.create_function_url(&c.caller, &c.function(), c.qualifier().as_deref(), wire.into_input())?;
    out(url_out(&c.host, url, false, false))
}

pub(crate) fn get_url(s: &ApiState, c: &Call) -> Reply {
    let url = s.lambda.get_function_url(&c.caller, &c.function(), c.qualifier().as_deref())?;
    out(url_out(&c.host, url, true, true))
}

pub(crate) fn update_url(s: &ApiState, c: &Call) -> Reply {
    let wire: UrlWire = c.body()?;
    let url = s.lambda.update_function_url(&c.caller, &c.function(), c.qualifier().as_deref(), wire.into_input())?;
    out(url_out(&c.host, url, true, false))
}

pub(crate) fn delete_url(s: &ApiState, c: &Call) -> Reply {
    s.lambda.delete_function_url(&c.caller, &c.function(), c.qualifier().as_deref())?;
    done()
}

pub(crate) fn list_urls(s: &ApiState, c: &Call) -> Reply {
    let (urls, next) = s.lambda.list_function_urls(&c.caller, &c.function(), c.marker().as_deref(), c.max_items())?;
    let function_url_configs = urls.into_iter().map(|u| url_out(&c.host, u, true, true)).collect();
    out(ListOut { function_url_configs, next_marker: next })
}
