//! Operation routing for the REST protocols: a model's `requestUri` templates
//! (`/2015-03-31/functions/{FunctionName}/invocations`, `/{Bucket}/{Key+}?uploads`) matched
//! against a request's method, path and query.

use std::collections::HashMap;

/// One segment of a URI template's path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Label(String),
    /// `{Key+}`: one or more segments, slashes kept.
    Greedy(String),
}

/// A parsed `requestUri`: its path segments and the query literals a request must carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    segments: Vec<Segment>,
    /// `?tagging` (present, any value) or `?list-type=2` (that value).
    query: Vec<(String, Option<String>)>,
}

/// What a template captured from a request path: label name → percent-decoded value.
pub type Labels = Vec<(String, String)>;

impl Template {
    /// Parses a model's `requestUri`.
    pub fn parse(uri: &str) -> Result<Template, String> {
        let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
        let path = path.strip_prefix('/').ok_or_else(|| format!("requestUri {uri} does not start with /"))?;
        let mut segments = Vec::new();
        if !path.is_empty() {
            for seg in path.split('/') {
                segments.push(match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    Some(label) => match label.strip_suffix('+') {
                        Some(greedy) => Segment::Greedy(greedy.to_owned()),
                        None => Segment::Label(label.to_owned()),
                    },
                    None if seg.contains(['{', '}']) => return Err(format!("requestUri {uri}: segment {seg}")),
                    None => Segment::Literal(seg.to_owned()),
                });
            }
        }
        if segments.iter().take(segments.len().saturating_sub(1)).any(|s| matches!(s, Segment::Greedy(_))) {
            return Err(format!("requestUri {uri}: a greedy label must come last"));
        }
        let query = query
            .split('&')
            .filter(|q| !q.is_empty())
            // `x-id=GetObject` only tells operations apart for the SDKs' own logs; callers
            // that leave it out mean the same operation.
            .filter(|q| !q.starts_with("x-id="))
            .map(|q| match q.split_once('=') {
                Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
                None => (q.to_owned(), None),
            })
            .collect();
        Ok(Template { segments, query })
    }

    /// Its labels' names, in the path's order.
    pub fn labels(&self) -> Vec<&str> {
        self.segments
            .iter()
            .filter_map(|s| match s {
                Segment::Label(l) | Segment::Greedy(l) => Some(l.as_str()),
                Segment::Literal(_) => None,
            })
            .collect()
    }

    /// A request target this template matches: labels filled with `x` (a greedy one
    /// with `x/y`), the query literals appended. For tools that probe every operation.
    pub fn example(&self) -> String {
        let mut path = String::new();
        for seg in &self.segments {
            path.push('/');
            path.push_str(match seg {
                Segment::Literal(l) => l,
                Segment::Label(_) => "x",
                Segment::Greedy(_) => "x/y",
            });
        }
        if path.is_empty() {
            path.push('/');
        }
        for (i, (k, v)) in self.query.iter().enumerate() {
            path.push(if i == 0 { '?' } else { '&' });
            path.push_str(k);
            path.push('=');
            path.push_str(v.as_deref().unwrap_or(""));
        }
        path
    }

    /// The first path segment when it is a literal: what the route index keys on.
    fn first_literal(&self) -> Option<&str> {
        match self.segments.first() {
            Some(Segment::Literal(s)) => Some(s),
            _ => None,
        }
    }

    /// How specific the template is: more query literals, then more literal segments, and
    /// no greedy label, rank first.
    fn rank(&self) -> (usize, usize, bool) {
        let literals = self.segments.iter().filter(|s| matches!(s, Segment::Literal(_))).count();
        let greedy = self.segments.iter().any(|s| matches!(s, Segment::Greedy(_)));
        (self.query.len(), literals, !greedy)
    }

    /// Matches a request's raw (percent-encoded) path and its decoded query parameters;
    /// on success, the labels' decoded values.
    pub fn matches(&self, path: &str, query: &[(String, String)]) -> Option<Labels> {
        for (k, v) in &self.query {
            let found = query.iter().find(|(qk, _)| qk == k)?;
            if let Some(v) = v {
                if &found.1 != v {
                    return None;
                }
            }
        }
        let path = path.strip_prefix('/').unwrap_or(path);
        let parts: Vec<&str> = if path.is_empty() { Vec::new() } else { path.split('/').collect() };
        // A trailing slash after the last label (`PUT /bucket/`) names the same resource.
        let parts = match (parts.split_last(), self.segments.last()) {
            (Some((last, rest)), Some(Segment::Label(_) | Segment::Literal(_)))
                if last.is_empty() && rest.len() == self.segments.len() =>
            {
                rest.to_vec()
            }
            _ => parts,
        };
        let mut labels = Vec::new();
        for (i, seg) in self.segments.iter().enumerate() {
            match seg {
                Segment::Literal(lit) => {
                    if parts.get(i) != Some(&lit.as_str()) {
                        return None;
                    }
                }
                Segment::Label(name) => {
                    let part = parts.get(i).filter(|p| !p.is_empty())?;
                    labels.push((name.clone(), decode(part)?));
                }
                Segment::Greedy(name) => {
                    let rest = parts.get(i..).filter(|r| !r.is_empty())?.join("/");
                    if rest.is_empty() {
                        return None;
                    }
                    labels.push((name.clone(), decode(&rest)?));
                    return Some(labels);
                }
            }
        }
        (parts.len() == self.segments.len()).then_some(labels)
    }
}

