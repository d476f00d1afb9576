//! The response cache. `key` makes the exact key of a request; `entry` is what a complete
//! answer leaves behind; `memory` keeps entries in process, bounded by bytes; `redis` shares
//! them between replicas with a memory tier in front; `store` is the interface over both;
//! `shape` converts answers between whole and streamed form; `semantic` matches a request to
//! an entry whose prompt means nearly the same (the prompt split out of the body, and an index
//! of prompt embeddings).

pub mod entry;
pub mod key;
pub mod memory;
pub mod redis;
pub mod semantic;
pub mod shape;
pub mod store;

pub use entry::Entry;
pub use key::{Key, KeyParts};
pub use memory::MemoryStore;
pub use store::{CacheError, CacheStore, Purge, SharedVector, StoreStats};
