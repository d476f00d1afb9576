//! A simulated adaptive experiment, for the tests and `examples/experiment_sim.rs`: batches of
//! subjects split by the current allocation, yes/no outcomes drawn with each variant's true
//! rate, results after each batch, until a winner or a budget of observations.

use super::assign::pick;
use super::stats::{analyse, Arm, Rule};

/// How one simulated experiment ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// The variant declared (`v0`, `v1`, ...), if any.
    pub winner: Option<String>,
    /// Observations made.
    pub observations: u64,
    /// Each variant's share of them.
    pub shares: Vec<f64>,
}

/// Runs one experiment with these true `rates`, `batch` subjects per round, at most `max`
/// observations.
pub fn simulate(rates: &[f64], rule: &Rule, seed: u64, batch: u64, max: u64) -> Run {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut arms: Vec<Arm> = (0..rates.len())
        .map(|i| Arm::new(&format!("v{i}")))
        .collect();
    let mut alloc = vec![1.0 / rates.len().max(1) as f64; rates.len()];
    let mut total = 0;
    let mut winner = None;
    while total < max && winner.is_none() {
        for _ in 0..batch {
            let Some(i) = pick(&alloc, rng.f64()) else {
                break;
            };
            arms[i].add(f64::from(u8::from(rng.f64() < rates[i])));
        }
        total += batch;
        let r = analyse(&arms, rule, seed ^ total);
        winner = r.winner;
        alloc = r.variants.iter().map(|v| v.allocation).collect();
    }
    Run {
        winner,
        observations: total,
        shares: arms
            .iter()
            .map(|a| a.n as f64 / total.max(1) as f64)
            .collect(),
    }
}
