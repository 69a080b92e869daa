//! Serving connections: each accepted connection (HTTP or HTTPS, from [`DualListener`])
//! gets HTTP/1.1 with upgrades, the peer's address as `ConnectInfo`, and the limits a
//! server facing untrusted clients needs — a deadline for a request's headers (so a
//! client that trickles them, or opens and says nothing, is let go) and a cap on open
//! connections (beyond it, accepting waits). On shutdown, no new connection is taken and
//! open ones finish the request they are serving.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::sync::{watch, Semaphore};
use tower_service::Service;

use crate::tls::DualListener;

/// How long shutting down waits for open requests to finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// What one server allows its clients.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// How long a request's headers may take to arrive.
    pub header_timeout: Duration,
    /// How many connections may be open at once.
    pub max_connections: usize,
}

/// Serves `app` on `listener` until `shutdown` resolves.
pub async fn serve(mut listener: DualListener, app: Router, limits: Limits, shutdown: impl Future<Output = ()>) {
    let (closing, closed) = watch::channel(());
    let open = Arc::new(Semaphore::new(limits.max_connections));
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = open.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (io, peer) = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let app = app.clone();
        let mut closed = closed.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                app.clone().call(req)
            });
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
            let conn = http.serve_connection(TokioIo::new(io), service).with_upgrades();
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = closed.changed() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
    }
    drop(listener);
    drop(closing);
    // Connections finishing their requests give their permits back; one that will not
    // (a client sending a body at a trickle) is not waited for long.
    let all = open.acquire_many(limits.max_connections as u32);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, all).await;
}
