//! Tables: CreateTable's checks in DynamoDB's words, DescribeTable's facts, UpdateTable
//! (billing, throughput, indexes added and removed, the stream turned on or off),
//! DeleteTable, ListTables, TTL and tags. A table is `ACTIVE` as soon as it is created.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use model::sync::RwLock;
use serde::{Deserialize, Serialize};

use crate::{invalid, Caller, DynamoError, DynamoService, TableState};

/// A secondary index's definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Index {
    /// Its name.
    pub name: String,
    /// Its partition key attribute.
    pub hash: String,
    /// Its sort key attribute.
    pub range: Option<String>,
    /// `ALL`, `KEYS_ONLY` or `INCLUDE`.
    pub projection: String,
    /// `INCLUDE`'s attributes.
    pub non_key: Vec<String>,
    /// Provisioned read and write capacity (0 on demand).
    pub read: i64,
    /// Provisioned write capacity.
    pub write: i64,
}

/// A stream a table has had: its label (a timestamp) and view type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamDef {
    /// `2024-11-18T14:36:44.149`.
    pub label: String,
    /// `KEYS_ONLY`, `NEW_IMAGE`, `OLD_IMAGE` or `NEW_AND_OLD_IMAGES`.
    pub view: String,
    /// Whether the table still writes to it.
    pub enabled: bool,
    /// When it was created (ms).
    pub created_ms: i64,
}

/// Server-side encryption as asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sse {
    /// `KMS` (the only type besides DynamoDB's owned key, which shows no description).
    pub kind: String,
    /// The key's ARN.
    pub key_arn: String,
}

/// A table's definition, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    /// Its row in the store.
    #[serde(skip)]
    pub row: i64,
    /// Its account.
    pub account: String,
    /// Its region.
    pub region: String,
    /// Its name.
    pub name: String,
    /// `TableId`.
    pub id: String,
    /// When it was created (ms).
    pub created_ms: i64,
    /// Attribute definitions: name and `S`, `N` or `B`.
    pub attributes: Vec<(String, String)>,
    /// The partition key.
    pub hash: String,
    /// The sort key.
    pub range: Option<String>,
    /// `PROVISIONED` or `PAY_PER_REQUEST`.
    pub billing: String,
    /// When it last became `PAY_PER_REQUEST`.
    pub on_demand_since_ms: Option<i64>,
    /// Provisioned read capacity.
    pub read: i64,
    /// Provisioned write capacity.
    pub write: i64,
    /// Global secondary indexes.
    pub gsis: Vec<Index>,
    /// Local secondary indexes.
    pub lsis: Vec<Index>,
    /// Its streams, the latest last.
    pub streams: Vec<StreamDef>,
    /// KMS encryption, when asked for.
    pub sse: Option<Sse>,
    /// Tags, in the order given.
    pub tags: Vec<(String, String)>,
    /// The TTL attribute, and whether TTL is on.
    pub ttl: Option<(String, bool)>,
    /// `STANDARD` or `STANDARD_INFREQUENT_ACCESS`.
    pub table_class: Option<String>,
    /// Whether DeleteTable is refused.
    pub deletion_protection: bool,
    /// Point-in-time recovery (stored, not performed).
    pub pitr: bool,
    /// Warm throughput asked for: read and write units per second.
    #[serde(default)]
    pub warm: Option<(i64, i64)>,
}

impl Table {
    /// `arn:aws:dynamodb:<region>:<account>:table/<name>`.
    pub fn arn(&self) -> String {
        format!("arn:aws:dynamodb:{}:{}:table/{}", self.region, self.account, self.name)
    }

    /// The type (`S`, `N`, `B`) of a defined attribute.
    pub fn attribute_type(&self, name: &str) -> Option<&str> {
        self.attributes.iter().find(|(n, _)| n == name).map(|(_, t)| t.as_str())
    }

    /// A secondary index by name.
    pub fn index(&self, name: &str) -> Option<(&Index, bool)> {
        self.gsis
            .iter()
            .find(|i| i.name == name)
            .map(|i| (i, true))
            .or_else(|| self.lsis.iter().find(|i| i.name == name).map(|i| (i, false)))
    }

