//! Durable documents: what a service changes and reads whole (API Gateway's APIs, API keys
//! and usage plans; IAM's roles and policies; SSM's parameters with their versions), each
//! one document of a kind under an id, in a format its service owns; the store only
//! keeps it. (The table keeps the name it was born with, `gateway_documents`, so data
//! directories written before stay readable.)

use rusqlite::params;

use crate::{SqliteStore, StoreError};

/// The table, created with the rest of the schema.
pub(crate) const DOCUMENT_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS gateway_documents (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
";

/// One stored document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// What it is (`restapi`, `httpapi`, `apikey`, `usageplan`, `ssm-parameter`, …).
    pub kind: String,
    /// Its id, unique within its kind.
    pub id: String,
    /// The document.
    pub doc: String,
}

/// Where services keep their documents.
pub trait DocumentStore: Send + Sync + 'static {
    /// Creates or replaces a document.
    fn put_document(&self, d: &Document) -> Result<(), StoreError>;
    /// Deletes a document; deleting a missing one is not an error.
    fn delete_document(&self, kind: &str, id: &str) -> Result<(), StoreError>;
    /// Every document of a kind.
    fn documents(&self, kind: &str) -> Result<Vec<Document>, StoreError>;
}

impl DocumentStore for SqliteStore {
    fn put_document(&self, d: &Document) -> Result<(), StoreError> {
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

    fn documents(&self, kind: &str) -> Result<Vec<Document>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare("SELECT kind, id, doc FROM gateway_documents WHERE kind = ?1 ORDER BY id")?;
            let rows =
                stmt.query_map(params![kind], |r| Ok(Document { kind: r.get(0)?, id: r.get(1)?, doc: r.get(2)? }))?;
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
            let d = |doc: &str| Document { kind: "restapi".into(), id: "a1".into(), doc: doc.into() };
            s.put_document(&d("{}")).unwrap();
            s.put_document(&d("{\"v\":2}")).unwrap();
            s.put_document(&Document { kind: "apikey".into(), id: "k".into(), doc: "{}".into() }).unwrap();
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
