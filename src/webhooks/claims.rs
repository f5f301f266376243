//! The dispatcher's side of the outbox: claiming due deliveries with a lease, and recording what
//! an attempt brought (success, a retry with backoff, failure, a disabled webhook).
//!
//! A claim adds one to the delivery's `attempts` and leases it; the lease is long enough for an
//! attempt and its bookkeeping, so another node takes a delivery only when the node holding it
//! died. The attempt count doubles as a fencing token: a result is recorded only while the count
//! is still the one claimed, so a node that comes back after its lease expired records nothing.

use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use diesel::sql_types::{BigInt, Integer, Nullable, Text, Timestamp};

use crate::db::outbox::{FAILED, PENDING, SUCCEEDED};
use crate::db::{DbConnection, bookkeeping_transaction, commit_without_waiting};
use crate::error::ApiError;
use crate::schema::{webhook_deliveries, webhook_events, webhooks};
use crate::settings::WebhookSettings;

/// How long a claimed delivery belongs to the node that claimed it.
pub const LEASE: Duration = Duration::from_secs(30);

/// Delays before the retries, as multiples of `MASTHEAD_WEBHOOK_RETRY_BASE_MS` (30 s by default:
/// 30 s, 2 min, 10 min, 1 h, 6 h, 24 h). After the last, the delivery has failed.
const BACKOFF: [u32; 6] = [1, 4, 20, 120, 720, 2880];
/// First attempt and retries.
pub const MAX_ATTEMPTS: i32 = BACKOFF.len() as i32 + 1;

/// A delivery claimed for one attempt, with what it takes to send it.
/// (No `Debug`: it holds the signing secrets and a URL that may hold the receiver's own.)
#[derive(Clone, Queryable, QueryableByName)]
pub struct Claimed {
    #[diesel(sql_type = BigInt)]
    pub delivery_id: i64,
    #[diesel(sql_type = BigInt)]
    pub webhook_id: i64,
    /// This attempt's number (1 for the first).
    #[diesel(sql_type = Integer)]
    pub attempt: i32,
    #[diesel(sql_type = Text)]
    pub url: String,
    #[diesel(sql_type = Text)]
    pub secret: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub previous_secret: Option<String>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    pub previous_secret_until: Option<NaiveDateTime>,
    #[diesel(sql_type = Text)]
    pub message_id: String,
    #[diesel(sql_type = Text)]
    pub payload: String,
}

impl Claimed {
    /// The secrets that sign this attempt: the current one, and the previous one while it is valid.
    pub fn secrets(&self, now: NaiveDateTime) -> Vec<&str> {
        let previous = self.previous_secret.as_deref().filter(|_| self.previous_secret_until.is_some_and(|t| t > now));
        std::iter::once(self.secret.as_str()).chain(previous).collect()
    }
}

/// The claim on PostgreSQL: due deliveries locked with `SKIP LOCKED` (rows another node is
/// claiming right now are skipped, not waited for), leased, and returned with what sending takes.
const CLAIM_ON_POSTGRES: &str = "
UPDATE webhook_deliveries AS d
SET lease_until = $1, attempts = d.attempts + 1, last_attempt_at = $2
FROM webhooks AS w, webhook_events AS e
WHERE d.id IN (
        SELECT id FROM webhook_deliveries
        WHERE status = 'pending' AND next_attempt_at <= $2 AND (lease_until IS NULL OR lease_until < $2)
          AND webhook_id IN (SELECT id FROM webhooks WHERE active)
        ORDER BY next_attempt_at
        LIMIT $3
        FOR UPDATE SKIP LOCKED)
  AND w.id = d.webhook_id AND e.id = d.event_id
RETURNING d.id AS delivery_id, d.webhook_id, d.attempts AS attempt, w.url, w.secret, w.previous_secret,
          w.previous_secret_until, e.message_id, e.payload";

