use super::*;

// AWS's published SigV4 test suite, and the IAM ListUsers example of the SigV4
// documentation: credentials, time and expected signatures as AWS gives them.
const KEY: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const WHEN: &str = "20150830T123600Z";

fn secret(key: &str) -> Option<Secret> {
    (key == KEY).then(|| Secret { secret_key: SECRET.into(), session_token: None })
}

fn now() -> i64 {
    parse_amz_date(WHEN).unwrap()
}

fn authorization(service: &str, signed: &str, signature: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential={KEY}/20150830/us-east-1/{service}/aws4_request, SignedHeaders={signed}, \
         Signature={signature}"
    )
}

/// Verifies a request carrying `signature`, as the vector gives it.
fn check(method: &str, path: &str, query: Option<&str>, extra: &[(&str, &str)], body: &[u8], signature: &str) {
    let service = if extra.iter().any(|(_, v)| v.contains("charset")) { "iam" } else { "service" };
    let host = if service == "iam" { "iam.amazonaws.com" } else { "example.amazonaws.com" };
    let mut names: Vec<&str> = extra.iter().map(|(k, _)| *k).chain(["host", "x-amz-date"]).collect();
    names.sort();
    let auth = authorization(service, &names.join(";"), signature);
    let mut headers = vec![("host", host), ("x-amz-date", WHEN), ("authorization", auth.as_str())];
    headers.extend_from_slice(extra);
    let req = Request { method, path, query, headers: &headers, body };
    let sig = parse(&req).unwrap().unwrap();
    assert_eq!(verify(&req, &sig, now(), secret), Ok(()), "{method} {path} {query:?}");
}

