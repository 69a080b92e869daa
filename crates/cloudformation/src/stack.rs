//! A stack as CloudFormation keeps it: its settings, status, resources and outputs, and
//! the stored form of each (written whole on every change, before it is answered or acted
//! on). Events are stored one document each, in order.

use indexmap::IndexMap;
use serde_json::{json, Map, Value};

/// A stack parameter, as `DescribeStacks` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// `ParameterKey`.
    pub key: String,
    /// The value given or defaulted (a list's items joined by commas).
    pub value: String,
    /// For `AWS::SSM::Parameter::Value<…>` types, the value read from SSM.
    pub resolved: Option<String>,
    /// `NoEcho`: shown as `****`.
    pub no_echo: bool,
}

/// A stack output.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    /// `OutputKey`.
    pub key: String,
    /// `OutputValue`.
    pub value: String,
    /// `Description`.
    pub description: Option<String>,
    /// `ExportName`.
    pub export: Option<String>,
}

/// One of a stack's resources.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    /// `LogicalResourceId`.
    pub logical: String,
    /// `ResourceType`.
    pub kind: String,
    /// `PhysicalResourceId`, once known (recorded before a create is asked for when the
    /// name is chosen here, so a crash mid-create leaves nothing unnamed).
    pub physical: Option<String>,
    /// `ResourceStatus`.
    pub status: String,
    /// `ResourceStatusReason`.
    pub reason: Option<String>,
    /// The properties it was made or last updated with, every function evaluated.
    pub properties: Value,
    /// Its attributes (`Fn::GetAtt`'s answers).
    pub attributes: Map<String, Value>,
    /// When it last changed, ms since the epoch.
    pub updated: i64,
    /// `DeletionPolicy` (`Delete`, `Retain`, `Snapshot`, `RetainExceptOnCreate`).
    pub deletion_policy: String,
    /// `UpdateReplacePolicy`.
    pub replace_policy: String,
    /// `Metadata`.
    pub metadata: Option<Value>,
    /// The resources it needs (deleted only after it).
    pub needs: Vec<String>,
}

impl Resource {
    /// A resource not made yet.
    pub fn new(logical: &str, kind: &str) -> Resource {
        Resource {
            logical: logical.to_owned(),
            kind: kind.to_owned(),
            physical: None,
            status: String::new(),
            reason: None,
            properties: Value::Object(Map::new()),
            attributes: Map::new(),
            updated: 0,
            deletion_policy: "Delete".into(),
            replace_policy: "Delete".into(),
            metadata: None,
            needs: Vec::new(),
        }
    }

    /// Whether it exists (made, and not deleted since).
    pub fn exists(&self) -> bool {
        self.physical.is_some() && self.status != "DELETE_COMPLETE"
    }
}

/// What a deployment that changes a stack keeps of the stack before it: its template,
/// parameters, outputs and resources, to roll back to.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Previous {
    /// The template's text.
    pub body: String,
    /// The template after its transforms.
    pub processed: Value,
    /// The parameters.
    pub parameters: Vec<Param>,
    /// The outputs.
    pub outputs: Vec<Output>,
    /// The resources, as they were.
    pub resources: IndexMap<String, Resource>,
    /// The description.
    pub description: Option<String>,
}

/// A stack.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Stack {
    /// `StackId` (its ARN).
    pub id: String,
    /// `StackName`.
    pub name: String,
    /// The owning account.
    pub account: String,
    /// The region.
    pub region: String,
    /// `StackStatus`.
    pub status: String,
    /// `StackStatusReason`.
    pub reason: Option<String>,
    /// `Description` (the template's).
    pub description: Option<String>,
    /// The template's text, as given.
    pub body: String,
    /// The template after its transforms (`GetTemplate`'s `Processed` stage).
    pub processed: Value,
    /// `Parameters`.
    pub parameters: Vec<Param>,
    /// `Tags`.
    pub tags: Vec<(String, String)>,
    /// `Capabilities`.
    pub capabilities: Vec<String>,
    /// `NotificationARNs`.
    pub notification_arns: Vec<String>,
    /// `DisableRollback`.
    pub disable_rollback: bool,
    /// `EnableTerminationProtection`.
    pub termination_protection: bool,
    /// `TimeoutInMinutes`.
    pub timeout: Option<i64>,
    /// `RoleARN`.
    pub role_arn: Option<String>,
    /// The stack policy's body.
    pub policy: Option<String>,
    /// `CreationTime`, ms.
    pub created: i64,
    /// `LastUpdatedTime`, ms.
    pub updated: Option<i64>,
    /// `DeletionTime`, ms.
    pub deleted: Option<i64>,
    /// `Outputs`.
    pub outputs: Vec<Output>,
    /// The resources, in the template's order.
    pub resources: IndexMap<String, Resource>,
    /// What an update in progress (or rolling back) changes from.
    pub previous: Option<Box<Previous>>,
    /// Who asked for the last change (the principal the stack's operations act as).
    pub principal: String,
    /// The host its requests were sent to.
    pub host: String,
    /// The change set that made it, while it is in `REVIEW_IN_PROGRESS`, or last updated it.
    pub change_set: Option<String>,
    /// Its change sets not yet executed or deleted.
    pub change_sets: Vec<ChangeSet>,
}

