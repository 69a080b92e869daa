//! Function URLs: CreateFunctionUrlConfig, GetFunctionUrlConfig, UpdateFunctionUrlConfig,
//! DeleteFunctionUrlConfig and ListFunctionUrlConfigs, one URL per function or alias, kept
//! in memory by URL id (the host's first label) and persisted; and who may call one.
//! The HTTP side (the payload 2.0 event, CORS, the answer) is API Gateway's data plane.

use std::sync::Arc;

use model::arn::function_arn;
use model::{Function, Invalid, Qualifier, Violation};
use serde::{Deserialize, Serialize};

use crate::policy::Principal;
use crate::{key_of, not_found, Caller, Key, LambdaError, LambdaService};

/// The action a function URL's caller needs.
pub const INVOKE_URL: &str = "lambda:InvokeFunctionUrl";
const QUALIFIER_PATTERN: &str = r"((?!^\d+$)^[0-9a-zA-Z-_]+$)";

model::aws_enum! {
    /// `AuthType`: whether calls to a URL must be signed. Stored by its AWS name.
    #[derive(Default, Serialize, Deserialize)]
    #[serde(try_from = "String", into = "String")]
    pub enum AuthType {
        /// `NONE`: anyone may call.
        #[default]
        None = "NONE",
        /// `AWS_IAM`: calls are signed, and the resource policy decides.
        AwsIam = "AWS_IAM",
    }
}

model::aws_enum! {
    /// `InvokeMode`: how a URL's answer is sent. Stored by its AWS name.
    #[derive(Default, Serialize, Deserialize)]
    #[serde(try_from = "String", into = "String")]
    pub enum InvokeMode {
        /// `BUFFERED`: the function's whole answer, mapped as an HTTP API maps it.
        #[default]
        Buffered = "BUFFERED",
        /// `RESPONSE_STREAM`: what the function streams, after its HTTP prelude.
        ResponseStream = "RESPONSE_STREAM",
    }
}

pub use model::Cors;

/// A function URL's configuration, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UrlConfig {
    /// The URL's id: the first label of its host.
    pub url_id: String,
    /// The alias it invokes; none for the unqualified function (`$LATEST`).
    pub qualifier: Option<String>,
    /// `AuthType`.
    pub auth_type: AuthType,
    /// `Cors`.
    #[serde(default, with = "store::docs::cors")]
    pub cors: Option<Cors>,
    /// `InvokeMode`.
    pub invoke_mode: InvokeMode,
    /// Whether `InvokeMode` was ever given: Create and Update show it only then.
    #[serde(default)]
    pub invoke_mode_given: bool,
    /// `CreationTime`, ms.
    pub created_ms: i64,
    /// `LastModifiedTime`, ms.
    pub modified_ms: i64,
}

/// A URL with the function it invokes, as the API describes it.
#[derive(Debug, Clone)]
pub struct FunctionUrl {
    /// `FunctionArn`: qualified by the alias, if any.
    pub function_arn: String,
    /// The function's account.
    pub account: String,
    /// The function's region.
    pub region: String,
    /// The configuration.
    pub config: UrlConfig,
}

/// Create or Update arguments; `None` leaves a setting as it is (or at its default).
#[derive(Debug, Clone, Default)]
pub struct UrlInput {
    /// `AuthType`.
    pub auth_type: Option<String>,
    /// `Cors`.
    pub cors: Option<Cors>,
    /// `InvokeMode`.
    pub invoke_mode: Option<String>,
}

/// The settings an input names, read after its checks.
struct Checked {
    auth_type: Option<AuthType>,
    invoke_mode: Option<InvokeMode>,
}

