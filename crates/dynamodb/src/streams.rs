//! DynamoDB Streams: the record each change of a table with a live stream leaves (written
//! in the change's transaction), and the Streams API over them: ListStreams,
//! DescribeStream (one shard per stream, closed when the stream is turned off),
//! GetShardIterator and GetRecords. Records are kept 24 hours.

use base64::Engine;
use serde_json::{json, Value as Json};

use crate::json::item_json;
use crate::keys;
use crate::number::Number;
use crate::tables::{StreamDef, Table};
use crate::value::{decode, encode, item_size, Item, Value};
use crate::{invalid, Caller, DynamoError, DynamoService};

/// How long records are kept.
pub const RETENTION_MS: i64 = 24 * 3600 * 1000;
/// How long a shard iterator can be used.
const ITERATOR_LIFE_MS: i64 = 15 * 60 * 1000;
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The stored form of one change's record.
pub(crate) fn record(t: &Table, s: &StreamDef, old: Option<&Item>, new: Option<&Item>, by_ttl: bool) -> Vec<u8> {
    let name = match (old, new) {
        (None, _) => "INSERT",
        (Some(_), Some(_)) => "MODIFY",
        (Some(_), None) => "REMOVE",
    };
    let keys = keys::key_item(t, new.or(old).unwrap_or(&Item::new()));
    let mut r = Item::new();
    let mut size = item_size(&keys);
    r.insert("eventID".into(), Value::S(uuid::Uuid::new_v4().simple().to_string()));
    r.insert("eventName".into(), Value::S(name.into()));
    r.insert("Keys".into(), Value::M(keys));
    if matches!(s.view.as_str(), "NEW_IMAGE" | "NEW_AND_OLD_IMAGES") {
        if let Some(n) = new {
            size += item_size(n);
            r.insert("NewImage".into(), Value::M(n.clone()));
        }
    }
    if matches!(s.view.as_str(), "OLD_IMAGE" | "NEW_AND_OLD_IMAGES") {
        if let Some(o) = old {
            size += item_size(o);
            r.insert("OldImage".into(), Value::M(o.clone()));
        }
    }
    r.insert("SizeBytes".into(), num(size as i64));
    r.insert("StreamViewType".into(), Value::S(s.view.clone()));
    r.insert("Region".into(), Value::S(t.region.clone()));
    if by_ttl {
        r.insert("ByTtl".into(), Value::Bool(true));
    }
    encode(&r)
}

fn num(n: i64) -> Value {
    Value::N(Number::parse(&n.to_string()).unwrap_or_else(|_| Number::zero()))
}

/// A stream record's sequence number, as AWS writes them.
pub fn sequence_number(seq: i64) -> String {
    format!("{seq:021}")
}

/// A record as the Streams API and Lambda carry it (Lambda adds `eventSourceARN`).
pub fn record_json(seq: i64, at_ms: i64, bytes: &[u8]) -> Option<Json> {
    let r = decode(bytes)?;
    let s = |k: &str| match r.get(k) {
        Some(Value::S(s)) => s.clone(),
        _ => String::new(),
    };
    let mut dynamodb = serde_json::Map::new();
    // Whole seconds, as a number with a fraction part (Lambda's filters see a float).
    dynamodb.insert("ApproximateCreationDateTime".into(), json!((at_ms / 1000) as f64));
    for k in ["Keys", "NewImage", "OldImage"] {
        if let Some(Value::M(m)) = r.get(k) {
            dynamodb.insert(k.into(), item_json(m));
        }
    }
    dynamodb.insert("SequenceNumber".into(), json!(sequence_number(seq)));
    let size = match r.get("SizeBytes") {
        Some(Value::N(n)) => n.as_i64().unwrap_or(0),
        _ => 0,
    };
    dynamodb.insert("SizeBytes".into(), json!(size));
    dynamodb.insert("StreamViewType".into(), json!(s("StreamViewType")));
    let mut out = json!({
        "eventID": s("eventID"),
        "eventName": s("eventName"),
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": s("Region"),
        "dynamodb": Json::Object(dynamodb),
    });
    if r.get("ByTtl") == Some(&Value::Bool(true)) {
        out["userIdentity"] = json!({ "type": "Service", "principalId": "dynamodb.amazonaws.com" });
    }
    Some(out)
}

/// A record as a poller reads it.
#[derive(Debug, Clone)]
pub struct Polled {
    /// Its sequence number.
    pub sequence: String,
    /// When it was written (ms).
    pub at_ms: i64,
    /// The item's key, as text (records of one key keep their order).
    pub key: String,
    /// The record, as Lambda receives it (less `eventSourceARN`).
    pub event: Json,
}

