//! The deployments: a stack's create, update, delete and their rollbacks, each resource
//! started as soon as what it needs is done (independent ones at once). Every step is
//! recorded (resource status, physical id, event) before the next is taken, so a restart
//! resumes a delete or cleanup and rolls back a create or update ([`resume`]).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::Value;
use tokio::task::JoinSet;

use crate::graph::Graph;
use crate::intrinsics::{Pseudo, Resources, Scope};
use crate::operations::Operations;
use crate::resources::{self, Ctx};
use crate::stack::{Output, Previous, Resource, Stack};
use crate::template::{scalar, Template, TemplateError};
use crate::Inner;

/// A stack's template, evaluated as far as it can be before any resource exists.
pub(crate) struct Evaluated {
    pub template: Template,
    pub params: HashMap<String, Value>,
    pub pseudo: Pseudo,
    pub conditions: HashMap<String, bool>,
    pub graph: Graph,
}

impl Evaluated {
    /// Reads a stack's processed template with its parameters.
    pub fn of(stack: &Stack) -> Result<Evaluated, TemplateError> {
        let template = Template::read(&stack.processed)?;
        let params = crate::parameters::values(&template.parameters, &stack.parameters);
        let pseudo = Pseudo {
            account: stack.account.clone(),
            region: stack.region.clone(),
            stack_id: stack.id.clone(),
            stack_name: stack.name.clone(),
            notification_arns: stack.notification_arns.clone(),
        };
        let conditions = crate::intrinsics::conditions(&template.conditions, &params, &pseudo, &template.mappings)?;
        let active = |r: &str| {
            template
                .resources
                .get(r)
                .and_then(|d| d.condition.as_ref())
                .is_none_or(|c| conditions.get(c) == Some(&true))
        };
        let graph = crate::graph::build(&template, &active, &|c| conditions.get(c).copied())?;
        let ev = Evaluated { template, params, pseudo, conditions, graph };
        ev.check_mappings()?;
        Ok(ev)
    }

    /// Every `Fn::FindInMap` that reads no resource is looked up now: a missing key is
    /// the template's error before anything is made, as CloudFormation finds it.
    fn check_mappings(&self) -> Result<(), TemplateError> {
        struct Unmade<'a>(&'a Evaluated);
        impl Resources for Unmade<'_> {
            fn declared(&self, logical: &str) -> bool {
                self.0.active(logical)
            }
            fn reference(&self, _: &str) -> Option<Value> {
                None
            }
            fn attribute(&self, _: &str, _: &str) -> Result<Value, String> {
                Err(String::new())
            }
        }
        let unmade = Unmade(self);
        let scope = Scope {
            parameters: &self.params,
            pseudo: &self.pseudo,
            mappings: &self.template.mappings,
            conditions: &self.conditions,
            resources: &unmade,
            exports: &|_| None,
        };
        let mut lookups = Vec::new();
        for (logical, decl) in &self.template.resources {
            if self.active(logical) {
                crate::intrinsics::find_in_maps(
                    &decl.properties,
                    &|c| self.conditions.get(c).copied(),
                    &mut lookups,
                    0,
                );
            }
        }
        for o in self.template.outputs.values() {
            crate::intrinsics::find_in_maps(&o.value, &|c| self.conditions.get(c).copied(), &mut lookups, 0);
        }
        for lookup in lookups {
            if let Err(e) = scope.resolve(lookup) {
                if e.0.starts_with("Template error: Unable to get mapping") {
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// Whether a resource is made (its condition holds).
    pub fn active(&self, logical: &str) -> bool {
        self.graph.needs.contains_key(logical)
    }
}

/// The stack's resources, as `Ref` and `Fn::GetAtt` read them mid-deployment.
struct View<'a> {
    stack: &'a Stack,
    ev: &'a Evaluated,
}

impl Resources for View<'_> {
    fn declared(&self, logical: &str) -> bool {
        self.ev.active(logical)
    }

    fn reference(&self, logical: &str) -> Option<Value> {
        let r = self.stack.resources.get(logical)?;
        r.physical.clone().map(Value::String)
    }

    fn attribute(&self, logical: &str, attribute: &str) -> Result<Value, String> {
        let r = self.stack.resources.get(logical).ok_or_else(|| format!("Resource {logical} does not exist yet"))?;
        r.attributes.get(attribute).cloned().ok_or_else(|| {
            format!("Template error: resource {logical} does not support attribute type {attribute} in Fn::GetAtt")
        })
    }
}

