//! The statistics of an experiment, per variant: the mean outcome (a rate for yes/no feedback,
//! a mean for scores) with its fixed-sample interval (Wilson's for rates, Student's t for means,
//! Welch's for a variant's difference from the first), an anytime-valid interval (a confidence
//! sequence: it holds at every moment at once, so results can be watched continuously and the
//! experiment stopped when it is clear), the probability that each variant is best, and the
//! allocation adaptive experiments give each variant next.

use serde::Serialize;

/// What the feedback measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Yes/no feedback (score 0 or 1): means are rates.
    Rate,
    /// Numeric scores.
    Mean,
}

/// One variant's observations (one per request or session with feedback).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Arm {
    pub name: String,
    pub n: u64,
    pub sum: f64,
    pub sum_sq: f64,
}

impl Arm {
    pub fn new(name: &str) -> Arm {
        Arm {
            name: name.to_owned(),
            ..Arm::default()
        }
    }

    pub fn add(&mut self, x: f64) {
        self.n += 1;
        self.sum += x;
        self.sum_sq += x * x;
    }

    fn mean(&self) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            self.sum / self.n as f64
        }
    }

    /// The sample variance (n − 1).
    fn var(&self) -> f64 {
        if self.n < 2 {
            return 0.0;
        }
        let n = self.n as f64;
        ((self.sum_sq - self.sum * self.sum / n) / (n - 1.0)).max(0.0)
    }
}

/// How results are judged.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub outcome: Outcome,
    /// The confidence a winner is declared with (0.95).
    pub confidence: f64,
    /// The least share of traffic an adaptive experiment leaves any variant (0.05).
    pub floor: f64,
    /// Observations every variant needs before a winner can be declared.
    pub min_samples: u64,
}

/// One variant's results.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VariantResult {
    pub name: String,
    /// Observations (requests or sessions with feedback).
    pub n: u64,
    pub mean: Option<f64>,
    /// The fixed-sample interval at the rule's confidence: Wilson's for rates, Student's t for
    /// means.
    pub interval: Option<(f64, f64)>,
    /// The anytime-valid interval (a confidence sequence at the rule's confidence, shared out
    /// among the variants): what the stopping rule reads.
    pub anytime: Option<(f64, f64)>,
    /// The difference from the first variant with its Welch interval (`None` for the first).
    pub difference: Option<(f64, f64, f64)>,
    /// The probability that this variant has the highest mean outcome.
    pub p_best: f64,
    /// The share of traffic an adaptive experiment gives it next.
    pub allocation: f64,
}

/// Every variant's results, and the winner once one is clear.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Results {
    pub variants: Vec<VariantResult>,
    pub winner: Option<String>,
}

/// The standard normal distribution function (Abramowitz and Stegun 7.1.26 for erf; absolute
/// error under 1.5e-7).
pub fn normal_cdf(x: f64) -> f64 {
    let z = x.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * z);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-z * z).exp();
    if x >= 0.0 {
        0.5 * (1.0 + erf)
    } else {
        0.5 * (1.0 - erf)
    }
}

