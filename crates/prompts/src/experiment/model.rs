//! What an experiment is, as stored: a prompt label's traffic split between variants (each a
//! version of the prompt, optionally with a model and parameters of its own), the subject that
//! keeps a caller on one variant, the outcome measured, the mode, and where it stands.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One arm of an experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    pub name: String,
    /// The prompt version it serves (prompt experiments).
    #[serde(default)]
    pub version: u32,
    /// Its share of traffic in a fixed split (any positive numbers; they are normalised).
    #[serde(default = "one")]
    pub weight: f64,
    /// A model that replaces the version's (and the caller's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Parameters that replace the version's and the caller's.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub params: Map<String, Value>,
}

fn one() -> f64 {
    1.0
}

/// Who keeps one variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// The end user (`x-switchyard-end-user`, the body's `user`), else the key.
    #[default]
    EndUser,
    /// The session (`x-switchyard-session-id`, `metadata.session_id`), else the key.
    Session,
    /// The virtual key (or static key).
    Key,
}

/// The feedback an experiment is judged by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Yes/no feedback: a score above 0 is a success.
    #[default]
    Rate,
    /// The score's mean.
    Mean,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// The weights as given, until stopped.
    #[default]
    Fixed,
    /// Traffic moves towards the variant likelier to be best (a floor for each), and the
    /// experiment concludes once a winner is clear.
    Adaptive,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    #[default]
    Running,
    /// Stopped by hand: the label serves its own version again.
    Stopped,
    /// A winner was declared: all of the label's traffic goes to it until it is promoted or
    /// the experiment stopped.
    Concluded,
}

/// An experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExperimentDoc {
    pub id: String,
    pub workspace: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The prompt whose label's traffic is split (empty for a route experiment).
    #[serde(default)]
    pub prompt: String,
    /// The label (`production` by default): requests the label would serve are split.
    #[serde(default)]
    pub label: String,
    /// A route or model name: requests naming it are split between the variants' models
    /// (instead of a prompt's label).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
    pub variants: Vec<Variant>,
    #[serde(default)]
    pub unit: Unit,
    #[serde(default)]
    pub metric: Metric,
    #[serde(default)]
    pub mode: Mode,
    /// The confidence a winner is declared with.
    pub confidence: f64,
    /// The least share an adaptive experiment leaves each variant.
    pub floor: f64,
    /// Observations each variant needs before a winner can be declared.
    pub min_samples: u64,
    #[serde(default)]
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub winner: Option<String>,
    pub started_ms: i64,
    pub updated_ms: i64,
    pub created_by: String,
}

impl ExperimentDoc {
    /// The weights of a fixed split, normalised.
    pub fn weights(&self) -> Vec<f64> {
        let total: f64 = self.variants.iter().map(|v| v.weight).sum();
        self.variants
            .iter()
            .map(|v| if total > 0.0 { v.weight / total } else { 0.0 })
            .collect()
    }

    /// What makes a stored experiment impossible, naming the field.
    pub fn check(&self) -> Result<(), crate::model::Invalid> {
        let bad = |param: &str, message: String| crate::model::Invalid {
            param: param.to_owned(),
            message,
        };
        match &self.route {
            Some(r) if r.is_empty() => return Err(bad("route", "must not be empty".into())),
            Some(_) => {
                if let Some(i) = self.variants.iter().position(|v| v.model.is_none()) {
                    return Err(bad(
                        &format!("variants[{i}].model"),
                        "a route experiment's variants each name a model".into(),
                    ));
                }
            }
            None => {
                if let Some(i) = self.variants.iter().position(|v| v.version == 0) {
                    return Err(bad(
                        &format!("variants[{i}].version"),
                        "a prompt experiment's variants each name a version".into(),
                    ));
                }
            }
        }
        if self.variants.len() < 2 {
            return Err(bad(
                "variants",
                "an experiment needs two variants or more".into(),
            ));
        }
        let mut names = std::collections::BTreeSet::new();
        for (i, v) in self.variants.iter().enumerate() {
            if !crate::model::valid_id(&v.name) {
                return Err(bad(
                    &format!("variants[{i}].name"),
                    "1 to 64 lowercase letters, digits, -, _ or .".into(),
                ));
            }
            if !names.insert(&v.name) {
                return Err(bad(
                    &format!("variants[{i}].name"),
                    format!("\"{}\" is used twice", v.name),
                ));
            }
            if !(v.weight.is_finite() && v.weight > 0.0) {
                return Err(bad(
                    &format!("variants[{i}].weight"),
                    "must be a positive number".into(),
                ));
            }
        }
        if !(0.5..1.0).contains(&self.confidence) {
            return Err(bad("confidence", "must be at least 0.5 and below 1".into()));
        }
        let k = self.variants.len() as f64;
        if !(0.0..=1.0 / k).contains(&self.floor) {
            return Err(bad(
                "floor",
                format!("must be between 0 and {:.3} (1 / variants)", 1.0 / k),
            ));
        }
        Ok(())
    }
}
