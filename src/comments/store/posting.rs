//! Posting a comment: the article it is for, the abuse checks, and the write.

use chrono::{Duration, NaiveDateTime};
use diesel::dsl::exists;
use diesel::prelude::*;

use super::rules::{comments_changed, is_visible, thread_key};
use crate::comments::model::{CommentRow, CommentStatus, NewComment};
use crate::db::visibility::is_public;
use crate::db::{self, DbConnection, bookkeeping_transaction};
use crate::error::ApiError;
use crate::schema::{articles, authors, comments};
use crate::settings::CommentSettings;

/// The window of the per-address rate limit.
const RATE_WINDOW_SECONDS: i64 = 60;

/// An article open to the public, as comments need it.
pub struct CommentTarget {
    pub id: i64,
    comments_enabled: bool,
    published_at: Option<NaiveDateTime>,
}

impl CommentTarget {
    /// When comments close (or closed) under the configured rule; `None`: they do not close.
    pub fn closes_at(&self, settings: &CommentSettings) -> Option<NaiveDateTime> {
        Some(self.published_at? + Duration::days(settings.close_after_days?))
    }
}

/// The public article with this slug, or `None` (drafts, scheduled and trashed articles included).
pub fn find_target(conn: &mut DbConnection, now: NaiveDateTime, slug: &str) -> Result<Option<CommentTarget>, ApiError> {
    if !crate::slugs::is_valid_slug(slug) {
        return Ok(None);
    }
    let found = articles::table
        .filter(is_public(now))
        .filter(articles::slug.eq(slug))
        .select((articles::id, articles::comments_enabled, articles::published_at))
        .first::<(i64, bool, Option<NaiveDateTime>)>(conn)
        .optional()?;
    Ok(found.map(|(id, comments_enabled, published_at)| CommentTarget { id, comments_enabled, published_at }))
}

/// Who posts a comment.
pub enum Poster {
    /// A reader, known by a keyed hash of their address (the address itself is never stored).
    Reader { client_hash: String },
    /// A signed-in member of staff: the comment is theirs and approved at once.
    Staff { author_id: i64 },
}

/// A comment checked and rendered, ready to store.
pub struct Submission {
    pub author_name: String,
    pub author_email: String,
    pub body: String,
    pub body_html: String,
    pub parent_id: Option<i64>,
    /// Why the abuse rules took it for spam, if they did.
    pub spam_reason: Option<&'static str>,
}

fn article_not_found() -> ApiError {
    ApiError::NotFound("no published article has this slug".into())
}

/// Stores a comment on the public article `slug`, deciding its status: the checks that depend on
/// stored data (open for comments, rate limit, parent, returning commenter) run in the same
/// transaction as the insert, so concurrent posts cannot slip past them.
pub fn post(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    slug: &str,
    poster: Poster,
    mut submission: Submission,
    settings: &CommentSettings,
) -> Result<CommentRow, ApiError> {
    bookkeeping_transaction(conn, |conn| {
        let target = find_target(conn, now, slug)?.ok_or_else(article_not_found)?;
        if !target.comments_enabled {
            return Err(ApiError::Forbidden("comments are closed on this article".into()));
        }
        if let Some(closed) = target.closes_at(settings).filter(|closed| *closed <= now) {
            return Err(ApiError::Forbidden(format!(
                "comments on this article closed on {}",
                closed.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            )));
        }
        let (author_id, client_hash) = match &poster {
            Poster::Reader { client_hash } => {
                check_rate(conn, client_hash, now, settings.per_minute)?;
                (None, Some(client_hash.as_str()))
            }
            Poster::Staff { author_id } => {
                let (name, email): (String, Option<String>) =
                    authors::table.find(author_id).select((authors::name, authors::email)).first(conn)?;
                submission.author_name = name;
                submission.author_email = email.unwrap_or_default();
                (Some(*author_id), None)
            }
        };
        if let Some(parent_id) = submission.parent_id {
            // Serialised with removals in this thread, so the parent cannot vanish before the insert.
            db::lock_key(conn, &thread_key(target.id))?;
            check_parent(conn, target.id, parent_id, settings.max_depth)?;
        }
        let status = match poster {
            Poster::Staff { .. } => CommentStatus::Approved,
            Poster::Reader { .. } if submission.spam_reason.is_some() => CommentStatus::Spam,
            Poster::Reader { .. } if settings.auto_approve => CommentStatus::Approved,
            Poster::Reader { .. }
                if settings.trust_approved_emails && has_approved_comment(conn, &submission.author_email)? =>
            {
                CommentStatus::Approved
            }
            Poster::Reader { .. } => CommentStatus::Pending,
        };
        let id = diesel::insert_into(comments::table)
            .values(NewComment {
                article_id: target.id,
                parent_id: submission.parent_id,
                author_name: &submission.author_name,
                author_email: &submission.author_email,
                author_id,
                body: &submission.body,
                body_html: &submission.body_html,
                status: status.as_str(),
                client_hash,
                created_at: now,
                updated_at: now,
            })
            .returning(comments::id)
            .get_result::<i64>(conn)?;
        let row = comments::table.find(id).select(CommentRow::as_select()).first(conn)?;
        // Spam is kept for moderators to review, not announced.
        if status != CommentStatus::Spam {
            super::announcements::announce(conn, crate::db::outbox::EventType::CommentCreated, &[id])?;
        }
        // Held comments are not public: only an approval at once changes what readers see.
        if status == CommentStatus::Approved {
            comments_changed(conn, &[target.id], now)?;
        }
        if let Some(reason) = submission.spam_reason {
            tracing::info!(comment = row.id, reason, "comment held as spam");
        }
        Ok(row)
    })
}

