//! Lamina's EventBridge and EventBridge Scheduler.
//!
//! [`EventsService`] owns every account's event buses (the `default` bus of each account
//! and region, and custom ones, with their resource policies), their rules (an event
//! pattern or a schedule, and up to five targets each) and Scheduler's schedules and
//! groups. All of it is kept in memory and written to the store's [`store::EventStore`]
//! before a change is answered.
//!
//! `PutEvents` (`put.rs`) builds each entry's event, matches it against the bus's rules
//! (`pattern.rs`, pure, with an index on `source`), shapes each matching target's input
//! (`transform.rs`, pure) and commits one delivery per target, in groups, before it
//! answers: an accepted event reaches its targets at least once, across a `kill -9`.
//! `delivery.rs` sends deliveries through [`Targets`] (Lambda, SQS, SNS, API Gateway,
//! CloudWatch Logs; other buses itself), retries them under the target's retry policy and
//! ends the rest in its dead-letter queue. `ticker.rs` fires scheduled rules on their
//! ticks and schedules on their times (`schedule.rs`, pure: `rate`, `cron`, `at`, time
//! zones), under the shared [`model::Clock`].
//!
//! It knows nothing of EventBridge's JSON wire format (`aws-api` speaks it) and calls no
//! service directly: targets are reached through [`Targets`], which `lamina` connects.
#![deny(missing_docs)]

mod buses;
pub mod catalogue;
mod delivery;
pub mod pattern;
mod put;
mod rules;
pub mod schedule;
mod scheduler;
mod ticker;
pub mod transform;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock};

use model::sync::RwLock;
use serde::{Deserialize, Serialize};
use store::{EventCommit, EventStore, StoreError};
use tokio::sync::Notify;

pub use buses::{Condition, NewBus, Permission};
pub use delivery::{Failure, Outgoing, Sent, TargetKind, Targets};
pub use model::{Caller, Clock};
pub use put::{Emitted, Entry, EntryResult};
pub use rules::{FailedTarget, HttpParameters, InputTransformer, RetryPolicy, RuleInput, RuleRecord, Target};
pub use scheduler::{
    FlexibleWindow, GroupRecord, ScheduleInput, ScheduleRecord, ScheduleTarget, SchedulerError, DEFAULT_GROUP,
};

/// An EventBridge error, as the API answers it: one variant per error type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventsError {
    /// `ValidationException`.
    #[error("{0}")]
    Validation(String),
    /// `ResourceNotFoundException`.
    #[error("{0}")]
    NotFound(String),
    /// `ResourceAlreadyExistsException`.
    #[error("{0}")]
    AlreadyExists(String),
    /// `InvalidEventPatternException`.
    #[error("{0}")]
    InvalidPattern(String),
    /// `LimitExceededException`.
    #[error("{0}")]
    LimitExceeded(String),
    /// `AccessDeniedException`.
    #[error("{0}")]
    AccessDenied(String),
    /// `ManagedRuleException`.
    #[error("{0}")]
    ManagedRule(String),
    /// `OperationDisabledException`: what Lamina does not offer (archives, replays, …).
    #[error("{0}")]
    Disabled(String),
    /// `InternalException`: the store failed.
    #[error("{0}")]
    Internal(String),
}

impl From<StoreError> for EventsError {
    fn from(e: StoreError) -> Self {
        EventsError::Internal(format!("the store failed: {e}"))
    }
}

/// A bus's place: account, region and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct BusKey {
    pub(crate) account: String,
    pub(crate) region: String,
    pub(crate) name: String,
}

impl BusKey {
    pub(crate) fn new(account: &str, region: &str, name: &str) -> BusKey {
        BusKey { account: account.to_owned(), region: region.to_owned(), name: name.to_owned() }
    }

    pub(crate) fn arn(&self) -> String {
        format!("arn:aws:events:{}:{}:event-bus/{}", self.region, self.account, self.name)
    }

    fn id(&self) -> String {
        format!("{}/{}/{}", self.account, self.region, self.name)
    }
}

/// The name of every account's own bus.
pub const DEFAULT_BUS: &str = "default";

