//! Pure request routing: where an execute-api request is addressed, which resource or
//! route it matches, and the small parsers around them. No I/O here.

use std::collections::BTreeMap;

/// The account-level default steady rate, requests per second.
pub const ACCOUNT_RATE_LIMIT: f64 = 10_000.0;
/// The account-level default burst.
pub const ACCOUNT_BURST_LIMIT: u64 = 5_000;

/// An execute-api request's API and the path within it (still starting with the stage
/// for REST APIs and named HTTP API stages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// The API's id.
    pub api_id: String,
    /// The path after the API: `/{stage}/...` or, for an HTTP API's `$default` stage, the
    /// route's path itself.
    pub path: String,
    /// Whether it came by the API's own host (`{id}.execute-api.localhost`), rather than
    /// by a path form.
    pub by_host: bool,
}

const HOST_SUFFIXES: [&str; 2] = [".execute-api.localhost.localstack.cloud", ".execute-api.localhost"];

/// Which API a request addresses, if any: by its host, `{api-id}.execute-api.localhost`
/// (or LocalStack's `….localhost.localstack.cloud`), or by the path forms
/// `/restapis/{id}/{stage}/_user_request_/…` and `/_aws/execute-api/{id}/…`.
pub fn address(host: &str, path: &str) -> Option<Address> {
    let hostname =
        host.rsplit_once(':').filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit())).map_or(host, |(h, _)| h);
    let hostname = hostname.to_ascii_lowercase();
    for suffix in HOST_SUFFIXES {
        if let Some(id) = hostname.strip_suffix(suffix) {
            if !id.is_empty() && !id.contains('.') {
                return Some(Address { api_id: id.to_owned(), path: path.to_owned(), by_host: true });
            }
        }
    }
    if let Some(rest) = path.strip_prefix("/_aws/execute-api/") {
        let (id, tail) = rest.split_once('/').unwrap_or((rest, ""));
        return (!id.is_empty()).then(|| Address { api_id: id.to_owned(), path: format!("/{tail}"), by_host: false });
    }
    let rest = path.strip_prefix("/restapis/")?;
    let (id, rest) = rest.split_once('/')?;
    let (stage, rest) = rest.split_once('/')?;
    let tail = rest.strip_prefix("_user_request_")?;
    if !tail.is_empty() && !tail.starts_with('/') {
        return None;
    }
    let tail = if tail.is_empty() { "/" } else { tail };
    Some(Address { api_id: id.to_owned(), path: format!("/{stage}{tail}"), by_host: false })
}

/// Splits `/{first}/{rest}` into `first` and `/{rest}` (`/` when nothing follows).
pub fn split_first_segment(path: &str) -> (&str, &str) {
    let p = path.strip_prefix('/').unwrap_or(path);
    match p.split_once('/') {
        Some((first, rest)) => (first, &path[path.len() - rest.len() - 1..]),
        None => (p, "/"),
    }
}

/// Decodes `%XX` escapes (not `+`, which is literal in a path).
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// One path template's segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Segment<'a> {
    Literal(&'a str),
    Variable(&'a str),
    Greedy(&'a str),
}

fn segment(part: &str) -> Segment<'_> {
    match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
        Some(name) => match name.strip_suffix('+') {
            Some(greedy) => Segment::Greedy(greedy),
            None => Segment::Variable(name),
        },
        None => Segment::Literal(part),
    }
}

/// Matches `path` (`/a/b`) against a template (`/a/{x}`, `/{proxy+}`); returns the path
/// parameters, decoded, and a specificity score per segment (literal 2, variable 1,
/// greedy 0) for choosing among several matches.
pub fn match_template(template: &str, path: &str) -> Option<(BTreeMap<String, String>, Vec<u8>)> {
    let t: Vec<&str> = template.split('/').filter(|s| !s.is_empty()).collect();
    let p: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let mut params = BTreeMap::new();
    let mut score = Vec::with_capacity(t.len());
    for (i, part) in t.iter().enumerate() {
        match segment(part) {
            Segment::Greedy(name) => {
                if i != t.len() - 1 || p.len() <= i {
                    return None;
                }
                // The greedy variable keeps the rest of the path as sent, slashes and all.
                let rest = p[i..].join("/");
                params.insert(name.to_owned(), percent_decode(&rest));
                score.push(0);
                return Some((params, score));
            }
            Segment::Literal(lit) => {
                if p.get(i).is_none_or(|s| percent_decode(s) != *lit) {
                    return None;
                }
                score.push(2);
            }
            Segment::Variable(name) => {
                let v = p.get(i)?;
                params.insert(name.to_owned(), percent_decode(v));
                score.push(1);
            }
        }
    }
    (p.len() == t.len()).then_some((params, score))
}

