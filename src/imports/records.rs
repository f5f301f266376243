//! What every importer writes the same way: an author, a tag and a post of the source, each in a
//! transaction of its own (a savepoint of the dry run's), remembered in `import_sources` with the
//! record it became, so that importing again imports nothing twice.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::{Imported, Report, imported, local_id, remember, remember_version};
use crate::articles::model::MAX_BODY_CHARS;
use crate::articles::revisions;
use crate::articles::store::{ArticleContent, free_slug, insert_article, replace_imported};
use crate::db::{DbConnection, commit_without_waiting, write_transaction};
use crate::error::ApiError;
use crate::markdown::{MAX_NESTING, Rendered, nesting_depth, render};
use crate::schema::{articles, authors, import_sources, tags};
use crate::slugs;

/// Where an import writes: its source's name (`import_sources.source`), its clock, and whether
/// it writes at all.
#[derive(Debug, Clone)]
pub struct Writer {
    pub source: String,
    pub now: NaiveDateTime,
    pub dry_run: bool,
}

/// What became of a source's record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Imported,
    /// Matched to a record already here (an account by e-mail, a tag by slug).
    Matched,
    AlreadyImported,
}

impl Report {
    /// Counts what became of one record of `kind`.
    pub fn outcome(&mut self, kind: &'static str, outcome: Outcome) {
        match outcome {
            Outcome::Imported => self.imported(kind),
            Outcome::Matched => self.matched(kind),
            Outcome::AlreadyImported => self.skipped(kind, "already imported"),
        }
    }
}

/// A source's author, as the source names it.
pub struct SourceAuthor<'a> {
    pub source_id: &'a str,
    /// Matched to an account with the same e-mail, when there is one.
    pub email: &'a str,
    pub name: &'a str,
    /// The source's slug, kept when it is a valid one and free here.
    pub slug: &'a str,
    pub bio: Option<&'a str>,
}

/// A source's post, ready to be written: checked and rendered already.
pub struct SourcePost<'a> {
    pub source_id: &'a str,
    /// The slug wanted: given a suffix when taken here.
    pub slug: &'a str,
    /// Everything but the slug (whatever `content.slug` says is not used).
    pub content: ArticleContent<'a>,
    pub trashed: bool,
    /// Whom the revision is by.
    pub reviser: i64,
    /// The source's name for the revision's note ("WordPress": "imported from WordPress").
    pub from: &'a str,
    /// Which version of it this is (when it was last modified at its source): a post imported
    /// before is written again when this differs from the version imported, unless it was edited
    /// here since.
    pub version: Option<&'a str>,
}

/// Why a post changed at its source was not written again.
pub const EDITED_HERE: &str = "changed at the source, and edited here since its import: kept as it is here";

/// What became of a source's post.
#[derive(Debug)]
pub enum Written<T> {
    /// A new article, its slug, and what the caller wrote with it.
    Imported { id: i64, slug: String, with: T },
    /// Changed at the source since it was imported: written again.
    Updated(i64),
    /// Imported before, and not changed at the source (or deleted here since).
    Unchanged,
    /// Changed at the source, and edited here since it was imported: kept as it is here.
    EditedHere(i64),
}

/// Runs `work`, and when `dry_run` rolls back everything it wrote: its records' transactions are
/// savepoints of one that never commits.
pub fn rolled_back_if(conn: &mut DbConnection, dry_run: bool, work: impl FnOnce(&mut DbConnection)) {
    if dry_run {
        let _ = write_transaction(conn, |conn| {
            work(conn);
            Err::<(), _>(ApiError::Internal("a dry run writes nothing".into()))
        });
    } else {
        work(conn);
    }
}

/// Checks an imported body as an editor's would be (length, nesting) and renders it.
pub fn checked_body(markdown: &str) -> Result<Rendered, ApiError> {
    if markdown.chars().count() > MAX_BODY_CHARS {
        return Err(ApiError::BadRequest(format!("its body is longer than {MAX_BODY_CHARS} characters")));
    }
    if nesting_depth(markdown) > MAX_NESTING {
        return Err(ApiError::BadRequest(format!("its body nests more than {MAX_NESTING} levels deep")));
    }
    Ok(render(markdown))
}

