//! Records: PutRecord and PutRecords (to the open shard a key hashes to), shard iterators
//! of every type, GetRecords (10,000 records or 10 MB a call, `MillisBehindLatest`, a
//! closed shard's children once it is read to its end), ListShards, and what Lambda's
//! pollers read.

use base64::Engine;
use serde_json::{json, Value as Json};

use crate::shards::{self, hash_of, shard_for, Shard};
use crate::{invalid, Caller, KinesisError, KinesisService, Stream, StreamRef};

/// How long a shard iterator can be used.
const ITERATOR_LIFE_MS: i64 = 300_000;
/// The most a GetRecords answer carries.
const MAX_BYTES: usize = 10 * 1024 * 1024;
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// A sequence number as Kinesis writes them: 56 digits, the shard's number in them (so
/// no two shards share one).
pub fn sequence_number(shard: u32, seq: i64) -> String {
    format!("49{shard:06}{seq:048}")
}

fn read_sequence(text: &str) -> Option<i64> {
    if text.len() != 56 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.strip_prefix("49")?.get(6..)?.parse().ok()
}

/// A record to put.
#[derive(Debug, Clone)]
pub struct Entry {
    /// `Data`.
    pub data: Vec<u8>,
    /// `PartitionKey`.
    pub partition_key: String,
    /// `ExplicitHashKey`.
    pub explicit_hash_key: Option<String>,
}

/// Where a record went.
#[derive(Debug, Clone)]
pub struct Put {
    /// `ShardId`.
    pub shard: String,
    /// `SequenceNumber`.
    pub sequence: String,
}

/// A record read.
#[derive(Debug, Clone)]
pub struct Record {
    /// `SequenceNumber`.
    pub sequence: String,
    /// `ApproximateArrivalTimestamp` (ms).
    pub at_ms: i64,
    /// `PartitionKey`.
    pub partition_key: String,
    /// `Data`.
    pub data: Vec<u8>,
}

/// GetRecords' answer.
#[derive(Debug, Clone)]
pub struct GetRecords {
    /// `Records`.
    pub records: Vec<Record>,
    /// `NextShardIterator` (none once a closed shard is read to its end).
    pub next: Option<String>,
    /// `MillisBehindLatest`.
    pub behind_ms: i64,
    /// `ChildShards`, once a closed shard is read to its end.
    pub children: Vec<(Shard, Vec<String>)>,
}

struct Iter {
    account: String,
    region: String,
    name: String,
    shard: u32,
    after: i64,
    issued_ms: i64,
}

fn iterator(i: &Iter) -> String {
    B64.encode(format!("{}|{}|{}|{}|{}|{}", i.account, i.region, i.name, i.shard, i.after, i.issued_ms))
}

fn read_iterator(text: &str) -> Option<Iter> {
    let raw = String::from_utf8(B64.decode(text).ok()?).ok()?;
    let p: Vec<&str> = raw.split('|').collect();
    if p.len() != 6 {
        return None;
    }
    Some(Iter {
        account: p[0].to_owned(),
        region: p[1].to_owned(),
        name: p[2].to_owned(),
        shard: p[3].parse().ok()?,
        after: p[4].parse().ok()?,
        issued_ms: p[5].parse().ok()?,
    })
}

fn hash_key(e: &Entry) -> Result<u128, KinesisError> {
    match &e.explicit_hash_key {
        Some(h) => h.parse::<u128>().ok().filter(|_| !h.is_empty()).ok_or_else(|| {
            invalid(format!(
                "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was {h}"
            ))
        }),
        None => Ok(hash_of(&e.partition_key)),
    }
}

impl KinesisService {
    /// PutRecord and PutRecords: every record committed before the answer.
    pub fn put(&self, caller: &Caller, r: &StreamRef, entries: &[Entry]) -> Result<Vec<Put>, KinesisError> {
        let s = self.stream(caller, r)?;
        let s = s.read();
        let total: usize = entries.iter().map(|e| e.data.len() + e.partition_key.len()).sum();
        if total > 5 * 1024 * 1024 {
            return Err(invalid("Records size exceeds 5 MB limit"));
        }
        let mut placed = Vec::with_capacity(entries.len());
        for e in entries {
            if e.data.len() > 1024 * 1024 {
                return Err(KinesisError::Validation(
                    "1 validation error detected: Value at 'data' failed to satisfy constraint: Member must have length less than or equal to 1048576".into(),
                ));
            }
            let shard = shard_for(&s.shards, hash_key(e)?)
                .ok_or_else(|| KinesisError::Internal("no shard takes the key".into()))?;
            placed.push((shard.index, e.partition_key.as_str(), e.data.as_slice()));
        }
        let seqs = self.store.append(s.row, self.now_ms(), &placed)?;
        if let Some(h) = self.put_hook.get() {
            h();
        }
        Ok(placed
            .iter()
            .zip(seqs)
            .map(|((i, _, _), seq)| Put { shard: shards::shard_id(*i), sequence: sequence_number(*i, seq) })
            .collect())
    }

