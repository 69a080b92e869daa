//! Event patterns, matched as EventBridge matches them (pure).
//!
//! A pattern and an event are both read as flat maps from dotted paths (`detail.state`)
//! to leaf values: nested objects join their keys with `.`, an array's elements all sit
//! at the array's path, and an empty array or an object leaves nothing. A pattern holds
//! when every field it names holds (`$or` holds when one of its branches does); a field
//! holds when one of its matchers matches one of the event's values there: an exact
//! value, `prefix`, `suffix`, `equals-ignore-case`, `wildcard`, `anything-but` (with its
//! nested forms), `numeric`, `exists` and `cidr`. A pattern that breaks a rule is refused
//! with EventBridge's reason, word for word.

use std::collections::HashMap;
use std::net::IpAddr;

use serde_json::{Map, Value};

/// A pattern that cannot be used: the reason, as EventBridge gives it after
/// `Event pattern is not valid. Reason: `.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError(pub String);

impl std::fmt::Display for PatternError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Event pattern is not valid. Reason: {}", self.0)
    }
}

fn invalid<T>(reason: impl Into<String>) -> Result<T, PatternError> {
    Err(PatternError(reason.into()))
}

/// A compiled event pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    root: Node,
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    /// Every one holds.
    All(Vec<Node>),
    /// One of them holds (`$or`).
    Any(Vec<Node>),
    /// One of the matchers matches one of the event's values at the path.
    Field(String, Vec<Matcher>),
}

#[derive(Debug, Clone, PartialEq)]
enum Matcher {
    Exact(Leaf),
    Prefix(String),
    PrefixIgnoreCase(String),
    Suffix(String),
    SuffixIgnoreCase(String),
    IgnoreCase(String),
    Wildcard(Wildcard),
    Numeric(Range),
    Exists(bool),
    Cidr(Cidr),
    AnythingBut(Vec<Matcher>),
}

/// One leaf value of an event (or an exact value of a pattern).
#[derive(Debug, Clone, PartialEq)]
pub enum Leaf {
    /// A string.
    Str(String),
    /// A number.
    Num(f64),
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
}

/// A wildcard pattern: the literal runs between its stars. Matching finds each run
/// leftmost in turn, which for `*` alone is exact, and takes time linear in the text per
/// run (at most six runs), however the pattern and the text are made.
#[derive(Debug, Clone, PartialEq)]
struct Wildcard {
    runs: Vec<String>,
}