    /// The stream writes go to.
    pub fn live_stream(&self) -> Option<&StreamDef> {
        self.streams.last().filter(|s| s.enabled)
    }

    /// A stream's ARN.
    pub fn stream_arn(&self, s: &StreamDef) -> String {
        format!("{}/stream/{}", self.arn(), s.label)
    }

    /// Whether the attribute is a key of the table or of an index.
    pub fn is_key(&self, name: &str) -> bool {
        self.hash == name || self.range.as_deref() == Some(name)
    }
}

/// A secondary index as CreateTable or UpdateTable gives it.
#[derive(Debug, Clone, Default)]
pub struct IndexInput {
    /// Its name.
    pub name: String,
    /// Key schema: attribute and `HASH` or `RANGE`.
    pub key: Vec<(String, String)>,
    /// `ProjectionType`.
    pub projection: Option<String>,
    /// `NonKeyAttributes`.
    pub non_key: Vec<String>,
    /// Provisioned read and write capacity.
    pub throughput: Option<(i64, i64)>,
}

/// CreateTable's input.
#[derive(Debug, Clone, Default)]
pub struct TableInput {
    /// The name.
    pub name: String,
    /// Attribute definitions.
    pub attributes: Vec<(String, String)>,
    /// Key schema: attribute and `HASH` or `RANGE`.
    pub key: Vec<(String, String)>,
    /// `BillingMode`.
    pub billing: Option<String>,
    /// Provisioned read and write capacity.
    pub throughput: Option<(i64, i64)>,
    /// Global secondary indexes.
    pub gsis: Vec<IndexInput>,
    /// Local secondary indexes.
    pub lsis: Vec<IndexInput>,
    /// `StreamSpecification`: enabled, view type.
    pub stream: Option<(bool, Option<String>)>,
    /// `SSESpecification`: enabled, type, key.
    pub sse: Option<(Option<bool>, Option<String>, Option<String>)>,
    /// Tags.
    pub tags: Vec<(String, String)>,
    /// `TableClass`.
    pub table_class: Option<String>,
    /// `DeletionProtectionEnabled`.
    pub deletion_protection: Option<bool>,
    /// `WarmThroughput`: read and write units per second.
    pub warm: Option<(i64, i64)>,
}

/// UpdateTable's input.
#[derive(Debug, Clone, Default)]
pub struct TableUpdate {
    /// New attribute definitions (for new indexes).
    pub attributes: Vec<(String, String)>,
    /// `BillingMode`.
    pub billing: Option<String>,
    /// `ProvisionedThroughput`.
    pub throughput: Option<(i64, i64)>,
    /// Indexes to create.
    pub create_indexes: Vec<IndexInput>,
    /// Indexes to delete.
    pub delete_indexes: Vec<String>,
    /// Indexes' new throughput.
    pub update_indexes: Vec<(String, (i64, i64))>,
    /// `StreamSpecification`.
    pub stream: Option<(bool, Option<String>)>,
    /// `SSESpecification`.
    pub sse: Option<(Option<bool>, Option<String>, Option<String>)>,
    /// `TableClass`.
    pub table_class: Option<String>,
    /// `DeletionProtectionEnabled`.
    pub deletion_protection: Option<bool>,
}

/// A table's description: its definition and its counts.
#[derive(Debug, Clone)]
pub struct Described {
    /// The definition.
    pub table: Arc<Table>,
    /// Items.
    pub items: u64,
    /// Bytes.
    pub bytes: u64,
    /// `CREATING`, `ACTIVE`, `UPDATING` or `DELETING`, as the answer says.
    pub status: &'static str,
}

/// The name a `TableName` parameter means: a table's ARN names its table.
pub fn name_of(name: &str) -> &str {
    match name.strip_prefix("arn:") {
        Some(rest) => rest.rsplit_once(":table/").map_or(name, |(_, n)| n.split('/').next().unwrap_or(n)),
        None => name,
    }
}

