//! Subscription filters: PutSubscriptionFilter, DescribeSubscriptionFilters,
//! DeleteSubscriptionFilter (at most two per group), and the delivery of matching lines to
//! a Lambda function as CloudWatch Logs sends them: per stream, gathered for half a
//! second, gzip then base64 of a `DATA_MESSAGE`, in `{"awslogs": {"data": …}}`, as an
//! asynchronous invocation. (AWS's recorded answers show no `CONTROL_MESSAGE` reaching a
//! Lambda destination; it checks Kinesis and Firehose ones, which Lamina does not serve.) Lines of the
//! destination function's own log group are never sent back to it (AWS's recursion
//! guard), so a function subscribed to its own group cannot feed itself forever.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::io::Write;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::{LogAppend, LogGroupRecord};

use crate::{check_group_name, now_ms, Caller, LogsError, LogsService, Pattern};

/// The most subscription filters a group may have.
pub const MAX_FILTERS: usize = 2;
/// How long lines gather before they are sent.
const GATHER: Duration = Duration::from_millis(500);
/// The most lines one message carries.
const MAX_LINES: usize = 10_000;

/// Where subscribed lines go: Lambda, connected once it has started.
pub trait SubscriptionTarget: Send + Sync + 'static {
    /// Whether the function exists and (in authenticated mode) its policy lets CloudWatch
    /// Logs invoke it for the group `group_arn`: `None` when there is no such function.
    fn admits(&self, function_arn: &str, group_arn: &str) -> Option<bool>;

    /// The log group the function writes to (a subscription never sends it its own lines).
    fn own_group(&self, function_arn: &str) -> Option<String>;

    /// Invokes the function asynchronously with `payload`, for the group `group_arn`.
    fn invoke<'a>(
        &'a self,
        function_arn: &'a str,
        group_arn: &'a str,
        payload: String,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;
}

/// A subscription filter, as stored and described.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionFilter {
    /// Its name.
    pub name: String,
    /// Its filter pattern, as given.
    pub pattern: String,
    /// Where matching lines go.
    pub destination: String,
    /// The role named (stored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// `ByLogStream` or `Random`.
    pub distribution: String,
    /// Whether it applies to transformed logs (stored).
    #[serde(default)]
    pub apply_on_transformed: bool,
    /// Created, ms.
    pub created_ms: i64,
}

/// A filter in memory, with its pattern read.
struct Active {
    filter: SubscriptionFilter,
    pattern: Pattern,
}

/// Where gathered lines go: (group's owner, region, group, stream, filter, destination).
type Outbox = (String, String, String, String, String, String);

/// Subscriptions by group, and the lines waiting to be sent.
#[derive(Default)]
pub(crate) struct Subscriptions {
    by_group: HashMap<(String, String, String), Vec<Active>>,
    waiting: BTreeMap<Outbox, Vec<(i64, String)>>,
}

/// The arguments of PutSubscriptionFilter.
#[derive(Debug, Clone)]
pub struct NewFilter {
    /// The group.
    pub group: String,
    /// The filter's name.
    pub name: String,
    /// Its pattern.
    pub pattern: String,
    /// Its destination's ARN.
    pub destination: String,
    /// A role.
    pub role_arn: Option<String>,
    /// `ByLogStream` unless given.
    pub distribution: Option<String>,
    /// Whether it applies to transformed logs.
    pub apply_on_transformed: bool,
}

fn group_arn(account: &str, region: &str, group: &str) -> String {
    format!("arn:aws:logs:{region}:{account}:log-group:{group}:*")
}

fn gzip_base64(doc: &serde_json::Value) -> String {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let _ = gz.write_all(doc.to_string().as_bytes());
    let bytes = gz.finish().unwrap_or_default();
    let data = base64::engine::general_purpose::STANDARD.encode(bytes);
    json!({ "awslogs": { "data": data } }).to_string()
}

