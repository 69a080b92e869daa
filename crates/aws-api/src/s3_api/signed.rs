//! S3 in authenticated mode: a request's signature is checked without reading its body,
//! which streams on to the service held to the SHA-256 the signature declared
//! (`XAmzContentSHA256Mismatch` at its end, before anything is stored); a request signed
//! by no one goes on as anonymous, for the bucket's policy and ACLs to decide; S3's own
//! error codes answer a refused signature.

use sigv4::{Declared, Refusal};

use super::*;
use crate::auth::Authenticator;

/// The checker of a request's signed chunks, for the `aws-chunked` decoder.
#[derive(Debug, Clone)]
pub(crate) struct ChunkSigning(pub(crate) sigv4::ChunkSigner);

/// Marks a request that no one signed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Anonymous;

/// A body that did not have the SHA-256 its signature declared.
#[derive(Debug)]
pub(crate) struct DigestMismatch;

impl std::fmt::Display for DigestMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("The provided 'x-amz-content-sha256' header does not match what was computed.")
    }
}

impl std::error::Error for DigestMismatch {}

impl DigestMismatch {
    /// S3's error for it.
    pub(crate) fn error() -> S3Error {
        S3Error::new("XAmzContentSHA256Mismatch", 400, DigestMismatch.to_string())
    }
}

/// Runs the request on, marked as who signed it (or as anonymous), its body checked as
/// it streams; or answers S3's refusal.
pub(crate) async fn authenticated(
    auth: &Authenticator,
    mut parts: Parts,
    body: Body,
    request_id: &str,
    next: axum::middleware::Next,
) -> Response {
    let resource = addressed(&parts).map(|a| path_style(&a, &parts)).unwrap_or_default();
    let body = match auth.check_s3(&parts, &resource) {
        Ok(None) => {
            parts.extensions.insert(Anonymous);
            body
        }
        Ok(Some((who, declared))) => {
            parts.extensions.insert(who);
            match declared {
                Declared::Digest(hex) => digest_checked(body, hex),
                Declared::SignedChunks(signer) => {
                    parts.extensions.insert(ChunkSigning(*signer));
                    body
                }
                Declared::Unsigned | Declared::Streaming(_) => body,
            }
        }
        Err(refusal) => {
            let presigned = parts.uri.query().is_some_and(|q| q.contains("Signature="));
            let e = refused(&refusal, presigned);
            let mut se = ServiceError::new(e.code, e.message.clone()).status(e.status);
            let host_id = host_id();
            se.fields.push(("HostId".into(), Value::String(host_id.clone())));
            return s3_ids(ingress::error("s3", Protocol::RestXml, &se, request_id), request_id, &host_id);
        }
    };
    next.run(Request::from_parts(parts, body)).await
}

/// S3's words for a refused signature (`presigned`: carried in the URL).
fn refused(refusal: &Refusal, presigned: bool) -> S3Error {
    match refusal {
        Refusal::Expired(_) if presigned => S3Error::new("AccessDenied", 403, "Request has expired"),
        Refusal::Missing => S3Error::new("AccessDenied", 403, "Access Denied"),
        Refusal::Incomplete(m) => S3Error::new("AuthorizationHeaderMalformed", 400, m.clone()),
        Refusal::UnknownKey => {
            S3Error::new("InvalidAccessKeyId", 403, "The AWS Access Key Id you provided does not exist in our records.")
        }
        Refusal::ExpiredToken => S3Error::new("ExpiredToken", 400, "The provided token has expired."),
        Refusal::Mismatch(m) if m.contains("x-amz-content-sha256") => DigestMismatch::error(),
        Refusal::Mismatch(_) => S3Error::new(
            "SignatureDoesNotMatch",
            403,
            "The request signature we calculated does not match the signature you provided. Check your key and \
             signing method.",
        ),
        Refusal::Expired(m) => S3Error::new("RequestTimeTooSkewed", 403, m.clone()),
    }
}

/// The body, whose stream ends in [`DigestMismatch`] unless its bytes hash to `hex`.
fn digest_checked(body: Body, hex: String) -> Body {
    let ctx = ring::digest::Context::new(&ring::digest::SHA256);
    let stream = futures_util::stream::unfold(
        (body.into_data_stream(), Some(ctx), hex),
        |(mut inner, ctx, hex): (_, Option<ring::digest::Context>, String)| async move {
            let mut ctx = ctx?;
            match inner.next().await {
                Some(Ok(bytes)) => {
                    ctx.update(&bytes);
                    Some((Ok(bytes), (inner, Some(ctx), hex)))
                }
                Some(Err(e)) => {
                    Some((Err(Box::new(e) as Box<dyn std::error::Error + Send + Sync>), (inner, None, hex)))
                }
                None => {
                    let got: String = ctx.finish().as_ref().iter().map(|b| format!("{b:02x}")).collect();
                    match got == hex {
                        true => None,
                        false => Some((Err(Box::new(DigestMismatch) as _), (inner, None, hex))),
                    }
                }
            }
        },
    );
    Body::from_stream(stream)
}

/// Whether a body's error is [`DigestMismatch`].
pub(crate) fn is_digest_mismatch(e: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if err.is::<DigestMismatch>() {
            return true;
        }
        source = err.source();
    }
    false
}
