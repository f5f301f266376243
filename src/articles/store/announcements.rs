//! What article writes tell webhooks, recorded in the writes' own transactions (`db::outbox`):
//! the public view for events about public articles, id and slug only for the others, since a
//! payload never shows what a public route would not.
//!
//! `publication_announced` remembers whether `article.published` went out for the article's
//! current publication: publishing now sends it at once; a scheduled article waits with it unset
//! until [`announce_due`] finds its time has come, on one node, also after downtime.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::{Value, json};

use super::joins::with_embeds;
use crate::articles::model::ArticleRow;
use crate::articles::views::{Embeds, PublicArticle};
use crate::db::outbox::{self, EventType};
use crate::db::visibility::is_public;
use crate::db::{self, DbConnection, bookkeeping_transaction};
use crate::error::ApiError;
use crate::schema::articles;

/// Fields of the public view that change without an edit of the article's own: a change of
/// them alone is no `article.updated`.
const INCIDENTAL: [&str; 2] = ["updated_at", "comment_count"];
/// Fields of the public view that come from its bylines and tags rather than its row.
const EMBEDDED: [&str; 4] = ["author", "authors", "tags", "cover_image"];

/// The article's row if the public sees it now.
fn public_row(conn: &mut DbConnection, id: i64) -> Result<Option<ArticleRow>, ApiError> {
    let public = articles::table.find(id).filter(is_public(db::now()));
    Ok(public.select(ArticleRow::as_select()).first(conn).optional()?)
}

/// The article as the public sees it now, as JSON; `None` when it is not public.
pub fn public_view(conn: &mut DbConnection, id: i64) -> Result<Option<Value>, ApiError> {
    let Some(row) = public_row(conn, id)? else { return Ok(None) };
    Ok(Some(outbox::data_of(&with_embeds(conn, vec![row], PublicArticle::new)?.remove(0))?))
}

/// What a payload says about an article the public cannot see (now): its id, and its slug only
/// if it was public until now (published, its time reached; trashed since, say), so that front
/// ends can drop its page. A draft's slug, or a scheduled article's, was never public.
fn reference(conn: &mut DbConnection, id: i64) -> Result<Value, ApiError> {
    let (status, published_at): (String, Option<NaiveDateTime>) =
        articles::table.find(id).select((articles::status, articles::published_at)).first(conn)?;
    reference_as(conn, id, status == db::visibility::STATUS_PUBLISHED, published_at)
}

/// [`reference`] for an article whose status this change set: public until now if it was
/// published and its publication time had come.
fn reference_as(
    conn: &mut DbConnection,
    id: i64,
    was_published: bool,
    published_at: Option<NaiveDateTime>,
) -> Result<Value, ApiError> {
    if !(was_published && published_at.is_some_and(|at| at <= db::now())) {
        return Ok(json!({"article": {"id": id}}));
    }
    let slug: String = articles::table.find(id).select(articles::slug).first(conn)?;
    Ok(json!({"article": {"id": id, "slug": slug}}))
}

/// What an edit's `article.updated` compares with: the article's public view before the edit
/// (its row's fields, and its bylines' and tags' only when the edit may change those), and who
/// wants to hear of it.
pub struct BeforeEdit {
    subscribers: Vec<i64>,
    view: Value,
}

/// Before an edit: the public view when someone wants `article.updated` and the article is
/// public (else `None`, and [`after_edit`] sends nothing). One read of the row unless
/// `embeds_may_change` (the edit sets tags or authors): a write pays little for its event.
pub fn before_edit(conn: &mut DbConnection, id: i64, embeds_may_change: bool) -> Result<Option<BeforeEdit>, ApiError> {
    let subscribers = outbox::wanted(conn, EventType::ArticleUpdated)?;
    if subscribers.is_empty() {
        return Ok(None);
    }
    if embeds_may_change {
        return Ok(public_view(conn, id)?.map(|view| BeforeEdit { subscribers, view }));
    }
    let Some(row) = public_row(conn, id)? else { return Ok(None) };
    let unchanged = Embeds { bylines: Vec::new(), tags: Vec::new(), comment_count: 0, cover: None };
    let mut view = outbox::data_of(&PublicArticle::new(row, unchanged))?;
    if let Value::Object(fields) = &mut view {
        fields.retain(|key, _| !EMBEDDED.contains(&key.as_str()));
    }
    Ok(Some(BeforeEdit { subscribers, view }))
}