impl Wildcard {
    fn matches(&self, text: &str) -> bool {
        let Some((first, rest)) = self.runs.split_first() else { return text.is_empty() };
        let Some(mut at) = text.strip_prefix(first.as_str()).map(|r| text.len() - r.len()) else { return false };
        let Some((last, middle)) = rest.split_last() else { return at == text.len() };
        for run in middle {
            match text[at..].find(run.as_str()) {
                Some(i) => at += i + run.len(),
                None => return false,
            }
        }
        text.len() - at >= last.len() && text.ends_with(last.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Range {
    lower: Option<(f64, bool)>,
    upper: Option<(f64, bool)>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Cidr {
    net: IpAddr,
    bits: u8,
}

/// The most wildcard characters one value may have: EventBridge refuses rules whose
/// wildcards would make matching costly.
const MAX_WILDCARDS: usize = 5;

impl Pattern {
    /// Reads a pattern from its JSON text.
    pub fn parse(text: &str) -> Result<Pattern, PatternError> {
        let value: Value = serde_json::from_str(text).or_else(|e| invalid(json_reason(&e)))?;
        Pattern::from_value(&value)
    }

    /// Reads a pattern from JSON already read.
    pub fn from_value(value: &Value) -> Result<Pattern, PatternError> {
        let Value::Object(map) = value else { return invalid("Filter is not an object") };
        if map.is_empty() {
            return invalid("Empty objects are not allowed");
        }
        Ok(Pattern { root: object(map, "")? })
    }

    /// Whether the event (already flattened) matches.
    pub fn matches(&self, event: &Flat) -> bool {
        self.root.holds(event)
    }

    /// Whether the event matches.
    pub fn matches_value(&self, event: &Value) -> bool {
        self.matches(&Flat::of(event))
    }

    /// The exact strings a top-level field must equal for the pattern to hold, when the
    /// pattern says so (every branch naming it with exact strings only): an index key.
    pub fn required_strings(&self, path: &str) -> Option<Vec<&str>> {
        let Node::All(fields) = &self.root else { return None };
        fields.iter().find_map(|n| match n {
            Node::Field(p, matchers) if p == path => matchers
                .iter()
                .map(|m| match m {
                    Matcher::Exact(Leaf::Str(s)) => Some(s.as_str()),
                    _ => None,
                })
                .collect(),
            _ => None,
        })
    }
}

fn json_reason(e: &serde_json::Error) -> String {
    format!("{e}")
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}.{key}")
    }
}

fn object(map: &Map<String, Value>, prefix: &str) -> Result<Node, PatternError> {
    let mut all = Vec::with_capacity(map.len());
    for (key, value) in map {
        if key == "$or" {
            let Value::Array(branches) = value else { return invalid("Or relationship must be an array") };
            if branches.len() < 2 {
                return invalid("Or relationship must have at least two sub-patterns");
            }
            let mut any = Vec::with_capacity(branches.len());
            for b in branches {
                let Value::Object(m) = b else { return invalid("Or relationship members must be objects") };
                if m.is_empty() {
                    return invalid("Empty objects are not allowed");
                }
                any.push(object(m, prefix)?);
            }
            all.push(Node::Any(any));
            continue;
        }
        let path = join(prefix, key);
        match value {
            Value::Object(m) if m.is_empty() => return invalid("Empty objects are not allowed"),
            Value::Object(m) => all.push(object(m, &path)?),
            Value::Array(items) if items.is_empty() => return invalid("Empty arrays are not allowed"),
            Value::Array(items) => {
                let matchers = items.iter().map(matcher).collect::<Result<Vec<_>, _>>()?;
                all.push(Node::Field(path, matchers));
            }
            _ => return invalid(format!("\"{key}\" must be an object or an array")),
        }
    }
    Ok(Node::All(all))
}

fn leaf(v: &Value) -> Option<Leaf> {
    Some(match v {
        Value::String(s) => Leaf::Str(s.clone()),
        Value::Number(n) => Leaf::Num(n.as_f64()?),
        Value::Bool(b) => Leaf::Bool(*b),
        Value::Null => Leaf::Null,
        _ => return None,
    })
}

fn matcher(v: &Value) -> Result<Matcher, PatternError> {
    let Value::Object(m) = v else {
        return leaf(v)
            .map(Matcher::Exact)
            .ok_or_else(|| PatternError("Match value must be String, number, true, false, or null".to_owned()));
    };
    let mut entries = m.iter();
    let Some((kind, arg)) = entries.next() else { return invalid("Empty objects are not allowed") };
    if entries.next().is_some() {
        return invalid("Only one key allowed in match expression");
    }
    match kind.as_str() {
        "prefix" => affix(arg, "prefix", false),
        "suffix" => affix(arg, "suffix", false),
        "equals-ignore-case" => match arg {
            Value::String(s) => Ok(Matcher::IgnoreCase(s.to_lowercase())),
            _ => invalid("equals-ignore-case match pattern must be a string"),
        },
        "wildcard" => match arg {
            Value::String(s) => Ok(Matcher::Wildcard(wildcard(s)?)),
            _ => invalid("wildcard match pattern must be a string"),
        },
        "numeric" => numeric(arg),
        "exists" => match arg {
            Value::Bool(b) => Ok(Matcher::Exists(*b)),
            _ => invalid("exists match pattern must be either true or false."),
        },
        "cidr" => match arg {
            Value::String(s) => Ok(Matcher::Cidr(cidr(s)?)),
            _ => invalid("prefix match pattern must be a string"),
        },
        "anything-but" => anything_but(arg),
        other => invalid(format!("Unrecognized match type {other}")),
    }
}

/// `prefix`/`suffix`: a string, or `{"equals-ignore-case": string}`. Inside
/// `anything-but` (`nested`) only strings, never empty.
fn affix(arg: &Value, kind: &str, nested: bool) -> Result<Matcher, PatternError> {
    let suffix = kind == "suffix";
    match arg {
        Value::String(s) => {
            if nested && s.is_empty() {
                return invalid("Null prefix/suffix not allowed");
            }
            Ok(if suffix { Matcher::Suffix(s.clone()) } else { Matcher::Prefix(s.clone()) })
        }
        Value::Object(m) if !nested && m.len() == 1 => match m.get("equals-ignore-case") {
            Some(Value::String(s)) => {
                let s = s.to_lowercase();
                Ok(if suffix { Matcher::SuffixIgnoreCase(s) } else { Matcher::PrefixIgnoreCase(s) })
            }
            Some(_) => invalid("equals-ignore-case match pattern must be a string"),
            None => invalid(format!("Unsupported {kind} pattern: {}", m.keys().next().map_or("", |k| k.as_str()))),
        },
        Value::Object(_) if nested => invalid("Value of anything-but must be an array or single string/number value."),
        _ if nested => invalid("prefix/suffix match pattern must be a string"),
        _ => invalid(format!("{kind} match pattern must be a string")),
    }
}

fn anything_but(arg: &Value) -> Result<Matcher, PatternError> {
    let excluded = match arg {
        Value::String(_) | Value::Number(_) => vec![Matcher::Exact(leaf(arg).expect("a scalar"))],
        Value::Array(items) => {
            if items.is_empty() {
                return invalid("Empty arrays are not allowed");
            }
            items
                .iter()
                .map(|i| match i {
                    Value::String(_) | Value::Number(_) => Ok(Matcher::Exact(leaf(i).expect("a scalar"))),
                    _ => invalid("Inside anything but list, start|null|boolean is not supported."),
                })
                .collect::<Result<Vec<_>, _>>()?
        }
        Value::Object(m) if m.len() == 1 => {
            let (kind, inner) = m.iter().next().expect("one entry");
            // Each nested form takes a string or a list of strings.
            let each = |v: &Value, make: &dyn Fn(&Value) -> Result<Matcher, PatternError>| match v {
                Value::Array(items) if !items.is_empty() => items.iter().map(make).collect(),
                Value::Array(_) => invalid("Empty arrays are not allowed"),
                v => make(v).map(|m| vec![m]),
            };
            match kind.as_str() {
                "prefix" | "suffix" => each(inner, &|v| affix(v, kind, true))?,
                "equals-ignore-case" => each(inner, &|v| match v {
                    Value::String(s) => Ok(Matcher::IgnoreCase(s.to_lowercase())),
                    _ => invalid(
                        "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.",
                    ),
                })?,
                "wildcard" => each(inner, &|v| match v {
                    Value::String(s) => Ok(Matcher::Wildcard(wildcard(s)?)),
                    _ => invalid("wildcard match pattern must be a string"),
                })?,
                other => return invalid(format!("Unsupported anything-but pattern: {other}")),
            }
        }
        _ => return invalid("Value of anything-but must be an array or single string/number value."),
    };
    Ok(Matcher::AnythingBut(excluded))
}

fn wildcard(s: &str) -> Result<Wildcard, PatternError> {
    let mut runs = vec![String::new()];
    let mut chars = s.chars().enumerate().peekable();
    let mut stars = 0;
    while let Some((pos, c)) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some((_, e @ ('*' | '\\'))) => runs.last_mut().expect("a run").push(e),
                _ => return invalid(format!("Invalid escape character at pos {pos}")),
            },
            '*' => {
                if let Some((next, '*')) = chars.peek() {
                    return invalid(format!("Consecutive wildcard characters at pos {next}"));
                }
                stars += 1;
                runs.push(String::new());
            }
            c => runs.last_mut().expect("a run").push(c),
        }
    }
    if stars > MAX_WILDCARDS {
        return invalid(
            "Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences \
             after a wildcard character",
        );
    }
    Ok(Wildcard { runs })
}

