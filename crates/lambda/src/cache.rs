//! The in-memory view of every function: `$LATEST` of each, its versions, aliases and
//! provisioned configurations (`Family`), updates being prepared, each account's reserved
//! concurrency, resource policies and function URLs read so far. An invoke reads only
//! this; the control plane writes the store first and this second.

use super::*;

/// What a function has besides `$LATEST`.
#[derive(Default, Clone)]
pub(crate) struct Family {
    pub(crate) versions: BTreeMap<u32, Arc<Function>>,
    pub(crate) aliases: BTreeMap<String, Arc<Alias>>,
    /// Provisioned-concurrency configurations by qualifier (version number or alias).
    pub(crate) provisioned: BTreeMap<String, ProvisionedConfig>,
}

impl Family {
    /// The version an alias or version-number qualifier names now: for an invocation
    /// (`routed`), one of an alias's two versions chosen by their weights; otherwise the
    /// alias's own version, as the control plane shows it.
    pub(crate) fn pick(&self, latest: &Arc<Function>, qualifier: &str, routed: bool) -> Option<Arc<Function>> {
        let version = if model::is_version_number(qualifier) {
            qualifier.to_owned()
        } else {
            let alias = self.aliases.get(qualifier)?;
            match alias.routing {
                Some((extra, weight)) if routed && unit_random() < weight => extra.to_string(),
                _ => alias.function_version.clone(),
            }
        };
        if version == "$LATEST" {
            return Some(latest.clone());
        }
        self.versions.get(&version.parse().ok()?).cloned()
    }
}

/// A uniformly distributed number in [0, 1).
pub(crate) fn unit_random() -> f64 {
    (uuid::Uuid::new_v4().as_u64_pair().0 >> 11) as f64 / (1u64 << 53) as f64
}

/// An update of `$LATEST` being prepared. Its code and configuration are stored (a
/// restart finds the update done), and reads show them `InProgress` under the revision
/// the update answered with, while an environment is initialised with them; invocations
/// meanwhile run what the function was before, and another update is refused, as on AWS.
/// A version published with the update is `Pending` until it is done.
#[derive(Clone)]
pub(crate) struct Update {
    /// `$LATEST` as it was: what invocations run meanwhile.
    pub(crate) previous: Arc<Function>,
    /// The stored revision being prepared.
    pub(crate) revision: String,
    /// The revision reads show meanwhile (the update's answer's).
    pub(crate) shown_revision: String,
    /// The version published with the update, if any.
    pub(crate) version: Option<u32>,
}

pub(crate) struct Cache {
    pub(crate) functions: RwLock<HashMap<Key, Arc<Function>>>,
    /// Updates of `$LATEST` still being prepared, by function.
    pub(crate) updating: RwLock<HashMap<Key, Update>>,
    pub(crate) families: RwLock<HashMap<Key, Family>>,
    /// Concurrency reserved by the functions of each account.
    pub(crate) reserved: RwLock<HashMap<String, u32>>,
    /// Resource policies read so far, by function and qualifier (`""`: unqualified), so
    /// that the invokes they decide need not read the store.
    pub(crate) policies: RwLock<HashMap<(Key, String), Arc<policy::Policy>>>,
    /// Function URLs by URL id.
    pub(crate) urls: RwLock<HashMap<String, (Key, urls::UrlConfig)>>,
    pub(crate) limit: u32,
}

impl Cache {
    /// `$LATEST` (or a version) as the control plane shows it: `InProgress` while an update
    /// is being prepared, and a version published with it `Pending`.
    pub(crate) fn shown(&self, f: Arc<Function>) -> Arc<Function> {
        let updating = self.updating.read();
        let Some(update) = updating.get(&key_of(&f)) else { return f };
        let mut view = (*f).clone();
        match f.version {
            None if update.revision == f.revision_id => {
                view.last_update_status = LastUpdateStatus::InProgress;
                view.revision_id = update.shown_revision.clone();
            }
            Some(n) if update.version == Some(n) => view.state = FunctionState::Pending,
            _ => return f,
        }
        Arc::new(view)
    }

