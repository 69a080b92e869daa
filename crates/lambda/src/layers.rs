//! Layers: PublishLayerVersion and its reads, layer permissions, and resolving a
//! function's `Layers` list.

use model::{
    check_function_layers, check_layer_name, FunctionLayer, Invalid, LayerDraft, LayerPolicy, LayerStatement,
    LayerVersion, LayerVersionRef, Violation,
};

use crate::{new_revision, now_ms, Caller, CodeSource, LambdaError, LambdaService};

/// A page of ListLayerVersions or ListLayers.
#[derive(Debug)]
pub struct LayerPage {
    /// Layer versions: for ListLayers, the latest matching version of each layer.
    pub versions: Vec<LayerVersion>,
    /// `NextMarker`, when more remain.
    pub next_marker: Option<String>,
}

/// Which layer versions a list keeps (`CompatibleRuntime`, `CompatibleArchitecture`).
#[derive(Debug, Clone, Default)]
pub struct LayerFilter {
    /// Keep versions compatible with this runtime.
    pub runtime: Option<String>,
    /// Keep versions compatible with this architecture.
    pub architecture: Option<String>,
}

impl LayerFilter {
    fn keeps(&self, v: &LayerVersion) -> bool {
        self.runtime.as_ref().is_none_or(|r| v.runtimes.contains(r))
            && self.architecture.as_ref().is_none_or(|a| v.architectures.contains(a))
    }

    fn check(&self) -> Result<(), LambdaError> {
        if let Some(r) = &self.runtime {
            if model::Runtime::parse(r).is_none() {
                return Err(
                    Invalid::from(Violation::enumeration(r, "compatibleRuntime", model::Runtime::all_ids())).into()
                );
            }
        }
        if let Some(a) = &self.architecture {
            if a != "x86_64" && a != "arm64" {
                return Err(
                    Invalid::from(Violation::enumeration(a, "compatibleArchitecture", &["x86_64", "arm64"])).into()
                );
            }
        }
        Ok(())
    }
}

fn no_such_layer() -> LambdaError {
    LambdaError::NotFound("The resource you requested does not exist.".into())
}

/// A page of layer versions; `MaxItems` is 1–50 for the layer lists.
fn page(
    items: Vec<LayerVersion>,
    key: impl Fn(&LayerVersion) -> String,
    marker: Option<&str>,
    max: Option<i64>,
) -> Result<LayerPage, LambdaError> {
    let size = crate::versions::page_size(max, 50, 50)?;
    let (versions, next_marker) = crate::versions::page(items, key, marker, size);
    Ok(LayerPage { versions, next_marker })
}

impl LambdaService {
    /// PublishLayerVersion.
    pub fn publish_layer_version(
        &self,
        caller: &Caller,
        layer_name: &str,
        content: CodeSource,
        draft: LayerDraft,
    ) -> Result<LayerVersion, LambdaError> {
        let name = check_layer_name(layer_name)?;
        draft.check()?;
        let (code, pin) = self.store_code(caller, content)?;
        let mut layer = LayerVersion {
            account: caller.account.clone(),
            region: caller.region.clone(),
            name,
            version: 0,
            description: draft.description.unwrap_or_default(),
            license: draft.license,
            runtimes: draft.runtimes.unwrap_or_default(),
            architectures: draft.architectures.unwrap_or_default(),
            code,
            created_ms: now_ms(),
            policy: LayerPolicy::default(),
        };
        layer.version = match self.store.publish_layer_version(&layer) {
            Ok(version) => version,
            Err(e) => {
                self.abandon(&layer.code, pin);
                return Err(e.into());
            }
        };
        Ok(layer)
    }

