//! Event buses: each account's `default` bus (made when first named) and custom ones,
//! their resource policies (PutPermission, RemovePermission) and tags.

use std::collections::BTreeMap;
use std::sync::Arc;

use iam::resource_policy::{Requester, ResourcePolicy};
use serde_json::{json, Value};
use store::{Document, EventCommit, EventStore};

use crate::rules::Rule;
use crate::{kinds, BusKey, BusRecord, Caller, EventsError, EventsService, State, DEFAULT_BUS};

/// A bus in memory: its record, its rules by name, and the index PutEvents matches with.
pub(crate) struct Bus {
    pub(crate) record: BusRecord,
    /// Whether the record is in the store (a default bus is stored once it changes).
    pub(crate) stored: bool,
    pub(crate) rules: BTreeMap<String, Arc<Rule>>,
    pub(crate) index: crate::put::Index,
}

impl Bus {
    pub(crate) fn new(record: BusRecord, stored: bool) -> Bus {
        Bus { record, stored, rules: BTreeMap::new(), index: Default::default() }
    }

    pub(crate) fn reindex(&mut self) {
        self.index = crate::put::Index::build(&self.rules);
    }

    /// Whether `account` may put events on this bus: its owner, or whom its policy allows.
    pub(crate) fn admits(&self, account: &str) -> bool {
        if account == self.record.account {
            return true;
        }
        let policy = self.record.policy.as_deref().and_then(|p| ResourcePolicy::parse(p).ok());
        iam::resource_policy::allows(
            policy.as_ref(),
            &self.record.account,
            &self.record.arn(),
            &Requester::Account(account),
            "events:PutEvents",
        )
    }
}

pub(crate) fn document(r: &BusRecord) -> Document {
    let key = BusKey::new(&r.account, &r.region, &r.name);
    Document { kind: kinds::BUS.into(), id: key.id(), doc: serde_json::to_string(r).expect("a bus serialises") }
}

pub(crate) fn load(store: &EventStore, state: &mut State, now_ms: i64) -> Result<(), EventsError> {
    for d in store.documents(kinds::BUS)? {
        match serde_json::from_str::<BusRecord>(&d.doc) {
            Ok(r) => {
                let key = BusKey::new(&r.account, &r.region, &r.name);
                state.buses.insert(key, Bus::new(r, true));
            }
            Err(e) => tracing::error!(id = %d.id, "events: an unreadable bus was skipped: {e}"),
        }
    }
    crate::rules::load(store, state, now_ms)
}

/// A bus named by name or ARN, as the caller means it: (account, region, name).
pub(crate) fn resolve(caller: &Caller, name_or_arn: Option<&str>) -> BusKey {
    let given = name_or_arn.unwrap_or(DEFAULT_BUS);
    if let Some(rest) = given.strip_prefix("arn:") {
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        if let [_, "events", region, account, resource] = parts.as_slice() {
            if let Some(name) = resource.strip_prefix("event-bus/") {
                return BusKey::new(account, region, name);
            }
        }
    }
    BusKey::new(&caller.account, &caller.region, given)
}

pub(crate) fn not_found(name: &str) -> EventsError {
    EventsError::NotFound(format!("Event bus {name} does not exist."))
}

impl State {
    /// The bus, made when it is an account's default one and first named.
    pub(crate) fn bus_mut(&mut self, key: &BusKey, now_ms: i64) -> Option<&mut Bus> {
        if key.name == DEFAULT_BUS && !self.buses.contains_key(key) {
            let record = BusRecord {
                name: DEFAULT_BUS.into(),
                account: key.account.clone(),
                region: key.region.clone(),
                description: None,
                policy: None,
                kms_key: None,
                dead_letter_arn: None,
                created_ms: now_ms,
                modified_ms: now_ms,
                tags: BTreeMap::new(),
            };
            self.buses.insert(key.clone(), Bus::new(record, false));
        }
        self.buses.get_mut(key)
    }
}