/// Claims up to `limit` due deliveries of active webhooks, oldest due first.
pub fn claim(conn: &mut DbConnection, now: NaiveDateTime, limit: i64) -> Result<Vec<Claimed>, ApiError> {
    let due = || {
        let active = webhooks::table.filter(webhooks::active.eq(true)).select(webhooks::id);
        webhook_deliveries::table
            .filter(webhook_deliveries::status.eq(PENDING))
            .filter(webhook_deliveries::next_attempt_at.le(now))
            .filter(webhook_deliveries::lease_until.is_null().or(webhook_deliveries::lease_until.lt(now)))
            .filter(webhook_deliveries::webhook_id.eq_any(active))
            .order(webhook_deliveries::next_attempt_at)
            .limit(limit)
            .select(webhook_deliveries::id)
    };
    // Looked for first, with one read and no transaction: every node polls and wakes after each
    // attempt, and most looks find nothing (on SQLite, a write transaction would take its one
    // write lock even so).
    if !diesel::select(diesel::dsl::exists(due())).get_result::<bool>(conn)? {
        return Ok(Vec::new());
    }
    let lease_until = now + chrono::Duration::from_std(LEASE).unwrap_or_default();
    if let DbConnection::Postgres(_) = conn {
        // One statement: every node polls, and writes wait on the same database.
        return bookkeeping_transaction(conn, |conn| {
            commit_without_waiting(conn)?;
            Ok(diesel::sql_query(CLAIM_ON_POSTGRES)
                .bind::<Timestamp, _>(lease_until)
                .bind::<Timestamp, _>(now)
                .bind::<BigInt, _>(limit)
                .load(conn)?)
        });
    }
    bookkeeping_transaction(conn, |conn| {
        let due = due();
        // One writer at a time already (`BEGIN IMMEDIATE`): nothing to skip.
        let ids: Vec<i64> = due.load(conn)?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        diesel::update(webhook_deliveries::table.filter(webhook_deliveries::id.eq_any(&ids)))
            .set((
                webhook_deliveries::lease_until.eq(Some(lease_until)),
                webhook_deliveries::attempts.eq(webhook_deliveries::attempts + 1),
                webhook_deliveries::last_attempt_at.eq(Some(now)),
            ))
            .execute(conn)?;
        Ok(webhook_deliveries::table
            .inner_join(webhooks::table)
            .inner_join(webhook_events::table)
            .filter(webhook_deliveries::id.eq_any(&ids))
            .order(webhook_deliveries::next_attempt_at)
            .select((
                webhook_deliveries::id,
                webhook_deliveries::webhook_id,
                webhook_deliveries::attempts,
                webhooks::url,
                webhooks::secret,
                webhooks::previous_secret,
                webhooks::previous_secret_until,
                webhook_events::message_id,
                webhook_events::payload,
            ))
            .load(conn)?)
    })
}

/// What one attempt brought.
#[derive(Debug, Clone, Default)]
pub struct AttemptResult {
    /// The receiver's status code; `None` when there was no answer.
    pub status: Option<u16>,
    /// The first KiB of the answer.
    pub body: Option<String>,
    pub latency_ms: i32,
    /// Why it failed (no answer, or an answer that is not a success).
    pub error: Option<String>,
    /// Refused before sending, for good (the SSRF guard, a secret that cannot be used): the
    /// delivery fails without retries.
    pub refused: bool,
}

impl AttemptResult {
    pub fn verdict(&self) -> Verdict {
        if self.refused { Verdict::Refused } else { Verdict::of(self.status) }
    }
}

/// What becomes of a delivery after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Delivered,
    /// 408, 429, 5xx or no answer: try again later, unless that was the last attempt.
    Retry,
    /// Another answer (a 4xx, a redirect): the receiver refuses it, and will again.
    Refused,
    /// 410 Gone: the receiver asks for no more deliveries; the webhook is disabled.
    Gone,
}

impl Verdict {
    pub fn of(status: Option<u16>) -> Self {
        match status {
            Some(200..=299) => Self::Delivered,
            None | Some(408) | Some(429) | Some(500..=599) => Self::Retry,
            Some(410) => Self::Gone,
            Some(_) => Self::Refused,
        }
    }
}

/// The delay before retry number `retry` (1 for the first), with ±20% jitter so that deliveries
/// failed together do not all come back at once.
pub fn backoff(base: Duration, retry: i32) -> Duration {
    let index = (retry.max(1) as usize - 1).min(BACKOFF.len() - 1);
    let delay = base.saturating_mul(BACKOFF[index]);
    let fifth = (delay.as_millis() as u64 / 5).max(1);
    let jitter = crate::random::below(2 * fifth + 1);
    Duration::from_millis((delay.as_millis() as u64 + jitter).saturating_sub(fifth))
}

/// Records the results of attempts, in one transaction: a node's dispatcher writes its results
/// together rather than each in a transaction of its own (on SQLite, its one write lock).
pub fn finish_all(
    conn: &mut DbConnection,
    attempts: &[(Claimed, AttemptResult)],
    now: NaiveDateTime,
    settings: &WebhookSettings,
) -> Result<Vec<Verdict>, ApiError> {
    // Webhook rows updated in one order on every node, so two nodes' batches cannot deadlock.
    let mut order: Vec<&(Claimed, AttemptResult)> = attempts.iter().collect();
    order.sort_by_key(|(claimed, _)| (claimed.webhook_id, claimed.delivery_id));
    bookkeeping_transaction(conn, |conn| {
        // Lost in a crash, a result only means the delivery is sent again.
        commit_without_waiting(conn)?;
        order.into_iter().map(|(claimed, result)| finish(conn, claimed, result, now, settings)).collect()
    })
}

