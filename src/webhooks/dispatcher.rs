//! Sending deliveries: each node runs one dispatcher, which claims due deliveries (`claims`),
//! signs and POSTs each through the SSRF guard (`outbound`), and records the result. It wakes when
//! this node commits events, when a delivery finishes, and every `MASTHEAD_WEBHOOK_POLL_MS` (for
//! other nodes' events, retries coming due and scheduled publications).

use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::claims::{self, AttemptResult, Claimed};
use super::signing;
use crate::db::Db;
use crate::settings::WebhookSettings;

/// How long a receiver has to answer, headers and kept body together.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// How much of a receiver's answer is read and kept.
const KEPT_BODY_BYTES: usize = 1024;

pub struct Dispatcher {
    db: Db,
    client: reqwest::Client,
    settings: WebhookSettings,
    in_flight: Arc<AtomicUsize>,
}

impl Dispatcher {
    pub fn new(db: Db, settings: WebhookSettings) -> Result<Self, String> {
        let agent = concat!("Masthead-Webhooks/", env!("CARGO_PKG_VERSION"));
        let client = crate::outbound::guarded_client(settings.allow_private, TIMEOUT, agent)?;
        Ok(Self { db, client, settings, in_flight: Arc::new(AtomicUsize::new(0)) })
    }

    /// Claims what is due, up to the free slots, and starts sending it on this thread's runtime;
    /// returns how many were claimed (as many as the slots: there may be more).
    pub async fn dispatch_due(self: &Rc<Self>) -> usize {
        let free = self.settings.concurrency.saturating_sub(self.in_flight.load(Ordering::Acquire));
        if free == 0 {
            return 0;
        }
        let now = self.db.now();
        let claimed = match self.db.run(move |conn| claims::claim(conn, now, free as i64)).await {
            Ok(claimed) => claimed,
            Err(error) => {
                tracing::warn!(%error, "cannot claim webhook deliveries");
                return 0;
            }
        };
        let count = claimed.len();
        for delivery in claimed {
            self.in_flight.fetch_add(1, Ordering::AcqRel);
            let this = Rc::clone(self);
            actix_web::rt::spawn(async move {
                this.deliver(delivery).await;
                this.in_flight.fetch_sub(1, Ordering::AcqRel);
                // A slot came free: the loop may claim more.
                this.db.outbox_signal().notify_one();
            });
        }
        count
    }

    /// Waits until there may be work: events committed here, a delivery finished, or the poll
    /// interval passed.
    pub async fn wait(&self) {
        let signal = self.db.outbox_signal();
        let _ = actix_web::rt::time::timeout(self.settings.poll_interval, signal.notified()).await;
    }

    async fn deliver(&self, delivery: Claimed) {
        let result = self.attempt(&delivery).await;
        let (db, settings, now) = (self.db.clone(), self.settings, self.db.now());
        let (delivery_id, webhook_id, attempt) = (delivery.delivery_id, delivery.webhook_id, delivery.attempt);
        let status = result.status;
        match db.run(move |conn| claims::finish(conn, &delivery, &result, now, &settings)).await {
            // The URL may hold a secret (a build hook's token): logged by webhook id only.
            Ok(verdict) => tracing::debug!(webhook_id, delivery_id, attempt, ?status, ?verdict, "webhook attempt"),
            // The lease runs out and the delivery is tried again: never lost.
            Err(error) => tracing::warn!(webhook_id, delivery_id, %error, "cannot record a webhook attempt"),
        }
    }

    /// One signed POST of the delivery's body.
    async fn attempt(&self, delivery: &Claimed) -> AttemptResult {
        let failed = |error: String| AttemptResult { error: Some(error), ..AttemptResult::default() };
        let url = match crate::outbound::check_url(&delivery.url, self.settings.allow_private) {
            Ok(url) => url,
            Err(reason) => return failed(format!("the URL {reason}")),
        };
        let now = self.db.now();
        let timestamp = now.and_utc().timestamp();
        let Some(signature) =
            signing::signature(&delivery.secrets(now), &delivery.message_id, timestamp, &delivery.payload)
        else {
            return failed("the signing secret cannot be decoded".into());
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
                let mut result = failed(describe(&error));
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
