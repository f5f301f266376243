//! Roles: what an account may do. Handlers check them themselves (`AuthUser::require`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What an account may do: a contributor writes drafts of their own, an author also publishes
/// their own, an editor acts on every article and tag and manages authors, an admin does
/// everything, roles included (the full table: `docs/accounts.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Writes drafts of their own; cannot publish.
    Contributor,
    /// Writes and publishes their own articles.
    Author,
    /// Edits and publishes every article, manages tags.
    Editor,
    /// Everything, including accounts.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Contributor => "contributor",
            Self::Author => "author",
            Self::Editor => "editor",
            Self::Admin => "admin",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "contributor" => Some(Self::Contributor),
            "author" => Some(Self::Author),
            "editor" => Some(Self::Editor),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }

    /// Editors and admins act on every article; others only on their own.
    pub fn edits_all_articles(self) -> bool {
        self >= Self::Editor
    }

    pub fn can_publish(self) -> bool {
        self >= Self::Author
    }

    pub fn manages_tags(self) -> bool {
        self >= Self::Editor
    }
}
