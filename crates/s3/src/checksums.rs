//! The flexible checksums (CRC32, CRC32C, CRC64NVME, SHA-1, SHA-256) S3 computes of a
//! body as it streams, checks against what the client declared (a header, or an
//! `aws-chunked` trailer that arrives after the body), and keeps with the object: a
//! whole object's, each part's, and a multipart upload's (composite: the checksum of its
//! parts' checksums, `-<n>`; or, for the CRCs when asked, the full object's).

use base64::Engine;

model::aws_enum! {
    /// A checksum algorithm, as S3 names it.
    pub enum Algorithm {
        /// `CRC32`.
        Crc32 = "CRC32",
        /// `CRC32C`.
        Crc32c = "CRC32C",
        /// `CRC64NVME`.
        Crc64Nvme = "CRC64NVME",
        /// `SHA1`.
        Sha1 = "SHA1",
        /// `SHA256`.
        Sha256 = "SHA256",
    }
}

/// Slice-by-16 tables: bodies of any size go through them.
static CRC32C: crc::Crc<u32, crc::Table<16>> = crc::Crc::<u32, crc::Table<16>>::new(&crc::CRC_32_ISCSI);
static CRC64NVME: crc::Crc<u64, crc::Table<16>> = crc::Crc::<u64, crc::Table<16>>::new(&crc::CRC_64_NVME);

impl Algorithm {
    /// Its header (`x-amz-checksum-crc32c`), also its trailer's name.
    pub fn header(self) -> String {
        format!("x-amz-checksum-{}", self.as_str().to_ascii_lowercase())
    }

    /// Its member in S3's inputs and outputs (`ChecksumCRC32C`).
    pub fn member(self) -> String {
        format!("Checksum{}", self.as_str())
    }

    /// Whether S3 keeps a multipart upload's checksum of the whole object (the CRCs can
    /// be), rather than of its parts.
    pub fn can_be_full_object(self) -> bool {
        matches!(self, Algorithm::Crc32 | Algorithm::Crc32c | Algorithm::Crc64Nvme)
    }
}

/// A checksum being computed.
pub(crate) enum Hasher {
    Crc32(crc32fast::Hasher),
    Crc32c(crc::Digest<'static, u32, crc::Table<16>>),
    Crc64(crc::Digest<'static, u64, crc::Table<16>>),
    Digest(Box<ring::digest::Context>),
}

impl Hasher {
    pub(crate) fn new(a: Algorithm) -> Hasher {
        match a {
            Algorithm::Crc32 => Hasher::Crc32(crc32fast::Hasher::new()),
            Algorithm::Crc32c => Hasher::Crc32c(CRC32C.digest()),
            Algorithm::Crc64Nvme => Hasher::Crc64(CRC64NVME.digest()),
            Algorithm::Sha1 => {
                Hasher::Digest(Box::new(ring::digest::Context::new(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY)))
            }
            Algorithm::Sha256 => Hasher::Digest(Box::new(ring::digest::Context::new(&ring::digest::SHA256))),
        }
    }

    pub(crate) fn update(&mut self, bytes: &[u8]) {
        match self {
            Hasher::Crc32(h) => h.update(bytes),
            Hasher::Crc32c(h) => h.update(bytes),
            Hasher::Crc64(h) => h.update(bytes),
            Hasher::Digest(h) => h.update(bytes),
        }
    }

    /// The checksum's bytes, big-endian for the CRCs.
    pub(crate) fn finish(self) -> Vec<u8> {
        match self {
            Hasher::Crc32(h) => h.finalize().to_be_bytes().to_vec(),
            Hasher::Crc32c(h) => h.finalize().to_be_bytes().to_vec(),
            Hasher::Crc64(h) => h.finalize().to_be_bytes().to_vec(),
            Hasher::Digest(h) => h.finish().as_ref().to_vec(),
        }
    }
}

/// The checksum of `bytes`.
pub(crate) fn of(a: Algorithm, bytes: &[u8]) -> Vec<u8> {
    let mut h = Hasher::new(a);
    h.update(bytes);
    h.finish()
}

pub(crate) fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub(crate) fn unbase64(text: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD.decode(text.trim()).ok()
}

/// A checksum the client declared for a body: in a header, or in an `aws-chunked`
/// trailer that arrives after the body (the edge fills it in as the body ends); or only
/// its algorithm, for S3 to compute (`x-amz-sdk-checksum-algorithm`, `ChecksumAlgorithm`).
#[derive(Debug, Clone)]
pub struct Declared {
    /// The algorithm.
    pub algorithm: Algorithm,
    /// Its value, when sent as a header.
    pub header: Option<String>,
    /// The trailer's value, once read.
    pub trailer: Option<std::sync::Arc<model::sync::Mutex<Option<String>>>>,
}

impl Declared {
    /// What S3 computes of an object sent with no checksum: its CRC64NVME.
    pub(crate) fn default_for_objects() -> Declared {
        Declared { algorithm: Algorithm::Crc64Nvme, header: None, trailer: None }
    }

    /// The value the client sent, if it sent one.
    pub(crate) fn value(&self) -> Option<String> {
        let trailer = self.trailer.as_ref().and_then(|t| t.lock().clone());
        self.header.clone().or(trailer)
    }

    /// The computed checksum, base64, if it is what the client sent (or it sent none);
    /// else S3's `BadDigest`.
    pub(crate) fn check(&self, computed: &[u8]) -> Result<String, crate::S3Error> {
        let computed = base64(computed);
        match self.value() {
            Some(sent) if sent.trim() != computed => Err(crate::S3Error::new(
                "BadDigest",
                400,
                format!("The {} you specified did not match the calculated checksum.", self.algorithm.as_str()),
            )),
            _ => Ok(computed),
        }
    }
}

/// A multipart upload's composite checksum: the checksum of its parts' checksums, with
/// their count.
pub(crate) fn composite(a: Algorithm, parts: &[Vec<u8>]) -> String {
    format!("{}-{}", base64(&of(a, &parts.concat())), parts.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_algorithm_gives_s3s_value() {
        // S3's documented values of "Hello World" are what the SDKs send.
        let hello = b"hello world";
        assert_eq!(base64(&of(Algorithm::Crc32, hello)), "DUoRhQ==");
        assert_eq!(base64(&of(Algorithm::Crc32c, hello)), "yZRlqg==");
        assert_eq!(base64(&of(Algorithm::Crc64Nvme, hello)), "jSnVw/bqjr4=");
        assert_eq!(base64(&of(Algorithm::Sha1, hello)), "Kq5sNclPz7QV2+lfQIuc6R7oRu0=");
        assert_eq!(base64(&of(Algorithm::Sha256, hello)), "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=");
        assert_eq!(Algorithm::Crc64Nvme.header(), "x-amz-checksum-crc64nvme");
        assert_eq!(Algorithm::Sha1.member(), "ChecksumSHA1");
        let parts = vec![of(Algorithm::Sha256, b"a"), of(Algorithm::Sha256, b"b")];
        assert!(composite(Algorithm::Sha256, &parts).ends_with("-2"));
    }
}