/// Evaluates an expression against the stack as it is now.
pub(crate) fn resolve(
    stack: &Stack,
    ev: &Evaluated,
    exports: &dyn Fn(&str) -> Option<String>,
    v: &Value,
) -> Result<Option<Value>, TemplateError> {
    let view = View { stack, ev };
    let scope = Scope {
        parameters: &ev.params,
        pseudo: &ev.pseudo,
        mappings: &ev.template.mappings,
        conditions: &ev.conditions,
        resources: &view,
        exports,
    };
    scope.resolve(v)
}

/// What starts a deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// Creates the stack's resources.
    Create,
    /// Updates the stack to its new template (its old one kept in `previous`).
    Update,
    /// Deletes the stack.
    Delete,
    /// Goes on after a restart, from the stack's status.
    Resume,
}

/// Starts a deployment in the background.
pub(crate) fn spawn(inner: Arc<Inner>, stack_id: String, action: Action) {
    tokio::spawn(async move {
        run(&inner, &stack_id, action).await;
    });
}

async fn run(inner: &Arc<Inner>, id: &str, action: Action) {
    let Some(stack) = inner.snapshot(id) else { return };
    let action = match action {
        Action::Resume => match stack.status.as_str() {
            "CREATE_IN_PROGRESS" => {
                inner.set_status(
                    id,
                    "ROLLBACK_IN_PROGRESS",
                    Some("Lamina restarted during the deployment. Rollback requested by user."),
                );
                return rollback_create(inner, id).await;
            }
            "ROLLBACK_IN_PROGRESS" => return rollback_create(inner, id).await,
            "DELETE_IN_PROGRESS" => Action::Delete,
            "UPDATE_IN_PROGRESS" => {
                inner.set_status(
                    id,
                    "UPDATE_ROLLBACK_IN_PROGRESS",
                    Some("Lamina restarted during the update. Rollback requested by user."),
                );
                return rollback_update(inner, id).await;
            }
            "UPDATE_ROLLBACK_IN_PROGRESS" | "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS" => {
                return rollback_update(inner, id).await
            }
            "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS" => return cleanup(inner, id).await,
            _ => return,
        },
        other => other,
    };
    match action {
        Action::Create => create(inner, id).await,
        Action::Update => update(inner, id).await,
        Action::Delete => delete(inner, id).await,
        Action::Resume => {}
    }
}

fn ops(inner: &Inner) -> Option<Arc<dyn Operations>> {
    inner.ops.get().cloned()
}

/// Creates or updates every active resource, in dependency order; the names that failed.
async fn converge(inner: &Arc<Inner>, id: &str, ev: &Arc<Evaluated>) -> Vec<String> {
    let mut done: HashSet<String> = HashSet::new();
    let mut started: HashSet<String> = HashSet::new();
    let mut failed: Vec<String> = Vec::new();
    let mut running = JoinSet::new();
    loop {
        if failed.is_empty() {
            for logical in &ev.graph.order {
                if started.contains(logical) || !ev.graph.needs[logical].iter().all(|n| done.contains(n)) {
                    continue;
                }
                started.insert(logical.clone());
                let (inner, ev, id, logical) = (inner.clone(), ev.clone(), id.to_owned(), logical.clone());
                running.spawn(async move {
                    let ok = converge_one(&inner, &id, &ev, &logical).await;
                    (logical, ok)
                });
            }
        }
        match running.join_next().await {
            Some(Ok((logical, true))) => {
                done.insert(logical);
            }
            Some(Ok((logical, false))) => failed.push(logical),
            Some(Err(e)) => {
                tracing::error!("a resource's deployment stopped: {e}");
                failed.push("Unknown".into());
            }
            None => break,
        }
    }
    failed
}

