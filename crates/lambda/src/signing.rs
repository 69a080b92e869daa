//! Code signing configurations: which signing profiles may sign a function's code, and
//! what a deployment of code they did not sign gets (`Warn`: deployed with a warning;
//! `Enforce`: refused).
//!
//! Lamina serves no AWS Signer, so no package carries a signature it can check: under
//! `Enforce` every new code deployment of a function using the configuration is refused
//! with `CodeVerificationFailedException`, as AWS refuses unsigned code; under `Warn` it is
//! deployed and the warning goes to the server's log.

use model::sync::RwLock;
use std::collections::{BTreeMap, HashMap};

use model::Function;
use serde::{Deserialize, Serialize};

use crate::{key_of, not_found, now_ms, Caller, Key, LambdaError, LambdaService};

/// Store kind of a configuration (keyed by ARN).
const CONFIG_KIND: &str = "code-signing-config";
/// Store kind of a function's configuration (keyed `account/region/function`, the body
/// the configuration's ARN).
const BINDING_KIND: &str = "function-code-signing-config";

/// One code signing configuration.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CodeSigningConfig {
    /// `csc-` and 17 lowercase letters and digits.
    pub id: String,
    /// Its account.
    pub account: String,
    /// Its region.
    pub region: String,
    /// `Description`.
    pub description: String,
    /// `AllowedPublishers.SigningProfileVersionArns`.
    pub profiles: Vec<String>,
    /// `CodeSigningPolicies.UntrustedArtifactOnDeployment`: `Warn` or `Enforce`.
    pub policy: String,
    /// When it was made (lists are in this order), ms since the epoch.
    pub created_ms: i64,
    /// When it last changed, ms since the epoch.
    pub last_modified_ms: i64,
}

impl CodeSigningConfig {
    /// Its ARN.
    pub fn arn(&self) -> String {
        format!("arn:aws:lambda:{}:{}:code-signing-config:{}", self.region, self.account, self.id)
    }
}

/// CreateCodeSigningConfig's and UpdateCodeSigningConfig's members.
#[derive(Debug, Default)]
pub struct CodeSigningInput {
    /// `Description`.
    pub description: Option<String>,
    /// `AllowedPublishers.SigningProfileVersionArns`.
    pub profiles: Option<Vec<String>>,
    /// `CodeSigningPolicies.UntrustedArtifactOnDeployment`.
    pub policy: Option<String>,
}

/// The configurations and which function uses which, in memory.
#[derive(Default)]
pub(crate) struct CodeSigning {
    configs: RwLock<BTreeMap<String, CodeSigningConfig>>,
    bindings: RwLock<HashMap<Key, String>>,
}

impl CodeSigning {
    /// Loads what the store holds.
    pub(crate) fn load(store: &dyn store::MetadataStore) -> Result<Self, store::StoreError> {
        let corrupt = |e: serde_json::Error| store::StoreError::Corrupt(format!("code signing config: {e}"));
        let mut configs = BTreeMap::new();
        for (arn, body) in store.lambda_documents(CONFIG_KIND)? {
            configs.insert(arn, serde_json::from_str(&body).map_err(corrupt)?);
        }
        let mut bindings = HashMap::new();
        for (key, arn) in store.lambda_documents(BINDING_KIND)? {
            let mut parts = key.splitn(3, '/').map(str::to_owned);
            if let (Some(a), Some(r), Some(f)) = (parts.next(), parts.next(), parts.next()) {
                bindings.insert(Key::new(a, r, f), arn);
            }
        }
        Ok(CodeSigning { configs: RwLock::new(configs), bindings: RwLock::new(bindings) })
    }
}

fn binding_key(key: &Key) -> String {
    format!("{}/{}/{}", key.account, key.region, key.name)
}

/// The answer of the configuration operations to an ARN that names none.
fn missing_config(arn: &str) -> LambdaError {
    LambdaError::CodeSigningConfigMissing(format!("The Lambda code signing configuration {arn} can not be found."))
}

/// The answer of the function operations to an ARN that names no configuration.
fn unknown_config(arn: &str) -> LambdaError {
    LambdaError::CodeSigningConfigNotFound(format!(
        "The code signing configuration cannot be found. Check that the provided configuration is not deleted: {arn}."
    ))
}

