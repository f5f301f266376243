//! The webhooks' transactional outbox: a write records the events it causes in its own
//! transaction, with one delivery per subscribed webhook, so that an event exists exactly when
//! its change committed. Dispatchers (`webhooks::dispatcher`) send the deliveries afterwards.
//!
//! Writers ask [`wanted`] first, so that a write nobody subscribed to pays one small query and
//! builds no payload.

use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::DbConnection;
use crate::error::ApiError;
use crate::schema::{webhook_deliveries, webhook_events, webhooks};

/// What a webhook can be told about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum EventType {
    /// An article became public: published now, or a scheduled article's time came.
    #[serde(rename = "article.published")]
    ArticlePublished,
    /// A public article's public content changed.
    #[serde(rename = "article.updated")]
    ArticleUpdated,
    /// A published or scheduled article went back to draft.
    #[serde(rename = "article.unpublished")]
    ArticleUnpublished,
    /// An article was given a publication time in the future.
    #[serde(rename = "article.scheduled")]
    ArticleScheduled,
    #[serde(rename = "article.trashed")]
    ArticleTrashed,
    #[serde(rename = "article.restored")]
    ArticleRestored,
    /// Deleted for good.
    #[serde(rename = "article.deleted")]
    ArticleDeleted,
    /// A reader posted a comment (held for moderation or approved at once).
    #[serde(rename = "comment.created")]
    CommentCreated,
    #[serde(rename = "comment.approved")]
    CommentApproved,
    /// A comment was rejected, marked as spam or deleted.
    #[serde(rename = "comment.removed")]
    CommentRemoved,
    #[serde(rename = "tag.created")]
    TagCreated,
    #[serde(rename = "tag.updated")]
    TagUpdated,
    #[serde(rename = "tag.deleted")]
    TagDeleted,
    /// An author's public profile changed.
    #[serde(rename = "author.updated")]
    AuthorUpdated,
    /// Sent by `POST /api/v1/admin/webhooks/{id}/test` only; not subscribed to.
    #[serde(rename = "ping")]
    Ping,
    /// In a subscription only: every event.
    #[serde(rename = "*")]
    All,
}

impl EventType {
    /// Every event a webhook can subscribe to (all but `ping`).
    pub const SUBSCRIBABLE: [EventType; 14] = [
        Self::ArticlePublished,
        Self::ArticleUpdated,
        Self::ArticleUnpublished,
        Self::ArticleScheduled,
        Self::ArticleTrashed,
        Self::ArticleRestored,
        Self::ArticleDeleted,
        Self::CommentCreated,
        Self::CommentApproved,
        Self::CommentRemoved,
        Self::TagCreated,
        Self::TagUpdated,
        Self::TagDeleted,
        Self::AuthorUpdated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ArticlePublished => "article.published",
            Self::ArticleUpdated => "article.updated",
            Self::ArticleUnpublished => "article.unpublished",
            Self::ArticleScheduled => "article.scheduled",
            Self::ArticleTrashed => "article.trashed",
            Self::ArticleRestored => "article.restored",
            Self::ArticleDeleted => "article.deleted",
            Self::CommentCreated => "comment.created",
            Self::CommentApproved => "comment.approved",
            Self::CommentRemoved => "comment.removed",
            Self::TagCreated => "tag.created",
            Self::TagUpdated => "tag.updated",
            Self::TagDeleted => "tag.deleted",
            Self::AuthorUpdated => "author.updated",
            Self::Ping => "ping",
            Self::All => ALL_EVENTS,
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::SUBSCRIBABLE.into_iter().chain([Self::Ping, Self::All]).find(|event| event.as_str() == text)
    }
}

/// A webhook's subscription as stored: event names separated by spaces, or `*` for all.
pub const ALL_EVENTS: &str = "*";

/// Whether a stored subscription includes `event`.
pub fn subscribes(events: &str, event: EventType) -> bool {
    events.split(' ').any(|name| name == ALL_EVENTS || name == event.as_str())
}

/// The active webhooks subscribed to `event`: empty when nobody wants it.
pub fn wanted(conn: &mut DbConnection, event: EventType) -> Result<Vec<i64>, ApiError> {
    let active: Vec<(i64, String)> =
        webhooks::table.filter(webhooks::active.eq(true)).select((webhooks::id, webhooks::events)).load(conn)?;
    Ok(active.into_iter().filter(|(_, events)| subscribes(events, event)).map(|(id, _)| id).collect())
}

