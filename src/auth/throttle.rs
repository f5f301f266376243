//! Throttling of failed logins (and password changes), per client address and per account.
//!
//! Failures are rows in `login_failures`, so every node behind a load balancer counts the same
//! attempts. An attempt is *reserved* before its password is checked: in one transaction that holds
//! both keys' locks, both keys are counted and, when neither has used up its failures within the
//! window, the attempt is recorded as a failure at once. Checking first and recording afterwards
//! let every request of a burst pass the check (150 concurrent guesses, limit 5: 149 answers 401,
//! one 200). A right password then forgives the attempt and the account's earlier failures.
//! Over a limit is a 429 with `Retry-After` (when its oldest counted failure leaves the window).
//! The account key is the normalised e-mail, known or not, so throttling reveals nothing about
//! which accounts exist.

use chrono::NaiveDateTime;
use diesel::dsl::{count_star, min};
use diesel::prelude::*;

use crate::db::{self, DbConnection, bookkeeping_transaction};
use crate::error::ApiError;
use crate::schema::login_failures;
use crate::settings::LoginLimits;

/// The two keys of one login attempt.
#[derive(Clone, Debug)]
pub struct LoginKeys {
    pub address: String,
    pub account: String,
}

impl LoginKeys {
    pub fn new(address: &str, email: &str) -> Self {
        Self { address: format!("ip:{address}"), account: format!("account:{}", crate::email::normalize(email)) }
    }
}

/// An attempt let through: already counted as a failure under both keys (these rows).
#[derive(Debug)]
pub struct Attempt {
    keys: LoginKeys,
    rows: Vec<i64>,
}

/// Counts both keys and records the attempt, atomically: 429 when either key has used up its
/// failures in the window, and then nothing is recorded.
pub fn reserve(conn: &mut DbConnection, keys: &LoginKeys, limits: &LoginLimits) -> Result<Attempt, ApiError> {
    let now = db::now();
    // Most of a flood is refused here, by a read: no write lock is taken for it.
    refuse_if_spent(conn, keys, limits, now)?;
    bookkeeping_transaction(conn, |conn| {
        // SQLite write transactions are serial already; on PostgreSQL, attempts on the same keys
        // (from any node) wait here for each other's commit. Then the count is exact.
        db::lock_keys(conn, &[&keys.address, &keys.account])?;
        refuse_if_spent(conn, keys, limits, now)?;
        // Failures that have left the window count for nothing any more.
        diesel::delete(login_failures::table.filter(login_failures::created_at.le(now - limits.window)))
            .execute(conn)?;
        let mut rows = Vec::with_capacity(2);
        for key in [&keys.address, &keys.account] {
            rows.push(
                diesel::insert_into(login_failures::table)
                    .values((login_failures::throttle_key.eq(key), login_failures::created_at.eq(now)))
                    .returning(login_failures::id)
                    .get_result::<i64>(conn)?,
            );
        }
        Ok(Attempt { keys: keys.clone(), rows })
    })
}

/// 429 when either key has used up its failures within the window before `now`.
fn refuse_if_spent(
    conn: &mut DbConnection,
    keys: &LoginKeys,
    limits: &LoginLimits,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    for (key, limit) in [(&keys.address, limits.per_address), (&keys.account, limits.per_account)] {
        let (failures, oldest): (i64, Option<NaiveDateTime>) = login_failures::table
            .filter(login_failures::throttle_key.eq(key))
            .filter(login_failures::created_at.gt(now - limits.window))
            .select((count_star(), min(login_failures::created_at)))
            .first(conn)?;
        if failures >= limit {
            let retry_after = oldest.map_or(limits.window, |oldest| oldest + limits.window - now);
            return Err(ApiError::TooManyRequests {
                limit: crate::error::Limit::LoginThrottle,
                detail: "too many failed logins; wait before trying again".into(),
                retry_after_seconds: retry_after.num_seconds().max(1) as u64,
            });
        }
    }
    Ok(())
}

/// The password was right: forgets this attempt and the account's failures (not the address's
/// others: one good password does not vouch for other guesses from the same place).
pub fn succeeded(conn: &mut DbConnection, attempt: Attempt) -> Result<(), ApiError> {
    diesel::delete(
        login_failures::table.filter(
            login_failures::throttle_key.eq(&attempt.keys.account).or(login_failures::id.eq_any(&attempt.rows)),
        ),
    )
    .execute(conn)?;
    Ok(())
}

/// The password could not be checked (the server was busy): the attempt does not count.
pub fn withdraw(conn: &mut DbConnection, attempt: Attempt) -> Result<(), ApiError> {
    diesel::delete(login_failures::table.filter(login_failures::id.eq_any(&attempt.rows))).execute(conn)?;
    Ok(())
}
