//! The MD5 digests SQS returns and the SDKs verify.

use std::collections::BTreeMap;

use md5::{Digest, Md5};

/// One message attribute value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeValue {
    /// `DataType`: `String`, `Number` or `Binary`, optionally with a `.custom` suffix.
    pub data_type: String,
    /// `StringValue` (String and Number types).
    pub string: Option<String>,
    /// `BinaryValue` (Binary types).
    pub binary: Option<Vec<u8>>,
}

impl AttributeValue {
    /// Whether the value travels as binary.
    pub fn is_binary(&self) -> bool {
        self.data_type.starts_with("Binary")
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `MD5OfMessageBody`.
pub fn body(text: &str) -> String {
    hex(&Md5::digest(text.as_bytes()))
}

fn push(buf: &mut Vec<u8>, bytes: &[u8]) {
    buf.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    buf.extend_from_slice(bytes);
}

/// `MD5OfMessageAttributes` (and of system attributes): over the attributes in name
/// order, each as its length-prefixed name and data type, a transport byte (1 for
/// strings and numbers, 2 for binary) and its length-prefixed value.
pub fn attributes(attrs: &BTreeMap<String, AttributeValue>) -> Option<String> {
    if attrs.is_empty() {
        return None;
    }
    let mut buf = Vec::new();
    for (name, value) in attrs {
        push(&mut buf, name.as_bytes());
        push(&mut buf, value.data_type.as_bytes());
        if value.is_binary() {
            buf.push(2);
            push(&mut buf, value.binary.as_deref().unwrap_or_default());
        } else {
            buf.push(1);
            push(&mut buf, value.string.as_deref().unwrap_or_default().as_bytes());
        }
    }
    Some(hex(&Md5::digest(&buf)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_match_awss() {
        // Values from the SQS documentation's and SDKs' test suites.
        assert_eq!(body("hello"), "5d41402abc4b2a76b9719d911017c592");
        let attrs = BTreeMap::from([(
            "k".to_owned(),
            AttributeValue { data_type: "String".into(), string: Some("v".into()), binary: None },
        )]);
        // md5 of 00000001 6b 00000006 537472696e67 01 00000001 76
        let mut buf = vec![0, 0, 0, 1, b'k', 0, 0, 0, 6];
        buf.extend_from_slice(b"String");
        buf.extend_from_slice(&[1, 0, 0, 0, 1, b'v']);
        assert_eq!(attributes(&attrs), Some(hex(&Md5::digest(&buf))));
        assert_eq!(attributes(&BTreeMap::new()), None);
    }
}
