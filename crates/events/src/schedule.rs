//! Schedule expressions (pure): `rate(…)`, AWS's six-field `cron(…)` and Scheduler's
//! `at(…)`, and the next time each falls due after a moment, in a time zone.

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use jiff::Timestamp;

/// A parsed schedule expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expression {
    /// Every `ms` milliseconds, counted from an anchor (the rule's or schedule's start).
    Rate {
        /// The period.
        ms: i64,
    },
    /// On the times the fields allow.
    Cron(Cron),
    /// Once, at a wall-clock time.
    At(DateTime),
}

/// A cron expression's fields: minutes, hours, day of month, month, day of week, year.
#[derive(Debug, Clone, PartialEq)]
pub struct Cron {
    minutes: u64,
    hours: u32,
    days: Days,
    months: u16,
    years: Vec<(i16, i16)>,
}

#[derive(Debug, Clone, PartialEq)]
enum Days {
    /// Days of the month (bits 1–31).
    OfMonth(u32),
    /// The last day of the month, less an offset (`L`, `L-2`).
    LastOfMonth(u8),
    /// The weekday nearest a day (`15W`), or the month's last weekday (`LW`).
    Weekday(Option<u8>),
    /// Days of the week (bits 1–7, Sunday 1).
    OfWeek(u8),
    /// The last of a weekday in the month (`6L`, or `L`: Saturday).
    LastOfWeek(u8),
    /// The nth of a weekday in the month (`3#2`).
    Nth(u8, u8),
}

impl Expression {
    /// Reads `rate(5 minutes)`, `cron(0 12 * * ? *)` or (`at_allowed`) `at(2030-01-01T10:00:00)`;
    /// `None` when the expression is not valid.
    pub fn parse(text: &str, at_allowed: bool) -> Option<Expression> {
        if let Some(inner) = text.strip_prefix("rate(").and_then(|s| s.strip_suffix(')')) {
            let (n, unit) = inner.split_once(' ')?;
            if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let n: i64 = n.parse().ok().filter(|n| *n > 0)?;
            let unit_ms = match (unit, n == 1) {
                ("minute", true) | ("minutes", false) => 60_000,
                ("hour", true) | ("hours", false) => 3_600_000,
                ("day", true) | ("days", false) => 86_400_000,
                _ => return None,
            };
            return Some(Expression::Rate { ms: n.checked_mul(unit_ms)? });
        }
        if let Some(inner) = text.strip_prefix("cron(").and_then(|s| s.strip_suffix(')')) {
            return Cron::parse(inner).map(Expression::Cron);
        }
        if at_allowed {
            let inner = text.strip_prefix("at(")?.strip_suffix(')')?;
            return inner.parse::<DateTime>().ok().filter(|d| d.subsec_nanosecond() == 0).map(Expression::At);
        }
        None
    }

    /// The first time after `after_ms` this falls due, in `tz`; a rate counts from
    /// `anchor_ms`. `None` when it never does again.
    pub fn next_after(&self, after_ms: i64, anchor_ms: i64, tz: &TimeZone) -> Option<i64> {
        match self {
            Expression::Rate { ms } => {
                let periods = if after_ms < anchor_ms { 0 } else { (after_ms - anchor_ms) / ms + 1 };
                Some(anchor_ms + periods * ms)
            }
            Expression::At(at) => {
                let due = at.to_zoned_datetime(tz.clone()).ok()?.timestamp().as_millisecond();
                (due > after_ms).then_some(due)
            }
            Expression::Cron(c) => c.next_after(after_ms, tz),
        }
    }
}

fn month_number(s: &str) -> Option<u32> {
    const NAMES: [&str; 12] = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
    NAMES.iter().position(|n| n.eq_ignore_ascii_case(s)).map(|i| i as u32 + 1).or_else(|| s.parse().ok())
}

fn weekday_number(s: &str) -> Option<u32> {
    const NAMES: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
    NAMES.iter().position(|n| n.eq_ignore_ascii_case(s)).map(|i| i as u32 + 1).or_else(|| s.parse().ok())
}

/// A field's set as bits: `*`, `a`, `a-b`, `a/n`, `*/n`, `a-b/n`, comma lists.
fn bits(field: &str, lo: u32, hi: u32, name: impl Fn(&str) -> Option<u32>) -> Option<u64> {
    let mut set = 0u64;
    for part in field.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (r, s.parse::<u32>().ok().filter(|s| *s > 0)?),
            None => (part, 1),
        };
        let (from, to) = match range {
            "*" => (lo, hi),
            r => match r.split_once('-') {
                Some((a, b)) => (name(a)?, name(b)?),
                None if part.contains('/') => (name(r)?, hi),
                None => (name(r)?, name(r)?),
            },
        };
        if from < lo || to > hi || from > to {
            return None;
        }
        let mut v = from;
        while v <= to {
            set |= 1 << v;
            v += step;
        }
    }
    Some(set)
}

