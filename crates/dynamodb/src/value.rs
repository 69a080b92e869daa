//! DynamoDB's attribute values and items: the ten types, their sizes as DynamoDB counts
//! them, the checks an item's values pass (sets neither empty nor with duplicates), and a
//! compact binary form for the store (`encode`/`decode`, bounded on read).

use std::collections::BTreeMap;

use crate::number::Number;

/// An attribute value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `S`.
    S(String),
    /// `N`.
    N(Number),
    /// `B`.
    B(Vec<u8>),
    /// `SS`, in the order given.
    Ss(Vec<String>),
    /// `NS`.
    Ns(Vec<Number>),
    /// `BS`.
    Bs(Vec<Vec<u8>>),
    /// `M`.
    M(BTreeMap<String, Value>),
    /// `L`.
    L(Vec<Value>),
    /// `NULL`.
    Null,
    /// `BOOL`.
    Bool(bool),
}

/// An item: attribute names to values.
pub type Item = BTreeMap<String, Value>;

/// The largest item, in DynamoDB's count of bytes.
pub const MAX_ITEM_SIZE: usize = 400 * 1024;
/// How deep maps and lists nest.
pub const MAX_DEPTH: usize = 32;

impl Value {
    /// Its type's name on the wire (`S`, `NS`, `BOOL`…).
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::S(_) => "S",
            Value::N(_) => "N",
            Value::B(_) => "B",
            Value::Ss(_) => "SS",
            Value::Ns(_) => "NS",
            Value::Bs(_) => "BS",
            Value::M(_) => "M",
            Value::L(_) => "L",
            Value::Null => "NULL",
            Value::Bool(_) => "BOOL",
        }
    }

    /// The bytes DynamoDB counts for the value.
    pub fn size(&self) -> usize {
        match self {
            Value::S(s) => s.len(),
            Value::N(n) => n.size(),
            Value::B(b) => b.len(),
            Value::Ss(v) => v.iter().map(String::len).sum(),
            Value::Ns(v) => v.iter().map(Number::size).sum(),
            Value::Bs(v) => v.iter().map(Vec::len).sum(),
            Value::M(m) => 3 + m.iter().map(|(k, v)| k.len() + v.size() + 1).sum::<usize>(),
            Value::L(l) => 3 + l.iter().map(|v| v.size() + 1).sum::<usize>(),
            Value::Null | Value::Bool(_) => 1,
        }
    }

    /// How deeply maps and lists nest in it (a scalar is 0).
    pub fn depth(&self) -> usize {
        match self {
            Value::M(m) => 1 + m.values().map(Value::depth).max().unwrap_or(0),
            Value::L(l) => 1 + l.iter().map(Value::depth).max().unwrap_or(0),
            _ => 0,
        }
    }

    /// Whether a set holds `member`'s value (of its member type).
    pub fn set_contains(&self, member: &Value) -> bool {
        match (self, member) {
            (Value::Ss(v), Value::S(s)) => v.contains(s),
            (Value::Ns(v), Value::N(n)) => v.contains(n),
            (Value::Bs(v), Value::B(b)) => v.contains(b),
            _ => false,
        }
    }
}

/// The bytes DynamoDB counts for an item: each name and value.
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(k, v)| k.len() + v.size()).sum()
}

