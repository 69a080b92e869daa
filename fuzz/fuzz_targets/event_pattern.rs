//! EventBridge: an event pattern parsed and matched against an event (both any text), an
//! input template filled from that event, and a schedule expression read and stepped.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(4, '\n');
    let (pattern, event, template, schedule) =
        (parts.next().unwrap_or(""), parts.next().unwrap_or("{}"), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let event: serde_json::Value = serde_json::from_str(event).unwrap_or_else(|_| serde_json::json!({"detail": {}}));
    if let Ok(p) = events::pattern::Pattern::parse(pattern) {
        let _ = p.matches_value(&event);
    }
    let _ = events::transform::placeholders(template);
    let filled = events::transform::fill(template, |name| {
        events::transform::JsonPath::parse(&format!("$.{name}")).and_then(|p| p.select(&event).cloned())
    });
    if let Some(out) = filled {
        assert!(out.len() <= template.len() * (6 * event.to_string().len() + 2) + 2, "a fill grew past its bound");
    }
    if let Some(e) = events::schedule::Expression::parse(schedule, true) {
        let _ = e.next_after(1_800_000_000_000, 1_700_000_000_000, &jiff::tz::TimeZone::UTC);
    }
});
