//! Mobile push and SMS settings: platform applications and their endpoints (durable,
//! checked in AWS's words), publishing to an endpoint, and an account's SMS attributes
//! and opt-out list. Nothing here reaches a push service or a phone: there is no gateway
//! on this machine, so what would be sent is logged.

use std::collections::BTreeMap;

use crate::{checks, json_map, to_json, Caller, SnsError, SnsService};

/// The push platforms SNS supports.
const PLATFORMS: &[&str] = &[
    "ADM",
    "APNS",
    "APNS_SANDBOX",
    "APNS_VOIP",
    "APNS_VOIP_SANDBOX",
    "BAIDU",
    "GCM",
    "MACOS",
    "MACOS_SANDBOX",
    "MPNS",
    "WNS",
];
/// The attributes an endpoint takes.
const ENDPOINT_ATTRIBUTES: &[&str] = &["CustomUserData", "Enabled", "Token"];
/// An application's attributes never shown back.
const SECRET_ATTRIBUTES: &[&str] = &["PlatformPrincipal", "PlatformCredential"];
/// The SMS attributes SetSMSAttributes takes.
const SMS_ATTRIBUTES: &[&str] = &[
    "DefaultSenderID",
    "DefaultSMSType",
    "MonthlySpendLimit",
    "DeliveryStatusIAMRole",
    "DeliveryStatusSuccessSamplingRate",
    "UsageReportS3Bucket",
];

/// Resources listed with their attributes: (ARN, attributes).
pub type Listed = Vec<(String, BTreeMap<String, String>)>;

/// The documents' kinds in the store.
pub(crate) const APP: &str = "app";
pub(crate) const ENDPOINT: &str = "endpoint";
pub(crate) const SMS: &str = "sms";

/// Platform applications, endpoints and SMS settings, by ARN (SMS: by `account:region`).
#[derive(Default)]
pub(crate) struct Documents {
    pub(crate) apps: BTreeMap<String, BTreeMap<String, String>>,
    pub(crate) endpoints: BTreeMap<String, BTreeMap<String, String>>,
    pub(crate) sms: BTreeMap<String, BTreeMap<String, String>>,
}

impl Documents {
    pub(crate) fn load(store: &dyn store::TopicStore) -> Result<Documents, SnsError> {
        let read = |kind: &str| -> Result<BTreeMap<String, BTreeMap<String, String>>, SnsError> {
            Ok(store.documents(kind)?.into_iter().map(|(k, body)| (k, json_map(&body))).collect())
        };
        Ok(Documents { apps: read(APP)?, endpoints: read(ENDPOINT)?, sms: read(SMS)? })
    }
}

/// The application an endpoint ARN belongs to: `…:endpoint/P/name/id` → `…:app/P/name`.
fn app_of(endpoint_arn: &str) -> String {
    let (head, resource) = endpoint_arn.rsplit_once(':').unwrap_or_default();
    let parts: Vec<&str> = resource.split('/').collect();
    format!("{head}:app/{}/{}", parts.get(1).unwrap_or(&""), parts.get(2).unwrap_or(&""))
}

fn name_error(name: &str, reason: &str) -> SnsError {
    SnsError::invalid(format!("Invalid parameter: {name} Reason: {reason}"))
}

fn check_endpoint_attributes(attributes: &BTreeMap<String, String>) -> Result<(), SnsError> {
    for (k, v) in attributes {
        if !ENDPOINT_ATTRIBUTES.contains(&k.as_str()) {
            return Err(SnsError::invalid(format!(
                "Invalid parameter: Attributes Reason: Invalid attribute name: {k}"
            )));
        }
        if k == "CustomUserData" && v.len() > 2048 {
            return Err(SnsError::invalid(
                "Invalid parameter: Attributes Reason: Invalid value for attribute: CustomUserData: must be at most 2048 bytes long in UTF-8 encoding",
            ));
        }
    }
    Ok(())
}

fn check_phone(number: &str) -> Result<(), SnsError> {
    if checks::phone_number_ok(number) {
        Ok(())
    } else {
        Err(SnsError::invalid("Invalid parameter: PhoneNumber Reason: input incorrectly formatted"))
    }
}

