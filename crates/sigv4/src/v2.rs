//! S3's older signature (SigV2), which tools still make for presigned URLs
//! (`AWSAccessKeyId`, `Signature`, `Expires` in the query) and some for headers
//! (`Authorization: AWS <key>:<signature>`): an HMAC-SHA1 of the method, `Content-MD5`,
//! `Content-Type`, the date (a presigned URL's `Expires`), the `x-amz-*` headers and the
//! resource (the path-style path with its sub-resources).

use base64::Engine;
use ring::hmac;

use crate::{constant_time_eq, query_pairs, Refusal, Request, Secret, MISMATCH};

/// The query parameters that name a sub-resource, which the signature covers.
const SUB_RESOURCES: &[&str] = &[
    "acl",
    "cors",
    "delete",
    "lifecycle",
    "location",
    "logging",
    "notification",
    "partNumber",
    "policy",
    "requestPayment",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "restore",
    "tagging",
    "torrent",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "website",
];

/// A SigV2 signature, as a request carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureV2 {
    /// The access key ID.
    pub access_key: String,
    /// The signature, base64.
    pub signature: String,
    /// A presigned URL's `Expires` (Unix seconds); `None` for the header form.
    pub expires: Option<i64>,
}

/// Reads a request's SigV2 signature, if it carries one.
pub fn parse(req: &Request<'_>) -> Option<SignatureV2> {
    if let Some(auth) = req.header("authorization").and_then(|a| a.strip_prefix("AWS ")) {
        let (key, signature) = auth.split_once(':')?;
        return Some(SignatureV2 {
            access_key: key.trim().to_owned(),
            signature: signature.trim().to_owned(),
            expires: None,
        });
    }
    let query = query_pairs(req.query.unwrap_or(""));
    let get = |k: &str| query.iter().find(|(q, _)| q == k).map(|(_, v)| v.clone());
    Some(SignatureV2 {
        access_key: get("AWSAccessKeyId")?,
        signature: get("Signature")?,
        expires: Some(get("Expires")?.parse().ok()?),
    })
}

/// What the client signed: `resource` is the path-style path (`/bucket/key`) as sent.
fn string_to_sign(req: &Request<'_>, sig: &SignatureV2, resource: &str) -> String {
    let header = |n: &str| req.header(n).unwrap_or("").trim().to_owned();
    let date = match sig.expires {
        Some(e) => e.to_string(),
        None if req.header("x-amz-date").is_some() => String::new(),
        None => header("date"),
    };
    let mut amz: Vec<(String, String)> = Vec::new();
    // A presigned URL carries its `x-amz-*` headers (a session's token) in the query.
    let query = query_pairs(req.query.unwrap_or(""));
    let in_query = query.iter().filter(|_| sig.expires.is_some()).map(|(k, v)| (k.as_str(), v.as_str()));
    for (k, v) in req.headers.iter().copied().chain(in_query) {
        let k = k.to_ascii_lowercase();
        if !k.starts_with("x-amz-") {
            continue;
        }
        match amz.iter_mut().find(|(n, _)| *n == k) {
            Some((_, existing)) => {
                existing.push(',');
                existing.push_str(v.trim());
            }
            None => amz.push((k, v.trim().to_owned())),
        }
    }
    amz.sort();
    let mut out = format!("{}\n{}\n{}\n{date}\n", req.method, header("content-md5"), header("content-type"));
    for (k, v) in amz {
        out.push_str(&format!("{k}:{v}\n"));
    }
    out.push_str(resource);
    let mut subs: Vec<(String, String)> =
        query_pairs(req.query.unwrap_or("")).into_iter().filter(|(k, _)| SUB_RESOURCES.contains(&k.as_str())).collect();
    subs.sort();
    for (i, (k, v)) in subs.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(k);
        if !v.is_empty() {
            out.push('=');
            out.push_str(v);
        }
    }
    out
}

/// Checks a SigV2 signature: a presigned URL's expiry against `now`, the key through
/// `lookup`, and the signature over `resource` (the path-style path as sent).
pub fn verify(
    req: &Request<'_>,
    sig: &SignatureV2,
    resource: &str,
    now: i64,
    lookup: impl FnOnce(&str) -> Option<Secret>,
) -> Result<(), Refusal> {
    if sig.expires.is_some_and(|e| now > e) {
        return Err(Refusal::Expired("Request has expired".into()));
    }
    let secret = lookup(&sig.access_key).ok_or(Refusal::UnknownKey)?;
    let query = query_pairs(req.query.unwrap_or(""));
    let in_query = query.iter().find(|(k, _)| k.eq_ignore_ascii_case("x-amz-security-token")).map(|(_, v)| v.as_str());
    if secret.session_token.as_deref() != req.header("x-amz-security-token").or(in_query) {
        return Err(Refusal::UnknownKey);
    }
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret.secret_key.as_bytes());
    let expected = hmac::sign(&key, string_to_sign(req, sig, resource).as_bytes());
    let expected = base64::engine::general_purpose::STANDARD.encode(expected.as_ref());
    match constant_time_eq(expected.as_bytes(), sig.signature.as_bytes()) {
        true => Ok(()),
        false => Err(Refusal::Mismatch(MISMATCH.into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's documented example: GET /awsexamplebucket1/photos/puppy.jpg, signed with
    /// the example secret.
    #[test]
    fn the_documented_example_verifies() {
        let headers =
            [("host", "awsexamplebucket1.us-west-1.s3.amazonaws.com"), ("date", "Tue, 27 Mar 2007 19:36:42 +0000")];
        let req = Request { method: "GET", path: "/photos/puppy.jpg", query: None, headers: &headers, body: &[] };
        let auth = [("authorization", "AWS AKIAIOSFODNN7EXAMPLE:qgk2+6Sv9/oM7G3qLEjTH1a1l1g=")];
        let sig = parse(&Request { headers: &auth, ..req }).unwrap();
        let secret =
            || Some(Secret { secret_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(), session_token: None });
        let resource = "/awsexamplebucket1/photos/puppy.jpg";
        assert_eq!(verify(&req, &sig, resource, 0, |_| secret()), Ok(()));
        assert!(matches!(verify(&req, &sig, "/other/photos/puppy.jpg", 0, |_| secret()), Err(Refusal::Mismatch(_))));
        let presigned = parse(&Request { query: Some("AWSAccessKeyId=K&Signature=s&Expires=100"), ..req }).unwrap();
        assert_eq!(presigned.expires, Some(100));
        assert!(matches!(verify(&req, &presigned, resource, 101, |_| secret()), Err(Refusal::Expired(_))));
    }
}
