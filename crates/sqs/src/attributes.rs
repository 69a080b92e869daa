//! Queue attributes: defaults, AWS's ranges, the redrive policy and the queue policy.

use std::collections::BTreeMap;
use std::sync::Arc;

use iam::resource_policy::ResourcePolicy;

use crate::SqsError;

/// A queue's settings, parsed from its attribute map.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// `DelaySeconds`, 0–900.
    pub delay_s: i64,
    /// `MaximumMessageSize`, 1024–1048576 bytes (1 MiB, AWS's limit and default since 2025).
    pub max_size: i64,
    /// `MessageRetentionPeriod`, 60–1209600 s.
    pub retention_s: i64,
    /// `ReceiveMessageWaitTimeSeconds`, 0–20.
    pub wait_s: i64,
    /// `VisibilityTimeout`, 0–43200 s.
    pub visibility_s: i64,
    /// `RedrivePolicy`.
    pub redrive: Option<Redrive>,
    /// `FifoQueue`.
    pub fifo: bool,
    /// `ContentBasedDeduplication`.
    pub content_dedup: bool,
    /// `Policy`: who besides the owner may act on the queue.
    pub policy: Option<Arc<ResourcePolicy>>,
}

/// Where messages go after too many receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redrive {
    /// `deadLetterTargetArn`.
    pub dead_letter_arn: String,
    /// `maxReceiveCount`.
    pub max_receive_count: u32,
}

/// The largest message AWS accepts.
pub const MESSAGE_MAX_BYTES: i64 = 1_048_576;

const RANGES: &[(&str, i64, i64, i64)] = &[
    ("DelaySeconds", 0, 900, 0),
    ("MaximumMessageSize", 1024, MESSAGE_MAX_BYTES, MESSAGE_MAX_BYTES),
    ("MessageRetentionPeriod", 60, 1_209_600, 345_600),
    ("ReceiveMessageWaitTimeSeconds", 0, 20, 0),
    ("VisibilityTimeout", 0, 43_200, 30),
];

/// Attributes a caller may set; everything else is refused.
const SETTABLE: &[&str] = &[
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "RedrivePolicy",
    "RedriveAllowPolicy",
    "Policy",
    "FifoQueue",
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoThroughputLimit",
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
    "SqsManagedSseEnabled",
];

/// The attributes SQS computes; GetQueueAttributes can name these and the settable ones.
const COMPUTED: &[&str] = &[
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesDelayed",
    "ApproximateNumberOfMessagesNotVisible",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "QueueArn",
];

/// Whether GetQueueAttributes knows the attribute `name`.
pub fn readable(name: &str) -> bool {
    COMPUTED.contains(&name) || SETTABLE.contains(&name)
}

fn invalid_value(name: &str) -> SqsError {
    SqsError::invalid_attribute_value(format!("Invalid value for the parameter {name}."))
}

fn boolean(attrs: &BTreeMap<String, String>, name: &str) -> Result<bool, SqsError> {
    match attrs.get(name).map(String::as_str) {
        None => Ok(false),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
        Some(_) => Err(invalid_value(name)),
    }
}

/// Checks a set of attributes: names known and settable, values in range.
pub fn check(attrs: &BTreeMap<String, String>) -> Result<(), SqsError> {
    for (name, value) in attrs {
        if !SETTABLE.contains(&name.as_str()) {
            return Err(SqsError::invalid_attribute_name(format!("Unknown Attribute {name}.")));
        }
        if let Some((_, min, max, _)) = RANGES.iter().find(|(n, ..)| n == name) {
            match value.trim().parse::<i64>() {
                Ok(v) if (*min..=*max).contains(&v) => {}
                _ => return Err(invalid_value(name)),
            }
        }
    }
    if let Some(policy) = attrs.get("RedrivePolicy") {
        if !policy.is_empty() {
            parse_redrive(policy)?;
        }
    }
    if let Some(policy) = attrs.get("Policy").filter(|p| !p.is_empty()) {
        ResourcePolicy::parse(policy).map_err(|_| invalid_value("Policy"))?;
    }
    boolean(attrs, "FifoQueue")?;
    boolean(attrs, "ContentBasedDeduplication")?;
    Ok(())
}

fn parse_redrive(text: &str) -> Result<Redrive, SqsError> {
    let bad = |why: &str| {
        SqsError::invalid_attribute_value(format!("Value {text} for parameter RedrivePolicy is invalid. Reason: {why}"))
    };
    let v: serde_json::Value = serde_json::from_str(text).map_err(|_| bad("Invalid JSON."))?;
    let arn = v
        .get("deadLetterTargetArn")
        .and_then(|a| a.as_str())
        .ok_or_else(|| bad("Redrive policy does not contain mandatory attribute: deadLetterTargetArn."))?;
    let count = match v.get("maxReceiveCount") {
        Some(serde_json::Value::Number(n)) => n.as_i64(),
        Some(serde_json::Value::String(s)) => s.parse().ok(),
        _ => return Err(bad("Redrive policy does not contain mandatory attribute: maxReceiveCount.")),
    };
    match count {
        Some(n) if (1..=1000).contains(&n) => {
            Ok(Redrive { dead_letter_arn: arn.to_owned(), max_receive_count: n as u32 })
        }
        _ => Err(bad("Invalid value for maxReceiveCount: must be an integer from 1 to 1000.")),
    }
}

