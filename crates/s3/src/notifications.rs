//! Event notifications. A bucket's configuration (Put/GetBucketNotificationConfiguration)
//! is checked as S3 checks it, destinations included; the events a write causes are
//! queued in that write's own transaction (the `events` outbox of `meta.db`), so a write
//! answered is a write notified, crash or not; and a dispatcher hands them, oldest first,
//! to SQS, SNS and Lambda through [`EventTargets`], whose services decide their policies.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use store::BucketRecord;

use crate::tagging::BucketDoc;
use crate::{Caller, S3Error, S3Service};

/// The events a configuration may name (botocore's `Event`).
const EVENTS: &[&str] = &[
    "s3:ReducedRedundancyLostObject",
    "s3:ObjectCreated:*",
    "s3:ObjectCreated:Put",
    "s3:ObjectCreated:Post",
    "s3:ObjectCreated:Copy",
    "s3:ObjectCreated:CompleteMultipartUpload",
    "s3:ObjectRemoved:*",
    "s3:ObjectRemoved:Delete",
    "s3:ObjectRemoved:DeleteMarkerCreated",
    "s3:ObjectRestore:*",
    "s3:ObjectRestore:Post",
    "s3:ObjectRestore:Completed",
    "s3:ObjectRestore:Delete",
    "s3:Replication:*",
    "s3:Replication:OperationFailedReplication",
    "s3:Replication:OperationNotTracked",
    "s3:Replication:OperationMissedThreshold",
    "s3:Replication:OperationReplicatedAfterThreshold",
    "s3:LifecycleTransition",
    "s3:IntelligentTiering",
    "s3:ObjectAcl:Put",
    "s3:LifecycleExpiration:*",
    "s3:LifecycleExpiration:Delete",
    "s3:LifecycleExpiration:DeleteMarkerCreated",
    "s3:ObjectTagging:*",
    "s3:ObjectTagging:Put",
    "s3:ObjectTagging:Delete",
];

/// The kinds of destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TargetKind {
    /// An SQS queue.
    Queue,
    /// An SNS topic.
    Topic,
    /// A Lambda function.
    Function,
    /// The bucket owner's default EventBridge bus (`EventBridgeConfiguration`): the
    /// message is `{"detail-type": …, "detail": …}`, put there as an `aws.s3` event.
    EventBridge,
}

impl TargetKind {
    /// The service its ARNs name.
    fn service(self) -> &'static str {
        match self {
            TargetKind::Queue => "sqs",
            TargetKind::Topic => "sns",
            TargetKind::Function => "lambda",
            TargetKind::EventBridge => "events",
        }
    }

    /// What S3's errors call a destination of this kind (`ArgumentName`).
    fn argument(self) -> &'static str {
        match self {
            TargetKind::Queue => "Queue",
            TargetKind::Topic => "Topic",
            TargetKind::Function => "CloudFunction",
            TargetKind::EventBridge => "EventBridge",
        }
    }
}

/// One destination of a bucket's notifications.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Destination {
    /// `Id`: given, or made when the configuration is saved.
    pub id: String,
    /// The queue's, topic's or function's ARN.
    pub arn: String,
    /// `Events`, as given (`s3:ObjectCreated:*`, …).
    pub events: Vec<String>,
    /// `Filter.Key.FilterRules`: (`Prefix` or `Suffix`, value).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<(String, String)>,
}

impl Destination {
    /// Whether an event `name` (`ObjectCreated:Put`) of `key` is one it wants.
    fn wants(&self, name: &str, key: &str) -> bool {
        let named = self.events.iter().any(|e| {
            let e = e.strip_prefix("s3:").unwrap_or(e);
            e == name || e.strip_suffix('*').is_some_and(|family| name.starts_with(family))
        });
        named
            && self.rules.iter().all(|(rule, value)| match rule.as_str() {
                "Prefix" => key.starts_with(value.as_str()),
                _ => key.ends_with(value.as_str()),
            })
    }
}

/// A bucket's notification configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notifications {
    /// `QueueConfigurations`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub queues: Vec<Destination>,
    /// `TopicConfigurations`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub topics: Vec<Destination>,
    /// `LambdaFunctionConfigurations`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub functions: Vec<Destination>,
    /// Whether `EventBridgeConfiguration` is present: every event also goes to the bucket
    /// owner's default event bus.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub eventbridge: bool,
}

