//! EventInvokeConfig: how asynchronous invocations of `$LATEST`, of a published version or
//! through an alias are retried, and where their outcomes go. Each has its own.

use std::sync::Arc;

use model::{Alias, EventInvokeConfig, Function, Invalid, Qualifier};

use crate::{key_of, not_found, now_ms, Caller, EventInvokeInput, LambdaError, LambdaService};

/// What an EventInvokeConfig belongs to.
enum Holder {
    Latest(Arc<Function>),
    Version(Arc<Function>),
    /// `$LATEST` (for the ARN and the store) and the alias.
    Alias(Arc<Function>, Arc<Alias>),
}

impl Holder {
    /// The function the configuration belongs to.
    fn function(&self) -> &Function {
        match self {
            Holder::Latest(f) | Holder::Version(f) | Holder::Alias(f, _) => f,
        }
    }

    /// The qualified ARN AWS shows as the configuration's `FunctionArn`.
    fn arn(&self) -> String {
        match self {
            Holder::Latest(f) | Holder::Version(f) => f.qualified_arn(),
            Holder::Alias(f, a) => format!("{}:{}", f.arn(), a.name),
        }
    }

    fn config(&self) -> Option<EventInvokeConfig> {
        match self {
            Holder::Latest(f) | Holder::Version(f) => f.event_invoke.clone(),
            Holder::Alias(_, a) => a.event_invoke.clone(),
        }
    }

    fn missing(&self) -> LambdaError {
        LambdaError::NotFound(format!("The function {} doesn't have an EventInvokeConfig", self.arn()))
    }
}

/// A configuration and the ARN (function, version or alias) it belongs to.
pub type ArnConfig = (String, EventInvokeConfig);

/// AWS's words when the function (or alias) to configure does not exist.
const NO_FUNCTION: &str = "The function doesn't exist.";

/// Get and Delete answer a function or qualifier that does not exist as having no
/// configuration.
fn without_config(e: LambdaError, caller: &Caller, name: &str, qualifier: Option<&str>) -> LambdaError {
    let LambdaError::NotFound(_) = &e else { return e };
    let Ok(r) = model::FunctionRef::parse(name, "functionName") else { return e };
    if r.region.as_deref().is_some_and(|reg| reg != caller.region) {
        return e;
    }
    let q = qualifier.map(str::to_owned).or_else(|| r.qualifier.map(|q| q.as_str().to_owned()));
    let arn = crate::function_arn(&caller.region, &caller.account, &r.name);
    LambdaError::NotFound(format!(
        "The function {arn}:{} doesn't have an EventInvokeConfig",
        q.as_deref().unwrap_or("$LATEST")
    ))
}

impl LambdaService {
    /// Resolves `FunctionName` and `Qualifier` to `$LATEST`, a version or an alias.
    fn holder(&self, caller: &Caller, name: &str, qualifier: Option<&str>) -> Result<Holder, LambdaError> {
        let (latest, q) = self.resolve_ref(caller, name, qualifier)?;
        let q = match q {
            None | Some(Qualifier::Latest) => return Ok(Holder::Latest(latest)),
            Some(Qualifier::Named(q)) => q,
        };
        let family = self.family(&latest).unwrap_or_default();
        let found = match q.parse::<u32>() {
            Ok(n) => family.versions.get(&n).cloned().map(Holder::Version),
            Err(_) => family.aliases.get(&q).cloned().map(|a| Holder::Alias(latest.clone(), a)),
        };
        found.ok_or_else(|| not_found(caller, &latest.name, Some(&Qualifier::Named(q))))
    }

    /// Stores a holder's configuration (the caller holds the write lock).
    fn store_event_invoke(&self, holder: &Holder, config: Option<EventInvokeConfig>) -> Result<(), LambdaError> {
        let gone = |f: &Function| not_found(&Caller::new(&f.account, &f.region), &f.name, None);
        match holder {
            Holder::Latest(f) => {
                let mut new = (**f).clone();
                new.event_invoke = config;
                if !self.store.update_function(&new)? {
                    return Err(gone(f));
                }
                self.remember(new);
            }
            Holder::Version(v) => {
                let n = v.version.unwrap_or(0);
                if !self.store.set_version_event_invoke(&v.account, &v.region, &v.name, n, config.as_ref())? {
                    return Err(gone(v));
                }
                let mut new = (**v).clone();
                new.event_invoke = config;
                let mut families = self.cache.families.write();
                families.entry(key_of(v)).or_default().versions.insert(n, Arc::new(new));
            }
            Holder::Alias(f, a) => {
                let mut new = (**a).clone();
                new.event_invoke = config;
                self.store.put_alias(&f.account, &f.region, &f.name, &new)?;
                let mut families = self.cache.families.write();
                families.entry(key_of(f)).or_default().aliases.insert(new.name.clone(), Arc::new(new));
            }
        }
        Ok(())
    }