fn key_of(key: &[(String, String)], what: &str) -> Result<(String, Option<String>), DynamoError> {
    let hash: Vec<&String> = key.iter().filter(|(_, t)| t == "HASH").map(|(n, _)| n).collect();
    let range: Vec<&String> = key.iter().filter(|(_, t)| t == "RANGE").map(|(n, _)| n).collect();
    if key.first().is_none_or(|(_, t)| t != "HASH") {
        return Err(invalid(format!("Invalid KeySchema: The first KeySchemaElement is not a HASH key type{what}")));
    }
    if hash.len() > 1 {
        return Err(invalid(format!(
            "Too many hash keys specified.  All Dynamo DB tables must have exactly one hash key{what}"
        )));
    }
    if range.len() > 1 || key.len() > 2 {
        return Err(invalid(format!(
            "Too many range keys specified.  All Dynamo DB tables must have zero or one range key{what}"
        )));
    }
    if let Some(r) = range.first() {
        if *r == hash[0] {
            return Err(invalid("Both the Hash Key and the Range Key element in the KeySchema have the same name"));
        }
    }
    Ok((hash[0].clone(), range.first().map(|s| (*s).clone())))
}

fn index_of(i: &IndexInput, billing: &str, global: bool) -> Result<Index, DynamoError> {
    let (hash, range) = key_of(&i.key, "")?;
    let projection = i.projection.clone().unwrap_or_else(|| "ALL".into());
    if projection != "INCLUDE" && !i.non_key.is_empty() {
        return Err(invalid(format!(
            "One or more parameter values were invalid: ProjectionType is {projection}, but NonKeyAttributes is specified"
        )));
    }
    if projection == "INCLUDE" && i.non_key.is_empty() {
        return Err(invalid(
            "One or more parameter values were invalid: ProjectionType is INCLUDE, but NonKeyAttributes is not specified",
        ));
    }
    let (read, write) =
        match (global, billing, i.throughput) {
            (true, "PROVISIONED", Some(t)) => t,
            (true, "PROVISIONED", None) => {
                return Err(invalid(format!(
                    "One or more parameter values were invalid: ProvisionedThroughput must be specified for index: {}",
                    i.name
                )))
            }
            (true, _, Some(_)) => return Err(invalid(
                "One or more parameter values were invalid: ProvisionedThroughput should not be specified for index: "
                    .to_owned()
                    + &i.name
                    + " when BillingMode is PAY_PER_REQUEST",
            )),
            _ => (0, 0),
        };
    Ok(Index { name: i.name.clone(), hash, range, projection, non_key: i.non_key.clone(), read, write })
}

fn stream_view(spec: &(bool, Option<String>)) -> Result<Option<String>, DynamoError> {
    match spec {
        (true, Some(v)) => Ok(Some(v.clone())),
        (true, None) => Err(invalid(
            "One or more parameter values were invalid: StreamViewType must be specified when StreamEnabled is true",
        )),
        (false, Some(_)) => Err(invalid(
            "One or more parameter values were invalid: StreamViewType cannot be specified when StreamEnabled is false",
        )),
        (false, None) => Ok(None),
    }
}

