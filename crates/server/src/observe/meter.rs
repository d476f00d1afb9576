//! What an attempt's relay measured, shared with the code that finishes the request's record:
//! the usage read from the answer, when its first event went to the caller, and when the
//! upstream finished. Written a handful of times per request (never per chunk).

use std::sync::Mutex;
use std::time::Instant;
use switchyard_providers::usage::Usage;

/// Readings of one attempt.
#[derive(Debug, Clone, Default)]
pub struct Readings {
    /// The request went to the provider.
    pub sent: Option<Instant>,
    /// The first stream event was handed to the caller.
    pub first_event: Option<Instant>,
    /// The provider's answer ended (its last byte, or the failure that cut it).
    pub upstream_end: Option<Instant>,
    pub usage: Option<Usage>,
    /// The answer started and then failed: the error event the caller got ended it.
    pub failed: Option<String>,
    /// The answer reached its end and all of it was relayed (a whole body read, or a stream to
    /// its last event): `usage` is final. A stream cut before may hold a partial one
    /// (Anthropic's `message_start` counts the input only).
    pub complete: bool,
    /// The output guardrails' verdicts on a streamed answer.
    pub guardrails: Vec<switchyard_guardrails::Verdict>,
}

/// Shared between an attempt's relay and the request's record.
#[derive(Debug, Default)]
pub struct Meter(Mutex<Readings>);

impl Meter {
    fn with(&self, f: impl FnOnce(&mut Readings)) {
        let mut r = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut r);
    }

    pub fn sent(&self) {
        self.with(|r| r.sent = Some(Instant::now()));
    }

    /// Notes the first event (later calls change nothing).
    pub fn first_event(&self) {
        self.with(|r| {
            r.first_event.get_or_insert_with(Instant::now);
        });
    }

    pub fn upstream_end(&self) {
        self.with(|r| {
            r.upstream_end.get_or_insert_with(Instant::now);
        });
    }

    pub fn usage(&self, u: Usage) {
        self.with(|r| r.usage = Some(u));
    }

    /// Notes that a started answer ended with an error event (the first one counts).
    pub fn failed(&self, message: String) {
        self.with(|r| {
            r.failed.get_or_insert(message);
        });
    }

    pub fn guardrails(&self, verdicts: Vec<switchyard_guardrails::Verdict>) {
        self.with(|r| r.guardrails.extend(verdicts));
    }

    pub fn complete(&self) {
        self.with(|r| r.complete = true);
    }

    pub fn read(&self) -> Readings {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}
