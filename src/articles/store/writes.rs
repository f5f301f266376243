//! Writes: each one transaction that leaves nothing half-done, checks the caller's `guard` inside
//! it, and records a revision when the content changed.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::announcements;
use super::editor::{access, in_trash, load_admin, load_admin_and_public, not_found};
use super::input::{Fields, Prepared};
use super::slugs::{check_slug_free, slug_conflict, slug_taken};
use crate::articles::model::NewArticle;
use crate::articles::policy::ArticleAccess;
use crate::articles::revisions;
use crate::articles::views::AdminArticle;
use crate::authors::store::existing_ids;
use crate::db::visibility::{STATUS_DRAFT, STATUS_PUBLISHED};
use crate::db::{self, DbConnection, articles_write_transaction};
use crate::error::{ApiError, Validator};
use crate::markdown::{Rendered, render};
use crate::redirects::store as redirect_store;
use crate::schema::{article_authors, articles};
use crate::slugs;
use crate::tags::store as tag_store;

/// Who is writing, for bylines, tag creation and the revision history.
#[derive(Debug, Clone, Copy)]
pub struct Writer {
    pub author_id: i64,
    pub may_create_tags: bool,
}

/// Locks the article, loads its access facts, runs the caller's guard (permissions, `If-Match`)
/// on them, and refuses the trash unless `allow_trashed`. What the public sees of the write is
/// this article (see `db::articles_write_transaction`): an article's write changes no author,
/// media or existing tag that other articles' pages show (the tags it creates are on no other
/// page yet).
fn guarded(
    conn: &mut DbConnection,
    id: i64,
    allow_trashed: bool,
    guard: impl FnOnce(&ArticleAccess) -> Result<(), ApiError>,
) -> Result<ArticleAccess, ApiError> {
    // Lock the row first (a no-op update): on PostgreSQL a concurrent writer now waits here and
    // then reads the version this transaction wrote, so If-Match cannot pass on a stale read.
    let locked = diesel::update(articles::table.find(id)).set(articles::version.eq(articles::version)).execute(conn)?;
    if locked == 0 {
        return Err(not_found());
    }
    db::touched_articles(&[id]);
    let access = access(conn, id)?;
    guard(&access)?;
    if access.trashed && !allow_trashed {
        return Err(in_trash());
    }
    Ok(access)
}

