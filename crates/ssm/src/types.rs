//! Parameters as kept in memory and stored (serde: the store's documents are this
//! crate's own format; the wire form is `aws-api`'s).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

model::aws_enum! {
    /// A parameter's `Type`.
    #[derive(Serialize, Deserialize)]
    #[serde(try_from = "String", into = "String")]
    pub enum ParameterType {
        /// `String`.
        String = "String",
        /// `StringList`: comma-separated values.
        StringList = "StringList",
        /// `SecureString`: sealed at rest, shown only when asked to decrypt.
        SecureString = "SecureString",
    }
}

model::aws_enum! {
    /// A parameter's `Tier`. `Intelligent-Tiering` is asked for, never kept: it chooses
    /// `Standard` when the value fits and `Advanced` when not.
    #[derive(Default, Serialize, Deserialize)]
    #[serde(try_from = "String", into = "String")]
    pub enum Tier {
        /// `Standard`: values of up to 4 KB.
        #[default]
        Standard = "Standard",
        /// `Advanced`: values of up to 8 KB.
        Advanced = "Advanced",
        /// `Intelligent-Tiering`.
        IntelligentTiering = "Intelligent-Tiering",
    }
}

/// A parameter: every version kept (at most 100, the oldest dropped first), and its tags.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Parameter {
    /// The owning account.
    pub account: String,
    /// Its region.
    pub region: String,
    /// Its name, as first given (`db` or `/app/db`).
    pub name: String,
    /// Its versions, oldest first.
    pub versions: Vec<Version>,
    /// Its tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

impl Parameter {
    /// The newest version.
    pub fn latest(&self) -> &Version {
        self.versions.last().expect("a parameter has at least one version")
    }
}

/// One version of a parameter.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Version {
    /// `Version`, from 1.
    pub version: u64,
    /// `Type`.
    pub kind: ParameterType,
    /// The value; sealed (see `seal.rs`) for a `SecureString`.
    pub value: String,
    /// `Description`.
    pub description: Option<String>,
    /// `AllowedPattern`.
    pub allowed_pattern: Option<String>,
    /// `KeyId` (`SecureString` only; `alias/aws/ssm` by default).
    pub key_id: Option<String>,
    /// `Tier`: `Standard` or `Advanced`.
    pub tier: Tier,
    /// `DataType`: `text`, `aws:ec2:image` or `aws:ssm:integration`.
    pub data_type: String,
    /// `Policies`, as given (JSON), for an advanced parameter.
    #[serde(default)]
    pub policies: Option<String>,
    /// `Labels`.
    #[serde(default)]
    pub labels: Vec<String>,
    /// `LastModifiedDate`, ms since the epoch.
    pub modified_ms: i64,
    /// `LastModifiedUser`: the ARN of who made this version.
    pub modified_user: String,
}

/// What PutParameter takes.
#[derive(Debug, Clone, Default)]
pub struct PutInput {
    /// `Name`.
    pub name: String,
    /// `Value`.
    pub value: String,
    /// `Type`, as given.
    pub kind: Option<String>,
    /// `Description`.
    pub description: Option<String>,
    /// `AllowedPattern`.
    pub allowed_pattern: Option<String>,
    /// `KeyId`.
    pub key_id: Option<String>,
    /// `Overwrite`.
    pub overwrite: bool,
    /// `Tags`.
    pub tags: BTreeMap<String, String>,
    /// `Tier`, as given.
    pub tier: Option<String>,
    /// `DataType`.
    pub data_type: Option<String>,
    /// `Policies`.
    pub policies: Option<String>,
    /// Who asks: their ARN, kept as `LastModifiedUser`.
    pub user: String,
}

/// A parameter's value as GetParameter, GetParameters and GetParametersByPath show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    /// `Name`: as asked for (or as stored, when asked by ARN or by path).
    pub name: String,
    /// `Type`.
    pub kind: ParameterType,
    /// `Value`: decrypted if asked to, else as stored (sealed, for a `SecureString`).
    pub value: String,
    /// `Version`.
    pub version: u64,
    /// `Selector` (`:3`, `:label`), when one was given.
    pub selector: Option<String>,
    /// `LastModifiedDate`, ms.
    pub modified_ms: i64,
    /// `ARN`.
    pub arn: String,
    /// `DataType`.
    pub data_type: String,
}

/// A parameter's description, as DescribeParameters shows it (and GetParameterHistory,
/// with a value and labels, each version).
#[derive(Debug, Clone)]
pub struct Described {
    /// `Name`.
    pub name: String,
    /// `ARN`.
    pub arn: String,
    /// The version described.
    pub version: Version,
    /// Its value, when history is asked for: decrypted if asked to.
    pub value: Option<String>,
}

/// A page of results, and where the next starts.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// `NextToken`, if there are more.
    pub next_token: Option<String>,
}

/// A `ParameterFilters` entry (`Key`, `Option`, `Values`), or a legacy `Filters` entry.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// `Key`: `Name`, `Type`, `KeyId`, `Path`, `Tier`, `DataType`, `Label`, `tag:<key>`.
    pub key: String,
    /// `Option`: `Equals`, `BeginsWith`, `Contains`, `Recursive`, `OneLevel`.
    pub option: Option<String>,
    /// `Values`.
    pub values: Vec<String>,
}
