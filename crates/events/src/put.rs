//! PutEvents: entries checked and made events, matched against their bus's rules, and
//! one delivery per matching target committed before the answer. TestEventPattern.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde_json::{json, Value};

use crate::buses;
use crate::delivery::{Delivery, TargetKind};
use crate::pattern::{Flat, Pattern};
use crate::rules::Rule;
use crate::transform::JsonPath;
use crate::{iso_seconds, new_id, BusKey, Caller, EventsError, EventsService};

/// The most bytes one PutEvents' entries may add up to.
pub const MAX_BYTES: usize = 256 * 1024;

/// One PutEvents entry, as given.
#[derive(Debug, Clone, Default)]
pub struct Entry {
    /// `Time`: ms since the epoch.
    pub time_ms: Option<i64>,
    /// `Source`.
    pub source: Option<String>,
    /// `Resources`.
    pub resources: Vec<String>,
    /// `DetailType`.
    pub detail_type: Option<String>,
    /// `Detail` (JSON text).
    pub detail: Option<String>,
    /// `EventBusName` (name or ARN).
    pub bus: Option<String>,
    /// `TraceHeader`.
    pub trace_header: Option<String>,
}

impl Entry {
    /// Its size as AWS counts it against the request's limit.
    pub fn size(&self) -> usize {
        let len = |s: &Option<String>| s.as_ref().map_or(0, String::len);
        self.time_ms.map_or(0, |_| 14)
            + len(&self.source)
            + len(&self.detail_type)
            + len(&self.detail)
            + self.resources.iter().map(String::len).sum::<usize>()
    }
}

/// One PutEvents result: the event's id, or why the entry failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryResult {
    /// Accepted.
    Accepted(String),
    /// Refused: (code, message).
    Failed(String, String),
}

/// Which rules of a bus an event could match, by the exact `source` and `detail-type`
/// their patterns require (most name both): an event is tried against the rules under its
/// own source and detail type, those under either alone, and those that name neither.
#[derive(Debug, Default)]
pub(crate) struct Index {
    both: HashMap<(String, String), Vec<Arc<Rule>>>,
    by_source: HashMap<String, Vec<Arc<Rule>>>,
    by_type: HashMap<String, Vec<Arc<Rule>>>,
    rest: Vec<Arc<Rule>>,
}

impl Index {
    pub(crate) fn build(rules: &BTreeMap<String, Arc<Rule>>) -> Index {
        let mut index = Index::default();
        for rule in rules.values() {
            let Some(pattern) = &rule.pattern else { continue };
            if !rule.record.enabled() || rule.record.targets.is_empty() {
                continue;
            }
            match (pattern.required_strings("source"), pattern.required_strings("detail-type")) {
                (Some(sources), Some(types)) => {
                    for s in &sources {
                        for t in &types {
                            index.both.entry(((*s).to_owned(), (*t).to_owned())).or_default().push(rule.clone());
                        }
                    }
                }
                (Some(sources), None) => {
                    for s in sources {
                        index.by_source.entry(s.to_owned()).or_default().push(rule.clone());
                    }
                }
                (None, Some(types)) => {
                    for t in types {
                        index.by_type.entry(t.to_owned()).or_default().push(rule.clone());
                    }
                }
                (None, None) => index.rest.push(rule.clone()),
            }
        }
        index
    }

    /// The rules the event matches.
    pub(crate) fn matching<'a>(&'a self, event: &'a Flat) -> impl Iterator<Item = &'a Arc<Rule>> + 'a {
        let source = event.string("source");
        let kind = event.string("detail-type");
        let list = |v: Option<&'a Vec<Arc<Rule>>>| v.map_or(&[][..], Vec::as_slice);
        let both = match (source, kind) {
            (Some(s), Some(t)) => list(self.both.get(&(s.to_owned(), t.to_owned()))),
            _ => &[],
        };
        let by_source = list(source.and_then(|s| self.by_source.get(s)));
        let by_type = list(kind.and_then(|t| self.by_type.get(t)));
        both.iter()
            .chain(by_source)
            .chain(by_type)
            .chain(self.rest.iter())
            .filter(move |r| r.pattern.as_ref().is_some_and(|p| p.matches(event)))
    }
}

fn failed(code: &str, message: &str) -> EntryResult {
    EntryResult::Failed(code.to_owned(), message.to_owned())
}

