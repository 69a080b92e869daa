//! Kinesis Data Streams (json 1.1 protocol, `X-Amz-Target: Kinesis_20131202.<Operation>`).
//! The protocol layer reads and checks the input against Kinesis's model and writes the
//! answer; this module turns input trees into service calls and results into output
//! trees. Enhanced fan-out consumers are not served.

use base64::Engine;
use kinesis::{Caller, Entry, KinesisError, KinesisService, Shard, Stream, StreamRef};
use protocol::ServiceError;
use serde_json::{json, Map, Value};

/// The operations served.
pub(crate) const OPERATIONS: &[&str] = &[
    "CreateStream",
    "DescribeStream",
    "DescribeStreamSummary",
    "ListStreams",
    "ListShards",
    "DeleteStream",
    "IncreaseStreamRetentionPeriod",
    "DecreaseStreamRetentionPeriod",
    "AddTagsToStream",
    "RemoveTagsFromStream",
    "ListTagsForStream",
    "PutRecord",
    "PutRecords",
    "GetShardIterator",
    "GetRecords",
    "UpdateShardCount",
    "SplitShard",
    "MergeShards",
    "StartStreamEncryption",
    "StopStreamEncryption",
    "EnableEnhancedMonitoring",
    "DisableEnhancedMonitoring",
    "DescribeLimits",
    "UpdateStreamMode",
];

/// The largest request body read: PutRecords' 5 MB of records, base64, with room.
pub(crate) const MAX_BODY: usize = 8 * 1024 * 1024;

/// A Kinesis error as the protocol layer writes it; the one place they are mapped.
pub(crate) fn service_error(e: &KinesisError) -> ServiceError {
    let code = match e {
        KinesisError::NotFound(_) => "ResourceNotFoundException",
        KinesisError::InUse(_) => "ResourceInUseException",
        KinesisError::InvalidArgument(_) => "InvalidArgumentException",
        KinesisError::LimitExceeded(_) => "LimitExceededException",
        KinesisError::ExpiredIterator(_) => "ExpiredIteratorException",
        KinesisError::Validation(_) => "ValidationException",
        KinesisError::Internal(_) => "InternalFailure",
    };
    let out = ServiceError::new(code, e.to_string());
    if matches!(e, KinesisError::Internal(_)) {
        out.status(500)
    } else {
        out
    }
}

fn s<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn stream_ref(v: &Value) -> StreamRef {
    StreamRef { name: s(v, "StreamName").map(str::to_owned), arn: s(v, "StreamARN").map(str::to_owned) }
}

fn data(v: &Value) -> Result<Vec<u8>, ServiceError> {
    base64::engine::general_purpose::STANDARD
        .decode(s(v, "Data").unwrap_or_default())
        .map_err(|_| service_error(&KinesisError::InvalidArgument("Data is not valid base64.".into())))
}

fn entry(v: &Value) -> Result<Entry, ServiceError> {
    Ok(Entry {
        data: data(v)?,
        partition_key: s(v, "PartitionKey").unwrap_or_default().to_owned(),
        explicit_hash_key: s(v, "ExplicitHashKey").map(str::to_owned),
    })
}

fn shard_json(sh: &Shard) -> Value {
    let mut o = Map::new();
    o.insert("ShardId".into(), json!(sh.id()));
    if let Some(p) = sh.parent {
        o.insert("ParentShardId".into(), json!(kinesis::shards::shard_id(p)));
    }
    if let Some(p) = sh.adjacent_parent {
        o.insert("AdjacentParentShardId".into(), json!(kinesis::shards::shard_id(p)));
    }
    o.insert("HashKeyRange".into(), json!({ "StartingHashKey": sh.start, "EndingHashKey": sh.end }));
    let mut range = Map::new();
    range.insert("StartingSequenceNumber".into(), json!(kinesis::records_sequence(sh.index, sh.first_seq + 1)));
    if let Some(c) = sh.closed_at {
        range.insert("EndingSequenceNumber".into(), json!(kinesis::records_sequence(sh.index, c)));
    }
    o.insert("SequenceNumberRange".into(), Value::Object(range));
    Value::Object(o)
}

fn secs(ms: i64) -> Value {
    json!(ms as f64 / 1000.0)
}

fn description(st: &Stream) -> Value {
    json!({
        "StreamName": st.name,
        "StreamARN": st.arn(),
        "StreamStatus": "ACTIVE",
        "StreamModeDetails": { "StreamMode": st.mode },
        "Shards": st.shards.iter().map(shard_json).collect::<Vec<_>>(),
        "HasMoreShards": false,
        "RetentionPeriodHours": st.retention_hours,
        "StreamCreationTimestamp": secs(st.created_ms),
        "EnhancedMonitoring": [{ "ShardLevelMetrics": st.metrics }],
        "EncryptionType": if st.kms_key.is_some() { "KMS" } else { "NONE" },
    })
}

fn tags(v: &Value) -> Vec<(String, String)> {
    v.get("Tags")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, x)| (k.clone(), x.as_str().unwrap_or_default().to_owned())).collect())
        .unwrap_or_default()
}

