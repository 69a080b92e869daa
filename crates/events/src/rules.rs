//! Rules and their targets: PutRule, DescribeRule, ListRules, Enable/DisableRule,
//! DeleteRule, PutTargets, RemoveTargets, ListTargetsByRule, ListRuleNamesByTarget, and the
//! tags of rules and buses.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use store::{Document, EventCommit, EventStore};

use crate::buses::{self, not_found};
use crate::pattern::Pattern;
use crate::schedule::Expression;
use crate::transform::{placeholders, JsonPath, PREDEFINED};
use crate::{kinds, BusKey, Caller, EventsError, EventsService, State, DEFAULT_BUS};

/// The most targets a rule may have.
pub const MAX_TARGETS: usize = 5;

/// A rule as stored and answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleRecord {
    /// Its name.
    pub name: String,
    /// Its account.
    pub account: String,
    /// Its region.
    pub region: String,
    /// Its bus's name.
    pub bus: String,
    /// Its event pattern (JSON text, as given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Its schedule expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    /// `ENABLED`, `DISABLED` or `ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS`.
    pub state: String,
    /// Its description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The role it names (stored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// The service managing it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed_by: Option<String>,
    /// Created, ms (a rate's ticks count from it).
    pub created_ms: i64,
    /// Last put, enabled or disabled, ms: a schedule's first tick is the one after it.
    #[serde(default)]
    pub modified_ms: i64,
    /// Its tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Its targets, in the order they were put.
    #[serde(default)]
    pub targets: Vec<Target>,
}

impl RuleRecord {
    /// Its ARN: `rule/<name>` on the default bus, `rule/<bus>/<name>` on another.
    pub fn arn(&self) -> String {
        if self.bus == DEFAULT_BUS {
            format!("arn:aws:events:{}:{}:rule/{}", self.region, self.account, self.name)
        } else {
            format!("arn:aws:events:{}:{}:rule/{}/{}", self.region, self.account, self.bus, self.name)
        }
    }

    pub(crate) fn id(&self) -> String {
        format!("{}/{}/{}/{}", self.account, self.region, self.bus, self.name)
    }

    /// Whether it is enabled.
    pub fn enabled(&self) -> bool {
        self.state != "DISABLED"
    }
}

/// A target of a rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Target {
    /// Its id, unique in the rule.
    pub id: String,
    /// What it reaches.
    pub arn: String,
    /// The role EventBridge would assume (stored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// A constant input (JSON text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// The part of the event to send.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_path: Option<String>,
    /// A template filled from the event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_transformer: Option<InputTransformer>,
    /// Its retry policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_policy: Option<RetryPolicy>,
    /// Its dead-letter queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dead_letter_arn: Option<String>,
    /// A FIFO queue's message group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_group_id: Option<String>,
    /// API Gateway's request parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpParameters>,
    /// Parameters of targets Lamina keeps but does not reach (ECS, Kinesis, Batch, …),
    /// answered back as given, as JSON text by member name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub other: BTreeMap<String, String>,
}

/// An input transformer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputTransformer {
    /// Placeholder names to JSON paths, in the order given.
    #[serde(default)]
    pub paths: Vec<(String, String)>,
    /// The template.
    pub template: String,
}

/// A target's retry policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0–185).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u32>,
    /// How old an event may grow while retried, seconds (60–86400).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age_s: Option<u32>,
}

/// API Gateway target parameters.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HttpParameters {
    /// Values for the path's wildcards, in order.
    #[serde(default)]
    pub path_values: Vec<String>,
    /// Headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Query string parameters.
    #[serde(default)]
    pub query: BTreeMap<String, String>,
}

/// A rule in memory: its record, and its pattern and schedule read.
#[derive(Debug)]
pub(crate) struct Rule {
    pub(crate) record: RuleRecord,
    pub(crate) pattern: Option<Pattern>,
    pub(crate) schedule: Option<Expression>,
}

