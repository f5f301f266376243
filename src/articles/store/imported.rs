//! Imported content written again: a post changed at its source since it was imported, and not
//! edited here since, takes its source's new content. Its slug stays (links to it keep working);
//! like every import, it announces nothing to webhooks.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::writes::{ArticleContent, ArticleTags, check_cover, set_bylines};
use crate::db::DbConnection;
use crate::db::visibility::{STATUS_DRAFT, STATUS_PUBLISHED};
use crate::error::ApiError;
use crate::schema::articles;
use crate::slugs;
use crate::tags::store as tag_store;

/// Replaces article `id`'s content, status, byline and tags with `content` (its slug and
/// creation time are not used), in the caller's transaction; in the trash when `trashed`.
pub fn replace_imported(
    conn: &mut DbConnection,
    id: i64,
    content: &ArticleContent,
    trashed: bool,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    check_cover(conn, content.cover_image_id)?;
    let (slug, announced): (String, bool) =
        articles::table.find(id).select((articles::slug, articles::publication_announced)).first(conn)?;
    // A publication already reached is not announced later (imports tell no webhook); one moved
    // to the future, or taken back, is announced when it comes (as `after_publication` does).
    let shown = !trashed && content.published_at.is_some_and(|at| at <= now);
    let announced = if trashed { announced } else { shown };
    let rendered = content.rendered;
    diesel::update(articles::table.find(id))
        .set((
            articles::title.eq(content.title),
            articles::title_key.eq(slugs::sort_key(content.title)),
            articles::excerpt.eq(content.excerpt),
            articles::derived_excerpt.eq(&rendered.derived_excerpt),
            articles::body_markdown.eq(content.body_markdown),
            articles::body_html.eq(&rendered.html),
            articles::body_text.eq(&rendered.text),
            articles::word_count.eq(rendered.word_count),
            articles::status.eq(if content.published_at.is_some() { STATUS_PUBLISHED } else { STATUS_DRAFT }),
            articles::published_at.eq(content.published_at),
            articles::deleted_at.eq(trashed.then_some(now)),
            articles::publication_announced.eq(announced),
        ))
        .execute(conn)?;
    diesel::update(articles::table.find(id))
        .set((
            articles::featured.eq(content.featured),
            articles::cover_image_url.eq(content.cover_image_url),
            articles::cover_image_alt.eq(content.cover_image_alt),
            articles::cover_image_id.eq(content.cover_image_id),
            articles::seo_title.eq(content.seo_title),
            articles::seo_description.eq(content.seo_description),
            articles::canonical_url.eq(content.canonical_url),
            articles::comments_enabled.eq(content.comments_enabled),
            articles::updated_at.eq(now),
            articles::version.eq(articles::version + 1),
        ))
        .execute(conn)?;
    if shown {
        diesel::update(articles::table.find(id)).set(articles::public_slug.eq(&slug)).execute(conn)?;
    }
    set_bylines(conn, id, content.authors)?;
    let tag_ids = match content.tags {
        ArticleTags::Ids(ids) => ids.to_vec(),
        ArticleTags::Names { names, may_create } => tag_store::resolve(conn, names, may_create)?,
    };
    tag_store::set_for_article(conn, id, &tag_ids)
}