/// A change set: a template and parameters for a stack, with the changes they would make.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChangeSet {
    /// `ChangeSetId` (its ARN).
    pub id: String,
    /// `ChangeSetName`.
    pub name: String,
    /// `CREATE` or `UPDATE`.
    pub kind: String,
    /// `Description`.
    pub description: Option<String>,
    /// The template's text.
    pub body: String,
    /// The template after its transforms.
    pub processed: Value,
    /// The template's description.
    pub template_description: Option<String>,
    /// The parameters, settled.
    pub parameters: Vec<Param>,
    /// `Tags`.
    pub tags: Vec<(String, String)>,
    /// `Capabilities`.
    pub capabilities: Vec<String>,
    /// `NotificationARNs`.
    pub notification_arns: Vec<String>,
    /// `RoleARN`.
    pub role_arn: Option<String>,
    /// `CreationTime`, ms.
    pub created: i64,
    /// `Status`.
    pub status: String,
    /// `StatusReason`.
    pub reason: Option<String>,
    /// `ExecutionStatus`.
    pub execution: String,
    /// `Changes`, in the API's shape (`{Type, ResourceChange}`).
    pub changes: Vec<Value>,
    /// `OnStackFailure: DO_NOTHING` or `DisableRollback`.
    pub disable_rollback: bool,
}

impl ChangeSet {
    fn to_doc(&self) -> Value {
        json!({
            "id": self.id, "name": self.name, "kind": self.kind, "description": self.description,
            "body": self.body, "processed": self.processed, "template_description": self.template_description,
            "parameters": params_doc(&self.parameters),
            "tags": self.tags.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
            "capabilities": self.capabilities, "notification_arns": self.notification_arns,
            "role_arn": self.role_arn, "created": self.created, "status": self.status, "reason": self.reason,
            "execution": self.execution, "changes": self.changes, "disable_rollback": self.disable_rollback,
        })
    }

    fn from_doc(v: &Value) -> ChangeSet {
        ChangeSet {
            id: text(v, "id"),
            name: text(v, "name"),
            kind: text(v, "kind"),
            description: opt(v, "description"),
            body: text(v, "body"),
            processed: v.get("processed").cloned().unwrap_or_default(),
            template_description: opt(v, "template_description"),
            parameters: params_of(&v["parameters"]),
            tags: tags_of(v),
            capabilities: strings(v, "capabilities"),
            notification_arns: strings(v, "notification_arns"),
            role_arn: opt(v, "role_arn"),
            created: v.get("created").and_then(Value::as_i64).unwrap_or(0),
            status: text(v, "status"),
            reason: opt(v, "reason"),
            execution: text(v, "execution"),
            changes: v.get("changes").and_then(Value::as_array).cloned().unwrap_or_default(),
            disable_rollback: v.get("disable_rollback").and_then(Value::as_bool).unwrap_or(false),
        }
    }
}

fn tags_of(v: &Value) -> Vec<(String, String)> {
    v.get("tags")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter().filter_map(|t| Some((t.get(0)?.as_str()?.to_owned(), t.get(1)?.as_str()?.to_owned()))).collect()
        })
        .unwrap_or_default()
}

/// Whether a status is a settled one (no deployment runs).
pub fn settled(status: &str) -> bool {
    status.ends_with("_COMPLETE") || status.ends_with("_FAILED") || status == "REVIEW_IN_PROGRESS"
}

