//! What a limit says: whose traffic it counts (scope), what it counts (dimension), over what
//! time (window), how much, and whether it refuses or only reports (mode).
//!
//! Written compactly in config and the admin API:
//!
//! ```yaml
//! - id: key-monthly
//!   scope: key:3fQ0m9ZcK2Lp     # org | workspace:ID | key:ID | user:ID | end_user:ID |
//!                               # tag:NAME | metadata.FIELD:VALUE | model:NAME | provider:NAME;
//!                               # `*` for the value: each one separately (end_user:*)
//!   dimension: cost_usd         # requests | input_tokens | output_tokens | total_tokens |
//!                               # cost_usd | concurrent
//!   amount: 50
//!   window: month               # second | minute | hour | day (rolling) or
//!                               # calendar_day | calendar_week | calendar_month (`month`)
//!   time_zone: Europe/Berlin    # calendar windows; default UTC
//!   mode: enforce               # or shadow
//! ```

use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// Whose traffic a limit counts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ScopeKind {
    Org,
    Workspace,
    Key,
    User,
    EndUser,
    Tag,
    /// A field of the request's metadata.
    Metadata(String),
    Model,
    Provider,
}

/// A scope: a kind and one value, or every value of the kind separately (`each`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    pub kind: ScopeKind,
    /// `None`: each value separately (`end_user:*`); always `None` for `org`.
    pub value: Option<String>,
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.kind {
            ScopeKind::Org => return f.write_str("org"),
            ScopeKind::Workspace => "workspace",
            ScopeKind::Key => "key",
            ScopeKind::User => "user",
            ScopeKind::EndUser => "end_user",
            ScopeKind::Tag => "tag",
            ScopeKind::Metadata(field) => {
                return write!(
                    f,
                    "metadata.{field}:{}",
                    self.value.as_deref().unwrap_or("*")
                )
            }
            ScopeKind::Model => "model",
            ScopeKind::Provider => "provider",
        };
        write!(f, "{kind}:{}", self.value.as_deref().unwrap_or("*"))
    }
}

impl std::str::FromStr for Scope {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if s == "org" {
            return Ok(Scope {
                kind: ScopeKind::Org,
                value: None,
            });
        }
        let (kind, value) = s.split_once(':').ok_or_else(|| {
            format!("\"{s}\": a scope is org, or KIND:VALUE (workspace:ws-1, end_user:*, metadata.team:ml)")
        })?;
        let kind = match kind {
            "workspace" => ScopeKind::Workspace,
            "key" => ScopeKind::Key,
            "user" => ScopeKind::User,
            "end_user" => ScopeKind::EndUser,
            "tag" => ScopeKind::Tag,
            "model" => ScopeKind::Model,
            "provider" => ScopeKind::Provider,
            m if m.starts_with("metadata.") && m.len() > "metadata.".len() => {
                ScopeKind::Metadata(m["metadata.".len()..].to_owned())
            }
            other => {
                return Err(format!(
                    "\"{other}\" is not a scope kind (org, workspace, key, user, end_user, tag, metadata.FIELD, model, provider)"
                ))
            }
        };
        if value.is_empty() {
            return Err(format!("\"{s}\": the value is empty (use * for each one)"));
        }
        Ok(Scope {
            kind,
            value: (value != "*").then(|| value.to_owned()),
        })
    }
}

/// What a limit counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    Requests,
    InputTokens,
    OutputTokens,
    TotalTokens,
    /// Kept in micro-dollars, exactly.
    CostUsd,
    /// Requests in flight at once.
    Concurrent,
}

impl Dimension {
    pub fn name(self) -> &'static str {
        match self {
            Dimension::Requests => "requests",
            Dimension::InputTokens => "input_tokens",
            Dimension::OutputTokens => "output_tokens",
            Dimension::TotalTokens => "total_tokens",
            Dimension::CostUsd => "cost_usd",
            Dimension::Concurrent => "concurrent",
        }
    }

    /// A budget or token limit (fails closed when its store is down) rather than a request
    /// rate or concurrency.
    pub fn is_spend(self) -> bool {
        !matches!(self, Dimension::Requests | Dimension::Concurrent)
    }
}

