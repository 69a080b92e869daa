//! Which resources a template's resources and outputs need: the names their `Ref`s,
//! `Fn::GetAtt`s, `Fn::Sub` variables and `DependsOn` give, checked to exist and to hold no
//! circle, in an order that creates every resource after what it needs.

use std::collections::{BTreeSet, HashMap, HashSet};

use serde_json::Value;

use crate::intrinsics::{function_of, get_att_parts, sub_pieces, SubPiece, PSEUDO};
use crate::template::{Template, TemplateError};

const MAX_DEPTH: usize = 64;

/// The names an expression reads: `(name, attribute)`, the attribute `None` for a `Ref`.
/// `chosen` settles `Fn::If`s whose condition is known (only that branch is read).
pub fn names(v: &Value, chosen: &dyn Fn(&str) -> Option<bool>, out: &mut BTreeSet<(String, Option<String>)>) {
    walk(v, chosen, out, 0);
}

fn walk(v: &Value, chosen: &dyn Fn(&str) -> Option<bool>, out: &mut BTreeSet<(String, Option<String>)>, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    if let Some((function, arg)) = function_of(v) {
        match function {
            "Ref" => {
                if let Some(name) = arg.as_str() {
                    out.insert((name.to_owned(), None));
                }
                return;
            }
            "Fn::GetAtt" => {
                if let Some((logical, attribute)) = get_att_parts(arg) {
                    out.insert((logical.to_owned(), Some(attribute.as_str().unwrap_or_default().to_owned())));
                    walk(attribute, chosen, out, depth + 1);
                }
                return;
            }
            "Fn::Sub" => {
                let (text, vars) = match arg {
                    Value::String(s) => (s.as_str(), None),
                    Value::Array(items) => match items.as_slice() {
                        [Value::String(s)] => (s.as_str(), None),
                        [Value::String(s), Value::Object(vars)] => (s.as_str(), Some(vars)),
                        _ => return,
                    },
                    _ => return,
                };
                for piece in sub_pieces(text) {
                    let SubPiece::Var(name) = piece else { continue };
                    if vars.is_some_and(|v| v.contains_key(name)) {
                        continue;
                    }
                    match name.split_once('.') {
                        Some((logical, attribute)) if !PSEUDO.contains(&name) => {
                            out.insert((logical.to_owned(), Some(attribute.to_owned())));
                        }
                        _ => {
                            out.insert((name.to_owned(), None));
                        }
                    }
                }
                if let Some(vars) = vars {
                    vars.values().for_each(|v| walk(v, chosen, out, depth + 1));
                }
                return;
            }
            "Fn::If" => {
                if let Some([Value::String(condition), yes, no]) = arg.as_array().map(Vec::as_slice) {
                    match chosen(condition) {
                        Some(true) => walk(yes, chosen, out, depth + 1),
                        Some(false) => walk(no, chosen, out, depth + 1),
                        None => {
                            walk(yes, chosen, out, depth + 1);
                            walk(no, chosen, out, depth + 1);
                        }
                    }
                    return;
                }
            }
            _ => {}
        }
    }
    match v {
        Value::Object(o) => o.values().for_each(|v| walk(v, chosen, out, depth + 1)),
        Value::Array(items) => items.iter().for_each(|v| walk(v, chosen, out, depth + 1)),
        _ => {}
    }
}

/// The resources to make, each with those it needs, in an order that makes each after them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Graph {
    /// Every resource made, in dependency order (the template's order where free).
    pub order: Vec<String>,
    /// What each resource needs.
    pub needs: HashMap<String, BTreeSet<String>>,
}

impl Graph {
    /// The resources that need `logical`.
    pub fn needed_by(&self, logical: &str) -> Vec<&str> {
        self.order
            .iter()
            .filter(|r| self.needs.get(*r).is_some_and(|n| n.contains(logical)))
            .map(String::as_str)
            .collect()
    }
}

