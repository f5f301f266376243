//! The moderation queue: editors list, approve, reject and remove comments.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::announcements::announce;
use super::rules::{comments_changed, has_replies, thread_key, with_articles};
use crate::comments::model::{AdminComment, CommentRow, CommentStatus};
use crate::db::outbox::EventType;
use crate::db::{self, DbBackend, DbConnection, articles_write_transaction, contains_pattern, lower};
use crate::error::ApiError;
use crate::pagination::PageRequest;
use crate::schema::{article_authors, comments};

/// Filters of the moderation queue.
#[derive(Debug, Clone, Default)]
pub struct AdminCommentFilter {
    pub status: Option<CommentStatus>,
    /// An article id.
    pub article: Option<i64>,
    /// Words in the body, the name or the e-mail, case-insensitive.
    pub text: Option<String>,
    /// Only comments on articles with this author on the byline (authors and contributors).
    pub byline: Option<i64>,
}

fn admin_comments(filter: &AdminCommentFilter) -> comments::BoxedQuery<'static, DbBackend> {
    let mut query = comments::table.filter(comments::removed_at.is_null()).into_boxed();
    if let Some(status) = filter.status {
        query = query.filter(comments::status.eq(status.as_str()));
    }
    if let Some(article) = filter.article {
        query = query.filter(comments::article_id.eq(article));
    }
    if let Some(author) = filter.byline {
        let theirs =
            article_authors::table.filter(article_authors::author_id.eq(author)).select(article_authors::article_id);
        query = query.filter(comments::article_id.eq_any(theirs));
    }
    if let Some(text) = &filter.text {
        let pattern = contains_pattern(text);
        query = query.filter(
            lower(comments::body)
                .like(pattern.clone())
                .escape('\\')
                .or(lower(comments::author_name).like(pattern.clone()).escape('\\'))
                .or(lower(comments::author_email).like(pattern).escape('\\')),
        );
    }
    query
}

/// The moderation queue, newest first.
pub fn list_admin(
    conn: &mut DbConnection,
    filter: &AdminCommentFilter,
    page: PageRequest,
) -> Result<(Vec<AdminComment>, i64), ApiError> {
    let total = admin_comments(filter).count().get_result(conn)?;
    let rows: Vec<CommentRow> = admin_comments(filter)
        .order((comments::created_at.desc(), comments::id.desc()))
        .limit(page.per_page)
        .offset(page.offset())
        .select(CommentRow::as_select())
        .load(conn)?;
    Ok((with_articles(conn, rows)?, total))
}

fn comment_not_found() -> ApiError {
    ApiError::NotFound("no comment has this id".into())
}

/// Sets the status of these (distinct) comments, all or none: an unknown (or removed) id is a 404
/// naming it, and nothing changes. Returns them in the order given.
pub fn moderate(
    conn: &mut DbConnection,
    ids: &[i64],
    status: CommentStatus,
    now: NaiveDateTime,
) -> Result<Vec<AdminComment>, ApiError> {
    articles_write_transaction(conn, |conn| {
        let moderated = || comments::table.filter(comments::id.eq_any(ids)).filter(comments::removed_at.is_null());
        // Webhooks hear only news: an approval of a comment not approved yet, a removal (rejected
        // or spam) of one that was pending or approved.
        let was: &[&str] = match status {
            CommentStatus::Approved => {
                &[CommentStatus::Pending.as_str(), CommentStatus::Spam.as_str(), CommentStatus::Rejected.as_str()]
            }
            CommentStatus::Rejected | CommentStatus::Spam => {
                &[CommentStatus::Pending.as_str(), CommentStatus::Approved.as_str()]
            }
            CommentStatus::Pending => &[],
        };
        let news: Vec<i64> = moderated().filter(comments::status.eq_any(was)).select(comments::id).load(conn)?;
        let updated = diesel::update(moderated())
            .set((comments::status.eq(status.as_str()), comments::updated_at.eq(now)))
            .execute(conn)?;
        let mut rows: Vec<CommentRow> = moderated().select(CommentRow::as_select()).load(conn)?;
        if updated != ids.len() || rows.len() != ids.len() {
            let found: Vec<i64> = rows.iter().map(|row| row.id).collect();
            let missing: Vec<String> = ids.iter().filter(|id| !found.contains(id)).map(i64::to_string).collect();
            return Err(match ids.len() {
                1 => comment_not_found(),
                _ => ApiError::NotFound(format!("no comment has the id {}; nothing was changed", missing.join(", "))),
            });
        }
        rows.sort_by_key(|row| ids.iter().position(|id| *id == row.id));
        let articles: Vec<i64> = rows.iter().map(|row| row.article_id).collect();
        comments_changed(conn, &articles, now)?;
        match status {
            CommentStatus::Approved => announce(conn, EventType::CommentApproved, &news)?,
            CommentStatus::Rejected | CommentStatus::Spam => announce(conn, EventType::CommentRemoved, &news)?,
            CommentStatus::Pending => {}
        }
        with_articles(conn, rows)
    })
}

/// Removes a comment for good. With replies, it stays as a placeholder (name, e-mail and text
/// wiped) so the thread under it holds together; without, the row goes, and so do placeholders
/// above it that no longer hold up any reply.
pub fn delete(conn: &mut DbConnection, id: i64, now: NaiveDateTime) -> Result<(), ApiError> {
    articles_write_transaction(conn, |conn| {
        let (parent, article_id): (Option<i64>, i64) = comments::table
            .find(id)
            .filter(comments::removed_at.is_null())
            .select((comments::parent_id, comments::article_id))
            .first(conn)
            .optional()?
            .ok_or_else(comment_not_found)?;
        db::lock_key(conn, &thread_key(article_id))?;
        comments_changed(conn, &[article_id], now)?;
        // Told before the row goes (or is wiped): the payload shows what was removed.
        announce(conn, EventType::CommentRemoved, &[id])?;
        if has_replies(conn, id)? {
            // The placeholder is approved whatever the comment was, so that its approved replies
            // show; it keeps nothing of its author.
            let approved: &'static str = CommentStatus::Approved.as_str();
            diesel::update(comments::table.find(id))
                .set((
                    comments::status.eq(approved),
                    comments::author_name.eq(""),
                    comments::author_email.eq(""),
                    comments::author_id.eq(None::<i64>),
                    comments::body.eq(""),
                    comments::body_html.eq(""),
                    comments::client_hash.eq(None::<String>),
                    comments::removed_at.eq(now),
                    comments::updated_at.eq(now),
                ))
                .execute(conn)?;
            return Ok(());
        }
        diesel::delete(comments::table.find(id)).execute(conn)?;
        let mut above = parent;
        while let Some(id) = above {
            let placeholder: Option<Option<i64>> = comments::table
                .find(id)
                .filter(comments::removed_at.is_not_null())
                .select(comments::parent_id)
                .first(conn)
                .optional()?;
            match placeholder {
                Some(parent) if !has_replies(conn, id)? => {
                    diesel::delete(comments::table.find(id)).execute(conn)?;
                    above = parent;
                }
                _ => break,
            }
        }
        Ok(())
    })
}

/// How many comments wait for a moderator (for the metrics); counted on `comments_status_idx`.
pub fn awaiting_moderation(conn: &mut DbConnection) -> Result<i64, ApiError> {
    Ok(comments::table.filter(comments::status.eq(CommentStatus::Pending.as_str())).count().get_result(conn)?)
}