/// What a target of `rule` receives of `event`; `None` when its transformer makes no
/// valid input (the event is then not delivered to it, as on AWS).
pub(crate) fn input_for(rule: &Rule, target: &crate::rules::Target, event: &Value, now_ms: i64) -> Option<String> {
    if let Some(input) = &target.input {
        return Some(input.clone());
    }
    if let Some(path) = &target.input_path {
        return Some(JsonPath::parse(path).and_then(|p| p.select(event).cloned()).unwrap_or(Value::Null).to_string());
    }
    let Some(t) = &target.input_transformer else { return Some(event.to_string()) };
    let values: HashMap<&str, Option<Value>> = t
        .paths
        .iter()
        .map(|(name, path)| (name.as_str(), JsonPath::parse(path).and_then(|p| p.select(event).cloned())))
        .collect();
    crate::transform::fill(&t.template, |name| match name {
        "aws.events.rule-arn" => Some(Value::String(rule.record.arn())),
        "aws.events.rule-name" => Some(Value::String(rule.record.name.clone())),
        "aws.events.event.ingestion-time" => Some(Value::String(iso_seconds(now_ms))),
        "aws.events.event.json" => Some(event.clone()),
        // The event as EventBridge holds it: `detailType`, not `detail-type`, and no detail.
        "aws.events.event" => Some(match event {
            Value::Object(m) => Value::Object(
                m.iter()
                    .filter(|(k, _)| k.as_str() != "detail")
                    .map(|(k, v)| (if k == "detail-type" { "detailType".into() } else { k.clone() }, v.clone()))
                    .collect(),
            ),
            v => v.clone(),
        }),
        name => values.get(name).cloned().flatten(),
    })
}

/// The deliveries of an event to every target of a rule.
pub(crate) fn deliveries_for(
    rule: &Rule,
    event: &Value,
    event_text: &str,
    now_ms: i64,
    trace: Option<&str>,
) -> Vec<Delivery> {
    let id = event.get("id").and_then(Value::as_str).unwrap_or_default();
    rule.record
        .targets
        .iter()
        .filter_map(|t| {
            let payload = input_for(rule, t, event, now_ms)?;
            Some(Delivery {
                rule_arn: rule.record.arn(),
                target_id: t.id.clone(),
                target_arn: t.arn.clone(),
                kind: TargetKind::of(&t.arn),
                account: rule.record.account.clone(),
                region: rule.record.region.clone(),
                event: (payload != event_text).then(|| event_text.to_owned()),
                payload,
                accepted_ms: now_ms,
                retry: t.retry_policy.unwrap_or(crate::rules::RetryPolicy { max_attempts: None, max_age_s: None }),
                dead_letter_arn: t.dead_letter_arn.clone(),
                message_group_id: t.message_group_id.clone(),
                dedup_id: Some(id.to_owned()),
                http: t.http.clone(),
                trace_header: trace.map(str::to_owned),
                scheduled_ms: None,
            })
        })
        .collect()
}

/// What an event says of itself besides its detail.
pub(crate) struct Head<'a> {
    pub(crate) id: &'a str,
    pub(crate) detail_type: &'a str,
    pub(crate) source: &'a str,
    pub(crate) account: &'a str,
    pub(crate) time_ms: i64,
    pub(crate) region: &'a str,
    pub(crate) resources: &'a [String],
}

/// An event's envelope, in AWS's order.
pub(crate) fn envelope(h: Head<'_>, detail: Value) -> Value {
    json!({
        "version": "0",
        "id": h.id,
        "detail-type": h.detail_type,
        "source": h.source,
        "account": h.account,
        "time": iso_seconds(h.time_ms),
        "region": h.region,
        "resources": h.resources,
        "detail": detail,
    })
}

impl EventsService {
    /// PutEvents: each entry accepted (its event id) or refused, the accepted ones'
    /// deliveries committed before this returns. `trusted` lets `aws.` sources in (AWS's
    /// own services' events, emitted through Lamina's own endpoint).
    pub async fn put_events(
        &self,
        caller: &Caller,
        entries: Vec<Entry>,
        trusted: bool,
    ) -> Result<Vec<EntryResult>, EventsError> {
        if entries.iter().map(Entry::size).sum::<usize>() > MAX_BYTES {
            return Err(EventsError::Validation("Total size of the entries in the request is over the limit.".into()));
        }
        let now = self.inner.clock.now_ms();
        let mut results = Vec::with_capacity(entries.len());
        let mut deliveries = Vec::new();
        for e in &entries {
            self.ensure_bus(&buses::resolve(caller, e.bus.as_deref()), now);
        }
        {
            let state = self.inner.state.read();
            // Every named bus must exist, and let the caller in.
            for e in &entries {
                let key = buses::resolve(caller, e.bus.as_deref());
                // An event for a bus that does not exist is accepted and goes nowhere.
                let Some(bus) = state.buses.get(&key) else { continue };
                if !bus.admits(&caller.account) {
                    return Err(EventsError::AccessDenied(format!(
                        "User: arn:aws:iam::{}:root is not authorized to perform: events:PutEvents on resource: {} \
                         because no resource-based policy allows the events:PutEvents action",
                        caller.account,
                        key.arn()
                    )));
                }
            }
            for e in entries {
                let given = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
                let (Some(source), Some(detail_type), Some(detail)) =
                    (given(&e.source), given(&e.detail_type), given(&e.detail))
                else {
                    let missing = if given(&e.source).is_none() {
                        "Source"
                    } else if given(&e.detail_type).is_none() {
                        "DetailType"
                    } else {
                        "Detail"
                    };
                    let message =
                        format!("Parameter {missing} is not valid. Reason: {missing} is a required argument.");
                    results.push(failed("InvalidArgument", &message));
                    continue;
                };
                let detail: Value = match serde_json::from_str(&detail) {
                    Ok(v @ Value::Object(_)) => v,
                    _ => {
                        results.push(failed("MalformedDetail", "Detail is malformed."));
                        continue;
                    }
                };
                if source.starts_with("aws.") && !trusted {
                    results.push(failed("NotAuthorizedForSourceException", "Not authorized for the source."));
                    continue;
                }
                let key = buses::resolve(caller, e.bus.as_deref());
                let id = new_id();
                let head = Head {
                    id: &id,
                    detail_type: &detail_type,
                    source: &source,
                    account: &caller.account,
                    time_ms: e.time_ms.unwrap_or(now),
                    region: &key.region,
                    resources: &e.resources,
                };
                let event = envelope(head, detail);
                deliveries.extend(self.route(&state, &key, &event, now, e.trace_header.as_deref()));
                results.push(EntryResult::Accepted(id));
            }
        }
        self.accept(deliveries).await?;
        Ok(results)
    }

