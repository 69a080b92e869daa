//! The services' operations as CloudFormation's resource providers call them: an input
//! tree checked against the service's model and run by the same handler a client's
//! request reaches, acting as the stack's account and principal. What a stack makes is
//! made, and refused, exactly as the API would make or refuse it.

use std::sync::{Arc, Weak};

use cloudformation::{Acting, OperationError, Operations, Pending};
use protocol::ServiceError;
use serde_json::Value;

use crate::{lambda_api, lambda_rest, ApiState};

/// The operations of every service CloudFormation provisions.
pub struct Internal {
    state: Weak<ApiState>,
}

impl Internal {
    /// Operations on `state`'s services (held weakly: the server owns its state).
    pub fn new(state: &Arc<ApiState>) -> Internal {
        Internal { state: Arc::downgrade(state) }
    }
}

fn refused(e: ServiceError) -> OperationError {
    OperationError { status: e.status.unwrap_or(400), code: e.code, message: e.message }
}

fn stopped(e: impl std::fmt::Display) -> OperationError {
    OperationError { code: "InternalFailure".into(), message: format!("the operation stopped: {e}"), status: 500 }
}

/// Checks an input tree against the operation's model, as a request's would be.
fn check(service: &str, operation: &str, value: &Value) -> Result<(), OperationError> {
    let model = protocol::service(service)
        .ok_or_else(|| refused(ServiceError::new("InternalFailure", format!("no model of {service}"))))?;
    if model.operation(operation).is_none() {
        return Err(refused(ServiceError::not_implemented(service, operation)));
    }
    let input = protocol::Input { operation: operation.to_owned(), value: value.clone(), payload: None };
    model.check(&input).map_err(refused)
}

impl Operations for Internal {
    fn call<'a>(
        &'a self,
        acting: &'a Acting,
        service: &'a str,
        operation: &'a str,
        input: Value,
    ) -> Pending<'a, Value> {
        Box::pin(async move {
            let s = self.state.upgrade().ok_or_else(|| stopped("the server is stopping"))?;
            let mut input = input;
            if let Some(model) = protocol::service(service) {
                model.coerce_input(operation, &mut input);
            }
            check(service, operation, &input)?;
            let caller = model::Caller::new(acting.account.clone(), acting.region.clone());
            match service {
                "lambda" => {
                    let call = lambda_api::Call {
                        caller,
                        request_id: uuid::Uuid::new_v4().to_string(),
                        host: acting.host.clone(),
                        input,
                        payload: None,
                    };
                    let out = if lambda_api::BLOCKING.contains(&operation) {
                        let (s, op) = (s.clone(), operation.to_owned());
                        tokio::task::spawn_blocking(move || lambda_api::run_blocking(&s, &call, &op))
                            .await
                            .map_err(stopped)?
                    } else {
                        lambda_api::run(&s, &call, operation).await
                    };
                    out.map(|o| o.value).map_err(|e| refused(lambda_rest::service_error(&e)))
                }
                "sqs" => crate::sqs_api::run(&s.sqs, &caller, operation, &acting.host, input)
                    .await
                    .map_err(|e| refused(crate::sqs_api::service_error(&e))),
                "sns" => {
                    let caller = sns::Caller {
                        account: acting.account.clone(),
                        region: acting.region.clone(),
                        principal: acting.principal.clone(),
                    };
                    crate::sns_api::run(&s.sns, &caller, operation, input, None)
                        .await
                        .map_err(|e| refused(crate::sns_api::service_error(&e)))
                }
                "iam" => {
                    let call = crate::iam_api::Call {
                        account: &acting.account,
                        principal: &acting.principal,
                        keys: &s.callers.issued,
                    };
                    crate::iam_api::run(&s.iam, &call, operation, &input).map_err(refused)
                }
                "logs" => {
                    let (logs, op) = (s.logs.clone(), operation.to_owned());
                    tokio::task::spawn_blocking(move || crate::logs_api::run(&logs, &caller, &op, &input))
                        .await
                        .map_err(stopped)?
                        .map_err(refused)
                }
                "ssm" => {
                    let (ssm, op, user) = (s.ssm.clone(), operation.to_owned(), acting.principal.clone());
                    tokio::task::spawn_blocking(move || crate::ssm_api::run(&ssm, &caller, &user, &op, &input))
                        .await
                        .map_err(stopped)?
                        .map_err(refused)
                }
                "ecr" => {
                    let caller = ecr::Caller {
                        account: acting.account.clone(),
                        region: acting.region.clone(),
                        principal: acting.principal.clone(),
                    };
                    let (ecr, op) = (s.ecr.clone(), operation.to_owned());
                    tokio::task::spawn_blocking(move || crate::ecr_api::run(&ecr, &caller, &op, &input))
                        .await
                        .map_err(stopped)?
                        .map_err(refused)
                }
                "s3" => {
                    let mut caller = s3::Caller::from(caller);
                    caller.principal = acting.principal.clone();
                    let (s3, op) = (s.s3.clone(), operation.to_owned());
                    tokio::task::spawn_blocking(move || crate::s3_api::run_tree(&s3, &caller, &op, &input))
                        .await
                        .map_err(stopped)?
                        .map_err(|e| OperationError {
                            code: e.code.to_string(),
                            message: e.message.clone(),
                            status: e.status,
                        })
                }
                "apigateway" | "apigatewayv2" => gateway(&s, caller, service, operation, input).await,
                "events" if operation == "PutEvents" => {
                    crate::events_api::put_events(&s.events, &caller, &input).await.map_err(refused)
                }
                "events" => {
                    let (events, op) = (s.events.clone(), operation.to_owned());
                    tokio::task::spawn_blocking(move || crate::events_api::run(&events, &caller, &op, &input))
                        .await
                        .map_err(stopped)?
                        .map_err(refused)
                }
                "dynamodb" => {
                    let (d, op) = (s.dynamodb.clone(), operation.to_owned());
                    tokio::task::spawn_blocking(move || {
                        crate::dynamodb_api::run(&d, &caller, "localhost:4566", &op, &input)
                    })
                    .await
                    .map_err(stopped)?
                    .map_err(refused)
                }
                "kinesis" => {
                    let (k, op) = (s.kinesis.clone(), operation.to_owned());
                    tokio::task::spawn_blocking(move || crate::kinesis_api::run(&k, &caller, &op, &input))
                        .await
                        .map_err(stopped)?
                        .map_err(refused)
                }
                "scheduler" => {
                    let (events, op) = (s.events.clone(), operation.to_owned());
                    tokio::task::spawn_blocking(move || crate::scheduler_api::run(&events, &caller, &op, &input))
                        .await
                        .map_err(stopped)?
                        .map_err(|e| refused(crate::scheduler_api::service_error(&e)))
                }
                other => Err(refused(ServiceError::not_implemented(other, operation))),
            }
        })
    }

    fn read_object<'a>(
        &'a self,
        acting: &'a Acting,
        bucket: &'a str,
        key: &'a str,
        limit: usize,
    ) -> Pending<'a, Vec<u8>> {
        Box::pin(async move {
            let s = self.state.upgrade().ok_or_else(|| stopped("the server is stopping"))?;
            let mut caller = s3::Caller::new(acting.account.clone(), acting.region.clone());
            caller.principal = acting.principal.clone();
            let (s3, bucket, key) = (s.s3.clone(), bucket.to_owned(), key.to_owned());
            let read = tokio::task::spawn_blocking(move || s3.read_whole(&caller, &bucket, &key, None, limit as u64))
                .await
                .map_err(stopped)?;
            match read {
                Ok(Some(bytes)) => Ok(bytes),
                Ok(None) => Err(OperationError {
                    code: "EntityTooLarge".into(),
                    message: format!("Template may not exceed {limit} bytes in size."),
                    status: 400,
                }),
                Err(e) => {
                    Err(OperationError { code: e.code.to_string(), message: e.message.clone(), status: e.status })
                }
            }
        })
    }
}

