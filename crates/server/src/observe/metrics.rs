//! Request metrics in Prometheus' text format: counters and histograms in atomics, one series per
//! (provider, model, status). A request takes a read lock on the series map (a write lock only
//! the first time a series appears) and then only does atomic adds.
//!
//! Model names are the callers' to choose, so they are kept from growing the series without end:
//! a name the config and the model catalog do not declare for its provider is counted as
//! `other`, and past `server.limits.max_series` series a new one goes to a single overflow series
//! labelled `other` throughout. Both are counted in `switchyard_metric_names_folded_total`.

use std::collections::{HashMap, HashSet};
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use switchyard_config::Config;
use switchyard_providers::catalog::Catalog;
use switchyard_routing::Router;
use switchyard_store::Record;

/// The label that stands for model names (and, past the cap, whole series) not counted apart.
pub const OTHER: &str = "other";

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

/// Model names that get series of their own: per provider, its `models` (configured or the
/// preset's) and the targets of routes and aliases that resolve to it; for every provider, the
/// models the catalog knows. Built once at start-up; a lookup allocates nothing.
#[derive(Default)]
pub struct Declared {
    by_provider: HashMap<String, HashSet<String>>,
    catalog: Catalog,
}

impl Declared {
    pub fn build(cfg: &Config, router: &Router) -> Self {
        let mut by_provider: HashMap<String, HashSet<String>> = HashMap::new();
        let mut add = |provider: usize, model: &str| {
            if let Some(p) = cfg.providers.get(provider) {
                by_provider
                    .entry(p.name.clone())
                    .or_default()
                    .insert(model.to_owned());
            }
        };
        for (i, p) in cfg.providers.iter().enumerate() {
            for m in &p.models {
                add(i, m);
            }
        }
        for name in router.route_names() {
            for t in router.route(name).map(|r| r.targets()).unwrap_or_default() {
                add(t.provider, &t.model);
            }
        }
        for alias in cfg.aliases.keys() {
            if let Ok(r) = router.index.resolve(alias) {
                add(r.provider, r.model);
            }
        }
        Declared {
            by_provider,
            catalog: cfg.catalog.clone(),
        }
    }

    /// Whether `model` at `provider` is counted under its own name. The empty name (a request
    /// that reached no provider) is.
    fn contains(&self, provider: &str, model: &str) -> bool {
        model.is_empty()
            || self
                .by_provider
                .get(provider)
                .is_some_and(|m| m.contains(model))
            || self.catalog.knows(model)
    }
}

/// provider → model → status → series, looked up by `&str` without building a key.
#[derive(Default)]
struct Table {
    by: HashMap<String, HashMap<String, HashMap<u16, Arc<Series>>>>,
    len: usize,
}

impl Table {
    fn get(&self, provider: &str, model: &str, status: u16) -> Option<&Arc<Series>> {
        self.by.get(provider)?.get(model)?.get(&status)
    }
}

/// Why a request's model label was folded, as `reason` of `switchyard_metric_names_folded_total`.
const FOLD_REASONS: [&str; 2] = ["undeclared", "series_cap"];

pub struct Metrics {
    series: RwLock<Table>,
    /// Everything past `max_series`, labelled `other` throughout.
    overflow: Series,
    /// Replaced whole by a config reload (`declare`).
    declared: arc_swap::ArcSwap<Declared>,
    max_series: usize,
    /// Requests folded, by `FOLD_REASONS`.
    folded: [AtomicU64; 2],
    overhead: Histogram,
}

