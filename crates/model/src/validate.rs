//! Validation outcomes, worded as AWS words them.

use std::fmt;

const NOT_NULL: &str = "Member must not be null";

/// One failed shape constraint, reported in a `ValidationException`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The offending value, as the caller sent it; `None` for sensitive members, whose
    /// value AWS leaves out of the message.
    pub value: Option<String>,
    /// The member's path in AWS's lower-camel spelling, e.g. `memorySize`.
    pub field: String,
    /// The constraint text after "failed to satisfy constraint: ".
    pub constraint: String,
}

impl Violation {
    /// A violation of `constraint` by `value` at `field`.
    pub fn new(value: impl ToString, field: &str, constraint: impl Into<String>) -> Self {
        Violation { value: Some(value.to_string()), field: field.to_owned(), constraint: constraint.into() }
    }

    /// A violation of a sensitive member, reported without its value.
    pub fn sensitive(field: &str, constraint: impl Into<String>) -> Self {
        Violation { value: None, field: field.to_owned(), constraint: constraint.into() }
    }

    /// A required member is missing: AWS words this `Value null at '...'`.
    pub fn null(field: &str) -> Self {
        Violation { value: Some("null".to_owned()), field: field.to_owned(), constraint: NOT_NULL.to_owned() }
    }

    /// The value is below the smallest allowed.
    pub fn min_value(value: i64, field: &str, min: i64) -> Self {
        Self::new(value, field, format!("Member must have value greater than or equal to {min}"))
    }

    /// The value is above the largest allowed.
    pub fn max_value(value: i64, field: &str, max: i64) -> Self {
        Self::new(value, field, format!("Member must have value less than or equal to {max}"))
    }

    /// The string is longer than allowed.
    pub fn max_length(value: &str, field: &str, max: usize) -> Self {
        Self::new(value, field, format!("Member must have length less than or equal to {max}"))
    }

    /// The string is shorter than allowed.
    pub fn min_length(value: &str, field: &str, min: usize) -> Self {
        Self::new(value, field, format!("Member must have length greater than or equal to {min}"))
    }

    /// The string does not match the member's pattern.
    pub fn pattern(value: &str, field: &str, pattern: &str) -> Self {
        Self::new(value, field, format!("Member must satisfy regular expression pattern: {pattern}"))
    }

    /// The value is not one of the member's enum values.
    pub fn enumeration(value: &str, field: &str, allowed: &[&str]) -> Self {
        Self::new(value, field, format!("Member must satisfy enum value set: [{}]", allowed.join(", ")))
    }
}

/// Why user input was refused. Each variant is one AWS error type; the API layer maps
/// them to status codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    /// Shape constraints failed: AWS's `ValidationException`.
    #[error("{}", validation_message(.0))]
    Constraints(Vec<Violation>),
    /// A value is well-formed but not acceptable: `InvalidParameterValueException`.
    #[error("{0}")]
    Parameter(String),
    /// An `InvalidParameterValueException` AWS words without the `Type` its other
    /// parameter errors carry (account limits, alias routing rules).
    #[error("{0}")]
    Untyped(String),
}

impl Invalid {
    /// A single `InvalidParameterValueException`.
    pub fn parameter(message: impl Into<String>) -> Self {
        Invalid::Parameter(message.into())
    }
}

impl From<Violation> for Invalid {
    fn from(v: Violation) -> Self {
        Invalid::Constraints(vec![v])
    }
}

/// AWS's ValidationException wording:
/// `1 validation error detected: Value 'x' at 'f' failed to satisfy constraint: ...`,
/// with several violations joined by `; `.
fn validation_message(violations: &[Violation]) -> String {
    let n = violations.len();
    let noun = if n == 1 { "error" } else { "errors" };
    let parts: Vec<String> = violations.iter().map(Violation::to_string).collect();
    format!("{n} validation {noun} detected: {}", parts.join("; "))
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Some(_) if self.constraint == NOT_NULL => write!(f, "Value null at '{}'", self.field)?,
            Some(value) => write!(f, "Value '{value}' at '{}'", self.field)?,
            None => write!(f, "Value at '{}'", self.field)?,
        }
        write!(f, " failed to satisfy constraint: {}", self.constraint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_violation_reads_like_aws() {
        let e = Invalid::from(Violation::max_value(20000, "memorySize", 10240));
        assert_eq!(
            e.to_string(),
            "1 validation error detected: Value '20000' at 'memorySize' failed to satisfy constraint: \
             Member must have value less than or equal to 10240"
        );
    }

    #[test]
    fn missing_members_read_value_null() {
        assert_eq!(
            Violation::null("functionName").to_string(),
            "Value null at 'functionName' failed to satisfy constraint: Member must not be null"
        );
    }

    #[test]
    fn several_violations_are_counted_and_joined() {
        let e = Invalid::Constraints(vec![
            Violation::min_value(0, "timeout", 1),
            Violation::max_length("x", "description", 256),
        ]);
        let text = e.to_string();
        assert!(text.starts_with("2 validation errors detected: Value '0' at 'timeout'"), "{text}");
        assert!(text.contains("; Value 'x' at 'description'"), "{text}");
    }
}