/// Records a resource's failure: its status, its reason and the event.
fn fail_resource(inner: &Inner, id: &str, logical: &str, kind: &str, status: &str, reason: &str) {
    inner.update(id, |s| {
        let r = s.resources.entry(logical.to_owned()).or_insert_with(|| Resource::new(logical, kind));
        r.status = status.to_owned();
        r.reason = Some(reason.to_owned());
        r.updated = model::clock::now_ms();
    });
    inner.resource_event(id, logical, status, Some(reason));
}

/// Makes one resource, or brings it to its new properties; whether it succeeded.
async fn converge_one(inner: &Arc<Inner>, id: &str, ev: &Evaluated, logical: &str) -> bool {
    let decl = &ev.template.resources[logical];
    let Some(stack) = inner.snapshot(id) else { return false };
    let old = stack.resources.get(logical).filter(|r| r.exists() && r.kind == decl.kind).cloned();
    let (in_progress, failed_status) =
        if old.is_some() { ("UPDATE_IN_PROGRESS", "UPDATE_FAILED") } else { ("CREATE_IN_PROGRESS", "CREATE_FAILED") };
    let exports = inner.exports_for(&stack.account, &stack.region);
    let resolved = resolve(&stack, ev, &|n| exports.get(n).cloned(), &decl.properties);
    let props = match resolved {
        Ok(p) => p.unwrap_or_else(|| Value::Object(Default::default())),
        Err(e) => {
            fail_resource(inner, id, logical, &decl.kind, failed_status, &e.0);
            return false;
        }
    };
    let Some(ops) = ops(inner) else {
        fail_resource(inner, id, logical, &decl.kind, failed_status, "Lamina's services are not connected");
        return false;
    };
    let acting = inner.acting(&stack);
    // Dynamic references are read for the service alone: what the stack records (and its
    // events show) keeps the reference, never the value (a SecureString's above all).
    let mut live = props.clone();
    if let Err(e) = crate::dynamic::resolve(&*ops, &acting, &mut live).await {
        fail_resource(inner, id, logical, &decl.kind, failed_status, &e);
        return false;
    }
    let Some(kind) = resources::find(&decl.kind) else {
        let reason = format!("Lamina does not serve resources of type {}; the stack cannot create them", decl.kind);
        fail_resource(inner, id, logical, &decl.kind, failed_status, &reason);
        return false;
    };
    resources::add_stack_tags(kind, &mut live, &stack, logical);
    let ctx = Ctx { ops: &*ops, acting: &acting, stack_name: &stack.name, logical };
    let needs: Vec<String> = ev.graph.needs[logical].iter().cloned().collect();
    let policy = |v: &Option<Value>| v.as_ref().and_then(scalar).unwrap_or_else(|| "Delete".into());
    let (deletion, replace) = (policy(&decl.deletion_policy), policy(&decl.update_replace_policy));
    let settle = |r: &mut Resource| {
        r.needs = needs.clone();
        r.deletion_policy = deletion.clone();
        r.replace_policy = replace.clone();
        r.metadata = decl.metadata.clone();
    };
    if let Some(old) = old {
        if old.properties == props && old.status != "CREATE_IN_PROGRESS" {
            // Unchanged: only what is recorded of it moves on.
            inner.update(id, |s| {
                if let Some(r) = s.resources.get_mut(logical) {
                    settle(r);
                }
            });
            return true;
        }
        if !resources::replaces(kind, &old.properties, &props) {
            inner.update(id, |s| {
                if let Some(r) = s.resources.get_mut(logical) {
                    r.status = in_progress.into();
                    r.reason = None;
                }
            });
            inner.resource_event(id, logical, in_progress, None);
            return match resources::update(kind, &ctx, &old, &live).await {
                Ok(made) => {
                    inner.update(id, |s| {
                        if let Some(r) = s.resources.get_mut(logical) {
                            r.physical = Some(made.physical);
                            r.attributes = made.attributes;
                            r.properties = props;
                            r.status = "UPDATE_COMPLETE".into();
                            r.reason = None;
                            r.updated = model::clock::now_ms();
                            settle(r);
                        }
                    });
                    inner.resource_event(id, logical, "UPDATE_COMPLETE", None);
                    true
                }
                Err(e) => {
                    fail_resource(inner, id, logical, &decl.kind, "UPDATE_FAILED", &e.reason());
                    false
                }
            };
        }
        // Replacement: a custom name cannot be taken twice.
        if let resources::Naming::Generated { property, .. } = kind.naming {
            if props.get(property).is_some() && props.get(property) == old.properties.get(property) {
                let reason = format!("CloudFormation cannot update a stack when a custom-named resource requires replacing. Rename {} and update the stack again.", props[property].as_str().unwrap_or_default());
                fail_resource(inner, id, logical, &decl.kind, "UPDATE_FAILED", &reason);
                return false;
            }
        }
        inner.resource_event(
            id,
            logical,
            "UPDATE_IN_PROGRESS",
            Some("Requested update requires the creation of a new physical resource; hence creating one."),
        );
        return make(inner, id, &ctx, kind, logical, (props, live), true, &settle).await;
    }
    inner.update(id, |s| {
        let r = s.resources.entry(logical.to_owned()).or_insert_with(|| Resource::new(logical, &decl.kind));
        r.kind = decl.kind.clone();
        r.needs = needs.clone();
        r.status = "CREATE_IN_PROGRESS".into();
        r.reason = None;
        r.updated = model::clock::now_ms();
    });
    inner.resource_event(id, logical, "CREATE_IN_PROGRESS", None);
    make(inner, id, &ctx, kind, logical, (props, live), false, &settle).await
}

