//! Wire-level pieces shared by the gateway and the mock: SSE framing, error body shapes, request
//! peeking, a JSON syntax check.

pub mod error_body;
pub mod eventstream;
pub mod json;

/// Which API shape a caller speaks: decides the shape of every reply and error it gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// OpenAI's chat completions, completions and embeddings.
    OpenAi,
    /// Anthropic's Messages API.
    Anthropic,
}
pub mod peek;
pub mod sse;

#[cfg(test)]
mod testgen;
