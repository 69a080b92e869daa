//! Items: PutItem, GetItem, UpdateItem and DeleteItem. A write is one store transaction:
//! it reads the item, checks the condition against it, and writes the item with its
//! index entries and its stream record, so nothing half-written is ever seen and two
//! conditional writes of one item never both pass.

use std::collections::HashMap;

use store::Writes;

use crate::expr::{self, legacy, Cond, Kind, Path, Placeholders, Update};
use crate::keys::{self, Key};
use crate::tables::Table;
use crate::value::{decode, encode, item_size, Item, Value, MAX_DEPTH, MAX_ITEM_SIZE};
use crate::{invalid, streams, Caller, DynamoError, DynamoService, TableState};

/// A request's expressions and their placeholders, or the legacy parameters in their
/// place, as given.
#[derive(Debug, Clone, Default)]
pub struct Expressions {
    /// `ExpressionAttributeNames`.
    pub names: Option<HashMap<String, String>>,
    /// `ExpressionAttributeValues`.
    pub values: Option<HashMap<String, Value>>,
    /// `ConditionExpression`.
    pub condition: Option<String>,
    /// `FilterExpression`.
    pub filter: Option<String>,
    /// `KeyConditionExpression`.
    pub key_condition: Option<String>,
    /// `ProjectionExpression`.
    pub projection: Option<String>,
    /// `UpdateExpression`.
    pub update: Option<String>,
    /// `Expected`.
    pub expected: Option<Vec<legacy::Condition>>,
    /// `QueryFilter` or `ScanFilter`.
    pub legacy_filter: Option<Vec<legacy::Condition>>,
    /// `KeyConditions`.
    pub key_conditions: Option<Vec<legacy::Condition>>,
    /// `AttributeUpdates`.
    pub attribute_updates: Option<Vec<legacy::AttributeUpdate>>,
    /// `AttributesToGet`.
    pub attributes_to_get: Option<Vec<String>>,
    /// `ConditionalOperator`.
    pub conditional_operator: Option<String>,
}

/// Expressions read.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    /// The condition.
    pub condition: Option<Cond>,
    /// The filter.
    pub filter: Option<Cond>,
    /// The key condition.
    pub key: Option<Cond>,
    /// The projection.
    pub projection: Option<Vec<Path>>,
    /// The update.
    pub update: Option<Update>,
}

impl Expressions {
    /// Reads the expressions an operation takes (`allowed`, by parameter name), with
    /// DynamoDB's refusals: legacy and expression parameters mixed, placeholders without
    /// expressions, placeholders unused.
    pub fn parse(&self, allowed: &[&str]) -> Result<Parsed, DynamoError> {
        let given_expr: Vec<&str> = [
            ("KeyConditionExpression", self.key_condition.is_some()),
            ("UpdateExpression", self.update.is_some()),
            ("ConditionExpression", self.condition.is_some()),
            ("FilterExpression", self.filter.is_some()),
            ("ProjectionExpression", self.projection.is_some()),
        ]
        .into_iter()
        .filter(|(n, g)| *g && allowed.contains(n))
        .map(|(n, _)| n)
        .collect();
        let filter_name = if allowed.contains(&"KeyConditionExpression") { "QueryFilter" } else { "ScanFilter" };
        let given_legacy: Vec<&str> = [
            ("KeyConditions", self.key_conditions.is_some()),
            ("AttributeUpdates", self.attribute_updates.is_some()),
            ("Expected", self.expected.is_some()),
            (filter_name, self.legacy_filter.is_some()),
            ("AttributesToGet", self.attributes_to_get.is_some()),
        ]
        .into_iter()
        .filter(|(_, g)| *g)
        .map(|(n, _)| n)
        .collect();
        if !given_expr.is_empty() && !given_legacy.is_empty() {
            return Err(invalid(format!(
                "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {{{}}} Expression parameters: {{{}}}",
                given_legacy.join(", "),
                given_expr.join(", ")
            )));
        }
        if given_expr.is_empty() {
            let nulls: Vec<&str> = allowed.to_vec();
            let null_list = match nulls.len() {
                1 => format!("{} is null", nulls[0]),
                _ => format!("{} are null", nulls.join(" and ")),
            };
            if self.names.is_some() {
                return Err(invalid("ExpressionAttributeNames can only be specified when using expressions"));
            }
            if self.values.is_some() {
                return Err(invalid(format!(
                    "ExpressionAttributeValues can only be specified when using expressions: {null_list}"
                )));
            }
        }
        let mut ph = Placeholders::new(self.names.as_ref(), self.values.as_ref()).map_err(invalid)?;
        let mut out = Parsed::default();
        if let Some(k) = &self.key_condition {
            out.key = Some(expr::parse_condition(k, Kind::KeyCondition, &mut ph).map_err(invalid)?);
        }
        if let Some(u) = &self.update {
            out.update = Some(expr::parse_update(u, &mut ph).map_err(invalid)?);
        }
        if let Some(c) = &self.condition {
            out.condition = Some(expr::parse_condition(c, Kind::Condition, &mut ph).map_err(invalid)?);
        }
        if let Some(f) = &self.filter {
            out.filter = Some(expr::parse_condition(f, Kind::Filter, &mut ph).map_err(invalid)?);
        }
        if let Some(p) = &self.projection {
            out.projection = Some(expr::parse_projection(p, &mut ph).map_err(invalid)?);
        }
        ph.check_unused().map_err(invalid)?;
        let or = match self.conditional_operator.as_deref() {
            None | Some("AND") => false,
            Some("OR") => true,
            Some(other) => return Err(invalid(format!("Unknown ConditionalOperator: {other}"))),
        };
        if let Some(e) = &self.expected {
            out.condition = legacy::conditions(e, or).map_err(invalid)?;
        }
        if let Some(f) = &self.legacy_filter {
            out.filter = legacy::conditions(f, or).map_err(invalid)?;
        }
        if let Some(k) = &self.key_conditions {
            out.key = legacy::conditions(k, false).map_err(invalid)?;
        }
        if let Some(a) = &self.attribute_updates {
            out.update = Some(legacy::attribute_updates(a).map_err(invalid)?);
        }
        if let Some(a) = &self.attributes_to_get {
            out.projection = Some(legacy::attributes_to_get(a).map_err(invalid)?);
        }
        if self.conditional_operator.is_some() && self.expected.is_none() && self.legacy_filter.is_none() {
            return Err(invalid(
                "ConditionalOperator can only be used when Filter or Expected conditions are specified",
            ));
        }
        Ok(out)
    }
}