/// Creates a resource (new, or the replacement of one), recording its planned id first.
/// `(declared, live)`: the properties recorded, and those the service is given (dynamic
/// references read).
#[allow(clippy::too_many_arguments)]
async fn make(
    inner: &Arc<Inner>,
    id: &str,
    ctx: &Ctx<'_>,
    kind: &'static resources::Kind,
    logical: &str,
    (declared, live): (Value, Value),
    replacing: bool,
    settle: &(dyn Fn(&mut Resource) + Sync),
) -> bool {
    let (progress, complete, failed) = if replacing {
        ("UPDATE_IN_PROGRESS", "UPDATE_COMPLETE", "UPDATE_FAILED")
    } else {
        ("CREATE_IN_PROGRESS", "CREATE_COMPLETE", "CREATE_FAILED")
    };
    // What is recorded is what the template says: a name made up here is not a property
    // the next update could be told to change.
    let mut props = live;
    let planned = resources::prepare(kind, ctx, &mut props);
    inner.update(id, |s| {
        if let Some(r) = s.resources.get_mut(logical) {
            if !replacing {
                r.physical = planned.clone();
            }
            r.status = progress.into();
        }
    });
    match resources::create(kind, ctx, &props).await {
        Ok(made) => {
            inner.update(id, |s| {
                if let Some(r) = s.resources.get_mut(logical) {
                    r.physical = Some(made.physical);
                    r.attributes = made.attributes;
                    r.properties = declared;
                    r.status = complete.into();
                    r.reason = None;
                    r.updated = model::clock::now_ms();
                    settle(r);
                }
            });
            inner.resource_event(id, logical, progress, Some("Resource creation Initiated"));
            inner.resource_event(id, logical, complete, None);
            true
        }
        Err(e) => {
            fail_resource(inner, id, logical, kind.name, failed, &e.reason());
            false
        }
    }
}

/// The stack's outputs, evaluated; an error fails the deployment.
fn outputs(inner: &Inner, id: &str, ev: &Evaluated) -> Result<Vec<Output>, String> {
    let stack = inner.snapshot(id).ok_or("the stack is gone")?;
    let exports = inner.exports_for(&stack.account, &stack.region);
    let mut out = Vec::new();
    for (key, o) in &ev.template.outputs {
        if o.condition.as_ref().is_some_and(|c| ev.conditions.get(c) != Some(&true)) {
            continue;
        }
        let text = |v: &Value| -> Result<String, String> {
            let v = resolve(&stack, ev, &|n| exports.get(n).cloned(), v).map_err(|e| e.0)?.unwrap_or_default();
            Ok(match v {
                Value::Array(items) => items.iter().filter_map(scalar).collect::<Vec<_>>().join(","),
                v => scalar(&v).unwrap_or_else(|| v.to_string()),
            })
        };
        let export = o.export.as_ref().map(&text).transpose()?;
        if let Some(name) = &export {
            if let Some(owner) = inner.export_owner(&stack.account, &stack.region, name).filter(|s| s != id) {
                return Err(format!("Export with name {name} is already exported by stack {owner}"));
            }
        }
        out.push(Output {
            key: key.clone(),
            value: text(&o.value)?,
            description: o.description.as_ref().map(&text).transpose()?,
            export,
        });
    }
    Ok(out)
}