fn label_at(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

fn sse_of(caller: &Caller, s: &(Option<bool>, Option<String>, Option<String>)) -> Option<Sse> {
    if s.0 != Some(true) {
        return None;
    }
    let key = s.2.clone().unwrap_or_else(|| "alias/aws/dynamodb".into());
    let key_arn = if key.starts_with("arn:") {
        key
    } else {
        format!(
            "arn:aws:kms:{}:{}:key/{}",
            caller.region,
            caller.account,
            key.trim_start_matches("alias/aws/").replace('/', "-")
        )
    };
    Some(Sse { kind: s.1.clone().unwrap_or_else(|| "KMS".into()), key_arn })
}

impl DynamoService {
    /// CreateTable.
    pub fn create_table(&self, caller: &Caller, input: TableInput) -> Result<Described, DynamoError> {
        let (hash, range) = key_of(&input.key, "")?;
        let billing = input.billing.clone().unwrap_or_else(|| "PROVISIONED".into());
        let (read, write) = match (billing.as_str(), input.throughput) {
            ("PAY_PER_REQUEST", Some(_)) => {
                return Err(invalid("One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST"));
            }
            ("PAY_PER_REQUEST", None) => (0, 0),
            (_, Some(t)) => t,
            (_, None) => {
                return Err(invalid("One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED"));
            }
        };
        if input.gsis.len() > 20 {
            return Err(DynamoError::LimitExceeded(
                "One or more parameter values were invalid: GlobalSecondaryIndex count exceeds the per-table limit of 20"
                    .into(),
            ));
        }
        if input.lsis.len() > 5 {
            return Err(invalid(
                "One or more parameter values were invalid: LocalSecondaryIndex count exceeds the per-table limit of 5",
            ));
        }
        let mut gsis = Vec::new();
        for g in &input.gsis {
            gsis.push(index_of(g, &billing, true)?);
        }
        let mut lsis = Vec::new();
        for l in &input.lsis {
            let i = index_of(l, &billing, false)?;
            if range.is_none() {
                return Err(invalid("One or more parameter values were invalid: Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex"));
            }
            if i.hash != hash {
                return Err(invalid(format!(
                    "One or more parameter values were invalid: Index KeySchema does not have the same leading hash key as table KeySchema for index: {}. index hash key: {}, table hash key: {}",
                    i.name, i.hash, hash
                )));
            }
            if i.range.is_none() {
                return Err(invalid(format!(
                    "One or more parameter values were invalid: Index KeySchema must have a range key for index: {}",
                    i.name
                )));
            }
            lsis.push(i);
        }
        let mut names: Vec<&str> = Vec::new();
        for i in gsis.iter().chain(&lsis) {
            if names.contains(&i.name.as_str()) {
                return Err(invalid(format!(
                    "One or more parameter values were invalid: Duplicate index name: {}",
                    i.name
                )));
            }
            names.push(&i.name);
        }
        // Every key attribute defined, every definition a key.
        let mut keys: Vec<&str> = vec![hash.as_str()];
        keys.extend(range.as_deref());
        for i in gsis.iter().chain(&lsis) {
            keys.push(&i.hash);
            keys.extend(i.range.as_deref());
        }
        keys.sort();
        keys.dedup();
        let defined: Vec<&str> = input.attributes.iter().map(|(n, _)| n.as_str()).collect();
        let undefined: Vec<&str> = keys.iter().copied().filter(|k| !defined.contains(k)).collect();
        if !undefined.is_empty() {
            return Err(invalid(format!(
                "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [{}], AttributeDefinitions: [{}]",
                undefined.join(", "),
                defined.join(", ")
            )));
        }
        if defined.len() != keys.len() {
            let what = if gsis.is_empty() && lsis.is_empty() { "KeySchema" } else { "KeySchema and secondary indexes" };
            return Err(invalid(format!(
                "One or more parameter values were invalid: Number of attributes in {what} does not exactly match number of attributes defined in AttributeDefinitions"
            )));
        }
        let now = self.now_ms();
        let streams = match &input.stream {
            Some(spec) => match stream_view(spec)? {
                Some(view) => vec![StreamDef { label: label_at(now), view, enabled: true, created_ms: now }],
                None => Vec::new(),
            },
            None => Vec::new(),
        };
        let name = input.name.clone();
        let mut table = Table {
            row: 0,
            account: caller.account.clone(),
            region: caller.region.clone(),
            name: name.clone(),
            id: uuid::Uuid::new_v4().to_string(),
            created_ms: now,
            attributes: input.attributes.clone(),
            hash,
            range,
            billing: billing.clone(),
            on_demand_since_ms: (billing == "PAY_PER_REQUEST").then_some(now),
            read,
            write,
            gsis,
            lsis,
            streams,
            sse: input.sse.as_ref().and_then(|s| sse_of(caller, s)),
            tags: input.tags.clone(),
            ttl: None,
            table_class: input.table_class.clone(),
            deletion_protection: input.deletion_protection.unwrap_or(false),
            pitr: false,
            warm: input.warm,
        };
        let key = (caller.account.clone(), caller.region.clone(), name.clone());
        let mut tables = self.tables.write();
        if tables.contains_key(&key) {
            return Err(DynamoError::InUse(format!("Table already exists: {name}")));
        }
        let doc = serde_json::to_string(&table).map_err(|e| DynamoError::Internal(e.to_string()))?;
        let Some(row) = self.store.create_table(&store_name(caller, &name), &doc)? else {
            return Err(DynamoError::InUse(format!("Table already exists: {name}")));
        };
        table.row = row;
        let table = Arc::new(table);
        let state = TableState { def: RwLock::new(table.clone()), items: AtomicU64::new(0), bytes: AtomicU64::new(0) };
        tables.insert(key, Arc::new(state));
        Ok(Described { table, items: 0, bytes: 0, status: "CREATING" })
    }

    /// DescribeTable.
    pub fn describe_table(&self, caller: &Caller, name: &str) -> Result<Described, DynamoError> {
        let t = self.table_named(caller, name)?;
        Ok(described(&t, "ACTIVE"))
    }

    /// A table, or `ResourceNotFoundException` in the words table operations use.
    pub(crate) fn table_named(&self, caller: &Caller, name: &str) -> Result<Arc<TableState>, DynamoError> {
        self.table(caller, name).map_err(|_| {
            DynamoError::NotFound(format!("Requested resource not found: Table: {} not found", name_of(name)))
        })
    }

    /// ListTables: names after `start`, at most `limit`; the last name if more follow.
    pub fn list_tables(&self, caller: &Caller, start: Option<&str>, limit: usize) -> (Vec<String>, Option<String>) {
        let mut names: Vec<String> = self
            .tables
            .read()
            .keys()
            .filter(|(a, r, _)| *a == caller.account && *r == caller.region)
            .map(|(_, _, n)| n.clone())
            .collect();
        names.sort();
        let names: Vec<String> = names.into_iter().filter(|n| start.is_none_or(|s| n.as_str() > s)).collect();
        let more = names.len() > limit;
        let page: Vec<String> = names.into_iter().take(limit).collect();
        let last = if more { page.last().cloned() } else { None };
        (page, last)
    }

    /// DeleteTable.
    pub fn delete_table(&self, caller: &Caller, name: &str) -> Result<Described, DynamoError> {
        let state = self.table_named(caller, name)?;
        let t = state.def();
        if t.deletion_protection {
            return Err(invalid(
                "Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.",
            ));
        }
        self.store.delete_table(t.row)?;
        self.tables.write().remove(&(caller.account.clone(), caller.region.clone(), t.name.clone()));
        Ok(described(&state, "DELETING"))
    }

    /// UpdateTable.
    pub fn update_table(&self, caller: &Caller, name: &str, u: TableUpdate) -> Result<Described, DynamoError> {
        let state = self.table_named(caller, name)?;
        let mut t = (*state.def()).clone();
        let now = self.now_ms();
        let mut changed = false;
        if let Some(b) = &u.billing {
            if *b != t.billing {
                t.billing = b.clone();
                changed = true;
                if b == "PAY_PER_REQUEST" {
                    t.on_demand_since_ms = Some(now);
                    t.read = 0;
                    t.write = 0;
                    for g in &mut t.gsis {
                        g.read = 0;
                        g.write = 0;
                    }
                } else if u.throughput.is_none() {
                    return Err(invalid("One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED"));
                }
            }
        }
        if let Some((r, w)) = u.throughput {
            if t.billing == "PAY_PER_REQUEST" {
                return Err(invalid("One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST"));
            }
            if (r, w) == (t.read, t.write) && u.billing.is_none() {
                return Err(invalid("The provisioned throughput for the table will not change. The requested value equals the current value. Current ReadCapacityUnits provisioned for the table: ".to_owned() + &t.read.to_string() + ". Requested ReadCapacityUnits: " + &r.to_string() + ". Current WriteCapacityUnits provisioned for the table: " + &t.write.to_string() + ". Requested WriteCapacityUnits: " + &w.to_string() + ". Refer to the Amazon DynamoDB Developer Guide for current limits and how to request higher limits."));
            }
            t.read = r;
            t.write = w;
            changed = true;
        }
        for (n, ty) in &u.attributes {
            match t.attribute_type(n) {
                Some(existing) if existing != ty => {
                    return Err(invalid(format!(
                        "One or more parameter values were invalid: Cannot change the type of attribute {n}"
                    )))
                }
                Some(_) => {}
                None => t.attributes.push((n.clone(), ty.clone())),
            }
        }
        let mut backfill = Vec::new();
        for c in &u.create_indexes {
            if t.index(&c.name).is_some() {
                return Err(invalid(format!(
                    "One or more parameter values were invalid: Index already exists: {}",
                    c.name
                )));
            }
            let i = index_of(c, &t.billing, true)?;
            for k in std::iter::once(&i.hash).chain(i.range.iter()) {
                if t.attribute_type(k).is_none() {
                    return Err(invalid(format!(
                        "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [{k}], AttributeDefinitions: [{}]",
                        t.attributes.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ")
                    )));
                }
            }
            if t.gsis.len() >= 20 {
                return Err(DynamoError::LimitExceeded(
                    "One or more parameter values were invalid: GlobalSecondaryIndex count exceeds the per-table limit of 20".into(),
                ));
            }
            backfill.push(i.name.clone());
            t.gsis.push(i);
            changed = true;
        }
        for d in &u.delete_indexes {
            let before = t.gsis.len();
            t.gsis.retain(|g| g.name != *d);
            if t.gsis.len() == before {
                return Err(DynamoError::NotFound(format!("Requested resource not found: Index: {d} not found")));
            }
            self.store.drop_index(t.row, d)?;
            changed = true;
        }
        for (n, (r, w)) in &u.update_indexes {
            let Some(g) = t.gsis.iter_mut().find(|g| g.name == *n) else {
                return Err(DynamoError::NotFound(format!("Requested resource not found: Index: {n} not found")));
            };
            g.read = *r;
            g.write = *w;
            changed = true;
        }
        if let Some(spec) = &u.stream {
            let view = stream_view(spec)?;
            let live = t.live_stream().cloned();
            match (view, live) {
                (Some(_), Some(_)) => {
                    return Err(invalid(format!("Table already has an enabled stream: TableName: {}", t.name)));
                }
                (Some(view), None) => {
                    t.streams.push(StreamDef { label: label_at(now), view, enabled: true, created_ms: now });
                }
                (None, Some(_)) => {
                    if let Some(s) = t.streams.last_mut() {
                        s.enabled = false;
                    }
                }
                (None, None) => {
                    return Err(invalid(format!("Table already has no enabled stream: TableName: {}", t.name)));
                }
            }
            changed = true;
        }
        if let Some(s) = &u.sse {
            t.sse = sse_of(caller, s);
            changed = true;
        }
        if let Some(c) = &u.table_class {
            t.table_class = Some(c.clone());
            changed = true;
        }
        if let Some(d) = u.deletion_protection {
            t.deletion_protection = d;
            changed = true;
        }
        if !changed {
            return Err(invalid(
                "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required",
            ));
        }
        self.save(&state, t)?;
        for name in backfill {
            self.backfill_index(&state, &name)?;
        }
        Ok(described(&state, "UPDATING"))
    }

    /// Writes a table's new definition, then serves it.
    pub(crate) fn save(&self, state: &TableState, t: Table) -> Result<(), DynamoError> {
        let doc = serde_json::to_string(&t).map_err(|e| DynamoError::Internal(e.to_string()))?;
        self.store.update_table(t.row, &doc)?;
        *state.def.write() = Arc::new(t);
        Ok(())
    }

    /// UpdateTimeToLive: the attribute and whether TTL is on.
    pub fn update_ttl(&self, caller: &Caller, name: &str, attribute: &str, enabled: bool) -> Result<(), DynamoError> {
        let state = self.table_named(caller, name)?;
        let mut t = (*state.def()).clone();
        match (&t.ttl, enabled) {
            (Some((_, true)), true) => return Err(invalid("TimeToLive is already enabled")),
            (None | Some((_, false)), false) => return Err(invalid("TimeToLive is already disabled")),
            (Some((a, true)), false) if a != attribute => {
                return Err(invalid(
                    "TimeToLive is active on a different AttributeName: current AttributeName is ".to_owned() + a,
                ))
            }
            _ => {}
        }
        t.ttl = Some((attribute.to_owned(), enabled));
        self.save(&state, t)
    }

    /// DescribeTimeToLive: the attribute and whether TTL is on.
    pub fn describe_ttl(&self, caller: &Caller, name: &str) -> Result<Option<(String, bool)>, DynamoError> {
        Ok(self.table_named(caller, name)?.def().ttl.clone())
    }

    /// UpdateContinuousBackups: point-in-time recovery on or off (stored, not performed).
    pub fn set_pitr(&self, caller: &Caller, name: &str, on: bool) -> Result<Arc<Table>, DynamoError> {
        let state = self.table_named(caller, name)?;
        let mut t = (*state.def()).clone();
        t.pitr = on;
        self.save(&state, t)?;
        Ok(state.def())
    }

    /// A table's definition, by name (DescribeContinuousBackups and the like).
    pub fn definition(&self, caller: &Caller, name: &str) -> Result<Arc<Table>, DynamoError> {
        Ok(self.table_named(caller, name)?.def())
    }

    fn table_by_arn(&self, caller: &Caller, arn: &str) -> Result<Arc<TableState>, DynamoError> {
        let missing = || DynamoError::NotFound(format!("Requested resource not found: ResourceArn: {arn} not found"));
        let rest = arn
            .strip_prefix("arn:aws:dynamodb:")
            .ok_or_else(|| invalid(format!("Invalid TableArn: Invalid ResourceArn provided as input {arn}")))?;
        let mut parts = rest.splitn(3, ':');
        let (region, account, res) = (parts.next(), parts.next(), parts.next());
        let name = res.and_then(|r| r.strip_prefix("table/")).map(|n| n.split('/').next().unwrap_or(n));
        match (region, account, name) {
            (Some(r), Some(a), Some(n)) if a == caller.account && r == caller.region => {
                self.tables.read().get(&(a.to_owned(), r.to_owned(), n.to_owned())).cloned().ok_or_else(missing)
            }
            _ => Err(missing()),
        }
    }

    /// TagResource.
    pub fn tag(&self, caller: &Caller, arn: &str, tags: Vec<(String, String)>) -> Result<(), DynamoError> {
        let state = self.table_by_arn(caller, arn)?;
        let mut t = (*state.def()).clone();
        for (k, v) in tags {
            match t.tags.iter_mut().find(|(x, _)| *x == k) {
                Some(slot) => slot.1 = v,
                None => t.tags.push((k, v)),
            }
        }
        if t.tags.len() > 50 {
            return Err(DynamoError::LimitExceeded("Too many tags: a table can have at most 50 tags".into()));
        }
        self.save(&state, t)
    }

    /// UntagResource.
    pub fn untag(&self, caller: &Caller, arn: &str, keys: &[String]) -> Result<(), DynamoError> {
        let state = self.table_by_arn(caller, arn)?;
        let mut t = (*state.def()).clone();
        t.tags.retain(|(k, _)| !keys.contains(k));
        self.save(&state, t)
    }

    /// ListTagsOfResource.
    pub fn tags(&self, caller: &Caller, arn: &str) -> Result<Vec<(String, String)>, DynamoError> {
        Ok(self.table_by_arn(caller, arn)?.def().tags.clone())
    }

    /// Every table of every account (TTL's sweep, stream readers).
    pub(crate) fn all_tables(&self) -> Vec<Arc<TableState>> {
        self.tables.read().values().cloned().collect()
    }
}

fn store_name(caller: &Caller, name: &str) -> String {
    format!("{}/{}/{}", caller.account, caller.region, name)
}

fn described(state: &TableState, status: &'static str) -> Described {
    Described {
        table: state.def(),
        items: state.items.load(Ordering::Relaxed),
        bytes: state.bytes.load(Ordering::Relaxed),
        status,
    }
}

/// Tags as a map (for callers that want one).
pub fn tag_map(tags: &[(String, String)]) -> BTreeMap<String, String> {
    tags.iter().cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_from_arns() {
        assert_eq!(name_of("arn:aws:dynamodb:us-east-1:000000000000:table/orders"), "orders");
        assert_eq!(name_of("arn:aws:dynamodb:us-east-1:000000000000:table/orders/stream/x"), "orders");
        assert_eq!(name_of("orders"), "orders");
    }

    #[test]
    fn labels_are_millisecond_timestamps() {
        assert_eq!(label_at(1_731_940_604_149), "2024-11-18T14:36:44.149");
    }
}