impl LogsService {
    pub(crate) fn load_subscriptions(&self) -> Result<(), LogsError> {
        let mut subs = self.inner.subscriptions.lock();
        for (g, doc) in self.inner.store.subscriptions()? {
            match serde_json::from_str::<SubscriptionFilter>(&doc) {
                Ok(filter) => match Pattern::parse(&filter.pattern) {
                    Ok(pattern) => subs
                        .by_group
                        .entry((g.account.clone(), g.region.clone(), g.name.clone()))
                        .or_default()
                        .push(Active { filter, pattern }),
                    Err(e) => tracing::error!(group = %g.name, "logs: a subscription no longer reads: {e}"),
                },
                Err(e) => tracing::error!(group = %g.name, "logs: an unreadable subscription was skipped: {e}"),
            }
        }
        Ok(())
    }

    /// Starts sending subscribed lines to `target`. Needs a Tokio runtime.
    pub fn deliver_subscriptions(&self, target: Arc<dyn SubscriptionTarget>) {
        if self.inner.target.set(target.clone()).is_err() {
            return;
        }
        let logs = self.clone();
        tokio::spawn(async move {
            loop {
                logs.inner.lines_waiting.notified().await;
                tokio::time::sleep(GATHER).await;
                logs.flush(&*target).await;
            }
        });
    }

    /// PutSubscriptionFilter: creates or replaces a filter.
    pub fn put_subscription(&self, c: &Caller, f: NewFilter) -> Result<(), LogsError> {
        let target = self.inner.target.get();
        let service = f.destination.split(':').nth(2).unwrap_or_default();
        let dest_account = f.destination.split(':').nth(4).unwrap_or_default();
        match service {
            "lambda" if dest_account != c.account => {
                return Err(LogsError::AccessDenied(
                    "Cross-account lambda invocation passing is not allowed. You must use DestinationPolicies to \
                     create cross account lambda triggers."
                        .into(),
                ))
            }
            "lambda" => {}
            "kinesis" | "firehose" if f.role_arn.is_none() => {
                return Err(LogsError::InvalidParameter(format!(
                    "destinationArn for vendor {service} cannot be used without roleArn"
                )))
            }
            _ => {
                return Err(LogsError::InvalidParameter(format!(
                    "Lamina delivers subscriptions to Lambda functions only, not to {}.",
                    f.destination
                )))
            }
        }
        check_group_name(&f.group, "logGroupName")?;
        let g = self.group(c, &f.group)?;
        let pattern = Pattern::parse(&f.pattern).map_err(|e| LogsError::InvalidParameter(e.to_string()))?;
        let arn = group_arn(&c.account, &c.region, &f.group);
        if let Some(t) = &target {
            if t.admits(&f.destination, &arn) != Some(true) {
                return Err(LogsError::InvalidParameter(
                    "Could not execute the lambda function. Make sure you have given CloudWatch Logs permission to \
                     execute your function."
                        .into(),
                ));
            }
        }
        let key = (c.account.clone(), c.region.clone(), f.group.clone());
        let mut subs = self.inner.subscriptions.lock();
        let existing = subs.by_group.get(&key).map_or(0, |v| v.iter().filter(|a| a.filter.name != f.name).count());
        if existing >= MAX_FILTERS {
            return Err(LogsError::LimitExceeded("Resource limit exceeded.".into()));
        }
        let filter = SubscriptionFilter {
            name: f.name.clone(),
            pattern: f.pattern,
            destination: f.destination,
            role_arn: f.role_arn,
            distribution: f.distribution.unwrap_or_else(|| "ByLogStream".into()),
            apply_on_transformed: f.apply_on_transformed,
            created_ms: now_ms(),
        };
        let doc = serde_json::to_string(&filter).expect("a filter serialises");
        self.inner.store.put_subscription(g.id, &f.name, &doc)?;
        let list = subs.by_group.entry(key).or_default();
        list.retain(|a| a.filter.name != f.name);
        list.push(Active { filter, pattern });
        list.sort_by(|a, b| a.filter.name.cmp(&b.filter.name));
        Ok(())
    }

    /// DescribeSubscriptionFilters: the group's filters by name, those starting with `prefix`.
    pub fn subscriptions(
        &self,
        c: &Caller,
        group: &str,
        prefix: Option<&str>,
    ) -> Result<Vec<SubscriptionFilter>, LogsError> {
        self.group(c, group)?;
        let subs = self.inner.subscriptions.lock();
        let key = (c.account.clone(), c.region.clone(), group.to_owned());
        Ok(subs
            .by_group
            .get(&key)
            .map(|v| {
                v.iter()
                    .filter(|a| prefix.is_none_or(|p| a.filter.name.starts_with(p)))
                    .map(|a| a.filter.clone())
                    .collect()
            })
            .unwrap_or_default())
    }

