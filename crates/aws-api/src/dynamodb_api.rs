//! DynamoDB and DynamoDB Streams (json 1.0 protocol, `X-Amz-Target:
//! DynamoDB_20120810.<Operation>` and `DynamoDBStreams_20120810.<Operation>`). The
//! protocol layer reads and checks the input against the models; this module turns input
//! trees into service calls (attribute values through `dynamodb::json`) and results into
//! output trees.

use std::collections::HashMap;

use dynamodb::batch::{GetRequest, WriteRequest};
use dynamodb::expr::legacy;
use dynamodb::items::{Consumed, Expressions, WriteOptions};
use dynamodb::json::{item_json, item_of, value_of};
use dynamodb::query::ReadInput;
use dynamodb::tables::{Described, IndexInput, TableUpdate};
use dynamodb::transact::{Action, ActionKind};
use dynamodb::{Caller, DynamoError, DynamoService, Item, TableInput};
use protocol::ServiceError;
use serde_json::{json, Map, Value};

/// DynamoDB's operations served.
pub(crate) const OPERATIONS: &[&str] = &[
    "CreateTable",
    "DescribeTable",
    "ListTables",
    "UpdateTable",
    "DeleteTable",
    "UpdateTimeToLive",
    "DescribeTimeToLive",
    "DescribeLimits",
    "DescribeEndpoints",
    "DescribeContinuousBackups",
    "UpdateContinuousBackups",
    "PutItem",
    "GetItem",
    "UpdateItem",
    "DeleteItem",
    "BatchGetItem",
    "BatchWriteItem",
    "Query",
    "Scan",
    "TransactWriteItems",
    "TransactGetItems",
    "TagResource",
    "UntagResource",
    "ListTagsOfResource",
];

/// The operations that read or write one item: short enough for the async workers.
pub(crate) const SINGLE_ITEM: &[&str] = &["PutItem", "GetItem", "UpdateItem", "DeleteItem"];

/// DynamoDB Streams' operations served.
pub(crate) const STREAM_OPERATIONS: &[&str] = &["ListStreams", "DescribeStream", "GetShardIterator", "GetRecords"];

/// The largest request body read: a batch of 25 items of 400 KB, or 100 transaction
/// actions, with room for JSON.
pub(crate) const MAX_BODY: usize = 16 * 1024 * 1024;

/// A DynamoDB error as the protocol layer writes it; the one place they are mapped.
pub(crate) fn service_error(e: &DynamoError) -> ServiceError {
    let code = match e {
        DynamoError::Validation(_) => "ValidationException",
        DynamoError::NotFound(_) => "ResourceNotFoundException",
        DynamoError::InUse(_) => "ResourceInUseException",
        DynamoError::ConditionFailed(_) => "ConditionalCheckFailedException",
        DynamoError::TransactionCanceled(_) => "TransactionCanceledException",
        DynamoError::IdempotentMismatch(_) => "IdempotentParameterMismatchException",
        DynamoError::LimitExceeded(_) => "LimitExceededException",
        DynamoError::ExpiredIterator(_) => "ExpiredIteratorException",
        DynamoError::TrimmedData(_) => "TrimmedDataAccessException",
        DynamoError::Internal(_) => "InternalServerError",
    };
    let mut out = ServiceError::new(code, e.to_string());
    match e {
        DynamoError::ConditionFailed(Some(item)) => out = out.field("Item", item_json(item)),
        DynamoError::TransactionCanceled(reasons) => {
            let list: Vec<Value> = reasons
                .iter()
                .map(|r| {
                    let mut m = Map::new();
                    if let Some(i) = &r.item {
                        m.insert("Item".into(), item_json(i));
                    }
                    m.insert("Code".into(), json!(r.code));
                    if let Some(msg) = &r.message {
                        m.insert("Message".into(), json!(msg));
                    }
                    Value::Object(m)
                })
                .collect();
            out = out.field("CancellationReasons", Value::Array(list));
        }
        DynamoError::Internal(_) => out = out.status(500),
        _ => {}
    }
    out
}

fn invalid(msg: impl Into<String>) -> ServiceError {
    service_error(&DynamoError::Validation(msg.into()))
}

fn s<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn owned(v: &Value, key: &str) -> Option<String> {
    s(v, key).map(str::to_owned)
}

