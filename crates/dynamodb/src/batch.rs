//! BatchGetItem and BatchWriteItem: up to 100 keys read, or 25 puts and deletes written
//! in one transaction. Nothing is ever left unprocessed (Lamina has no partitions to
//! throttle), so `UnprocessedKeys` and `UnprocessedItems` come back empty, in AWS's shape.

use std::collections::{BTreeMap, HashSet};

use crate::expr;
use crate::items::{apply, check_item, read_in, read_units, write_units, Change, Consumed, Expressions};
use crate::keys;
use crate::value::{decode, item_size, Item};
use crate::{invalid, Caller, DynamoError, DynamoService};

/// Items found, by table.
pub type Found = BTreeMap<String, Vec<Item>>;

/// One table's keys to read.
#[derive(Debug, Clone, Default)]
pub struct GetRequest {
    /// The keys.
    pub keys: Vec<Item>,
    /// Projection and its names (or `AttributesToGet`).
    pub exprs: Expressions,
    /// `ConsistentRead`.
    pub consistent: bool,
}

/// One write of a batch.
#[derive(Debug, Clone)]
pub enum WriteRequest {
    /// `PutRequest`.
    Put(Item),
    /// `DeleteRequest`.
    Delete(Item),
}

impl DynamoService {
    /// BatchGetItem: items found, by table.
    pub fn batch_get(
        &self,
        caller: &Caller,
        requests: &[(String, GetRequest)],
    ) -> Result<(Found, Vec<Consumed>), DynamoError> {
        let total: usize = requests.iter().map(|(_, r)| r.keys.len()).sum();
        if total > 100 {
            return Err(invalid("Too many items requested for the BatchGetItem call"));
        }
        let mut out = BTreeMap::new();
        let mut consumed = Vec::new();
        for (table, r) in requests {
            let state = self.table(caller, table)?;
            let t = state.def();
            let parsed = r.exprs.parse(&["ProjectionExpression"])?;
            let mut seen = HashSet::new();
            let mut found = Vec::new();
            let mut bytes = 0;
            for k in &r.keys {
                let key = keys::of_key(&t, k)?;
                if !seen.insert(key.clone()) {
                    return Err(invalid("Provided list of item keys contains duplicates"));
                }
                if let Some(raw) = self.store.get(t.row, &key.pk, &key.sk)? {
                    let Some(item) = decode(&raw) else { continue };
                    bytes += item_size(&item);
                    found.push(match &parsed.projection {
                        Some(p) => expr::project(&item, p),
                        None => item,
                    });
                }
            }
            consumed.push(Consumed { table: t.name.clone(), units: read_units(bytes, r.consistent) });
            out.insert(table.clone(), found);
        }
        Ok((out, consumed))
    }

    /// BatchWriteItem: every write of every table, in one transaction.
    pub fn batch_write(
        &self,
        caller: &Caller,
        requests: &[(String, Vec<WriteRequest>)],
    ) -> Result<Vec<Consumed>, DynamoError> {
        let total: usize = requests.iter().map(|(_, r)| r.len()).sum();
        if total > 25 {
            return Err(invalid("Too many items requested for the BatchWriteItem call"));
        }
        // Checked first, whole: a bad entry refuses the batch before anything is written.
        let mut planned = Vec::new();
        for (table, writes) in requests {
            let state = self.table(caller, table)?;
            let t = state.def();
            let mut seen = HashSet::new();
            for w in writes {
                let (key, item) = match w {
                    WriteRequest::Put(item) => {
                        // A batch's put names its key in the words a `Key` would.
                        let key = keys::of_item(&t, item).map_err(|e| match e {
                            DynamoError::Validation(m)
                                if m.contains("Missing the key") || m.contains("Type mismatch for key") =>
                            {
                                invalid("The provided key element does not match the schema")
                            }
                            other => other,
                        })?;
                        check_item(item, false)?;
                        (key, Some(item))
                    }
                    WriteRequest::Delete(k) => (keys::of_key(&t, k)?, None),
                };
                if !seen.insert(key.clone()) {
                    return Err(invalid("Provided list of item keys contains duplicates"));
                }
                planned.push((state.clone(), t.clone(), key, item));
            }
        }
        let now = self.now_ms();
        let results = self.store.write(|w| {
            let mut results = Vec::with_capacity(planned.len());
            for (_, t, key, item) in &planned {
                let old = read_in(w, t, key)?;
                let counts = apply(w, &Change { table: t, key, old: old.as_ref(), new: *item }, now, false)?;
                let units = write_units(item.map_or(0, item_size).max(old.as_ref().map_or(0, item_size)));
                results.push((counts, units));
            }
            Ok::<_, DynamoError>(results)
        })?;
        let mut consumed: BTreeMap<String, f64> = BTreeMap::new();
        for ((state, t, _, _), (counts, units)) in planned.iter().zip(results) {
            state.counted(counts.0, counts.1);
            self.written(t);
            *consumed.entry(t.name.clone()).or_default() += units;
        }
        Ok(consumed.into_iter().map(|(table, units)| Consumed { table, units }).collect())
    }
}
