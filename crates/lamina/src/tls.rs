//! HTTPS beside HTTP on the one port: a connection whose first byte opens a TLS handshake
//! is served over TLS, with a certificate from Lamina's own local certificate authority,
//! so the `https://{domainName}/{stage}` endpoints functions build (as AWS's examples do)
//! work. The authority lives in the data directory and is made on first start; functions
//! trust it through the CA bundle the invoker hands them.

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use anyhow::Context as _;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

/// The first byte of a TLS record carrying a handshake.
const TLS_HANDSHAKE: u8 = 0x16;

/// Lamina's certificate authority and the server certificate it signed.
pub struct Authority {
    /// The authority's certificate, PEM: what clients add to their trust.
    pub ca_file: PathBuf,
    /// The server's TLS configuration.
    pub server: Arc<rustls::ServerConfig>,
}

/// Loads the authority from `dir`, making it (and the server's certificate, for
/// `localhost`, `*.execute-api.localhost` and the loopback addresses) the first time.
pub fn authority(dir: &Path) -> anyhow::Result<Authority> {
    let ca_file = dir.join("ca.pem");
    let cert_file = dir.join("server.pem");
    let key_file = dir.join("server-key.pem");
    if !(ca_file.exists() && cert_file.exists() && key_file.exists()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        create(&ca_file, &cert_file, &key_file).context("making the local certificate authority")?;
    }
    let chain = CertificateDer::pem_file_iter(&cert_file)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .with_context(|| format!("reading {}", cert_file.display()))?;
    let key = PrivateKeyDer::from_pem_file(&key_file).with_context(|| format!("reading {}", key_file.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    server.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Authority { ca_file, server: Arc::new(server) })
}

fn create(ca_file: &Path, cert_file: &Path, key_file: &Path) -> anyhow::Result<()> {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose, SanType};
    let now = time::OffsetDateTime::now_utc();
    let ca_key = KeyPair::generate()?;
    let mut ca = CertificateParams::default();
    ca.distinguished_name.push(DnType::CommonName, "Lamina local CA");
    ca.distinguished_name.push(DnType::OrganizationName, "Lamina");
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    ca.not_before = now - time::Duration::days(1);
    ca.not_after = now + time::Duration::days(3650);
    let ca_cert = ca.self_signed(&ca_key)?;

    let key = KeyPair::generate()?;
    let mut server = CertificateParams::new(["localhost".to_owned(), "*.execute-api.localhost".to_owned()])?;
    server.subject_alt_names.push(SanType::IpAddress([127, 0, 0, 1].into()));
    server.subject_alt_names.push(SanType::IpAddress(std::net::Ipv6Addr::LOCALHOST.into()));
    server.distinguished_name.push(DnType::CommonName, "localhost");
    server.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    server.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    server.not_before = now - time::Duration::days(1);
    server.not_after = now + time::Duration::days(825);
    let cert = server.signed_by(&key, &ca_cert, &ca_key)?;

    write_private(key_file, &key.serialize_pem())?;
    std::fs::write(cert_file, cert.pem() + &ca_cert.pem())?;
    // The authority signs nothing more, so its key is not kept.
    std::fs::write(ca_file, ca_cert.pem())?;
    Ok(())
}

fn write_private(path: &Path, contents: &str) -> io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    f.write_all(contents.as_bytes())
}

/// A connection in either protocol.
pub enum Conn {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

/// Accepts on one port, telling HTTPS from HTTP by the first byte; handshakes run in
/// their own tasks so a slow client holds up no one.
pub struct DualListener {
    ready: mpsc::Receiver<(Conn, SocketAddr)>,
}

impl DualListener {
    /// Accepts on `listener`; a connection that sends nothing within `first_bytes` is
    /// dropped.
    pub fn new(listener: TcpListener, tls: Arc<rustls::ServerConfig>, first_bytes: Duration) -> Self {
        let (tx, ready) = mpsc::channel(1024);
        let acceptor = TlsAcceptor::from(tls);
        tokio::spawn(async move {
            while !tx.is_closed() {
                let (tcp, peer) = match listener.accept().await {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        // Out of descriptors, most likely: wait for some to close.
                        tracing::warn!("accept: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = tcp.set_nodelay(true);
                let (ready, acceptor) = (tx.clone(), acceptor.clone());
                tokio::spawn(async move {
                    if let Ok(Some(conn)) = tokio::time::timeout(first_bytes, classify(tcp, &acceptor)).await {
                        let _ = ready.send((conn, peer)).await;
                    }
                });
            }
        });
        DualListener { ready }
    }
}

async fn classify(tcp: TcpStream, acceptor: &TlsAcceptor) -> Option<Conn> {
    let mut first = [0u8; 1];
    match tcp.peek(&mut first).await {
        Ok(1) if first[0] == TLS_HANDSHAKE => acceptor.accept(tcp).await.ok().map(|s| Conn::Tls(Box::new(s))),
        Ok(_) => Some(Conn::Plain(tcp)),
        Err(_) => None,
    }
}

impl DualListener {
    /// The next connection, in whichever protocol it speaks.
    pub async fn accept(&mut self) -> (Conn, SocketAddr) {
        match self.ready.recv().await {
            Some(accepted) => accepted,
            // The accept loop has ended, which it does only when this listener is gone.
            None => std::future::pending().await,
        }
    }
}

impl AsyncRead for Conn {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Conn::Plain(s) => s.is_write_vectored(),
            Conn::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_flush(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}
