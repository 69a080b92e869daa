//! How CloudFormation reaches the services: through their own operations, as AWS's
//! resource providers do. A provider hands an operation's input tree (the shape the
//! service's model gives it) to [`Operations`], which the edge implements by running the
//! same handler a client's request would reach; so a stack's resource is checked, made and
//! refused exactly as the API would make or refuse it.

use std::future::Future;
use std::pin::Pin;

use serde_json::Value;

/// Who a stack acts as: the account and region it lives in, the principal that asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acting {
    /// The account.
    pub account: String,
    /// The region.
    pub region: String,
    /// The caller's ARN.
    pub principal: String,
    /// The host the stack's request was sent to (where SQS's queue URLs point).
    pub host: String,
}

/// A service's refusal, as its API would answer it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationError {
    /// The error code (`ResourceNotFoundException`, `NoSuchBucket`, …).
    pub code: String,
    /// The message.
    pub message: String,
    /// The HTTP status it is answered with.
    pub status: u16,
}

impl OperationError {
    /// Whether the error says the thing named does not exist.
    pub fn is_not_found(&self) -> bool {
        self.status == 404
            || self.code.contains("NotFound")
            || self.code.starts_with("NoSuch")
            || self.code.contains("NonExistent")
            || self.code.contains("DoesNotExist")
            || self.code == "AWS.SimpleQueueService.NonExistentQueue"
    }
}

/// A pending answer.
pub type Pending<'a, T> = Pin<Box<dyn Future<Output = Result<T, OperationError>> + Send + 'a>>;

/// The services' operations, run as their API would run them.
pub trait Operations: Send + Sync + 'static {
    /// Runs `operation` of `service` (its model's name: `lambda`, `sqs`, `iam`, …) on an
    /// input tree; the output tree.
    fn call<'a>(&'a self, acting: &'a Acting, service: &'a str, operation: &'a str, input: Value)
        -> Pending<'a, Value>;

    /// Reads an S3 object (a `TemplateURL`'s), if it is at most `limit` bytes.
    fn read_object<'a>(
        &'a self,
        acting: &'a Acting,
        bucket: &'a str,
        key: &'a str,
        limit: usize,
    ) -> Pending<'a, Vec<u8>>;
}
