#![allow(clippy::unwrap_used)]

use super::*;

fn rule(confidence: f64) -> Rule {
    Rule {
        outcome: Outcome::Rate,
        confidence,
        floor: 0.05,
        min_samples: 50,
    }
}

#[test]
fn quantiles_and_wilson_match_published_values() {
    assert!((normal_quantile(0.975) - 1.959_964).abs() < 1e-4);
    assert!((normal_cdf(1.0) - 0.841_345).abs() < 1e-6);
    // Student's t, 97.5th percentile: 2.228 with 10 degrees of freedom, 2.042 with 30.
    assert!((t_quantile(0.975, 10.0) - 2.228).abs() < 0.01);
    assert!((t_quantile(0.975, 30.0) - 2.042).abs() < 0.005);
    let (lo, hi) = wilson(8.0, 10.0, normal_quantile(0.975));
    assert!(
        (lo - 0.490_16).abs() < 1e-3 && (hi - 0.943_32).abs() < 1e-3,
        "{lo} {hi}"
    );
}

/// A coin with success rate `p`.
fn flip(rng: &mut fastrand::Rng, p: f64) -> f64 {
    f64::from(u8::from(rng.f64() < p))
}

#[test]
fn the_anytime_interval_holds_under_continuous_watching_and_the_fixed_one_does_not() {
    // 300 runs of 2,000 fair coin flips, the intervals checked after every flip from the 20th:
    // the confidence sequence (95%) should exclude the true rate at some moment in at most 5%
    // of runs; Wilson's fixed-sample interval, watched the same way, is wrong far more often.
    let (runs, steps, z) = (300, 2000, normal_quantile(0.975));
    let mut rng = fastrand::Rng::with_seed(11);
    let (mut cs_wrong, mut fixed_wrong) = (0, 0);
    for _ in 0..runs {
        let mut s = 0.0;
        let (mut cs_bad, mut fixed_bad) = (false, false);
        for n in 1..=steps {
            s += flip(&mut rng, 0.5);
            if n < 20 {
                continue;
            }
            let nf = f64::from(n);
            let r = mixture_radius(nf, 0.5, 0.05, 100.0);
            cs_bad |= (s / nf - 0.5).abs() > r;
            let (lo, hi) = wilson(s, nf, z);
            fixed_bad |= !(lo..=hi).contains(&0.5);
        }
        cs_wrong += u32::from(cs_bad);
        fixed_wrong += u32::from(fixed_bad);
    }
    let cs_rate = f64::from(cs_wrong) / f64::from(runs);
    let fixed_rate = f64::from(fixed_wrong) / f64::from(runs);
    assert!(
        cs_rate <= 0.05,
        "the confidence sequence failed in {cs_rate} of runs"
    );
    assert!(
        fixed_rate > 0.2,
        "watched continuously, Wilson's interval failed in only {fixed_rate}"
    );
}

fn simulate(rates: &[f64], seed: u64, max: u64) -> (Option<String>, Vec<f64>) {
    let r = crate::experiment::sim::simulate(rates, &rule(0.95), seed, 100, max);
    (r.winner, r.shares)
}

#[test]
fn adaptive_moves_traffic_to_the_better_variant_and_declares_it() {
    // B succeeds 60% of the time against A's 40%: over 20 seeds, B is declared (never A), in
    // all or nearly all runs of at most 4,000 observations, with most traffic sent to B.
    let mut b_wins = 0;
    let mut b_share = 0.0;
    for seed in 0..20 {
        let (winner, shares) = simulate(&[0.4, 0.6], seed, 4000);
        assert_ne!(
            winner.as_deref(),
            Some("v0"),
            "seed {seed} declared the worse variant"
        );
        b_wins += u32::from(winner.as_deref() == Some("v1"));
        b_share += shares[1] / 20.0;
    }
    assert!(b_wins >= 18, "B declared in {b_wins} of 20 runs");
    assert!(b_share > 0.6, "B got {b_share} of the traffic");
}

#[test]
fn equal_variants_rarely_get_a_winner() {
    // The same rate for both: a winner is a false discovery; the anytime intervals keep them
    // under the 5% the confidence allows (in runs as long as the ones above).
    let wrong = (100..130)
        .filter(|seed| simulate(&[0.5, 0.5], *seed, 4000).0.is_some())
        .count();
    assert!(
        wrong <= 2,
        "{wrong} of 30 runs declared a winner between equal variants"
    );
}

#[test]
fn allocations_respect_the_floor_and_sum_to_one() {
    let mut a = Arm::new("a");
    let mut b = Arm::new("b");
    for i in 0..200 {
        a.add(f64::from(u8::from(i % 10 < 2)));
        b.add(f64::from(u8::from(i % 10 < 8)));
    }
    let r = analyse(&[a, b], &rule(0.95), 1);
    let total: f64 = r.variants.iter().map(|v| v.allocation).sum();
    assert!((total - 1.0).abs() < 1e-9);
    assert!(r.variants[0].allocation >= 0.05 - 1e-12);
    assert!(r.variants[1].p_best > 0.99);
    assert_eq!(r.winner.as_deref(), Some("b"));
    let (d, lo, hi) = r.variants[1].difference.unwrap();
    assert!((d - 0.6).abs() < 1e-9 && lo > 0.0 && hi < 1.0);
}

#[test]
fn means_use_t_intervals_and_welch_differences() {
    let mut a = Arm::new("a");
    let mut b = Arm::new("b");
    for x in [3.0, 4.0, 5.0, 4.0, 4.0] {
        a.add(x);
        b.add(x + 1.0);
    }
    let rule = Rule {
        outcome: Outcome::Mean,
        ..rule(0.95)
    };
    let r = analyse(&[a, b], &rule, 3);
    let (lo, hi) = r.variants[0].interval.unwrap();
    // mean 4, sd sqrt(0.5), n 5: 4 ± 2.776 × 0.3162 = (3.122, 4.878) (t with 4 df ≈ 2.776).
    assert!(
        (lo - 3.122).abs() < 0.05 && (hi - 4.878).abs() < 0.05,
        "{lo} {hi}"
    );
    let (d, dlo, dhi) = r.variants[1].difference.unwrap();
    assert!((d - 1.0).abs() < 1e-9 && dlo < 1.0 && dhi > 1.0);
    assert!(
        r.winner.is_none(),
        "five observations each are fewer than the minimum"
    );
}
