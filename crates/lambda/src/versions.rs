//! Published versions, aliases and provisioned concurrency.
//!
//! A version is a frozen copy of `$LATEST`; an alias names one version (or splits
//! invocations between two); a provisioned-concurrency configuration on a version or
//! alias keeps that many environments of the version(s) initialised, through the invoker.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use model::{check_alias_name, is_version_number, Alias, AliasDraft, Function, Invalid, ProvisionedConfig, Violation};

use crate::{key_of, new_revision, not_found, now_ms, Caller, Key, LambdaError, LambdaService};

/// A page of ListVersionsByFunction.
#[derive(Debug)]
pub struct VersionPage {
    /// `$LATEST` first, then the published versions in order.
    pub versions: Vec<Arc<Function>>,
    /// `NextMarker`, when more remain.
    pub next_marker: Option<String>,
}

/// A page of ListAliases.
#[derive(Debug)]
pub struct AliasPage {
    /// The function, for the aliases' ARNs.
    pub function: Arc<Function>,
    /// The aliases in name order.
    pub aliases: Vec<Arc<Alias>>,
    /// `NextMarker`, when more remain.
    pub next_marker: Option<String>,
}

/// A provisioned-concurrency configuration and how far its allocation has got.
#[derive(Debug, Clone)]
pub struct ProvisionedView {
    /// The qualified ARN it applies to.
    pub function_arn: String,
    /// The configuration.
    pub config: ProvisionedConfig,
    /// Environments initialised.
    pub allocated: u32,
    /// `READY`, `IN_PROGRESS` or `FAILED`.
    pub status: &'static str,
    /// Why it failed, when it did.
    pub status_reason: Option<String>,
}

const PAGE_MAX: usize = 50;

/// Checks `MaxItems` against the operation's range (1 to `most`, as botocore states it)
/// and returns the page size: at most `cap`, and `cap` when not given.
pub(crate) fn page_size(max_items: Option<i64>, most: i64, cap: usize) -> Result<usize, LambdaError> {
    match max_items {
        Some(n) if n < 1 => Err(Invalid::from(Violation::min_value(n, "maxItems", 1)).into()),
        Some(n) if n > most => Err(Invalid::from(Violation::max_value(n, "maxItems", most)).into()),
        Some(n) => Ok((n as usize).min(cap)),
        None => Ok(cap),
    }
}

/// Takes the page after `marker` (an item's key) from `items`, in their order.
pub(crate) fn page<T>(
    items: Vec<T>,
    key: impl Fn(&T) -> String,
    marker: Option<&str>,
    size: usize,
) -> (Vec<T>, Option<String>) {
    let start = match marker {
        Some(m) => items.iter().position(|i| key(i) == m).map_or(items.len(), |p| p + 1),
        None => 0,
    };
    let mut rest: Vec<T> = items.into_iter().skip(start).collect();
    let next = (rest.len() > size).then(|| key(&rest[size - 1]));
    rest.truncate(size);
    (rest, next)
}

fn alias_arn(f: &Function, name: &str) -> String {
    format!("{}:{name}", f.arn())
}

fn alias_not_found(f: &Function, name: &str) -> LambdaError {
    LambdaError::NotFound(format!("Cannot find alias arn: {}", alias_arn(f, name)))
}

/// PutProvisionedConcurrencyConfig's answer to `$LATEST`.
const UNPUBLISHED: &str = "Provisioned Concurrency Configs cannot be applied to unpublished function versions.";
/// Get's and Delete's answer to `$LATEST`.
const NOT_A_VERSION: &str = "The function resource provided must be an alias or a published version.";

impl LambdaService {
    /// PublishVersion: freezes `$LATEST` as the next version, honouring the `CodeSha256`
    /// and `RevisionId` preconditions; when nothing changed since the last version, that
    /// version is returned and nothing is published.
    pub fn publish_version(
        &self,
        caller: &Caller,
        name: &str,
        code_sha256: Option<&str>,
        description: Option<String>,
        revision: Option<&str>,
    ) -> Result<Arc<Function>, LambdaError> {
        if let Some(d) = &description {
            if d.chars().count() > model::limits::DESCRIPTION_MAX {
                return Err(
                    Invalid::from(Violation::max_length(d, "description", model::limits::DESCRIPTION_MAX)).into()
                );
            }
        }
        let _guard = self.writes.lock();
        let latest = self.resolve(caller, name, None)?;
        self.check_not_updating(&latest)?;
        Self::check_revision(&latest, revision)?;
        if let Some(sha) = code_sha256 {
            if sha != latest.code.sha256_b64 {
                return Err(Invalid::parameter(format!(
                    "CodeSHA256 ({sha}) is different from current CodeSHA256 in $LATEST ({}). Please try again with the CodeSHA256 in $LATEST.",
                    latest.code.sha256_b64
                ))
                .into());
            }
        }
        self.publish_locked(&latest, description)
    }

