//! Analytics over log rows: counts, tokens, cost, error rate, latency and time-to-first-token
//! percentiles, cache hit rate, per group and time bucket. Both stores hand the same rows here,
//! so the figures cannot differ between them.

use serde::Serialize;

/// The measured columns of one request.
#[derive(Debug, Clone, Default)]
pub struct Row {
    pub ts_ms: i64,
    pub key: Option<String>,
    pub status: u16,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cached_tokens: i64,
    pub cost_usd: f64,
    pub latency_ms: f64,
    pub ttft_ms: Option<f64>,
    pub cache: Option<String>,
    /// What a cache hit saved (0 for anything else).
    pub cache_saved_usd: f64,
    /// A record grouped by tag gives a row per tag: the rows after its first are `false`, so
    /// that totals count the record once.
    pub first: bool,
}

/// p50, p95 and p99 (nearest rank); `None` without samples.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Percentiles {
    pub p50: Option<f64>,
    pub p95: Option<f64>,
    pub p99: Option<f64>,
}

/// Nearest-rank percentiles of `v` (reordered here). Each is a selection, linear in the
/// number of samples, not a sort: an overview over a million requests selects three times.
pub fn percentiles(v: &mut [f64]) -> Percentiles {
    if v.is_empty() {
        return Percentiles::default();
    }
    let n = v.len();
    let mut at = |p: f64| {
        let rank = (p * n as f64).ceil() as usize;
        *v.select_nth_unstable_by(rank.clamp(1, n) - 1, f64::total_cmp)
            .1
    };
    Percentiles {
        p50: Some(at(0.50)),
        p95: Some(at(0.95)),
        p99: Some(at(0.99)),
    }
}

/// One group in one time bucket.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Bucket {
    /// The group's value (`null` for records without one, or when not grouping).
    pub key: Option<String>,
    /// Start of the bucket, Unix milliseconds (absent when not bucketing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_ms: Option<i64>,
    pub requests: u64,
    pub errors: u64,
    pub error_rate: f64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cached_tokens: i64,
    pub cost_usd: f64,
    pub latency_ms: Percentiles,
    pub ttft_ms: Percentiles,
    /// Hits (exact and semantic) over requests the cache looked at (`null` when it looked at
    /// none).
    pub cache_hit_rate: Option<f64>,
    /// Requests answered from the cache (exact and semantic).
    pub cache_hits: u64,
    /// What the answers served from the cache cost when they were made.
    pub cache_saved_usd: f64,
}

#[derive(Default)]
struct Acc {
    requests: u64,
    errors: u64,
    input: i64,
    output: i64,
    cached: i64,
    cost: f64,
    latency: Vec<f64>,
    ttft: Vec<f64>,
    cache_seen: u64,
    cache_hits: u64,
    saved: f64,
}

impl Acc {
    fn add(&mut self, r: &Row) {
        self.requests += 1;
        self.errors += u64::from(r.status >= 400);
        self.input += r.input_tokens;
        self.output += r.output_tokens;
        self.cached += r.cached_tokens;
        self.cost += r.cost_usd;
        self.latency.push(r.latency_ms);
        if let Some(t) = r.ttft_ms {
            self.ttft.push(t);
        }
        if let Some(c) = r.cache.as_deref() {
            self.cache_seen += 1;
            self.cache_hits += u64::from(c == "hit" || c == "semantic-hit");
        }
        self.saved += r.cache_saved_usd;
    }

    fn bucket(mut self, key: Option<&str>, start_ms: Option<i64>) -> Bucket {
        Bucket {
            key: key.map(str::to_owned),
            start_ms,
            requests: self.requests,
            errors: self.errors,
            error_rate: self.errors as f64 / self.requests.max(1) as f64,
            input_tokens: self.input,
            output_tokens: self.output,
            cached_tokens: self.cached,
            cost_usd: self.cost,
            latency_ms: percentiles(&mut self.latency),
            ttft_ms: percentiles(&mut self.ttft),
            cache_hit_rate: (self.cache_seen > 0)
                .then(|| self.cache_hits as f64 / self.cache_seen as f64),
            cache_hits: self.cache_hits,
            cache_saved_usd: self.saved,
        }
    }
}

/// Folds `rows` into buckets by `slot` (a group key and a bucket start), ordered by slot.
fn fold<'a>(
    rows: impl Iterator<Item = &'a Row>,
    slot: impl Fn(&'a Row) -> (Option<&'a str>, Option<i64>),
) -> Vec<Bucket> {
    let mut groups: std::collections::HashMap<(Option<&str>, Option<i64>), Acc> =
        std::collections::HashMap::new();
    for r in rows {
        groups.entry(slot(r)).or_default().add(r);
    }
    let mut v: Vec<_> = groups.into_iter().collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v.into_iter()
        .map(|((key, start), acc)| acc.bucket(key, start))
        .collect()
}

