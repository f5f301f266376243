//! Article rows and the editor inputs.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::schema::articles;
#[allow(unused_imports)] // Named by the `#[schema(value_type)]` of `tags`.
use crate::tags::model::TagName;

pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_EXCERPT_CHARS: usize = 500;
pub const MAX_BODY_CHARS: usize = 200_000;
pub const MAX_AUTHORS_PER_ARTICLE: usize = 10;
pub const MAX_ALT_CHARS: usize = 300;
pub const MAX_SEO_TITLE_CHARS: usize = 200;
pub const MAX_SEO_DESCRIPTION_CHARS: usize = 500;

/// The columns the editor and the public single-article routes need.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = articles)]
pub struct ArticleRow {
    pub id: i64,
    pub slug: String,
    pub title: String,
    /// What `sort=title` orders by (see `slugs::sort_key`).
    pub title_key: String,
    pub excerpt: Option<String>,
    pub derived_excerpt: String,
    pub body_markdown: String,
    pub body_html: String,
    pub body_text: String,
    pub status: String,
    pub published_at: Option<NaiveDateTime>,
    pub deleted_at: Option<NaiveDateTime>,
    pub featured: bool,
    pub cover_image_url: Option<String>,
    pub cover_image_alt: Option<String>,
    pub cover_image_id: Option<i64>,
    pub seo_title: Option<String>,
    pub seo_description: Option<String>,
    pub canonical_url: Option<String>,
    pub comments_enabled: bool,
    pub comments_changed_at: Option<NaiveDateTime>,
    pub word_count: i32,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// The columns a list item needs: no Markdown, no HTML.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = articles)]
pub struct SummaryRow {
    pub id: i64,
    pub slug: String,
    pub title: String,
    /// What `sort=title` orders by (see `slugs::sort_key`).
    pub title_key: String,
    pub excerpt: Option<String>,
    pub derived_excerpt: String,
    pub status: String,
    pub published_at: Option<NaiveDateTime>,
    pub deleted_at: Option<NaiveDateTime>,
    pub featured: bool,
    pub cover_image_url: Option<String>,
    pub cover_image_alt: Option<String>,
    pub cover_image_id: Option<i64>,
    pub word_count: i32,
    pub version: i32,
    pub updated_at: NaiveDateTime,
}

/// The public columns of an [`ArticleRow`] that a [`SummaryRow`] does not have.
pub struct ArticleDetails {
    pub body_html: String,
    pub body_text: String,
    pub seo_title: Option<String>,
    pub seo_description: Option<String>,
    pub canonical_url: Option<String>,
    pub comments_enabled: bool,
}

impl ArticleRow {
    /// Splits the row without copying, so that full views are built on the summary's code.
    pub fn split_summary(self) -> (SummaryRow, ArticleDetails) {
        let summary = SummaryRow {
            id: self.id,
            slug: self.slug,
            title: self.title,
            title_key: self.title_key,
            excerpt: self.excerpt,
            derived_excerpt: self.derived_excerpt,
            status: self.status,
            published_at: self.published_at,
            deleted_at: self.deleted_at,
            featured: self.featured,
            cover_image_url: self.cover_image_url,
            cover_image_alt: self.cover_image_alt,
            cover_image_id: self.cover_image_id,
            word_count: self.word_count,
            version: self.version,
            updated_at: self.updated_at,
        };
        let details = ArticleDetails {
            body_html: self.body_html,
            body_text: self.body_text,
            seo_title: self.seo_title,
            seo_description: self.seo_description,
            canonical_url: self.canonical_url,
            comments_enabled: self.comments_enabled,
        };
        (summary, details)
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = articles)]
pub struct NewArticle<'a> {
    pub slug: &'a str,
    pub title: &'a str,
    pub title_key: &'a str,
    pub excerpt: Option<&'a str>,
    pub derived_excerpt: &'a str,
    pub body_markdown: &'a str,
    pub body_html: &'a str,
    pub body_text: &'a str,
    pub status: &'a str,
    pub published_at: Option<NaiveDateTime>,
    pub featured: bool,
    pub cover_image_url: Option<&'a str>,
    pub cover_image_alt: Option<&'a str>,
    pub cover_image_id: Option<i64>,
    pub seo_title: Option<&'a str>,
    pub seo_description: Option<&'a str>,
    pub canonical_url: Option<&'a str>,
    pub comments_enabled: bool,
    pub word_count: i32,
    pub version: i32,
    pub publication_announced: bool,
    /// The slug it had when last public (its former slugs are kept only if readers saw them).
    pub public_slug: Option<&'a str>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// `POST /api/v1/admin/articles`: a new draft.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "title": "Hello, “world” — again",
    "body_markdown": "# Hello\n\nThis is *Markdown*.",
    "tags": ["Rust", "Open source"]
}))]
pub struct CreateArticle {
    /// 1 to 200 characters.
    #[schema(
        pattern = r"[^\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]",
        min_length = 1,
        max_length = 200
    )]
    pub title: String,
    /// Markdown (CommonMark with tables, strikethrough and footnotes); raw HTML is removed on rendering.
    #[schema(max_length = 200000)]
    pub body_markdown: String,
    /// A summary for lists and feeds; derived from the body when absent.
    #[schema(max_length = 500)]
    pub excerpt: Option<String>,
    /// Derived from the title when absent (transliterated to ASCII, made unique); a taken one is a 409.
    #[schema(pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 120)]
    pub slug: Option<String>,
    /// Tag names, in order; missing tags are created (by authors and above).
    #[schema(value_type = Option<Vec<TagName>>, max_items = 20)]
    pub tags: Option<Vec<String>>,
    /// Author ids for the byline, in order (the first is the primary byline). Defaults to the
    /// caller; authors and contributors must stay on the byline of what they write.
    #[schema(min_items = 1, max_items = 10)]
    pub authors: Option<Vec<i64>>,
    /// Highlighted by front ends (e.g. `?featured=true` lists).
    pub featured: Option<bool>,
    /// An absolute http(s) URL.
    #[schema(
        pattern = r"^\s*(https?://[^\s\x00-\x1f\x7f-\x9f/?#\[\]]+([/?#][^\s\x00-\x1f\x7f-\x9f]*)?)?\s*$",
        max_length = 2048
    )]
    pub cover_image_url: Option<String>,
    #[schema(max_length = 300)]
    pub cover_image_alt: Option<String>,
    /// An image from the media library (`/api/v1/admin/media`); public views then carry it as
    /// `cover_image`, with its alt text and sizes. A 404 for an unknown id.
    #[schema(minimum = 1)]
    pub cover_image_id: Option<i64>,
    #[schema(max_length = 200)]
    pub seo_title: Option<String>,
    #[schema(max_length = 500)]
    pub seo_description: Option<String>,
    /// An absolute http(s) URL: where the article first appeared, if elsewhere.
    #[schema(
        pattern = r"^\s*(https?://[^\s\x00-\x1f\x7f-\x9f/?#\[\]]+([/?#][^\s\x00-\x1f\x7f-\x9f]*)?)?\s*$",
        max_length = 2048
    )]
    pub canonical_url: Option<String>,
    /// Whether readers may comment (default `true`).
    pub comments_enabled: Option<bool>,
}