async fn create(inner: &Arc<Inner>, id: &str) {
    let Some(stack) = inner.snapshot(id) else { return };
    let ev = match Evaluated::of(&stack) {
        Ok(ev) => Arc::new(ev),
        Err(e) => {
            inner.set_status(id, "ROLLBACK_IN_PROGRESS", Some(&format!("{}. Rollback requested by user.", e.0)));
            return rollback_create(inner, id).await;
        }
    };
    let failed = converge(inner, id, &ev).await;
    let reason = if failed.is_empty() {
        match outputs(inner, id, &ev) {
            Ok(o) => {
                inner.update(id, |s| s.outputs = o);
                inner.set_status(id, "CREATE_COMPLETE", None);
                return;
            }
            Err(e) => format!("{e}. Rollback requested by user."),
        }
    } else {
        format!("The following resource(s) failed to create: [{}]. ", failed.join(", "))
    };
    let disable = stack.disable_rollback;
    if disable {
        inner.set_status(id, "CREATE_FAILED", Some(&reason));
        return;
    }
    inner.set_status(
        id,
        "ROLLBACK_IN_PROGRESS",
        Some(&format!("{}{}", reason, if reason.ends_with(". ") { "Rollback requested by user." } else { "" })),
    );
    rollback_create(inner, id).await;
}

/// Deletes `victims` (resource records), each after those that need it; the names that
/// could not be deleted. `skip` says which are kept (`DeletionPolicy: Retain`).
async fn remove(
    inner: &Arc<Inner>,
    id: &str,
    victims: Vec<Resource>,
    retain: &(dyn Fn(&Resource) -> bool + Sync),
    keep_records: bool,
) -> Vec<String> {
    let Some(stack) = inner.snapshot(id) else { return Vec::new() };
    let Some(ops) = ops(inner) else { return victims.iter().map(|r| r.logical.clone()).collect() };
    let acting = inner.acting(&stack);
    let names: HashSet<String> = victims.iter().map(|r| r.logical.clone()).collect();
    let mut pending: Vec<Resource> = victims;
    let mut gone: HashSet<String> = HashSet::new();
    let mut failed = Vec::new();
    while !pending.is_empty() {
        // Ready: no pending resource needs it.
        let (ready, rest): (Vec<Resource>, Vec<Resource>) = pending
            .into_iter()
            .partition(|r| !names.iter().any(|n| !gone.contains(n) && n != &r.logical && needs_of(&stack, n, r)));
        pending = rest;
        if ready.is_empty() {
            // Only a circle is left (it cannot be, from a checked template): delete in order.
            let next = pending.remove(0);
            gone.insert(next.logical.clone());
            continue;
        }
        let mut running = JoinSet::new();
        for r in ready {
            let (inner, ops, acting, id, stack_name) =
                (inner.clone(), ops.clone(), acting.clone(), id.to_owned(), stack.name.clone());
            let keep = retain(&r);
            running.spawn(async move {
                if keep {
                    inner.resource_event_for(&id, &r, "DELETE_SKIPPED", None);
                    if !keep_records {
                        inner.update(&id, |s| {
                            if let Some(x) = s.resources.get_mut(&r.logical) {
                                x.status = "DELETE_SKIPPED".into();
                            }
                        });
                    }
                    return (r.logical, true);
                }
                if r.physical.is_none() {
                    return (r.logical, true);
                }
                inner.resource_event_for(&id, &r, "DELETE_IN_PROGRESS", None);
                let result = match resources::find(&r.kind) {
                    Some(kind) => {
                        let ctx = Ctx { ops: &*ops, acting: &acting, stack_name: &stack_name, logical: &r.logical };
                        resources::delete(kind, &ctx, &r).await
                    }
                    None => Ok(()),
                };
                match result {
                    Ok(()) => {
                        if !keep_records {
                            inner.update(&id, |s| {
                                if let Some(x) = s.resources.get_mut(&r.logical) {
                                    if x.physical == r.physical {
                                        x.status = "DELETE_COMPLETE".into();
                                        x.reason = None;
                                    }
                                }
                            });
                        }
                        inner.resource_event_for(&id, &r, "DELETE_COMPLETE", None);
                        (r.logical, true)
                    }
                    Err(e) => {
                        let reason = e.reason();
                        if !keep_records {
                            inner.update(&id, |s| {
                                if let Some(x) = s.resources.get_mut(&r.logical) {
                                    x.status = "DELETE_FAILED".into();
                                    x.reason = Some(reason.clone());
                                }
                            });
                        }
                        inner.resource_event_for(&id, &r, "DELETE_FAILED", Some(&reason));
                        (r.logical, false)
                    }
                }
            });
        }
        while let Some(done) = running.join_next().await {
            match done {
                Ok((logical, ok)) => {
                    if !ok {
                        failed.push(logical.clone());
                    }
                    gone.insert(logical);
                }
                Err(e) => tracing::error!("a resource's deletion stopped: {e}"),
            }
        }
    }
    failed
}

