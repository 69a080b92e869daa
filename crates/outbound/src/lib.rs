//! Lamina's outbound HTTP(S): the one connector, and the one pooled client, through which
//! the server reaches endpoints its users name — API Gateway's HTTP integrations and
//! JWKS, SNS's HTTP(S) subscriptions.
//!
//! HTTPS is verified against the system's trusted certificates (`SSL_CERT_FILE` and
//! `SSL_CERT_DIR` name others, as usual); a host without any refuses HTTPS rather than
//! trusting everything. `localhost` and `*.localhost` resolve to the loopback, as RFC 6761
//! reserves them (and browsers and curl resolve them), so endpoints such as a function
//! URL's `….lambda-url.….localhost` or an API's `….execute-api.localhost` are reachable.
//!
//! It knows nothing of AWS or of the services that use it.
#![deny(missing_docs)]

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper_util::client::legacy::connect::dns::{GaiResolver, Name};
use hyper_util::client::legacy::connect::HttpConnector;

/// Resolves `localhost` and `*.localhost` to the loopback; other names through the system.
#[derive(Clone)]
pub struct LocalhostResolver(GaiResolver);

type Resolved = std::vec::IntoIter<std::net::SocketAddr>;

impl tower_service::Service<Name> for LocalhostResolver {
    type Response = Resolved;
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Resolved, std::io::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), std::io::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, name: Name) -> Self::Future {
        if is_loopback_name(name.as_str()) {
            let loopback = vec![std::net::SocketAddr::from(([127, 0, 0, 1], 0))];
            return Box::pin(async move { Ok(loopback.into_iter()) });
        }
        let lookup = self.0.call(name);
        Box::pin(async move { Ok(lookup.await?.collect::<Vec<_>>().into_iter()) })
    }
}

/// Whether a host name is the loopback's by RFC 6761.
fn is_loopback_name(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host == "localhost" || host.ends_with(".localhost")
}

/// The connector of every outbound connection.
pub type Connector = hyper_rustls::HttpsConnector<HttpConnector<LocalhostResolver>>;

/// A pooled keep-alive client over [`Connector`].
pub type Client = hyper_util::client::legacy::Client<Connector, http_body_util::Full<Bytes>>;

/// A connector: plain HTTP, and HTTPS verified against the system's trusted certificates
/// (none trusted, with a warning, when the system has none).
pub fn connector() -> Connector {
    let mut http = HttpConnector::new_with_resolver(LocalhostResolver(GaiResolver::new()));
    http.set_nodelay(true);
    http.enforce_http(false);
    match hyper_rustls::HttpsConnectorBuilder::new().with_native_roots() {
        Ok(b) => b.https_or_http().enable_http1().wrap_connector(http),
        Err(e) => {
            tracing::warn!("no trusted certificates ({e}); outbound https will be refused");
            let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
            let tls = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .expect("ring supports the default protocol versions")
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth();
            hyper_rustls::HttpsConnectorBuilder::new()
                .with_tls_config(tls)
                .https_or_http()
                .enable_http1()
                .wrap_connector(http)
        }
    }
}

/// A pooled client over a new [`connector`].
pub fn client() -> Client {
    hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build(connector())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn localhost_names_are_the_loopback() {
        assert!(is_loopback_name("localhost"));
        assert!(is_loopback_name("abc.lambda-url.us-east-1.LOCALHOST."));
        assert!(!is_loopback_name("localhost.example.com"));
        assert!(!is_loopback_name("example.com"));
    }

    #[tokio::test]
    async fn a_localhost_name_reaches_a_loopback_listener() {
        use http_body_util::BodyExt;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            use std::io::{Read, Write};
            let (mut s, _) = listener.accept().unwrap();
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf).unwrap();
            s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok").unwrap();
        });
        let url = format!("http://api.example.localhost:{port}/");
        let response = client().get(url.parse().unwrap()).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(&response.into_body().collect().await.unwrap().to_bytes()[..], b"ok");
    }
}
