//! Query and Scan: a key condition becomes a range of the store's primary key (or of an
//! index's), read in pages until `Limit` items are evaluated or 1 MB is read; the filter
//! applies after, so `ScannedCount` counts what was read and `Count` what was kept;
//! `LastEvaluatedKey` says where the next page starts. Scan's segments split a table by
//! a hash of the partition key.

use std::ops::Bound;

use crate::expr::{self, Cmp, Cond, Operand, Path, Step};
use crate::items::{read_units, Consumed, Expressions};
use crate::keys::{self, encode};
use crate::tables::{Index, Table};
use crate::value::{decode, item_size, Item, Value};
use crate::{invalid, Caller, DynamoError, DynamoService};

/// The most a page reads.
const PAGE_BYTES: usize = 1024 * 1024;

/// Query's or Scan's input.
#[derive(Debug, Clone, Default)]
pub struct ReadInput {
    /// The table.
    pub table: String,
    /// The index, if one.
    pub index: Option<String>,
    /// Expressions (key condition, filter, projection) or their legacy forms.
    pub exprs: Expressions,
    /// `Limit`.
    pub limit: Option<usize>,
    /// `ExclusiveStartKey`.
    pub start: Option<Item>,
    /// `ScanIndexForward` (Query).
    pub forward: Option<bool>,
    /// `Select`.
    pub select: Option<String>,
    /// `ConsistentRead`.
    pub consistent: bool,
    /// `Segment` (Scan).
    pub segment: Option<u32>,
    /// `TotalSegments` (Scan).
    pub total_segments: Option<u32>,
}

/// Query's or Scan's answer.
#[derive(Debug, Clone, Default)]
pub struct ReadOutput {
    /// `Items` (absent when only counting).
    pub items: Option<Vec<Item>>,
    /// `Count`.
    pub count: usize,
    /// `ScannedCount`.
    pub scanned: usize,
    /// `LastEvaluatedKey`.
    pub last_key: Option<Item>,
    /// Capacity consumed.
    pub consumed: Option<Consumed>,
}

/// What a read has gathered so far.
struct Gathered<'a> {
    filter: Option<&'a Cond>,
    limit: usize,
    scanned: usize,
    bytes: usize,
    kept: Vec<Item>,
    last: Option<Item>,
}

impl Gathered<'_> {
    /// Takes one item read (kept if it passes the filter); whether the page is full, its
    /// key (`key` of the item) then being where the next page starts.
    fn take(&mut self, item: Item, key: impl FnOnce(&Item) -> Item) -> bool {
        self.scanned += 1;
        self.bytes += item_size(&item);
        let full = self.scanned >= self.limit || self.bytes >= PAGE_BYTES;
        if full {
            self.last = Some(key(&item));
        }
        if self.filter.is_none_or(|f| expr::evaluate(f, &item)) {
            self.kept.push(item);
        }
        full
    }

    /// The answer: the items kept (projected, unless only counted), the counts, the key
    /// the next page starts after, the capacity read.
    fn finish(self, table: &str, consistent: bool, select: &str, projection: Option<&[Path]>) -> ReadOutput {
        let count = self.kept.len();
        let items = if select == "COUNT" {
            None
        } else {
            Some(match projection {
                Some(p) => self.kept.iter().map(|i| expr::project(i, p)).collect(),
                None => self.kept,
            })
        };
        ReadOutput {
            count,
            scanned: self.scanned,
            last_key: self.last,
            consumed: Some(Consumed { table: table.to_owned(), units: read_units(self.bytes, consistent) }),
            items,
        }
    }
}

/// A sort key's range.
#[derive(Debug, Default)]
struct Range {
    from: Option<Bound<Vec<u8>>>,
    to: Option<Bound<Vec<u8>>>,
}

fn flatten<'a>(c: &'a Cond, out: &mut Vec<&'a Cond>) {
    match c {
        Cond::And(a, b) => {
            flatten(a, out);
            flatten(b, out);
        }
        other => out.push(other),
    }
}

