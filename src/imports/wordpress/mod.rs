//! `masthead import wordpress FILE.xml`: a WordPress export read as a stream (`reader`), each
//! author, term and post written in a transaction of its own (`posts`), so that one bad item is
//! reported and skipped, and an interrupted import can be run again to finish.

mod posts;
pub mod reader;

use std::collections::HashMap;
use std::io::BufRead;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use self::reader::{Entry, WpAuthor, WpTerm, WxrReader};
use super::media::Fetcher;
use super::{Report, local_id, remember};
use crate::db::{DbConnection, commit_without_waiting, write_transaction};
use crate::error::ApiError;
use crate::schema::{authors, tags};
use crate::site::PathTemplate;
use crate::slugs;

/// What to import, and how.
#[derive(Debug, Clone)]
pub struct Options {
    /// Write nothing: say what would be done.
    pub dry_run: bool,
    /// Import pages as articles tagged `page` (skipped otherwise).
    pub pages: bool,
    /// The front end's article paths: an old permalink that is the new path needs no redirect.
    pub article_path: PathTemplate,
}

/// What an import knows as it goes: the site, and what its authors, terms and attachments became.
struct Run<'f> {
    source: String,
    base_url: String,
    options: Options,
    now: NaiveDateTime,
    /// Author login → local author id.
    authors: HashMap<String, i64>,
    /// `(taxonomy, slug)` → local tag id.
    terms: HashMap<(String, String), i64>,
    /// Attachment post id → (URL, alt text): featured images.
    attachments: HashMap<String, (String, Option<String>)>,
    /// Articles whose featured image came before its attachment: (article, attachment id, author).
    waiting_covers: Vec<(i64, String, i64)>,
    /// With `--fetch-media`: brings featured images into the media library.
    fetcher: Option<&'f mut dyn Fetcher>,
    /// Attachments that could not be fetched in this run: not tried again for the next post.
    unfetched: std::collections::HashSet<String>,
}

/// Imports the WordPress export read from `input`; `progress` gets the bytes read so far. The
/// report says what was imported, matched, skipped or failed, and why the import stopped early,
/// if it did (a file cut short or not well-formed: what was read before stays imported).
/// With a `fetcher` (`--fetch-media`), featured images are brought into the media library and
/// become covers from it (not in a dry run, which fetches nothing).
pub fn import(
    conn: &mut DbConnection,
    input: impl BufRead,
    options: Options,
    fetcher: Option<&mut dyn Fetcher>,
    progress: &mut dyn FnMut(u64),
) -> Report {
    let mut report = Report { dry_run: options.dry_run, ..Report::default() };
    if options.dry_run {
        // One transaction rolled back at the end; each item in a savepoint of it.
        let _ = write_transaction(conn, |conn| {
            read_all(conn, input, options, None, progress, &mut report);
            Err::<(), _>(ApiError::Internal("a dry run writes nothing".into()))
        });
    } else {
        read_all(conn, input, options, fetcher, progress, &mut report);
    }
    report
}

fn read_all(
    conn: &mut DbConnection,
    input: impl BufRead,
    options: Options,
    fetcher: Option<&mut dyn Fetcher>,
    progress: &mut dyn FnMut(u64),
    report: &mut Report,
) {
    let mut fetcher = fetcher;
    let mut reader = WxrReader::new(input);
    let mut run: Option<Run> = None;
    loop {
        let entry = match reader.next_entry() {
            Ok(Some(entry)) => entry,
            Ok(None) => break,
            Err(error) => {
                report.stopped = Some(error.0);
                break;
            }
        };
        progress(reader.position());
        match (entry, &mut run) {
            (Entry::Site { base_url, .. }, None) => {
                let base_url = base_url.trim_end_matches('/').to_string();
                report.source = format!("wordpress:{base_url}");
                run = Some(Run {
                    source: report.source.clone(),
                    base_url,
                    options: options.clone(),
                    now: crate::db::now(),
                    authors: HashMap::new(),
                    terms: HashMap::new(),
                    attachments: HashMap::new(),
                    waiting_covers: Vec::new(),
                    fetcher: fetcher.take(),
                    unfetched: Default::default(),
                });
            }
            (Entry::Author(author), Some(run)) => run.author(conn, &author, report),
            (Entry::Term(term), Some(run)) => run.term(conn, &term, report),
            (Entry::Item(item), Some(run)) => run.item(conn, &item, report),
            _ => {}
        }
    }
    if let Some(run) = &mut run {
        run.finish_covers(conn, report);
    }
}