#[test]
fn the_published_vectors_verify() {
    check("GET", "/", None, &[], b"", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
    check("POST", "/", None, &[], b"", "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
    check(
        "GET",
        "/",
        Some("Param2=value2&Param1=value1"),
        &[],
        b"",
        "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
    );
    check(
        "POST",
        "/",
        None,
        &[("content-type", "application/x-www-form-urlencoded")],
        b"Param1=value1",
        "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a",
    );
    check(
        "GET",
        "/",
        Some("Action=ListUsers&Version=2010-05-08"),
        &[("content-type", "application/x-www-form-urlencoded; charset=utf-8")],
        b"",
        "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
    );
}

/// A request signed here, as a client would, with `amz` as its time.
fn signed(method: &str, path: &str, body: &[u8], amz: &str) -> Vec<(&'static str, String)> {
    let headers = [("host", "localhost:4566")];
    let req = Request { method, path, query: None, headers: &headers, body };
    let mut out = vec![("host", "localhost:4566".to_owned())];
    out.extend(sign_request(&req, KEY, SECRET, "us-east-1", "lambda", parse_amz_date(amz).unwrap()));
    out
}

fn outcome(method: &str, path: &str, headers: &[(&'static str, String)], body: &[u8], now: i64) -> Result<(), Refusal> {
    let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let req = Request { method, path, query: None, headers: &headers, body };
    let sig = parse(&req)?.ok_or(Refusal::Missing)?;
    verify(&req, &sig, now, secret)
}

#[test]
fn a_tampered_body_a_wrong_secret_or_an_unknown_key_is_refused() {
    let path = "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Af/invocations";
    let headers = signed("POST", path, b"{\"a\":1}", WHEN);
    assert_eq!(outcome("POST", path, &headers, b"{\"a\":1}", now()), Ok(()));
    assert_eq!(outcome("POST", path, &headers, b"{\"a\":2}", now()), Err(Refusal::Mismatch(MISMATCH.into())));
    assert_eq!(outcome("POST", "/other", &headers, b"{\"a\":1}", now()), Err(Refusal::Mismatch(MISMATCH.into())));
    let req_headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let req = Request { method: "POST", path, query: None, headers: &req_headers, body: b"{\"a\":1}" };
    let sig = parse(&req).unwrap().unwrap();
    let wrong = |_: &str| Some(Secret { secret_key: "not-it".into(), session_token: None });
    assert_eq!(verify(&req, &sig, now(), wrong), Err(Refusal::Mismatch(MISMATCH.into())));
    assert_eq!(verify(&req, &sig, now(), |_| None), Err(Refusal::UnknownKey));
    let wants_token = |_: &str| Some(Secret { secret_key: SECRET.into(), session_token: Some("t".into()) });
    assert_eq!(verify(&req, &sig, now(), wants_token), Err(Refusal::UnknownKey));
}

#[test]
fn requests_older_or_newer_than_fifteen_minutes_are_refused() {
    let headers = signed("GET", "/", b"", WHEN);
    assert_eq!(outcome("GET", "/", &headers, b"", now() + 14 * 60), Ok(()));
    assert_eq!(
        outcome("GET", "/", &headers, b"", now() + 16 * 60),
        Err(Refusal::Expired(
            "Signature expired: 20150830T123600Z is now earlier than 20150830T123700Z (20150830T125200Z - 15 min.)"
                .into()
        ))
    );
    assert!(
        matches!(outcome("GET", "/", &headers, b"", now() - 16 * 60), Err(Refusal::Expired(m)) if m.starts_with("Signature not yet current"))
    );
}

#[test]
fn missing_parts_are_named() {
    let headers = [("authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/lambda/aws4_request")];
    let req = Request { method: "GET", path: "/", query: None, headers: &headers, body: b"" };
    let Err(Refusal::Incomplete(m)) = parse(&req) else { panic!("not incomplete") };
    assert!(m.contains("'Signature'") && m.contains("'SignedHeaders'") && m.contains("'X-Amz-Date'"), "{m}");
    let headers = [
        ("authorization", "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/x, SignedHeaders=host, Signature=0"),
        ("x-amz-date", WHEN),
    ];
    let req = Request { headers: &headers, ..req };
    assert!(matches!(parse(&req), Err(Refusal::Incomplete(_))));
    let req = Request { headers: &[], ..req };
    assert_eq!(parse(&req), Ok(None));
}

#[test]
fn presigned_urls_sign_their_query_and_expire() {
    let query =
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Flambda%2Faws4_request\
                 &X-Amz-Date=20150830T123600Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host";
    let headers = [("host", "localhost:4566")];
    // The signature itself is not part of what it signs.
    let unsigned = format!("{query}&X-Amz-Signature=0");
    let req =
        Request { method: "GET", path: "/2015-03-31/functions/", query: Some(&unsigned), headers: &headers, body: b"" };
    let mut sig = parse(&req).unwrap().unwrap();
    assert_eq!((sig.carrier, sig.expires), (Carrier::Query, Some(60)));
    let empty = hex(digest::digest(&digest::SHA256, b"").as_ref());
    let canonical = canonical_request(&req, &sig, &empty);
    let signature = sign(&signing_key(SECRET, "20150830", "us-east-1", "lambda"), &string_to_sign(&sig, &canonical));
    let full = format!("{query}&X-Amz-Signature={signature}");
    let req = Request { query: Some(&full), ..req };
    sig = parse(&req).unwrap().unwrap();
    assert_eq!(verify(&req, &sig, now() + 59, secret), Ok(()));
    assert!(matches!(verify(&req, &sig, now() + 61, secret), Err(Refusal::Expired(_))));
}

#[test]
fn paths_and_queries_take_their_canonical_forms() {
    assert_eq!(canonical_path("/a/./b/../c//d/"), "/a/c/d/");
    assert_eq!(canonical_path(""), "/");
    // Paths arrive encoded and are encoded once more, as clients sign them.
    assert_eq!(canonical_path("/functions/arn%3Aaws%3Alambda"), "/functions/arn%253Aaws%253Alambda");
    assert_eq!(canonical_query("b=2&a=%7e&a=1&c", false), "a=1&a=~&b=2&c=");
    assert_eq!(canonical_query("X-Amz-Signature=x&a=b%20c", true), "a=b%20c");
}

#[test]
fn dates_round_trip() {
    for t in [0, 1_440_938_160, 1_795_000_000, 951_782_400] {
        assert_eq!(parse_amz_date(&amz_date(t)), Some(t));
    }
    assert_eq!(parse_amz_date("20150830T123600"), None);
    assert_eq!(parse_amz_date("2015-08-30T12:36:00Z"), None);
}

#[test]
fn only_s3_takes_an_unsigned_payload_and_a_declared_hash_must_be_the_bodys() {
    let headers = [("host", "localhost:4566"), ("x-amz-content-sha256", UNSIGNED_PAYLOAD)];
    let req = Request { method: "PUT", path: "/x", query: None, headers: &headers, body: b"anything" };
    let mut sig = Signature {
        carrier: Carrier::Header,
        access_key: KEY.into(),
        date: "20150830".into(),
        region: "us-east-1".into(),
        service: "s3".into(),
        signed_headers: vec!["host".into(), "x-amz-content-sha256".into(), "x-amz-date".into()],
        signature: String::new(),
        amz_date: WHEN.into(),
        expires: None,
        security_token: None,
    };
    let with_date = [headers[0], headers[1], ("x-amz-date", WHEN)];
    let req = Request { headers: &with_date, ..req };
    let canonical = canonical_request(&req, &sig, UNSIGNED_PAYLOAD);
    sig.signature = sign(&signing_key(SECRET, "20150830", "us-east-1", "s3"), &string_to_sign(&sig, &canonical));
    assert_eq!(verify(&req, &sig, now(), secret), Ok(()));
    assert_eq!(verify(&Request { body: b"something else", ..req }, &sig, now(), secret), Ok(()));
    // Any other service signs its body: the same request scoped to Lambda does not verify,
    // and neither does its body swapped under a signature over the real one.
    let mut lambda = Signature { service: "lambda".into(), ..sig.clone() };
    lambda.signature =
        sign(&signing_key(SECRET, "20150830", "us-east-1", "lambda"), &string_to_sign(&lambda, &canonical));
    assert!(matches!(verify(&req, &lambda, now(), secret), Err(Refusal::Mismatch(_))));
    let hashed = hex(digest::digest(&digest::SHA256, b"anything").as_ref());
    let canonical = canonical_request(&req, &lambda, &hashed);
    lambda.signature =
        sign(&signing_key(SECRET, "20150830", "us-east-1", "lambda"), &string_to_sign(&lambda, &canonical));
    assert_eq!(verify(&req, &lambda, now(), secret), Ok(()));
    assert!(matches!(verify(&Request { body: b"swapped", ..req }, &lambda, now(), secret), Err(Refusal::Mismatch(_))));
    // A declared hash that is not the body's is refused, whatever the signature.
    let lying = [headers[0], ("x-amz-content-sha256", "00"), ("x-amz-date", WHEN)];
    let req = Request { headers: &lying, ..req };
    assert!(
        matches!(verify(&req, &sig, now(), secret), Err(Refusal::Mismatch(m)) if m.contains("x-amz-content-sha256"))
    );
}

/// AWS's documented streaming upload (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD`): a 64 KiB
/// chunk of `a`, a 1 KiB one, and the empty last chunk, each signature chained from the
/// seed (the request's own).
#[test]
fn signed_chunks_chain_from_the_requests_signature() {
    let sig = Signature {
        carrier: Carrier::Header,
        access_key: "AKIAIOSFODNN7EXAMPLE".into(),
        date: "20130524".into(),
        region: "us-east-1".into(),
        service: "s3".into(),
        signed_headers: Vec::new(),
        signature: "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9".into(),
        amz_date: "20130524T000000Z".into(),
        expires: None,
        security_token: None,
    };
    let secret = Secret { secret_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(), session_token: None };
    let mut chunks = ChunkSigner::new(&sig, &secret, &SigningKeys::default());
    let sha = |data: &[u8]| hex(digest::digest(&digest::SHA256, data).as_ref());
    let mut replayed = chunks.clone();
    assert!(chunks.verify("ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648", &sha(&[b'a'; 65536])));
    assert!(chunks.verify("0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497", &sha(&[b'a'; 1024])));
    assert!(chunks.verify("b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9", &sha(b"")));
    // The same signature over other bytes, or out of its place in the chain, fails.
    assert!(!replayed.verify("ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648", &sha(b"other")));
}
