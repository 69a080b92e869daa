//! A REST API's models (the JSON schemas of its bodies), request validators and
//! documentation parts, with the control-plane operations on them and AWS's answers to
//! wrong input.

use serde::{Deserialize, Serialize};

use crate::patch::{Op, PatchOperation};
use crate::rest::RestApi;
use crate::{new_id, Caller, GatewayError, GatewayService};

/// A model: a named schema of a request or response body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// `id`.
    pub id: String,
    /// `name`, unique in its API (models are addressed by it).
    pub name: String,
    /// `description`.
    pub description: Option<String>,
    /// `schema`, as given.
    pub schema: String,
    /// `contentType`.
    pub content_type: String,
}

/// A request validator: which parts of a request a method checks.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RequestValidator {
    /// `id`.
    pub id: String,
    /// `name`.
    pub name: String,
    /// `validateRequestBody`.
    pub validate_body: bool,
    /// `validateRequestParameters`.
    pub validate_parameters: bool,
}

/// A documentation part: properties (a JSON text) attached to a location of the API.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DocumentationPart {
    /// `id`.
    pub id: String,
    /// `location.type`: `API`, `METHOD`, `RESOURCE`, `MODEL`, …
    pub location_type: String,
    /// `location.path`.
    pub path: Option<String>,
    /// `location.method`.
    pub method: Option<String>,
    /// `location.statusCode`.
    pub status_code: Option<String>,
    /// `location.name`.
    pub name: Option<String>,
    /// `properties`, as given.
    pub properties: String,
    /// Its place in the order parts were made (lists follow it).
    #[serde(default)]
    pub seq: u64,
}

impl DocumentationPart {
    /// Whether two parts document the same location.
    fn same_place(&self, other: &DocumentationPart) -> bool {
        (&self.location_type, &self.path, &self.method, &self.status_code, &self.name)
            == (&other.location_type, &other.path, &other.method, &other.status_code, &other.name)
    }
}

/// Puts an imported part into an API: it replaces a part at its location.
pub(crate) fn put_part(api: &mut crate::rest::RestApi, part: DocumentationPart) -> String {
    api.documentation_parts.retain(|_, p| !p.same_place(&part));
    add_part(api, part)
}

/// Adds a part to an API under a new id, after the others.
pub(crate) fn add_part(api: &mut crate::rest::RestApi, mut part: DocumentationPart) -> String {
    part.id = new_id(6);
    part.seq = api.documentation_parts.values().map(|p| p.seq).max().unwrap_or(0) + 1;
    let id = part.id.clone();
    api.documentation_parts.insert(id.clone(), part);
    id
}

fn no_part() -> GatewayError {
    GatewayError::NotFound("Invalid Documentation part identifier specified".into())
}

/// AWS's answer to a patch path an operation cannot take: `replace` names the paths it
/// can; other operations are not supported at all.
fn bad_path(p: &PatchOperation, replaceable: &[&str]) -> GatewayError {
    match p.op.as_str() {
        "replace" => GatewayError::BadRequest(format!(
            "Invalid patch path  '{}' specified for op 'replace'. Must be one of: [{}]",
            p.path,
            replaceable.join(", ")
        )),
        op => GatewayError::BadRequest(format!(
            "Invalid patch path  '{}' specified for op '{op}'. Please choose supported operations",
            p.path
        )),
    }
}

/// The two models every REST API starts with, `Empty` and `Error`, as AWS creates them.
pub(crate) fn default_models() -> std::collections::BTreeMap<String, Model> {
    let model = |name: &str, description: &str, schema: &str| Model {
        id: new_id(6),
        name: name.to_owned(),
        description: Some(description.to_owned()),
        schema: schema.to_owned(),
        content_type: "application/json".to_owned(),
    };
    [
        model(
            "Empty",
            "This is a default empty schema model",
            "{\n  \"$schema\": \"http://json-schema.org/draft-04/schema#\",\n  \"title\" : \"Empty Schema\",\n  \"type\" : \"object\"\n}",
        ),
        model(
            "Error",
            "This is a default error schema model",
            "{\n  \"$schema\" : \"http://json-schema.org/draft-04/schema#\",\n  \"title\" : \"Error Schema\",\n  \"type\" : \"object\",\n  \"properties\" : {\n    \"message\" : { \"type\" : \"string\" }\n  }\n}",
        ),
    ]
    .into_iter()
    .map(|m| (m.name.clone(), m))
    .collect()
}

