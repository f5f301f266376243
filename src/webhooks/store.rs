//! Webhook subscriptions and their deliveries as editors manage them. Webhooks are bookkeeping,
//! not public content: nothing here is announced to caches.

use chrono::NaiveDateTime;
use diesel::dsl::count_star;
use diesel::prelude::*;

use super::model::{
    DeliveryRow, DeliveryStatus, DeliveryView, MAX_DESCRIPTION_CHARS, MAX_URL_CHARS, MAX_WEBHOOKS, WebhookRow,
};
use crate::db::outbox::{self, ALL_EVENTS, EventType};
use crate::db::{DbConnection, bookkeeping_transaction};
use crate::error::{ApiError, Validator};
use crate::pagination::PageRequest;
use crate::schema::{webhook_deliveries, webhook_events, webhooks};

/// A webhook to be stored, its input checked.
pub struct NewWebhook {
    pub created_by: i64,
    pub url: String,
    pub description: Option<String>,
    pub events: String,
    pub active: bool,
    pub secret: String,
}

/// Checks a subscription and returns it as stored: `*` alone, or the event names once each.
pub fn check_events(v: &mut Validator, events: &[EventType]) -> String {
    v.check(!events.is_empty(), "events", "must name at least one event, or `*` for all");
    v.check(
        !events.contains(&EventType::Ping),
        "events",
        "`ping` is sent by the test route only; it cannot be subscribed to",
    );
    if events.contains(&EventType::All) {
        return ALL_EVENTS.into();
    }
    let mut names: Vec<&str> = events.iter().map(|event| event.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    names.join(" ")
}

/// Checks a description's length and characters; returns it trimmed (`None` when blank).
pub fn check_description(v: &mut Validator, description: Option<&str>) -> Option<String> {
    let trimmed = description.map(str::trim).filter(|d| !d.is_empty());
    v.chars("description", trimmed.unwrap_or_default(), 0, MAX_DESCRIPTION_CHARS).check(
        !trimmed.unwrap_or_default().chars().any(|c| c.is_control() && c != '\n'),
        "description",
        "must not contain control characters",
    );
    trimmed.map(str::to_string)
}

/// Checks a URL's length; the SSRF guard (`outbound`) judges the rest.
pub fn check_url_length(v: &mut Validator, url: &str) {
    v.chars("url", url, 1, MAX_URL_CHARS);
}

pub fn create(conn: &mut DbConnection, new: NewWebhook, now: NaiveDateTime) -> Result<WebhookRow, ApiError> {
    bookkeeping_transaction(conn, |conn| {
        crate::db::lock_key(conn, "webhooks.count")?;
        let held: i64 = webhooks::table.select(count_star()).first(conn)?;
        if held >= MAX_WEBHOOKS {
            return Err(ApiError::Conflict(format!("a site has at most {MAX_WEBHOOKS} webhooks; delete one first")));
        }
        let id: i64 = diesel::insert_into(webhooks::table)
            .values((
                webhooks::created_by.eq(new.created_by),
                webhooks::url.eq(&new.url),
                webhooks::description.eq(&new.description),
                webhooks::events.eq(&new.events),
                webhooks::secret.eq(&new.secret),
                webhooks::active.eq(new.active),
                webhooks::consecutive_failures.eq(0),
                webhooks::created_at.eq(now),
                webhooks::updated_at.eq(now),
            ))
            .returning(webhooks::id)
            .get_result(conn)?;
        find(conn, id)
    })
}

/// Webhooks, newest first.
pub fn list(conn: &mut DbConnection, page: PageRequest) -> Result<(Vec<WebhookRow>, i64), ApiError> {
    let total = webhooks::table.count().get_result(conn)?;
    let rows = webhooks::table
        .order(webhooks::id.desc())
        .limit(page.per_page)
        .offset(page.offset())
        .select(WebhookRow::as_select())
        .load(conn)?;
    Ok((rows, total))
}

pub fn find(conn: &mut DbConnection, id: i64) -> Result<WebhookRow, ApiError> {
    webhooks::table.find(id).select(WebhookRow::as_select()).first(conn).optional()?.ok_or_else(not_found)
}

/// What `PATCH` changes, checked.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = webhooks)]
pub struct WebhookChanges {
    pub url: Option<String>,
    pub events: Option<String>,
    pub description: Option<Option<String>>,
    pub active: Option<bool>,
}

pub fn update(
    conn: &mut DbConnection,
    id: i64,
    changes: WebhookChanges,
    now: NaiveDateTime,
) -> Result<WebhookRow, ApiError> {
    bookkeeping_transaction(conn, |conn| {
        let enabling = changes.active == Some(true);
        let updated =
            diesel::update(webhooks::table.find(id)).set((&changes, webhooks::updated_at.eq(now))).execute(conn)?;
        if updated == 0 {
            return Err(not_found());
        }
        if enabling {
            // A fresh start: the failures that disabled it are forgiven, and its waiting
            // deliveries go out now rather than at their backed-off times.
            diesel::update(webhooks::table.find(id))
                .set((webhooks::disabled_reason.eq(None::<String>), webhooks::consecutive_failures.eq(0)))
                .execute(conn)?;
            diesel::update(
                webhook_deliveries::table
                    .filter(webhook_deliveries::webhook_id.eq(id))
                    .filter(webhook_deliveries::status.eq(outbox::PENDING)),
            )
            .set(webhook_deliveries::next_attempt_at.eq(Some(now)))
            .execute(conn)?;
        }
        find(conn, id)
    })
}

/// Deletes a webhook with its deliveries (those in flight finish; nothing is retried).
pub fn delete(conn: &mut DbConnection, id: i64) -> Result<(), ApiError> {
    bookkeeping_transaction(conn, |conn| {
        if diesel::delete(webhooks::table.find(id)).execute(conn)? == 0 {
            return Err(not_found());
        }
        Ok(())
    })
}

/// Gives a webhook a new secret; the old one signs too until `old_valid_until`, so that
/// receivers can switch without missing a delivery.
pub fn rotate(
    conn: &mut DbConnection,
    id: i64,
    secret: String,
    now: NaiveDateTime,
    old_valid_until: NaiveDateTime,
) -> Result<WebhookRow, ApiError> {
    bookkeeping_transaction(conn, |conn| {
        let old: String =
            webhooks::table.find(id).select(webhooks::secret).first(conn).optional()?.ok_or_else(not_found)?;
        diesel::update(webhooks::table.find(id))
            .set((
                webhooks::secret.eq(secret),
                webhooks::previous_secret.eq(Some(old)),
                webhooks::previous_secret_until.eq(Some(old_valid_until)),
                webhooks::updated_at.eq(now),
            ))
            .execute(conn)?;
        find(conn, id)
    })
}

/// Queues a `ping` event to this webhook alone; a disabled webhook is a 409 (nothing would send it).
pub fn ping(conn: &mut DbConnection, id: i64) -> Result<DeliveryView, ApiError> {
    bookkeeping_transaction(conn, |conn| {
        require_active(&find(conn, id)?)?;
        let data = serde_json::json!({"webhook_id": id, "message": "A test delivery from Masthead."});
        let delivery = outbox::record(conn, EventType::Ping, data, &[id])?[0];
        delivery_view(conn, id, delivery)
    })
}

/// A webhook's deliveries, newest first, of one status when given.
pub fn deliveries(
    conn: &mut DbConnection,
    webhook_id: i64,
    status: Option<DeliveryStatus>,
    page: PageRequest,
) -> Result<(Vec<DeliveryView>, i64), ApiError> {
    find(conn, webhook_id)?;
    let query = || {
        let mut query = webhook_deliveries::table.filter(webhook_deliveries::webhook_id.eq(webhook_id)).into_boxed();
        if let Some(status) = status {
            query = query.filter(webhook_deliveries::status.eq(status.as_str()));
        }
        query
    };
    let total = query().count().get_result(conn)?;
    let rows: Vec<(DeliveryRow, String, String)> = query()
        .inner_join(webhook_events::table)
        .order(webhook_deliveries::id.desc())
        .limit(page.per_page)
        .offset(page.offset())
        .select((DeliveryRow::as_select(), webhook_events::event_type, webhook_events::message_id))
        .load(conn)?;
    let views = rows.into_iter().map(|(row, event, message)| DeliveryView::new(row, &event, message)).collect();
    Ok((views, total))
}

/// One delivery of a webhook.
pub fn delivery_view(conn: &mut DbConnection, webhook_id: i64, id: i64) -> Result<DeliveryView, ApiError> {
    let (row, event, message): (DeliveryRow, String, String) = webhook_deliveries::table
        .inner_join(webhook_events::table)
        .filter(webhook_deliveries::id.eq(id))
        .filter(webhook_deliveries::webhook_id.eq(webhook_id))
        .select((DeliveryRow::as_select(), webhook_events::event_type, webhook_events::message_id))
        .first(conn)
        .optional()?
        .ok_or_else(no_delivery)?;
    Ok(DeliveryView::new(row, &event, message))
}

/// Queues the event of one of a webhook's deliveries again, as a new delivery due now (same
/// `webhook-id`, so receivers that saw it can tell). A disabled webhook is a 409: enable it first.
pub fn redeliver(
    conn: &mut DbConnection,
    webhook_id: i64,
    delivery_id: i64,
    now: NaiveDateTime,
) -> Result<DeliveryView, ApiError> {
    bookkeeping_transaction(conn, |conn| {
        require_active(&find(conn, webhook_id)?)?;
        let event_id: i64 = webhook_deliveries::table
            .filter(webhook_deliveries::id.eq(delivery_id))
            .filter(webhook_deliveries::webhook_id.eq(webhook_id))
            .select(webhook_deliveries::event_id)
            .first(conn)
            .optional()?
            .ok_or_else(no_delivery)?;
        let id = outbox::queue(conn, event_id, &[webhook_id], now)?[0];
        delivery_view(conn, webhook_id, id)
    })
}

fn not_found() -> ApiError {
    ApiError::NotFound("no webhook has this id".into())
}

fn no_delivery() -> ApiError {
    ApiError::NotFound("this webhook has no delivery with this id".into())
}

/// A disabled webhook is sent nothing, so nothing is queued for it by hand either (409).
fn require_active(webhook: &WebhookRow) -> Result<(), ApiError> {
    match webhook.active {
        true => Ok(()),
        false => Err(ApiError::Conflict("the webhook is disabled; enable it (PATCH active: true) first".into())),
    }
}

/// How many deliveries wait for an attempt or a retry (for the metrics); counted on the partial
/// index of pending deliveries.
pub fn pending_deliveries(conn: &mut DbConnection) -> Result<i64, ApiError> {
    Ok(webhook_deliveries::table.filter(webhook_deliveries::status.eq(outbox::PENDING)).count().get_result(conn)?)
}