impl Notifications {
    fn all(&self) -> impl Iterator<Item = (TargetKind, &Destination)> {
        let kind = |k: TargetKind| move |d| (k, d);
        (self.queues.iter().map(kind(TargetKind::Queue)))
            .chain(self.topics.iter().map(kind(TargetKind::Topic)))
            .chain(self.functions.iter().map(kind(TargetKind::Function)))
    }

    fn all_mut(&mut self) -> impl Iterator<Item = (TargetKind, &mut Destination)> {
        let kind = |k: TargetKind| move |d| (k, d);
        (self.queues.iter_mut().map(kind(TargetKind::Queue)))
            .chain(self.topics.iter_mut().map(kind(TargetKind::Topic)))
            .chain(self.functions.iter_mut().map(kind(TargetKind::Function)))
    }
}

/// Whether S3 may deliver to a destination, as the destination's service decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// It exists, and its policy lets S3 deliver for the bucket.
    Allowed,
    /// There is no such destination.
    Missing,
    /// Its policy does not let S3 deliver for the bucket.
    Denied,
}

/// A queued notification: what one destination gets for one event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outgoing {
    /// The kind of destination.
    pub kind: TargetKind,
    /// Its ARN.
    pub arn: String,
    /// The bucket the event happened in (the `aws:SourceArn` of S3's delivery).
    pub bucket_arn: String,
    /// The bucket owner's account (`aws:SourceAccount`).
    pub account: String,
    /// The message: `{"Records":[…]}`, or a test event.
    pub body: String,
    /// The X-Ray trace header of the request that caused it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_header: Option<String>,
}

/// The subject of S3's messages to SNS topics.
pub const TOPIC_SUBJECT: &str = "Amazon S3 Notification";

/// Why a notification was not delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Undelivered {
    /// The destination is gone or refused it: dropped (and logged), as S3 drops it.
    Refused(String),
    /// The destination could not take it now (its own store failed): kept, and sent
    /// again, the notifications after it waiting their turn.
    Later(String),
}

/// Where notifications go: SQS, SNS and Lambda, connected once they have started.
pub trait EventTargets: Send + Sync + 'static {
    /// Whether a destination exists and lets S3 deliver to it for `bucket_arn` of `account`.
    fn reach(&self, kind: TargetKind, arn: &str, bucket_arn: &str, account: &str) -> Reach;

    /// Delivers one notification: a message to a queue, a publish to a topic (with
    /// [`TOPIC_SUBJECT`]), an `Event` invocation of a function.
    fn send<'a>(&'a self, n: &'a Outgoing) -> Pin<Box<dyn Future<Output = Result<(), Undelivered>> + Send + 'a>>;
}

/// What happened to an object, for its event record.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Happened<'a> {
    /// `ObjectCreated:Put`, …
    pub(crate) name: &'static str,
    pub(crate) key: &'a str,
    pub(crate) size: Option<u64>,
    /// Quoted, as stored.
    pub(crate) etag: Option<&'a str>,
    /// Shown when the bucket is versioned.
    pub(crate) version: Option<&'a str>,
}

fn invalid_argument(message: &str, name: &str, value: &str) -> S3Error {
    S3Error::new("InvalidArgument", 400, message).with("ArgumentName", name).with("ArgumentValue", value)
}

/// Checks a configuration's ARNs, events and filter rules, names its rules as S3 does
/// (`Prefix`, `Suffix`) and gives every destination an id.
fn check(config: &mut Notifications) -> Result<(), S3Error> {
    for (kind, d) in config.all_mut() {
        let parts: Vec<&str> = d.arn.split(':').collect();
        if parts.len() < 6 || parts[0] != "arn" || parts[2] != kind.service() {
            return Err(invalid_argument("The ARN could not be parsed", kind.argument(), &d.arn));
        }
        if let Some(e) = d.events.iter().find(|e| !EVENTS.contains(&e.as_str())) {
            return Err(invalid_argument("The event is not supported for notifications", "Event", e));
        }
        let mut seen = Vec::new();
        for (rule, _) in &mut d.rules {
            let named = match rule.to_ascii_lowercase().as_str() {
                "prefix" => "Prefix",
                "suffix" => "Suffix",
                _ => {
                    return Err(invalid_argument(
                        "filter rule name must be either prefix or suffix",
                        "FilterRule.Name",
                        rule,
                    ))
                }
            };
            if seen.contains(&named) {
                let message = format!("Cannot specify more than one {} rule in a filter.", named.to_ascii_lowercase());
                return Err(invalid_argument(&message, "FilterRule.Name", rule));
            }
            seen.push(named);
            *rule = named.to_owned();
        }
        if d.id.is_empty() {
            d.id = new_id();
        }
    }
    Ok(())
}