fn strings(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

/// Runs a Kinesis operation.
pub(crate) fn run(k: &KinesisService, caller: &Caller, op: &str, v: &Value) -> Result<Value, ServiceError> {
    let e = |e: KinesisError| service_error(&e);
    let r = stream_ref(v);
    Ok(match op {
        "CreateStream" => {
            let count = v.get("ShardCount").and_then(Value::as_u64).map(|c| c as u32);
            let mode = v.get("StreamModeDetails").and_then(|m| s(m, "StreamMode"));
            k.create_stream(caller, s(v, "StreamName").unwrap_or_default(), count, mode, tags(v)).map_err(e)?;
            json!({})
        }
        "DescribeStream" => {
            let st = k.describe(caller, &r).map_err(e)?;
            let mut d = description(&st);
            let limit = v.get("Limit").and_then(Value::as_u64).unwrap_or(100) as usize;
            let start = s(v, "ExclusiveStartShardId").and_then(kinesis::shards::index_of);
            let shards: Vec<Value> =
                st.shards.iter().filter(|x| start.is_none_or(|a| x.index > a)).map(shard_json).collect();
            d["HasMoreShards"] = json!(shards.len() > limit);
            d["Shards"] = Value::Array(shards.into_iter().take(limit).collect());
            json!({ "StreamDescription": d })
        }
        "DescribeStreamSummary" => {
            let st = k.describe(caller, &r).map_err(e)?;
            let mut d = description(&st);
            if let Some(o) = d.as_object_mut() {
                o.remove("Shards");
                o.remove("HasMoreShards");
                o.insert("OpenShardCount".into(), json!(st.open_shards().count()));
                o.insert("ConsumerCount".into(), json!(0));
            }
            json!({ "StreamDescriptionSummary": d })
        }
        "ListStreams" => {
            let limit = v.get("Limit").and_then(Value::as_u64).unwrap_or(100) as usize;
            let start = s(v, "ExclusiveStartStreamName").or_else(|| s(v, "NextToken"));
            let (streams, more) = k.list(caller, start, limit);
            let mut o = json!({
                "StreamNames": streams.iter().map(|x| x.name.clone()).collect::<Vec<_>>(),
                "HasMoreStreams": more,
                "StreamSummaries": streams.iter().map(|x| json!({
                    "StreamName": x.name, "StreamARN": x.arn(), "StreamStatus": "ACTIVE",
                    "StreamModeDetails": { "StreamMode": x.mode }, "StreamCreationTimestamp": secs(x.created_ms),
                })).collect::<Vec<_>>(),
            });
            if more {
                o["NextToken"] = json!(streams.last().map(|x| x.name.clone()));
            }
            o
        }
        "ListShards" => {
            let limit = v.get("MaxResults").and_then(Value::as_u64).unwrap_or(1000) as usize;
            // A NextToken names the stream and the last shard listed.
            let (r, after) = match s(v, "NextToken") {
                Some(t) => match t.split_once('|') {
                    Some((name, last)) => (StreamRef::named(name), Some(last.to_owned())),
                    None => return Err(e(KinesisError::InvalidArgument("Invalid NextToken.".into()))),
                },
                None => (r, s(v, "ExclusiveStartShardId").map(str::to_owned)),
            };
            let filter = v.get("ShardFilter").and_then(|f| s(f, "Type"));
            let (shards, more) = k.list_shards(caller, &r, after.as_deref(), filter, limit).map_err(e)?;
            let mut o = json!({ "Shards": shards.iter().map(shard_json).collect::<Vec<_>>() });
            if more {
                let name = k.describe(caller, &r).map_err(e)?.name;
                o["NextToken"] = json!(format!("{name}|{}", shards.last().map(Shard::id).unwrap_or_default()));
            }
            o
        }
        "DeleteStream" => {
            k.delete(caller, &r).map_err(e)?;
            json!({})
        }
        "IncreaseStreamRetentionPeriod" | "DecreaseStreamRetentionPeriod" => {
            let hours = v.get("RetentionPeriodHours").and_then(Value::as_u64).unwrap_or(24) as u32;
            k.set_retention(caller, &r, hours, op.starts_with("Increase")).map_err(e)?;
            json!({})
        }
        "AddTagsToStream" => {
            k.add_tags(caller, &r, tags(v)).map_err(e)?;
            json!({})
        }
        "RemoveTagsFromStream" => {
            k.remove_tags(caller, &r, &strings(v, "TagKeys")).map_err(e)?;
            json!({})
        }
        "ListTagsForStream" => {
            let st = k.describe(caller, &r).map_err(e)?;
            let start = s(v, "ExclusiveStartTagKey");
            let limit = v.get("Limit").and_then(Value::as_u64).unwrap_or(50) as usize;
            let all: Vec<&(String, String)> =
                st.tags.iter().filter(|(t, _)| start.is_none_or(|a| t.as_str() > a)).collect();
            json!({
                "Tags": all.iter().take(limit).map(|(t, x)| json!({ "Key": t, "Value": x })).collect::<Vec<_>>(),
                "HasMoreTags": all.len() > limit,
            })
        }
        "PutRecord" => {
            let put = k.put(caller, &r, &[entry(v)?]).map_err(e)?;
            let p = put.into_iter().next().ok_or_else(|| e(KinesisError::Internal("nothing was put".into())))?;
            json!({ "ShardId": p.shard, "SequenceNumber": p.sequence })
        }
        "PutRecords" => {
            let entries: Vec<Entry> = v
                .get("Records")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(entry)
                .collect::<Result<_, _>>()?;
            let put = k.put(caller, &r, &entries).map_err(e)?;
            json!({
                "FailedRecordCount": 0,
                "Records": put.iter().map(|p| json!({ "SequenceNumber": p.sequence, "ShardId": p.shard })).collect::<Vec<_>>(),
            })
        }
        "GetShardIterator" => {
            let at_ms = v.get("Timestamp").and_then(Value::as_f64).map(|t| (t * 1000.0) as i64);
            let it = k
                .shard_iterator(
                    caller,
                    &r,
                    s(v, "ShardId").unwrap_or_default(),
                    s(v, "ShardIteratorType").unwrap_or_default(),
                    s(v, "StartingSequenceNumber"),
                    at_ms,
                )
                .map_err(e)?;
            json!({ "ShardIterator": it })
        }
        "GetRecords" => {
            let limit = v.get("Limit").and_then(Value::as_u64).map(|l| l as usize);
            let got = k.get_records(caller, s(v, "ShardIterator").unwrap_or_default(), limit).map_err(e)?;
            let b64 = base64::engine::general_purpose::STANDARD;
            let mut o = json!({
                "Records": got.records.iter().map(|x| json!({
                    "SequenceNumber": x.sequence,
                    "ApproximateArrivalTimestamp": secs(x.at_ms),
                    "Data": b64.encode(&x.data),
                    "PartitionKey": x.partition_key,
                })).collect::<Vec<_>>(),
                "MillisBehindLatest": got.behind_ms,
            });
            if let Some(n) = got.next {
                o["NextShardIterator"] = json!(n);
            }
            if !got.children.is_empty() {
                o["ChildShards"] = Value::Array(
                    got.children
                        .iter()
                        .map(|(c, parents)| {
                            json!({ "ShardId": c.id(), "ParentShards": parents,
                                    "HashKeyRange": { "StartingHashKey": c.start, "EndingHashKey": c.end } })
                        })
                        .collect(),
                );
            }
            o
        }
        "UpdateShardCount" => {
            let target = v.get("TargetShardCount").and_then(Value::as_u64).unwrap_or(0) as u32;
            let (current, name, arn) = k.update_shard_count(caller, &r, target).map_err(e)?;
            json!({ "StreamName": name, "StreamARN": arn, "CurrentShardCount": current, "TargetShardCount": target })
        }
        "SplitShard" => {
            k.split_shard(
                caller,
                &r,
                s(v, "ShardToSplit").unwrap_or_default(),
                s(v, "NewStartingHashKey").unwrap_or_default(),
            )
            .map_err(e)?;
            json!({})
        }
        "MergeShards" => {
            k.merge_shards(
                caller,
                &r,
                s(v, "ShardToMerge").unwrap_or_default(),
                s(v, "AdjacentShardToMerge").unwrap_or_default(),
            )
            .map_err(e)?;
            json!({})
        }
        "StartStreamEncryption" => {
            k.set_encryption(caller, &r, s(v, "KeyId").map(str::to_owned)).map_err(e)?;
            json!({})
        }
        "StopStreamEncryption" => {
            k.set_encryption(caller, &r, None).map_err(e)?;
            json!({})
        }
        "EnableEnhancedMonitoring" | "DisableEnhancedMonitoring" => {
            let (before, after, name) =
                k.set_metrics(caller, &r, &strings(v, "ShardLevelMetrics"), op.starts_with("Enable")).map_err(e)?;
            let arn = k.describe(caller, &r).map_err(e)?.arn();
            json!({ "StreamName": name, "StreamARN": arn, "CurrentShardLevelMetrics": before, "DesiredShardLevelMetrics": after })
        }
        "DescribeLimits" => {
            let (streams, _) = k.list(caller, None, usize::MAX);
            let open: usize = streams.iter().map(|x| x.open_shards().count()).sum();
            json!({ "ShardLimit": 500, "OpenShardCount": open, "OnDemandStreamCount": streams.iter().filter(|x| x.mode == "ON_DEMAND").count(), "OnDemandStreamCountLimit": 50 })
        }
        "UpdateStreamMode" => {
            let mode = v.get("StreamModeDetails").and_then(|m| s(m, "StreamMode")).unwrap_or("PROVISIONED");
            k.set_mode(caller, s(v, "StreamARN").unwrap_or_default(), mode).map_err(e)?;
            json!({})
        }
        other => return Err(ServiceError::not_implemented("kinesis", other)),
    })
}
