//! Sticky assignment: a subject (an end user, a session, a key) hashes with the experiment's id
//! to a point in [0, 1); the variant whose share of the cumulative weights covers the point is
//! the subject's. No state is stored, every replica assigns alike, and a subject keeps its
//! variant while the weights stay as they are.

use sha2::{Digest, Sha256};

/// The subject's point in [0, 1) for this experiment (SHA-256 of both, its first 8 bytes).
pub fn point(experiment: &str, subject: &str) -> f64 {
    let mut h = Sha256::new();
    h.update(experiment.as_bytes());
    h.update([0u8]);
    h.update(subject.as_bytes());
    let d = h.finalize();
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    // 53 bits: every value exactly representable, uniform in [0, 1).
    (u64::from_be_bytes(b) >> 11) as f64 / (1u64 << 53) as f64
}

/// The index of the variant `weights` (non-negative, not all zero) give the point `p` in
/// [0, 1); `None` when every weight is zero.
pub fn pick(weights: &[f64], p: f64) -> Option<usize> {
    let total: f64 = weights.iter().filter(|w| w.is_finite() && **w > 0.0).sum();
    if total <= 0.0 {
        return None;
    }
    let mut acc = 0.0;
    let mut last = None;
    for (i, w) in weights.iter().enumerate() {
        if !(w.is_finite() && *w > 0.0) {
            continue;
        }
        acc += w / total;
        last = Some(i);
        if p < acc {
            return Some(i);
        }
    }
    last
}

/// The variant of `subject` in `experiment` under `weights`.
pub fn assign(experiment: &str, subject: &str, weights: &[f64]) -> Option<usize> {
    pick(weights, point(experiment, subject))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_subject_keeps_its_variant_and_shares_follow_the_weights() {
        // Property, over many experiments and weightings: the same subject always gets the same
        // variant, and the shares over 20,000 subjects are within 1.5 points of the weights.
        let mut rng = fastrand::Rng::with_seed(7);
        for case in 0..20 {
            let k = rng.usize(2..=4);
            let weights: Vec<f64> = (0..k).map(|_| f64::from(rng.u32(1..=10))).collect();
            let total: f64 = weights.iter().sum();
            let exp = format!("exp-{case}");
            let mut counts = vec![0u32; k];
            for s in 0..20_000 {
                let subject = format!("user-{s}");
                let v = assign(&exp, &subject, &weights).unwrap();
                assert_eq!(assign(&exp, &subject, &weights), Some(v), "sticky");
                counts[v] += 1;
            }
            for (i, c) in counts.iter().enumerate() {
                let share = f64::from(*c) / 20_000.0;
                let want = weights[i] / total;
                assert!(
                    (share - want).abs() < 0.015,
                    "case {case}: variant {i} {share} vs {want}"
                );
            }
        }
    }

    #[test]
    fn zero_weights_are_never_picked() {
        assert_eq!(pick(&[0.0, 1.0], 0.0), Some(1));
        assert_eq!(pick(&[1.0, 0.0], 0.999), Some(0));
        assert_eq!(pick(&[0.0, 0.0], 0.5), None);
        // Experiments are independent: one subject's points differ between experiments.
        assert_ne!(point("a", "u"), point("b", "u"));
    }
}
