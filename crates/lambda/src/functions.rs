//! Functions' own control plane: CreateFunction, GetFunction, ListFunctions,
//! UpdateFunctionCode and UpdateFunctionConfiguration (stored at once, then prepared while
//! `InProgress`), and DeleteFunction.

use super::*;

impl LambdaService {
    /// CreateFunction. The returned view shows the function `Pending`, as AWS answers;
    /// it is ready to invoke as soon as this returns.
    pub fn create_function(&self, caller: &Caller, cmd: CreateFunction) -> Result<Function, LambdaError> {
        let r = FunctionRef::parse(&cmd.name, "functionName").map_err(Invalid::from)?;
        if r.name_too_long() {
            // AWS words it as a validation error, under InvalidParameterValueException.
            let v = model::Violation::max_length(&cmd.name, "functionName", limits::FUNCTION_NAME_MAX);
            return Err(Invalid::parameter(Invalid::from(v).to_string()).into());
        }
        if r.qualifier.is_some() {
            return Err(Invalid::from(model::Violation::pattern(
                &cmd.name,
                "functionName",
                model::arn::FUNCTION_NAME_PATTERN,
            ))
            .into());
        }
        if let Some(region) = r.region.as_deref().filter(|reg| *reg != caller.region) {
            return Err(other_region(region, caller));
        }
        if r.account.as_deref().is_some_and(|a| a != caller.account) {
            return Err(LambdaError::ForeignAccount);
        }
        let layer_arns = cmd.draft.layers.clone();
        let mut config = cmd.draft.into_config()?;
        if let Some(arns) = layer_arns {
            config.layers = self.resolve_layers(caller, &arns)?;
        }
        self.check_dead_letter(&config, &caller.account)?;
        check_tags(&cmd.tags)?;
        let key = Key::new(&caller.account, &caller.region, &r.name);
        let code_signing = self.check_code_signing(caller, &key, cmd.code_signing.as_deref())?;
        let (code, pin) = self.store_code(caller, cmd.code)?;
        let _guard = self.writes.lock();
        if self.cached(caller, &r.name).is_some() {
            self.abandon(&code, pin);
            return Err(LambdaError::Conflict(format!("Function already exist: {}", r.name)));
        }
        let f = Function {
            name: r.name,
            account: caller.account.clone(),
            region: caller.region.clone(),
            config,
            code,
            revision_id: new_revision(),
            last_modified_ms: now_ms(),
            state: FunctionState::Active,
            last_update_status: LastUpdateStatus::Successful,
            tags: cmd.tags,
            reserved_concurrency: None,
            recursive_loop: None,
            event_invoke: None,
            version: None,
            last_version: 0,
            state_reason: None,
        };
        if !self.store.insert_function(&f)? {
            self.abandon(&f.code, pin);
            return Err(LambdaError::Conflict(format!("Function already exist: {}", f.name)));
        }
        if let Some(arn) = code_signing {
            self.bind_code_signing(&f, &arn)?;
        }
        let latest = self.remember(f);
        self.invoker.prepare(latest.clone());
        let mut view = match cmd.publish {
            true => (*self.publish_locked(&latest, None)?).clone(),
            false => (*latest).clone(),
        };
        // As on AWS, the function answered is the one being created: `Pending`, under a
        // revision of its own; the stored one is `Active` under the revision that follows.
        view.state = FunctionState::Pending;
        view.revision_id = new_revision();
        Ok(view)
    }

    /// GetFunction / GetFunctionConfiguration: the version the name and qualifier select,
    /// and the qualifier as given (which qualifies the ARN shown).
    pub fn get_function(
        &self,
        caller: &Caller,
        name: &str,
        qualifier: Option<&str>,
    ) -> Result<(Arc<Function>, Option<String>), LambdaError> {
        let (f, q) = self.resolve_version(caller, name, qualifier)?;
        Ok((self.shown(f), q))
    }

    /// A deployment package of a function or one of its versions, for `Code.Location`.
    pub fn function_code(&self, caller: &Caller, name: &str, sha256_hex: &str) -> Result<Vec<u8>, LambdaError> {
        let latest = self.resolve(caller, name, None)?;
        let in_use = latest.code.sha256_hex == sha256_hex
            || self.family(&latest).is_some_and(|f| f.versions.values().any(|v| v.code.sha256_hex == sha256_hex));
        if !in_use {
            return Err(not_found(caller, name, None));
        }
        Ok(self.code.get(sha256_hex)?)
    }