/// Capacity a request consumed.
#[derive(Debug, Clone, PartialEq)]
pub struct Consumed {
    /// The table.
    pub table: String,
    /// Capacity units.
    pub units: f64,
}

/// Write units for an item of `bytes`: one per KB begun.
pub(crate) fn write_units(bytes: usize) -> f64 {
    bytes.div_ceil(1024).max(1) as f64
}

/// Read units for `bytes` read: one per 4 KB begun, half when eventually consistent.
pub(crate) fn read_units(bytes: usize, consistent: bool) -> f64 {
    let units = bytes.div_ceil(4096).max(1) as f64;
    if consistent {
        units
    } else {
        units / 2.0
    }
}

/// What a write answers.
#[derive(Debug, Clone, Default)]
pub struct Written {
    /// `Attributes`, as `ReturnValues` asked.
    pub attributes: Option<Item>,
    /// The capacity consumed.
    pub consumed: Option<Consumed>,
}

/// A write's common parameters.
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    /// `ReturnValues`.
    pub return_values: Option<String>,
    /// `ReturnValuesOnConditionCheckFailure` is `ALL_OLD`.
    pub old_on_failure: bool,
}

/// Checks an item's shape: size within 400 KB, nesting within 32 levels.
pub(crate) fn check_item(item: &Item, updating: bool) -> Result<(), DynamoError> {
    if item_size(item) > MAX_ITEM_SIZE {
        return Err(invalid(if updating {
            "Item size to update has exceeded the maximum allowed size"
        } else {
            "Item size has exceeded the maximum allowed size"
        }));
    }
    if item.values().any(|v| v.depth() > MAX_DEPTH) {
        return Err(invalid(
            "Nesting Levels have exceeded supported limits: Nesting Levels of 33 is exceeding the maximum limit of 32",
        ));
    }
    Ok(())
}

/// What a transaction's write does to one item.
pub(crate) struct Change<'a> {
    pub table: &'a Table,
    pub key: &'a Key,
    pub old: Option<&'a Item>,
    pub new: Option<&'a Item>,
}

/// Writes one change inside a transaction: the item, its index entries, its stream
/// record. The change in (items, bytes).
pub(crate) fn apply(w: &mut Writes<'_>, c: &Change<'_>, now_ms: i64, by_ttl: bool) -> Result<(i64, i64), DynamoError> {
    let t = c.table;
    if c.old == c.new {
        return Ok((0, 0));
    }
    let row = t.row;
    match c.new {
        Some(n) => w.put(row, &c.key.pk, &c.key.sk, &encode(n), item_size(n))?,
        None => w.delete(row, &c.key.pk, &c.key.sk)?,
    }
    for idx in t.gsis.iter().chain(&t.lsis) {
        let before = c.old.and_then(|o| keys::index_entry(idx, o, c.key));
        let after = c.new.and_then(|n| keys::index_entry(idx, n, c.key));
        if before != after {
            if let Some(e) = &before {
                w.index_delete(row, &idx.name, e)?;
            }
            if let Some(e) = &after {
                w.index_put(row, &idx.name, e)?;
            }
        }
    }
    if let Some(s) = t.live_stream() {
        let record = streams::record(t, s, c.old, c.new, by_ttl);
        w.stream_append(&t.stream_arn(s), now_ms, &record)?;
    }
    let size = |i: Option<&Item>| i.map_or(0, |i| item_size(i) as i64);
    let items = i64::from(c.new.is_some()) - i64::from(c.old.is_some());
    Ok((items, size(c.new) - size(c.old)))
}

