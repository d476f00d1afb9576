//! Wire-level pieces shared by the gateway and the mock: SSE framing, error body shapes, request peeking.

pub mod error_body;
pub mod peek;
pub mod sse;
