//! AWS Lambda's documented quotas, as Lamina enforces them.

/// Smallest configurable memory, in MB.
pub const MEMORY_MIN_MB: i64 = 128;
/// Largest configurable memory, in MB.
pub const MEMORY_MAX_MB: i64 = 10_240;
/// Memory when none is given, in MB.
pub const MEMORY_DEFAULT_MB: u32 = 128;
/// Shortest timeout, in seconds.
pub const TIMEOUT_MIN_S: i64 = 1;
/// Longest timeout, in seconds.
pub const TIMEOUT_MAX_S: i64 = 900;
/// Timeout when none is given, in seconds.
pub const TIMEOUT_DEFAULT_S: u32 = 3;
/// Smallest `/tmp`, in MB.
pub const EPHEMERAL_MIN_MB: i64 = 512;
/// Largest `/tmp`, in MB.
pub const EPHEMERAL_MAX_MB: i64 = 10_240;
/// `/tmp` when none is given, in MB.
pub const EPHEMERAL_DEFAULT_MB: u32 = 512;
/// Total size of a function's environment variables, in bytes, measured as AWS does
/// (the JSON object of all variables).
pub const ENVIRONMENT_MAX_BYTES: usize = 4096;
/// Largest deployment package uploaded directly, zipped.
pub const CODE_ZIPPED_MAX_BYTES: u64 = 50 * 1024 * 1024;
/// Largest deployment package once unzipped.
pub const CODE_UNZIPPED_MAX_BYTES: u64 = 262_144_000;
/// Largest CreateFunction / UpdateFunctionCode request body (the zip is base64 in JSON),
/// as AWS answers it.
pub const CODE_REQUEST_MAX_BYTES: usize = 70_167_211;
/// Largest synchronous invocation request and response payload.
pub const SYNC_PAYLOAD_MAX_BYTES: usize = 6 * 1024 * 1024;
/// Largest asynchronous (`Event`) invocation payload.
pub const ASYNC_PAYLOAD_MAX_BYTES: usize = 1024 * 1024;
/// Total storage for deployment packages and layers in one account.
pub const TOTAL_CODE_SIZE_BYTES: u64 = 80 * 1024 * 1024 * 1024;
/// Concurrency that must stay unreserved in an account.
pub const UNRESERVED_MIN: u32 = 100;
/// Default account concurrency.
pub const ACCOUNT_CONCURRENCY_DEFAULT: u32 = 1000;
/// Longest function name.
pub const FUNCTION_NAME_MAX: usize = 64;
/// Longest description.
pub const DESCRIPTION_MAX: usize = 256;
/// Longest handler string.
pub const HANDLER_MAX: usize = 128;
/// Largest page of ListFunctions.
pub const LIST_FUNCTIONS_PAGE_MAX: usize = 50;
/// Bytes of log returned by `LogType: Tail`.
pub const LOG_TAIL_BYTES: usize = 4096;
/// Most tags on one resource.
pub const TAGS_MAX: usize = 50;
/// Retry attempts for asynchronous invocations by default.
pub const ASYNC_RETRIES_DEFAULT: u32 = 2;
/// Age after which an unprocessed asynchronous event is dropped, by default.
pub const ASYNC_MAX_EVENT_AGE_S: u64 = 21_600;
