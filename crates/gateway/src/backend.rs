//! The client of HTTP integrations: keep-alive connections per origin, each driven by
//! the request that uses it rather than by a task of its own, so a proxied request costs
//! no task switch between the request and its connection. An idle connection the backend
//! has closed is noticed when it is next used, and the request goes out on a new one (it
//! was not sent, so nothing is sent twice).

use model::sync::Mutex;
use std::collections::HashMap;
use std::future::Future;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{Connection, SendRequest};
use hyper_rustls::MaybeHttpsStream;
use hyper_util::rt::TokioIo;
use tower_service::Service;

type Io = MaybeHttpsStream<TokioIo<tokio::net::TcpStream>>;

struct Idle {
    sender: SendRequest<Full<Bytes>>,
    conn: Connection<Io, Full<Bytes>>,
    since: Instant,
}

/// Why a backend gave no answer.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BackendError {
    /// It could not be reached, or broke off.
    #[error("unreachable: {0}")]
    Unreachable(String),
    /// Its answer was larger than API Gateway passes on.
    #[error("its answer is over the payload limit")]
    TooLarge,
}

/// Idle connections are closed after this long.
const IDLE_FOR: Duration = Duration::from_secs(60);
/// At most this many idle connections are kept per origin.
const IDLE_PER_ORIGIN: usize = 256;

pub(crate) struct Backends {
    connector: Mutex<outbound::Connector>,
    idle: Mutex<HashMap<String, Vec<Idle>>>,
}

/// Polls `conn` while `work` runs: the connection makes progress in this task. Returns
/// the work's outcome and whether the connection is still open. A connection that ends
/// (an HTTP/1.0 backend closes after each answer) has delivered what it read, so the work
/// still finishes.
async fn driven<T>(conn: &mut Connection<Io, Full<Bytes>>, work: impl Future<Output = T>) -> (T, bool) {
    tokio::pin!(work);
    tokio::select! {
        biased;
        out = &mut work => return (out, true),
        _ = conn => {}
    }
    (work.await, false)
}

impl Backends {
    pub fn new(connector: outbound::Connector) -> Backends {
        Backends { connector: Mutex::new(connector), idle: Mutex::new(HashMap::new()) }
    }

    fn take_idle(&self, origin: &str) -> Option<Idle> {
        let mut idle = self.idle.lock();
        let list = idle.get_mut(origin)?;
        while let Some(c) = list.pop() {
            if c.since.elapsed() < IDLE_FOR && !c.sender.is_closed() {
                return Some(c);
            }
        }
        None
    }

    fn put_idle(&self, origin: String, sender: SendRequest<Full<Bytes>>, conn: Connection<Io, Full<Bytes>>) {
        let mut idle = self.idle.lock();
        let list = idle.entry(origin).or_default();
        if list.len() < IDLE_PER_ORIGIN {
            list.push(Idle { sender, conn, since: Instant::now() });
        }
    }

    async fn connect(
        &self,
        uri: &hyper::Uri,
    ) -> Result<(SendRequest<Full<Bytes>>, Connection<Io, Full<Bytes>>), BackendError> {
        let connecting = {
            let mut c = self.connector.lock();
            c.call(uri.clone())
        };
        let io = connecting.await.map_err(|e| BackendError::Unreachable(e.to_string()))?;
        hyper::client::conn::http1::handshake(io).await.map_err(|e| BackendError::Unreachable(e.to_string()))
    }

    /// Sends `req` (its URI absolute) and reads the whole answer, up to `limit` bytes.
    pub async fn send(
        &self,
        mut req: hyper::Request<Full<Bytes>>,
        limit: usize,
    ) -> Result<(hyper::http::response::Parts, Bytes), BackendError> {
        let uri = req.uri().clone();
        let authority = uri
            .authority()
            .map(|a| a.as_str().to_owned())
            .ok_or_else(|| BackendError::Unreachable("no host".into()))?;
        let origin = format!("{}://{authority}", uri.scheme_str().unwrap_or("http"));
        // HTTP/1 requests carry the path and a Host header.
        *req.uri_mut() =
            uri.path_and_query().map_or_else(|| "/".parse().expect("a path"), |p| p.as_str().parse().expect("a path"));
        if !req.headers().contains_key(hyper::header::HOST) {
            if let Ok(v) = hyper::header::HeaderValue::from_str(&authority) {
                req.headers_mut().insert(hyper::header::HOST, v);
            }
        }
        let mut req = Some(req);
        loop {
            let (mut sender, mut conn, reused) = match self.take_idle(&origin) {
                Some(c) => (c.sender, c.conn, true),
                None => {
                    let (s, c) = self.connect(&uri).await?;
                    (s, c, false)
                }
            };
            let (ready, _) = driven(&mut conn, sender.ready()).await;
            if ready.is_err() {
                if reused {
                    continue;
                }
                return Err(BackendError::Unreachable("the connection closed".into()));
            }
            let request = req.take().expect("a request is sent once");
            let (outcome, open) = driven(&mut conn, async {
                let resp = sender.try_send_request(request).await;
                match resp {
                    Ok(r) => {
                        let (parts, body) = r.into_parts();
                        match http_body_util::Limited::new(body, limit).collect().await {
                            Ok(b) => Ok(Ok((parts, b.to_bytes()))),
                            Err(e) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => {
                                Ok(Err(BackendError::TooLarge))
                            }
                            Err(e) => Ok(Err(BackendError::Unreachable(e.to_string()))),
                        }
                    }
                    Err(mut e) => Err((e.take_message(), e.into_error().to_string())),
                }
            })
            .await;
            match outcome {
                Ok(Ok((parts, body))) => {
                    let close = parts
                        .headers
                        .get(hyper::header::CONNECTION)
                        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"close"));
                    if open && !close {
                        self.put_idle(origin, sender, conn);
                    }
                    return Ok((parts, body));
                }
                Ok(Err(e)) => return Err(e),
                // Not sent: a reused connection had closed; try again on a fresh one.
                Err((Some(unsent), _)) if reused => req = Some(unsent),
                Err((_, why)) => return Err(BackendError::Unreachable(why)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A backend that answers one request per connection and then hangs up without
    /// saying so (no `Connection: close`), as a server whose keep-alive timeout ran out.
    async fn rude_backend() -> std::net::SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                let mut buf = vec![0; 4096];
                let mut got = Vec::new();
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok").await;
                let _ = s.shutdown().await;
            }
        });
        addr
    }

    #[tokio::test]
    async fn a_connection_the_backend_closed_is_replaced_without_failing_the_request() {
        let addr = rude_backend().await;
        let backends = Backends::new(outbound::connector());
        for _ in 0..3 {
            let req = hyper::Request::get(format!("http://{addr}/x")).body(Full::new(Bytes::new())).unwrap();
            let (parts, body) = backends.send(req, 1024).await.unwrap();
            assert_eq!((parts.status.as_u16(), &body[..]), (200, &b"ok"[..]));
            // Let the hang-up arrive while the connection is idle.
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test]
    async fn answers_over_the_limit_are_refused() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = vec![0; 4096];
            let _ = s.read(&mut buf).await;
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n0123456789").await;
        });
        let backends = Backends::new(outbound::connector());
        let req = hyper::Request::get(format!("http://{addr}/")).body(Full::new(Bytes::new())).unwrap();
        assert!(matches!(backends.send(req, 5).await, Err(BackendError::TooLarge)));
    }
}
