//! ImportRestApi and PutRestApi: a REST API from an OpenAPI 3 or Swagger 2 definition,
//! merged into or overwriting what it has.

use super::*;

impl GatewayService {
    /// ImportRestApi: a new REST API from an OpenAPI 3 or Swagger 2 definition (JSON or
    /// YAML). `endpoint_type` is the `endpointConfigurationTypes` parameter.
    pub fn import_rest_api(
        &self,
        caller: &Caller,
        document: &[u8],
        fail_on_warnings: bool,
        endpoint_type: Option<String>,
    ) -> Result<RestApi, GatewayError> {
        let def = definition(document, fail_on_warnings)?;
        let endpoint_types = match endpoint_type {
            Some(t) => Some(vec![t]),
            None => Some(def.endpoint_types.clone()).filter(|t| !t.is_empty()),
        };
        let created = self.create_rest_api(
            caller,
            RestApiInput {
                name: def.name.clone(),
                description: def.description.clone(),
                version: def.version.clone(),
                endpoint_types,
                ..Default::default()
            },
        )?;
        let outcome = self.change_rest(caller, &created.id, |api| api.apply(def, PutMode::Merge).map(|()| api.clone()));
        if outcome.is_err() {
            // An import is all or nothing.
            let _ = self.delete_rest_api(caller, &created.id);
        }
        outcome
    }

    /// PutRestApi: updates a REST API from a definition.
    pub fn put_rest_api(
        &self,
        caller: &Caller,
        id: &str,
        document: &[u8],
        mode: PutMode,
        fail_on_warnings: bool,
    ) -> Result<RestApi, GatewayError> {
        let def = definition(document, fail_on_warnings)?;
        self.change_rest(caller, id, |api| api.apply(def, mode).map(|()| api.clone()))
    }
}

/// A definition read, refused when it has warnings and the caller asked to fail on them.
fn definition(document: &[u8], fail_on_warnings: bool) -> Result<crate::openapi::Definition, GatewayError> {
    let def = crate::openapi::parse(document)?;
    if fail_on_warnings && !def.warnings.is_empty() {
        return Err(GatewayError::BadRequest(format!("Warnings found during import:\n{}", def.warnings.join("\n"))));
    }
    Ok(def)
}