fn numeric(arg: &Value) -> Result<Matcher, PatternError> {
    let Value::Array(items) = arg else { return invalid("Value of numeric must be an array.") };
    let mut range = Range { lower: None, upper: None };
    let mut i = 0;
    while i < items.len() {
        let Value::String(op) = &items[i] else { return invalid("Value of numeric must be an array.") };
        let bound = match items.get(i + 1) {
            Some(Value::Number(n)) => n.as_f64().unwrap_or(f64::NAN),
            _ => return invalid(format!("Value of {op} must be numeric")),
        };
        let first = i == 0;
        match op.as_str() {
            "=" if first && items.len() == 2 => {
                range = Range { lower: Some((bound, true)), upper: Some((bound, true)) };
            }
            ">" | ">=" if range.lower.is_none() && (first || range.upper.is_some()) => {
                range.lower = Some((bound, op == ">="));
            }
            "<" | "<=" if range.upper.is_none() && (first || range.lower.is_some()) => {
                range.upper = Some((bound, op == "<="));
            }
            "=" | ">" | ">=" | "<" | "<=" => return invalid(format!("Bad numeric range operator: {op}")),
            other => return invalid(format!("Unrecognized numeric range operator: {other}")),
        }
        i += 2;
    }
    if range.lower.is_none() && range.upper.is_none() {
        return invalid("Empty arrays are not allowed");
    }
    if let (Some((lo, _)), Some((hi, _))) = (range.lower, range.upper) {
        if lo > hi {
            return invalid("Bottom must be less than top");
        }
    }
    Ok(Matcher::Numeric(range))
}

