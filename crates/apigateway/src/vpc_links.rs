//! VPC links of REST APIs: kept, listed, renamed and deleted, with AWS's checks. A link
//! names network load balancers by ARN; there are none on this machine to reach, so a
//! link is only configuration here: it is `PENDING` when created and `AVAILABLE` after
//! (nothing needs provisioning), and an integration that uses it cannot be served.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::patch::Op;
use crate::{new_id, Caller, GatewayError, GatewayService, PatchOperation};

/// The store's kind for VPC links.
pub(crate) const LINK_KIND: &str = "vpclink";

/// A VPC link.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VpcLink {
    /// `id`.
    pub id: String,
    /// The owning account.
    pub account: String,
    /// Its region.
    pub region: String,
    /// `name`.
    pub name: String,
    /// `description`.
    pub description: Option<String>,
    /// `targetArns`: the network load balancers.
    pub target_arns: Vec<String>,
    /// `tags`.
    pub tags: BTreeMap<String, String>,
}

fn no_link() -> GatewayError {
    GatewayError::NotFound("Invalid Vpc Link identifier specified".into())
}

/// An ARN of at least six `:`-separated parts, starting `arn:`.
fn well_formed_arn(arn: &str) -> bool {
    arn.starts_with("arn:") && arn.splitn(6, ':').count() == 6
}

impl GatewayService {
    /// CreateVpcLink.
    pub fn create_vpc_link(
        &self,
        caller: &Caller,
        name: &str,
        description: Option<String>,
        target_arns: Vec<String>,
        tags: BTreeMap<String, String>,
    ) -> Result<VpcLink, GatewayError> {
        if name.is_empty() {
            return Err(GatewayError::BadRequest("Name cannot be empty".into()));
        }
        if let Some(bad) = target_arns.iter().find(|a| !well_formed_arn(a)) {
            return Err(GatewayError::BadRequest(format!("Invalid ARN. ARN is not well formed {bad}")));
        }
        let link = VpcLink {
            id: new_id(6),
            account: caller.account.clone(),
            region: caller.region.clone(),
            name: name.to_owned(),
            description,
            target_arns,
            tags,
        };
        let mut state = self.write();
        self.save(LINK_KIND, &link.id, &link)?;
        state.links.insert(link.id.clone(), link.clone());
        Ok(link)
    }

    /// GetVpcLink.
    pub fn vpc_link(&self, caller: &Caller, id: &str) -> Result<VpcLink, GatewayError> {
        let state = self.read();
        state
            .links
            .get(id)
            .filter(|l| l.account == caller.account && l.region == caller.region)
            .cloned()
            .ok_or_else(no_link)
    }

    /// GetVpcLinks.
    pub fn vpc_links(&self, caller: &Caller) -> Vec<VpcLink> {
        let state = self.read();
        let mut links: Vec<VpcLink> = state
            .links
            .values()
            .filter(|l| l.account == caller.account && l.region == caller.region)
            .cloned()
            .collect();
        links.sort_by(|a, b| a.id.cmp(&b.id));
        links
    }

    /// UpdateVpcLink: `replace` of `/name` and `/description`.
    pub fn update_vpc_link(
        &self,
        caller: &Caller,
        id: &str,
        patch: &[PatchOperation],
    ) -> Result<VpcLink, GatewayError> {
        let mut link = self.vpc_link(caller, id)?;
        for p in patch {
            match (p.kind()?, p.path.as_str()) {
                (Op::Replace, "/name") => link.name = p.value()?.to_owned(),
                (Op::Replace, "/description") => link.description = p.value.clone(),
                _ => return Err(p.unsupported()),
            }
        }
        let mut state = self.write();
        self.save(LINK_KIND, &link.id, &link)?;
        state.links.insert(link.id.clone(), link.clone());
        Ok(link)
    }

    /// DeleteVpcLink.
    pub fn delete_vpc_link(&self, caller: &Caller, id: &str) -> Result<(), GatewayError> {
        self.vpc_link(caller, id)?;
        let mut state = self.write();
        self.inner.store.delete_document(LINK_KIND, id)?;
        state.links.remove(id);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn target_arns_must_be_arns() {
        assert!(super::well_formed_arn("arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/net/n/1"));
        assert!(!super::well_formed_arn("invalid-arn"));
    }
}