    /// Publishes `latest` (the caller holds the write lock).
    pub(crate) fn publish_locked(
        &self,
        latest: &Arc<Function>,
        description: Option<String>,
    ) -> Result<Arc<Function>, LambdaError> {
        let newest = self.family(latest).and_then(|f| f.versions.values().next_back().cloned());
        // Nothing to publish when neither code nor configuration changed since the newest
        // version; a change of `$LATEST` after it (its description alone, say) is one.
        if let Some(newest) = newest.filter(|v| v.same_release(latest) && latest.last_modified_ms <= v.last_modified_ms)
        {
            return Ok(newest);
        }
        let number = latest.last_version + 1;
        let mut version = (**latest).clone();
        version.version = Some(number);
        version.last_version = 0;
        version.revision_id = new_revision();
        version.last_modified_ms = now_ms().max(latest.last_modified_ms);
        version.tags.clear();
        version.reserved_concurrency = None;
        version.event_invoke = None;
        version.state = model::FunctionState::Active;
        version.last_update_status = model::LastUpdateStatus::Successful;
        if let Some(d) = description {
            version.config.description = d;
        }
        let mut updated = (**latest).clone();
        updated.last_version = number;
        // Publishing is a change of `$LATEST` too: it gets a new revision, as on AWS.
        updated.revision_id = new_revision();
        if !self.store.publish_version(&updated, &version)? {
            return Err(not_found(&self.caller_of(latest), &latest.name, None));
        }
        self.remember(updated);
        let version = Arc::new(version);
        self.cache.families.write().entry(key_of(&version)).or_default().versions.insert(number, version.clone());
        Ok(version)
    }

    fn caller_of(&self, f: &Function) -> Caller {
        Caller::new(&f.account, &f.region)
    }

    /// ListVersionsByFunction.
    pub fn list_versions(
        &self,
        caller: &Caller,
        name: &str,
        marker: Option<&str>,
        max_items: Option<i64>,
    ) -> Result<VersionPage, LambdaError> {
        let size = page_size(max_items, 10_000, PAGE_MAX)?;
        let latest = self.resolve(caller, name, None)?;
        let mut all = vec![latest.clone()];
        all.extend(self.family(&latest).into_iter().flat_map(|f| f.versions.into_values()));
        let all = all.into_iter().map(|f| self.shown(f)).collect();
        let (versions, next_marker) = page(all, |v| v.version_label(), marker, size);
        Ok(VersionPage { versions, next_marker })
    }

    /// Deletes one published version (the caller holds the write lock).
    pub(crate) fn delete_version(&self, caller: &Caller, latest: &Function, q: &str) -> Result<(), LambdaError> {
        let family = self.family(latest).unwrap_or_default();
        let version = is_version_number(q).then(|| q.parse::<u32>().ok()).flatten();
        let Some(v) = version.and_then(|n| family.versions.get(&n).cloned()) else {
            // Deleting a version that is not there (any more) succeeds, as on AWS.
            if version.is_some() {
                return Ok(());
            }
            return Err(not_found(caller, &latest.name, Some(&model::Qualifier::Named(q.to_owned()))));
        };
        let label = v.version_label();
        let referenced: Vec<&str> = family
            .aliases
            .values()
            .filter(|a| a.function_version == label || a.routing.is_some_and(|(n, _)| Some(n) == v.version))
            .map(|a| a.name.as_str())
            .collect();
        if !referenced.is_empty() {
            return Err(LambdaError::Conflict(format!(
                "Unable to delete version because the following aliases reference it: [{}]",
                referenced.join(", ")
            )));
        }
        self.store.delete_version(&v.account, &v.region, &v.name, v.version.unwrap_or(0))?;
        self.forget_policy(latest, &label)?;
        if let Some(fam) = self.cache.families.write().get_mut(&key_of(&v)) {
            fam.versions.remove(&v.version.unwrap_or(0));
            fam.provisioned.remove(&label);
        }
        self.invoker.provision(v.clone(), 0);
        self.invoker.retire(&v);
        self.discard_if_unused(&v.code)?;
        Ok(())
    }

