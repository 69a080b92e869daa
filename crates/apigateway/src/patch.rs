//! API Gateway's patch operations (`UpdateRestApi`, `UpdateStage`, …): a list of
//! `op`/`path`/`value` in the style of JSON Patch, paths escaped as JSON pointers.

use crate::GatewayError;

/// One patch operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchOperation {
    /// `add`, `remove`, `replace`, `move`, `copy` or `test`.
    pub op: String,
    /// The target, a JSON pointer (`/name`, `/variables/stage`, `/~1items/GET/throttling/rateLimit`).
    pub path: String,
    /// The new value, as a string.
    pub value: Option<String>,
    /// The source of `move` and `copy`.
    pub from: Option<String>,
}

/// The operation's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Add,
    Remove,
    Replace,
}

impl PatchOperation {
    /// The path's segments, unescaped (`~1` is `/`, `~0` is `~`).
    pub(crate) fn segments(&self) -> Vec<String> {
        self.path.trim_start_matches('/').split('/').map(|s| s.replace("~1", "/").replace("~0", "~")).collect()
    }

    pub(crate) fn kind(&self) -> Result<Op, GatewayError> {
        match self.op.as_str() {
            "add" => Ok(Op::Add),
            "remove" => Ok(Op::Remove),
            "replace" => Ok(Op::Replace),
            other => Err(GatewayError::BadRequest(format!(
                "Invalid patch operation specified. Must be one of: [add, remove, replace] but was '{other}'"
            ))),
        }
    }

    /// The value, which `add` and `replace` need.
    pub(crate) fn value(&self) -> Result<&str, GatewayError> {
        self.value
            .as_deref()
            .ok_or_else(|| GatewayError::BadRequest(format!("Invalid null value for patch path {}", self.path)))
    }

    pub(crate) fn unsupported(&self) -> GatewayError {
        GatewayError::BadRequest(format!(
            "Invalid patch path '{}' specified for op '{}'. Must be one of: the updatable fields of the resource",
            self.path, self.op
        ))
    }

    pub(crate) fn bool_value(&self) -> Result<bool, GatewayError> {
        match self.value()? {
            "true" => Ok(true),
            "false" => Ok(false),
            v => Err(GatewayError::BadRequest(format!("Invalid boolean value '{v}' for patch path {}", self.path))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_unescape_like_json_pointers() {
        let p = PatchOperation {
            op: "replace".into(),
            path: "/~1items~1{id}/GET/throttling/rateLimit".into(),
            value: None,
            from: None,
        };
        assert_eq!(p.segments(), ["/items/{id}", "GET", "throttling", "rateLimit"]);
        assert!(p.value().is_err());
        assert!(PatchOperation { op: "move".into(), ..p }.kind().is_err());
    }
}
