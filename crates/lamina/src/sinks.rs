//! Adapters that only forward: functions' output, SNS's delivery logs and stages' access
//! logs into CloudWatch Logs, functions' credentials to the authenticator, and packages
//! named by S3 location from S3.

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
        match self.0.read_whole(caller, &at.bucket, &at.key, at.version.as_deref(), max) {
            Ok(Some(bytes)) => Ok(bytes),
            Ok(None) => Err(None),
            Err(e) => Err(Some((e.code.to_owned(), e.message))),
        }
    }
}
