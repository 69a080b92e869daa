//! EventBridge Scheduler: schedule groups and schedules (`at`, `rate`, `cron` in a time
//! zone, between a start and an end date), with templated targets (Lambda, SQS, SNS,
//! EventBridge) and universal ones (`arn:aws:scheduler:::aws-sdk:<service>:<action>`).
//! Each schedule's next time is stored with it, so one due while the server was down fires
//! once when it is back (at least once, as Scheduler promises); one-time schedules can
//! delete themselves after they fire.

use std::collections::BTreeMap;

use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use store::{Document, EventCommit, EventStore};

use crate::rules::RetryPolicy;
use crate::schedule::Expression;
use crate::{kinds, Caller, EventsError, EventsService, State};

/// The group every account has.
pub const DEFAULT_GROUP: &str = "default";

/// A Scheduler error, one variant per error type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchedulerError {
    /// `ValidationException`.
    #[error("{0}")]
    Validation(String),
    /// `ResourceNotFoundException`.
    #[error("{0}")]
    NotFound(String),
    /// `ConflictException`.
    #[error("{0}")]
    Conflict(String),
    /// `InternalServerException`.
    #[error("{0}")]
    Internal(String),
}

impl From<EventsError> for SchedulerError {
    fn from(e: EventsError) -> Self {
        SchedulerError::Internal(e.to_string())
    }
}

/// A schedule group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRecord {
    /// Its name.
    pub name: String,
    /// Its account.
    pub account: String,
    /// Its region.
    pub region: String,
    /// Created, ms.
    pub created_ms: i64,
    /// Changed, ms.
    pub modified_ms: i64,
    /// Its tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

impl GroupRecord {
    /// Its ARN.
    pub fn arn(&self) -> String {
        format!("arn:aws:scheduler:{}:{}:schedule-group/{}", self.region, self.account, self.name)
    }
}

/// A flexible time window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlexibleWindow {
    /// `OFF` or `FLEXIBLE`.
    pub flexible: bool,
    /// The window, minutes (1–1440).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_minutes: Option<u32>,
}

/// A schedule's target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleTarget {
    /// What it reaches (or a universal target's `aws-sdk` ARN).
    pub arn: String,
    /// The role Scheduler assumes (stored).
    pub role_arn: String,
    /// What it receives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// Its retry policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_policy: Option<RetryPolicy>,
    /// Its dead-letter queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dead_letter_arn: Option<String>,
    /// A FIFO queue's message group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_group_id: Option<String>,
    /// An EventBridge target's detail type and source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<(String, String)>,
    /// Parameters of targets Lamina keeps but does not reach, as JSON text by member name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub other: BTreeMap<String, String>,
}

/// A schedule as stored and answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleRecord {
    /// Its name.
    pub name: String,
    /// Its group.
    pub group: String,
    /// Its account.
    pub account: String,
    /// Its region.
    pub region: String,
    /// `at(…)`, `rate(…)` or `cron(…)`.
    pub expression: String,
    /// The zone its times are in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// It fires from then on, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_ms: Option<i64>,
    /// It fires until then, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_ms: Option<i64>,
    /// Its description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `ENABLED` or `DISABLED`.
    pub state: String,
    /// A KMS key (stored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key: Option<String>,
    /// Its flexible time window.
    pub window: FlexibleWindow,
    /// `NONE` or `DELETE`.
    pub after_completion: String,
    /// Its target.
    pub target: ScheduleTarget,
    /// Created, ms.
    pub created_ms: i64,
    /// Changed, ms.
    pub modified_ms: i64,
    /// When it next fires, ms; none when it never will again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_ms: Option<i64>,
}

impl ScheduleRecord {
    /// Its ARN.
    pub fn arn(&self) -> String {
        format!("arn:aws:scheduler:{}:{}:schedule/{}/{}", self.region, self.account, self.group, self.name)
    }