fn text(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or_default().to_owned()
}

fn opt(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn strings(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

fn params_doc(p: &[Param]) -> Value {
    p.iter().map(|p| json!({"key": p.key, "value": p.value, "resolved": p.resolved, "no_echo": p.no_echo})).collect()
}

fn params_of(v: &Value) -> Vec<Param> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|p| Param {
                    key: text(p, "key"),
                    value: text(p, "value"),
                    resolved: opt(p, "resolved"),
                    no_echo: p.get("no_echo").and_then(Value::as_bool).unwrap_or(false),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn outputs_doc(o: &[Output]) -> Value {
    o.iter()
        .map(|o| json!({"key": o.key, "value": o.value, "description": o.description, "export": o.export}))
        .collect()
}

fn outputs_of(v: &Value) -> Vec<Output> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|o| Output {
                    key: text(o, "key"),
                    value: text(o, "value"),
                    description: opt(o, "description"),
                    export: opt(o, "export"),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn resources_doc(r: &IndexMap<String, Resource>) -> Value {
    r.values()
        .map(|r| {
            json!({
                "logical": r.logical, "kind": r.kind, "physical": r.physical, "status": r.status,
                "reason": r.reason, "properties": r.properties, "attributes": r.attributes,
                "updated": r.updated, "deletion_policy": r.deletion_policy,
                "replace_policy": r.replace_policy, "metadata": r.metadata, "needs": r.needs,
            })
        })
        .collect()
}

fn resources_of(v: &Value) -> IndexMap<String, Resource> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|r| {
                    let res = Resource {
                        logical: text(r, "logical"),
                        kind: text(r, "kind"),
                        physical: opt(r, "physical"),
                        status: text(r, "status"),
                        reason: opt(r, "reason"),
                        properties: r.get("properties").cloned().unwrap_or_else(|| json!({})),
                        attributes: r.get("attributes").and_then(Value::as_object).cloned().unwrap_or_default(),
                        updated: r.get("updated").and_then(Value::as_i64).unwrap_or(0),
                        deletion_policy: opt(r, "deletion_policy").unwrap_or_else(|| "Delete".into()),
                        replace_policy: opt(r, "replace_policy").unwrap_or_else(|| "Delete".into()),
                        metadata: r.get("metadata").filter(|m| !m.is_null()).cloned(),
                        needs: strings(r, "needs"),
                    };
                    (res.logical.clone(), res)
                })
                .collect()
        })
        .unwrap_or_default()
}

impl Stack {
    /// What an update keeps of the stack before it, to roll back to.
    pub fn previous_state(&self) -> Previous {
        Previous {
            body: self.body.clone(),
            processed: self.processed.clone(),
            parameters: self.parameters.clone(),
            outputs: self.outputs.clone(),
            resources: self.resources.clone(),
            description: self.description.clone(),
        }
    }

    /// The stored form.
    pub fn to_doc(&self) -> Value {
        let previous = self.previous.as_ref().map(|p| {
            json!({
                "body": p.body, "processed": p.processed, "parameters": params_doc(&p.parameters),
                "outputs": outputs_doc(&p.outputs), "resources": resources_doc(&p.resources),
                "description": p.description,
            })
        });
        json!({
            "id": self.id, "name": self.name, "account": self.account, "region": self.region,
            "status": self.status, "reason": self.reason, "description": self.description,
            "body": self.body, "processed": self.processed, "parameters": params_doc(&self.parameters),
            "tags": self.tags.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
            "capabilities": self.capabilities, "notification_arns": self.notification_arns,
            "disable_rollback": self.disable_rollback, "termination_protection": self.termination_protection,
            "timeout": self.timeout, "role_arn": self.role_arn, "policy": self.policy,
            "created": self.created, "updated": self.updated, "deleted": self.deleted,
            "outputs": outputs_doc(&self.outputs), "resources": resources_doc(&self.resources),
            "previous": previous, "principal": self.principal, "host": self.host,
            "change_set": self.change_set,
            "change_sets": self.change_sets.iter().map(ChangeSet::to_doc).collect::<Vec<_>>(),
        })
    }