    /// Checks that a version an alias would point to exists.
    fn check_alias_target(&self, latest: &Function, family: &crate::Family, alias: &Alias) -> Result<(), LambdaError> {
        let caller = self.caller_of(latest);
        let exists = |v: &str| v == "$LATEST" || v.parse().ok().is_some_and(|n: u32| family.versions.contains_key(&n));
        for v in std::iter::once(alias.function_version.clone()).chain(alias.routing.map(|(n, _)| n.to_string())) {
            if !exists(&v) {
                return Err(not_found(&caller, &latest.name, Some(&model::Qualifier::Named(v))));
            }
        }
        Ok(())
    }

    fn store_alias(&self, latest: &Function, alias: Alias) -> Result<Arc<Alias>, LambdaError> {
        self.store.put_alias(&latest.account, &latest.region, &latest.name, &alias)?;
        let alias = Arc::new(alias);
        self.cache
            .families
            .write()
            .entry(key_of(latest))
            .or_default()
            .aliases
            .insert(alias.name.clone(), alias.clone());
        Ok(alias)
    }

    /// CreateAlias.
    pub fn create_alias(
        &self,
        caller: &Caller,
        name: &str,
        alias_name: &str,
        draft: AliasDraft,
    ) -> Result<(Arc<Function>, Arc<Alias>), LambdaError> {
        check_alias_name(alias_name)?;
        if draft.function_version.is_none() {
            return Err(Invalid::from(Violation::null("functionVersion")).into());
        }
        let empty = Alias {
            name: alias_name.to_owned(),
            function_version: String::new(),
            description: String::new(),
            routing: None,
            revision_id: new_revision(),
            event_invoke: None,
        };
        let alias = draft.apply_to(empty)?;
        let _guard = self.writes.lock();
        // A missing function is named with the version the alias was to point to.
        let latest = self.resolve(caller, name, None).map_err(|e| match e {
            LambdaError::NotFound(m) => LambdaError::NotFound(format!("{m}:{}", alias.function_version)),
            e => e,
        })?;
        let family = self.family(&latest).unwrap_or_default();
        if family.aliases.contains_key(alias_name) {
            return Err(LambdaError::Conflict(format!("Alias already exists: {}", alias_arn(&latest, alias_name))));
        }
        self.check_alias_target(&latest, &family, &alias)?;
        let alias = self.store_alias(&latest, alias)?;
        Ok((latest, alias))
    }

    /// GetAlias.
    pub fn get_alias(
        &self,
        caller: &Caller,
        name: &str,
        alias_name: &str,
    ) -> Result<(Arc<Function>, Arc<Alias>), LambdaError> {
        let latest = self.resolve(caller, name, None)?;
        let alias = self.family(&latest).and_then(|f| f.aliases.get(alias_name).cloned());
        let alias = alias.ok_or_else(|| alias_not_found(&latest, alias_name))?;
        Ok((latest, alias))
    }

    /// UpdateAlias, with its `RevisionId` precondition.
    pub fn update_alias(
        &self,
        caller: &Caller,
        name: &str,
        alias_name: &str,
        draft: AliasDraft,
        revision: Option<&str>,
    ) -> Result<(Arc<Function>, Arc<Alias>), LambdaError> {
        let _guard = self.writes.lock();
        let latest = self.resolve(caller, name, None)?;
        let old = self.family(&latest).and_then(|f| f.aliases.get(alias_name).cloned());
        // UpdateAlias words a missing alias its own way.
        let old =
            old.ok_or_else(|| LambdaError::NotFound(format!("Alias not found: {}", alias_arn(&latest, alias_name))))?;
        if revision.is_some_and(|r| r != old.revision_id) {
            return Err(LambdaError::PreconditionFailed(
                "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id".into(),
            ));
        }
        let mut alias = draft.apply_to((*old).clone())?;
        alias.revision_id = new_revision();
        let family = self.family(&latest).unwrap_or_default();
        self.check_alias_target(&latest, &family, &alias)?;
        if alias.function_version == "$LATEST" && family.provisioned.contains_key(alias_name) {
            return Err(Invalid::parameter(
                "Provisioned Concurrency Configs cannot be applied to unpublished function versions.",
            )
            .into());
        }
        let alias = self.store_alias(&latest, alias)?;
        self.apply_provisioning(&key_of(&latest));
        Ok((latest, alias))
    }

