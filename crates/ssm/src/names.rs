//! Parameter names as AWS reads them: hierarchies of `/`-separated parts, reserved
//! prefixes, the leading slash a one-level name may be given with, selectors (`name:3`,
//! `name:label`) and ARNs. Pure.

use crate::SsmError;

/// The most levels a hierarchy may have.
pub const MAX_LEVELS: usize = 15;

/// AWS's words for a name outside the rules (a stray `//`, a path without its leading
/// slash, a character outside letters, digits and `.-_`).
pub(crate) const INVALID_NAME: &str = "Parameter name: can't be prefixed with \"aws\" or \"ssm\" (case-insensitive). \
If formed as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of \
letters, numbers and the following 3 symbols .-_";

/// The key a name is kept under: a one-level name is the same parameter with or without
/// its leading slash (`/db` is `db`).
pub fn key_of(name: &str) -> &str {
    match name.strip_prefix('/') {
        Some(rest) if !rest.contains('/') => rest,
        _ => name,
    }
}

/// Checks a name's form: its characters, its slashes and its depth.
pub fn check(name: &str) -> Result<(), SsmError> {
    let chars_ok = name.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-/".contains(&b));
    let path_ok = !name.contains('/') || (name.starts_with('/') && !name.contains("//") && !name.ends_with('/'));
    if name.is_empty() || !chars_ok || !path_ok {
        return Err(SsmError::Validation(INVALID_NAME.into()));
    }
    if levels(name) > MAX_LEVELS {
        return Err(SsmError::HierarchyLevelLimitExceeded(
            "A hierarchy can have a maximum of 15 levels. For more information, see Requirements and constraints \
             for parameter names in the AWS Systems Manager User Guide."
                .into(),
        ));
    }
    Ok(())
}

/// Checks a name PutParameter is to create: its form, and none of AWS's reserved prefixes.
pub fn check_new(name: &str) -> Result<(), SsmError> {
    let bare = name.trim_start_matches('/').to_ascii_lowercase();
    if bare.starts_with("aws") || bare.starts_with("ssm") {
        let path = name.matches('/').count() > 1;
        if path && name.to_ascii_lowercase().starts_with("/aws") {
            return Err(SsmError::AccessDenied(format!("No access to reserved parameter name: {name}.")));
        }
        if !path {
            return Err(SsmError::Validation(
                "Parameter name: can't be prefixed with \"aws\" or \"ssm\" (case-insensitive).".into(),
            ));
        }
        return Err(SsmError::Validation(INVALID_NAME.replace("\"aws\" or \"ssm\"", "\"ssm\"")));
    }
    check(name)
}

/// How many levels a name has (`/a/b` two, `a` one).
pub fn levels(name: &str) -> usize {
    name.trim_start_matches('/').split('/').count()
}

/// What a name in a request asks for: the parameter, and which of its versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selected {
    /// The parameter's name, as given (or as an ARN names it).
    pub name: String,
    /// The version or label asked for, if any.
    pub selector: Option<Selector>,
    /// Whether it was named by its ARN.
    pub by_arn: bool,
}

/// A version selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// `name:3`.
    Version(u64),
    /// `name:label`.
    Label(String),
}

impl Selector {
    /// As AWS shows it: `:3`, `:label`.
    pub fn shown(&self) -> String {
        match self {
            Selector::Version(v) => format!(":{v}"),
            Selector::Label(l) => format!(":{l}"),
        }
    }
}

/// Reads a name as GetParameter takes it: a name or an ARN, with an optional selector.
pub fn select(text: &str) -> Result<Selected, SsmError> {
    let (text, by_arn) = match text.strip_prefix("arn:") {
        Some(rest) => {
            // arn:<partition>:ssm:<region>:<account>:parameter/<name>
            let mut parts = rest.splitn(5, ':');
            let resource = parts.nth(4).and_then(|r| r.strip_prefix("parameter"));
            let name =
                resource.filter(|r| r.starts_with('/')).ok_or_else(|| SsmError::Validation(INVALID_NAME.into()))?;
            (name, true)
        }
        None => (text, false),
    };
    let (name, selector) = match text.split_once(':') {
        None => (text, None),
        Some((name, sel)) if sel.contains(':') || sel.is_empty() => {
            return Err(SsmError::Validation(format!("Invalid parameter name: {name}:{sel}")));
        }
        Some((name, sel)) => match sel.parse::<u64>() {
            Ok(v) => (name, Some(Selector::Version(v))),
            Err(_) => (name, Some(Selector::Label(sel.to_owned()))),
        },
    };
    // An ARN names a one-level parameter with a slash it may not have.
    let name = if by_arn { key_of(name) } else { name };
    check(name)?;
    Ok(Selected { name: name.to_owned(), selector, by_arn })
}

