//! Invocations made by AWS services on their resources' behalf (API Gateway's
//! integrations and authorizers, SNS's subscriptions) and through function URLs.
//!
//! Each is one call here: the function's ARN is parsed once, the version it names is
//! resolved once, and in authenticated mode the function's resource policy decides,
//! here, whether the service may invoke it for the resource at hand (AWS's `SourceArn`
//! and `SourceAccount` conditions).

use std::sync::Arc;

use bytes::Bytes;
use model::{Function, FunctionRef, Qualifier};

use crate::policy::{self, Principal};
use crate::{key_of, Caller, InvocationType, InvokeInput, InvokeOutcome, Key, LambdaError, LambdaService};

/// An AWS service that invokes functions for one of its resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServicePrincipal {
    /// API Gateway: a method's or route's integration, or an authorizer.
    ApiGateway,
    /// SNS: a topic's `lambda` subscription.
    Sns,
    /// S3: a bucket's event notification.
    S3,
    /// EventBridge: a rule's target.
    Events,
    /// CloudWatch Logs: a log group's subscription filter (its policy may name the
    /// regional principal, `logs.<region>.amazonaws.com`).
    Logs,
    /// EventBridge Scheduler: a schedule's target, reached with the schedule's role, which
    /// (IAM not being enforced) the function's resource policy does not decide.
    Scheduler,
}

impl ServicePrincipal {
    /// The principal a resource policy names (`apigateway.amazonaws.com`, …).
    pub fn id(self) -> &'static str {
        match self {
            ServicePrincipal::ApiGateway => "apigateway.amazonaws.com",
            ServicePrincipal::Sns => "sns.amazonaws.com",
            ServicePrincipal::S3 => "s3.amazonaws.com",
            ServicePrincipal::Events => "events.amazonaws.com",
            ServicePrincipal::Logs => "logs.amazonaws.com",
            ServicePrincipal::Scheduler => "scheduler.amazonaws.com",
        }
    }
}

impl LambdaService {
    /// Invokes the function `function_arn` (possibly qualified) for `principal`, acting
    /// for its resource `source_arn`, in the function's own account. In authenticated
    /// mode only a statement of the function's resource policy granting that service
    /// `lambda:InvokeFunction` for that source lets it (else `AccessDenied`).
    pub async fn invoke_for(
        &self,
        principal: ServicePrincipal,
        source_arn: &str,
        function_arn: &str,
        kind: InvocationType,
        input: InvokeInput,
    ) -> Result<InvokeOutcome, LambdaError> {
        let r = FunctionRef::parse(function_arn, "functionName")
            .map_err(|_| LambdaError::NotFound(format!("Function not found: {function_arn}")))?;
        let (Some(account), Some(region)) = (r.account, r.region) else {
            return Err(LambdaError::NotFound(format!("Function not found: {function_arn}")));
        };
        let qualifier = r.qualifier.as_ref().map(Qualifier::as_str);
        let (f, shown) = self.resolve_key(&Key::new(account, region, &r.name), qualifier)?;
        if !self.service_allowed(principal, source_arn, &f, shown.as_deref()) {
            return Err(LambdaError::AccessDenied(format!(
                "no resource policy of {function_arn} allows {} to invoke it for {source_arn}",
                principal.id()
            )));
        }
        let f = self.runnable(f)?;
        self.execute(f, shown, kind, input).await
    }

    /// Queues one `Event` invocation for `principal` (`invoke_for`); resolves once it is
    /// accepted, with its request id.
    pub async fn invoke_event_for(
        &self,
        principal: ServicePrincipal,
        source_arn: &str,
        function_arn: &str,
        payload: String,
    ) -> Result<String, LambdaError> {
        let request_id = uuid::Uuid::new_v4().to_string();
        let input = InvokeInput {
            request_id: request_id.clone(),
            payload: payload.into(),
            log_tail: false,
            client_context: None,
        };
        self.invoke_for(principal, source_arn, function_arn, InvocationType::Event, input).await.map(|_| request_id)
    }

    /// Whether `principal` may invoke `function_arn` for `source_arn`, as `invoke_for`
    /// decides it (for a service that checks a target when it is configured, as S3 does);
    /// `None` if there is no such function.
    pub fn admits(&self, principal: ServicePrincipal, source_arn: &str, function_arn: &str) -> Option<bool> {
        let r = FunctionRef::parse(function_arn, "functionName").ok()?;
        let (account, region) = (r.account?, r.region?);
        let qualifier = r.qualifier.as_ref().map(Qualifier::as_str);
        let (f, shown) = self.resolve_key(&Key::new(account, region, &r.name), qualifier).ok()?;
        Some(self.service_allowed(principal, source_arn, &f, shown.as_deref()))
    }

