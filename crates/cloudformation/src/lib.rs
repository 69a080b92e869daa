//! Lamina's CloudFormation.
//!
//! [`CloudFormationService`] owns every account's stacks: their templates (`template.rs`:
//! JSON, or YAML with the short-form tags), parameters (`parameters.rs`), resources,
//! outputs, exports and events, kept in memory and written to the store's
//! [`store::DocumentStore`] at every step of a deployment. `intrinsics.rs` evaluates the
//! intrinsic functions and conditions (pure), `graph.rs` orders resources by what they
//! need, `deploy.rs` runs creates, updates, deletes and their rollbacks with independent
//! resources made at once, and resumes or rolls back what a restart interrupted.
//! `resources/` holds one provider per resource type; each makes its resources through
//! the services' own operations ([`Operations`], which the edge implements), so a stack's
//! queue or function is checked and made exactly as the API would make it, and is then
//! theirs. `dynamic.rs` resolves `{{resolve:ssm:…}}` references.
//!
//! It knows no CloudFormation wire format (`aws-api` speaks its query protocol) and calls
//! no service directly.
#![deny(missing_docs)]

mod changes;
mod control;
mod deploy;
mod dynamic;
pub mod graph;
pub mod intrinsics;
pub mod operations;
pub mod parameters;
pub mod resources;
pub mod sam;
pub mod stack;
pub mod template;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};

use model::sync::Mutex;
use serde_json::Value;
use store::{Document, DocumentStore};

pub use operations::{Acting, OperationError, Operations, Pending};
pub use parameters::Given;
pub use stack::{Event, Output, Param, Resource, Stack};
pub use template::TemplateError;

use deploy::{Action, Evaluated};
use template::Template;

/// The document kind stacks are stored as.
const KIND: &str = "cfn-stack";
/// The macro that expands SAM templates.
pub const SAM_TRANSFORM: &str = "AWS::Serverless-2016-10-31";

/// A CloudFormation error, as the API answers it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CfnError {
    /// `ValidationError`.
    #[error("{0}")]
    Validation(String),
    /// `AlreadyExistsException`.
    #[error("{0}")]
    AlreadyExists(String),
    /// `InsufficientCapabilitiesException`.
    #[error("{0}")]
    InsufficientCapabilities(String),
    /// `ChangeSetNotFound`.
    #[error("{0}")]
    ChangeSetNotFound(String),
    /// `InvalidChangeSetStatus`.
    #[error("{0}")]
    InvalidChangeSetStatus(String),
    /// Cloud Control's `ResourceNotFoundException`.
    #[error("{0}")]
    ResourceNotFound(String),
    /// Cloud Control's `UnsupportedActionException`.
    #[error("{0}")]
    UnsupportedAction(String),
    /// `InternalFailure`.
    #[error("{0}")]
    Internal(String),
}

impl From<TemplateError> for CfnError {
    fn from(e: TemplateError) -> CfnError {
        CfnError::Validation(e.0)
    }
}

/// Where a template comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `TemplateBody`.
    Body(String),
    /// `TemplateURL`: an object in Lamina's S3.
    Url(String),
}

/// A `CreateStack` or `UpdateStack`.
#[derive(Debug, Clone, Default)]
pub struct StackInput {
    /// `StackName` (a name, or for an update the stack's id).
    pub name: String,
    /// The template; `None` with `UsePreviousTemplate`.
    pub source: Option<Source>,
    /// `Parameters`.
    pub parameters: Vec<Given>,
    /// `Tags`.
    pub tags: Option<Vec<(String, String)>>,
    /// `Capabilities`.
    pub capabilities: Vec<String>,
    /// `NotificationARNs`.
    pub notification_arns: Option<Vec<String>>,
    /// `DisableRollback` (or `OnFailure: DO_NOTHING`).
    pub disable_rollback: bool,
    /// `TimeoutInMinutes`.
    pub timeout: Option<i64>,
    /// `RoleARN`.
    pub role_arn: Option<String>,
    /// `EnableTerminationProtection`.
    pub termination_protection: bool,
    /// `StackPolicyBody`.
    pub policy: Option<String>,
}

/// `ValidateTemplate`'s and `GetTemplateSummary`'s findings.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// The template's description.
    pub description: Option<String>,
    /// Its parameters: key, declaration.
    pub parameters: Vec<(String, template::ParameterDecl)>,
    /// The capabilities it needs.
    pub capabilities: Vec<String>,
    /// Why.
    pub capabilities_reason: Option<String>,
    /// The macros it names.
    pub transforms: Vec<String>,
    /// Its resource types, each once.
    pub resource_types: Vec<String>,
    /// Its resources: logical id, type.
    pub resources: Vec<(String, String)>,
    /// Its `Metadata`.
    pub metadata: Option<Value>,
    /// Its version.
    pub version: String,
}

pub(crate) struct Inner {
    store: Arc<dyn DocumentStore>,
    stacks: Mutex<HashMap<String, Stack>>,
    ops: OnceLock<Arc<dyn Operations>>,
    /// The last event's time, ms: each event comes after it.
    seq: Mutex<i64>,
    /// Resources to keep when a stack in `DELETE_FAILED` is deleted again.
    retain: Mutex<HashMap<String, Vec<String>>>,
    /// Woken whenever a stack's status settles.
    settled: tokio::sync::Notify,
}

impl Inner {
    pub(crate) fn snapshot(&self, id: &str) -> Option<Stack> {
        self.stacks.lock().get(id).cloned()
    }

    /// Changes a stack and stores it, before anything else sees the change.
    pub(crate) fn update<T>(&self, id: &str, f: impl FnOnce(&mut Stack) -> T) -> Option<T> {
        let mut stacks = self.stacks.lock();
        let s = stacks.get_mut(id)?;
        let out = f(s);
        self.persist(s);
        Some(out)
    }

    fn persist(&self, s: &Stack) {
        let doc = Document { kind: KIND.into(), id: s.id.clone(), doc: s.to_doc().to_string() };
        if let Err(e) = self.store.put_document(&doc) {
            tracing::error!("storing stack {}: {e}", s.name);
        }
    }