impl SnsService {
    fn save_document(&self, kind: &str, key: &str, attributes: BTreeMap<String, String>) -> Result<(), SnsError> {
        self.inner.store.put_document(kind, key, &to_json(&attributes))?;
        let mut docs = self.inner.documents.write();
        let map = match kind {
            APP => &mut docs.apps,
            ENDPOINT => &mut docs.endpoints,
            _ => &mut docs.sms,
        };
        map.insert(key.to_owned(), attributes);
        Ok(())
    }

    /// The application an ARN names, in the caller's account and region.
    fn app(&self, caller: &Caller, arn: &str) -> Result<BTreeMap<String, String>, SnsError> {
        let parsed = checks::arn("PlatformApplicationArn", arn)?;
        let docs = self.inner.documents.read();
        docs.apps
            .get(arn)
            .filter(|_| parsed.account == caller.account && parsed.region == caller.region)
            .cloned()
            .ok_or_else(|| SnsError::not_found("PlatformApplication does not exist"))
    }

    /// The endpoint an ARN given as `param` names.
    fn endpoint(&self, caller: &Caller, param: &str, arn: &str) -> Result<BTreeMap<String, String>, SnsError> {
        let parsed = checks::arn(param, arn)?;
        if parsed.resource.split('/').count() != 4 {
            return Err(SnsError::invalid(format!(
                "Invalid parameter: {param} Reason: Wrong number of slashes in relative portion of the ARN."
            )));
        }
        let docs = self.inner.documents.read();
        docs.endpoints
            .get(arn)
            .filter(|_| parsed.account == caller.account && parsed.region == caller.region)
            .cloned()
            .ok_or_else(|| SnsError::not_found("Endpoint does not exist"))
    }

