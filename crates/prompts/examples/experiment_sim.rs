//! How often the adaptive experiment gets it right, over many seeds: `cargo run --release -p
//! switchyard-prompts --example experiment_sim [runs]`. Variant B succeeds 60% of the time
//! against A's 40%, then both 50%; batches of 100 subjects, at most 4,000 observations, 95%
//! confidence, a 5% floor, 50 observations per variant at least.

use switchyard_prompts::experiment::sim::simulate;
use switchyard_prompts::experiment::{Outcome, Rule};

fn main() {
    let runs: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(500);
    let rule = Rule {
        outcome: Outcome::Rate,
        confidence: 0.95,
        floor: 0.05,
        min_samples: 50,
    };
    for (what, rates) in [
        ("B 60% vs A 40%", [0.4, 0.6]),
        ("equal, 50% each", [0.5, 0.5]),
    ] {
        let (mut a, mut b, mut none, mut obs, mut share_b) = (0u64, 0u64, 0u64, 0u64, 0.0);
        for seed in 0..runs {
            let r = simulate(&rates, &rule, seed, 100, 4000);
            match r.winner.as_deref() {
                Some("v0") => a += 1,
                Some("v1") => b += 1,
                _ => none += 1,
            }
            obs += r.observations;
            share_b += r.shares[1];
        }
        let pct = |x: u64| 100.0 * x as f64 / runs as f64;
        println!(
            "{what}: B declared {:.1}%, A declared {:.1}%, no winner {:.1}%; mean observations {:.0}; B's share of traffic {:.1}% ({runs} runs)",
            pct(b),
            pct(a),
            pct(none),
            obs as f64 / runs as f64,
            100.0 * share_b / runs as f64
        );
    }
}
