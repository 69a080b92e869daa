//! Invoke: the version a caller names resolved (in another account only as its resource
//! policy grants), its payload checked, then run, queued (`Event`) or only approved
//! (`DryRun`).

use super::*;

impl LambdaService {
    /// The version an Invoke names: in the caller's account, or — named by ARN — in
    /// another account whose resource policy lets the caller invoke it.
    pub(crate) fn resolve_invoked(
        &self,
        caller: &Caller,
        name: &str,
        qualifier: Option<&str>,
    ) -> Result<(Arc<Function>, Option<String>), LambdaError> {
        let owner =
            FunctionRef::parse(name, "functionName").ok().and_then(|r| r.account).filter(|a| *a != caller.account);
        let (f, shown) = match owner {
            None => self.resolve_picked(caller, name, qualifier, true)?,
            Some(owner) => self.resolve_granted(caller, owner, name, qualifier)?,
        };
        Ok((self.runnable(f)?, shown))
    }

    /// What an invocation of `f` runs (the previous revision while an update is being
    /// prepared); a version published with that update cannot run yet.
    /// A function whose runtime this host cannot run is `Failed`: invoking it fails at
    /// once, with the reason.
    pub(crate) fn runnable(&self, f: Arc<Function>) -> Result<Arc<Function>, LambdaError> {
        let f = self.cache.running(f).map_err(|_| {
            LambdaError::Conflict(
                "The operation cannot be performed at this time. The function is currently in the following state: Pending"
                    .into(),
            )
        })?;
        if let RuntimeStatus::Unavailable(why) = self.invoker.runtime_status(f.config.runtime) {
            return Err(LambdaError::Conflict(format!(
                "The operation cannot be performed at this time. The function is currently in the following state: \
                 Failed. {why}"
            )));
        }
        Ok(f)
    }

    /// The version an Invoke names by another account's ARN, if that account's resource
    /// policy lets the caller invoke it.
    pub(crate) fn resolve_granted(
        &self,
        caller: &Caller,
        owner: String,
        name: &str,
        qualifier: Option<&str>,
    ) -> Result<(Arc<Function>, Option<String>), LambdaError> {
        let as_owner = Caller { account: owner, region: caller.region.clone() };
        let (f, shown) = self.resolve_picked(&as_owner, name, qualifier, true)?;
        if !self.policy_allows(&f, shown.as_deref(), policy::Principal::Account(&caller.account), policy::INVOKE) {
            let mut arn = function_arn(&f.region, &f.account, &f.name);
            if let Some(q) = &shown {
                arn = format!("{arn}:{q}");
            }
            return Err(LambdaError::AccessDenied(format!(
                "User: arn:aws:iam::{}:root is not authorized to perform: lambda:InvokeFunction on resource: {arn} \
                 because no resource-based policy allows the lambda:InvokeFunction action",
                caller.account
            )));
        }
        Ok((f, shown))
    }

    /// Invoke, in any of its three types.
    pub async fn invoke(
        &self,
        caller: &Caller,
        name: &str,
        qualifier: Option<&str>,
        kind: InvocationType,
        input: InvokeInput,
    ) -> Result<InvokeOutcome, LambdaError> {
        let (f, shown) = self.resolve_invoked(caller, name, qualifier).map_err(|e| latest_named(e, name, qualifier))?;
        self.execute(f, shown, kind, input).await
    }

    /// Runs a resolved invocation of `f` (named by the caller with `shown`): checks its
    /// payload, then queues it (`Event`), runs it, or only answers (`DryRun`).
    pub(crate) async fn execute(
        &self,
        f: Arc<Function>,
        shown: Option<String>,
        kind: InvocationType,
        input: InvokeInput,
    ) -> Result<InvokeOutcome, LambdaError> {
        // No payload is the empty object, as AWS hands it on (to the function, and to a
        // destination's record).
        let payload = if input.payload.is_empty() { Bytes::from_static(b"{}") } else { input.payload };
        let limit = match kind {
            InvocationType::Event => limits::ASYNC_PAYLOAD_MAX_BYTES,
            _ => limits::SYNC_PAYLOAD_MAX_BYTES,
        };
        if payload.len() > limit {
            return Err(LambdaError::RequestTooLarge(format!(
                "Request must be smaller than {limit} bytes for the InvokeFunction operation"
            )));
        }
        check_json(&payload)?;
        match kind {
            InvocationType::DryRun => Ok(InvokeOutcome::Validated),
            InvocationType::Event => {
                let event = AsyncEvent {
                    id: input.request_id,
                    account: f.account.clone(),
                    region: f.region.clone(),
                    function: f.name.clone(),
                    payload: payload.to_vec(),
                    accepted_ms: 0,
                    attempts: 0,
                    next_attempt_ms: 0,
                    qualifier: shown,
                    seq: 0,
                };
                self.queue.accept(event).await?;
                Ok(InvokeOutcome::Accepted)
            }
            InvocationType::RequestResponse | InvocationType::Streaming => {
                let request = InvokeRequest {
                    stream: kind == InvocationType::Streaming,
                    request_id: input.request_id,
                    payload,
                    log_tail: input.log_tail,
                    client_context: input.client_context,
                    capacity: self.cache.sync_capacity(&f, shown.as_deref()),
                    qualifier: shown,
                };
                self.invoker.invoke(f, request).await.map(InvokeOutcome::Completed).map_err(invoke_failed)
            }
        }
    }
}

/// What a synchronous invocation's failure to run is to its caller.
fn invoke_failed(e: InvokeError) -> LambdaError {
    match e {
        InvokeError::TooManyRequests { reserved } => LambdaError::TooManyRequests {
            message: "Rate Exceeded.".into(),
            reason: if reserved {
                "ReservedFunctionConcurrentInvocationLimitExceeded"
            } else {
                "ConcurrentInvocationLimitExceeded"
            },
        },
        InvokeError::InvalidRuntime(m) => LambdaError::InvalidRuntime(m),
        InvokeError::Service(m) => {
            tracing::error!(error = %m, "invocation failed inside Lamina");
            LambdaError::Service(m)
        }
    }
}

fn check_json(payload: &Bytes) -> Result<(), LambdaError> {
    if payload.is_empty() {
        return Ok(());
    }
    serde_json::from_slice::<serde::de::IgnoredAny>(payload).map(drop).map_err(|e| {
        LambdaError::InvalidRequestContent(format!(
            "Could not parse request body into json: Could not parse payload into json: {e}"
        ))
    })
}