/// A parameter's ARN.
pub fn arn(region: &str, account: &str, name: &str) -> String {
    let sep = if name.starts_with('/') { "" } else { "/" };
    format!("arn:aws:ssm:{region}:{account}:parameter{sep}{name}")
}

/// Whether `name` sits under `path`: directly, or at any depth when `recursive`.
pub fn under(name: &str, path: &str, recursive: bool) -> bool {
    let prefix = if path.ends_with('/') { path.to_owned() } else { format!("{path}/") };
    match name.strip_prefix(&prefix) {
        Some(rest) => !rest.is_empty() && (recursive || !rest.contains('/')),
        None => false,
    }
}

/// Checks a label's form: AWS refuses those it reports as invalid (a reserved prefix, a
/// leading digit, characters outside letters, digits and `.-_`).
pub fn label_ok(label: &str) -> bool {
    let lower = label.to_ascii_lowercase();
    !label.is_empty()
        && !lower.starts_with("aws")
        && !lower.starts_with("ssm")
        && !label.starts_with(|c: char| c.is_ascii_digit())
        && label.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_hierarchies_of_simple_parts() {
        for ok in ["db", "/db", "/app/db/password", "a.b-c_d"] {
            assert!(check(ok).is_ok(), "{ok}");
        }
        for bad in ["/a//b", "a/b", "/a/", "a b", "", "a*"] {
            let e = check(bad).unwrap_err();
            assert!(e.to_string().contains("sub-paths divided by slash symbol"), "{bad}");
        }
        let deep = "/a".repeat(16);
        assert!(matches!(check(&deep), Err(SsmError::HierarchyLevelLimitExceeded(_))));
        assert!(check(&"/a".repeat(15)).is_ok());
    }

    #[test]
    fn reserved_prefixes_are_refused_as_aws_refuses_them() {
        assert!(check_new("awsome").unwrap_err().to_string().ends_with("(case-insensitive)."));
        assert!(matches!(check_new("/aws/x"), Err(SsmError::AccessDenied(_))));
        assert!(check_new("/SSM/x").unwrap_err().to_string().contains("prefixed with \"ssm\""));
        assert!(check_new("/app/aws").is_ok());
    }

    #[test]
    fn a_one_level_name_is_one_parameter_with_or_without_its_slash() {
        assert_eq!(key_of("/db"), "db");
        assert_eq!(key_of("db"), "db");
        assert_eq!(key_of("/app/db"), "/app/db");
        assert_eq!(arn("us-east-1", "111111111111", "db"), "arn:aws:ssm:us-east-1:111111111111:parameter/db");
        assert_eq!(arn("us-east-1", "111111111111", "/a/b"), "arn:aws:ssm:us-east-1:111111111111:parameter/a/b");
    }

    #[test]
    fn selectors_and_arns_are_read() {
        let s = select("/app/db:3").unwrap();
        assert_eq!((s.name.as_str(), s.selector), ("/app/db", Some(Selector::Version(3))));
        assert_eq!(select("db:live").unwrap().selector, Some(Selector::Label("live".into())));
        let s = select("arn:aws:ssm:us-east-1:111111111111:parameter/db").unwrap();
        assert_eq!((s.name.as_str(), s.by_arn), ("db", true));
        assert_eq!(select("arn:aws:ssm:us-east-1:111111111111:parameter/a/b").unwrap().name, "/a/b");
        assert!(select("db:1:2").is_err());
    }

    #[test]
    fn paths_hold_their_children_or_every_descendant() {
        assert!(under("/a/b", "/a", false));
        assert!(!under("/a/b/c", "/a", false));
        assert!(under("/a/b/c", "/a/", true));
        assert!(!under("/ab", "/a", true));
        assert!(under("/a", "/", false));
    }

    #[test]
    fn labels_follow_aws_rules() {
        assert!(label_ok("live"));
        for bad in ["1st", "awsx", "SSMy", "a b", ""] {
            assert!(!label_ok(bad), "{bad}");
        }
    }
}
