//! Switchyard: an AI gateway serving OpenAI-compatible APIs in front of many LLM providers.
//!
//! The request path is `http::router` (generic HTTP layers) → `pipeline::handle` (the LLM stages,
//! in order, in one function). docs/request-lifecycle.md draws it.

pub mod adapt;
pub mod admin;
pub mod auth;
pub mod cache;
pub mod cli;
pub mod compare;
pub mod context;
pub mod error;
pub mod experiments;
pub mod feedback;
pub mod fetch;
pub mod guard;
pub mod headers;
pub mod http;
pub mod ids;
pub mod images;
pub mod internal;
pub mod jwt;
pub mod limits;
pub mod listen;
pub mod models;
pub mod observe;
pub mod pipeline;
pub mod prompts;
pub mod relay;
pub mod reload;
pub mod route;
pub mod runs;
pub mod startup;
pub mod state;
pub mod ui;
pub mod upstream;

pub use startup::{serve, Server};