/// 429 when this client posted `per_minute` comments within the last minute; `Retry-After` is
/// when the oldest of them leaves the window. The count is of stored comments, so every node sees
/// the same; the key is locked first, so concurrent posts from one client are counted in turn.
fn check_rate(conn: &mut DbConnection, client_hash: &str, now: NaiveDateTime, per_minute: i64) -> Result<(), ApiError> {
    db::lock_key(conn, &format!("comments:{client_hash}"))?;
    let window = Duration::seconds(RATE_WINDOW_SECONDS);
    let recent: Vec<NaiveDateTime> = comments::table
        .filter(comments::client_hash.eq(client_hash))
        .filter(comments::created_at.gt(now - window))
        .order(comments::created_at.asc())
        .select(comments::created_at)
        .load(conn)?;
    if recent.len() as i64 >= per_minute {
        // Room for one more once all but `per_minute - 1` of them have left the window.
        let leaving = recent.len() - per_minute as usize;
        let retry_after = recent.get(leaving).map_or(window, |at| *at + window - now);
        return Err(ApiError::TooManyRequests {
            limit: crate::error::Limit::CommentRate,
            detail: format!("at most {per_minute} comments a minute from one address; wait before posting again"),
            retry_after_seconds: retry_after.num_seconds().max(1) as u64,
        });
    }
    Ok(())
}

/// A reply's parent must be a visible comment of the same article, not already at the deepest
/// level threads may reach.
fn check_parent(conn: &mut DbConnection, article_id: i64, parent_id: i64, max_depth: usize) -> Result<(), ApiError> {
    let unknown = || ApiError::NotFound(format!("`parent_id`: no approved comment {parent_id} on this article"));
    let parent: Option<Option<i64>> = comments::table
        .find(parent_id)
        .filter(comments::article_id.eq(article_id))
        .filter(is_visible())
        .filter(comments::removed_at.is_null())
        .select(comments::parent_id)
        .first(conn)
        .optional()?;
    let mut above = parent.ok_or_else(unknown)?;
    let mut depth = 1;
    while let Some(id) = above {
        depth += 1;
        if depth >= max_depth {
            break;
        }
        above = comments::table.find(id).select(comments::parent_id).first(conn).optional()?.flatten();
    }
    if depth >= max_depth {
        // Well-formed, but this thread has no room below that comment: a conflict with its state.
        return Err(ApiError::Conflict(format!(
            "`parent_id`: replies nest at most {max_depth} levels deep; reply to a comment higher up the thread"
        )));
    }
    Ok(())
}

/// Whether this e-mail (compared case-insensitively) already has an approved reader's comment.
/// Staff comments do not count: a reader typing an editor's (guessable) address must not pass.
fn has_approved_comment(conn: &mut DbConnection, email: &str) -> Result<bool, ApiError> {
    let approved = comments::table
        .filter(comments::author_email.eq(email.trim().to_lowercase()))
        .filter(comments::author_id.is_null())
        .filter(is_visible())
        .filter(comments::removed_at.is_null());
    Ok(diesel::select(exists(approved)).get_result(conn)?)
}