/// CreateEventBus's input.
#[derive(Debug, Clone, Default)]
pub struct NewBus {
    /// Its name.
    pub name: String,
    /// A partner event source's name (refused: Lamina has no partners).
    pub event_source: Option<String>,
    /// Its description.
    pub description: Option<String>,
    /// A KMS key (stored).
    pub kms_key: Option<String>,
    /// A dead-letter queue (stored).
    pub dead_letter_arn: Option<String>,
    /// Its tags.
    pub tags: BTreeMap<String, String>,
}

impl EventsService {
    /// CreateEventBus: its ARN.
    pub fn create_bus(&self, caller: &Caller, input: NewBus) -> Result<String, EventsError> {
        if input.name.contains('/') {
            return Err(EventsError::Validation("Event bus name must not contain '/'.".into()));
        }
        if let Some(source) = &input.event_source {
            return Err(EventsError::NotFound(format!("Event source {source} does not exist.")));
        }
        let now = self.inner.clock.now_ms();
        let key = BusKey::new(&caller.account, &caller.region, &input.name);
        let mut state = self.inner.state.write();
        if input.name == DEFAULT_BUS || state.buses.contains_key(&key) {
            return Err(EventsError::AlreadyExists(format!("Event bus {} already exists.", input.name)));
        }
        let record = BusRecord {
            name: input.name,
            account: key.account.clone(),
            region: key.region.clone(),
            description: input.description,
            policy: None,
            kms_key: input.kms_key,
            dead_letter_arn: input.dead_letter_arn,
            created_ms: now,
            modified_ms: now,
            tags: input.tags,
        };
        self.write(EventCommit { put: vec![document(&record)], ..Default::default() })?;
        let arn = record.arn();
        state.buses.insert(key, Bus::new(record, true));
        Ok(arn)
    }

    /// DescribeEventBus (the default bus when no name is given).
    pub fn describe_bus(&self, caller: &Caller, name: Option<&str>) -> Result<BusRecord, EventsError> {
        let key = resolve(caller, name);
        let now = self.inner.clock.now_ms();
        let mut state = self.inner.state.write();
        state.bus_mut(&key, now).map(|b| b.record.clone()).ok_or_else(|| not_found(&key.name))
    }

    /// ListEventBuses: the caller's buses (its default one first made), by name, those
    /// starting with `prefix`.
    pub fn list_buses(&self, caller: &Caller, prefix: Option<&str>) -> Vec<BusRecord> {
        let now = self.inner.clock.now_ms();
        let mut state = self.inner.state.write();
        state.bus_mut(&BusKey::new(&caller.account, &caller.region, DEFAULT_BUS), now);
        let mut buses: Vec<BusRecord> = state
            .buses
            .iter()
            .filter(|(k, _)| k.account == caller.account && k.region == caller.region)
            .filter(|(k, _)| prefix.is_none_or(|p| k.name.starts_with(p)))
            .map(|(_, b)| b.record.clone())
            .collect();
        buses.sort_by(|a, b| a.name.cmp(&b.name));
        buses
    }

    /// DeleteEventBus: the bus and its rules.
    pub fn delete_bus(&self, caller: &Caller, name: &str) -> Result<(), EventsError> {
        if name == DEFAULT_BUS {
            return Err(EventsError::Validation("Cannot delete event bus default.".into()));
        }
        let key = resolve(caller, Some(name));
        let mut state = self.inner.state.write();
        // Deleting a bus that is not there is not an error.
        let Some(bus) = state.buses.get(&key) else { return Ok(()) };
        let mut delete = vec![(kinds::BUS.to_owned(), key.id())];
        delete.extend(bus.rules.values().map(|r| (kinds::RULE.to_owned(), r.record.id())));
        self.write(EventCommit { delete, ..Default::default() })?;
        state.buses.remove(&key);
        drop(state);
        self.inner.schedules_changed.notify_one();
        Ok(())
    }