/// Operations on one model, validator or documentation part answer an API that does not
/// exist (or anything else not found) as that item not found, as AWS does.
fn not_found_as(answer: impl Fn() -> GatewayError) -> impl Fn(GatewayError) -> GatewayError {
    move |e| match e {
        GatewayError::NotFound(_) => answer(),
        e => e,
    }
}

fn empty_schema() -> GatewayError {
    GatewayError::BadRequest("Model schema must have at least 1 property or array items defined".into())
}

fn no_model(name: &str) -> GatewayError {
    GatewayError::NotFound(format!("Invalid model name specified: {name}"))
}

fn no_validator() -> GatewayError {
    GatewayError::NotFound("Invalid Request Validator identifier specified".into())
}

impl GatewayService {
    /// CreateModel.
    pub fn create_model(&self, caller: &Caller, api: &str, mut m: Model) -> Result<Model, GatewayError> {
        m.description = m.description.filter(|d| !d.is_empty());
        self.change_rest(caller, api, |api| {
            if m.name.is_empty() {
                return Err(GatewayError::BadRequest("Model name must be non-empty".into()));
            }
            if api.models.contains_key(&m.name) {
                return Err(GatewayError::Conflict("Model name already exists for this REST API".into()));
            }
            if m.schema.is_empty() {
                return Err(empty_schema());
            }
            m.id = new_id(6);
            api.models.insert(m.name.clone(), m.clone());
            Ok(m)
        })
    }

    /// GetModels.
    pub fn models(&self, caller: &Caller, api: &str) -> Result<Vec<Model>, GatewayError> {
        self.read_rest(caller, api, |api| Ok(api.models.values().cloned().collect()))
    }

    /// GetModel.
    pub fn model(&self, caller: &Caller, api: &str, name: &str) -> Result<Model, GatewayError> {
        self.read_rest(caller, api, |api| api.models.get(name).cloned().ok_or_else(|| no_model(name)))
            .map_err(not_found_as(|| no_model(name)))
    }

    /// UpdateModel: `replace` of `/description` (empty removes it) and `/schema`.
    pub fn update_model(
        &self,
        caller: &Caller,
        api: &str,
        name: &str,
        patch: &[PatchOperation],
    ) -> Result<Model, GatewayError> {
        self.change_rest(caller, api, |api| {
            let mut m = api.models.get(name).cloned().ok_or_else(|| no_model(name))?;
            for p in patch {
                match (p.op.as_str(), p.path.as_str()) {
                    ("replace", "/description") => m.description = p.value.clone().filter(|d| !d.is_empty()),
                    ("replace", "/schema") => {
                        m.schema = p.value.clone().filter(|s| !s.is_empty()).ok_or_else(empty_schema)?
                    }
                    _ => return Err(bad_path(p, &["/description", "/schema"])),
                }
            }
            api.models.insert(name.to_owned(), m.clone());
            Ok(m)
        })
        .map_err(not_found_as(|| no_model(name)))
    }

    /// DeleteModel.
    pub fn delete_model(&self, caller: &Caller, api: &str, name: &str) -> Result<(), GatewayError> {
        self.change_rest(caller, api, |api| {
            // A model a method request names stays. Of several, AWS names the one last in
            // path order (`/test/ANY` rather than `//ANY`).
            let referenced = api
                .resources
                .values()
                .flat_map(|r| r.methods.values().map(move |m| (r, m)))
                .filter(|(_, m)| m.request_models.values().any(|n| n == name))
                .map(|(r, m)| (r.path.clone(), m.http_method.clone()))
                .max();
            if let Some((path, method)) = referenced {
                return Err(GatewayError::Conflict(format!(
                    "Cannot delete model '{name}', is referenced in method request: {path}/{method}"
                )));
            }
            api.models.remove(name).map(drop).ok_or_else(|| no_model(name))
        })
        .map_err(not_found_as(|| no_model(name)))
    }

