//! What article rows are joined with: the subqueries that filter by tag or byline, and the
//! bylines, tags, comment counts and cover images that views embed, loaded for a whole page at
//! once.

use diesel::prelude::*;

use crate::articles::model::{ArticleRow, SummaryRow};
use crate::articles::views::Embeds;
use crate::authors::store::bylines_for;
use crate::comments::store as comment_store;
use crate::db::DbConnection;
use crate::error::ApiError;
use crate::media::model::{CoverImage, MediaRow};
use crate::media_links::MediaLinks;
use crate::schema::{article_authors, article_tags, media, tags};
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

/// Rows of articles, each turned into a view with its bylines, tags, comment count and cover,
/// loaded for all at once (three queries whatever the number of rows, four with covers).
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
    let cover_ids: Vec<i64> = rows.iter().filter_map(HasId::cover_image_id).collect();
    let covers: std::collections::HashMap<i64, CoverImage> = if cover_ids.is_empty() {
        Default::default()
    } else {
        let found: Vec<MediaRow> =
            media::table.filter(media::id.eq_any(&cover_ids)).select(MediaRow::as_select()).load(conn)?;
        let links = MediaLinks::current();
        found.iter().map(|row| (row.id, CoverImage::new(&links, row))).collect()
    };
    Ok(rows
        .into_iter()
        .map(|row| {
            let id = row.id();
            let embeds = Embeds {
                bylines: bylines.remove(&id).unwrap_or_default(),
                tags: tags.remove(&id).unwrap_or_default(),
                comment_count: comment_counts.get(&id).copied().unwrap_or(0),
                cover: row.cover_image_id().and_then(|cover| covers.get(&cover).cloned()),
            };
            view(row, embeds)
        })
        .collect())
}

/// Rows that embeds can be attached to.
pub(super) trait HasId {
    fn id(&self) -> i64;
    fn cover_image_id(&self) -> Option<i64>;
}

impl HasId for ArticleRow {
    fn id(&self) -> i64 {
        self.id
    }

    fn cover_image_id(&self) -> Option<i64> {
        self.cover_image_id
    }
}

impl HasId for SummaryRow {
    fn id(&self) -> i64 {
        self.id
    }

    fn cover_image_id(&self) -> Option<i64> {
        self.cover_image_id
    }
}
