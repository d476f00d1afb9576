//! What the gateway records about each request: its measurements (`meter`), its end
//! (`finish`), and where the record goes: the request log (`queue`), the Prometheus metrics
//! (`metrics`) and OpenTelemetry traces (`otlp`). None of it makes a request wait.

pub mod bodies;
pub mod finish;
pub mod finishers;
pub mod guardrails;
pub mod memory;
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

/// Lets a repeated warning through at most once every 10 seconds.
#[derive(Default)]
pub struct Throttle {
    /// Seconds since the Unix epoch of the last warning let through.
    last: std::sync::atomic::AtomicU64,
}

impl Throttle {
    /// True when the warning may be logged now (and then not again for 10 s).
    pub fn due(&self) -> bool {
        use std::sync::atomic::Ordering::Relaxed;
        let now = queue::unix_secs();
        let last = self.last.load(Relaxed);
        now >= last + 10
            && self
                .last
                .compare_exchange(last, now, Relaxed, Relaxed)
                .is_ok()
    }
}

/// How often a lingering batch looks whether the queue holds enough to fill it.
const LINGER_STEP: std::time::Duration = std::time::Duration::from_millis(5);

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
            // Wait up to `linger` for the batch to fill, looking at the queue's length every few
            // milliseconds rather than waking per arriving item (a task poll per record). Under
            // load the batch fills long before `linger` and goes at once: sleeping the whole
            // `linger` then would leave a backlog of records in memory.
            let until = tokio::time::Instant::now() + linger;
            loop {
                let now = tokio::time::Instant::now();
                if rx.len() >= max - batch.len() || now >= until {
                    break;
                }
                tokio::select! {
                    _ = tokio::time::sleep((until - now).min(LINGER_STEP)) => {}
                    _ = closing.wait_for(|c| *c) => break,
                }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tokio::time::Instant;

    #[tokio::test(start_paused = true)]
    async fn a_batch_goes_as_soon_as_it_is_full_and_waits_its_linger_otherwise() {
        let (tx, rx) = mpsc::channel(100);
        let (_closing, closing_rx) = watch::channel(false);
        let (out_tx, mut out) = mpsc::unbounded_channel();
        tokio::spawn(drain(
            rx,
            10,
            Duration::from_secs(10),
            closing_rx,
            move |b: Vec<u32>| {
                let _ = out_tx.send((b, Instant::now()));
                async {}
            },
        ));
        let started = Instant::now();
        // The first item starts the batch lingering; the other nine fill it 100 ms later.
        tx.send(1).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        for i in 2..=10 {
            tx.send(i).await.unwrap();
        }
        let (batch, at) = out.recv().await.unwrap();
        assert_eq!(batch, (1..=10).collect::<Vec<_>>());
        assert!(at - started < Duration::from_secs(1), "{:?}", at - started);
        // One that does not fill waits for its linger.
        let sent = Instant::now();
        tx.send(11).await.unwrap();
        let (batch, at) = out.recv().await.unwrap();
        assert_eq!(batch, vec![11]);
        assert!(at - sent >= Duration::from_secs(10), "{:?}", at - sent);
    }
}
