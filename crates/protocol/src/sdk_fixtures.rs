//! The codecs against botocore's own protocol tests (`tests/fixtures/`, Apache-2.0): each
//! input case is a request an SDK serialised from known parameters, which the server-side
//! codec must read back into those parameters; each output case is a response body the
//! SDK parses into a known result, which the codec must write so that it reads the same.

use base64::Engine;
use bytes::Bytes;
use serde_json::{Map, Value};

use crate::model::{Kind, Model, Protocol, ShapeId};
use crate::{json, xml, xmlbody, Output, Request};

/// Cases a server cannot read back, with why. Each is a test of the client's side only.
const KNOWN: &[(&str, &str)] = &[
    // The fixture leaves the compressed body out (the codec's gzip is tested in lib.rs).
    ("SDKAppliedContentEncoding_awsJson1_0", "compressed body not in the fixture"),
    ("SDKAppliedContentEncoding_awsJson1_1", "compressed body not in the fixture"),
    ("SDKAppliedContentEncoding_awsQuery", "compressed body not in the fixture"),
    ("SDKAppliedContentEncoding_restJson1", "compressed body not in the fixture"),
    ("SDKAppliedContentEncoding_restXml", "compressed body not in the fixture"),
    ("SDKAppendsGzipAndIgnoresHttpProvidedEncoding_awsJson1_0", "compressed body not in the fixture"),
    ("SDKAppendsGzipAndIgnoresHttpProvidedEncoding_awsJson1_1", "compressed body not in the fixture"),
    ("SDKAppendsGzipAndIgnoresHttpProvidedEncoding_awsQuery", "compressed body not in the fixture"),
    ("SDKAppendedGzipAfterProvidedEncoding_restJson1", "compressed body not in the fixture"),
    ("SDKAppendedGzipAfterProvidedEncoding_restXml", "compressed body not in the fixture"),
    // The fixture records the host the client chose, not the header or path that names
    // the operation.
    ("AwsJson10EndpointTrait", "no X-Amz-Target in the fixture"),
    ("AwsJson10EndpointTraitWithHostLabel", "no X-Amz-Target in the fixture"),
    ("AwsJson10HostWithPath", "no X-Amz-Target in the fixture"),
    ("RestJsonHostWithPath", "the client's endpoint path prefixes the operation's"),
    // A map of every query parameter and a member naming one of them: which the client
    // set is not on the wire. A server gives the map every parameter (as the rest-json
    // cases expect); these rest-xml cases and the precedence cases expect the map the
    // client was given.
    ("RestJsonQueryPrecedence", "client-side precedence"),
    ("RestXmlQueryPrecedence", "client-side precedence"),
    ("RestXmlQueryParamsStringListMap", "client-side precedence"),
    ("RestJsonQueryParamsStringListMap", "client-side precedence"),
    ("AllQueryStringTypes", "client-side precedence"),
    ("RestXmlQueryStringEscaping", "client-side precedence"),
    ("RestXmlSupportsNaNFloatQueryValues", "client-side precedence"),
    ("RestXmlSupportsInfinityFloatQueryValues", "client-side precedence"),
    ("RestXmlSupportsNegativeInfinityFloatQueryValues", "client-side precedence"),
    ("RestXmlZeroAndFalseQueryValues", "client-side precedence"),
];

