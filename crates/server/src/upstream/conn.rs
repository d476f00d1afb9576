//! One upstream HTTP/1.1 connection, plain or TLS, driven on the task that uses it.
//!
//! hyper's pooled client runs each connection as its own task and hands body chunks over one at a
//! time, so every SSE event would cost a task switch and a separate write to the caller. Here the
//! task relaying the response polls the connection itself and drains whatever has arrived.

use bytes::Bytes;
use http_body_util::Full;
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

/// A TCP stream, with or without TLS.
pub enum Io {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for Io {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Io {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Io::Plain(s) => s.is_write_vectored(),
            Io::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_flush(cx),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

pub type Sender = http1::SendRequest<Full<Bytes>>;
pub type Driver = http1::Connection<TokioIo<Io>, Full<Bytes>>;

/// A connection: the request handle and the protocol state machine that must be polled.
pub struct Conn {
    pub tx: Sender,
    pub driver: Driver,
    /// Set once the connection has ended; it is then never reused.
    pub closed: bool,
}

impl Conn {
    /// Drives the connection's I/O; returns true when it has ended.
    pub fn poll_driver(&mut self, cx: &mut Context<'_>) -> bool {
        if self.closed {
            return true;
        }
        if Pin::new(&mut self.driver).poll(cx).is_ready() {
            self.closed = true;
        }
        self.closed
    }

    /// True when an idle connection can take a request now; polls it without waiting.
    pub fn ready_now(&mut self) -> bool {
        let mut cx = Context::from_waker(Waker::noop());
        for _ in 0..3 {
            if self.poll_driver(&mut cx) {
                return false;
            }
            match self.tx.poll_ready(&mut cx) {
                Poll::Ready(Ok(())) => return true,
                Poll::Ready(Err(_)) => return false,
                Poll::Pending => {}
            }
        }
        false
    }
}

/// Where and how to connect.
#[derive(Clone)]
pub struct Target {
    pub host: String,
    pub port: u16,
    pub tls: Option<(TlsConnector, rustls::pki_types::ServerName<'static>)>,
}

/// Opens a connection within `timeout` (TCP and TLS together).
pub async fn connect(t: &Target, timeout: Duration) -> io::Result<Conn> {
    let open = async {
        let tcp = TcpStream::connect((t.host.as_str(), t.port)).await?;
        // A streamed event must not wait for Nagle's algorithm.
        tcp.set_nodelay(true)?;
        let io = match &t.tls {
            None => Io::Plain(tcp),
            Some((connector, name)) => {
                Io::Tls(Box::new(connector.connect(name.clone(), tcp).await?))
            }
        };
        let (tx, driver) = http1::Builder::new()
            .handshake(TokioIo::new(io))
            .await
            .map_err(io::Error::other)?;
        Ok(Conn {
            tx,
            driver,
            closed: false,
        })
    };
    match tokio::time::timeout(timeout, open).await {
        Ok(r) => r,
        Err(_) => Err(io::Error::new(io::ErrorKind::TimedOut, "connect timed out")),
    }
}

/// The system's CA roots, or Mozilla's when the system has none.
pub fn default_roots() -> rustls::RootCertStore {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    if roots.is_empty() {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    roots
}

/// Adds the certificates of a PEM text to `roots`; errors when it holds none that parse.
pub fn add_pem(roots: &mut rustls::RootCertStore, pem: &[u8]) -> Result<(), String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    let mut added = 0;
    for cert in CertificateDer::pem_slice_iter(pem) {
        let cert = cert.map_err(|e| format!("CA file: {e}"))?;
        roots.add(cert).map_err(|e| format!("CA file: {e}"))?;
        added += 1;
    }
    if added == 0 {
        return Err("CA file holds no certificate".into());
    }
    Ok(())
}

/// TLS client settings trusting `roots`, offering HTTP/1.1 by ALPN.
pub fn tls_config(roots: rustls::RootCertStore) -> Result<Arc<rustls::ClientConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup failed: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}
