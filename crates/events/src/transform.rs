//! What a target receives (pure): the event whole, a constant `Input`, the part an
//! `InputPath` selects, or an `InputTransformer`'s template filled from its paths.
//!
//! Templates are filled as EventBridge fills them: a template that is JSON gets each
//! value as JSON where its placeholder stands alone (a path that selects nothing gives
//! `""`), and as string content where the placeholder sits inside a JSON string (an
//! object or a list there makes the input invalid, and the event is not delivered); a
//! template that is text gets each value's text. Text is EventBridge's loose rendering:
//! strings without their quotes, also inside lists and objects (`[a,b]`, `{k:v}`).

use serde_json::Value;

/// A path into the event: `$`, `$.detail.state`, `$.resources[0]`, `$['detail-type']`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPath(Vec<Step>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

impl JsonPath {
    /// Reads a path; `None` when it is not one EventBridge takes.
    pub fn parse(text: &str) -> Option<JsonPath> {
        let rest = text.trim().strip_prefix('$')?;
        let mut steps = Vec::new();
        let mut chars = rest.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '.' => {
                    let mut key = String::new();
                    while let Some(&c) = chars.peek() {
                        if c == '.' || c == '[' {
                            break;
                        }
                        key.push(c);
                        chars.next();
                    }
                    if key.is_empty() {
                        return None;
                    }
                    steps.push(Step::Key(key));
                }
                '[' => {
                    let mut inside = String::new();
                    for c in chars.by_ref() {
                        if c == ']' {
                            break;
                        }
                        inside.push(c);
                    }
                    let quoted = inside
                        .strip_prefix('\'')
                        .and_then(|s| s.strip_suffix('\''))
                        .or_else(|| inside.strip_prefix('"').and_then(|s| s.strip_suffix('"')));
                    match quoted {
                        Some(key) => steps.push(Step::Key(key.to_owned())),
                        None => steps.push(Step::Index(inside.trim().parse().ok()?)),
                    }
                }
                _ => return None,
            }
        }
        Some(JsonPath(steps))
    }

    /// The value the path selects in `v`.
    pub fn select<'a>(&self, v: &'a Value) -> Option<&'a Value> {
        self.0.iter().try_fold(v, |v, step| match step {
            Step::Key(k) => v.get(k.as_str()),
            Step::Index(i) => v.get(*i),
        })
    }
}

/// Values EventBridge offers every template, besides the paths it maps.
pub const PREDEFINED: &[&str] = &[
    "aws.events.rule-arn",
    "aws.events.rule-name",
    "aws.events.event.ingestion-time",
    "aws.events.event",
    "aws.events.event.json",
];

/// The placeholders a template names, in order (`<name>`: letters, digits, `_`, `-`, `.`).
pub fn placeholders(template: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('<') {
        let after = &rest[open + 1..];
        match after.find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))) {
            Some(end) if end > 0 && after[end..].starts_with('>') => {
                found.push(&after[..end]);
                rest = &after[end + 1..];
            }
            _ => rest = after,
        }
    }
    found
}

/// Fills a template: `lookup` gives each placeholder's value (none when its path selects
/// nothing). `None` when the result is not an input EventBridge delivers.
pub fn fill(template: &str, lookup: impl Fn(&str) -> Option<Value>) -> Option<String> {
    let trimmed = template.trim_start();
    let json = trimmed.starts_with('{') || trimmed.starts_with('[') || trimmed.starts_with('"');
    let structured = trimmed.starts_with('{') || trimmed.starts_with('[');
    let mut out = String::with_capacity(template.len() + 64);
    let mut in_string = false;
    let mut escaped = false;
    let mut i = 0;
    let bytes = template.as_bytes();
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'<' {
            if let Some(name) = placeholder_at(&template[i..]) {
                let value = lookup(name);
                if !json {
                    out.push_str(&text_of(value.as_ref()));
                } else if in_string {
                    if structured && matches!(value, Some(Value::Object(_) | Value::Array(_))) {
                        return None;
                    }
                    let text = text_of(value.as_ref());
                    let quoted = serde_json::to_string(&text).unwrap_or_default();
                    out.push_str(&quoted[1..quoted.len() - 1]);
                } else {
                    match value {
                        Some(v) => out.push_str(&v.to_string()),
                        None => out.push_str("\"\""),
                    }
                }
                i += name.len() + 2;
                escaped = false;
                continue;
            }
        }
        if json {
            if escaped {
                escaped = false;
            } else if c == b'\\' && in_string {
                escaped = true;
            } else if c == b'"' {
                in_string = !in_string;
            }
        }
        // Copy the whole character.
        let len = utf8_len(c);
        out.push_str(&template[i..i + len]);
        i += len;
    }
    Some(out)
}