impl Cron {
    /// Reads the six fields.
    pub fn parse(text: &str) -> Option<Cron> {
        let fields: Vec<&str> = text.split_whitespace().collect();
        let [min, hour, dom, month, dow, year] = fields.as_slice() else { return None };
        let number = |s: &str| s.parse::<u32>().ok();
        let minutes = bits(min, 0, 59, number)?;
        let hours = bits(hour, 0, 23, number)? as u32;
        let months = bits(month, 1, 12, month_number)? as u16;
        let days = match (*dom, *dow) {
            ("?", "?") => return None,
            ("?", dow) => Self::week_days(dow)?,
            (dom, "?") => Self::month_days(dom)?,
            _ => return None,
        };
        let mut years = Vec::new();
        for part in year.split(',') {
            let (from, to) = match part {
                "*" => (1970, 2199),
                p => match p.split_once('-') {
                    Some((a, b)) => (a.parse().ok()?, b.parse().ok()?),
                    None => (p.parse().ok()?, p.parse().ok()?),
                },
            };
            if !(1970..=2199).contains(&from) || !(1970..=2199).contains(&to) || from > to {
                return None;
            }
            years.push((from, to));
        }
        Some(Cron { minutes, hours, days, months, years })
    }

    fn month_days(dom: &str) -> Option<Days> {
        Some(match dom {
            "L" => Days::LastOfMonth(0),
            "LW" => Days::Weekday(None),
            d if d.starts_with("L-") => Days::LastOfMonth(d[2..].parse().ok().filter(|n: &u8| *n < 31)?),
            d if d.ends_with('W') => {
                Days::Weekday(Some(d[..d.len() - 1].parse().ok().filter(|n: &u8| (1..=31).contains(n))?))
            }
            d => Days::OfMonth(bits(d, 1, 31, |s| s.parse().ok())? as u32),
        })
    }

    fn week_days(dow: &str) -> Option<Days> {
        Some(if dow == "L" {
            Days::LastOfWeek(7)
        } else if let Some(day) = dow.strip_suffix('L') {
            Days::LastOfWeek(weekday_number(day).filter(|d| (1..=7).contains(d))? as u8)
        } else if let Some((day, n)) = dow.split_once('#') {
            let day = weekday_number(day).filter(|d| (1..=7).contains(d))? as u8;
            Days::Nth(day, n.parse().ok().filter(|n: &u8| (1..=5).contains(n))?)
        } else {
            Days::OfWeek(bits(dow, 1, 7, weekday_number)? as u8)
        })
    }

    fn year_allowed(&self, y: i16) -> bool {
        self.years.iter().any(|(a, b)| (*a..=*b).contains(&y))
    }

    fn day_allowed(&self, d: Date) -> bool {
        let day = d.day() as u32;
        let last = d.days_in_month() as u32;
        let weekday = d.weekday().to_sunday_one_offset() as u32;
        match self.days {
            Days::OfMonth(set) => set & (1 << day) != 0,
            Days::LastOfMonth(back) => day + back as u32 == last,
            Days::OfWeek(set) => set & (1 << weekday) != 0,
            Days::LastOfWeek(w) => weekday == w as u32 && day + 7 > last,
            Days::Nth(w, n) => weekday == w as u32 && (day - 1) / 7 + 1 == n as u32,
            Days::Weekday(target) => {
                let target = target.map_or(last, |t| (t as u32).min(last));
                let nearest = |t: u32| -> u32 {
                    let wd = d.first_of_month().weekday().to_sunday_one_offset() as u32;
                    // The weekday (Sunday 1) of day `t`.
                    let of = |day: u32| (wd - 1 + day - 1) % 7 + 1;
                    match of(t) {
                        1 if t == last => t - 2,
                        1 => t + 1,
                        7 if t == 1 => t + 2,
                        7 => t - 1,
                        _ => t,
                    }
                };
                day == nearest(target)
            }
        }
    }

    /// The first minute after `after_ms` the fields allow, in `tz`.
    pub fn next_after(&self, after_ms: i64, tz: &TimeZone) -> Option<i64> {
        let after = Timestamp::from_millisecond(after_ms).ok()?;
        let start = after.to_zoned_datetime(tz.clone()).datetime();
        let mut date = start.date();
        // The first minute strictly after `after`, on the first day.
        let mut from = Some((start.hour() as u32, start.minute() as u32 + 1));
        // Enough days to reach the end of the cron's years.
        for _ in 0..(366 * 240) {
            if date.year() > 2199 {
                return None;
            }
            if !self.year_allowed(date.year()) {
                date = Date::new(date.year() + 1, 1, 1).ok()?;
                from = None;
                continue;
            }
            if self.months & (1 << date.month()) == 0 {
                date = date.last_of_month().tomorrow().ok()?;
                from = None;
                continue;
            }
            if self.day_allowed(date) {
                if let Some(t) = self.first_time(from) {
                    let due = date.to_datetime(t).to_zoned_datetime(tz.clone()).ok()?.timestamp().as_millisecond();
                    if due > after_ms {
                        return Some(due);
                    }
                }
            }
            date = date.tomorrow().ok()?;
            from = None;
        }
        None
    }