/// Builds the graph of the resources whose condition holds (`active`), checking every name.
pub fn build(
    t: &Template,
    active: &dyn Fn(&str) -> bool,
    chosen: &dyn Fn(&str) -> Option<bool>,
) -> Result<Graph, TemplateError> {
    let params: HashSet<&str> = t.parameters.keys().map(String::as_str).collect();
    let mut needs: HashMap<String, BTreeSet<String>> = HashMap::new();
    let mut unresolved: Vec<String> = Vec::new();
    for (logical, decl) in &t.resources {
        if !active(logical) {
            continue;
        }
        let mut read = BTreeSet::new();
        names(&decl.properties, chosen, &mut read);
        let mut mine = BTreeSet::new();
        for (name, attribute) in read {
            if attribute.is_none() && (params.contains(name.as_str()) || PSEUDO.contains(&name.as_str())) {
                continue;
            }
            if t.resources.contains_key(&name) && active(&name) {
                mine.insert(name);
            } else if !unresolved.contains(&name) {
                unresolved.push(name);
            }
        }
        for d in &decl.depends_on {
            if t.resources.contains_key(d) && active(d) {
                mine.insert(d.clone());
            } else if !unresolved.contains(d) {
                unresolved.push(d.clone());
            }
        }
        needs.insert(logical.clone(), mine);
    }
    if !unresolved.is_empty() {
        return Err(TemplateError::format(format!(
            "Unresolved resource dependencies [{}] in the Resources block of the template",
            unresolved.join(", ")
        )));
    }
    let mut outputs_read = BTreeSet::new();
    for o in t.outputs.values() {
        if o.condition.as_deref().is_some_and(|c| chosen(c) == Some(false)) {
            continue;
        }
        names(&o.value, chosen, &mut outputs_read);
        if let Some(e) = &o.export {
            names(e, chosen, &mut outputs_read);
        }
    }
    let missing: Vec<String> = outputs_read
        .into_iter()
        .map(|(n, _)| n)
        .filter(|n| {
            !(params.contains(n.as_str()) || PSEUDO.contains(&n.as_str()) || (t.resources.contains_key(n) && active(n)))
        })
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if !missing.is_empty() {
        return Err(TemplateError(format!(
            "Unresolved resource dependencies [{}] in the Outputs block of the template",
            missing.join(", ")
        )));
    }
    // Kahn's order, taking ready resources in the template's order.
    let mut order = Vec::with_capacity(needs.len());
    let mut done: HashSet<&str> = HashSet::new();
    let declared: Vec<&String> = t.resources.keys().filter(|k| needs.contains_key(*k)).collect();
    while order.len() < declared.len() {
        let ready: Vec<&String> = declared
            .iter()
            .filter(|r| !done.contains(r.as_str()) && needs[r.as_str()].iter().all(|n| done.contains(n.as_str())))
            .copied()
            .collect();
        if ready.is_empty() {
            let mut circle: Vec<&str> =
                declared.iter().filter(|r| !done.contains(r.as_str())).map(|r| r.as_str()).collect();
            circle.sort_unstable();
            return Err(TemplateError::format(format!(
                "Circular dependency between resources: [{}]",
                circle.join(", ")
            )));
        }
        for r in ready {
            done.insert(r);
            order.push(r.clone());
        }
    }
    Ok(Graph { order, needs })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::parse;

    fn graph(body: &str) -> Result<Graph, TemplateError> {
        let t = Template::read(&parse(body).unwrap()).unwrap();
        build(&t, &|_| true, &|_| None)
    }

    #[test]
    fn resources_come_after_what_they_need() {
        let g = graph(
            r#"{"Parameters": {"P": {"Type": "String"}}, "Resources": {
                "Fn": {"Type": "AWS::Lambda::Function", "Properties": {"Role": {"Fn::GetAtt": "Role.Arn"}, "X": {"Fn::Sub": "${Queue}-${AWS::Region}-${P}-${Topic.TopicName}"}}},
                "Role": {"Type": "AWS::IAM::Role"},
                "Queue": {"Type": "AWS::SQS::Queue", "DependsOn": "Topic"},
                "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"N": {"Ref": "P"}}}}}"#,
        );
        // GetAtt's string form is read in YAML only; here the list form is used.
        assert!(g.is_ok());
        let g = graph(
            "Parameters:\n  P: {Type: String}\nResources:\n  Fn:\n    Type: AWS::Lambda::Function\n    Properties:\n      Role: !GetAtt Role.Arn\n      X: !Sub '${Queue}-${AWS::Region}-${P}-${Topic.TopicName}'\n  Role: {Type: AWS::IAM::Role}\n  Queue: {Type: AWS::SQS::Queue, DependsOn: Topic}\n  Topic: {Type: AWS::SNS::Topic, Properties: {N: !Ref P}}\n",
        )
        .unwrap();
        assert_eq!(g.order, ["Role", "Topic", "Queue", "Fn"]);
        assert_eq!(g.needs["Fn"].iter().collect::<Vec<_>>(), ["Queue", "Role", "Topic"]);
        assert_eq!(g.needed_by("Topic"), ["Queue", "Fn"]);
    }

    #[test]
    fn unknown_names_and_circles_are_refused() {
        assert_eq!(
            graph(r#"{"Resources": {"A": {"Type": "T", "Properties": {"X": {"Ref": "InvalidRef"}}}}}"#).unwrap_err().0,
            "Template format error: Unresolved resource dependencies [InvalidRef] in the Resources block of the template"
        );
        assert_eq!(
            graph(r#"{"Resources": {"A": {"Type": "T", "DependsOn": ["Nope"]}}}"#).unwrap_err().0,
            "Template format error: Unresolved resource dependencies [Nope] in the Resources block of the template"
        );
        assert_eq!(
            graph(r#"{"Resources": {"A": {"Type": "T"}}, "Outputs": {"O": {"Value": {"Ref": "MyTopic"}}}}"#)
                .unwrap_err()
                .0,
            "Unresolved resource dependencies [MyTopic] in the Outputs block of the template"
        );
        assert_eq!(
            graph(r#"{"Resources": {"A": {"Type": "T", "DependsOn": "B"}, "B": {"Type": "T", "Properties": {"X": {"Fn::GetAtt": ["A", "Arn"]}}}, "C": {"Type": "T"}}}"#)
                .unwrap_err()
                .0,
            "Template format error: Circular dependency between resources: [A, B]"
        );
    }

    #[test]
    fn a_settled_condition_reads_one_branch() {
        let t = Template::read(
            &parse(r#"{"Resources": {"A": {"Type": "T", "Properties": {"X": {"Fn::If": ["C", {"Ref": "B"}, "none"]}}}, "B": {"Type": "T", "Condition": "C"}}}"#)
                .unwrap(),
        )
        .unwrap();
        let g = build(&t, &|r| r != "B", &|_| Some(false)).unwrap();
        assert_eq!(g.order, ["A"]);
        assert!(build(&t, &|r| r != "B", &|_| Some(true)).is_err());
    }
}
