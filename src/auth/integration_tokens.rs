//! Integration tokens as credentials: `mh_` and 32 random bytes, stored only as a keyed hash
//! (HMAC-SHA256 under a key derived from the JWT secret), so that a copy of the database holds
//! nothing that authenticates. A token acts as its owner, with the owner's current role, limited
//! to its scopes (`scopes`); it stops working when revoked, expired, or when its owner can no
//! longer log in.

use chrono::Duration;
use diesel::prelude::*;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::account::Account;
use super::caller::AuthUser;
use super::scopes::Scope;
use crate::config::Secret;
use crate::db::{self, DbConnection};
use crate::error::ApiError;
use crate::schema::integration_tokens;

/// What every integration token starts with: recognisable in a leaked log or a secret scanner,
/// and never taken for an access token (a JWT).
pub const PREFIX: &str = "mh_";

/// `last_used_at` is written at most this often per token.
const TOUCH_EVERY_SECONDS: i64 = 60;

/// The key of the tokens' hashes.
#[derive(Clone)]
pub struct TokenKey([u8; 32]);

impl TokenKey {
    pub fn new(secret: &Secret) -> Self {
        Self(
            Sha256::new()
                .chain_update(b"masthead integration tokens\0")
                .chain_update(secret.expose())
                .finalize()
                .into(),
        )
    }

    /// The keyed hash a token is stored and found by.
    pub fn hash(&self, token: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes a key of any length");
        mac.update(token.as_bytes());
        base16ct::lower::encode_string(&mac.finalize().into_bytes())
    }
}

/// A new token: [`PREFIX`] and 32 random bytes, hex (URL-safe).
pub fn generate() -> String {
    format!("{PREFIX}{}", crate::random::hex_token(32))
}

/// Whether `token` is shaped as [`generate`] makes them: anything else is refused before any
/// database work.
pub fn well_formed(token: &str) -> bool {
    token
        .strip_prefix(PREFIX)
        .is_some_and(|rest| rest.len() == 64 && rest.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
}

/// The part of a token that lists show to tell tokens apart: the prefix and 8 characters.
pub fn display_prefix(token: &str) -> String {
    token.chars().take(PREFIX.len() + 8).collect()
}

/// Scopes as stored: space-separated names.
pub fn scopes_to_text(scopes: &[Scope]) -> String {
    scopes.iter().map(|scope| scope.as_str()).collect::<Vec<_>>().join(" ")
}

/// Scopes as stored, read back (names this version does not know are dropped).
pub fn scopes_from_text(text: &str) -> Vec<Scope> {
    text.split_whitespace().filter_map(Scope::parse).collect()
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = integration_tokens)]
struct Credential {
    id: i64,
    owner_id: i64,
    scopes: String,
    expires_at: Option<chrono::NaiveDateTime>,
    last_used_at: Option<chrono::NaiveDateTime>,
    revoked_at: Option<chrono::NaiveDateTime>,
}

/// The caller a token (by its keyed hash) stands for, or `None` when it is unknown, revoked,
/// expired, or its owner cannot log in (deactivated, or a byline-only author).
pub fn authenticate(conn: &mut DbConnection, hash: &str) -> Result<Option<AuthUser>, ApiError> {
    let now = db::now();
    let Some(credential) = integration_tokens::table
        .filter(integration_tokens::token_hash.eq(hash))
        .select(Credential::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(None);
    };
    if credential.revoked_at.is_some() || credential.expires_at.is_some_and(|at| at <= now) {
        return Ok(None);
    }
    let Some(owner) = Account::find(conn, credential.owner_id)?.filter(Account::can_log_in) else {
        return Ok(None);
    };
    let stale = now - Duration::seconds(TOUCH_EVERY_SECONDS);
    if credential.last_used_at.is_none_or(|at| at <= stale) {
        // Bookkeeping, not content: no write transaction, nothing announced to caches; and best
        // effort, so that a database refusing writes (a full disk) does not refuse the read.
        let touched = diesel::update(
            integration_tokens::table
                .find(credential.id)
                .filter(integration_tokens::last_used_at.is_null().or(integration_tokens::last_used_at.le(stale))),
        )
        .set(integration_tokens::last_used_at.eq(now))
        .execute(conn);
        if let Err(error) = touched {
            tracing::warn!(token_id = credential.id, %error, "could not note when an integration token was used");
        }
    }
    Ok(Some(AuthUser { id: owner.id, role: owner.role()?, scopes: Some(scopes_from_text(&credential.scopes)) }))
}

/// Revokes every token of `owner_id` (a password change, a deactivation): at once, on every node,
/// since every use reads the row.
pub fn revoke_all_of(conn: &mut DbConnection, owner_id: i64) -> Result<(), ApiError> {
    diesel::update(
        integration_tokens::table
            .filter(integration_tokens::owner_id.eq(owner_id))
            .filter(integration_tokens::revoked_at.is_null()),
    )
    .set(integration_tokens::revoked_at.eq(db::now()))
    .execute(conn)?;
    Ok(())
}
