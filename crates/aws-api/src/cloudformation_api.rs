//! CloudFormation (query protocol, `Action=CreateStack…`, signed for `cloudformation`). The
//! protocol layer reads and checks the input against CloudFormation's model and writes the
//! answer; this module turns input trees into service calls and stacks, events and
//! resources into output trees.

use cloudformation::{Acting, CfnError, CloudFormationService, Given, Source, Stack, StackInput};
use protocol::ServiceError;
use serde_json::{json, Map, Value};

/// The operations served.
pub(crate) const OPERATIONS: &[&str] = &[
    "ValidateTemplate",
    "CreateStack",
    "UpdateStack",
    "DeleteStack",
    "DescribeStacks",
    "DescribeStackEvents",
    "DescribeStackResource",
    "DescribeStackResources",
    "ListStackResources",
    "ListStacks",
    "GetTemplate",
    "GetTemplateSummary",
    "ListExports",
    "ListImports",
    "SetStackPolicy",
    "GetStackPolicy",
    "UpdateTerminationProtection",
    "CreateChangeSet",
    "DescribeChangeSet",
    "ExecuteChangeSet",
    "DeleteChangeSet",
    "ListChangeSets",
];

/// A CloudFormation error as the protocol layer writes it; the one place they are mapped.
pub(crate) fn service_error(e: &CfnError) -> ServiceError {
    let (code, status) = match e {
        CfnError::Validation(_) => ("ValidationError", 400),
        CfnError::AlreadyExists(_) => ("AlreadyExistsException", 400),
        CfnError::InsufficientCapabilities(_) => ("InsufficientCapabilitiesException", 400),
        CfnError::ChangeSetNotFound(_) => ("ChangeSetNotFound", 404),
        CfnError::InvalidChangeSetStatus(_) => ("InvalidChangeSetStatus", 400),
        CfnError::ResourceNotFound(_) => ("ResourceNotFoundException", 400),
        CfnError::UnsupportedAction(_) => ("UnsupportedActionException", 400),
        CfnError::Internal(_) => ("InternalFailure", 500),
    };
    ServiceError::new(code, e.to_string()).status(status)
}

fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

fn flag(v: &Value, key: &str) -> bool {
    v.get(key).and_then(Value::as_bool).unwrap_or(false)
}

fn strings(v: &Value, key: &str) -> Option<Vec<String>> {
    v.get(key).and_then(Value::as_array).map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect())
}

fn seconds(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

/// A request's template: its body or its URL.
fn source(v: &Value) -> Result<Option<Source>, CfnError> {
    match (text(v, "TemplateBody"), text(v, "TemplateURL")) {
        (Some(_), Some(_)) => Err(CfnError::Validation("Specify exactly one of TemplateBody or TemplateUrl.".into())),
        (Some(b), None) => Ok(Some(Source::Body(b))),
        (None, Some(u)) => Ok(Some(Source::Url(u))),
        (None, None) => Ok(None),
    }
}

fn stack_input(v: &Value) -> Result<StackInput, CfnError> {
    let parameters = v
        .get("Parameters")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|p| Given {
                    key: text(p, "ParameterKey").unwrap_or_default(),
                    value: text(p, "ParameterValue"),
                    use_previous: flag(p, "UsePreviousValue"),
                })
                .collect()
        })
        .unwrap_or_default();
    let tags = v.get("Tags").and_then(Value::as_array).map(|a| {
        a.iter().map(|t| (text(t, "Key").unwrap_or_default(), text(t, "Value").unwrap_or_default())).collect()
    });
    let on_failure = text(v, "OnFailure");
    if on_failure.is_some() && v.get("DisableRollback").is_some() {
        return Err(CfnError::Validation(
            "You cannot specify both OnFailure and DisableRollback; specify one or the other.".into(),
        ));
    }
    if text(v, "StackPolicyBody").is_some() && text(v, "StackPolicyURL").is_some() {
        return Err(CfnError::Validation("You cannot specify both StackPolicyURL and StackPolicyBody".into()));
    }
    let use_previous = flag(v, "UsePreviousTemplate");
    let source = source(v)?;
    if use_previous && source.is_some() {
        return Err(CfnError::Validation(
            "You cannot specify both usePreviousTemplate and Template Body/Template URL.".into(),
        ));
    }
    Ok(StackInput {
        name: text(v, "StackName").unwrap_or_default(),
        source,
        parameters,
        tags,
        capabilities: strings(v, "Capabilities").unwrap_or_default(),
        notification_arns: strings(v, "NotificationARNs"),
        disable_rollback: flag(v, "DisableRollback") || on_failure.as_deref() == Some("DO_NOTHING"),
        timeout: v.get("TimeoutInMinutes").and_then(Value::as_i64),
        role_arn: text(v, "RoleARN"),
        termination_protection: flag(v, "EnableTerminationProtection"),
        policy: text(v, "StackPolicyBody"),
    })
}

