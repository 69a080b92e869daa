//! Time to live: items whose TTL attribute (a number of epoch seconds) has passed are
//! deleted by DynamoDB itself, leaving a `REMOVE` stream record whose `userIdentity` is
//! DynamoDB's. Each tick reads a bounded slice of every TTL table, resuming where the
//! last left off, so a large table costs the same per tick as a small one.

use std::collections::HashMap;

use model::sync::Mutex;

use crate::items::{apply, read_in, Change};
use crate::keys::Key;
use crate::value::{decode, Value};
use crate::{DynamoError, DynamoService};

/// Items read per table per tick.
const SLICE: usize = 2000;

/// Whether an expiry time has passed; times more than five years past are left alone,
/// as DynamoDB leaves them.
fn has_passed(at_s: f64, now_s: f64) -> bool {
    at_s < now_s && at_s > now_s - 5.0 * 365.0 * 86400.0
}

/// Where each table's sweep resumes.
#[derive(Debug, Default)]
pub(crate) struct Cursors(Mutex<HashMap<i64, Resume>>);

/// A (partition key, sort key) pair a scan resumes after.
type Resume = (Vec<u8>, Vec<u8>);

impl DynamoService {
    /// One tick of time to live: expired items removed, a slice of each TTL table (a
    /// table without TTL costs nothing). The number of items removed.
    pub fn sweep_ttl(&self) -> Result<usize, DynamoError> {
        let now_s = self.now_ms() as f64 / 1000.0;
        let mut removed = 0;
        for state in self.all_tables() {
            let t = state.def();
            let Some((attr, true)) = &t.ttl else { continue };
            let start = self.ttl_cursors.0.lock().get(&t.row).cloned();
            let page = self.store.scan(t.row, start.as_ref().map(|(p, s)| (p.as_slice(), s.as_slice())), SLICE)?;
            let next = if page.len() < SLICE { None } else { page.last().map(|s| (s.pk.clone(), s.sk.clone())) };
            match next {
                Some(n) => self.ttl_cursors.0.lock().insert(t.row, n),
                None => self.ttl_cursors.0.lock().remove(&t.row),
            };
            let expired: Vec<Key> = page
                .iter()
                .filter(|s| {
                    decode(&s.item).is_some_and(|item| match item.get(attr) {
                        Some(Value::N(n)) => has_passed(n.to_f64(), now_s),
                        _ => false,
                    })
                })
                .map(|s| Key { pk: s.pk.clone(), sk: s.sk.clone() })
                .collect();
            if expired.is_empty() {
                continue;
            }
            let now = self.now_ms();
            let counts = self.store.write(|w| {
                let mut total = (0, 0);
                for key in &expired {
                    let old = read_in(w, &t, key)?;
                    // Checked again in the transaction: a write since the read may have moved it.
                    let still = old
                        .as_ref()
                        .is_some_and(|o| matches!(o.get(attr), Some(Value::N(n)) if has_passed(n.to_f64(), now_s)));
                    if !still {
                        continue;
                    }
                    let c = apply(w, &Change { table: &t, key, old: old.as_ref(), new: None }, now, true)?;
                    total.0 += c.0;
                    total.1 += c.1;
                }
                Ok::<_, DynamoError>(total)
            })?;
            state.counted(counts.0, counts.1);
            self.written(&t);
            removed += (-counts.0) as usize;
        }
        Ok(removed)
    }
}