fn new_id() -> String {
    let hex = uuid::Uuid::new_v4().simple().to_string();
    format!("csc-{}", &hex[..17])
}

impl LambdaService {
    fn save_config(&self, c: &CodeSigningConfig) -> Result<(), LambdaError> {
        let body = serde_json::to_string(c).map_err(|e| LambdaError::Service(e.to_string()))?;
        self.store.put_lambda_document(CONFIG_KIND, &c.arn(), &body)?;
        self.signing.configs.write().insert(c.arn(), c.clone());
        Ok(())
    }

    fn config_of(&self, caller: &Caller, arn: &str) -> Option<CodeSigningConfig> {
        let configs = self.signing.configs.read();
        configs.get(arn).filter(|c| c.account == caller.account && c.region == caller.region).cloned()
    }

    /// CreateCodeSigningConfig.
    pub fn create_code_signing_config(
        &self,
        caller: &Caller,
        input: CodeSigningInput,
    ) -> Result<CodeSigningConfig, LambdaError> {
        let now = now_ms();
        let c = CodeSigningConfig {
            id: new_id(),
            account: caller.account.clone(),
            region: caller.region.clone(),
            description: input.description.unwrap_or_default(),
            profiles: input.profiles.unwrap_or_default(),
            policy: input.policy.unwrap_or_else(|| "Warn".into()),
            created_ms: now,
            last_modified_ms: now,
        };
        let _guard = self.writes.lock();
        self.save_config(&c)?;
        Ok(c)
    }

    /// GetCodeSigningConfig.
    pub fn get_code_signing_config(&self, caller: &Caller, arn: &str) -> Result<CodeSigningConfig, LambdaError> {
        self.config_of(caller, arn).ok_or_else(|| missing_config(arn))
    }

    /// UpdateCodeSigningConfig: the members given replace the stored ones.
    pub fn update_code_signing_config(
        &self,
        caller: &Caller,
        arn: &str,
        input: CodeSigningInput,
    ) -> Result<CodeSigningConfig, LambdaError> {
        let _guard = self.writes.lock();
        let mut c = self.config_of(caller, arn).ok_or_else(|| missing_config(arn))?;
        let changed = input.description.is_some() || input.profiles.is_some() || input.policy.is_some();
        if let Some(d) = input.description {
            c.description = d;
        }
        if let Some(p) = input.profiles {
            c.profiles = p;
        }
        if let Some(p) = input.policy {
            c.policy = p;
        }
        if changed {
            c.last_modified_ms = now_ms();
            self.save_config(&c)?;
        }
        Ok(c)
    }

    /// DeleteCodeSigningConfig: refused while a function uses it.
    pub fn delete_code_signing_config(&self, caller: &Caller, arn: &str) -> Result<(), LambdaError> {
        let _guard = self.writes.lock();
        self.config_of(caller, arn).ok_or_else(|| missing_config(arn))?;
        if self.signing.bindings.read().values().any(|a| a == arn) {
            return Err(LambdaError::Conflict(format!(
                "The code signing configuration {arn} cannot be deleted because it is used by one or more functions."
            )));
        }
        self.store.delete_lambda_document(CONFIG_KIND, arn)?;
        self.signing.configs.write().remove(arn);
        Ok(())
    }

    /// ListCodeSigningConfigs: the caller's, oldest first, in pages.
    pub fn list_code_signing_configs(
        &self,
        caller: &Caller,
        marker: Option<&str>,
        max_items: Option<i64>,
    ) -> Result<(Vec<CodeSigningConfig>, Option<String>), LambdaError> {
        let size = crate::versions::page_size(max_items, 10_000, 50)?;
        let configs = self.signing.configs.read();
        let mut mine: Vec<CodeSigningConfig> =
            configs.values().filter(|c| c.account == caller.account && c.region == caller.region).cloned().collect();
        mine.sort_by(|a, b| (a.created_ms, &a.id).cmp(&(b.created_ms, &b.id)));
        Ok(crate::versions::page(mine, |c| c.id.clone(), marker, size))
    }