/// Percent-decodes a path segment; `None` when the bytes are not UTF-8.
pub fn decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// A service's REST operations indexed by method and first path segment.
#[derive(Debug, Default)]
pub struct RouteTable {
    by_first: HashMap<(http::Method, String), Vec<usize>>,
    /// Templates whose first segment is a label (S3's `/{Bucket}`) or that are `/`.
    open: HashMap<http::Method, Vec<usize>>,
}

impl RouteTable {
    /// Indexes templates; `templates[i]` belongs to operation `i`.
    pub fn new<'a>(templates: impl Iterator<Item = (&'a http::Method, &'a Template)>) -> RouteTable {
        let mut t = RouteTable::default();
        for (i, (method, template)) in templates.enumerate() {
            match template.first_literal() {
                Some(first) => t.by_first.entry((method.clone(), first.to_owned())).or_default().push(i),
                None => t.open.entry(method.clone()).or_default().push(i),
            }
        }
        t
    }

    /// The operation a request names, with its labels: the most specific matching
    /// template. `templates` is the slice `new` indexed.
    pub fn find<'a>(
        &self,
        templates: impl Fn(usize) -> &'a Template,
        method: &http::Method,
        path: &str,
        query: &[(String, String)],
    ) -> Option<(usize, Labels)> {
        let first = path.strip_prefix('/').unwrap_or(path).split('/').next().unwrap_or("");
        let literal = self.by_first.get(&(method.clone(), first.to_owned())).into_iter().flatten();
        let open = self.open.get(method).into_iter().flatten();
        let mut best: Option<(usize, Labels, (usize, usize, bool))> = None;
        for &i in literal.chain(open) {
            let template = templates(i);
            if let Some(labels) = template.matches(path, query) {
                let rank = template.rank();
                if best.as_ref().is_none_or(|(_, _, r)| rank > *r) {
                    best = Some((i, labels, rank));
                }
            }
        }
        best.map(|(i, labels, _)| (i, labels))
    }

    /// Whether any template of another method matches (the caller answers 405 then).
    pub fn any_method<'a>(
        &self,
        templates: impl Fn(usize) -> &'a Template,
        path: &str,
        query: &[(String, String)],
    ) -> bool {
        self.by_first.values().chain(self.open.values()).flatten().any(|&i| templates(i).matches(path, query).is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn labels_are_decoded_and_greedy_labels_keep_slashes() {
        let t = Template::parse("/{Bucket}/{Key+}?x-id=GetObject").unwrap();
        let labels = t.matches("/b/dir/a%20b//c/", &[]).unwrap();
        assert_eq!(labels, vec![("Bucket".into(), "b".into()), ("Key".into(), "dir/a b//c/".into())]);
        assert!(t.matches("/b", &[]).is_none());
        assert!(t.matches("/b/", &[]).is_none());
    }

    #[test]
    fn query_literals_must_be_present_and_equal() {
        let t = Template::parse("/{Bucket}?list-type=2").unwrap();
        assert!(t.matches("/b", &q(&[("list-type", "2")])).is_some());
        assert!(t.matches("/b", &q(&[("list-type", "1")])).is_none());
        assert!(t.matches("/b", &[]).is_none());
        let t = Template::parse("/{Bucket}?tagging").unwrap();
        assert!(t.matches("/b", &q(&[("tagging", "")])).is_some());
        assert!(t.matches("/b/", &q(&[("tagging", "")])).is_some(), "a trailing slash names the bucket");
    }

    #[test]
    fn the_most_specific_template_wins() {
        let templates = [
            (http::Method::GET, Template::parse("/{Bucket}").unwrap()),
            (http::Method::GET, Template::parse("/{Bucket}?list-type=2").unwrap()),
            (http::Method::GET, Template::parse("/{Bucket}/{Key+}").unwrap()),
            (http::Method::GET, Template::parse("/2015-03-31/functions/{FunctionName}").unwrap()),
            (http::Method::GET, Template::parse("/2015-03-31/functions/{FunctionName}/configuration").unwrap()),
        ];
        let table = RouteTable::new(templates.iter().map(|(m, t)| (m, t)));
        let find = |path: &str, query: &[(String, String)]| {
            table.find(|i| &templates[i].1, &http::Method::GET, path, query).map(|(i, _)| i)
        };
        assert_eq!(find("/b", &[]), Some(0));
        assert_eq!(find("/b", &q(&[("list-type", "2")])), Some(1));
        assert_eq!(find("/b/k", &[]), Some(2));
        assert_eq!(find("/2015-03-31/functions/f", &[]), Some(3));
        assert_eq!(find("/2015-03-31/functions/f/configuration", &[]), Some(4));
        assert_eq!(templates[1].1.example(), "/x?list-type=2");
        assert_eq!(templates[2].1.example(), "/x/x/y");
        assert_eq!(table.find(|i| &templates[i].1, &http::Method::PUT, "/b", &[]), None);
        assert!(table.any_method(|i| &templates[i].1, "/b", &[]));
    }

    #[test]
    fn bad_templates_and_bad_escapes() {
        assert!(Template::parse("no-slash").is_err());
        assert!(Template::parse("/{A+}/b").is_err());
        assert_eq!(decode("%41%zz%4"), Some("A%zz%4".into()));
        assert_eq!(decode("%ff"), None);
    }
}
