//! The request log's queue: requests hand their record over with `try_send` and never wait; a
//! writer task takes whatever has queued (up to a batch) and writes it in one transaction. When
//! the store lags and the queue is full, records are shed, counted, and warned about (at most
//! once every ten seconds). At shutdown the queue is closed and drained.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchyard_config::{LogSettings, LogStore};
use switchyard_store::{Record, Store, StoreError};
use tokio::sync::{mpsc, watch, OnceCell};

/// Failed batches are tried this many times before they are dropped (and counted).
const WRITE_TRIES: u32 = 3;
/// How often retention runs.
const RETENTION_EVERY: Duration = Duration::from_secs(3600);

pub struct RequestLog {
    pub settings: LogSettings,
    tx: Option<mpsc::Sender<Record>>,
    rx: Mutex<Option<mpsc::Receiver<Record>>>,
    store: OnceCell<Store>,
    /// Records dropped because the queue was full (or closed).
    pub shed: AtomicU64,
    /// Records written to the store.
    pub written: AtomicU64,
    /// Records lost to write errors after every try.
    pub failed: AtomicU64,
    /// The shedding warning, at most every 10 s.
    warning: super::Throttle,
    /// Requests that have started and not yet handed over their record: shutdown waits for
    /// them before it closes the queue.
    pub open: AtomicUsize,
    /// Requests started since the gateway started (housekeeping tells idle periods by it).
    pub started: AtomicU64,
}

pub(crate) fn unix_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl RequestLog {
    pub fn new(settings: LogSettings) -> Self {
        let (tx, rx) = if settings.enabled {
            let (tx, rx) = mpsc::channel(settings.queue_capacity);
            (Some(tx), Some(rx))
        } else {
            (None, None)
        };
        RequestLog {
            settings,
            tx,
            rx: Mutex::new(rx),
            store: OnceCell::new(),
            shed: AtomicU64::new(0),
            written: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            warning: super::Throttle::default(),
            open: AtomicUsize::new(0),
            started: AtomicU64::new(0),
        }
    }

    pub fn enabled(&self) -> bool {
        self.tx.is_some()
    }

    /// Queues a record without waiting; sheds it when the queue is full.
    pub fn submit(&self, record: Record) {
        let Some(tx) = &self.tx else {
            return;
        };
        if let Err(e) = tx.try_send(record) {
            let total = self.shed.fetch_add(1, Ordering::Relaxed) + 1;
            if matches!(e, mpsc::error::TrySendError::Closed(_)) {
                tracing::warn!(
                    shed_total = total,
                    "a request ended after the request log was closed at shutdown; its record is lost"
                );
                return;
            }
            if self.warning.due() {
                tracing::warn!(
                    shed_total = total,
                    capacity = self.settings.queue_capacity,
                    "request log queue is full: the store is not keeping up, records are being shed"
                );
            }
        }
    }

    /// Records waiting to be written.
    pub fn depth(&self) -> usize {
        self.tx
            .as_ref()
            .map_or(0, |tx| tx.max_capacity() - tx.capacity())
    }

    /// The store, opened (and migrated) on first use.
    pub async fn store(&self) -> Result<&Store, StoreError> {
        if !self.enabled() {
            return Err(StoreError(
                "the request log is off (server.log.enabled: false)".into(),
            ));
        }
        self.store
            .get_or_try_init(|| async {
                match &self.settings.store {
                    LogStore::Sqlite(path) => Store::sqlite(path).await,
                    LogStore::Postgres(url) => Store::postgres(url).await,
                }
            })
            .await
    }
}

/// Writes queued records until `closing` is set, then drains what is left. Returns when every
/// record has been written (or the store could not be opened).
pub async fn writer(log: Arc<RequestLog>, mut closing: watch::Receiver<bool>) {
    let log = &*log;
    let Some(rx) = super::take_receiver(&log.rx) else {
        return;
    };
    let store = loop {
        match log.store().await {
            Ok(s) => break s,
            Err(e) => {
                tracing::error!(error = %e, "request log store unavailable; retrying in 2 s");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(2)) => {}
                    _ = closing.wait_for(|c| *c) => return,
                }
            }
        }
    };
    let linger = log.settings.flush_interval;
    super::drain(rx, log.settings.batch_size, linger, closing, |batch| {
        write(log, store, batch)
    })
    .await;
}

async fn write(log: &RequestLog, store: &Store, batch: Vec<Record>) {
    let count = batch.len() as u64;
    let batch = Arc::new(batch);
    for n in 1..=WRITE_TRIES {
        match store.insert(batch.clone()).await {
            Ok(()) => {
                log.written.fetch_add(count, Ordering::Relaxed);
                return;
            }
            Err(e) if n < WRITE_TRIES => {
                tracing::warn!(error = %e, records = count, "request log write failed; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => {
                tracing::error!(error = %e, records = count, "request log write failed; records lost");
                log.failed.fetch_add(count, Ordering::Relaxed);
            }
        }
    }
}

/// Deletes records past the retention period at start and then hourly.
pub async fn retention(log: Arc<RequestLog>, mut closing: watch::Receiver<bool>) {
    let Some(keep) = log.settings.retention else {
        return;
    };
    if !log.enabled() {
        return;
    }
    loop {
        if let Ok(store) = log.store().await {
            let cutoff = std::time::SystemTime::now()
                .checked_sub(keep)
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_millis() as i64);
            match store.delete_before(cutoff).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(deleted = n, "request log retention"),
                Err(e) => tracing::warn!(error = %e, "request log retention failed"),
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(RETENTION_EVERY) => {}
            _ = closing.wait_for(|c| *c) => return,
        }
    }
}
