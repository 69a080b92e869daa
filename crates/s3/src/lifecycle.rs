//! Lifecycle expiration, from the bucket's lifecycle configuration: current versions
//! expire a number of days after they were written (at the next midnight UTC, as S3
//! rounds) or on a date, noncurrent versions some days after they stopped being current,
//! lone delete markers when asked (`ExpiredObjectDeleteMarker`), and unfinished multipart
//! uploads some days after they began. Rules filter by prefix, tags and size. A sweep
//! (every minute, and when the server's clock is moved on) does what is due, with
//! `LifecycleExpiration:*` events; reads and writes of a current version that a rule will
//! expire carry `x-amz-expiration`. Transitions are kept in the configuration but there
//! is one storage class here, so nothing moves.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;
use store::{BucketRecord, ObjectRecord};

use crate::notifications::Happened;
use crate::settings::Setting;
use crate::tagging::BucketDoc;
use crate::{S3Error, S3Service, Stored};

const DAY_MS: i64 = 24 * 3600 * 1000;

/// One enabled rule, as S3 applies it.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Rule {
    id: String,
    prefix: String,
    tags: Vec<(String, String)>,
    larger_than: Option<u64>,
    smaller_than: Option<u64>,
    /// `Expiration.Days`.
    days: Option<i64>,
    /// `Expiration.Date`, ms.
    date_ms: Option<i64>,
    /// `Expiration.ExpiredObjectDeleteMarker`.
    lone_markers: bool,
    /// `NoncurrentVersionExpiration.NoncurrentDays`.
    noncurrent_days: Option<i64>,
    /// `AbortIncompleteMultipartUpload.DaysAfterInitiation`.
    abort_days: Option<i64>,
}

/// `days` after `ms` (whatever a rule names, without overflowing).
fn after_days(ms: i64, days: i64) -> i64 {
    ms.saturating_add(days.saturating_mul(DAY_MS))
}

/// A timestamp in the configuration's tree: seconds, or an ISO 8601 text.
fn time_ms(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_f64().map(|s| (s * 1000.0) as i64),
        Value::String(s) => time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
            .ok()
            .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64),
        _ => None,
    }
}

fn tag_pairs(v: Option<&Value>) -> Vec<(String, String)> {
    let text = |t: &Value, m: &str| t.get(m).and_then(Value::as_str).unwrap_or_default().to_owned();
    match v {
        Some(Value::Array(tags)) => tags.iter().map(|t| (text(t, "Key"), text(t, "Value"))).collect(),
        Some(t @ Value::Object(_)) => vec![(text(t, "Key"), text(t, "Value"))],
        _ => Vec::new(),
    }
}

/// The enabled rules of a lifecycle configuration.
pub(crate) fn rules(config: &Value) -> Vec<Rule> {
    let list = config.get("Rules").and_then(Value::as_array);
    list.into_iter()
        .flatten()
        .filter(|r| r.get("Status").and_then(Value::as_str) == Some("Enabled"))
        .map(|r| {
            let filter = r.get("Filter");
            let and = filter.and_then(|f| f.get("And"));
            let scope = and.or(filter);
            let text = |v: Option<&Value>, m: &str| v.and_then(|v| v.get(m)).and_then(Value::as_str).map(str::to_owned);
            let size = |m: &str| scope.and_then(|f| f.get(m)).and_then(Value::as_u64);
            let int = |path: &str| r.pointer(path).and_then(Value::as_i64);
            Rule {
                id: text(Some(r), "ID").unwrap_or_default(),
                prefix: text(scope, "Prefix").or_else(|| text(Some(r), "Prefix")).unwrap_or_default(),
                tags: match and {
                    Some(a) => tag_pairs(a.get("Tags")),
                    None => tag_pairs(filter.and_then(|f| f.get("Tag"))),
                },
                larger_than: size("ObjectSizeGreaterThan"),
                smaller_than: size("ObjectSizeLessThan"),
                days: int("/Expiration/Days"),
                date_ms: r.pointer("/Expiration/Date").and_then(time_ms),
                lone_markers: r.pointer("/Expiration/ExpiredObjectDeleteMarker").and_then(Value::as_bool) == Some(true),
                noncurrent_days: int("/NoncurrentVersionExpiration/NoncurrentDays"),
                abort_days: int("/AbortIncompleteMultipartUpload/DaysAfterInitiation"),
            }
        })
        .collect()
}

impl Rule {
    /// Whether it covers an object of this key, tags and size.
    fn covers(&self, key: &str, tags: &BTreeMap<String, String>, size: u64) -> bool {
        key.starts_with(&self.prefix)
            && self.tags.iter().all(|(k, v)| tags.get(k) == Some(v))
            && self.larger_than.is_none_or(|n| size > n)
            && self.smaller_than.is_none_or(|n| size < n)
    }

