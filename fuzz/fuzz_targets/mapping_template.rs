//! API Gateway mapping templates: any template rendered against a body and a scope, both
//! taken from the input. Beyond "no panic": what renders stays within the output bound.
#![no_main]

use std::collections::BTreeMap;

use apigateway::template::{render, Scope, MAX_OUTPUT};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (template, body) = text.split_once('\n').unwrap_or((&text, r#"{"user": {"name": "ann", "tags": ["x"]}}"#));
    let scope = Scope {
        body,
        path: BTreeMap::from([("id".to_owned(), "7".to_owned())]),
        query: BTreeMap::from([("q".to_owned(), body.chars().take(64).collect())]),
        headers: BTreeMap::from([("X-Trace".to_owned(), "t".to_owned())]),
        context: BTreeMap::from([("requestId".to_owned(), "r".to_owned())]),
        stage_variables: BTreeMap::from([("v".to_owned(), "s".to_owned())]),
    };
    if let Ok(out) = render(template, &scope) {
        assert!(out.len() <= MAX_OUTPUT);
    }
});