fn cidr(s: &str) -> Result<Cidr, PatternError> {
    let parts: Vec<&str> = s.split('/').collect();
    let [ip, bits] = parts.as_slice() else { return invalid("Malformed CIDR, one '/' required") };
    let Ok(bits) = bits.parse::<u8>() else { return invalid("Malformed CIDR, mask bits must be an integer") };
    let Ok(net) = ip.parse::<IpAddr>() else { return invalid(format!("Nonstandard IP address: {ip}")) };
    let max = if net.is_ipv4() { 32 } else { 128 };
    if bits > max {
        return invalid(format!("Malformed CIDR, mask bits must be <= {max}"));
    }
    Ok(Cidr { net, bits })
}

impl Node {
    fn holds(&self, event: &Flat) -> bool {
        match self {
            Node::All(nodes) => nodes.iter().all(|n| n.holds(event)),
            Node::Any(nodes) => nodes.iter().any(|n| n.holds(event)),
            Node::Field(path, matchers) => {
                let values = event.get(path);
                matchers.iter().any(|m| m.matches(values))
            }
        }
    }
}

impl Matcher {
    fn matches(&self, values: &[Leaf]) -> bool {
        match self {
            Matcher::Exists(want) => values.is_empty() != *want,
            Matcher::AnythingBut(excluded) => values.iter().any(|v| !excluded.iter().any(|m| m.matches_one(v))),
            m => values.iter().any(|v| m.matches_one(v)),
        }
    }

    fn matches_one(&self, v: &Leaf) -> bool {
        match (self, v) {
            (Matcher::Exact(Leaf::Num(a)), Leaf::Num(b)) => a == b,
            (Matcher::Exact(a), b) => a == b,
            (Matcher::Prefix(p), Leaf::Str(s)) => s.starts_with(p.as_str()),
            (Matcher::Suffix(p), Leaf::Str(s)) => s.ends_with(p.as_str()),
            (Matcher::PrefixIgnoreCase(p), Leaf::Str(s)) => s.to_lowercase().starts_with(p.as_str()),
            (Matcher::SuffixIgnoreCase(p), Leaf::Str(s)) => s.to_lowercase().ends_with(p.as_str()),
            (Matcher::IgnoreCase(p), Leaf::Str(s)) => s.to_lowercase() == *p,
            (Matcher::Wildcard(w), Leaf::Str(s)) => w.matches(s),
            (Matcher::Numeric(r), Leaf::Num(n)) => r.contains(*n),
            (Matcher::Cidr(c), Leaf::Str(s)) => s.parse::<IpAddr>().is_ok_and(|ip| c.contains(ip)),
            (Matcher::Exists(_) | Matcher::AnythingBut(_), _) => self.matches(std::slice::from_ref(v)),
            _ => false,
        }
    }
}

impl Range {
    fn contains(&self, n: f64) -> bool {
        let above = self.lower.is_none_or(|(lo, inclusive)| if inclusive { n >= lo } else { n > lo });
        let below = self.upper.is_none_or(|(hi, inclusive)| if inclusive { n <= hi } else { n < hi });
        above && below
    }
}