    fn id(&self) -> String {
        format!("{}/{}/{}/{}", self.account, self.region, self.group, self.name)
    }

    fn zone(&self) -> TimeZone {
        self.timezone.as_deref().and_then(|z| TimeZone::get(z).ok()).unwrap_or(TimeZone::UTC)
    }

    /// When it falls due after `after_ms`, within its start and end dates.
    pub(crate) fn next_after(&self, after_ms: i64) -> Option<i64> {
        let expr = Expression::parse(&self.expression, true)?;
        let anchor = self.start_ms.unwrap_or(self.created_ms);
        let after = self.start_ms.map_or(after_ms, |s| after_ms.max(s - 1));
        let due = expr.next_after(after, anchor, &self.zone())?;
        self.end_ms.is_none_or(|end| due <= end).then_some(due)
    }
}

/// CreateSchedule's and UpdateSchedule's input.
#[derive(Debug, Clone)]
pub struct ScheduleInput {
    /// Its name.
    pub name: String,
    /// Its group (`default` when none).
    pub group: Option<String>,
    /// Its expression.
    pub expression: String,
    /// Its zone.
    pub timezone: Option<String>,
    /// Its start, ms.
    pub start_ms: Option<i64>,
    /// Its end, ms.
    pub end_ms: Option<i64>,
    /// Its description.
    pub description: Option<String>,
    /// `ENABLED` unless given.
    pub state: Option<String>,
    /// A KMS key.
    pub kms_key: Option<String>,
    /// Its window.
    pub window: FlexibleWindow,
    /// `NONE` unless given.
    pub after_completion: Option<String>,
    /// Its target.
    pub target: ScheduleTarget,
}

/// Every schedule and group in memory.
#[derive(Debug, Default)]
pub(crate) struct Schedules {
    groups: BTreeMap<(String, String, String), GroupRecord>,
    schedules: BTreeMap<(String, String, String, String), ScheduleRecord>,
}

fn group_doc(g: &GroupRecord) -> Document {
    Document {
        kind: kinds::GROUP.into(),
        id: format!("{}/{}/{}", g.account, g.region, g.name),
        doc: serde_json::to_string(g).expect("a group serialises"),
    }
}

pub(crate) fn schedule_doc(s: &ScheduleRecord) -> Document {
    Document { kind: kinds::SCHEDULE.into(), id: s.id(), doc: serde_json::to_string(s).expect("a schedule serialises") }
}

pub(crate) fn load(store: &EventStore, state: &mut State) -> Result<(), EventsError> {
    for d in store.documents(kinds::GROUP)? {
        match serde_json::from_str::<GroupRecord>(&d.doc) {
            Ok(g) => {
                state.schedules.groups.insert((g.account.clone(), g.region.clone(), g.name.clone()), g);
            }
            Err(e) => tracing::error!(id = %d.id, "scheduler: an unreadable group was skipped: {e}"),
        }
    }
    for d in store.documents(kinds::SCHEDULE)? {
        match serde_json::from_str::<ScheduleRecord>(&d.doc) {
            Ok(s) => {
                let key = (s.account.clone(), s.region.clone(), s.group.clone(), s.name.clone());
                state.schedules.schedules.insert(key, s);
            }
            Err(e) => tracing::error!(id = %d.id, "scheduler: an unreadable schedule was skipped: {e}"),
        }
    }
    Ok(())
}

fn not_found_schedule(name: &str) -> SchedulerError {
    SchedulerError::NotFound(format!("Schedule {name} does not exist."))
}

fn not_found_group(name: &str) -> SchedulerError {
    SchedulerError::NotFound(format!("Schedule group {name} does not exist."))
}

/// A one-time schedule's expression must name a wall-clock second: `at(yyyy-mm-ddThh:mm:ss)`.
fn valid_expression(e: &str) -> bool {
    if let Some(inner) = e.strip_prefix("at(").and_then(|s| s.strip_suffix(')')) {
        if inner.len() != 19 || inner.as_bytes().get(10) != Some(&b'T') {
            return false;
        }
    }
    Expression::parse(e, true).is_some()
}

