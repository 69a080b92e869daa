//! SSM Parameter Store (json 1.1 protocol, `X-Amz-Target: AmazonSSM.<Operation>`). The
//! protocol layer reads and checks the input against SSM's model and writes the answer;
//! this module turns input trees into service calls and results into output trees.

use std::collections::BTreeMap;

use protocol::ServiceError;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use ssm::query::{DescribeQuery, PathQuery};
use ssm::{Caller, Described, Filter, PutInput, Shown, SsmError, SsmService};

/// The operations served.
pub(crate) const OPERATIONS: &[&str] = &[
    "PutParameter",
    "GetParameter",
    "GetParameters",
    "GetParametersByPath",
    "DeleteParameter",
    "DeleteParameters",
    "DescribeParameters",
    "GetParameterHistory",
    "LabelParameterVersion",
    "UnlabelParameterVersion",
    "AddTagsToResource",
    "RemoveTagsFromResource",
    "ListTagsForResource",
];

/// The largest request body SSM reads: an advanced parameter's value, with room for JSON.
pub(crate) const MAX_BODY: usize = 256 * 1024;

/// An SSM error as the protocol layer writes it; the one place they are mapped.
pub(crate) fn service_error(e: &SsmError) -> ServiceError {
    let code = match e {
        SsmError::Validation(_) => "ValidationException",
        SsmError::NotFound(_) => "ParameterNotFound",
        SsmError::AlreadyExists => "ParameterAlreadyExists",
        SsmError::VersionNotFound(_) => "ParameterVersionNotFound",
        SsmError::PatternMismatch(_) => "ParameterPatternMismatchException",
        SsmError::HierarchyLevelLimitExceeded(_) => "HierarchyLevelLimitExceededException",
        SsmError::MaxVersionLimitExceeded(_) => "ParameterMaxVersionLimitExceeded",
        SsmError::LabelLimitExceeded(_) => "ParameterVersionLabelLimitExceeded",
        SsmError::InvalidFilterKey(_) => "InvalidFilterKey",
        SsmError::InvalidFilterOption(_) => "InvalidFilterOption",
        SsmError::InvalidFilterValue(_) => "InvalidFilterValue",
        SsmError::InvalidNextToken => "InvalidNextToken",
        SsmError::InvalidResourceId => "InvalidResourceId",
        SsmError::InvalidResourceType => "InvalidResourceType",
        SsmError::TooManyTags(_) => "TooManyTagsError",
        SsmError::AccessDenied(_) => "AccessDeniedException",
        SsmError::Internal(_) => "InternalServerError",
    };
    let e2 = ServiceError::new(code, e.to_string());
    if matches!(e, SsmError::Internal(_)) {
        e2.status(500)
    } else {
        e2
    }
}

