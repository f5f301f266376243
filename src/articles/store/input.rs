//! Editor input: trimmed, checked and rendered before any database work, every problem
//! collected before answering.

use crate::articles::model::{
    CreateArticle, MAX_ALT_CHARS, MAX_AUTHORS_PER_ARTICLE, MAX_BODY_CHARS, MAX_EXCERPT_CHARS,
    MAX_SEO_DESCRIPTION_CHARS, MAX_SEO_TITLE_CHARS, MAX_TITLE_CHARS, UpdateArticle,
};
use crate::error::{ApiError, Validator};
use crate::markdown::{MAX_NESTING, Rendered, nesting_depth, render};
use crate::optional_fields::trimmed;
use crate::slugs;
use crate::tags::store as tag_store;

/// The editor's fields, trimmed and checked; every problem is collected before answering.
/// `Option<Option<_>>`: absent, cleared, or set.
#[derive(Default)]
pub(super) struct Fields {
    pub(super) title: Option<String>,
    pub(super) body_markdown: Option<String>,
    pub(super) excerpt: Option<Option<String>>,
    pub(super) slug: Option<String>,
    pub(super) tags: Option<Vec<(String, String)>>,
    pub(super) authors: Option<Vec<i64>>,
    pub(super) featured: Option<bool>,
    pub(super) cover_image_url: Option<Option<String>>,
    pub(super) cover_image_alt: Option<Option<String>>,
    pub(super) cover_image_id: Option<Option<i64>>,
    pub(super) seo_title: Option<Option<String>>,
    pub(super) seo_description: Option<Option<String>>,
    pub(super) canonical_url: Option<Option<String>>,
    pub(super) comments_enabled: Option<bool>,
}

impl Fields {
    fn check(input: UpdateArticle) -> Result<Self, ApiError> {
        let mut v = Validator::new();
        let raw = |value: &Option<Option<String>>| value.as_ref().and_then(|v| v.as_deref()).map(str::to_string);
        for (field, text, max) in [
            ("title", input.title.clone(), MAX_TITLE_CHARS),
            ("excerpt", raw(&input.excerpt), MAX_EXCERPT_CHARS),
            ("cover_image_alt", raw(&input.cover_image_alt), MAX_ALT_CHARS),
            ("seo_title", raw(&input.seo_title), MAX_SEO_TITLE_CHARS),
            ("seo_description", raw(&input.seo_description), MAX_SEO_DESCRIPTION_CHARS),
            ("cover_image_url", raw(&input.cover_image_url), 2048),
            ("canonical_url", raw(&input.canonical_url), 2048),
        ] {
            v.untrimmed_max(field, text.as_deref(), max);
        }
        let optional = |value: Option<Option<String>>| value.map(|v| trimmed(v.as_deref()));
        let tag_names = input.tags;
        let mut fields = Fields {
            title: input.title.map(|t| t.trim().to_string()),
            body_markdown: input.body_markdown,
            excerpt: optional(input.excerpt),
            slug: input.slug,
            tags: None,
            authors: input.authors,
            featured: input.featured,
            cover_image_url: optional(input.cover_image_url),
            cover_image_alt: optional(input.cover_image_alt),
            cover_image_id: input.cover_image_id,
            seo_title: optional(input.seo_title),
            seo_description: optional(input.seo_description),
            canonical_url: optional(input.canonical_url),
            comments_enabled: input.comments_enabled,
        };
        if let Some(title) = &fields.title {
            v.chars("title", title, 1, MAX_TITLE_CHARS);
        }
        if let Some(body) = &fields.body_markdown {
            v.chars("body_markdown", body, 0, MAX_BODY_CHARS);
            if body.chars().count() <= MAX_BODY_CHARS {
                v.check(
                    nesting_depth(body) <= MAX_NESTING,
                    "body_markdown",
                    format!("must not nest lists, quotes or emphasis more than {MAX_NESTING} levels deep"),
                );
            }
        }
        if let Some(slug) = &fields.slug {
            v.check(slugs::is_valid_slug(slug), "slug", slugs::SLUG_RULE);
        }
        if let Some(ids) = &mut fields.authors {
            v.check(
                (1..=MAX_AUTHORS_PER_ARTICLE).contains(&ids.len()),
                "authors",
                format!("must list 1 to {MAX_AUTHORS_PER_ARTICLE} author ids"),
            );
            // An author named twice is on the byline once, at the first place.
            let mut seen = Vec::with_capacity(ids.len());
            ids.retain(|id| {
                if seen.contains(id) {
                    false
                } else {
                    seen.push(*id);
                    true
                }
            });
        }
        for (field, value, max) in [
            ("excerpt", &fields.excerpt, MAX_EXCERPT_CHARS),
            ("cover_image_alt", &fields.cover_image_alt, MAX_ALT_CHARS),
            ("seo_title", &fields.seo_title, MAX_SEO_TITLE_CHARS),
            ("seo_description", &fields.seo_description, MAX_SEO_DESCRIPTION_CHARS),
        ] {
            if let Some(Some(value)) = value {
                v.chars(field, value, 0, max);
            }
        }
        for (field, value) in [("cover_image_url", &fields.cover_image_url), ("canonical_url", &fields.canonical_url)] {
            if let Some(Some(url)) = value {
                v.http_url(field, url);
            }
        }
        fields.tags = tag_names.map(|names| tag_store::check_tag_names(&names, &mut v)).transpose()?;
        v.finish()?;
        Ok(fields)
    }
}

/// An editor's input, checked and rendered before any database work: rendering is CPU-bound
/// and must not hold a pooled connection (see `crate::http::state::cpu_bound`).
pub struct Prepared {
    pub(super) fields: Fields,
    pub(super) rendered: Option<Rendered>,
}

impl Prepared {
    fn new(fields: Fields) -> Self {
        let rendered = fields.body_markdown.as_deref().map(render);
        Self { fields, rendered }
    }

    /// A `PATCH {}`: nothing to write, no new version.
    pub(super) fn is_empty(&self) -> bool {
        let f = &self.fields;
        f.title.is_none()
            && f.body_markdown.is_none()
            && f.excerpt.is_none()
            && f.slug.is_none()
            && f.tags.is_none()
            && f.authors.is_none()
            && f.featured.is_none()
            && f.cover_image_url.is_none()
            && f.cover_image_alt.is_none()
            && f.cover_image_id.is_none()
            && f.seo_title.is_none()
            && f.seo_description.is_none()
            && f.canonical_url.is_none()
            && f.comments_enabled.is_none()
    }
}

/// Checks and renders a new article.
pub fn prepare_new(input: CreateArticle) -> Result<Prepared, ApiError> {
    Fields::check(UpdateArticle {
        title: Some(input.title),
        body_markdown: Some(input.body_markdown),
        excerpt: Some(input.excerpt),
        slug: input.slug,
        tags: input.tags,
        authors: input.authors,
        featured: input.featured,
        cover_image_url: Some(input.cover_image_url),
        cover_image_alt: Some(input.cover_image_alt),
        cover_image_id: Some(input.cover_image_id),
        seo_title: Some(input.seo_title),
        seo_description: Some(input.seo_description),
        canonical_url: Some(input.canonical_url),
        comments_enabled: input.comments_enabled,
    })
    .map(Prepared::new)
}

/// Checks and renders an editor's changes.
pub fn prepare_update(input: UpdateArticle) -> Result<Prepared, ApiError> {
    Fields::check(input).map(Prepared::new)
}