/// Checks an input's members in AWS's words (every violation together) and reads its
/// closed sets.
fn check(input: &UrlInput) -> Result<Checked, LambdaError> {
    let mut violations = Vec::new();
    let auth_type = input.auth_type.as_deref().map(|a| (a, AuthType::parse(a)));
    if let Some((a, None)) = auth_type {
        violations.push(Violation::enumeration(a, "authType", AuthType::NAMES));
    }
    let invoke_mode = input.invoke_mode.as_deref().map(|m| (m, InvokeMode::parse(m)));
    if let Some((m, None)) = invoke_mode {
        violations.push(Violation::enumeration(m, "invokeMode", InvokeMode::NAMES));
    }
    if let Some(c) = &input.cors {
        if let Some(age) = c.max_age.filter(|a| !(0..=86_400).contains(a)) {
            violations.push(if age < 0 {
                Violation::min_value(age, "cors.maxAge", 0)
            } else {
                Violation::max_value(age, "cors.maxAge", 86_400)
            });
        }
        if c.allow_methods.len() > 6 {
            violations.push(Violation::new(
                format!("{:?}", c.allow_methods),
                "cors.allowMethods",
                "Member must have length less than or equal to 6",
            ));
        }
    }
    if !violations.is_empty() {
        return Err(Invalid::Constraints(violations).into());
    }
    if let Some(c) = &input.cors {
        const METHODS: [&str; 8] = ["GET", "PUT", "HEAD", "POST", "PATCH", "DELETE", "OPTIONS", "*"];
        if let Some(bad) = c.allow_methods.iter().find(|m| !METHODS.contains(&m.to_ascii_uppercase().as_str())) {
            return Err(Invalid::parameter(format!("{bad} is not a valid HTTP method.")).into());
        }
    }
    Ok(Checked { auth_type: auth_type.and_then(|(_, t)| t), invoke_mode: invoke_mode.and_then(|(_, m)| m) })
}

/// The URL id for a new URL: 32 lower-case letters and digits, as AWS's are.
fn new_url_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// The tag by which a function chooses its URLs' ids, as LocalStack lets it (so that local
/// tooling knows a URL before it exists): the function's URL is `<value>`, an alias's
/// `<value>-<alias>`. AWS ignores the tag and so gives a random id.
pub const CUSTOM_URL_ID_TAG: &str = "_custom_id_";

/// The id `tag` asks for, lower case as hosts are read, if it is a DNS label (a letter
/// first, letters, digits and hyphens, no hyphen last, at most 63).
fn custom_url_id(tag: &str, qualifier: Option<&str>) -> Option<String> {
    let id = match qualifier {
        Some(q) => format!("{tag}-{q}"),
        None => tag.to_owned(),
    }
    .to_ascii_lowercase();
    let label = id.len() <= 63
        && id.starts_with(|c: char| c.is_ascii_alphabetic())
        && !id.ends_with('-')
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    label.then_some(id)
}

