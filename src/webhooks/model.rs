//! Webhook and delivery rows, the editors' input, and what responses show (the signing secret
//! only when it is made or rotated).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::outbox::EventType;
use crate::schema::{webhook_deliveries, webhooks};
use crate::timestamps::{utc, utc_opt};

/// Most webhooks on one site: every front end and pipeline, bounded all the same (each event
/// makes one delivery per webhook).
pub const MAX_WEBHOOKS: i64 = 100;
/// Longest URL accepted.
pub const MAX_URL_CHARS: usize = 2000;
pub const MAX_DESCRIPTION_CHARS: usize = 500;

/// `POST /api/v1/admin/webhooks`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"url": "https://api.netlify.com/build_hooks/5f1c", "events": ["article.published", "article.updated", "article.unpublished"], "description": "Rebuild the site"}))]
pub struct CreateWebhook {
    /// Where deliveries are POSTed: `http` or `https`, outside the server's own networks unless
    /// `MASTHEAD_WEBHOOK_ALLOW_PRIVATE` is set.
    #[schema(
        min_length = 1,
        max_length = 2000,
        pattern = r"^https?://[^\s\x00-\x1f\x7f-\x9f/?#\\]+([/?#][^\s\x00-\x1f\x7f-\x9f\\]*)?$"
    )]
    pub url: String,
    /// The events to deliver, or `["*"]` for all of them (`ping` is sent by the test route only).
    #[schema(min_items = 1)]
    pub events: Vec<EventType>,
    /// What it is for (up to 500 characters).
    #[serde(default, deserialize_with = "crate::optional_fields::non_null")]
    #[schema(nullable = false, max_length = 500)]
    pub description: Option<String>,
    /// Whether deliveries are made (default true).
    #[serde(default, deserialize_with = "crate::optional_fields::non_null")]
    #[schema(nullable = false)]
    pub active: Option<bool>,
}

/// `PATCH /api/v1/admin/webhooks/{id}`: only the fields sent change. Setting `active` to true
/// re-enables a webhook disabled after failures; its waiting deliveries go out again.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhook {
    #[serde(default, deserialize_with = "crate::optional_fields::non_null")]
    #[schema(
        nullable = false,
        min_length = 1,
        max_length = 2000,
        pattern = r"^https?://[^\s\x00-\x1f\x7f-\x9f/?#\\]+([/?#][^\s\x00-\x1f\x7f-\x9f\\]*)?$"
    )]
    pub url: Option<String>,
    #[serde(default, deserialize_with = "crate::optional_fields::non_null")]
    #[schema(nullable = false, min_items = 1)]
    pub events: Option<Vec<EventType>>,
    /// `null` removes it.
    #[serde(default, deserialize_with = "crate::optional_fields::present")]
    #[schema(max_length = 500)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::optional_fields::non_null")]
    #[schema(nullable = false)]
    pub active: Option<bool>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhooks)]
