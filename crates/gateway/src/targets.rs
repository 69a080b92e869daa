//! The services integrations call, and what their answers are to the data plane: Lambda
//! (proxy and non-proxy integrations, authorizers, WebSocket routes, function URLs),
//! through [`lambda::LambdaService::invoke_for`] and `invoke_url`, which resolve the
//! function and decide its resource policy; and SQS (`AWS` integrations).

use bytes::Bytes;
use lambda::{InvocationType, InvokeInput, InvokeOutcome, LambdaError, LambdaService, ServicePrincipal};
use sqs::SqsService;

use crate::function_urls::{UrlReply, UrlTarget};
use crate::{FunctionReply, SqsFailure, SqsMessage, SqsSent};

/// Lambda, as API Gateway and function URLs call it.
#[derive(Clone)]
pub(crate) struct Functions(pub(crate) LambdaService);

impl Functions {
    /// Invokes `arn` (a function ARN, possibly qualified) synchronously with `payload`, for
    /// `source_arn` (the method, route or authorizer a resource policy's `SourceArn`
    /// names), in the function's account.
    pub(crate) async fn invoke(&self, arn: &str, payload: Bytes, source_arn: &str) -> FunctionReply {
        let input = InvokeInput {
            request_id: uuid::Uuid::new_v4().to_string(),
            payload,
            log_tail: false,
            client_context: None,
        };
        let outcome =
            self.0.invoke_for(ServicePrincipal::ApiGateway, source_arn, arn, InvocationType::RequestResponse, input);
        match outcome.await {
            Ok(outcome) => replied(outcome),
            Err(e) => FunctionReply::Unavailable(e.to_string()),
        }
    }

    /// The function URL whose id is `url_id`, if there is one.
    pub(crate) fn function_url(&self, url_id: &str) -> Option<UrlTarget> {
        let url = self.0.function_url(url_id)?;
        Some(UrlTarget {
            function_arn: url.function_arn,
            account: url.account,
            iam: url.config.auth_type == lambda::urls::AuthType::AwsIam,
            cors: url.config.cors,
            streaming: url.config.invoke_mode == lambda::urls::InvokeMode::ResponseStream,
        })
    }

    /// Invokes the function behind the URL `url_id` for `signer` (none for an unsigned
    /// call) under the URL request's id, as AWS does.
    pub(crate) async fn invoke_url(
        &self,
        url_id: &str,
        signer: Option<&str>,
        request_id: &str,
        payload: Bytes,
    ) -> UrlReply {
        match self.0.invoke_url(url_id, signer, request_id, payload).await {
            Ok(InvokeOutcome::Completed(r)) if r.stream.is_some() => {
                UrlReply::Streamed(r.stream.expect("checked just above"))
            }
            Ok(outcome) => UrlReply::Function(replied(outcome)),
            Err(e) => url_refusal(e),
        }
    }
}

fn replied(outcome: InvokeOutcome) -> FunctionReply {
    match outcome {
        InvokeOutcome::Completed(r) if r.function_error.is_some() => FunctionReply::Failed(r.payload),
        InvokeOutcome::Completed(r) => FunctionReply::Returned(r.payload),
        InvokeOutcome::Accepted | InvokeOutcome::Validated => {
            FunctionReply::Unavailable("the invocation did not complete".into())
        }
    }
}

/// What a function URL's caller is told when Lambda would not run the function.
fn url_refusal(e: LambdaError) -> UrlReply {
    match e {
        LambdaError::AccessDenied(_) | LambdaError::ForeignAccount => UrlReply::Forbidden,
        LambdaError::TooManyRequests { .. } => UrlReply::Throttled,
        LambdaError::RequestTooLarge(why) => UrlReply::TooLarge(why),
        e @ (LambdaError::Invalid(_)
        | LambdaError::NotFound(_)
        | LambdaError::ProvisionedConfigNotFound(_)
        | LambdaError::Conflict(_)
        | LambdaError::PreconditionFailed(_)
        | LambdaError::InvalidRequestContent(_)
        | LambdaError::InvalidRuntime(_)
        | LambdaError::CodeSigningConfigMissing(_)
        | LambdaError::CodeSigningConfigNotFound(_)
        | LambdaError::CodeVerificationFailed(_)
        | LambdaError::PolicyLengthExceeded(_)
        | LambdaError::Service(_)) => UrlReply::Function(FunctionReply::Unavailable(e.to_string())),
    }
}

/// SQS, as `AWS` integrations send to it.
#[derive(Clone)]
pub(crate) struct Queues(pub(crate) SqsService);

impl Queues {
    /// Sends a message as the queue's account.
    pub(crate) async fn send(&self, m: SqsMessage) -> Result<SqsSent, SqsFailure> {
        let caller = model::Caller::new(&m.account, &m.region);
        let input = sqs::SendInput {
            body: m.body,
            delay_s: m.delay_seconds.map(i64::from),
            group_id: m.group_id,
            dedup_id: m.deduplication_id,
            ..Default::default()
        };
        self.0
            .send(&caller, &sqs::QueueName::of(sqs::QueueRef::new(m.account, m.queue), &m.region), input)
            .map(|s| SqsSent { message_id: s.id, md5_of_body: s.md5_body, sequence_number: s.sequence })
            .map_err(|e| SqsFailure { code: e.query_code.to_owned(), message: e.message })
    }
}
