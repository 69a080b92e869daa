//! Listings: GetParametersByPath and DescribeParameters, their filters checked and
//! matched in AWS's words, and pages of any listing.

use base64::Engine;

use super::*;
use crate::names::Selected;

/// AWS's words for a path outside the naming rules.
const INVALID_PATH: &str = "The parameter doesn't meet the parameter name requirements. The parameter name must begin \
with a forward slash \"/\". It can't be prefixed with \"aws\" or \"ssm\" (case-insensitive). It must use only letters, \
numbers, or the following symbols: . (period), - (hyphen), _ (underscore). Special characters are not allowed. All \
sub-paths, if specified, must use the forward slash symbol \"/\". Valid example: /get/parameters2-/by1./path0_.";

/// What GetParametersByPath takes.
#[derive(Debug, Clone, Default)]
pub struct PathQuery {
    /// `Path`.
    pub path: String,
    /// `Recursive`.
    pub recursive: bool,
    /// `ParameterFilters` (`Type`, `KeyId`, `Label`).
    pub filters: Vec<Filter>,
    /// `WithDecryption`.
    pub decrypt: bool,
    /// `MaxResults` (10 unless given).
    pub max: Option<usize>,
    /// `NextToken`.
    pub token: Option<String>,
}

/// What DescribeParameters takes.
#[derive(Debug, Clone, Default)]
pub struct DescribeQuery {
    /// `Filters` (the older form: `Name`, `Type`, `KeyId`).
    pub filters: Vec<Filter>,
    /// `ParameterFilters`.
    pub parameter_filters: Vec<Filter>,
    /// `MaxResults` (50 unless given).
    pub max: Option<usize>,
    /// `NextToken`.
    pub token: Option<String>,
}

impl SsmService {
    /// GetParametersByPath: the parameters under a path, each at its newest version (or
    /// the version a `Label` filter names), a page at a time.
    pub fn by_path(&self, caller: &Caller, q: PathQuery) -> Result<Page<Shown>, SsmError> {
        check_path(&q.path)?;
        check_filters(&q.filters, true)?;
        let map = self.inner.parameters.read();
        let mut found = Vec::new();
        for ((account, region, _), p) in map.iter() {
            if *account != caller.account || *region != caller.region || !names::under(&p.name, &q.path, q.recursive) {
                continue;
            }
            let label = q.filters.iter().find(|f| f.key == "Label");
            let version = match label {
                Some(f) => p.versions.iter().rev().find(|v| v.labels.iter().any(|l| f.values.contains(l))),
                None => Some(p.latest()),
            };
            let Some(v) = version else { continue };
            if q.filters.iter().filter(|f| f.key != "Label").all(|f| matches(f, p, v)) {
                let asked = Selected { name: p.name.clone(), selector: None, by_arn: true };
                found.push(self.show(p, v, &asked, q.decrypt));
            }
        }
        page(found, q.max.unwrap_or(10), q.token.as_deref())
    }

    /// DescribeParameters: the parameters the filters keep, described at their newest
    /// version, a page at a time.
    pub fn describe(&self, caller: &Caller, q: DescribeQuery) -> Result<Page<Described>, SsmError> {
        if !q.filters.is_empty() && !q.parameter_filters.is_empty() {
            return Err(SsmError::Validation(
                "You can use either Filters or ParameterFilters in a single request.".into(),
            ));
        }
        check_filters(&q.parameter_filters, false)?;
        let map = self.inner.parameters.read();
        let mut found = Vec::new();
        for ((account, region, _), p) in map.iter() {
            if *account != caller.account || *region != caller.region {
                continue;
            }
            let v = p.latest();
            let legacy = q.filters.iter().all(|f| legacy_matches(f, p, v));
            if legacy && q.parameter_filters.iter().all(|f| matches(f, p, v)) {
                let arn = names::arn(&p.region, &p.account, &p.name);
                found.push(Described { name: p.name.clone(), arn, version: v.clone(), value: None });
            }
        }
        page(found, q.max.unwrap_or(50), q.token.as_deref())
    }
}

/// A path GetParametersByPath takes: `/`, or a name's form with its leading slash.
fn check_path(path: &str) -> Result<(), SsmError> {
    let trimmed = path.strip_suffix('/').filter(|p| !p.is_empty()).unwrap_or(path);
    if path != "/" && (!path.starts_with('/') || names::check(trimmed).is_err()) {
        return match names::check(trimmed) {
            Err(e @ SsmError::HierarchyLevelLimitExceeded(_)) => Err(e),
            _ => Err(SsmError::Validation(INVALID_PATH.into())),
        };
    }
    Ok(())
}

