//! The Lambda Runtime API (`/2018-06-01/runtime/...`) for one execution environment.
//!
//! Every environment gets its own listener: the address handed to it in
//! `AWS_LAMBDA_RUNTIME_API` reaches only its own queue, so one environment cannot read
//! or answer another's invocations. The invoker drives it through [`RuntimeApi`]:
//! [`RuntimeApi::dispatch`] queues one invocation and yields a [`Dispatched`] whose
//! futures resolve when the runtime picks the invocation up and when it answers.
//!
//! The official clients (`lambda_runtime`, `awslambdaric`) and Lamina's own bootstraps
//! talk to this server unmodified. This crate knows nothing about functions, processes
//! or storage.
#![deny(missing_docs)]

use model::sync::Mutex;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

/// Largest response or error body a runtime may post, as AWS counts it.
pub const MAX_RESPONSE_BYTES: usize = 6 * 1024 * 1024 + 100;

/// One invocation handed to the runtime.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// `Lambda-Runtime-Aws-Request-Id`.
    pub request_id: String,
    /// The event.
    pub payload: Bytes,
    /// The function's timeout; the deadline is computed when the runtime picks it up.
    pub timeout: Duration,
    /// `Lambda-Runtime-Invoked-Function-Arn`.
    pub invoked_function_arn: String,
    /// `Lambda-Runtime-Trace-Id`.
    pub trace_id: String,
    /// `Lambda-Runtime-Client-Context`, base64-decoded JSON as the caller sent it.
    pub client_context: Option<String>,
    /// `Lambda-Runtime-Cognito-Identity`.
    pub cognito_identity: Option<String>,
}

/// Largest response a runtime may stream, as AWS limits it by default (20 MB).
pub const MAX_STREAMED_BYTES: usize = 20 * 1024 * 1024;

/// How much of a streamed response goes out at full speed; after it, AWS caps the rate
/// at [`STREAM_CAPPED_BYTES_PER_SEC`].
pub const STREAM_UNCAPPED_BYTES: usize = 6 * 1024 * 1024;

/// The rate of a streamed response after its first [`STREAM_UNCAPPED_BYTES`] (2 MB/s).
pub const STREAM_CAPPED_BYTES_PER_SEC: f64 = 2.0 * 1024.0 * 1024.0;

/// A piece of a response the runtime streams, in order; the last is always an end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamPiece {
    /// Bytes the function wrote.
    Data(Bytes),
    /// The stream ended as the runtime meant it to.
    End,
    /// The runtime ended the stream with an error (`Lambda-Runtime-Function-Error-Type`
    /// and `Lambda-Runtime-Function-Error-Body` trailers, the body base64-decoded).
    Error {
        /// The error type trailer.
        error_type: String,
        /// The error document.
        body: Bytes,
    },
    /// The response went over [`MAX_STREAMED_BYTES`]; the rest was not read.
    TooLarge,
    /// The runtime's connection broke before the stream ended.
    Broken,
}

/// A response the runtime streams (`Lambda-Runtime-Function-Response-Mode: streaming`):
/// its pieces arrive as the runtime writes them, paced as AWS paces them.
#[derive(Debug)]
pub struct Streamed {
    /// Its `Content-Type`.
    pub content_type: String,
    /// Its pieces.
    pub pieces: mpsc::Receiver<StreamPiece>,
}

/// How the runtime finished an invocation.
#[derive(Debug)]
pub enum Outcome {
    /// `POST .../response`.
    Response(Bytes),
    /// `POST .../response` in streaming mode: it has begun.
    Streamed(Streamed),
    /// `POST .../error`, with `Lambda-Runtime-Function-Error-Type` if sent.
    Error {
        /// The error type header.
        error_type: Option<String>,
        /// The error document.
        body: Bytes,
    },
    /// The runtime tried to post more than [`MAX_RESPONSE_BYTES`].
    ResponseTooLarge,
}

/// The runtime reported an initialisation failure (`POST /runtime/init/error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitError {
    /// The error type header.
    pub error_type: Option<String>,
    /// The error document.
    pub body: Bytes,
}

