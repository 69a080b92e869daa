//! API Gateway's matching: route keys, path templates, hosts, percent-decoding and
//! selection patterns, from two strings of the input.
#![no_main]

use libfuzzer_sys::fuzz_target;

use apigateway::routing;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (a, b) = text.split_once('\n').unwrap_or((&text, "/"));
    let _ = routing::RouteKey::parse(a);
    let _ = routing::match_template(a, b);
    let _ = routing::address(a, b);
    let _ = routing::split_first_segment(b);
    let _ = routing::percent_decode(b);
    if let Ok(p) = routing::Pattern::new(a) {
        let _ = p.matches(b);
    }
});
