//! One execution environment: a sandboxed process tree, its Runtime API and its log.

use std::process::ExitStatus;
use std::time::{Duration, Instant};

use bytes::Bytes;
use runtime_api::{InitError, Invocation, Outcome, RuntimeApi, MAX_RESPONSE_BYTES};
use sandbox::Sandboxed;
use tokio::sync::oneshot;

use crate::logs::LogCapture;

/// What one invocation produced.
#[derive(Debug)]
pub(crate) struct Completion {
    /// The response or error document.
    pub payload: Bytes,
    /// Whether the caller sees `X-Amz-Function-Error: Unhandled`.
    pub function_error: bool,
    /// The invocation's whole log, `START` to `REPORT`.
    pub log: Vec<u8>,
}

pub(crate) struct Environment {
    pub revision: String,
    pub last_used: Instant,
    pub api: RuntimeApi,
    pub init_error: Option<oneshot::Receiver<InitError>>,
    pub process: Sandboxed,
    pub logs: LogCapture,
    pub launched: Instant,
    pub initialized: bool,
    pub memory_mb: u32,
    pub max_memory_mb: u64,
    pub init_timeout: Duration,
}

enum Phase {
    Answered(Outcome),
    InitFailed(InitError),
    Exited(Option<ExitStatus>),
    TimedOut(Duration),
}

pub(crate) fn error_doc(error_type: &str, message: String) -> Bytes {
    Bytes::from(serde_json::json!({ "errorType": error_type, "errorMessage": message }).to_string())
}

fn exit_reason(status: Option<ExitStatus>) -> String {
    use std::os::unix::process::ExitStatusExt;
    match status {
        Some(s) if s.code() == Some(0) => "Runtime exited without providing a reason".to_owned(),
        Some(s) => match (s.code(), s.signal()) {
            (Some(code), _) => format!("Runtime exited with error: exit status {code}"),
            (None, Some(9)) => "Runtime exited with error: signal: killed".to_owned(),
            (None, Some(sig)) => format!("Runtime exited with error: signal {sig}"),
            (None, None) => "Runtime exited with error".to_owned(),
        },
        None => "Runtime exited with error".to_owned(),
    }
}

fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc();
    now.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

impl Environment {
    /// Whether the first process is still running.
    pub(crate) fn alive(&mut self) -> bool {
        !matches!(self.process.try_wait(), Ok(Some(_)) | Err(_))
    }

    /// Runs one invocation to completion. Returns what it produced and whether the
    /// environment can be reused.
    pub(crate) async fn run(&mut self, inv: Invocation, version: &str) -> (Completion, bool) {
        let request_id = inv.request_id.clone();
        let timeout = inv.timeout;
        let cold = !self.initialized;
        self.logs.line(&format!("START RequestId: {request_id} Version: {version}"));
        let mut d = self.api.dispatch(inv);

        // Phase 1: the runtime picks the invocation up (after its init, when cold).
        let init_deadline = tokio::time::Instant::from_std(self.launched + self.init_timeout);
        let init_error = &mut self.init_error;
        let picked_up: Result<Instant, Phase> = tokio::select! {
            biased;
            started = &mut d.started => started.map_err(|_| Phase::Exited(None)),
            Some(e) = async { match init_error.as_mut() { Some(rx) => rx.await.ok(), None => None } } =>
                Err(Phase::InitFailed(e)),
            status = self.process.wait() => Err(Phase::Exited(status.ok())),
            _ = tokio::time::sleep_until(init_deadline), if cold => Err(Phase::TimedOut(self.init_timeout)),
        };
        let deadline = match picked_up {
            Ok(deadline) => deadline,
            Err(phase) => return self.finish(phase, &request_id, Duration::ZERO, None).await,
        };
        let run_started = deadline - timeout;
        let init_duration = cold.then(|| run_started.saturating_duration_since(self.launched));
        self.initialized = true;
        self.init_error = None;

        // Phase 2: the runtime answers, dies, or runs out of time.
        let phase = tokio::select! {
            biased;
            done = &mut d.done => match done {
                Ok(outcome) => Phase::Answered(outcome),
                Err(_) => Phase::Exited(None),
            },
            status = self.process.wait() => {
                // The answer may still be in flight when the process exits.
                match tokio::time::timeout(Duration::from_millis(100), &mut d.done).await {
                    Ok(Ok(outcome)) => Phase::Answered(outcome),
                    _ => Phase::Exited(status.ok()),
                }
            }
            _ = tokio::time::sleep_until(deadline.into()) => Phase::TimedOut(timeout),
        };
        self.finish(phase, &request_id, run_started.elapsed(), init_duration).await
    }

    async fn finish(
        &mut self,
        phase: Phase,
        request_id: &str,
        duration: Duration,
        init_duration: Option<Duration>,
    ) -> (Completion, bool) {
        if let Some(bytes) = self.process.max_memory_bytes() {
            self.max_memory_mb = self.max_memory_mb.max(bytes.div_ceil(1024 * 1024));
        }
        let mut report_status = "";
        let (payload, function_error, reusable) = match phase {
            Phase::Answered(Outcome::Response(body)) => (body, false, true),
            Phase::Answered(Outcome::Error { body, .. }) => (body, true, true),
            Phase::Answered(Outcome::ResponseTooLarge) => (
                error_doc(
                    "Function.ResponseSizeTooLarge",
                    format!(
                        "Response payload size exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes)."
                    ),
                ),
                true,
                true,
            ),
            Phase::InitFailed(e) => {
                self.process.kill();
                report_status = "Status: error\tError Type: Runtime.InitError";
                let body = if e.body.is_empty() {
                    error_doc(e.error_type.as_deref().unwrap_or("Runtime.Unknown"), "Init failed".into())
                } else {
                    e.body
                };
                (body, true, false)
            }
            Phase::Exited(status) => {
                let reason = exit_reason(status);
                self.logs.flush().await;
                self.logs.line(&format!("RequestId: {request_id} Error: {reason}\nRuntime.ExitError"));
                report_status = "Status: error\tError Type: Runtime.ExitError";
                (error_doc("Runtime.ExitError", format!("RequestId: {request_id} Error: {reason}")), true, false)
            }
            Phase::TimedOut(limit) => {
                self.process.kill();
                let secs = format!("{:.2}", limit.as_secs_f64());
                self.logs.flush().await;
                self.logs.line(&format!("{} {request_id} Task timed out after {secs} seconds", now_rfc3339()));
                report_status = "Status: timeout";
                (
                    error_doc(
                        "Sandbox.Timedout",
                        format!("RequestId: {request_id} Error: Task timed out after {secs} seconds"),
                    ),
                    true,
                    false,
                )
            }
        };
        self.logs.flush().await;
        let ms = duration.as_secs_f64() * 1000.0;
        let init_ms = init_duration.map(|d| d.as_secs_f64() * 1000.0);
        let billed = (ms + init_ms.unwrap_or(0.0)).ceil().max(1.0) as u64;
        let mut report = format!(
            "END RequestId: {request_id}\nREPORT RequestId: {request_id}\tDuration: {ms:.2} ms\tBilled Duration: {billed} ms\t\
             Memory Size: {} MB\tMax Memory Used: {} MB\t",
            self.memory_mb, self.max_memory_mb
        );
        if let Some(init_ms) = init_ms {
            report.push_str(&format!("Init Duration: {init_ms:.2} ms\t"));
        }
        report.push_str(report_status);
        self.logs.line(&report);
        self.last_used = Instant::now();
        (Completion { payload, function_error, log: self.logs.take() }, reusable)
    }
}
