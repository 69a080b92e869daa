//! The ticker: fires scheduled rules once per tick (AWS's `Scheduled Event`; ticks missed
//! while the server was down are not made up, as on AWS) and Scheduler's schedules on
//! their times (a time missed while the server was down fires once when it is back),
//! committing each firing's deliveries before it moves on.

use std::collections::HashMap;
use std::time::Duration;

use jiff::tz::TimeZone;
use serde_json::{json, Value};
use store::EventCommit;

use crate::delivery::{Delivery, TargetKind};
use crate::put::{deliveries_for, envelope, Head};
use crate::rules::RetryPolicy;
use crate::scheduler::{schedule_doc, ScheduleRecord};
use crate::{iso_seconds, kinds, new_id, EventsService};

/// Fires what is due, then sleeps until the next time or a change.
pub(crate) async fn tick_loop(events: EventsService) {
    // Each scheduled rule's next tick, by rule id, with the change it was computed for. A
    // rule's first tick is the first after it was put or enabled, or after the ticker
    // started (ticks missed while the server was down are not made up).
    let started = events.inner.clock.now_ms();
    let mut ticks: HashMap<String, (i64, i64)> = HashMap::new();
    loop {
        let now = events.inner.clock.now_ms();
        let mut earliest: Option<i64> = None;
        let mut due = Vec::new();
        {
            let state = events.inner.state.read();
            let mut seen = Vec::new();
            for bus in state.buses.values() {
                for rule in bus.rules.values() {
                    let Some(expr) = &rule.schedule else { continue };
                    if !rule.record.enabled() {
                        continue;
                    }
                    let id = rule.record.id();
                    let next = |after: i64| expr.next_after(after, rule.record.created_ms, &TimeZone::UTC);
                    let changed = rule.record.modified_ms;
                    let first = || next(changed.max(started)).unwrap_or(i64::MAX);
                    let entry = ticks.entry(id.clone()).or_insert_with(|| (changed, first()));
                    if entry.0 != changed {
                        *entry = (changed, first());
                    }
                    if entry.1 <= now {
                        due.push((rule.clone(), entry.1));
                        // Once per tick: the next one after now, whatever was missed.
                        entry.1 = next(now).unwrap_or(i64::MAX);
                    }
                    earliest = Some(earliest.map_or(entry.1, |e: i64| e.min(entry.1)));
                    seen.push(id);
                }
            }
            ticks.retain(|id, _| seen.contains(id));
            if let Some(e) = state.schedules.earliest() {
                earliest = Some(earliest.map_or(e, |x| x.min(e)));
            }
        }
        for (rule, tick) in due {
            let head = Head {
                id: &new_id(),
                detail_type: "Scheduled Event",
                source: "aws.events",
                account: &rule.record.account,
                time_ms: tick,
                region: &rule.record.region,
                resources: &[rule.record.arn()],
            };
            let event = envelope(head, json!({}));
            let deliveries = deliveries_for(&rule, &event, &event.to_string(), now, None);
            if let Err(e) = events.accept(deliveries).await {
                tracing::error!(rule = %rule.record.arn(), "events: a scheduled rule's tick was lost: {e}");
            }
        }
        fire_schedules(&events, now).await;
        let wait =
            earliest.map_or(Duration::from_secs(3600), |e| Duration::from_millis((e - now).clamp(1, 3_600_000) as u64));
        tokio::select! {
            _ = events.inner.schedules_changed.notified() => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// Fires every due schedule: its delivery and its next time (or its deletion) in one
/// transaction.
async fn fire_schedules(events: &EventsService, now: i64) {
    if events.inner.state.read().schedules.due(now).is_empty() {
        return;
    }
    // Under the state's lock, on the blocking pool: a schedule changed or deleted meanwhile
    // is seen as it is, never written back as it was.
    let firing = events.clone();
    let fired = tokio::task::spawn_blocking(move || firing.fire_due(now)).await;
    if let Err(e) = fired {
        tracing::error!("scheduler: the firing stopped: {e}");
    }
    events.inner.deliveries_due.notify_one();
}

impl EventsService {
    fn fire_due(&self, now: i64) {
        let mut state = self.inner.state.write();
        for s in state.schedules.due(now) {
            let due_ms = s.next_ms.unwrap_or(now);
            let delivery = schedule_delivery(&s, due_ms, now);
            let mut next = s.clone();
            next.next_ms = s.next_after(now);
            let mut commit = EventCommit::default();
            commit.deliveries.push((serde_json::to_string(&delivery).expect("a delivery serialises"), now));
            let finished = next.next_ms.is_none() && s.after_completion == "DELETE";
            if finished {
                commit.delete.push((kinds::SCHEDULE.into(), schedule_doc(&s).id));
            } else {
                commit.put.push(schedule_doc(&next));
            }
            match self.inner.store.commit(&commit) {
                Ok(()) if finished => state.schedules.remove(&s),
                Ok(()) => state.schedules.replace(next),
                Err(e) => tracing::error!(schedule = %s.arn(), "scheduler: cannot fire: {e}"),
            }
        }
    }
}

/// What a schedule's target gets when it fires at `due_ms`.
fn schedule_delivery(s: &ScheduleRecord, due_ms: i64, now: i64) -> Delivery {
    let arn = s.arn();
    let execution = new_id();
    let input = s.target.input.clone().unwrap_or_else(|| "{}".into());
    // Scheduler's context attributes, in the input.
    let input = input
        .replace("<aws.scheduler.schedule-arn>", &arn)
        .replace("<aws.scheduler.scheduled-time>", &iso_seconds(due_ms))
        .replace("<aws.scheduler.execution-id>", &execution)
        .replace("<aws.scheduler.attempt-number>", "1");
    let kind = TargetKind::of(&s.target.arn);
    let payload = match (&s.target.event, kind) {
        (Some((detail_type, source)), TargetKind::Bus) => {
            let detail: Value = serde_json::from_str(&input).unwrap_or_else(|_| json!({}));
            let head = Head {
                id: &new_id(),
                detail_type,
                source,
                account: &s.account,
                time_ms: due_ms,
                region: &s.region,
                resources: std::slice::from_ref(&arn),
            };
            envelope(head, detail).to_string()
        }
        _ => input,
    };
    Delivery {
        rule_arn: arn,
        target_id: s.name.clone(),
        target_arn: s.target.arn.clone(),
        kind,
        account: s.account.clone(),
        region: s.region.clone(),
        event: None,
        payload,
        accepted_ms: now,
        retry: s.target.retry_policy.unwrap_or(RetryPolicy { max_attempts: None, max_age_s: None }),
        dead_letter_arn: s.target.dead_letter_arn.clone(),
        message_group_id: s.target.message_group_id.clone(),
        dedup_id: Some(execution),
        http: None,
        trace_header: None,
        scheduled_ms: Some(due_ms),
    }
}
