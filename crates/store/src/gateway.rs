//! Durable documents: API Gateway's APIs, API keys and usage plans, and IAM's roles and
//! policies, each one document.
//!
//! An API's resources, methods, routes, integrations, deployments and stages change
//! together and are read together, so the gateway stores each API whole, as a document
//! whose format the `apigateway` crate owns (a role, with its policies, likewise for
//! `iam`); the store only keeps it.

use rusqlite::params;

use crate::{SqliteStore, StoreError};

/// The table, created with the rest of the schema.
pub(crate) const GATEWAY_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS gateway_documents (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
";

/// One stored document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayDocument {
    /// What it is (`restapi`, `httpapi`, `apikey`, `usageplan`, …).
    pub kind: String,
    /// Its id, unique within its kind.
    pub id: String,
    /// The document.
    pub doc: String,
}

/// Where API Gateway keeps its configuration.
pub trait GatewayStore: Send + Sync + 'static {
    /// Creates or replaces a document.
    fn put_document(&self, d: &GatewayDocument) -> Result<(), StoreError>;
    /// Deletes a document; deleting a missing one is not an error.
    fn delete_document(&self, kind: &str, id: &str) -> Result<(), StoreError>;
    /// Every document of a kind.
    fn documents(&self, kind: &str) -> Result<Vec<GatewayDocument>, StoreError>;
}

impl GatewayStore for SqliteStore {
    fn put_document(&self, d: &GatewayDocument) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "REPLACE INTO gateway_documents (kind, id, doc) VALUES (?1, ?2, ?3)",
                params![d.kind, d.id, d.doc],
            )
            .map(drop)
        })
    }

    fn delete_document(&self, kind: &str, id: &str) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute("DELETE FROM gateway_documents WHERE kind = ?1 AND id = ?2", params![kind, id]).map(drop)
        })
    }

    fn documents(&self, kind: &str) -> Result<Vec<GatewayDocument>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare("SELECT kind, id, doc FROM gateway_documents WHERE kind = ?1 ORDER BY id")?;
            let rows = stmt
                .query_map(params![kind], |r| Ok(GatewayDocument { kind: r.get(0)?, id: r.get(1)?, doc: r.get(2)? }))?;
            rows.collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_survive_reopening_and_are_replaced_by_id() {
        let dir = std::env::temp_dir().join(format!("lamina-gw-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("state.db");
        {
            let s = SqliteStore::open(&path).unwrap();
            let d = |doc: &str| GatewayDocument { kind: "restapi".into(), id: "a1".into(), doc: doc.into() };
            s.put_document(&d("{}")).unwrap();
            s.put_document(&d("{\"v\":2}")).unwrap();
            s.put_document(&GatewayDocument { kind: "apikey".into(), id: "k".into(), doc: "{}".into() }).unwrap();
        }
        let s = SqliteStore::open(&path).unwrap();
        let apis = s.documents("restapi").unwrap();
        assert_eq!(apis.len(), 1);
        assert_eq!(apis[0].doc, "{\"v\":2}");
        s.delete_document("restapi", "a1").unwrap();
        assert!(s.documents("restapi").unwrap().is_empty());
        assert_eq!(s.documents("apikey").unwrap().len(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
