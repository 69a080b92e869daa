//! Who is calling: the account and region a request acts in.

use std::sync::Arc;

use axum::http::request::Parts;
use axum::http::HeaderMap;

use crate::auth::{Authenticated, Authenticator};

/// Maps requests to accounts and regions. In authenticated mode (`auth`), a request acts
/// in the account of the key that signed it, verified before any handler runs. In open
/// mode, an access key of twelve digits selects that account, as LocalStack does; any
/// other key, or none, acts in the default account, except a temporary key Lamina issued
/// (a function's session, an assumed role's), which acts as what it was issued to. The
/// region comes from the SigV4 credential scope.
#[derive(Debug, Clone)]
pub struct CallerPolicy {
    /// Account for keys that do not name one (open mode).
    pub default_account: String,
    /// Region for unsigned requests.
    pub default_region: String,
    /// The keys of authenticated mode; `None` is open mode.
    pub auth: Option<Arc<Authenticator>>,
    /// Where temporary credentials are issued and known: `auth` in authenticated mode, a
    /// registry of its own in open mode.
    pub issued: Arc<Authenticator>,
}

impl CallerPolicy {
    /// The caller of a request.
    pub fn caller(&self, parts: &Parts) -> lambda::Caller {
        if let Some(who) = parts.extensions.get::<Authenticated>() {
            return model::Caller::new(&who.account, &who.region);
        }
        self.open_caller(&parts.headers)
    }

    /// The principal of a request in open mode, when its key is a temporary one Lamina
    /// issued: (account, principal ARN).
    pub(crate) fn open_principal(&self, headers: &HeaderMap) -> Option<(String, String)> {
        self.issued.holder(&credential_scope(headers)?.0?)
    }

    /// The caller of a request in open mode: by the key its credential names.
    fn open_caller(&self, headers: &HeaderMap) -> lambda::Caller {
        let (key, region) = credential_scope(headers).unwrap_or((None, None));
        let issued = key.as_deref().and_then(|k| self.issued.holder(k)).map(|(account, _)| account);
        let account = issued.or_else(|| key.filter(|k| k.len() == 12 && k.chars().all(|c| c.is_ascii_digit())));
        let account = account.unwrap_or_else(|| self.default_account.clone());
        let region = region.filter(|r| !r.is_empty()).unwrap_or_else(|| self.default_region.clone());
        lambda::Caller { account, region }
    }
}

/// The access key and region of a request's SigV4 credential scope.
fn credential_scope(headers: &HeaderMap) -> Option<(Option<String>, Option<String>)> {
    let cred = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|auth| auth.split("Credential=").nth(1))
        .map(|cred| cred.split([',', ' ']).next().unwrap_or(""))?;
    let parts: Vec<&str> = cred.split('/').collect();
    Some((parts.first().map(|s| (*s).to_owned()), parts.get(2).map(|s| (*s).to_owned())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> CallerPolicy {
        CallerPolicy {
            default_account: "000000000000".into(),
            default_region: "us-east-1".into(),
            auth: None,
            issued: Arc::new(Authenticator::new(Vec::new())),
        }
    }

    #[test]
    fn twelve_digit_keys_select_the_account_and_scope_selects_the_region() {
        let mut h = HeaderMap::new();
        h.insert(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=123456789012/20261127/eu-west-1/lambda/aws4_request, SignedHeaders=host, Signature=x"
                .parse()
                .unwrap(),
        );
        let c = policy().open_caller(&h);
        assert_eq!((c.account.as_str(), c.region.as_str()), ("123456789012", "eu-west-1"));
    }

    #[test]
    fn other_keys_and_unsigned_requests_use_the_defaults() {
        let mut h = HeaderMap::new();
        h.insert(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=test/20261127/us-west-2/lambda/aws4_request, SignedHeaders=host, Signature=x"
                .parse()
                .unwrap(),
        );
        let c = policy().open_caller(&h);
        assert_eq!((c.account.as_str(), c.region.as_str()), ("000000000000", "us-west-2"));
        let c = policy().open_caller(&HeaderMap::new());
        assert_eq!((c.account.as_str(), c.region.as_str()), ("000000000000", "us-east-1"));
    }
}