/// Groups rows by key and bucket (`bucket_ms` 0: one bucket for the whole range).
pub fn aggregate(rows: &[Row], bucket_ms: i64) -> Vec<Bucket> {
    fold(rows.iter(), |r| {
        let start = (bucket_ms > 0).then(|| r.ts_ms.div_euclid(bucket_ms) * bucket_ms);
        (r.key.as_deref(), start)
    })
}

/// The whole range in one bucket, each record once, ungrouped (`key` null).
pub fn totals(rows: &[Row]) -> Bucket {
    fold(rows.iter().filter(|r| r.first), |_| (None, None))
        .pop()
        .unwrap_or_else(|| Acc::default().bucket(None, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(ts: i64, key: &str, status: u16, latency: f64) -> Row {
        Row {
            ts_ms: ts,
            key: Some(key.into()),
            status,
            input_tokens: 10,
            output_tokens: 5,
            cost_usd: 0.5,
            latency_ms: latency,
            first: true,
            ..Row::default()
        }
    }

    #[test]
    fn nearest_rank_percentiles() {
        let mut v: Vec<f64> = (1..=100).rev().map(f64::from).collect();
        let p = percentiles(&mut v);
        assert_eq!((p.p50, p.p95, p.p99), (Some(50.0), Some(95.0), Some(99.0)));
        let one = percentiles(&mut [7.0]);
        assert_eq!((one.p50, one.p99), (Some(7.0), Some(7.0)));
        assert_eq!(percentiles(&mut []), Percentiles::default());
    }

    #[test]
    fn groups_and_buckets() {
        let rows = vec![
            row(1_000, "a", 200, 10.0),
            row(1_500, "a", 500, 30.0),
            row(2_100, "a", 200, 20.0),
            row(1_200, "b", 200, 40.0),
        ];
        let out = aggregate(&rows, 1_000);
        assert_eq!(out.len(), 3);
        let a1 = &out[0];
        assert_eq!((a1.key.as_deref(), a1.start_ms), (Some("a"), Some(1_000)));
        assert_eq!((a1.requests, a1.errors, a1.error_rate), (2, 1, 0.5));
        assert_eq!(
            (a1.input_tokens, a1.output_tokens, a1.cost_usd),
            (20, 10, 1.0)
        );
        assert_eq!(a1.latency_ms.p50, Some(10.0));
        assert_eq!(a1.latency_ms.p99, Some(30.0));
        assert_eq!(out[1].start_ms, Some(2_000));
        assert_eq!(out[2].key.as_deref(), Some("b"));
        let whole = aggregate(&rows, 0);
        assert_eq!(whole.len(), 2);
        assert_eq!((whole[0].requests, whole[0].start_ms), (3, None));
    }

    #[test]
    fn totals_count_each_record_once_whatever_its_tags() {
        let mut rows = vec![
            row(1_000, "a", 200, 10.0),
            row(1_000, "b", 200, 10.0),
            row(2_000, "a", 500, 30.0),
        ];
        // The first record carries two tags: its second row is not its first.
        rows[1].first = false;
        let t = totals(&rows);
        assert_eq!(
            (t.key, t.start_ms, t.requests, t.errors),
            (None, None, 2, 1)
        );
        assert_eq!((t.input_tokens, t.cost_usd), (20, 1.0));
        assert_eq!(
            (t.latency_ms.p50, t.latency_ms.p99),
            (Some(10.0), Some(30.0))
        );
        assert_eq!(totals(&[]).requests, 0);
    }

    #[test]
    fn cache_hit_rate_counts_only_requests_the_cache_saw() {
        let mut rows = vec![row(0, "a", 200, 1.0); 4];
        rows[0].cache = Some("hit".into());
        rows[0].cache_saved_usd = 0.25;
        rows[1].cache = Some("miss".into());
        rows[2].cache = Some("semantic-hit".into());
        rows[2].cache_saved_usd = 0.5;
        rows[3].cache = Some("bypass".into());
        let out = aggregate(&rows, 0);
        assert_eq!(out[0].cache_hit_rate, Some(0.5));
        assert_eq!((out[0].cache_hits, out[0].cache_saved_usd), (2, 0.75));
        for r in &mut rows {
            r.cache = None;
        }
        assert_eq!(aggregate(&rows, 0)[0].cache_hit_rate, None);
    }
}
