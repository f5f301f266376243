//! What article rows are joined with: the subqueries that filter by tag or byline, and the
//! bylines, tags and comment counts that views embed, loaded for a whole page at once.

use diesel::prelude::*;

use crate::articles::model::{ArticleRow, SummaryRow};
use crate::articles::views::Embeds;
use crate::authors::store::bylines_for;
use crate::comments::store as comment_store;
use crate::db::DbConnection;
use crate::error::ApiError;
use crate::schema::{article_authors, article_tags, tags};
use crate::tags::store as tag_store;

/// Ids of the articles with this tag (a slug), as a subquery.
#[diesel::dsl::auto_type(no_type_alias)]
pub(super) fn with_tag(tag: String) -> _ {
    article_tags::table.inner_join(tags::table).filter(tags::slug.eq(tag)).select(article_tags::article_id)
}

/// Ids of the articles with this author (an id) on the byline, as a subquery.
#[diesel::dsl::auto_type(no_type_alias)]
pub(super) fn with_author(author_id: i64) -> _ {
    article_authors::table.filter(article_authors::author_id.eq(author_id)).select(article_authors::article_id)
}

/// Ids of the articles with any of these tags (slugs), as a subquery.
#[diesel::dsl::auto_type(no_type_alias)]
pub(super) fn with_any_tag(tags: Vec<String>) -> _ {
    article_tags::table.inner_join(tags::table).filter(tags::slug.eq_any(tags)).select(article_tags::article_id)
}

/// Rows of articles, each turned into a view with its bylines, tags and comment count, loaded for
/// all at once (three queries whatever the number of rows).
pub(super) fn with_embeds<R: HasId, V>(
    conn: &mut DbConnection,
    rows: Vec<R>,
    mut view: impl FnMut(R, Embeds) -> V,
) -> Result<Vec<V>, ApiError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = rows.iter().map(HasId::id).collect();
    let mut bylines = bylines_for(conn, &ids)?;
    let mut tags = tag_store::tags_for(conn, &ids)?;
    let comment_counts = comment_store::counts_for(conn, &ids)?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let id = row.id();
            let embeds = Embeds {
                bylines: bylines.remove(&id).unwrap_or_default(),
                tags: tags.remove(&id).unwrap_or_default(),
                comment_count: comment_counts.get(&id).copied().unwrap_or(0),
            };
            view(row, embeds)
        })
        .collect())
}

/// Rows that embeds can be attached to.
pub(super) trait HasId {
    fn id(&self) -> i64;
}

impl HasId for ArticleRow {
    fn id(&self) -> i64 {
        self.id
    }
}

impl HasId for SummaryRow {
    fn id(&self) -> i64 {
        self.id
    }
}