    /// CreateRequestValidator; an API that does not exist is a bad request here.
    pub fn create_request_validator(
        &self,
        caller: &Caller,
        api: &str,
        mut v: RequestValidator,
    ) -> Result<RequestValidator, GatewayError> {
        v.id = new_id(6);
        self.change_rest(caller, api, |api| {
            api.request_validators.insert(v.id.clone(), v.clone());
            Ok(v)
        })
        .map_err(not_found_as(|| GatewayError::BadRequest("Invalid REST API identifier specified".into())))
    }

    /// GetRequestValidators.
    pub fn request_validators(&self, caller: &Caller, api: &str) -> Result<Vec<RequestValidator>, GatewayError> {
        self.read_rest(caller, api, |api| Ok(api.request_validators.values().cloned().collect()))
    }

    /// GetRequestValidator; a missing API reads as a missing validator.
    pub fn request_validator(&self, caller: &Caller, api: &str, id: &str) -> Result<RequestValidator, GatewayError> {
        self.read_rest(caller, api, |api| api.request_validators.get(id).cloned().ok_or_else(no_validator))
            .map_err(not_found_as(no_validator))
    }

    /// UpdateRequestValidator: `replace` of `/name`, `/validateRequestBody` and
    /// `/validateRequestParameters` (no value is `false`).
    pub fn update_request_validator(
        &self,
        caller: &Caller,
        api: &str,
        id: &str,
        patch: &[PatchOperation],
    ) -> Result<RequestValidator, GatewayError> {
        let replaceable = ["/name", "/validateRequestParameters", "/validateRequestBody"];
        self.change_rest(caller, api, |api: &mut RestApi| {
            let mut v = api.request_validators.get(id).cloned().ok_or_else(no_validator)?;
            for p in patch {
                let flag = || p.value.as_deref().is_some_and(|b| b.eq_ignore_ascii_case("true"));
                match (p.kind(), p.path.as_str()) {
                    (Ok(Op::Replace), "/name") => match p.value.as_deref().filter(|n| !n.is_empty()) {
                        Some(n) => v.name = n.to_owned(),
                        None => return Err(GatewayError::BadRequest("Request Validator name cannot be blank".into())),
                    },
                    (Ok(Op::Replace), "/validateRequestBody") => v.validate_body = flag(),
                    (Ok(Op::Replace), "/validateRequestParameters") => v.validate_parameters = flag(),
                    _ => return Err(bad_path(p, &replaceable)),
                }
            }
            api.request_validators.insert(id.to_owned(), v.clone());
            Ok(v)
        })
        .map_err(not_found_as(no_validator))
    }

    /// DeleteRequestValidator; a missing API reads as a missing validator.
    pub fn delete_request_validator(&self, caller: &Caller, api: &str, id: &str) -> Result<(), GatewayError> {
        self.change_rest(caller, api, |api| api.request_validators.remove(id).map(drop).ok_or_else(no_validator))
            .map_err(not_found_as(no_validator))
    }
}

impl GatewayService {
    /// CreateDocumentationPart.
    pub fn create_documentation_part(
        &self,
        caller: &Caller,
        api: &str,
        mut part: DocumentationPart,
    ) -> Result<DocumentationPart, GatewayError> {
        part.id = new_id(6);
        self.change_rest(caller, api, |api| {
            if api.documentation_parts.values().any(|p| p.same_place(&part)) {
                return Err(GatewayError::Conflict(
                    "Documentation part already exists for the specified location".into(),
                ));
            }
            let id = add_part(api, part);
            Ok(api.documentation_parts[&id].clone())
        })
    }

