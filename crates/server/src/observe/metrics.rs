//! Request metrics in Prometheus' text format: counters and histograms in atomics, one series per
//! (provider, model, status). A request takes a read lock on the series map (a write lock only
//! the first time a series appears) and then only does atomic adds.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use switchyard_store::Record;

/// Upper bounds, in seconds, of request duration and time-to-first-token buckets.
const LATENCY_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
];
/// Upper bounds, in seconds, of gateway-overhead buckets.
const OVERHEAD_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
];

pub struct Histogram {
    bounds: &'static [f64],
    /// One per bound, plus +Inf.
    counts: Vec<AtomicU64>,
    sum_nanos: AtomicU64,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Self {
        Histogram {
            bounds,
            counts: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum_nanos: AtomicU64::new(0),
        }
    }

    pub fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        let i = self
            .bounds
            .iter()
            .position(|b| secs <= *b)
            .unwrap_or(self.bounds.len());
        self.counts[i].fetch_add(1, Ordering::Relaxed);
        self.sum_nanos
            .fetch_add(d.as_nanos() as u64, Ordering::Relaxed);
    }

    fn write(&self, out: &mut String, name: &str, labels: &str) {
        let mut cumulative = 0;
        let sep = if labels.is_empty() { "" } else { "," };
        for (i, b) in self.bounds.iter().enumerate() {
            cumulative += self.counts[i].load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{b}\"}} {cumulative}");
        }
        cumulative += self.counts[self.bounds.len()].load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {cumulative}"
        );
        let sum = self.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
        let _ = writeln!(out, "{name}_sum{{{labels}}} {sum}");
        let _ = writeln!(out, "{name}_count{{{labels}}} {cumulative}");
    }
}

/// Everything counted for one (provider, model, status).
struct Series {
    requests: AtomicU64,
    /// input, output, cached input, cache write, reasoning.
    tokens: [AtomicU64; 5],
    /// Micro-dollars, so the sum stays exact in an integer.
    cost_micros: AtomicU64,
    latency: Histogram,
    ttft: Histogram,
}

impl Series {
    fn new() -> Self {
        Series {
            requests: AtomicU64::new(0),
            tokens: Default::default(),
            cost_micros: AtomicU64::new(0),
            latency: Histogram::new(LATENCY_BUCKETS),
            ttft: Histogram::new(LATENCY_BUCKETS),
        }
    }
}

type Key = (String, String, u16);

pub struct Metrics {
    series: RwLock<HashMap<Key, Arc<Series>>>,
    overhead: Histogram,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            series: RwLock::new(HashMap::new()),
            overhead: Histogram::new(OVERHEAD_BUCKETS),
        }
    }
}

const TOKEN_KINDS: [&str; 5] = [
    "input",
    "output",
    "cached_input",
    "cache_write",
    "reasoning",
];

fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Metrics {
    fn series(&self, key: Key) -> Arc<Series> {
        let read = self
            .series
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(s) = read.get(&key) {
            return s.clone();
        }
        drop(read);
        let mut write = self
            .series
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        write
            .entry(key)
            .or_insert_with(|| Arc::new(Series::new()))
            .clone()
    }

    /// Counts one finished request.
    pub fn observe(&self, r: &Record, overhead: Duration) {
        // The upstream model only: a caller's model name that reached no provider (a typo, an
        // unknown model) must not become a series of its own, or the series would grow without end.
        let model = r.model.as_deref().unwrap_or("");
        let key = (
            r.provider.clone().unwrap_or_default(),
            model.to_owned(),
            r.status,
        );
        let s = self.series(key);
        s.requests.fetch_add(1, Ordering::Relaxed);
        let tokens = [
            r.input_tokens,
            r.output_tokens,
            r.cached_tokens,
            r.cache_write_tokens,
            r.reasoning_tokens,
        ];
        for (slot, n) in s.tokens.iter().zip(tokens) {
            if let Some(n) = n.and_then(|n| u64::try_from(n).ok()) {
                slot.fetch_add(n, Ordering::Relaxed);
            }
        }
        if let Some(c) = r.cost_usd {
            s.cost_micros
                .fetch_add((c * 1e6).round() as u64, Ordering::Relaxed);
        }
        s.latency
            .observe(Duration::from_secs_f64(r.latency_ms.max(0.0) / 1000.0));
        if let Some(t) = r.ttft_ms {
            s.ttft.observe(Duration::from_secs_f64(t.max(0.0) / 1000.0));
        }
        if !r.attempts.is_empty() {
            self.overhead.observe(overhead);
        }
    }

    /// The request series in Prometheus' text format.
    pub fn write(&self, out: &mut String) {
        let map = self
            .series
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut all: Vec<(&Key, &Arc<Series>)> = map.iter().collect();
        all.sort_by(|a, b| a.0.cmp(b.0));
        let labels = |k: &Key| {
            format!(
                "provider=\"{}\",model=\"{}\",status=\"{}\"",
                label(&k.0),
                label(&k.1),
                k.2
            )
        };
        let _ = writeln!(out, "# HELP switchyard_requests_total Requests answered, by provider, model and status\n# TYPE switchyard_requests_total counter");
        for (k, s) in &all {
            let _ = writeln!(
                out,
                "switchyard_requests_total{{{}}} {}",
                labels(k),
                s.requests.load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(out, "# HELP switchyard_tokens_total Tokens, by provider, model, status and kind\n# TYPE switchyard_tokens_total counter");
        for (k, s) in &all {
            for (kind, n) in TOKEN_KINDS.iter().zip(&s.tokens) {
                let _ = writeln!(
                    out,
                    "switchyard_tokens_total{{{},type=\"{kind}\"}} {}",
                    labels(k),
                    n.load(Ordering::Relaxed)
                );
            }
        }
        let _ = writeln!(out, "# HELP switchyard_cost_usd_total Cost from the model catalog's prices, in US dollars\n# TYPE switchyard_cost_usd_total counter");
        for (k, s) in &all {
            let _ = writeln!(
                out,
                "switchyard_cost_usd_total{{{}}} {}",
                labels(k),
                s.cost_micros.load(Ordering::Relaxed) as f64 / 1e6
            );
        }
        let _ = writeln!(out, "# HELP switchyard_request_duration_seconds Arrival to the answer's last byte\n# TYPE switchyard_request_duration_seconds histogram");
        for (k, s) in &all {
            s.latency
                .write(out, "switchyard_request_duration_seconds", &labels(k));
        }
        let _ = writeln!(out, "# HELP switchyard_time_to_first_token_seconds Arrival to the first streamed event\n# TYPE switchyard_time_to_first_token_seconds histogram");
        for (k, s) in &all {
            s.ttft
                .write(out, "switchyard_time_to_first_token_seconds", &labels(k));
        }
        let _ = writeln!(out, "# HELP switchyard_gateway_overhead_seconds Request time not spent waiting on providers or between retries\n# TYPE switchyard_gateway_overhead_seconds histogram");
        self.overhead
            .write(out, "switchyard_gateway_overhead_seconds", "");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let h = Histogram::new(&[0.1, 1.0]);
        h.observe(Duration::from_millis(50));
        h.observe(Duration::from_millis(500));
        h.observe(Duration::from_secs(5));
        let mut out = String::new();
        h.write(&mut out, "x", "a=\"b\"");
        assert!(out.contains("x_bucket{a=\"b\",le=\"0.1\"} 1\n"), "{out}");
        assert!(out.contains("x_bucket{a=\"b\",le=\"1\"} 2\n"), "{out}");
        assert!(out.contains("x_bucket{a=\"b\",le=\"+Inf\"} 3\n"), "{out}");
        assert!(out.contains("x_sum{a=\"b\"} 5.55\n"), "{out}");
        assert!(out.contains("x_count{a=\"b\"} 3\n"), "{out}");
    }
}
