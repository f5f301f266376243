//! Sending deliveries: each node runs one dispatcher, which claims due deliveries (`claims`),
//! signs and POSTs each through the SSRF guard (`outbound`), and records the results. It wakes
//! when this node commits events, when an attempt ends, and every `MASTHEAD_WEBHOOK_POLL_MS` (for
//! other nodes' events, retries coming due and scheduled publications).
//!
//! Attempts run concurrently, but only the dispatcher's loop touches the database: each round it
//! records every attempt that ended, in one transaction, then claims as many as there are free
//! slots. Two transactions a round however many deliveries, rather than two per delivery, which
//! on SQLite would queue behind one another (and the requests' writes) for its one write lock.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use super::claims::{self, AttemptResult, Claimed};
use super::signing;
use crate::db::Db;
use crate::settings::WebhookSettings;

/// How long a receiver has to answer, headers and kept body together.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// How much of a receiver's answer is read and kept.
const KEPT_BODY_BYTES: usize = 1024;

/// How often a background failure that repeats every round (the database out of reach) is
/// logged: once, then at most once a minute, with how many were not.
const REPEATED_WARNING_EVERY: Duration = Duration::from_secs(60);

/// Warnings of a background loop, at most one per [`REPEATED_WARNING_EVERY`]: a database outage
/// would otherwise log one each round, every poll interval.
#[derive(Default)]
pub struct QuietWarnings {
    last: Cell<Option<Instant>>,
    suppressed: Cell<u32>,
}

impl QuietWarnings {
    /// Whether to log now, and how many were left out since the last one logged.
    pub fn allow(&self) -> Option<u32> {
        if self.last.get().is_some_and(|at| at.elapsed() < REPEATED_WARNING_EVERY) {
            self.suppressed.set(self.suppressed.get() + 1);
            return None;
        }
        self.last.set(Some(Instant::now()));
        Some(self.suppressed.replace(0))
    }
}

/// One node's sender; lives on one thread (the server's), as its attempts do.
pub struct Dispatcher {
    db: Db,
    client: reqwest::Client,
    settings: WebhookSettings,
    /// Attempts under way.
    in_flight: Cell<usize>,
    /// Attempts that ended, to be recorded by the next round.
    ended: RefCell<Vec<(Claimed, AttemptResult)>>,
    warnings: QuietWarnings,
}

impl Dispatcher {
    pub fn new(db: Db, settings: WebhookSettings) -> Result<Self, String> {
        let agent = concat!("Masthead-Webhooks/", env!("CARGO_PKG_VERSION"));
        let client = crate::outbound::guarded_client(settings.allow_private, TIMEOUT, agent)?;
        let (in_flight, ended, warnings) = (Cell::new(0), RefCell::new(Vec::new()), QuietWarnings::default());
        Ok(Self { db, client, settings, in_flight, ended, warnings })
    }

    /// One round: records the attempts that ended, then claims what is due, up to the free
    /// slots, and starts sending it on this thread's runtime. Returns whether there may be more
    /// due right now (it filled every free slot).
    pub async fn dispatch_due(self: &Rc<Self>) -> bool {
        self.record_ended().await;
        let free = self.settings.concurrency.saturating_sub(self.in_flight.get());
        if free == 0 {
            return false;
        }
        let now = self.db.now();
        let claimed = match self.db.run(move |conn| claims::claim(conn, now, free as i64)).await {
            Ok(claimed) => claimed,
            Err(error) => {
                if let Some(suppressed) = self.warnings.allow() {
                    tracing::warn!(%error, suppressed, "cannot claim webhook deliveries");
                }
                return false;
            }
        };
        let count = claimed.len();
        for delivery in claimed {
            self.in_flight.set(self.in_flight.get() + 1);
            let this = Rc::clone(self);
            actix_web::rt::spawn(async move {
                let result = this.attempt(&delivery).await;
                this.ended.borrow_mut().push((delivery, result));
                this.in_flight.set(this.in_flight.get() - 1);
                // A slot came free and a result waits: the loop goes round again.
                this.db.outbox_signal().notify_one();
            });
        }
        count == free
    }