/// A calendar period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Calendar {
    Day,
    /// Monday to Sunday.
    Week,
    Month,
}

/// Over what time a limit counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Window {
    /// The last `Duration`, sliding.
    Rolling(Duration),
    /// The current calendar day, week or month in the limit's time zone.
    Calendar(Calendar),
}

impl std::str::FromStr for Window {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "second" => Window::Rolling(Duration::from_secs(1)),
            "minute" => Window::Rolling(Duration::from_secs(60)),
            "hour" => Window::Rolling(Duration::from_secs(3600)),
            "day" => Window::Rolling(Duration::from_secs(86_400)),
            "calendar_day" => Window::Calendar(Calendar::Day),
            "calendar_week" | "week" => Window::Calendar(Calendar::Week),
            "calendar_month" | "month" => Window::Calendar(Calendar::Month),
            other => {
                return Err(format!(
                    "\"{other}\" is not a window (second, minute, hour, day, calendar_day, week, month)"
                ))
            }
        })
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Window::Rolling(d) => match d.as_secs() {
                1 => "second",
                60 => "minute",
                3600 => "hour",
                _ => "day",
            },
            Window::Calendar(Calendar::Day) => "calendar_day",
            Window::Calendar(Calendar::Week) => "week",
            Window::Calendar(Calendar::Month) => "month",
        })
    }
}

/// Whether a limit refuses or only counts and reports.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    #[default]
    Enforce,
    Shadow,
}

/// One limit.
#[derive(Debug, Clone, PartialEq)]
pub struct Limit {
    /// Names it in answers, headers' companions, the admin API and metrics.
    pub id: String,
    pub scope: Scope,
    pub dimension: Dimension,
    /// In the dimension's unit: requests, tokens, US dollars (kept as micro-dollars), or
    /// requests at once.
    pub amount: u64,
    pub window: Window,
    /// For calendar windows.
    pub time_zone: jiff::tz::TimeZone,
    pub mode: Mode,
}

impl Limit {
    /// Whose traffic the limit counted, in words: `the organisation`, `key k1`, `end user
    /// alice`, `metadata team ml`.
    pub fn scope_for(&self, value: &str) -> String {
        match &self.scope.kind {
            ScopeKind::Org => "the organisation".into(),
            ScopeKind::Workspace => format!("workspace {value}"),
            ScopeKind::Key => format!("key {value}"),
            ScopeKind::User => format!("user {value}"),
            ScopeKind::EndUser => format!("end user {value}"),
            ScopeKind::Tag => format!("tag {value}"),
            ScopeKind::Metadata(f) => format!("metadata {f} {value}"),
            ScopeKind::Model => format!("model {value}"),
            ScopeKind::Provider => format!("provider {value}"),
        }
    }
}

/// Micro-dollars in a dollar: cost is counted in whole micro-dollars, so sums are exact.
pub const MICROS: f64 = 1_000_000.0;

/// A limit as written (config file, admin API).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawLimit {
    /// A name for the limit: letters, digits, `-`, `_`, `.`.
    pub id: String,
    /// `org`, or `KIND:VALUE` with KIND one of workspace, key, user, end_user, tag,
    /// metadata.FIELD, model, provider, and VALUE an id or `*` (each one separately).
    pub scope: String,
    /// requests, input_tokens, output_tokens, total_tokens, cost_usd, concurrent.
    pub dimension: Dimension,
    /// How much: requests, tokens, US dollars (`12.50`), or requests at once.
    pub amount: f64,
    /// second, minute, hour, day (rolling); calendar_day, week, month (calendar). Not used for
    /// `concurrent`. Default minute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<String>,
    /// IANA time zone of calendar windows. Default UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// enforce (default) or shadow (counted and reported, never refused).
    #[serde(default)]
    pub mode: Mode,
}

