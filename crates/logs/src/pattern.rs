//! CloudWatch Logs filter patterns, parsed once and matched against each event's message.
//! Pure: no I/O.
//!
//! Three forms, as AWS defines them:
//! - terms: `ERROR`, `"exact phrase"`, `ERROR -Retry` (all of these, none of those),
//!   `?ERROR ?WARN` (any of these); terms are case sensitive;
//! - JSON: `{ $.level = "ERROR" && ($.ms > 100 || $.user.id NOT EXISTS) }`, with `=`,
//!   `!=`, `<`, `<=`, `>`, `>=`, `*` wildcards in strings, `IS NULL`, `IS TRUE`,
//!   `IS FALSE`, `EXISTS` and `NOT EXISTS`;
//! - space-delimited: `[ip, user, ..., status = 5*, size > 1000]`, fields split on
//!   spaces (a `"quoted"` or `[bracketed]` field is one), `...` standing for any number.

use serde_json::Value;

/// A parsed filter pattern.
#[derive(Debug, Clone, PartialEq)]
pub enum Pattern {
    /// Matches every event.
    All,
    /// Terms.
    Terms {
        /// Every one must appear.
        all: Vec<String>,
        /// None may appear.
        none: Vec<String>,
        /// At least one must appear (when any are given).
        any: Vec<String>,
    },
    /// A condition on a JSON message.
    Json(JsonExpr),
    /// Conditions on a space-delimited message's fields.
    Delimited(Vec<Field>),
}

/// A JSON pattern's expression. `&&` and `||` chains are flat lists, and parentheses
/// nest at most [`MAX_NESTING`] deep, so no request builds a tree deep enough to exhaust
/// the stack when it is evaluated or dropped.
#[derive(Debug, Clone, PartialEq)]
pub enum JsonExpr {
    /// Every one holds.
    And(Vec<JsonExpr>),
    /// At least one holds.
    Or(Vec<JsonExpr>),
    /// The selected value compares so.
    Compare(Vec<Step>, Op, Literal),
    /// The selected value is there (`EXISTS`) or not (`NOT EXISTS`).
    Exists(Vec<Step>, bool),
    /// The selected value is `null`.
    IsNull(Vec<Step>),
    /// The selected value is this boolean.
    IsBool(Vec<Step>, bool),
}

/// One step of a `$.a.b[0]` selector.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// An object member.
    Key(String),
    /// An array element.
    Index(usize),
}

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op {
    /// `=`.
    Eq,
    /// `!=`.
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
}

/// What a value is compared with.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// A number.
    Number(f64),
    /// A string, possibly with `*` wildcards.
    Text(String),
}

/// One field of a space-delimited pattern.
#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    /// A named field with no condition (or a bare `*`).
    Any,
    /// `...`: any number of fields.
    Rest,
    /// A field that must compare so.
    Compare(Op, Literal),
}

/// Why a pattern was refused: AWS answers `InvalidParameterException` with this.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid filter pattern: {0}")]
pub struct PatternError(pub String);

fn invalid(what: impl Into<String>) -> PatternError {
    PatternError(what.into())
}

/// The longest filter pattern AWS accepts, in characters (`filterPattern`'s length
/// constraint); callers answer a longer one with that validation error.
pub const MAX_PATTERN_CHARS: usize = 1024;

/// How deep parentheses may nest in a JSON pattern.
pub const MAX_NESTING: usize = 32;

