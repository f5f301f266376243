//! What clients see of an article: the public shapes (published content only, no internal state)
//! and the editor shape (everything, including drafts' Markdown).

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::model::{ArticleRow, STATUS_PUBLISHED, SummaryRow};
use super::render::reading_time_minutes;
use crate::authors::model::AuthorSummary;
use crate::tags::model::PublicTag;

/// An article in a public list: everything but the body.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArticleSummary {
    #[schema(example = "hello-world-again")]
    pub slug: String,
    #[schema(example = "Hello, “world” — again")]
    pub title: String,
    /// The written excerpt, or the start of the body.
    pub excerpt: String,
    pub published_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[schema(example = 312)]
    pub word_count: i32,
    #[schema(example = 2)]
    pub reading_time_minutes: i32,
    /// The primary byline (the first of `authors`).
    pub author: Option<AuthorSummary>,
    /// Every byline, in order.
    pub authors: Vec<AuthorSummary>,
    pub tags: Vec<PublicTag>,
}

/// A published article, with its body as sanitized HTML.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicArticle {
    #[serde(flatten)]
    pub summary: ArticleSummary,
    /// Rendered from Markdown and sanitized: safe to insert into a page as is.
    #[schema(example = "<h1>Hello</h1>\n<p>This is <em>Markdown</em>.</p>\n")]
    pub body_html: String,
}

impl ArticleSummary {
    pub fn new(row: SummaryRow, authors: Vec<AuthorSummary>, tags: Vec<PublicTag>) -> Self {
        Self::build(
            row.slug,
            row.title,
            row.excerpt.clone().unwrap_or_else(|| row.derived_excerpt.clone()),
            row.published_at.unwrap_or(row.updated_at).and_utc(),
            row.updated_at.and_utc(),
            row.word_count,
            authors,
            tags,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn build(
        slug: String,
        title: String,
        excerpt: String,
        published_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
        word_count: i32,
        authors: Vec<AuthorSummary>,
        tags: Vec<PublicTag>,
    ) -> Self {
        Self {
            slug,
            title,
            excerpt,
            published_at,
            updated_at,
            word_count,
            reading_time_minutes: reading_time_minutes(word_count),
            author: authors.first().cloned(),
            authors,
            tags,
        }
    }
}

impl PublicArticle {
    pub fn new(row: ArticleRow, authors: Vec<AuthorSummary>, tags: Vec<PublicTag>) -> Self {
        let summary = ArticleSummary::build(
            row.slug,
            row.title,
            row.excerpt.clone().unwrap_or_else(|| row.derived_excerpt.clone()),
            row.published_at.unwrap_or(row.updated_at).and_utc(),
            row.updated_at.and_utc(),
            row.word_count,
            authors,
            tags,
        );
        Self { summary, body_html: row.body_html }
    }
}

/// Where an article stands in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ArticleStatus {
    Draft,
    Published,
}

impl ArticleStatus {
    pub fn from_db(status: &str) -> Self {
        if status == STATUS_PUBLISHED { Self::Published } else { Self::Draft }
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
    pub status: ArticleStatus,
    /// The excerpt as written; `null` when it is derived from the body.
    pub excerpt: Option<String>,
    /// What readers get: the written excerpt or the start of the body.
    pub display_excerpt: String,
    pub body_markdown: String,
    pub body_html: String,
    pub word_count: i32,
    pub reading_time_minutes: i32,
    /// Set on first publication and kept through unpublishing.
    pub published_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Grows by one on every write.
    #[schema(example = 3)]
    pub version: i32,
    pub authors: Vec<AuthorSummary>,
    pub tags: Vec<PublicTag>,
}

impl AdminArticle {
    pub fn new(row: ArticleRow, authors: Vec<AuthorSummary>, tags: Vec<PublicTag>) -> Self {
        Self {
            id: row.id,
            display_excerpt: row.excerpt.clone().unwrap_or_else(|| row.derived_excerpt.clone()),
            slug: row.slug,
            title: row.title,
            status: ArticleStatus::from_db(&row.status),
            excerpt: row.excerpt,
            body_markdown: row.body_markdown,
            body_html: row.body_html,
            word_count: row.word_count,
            reading_time_minutes: reading_time_minutes(row.word_count),
            published_at: row.published_at.map(|t| t.and_utc()),
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
            version: row.version,
            authors,
            tags,
        }
    }
}

/// An article in the editors' list: no bodies.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminArticleSummary {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub status: ArticleStatus,
    pub display_excerpt: String,
    pub word_count: i32,
    pub published_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
    pub authors: Vec<AuthorSummary>,
    pub tags: Vec<PublicTag>,
}

impl AdminArticleSummary {
    pub fn new(row: SummaryRow, authors: Vec<AuthorSummary>, tags: Vec<PublicTag>) -> Self {
        Self {
            id: row.id,
            display_excerpt: row.excerpt.clone().unwrap_or_else(|| row.derived_excerpt.clone()),
            slug: row.slug,
            title: row.title,
            status: ArticleStatus::from_db(&row.status),
            word_count: row.word_count,
            published_at: row.published_at.map(|t| t.and_utc()),
            updated_at: row.updated_at.and_utc(),
            version: row.version,
            authors,
            tags,
        }
    }
}