/// Replaces an article's byline with `author_ids`, in order; every id must be an author.
pub(super) fn set_bylines(conn: &mut DbConnection, article_id: i64, author_ids: &[i64]) -> Result<(), ApiError> {
    let existing = existing_ids(conn, author_ids)?;
    if let Some(missing) = author_ids.iter().find(|id| !existing.contains(id)) {
        // A reference to nothing: 404, like a path to nothing (the id itself is well-formed).
        return Err(ApiError::NotFound(format!("`authors`: no author has the id {missing}")));
    }
    diesel::delete(article_authors::table.filter(article_authors::article_id.eq(article_id))).execute(conn)?;
    for (position, author_id) in author_ids.iter().enumerate() {
        diesel::insert_into(article_authors::table)
            .values((
                article_authors::article_id.eq(article_id),
                article_authors::author_id.eq(*author_id),
                article_authors::position.eq(position as i32),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// A cover image named by id must be in the library: 404 otherwise, like a path to nothing.
pub(super) fn check_cover(conn: &mut DbConnection, id: Option<i64>) -> Result<(), ApiError> {
    let Some(id) = id else { return Ok(()) };
    let found = diesel::select(diesel::dsl::exists(crate::schema::media::table.find(id))).get_result::<bool>(conn)?;
    if !found {
        return Err(ApiError::NotFound(format!("`cover_image_id`: no image in the library has the id {id}")));
    }
    Ok(())
}

/// What a new article is made of: its row's content (rendered already), byline and tags.
pub struct ArticleContent<'a> {
    pub slug: &'a str,
    pub title: &'a str,
    pub excerpt: Option<&'a str>,
    pub body_markdown: &'a str,
    pub rendered: &'a Rendered,
    /// A draft when `None`; else published (scheduled when in the future).
    pub published_at: Option<NaiveDateTime>,
    pub featured: bool,
    pub cover_image_url: Option<&'a str>,
    pub cover_image_alt: Option<&'a str>,
    /// An image of the library (404 when there is none).
    pub cover_image_id: Option<i64>,
    pub seo_title: Option<&'a str>,
    pub seo_description: Option<&'a str>,
    pub canonical_url: Option<&'a str>,
    pub comments_enabled: bool,
    pub created_at: NaiveDateTime,
    /// Authors' ids in byline order; each must be an author (404 otherwise).
    pub authors: &'a [i64],
    pub tags: ArticleTags<'a>,
}

/// An article's tags, in order: ids already resolved, or checked names resolved after the row and
/// byline are written (created when `may_create`).
pub enum ArticleTags<'a> {
    Ids(&'a [i64]),
    Names { names: &'a [(String, String)], may_create: bool },
}

/// Writes a new article's row, byline and tags, in the caller's transaction: the one place an
/// article row is built, for the editors' create and the demo generator. `None` when the slug was
/// taken meanwhile (then nothing was written).
pub fn insert_article(conn: &mut DbConnection, article: &ArticleContent) -> Result<Option<i64>, ApiError> {
    let row = NewArticle {
        slug: article.slug,
        title: article.title,
        title_key: &slugs::sort_key(article.title),
        excerpt: article.excerpt,
        derived_excerpt: &article.rendered.derived_excerpt,
        body_markdown: article.body_markdown,
        body_html: &article.rendered.html,
        body_text: &article.rendered.text,
        status: if article.published_at.is_some() { STATUS_PUBLISHED } else { STATUS_DRAFT },
        published_at: article.published_at,
        featured: article.featured,
        cover_image_url: article.cover_image_url,
        cover_image_alt: article.cover_image_alt,
        cover_image_id: article.cover_image_id,
        seo_title: article.seo_title,
        seo_description: article.seo_description,
        canonical_url: article.canonical_url,
        comments_enabled: article.comments_enabled,
        word_count: article.rendered.word_count,
        version: 1,
        // A publication already reached is announced by the write (or by nobody: the demo).
        publication_announced: article.published_at.is_some_and(|at| at <= article.created_at),
        public_slug: article.published_at.is_some_and(|at| at <= article.created_at).then_some(article.slug),
        created_at: article.created_at,
        updated_at: article.created_at,
    };
    check_cover(conn, article.cover_image_id)?;
    let inserted = db::insert_unless_taken(conn, |conn| {
        diesel::insert_into(articles::table).values(&row).returning(articles::id).get_result::<i64>(conn)
    })?;
    let Some(id) = inserted else { return Ok(None) };
    set_bylines(conn, id, article.authors)?;
    let tag_ids = match article.tags {
        ArticleTags::Ids(ids) => ids.to_vec(),
        ArticleTags::Names { names, may_create } => tag_store::resolve(conn, names, may_create)?,
    };
    tag_store::set_for_article(conn, id, &tag_ids)?;
    Ok(Some(id))
}

/// How often a derived slug is chosen again after losing a race for it.
const SLUG_ATTEMPTS: usize = 5;

/// Creates a draft (the caller is the byline unless `authors` says otherwise) and records
/// revision 1; returns its id.
pub fn create(conn: &mut DbConnection, writer: Writer, prepared: Prepared) -> Result<i64, ApiError> {
    let Prepared { fields, rendered } = prepared;
    let title = fields.title.clone().unwrap_or_default();
    let body = fields.body_markdown.clone().unwrap_or_default();
    let rendered = rendered.unwrap_or_else(|| render(&body));
    let text = |value: &Option<Option<String>>| value.clone().flatten();
    articles_write_transaction(conn, |conn| {
        let now = db::now();
        let (excerpt, cover_url, cover_alt) =
            (text(&fields.excerpt), text(&fields.cover_image_url), text(&fields.cover_image_alt));
        let (seo_title, seo_description, canonical) =
            (text(&fields.seo_title), text(&fields.seo_description), text(&fields.canonical_url));
        let tag_names = fields.tags.clone().unwrap_or_default();
        let authors = fields.authors.clone().unwrap_or_else(|| vec![writer.author_id]);
        let mut attempts = 0;
        let id = loop {
            attempts += 1;
            let slug = match &fields.slug {
                Some(slug) => {
                    check_slug_free(conn, slug, None)?;
                    slug.clone()
                }
                None => {
                    let base = slugs::slugify(&title, "article");
                    db::lock_key(conn, &format!("articles.slug:{base}"))?;
                    slugs::unique_slug(&base, |s| slug_taken(conn, s, None))?
                }
            };
            let content = ArticleContent {
                slug: &slug,
                title: &title,
                excerpt: excerpt.as_deref(),
                body_markdown: &body,
                rendered: &rendered,
                published_at: None,
                featured: fields.featured.unwrap_or(false),
                cover_image_url: cover_url.as_deref(),
                cover_image_alt: cover_alt.as_deref(),
                cover_image_id: fields.cover_image_id.flatten(),
                seo_title: seo_title.as_deref(),
                seo_description: seo_description.as_deref(),
                canonical_url: canonical.as_deref(),
                comments_enabled: fields.comments_enabled.unwrap_or(true),
                created_at: now,
                authors: &authors,
                tags: ArticleTags::Names { names: &tag_names, may_create: writer.may_create_tags },
            };
            match insert_article(conn, &content)? {
                Some(id) => break id,
                // Taken between the check and the insert by a concurrent writer.
                None if fields.slug.is_some() => return Err(slug_conflict(&slug)),
                None if attempts < SLUG_ATTEMPTS => continue,
                None => return Err(ApiError::Conflict("could not find a free slug; retry".into())),
            }
        };
        revisions::record(conn, id, writer.author_id, Some("created".into()))?;
        db::touched_articles(&[id]);
        Ok(id)
    })
}

#[derive(AsChangeset)]
#[diesel(table_name = articles)]
struct ArticleChanges<'a> {
    title: Option<&'a str>,
    title_key: Option<String>,
    slug: Option<&'a str>,
    excerpt: Option<Option<&'a str>>,
    derived_excerpt: Option<&'a str>,
    body_markdown: Option<&'a str>,
    body_html: Option<&'a str>,
    body_text: Option<&'a str>,
    word_count: Option<i32>,
    featured: Option<bool>,
    cover_image_url: Option<Option<&'a str>>,
    cover_image_alt: Option<Option<&'a str>>,
    cover_image_id: Option<Option<i64>>,
    seo_title: Option<Option<&'a str>>,
    seo_description: Option<Option<&'a str>>,
    canonical_url: Option<Option<&'a str>>,
    comments_enabled: Option<bool>,
    updated_at: NaiveDateTime,
}

/// Applies an editor's changes after `guard` accepts the article as it is now, in the same
/// transaction; records a revision when title, excerpt, body, tags or authors changed. Returns
/// the article as editors now see it.
pub fn update(
    conn: &mut DbConnection,
    id: i64,
    writer: Writer,
    prepared: Prepared,
    guard: impl FnOnce(&ArticleAccess) -> Result<(), ApiError>,
) -> Result<AdminArticle, ApiError> {
    articles_write_transaction(conn, |conn| {
        guarded(conn, id, false, guard)?;
        if prepared.is_empty() {
            return load_admin(conn, id);
        }
        let fields = &prepared.fields;
        let before = announcements::before_edit(conn, id, fields.tags.is_some() || fields.authors.is_some())?;
        apply(conn, id, writer, fields, prepared.rendered.as_ref())?;
        revisions::record(conn, id, writer.author_id, None)?;
        if before.is_none() {
            // Nobody to tell: no public view to build.
            return load_admin(conn, id);
        }
        let (article, public) = load_admin_and_public(conn, id)?;
        announcements::after_edit(conn, before, public.as_ref())?;
        Ok(article)
    })
}

/// Writes checked fields to an article (shared by edits and revision restores).
fn apply(
    conn: &mut DbConnection,
    id: i64,
    writer: Writer,
    fields: &Fields,
    rendered: Option<&Rendered>,
) -> Result<(), ApiError> {
    if let Some(slug) = &fields.slug {
        check_slug_free(conn, slug, Some(id))?;
        let now = db::now();
        let (old, public_slug, public_now): (String, Option<String>, Option<bool>) = articles::table
            .find(id)
            .select((articles::slug, articles::public_slug, crate::db::visibility::is_public(now)))
            .first(conn)?;
        if old != *slug {
            // A slug readers saw lives on: it redirects here for good. One never shown (a
            // draft's, a scheduled article's) is not kept.
            let public_now = public_now == Some(true);
            let seen = public_now || public_slug.as_deref() == Some(old.as_str());
            redirect_store::slug_changed(conn, id, &old, slug, seen, now)?;
            if public_now {
                diesel::update(articles::table.find(id)).set(articles::public_slug.eq(slug)).execute(conn)?;
            }
        }
    }
    if let Some(cover) = fields.cover_image_id {
        check_cover(conn, cover)?;
    }
    fn text(value: &Option<Option<String>>) -> Option<Option<&str>> {
        value.as_ref().map(|v| v.as_deref())
    }
    let changes = ArticleChanges {
        title: fields.title.as_deref(),
        title_key: fields.title.as_deref().map(slugs::sort_key),
        slug: fields.slug.as_deref(),
        excerpt: text(&fields.excerpt),
        derived_excerpt: rendered.map(|r| r.derived_excerpt.as_str()),
        body_markdown: fields.body_markdown.as_deref(),
        body_html: rendered.map(|r| r.html.as_str()),
        body_text: rendered.map(|r| r.text.as_str()),
        word_count: rendered.map(|r| r.word_count),
        featured: fields.featured,
        cover_image_url: text(&fields.cover_image_url),
        cover_image_alt: text(&fields.cover_image_alt),
        cover_image_id: fields.cover_image_id,
        seo_title: text(&fields.seo_title),
        seo_description: text(&fields.seo_description),
        canonical_url: text(&fields.canonical_url),
        comments_enabled: fields.comments_enabled,
        updated_at: db::now(),
    };
    diesel::update(articles::table.find(id))
        .set((changes, articles::version.eq(articles::version + 1)))
        .execute(conn)?;
    if let Some(author_ids) = &fields.authors {
        set_bylines(conn, id, author_ids)?;
    }
    if let Some(tags) = &fields.tags {
        let tag_ids = tag_store::resolve(conn, tags, writer.may_create_tags)?;
        tag_store::set_for_article(conn, id, &tag_ids)?;
    }
    Ok(())
}

/// What `POST …/publish` and `…/unpublish` ask for.
#[derive(Debug, Clone, Copy)]
pub enum Publication {
    /// Public at this time (scheduled when in the future); `None`: now, or the first publication
    /// time when it is already past (republishing keeps an article's place in the list).
    Publish(Option<NaiveDateTime>),
    Unpublish,
}

pub fn set_publication(
    conn: &mut DbConnection,
    id: i64,
    publication: Publication,
    guard: impl FnOnce(&ArticleAccess) -> Result<(), ApiError>,
) -> Result<(), ApiError> {
    articles_write_transaction(conn, |conn| {
        let access = guarded(conn, id, false, guard)?;
        let now = db::now();
        let (current, was_announced): (Option<NaiveDateTime>, bool) =
            articles::table.find(id).select((articles::published_at, articles::publication_announced)).first(conn)?;
        let was_published = access.status == STATUS_PUBLISHED;
        let (status, published_at) = match publication {
            Publication::Publish(Some(at)) => (STATUS_PUBLISHED, Some(at)),
            Publication::Publish(None) => (STATUS_PUBLISHED, Some(current.filter(|at| *at <= now).unwrap_or(now))),
            Publication::Unpublish => (STATUS_DRAFT, current),
        };
        diesel::update(articles::table.find(id))
            .set((
                articles::status.eq(status),
                articles::published_at.eq(published_at),
                articles::updated_at.eq(now),
                articles::version.eq(articles::version + 1),
            ))
            .execute(conn)?;
        announcements::after_publication(conn, id, was_announced, was_published)
    })
}

/// Moves an article to the trash (`true`) or back out of it (`false`). Idempotent.
pub fn set_trashed(
    conn: &mut DbConnection,
    id: i64,
    trashed: bool,
    guard: impl FnOnce(&ArticleAccess) -> Result<(), ApiError>,
) -> Result<(), ApiError> {
    articles_write_transaction(conn, |conn| {
        let access = guarded(conn, id, true, guard)?;
        if access.trashed == trashed {
            return Ok(());
        }
        let now = db::now();
        diesel::update(articles::table.find(id))
            .set((
                articles::deleted_at.eq(trashed.then_some(now)),
                articles::updated_at.eq(now),
                articles::version.eq(articles::version + 1),
            ))
            .execute(conn)?;
        announcements::after_trash(conn, id, trashed)
    })
}

/// Deletes an article for good, with its bylines, tags, revisions and comments.
pub fn delete_permanently(
    conn: &mut DbConnection,
    id: i64,
    guard: impl FnOnce(&ArticleAccess) -> Result<(), ApiError>,
) -> Result<(), ApiError> {
    articles_write_transaction(conn, |conn| {
        guarded(conn, id, true, guard)?;
        announcements::before_delete(conn, id)?;
        diesel::delete(articles::table.find(id)).execute(conn)?;
        Ok(())
    })
}

/// Brings back the content of revision `number` (title, excerpt, body, tags, authors) as a new
/// revision; nothing in the history is overwritten.
pub fn restore_revision(
    conn: &mut DbConnection,
    id: i64,
    number: i32,
    writer: Writer,
    guard: impl FnOnce(&ArticleAccess) -> Result<(), ApiError>,
) -> Result<(), ApiError> {
    articles_write_transaction(conn, |conn| {
        guarded(conn, id, false, guard)?;
        let snapshot = revisions::snapshot_of(conn, id, number)?;
        let still_authors = existing_ids(conn, &snapshot.authors)?;
        let authors: Vec<i64> = snapshot.authors.iter().copied().filter(|a| still_authors.contains(a)).collect();
        let mut v = Validator::new();
        let tags = tag_store::check_tag_names(&snapshot.tags, &mut v)?;
        let fields = Fields {
            title: Some(snapshot.title),
            excerpt: Some(snapshot.excerpt),
            tags: Some(tags),
            authors: (!authors.is_empty()).then_some(authors),
            ..Fields::default()
        };
        let rendered = render(&snapshot.body_markdown);
        let fields = Fields { body_markdown: Some(snapshot.body_markdown), ..fields };
        let before = announcements::before_edit(conn, id, true)?;
        // Tags deleted since then come back: restoring history may recreate them.
        apply(conn, id, Writer { may_create_tags: true, ..writer }, &fields, Some(&rendered))?;
        revisions::record(conn, id, writer.author_id, Some(format!("restored from revision {number}")))?;
        let public = match before {
            Some(_) => load_admin_and_public(conn, id)?.1,
            None => None,
        };
        announcements::after_edit(conn, before, public.as_ref())
    })
}