    /// Only in authenticated mode must a statement of the resource policy let a service in.
    fn service_allowed(
        &self,
        principal: ServicePrincipal,
        source_arn: &str,
        f: &Arc<Function>,
        shown: Option<&str>,
    ) -> bool {
        if !self.authorize_services || principal == ServicePrincipal::Scheduler {
            return true;
        }
        let source_account = source_arn.split(':').nth(4).unwrap_or("");
        let who = Principal::Service { service: principal.id(), source_arn, source_account };
        if self.policy_allows(f, shown, who, policy::INVOKE) {
            return true;
        }
        // CloudWatch Logs is named by its regional principal too.
        let regional = format!("logs.{}.amazonaws.com", source_arn.split(':').nth(3).unwrap_or(""));
        principal == ServicePrincipal::Logs
            && self.policy_allows(
                f,
                shown,
                Principal::Service { service: &regional, source_arn, source_account },
                policy::INVOKE,
            )
    }

    /// The log group a function (by ARN, possibly qualified) writes to; `None` if there is
    /// no such function.
    pub fn log_group_of(&self, function_arn: &str) -> Option<String> {
        let r = FunctionRef::parse(function_arn, "functionName").ok()?;
        let (account, region) = (r.account?, r.region?);
        let qualifier = r.qualifier.as_ref().map(Qualifier::as_str);
        self.resolve_key(&Key::new(account, region, &r.name), qualifier).ok().map(|(f, _)| f.log_group())
    }

    /// Invokes the function behind the URL `url_id` synchronously with `payload`, for
    /// `signer` (the signer's account; none for an unsigned call), under the URL request's
    /// id, as AWS does. A URL that does not exist, or (in authenticated mode) one whose
    /// function's resource policy does not let the signer in, is `AccessDenied`.
    pub async fn invoke_url(
        &self,
        url_id: &str,
        signer: Option<&str>,
        request_id: &str,
        payload: Bytes,
    ) -> Result<InvokeOutcome, LambdaError> {
        let denied = || LambdaError::AccessDenied(format!("the function URL {url_id} does not let this caller in"));
        let (latest, config) = self.url_entry(url_id).ok_or_else(denied)?;
        if self.authorize_services && !self.url_admits(&latest, &config, signer) {
            return Err(denied());
        }
        let (f, shown) = self.resolve_key(&key_of(&latest), config.qualifier.as_deref())?;
        let f = self.runnable(f)?;
        let input = InvokeInput { request_id: request_id.to_owned(), payload, log_tail: false, client_context: None };
        // A RESPONSE_STREAM URL passes a streamed response on as it is written.
        let kind = match config.invoke_mode {
            crate::urls::InvokeMode::ResponseStream => InvocationType::Streaming,
            crate::urls::InvokeMode::Buffered => InvocationType::RequestResponse,
        };
        self.execute(f, shown, kind, input).await
    }

    /// The version `qualifier` names of the function `key` (an alias with routing picks
    /// one by weight): what a service's invocation runs.
    fn resolve_key(&self, key: &Key, qualifier: Option<&str>) -> Result<(Arc<Function>, Option<String>), LambdaError> {
        let owner = Caller::new(&key.account, &key.region);
        let name = &key.name;
        let latest = self.cache.latest(key).ok_or_else(|| crate::not_found(&owner, name, None))?;
        match qualifier {
            None => Ok((latest, None)),
            Some("$LATEST") => Ok((latest, Some("$LATEST".to_owned()))),
            Some(q) => {
                let picked = self.cache.families.read().get(key).and_then(|fam| fam.pick(&latest, q, true));
                let named = Qualifier::Named(q.to_owned());
                picked.map(|v| (v, Some(q.to_owned()))).ok_or_else(|| crate::not_found(&owner, name, Some(&named)))
            }
        }
    }
}

/// SNS's `lambda` subscriptions: an `Event` invocation per message, as the topic.
impl sns::FunctionTarget for LambdaService {
    fn invoke_event<'a>(
        &'a self,
        arn: &'a str,
        payload: String,
        topic_arn: &'a str,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<String, String>> + Send + 'a>> {
        Box::pin(async move {
            self.invoke_event_for(ServicePrincipal::Sns, topic_arn, arn, payload).await.map_err(|e| e.to_string())
        })
    }
}