/// An invocation that was queued for the runtime.
#[derive(Debug)]
pub struct Dispatched {
    /// Resolves with the deadline when the runtime picks the invocation up.
    pub started: oneshot::Receiver<Instant>,
    /// Resolves when the runtime answers.
    pub done: oneshot::Receiver<Outcome>,
}

struct Pending {
    invocation: Invocation,
    started: oneshot::Sender<Instant>,
    done: oneshot::Sender<Outcome>,
}

struct Shared {
    queue: tokio::sync::Mutex<mpsc::Receiver<Pending>>,
    current: Mutex<Option<(String, oneshot::Sender<Outcome>)>>,
    init_error: Mutex<Option<oneshot::Sender<InitError>>>,
    /// Set once the runtime first asks for an invocation: its initialisation is done.
    polled: tokio::sync::watch::Sender<bool>,
}

/// The Runtime API of one environment.
#[derive(Debug)]
pub struct RuntimeApi {
    addr: SocketAddr,
    queue: mpsc::Sender<Pending>,
    server: tokio::task::JoinHandle<()>,
    polled: tokio::sync::watch::Receiver<bool>,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending").field("request_id", &self.invocation.request_id).finish()
    }
}

/// Decides, for each accepted connection (local address, peer address), whether it may
/// use this Runtime API. Refused connections are closed at once.
pub type Admission = Arc<dyn Fn(SocketAddr, SocketAddr) -> bool + Send + Sync>;

/// A listener that only hands over admitted connections.
struct Admitting {
    inner: TcpListener,
    admit: Admission,
}

