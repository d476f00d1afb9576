//! Summaries of samples: throughput, error count, latency percentiles in milliseconds.

use crate::Sample;
use std::time::Duration;

fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

pub fn report(samples: &[Sample], seconds: f64) -> serde_json::Value {
    let ok: Vec<&Sample> = samples.iter().filter(|s| s.ok).collect();
    let mut total: Vec<Duration> = ok.iter().map(|s| s.total).collect();
    let mut first: Vec<Duration> = ok.iter().map(|s| s.first).collect();
    total.sort_unstable();
    first.sort_unstable();
    serde_json::json!({
        "requests": samples.len(),
        "errors": samples.len() - ok.len(),
        "rps": ok.len() as f64 / seconds,
        "p50_ms": pct(&total, 0.50),
        "p90_ms": pct(&total, 0.90),
        "p99_ms": pct(&total, 0.99),
        "p999_ms": pct(&total, 0.999),
        "max_ms": total.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0),
        "first_p50_ms": pct(&first, 0.50),
        "first_p99_ms": pct(&first, 0.99),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_and_errors() {
        let mk = |ms: u64, ok: bool| Sample {
            total: Duration::from_millis(ms),
            first: Duration::from_millis(ms / 2),
            ok,
        };
        let samples: Vec<Sample> = (1..=100)
            .map(|i| mk(i, true))
            .chain([mk(1, false)])
            .collect();
        let r = report(&samples, 2.0);
        assert_eq!(r["requests"], 101);
        assert_eq!(r["errors"], 1);
        assert_eq!(r["rps"], 50.0);
        assert_eq!(r["p50_ms"], 51.0);
        assert_eq!(r["p99_ms"], 99.0);
        assert_eq!(r["first_p50_ms"], 25.0);
    }
}
