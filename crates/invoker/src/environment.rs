//! One execution environment: a sandboxed process tree, its Runtime API and its log.

use std::process::ExitStatus;
use std::time::{Duration, Instant};

use bytes::Bytes;
use runtime_api::{InitError, Invocation, Outcome, RuntimeApi, StreamPiece, Streamed, MAX_RESPONSE_BYTES};
use sandbox::Sandboxed;
use tokio::sync::oneshot;

use crate::logs::LogCapture;

/// What the caller of one invocation sees, known before its log is complete.
#[derive(Debug)]
pub(crate) struct Settled {
    /// The response or error document.
    pub payload: Bytes,
    /// Whether the caller sees `X-Amz-Function-Error: Unhandled`.
    pub function_error: bool,
    /// What is still to be written to the log.
    pub closing: Closing,
    /// Whether the environment was warm and its runtime exited before taking the
    /// invocation: the function never saw it, and a fresh environment may run it.
    pub undelivered: bool,
    /// A response the runtime is streaming: the payload is empty, and the invocation is
    /// over once [`Environment::pump`] has passed the stream on.
    pub stream: Option<Streaming>,
}

/// A response being streamed, with the invocation's deadline.
#[derive(Debug)]
pub(crate) struct Streaming {
    /// Its `Content-Type`.
    pub content_type: String,
    pieces: tokio::sync::mpsc::Receiver<StreamPiece>,
    deadline: tokio::time::Instant,
}

/// How a streamed response ended.
#[derive(Debug)]
pub(crate) enum StreamEnd {
    /// As the function meant it to.
    Ended,
    /// With an error: its type and document (the runtime's trailers, or Lamina's words
    /// when the runtime died, ran out of time or wrote too much).
    Failed(String, Bytes),
}

/// The end of an invocation's log, written after the caller has its answer.
#[derive(Debug)]
pub(crate) struct Closing {
    request_id: String,
    duration: Duration,
    init_duration: Option<Duration>,
    status: &'static str,
    extra_line: Option<String>,
    reused_later: bool,
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
    /// Whether the environment's processes are frozen (see `Invoker`'s freeze pass).
    pub frozen: bool,
    /// Whether it was started for provisioned concurrency (and is kept, not reaped).
    pub provisioned: bool,
    /// Its own credentials, revoked as it is dropped.
    pub _credentials: Option<crate::CredentialLease>,
    /// The running invocation's deadline.
    pub deadline: tokio::time::Instant,
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
    /// Freezes an idle environment, once.
    pub(crate) fn freeze(&mut self) {
        if !self.frozen {
            self.process.freeze();
            self.frozen = true;
        }
    }

    /// Waits for the runtime to finish its initialisation (its first poll for work), as
    /// provisioned concurrency does ahead of any invocation. The error says why it did not.
    pub(crate) async fn initialize(&mut self) -> Result<(), String> {
        let deadline = tokio::time::Instant::from_std(self.launched + self.init_timeout);
        let init_error = &mut self.init_error;
        let failure = tokio::select! {
            biased;
            _ = self.api.initialized() => None,
            Some(e) = async { match init_error.as_mut() { Some(rx) => rx.await.ok(), None => None } } =>
                Some(e.error_type.unwrap_or_else(|| "Runtime.Unknown".to_owned())),
            status = self.process.wait() => Some(exit_reason(status.ok())),
            _ = tokio::time::sleep_until(deadline) => Some(format!(
                "Init timed out after {:.2} seconds", self.init_timeout.as_secs_f64()
            )),
        };
        match failure {
            None => {
                self.initialized = true;
                self.init_error = None;
                self.last_used = Instant::now();
                Ok(())
            }
            Some(why) => {
                self.process.kill();
                Err(why)
            }
        }
    }

    /// Whether the first process is still running.
    pub(crate) fn alive(&mut self) -> bool {
        !matches!(self.process.try_wait(), Ok(Some(_)) | Err(_))
    }

