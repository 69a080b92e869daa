//! The intrinsic functions, evaluated over a [`Scope`]: what the stack knows of its
//! parameters, pseudo parameters, mappings, conditions, resources and the account's exports.
//! Pure: no I/O, no clock.

use std::collections::HashMap;

use base64::Engine as _;
use serde_json::{Map, Value};

use crate::template::{scalar, TemplateError};

/// What `Ref` and `Fn::GetAtt` read of a stack's resources.
pub trait Resources {
    /// Whether the template declares the resource (and its condition holds).
    fn declared(&self, logical: &str) -> bool;
    /// A resource's `Ref` (its physical id), once it exists.
    fn reference(&self, logical: &str) -> Option<Value>;
    /// A resource's attribute, once it exists; an error names what is wrong.
    fn attribute(&self, logical: &str, attribute: &str) -> Result<Value, String>;
}

/// The pseudo parameters of one stack.
#[derive(Debug, Clone, Default)]
pub struct Pseudo {
    /// `AWS::AccountId`.
    pub account: String,
    /// `AWS::Region`.
    pub region: String,
    /// `AWS::StackId`.
    pub stack_id: String,
    /// `AWS::StackName`.
    pub stack_name: String,
    /// `AWS::NotificationARNs`.
    pub notification_arns: Vec<String>,
}

impl Pseudo {
    /// A pseudo parameter's value.
    pub fn get(&self, name: &str) -> Option<Value> {
        Some(match name {
            "AWS::AccountId" => Value::from(self.account.as_str()),
            "AWS::Region" => Value::from(self.region.as_str()),
            "AWS::StackId" => Value::from(self.stack_id.as_str()),
            "AWS::StackName" => Value::from(self.stack_name.as_str()),
            "AWS::Partition" => Value::from("aws"),
            "AWS::URLSuffix" => Value::from("amazonaws.com"),
            "AWS::NotificationARNs" => Value::from(self.notification_arns.clone()),
            _ => return None,
        })
    }
}

/// Every pseudo parameter's name (`AWS::NoValue` included).
pub const PSEUDO: [&str; 8] = [
    "AWS::AccountId",
    "AWS::Region",
    "AWS::StackId",
    "AWS::StackName",
    "AWS::Partition",
    "AWS::URLSuffix",
    "AWS::NotificationARNs",
    "AWS::NoValue",
];

/// What an expression is evaluated against.
pub struct Scope<'a> {
    /// Parameters' values: a string, or a list of strings for the list types.
    pub parameters: &'a HashMap<String, Value>,
    /// The pseudo parameters.
    pub pseudo: &'a Pseudo,
    /// The `Mappings` section.
    pub mappings: &'a Map<String, Value>,
    /// The conditions' values (evaluated first, by [`conditions`]).
    pub conditions: &'a HashMap<String, bool>,
    /// The stack's resources.
    pub resources: &'a dyn Resources,
    /// The account's exports, by name.
    pub exports: &'a dyn Fn(&str) -> Option<String>,
}

/// How deep expressions may nest.
const MAX_DEPTH: usize = 64;

/// The functions `resolve` knows.
const FUNCTIONS: [&str; 19] = [
    "Ref",
    "Fn::GetAtt",
    "Fn::Sub",
    "Fn::Join",
    "Fn::Select",
    "Fn::Split",
    "Fn::If",
    "Fn::Equals",
    "Fn::Not",
    "Fn::And",
    "Fn::Or",
    "Fn::FindInMap",
    "Fn::GetAZs",
    "Fn::Base64",
    "Fn::ImportValue",
    "Fn::Cidr",
    "Fn::Length",
    "Fn::ToJsonString",
    "Fn::Transform",
];

/// The intrinsic function an object is, if it is one: its only key is a function's name.
pub fn function_of(v: &Value) -> Option<(&str, &Value)> {
    let Value::Object(o) = v else { return None };
    if o.len() != 1 {
        return None;
    }
    let (k, arg) = o.iter().next()?;
    (FUNCTIONS.contains(&k.as_str())).then_some((k.as_str(), arg))
}

/// The Availability Zones `Fn::GetAZs` answers for a region.
pub fn azs(region: &str) -> Vec<String> {
    let letters: &[char] = if region == "us-east-1" { &['a', 'b', 'c', 'd', 'e', 'f'] } else { &['a', 'b', 'c'] };
    letters.iter().map(|l| format!("{region}{l}")).collect()
}

