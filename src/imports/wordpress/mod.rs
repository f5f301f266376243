//! `masthead import wordpress FILE.xml`: a WordPress export read as a stream (`reader`), each
//! author, term and post written in a transaction of its own (`posts`), so that one bad item is
//! reported and skipped, and an interrupted import can be run again to finish.

mod posts;
pub mod reader;

use std::collections::HashMap;
use std::io::BufRead;

use self::reader::{Entry, WpAuthor, WpTerm, WxrReader};
use super::Report;
use super::media::{Covers, Fetcher};
use super::records::{SourceAuthor, Writer, rolled_back_if};
use crate::db::DbConnection;
use crate::error::ApiError;
use crate::site::PathTemplate;

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
    writer: Writer,
    base_url: String,
    options: Options,
    /// Author login → local author id.
    authors: HashMap<String, i64>,
    /// `(taxonomy, slug)` → local tag id.
    terms: HashMap<(String, String), i64>,
    /// Attachment post id → (URL, alt text): featured images.
    attachments: HashMap<String, (String, Option<String>)>,
    /// Articles whose featured image came before its attachment: (article, attachment id, author).
    waiting_covers: Vec<(i64, String, i64)>,
    /// With `--fetch-media`: brings featured images into the media library.
    covers: Covers<'f>,
    /// What the maps above hold, roughly (see [`MAX_KEPT_BYTES`]).
    kept: usize,
}

/// What an import may keep of authors, terms and attachments: past it, the import stops.
const MAX_KEPT_BYTES: usize = 256 * 1024 * 1024;
/// What one entry kept costs besides its text (the maps' own bookkeeping).
const ENTRY_BYTES: usize = 96;
/// The longest featured image URL kept.
const MAX_URL_CHARS: usize = 2048;

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
    let fetcher = if options.dry_run { None } else { fetcher };
    rolled_back_if(conn, options.dry_run, |conn| read_all(conn, input, options, fetcher, progress, &mut report));
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
                    writer: Writer { source: report.source.clone(), now: crate::db::now(), dry_run: options.dry_run },
                    base_url,
                    options: options.clone(),
                    authors: HashMap::new(),
                    terms: HashMap::new(),
                    attachments: HashMap::new(),
                    waiting_covers: Vec::new(),
                    covers: Covers::new(fetcher.take()),
                    kept: 0,
                });
            }
            (Entry::Author(author), Some(run)) => run.author(conn, &author, report),
            (Entry::Term(term), Some(run)) => run.term(conn, &term, report),
            (Entry::Item(item), Some(run)) => run.item(conn, &item, report),
            _ => {}
        }
        if run.as_ref().is_some_and(|run| run.kept > MAX_KEPT_BYTES) {
            let mib = MAX_KEPT_BYTES / 1024 / 1024;
            report.stopped =
                Some(format!("its authors, terms and attachments need more than the {mib} MiB an import holds"));
            break;
        }
    }
    if let Some(run) = &mut run {
        run.finish_covers(conn, report);
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
        let author = SourceAuthor { source_id: login, email, name: display_name, slug: "", bio: None };
        let (id, outcome) = self.writer.author(conn, &author)?;
        report.outcome("authors", outcome);
        self.kept += login.len() + ENTRY_BYTES;
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
        let source_id = format!("{taxonomy}:{slug}");
        let (id, outcome) = self.writer.tag(conn, &source_id, &percent_decoded(slug), name, None)?;
        report.outcome("tags", outcome);
        self.kept += key.0.len() + key.1.len() + ENTRY_BYTES;
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
            let from_library =
                self.covers.library_image(conn, &self.writer, &attachment, &url, alt.as_deref(), author, report);
            let result = self.writer.in_transaction(conn, |conn| match from_library {
                Some(media) => posts::set_library_cover(conn, article, media),
                None => posts::set_cover(conn, article, &url, alt.as_deref()),
            });
            if let Err(error) = result {
                report.failed("posts", &attachment, error.for_terminal());
            }
        }
    }
}

/// `caf%c3%a9` → `café`; text that is not percent-encoded UTF-8 stays as it is.
pub(crate) fn percent_decoded(text: &str) -> String {
    percent_encoding::percent_decode_str(text.trim())
        .decode_utf8()
        .map(|decoded| decoded.to_lowercase())
        .unwrap_or_else(|_| text.trim().to_lowercase())
}