/// A stack's `StackStatusReason`, `LastUpdatedTime` and `DeletionTime`, those it has.
fn status_and_times(o: &mut Value, s: &Stack) {
    if let Some(r) = &s.reason {
        o["StackStatusReason"] = json!(r);
    }
    if let Some(t) = s.updated {
        o["LastUpdatedTime"] = json!(seconds(t));
    }
    if let Some(t) = s.deleted {
        o["DeletionTime"] = json!(seconds(t));
    }
}

fn stack_json(s: &Stack) -> Value {
    let mut o = json!({
        "StackId": s.id,
        "StackName": s.name,
        "CreationTime": seconds(s.created),
        "StackStatus": s.status,
        "DisableRollback": s.disable_rollback,
        "NotificationARNs": s.notification_arns,
        "Tags": s.tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect::<Vec<_>>(),
        "EnableTerminationProtection": s.termination_protection,
        "RollbackConfiguration": {},
        "DriftInformation": {"StackDriftStatus": "NOT_CHECKED"},
    });
    let params: Vec<Value> = s
        .parameters
        .iter()
        .map(|p| {
            let mut j = json!({"ParameterKey": p.key, "ParameterValue": if p.no_echo { "****" } else { &p.value }});
            if let Some(r) = &p.resolved {
                j["ResolvedValue"] = json!(r);
            }
            j
        })
        .collect();
    if !params.is_empty() {
        o["Parameters"] = Value::from(params);
    }
    if let Some(d) = &s.description {
        o["Description"] = json!(d);
    }
    if let Some(c) = &s.change_set {
        o["ChangeSetId"] = json!(c);
    }
    status_and_times(&mut o, s);
    if let Some(t) = s.timeout {
        o["TimeoutInMinutes"] = json!(t);
    }
    if !s.capabilities.is_empty() {
        o["Capabilities"] = json!(s.capabilities);
    }
    if let Some(r) = &s.role_arn {
        o["RoleARN"] = json!(r);
    }
    if !s.outputs.is_empty() {
        o["Outputs"] = s
            .outputs
            .iter()
            .map(|out| {
                let mut j = json!({"OutputKey": out.key, "OutputValue": out.value});
                if let Some(d) = &out.description {
                    j["Description"] = json!(d);
                }
                if let Some(e) = &out.export {
                    j["ExportName"] = json!(e);
                }
                j
            })
            .collect();
    }
    o
}

fn resource_json(s: &Stack, r: &cloudformation::Resource, detail: bool) -> Value {
    let mut o = json!({
        "StackName": s.name,
        "StackId": s.id,
        "LogicalResourceId": r.logical,
        "ResourceType": r.kind,
        "ResourceStatus": r.status,
        "DriftInformation": {"StackResourceDriftStatus": "NOT_CHECKED"},
    });
    let at = seconds(r.updated.max(s.created));
    if detail {
        o["LastUpdatedTimestamp"] = json!(at);
        o["Metadata"] = json!(r.metadata.as_ref().map(|m| m.to_string()).unwrap_or_else(|| "{}".into()));
    } else {
        o["Timestamp"] = json!(at);
    }
    if let Some(p) = &r.physical {
        o["PhysicalResourceId"] = json!(p);
    }
    if let Some(reason) = &r.reason {
        o["ResourceStatusReason"] = json!(reason);
    }
    o
}

fn summary_json(r: &cloudformation::Resource, created: i64) -> Value {
    let mut o = json!({
        "LogicalResourceId": r.logical,
        "ResourceType": r.kind,
        "LastUpdatedTimestamp": seconds(r.updated.max(created)),
        "ResourceStatus": r.status,
        "DriftInformation": {"StackResourceDriftStatus": "NOT_CHECKED"},
    });
    if let Some(p) = &r.physical {
        o["PhysicalResourceId"] = json!(p);
    }
    if let Some(reason) = &r.reason {
        o["ResourceStatusReason"] = json!(reason);
    }
    o
}