    /// DeleteAlias, with its provisioned concurrency.
    pub fn delete_alias(&self, caller: &Caller, name: &str, alias_name: &str) -> Result<(), LambdaError> {
        let _guard = self.writes.lock();
        let latest = self.resolve(caller, name, None)?;
        // Deleting an alias that is not there succeeds, as on AWS.
        if self.family(&latest).is_none_or(|f| !f.aliases.contains_key(alias_name)) {
            return Ok(());
        }
        self.store.delete_alias(&latest.account, &latest.region, &latest.name, alias_name)?;
        // Its permissions go with it: an alias made again under the name starts without.
        self.forget_policy(&latest, alias_name)?;
        self.forget_url(&latest, Some(alias_name))?;
        if let Some(fam) = self.cache.families.write().get_mut(&key_of(&latest)) {
            fam.aliases.remove(alias_name);
            fam.provisioned.remove(alias_name);
        }
        self.apply_provisioning(&key_of(&latest));
        Ok(())
    }

    /// ListAliases, optionally only those pointing to `function_version`.
    pub fn list_aliases(
        &self,
        caller: &Caller,
        name: &str,
        function_version: Option<&str>,
        marker: Option<&str>,
        max_items: Option<i64>,
    ) -> Result<AliasPage, LambdaError> {
        let size = page_size(max_items, 10_000, PAGE_MAX)?;
        let latest = self.resolve(caller, name, None)?;
        let all: Vec<Arc<Alias>> = self
            .family(&latest)
            .into_iter()
            .flat_map(|f| f.aliases.into_values())
            .filter(|a| function_version.is_none_or(|v| a.function_version == v))
            .collect();
        let (aliases, next_marker) = page(all, |a| a.name.clone(), marker, size);
        Ok(AliasPage { function: latest, aliases, next_marker })
    }

    /// The versions a provisioned-concurrency qualifier allocates, with how many each.
    fn allocation(family: &crate::Family, config: &ProvisionedConfig) -> Vec<(u32, u32)> {
        if let Ok(n) = config.qualifier.parse::<u32>() {
            return vec![(n, config.requested)];
        }
        let Some(alias) = family.aliases.get(&config.qualifier) else { return Vec::new() };
        let Ok(primary) = alias.function_version.parse::<u32>() else { return Vec::new() };
        match alias.routing {
            Some((extra, weight)) => {
                let extra_share = (f64::from(config.requested) * weight).round() as u32;
                vec![(primary, config.requested - extra_share), (extra, extra_share)]
            }
            None => vec![(primary, config.requested)],
        }
    }

    /// Tells the invoker how many environments each version of a function must keep
    /// initialised, from its provisioned-concurrency configurations.
    pub(crate) fn apply_provisioning(&self, key: &Key) {
        let Some(family) = self.cache.families.read().get(key).cloned() else {
            return;
        };
        let mut targets: HashMap<u32, u32> = HashMap::new();
        for config in family.provisioned.values() {
            for (version, n) in Self::allocation(&family, config) {
                *targets.entry(version).or_default() += n;
            }
        }
        for (n, version) in &family.versions {
            self.invoker.provision(version.clone(), targets.get(n).copied().unwrap_or(0));
        }
    }

