//! `Globals`: properties every resource of a type shares. A resource's own value wins; maps
//! merge key by key; lists are the global items followed by the resource's.

use serde_json::{Map, Value};

use crate::template::TemplateError;

/// The sections `Globals` may hold, and the type each applies to.
const SECTIONS: [(&str, &str); 5] = [
    ("Function", "AWS::Serverless::Function"),
    ("Api", "AWS::Serverless::Api"),
    ("HttpApi", "AWS::Serverless::HttpApi"),
    ("SimpleTable", "AWS::Serverless::SimpleTable"),
    ("LayerVersion", "AWS::Serverless::LayerVersion"),
];

/// Merges `Globals` into the resources it applies to.
pub(super) fn merge(globals: &Value, resources: &mut Map<String, Value>) -> Result<(), TemplateError> {
    let Value::Object(sections) = globals else {
        return Err(TemplateError(
            "Transform AWS::Serverless-2016-10-31 failed with: 'Globals' section must be a map".into(),
        ));
    };
    for (section, values) in sections {
        let Some((_, kind)) = SECTIONS.iter().find(|(s, _)| s == section) else {
            return Err(TemplateError(format!(
                "Transform AWS::Serverless-2016-10-31 failed with: 'Globals' section is invalid. '{section}' is not a supported resource type in the Globals section."
            )));
        };
        for r in resources.values_mut() {
            if r.get("Type").and_then(Value::as_str) != Some(kind) {
                continue;
            }
            let props = r.as_object_mut().map(|o| o.entry("Properties").or_insert_with(|| Value::Object(Map::new())));
            if let Some(props) = props {
                *props = combined(values, props);
            }
        }
    }
    Ok(())
}

/// The global value with the resource's over it.
fn combined(global: &Value, local: &Value) -> Value {
    match (global, local) {
        (Value::Object(g), Value::Object(l)) => {
            let mut out = g.clone();
            for (k, v) in l {
                let merged = match out.get(k) {
                    Some(gv) => combined(gv, v),
                    None => v.clone(),
                };
                out.insert(k.clone(), merged);
            }
            Value::Object(out)
        }
        (Value::Array(g), Value::Array(l)) => Value::Array(g.iter().chain(l).cloned().collect()),
        (_, l) => l.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_resource_wins_maps_merge_lists_add() {
        let mut resources = json!({
            "F": {"Type": "AWS::Serverless::Function", "Properties": {"Timeout": 3, "Environment": {"Variables": {"B": "2"}}, "Layers": ["l2"]}},
            "Q": {"Type": "AWS::SQS::Queue"}
        })
        .as_object()
        .cloned()
        .unwrap();
        let globals = json!({"Function": {"Timeout": 10, "Runtime": "python3.12", "Environment": {"Variables": {"A": "1", "B": "1"}}, "Layers": ["l1"]}});
        merge(&globals, &mut resources).unwrap();
        assert_eq!(
            resources["F"]["Properties"],
            json!({"Timeout": 3, "Runtime": "python3.12", "Environment": {"Variables": {"A": "1", "B": "2"}}, "Layers": ["l1", "l2"]})
        );
        assert_eq!(resources["Q"], json!({"Type": "AWS::SQS::Queue"}));
        assert!(merge(&json!({"Queue": {}}), &mut resources).is_err());
    }
}
