//! DynamoDB: expressions of every kind (any text) read with placeholders, evaluated on an
//! item, applied as an update, projected; attribute values (any JSON) read and written;
//! a stored item read back.
#![no_main]

use std::collections::HashMap;

use dynamodb::expr::{self, Kind, Placeholders};
use dynamodb::value::{decode, encode, Value};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(3, '\n');
    let (expression, item_json, stored) = (parts.next().unwrap_or(""), parts.next().unwrap_or("{}"), parts.next());
    let item = serde_json::from_str::<serde_json::Value>(item_json)
        .ok()
        .and_then(|j| dynamodb::json::item_of(&j).ok())
        .unwrap_or_default();
    let names = HashMap::from([("#a".to_owned(), "a".to_owned()), ("#b".to_owned(), "b.c".to_owned())]);
    let values = HashMap::from([
        (":s".to_owned(), Value::S("x".into())),
        (":n".to_owned(), Value::N(dynamodb::number::Number::parse("1.5").unwrap())),
        (":l".to_owned(), Value::L(vec![Value::Null])),
        (":ss".to_owned(), Value::Ss(vec!["x".into()])),
    ]);
    for kind in [Kind::Condition, Kind::KeyCondition] {
        let mut ph = Placeholders::new(Some(&names), Some(&values)).unwrap();
        if let Ok(c) = expr::parse_condition(expression, kind, &mut ph) {
            let _ = expr::evaluate(&c, &item);
        }
    }
    let mut ph = Placeholders::new(Some(&names), Some(&values)).unwrap();
    if let Ok(u) = expr::parse_update(expression, &mut ph) {
        let mut copy = item.clone();
        if expr::apply_update(&u, &mut copy).is_ok() {
            assert_eq!(decode(&encode(&copy)), Some(copy), "an updated item round-trips");
        }
    }
    let mut ph = Placeholders::new(Some(&names), Some(&values)).unwrap();
    if let Ok(paths) = expr::parse_projection(expression, &mut ph) {
        let _ = expr::project(&item, &paths);
    }
    let _ = dynamodb::number::Number::parse(expression);
    if let Some(bytes) = stored {
        let _ = decode(bytes.as_bytes());
    }
    let back = dynamodb::json::item_json(&item);
    assert_eq!(dynamodb::json::item_of(&back).ok(), Some(item), "an item's JSON round-trips");
});
