//! Shards and their hash key ranges: a partition key's MD5 as a 128-bit number picks the
//! open shard whose range holds it (or an explicit hash key does); streams are created
//! with ranges split evenly, and reshard by splitting, merging or evenly again, the old
//! shards closed and named as their children's parents. Pure.

use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};

/// The largest hash key.
pub const MAX_HASH: u128 = u128::MAX;

/// A shard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// Its number: `shardId-000000000004` is 4.
    pub index: u32,
    /// Its range's first hash key (decimal: JSON holds no 128-bit numbers).
    pub start: String,
    /// Its range's last hash key.
    pub end: String,
    /// The shard it was split from, or the first of two merged.
    pub parent: Option<u32>,
    /// The second of two shards merged into it.
    pub adjacent_parent: Option<u32>,
    /// The sequence number it starts after.
    pub first_seq: i64,
    /// Its last sequence number, once it is closed.
    pub closed_at: Option<i64>,
}

impl Shard {
    /// `shardId-000000000004`.
    pub fn id(&self) -> String {
        shard_id(self.index)
    }

    /// Its range.
    pub fn range(&self) -> (u128, u128) {
        (self.start.parse().unwrap_or(0), self.end.parse().unwrap_or(MAX_HASH))
    }

    /// Whether it takes records.
    pub fn is_open(&self) -> bool {
        self.closed_at.is_none()
    }
}

/// `shardId-000000000004`.
pub fn shard_id(index: u32) -> String {
    format!("shardId-{index:012}")
}

/// The shard number a `shardId-…` names.
pub fn index_of(id: &str) -> Option<u32> {
    id.strip_prefix("shardId-")?.parse().ok()
}

/// A partition key's hash key: its MD5, as a number.
pub fn hash_of(partition_key: &str) -> u128 {
    let digest = Md5::digest(partition_key.as_bytes());
    u128::from_be_bytes(digest.into())
}

/// `count` ranges splitting the whole key space evenly.
pub fn even_ranges(count: u32) -> Vec<(u128, u128)> {
    let count = u128::from(count.max(1));
    let step = MAX_HASH / count;
    (0..count)
        .map(|i| {
            let start = i * step;
            let end = if i == count - 1 { MAX_HASH } else { (i + 1) * step - 1 };
            (start, end)
        })
        .collect()
}

/// The open shard whose range holds `hash`.
pub fn shard_for(shards: &[Shard], hash: u128) -> Option<&Shard> {
    shards.iter().filter(|s| s.is_open()).find(|s| {
        let (a, b) = s.range();
        a <= hash && hash <= b
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_cover_the_key_space_without_gaps() {
        for n in [1, 2, 3, 4, 7] {
            let r = even_ranges(n);
            assert_eq!(r[0].0, 0);
            assert_eq!(r[r.len() - 1].1, MAX_HASH);
            for w in r.windows(2) {
                assert_eq!(w[0].1 + 1, w[1].0);
            }
        }
    }

    #[test]
    fn partition_keys_hash_as_kinesis_does() {
        // MD5("a") = 0cc175b9c0f1b6a831c399e269772661.
        assert_eq!(hash_of("a"), 0x0cc175b9c0f1b6a831c399e269772661);
        assert_eq!(index_of(&shard_id(12)), Some(12));
    }
}