impl Schedules {
    /// Schedules due by `now`: (record, when it was due).
    pub(crate) fn due(&self, now: i64) -> Vec<ScheduleRecord> {
        self.schedules
            .values()
            .filter(|s| s.state == "ENABLED" && s.next_ms.is_some_and(|n| n <= now))
            .cloned()
            .collect()
    }

    /// The earliest next time of an enabled schedule.
    pub(crate) fn earliest(&self) -> Option<i64> {
        self.schedules.values().filter(|s| s.state == "ENABLED").filter_map(|s| s.next_ms).min()
    }

    pub(crate) fn replace(&mut self, s: ScheduleRecord) {
        self.schedules.insert((s.account.clone(), s.region.clone(), s.group.clone(), s.name.clone()), s);
    }

    pub(crate) fn remove(&mut self, s: &ScheduleRecord) {
        self.schedules.remove(&(s.account.clone(), s.region.clone(), s.group.clone(), s.name.clone()));
    }

    fn group_exists(&self, caller: &Caller, name: &str) -> bool {
        name == DEFAULT_GROUP
            || self.groups.contains_key(&(caller.account.clone(), caller.region.clone(), name.to_owned()))
    }
}

impl EventsService {
    /// CreateScheduleGroup: its ARN.
    pub fn create_group(
        &self,
        caller: &Caller,
        name: &str,
        tags: BTreeMap<String, String>,
    ) -> Result<String, SchedulerError> {
        let now = self.inner.clock.now_ms();
        let mut state = self.inner.state.write();
        if state.schedules.group_exists(caller, name) {
            return Err(SchedulerError::Conflict(format!("Schedule group {name} already exists.")));
        }
        let g = GroupRecord {
            name: name.to_owned(),
            account: caller.account.clone(),
            region: caller.region.clone(),
            created_ms: now,
            modified_ms: now,
            tags,
        };
        self.write(EventCommit { put: vec![group_doc(&g)], ..Default::default() })?;
        let arn = g.arn();
        state.schedules.groups.insert((g.account.clone(), g.region.clone(), g.name.clone()), g);
        Ok(arn)
    }

    /// GetScheduleGroup. The default group is made (and kept) the first time it is named.
    pub fn group(&self, caller: &Caller, name: &str) -> Result<GroupRecord, SchedulerError> {
        let key = (caller.account.clone(), caller.region.clone(), name.to_owned());
        if let Some(g) = self.inner.state.read().schedules.groups.get(&key) {
            return Ok(g.clone());
        }
        if name != DEFAULT_GROUP {
            return Err(not_found_group(name));
        }
        let mut state = self.inner.state.write();
        if let Some(g) = state.schedules.groups.get(&key) {
            return Ok(g.clone());
        }
        let now = self.inner.clock.now_ms();
        let g = GroupRecord {
            name: name.to_owned(),
            account: caller.account.clone(),
            region: caller.region.clone(),
            created_ms: now,
            modified_ms: now,
            tags: BTreeMap::new(),
        };
        self.write(EventCommit { put: vec![group_doc(&g)], ..Default::default() })?;
        state.schedules.groups.insert(key, g.clone());
        Ok(g)
    }

