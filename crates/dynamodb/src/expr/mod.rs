//! DynamoDB's expressions: condition, filter, key condition, projection and update
//! expressions, read into trees whose placeholders (`#name`, `:value`) are already
//! replaced, with every refusal in DynamoDB's words (`Invalid UpdateExpression: Syntax
//! error; token: "…", near: "…"`). `eval.rs` evaluates them on items; `legacy.rs` builds
//! the same trees from the parameters older SDKs send (`Expected`, `AttributeUpdates`,
//! `KeyConditions`…). Pure: no I/O.

mod eval;
pub mod legacy;
mod lexer;
mod parser;

use std::collections::{BTreeSet, HashMap};

pub use eval::{apply_update, evaluate, project, UpdateError};
pub use parser::{parse_condition, parse_projection, parse_update};

use crate::value::Value;

/// The longest expression DynamoDB reads, in bytes.
pub const MAX_EXPRESSION: usize = 4096;

/// Which expression a text is: it names the expression in errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `ConditionExpression`.
    Condition,
    /// `FilterExpression`.
    Filter,
    /// `KeyConditionExpression`.
    KeyCondition,
    /// `ProjectionExpression`.
    Projection,
    /// `UpdateExpression`.
    Update,
}

impl Kind {
    /// The parameter's name.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Condition => "ConditionExpression",
            Kind::Filter => "FilterExpression",
            Kind::KeyCondition => "KeyConditionExpression",
            Kind::Projection => "ProjectionExpression",
            Kind::Update => "UpdateExpression",
        }
    }
}

/// One step of a document path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Step {
    /// A map key (or the top-level attribute's name).
    Name(String),
    /// A list index.
    Index(usize),
}

/// A document path: an attribute, then map keys and list indexes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Path(pub Vec<Step>);

impl Path {
    /// The path of a top-level attribute.
    pub fn attr(name: &str) -> Path {
        Path(vec![Step::Name(name.to_owned())])
    }

    /// The top-level attribute it starts at.
    pub fn head(&self) -> &str {
        match self.0.first() {
            Some(Step::Name(n)) => n,
            _ => "",
        }
    }

    /// DynamoDB's form in messages: `[a, b, [0]]`.
    pub fn display(&self) -> String {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|s| match s {
                Step::Name(n) => n.clone(),
                Step::Index(i) => format!("[{i}]"),
            })
            .collect();
        format!("[{}]", parts.join(", "))
    }
}

/// A value in an expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// An attribute of the item.
    Path(Path),
    /// A value given (`:v`), or written by a legacy parameter.
    Value(Value),
    /// `size(path)`.
    Size(Path),
    /// `if_not_exists(path, operand)` (updates).
    IfNotExists(Path, Box<Operand>),
    /// `list_append(a, b)` (updates).
    ListAppend(Box<Operand>, Box<Operand>),
    /// `a + b` (updates).
    Plus(Box<Operand>, Box<Operand>),
    /// `a - b` (updates).
    Minus(Box<Operand>, Box<Operand>),
}

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    /// `=`.
    Eq,
    /// `<>`.
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
}

impl Cmp {
    /// Its symbol.
    pub fn symbol(self) -> &'static str {
        match self {
            Cmp::Eq => "=",
            Cmp::Ne => "<>",
            Cmp::Lt => "<",
            Cmp::Le => "<=",
            Cmp::Gt => ">",
            Cmp::Ge => ">=",
        }
    }
}

/// A condition (also a filter, or a key condition before its shape is checked).
#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    /// `a <op> b`.
    Compare(Operand, Cmp, Operand),
    /// `a BETWEEN lo AND hi`.
    Between(Operand, Operand, Operand),
    /// `a IN (b, c…)`.
    In(Operand, Vec<Operand>),
    /// `a AND b`.
    And(Box<Cond>, Box<Cond>),
    /// `a OR b`.
    Or(Box<Cond>, Box<Cond>),
    /// `NOT a`.
    Not(Box<Cond>),
    /// `attribute_exists(path)`.
    Exists(Path),
    /// `attribute_not_exists(path)`.
    NotExists(Path),
    /// `attribute_type(path, type)`.
    Type(Path, Operand),
    /// `begins_with(a, prefix)`.
    BeginsWith(Operand, Operand),
    /// `contains(a, b)`.
    Contains(Operand, Operand),
}

/// An update expression's actions.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Update {
    /// `SET path = value`.
    pub set: Vec<(Path, Operand)>,
    /// `REMOVE path`.
    pub remove: Vec<Path>,
    /// `ADD path value`.
    pub add: Vec<(Path, Operand)>,
    /// `DELETE path value`.
    pub delete: Vec<(Path, Operand)>,
}

