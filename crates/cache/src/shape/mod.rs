//! Answers in each caller API's shape, whole and streamed, turned into each other.

pub mod chat;
pub mod messages;
pub mod responses;
