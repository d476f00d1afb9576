//! Token counts of one request, read from an answer in any of the wire formats callers get back
//! (OpenAI chat/completions/embeddings, OpenAI Responses, Anthropic Messages), whole or streamed.
//!
//! Counts follow OpenAI's convention whatever the format: `input` counts every prompt token,
//! cached and cache-written ones included; `output` counts every generated token, reasoning
//! included. Anthropic's `input_tokens` leaves cache reads and writes out, so they are added in.

mod tap;

pub use tap::{carries_usage, Shape, UsageTap};

use serde::Serialize;
use serde_json::Value;

/// Token counts of one request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Usage {
    /// Every prompt token, cached and cache-written ones included.
    pub input: u64,
    /// Every generated token, reasoning included.
    pub output: u64,
    /// Prompt tokens read from the provider's cache.
    pub cached_input: u64,
    /// Prompt tokens written to the provider's cache (billed at a premium by Anthropic).
    pub cache_write: u64,
    /// Generated tokens spent on reasoning.
    pub reasoning: u64,
}

fn n(v: &Value) -> u64 {
    v.as_u64().unwrap_or(0)
}

impl Usage {
    /// An OpenAI chat, completions or embeddings `usage` object (`prompt_tokens`,
    /// `completion_tokens`, `prompt_tokens_details.cached_tokens`,
    /// `completion_tokens_details.reasoning_tokens`, and `prompt_tokens_details.cache_write_tokens`
    /// where a translated answer carries one).
    pub fn from_chat(usage: &Value) -> Usage {
        Usage {
            input: n(&usage["prompt_tokens"]),
            output: n(&usage["completion_tokens"]),
            cached_input: n(&usage["prompt_tokens_details"]["cached_tokens"]),
            cache_write: n(&usage["prompt_tokens_details"]["cache_write_tokens"]),
            reasoning: n(&usage["completion_tokens_details"]["reasoning_tokens"]),
        }
    }

    /// An OpenAI Responses `usage` object (`input_tokens`, `output_tokens` and their details).
    pub fn from_responses(usage: &Value) -> Usage {
        Usage {
            input: n(&usage["input_tokens"]),
            output: n(&usage["output_tokens"]),
            cached_input: n(&usage["input_tokens_details"]["cached_tokens"]),
            cache_write: 0,
            reasoning: n(&usage["output_tokens_details"]["reasoning_tokens"]),
        }
    }

    /// An Anthropic Messages `usage` object; the prompt total adds cache reads and writes to
    /// `input_tokens`.
    pub fn from_anthropic(usage: &Value) -> Usage {
        let read = n(&usage["cache_read_input_tokens"]);
        let written = n(&usage["cache_creation_input_tokens"]);
        Usage {
            input: n(&usage["input_tokens"]) + read + written,
            output: n(&usage["output_tokens"]),
            cached_input: read,
            cache_write: written,
            reasoning: 0,
        }
    }
}

#[cfg(test)]
mod tests;
