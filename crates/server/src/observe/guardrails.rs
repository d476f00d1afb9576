//! Guardrail metrics: checks run per policy, check and stage, by result, and the time they
//! took. Series are bounded by the configured policies (callers can only name those).

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, RwLock};
use switchyard_guardrails::policy::Stage;
use switchyard_guardrails::Verdict;

#[derive(Default)]
struct Counts {
    passed: AtomicU64,
    fired: AtomicU64,
    errored: AtomicU64,
    micros: AtomicU64,
}

type Key = (String, &'static str, Stage);

/// The counters, one set per (policy, check, stage).
#[derive(Default)]
pub struct GuardMetrics {
    table: RwLock<HashMap<Key, Arc<Counts>>>,
}

impl GuardMetrics {
    fn counts(&self, v: &Verdict) -> Arc<Counts> {
        let key = (v.policy.clone(), v.check, v.stage);
        if let Some(c) = self
            .table
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&key)
        {
            return Arc::clone(c);
        }
        Arc::clone(
            self.table
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .entry(key)
                .or_default(),
        )
    }

    /// Counts a scan's verdicts.
    pub fn record(&self, verdicts: &[Verdict]) {
        for v in verdicts {
            let c = self.counts(v);
            let n = if v.error.is_some() {
                &c.errored
            } else if v.fired {
                &c.fired
            } else {
                &c.passed
            };
            n.fetch_add(1, Relaxed);
            c.micros.fetch_add(v.latency_us, Relaxed);
        }
    }

    pub fn write(&self, out: &mut String) {
        let table = self
            .table
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if table.is_empty() {
            return;
        }
        let mut rows: Vec<(&Key, &Arc<Counts>)> = table.iter().collect();
        rows.sort_by(|a, b| (&a.0 .0, a.0 .1).cmp(&(&b.0 .0, b.0 .1)));
        let stage = |s: Stage| match s {
            Stage::Input => "input",
            Stage::Output => "output",
        };
        let _ = writeln!(out, "# HELP switchyard_guardrail_checks_total Guardrail checks run, by policy, check, stage and result (pass, fire, error)\n# TYPE switchyard_guardrail_checks_total counter");
        for ((p, c, s), n) in &rows {
            for (result, v) in [
                ("pass", &n.passed),
                ("fire", &n.fired),
                ("error", &n.errored),
            ] {
                let _ = writeln!(
                    out,
                    "switchyard_guardrail_checks_total{{policy=\"{p}\",check=\"{c}\",stage=\"{}\",result=\"{result}\"}} {}",
                    stage(*s),
                    v.load(Relaxed)
                );
            }
        }
        let _ = writeln!(out, "# HELP switchyard_guardrail_check_seconds_total Time spent in guardrail checks\n# TYPE switchyard_guardrail_check_seconds_total counter");
        for ((p, c, s), n) in &rows {
            let _ = writeln!(
                out,
                "switchyard_guardrail_check_seconds_total{{policy=\"{p}\",check=\"{c}\",stage=\"{}\"}} {}",
                stage(*s),
                n.micros.load(Relaxed) as f64 / 1e6
            );
        }
    }
}