    /// Sets the stack's status (and reason), with its event.
    pub(crate) fn set_status(&self, id: &str, status: &str, reason: Option<&str>) {
        let now = model::clock::now_ms();
        let Some(stack) = self.update(id, |s| {
            s.status = status.to_owned();
            s.reason = reason.map(str::to_owned);
            if status.starts_with("UPDATE_") && status.ends_with("IN_PROGRESS") && s.updated.is_none_or(|u| u < now) {
                s.updated = Some(now);
            }
            // The change set executing ends with the deployment.
            if stack::settled(status) && status != "REVIEW_IN_PROGRESS" {
                let ok = matches!(status, "CREATE_COMPLETE" | "UPDATE_COMPLETE");
                for c in s.change_sets.iter_mut().filter(|c| c.execution == "EXECUTE_IN_PROGRESS") {
                    c.execution = if ok { "EXECUTE_COMPLETE" } else { "EXECUTE_FAILED" }.into();
                }
            }
            s.clone()
        }) else {
            return;
        };
        if stack::settled(status) {
            self.settled.notify_waiters();
        }
        self.store_event(
            id,
            Event {
                id: uuid::Uuid::new_v4().to_string(),
                logical: stack.name.clone(),
                physical: Some(stack.id.clone()),
                kind: "AWS::CloudFormation::Stack".into(),
                at: now,
                status: status.to_owned(),
                reason: reason.map(str::to_owned),
                properties: None,
            },
        );
    }

    /// A resource's event, from its record now.
    pub(crate) fn resource_event(&self, id: &str, logical: &str, status: &str, reason: Option<&str>) {
        let Some(r) = self.snapshot(id).and_then(|s| s.resources.get(logical).cloned()) else { return };
        self.resource_event_for(id, &r, status, reason);
    }

    /// A resource's event, from a record of it.
    pub(crate) fn resource_event_for(&self, id: &str, r: &Resource, status: &str, reason: Option<&str>) {
        self.store_event(
            id,
            Event {
                id: uuid::Uuid::new_v4().to_string(),
                logical: r.logical.clone(),
                physical: r.physical.clone(),
                kind: r.kind.clone(),
                at: model::clock::now_ms(),
                status: status.to_owned(),
                reason: reason.map(str::to_owned),
                properties: (!r.properties.as_object().is_some_and(|o| o.is_empty())).then(|| r.properties.to_string()),
            },
        );
    }

    fn store_event(&self, id: &str, mut e: Event) {
        // Each event a millisecond after the one before, so timestamps alone order them
        // (as clients sort them); the id orders them in the store.
        e.at = {
            let mut last = self.seq.lock();
            *last = (*last + 1).max(e.at);
            *last
        };
        let doc = Document {
            kind: format!("cfn-events:{id}"),
            id: format!("{:015}-{}", e.at, e.id),
            doc: e.to_doc().to_string(),
        };
        if let Err(e) = self.store.put_document(&doc) {
            tracing::error!("storing a stack event: {e}");
        }
    }

    /// Who a stack's operations act as.
    pub(crate) fn acting(&self, s: &Stack) -> Acting {
        Acting {
            account: s.account.clone(),
            region: s.region.clone(),
            principal: s.principal.clone(),
            host: s.host.clone(),
        }
    }

    /// The exports of an account and region: name → value.
    pub(crate) fn exports_for(&self, account: &str, region: &str) -> HashMap<String, String> {
        let stacks = self.stacks.lock();
        stacks
            .values()
            .filter(|s| s.account == account && s.region == region && s.status != "DELETE_COMPLETE")
            .flat_map(|s| s.outputs.iter().filter_map(|o| Some((o.export.clone()?, o.value.clone()))))
            .collect()
    }

    /// The stack that exports `name`, if one does.
    pub(crate) fn export_owner(&self, account: &str, region: &str, name: &str) -> Option<String> {
        let stacks = self.stacks.lock();
        stacks
            .values()
            .filter(|s| s.account == account && s.region == region && s.status != "DELETE_COMPLETE")
            .find(|s| s.outputs.iter().any(|o| o.export.as_deref() == Some(name)))
            .map(|s| s.id.clone())
    }

    pub(crate) fn retained(&self, id: &str) -> Vec<String> {
        self.retain.lock().remove(id).unwrap_or_default()
    }
}

/// How long a call that starts a deployment waits for it to settle before it answers. AWS
/// answers at once; a deployment that settles within this is answered settled, so a deploy
/// tool's first poll finds it done (tools poll every few seconds). Longer ones go on in the
/// background as on AWS.
const ANSWER_SETTLED_WITHIN: std::time::Duration = std::time::Duration::from_secs(3);

/// CloudFormation.
#[derive(Clone)]
pub struct CloudFormationService {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for CloudFormationService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CloudFormationService").finish_non_exhaustive()
    }
}

/// The IAM types, which need `CAPABILITY_IAM`; named, `CAPABILITY_NAMED_IAM`.
const IAM_TYPES: [(&str, &str); 7] = [
    ("AWS::IAM::Role", "RoleName"),
    ("AWS::IAM::ManagedPolicy", "ManagedPolicyName"),
    ("AWS::IAM::User", "UserName"),
    ("AWS::IAM::Group", "GroupName"),
    ("AWS::IAM::Policy", ""),
    ("AWS::IAM::AccessKey", ""),
    ("AWS::IAM::InstanceProfile", "InstanceProfileName"),
];

/// The capabilities a template needs, and why.
fn needed_capabilities(t: &Template) -> (Vec<String>, Option<String>) {
    let mut named = false;
    let mut types = Vec::new();
    for r in t.resources.values() {
        if let Some((kind, name)) = IAM_TYPES.iter().find(|(k, _)| *k == r.kind) {
            if !name.is_empty() && r.properties.get(*name).is_some() {
                named = true;
            }
            if !types.contains(&kind.to_string()) {
                types.push(kind.to_string());
            }
        }
    }
    if types.is_empty() {
        return (Vec::new(), None);
    }
    let cap = if named { "CAPABILITY_NAMED_IAM" } else { "CAPABILITY_IAM" };
    (vec![cap.to_owned()], Some(format!("The following resource(s) require capabilities: [{}]", types.join(", "))))
}

