//! The built-in checks, one file per family. A family lists its checks in `CHECKS`; `FAMILIES`
//! is the catalogue's one central line per family.

use crate::catalogue::Entry;

pub mod callout;
pub mod code;
pub mod format;
pub mod hygiene;
pub mod injection;
pub mod language;
pub mod leak;
pub mod links;
pub mod patterns;
pub mod pii;
pub mod profanity;
pub mod quality;
pub mod request;
pub mod secrets;
pub mod sizes;
pub mod tools;
pub mod topics;

/// Every family's checks.
pub const FAMILIES: &[&[Entry]] = &[
    patterns::CHECKS,
    topics::CHECKS,
    profanity::CHECKS,
    sizes::CHECKS,
    format::CHECKS,
    language::CHECKS,
    hygiene::CHECKS,
    pii::CHECKS,
    secrets::CHECKS,
    injection::CHECKS,
    leak::CHECKS,
    code::CHECKS,
    links::CHECKS,
    tools::CHECKS,
    request::CHECKS,
    quality::CHECKS,
    callout::CHECKS,
];

#[cfg(test)]
pub(crate) mod testing;