fn attr_of(o: &Operand) -> Option<&str> {
    match o {
        Operand::Path(Path(steps)) if steps.len() == 1 => match &steps[0] {
            Step::Name(n) => Some(n),
            Step::Index(_) => None,
        },
        _ => None,
    }
}

fn operator_name(c: &Cond) -> Option<&'static str> {
    Some(match c {
        Cond::Or(..) => "OR",
        Cond::Not(..) => "NOT",
        Cond::In(..) => "IN",
        Cond::Exists(_) => "attribute_exists",
        Cond::NotExists(_) => "attribute_not_exists",
        Cond::Type(..) => "attribute_type",
        Cond::Contains(..) => "contains",
        _ => return None,
    })
}

/// The least key above every key starting with `p` (none if there is none).
fn successor(p: &[u8]) -> Option<Vec<u8>> {
    let mut v = p.to_vec();
    while let Some(last) = v.pop() {
        if last < 0xff {
            v.push(last + 1);
            return Some(v);
        }
    }
    None
}

/// Reads a key condition against a key schema: the partition key's value and the sort
/// key's range.
fn key_range(hash: &str, range: Option<&str>, t: &Table, c: &Cond) -> Result<(Vec<u8>, Range), DynamoError> {
    let mut parts = Vec::new();
    flatten(c, &mut parts);
    for p in &parts {
        if let Some(op) = operator_name(p) {
            return Err(invalid(format!("Invalid operator used in KeyConditionExpression: {op}")));
        }
    }
    if parts.len() > 2 {
        return Err(invalid("KeyConditionExpressions must only contain one condition per key"));
    }
    let typed = |name: &str, v: &Value| -> Result<Vec<u8>, DynamoError> {
        let ty = t.attribute_type(name).unwrap_or("S");
        if v.type_name() != ty {
            return Err(invalid(
                "One or more parameter values were invalid: Condition parameter type does not match schema type",
            ));
        }
        encode(v).ok_or_else(|| {
            invalid("One or more parameter values were invalid: Condition parameter type does not match schema type")
        })
    };
    let mut pk: Option<Vec<u8>> = None;
    let mut r = Range::default();
    let mut seen_sort = false;
    // A condition on an attribute of neither key: the partition key is missed first.
    let mut stray = false;
    for p in parts {
        let (attr, is_hash) = match p {
            Cond::Compare(a, _, _) | Cond::Between(a, _, _) | Cond::BeginsWith(a, _) => {
                let name = attr_of(a).ok_or_else(|| invalid("Query key condition not supported"))?;
                (name, name == hash)
            }
            _ => return Err(invalid("Query key condition not supported")),
        };
        if !is_hash && Some(attr) != range {
            stray = true;
            continue;
        }
        if is_hash {
            if pk.is_some() {
                return Err(invalid("KeyConditionExpressions must only contain one condition per key"));
            }
            match p {
                Cond::Compare(_, Cmp::Eq, Operand::Value(v)) => pk = Some(typed(attr, v)?),
                Cond::Compare(_, Cmp::Ne, _) => {
                    return Err(invalid("Unsupported operator on KeyConditionExpression: operator: <>"))
                }
                _ => return Err(invalid("Query key condition not supported")),
            }
            continue;
        }
        if seen_sort {
            return Err(invalid("KeyConditionExpressions must only contain one condition per key"));
        }
        seen_sort = true;
        match p {
            Cond::Compare(_, cmp, Operand::Value(v)) => {
                let k = typed(attr, v)?;
                match cmp {
                    Cmp::Eq => {
                        r.from = Some(Bound::Included(k.clone()));
                        r.to = Some(Bound::Included(k));
                    }
                    Cmp::Lt => r.to = Some(Bound::Excluded(k)),
                    Cmp::Le => r.to = Some(Bound::Included(k)),
                    Cmp::Gt => r.from = Some(Bound::Excluded(k)),
                    Cmp::Ge => r.from = Some(Bound::Included(k)),
                    Cmp::Ne => return Err(invalid("Unsupported operator on KeyConditionExpression: operator: <>")),
                }
            }
            Cond::Between(_, Operand::Value(lo), Operand::Value(hi)) => {
                r.from = Some(Bound::Included(typed(attr, lo)?));
                r.to = Some(Bound::Included(typed(attr, hi)?));
            }
            Cond::BeginsWith(_, Operand::Value(v)) => {
                if t.attribute_type(attr) == Some("N") {
                    return Err(invalid(format!(
                        "Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: {}",
                        v.type_name()
                    )));
                }
                let k = typed(attr, v)?;
                r.from = Some(Bound::Included(k.clone()));
                r.to = successor(&k).map(Bound::Excluded);
            }
            _ => return Err(invalid("Query key condition not supported")),
        }
    }
    let pk = pk.ok_or_else(|| invalid(format!("Query condition missed key schema element: {hash}")))?;
    if stray {
        return Err(invalid(format!("Query condition missed key schema element: {}", range.unwrap_or(hash))));
    }
    Ok((pk, r))
}