    fn layer_version(&self, caller: &Caller, layer_name: &str, version: i64) -> Result<LayerVersion, LambdaError> {
        let name = check_layer_name(layer_name)?;
        if version < 1 {
            return Err(Invalid::parameter("Layer Version Cannot be less than 1").into());
        }
        let version = u32::try_from(version).map_err(|_| no_such_layer())?;
        self.store.get_layer_version(&caller.account, &caller.region, &name, version)?.ok_or_else(no_such_layer)
    }

    /// A layer version whose policy is read or changed: one that does not exist is named
    /// in the answer, as AWS names it.
    fn layer_version_for_policy(
        &self,
        caller: &Caller,
        layer_name: &str,
        version: i64,
    ) -> Result<LayerVersion, LambdaError> {
        self.layer_version(caller, layer_name, version).map_err(|e| match e {
            LambdaError::NotFound(_) => {
                let name = layer_name.rsplit(':').next().unwrap_or(layer_name);
                let arn = model::layer_arn(&caller.region, &caller.account, name);
                LambdaError::NotFound(format!("Layer version {arn}:{version} does not exist."))
            }
            e => e,
        })
    }

    /// GetLayerVersion.
    pub fn get_layer_version(
        &self,
        caller: &Caller,
        layer_name: &str,
        version: i64,
    ) -> Result<LayerVersion, LambdaError> {
        // A layer ARN of another account addresses that account's layer, which its
        // policy must let the caller use.
        let owner = match layer_name.split(':').collect::<Vec<_>>().as_slice() {
            ["arn", _, "lambda", region, account, "layer", _] if *account != caller.account => {
                Some(Caller { account: (*account).to_owned(), region: (*region).to_owned() })
            }
            _ => None,
        };
        let Some(owner) = owner else { return self.layer_version(caller, layer_name, version) };
        let v = self.layer_version(&owner, layer_name, version)?;
        if !v.usable_by(&caller.account) {
            return Err(no_such_layer());
        }
        Ok(v)
    }

    /// A layer version's archive, for `Content.Location`.
    pub fn layer_code(&self, owner: &Caller, layer_name: &str, version: i64) -> Result<Vec<u8>, LambdaError> {
        let v = self.layer_version(owner, layer_name, version)?;
        Ok(self.code.get(&v.code.sha256_hex)?)
    }

    /// GetLayerVersionByArn: any account's layer version the caller may use.
    pub fn get_layer_version_by_arn(&self, caller: &Caller, arn: &str) -> Result<LayerVersion, LambdaError> {
        let r = LayerVersionRef::parse(arn)
            .ok_or_else(|| Invalid::from(Violation::pattern(arn, "arn", model::LAYER_VERSION_ARN_PATTERN)))?;
        let v = self.store.get_layer_version(&r.account, &r.region, &r.name, r.version)?.ok_or_else(no_such_layer)?;
        if !v.usable_by(&caller.account) {
            return Err(no_such_layer());
        }
        Ok(v)
    }

    /// ListLayerVersions: newest first, as AWS lists them.
    pub fn list_layer_versions(
        &self,
        caller: &Caller,
        layer_name: &str,
        filter: LayerFilter,
        marker: Option<&str>,
        max_items: Option<i64>,
    ) -> Result<LayerPage, LambdaError> {
        let name = check_layer_name(layer_name)?;
        filter.check()?;
        let mut versions: Vec<LayerVersion> = self
            .store
            .layer_versions(&caller.account, &caller.region, Some(&name))?
            .into_iter()
            .filter(|v| filter.keeps(v))
            .collect();
        versions.reverse();
        page(versions, |v| v.version.to_string(), marker, max_items)
    }

    /// ListLayers: each layer with its latest version that matches the filter.
    pub fn list_layers(
        &self,
        caller: &Caller,
        filter: LayerFilter,
        marker: Option<&str>,
        max_items: Option<i64>,
    ) -> Result<LayerPage, LambdaError> {
        filter.check()?;
        let mut latest: Vec<LayerVersion> = Vec::new();
        for v in self.store.layer_versions(&caller.account, &caller.region, None)? {
            if !filter.keeps(&v) {
                continue;
            }
            match latest.last_mut() {
                // Versions come by name, then version: a later one of the same layer wins.
                Some(last) if last.name == v.name => *last = v,
                _ => latest.push(v),
            }
        }
        page(latest, |v| v.name.clone(), marker, max_items)
    }

