//! Public reads: the threads of an article and comment counts, approved comments only.

use std::collections::{HashMap, HashSet};

use diesel::dsl::{count_star, exists};
use diesel::prelude::*;
use diesel::sql_types::Bool;

use super::rules::is_visible;
use crate::comments::model::{CommentRow, CommentStatus, PublicComment};
use crate::db::{DbBackend, DbConnection};
use crate::error::ApiError;
use crate::pagination::PageRequest;
use crate::schema::comments;

/// Deepest thread level ever loaded, whatever the setting was when replies were posted.
const MAX_LEVELS: usize = 10;

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
pub(super) fn nest(row: CommentRow, replies: &mut HashMap<i64, Vec<CommentRow>>) -> PublicComment {
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
pub(super) fn placeholders(conn: &mut DbConnection, article_id: i64) -> Result<HashSet<i64>, ApiError> {
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