/// Records an attempt's result for a delivery still held under this claim, and updates its
/// webhook: failures counted, and disabled after a 410 or `disable_after` failures in a row. In
/// the caller's transaction.
fn finish(
    conn: &mut DbConnection,
    claimed: &Claimed,
    result: &AttemptResult,
    now: NaiveDateTime,
    settings: &WebhookSettings,
) -> Result<Verdict, ApiError> {
    let verdict = result.verdict();
    {
        let retry = verdict == Verdict::Retry && claimed.attempt < MAX_ATTEMPTS;
        let (status, next_attempt_at) = match verdict {
            Verdict::Delivered => (SUCCEEDED, None),
            _ if retry => {
                let delay = backoff(settings.retry_base, claimed.attempt);
                (PENDING, Some(now + chrono::Duration::from_std(delay).unwrap_or_default()))
            }
            _ => (FAILED, None),
        };
        let held = webhook_deliveries::table
            .filter(webhook_deliveries::id.eq(claimed.delivery_id))
            .filter(webhook_deliveries::attempts.eq(claimed.attempt));
        let recorded = diesel::update(held)
            .set((
                webhook_deliveries::status.eq(status),
                webhook_deliveries::next_attempt_at.eq(next_attempt_at),
                webhook_deliveries::lease_until.eq(None::<NaiveDateTime>),
                webhook_deliveries::response_status.eq(result.status.map(i32::from)),
                webhook_deliveries::response_body.eq(&result.body),
                webhook_deliveries::latency_ms.eq(Some(result.latency_ms)),
                webhook_deliveries::error.eq(&result.error),
            ))
            .execute(conn)?;
        if recorded == 0 {
            // Deleted with its webhook, or taken over after the lease ran out.
            return Ok(verdict);
        }
        let webhook = webhooks::table.find(claimed.webhook_id);
        match verdict {
            Verdict::Delivered => {
                diesel::update(webhook.filter(webhooks::consecutive_failures.ne(0)))
                    .set(webhooks::consecutive_failures.eq(0))
                    .execute(conn)?;
            }
            Verdict::Gone => {
                disable(conn, claimed.webhook_id, "the receiver answered 410 Gone", now)?;
            }
            _ if retry => {}
            _ => {
                let failures: i32 = diesel::update(webhook)
                    .set(webhooks::consecutive_failures.eq(webhooks::consecutive_failures + 1))
                    .returning(webhooks::consecutive_failures)
                    .get_result(conn)?;
                if failures >= settings.disable_after {
                    let last = result.error.as_deref().unwrap_or("no reason given");
                    let reason = format!("{failures} deliveries in a row failed; the last: {last}");
                    disable(conn, claimed.webhook_id, &reason, now)?;
                }
            }
        }
        Ok(verdict)
    }
}

fn disable(conn: &mut DbConnection, webhook_id: i64, reason: &str, now: NaiveDateTime) -> Result<(), ApiError> {
    diesel::update(webhooks::table.find(webhook_id).filter(webhooks::active.eq(true)))
        .set((webhooks::active.eq(false), webhooks::disabled_reason.eq(Some(reason)), webhooks::updated_at.eq(now)))
        .execute(conn)?;
    tracing::warn!(webhook_id, reason, "webhook disabled");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_decide_retries_and_backoff_grows_with_jitter() {
        assert_eq!(Verdict::of(Some(204)), Verdict::Delivered);
        for retried in [None, Some(408), Some(429), Some(500), Some(503)] {
            assert_eq!(Verdict::of(retried), Verdict::Retry);
        }
        assert_eq!(Verdict::of(Some(410)), Verdict::Gone);
        assert_eq!(Verdict::of(Some(404)), Verdict::Refused);
        assert_eq!(Verdict::of(Some(301)), Verdict::Refused);
        let base = Duration::from_secs(30);
        for (retry, expected) in [(1, 30), (2, 120), (3, 600), (4, 3600), (5, 21_600), (6, 86_400), (9, 86_400)] {
            let delay = backoff(base, retry).as_secs_f64();
            assert!((expected as f64 * 0.8..=expected as f64 * 1.2).contains(&delay), "retry {retry}: {delay}");
        }
    }
}