fn failed(old: Option<Item>, wanted: bool) -> DynamoError {
    DynamoError::ConditionFailed(if wanted { old } else { None })
}

fn holds(cond: Option<&Cond>, old: Option<&Item>) -> bool {
    match cond {
        None => true,
        Some(c) => expr::evaluate(c, old.unwrap_or(&Item::new())),
    }
}

/// The keys of an update that name a key attribute, refused.
pub(crate) fn check_update_keys(t: &Table, u: &Update) -> Result<(), DynamoError> {
    for p in u.paths() {
        if t.is_key(p.head()) {
            return Err(invalid(format!(
                "One or more parameter values were invalid: Cannot update attribute {}. This attribute is part of the key",
                p.head()
            )));
        }
    }
    Ok(())
}

impl DynamoService {
    fn read_item(&self, t: &Table, key: &Key) -> Result<Option<Item>, DynamoError> {
        match self.store.get(t.row, &key.pk, &key.sk)? {
            Some(b) => decode(&b).map(Some).ok_or_else(|| DynamoError::Internal("a stored item is unreadable".into())),
            None => Ok(None),
        }
    }

    /// PutItem.
    pub fn put_item(
        &self,
        caller: &Caller,
        table: &str,
        item: Item,
        exprs: &Expressions,
        opts: &WriteOptions,
    ) -> Result<Written, DynamoError> {
        let state = self.table(caller, table)?;
        let t = state.def();
        let parsed = exprs.parse(&["ConditionExpression"])?;
        match opts.return_values.as_deref() {
            None | Some("NONE") | Some("ALL_OLD") => {}
            Some(_) => return Err(invalid("ReturnValues can only be ALL_OLD or NONE")),
        }
        let key = keys::of_item(&t, &item)?;
        check_item(&item, false)?;
        let now = self.now_ms();
        let (old, counts) = self.store.write(|w| {
            let old = read_in(w, &t, &key)?;
            if !holds(parsed.condition.as_ref(), old.as_ref()) {
                return Err(failed(old, opts.old_on_failure));
            }
            let counts = apply(w, &Change { table: &t, key: &key, old: old.as_ref(), new: Some(&item) }, now, false)?;
            Ok::<_, DynamoError>((old, counts))
        })?;
        state.counted(counts.0, counts.1);
        self.written(&t);
        let units = write_units(item_size(&item).max(old.as_ref().map_or(0, item_size)));
        Ok(Written {
            attributes: if opts.return_values.as_deref() == Some("ALL_OLD") { old } else { None },
            consumed: Some(Consumed { table: t.name.clone(), units }),
        })
    }

    /// GetItem: the item, projected.
    pub fn get_item(
        &self,
        caller: &Caller,
        table: &str,
        key: &Item,
        exprs: &Expressions,
        consistent: bool,
    ) -> Result<(Option<Item>, Consumed), DynamoError> {
        let state = self.table(caller, table)?;
        let t = state.def();
        let parsed = exprs.parse(&["ProjectionExpression"])?;
        let k = keys::of_key(&t, key)?;
        let item = self.read_item(&t, &k)?;
        let units = read_units(item.as_ref().map_or(0, item_size), consistent);
        let item = match (&parsed.projection, item) {
            (Some(p), Some(i)) => Some(expr::project(&i, p)),
            (_, i) => i,
        };
        Ok((item, Consumed { table: t.name.clone(), units }))
    }