    /// DeleteLayerVersion. Functions that use the version keep it (its archive stays
    /// while any of them does); deleting a missing version is not an error, as on AWS.
    pub fn delete_layer_version(&self, caller: &Caller, layer_name: &str, version: i64) -> Result<(), LambdaError> {
        let name = check_layer_name(layer_name)?;
        if version < 1 {
            return Err(Invalid::parameter("Layer Version Cannot be less than 1").into());
        }
        let Ok(version) = u32::try_from(version) else { return Ok(()) };
        let _guard = self.writes.lock();
        let Some(v) = self.store.get_layer_version(&caller.account, &caller.region, &name, version)? else {
            return Ok(());
        };
        self.store.delete_layer_version(&v.account, &v.region, &v.name, v.version)?;
        self.discard_if_unused(&v.code)?;
        Ok(())
    }

    /// AddLayerVersionPermission: returns the statement as AWS shows it, and the new
    /// revision.
    pub fn add_layer_permission(
        &self,
        caller: &Caller,
        layer_name: &str,
        version: i64,
        mut statement: LayerStatement,
        action: &str,
        revision: Option<&str>,
    ) -> Result<(String, String), LambdaError> {
        // An account's root ARN names the account.
        if let Some(account) = statement.principal.strip_prefix("arn:").and_then(|rest| {
            let parts: Vec<&str> = rest.split(':').collect();
            matches!(parts.as_slice(), [p, "iam", "", _, "root"] if p.starts_with("aws")).then(|| parts[3].to_owned())
        }) {
            statement.principal = account;
        }
        let sid_ok = !statement.sid.is_empty()
            && statement.sid.len() <= 100
            && statement.sid.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !sid_ok {
            return Err(Invalid::from(Violation::pattern(&statement.sid, "statementId", "([a-zA-Z0-9-_]+)")).into());
        }
        if action != "lambda:GetLayerVersion" {
            return Err(Invalid::from(Violation::pattern(action, "action", "lambda:GetLayerVersion")).into());
        }
        let principal_ok = statement.principal == "*"
            || (statement.principal.len() == 12 && statement.principal.chars().all(|c| c.is_ascii_digit()));
        if !principal_ok {
            return Err(Invalid::from(Violation::pattern(
                &statement.principal,
                "principal",
                "\\d{12}|\\*|arn:(aws[a-zA-Z-]*):iam::\\d{12}:root",
            ))
            .into());
        }
        let _guard = self.writes.lock();
        let mut v = self.layer_version_for_policy(caller, layer_name, version)?;
        check_policy_revision(&v.policy, revision)?;
        if v.policy.statements.iter().any(|s| s.sid == statement.sid) {
            return Err(LambdaError::Conflict(format!(
                "The statement id ({}) provided already exists. Please provide a new statement id, or remove the existing statement.",
                statement.sid
            )));
        }
        let shown = statement_json(&v, &statement);
        v.policy.statements.push(statement);
        v.policy.revision_id = new_revision();
        self.store.set_layer_policy(&v.account, &v.region, &v.name, v.version, &v.policy)?;
        Ok((shown.to_string(), v.policy.revision_id))
    }

    /// RemoveLayerVersionPermission.
    pub fn remove_layer_permission(
        &self,
        caller: &Caller,
        layer_name: &str,
        version: i64,
        sid: &str,
        revision: Option<&str>,
    ) -> Result<(), LambdaError> {
        let _guard = self.writes.lock();
        let mut v = self.layer_version_for_policy(caller, layer_name, version)?;
        check_policy_revision(&v.policy, revision)?;
        let before = v.policy.statements.len();
        v.policy.statements.retain(|s| s.sid != sid);
        if v.policy.statements.len() == before {
            return Err(LambdaError::NotFound(format!("Statement {sid} is not found in resource policy.")));
        }
        v.policy.revision_id = new_revision();
        self.store.set_layer_policy(&v.account, &v.region, &v.name, v.version, &v.policy)?;
        Ok(())
    }