/// Runs one item's writes in a transaction of its own (a savepoint of the dry run's). It commits
/// without waiting for the disk (PostgreSQL's `synchronous_commit = off`, for it only): a crash
/// may lose the last items, which importing again brings in, as it finishes any import.
fn in_transaction<T>(
    conn: &mut DbConnection,
    dry_run: bool,
    work: impl FnOnce(&mut DbConnection) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    if dry_run {
        conn.transaction(work)
    } else {
        write_transaction(conn, |conn| {
            commit_without_waiting(conn)?;
            work(conn)
        })
    }
}

impl Run<'_> {
    /// An author: matched to an account by e-mail, or a byline-only author.
    fn author(&mut self, conn: &mut DbConnection, author: &WpAuthor, report: &mut Report) {
        let login = author.login.trim().to_string();
        if login.is_empty() {
            report.skipped("authors", "no login");
            return;
        }
        match self.author_id(conn, &login, &author.email, &author.display_name, report) {
            Ok(_) => {}
            Err(error) => report.failed("authors", &login, error.for_terminal()),
        }
    }

    /// The local author for a WordPress login, made (byline-only) when it is not here yet.
    fn author_id(
        &mut self,
        conn: &mut DbConnection,
        login: &str,
        email: &str,
        display_name: &str,
        report: &mut Report,
    ) -> Result<i64, ApiError> {
        if let Some(id) = self.authors.get(login) {
            return Ok(*id);
        }
        let (source, now, dry_run) = (self.source.clone(), self.now, self.options.dry_run);
        let email = crate::email::normalize(email.trim());
        let (id, how) = in_transaction(conn, dry_run, |conn| {
            if let Some(id) = local_id(conn, &source, "author", login)? {
                return Ok((id, "already imported"));
            }
            let account: Option<i64> = match email.is_empty() {
                true => None,
                false => authors::table.filter(authors::email.eq(&email)).select(authors::id).first(conn).optional()?,
            };
            let (id, how) = match account {
                Some(id) => (id, "matched"),
                None => {
                    let name: String = match display_name.trim() {
                        "" => login.to_string(),
                        name => name.to_string(),
                    };
                    let name: String = name.chars().take(crate::authors::model::MAX_NAME_CHARS).collect();
                    let base = slugs::slugify_name(&name, "author");
                    let slug = slugs::unique_slug(&base, |s| db_slug_taken_authors(conn, s))?;
                    let id = diesel::insert_into(authors::table)
                        .values((
                            authors::slug.eq(&slug),
                            authors::name.eq(&name),
                            authors::role.eq("author"),
                            authors::active.eq(true),
                            authors::created_at.eq(now),
                            authors::updated_at.eq(now),
                        ))
                        .returning(authors::id)
                        .get_result(conn)?;
                    (id, "imported")
                }
            };
            remember(conn, &source, "author", login, id, now)?;
            Ok((id, how))
        })?;
        match how {
            "imported" => report.imported("authors"),
            "matched" => report.matched("authors"),
            _ => report.skipped("authors", how),
        }
        self.authors.insert(login.to_string(), id);
        Ok(id)
    }

    /// A category or tag: a tag here, matched by slug (hierarchies flattened).
    fn term(&mut self, conn: &mut DbConnection, term: &WpTerm, report: &mut Report) {
        if let Err(error) = self.tag_id(conn, &term.taxonomy, &term.slug, &term.name, report) {
            report.failed("tags", &term.slug, error.for_terminal());
        }
    }

    /// The local tag for a term, made when it is not here yet; `None` for WordPress's
    /// "Uncategorized", which says nothing.
    fn tag_id(
        &mut self,
        conn: &mut DbConnection,
        taxonomy: &str,
        slug: &str,
        name: &str,
        report: &mut Report,
    ) -> Result<Option<i64>, ApiError> {
        let key = (taxonomy.to_string(), slug.to_string());
        if let Some(id) = self.terms.get(&key) {
            return Ok(Some(*id));
        }
        if taxonomy == "category" && slug == "uncategorized" {
            report.skipped("tags", "WordPress's default category, Uncategorized");
            return Ok(None);
        }
        let name: String = match name.trim() {
            "" => slug.to_string(),
            name => name.to_string(),
        };
        let name: String = name.chars().take(crate::tags::model::MAX_TAG_NAME_CHARS).collect();
        let decoded = percent_decoded(slug);
        let local_slug = if slugs::is_valid_slug(&decoded) { decoded } else { slugs::slugify_name(&name, "tag") };
        let (source, now, dry_run) = (self.source.clone(), self.now, self.options.dry_run);
        let source_id = format!("{taxonomy}:{slug}");
        let (id, how) = in_transaction(conn, dry_run, |conn| {
            if let Some(id) = local_id(conn, &source, "tag", &source_id)? {
                return Ok((id, "already imported"));
            }
            let existing: Option<i64> =
                tags::table.filter(tags::slug.eq(&local_slug)).select(tags::id).first(conn).optional()?;
            let (id, how) = match existing {
                Some(id) => (id, "matched"),
                None => {
                    let id = diesel::insert_into(tags::table)
                        .values((
                            tags::slug.eq(&local_slug),
                            tags::name.eq(&name),
                            tags::created_at.eq(now),
                            tags::updated_at.eq(now),
                        ))
                        .returning(tags::id)
                        .get_result(conn)?;
                    (id, "imported")
                }
            };
            remember(conn, &source, "tag", &source_id, id, now)?;
            Ok((id, how))
        })?;
        match how {
            "imported" => report.imported("tags"),
            "matched" => report.matched("tags"),
            _ => report.skipped("tags", how),
        }
        self.terms.insert(key, id);
        Ok(Some(id))
    }

    /// Featured images whose attachment came after their post, now that every one was read.
    fn finish_covers(&mut self, conn: &mut DbConnection, report: &mut Report) {
        for (article, attachment, author) in std::mem::take(&mut self.waiting_covers) {
            let Some((url, alt)) = self.attachments.get(&attachment).cloned() else {
                report.note("posts", &attachment, "a featured image that is not in the file");
                continue;
            };
            let from_library = self.library_cover(conn, &attachment, &url, alt.as_deref(), author, report);
            let result = in_transaction(conn, self.options.dry_run, |conn| match from_library {
                Some(media) => posts::set_library_cover(conn, article, media),
                None => posts::set_cover(conn, article, &url, alt.as_deref()),
            });
            if let Err(error) = result {
                report.failed("posts", &attachment, error.for_terminal());
            }
        }
    }

    /// With `--fetch-media`, the featured image `attachment` in the media library (fetched the
    /// first time); `None` without it, or when it cannot be fetched (then the cover is its URL,
    /// and the report says why).
    fn library_cover(
        &mut self,
        conn: &mut DbConnection,
        attachment: &str,
        url: &str,
        alt: Option<&str>,
        author: i64,
        report: &mut Report,
    ) -> Option<i64> {
        if self.unfetched.contains(attachment) {
            return None;
        }
        let fetcher = self.fetcher.as_deref_mut()?;
        let fresh = local_id(conn, &self.source, "attachment", attachment).ok().flatten().is_none();
        match super::media::library_image(conn, fetcher, &self.source, attachment, url, alt, author, self.now) {
            Ok(id) => {
                if fresh {
                    report.imported("media");
                }
                Some(id)
            }
            Err(error) => {
                report.failed("media", attachment, error.for_terminal());
                self.unfetched.insert(attachment.to_string());
                None
            }
        }
    }
}

fn db_slug_taken_authors(conn: &mut DbConnection, slug: &str) -> Result<bool, ApiError> {
    crate::db::slug_taken!(conn, authors, slug, None::<i64>)
}

/// `caf%c3%a9` → `café`; text that is not percent-encoded UTF-8 stays as it is.
pub(crate) fn percent_decoded(text: &str) -> String {
    percent_encoding::percent_decode_str(text.trim())
        .decode_utf8()
        .map(|decoded| decoded.to_lowercase())
        .unwrap_or_else(|_| text.trim().to_lowercase())
}
