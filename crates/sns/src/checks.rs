//! SNS's own checks of what a request names, in AWS's words: ARNs, phone numbers, message
//! attributes, batch entry ids and JSON documents. Pure functions; the service calls them
//! before it touches any state.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::{Attribute, SnsError};

/// The largest message, its attributes counted in (256 KiB).
pub const MAX_MESSAGE_BYTES: usize = 262_144;

/// The parts of an ARN SNS reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arn<'a> {
    /// The region.
    pub region: &'a str,
    /// The account.
    pub account: &'a str,
    /// What follows the account (`topic`, `topic:subscription-id`, `app/GCM/name`, …).
    pub resource: &'a str,
}

/// Reads an ARN given as `param`: AWS refuses one of fewer than six `:`-separated parts.
pub fn arn<'a>(param: &str, value: &'a str) -> Result<Arn<'a>, SnsError> {
    let parts: Vec<&str> = value.splitn(6, ':').collect();
    if parts.len() < 6 {
        return Err(SnsError::invalid(format!(
            "Invalid parameter: {param} Reason: An ARN must have at least 6 elements, not {}",
            parts.len()
        )));
    }
    Ok(Arn { region: parts[3], account: parts[4], resource: parts[5] })
}

/// A phone number SNS publishes to or subscribes: an optional `+`, then digits, groups of
/// which may be set apart by single `-`, `.`, `/` or spaces.
pub fn phone_number_ok(number: &str) -> bool {
    let digits = number.strip_prefix('+').unwrap_or(number);
    let mut previous_digit = false;
    for c in digits.chars() {
        match c {
            '0'..='9' => previous_digit = true,
            '-' | '.' | '/' | ' ' if previous_digit => previous_digit = false,
            _ => return false,
        }
    }
    previous_digit
}

/// A number in E.164 form (`+` and 1–15 digits), what the SMS opt-out calls take.
pub fn e164(number: &str) -> bool {
    number.strip_prefix('+').is_some_and(|d| (1..=15).contains(&d.len()) && d.chars().all(|c| c.is_ascii_digit()))
}

fn attribute_error(message: String) -> SnsError {
    SnsError { code: "ParameterValueInvalid", status: 400, message }
}

/// A message attribute as the request gives it.
#[derive(Debug, Clone, Default)]
pub struct AttributeInput {
    /// `DataType`.
    pub data_type: String,
    /// `StringValue`.
    pub string: Option<String>,
    /// `BinaryValue` (base64, as the query protocol carries it).
    pub binary: Option<String>,
}

/// Checks message attributes as Publish does; the attributes as delivered.
pub fn message_attributes(
    attributes: BTreeMap<String, AttributeInput>,
) -> Result<BTreeMap<String, Attribute>, SnsError> {
    let mut out = BTreeMap::new();
    for (name, a) in attributes {
        attribute_name(&name)?;
        let (kind, custom) = match a.data_type.split_once('.') {
            Some((kind, custom)) => (kind, Some(custom)),
            None => (a.data_type.as_str(), None),
        };
        let kind = if custom == Some("") { "" } else { kind };
        let (field, given, other) = match kind {
            "String" | "Number" => ("String", a.string, a.binary),
            "Binary" => ("Binary", a.binary, a.string),
            _ => {
                return Err(attribute_error(format!(
                    "The message attribute '{name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String."
                )))
            }
        };
        let value = match (given, other) {
            (Some(v), _) if !v.is_empty() => v,
            (None, Some(_)) => {
                return Err(attribute_error(format!(
                    "The message attribute '{name}' with type '{kind}' must use field '{field}'."
                )))
            }
            _ => {
                return Err(attribute_error(format!(
                    "The message attribute '{name}' must contain non-empty message attribute value for message attribute type '{kind}'."
                )))
            }
        };
        out.insert(name, Attribute { data_type: a.data_type, value });
    }
    Ok(out)
}

fn attribute_name(name: &str) -> Result<(), SnsError> {
    if name.len() >= 256 {
        return Err(attribute_error("Length of message attribute name must be less than 256 bytes.".into()));
    }
    if let Some(c) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))) {
        return Err(attribute_error(format!(
            "Invalid non-alphanumeric character '#x{:X}' was found in the message attribute name. Can only include alphanumeric characters, hyphens, underscores, or dots.",
            c as u32
        )));
    }
    if name.starts_with('.') {
        return Err(attribute_error("Invalid message attribute name starting with character '.' was found.".into()));
    }
    if name.ends_with('.') {
        return Err(attribute_error("Invalid message attribute name ending with character '.' was found.".into()));
    }
    if name.contains("..") {
        return Err(attribute_error("Message attribute name can not have successive '.' character.".into()));
    }
    Ok(())
}

/// The size Publish counts against [`MAX_MESSAGE_BYTES`]: the message, and each attribute's
/// name, type and value.
pub fn message_size(message: &str, attributes: &BTreeMap<String, Attribute>) -> usize {
    message.len() + attributes.iter().map(|(k, a)| k.len() + a.data_type.len() + a.value.len()).sum::<usize>()
}

/// A PublishBatch entry's `Id`: at most 80 letters, digits, `-` and `_`.
pub fn batch_entry_id(id: &str) -> Result<(), SnsError> {
    let error = |what: &str| SnsError {
        code: "InvalidBatchEntryId",
        status: 400,
        message: format!("The Id of a batch entry in the batch request {what}: {id}"),
    };
    if id.len() > 80 {
        return Err(error("is too long"));
    }
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(error("contains an impermissible character"));
    }
    Ok(())
}