impl Rule {
    fn read(record: RuleRecord) -> Result<Rule, EventsError> {
        let pattern = match &record.pattern {
            Some(p) => Some(Pattern::parse(p).map_err(|e| EventsError::InvalidPattern(e.to_string()))?),
            None => None,
        };
        let schedule = match &record.schedule {
            Some(s) => Some(Expression::parse(s, false).ok_or_else(invalid_schedule)?),
            None => None,
        };
        Ok(Rule { record, pattern, schedule })
    }
}

fn invalid_schedule() -> EventsError {
    EventsError::Validation("Parameter ScheduleExpression is not valid.".into())
}

fn document(r: &RuleRecord) -> Document {
    Document { kind: kinds::RULE.into(), id: r.id(), doc: serde_json::to_string(r).expect("a rule serialises") }
}

pub(crate) fn load(store: &EventStore, state: &mut State, now_ms: i64) -> Result<(), EventsError> {
    for d in store.documents(kinds::RULE)? {
        let record = match serde_json::from_str::<RuleRecord>(&d.doc) {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(id = %d.id, "events: an unreadable rule was skipped: {e}");
                continue;
            }
        };
        let key = BusKey::new(&record.account, &record.region, &record.bus);
        let name = record.name.clone();
        match (Rule::read(record), state.bus_mut(&key, now_ms)) {
            (Ok(rule), Some(bus)) => {
                bus.rules.insert(name, Arc::new(rule));
            }
            (Err(e), _) => tracing::error!(id = %d.id, "events: a rule that no longer reads was skipped: {e}"),
            (_, None) => tracing::error!(id = %d.id, "events: a rule of a missing bus was skipped"),
        }
    }
    for bus in state.buses.values_mut() {
        bus.reindex();
    }
    Ok(())
}

/// PutRule's input.
#[derive(Debug, Clone, Default)]
pub struct RuleInput {
    /// Its name.
    pub name: String,
    /// Its bus (name or ARN).
    pub bus: Option<String>,
    /// Its pattern.
    pub pattern: Option<String>,
    /// Its schedule.
    pub schedule: Option<String>,
    /// `ENABLED` unless given.
    pub state: Option<String>,
    /// Its description.
    pub description: Option<String>,
    /// Its role.
    pub role_arn: Option<String>,
    /// Tags (only set on creation, as AWS does).
    pub tags: BTreeMap<String, String>,
}

fn rule_not_found(name: &str, bus: &str) -> EventsError {
    EventsError::NotFound(format!("Rule {name} does not exist on EventBus {bus}."))
}

/// A target's whole description, checked.
fn check_target(t: &Target) -> Result<(), EventsError> {
    let given = [t.input.is_some(), t.input_path.is_some(), t.input_transformer.is_some()];
    if given.iter().filter(|g| **g).count() > 1 {
        return Err(EventsError::Validation(format!(
            "Only one of Input, InputPath, or InputTransformer must be provided for target {}.",
            t.id
        )));
    }
    if let Some(input) = &t.input {
        if serde_json::from_str::<serde_json::Value>(input).is_err() {
            return Err(EventsError::Validation(format!("Input for target {} is not valid JSON text.", t.id)));
        }
    }
    if let Some(path) = &t.input_path {
        if JsonPath::parse(path).is_none() {
            return Err(EventsError::Validation(format!("InputPath for target {} is invalid.", t.id)));
        }
    }
    if let Some(tr) = &t.input_transformer {
        if tr.paths.len() > 100 {
            return Err(EventsError::Validation(format!(
                "InputPathsMap for target {} has more than 100 entries.",
                t.id
            )));
        }
        for (name, path) in &tr.paths {
            if name.starts_with("aws.") {
                return Err(EventsError::Validation(format!(
                    "InputTransformer for target {} contains a reserved key {name}.",
                    t.id
                )));
            }
            if JsonPath::parse(path).is_none() {
                return Err(EventsError::Validation(format!(
                    "Target {} has an invalid InputPathsMap value {path}.",
                    t.id
                )));
            }
        }
        for p in placeholders(&tr.template) {
            if !PREDEFINED.contains(&p) && !tr.paths.iter().any(|(n, _)| n == p) {
                return Err(EventsError::Validation(format!(
                    "InputTemplate for target {} contains invalid placeholder {p}.",
                    t.id
                )));
            }
        }
    }
    if let Some(r) = t.retry_policy {
        if r.max_attempts.is_some_and(|n| n > 185) || r.max_age_s.is_some_and(|s| !(60..=86_400).contains(&s)) {
            return Err(EventsError::Validation(format!("RetryPolicy for target {} is not valid.", t.id)));
        }
    }
    if t.arn.starts_with("arn:aws:sqs:") && t.arn.ends_with(".fifo") && t.message_group_id.is_none() {
        return Err(EventsError::Validation(format!(
            "Parameter(s) SqsParameters must be specified for target: {}.",
            t.id
        )));
    }
    Ok(())
}

