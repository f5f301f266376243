//! What clients see of an article: the public shapes (published content only, no internal state)
//! and the editor shapes (everything, drafts' Markdown included).

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::model::{ArticleRow, SummaryRow};
use crate::authors::model::{AuthorSummary, Byline};
use crate::db::visibility::STATUS_PUBLISHED;
use crate::markdown::reading_time_minutes;
use crate::media::model::CoverImage;
use crate::tags::model::PublicTag;

/// An article in a public list: everything but the body.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArticleSummary {
    /// Never sent (public views go by slug): what the server itself needs to name the article for
    /// good, such as the Atom feed's entry ids, which must survive a change of slug.
    #[serde(skip)]
    #[schema(ignore)]
    pub id: i64,
    #[schema(example = "hello-world-again")]
    pub slug: String,
    #[schema(example = "Hello, “world” — again")]
    pub title: String,
    /// The written excerpt, or the start of the first paragraph.
    pub excerpt: String,
    pub published_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub featured: bool,
    /// The cover from the media library, with its sizes (`null` without one).
    pub cover_image: Option<CoverImage>,
    /// A cover hosted elsewhere, as an editor typed its URL.
    pub cover_image_url: Option<String>,
    pub cover_image_alt: Option<String>,
    #[schema(example = 312)]
    pub word_count: i32,
    #[schema(example = 2)]
    pub reading_time_minutes: i32,
    /// The primary byline (the first of `authors`).
    pub author: Option<AuthorSummary>,
    /// Every byline, in order.
    pub authors: Vec<AuthorSummary>,
    pub tags: Vec<PublicTag>,
    /// Approved comments, replies included.
    #[schema(example = 4)]
    pub comment_count: i64,
    /// With `include=body` only: the body as sanitized HTML.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_html: Option<String>,
    /// With `fields=…,body_text` only: the body as plain text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_text: Option<String>,
}

/// A published article, with its body as sanitized HTML and its SEO fields.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicArticle {
    #[serde(flatten)]
    pub summary: ArticleSummary,
    /// Rendered from Markdown and sanitized: safe to insert into a page as is.
    #[schema(example = "<h1>Hello</h1>\n<p>This is <em>Markdown</em>.</p>\n")]
    pub body_html: String,
    /// The body as plain text (no markup), e.g. for search indexes or text-only clients.
    pub body_text: String,
    pub seo_title: Option<String>,
    pub seo_description: Option<String>,
    pub canonical_url: Option<String>,
    /// Whether the article takes comments at all (see also `comments_close_at`).
    pub comments_enabled: bool,
    /// When comments close, when the site closes them some days after publication; `null`: they
    /// stay open. Posting is open while `comments_enabled` and this time is not reached.
    pub comments_close_at: Option<DateTime<Utc>>,
}

/// What every article view gets besides its row, loaded for a whole page at once.
#[derive(Clone)]
pub struct Embeds {
    pub bylines: Vec<Byline>,
    pub tags: Vec<PublicTag>,
    /// Approved comments, replies included.
    pub comment_count: i64,
    /// The cover image from the media library.
    pub cover: Option<CoverImage>,
}

fn public_bylines(bylines: Vec<Byline>) -> Vec<AuthorSummary> {
    bylines.into_iter().map(|b| b.author).collect()
}

fn display_excerpt(written: &Option<String>, derived: &str) -> String {
    written.clone().unwrap_or_else(|| derived.to_string())
}

impl ArticleSummary {
    pub fn new(row: SummaryRow, embeds: Embeds) -> Self {
        let authors = public_bylines(embeds.bylines);
        Self {
            id: row.id,
            excerpt: row.excerpt.unwrap_or(row.derived_excerpt),
            slug: row.slug,
            title: row.title,
            published_at: row.published_at.unwrap_or(row.updated_at).and_utc(),
            updated_at: row.updated_at.and_utc(),
            featured: row.featured,
            cover_image: embeds.cover,
            cover_image_url: row.cover_image_url,
            cover_image_alt: row.cover_image_alt,
            word_count: row.word_count,
            reading_time_minutes: reading_time_minutes(row.word_count),
            author: authors.first().cloned(),
            authors,
            tags: embeds.tags,
            comment_count: embeds.comment_count,
            body_html: None,
            body_text: None,
        }
    }
}

impl PublicArticle {
    pub fn new(row: ArticleRow, embeds: Embeds) -> Self {
        let (summary_row, row) = row.split_summary();
        let summary = ArticleSummary::new(summary_row, embeds);
        Self {
            summary,
            body_html: row.body_html,
            body_text: row.body_text,
            seo_title: row.seo_title,
            seo_description: row.seo_description,
            canonical_url: row.canonical_url,
            comments_enabled: row.comments_enabled,
            comments_close_at: None,
        }
    }

    /// Sets `comments_close_at` from the site's rule (`MASTHEAD_COMMENTS_CLOSE_AFTER_DAYS`).
    pub fn with_comment_closing(mut self, close_after_days: Option<i64>) -> Self {
        self.comments_close_at = close_after_days.map(|days| self.summary.published_at + chrono::Duration::days(days));
        self
    }
}

/// Where an article stands in its lifecycle: draft → scheduled → published → (unpublished) draft;
/// any of them can be moved to the trash and restored from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ArticleState {
    Draft,
    /// Published with a `published_at` in the future: public from then on, by itself.
    Scheduled,
    Published,
    Trashed,
}