fn suites(file: &str) -> Vec<Value> {
    let path = format!("{}/tests/fixtures/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    serde_json::from_str::<Value>(&text).unwrap().as_array().unwrap().clone()
}

fn model_of(suite: &Value) -> Model {
    let mut operations = Map::new();
    for case in suite["cases"].as_array().unwrap() {
        let mut given = case["given"].clone();
        if given.get("http").is_none() {
            given["http"] = serde_json::json!({"method": "POST", "requestUri": "/"});
        }
        operations.insert(given["name"].as_str().unwrap().to_owned(), given);
    }
    let mut metadata = suite["metadata"].clone();
    metadata["endpointPrefix"] = Value::from("fixture");
    if metadata.get("apiVersion").is_none() {
        metadata["apiVersion"] = Value::from("2020-01-08");
    }
    let doc = serde_json::json!({"metadata": metadata, "operations": operations, "shapes": suite["shapes"]});
    Model::from_json("fixture", doc.to_string().as_bytes(), None).unwrap()
}

/// Compares a canonical value with a fixture's parameters by shape: blobs as bytes,
/// numbers as numbers, timestamps as seconds.
fn same(model: &Model, shape: ShapeId, ours: &Value, theirs: &Value) -> bool {
    match (&model.shape(shape).kind, ours, theirs) {
        (Kind::Structure { members, .. }, Value::Object(a), Value::Object(b)) => members.iter().all(|m| {
            match (a.get(&m.name), b.get(&m.name)) {
                (None, None) => true,
                (Some(x), Some(y)) => same(model, m.shape, x, y),
                // An empty list or map the SDK leaves out, or a token the codec filled.
                (Some(x), None) => m.idempotency_token || x.as_array().is_some_and(|a| a.is_empty()),
                (None, Some(y)) => {
                    y.is_null()
                        || y.as_array().is_some_and(|a| a.is_empty())
                        || y.as_object().is_some_and(|o| o.is_empty())
                }
            }
        }),
        (Kind::List(m), Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(model, m.shape, x, y))
        }
        (Kind::Map(_, m), Value::Object(a), Value::Object(b)) => {
            a.len() == b.len() && a.iter().all(|(k, x)| b.get(k).is_some_and(|y| same(model, m.shape, x, y)))
        }
        (Kind::Blob, Value::String(a), Value::String(b)) => {
            base64::engine::general_purpose::STANDARD.decode(a).ok().as_deref() == Some(b.as_bytes())
        }
        (Kind::Timestamp | Kind::Integer | Kind::Long | Kind::Float | Kind::Double, x, y) => {
            match (crate::timestamp::seconds_of(x), crate::timestamp::seconds_of(y)) {
                (Some(a), Some(b)) => (a - b).abs() < 1e-3,
                _ => x == y,
            }
        }
        (_, x, y) => x == y,
    }
}

fn protocol_of(model: &Model) -> Protocol {
    model.protocol()
}

fn run_inputs(file: &str) -> Vec<String> {
    let mut failures = Vec::new();
    for suite in suites(&format!("input/{file}")) {
        let model = model_of(&suite);
        for case in suite["cases"].as_array().unwrap() {
            let id = case["id"].as_str().unwrap_or("?").to_owned();
            if KNOWN.iter().any(|(k, _)| *k == id) {
                continue;
            }
            let s = &case["serialized"];
            let uri = s["uri"].as_str().unwrap_or("/");
            let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
            let mut headers = http::HeaderMap::new();
            for (k, v) in s["headers"].as_object().into_iter().flatten() {
                if let (Ok(k), Ok(v)) =
                    (http::HeaderName::try_from(k.as_str()), http::HeaderValue::from_str(v.as_str().unwrap_or("")))
                {
                    headers.append(k, v);
                }
            }
            let body = s["body"].as_str().unwrap_or("");
            let body = if protocol_of(&model) == Protocol::Cbor {
                Bytes::from(base64::engine::general_purpose::STANDARD.decode(body).unwrap_or_default())
            } else {
                Bytes::from(body.to_owned())
            };
            let method = http::Method::from_bytes(s["method"].as_str().unwrap_or("POST").as_bytes()).unwrap();
            let req = Request { method: &method, path, query, headers: &headers, body };
            let protocol = protocol_of(&model);
            let op = model.operation(case["given"]["name"].as_str().unwrap()).unwrap();
            match model.parse(protocol, &req) {
                Ok(input) => {
                    let mut value = input.value.clone();
                    // A blob payload travels beside the tree.
                    if let (Some(payload), Some(shape)) = (&input.payload, op.input) {
                        if let Kind::Structure { members, payload: Some(i), .. } = &model.shape(shape).kind {
                            value[&members[*i].name] =
                                Value::String(base64::engine::general_purpose::STANDARD.encode(payload));
                        }
                    }
                    let ok = match op.input {
                        Some(shape) => same(&model, shape, &value, &case["params"]),
                        None => true,
                    };
                    if !ok || input.operation != op.name {
                        failures.push(format!("{file} {id}: read {value} want {}", case["params"]));
                    }
                }
                Err(e) => failures.push(format!("{file} {id}: {e}")),
            }
        }
    }
    failures
}

