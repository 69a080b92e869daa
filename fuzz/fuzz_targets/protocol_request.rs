//! The protocol layer: any request, in any of the five protocols, addressed to any modelled
//! service, read and checked from the service's model (routing, JSON, XML, CBOR, forms,
//! labels, headers, gzip), and the answer to it written back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use protocol::{Output, Protocol};

const PROTOCOLS: [Protocol; 5] = [Protocol::Json, Protocol::RestJson, Protocol::RestXml, Protocol::Query, Protocol::Cbor];
const METHODS: [&str; 5] = ["GET", "POST", "PUT", "DELETE", "PATCH"];

fuzz_target!(|data: &[u8]| {
    // [service][protocol][method][flags] path \n header-value \n body
    let [service, proto, method, flags, rest @ ..] = data else { return };
    let Some(info) = protocol::SERVICES.get(*service as usize % protocol::SERVICES.len()) else { return };
    let Some(model) = protocol::service(info.name) else { return };
    let protocol = PROTOCOLS[*proto as usize % PROTOCOLS.len()];
    let method = http::Method::from_bytes(METHODS[*method as usize % METHODS.len()].as_bytes()).unwrap_or_default();
    let mut parts = rest.splitn(3, |b| *b == b'\n');
    let target = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let header = parts.next().unwrap_or_default();
    let body = bytes::Bytes::copy_from_slice(parts.next().unwrap_or_default());
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let mut headers = http::HeaderMap::new();
    if let Ok(v) = http::HeaderValue::from_bytes(header) {
        let name = match flags % 4 {
            0 => "x-amz-target",
            1 => "content-type",
            2 => "x-amz-invocation-type",
            _ => "content-encoding",
        };
        headers.insert(name, v);
    }
    let req = protocol::Request { method: &method, path, query, headers: &headers, body };
    let _ = protocol::address(&req);
    match model.parse(protocol, &req) {
        Ok(input) => {
            // Whatever was read writes back (as an output of the same operation).
            let out = model.respond(protocol, &input.operation, Output::new(input.value), "fuzz");
            let _ = out.body.len();
        }
        Err(e) => {
            let _ = e.render(Some(model), protocol, "fuzz");
        }
    }
});
