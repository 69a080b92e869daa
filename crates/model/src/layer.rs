//! Layers: published, versioned archives merged into a function's `/opt`.

use crate::function::CodeInfo;
use crate::limits::DESCRIPTION_MAX;
use crate::runtime::Runtime;
use crate::validate::{Invalid, Violation};

/// botocore's pattern for a `LayerName` member (a name or a layer ARN).
pub const LAYER_NAME_PATTERN: &str =
    "(arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+)|[a-zA-Z0-9-_]+";
/// botocore's pattern for a layer version ARN.
pub const LAYER_VERSION_ARN_PATTERN: &str =
    "arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+";
/// Layers one function may use.
pub const FUNCTION_LAYERS_MAX: usize = 5;
const LICENSE_MAX: usize = 512;
const LAYER_NAME_MAX: usize = 140;

/// One version of a layer.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerVersion {
    /// The owning account.
    pub account: String,
    /// The region.
    pub region: String,
    /// The layer's name.
    pub name: String,
    /// The version number, from 1.
    pub version: u32,
    /// Free text.
    pub description: String,
    /// `LicenseInfo`.
    pub license: Option<String>,
    /// `CompatibleRuntimes`.
    pub runtimes: Vec<String>,
    /// `CompatibleArchitectures`.
    pub architectures: Vec<String>,
    /// The archive.
    pub code: CodeInfo,
    /// Milliseconds since the epoch it was published.
    pub created_ms: i64,
    /// Its permissions (AddLayerVersionPermission).
    pub policy: LayerPolicy,
}

/// A layer version's resource policy: who else may use it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LayerPolicy {
    /// The statements, in the order they were added.
    pub statements: Vec<LayerStatement>,
    /// Changes with every statement added or removed.
    pub revision_id: String,
}

/// One AddLayerVersionPermission statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerStatement {
    /// `StatementId`.
    pub sid: String,
    /// `Principal`: an account id, or `*` for every account.
    pub principal: String,
    /// `OrganizationId`, which narrows `*` to one organisation.
    pub organization: Option<String>,
}

impl LayerStatement {
    /// Whether this statement lets `account` use the layer version. Organisations are
    /// not modelled: a statement narrowed to one admits no other account.
    pub fn admits(&self, account: &str) -> bool {
        self.organization.is_none() && (self.principal == "*" || self.principal == account)
    }
}

/// The ARN of a layer (all its versions).
pub fn layer_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:lambda:{region}:{account}:layer:{name}")
}

impl LayerVersion {
    /// The layer's ARN.
    pub fn layer_arn(&self) -> String {
        layer_arn(&self.region, &self.account, &self.name)
    }

    /// The version's ARN.
    pub fn arn(&self) -> String {
        format!("{}:{}", self.layer_arn(), self.version)
    }

    /// Whether `account` may use this version: its owner, or one its policy admits.
    pub fn usable_by(&self, account: &str) -> bool {
        self.account == account || self.policy.statements.iter().any(|s| s.admits(account))
    }
}

/// A layer as a function uses it: the version's ARN and its archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionLayer {
    /// The layer version's ARN.
    pub arn: String,
    /// The archive's size.
    pub code_size: u64,
    /// The archive's hash, which names it in the code store.
    pub sha256_hex: String,
}

/// A layer version named by ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerVersionRef {
    /// The owning account.
    pub account: String,
    /// The region.
    pub region: String,
    /// The layer's name.
    pub name: String,
    /// The version.
    pub version: u32,
}