/// `PATCH /api/v1/admin/articles/{id}`: only the fields present change; `null` clears an optional
/// field (`"excerpt": null` goes back to a derived excerpt); `tags` and `authors` replace the lists.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"title": "A better title", "tags": ["Rust"]}))]
pub struct UpdateArticle {
    #[serde(default, deserialize_with = "crate::optional_fields::non_null")]
    #[schema(
        nullable = false,
        pattern = r"[^\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]",
        min_length = 1,
        max_length = 200
    )]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "crate::optional_fields::non_null")]
    #[schema(nullable = false, max_length = 200000)]
    pub body_markdown: Option<String>,
    #[serde(default, deserialize_with = "crate::optional_fields::present")]
    #[schema(value_type = Option<String>, max_length = 500)]
    pub excerpt: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::optional_fields::non_null")]
    #[schema(nullable = false, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 120)]
    pub slug: Option<String>,
    #[serde(default, deserialize_with = "crate::optional_fields::non_null")]
    #[schema(value_type = Option<Vec<TagName>>, nullable = false, max_items = 20)]
    pub tags: Option<Vec<String>>,
    #[serde(default, deserialize_with = "crate::optional_fields::non_null")]
    #[schema(nullable = false, min_items = 1, max_items = 10)]
    pub authors: Option<Vec<i64>>,
    #[serde(default, deserialize_with = "crate::optional_fields::non_null")]
    #[schema(nullable = false)]
    pub featured: Option<bool>,
    #[serde(default, deserialize_with = "crate::optional_fields::present")]
    #[schema(value_type = Option<String>, pattern = r"^\s*(https?://[^\s\x00-\x1f\x7f-\x9f/?#\[\]]+([/?#][^\s\x00-\x1f\x7f-\x9f]*)?)?\s*$", max_length = 2048)]
    pub cover_image_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::optional_fields::present")]
    #[schema(value_type = Option<String>, max_length = 300)]
    pub cover_image_alt: Option<Option<String>>,
    /// An image from the media library; `null` removes it.
    #[serde(default, deserialize_with = "crate::optional_fields::present")]
    #[schema(value_type = Option<i64>, minimum = 1)]
    pub cover_image_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "crate::optional_fields::present")]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub seo_title: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::optional_fields::present")]
    #[schema(value_type = Option<String>, max_length = 500)]
    pub seo_description: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::optional_fields::present")]
    #[schema(value_type = Option<String>, pattern = r"^\s*(https?://[^\s\x00-\x1f\x7f-\x9f/?#\[\]]+([/?#][^\s\x00-\x1f\x7f-\x9f]*)?)?\s*$", max_length = 2048)]
    pub canonical_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::optional_fields::non_null")]
    #[schema(nullable = false)]
    pub comments_enabled: Option<bool>,
}

/// `POST /api/v1/admin/articles/{id}/publish`, body optional.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"published_at": "2030-01-01T08:00:00Z"}))]
pub struct PublishRequest {
    /// When the article goes public (RFC 3339, within years 1 to 9999 in UTC). In the future it
    /// is scheduled: it appears on public routes at that time by itself. Absent: now (or the first
    /// publication time when republishing).
    pub published_at: Option<DateTime<Utc>>,
}

impl PublishRequest {
    /// The publication time asked for, as stored; a 422 outside the times stored on both backends.
    pub fn publication_time(&self) -> Result<Option<NaiveDateTime>, crate::error::ApiError> {
        let Some(at) = self.published_at else { return Ok(None) };
        crate::db::check_storable(&mut crate::error::Validator::new(), "published_at", Some(at)).finish()?;
        Ok(Some(crate::db::truncate(at.naive_utc())))
    }
}
