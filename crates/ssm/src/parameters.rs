//! One parameter at a time: PutParameter, GetParameter(s), DeleteParameter(s),
//! GetParameterHistory and the labels of its versions.

use super::*;
use crate::names::{Selected, Selector};

/// The most versions a parameter keeps.
const MAX_VERSIONS: usize = 100;
/// The most labels one version carries.
const MAX_LABELS: usize = 10;
/// The longest values of each tier, in characters.
const STANDARD_MAX: usize = 4096;
const ADVANCED_MAX: usize = 8192;
/// The data types a parameter may declare.
const DATA_TYPES: [&str; 3] = ["text", "aws:ec2:image", "aws:ssm:integration"];
/// The KMS key SecureStrings are sealed under unless another is named.
pub(crate) const DEFAULT_KEY: &str = "alias/aws/ssm";

impl SsmService {
    /// PutParameter: the new version's number and tier.
    pub fn put(&self, caller: &Caller, input: PutInput) -> Result<(u64, Tier), SsmError> {
        if input.value.is_empty() {
            return Err(SsmError::Validation(
                "1 validation error detected: Value '' at 'value' failed to satisfy constraint: Member must have \
                 length greater than or equal to 1."
                    .into(),
            ));
        }
        if input.overwrite && !input.tags.is_empty() {
            return Err(SsmError::Validation(
                "Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please \
                 remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or \
                 RemoveTagsFromResource."
                    .into(),
            ));
        }
        names::check_new(&input.name)?;
        let k = key(caller, &input.name);
        let mut map = self.inner.parameters.write();
        let existing = map.get(&k);
        let kind = read_type(input.kind.as_deref(), existing)?;
        let data_type = input.data_type.clone().unwrap_or_else(|| "text".into());
        if !DATA_TYPES.contains(&data_type.as_str()) {
            return Err(SsmError::Validation(format!(
                "The following data type is not supported: {data_type} (Data type names are all lowercase.)"
            )));
        }
        if existing.is_some() && !input.overwrite {
            return Err(SsmError::AlreadyExists);
        }
        let previous = existing.map(Parameter::latest);
        let tier = read_tier(input.tier.as_deref(), previous, &input.value)?;
        let allowed_pattern =
            input.allowed_pattern.clone().or_else(|| previous.and_then(|v| v.allowed_pattern.clone()));
        if let Some(pattern) = &allowed_pattern {
            check_pattern(pattern, &input.value)?;
        }
        let mut p = match existing {
            Some(p) => p.clone(),
            None => Parameter {
                account: caller.account.clone(),
                region: caller.region.clone(),
                name: input.name.clone(),
                versions: Vec::new(),
                tags: input.tags.clone(),
            },
        };
        if p.versions.len() >= MAX_VERSIONS {
            let oldest = &p.versions[0];
            if !oldest.labels.is_empty() {
                return Err(SsmError::MaxVersionLimitExceeded(format!(
                    "You attempted to create a new version of {} by calling the PutParameter API with the overwrite \
                     flag. Version {}, the oldest version, can't be deleted because it has a label associated with \
                     it. Move the label to another version of the parameter, and try again.",
                    input.name, oldest.version
                )));
            }
            p.versions.remove(0);
        }
        let secure = kind == ParameterType::SecureString;
        let version = Version {
            version: previous.map_or(1, |v| v.version + 1),
            kind,
            value: if secure { self.inner.sealer.seal(&k.2, &input.value) } else { input.value },
            description: input.description.or_else(|| previous.and_then(|v| v.description.clone())),
            allowed_pattern,
            key_id: secure.then(|| input.key_id.unwrap_or_else(|| DEFAULT_KEY.into())),
            tier,
            data_type,
            policies: input.policies,
            labels: Vec::new(),
            modified_ms: model::clock::now_ms(),
            modified_user: input.user,
        };
        let number = version.version;
        p.versions.push(version);
        self.keep(&mut map, k, p)?;
        Ok((number, tier))
    }

    /// GetParameter: `name` may carry a selector (`:3`, `:label`) or be an ARN.
    pub fn get(&self, caller: &Caller, name: &str, decrypt: bool) -> Result<Shown, SsmError> {
        if name.starts_with(SECRET_REFERENCE) {
            return Err(secret_reference(name, decrypt));
        }
        let asked = names::select(name)?;
        let map = self.inner.parameters.read();
        let p = map.get(&key(caller, &asked.name)).ok_or_else(|| SsmError::NotFound(String::new()))?;
        let v = version_of(p, &asked)?;
        Ok(self.show(p, v, &asked, decrypt))
    }

