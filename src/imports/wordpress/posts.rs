//! A WordPress item: an attachment remembered for featured images; a post (or, with `--pages`, a
//! page) written as an article with its byline, tags, cover, SEO fields, comments and a redirect
//! from its old permalink, in one transaction.

use chrono::{NaiveDateTime, SubsecRound};
use diesel::prelude::*;

use super::reader::{WpComment, WpItem};
use super::{Run, percent_decoded};
use crate::articles::model::{
    MAX_ALT_CHARS, MAX_EXCERPT_CHARS, MAX_SEO_DESCRIPTION_CHARS, MAX_SEO_TITLE_CHARS, MAX_TITLE_CHARS,
};
use crate::articles::store::{ArticleContent, ArticleTags};
use crate::comments::render::render_comment;
use crate::db::DbConnection;
use crate::error::{ApiError, is_http_url};
use crate::imports::html::{plain_text, post_markdown, to_markdown};
use crate::imports::records::{EDITED_HERE, SourcePost, Written, checked_body, cut};
use crate::imports::{Imported, Report, local_id, remember, version_of};
use crate::redirects::model::Target;
use crate::redirects::store::{PathRedirect, insert_path_redirect};
use crate::schema::{articles, comments};
use crate::slugs;
use crate::tags::store::MAX_TAGS_PER_ARTICLE;

fn non_empty(text: String) -> Option<String> {
    Some(text).filter(|t| !t.is_empty())
}

/// `2016-01-09 08:00:00`; WordPress writes zeros for "none".
fn wp_time(text: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%d %H:%M:%S").ok().map(|t| t.trunc_subsecs(6))
}