impl RawLimit {
    /// Checks and resolves it; the error names the bad field.
    pub fn resolve(&self) -> Result<Limit, (String, String)> {
        let bad = |field: &str, msg: String| (field.to_owned(), msg);
        if self.id.is_empty()
            || self.id.len() > 64
            || !self
                .id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        {
            return Err(bad("id", "1 to 64 letters, digits, '-', '_' or '.'".into()));
        }
        let scope: Scope = self.scope.parse().map_err(|e| bad("scope", e))?;
        if !self.amount.is_finite() || self.amount < 0.0 {
            return Err(bad("amount", "must be a number >= 0".into()));
        }
        let amount = if self.dimension == Dimension::CostUsd {
            (self.amount * MICROS).round()
        } else if self.amount.fract() != 0.0 {
            return Err(bad(
                "amount",
                format!("{} are counted whole", self.dimension.name()),
            ));
        } else {
            self.amount
        };
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let amount = amount.min(u64::MAX as f64) as u64;
        let window: Window = self
            .window
            .as_deref()
            .unwrap_or("minute")
            .parse()
            .map_err(|e| bad("window", e))?;
        let time_zone = match self.time_zone.as_deref() {
            None | Some("UTC") => jiff::tz::TimeZone::UTC,
            Some(name) => jiff::tz::TimeZone::get(name)
                .map_err(|e| bad("time_zone", format!("\"{name}\": {e}")))?,
        };
        Ok(Limit {
            id: self.id.clone(),
            scope,
            dimension: self.dimension,
            amount,
            window,
            time_zone,
            mode: self.mode,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(scope: &str, dimension: Dimension, amount: f64, window: Option<&str>) -> RawLimit {
        RawLimit {
            id: "l1".into(),
            scope: scope.into(),
            dimension,
            amount,
            window: window.map(str::to_owned),
            time_zone: None,
            mode: Mode::Enforce,
        }
    }

    #[test]
    fn scopes_read_and_print_back() {
        for s in [
            "org",
            "workspace:ws-1",
            "key:*",
            "end_user:alice",
            "metadata.team:ml",
            "metadata.team:*",
            "model:openai/gpt-4o",
            "tag:batch",
        ] {
            let parsed: Scope = s.parse().unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(parsed.to_string(), s);
        }
        assert!("team:x".parse::<Scope>().is_err());
        assert!("key:".parse::<Scope>().is_err());
        assert!("metadata.:x".parse::<Scope>().is_err());
        assert!("key".parse::<Scope>().is_err());
    }

    #[test]
    fn limits_resolve_and_name_their_bad_field() {
        let l = raw("key:k1", Dimension::CostUsd, 12.5, Some("month"))
            .resolve()
            .unwrap();
        assert_eq!(l.amount, 12_500_000);
        assert_eq!(l.window, Window::Calendar(Calendar::Month));
        let field = |r: RawLimit| r.resolve().unwrap_err().0;
        assert_eq!(field(raw("nope", Dimension::Requests, 1.0, None)), "scope");
        assert_eq!(field(raw("org", Dimension::Requests, 1.5, None)), "amount");
        assert_eq!(field(raw("org", Dimension::Requests, -1.0, None)), "amount");
        assert_eq!(
            field(raw("org", Dimension::Requests, 1.0, Some("fortnight"))),
            "window"
        );
        let mut tz = raw("org", Dimension::Requests, 1.0, Some("month"));
        tz.time_zone = Some("Mars/Olympus".into());
        assert_eq!(field(tz), "time_zone");
        let mut id = raw("org", Dimension::Requests, 1.0, None);
        id.id = "has space".into();
        assert_eq!(field(id), "id");
    }
}
