//! Dataset runs' scoring and summary: the evaluators that need no model (exact and similarity
//! match against a row's expected output; the server adds guardrail checks and an LLM judge),
//! and per variant and evaluator the mean score with its interval (Wilson's when every score
//! is 0 or 1, Student's t otherwise), next to tokens, cost, latency and errors.

use crate::experiment::stats::{normal_quantile, t_quantile, wilson};
use serde::Serialize;

/// 1 when `output` equals `expected` once both are trimmed, else 0.
pub fn exact(output: &str, expected: &str) -> f64 {
    f64::from(u8::from(output.trim() == expected.trim()))
}

/// How alike two texts are, from 0 to 1: one less the edit distance between them (in
/// characters, after trimming and lowercasing) over the longer one's length.
pub fn similarity(output: &str, expected: &str) -> f64 {
    let a = output.trim().to_lowercase();
    let b = expected.trim().to_lowercase();
    let longest = a.chars().count().max(b.chars().count());
    if longest == 0 {
        return 1.0;
    }
    1.0 - crate::variables::distance(&a, &b) as f64 / longest as f64
}

/// The first number in a judge's answer, as a score from 0 to 1 (`scale` is the judge's top
/// mark: 10 for "rate from 0 to 10"); `None` when it gave none.
pub fn judge_score(answer: &str, scale: f64) -> Option<f64> {
    let start = answer.find(|c: char| c.is_ascii_digit())?;
    let text: String = answer[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let x: f64 = text.trim_end_matches('.').parse().ok()?;
    Some((x / scale).clamp(0.0, 1.0))
}

/// One evaluator's scores for one variant, summarised.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scored {
    pub n: usize,
    pub mean: Option<f64>,
    /// The interval at `confidence`: Wilson's for 0/1 scores, Student's t otherwise.
    pub interval: Option<(f64, f64)>,
}

/// The summary of `scores` at `confidence`.
pub fn summarise(scores: &[f64], confidence: f64) -> Scored {
    let n = scores.len();
    if n == 0 {
        return Scored {
            n,
            mean: None,
            interval: None,
        };
    }
    let nf = n as f64;
    let mean = scores.iter().sum::<f64>() / nf;
    let alpha = (1.0 - confidence).clamp(1e-9, 0.5);
    let binary = scores.iter().all(|s| *s == 0.0 || *s == 1.0);
    let interval = if binary {
        Some(wilson(mean * nf, nf, normal_quantile(1.0 - alpha / 2.0)))
    } else if n >= 2 {
        let var = scores.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / (nf - 1.0);
        let h = t_quantile(1.0 - alpha / 2.0, nf - 1.0) * (var / nf).sqrt();
        Some((mean - h, mean + h))
    } else {
        None
    };
    Scored {
        n,
        mean: Some(mean),
        interval,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn matches_and_scores() {
        assert_eq!(exact(" Paris\n", "Paris"), 1.0);
        assert_eq!(exact("paris", "Paris"), 0.0);
        assert_eq!(similarity("kitten", "sitting"), 1.0 - 3.0 / 7.0);
        assert_eq!(similarity("Same", "same "), 1.0);
        assert_eq!(judge_score("Score: 7/10 because...", 10.0), Some(0.7));
        assert_eq!(judge_score("8.", 10.0), Some(0.8));
        assert_eq!(judge_score("no idea", 10.0), None);
    }

    #[test]
    fn binary_scores_get_wilson_and_others_t() {
        let s = summarise(&[1.0, 0.0, 1.0, 1.0], 0.95);
        assert_eq!(s.mean, Some(0.75));
        let (lo, hi) = s.interval.unwrap();
        let (wlo, whi) = wilson(3.0, 4.0, normal_quantile(0.975));
        assert!((lo - wlo).abs() < 1e-12 && (hi - whi).abs() < 1e-12);
        let s = summarise(&[0.5, 0.7, 0.9], 0.95);
        let (lo, hi) = s.interval.unwrap();
        assert!(lo < 0.7 && hi > 0.7 && (0.7 - lo - (hi - 0.7)).abs() < 1e-9);
        assert_eq!(summarise(&[], 0.95).mean, None);
    }
}