impl Run<'_> {
    pub(super) fn item(&mut self, conn: &mut DbConnection, item: &WpItem, report: &mut Report) {
        let kind = match item.post_type.as_str() {
            "attachment" => {
                let url = item.attachment_url.trim().to_string();
                let id = item.post_id.trim().to_string();
                if !url.is_empty() && url.len() <= super::MAX_URL_CHARS && id.len() <= 64 {
                    let alt = item.meta("_wp_attachment_image_alt").map(|alt| cut(alt, MAX_ALT_CHARS));
                    self.kept += id.len() + url.len() + alt.as_ref().map_or(0, String::len) + super::ENTRY_BYTES;
                    self.attachments.insert(id, (url, alt));
                }
                return;
            }
            "post" => "posts",
            "page" if self.options.pages => "pages",
            "page" => {
                report.skipped("pages", "pages are imported with --pages");
                return;
            }
            other => {
                report.skipped("other", &format!("type {other}"));
                return;
            }
        };
        let post_id = item.post_id.trim().to_string();
        match self.post(conn, item, kind, report) {
            Ok(()) => {}
            Err(error) => report.failed(kind, &post_id, error.for_terminal()),
        }
    }

    fn post(
        &mut self,
        conn: &mut DbConnection,
        item: &WpItem,
        kind: &'static str,
        report: &mut Report,
    ) -> Result<(), ApiError> {
        let post_id = item.post_id.trim().to_string();
        let now = self.writer.now;
        let (published_at, trashed) = match item.status.trim() {
            "publish" | "future" => (Some(self.post_time(item)), false),
            "draft" | "pending" | "private" => (None, false),
            "trash" => (None, true),
            other => {
                report.skipped(kind, &format!("status {other}"));
                return Ok(());
            }
        };
        let version = wp_time(&item.post_modified_gmt).map(version_of);
        let version = version.as_deref();
        if let Some(known) = self.writer.current(conn, &post_id, version)? {
            report.skipped(kind, "already imported");
            if let Err(error) = self.cover_still_missing(conn, item, &known, report) {
                report.failed(kind, &post_id, error.for_terminal());
            }
            return self.comments(conn, item, Some(known.local_id), report);
        }
        // Checked before any database work.
        let title = match cut(&item.title, MAX_TITLE_CHARS) {
            title if title.is_empty() => "Untitled".to_string(),
            title => title,
        };
        let (body, teaser) = post_markdown(&item.content).map_err(ApiError::BadRequest)?;
        let rendered = checked_body(&body)?;
        let excerpt = non_empty(plain_text(&item.excerpt).map_err(ApiError::BadRequest)?)
            .or(teaser)
            .map(|e| cut(&e, MAX_EXCERPT_CHARS));
        let seo_title =
            item.meta("_yoast_wpseo_title").filter(|t| !t.contains("%%")).map(|t| cut(t, MAX_SEO_TITLE_CHARS));
        let seo_description = item.meta("_yoast_wpseo_metadesc").map(|t| cut(t, MAX_SEO_DESCRIPTION_CHARS));
        let canonical = item.meta("_yoast_wpseo_canonical").map(str::trim).filter(|url| is_http_url(url));
        let thumbnail = item.meta("_thumbnail_id").map(|id| id.trim().to_string()).filter(|id| id.len() <= 64);
        let cover = thumbnail.as_ref().and_then(|id| self.attachments.get(id).cloned());
        let creator = item.creator.trim();
        let author =
            self.author_id(conn, if creator.is_empty() { "wordpress" } else { creator }, "", creator, report)?;
        // Outside the post's transaction: the file is stored before its record, as an upload's is.
        let library_cover = match (&thumbnail, &cover) {
            (Some(attachment), Some((url, alt))) => {
                self.covers.library_image(conn, &self.writer, attachment, url, alt.as_deref(), author, report)
            }
            _ => None,
        };
        let (cover_url, cover_alt) = match (&library_cover, &cover) {
            (None, Some((url, alt))) => (Some(url.as_str()).filter(|url| is_http_url(url)), alt.as_deref()),
            _ => (None, None),
        };
        let mut tag_ids = Vec::new();
        for (domain, nicename, name) in &item.terms {
            // Post formats and other taxonomies are not topics.
            let taxonomy = match domain.as_str() {
                "post_tag" => "post_tag",
                "category" => "category",
                _ => continue,
            };
            if let Some(id) = self.tag_id(conn, taxonomy, nicename, name, report)? {
                tag_ids.push(id);
            }
        }
        if kind == "pages"
            && let Some(id) = self.tag_id(conn, "masthead", "page", "page", report)?
        {
            tag_ids.push(id);
        }
        let mut seen = std::collections::HashSet::new();
        tag_ids.retain(|id| seen.insert(*id));
        if tag_ids.len() > MAX_TAGS_PER_ARTICLE {
            report.note(
                kind,
                &post_id,
                format!("more than {MAX_TAGS_PER_ARTICLE} tags: the first {MAX_TAGS_PER_ARTICLE} kept"),
            );
            tag_ids.truncate(MAX_TAGS_PER_ARTICLE);
        }
        let decoded = percent_decoded(&item.post_name);
        let base = match decoded.as_str() {
            slug if slugs::is_valid_slug(slug) => slug.to_string(),
            "" => slugs::slugify(&title, "article"),
            slug => slugs::slugify(slug, "article"),
        };
        let created_at = published_at.map_or(now, |at| at.min(now));
        let old_path = self.old_path(&item.link);
        let article_path = self.options.article_path.clone();
        let post = SourcePost {
            source_id: &post_id,
            slug: &base,
            content: ArticleContent {
                slug: "",
                title: &title,
                excerpt: excerpt.as_deref(),
                body_markdown: &body,
                rendered: &rendered,
                published_at,
                featured: item.is_sticky,
                cover_image_url: cover_url,
                cover_image_alt: cover_alt,
                cover_image_id: library_cover,
                seo_title: seo_title.as_deref(),
                seo_description: seo_description.as_deref(),
                canonical_url: canonical,
                comments_enabled: item.comment_status.trim() == "open",
                created_at,
                authors: &[author],
                tags: ArticleTags::Ids(&tag_ids),
            },
            trashed,
            reviser: author,
            from: "WordPress",
            version,
        };
        // The old permalink, with the post (a redirect that cannot be made is noted, in a
        // savepoint): an interrupted import never leaves a post without it.
        let written = self.writer.post(conn, post, |conn, id, slug| {
            let Some(from) = old_path.filter(|from| *from != article_path.path(slug, published_at)) else {
                return Ok(None);
            };
            let redirect = PathRedirect { from: from.clone(), target: Target::Article(id), status: 301 };
            Ok(conn
                .transaction(|conn| insert_path_redirect(conn, &redirect, &article_path, now).map(|_| ()))
                .err()
                .map(|error| format!("no redirect from `{from}`: {}", error.for_terminal())))
        })?;
        let (id, slug, unredirected) = match written {
            Written::Imported { id, slug, with } => (id, slug, with),
            Written::Updated(id) => {
                report.updated(kind);
                if let (Some(thumbnail), None) = (&thumbnail, &cover) {
                    self.kept += thumbnail.len() + super::ENTRY_BYTES;
                    self.waiting_covers.push((id, thumbnail.clone(), author));
                }
                return self.comments(conn, item, Some(id), report);
            }
            Written::Unchanged => {
                report.skipped(kind, "already imported");
                return self.comments(conn, item, None, report);
            }
            Written::EditedHere(id) => {
                report.skipped(kind, EDITED_HERE);
                return self.comments(conn, item, Some(id), report);
            }
        };
        report.imported(kind);
        if slug != base {
            report.note(kind, &post_id, format!("the slug `{base}` is taken here: imported as `{slug}`"));
        }
        if let (Some(thumbnail), None) = (&thumbnail, &cover) {
            self.kept += thumbnail.len() + super::ENTRY_BYTES;
            self.waiting_covers.push((id, thumbnail.clone(), author));
        }
        if let Some(unredirected) = unredirected {
            report.note(kind, &post_id, unredirected);
        }
        self.comments(conn, item, Some(id), report)
    }

    /// A featured image whose attachment comes after its post in the file is set at the end of
    /// the import; one that stopped before the end never set it. Run again, the post is skipped,
    /// and its cover is set at the end of this import instead, unless it was edited here since.
    fn cover_still_missing(
        &mut self,
        conn: &mut DbConnection,
        item: &WpItem,
        known: &Imported,
        report: &mut Report,
    ) -> Result<(), ApiError> {
        let Some(thumbnail) = item.meta("_thumbnail_id").map(str::trim).filter(|id| id.len() <= 64) else {
            return Ok(());
        };
        let article: Option<(Option<String>, Option<i64>, NaiveDateTime)> = articles::table
            .find(known.local_id)
            .select((articles::cover_image_url, articles::cover_image_id, articles::updated_at))
            .first(conn)
            .optional()?;
        if let Some((None, None, edited)) = article
            && edited <= known.imported_at
        {
            let creator = item.creator.trim();
            let author =
                self.author_id(conn, if creator.is_empty() { "wordpress" } else { creator }, "", creator, report)?;
            self.kept += thumbnail.len() + super::ENTRY_BYTES;
            self.waiting_covers.push((known.local_id, thumbnail.to_string(), author));
        }
        Ok(())
    }

    /// When a post was (or will be) published: its GMT time, else its local time taken as UTC.
    fn post_time(&self, item: &WpItem) -> NaiveDateTime {
        wp_time(&item.post_date_gmt).or_else(|| wp_time(&item.post_date)).unwrap_or(self.writer.now)
    }

    /// A permalink's path on the old site (`https://old.example/2016/01/hello/` → `/2016/01/hello/`).
    fn old_path(&self, link: &str) -> Option<String> {
        let link = link.trim();
        let rest = link.strip_prefix(&self.base_url).or_else(|| {
            let after_scheme = link.split_once("://")?.1;
            after_scheme.find('/').map(|at| &after_scheme[at..])
        })?;
        let path = if rest.starts_with('/') { rest.to_string() } else { format!("/{rest}") };
        crate::redirects::store::check(&path, Target::Article(0), None).ok().map(|checked| checked.from)
    }

    /// A post's comments, threaded, each in a savepoint: one bad comment is reported alone.
    /// `article`: the post's article, when it was imported now (otherwise looked up).
    fn comments(
        &mut self,
        conn: &mut DbConnection,
        item: &WpItem,
        article: Option<i64>,
        report: &mut Report,
    ) -> Result<(), ApiError> {
        if item.comments.is_empty() {
            return Ok(());
        }
        let post_id = item.post_id.trim();
        let source = self.writer.source.clone();
        let Some(article) = article.map_or_else(|| local_id(conn, &source, "post", post_id), |id| Ok(Some(id)))? else {
            return Ok(());
        };
        let mut ordered: Vec<&WpComment> = item.comments.iter().collect();
        ordered.sort_by_key(|c| c.id.trim().parse::<i64>().unwrap_or(i64::MAX));
        for comment in ordered {
            let id = comment.id.trim().to_string();
            let status = match (comment.kind.trim(), comment.approved.trim()) {
                ("pingback" | "trackback", _) => {
                    report.skipped("comments", "pingbacks and trackbacks");
                    continue;
                }
                (_, "1") => "approved",
                (_, "0") => "pending",
                (_, "spam") => "spam",
                (_, "trash") => {
                    report.skipped("comments", "in WordPress's trash");
                    continue;
                }
                (_, other) => {
                    report.failed("comments", &id, format!("an unknown moderation state `{other}`"));
                    continue;
                }
            };
            let now = self.writer.now;
            let written = self.writer.in_transaction(conn, |conn| {
                if local_id(conn, &source, "comment", &id)?.is_some() {
                    return Ok(false);
                }
                let parent = match comment.parent.trim() {
                    "" | "0" => None,
                    parent => local_id(conn, &source, "comment", parent)?,
                };
                let body = to_markdown(&comment.content).map_err(ApiError::BadRequest)?;
                let name = match cut(&comment.author, crate::comments::model::MAX_NAME_CHARS) {
                    name if name.is_empty() => "Anonymous".to_string(),
                    name => name,
                };
                let at = wp_time(&comment.date_gmt).unwrap_or(now);
                let local = diesel::insert_into(comments::table)
                    .values((
                        comments::article_id.eq(article),
                        comments::parent_id.eq(parent),
                        comments::author_name.eq(&name),
                        comments::author_email.eq(crate::email::normalize(comment.author_email.trim())),
                        comments::body_html.eq(render_comment(&body)),
                        comments::body.eq(&body),
                        comments::status.eq(status),
                        comments::created_at.eq(at),
                        comments::updated_at.eq(at),
                    ))
                    .returning(comments::id)
                    .get_result::<i64>(conn)?;
                remember(conn, &source, "comment", &id, local, now)?;
                Ok(true)
            });
            match written {
                Ok(true) => report.imported("comments"),
                Ok(false) => report.skipped("comments", "already imported"),
                Err(error) => report.failed("comments", &id, error.for_terminal()),
            }
        }
        Ok(())
    }
}

