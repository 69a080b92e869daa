//! Mapping templates: the references of API Gateway's Velocity templates that request and
//! response mappings use — `$input.body`, `$input.json(…)`, `$input.path(…)`,
//! `$input.params(…)`, `$context.*`, `$stageVariables.*` and `$util.*` around any of
//! them. Velocity's directives (`#set`, `#if`, `#foreach`) are not interpreted; a template
//! that uses them is passed on as written. Pure: no I/O.
//!
//! Rendering is bounded: `$util` calls nest at most [`MAX_NESTING`] deep and no value or
//! output grows past [`MAX_OUTPUT`] (API Gateway's 10 MB payload limit); past either,
//! [`render`] fails and the request is answered as a failed mapping.

use std::cell::OnceCell;
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

/// How deep `$util.f($util.g(…))` calls may nest.
pub const MAX_NESTING: usize = 16;

/// The most a template may render, or any value inside it may grow to, in bytes.
pub const MAX_OUTPUT: usize = 10 * 1024 * 1024;

/// Why a template could not be rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// `$util` calls nest deeper than [`MAX_NESTING`].
    #[error("mapping template calls nest more than {MAX_NESTING} deep")]
    TooDeep,
    /// The output, or a value in it, would pass [`MAX_OUTPUT`].
    #[error("mapping template output exceeds {MAX_OUTPUT} bytes")]
    TooLarge,
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
}

/// One rendering: the scope, and the payload parsed once however often it is referred to.
struct Renderer<'s, 'a> {
    scope: &'s Scope<'a>,
    json: OnceCell<Option<Value>>,
}

impl Renderer<'_, '_> {
    fn json_at(&self, path: &str) -> Value {
        let doc = self.json.get_or_init(|| serde_json::from_str(self.scope.body).ok());
        doc.as_ref().and_then(|j| json_path(j, path)).cloned().unwrap_or(Value::Null)
    }
}

fn bounded(s: String) -> Result<String, TemplateError> {
    if s.len() > MAX_OUTPUT {
        Err(TemplateError::TooLarge)
    } else {
        Ok(s)
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
/// the rest, `Ok(None)` when it is not one this renderer knows. `depth` counts the
/// `$util` calls around it.
fn reference<'s>(s: &'s str, r: &Renderer<'_, '_>, depth: usize) -> Result<Option<(String, &'s str)>, TemplateError> {
    let scope = r.scope;
    if let Some(rest) = s.strip_prefix("input.body") {
        return Ok(Some((scope.body.to_owned(), rest)));
    }
    if let Some(rest) = s.strip_prefix("input.json") {
        let Some((path, rest)) = argument(rest) else { return Ok(None) };
        return Ok(Some((bounded(r.json_at(path).to_string())?, rest)));
    }
    if let Some(rest) = s.strip_prefix("input.path") {
        let Some((path, rest)) = argument(rest) else { return Ok(None) };
        let v = r.json_at(path);
        return Ok(Some((if v.is_null() { String::new() } else { bounded(text_of(&v))? }, rest)));
    }
    if let Some(rest) = s.strip_prefix("input.params") {
        let Some((name, rest)) = argument(rest) else { return Ok(None) };
        return Ok(Some((scope.param(name), rest)));
    }
    if let Some(rest) = s.strip_prefix("util.") {
        if depth == MAX_NESTING {
            return Err(TemplateError::TooDeep);
        }
        let (func, rest) = identifier(rest);
        let Some(rest) = rest.strip_prefix('(') else { return Ok(None) };
        let rest = rest.trim_start();
        let (inner, rest) = match rest.strip_prefix('$') {
            Some(rest) => match reference(rest, r, depth + 1)? {
                Some(found) => found,
                None => return Ok(None),
            },
            None => {
                let Some(quote) = rest.chars().next().filter(|c| *c == '\'' || *c == '"') else { return Ok(None) };
                let Some(end) = rest[1..].find(quote) else { return Ok(None) };
                (rest[1..end + 1].to_owned(), &rest[end + 2..])
            }
        };
        let Some(rest) = rest.trim_start().strip_prefix(')') else { return Ok(None) };
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
            "base64Decode" => match base64::engine::general_purpose::STANDARD.decode(inner.trim()) {
                Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                Err(_) => return Ok(None),
            },
            _ => return Ok(None),
        };
        return Ok(Some((bounded(out)?, rest)));
    }
    if let Some(rest) = s.strip_prefix("context.") {
        let (name, rest) = identifier(rest);
        return Ok(Some((scope.context.get(name).cloned().unwrap_or_default(), rest)));
    }
    if let Some(rest) = s.strip_prefix("stageVariables.") {
        let (name, rest) = identifier(rest);
        return Ok(Some((scope.stage_variables.get(name).cloned().unwrap_or_default(), rest)));
    }
    Ok(None)
}

/// Renders a mapping template.
pub fn render(template: &str, scope: &Scope<'_>) -> Result<String, TemplateError> {
    let r = Renderer { scope, json: OnceCell::new() };
    let mut out = String::with_capacity(template.len().min(MAX_OUTPUT));
    let mut rest = template;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        // `${context.requestId}` is the formal form of `$context.requestId`.
        let formal = after.strip_prefix('{').and_then(|a| a.find('}').map(|end| (&a[..end], &a[end + 1..])));
        let done = match formal {
            Some((inner, tail)) => reference(inner, &r, 0)?.filter(|(_, r)| r.is_empty()).map(|(v, _)| (v, tail)),
            None => reference(after, &r, 0)?,
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
        if out.len() > MAX_OUTPUT {
            return Err(TemplateError::TooLarge);
        }
    }
    out.push_str(rest);
    bounded(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Renders what must render.
    fn render(template: &str, scope: &Scope<'_>) -> String {
        super::render(template, scope).unwrap()
    }

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

    #[test]
    fn bombs_are_refused_not_rendered() {
        let s = scope("{\"a\": \"b\"}");
        let deep = format!("{}'x'{}", "$util.escapeJavaScript(".repeat(20_000), ")".repeat(20_000));
        assert_eq!(super::render(&deep, &s), Err(TemplateError::TooDeep));
        let ok = format!("{}'x'{}", "$util.escapeJavaScript(".repeat(MAX_NESTING), ")".repeat(MAX_NESTING));
        assert_eq!(render(&ok, &s), "x");
        // Each base64 grows its input by a third: nested deep enough, it would pass 10 MB.
        let grow = format!("{}$input.body{}", "$util.base64Encode(".repeat(MAX_NESTING), ")".repeat(MAX_NESTING));
        let big = "x".repeat(MAX_OUTPUT / 8);
        assert_eq!(super::render(&grow, &scope(&big)), Err(TemplateError::TooLarge));
        // Many references to a large body: the output is capped as it grows.
        let many = "$input.body".repeat(100);
        assert_eq!(super::render(&many, &scope(&"y".repeat(MAX_OUTPUT / 50))), Err(TemplateError::TooLarge));
    }
}