impl Pattern {
    /// Parses a filter pattern.
    pub fn parse(text: &str) -> Result<Pattern, PatternError> {
        let t = text.trim();
        if t.is_empty() {
            return Ok(Pattern::All);
        }
        if let Some(inner) = t.strip_prefix('{') {
            let inner = inner.strip_suffix('}').ok_or_else(|| invalid("a JSON pattern ends with '}'"))?;
            let tokens = lex(inner)?;
            let mut p = Parser { tokens, at: 0, depth: 0 };
            let e = p.or()?;
            if p.at != p.tokens.len() {
                return Err(invalid(format!("unexpected '{}'", p.tokens[p.at].text())));
            }
            return Ok(Pattern::Json(e));
        }
        if let Some(inner) = t.strip_prefix('[') {
            let inner = inner.strip_suffix(']').ok_or_else(|| invalid("a space-delimited pattern ends with ']'"))?;
            // `[]` names no field: every line matches.
            if inner.trim().is_empty() {
                return Ok(Pattern::All);
            }
            return inner.split(',').map(|f| field(f.trim())).collect::<Result<_, _>>().map(Pattern::Delimited);
        }
        let (mut all, mut none, mut any) = (Vec::new(), Vec::new(), Vec::new());
        for word in words(t)? {
            let (list, term) = if let Some(rest) = word.strip_prefix('?') {
                (&mut any, rest)
            } else if let Some(rest) = word.strip_prefix('-') {
                (&mut none, rest)
            } else {
                (&mut all, word.as_str())
            };
            let term = unquote(term);
            if !term.is_empty() {
                list.push(term);
            }
        }
        Ok(Pattern::Terms { all, none, any })
    }

    /// Whether a message matches.
    pub fn matches(&self, message: &str) -> bool {
        match self {
            Pattern::All => true,
            Pattern::Terms { all, none, any } => {
                all.iter().all(|t| message.contains(t.as_str()))
                    && !none.iter().any(|t| message.contains(t.as_str()))
                    && (any.is_empty() || any.iter().any(|t| message.contains(t.as_str())))
            }
            Pattern::Json(e) => match serde_json::from_str::<Value>(message.trim()) {
                Ok(v) => e.holds(&v),
                Err(_) => false,
            },
            Pattern::Delimited(fields) => delimited_matches(fields, &split_fields(message.trim())),
        }
    }
}

/// The words of a terms pattern: quoted phrases stay whole.
fn words(t: &str) -> Result<Vec<String>, PatternError> {
    let mut out = Vec::new();
    let mut chars = t.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut word = String::new();
        let mut quoted = false;
        while let Some(&c) = chars.peek() {
            if c == '"' {
                quoted = !quoted;
            } else if c.is_whitespace() && !quoted {
                break;
            }
            word.push(c);
            chars.next();
        }
        if quoted {
            return Err(invalid("an unclosed quote"));
        }
        out.push(word);
    }
    Ok(out)
}

fn unquote(s: &str) -> String {
    s.strip_prefix('"').and_then(|s| s.strip_suffix('"')).unwrap_or(s).to_owned()
}

fn literal(s: &str) -> Literal {
    let s = s.trim();
    if s.starts_with('"') {
        return Literal::Text(unquote(s));
    }
    match s.parse::<f64>() {
        Ok(n) => Literal::Number(n),
        Err(_) => Literal::Text(s.to_owned()),
    }
}

fn field(f: &str) -> Result<Field, PatternError> {
    if f == "..." {
        return Ok(Field::Rest);
    }
    for (symbol, op) in [("!=", Op::Ne), ("<=", Op::Le), (">=", Op::Ge), ("=", Op::Eq), ("<", Op::Lt), (">", Op::Gt)] {
        if let Some((name, value)) = f.split_once(symbol) {
            if name.trim().is_empty() || value.trim().is_empty() {
                return Err(invalid(format!("the field condition '{f}'")));
            }
            return Ok(Field::Compare(op, literal(value)));
        }
    }
    if f.is_empty() || !f.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '*') {
        return Err(invalid(format!("the field name '{f}'")));
    }
    Ok(Field::Any)
}

/// A space-delimited message's fields: `"quoted"` and `[bracketed]` runs are one field,
/// without their delimiters.
fn split_fields(message: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let bytes = message.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b' ' {
            i += 1;
            continue;
        }
        let close = match bytes[i] {
            b'"' => Some(b'"'),
            b'[' => Some(b']'),
            _ => None,
        };
        if let Some(close) = close {
            let end = message[i + 1..].find(close as char).map_or(bytes.len(), |e| i + 1 + e);
            out.push(&message[i + 1..end]);
            i = end + 1;
        } else {
            let end = message[i..].find(' ').map_or(bytes.len(), |e| i + e);
            out.push(&message[i..end]);
            i = end;
        }
    }
    out
}

