//! API keys and usage plans: their control plane, and the check every request to a method
//! that requires a key goes through (the key is known and enabled, a usage plan covers
//! this API and stage, and the plan's throttle and quota allow it).

use std::collections::BTreeMap;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::patch::Op;
use crate::rest::{page, Page};
use crate::throttle::Period;
use crate::{new_id, now_secs, Caller, GatewayError, GatewayService, PatchOperation};

pub(crate) const KEY_KIND: &str = "apikey";
pub(crate) const PLAN_KIND: &str = "usageplan";

/// An API key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiKey {
    /// `id`.
    pub id: String,
    /// The owning account.
    pub account: String,
    /// Its region.
    pub region: String,
    /// `value`: what callers send in `x-api-key`.
    pub value: String,
    /// `name`.
    pub name: String,
    /// `description`.
    pub description: Option<String>,
    /// `customerId`.
    pub customer_id: Option<String>,
    /// `enabled`.
    pub enabled: bool,
    /// `createdDate`.
    pub created: i64,
    /// `lastUpdatedDate`.
    pub last_updated: i64,
    /// `stageKeys`.
    pub stage_keys: Vec<String>,
    /// `tags`.
    pub tags: BTreeMap<String, String>,
}

/// A throttle: steady rate and burst.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Throttle {
    /// `burstLimit`.
    pub burst_limit: i64,
    /// `rateLimit`.
    pub rate_limit: f64,
}

/// A quota.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Quota {
    /// `limit`: requests per period.
    pub limit: i64,
    /// `offset`.
    pub offset: i64,
    /// `period`: `DAY`, `WEEK` or `MONTH`.
    pub period: String,
}

/// An API stage a usage plan covers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ApiStage {
    /// `apiId`.
    pub api_id: String,
    /// `stage`.
    pub stage: String,
    /// `throttle`, per `{resource path}/{method}`.
    pub throttle: BTreeMap<String, Throttle>,
}

/// A usage plan.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UsagePlan {
    /// `id`.
    pub id: String,
    /// The owning account.
    pub account: String,
    /// Its region.
    pub region: String,
    /// `name`.
    pub name: String,
    /// `description`.
    pub description: Option<String>,
    /// `apiStages`.
    pub api_stages: Vec<ApiStage>,
    /// `throttle`, per key.
    pub throttle: Option<Throttle>,
    /// `quota`, per key.
    pub quota: Option<Quota>,
    /// `productCode`.
    pub product_code: Option<String>,
    /// `tags`.
    pub tags: BTreeMap<String, String>,
    /// The ids of its keys.
    pub keys: Vec<String>,
}

/// CreateApiKey's fields.
#[derive(Debug, Clone, Default)]
pub struct ApiKeyInput {
    /// `name`.
    pub name: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `enabled`.
    pub enabled: bool,
    /// `value`: generated when not given.
    pub value: Option<String>,
    /// `customerId`.
    pub customer_id: Option<String>,
    /// `stageKeys`.
    pub stage_keys: Vec<String>,
    /// `tags`.
    pub tags: BTreeMap<String, String>,
}

/// Why a request with (or without) an API key is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// 403 `Forbidden`: no key, an unknown or disabled key, or no plan for this stage.
    Forbidden,
    /// 429 `Too Many Requests`: over the plan's throttle.
    Throttled,
    /// 429 `Limit Exceeded`: over the plan's quota.
    QuotaExceeded,
}

fn check_throttle(t: &Throttle) -> Result<(), GatewayError> {
    if t.burst_limit < 0 || t.rate_limit < 0.0 || !t.rate_limit.is_finite() {
        return Err(GatewayError::BadRequest("Throttle limits must be non-negative".into()));
    }
    Ok(())
}

fn check_quota(q: &Quota) -> Result<(), GatewayError> {
    if Period::parse(&q.period).is_none() {
        return Err(GatewayError::BadRequest(format!(
            "Invalid quota period: {}. Valid values are DAY, WEEK, MONTH",
            q.period
        )));
    }
    if q.limit < 0 {
        return Err(GatewayError::BadRequest("Quota limit must be non-negative".into()));
    }
    Ok(())
}