/// A failed entry of PutTargets or RemoveTargets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedTarget {
    /// The target's id.
    pub id: String,
    /// The error code.
    pub code: String,
    /// The message.
    pub message: String,
}

impl EventsService {
    fn rule_key(&self, caller: &Caller, bus: Option<&str>) -> BusKey {
        buses::resolve(caller, bus)
    }

    /// Runs `f` on the rule's bus, made if it is the default one.
    fn on_bus<T>(
        &self,
        key: &BusKey,
        f: impl FnOnce(&mut crate::buses::Bus) -> Result<T, EventsError>,
    ) -> Result<T, EventsError> {
        let now = self.inner.clock.now_ms();
        let mut state = self.inner.state.write();
        let bus = state.bus_mut(key, now).ok_or_else(|| not_found(&key.name))?;
        f(bus)
    }

    /// Writes a rule and puts it in its bus.
    fn save_rule(&self, bus: &mut crate::buses::Bus, record: RuleRecord) -> Result<(), EventsError> {
        let rule = Rule::read(record)?;
        self.write(EventCommit { put: vec![document(&rule.record)], ..Default::default() })?;
        let scheduled = rule.schedule.is_some();
        bus.rules.insert(rule.record.name.clone(), Arc::new(rule));
        bus.reindex();
        if scheduled {
            self.inner.schedules_changed.notify_one();
        }
        Ok(())
    }

    /// PutRule: creates or updates a rule; its ARN.
    pub fn put_rule(&self, caller: &Caller, input: RuleInput) -> Result<String, EventsError> {
        let key = self.rule_key(caller, input.bus.as_deref());
        if input.pattern.is_none() && input.schedule.is_none() {
            return Err(EventsError::Validation(
                "Parameter(s) EventPattern or ScheduleExpression must be specified.".into(),
            ));
        }
        if input.schedule.is_some() && key.name != DEFAULT_BUS {
            return Err(EventsError::Validation(
                "ScheduleExpression is supported only on the default event bus.".into(),
            ));
        }
        if let Some(p) = &input.pattern {
            Pattern::parse(p).map_err(|e| EventsError::InvalidPattern(e.to_string()))?;
        }
        if let Some(s) = &input.schedule {
            Expression::parse(s, false).ok_or_else(invalid_schedule)?;
        }
        let now = self.inner.clock.now_ms();
        self.on_bus(&key, |bus| {
            let existing = bus.rules.get(&input.name).map(|r| r.record.clone());
            if let Some(managed) = existing.as_ref().and_then(|r| r.managed_by.clone()) {
                return Err(EventsError::ManagedRule(format!(
                    "Rule {} is managed by {managed} and cannot be changed.",
                    input.name
                )));
            }
            let record = RuleRecord {
                name: input.name.clone(),
                account: key.account.clone(),
                region: key.region.clone(),
                bus: key.name.clone(),
                pattern: input.pattern,
                schedule: input.schedule,
                state: input.state.unwrap_or_else(|| "ENABLED".into()),
                description: input.description,
                role_arn: input.role_arn,
                managed_by: None,
                // A rate keeps counting from the rule's creation.
                created_ms: existing.as_ref().map_or(now, |r| r.created_ms),
                modified_ms: now,
                tags: existing.as_ref().map_or(input.tags, |r| r.tags.clone()),
                targets: existing.map(|r| r.targets).unwrap_or_default(),
            };
            let arn = record.arn();
            self.save_rule(bus, record)?;
            Ok(arn)
        })
    }