/// An API Gateway operation: the URI's labels taken from the tree's members, a definition
/// (`body`) as the payload, v2's trees in its wire form.
async fn gateway(
    s: &ApiState,
    caller: model::Caller,
    service: &str,
    operation: &str,
    mut input: Value,
) -> Result<Value, OperationError> {
    let model = protocol::service(service).ok_or_else(|| stopped("no model"))?;
    let op = model.operation(operation).ok_or_else(|| stopped("no operation"))?;
    let members = match op.input.map(|i| &model.shape(i).kind) {
        Some(protocol::model::Kind::Structure { members, .. }) => members.clone(),
        _ => Vec::new(),
    };
    let path = op
        .template
        .labels()
        .iter()
        .map(|label| {
            let member = members
                .iter()
                .find(|m| m.location == protocol::model::Location::Uri && m.location_name.as_deref() == Some(label));
            let value = member.and_then(|m| input.get(&m.name));
            match value {
                Some(Value::String(v)) => v.clone(),
                Some(other) => other.to_string(),
                None => String::new(),
            }
        })
        .collect();
    let payload = match input.as_object_mut().and_then(|o| o.remove("body")) {
        Some(Value::String(text)) => Some(bytes::Bytes::from(text)),
        Some(other) => Some(bytes::Bytes::from(other.to_string())),
        None => None,
    };
    let v2 = service == "apigatewayv2";
    let call = crate::apigw_api::GwCall {
        caller,
        input: if v2 { model.input_as_wire(operation, &input) } else { input },
        payload,
        path,
    };
    let result = if v2 {
        crate::apigw_api::run_v2(s, &call, operation)
    } else {
        crate::apigw_api::run(s, &call, operation).await
    };
    match result {
        Ok(v) if v2 => model.output_from_wire(operation, v).map_err(refused),
        Ok(v) => Ok(v),
        Err(e) => Err(refused(crate::apigw_api::service_error(&e))),
    }
}
