//! What comment writes tell webhooks, in the writes' own transactions: the comment as the
//! moderation queue shows it, without the commenter's e-mail address, and its article.

use diesel::prelude::*;
use serde_json::{Value, json};

use super::rules::with_articles;
use crate::comments::model::CommentRow;
use crate::db::DbConnection;
use crate::db::outbox::{self, EventType};
use crate::error::ApiError;
use crate::schema::comments;

/// Records `event` for each of the comments `ids` (they must exist), when someone wants it.
pub fn announce(conn: &mut DbConnection, event: EventType, ids: &[i64]) -> Result<(), ApiError> {
    let to = outbox::wanted(conn, event)?;
    if to.is_empty() {
        return Ok(());
    }
    let rows: Vec<CommentRow> =
        comments::table.filter(comments::id.eq_any(ids)).select(CommentRow::as_select()).load(conn)?;
    for comment in with_articles(conn, rows)? {
        let mut view = outbox::data_of(&comment)?;
        if let Value::Object(fields) = &mut view {
            fields.remove("author_email");
        }
        outbox::record(conn, event, json!({"comment": view}), &to)?;
    }
    Ok(())
}
