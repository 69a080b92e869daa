//! Lambda's API on the protocol layer: every request to Lambda's REST paths is routed to
//! its operation by the model's HTTP bindings, read into the operation's input tree and
//! checked against the model, run by one dispatch over the operation's name, and answered
//! (output or error) by the rest-json codec. The handlers (`lambda_rest`, `lambda_versions`,
//! `lambda_layers`, `lambda_policy`, `lambda_urls`, `lambda_esm`, `lambda_signing`) turn
//! an input tree into a service call and its result into an output tree; none of them sees
//! HTTP.

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::response::Response;
use lambda::{Caller, LambdaError};
use model::limits;
use protocol::{Output, Protocol};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::{ingress, lambda_esm, lambda_layers, lambda_policy, lambda_rest, lambda_signing, lambda_urls};
use crate::{lambda_versions, ApiState, RequestId};

/// The operations of Lambda's model that Lamina serves; the others answer 501.
pub(crate) const OPERATIONS: &[&str] = &[
    "AddLayerVersionPermission",
    "AddPermission",
    "CreateAlias",
    "CreateCodeSigningConfig",
    "CreateEventSourceMapping",
    "CreateFunction",
    "CreateFunctionUrlConfig",
    "DeleteAlias",
    "DeleteCodeSigningConfig",
    "DeleteEventSourceMapping",
    "DeleteFunction",
    "DeleteFunctionCodeSigningConfig",
    "DeleteFunctionConcurrency",
    "DeleteFunctionEventInvokeConfig",
    "DeleteFunctionUrlConfig",
    "DeleteLayerVersion",
    "DeleteProvisionedConcurrencyConfig",
    "GetAccountSettings",
    "GetAlias",
    "GetCodeSigningConfig",
    "GetEventSourceMapping",
    "GetFunction",
    "GetFunctionCodeSigningConfig",
    "GetFunctionConcurrency",
    "GetFunctionConfiguration",
    "GetFunctionEventInvokeConfig",
    "GetFunctionRecursionConfig",
    "GetFunctionUrlConfig",
    "GetLayerVersion",
    "GetLayerVersionByArn",
    "GetLayerVersionPolicy",
    "GetPolicy",
    "GetProvisionedConcurrencyConfig",
    "Invoke",
    "InvokeWithResponseStream",
    "ListAliases",
    "ListCodeSigningConfigs",
    "ListEventSourceMappings",
    "ListFunctionEventInvokeConfigs",
    "ListFunctionUrlConfigs",
    "ListFunctions",
    "ListFunctionsByCodeSigningConfig",
    "ListLayerVersions",
    "ListLayers",
    "ListProvisionedConcurrencyConfigs",
    "ListTags",
    "ListVersionsByFunction",
    "PublishLayerVersion",
    "PublishVersion",
    "PutFunctionCodeSigningConfig",
    "PutFunctionConcurrency",
    "PutFunctionEventInvokeConfig",
    "PutFunctionRecursionConfig",
    "PutProvisionedConcurrencyConfig",
    "RemoveLayerVersionPermission",
    "RemovePermission",
    "TagResource",
    "UntagResource",
    "UpdateAlias",
    "UpdateCodeSigningConfig",
    "UpdateEventSourceMapping",
    "UpdateFunctionCode",
    "UpdateFunctionConfiguration",
    "UpdateFunctionEventInvokeConfig",
    "UpdateFunctionUrlConfig",
];

/// The operations a function's resource policy can grant another account, as AWS lists
/// them (Invoke checks its own grant); no other operation (AddPermission,
/// UpdateFunctionConfiguration, …) ever acts in another account.
const CROSS_ACCOUNT: &[&str] = &[
    "GetFunction",
    "GetFunctionConfiguration",
    "UpdateFunctionCode",
    "DeleteFunction",
    "PublishVersion",
    "ListVersionsByFunction",
    "CreateAlias",
    "GetAlias",
    "ListAliases",
    "UpdateAlias",
    "DeleteAlias",
    "GetPolicy",
    "PutFunctionConcurrency",
    "DeleteFunctionConcurrency",
    "ListTags",
    "TagResource",
    "UntagResource",
];