fn is_name(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

impl LayerVersionRef {
    /// Parses `arn:aws:lambda:<region>:<account>:layer:<name>:<version>`.
    pub fn parse(arn: &str) -> Option<LayerVersionRef> {
        let parts: Vec<&str> = arn.split(':').collect();
        match parts.as_slice() {
            ["arn", partition, "lambda", region, account, "layer", name, version]
                if !partition.is_empty()
                    && !region.is_empty()
                    && account.len() == 12
                    && account.chars().all(|c| c.is_ascii_digit())
                    && is_name(name)
                    && arn.len() <= 140 =>
            {
                Some(LayerVersionRef {
                    account: (*account).to_owned(),
                    region: (*region).to_owned(),
                    name: (*name).to_owned(),
                    version: version.parse().ok()?,
                })
            }
            _ => None,
        }
    }
}

/// Checks a function's `Layers` list: at most five, each a layer version ARN.
pub fn check_function_layers(arns: &[String]) -> Result<Vec<LayerVersionRef>, Invalid> {
    let refs = arns.iter().map(|a| LayerVersionRef::parse(a)).collect::<Option<Vec<_>>>().ok_or_else(|| {
        Invalid::from(Violation::new(
            format!("[{}]", arns.join(", ")),
            "layers",
            format!(
                "Member must satisfy constraint: [Member must have length less than or equal to 140, Member must \
                     have length greater than or equal to 1, Member must satisfy regular expression pattern: \
                     {LAYER_VERSION_ARN_PATTERN}, Member must not be null]"
            ),
        ))
    })?;
    if refs.len() > FUNCTION_LAYERS_MAX {
        return Err(Invalid::parameter("Cannot reference more than 5 layers."));
    }
    Ok(refs)
}

/// Resolves a `LayerName` member (a name, or the layer's ARN) to the name, checking the
/// ARN's account and region against the caller's.
pub fn check_layer_name(input: &str) -> Result<String, Invalid> {
    let bad = || Invalid::from(Violation::pattern(input, "layerName", LAYER_NAME_PATTERN));
    if input.is_empty() {
        return Err(Violation::min_length(input, "layerName", 1).into());
    }
    if input.len() > LAYER_NAME_MAX {
        return Err(Violation::max_length(input, "layerName", LAYER_NAME_MAX).into());
    }
    if is_name(input) {
        return Ok(input.to_owned());
    }
    match input.split(':').collect::<Vec<_>>().as_slice() {
        ["arn", _, "lambda", _, account, "layer", name] if account.len() == 12 && is_name(name) => {
            Ok((*name).to_owned())
        }
        _ => Err(bad()),
    }
}

/// Raw PublishLayerVersion input.
#[derive(Debug, Clone, Default)]
pub struct LayerDraft {
    /// `Description`.
    pub description: Option<String>,
    /// `LicenseInfo`.
    pub license: Option<String>,
    /// `CompatibleRuntimes`.
    pub runtimes: Option<Vec<String>>,
    /// `CompatibleArchitectures`.
    pub architectures: Option<Vec<String>>,
}

impl LayerDraft {
    /// Checks the members as botocore's constraints state them.
    pub fn check(&self) -> Result<(), Invalid> {
        let mut violations = Vec::new();
        if let Some(d) = &self.description {
            if d.chars().count() > DESCRIPTION_MAX {
                violations.push(Violation::max_length(d, "description", DESCRIPTION_MAX));
            }
        }
        if let Some(l) = &self.license {
            if l.chars().count() > LICENSE_MAX {
                violations.push(Violation::max_length(l, "licenseInfo", LICENSE_MAX));
            }
        }
        let list = |v: &[String]| format!("[{}]", v.join(", "));
        if let Some(r) = &self.runtimes {
            if r.len() > 15 {
                violations.push(Violation::new(
                    list(r),
                    "compatibleRuntimes",
                    "Member must have length less than or equal to 15",
                ));
            } else if r.iter().any(|id| Runtime::parse(id).is_none()) {
                violations.push(Violation::new(
                    list(r),
                    "compatibleRuntimes",
                    format!(
                        "Member must satisfy constraint: [Member must satisfy enum value set: [{}]]",
                        Runtime::all_ids().join(", ")
                    ),
                ));
            }
        }
        if let Some(a) = &self.architectures {
            if a.len() > 2 {
                violations.push(Violation::new(
                    list(a),
                    "compatibleArchitectures",
                    "Member must have length less than or equal to 2",
                ));
            } else if a.iter().any(|x| x != "x86_64" && x != "arm64") {
                violations.push(Violation::new(
                    list(a),
                    "compatibleArchitectures",
                    "Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64]]",
                ));
            }
        }
        if violations.is_empty() {
            Ok(())
        } else {
            Err(Invalid::Constraints(violations))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_arns_parse_and_are_checked() {
        let r = LayerVersionRef::parse("arn:aws:lambda:us-east-1:123456789012:layer:deps:3").unwrap();
        assert_eq!((r.account.as_str(), r.name.as_str(), r.version), ("123456789012", "deps", 3));
        for bad in
            ["deps:3", "arn:aws:lambda:us-east-1:123456789012:layer:deps", "arn:aws:lambda:us-east-1:1:layer:d:1"]
        {
            assert!(LayerVersionRef::parse(bad).is_none(), "{bad}");
        }
        let six: Vec<String> = (1..=6).map(|n| format!("arn:aws:lambda:us-east-1:123456789012:layer:l{n}:1")).collect();
        assert_eq!(check_function_layers(&six).unwrap_err().to_string(), "Cannot reference more than 5 layers.");
        let e = check_function_layers(&["nope".to_owned()]).unwrap_err();
        assert!(e.to_string().contains("regular expression pattern"), "{e}");
    }

    #[test]
    fn layer_names_and_drafts() {
        assert_eq!(check_layer_name("deps").unwrap(), "deps");
        assert_eq!(check_layer_name("arn:aws:lambda:us-east-1:123456789012:layer:deps").unwrap(), "deps");
        assert!(check_layer_name("a b").is_err());
        let draft = LayerDraft { runtimes: Some(vec!["cobol9".into()]), ..Default::default() };
        assert!(draft.check().unwrap_err().to_string().contains("compatibleRuntimes"));
        let ok = LayerDraft {
            runtimes: Some(vec!["python3.12".into()]),
            architectures: Some(vec!["x86_64".into()]),
            ..Default::default()
        };
        assert!(ok.check().is_ok());
    }

    #[test]
    fn policies_admit_their_principals() {
        let s = |p: &str, org: Option<&str>| LayerStatement {
            sid: "s".into(),
            principal: p.into(),
            organization: org.map(str::to_owned),
        };
        assert!(s("*", None).admits("111111111111"));
        assert!(s("111111111111", None).admits("111111111111"));
        assert!(!s("222222222222", None).admits("111111111111"));
        assert!(!s("*", Some("o-abc")).admits("111111111111"));
    }
}