impl Metrics {
    pub fn new(declared: Declared, max_series: usize) -> Self {
        Metrics {
            series: RwLock::new(Table::default()),
            overflow: Series::new(),
            declared: arc_swap::ArcSwap::from_pointee(declared),
            max_series,
            folded: Default::default(),
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
    /// The series of (provider, model, status), when it exists.
    fn find(&self, provider: &str, model: &str, status: u16) -> Option<Arc<Series>> {
        self.series
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(provider, model, status)
            .cloned()
    }

    /// The series of (provider, model, status), made if need be; `None` when the table is full.
    fn make(&self, provider: &str, model: &str, status: u16) -> Option<Arc<Series>> {
        let mut write = self
            .series
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(s) = write.get(provider, model, status) {
            return Some(s.clone());
        }
        if write.len >= self.max_series {
            return None;
        }
        write.len += 1;
        let s = Arc::new(Series::new());
        write
            .by
            .entry(provider.to_owned())
            .or_default()
            .entry(model.to_owned())
            .or_default()
            .insert(status, s.clone());
        Some(s)
    }

    /// The model names of a reloaded config; series already made stay.
    pub fn declare(&self, declared: Declared) {
        self.declared.store(Arc::new(declared));
    }

    /// Counts one finished request.
    pub fn observe(&self, r: &Record, overhead: Duration) {
        // The upstream model only: a caller's model name that reached no provider (a typo, an
        // unknown model) must not become a series of its own, or the series would grow without end.
        let provider = r.provider.as_deref().unwrap_or("");
        let model = r.model.as_deref().unwrap_or("");
        // Only declared names (and `other`) are in the table, so a series found under the
        // request's own name needs no other check: the common case is one read lock.
        let own = self.find(provider, model, r.status).or_else(|| {
            let model = if self.declared.load().contains(provider, model) {
                model
            } else {
                self.folded[0].fetch_add(1, Ordering::Relaxed);
                OTHER
            };
            let made = self
                .find(provider, model, r.status)
                .or_else(|| self.make(provider, model, r.status));
            if made.is_none() {
                self.folded[1].fetch_add(1, Ordering::Relaxed);
            }
            made
        });
        let s: &Series = own.as_deref().unwrap_or(&self.overflow);
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
        let table = self
            .series
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut sorted: Vec<(&str, &str, u16, &Series)> = Vec::with_capacity(table.len);
        for (p, models) in &table.by {
            for (m, statuses) in models {
                for (status, s) in statuses {
                    sorted.push((p, m, *status, s));
                }
            }
        }
        sorted.sort_by(|a, b| (a.0, a.1, a.2).cmp(&(b.0, b.1, b.2)));
        let mut all: Vec<(String, &Series)> = sorted
            .into_iter()
            .map(|(p, m, status, s)| {
                let labels = format!(
                    "provider=\"{}\",model=\"{}\",status=\"{status}\"",
                    label(p),
                    label(m)
                );
                (labels, s)
            })
            .collect();
        if self.overflow.requests.load(Ordering::Relaxed) > 0 {
            let labels = format!("provider=\"{OTHER}\",model=\"{OTHER}\",status=\"{OTHER}\"");
            all.push((labels, &self.overflow));
        }
        let _ = writeln!(out, "# HELP switchyard_requests_total Requests answered, by provider, model and status\n# TYPE switchyard_requests_total counter");
        for (k, s) in &all {
            let _ = writeln!(
                out,
                "switchyard_requests_total{{{}}} {}",
                k,
                s.requests.load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(out, "# HELP switchyard_tokens_total Tokens, by provider, model, status and kind\n# TYPE switchyard_tokens_total counter");
        for (k, s) in &all {
            for (kind, n) in TOKEN_KINDS.iter().zip(&s.tokens) {
                let _ = writeln!(
                    out,
                    "switchyard_tokens_total{{{},type=\"{kind}\"}} {}",
                    k,
                    n.load(Ordering::Relaxed)
                );
            }
        }
        let _ = writeln!(out, "# HELP switchyard_cost_usd_total Cost from the model catalog's prices, in US dollars\n# TYPE switchyard_cost_usd_total counter");
        for (k, s) in &all {
            let _ = writeln!(
                out,
                "switchyard_cost_usd_total{{{}}} {}",
                k,
                s.cost_micros.load(Ordering::Relaxed) as f64 / 1e6
            );
        }
        let _ = writeln!(out, "# HELP switchyard_request_duration_seconds Arrival to the answer's last byte\n# TYPE switchyard_request_duration_seconds histogram");
        for (k, s) in &all {
            s.latency
                .write(out, "switchyard_request_duration_seconds", k);
        }
        let _ = writeln!(out, "# HELP switchyard_time_to_first_token_seconds Arrival to the first streamed event\n# TYPE switchyard_time_to_first_token_seconds histogram");
        for (k, s) in &all {
            s.ttft
                .write(out, "switchyard_time_to_first_token_seconds", k);
        }
        let _ = writeln!(out, "# HELP switchyard_gateway_overhead_seconds Request time not spent waiting on providers or between retries\n# TYPE switchyard_gateway_overhead_seconds histogram");
        self.overhead
            .write(out, "switchyard_gateway_overhead_seconds", "");
        let _ = writeln!(out, "# HELP switchyard_metric_names_folded_total Requests counted under model \"other\": a model name not declared for its provider, or a new series past server.limits.max_series\n# TYPE switchyard_metric_names_folded_total counter");
        for (reason, n) in FOLD_REASONS.iter().zip(&self.folded) {
            let _ = writeln!(
                out,
                "switchyard_metric_names_folded_total{{reason=\"{reason}\"}} {}",
                n.load(Ordering::Relaxed)
            );
        }
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

    fn record(provider: &str, model: &str, status: u16) -> Record {
        Record {
            provider: Some(provider.into()),
            model: Some(model.into()),
            status,
            ..Record::default()
        }
    }

    fn metrics(max_series: usize) -> Metrics {
        let declared = Declared {
            by_provider: HashMap::from([(
                "openai".to_owned(),
                HashSet::from(["gpt-a".to_owned(), "gpt-b".to_owned()]),
            )]),
            catalog: Catalog::default(),
        };
        Metrics::new(declared, max_series)
    }

    fn scrape(m: &Metrics) -> String {
        let mut out = String::new();
        m.write(&mut out);
        out
    }

    #[test]
    fn undeclared_model_names_are_counted_as_other() {
        let m = metrics(100);
        m.observe(&record("openai", "gpt-a", 200), Duration::ZERO);
        for i in 0..5 {
            m.observe(&record("openai", &format!("junk-{i}"), 200), Duration::ZERO);
        }
        // Declared for one provider is not declared for another.
        m.observe(&record("groq", "gpt-a", 200), Duration::ZERO);
        let out = scrape(&m);
        for line in [
            "switchyard_requests_total{provider=\"openai\",model=\"gpt-a\",status=\"200\"} 1\n",
            "switchyard_requests_total{provider=\"openai\",model=\"other\",status=\"200\"} 5\n",
            "switchyard_requests_total{provider=\"groq\",model=\"other\",status=\"200\"} 1\n",
            "switchyard_metric_names_folded_total{reason=\"undeclared\"} 6\n",
            "switchyard_metric_names_folded_total{reason=\"series_cap\"} 0\n",
        ] {
            assert!(out.contains(line), "{line}{out}");
        }
        assert!(!out.contains("junk"), "{out}");
    }

    #[test]
    fn past_the_cap_new_series_share_one_overflow_series() {
        let m = metrics(2);
        m.observe(&record("openai", "gpt-a", 200), Duration::ZERO);
        m.observe(&record("openai", "gpt-a", 500), Duration::ZERO);
        // Full: a new (provider, model, status) goes to the overflow series; known ones still
        // count under their own labels.
        m.observe(&record("openai", "gpt-b", 200), Duration::ZERO);
        m.observe(&record("openai", "gpt-a", 429), Duration::ZERO);
        m.observe(&record("openai", "gpt-a", 200), Duration::ZERO);
        let out = scrape(&m);
        let requests: Vec<&str> = out
            .lines()
            .filter(|l| l.starts_with("switchyard_requests_total{"))
            .collect();
        assert_eq!(
            requests,
            [
                "switchyard_requests_total{provider=\"openai\",model=\"gpt-a\",status=\"200\"} 2",
                "switchyard_requests_total{provider=\"openai\",model=\"gpt-a\",status=\"500\"} 1",
                "switchyard_requests_total{provider=\"other\",model=\"other\",status=\"other\"} 2",
            ]
        );
        assert!(
            out.contains("switchyard_metric_names_folded_total{reason=\"series_cap\"} 2\n"),
            "{out}"
        );
    }
}