/// The largest body an operation takes, and the name AWS's 413 gives the operation.
fn body_limit(operation: &str) -> (usize, &str) {
    match operation {
        "CreateFunction" | "UpdateFunctionCode" | "PublishLayerVersion" => (limits::CODE_REQUEST_MAX_BYTES, operation),
        "Invoke" | "InvokeWithResponseStream" => (limits::SYNC_PAYLOAD_MAX_BYTES, "InvokeFunction"),
        _ => (1024 * 1024, operation),
    }
}

/// One Lambda call, as its handler sees it: who makes it, and its input tree.
pub(crate) struct Call {
    /// The account and region it acts in (another account's, where that account's
    /// resource policy grants the caller the operation).
    pub(crate) caller: Caller,
    /// The request's id (an Invoke's invocation id).
    pub(crate) request_id: String,
    /// The host the request came to, for the links and URLs answers carry.
    pub(crate) host: String,
    /// The input tree: labels, query parameters, headers and body members by name.
    pub(crate) input: Value,
    /// A blob payload (Invoke's).
    pub(crate) payload: Option<Bytes>,
}

/// A handler's answer: the output tree (`Value::Null` for an operation without output).
pub(crate) type Reply = Result<Value, LambdaError>;

/// An output tree from a wire struct.
pub(crate) fn out(v: impl Serialize) -> Reply {
    serde_json::to_value(v).map_err(|e| LambdaError::Service(e.to_string()))
}

/// The answer of an operation without output.
pub(crate) fn done() -> Reply {
    Ok(Value::Null)
}

impl Call {
    /// A string member (a label is always there).
    pub(crate) fn text(&self, member: &str) -> Option<String> {
        match self.input.get(member)? {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        }
    }

    /// A label: the function's name, an alias's, a layer's.
    pub(crate) fn label(&self, member: &str) -> String {
        self.text(member).unwrap_or_default()
    }

    /// `FunctionName`.
    pub(crate) fn function(&self) -> String {
        self.label("FunctionName")
    }

    /// An integer member.
    pub(crate) fn int(&self, member: &str) -> Option<i64> {
        self.input.get(member).and_then(Value::as_i64)
    }

    /// The `Qualifier` query parameter, where an operation takes one.
    pub(crate) fn qualifier(&self) -> Option<String> {
        self.text("Qualifier")
    }

    /// A List operation's `Marker`.
    pub(crate) fn marker(&self) -> Option<String> {
        self.text("Marker")
    }

    /// A List operation's `MaxItems`.
    pub(crate) fn max_items(&self) -> Option<i64> {
        self.int("MaxItems")
    }

    /// The input as a wire struct of its body members.
    pub(crate) fn body<T: DeserializeOwned>(&self) -> Result<T, LambdaError> {
        serde_json::from_value(self.input.clone())
            .map_err(|e| LambdaError::InvalidRequestContent(format!("Could not parse request body into json: {e}")))
    }
}