    /// PutFunctionEventInvokeConfig (`merge: false`, replacing the whole configuration)
    /// and UpdateFunctionEventInvokeConfig (`merge: true`, changing what is given).
    /// Returns the qualified ARN it applies to, and the configuration.
    pub fn put_event_invoke_config(
        &self,
        caller: &Caller,
        name: &str,
        qualifier: Option<&str>,
        input: EventInvokeInput,
        merge: bool,
    ) -> Result<(String, EventInvokeConfig), LambdaError> {
        let nothing = input.max_retries.is_none()
            && input.max_event_age.is_none()
            && input.on_success.is_none()
            && input.on_failure.is_none();
        if nothing && !merge {
            return Err(
                Invalid::parameter("You must specify at least one of error handling or destination setting.").into()
            );
        }
        let (retries, age) = EventInvokeConfig::check(input.max_retries, input.max_event_age)?;
        let _guard = self.writes.lock();
        let holder = self.holder(caller, name, qualifier).map_err(|e| crate::missing_function_as(e, NO_FUNCTION))?;
        // Update changes a configuration; it does not make one.
        if merge && holder.config().is_none() {
            return Err(holder.missing());
        }
        let own = holder.function().arn();
        // A destination of a kind Lambda never sends to makes the whole configuration
        // invalid, in the words of AWS's Java shape.
        let foreign = |d: &Option<String>| {
            d.as_deref().is_some_and(|a| {
                !a.is_empty() && !matches!(a.split(':').nth(2), Some("lambda" | "sqs" | "sns" | "events" | "s3"))
            })
        };
        if foreign(&input.on_success) || foreign(&input.on_failure) {
            let shown = |kind: &str, d: &Option<String>| match d {
                Some(a) => format!("{kind}(destination={a})"),
                None => "null".to_owned(),
            };
            return Err(Invalid::parameter(format!(
                "The provided destination config DestinationConfig(onSuccess={}, onFailure={}) is invalid.",
                shown("OnSuccess", &input.on_success),
                shown("OnFailure", &input.on_failure)
            ))
            .into());
        }
        for arn in [&input.on_success, &input.on_failure].into_iter().flatten() {
            if arn.split(':').take(7).collect::<Vec<_>>().join(":") == own {
                return Err(Invalid::parameter("You can't specify the function as a destination for itself.").into());
            }
            self.check_destination(arn, &caller.account)?;
        }
        let base = if merge { holder.config().unwrap_or_default() } else { EventInvokeConfig::default() };
        let nonempty = |d: Option<String>| d.filter(|a| !a.is_empty());
        let config = EventInvokeConfig {
            max_retries: retries.or(if merge { base.max_retries } else { None }),
            max_event_age_s: age.or(if merge { base.max_event_age_s } else { None }),
            on_success: match input.on_success {
                Some(d) => nonempty(Some(d)),
                None => base.on_success,
            },
            on_failure: match input.on_failure {
                Some(d) => nonempty(Some(d)),
                None => base.on_failure,
            },
            last_modified_ms: now_ms(),
        };
        self.store_event_invoke(&holder, Some(config.clone()))?;
        Ok((holder.arn(), config))
    }

    /// GetFunctionEventInvokeConfig.
    pub fn get_event_invoke_config(
        &self,
        caller: &Caller,
        name: &str,
        qualifier: Option<&str>,
    ) -> Result<(String, EventInvokeConfig), LambdaError> {
        let holder = self.holder(caller, name, qualifier).map_err(|e| without_config(e, caller, name, qualifier))?;
        let config = holder.config().ok_or_else(|| holder.missing())?;
        Ok((holder.arn(), config))
    }

    /// DeleteFunctionEventInvokeConfig.
    pub fn delete_event_invoke_config(
        &self,
        caller: &Caller,
        name: &str,
        qualifier: Option<&str>,
    ) -> Result<(), LambdaError> {
        let _guard = self.writes.lock();
        let holder = self.holder(caller, name, qualifier).map_err(|e| without_config(e, caller, name, qualifier))?;
        if holder.config().is_none() {
            return Err(holder.missing());
        }
        self.store_event_invoke(&holder, None)
    }

    /// ListFunctionEventInvokeConfigs: the configurations of `$LATEST`, the versions and
    /// the aliases of a function, with the ARN each applies to.
    pub fn list_event_invoke_configs(
        &self,
        caller: &Caller,
        name: &str,
        marker: Option<&str>,
        max_items: Option<i64>,
    ) -> Result<(Vec<ArnConfig>, Option<String>), LambdaError> {
        let size = crate::versions::page_size(max_items, 50, 50)?;
        let latest = self.resolve(caller, name, None).map_err(|e| crate::missing_function_as(e, NO_FUNCTION))?;
        let family = self.family(&latest).unwrap_or_default();
        let holders = std::iter::once(Holder::Latest(latest.clone()))
            .chain(family.versions.into_values().map(Holder::Version))
            .chain(family.aliases.into_values().map(|a| Holder::Alias(latest.clone(), a)));
        let all: Vec<(String, EventInvokeConfig)> = holders.filter_map(|h| h.config().map(|c| (h.arn(), c))).collect();
        Ok(crate::versions::page(all, |(arn, _)| arn.clone(), marker, size))
    }
}