    /// What an invocation of `f` runs: while `$LATEST`'s update is being prepared, what it
    /// was before. A version published with the update cannot be invoked until it is
    /// ready (`Err`).
    pub(crate) fn running(&self, f: Arc<Function>) -> Result<Arc<Function>, Arc<Function>> {
        let updating = self.updating.read();
        let Some(update) = updating.get(&key_of(&f)) else { return Ok(f) };
        match f.version {
            None if update.revision == f.revision_id => Ok(update.previous.clone()),
            Some(n) if update.version == Some(n) => Err(f),
            _ => Ok(f),
        }
    }

    /// `$LATEST` of a function, as stored.
    pub(crate) fn latest(&self, key: &Key) -> Option<Arc<Function>> {
        self.functions.read().get(key).cloned()
    }

    /// The concurrency a synchronous invocation of `f` (under `qualifier`, as the caller
    /// named it) may use. Provisioned concurrency is taken from the function's
    /// reservation: a qualifier without a provisioned configuration of its own gets only
    /// what the configurations leave, and is throttled when they claim it all.
    pub(crate) fn sync_capacity(&self, f: &Function, qualifier: Option<&str>) -> Capacity {
        match self.capacity(f) {
            Capacity::Reserved(n) => {
                let families = self.families.read();
                let provisioned = families.get(&key_of(f)).map(|fam| &fam.provisioned);
                let own = qualifier.is_some_and(|q| provisioned.is_some_and(|p| p.contains_key(q)));
                let claimed: u32 = provisioned.map_or(0, |p| p.values().map(|c| c.requested).sum());
                Capacity::Reserved(if own { n } else { n.saturating_sub(claimed) })
            }
            unreserved => unreserved,
        }
    }

    pub(crate) fn reserved_in(&self, account: &str) -> u32 {
        self.reserved.read().get(account).copied().unwrap_or(0)
    }

    pub(crate) fn recount_reserved(&self, account: &str) {
        let sum: u32 = self
            .functions
            .read()
            .values()
            .filter(|f| f.account == account)
            .filter_map(|f| f.reserved_concurrency)
            .sum();
        self.reserved.write().insert(account.to_owned(), sum);
    }
}

impl Cache {
    /// The version `qualifier` names (a number or an alias, resolved now; `$LATEST` when
    /// `None`), as an event for it runs it, or `None` if it no longer exists.
    pub(crate) fn event_target(
        &self,
        account: &str,
        region: &str,
        name: &str,
        qualifier: Option<&str>,
    ) -> Option<Arc<Function>> {
        let key = Key::new(account, region, name);
        let latest = self.latest(&key)?;
        let f = match qualifier {
            None | Some("$LATEST") => latest,
            Some(q) => self.families.read().get(&key)?.pick(&latest, q, true)?,
        };
        // An event for a version still being prepared runs it as it is.
        Some(self.running(f).unwrap_or_else(|pending| pending))
    }

    /// The EventInvokeConfig of what `qualifier` names (`$LATEST` when `None`, a version,
    /// or an alias), if it has one.
    pub(crate) fn event_invoke(
        &self,
        account: &str,
        region: &str,
        name: &str,
        qualifier: Option<&str>,
    ) -> Option<EventInvokeConfig> {
        let key = Key::new(account, region, name);
        match qualifier {
            None | Some("$LATEST") => self.functions.read().get(&key)?.event_invoke.clone(),
            Some(q) => {
                let families = self.families.read();
                let family = families.get(&key)?;
                match q.parse::<u32>() {
                    Ok(n) => family.versions.get(&n)?.event_invoke.clone(),
                    Err(_) => family.aliases.get(q)?.event_invoke.clone(),
                }
            }
        }
    }

    /// The concurrency pool an invocation of `f` draws on.
    pub(crate) fn capacity(&self, f: &Function) -> Capacity {
        // A reservation belongs to the function; published versions share `$LATEST`'s.
        let reserved = match f.version {
            None => f.reserved_concurrency,
            Some(_) => self.functions.read().get(&key_of(f)).and_then(|latest| latest.reserved_concurrency),
        };
        match reserved {
            Some(n) => Capacity::Reserved(n),
            None => Capacity::Unreserved(self.limit.saturating_sub(self.reserved_in(&f.account))),
        }
    }
}