/// What is answered about a bus.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusRecord {
    /// Its name.
    pub name: String,
    /// Its account.
    pub account: String,
    /// Its region.
    pub region: String,
    /// Its description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Its resource policy (JSON text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// The KMS key it names (stored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key: Option<String>,
    /// Its dead-letter queue's ARN (stored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dead_letter_arn: Option<String>,
    /// Created, ms since the epoch.
    pub created_ms: i64,
    /// Last changed.
    pub modified_ms: i64,
    /// Its tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

impl BusRecord {
    /// Its ARN.
    pub fn arn(&self) -> String {
        BusKey::new(&self.account, &self.region, &self.name).arn()
    }
}

/// The document kinds in the store.
pub(crate) mod kinds {
    pub(crate) const BUS: &str = "bus";
    pub(crate) const RULE: &str = "rule";
    pub(crate) const SCHEDULE: &str = "schedule";
    pub(crate) const GROUP: &str = "schedule-group";
}

/// EventBridge and Scheduler.
#[derive(Clone)]
pub struct EventsService {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for EventsService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EventsService")
    }
}

pub(crate) struct Inner {
    pub(crate) store: Arc<EventStore>,
    pub(crate) state: RwLock<State>,
    pub(crate) clock: Clock,
    pub(crate) targets: OnceLock<Arc<dyn Targets>>,
    /// Wakes the delivery loop: deliveries were committed, or the clock moved.
    pub(crate) deliveries_due: Notify,
    /// Wakes the ticker: a schedule changed, or the clock moved.
    pub(crate) schedules_changed: Notify,
    /// Writes on their way to the group-commit writer.
    pub(crate) commits: std::sync::mpsc::Sender<delivery::Write>,
}

/// Everything in memory.
#[derive(Default)]
pub(crate) struct State {
    pub(crate) buses: HashMap<BusKey, buses::Bus>,
    pub(crate) schedules: scheduler::Schedules,
}

impl EventsService {
    /// Opens the service over `store`, loading what it holds. Deliveries start once
    /// [`EventsService::start`] connects the targets.
    pub fn open(store: Arc<EventStore>, clock: Clock) -> Result<EventsService, EventsError> {
        let mut state = State::default();
        buses::load(&store, &mut state, clock.now_ms())?;
        scheduler::load(&store, &mut state)?;
        let (commits, incoming) = std::sync::mpsc::channel();
        let inner = Arc::new(Inner {
            store: store.clone(),
            state: RwLock::new(state),
            clock,
            targets: OnceLock::new(),
            deliveries_due: Notify::new(),
            schedules_changed: Notify::new(),
            commits,
        });
        let weak = Arc::downgrade(&inner);
        std::thread::Builder::new()
            .name("events-commit".into())
            .spawn(move || delivery::commit_loop(store, incoming, weak))
            .map_err(|e| EventsError::Internal(format!("cannot start the commit thread: {e}")))?;
        Ok(EventsService { inner })
    }

    /// Starts delivering (deliveries a restart found too) through `targets`, and firing
    /// schedules. Needs a Tokio runtime.
    pub fn start(&self, targets: Arc<dyn Targets>) {
        if self.inner.targets.set(targets).is_err() {
            return;
        }
        tokio::spawn(delivery::deliver_loop(self.clone()));
        tokio::spawn(ticker::tick_loop(self.clone()));
    }

    /// The clock moved (tests age schedules and retries): look again at what is due.
    pub fn clock_moved(&self) {
        self.inner.deliveries_due.notify_one();
        self.inner.schedules_changed.notify_one();
    }

    /// Deliveries accepted and not yet finished.
    pub fn pending_deliveries(&self) -> u64 {
        self.inner.store.pending().unwrap_or(0)
    }

    /// Commits documents (a control-plane change) at once, on the caller's thread (the API
    /// runs control-plane calls on the blocking pool).
    pub(crate) fn write(&self, commit: EventCommit) -> Result<(), EventsError> {
        self.inner.store.commit(&commit).map_err(EventsError::from)
    }
}

/// A new event's id.
pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// AWS's time format in events: `2026-01-02T03:04:05Z`.
pub(crate) fn iso_seconds(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms.div_euclid(1000) * 1000)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}
