//! Mapping templates: the references of API Gateway's Velocity templates that request and
//! response mappings use — `$input.body`, `$input.json(…)`, `$input.path(…)`,
//! `$input.params(…)`, `$context.*`, `$stageVariables.*` and `$util.*` around any of
//! them. Velocity's directives (`#set`, `#if`, `#foreach`) are not interpreted; a template
//! that uses them is passed on as written. Pure: no I/O.

use std::collections::BTreeMap;

use base64::Engine;
use serde_json::Value;

/// What a template can refer to.
#[derive(Debug, Clone, Default)]
pub struct Scope<'a> {
    /// The payload (`$input`): the request's body, or the backend's answer.
    pub body: &'a str,
    /// Path parameters (`$input.params('x')` looks here, then in the query, then headers).
    pub path: BTreeMap<String, String>,
    /// Query string parameters.
    pub query: BTreeMap<String, String>,
    /// Headers, names as sent.
    pub headers: BTreeMap<String, String>,
    /// `$context` variables by name (`requestId`, `stage`, `identity.sourceIp`, …).
    pub context: BTreeMap<String, String>,
    /// `$stageVariables`.
    pub stage_variables: BTreeMap<String, String>,
}

impl Scope<'_> {
    fn param(&self, name: &str) -> String {
        self.path
            .get(name)
            .or_else(|| self.query.get(name))
            .or_else(|| self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v))
            .cloned()
            .unwrap_or_default()
    }

    fn json(&self) -> Option<Value> {
        serde_json::from_str(self.body).ok()
    }
}

/// The value at a JSONPath of the simple kind (`$`, `$.a.b`, `$.items[0].id`, `$['a']`).
pub fn json_path<'v>(root: &'v Value, path: &str) -> Option<&'v Value> {
    let mut rest = path.trim().strip_prefix('$')?;
    let mut cur = root;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            cur = cur.get(&r[..end])?;
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']')?;
            let key = r[..end].trim();
            cur = match key.trim_matches(['\'', '"']) {
                k if key.starts_with(['\'', '"']) => cur.get(k)?,
                k => cur.get(k.parse::<usize>().ok()?)?,
            };
            rest = &r[end + 1..];
        } else {
            return None;
        }
    }
    Some(cur)
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Reads a quoted argument `('x')` at the start of `s`; returns it and the rest.
fn argument(s: &str) -> Option<(&str, &str)> {
    let s = s.strip_prefix('(')?.trim_start();
    let quote = s.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let s = &s[1..];
    let end = s.find(quote)?;
    let after = s[end + 1..].trim_start().strip_prefix(')')?;
    Some((&s[..end], after))
}

fn identifier(s: &str) -> (&str, &str) {
    let end = s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-')).unwrap_or(s.len());
    let mut id = &s[..end];
    // A trailing dot ends the sentence, not the name.
    while let Some(trimmed) = id.strip_suffix('.') {
        id = trimmed;
    }
    (id, &s[id.len()..])
}

