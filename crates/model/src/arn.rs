//! Function identifiers: names, partial ARNs and full ARNs, with qualifiers.

use crate::limits::FUNCTION_NAME_MAX;
use crate::validate::Violation;

/// botocore's pattern for a `FunctionName` member, quoted in ValidationExceptions.
pub const FUNCTION_NAME_PATTERN: &str = "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?";

/// A version selector after the function name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Qualifier {
    /// `$LATEST`, the unpublished working copy.
    Latest,
    /// A published version number or an alias name.
    Named(String),
}

impl Qualifier {
    /// Parses a qualifier as it appears in an ARN or a `Qualifier` parameter.
    pub fn parse(s: &str) -> Option<Qualifier> {
        if s == "$LATEST" {
            Some(Qualifier::Latest)
        } else if !s.is_empty() && s.chars().all(is_name_char) && s.len() <= 128 {
            Some(Qualifier::Named(s.to_owned()))
        } else {
            None
        }
    }

    /// The qualifier's text.
    pub fn as_str(&self) -> &str {
        match self {
            Qualifier::Latest => "$LATEST",
            Qualifier::Named(s) => s,
        }
    }
}

/// A reference to a function as a caller wrote it: a name, a partial ARN
/// (`123456789012:function:name`) or a full ARN, optionally qualified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionRef {
    /// The function's name.
    pub name: String,
    /// The account named in an ARN, if any.
    pub account: Option<String>,
    /// The region named in an ARN, if any.
    pub region: Option<String>,
    /// The qualifier in the reference, if any.
    pub qualifier: Option<Qualifier>,
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

fn is_region(s: &str) -> bool {
    // [a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d
    let parts: Vec<&str> = s.split('-').collect();
    let (head, rest) = match parts.split_first() {
        Some(x) => x,
        None => return false,
    };
    if head.len() != 2 || !head.chars().all(|c| c.is_ascii_lowercase()) || rest.len() < 2 {
        return false;
    }
    let digit = rest[rest.len() - 1];
    let words = &rest[..rest.len() - 1];
    digit.len() == 1
        && digit.chars().all(|c| c.is_ascii_digit())
        && !words.is_empty()
        && words.len() <= 2
        && words.iter().all(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase()))
}

fn is_account(s: &str) -> bool {
    s.len() == 12 && s.chars().all(|c| c.is_ascii_digit())
}

impl FunctionRef {
    /// Parses a `FunctionName` path or body member as the model's pattern reads it
    /// (`[arn:aws:lambda:][region:][account:][function:]name[:qualifier]`, each prefix
    /// optional). `field` is the member name used in the ValidationException
    /// (`functionName`). The name's length is not checked here: a name too long for a
    /// function names none ([`FunctionRef::name_too_long`]).
    pub fn parse(input: &str, field: &str) -> Result<FunctionRef, Violation> {
        if input.is_empty() {
            return Err(Violation::min_length(input, field, 1));
        }
        let parts: Vec<&str> = input.split(':').collect();
        // The optional groups, tried as the pattern's matcher tries them: each present
        // before absent, left to right; the first reading that matches wins.
        for mask in (0u8..16).rev() {
            let (prefix, region, account, function) = (mask & 8 != 0, mask & 4 != 0, mask & 2 != 0, mask & 1 != 0);
            let mut rest: &[&str] = &parts;
            let mut take = |n: usize, ok: &dyn Fn(&[&str]) -> bool| -> Option<Vec<String>> {
                let (head, tail) = (rest.get(..n)?, rest.get(n..)?);
                ok(head).then(|| {
                    rest = tail;
                    head.iter().map(|s| (*s).to_owned()).collect()
                })
            };
            if prefix && take(3, &|h| h[0] == "arn" && h[1].starts_with("aws") && h[2] == "lambda").is_none() {
                continue;
            }
            let region = match region {
                true => match take(1, &|h| is_region(h[0].strip_prefix("eusc-").unwrap_or(h[0]))) {
                    Some(mut r) => Some(r.remove(0)),
                    None => continue,
                },
                false => None,
            };
            let account = match account {
                true => match take(1, &|h| is_account(h[0])) {
                    Some(mut a) => Some(a.remove(0)),
                    None => continue,
                },
                false => None,
            };
            if function && take(1, &|h| h[0] == "function").is_none() {
                continue;
            }
            let (name, qualifier) = match rest {
                [name] => (*name, None),
                [name, q] if is_qualifier(q) => (*name, Qualifier::parse(q)),
                _ => continue,
            };
            if name.is_empty() || !name.chars().all(|c| is_name_char(c) || c == '.') {
                continue;
            }
            return Ok(FunctionRef { name: name.to_owned(), account, region, qualifier });
        }
        Err(Violation::pattern(input, field, FUNCTION_NAME_PATTERN))
    }