    /// CreatePlatformApplication; creating one of the same name again updates it.
    pub fn create_platform_application(
        &self,
        caller: &Caller,
        name: &str,
        platform: &str,
        attributes: BTreeMap<String, String>,
    ) -> Result<String, SnsError> {
        if name.is_empty() {
            return Err(name_error(name, "cannot be empty"));
        }
        if name.len() > 256 {
            return Err(name_error(name, "must be at most 256 characters long"));
        }
        if !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')) {
            return Err(name_error(name, "must contain only characters 'a'-'z', 'A'-'Z', '0'-'9', '_', '-', and '.'"));
        }
        if !PLATFORMS.contains(&platform) {
            return Err(name_error("Platform", &format!("{platform} is not supported")));
        }
        check_credentials(&attributes)?;
        let arn = format!("arn:aws:sns:{}:{}:app/{platform}/{name}", caller.region, caller.account);
        let mut stored = self.app(caller, &arn).unwrap_or_default();
        stored.extend(attributes);
        stored.entry("Enabled".into()).or_insert_with(|| "true".into());
        self.save_document(APP, &arn, stored)?;
        Ok(arn)
    }

    /// GetPlatformApplicationAttributes (credentials are not shown).
    pub fn platform_application_attributes(
        &self,
        caller: &Caller,
        arn: &str,
    ) -> Result<BTreeMap<String, String>, SnsError> {
        let mut attributes = self.app(caller, arn)?;
        attributes.retain(|k, _| !SECRET_ATTRIBUTES.contains(&k.as_str()));
        Ok(attributes)
    }

    /// SetPlatformApplicationAttributes.
    pub fn set_platform_application_attributes(
        &self,
        caller: &Caller,
        arn: &str,
        attributes: BTreeMap<String, String>,
    ) -> Result<(), SnsError> {
        let mut stored = self.app(caller, arn)?;
        check_credentials(&attributes)?;
        stored.extend(attributes);
        self.save_document(APP, arn, stored)
    }

    /// DeletePlatformApplication, with its endpoints; a missing one is not an error.
    pub fn delete_platform_application(&self, caller: &Caller, arn: &str) -> Result<(), SnsError> {
        checks::arn("PlatformApplicationArn", arn)?;
        let mut docs = self.inner.documents.write();
        let endpoints: Vec<String> = docs.endpoints.keys().filter(|e| app_of(e) == arn).cloned().collect();
        if docs.apps.contains_key(arn) && arn.split(':').nth(4) == Some(caller.account.as_str()) {
            self.inner.store.delete_documents(ENDPOINT, &endpoints)?;
            self.inner.store.delete_documents(APP, &[arn.to_owned()])?;
            docs.apps.remove(arn);
            for e in &endpoints {
                docs.endpoints.remove(e);
            }
        }
        Ok(())
    }

    /// ListPlatformApplications: the caller's, with their attributes.
    pub fn list_platform_applications(&self, caller: &Caller) -> Listed {
        let prefix = format!("arn:aws:sns:{}:{}:app/", caller.region, caller.account);
        let docs = self.inner.documents.read();
        docs.apps
            .iter()
            .filter(|(arn, _)| arn.starts_with(&prefix))
            .map(|(arn, a)| {
                let shown = a.iter().filter(|(k, _)| !SECRET_ATTRIBUTES.contains(&k.as_str()));
                (arn.clone(), shown.map(|(k, v)| (k.clone(), v.clone())).collect())
            })
            .collect()
    }

    /// CreatePlatformEndpoint: idempotent for the same token and attributes.
    pub fn create_platform_endpoint(
        &self,
        caller: &Caller,
        app_arn: &str,
        token: &str,
        custom_user_data: Option<String>,
        mut attributes: BTreeMap<String, String>,
    ) -> Result<String, SnsError> {
        self.app(caller, app_arn)?;
        check_endpoint_attributes(&attributes)?;
        if let Some(data) = custom_user_data {
            attributes.entry("CustomUserData".into()).or_insert(data);
        }
        check_endpoint_attributes(&attributes)?;
        attributes.insert("Token".into(), token.to_owned());
        attributes.entry("Enabled".into()).or_insert_with(|| "true".into());
        let existing = {
            let docs = self.inner.documents.read();
            docs.endpoints
                .iter()
                .find(|(arn, a)| app_of(arn) == app_arn && a.get("Token").map(String::as_str) == Some(token))
                .map(|(arn, a)| (arn.clone(), a.clone()))
        };
        if let Some((arn, current)) = existing {
            if current != attributes {
                return Err(SnsError::invalid(format!(
                    "Invalid parameter: Token Reason: Endpoint {arn} already exists with the same Token, but different attributes."
                )));
            }
            return Ok(arn);
        }
        let (head, app) = app_arn.rsplit_once(":app/").unwrap_or_default();
        let arn = format!("{head}:endpoint/{app}/{}", uuid::Uuid::new_v4());
        self.save_document(ENDPOINT, &arn, attributes)?;
        Ok(arn)
    }

    /// GetEndpointAttributes.
    pub fn endpoint_attributes(&self, caller: &Caller, arn: &str) -> Result<BTreeMap<String, String>, SnsError> {
        self.endpoint(caller, "EndpointArn", arn)
    }

    /// SetEndpointAttributes.
    pub fn set_endpoint_attributes(
        &self,
        caller: &Caller,
        arn: &str,
        attributes: BTreeMap<String, String>,
    ) -> Result<(), SnsError> {
        let mut stored = self.endpoint(caller, "EndpointArn", arn)?;
        check_endpoint_attributes(&attributes)?;
        stored.extend(attributes);
        self.save_document(ENDPOINT, arn, stored)
    }

    /// DeleteEndpoint; a missing one is not an error (its subscriptions stay, as on AWS).
    pub fn delete_endpoint(&self, caller: &Caller, arn: &str) -> Result<(), SnsError> {
        if self.endpoint(caller, "EndpointArn", arn).is_ok() {
            self.inner.store.delete_documents(ENDPOINT, &[arn.to_owned()])?;
            self.inner.documents.write().endpoints.remove(arn);
        }
        Ok(())
    }

    /// ListEndpointsByPlatformApplication.
    pub fn list_endpoints(&self, caller: &Caller, app_arn: &str) -> Result<Listed, SnsError> {
        self.app(caller, app_arn)?;
        let docs = self.inner.documents.read();
        Ok(docs
            .endpoints
            .iter()
            .filter(|(arn, _)| app_of(arn) == app_arn)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }

    /// Publish to an endpoint (`TargetArn`): accepted if it exists and is enabled; the
    /// push itself has no way off this machine.
    pub fn publish_to_endpoint(&self, caller: &Caller, arn: &str, message: &str) -> Result<String, SnsError> {
        let endpoint = self.endpoint(caller, "TargetArn", arn).map_err(|e| match e.code {
            "NotFound" => {
                SnsError::invalid("Invalid parameter: TargetArn Reason: No endpoint found for the target arn specified")
            }
            _ => e,
        })?;
        if endpoint.get("Enabled").is_some_and(|v| v == "false") {
            return Err(SnsError { code: "EndpointDisabled", status: 400, message: "Endpoint is disabled".into() });
        }
        let id = uuid::Uuid::new_v4().to_string();
        tracing::info!(endpoint = arn, message_id = %id, bytes = message.len(), "sns: push not sent (no push gateway)");
        Ok(id)
    }

    /// SetSMSAttributes: the account's defaults in this region.
    pub fn set_sms_attributes(&self, caller: &Caller, attributes: BTreeMap<String, String>) -> Result<(), SnsError> {
        for (k, v) in &attributes {
            if !SMS_ATTRIBUTES.contains(&k.as_str()) {
                return Err(SnsError::invalid(format!("{k} is not a valid attribute")));
            }
            let valid = match k.as_str() {
                "DefaultSMSType" => v == "Promotional" || v == "Transactional",
                "DefaultSenderID" => {
                    (1..=11).contains(&v.len())
                        && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                        && v.chars().any(|c| c.is_ascii_alphabetic())
                }
                "MonthlySpendLimit" | "DeliveryStatusSuccessSamplingRate" => v.parse::<u32>().is_ok(),
                _ => true,
            };
            if !valid {
                return Err(SnsError::invalid(format!("{k} is invalid")));
            }
        }
        let key = format!("{}:{}", caller.account, caller.region);
        let mut stored = self.sms_attributes(caller, &[]);
        stored.extend(attributes);
        self.save_document(SMS, &key, stored)
    }

    /// GetSMSAttributes: all, or those named.
    pub fn sms_attributes(&self, caller: &Caller, names: &[String]) -> BTreeMap<String, String> {
        let key = format!("{}:{}", caller.account, caller.region);
        let docs = self.inner.documents.read();
        let mut all = docs.sms.get(&key).cloned().unwrap_or_default();
        all.entry("MonthlySpendLimit".into()).or_insert_with(|| "1".into());
        all.retain(|k, _| names.is_empty() || names.contains(k));
        all
    }

    /// CheckIfPhoneNumberIsOptedOut. A number opts out by replying to an SMS, which cannot
    /// reach this machine: none ever is.
    pub fn phone_number_opted_out(&self, number: &str) -> Result<bool, SnsError> {
        check_phone(number)?;
        Ok(false)
    }

    /// OptInPhoneNumber.
    pub fn opt_in_phone_number(&self, number: &str) -> Result<(), SnsError> {
        check_phone(number)
    }
}