    /// GetShardIterator.
    pub fn shard_iterator(
        &self,
        caller: &Caller,
        r: &StreamRef,
        shard_id: &str,
        kind: &str,
        sequence: Option<&str>,
        timestamp_ms: Option<i64>,
    ) -> Result<String, KinesisError> {
        let s = self.stream(caller, r)?;
        let s = s.read();
        let shard = s.shard(shard_id).ok_or_else(|| {
            KinesisError::NotFound(format!(
                "Shard {shard_id} in stream {} under account {} does not exist",
                s.name, s.account
            ))
        })?;
        let seq = |what: &str| -> Result<i64, KinesisError> {
            let text = sequence.ok_or_else(|| invalid(format!("Must specify a StartingSequenceNumber for {what}")))?;
            read_sequence(text).ok_or_else(|| {
                invalid(format!(
                    "StartingSequenceNumber {text} used in GetShardIterator on shard {shard_id} in stream {} under account {} is invalid.",
                    s.name, s.account
                ))
            })
        };
        let after = match kind {
            "TRIM_HORIZON" => shard.first_seq,
            "LATEST" => self.store.newest(s.row, shard.index)?.map_or(shard.first_seq, |(n, _)| n).max(shard.first_seq),
            "AT_SEQUENCE_NUMBER" => seq("AT_SEQUENCE_NUMBER")? - 1,
            "AFTER_SEQUENCE_NUMBER" => seq("AFTER_SEQUENCE_NUMBER")?,
            "AT_TIMESTAMP" => {
                let ms = timestamp_ms.ok_or_else(|| invalid("Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp parameter."))?;
                match self.store.before_time(s.row, shard.index, ms)? {
                    Some(seq) => seq.max(shard.first_seq),
                    None => self.store.newest(s.row, shard.index)?.map_or(shard.first_seq, |(n, _)| n),
                }
            }
            other => return Err(invalid(format!("Invalid ShardIteratorType: {other}"))),
        };
        Ok(iterator(&Iter {
            account: s.account.clone(),
            region: s.region.clone(),
            name: s.name.clone(),
            shard: shard.index,
            after,
            issued_ms: self.now_ms(),
        }))
    }

    /// GetRecords.
    pub fn get_records(&self, caller: &Caller, text: &str, limit: Option<usize>) -> Result<GetRecords, KinesisError> {
        // Some clients send the iterator quoted.
        let text = text.trim_matches('"');
        let it = read_iterator(text).ok_or_else(|| invalid(format!("Invalid ShardIterator: {text}")))?;
        let now = self.now_ms();
        if now - it.issued_ms > ITERATOR_LIFE_MS {
            return Err(KinesisError::ExpiredIterator(format!(
                "Iterator expired. The iterator was created at time {} while right now it is {} which is further in the future than the tolerated delay of {ITERATOR_LIFE_MS} milliseconds.",
                it.issued_ms, now
            )));
        }
        if it.account != caller.account {
            return Err(invalid("Invalid ShardIterator."));
        }
        let stream = self.stream(&Caller::new(&it.account, &it.region), &StreamRef::named(&it.name))?;
        let s = stream.read();
        let shard = s.shards.iter().find(|x| x.index == it.shard).cloned().ok_or_else(|| {
            KinesisError::NotFound(format!("Shard {} in stream {} does not exist", shards::shard_id(it.shard), s.name))
        })?;
        let limit = limit.unwrap_or(10_000).clamp(1, 10_000);
        let rows = self.store.records(s.row, shard.index, it.after, limit)?;
        let mut records = Vec::with_capacity(rows.len());
        let mut bytes = 0;
        for r in rows {
            bytes += r.data.len();
            if bytes > MAX_BYTES && !records.is_empty() {
                break;
            }
            records.push(r);
        }
        let last = records.last().map_or(it.after, |r| r.seq);
        let newest = self.store.newest(s.row, shard.index)?;
        let behind_ms = match (newest, records.last()) {
            (Some((n, _)), Some(r)) if r.seq < n => (now - r.at_ms).max(0),
            _ => 0,
        };
        // A closed shard takes no more records: read to its end, it is done.
        let ended = shard.closed_at.is_some() && records.is_empty();
        let children = if ended {
            s.shards
                .iter()
                .filter(|c| c.parent == Some(shard.index) || c.adjacent_parent == Some(shard.index))
                .map(|c| {
                    let parents =
                        c.parent.iter().chain(c.adjacent_parent.iter()).map(|p| shards::shard_id(*p)).collect();
                    (c.clone(), parents)
                })
                .collect()
        } else {
            Vec::new()
        };
        let next = (!ended).then(|| {
            iterator(&Iter {
                account: it.account.clone(),
                region: it.region.clone(),
                name: it.name.clone(),
                shard: it.shard,
                after: last,
                issued_ms: now,
            })
        });
        let records = records
            .into_iter()
            .map(|r| Record {
                sequence: sequence_number(shard.index, r.seq),
                at_ms: r.at_ms,
                partition_key: r.partition_key,
                data: r.data,
            })
            .collect();
        Ok(GetRecords { records, next, behind_ms, children })
    }

