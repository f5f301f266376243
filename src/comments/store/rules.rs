//! What every comment query shares: which comments show, the lock of a thread, and the
//! articles' record of when their comments changed.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::dsl::exists;
use diesel::prelude::*;

use crate::comments::model::{AdminComment, CommentArticle, CommentRow, CommentStatus};
use crate::db::DbConnection;
use crate::error::ApiError;
use crate::schema::{articles, comments};

/// Shown in public threads: approved, and not removed (removed ones appear only as placeholders
/// of their replies).
#[diesel::dsl::auto_type(no_type_alias)]
pub(super) fn is_visible() -> _ {
    let approved: &'static str = CommentStatus::Approved.as_str();
    comments::status.eq(approved)
}

/// Records that these articles' public comments changed (see `articles.comments_changed_at`), and
/// that this is all the public sees of the write (`db::touched_articles`).
pub(super) fn comments_changed(
    conn: &mut DbConnection,
    article_ids: &[i64],
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    crate::db::touched_articles(article_ids);
    diesel::update(articles::table.filter(articles::id.eq_any(article_ids)))
        .set(articles::comments_changed_at.eq(now))
        .execute(conn)?;
    Ok(())
}

/// The lock that serialises replies and removals within one article's thread.
pub(super) fn thread_key(article_id: i64) -> String {
    format!("comment-thread:{article_id}")
}

pub(super) fn has_replies(conn: &mut DbConnection, id: i64) -> Result<bool, ApiError> {
    Ok(diesel::select(exists(comments::table.filter(comments::parent_id.eq(id)))).get_result(conn)?)
}

/// Each comment with the article it belongs to, loaded for all at once.
pub(super) fn with_articles(conn: &mut DbConnection, rows: Vec<CommentRow>) -> Result<Vec<AdminComment>, ApiError> {
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