/// Attributes as a queue keeps them: booleans lower-cased, as AWS shows them.
pub fn normalised(mut attrs: BTreeMap<String, String>) -> BTreeMap<String, String> {
    for name in ["FifoQueue", "ContentBasedDeduplication", "SqsManagedSseEnabled"] {
        if let Some(v) = attrs.get_mut(name) {
            *v = v.to_ascii_lowercase();
        }
    }
    attrs
}

/// Refuses the attributes only FIFO queues have, for a standard queue.
pub fn standard_only(attrs: &BTreeMap<String, String>) -> Result<(), SqsError> {
    for name in ["FifoQueue", "ContentBasedDeduplication"] {
        if attrs.contains_key(name) {
            return Err(SqsError::invalid_attribute_name(format!("Unknown Attribute {name}.")));
        }
    }
    for name in ["DeduplicationScope", "FifoThroughputLimit"] {
        if attrs.contains_key(name) {
            return Err(SqsError::invalid_attribute_name(format!(
                "You can specify the {name} only when FifoQueue is set to true."
            )));
        }
    }
    Ok(())
}

impl Settings {
    /// The settings of a queue with these (checked) attributes.
    pub fn from_attributes(attrs: &BTreeMap<String, String>) -> Settings {
        let int = |name: &str| {
            let default = RANGES.iter().find(|(n, ..)| *n == name).map_or(0, |r| r.3);
            attrs.get(name).and_then(|v| v.trim().parse().ok()).unwrap_or(default)
        };
        Settings {
            delay_s: int("DelaySeconds"),
            max_size: int("MaximumMessageSize"),
            retention_s: int("MessageRetentionPeriod"),
            wait_s: int("ReceiveMessageWaitTimeSeconds"),
            visibility_s: int("VisibilityTimeout"),
            redrive: attrs.get("RedrivePolicy").filter(|p| !p.is_empty()).and_then(|p| parse_redrive(p).ok()),
            fifo: boolean(attrs, "FifoQueue").unwrap_or(false),
            content_dedup: boolean(attrs, "ContentBasedDeduplication").unwrap_or(false),
            policy: attrs
                .get("Policy")
                .filter(|p| !p.is_empty())
                .and_then(|p| ResourcePolicy::parse(p).ok())
                .map(Arc::new),
        }
    }
}

/// The attribute values a queue shows for the settable attributes, defaults included.
pub fn shown(attrs: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> =
        RANGES.iter().map(|(name, _, _, default)| ((*name).to_owned(), default.to_string())).collect();
    out.insert("SqsManagedSseEnabled".into(), "true".into());
    for (k, v) in attrs {
        out.insert(k.clone(), v.clone());
    }
    if out.get("FifoQueue").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        out.insert("FifoQueue".into(), "true".into());
        out.entry("ContentBasedDeduplication".into()).or_insert_with(|| "false".into());
        out.entry("DeduplicationScope".into()).or_insert_with(|| "queue".into());
        out.entry("FifoThroughputLimit".into()).or_insert_with(|| "perQueue".into());
    } else {
        out.remove("FifoQueue");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn ranges_and_names_are_checked() {
        assert!(check(&attrs(&[("VisibilityTimeout", "60")])).is_ok());
        assert_eq!(
            check(&attrs(&[("VisibilityTimeout", "43201")])).unwrap_err().message,
            "Invalid value for the parameter VisibilityTimeout."
        );
        assert_eq!(check(&attrs(&[("Colour", "blue")])).unwrap_err().message, "Unknown Attribute Colour.");
        let s = Settings::from_attributes(&attrs(&[]));
        assert_eq!((s.visibility_s, s.retention_s, s.max_size), (30, 345_600, 1_048_576));
    }

    #[test]
    fn redrive_policies_are_parsed() {
        let p = r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":"3"}"#;
        let s = Settings::from_attributes(&attrs(&[("RedrivePolicy", p)]));
        assert_eq!(s.redrive.unwrap().max_receive_count, 3);
        assert!(check(&attrs(&[("RedrivePolicy", r#"{"maxReceiveCount":3}"#)])).is_err());
        assert!(check(&attrs(&[("RedrivePolicy", r#"{"deadLetterTargetArn":"x","maxReceiveCount":0}"#)])).is_err());
    }
}
