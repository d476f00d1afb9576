//! The response cache. `key` makes the exact key of a request; `entry` is what a complete
//! answer leaves behind; `memory` keeps entries in process, bounded by bytes.

pub mod entry;
pub mod key;
pub mod memory;
pub mod shape;

pub use entry::Entry;
pub use key::{Key, KeyParts};
pub use memory::MemoryStore;