/// An id for a destination given none, as S3 makes them (base64 of random bytes).
fn new_id() -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(uuid::Uuid::new_v4().simple().to_string())
}

/// Why S3 could not validate a destination, in its words.
fn unreachable(kind: TargetKind, arn: &str, reach: Reach) -> Option<(String, String)> {
    let (noun, argument) = match kind {
        TargetKind::Function if reach != Reach::Allowed => {
            return Some((format!("{arn}, null"), format!("Not authorized to invoke function [{arn}]")))
        }
        TargetKind::Queue => ("queue", arn.to_owned()),
        _ => ("topic", arn.to_owned()),
    };
    match reach {
        Reach::Allowed => None,
        Reach::Missing => Some((argument, format!("The destination {noun} does not exist"))),
        Reach::Denied => Some((
            argument,
            format!("Permissions on the destination {noun} do not allow S3 to publish notifications from this bucket"),
        )),
    }
}

/// `arn:aws:s3:::<bucket>`.
pub(crate) fn bucket_arn(bucket: &str) -> String {
    format!("arn:aws:s3:::{bucket}")
}

/// The time of an event, as S3 writes it (`2026-12-06T10:00:00.123Z`).
fn event_time(ms: i64) -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    t.format(&fmt).unwrap_or_default()
}

/// Sequencers: hexadecimal, increasing (also across restarts: they start from the clock),
/// so that a key's events can be ordered.
fn next_sequencer() -> String {
    static LAST: AtomicU64 = AtomicU64::new(0);
    let floor = (crate::now_ms().max(0) as u64).saturating_mul(1_000_000);
    let step = |last: u64| Some(last.saturating_add(1).max(floor));
    let last = LAST.fetch_update(Ordering::SeqCst, Ordering::SeqCst, step).unwrap_or_default();
    format!("{:018X}", step(last).unwrap_or(floor))
}

/// What `encodeURIComponent`-style encoding leaves of a key in an event: letters, digits,
/// `-_.*` and `/`; a space becomes `+`.
fn event_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' | b'/' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The short id S3 shows as an account's `principalId`.
fn owner_principal(account: &str) -> String {
    let id = crate::canonical_id(account).to_ascii_uppercase();
    format!("A{}", &id[..13])
}

impl BucketDoc {
    /// The notifications an event causes, one per destination that wants it, ready to
    /// be queued with the write.
    pub(crate) fn events(&self, bucket: &BucketRecord, caller: &Caller, h: Happened<'_>) -> Vec<String> {
        let Some(config) = &self.notifications else { return Vec::new() };
        let wanted: Vec<(TargetKind, &Destination)> = config.all().filter(|(_, d)| d.wants(h.name, h.key)).collect();
        let mut out = Vec::new();
        if config.eventbridge {
            if let Some(n) = eventbridge_event(bucket, caller, &h) {
                out.push(serde_json::to_string(&n).unwrap_or_default());
            }
        }
        if wanted.is_empty() {
            return out;
        }
        // Tag and ACL changes are version 2.3's events, without a sequencer.
        let tagging = h.name.starts_with("ObjectTagging:") || h.name.starts_with("ObjectAcl:");
        let mut object = serde_json::Map::new();
        object.insert("key".into(), event_key(h.key).into());
        if let Some(size) = h.size {
            object.insert("size".into(), size.into());
        }
        if let Some(etag) = h.etag {
            object.insert("eTag".into(), etag.trim_matches('"').into());
        }
        // The `null` version goes unnamed, a delete marker has the ETag of nothing.
        if let Some(v) = h.version.filter(|v| *v != "null") {
            object.insert("versionId".into(), v.into());
        }
        if h.name == "ObjectRemoved:DeleteMarkerCreated" {
            object.insert("eTag".into(), "d41d8cd98f00b204e9800998ecf8427e".into());
        }
        if !tagging {
            object.insert("sequencer".into(), next_sequencer().into());
        }
        let now = crate::now_ms();
        let request_id = request_id();
        let arn = bucket_arn(&bucket.name);
        wanted
            .into_iter()
            .map(|(kind, d)| {
                let record = json!({
                    "eventVersion": if tagging { "2.3" } else { "2.1" },
                    "eventSource": "aws:s3",
                    "awsRegion": bucket.region,
                    "eventTime": event_time(now),
                    "eventName": h.name,
                    "userIdentity": { "principalId": caller.principal_id() },
                    "requestParameters": { "sourceIPAddress": caller.source_ip },
                    "responseElements": { "x-amz-request-id": request_id, "x-amz-id-2": host_id() },
                    "s3": {
                        "s3SchemaVersion": "1.0",
                        "configurationId": d.id,
                        "bucket": {
                            "name": bucket.name,
                            "ownerIdentity": { "principalId": owner_principal(&bucket.account) },
                            "arn": arn,
                        },
                        "object": Value::Object(object.clone()),
                    },
                });
                let mut n = outgoing(kind, &d.arn, bucket, json!({ "Records": [record] }).to_string());
                n.trace_header = caller.trace_header.clone();
                serde_json::to_string(&n).unwrap_or_default()
            })
            .for_each(|n| out.push(n));
        out
    }
}

