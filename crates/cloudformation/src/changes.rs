//! A change set's `Changes`: what executing it would add, modify (in place or by
//! replacement) and remove, found by evaluating the new template against the stack's
//! resources as they are. A property that reads a resource not made yet is a change whose
//! value is known only when it runs (`Evaluation: Dynamic`).

use serde_json::{json, Value};

use crate::deploy::{resolve, Evaluated};
use crate::resources;
use crate::stack::Stack;

/// The changes from `now` to `next` (the same stack with its new template and parameters).
pub(crate) fn changes(now: &Stack, next: &Stack, exports: &dyn Fn(&str) -> Option<String>) -> Vec<Value> {
    let Ok(ev) = Evaluated::of(next) else { return Vec::new() };
    let mut out = Vec::new();
    for logical in &ev.graph.order {
        let decl = &ev.template.resources[logical];
        let old = now.resources.get(logical).filter(|r| r.exists());
        let Some(old) = old.filter(|o| o.kind == decl.kind) else {
            out.push(json!({"Type": "Resource", "ResourceChange": {
                "Action": "Add", "LogicalResourceId": logical, "ResourceType": decl.kind,
                "Scope": [], "Details": [],
            }}));
            continue;
        };
        let (props, dynamic) = match resolve(now, &ev, exports, &decl.properties) {
            Ok(p) => (p.unwrap_or_else(|| json!({})), false),
            Err(_) => (decl.properties.clone(), true),
        };
        if !dynamic && props == old.properties {
            continue;
        }
        let kind = resources::find(&decl.kind);
        let mut names: Vec<&String> = props.as_object().map(|o| o.keys().collect()).unwrap_or_default();
        for k in old.properties.as_object().into_iter().flat_map(|o| o.keys()) {
            if !names.contains(&k) {
                names.push(k);
            }
        }
        let changed: Vec<&String> =
            names.into_iter().filter(|k| dynamic || props.get(k.as_str()) != old.properties.get(k.as_str())).collect();
        let recreates = |name: &str| kind.is_some_and(|k| k.replace_on.contains(&name));
        let replacement = if dynamic && changed.iter().any(|n| recreates(n)) {
            "Conditional"
        } else if changed.iter().any(|n| recreates(n)) {
            "True"
        } else {
            "False"
        };
        let details: Vec<Value> = changed
            .iter()
            .map(|name| {
                json!({
                    "Target": {
                        "Attribute": "Properties", "Name": name,
                        "RequiresRecreation": if recreates(name) { "Always" } else { "Never" },
                    },
                    "Evaluation": if dynamic { "Dynamic" } else { "Static" },
                    "ChangeSource": if dynamic { "ResourceReference" } else { "DirectModification" },
                })
            })
            .collect();
        out.push(json!({"Type": "Resource", "ResourceChange": {
            "Action": "Modify", "LogicalResourceId": logical, "PhysicalResourceId": old.physical,
            "ResourceType": decl.kind, "Replacement": replacement, "Scope": ["Properties"], "Details": details,
        }}));
    }
    for (logical, old) in &now.resources {
        let kept = ev.active(logical) && ev.template.resources.get(logical).is_some_and(|d| d.kind == old.kind);
        if old.exists() && !kept {
            let policy = if old.deletion_policy == "Retain" { "Retain" } else { "Delete" };
            out.push(json!({"Type": "Resource", "ResourceChange": {
                "Action": "Remove", "LogicalResourceId": logical, "PhysicalResourceId": old.physical,
                "ResourceType": old.kind, "PolicyAction": policy, "Scope": [], "Details": [],
            }}));
        }
    }
    out
}