/// Whether the fields match the values: `...` stands for any run of values, every other
/// field for one; a wildcard match, so a pattern of many `...` is never exponential.
fn delimited_matches(fields: &[Field], values: &[&str]) -> bool {
    model::wildcard::matches_by(
        fields,
        values,
        |f| *f == Field::Rest,
        |f, v| match f {
            Field::Any | Field::Rest => true,
            Field::Compare(op, lit) => compare_text(v, *op, lit),
        },
    )
}

/// `*` matches any run of characters.
fn wildcard(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    true
}

fn order(op: Op, a: f64, b: f64) -> bool {
    match op {
        Op::Eq => a == b,
        Op::Ne => a != b,
        Op::Lt => a < b,
        Op::Le => a <= b,
        Op::Gt => a > b,
        Op::Ge => a >= b,
    }
}

fn compare_text(value: &str, op: Op, lit: &Literal) -> bool {
    match lit {
        Literal::Number(n) => value.parse::<f64>().is_ok_and(|v| order(op, v, *n)),
        Literal::Text(t) => match op {
            Op::Eq => wildcard(t, value),
            Op::Ne => !wildcard(t, value),
            _ => false,
        },
    }
}

impl JsonExpr {
    fn holds(&self, doc: &Value) -> bool {
        match self {
            JsonExpr::And(all) => all.iter().all(|e| e.holds(doc)),
            JsonExpr::Or(any) => any.iter().any(|e| e.holds(doc)),
            JsonExpr::Exists(path, wanted) => select(doc, path).is_some() == *wanted,
            JsonExpr::IsNull(path) => select(doc, path).is_some_and(Value::is_null),
            JsonExpr::IsBool(path, b) => select(doc, path).and_then(Value::as_bool) == Some(*b),
            JsonExpr::Compare(path, op, lit) => match select(doc, path) {
                None => false,
                Some(Value::Number(n)) => match lit {
                    Literal::Number(want) => n.as_f64().is_some_and(|v| order(*op, v, *want)),
                    Literal::Text(_) => false,
                },
                Some(Value::String(s)) => compare_text(s, *op, lit),
                Some(Value::Bool(b)) => compare_text(if *b { "true" } else { "false" }, *op, lit),
                Some(_) => false,
            },
        }
    }
}

fn select<'a>(doc: &'a Value, path: &[Step]) -> Option<&'a Value> {
    path.iter().try_fold(doc, |v, step| match step {
        Step::Key(k) => v.get(k),
        Step::Index(i) => v.get(i),
    })
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Selector(Vec<Step>),
    Op(Op),
    And,
    Or,
    Open,
    Close,
    Word(String),
    Quoted(String),
}

impl Token {
    fn text(&self) -> String {
        format!("{self:?}")
    }
}

fn lex(s: &str) -> Result<Vec<Token>, PatternError> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
        match c {
            _ if c.is_whitespace() => i += 1,
            '(' => {
                out.push(Token::Open);
                i += 1;
            }
            ')' => {
                out.push(Token::Close);
                i += 1;
            }
            '&' | '|' => {
                match two.as_str() {
                    "&&" => out.push(Token::And),
                    "||" => out.push(Token::Or),
                    _ => return Err(invalid(format!("'{c}'"))),
                }
                i += 2;
            }
            '=' | '!' | '<' | '>' => {
                let (op, len) = match two.as_str() {
                    "!=" => (Op::Ne, 2),
                    "<=" => (Op::Le, 2),
                    ">=" => (Op::Ge, 2),
                    _ => match c {
                        '=' => (Op::Eq, 1),
                        '<' => (Op::Lt, 1),
                        '>' => (Op::Gt, 1),
                        _ => return Err(invalid("'!'")),
                    },
                };
                out.push(Token::Op(op));
                i += len;
            }
            '"' => {
                let end = chars[i + 1..].iter().position(|&c| c == '"').ok_or_else(|| invalid("an unclosed quote"))?;
                out.push(Token::Quoted(chars[i + 1..i + 1 + end].iter().collect()));
                i += end + 2;
            }
            _ => {
                let start = i;
                while i < chars.len() && !chars[i].is_whitespace() && !"()=!<>&|\"".contains(chars[i]) {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                out.push(match word.strip_prefix('$') {
                    Some(path) => Token::Selector(selector(path)?),
                    None => Token::Word(word),
                });
            }
        }
    }
    Ok(out)
}