    /// Resolves the qualifier of a provisioned-concurrency request: a published version
    /// or an alias of one.
    /// The version or alias a provisioned-concurrency operation addresses; `on_latest` is
    /// the operation's answer to `$LATEST`.
    fn provisioned_target(
        &self,
        caller: &Caller,
        name: &str,
        qualifier: Option<&str>,
        on_latest: &str,
    ) -> Result<(Arc<Function>, crate::Family, String), LambdaError> {
        if qualifier == Some("$LATEST") {
            return Err(Invalid::parameter(on_latest).into());
        }
        // An alias of a function that does not exist is itself what is missing.
        let (latest, q) = self.resolve_ref(caller, name, qualifier).map_err(|e| match (e, qualifier) {
            (LambdaError::NotFound(m), Some(q)) if m.starts_with("Function not found: ") && !is_version_number(q) => {
                match model::FunctionRef::parse(name, "functionName") {
                    Ok(r) => LambdaError::NotFound(format!(
                        "Cannot find alias arn: {}:{q}",
                        crate::function_arn(&caller.region, &caller.account, &r.name)
                    )),
                    Err(_) => LambdaError::NotFound(m),
                }
            }
            (e, _) => e,
        })?;
        let q = match q {
            None => return Err(Invalid::from(Violation::null("qualifier")).into()),
            Some(model::Qualifier::Latest) => return Err(Invalid::parameter(on_latest).into()),
            Some(model::Qualifier::Named(q)) => q,
        };
        let family = self.family(&latest).unwrap_or_default();
        if is_version_number(&q) {
            if !q.parse().ok().is_some_and(|n: u32| family.versions.contains_key(&n)) {
                return Err(not_found(caller, &latest.name, Some(&model::Qualifier::Named(q))));
            }
        } else if !family.aliases.contains_key(&q) {
            return Err(alias_not_found(&latest, &q));
        }
        Ok((latest, family, q))
    }

    fn provisioned_view(
        &self,
        latest: &Function,
        family: &crate::Family,
        config: &ProvisionedConfig,
    ) -> ProvisionedView {
        let mut allocated = 0;
        let mut failure = None;
        for (n, _) in Self::allocation(family, config) {
            if let Some(v) = family.versions.get(&n) {
                let status = self.invoker.provisioned(v);
                allocated += status.allocated;
                failure = failure.or(status.failure);
            }
        }
        // Environments of one version serve every configuration that targets it.
        let allocated = allocated.min(config.requested);
        let (status, status_reason) = match (allocated >= config.requested, failure) {
            (true, _) => ("READY", None),
            // AWS names the failure, not its cause (the cause is in the function's log).
            (false, Some(_)) => ("FAILED", Some("FUNCTION_ERROR_INIT_FAILURE".to_owned())),
            (false, None) => ("IN_PROGRESS", None),
        };
        ProvisionedView {
            function_arn: format!("{}:{}", latest.arn(), config.qualifier),
            config: config.clone(),
            allocated,
            status,
            status_reason,
        }
    }

    /// PutProvisionedConcurrencyConfig: starts allocating; the answer shows it
    /// `IN_PROGRESS` until every environment is initialised.
    pub fn put_provisioned(
        &self,
        caller: &Caller,
        name: &str,
        qualifier: Option<&str>,
        requested: Option<i64>,
    ) -> Result<ProvisionedView, LambdaError> {
        let requested = requested.ok_or_else(|| Invalid::from(Violation::null("provisionedConcurrentExecutions")))?;
        if requested < 1 {
            return Err(Invalid::from(Violation::min_value(requested, "provisionedConcurrentExecutions", 1)).into());
        }
        let _guard = self.writes.lock();
        let (latest, family, q) = self.provisioned_target(caller, name, qualifier, UNPUBLISHED)?;
        if let Some(alias) = family.aliases.get(&q) {
            if alias.function_version == "$LATEST" {
                return Err(Invalid::parameter(
                    "Provisioned Concurrency Configs cannot be applied to unpublished function versions.",
                )
                .into());
            }
            let versions: Vec<String> = std::iter::once(alias.function_version.clone())
                .chain(alias.routing.map(|(n, _)| n.to_string()))
                .collect();
            if versions.iter().any(|v| family.provisioned.contains_key(v)) {
                return Err(LambdaError::Conflict(
                    "Alias can't be used for Provisioned Concurrency configuration on an already Provisioned version"
                        .into(),
                ));
            }
        } else {
            let pointed = family.aliases.values().any(|a| {
                family.provisioned.contains_key(&a.name)
                    && (a.function_version == q || a.routing.is_some_and(|(n, _)| n.to_string() == q))
            });
            if pointed {
                return Err(LambdaError::Conflict("Version is pointed by a Provisioned Concurrency alias".into()));
            }
        }
        let others: u32 = family.provisioned.iter().filter(|(k, _)| **k != q).map(|(_, c)| c.requested).sum();
        let total = i64::from(others) + requested;
        match latest.reserved_concurrency {
            Some(reserved) if total > i64::from(reserved) => {
                return Err(Invalid::parameter(
                    "Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function",
                )
                .into())
            }
            Some(_) => {}
            None => {
                let unreserved = self.concurrency_limit.saturating_sub(self.cache.reserved_in(&latest.account));
                let allowed = unreserved.saturating_sub(model::limits::UNRESERVED_MIN);
                if total > i64::from(unreserved) {
                    return Err(LambdaError::from(Invalid::Untyped(format!(
                        "Specified ConcurrentExecutions for function is greater than account's unreserved concurrency [{unreserved}]."
                    ))));
                }
                if total > i64::from(allowed) {
                    return Err(LambdaError::from(Invalid::Untyped(format!(
                        "Specified ConcurrentExecutions for function decreases account's UnreservedConcurrentExecution \
                         below its minimum value of [{}].",
                        model::limits::UNRESERVED_MIN
                    ))));
                }
            }
        }
        let config =
            ProvisionedConfig { qualifier: q.clone(), requested: requested as u32, last_modified_ms: now_ms() };
        self.store.put_provisioned(&latest.account, &latest.region, &latest.name, &config)?;
        let family = {
            let mut families = self.cache.families.write();
            let fam = families.entry(key_of(&latest)).or_default();
            fam.provisioned.insert(q, config.clone());
            fam.clone()
        };
        self.apply_provisioning(&key_of(&latest));
        Ok(self.provisioned_view(&latest, &family, &config))
    }

