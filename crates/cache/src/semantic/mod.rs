//! The semantic cache's building blocks: `prompt` splits a request into the body its match
//! must equal and the prompt text that is embedded; `index` finds, among the entries of equal
//! bodies, the one whose prompt embedding is closest.

pub mod index;
mod lsh;
pub mod prompt;
mod vector;

pub use index::SemanticIndex;
