//! Integration token rows, the editor's input, and what responses show (never the hash; the
//! token itself only once, when it is made).

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::integration_tokens::scopes_from_text;
use crate::auth::scopes::Scope;
use crate::schema::integration_tokens;
use crate::timestamps::{utc, utc_opt};

/// Most characters in a token's name.
pub const MAX_NAME_CHARS: usize = 100;
/// Most unrevoked tokens one account may hold: enough for every pipeline, bounded all the same.
pub const MAX_TOKENS_PER_ACCOUNT: i64 = 50;

/// `POST /api/v1/admin/tokens`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Netlify build", "scopes": ["content:read"], "expires_at": "2027-06-30T00:00:00Z"}))]
pub struct CreateToken {
    /// What it is for, to tell tokens apart (1 to 100 characters).
    #[schema(min_length = 1, max_length = 100, pattern = r"\S")]
    pub name: String,
    /// At least one.
    #[schema(min_items = 1)]
    pub scopes: Vec<Scope>,
    /// When it stops working; never, when left out.
    #[serde(default, deserialize_with = "crate::optional_fields::non_null")]
    #[schema(nullable = false)]
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = integration_tokens)]
pub struct TokenRow {
    pub id: i64,
    pub owner_id: i64,
    pub name: String,
    pub scopes: String,
    pub token_prefix: String,
    pub created_at: NaiveDateTime,
    pub expires_at: Option<NaiveDateTime>,
    pub last_used_at: Option<NaiveDateTime>,
}

/// An integration token as lists show it: never the secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    #[schema(example = 7)]
    pub id: i64,
    /// The account it acts as.
    #[schema(example = 3)]
    pub owner_id: i64,
    #[schema(example = "Netlify build")]
    pub name: String,
    pub scopes: Vec<Scope>,
    /// The first characters of the token, to recognise it.
    #[schema(example = "mh_9f2c4e1b")]
    pub token_prefix: String,
    #[serde(serialize_with = "utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "utc_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<NaiveDateTime>,
    /// When it was last used, give or take a minute.
    #[serde(serialize_with = "utc_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_used_at: Option<NaiveDateTime>,
}

impl From<TokenRow> for TokenView {
    fn from(row: TokenRow) -> Self {
        Self {
            id: row.id,
            owner_id: row.owner_id,
            name: row.name,
            scopes: scopes_from_text(&row.scopes),
            token_prefix: row.token_prefix,
            created_at: row.created_at,
            expires_at: row.expires_at,
            last_used_at: row.last_used_at,
        }
    }
}

/// A token just made: the only time the token itself is shown. Store it now. (No `Debug`: the
/// token must not reach a log through one.)
#[derive(Serialize, ToSchema)]
pub struct CreatedToken {
    #[serde(flatten)]
    pub view: TokenView,
    /// Send as `Authorization: Bearer <token>`. Shown this once: only a keyed hash is kept.
    #[schema(example = "mh_9f2c4e1b7a6d5c3e8f0a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6b7")]
    pub token: String,
}