    /// PutPermission: a statement letting an account (or `*`) put events on the bus, or a
    /// whole policy.
    pub fn put_permission(&self, caller: &Caller, input: Permission) -> Result<(), EventsError> {
        let key = resolve(caller, input.bus.as_deref());
        let now = self.inner.clock.now_ms();
        let mut state = self.inner.state.write();
        let bus = state.bus_mut(&key, now).ok_or_else(|| not_found(&key.name))?;
        let policy = match input.policy {
            Some(policy) => {
                ResourcePolicy::parse(&policy)
                    .map_err(|e| EventsError::Validation(format!("The policy is not valid: {e}")))?;
                policy
            }
            None => {
                let action = input.action.unwrap_or_default();
                if action != "events:PutEvents" {
                    return Err(EventsError::Validation(format!(
                        "Provided value in parameter 'action' is not supported: {action}"
                    )));
                }
                let (Some(principal), Some(sid)) = (input.principal, input.statement_id) else {
                    return Err(EventsError::Validation(
                        "Parameter(s) Principal, StatementId must be specified.".into(),
                    ));
                };
                let principal = if principal == "*" {
                    json!("*")
                } else if principal.chars().all(|c| c.is_ascii_digit()) {
                    json!({ "AWS": format!("arn:aws:iam::{principal}:root") })
                } else {
                    json!({ "AWS": principal })
                };
                let mut statement = json!({
                    "Sid": sid,
                    "Effect": "Allow",
                    "Principal": principal,
                    "Action": "events:PutEvents",
                    "Resource": bus.record.arn(),
                });
                if let Some(c) = input.condition {
                    statement["Condition"] = json!({ c.kind: { c.key: c.value } });
                }
                let mut doc: Value = bus
                    .record
                    .policy
                    .as_deref()
                    .and_then(|p| serde_json::from_str(p).ok())
                    .unwrap_or_else(|| json!({"Version": "2012-10-17", "Statement": []}));
                let statements = doc["Statement"]
                    .as_array_mut()
                    .ok_or_else(|| EventsError::Validation("The bus's policy has no list of statements.".into()))?;
                statements.retain(|s| s.get("Sid").and_then(Value::as_str) != Some(sid.as_str()));
                statements.push(statement);
                doc.to_string()
            }
        };
        let mut record = bus.record.clone();
        record.policy = Some(policy);
        record.modified_ms = now;
        self.write(EventCommit { put: vec![document(&record)], ..Default::default() })?;
        bus.record = record;
        bus.stored = true;
        Ok(())
    }

    /// RemovePermission: one statement by id, or all of them.
    pub fn remove_permission(
        &self,
        caller: &Caller,
        bus: Option<&str>,
        statement_id: Option<&str>,
        all: bool,
    ) -> Result<(), EventsError> {
        let key = resolve(caller, bus);
        let now = self.inner.clock.now_ms();
        let mut state = self.inner.state.write();
        let bus = state.bus_mut(&key, now).ok_or_else(|| not_found(&key.name))?;
        let mut record = bus.record.clone();
        if all {
            record.policy = None;
        } else {
            let missing = || EventsError::NotFound("Statement with the provided id does not exist.".into());
            let sid = statement_id.ok_or_else(missing)?;
            let mut doc: Value =
                record.policy.as_deref().and_then(|p| serde_json::from_str(p).ok()).ok_or_else(missing)?;
            let statements = doc.get_mut("Statement").and_then(Value::as_array_mut).ok_or_else(missing)?;
            let before = statements.len();
            statements.retain(|s| s.get("Sid").and_then(Value::as_str) != Some(sid));
            if statements.len() == before {
                return Err(missing());
            }
            record.policy = (!statements.is_empty()).then(|| doc.to_string());
        }
        record.modified_ms = now;
        self.write(EventCommit { put: vec![document(&record)], ..Default::default() })?;
        bus.record = record;
        bus.stored = true;
        Ok(())
    }
}

/// PutPermission's input.
#[derive(Debug, Clone, Default)]
pub struct Permission {
    /// The bus (name or ARN; the default one when none).
    pub bus: Option<String>,
    /// `events:PutEvents`.
    pub action: Option<String>,
    /// An account id, an ARN, or `*`.
    pub principal: Option<String>,
    /// The statement's id.
    pub statement_id: Option<String>,
    /// A condition: (type, key, value).
    pub condition: Option<Condition>,
    /// A whole policy instead.
    pub policy: Option<String>,
}

/// A PutPermission condition.
#[derive(Debug, Clone)]
pub struct Condition {
    /// `StringEquals`.
    pub kind: String,
    /// `aws:PrincipalOrgID`.
    pub key: String,
    /// Its value.
    pub value: String,
}