/// Every request to Lambda's REST paths.
pub(crate) async fn handle(State(s): State<ApiState>, req: Request) -> Response {
    let request_id = req.extensions().get::<RequestId>().map(|r| r.0.clone()).unwrap_or_default();
    let Some(model) = protocol::service("lambda") else { return ingress::unserved(req).await };
    let pairs: Vec<(String, String)> =
        req.uri().query().map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default();
    let Some((op, labels)) = model.find_rest(req.method(), req.uri().path(), &pairs) else {
        return ingress::unserved(req).await;
    };
    let operation = op.name.clone();
    let fail = |e: &protocol::ServiceError| ingress::error("lambda", Protocol::RestJson, e, &request_id);
    if !OPERATIONS.contains(&operation.as_str()) {
        return fail(&protocol::ServiceError::not_implemented("lambda", &operation));
    }
    let (parts, body) = req.into_parts();
    let (limit, named) = body_limit(&operation);
    let Some(body) = ingress::read_body(&parts, body, limit).await else {
        let e = LambdaError::RequestTooLarge(format!(
            "Request must be smaller than {limit} bytes for the {named} operation"
        ));
        return fail(&lambda_rest::service_error(&e));
    };
    let input = match ingress::read("lambda", Protocol::RestJson, &parts, body, OPERATIONS) {
        Ok((_, input)) => input,
        Err(e) => return fail(&e),
    };
    let mut caller = s.callers.caller(&parts);
    // A call naming another account's function by ARN acts there when that account's
    // resource policy grants the caller the operation (`lambda:GetFunction`, …), as on AWS.
    let named = labels.iter().find(|(k, _)| k == "FunctionName" || k == "Resource").map(|(_, v)| v.as_str());
    if let Some(name) = named.filter(|n| n.contains(':') && CROSS_ACCOUNT.contains(&operation.as_str())) {
        if let Some(owner) = s.lambda.grant_of(&caller, name, &format!("lambda:{operation}")) {
            caller = owner;
        }
    }
    let host = parts.headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("localhost:4566").to_owned();
    let call = Call { caller, request_id: request_id.clone(), host, input: input.value, payload: input.payload };
    if operation == "InvokeWithResponseStream" {
        // Its answer is a stream of events, sent as the function writes.
        return match lambda_rest::invoke_with_response_stream(&s, &call).await {
            Ok(resp) => resp,
            Err(e) => fail(&lambda_rest::service_error(&e)),
        };
    }
    let result = if BLOCKING.contains(&operation.as_str()) {
        // Code uploads hash, unpack and write packages: off the async workers.
        let (s, op) = (s.clone(), operation.clone());
        tokio::task::spawn_blocking(move || run_blocking(&s, &call, &op))
            .await
            .unwrap_or_else(|e| Err(LambdaError::Service(format!("the operation stopped: {e}"))))
    } else {
        run(&s, &call, &operation).await
    };
    match result {
        Ok(output) => {
            let invoked = output.payload.is_some();
            let mut resp =
                ingress::to_response(model.respond(Protocol::RestJson, &operation, output, &request_id), None);
            if invoked {
                // A function's answer is JSON by contract, whatever its bytes.
                resp.headers_mut().insert("content-type", HeaderValue::from_static("application/json"));
            }
            resp
        }
        Err(e) => fail(&lambda_rest::service_error(&e)),
    }
}

/// The operations that store code (hashing, unpacking and writing a package of up to
/// 50 MB), which run on the blocking pool.
pub(crate) const BLOCKING: [&str; 3] = ["CreateFunction", "UpdateFunctionCode", "PublishLayerVersion"];

/// Runs one of the [`BLOCKING`] operations.
pub(crate) fn run_blocking(s: &ApiState, c: &Call, operation: &str) -> Result<Output, LambdaError> {
    let value = match operation {
        "CreateFunction" => lambda_rest::create_function(s, c),
        "UpdateFunctionCode" => lambda_rest::update_function_code(s, c),
        "PublishLayerVersion" => lambda_layers::publish_layer_version(s, c),
        other => return Err(LambdaError::Service(format!("no handler for {other}"))),
    }?;
    Ok(Output::new(value))
}