/// `text` trimmed to at most `max` characters.
pub fn cut(text: &str, max: usize) -> String {
    text.trim().chars().take(max).collect::<String>().trim().to_string()
}

impl Writer {
    /// Runs one record's writes in a transaction of its own (a savepoint of the dry run's). It
    /// commits without waiting for the disk (PostgreSQL's `synchronous_commit = off`, for it
    /// only): a crash may lose the last records, which importing again brings in, as it finishes
    /// any import.
    pub fn in_transaction<T>(
        &self,
        conn: &mut DbConnection,
        work: impl FnOnce(&mut DbConnection) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        if self.dry_run {
            conn.transaction(work)
        } else {
            write_transaction(conn, |conn| {
                commit_without_waiting(conn)?;
                work(conn)
            })
        }
    }

    /// The local author a source's author became: the account with the same e-mail, or a new
    /// byline-only author (never with a password).
    pub fn author(&self, conn: &mut DbConnection, author: &SourceAuthor) -> Result<(i64, Outcome), ApiError> {
        let email = crate::email::normalize(author.email.trim());
        let name = match author.name.trim() {
            "" => author.source_id.trim(),
            name => name,
        };
        let name = cut(name, crate::authors::model::MAX_NAME_CHARS);
        let bio = author.bio.map(|bio| cut(bio, crate::authors::model::MAX_BIO_CHARS)).filter(|bio| !bio.is_empty());
        self.in_transaction(conn, |conn| {
            if let Some(id) = local_id(conn, &self.source, "author", author.source_id)? {
                return Ok((id, Outcome::AlreadyImported));
            }
            let account: Option<i64> = match email.is_empty() {
                true => None,
                false => authors::table.filter(authors::email.eq(&email)).select(authors::id).first(conn).optional()?,
            };
            let (id, outcome) = match account {
                Some(id) => (id, Outcome::Matched),
                None => {
                    let base = match author.slug.trim() {
                        slug if slugs::is_valid_slug(slug) => slug.to_string(),
                        _ => slugs::slugify_name(&name, "author"),
                    };
                    let slug = slugs::unique_slug(&base, |s| crate::db::slug_taken!(conn, authors, s, None::<i64>))?;
                    let id = diesel::insert_into(authors::table)
                        .values((
                            authors::slug.eq(&slug),
                            authors::name.eq(&name),
                            authors::bio.eq(bio.as_deref()),
                            authors::role.eq("author"),
                            authors::active.eq(true),
                            authors::created_at.eq(self.now),
                            authors::updated_at.eq(self.now),
                        ))
                        .returning(authors::id)
                        .get_result(conn)?;
                    (id, Outcome::Imported)
                }
            };
            remember(conn, &self.source, "author", author.source_id, id, self.now)?;
            Ok((id, outcome))
        })
    }

    /// The local tag a source's tag became: the tag with the same slug here, or a new one.
    pub fn tag(
        &self,
        conn: &mut DbConnection,
        source_id: &str,
        slug: &str,
        name: &str,
        description: Option<&str>,
    ) -> Result<(i64, Outcome), ApiError> {
        let name = match name.trim() {
            "" => slug.trim(),
            name => name,
        };
        let name = cut(name, crate::tags::model::MAX_TAG_NAME_CHARS);
        let slug = if slugs::is_valid_slug(slug) { slug.to_string() } else { slugs::slugify_name(&name, "tag") };
        let description = description
            .map(|text| cut(text, crate::tags::model::MAX_TAG_DESCRIPTION_CHARS))
            .filter(|text| !text.is_empty());
        self.in_transaction(conn, |conn| {
            if let Some(id) = local_id(conn, &self.source, "tag", source_id)? {
                return Ok((id, Outcome::AlreadyImported));
            }
            let existing: Option<i64> =
                tags::table.filter(tags::slug.eq(&slug)).select(tags::id).first(conn).optional()?;
            let (id, outcome) = match existing {
                Some(id) => (id, Outcome::Matched),
                None => {
                    let id = diesel::insert_into(tags::table)
                        .values((
                            tags::slug.eq(&slug),
                            tags::name.eq(&name),
                            tags::description.eq(description.as_deref()),
                            tags::created_at.eq(self.now),
                            tags::updated_at.eq(self.now),
                        ))
                        .returning(tags::id)
                        .get_result(conn)?;
                    (id, Outcome::Imported)
                }
            };
            remember(conn, &self.source, "tag", source_id, id, self.now)?;
            Ok((id, outcome))
        })
    }

