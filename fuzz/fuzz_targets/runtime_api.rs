//! The Runtime API: the input sent, as is, to a Runtime API server over loopback — a
//! request line, headers and body of any shape. The server must answer or close, never
//! panic (a panic in any of its tasks aborts the fuzzer).
#![no_main]

use std::sync::OnceLock;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Server {
    rt: tokio::runtime::Runtime,
    addr: std::net::SocketAddr,
    _api: runtime_api::RuntimeApi,
    /// Catching SIGPIPE keeps it from killing the fuzzer when the server closes a
    /// connection the input is still being written to (libFuzzer's C `main` does not
    /// ignore it, as a Rust `main` would).
    _sigpipe: tokio::signal::unix::Signal,
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("a runtime");
        let (api, addr, sigpipe) = rt.block_on(async {
            let sigpipe =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::pipe()).expect("a SIGPIPE handler");
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
            let (api, _init) =
                runtime_api::RuntimeApi::serve(listener, std::sync::Arc::new(|_, _| true)).expect("served");
            let addr = api.address();
            (api, addr, sigpipe)
        });
        Server { rt, addr, _api: api, _sigpipe: sigpipe }
    })
}

fuzz_target!(|data: &[u8]| {
    let s = server();
    s.rt.block_on(async {
        let Ok(mut conn) = tokio::net::TcpStream::connect(s.addr).await else { return };
        let _ = conn.write_all(data).await;
        let _ = conn.shutdown().await;
        let mut answer = Vec::new();
        // `next` waits for an invocation that never comes: a short wait is enough.
        let _ = tokio::time::timeout(Duration::from_millis(20), conn.read_to_end(&mut answer)).await;
    });
});
