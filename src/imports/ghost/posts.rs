//! A Ghost post (or, with `--pages`, a page) written as an article: its HTML as Markdown, status
//! and dates, featured flag, custom excerpt, feature image and alt text, SEO fields, canonical
//! URL, bylines in order and public tags.

use chrono::NaiveDateTime;

use super::row::{Row, flag, id, text, time};
use super::{PostMeta, Run};
use crate::articles::model::{
    MAX_ALT_CHARS, MAX_AUTHORS_PER_ARTICLE, MAX_EXCERPT_CHARS, MAX_SEO_DESCRIPTION_CHARS, MAX_SEO_TITLE_CHARS,
    MAX_TITLE_CHARS,
};
use crate::articles::store::{ArticleContent, ArticleTags};
use crate::db::DbConnection;
use crate::error::{ApiError, is_http_url};
use crate::imports::html::to_markdown;
use crate::imports::records::{EDITED_HERE, SourceAuthor, SourcePost, Written, checked_body, cut};
use crate::imports::{Report, version_of};
use crate::slugs;
use crate::tags::store::MAX_TAGS_PER_ARTICLE;

/// Ghost's placeholder for its own origin in exported links.
const GHOST_URL: &str = "__GHOST_URL__";
/// The source id of the `page` tag pages get (no Ghost tag id looks like it).
const PAGE_TAG: &str = "masthead:page";
/// What the second pass reads of a post.
pub(super) const FIELDS: &[&str] = &[
    "id",
    "title",
    "slug",
    "html",
    "plaintext",
    "feature_image",
    "feature_image_alt",
    "featured",
    "type",
    "page",
    "status",
    "visibility",
    "published_at",
    "created_at",
    "custom_excerpt",
    "meta_title",
    "meta_description",
    "canonical_url",
    "author_id",
    "updated_at",
];

/// A Ghost post's status, as it is here.
struct Publication {
    published_at: Option<NaiveDateTime>,
    /// Why a post that readers saw in Ghost is a draft here.
    held_back: Option<String>,
}