fn cond_heads(c: &Cond, out: &mut Vec<String>) {
    let mut op = |o: &Operand| match o {
        Operand::Path(p) | Operand::Size(p) => out.push(p.head().to_owned()),
        _ => {}
    };
    match c {
        Cond::Compare(a, _, b) | Cond::BeginsWith(a, b) | Cond::Contains(a, b) => {
            op(a);
            op(b);
        }
        Cond::Between(a, b, d) => {
            op(a);
            op(b);
            op(d);
        }
        Cond::In(a, l) => {
            op(a);
            l.iter().for_each(op);
        }
        Cond::Exists(p) | Cond::NotExists(p) | Cond::Type(p, _) => out.push(p.head().to_owned()),
        Cond::And(a, b) | Cond::Or(a, b) => {
            cond_heads(a, out);
            cond_heads(b, out);
        }
        Cond::Not(a) => cond_heads(a, out),
    }
}

/// Which attributes a read returns.
fn select_of(input: &ReadInput, index: Option<(&Index, bool)>, projecting: bool) -> Result<String, DynamoError> {
    let default = if index.is_some() { "ALL_PROJECTED_ATTRIBUTES" } else { "ALL_ATTRIBUTES" };
    let select =
        input.select.clone().unwrap_or_else(|| if projecting { "SPECIFIC_ATTRIBUTES".into() } else { default.into() });
    match select.as_str() {
        "SPECIFIC_ATTRIBUTES" if !projecting => {
            return Err(invalid("Select type SPECIFIC_ATTRIBUTES requires ProjectionExpression or AttributesToGet"));
        }
        "ALL_ATTRIBUTES" | "ALL_PROJECTED_ATTRIBUTES" | "COUNT" if projecting => {
            return Err(invalid(format!("Cannot specify the ProjectionExpression when choosing to get {select}")));
        }
        "ALL_PROJECTED_ATTRIBUTES" if index.is_none() => {
            return Err(invalid("ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName"));
        }
        "ALL_ATTRIBUTES" => {
            if let Some((i, global)) = index {
                if i.projection != "ALL" && global {
                    return Err(invalid(format!(
                        "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for global secondary index {} because its projection type is not ALL",
                        i.name
                    )));
                }
            }
        }
        _ => {}
    }
    Ok(select)
}