impl ArticleState {
    pub fn of(
        status: &str,
        published_at: Option<NaiveDateTime>,
        deleted_at: Option<NaiveDateTime>,
        now: NaiveDateTime,
    ) -> Self {
        match (deleted_at, status == STATUS_PUBLISHED, published_at) {
            (Some(_), _, _) => Self::Trashed,
            (None, false, _) => Self::Draft,
            (None, true, Some(at)) if at > now => Self::Scheduled,
            (None, true, _) => Self::Published,
        }
    }
}

/// An article as editors see it, drafts included.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminArticle {
    #[schema(example = 42)]
    pub id: i64,
    #[schema(example = "hello-world-again")]
    pub slug: String,
    pub title: String,
    pub status: ArticleState,
    /// The excerpt as written; `null` when it is derived from the body.
    pub excerpt: Option<String>,
    /// What readers get: the written excerpt or the start of the first paragraph.
    pub display_excerpt: String,
    pub body_markdown: String,
    pub body_html: String,
    pub word_count: i32,
    pub reading_time_minutes: i32,
    pub featured: bool,
    /// An image from the media library, and as the public sees it.
    pub cover_image_id: Option<i64>,
    pub cover_image: Option<CoverImage>,
    pub cover_image_url: Option<String>,
    pub cover_image_alt: Option<String>,
    pub seo_title: Option<String>,
    pub seo_description: Option<String>,
    pub canonical_url: Option<String>,
    /// Whether readers may comment.
    pub comments_enabled: bool,
    /// Approved comments, replies included.
    pub comment_count: i64,
    /// When it is (or was, or will be) public; kept through unpublishing.
    pub published_at: Option<DateTime<Utc>>,
    /// When it was moved to the trash.
    pub deleted_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Grows by one on every write; the `ETag` is `"v<version>"`. Send it back in `If-Match`.
    #[schema(example = 3)]
    pub version: i32,
    /// The byline, in order (the first is the primary author).
    pub authors: Vec<Byline>,
    pub tags: Vec<PublicTag>,
}

impl AdminArticle {
    pub fn new(row: ArticleRow, embeds: Embeds, now: NaiveDateTime) -> Self {
        Self {
            id: row.id,
            display_excerpt: display_excerpt(&row.excerpt, &row.derived_excerpt),
            status: ArticleState::of(&row.status, row.published_at, row.deleted_at, now),
            slug: row.slug,
            title: row.title,
            excerpt: row.excerpt,
            body_markdown: row.body_markdown,
            body_html: row.body_html,
            word_count: row.word_count,
            reading_time_minutes: reading_time_minutes(row.word_count),
            featured: row.featured,
            cover_image_id: row.cover_image_id,
            cover_image: embeds.cover,
            cover_image_url: row.cover_image_url,
            cover_image_alt: row.cover_image_alt,
            seo_title: row.seo_title,
            seo_description: row.seo_description,
            canonical_url: row.canonical_url,
            comments_enabled: row.comments_enabled,
            comment_count: embeds.comment_count,
            published_at: row.published_at.map(|t| t.and_utc()),
            deleted_at: row.deleted_at.map(|t| t.and_utc()),
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
            version: row.version,
            authors: embeds.bylines,
            tags: embeds.tags,
        }
    }
}

/// An article in the editors' list: no bodies.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminArticleSummary {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub status: ArticleState,
    pub display_excerpt: String,
    pub featured: bool,
    /// The cover from the media library, for thumbnails.
    pub cover_image: Option<CoverImage>,
    pub word_count: i32,
    pub published_at: Option<DateTime<Utc>>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
    /// Approved comments, replies included.
    pub comment_count: i64,
    pub authors: Vec<Byline>,
    pub tags: Vec<PublicTag>,
}

impl AdminArticleSummary {
    pub fn new(row: SummaryRow, embeds: Embeds, now: NaiveDateTime) -> Self {
        Self {
            id: row.id,
            display_excerpt: display_excerpt(&row.excerpt, &row.derived_excerpt),
            status: ArticleState::of(&row.status, row.published_at, row.deleted_at, now),
            slug: row.slug,
            title: row.title,
            featured: row.featured,
            cover_image: embeds.cover,
            word_count: row.word_count,
            published_at: row.published_at.map(|t| t.and_utc()),
            deleted_at: row.deleted_at.map(|t| t.and_utc()),
            updated_at: row.updated_at.and_utc(),
            version: row.version,
            comment_count: embeds.comment_count,
            authors: embeds.bylines,
            tags: embeds.tags,
        }
    }
}

/// Who made a revision.
#[derive(Debug, Serialize, ToSchema)]
pub struct RevisionEditor {
    pub id: i64,
    pub name: String,
}

/// One entry of an article's history.
#[derive(Debug, Serialize, ToSchema)]
pub struct RevisionSummary {
    /// 1 for the creation, then one more for every change of content.
    #[schema(example = 2)]
    pub number: i32,
    pub created_at: DateTime<Utc>,
    /// `null` when the editor's account no longer exists.
    pub editor: Option<RevisionEditor>,
    /// The fields this revision changed: `title`, `excerpt`, `body_markdown`, `tags`, `authors`.
    #[schema(example = json!(["title", "tags"]))]
    pub changes: Vec<String>,
    /// Why the revision exists beyond an edit: `created`, `restored from revision 3`.
    pub note: Option<String>,
    pub title: String,
}

/// A revision with the content it recorded.
#[derive(Debug, Serialize, ToSchema)]
pub struct Revision {
    #[serde(flatten)]
    pub summary: RevisionSummary,
    pub excerpt: Option<String>,
    pub body_markdown: String,
    /// Tag names, in order.
    pub tags: Vec<String>,
    /// Author ids of the byline, in order.
    pub authors: Vec<i64>,
}
