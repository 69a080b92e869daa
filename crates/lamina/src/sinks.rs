//! Adapters that only forward: functions' output, SNS's delivery logs and stages' access
//! logs into CloudWatch Logs, functions' credentials to the authenticator, packages
//! named by S3 location from S3, and S3's event notifications to SQS, SNS and Lambda.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// Functions' output and stages' access logs, into CloudWatch Logs.
pub(crate) struct Logs(pub(crate) logs::LogsService);

impl std::fmt::Debug for Logs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Logs")
    }
}

impl invoker::LogSink for Logs {
    fn write(&self, s: &invoker::LogStreamId, lines: Vec<(i64, String)>) {
        self.0.ingest(&s.account, &s.region, &s.group, &s.stream, lines);
    }

    fn has_room(&self) -> bool {
        self.0.has_room()
    }

    fn until_room(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(self.0.until_room())
    }
}

impl sns::DeliveryLog for Logs {
    fn write(&self, account: &str, region: &str, group: &str, stream: &str, line: String) {
        self.0.ingest(account, region, group, stream, vec![(model::clock::now_ms(), line)]);
    }
}

impl gateway::AccessLogSink for Logs {
    fn write(&self, destination_arn: &str, stream: &str, line: String) {
        self.0.ingest_to_arn(destination_arn, stream, line);
    }
}

/// Functions' credentials: temporary keys of their execution role's session, known to
/// the server (verified in authenticated mode, read as who they are in open mode).
#[derive(Debug)]
pub(crate) struct FunctionKeys(pub(crate) Arc<aws_api::Authenticator>);

impl invoker::CredentialIssuer for FunctionKeys {
    fn issue(&self, f: &model::Function) -> (String, String, String) {
        let (account, principal) = f.execution_session();
        self.0.session_for(&account, &principal)
    }

    fn revoke(&self, access_key: &str) {
        self.0.revoke(access_key);
    }
}

/// Functions' packages named by S3 location, read from S3 as the function's caller.
pub(crate) struct S3Code(pub(crate) s3::S3Service);

impl lambda::CodeObjects for S3Code {
    fn fetch(
        &self,
        caller: &lambda::Caller,
        at: &lambda::S3Location,
        max: u64,
    ) -> Result<Vec<u8>, Option<(String, String)>> {
        let caller = s3::Caller::from(caller.clone());
        match self.0.read_whole(&caller, &at.bucket, &at.key, at.version.as_deref(), max) {
            Ok(Some(bytes)) => Ok(bytes),
            Ok(None) => Err(None),
            Err(e) => Err(Some((e.code.to_owned(), e.message))),
        }
    }
}

/// S3's event notifications, to the services that take them: each decides, by its own
/// policy, whether S3 may deliver for the bucket.
pub(crate) struct S3Events {
    pub(crate) sqs: sqs::SqsService,
    pub(crate) sns: sns::SnsService,
    pub(crate) lambda: lambda::LambdaService,
}

impl S3Events {
    fn who<'a>(bucket_arn: &'a str, account: &'a str) -> sqs::Requester<'a> {
        sqs::Requester::Service { service: "s3.amazonaws.com", source_arn: bucket_arn, source_account: account }
    }
}

impl s3::EventTargets for S3Events {
    fn reach(&self, kind: s3::TargetKind, arn: &str, bucket_arn: &str, account: &str) -> s3::Reach {
        let who = Self::who(bucket_arn, account);
        let allowed = match kind {
            s3::TargetKind::Queue => self.sqs.allows(arn, &who, "sqs:SendMessage"),
            s3::TargetKind::Topic => self.sns.permits(arn, &who),
            s3::TargetKind::Function => self.lambda.admits(lambda::ServicePrincipal::S3, bucket_arn, arn),
        };
        match allowed {
            None => s3::Reach::Missing,
            Some(false) => s3::Reach::Denied,
            Some(true) => s3::Reach::Allowed,
        }
    }

    fn send<'a>(
        &'a self,
        n: &'a s3::Outgoing,
    ) -> Pin<Box<dyn Future<Output = Result<(), s3::Undelivered>> + Send + 'a>> {
        use s3::Undelivered::{Later, Refused};
        // A service's own failure (its store's) is worth another try; the rest is a refusal.
        let by_status = |status: u16, e: String| if status >= 500 { Later(e) } else { Refused(e) };
        Box::pin(async move {
            let who = Self::who(&n.bucket_arn, &n.account);
            let found = match n.kind {
                s3::TargetKind::Queue => {
                    let trace = n.trace_header.iter().map(|t| {
                        let value =
                            sqs::AttributeValue { data_type: "String".into(), string: Some(t.clone()), binary: None };
                        ("AWSTraceHeader".to_owned(), value)
                    });
                    let input = sqs::SendInput { body: n.body.clone(), system: trace.collect(), ..Default::default() };
                    self.sqs.send_to_arn(&n.arn, &who, input).map_err(|e| by_status(e.status, e.to_string()))?
                }
                s3::TargetKind::Topic => {
                    let input = sns::PublishInput {
                        message: n.body.clone(),
                        subject: Some(s3::TOPIC_SUBJECT.to_owned()),
                        trace_header: n.trace_header.clone(),
                        ..Default::default()
                    };
                    let published = self.sns.publish_to_arn(&n.arn, &who, input).await;
                    published.map_err(|e| by_status(e.status, e.to_string()))?
                }
                s3::TargetKind::Function => {
                    let principal = lambda::ServicePrincipal::S3;
                    let invoked = self.lambda.invoke_event_for(principal, &n.bucket_arn, &n.arn, n.body.clone()).await;
                    invoked.map_err(|e| match e {
                        lambda::LambdaError::Service(_) | lambda::LambdaError::TooManyRequests { .. } => {
                            Later(e.to_string())
                        }
                        e => Refused(e.to_string()),
                    })?;
                    true
                }
            };
            found.then_some(()).ok_or_else(|| Refused("the destination does not exist".to_owned()))
        })
    }
}