    /// The first allowed time of day at or after `from` (hour, minute; the day's start
    /// when none).
    fn first_time(&self, from: Option<(u32, u32)>) -> Option<Time> {
        let (h0, m0) = from.unwrap_or((0, 0));
        for h in h0..24 {
            if self.hours & (1 << h) == 0 {
                continue;
            }
            let start = if h == h0 { m0 } else { 0 };
            if let Some(m) = (start..60).find(|m| self.minutes & (1 << m) != 0) {
                return Time::new(h as i8, m as i8, 0, 0).ok();
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> i64 {
        s.parse::<Timestamp>().unwrap().as_millisecond()
    }

    fn next(expr: &str, after: &str) -> String {
        let e = Expression::parse(expr, true).unwrap();
        let due = e.next_after(ms(after), ms(after), &TimeZone::UTC).unwrap();
        Timestamp::from_millisecond(due).unwrap().to_string()
    }

    #[test]
    fn rates_need_their_units_singular_for_one_and_plural_otherwise() {
        assert_eq!(Expression::parse("rate(1 minute)", false), Some(Expression::Rate { ms: 60_000 }));
        assert_eq!(Expression::parse("rate(5 hours)", false), Some(Expression::Rate { ms: 5 * 3_600_000 }));
        for bad in [
            "rate(1 minutes)",
            "rate(2 minute)",
            "rate(0 minutes)",
            "rate(5 weeks)",
            "rate(5)",
            " rate(5 minutes)",
            "rate( 5 minutes )",
            "rate(-5 minutes)",
        ] {
            assert_eq!(Expression::parse(bad, false), None, "{bad}");
        }
        let e = Expression::Rate { ms: 60_000 };
        assert_eq!(e.next_after(1_000, 0, &TimeZone::UTC), Some(60_000));
        assert_eq!(e.next_after(60_000, 0, &TimeZone::UTC), Some(120_000));
    }

    #[test]
    fn cron_fields_fall_due_on_the_minutes_they_allow() {
        assert_eq!(next("cron(0/15 * * * ? *)", "2026-03-01T10:07:30Z"), "2026-03-01T10:15:00Z");
        assert_eq!(next("cron(0 12 * * ? *)", "2026-03-01T12:00:00Z"), "2026-03-02T12:00:00Z");
        assert_eq!(next("cron(0 18 ? * MON-FRI *)", "2026-03-06T19:00:00Z"), "2026-03-09T18:00:00Z");
        assert_eq!(next("cron(0 8 1 * ? *)", "2026-03-01T09:00:00Z"), "2026-04-01T08:00:00Z");
        assert_eq!(next("cron(0 0 L * ? *)", "2026-02-01T00:00:00Z"), "2026-02-28T00:00:00Z");
        assert_eq!(next("cron(0 0 ? * 6#3 *)", "2026-03-01T00:00:00Z"), "2026-03-20T00:00:00Z");
        assert_eq!(next("cron(0 0 ? * 2L *)", "2026-03-01T00:00:00Z"), "2026-03-30T00:00:00Z");
        // 2026-02-01 is a Sunday: the nearest weekday is Monday the 2nd.
        assert_eq!(next("cron(0 0 1W * ? *)", "2026-01-31T00:00:00Z"), "2026-02-02T00:00:00Z");
        assert_eq!(next("cron(30 9 * JAN ? 2027)", "2026-03-01T00:00:00Z"), "2027-01-01T09:30:00Z");
    }

    #[test]
    fn cron_expressions_aws_refuses_are_refused() {
        for bad in [
            "cron(0 12 * * * *)",
            "cron(0 12 ? * ? *)",
            "cron(60 * * * ? *)",
            "cron(0 24 * * ? *)",
            "cron(0 0 32 * ? *)",
            "cron(0 0 * 13 ? *)",
            "cron(* * * * ?)",
            "cron(0 0 * * ? 1969)",
        ] {
            assert_eq!(Expression::parse(bad, false), None, "{bad}");
        }
    }

    #[test]
    fn schedules_keep_wall_clock_time_in_their_zone() {
        let tz = TimeZone::get("America/New_York").unwrap();
        let e = Expression::parse("cron(0 9 * * ? *)", false).unwrap();
        // Across the spring change, 9:00 stays 9:00 local: 14:00Z, then 13:00Z.
        let first = e.next_after(ms("2026-03-07T15:00:00Z"), 0, &tz).unwrap();
        assert_eq!(Timestamp::from_millisecond(first).unwrap().to_string(), "2026-03-08T13:00:00Z");
        let at = Expression::parse("at(2030-01-01T10:00:00)", true).unwrap();
        assert_eq!(at.next_after(ms("2026-01-01T00:00:00Z"), 0, &tz), Some(ms("2030-01-01T15:00:00Z")));
        assert_eq!(at.next_after(ms("2031-01-01T00:00:00Z"), 0, &tz), None);
        assert_eq!(Expression::parse("at(2030-01-01T10:00:00)", false), None);
    }
}
