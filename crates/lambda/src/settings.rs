//! An account's settings and a function's own: GetAccountSettings, tags, reserved
//! concurrency and the recursion setting.

use super::*;

impl LambdaService {
    /// GetAccountSettings.
    pub fn account_settings(&self, caller: &Caller) -> Result<AccountSettings, LambdaError> {
        let (function_count, total_code_size) = self.store.usage(&caller.account, &caller.region)?;
        Ok(AccountSettings {
            concurrency_limit: self.concurrency_limit,
            unreserved_concurrency: self.concurrency_limit.saturating_sub(self.cache.reserved_in(&caller.account)),
            function_count,
            total_code_size,
        })
    }

    /// What a tagging operation's `Resource` names: a function (unqualified: AWS tags
    /// neither versions nor aliases), an event source mapping, or a capacity provider
    /// (Lamina has none).
    pub(crate) fn tagged(&self, caller: &Caller, resource: &str) -> Result<Tagged, LambdaError> {
        let parts: Vec<&str> = resource.splitn(7, ':').collect();
        match parts.as_slice() {
            ["arn", _, "lambda", _, _, "event-source-mapping", uuid] => Ok(Tagged::Mapping((*uuid).to_owned())),
            ["arn", _, "lambda", _, _, "capacity-provider", _] => {
                Err(LambdaError::NotFound(format!("Capacity provider not found: {resource}")))
            }
            _ => {
                let r = FunctionRef::parse(resource, "resource")
                    .ok()
                    .filter(|r| r.account.is_some() && r.region.is_some())
                    .ok_or_else(|| Invalid::from(model::Violation::pattern(resource, "resource", TAGGABLE_PATTERN)))?;
                if r.qualifier.is_some() {
                    return Err(Invalid::parameter(
                        "Tags on function aliases and versions are not supported. Please specify a function ARN.",
                    )
                    .into());
                }
                let f = self.resolve(caller, resource, None).map_err(|e| match e {
                    LambdaError::NotFound(_) => not_found(caller, &r.name, None),
                    other => other,
                })?;
                Ok(Tagged::Function(f))
            }
        }
    }

    /// Changes a function's or mapping's tags; a function's revision changes with them,
    /// as on AWS.
    pub(crate) fn retag(
        &self,
        caller: &Caller,
        resource: &str,
        change: impl FnOnce(&mut BTreeMap<String, String>),
    ) -> Result<(), LambdaError> {
        match self.tagged(caller, resource)? {
            Tagged::Mapping(uuid) => self.retag_mapping(caller, resource, &uuid, change).map(drop),
            Tagged::Function(_) => {
                let _guard = self.writes.lock();
                let Tagged::Function(old) = self.tagged(caller, resource)? else { return Ok(()) };
                let mut new = (*old).clone();
                change(&mut new.tags);
                check_tags(&new.tags)?;
                new.revision_id = new_revision();
                if !self.store.update_function(&new)? {
                    return Err(not_found(caller, &old.name, None));
                }
                self.remember(new);
                Ok(())
            }
        }
    }

    /// ListTags.
    pub fn list_tags(&self, caller: &Caller, resource: &str) -> Result<BTreeMap<String, String>, LambdaError> {
        match self.tagged(caller, resource)? {
            Tagged::Function(f) => Ok(f.tags.clone()),
            Tagged::Mapping(uuid) => self.retag_mapping_read(caller, resource, &uuid),
        }
    }

    /// TagResource.
    pub fn tag_resource(
        &self,
        caller: &Caller,
        resource: &str,
        tags: BTreeMap<String, String>,
    ) -> Result<(), LambdaError> {
        self.retag(caller, resource, |t| t.extend(tags))
    }

    /// UntagResource.
    pub fn untag_resource(&self, caller: &Caller, resource: &str, keys: &[String]) -> Result<(), LambdaError> {
        self.retag(caller, resource, |t| {
            for k in keys {
                t.remove(k);
            }
        })
    }

    /// PutFunctionConcurrency: reserves concurrency for a function, keeping at least
    /// 100 unreserved in the account, as AWS does.
    pub fn put_concurrency(&self, caller: &Caller, name: &str, reserved: i64) -> Result<u32, LambdaError> {
        if reserved < 0 {
            return Err(Invalid::from(model::Violation::min_value(reserved, "reservedConcurrentExecutions", 0)).into());
        }
        if FunctionRef::parse(name, "functionName").is_ok_and(|r| r.qualifier.is_some()) {
            return Err(Invalid::parameter(
                "This operation is permitted on Lambda functions only. Aliases and versions do not support this \
                 operation. Please specify either a function name or an unqualified function ARN.",
            )
            .into());
        }
        let _guard = self.writes.lock();
        let old = self.resolve(caller, name, None).map_err(|e| latest_named(e, name, None))?;
        let provisioned: i64 =
            self.family(&old).map_or(0, |fam| fam.provisioned.values().map(|c| i64::from(c.requested)).sum());
        if reserved < provisioned {
            // AWS answers this one without `Type`.
            return Err(LambdaError::from(Invalid::Untyped(format!(
                " ReservedConcurrentExecutions  {reserved} should not be lower than function's total provisioned \
                 concurrency [{provisioned}]."
            ))));
        }
        let others = self.cache.reserved_in(&caller.account).saturating_sub(old.reserved_concurrency.unwrap_or(0));
        let unreserved = i64::from(self.concurrency_limit) - i64::from(others) - reserved;
        if unreserved < i64::from(limits::UNRESERVED_MIN) {
            return Err(LambdaError::from(Invalid::Untyped(format!(
                "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution \
                 below its minimum value of [{}].",
                limits::UNRESERVED_MIN
            ))));
        }
        let mut new = (*old).clone();
        new.reserved_concurrency = Some(reserved as u32);
        if !self.store.update_function(&new)? {
            return Err(not_found(caller, &old.name, None));
        }
        self.remember(new);
        Ok(reserved as u32)
    }

    /// PutFunctionRecursionConfig: whether Lambda lets a recursive loop through this
    /// function run (`Allow`) or stops it (`Terminate`, the default).
    pub fn put_recursion_config(&self, caller: &Caller, name: &str, setting: &str) -> Result<String, LambdaError> {
        let _guard = self.writes.lock();
        let old = self.resolve(caller, name, None).map_err(|e| latest_named(e, name, None))?;
        let mut new = (*old).clone();
        new.recursive_loop = (setting == "Allow").then(|| setting.to_owned());
        if !self.store.update_function(&new)? {
            return Err(not_found(caller, &old.name, None));
        }
        self.remember(new);
        Ok(setting.to_owned())
    }

    /// GetFunctionRecursionConfig.
    pub fn recursion_config(&self, caller: &Caller, name: &str) -> Result<String, LambdaError> {
        let f = self.resolve(caller, name, None)?;
        Ok(f.recursive_loop.clone().unwrap_or_else(|| "Terminate".into()))
    }

    /// GetFunctionConcurrency.
    pub fn get_concurrency(&self, caller: &Caller, name: &str) -> Result<Option<u32>, LambdaError> {
        Ok(self.resolve(caller, name, None)?.reserved_concurrency)
    }

    /// DeleteFunctionConcurrency.
    pub fn delete_concurrency(&self, caller: &Caller, name: &str) -> Result<(), LambdaError> {
        let _guard = self.writes.lock();
        let old = self.resolve(caller, name, None)?;
        let mut new = (*old).clone();
        new.reserved_concurrency = None;
        if !self.store.update_function(&new)? {
            return Err(not_found(caller, &old.name, None));
        }
        self.remember(new);
        Ok(())
    }
}