    /// Records of a shard (any account's stream, by ARN) after a sequence number: Lambda's
    /// pollers read here.
    pub fn poll(
        &self,
        arn: &str,
        shard_id: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(Record, Json)>, KinesisError> {
        let s = self.stream_by_arn(arn).ok_or_else(|| KinesisError::NotFound(format!("Stream not found: {arn}")))?;
        let shard = s.shard(shard_id).ok_or_else(|| KinesisError::NotFound(format!("Shard {shard_id} not found")))?;
        let after = after.and_then(read_sequence).unwrap_or(shard.first_seq);
        let rows = self.store.records(s.row, shard.index, after, limit)?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let rec = Record {
                    sequence: sequence_number(shard.index, r.seq),
                    at_ms: r.at_ms,
                    partition_key: r.partition_key,
                    data: r.data,
                };
                let event = lambda_record(&s, shard_id, &rec);
                (rec, event)
            })
            .collect())
    }

    /// Where `LATEST` starts in a shard (any account's stream).
    pub fn poll_latest(&self, arn: &str, shard_id: &str) -> Option<String> {
        let s = self.stream_by_arn(arn)?;
        let shard = s.shard(shard_id)?;
        let newest = self.store.newest(s.row, shard.index).ok()?.map_or(shard.first_seq, |(n, _)| n);
        Some(sequence_number(shard.index, newest.max(shard.first_seq)))
    }

    /// Where `AT_TIMESTAMP` starts in a shard (any account's stream).
    pub fn poll_at(&self, arn: &str, shard_id: &str, ms: i64) -> Option<String> {
        let s = self.stream_by_arn(arn)?;
        let shard = s.shard(shard_id)?;
        let at = match self.store.before_time(s.row, shard.index, ms).ok()? {
            Some(seq) => seq.max(shard.first_seq),
            None => return self.poll_latest(arn, shard_id),
        };
        Some(sequence_number(shard.index, at))
    }

    /// ListShards: the shards after `after` (an id), at most `limit`; the next token.
    pub fn list_shards(
        &self,
        caller: &Caller,
        r: &StreamRef,
        after: Option<&str>,
        filter: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<Shard>, bool), KinesisError> {
        let s = self.stream(caller, r)?;
        let s = s.read();
        let after = after.and_then(shards::index_of);
        let mut all: Vec<Shard> = s
            .shards
            .iter()
            .filter(|x| after.is_none_or(|a| x.index > a))
            .filter(|x| filter != Some("AT_LATEST") || x.is_open())
            .cloned()
            .collect();
        let more = all.len() > limit;
        all.truncate(limit);
        Ok((all, more))
    }
}

/// A record as Lambda receives it from Kinesis (less `eventSourceARN` and
/// `invokeIdentityArn`).
pub fn lambda_record(s: &Stream, shard_id: &str, r: &Record) -> Json {
    json!({
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": r.partition_key,
            "sequenceNumber": r.sequence,
            "data": B64.encode(&r.data),
            "approximateArrivalTimestamp": r.at_ms as f64 / 1000.0,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": format!("{shard_id}:{}", r.sequence),
        "eventName": "aws:kinesis:record",
        "awsRegion": s.region,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_numbers_read_back() {
        let s = sequence_number(3, 1234);
        assert_eq!(s.len(), 56);
        assert_eq!(read_sequence(&s), Some(1234));
        assert_eq!(read_sequence("12"), None);
        assert_eq!(read_sequence("49abc"), None);
    }

    #[test]
    fn iterators_read_back() {
        let i = Iter { account: "1".into(), region: "r".into(), name: "s".into(), shard: 2, after: 9, issued_ms: 5 };
        let back = read_iterator(&iterator(&i)).unwrap();
        assert_eq!((back.name, back.shard, back.after), ("s".to_owned(), 2, 9));
    }
}
