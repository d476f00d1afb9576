//! (code) Checks to come; see docs/dev/issue-15-plan.md.

use crate::catalogue::Entry;

pub const CHECKS: &[Entry] = &[];
