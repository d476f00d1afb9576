//! Model resolution: which provider serves a model name the caller sent, and under what name.
//!
//! Later routing strategies (fallback, load balancing, ...) build on the target this yields.

mod resolve;

pub use resolve::{ModelIndex, ResolveError, Resolved};
