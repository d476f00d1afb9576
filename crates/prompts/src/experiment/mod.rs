//! Experiments: a prompt label's (or a model's) traffic split between variants, sticky per
//! subject, with outcomes from feedback; results with intervals, the probability that each
//! variant is best, an adaptive allocation that moves traffic towards the better variant, and
//! a stopping rule that stays valid although the results are watched continuously
//! (docs/experiments.md explains the statistics in plain words).

pub mod assign;
pub mod model;
pub mod sim;
pub mod stats;

pub use assign::{assign, point};
pub use model::{ExperimentDoc, Metric, Mode, Status, Unit, Variant};
pub use stats::{Arm, Outcome, Results, Rule, VariantResult};