/// An S3 URL's bucket and key: virtual-host or path style, on AWS's or Lamina's hosts.
pub fn s3_location(url: &str) -> Option<(String, String)> {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"))?;
    let (host, path) = rest.split_once('/')?;
    let host = host.split(':').next().unwrap_or(host);
    let path = path.split('?').next().unwrap_or(path);
    let decode = |s: &str| form_decode(s);
    if let Some((bucket, _)) = host.split_once(".s3.").or_else(|| host.split_once(".s3-")) {
        return (!path.is_empty()).then(|| (bucket.to_owned(), decode(path)));
    }
    let (bucket, key) = path.split_once('/')?;
    (!bucket.is_empty() && !key.is_empty()).then(|| (bucket.to_owned(), decode(key)))
}

/// A URL path's `%XX` escapes decoded.
fn form_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match escaped {
            Some(b) => {
                out.push(b);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl CloudFormationService {
    /// Opens every account's stacks from `store`.
    pub fn start(store: Arc<dyn DocumentStore>) -> Result<CloudFormationService, CfnError> {
        let mut stacks = HashMap::new();
        for d in store.documents(KIND).map_err(|e| CfnError::Internal(e.to_string()))? {
            let v: Value = serde_json::from_str(&d.doc).map_err(|e| CfnError::Internal(e.to_string()))?;
            let s = Stack::from_doc(&v);
            stacks.insert(s.id.clone(), s);
        }
        Ok(CloudFormationService {
            inner: Arc::new(Inner {
                store,
                stacks: Mutex::new(stacks),
                ops: OnceLock::new(),
                seq: Mutex::new(0),
                retain: Mutex::new(HashMap::new()),
                settled: tokio::sync::Notify::new(),
            }),
        })
    }

    /// Connects the services' operations, then resumes (or rolls back) the deployments a
    /// stop interrupted. Call once, inside the runtime.
    pub fn connect(&self, ops: Arc<dyn Operations>) {
        if self.inner.ops.set(ops).is_err() {
            return;
        }
        let unsettled: Vec<String> =
            self.inner.stacks.lock().values().filter(|s| !stack::settled(&s.status)).map(|s| s.id.clone()).collect();
        for id in unsettled {
            deploy::spawn(self.inner.clone(), id, Action::Resume);
        }
    }

    /// Waits, at most [`ANSWER_SETTLED_WITHIN`], for a stack's deployment to settle.
    async fn until_settled(&self, id: &str) {
        let deadline = tokio::time::Instant::now() + ANSWER_SETTLED_WITHIN;
        loop {
            let woken = self.inner.settled.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            match self.inner.snapshot(id) {
                Some(s) if !stack::settled(&s.status) => {}
                _ => return,
            }
            if tokio::time::timeout_at(deadline, woken).await.is_err() {
                return;
            }
        }
    }

    fn ops(&self) -> Result<Arc<dyn Operations>, CfnError> {
        self.inner.ops.get().cloned().ok_or_else(|| CfnError::Internal("CloudFormation is not connected yet".into()))
    }

    /// A template's text, from its body or its S3 URL.
    async fn text(&self, acting: &Acting, source: &Source) -> Result<String, CfnError> {
        match source {
            Source::Body(b) => Ok(b.clone()),
            Source::Url(url) => {
                if let Some(rest) = url.strip_prefix("s3://") {
                    let bucket = rest.split('/').next().unwrap_or_default();
                    return Err(CfnError::Validation(format!(
                        "S3 error: Domain name specified in {bucket} is not a valid S3 domain"
                    )));
                }
                let (bucket, key) = s3_location(url)
                    .ok_or_else(|| CfnError::Validation("TemplateURL must be a supported URL.".into()))?;
                let bytes = self
                    .ops()?
                    .read_object(acting, &bucket, &key, template::MAX_TEMPLATE_BYTES)
                    .await
                    .map_err(|e| CfnError::Validation(format!("S3 error: {}", e.message)))?;
                String::from_utf8(bytes)
                    .map_err(|_| CfnError::Validation("Template format error: unsupported structure.".into()))
            }
        }
    }

    /// A template's tree after its transforms.
    fn expand(&self, acting: &Acting, tree: Value) -> Result<Value, CfnError> {
        for t in template::transforms(&tree)? {
            match t.as_str() {
                "AWS::LanguageExtensions" => {}
                SAM_TRANSFORM => {
                    let place = sam::Place { partition: "aws".into(), region: acting.region.clone() };
                    return Ok(sam::transform(&tree, &place)?);
                }
                other => {
                    return Err(CfnError::Validation(format!("Template format error: Unsupported transform {other}")))
                }
            }
        }
        Ok(tree)
    }

    /// Reads and checks a template: its tree, processed tree and sections.
    async fn load(&self, acting: &Acting, source: &Source) -> Result<(String, Value, Template), CfnError> {
        let body = self.text(acting, source).await?;
        let tree = template::parse(&body)?;
        let processed = self.expand(acting, tree)?;
        let t = Template::read(&processed)?;
        check_types(&t)?;
        // Names and circles, with every condition's branches read.
        crate::graph::build(&t, &|_| true, &|_| None)?;
        Ok((body, processed, t))
    }

    fn summary(t: &Template) -> Summary {
        let (capabilities, reason) = needed_capabilities(t);
        let mut types: Vec<String> = Vec::new();
        for r in t.resources.values() {
            if !types.contains(&r.kind) {
                types.push(r.kind.clone());
            }
        }
        Summary {
            description: t.description.clone(),
            parameters: t.parameters.iter().map(|(k, d)| (k.clone(), d.clone())).collect(),
            capabilities,
            capabilities_reason: reason,
            transforms: t.transforms.clone(),
            resource_types: types,
            resources: t.resources.iter().map(|(k, r)| (k.clone(), r.kind.clone())).collect(),
            metadata: t.metadata.clone(),
            version: "2010-09-09".into(),
        }
    }

    /// `ValidateTemplate`.
    pub async fn validate_template(&self, acting: &Acting, source: &Source) -> Result<Summary, CfnError> {
        let (_, _, t) = self.load(acting, source).await?;
        Ok(Self::summary(&t))
    }

    /// `GetTemplateSummary` of a template, or of a stack's.
    pub async fn template_summary(
        &self,
        acting: &Acting,
        source: Option<&Source>,
        stack: Option<&str>,
    ) -> Result<Summary, CfnError> {
        match (source, stack) {
            (Some(source), _) => self.validate_template(acting, source).await,
            (None, Some(name)) => {
                let s = self.stack(acting, name)?;
                if s.status == "REVIEW_IN_PROGRESS" {
                    return Err(CfnError::Validation(
                        "GetTemplateSummary cannot be called on REVIEW_IN_PROGRESS stacks.".into(),
                    ));
                }
                Ok(Self::summary(&Template::read(&s.processed)?))
            }
            (None, None) => Err(CfnError::Validation("Either Template URL or Template Body must be specified.".into())),
        }
    }

    /// A stack by name (the live one) or id (any, deleted ones too).
    pub fn stack(&self, acting: &Acting, name: &str) -> Result<Stack, CfnError> {
        self.find(acting, name).ok_or_else(|| CfnError::Validation(format!("Stack with id {name} does not exist")))
    }

    fn find(&self, acting: &Acting, name: &str) -> Option<Stack> {
        let stacks = self.inner.stacks.lock();
        if name.starts_with("arn:") {
            return stacks.get(name).filter(|s| s.account == acting.account && s.region == acting.region).cloned();
        }
        stacks
            .values()
            .filter(|s| s.account == acting.account && s.region == acting.region && s.name == name)
            .filter(|s| s.status != "DELETE_COMPLETE")
            .max_by_key(|s| s.created)
            .cloned()
    }

    /// Checks parameters (reading SSM parameter types' values) for a template.
    async fn settle_parameters(
        &self,
        acting: &Acting,
        t: &Template,
        given: &[Given],
        previous: &[Param],
    ) -> Result<Vec<Param>, CfnError> {
        let mut params = parameters::settle(&t.parameters, given, previous)?;
        for p in &mut params {
            let kind = &t.parameters[&p.key].kind;
            if kind.starts_with(parameters::SSM_TYPE) {
                let name = p.value.clone();
                let out =
                    self.ops()?.call(acting, "ssm", "GetParameter", serde_json::json!({"Name": name})).await.map_err(
                        |_| {
                            CfnError::Validation(format!(
                                "Unable to fetch parameters [{name}] from parameter store for this account."
                            ))
                        },
                    )?;
                p.resolved = out.pointer("/Parameter/Value").and_then(Value::as_str).map(str::to_owned);
            }
        }
        Ok(params)
    }

    /// CreateStack and UpdateStack expand a template's macros only with
    /// `CAPABILITY_AUTO_EXPAND` (change sets show the expansion instead).
    fn check_expansion(body: &str, given: &[String]) -> Result<(), CfnError> {
        let named = template::transforms(&template::parse(body)?)?;
        if !named.is_empty() && !given.iter().any(|g| g == "CAPABILITY_AUTO_EXPAND") {
            return Err(CfnError::InsufficientCapabilities("Requires capabilities : [CAPABILITY_AUTO_EXPAND]".into()));
        }
        Ok(())
    }

    fn check_capabilities(t: &Template, given: &[String]) -> Result<(), CfnError> {
        let (needed, _) = needed_capabilities(t);
        for cap in needed {
            let ok =
                given.contains(&cap) || (cap == "CAPABILITY_IAM" && given.iter().any(|g| g == "CAPABILITY_NAMED_IAM"));
            if !ok {
                return Err(CfnError::InsufficientCapabilities(format!("Requires capabilities : [{cap}]")));
            }
        }
        Ok(())
    }

    /// `CreateStack`: checks the template and parameters, then creates in the background;
    /// the stack's id.
    pub async fn create_stack(&self, acting: &Acting, input: StackInput) -> Result<String, CfnError> {
        let source = input
            .source
            .clone()
            .ok_or_else(|| CfnError::Validation("Either Template URL or Template Body must be specified.".into()))?;
        if self.find(acting, &input.name).is_some() {
            return Err(CfnError::AlreadyExists(format!("Stack [{}] already exists", input.name)));
        }
        let (body, processed, t) = self.load(acting, &source).await?;
        Self::check_capabilities(&t, &input.capabilities)?;
        Self::check_expansion(&body, &input.capabilities)?;
        let params = self.settle_parameters(acting, &t, &input.parameters, &[]).await?;
        let id = stack_arn(acting, &input.name);
        let stack = Stack {
            id: id.clone(),
            name: input.name.clone(),
            account: acting.account.clone(),
            region: acting.region.clone(),
            status: "CREATE_IN_PROGRESS".into(),
            reason: Some("User Initiated".into()),
            description: t.description.clone(),
            body,
            processed,
            parameters: params,
            tags: input.tags.unwrap_or_default(),
            capabilities: input.capabilities,
            notification_arns: input.notification_arns.unwrap_or_default(),
            disable_rollback: input.disable_rollback,
            termination_protection: input.termination_protection,
            timeout: input.timeout,
            role_arn: input.role_arn,
            policy: input.policy,
            created: model::clock::now_ms(),
            principal: acting.principal.clone(),
            host: acting.host.clone(),
            ..Stack::default()
        };
        // The whole stack's values are checked before anything is made.
        Evaluated::of(&stack)?;
        {
            let mut stacks = self.inner.stacks.lock();
            if stacks.values().any(|s| {
                s.account == acting.account
                    && s.region == acting.region
                    && s.name == input.name
                    && s.status != "DELETE_COMPLETE"
            }) {
                return Err(CfnError::AlreadyExists(format!("Stack [{}] already exists", input.name)));
            }
            self.inner.persist(&stack);
            stacks.insert(id.clone(), stack);
        }
        self.inner.set_status(&id, "CREATE_IN_PROGRESS", Some("User Initiated"));
        deploy::spawn(self.inner.clone(), id.clone(), Action::Create);
        self.until_settled(&id).await;
        Ok(id)
    }

    /// The stack `current` would be after an update to `input` (checked, not stored).
    async fn next_state(&self, acting: &Acting, current: &Stack, input: &StackInput) -> Result<Stack, CfnError> {
        let (body, processed, t) = match &input.source {
            Some(source) => self.load(acting, source).await?,
            None => {
                let t = Template::read(&current.processed)?;
                (current.body.clone(), current.processed.clone(), t)
            }
        };
        Self::check_capabilities(&t, &input.capabilities)?;
        let params = self.settle_parameters(acting, &t, &input.parameters, &current.parameters).await?;
        let mut next = current.clone();
        next.previous = Some(Box::new(current.previous_state()));
        next.body = body;
        next.processed = processed;
        next.description = t.description.clone();
        next.parameters = params;
        next.tags = input.tags.clone().unwrap_or_else(|| current.tags.clone());
        next.notification_arns = input.notification_arns.clone().unwrap_or_else(|| current.notification_arns.clone());
        next.capabilities = input.capabilities.clone();
        next.principal = acting.principal.clone();
        next.host = acting.host.clone();
        if input.role_arn.is_some() {
            next.role_arn = input.role_arn.clone();
        }
        next.disable_rollback = input.disable_rollback;
        Evaluated::of(&next)?;
        Ok(next)
    }

    /// Whether an update would change nothing.
    fn unchanged(current: &Stack, next: &Stack) -> bool {
        next.processed == current.processed
            && next.parameters == current.parameters
            && next.tags == current.tags
            && next.notification_arns == current.notification_arns
    }

    fn check_updatable(current: &Stack) -> Result<(), CfnError> {
        let updatable = matches!(
            current.status.as_str(),
            "CREATE_COMPLETE"
                | "UPDATE_COMPLETE"
                | "UPDATE_ROLLBACK_COMPLETE"
                | "IMPORT_COMPLETE"
                | "IMPORT_ROLLBACK_COMPLETE"
        );
        if updatable {
            Ok(())
        } else {
            Err(CfnError::Validation(format!(
                "Stack:{} is in {} state and can not be updated.",
                current.id, current.status
            )))
        }
    }

    /// Stores `next` in place of the stack (still in the status `from`), then runs `action`.
    fn begin(&self, next: Stack, from: &str, status: &str, action: Action) -> Result<String, CfnError> {
        let id = next.id.clone();
        {
            let mut stacks = self.inner.stacks.lock();
            let Some(s) = stacks.get_mut(&id) else {
                return Err(CfnError::Validation(format!("Stack with id {} does not exist", next.name)));
            };
            if s.status != from {
                return Err(CfnError::Validation(format!(
                    "Stack:{} is in {} state and can not be updated.",
                    s.id, s.status
                )));
            }
            *s = next;
            self.inner.persist(s);
        }
        self.inner.set_status(&id, status, Some("User Initiated"));
        deploy::spawn(self.inner.clone(), id.clone(), action);
        Ok(id)
    }

    /// `UpdateStack`: checks the new template and parameters, then updates in the
    /// background; the stack's id.
    pub async fn update_stack(&self, acting: &Acting, input: StackInput) -> Result<String, CfnError> {
        let current = self.stack(acting, &input.name)?;
        Self::check_updatable(&current)?;
        let mut next = self.next_state(acting, &current, &input).await?;
        Self::check_expansion(&next.body, &input.capabilities)?;
        // A template with macros may expand differently each time: it is always an update.
        let expanded = template::parse(&next.body).and_then(|t| template::transforms(&t)).is_ok_and(|t| !t.is_empty());
        if Self::unchanged(&current, &next) && !expanded {
            return Err(CfnError::Validation("No updates are to be performed.".into()));
        }
        next.change_set = None;
        next.change_sets.clear();
        let id = self.begin(next, &current.status, "UPDATE_IN_PROGRESS", Action::Update)?;
        self.until_settled(&id).await;
        Ok(id)
    }

    /// `CreateChangeSet`: the change set's id and its stack's. A `CREATE` change set makes
    /// the stack, in `REVIEW_IN_PROGRESS`, if it does not exist.
    pub async fn create_change_set(
        &self,
        acting: &Acting,
        input: StackInput,
        name: &str,
        kind: &str,
        description: Option<String>,
    ) -> Result<(String, String), CfnError> {
        let existing = self.find(acting, &input.name);
        let current = match (kind, existing) {
            ("CREATE", Some(s)) if s.status != "REVIEW_IN_PROGRESS" => {
                return Err(CfnError::Validation(format!(
                    "Stack [{}] already exists and cannot be created again with the changeSet [{name}].",
                    if input.name.starts_with("arn:") { &s.id } else { &s.name }
                )))
            }
            ("CREATE", Some(s)) => s,
            ("CREATE", None) => {
                if input.name.starts_with("arn:") {
                    return Err(CfnError::Validation(format!("Stack [{}] does not exist", input.name)));
                }
                let id = stack_arn(acting, &input.name);
                Stack {
                    id,
                    name: input.name.clone(),
                    account: acting.account.clone(),
                    region: acting.region.clone(),
                    status: "REVIEW_IN_PROGRESS".into(),
                    reason: Some("User Initiated".into()),
                    processed: serde_json::json!({}),
                    created: model::clock::now_ms(),
                    principal: acting.principal.clone(),
                    host: acting.host.clone(),
                    ..Stack::default()
                }
            }
            (_, Some(s)) if s.status != "REVIEW_IN_PROGRESS" => s,
            (_, _) => return Err(CfnError::Validation(format!("Stack [{}] does not exist", input.name))),
        };
        if current.change_sets.iter().any(|c| c.name == name && !c.execution.starts_with("EXECUTE")) {
            return Err(CfnError::AlreadyExists(format!("ChangeSet [{name}] already exists")));
        }
        if input.source.is_none() && kind == "CREATE" {
            return Err(CfnError::Validation("Either Template URL or Template Body must be specified.".into()));
        }
        let next = self.next_state(acting, &current, &input).await?;
        let exports = self.inner.exports_for(&acting.account, &acting.region);
        let changes = changes::changes(&current, &next, &|n| exports.get(n).cloned());
        let outputs_same = Template::read(&current.processed).map(|t| t.outputs).ok()
            == Template::read(&next.processed).map(|t| t.outputs).ok();
        let quiet = outputs_same && next.tags == current.tags && next.notification_arns == current.notification_arns;
        let (status, reason, execution) = if kind != "CREATE" && changes.is_empty() && quiet {
            (
                "FAILED",
                Some("The submitted information didn't contain changes. Submit different information to create a change set.".to_owned()),
                "UNAVAILABLE",
            )
        } else {
            ("CREATE_COMPLETE", None, "AVAILABLE")
        };
        let cs = stack::ChangeSet {
            id: format!(
                "arn:aws:cloudformation:{}:{}:changeSet/{name}/{}",
                acting.region,
                acting.account,
                uuid::Uuid::new_v4()
            ),
            name: name.to_owned(),
            kind: if kind == "CREATE" { "CREATE".into() } else { "UPDATE".into() },
            description,
            body: next.body.clone(),
            processed: next.processed.clone(),
            template_description: next.description.clone(),
            parameters: next.parameters.clone(),
            tags: next.tags.clone(),
            capabilities: next.capabilities.clone(),
            notification_arns: next.notification_arns.clone(),
            role_arn: next.role_arn.clone(),
            created: model::clock::now_ms(),
            status: status.into(),
            reason,
            execution: execution.into(),
            changes,
            disable_rollback: input.disable_rollback,
        };
        let ids = (cs.id.clone(), current.id.clone());
        let fresh = !self.inner.stacks.lock().contains_key(&current.id);
        if fresh {
            let mut stack = current;
            stack.change_sets.push(cs);
            {
                let mut stacks = self.inner.stacks.lock();
                self.inner.persist(&stack);
                stacks.insert(stack.id.clone(), stack);
            }
            self.inner.set_status(&ids.1, "REVIEW_IN_PROGRESS", Some("User Initiated"));
        } else {
            self.inner.update(&ids.1, |s| s.change_sets.push(cs));
        }
        Ok(ids)
    }

    /// A change set, by ARN or by name within a stack; with its stack.
    pub fn change_set(
        &self,
        acting: &Acting,
        name: &str,
        stack: Option<&str>,
    ) -> Result<(Stack, stack::ChangeSet), CfnError> {
        let missing = || CfnError::ChangeSetNotFound(format!("ChangeSet [{name}] does not exist"));
        let s = if name.starts_with("arn:") {
            let stacks = self.inner.stacks.lock();
            stacks
                .values()
                .filter(|s| s.account == acting.account && s.region == acting.region)
                .find(|s| s.change_sets.iter().any(|c| c.id == name))
                .cloned()
                .ok_or_else(missing)?
        } else {
            let Some(stack) = stack else {
                return Err(CfnError::Validation(
                    "StackName must be specified if ChangeSetName is not specified as an ARN.".into(),
                ));
            };
            self.find(acting, stack).ok_or_else(|| CfnError::Validation(format!("Stack [{stack}] does not exist")))?
        };
        let cs = s.change_sets.iter().find(|c| c.id == name || c.name == name).cloned().ok_or_else(missing)?;
        Ok((s, cs))
    }

    /// `ListChangeSets`.
    pub fn change_sets(&self, acting: &Acting, stack: &str) -> Result<(Stack, Vec<stack::ChangeSet>), CfnError> {
        let s =
            self.find(acting, stack).ok_or_else(|| CfnError::Validation(format!("Stack [{stack}] does not exist")))?;
        let sets = s.change_sets.clone();
        Ok((s, sets))
    }

    /// `DeleteChangeSet`.
    pub fn delete_change_set(&self, acting: &Acting, name: &str, stack: Option<&str>) -> Result<(), CfnError> {
        let (s, cs) = self.change_set(acting, name, stack)?;
        if cs.execution == "EXECUTE_IN_PROGRESS" {
            return Err(CfnError::InvalidChangeSetStatus(format!(
                "Cannot delete ChangeSet in status {}",
                cs.execution
            )));
        }
        self.inner.update(&s.id, |s| s.change_sets.retain(|c| c.id != cs.id));
        Ok(())
    }

    /// `ExecuteChangeSet`: creates or updates the stack as the change set says.
    pub async fn execute_change_set(
        &self,
        acting: &Acting,
        name: &str,
        stack: Option<&str>,
        disable_rollback: Option<bool>,
    ) -> Result<(), CfnError> {
        let (current, cs) = self.change_set(acting, name, stack)?;
        if cs.status != "CREATE_COMPLETE" || cs.execution != "AVAILABLE" {
            return Err(CfnError::InvalidChangeSetStatus(format!(
                "ChangeSet [{}] cannot be executed in its current status of [{}]",
                cs.id, cs.status
            )));
        }
        let mut next = current.clone();
        next.body = cs.body.clone();
        next.processed = cs.processed.clone();
        next.description = cs.template_description.clone();
        next.parameters = cs.parameters.clone();
        next.tags = cs.tags.clone();
        next.capabilities = cs.capabilities.clone();
        next.notification_arns = cs.notification_arns.clone();
        if cs.role_arn.is_some() {
            next.role_arn = cs.role_arn.clone();
        }
        next.disable_rollback = disable_rollback.unwrap_or(cs.disable_rollback);
        next.principal = acting.principal.clone();
        next.host = acting.host.clone();
        next.change_set = Some(cs.id.clone());
        next.change_sets = vec![stack::ChangeSet { execution: "EXECUTE_IN_PROGRESS".into(), ..cs.clone() }];
        // A change set's execution is an update, even one that creates the stack.
        next.updated = Some(model::clock::now_ms());
        if current.status == "REVIEW_IN_PROGRESS" {
            next.created = model::clock::now_ms();
            self.begin(next, "REVIEW_IN_PROGRESS", "CREATE_IN_PROGRESS", Action::Create)?;
        } else {
            Self::check_updatable(&current)?;
            next.previous = Some(Box::new(current.previous_state()));
            let from = current.status.clone();
            self.begin(next, &from, "UPDATE_IN_PROGRESS", Action::Update)?;
        }
        self.until_settled(&current.id).await;
        Ok(())
    }

    /// `DeleteStack`: deletes in the background (a stack that does not exist is deleted).
    pub async fn delete_stack(&self, acting: &Acting, name: &str, retain: Vec<String>) -> Result<(), CfnError> {
        let Some(s) = self.find(acting, name) else { return Ok(()) };
        if s.status == "DELETE_COMPLETE" || s.status == "DELETE_IN_PROGRESS" {
            return Ok(());
        }
        if s.status == "REVIEW_IN_PROGRESS" {
            self.inner.update(&s.id, |s| {
                s.change_sets.clear();
                s.deleted = Some(model::clock::now_ms());
            });
            self.inner.set_status(&s.id, "DELETE_COMPLETE", None);
            return Ok(());
        }
        if s.termination_protection {
            return Err(CfnError::Validation(format!(
                "Stack [{}] cannot be deleted while TerminationProtection is enabled",
                s.name
            )));
        }
        if !stack::settled(&s.status) {
            return Err(CfnError::Validation(format!(
                "Stack [{}] cannot be deleted while in status {}",
                s.name, s.status
            )));
        }
        if !retain.is_empty() {
            if s.status != "DELETE_FAILED" {
                return Err(CfnError::Validation(format!(
                    "Invalid operation on stack [{}]. RetainResources can only be specified when the stack is in the DELETE_FAILED state",
                    s.id
                )));
            }
            self.inner.retain.lock().insert(s.id.clone(), retain);
        }
        // An export another stack imports keeps its stack.
        for o in s.outputs.iter().filter(|o| o.export.is_some()) {
            let name = o.export.clone().unwrap_or_default();
            if let Some(user) = self.imports(acting, &name).into_iter().next() {
                self.inner.set_status(&s.id, "DELETE_IN_PROGRESS", Some("User Initiated"));
                self.inner.set_status(
                    &s.id,
                    "DELETE_FAILED",
                    Some(&format!("Export {name} cannot be deleted as it is in use by {user}")),
                );
                return Ok(());
            }
        }
        self.inner.set_status(&s.id, "DELETE_IN_PROGRESS", Some("User Initiated"));
        deploy::spawn(self.inner.clone(), s.id.clone(), Action::Delete);
        self.until_settled(&s.id).await;
        Ok(())
    }

    /// `DescribeStacks`: one stack, or every live stack of the account and region, newest first.
    pub fn describe_stacks(&self, acting: &Acting, name: Option<&str>) -> Result<Vec<Stack>, CfnError> {
        match name {
            Some(name) => Ok(vec![self.stack(acting, name)?]),
            None => {
                let mut all: Vec<Stack> = self
                    .inner
                    .stacks
                    .lock()
                    .values()
                    .filter(|s| {
                        s.account == acting.account && s.region == acting.region && s.status != "DELETE_COMPLETE"
                    })
                    .cloned()
                    .collect();
                all.sort_by_key(|s| std::cmp::Reverse(s.created));
                Ok(all)
            }
        }
    }

    /// `ListStacks`: every stack of the account and region (deleted ones too), newest first,
    /// of the statuses asked for.
    pub fn list_stacks(&self, acting: &Acting, statuses: &[String]) -> Vec<Stack> {
        let mut all: Vec<Stack> = self
            .inner
            .stacks
            .lock()
            .values()
            .filter(|s| s.account == acting.account && s.region == acting.region)
            .filter(|s| statuses.is_empty() || statuses.contains(&s.status))
            .filter(|s| s.status != "REVIEW_IN_PROGRESS" || statuses.contains(&s.status))
            .cloned()
            .collect();
        all.sort_by_key(|s| std::cmp::Reverse(s.created));
        all
    }

    /// `DescribeStackEvents`: newest first.
    pub fn stack_events(&self, acting: &Acting, name: &str) -> Result<(Stack, Vec<Event>), CfnError> {
        let s =
            self.find(acting, name).ok_or_else(|| CfnError::Validation(format!("Stack [{name}] does not exist")))?;
        let docs = self
            .inner
            .store
            .documents(&format!("cfn-events:{}", s.id))
            .map_err(|e| CfnError::Internal(e.to_string()))?;
        let mut events: Vec<Event> = docs
            .iter()
            .filter_map(|d| serde_json::from_str::<Value>(&d.doc).ok())
            .map(|v| Event::from_doc(&v))
            .collect();
        events.reverse();
        Ok((s, events))
    }

    /// The stack a physical resource id belongs to (`DescribeStackResources` by
    /// `PhysicalResourceId`).
    pub fn stack_of_physical(&self, acting: &Acting, physical: &str) -> Result<Stack, CfnError> {
        self.inner
            .stacks
            .lock()
            .values()
            .filter(|s| s.account == acting.account && s.region == acting.region && s.status != "DELETE_COMPLETE")
            .find(|s| s.resources.values().any(|r| r.physical.as_deref() == Some(physical)))
            .cloned()
            .ok_or_else(|| CfnError::Validation(format!("Stack for {physical} does not exist")))
    }

    /// `ListExports`: name, value, exporting stack's id.
    pub fn exports(&self, acting: &Acting) -> Vec<(String, String, String)> {
        let stacks = self.inner.stacks.lock();
        let mut out: Vec<(String, String, String)> = stacks
            .values()
            .filter(|s| s.account == acting.account && s.region == acting.region && s.status != "DELETE_COMPLETE")
            .flat_map(|s| s.outputs.iter().filter_map(|o| Some((o.export.clone()?, o.value.clone(), s.id.clone()))))
            .collect();
        out.sort();
        out
    }

    /// `ListImports`: the names of the stacks that import an export.
    pub fn imports(&self, acting: &Acting, export: &str) -> Vec<String> {
        let stacks: Vec<Stack> = self
            .inner
            .stacks
            .lock()
            .values()
            .filter(|s| s.account == acting.account && s.region == acting.region && s.status != "DELETE_COMPLETE")
            .cloned()
            .collect();
        let exports = self.inner.exports_for(&acting.account, &acting.region);
        let mut out = Vec::new();
        for s in &stacks {
            let Ok(ev) = Evaluated::of(s) else { continue };
            let mut found = HashSet::new();
            imported(&s.processed, &mut |arg| {
                if let Ok(Some(Value::String(name))) = deploy::resolve(s, &ev, &|n| exports.get(n).cloned(), arg) {
                    found.insert(name);
                }
            });
            if found.contains(export) {
                out.push(s.name.clone());
            }
        }
        out.sort();
        out
    }

    /// `GetTemplate`: the text as given (`Original`) or after its transforms (`Processed`).
    pub fn template(&self, acting: &Acting, name: &str, processed: bool) -> Result<String, CfnError> {
        let s = self.stack(acting, name)?;
        if s.status == "REVIEW_IN_PROGRESS" {
            if let Some(cs) = s.change_sets.last() {
                return Ok(if processed { template::processed_text(&cs.body, &cs.processed) } else { cs.body.clone() });
            }
        }
        if processed {
            Ok(template::processed_text(&s.body, &s.processed))
        } else {
            Ok(s.body)
        }
    }

    /// `SetStackPolicy`.
    pub fn set_policy(&self, acting: &Acting, name: &str, policy: Option<String>) -> Result<(), CfnError> {
        if let Some(p) = &policy {
            let ok = serde_json::from_str::<Value>(p).ok().is_some_and(|v| v.get("Statement").is_some());
            if !ok {
                return Err(CfnError::Validation("Error validating stack policy: Invalid stack policy".into()));
            }
        }
        let s = self.stack(acting, name)?;
        self.inner.update(&s.id, |s| s.policy = policy);
        Ok(())
    }

    /// Cloud Control's `GetResource`: `{Identifier, Properties}` of a resource of a type.
    pub async fn get_resource(&self, acting: &Acting, kind: &str, id: &str) -> Result<Value, CfnError> {
        control::get(&*self.ops()?, acting, kind, id).await
    }

    /// `UpdateTerminationProtection`; the stack's id.
    pub fn set_termination_protection(&self, acting: &Acting, name: &str, on: bool) -> Result<String, CfnError> {
        let s = self.stack(acting, name)?;
        self.inner.update(&s.id, |s| s.termination_protection = on);
        Ok(s.id)
    }
}

/// A new stack's id.
fn stack_arn(acting: &Acting, name: &str) -> String {
    format!("arn:aws:cloudformation:{}:{}:stack/{name}/{}", acting.region, acting.account, uuid::Uuid::new_v4())
}

/// Calls `f` with the argument of every `Fn::ImportValue` in `v`.
fn imported(v: &Value, f: &mut dyn FnMut(&Value)) {
    match v {
        Value::Object(o) => {
            if o.len() == 1 {
                if let Some(arg) = o.get("Fn::ImportValue") {
                    f(arg);
                    return;
                }
            }
            o.values().for_each(|v| imported(v, f));
        }
        Value::Array(items) => items.iter().for_each(|v| imported(v, f)),
        _ => {}
    }
}

/// Resource types must have a type's shape; attributes read must be the type's.
fn check_types(t: &Template) -> Result<(), CfnError> {
    let bad: Vec<&str> = t.resources.values().map(|r| r.kind.as_str()).filter(|k| !resources::plausible(k)).collect();
    if !bad.is_empty() {
        return Err(CfnError::Validation(format!(
            "Template format error: Unrecognized resource types: [{}]",
            bad.join(", ")
        )));
    }
    let mut read = std::collections::BTreeSet::new();
    for r in t.resources.values() {
        graph::names(&r.properties, &|_| None, &mut read);
    }
    let mut outputs = std::collections::BTreeSet::new();
    for o in t.outputs.values() {
        graph::names(&o.value, &|_| None, &mut outputs);
    }
    for set in [&read, &outputs] {
        for (logical, attribute) in set.iter() {
            let Some(attribute) = attribute.as_deref().filter(|a| !a.is_empty()) else { continue };
            let Some(decl) = t.resources.get(logical) else { continue };
            let Some(kind) = resources::find(&decl.kind) else { continue };
            if !kind.attributes.contains(&attribute) {
                return Err(CfnError::Validation(format!(
                    "Template error: resource {logical} does not support attribute type {attribute} in Fn::GetAtt"
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_urls_name_a_bucket_and_key() {
        let at = |u: &str| s3_location(u);
        assert_eq!(at("https://b.s3.amazonaws.com/a/t.yaml"), Some(("b".into(), "a/t.yaml".into())));
        assert_eq!(at("https://b.s3.eu-west-1.amazonaws.com/t.json"), Some(("b".into(), "t.json".into())));
        assert_eq!(at("https://s3.amazonaws.com/b/dir/t%20x.json"), Some(("b".into(), "dir/t x.json".into())));
        assert_eq!(at("http://localhost:4566/b/t.json"), Some(("b".into(), "t.json".into())));
        assert_eq!(at("http://b.s3.localhost.localstack.cloud:4566/k"), Some(("b".into(), "k".into())));
        assert_eq!(at("ftp://x/y"), None);
        assert_eq!(at("https://s3.amazonaws.com/b"), None);
    }
}