/// Whether resource `n` (still standing) needs `r`.
fn needs_of(stack: &Stack, n: &str, r: &Resource) -> bool {
    stack.resources.get(n).is_some_and(|x| x.needs.contains(&r.logical))
        || stack.previous.as_ref().and_then(|p| p.resources.get(n)).is_some_and(|x| x.needs.contains(&r.logical))
}

async fn rollback_create(inner: &Arc<Inner>, id: &str) {
    let Some(stack) = inner.snapshot(id) else { return };
    let victims: Vec<Resource> = stack.resources.values().filter(|r| r.exists()).cloned().collect();
    let failed = remove(inner, id, victims, &|r| r.deletion_policy == "Retain", false).await;
    inner.update(id, |s| s.outputs.clear());
    if failed.is_empty() {
        // What a failed create made is gone: AWS dates that, and names no change set.
        inner.update(id, |s| {
            s.deleted = Some(model::clock::now_ms());
            s.change_set = None;
        });
        inner.set_status(id, "ROLLBACK_COMPLETE", None);
    } else {
        inner.set_status(
            id,
            "ROLLBACK_FAILED",
            Some(&format!("The following resource(s) failed to delete: [{}]. ", failed.join(", "))),
        );
    }
}

async fn delete(inner: &Arc<Inner>, id: &str) {
    let Some(stack) = inner.snapshot(id) else { return };
    let victims: Vec<Resource> =
        stack.resources.values().filter(|r| r.exists() || r.status.ends_with("_IN_PROGRESS")).cloned().collect();
    let retained = inner.retained(id);
    let failed = remove(
        inner,
        id,
        victims,
        &|r| matches!(r.deletion_policy.as_str(), "Retain" | "RetainExceptOnCreate") || retained.contains(&r.logical),
        false,
    )
    .await;
    if failed.is_empty() {
        inner.update(id, |s| {
            s.deleted = Some(model::clock::now_ms());
            s.outputs.clear();
        });
        inner.set_status(id, "DELETE_COMPLETE", None);
    } else {
        inner.set_status(
            id,
            "DELETE_FAILED",
            Some(&format!("The following resource(s) failed to delete: [{}]. ", failed.join(", "))),
        );
    }
}