/// `.a.b[0].c` (after the `$`).
fn selector(path: &str) -> Result<Vec<Step>, PatternError> {
    let mut steps = Vec::new();
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            if end == 0 {
                return Err(invalid(format!("the selector '${path}'")));
            }
            steps.push(Step::Key(r[..end].to_owned()));
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']').ok_or_else(|| invalid(format!("the selector '${path}'")))?;
            let index = r[..end].parse().map_err(|_| invalid(format!("the selector '${path}'")))?;
            steps.push(Step::Index(index));
            rest = &r[end + 1..];
        } else {
            return Err(invalid(format!("the selector '${path}'")));
        }
    }
    if steps.is_empty() {
        return Err(invalid("a selector names a member: '$.name'"));
    }
    Ok(steps)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    /// Parentheses open around the current position.
    depth: usize,
}

impl Parser {
    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn or(&mut self) -> Result<JsonExpr, PatternError> {
        let mut any = vec![self.and()?];
        while self.peek() == Some(&Token::Or) {
            self.at += 1;
            any.push(self.and()?);
        }
        Ok(if any.len() == 1 { any.remove(0) } else { JsonExpr::Or(any) })
    }

    fn and(&mut self) -> Result<JsonExpr, PatternError> {
        let mut all = vec![self.unary()?];
        while self.peek() == Some(&Token::And) {
            self.at += 1;
            all.push(self.unary()?);
        }
        Ok(if all.len() == 1 { all.remove(0) } else { JsonExpr::And(all) })
    }

    fn unary(&mut self) -> Result<JsonExpr, PatternError> {
        match self.next() {
            Some(Token::Open) => {
                if self.depth == MAX_NESTING {
                    return Err(invalid(format!("parentheses nest more than {MAX_NESTING} deep")));
                }
                self.depth += 1;
                let e = self.or()?;
                self.depth -= 1;
                match self.next() {
                    Some(Token::Close) => Ok(e),
                    _ => Err(invalid("a '(' is not closed")),
                }
            }
            Some(Token::Selector(path)) => self.condition(path),
            Some(other) => Err(invalid(format!("expected a selector ($.name), found {}", other.text()))),
            None => Err(invalid("an empty condition")),
        }
    }