    /// ListFunctions; with `all_versions` (`FunctionVersion=ALL`), each function's
    /// published versions follow its `$LATEST`.
    pub fn list_functions(
        &self,
        caller: &Caller,
        marker: Option<&str>,
        max_items: Option<i64>,
        all_versions: bool,
    ) -> Result<FunctionPage, LambdaError> {
        let limit = versions::page_size(max_items, 10_000, limits::LIST_FUNCTIONS_PAGE_MAX)?;
        if all_versions {
            let latest = self.store.list_functions(&caller.account, &caller.region, None, i64::MAX as usize)?;
            let mut all = Vec::new();
            for f in latest {
                let f = Arc::new(f);
                let versions = self.family(&f).map(|fam| fam.versions.into_values().collect::<Vec<_>>());
                all.push(f);
                all.extend(versions.into_iter().flatten());
            }
            let key = |f: &Arc<Function>| format!("{}:{}", f.name, f.version_label());
            let (functions, next_marker) = versions::page(all, key, marker, limit);
            let functions = functions.into_iter().map(|f| self.shown(f)).collect();
            return Ok(FunctionPage { functions, next_marker });
        }
        let mut rows = self.store.list_functions(&caller.account, &caller.region, marker, limit + 1)?;
        let next_marker = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|f| f.name.clone())
        } else {
            None
        };
        Ok(FunctionPage { functions: rows.into_iter().map(|f| self.shown(Arc::new(f))).collect(), next_marker })
    }

    pub(crate) fn check_revision(f: &Function, revision: Option<&str>) -> Result<(), LambdaError> {
        match revision {
            Some(r) if r != f.revision_id => Err(LambdaError::PreconditionFailed(
                "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id".into(),
            )),
            _ => Ok(()),
        }
    }

    /// Stores `new` as `$LATEST` in place of `old`, under a new revision.
    pub(crate) fn replace(&self, old: &Function, mut new: Function) -> Result<Arc<Function>, LambdaError> {
        new.revision_id = new_revision();
        // Later than the newest version, even within its millisecond: PublishVersion tells
        // a change since that version by it.
        let newest = self.family(old).and_then(|f| f.versions.values().next_back().map(|v| v.last_modified_ms));
        new.last_modified_ms = now_ms().max(newest.map_or(0, |t| t + 1));
        if !self.store.update_function(&new)? {
            return Err(not_found(&Caller::new(&old.account, &old.region), &old.name, None));
        }
        Ok(self.remember(new))
    }

    /// Refuses a change of `$LATEST` while an update of it is being prepared.
    pub(crate) fn check_not_updating(&self, f: &Function) -> Result<(), LambdaError> {
        match self.cache.updating.read().contains_key(&key_of(f)) {
            true => Err(LambdaError::Conflict(format!(
                "The operation cannot be performed at this time. An update is in progress for resource: {}",
                f.arn()
            ))),
            false => Ok(()),
        }
    }

    /// Starts preparing `$LATEST` as just stored, `previous` being what it was (see
    /// [`Update`]), with `version` published from it. Answers the revision reads show
    /// until the update is done.
    pub(crate) fn begin_update(&self, previous: Arc<Function>, version: Option<u32>) -> String {
        let key = key_of(&previous);
        let shown_revision = new_revision();
        let Some(prepared) = self.cache.latest(&key) else { return shown_revision };
        let update = Update {
            previous,
            revision: prepared.revision_id.clone(),
            shown_revision: shown_revision.clone(),
            version,
        };
        self.cache.updating.write().insert(key, update);
        // A function that may not run (reserved concurrency 0) has nothing to prepare.
        let ready = (prepared.reserved_concurrency != Some(0)).then(|| self.invoker.warm_up(prepared.clone()));
        let service = self.clone();
        tokio::spawn(async move {
            if let Some(ready) = ready {
                ready.await;
            }
            service.finish_update(&prepared);
        });
        shown_revision
    }

    /// Ends the update that prepared `prepared`: invocations now run it, and what the
    /// function was before is let go.
    pub(crate) fn finish_update(&self, prepared: &Arc<Function>) {
        let _guard = self.writes.lock();
        let key = key_of(prepared);
        let update = {
            let mut updating = self.cache.updating.write();
            match updating.get(&key) {
                Some(u) if u.revision == prepared.revision_id => updating.remove(&key),
                _ => None,
            }
        };
        if self.cache.latest(&key).is_none_or(|now| now.revision_id != prepared.revision_id) {
            // Deleted or changed meanwhile: the environment prepared is of no use.
            self.invoker.retire(prepared);
        }
        let Some(update) = update else { return };
        self.invoker.retire(&update.previous);
        if update.previous.code.sha256_hex != prepared.code.sha256_hex {
            if let Err(e) = self.discard_if_unused(&update.previous.code) {
                tracing::warn!("removing an unused package: {e}");
            }
        }
    }

    /// `$LATEST` being updated, as the update answers: `InProgress`, under the revision
    /// reads show until it is done.
    pub(crate) fn in_progress(stored: &Function, shown_revision: String) -> Function {
        let mut view = stored.clone();
        view.last_update_status = LastUpdateStatus::InProgress;
        view.revision_id = shown_revision;
        view
    }

    /// UpdateFunctionCode. The returned view shows the update `InProgress`, as AWS answers.
    pub fn update_code(
        &self,
        caller: &Caller,
        name: &str,
        source: CodeSource,
        revision: Option<&str>,
        architectures: Option<Vec<String>>,
        publish: bool,
    ) -> Result<Function, LambdaError> {
        let (code, pin) = self.store_code(caller, source)?;
        let _guard = self.writes.lock();
        let result = (|| {
            let old = self.resolve(caller, name, None)?;
            self.check_not_updating(&old)?;
            Self::check_revision(&old, revision)?;
            self.check_code_signing(caller, &key_of(&old), None)?;
            let mut new = (*old).clone();
            if architectures.is_some() {
                new.config = FunctionPatch { architectures, ..Default::default() }.apply_to(new.config)?;
            }
            new.code = code.clone();
            let stored = self.replace(&old, new)?;
            if !publish {
                let shown = self.begin_update(old, None);
                return Ok(Self::in_progress(&stored, shown));
            }
            // The version answered is the one being created, as on AWS.
            let mut version = (*self.publish_locked(&stored, None)?).clone();
            self.begin_update(old, version.version);
            version.state = FunctionState::Pending;
            Ok(version)
        })();
        if result.is_err() {
            self.abandon(&code, pin);
        }
        result
    }

    /// Removes a package that no recorded function, version or layer uses, and that no
    /// command is storing right now (its pin).
    pub(crate) fn discard_if_unused(&self, code: &model::CodeInfo) -> Result<(), LambdaError> {
        let hex = &code.sha256_hex;
        self.code.remove_unused(hex, || self.store.code_in_use(hex).map_err(LambdaError::from))
    }

    /// After a command that stored `code` failed: lets go of its pin, and of the package
    /// if nothing else uses it.
    pub(crate) fn abandon(&self, code: &model::CodeInfo, pin: CodePin) {
        drop(pin);
        if let Err(e) = self.discard_if_unused(code) {
            tracing::warn!("removing an unused package: {e}");
        }
    }

    /// UpdateFunctionConfiguration.
    pub fn update_configuration(
        &self,
        caller: &Caller,
        name: &str,
        patch: FunctionPatch,
        revision: Option<&str>,
    ) -> Result<Function, LambdaError> {
        let _guard = self.writes.lock();
        let old = self.resolve(caller, name, None)?;
        self.check_not_updating(&old)?;
        Self::check_revision(&old, revision)?;
        let mut new = (*old).clone();
        let layer_arns = patch.layers.clone();
        new.config = patch.apply_to(new.config)?;
        if let Some(arns) = layer_arns {
            new.config.layers = self.resolve_layers(caller, &arns)?;
        }
        self.check_dead_letter(&new.config, &old.account)?;
        let stored = self.replace(&old, new)?;
        self.invoker.prepare(stored.clone());
        let shown = self.begin_update(old, None);
        Ok(Self::in_progress(&stored, shown))
    }

    /// DeleteFunction: the whole function, or (with a version qualifier) one version.
    pub fn delete_function(&self, caller: &Caller, name: &str, qualifier: Option<&str>) -> Result<(), LambdaError> {
        let _guard = self.writes.lock();
        let named = FunctionRef::parse(name, "functionName").ok().and_then(|r| r.qualifier);
        let given = qualifier.map(|q| Qualifier::parse(q).unwrap_or_else(|| Qualifier::Named(q.to_owned())));
        if let (Some(a), Some(b)) = (&named, &given) {
            if a != b {
                return Err(Invalid::parameter(
                    "The derived qualifier from the function name does not match the specified qualifier.",
                )
                .into());
            }
        }
        if named.or(given) == Some(Qualifier::Latest) {
            return Err(Invalid::parameter("$LATEST version cannot be deleted without deleting the function.").into());
        }
        // A function that does not exist is named without the version asked for.
        let (f, q) = self.resolve_ref(caller, name, qualifier).map_err(|e| match e {
            LambdaError::NotFound(m) if m.starts_with("Function not found: ") => {
                match FunctionRef::parse(name, "functionName") {
                    Ok(r) => not_found(caller, &r.name, None),
                    Err(_) => LambdaError::NotFound(m),
                }
            }
            e => e,
        })?;
        if let Some(Qualifier::Named(q)) = q {
            return self.delete_version(caller, &f, &q);
        }
        self.store.delete_function(&f.account, &f.region, &f.name)?;
        self.cache.functions.write().remove(&key_of(&f));
        let update = self.cache.updating.write().remove(&key_of(&f));
        self.cache.policies.write().retain(|(k, _), _| *k != key_of(&f));
        self.forget_urls_of(&key_of(&f));
        self.forget_code_signing(&key_of(&f))?;
        let family = self.cache.families.write().remove(&key_of(&f));
        self.invoker.retire_all(&f);
        let blobs = std::iter::once(f.code.sha256_hex.clone())
            .chain(update.map(|u| u.previous.code.sha256_hex.clone()))
            .chain(family.iter().flat_map(|fam| fam.versions.values().map(|v| v.code.sha256_hex.clone())));
        for hex in blobs.collect::<std::collections::BTreeSet<_>>() {
            self.code.remove_unused(&hex, || self.store.code_in_use(&hex).map_err(LambdaError::from))?;
        }
        self.cache.recount_reserved(&f.account);
        Ok(())
    }
}