fn item(v: &Value, key: &str) -> Result<Item, ServiceError> {
    item_of(v.get(key).unwrap_or(&Value::Null)).map_err(invalid)
}

fn key_schema(v: &Value) -> Vec<(String, String)> {
    v.as_array()
        .map(|l| l.iter().filter_map(|k| Some((owned(k, "AttributeName")?, owned(k, "KeyType")?))).collect())
        .unwrap_or_default()
}

fn throughput(v: &Value) -> Option<(i64, i64)> {
    let t = v.get("ProvisionedThroughput")?;
    Some((t.get("ReadCapacityUnits")?.as_i64()?, t.get("WriteCapacityUnits")?.as_i64()?))
}

fn index_inputs(v: Option<&Value>) -> Vec<IndexInput> {
    v.and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .map(|i| IndexInput {
                    name: owned(i, "IndexName").unwrap_or_default(),
                    key: key_schema(i.get("KeySchema").unwrap_or(&Value::Null)),
                    projection: i.get("Projection").and_then(|p| owned(p, "ProjectionType")),
                    non_key: i
                        .get("Projection")
                        .and_then(|p| p.get("NonKeyAttributes"))
                        .and_then(Value::as_array)
                        .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect())
                        .unwrap_or_default(),
                    throughput: throughput(i),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn stream_spec(v: &Value) -> Option<(bool, Option<String>)> {
    let s = v.get("StreamSpecification")?;
    Some((s.get("StreamEnabled").and_then(Value::as_bool).unwrap_or(false), owned(s, "StreamViewType")))
}

fn sse_spec(v: &Value) -> Option<(Option<bool>, Option<String>, Option<String>)> {
    let s = v.get("SSESpecification")?;
    Some((s.get("Enabled").and_then(Value::as_bool), owned(s, "SSEType"), owned(s, "KMSMasterKeyId")))
}

fn attributes(v: &Value) -> Vec<(String, String)> {
    v.get("AttributeDefinitions")
        .and_then(Value::as_array)
        .map(|l| l.iter().filter_map(|a| Some((owned(a, "AttributeName")?, owned(a, "AttributeType")?))).collect())
        .unwrap_or_default()
}

fn tags(v: &Value) -> Vec<(String, String)> {
    v.get("Tags")
        .and_then(Value::as_array)
        .map(|l| l.iter().filter_map(|t| Some((owned(t, "Key")?, owned(t, "Value").unwrap_or_default()))).collect())
        .unwrap_or_default()
}

fn legacy_conditions(v: Option<&Value>) -> Result<Option<Vec<legacy::Condition>>, ServiceError> {
    let Some(m) = v.and_then(Value::as_object) else { return Ok(None) };
    let mut out = Vec::new();
    for (attr, c) in m {
        let values = match c.get("AttributeValueList").and_then(Value::as_array) {
            Some(l) => l.iter().map(|x| value_of(x).map_err(invalid)).collect::<Result<Vec<_>, _>>()?,
            None => Vec::new(),
        };
        let value = match c.get("Value") {
            Some(x) => Some(value_of(x).map_err(invalid)?),
            None => None,
        };
        out.push(legacy::Condition {
            attribute: attr.clone(),
            operator: owned(c, "ComparisonOperator"),
            values,
            value,
            exists: c.get("Exists").and_then(Value::as_bool),
        });
    }
    Ok(Some(out))
}

/// A request's expressions, placeholders and legacy parameters.
fn exprs_of(v: &Value) -> Result<Expressions, ServiceError> {
    let names = v
        .get("ExpressionAttributeNames")
        .and_then(Value::as_object)
        .map(|m| m.iter().filter_map(|(k, x)| Some((k.clone(), x.as_str()?.to_owned()))).collect::<HashMap<_, _>>());
    let values = match v.get("ExpressionAttributeValues").and_then(Value::as_object) {
        Some(m) => {
            let mut out = HashMap::new();
            for (k, x) in m {
                let val = value_of(x).map_err(|e| {
                    invalid(format!("ExpressionAttributeValues contains invalid value: {e} for key {k}"))
                })?;
                dynamodb::value::check_sets(&val).map_err(|e| {
                    invalid(format!("ExpressionAttributeValues contains invalid value: One or more parameter values were invalid: {e} for key {k}"))
                })?;
                out.insert(k.clone(), val);
            }
            Some(out)
        }
        None => None,
    };
    let filter = if v.get("QueryFilter").is_some() { v.get("QueryFilter") } else { v.get("ScanFilter") };
    let attribute_updates = match v.get("AttributeUpdates").and_then(Value::as_object) {
        Some(m) => {
            let mut out = Vec::new();
            for (attr, u) in m {
                let value = match u.get("Value") {
                    Some(x) => Some(value_of(x).map_err(invalid)?),
                    None => None,
                };
                out.push(legacy::AttributeUpdate { attribute: attr.clone(), action: owned(u, "Action"), value });
            }
            Some(out)
        }
        None => None,
    };
    Ok(Expressions {
        names,
        values,
        condition: owned(v, "ConditionExpression"),
        filter: owned(v, "FilterExpression"),
        key_condition: owned(v, "KeyConditionExpression"),
        projection: owned(v, "ProjectionExpression"),
        update: owned(v, "UpdateExpression"),
        expected: legacy_conditions(v.get("Expected"))?,
        legacy_filter: legacy_conditions(filter)?,
        key_conditions: legacy_conditions(v.get("KeyConditions"))?,
        attribute_updates,
        attributes_to_get: v
            .get("AttributesToGet")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect()),
        conditional_operator: owned(v, "ConditionalOperator"),
    })
}

fn secs(ms: i64) -> Value {
    json!(ms as f64 / 1000.0)
}

fn key_schema_json(hash: &str, range: Option<&str>) -> Value {
    let mut l = vec![json!({ "AttributeName": hash, "KeyType": "HASH" })];
    if let Some(r) = range {
        l.push(json!({ "AttributeName": r, "KeyType": "RANGE" }));
    }
    Value::Array(l)
}

fn throughput_json(read: i64, write: i64) -> Value {
    json!({ "NumberOfDecreasesToday": 0, "ReadCapacityUnits": read, "WriteCapacityUnits": write })
}

/// A table's description; `full` for DescribeTable (warm throughput, billing since).
fn table_json(d: &Described, full: bool) -> Value {
    let t = &d.table;
    let mut o = Map::new();
    let deleting = d.status == "DELETING";
    if !deleting {
        o.insert(
            "AttributeDefinitions".into(),
            Value::Array(
                t.attributes.iter().map(|(n, ty)| json!({ "AttributeName": n, "AttributeType": ty })).collect(),
            ),
        );
    }
    if t.billing == "PAY_PER_REQUEST" || t.on_demand_since_ms.is_some() && full {
        let mut b = Map::new();
        b.insert("BillingMode".into(), json!(t.billing));
        if full {
            if let Some(since) = t.on_demand_since_ms {
                b.insert("LastUpdateToPayPerRequestDateTime".into(), secs(since));
            }
        }
        o.insert("BillingModeSummary".into(), Value::Object(b));
    }
    if !deleting {
        o.insert("CreationDateTime".into(), secs(t.created_ms));
    }
    o.insert("DeletionProtectionEnabled".into(), json!(t.deletion_protection));
    if !deleting && !t.gsis.is_empty() {
        let list: Vec<Value> = t
            .gsis
            .iter()
            .map(|g| {
                let mut i = index_json(t, g, d.items, d.bytes);
                i.insert("IndexStatus".into(), json!("ACTIVE"));
                i.insert("ProvisionedThroughput".into(), throughput_json(g.read, g.write));
                if full {
                    let (r, w) = if t.billing == "PAY_PER_REQUEST" { (12000, 4000) } else { (g.read, g.write) };
                    i.insert(
                        "WarmThroughput".into(),
                        json!({ "ReadUnitsPerSecond": r, "Status": "ACTIVE", "WriteUnitsPerSecond": w }),
                    );
                }
                Value::Object(i)
            })
            .collect();
        o.insert("GlobalSecondaryIndexes".into(), Value::Array(list));
    }
    o.insert("ItemCount".into(), json!(d.items));
    if !deleting {
        o.insert("KeySchema".into(), key_schema_json(&t.hash, t.range.as_deref()));
        if let Some(s) = t.streams.last() {
            o.insert("LatestStreamArn".into(), json!(t.stream_arn(s)));
            o.insert("LatestStreamLabel".into(), json!(s.label));
        }
        if !t.lsis.is_empty() {
            let list: Vec<Value> = t.lsis.iter().map(|l| Value::Object(index_json(t, l, d.items, d.bytes))).collect();
            o.insert("LocalSecondaryIndexes".into(), Value::Array(list));
        }
    }
    o.insert("ProvisionedThroughput".into(), throughput_json(t.read, t.write));
    if let Some(sse) = &t.sse {
        o.insert(
            "SSEDescription".into(),
            json!({ "Status": "ENABLED", "SSEType": sse.kind, "KMSMasterKeyArn": sse.key_arn }),
        );
    }
    if !deleting {
        if let Some(s) = t.streams.last().filter(|s| s.enabled) {
            o.insert("StreamSpecification".into(), json!({ "StreamEnabled": true, "StreamViewType": s.view }));
        }
    }
    o.insert("TableArn".into(), json!(t.arn()));
    if let Some(c) = &t.table_class {
        if !deleting {
            o.insert("TableClassSummary".into(), json!({ "TableClass": c }));
        }
    }
    o.insert("TableId".into(), json!(t.id));
    o.insert("TableName".into(), json!(t.name));
    o.insert("TableSizeBytes".into(), json!(d.bytes));
    o.insert("TableStatus".into(), json!(d.status));
    // Warm throughput asked for shows from the start (still `UPDATING` as the table is
    // created); otherwise DescribeTable shows what the billing mode gives.
    let warm = match (t.warm, full) {
        (Some(w), _) => Some((w, if d.status == "CREATING" { "UPDATING" } else { "ACTIVE" })),
        (None, true) if t.billing == "PAY_PER_REQUEST" => Some(((12000, 4000), "ACTIVE")),
        (None, true) => Some(((t.read, t.write), "ACTIVE")),
        (None, false) => None,
    };
    if let Some(((r, w), status)) = warm.filter(|_| !deleting) {
        o.insert(
            "WarmThroughput".into(),
            json!({ "ReadUnitsPerSecond": r, "Status": status, "WriteUnitsPerSecond": w }),
        );
    }
    Value::Object(o)
}

fn index_json(t: &dynamodb::Table, i: &dynamodb::tables::Index, _items: u64, _bytes: u64) -> Map<String, Value> {
    let mut o = Map::new();
    o.insert("IndexArn".into(), json!(format!("{}/index/{}", t.arn(), i.name)));
    o.insert("IndexName".into(), json!(i.name));
    o.insert("IndexSizeBytes".into(), json!(0));
    o.insert("ItemCount".into(), json!(0));
    o.insert("KeySchema".into(), key_schema_json(&i.hash, i.range.as_deref()));
    let mut p = Map::new();
    if !i.non_key.is_empty() {
        p.insert("NonKeyAttributes".into(), json!(i.non_key));
    }
    p.insert("ProjectionType".into(), json!(i.projection));
    o.insert("Projection".into(), Value::Object(p));
    o
}

/// `ConsumedCapacity` as the request asked for it (`TOTAL` or `INDEXES`), or nothing.
fn consumed_json(input: &Value, c: &Consumed) -> Option<Value> {
    match s(input, "ReturnConsumedCapacity") {
        Some("TOTAL") => Some(json!({ "TableName": c.table, "CapacityUnits": c.units })),
        Some("INDEXES") => {
            Some(json!({ "TableName": c.table, "CapacityUnits": c.units, "Table": { "CapacityUnits": c.units } }))
        }
        _ => None,
    }
}

fn consumed_list(input: &Value, list: &[Consumed]) -> Option<Value> {
    let all: Vec<Value> = list.iter().filter_map(|c| consumed_json(input, c)).collect();
    (!all.is_empty()).then_some(Value::Array(all))
}

fn write_options(v: &Value) -> WriteOptions {
    WriteOptions {
        return_values: owned(v, "ReturnValues"),
        old_on_failure: s(v, "ReturnValuesOnConditionCheckFailure") == Some("ALL_OLD"),
    }
}

fn written(input: &Value, w: dynamodb::items::Written) -> Value {
    let mut o = Map::new();
    if let Some(a) = w.attributes {
        o.insert("Attributes".into(), item_json(&a));
    }
    if let Some(c) = w.consumed.as_ref().and_then(|c| consumed_json(input, c)) {
        o.insert("ConsumedCapacity".into(), c);
    }
    Value::Object(o)
}

fn read_input(v: &Value) -> Result<ReadInput, ServiceError> {
    let start = match v.get("ExclusiveStartKey") {
        Some(k) => Some(item_of(k).map_err(invalid)?),
        None => None,
    };
    Ok(ReadInput {
        table: owned(v, "TableName").unwrap_or_default(),
        index: owned(v, "IndexName"),
        exprs: exprs_of(v)?,
        limit: v.get("Limit").and_then(Value::as_u64).map(|l| l as usize),
        start,
        forward: v.get("ScanIndexForward").and_then(Value::as_bool),
        select: owned(v, "Select"),
        consistent: v.get("ConsistentRead").and_then(Value::as_bool).unwrap_or(false),
        segment: v.get("Segment").and_then(Value::as_u64).map(|x| x as u32),
        total_segments: v.get("TotalSegments").and_then(Value::as_u64).map(|x| x as u32),
    })
}

fn read_output(input: &Value, out: dynamodb::query::ReadOutput) -> Value {
    let mut o = Map::new();
    if let Some(items) = &out.items {
        o.insert("Items".into(), Value::Array(items.iter().map(item_json).collect()));
    }
    o.insert("Count".into(), json!(out.count));
    o.insert("ScannedCount".into(), json!(out.scanned));
    if let Some(k) = &out.last_key {
        o.insert("LastEvaluatedKey".into(), item_json(k));
    }
    if let Some(c) = out.consumed.as_ref().and_then(|c| consumed_json(input, c)) {
        o.insert("ConsumedCapacity".into(), c);
    }
    Value::Object(o)
}

fn table_name(v: &Value) -> String {
    owned(v, "TableName").unwrap_or_default()
}

fn transact_actions(v: &Value) -> Result<Vec<Action>, ServiceError> {
    let mut out = Vec::new();
    for a in v.get("TransactItems").and_then(Value::as_array).into_iter().flatten() {
        let (kind_name, body) = ["ConditionCheck", "Put", "Delete", "Update"]
            .iter()
            .find_map(|k| a.get(*k).map(|b| (*k, b)))
            .ok_or_else(|| invalid("TransactItems can only contain one of Check, Put, Update or Delete"))?;
        let kind = match kind_name {
            "ConditionCheck" => ActionKind::Check,
            "Put" => ActionKind::Put(item(body, "Item")?),
            "Delete" => ActionKind::Delete,
            _ => ActionKind::Update,
        };
        let key = if kind_name == "Put" { Item::new() } else { item(body, "Key")? };
        out.push(Action {
            table: table_name(body),
            key,
            kind,
            exprs: exprs_of(body)?,
            old_on_failure: s(body, "ReturnValuesOnConditionCheckFailure") == Some("ALL_OLD"),
        });
    }
    Ok(out)
}

/// Runs a DynamoDB operation. `host` is the request's, for DescribeEndpoints.
pub(crate) fn run(d: &DynamoService, caller: &Caller, host: &str, op: &str, v: &Value) -> Result<Value, ServiceError> {
    let e = |e: DynamoError| service_error(&e);
    Ok(match op {
        "CreateTable" => {
            let input = TableInput {
                name: table_name(v),
                attributes: attributes(v),
                key: key_schema(v.get("KeySchema").unwrap_or(&Value::Null)),
                billing: owned(v, "BillingMode"),
                throughput: throughput(v),
                gsis: index_inputs(v.get("GlobalSecondaryIndexes")),
                lsis: index_inputs(v.get("LocalSecondaryIndexes")),
                stream: stream_spec(v),
                sse: sse_spec(v),
                tags: tags(v),
                table_class: owned(v, "TableClass"),
                deletion_protection: v.get("DeletionProtectionEnabled").and_then(Value::as_bool),
                warm: v.get("WarmThroughput").and_then(|w| {
                    Some((w.get("ReadUnitsPerSecond")?.as_i64()?, w.get("WriteUnitsPerSecond")?.as_i64()?))
                }),
            };
            json!({ "TableDescription": table_json(&d.create_table(caller, input).map_err(e)?, false) })
        }
        "DescribeTable" => json!({ "Table": table_json(&d.describe_table(caller, &table_name(v)).map_err(e)?, true) }),
        "DeleteTable" => {
            json!({ "TableDescription": table_json(&d.delete_table(caller, &table_name(v)).map_err(e)?, false) })
        }
        "ListTables" => {
            let limit = v.get("Limit").and_then(Value::as_u64).map_or(100, |l| l as usize);
            let (names, last) = d.list_tables(caller, s(v, "ExclusiveStartTableName"), limit);
            let mut o = json!({ "TableNames": names });
            if let Some(l) = last {
                o["LastEvaluatedTableName"] = json!(l);
            }
            o
        }
        "UpdateTable" => {
            let mut u = TableUpdate {
                attributes: attributes(v),
                billing: owned(v, "BillingMode"),
                throughput: throughput(v),
                stream: stream_spec(v),
                sse: sse_spec(v),
                table_class: owned(v, "TableClass"),
                deletion_protection: v.get("DeletionProtectionEnabled").and_then(Value::as_bool),
                ..TableUpdate::default()
            };
            for g in v.get("GlobalSecondaryIndexUpdates").and_then(Value::as_array).into_iter().flatten() {
                if let Some(c) = g.get("Create") {
                    u.create_indexes.extend(index_inputs(Some(&Value::Array(vec![c.clone()]))));
                }
                if let Some(x) = g.get("Delete") {
                    u.delete_indexes.push(owned(x, "IndexName").unwrap_or_default());
                }
                if let Some(x) = g.get("Update") {
                    if let Some(t) = throughput(x) {
                        u.update_indexes.push((owned(x, "IndexName").unwrap_or_default(), t));
                    }
                }
            }
            json!({ "TableDescription": table_json(&d.update_table(caller, &table_name(v), u).map_err(e)?, true) })
        }
        "UpdateTimeToLive" => {
            let spec = v.get("TimeToLiveSpecification").cloned().unwrap_or(Value::Null);
            let attr = owned(&spec, "AttributeName").unwrap_or_default();
            let enabled = spec.get("Enabled").and_then(Value::as_bool).unwrap_or(false);
            d.update_ttl(caller, &table_name(v), &attr, enabled).map_err(e)?;
            json!({ "TimeToLiveSpecification": { "Enabled": enabled, "AttributeName": attr } })
        }
        "DescribeTimeToLive" => {
            let desc = match d.describe_ttl(caller, &table_name(v)).map_err(e)? {
                Some((attr, true)) => json!({ "TimeToLiveStatus": "ENABLED", "AttributeName": attr }),
                _ => json!({ "TimeToLiveStatus": "DISABLED" }),
            };
            json!({ "TimeToLiveDescription": desc })
        }
        "DescribeLimits" => json!({
            "AccountMaxReadCapacityUnits": 80000,
            "AccountMaxWriteCapacityUnits": 80000,
            "TableMaxReadCapacityUnits": 40000,
            "TableMaxWriteCapacityUnits": 40000,
        }),
        "DescribeEndpoints" => json!({ "Endpoints": [{ "Address": host, "CachePeriodInMinutes": 1440 }] }),
        "DescribeContinuousBackups" => backups_json(&*d.definition(caller, &table_name(v)).map_err(e)?),
        "UpdateContinuousBackups" => {
            let on = v
                .get("PointInTimeRecoverySpecification")
                .and_then(|p| p.get("PointInTimeRecoveryEnabled"))
                .and_then(Value::as_bool)
                .unwrap_or(false);
            backups_json(&*d.set_pitr(caller, &table_name(v), on).map_err(e)?)
        }
        "PutItem" => {
            let w =
                d.put_item(caller, &table_name(v), item(v, "Item")?, &exprs_of(v)?, &write_options(v)).map_err(e)?;
            written(v, w)
        }
        "DeleteItem" => {
            let w =
                d.delete_item(caller, &table_name(v), &item(v, "Key")?, &exprs_of(v)?, &write_options(v)).map_err(e)?;
            written(v, w)
        }
        "UpdateItem" => {
            let w =
                d.update_item(caller, &table_name(v), &item(v, "Key")?, &exprs_of(v)?, &write_options(v)).map_err(e)?;
            written(v, w)
        }
        "GetItem" => {
            let consistent = v.get("ConsistentRead").and_then(Value::as_bool).unwrap_or(false);
            let (found, consumed) =
                d.get_item(caller, &table_name(v), &item(v, "Key")?, &exprs_of(v)?, consistent).map_err(e)?;
            let mut o = Map::new();
            if let Some(i) = found {
                o.insert("Item".into(), item_json(&i));
            }
            if let Some(c) = consumed_json(v, &consumed) {
                o.insert("ConsumedCapacity".into(), c);
            }
            Value::Object(o)
        }
        "Query" => read_output(v, d.query(caller, &read_input(v)?).map_err(e)?),
        "Scan" => read_output(v, d.scan(caller, &read_input(v)?).map_err(e)?),
        "BatchGetItem" => {
            let mut requests = Vec::new();
            for (t, r) in v.get("RequestItems").and_then(Value::as_object).into_iter().flatten() {
                let keys = r
                    .get("Keys")
                    .and_then(Value::as_array)
                    .map(|l| l.iter().map(|k| item_of(k).map_err(invalid)).collect::<Result<Vec<_>, _>>())
                    .transpose()?
                    .unwrap_or_default();
                let consistent = r.get("ConsistentRead").and_then(Value::as_bool).unwrap_or(false);
                requests.push((t.clone(), GetRequest { keys, exprs: exprs_of(r)?, consistent }));
            }
            let (found, consumed) = d.batch_get(caller, &requests).map_err(e)?;
            let responses: Map<String, Value> =
                found.into_iter().map(|(t, items)| (t, Value::Array(items.iter().map(item_json).collect()))).collect();
            let mut o = json!({ "Responses": responses, "UnprocessedKeys": {} });
            if let Some(c) = consumed_list(v, &consumed) {
                o["ConsumedCapacity"] = c;
            }
            o
        }
        "BatchWriteItem" => {
            let mut requests = Vec::new();
            for (t, list) in v.get("RequestItems").and_then(Value::as_object).into_iter().flatten() {
                let mut writes = Vec::new();
                for w in list.as_array().into_iter().flatten() {
                    if let Some(p) = w.get("PutRequest") {
                        writes.push(WriteRequest::Put(item(p, "Item")?));
                    } else if let Some(x) = w.get("DeleteRequest") {
                        writes.push(WriteRequest::Delete(item(x, "Key")?));
                    } else {
                        return Err(invalid("Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes"));
                    }
                }
                requests.push((t.clone(), writes));
            }
            let consumed = d.batch_write(caller, &requests).map_err(e)?;
            let mut o = json!({ "UnprocessedItems": {} });
            if let Some(c) = consumed_list(v, &consumed) {
                o["ConsumedCapacity"] = c;
            }
            o
        }
        "TransactWriteItems" => {
            let actions = transact_actions(v)?;
            let token = owned(v, "ClientRequestToken");
            let digest = {
                let mut body = v.clone();
                if let Some(o) = body.as_object_mut() {
                    o.remove("ClientRequestToken");
                }
                canonical(&body)
            };
            let consumed =
                d.transact_write(caller, &actions, token.as_deref().map(|t| (t, digest.as_str()))).map_err(e)?;
            let mut o = json!({});
            if let Some(c) = consumed_list(v, &consumed) {
                o["ConsumedCapacity"] = c;
            }
            o
        }
        "TransactGetItems" => {
            let mut gets = Vec::new();
            for g in v.get("TransactItems").and_then(Value::as_array).into_iter().flatten() {
                let body = g.get("Get").cloned().unwrap_or(Value::Null);
                gets.push((table_name(&body), item(&body, "Key")?, exprs_of(&body)?));
            }
            let (found, consumed) = d.transact_get(caller, &gets).map_err(e)?;
            let responses: Vec<Value> = found
                .iter()
                .map(|i| match i {
                    Some(i) => json!({ "Item": item_json(i) }),
                    None => json!({}),
                })
                .collect();
            let mut o = json!({ "Responses": responses });
            if let Some(c) = consumed_list(v, &consumed) {
                o["ConsumedCapacity"] = c;
            }
            o
        }
        "TagResource" => {
            d.tag(caller, s(v, "ResourceArn").unwrap_or_default(), tags(v)).map_err(e)?;
            json!({})
        }
        "UntagResource" => {
            let keys: Vec<String> = v
                .get("TagKeys")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect())
                .unwrap_or_default();
            d.untag(caller, s(v, "ResourceArn").unwrap_or_default(), &keys).map_err(e)?;
            json!({})
        }
        "ListTagsOfResource" => {
            let t = d.tags(caller, s(v, "ResourceArn").unwrap_or_default()).map_err(e)?;
            json!({ "Tags": t.iter().map(|(k, v)| json!({ "Key": k, "Value": v })).collect::<Vec<_>>() })
        }
        other => return Err(ServiceError::not_implemented("dynamodb", other)),
    })
}