impl Run<'_> {
    pub(super) fn post(&mut self, conn: &mut DbConnection, row: &Row, report: &mut Report) {
        let post_id = match id(row, "id") {
            Ok(Some(post_id)) => post_id,
            Ok(None) => return report.failed("posts", "?", "a post without an id"),
            Err(error) => return report.failed("posts", "?", error),
        };
        let is_page = matches!(text(row, "type"), Ok(Some("page"))) || flag(row, "page").unwrap_or(false);
        let kind = match (is_page, text(row, "type")) {
            (true, _) if self.options.pages => "pages",
            (true, _) => return report.skipped("pages", "pages are imported with --pages"),
            (false, Ok(None | Some("post"))) => "posts",
            (false, Ok(Some(other))) => return report.skipped("other", &format!("type {}", cut(other, 40))),
            (false, Err(error)) => return report.failed("posts", &post_id, error),
        };
        if let Err(error) = self.write_post(conn, row, &post_id, kind, report) {
            report.failed(kind, &post_id, error.for_terminal());
        }
    }

    fn write_post(
        &mut self,
        conn: &mut DbConnection,
        row: &Row,
        post_id: &str,
        kind: &'static str,
        report: &mut Report,
    ) -> Result<(), ApiError> {
        let bad = ApiError::BadRequest;
        // A version that cannot be read is none: the post is imported, and never updated.
        let version = time(row, "updated_at").ok().flatten().map(version_of);
        let version = version.as_deref();
        if self.writer.current(conn, post_id, version)?.is_some() {
            report.skipped(kind, "already imported");
            return Ok(());
        }
        let no_meta = PostMeta::default();
        let meta = self.relations.meta(post_id).unwrap_or(&no_meta);
        let Some(publication) = self.publication(row, meta).map_err(bad)? else {
            let status = text(row, "status").ok().flatten().unwrap_or("none");
            report.skipped(kind, &format!("status {}", cut(status, 40)));
            return Ok(());
        };
        let title = match cut(text(row, "title").map_err(bad)?.unwrap_or_default(), MAX_TITLE_CHARS) {
            title if title.is_empty() => "Untitled".to_string(),
            title => title,
        };
        let mut relative = false;
        let html = self.on_site(text(row, "html").map_err(bad)?.unwrap_or_default(), &mut relative);
        if html.trim().is_empty() && text(row, "plaintext").map_err(bad)?.is_some_and(|t| !t.trim().is_empty()) {
            return Err(bad("it has no HTML (only Mobiledoc or Lexical, which are not read here)".into()));
        }
        let body = to_markdown(&html).map_err(bad)?;
        let rendered = checked_body(&body)?;
        let excerpt = text(row, "custom_excerpt").map_err(bad)?.map(|e| cut(e, MAX_EXCERPT_CHARS));
        let excerpt = excerpt.filter(|e| !e.is_empty());
        let seo = |field: &str, from_meta: &Option<String>, max: usize| -> Result<Option<String>, ApiError> {
            let value = from_meta.as_deref().or(text(row, field).map_err(bad)?);
            Ok(value.map(|v| cut(v, max)).filter(|v| !v.is_empty()))
        };
        let seo_title = seo("meta_title", &meta.meta_title, MAX_SEO_TITLE_CHARS)?;
        let seo_description = seo("meta_description", &meta.meta_description, MAX_SEO_DESCRIPTION_CHARS)?;
        let canonical = text(row, "canonical_url").map_err(bad)?.map(|url| self.on_site(url.trim(), &mut relative));
        let canonical = canonical.filter(|url| is_http_url(url));
        let image = text(row, "feature_image").map_err(bad)?.map(|url| self.on_site(url.trim(), &mut relative));
        let image = image.filter(|url| is_http_url(url));
        let alt = meta.feature_image_alt.as_deref().or(text(row, "feature_image_alt").map_err(bad)?);
        let alt = alt.map(|alt| cut(alt, MAX_ALT_CHARS)).filter(|alt| !alt.is_empty());
        let bylines = self.bylines(conn, row, post_id, kind, report)?;
        let tag_ids = self.post_tags(conn, post_id, kind, report)?;
        let library_cover = match &image {
            Some(url) => self.covers.library_image(conn, &self.writer, url, url, alt.as_deref(), bylines[0], report),
            None => None,
        };
        let (cover_url, cover_alt) = match library_cover {
            Some(_) => (None, None),
            None => (image.as_deref(), alt.as_deref()),
        };
        let base = match text(row, "slug").map_err(bad)?.map(str::trim) {
            Some(slug) if slugs::is_valid_slug(slug) => slug.to_string(),
            Some(slug) if !slug.is_empty() => slugs::slugify(slug, "article"),
            _ => slugs::slugify(&title, "article"),
        };
        let now = self.writer.now;
        let created_at = time(row, "created_at").map_err(bad)?.or(publication.published_at).unwrap_or(now).min(now);
        let post = SourcePost {
            source_id: post_id,
            slug: &base,
            content: ArticleContent {
                slug: "",
                title: &title,
                excerpt: excerpt.as_deref(),
                body_markdown: &body,
                rendered: &rendered,
                published_at: publication.published_at,
                featured: flag(row, "featured").map_err(bad)?,
                cover_image_url: cover_url,
                cover_image_alt: cover_alt,
                cover_image_id: library_cover,
                seo_title: seo_title.as_deref(),
                seo_description: seo_description.as_deref(),
                canonical_url: canonical.as_deref(),
                comments_enabled: true,
                created_at,
                authors: &bylines,
                tags: ArticleTags::Ids(&tag_ids),
            },
            trashed: false,
            reviser: bylines[0],
            from: "Ghost",
            version,
        };
        let slug = match self.writer.post(conn, post, |_, _, _| Ok(()))? {
            Written::Imported { slug, .. } => slug,
            Written::Updated(_) => {
                report.updated(kind);
                return Ok(());
            }
            Written::Unchanged => {
                report.skipped(kind, "already imported");
                return Ok(());
            }
            Written::EditedHere(_) => {
                report.skipped(kind, EDITED_HERE);
                return Ok(());
            }
        };
        report.imported(kind);
        if slug != base {
            report.note(kind, post_id, format!("the slug `{base}` is taken here: imported as `{slug}`"));
        }
        if let Some(why) = publication.held_back {
            report.note(kind, post_id, why);
        }
        if relative {
            report.note(kind, post_id, "links to the old site are left relative (give --site-url to keep them)");
        }
        Ok(())
    }

    /// The post's status here; `None` for a status this importer does not know (skipped).
    /// Members-only and e-mail-only posts come in as drafts: nothing here holds them back from
    /// the public.
    fn publication(&self, row: &Row, meta: &PostMeta) -> Result<Option<Publication>, String> {
        let at = time(row, "published_at")?;
        let visibility = text(row, "visibility")?.unwrap_or("public");
        let shown = match text(row, "status")?.unwrap_or("draft") {
            "published" => at.or(time(row, "created_at")?).or(Some(self.writer.now)),
            "scheduled" if at.is_none() => {
                let why = "scheduled in Ghost without a time: imported as a draft".to_string();
                return Ok(Some(Publication { published_at: None, held_back: Some(why) }));
            }
            "scheduled" => at,
            "draft" => return Ok(Some(Publication { published_at: None, held_back: None })),
            "sent" => {
                let why = "sent by e-mail only in Ghost: imported as a draft".to_string();
                return Ok(Some(Publication { published_at: None, held_back: Some(why) }));
            }
            _ => return Ok(None),
        };
        let held_back = if meta.email_only {
            Some("sent by e-mail only in Ghost: imported as a draft".to_string())
        } else if visibility != "public" {
            let visibility = cut(visibility, 40);
            Some(format!("for {visibility} only in Ghost: imported as a draft, as nothing here keeps readers out"))
        } else {
            None
        };
        Ok(Some(match held_back {
            Some(why) => Publication { published_at: None, held_back: Some(why) },
            None => Publication { published_at: shown, held_back: None },
        }))
    }

    /// `__GHOST_URL__` replaced by the old site's origin; with none given, removed (the links stay
    /// relative to the site), which `relative` then says.
    fn on_site(&self, text: &str, relative: &mut bool) -> String {
        if !text.contains(GHOST_URL) {
            return text.to_string();
        }
        match &self.options.site_url {
            Some(site) => text.replace(GHOST_URL, site.trim_end_matches('/')),
            None => {
                *relative = true;
                text.replace(GHOST_URL, "")
            }
        }
    }

    /// The post's authors in Ghost's order (`posts_authors`, else the older `author_id`); a user
    /// the file does not have is noted and left out, and a post left without one gets an
    /// "Unknown author".
    fn bylines(
        &mut self,
        conn: &mut DbConnection,
        row: &Row,
        post_id: &str,
        kind: &'static str,
        report: &mut Report,
    ) -> Result<Vec<i64>, ApiError> {
        let mut users = self.relations.related(post_id, |refs| &refs.authors);
        if users.is_empty()
            && let Some(user) = id(row, "author_id").map_err(ApiError::BadRequest)?
        {
            users.push(user);
        }
        let mut bylines = Vec::new();
        for user in users {
            if bylines.len() == MAX_AUTHORS_PER_ARTICLE {
                report.note(kind, post_id, format!("the first {MAX_AUTHORS_PER_ARTICLE} authors kept"));
                break;
            }
            match self.author_id(conn, &user, report)? {
                Some(author) if !bylines.contains(&author) => bylines.push(author),
                Some(_) => {}
                None => report.note(kind, post_id, format!("the author {user} is not in the file")),
            }
        }
        if bylines.is_empty() {
            let author = match self.authors.get("") {
                Some(author) => *author,
                None => {
                    let unknown =
                        SourceAuthor { source_id: "", email: "", name: "Unknown author", slug: "", bio: None };
                    let (author, outcome) = self.writer.author(conn, &unknown)?;
                    report.outcome("authors", outcome);
                    self.authors.insert(String::new(), author);
                    author
                }
            };
            bylines.push(author);
        }
        Ok(bylines)
    }

    /// The post's public tags in Ghost's order, and `page` for a page.
    fn post_tags(
        &mut self,
        conn: &mut DbConnection,
        post_id: &str,
        kind: &'static str,
        report: &mut Report,
    ) -> Result<Vec<i64>, ApiError> {
        let related = self.relations.related(post_id, |refs| &refs.tags);
        let mut tag_ids: Vec<i64> = related.iter().filter_map(|tag| self.tags.get(tag).copied()).collect();
        if kind == "pages" {
            let page = match self.tags.get(PAGE_TAG) {
                Some(page) => *page,
                None => {
                    let (page, outcome) = self.writer.tag(conn, PAGE_TAG, "page", "page", None)?;
                    report.outcome("tags", outcome);
                    self.tags.insert(PAGE_TAG.into(), page);
                    page
                }
            };
            tag_ids.push(page);
        }
        let mut seen = std::collections::HashSet::new();
        tag_ids.retain(|id| seen.insert(*id));
        if tag_ids.len() > MAX_TAGS_PER_ARTICLE {
            report.note(kind, post_id, format!("the first {MAX_TAGS_PER_ARTICLE} tags kept"));
            tag_ids.truncate(MAX_TAGS_PER_ARTICLE);
        }
        Ok(tag_ids)
    }
}
