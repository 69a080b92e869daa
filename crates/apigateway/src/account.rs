//! The account's API Gateway settings (GetAccount, UpdateAccount): the CloudWatch role
//! that REST APIs' execution and access logs are written with.

use serde::{Deserialize, Serialize};

use crate::patch::Op;
use crate::{Caller, GatewayError, GatewayService, PatchOperation};

pub(crate) const ACCOUNT_KIND: &str = "apigw-account";

/// One account's settings in one region.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AccountSettings {
    /// The account.
    pub account: String,
    /// The region.
    pub region: String,
    /// `cloudwatchRoleArn`.
    pub cloudwatch_role_arn: Option<String>,
}

impl GatewayService {
    /// GetAccount: the settings, as made when none were changed.
    pub fn account_settings(&self, caller: &Caller) -> AccountSettings {
        let state = self.read();
        state.accounts.get(&(caller.account.clone(), caller.region.clone())).cloned().unwrap_or_else(|| {
            AccountSettings {
                account: caller.account.clone(),
                region: caller.region.clone(),
                cloudwatch_role_arn: None,
            }
        })
    }

    /// UpdateAccount: `replace /cloudwatchRoleArn` (an empty value clears it).
    pub fn update_account(&self, caller: &Caller, patch: &[PatchOperation]) -> Result<AccountSettings, GatewayError> {
        let mut settings = self.account_settings(caller);
        for p in patch {
            match (p.kind()?, p.path.as_str()) {
                (Op::Replace, "/cloudwatchRoleArn") => {
                    settings.cloudwatch_role_arn = p.value.clone().filter(|v| !v.is_empty());
                }
                _ => return Err(p.unsupported()),
            }
        }
        let mut state = self.write();
        self.save(ACCOUNT_KIND, &format!("{}:{}", settings.account, settings.region), &settings)?;
        state.accounts.insert((settings.account.clone(), settings.region.clone()), settings.clone());
        Ok(settings)
    }
}