    /// Whether the name is longer than a function's name may be (64), as written
    /// without an account.
    pub fn name_too_long(&self) -> bool {
        self.name.len() > FUNCTION_NAME_MAX
    }
}

/// `(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+)`.
fn is_qualifier(q: &str) -> bool {
    q == "$LATEST" || q == "$LATEST.PUBLISHED" || (!q.is_empty() && q.chars().all(is_name_char))
}

/// Whether `arn` matches an IAM ARN pattern (`ArnLike`): `*` matches any run of
/// characters, `?` any one.
pub fn arn_like(pattern: &str, arn: &str) -> bool {
    crate::wildcard::glob(pattern.as_bytes(), arn.as_bytes(), false)
}

/// The unqualified ARN of a function.
pub fn function_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:lambda:{region}:{account}:function:{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_name() {
        let r = FunctionRef::parse("my-func_1", "functionName").unwrap();
        assert_eq!(r.name, "my-func_1");
        assert_eq!(r.account, None);
        assert_eq!(r.qualifier, None);
    }

    #[test]
    fn qualified_name_and_partial_and_full_arns() {
        let r = FunctionRef::parse("f:$LATEST", "functionName").unwrap();
        assert_eq!(r.qualifier, Some(Qualifier::Latest));
        let r = FunctionRef::parse("123456789012:function:f:live", "functionName").unwrap();
        assert_eq!(r.account.as_deref(), Some("123456789012"));
        assert_eq!(r.qualifier, Some(Qualifier::Named("live".into())));
        let r = FunctionRef::parse("arn:aws:lambda:eu-west-1:123456789012:function:f:7", "functionName").unwrap();
        assert_eq!(r.region.as_deref(), Some("eu-west-1"));
        assert_eq!(r.name, "f");
        assert_eq!(r.qualifier, Some(Qualifier::Named("7".into())));
        let r = FunctionRef::parse("arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:f", "functionName");
        assert!(r.is_ok());
    }

    #[test]
    fn malformed_references_name_the_pattern() {
        for bad in [
            "bad name",
            "arn:aws:s3:::bucket",
            "a:b:c:d",
            "12:function:f:g:h",
            "f:",
            "arn:aws:lambda:nowhere:123456789012:function:f",
        ] {
            let v = FunctionRef::parse(bad, "functionName").unwrap_err();
            assert!(v.constraint.contains("regular expression pattern"), "{bad}: {v}");
        }
        let long = FunctionRef::parse(&"a".repeat(65), "functionName").unwrap();
        assert!(long.name_too_long(), "a name too long parses, and names no function");
        // The pattern's reading of an ARN without a name: `function` is the name.
        let r = FunctionRef::parse("arn:aws:lambda:us-east-1:123456789012:function", "functionName").unwrap();
        assert_eq!((r.name.as_str(), r.account.as_deref()), ("function", Some("123456789012")));
    }

    #[test]
    fn arn_format() {
        assert_eq!(function_arn("us-east-1", "000000000000", "f"), "arn:aws:lambda:us-east-1:000000000000:function:f");
    }
}