async fn update(inner: &Arc<Inner>, id: &str) {
    let Some(stack) = inner.snapshot(id) else { return };
    let ev = match Evaluated::of(&stack) {
        Ok(ev) => Arc::new(ev),
        Err(e) => {
            inner.set_status(id, "UPDATE_ROLLBACK_IN_PROGRESS", Some(&e.0));
            return rollback_update(inner, id).await;
        }
    };
    let failed = converge(inner, id, &ev).await;
    let reason = if failed.is_empty() {
        match outputs(inner, id, &ev) {
            Ok(o) => {
                inner.update(id, |s| s.outputs = o);
                inner.set_status(id, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", None);
                return cleanup(inner, id).await;
            }
            Err(e) => e,
        }
    } else {
        format!("The following resource(s) failed to update: [{}]. ", failed.join(", "))
    };
    if stack.disable_rollback {
        inner.set_status(id, "UPDATE_FAILED", Some(&reason));
        return;
    }
    inner.set_status(id, "UPDATE_ROLLBACK_IN_PROGRESS", Some(&reason));
    rollback_update(inner, id).await;
}

/// What an update replaced or removed, as of `previous`: deleted once the update holds.
fn superseded(stack: &Stack, kept: &dyn Fn(&str) -> bool) -> Vec<Resource> {
    let Some(p) = &stack.previous else { return Vec::new() };
    p.resources
        .values()
        .filter(|old| old.exists())
        .filter(|old| match stack.resources.get(&old.logical) {
            Some(now) if kept(&old.logical) => now.physical != old.physical || !now.exists() || now.kind != old.kind,
            _ => true,
        })
        .cloned()
        .collect()
}

async fn cleanup(inner: &Arc<Inner>, id: &str) {
    let Some(stack) = inner.snapshot(id) else { return };
    let ev = Evaluated::of(&stack).ok();
    let kept = |logical: &str| ev.as_ref().is_none_or(|ev| ev.active(logical));
    let victims = superseded(&stack, &kept);
    let replaced: HashSet<String> = victims.iter().filter(|r| kept(&r.logical)).map(|r| r.logical.clone()).collect();
    remove(
        inner,
        id,
        victims,
        &|r| {
            if replaced.contains(&r.logical) {
                r.replace_policy == "Retain"
            } else {
                matches!(r.deletion_policy.as_str(), "Retain" | "RetainExceptOnCreate")
            }
        },
        true,
    )
    .await;
    // Resources no longer in the template leave the stack.
    inner.update(id, |s| {
        s.resources.retain(|k, _| kept(k));
        s.previous = None;
    });
    inner.set_status(id, "UPDATE_COMPLETE", None);
}

async fn rollback_update(inner: &Arc<Inner>, id: &str) {
    let Some(stack) = inner.snapshot(id) else { return };
    let Some(previous) = stack.previous.clone() else {
        inner.set_status(id, "UPDATE_ROLLBACK_COMPLETE", None);
        return;
    };
    let Some(ops) = ops(inner) else { return };
    let acting = inner.acting(&stack);
    // Resources updated in place go back to their previous properties, in order.
    let mut failed = Vec::new();
    for old in previous.resources.values().filter(|r| r.exists()) {
        let Some(now) = stack.resources.get(&old.logical) else { continue };
        if now.physical != old.physical || now.properties == old.properties || !now.exists() {
            continue;
        }
        let Some(kind) = resources::find(&old.kind) else { continue };
        inner.resource_event_for(id, now, "UPDATE_IN_PROGRESS", None);
        let ctx = Ctx { ops: &*ops, acting: &acting, stack_name: &stack.name, logical: &old.logical };
        match resources::update(kind, &ctx, now, &old.properties).await {
            Ok(_) => inner.resource_event_for(id, old, "UPDATE_COMPLETE", None),
            Err(e) => {
                inner.resource_event_for(id, old, "UPDATE_FAILED", Some(&e.reason()));
                failed.push(old.logical.clone());
            }
        }
    }
    if !failed.is_empty() {
        inner.set_status(
            id,
            "UPDATE_ROLLBACK_FAILED",
            Some(&format!("The following resource(s) failed to update: [{}]. ", failed.join(", "))),
        );
        return;
    }
    inner.set_status(id, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", None);
    // What the update made (new resources, replacements) is deleted.
    let made: Vec<Resource> = stack
        .resources
        .values()
        .filter(|now| now.physical.is_some())
        .filter(|now| match previous.resources.get(&now.logical) {
            Some(old) => old.physical != now.physical,
            None => true,
        })
        .cloned()
        .collect();
    remove(inner, id, made, &|_| false, true).await;
    inner.update(id, |s| {
        let p = *previous;
        let Previous { body, processed, parameters, outputs, resources, description } = p;
        s.body = body;
        s.processed = processed;
        s.parameters = parameters;
        s.outputs = outputs;
        s.resources = resources;
        s.description = description;
        s.previous = None;
    });
    inner.set_status(id, "UPDATE_ROLLBACK_COMPLETE", None);
}