    /// Runs one invocation until its outcome is known. The caller can answer with the
    /// [`Settled`] payload at once, then must call [`Environment::close_log`] before the
    /// environment is used again.
    pub(crate) async fn run(&mut self, inv: Invocation, version: &str) -> Settled {
        let request_id = inv.request_id.clone();
        let timeout = inv.timeout;
        let cold = !self.initialized;
        self.logs.line(&format!("START RequestId: {request_id} Version: {version}"));
        if std::mem::take(&mut self.frozen) {
            self.process.thaw();
        }
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
            Err(phase) => {
                let undelivered = !cold && matches!(phase, Phase::Exited(_));
                return Settled { undelivered, ..self.settle(phase, request_id, Duration::ZERO, None) };
            }
        };
        let run_started = deadline - timeout;
        self.deadline = tokio::time::Instant::from_std(deadline);
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
        self.settle(phase, request_id, run_started.elapsed(), init_duration)
    }

    fn sample_memory(&mut self) {
        if let Some(bytes) = self.process.max_memory_bytes() {
            self.max_memory_mb = self.max_memory_mb.max(bytes.div_ceil(1024 * 1024));
        }
    }

    /// Decides what the caller sees; kills the environment when it cannot be reused.
    fn settle(
        &mut self,
        phase: Phase,
        request_id: String,
        duration: Duration,
        init_duration: Option<Duration>,
    ) -> Settled {
        let mut closing =
            Closing { request_id, duration, init_duration, status: "", extra_line: None, reused_later: true };
        let mut stream = None;
        let id = &closing.request_id;
        let (payload, function_error) = match phase {
            Phase::Answered(Outcome::Response(body)) => (body, false),
            Phase::Answered(Outcome::Error { body, .. }) => (body, true),
            Phase::Answered(Outcome::Streamed(Streamed { content_type, pieces })) => {
                stream = Some(Streaming { content_type, pieces, deadline: self.deadline });
                (Bytes::new(), false)
            }
            Phase::Answered(Outcome::ResponseTooLarge) => (
                error_doc(
                    "Function.ResponseSizeTooLarge",
                    format!(
                        "Response payload size exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes)."
                    ),
                ),
                true,
            ),
            Phase::InitFailed(e) => {
                self.sample_memory();
                self.process.kill();
                closing.reused_later = false;
                closing.status = "Status: error\tError Type: Runtime.InitError";
                let body = if e.body.is_empty() {
                    error_doc(e.error_type.as_deref().unwrap_or("Runtime.Unknown"), "Init failed".into())
                } else {
                    e.body
                };
                (body, true)
            }
            Phase::Exited(status) => {
                let reason = exit_reason(status);
                let kind = if self.process.out_of_memory() { "Runtime.OutOfMemory" } else { "Runtime.ExitError" };
                self.process.kill();
                closing.reused_later = false;
                closing.status = if kind == "Runtime.OutOfMemory" {
                    "Status: error\tError Type: Runtime.OutOfMemory"
                } else {
                    "Status: error\tError Type: Runtime.ExitError"
                };
                closing.extra_line = Some(format!("RequestId: {id} Error: {reason}\n{kind}"));
                (error_doc(kind, format!("RequestId: {id} Error: {reason}")), true)
            }
            Phase::TimedOut(limit) => {
                self.sample_memory();
                self.process.kill();
                let secs = format!("{:.2}", limit.as_secs_f64());
                closing.reused_later = false;
                closing.status = "Status: timeout";
                closing.extra_line = Some(format!("{} {id} Task timed out after {secs} seconds", now_rfc3339()));
                (
                    error_doc(
                        "Sandbox.Timedout",
                        format!("RequestId: {id} Error: Task timed out after {secs} seconds"),
                    ),
                    true,
                )
            }
        };
        Settled { payload, function_error, closing, undelivered: false, stream }
    }

    /// Passes a streamed response on as it arrives (to `out`, else into `whole`) until it
    /// ends, the runtime dies or the deadline passes, and records the end in the log's
    /// closing lines. A runtime that died or ran out of time is not reused.
    pub(crate) async fn pump(
        &mut self,
        mut streaming: Streaming,
        out: Option<&tokio::sync::mpsc::Sender<crate::StreamEvent>>,
        whole: &mut Vec<u8>,
        closing: &mut Closing,
    ) -> StreamEnd {
        let started = Instant::now();
        let id = closing.request_id.clone();
        let end = loop {
            let piece = tokio::select! {
                biased;
                piece = streaming.pieces.recv() => piece.unwrap_or(StreamPiece::Broken),
                status = self.process.wait() => {
                    // What the runtime wrote before it exited still counts.
                    match tokio::time::timeout(Duration::from_millis(100), streaming.pieces.recv()).await {
                        Ok(Some(piece)) => piece,
                        _ => {
                            let reason = exit_reason(status.ok());
                            break self.stream_died(&id, reason, closing);
                        }
                    }
                }
                _ = tokio::time::sleep_until(streaming.deadline) => {
                    self.sample_memory();
                    self.process.kill();
                    let limit = streaming.deadline.duration_since(tokio::time::Instant::from_std(started)) + closing.duration;
                    let secs = format!("{:.2}", limit.as_secs_f64());
                    closing.reused_later = false;
                    closing.status = "Status: timeout";
                    closing.extra_line = Some(format!("{} {id} Task timed out after {secs} seconds", now_rfc3339()));
                    break StreamEnd::Failed(
                        "Sandbox.Timedout".into(),
                        error_doc("Sandbox.Timedout", format!("RequestId: {id} Error: Task timed out after {secs} seconds")),
                    );
                }
            };
            match piece {
                StreamPiece::Data(bytes) => match out {
                    Some(out) => {
                        let _ = out.send(crate::StreamEvent::Chunk(bytes)).await;
                    }
                    None => whole.extend_from_slice(&bytes),
                },
                StreamPiece::End => break StreamEnd::Ended,
                StreamPiece::Error { error_type, body } => break StreamEnd::Failed(error_type, body),
                StreamPiece::TooLarge => {
                    let message = format!(
                        "Response payload size exceeded maximum allowed payload size ({} bytes).",
                        runtime_api::MAX_STREAMED_BYTES
                    );
                    break StreamEnd::Failed(
                        "Function.ResponseSizeTooLarge".into(),
                        error_doc("Function.ResponseSizeTooLarge", message),
                    );
                }
                StreamPiece::Broken => {
                    let status = tokio::time::timeout(Duration::from_millis(100), self.process.wait()).await;
                    let reason = exit_reason(status.ok().and_then(Result::ok));
                    break self.stream_died(&id, reason, closing);
                }
            }
        };
        closing.duration += started.elapsed();
        end
    }

    fn stream_died(&mut self, id: &str, reason: String, closing: &mut Closing) -> StreamEnd {
        self.process.kill();
        closing.reused_later = false;
        closing.status = "Status: error\tError Type: Runtime.ExitError";
        closing.extra_line = Some(format!("RequestId: {id} Error: {reason}\nRuntime.ExitError"));
        StreamEnd::Failed(
            "Runtime.ExitError".into(),
            error_doc("Runtime.ExitError", format!("RequestId: {id} Error: {reason}")),
        )
    }

    /// Completes the invocation's log (`END`, `REPORT`) and returns it, and whether the
    /// environment may serve another invocation.
    pub(crate) fn close_log(&mut self, closing: Closing) -> (Vec<u8>, bool) {
        // A cgroup keeps its peak after its processes are gone.
        self.sample_memory();
        self.logs.flush();
        let Closing { request_id, duration, init_duration, status, extra_line, reused_later } = closing;
        if let Some(line) = extra_line {
            self.logs.line(&line);
        }
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
        report.push_str(status);
        self.logs.line(&report);
        self.last_used = Instant::now();
        (self.logs.take(), reused_later)
    }
}