    /// GetDocumentationParts.
    pub fn documentation_parts(&self, caller: &Caller, api: &str) -> Result<Vec<DocumentationPart>, GatewayError> {
        self.read_rest(caller, api, |api| {
            let mut parts: Vec<DocumentationPart> = api.documentation_parts.values().cloned().collect();
            parts.sort_by_key(|p| p.seq);
            Ok(parts)
        })
    }

    /// ImportDocumentationParts: the parts of an OpenAPI definition's
    /// `x-amazon-apigateway-documentation`, replacing the API's (`overwrite`) or added to
    /// them, a part at a location already documented replacing it (`merge`). Answers the
    /// new parts' ids and the warnings.
    pub fn import_documentation_parts(
        &self,
        caller: &Caller,
        api: &str,
        document: &[u8],
        mode: crate::rest::PutMode,
        fail_on_warnings: bool,
    ) -> Result<(Vec<String>, Vec<String>), GatewayError> {
        let unreadable = || GatewayError::BadRequest("Unable to build importer with provided input.".into());
        let doc: serde_json::Value = match serde_json::from_slice(document) {
            Ok(v) => v,
            Err(_) => serde_yaml_ng::from_slice(document).map_err(|_| unreadable())?,
        };
        if !doc.is_object() {
            return Err(unreadable());
        }
        let parts = crate::openapi::documentation_parts(&doc);
        let warnings: Vec<String> = Vec::new();
        if fail_on_warnings && !warnings.is_empty() {
            return Err(GatewayError::BadRequest(format!("Warnings found during import:\n{}", warnings.join("\n"))));
        }
        self.change_rest(caller, api, |api| {
            if mode == crate::rest::PutMode::Overwrite {
                api.documentation_parts.clear();
            }
            let ids = parts.into_iter().map(|part| put_part(api, part)).collect();
            Ok((ids, warnings))
        })
    }

    /// GetDocumentationPart; a missing API reads as a missing part.
    pub fn documentation_part(&self, caller: &Caller, api: &str, id: &str) -> Result<DocumentationPart, GatewayError> {
        self.read_rest(caller, api, |api| api.documentation_parts.get(id).cloned().ok_or_else(no_part))
            .map_err(not_found_as(no_part))
    }

    /// UpdateDocumentationPart: `replace` of `/properties`.
    pub fn update_documentation_part(
        &self,
        caller: &Caller,
        api: &str,
        id: &str,
        patch: &[PatchOperation],
    ) -> Result<DocumentationPart, GatewayError> {
        self.change_rest(caller, api, |api| {
            let mut part = api.documentation_parts.get(id).cloned().ok_or_else(no_part)?;
            for p in patch {
                match (p.op.as_str(), p.path.as_str()) {
                    ("replace", "/properties") => part.properties = p.value.clone().unwrap_or_default(),
                    _ => return Err(bad_path(p, &["/properties"])),
                }
            }
            api.documentation_parts.insert(id.to_owned(), part.clone());
            Ok(part)
        })
        .map_err(not_found_as(no_part))
    }

    /// DeleteDocumentationPart.
    pub fn delete_documentation_part(&self, caller: &Caller, api: &str, id: &str) -> Result<(), GatewayError> {
        self.change_rest(caller, api, |api| api.documentation_parts.remove(id).map(drop).ok_or_else(no_part))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(op: &str, path: &str) -> PatchOperation {
        PatchOperation { op: op.into(), path: path.into(), value: None, from: None }
    }

    #[test]
    fn unsupported_patch_paths_are_worded_as_aws_words_them() {
        let e = bad_path(&op("replace", "/name"), &["/description", "/schema"]);
        assert_eq!(
            e.to_string(),
            "Invalid patch path  '/name' specified for op 'replace'. Must be one of: [/description, /schema]"
        );
        let e = bad_path(&op("add", "/x"), &[]);
        assert_eq!(
            e.to_string(),
            "Invalid patch path  '/x' specified for op 'add'. Please choose supported operations"
        );
    }
}
