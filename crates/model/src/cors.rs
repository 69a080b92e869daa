//! CORS as API Gateway's HTTP APIs and Lambda's function URLs answer it: one
//! configuration type for both, and the headers a preflight or an answer gets.

/// A CORS configuration (`corsConfiguration` of an HTTP API, `Cors` of a function URL).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cors {
    /// `AllowCredentials`.
    pub allow_credentials: Option<bool>,
    /// `AllowHeaders`.
    pub allow_headers: Vec<String>,
    /// `AllowMethods`.
    pub allow_methods: Vec<String>,
    /// `AllowOrigins`.
    pub allow_origins: Vec<String>,
    /// `ExposeHeaders`.
    pub expose_headers: Vec<String>,
    /// `MaxAge`, seconds.
    pub max_age: Option<i64>,
}

/// Headers, as `(lowercase name, value)`.
pub type Headers = Vec<(String, String)>;

impl Cors {
    fn allows_origin(&self, origin: &str) -> bool {
        self.allow_origins.iter().any(|o| o == "*" || o.eq_ignore_ascii_case(origin))
    }

    fn credentials(&self) -> bool {
        self.allow_credentials == Some(true)
    }

    /// `Access-Control-Allow-Origin`: `*` when any origin may call and no credentials
    /// are allowed, else the origin itself.
    fn allowed_origin<'a>(&self, origin: &'a str) -> &'a str {
        if self.allow_origins.iter().any(|o| o == "*") && !self.credentials() {
            "*"
        } else {
            origin
        }
    }

    /// The headers of the answer to a preflight (`OPTIONS`) from `origin` asking for
    /// `method` and `headers`: none when the origin or the method is not allowed.
    pub fn preflight(&self, origin: &str, method: Option<&str>, headers: Option<&str>) -> Headers {
        let method_ok =
            method.is_some_and(|m| self.allow_methods.iter().any(|a| a == "*" || a.eq_ignore_ascii_case(m)));
        if !self.allows_origin(origin) || !method_ok {
            return Vec::new();
        }
        let mut out = vec![
            ("access-control-allow-origin".to_owned(), self.allowed_origin(origin).to_owned()),
            ("access-control-allow-methods".to_owned(), self.allow_methods.join(",")),
        ];
        if !self.allow_headers.is_empty() {
            let allow = if self.allow_headers.iter().any(|h| h == "*") {
                headers.unwrap_or_default().to_owned()
            } else {
                self.allow_headers.join(",")
            };
            out.push(("access-control-allow-headers".to_owned(), allow));
        }
        if self.credentials() {
            out.push(("access-control-allow-credentials".to_owned(), "true".to_owned()));
        }
        if let Some(age) = self.max_age {
            out.push(("access-control-max-age".to_owned(), age.to_string()));
        }
        out
    }

    /// The CORS headers an answer to `origin` carries (replacing any the integration set),
    /// or `None` when the origin is not allowed (the answer is left as it is).
    pub fn answer_headers(&self, origin: &str) -> Option<Headers> {
        if !self.allows_origin(origin) {
            return None;
        }
        let mut out = vec![("access-control-allow-origin".to_owned(), self.allowed_origin(origin).to_owned())];
        if self.credentials() {
            out.push(("access-control-allow-credentials".to_owned(), "true".to_owned()));
        }
        if !self.expose_headers.is_empty() {
            out.push(("access-control-expose-headers".to_owned(), self.expose_headers.join(",")));
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cors(origins: &[&str], credentials: bool) -> Cors {
        Cors {
            allow_origins: origins.iter().map(|o| (*o).to_owned()).collect(),
            allow_methods: vec!["GET".into(), "POST".into()],
            allow_headers: vec!["*".into()],
            allow_credentials: Some(credentials),
            max_age: Some(60),
            ..Default::default()
        }
    }

    #[test]
    fn preflights_name_the_origin_unless_any_may_call_without_credentials() {
        let any = cors(&["*"], false).preflight("https://a.example", Some("post"), Some("x-token"));
        assert_eq!(any[0], ("access-control-allow-origin".into(), "*".into()));
        assert!(any.contains(&("access-control-allow-headers".into(), "x-token".into())));
        assert!(any.contains(&("access-control-max-age".into(), "60".into())));
        let named = cors(&["*"], true).preflight("https://a.example", Some("GET"), None);
        assert_eq!(named[0].1, "https://a.example");
        assert!(cors(&["https://b.example"], false).preflight("https://a.example", Some("GET"), None).is_empty());
        assert!(cors(&["*"], false).preflight("https://a.example", Some("DELETE"), None).is_empty());
    }

    #[test]
    fn answers_carry_the_origin_and_exposed_headers_only_for_allowed_origins() {
        let mut c = cors(&["https://a.example"], false);
        c.expose_headers = vec!["x-id".into()];
        let h = c.answer_headers("https://A.example").expect("allowed");
        assert_eq!(h[0].1, "https://A.example");
        assert_eq!(h[1], ("access-control-expose-headers".into(), "x-id".into()));
        assert_eq!(c.answer_headers("https://b.example"), None);
    }
}
