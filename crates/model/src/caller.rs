//! Who a request acts as, once the API layer has authenticated it: the same for every
//! service.

/// The account a request acts in and the region it was sent to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Caller {
    /// The account (12 digits).
    pub account: String,
    /// The region (`us-east-1`).
    pub region: String,
}

impl Caller {
    /// A caller of `account` in `region`.
    pub fn new(account: impl Into<String>, region: impl Into<String>) -> Caller {
        Caller { account: account.into(), region: region.into() }
    }
}