impl DynamoService {
    /// Query.
    pub fn query(&self, caller: &Caller, input: &ReadInput) -> Result<ReadOutput, DynamoError> {
        let state = self.table(caller, &input.table)?;
        let t = state.def();
        let parsed = input.exprs.parse(&["KeyConditionExpression", "FilterExpression", "ProjectionExpression"])?;
        let index = match &input.index {
            Some(n) => {
                Some(t.index(n).ok_or_else(|| invalid(format!("The table does not have the specified index: {n}")))?)
            }
            None => None,
        };
        let (hash, range) = match index {
            Some((i, _)) => (i.hash.as_str(), i.range.as_deref()),
            None => (t.hash.as_str(), t.range.as_deref()),
        };
        let key = parsed.key.as_ref().ok_or_else(|| {
            invalid("Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.")
        })?;
        let (pk, range_of) = key_range(hash, range, &t, key)?;
        if let Some(f) = &parsed.filter {
            let mut heads = Vec::new();
            cond_heads(f, &mut heads);
            for h in heads {
                if h == hash || Some(h.as_str()) == range {
                    return Err(invalid(format!(
                        "Filter Expression can only contain non-primary key attributes: Primary key attribute: {h}"
                    )));
                }
            }
        }
        let select = select_of(input, index, parsed.projection.is_some())?;
        let limit = input.limit.unwrap_or(usize::MAX);
        let forward = input.forward.unwrap_or(true);
        let from = range_of.from.clone().unwrap_or(Bound::Unbounded);
        let to = range_of.to.clone().unwrap_or(Bound::Unbounded);
        let mut g =
            Gathered { filter: parsed.filter.as_ref(), limit, scanned: 0, bytes: 0, kept: Vec::new(), last: None };
        let mut done = false;
        match index {
            None => {
                let (mut from, mut to) = (from, to);
                if let Some(start) = &input.start {
                    let k = keys::of_key(&t, start).map_err(|_| {
                        invalid(
                            "The provided starting key is invalid: The provided key element does not match the schema",
                        )
                    })?;
                    if k.pk != pk {
                        return Err(invalid(
                            "The provided starting key is invalid: The provided key element does not match the schema",
                        ));
                    }
                    if forward {
                        from = Bound::Excluded(k.sk);
                    } else {
                        to = Bound::Excluded(k.sk);
                    }
                }
                while !done {
                    let want = (limit - g.scanned).min(1000);
                    let page = self.store.range(t.row, &pk, &from, &to, forward, want)?;
                    let n = page.len();
                    for s in page {
                        let Some(item) = decode(&s.item) else { continue };
                        if forward {
                            from = Bound::Excluded(s.sk.clone());
                        } else {
                            to = Bound::Excluded(s.sk.clone());
                        }
                        if g.take(item, |i| keys::key_item(&t, i)) {
                            done = true;
                            break;
                        }
                    }
                    if n < want {
                        done = true;
                    }
                }
            }
            Some((idx, _)) => {
                let mut after = match &input.start {
                    Some(start) => Some(self.index_start(&t, idx, start, &pk)?),
                    None => None,
                };
                while !done {
                    let want = (limit - g.scanned).min(1000);
                    let page =
                        self.store.index_range(t.row, &idx.name, &pk, &from, &to, after.as_ref(), forward, want)?;
                    let n = page.len();
                    for (e, raw) in page {
                        let Some(full) = decode(&raw) else { continue };
                        let item = keys::projected(&t, idx, &full);
                        after = Some(e);
                        if g.take(item, |_| keys::index_key_item(&t, idx, &full)) {
                            done = true;
                            break;
                        }
                    }
                    if n < want {
                        done = true;
                    }
                }
            }
        }
        Ok(g.finish(&t.name, input.consistent, &select, parsed.projection.as_deref()))
    }

    fn index_start(&self, t: &Table, idx: &Index, start: &Item, pk: &[u8]) -> Result<store::IndexEntry, DynamoError> {
        let bad =
            || invalid("The provided starting key is invalid: The provided key element does not match the schema");
        let mut key_only = Item::new();
        for n in std::iter::once(&t.hash).chain(t.range.iter()) {
            key_only.insert(n.clone(), start.get(n).cloned().ok_or_else(bad)?);
        }
        let k = keys::of_key(t, &key_only).map_err(|_| bad())?;
        let ipk = encode(start.get(&idx.hash).ok_or_else(bad)?).ok_or_else(bad)?;
        if ipk != pk {
            return Err(bad());
        }
        let isk = match &idx.range {
            Some(r) => encode(start.get(r).ok_or_else(bad)?).ok_or_else(bad)?,
            None => Vec::new(),
        };
        Ok(store::IndexEntry { ipk, isk, pk: k.pk, sk: k.sk })
    }

