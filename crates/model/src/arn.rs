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
    /// Parses a `FunctionName` path or body member. `field` is the member name used in
    /// the ValidationException (`functionName`).
    pub fn parse(input: &str, field: &str) -> Result<FunctionRef, Violation> {
        let bad = || Violation::pattern(input, field, FUNCTION_NAME_PATTERN);
        if input.is_empty() {
            return Err(Violation::min_length(input, field, 1));
        }
        if input.len() > 140 {
            return Err(Violation::max_length(input, field, 140));
        }
        let parts: Vec<&str> = input.split(':').collect();
        let (account, region, rest): (Option<&str>, Option<&str>, &[&str]) = if parts[0] == "arn" {
            // arn:aws:lambda:region:account:function:name[:qualifier]
            if parts.len() < 7
                || !parts[1].starts_with("aws")
                || parts[2] != "lambda"
                || !is_region(parts[3])
                || !is_account(parts[4])
                || parts[5] != "function"
            {
                return Err(bad());
            }
            (Some(parts[4]), Some(parts[3]), &parts[6..])
        } else if parts.len() >= 3 && parts[1] == "function" {
            if !is_account(parts[0]) {
                return Err(bad());
            }
            (Some(parts[0]), None, &parts[2..])
        } else {
            (None, None, &parts[..])
        };
        let (name, qualifier) = match rest {
            [name] => (*name, None),
            [name, q] => (*name, Some(Qualifier::parse(q).ok_or_else(bad)?)),
            _ => return Err(bad()),
        };
        if name.is_empty() || !name.chars().all(is_name_char) {
            return Err(bad());
        }
        if account.is_none() && name.len() > FUNCTION_NAME_MAX {
            return Err(Violation::max_length(input, field, FUNCTION_NAME_MAX));
        }
        Ok(FunctionRef {
            name: name.to_owned(),
            account: account.map(str::to_owned),
            region: region.map(str::to_owned),
            qualifier,
        })
    }
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
            "12:function:f",
            "f:",
            "arn:aws:lambda:nowhere:123456789012:function:f",
        ] {
            let v = FunctionRef::parse(bad, "functionName").unwrap_err();
            assert!(v.constraint.contains("regular expression pattern"), "{bad}: {v}");
        }
        let long = "a".repeat(65);
        let v = FunctionRef::parse(&long, "functionName").unwrap_err();
        assert_eq!(v.constraint, "Member must have length less than or equal to 64");
    }

    #[test]
    fn arn_format() {
        assert_eq!(function_arn("us-east-1", "000000000000", "f"), "arn:aws:lambda:us-east-1:000000000000:function:f");
    }
}