    /// DescribeRule.
    pub fn describe_rule(&self, caller: &Caller, name: &str, bus: Option<&str>) -> Result<RuleRecord, EventsError> {
        let key = self.rule_key(caller, bus);
        self.on_bus(&key, |bus| {
            bus.rules.get(name).map(|r| r.record.clone()).ok_or_else(|| rule_not_found(name, &key.name))
        })
    }

    /// ListRules: the bus's rules by name, those starting with `prefix`.
    pub fn list_rules(
        &self,
        caller: &Caller,
        bus: Option<&str>,
        prefix: Option<&str>,
    ) -> Result<Vec<RuleRecord>, EventsError> {
        let key = self.rule_key(caller, bus);
        self.on_bus(&key, |bus| {
            Ok(bus
                .rules
                .values()
                .filter(|r| prefix.is_none_or(|p| r.record.name.starts_with(p)))
                .map(|r| r.record.clone())
                .collect())
        })
    }

    /// EnableRule and DisableRule.
    pub fn set_rule_state(&self, caller: &Caller, name: &str, bus: Option<&str>, on: bool) -> Result<(), EventsError> {
        let key = self.rule_key(caller, bus);
        self.on_bus(&key, |bus| {
            let mut record =
                bus.rules.get(name).map(|r| r.record.clone()).ok_or_else(|| rule_not_found(name, &key.name))?;
            record.state = if on { "ENABLED".into() } else { "DISABLED".into() };
            record.modified_ms = self.inner.clock.now_ms();
            self.save_rule(bus, record)
        })
    }

    /// DeleteRule: refused while it has targets; deleting a missing rule is not an error.
    pub fn delete_rule(&self, caller: &Caller, name: &str, bus: Option<&str>) -> Result<(), EventsError> {
        let key = self.rule_key(caller, bus);
        self.on_bus(&key, |bus| {
            let Some(rule) = bus.rules.get(name) else { return Ok(()) };
            if !rule.record.targets.is_empty() {
                return Err(EventsError::Validation("Rule can't be deleted since it has targets.".into()));
            }
            self.write(EventCommit { delete: vec![(kinds::RULE.into(), rule.record.id())], ..Default::default() })?;
            bus.rules.remove(name);
            bus.reindex();
            self.inner.schedules_changed.notify_one();
            Ok(())
        })
    }

    /// PutTargets: adds or replaces targets by id; the entries that failed.
    pub fn put_targets(
        &self,
        caller: &Caller,
        rule: &str,
        bus: Option<&str>,
        targets: Vec<Target>,
    ) -> Result<Vec<FailedTarget>, EventsError> {
        for t in &targets {
            check_target(t)?;
        }
        let key = self.rule_key(caller, bus);
        self.on_bus(&key, |bus| {
            let mut record =
                bus.rules.get(rule).map(|r| r.record.clone()).ok_or_else(|| rule_not_found(rule, &key.name))?;
            for t in targets {
                match record.targets.iter_mut().find(|e| e.id == t.id) {
                    Some(existing) => *existing = t,
                    None => record.targets.push(t),
                }
            }
            if record.targets.len() > MAX_TARGETS {
                return Err(EventsError::LimitExceeded(
                    "The requested resource exceeds the maximum number allowed.".into(),
                ));
            }
            self.save_rule(bus, record)?;
            Ok(Vec::new())
        })
    }