    /// When a current version written at `written_ms` expires under it, if it does.
    fn expiry(&self, written_ms: i64) -> Option<i64> {
        match (self.days, self.date_ms) {
            // The day count is added, then rounded up to the next midnight UTC.
            (Some(days), _) => Some((after_days(written_ms, days) / DAY_MS).saturating_add(1).saturating_mul(DAY_MS)),
            (None, Some(date)) => Some(date),
            _ => None,
        }
    }
}

/// `x-amz-expiration`: when a current version expires, and by which rule.
fn header(expiry_ms: i64, rule: &str) -> String {
    let fmt = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let t = time::OffsetDateTime::from_unix_timestamp(expiry_ms / 1000).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!("expiry-date=\"{}\", rule-id=\"{rule}\"", t.format(&fmt).unwrap_or_default())
}

impl BucketDoc {
    fn lifecycle(&self) -> Vec<Rule> {
        S3Service::stored_setting(self, Setting::Lifecycle).map(rules).unwrap_or_default()
    }

    /// The `x-amz-expiration` a current version carries, if a rule will expire it (the
    /// earliest, when several will).
    pub(crate) fn expiration(&self, o: &Stored) -> Option<String> {
        self.lifecycle()
            .iter()
            .filter(|r| r.covers(&o.key, &o.meta.tags, o.size))
            .filter_map(|r| Some((r.expiry(o.modified_ms)?, r.id.as_str())))
            .min()
            .map(|(at, id)| header(at, id))
    }
}

impl S3Service {
    /// Starts the sweeps: one a minute, and one whenever the server's clock moves on
    /// ([`S3Service::clock_moved`]). Needs a Tokio runtime.
    pub fn expire_objects(&self) {
        let s3 = self.clone();
        let nudged = self.inner.clock_moved.clone();
        tokio::spawn(async move {
            loop {
                let s = s3.clone();
                match tokio::task::spawn_blocking(move || s.sweep()).await {
                    Ok(Ok(0)) | Err(_) => {}
                    Ok(Ok(n)) => tracing::info!(expired = n, "s3: lifecycle expiration"),
                    Ok(Err(e)) => tracing::warn!("s3: lifecycle sweep: {e}"),
                }
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(60)) => {}
                    _ = nudged.notified() => {}
                }
            }
        });
    }

    /// Does every rule's due work, by the clock; how many versions and uploads went.
    pub fn sweep(&self) -> Result<usize, S3Error> {
        let now = self.inner.clock.now_ms();
        let mut done = 0;
        for b in self.inner.store.all_buckets()? {
            let doc = crate::versioning::doc_of(&b)?;
            let rules = doc.lifecycle();
            if rules.is_empty() {
                continue;
            }
            done += self.expire_current(&b, &doc, &rules, now)?;
            done += self.expire_versions(&b, &doc, &rules, now)?;
            done += self.abort_uploads(&b, &rules, now)?;
        }
        Ok(done)
    }

    /// Current versions past their expiry: gone, or behind a delete marker in a
    /// versioned bucket.
    fn expire_current(&self, b: &BucketRecord, doc: &BucketDoc, rules: &[Rule], now: i64) -> Result<usize, S3Error> {
        let (mut after, mut done) = (String::new(), 0);
        loop {
            let page = self.inner.store.list(&b.name, "", &after, 1000)?;
            let Some(last) = page.last() else { return Ok(done) };
            after = last.key.clone();
            for r in page {
                let o = Stored::of(r.clone())?;
                let due = rules
                    .iter()
                    .filter(|rule| rule.covers(&o.key, &o.meta.tags, o.size))
                    .any(|rule| rule.expiry(o.modified_ms).is_some_and(|at| at <= now));
                if due {
                    self.expire_one(b, doc, &r)?;
                    done += 1;
                }
            }
        }
    }

    fn expire_one(&self, b: &BucketRecord, doc: &BucketDoc, r: &ObjectRecord) -> Result<(), S3Error> {
        let system = lifecycle_caller(b);
        if doc.versioning.as_deref() == Some("Enabled") {
            // By the clock the rules go by: a noncurrent version's days start here.
            let at = self.inner.clock.now_ms();
            self.put_marker(b, doc, &r.key, &system, "LifecycleExpiration:DeleteMarkerCreated", at)?;
        } else {
            let happened =
                Happened { name: "LifecycleExpiration:Delete", key: &r.key, size: None, etag: None, version: None };
            let events = doc.events(b, &system, happened);
            self.drop_version(&b.name, &r.key, &r.version, &events)?;
        }
        Ok(())
    }

    /// Noncurrent versions past their days (counted from when their successor was
    /// written), and delete markers left alone when a rule asks.
    fn expire_versions(&self, b: &BucketRecord, doc: &BucketDoc, rules: &[Rule], now: i64) -> Result<usize, S3Error> {
        let wants = |f: fn(&Rule) -> bool| rules.iter().any(f);
        if !wants(|r| r.noncurrent_days.is_some()) && !wants(|r| r.lone_markers) {
            return Ok(0);
        }
        let (mut after, mut done): (Option<(String, i64)>, usize) = (None, 0);
        // A key's versions come newest first: each older one stopped being current when
        // the one before it was written.
        let mut successor: Option<ObjectRecord> = None;
        loop {
            let marker = after.as_ref().map(|(k, seq)| (k.as_str(), Some(*seq)));
            let page = self.inner.store.versions(&b.name, "", marker, 1000)?;
            let Some(last) = page.last() else { return Ok(done) };
            after = Some((last.key.clone(), last.seq));
            for (i, r) in page.iter().enumerate() {
                let newer = successor.as_ref().filter(|s| s.key == r.key);
                let o = Stored::of(r.clone())?;
                let due = match newer {
                    Some(s) => rules
                        .iter()
                        .filter(|rule| rule.covers(&r.key, &o.meta.tags, o.size))
                        .any(|rule| rule.noncurrent_days.is_some_and(|d| after_days(s.modified_ms, d) <= now)),
                    // The current version: a delete marker with nothing older is lone.
                    None => {
                        let older = page.get(i + 1).is_some_and(|n| n.key == r.key);
                        r.marker
                            && !older
                            && rules.iter().any(|rule| rule.lone_markers && r.key.starts_with(&rule.prefix))
                    }
                };
                if due {
                    let events = match r.marker {
                        true => Vec::new(),
                        false => doc.events(
                            b,
                            &lifecycle_caller(b),
                            Happened {
                                name: "LifecycleExpiration:Delete",
                                key: &r.key,
                                size: None,
                                etag: None,
                                version: Some(&r.version),
                            },
                        ),
                    };
                    self.drop_version(&b.name, &r.key, &r.version, &events)?;
                    done += 1;
                }
                successor = Some(r.clone());
            }
        }
    }

    /// Multipart uploads begun more than a rule's days ago, aborted.
    fn abort_uploads(&self, b: &BucketRecord, rules: &[Rule], now: i64) -> Result<usize, S3Error> {
        if !rules.iter().any(|r| r.abort_days.is_some()) {
            return Ok(0);
        }
        let mut done = 0;
        for u in self.inner.store.uploads(&b.name, "", ("", ""), 10_000)? {
            let due = rules.iter().any(|r| {
                u.key.starts_with(&r.prefix) && r.abort_days.is_some_and(|d| after_days(u.initiated_ms, d) <= now)
            });
            if due {
                let gone = self.inner.store.end_upload(&u.id, None, &[])?;
                gone.iter().for_each(|blob| self.inner.blobs.remove(blob));
                done += 1;
            }
        }
        Ok(done)
    }
}

