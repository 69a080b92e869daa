//! Resharding: SplitShard, MergeShards and UpdateShardCount. The shards given up are
//! closed at the last sequence number written (their records stay readable), and the new
//! ones name them as parents, so readers finish a parent before its children.

use crate::shards::{self, Shard};
use crate::{invalid, Caller, KinesisError, KinesisService, Stream, StreamRef, MAX_SHARDS};

fn next_index(s: &Stream) -> u32 {
    s.shards.iter().map(|x| x.index + 1).max().unwrap_or(0)
}

fn open_shard<'a>(s: &'a Stream, id: &str) -> Result<&'a Shard, KinesisError> {
    let shard = s.shard(id).ok_or_else(|| {
        KinesisError::NotFound(format!("Could not find shard {id} in stream {} under account {}.", s.name, s.account))
    })?;
    if !shard.is_open() {
        return Err(KinesisError::NotFound(format!(
            "Shard {id} in stream {} under account {} has already been merged or split, and thus is not eligible for merging or splitting.",
            s.name, s.account
        )));
    }
    Ok(shard)
}

impl KinesisService {
    fn close(&self, s: &mut Stream, indexes: &[u32]) -> Result<i64, KinesisError> {
        let last = self.store.last_sequence()?;
        for sh in s.shards.iter_mut().filter(|x| indexes.contains(&x.index)) {
            sh.closed_at = Some(last);
        }
        Ok(last)
    }

    /// SplitShard.
    pub fn split_shard(
        &self,
        caller: &Caller,
        r: &StreamRef,
        shard_id: &str,
        new_start: &str,
    ) -> Result<(), KinesisError> {
        let stream = self.stream(caller, r)?;
        let mut s = stream.write();
        let shard = open_shard(&s, shard_id)?.clone();
        let (a, b) = shard.range();
        let at: u128 = new_start
            .parse()
            .map_err(|_| invalid(format!("NewStartingHashKey {new_start} used in SplitShard() on shard {shard_id} in stream {} under account {} is not both greater than one plus the shard's StartingHashKey {a} and less than the shard's EndingHashKey {b}.", s.name, s.account)))?;
        if at <= a.saturating_add(1) || at > b {
            return Err(invalid(format!(
                "NewStartingHashKey {new_start} used in SplitShard() on shard {shard_id} in stream {} under account {} is not both greater than one plus the shard's StartingHashKey {a} and less than the shard's EndingHashKey {b}.",
                s.name, s.account
            )));
        }
        if s.open_shards().count() as u32 + 1 > MAX_SHARDS {
            return Err(KinesisError::LimitExceeded(format!("The stream {} would exceed its shard limit.", s.name)));
        }
        let last = self.close(&mut s, &[shard.index])?;
        let next = next_index(&s);
        for (i, (start, end)) in [(a, at - 1), (at, b)].into_iter().enumerate() {
            s.shards.push(Shard {
                index: next + i as u32,
                start: start.to_string(),
                end: end.to_string(),
                parent: Some(shard.index),
                adjacent_parent: None,
                first_seq: last,
                closed_at: None,
            });
        }
        self.save(&s)
    }

    /// MergeShards.
    pub fn merge_shards(
        &self,
        caller: &Caller,
        r: &StreamRef,
        shard_id: &str,
        adjacent_id: &str,
    ) -> Result<(), KinesisError> {
        let stream = self.stream(caller, r)?;
        let mut s = stream.write();
        let one = open_shard(&s, shard_id)?.clone();
        let two = open_shard(&s, adjacent_id)?.clone();
        let (a1, b1) = one.range();
        let (a2, b2) = two.range();
        let adjacent = b1.checked_add(1) == Some(a2) || b2.checked_add(1) == Some(a1);
        if !adjacent {
            return Err(invalid(format!(
                "Shards {shard_id} and {adjacent_id} in stream {} under account {} are not an adjacent pair of shards eligible for merging",
                s.name, s.account
            )));
        }
        let last = self.close(&mut s, &[one.index, two.index])?;
        let index = next_index(&s);
        s.shards.push(Shard {
            index,
            start: a1.min(a2).to_string(),
            end: b1.max(b2).to_string(),
            parent: Some(one.index),
            adjacent_parent: Some(two.index),
            first_seq: last,
            closed_at: None,
        });
        self.save(&s)
    }

    /// UpdateShardCount (`UNIFORM_SCALING`): the open shards closed, `target` new ones with
    /// even ranges, each the child of the old shard its range starts in. The count before.
    pub fn update_shard_count(
        &self,
        caller: &Caller,
        r: &StreamRef,
        target: u32,
    ) -> Result<(u32, String, String), KinesisError> {
        let stream = self.stream(caller, r)?;
        let mut s = stream.write();
        let current = s.open_shards().count() as u32;
        if target == 0 || target > MAX_SHARDS || target > current * 2 || target * 2 < current {
            return Err(invalid(format!(
                "UpdateShardCount cannot scale the stream {} from {current} to {target} shards: a call scales to at most double, and at least half, the open shards (and at most {MAX_SHARDS}).",
                s.name
            )));
        }
        let old: Vec<Shard> = s.open_shards().cloned().collect();
        let last = self.close(&mut s, &old.iter().map(|x| x.index).collect::<Vec<_>>())?;
        let next = next_index(&s);
        for (i, (a, b)) in shards::even_ranges(target).into_iter().enumerate() {
            let covering: Vec<u32> = old
                .iter()
                .filter(|o| {
                    let (oa, ob) = o.range();
                    oa <= b && a <= ob
                })
                .map(|o| o.index)
                .collect();
            s.shards.push(Shard {
                index: next + i as u32,
                start: a.to_string(),
                end: b.to_string(),
                parent: covering.first().copied(),
                adjacent_parent: covering.get(1).copied(),
                first_seq: last,
                closed_at: None,
            });
        }
        self.save(&s)?;
        Ok((current, s.name.clone(), s.arn()))
    }
}
