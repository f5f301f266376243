//! Author rows, and the public byline shape (which has no column that may not be shown).

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
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

/// An author on the public authors routes: the byline and their published work.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicAuthor {
    #[serde(flatten)]
    pub author: AuthorSummary,
    /// Published articles with this author on the byline.
    #[schema(example = 12)]
    pub article_count: i64,
}

/// A byline as editors see it: the public fields and the author's id (to set bylines by id).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Byline {
    #[schema(example = 3)]
    pub id: i64,
    #[serde(flatten)]
    pub author: AuthorSummary,
}

/// An author as editors and the account owner see it: e-mail and role included, never the
/// password hash.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountView {
    #[schema(example = 3)]
    pub id: i64,
    #[schema(example = "ada-lovelace")]
    pub slug: String,
    #[schema(example = "Ada Lovelace")]
    pub name: String,
    /// `null` for byline-only authors.
    #[schema(example = "ada@example.com")]
    pub email: Option<String>,
    /// `null` for byline-only authors, who cannot log in.
    pub role: Option<Role>,
    /// Deactivated accounts cannot log in; their bylines stay.
    pub active: bool,
    /// Whether the author has a login (an e-mail and a password).
    pub can_log_in: bool,
    pub bio: Option<String>,
    pub avatar_url: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl AccountView {
    pub fn from_row(author: Author) -> Self {
        let can_log_in = author.email.is_some() && author.password_hash.is_some();
        Self {
            id: author.id,
            slug: author.slug,
            name: author.name,
            email: author.email,
            role: if can_log_in { Role::parse(&author.role) } else { None },
            active: author.active,
            can_log_in,
            bio: author.bio,
            avatar_url: author.avatar_url,
            created_at: author.created_at.and_utc(),
            updated_at: author.updated_at.and_utc(),
        }
    }
}

/// `POST /api/v1/admin/authors`: an account (`email`, `password`, `role`) or, with none of the
/// three, a byline-only author (wire copy, guest writers) who never logs in.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Grace Hopper", "email": "grace@example.com", "role": "author", "password": "a long passphrase"}))]
pub struct CreateAuthor {
    #[schema(
        pattern = r"[^\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]",
        min_length = 1,
        max_length = 100
    )]
    pub name: String,
    /// With `password`: an account that can log in. Not `null`.
    #[serde(default, deserialize_with = "crate::optional_fields::non_null")]
    #[schema(nullable = false, format = Email, min_length = 3, max_length = 254)]
    pub email: Option<String>,
    /// 8 to 256 characters; required with `email`. Not `null`.
    #[serde(default, deserialize_with = "crate::optional_fields::non_null")]
    #[schema(nullable = false, min_length = 8, max_length = 256, format = Password)]
    pub password: Option<String>,
    /// Defaults to `author` for accounts. Editors may give only `author` or `contributor`.
    #[serde(default, deserialize_with = "crate::optional_fields::non_null")]
    #[schema(nullable = false)]
    pub role: Option<Role>,
    #[schema(max_length = 2000)]
    pub bio: Option<String>,
    /// An absolute http(s) URL.
    #[schema(
        pattern = r"^\s*(https?://[^\s\x00-\x1f\x7f-\x9f/?#\[\]]+([/?#][^\s\x00-\x1f\x7f-\x9f]*)?)?\s*$",
        max_length = 2048
    )]
    pub avatar_url: Option<String>,
    /// Derived from the name when absent.
    #[schema(pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 120)]
    pub slug: Option<String>,
}

/// `PATCH /api/v1/admin/authors/{id}`: only the fields sent change; `null` clears `bio` and
/// `avatar_url`. A new `password` ends every session of the account; so does `"active": false`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"role": "editor"}))]
pub struct UpdateAuthor {
    #[serde(default, deserialize_with = "crate::optional_fields::non_null")]
    #[schema(
        nullable = false,
        pattern = r"[^\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]",
        min_length = 1,
        max_length = 100
    )]
    pub name: Option<String>,
    /// Giving a byline-only author an e-mail needs a `password` too.
    #[serde(default, deserialize_with = "crate::optional_fields::non_null")]
    #[schema(nullable = false, format = Email, min_length = 3, max_length = 254)]
    pub email: Option<String>,
    #[serde(default, deserialize_with = "crate::optional_fields::non_null")]
    #[schema(nullable = false, min_length = 8, max_length = 256, format = Password)]
    pub password: Option<String>,
    #[serde(default, deserialize_with = "crate::optional_fields::non_null")]
    #[schema(nullable = false)]
    pub role: Option<Role>,
    #[serde(default, deserialize_with = "crate::optional_fields::non_null")]
    #[schema(nullable = false)]
    pub active: Option<bool>,
    #[serde(default, deserialize_with = "crate::optional_fields::present")]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub bio: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::optional_fields::present")]
    #[schema(value_type = Option<String>, pattern = r"^\s*(https?://[^\s\x00-\x1f\x7f-\x9f/?#\[\]]+([/?#][^\s\x00-\x1f\x7f-\x9f]*)?)?\s*$", max_length = 2048)]
    pub avatar_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::optional_fields::non_null")]
    #[schema(nullable = false, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 120)]
    pub slug: Option<String>,
}

/// `PATCH /api/v1/auth/me`: one's own public profile. The role is not here: nobody sets their own.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"bio": "Writes about engines."}))]
pub struct UpdateProfile {
    #[serde(default, deserialize_with = "crate::optional_fields::non_null")]
    #[schema(
        nullable = false,
        pattern = r"[^\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]",
        min_length = 1,
        max_length = 100
    )]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "crate::optional_fields::present")]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub bio: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::optional_fields::present")]
    #[schema(value_type = Option<String>, pattern = r"^\s*(https?://[^\s\x00-\x1f\x7f-\x9f/?#\[\]]+([/?#][^\s\x00-\x1f\x7f-\x9f]*)?)?\s*$", max_length = 2048)]
    pub avatar_url: Option<Option<String>>,
}

pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_BIO_CHARS: usize = 2000;

/// What it takes to create an account that logs in (`masthead users add`, later the admin routes).
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub password: String,
}
