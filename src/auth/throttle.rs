//! Throttling of failed logins, per client address and per account.
//!
//! Failures are rows in `login_failures`, so every node behind a load balancer counts the same
//! attempts. A key over its limit within the window is refused with 429 and `Retry-After` (when
//! its oldest counted failure leaves the window) before any password is checked. The account key
//! is the normalised e-mail, known or not, so throttling reveals nothing about which accounts exist.

use chrono::{Duration, NaiveDateTime};
use diesel::dsl::{count_star, min};
use diesel::prelude::*;

use crate::db::{self, DbConnection, bookkeeping_transaction};
use crate::error::ApiError;
use crate::schema::login_failures;

/// Limits from the configuration.
#[derive(Clone, Copy, Debug)]
pub struct LoginLimits {
    pub per_address: i64,
    pub per_account: i64,
    pub window: Duration,
}

/// The two keys of one login attempt.
pub struct LoginKeys {
    pub address: String,
    pub account: String,
}

impl LoginKeys {
    pub fn new(address: &str, email: &str) -> Self {
        Self { address: format!("ip:{address}"), account: format!("account:{}", email.trim().to_lowercase()) }
    }
}

/// 429 when either key has used up its failures in the window.
pub fn check(conn: &mut DbConnection, keys: &LoginKeys, limits: &LoginLimits) -> Result<(), ApiError> {
    let now = db::now();
    let since = now - limits.window;
    for (key, limit) in [(&keys.address, limits.per_address), (&keys.account, limits.per_account)] {
        let (failures, oldest): (i64, Option<NaiveDateTime>) = login_failures::table
            .filter(login_failures::throttle_key.eq(key))
            .filter(login_failures::created_at.gt(since))
            .select((count_star(), min(login_failures::created_at)))
            .first(conn)?;
        if failures >= limit {
            let retry_after = oldest.map_or(limits.window, |oldest| oldest + limits.window - now);
            return Err(ApiError::TooManyRequests {
                detail: "too many failed logins; wait before trying again".into(),
                retry_after_seconds: retry_after.num_seconds().max(1) as u64,
            });
        }
    }
    Ok(())
}

/// Counts a failure against both keys, and forgets failures that have left the window.
pub fn record_failure(conn: &mut DbConnection, keys: &LoginKeys, limits: &LoginLimits) -> Result<(), ApiError> {
    let now = db::now();
    bookkeeping_transaction(conn, |conn| {
        diesel::delete(login_failures::table.filter(login_failures::created_at.le(now - limits.window)))
            .execute(conn)?;
        for key in [&keys.address, &keys.account] {
            diesel::insert_into(login_failures::table)
                .values((login_failures::throttle_key.eq(key), login_failures::created_at.eq(now)))
                .execute(conn)?;
        }
        Ok(())
    })
}

/// A successful login clears the account's failures (not the address's: one good password
/// does not vouch for other guesses from the same place).
pub fn clear_account(conn: &mut DbConnection, keys: &LoginKeys) -> Result<(), ApiError> {
    diesel::delete(login_failures::table.filter(login_failures::throttle_key.eq(&keys.account))).execute(conn)?;
    Ok(())
}