    /// ListScheduleGroups: the default group, then the caller's others, by name.
    pub fn groups(&self, caller: &Caller, prefix: Option<&str>) -> Vec<GroupRecord> {
        // The default group, made if need be (a store failure leaves it out of this answer).
        let _ = self.group(caller, DEFAULT_GROUP);
        let state = self.inner.state.read();
        let mut out: Vec<GroupRecord> = state
            .schedules
            .groups
            .values()
            .filter(|g| g.account == caller.account && g.region == caller.region)
            .cloned()
            .collect();
        out.retain(|g| prefix.is_none_or(|p| g.name.starts_with(p)));
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    /// DeleteScheduleGroup: the group and its schedules.
    pub fn delete_group(&self, caller: &Caller, name: &str) -> Result<(), SchedulerError> {
        if name == DEFAULT_GROUP {
            return Err(SchedulerError::Validation("You cannot delete the default group.".into()));
        }
        let mut state = self.inner.state.write();
        let key = (caller.account.clone(), caller.region.clone(), name.to_owned());
        if !state.schedules.groups.contains_key(&key) {
            return Err(not_found_group(name));
        }
        let members: Vec<ScheduleRecord> = state
            .schedules
            .schedules
            .values()
            .filter(|s| s.account == caller.account && s.region == caller.region && s.group == name)
            .cloned()
            .collect();
        let mut delete = vec![(kinds::GROUP.to_owned(), format!("{}/{}/{}", caller.account, caller.region, name))];
        delete.extend(members.iter().map(|s| (kinds::SCHEDULE.to_owned(), s.id())));
        self.write(EventCommit { delete, ..Default::default() })?;
        state.schedules.groups.remove(&key);
        for s in &members {
            state.schedules.remove(s);
        }
        drop(state);
        self.inner.schedules_changed.notify_one();
        Ok(())
    }

    /// A group's tags, by ARN.
    pub fn group_tags(&self, caller: &Caller, arn: &str) -> Result<BTreeMap<String, String>, SchedulerError> {
        self.change_group_tags(caller, arn, BTreeMap::new(), &[])
    }

    /// TagResource and UntagResource on a group; its tags after.
    pub fn change_group_tags(
        &self,
        caller: &Caller,
        arn: &str,
        add: BTreeMap<String, String>,
        remove: &[String],
    ) -> Result<BTreeMap<String, String>, SchedulerError> {
        let name = arn.rsplit_once(":schedule-group/").map(|(_, n)| n).unwrap_or_default();
        let mut state = self.inner.state.write();
        let key = (caller.account.clone(), caller.region.clone(), name.to_owned());
        let Some(g) = state.schedules.groups.get_mut(&key) else {
            return Err(SchedulerError::NotFound(format!("Schedule group {name} does not exist.")));
        };
        if add.is_empty() && remove.is_empty() {
            return Ok(g.tags.clone());
        }
        let mut changed = g.clone();
        changed.tags.extend(add);
        for k in remove {
            changed.tags.remove(k);
        }
        self.write(EventCommit { put: vec![group_doc(&changed)], ..Default::default() })?;
        *g = changed;
        Ok(g.tags.clone())
    }

    fn make_schedule(
        &self,
        caller: &Caller,
        input: ScheduleInput,
        created_ms: i64,
    ) -> Result<ScheduleRecord, SchedulerError> {
        if !valid_expression(&input.expression) {
            return Err(SchedulerError::Validation(format!("Invalid Schedule Expression {}.", input.expression)));
        }
        if let Some(z) = &input.timezone {
            if TimeZone::get(z).is_err() {
                return Err(SchedulerError::Validation(format!("Invalid timezone {z}.")));
            }
        }
        if let (Some(s), Some(e)) = (input.start_ms, input.end_ms) {
            if e <= s {
                return Err(SchedulerError::Validation("The StartDate must come before the EndDate.".into()));
            }
        }
        if input.window.flexible && !input.window.max_minutes.is_some_and(|m| (1..=1440).contains(&m)) {
            return Err(SchedulerError::Validation(
                "MaximumWindowInMinutes must be provided when the flexible time window mode is FLEXIBLE.".into(),
            ));
        }
        let now = self.inner.clock.now_ms();
        let mut record = ScheduleRecord {
            name: input.name,
            group: input.group.unwrap_or_else(|| DEFAULT_GROUP.into()),
            account: caller.account.clone(),
            region: caller.region.clone(),
            expression: input.expression,
            timezone: input.timezone,
            start_ms: input.start_ms,
            end_ms: input.end_ms,
            description: input.description,
            state: input.state.unwrap_or_else(|| "ENABLED".into()),
            kms_key: input.kms_key,
            window: input.window,
            after_completion: input.after_completion.unwrap_or_else(|| "NONE".into()),
            target: input.target,
            created_ms,
            modified_ms: now,
            next_ms: None,
        };
        record.next_ms = record.next_after(now);
        Ok(record)
    }

    /// CreateSchedule: its ARN.
    pub fn create_schedule(&self, caller: &Caller, input: ScheduleInput) -> Result<String, SchedulerError> {
        let now = self.inner.clock.now_ms();
        let record = self.make_schedule(caller, input, now)?;
        let mut state = self.inner.state.write();
        if !state.schedules.group_exists(caller, &record.group) {
            return Err(not_found_group(&record.group));
        }
        let key = (record.account.clone(), record.region.clone(), record.group.clone(), record.name.clone());
        if state.schedules.schedules.contains_key(&key) {
            return Err(SchedulerError::Conflict(format!("Schedule {} already exists.", record.name)));
        }
        self.write(EventCommit { put: vec![schedule_doc(&record)], ..Default::default() })?;
        let arn = record.arn();
        state.schedules.replace(record);
        drop(state);
        self.inner.schedules_changed.notify_one();
        Ok(arn)
    }

    /// UpdateSchedule: replaces the schedule whole; its ARN.
    pub fn update_schedule(&self, caller: &Caller, input: ScheduleInput) -> Result<String, SchedulerError> {
        let group = input.group.clone().unwrap_or_else(|| DEFAULT_GROUP.into());
        let key = (caller.account.clone(), caller.region.clone(), group, input.name.clone());
        let created = {
            let state = self.inner.state.read();
            state.schedules.schedules.get(&key).map(|s| s.created_ms).ok_or_else(|| not_found_schedule(&input.name))?
        };
        let record = self.make_schedule(caller, input, created)?;
        let mut state = self.inner.state.write();
        self.write(EventCommit { put: vec![schedule_doc(&record)], ..Default::default() })?;
        let arn = record.arn();
        state.schedules.replace(record);
        drop(state);
        self.inner.schedules_changed.notify_one();
        Ok(arn)
    }

    /// GetSchedule.
    pub fn schedule(&self, caller: &Caller, name: &str, group: Option<&str>) -> Result<ScheduleRecord, SchedulerError> {
        let key =
            (caller.account.clone(), caller.region.clone(), group.unwrap_or(DEFAULT_GROUP).to_owned(), name.to_owned());
        self.inner.state.read().schedules.schedules.get(&key).cloned().ok_or_else(|| not_found_schedule(name))
    }

    /// DeleteSchedule.
    pub fn delete_schedule(&self, caller: &Caller, name: &str, group: Option<&str>) -> Result<(), SchedulerError> {
        let record = self.schedule(caller, name, group)?;
        let mut state = self.inner.state.write();
        self.write(EventCommit { delete: vec![(kinds::SCHEDULE.into(), record.id())], ..Default::default() })?;
        state.schedules.remove(&record);
        drop(state);
        self.inner.schedules_changed.notify_one();
        Ok(())
    }

    /// ListSchedules: by group then name, filtered.
    pub fn schedules(
        &self,
        caller: &Caller,
        group: Option<&str>,
        prefix: Option<&str>,
        state_filter: Option<&str>,
    ) -> Vec<ScheduleRecord> {
        self.inner
            .state
            .read()
            .schedules
            .schedules
            .values()
            .filter(|s| s.account == caller.account && s.region == caller.region)
            .filter(|s| group.is_none_or(|g| s.group == g))
            .filter(|s| prefix.is_none_or(|p| s.name.starts_with(p)))
            .filter(|s| state_filter.is_none_or(|f| s.state == f))
            .cloned()
            .collect()
    }
}