fn parse<T: DeserializeOwned>(input: &Value) -> Result<T, ServiceError> {
    T::deserialize(input)
        .map_err(|e| ServiceError::new("ValidationException", format!("The request is not valid: {e}")))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct Wire {
    name: Option<String>,
    names: Option<Vec<String>>,
    value: Option<String>,
    #[serde(rename = "Type")]
    kind: Option<String>,
    description: Option<String>,
    allowed_pattern: Option<String>,
    key_id: Option<String>,
    overwrite: Option<bool>,
    tags: Option<Vec<Tag>>,
    tier: Option<String>,
    data_type: Option<String>,
    policies: Option<String>,
    with_decryption: Option<bool>,
    path: Option<String>,
    recursive: Option<bool>,
    parameter_filters: Option<Vec<WireFilter>>,
    filters: Option<Vec<WireFilter>>,
    max_results: Option<i64>,
    next_token: Option<String>,
    parameter_version: Option<i64>,
    labels: Option<Vec<String>>,
    resource_type: Option<String>,
    resource_id: Option<String>,
    tag_keys: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Tag {
    key: String,
    value: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WireFilter {
    key: String,
    option: Option<String>,
    values: Option<Vec<String>>,
}

impl From<WireFilter> for Filter {
    fn from(f: WireFilter) -> Filter {
        Filter { key: f.key, option: f.option, values: f.values.unwrap_or_default() }
    }
}

/// Runs one operation; `user` is the caller's ARN (a new version's `LastModifiedUser`).
pub(crate) fn run(
    ssm: &SsmService,
    caller: &Caller,
    user: &str,
    op: &str,
    input: &Value,
) -> Result<Value, ServiceError> {
    let w: Wire = parse(input)?;
    let err = |e: SsmError| service_error(&e);
    let name = || w.name.clone().unwrap_or_default();
    let decrypt = w.with_decryption.unwrap_or(false);
    let out = match op {
        "PutParameter" => {
            let tags = w.tags.iter().flatten().map(|t| (t.key.clone(), t.value.clone())).collect();
            let input = PutInput {
                name: name(),
                value: w.value.clone().unwrap_or_default(),
                kind: w.kind.clone(),
                description: w.description.clone(),
                allowed_pattern: w.allowed_pattern.clone(),
                key_id: w.key_id.clone(),
                overwrite: w.overwrite.unwrap_or(false),
                tags,
                tier: w.tier.clone(),
                data_type: w.data_type.clone(),
                policies: w.policies.clone(),
                user: user.to_owned(),
            };
            let (version, tier) = ssm.put(caller, input).map_err(err)?;
            json!({ "Version": version, "Tier": tier.as_str() })
        }
        "GetParameter" => json!({ "Parameter": shown_json(&ssm.get(caller, &name(), decrypt).map_err(err)?) }),
        "GetParameters" => {
            let (found, invalid) =
                ssm.get_many(caller, w.names.as_deref().unwrap_or_default(), decrypt).map_err(err)?;
            json!({ "Parameters": found.iter().map(shown_json).collect::<Vec<_>>(), "InvalidParameters": invalid })
        }
        "GetParametersByPath" => by_path(ssm, caller, w)?,
        "DeleteParameter" => {
            ssm.delete(caller, &name()).map_err(err)?;
            json!({})
        }
        "DeleteParameters" => {
            let (deleted, invalid) = ssm.delete_many(caller, w.names.as_deref().unwrap_or_default()).map_err(err)?;
            json!({ "DeletedParameters": deleted, "InvalidParameters": invalid })
        }
        "DescribeParameters" => describe(ssm, caller, w)?,
        "GetParameterHistory" => {
            let max = w.max_results.map_or(50, |m| m.max(1) as usize);
            let page = ssm.history(caller, &name(), decrypt, max, w.next_token.as_deref()).map_err(err)?;
            let items: Vec<Value> = page.items.iter().map(|d| described_json(d, true)).collect();
            with_token(json!({ "Parameters": items }), page.next_token)
        }
        _ => return labels_and_tags(ssm, caller, op, w),
    };
    Ok(out)
}

fn labels_and_tags(ssm: &SsmService, caller: &Caller, op: &str, w: Wire) -> Result<Value, ServiceError> {
    let err = |e: SsmError| service_error(&e);
    let name = w.name.clone().unwrap_or_default();
    let labels = w.labels.clone().unwrap_or_default();
    let version = w.parameter_version.map(|v| v.max(0) as u64);
    let (kind, id) = (w.resource_type.clone().unwrap_or_default(), w.resource_id.clone().unwrap_or_default());
    Ok(match op {
        "LabelParameterVersion" => {
            let (invalid, version) = ssm.label(caller, &name, version, &labels).map_err(err)?;
            json!({ "InvalidLabels": invalid, "ParameterVersion": version })
        }
        "UnlabelParameterVersion" => {
            let (removed, invalid) = ssm.unlabel(caller, &name, version.unwrap_or(0), &labels).map_err(err)?;
            json!({ "RemovedLabels": removed, "InvalidLabels": invalid })
        }
        "AddTagsToResource" => {
            let add: BTreeMap<String, String> =
                w.tags.iter().flatten().map(|t| (t.key.clone(), t.value.clone())).collect();
            ssm.change_tags(caller, &kind, &id, &add, &[]).map_err(err)?;
            json!({})
        }
        "RemoveTagsFromResource" => {
            ssm.change_tags(caller, &kind, &id, &BTreeMap::new(), w.tag_keys.as_deref().unwrap_or_default())
                .map_err(err)?;
            json!({})
        }
        _ => {
            let tags = ssm.tags(caller, &kind, &id).map_err(err)?;
            let list: Vec<Value> = tags.iter().map(|(k, v)| json!({ "Key": k, "Value": v })).collect();
            json!({ "TagList": list })
        }
    })
}

fn by_path(ssm: &SsmService, caller: &Caller, w: Wire) -> Result<Value, ServiceError> {
    let q = PathQuery {
        path: w.path.unwrap_or_default(),
        recursive: w.recursive.unwrap_or(false),
        filters: w.parameter_filters.into_iter().flatten().map(Filter::from).collect(),
        decrypt: w.with_decryption.unwrap_or(false),
        max: w.max_results.map(|m| m.max(1) as usize),
        token: w.next_token,
    };
    let page = ssm.by_path(caller, q).map_err(|e| service_error(&e))?;
    let items: Vec<Value> = page.items.iter().map(shown_json).collect();
    Ok(with_token(json!({ "Parameters": items }), page.next_token))
}

fn describe(ssm: &SsmService, caller: &Caller, w: Wire) -> Result<Value, ServiceError> {
    let q = DescribeQuery {
        filters: w.filters.into_iter().flatten().map(Filter::from).collect(),
        parameter_filters: w.parameter_filters.into_iter().flatten().map(Filter::from).collect(),
        max: w.max_results.map(|m| m.max(1) as usize),
        token: w.next_token,
    };
    let page = ssm.describe(caller, q).map_err(|e| service_error(&e))?;
    let items: Vec<Value> = page.items.iter().map(|d| described_json(d, false)).collect();
    Ok(with_token(json!({ "Parameters": items }), page.next_token))
}

fn with_token(mut out: Value, token: Option<String>) -> Value {
    if let Some(t) = token {
        out["NextToken"] = json!(t);
    }
    out
}

fn secs(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

fn shown_json(s: &Shown) -> Value {
    let mut o = json!({
        "Name": s.name,
        "Type": s.kind.as_str(),
        "Value": s.value,
        "Version": s.version,
        "LastModifiedDate": secs(s.modified_ms),
        "ARN": s.arn,
        "DataType": s.data_type,
    });
    if let Some(sel) = &s.selector {
        o["Selector"] = json!(sel);
    }
    o
}

/// A parameter's description (DescribeParameters), or one version of its history.
fn described_json(d: &Described, history: bool) -> Value {
    let v = &d.version;
    let mut o = json!({
        "Name": d.name,
        "Type": v.kind.as_str(),
        "LastModifiedDate": secs(v.modified_ms),
        "LastModifiedUser": v.modified_user,
        "Version": v.version,
        "Tier": v.tier.as_str(),
        "Policies": v.policies.as_deref().map(policies).unwrap_or_default(),
        "DataType": v.data_type,
    });
    if !history {
        o["ARN"] = json!(d.arn);
    }
    if let Some(k) = &v.key_id {
        o["KeyId"] = json!(k);
    }
    if let Some(text) = &v.description {
        o["Description"] = json!(text);
    }
    if let Some(p) = &v.allowed_pattern {
        o["AllowedPattern"] = json!(p);
    }
    if history {
        o["Value"] = json!(d.value);
        o["Labels"] = json!(v.labels);
    }
    o
}

/// `Policies` as given (a JSON list of policies) as AWS lists them.
fn policies(text: &str) -> Vec<Value> {
    let list: Vec<Value> = serde_json::from_str(text).unwrap_or_default();
    list.into_iter()
        .map(|p| json!({ "PolicyText": p.to_string(), "PolicyType": p.get("Type"), "PolicyStatus": "Pending" }))
        .collect()
}
