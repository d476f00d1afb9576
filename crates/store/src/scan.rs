//! What a read does with each batch it visits: collect the newest matching records for a page,
//! or the measured fields for analytics. Both stores call these, so they answer alike.

use crate::analytics::Row;
use crate::batch::decode_one;
use crate::fields::{Fields, Light};
use crate::query::{Filter, GroupBy, Matcher};
use crate::record::Record;
use crate::StoreError;
use serde_json::value::RawValue;

/// A reader of batches, visited in the order of their largest record id.
pub trait Visit: Send + 'static {
    /// One batch: its largest record id and its records' JSON. `false` ends the read.
    fn batch(&mut self, max_id: &str, records: &str) -> Result<bool, StoreError>;
}

fn bad(e: serde_json::Error) -> StoreError {
    StoreError(format!("decoding stored records: {e}"))
}

/// The `limit` newest records that `pick` accepts (batches visited newest first). Each record is
/// decoded light to be picked, and whole only when picked.
pub struct Newest<P> {
    pick: P,
    limit: usize,
    /// Newest first, at most `limit`.
    pub found: Vec<Record>,
}

impl<P: Fn(&Light<'_>) -> bool + Send + 'static> Newest<P> {
    pub fn new(pick: P, limit: usize) -> Self {
        Newest {
            pick,
            limit,
            found: Vec::new(),
        }
    }
}

impl<P: Fn(&Light<'_>) -> bool + Send + 'static> Visit for Newest<P> {
    fn batch(&mut self, max_id: &str, records: &str) -> Result<bool, StoreError> {
        // Later batches hold no id above their largest: once the page is full of newer ids,
        // nothing left can enter it.
        if self.found.len() >= self.limit
            && self.found.last().is_some_and(|r| r.id.as_str() > max_id)
        {
            return Ok(false);
        }
        let before = self.found.len();
        for raw in serde_json::from_str::<Vec<&RawValue>>(records).map_err(bad)? {
            let light: Light<'_> = serde_json::from_str(raw.get()).map_err(bad)?;
            if (self.pick)(&light) {
                self.found.push(decode_one(raw.get())?);
            }
        }
        if self.found.len() > before {
            self.found.sort_unstable_by(|a, b| b.id.cmp(&a.id));
            self.found.truncate(self.limit);
        }
        Ok(true)
    }
}

/// A page's pick: the filter, and ids below the cursor.
pub fn page_pick(filter: &Filter, before: Option<String>) -> impl Fn(&Light<'_>) -> bool + Send {
    let m = filter.matcher();
    move |r| before.as_deref().is_none_or(|b| r.id() < b) && m.matches(r)
}

/// The analytics fields of matching records, oldest batches first, up to `cap + 1` rows (one
/// more tells that the range held more).
pub struct Measures {
    matcher: Matcher,
    group: GroupBy,
    cap: usize,
    pub rows: Vec<Row>,
}

impl Measures {
    pub fn new(filter: &Filter, group: GroupBy, cap: usize) -> Self {
        Measures {
            matcher: filter.matcher(),
            group,
            cap,
            rows: Vec::new(),
        }
    }
}

impl Visit for Measures {
    fn batch(&mut self, _max_id: &str, records: &str) -> Result<bool, StoreError> {
        for r in serde_json::from_str::<Vec<Light<'_>>>(records).map_err(bad)? {
            if !self.matcher.matches(&r) {
                continue;
            }
            let keys = match self.group {
                // A request counts under each of its tags.
                GroupBy::Tag => {
                    let tags: Vec<Option<String>> =
                        r.metadata_list("tags").into_iter().map(Some).collect();
                    if tags.is_empty() {
                        vec![None]
                    } else {
                        tags
                    }
                }
                _ => vec![self.group.key(&r)],
            };
            for (i, key) in keys.into_iter().enumerate() {
                self.rows.push(Row {
                    first: i == 0,
                    ts_ms: r.ts_ms(),
                    key,
                    status: r.status(),
                    input_tokens: r.input_tokens().unwrap_or(0),
                    output_tokens: r.output_tokens().unwrap_or(0),
                    cached_tokens: r.cached_tokens().unwrap_or(0),
                    cost_usd: r.cost_usd().unwrap_or(0.0),
                    latency_ms: r.latency_ms(),
                    ttft_ms: r.ttft_ms(),
                    cache: r.cache().map(str::to_owned),
                    cache_saved_usd: r.cache_saved_usd().unwrap_or(0.0),
                });
            }
        }
        Ok(self.rows.len() <= self.cap)
    }
}

/// One request an experiment served.
#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentRow {
    pub request_id: String,
    pub trace_id: String,
    pub variant: String,
    pub status: u16,
    pub latency_ms: f64,
    pub cost_usd: f64,
}

