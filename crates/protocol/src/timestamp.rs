//! Timestamps on the wire: ISO 8601 (query, XML, query strings), epoch seconds (JSON
//! bodies) and RFC 822 HTTP dates (headers). Inside the protocol layer a timestamp is a
//! JSON number of seconds since the epoch, with a fraction.

use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::model::TimestampFormat;

/// Reads a timestamp written in any of AWS's formats.
pub fn parse(text: &str) -> Option<f64> {
    let text = text.trim();
    if let Ok(n) = text.parse::<f64>() {
        return n.is_finite().then_some(n);
    }
    if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some(seconds(t));
    }
    // ISO 8601 without a zone (`2026-12-05T11:17:44`) is UTC.
    if let Ok(t) = OffsetDateTime::parse(&format!("{text}Z"), &Rfc3339) {
        return Some(seconds(t));
    }
    httpdate::parse_http_date(text)
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs_f64())
}

fn seconds(t: OffsetDateTime) -> f64 {
    t.unix_timestamp_nanos() as f64 / 1e9
}

/// A canonical timestamp (a number of seconds, or a string in any format) as seconds.
pub fn seconds_of(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => parse(s),
        _ => None,
    }
}

/// Writes a timestamp in a format.
pub fn format(secs: f64, format: TimestampFormat) -> Value {
    match format {
        TimestampFormat::EpochSeconds => {
            // Whole seconds stay integers, as AWS writes them.
            if secs.fract() == 0.0 && secs.abs() < 9e15 {
                Value::from(secs as i64)
            } else {
                serde_json::Number::from_f64((secs * 1000.0).round() / 1000.0).map(Value::Number).unwrap_or(Value::Null)
            }
        }
        TimestampFormat::Iso8601 => Value::String(iso8601(secs)),
        TimestampFormat::Rfc822 => Value::String(rfc822(secs)),
    }
}

/// `2026-12-05T11:17:44.123Z`.
pub fn iso8601(secs: f64) -> String {
    let millis = (secs * 1000.0).round() as i128;
    match OffsetDateTime::from_unix_timestamp_nanos(millis * 1_000_000) {
        Ok(t) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            t.year(),
            t.month() as u8,
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.millisecond()
        ),
        Err(_) => "1970-01-01T00:00:00.000Z".to_owned(),
    }
}

/// `Sat, 05 Dec 2026 11:17:44 GMT`.
pub fn rfc822(secs: f64) -> String {
    let secs = secs.max(0.0) as u64;
    httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_reads_back() {
        let t = 1_796_469_464.5;
        assert_eq!(parse(&iso8601(t)), Some(t));
        assert_eq!(parse("2026-12-05T11:17:44.500+00:00"), Some(t));
        assert_eq!(parse("2026-12-05T11:17:44.5"), Some(t));
        assert_eq!(parse(&rfc822(t)), Some(t.floor()));
        assert_eq!(parse("1796469464.5"), Some(t));
        assert_eq!(parse("yesterday"), None);
        assert_eq!(iso8601(t), "2026-12-05T11:17:44.500Z");
        assert_eq!(rfc822(t), "Sat, 05 Dec 2026 11:17:44 GMT");
        assert_eq!(format(1.0, TimestampFormat::EpochSeconds), Value::from(1));
        assert_eq!(format(1.25, TimestampFormat::EpochSeconds), serde_json::json!(1.25));
    }
}