    /// DeleteSubscriptionFilter.
    pub fn delete_subscription(&self, c: &Caller, group: &str, name: &str) -> Result<(), LogsError> {
        let g = self.group(c, group)?;
        if !self.inner.store.delete_subscription(g.id, name)? {
            return Err(LogsError::ResourceNotFound("The specified subscription filter does not exist.".into()));
        }
        let mut subs = self.inner.subscriptions.lock();
        if let Some(list) = subs.by_group.get_mut(&(c.account.clone(), c.region.clone(), group.to_owned())) {
            list.retain(|a| a.filter.name != name);
        }
        Ok(())
    }

    /// A group is gone: so are its filters.
    pub(crate) fn forget_subscriptions(&self, g: &LogGroupRecord) {
        self.inner.subscriptions.lock().by_group.remove(&(g.account.clone(), g.region.clone(), g.name.clone()));
    }

    /// Lines just committed: those a subscription matches wait to be sent.
    pub(crate) fn subscribed(&self, batches: &[LogAppend]) {
        if self.inner.target.get().is_none() {
            return;
        }
        let mut subs = self.inner.subscriptions.lock();
        if subs.by_group.is_empty() {
            return;
        }
        let mut any = false;
        let Subscriptions { by_group, waiting } = &mut *subs;
        for b in batches {
            let Some(filters) = by_group.get(&(b.account.clone(), b.region.clone(), b.group.clone())) else {
                continue;
            };
            for a in filters {
                let matched: Vec<(i64, String)> =
                    b.events.iter().filter(|(_, m)| a.pattern.matches(m)).cloned().collect();
                if matched.is_empty() {
                    continue;
                }
                let key = (
                    b.account.clone(),
                    b.region.clone(),
                    b.group.clone(),
                    b.stream.clone(),
                    a.filter.name.clone(),
                    a.filter.destination.clone(),
                );
                waiting.entry(key).or_default().extend(matched);
                any = true;
            }
        }
        drop(subs);
        if any {
            self.inner.lines_waiting.notify_one();
        }
    }

    /// Sends what waits: one message per stream and filter.
    async fn flush(&self, target: &dyn SubscriptionTarget) {
        let waiting = std::mem::take(&mut self.inner.subscriptions.lock().waiting);
        let mut seq: u64 = 0;
        for ((account, region, group, stream, filter, destination), lines) in waiting {
            if target.own_group(&destination).as_deref() == Some(group.as_str()) {
                continue;
            }
            let arn = group_arn(&account, &region, &group);
            for chunk in lines.chunks(MAX_LINES) {
                let events: Vec<serde_json::Value> = chunk
                    .iter()
                    .map(|(ts, message)| {
                        seq += 1;
                        // A 56-digit id, as CloudWatch Logs' are: the time, then a sequence.
                        let id = format!("{:0>20}{:0>36}", ts.max(&0), seq);
                        json!({ "id": id, "timestamp": ts, "message": message })
                    })
                    .collect();
                let doc = json!({
                    "messageType": "DATA_MESSAGE",
                    "owner": account,
                    "logGroup": group,
                    "logStream": stream,
                    "subscriptionFilters": [filter],
                    "logEvents": events,
                });
                if let Err(e) = target.invoke(&destination, &arn, gzip_base64(&doc)).await {
                    tracing::warn!(destination = %destination, group = %group, "logs: subscribed lines were not sent: {e}");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn messages_are_gzip_then_base64_under_awslogs_data() {
        let doc = json!({"messageType": "DATA_MESSAGE", "logEvents": [{"message": "hi"}]});
        let wrapped: serde_json::Value = serde_json::from_str(&gzip_base64(&doc)).unwrap();
        let data = wrapped["awslogs"]["data"].as_str().unwrap();
        let gz = base64::engine::general_purpose::STANDARD.decode(data).unwrap();
        let mut text = String::new();
        flate2::read::GzDecoder::new(&gz[..]).read_to_string(&mut text).unwrap();
        assert_eq!(serde_json::from_str::<serde_json::Value>(&text).unwrap(), doc);
    }
}
