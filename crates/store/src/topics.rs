//! Durable SNS state: topics and their subscriptions, the HTTP outbox, and SNS's other
//! documents (platform applications and endpoints, SMS settings) by kind and key.

use rusqlite::{params, Row};

use crate::{SqliteStore, StoreError};

/// The tables, created with the rest of the schema.
pub(crate) const TOPIC_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS topics (
    arn TEXT PRIMARY KEY,
    attributes TEXT NOT NULL,
    tags TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sns_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    url TEXT NOT NULL,
    headers TEXT NOT NULL,
    body TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sns_deliveries_due ON sns_deliveries (next_ms);
CREATE TABLE IF NOT EXISTS sns_documents (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (kind, key)
);
CREATE TABLE IF NOT EXISTS subscriptions (
    arn TEXT PRIMARY KEY,
    topic_arn TEXT NOT NULL,
    protocol TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    owner TEXT NOT NULL,
    attributes TEXT NOT NULL,
    token TEXT
);
";

/// A topic as stored: attributes and tags as JSON objects of strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicRecord {
    /// `TopicArn`.
    pub arn: String,
    /// Its attributes, JSON.
    pub attributes: String,
    /// Its tags, JSON.
    pub tags: String,
}

/// A subscription as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionRecord {
    /// `SubscriptionArn`.
    pub arn: String,
    /// The topic.
    pub topic_arn: String,
    /// `Protocol`.
    pub protocol: String,
    /// `Endpoint`.
    pub endpoint: String,
    /// The subscriber's account.
    pub owner: String,
    /// Its attributes, JSON.
    pub attributes: String,
    /// The confirmation token while it waits to be confirmed; `None` once confirmed.
    pub token: Option<String>,
}

fn read_subscription(row: &Row<'_>) -> rusqlite::Result<SubscriptionRecord> {
    Ok(SubscriptionRecord {
        arn: row.get(0)?,
        topic_arn: row.get(1)?,
        protocol: row.get(2)?,
        endpoint: row.get(3)?,
        owner: row.get(4)?,
        attributes: row.get(5)?,
        token: row.get(6)?,
    })
}

/// A pending HTTP delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpDelivery {
    /// Its position in the outbox (0 before it is stored).
    pub id: i64,
    /// The endpoint.
    pub url: String,
    /// The `x-amz-sns-*` headers, JSON.
    pub headers: String,
    /// The body.
    pub body: String,
    /// Attempts made.
    pub attempts: u32,
    /// Not before this time, in ms since the epoch.
    pub next_ms: i64,
}

fn read_delivery(row: &Row<'_>) -> rusqlite::Result<HttpDelivery> {
    Ok(HttpDelivery {
        id: row.get(0)?,
        url: row.get(1)?,
        headers: row.get(2)?,
        body: row.get(3)?,
        attempts: row.get(4)?,
        next_ms: row.get(5)?,
    })
}

/// Where SNS keeps its topics and subscriptions.
pub trait TopicStore: Send + Sync + 'static {
    /// Creates or replaces a topic.
    fn put_topic(&self, t: &TopicRecord) -> Result<(), StoreError>;
    /// Deletes a topic and its subscriptions.
    fn delete_topic(&self, arn: &str) -> Result<(), StoreError>;
    /// Every topic.
    fn all_topics(&self) -> Result<Vec<TopicRecord>, StoreError>;
    /// Creates or replaces a subscription.
    fn put_subscription(&self, s: &SubscriptionRecord) -> Result<(), StoreError>;
    /// Deletes a subscription.
    fn delete_subscription(&self, arn: &str) -> Result<(), StoreError>;
    /// Every subscription.
    fn all_subscriptions(&self) -> Result<Vec<SubscriptionRecord>, StoreError>;
    /// Queues HTTP deliveries, in one transaction.
    fn add_deliveries(&self, deliveries: &[HttpDelivery]) -> Result<(), StoreError>;
    /// Takes the deliveries due at `now`, at most `limit`, leasing them until `lease_ms`.
    fn claim_deliveries(&self, now: i64, lease_ms: i64, limit: usize) -> Result<Vec<HttpDelivery>, StoreError>;
    /// Schedules another attempt.
    fn retry_delivery(&self, id: i64, attempts: u32, next_ms: i64) -> Result<(), StoreError>;
    /// Removes a finished (or abandoned) delivery.
    fn remove_delivery(&self, id: i64) -> Result<(), StoreError>;
    /// The earliest time a queued delivery is due.
    fn next_delivery_due(&self) -> Result<Option<i64>, StoreError>;
    /// Creates or replaces a document of a kind (`app`, `endpoint`, `sms`) by its key.
    fn put_document(&self, kind: &str, key: &str, body: &str) -> Result<(), StoreError>;
    /// Deletes documents of a kind by key.
    fn delete_documents(&self, kind: &str, keys: &[String]) -> Result<(), StoreError>;
    /// Every document of a kind: (key, body).
    fn documents(&self, kind: &str) -> Result<Vec<(String, String)>, StoreError>;
}

