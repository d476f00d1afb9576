//! What a store is asked to do for one request: the counters it touches (lines), each with its
//! algorithm and what to reserve; what it answers (each counter's state, or the refusal).

use crate::algo::rate::RateLimit;

/// How one counter counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algo {
    /// A rolling rate (GCRA / token bucket).
    Rate(RateLimit),
    /// A calendar budget of `amount` in the period that ends at `end_us`.
    Calendar { amount: u64, end_us: i64 },
    /// At most `amount` at once.
    Slots { amount: u64 },
}

impl Algo {
    /// The limit's amount.
    pub fn amount(&self) -> u64 {
        match self {
            Algo::Rate(r) => r.capacity,
            Algo::Calendar { amount, .. } | Algo::Slots { amount } => *amount,
        }
    }
}

/// One counter a request touches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The counter's key: the limit, the scope's value and, for calendar windows, the period.
    pub counter: String,
    pub algo: Algo,
    /// What to reserve: the request's worst case (1 for requests and slots).
    pub reserve: u64,
    /// Shadow lines are counted but never refuse.
    pub enforce: bool,
    /// Settled at the end (tokens, cost, slots); false for a request count, which is final
    /// once admitted (a request that happened stays counted, even if its reservation expires).
    pub settles: bool,
}

/// A counter's state once a reservation was made (or looked at).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineState {
    pub amount: u64,
    /// What is left (negative when used past the amount).
    pub remaining: i64,
    /// Of what is taken, how much is reserved by requests still running (budgets; 0 for
    /// rates and slots, whose reservations are not told apart).
    pub reserved: i64,
    /// µs until the counter is whole again: a rate refilled, a budget's period over, a slot
    /// freed at the latest.
    pub reset_us: i64,
    /// A shadow line that would have refused.
    pub over: bool,
}

/// Why a reservation was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Denied {
    /// Which line (index into the lines asked for).
    pub line: usize,
    /// For a rate: µs until the request fits (exact). `None` for a budget (until `reset_us`)
    /// or a request larger than the limit allows at all.
    pub retry_after_us: Option<i64>,
    /// µs until the counter resets (a budget's period ends, a rate is full, a slot frees).
    pub reset_us: i64,
    /// The request's worst case alone is more than the limit.
    pub too_large: bool,
}

/// A reservation's outcome.
pub type Admission = Result<Vec<LineState>, Denied>;

/// Of several refusals, the one to report: a budget first (waiting a little will not help),
/// then the longest wait.
pub fn worst(denials: &[Denied], lines: &[Line]) -> Option<Denied> {
    denials.iter().copied().max_by_key(|d| {
        let budget = matches!(lines[d.line].algo, Algo::Calendar { .. }) || d.too_large;
        (budget, d.retry_after_us.unwrap_or(d.reset_us))
    })
}
