//! Prompts: versioned Mustache templates that belong to a workspace, with labels that point at
//! versions, typed variables, and partials; rendered into the request a caller sends (OpenAI
//! chat, Responses or Anthropic Messages). The server keeps them in the tenants' snapshot and
//! calls `render` as one stage of the request path (docs/prompts.md).

pub mod apply;
pub mod catalog;
pub mod diff;
pub mod eval;
pub mod experiment;
pub mod model;
pub mod reference;
pub mod render;
pub mod template;
pub mod variables;