/// A JSON value as text with every object's keys in order: two requests that differ only
/// in the order of their members read the same.
fn canonical(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys.iter().map(|k| format!("{}:{}", json!(k), canonical(&m[*k]))).collect();
            format!("{{{}}}", parts.join(","))
        }
        Value::Array(l) => format!("[{}]", l.iter().map(canonical).collect::<Vec<_>>().join(",")),
        other => other.to_string(),
    }
}

fn backups_json(t: &dynamodb::Table) -> Value {
    json!({ "ContinuousBackupsDescription": {
        "ContinuousBackupsStatus": "ENABLED",
        "PointInTimeRecoveryDescription": { "PointInTimeRecoveryStatus": if t.pitr { "ENABLED" } else { "DISABLED" } },
    }})
}

/// Runs a DynamoDB Streams operation.
pub(crate) fn run_streams(d: &DynamoService, caller: &Caller, op: &str, v: &Value) -> Result<Value, ServiceError> {
    let e = |e: DynamoError| service_error(&e);
    Ok(match op {
        "ListStreams" => {
            let limit = v.get("Limit").and_then(Value::as_u64).map_or(100, |l| l as usize);
            let (streams, last) =
                d.list_streams(caller, s(v, "TableName"), s(v, "ExclusiveStartStreamArn"), limit).map_err(e)?;
            let list: Vec<Value> = streams
                .iter()
                .map(|st| json!({ "StreamArn": st.arn, "TableName": st.table, "StreamLabel": st.label }))
                .collect();
            let mut o = json!({ "Streams": list });
            if let Some(l) = last {
                o["LastEvaluatedStreamArn"] = json!(l);
            }
            o
        }
        "DescribeStream" => {
            let st = d.describe_stream(caller, s(v, "StreamArn").unwrap_or_default()).map_err(e)?;
            let mut range = Map::new();
            let start = st.span.map_or(1, |(lo, _)| lo);
            range.insert("StartingSequenceNumber".into(), json!(dynamodb::streams::sequence_number(start)));
            if !st.enabled {
                if let Some((_, hi)) = st.span {
                    range.insert("EndingSequenceNumber".into(), json!(dynamodb::streams::sequence_number(hi)));
                }
            }
            let shards = if s(v, "ExclusiveStartShardId") == Some(st.shard.as_str()) {
                Vec::new()
            } else {
                vec![json!({ "ShardId": st.shard, "SequenceNumberRange": Value::Object(range) })]
            };
            json!({ "StreamDescription": {
                "StreamArn": st.arn,
                "StreamLabel": st.label,
                "StreamStatus": if st.enabled { "ENABLED" } else { "DISABLED" },
                "StreamViewType": st.view,
                "CreationRequestDateTime": secs(st.created_ms),
                "TableName": st.table,
                "KeySchema": key_schema_json(&st.key.0, st.key.1.as_deref()),
                "Shards": shards,
            }})
        }
        "GetShardIterator" => {
            let it = d
                .shard_iterator(
                    caller,
                    s(v, "StreamArn").unwrap_or_default(),
                    s(v, "ShardId").unwrap_or_default(),
                    s(v, "ShardIteratorType").unwrap_or_default(),
                    s(v, "SequenceNumber"),
                )
                .map_err(e)?;
            json!({ "ShardIterator": it })
        }
        "GetRecords" => {
            let limit = v.get("Limit").and_then(Value::as_u64).map_or(1000, |l| l as usize);
            let (mut records, next) =
                d.get_records(caller, s(v, "ShardIterator").unwrap_or_default(), limit).map_err(e)?;
            // The Streams API names the identity's members as its model does; Lambda's
            // events name them in lower case.
            for r in &mut records {
                if let Some(u) = r.get("userIdentity").cloned() {
                    r["userIdentity"] = json!({ "PrincipalId": u["principalId"], "Type": u["type"] });
                }
            }
            let mut o = json!({ "Records": records });
            if let Some(n) = next {
                o["NextShardIterator"] = json!(n);
            }
            o
        }
        other => return Err(ServiceError::not_implemented("dynamodbstreams", other)),
    })
}