    /// What a source's post became, when it was imported before in this `version` (or without
    /// one): then there is nothing to write for it.
    pub fn current(
        &self,
        conn: &mut DbConnection,
        post_id: &str,
        version: Option<&str>,
    ) -> Result<Option<Imported>, ApiError> {
        let known = imported(conn, &self.source, "post", post_id)?;
        Ok(known.filter(|known| !known.newer_at_source(version) && !known.lacks_version(version)))
    }

    /// Writes a source's post as an article with its first revision, under a free slug, and
    /// `after` it (in the same transaction: a redirect from its old permalink, say); or, imported
    /// before and changed at the source since, writes its new content over the article's, unless
    /// the article was edited here since.
    pub fn post<T>(
        &self,
        conn: &mut DbConnection,
        post: SourcePost,
        after: impl FnOnce(&mut DbConnection, i64, &str) -> Result<T, ApiError>,
    ) -> Result<Written<T>, ApiError> {
        self.in_transaction(conn, |conn| {
            if let Some(known) = imported(conn, &self.source, "post", post.source_id)? {
                let key = import_sources::table.find((&self.source, "post", post.source_id));
                if known.lacks_version(post.version) {
                    // Imported before versions were kept: from now on, changes are seen.
                    diesel::update(key).set(import_sources::source_version.eq(post.version)).execute(conn)?;
                    return Ok(Written::Unchanged);
                }
                if !known.newer_at_source(post.version) {
                    return Ok(Written::Unchanged);
                }
                // The row is locked first (a no-op update), so an editor's write cannot land
                // between the look at its last change and the import's.
                let article = articles::table.find(known.local_id);
                if diesel::update(article).set(articles::version.eq(articles::version)).execute(conn)? == 0 {
                    return Ok(Written::Unchanged);
                }
                let edited: Option<NaiveDateTime> = article.select(articles::updated_at).first(conn).optional()?;
                return match edited {
                    None => Ok(Written::Unchanged),
                    Some(at) if at > known.imported_at => Ok(Written::EditedHere(known.local_id)),
                    Some(_) => {
                        replace_imported(conn, known.local_id, &post.content, post.trashed, self.now)?;
                        let note = format!("updated from {}", post.from);
                        revisions::record(conn, known.local_id, post.reviser, Some(note))?;
                        diesel::update(key)
                            .set((
                                import_sources::source_version.eq(post.version),
                                import_sources::imported_at.eq(self.now),
                            ))
                            .execute(conn)?;
                        Ok(Written::Updated(known.local_id))
                    }
                };
            }
            let slug = free_slug(conn, post.slug)?;
            let content = ArticleContent { slug: &slug, ..post.content };
            let id = insert_article(conn, &content)?
                .ok_or_else(|| ApiError::Conflict(format!("the slug `{slug}` was taken meanwhile")))?;
            if post.trashed {
                diesel::update(articles::table.find(id)).set(articles::deleted_at.eq(Some(self.now))).execute(conn)?;
            }
            revisions::record(conn, id, post.reviser, Some(format!("imported from {}", post.from)))?;
            remember_version(conn, &self.source, "post", post.source_id, id, post.version, self.now)?;
            let with = after(conn, id, &slug)?;
            Ok(Written::Imported { id, slug, with })
        })
    }
}