impl Scope<'_> {
    /// Evaluates every function in `v`; `None` is `AWS::NoValue` (the property is removed).
    pub fn resolve(&self, v: &Value) -> Result<Option<Value>, TemplateError> {
        self.eval(v, 0)
    }

    /// Evaluates `v` where a value is required (`AWS::NoValue` is an empty string).
    pub fn value(&self, v: &Value) -> Result<Value, TemplateError> {
        Ok(self.eval(v, 0)?.unwrap_or_else(|| Value::from("")))
    }

    fn eval(&self, v: &Value, depth: usize) -> Result<Option<Value>, TemplateError> {
        if depth > MAX_DEPTH {
            return Err(TemplateError::usage("expressions nest too deeply"));
        }
        if let Some((name, arg)) = function_of(v) {
            return self.function(name, arg, depth + 1);
        }
        Ok(Some(match v {
            Value::Object(o) => {
                let mut out = Map::new();
                for (k, v) in o {
                    if let Some(v) = self.eval(v, depth + 1)? {
                        out.insert(k.clone(), v);
                    }
                }
                Value::Object(out)
            }
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for i in items {
                    if let Some(v) = self.eval(i, depth + 1)? {
                        out.push(v);
                    }
                }
                Value::Array(out)
            }
            other => other.clone(),
        }))
    }

    /// A value that must be a string.
    fn string(&self, v: &Value, depth: usize, usage: &str) -> Result<String, TemplateError> {
        match self.eval(v, depth)? {
            Some(v) => scalar(&v).ok_or_else(|| TemplateError::usage(usage)),
            None => Ok(String::new()),
        }
    }

    /// A value that must be a list of strings (or a function answering one).
    fn list(&self, v: &Value, depth: usize, usage: &str) -> Result<Vec<Value>, TemplateError> {
        match self.eval(v, depth)? {
            Some(Value::Array(items)) => Ok(items),
            None => Ok(Vec::new()),
            Some(_) => Err(TemplateError::usage(usage)),
        }
    }

    fn function(&self, name: &str, arg: &Value, depth: usize) -> Result<Option<Value>, TemplateError> {
        Ok(Some(match name {
            "Ref" => return self.reference(arg),
            "Fn::GetAtt" => self.get_att(arg, depth)?,
            "Fn::Sub" => Value::String(self.sub(arg, depth)?),
            "Fn::Join" => {
                const USAGE: &str = "every Fn::Join object requires two parameters, (1) a string delimiter and (2) a list of strings to be joined or a function that returns a list of strings (such as Fn::GetAZs) to be joined.";
                let Some([delimiter, items]) = arg.as_array().map(Vec::as_slice) else {
                    return Err(TemplateError::usage(USAGE));
                };
                let delimiter = self.string(delimiter, depth, USAGE)?;
                let items = self.list(items, depth, USAGE)?;
                let parts: Vec<String> = items
                    .iter()
                    .map(|i| scalar(i).ok_or_else(|| TemplateError::usage(USAGE)))
                    .collect::<Result<_, _>>()?;
                Value::String(parts.join(&delimiter))
            }
            "Fn::Select" => {
                const USAGE: &str =
                    "Fn::Select requires a list argument with two elements: an integer index and a list";
                let Some([index, items]) = arg.as_array().map(Vec::as_slice) else {
                    return Err(TemplateError::usage(USAGE));
                };
                let index = self.string(index, depth, USAGE)?;
                let index: usize = index.trim().parse().map_err(|_| TemplateError::usage(USAGE))?;
                let items = self.list(items, depth, USAGE)?;
                items.get(index).cloned().ok_or_else(|| {
                    TemplateError::usage(format!("Fn::Select cannot select nonexistent value at index {index}"))
                })?
            }
            "Fn::Split" => {
                const USAGE: &str = "every Fn::Split object requires two parameters, (1) a string delimiter and (2) a string to be split or a function that returns a string to be split.";
                let Some([delimiter, source]) = arg.as_array().map(Vec::as_slice) else {
                    return Err(TemplateError::usage(USAGE));
                };
                let delimiter = self.string(delimiter, depth, USAGE)?;
                let source = self.string(source, depth, USAGE)?;
                if delimiter.is_empty() {
                    return Err(TemplateError::usage(USAGE));
                }
                Value::from(source.split(delimiter.as_str()).map(str::to_owned).collect::<Vec<_>>())
            }
            "Fn::If" => {
                const USAGE: &str = "Fn::If requires a list argument with the first element being a condition";
                let Some([condition, yes, no]) = arg.as_array().map(Vec::as_slice) else {
                    return Err(TemplateError::usage(USAGE));
                };
                let condition = condition.as_str().ok_or_else(|| TemplateError::usage(USAGE))?;
                let holds = self.conditions.get(condition).copied().ok_or_else(|| {
                    TemplateError::usage(format!("unresolved condition dependency {condition} in Fn::If"))
                })?;
                return self.eval(if holds { yes } else { no }, depth);
            }
            "Fn::Equals" | "Fn::Not" | "Fn::And" | "Fn::Or" => Value::Bool(self.condition(name, arg, depth)?),
            "Fn::FindInMap" => self.find_in_map(arg, depth)?,
            "Fn::GetAZs" => {
                let region = self.string(arg, depth, "Fn::GetAZs requires a string region")?;
                let region = if region.is_empty() { self.pseudo.region.clone() } else { region };
                Value::from(azs(&region))
            }
            "Fn::Base64" => {
                let s = self.string(arg, depth, "every Fn::Base64 object must contain a string")?;
                Value::String(base64::engine::general_purpose::STANDARD.encode(s))
            }
            "Fn::ImportValue" => {
                let export = self.string(arg, depth, "Fn::ImportValue requires a string export name")?;
                let value =
                    (self.exports)(&export).ok_or_else(|| TemplateError(format!("No export named {export} found.")))?;
                Value::String(value)
            }
            "Fn::Cidr" => {
                const USAGE: &str =
                    "Fn::Cidr requires three parameters: an IP block, a count and a number of subnet bits";
                let Some([block, count, bits]) = arg.as_array().map(Vec::as_slice) else {
                    return Err(TemplateError::usage(USAGE));
                };
                let block = self.string(block, depth, USAGE)?;
                let count =
                    self.string(count, depth, USAGE)?.parse::<u32>().map_err(|_| TemplateError::usage(USAGE))?;
                let bits = self.string(bits, depth, USAGE)?.parse::<u32>().map_err(|_| TemplateError::usage(USAGE))?;
                Value::from(cidr(&block, count, bits).map_err(TemplateError::usage)?)
            }
            "Fn::Length" => {
                let items = self.list(arg, depth, "Fn::Length requires a list")?;
                Value::from(items.len())
            }
            "Fn::ToJsonString" => {
                let v = self.eval(arg, depth)?.unwrap_or(Value::Null);
                if !matches!(v, Value::Object(_) | Value::Array(_)) {
                    return Err(TemplateError::usage("Fn::ToJsonString requires an object or a list"));
                }
                Value::String(v.to_string())
            }
            _ => return Err(TemplateError::usage(format!("{name} is not supported here"))),
        }))
    }

    fn reference(&self, arg: &Value) -> Result<Option<Value>, TemplateError> {
        let Some(name) = arg.as_str() else {
            return Err(TemplateError::usage("every Ref object must have a single String value."));
        };
        if name == "AWS::NoValue" {
            return Ok(None);
        }
        if let Some(v) = self.parameters.get(name) {
            // A parameter whose value is the name `AWS::NoValue` stands for no value.
            if v.as_str() == Some("AWS::NoValue") {
                return Ok(None);
            }
            return Ok(Some(v.clone()));
        }
        if let Some(v) = self.pseudo.get(name) {
            return Ok(Some(v));
        }
        if self.resources.declared(name) {
            return self.resources.reference(name).map(Some).ok_or_else(|| {
                TemplateError(format!("Template format error: Unresolved resource dependencies [{name}] in the Resources block of the template"))
            });
        }
        Err(TemplateError::format(format!(
            "Unresolved resource dependencies [{name}] in the Resources block of the template"
        )))
    }

    fn get_att(&self, arg: &Value, depth: usize) -> Result<Value, TemplateError> {
        const USAGE: &str =
            "every Fn::GetAtt object requires two non-empty parameters, the resource name and the resource attribute";
        let (logical, attribute) = get_att_parts(arg).ok_or_else(|| TemplateError::usage(USAGE))?;
        let attribute = match attribute {
            Value::String(s) => s.clone(),
            other => self.string(other, depth, USAGE)?,
        };
        if logical.is_empty() || attribute.is_empty() {
            return Err(TemplateError::usage(USAGE));
        }
        if !self.resources.declared(logical) {
            return Err(TemplateError::format(format!(
                "Unresolved resource dependencies [{logical}] in the Resources block of the template"
            )));
        }
        self.resources.attribute(logical, &attribute).map_err(TemplateError)
    }

    fn sub(&self, arg: &Value, depth: usize) -> Result<String, TemplateError> {
        const USAGE: &str = "One or more Fn::Sub intrinsic functions don't specify expected arguments. Specify a string as first argument, and an optional second argument to specify a mapping of values to replace in the string";
        let (text, vars) = match arg {
            Value::String(s) => (s.as_str(), None),
            Value::Array(items) => match items.as_slice() {
                [Value::String(s)] => (s.as_str(), None),
                [Value::String(s), Value::Object(vars)] => (s.as_str(), Some(vars)),
                _ => return Err(TemplateError::usage(USAGE)),
            },
            _ => return Err(TemplateError::usage(USAGE)),
        };
        let mut out = String::with_capacity(text.len());
        for piece in sub_pieces(text) {
            match piece {
                SubPiece::Text(t) => out.push_str(t),
                SubPiece::Var(name) => {
                    let value = match vars.and_then(|v| v.get(name)) {
                        Some(v) => self.string(v, depth, USAGE)?,
                        None => match name.split_once('.') {
                            Some((logical, attribute))
                                if !self.parameters.contains_key(name) && self.pseudo.get(name).is_none() =>
                            {
                                let v = self.get_att(&Value::from(vec![logical, attribute]), depth)?;
                                scalar(&v).ok_or_else(|| TemplateError::usage(USAGE))?
                            }
                            _ => {
                                let v = self.reference(&Value::from(name))?.unwrap_or_else(|| Value::from(""));
                                match v {
                                    Value::Array(items) => {
                                        items.iter().filter_map(scalar).collect::<Vec<_>>().join(",")
                                    }
                                    v => scalar(&v).ok_or_else(|| TemplateError::usage(USAGE))?,
                                }
                            }
                        },
                    };
                    out.push_str(&value);
                }
            }
        }
        Ok(out)
    }

    fn find_in_map(&self, arg: &Value, depth: usize) -> Result<Value, TemplateError> {
        const USAGE: &str = "every Fn::FindInMap object requires three parameters, the map name, map key and the attribute for return value";
        let items = arg.as_array().ok_or_else(|| TemplateError::usage(USAGE))?;
        if items.len() != 3 && items.len() != 4 {
            return Err(TemplateError::usage(USAGE));
        }
        let map = self.string(&items[0], depth, USAGE)?;
        let top = self.string(&items[1], depth, USAGE)?;
        let second = self.string(&items[2], depth, USAGE)?;
        let found = self.mappings.get(&map).and_then(|m| m.get(&top)).and_then(|m| m.get(&second));
        match (found, items.get(3)) {
            (Some(v), _) => Ok(v.clone()),
            (None, Some(default)) => {
                let default = default.get("DefaultValue").ok_or_else(|| TemplateError::usage(USAGE))?;
                Ok(self.value(default)?)
            }
            (None, None) => Err(TemplateError::usage(format!("Unable to get mapping for {map}::{top}::{second}"))),
        }
    }

    /// A condition function's value.
    fn condition(&self, name: &str, arg: &Value, depth: usize) -> Result<bool, TemplateError> {
        if depth > MAX_DEPTH {
            return Err(TemplateError::usage("conditions nest too deeply"));
        }
        let conditions = |usage: &str| -> Result<Vec<bool>, TemplateError> {
            let items = arg.as_array().ok_or_else(|| TemplateError::usage(usage))?;
            items.iter().map(|c| self.truth(c, depth + 1)).collect()
        };
        match name {
            "Fn::Equals" => {
                const USAGE: &str = "every Fn::Equals object requires a list of 2 string parameters.";
                let Some([a, b]) = arg.as_array().map(Vec::as_slice) else {
                    return Err(TemplateError::usage(USAGE));
                };
                let a = self.eval(a, depth + 1)?.unwrap_or_else(|| Value::from(""));
                let b = self.eval(b, depth + 1)?.unwrap_or_else(|| Value::from(""));
                Ok(match (scalar(&a), scalar(&b)) {
                    (Some(a), Some(b)) => a == b,
                    _ => a == b,
                })
            }
            "Fn::Not" => match conditions("Fn::Not requires a list argument with one function token")?.as_slice() {
                [c] => Ok(!c),
                _ => Err(TemplateError::usage("Fn::Not requires a list argument with one function token")),
            },
            "Fn::And" | "Fn::Or" => {
                let usage = format!("{name} requires a list argument with between 2 and 10 conditions");
                let values = conditions(&usage)?;
                if !(2..=10).contains(&values.len()) {
                    return Err(TemplateError::usage(usage));
                }
                Ok(if name == "Fn::And" { values.iter().all(|c| *c) } else { values.iter().any(|c| *c) })
            }
            _ => Err(TemplateError::usage(format!("{name} is not a condition function"))),
        }
    }

    /// A condition: `{"Condition": name}`, a condition function, or a function answering
    /// `true`/`false`.
    fn truth(&self, v: &Value, depth: usize) -> Result<bool, TemplateError> {
        if let Some(name) = v.as_object().filter(|o| o.len() == 1).and_then(|o| o.get("Condition")) {
            let name = name.as_str().unwrap_or_default();
            return self
                .conditions
                .get(name)
                .copied()
                .ok_or_else(|| TemplateError::usage(format!("unresolved condition dependency {name}")));
        }
        match self.eval(v, depth)? {
            Some(Value::Bool(b)) => Ok(b),
            Some(Value::String(s)) if s == "true" || s == "false" => Ok(s == "true"),
            _ => Err(TemplateError::usage(
                "Conditions can only be boolean operations on parameters and other conditions",
            )),
        }
    }
}

