//! What author writes tell webhooks, in the writes' own transactions: `author.updated` when an
//! author the public can see (one with published work) changed what the public sees of them.
//! The store passes its public lookup in ([`FindPublic`]), so that this file does not import it back.

use diesel::prelude::*;
use serde_json::{Value, json};

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

/// Who wants `author.updated`, and the author as the public sees them now; `None` when nobody
/// wants it or the public cannot see them.
pub fn before_edit(
    conn: &mut DbConnection,
    id: i64,
    find_public: FindPublic,
) -> Result<Option<(Vec<i64>, Value)>, ApiError> {
    let subscribers = outbox::wanted(conn, EventType::AuthorUpdated)?;
    if subscribers.is_empty() {
        return Ok(None);
    }
    Ok(public_profile(conn, id, find_public)?.map(|view| (subscribers, view)))
}

fn public_profile(conn: &mut DbConnection, id: i64, find_public: FindPublic) -> Result<Option<Value>, ApiError> {
    let slug: String = authors::table.find(id).select(authors::slug).first(conn)?;
    let Some((author, _)) = find_public(conn, db::now(), &slug)? else { return Ok(None) };
    Ok(Some(outbox::data_of(&author)?))
}

/// `author.updated` with the fields that changed (`previous`), when the author was and is public.
pub fn after_edit(
    conn: &mut DbConnection,
    id: i64,
    before: Option<(Vec<i64>, Value)>,
    find_public: FindPublic,
) -> Result<(), ApiError> {
    let Some((subscribers, before)) = before else { return Ok(()) };
    let Some(after) = public_profile(conn, id, find_public)? else { return Ok(()) };
    // The count of published work changes with articles, not with the author's profile.
    let previous = outbox::previous_values(before, &after, &["article_count"]);
    if previous.is_empty() {
        return Ok(());
    }
    outbox::record(conn, EventType::AuthorUpdated, json!({"author": after, "previous": previous}), &subscribers)?;
    Ok(())
}
