//! Who a request acts as, once the API layer has authenticated it, and how a function
//! is named between services: the same for every service.

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

/// A function, as every service names it: its account, region and name (its versions and
/// aliases are qualifiers of it).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FunctionKey {
    /// The owning account.
    pub account: String,
    /// The region.
    pub region: String,
    /// The function's name.
    pub name: String,
}

impl FunctionKey {
    /// The function `name` of `account` in `region`.
    pub fn new(account: impl Into<String>, region: impl Into<String>, name: impl Into<String>) -> FunctionKey {
        FunctionKey { account: account.into(), region: region.into(), name: name.into() }
    }
}