/// After an edit: `article.updated` with the fields that changed (`previous`), when the article
/// was and is public (`after`, its public view now) and its public content changed.
pub fn after_edit(
    conn: &mut DbConnection,
    before: Option<BeforeEdit>,
    after: Option<&PublicArticle>,
) -> Result<(), ApiError> {
    let (Some(BeforeEdit { subscribers, view: before }), Some(after)) = (before, after) else { return Ok(()) };
    let after = outbox::data_of(after)?;
    let previous = outbox::previous_values(before, &after, &INCIDENTAL);
    if previous.is_empty() {
        return Ok(());
    }
    outbox::record(conn, EventType::ArticleUpdated, json!({"article": after, "previous": previous}), &subscribers)?;
    Ok(())
}

/// After `publish` (with `published_at` now set) or `unpublish`: `article.published` when it is
/// public and that was not announced yet (also a scheduled article published again after its time
/// came but before the sweep saw it), `article.scheduled` when its time is to come,
/// `article.unpublished` when a published or scheduled article went back to draft; and whether
/// its publication is announced.
pub fn after_publication(
    conn: &mut DbConnection,
    id: i64,
    was_announced: bool,
    was_published: bool,
) -> Result<(), ApiError> {
    let (status, published_at): (String, Option<NaiveDateTime>) =
        articles::table.find(id).select((articles::status, articles::published_at)).first(conn)?;
    let now = db::now();
    let published = status == db::visibility::STATUS_PUBLISHED;
    let public = published && published_at.is_some_and(|at| at <= now);
    diesel::update(articles::table.find(id)).set(articles::publication_announced.eq(public)).execute(conn)?;
    if public {
        diesel::update(articles::table.find(id))
            .set(articles::public_slug.eq(articles::slug.nullable()))
            .execute(conn)?;
    }
    if public && !was_announced {
        outbox::announce(conn, EventType::ArticlePublished, |conn| published_data(conn, id))?;
    } else if published && !public {
        // Its id only: neither its slug nor its time is public before that time.
        outbox::announce(conn, EventType::ArticleScheduled, |conn| reference(conn, id))?;
    } else if !published && was_published {
        // Unpublishing keeps the publication time: the article was public if that time had come.
        outbox::announce(conn, EventType::ArticleUnpublished, |conn| reference_as(conn, id, true, published_at))?;
    }
    Ok(())
}

fn published_data(conn: &mut DbConnection, id: i64) -> Result<Value, ApiError> {
    Ok(json!({"article": public_view(conn, id)?}))
}

/// After an article went into the trash or came out of it.
pub fn after_trash(conn: &mut DbConnection, id: i64, trashed: bool) -> Result<(), ApiError> {
    if trashed {
        return outbox::announce(conn, EventType::ArticleTrashed, |conn| reference(conn, id));
    }
    outbox::announce(conn, EventType::ArticleRestored, |conn| match public_view(conn, id)? {
        Some(view) => Ok(json!({"article": view})),
        None => reference(conn, id),
    })
}

/// Before an article is deleted for good: what `article.deleted` will say, when someone wants it.
pub fn before_delete(conn: &mut DbConnection, id: i64) -> Result<(), ApiError> {
    outbox::announce(conn, EventType::ArticleDeleted, |conn| reference(conn, id))
}

/// Most scheduled publications announced in one transaction; the rest wait for the next round.
pub const DUE_BATCH: usize = 100;

/// Sends `article.published` for every article whose scheduled time has come and that has not
/// been announced: each once, on one node (PostgreSQL: rows locked with `SKIP LOCKED`, so other
/// nodes take the next ones), also for times that passed while no node ran. Returns how many.
pub fn announce_due(conn: &mut DbConnection) -> Result<usize, ApiError> {
    let now = db::now();
    let due = || {
        articles::table
            .filter(is_public(now))
            .filter(articles::publication_announced.eq(false))
            .order(articles::published_at)
            .limit(DUE_BATCH as i64)
            .select(articles::id)
    };
    // Looked for first without a transaction (see `webhooks::claims::claim`): usually nothing is due.
    if !diesel::select(diesel::dsl::exists(due())).get_result::<bool>(conn)? {
        return Ok(0);
    }
    bookkeeping_transaction(conn, |conn| {
        let due = due();
        let ids: Vec<i64> = match conn {
            DbConnection::Postgres(pg) => due.for_update().skip_locked().load(pg)?,
            DbConnection::Sqlite(sqlite) => due.load(sqlite)?,
        };
        for &id in &ids {
            diesel::update(articles::table.find(id))
                .set((articles::publication_announced.eq(true), articles::public_slug.eq(articles::slug.nullable())))
                .execute(conn)?;
            outbox::announce(conn, EventType::ArticlePublished, |conn| published_data(conn, id))?;
        }
        Ok(ids.len())
    })
}
