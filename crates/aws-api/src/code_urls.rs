//! `Code.Location` and `Content.Location`: links to a function's or layer's archive that
//! work without credentials, like the presigned S3 URLs AWS answers, for ten minutes. Each
//! is signed with the server's own key (kept in the data directory, so links outlive a
//! restart) over its path, the account it was issued to and its expiry; a link for one
//! package cannot be turned into one for another, nor kept past its time.

use std::path::Path;

use ring::hmac;

/// How long a link works, in seconds (AWS's `Code.Location` lasts ten minutes).
pub const LIFETIME_SECS: i64 = 600;

/// Signs and checks archive links.
#[derive(Debug, Clone)]
pub struct CodeUrls {
    key: hmac::Key,
}

/// Why a link was refused: S3's answer to a bad presigned URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkRefusal {
    /// Past its expiry.
    Expired,
    /// Missing or wrong parameters, or a signature that is not this server's.
    Invalid,
}

impl CodeUrls {
    /// The key in `path`, made on first use.
    pub fn open(path: &Path) -> std::io::Result<CodeUrls> {
        use ring::rand::SecureRandom;
        let secret = match std::fs::read(path) {
            Ok(bytes) if bytes.len() == 32 => bytes,
            _ => {
                let mut bytes = vec![0u8; 32];
                ring::rand::SystemRandom::new()
                    .fill(&mut bytes)
                    .map_err(|_| std::io::Error::other("no system randomness"))?;
                let tmp = path.with_extension("tmp");
                std::fs::write(&tmp, &bytes)?;
                std::fs::rename(&tmp, path)?;
                bytes
            }
        };
        Ok(CodeUrls::with_secret(&secret))
    }

    /// Links signed with `secret`.
    pub fn with_secret(secret: &[u8]) -> CodeUrls {
        CodeUrls { key: hmac::Key::new(hmac::HMAC_SHA256, secret) }
    }

    fn material(path: &str, caller: &str, expires: i64) -> String {
        format!("{path}\n{caller}\n{expires}")
    }

    /// The query string that makes `path` a link for `caller`'s account until `now` plus
    /// [`LIFETIME_SECS`].
    pub fn sign(&self, path: &str, caller: &str, now: i64) -> String {
        let expires = now + LIFETIME_SECS;
        let tag = hmac::sign(&self.key, Self::material(path, caller, expires).as_bytes());
        let signature: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        format!("caller={caller}&expires={expires}&signature={signature}")
    }

    /// Checks the link `path?query` at `now`.
    pub fn check(&self, path: &str, query: Option<&str>, now: i64) -> Result<(), LinkRefusal> {
        let params: std::collections::HashMap<String, String> =
            form_urlencoded::parse(query.unwrap_or("").as_bytes()).into_owned().collect();
        let (Some(caller), Some(expires), Some(signature)) =
            (params.get("caller"), params.get("expires"), params.get("signature"))
        else {
            return Err(LinkRefusal::Invalid);
        };
        let expires: i64 = expires.parse().map_err(|_| LinkRefusal::Invalid)?;
        let signature = (0..signature.len())
            .step_by(2)
            .map(|i| signature.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
            .collect::<Option<Vec<u8>>>()
            .ok_or(LinkRefusal::Invalid)?;
        hmac::verify(&self.key, Self::material(path, caller, expires).as_bytes(), &signature)
            .map_err(|_| LinkRefusal::Invalid)?;
        if now > expires {
            return Err(LinkRefusal::Expired);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_works_for_its_path_until_it_expires() {
        let urls = CodeUrls::with_secret(b"k");
        let path = "/_lamina/code/111111111111/us-east-1/f/abc.zip";
        let q = urls.sign(path, "111111111111", 1_000);
        assert_eq!(urls.check(path, Some(&q), 1_000), Ok(()));
        assert_eq!(urls.check(path, Some(&q), 1_600), Ok(()));
        assert_eq!(urls.check(path, Some(&q), 1_601), Err(LinkRefusal::Expired));
        assert_eq!(
            urls.check("/_lamina/code/222222222222/us-east-1/f/abc.zip", Some(&q), 1_000),
            Err(LinkRefusal::Invalid)
        );
        let longer = q.replace("expires=1600", "expires=9999");
        assert_eq!(urls.check(path, Some(&longer), 1_000), Err(LinkRefusal::Invalid));
        let other = q.replace("caller=111111111111", "caller=222222222222");
        assert_eq!(urls.check(path, Some(&other), 1_000), Err(LinkRefusal::Invalid));
        assert_eq!(urls.check(path, None, 1_000), Err(LinkRefusal::Invalid));
        assert_eq!(CodeUrls::with_secret(b"other").check(path, Some(&q), 1_000), Err(LinkRefusal::Invalid));
    }
}