/// What S3 puts on the owner's default bus for an event, as EventBridge's `aws.s3` events
/// are shaped; `None` for events S3 does not send there.
fn eventbridge_event(bucket: &BucketRecord, caller: &Caller, h: &Happened<'_>) -> Option<Outgoing> {
    let (detail_type, reason) = match h.name {
        "ObjectCreated:Put" => ("Object Created", "PutObject"),
        "ObjectCreated:Post" => ("Object Created", "POST Object"),
        "ObjectCreated:Copy" => ("Object Created", "CopyObject"),
        "ObjectCreated:CompleteMultipartUpload" => ("Object Created", "CompleteMultipartUpload"),
        "ObjectRemoved:Delete" | "ObjectRemoved:DeleteMarkerCreated" => ("Object Deleted", "DeleteObject"),
        "LifecycleExpiration:Delete" | "LifecycleExpiration:DeleteMarkerCreated" => {
            ("Object Deleted", "Lifecycle Expiration")
        }
        "ObjectTagging:Put" => ("Object Tags Added", ""),
        "ObjectTagging:Delete" => ("Object Tags Deleted", ""),
        "ObjectAcl:Put" => ("Object ACL Updated", ""),
        _ => return None,
    };
    let mut object = serde_json::Map::new();
    object.insert("key".into(), h.key.into());
    if let Some(size) = h.size {
        object.insert("size".into(), size.into());
    }
    if let Some(etag) = h.etag {
        object.insert("etag".into(), etag.trim_matches('"').into());
    }
    if let Some(v) = h.version.filter(|v| *v != "null") {
        object.insert("version-id".into(), v.into());
    }
    object.insert("sequencer".into(), next_sequencer().into());
    let mut detail = json!({
        "version": "0",
        "bucket": { "name": bucket.name },
        "object": Value::Object(object),
        "request-id": request_id(),
        "requester": caller.account,
        "source-ip-address": caller.source_ip,
    });
    if !reason.is_empty() {
        detail["reason"] = json!(reason);
    }
    if detail_type == "Object Deleted" {
        let kind =
            if h.name.ends_with("DeleteMarkerCreated") { "Delete Marker Created" } else { "Permanently Deleted" };
        detail["deletion-type"] = json!(kind);
    }
    let body = json!({ "detail-type": detail_type, "detail": detail }).to_string();
    let mut n = outgoing(
        TargetKind::EventBridge,
        &format!("arn:aws:events:{}:{}:event-bus/default", bucket.region, bucket.account),
        bucket,
        body,
    );
    n.trace_header = caller.trace_header.clone();
    Some(n)
}

fn outgoing(kind: TargetKind, arn: &str, bucket: &BucketRecord, body: String) -> Outgoing {
    Outgoing {
        kind,
        arn: arn.to_owned(),
        bucket_arn: bucket_arn(&bucket.name),
        account: bucket.account.clone(),
        body,
        trace_header: None,
    }
}

/// A request id as S3's look: sixteen upper-case hex digits.
fn request_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..16].to_ascii_uppercase()
}