/// Parses a JSON document named `what`; a failure is worded as SNS (whose parser is
/// Jackson) words the two common mistakes: a bare word, and an unquoted field name.
pub fn json_document(what: &str, text: &str) -> Result<Value, String> {
    serde_json::from_str(text).map_err(|e| {
        let bytes = text.as_bytes();
        let at = bytes.iter().position(|b| !b.is_ascii_whitespace());
        let detail = match at.map(|i| (i, bytes[i])) {
            Some((i, c)) if c.is_ascii_alphabetic() => {
                let word: String =
                    text[i..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                Some((
                    format!("Unrecognized token '{word}': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')"),
                    i + word.len() + 1,
                ))
            }
            Some((i, b'{')) => {
                let next = bytes[i + 1..].iter().position(|b| !b.is_ascii_whitespace()).map(|j| i + 1 + j);
                // `next` is the first byte after `{` that is not ASCII space: a character's start.
                match next.and_then(|j| text[j..].chars().next().map(|c| (j, c))) {
                    Some((j, c)) if c != '"' && c != '}' => Some((
                        format!(
                            "Unexpected character ('{c}' (code {})): was expecting double-quote to start field name",
                            c as u32
                        ),
                        j + 1,
                    )),
                    _ => None,
                }
            }
            _ => None,
        };
        match detail {
            Some((message, column)) => format!(
                "{what}: failed to parse JSON. {message}\n at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: 1, column: {column}]"
            ),
            None => format!("{what}: failed to parse JSON. {e}"),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_need_six_parts() {
        assert_eq!(
            arn("TopicArn", "randomstring").unwrap_err().message,
            "Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 1"
        );
        assert_eq!(
            arn("SubscriptionArn", "arn:aws:sns:us-east-1:random").unwrap_err().message,
            "Invalid parameter: SubscriptionArn Reason: An ARN must have at least 6 elements, not 5"
        );
        let a = arn("TopicArn", "arn:aws:sns:us-east-1:111111111111:t:sub").unwrap();
        assert_eq!((a.region, a.account, a.resource), ("us-east-1", "111111111111", "t:sub"));
    }

    #[test]
    fn phone_numbers_as_sns_takes_them() {
        for ok in ["+1234567890", "+12/34-567.890", "15551234567"] {
            assert!(phone_number_ok(ok), "{ok}");
        }
        for bad in ["+15--551234567", "NAA+15551234567", "+15551234567.", "/+15551234567", "+1a234", ""] {
            assert!(!phone_number_ok(bad), "{bad}");
        }
    }

    #[test]
    fn message_attributes_in_aws_words() {
        let one = |data_type: &str, string: Option<&str>, binary: Option<&str>| {
            let a = AttributeInput {
                data_type: data_type.into(),
                string: string.map(Into::into),
                binary: binary.map(Into::into),
            };
            message_attributes([("attr1".to_owned(), a)].into()).map(|_| ()).map_err(|e| e.message)
        };
        assert_eq!(
            one("String", Some(""), None).unwrap_err(),
            "The message attribute 'attr1' must contain non-empty message attribute value for message attribute type 'String'."
        );
        assert_eq!(
            one("Number", None, Some("AQ==")).unwrap_err(),
            "The message attribute 'attr1' with type 'Number' must use field 'String'."
        );
        assert_eq!(
            one("Binary", Some("x"), None).unwrap_err(),
            "The message attribute 'attr1' with type 'Binary' must use field 'Binary'."
        );
        assert!(one("Stringgg", Some("x"), None).unwrap_err().contains("supported type prefixes"));
        assert!(one("String.custom", Some("x"), None).is_ok());
        assert!(one("String.", Some("x"), None).unwrap_err().contains("supported type prefixes"));
        let named = |name: &str| {
            let a = AttributeInput { data_type: "String".into(), string: Some("v".into()), binary: None };
            message_attributes([(name.to_owned(), a)].into()).unwrap_err().message
        };
        assert!(named("a^b").contains("'#x5E'"));
        assert!(named(".a").contains("starting with"));
        assert!(named("a.").contains("ending with"));
        assert!(named("a..b").contains("successive"));
    }

    #[test]
    fn batch_ids() {
        assert!(batch_entry_id(&"a".repeat(80)).is_ok());
        assert!(batch_entry_id("valid-message_123").is_ok());
        assert!(batch_entry_id(&"a".repeat(81)).unwrap_err().message.contains("is too long"));
        assert!(batch_entry_id("message.id").unwrap_err().message.contains("impermissible character: message.id"));
    }

    #[test]
    fn json_errors_as_jackson_words_them() {
        assert_eq!(
            json_document("FilterPolicy", "invalid").unwrap_err(),
            "FilterPolicy: failed to parse JSON. Unrecognized token 'invalid': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')\n at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: 1, column: 8]"
        );
        assert!(json_document("RedrivePolicy", "{invalidjson}").unwrap_err().starts_with(
            "RedrivePolicy: failed to parse JSON. Unexpected character ('i' (code 105)): was expecting double-quote to start field name"
        ));
        assert!(json_document("X", r#"{"a": 1}"#).is_ok());
        assert!(json_document("X", "{é}").unwrap_err().contains("('é' (code 233))"));
    }
}