/// A stream as ListStreams and DescribeStream show it.
#[derive(Debug, Clone)]
pub struct StreamInfo {
    /// Its ARN.
    pub arn: String,
    /// Its table.
    pub table: String,
    /// Its label.
    pub label: String,
    /// Its view type.
    pub view: String,
    /// Whether writes still reach it.
    pub enabled: bool,
    /// When it was created (ms).
    pub created_ms: i64,
    /// The table's key: partition and sort attribute.
    pub key: (String, Option<String>),
    /// Its one shard's id.
    pub shard: String,
    /// The first and last sequence numbers it holds.
    pub span: Option<(i64, i64)>,
}

fn shard_id(s: &StreamDef) -> String {
    let digest = s.label.bytes().fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    format!("shardId-{:020}-{digest:08x}", s.created_ms)
}

/// A shard iterator's contents.
struct Iter {
    arn: String,
    shard: String,
    after: i64,
    issued_ms: i64,
}

fn iterator(i: &Iter) -> String {
    format!("{}|1|{}", i.arn, B64.encode(format!("{}|{}|{}", i.shard, i.after, i.issued_ms)))
}

fn read_iterator(text: &str) -> Option<Iter> {
    let (arn, rest) = text.split_once("|1|")?;
    let raw = String::from_utf8(B64.decode(rest).ok()?).ok()?;
    let mut p = raw.split('|');
    Some(Iter {
        arn: arn.to_owned(),
        shard: p.next()?.to_owned(),
        after: p.next()?.parse().ok()?,
        issued_ms: p.next()?.parse().ok()?,
    })
}

impl DynamoService {
    fn streams_of(&self, caller: &Caller) -> Vec<StreamInfo> {
        let mut out = Vec::new();
        for state in self.all_tables() {
            let t = state.def();
            if t.account != caller.account || t.region != caller.region {
                continue;
            }
            for s in &t.streams {
                out.push(StreamInfo {
                    arn: t.stream_arn(s),
                    table: t.name.clone(),
                    label: s.label.clone(),
                    view: s.view.clone(),
                    enabled: s.enabled,
                    created_ms: s.created_ms,
                    key: (t.hash.clone(), t.range.clone()),
                    shard: shard_id(s),
                    span: None,
                });
            }
        }
        out.sort_by(|a, b| a.arn.cmp(&b.arn));
        out
    }

    /// ListStreams: a table's streams (or every table's) after `start`, at most `limit`.
    pub fn list_streams(
        &self,
        caller: &Caller,
        table: Option<&str>,
        start: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<StreamInfo>, Option<String>), DynamoError> {
        if let Some(t) = table {
            self.table_named(caller, t)?;
        }
        let all: Vec<StreamInfo> = self
            .streams_of(caller)
            .into_iter()
            .filter(|s| table.is_none_or(|t| s.table == crate::tables::name_of(t)))
            .filter(|s| start.is_none_or(|st| s.arn.as_str() > st))
            .collect();
        let more = all.len() > limit;
        let page: Vec<StreamInfo> = all.into_iter().take(limit).collect();
        let last = if more { page.last().map(|s| s.arn.clone()) } else { None };
        Ok((page, last))
    }

    /// DescribeStream.
    pub fn describe_stream(&self, caller: &Caller, arn: &str) -> Result<StreamInfo, DynamoError> {
        let mut s = self.stream(caller, arn)?;
        s.span = self.store.stream_span(&s.arn)?;
        Ok(s)
    }

    fn stream(&self, caller: &Caller, arn: &str) -> Result<StreamInfo, DynamoError> {
        self.streams_of(caller)
            .into_iter()
            .find(|s| s.arn == arn)
            .ok_or_else(|| DynamoError::NotFound(format!("Requested resource not found: Stream: {arn} not found")))
    }