/// Chooses, among `(template, item)` candidates, the one API Gateway would: the most
/// specific match, comparing segment by segment (literal over variable over greedy), a
/// longer match winning a tie.
pub fn best_match<'a, T>(
    candidates: impl IntoIterator<Item = (&'a str, T)>,
    path: &str,
) -> Option<(T, BTreeMap<String, String>)> {
    let mut best: Option<(Vec<u8>, T, BTreeMap<String, String>)> = None;
    for (template, item) in candidates {
        if let Some((params, score)) = match_template(template, path) {
            if best.as_ref().is_none_or(|(s, _, _)| score > *s) {
                best = Some((score, item, params));
            }
        }
    }
    best.map(|(_, item, params)| (item, params))
}

/// An HTTP API route key, parsed: `GET /items/{id}`, `ANY /{proxy+}` or `$default`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteKey {
    /// `$default`: whatever no other route matches.
    Default,
    /// A method (or `ANY`) and a path template.
    Route {
        /// The method, upper case, or `ANY`.
        method: String,
        /// The path template.
        path: String,
    },
}

impl RouteKey {
    /// Parses a route key, with AWS's rules for HTTP APIs.
    pub fn parse(key: &str) -> Result<RouteKey, String> {
        if key == "$default" {
            return Ok(RouteKey::Default);
        }
        let (method, path) = key.split_once(' ').ok_or_else(|| format!("Unable to parse route key {key}"))?;
        let methods = ["ANY", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
        if !methods.contains(&method) {
            return Err(format!("Unable to parse route key {key}: unknown method {method}"));
        }
        if !path.starts_with('/') || path.contains(' ') {
            return Err(format!("Unable to parse route key {key}: the path must start with /"));
        }
        let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        for (i, part) in parts.iter().enumerate() {
            if let Segment::Greedy(_) = segment(part) {
                if i != parts.len() - 1 {
                    return Err(format!("Unable to parse route key {key}: a greedy path variable must be last"));
                }
            }
        }
        Ok(RouteKey::Route { method: method.to_owned(), path: path.to_owned() })
    }
}

/// A path's parameters by name.
pub type Params = BTreeMap<String, String>;

/// Chooses an HTTP API route for `method` and `path` among `(route key, item)`: the most
/// specific path, a route for the method over `ANY`; else the `$default` route.
pub fn match_route<'a, T: Clone>(
    routes: impl IntoIterator<Item = (&'a RouteKey, T)>,
    method: &str,
    path: &str,
) -> Option<(T, BTreeMap<String, String>)> {
    let mut best: Option<((Vec<u8>, bool), T, Params)> = None;
    let mut default = None;
    for (key, item) in routes {
        match key {
            RouteKey::Default => default = Some(item),
            RouteKey::Route { method: m, path: template } => {
                let exact = m == method;
                if !exact && m != "ANY" {
                    continue;
                }
                if let Some((params, score)) = match_template(template, path) {
                    let rank = (score, exact);
                    if best.as_ref().is_none_or(|(r, _, _)| rank > *r) {
                        best = Some((rank, item, params));
                    }
                }
            }
        }
    }
    best.map(|(_, item, params)| (item, params)).or_else(|| default.map(|d| (d, BTreeMap::new())))
}

/// The function an `AWS_PROXY` integration's URI invokes: from
/// `arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{function arn}/invocations`
/// or a function ARN itself.
pub fn lambda_function_of(uri: &str) -> Option<String> {
    if uri.starts_with("arn:aws:lambda:") {
        return Some(uri.to_owned());
    }
    let (_, rest) = uri.split_once(":lambda:path/")?;
    let rest = rest.split_once("/functions/")?.1;
    let arn = rest.strip_suffix("/invocations")?;
    arn.starts_with("arn:").then(|| arn.to_owned())
}

/// Replaces `${stageVariables.name}` in `text` with the stage's variables.
pub fn with_stage_variables(text: &str, variables: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${stageVariables.") {
        out.push_str(&rest[..start]);
        let after = &rest[start + "${stageVariables.".len()..];
        match after.find('}') {
            Some(end) => {
                out.push_str(variables.get(&after[..end]).map(String::as_str).unwrap_or(""));
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// A selection pattern: a regular expression matched against the whole text.
#[derive(Debug, Clone)]
pub struct Pattern(regex::Regex);

impl Pattern {
    /// Compiles a selection pattern.
    pub fn new(p: &str) -> Result<Pattern, String> {
        regex::Regex::new(&format!("^(?s:{p})$")).map(Pattern).map_err(|e| e.to_string())
    }

    /// Whether the whole of `text` matches.
    pub fn matches(&self, text: &str) -> bool {
        self.0.is_match(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_by_host_and_by_path() {
        let a = address("abc123.execute-api.localhost:4566", "/prod/items").unwrap();
        assert_eq!((a.api_id.as_str(), a.path.as_str(), a.by_host), ("abc123", "/prod/items", true));
        let a = address("Abc123.execute-api.localhost.localstack.cloud", "/x").unwrap();
        assert_eq!(a.api_id, "abc123");
        let a = address("127.0.0.1:4566", "/restapis/abc/prod/_user_request_/items/1").unwrap();
        assert_eq!((a.api_id.as_str(), a.path.as_str()), ("abc", "/prod/items/1"));
        let a = address("127.0.0.1:4566", "/restapis/abc/prod/_user_request_").unwrap();
        assert_eq!(a.path, "/prod/");
        let a = address("localhost", "/_aws/execute-api/abc/prod/items").unwrap();
        assert_eq!((a.api_id.as_str(), a.path.as_str()), ("abc", "/prod/items"));
        assert!(address("localhost:4566", "/restapis/abc/resources").is_none());
        assert!(address("localhost:4566", "/restapis/abc/prod/_user_request_x").is_none());
        assert!(address("x.y.execute-api.localhost", "/").is_none());
    }

    #[test]
    fn first_segments_split_off() {
        assert_eq!(split_first_segment("/prod/a/b"), ("prod", "/a/b"));
        assert_eq!(split_first_segment("/prod"), ("prod", "/"));
        assert_eq!(split_first_segment("/prod/"), ("prod", "/"));
    }

    #[test]
    fn templates_match_with_decoded_parameters() {
        let (p, _) = match_template("/items/{id}", "/items/a%20b").unwrap();
        assert_eq!(p["id"], "a b");
        let (p, _) = match_template("/{proxy+}", "/a/b/c").unwrap();
        assert_eq!(p["proxy"], "a/b/c");
        assert!(match_template("/{proxy+}", "/").is_none());
        assert!(match_template("/items/{id}", "/items").is_none());
        assert!(match_template("/items", "/items/1").is_none());
        assert!(match_template("/", "/").is_some());
    }

    #[test]
    fn the_most_specific_template_wins() {
        let c = [("/{proxy+}", 1), ("/items/{id}", 2), ("/items/special", 3), ("/items/{id}/{proxy+}", 4)];
        assert_eq!(best_match(c, "/items/special").unwrap().0, 3);
        assert_eq!(best_match(c, "/items/7").unwrap().0, 2);
        assert_eq!(best_match(c, "/items/7/x/y").unwrap().0, 4);
        assert_eq!(best_match(c, "/other").unwrap().0, 1);
    }

    #[test]
    fn routes_prefer_their_method_then_any_then_default() {
        let keys: Vec<RouteKey> = ["GET /items/{id}", "ANY /items/{id}", "ANY /{proxy+}", "$default"]
            .iter()
            .map(|k| RouteKey::parse(k).unwrap())
            .collect();
        let routes = || keys.iter().zip(0..);
        assert_eq!(match_route(routes(), "GET", "/items/1").unwrap().0, 0);
        assert_eq!(match_route(routes(), "POST", "/items/1").unwrap().0, 1);
        assert_eq!(match_route(routes(), "POST", "/x/y").unwrap().0, 2);
        assert_eq!(match_route(routes(), "GET", "/").unwrap().0, 3);
        assert!(RouteKey::parse("FETCH /x").is_err());
        assert!(RouteKey::parse("GET /{proxy+}/x").is_err());
        assert!(RouteKey::parse("GET x").is_err());
    }

    #[test]
    fn lambda_uris_name_their_function() {
        let f = "arn:aws:lambda:us-east-1:000000000000:function:hello";
        let uri = format!("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{f}/invocations");
        assert_eq!(lambda_function_of(&uri).as_deref(), Some(f));
        assert_eq!(lambda_function_of(f).as_deref(), Some(f));
        assert_eq!(lambda_function_of("arn:aws:apigateway:us-east-1:sqs:path/x"), None);
    }

    #[test]
    fn stage_variables_substitute() {
        let v = BTreeMap::from([("alias".to_owned(), "live".to_owned())]);
        assert_eq!(with_stage_variables("fn:${stageVariables.alias}/x", &v), "fn:live/x");
        assert_eq!(with_stage_variables("${stageVariables.none}", &v), "");
        assert_eq!(with_stage_variables("${stageVariables.open", &v), "${stageVariables.open");
    }

    #[test]
    fn selection_patterns_match_the_whole_text() {
        let p = Pattern::new("4\\d{2}").unwrap();
        assert!(p.matches("404"));
        assert!(!p.matches("4040"));
        assert!(Pattern::new("(").is_err());
    }
}