/// Who lifecycle events name: S3 itself, for the bucket's owner.
fn lifecycle_caller(b: &BucketRecord) -> crate::Caller {
    let mut c = crate::Caller::new(&b.account, &b.region);
    c.principal = "s3.amazonaws.com".into();
    c.source_ip = "s3.amazonaws.com".into();
    c
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn rules_read_their_filters_and_round_expiry_to_midnight() {
        let config = json!({ "Rules": [
            { "ID": "logs", "Status": "Enabled", "Filter": { "And": { "Prefix": "logs/", "Tags": [{ "Key": "t", "Value": "1" }],
              "ObjectSizeGreaterThan": 10 } }, "Expiration": { "Days": 1 } },
            { "ID": "off", "Status": "Disabled", "Filter": {}, "Expiration": { "Days": 1 } },
            { "ID": "old", "Status": "Enabled", "Prefix": "tmp/", "NoncurrentVersionExpiration": { "NoncurrentDays": 2 },
              "AbortIncompleteMultipartUpload": { "DaysAfterInitiation": 3 } },
        ]});
        let r = rules(&config);
        assert_eq!(r.len(), 2);
        let tags: BTreeMap<String, String> = [("t".to_owned(), "1".to_owned())].into();
        assert!(r[0].covers("logs/a", &tags, 11));
        assert!(!r[0].covers("logs/a", &tags, 10));
        assert!(!r[0].covers("logs/a", &BTreeMap::new(), 11));
        assert!(!r[0].covers("other", &tags, 11));
        // Written at 10:00 on day 0, one day on: midnight starting day 2.
        let written = 10 * 3600 * 1000;
        assert_eq!(r[0].expiry(written), Some(2 * DAY_MS));
        assert_eq!((r[1].prefix.as_str(), r[1].noncurrent_days, r[1].abort_days), ("tmp/", Some(2), Some(3)));
        assert_eq!(header(2 * DAY_MS, "logs"), "expiry-date=\"Sat, 03 Jan 1970 00:00:00 GMT\", rule-id=\"logs\"");
    }
}