/// The `Fn::FindInMap` expressions in `v`, each branch of an `Fn::If` only where `chosen`
/// picks it.
pub fn find_in_maps<'a>(v: &'a Value, chosen: &dyn Fn(&str) -> Option<bool>, out: &mut Vec<&'a Value>, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    if let Some((name, arg)) = function_of(v) {
        match name {
            "Fn::FindInMap" => {
                out.push(v);
                return;
            }
            "Fn::If" => {
                if let Some([Value::String(c), yes, no]) = arg.as_array().map(Vec::as_slice) {
                    match chosen(c) {
                        Some(true) => find_in_maps(yes, chosen, out, depth + 1),
                        Some(false) => find_in_maps(no, chosen, out, depth + 1),
                        None => {}
                    }
                    return;
                }
            }
            _ => {}
        }
    }
    match v {
        Value::Object(o) => o.values().for_each(|v| find_in_maps(v, chosen, out, depth + 1)),
        Value::Array(items) => items.iter().for_each(|v| find_in_maps(v, chosen, out, depth + 1)),
        _ => {}
    }
}

/// `Fn::GetAtt`'s resource and attribute: `[name, attribute]` or `"name.attribute"`.
pub fn get_att_parts(arg: &Value) -> Option<(&str, &Value)> {
    match arg {
        Value::Array(items) => match items.as_slice() {
            [Value::String(logical), attribute] => Some((logical.as_str(), attribute)),
            _ => None,
        },
        _ => None,
    }
}

