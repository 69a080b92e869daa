//! Pure rate limiting: token buckets (steady rate and burst) and usage-plan quota periods.
//! Time is passed in, so the rules are testable without a clock.

use model::sync::Mutex;
use std::collections::HashMap;
use std::time::Instant;

/// A token bucket: holds up to `burst` tokens, refilled at `rate` per second; each
/// request takes one.
#[derive(Debug, Clone)]
pub struct Bucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    /// A full bucket.
    pub fn new(rate: f64, burst: f64, now: Instant) -> Bucket {
        Bucket { rate: rate.max(0.0), burst: burst.max(0.0), tokens: burst.max(0.0), last: now }
    }

    /// Takes a token if there is one.
    pub fn try_take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Named buckets, made on first use; a bucket whose limits changed starts over.
#[derive(Debug, Default)]
pub struct Buckets {
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl Buckets {
    /// Takes a token from the bucket `key` with these limits.
    pub fn allow(&self, key: &str, rate: f64, burst: f64, now: Instant) -> bool {
        let mut buckets = self.buckets.lock();
        match buckets.get_mut(key) {
            Some(b) if b.rate == rate.max(0.0) && b.burst == burst.max(0.0) => b.try_take(now),
            _ => {
                let mut b = Bucket::new(rate, burst, now);
                let ok = b.try_take(now);
                buckets.insert(key.to_owned(), b);
                ok
            }
        }
    }
}

/// A usage plan's quota period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// A UTC day.
    Day,
    /// A week starting on Monday, UTC.
    Week,
    /// A calendar month, UTC.
    Month,
}

impl Period {
    /// Parses `DAY`, `WEEK` or `MONTH`.
    pub fn parse(s: &str) -> Option<Period> {
        match s {
            "DAY" => Some(Period::Day),
            "WEEK" => Some(Period::Week),
            "MONTH" => Some(Period::Month),
            _ => None,
        }
    }

    /// When the period holding `ms` (ms since the epoch) began, in ms.
    pub fn start(self, ms: i64) -> i64 {
        const DAY: i64 = 86_400_000;
        let day = ms.div_euclid(DAY);
        match self {
            Period::Day => day * DAY,
            // 1970-01-01 was a Thursday: Monday-based weeks start 3 days later.
            Period::Week => (day - (day + 3).rem_euclid(7)) * DAY,
            Period::Month => {
                let t =
                    time::OffsetDateTime::from_unix_timestamp(day * 86_400).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
                let first = t.date().replace_day(1).unwrap_or(t.date());
                first.midnight().assume_utc().unix_timestamp() * 1000
            }
        }
    }
}

/// Requests counted against quotas, per plan and key, in their current period.
#[derive(Debug, Default)]
pub struct Quotas {
    used: Mutex<HashMap<(String, String), (i64, u64)>>,
}

impl Quotas {
    /// Counts one request if it is within `limit` for the period holding `now_ms`; returns
    /// whether it was.
    pub fn take(&self, plan: &str, key: &str, limit: u64, period: Period, now_ms: i64) -> bool {
        let start = period.start(now_ms);
        let mut used = self.used.lock();
        let entry = used.entry((plan.to_owned(), key.to_owned())).or_insert((start, 0));
        if entry.0 != start {
            *entry = (start, 0);
        }
        if entry.1 >= limit {
            return false;
        }
        entry.1 += 1;
        true
    }

    /// Requests used so far in the current period.
    pub fn used(&self, plan: &str, key: &str, period: Period, now_ms: i64) -> u64 {
        let used = self.used.lock();
        match used.get(&(plan.to_owned(), key.to_owned())) {
            Some((start, n)) if *start == period.start(now_ms) => *n,
            _ => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_bucket_allows_its_burst_then_its_rate() {
        let t0 = Instant::now();
        let mut b = Bucket::new(2.0, 3.0, t0);
        assert!((0..3).all(|_| b.try_take(t0)));
        assert!(!b.try_take(t0));
        assert!(b.try_take(t0 + Duration::from_millis(500)));
        assert!(!b.try_take(t0 + Duration::from_millis(600)));
        // Never more than the burst, however long it waited.
        let later = t0 + Duration::from_secs(100);
        assert_eq!((0..10).filter(|_| b.try_take(later)).count(), 3);
    }

    #[test]
    fn a_zero_burst_allows_nothing_and_changed_limits_start_over() {
        let now = Instant::now();
        let buckets = Buckets::default();
        assert!(!buckets.allow("k", 100.0, 0.0, now));
        assert!(buckets.allow("k", 100.0, 1.0, now));
        assert!(!buckets.allow("k", 100.0, 1.0, now));
    }

    #[test]
    fn quotas_reset_with_their_period() {
        let q = Quotas::default();
        let day = 86_400_000;
        let t = 20_000 * day + 5_000;
        assert!(q.take("p", "k", 2, Period::Day, t));
        assert!(q.take("p", "k", 2, Period::Day, t + 1));
        assert!(!q.take("p", "k", 2, Period::Day, t + 2));
        assert_eq!(q.used("p", "k", Period::Day, t), 2);
        assert!(q.take("p", "k", 2, Period::Day, t + day));
        assert!(q.take("p", "other", 2, Period::Day, t));
    }

    #[test]
    fn periods_start_on_utc_day_monday_and_the_first() {
        // 2026-11-27 (a Friday) 13:00 UTC.
        let ms = 1_795_784_400_000;
        assert_eq!(Period::Day.start(ms), 1_795_737_600_000);
        assert_eq!(Period::Week.start(ms), 1_795_392_000_000); // Monday 2026-11-23
        assert_eq!(Period::Month.start(ms), 1_793_491_200_000); // 2026-11-01
    }
}
