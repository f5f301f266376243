//! What author writes tell webhooks, in the writes' own transactions: `author.updated` when an
//! author the public can see (one with published work) changed what the public sees of them.
//! The store passes its public lookup in ([`FindPublic`]), so that this file does not import it back.

use diesel::prelude::*;
use serde_json::{Map, Value, json};

use super::model::PublicAuthor;
use crate::db::outbox::{self, EventType};
use crate::db::{self, DbConnection};
use crate::error::ApiError;
use crate::schema::authors;

/// `store::find_public`: an author by slug, as the public sees them.
pub type FindPublic = fn(
    &mut DbConnection,
    chrono::NaiveDateTime,
    &str,
) -> Result<Option<(PublicAuthor, chrono::NaiveDateTime)>, ApiError>;

/// The author as the public sees them now; `None` when the public cannot, or nobody wants
/// `author.updated`.
pub fn before_edit(conn: &mut DbConnection, id: i64, find_public: FindPublic) -> Result<Option<Value>, ApiError> {
    if outbox::wanted(conn, EventType::AuthorUpdated)?.is_empty() {
        return Ok(None);
    }
    public_profile(conn, id, find_public)
}

fn public_profile(conn: &mut DbConnection, id: i64, find_public: FindPublic) -> Result<Option<Value>, ApiError> {
    let slug: String = authors::table.find(id).select(authors::slug).first(conn)?;
    let Some((author, _)) = find_public(conn, db::now(), &slug)? else { return Ok(None) };
    Ok(Some(serde_json::to_value(author).map_err(|e| ApiError::Internal(format!("author view: {e}")))?))
}

/// `author.updated` with the fields that changed (`previous`), when the author was and is public.
pub fn after_edit(
    conn: &mut DbConnection,
    id: i64,
    before: Option<Value>,
    find_public: FindPublic,
) -> Result<(), ApiError> {
    let Some(Value::Object(before)) = before else { return Ok(()) };
    let Some(after) = public_profile(conn, id, find_public)? else { return Ok(()) };
    let previous: Map<String, Value> =
        before.into_iter().filter(|(key, old)| key != "article_count" && after.get(key) != Some(old)).collect();
    if previous.is_empty() {
        return Ok(());
    }
    outbox::announce(conn, EventType::AuthorUpdated, |_| Ok(json!({"author": after, "previous": previous})))
}
