//! Comment queries and writes. Public reads go through [`is_visible`]: approved comments on public
//! articles. Every write is one transaction.

use std::collections::{HashMap, HashSet};

use chrono::{Duration, NaiveDateTime};
use diesel::dsl::{count_star, exists};
use diesel::prelude::*;
use diesel::sql_types::Bool;

use super::model::{AdminComment, CommentArticle, CommentRow, CommentStatus, NewComment, PublicComment};
use crate::db::visibility::is_public;
use crate::db::{self, DbBackend, DbConnection, bookkeeping_transaction, contains_pattern, lower, write_transaction};
use crate::error::ApiError;
use crate::pagination::PageRequest;
use crate::schema::{article_authors, articles, authors, comments};
use crate::settings::CommentSettings;

/// The window of the per-address rate limit.
const RATE_WINDOW_SECONDS: i64 = 60;
/// Deepest thread level ever loaded, whatever the setting was when replies were posted.
const MAX_LEVELS: usize = 10;

/// Shown in public threads: approved, and not removed (removed ones appear only as placeholders
/// of their replies).
#[diesel::dsl::auto_type(no_type_alias)]
fn is_visible() -> _ {
    let approved: &'static str = CommentStatus::Approved.as_str();
    comments::status.eq(approved)
}

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
        // Held comments are not public: only an approval at once changes what readers see.
        if status == CommentStatus::Approved {
            db::mark_public_change();
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

/// A page of an article's public thread: top-level comments (oldest first, or newest first), each
/// with its replies under it, oldest first. One query per thread level. A comment shows for
/// itself when approved and not removed; one that does not but holds up a reply that shows is a
/// placeholder (see [`placeholders`]), so `meta.total` and `comment_count` count what is shown.
pub fn thread(
    conn: &mut DbConnection,
    article_id: i64,
    page: PageRequest,
    newest_first: bool,
) -> Result<(Vec<PublicComment>, i64), ApiError> {
    let placeholders: Vec<i64> = placeholders(conn, article_id)?.into_iter().collect();
    let shown = || -> Box<dyn BoxableExpression<comments::table, DbBackend, SqlType = Bool>> {
        if placeholders.is_empty() {
            Box::new(shows_for_itself())
        } else {
            Box::new(shows_for_itself().or(comments::id.eq_any(placeholders.clone())))
        }
    };
    let top_level = || {
        comments::table
            .filter(comments::article_id.eq(article_id))
            .filter(comments::parent_id.is_null())
            .filter(shown())
            .into_boxed::<DbBackend>()
    };
    let total = top_level().count().get_result(conn)?;
    let ordered = if newest_first {
        top_level().order((comments::created_at.desc(), comments::id.desc()))
    } else {
        top_level().order((comments::created_at.asc(), comments::id.asc()))
    };
    let roots: Vec<CommentRow> =
        ordered.limit(page.per_page).offset(page.offset()).select(CommentRow::as_select()).load(conn)?;
    // Replies by parent, level by level.
    let mut replies: HashMap<i64, Vec<CommentRow>> = HashMap::new();
    let mut level: Vec<i64> = roots.iter().map(|c| c.id).collect();
    for _ in 0..MAX_LEVELS {
        if level.is_empty() {
            break;
        }
        let mut children: Vec<CommentRow> = Vec::new();
        // In chunks: SQLite binds each id of `IN (…)` as its own parameter, and has a limit.
        for parents in level.chunks(10_000) {
            children.extend(
                comments::table
                    .filter(comments::parent_id.eq_any(parents))
                    .filter(shown())
                    .order((comments::created_at.asc(), comments::id.asc()))
                    .select(CommentRow::as_select())
                    .load::<CommentRow>(conn)?,
            );
        }
        level = children.iter().map(|c| c.id).collect();
        for child in children {
            replies.entry(child.parent_id.unwrap_or_default()).or_default().push(child);
        }
    }
    let items = roots.into_iter().map(|root| nest(root, &mut replies)).collect();
    Ok((items, total))
}

/// A comment with its replies under it.
fn nest(row: CommentRow, replies: &mut HashMap<i64, Vec<CommentRow>>) -> PublicComment {
    let children = replies.remove(&row.id).unwrap_or_default();
    let mut comment = PublicComment::new(row);
    comment.replies = children.into_iter().map(|child| nest(child, replies)).collect();
    comment
}

/// Shown in a public thread for itself: approved and not removed.
#[diesel::dsl::auto_type(no_type_alias)]
fn shows_for_itself() -> _ {
    let approved: &'static str = CommentStatus::Approved.as_str();
    comments::status.eq(approved).and(comments::removed_at.is_null())
}

/// The comments of an article that do not show for themselves (removed, or moderated away after
/// they were answered) but hold up, at any depth, a reply that does: the thread keeps them as
/// placeholders so that every approved comment has its place. Usually none; two small queries.
fn placeholders(conn: &mut DbConnection, article_id: i64) -> Result<HashSet<i64>, ApiError> {
    let answered = diesel::alias!(comments as answered);
    let hollow: HashMap<i64, Option<i64>> = comments::table
        .filter(comments::article_id.eq(article_id))
        .filter(diesel::dsl::not(shows_for_itself()))
        .filter(exists(answered.filter(answered.field(comments::parent_id).eq(comments::id.nullable()))))
        .select((comments::id, comments::parent_id))
        .load::<(i64, Option<i64>)>(conn)?
        .into_iter()
        .collect();
    if hollow.is_empty() {
        return Ok(HashSet::new());
    }
    let ids: Vec<i64> = hollow.keys().copied().collect();
    let mut shown = HashSet::new();
    for chunk in ids.chunks(10_000) {
        let parents: Vec<Option<i64>> = comments::table
            .filter(comments::parent_id.eq_any(chunk))
            .filter(shows_for_itself())
            .select(comments::parent_id)
            .distinct()
            .load(conn)?;
        shown.extend(parents.into_iter().flatten());
    }
    // Above a placeholder that shows, each placeholder up the chain shows too.
    let mut climbing: Vec<i64> = shown.iter().copied().collect();
    while let Some(id) = climbing.pop() {
        if let Some(Some(parent)) = hollow.get(&id)
            && hollow.contains_key(parent)
            && shown.insert(*parent)
        {
            climbing.push(*parent);
        }
    }
    Ok(shown)
}

/// Approved comments (replies included, removed ones not) of each of these articles.
pub fn counts_for(conn: &mut DbConnection, article_ids: &[i64]) -> Result<HashMap<i64, i64>, ApiError> {
    let counts: Vec<(i64, i64)> = comments::table
        .filter(comments::article_id.eq_any(article_ids))
        .filter(is_visible())
        .filter(comments::removed_at.is_null())
        .group_by(comments::article_id)
        .select((comments::article_id, count_star()))
        .load(conn)?;
    Ok(counts.into_iter().collect())
}

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

/// Each comment with the article it belongs to, loaded for all at once.
fn with_articles(conn: &mut DbConnection, rows: Vec<CommentRow>) -> Result<Vec<AdminComment>, ApiError> {
    let ids: Vec<i64> = rows.iter().map(|row| row.article_id).collect();
    let titles: HashMap<i64, (String, String)> = articles::table
        .filter(articles::id.eq_any(ids))
        .select((articles::id, articles::slug, articles::title))
        .load::<(i64, String, String)>(conn)?
        .into_iter()
        .map(|(id, slug, title)| (id, (slug, title)))
        .collect();
    Ok(rows
        .into_iter()
        .map(|row| {
            let (slug, title) = titles.get(&row.article_id).cloned().unwrap_or_default();
            let article = CommentArticle { id: row.article_id, slug, title };
            AdminComment::new(row, article)
        })
        .collect())
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
    write_transaction(conn, |conn| {
        let moderated = || comments::table.filter(comments::id.eq_any(ids)).filter(comments::removed_at.is_null());
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
        with_articles(conn, rows)
    })
}

/// Removes a comment for good. With replies, it stays as a placeholder (name, e-mail and text
/// wiped) so the thread under it holds together; without, the row goes, and so do placeholders
/// above it that no longer hold up any reply.
pub fn delete(conn: &mut DbConnection, id: i64, now: NaiveDateTime) -> Result<(), ApiError> {
    write_transaction(conn, |conn| {
        let (parent, article_id): (Option<i64>, i64) = comments::table
            .find(id)
            .filter(comments::removed_at.is_null())
            .select((comments::parent_id, comments::article_id))
            .first(conn)
            .optional()?
            .ok_or_else(comment_not_found)?;
        db::lock_key(conn, &thread_key(article_id))?;
        comments_changed(conn, &[article_id], now)?;
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

/// Records that these articles' public comments changed (see `articles.comments_changed_at`).
fn comments_changed(conn: &mut DbConnection, article_ids: &[i64], now: NaiveDateTime) -> Result<(), ApiError> {
    diesel::update(articles::table.filter(articles::id.eq_any(article_ids)))
        .set(articles::comments_changed_at.eq(now))
        .execute(conn)?;
    Ok(())
}

/// The lock that serialises replies and removals within one article's thread.
fn thread_key(article_id: i64) -> String {
    format!("comment-thread:{article_id}")
}

fn has_replies(conn: &mut DbConnection, id: i64) -> Result<bool, ApiError> {
    Ok(diesel::select(exists(comments::table.filter(comments::parent_id.eq(id)))).get_result(conn)?)
}