    /// GetProvisionedConcurrencyConfig.
    pub fn get_provisioned(
        &self,
        caller: &Caller,
        name: &str,
        qualifier: Option<&str>,
    ) -> Result<ProvisionedView, LambdaError> {
        let (latest, family, q) = self.provisioned_target(caller, name, qualifier, NOT_A_VERSION)?;
        let config = family.provisioned.get(&q).ok_or_else(|| {
            LambdaError::ProvisionedConfigNotFound("No Provisioned Concurrency Config found for this function".into())
        })?;
        Ok(self.provisioned_view(&latest, &family, config))
    }

    /// DeleteProvisionedConcurrencyConfig: releases the environments.
    pub fn delete_provisioned(&self, caller: &Caller, name: &str, qualifier: Option<&str>) -> Result<(), LambdaError> {
        let _guard = self.writes.lock();
        let (latest, family, q) = self.provisioned_target(caller, name, qualifier, NOT_A_VERSION)?;
        // Deleting a configuration that is not there succeeds, as on AWS.
        if !family.provisioned.contains_key(&q) {
            return Ok(());
        }
        self.store.delete_provisioned(&latest.account, &latest.region, &latest.name, &q)?;
        if let Some(fam) = self.cache.families.write().get_mut(&key_of(&latest)) {
            fam.provisioned.remove(&q);
        }
        self.apply_provisioning(&key_of(&latest));
        Ok(())
    }

    /// ListProvisionedConcurrencyConfigs.
    pub fn list_provisioned(
        &self,
        caller: &Caller,
        name: &str,
        marker: Option<&str>,
        max_items: Option<i64>,
    ) -> Result<(Vec<ProvisionedView>, Option<String>), LambdaError> {
        let size = page_size(max_items, 10_000, PAGE_MAX)?;
        let latest = self.resolve(caller, name, None)?;
        let family = self.family(&latest).unwrap_or_default();
        let configs: BTreeMap<_, _> = family.provisioned.clone();
        let all: Vec<ProvisionedView> = configs.values().map(|c| self.provisioned_view(&latest, &family, c)).collect();
        Ok(page(all, |v| v.config.qualifier.clone(), marker, size))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_follow_the_marker() {
        let items: Vec<u32> = (1..=5).collect();
        let (first, next) = page(items.clone(), |i| i.to_string(), None, 2);
        assert_eq!((first, next.as_deref()), (vec![1, 2], Some("2")));
        let (second, next) = page(items.clone(), |i| i.to_string(), Some("2"), 2);
        assert_eq!((second, next.as_deref()), (vec![3, 4], Some("4")));
        let (last, next) = page(items, |i| i.to_string(), Some("4"), 2);
        assert_eq!((last, next), (vec![5], None));
    }
}
