//! The stored form of domain types that services keep inside their JSON documents (the
//! domain types themselves know no serde). Field names are the documents' own; changing
//! one would orphan what is already stored.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// [`model::Cors`] as documents store it.
#[derive(Serialize, Deserialize)]
#[serde(remote = "model::Cors")]
struct CorsDoc {
    allow_credentials: Option<bool>,
    allow_headers: Vec<String>,
    allow_methods: Vec<String>,
    allow_origins: Vec<String>,
    expose_headers: Vec<String>,
    max_age: Option<i64>,
}

/// `#[serde(default, with = "store::docs::cors")]` for an `Option<model::Cors>` field.
pub mod cors {
    use super::*;

    struct Stored<'a>(&'a model::Cors);

    impl Serialize for Stored<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            CorsDoc::serialize(self.0, s)
        }
    }

    #[derive(Deserialize)]
    struct Read(#[serde(with = "CorsDoc")] model::Cors);

    /// Writes the configuration, or `null`.
    pub fn serialize<S: Serializer>(cors: &Option<model::Cors>, s: S) -> Result<S::Ok, S::Error> {
        match cors {
            Some(c) => s.serialize_some(&Stored(c)),
            None => s.serialize_none(),
        }
    }

    /// Reads the configuration, or `null`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<model::Cors>, D::Error> {
        Ok(Option::<Read>::deserialize(d)?.map(|Read(c)| c))
    }
}

#[cfg(test)]
mod tests {
    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct Doc {
        #[serde(default, with = "super::cors")]
        cors: Option<model::Cors>,
    }

    #[test]
    fn stored_cors_reads_back_and_an_absent_one_is_none() {
        let doc =
            Doc { cors: Some(model::Cors { allow_origins: vec!["*".into()], max_age: Some(5), ..Default::default() }) };
        let text = serde_json::to_string(&doc).unwrap();
        assert!(text.contains(r#""allow_origins":["*"]"#), "{text}");
        assert_eq!(serde_json::from_str::<Doc>(&text).unwrap(), doc);
        assert_eq!(serde_json::from_str::<Doc>("{}").unwrap(), Doc { cors: None });
        assert_eq!(serde_json::from_str::<Doc>(r#"{"cors":null}"#).unwrap(), Doc { cors: None });
    }
}
