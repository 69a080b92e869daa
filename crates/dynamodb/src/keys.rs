//! Keys: an item's primary key checked against its table (present, of its type, not
//! empty, within DynamoDB's sizes), and encoded for the store so that bytewise order is
//! DynamoDB's order (strings and binary as their bytes, numbers by `Number::key_bytes`).

use store::IndexEntry;

use crate::number::Number;
use crate::tables::{Index, Table};
use crate::value::{Item, Value};
use crate::{invalid, DynamoError};

/// The largest partition key, in bytes.
const MAX_HASH: usize = 2048;
/// The largest sort key, in bytes.
const MAX_RANGE: usize = 1024;

/// An item's primary key, encoded.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    /// The partition key.
    pub pk: Vec<u8>,
    /// The sort key (empty without one).
    pub sk: Vec<u8>,
}

/// A key value's encoding; `None` for a type no key has.
pub fn encode(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::S(s) => Some(s.as_bytes().to_vec()),
        Value::B(b) => Some(b.clone()),
        Value::N(n) => Some(n.key_bytes()),
        _ => None,
    }
}

/// A key value back from its encoding and type (`S`, `N`, `B`).
pub fn decode(bytes: &[u8], ty: &str) -> Option<Value> {
    match ty {
        "S" => String::from_utf8(bytes.to_vec()).ok().map(Value::S),
        "B" => Some(Value::B(bytes.to_vec())),
        "N" => Number::from_key_bytes(bytes).map(Value::N),
        _ => None,
    }
}

fn check_key_value(name: &str, ty: &str, v: &Value) -> Result<(), DynamoError> {
    if v.type_name() != ty {
        return Err(invalid(format!(
            "One or more parameter values were invalid: Type mismatch for key {name} expected: {ty} actual: {}",
            v.type_name()
        )));
    }
    match v {
        Value::S(s) if s.is_empty() => Err(invalid(format!(
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: {name}"
        ))),
        Value::B(b) if b.is_empty() => Err(invalid(format!(
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty binary value. Key: {name}"
        ))),
        _ => Ok(()),
    }
}

fn sizes(table: &Table, pk: &[u8], sk: &[u8]) -> Result<(), DynamoError> {
    if pk.len() > MAX_HASH {
        return Err(invalid(
            "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes",
        ));
    }
    if table.range.is_some() && sk.len() > MAX_RANGE {
        return Err(invalid(
            "One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of 1024 bytes",
        ));
    }
    Ok(())
}

/// The key of an item being written: each key attribute present and of its type.
pub fn of_item(table: &Table, item: &Item) -> Result<Key, DynamoError> {
    let mut parts = Vec::with_capacity(2);
    for name in std::iter::once(&table.hash).chain(table.range.iter()) {
        let ty = table.attribute_type(name).unwrap_or("S");
        let Some(v) = item.get(name) else {
            return Err(invalid(format!(
                "One or more parameter values were invalid: Missing the key {name} in the item"
            )));
        };
        check_key_value(name, ty, v)?;
        parts.push(encode(v).unwrap_or_default());
    }
    let sk = if parts.len() > 1 { parts.pop().unwrap_or_default() } else { Vec::new() };
    let pk = parts.pop().unwrap_or_default();
    sizes(table, &pk, &sk)?;
    // Index keys present in the item are of their index's type.
    for (idx, _) in table.gsis.iter().map(|i| (i, true)).chain(table.lsis.iter().map(|i| (i, false))) {
        for k in std::iter::once(&idx.hash).chain(idx.range.iter()) {
            if let (Some(v), Some(ty)) = (item.get(k), table.attribute_type(k)) {
                if v.type_name() != ty {
                    return Err(invalid(format!(
                        "One or more parameter values were invalid: Type mismatch for Index Key {k} Expected: {ty} Actual: {} IndexName: {}",
                        v.type_name(),
                        idx.name
                    )));
                }
                if matches!(v, Value::S(s) if s.is_empty()) || matches!(v, Value::B(b) if b.is_empty()) {
                    return Err(invalid(format!(
                        "One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty {} value. IndexName: {}, IndexKey: {k}",
                        if matches!(v, Value::S(_)) { "string" } else { "binary" },
                        idx.name
                    )));
                }
            }
        }
    }
    Ok(Key { pk, sk })
}

/// The key a `Key` parameter names: exactly the table's key attributes.
pub fn of_key(table: &Table, key: &Item) -> Result<Key, DynamoError> {
    let want = 1 + usize::from(table.range.is_some());
    let mismatch = || invalid("The provided key element does not match the schema");
    if key.len() != want {
        return Err(mismatch());
    }
    let mut parts = Vec::with_capacity(2);
    for name in std::iter::once(&table.hash).chain(table.range.iter()) {
        let ty = table.attribute_type(name).unwrap_or("S");
        let v = key.get(name).ok_or_else(mismatch)?;
        if v.type_name() != ty {
            return Err(mismatch());
        }
        check_key_value(name, ty, v)?;
        parts.push(encode(v).unwrap_or_default());
    }
    let sk = if parts.len() > 1 { parts.pop().unwrap_or_default() } else { Vec::new() };
    let pk = parts.pop().unwrap_or_default();
    sizes(table, &pk, &sk)?;
    Ok(Key { pk, sk })
}

/// The key attributes of an item.
pub fn key_item(table: &Table, item: &Item) -> Item {
    let mut out = Item::new();
    for name in std::iter::once(&table.hash).chain(table.range.iter()) {
        if let Some(v) = item.get(name) {
            out.insert(name.clone(), v.clone());
        }
    }
    out
}

/// The key attributes of an item and of an index (a query's `LastEvaluatedKey`).
pub fn index_key_item(table: &Table, index: &Index, item: &Item) -> Item {
    let mut out = key_item(table, item);
    for name in std::iter::once(&index.hash).chain(index.range.iter()) {
        if let Some(v) = item.get(name) {
            out.insert(name.clone(), v.clone());
        }
    }
    out
}

/// The entry an item has in an index: none when it lacks one of the index's keys (a
/// sparse index).
pub fn index_entry(index: &Index, item: &Item, key: &Key) -> Option<IndexEntry> {
    let ipk = encode(item.get(&index.hash)?)?;
    let isk = match &index.range {
        Some(r) => encode(item.get(r)?)?,
        None => Vec::new(),
    };
    Some(IndexEntry { ipk, isk, pk: key.pk.clone(), sk: key.sk.clone() })
}

/// An item as an index holds it: its projection of the item.
pub fn projected(table: &Table, index: &Index, item: &Item) -> Item {
    match index.projection.as_str() {
        "ALL" => item.clone(),
        _ => {
            let mut out = index_key_item(table, index, item);
            if index.projection == "INCLUDE" {
                for n in &index.non_key {
                    if let Some(v) = item.get(n) {
                        out.insert(n.clone(), v.clone());
                    }
                }
            }
            out
        }
    }
}