    /// GetLayerVersionPolicy: the policy document, and its revision.
    pub fn get_layer_policy(
        &self,
        caller: &Caller,
        layer_name: &str,
        version: i64,
    ) -> Result<(String, String), LambdaError> {
        let v = self.layer_version_for_policy(caller, layer_name, version)?;
        if v.policy.statements.is_empty() {
            return Err(LambdaError::NotFound("No policy is associated with the given resource.".into()));
        }
        let statements: Vec<serde_json::Value> = v.policy.statements.iter().map(|s| statement_json(&v, s)).collect();
        let doc = serde_json::json!({ "Version": "2012-10-17", "Id": "default", "Statement": statements });
        Ok((doc.to_string(), v.policy.revision_id.clone()))
    }

    /// Resolves a function's `Layers` ARNs to the versions they name, which must exist
    /// and be usable by the caller's account.
    pub(crate) fn resolve_layers(&self, caller: &Caller, arns: &[String]) -> Result<Vec<FunctionLayer>, LambdaError> {
        let refs = check_function_layers(arns)?;
        for (i, a) in refs.iter().enumerate() {
            if let Some((j, _)) = refs
                .iter()
                .enumerate()
                .skip(i + 1)
                .find(|(_, b)| (&b.account, &b.region, &b.name) == (&a.account, &a.region, &a.name))
            {
                return Err(Invalid::parameter(format!(
                    "Two different versions of the same layer are not allowed to be referenced in the same function. \
                     {} and {} are versions of the same layer.",
                    arns[i], arns[j]
                ))
                .into());
            }
        }
        refs.into_iter()
            .zip(arns)
            .map(|(r, arn)| {
                if r.region != caller.region {
                    return Err(Invalid::parameter(format!(
                        "Layers are not in the same region as the function. Layers are expected to be in region {}.",
                        caller.region
                    ))
                    .into());
                }
                let missing = || Invalid::parameter(format!("Layer version {arn} does not exist."));
                let v = self.store.get_layer_version(&r.account, &r.region, &r.name, r.version)?.ok_or_else(missing)?;
                if !v.usable_by(&caller.account) {
                    return Err(LambdaError::Invalid(missing()));
                }
                Ok(FunctionLayer { arn: v.arn(), code_size: v.code.size, sha256_hex: v.code.sha256_hex })
            })
            .collect()
    }
}

fn check_policy_revision(policy: &LayerPolicy, revision: Option<&str>) -> Result<(), LambdaError> {
    match revision {
        Some(r) if r != policy.revision_id => Err(LambdaError::PreconditionFailed(
            "The Revision Id provided does not match the latest Revision Id. Call the GetLayerPolicy API to retrieve the latest Revision Id".into(),
        )),
        _ => Ok(()),
    }
}

/// One statement of a layer version's policy, as AWS writes it.
fn statement_json(v: &LayerVersion, s: &LayerStatement) -> serde_json::Value {
    let principal = if s.principal == "*" {
        serde_json::json!("*")
    } else {
        serde_json::json!({ "AWS": format!("arn:aws:iam::{}:root", s.principal) })
    };
    let mut statement = serde_json::json!({
        "Sid": s.sid,
        "Effect": "Allow",
        "Principal": principal,
        "Action": "lambda:GetLayerVersion",
        "Resource": v.arn(),
    });
    if let Some(org) = &s.organization {
        statement["Condition"] = serde_json::json!({ "StringEquals": { "aws:PrincipalOrgID": org } });
    }
    statement
}