/// A piece of an `Fn::Sub` string.
#[derive(Debug, PartialEq)]
pub enum SubPiece<'a> {
    /// Text kept as it is (`${!Literal}` is the text `${Literal}`).
    Text(&'a str),
    /// A variable: a parameter, resource, `Resource.Attribute` or one of the given names.
    Var(&'a str),
}

/// An `Fn::Sub` string's pieces.
pub fn sub_pieces(text: &str) -> Vec<SubPiece<'_>> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let Some(len) = rest[start..].find('}') else { break };
        if start > 0 {
            out.push(SubPiece::Text(&rest[..start]));
        }
        let inner = &rest[start + 2..start + len];
        if let Some(literal) = inner.strip_prefix('!') {
            out.push(SubPiece::Text("${"));
            out.push(SubPiece::Text(literal));
            out.push(SubPiece::Text("}"));
        } else {
            out.push(SubPiece::Var(inner.trim()));
        }
        rest = &rest[start + len + 1..];
    }
    if !rest.is_empty() {
        out.push(SubPiece::Text(rest));
    }
    out
}

/// Evaluates the `Conditions` section (conditions may name each other, never in a circle).
pub fn conditions(
    declared: &Map<String, Value>,
    parameters: &HashMap<String, Value>,
    pseudo: &Pseudo,
    mappings: &Map<String, Value>,
) -> Result<HashMap<String, bool>, TemplateError> {
    struct NoResources;
    impl Resources for NoResources {
        fn declared(&self, _: &str) -> bool {
            false
        }
        fn reference(&self, _: &str) -> Option<Value> {
            None
        }
        fn attribute(&self, _: &str, _: &str) -> Result<Value, String> {
            Err("Template error: Conditions cannot read resources' attributes".into())
        }
    }
    let mut known = HashMap::new();
    // Each pass settles every condition whose named conditions are settled.
    for _ in 0..=declared.len() {
        let mut progressed = false;
        for (name, expr) in declared {
            if known.contains_key(name) {
                continue;
            }
            let mut named = Vec::new();
            condition_names(expr, &mut named, 0);
            if let Some(missing) = named.iter().find(|n| !declared.contains_key(n.as_str())) {
                return Err(TemplateError::usage(format!(
                    "unresolved condition dependency {missing} in Fn::Condition"
                )));
            }
            if !named.iter().all(|n| known.contains_key(n)) {
                continue;
            }
            let scope =
                Scope { parameters, pseudo, mappings, conditions: &known, resources: &NoResources, exports: &|_| None };
            let value = scope.truth(expr, 0)?;
            known.insert(name.clone(), value);
            progressed = true;
        }
        if known.len() == declared.len() {
            return Ok(known);
        }
        if !progressed {
            break;
        }
    }
    let mut circle: Vec<&str> = declared.keys().filter(|k| !known.contains_key(*k)).map(String::as_str).collect();
    circle.sort_unstable();
    Err(TemplateError::format(format!("Circular dependency between conditions: [{}]", circle.join(", "))))
}