    /// The deliveries of an event put on a bus: one per target of each matching rule.
    pub(crate) fn route(
        &self,
        state: &crate::State,
        key: &BusKey,
        event: &Value,
        now: i64,
        trace: Option<&str>,
    ) -> Vec<Delivery> {
        let Some(bus) = state.buses.get(key) else { return Vec::new() };
        let flat = Flat::of(event);
        let mut out = Vec::new();
        let mut text = None;
        for rule in bus.index.matching(&flat) {
            let text = text.get_or_insert_with(|| event.to_string());
            out.extend(deliveries_for(rule, event, text, now, trace));
        }
        out
    }

    /// Makes an account's default bus the first time it is named (under the write lock
    /// only then).
    pub(crate) fn ensure_bus(&self, key: &BusKey, now: i64) {
        if key.name == crate::DEFAULT_BUS && !self.inner.state.read().buses.contains_key(key) {
            self.inner.state.write().bus_mut(key, now);
        }
    }

    /// TestEventPattern.
    pub fn test_pattern(&self, pattern: &str, event: &str) -> Result<bool, EventsError> {
        let pattern = Pattern::parse(pattern).map_err(|e| EventsError::InvalidPattern(e.to_string()))?;
        let event: Value = serde_json::from_str(event)
            .ok()
            .filter(Value::is_object)
            .ok_or_else(|| EventsError::Validation("Parameter Event is not valid.".into()))?;
        if ["id", "account", "source", "time", "region", "detail-type"].iter().any(|f| event.get(*f).is_none()) {
            return Err(EventsError::Validation("Parameter Event is not valid.".into()));
        }
        Ok(pattern.matches_value(&event))
    }
}

/// An AWS service's event to emit (Lamina's own endpoint, `lamina events emit`): from a
/// template of the catalogue, or given whole.
#[derive(Debug, Clone, Default)]
pub struct Emitted {
    /// A template's name.
    pub template: Option<String>,
    /// `source` (a template's unless given).
    pub source: Option<String>,
    /// `detail-type` (a template's unless given).
    pub detail_type: Option<String>,
    /// `detail`, merged over a template's.
    pub detail: Option<Value>,
    /// `resources` (a template's unless given).
    pub resources: Option<Vec<String>>,
    /// The bus (the default one unless given).
    pub bus: Option<String>,
}

impl EventsService {
    /// Puts an AWS service's event on a bus, as that service would: its `aws.` source is
    /// let in.
    pub async fn emit(&self, caller: &Caller, e: Emitted) -> Result<EntryResult, EventsError> {
        let template = match &e.template {
            Some(name) => Some(crate::catalogue::template(name).ok_or_else(|| {
                let names: Vec<&str> = crate::catalogue::templates().iter().map(|t| t.name).collect();
                EventsError::Validation(format!("There is no template {name}; there are: {}.", names.join(", ")))
            })?),
            None => None,
        };
        let hex = new_id().replace('-', "");
        let now = self.inner.clock.now_ms();
        let vars = [
            ("account", caller.account.as_str()),
            ("region", caller.region.as_str()),
            ("id", &hex[..17]),
            ("hex", &hex),
            ("uuid", &new_id()),
            ("time", &iso_seconds(now)),
        ];
        let mut detail = template.as_ref().map_or(json!({}), |t| crate::catalogue::fill(&t.detail, &vars));
        if let Some(given) = e.detail {
            crate::catalogue::merge(&mut detail, given);
        }
        let resources = match (e.resources, &template) {
            (Some(r), _) => r,
            (None, Some(t)) => t
                .resources
                .iter()
                .map(|r| crate::catalogue::fill(&json!(r), &vars))
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            (None, None) => Vec::new(),
        };
        let entry = Entry {
            time_ms: None,
            source: e.source.or_else(|| template.as_ref().map(|t| t.source.to_owned())),
            resources,
            detail_type: e.detail_type.or_else(|| template.as_ref().map(|t| t.detail_type.to_owned())),
            detail: Some(detail.to_string()),
            bus: e.bus,
            trace_header: None,
        };
        let mut results = self.put_events(caller, vec![entry], true).await?;
        Ok(results.pop().expect("one entry, one result"))
    }
}
