//! The signatures on SNS's messages, verifiable as AWS's are: an RSA key and a certificate
//! for it, made once per data directory on the first message that needs them, kept there,
//! and served at the message's `SigningCertURL`. `SignatureVersion` 1 signs with SHA-1,
//! 2 with SHA-256, both PKCS#1 v1.5, over the fields AWS's documentation lists.

use std::path::{Path, PathBuf};

use base64::Engine;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use rsa::signature::{SignatureEncoding, Signer as _};
use rsa::RsaPrivateKey;
use serde_json::Value;
use sha2::Digest;

/// An RSA key and the certificate subscribers check signatures with.
pub struct Signer {
    sha1: SigningKey<sha1::Sha1>,
    sha256: SigningKey<sha2::Sha256>,
    #[cfg(test)]
    key: RsaPrivateKey,
    /// The certificate, PEM.
    pub cert_pem: String,
    /// The certificate's file name: `SimpleNotificationService-<hash>.pem`.
    pub cert_file: String,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer").field("cert_file", &self.cert_file).finish_non_exhaustive()
    }
}

/// The fields a notification's signature covers, in order; `Subject` only when present.
const NOTIFICATION_FIELDS: &[&str] = &["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"];
/// The fields a subscription confirmation's signature covers.
const CONFIRMATION_FIELDS: &[&str] =
    &["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"];

impl Signer {
    /// Loads the key and certificate from `dir`, making them the first time.
    pub fn load_or_create(dir: &Path) -> Result<Signer, String> {
        let key_file = dir.join("signing-key.der");
        let cert_file = dir.join("signing-cert.pem");
        let fail = |what: &str, path: &PathBuf, e: &dyn std::fmt::Display| format!("{what} {}: {e}", path.display());
        if !(key_file.exists() && cert_file.exists()) {
            std::fs::create_dir_all(dir).map_err(|e| fail("creating", &dir.to_path_buf(), &e))?;
            let key = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).map_err(|e| e.to_string())?;
            let der = key.to_pkcs8_der().map_err(|e| e.to_string())?;
            let cert = certificate(der.as_bytes())?;
            // The certificate is written last: a crash in between makes both anew.
            write_private(&key_file, der.as_bytes()).map_err(|e| fail("writing", &key_file, &e))?;
            std::fs::write(&cert_file, cert).map_err(|e| fail("writing", &cert_file, &e))?;
        }
        let der = std::fs::read(&key_file).map_err(|e| fail("reading", &key_file, &e))?;
        let key = RsaPrivateKey::from_pkcs8_der(&der).map_err(|e| fail("reading", &key_file, &e))?;
        let cert_pem = std::fs::read_to_string(&cert_file).map_err(|e| fail("reading", &cert_file, &e))?;
        let hash = hex(&sha2::Sha256::digest(cert_pem.as_bytes())[..16]);
        Ok(Signer {
            sha1: SigningKey::new(key.clone()),
            sha256: SigningKey::new(key.clone()),
            #[cfg(test)]
            key,
            cert_pem,
            cert_file: format!("SimpleNotificationService-{hash}.pem"),
        })
    }

    /// Signs a notification or subscription confirmation (its `Type` says which) with the
    /// digest its `SignatureVersion` names; the signature, base64.
    pub fn sign(&self, message: &Value) -> String {
        let fields = match message.get("Type").and_then(Value::as_str) {
            Some("Notification") => NOTIFICATION_FIELDS,
            _ => CONFIRMATION_FIELDS,
        };
        let mut text = String::new();
        for field in fields {
            if let Some(v) = message.get(*field).and_then(Value::as_str) {
                text.push_str(field);
                text.push('\n');
                text.push_str(v);
                text.push('\n');
            }
        }
        let signature = if message.get("SignatureVersion").and_then(Value::as_str) == Some("2") {
            self.sha256.sign(text.as_bytes()).to_vec()
        } else {
            self.sha1.sign(text.as_bytes()).to_vec()
        };
        base64::engine::general_purpose::STANDARD.encode(signature)
    }
}

/// A self-signed certificate for the key (PKCS#8 DER), PEM.
fn certificate(pkcs8: &[u8]) -> Result<String, String> {
    let pair = rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&pkcs8.into(), &rcgen::PKCS_RSA_SHA256)
        .map_err(|e| e.to_string())?;
    let mut params = rcgen::CertificateParams::new(vec!["sns.amazonaws.com".to_owned()]).map_err(|e| e.to_string())?;
    params.distinguished_name.push(rcgen::DnType::CommonName, "sns.amazonaws.com (Lamina)");
    params.not_before = time::OffsetDateTime::now_utc() - time::Duration::days(1);
    params.not_after = time::OffsetDateTime::now_utc() + time::Duration::days(3650);
    params.self_signed(&pair).map(|c| c.pem()).map_err(|e| e.to_string())
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs1v15::{Signature, VerifyingKey};
    use rsa::signature::Verifier;

    #[test]
    fn signatures_verify_with_the_key_for_both_versions_and_survive_a_reload() {
        let dir = std::env::temp_dir().join(format!("lamina-sns-signing-{}", std::process::id()));
        let signer = Signer::load_or_create(&dir).unwrap();
        assert!(signer.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        let again = Signer::load_or_create(&dir).unwrap();
        assert_eq!(again.cert_file, signer.cert_file);
        for version in ["1", "2"] {
            let m = serde_json::json!({
                "Type": "Notification", "MessageId": "id", "TopicArn": "arn:aws:sns:us-east-1:1:t",
                "Message": "hello", "Timestamp": "2026-01-01T00:00:00.000Z", "SignatureVersion": version,
            });
            let sig = base64::engine::general_purpose::STANDARD.decode(again.sign(&m)).unwrap();
            let sig = Signature::try_from(sig.as_slice()).unwrap();
            let text = "Message\nhello\nMessageId\nid\nTimestamp\n2026-01-01T00:00:00.000Z\nTopicArn\narn:aws:sns:us-east-1:1:t\nType\nNotification\n";
            let public = signer.key.to_public_key();
            if version == "1" {
                VerifyingKey::<sha1::Sha1>::new(public).verify(text.as_bytes(), &sig).unwrap();
            } else {
                VerifyingKey::<sha2::Sha256>::new(public).verify(text.as_bytes(), &sig).unwrap();
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