/// The standard normal quantile, by bisection on `normal_cdf`.
pub fn normal_quantile(p: f64) -> f64 {
    let p = p.clamp(1e-12, 1.0 - 1e-12);
    let (mut lo, mut hi) = (-10.0_f64, 10.0_f64);
    for _ in 0..80 {
        let mid = 0.5 * (lo + hi);
        if normal_cdf(mid) < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// Student's t quantile with `df` degrees of freedom (the Cornish–Fisher expansion around the
/// normal quantile; within 1% for df ≥ 3).
pub fn t_quantile(p: f64, df: f64) -> f64 {
    let z = normal_quantile(p);
    if !df.is_finite() || df <= 0.0 {
        return z;
    }
    let z3 = z * z * z;
    let z5 = z3 * z * z;
    z + (z3 + z) / (4.0 * df) + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * df * df)
}

/// Wilson's interval for `s` successes in `n` at normal quantile `z`.
pub fn wilson(s: f64, n: f64, z: f64) -> (f64, f64) {
    let p = s / n;
    let z2 = z * z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / (1.0 + z2 / n);
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// The half-width of a normal-mixture confidence sequence for the mean of `n` observations
/// whose spread is at most `sigma` (sub-Gaussian), holding at every `n` at once with
/// probability `1 - alpha`. The mixture is tuned to be tightest near `n_opt` observations.
///
/// Why it holds at every moment: `exp(λ S_n − λ² n σ² / 2)` is a supermartingale for each λ; its
/// average over λ ~ N(0, ρ²) is `exp(ρ² S_n² / (2(1 + ρ² n σ²))) / sqrt(1 + ρ² n σ²)`, also a
/// supermartingale, and Ville's inequality says it ever reaches `1/α` with probability at most
/// `α`. Solving that bound for `|S_n|` gives the radius below.
pub fn mixture_radius(n: f64, sigma: f64, alpha: f64, n_opt: f64) -> f64 {
    if n <= 0.0 || sigma <= 0.0 {
        return f64::INFINITY;
    }
    let v = n * sigma * sigma;
    let rho2 = 1.0 / (sigma * sigma * n_opt.max(1.0));
    let s =
        (2.0 * (1.0 + rho2 * v) / rho2 * ((1.0 / alpha).ln() + 0.5 * (1.0 + rho2 * v).ln())).sqrt();
    s / n
}

/// A Gamma(shape, 1) draw (Marsaglia and Tsang; shape < 1 by boosting).
fn gamma(rng: &mut fastrand::Rng, shape: f64) -> f64 {
    if shape < 1.0 {
        let u = rng.f64().max(f64::MIN_POSITIVE);
        return gamma(rng, shape + 1.0) * u.powf(1.0 / shape);
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let x = normal(rng);
        let v = (1.0 + c * x).powi(3);
        if v <= 0.0 {
            continue;
        }
        let u = rng.f64().max(f64::MIN_POSITIVE);
        if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
            return d * v;
        }
    }
}

/// A standard normal draw (Box–Muller).
fn normal(rng: &mut fastrand::Rng) -> f64 {
    let u1 = rng.f64().max(f64::MIN_POSITIVE);
    let u2 = rng.f64();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// Posterior draws per round of the probability-best estimate.
const DRAWS: usize = 4000;

/// The probability each arm has the highest mean: the share of joint posterior draws it wins
/// (rates: Beta(1 + successes, 1 + failures); means: Normal(mean, variance / n), with a unit
/// variance before two observations). `seed` makes it reproducible, so replicas agree.
pub fn p_best(arms: &[Arm], outcome: Outcome, seed: u64) -> Vec<f64> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut wins = vec![0u32; arms.len()];
    if arms.is_empty() {
        return Vec::new();
    }
    for _ in 0..DRAWS {
        let mut best = (f64::NEG_INFINITY, 0);
        for (i, a) in arms.iter().enumerate() {
            let x = match outcome {
                Outcome::Rate => {
                    let s = a.sum.clamp(0.0, a.n as f64);
                    let g1 = gamma(&mut rng, 1.0 + s);
                    let g2 = gamma(&mut rng, 1.0 + a.n as f64 - s);
                    g1 / (g1 + g2)
                }
                Outcome::Mean => {
                    let var = if a.n < 2 { 1.0 } else { a.var().max(1e-12) };
                    a.mean() + normal(&mut rng) * (var / (a.n.max(1) as f64)).sqrt()
                }
            };
            if x > best.0 {
                best = (x, i);
            }
        }
        wins[best.1] += 1;
    }
    wins.iter().map(|w| f64::from(*w) / DRAWS as f64).collect()
}

/// Results for `arms` under `rule`.
pub fn analyse(arms: &[Arm], rule: &Rule, seed: u64) -> Results {
    let k = arms.len().max(1) as f64;
    let alpha = (1.0 - rule.confidence).clamp(1e-9, 0.5);
    let z = normal_quantile(1.0 - alpha / 2.0);
    let best = p_best(arms, rule.outcome, seed);
    let floor = rule.floor.clamp(0.0, 1.0 / k);
    let n_opt = rule.min_samples.max(100) as f64;
    let control = arms.first();
    let variants: Vec<VariantResult> = arms
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let n = a.n as f64;
            let (mean, interval, anytime) = if a.n == 0 {
                (None, None, None)
            } else {
                let m = a.mean();
                let interval = match rule.outcome {
                    Outcome::Rate => wilson(a.sum.clamp(0.0, n), n, z),
                    Outcome::Mean if a.n >= 2 => {
                        let h = t_quantile(1.0 - alpha / 2.0, n - 1.0) * (a.var() / n).sqrt();
                        (m - h, m + h)
                    }
                    Outcome::Mean => (f64::NEG_INFINITY, f64::INFINITY),
                };
                let sigma = match rule.outcome {
                    Outcome::Rate => 0.5,
                    Outcome::Mean => a.var().sqrt().max(1e-9),
                };
                let r = if rule.outcome == Outcome::Mean && a.n < 2 {
                    f64::INFINITY
                } else {
                    mixture_radius(n, sigma, alpha / k, n_opt)
                };
                (Some(m), Some(interval), Some((m - r, m + r)))
            };
            let difference = match (i, control) {
                (0, _) | (_, None) => None,
                (_, Some(c)) if c.n >= 2 && a.n >= 2 => {
                    let (n1, n2) = (c.n as f64, n);
                    let (v1, v2) = match rule.outcome {
                        Outcome::Rate => {
                            let (p1, p2) = (c.mean(), a.mean());
                            (p1 * (1.0 - p1), p2 * (1.0 - p2))
                        }
                        Outcome::Mean => (c.var(), a.var()),
                    };
                    let se2 = v1 / n1 + v2 / n2;
                    // Welch–Satterthwaite degrees of freedom.
                    let df = if se2 > 0.0 {
                        se2 * se2
                            / ((v1 / n1).powi(2) / (n1 - 1.0) + (v2 / n2).powi(2) / (n2 - 1.0))
                    } else {
                        f64::INFINITY
                    };
                    let d = a.mean() - c.mean();
                    let h = t_quantile(1.0 - alpha / 2.0, df) * se2.sqrt();
                    Some((d, d - h, d + h))
                }
                _ => None,
            };
            let p = best.get(i).copied().unwrap_or(0.0);
            VariantResult {
                name: a.name.clone(),
                n: a.n,
                mean,
                interval,
                anytime,
                difference,
                p_best: p,
                allocation: floor + (1.0 - k * floor) * p,
            }
        })
        .collect();
    // A winner: every variant has its minimum, and one variant's anytime interval lies wholly
    // above every other's.
    let ready = arms.len() >= 2 && arms.iter().all(|a| a.n >= rule.min_samples.max(2));
    let winner = ready
        .then(|| {
            variants.iter().find(|w| {
                let Some((lo, _)) = w.anytime else {
                    return false;
                };
                variants
                    .iter()
                    .filter(|o| o.name != w.name)
                    .all(|o| o.anytime.is_some_and(|(_, hi)| lo > hi))
            })
        })
        .flatten()
        .map(|w| w.name.clone());
    Results { variants, winner }
}

#[cfg(test)]
mod tests;
