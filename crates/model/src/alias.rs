//! Aliases (named pointers to versions, optionally splitting traffic between two) and
//! provisioned-concurrency configurations.

use std::collections::BTreeMap;

use crate::function::EventInvokeConfig;
use crate::limits::DESCRIPTION_MAX;
use crate::validate::{Invalid, Violation};

/// botocore's pattern for an alias name: not all digits, so it never reads as a version.
pub const ALIAS_NAME_PATTERN: &str = "(?!^[0-9]+$)([a-zA-Z0-9-_]+)";
/// botocore's pattern for a `FunctionVersion` member.
pub const VERSION_PATTERN: &str = "(\\$LATEST|[0-9]+)";
const ALIAS_NAME_MAX: usize = 128;

/// A named pointer to a version of a function.
#[derive(Debug, Clone, PartialEq)]
pub struct Alias {
    /// The alias's name.
    pub name: String,
    /// The version it points to: `$LATEST` or a number.
    pub function_version: String,
    /// Free text.
    pub description: String,
    /// `RoutingConfig.AdditionalVersionWeights`: a second version and the share of
    /// invocations it receives.
    pub routing: Option<(u32, f64)>,
    /// Changes on every update; used for optimistic concurrency.
    pub revision_id: String,
    /// How asynchronous invocations through the alias are retried and where their
    /// outcomes go.
    pub event_invoke: Option<EventInvokeConfig>,
}

/// Raw CreateAlias / UpdateAlias input: only the members that were sent.
#[derive(Debug, Clone, Default)]
pub struct AliasDraft {
    /// `FunctionVersion`.
    pub function_version: Option<String>,
    /// `Description`.
    pub description: Option<String>,
    /// `RoutingConfig.AdditionalVersionWeights`; `Some(empty)` removes the routing.
    pub weights: Option<BTreeMap<String, f64>>,
}

/// Checks an alias name as botocore's constraints state it.
pub fn check_alias_name(name: &str) -> Result<(), Invalid> {
    if name.is_empty() {
        return Err(Violation::min_length(name, "name", 1).into());
    }
    if name.len() > ALIAS_NAME_MAX {
        return Err(Violation::max_length(name, "name", ALIAS_NAME_MAX).into());
    }
    let chars_ok = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !chars_ok || name.chars().all(|c| c.is_ascii_digit()) {
        return Err(Violation::pattern(name, "name", ALIAS_NAME_PATTERN).into());
    }
    Ok(())
}

/// Whether `q` names a published version (all digits) rather than an alias.
pub fn is_version_number(q: &str) -> bool {
    !q.is_empty() && q.chars().all(|c| c.is_ascii_digit())
}

impl AliasDraft {
    /// Applies the members that were sent to `alias`, checking each as AWS does. The
    /// versions named must be checked to exist by the caller.
    pub fn apply_to(self, mut alias: Alias) -> Result<Alias, Invalid> {
        let mut violations = Vec::new();
        if let Some(v) = &self.function_version {
            if v.is_empty() || v.len() > 1024 || !(v == "$LATEST" || is_version_number(v)) {
                violations.push(Violation::pattern(v, "functionVersion", VERSION_PATTERN));
            }
        }
        if let Some(d) = &self.description {
            if d.chars().count() > DESCRIPTION_MAX {
                violations.push(Violation::max_length(d, "description", DESCRIPTION_MAX));
            }
        }
        let mut routing = alias.routing;
        if let Some(weights) = &self.weights {
            for (version, weight) in weights {
                if !is_version_number(version) {
                    violations.push(Violation::new(
                        format!("{weights:?}"),
                        "routingConfig.additionalVersionWeights",
                        "Map keys must satisfy constraint: [Member must satisfy regular expression pattern: [0-9]+]",
                    ));
                } else if !(0.0..=1.0).contains(weight) {
                    violations.push(Violation::new(
                        format!("{weights:?}"),
                        "routingConfig.additionalVersionWeights",
                        "Map value must satisfy constraint: [Member must have value less than or equal to 1.0, \
                         Member must have value greater than or equal to 0.0]",
                    ));
                }
            }
            routing = weights.iter().next().map(|(v, w)| (v.parse().unwrap_or(0), *w));
        }
        if !violations.is_empty() {
            return Err(Invalid::Constraints(violations));
        }
        if self.weights.as_ref().is_some_and(|w| w.len() > 1) {
            return Err(Invalid::parameter("Number of items in AdditionalVersionWeights cannot be greater than 1"));
        }
        if let Some(v) = self.function_version {
            alias.function_version = v;
        }
        if let Some(d) = self.description {
            alias.description = d;
        }
        alias.routing = routing;
        if let Some((extra, _)) = alias.routing {
            if alias.function_version == "$LATEST" {
                return Err(Invalid::Untyped(
                    "$LATEST is not supported for an alias pointing to more than 1 version".into(),
                ));
            }
            if alias.function_version == extra.to_string() {
                return Err(Invalid::parameter(format!(
                    "Invalid function version {extra}. Function version {extra} is already included in routing configuration."
                )));
            }
        }
        Ok(alias)
    }
}

/// A provisioned-concurrency configuration on a version or alias.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisionedConfig {
    /// The version number or alias name it applies to.
    pub qualifier: String,
    /// `ProvisionedConcurrentExecutions` as requested.
    pub requested: u32,
    /// Milliseconds since the epoch of the last change.
    pub last_modified_ms: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alias() -> Alias {
        Alias {
            name: "live".into(),
            function_version: "1".into(),
            description: String::new(),
            routing: None,
            revision_id: "r".into(),
            event_invoke: None,
        }
    }

    #[test]
    fn names_may_not_be_numbers() {
        assert!(check_alias_name("live").is_ok());
        assert!(check_alias_name("v-2_x").is_ok());
        let e = check_alias_name("12").unwrap_err();
        assert!(e.to_string().contains("regular expression pattern"), "{e}");
        assert!(check_alias_name("a b").is_err());
    }

    #[test]
    fn routing_takes_one_other_published_version() {
        let draft = |v: &str, w: &[(&str, f64)]| AliasDraft {
            function_version: Some(v.into()),
            description: None,
            weights: Some(w.iter().map(|(k, v)| (k.to_string(), *v)).collect()),
        };
        let a = draft("2", &[("1", 0.25)]).apply_to(alias()).unwrap();
        assert_eq!(a.routing, Some((1, 0.25)));
        let e = draft("$LATEST", &[("1", 0.5)]).apply_to(alias()).unwrap_err();
        assert_eq!(e.to_string(), "$LATEST is not supported for an alias pointing to more than 1 version");
        assert!(draft("1", &[("1", 0.5)]).apply_to(alias()).is_err());
        assert!(draft("2", &[("1", 0.5), ("3", 0.1)]).apply_to(alias()).is_err());
        let e = draft("2", &[("1", 1.5)]).apply_to(alias()).unwrap_err();
        assert!(e.to_string().contains("less than or equal to 1.0"), "{e}");
        let cleared = draft("2", &[]).apply_to(a).unwrap();
        assert_eq!(cleared.routing, None);
    }
}