fn utf8_len(first: u8) -> usize {
    match first {
        b if b < 0x80 => 1,
        b if b >= 0xF0 => 4,
        b if b >= 0xE0 => 3,
        _ => 2,
    }
}

fn placeholder_at(s: &str) -> Option<&str> {
    let after = s.strip_prefix('<')?;
    let end = after.find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))?;
    (end > 0 && after[end..].starts_with('>')).then(|| &after[..end])
}

/// A value as text: nothing is empty, `null` too.
fn text_of(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(v) => loose(v),
    }
}

/// EventBridge's loose rendering: strings bare, also inside lists and objects.
fn loose(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => format!("[{}]", items.iter().map(loose).collect::<Vec<_>>().join(",")),
        Value::Object(m) => {
            format!("{{{}}}", m.iter().map(|(k, v)| format!("{k}:{}", loose(v))).collect::<Vec<_>>().join(","))
        }
        v => v.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event() -> Value {
        json!({"detail-type": "EC2", "resources": ["r1", "r2"], "detail": {"instance": "i-1", "state": "running", "n": 3, "o": {"a": 1}}})
    }

    #[test]
    fn paths_select_keys_indexes_and_quoted_names() {
        let e = event();
        assert_eq!(JsonPath::parse("$").unwrap().select(&e), Some(&e));
        assert_eq!(JsonPath::parse("$.detail.state").unwrap().select(&e), Some(&json!("running")));
        assert_eq!(JsonPath::parse("$.resources[1]").unwrap().select(&e), Some(&json!("r2")));
        assert_eq!(JsonPath::parse("$['detail-type']").unwrap().select(&e), Some(&json!("EC2")));
        assert_eq!(JsonPath::parse("$.detail.missing").unwrap().select(&e), None);
        assert!(JsonPath::parse("detail").is_none());
        assert!(JsonPath::parse("$..x").is_none());
    }

    #[test]
    fn templates_are_filled_by_where_each_placeholder_stands() {
        let e = event();
        let paths = |name: &str| {
            let path = match name {
                "instance" => "$.detail.instance",
                "n" => "$.detail.n",
                "o" => "$.detail.o",
                _ => "$.detail.missing",
            };
            JsonPath::parse(path).unwrap().select(&e).cloned()
        };
        assert_eq!(
            fill(r#"{"id": <instance>, "text": "<instance> has <n>", "o": <o>, "m": <m>}"#, paths).unwrap(),
            r#"{"id": "i-1", "text": "i-1 has 3", "o": {"a":1}, "m": ""}"#
        );
        assert_eq!(fill(r#""<instance> is here, <o>""#, paths).unwrap(), r#""i-1 is here, {a:1}""#);
        assert_eq!(fill("instance <instance> is <m>!", paths).unwrap(), "instance i-1 is !");
        assert_eq!(fill(r#"{"q": "say \"<instance>\""}"#, paths).unwrap(), r#"{"q": "say \"i-1\""}"#);
        // An object inside a JSON string leaves no valid input: nothing is delivered.
        assert_eq!(fill(r#"{"o": "<o>"}"#, paths), None);
    }

    #[test]
    fn placeholders_are_names_in_angle_brackets() {
        assert_eq!(placeholders("a <x> b < c <aws.events.rule-arn> <>"), vec!["x", "aws.events.rule-arn"]);
    }
}