/// Reads a response body the way a client would, for comparison.
fn read_body(model: &Model, protocol: Protocol, shape: ShapeId, op_name: &str, body: &[u8]) -> Result<Value, String> {
    match protocol {
        Protocol::Json | Protocol::RestJson => {
            let v: Value = if body.is_empty() {
                Value::Object(Map::new())
            } else {
                serde_json::from_slice(body).map_err(|e| e.to_string())?
            };
            json::read(model, shape, v, "").map_err(|e| format!("{e:?}"))
        }
        Protocol::Cbor => json::read(model, shape, crate::cbor::decode(body)?, "").map_err(|e| format!("{e:?}")),
        Protocol::Query => {
            let root = xml::parse(body)?;
            let name = format!("{op_name}Result");
            let result = root.named(&name).next().ok_or("no result element")?;
            xmlbody::read_structure(model, shape, result, "").map_err(|e| format!("{e:?}"))
        }
        Protocol::RestXml => {
            if body.is_empty() {
                return Ok(Value::Object(Map::new()));
            }
            let root = xml::parse(body)?;
            xmlbody::read_structure(model, shape, &root, "").map_err(|e| format!("{e:?}"))
        }
    }
}

fn run_outputs(file: &str) -> Vec<String> {
    let mut failures = Vec::new();
    for suite in suites(&format!("output/{file}")) {
        let model = model_of(&suite);
        let protocol = protocol_of(&model);
        for case in suite["cases"].as_array().unwrap() {
            let id = case["id"].as_str().unwrap_or("?").to_owned();
            if KNOWN.iter().any(|(k, _)| *k == id) || case.get("error").is_some() || case.get("errorCode").is_some() {
                continue;
            }
            let op = model.operation(case["given"]["name"].as_str().unwrap()).unwrap();
            let Some(shape) = op.output else { continue };
            // Only the body's members: headers and status are compared apart.
            let body_only = match &model.shape(shape).kind {
                Kind::Structure { members, payload, .. } => {
                    payload.is_none() && members.iter().all(|m| m.location == crate::model::Location::Body)
                }
                _ => false,
            };
            if !body_only {
                continue;
            }
            let result = case["result"].clone();
            // Blobs in the fixture are raw text; the tree holds base64.
            let canonical = to_canonical(&model, shape, &result);
            let ours = model.respond(protocol, &op.name, Output::new(canonical.clone()), "req");
            let read = read_body(&model, protocol, shape, &op.name, &ours.body);
            match read {
                Ok(v) if same(&model, shape, &v, &result) => {}
                Ok(v) => failures.push(format!(
                    "{file} {id}: wrote {} read back {v} want {result}",
                    String::from_utf8_lossy(&ours.body)
                )),
                Err(e) => failures.push(format!("{file} {id}: {e}: {}", String::from_utf8_lossy(&ours.body))),
            }
        }
    }
    failures
}

fn to_canonical(model: &Model, shape: ShapeId, v: &Value) -> Value {
    match (&model.shape(shape).kind, v) {
        (Kind::Structure { members, .. }, Value::Object(o)) => Value::Object(
            members
                .iter()
                .filter_map(|m| Some((m.name.clone(), to_canonical(model, m.shape, o.get(&m.name)?))))
                .collect(),
        ),
        (Kind::List(m), Value::Array(a)) => Value::Array(a.iter().map(|x| to_canonical(model, m.shape, x)).collect()),
        (Kind::Map(_, m), Value::Object(o)) => {
            Value::Object(o.iter().map(|(k, x)| (k.clone(), to_canonical(model, m.shape, x))).collect())
        }
        (Kind::Blob, Value::String(s)) => Value::String(base64::engine::general_purpose::STANDARD.encode(s)),
        (_, v) => v.clone(),
    }
}

fn check(failures: Vec<String>) {
    assert!(failures.is_empty(), "{} cases failed:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn json_requests_and_answers() {
    let mut f = run_inputs("json.json");
    f.extend(run_inputs("json_1_0.json"));
    f.extend(run_outputs("json.json"));
    f.extend(run_outputs("json_1_0.json"));
    check(f);
}

#[test]
fn query_requests_and_answers() {
    let mut f = run_inputs("query.json");
    f.extend(run_outputs("query.json"));
    check(f);
}

#[test]
fn rest_json_requests_and_answers() {
    let mut f = run_inputs("rest-json.json");
    f.extend(run_outputs("rest-json.json"));
    check(f);
}

#[test]
fn rest_xml_requests_and_answers() {
    let mut f = run_inputs("rest-xml.json");
    f.extend(run_outputs("rest-xml.json"));
    check(f);
}

#[test]
fn cbor_requests_and_answers() {
    let mut f = run_inputs("smithy-rpc-v2-cbor.json");
    f.extend(run_outputs("smithy-rpc-v2-cbor.json"));
    check(f);
}