/// Checks `ParameterFilters` as AWS does, in its words; `by_path` for GetParametersByPath.
fn check_filters(filters: &[Filter], by_path: bool) -> Result<(), SsmError> {
    let mut seen = Vec::new();
    for f in filters {
        let key = f.key.as_str();
        if by_path && !["Type", "KeyId", "Label"].contains(&key) && !key.starts_with("tag:") {
            return Err(SsmError::InvalidFilterKey(format!(
                "The following filter key is not valid: {key}. Valid filter keys include: [Type, KeyId]."
            )));
        }
        let known = ["Name", "Type", "KeyId", "Path", "Tier", "DataType"].contains(&key) || key.starts_with("tag:");
        if !by_path && !known {
            return Err(SsmError::InvalidFilterKey(format!(
                "The following filter key is not valid: {key}. Valid filter keys include: [Path, Name, Type, KeyId, Tier]."
            )));
        }
        if seen.contains(&key) {
            return Err(SsmError::InvalidFilterKey(format!(
                "The following filter is duplicated in the request: {key}. A request can contain only one occurrence \
                 of a specific filter."
            )));
        }
        seen.push(key);
        if f.values.is_empty() && !key.starts_with("tag:") {
            return Err(SsmError::InvalidFilterValue(format!(
                "The following filter values are missing : null for filter key {key}."
            )));
        }
        check_filter_option(f)?;
        check_filter_values(f)?;
    }
    Ok(())
}

fn check_filter_option(f: &Filter) -> Result<(), SsmError> {
    let option = f.option.as_deref();
    if f.key == "Path" {
        if let Some(o) = option.filter(|o| !["Recursive", "OneLevel"].contains(o)) {
            return Err(SsmError::InvalidFilterOption(format!(
                "The following filter option is not valid: {o}. Valid options include: [Recursive, OneLevel]."
            )));
        }
        return Ok(());
    }
    let allowed: &[&str] =
        if f.key == "Name" { &["Equals", "BeginsWith", "Contains"] } else { &["Equals", "BeginsWith"] };
    match option.filter(|o| !allowed.contains(o)) {
        Some(o) => Err(SsmError::InvalidFilterOption(format!(
            "The following filter option is not valid: {o}. Valid options include: [BeginsWith, Equals]."
        ))),
        None => Ok(()),
    }
}

fn check_filter_values(f: &Filter) -> Result<(), SsmError> {
    let closed: Option<&[&str]> = match f.key.as_str() {
        "Type" => Some(ParameterType::NAMES),
        "Tier" => Some(Tier::NAMES),
        _ => None,
    };
    if let Some(names) = closed {
        if let Some(v) = f.values.iter().find(|v| !names.contains(&v.as_str())) {
            return Err(SsmError::InvalidFilterOption(format!(
                "The following filter value is not valid: {v}. Valid values include: [{}].",
                names.join(", ")
            )));
        }
    }
    if f.key == "Path" {
        for v in &f.values {
            let lower = v.to_ascii_lowercase();
            if lower.starts_with("/aws") || lower.starts_with("/ssm") {
                return Err(SsmError::Validation(
                    "Filters for common parameters can't be prefixed with \"aws\" or \"ssm\" (case-insensitive). \
                     When using global parameters, please specify within a global namespace."
                        .into(),
                ));
            }
            check_path(v)?;
        }
    }
    Ok(())
}

/// Whether a parameter (at version `v`) passes a `ParameterFilters` entry.
fn matches(f: &Filter, p: &Parameter, v: &Version) -> bool {
    let option = f.option.as_deref().unwrap_or(if f.key == "Path" { "OneLevel" } else { "Equals" });
    let text = |have: &str| {
        f.values.iter().any(|want| match option {
            "BeginsWith" => have.starts_with(want.as_str()),
            "Contains" => have.contains(want.as_str()),
            _ => have == want,
        })
    };
    match f.key.as_str() {
        "Name" => text(&p.name) || text(names::key_of(&p.name)),
        "Type" => text(v.kind.as_str()),
        "KeyId" => v.key_id.as_deref().is_some_and(text),
        "Tier" => text(v.tier.as_str()),
        "DataType" => text(&v.data_type),
        "Path" => f.values.iter().any(|path| names::under(&p.name, path, option == "Recursive")),
        key => match key.strip_prefix("tag:").and_then(|k| p.tags.get(k)) {
            Some(value) => f.values.is_empty() || f.values.contains(value),
            None => false,
        },
    }
}

/// Whether a parameter passes a legacy `Filters` entry (`Name` by prefix, `Type`, `KeyId`).
fn legacy_matches(f: &Filter, p: &Parameter, v: &Version) -> bool {
    f.values.iter().any(|want| match f.key.as_str() {
        "Name" => p.name.starts_with(want.as_str()),
        "Type" => v.kind.as_str() == want,
        "KeyId" => v.key_id.as_deref() == Some(want.as_str()),
        _ => false,
    })
}

/// A page of `items` from `token` on, at most `max` long.
pub(crate) fn page<T>(items: Vec<T>, max: usize, token: Option<&str>) -> Result<Page<T>, SsmError> {
    let start = match token {
        None => 0,
        Some(t) => base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(t)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| s.strip_prefix("ssm:").and_then(|n| n.parse::<usize>().ok()))
            .filter(|n| *n <= items.len())
            .ok_or(SsmError::InvalidNextToken)?,
    };
    let max = max.max(1);
    let end = (start + max).min(items.len());
    let next_token =
        (end < items.len()).then(|| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("ssm:{end}")));
    let items = items.into_iter().skip(start).take(end - start).collect();
    Ok(Page { items, next_token })
}
