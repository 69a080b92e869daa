//! Deployments (snapshots of the resources, authorizers and gateway responses) and the
//! stages that serve them.

use super::*;

impl GatewayService {
    /// CreateDeployment: snapshots the resource tree; with a stage name, creates that
    /// stage or points it at the new deployment.
    pub fn create_deployment(
        &self,
        caller: &Caller,
        api: &str,
        input: DeploymentInput,
    ) -> Result<Deployment, GatewayError> {
        self.change_rest(caller, api, |api| {
            let methods: Vec<&Method> = api.resources.values().flat_map(|r| r.methods.values()).collect();
            if methods.is_empty() {
                return Err(GatewayError::BadRequest("The REST API doesn't contain any methods".into()));
            }
            if methods.iter().any(|m| m.integration.is_none()) {
                return Err(GatewayError::BadRequest("No integration defined for method".into()));
            }
            let now = now_secs();
            let d = Deployment {
                id: new_id(6),
                description: input.description,
                created: now,
                resources: Arc::new(api.resources.values().cloned().collect()),
                authorizers: Arc::new(api.authorizers.clone()),
                gateway_responses: Arc::new(api.gateway_responses.clone()),
            };
            api.deployments.insert(d.id.clone(), d.clone());
            if let Some(name) = input.stage_name.filter(|n| !n.is_empty()) {
                check_stage_name(&name)?;
                let stage = api.stages.entry(name.clone()).or_insert_with(|| Stage {
                    name,
                    created: now,
                    description: input.stage_description,
                    ..Default::default()
                });
                stage.deployment_id = d.id.clone();
                stage.variables.extend(input.variables);
                stage.last_updated = now;
            }
            Ok(d)
        })
    }

    /// GetDeployments.
    pub fn deployments(
        &self,
        caller: &Caller,
        api: &str,
        position: Option<&str>,
        limit: Option<i64>,
    ) -> Result<Page<Deployment>, GatewayError> {
        self.read_rest(caller, api, |api| {
            let mut all: Vec<Deployment> = api.deployments.values().cloned().collect();
            all.sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
            page(all, position, limit)
        })
    }

    /// GetDeployment.
    pub fn deployment(&self, caller: &Caller, api: &str, id: &str) -> Result<Deployment, GatewayError> {
        self.read_rest(caller, api, |api| {
            api.deployments
                .get(id)
                .cloned()
                .ok_or_else(|| GatewayError::NotFound("Invalid Deployment identifier specified".into()))
        })
    }

    /// UpdateDeployment: its description (a deployment's resources never change).
    pub fn update_deployment(
        &self,
        caller: &Caller,
        api: &str,
        id: &str,
        patch: &[PatchOperation],
    ) -> Result<Deployment, GatewayError> {
        self.change_rest(caller, api, |api| {
            let d = api
                .deployments
                .get_mut(id)
                .ok_or_else(|| GatewayError::NotFound("Invalid Deployment identifier specified".into()))?;
            for p in patch {
                match (p.kind()?, p.path.as_str()) {
                    (Op::Replace, "/description") => d.description = p.value.clone(),
                    _ => return Err(p.unsupported()),
                }
            }
            Ok(d.clone())
        })
    }

    /// DeleteDeployment: refused while a stage serves it.
    pub fn delete_deployment(&self, caller: &Caller, api: &str, id: &str) -> Result<(), GatewayError> {
        self.change_rest(caller, api, |api| {
            if !api.deployments.contains_key(id) {
                return Err(GatewayError::NotFound("Invalid Deployment identifier specified".into()));
            }
            if api.stages.values().any(|s| s.deployment_id == id) {
                return Err(GatewayError::BadRequest(
                    "Active stages pointing to this deployment must be moved or deleted".into(),
                ));
            }
            api.deployments.remove(id);
            Ok(())
        })
    }

    /// CreateStage.
    pub fn create_stage(&self, caller: &Caller, api: &str, stage: Stage) -> Result<Stage, GatewayError> {
        check_stage_name(&stage.name)?;
        self.change_rest(caller, api, |api| {
            if !api.deployments.contains_key(&stage.deployment_id) {
                return Err(GatewayError::NotFound("Invalid Deployment identifier specified".into()));
            }
            if api.stages.contains_key(&stage.name) {
                return Err(GatewayError::Conflict("Stage already exists".into()));
            }
            let now = now_secs();
            let stage = Stage { created: now, last_updated: now, ..stage };
            api.stages.insert(stage.name.clone(), stage.clone());
            Ok(stage)
        })
    }

    /// GetStages.
    pub fn stages(&self, caller: &Caller, api: &str, deployment: Option<&str>) -> Result<Vec<Stage>, GatewayError> {
        self.read_rest(caller, api, |api| {
            Ok(api.stages.values().filter(|s| deployment.is_none_or(|d| s.deployment_id == d)).cloned().collect())
        })
    }

    /// GetStage.
    pub fn stage(&self, caller: &Caller, api: &str, name: &str) -> Result<Stage, GatewayError> {
        self.read_rest(caller, api, |api| {
            api.stages
                .get(name)
                .cloned()
                .ok_or_else(|| GatewayError::NotFound("Invalid Stage identifier specified".into()))
        })
    }