impl axum::serve::Listener for Admitting {
    type Io = tokio::net::TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.inner.accept().await {
                Ok((stream, peer)) => {
                    let local = stream.local_addr().unwrap_or(peer);
                    if (self.admit)(local, peer) {
                        let _ = stream.set_nodelay(true);
                        return (stream, peer);
                    }
                    tracing::warn!(%peer, "refused a connection to a Runtime API from outside its environment");
                }
                // Out of descriptors and the like: wait a moment rather than spin.
                Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

impl RuntimeApi {
    /// Serves a fresh Runtime API on `listener`, to the connections `admit` accepts.
    /// `init_error` fires if the runtime reports an initialisation failure.
    pub fn serve(
        listener: TcpListener,
        admit: Admission,
    ) -> std::io::Result<(RuntimeApi, oneshot::Receiver<InitError>)> {
        let addr = listener.local_addr()?;
        let (tx, rx) = mpsc::channel(1);
        let (init_tx, init_rx) = oneshot::channel();
        let (polled_tx, polled) = tokio::sync::watch::channel(false);
        let shared = Arc::new(Shared {
            queue: tokio::sync::Mutex::new(rx),
            current: Mutex::new(None),
            init_error: Mutex::new(Some(init_tx)),
            polled: polled_tx,
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route("/2018-06-01/runtime/invocation/{id}/response", post(response))
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(shared);
        let server = tokio::spawn(async move {
            let _ = axum::serve(Admitting { inner: listener, admit }, app).await;
        });
        Ok((RuntimeApi { addr, queue: tx, server, polled }, init_rx))
    }

    /// The `host:port` for `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> SocketAddr {
        self.addr
    }

    /// Resolves once the runtime has asked for its first invocation, that is, once its
    /// initialisation is done (it never resolves if the runtime dies first).
    pub async fn initialized(&self) {
        let mut polled = self.polled.clone();
        if polled.wait_for(|p| *p).await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// Queues one invocation. The environment handles one at a time; the invoker must
    /// not dispatch again before the previous one is done.
    pub fn dispatch(&self, invocation: Invocation) -> Dispatched {
        let (started_tx, started) = oneshot::channel();
        let (done_tx, done) = oneshot::channel();
        let pending = Pending { invocation, started: started_tx, done: done_tx };
        if let Err(e) = self.queue.try_send(pending) {
            // Queue full or closed: drop it, so both receivers report cancellation.
            drop(e);
        }
        Dispatched { started, done }
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn epoch_ms(at: SystemTime) -> u128 {
    at.duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0)
}

fn header(value: &str) -> HeaderValue {
    HeaderValue::from_str(value).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn runtime_error(status: StatusCode, error_type: &str, message: &str) -> Response {
    let body = serde_json::json!({ "errorMessage": message, "errorType": error_type });
    (status, [("content-type", "application/json")], body.to_string()).into_response()
}

fn accepted() -> Response {
    (StatusCode::ACCEPTED, [("content-type", "application/json")], "{\"status\":\"OK\"}").into_response()
}

async fn next(State(s): State<Arc<Shared>>) -> Response {
    s.polled.send_replace(true);
    let pending = {
        let mut queue = s.queue.lock().await;
        match queue.recv().await {
            Some(p) => p,
            None => return runtime_error(StatusCode::GONE, "EnvironmentShutdown", "The environment is shutting down"),
        }
    };
    let inv = pending.invocation;
    let deadline = Instant::now() + inv.timeout;
    let deadline_wall = SystemTime::now() + inv.timeout;
    *s.current.lock() = Some((inv.request_id.clone(), pending.done));
    let _ = pending.started.send(deadline);

    let mut resp = Response::new(Body::from(inv.payload));
    let h = resp.headers_mut();
    h.insert("content-type", HeaderValue::from_static("application/json"));
    h.insert("lambda-runtime-aws-request-id", header(&inv.request_id));
    h.insert("lambda-runtime-deadline-ms", header(&epoch_ms(deadline_wall).to_string()));
    h.insert("lambda-runtime-invoked-function-arn", header(&inv.invoked_function_arn));
    h.insert("lambda-runtime-trace-id", header(&inv.trace_id));
    if let Some(cc) = &inv.client_context {
        h.insert("lambda-runtime-client-context", header(cc));
    }
    if let Some(ci) = &inv.cognito_identity {
        h.insert("lambda-runtime-cognito-identity", header(ci));
    }
    resp
}

fn take_current(s: &Shared, id: &str) -> Option<oneshot::Sender<Outcome>> {
    let mut current = s.current.lock();
    match current.as_ref() {
        Some((current_id, _)) if current_id == id => current.take().map(|(_, tx)| tx),
        _ => None,
    }
}

async fn read_limited(body: Body) -> Result<Bytes, ()> {
    axum::body::to_bytes(body, MAX_RESPONSE_BYTES).await.map_err(drop)
}

fn invalid_id() -> Response {
    runtime_error(StatusCode::BAD_REQUEST, "InvalidRequestID", "Invalid request ID")
}

fn too_large() -> Response {
    runtime_error(
        StatusCode::PAYLOAD_TOO_LARGE,
        "RequestEntityTooLarge",
        &format!("Exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes)."),
    )
}

async fn response(State(s): State<Arc<Shared>>, Path(id): Path<String>, headers: HeaderMap, body: Body) -> Response {
    let Some(tx) = take_current(&s, &id) else {
        return invalid_id();
    };
    let streaming = headers
        .get("lambda-runtime-function-response-mode")
        .is_some_and(|m| m.as_bytes().eq_ignore_ascii_case(b"streaming"));
    if streaming {
        let content_type =
            headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("application/octet-stream").to_owned();
        let (pieces_tx, pieces) = mpsc::channel(16);
        let _ = tx.send(Outcome::Streamed(Streamed { content_type, pieces }));
        return match relay(body, &pieces_tx).await {
            StreamPiece::TooLarge => {
                let _ = pieces_tx.send(StreamPiece::TooLarge).await;
                too_large_stream()
            }
            end => {
                let _ = pieces_tx.send(end).await;
                accepted()
            }
        };
    }
    match read_limited(body).await {
        Ok(bytes) => {
            let _ = tx.send(Outcome::Response(bytes));
            accepted()
        }
        Err(()) => {
            let _ = tx.send(Outcome::ResponseTooLarge);
            too_large()
        }
    }
}

fn too_large_stream() -> Response {
    runtime_error(
        StatusCode::PAYLOAD_TOO_LARGE,
        "RequestEntityTooLarge",
        &format!("Exceeded maximum allowed payload size ({MAX_STREAMED_BYTES} bytes)."),
    )
}

/// Passes a streamed body's pieces on as they arrive (waiting while the reader is behind),
/// at full speed for the first [`STREAM_UNCAPPED_BYTES`] and at AWS's capped rate after;
/// answers how it ended, from its trailers.
async fn relay(body: Body, pieces: &mpsc::Sender<StreamPiece>) -> StreamPiece {
    use http_body_util::BodyExt;
    let mut body = body;
    let mut sent = 0usize;
    let mut capped_since: Option<tokio::time::Instant> = None;
    loop {
        let frame = match body.frame().await {
            None => return StreamPiece::End,
            Some(Err(_)) => return StreamPiece::Broken,
            Some(Ok(frame)) => frame,
        };
        let frame = match frame.into_data() {
            Ok(data) => {
                if data.is_empty() {
                    continue;
                }
                sent += data.len();
                if sent > MAX_STREAMED_BYTES {
                    return StreamPiece::TooLarge;
                }
                if pieces.send(StreamPiece::Data(data)).await.is_err() {
                    // Nobody reads it any more: the rest is drained, unread.
                    continue;
                }
                if sent > STREAM_UNCAPPED_BYTES {
                    let since = *capped_since.get_or_insert_with(tokio::time::Instant::now);
                    let due = (sent - STREAM_UNCAPPED_BYTES) as f64 / STREAM_CAPPED_BYTES_PER_SEC;
                    tokio::time::sleep_until(since + Duration::from_secs_f64(due)).await;
                }
                continue;
            }
            Err(frame) => frame,
        };
        if let Ok(trailers) = frame.into_trailers() {
            if let Some(error_type) = error_type(&trailers) {
                use base64::Engine;
                let encoded =
                    trailers.get("lambda-runtime-function-error-body").map(|v| v.as_bytes()).unwrap_or_default();
                let body =
                    base64::engine::general_purpose::STANDARD.decode(encoded).unwrap_or_else(|_| encoded.to_vec());
                return StreamPiece::Error { error_type, body: Bytes::from(body) };
            }
        }
    }
}

fn error_type(headers: &HeaderMap) -> Option<String> {
    headers.get("lambda-runtime-function-error-type").and_then(|v| v.to_str().ok()).map(str::to_owned)
}

async fn error(State(s): State<Arc<Shared>>, Path(id): Path<String>, headers: HeaderMap, body: Body) -> Response {
    let Some(tx) = take_current(&s, &id) else {
        return invalid_id();
    };
    match read_limited(body).await {
        Ok(body) => {
            let _ = tx.send(Outcome::Error { error_type: error_type(&headers), body });
            accepted()
        }
        Err(()) => {
            let _ = tx.send(Outcome::ResponseTooLarge);
            too_large()
        }
    }
}

async fn init_error(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Body) -> Response {
    let body = read_limited(body).await.unwrap_or_default();
    let tx = s.init_error.lock().take();
    match tx {
        Some(tx) => {
            let _ = tx.send(InitError { error_type: error_type(&headers), body });
            accepted()
        }
        None => runtime_error(
            StatusCode::FORBIDDEN,
            "InvalidStateTransition",
            "State transition from Ready to InitError failed",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn http(addr: SocketAddr, request: String) -> String {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(request.as_bytes()).await.unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        out
    }

    fn admit_all() -> Admission {
        Arc::new(|_, _| true)
    }

    #[tokio::test]
    async fn refused_connections_are_closed_unserved() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (api, _init) = RuntimeApi::serve(listener, Arc::new(|_, _| false)).unwrap();
        let _d = api.dispatch(invocation("secret"));
        let mut s = tokio::net::TcpStream::connect(api.address()).await.unwrap();
        let _ = s.write_all(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nhost: x\r\n\r\n").await;
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out).await; // closed, or reset
        assert!(out.is_empty(), "nothing is served to a refused connection");
    }

    fn invocation(id: &str) -> Invocation {
        Invocation {
            request_id: id.into(),
            payload: Bytes::from_static(b"{\"k\":1}"),
            timeout: Duration::from_secs(3),
            invoked_function_arn: "arn:aws:lambda:us-east-1:000000000000:function:f".into(),
            trace_id: "Root=1-0-0".into(),
            client_context: None,
            cognito_identity: None,
        }
    }

    #[tokio::test]
    async fn next_then_response_completes_the_invocation() {
        let (api, _init) = RuntimeApi::serve(TcpListener::bind("127.0.0.1:0").await.unwrap(), admit_all()).unwrap();
        let addr = api.address();
        let d = api.dispatch(invocation("req-1"));
        let got = http(
            addr,
            "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n".into(),
        )
        .await;
        assert!(got.contains("lambda-runtime-aws-request-id: req-1"), "{got}");
        assert!(got.contains("lambda-runtime-deadline-ms: "), "{got}");
        assert!(got.ends_with("{\"k\":1}"), "{got}");
        d.started.await.unwrap();
        tokio::time::timeout(Duration::from_secs(5), api.initialized()).await.expect("the first poll marks init done");

        let wrong = http(addr, "POST /2018-06-01/runtime/invocation/nope/response HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok".into()).await;
        assert!(wrong.starts_with("HTTP/1.1 400"), "{wrong}");
        let ok = http(addr, "POST /2018-06-01/runtime/invocation/req-1/response HTTP/1.1\r\nhost: x\r\ncontent-length: 4\r\nconnection: close\r\n\r\n\"hi\"".into()).await;
        assert!(ok.starts_with("HTTP/1.1 202"), "{ok}");
        assert!(matches!(d.done.await.unwrap(), Outcome::Response(b) if b == "\"hi\""));
    }

    #[tokio::test]
    async fn errors_and_init_errors_carry_their_type() {
        let (api, init) = RuntimeApi::serve(TcpListener::bind("127.0.0.1:0").await.unwrap(), admit_all()).unwrap();
        let addr = api.address();
        let d = api.dispatch(invocation("req-2"));
        http(addr, "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n".into())
            .await;
        http(addr, "POST /2018-06-01/runtime/invocation/req-2/error HTTP/1.1\r\nhost: x\r\nlambda-runtime-function-error-type: Boom\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}".into()).await;
        assert!(matches!(
            d.done.await.unwrap(),
            Outcome::Error { error_type: Some(t), body } if t == "Boom" && body == "{}"
        ));

        http(addr, "POST /2018-06-01/runtime/init/error HTTP/1.1\r\nhost: x\r\nlambda-runtime-function-error-type: Runtime.ImportModuleError\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}".into()).await;
        assert_eq!(init.await.unwrap().error_type.as_deref(), Some("Runtime.ImportModuleError"));
    }

    #[tokio::test]
    async fn a_streamed_response_arrives_piece_by_piece_and_ends_with_its_trailers() {
        let (api, _init) = RuntimeApi::serve(TcpListener::bind("127.0.0.1:0").await.unwrap(), admit_all()).unwrap();
        let addr = api.address();
        let d = api.dispatch(invocation("req-3"));
        http(addr, "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n".into())
            .await;
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(
            b"POST /2018-06-01/runtime/invocation/req-3/response HTTP/1.1\r\nhost: x\r\n\
              lambda-runtime-function-response-mode: streaming\r\ncontent-type: text/plain\r\n\
              transfer-encoding: chunked\r\ntrailer: lambda-runtime-function-error-type\r\n\r\n5\r\nfirst\r\n",
        )
        .await
        .unwrap();
        let Outcome::Streamed(mut streamed) = d.done.await.unwrap() else { panic!("not streamed") };
        assert_eq!(streamed.content_type, "text/plain");
        // The first piece arrives while the runtime is still writing.
        assert_eq!(streamed.pieces.recv().await, Some(StreamPiece::Data(Bytes::from_static(b"first"))));
        s.write_all(
            b"6\r\nsecond\r\n0\r\nlambda-runtime-function-error-type: Boom\r\n\
              lambda-runtime-function-error-body: eyJlcnJvclR5cGUiOiJCb29tIn0=\r\n\r\n",
        )
        .await
        .unwrap();
        assert_eq!(streamed.pieces.recv().await, Some(StreamPiece::Data(Bytes::from_static(b"second"))));
        assert_eq!(
            streamed.pieces.recv().await,
            Some(StreamPiece::Error {
                error_type: "Boom".into(),
                body: Bytes::from_static(b"{\"errorType\":\"Boom\"}")
            })
        );
    }
}