fn summary_output(s: &cloudformation::Summary, validate: bool) -> Value {
    let params: Vec<Value> = s
        .parameters
        .iter()
        .map(|(k, d)| {
            let mut p = json!({"ParameterKey": k, "NoEcho": d.no_echo});
            if let Some(def) = &d.default {
                p["DefaultValue"] = json!(def);
            }
            if let Some(desc) = &d.description {
                p["Description"] = json!(desc);
            }
            if !validate {
                p["ParameterType"] = json!(d.kind);
                p["ParameterConstraints"] =
                    if d.allowed_values.is_empty() { json!({}) } else { json!({"AllowedValues": d.allowed_values}) };
            }
            p
        })
        .collect();
    let mut o = json!({"Parameters": params});
    if let Some(d) = &s.description {
        o["Description"] = json!(d);
    }
    if !s.capabilities.is_empty() {
        o["Capabilities"] = json!(s.capabilities);
    }
    if let Some(r) = &s.capabilities_reason {
        o["CapabilitiesReason"] = json!(r);
    }
    if !s.transforms.is_empty() {
        o["DeclaredTransforms"] = json!(s.transforms);
    }
    if !validate {
        o["ResourceTypes"] = json!(s.resource_types);
        o["Version"] = json!(s.version);
        if let Some(m) = &s.metadata {
            o["Metadata"] = json!(m.to_string());
        }
        let mut by_type: Map<String, Value> = Map::new();
        for (logical, kind) in &s.resources {
            let e = by_type.entry(kind.clone()).or_insert_with(|| json!([]));
            if let Value::Array(a) = e {
                a.push(json!(logical));
            }
        }
        o["ResourceIdentifierSummaries"] =
            by_type.into_iter().map(|(k, ids)| json!({"ResourceType": k, "LogicalResourceIds": ids})).collect();
    }
    o
}

fn change_set_json(s: &Stack, c: &cloudformation::stack::ChangeSet, whole: bool) -> Value {
    let mut o = json!({
        "ChangeSetName": c.name, "ChangeSetId": c.id, "StackId": s.id, "StackName": s.name,
        "CreationTime": seconds(c.created), "ExecutionStatus": c.execution, "Status": c.status,
        "IncludeNestedStacks": false,
    });
    if let Some(d) = &c.description {
        o["Description"] = json!(d);
    }
    if let Some(r) = &c.reason {
        o["StatusReason"] = json!(r);
    }
    if whole {
        if !c.parameters.is_empty() {
            o["Parameters"] = c
                .parameters
                .iter()
                .map(|p| {
                    let mut j =
                        json!({"ParameterKey": p.key, "ParameterValue": if p.no_echo { "****" } else { &p.value }});
                    if let Some(r) = &p.resolved {
                        j["ResolvedValue"] = json!(r);
                    }
                    j
                })
                .collect();
        }
        o["NotificationARNs"] = json!(c.notification_arns);
        o["RollbackConfiguration"] = json!({});
        o["Capabilities"] = json!(c.capabilities);
        if !c.tags.is_empty() {
            o["Tags"] = c.tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect();
        }
        o["Changes"] = Value::from(c.changes.clone());
    }
    o
}

fn need(v: &Value, key: &str, message: &str) -> Result<String, CfnError> {
    text(v, key).ok_or_else(|| CfnError::Validation(message.into()))
}

