//! The upstream response body, read by polling the connection on the relaying task, so every
//! chunk already received is available at once; the connection returns to the pool at the end.

use super::conn::Conn;
use super::pool::Pool;
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

pub struct UpstreamBody {
    incoming: Incoming,
    conn: Option<Conn>,
    pool: Arc<Pool>,
}

impl UpstreamBody {
    pub(super) fn new(incoming: Incoming, conn: Conn, pool: Arc<Pool>) -> Self {
        Self {
            incoming,
            conn: Some(conn),
            pool,
        }
    }
}

impl Body for UpstreamBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = self.get_mut();
        let first = Pin::new(&mut this.incoming).poll_frame(cx);
        let result = match first {
            Poll::Pending => {
                // The body is waiting for the connection to read and decode: do that here.
                if let Some(conn) = this.conn.as_mut() {
                    conn.poll_driver(cx);
                }
                Pin::new(&mut this.incoming).poll_frame(cx)
            }
            ready => ready,
        };
        if let Poll::Ready(None) = result {
            // Complete exchange: the connection can serve the next request.
            if let Some(conn) = this.conn.take() {
                this.pool.checkin(conn);
            }
        }
        result
    }

    fn is_end_stream(&self) -> bool {
        self.incoming.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.incoming.size_hint()
    }
}

/// Reads a whole (small) body before `deadline`, refusing one larger than `max` bytes.
pub async fn read_all(
    body: UpstreamBody,
    max: usize,
    deadline: tokio::time::Instant,
) -> Result<Bytes, String> {
    use http_body_util::BodyExt;
    let limited = http_body_util::Limited::new(body, max);
    match tokio::time::timeout_at(deadline, limited.collect()).await {
        Ok(Ok(c)) => Ok(c.to_bytes()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("timed out".into()),
    }
}