    /// ListFunctionsByCodeSigningConfig: the ARNs of the functions using it.
    pub fn list_functions_by_code_signing_config(
        &self,
        caller: &Caller,
        arn: &str,
        marker: Option<&str>,
        max_items: Option<i64>,
    ) -> Result<(Vec<String>, Option<String>), LambdaError> {
        self.config_of(caller, arn).ok_or_else(|| missing_config(arn))?;
        let size = crate::versions::page_size(max_items, 10_000, 50)?;
        let bindings = self.signing.bindings.read();
        let mut arns: Vec<String> = bindings
            .iter()
            .filter(|(_, a)| *a == arn)
            .map(|(k, _)| crate::function_arn(&k.region, &k.account, &k.name))
            .collect();
        arns.sort();
        Ok(crate::versions::page(arns, Clone::clone, marker, size))
    }

    /// PutFunctionCodeSigningConfig: the function's code deployments are checked against
    /// the configuration from now on.
    pub fn put_function_code_signing_config(
        &self,
        caller: &Caller,
        name: &str,
        arn: &str,
    ) -> Result<(String, String), LambdaError> {
        let _guard = self.writes.lock();
        self.config_of(caller, arn).ok_or_else(|| unknown_config(arn))?;
        let f = self.unqualified_target(caller, name)?;
        self.bind_code_signing(&f, arn)?;
        Ok((arn.to_owned(), f.name.clone()))
    }

    pub(crate) fn bind_code_signing(&self, f: &Function, arn: &str) -> Result<(), LambdaError> {
        let key = key_of(f);
        self.store.put_lambda_document(BINDING_KIND, &binding_key(&key), arn)?;
        self.signing.bindings.write().insert(key, arn.to_owned());
        Ok(())
    }

    /// GetFunctionCodeSigningConfig: the configuration's ARN and the function's name, or
    /// `None` for a function without one.
    pub fn get_function_code_signing_config(
        &self,
        caller: &Caller,
        name: &str,
    ) -> Result<Option<(String, String)>, LambdaError> {
        let f = self.unqualified_target(caller, name)?;
        let bindings = self.signing.bindings.read();
        Ok(bindings.get(&key_of(&f)).map(|arn| (arn.clone(), f.name.clone())))
    }

    /// DeleteFunctionCodeSigningConfig (nothing to do for a function without one).
    pub fn delete_function_code_signing_config(&self, caller: &Caller, name: &str) -> Result<(), LambdaError> {
        let _guard = self.writes.lock();
        let f = self.unqualified_target(caller, name)?;
        self.forget_code_signing(&key_of(&f))
    }

    /// Drops a function's configuration (the function is gone, or let go of it).
    pub(crate) fn forget_code_signing(&self, key: &Key) -> Result<(), LambdaError> {
        if self.signing.bindings.write().remove(key).is_some() {
            self.store.delete_lambda_document(BINDING_KIND, &binding_key(key))?;
        }
        Ok(())
    }

    /// `$LATEST` of the function a code signing operation names; a missing one is named
    /// by its ARN.
    fn unqualified_target(&self, caller: &Caller, name: &str) -> Result<std::sync::Arc<Function>, LambdaError> {
        self.resolve(caller, name, None).map_err(|e| match e {
            LambdaError::NotFound(ref m) if m.starts_with("Function not found: ") => {
                match model::FunctionRef::parse(name, "functionName") {
                    Ok(r) => not_found(caller, &r.name, None),
                    Err(_) => e,
                }
            }
            e => e,
        })
    }

    /// Checks new code of a function against the configuration it uses (or, for a
    /// function being created, the one it names).
    pub(crate) fn check_code_signing(
        &self,
        caller: &Caller,
        key: &Key,
        named: Option<&str>,
    ) -> Result<Option<String>, LambdaError> {
        let arn = match named {
            Some(arn) => Some(arn.to_owned()),
            None => self.signing.bindings.read().get(key).cloned(),
        };
        let Some(arn) = arn else { return Ok(None) };
        let config = self.config_of(caller, &arn).ok_or_else(|| unknown_config(&arn))?;
        if config.policy == "Enforce" {
            return Err(LambdaError::CodeVerificationFailed(
                "The code signature failed one or more of the validation checks for signature mismatch or expiry, \
                 and the code signing policy is set to ENFORCE. Lambda blocks the deployment."
                    .into(),
            ));
        }
        tracing::warn!(
            function = %key.name,
            config = %arn,
            "code deployed without a signature from an allowed signing profile (code signing policy Warn)"
        );
        Ok(Some(arn))
    }
}