/// Checks the sets in a value: none empty, none with a member twice; the message in
/// DynamoDB's words (after `One or more parameter values were invalid: `).
pub fn check_sets(v: &Value) -> Result<(), String> {
    fn dupes<T: PartialEq + std::fmt::Debug>(v: &[T], show: impl Fn(&T) -> String) -> Result<(), String> {
        for (i, a) in v.iter().enumerate() {
            if v[..i].contains(a) {
                let all: Vec<String> = v.iter().map(&show).collect();
                return Err(format!("Input collection [{}] contains duplicates.", all.join(", ")));
            }
        }
        Ok(())
    }
    use base64::Engine;
    let b64 = |b: &Vec<u8>| base64::engine::general_purpose::STANDARD.encode(b);
    match v {
        Value::Ss(s) if s.is_empty() => Err("An string set  may not be empty".into()),
        Value::Ns(s) if s.is_empty() => Err("An number set  may not be empty".into()),
        Value::Bs(s) if s.is_empty() => Err("Binary sets should not be empty".into()),
        Value::Ss(s) => dupes(s, Clone::clone),
        Value::Ns(s) => dupes(s, ToString::to_string),
        Value::Bs(s) => dupes(s, b64),
        Value::M(m) => m.values().try_for_each(check_sets),
        Value::L(l) => l.iter().try_for_each(check_sets),
        _ => Ok(()),
    }
}

// The stored form: a tag byte, then the value. Lengths and counts are LEB128.
const T_S: u8 = 1;
const T_N: u8 = 2;
const T_B: u8 = 3;
const T_SS: u8 = 4;
const T_NS: u8 = 5;
const T_BS: u8 = 6;
const T_M: u8 = 7;
const T_L: u8 = 8;
const T_NULL: u8 = 9;
const T_TRUE: u8 = 10;
const T_FALSE: u8 = 11;

fn put_len(out: &mut Vec<u8>, mut n: usize) {
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_len(out, b.len());
    out.extend_from_slice(b);
}

fn put_number(out: &mut Vec<u8>, n: &Number) {
    put_bytes(out, n.to_string().as_bytes());
}

fn put_value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::S(s) => {
            out.push(T_S);
            put_bytes(out, s.as_bytes());
        }
        Value::N(n) => {
            out.push(T_N);
            put_number(out, n);
        }
        Value::B(b) => {
            out.push(T_B);
            put_bytes(out, b);
        }
        Value::Ss(s) => {
            out.push(T_SS);
            put_len(out, s.len());
            s.iter().for_each(|s| put_bytes(out, s.as_bytes()));
        }
        Value::Ns(s) => {
            out.push(T_NS);
            put_len(out, s.len());
            s.iter().for_each(|n| put_number(out, n));
        }
        Value::Bs(s) => {
            out.push(T_BS);
            put_len(out, s.len());
            s.iter().for_each(|b| put_bytes(out, b));
        }
        Value::M(m) => {
            out.push(T_M);
            put_map(out, m);
        }
        Value::L(l) => {
            out.push(T_L);
            put_len(out, l.len());
            l.iter().for_each(|v| put_value(out, v));
        }
        Value::Null => out.push(T_NULL),
        Value::Bool(true) => out.push(T_TRUE),
        Value::Bool(false) => out.push(T_FALSE),
    }
}

fn put_map(out: &mut Vec<u8>, m: &BTreeMap<String, Value>) {
    put_len(out, m.len());
    for (k, v) in m {
        put_bytes(out, k.as_bytes());
        put_value(out, v);
    }
}

/// An item's stored form.
pub fn encode(item: &Item) -> Vec<u8> {
    let mut out = Vec::with_capacity(item_size(item) + 16);
    put_map(&mut out, item);
    out
}

