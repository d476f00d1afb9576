//! What an admin caller may do: an organisation role, or roles in some workspaces.
//!
//! | role                | may                                                              |
//! |---------------------|------------------------------------------------------------------|
//! | org owner           | everything, including making owners and admins                  |
//! | org admin           | everything but making or changing owners                        |
//! | workspace admin     | its workspace: settings, keys, credentials, members, audit       |
//! | workspace member    | its workspace: read, and create, change and delete keys          |
//! | workspace viewer    | its workspace: read (never a secret)                             |
//! | org member          | nothing beyond its workspace roles                               |

use crate::model::{OrgRole, WsRole};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    /// Who, for the audit: `admin-key:<name>` or `user:<email>`.
    pub actor: String,
    pub org: OrgRole,
    pub workspaces: BTreeMap<String, WsRole>,
}

impl Access {
    /// A bootstrap admin key from the config: the organisation's owner.
    pub fn owner(actor: String) -> Self {
        Self {
            actor,
            org: OrgRole::Owner,
            workspaces: BTreeMap::new(),
        }
    }

    pub fn org_admin(&self) -> bool {
        self.org >= OrgRole::Admin
    }

    /// The caller's role in `workspace` (organisation admins administer every workspace).
    pub fn role_in(&self, workspace: &str) -> Option<WsRole> {
        if self.org_admin() {
            return Some(WsRole::Admin);
        }
        self.workspaces.get(workspace).copied()
    }

    /// Whether the caller holds at least `role` in `workspace`.
    pub fn can(&self, workspace: &str, role: WsRole) -> bool {
        self.role_in(workspace).is_some_and(|r| r >= role)
    }

    /// The workspaces the caller may read; None: all of them.
    pub fn readable(&self) -> Option<Vec<&str>> {
        (!self.org_admin()).then(|| self.workspaces.keys().map(String::as_str).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_nest() {
        let mut ws = BTreeMap::new();
        ws.insert("a".to_owned(), WsRole::Member);
        let m = Access {
            actor: "u".into(),
            org: OrgRole::Member,
            workspaces: ws,
        };
        assert!(m.can("a", WsRole::Viewer) && m.can("a", WsRole::Member));
        assert!(!m.can("a", WsRole::Admin) && !m.can("b", WsRole::Viewer));
        assert_eq!(m.readable(), Some(vec!["a"]));
        let admin = Access {
            org: OrgRole::Admin,
            ..m.clone()
        };
        assert!(admin.can("b", WsRole::Admin) && admin.readable().is_none());
    }
}