/// The delivery status values.
pub const PENDING: &str = "pending";
pub const SUCCEEDED: &str = "succeeded";
pub const FAILED: &str = "failed";

/// Records `event` with `data` for the webhooks `to` (from [`wanted`]), in the caller's
/// transaction: the body is made and stored now, exactly as it will be signed and sent. Returns
/// the deliveries' ids, in the order of `to`.
pub fn record(
    conn: &mut DbConnection,
    event: EventType,
    data: serde_json::Value,
    to: &[i64],
) -> Result<Vec<i64>, ApiError> {
    if to.is_empty() {
        return Ok(Vec::new());
    }
    let now = super::now();
    let payload = serde_json::json!({
        "type": event.as_str(),
        "timestamp": now.and_utc(),
        "data": data,
    });
    let event_id: i64 = diesel::insert_into(webhook_events::table)
        .values((
            webhook_events::message_id.eq(format!("msg_{}", crate::random::hex_token(16))),
            webhook_events::event_type.eq(event.as_str()),
            webhook_events::payload.eq(payload.to_string()),
            webhook_events::created_at.eq(now),
        ))
        .returning(webhook_events::id)
        .get_result(conn)?;
    let ids = queue(conn, event_id, to, now)?;
    super::transactions::mark_events();
    Ok(ids)
}

/// Queues one new delivery of the recorded event `event_id` to each webhook of `to`, due `at`.
pub fn queue(
    conn: &mut DbConnection,
    event_id: i64,
    to: &[i64],
    at: chrono::NaiveDateTime,
) -> Result<Vec<i64>, ApiError> {
    let mut ids = Vec::with_capacity(to.len());
    for webhook_id in to {
        let id = diesel::insert_into(webhook_deliveries::table)
            .values((
                webhook_deliveries::webhook_id.eq(webhook_id),
                webhook_deliveries::event_id.eq(event_id),
                webhook_deliveries::status.eq(PENDING),
                webhook_deliveries::attempts.eq(0),
                webhook_deliveries::next_attempt_at.eq(Some(at)),
                webhook_deliveries::created_at.eq(at),
            ))
            .returning(webhook_deliveries::id)
            .get_result(conn)?;
        ids.push(id);
    }
    super::transactions::mark_events();
    Ok(ids)
}

/// A view (an article, a comment, a tag) as payload data.
pub fn data_of(view: &impl Serialize) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(view).map_err(|e| ApiError::Internal(format!("cannot serialise an event's data: {e}")))
}

/// An update's `previous`: the fields of `before` whose values `after` changed, with their old
/// values, leaving out `ignored` (fields that change on their own, such as `updated_at`). Empty
/// when nothing the receiver sees changed: then there is no event.
pub fn previous_values(
    before: serde_json::Value,
    after: &serde_json::Value,
    ignored: &[&str],
) -> serde_json::Map<String, serde_json::Value> {
    let serde_json::Value::Object(before) = before else { return serde_json::Map::new() };
    before.into_iter().filter(|(key, old)| !ignored.contains(&key.as_str()) && after.get(key) != Some(old)).collect()
}

/// [`wanted`] then [`record`] with the data `build` makes, built only when someone subscribed.
pub fn announce(
    conn: &mut DbConnection,
    event: EventType,
    build: impl FnOnce(&mut DbConnection) -> Result<serde_json::Value, ApiError>,
) -> Result<(), ApiError> {
    let to = wanted(conn, event)?;
    if !to.is_empty() {
        let data = build(conn)?;
        record(conn, event, data, &to)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previous_holds_the_old_values_of_what_changed_but_the_ignored() {
        let before = serde_json::json!({"title": "Old", "slug": "same", "updated_at": "then"});
        let after = serde_json::json!({"title": "New", "slug": "same", "updated_at": "now"});
        assert_eq!(
            serde_json::Value::Object(previous_values(before, &after, &["updated_at"])),
            serde_json::json!({"title": "Old"})
        );
    }

    #[test]
    fn subscriptions_match_names_or_everything_and_every_name_parses() {
        assert!(subscribes("*", EventType::TagDeleted));
        assert!(subscribes("article.published tag.deleted", EventType::TagDeleted));
        assert!(!subscribes("article.published", EventType::ArticleUpdated));
        for event in EventType::SUBSCRIBABLE {
            assert_eq!(EventType::parse(event.as_str()), Some(event));
            assert_eq!(serde_json::to_value(event).unwrap(), event.as_str());
        }
    }
}