impl Cidr {
    fn contains(&self, ip: IpAddr) -> bool {
        let (net, ip, width) = match (self.net, ip) {
            (IpAddr::V4(n), IpAddr::V4(i)) => (u32::from(n) as u128, u32::from(i) as u128, 32),
            (IpAddr::V6(n), IpAddr::V6(i)) => (u128::from(n), u128::from(i), 128),
            _ => return false,
        };
        let shift = width - u32::from(self.bits);
        shift >= width || (net >> shift) == (ip >> shift)
    }
}

/// An event read as EventBridge matches it: dotted paths to their leaf values.
#[derive(Debug, Default, Clone)]
pub struct Flat {
    fields: HashMap<String, Vec<Leaf>>,
}

impl Flat {
    /// Flattens an event.
    pub fn of(event: &Value) -> Flat {
        let mut flat = Flat::default();
        flat.add("", event);
        flat
    }

    fn add(&mut self, path: &str, v: &Value) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    self.add(&join(path, k), v);
                }
            }
            Value::Array(items) => {
                for item in items {
                    self.add(path, item);
                }
            }
            v => {
                if let Some(l) = leaf(v) {
                    self.fields.entry(path.to_owned()).or_default().push(l);
                }
            }
        }
    }

    /// The values at a path (none when absent).
    pub fn get(&self, path: &str) -> &[Leaf] {
        self.fields.get(path).map_or(&[], Vec::as_slice)
    }

    /// The first string at a path.
    pub fn string(&self, path: &str) -> Option<&str> {
        self.get(path).iter().find_map(|l| match l {
            Leaf::Str(s) => Some(s.as_str()),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn matches(pattern: Value, event: Value) -> bool {
        Pattern::from_value(&pattern).unwrap().matches_value(&event)
    }

    fn refused(pattern: Value) -> String {
        Pattern::from_value(&pattern).unwrap_err().0
    }

    #[test]
    fn exact_values_match_strings_numbers_booleans_and_null_by_type() {
        let event = json!({"source": "shop", "detail": {"n": 5, "ok": true, "gone": null, "tags": ["a", "b"]}});
        assert!(matches(json!({"source": ["shop", "other"]}), event.clone()));
        assert!(matches(json!({"detail": {"n": [5.0]}}), event.clone()));
        assert!(!matches(json!({"detail": {"n": ["5"]}}), event.clone()));
        assert!(matches(json!({"detail": {"ok": [true], "gone": [null]}}), event.clone()));
        assert!(matches(json!({"detail": {"tags": ["b"]}}), event.clone()));
        assert!(!matches(json!({"detail": {"tags": ["c"]}}), event.clone()));
        assert!(!matches(json!({"Source": ["shop"]}), event));
    }

    #[test]
    fn dotted_keys_and_nested_objects_name_the_same_path() {
        let nested = json!({"detail": {"state": {"status": "running"}}});
        let dotted = json!({"detail": {"state.status": "running"}});
        assert!(matches(json!({"detail": {"state.status": ["running"]}}), nested.clone()));
        assert!(matches(json!({"detail": {"state": {"status": ["running"]}}}), dotted));
        // A JSON string is not an object.
        assert!(!matches(json!({"detail": {"k": ["v"]}}), json!({"detail": "{\"k\": \"v\"}"})));
    }

    #[test]
    fn content_filters_match_as_eventbridge_documents_them() {
        let e = json!({"detail": {"file": "photo.PNG", "ip": "10.0.0.255", "count": 7, "state": "running"}});
        assert!(matches(json!({"detail": {"file": [{"prefix": "pho"}]}}), e.clone()));
        assert!(matches(json!({"detail": {"file": [{"suffix": {"equals-ignore-case": ".png"}}]}}), e.clone()));
        assert!(!matches(json!({"detail": {"file": [{"suffix": ".png"}]}}), e.clone()));
        assert!(matches(json!({"detail": {"file": [{"equals-ignore-case": "PHOTO.png"}]}}), e.clone()));
        assert!(matches(json!({"detail": {"file": [{"wildcard": "ph*.P*"}]}}), e.clone()));
        assert!(matches(json!({"detail": {"ip": [{"cidr": "10.0.0.0/24"}]}}), e.clone()));
        assert!(!matches(json!({"detail": {"ip": [{"cidr": "10.0.1.0/24"}]}}), e.clone()));
        assert!(matches(json!({"detail": {"count": [{"numeric": [">", 0, "<=", 7]}]}}), e.clone()));
        assert!(!matches(json!({"detail": {"count": [{"numeric": ["<", 7]}]}}), e.clone()));
        assert!(matches(json!({"detail": {"state": [{"anything-but": ["stopped", "pending"]}]}}), e.clone()));
        assert!(!matches(json!({"detail": {"state": [{"anything-but": {"prefix": "run"}}]}}), e.clone()));
        assert!(matches(json!({"detail": {"missing": [{"exists": false}]}}), e.clone()));
        assert!(!matches(json!({"detail": {"missing": [{"anything-but": "x"}]}}), e.clone()));
        assert!(matches(json!({"$or": [{"detail": {"count": [1]}}, {"detail": {"state": ["running"]}}]}), e));
    }

    #[test]
    fn empty_arrays_and_objects_leave_no_value() {
        let e = json!({"resources": [], "detail": {"o": {}}});
        assert!(!matches(json!({"resources": [{"exists": true}]}), e.clone()));
        assert!(!matches(json!({"resources": [null]}), e.clone()));
        assert!(matches(json!({"detail": {"o": [{"exists": false}]}}), e));
    }

    #[test]
    fn broken_patterns_are_refused_in_eventbridges_words() {
        assert_eq!(refused(json!({"int": 42})), "\"int\" must be an object or an array");
        assert_eq!(refused(json!({"resources": []})), "Empty arrays are not allowed");
        assert_eq!(refused(json!({"k": [{"EXISTS": true}]})), "Unrecognized match type EXISTS");
        assert_eq!(refused(json!({"k": [{"numeric": [">", 0, ">", 0]}]})), "Bad numeric range operator: >");
        assert_eq!(refused(json!({"k": [{"numeric": [">", 0, "<"]}]})), "Value of < must be numeric");
        assert_eq!(refused(json!({"k": [{"numeric": 10}]})), "Value of numeric must be an array.");
        assert_eq!(refused(json!({"k": [{"prefix": 1}]})), "prefix match pattern must be a string");
        assert_eq!(refused(json!({"k": [{"cidr": "10.0.0.0"}]})), "Malformed CIDR, one '/' required");
        assert_eq!(refused(json!({"k": [{"cidr": "xx/8"}]})), "Nonstandard IP address: xx");
        assert_eq!(refused(json!({"k": [{"wildcard": "a:**"}]})), "Consecutive wildcard characters at pos 3");
        assert_eq!(refused(json!({"k": [{"anything-but": {"prefix": ""}}]})), "Null prefix/suffix not allowed");
        assert_eq!(
            refused(json!({"k": [{"anything-but": ["a", null]}]})),
            "Inside anything but list, start|null|boolean is not supported."
        );
        assert!(refused(json!({"k": [{"wildcard": "*:*:*:*:*:x/*"}]})).starts_with("Rule is too complex"));
    }

    #[test]
    fn wildcards_match_runs_in_order_and_anchor_their_ends() {
        let w = |p: &str| wildcard(p).unwrap();
        assert!(w("a*b*c").matches("axxbyyc") && w("a*b*c").matches("abc"));
        assert!(!w("a*b*c").matches("acb") && !w("a*b*c").matches("abcx"));
        assert!(w("*").matches("") && w("*x").matches("yx") && !w("*x").matches("xy"));
        assert!(w("ab*ab").matches("ab-ab") && !w("ab*ab").matches("ab") && w("ab*b").matches("ab-b"));
        assert!(!w("aa*aa").matches("aaa") && w("").matches("") && !w("").matches("a"));
        // A pattern made to backtrack costs one pass per run, not pattern × text.
        let text = "a".repeat(200_000);
        assert!(!w("*a*a*a*a*b").matches(&text));
    }

    #[test]
    fn escaped_wildcards_match_literally() {
        let e = json!({"d": {"star": "*", "slash": "\\"}});
        assert!(matches(json!({"d": {"star": [{"wildcard": "\\*"}], "slash": [{"wildcard": "\\\\"}]}}), e));
    }
}