    fn condition(&mut self, path: Vec<Step>) -> Result<JsonExpr, PatternError> {
        match self.next() {
            Some(Token::Op(op)) => match self.next() {
                Some(Token::Quoted(s)) => Ok(JsonExpr::Compare(path, op, Literal::Text(s))),
                Some(Token::Word(w)) => Ok(JsonExpr::Compare(path, op, literal(&w))),
                _ => Err(invalid("a comparison needs a value")),
            },
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("EXISTS") => Ok(JsonExpr::Exists(path, true)),
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("NOT") => match self.next() {
                Some(Token::Word(e)) if e.eq_ignore_ascii_case("EXISTS") => Ok(JsonExpr::Exists(path, false)),
                _ => Err(invalid("NOT is followed by EXISTS")),
            },
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("IS") => match self.next() {
                Some(Token::Word(v)) if v.eq_ignore_ascii_case("NULL") => Ok(JsonExpr::IsNull(path)),
                Some(Token::Word(v)) if v.eq_ignore_ascii_case("TRUE") => Ok(JsonExpr::IsBool(path, true)),
                Some(Token::Word(v)) if v.eq_ignore_ascii_case("FALSE") => Ok(JsonExpr::IsBool(path, false)),
                _ => Err(invalid("IS is followed by NULL, TRUE or FALSE")),
            },
            _ => Err(invalid("a selector is followed by a comparison")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, msg: &str) -> bool {
        Pattern::parse(p).unwrap().matches(msg)
    }

    #[test]
    fn terms_all_none_any_and_phrases() {
        assert!(m("", "anything"));
        assert!(m("ERROR", "[ERROR] disk full"));
        assert!(!m("ERROR", "[error] disk full"), "terms are case sensitive");
        assert!(m("ERROR disk", "[ERROR] disk full"));
        assert!(!m("ERROR -full", "[ERROR] disk full"));
        assert!(m("?WARN ?ERROR", "[ERROR] x"));
        assert!(!m("?WARN ?ERROR", "[INFO] x"));
        assert!(m("\"disk full\"", "[ERROR] disk full"));
        assert!(!m("\"disk  full\"", "[ERROR] disk full"));
    }

    #[test]
    fn json_conditions() {
        let doc = r#"{"level":"ERROR","ms":250,"user":{"id":"u-17","tags":["a","b"]},"ok":false,"gone":null}"#;
        assert!(m(r#"{ $.level = "ERROR" }"#, doc));
        assert!(m(r#"{ $.level = ERR* }"#, doc));
        assert!(!m(r#"{ $.level != "ERROR" }"#, doc));
        assert!(m("{ $.ms > 100 && $.ms <= 250 }", doc));
        assert!(m(r#"{ ($.ms < 10 || $.user.id = "u-17") && $.user.tags[1] = "b" }"#, doc));
        assert!(m("{ $.ok IS FALSE && $.gone IS NULL && $.missing NOT EXISTS && $.user EXISTS }", doc));
        assert!(!m(r#"{ $.level = "ERROR" }"#, "not json"));
        for bad in ["{ $.a = }", "{ a = 1 }", "{ $.a = 1", "{ $.a = 1 && }", "{ ($.a = 1 }", "{ $ = 1 }"] {
            assert!(Pattern::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn space_delimited_fields() {
        let line = r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 404 2326"#;
        assert!(m("[ip, id, user, timestamp, request, status_code = 404, size]", line));
        assert!(m("[ip, ..., status_code = 4*, size > 1000]", line));
        assert!(!m("[ip, ..., status_code = 5*, size]", line));
        assert!(m(r#"[..., request = "GET *", status_code, size]"#, line));
        assert!(!m("[ip, user]", line), "a pattern without ... matches every field");
        assert!(Pattern::parse("[a b]").is_err());
        assert!(m("[..., a = 1, ..., b = 2, ...]", "0 1 0 0 2 0"));
        assert!(!m("[..., a = 1, ..., b = 2, ...]", "0 2 0 0 1 0"));
        assert!(m("[..., last = z]", "a b z"));
        assert!(!m("[..., last = z]", "a z b"));
        assert!(m("[first, ...]", "a"));
        assert!(m("[...]", ""));
    }

    #[test]
    fn hostile_patterns_are_refused_or_cheap() {
        let deep = format!("{{ {}$.a = 1{} }}", "(".repeat(5000), ")".repeat(5000));
        assert!(Pattern::parse(&deep).is_err());
        let nested_ok = format!("{{ {}$.a = 1{} }}", "(".repeat(MAX_NESTING), ")".repeat(MAX_NESTING));
        assert!(Pattern::parse(&nested_ok).unwrap().matches(r#"{"a": 1}"#));
        // A flat chain is a list, however long: evaluating and dropping it recurses once.
        let chain = format!("{{ {} }}", vec!["$.a = 1"; 50_000].join(" && "));
        let p = Pattern::parse(&chain).unwrap();
        assert!(p.matches(r#"{"a": 1}"#));
        drop(p);
        // Many `...` against many fields: a glob match, not a search of every split.
        let fields = vec!["..."; 200].join(", ") + ", x = never";
        let line = vec!["v"; 5000].join(" ");
        assert!(!m(&format!("[{fields}]"), &line));
    }
}
