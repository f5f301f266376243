//! Integration token queries and writes. Tokens are bookkeeping, not public content: nothing here
//! is announced to caches.

use chrono::NaiveDateTime;
use diesel::dsl::count_star;
use diesel::prelude::*;

use super::model::{MAX_NAME_CHARS, MAX_TOKENS_PER_ACCOUNT, TokenRow};
use crate::auth::account::Account;
use crate::auth::integration_tokens::scopes_to_text;
use crate::auth::scopes::Scope;
use crate::db::{DbConnection, bookkeeping_transaction};
use crate::error::{ApiError, Validator};
use crate::pagination::PageRequest;
use crate::schema::integration_tokens;

/// A token to be stored: checked input, and the hash and prefix of the token made for it.
pub struct NewToken {
    pub owner_id: i64,
    pub name: String,
    pub scopes: Vec<Scope>,
    pub expires_at: Option<NaiveDateTime>,
    pub token_hash: String,
    pub token_prefix: String,
}

/// Checks a token's name, scopes and expiry (`now` by the app's clock); the name comes back
/// trimmed and the scopes sorted, once each.
pub fn check(
    raw_name: &str,
    scopes: &[Scope],
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
    now: NaiveDateTime,
) -> Result<(String, Vec<Scope>, Option<NaiveDateTime>), ApiError> {
    let name = raw_name.trim().to_string();
    let mut scopes = scopes.to_vec();
    scopes.sort();
    scopes.dedup();
    let mut v = Validator::new();
    v.untrimmed_max("name", Some(raw_name), MAX_NAME_CHARS)
        .chars("name", &name, 1, MAX_NAME_CHARS)
        .check(!name.chars().any(char::is_control), "name", "must not contain control characters")
        .check(!scopes.is_empty(), "scopes", "must name at least one scope");
    crate::db::check_storable(&mut v, "expires_at", expires_at)
        .check(expires_at.is_none_or(|at| at.naive_utc() > now), "expires_at", "must be in the future")
        .finish()?;
    Ok((name, scopes, expires_at.map(|at| crate::db::truncate(at.naive_utc()))))
}

/// Stores a new token; refuses an account's token beyond [`MAX_TOKENS_PER_ACCOUNT`] unrevoked,
/// unexpired ones (409).
pub fn create(conn: &mut DbConnection, token: NewToken, now: NaiveDateTime) -> Result<TokenRow, ApiError> {
    bookkeeping_transaction(conn, |conn| {
        crate::db::lock_key(conn, &format!("integration_tokens.owner:{}", token.owner_id))?;
        // Read again here: a deactivation committed since the caller was checked revoked the
        // owner's tokens already, and must not miss this one.
        if !Account::find(conn, token.owner_id)?.is_some_and(|owner| owner.can_log_in()) {
            return Err(ApiError::Unauthorized("the account can no longer log in".into()));
        }
        let held: i64 = integration_tokens::table
            .filter(integration_tokens::owner_id.eq(token.owner_id))
            .filter(integration_tokens::revoked_at.is_null())
            .filter(integration_tokens::expires_at.is_null().or(integration_tokens::expires_at.gt(now)))
            .select(count_star())
            .first(conn)?;
        if held >= MAX_TOKENS_PER_ACCOUNT {
            return Err(ApiError::Conflict(format!(
                "an account holds at most {MAX_TOKENS_PER_ACCOUNT} unrevoked, unexpired tokens; revoke one first"
            )));
        }
        let id: i64 = diesel::insert_into(integration_tokens::table)
            .values((
                integration_tokens::owner_id.eq(token.owner_id),
                integration_tokens::name.eq(&token.name),
                integration_tokens::scopes.eq(scopes_to_text(&token.scopes)),
                integration_tokens::token_hash.eq(&token.token_hash),
                integration_tokens::token_prefix.eq(&token.token_prefix),
                integration_tokens::created_at.eq(now),
                integration_tokens::expires_at.eq(token.expires_at),
            ))
            .returning(integration_tokens::id)
            .get_result(conn)?;
        Ok(integration_tokens::table.find(id).select(TokenRow::as_select()).first(conn)?)
    })
}

/// Unrevoked tokens, newest first: of `owner` when given, else of everyone.
pub fn list(conn: &mut DbConnection, owner: Option<i64>, page: PageRequest) -> Result<(Vec<TokenRow>, i64), ApiError> {
    let query = || {
        let mut query = integration_tokens::table.filter(integration_tokens::revoked_at.is_null()).into_boxed();
        if let Some(owner) = owner {
            query = query.filter(integration_tokens::owner_id.eq(owner));
        }
        query
    };
    let total = query().count().get_result(conn)?;
    let rows = query()
        .order(integration_tokens::id.desc())
        .limit(page.per_page)
        .offset(page.offset())
        .select(TokenRow::as_select())
        .load(conn)?;
    Ok((rows, total))
}

/// One unrevoked token, if `may_see` says its owner's tokens are the caller's to see.
pub fn find(conn: &mut DbConnection, id: i64, may_see: impl Fn(i64) -> bool) -> Result<TokenRow, ApiError> {
    integration_tokens::table
        .find(id)
        .filter(integration_tokens::revoked_at.is_null())
        .select(TokenRow::as_select())
        .first(conn)
        .optional()?
        .filter(|row| may_see(row.owner_id))
        .ok_or_else(not_found)
}

/// Revokes a token at once (every use reads its row); 404 as for [`find`].
pub fn revoke(
    conn: &mut DbConnection,
    id: i64,
    may_see: impl Fn(i64) -> bool,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    bookkeeping_transaction(conn, |conn| {
        find(conn, id, &may_see)?;
        diesel::update(integration_tokens::table.find(id)).set(integration_tokens::revoked_at.eq(now)).execute(conn)?;
        Ok(())
    })
}

fn not_found() -> ApiError {
    ApiError::NotFound("no unrevoked token you may see has this id".into())
}