    /// Records the attempts that ended since the last round. Should that fail, their leases run
    /// out and they are tried again: never lost, at worst sent twice.
    async fn record_ended(&self) {
        let ended = std::mem::take(&mut *self.ended.borrow_mut());
        if ended.is_empty() {
            return;
        }
        let (settings, now, count) = (self.settings, self.db.now(), ended.len());
        match self.db.run(move |conn| claims::finish_all(conn, &ended, now, &settings)).await {
            Ok(verdicts) => tracing::debug!(count, ?verdicts, "webhook attempts recorded"),
            Err(error) => {
                if let Some(suppressed) = self.warnings.allow() {
                    tracing::warn!(count, %error, suppressed, "cannot record webhook attempts; they will be retried");
                }
            }
        }
    }

    /// Waits until there may be work: events committed here, a delivery finished, or the poll
    /// interval passed.
    pub async fn wait(&self) {
        let signal = self.db.outbox_signal();
        let _ = actix_web::rt::time::timeout(self.settings.poll_interval, signal.notified()).await;
    }

    /// One signed POST of the delivery's body.
    async fn attempt(&self, delivery: &Claimed) -> AttemptResult {
        let failed = |error: String| AttemptResult { error: Some(error), ..AttemptResult::default() };
        let refused = |error: String| AttemptResult { error: Some(error), refused: true, ..AttemptResult::default() };
        let url = match crate::outbound::check_url(&delivery.url, self.settings.allow_private) {
            Ok(url) => url,
            Err(reason) => return refused(format!("the URL {reason}")),
        };
        let now = self.db.now();
        let timestamp = now.and_utc().timestamp();
        let Some(signature) =
            signing::signature(&delivery.secrets(now), &delivery.message_id, timestamp, &delivery.payload)
        else {
            return refused("the signing secret cannot be decoded".into());
        };
        let started = Instant::now();
        let sent = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", &delivery.message_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(delivery.payload.clone())
            .send()
            .await;
        let mut response = match sent {
            Ok(response) => response,
            Err(error) => {
                let mut result = match crate::outbound::is_refusal(&error) {
                    true => refused(describe(&error)),
                    false => failed(describe(&error)),
                };
                result.latency_ms = elapsed_ms(started);
                return result;
            }
        };
        let status = response.status().as_u16();
        let mut kept = Vec::new();
        let mut read_error = None;
        while kept.len() < KEPT_BODY_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => kept.extend_from_slice(&chunk[..chunk.len().min(KEPT_BODY_BYTES - kept.len())]),
                Ok(None) => break,
                Err(error) => {
                    read_error = Some(describe(&error));
                    break;
                }
            }
        }
        let body = String::from_utf8_lossy(&kept).into_owned();
        let error = match claims::Verdict::of(Some(status)) {
            claims::Verdict::Delivered => None,
            _ if (300..400).contains(&status) => Some(format!("answered {status}; redirects are not followed")),
            _ => Some(format!("answered {status}")),
        };
        AttemptResult {
            status: Some(status),
            body: (!body.is_empty()).then_some(body),
            latency_ms: elapsed_ms(started),
            refused: false,
            error: error.map(|e| match read_error {
                Some(read) => format!("{e} ({read})"),
                None => e,
            }),
        }
    }
}

fn elapsed_ms(started: Instant) -> i32 {
    started.elapsed().as_millis().min(i32::MAX as u128) as i32
}

/// A send error with its causes (the SSRF guard's refusal sits inside a connect error), without
/// the URL: it may hold a secret.
fn describe(error: &reqwest::Error) -> String {
    let mut text = if error.is_timeout() {
        format!("no answer within {} s", TIMEOUT.as_secs())
    } else if error.is_connect() {
        "cannot connect".to_string()
    } else {
        "the request failed".to_string()
    };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text.chars().take(500).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_warning_is_logged_once_then_counted() {
        let warnings = QuietWarnings::default();
        assert_eq!(warnings.allow(), Some(0));
        assert_eq!((warnings.allow(), warnings.allow()), (None, None));
        warnings.last.set(Some(Instant::now() - REPEATED_WARNING_EVERY));
        assert_eq!(warnings.allow(), Some(2), "the next one says how many were left out");
    }
}