impl Update {
    /// Every path it writes.
    pub fn paths(&self) -> impl Iterator<Item = &Path> {
        self.set
            .iter()
            .map(|(p, _)| p)
            .chain(self.remove.iter())
            .chain(self.add.iter().map(|(p, _)| p))
            .chain(self.delete.iter().map(|(p, _)| p))
    }
}

/// A request's `ExpressionAttributeNames` and `ExpressionAttributeValues`, and which of
/// them its expressions used.
#[derive(Debug, Default)]
pub struct Placeholders<'a> {
    names: Option<&'a HashMap<String, String>>,
    values: Option<&'a HashMap<String, Value>>,
    used_names: BTreeSet<String>,
    used_values: BTreeSet<String>,
}

impl<'a> Placeholders<'a> {
    /// The request's placeholders, checked as DynamoDB checks them: neither map empty,
    /// every key `#…` or `:…`.
    pub fn new(
        names: Option<&'a HashMap<String, String>>,
        values: Option<&'a HashMap<String, Value>>,
    ) -> Result<Placeholders<'a>, String> {
        if let Some(n) = names {
            if n.is_empty() {
                return Err("ExpressionAttributeNames must not be empty".into());
            }
            let mut keys: Vec<&String> = n.keys().collect();
            keys.sort();
            for k in keys {
                if !placeholder_key(k, '#') {
                    return Err(format!("ExpressionAttributeNames contains invalid key: Syntax error; key: \"{k}\""));
                }
            }
        }
        if let Some(v) = values {
            if v.is_empty() {
                return Err("ExpressionAttributeValues must not be empty".into());
            }
            let mut keys: Vec<&String> = v.keys().collect();
            keys.sort();
            for k in keys {
                if !placeholder_key(k, ':') {
                    return Err(format!("ExpressionAttributeValues contains invalid key: Syntax error; key: \"{k}\""));
                }
            }
        }
        Ok(Placeholders { names, values, used_names: BTreeSet::new(), used_values: BTreeSet::new() })
    }

    fn name(&mut self, key: &str) -> Option<String> {
        let v = self.names?.get(key)?.clone();
        self.used_names.insert(key.to_owned());
        Some(v)
    }

    fn value(&mut self, key: &str) -> Option<Value> {
        let v = self.values?.get(key)?.clone();
        self.used_values.insert(key.to_owned());
        Some(v)
    }

    /// After every expression is read: names or values given but never used are refused.
    pub fn check_unused(&self) -> Result<(), String> {
        if let Some(names) = self.names {
            let mut unused: Vec<&String> = names.keys().filter(|k| !self.used_names.contains(*k)).collect();
            if !unused.is_empty() {
                unused.sort();
                let list: Vec<&str> = unused.iter().map(|s| s.as_str()).collect();
                return Err(format!(
                    "Value provided in ExpressionAttributeNames unused in expressions: keys: {{{}}}",
                    list.join(", ")
                ));
            }
        }
        if let Some(values) = self.values {
            let mut unused: Vec<&String> = values.keys().filter(|k| !self.used_values.contains(*k)).collect();
            if !unused.is_empty() {
                unused.sort();
                let list: Vec<&str> = unused.iter().map(|s| s.as_str()).collect();
                return Err(format!(
                    "Value provided in ExpressionAttributeValues unused in expressions: keys: {{{}}}",
                    list.join(", ")
                ));
            }
        }
        Ok(())
    }
}

fn placeholder_key(k: &str, sigil: char) -> bool {
    k.strip_prefix(sigil)
        .is_some_and(|rest| !rest.is_empty() && rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
}

/// Whether DynamoDB reserves a word (case-insensitively): such a word names an attribute
/// only through a `#name` placeholder.
pub fn is_reserved(word: &str) -> bool {
    static WORDS: std::sync::LazyLock<Vec<&'static str>> =
        std::sync::LazyLock::new(|| include_str!("reserved.txt").lines().collect());
    let upper = word.to_ascii_uppercase();
    WORDS.binary_search(&upper.as_str()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_words_are_known() {
        assert!(is_reserved("status"));
        assert!(is_reserved("Name"));
        assert!(is_reserved("data"));
        assert!(!is_reserved("id"));
        assert!(!is_reserved("price"));
    }

    #[test]
    fn placeholder_keys_are_checked() {
        let names = HashMap::from([("n".to_owned(), "x".to_owned())]);
        assert_eq!(
            Placeholders::new(Some(&names), None).unwrap_err(),
            "ExpressionAttributeNames contains invalid key: Syntax error; key: \"n\""
        );
        let empty = HashMap::new();
        assert_eq!(Placeholders::new(None, Some(&empty)).unwrap_err(), "ExpressionAttributeValues must not be empty");
    }
}
