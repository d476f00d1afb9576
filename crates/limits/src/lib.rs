//! Budgets, rate limits and concurrency limits. A request's worst case is reserved against
//! every counter it touches in one atomic step at admission, and what it used is settled on
//! every exit; counters live in a [`store::LimitStore`] (in memory, or in Redis when replicas
//! share them), never in a database on the request path.
//!
//! - [`model`]: what a limit says (scope, dimension, window, amount, mode).
//! - [`algo`]: the counting: GCRA / token buckets for rolling rates, calendar counters for
//!   budgets, expiring slots for concurrency; pure functions of state and time.
//! - [`ledger`]: the lines a request asks a store to reserve, and the answers.
//! - [`store`]: the stores.
//! - [`gate`]: the stage's interface: which limits a request meets, admission, settlement.

pub mod algo {
    pub mod calendar;
    pub mod rate;
    pub mod slots;
}
pub mod gate;
pub mod ledger;
pub mod model;
pub mod store;