impl TopicStore for SqliteStore {
    fn put_topic(&self, t: &TopicRecord) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "REPLACE INTO topics (arn, attributes, tags) VALUES (?1, ?2, ?3)",
                params![t.arn, t.attributes, t.tags],
            )
            .map(drop)
        })
    }

    fn delete_topic(&self, arn: &str) -> Result<(), StoreError> {
        self.with(|c| {
            let tx = c.unchecked_transaction()?;
            tx.execute("DELETE FROM topics WHERE arn = ?1", params![arn])?;
            tx.execute("DELETE FROM subscriptions WHERE topic_arn = ?1", params![arn])?;
            tx.commit()
        })
    }

    fn all_topics(&self) -> Result<Vec<TopicRecord>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare("SELECT arn, attributes, tags FROM topics ORDER BY arn")?;
            let rows =
                stmt.query_map([], |r| Ok(TopicRecord { arn: r.get(0)?, attributes: r.get(1)?, tags: r.get(2)? }))?;
            rows.collect()
        })
    }

    fn put_subscription(&self, s: &SubscriptionRecord) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "REPLACE INTO subscriptions (arn, topic_arn, protocol, endpoint, owner, attributes, token) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![s.arn, s.topic_arn, s.protocol, s.endpoint, s.owner, s.attributes, s.token],
            )
            .map(drop)
        })
    }

    fn delete_subscription(&self, arn: &str) -> Result<(), StoreError> {
        self.with(|c| c.execute("DELETE FROM subscriptions WHERE arn = ?1", params![arn]).map(drop))
    }

    fn add_deliveries(&self, deliveries: &[HttpDelivery]) -> Result<(), StoreError> {
        self.with(|c| {
            let tx = c.unchecked_transaction()?;
            {
                let mut insert = tx.prepare_cached(
                    "INSERT INTO sns_deliveries (url, headers, body, attempts, next_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
                )?;
                for d in deliveries {
                    insert.execute(params![d.url, d.headers, d.body, d.attempts, d.next_ms])?;
                }
            }
            tx.commit()
        })
    }

    fn claim_deliveries(&self, now: i64, lease_ms: i64, limit: usize) -> Result<Vec<HttpDelivery>, StoreError> {
        self.with(|c| {
            let tx = c.unchecked_transaction()?;
            let due = {
                let mut stmt = tx.prepare_cached(
                    "SELECT id, url, headers, body, attempts, next_ms FROM sns_deliveries WHERE next_ms <= ?1 \
                     ORDER BY next_ms LIMIT ?2",
                )?;
                let rows = stmt.query_map(params![now, limit as i64], read_delivery)?;
                rows.collect::<rusqlite::Result<Vec<_>>>()?
            };
            for d in &due {
                tx.execute("UPDATE sns_deliveries SET next_ms = ?2 WHERE id = ?1", params![d.id, lease_ms])?;
            }
            tx.commit()?;
            Ok(due)
        })
    }

    fn retry_delivery(&self, id: i64, attempts: u32, next_ms: i64) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE sns_deliveries SET attempts = ?2, next_ms = ?3 WHERE id = ?1",
                params![id, attempts, next_ms],
            )
            .map(drop)
        })
    }

    fn remove_delivery(&self, id: i64) -> Result<(), StoreError> {
        self.with(|c| c.execute("DELETE FROM sns_deliveries WHERE id = ?1", params![id]).map(drop))
    }

    fn next_delivery_due(&self) -> Result<Option<i64>, StoreError> {
        self.with(|c| c.query_row("SELECT MIN(next_ms) FROM sns_deliveries", [], |r| r.get(0)))
    }

    fn put_document(&self, kind: &str, key: &str, body: &str) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute("REPLACE INTO sns_documents (kind, key, body) VALUES (?1, ?2, ?3)", params![kind, key, body])
                .map(drop)
        })
    }

    fn delete_documents(&self, kind: &str, keys: &[String]) -> Result<(), StoreError> {
        self.with(|c| {
            let tx = c.unchecked_transaction()?;
            for key in keys {
                tx.execute("DELETE FROM sns_documents WHERE kind = ?1 AND key = ?2", params![kind, key])?;
            }
            tx.commit()
        })
    }

    fn documents(&self, kind: &str) -> Result<Vec<(String, String)>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare("SELECT key, body FROM sns_documents WHERE kind = ?1 ORDER BY key")?;
            let rows = stmt.query_map(params![kind], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect()
        })
    }

    fn all_subscriptions(&self) -> Result<Vec<SubscriptionRecord>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT arn, topic_arn, protocol, endpoint, owner, attributes, token FROM subscriptions ORDER BY arn",
            )?;
            let rows = stmt.query_map([], read_subscription)?;
            rows.collect()
        })
    }
}
