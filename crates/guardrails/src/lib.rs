//! Guardrails: checks that read a request's or an answer's text (or the request itself) and
//! report findings, grouped into policies that decide what a finding does: deny, fall back,
//! retry, redact or flag. Everything here is in process and synchronous; the server runs the
//! policies as one pipeline stage for input and inside the relay for output.
//!
//! - `text`: the normalized copy checks read, with offsets mapped back to the original.
//! - `check`: the `Check` interface, findings, and what a check reads.
//! - `catalogue`: every built-in check by id, with its builder.
//! - `checks/`: the checks, one file per family.
//! - `policy`: policies, their actions and precedence, and running them over texts.
//! - `redact`: masking findings, reversibly when asked.

pub mod apply;
pub mod catalogue;
pub mod check;
pub mod checks;
pub mod extract;
pub mod policy;
pub mod redact;
pub mod stream;
pub mod text;

pub use apply::Guarded;
pub use check::{Check, Finding, Source, Span, Subject};
pub use policy::{Action, Policy, PolicySet, Report, Verdict};