    /// Scan.
    pub fn scan(&self, caller: &Caller, input: &ReadInput) -> Result<ReadOutput, DynamoError> {
        let state = self.table(caller, &input.table)?;
        let t = state.def();
        let parsed = input.exprs.parse(&["FilterExpression", "ProjectionExpression"])?;
        let index = match &input.index {
            Some(n) => {
                Some(t.index(n).ok_or_else(|| invalid(format!("The table does not have the specified index: {n}")))?)
            }
            None => None,
        };
        let segments = match (input.segment, input.total_segments) {
            (Some(s), Some(total)) => {
                if s >= total {
                    return Err(invalid(format!(
                        "The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: {s} is not less than TotalSegments: {total}"
                    )));
                }
                Some((s, total))
            }
            (Some(_), None) => {
                return Err(invalid(
                    "The TotalSegments parameter is required but was not present in the request when Segment parameter is present",
                ))
            }
            (None, Some(_)) => {
                return Err(invalid(
                    "The Segment parameter is required but was not present in the request when parameter TotalSegments is present",
                ))
            }
            (None, None) => None,
        };
        let select = select_of(input, index, parsed.projection.is_some())?;
        let limit = input.limit.unwrap_or(usize::MAX);
        let in_segment = |pk: &[u8]| match segments {
            Some((s, total)) => {
                let h =
                    pk.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3));
                h % u64::from(total) == u64::from(s)
            }
            None => true,
        };
        let mut g =
            Gathered { filter: parsed.filter.as_ref(), limit, scanned: 0, bytes: 0, kept: Vec::new(), last: None };
        let mut done = false;
        match index {
            None => {
                let mut after = match &input.start {
                    Some(start) => {
                        let k = keys::of_key(&t, start).map_err(|_| {
                            invalid("The provided starting key is invalid: The provided key element does not match the schema")
                        })?;
                        Some((k.pk, k.sk))
                    }
                    None => None,
                };
                while !done {
                    let page =
                        self.store.scan(t.row, after.as_ref().map(|(p, s)| (p.as_slice(), s.as_slice())), 1000)?;
                    let n = page.len();
                    for s in page {
                        after = Some((s.pk.clone(), s.sk.clone()));
                        if !in_segment(&s.pk) {
                            continue;
                        }
                        let Some(item) = decode(&s.item) else { continue };
                        if g.take(item, |i| keys::key_item(&t, i)) {
                            done = true;
                            break;
                        }
                    }
                    if n < 1000 {
                        done = true;
                    }
                }
            }
            Some((idx, _)) => {
                let mut after = match &input.start {
                    Some(start) => {
                        let ipk = start.get(&idx.hash).and_then(encode).ok_or_else(|| {
                            invalid("The provided starting key is invalid: The provided key element does not match the schema")
                        })?;
                        Some(self.index_start(&t, idx, start, &ipk)?)
                    }
                    None => None,
                };
                while !done {
                    let page = self.store.index_scan(t.row, &idx.name, after.as_ref(), 1000)?;
                    let n = page.len();
                    for (e, raw) in page {
                        let segment_ok = in_segment(&e.ipk);
                        after = Some(e);
                        if !segment_ok {
                            continue;
                        }
                        let Some(full) = decode(&raw) else { continue };
                        let item = keys::projected(&t, idx, &full);
                        if g.take(item, |_| keys::index_key_item(&t, idx, &full)) {
                            done = true;
                            break;
                        }
                    }
                    if n < 1000 {
                        done = true;
                    }
                }
            }
        }
        Ok(g.finish(&t.name, input.consistent, &select, parsed.projection.as_deref()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_end_at_their_successor() {
        assert_eq!(successor(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(successor(&[0x61, 0xff]), Some(vec![0x62]));
        assert_eq!(successor(&[0xff]), None);
    }
}