/// The conditions a condition names (`{"Condition": name}`).
fn condition_names(v: &Value, out: &mut Vec<String>, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    match v {
        Value::Object(o) => {
            if o.len() == 1 {
                if let Some(Value::String(name)) = o.get("Condition") {
                    out.push(name.clone());
                    return;
                }
            }
            o.values().for_each(|v| condition_names(v, out, depth + 1));
        }
        Value::Array(items) => items.iter().for_each(|v| condition_names(v, out, depth + 1)),
        _ => {}
    }
}

/// `Fn::Cidr`: the first `count` blocks of `bits` host bits within `block`.
pub fn cidr(block: &str, count: u32, bits: u32) -> Result<Vec<String>, String> {
    let bad = || format!("Fn::Cidr cannot make {count} blocks of {bits} bits within {block}");
    let (addr, prefix) = block.split_once('/').ok_or_else(bad)?;
    let prefix: u32 = prefix.parse().map_err(|_| bad())?;
    if !(1..=256).contains(&count) {
        return Err(bad());
    }
    let (start, width, v6) = match addr.parse::<std::net::IpAddr>().map_err(|_| bad())? {
        std::net::IpAddr::V4(a) => (u32::from(a) as u128, 32, false),
        std::net::IpAddr::V6(a) => (u128::from(a), 128, true),
    };
    if prefix > width || bits == 0 || bits > width - prefix {
        return Err(bad());
    }
    let new_prefix = width - bits;
    // The blocks that fit: 2^(new_prefix - prefix).
    let room = new_prefix - prefix;
    if room < 32 && count as u64 > (1u64 << room) {
        return Err(bad());
    }
    let base = if prefix == 0 { 0 } else { start & (u128::MAX << (width - prefix)) & mask(width) };
    Ok((0..count as u128)
        .map(|i| {
            let net = base + (i << bits);
            let text = if v6 {
                std::net::Ipv6Addr::from(net).to_string()
            } else {
                std::net::Ipv4Addr::from(net as u32).to_string()
            };
            format!("{text}/{new_prefix}")
        })
        .collect())
}