    /// GetParameters: those found, and the names of those not (or whose version is not).
    pub fn get_many(
        &self,
        caller: &Caller,
        names: &[String],
        decrypt: bool,
    ) -> Result<(Vec<Shown>, Vec<String>), SsmError> {
        let (mut found, mut invalid) = (Vec::new(), Vec::new());
        for name in names {
            match self.get(caller, name, decrypt) {
                Ok(s) if !found.contains(&s) => found.push(s),
                Ok(_) => {}
                Err(SsmError::NotFound(_) | SsmError::VersionNotFound(_)) => {
                    if !invalid.contains(name) {
                        invalid.push(name.clone());
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Ok((found, invalid))
    }

    /// A version as the Get operations show it.
    pub(crate) fn show(&self, p: &Parameter, v: &Version, asked: &Selected, decrypt: bool) -> Shown {
        Shown {
            name: if asked.by_arn { p.name.clone() } else { asked.name.clone() },
            kind: v.kind,
            value: self.shown_value(p, v, decrypt),
            version: v.version,
            selector: asked.selector.as_ref().map(Selector::shown),
            modified_ms: v.modified_ms,
            arn: names::arn(&p.region, &p.account, &p.name),
            data_type: v.data_type.clone(),
        }
    }

    /// DeleteParameter.
    pub fn delete(&self, caller: &Caller, name: &str) -> Result<(), SsmError> {
        names::check(name)?;
        let mut map = self.inner.parameters.write();
        match self.forget(&mut map, &key(caller, name))? {
            Some(_) => Ok(()),
            None => Err(SsmError::NotFound(String::new())),
        }
    }

    /// DeleteParameters: the names deleted, and those that were not there.
    pub fn delete_many(&self, caller: &Caller, names: &[String]) -> Result<(Vec<String>, Vec<String>), SsmError> {
        let mut map = self.inner.parameters.write();
        let (mut deleted, mut invalid) = (Vec::new(), Vec::new());
        for name in names {
            let gone = names::check(name).is_ok() && self.forget(&mut map, &key(caller, name))?.is_some();
            if gone {
                deleted.push(name.clone());
            } else if !invalid.contains(name) && !deleted.contains(name) {
                invalid.push(name.clone());
            }
        }
        Ok((deleted, invalid))
    }

    /// GetParameterHistory: every version kept, oldest first, a page at a time.
    pub fn history(
        &self,
        caller: &Caller,
        name: &str,
        decrypt: bool,
        max: usize,
        token: Option<&str>,
    ) -> Result<Page<Described>, SsmError> {
        let asked = names::select(name)?;
        let map = self.inner.parameters.read();
        let p = map.get(&key(caller, &asked.name)).ok_or_else(|| SsmError::NotFound(String::new()))?;
        let all: Vec<Described> = p
            .versions
            .iter()
            .map(|v| Described {
                name: p.name.clone(),
                arn: names::arn(&p.region, &p.account, &p.name),
                version: v.clone(),
                value: Some(self.shown_value(p, v, decrypt)),
            })
            .collect();
        query::page(all, max, token)
    }

    /// LabelParameterVersion: the labels refused for their form, and the version labelled
    /// (the newest unless one is named). A label moves from any other version to this one.
    pub fn label(
        &self,
        caller: &Caller,
        name: &str,
        version: Option<u64>,
        labels: &[String],
    ) -> Result<(Vec<String>, u64), SsmError> {
        names::check(name)?;
        let k = key(caller, name);
        let mut map = self.inner.parameters.write();
        let mut p = map.get(&k).cloned().ok_or_else(|| SsmError::NotFound(format!("Parameter {name} not found.")))?;
        let number = version.unwrap_or_else(|| p.latest().version);
        let at = p.versions.iter().position(|v| v.version == number).ok_or_else(|| no_version(number, name))?;
        let (valid, invalid): (Vec<String>, Vec<String>) = labels.iter().cloned().partition(|l| names::label_ok(l));
        let mut target = p.versions[at].labels.clone();
        target.extend(valid.iter().filter(|l| !p.versions[at].labels.contains(l)).cloned());
        if target.len() > MAX_LABELS {
            return Err(SsmError::LabelLimitExceeded(
                "A parameter version can have maximum 10 labels.Move one or more labels to another version and try \
                 again."
                    .into(),
            ));
        }
        for v in &mut p.versions {
            v.labels.retain(|l| !valid.contains(l));
        }
        p.versions[at].labels = target;
        self.keep(&mut map, k, p)?;
        Ok((invalid, number))
    }

    /// UnlabelParameterVersion: the labels removed, and those the version did not carry.
    pub fn unlabel(
        &self,
        caller: &Caller,
        name: &str,
        version: u64,
        labels: &[String],
    ) -> Result<(Vec<String>, Vec<String>), SsmError> {
        names::check(name)?;
        let k = key(caller, name);
        let mut map = self.inner.parameters.write();
        let mut p = map.get(&k).cloned().ok_or_else(|| SsmError::NotFound(format!("Parameter {name} not found.")))?;
        let v = p.versions.iter_mut().find(|v| v.version == version).ok_or_else(|| no_version(version, name))?;
        let (removed, invalid): (Vec<String>, Vec<String>) = labels.iter().cloned().partition(|l| v.labels.contains(l));
        v.labels.retain(|l| !removed.contains(l));
        self.keep(&mut map, k, p)?;
        Ok((removed, invalid))
    }
}

/// Where names refer to Secrets Manager's secrets.
const SECRET_REFERENCE: &str = "/aws/reference/secretsmanager/";

/// A reference to a Secrets Manager secret (`/aws/reference/secretsmanager/<id>`): it
/// must be asked for decrypted, and it names a secret Lamina does not hold (it serves no
/// Secrets Manager), so it is not found, as a missing secret is on AWS.
fn secret_reference(name: &str, decrypt: bool) -> SsmError {
    if !decrypt {
        return SsmError::Validation("WithDecryption flag must be True for retrieving a Secret Manager secret.".into());
    }
    SsmError::NotFound(format!("Secret {} not found.", name.trim_start_matches('/')))
}

fn no_version(version: u64, name: &str) -> SsmError {
    SsmError::VersionNotFound(format!(
        "Systems Manager could not find version {version} of {name}. Verify the version and try again."
    ))
}

/// The version a selector picks: the newest without one.
fn version_of<'p>(p: &'p Parameter, asked: &Selected) -> Result<&'p Version, SsmError> {
    match &asked.selector {
        None => Ok(p.latest()),
        Some(Selector::Version(n)) => {
            p.versions.iter().find(|v| v.version == *n).ok_or_else(|| no_version(*n, &asked.name))
        }
        Some(Selector::Label(l)) => {
            p.versions.iter().find(|v| v.labels.contains(l)).ok_or_else(|| SsmError::NotFound(String::new()))
        }
    }
}

/// A PutParameter's type: as given, or the parameter's own when it is overwritten.
fn read_type(text: Option<&str>, existing: Option<&Parameter>) -> Result<ParameterType, SsmError> {
    match (text, existing) {
        (Some(t), _) => ParameterType::parse(t).ok_or_else(|| {
            SsmError::Validation(format!(
                "1 validation error detected: Value '{t}' at 'type' failed to satisfy constraint: Member must \
                 satisfy enum value set: [SecureString, StringList, String]"
            ))
        }),
        (None, Some(p)) => Ok(p.latest().kind),
        (None, None) => Err(SsmError::Validation("A parameter type is required when you create a parameter.".into())),
    }
}

/// The tier a version is kept in: as asked (Intelligent-Tiering choosing by size), else
/// the parameter's own; a value must fit it, and an advanced parameter stays advanced.
fn read_tier(text: Option<&str>, previous: Option<&Version>, value: &str) -> Result<Tier, SsmError> {
    let size = value.chars().count();
    let asked = match text {
        Some(t) => Some(Tier::parse(t).ok_or_else(|| {
            SsmError::Validation(format!(
                "1 validation error detected: Value '{t}' at 'tier' failed to satisfy constraint: Member must \
                 satisfy enum value set: [Advanced, Intelligent-Tiering, Standard]"
            ))
        })?),
        None => None,
    };
    let was_advanced = previous.is_some_and(|v| v.tier == Tier::Advanced);
    let tier = match asked {
        Some(Tier::IntelligentTiering) if size > STANDARD_MAX || was_advanced => Tier::Advanced,
        Some(Tier::IntelligentTiering) => Tier::Standard,
        Some(Tier::Standard) if was_advanced => {
            return Err(SsmError::Validation(
                "This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the \
                 advanced-parameter tier to the standard-parameter tier. If necessary, you can delete the advanced \
                 parameter and recreate it as a standard parameter."
                    .into(),
            ))
        }
        Some(t) => t,
        None if was_advanced => Tier::Advanced,
        None => Tier::Standard,
    };
    if tier == Tier::Standard && size > STANDARD_MAX {
        return Err(SsmError::Validation(
            "Standard tier parameters support a maximum parameter value of 4096 characters. To create a larger \
             parameter value, upgrade the parameter to use the advanced-parameter tier. For more information, see \
             https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html"
                .into(),
        ));
    }
    if size > ADVANCED_MAX {
        return Err(SsmError::Validation(format!(
            "1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length \
             less than or equal to {ADVANCED_MAX}"
        )));
    }
    Ok(tier)
}

/// A value must match its parameter's `AllowedPattern`, whole.
fn check_pattern(pattern: &str, value: &str) -> Result<(), SsmError> {
    let re = regex::RegexBuilder::new(&format!("^(?:{pattern})$"))
        .size_limit(1 << 20)
        .build()
        .map_err(|_| SsmError::Validation(format!("Invalid AllowedPattern: {pattern}")))?;
    if re.is_match(value) {
        Ok(())
    } else {
        Err(SsmError::PatternMismatch(format!(
            "Parameter value, cannot be validated against allowedPattern: {pattern}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(dir: &std::path::Path) -> SsmService {
        let store = Arc::new(store::SqliteStore::open(&dir.join("state.db")).unwrap());
        SsmService::start(store, Sealer::ephemeral()).unwrap()
    }

    fn put(s: &SsmService, name: &str, value: &str, overwrite: bool) -> Result<(u64, Tier), SsmError> {
        let input = PutInput {
            name: name.into(),
            value: value.into(),
            kind: Some("String".into()),
            overwrite,
            user: "arn:aws:iam::111111111111:root".into(),
            ..Default::default()
        };
        s.put(&Caller::new("111111111111", "us-east-1"), input)
    }

    fn temp(tag: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("lamina-ssm-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_hundred_versions_are_kept_and_a_labelled_oldest_one_is_never_dropped() {
        let dir = temp("versions");
        let s = service(&dir);
        let caller = Caller::new("111111111111", "us-east-1");
        for i in 0..100 {
            put(&s, "/v", &i.to_string(), i > 0).unwrap();
        }
        s.label(&caller, "/v", Some(1), &["keep".into()]).unwrap();
        let e = put(&s, "/v", "x", true).unwrap_err();
        assert!(matches!(e, SsmError::MaxVersionLimitExceeded(ref m) if m.contains("Version 1, the oldest version")));
        s.unlabel(&caller, "/v", 1, &["keep".into()]).unwrap();
        assert_eq!(put(&s, "/v", "x", true).unwrap().0, 101);
        let history = s.history(&caller, "/v", false, 50, None).unwrap();
        assert_eq!(history.items[0].version.version, 2, "version 1 went");
        // Persisted: a new service over the same store sees what the old one answered.
        let again = service(&dir);
        assert_eq!(again.get(&caller, "/v", false).unwrap().version, 101);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_version_carries_at_most_ten_labels() {
        let dir = temp("labels");
        let s = service(&dir);
        let caller = Caller::new("111111111111", "us-east-1");
        put(&s, "/l", "v", false).unwrap();
        let ten: Vec<String> = (0..10).map(|i| format!("l{i}")).collect();
        assert_eq!(s.label(&caller, "/l", None, &ten).unwrap(), (vec![], 1));
        assert!(matches!(s.label(&caller, "/l", None, &["more".into()]), Err(SsmError::LabelLimitExceeded(_))));
        assert!(matches!(s.label(&caller, "/l", Some(4), &["x".into()]), Err(SsmError::VersionNotFound(_))));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn tiers_are_chosen_and_never_downgraded() {
        let v = |tier: Tier| Version {
            version: 1,
            kind: ParameterType::String,
            value: String::new(),
            description: None,
            allowed_pattern: None,
            key_id: None,
            tier,
            data_type: "text".into(),
            policies: None,
            labels: vec![],
            modified_ms: 0,
            modified_user: String::new(),
        };
        assert_eq!(read_tier(None, None, "x").unwrap(), Tier::Standard);
        assert_eq!(read_tier(Some("Intelligent-Tiering"), None, &"x".repeat(4097)).unwrap(), Tier::Advanced);
        assert_eq!(read_tier(None, Some(&v(Tier::Advanced)), "x").unwrap(), Tier::Advanced);
        assert!(read_tier(Some("Standard"), Some(&v(Tier::Advanced)), "x").is_err());
        assert!(read_tier(Some("Advanced"), None, &"x".repeat(8193)).is_err());
    }
}
