//! TransactWriteItems and TransactGetItems: up to 100 actions on distinct items, all or
//! nothing. Every condition is checked in the one store transaction that then writes;
//! a failed one cancels the whole with a reason per action. A `ClientRequestToken` makes
//! a repeat of the same request within 10 minutes succeed without writing again.

use std::collections::HashSet;

use crate::expr;
use crate::items::{
    apply, check_item, check_update_keys, read_in, updated, write_units, Change, Consumed, Expressions,
};
use crate::keys::{self, Key};
use crate::value::{decode, item_size, Item};
use crate::{invalid, Caller, CancellationReason, DynamoError, DynamoService};

/// How long a `ClientRequestToken` is remembered.
const TOKEN_MS: i64 = 10 * 60 * 1000;

/// What one action of TransactWriteItems does.
#[derive(Debug, Clone)]
pub enum ActionKind {
    /// `ConditionCheck`: only the condition.
    Check,
    /// `Put` of this item.
    Put(Item),
    /// `Delete`.
    Delete,
    /// `Update` (its expression in `exprs`).
    Update,
}

/// One action of TransactWriteItems.
#[derive(Debug, Clone)]
pub struct Action {
    /// The table.
    pub table: String,
    /// The item's key (for `Put`, read from the item).
    pub key: Item,
    /// What it does.
    pub kind: ActionKind,
    /// Its condition and update, with their placeholders.
    pub exprs: Expressions,
    /// `ReturnValuesOnConditionCheckFailure` is `ALL_OLD`.
    pub old_on_failure: bool,
}

