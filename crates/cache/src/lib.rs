//! The response cache. `key` makes the exact key of a request; `entry` is what a complete
//! answer leaves behind; `memory` keeps entries in process, bounded by bytes; `semantic`
//! matches a request to an entry whose prompt means nearly the same (the prompt split out of
//! the body, and an index of prompt embeddings).

pub mod entry;
pub mod key;
pub mod memory;
pub mod semantic;
pub mod shape;

pub use entry::Entry;
pub use key::{Key, KeyParts};
pub use memory::MemoryStore;
