//! What a complete answer leaves in the cache.

use bytes::Bytes;

/// One cached answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The whole answer in the caller's API shape (JSON), as a non-streamed call returns it; a
    /// streamed request is served from it re-streamed.
    pub body: Bytes,
    /// The scope or namespace it was stored under (purges select by it).
    pub namespace: String,
    /// The client key (virtual key id or static key name) whose request stored it (purges
    /// select by it; empty without one).
    pub stored_by: String,
    /// Who answered.
    pub provider: String,
    pub model: String,
    /// Tokens the answer used when it was made.
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// What it cost then, in billionths of a dollar (a short answer of a small model costs
    /// a few millionths): what a hit saves.
    pub cost_nanos: u64,
    /// Unix milliseconds: made, and no longer served after.
    pub created_ms: i64,
    pub expires_ms: i64,
}

impl Entry {
    /// Bytes it holds, as the memory store counts them against its bound.
    pub fn size(&self) -> u64 {
        (self.body.len()
            + self.namespace.len()
            + self.stored_by.len()
            + self.provider.len()
            + self.model.len()
            + std::mem::size_of::<Entry>()) as u64
    }

    /// Whether it may be served at `now_ms` to a request that accepts answers up to
    /// `max_age_ms` old (`None`: any age within the entry's TTL).
    pub fn servable(&self, now_ms: i64, max_age_ms: Option<i64>) -> bool {
        now_ms < self.expires_ms && max_age_ms.is_none_or(|m| now_ms - self.created_ms <= m)
    }
}