impl GatewayService {
    pub(crate) fn mine<'a, T>(
        &self,
        caller: &Caller,
        item: Option<&'a T>,
        owner: impl Fn(&T) -> (&str, &str),
    ) -> Option<&'a T> {
        item.filter(|i| owner(i) == (caller.account.as_str(), caller.region.as_str()))
    }

    /// CreateApiKey.
    pub fn create_api_key(&self, caller: &Caller, input: ApiKeyInput) -> Result<ApiKey, GatewayError> {
        let value = input.value.unwrap_or_else(|| new_id(40));
        if value.len() < 20 {
            return Err(GatewayError::BadRequest("API Key value should be at least 20 characters".into()));
        }
        let mut state = self.write();
        if state.keys.values().any(|k| k.value == value && k.account == caller.account && k.region == caller.region) {
            return Err(GatewayError::Conflict("API Key already exists".into()));
        }
        let now = now_secs();
        let key = ApiKey {
            id: new_id(10),
            account: caller.account.clone(),
            region: caller.region.clone(),
            value,
            name: input.name.unwrap_or_default(),
            description: input.description,
            customer_id: input.customer_id,
            enabled: input.enabled,
            created: now,
            last_updated: now,
            stage_keys: input.stage_keys,
            tags: input.tags,
        };
        self.save(KEY_KIND, &key.id, &key)?;
        state.keys.insert(key.id.clone(), key.clone());
        Ok(key)
    }

    /// GetApiKey.
    pub fn api_key(&self, caller: &Caller, id: &str) -> Result<ApiKey, GatewayError> {
        let state = self.read();
        self.mine(caller, state.keys.get(id), |k| (&k.account, &k.region)).cloned().ok_or_else(no_key)
    }

    /// GetApiKeys, by name.
    pub fn api_keys(
        &self,
        caller: &Caller,
        name: Option<&str>,
        position: Option<&str>,
        limit: Option<i64>,
    ) -> Result<Page<ApiKey>, GatewayError> {
        let state = self.read();
        let mut keys: Vec<ApiKey> = state
            .keys
            .values()
            .filter(|k| k.account == caller.account && k.region == caller.region)
            .filter(|k| name.is_none_or(|n| k.name.starts_with(n)))
            .cloned()
            .collect();
        keys.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
        page(keys, position, limit)
    }

    /// UpdateApiKey.
    pub fn update_api_key(&self, caller: &Caller, id: &str, patch: &[PatchOperation]) -> Result<ApiKey, GatewayError> {
        let mut state = self.write();
        let mut key = self.mine(caller, state.keys.get(id), |k| (&k.account, &k.region)).cloned().ok_or_else(no_key)?;
        for p in patch {
            match (p.kind()?, p.path.as_str()) {
                (Op::Replace, "/name") => key.name = p.value()?.to_owned(),
                (Op::Replace, "/description") => key.description = p.value.clone(),
                (Op::Replace, "/enabled") => key.enabled = p.bool_value()?,
                (Op::Replace, "/customerId") => key.customer_id = p.value.clone(),
                _ => return Err(p.unsupported()),
            }
        }
        key.last_updated = now_secs();
        self.save(KEY_KIND, id, &key)?;
        state.keys.insert(id.to_owned(), key.clone());
        Ok(key)
    }

    /// DeleteApiKey: also takes it out of every usage plan.
    pub fn delete_api_key(&self, caller: &Caller, id: &str) -> Result<(), GatewayError> {
        let mut state = self.write();
        self.mine(caller, state.keys.get(id), |k| (&k.account, &k.region)).ok_or_else(no_key)?;
        let plans: Vec<UsagePlan> = state.plans.values().filter(|p| p.keys.iter().any(|k| k == id)).cloned().collect();
        for mut plan in plans {
            plan.keys.retain(|k| k != id);
            self.save(PLAN_KIND, &plan.id, &plan)?;
            state.plans.insert(plan.id.clone(), plan);
        }
        self.inner.store.delete_document(KEY_KIND, id)?;
        state.keys.remove(id);
        Ok(())
    }

    fn check_api_stages(&self, caller: &Caller, stages: &[ApiStage]) -> Result<(), GatewayError> {
        let state = self.read();
        for s in stages {
            let mine = |account: &str, region: &str| account == caller.account && region == caller.region;
            // A REST API's stage, or a WebSocket API's (whose `$connect` may want a key).
            let has_stage = match (state.rest.get(&s.api_id), state.http.get(&s.api_id)) {
                (Some(a), _) if mine(&a.account, &a.region) => a.stages.contains_key(&s.stage),
                (_, Some(a))
                    if mine(&a.account, &a.region) && a.protocol_type == crate::v2::ProtocolType::WebSocket =>
                {
                    a.stages.contains_key(&s.stage)
                }
                _ => {
                    return Err(GatewayError::NotFound(format!(
                        "Invalid API identifier specified {}:{}",
                        caller.account, s.api_id
                    )))
                }
            };
            if !has_stage {
                return Err(GatewayError::NotFound(format!("Invalid stage identifier specified {}", s.stage)));
            }
        }
        Ok(())
    }

    /// CreateUsagePlan.
    #[allow(clippy::too_many_arguments)]
    pub fn create_usage_plan(
        &self,
        caller: &Caller,
        name: String,
        description: Option<String>,
        api_stages: Vec<ApiStage>,
        throttle: Option<Throttle>,
        quota: Option<Quota>,
        tags: BTreeMap<String, String>,
    ) -> Result<UsagePlan, GatewayError> {
        if name.trim().is_empty() {
            return Err(GatewayError::BadRequest("Usage plan name is required".into()));
        }
        throttle.as_ref().map(check_throttle).transpose()?;
        quota.as_ref().map(check_quota).transpose()?;
        self.check_api_stages(caller, &api_stages)?;
        let plan = UsagePlan {
            id: new_id(6),
            account: caller.account.clone(),
            region: caller.region.clone(),
            name,
            description,
            api_stages,
            throttle,
            quota,
            product_code: None,
            tags,
            keys: Vec::new(),
        };
        let mut state = self.write();
        self.save(PLAN_KIND, &plan.id, &plan)?;
        state.plans.insert(plan.id.clone(), plan.clone());
        Ok(plan)
    }

    /// GetUsagePlan.
    pub fn usage_plan(&self, caller: &Caller, id: &str) -> Result<UsagePlan, GatewayError> {
        let state = self.read();
        self.mine(caller, state.plans.get(id), |p| (&p.account, &p.region)).cloned().ok_or_else(no_plan)
    }

    /// GetUsagePlans, optionally those holding `key_id`.
    pub fn usage_plans(
        &self,
        caller: &Caller,
        key_id: Option<&str>,
        position: Option<&str>,
        limit: Option<i64>,
    ) -> Result<Page<UsagePlan>, GatewayError> {
        let state = self.read();
        let mut plans: Vec<UsagePlan> = state
            .plans
            .values()
            .filter(|p| p.account == caller.account && p.region == caller.region)
            .filter(|p| key_id.is_none_or(|k| p.keys.iter().any(|x| x == k)))
            .cloned()
            .collect();
        plans.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
        page(plans, position, limit)
    }

    /// UpdateUsagePlan.
    pub fn update_usage_plan(
        &self,
        caller: &Caller,
        id: &str,
        patch: &[PatchOperation],
    ) -> Result<UsagePlan, GatewayError> {
        let mut plan = self.usage_plan(caller, id)?;
        for p in patch {
            let number = || p.value()?.parse::<f64>().map_err(|_| p.unsupported());
            match (p.kind()?, p.path.as_str()) {
                (Op::Replace, "/name") => plan.name = p.value()?.to_owned(),
                (Op::Replace, "/description") => plan.description = p.value.clone(),
                (Op::Replace, "/productCode") => plan.product_code = p.value.clone(),
                (Op::Replace | Op::Add, "/throttle/rateLimit") => {
                    plan.throttle.get_or_insert_with(Throttle::default).rate_limit = number()?
                }
                (Op::Replace | Op::Add, "/throttle/burstLimit") => {
                    plan.throttle.get_or_insert_with(Throttle::default).burst_limit = number()? as i64
                }
                (Op::Remove, "/throttle") => plan.throttle = None,
                (Op::Replace | Op::Add, "/quota/limit") => {
                    plan.quota.get_or_insert_with(|| Quota { period: "DAY".into(), ..Default::default() }).limit =
                        number()? as i64
                }
                (Op::Replace | Op::Add, "/quota/period") => {
                    plan.quota.get_or_insert_with(Quota::default).period = p.value()?.to_owned()
                }
                (Op::Replace | Op::Add, "/quota/offset") => {
                    plan.quota.get_or_insert_with(Quota::default).offset = number()? as i64
                }
                (Op::Remove, "/quota") => plan.quota = None,
                (Op::Add, "/apiStages") => {
                    let (api_id, stage) = p.value()?.split_once(':').ok_or_else(|| p.unsupported())?;
                    let s = ApiStage { api_id: api_id.into(), stage: stage.into(), ..Default::default() };
                    self.check_api_stages(caller, std::slice::from_ref(&s))?;
                    if !plan.api_stages.iter().any(|x| x.api_id == s.api_id && x.stage == s.stage) {
                        plan.api_stages.push(s);
                    }
                }
                (Op::Remove, "/apiStages") => {
                    let (api_id, stage) = p.value()?.split_once(':').ok_or_else(|| p.unsupported())?;
                    plan.api_stages.retain(|x| !(x.api_id == api_id && x.stage == stage));
                }
                _ => return Err(p.unsupported()),
            }
        }
        plan.throttle.as_ref().map(check_throttle).transpose()?;
        plan.quota.as_ref().map(check_quota).transpose()?;
        let mut state = self.write();
        self.save(PLAN_KIND, id, &plan)?;
        state.plans.insert(id.to_owned(), plan.clone());
        Ok(plan)
    }

    /// DeleteUsagePlan.
    pub fn delete_usage_plan(&self, caller: &Caller, id: &str) -> Result<(), GatewayError> {
        self.usage_plan(caller, id)?;
        let mut state = self.write();
        self.inner.store.delete_document(PLAN_KIND, id)?;
        state.plans.remove(id);
        Ok(())
    }

    /// CreateUsagePlanKey: puts a key in a plan; returns the key.
    pub fn create_usage_plan_key(
        &self,
        caller: &Caller,
        plan: &str,
        key_id: &str,
        key_type: &str,
    ) -> Result<ApiKey, GatewayError> {
        if key_type != "API_KEY" {
            return Err(GatewayError::BadRequest(format!("Invalid key type specified: {key_type}")));
        }
        let key = self.api_key(caller, key_id)?;
        let mut p = self.usage_plan(caller, plan)?;
        if p.keys.iter().any(|k| k == key_id) {
            return Err(GatewayError::Conflict("Usage Plan already contains this API key".into()));
        }
        p.keys.push(key_id.to_owned());
        let mut state = self.write();
        self.save(PLAN_KIND, plan, &p)?;
        state.plans.insert(plan.to_owned(), p);
        Ok(key)
    }

    /// GetUsagePlanKeys.
    pub fn usage_plan_keys(&self, caller: &Caller, plan: &str) -> Result<Vec<ApiKey>, GatewayError> {
        let p = self.usage_plan(caller, plan)?;
        let state = self.read();
        Ok(p.keys.iter().filter_map(|k| state.keys.get(k).cloned()).collect())
    }

    /// GetUsagePlanKey.
    pub fn usage_plan_key(&self, caller: &Caller, plan: &str, key_id: &str) -> Result<ApiKey, GatewayError> {
        self.usage_plan_keys(caller, plan)?
            .into_iter()
            .find(|k| k.id == key_id)
            .ok_or_else(|| GatewayError::NotFound("Invalid Usage Plan Key identifier specified".into()))
    }

    /// DeleteUsagePlanKey.
    pub fn delete_usage_plan_key(&self, caller: &Caller, plan: &str, key_id: &str) -> Result<(), GatewayError> {
        let mut p = self.usage_plan(caller, plan)?;
        if !p.keys.iter().any(|k| k == key_id) {
            return Err(GatewayError::NotFound("Invalid Usage Plan Key identifier specified".into()));
        }
        p.keys.retain(|k| k != key_id);
        let mut state = self.write();
        self.save(PLAN_KIND, plan, &p)?;
        state.plans.insert(plan.to_owned(), p);
        Ok(())
    }

    /// GetUsage: each key's requests used and remaining in the current quota period.
    pub fn usage(
        &self,
        caller: &Caller,
        plan: &str,
        key_id: Option<&str>,
    ) -> Result<BTreeMap<String, (u64, u64)>, GatewayError> {
        let p = self.usage_plan(caller, plan)?;
        let now = model::clock::now_ms();
        let mut out = BTreeMap::new();
        for k in p.keys.iter().filter(|k| key_id.is_none_or(|id| id == k.as_str())) {
            let (used, remaining) = match p.quota.as_ref().and_then(|q| Some((q, Period::parse(&q.period)?))) {
                Some((q, period)) => {
                    let used = self.inner.quotas.used(&p.id, k, period, now);
                    (used, (q.limit.max(0) as u64).saturating_sub(used))
                }
                None => (0, 0),
            };
            out.insert(k.clone(), (used, remaining));
        }
        Ok(out)
    }

    /// The API-key check of a request to a method that requires one: returns the key's
    /// value and id.
    pub fn admit_key(
        &self,
        api_id: &str,
        stage: &str,
        method_key: &str,
        value: Option<&str>,
    ) -> Result<(String, String), Refusal> {
        let value = value.filter(|v| !v.is_empty()).ok_or(Refusal::Forbidden)?;
        let (key, plan) = {
            let state = self.read();
            let key = state.keys.values().find(|k| k.value == value && k.enabled).ok_or(Refusal::Forbidden)?;
            let plan = state
                .plans
                .values()
                .find(|p| {
                    p.keys.contains(&key.id) && p.api_stages.iter().any(|s| s.api_id == api_id && s.stage == stage)
                })
                .ok_or(Refusal::Forbidden)?;
            (key.clone(), plan.clone())
        };
        let stage_throttle = plan
            .api_stages
            .iter()
            .find(|s| s.api_id == api_id && s.stage == stage)
            .and_then(|s| s.throttle.get(method_key));
        for (scope, t) in [("plan", plan.throttle.as_ref()), ("method", stage_throttle)] {
            if let Some(t) = t {
                let bucket = format!("key:{}:{}:{scope}:{method_key}", plan.id, key.id);
                if !self.inner.buckets.allow(&bucket, t.rate_limit, t.burst_limit as f64, Instant::now()) {
                    return Err(Refusal::Throttled);
                }
            }
        }
        if let Some((q, period)) = plan.quota.as_ref().and_then(|q| Some((q, Period::parse(&q.period)?))) {
            if !self.inner.quotas.take(&plan.id, &key.id, q.limit.max(0) as u64, period, model::clock::now_ms()) {
                return Err(Refusal::QuotaExceeded);
            }
        }
        Ok((key.value, key.id))
    }
}

fn no_key() -> GatewayError {
    GatewayError::NotFound("Invalid API Key identifier specified".into())
}

fn no_plan() -> GatewayError {
    GatewayError::NotFound("Invalid Usage Plan ID specified".into())
}