impl DynamoService {
    /// TransactWriteItems. `token` is the `ClientRequestToken` and a digest of the request.
    pub fn transact_write(
        &self,
        caller: &Caller,
        actions: &[Action],
        token: Option<(&str, &str)>,
    ) -> Result<Vec<Consumed>, DynamoError> {
        if actions.len() > 100 {
            return Err(invalid("1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to 100"));
        }
        struct Planned {
            state: std::sync::Arc<crate::TableState>,
            table: std::sync::Arc<crate::tables::Table>,
            key: Key,
            parsed: crate::items::Parsed,
        }
        let mut planned = Vec::with_capacity(actions.len());
        let mut seen = HashSet::new();
        for a in actions {
            let state = self.table(caller, &a.table)?;
            let t = state.def();
            let allowed: &[&str] = match a.kind {
                ActionKind::Update => &["UpdateExpression", "ConditionExpression"],
                _ => &["ConditionExpression"],
            };
            let parsed = a.exprs.parse(allowed)?;
            let key = match &a.kind {
                ActionKind::Put(item) => {
                    check_item(item, false)?;
                    keys::of_item(&t, item)?
                }
                _ => keys::of_key(&t, &a.key)?,
            };
            if matches!(a.kind, ActionKind::Check) && parsed.condition.is_none() {
                return Err(invalid("The ConditionCheck action requires a ConditionExpression"));
            }
            if let (ActionKind::Update, Some(u)) = (&a.kind, &parsed.update) {
                check_update_keys(&t, u)?;
            }
            if !seen.insert((t.row, key.clone())) {
                return Err(invalid("Transaction request cannot include multiple operations on one item"));
            }
            planned.push(Planned { state, table: t, key, parsed });
        }
        let now = self.now_ms();
        let results = self.store.write(|w| {
            if let Some((token, digest)) = token {
                match w.token(token, digest, now, now - TOKEN_MS)? {
                    Some(d) if d == digest => return Ok(None),
                    Some(_) => {
                        return Err(DynamoError::IdempotentMismatch(
                            "Request parameters do not match the previously used request parameters for this ClientRequestToken".into(),
                        ))
                    }
                    None => {}
                }
            }
            let mut olds = Vec::with_capacity(planned.len());
            let mut reasons = Vec::with_capacity(planned.len());
            let mut failed = false;
            for (p, a) in planned.iter().zip(actions) {
                let old = read_in(w, &p.table, &p.key)?;
                let ok = p.parsed.condition.as_ref().is_none_or(|c| expr::evaluate(c, old.as_ref().unwrap_or(&Item::new())));
                let mut reason = CancellationReason { code: "None".into(), message: None, item: None };
                if !ok {
                    failed = true;
                    reason.code = "ConditionalCheckFailed".into();
                    reason.message = Some("The conditional request failed".into());
                    if a.old_on_failure {
                        reason.item = old.clone();
                    }
                }
                reasons.push(reason);
                olds.push(old);
            }
            // Updates are computed before anything is written: one that cannot apply
            // cancels the transaction too.
            let mut news: Vec<Option<Option<Item>>> = Vec::with_capacity(planned.len());
            for (i, (p, a)) in planned.iter().zip(actions).enumerate() {
                let new = match &a.kind {
                    ActionKind::Check => None,
                    ActionKind::Put(item) => Some(Some(item.clone())),
                    ActionKind::Delete => Some(None),
                    ActionKind::Update => {
                        let u = p.parsed.update.clone().unwrap_or_default();
                        match updated(&p.table, olds[i].as_ref(), &a.key, &u) {
                            Ok(n) => Some(Some(n)),
                            Err(DynamoError::Validation(m)) => {
                                failed = true;
                                if reasons[i].code == "None" {
                                    reasons[i] = CancellationReason { code: "ValidationError".into(), message: Some(m), item: None };
                                }
                                None
                            }
                            Err(e) => return Err(e),
                        }
                    }
                };
                news.push(new);
            }
            if failed {
                return Err(DynamoError::TransactionCanceled(reasons));
            }
            let mut out = Vec::with_capacity(planned.len());
            for (i, p) in planned.iter().enumerate() {
                let Some(new) = &news[i] else {
                    out.push(((0, 0), 0.0));
                    continue;
                };
                let old = olds[i].as_ref();
                let counts = apply(w, &Change { table: &p.table, key: &p.key, old, new: new.as_ref() }, now, false)?;
                let units = 2.0 * write_units(new.as_ref().map_or(0, item_size).max(old.map_or(0, item_size)));
                out.push((counts, units));
            }
            Ok(Some(out))
        })?;
        let mut consumed: Vec<Consumed> = Vec::new();
        if let Some(results) = results {
            for (p, (counts, units)) in planned.iter().zip(results) {
                p.state.counted(counts.0, counts.1);
                self.written(&p.table);
                match consumed.iter_mut().find(|c| c.table == p.table.name) {
                    Some(c) => c.units += units,
                    None => consumed.push(Consumed { table: p.table.name.clone(), units }),
                }
            }
        }
        Ok(consumed)
    }

    /// TransactGetItems: each item (or none), in the order asked.
    pub fn transact_get(
        &self,
        caller: &Caller,
        gets: &[(String, Item, Expressions)],
    ) -> Result<(Vec<Option<Item>>, Vec<Consumed>), DynamoError> {
        let mut out = Vec::with_capacity(gets.len());
        let mut consumed: Vec<Consumed> = Vec::new();
        let mut seen = HashSet::new();
        for (table, key, exprs) in gets {
            let state = self.table(caller, table)?;
            let t = state.def();
            let parsed = exprs.parse(&["ProjectionExpression"])?;
            let k = keys::of_key(&t, key)?;
            if !seen.insert((t.row, k.clone())) {
                return Err(invalid("Transaction request cannot include multiple operations on one item"));
            }
            let item = self.store.get(t.row, &k.pk, &k.sk)?.and_then(|b| decode(&b));
            let units = 2.0 * crate::items::read_units(item.as_ref().map_or(0, item_size), true);
            match consumed.iter_mut().find(|c| c.table == t.name) {
                Some(c) => c.units += units,
                None => consumed.push(Consumed { table: t.name.clone(), units }),
            }
            out.push(match (item, &parsed.projection) {
                (Some(i), Some(p)) => Some(expr::project(&i, p)),
                (i, _) => i,
            });
        }
        Ok((out, consumed))
    }
}