impl LambdaService {
    /// The function and the alias a URL call names: an alias must exist; `$LATEST` and
    /// version numbers are refused, as AWS refuses them.
    fn url_target(
        &self,
        caller: &Caller,
        name: &str,
        qualifier: Option<&str>,
    ) -> Result<(Arc<Function>, Option<String>), LambdaError> {
        if let Some(q) = qualifier {
            if q.is_empty() || q.len() > 128 || q.bytes().all(|b| b.is_ascii_digit()) || q.contains('$') {
                return Err(Invalid::from(Violation::pattern(q, "qualifier", QUALIFIER_PATTERN)).into());
            }
        }
        let (latest, q) = self.resolve_ref(caller, name, qualifier)?;
        match q {
            None => Ok((latest, None)),
            Some(Qualifier::Latest) => {
                Err(Invalid::from(Violation::pattern("$LATEST", "qualifier", QUALIFIER_PATTERN)).into())
            }
            Some(Qualifier::Named(q)) => {
                let exists = self.family(&latest).is_some_and(|f| f.aliases.contains_key(&q));
                if q.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(Invalid::from(Violation::pattern(&q, "qualifier", QUALIFIER_PATTERN)).into());
                }
                if !exists {
                    return Err(not_found(caller, &latest.name, Some(&Qualifier::Named(q))));
                }
                Ok((latest, Some(q)))
            }
        }
    }

    fn described(f: &Function, config: UrlConfig) -> FunctionUrl {
        let mut arn = function_arn(&f.region, &f.account, &f.name);
        if let Some(q) = &config.qualifier {
            arn.push(':');
            arn.push_str(q);
        }
        FunctionUrl { function_arn: arn, account: f.account.clone(), region: f.region.clone(), config }
    }

    fn url_of(&self, f: &Function, qualifier: Option<&str>) -> Option<UrlConfig> {
        let key = key_of(f);
        let urls = self.cache.urls.read();
        urls.values().find(|(k, c)| *k == key && c.qualifier.as_deref() == qualifier).map(|(_, c)| c.clone())
    }

    fn keep_url(&self, f: &Function, config: &UrlConfig) -> Result<(), LambdaError> {
        let doc = serde_json::to_string(config).expect("a URL configuration serializes");
        let q = config.qualifier.as_deref().unwrap_or("");
        self.store.set_function_url(&f.account, &f.region, &f.name, q, Some(&doc))?;
        let mut urls = self.cache.urls.write();
        urls.insert(config.url_id.clone(), (key_of(f), config.clone()));
        Ok(())
    }

    /// Drops the URL of `f`'s `qualifier` (`None`: unqualified), if it has one.
    pub(crate) fn forget_url(&self, f: &Function, qualifier: Option<&str>) -> Result<bool, LambdaError> {
        let Some(config) = self.url_of(f, qualifier) else { return Ok(false) };
        self.store.set_function_url(&f.account, &f.region, &f.name, qualifier.unwrap_or(""), None)?;
        self.cache.urls.write().remove(&config.url_id);
        Ok(true)
    }

    /// Drops every URL of a deleted function from memory (the store dropped its rows).
    pub(crate) fn forget_urls_of(&self, key: &Key) {
        self.cache.urls.write().retain(|_, (k, _)| k != key);
    }

    /// CreateFunctionUrlConfig.
    pub fn create_function_url(
        &self,
        caller: &Caller,
        name: &str,
        qualifier: Option<&str>,
        input: UrlInput,
    ) -> Result<FunctionUrl, LambdaError> {
        let _guard = self.writes.lock();
        if input.auth_type.is_none() {
            return Err(Invalid::from(Violation::null("authType")).into());
        }
        let checked = check(&input)?;
        let (f, q) = self
            .url_target(caller, name, qualifier)
            .map_err(|e| crate::missing_function_as(e, "Function does not exist"))?;
        if self.url_of(&f, q.as_deref()).is_some() {
            let arn = Self::described(&f, UrlConfig::placeholder(q.clone())).function_arn;
            return Err(LambdaError::Conflict(format!(
                "Failed to create function url config for [functionArn = {arn}]. Error message:  FunctionUrlConfig exists for this Lambda function"
            )));
        }
        let now = crate::now_ms();
        let custom = f.tags.get(CUSTOM_URL_ID_TAG).and_then(|tag| {
            let id = custom_url_id(tag, q.as_deref());
            let taken = id.as_ref().is_some_and(|id| self.cache.urls.read().contains_key(id));
            if id.is_none() || taken {
                tracing::warn!(function = %f.name, tag = %tag, "the {CUSTOM_URL_ID_TAG} tag names no free URL id; a random one is used");
            }
            id.filter(|_| !taken)
        });
        let config = UrlConfig {
            url_id: custom.unwrap_or_else(new_url_id),
            qualifier: q,
            auth_type: checked.auth_type.unwrap_or_default(),
            cors: input.cors,
            invoke_mode_given: checked.invoke_mode.is_some(),
            invoke_mode: checked.invoke_mode.unwrap_or_default(),
            created_ms: now,
            modified_ms: now,
        };
        self.keep_url(&f, &config)?;
        Ok(Self::described(&f, config))
    }

    /// GetFunctionUrlConfig.
    pub fn get_function_url(
        &self,
        caller: &Caller,
        name: &str,
        qualifier: Option<&str>,
    ) -> Result<FunctionUrl, LambdaError> {
        let (f, q) =
            self.url_target(caller, name, qualifier).map_err(|e| crate::missing_function_as(e, NO_RESOURCE))?;
        let config = self.url_of(&f, q.as_deref()).ok_or_else(no_url)?;
        Ok(Self::described(&f, config))
    }

    /// UpdateFunctionUrlConfig: the settings given replace the stored ones.
    pub fn update_function_url(
        &self,
        caller: &Caller,
        name: &str,
        qualifier: Option<&str>,
        input: UrlInput,
    ) -> Result<FunctionUrl, LambdaError> {
        let _guard = self.writes.lock();
        let checked = check(&input)?;
        let (f, q) = self
            .url_target(caller, name, qualifier)
            .map_err(|e| crate::missing_function_as(e, "Function does not exist"))?;
        let mut config = self.url_of(&f, q.as_deref()).ok_or_else(no_url)?;
        if let Some(a) = checked.auth_type {
            config.auth_type = a;
        }
        if let Some(c) = input.cors {
            config.cors = Some(c);
        }
        if let Some(m) = checked.invoke_mode {
            config.invoke_mode = m;
            config.invoke_mode_given = true;
        }
        config.modified_ms = crate::now_ms();
        self.keep_url(&f, &config)?;
        Ok(Self::described(&f, config))
    }

    /// DeleteFunctionUrlConfig.
    pub fn delete_function_url(&self, caller: &Caller, name: &str, qualifier: Option<&str>) -> Result<(), LambdaError> {
        let _guard = self.writes.lock();
        let (f, q) =
            self.url_target(caller, name, qualifier).map_err(|e| crate::missing_function_as(e, NO_RESOURCE))?;
        if !self.forget_url(&f, q.as_deref())? {
            return Err(no_url());
        }
        Ok(())
    }

    /// ListFunctionUrlConfigs: the function's URLs (unqualified first, then by alias),
    /// after `marker` (the last URL id of the previous page), at most `max_items`, and the
    /// marker for the next page.
    pub fn list_function_urls(
        &self,
        caller: &Caller,
        name: &str,
        marker: Option<&str>,
        max_items: Option<i64>,
    ) -> Result<(Vec<FunctionUrl>, Option<String>), LambdaError> {
        let size = crate::versions::page_size(max_items, 50, 50)?;
        let (f, _) = self
            .resolve_ref(caller, name, None)
            .map_err(|e| crate::missing_function_as(e, "Function does not exist"))?;
        let key = key_of(&f);
        let mut configs: Vec<UrlConfig> = {
            let urls = self.cache.urls.read();
            urls.values().filter(|(k, _)| *k == key).map(|(_, c)| c.clone()).collect()
        };
        configs.sort_by(|a, b| a.qualifier.cmp(&b.qualifier));
        let (page, next) = crate::versions::page(configs, |c| c.url_id.clone(), marker, size);
        Ok((page.into_iter().map(|c| Self::described(&f, c)).collect(), next))
    }

    pub(crate) fn url_entry(&self, url_id: &str) -> Option<(Arc<Function>, UrlConfig)> {
        let (key, config) = self.cache.urls.read().get(url_id).cloned()?;
        let f = self.cache.functions.read().get(&key).cloned()?;
        Some((f, config))
    }

    /// The URL whose id is `url_id`, for its data plane.
    pub fn function_url(&self, url_id: &str) -> Option<FunctionUrl> {
        self.url_entry(url_id).map(|(f, config)| Self::described(&f, config))
    }

    /// Whether a call to the URL of `f` configured as `config` may invoke the function
    /// under its resource policy: `signer` is the signer's account (`AWS_IAM`), none for
    /// `NONE`. A signer of the function's own account needs no statement (identity
    /// policies are not modelled); anyone else needs `lambda:InvokeFunctionUrl` granted
    /// with the URL's auth type.
    pub(crate) fn url_admits(&self, f: &Function, config: &UrlConfig, signer: Option<&str>) -> bool {
        if signer == Some(f.account.as_str()) {
            return true;
        }
        let who = Principal::Account(signer.unwrap_or("*"));
        self.url_statement_allows(f, config.qualifier.as_deref(), who, config.auth_type.as_str())
    }

    /// Loads the stored URLs into memory, at start.
    pub(crate) fn load_urls(&self) -> Result<(), store::StoreError> {
        let mut urls = self.cache.urls.write();
        for stored in self.store.all_function_urls()? {
            match serde_json::from_str::<UrlConfig>(&stored.item) {
                Ok(c) => {
                    urls.insert(c.url_id.clone(), (Key::new(stored.account, stored.region, stored.function), c));
                }
                Err(e) => tracing::error!(function = %stored.function, "unreadable function URL: {e}"),
            }
        }
        Ok(())
    }
}

impl UrlConfig {
    fn placeholder(qualifier: Option<String>) -> Self {
        UrlConfig {
            url_id: String::new(),
            qualifier,
            auth_type: AuthType::default(),
            cors: None,
            invoke_mode: InvokeMode::default(),
            invoke_mode_given: false,
            created_ms: 0,
            modified_ms: 0,
        }
    }
}

/// AWS's words for a URL config (or its function) that does not exist.
const NO_RESOURCE: &str = "The resource you requested does not exist.";

fn no_url() -> LambdaError {
    LambdaError::NotFound(NO_RESOURCE.into())
}

#[cfg(test)]
mod tests {
    use super::custom_url_id;

    #[test]
    fn custom_ids_are_dns_labels_read_in_lower_case() {
        assert_eq!(custom_url_id("My-App", None).as_deref(), Some("my-app"));
        assert_eq!(custom_url_id("my-app", Some("live")).as_deref(), Some("my-app-live"));
        for bad in ["1app", "app-", "under_score", "", &"a".repeat(64)] {
            assert_eq!(custom_url_id(bad, None), None, "{bad}");
        }
        assert_eq!(custom_url_id("app", Some("snake_alias")), None);
    }
}