fn mask(width: u32) -> u128 {
    if width == 128 {
        u128::MAX
    } else {
        (1u128 << width) - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct Made(HashMap<&'static str, (&'static str, Value)>);

    impl Resources for Made {
        fn declared(&self, logical: &str) -> bool {
            self.0.contains_key(logical) || logical == "Later"
        }
        fn reference(&self, logical: &str) -> Option<Value> {
            self.0.get(logical).map(|(id, _)| Value::from(*id))
        }
        fn attribute(&self, logical: &str, attribute: &str) -> Result<Value, String> {
            self.0
                .get(logical)
                .and_then(|(_, attrs)| attrs.get(attribute).cloned())
                .ok_or_else(|| format!("no {attribute} of {logical}"))
        }
    }

    fn eval(v: Value) -> Result<Option<Value>, TemplateError> {
        let parameters: HashMap<String, Value> =
            [("Env".to_owned(), json!("prod")), ("Subnets".to_owned(), json!(["a", "b"]))].into();
        let pseudo = Pseudo {
            account: "000000000000".into(),
            region: "eu-west-1".into(),
            stack_id: "arn:aws:cloudformation:eu-west-1:000000000000:stack/s/1".into(),
            stack_name: "s".into(),
            notification_arns: vec![],
        };
        let mappings = json!({"Sizes": {"prod": {"Memory": 512, "Zones": ["x", "y"]}}});
        let conditions: HashMap<String, bool> = [("IsProd".to_owned(), true), ("IsDev".to_owned(), false)].into();
        let made = Made([("Queue", ("https://q/1", json!({"Arn": "arn:q", "QueueName": "q1"})))].into());
        let exports = |name: &str| (name == "shared-vpc").then(|| "vpc-1".to_owned());
        let scope = Scope {
            parameters: &parameters,
            pseudo: &pseudo,
            mappings: mappings.as_object().unwrap(),
            conditions: &conditions,
            resources: &made,
            exports: &exports,
        };
        scope.resolve(&v)
    }

    fn ok(v: Value) -> Value {
        eval(v).unwrap().unwrap()
    }

    fn err(v: Value) -> String {
        eval(v).unwrap_err().0
    }

    #[test]
    fn refs_read_parameters_pseudo_parameters_and_resources() {
        assert_eq!(ok(json!({"Ref": "Env"})), json!("prod"));
        assert_eq!(ok(json!({"Ref": "Subnets"})), json!(["a", "b"]));
        assert_eq!(ok(json!({"Ref": "AWS::Region"})), json!("eu-west-1"));
        assert_eq!(ok(json!({"Ref": "AWS::URLSuffix"})), json!("amazonaws.com"));
        assert_eq!(ok(json!({"Ref": "Queue"})), json!("https://q/1"));
        assert_eq!(eval(json!({"Ref": "AWS::NoValue"})).unwrap(), None);
        assert_eq!(ok(json!({"A": {"Ref": "AWS::NoValue"}, "B": [1, {"Ref": "AWS::NoValue"}]})), json!({"B": [1]}));
        assert_eq!(
            err(json!({"Ref": "Nope"})),
            "Template format error: Unresolved resource dependencies [Nope] in the Resources block of the template"
        );
    }

    #[test]
    fn get_att_takes_both_forms() {
        assert_eq!(ok(json!({"Fn::GetAtt": ["Queue", "Arn"]})), json!("arn:q"));
        assert_eq!(ok(json!({"Fn::GetAtt": ["Queue", {"Fn::Join": ["", ["A", "rn"]]}]})), json!("arn:q"));
        assert_eq!(
            err(json!({"Fn::GetAtt": ["Queue"]})),
            "Template error: every Fn::GetAtt object requires two non-empty parameters, the resource name and the resource attribute"
        );
    }

    #[test]
    fn sub_takes_both_forms_and_keeps_literals() {
        assert_eq!(ok(json!({"Fn::Sub": "${AWS::StackName}-${Env}-${Queue.QueueName}"})), json!("s-prod-q1"));
        assert_eq!(ok(json!({"Fn::Sub": "${!Literal} and ${ Env }"})), json!("${Literal} and prod"));
        assert_eq!(ok(json!({"Fn::Sub": ["${A}/${Env}", {"A": {"Ref": "Queue"}}]})), json!("https://q/1/prod"));
        assert_eq!(ok(json!({"Fn::Sub": "${Subnets}"})), json!("a,b"));
        assert_eq!(ok(json!({"Fn::Sub": "no variables, an unclosed ${"})), json!("no variables, an unclosed ${"));
    }

    #[test]
    fn lists_are_joined_selected_split_and_counted() {
        assert_eq!(ok(json!({"Fn::Join": ["-", ["a", {"Ref": "Env"}, 3]]})), json!("a-prod-3"));
        assert_eq!(ok(json!({"Fn::Join": [",", {"Ref": "Subnets"}]})), json!("a,b"));
        assert_eq!(ok(json!({"Fn::Select": ["1", {"Ref": "Subnets"}]})), json!("b"));
        assert_eq!(
            err(json!({"Fn::Select": [0]})),
            "Template error: Fn::Select requires a list argument with two elements: an integer index and a list"
        );
        assert_eq!(
            err(json!({"Fn::Select": [5, ["a"]]})),
            "Template error: Fn::Select cannot select nonexistent value at index 5"
        );
        assert_eq!(ok(json!({"Fn::Split": [",", "a,b,,c"]})), json!(["a", "b", "", "c"]));
        assert_eq!(
            err(json!({"Fn::Split": [","]})),
            "Template error: every Fn::Split object requires two parameters, (1) a string delimiter and (2) a string to be split or a function that returns a string to be split."
        );
        assert_eq!(ok(json!({"Fn::Length": {"Ref": "Subnets"}})), json!(2));
        assert_eq!(ok(json!({"Fn::GetAZs": ""})), json!(["eu-west-1a", "eu-west-1b", "eu-west-1c"]));
        assert_eq!(ok(json!({"Fn::Select": [0, {"Fn::GetAZs": "us-east-1"}]})), json!("us-east-1a"));
    }

    #[test]
    fn conditions_choose_and_compare() {
        assert_eq!(ok(json!({"Fn::If": ["IsProd", "big", "small"]})), json!("big"));
        assert_eq!(eval(json!({"Fn::If": ["IsDev", "x", {"Ref": "AWS::NoValue"}]})).unwrap(), None);
        assert_eq!(
            err(json!({"Fn::If": ["Missing", 1, 2]})),
            "Template error: unresolved condition dependency Missing in Fn::If"
        );
        assert_eq!(ok(json!({"Fn::Equals": [{"Ref": "Env"}, "prod"]})), json!(true));
        assert_eq!(ok(json!({"Fn::Not": [{"Fn::Equals": ["1", 1]}]})), json!(false));
        assert_eq!(ok(json!({"Fn::Or": [{"Condition": "IsDev"}, {"Condition": "IsProd"}]})), json!(true));
        assert_eq!(ok(json!({"Fn::And": [{"Condition": "IsDev"}, {"Condition": "IsProd"}]})), json!(false));
        assert_eq!(
            err(json!({"Fn::Equals": ["a"]})),
            "Template error: every Fn::Equals object requires a list of 2 string parameters."
        );
    }

    #[test]
    fn mappings_exports_and_encodings() {
        assert_eq!(ok(json!({"Fn::FindInMap": ["Sizes", {"Ref": "Env"}, "Memory"]})), json!(512));
        assert_eq!(ok(json!({"Fn::FindInMap": ["Sizes", "prod", "Zones"]})), json!(["x", "y"]));
        assert_eq!(ok(json!({"Fn::FindInMap": ["Sizes", "dev", "Memory", {"DefaultValue": 128}]})), json!(128));
        assert_eq!(
            err(json!({"Fn::FindInMap": ["Sizes", "dev", "Memory"]})),
            "Template error: Unable to get mapping for Sizes::dev::Memory"
        );
        assert_eq!(ok(json!({"Fn::ImportValue": "shared-vpc"})), json!("vpc-1"));
        assert_eq!(err(json!({"Fn::ImportValue": "nope"})), "No export named nope found.");
        assert_eq!(ok(json!({"Fn::Base64": {"Fn::Sub": "${Env}"}})), json!("cHJvZA=="));
        assert_eq!(ok(json!({"Fn::ToJsonString": {"a": [{"Ref": "Env"}]}})), json!("{\"a\":[\"prod\"]}"));
    }

    #[test]
    fn cidr_cuts_blocks_in_order() {
        assert_eq!(
            ok(json!({"Fn::Cidr": ["192.168.0.0/24", 6, 5]})),
            json!([
                "192.168.0.0/27",
                "192.168.0.32/27",
                "192.168.0.64/27",
                "192.168.0.96/27",
                "192.168.0.128/27",
                "192.168.0.160/27"
            ])
        );
        assert_eq!(cidr("10.0.0.0/16", 2, 8).unwrap(), ["10.0.0.0/24", "10.0.1.0/24"]);
        assert_eq!(cidr("2001:db8::/56", 2, 64).unwrap(), ["2001:db8::/64", "2001:db8:0:1::/64"]);
        assert!(cidr("10.0.0.0/24", 9, 5).is_err());
        assert!(cidr("10.0.0.0/24", 1, 9).is_err());
    }

    #[test]
    fn conditions_settle_in_any_order_and_refuse_circles() {
        let params: HashMap<String, Value> = [("Env".to_owned(), json!("prod"))].into();
        let pseudo = Pseudo::default();
        let declared = json!({
            "Both": {"Fn::And": [{"Condition": "IsProd"}, {"Fn::Not": [{"Condition": "IsDev"}]}]},
            "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
            "IsDev": {"Fn::Equals": [{"Ref": "Env"}, "dev"]}
        });
        let c = conditions(declared.as_object().unwrap(), &params, &pseudo, &Map::new()).unwrap();
        assert_eq!((c["Both"], c["IsProd"], c["IsDev"]), (true, true, false));
        let circle = json!({"A": {"Fn::Not": [{"Condition": "B"}]}, "B": {"Fn::Not": [{"Condition": "A"}]}});
        assert_eq!(
            conditions(circle.as_object().unwrap(), &params, &pseudo, &Map::new()).unwrap_err().0,
            "Template format error: Circular dependency between conditions: [A, B]"
        );
    }
}