/// Runs one operation.
pub(crate) async fn run(s: &ApiState, c: &Call, operation: &str) -> Result<Output, LambdaError> {
    use lambda_esm as esm;
    use lambda_layers as layers;
    use lambda_policy as policy;
    use lambda_rest as functions;
    use lambda_signing as signing;
    use lambda_urls as urls;
    use lambda_versions as versions;
    let value = match operation {
        "Invoke" => return functions::invoke(s, c).await,
        "GetFunction" => functions::get_function(s, c),
        "GetFunctionConfiguration" => functions::get_function_configuration(s, c),
        "ListFunctions" => functions::list_functions(s, c),
        "UpdateFunctionConfiguration" => functions::update_function_configuration(s, c),
        "DeleteFunction" => functions::delete_function(s, c),
        "GetAccountSettings" => functions::account_settings(s, c),
        "ListTags" => functions::list_tags(s, c),
        "TagResource" => functions::tag_resource(s, c),
        "UntagResource" => functions::untag_resource(s, c),
        "PutFunctionConcurrency" => functions::put_function_concurrency(s, c),
        "GetFunctionConcurrency" => functions::get_function_concurrency(s, c),
        "DeleteFunctionConcurrency" => functions::delete_function_concurrency(s, c),
        "PutFunctionRecursionConfig" => functions::put_recursion_config(s, c),
        "GetFunctionRecursionConfig" => functions::get_recursion_config(s, c),
        "PutFunctionEventInvokeConfig" => functions::put_event_invoke_config(s, c, false),
        "UpdateFunctionEventInvokeConfig" => functions::put_event_invoke_config(s, c, true),
        "GetFunctionEventInvokeConfig" => functions::get_event_invoke_config(s, c),
        "DeleteFunctionEventInvokeConfig" => functions::delete_event_invoke_config(s, c),
        "ListFunctionEventInvokeConfigs" => functions::list_event_invoke_configs(s, c),
        "PublishVersion" => versions::publish_version(s, c),
        "ListVersionsByFunction" => versions::list_versions(s, c),
        "CreateAlias" => versions::create_alias(s, c),
        "GetAlias" => versions::get_alias(s, c),
        "UpdateAlias" => versions::update_alias(s, c),
        "DeleteAlias" => versions::delete_alias(s, c),
        "ListAliases" => versions::list_aliases(s, c),
        "PutProvisionedConcurrencyConfig" => versions::put_provisioned(s, c),
        "GetProvisionedConcurrencyConfig" => versions::get_provisioned(s, c),
        "ListProvisionedConcurrencyConfigs" => versions::list_provisioned(s, c),
        "DeleteProvisionedConcurrencyConfig" => versions::delete_provisioned(s, c),
        "AddPermission" => policy::add_permission(s, c),
        "GetPolicy" => policy::get_policy(s, c),
        "RemovePermission" => policy::remove_permission(s, c),
        "GetLayerVersion" => layers::get_layer_version(s, c),
        "GetLayerVersionByArn" => layers::get_layer_version_by_arn(s, c),
        "DeleteLayerVersion" => layers::delete_layer_version(s, c),
        "ListLayerVersions" => layers::list_layer_versions(s, c),
        "ListLayers" => layers::list_layers(s, c),
        "AddLayerVersionPermission" => layers::add_layer_permission(s, c),
        "GetLayerVersionPolicy" => layers::get_layer_policy(s, c),
        "RemoveLayerVersionPermission" => layers::remove_layer_permission(s, c),
        "CreateEventSourceMapping" => esm::create_mapping(s, c),
        "GetEventSourceMapping" => esm::get_mapping(s, c),
        "UpdateEventSourceMapping" => esm::update_mapping(s, c),
        "DeleteEventSourceMapping" => esm::delete_mapping(s, c),
        "ListEventSourceMappings" => esm::list_mappings(s, c),
        "CreateFunctionUrlConfig" => urls::create_url(s, c),
        "GetFunctionUrlConfig" => urls::get_url(s, c),
        "UpdateFunctionUrlConfig" => urls::update_url(s, c),
        "DeleteFunctionUrlConfig" => urls::delete_url(s, c),
        "ListFunctionUrlConfigs" => urls::list_urls(s, c),
        "CreateCodeSigningConfig" => signing::create_config(s, c),
        "GetCodeSigningConfig" => signing::get_config(s, c),
        "UpdateCodeSigningConfig" => signing::update_config(s, c),
        "DeleteCodeSigningConfig" => signing::delete_config(s, c),
        "ListCodeSigningConfigs" => signing::list_configs(s, c),
        "ListFunctionsByCodeSigningConfig" => signing::list_functions(s, c),
        "PutFunctionCodeSigningConfig" => signing::put_function_config(s, c),
        "GetFunctionCodeSigningConfig" => signing::get_function_config(s, c),
        "DeleteFunctionCodeSigningConfig" => signing::delete_function_config(s, c),
        other => return Err(LambdaError::Service(format!("no handler for {other}"))),
    }?;
    Ok(Output::new(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_served_operation_is_in_the_model_and_every_root_is_a_date() {
        let model = protocol::service("lambda").unwrap();
        for op in OPERATIONS {
            assert!(model.operation(op).is_some(), "{op} is not in Lambda's model");
        }
        let roots = ingress::path_roots("lambda");
        assert!(roots.contains("2015-03-31") && roots.contains("2018-10-31"), "{roots:?}");
        assert!(roots.iter().all(|r| r.len() == 10 && r.as_bytes()[4] == b'-'), "{roots:?}");
    }
}