/// An `x-amz-id-2`, as S3's look.
fn host_id() -> String {
    use base64::Engine;
    let bytes = [uuid::Uuid::new_v4().into_bytes(), uuid::Uuid::new_v4().into_bytes()].concat();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

impl S3Service {
    /// PutBucketNotificationConfiguration: checked, each destination validated (unless
    /// `skip_validation`, `x-amz-skip-destination-validation`), saved, and a test event
    /// sent to each queue and topic.
    pub fn set_notifications(
        &self,
        caller: &Caller,
        bucket: &str,
        mut config: Notifications,
        skip_validation: bool,
    ) -> Result<(), S3Error> {
        let b = self.owned(caller, bucket)?;
        let mut doc = crate::versioning::doc_of(&b)?;
        check(&mut config)?;
        let arn = bucket_arn(bucket);
        if !skip_validation {
            if config.all().any(|(_, d)| d.arn.split(':').nth(3) != Some(b.region.as_str())) {
                return Err(S3Error::new(
                    "InvalidArgument",
                    400,
                    "The notification destination service region is not valid for the bucket location constraint",
                ));
            }
            let targets = self.inner.targets.get();
            let mut failed =
                S3Error::new("InvalidArgument", 400, "Unable to validate the following destination configurations");
            for (kind, d) in config.all() {
                let reach = targets.map_or(Reach::Missing, |t| t.reach(kind, &d.arn, &arn, &b.account));
                if let Some((name, value)) = unreachable(kind, &d.arn, reach) {
                    let n = failed.fields.len() / 2 + 1;
                    failed = failed.with(format!("ArgumentName{n}"), name).with(format!("ArgumentValue{n}"), value);
                }
            }
            if !failed.fields.is_empty() {
                return Err(failed);
            }
        }
        let tests: Vec<String> = match skip_validation {
            true => Vec::new(),
            false => {
                let body = json!({
                    "Service": "Amazon S3",
                    "Event": "s3:TestEvent",
                    "Time": event_time(crate::now_ms()),
                    "Bucket": bucket,
                    "RequestId": request_id(),
                    "HostId": host_id(),
                })
                .to_string();
                // One test event to each queue and topic, however many configurations name it.
                let mut named = std::collections::HashSet::new();
                config
                    .all()
                    .filter(|(kind, d)| *kind != TargetKind::Function && named.insert(d.arn.as_str()))
                    .map(|(kind, d)| {
                        serde_json::to_string(&outgoing(kind, &d.arn, &b, body.clone())).unwrap_or_default()
                    })
                    .collect()
            }
        };
        let empty = config == Notifications::default();
        doc.notifications = (!empty).then_some(config);
        self.save_doc(bucket, &doc)?;
        self.queue_events(&tests)
    }

    /// GetBucketNotificationConfiguration.
    pub fn notifications(&self, caller: &Caller, bucket: &str) -> Result<Notifications, S3Error> {
        Ok(self.bucket_doc(caller, bucket)?.notifications.unwrap_or_default())
    }

    /// Queues notifications on their own (test events), and wakes the dispatcher.
    fn queue_events(&self, events: &[String]) -> Result<(), S3Error> {
        if !events.is_empty() {
            self.inner.store.push_events(events)?;
            self.inner.wake.notify_one();
        }
        Ok(())
    }

    /// After a write that queued `events` has committed: wakes the dispatcher.
    pub(crate) fn queued(&self, events: &[String]) {
        if !events.is_empty() {
            self.inner.wake.notify_one();
        }
    }

    /// Starts delivering queued notifications (those a restart found too) to `targets`,
    /// which configurations are validated against from now on. Needs a Tokio runtime.
    pub fn deliver_events(&self, targets: Arc<dyn EventTargets>) {
        if self.inner.targets.set(targets.clone()).is_err() {
            return;
        }
        let s3 = self.clone();
        tokio::spawn(async move { s3.dispatch(targets).await });
    }

    /// The dispatcher: oldest first, one at a time, so a key's events arrive in order.
    async fn dispatch(self, targets: Arc<dyn EventTargets>) {
        let mut backoff = Duration::from_millis(200);
        loop {
            let batch = match self.inner.store.events(64) {
                Ok(batch) => batch,
                Err(e) => {
                    tracing::error!("s3: reading queued notifications: {e}");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            if batch.is_empty() {
                self.inner.wake.notified().await;
                continue;
            }
            for (id, doc) in batch {
                match serde_json::from_str::<Outgoing>(&doc) {
                    Ok(n) => match targets.send(&n).await {
                        Ok(()) => backoff = Duration::from_millis(200),
                        Err(Undelivered::Refused(e)) => {
                            tracing::warn!(destination = %n.arn, "s3: a notification was refused: {e}");
                        }
                        Err(Undelivered::Later(e)) => {
                            tracing::warn!(destination = %n.arn, "s3: a notification waits to be sent again: {e}");
                            tokio::time::sleep(backoff).await;
                            backoff = (backoff * 2).min(Duration::from_secs(30));
                            break;
                        }
                    },
                    Err(e) => tracing::error!("s3: a queued notification is unreadable: {e}"),
                }
                if let Err(e) = self.inner.store.drop_event(id) {
                    tracing::error!("s3: forgetting a delivered notification: {e}");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn destination(events: &[&str], rules: &[(&str, &str)]) -> Destination {
        Destination {
            id: String::new(),
            arn: "arn:aws:sqs:us-east-1:000000000000:q".into(),
            events: events.iter().map(|e| (*e).to_owned()).collect(),
            rules: rules.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect(),
        }
    }

    #[test]
    fn destinations_want_their_events_under_their_filters() {
        let d = destination(&["s3:ObjectCreated:*"], &[("Prefix", "in/"), ("Suffix", ".txt")]);
        assert!(d.wants("ObjectCreated:Put", "in/a.txt"));
        assert!(d.wants("ObjectCreated:CompleteMultipartUpload", "in/b/c.txt"));
        assert!(!d.wants("ObjectRemoved:Delete", "in/a.txt"));
        assert!(!d.wants("ObjectCreated:Put", "out/a.txt"));
        assert!(!d.wants("ObjectCreated:Put", "in/a.png"));
        let d = destination(&["s3:ObjectRemoved:DeleteMarkerCreated"], &[]);
        assert!(d.wants("ObjectRemoved:DeleteMarkerCreated", "k"));
        assert!(!d.wants("ObjectRemoved:Delete", "k"));
    }

    #[test]
    fn configurations_are_checked_in_s3s_words() {
        let mut c = Notifications {
            queues: vec![destination(&["s3:ObjectCreated:*"], &[("prefix", "a")])],
            ..Default::default()
        };
        check(&mut c).unwrap();
        assert_eq!(c.queues[0].rules[0].0, "Prefix");
        assert!(!c.queues[0].id.is_empty());

        let mut bad = c.clone();
        bad.queues[0].arn = "invalid-queue".into();
        let e = check(&mut bad).unwrap_err();
        assert_eq!((e.code, e.message.as_str()), ("InvalidArgument", "The ARN could not be parsed"));
        assert_eq!(
            e.fields,
            [("ArgumentName".into(), "Queue".to_owned()), ("ArgumentValue".into(), "invalid-queue".to_owned())]
        );

        let mut bad = c.clone();
        bad.queues[0].rules = vec![("Middle".into(), "x".into())];
        assert_eq!(check(&mut bad).unwrap_err().message, "filter rule name must be either prefix or suffix");
        let mut bad = c.clone();
        bad.queues[0].rules = vec![("Prefix".into(), "x".into()), ("prefix".into(), "y".into())];
        assert_eq!(check(&mut bad).unwrap_err().message, "Cannot specify more than one prefix rule in a filter.");
        let mut bad = c;
        bad.queues[0].events = vec!["s3:ObjectCreated:Nope".into()];
        assert_eq!(check(&mut bad).unwrap_err().message, "The event is not supported for notifications");
    }

    #[test]
    fn unreachable_destinations_are_named_as_s3_names_them() {
        let q = "arn:aws:sqs:us-east-1:1:q";
        assert_eq!(unreachable(TargetKind::Queue, q, Reach::Allowed), None);
        assert_eq!(
            unreachable(TargetKind::Queue, q, Reach::Missing),
            Some((q.to_owned(), "The destination queue does not exist".to_owned()))
        );
        let t = "arn:aws:sns:us-east-1:1:t";
        assert_eq!(
            unreachable(TargetKind::Topic, t, Reach::Denied).unwrap().1,
            "Permissions on the destination topic do not allow S3 to publish notifications from this bucket"
        );
        let f = "arn:aws:lambda:us-east-1:1:function:f";
        assert_eq!(
            unreachable(TargetKind::Function, f, Reach::Missing),
            Some((format!("{f}, null"), format!("Not authorized to invoke function [{f}]")))
        );
    }

    #[test]
    fn keys_in_events_are_url_encoded_and_sequencers_increase() {
        assert_eq!(event_key("a@b"), "a%40b");
        assert_eq!(event_key("dir/my file+1.txt"), "dir/my+file%2B1.txt");
        assert_eq!(event_key("ü"), "%C3%BC");
        let (a, b) = (next_sequencer(), next_sequencer());
        assert!(b > a && a.len() == b.len());
        assert_eq!(event_time(1_000_123), "1970-01-01T00:16:40.123Z");
    }
}