/// Runs one operation on its input tree; the output tree.
pub(crate) async fn run(cfn: &CloudFormationService, acting: &Acting, op: &str, v: &Value) -> Result<Value, CfnError> {
    Ok(match op {
        "ValidateTemplate" => {
            let source = source(v)?.ok_or_else(|| {
                CfnError::Validation("Either Template URL or Template Body must be specified.".into())
            })?;
            summary_output(&cfn.validate_template(acting, &source).await?, true)
        }
        "GetTemplateSummary" => {
            let source = source(v)?;
            let name = text(v, "StackName");
            summary_output(&cfn.template_summary(acting, source.as_ref(), name.as_deref()).await?, false)
        }
        "CreateStack" => json!({"StackId": cfn.create_stack(acting, stack_input(v)?).await?}),
        "UpdateStack" => json!({"StackId": cfn.update_stack(acting, stack_input(v)?).await?}),
        "DeleteStack" => {
            let name = need(v, "StackName", "StackName is a required parameter.")?;
            cfn.delete_stack(acting, &name, strings(v, "RetainResources").unwrap_or_default()).await?;
            json!({})
        }
        "DescribeStacks" => {
            let stacks = cfn.describe_stacks(acting, text(v, "StackName").as_deref())?;
            json!({"Stacks": stacks.iter().map(stack_json).collect::<Vec<_>>()})
        }
        "ListStacks" => {
            let filters = strings(v, "StackStatusFilter").unwrap_or_default();
            let summaries: Vec<Value> = cfn
                .list_stacks(acting, &filters)
                .iter()
                .map(|s| {
                    let mut o = json!({
                        "StackId": s.id, "StackName": s.name, "CreationTime": seconds(s.created),
                        "StackStatus": s.status, "DriftInformation": {"StackDriftStatus": "NOT_CHECKED"},
                    });
                    if let Some(d) = &s.description {
                        o["TemplateDescription"] = json!(d);
                    }
                    status_and_times(&mut o, s);
                    o
                })
                .collect();
            json!({"StackSummaries": summaries})
        }
        "DescribeStackEvents" => {
            let name = need(v, "StackName", "StackName is a required parameter.")?;
            let (s, events) = cfn.stack_events(acting, &name)?;
            let events: Vec<Value> = events
                .iter()
                .map(|e| {
                    let mut o = json!({
                        "StackId": s.id, "EventId": e.id, "StackName": s.name, "LogicalResourceId": e.logical,
                        "ResourceType": e.kind, "Timestamp": seconds(e.at), "ResourceStatus": e.status,
                    });
                    if let Some(p) = &e.physical {
                        o["PhysicalResourceId"] = json!(p);
                    }
                    if let Some(r) = &e.reason {
                        o["ResourceStatusReason"] = json!(r);
                    }
                    if let Some(p) = &e.properties {
                        o["ResourceProperties"] = json!(p);
                    }
                    o
                })
                .collect();
            json!({"StackEvents": events})
        }
        "DescribeStackResource" => {
            let name = need(v, "StackName", "StackName is a required parameter.")?;
            let logical = need(v, "LogicalResourceId", "LogicalResourceId is a required parameter.")?;
            let s = cfn.stack(acting, &name)?;
            let r = s
                .resources
                .get(&logical)
                .ok_or_else(|| CfnError::Validation(format!("Resource {logical} does not exist for stack {name}")))?;
            json!({"StackResourceDetail": resource_json(&s, r, true)})
        }
        "DescribeStackResources" => {
            let s = match (text(v, "StackName"), text(v, "PhysicalResourceId")) {
                (Some(name), _) => cfn.stack(acting, &name)?,
                (None, Some(physical)) => cfn.stack_of_physical(acting, &physical)?,
                (None, None) => {
                    return Err(CfnError::Validation(
                        "Either StackName or PhysicalResourceId must be specified.".into(),
                    ))
                }
            };
            let logical = text(v, "LogicalResourceId");
            let physical = text(v, "PhysicalResourceId");
            let resources: Vec<Value> = s
                .resources
                .values()
                .filter(|r| logical.as_ref().is_none_or(|l| &r.logical == l))
                .filter(|r| physical.is_none() || r.physical == physical)
                .map(|r| resource_json(&s, r, false))
                .collect();
            json!({"StackResources": resources})
        }
        "ListStackResources" => {
            let name = need(v, "StackName", "StackName is a required parameter.")?;
            let s = cfn.stack(acting, &name)?;
            let all: Vec<Value> = s.resources.values().map(|r| summary_json(r, s.created)).collect();
            json!({"StackResourceSummaries": all})
        }
        "CreateChangeSet" => {
            let name = need(v, "ChangeSetName", "ChangeSetName is a required parameter.")?;
            let kind = text(v, "ChangeSetType").unwrap_or_else(|| "UPDATE".into());
            if kind == "IMPORT" {
                return Err(CfnError::Validation("Lamina does not serve IMPORT change sets.".into()));
            }
            let mut input = stack_input(v)?;
            if text(v, "OnStackFailure").as_deref() == Some("DO_NOTHING") {
                input.disable_rollback = true;
            }
            let (id, stack) = cfn.create_change_set(acting, input, &name, &kind, text(v, "Description")).await?;
            json!({"Id": id, "StackId": stack})
        }
        "DescribeChangeSet" => {
            let name = need(v, "ChangeSetName", "ChangeSetName is a required parameter.")?;
            let (s, c) = cfn.change_set(acting, &name, text(v, "StackName").as_deref())?;
            change_set_json(&s, &c, true)
        }
        "ExecuteChangeSet" => {
            let name = need(v, "ChangeSetName", "ChangeSetName is a required parameter.")?;
            let disable = v.get("DisableRollback").and_then(Value::as_bool);
            cfn.execute_change_set(acting, &name, text(v, "StackName").as_deref(), disable).await?;
            json!({})
        }
        "DeleteChangeSet" => {
            let name = need(v, "ChangeSetName", "ChangeSetName is a required parameter.")?;
            cfn.delete_change_set(acting, &name, text(v, "StackName").as_deref())?;
            json!({})
        }
        "ListChangeSets" => {
            let name = need(v, "StackName", "StackName is a required parameter.")?;
            let (s, sets) = cfn.change_sets(acting, &name)?;
            json!({"Summaries": sets.iter().map(|c| change_set_json(&s, c, false)).collect::<Vec<_>>()})
        }
        "GetTemplate" => {
            if let Some(cs) = text(v, "ChangeSetName") {
                if !cs.starts_with("arn:") && text(v, "StackName").is_none() {
                    return Err(CfnError::Validation("StackName is a required parameter.".into()));
                }
                let (_, c) = cfn.change_set(acting, &cs, text(v, "StackName").as_deref())?;
                let processed = text(v, "TemplateStage").as_deref() == Some("Processed");
                let body =
                    if processed { cloudformation::template::processed_text(&c.body, &c.processed) } else { c.body };
                return Ok(json!({"TemplateBody": body, "StagesAvailable": ["Original", "Processed"]}));
            }
            let name = need(v, "StackName", "StackName is required if ChangeSetName is not specified.")?;
            let processed = text(v, "TemplateStage").as_deref() == Some("Processed");
            json!({"TemplateBody": cfn.template(acting, &name, processed)?, "StagesAvailable": ["Original", "Processed"]})
        }
        "ListExports" => {
            let exports: Vec<Value> = cfn
                .exports(acting)
                .into_iter()
                .map(|(name, value, stack)| json!({"ExportingStackId": stack, "Name": name, "Value": value}))
                .collect();
            json!({"Exports": exports})
        }
        "ListImports" => {
            let name = need(v, "ExportName", "ExportName is a required parameter.")?;
            let imports = cfn.imports(acting, &name);
            if imports.is_empty() {
                return Err(CfnError::Validation(format!("Export '{name}' is not imported by any stack.")));
            }
            json!({"Imports": imports})
        }
        "SetStackPolicy" => {
            let name = need(v, "StackName", "StackName is a required parameter.")?;
            if text(v, "StackPolicyURL").is_some() && text(v, "StackPolicyBody").is_some() {
                return Err(CfnError::Validation("You cannot specify both StackPolicyURL and StackPolicyBody".into()));
            }
            cfn.set_policy(acting, &name, text(v, "StackPolicyBody"))?;
            json!({})
        }
        "GetStackPolicy" => {
            let name = need(v, "StackName", "StackName is a required parameter.")?;
            let s = cfn.stack(acting, &name)?;
            match s.policy {
                Some(p) => json!({"StackPolicyBody": p}),
                None => json!({}),
            }
        }
        "UpdateTerminationProtection" => {
            let name = need(v, "StackName", "StackName is a required parameter.")?;
            let on = flag(v, "EnableTerminationProtection");
            json!({"StackId": cfn.set_termination_protection(acting, &name, on)?})
        }
        other => return Err(CfnError::Internal(format!("no handler for {other}"))),
    })
}

/// Cloud Control API's operations served (json 1.0, `CloudApiService.GetResource`).
pub(crate) const CONTROL_OPERATIONS: &[&str] = &["GetResource"];

/// Runs one Cloud Control operation.
pub(crate) async fn run_control(
    cfn: &CloudFormationService,
    acting: &Acting,
    op: &str,
    v: &Value,
) -> Result<Value, CfnError> {
    match op {
        "GetResource" => {
            let kind = text(v, "TypeName").unwrap_or_default();
            let id = text(v, "Identifier").unwrap_or_default();
            let description = cfn.get_resource(acting, &kind, &id).await?;
            Ok(json!({"TypeName": kind, "ResourceDescription": description}))
        }
        other => Err(CfnError::Internal(format!("no handler for {other}"))),
    }
}
