//! HTTP and WebSocket APIs' stages and deployments (snapshots; auto-deploy makes one on
//! every change).

use super::*;

impl GatewayService {
    /// CreateStage.
    pub fn create_stage_v2(&self, caller: &Caller, api: &str, input: StageInput) -> Result<HttpStage, GatewayError> {
        let name = input.name.clone().unwrap_or_default();
        if name != "$default"
            && (name.is_empty()
                || name.len() > 128
                || !name.chars().all(|c| c.is_ascii_alphanumeric() || "-_".contains(c)))
        {
            return Err(GatewayError::BadRequest(format!("Invalid stage name specified: {name}")));
        }
        self.change_http(caller, api, false, |api| {
            if api.stages.contains_key(&name) {
                return Err(GatewayError::Conflict(format!("Stage {name} already exists")));
            }
            let now = model::clock::now_ms();
            let mut s = HttpStage { name: name.clone(), created_ms: now, last_updated_ms: now, ..Default::default() };
            apply_stage(&mut s, input, api)?;
            api.stages.insert(name.clone(), s);
            if api.stages[&name].auto_deploy {
                api.auto_deploy();
            }
            Ok(api.stages[&name].clone())
        })
    }

    /// GetStage.
    pub fn stage_v2(&self, caller: &Caller, api: &str, name: &str) -> Result<HttpStage, GatewayError> {
        self.read_http(caller, api, |a| a.stages.get(name).cloned().ok_or_else(|| no_stage(name)))
    }

    /// GetStages.
    pub fn stages_v2(&self, caller: &Caller, api: &str) -> Result<Vec<HttpStage>, GatewayError> {
        self.read_http(caller, api, |a| Ok(a.stages.values().cloned().collect()))
    }

    /// UpdateStage.
    pub fn update_stage_v2(
        &self,
        caller: &Caller,
        api: &str,
        name: &str,
        input: StageInput,
    ) -> Result<HttpStage, GatewayError> {
        self.change_http(caller, api, false, |api| {
            let mut s = api.stages.get(name).cloned().ok_or_else(|| no_stage(name))?;
            let was_auto = s.auto_deploy;
            apply_stage(&mut s, input, api)?;
            s.last_updated_ms = model::clock::now_ms();
            let auto = s.auto_deploy;
            api.stages.insert(name.to_owned(), s);
            if auto && !was_auto {
                api.auto_deploy();
            }
            Ok(api.stages[name].clone())
        })
    }

    /// DeleteStage.
    pub fn delete_stage_v2(&self, caller: &Caller, api: &str, name: &str) -> Result<(), GatewayError> {
        self.change_http(caller, api, false, |api| api.stages.remove(name).map(drop).ok_or_else(|| no_stage(name)))
    }

    /// CreateDeployment; with a stage name, points that stage at it.
    pub fn create_deployment_v2(
        &self,
        caller: &Caller,
        api: &str,
        description: Option<String>,
        stage: Option<String>,
    ) -> Result<HttpDeployment, GatewayError> {
        self.change_http(caller, api, false, |api| {
            if api.routes.is_empty() {
                return Err(GatewayError::BadRequest(
                    "Unable to deploy API because no routes exist in this API".into(),
                ));
            }
            let now = model::clock::now_ms();
            if let Some(name) = &stage {
                let s = api.stages.get(name).ok_or_else(|| no_stage(name))?;
                if s.auto_deploy {
                    return Err(GatewayError::BadRequest(format!(
                        "Stage {name} has autoDeploy enabled; its deployments are made automatically"
                    )));
                }
            }
            let d = HttpDeployment {
                id: new_id(6),
                description,
                created_ms: now,
                auto_deployed: false,
                snapshot: Arc::new(api.snapshot()),
            };
            api.deployments.insert(d.id.clone(), d.clone());
            if let Some(s) = stage.and_then(|name| api.stages.get_mut(&name)) {
                s.deployment_id = Some(d.id.clone());
                s.last_updated_ms = now;
            }
            Ok(d)
        })
    }

    /// GetDeployments.
    pub fn deployments_v2(&self, caller: &Caller, api: &str) -> Result<Vec<HttpDeployment>, GatewayError> {
        self.read_http(caller, api, |a| Ok(a.deployments.values().cloned().collect()))
    }

    /// GetDeployment.
    pub fn deployment_v2(&self, caller: &Caller, api: &str, id: &str) -> Result<HttpDeployment, GatewayError> {
        self.read_http(caller, api, |a| {
            a.deployments
                .get(id)
                .cloned()
                .ok_or_else(|| GatewayError::NotFound(format!("Invalid deployment identifier specified {id}")))
        })
    }

    /// DeleteDeployment.
    pub fn delete_deployment_v2(&self, caller: &Caller, api: &str, id: &str) -> Result<(), GatewayError> {
        self.change_http(caller, api, false, |a| {
            a.deployments
                .remove(id)
                .map(drop)
                .ok_or_else(|| GatewayError::NotFound(format!("Invalid deployment identifier specified {id}")))
        })
    }
}
