//! Sessions: a short-lived access token (JWT) plus a refresh token that is rotated on every use.
//!
//! Refresh tokens are 32 random bytes, stored only as their SHA-256. Each login starts a family;
//! each refresh marks the presented token used and issues the next one in the same family.
//! Presenting a token that was already used means it was copied: the whole family is revoked, so
//! the thief and the victim are both logged out. A password change or a deactivation revokes every
//! family of the account.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use serde::Serialize;
use utoipa::ToSchema;

use super::account::Account;
use super::jwt::JwtKeys;
use crate::db::{self, DbConnection, bookkeeping_transaction};
use crate::error::ApiError;
use crate::schema::refresh_tokens;

/// A token response, flat as OAuth 2.0 clients expect.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// Send as `Authorization: Bearer <access_token>`.
    pub access_token: String,
    /// Exchange at `POST /api/v1/auth/refresh` for a new pair; it works once.
    pub refresh_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    #[schema(example = 900)]
    pub expires_in: u64,
}

fn token_hash(token: &str) -> String {
    base16ct::lower::encode_string(&Sha256::digest(token.as_bytes()))
}

/// Starts a session (a new family) for `account`, or continues `family` on refresh.
fn issue(
    conn: &mut DbConnection,
    keys: &JwtKeys,
    refresh_ttl: Duration,
    account: &Account,
    family: Option<String>,
) -> Result<TokenResponse, ApiError> {
    let refresh_token = crate::random::hex_token(32);
    let now = db::now();
    let family = family.unwrap_or_else(|| crate::random::hex_token(16));
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::author_id.eq(account.id),
            refresh_tokens::family_id.eq(&family),
            refresh_tokens::token_hash.eq(token_hash(&refresh_token)),
            refresh_tokens::expires_at.eq(now + refresh_ttl),
            refresh_tokens::created_at.eq(now),
        ))
        .execute(conn)?;
    let access_token =
        keys.issue(account.id, &account.role, account.password_version(), &family).map_err(ApiError::Internal)?;
    Ok(TokenResponse { access_token, refresh_token, token_type: "Bearer", expires_in: keys.ttl_seconds() })
}

/// A new session after a successful login.
pub fn start(
    conn: &mut DbConnection,
    keys: &JwtKeys,
    refresh_ttl: Duration,
    account: &Account,
) -> Result<TokenResponse, ApiError> {
    bookkeeping_transaction(conn, |conn| issue(conn, keys, refresh_ttl, account, None))
}

fn invalid_refresh_token() -> ApiError {
    ApiError::Unauthorized("the refresh token is invalid, expired or revoked; log in again".into())
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = refresh_tokens)]
struct RefreshRow {
    id: i64,
    author_id: i64,
    family_id: String,
    used_at: Option<NaiveDateTime>,
    revoked_at: Option<NaiveDateTime>,
    expires_at: NaiveDateTime,
}

/// Exchanges a refresh token for a new pair. See the module comment for reuse detection.
pub fn refresh(
    conn: &mut DbConnection,
    keys: &JwtKeys,
    refresh_ttl: Duration,
    presented: &str,
) -> Result<TokenResponse, ApiError> {
    let hash = token_hash(presented);
    // The reuse verdict must survive the refusal, so it is written in a transaction of its own.
    bookkeeping_transaction(conn, |conn| {
        let Some(row) = refresh_tokens::table
            .filter(refresh_tokens::token_hash.eq(&hash))
            .select(RefreshRow::as_select())
            .first(conn)
            .optional()?
        else {
            return Ok(Err(invalid_refresh_token()));
        };
        let now = db::now();
        if row.revoked_at.is_some() || row.expires_at <= now {
            return Ok(Err(invalid_refresh_token()));
        }
        // Marking it used only if nobody else did closes the race of two concurrent refreshes.
        let claimed = diesel::update(refresh_tokens::table.find(row.id).filter(refresh_tokens::used_at.is_null()))
            .set(refresh_tokens::used_at.eq(now))
            .execute(conn)?;
        if row.used_at.is_some() || claimed == 0 {
            revoke_family(conn, &row.family_id)?;
            tracing::warn!(author_id = row.author_id, "refresh token reused: its session was revoked");
            return Ok(Err(invalid_refresh_token()));
        }
        match Account::find(conn, row.author_id)? {
            Some(account) if account.can_log_in() => {
                Ok(Ok(issue(conn, keys, refresh_ttl, &account, Some(row.family_id))?))
            }
            _ => Ok(Err(invalid_refresh_token())),
        }
    })?
}

fn revoke_family(conn: &mut DbConnection, family_id: &str) -> Result<(), ApiError> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(family_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(db::now()))
    .execute(conn)?;
    Ok(())
}

/// Ends the session the token belongs to. Unknown tokens are ignored: logging out twice is fine.
pub fn logout(conn: &mut DbConnection, presented: &str) -> Result<(), ApiError> {
    let hash = token_hash(presented);
    bookkeeping_transaction(conn, |conn| {
        let family: Option<String> = refresh_tokens::table
            .filter(refresh_tokens::token_hash.eq(&hash))
            .select(refresh_tokens::family_id)
            .first(conn)
            .optional()?;
        if let Some(family) = family {
            revoke_family(conn, &family)?;
        }
        Ok(())
    })
}

/// Whether the session `family` of `author_id` is still open: not logged out, not revoked (by a
/// reused refresh token, a password change or a deactivation). Checked on every request, so that
/// an access token ends with its session rather than only at its expiry.
pub fn is_open(conn: &mut DbConnection, author_id: i64, family: &str) -> Result<bool, ApiError> {
    use diesel::dsl::exists;
    Ok(diesel::select(exists(
        refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(family))
            .filter(refresh_tokens::author_id.eq(author_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    ))
    .get_result(conn)?)
}

/// Ends every session of an account (password change, deactivation). Call inside the transaction
/// that makes the change.
pub fn revoke_all(conn: &mut DbConnection, author_id: i64) -> Result<(), ApiError> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::author_id.eq(author_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(db::now()))
    .execute(conn)?;
    Ok(())
}