/// Sets an imported article's cover to an image of the library, fetched after it.
/// Only while it has none (an editor may have set one since the post came in); a new version,
/// so that caches and `If-Match` see the change.
pub(super) fn set_library_cover(conn: &mut DbConnection, article: i64, media: i64) -> Result<(), ApiError> {
    diesel::update(without_cover(article))
        .set((articles::cover_image_id.eq(Some(media)), articles::version.eq(articles::version + 1)))
        .execute(conn)?;
    Ok(())
}

/// Sets an imported article's cover from its featured image, read after it (only while it has
/// none, as above).
pub(super) fn set_cover(conn: &mut DbConnection, article: i64, url: &str, alt: Option<&str>) -> Result<(), ApiError> {
    if !is_http_url(url) {
        return Ok(());
    }
    diesel::update(without_cover(article))
        .set((
            articles::cover_image_url.eq(url),
            articles::cover_image_alt.eq(alt),
            articles::version.eq(articles::version + 1),
        ))
        .execute(conn)?;
    Ok(())
}

/// An imported article, while it has no cover.
type WithoutCover = diesel::dsl::Filter<
    diesel::dsl::Filter<diesel::dsl::Find<articles::table, i64>, diesel::dsl::IsNull<articles::cover_image_url>>,
    diesel::dsl::IsNull<articles::cover_image_id>,
>;

fn without_cover(article: i64) -> WithoutCover {
    articles::table.find(article).filter(articles::cover_image_url.is_null()).filter(articles::cover_image_id.is_null())
}
