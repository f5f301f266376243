//! Author rows, and the public byline shape (which has no column that may not be shown).

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Role;
use crate::schema::authors;

/// A full `authors` row: never serialised as is (it holds the e-mail and the password hash).
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = authors)]
pub struct Author {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub email: Option<String>,
    pub bio: Option<String>,
    pub avatar_url: Option<String>,
    pub role: String,
    pub password_hash: Option<String>,
    pub active: bool,
    pub password_changed_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = authors)]
pub struct NewAuthor<'a> {
    pub slug: &'a str,
    pub name: &'a str,
    pub email: Option<&'a str>,
    pub bio: Option<&'a str>,
    pub avatar_url: Option<&'a str>,
    pub role: &'a str,
    pub password_hash: Option<&'a str>,
    pub active: bool,
    pub password_changed_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// An author as the public sees them: on bylines and on the authors routes. Selected straight
/// from the table, so it cannot carry the e-mail or the password hash by accident.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = authors)]
pub struct AuthorSummary {
    #[schema(example = "ada-lovelace")]
    pub slug: String,
    #[schema(example = "Ada Lovelace")]
    pub name: String,
    #[schema(example = "Writes about engines, analytical and otherwise.")]
    pub bio: Option<String>,
    #[schema(example = "https://example.com/ada.png")]
    pub avatar_url: Option<String>,
}

/// The caller's own account (`GET /api/v1/auth/me`).
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountView {
    pub id: i64,
    pub slug: String,
    pub name: String,
    #[schema(example = "ada@example.com")]
    pub email: Option<String>,
    pub role: Role,
    pub bio: Option<String>,
    pub avatar_url: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl AccountView {
    pub fn from_row(author: Author) -> Option<Self> {
        Some(Self {
            id: author.id,
            slug: author.slug,
            name: author.name,
            email: author.email,
            role: Role::parse(&author.role)?,
            bio: author.bio,
            avatar_url: author.avatar_url,
            created_at: author.created_at.and_utc(),
        })
    }
}

/// What it takes to create an account that logs in (`masthead users add`, later the admin routes).
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub password: String,
}

/// `Ada@Example.COM ` → `ada@example.com`: e-mails are unique regardless of case.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// A plausibility check, not RFC 5322: one `@`, something on each side, a dot in the domain.
pub fn is_plausible_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
}
