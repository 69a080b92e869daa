//! SecureString values sealed at rest: AES-256-GCM under a key of the data directory's
//! own (made once, readable by its owner only), standing in for the KMS key AWS encrypts
//! them with. A sealed value is what GetParameter answers without `WithDecryption`, as
//! AWS answers the ciphertext.

use std::path::Path;

use base64::Engine;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};

/// Seals and opens SecureString values.
pub struct Sealer {
    key: LessSafeKey,
    random: SystemRandom,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealer").finish_non_exhaustive()
    }
}

impl Sealer {
    /// The sealer whose key is in `path`, made there (mode 0600) if it is not.
    pub fn open(path: &Path) -> std::io::Result<Sealer> {
        let random = SystemRandom::new();
        let bytes = match std::fs::read(path) {
            Ok(bytes) if bytes.len() == 32 => bytes,
            Ok(_) => return Err(std::io::Error::other(format!("{} is not a 32-byte key", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = vec![0u8; 32];
                random.fill(&mut key).map_err(|_| std::io::Error::other("no randomness for the SSM key"))?;
                write_private(path, &key)?;
                key
            }
            Err(e) => return Err(e),
        };
        Ok(Sealer::with_key(&bytes, random))
    }

    /// A sealer with a key of its own, kept nowhere (for tests).
    pub fn ephemeral() -> Sealer {
        let random = SystemRandom::new();
        let mut key = [0u8; 32];
        random.fill(&mut key).expect("the system's randomness");
        Sealer::with_key(&key, random)
    }

    fn with_key(bytes: &[u8], random: SystemRandom) -> Sealer {
        let key = UnboundKey::new(&AES_256_GCM, bytes).expect("a 32-byte AES-256 key");
        Sealer { key: LessSafeKey::new(key), random }
    }

    /// `value` sealed, bound to the parameter it belongs to: base64 of the nonce, the
    /// ciphertext and its tag.
    pub fn seal(&self, parameter: &str, value: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        self.random.fill(&mut nonce).expect("the system's randomness");
        let mut out = value.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(parameter.as_bytes()), &mut out)
            .expect("a value within AES-GCM's limits");
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&out);
        base64::engine::general_purpose::STANDARD.encode(sealed)
    }

    /// The value `sealed` holds, if this key sealed it for `parameter`.
    pub fn open_value(&self, parameter: &str, sealed: &str) -> Option<String> {
        let bytes = base64::engine::general_purpose::STANDARD.decode(sealed).ok()?;
        if bytes.len() < NONCE_LEN {
            return None;
        }
        let (nonce, body) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut body = body.to_vec();
        let plain = self.key.open_in_place(nonce, Aad::from(parameter.as_bytes()), &mut body).ok()?;
        String::from_utf8(plain.to_vec()).ok()
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_for_its_parameter_and_key() {
        let s = Sealer::ephemeral();
        let sealed = s.seal("/db/password", "hunter2");
        assert!(!sealed.contains("hunter2"));
        assert_ne!(sealed, s.seal("/db/password", "hunter2"), "a fresh nonce each time");
        assert_eq!(s.open_value("/db/password", &sealed).as_deref(), Some("hunter2"));
        assert_eq!(s.open_value("/db/other", &sealed), None);
        assert_eq!(Sealer::ephemeral().open_value("/db/password", &sealed), None);
    }

    #[test]
    fn the_key_is_kept_and_reused() {
        let dir = std::env::temp_dir().join(format!("lamina-ssm-key-{}", std::process::id()));
        let path = dir.join("key");
        let sealed = Sealer::open(&path).unwrap().seal("p", "v");
        assert_eq!(Sealer::open(&path).unwrap().open_value("p", &sealed).as_deref(), Some("v"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