/// The requests whose record names `experiment` (in its `prompt` field), from a time on.
pub struct ExperimentRows {
    /// `"experiment":"<id>"` as the record's JSON holds it: most records are skipped on it.
    needle: String,
    experiment: String,
    from_ms: i64,
    pub rows: Vec<ExperimentRow>,
}

impl ExperimentRows {
    pub fn new(experiment: &str, from_ms: i64) -> Self {
        ExperimentRows {
            needle: format!("\"experiment\":{}", serde_json::Value::from(experiment)),
            experiment: experiment.to_owned(),
            from_ms,
            rows: Vec::new(),
        }
    }
}

/// What the request path records of an experiment, in `Record::prompt`.
#[derive(serde::Deserialize)]
struct PromptField {
    experiment: Option<String>,
    variant: Option<String>,
}

impl Visit for ExperimentRows {
    fn batch(&mut self, _max_id: &str, records: &str) -> Result<bool, StoreError> {
        if !records.contains(&self.needle) {
            return Ok(true);
        }
        for r in serde_json::from_str::<Vec<Light<'_>>>(records).map_err(bad)? {
            let Some(p) = r.prompt() else {
                continue;
            };
            if r.ts_ms() < self.from_ms || !p.contains(&self.needle) {
                continue;
            }
            let Ok(f) = serde_json::from_str::<PromptField>(p) else {
                continue;
            };
            let (Some(e), Some(variant)) = (f.experiment, f.variant) else {
                continue;
            };
            if e != self.experiment {
                continue;
            }
            self.rows.push(ExperimentRow {
                request_id: r.request_id().to_owned(),
                trace_id: r.trace_id().to_owned(),
                variant,
                status: r.status(),
                latency_ms: r.latency_ms(),
                cost_usd: r.cost_usd().unwrap_or(0.0),
            });
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::record_id;

    fn batch(ids: &[i64]) -> String {
        let records: Vec<Record> = ids
            .iter()
            .map(|&t| Record {
                id: record_id(t, 0),
                ts_ms: t,
                status: 200,
                ..Record::default()
            })
            .collect();
        crate::batch::to_json(&records).unwrap()
    }

    #[test]
    fn newest_stops_once_no_later_batch_can_enter_the_page() {
        let mut v = Newest::new(page_pick(&Filter::default(), None), 2);
        // Batches overlap: the second holds an id newer than the first's smallest.
        assert!(v.batch(&record_id(9, 0), &batch(&[9, 3])).unwrap());
        assert!(v.batch(&record_id(8, 0), &batch(&[8, 1])).unwrap());
        let times: Vec<i64> = v.found.iter().map(|r| r.ts_ms).collect();
        assert_eq!(times, vec![9, 8]);
        assert!(!v.batch(&record_id(7, 0), &batch(&[7])).unwrap());
    }

    #[test]
    fn a_page_after_a_cursor_takes_only_older_ids() {
        let mut v = Newest::new(page_pick(&Filter::default(), Some(record_id(8, 0))), 5);
        v.batch(&record_id(9, 0), &batch(&[9, 8, 3])).unwrap();
        let times: Vec<i64> = v.found.iter().map(|r| r.ts_ms).collect();
        assert_eq!(times, vec![3]);
    }

    #[test]
    fn measures_stop_past_the_cap() {
        let mut m = Measures::new(&Filter::default(), GroupBy::None, 2);
        assert!(m.batch("", &batch(&[1, 2])).unwrap());
        assert!(!m.batch("", &batch(&[3])).unwrap());
        assert_eq!(m.rows.len(), 3);
    }
}