    /// GetShardIterator.
    pub fn shard_iterator(
        &self,
        caller: &Caller,
        arn: &str,
        shard: &str,
        kind: &str,
        sequence: Option<&str>,
    ) -> Result<String, DynamoError> {
        let s = self.stream(caller, arn)?;
        if s.shard != shard {
            return Err(DynamoError::NotFound("Requested resource not found: Shard does not exist".into()));
        }
        let seq = || -> Result<i64, DynamoError> {
            let text = sequence
                .ok_or_else(|| invalid(format!("Must provide SequenceNumber for ShardIteratorType: {kind}")))?;
            text.parse::<i64>().map_err(|_| invalid(format!("Invalid SequenceNumber: {text}")))
        };
        let after = match kind {
            "TRIM_HORIZON" => 0,
            "LATEST" => self.store.stream_span(&s.arn)?.map_or_else(|| self.store.last_sequence(), |(_, hi)| Ok(hi))?,
            "AT_SEQUENCE_NUMBER" => seq()? - 1,
            "AFTER_SEQUENCE_NUMBER" => seq()?,
            other => return Err(invalid(format!("Invalid ShardIteratorType: {other}"))),
        };
        Ok(iterator(&Iter { arn: s.arn, shard: s.shard, after, issued_ms: self.now_ms() }))
    }

    /// GetRecords: records after the iterator's position, and the next iterator (none once
    /// a closed shard is read to its end).
    pub fn get_records(
        &self,
        caller: &Caller,
        iterator_text: &str,
        limit: usize,
    ) -> Result<(Vec<Json>, Option<String>), DynamoError> {
        let it = read_iterator(iterator_text).ok_or_else(|| invalid("Invalid ShardIterator"))?;
        let now = self.now_ms();
        if now - it.issued_ms > ITERATOR_LIFE_MS {
            return Err(DynamoError::ExpiredIterator(format!(
                "Iterator expired. The iterator was created at time {} while right now it's {}",
                it.issued_ms, now
            )));
        }
        let s = self.stream(caller, &it.arn)?;
        let rows = self.store.stream_records(&s.arn, it.after, limit.clamp(1, 1000))?;
        let last = rows.last().map_or(it.after, |r| r.seq);
        let records: Vec<Json> = rows.iter().filter_map(|r| record_json(r.seq, r.at_ms, &r.record)).collect();
        let exhausted = !s.enabled && rows.is_empty();
        let next = (!exhausted).then(|| iterator(&Iter { arn: s.arn, shard: s.shard, after: last, issued_ms: now }));
        Ok((records, next))
    }

    /// Records of a stream (by ARN, any account) after a sequence number (`None`: from
    /// the oldest), at most `limit`: Lambda's pollers read here.
    pub fn stream_read(&self, arn: &str, after: Option<&str>, limit: usize) -> Result<Vec<Polled>, DynamoError> {
        let after = after.and_then(|a| a.parse::<i64>().ok()).unwrap_or(0);
        let rows = self.store.stream_records(arn, after, limit)?;
        Ok(rows
            .iter()
            .filter_map(|r| {
                let event = record_json(r.seq, r.at_ms, &r.record)?;
                Some(Polled {
                    sequence: sequence_number(r.seq),
                    at_ms: r.at_ms,
                    key: event["dynamodb"]["Keys"].to_string(),
                    event,
                })
            })
            .collect())
    }

    /// A stream's one shard (any account's): its id, and whether it is closed (the stream
    /// turned off). `None` if there is no such stream.
    pub fn stream_shard(&self, arn: &str) -> Option<(String, bool)> {
        self.all_tables().iter().find_map(|st| {
            let t = st.def();
            t.streams.iter().find(|s| t.stream_arn(s) == arn).map(|s| (shard_id(s), !s.enabled))
        })
    }

    /// The sequence number just before the first record written at or after `ms`.
    pub fn stream_before(&self, arn: &str, ms: i64) -> Result<String, DynamoError> {
        Ok(sequence_number(self.store.stream_before(arn, ms)?))
    }

    /// The last sequence number of a stream (0 if it holds none): where `LATEST` starts.
    pub fn stream_latest(&self, arn: &str) -> Result<String, DynamoError> {
        Ok(sequence_number(self.store.stream_span(arn)?.map_or(0, |(_, hi)| hi)))
    }

    /// Drops records older than 24 hours.
    pub fn trim_streams(&self) -> Result<usize, DynamoError> {
        Ok(self.store.trim_streams(self.now_ms() - RETENTION_MS)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iterators_round_trip() {
        let i = Iter {
            arn: "arn:aws:dynamodb:us-east-1:1:table/t/stream/x".into(),
            shard: "shardId-1".into(),
            after: 42,
            issued_ms: 7,
        };
        let back = read_iterator(&iterator(&i)).unwrap();
        assert_eq!((back.arn, back.shard, back.after, back.issued_ms), (i.arn, i.shard, 42, 7));
        assert!(read_iterator("garbage").is_none());
    }
}