/// Reads an item's stored form; `None` for bytes that are not one.
pub fn decode(bytes: &[u8]) -> Option<Item> {
    let mut r = Reader { b: bytes, at: 0 };
    let m = r.map(0)?;
    (r.at == bytes.len()).then_some(m)
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> Option<u8> {
        let v = *self.b.get(self.at)?;
        self.at += 1;
        Some(v)
    }

    fn len(&mut self) -> Option<usize> {
        let mut n = 0usize;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            n |= usize::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                // No count can exceed what is left to read.
                return (n <= self.b.len()).then_some(n);
            }
        }
        None
    }

    fn bytes(&mut self) -> Option<&[u8]> {
        let n = self.len()?;
        let end = self.at.checked_add(n)?;
        let s = self.b.get(self.at..end)?;
        self.at = end;
        Some(s)
    }

    fn string(&mut self) -> Option<String> {
        String::from_utf8(self.bytes()?.to_vec()).ok()
    }

    fn number(&mut self) -> Option<Number> {
        Number::parse(std::str::from_utf8(self.bytes()?).ok()?).ok()
    }

    fn map(&mut self, depth: usize) -> Option<BTreeMap<String, Value>> {
        let n = self.len()?;
        let mut m = BTreeMap::new();
        for _ in 0..n {
            let k = self.string()?;
            let v = self.value(depth)?;
            m.insert(k, v);
        }
        Some(m)
    }

    fn value(&mut self, depth: usize) -> Option<Value> {
        if depth > MAX_DEPTH + 1 {
            return None;
        }
        Some(match self.byte()? {
            T_S => Value::S(self.string()?),
            T_N => Value::N(self.number()?),
            T_B => Value::B(self.bytes()?.to_vec()),
            T_SS => {
                let n = self.len()?;
                Value::Ss((0..n).map(|_| self.string()).collect::<Option<_>>()?)
            }
            T_NS => {
                let n = self.len()?;
                Value::Ns((0..n).map(|_| self.number()).collect::<Option<_>>()?)
            }
            T_BS => {
                let n = self.len()?;
                Value::Bs((0..n).map(|_| self.bytes().map(<[u8]>::to_vec)).collect::<Option<_>>()?)
            }
            T_M => Value::M(self.map(depth + 1)?),
            T_L => {
                let n = self.len()?;
                Value::L((0..n).map(|_| self.value(depth + 1)).collect::<Option<_>>()?)
            }
            T_NULL => Value::Null,
            T_TRUE => Value::Bool(true),
            T_FALSE => Value::Bool(false),
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(s: &str) -> Value {
        Value::N(Number::parse(s).unwrap())
    }

    #[test]
    fn stored_form_round_trips() {
        let mut inner = BTreeMap::new();
        inner.insert("deep".to_owned(), Value::L(vec![num("1.5"), Value::Null, Value::Bool(false)]));
        let mut item = Item::new();
        item.insert("id".into(), Value::S("héllo".into()));
        item.insert("n".into(), num("-12.5"));
        item.insert("b".into(), Value::B(vec![0, 255, 3]));
        item.insert("ss".into(), Value::Ss(vec!["b".into(), "a".into()]));
        item.insert("ns".into(), Value::Ns(vec![Number::parse("3").unwrap()]));
        item.insert("bs".into(), Value::Bs(vec![vec![1], vec![]]));
        item.insert("m".into(), Value::M(inner));
        item.insert("t".into(), Value::Bool(true));
        let bytes = encode(&item);
        assert_eq!(decode(&bytes), Some(item));
        assert_eq!(decode(&bytes[..bytes.len() - 1]), None);
        assert_eq!(decode(&[0xff, 0xff, 0xff, 0xff, 0x0f]), None);
    }

    #[test]
    fn sizes_count_names_and_values() {
        let mut item = Item::new();
        item.insert("id".into(), Value::S("abc".into()));
        item.insert("m".into(), Value::M(BTreeMap::from([("k".to_owned(), Value::Bool(true))])));
        // "id" 2 + "abc" 3; "m" 1 + (3 + "k" 1 + 1 + 1).
        assert_eq!(item_size(&item), 5 + 1 + 6);
    }

    #[test]
    fn sets_are_checked() {
        assert_eq!(check_sets(&Value::Ss(vec![])).unwrap_err(), "An string set  may not be empty");
        assert_eq!(
            check_sets(&Value::Ss(vec!["a".into(), "a".into()])).unwrap_err(),
            "Input collection [a, a] contains duplicates."
        );
        assert!(check_sets(&Value::L(vec![Value::Ss(vec!["a".into()])])).is_ok());
    }
}
