//! What the gateway records about each request: its measurements (`meter`), its end
//! (`finish`), and where the record goes: the request log (`queue`), the Prometheus metrics
//! (`metrics`) and OpenTelemetry traces (`otlp`). None of it makes a request wait.

pub mod bodies;
pub mod finish;
pub mod meter;
pub mod metrics;
pub mod otlp;
pub mod queue;

use std::future::Future;
use tokio::sync::{mpsc, watch};

/// The receiving end of a queue, for the one task that drains it (`None` once taken, or when the
/// queue is off).
pub(crate) fn take_receiver<T>(
    slot: &std::sync::Mutex<Option<mpsc::Receiver<T>>>,
) -> Option<mpsc::Receiver<T>> {
    slot.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take()
}

/// Hands `f` batches of up to `max` items until `closing` is set; then closes the queue and
/// hands over what is left before returning. After the first item of a batch arrives, the batch
/// waits up to `linger` to fill: a store pays per transaction, so a few large batches cost far
/// less than many small ones.
pub(crate) async fn drain<T, F, Fut>(
    mut rx: mpsc::Receiver<T>,
    max: usize,
    linger: std::time::Duration,
    mut closing: watch::Receiver<bool>,
    mut f: F,
) where
    F: FnMut(Vec<T>) -> Fut,
    Fut: Future<Output = ()>,
{
    let mut batch = Vec::with_capacity(max);
    let mut closed = false;
    loop {
        let n = if closed {
            rx.recv_many(&mut batch, max).await
        } else {
            tokio::select! {
                n = rx.recv_many(&mut batch, max) => n,
                _ = closing.wait_for(|c| *c) => {
                    // Nothing more will be queued: take the rest, then stop.
                    rx.close();
                    closed = true;
                    continue;
                }
            }
        };
        if n == 0 {
            return;
        }
        if !closed && batch.len() < max {
            // One sleep, then whatever has queued meanwhile: waking per arriving item would cost
            // a task poll per record.
            tokio::select! {
                _ = tokio::time::sleep(linger) => {}
                _ = closing.wait_for(|c| *c) => {}
            }
            while batch.len() < max {
                match rx.try_recv() {
                    Ok(item) => batch.push(item),
                    Err(_) => break,
                }
            }
        }
        f(std::mem::replace(&mut batch, Vec::with_capacity(max))).await;
    }
}