    /// DeleteItem.
    pub fn delete_item(
        &self,
        caller: &Caller,
        table: &str,
        key: &Item,
        exprs: &Expressions,
        opts: &WriteOptions,
    ) -> Result<Written, DynamoError> {
        let state = self.table(caller, table)?;
        let t = state.def();
        let parsed = exprs.parse(&["ConditionExpression"])?;
        match opts.return_values.as_deref() {
            None | Some("NONE") | Some("ALL_OLD") => {}
            Some(_) => return Err(invalid("ReturnValues can only be ALL_OLD or NONE")),
        }
        let k = keys::of_key(&t, key)?;
        let now = self.now_ms();
        let (old, counts) = self.store.write(|w| {
            let old = read_in(w, &t, &k)?;
            if !holds(parsed.condition.as_ref(), old.as_ref()) {
                return Err(failed(old, opts.old_on_failure));
            }
            let counts = apply(w, &Change { table: &t, key: &k, old: old.as_ref(), new: None }, now, false)?;
            Ok::<_, DynamoError>((old, counts))
        })?;
        state.counted(counts.0, counts.1);
        self.written(&t);
        let units = write_units(old.as_ref().map_or(0, item_size));
        Ok(Written {
            attributes: if opts.return_values.as_deref() == Some("ALL_OLD") { old } else { None },
            consumed: Some(Consumed { table: t.name.clone(), units }),
        })
    }

    /// UpdateItem.
    pub fn update_item(
        &self,
        caller: &Caller,
        table: &str,
        key: &Item,
        exprs: &Expressions,
        opts: &WriteOptions,
    ) -> Result<Written, DynamoError> {
        let state = self.table(caller, table)?;
        let t = state.def();
        let parsed = exprs.parse(&["UpdateExpression", "ConditionExpression"])?;
        let rv = opts.return_values.as_deref().unwrap_or("NONE");
        if !["NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"].contains(&rv) {
            return Err(invalid(format!(
                "1 validation error detected: Value '{rv}' at 'returnValues' failed to satisfy constraint: Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]"
            )));
        }
        let k = keys::of_key(&t, key)?;
        let update = parsed.update.clone().unwrap_or_default();
        check_update_keys(&t, &update)?;
        let now = self.now_ms();
        let (old, new, counts) = self.store.write(|w| {
            let old = read_in(w, &t, &k)?;
            if !holds(parsed.condition.as_ref(), old.as_ref()) {
                return Err(failed(old, opts.old_on_failure));
            }
            let new = updated(&t, old.as_ref(), key, &update)?;
            let counts = apply(w, &Change { table: &t, key: &k, old: old.as_ref(), new: Some(&new) }, now, false)?;
            Ok::<_, DynamoError>((old, new, counts))
        })?;
        state.counted(counts.0, counts.1);
        self.written(&t);
        let paths: Vec<Path> = update.paths().cloned().collect();
        let attributes = match rv {
            "ALL_OLD" => old.clone(),
            "ALL_NEW" => Some(new.clone()),
            "UPDATED_OLD" => old.as_ref().map(|o| expr::project(o, &paths)).filter(|i| !i.is_empty()),
            "UPDATED_NEW" => Some(expr::project(&new, &paths)).filter(|i| !i.is_empty()),
            _ => None,
        };
        let units = write_units(item_size(&new).max(old.as_ref().map_or(0, item_size)));
        Ok(Written { attributes, consumed: Some(Consumed { table: t.name.clone(), units }) })
    }

    /// Adds every item's entry to a new index.
    pub(crate) fn backfill_index(&self, state: &TableState, index: &str) -> Result<(), DynamoError> {
        let t = state.def();
        let Some((idx, _)) = t.index(index) else { return Ok(()) };
        let mut after: Option<(Vec<u8>, Vec<u8>)> = None;
        loop {
            let page = self.store.scan(t.row, after.as_ref().map(|(p, s)| (p.as_slice(), s.as_slice())), 1000)?;
            let Some(last) = page.last() else { break };
            after = Some((last.pk.clone(), last.sk.clone()));
            self.store.write(|w| {
                for s in &page {
                    let Some(item) = decode(&s.item) else { continue };
                    let key = Key { pk: s.pk.clone(), sk: s.sk.clone() };
                    if let Some(e) = keys::index_entry(idx, &item, &key) {
                        w.index_put(t.row, &idx.name, &e)?;
                    }
                }
                Ok::<_, DynamoError>(())
            })?;
        }
        Ok(())
    }
}

/// An item as a transaction sees it.
pub(crate) fn read_in(w: &Writes<'_>, t: &Table, key: &Key) -> Result<Option<Item>, DynamoError> {
    match w.get(t.row, &key.pk, &key.sk)? {
        Some(b) => decode(&b).map(Some).ok_or_else(|| DynamoError::Internal("a stored item is unreadable".into())),
        None => Ok(None),
    }
}

/// An item after an update: the item as it was (or just its key), updated, checked.
pub(crate) fn updated(t: &Table, old: Option<&Item>, key: &Item, update: &Update) -> Result<Item, DynamoError> {
    let mut new = old.cloned().unwrap_or_else(|| key.clone());
    expr::apply_update(update, &mut new).map_err(invalid)?;
    keys::of_item(t, &new)?;
    check_item(&new, true)?;
    Ok(new)
}