    /// RemoveTargets: the ids that were not there fail.
    pub fn remove_targets(
        &self,
        caller: &Caller,
        rule: &str,
        bus: Option<&str>,
        ids: &[String],
    ) -> Result<Vec<FailedTarget>, EventsError> {
        let key = self.rule_key(caller, bus);
        self.on_bus(&key, |bus| {
            let mut record =
                bus.rules.get(rule).map(|r| r.record.clone()).ok_or_else(|| rule_not_found(rule, &key.name))?;
            let mut failed = Vec::new();
            for id in ids {
                let before = record.targets.len();
                record.targets.retain(|t| &t.id != id);
                if record.targets.len() == before {
                    failed.push(FailedTarget {
                        id: id.clone(),
                        code: "ResourceNotFoundException".into(),
                        message: format!("Target {id} does not exist on rule {rule}."),
                    });
                }
            }
            self.save_rule(bus, record)?;
            Ok(failed)
        })
    }

    /// ListTargetsByRule.
    pub fn list_targets(&self, caller: &Caller, rule: &str, bus: Option<&str>) -> Result<Vec<Target>, EventsError> {
        Ok(self.describe_rule(caller, rule, bus)?.targets)
    }

    /// ListRuleNamesByTarget: the bus's rules with a target of that ARN, by name.
    pub fn rules_by_target(&self, caller: &Caller, arn: &str, bus: Option<&str>) -> Result<Vec<String>, EventsError> {
        let key = self.rule_key(caller, bus);
        self.on_bus(&key, |bus| {
            Ok(bus
                .rules
                .values()
                .filter(|r| r.record.targets.iter().any(|t| t.arn == arn))
                .map(|r| r.record.name.clone())
                .collect())
        })
    }

    /// The tags of a rule or bus, by ARN.
    pub fn tags(&self, caller: &Caller, arn: &str) -> Result<BTreeMap<String, String>, EventsError> {
        self.with_tags(caller, arn, |_| false)
    }

    /// TagResource and UntagResource.
    pub fn change_tags(
        &self,
        caller: &Caller,
        arn: &str,
        add: BTreeMap<String, String>,
        remove: &[String],
    ) -> Result<(), EventsError> {
        self.with_tags(caller, arn, |tags| {
            tags.extend(add);
            for k in remove {
                tags.remove(k);
            }
            true
        })
        .map(drop)
    }

    fn with_tags(
        &self,
        caller: &Caller,
        arn: &str,
        change: impl FnOnce(&mut BTreeMap<String, String>) -> bool,
    ) -> Result<BTreeMap<String, String>, EventsError> {
        let missing = || EventsError::NotFound(format!("Resource {arn} does not exist."));
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let ["arn", _, "events", region, account, resource] = parts.as_slice() else { return Err(missing()) };
        if *account != caller.account {
            return Err(missing());
        }
        if let Some(name) = resource.strip_prefix("event-bus/") {
            let key = BusKey::new(account, region, name);
            let now = self.inner.clock.now_ms();
            let mut state = self.inner.state.write();
            let bus = state.bus_mut(&key, now).ok_or_else(|| not_found(name))?;
            let mut record = bus.record.clone();
            if change(&mut record.tags) {
                self.write(EventCommit { put: vec![buses::document(&record)], ..Default::default() })?;
                bus.record = record.clone();
                bus.stored = true;
            }
            return Ok(record.tags);
        }
        let Some(path) = resource.strip_prefix("rule/") else { return Err(missing()) };
        let (bus_name, rule) = path.split_once('/').unwrap_or((DEFAULT_BUS, path));
        let key = BusKey::new(account, region, bus_name);
        let now = self.inner.clock.now_ms();
        let mut state = self.inner.state.write();
        let bus = state.bus_mut(&key, now).ok_or_else(|| rule_not_found(rule, bus_name))?;
        let mut record = bus.rules.get(rule).map(|r| r.record.clone()).ok_or_else(|| rule_not_found(rule, bus_name))?;
        if change(&mut record.tags) {
            let tags = record.tags.clone();
            self.save_rule(bus, record)?;
            return Ok(tags);
        }
        Ok(record.tags)
    }
}
