//! Dynamic references in resolved properties: `{{resolve:ssm:name}}` and
//! `{{resolve:ssm:name:version}}` read SSM Parameter Store when the resource is made;
//! `{{resolve:ssm-secure:…}}` reads a SecureString decrypted. Secrets Manager is not
//! served, and a reference to it fails the resource with a reason that says so.

use serde_json::{json, Value};

use crate::operations::{Acting, Operations};

const MAX_DEPTH: usize = 64;

/// Replaces every dynamic reference in `v`'s strings.
pub(crate) async fn resolve(ops: &dyn Operations, acting: &Acting, v: &mut Value) -> Result<(), String> {
    let mut strings = Vec::new();
    collect(v, &mut strings, 0);
    if strings.is_empty() {
        return Ok(());
    }
    let mut values = std::collections::HashMap::new();
    for reference in strings {
        let (service, rest) = reference.split_once(':').ok_or_else(|| bad(&reference))?;
        let (name, version) = match rest.rsplit_once(':') {
            Some((name, version)) if version.chars().all(|c| c.is_ascii_digit()) && !name.is_empty() => {
                (name, Some(version))
            }
            _ => (rest, None),
        };
        let decrypt = match service {
            "ssm" => false,
            "ssm-secure" => true,
            "secretsmanager" => {
                return Err("Dynamic references to Secrets Manager ({{resolve:secretsmanager:…}}) are not supported: Lamina does not serve Secrets Manager".into())
            }
            _ => return Err(bad(&reference)),
        };
        let name = match version {
            Some(v) => format!("{name}:{v}"),
            None => name.to_owned(),
        };
        let out = ops
            .call(acting, "ssm", "GetParameter", json!({"Name": name, "WithDecryption": decrypt}))
            .await
            .map_err(|e| format!("Error while resolving {{{{resolve:{reference}}}}}: {}", e.message))?;
        let value = out.pointer("/Parameter/Value").and_then(Value::as_str).unwrap_or_default().to_owned();
        values.insert(reference, value);
    }
    replace(v, &values, 0);
    Ok(())
}

fn bad(reference: &str) -> String {
    format!("Invalid dynamic reference {{{{resolve:{reference}}}}}")
}

/// The references (`ssm:name`) in `v`'s strings.
fn collect(v: &Value, out: &mut Vec<String>, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    match v {
        Value::String(s) => {
            let mut rest = s.as_str();
            while let Some(start) = rest.find("{{resolve:") {
                let after = &rest[start + 10..];
                let Some(end) = after.find("}}") else { break };
                let reference = after[..end].to_owned();
                if !out.contains(&reference) {
                    out.push(reference);
                }
                rest = &after[end + 2..];
            }
        }
        Value::Object(o) => o.values().for_each(|v| collect(v, out, depth + 1)),
        Value::Array(items) => items.iter().for_each(|v| collect(v, out, depth + 1)),
        _ => {}
    }
}

fn replace(v: &mut Value, values: &std::collections::HashMap<String, String>, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    match v {
        Value::String(s) if s.contains("{{resolve:") => {
            for (reference, value) in values {
                *s = s.replace(&format!("{{{{resolve:{reference}}}}}"), value);
            }
        }
        Value::Object(o) => o.values_mut().for_each(|v| replace(v, values, depth + 1)),
        Value::Array(items) => items.iter_mut().for_each(|v| replace(v, values, depth + 1)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_found_once_each() {
        let mut out = Vec::new();
        collect(
            &json!({"a": "x {{resolve:ssm:/a/b}} {{resolve:ssm:c:2}}", "b": ["{{resolve:ssm:/a/b}}"]}),
            &mut out,
            0,
        );
        assert_eq!(out, ["ssm:/a/b", "ssm:c:2"]);
        let mut v = json!({"a": "x {{resolve:ssm:/a/b}}"});
        replace(&mut v, &[("ssm:/a/b".to_owned(), "1".to_owned())].into(), 0);
        assert_eq!(v, json!({"a": "x 1"}));
    }
}
