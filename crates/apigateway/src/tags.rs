//! Tags of REST APIs, their stages, API keys and usage plans, by ARN (TagResource,
//! UntagResource, GetTags): `arn:aws:apigateway:<region>::/restapis/<id>`,
//! `…/restapis/<id>/stages/<name>`, `…/apikeys/<id>`, `…/usageplans/<id>`.

use std::collections::BTreeMap;

use crate::usage::{KEY_KIND, PLAN_KIND};
use crate::{Caller, GatewayError, GatewayService};

/// The most tags a resource carries.
const MAX_TAGS: usize = 50;

/// What an ARN names.
enum Tagged<'a> {
    Api(&'a str),
    Stage(&'a str, &'a str),
    Key(&'a str),
    Plan(&'a str),
}

fn parse<'a>(caller: &Caller, arn: &'a str) -> Result<Tagged<'a>, GatewayError> {
    let invalid = || GatewayError::BadRequest(format!("Invalid ARN specified in the request: {arn}"));
    let rest = arn.strip_prefix("arn:aws:apigateway:").ok_or_else(invalid)?;
    let (region, path) = rest.split_once("::").ok_or_else(invalid)?;
    if region != caller.region {
        return Err(GatewayError::NotFound("Invalid resource identifier specified".into()));
    }
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match parts.as_slice() {
        ["restapis", id] => Ok(Tagged::Api(id)),
        ["restapis", id, "stages", name] => Ok(Tagged::Stage(id, name)),
        ["apikeys", id] => Ok(Tagged::Key(id)),
        ["usageplans", id] => Ok(Tagged::Plan(id)),
        _ => Err(invalid()),
    }
}

impl GatewayService {
    /// GetTags.
    pub fn tags(&self, caller: &Caller, arn: &str) -> Result<BTreeMap<String, String>, GatewayError> {
        Ok(match parse(caller, arn)? {
            Tagged::Api(id) => self.read_rest(caller, id, |api| Ok(api.tags.clone()))?,
            Tagged::Stage(id, name) => self.stage(caller, id, name)?.tags,
            Tagged::Key(id) => self.api_key(caller, id)?.tags,
            Tagged::Plan(id) => self.usage_plan(caller, id)?.tags,
        })
    }

    /// TagResource (a key given again takes the new value) and UntagResource, in one.
    pub fn change_tags(
        &self,
        caller: &Caller,
        arn: &str,
        add: &BTreeMap<String, String>,
        remove: &[String],
    ) -> Result<(), GatewayError> {
        let change = |tags: &mut BTreeMap<String, String>| {
            tags.extend(add.iter().map(|(k, v)| (k.clone(), v.clone())));
            tags.retain(|k, _| !remove.contains(k));
            if tags.len() > MAX_TAGS {
                return Err(GatewayError::BadRequest(format!("A resource can have at most {MAX_TAGS} tags")));
            }
            Ok(())
        };
        match parse(caller, arn)? {
            Tagged::Api(id) => self.change_rest(caller, id, |api| change(&mut api.tags)),
            Tagged::Stage(id, name) => self.change_rest(caller, id, |api| change(&mut api.stage_mut(name)?.tags)),
            Tagged::Key(id) => {
                let mut state = self.write();
                let mine = self.mine(caller, state.keys.get(id), |k| (&k.account, &k.region)).cloned();
                let mut key =
                    mine.ok_or_else(|| GatewayError::NotFound("Invalid API Key identifier specified".into()))?;
                change(&mut key.tags)?;
                self.save(KEY_KIND, id, &key)?;
                state.keys.insert(id.to_owned(), key);
                Ok(())
            }
            Tagged::Plan(id) => {
                let mut state = self.write();
                let mine = self.mine(caller, state.plans.get(id), |p| (&p.account, &p.region)).cloned();
                let mut plan = mine.ok_or_else(|| GatewayError::NotFound("Invalid Usage Plan ID specified".into()))?;
                change(&mut plan.tags)?;
                self.save(PLAN_KIND, id, &plan)?;
                state.plans.insert(id.to_owned(), plan);
                Ok(())
            }
        }
    }
}