    /// DeleteStage.
    pub fn delete_stage(&self, caller: &Caller, api: &str, name: &str) -> Result<(), GatewayError> {
        self.change_rest(caller, api, |api| {
            api.stages
                .remove(name)
                .map(drop)
                .ok_or_else(|| GatewayError::NotFound("Invalid Stage identifier specified".into()))
        })
    }

    /// UpdateStage.
    pub fn update_stage(
        &self,
        caller: &Caller,
        api: &str,
        name: &str,
        patch: &[PatchOperation],
    ) -> Result<Stage, GatewayError> {
        self.change_rest(caller, api, |api| {
            let deployments: Vec<String> = api.deployments.keys().cloned().collect();
            let stage = api.stage_mut(name)?;
            for p in patch {
                apply_stage_patch(stage, p, &deployments)?;
            }
            stage.last_updated = now_secs();
            Ok(stage.clone())
        })
    }
}

fn apply_stage_patch(stage: &mut Stage, p: &PatchOperation, deployments: &[String]) -> Result<(), GatewayError> {
    let op = p.kind()?;
    let seg = p.segments();
    let seg: Vec<&str> = seg.iter().map(String::as_str).collect();
    match (op, seg.as_slice()) {
        (Op::Replace, ["description"]) => stage.description = p.value.clone(),
        (Op::Replace, ["deploymentId"]) => {
            let d = p.value()?;
            if !deployments.iter().any(|x| x == d) {
                return Err(GatewayError::BadRequest(format!("Deployment id does not exist: {d}")));
            }
            stage.deployment_id = d.to_owned();
        }
        (Op::Replace | Op::Add, ["variables", name]) => {
            stage.variables.insert((*name).to_owned(), p.value()?.to_owned());
        }
        (Op::Remove, ["variables", name]) => {
            stage.variables.remove(*name);
        }
        (Op::Replace, ["tracingEnabled"]) => stage.tracing_enabled = p.bool_value()?,
        (Op::Replace, ["cacheClusterEnabled"]) => stage.cache_cluster_enabled = p.bool_value()?,
        (Op::Replace, ["cacheClusterSize"]) => stage.cache_cluster_size = p.value.clone(),
        (Op::Add | Op::Replace, ["accessLogSettings", field @ ("destinationArn" | "format")]) => {
            let value = p
                .value
                .clone()
                .filter(|v| !v.is_empty())
                .ok_or_else(|| GatewayError::BadRequest("Access Log value must not be empty".into()))?;
            let log = stage.access_log.get_or_insert_with(AccessLog::default);
            match *field {
                "destinationArn" => log.destination_arn = Some(value),
                _ => log.format = Some(value),
            }
        }
        (Op::Add | Op::Replace, ["accessLogSettings", ..]) => {
            return Err(GatewayError::BadRequest(
                "Invalid accessLogSettings path. Must be one of : [/accessLogSettings/destinationArn, \
                 /accessLogSettings/format]"
                    .into(),
            ))
        }
        (Op::Remove, ["accessLogSettings"]) => stage.access_log = None,
        (Op::Remove, ["accessLogSettings", field]) => {
            return Err(GatewayError::BadRequest(format!(
                "Cannot remove method setting accessLogSettings/{field} because there is no method setting for this \
                 method "
            )))
        }
        (Op::Replace, [resource, method, group, field]) => {
            // The key keeps the resource path escaped, as AWS shows it: `~1items/GET`.
            let raw: Vec<&str> = p.path.trim_start_matches('/').split('/').collect();
            let key = format!("{}/{}", raw[0], raw[1]);
            if *resource != "*" && !resource.starts_with('/') {
                return Err(p.unsupported());
            }
            check_http_method(method).or_else(|e| if *method == "*" { Ok(()) } else { Err(e) })?;
            let s = stage.method_settings.entry(key).or_default();
            let number = || p.value()?.parse::<f64>().map_err(|_| p.unsupported());
            match (*group, *field) {
                ("throttling", "rateLimit") => s.throttling_rate_limit = number()?,
                ("throttling", "burstLimit") => s.throttling_burst_limit = number()? as i64,
                ("metrics", "enabled") => s.metrics_enabled = p.bool_value()?,
                ("logging", "loglevel") => s.logging_level = p.value()?.to_owned(),
                ("logging", "dataTrace") => s.data_trace_enabled = p.bool_value()?,
                ("caching", "enabled") => s.caching_enabled = p.bool_value()?,
                ("caching", "ttlInSeconds") => s.cache_ttl_seconds = number()? as i64,
                ("caching", "dataEncrypted") => s.cache_data_encrypted = p.bool_value()?,
                _ => return Err(p.unsupported()),
            }
        }
        (Op::Remove, [_, _]) => {
            let key = p.path.trim_start_matches('/').to_owned();
            stage.method_settings.remove(&key);
        }
        _ => return Err(p.unsupported()),
    }
    Ok(())
}
