//! The per-request context: everything a request's stages read and write, in one typed struct.

use crate::ids::TraceContext;
use http::HeaderValue;
use std::time::Instant;
use switchyard_providers::Operation;

/// Carried through the pipeline's stages.
#[derive(Debug)]
pub struct RequestCtx {
    pub request_id: HeaderValue,
    pub trace: TraceContext,
    pub op: Operation,
    pub started: Instant,
    /// Name of the client key that authenticated, when keys are configured.
    pub caller: Option<String>,
    /// The model the caller asked for.
    pub requested_model: Option<String>,
    /// Index of the provider chosen by routing.
    pub provider: Option<usize>,
    /// Stages run so far, in order; tests assert the sequence matches the documented one.
    pub stages: Vec<&'static str>,
}

impl RequestCtx {
    pub fn new(request_id: HeaderValue, trace: TraceContext, op: Operation) -> Self {
        Self {
            request_id,
            trace,
            op,
            started: Instant::now(),
            caller: None,
            requested_model: None,
            provider: None,
            stages: Vec::with_capacity(8),
        }
    }

    /// Notes that a stage ran.
    pub fn enter(&mut self, stage: &'static str) {
        self.stages.push(stage);
    }
}
