//! What every comment query shares: which comments show, the lock of a thread, and the
//! articles' record of when their comments changed.

use chrono::NaiveDateTime;
use diesel::dsl::exists;
use diesel::prelude::*;

use crate::comments::model::CommentStatus;
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

/// Records that these articles' public comments changed (see `articles.comments_changed_at`).
pub(super) fn comments_changed(
    conn: &mut DbConnection,
    article_ids: &[i64],
    now: NaiveDateTime,
) -> Result<(), ApiError> {
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