    /// A stack from its stored form.
    pub fn from_doc(v: &Value) -> Stack {
        let previous = v.get("previous").filter(|p| !p.is_null()).map(|p| {
            Box::new(Previous {
                body: text(p, "body"),
                processed: p.get("processed").cloned().unwrap_or_default(),
                parameters: params_of(&p["parameters"]),
                outputs: outputs_of(&p["outputs"]),
                resources: resources_of(&p["resources"]),
                description: opt(p, "description"),
            })
        });
        Stack {
            id: text(v, "id"),
            name: text(v, "name"),
            account: text(v, "account"),
            region: text(v, "region"),
            status: text(v, "status"),
            reason: opt(v, "reason"),
            description: opt(v, "description"),
            body: text(v, "body"),
            processed: v.get("processed").cloned().unwrap_or_default(),
            parameters: params_of(&v["parameters"]),
            tags: tags_of(v),
            capabilities: strings(v, "capabilities"),
            notification_arns: strings(v, "notification_arns"),
            disable_rollback: v.get("disable_rollback").and_then(Value::as_bool).unwrap_or(false),
            termination_protection: v.get("termination_protection").and_then(Value::as_bool).unwrap_or(false),
            timeout: v.get("timeout").and_then(Value::as_i64),
            role_arn: opt(v, "role_arn"),
            policy: opt(v, "policy"),
            created: v.get("created").and_then(Value::as_i64).unwrap_or(0),
            updated: v.get("updated").and_then(Value::as_i64),
            deleted: v.get("deleted").and_then(Value::as_i64),
            outputs: outputs_of(&v["outputs"]),
            resources: resources_of(&v["resources"]),
            previous,
            principal: text(v, "principal"),
            host: text(v, "host"),
            change_set: opt(v, "change_set"),
            change_sets: v
                .get("change_sets")
                .and_then(Value::as_array)
                .map(|a| a.iter().map(ChangeSet::from_doc).collect())
                .unwrap_or_default(),
        }
    }
}

/// A stack event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// `EventId`.
    pub id: String,
    /// `LogicalResourceId` (the stack's name for the stack's own events).
    pub logical: String,
    /// `PhysicalResourceId`.
    pub physical: Option<String>,
    /// `ResourceType`.
    pub kind: String,
    /// `Timestamp`, ms.
    pub at: i64,
    /// `ResourceStatus`.
    pub status: String,
    /// `ResourceStatusReason`.
    pub reason: Option<String>,
    /// `ResourceProperties`, as JSON text.
    pub properties: Option<String>,
}

impl Event {
    /// The stored form.
    pub fn to_doc(&self) -> Value {
        json!({
            "id": self.id, "logical": self.logical, "physical": self.physical, "kind": self.kind,
            "at": self.at, "status": self.status, "reason": self.reason, "properties": self.properties,
        })
    }

    /// An event from its stored form.
    pub fn from_doc(v: &Value) -> Event {
        Event {
            id: text(v, "id"),
            logical: text(v, "logical"),
            physical: opt(v, "physical"),
            kind: text(v, "kind"),
            at: v.get("at").and_then(Value::as_i64).unwrap_or(0),
            status: text(v, "status"),
            reason: opt(v, "reason"),
            properties: opt(v, "properties"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stack_survives_its_stored_form() {
        let mut r = Resource::new("Queue", "AWS::SQS::Queue");
        r.physical = Some("https://q".into());
        r.status = "CREATE_COMPLETE".into();
        r.attributes.insert("Arn".into(), json!("arn:q"));
        let s = Stack {
            id: "arn:aws:cloudformation:us-east-1:000000000000:stack/s/1".into(),
            name: "s".into(),
            status: "UPDATE_IN_PROGRESS".into(),
            parameters: vec![Param { key: "P".into(), value: "v".into(), resolved: None, no_echo: true }],
            tags: vec![("a".into(), "b".into())],
            outputs: vec![Output { key: "O".into(), value: "x".into(), description: None, export: Some("e".into()) }],
            resources: [("Queue".to_owned(), r.clone())].into_iter().collect(),
            previous: Some(Box::new(Previous {
                body: "{}".into(),
                resources: [("Queue".to_owned(), r)].into_iter().collect(),
                ..Previous::default()
            })),
            ..Stack::default()
        };
        assert_eq!(Stack::from_doc(&s.to_doc()), s);
    }
}