/// An application's credentials come as a pair.
fn check_credentials(attributes: &BTreeMap<String, String>) -> Result<(), SnsError> {
    let (principal, credential) =
        (attributes.contains_key("PlatformPrincipal"), attributes.contains_key("PlatformCredential"));
    if principal && !credential {
        return Err(SnsError::invalid(
            "Invalid parameter: Attributes Reason: PlatformPrincipal attribute provided without PlatformCredential",
        ));
    }
    if credential && !principal {
        return Err(SnsError::invalid(
            "Invalid parameter: Attributes Reason: PlatformCredential attribute provided without PlatformPrincipal",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_belong_to_their_application() {
        assert_eq!(
            app_of("arn:aws:sns:us-east-1:1:endpoint/ADM/app-1/0f7d5971"),
            "arn:aws:sns:us-east-1:1:app/ADM/app-1"
        );
    }

    #[test]
    fn endpoint_attributes_in_aws_words() {
        let one = |k: &str, v: String| check_endpoint_attributes(&[(k.to_owned(), v)].into()).map_err(|e| e.message);
        assert_eq!(
            one("PlatformPrincipal", "x".into()).unwrap_err(),
            "Invalid parameter: Attributes Reason: Invalid attribute name: PlatformPrincipal"
        );
        assert!(one("CustomUserData", "A".repeat(2049)).unwrap_err().contains("at most 2048 bytes"));
        assert!(one("Enabled", "false".into()).is_ok());
        let creds = |k: &str| check_credentials(&[(k.to_owned(), "x".to_owned())].into()).unwrap_err().message;
        assert!(creds("PlatformPrincipal").ends_with("PlatformPrincipal attribute provided without PlatformCredential"));
    }
}