pub struct WebhookRow {
    pub id: i64,
    pub created_by: Option<i64>,
    pub url: String,
    pub description: Option<String>,
    pub events: String,
    pub active: bool,
    pub disabled_reason: Option<String>,
    pub consecutive_failures: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A webhook as editors see it: never its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookView {
    #[schema(example = 4)]
    pub id: i64,
    #[schema(example = "https://api.netlify.com/build_hooks/5f1c")]
    pub url: String,
    pub description: Option<String>,
    pub events: Vec<EventType>,
    /// Whether deliveries are made. A webhook is disabled by an editor, by a `410 Gone` from its
    /// receiver, or after `MASTHEAD_WEBHOOK_DISABLE_AFTER` deliveries in a row failed for good.
    pub active: bool,
    /// Why it was disabled, when the server disabled it.
    pub disabled_reason: Option<String>,
    /// Deliveries in a row that failed for good (0 after any success).
    pub consecutive_failures: i32,
    /// The account that made it (`null` once that account is deleted).
    pub created_by: Option<i64>,
    #[serde(serialize_with = "utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "utc")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: NaiveDateTime,
}

/// The stored subscription as a list.
pub fn events_from_text(events: &str) -> Vec<EventType> {
    events.split(' ').filter_map(EventType::parse).collect()
}

impl From<WebhookRow> for WebhookView {
    fn from(row: WebhookRow) -> Self {
        Self {
            id: row.id,
            url: row.url,
            description: row.description,
            events: events_from_text(&row.events),
            active: row.active,
            disabled_reason: row.disabled_reason,
            consecutive_failures: row.consecutive_failures,
            created_by: row.created_by,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// A webhook with its signing secret: only when the secret is made or rotated. (No `Debug`: the
/// secret must not reach a log through one.)
#[derive(Serialize, ToSchema)]
pub struct WebhookWithSecret {
    #[serde(flatten)]
    pub view: WebhookView,
    /// The Standard Webhooks signing secret (`whsec_` + base64 of 32 bytes). Shown this once;
    /// rotate it to get a new one.
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw5lZkXBoKnL8=")]
    pub secret: String,
}

/// A delivery's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// Waiting for its first attempt or a retry.
    Pending,
    /// The receiver answered 2xx.
    Succeeded,
    /// Given up: a 4xx other than 408 and 429, or every retry failed.
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => crate::db::outbox::PENDING,
            Self::Succeeded => crate::db::outbox::SUCCEEDED,
            Self::Failed => crate::db::outbox::FAILED,
        }
    }

    fn parse(text: &str) -> Self {
        [Self::Pending, Self::Succeeded].into_iter().find(|s| s.as_str() == text).unwrap_or(Self::Failed)
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_deliveries)]
pub struct DeliveryRow {
    pub id: i64,
    pub webhook_id: i64,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: Option<NaiveDateTime>,
    pub last_attempt_at: Option<NaiveDateTime>,
    pub response_status: Option<i32>,
    pub response_body: Option<String>,
    pub latency_ms: Option<i32>,
    pub error: Option<String>,
    pub created_at: NaiveDateTime,
}

/// One delivery of one event to one webhook, with its last attempt.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    #[schema(example = 91)]
    pub id: i64,
    pub webhook_id: i64,
    /// The event's type.
    pub event: EventType,
    /// The `webhook-id` header: the same for every attempt and redelivery of the event.
    #[schema(example = "msg_4f0e2a9c1b7d4e3f8a6b5c4d3e2f1a0b")]
    pub message_id: String,
    pub status: DeliveryStatus,
    /// Attempts made so far.
    pub attempts: i32,
    /// When the next attempt is due (pending deliveries only).
    #[serde(serialize_with = "utc_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_attempt_at: Option<NaiveDateTime>,
    #[serde(serialize_with = "utc_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_attempt_at: Option<NaiveDateTime>,
    /// The receiver's status code at the last attempt (none when it could not be reached).
    pub response_status: Option<i32>,
    /// The first KiB of the receiver's last answer.
    pub response_body: Option<String>,
    /// How long the last attempt took, in milliseconds.
    pub latency_ms: Option<i32>,
    /// Why the last attempt failed, when it did.
    pub error: Option<String>,
    #[serde(serialize_with = "utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
}

impl DeliveryView {
    pub fn new(row: DeliveryRow, event_type: &str, message_id: String) -> Self {
        Self {
            id: row.id,
            webhook_id: row.webhook_id,
            event: EventType::parse(event_type).unwrap_or(EventType::Ping),
            message_id,
            status: DeliveryStatus::parse(&row.status),
            attempts: row.attempts,
            next_attempt_at: row.next_attempt_at,
            last_attempt_at: row.last_attempt_at,
            response_status: row.response_status,
            response_body: row.response_body,
            latency_ms: row.latency_ms,
            error: row.error,
            created_at: row.created_at,
        }
    }
}