/// Evaluates one reference at the start of `s` (just after `$`); returns its text and
/// the rest, or `None` when it is not one this renderer knows.
fn reference<'s>(s: &'s str, scope: &Scope<'_>) -> Option<(String, &'s str)> {
    if let Some(r) = s.strip_prefix("input.body") {
        return Some((scope.body.to_owned(), r));
    }
    if let Some(r) = s.strip_prefix("input.json") {
        let (path, r) = argument(r)?;
        let v = scope.json().and_then(|j| json_path(&j, path).cloned()).unwrap_or(Value::Null);
        return Some((v.to_string(), r));
    }
    if let Some(r) = s.strip_prefix("input.path") {
        let (path, r) = argument(r)?;
        let v = scope.json().and_then(|j| json_path(&j, path).cloned()).unwrap_or(Value::Null);
        return Some((if v.is_null() { String::new() } else { text_of(&v) }, r));
    }
    if let Some(r) = s.strip_prefix("input.params") {
        let (name, r) = argument(r)?;
        return Some((scope.param(name), r));
    }
    if let Some(r) = s.strip_prefix("util.") {
        let (func, r) = identifier(r);
        let r = r.strip_prefix('(')?.trim_start();
        let (inner, r) = match r.strip_prefix('$') {
            Some(r) => reference(r, scope)?,
            None => {
                let quote = r.chars().next().filter(|c| *c == '\'' || *c == '"')?;
                let end = r[1..].find(quote)? + 1;
                (r[1..end].to_owned(), &r[end + 1..])
            }
        };
        let r = r.trim_start().strip_prefix(')')?;
        let out = match func {
            "urlEncode" => form_urlencoded::byte_serialize(inner.as_bytes()).collect(),
            "urlDecode" => form_urlencoded::parse(format!("x={inner}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default(),
            "escapeJavaScript" => {
                let quoted = Value::String(inner).to_string();
                quoted[1..quoted.len() - 1].replace('\'', "\\'")
            }
            "base64Encode" => base64::engine::general_purpose::STANDARD.encode(inner.as_bytes()),
            "base64Decode" => {
                String::from_utf8_lossy(&base64::engine::general_purpose::STANDARD.decode(inner.trim()).ok()?)
                    .into_owned()
            }
            _ => return None,
        };
        return Some((out, r));
    }
    if let Some(r) = s.strip_prefix("context.") {
        let (name, r) = identifier(r);
        return Some((scope.context.get(name).cloned().unwrap_or_default(), r));
    }
    if let Some(r) = s.strip_prefix("stageVariables.") {
        let (name, r) = identifier(r);
        return Some((scope.stage_variables.get(name).cloned().unwrap_or_default(), r));
    }
    None
}

/// Renders a mapping template.
pub fn render(template: &str, scope: &Scope<'_>) -> String {
    let mut out = String::with_capacity(template.len() + scope.body.len());
    let mut rest = template;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        // `${context.requestId}` is the formal form of `$context.requestId`.
        let formal = after.strip_prefix('{').and_then(|a| a.find('}').map(|end| (&a[..end], &a[end + 1..])));
        let done = match formal {
            Some((inner, tail)) => reference(inner, scope).filter(|(_, r)| r.is_empty()).map(|(v, _)| (v, tail)),
            None => reference(after, scope),
        };
        match done {
            Some((value, tail)) => {
                out.push_str(&value);
                rest = tail;
            }
            None => {
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(body: &str) -> Scope<'_> {
        Scope {
            body,
            path: BTreeMap::from([("id".to_owned(), "7".to_owned())]),
            query: BTreeMap::from([("q".to_owned(), "x y".to_owned())]),
            headers: BTreeMap::from([("X-Trace".to_owned(), "t1".to_owned())]),
            context: BTreeMap::from([
                ("requestId".to_owned(), "r-1".to_owned()),
                ("identity.sourceIp".to_owned(), "1.2.3.4".to_owned()),
            ]),
            stage_variables: BTreeMap::from([("queue".to_owned(), "jobs".to_owned())]),
        }
    }

    #[test]
    fn the_common_sqs_template_renders() {
        let s = scope("{\"a\": \"b&c\"}");
        assert_eq!(
            render("Action=SendMessage&MessageBody=$util.urlEncode($input.body)", &s),
            "Action=SendMessage&MessageBody=%7B%22a%22%3A+%22b%26c%22%7D"
        );
        assert_eq!(
            render("Action=SendMessage&MessageBody=$input.body", &s),
            "Action=SendMessage&MessageBody={\"a\": \"b&c\"}"
        );
    }

    #[test]
    fn references_of_every_kind() {
        let s = scope("{\"user\": {\"name\": \"ann\", \"tags\": [\"x\", \"y\"]}}");
        assert_eq!(render("$input.path('$.user.name')", &s), "ann");
        assert_eq!(render("$input.json('$.user.tags')", &s), "[\"x\",\"y\"]");
        assert_eq!(render("$input.path('$.user.tags[1]')", &s), "y");
        assert_eq!(render("$input.params('id')/$input.params('q')/$input.params('x-trace')", &s), "7/x y/t1");
        assert_eq!(
            render("{\"id\": \"$context.requestId\", \"ip\": \"${context.identity.sourceIp}\"}", &s),
            "{\"id\": \"r-1\", \"ip\": \"1.2.3.4\"}"
        );
        assert_eq!(render("$stageVariables.queue.", &s), "jobs.");
        assert_eq!(render("\"$util.escapeJavaScript($input.path('$.user.name'))\"", &s), "\"ann\"");
        assert_eq!(render("$util.base64Encode('hi')", &s), "aGk=");
        // What it does not know stays as written.
        assert_eq!(render("#set($x = 1) costs $5", &s), "#set($x = 1) costs $5");
    }
}
