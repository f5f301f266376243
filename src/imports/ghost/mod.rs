//! `masthead import ghost FILE.json`: a Ghost export (versions 2 to 5) read twice as a stream.
//! The first pass keeps what posts refer to (users, tags, `posts_tags`, `posts_authors`,
//! `posts_meta`) and checks the whole file, so that a file that is not JSON, is cut short or comes
//! from an unknown version writes nothing; the second writes the posts one at a time, each in a
//! transaction of its own, as the WordPress importer does.

mod posts;
pub mod reader;

use std::collections::HashMap;
use std::io::BufRead;

use serde_json::{Map, Value};

use self::reader::{Rows, flag, id, number, text};
use super::Report;
use super::media::{Covers, Fetcher};
use super::records::{SourceAuthor, Writer, rolled_back_if};
use crate::db::DbConnection;
use crate::error::ApiError;

/// What to import, and how.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Write nothing: say what would be done.
    pub dry_run: bool,
    /// Import pages as articles tagged `page` (skipped otherwise).
    pub pages: bool,
    /// The old site's origin, for Ghost's `__GHOST_URL__` placeholder; without it, links to the
    /// old site stay relative to the site (and covers from it are left out).
    pub site_url: Option<String>,
}

/// The Ghost versions whose exports are read.
const VERSIONS: std::ops::RangeInclusive<u32> = 2..=5;

/// Imports the Ghost export that `open` reads (twice); `progress` gets the bytes read so far,
/// over both passes. `Err` when the file is refused before anything was written: not JSON, cut
/// short, not a Ghost export, or from a version not read here. With a `fetcher`
/// (`--fetch-media`), feature images are brought into the media library.
pub fn import(
    conn: &mut DbConnection,
    open: &mut dyn FnMut() -> Result<Box<dyn BufRead>, String>,
    options: Options,
    fetcher: Option<&mut dyn Fetcher>,
    progress: &mut dyn FnMut(u64),
) -> Result<Report, String> {
    let mut relations = Relations::default();
    let mut first_pass = 0;
    reader::read(open()?, &mut relations, &mut |read| {
        first_pass = read;
        progress(read)
    })
    .map_err(|e| format!("not a Ghost export that can be read: {e}"))?;
    relations.check_version()?;
    let mut report = Report { dry_run: options.dry_run, ..Report::default() };
    report.source = match &relations.db_hash {
        Some(hash) => format!("ghost:{hash}"),
        None => "ghost".to_string(),
    };
    for (kind, source_id, reason) in std::mem::take(&mut relations.problems) {
        report.failed(kind, &source_id, reason);
    }
    let input = open()?;
    let writer = Writer { source: report.source.clone(), now: crate::db::now(), dry_run: options.dry_run };
    let fetcher = if options.dry_run { None } else { fetcher };
    let mut run =
        Run { writer, options, relations, authors: HashMap::new(), tags: HashMap::new(), covers: Covers::new(fetcher) };
    rolled_back_if(conn, run.options.dry_run, |conn| {
        run.all_tags(conn, &mut report);
        let mut posts = Posts { run: &mut run, conn, report: &mut report };
        if let Err(error) = reader::read(input, &mut posts, &mut |read| progress(first_pass + read)) {
            report.stopped = Some(error);
        }
    });
    Ok(report)
}

/// What posts refer to, kept from the first pass.
#[derive(Default)]
struct Relations {
    version: Option<String>,
    /// Ghost's id for its database (`settings.db_hash`): names the source, so that two Ghost
    /// sites imported here never mix their ids.
    db_hash: Option<String>,
    users: HashMap<String, User>,
    /// In the file's order.
    tags: Vec<Tag>,
    /// Post id → (sort order, tag id).
    posts_tags: HashMap<String, Vec<(i64, String)>>,
    /// Post id → (sort order, user id).
    posts_authors: HashMap<String, Vec<(i64, String)>>,
    posts_meta: HashMap<String, PostMeta>,
    /// Rows that could not be read: (kind, id, why).
    problems: Vec<(&'static str, String, String)>,
}

struct User {
    name: String,
    slug: String,
    email: String,
    bio: Option<String>,
}

struct Tag {
    id: String,
    name: String,
    slug: String,
    description: Option<String>,
    /// Ghost's internal `#`-tags, which organise and never show.
    internal: bool,
}

/// `posts_meta` (Ghost 4 and later): SEO fields, the feature image's alt text, e-mail only.
#[derive(Default)]
struct PostMeta {
    meta_title: Option<String>,
    meta_description: Option<String>,
    feature_image_alt: Option<String>,
    email_only: bool,
}

fn owned(text: Option<&str>) -> Option<String> {
    text.map(str::trim).filter(|text| !text.is_empty()).map(str::to_string)
}

impl Relations {
    fn check_version(&self) -> Result<(), String> {
        let Some(version) = &self.version else {
            return Err("not a Ghost export: it has no `meta.version`".into());
        };
        let major = version.split_once('.').and_then(|(major, _)| major.parse::<u32>().ok());
        match major {
            Some(major) if VERSIONS.contains(&major) => Ok(()),
            _ => Err(format!(
                "a Ghost export of version {version}, which is not read here: exports of Ghost {} to {} are",
                VERSIONS.start(),
                VERSIONS.end()
            )),
        }
    }

    fn read_row(&mut self, table: &str, row: &Map<String, Value>) -> Result<(), String> {
        match table {
            "users" => {
                let Some(user) = id(row, "id")? else { return Err("a user without an id".into()) };
                let name = text(row, "name")?.unwrap_or_default().to_string();
                let slug = text(row, "slug")?.unwrap_or_default().to_string();
                let email = text(row, "email")?.unwrap_or_default().to_string();
                let bio = owned(text(row, "bio")?);
                self.users.insert(user, User { name, slug, email, bio });
            }
            "tags" => {
                let Some(tag) = id(row, "id")? else { return Err("a tag without an id".into()) };
                let name = text(row, "name")?.unwrap_or_default().to_string();
                let internal = name.starts_with('#') || text(row, "visibility")? == Some("internal");
                let slug = text(row, "slug")?.unwrap_or_default().to_string();
                let description = owned(text(row, "description")?);
                self.tags.push(Tag { id: tag, name, slug, description, internal });
            }
            "posts_tags" | "posts_authors" => {
                let (Some(post), Some(other)) =
                    (id(row, "post_id")?, id(row, if table == "posts_tags" { "tag_id" } else { "author_id" })?)
                else {
                    return Err("a relation without its post or the other side".into());
                };
                let relations = if table == "posts_tags" { &mut self.posts_tags } else { &mut self.posts_authors };
                relations.entry(post).or_default().push((number(row, "sort_order"), other));
            }
            "posts_meta" => {
                let Some(post) = id(row, "post_id")? else { return Err("post metadata without a post".into()) };
                let meta = PostMeta {
                    meta_title: owned(text(row, "meta_title")?),
                    meta_description: owned(text(row, "meta_description")?),
                    feature_image_alt: owned(text(row, "feature_image_alt")?),
                    email_only: flag(row, "email_only")?,
                };
                self.posts_meta.insert(post, meta);
            }
            "settings" if text(row, "key")? == Some("db_hash") => self.db_hash = owned(text(row, "value")?),
            _ => {}
        }
        Ok(())
    }
}

impl Rows for Relations {
    fn wants(&self, table: &str) -> bool {
        matches!(table, "users" | "tags" | "posts_tags" | "posts_authors" | "posts_meta" | "settings")
    }

    fn version(&mut self, version: String) {
        self.version = Some(version);
    }

    fn row(&mut self, table: &str, row: Result<Map<String, Value>, String>) {
        let kind = match table {
            "users" => "authors",
            "tags" | "posts_tags" => "tags",
            "settings" => "settings",
            _ => "posts",
        };
        let (source_id, result) = match row {
            Ok(row) => (id(&row, "id").ok().flatten(), self.read_row(table, &row)),
            Err(error) => (None, Err(error)),
        };
        if let Err(reason) = result {
            self.problems.push((kind, source_id.unwrap_or_else(|| "?".into()), format!("{table}: {reason}")));
        }
    }
}

/// What an import knows as it goes: what Ghost's users and tags became here.
struct Run<'f> {
    writer: Writer,
    options: Options,
    relations: Relations,
    /// Ghost user id → local author id.
    authors: HashMap<String, i64>,
    /// Ghost tag id → local tag id (internal tags are not here).
    tags: HashMap<String, i64>,
    /// With `--fetch-media`: brings feature images into the media library.
    covers: Covers<'f>,
}

impl Run<'_> {
    /// Every tag but the internal ones, in the file's order (tags no post uses yet too).
    fn all_tags(&mut self, conn: &mut DbConnection, report: &mut Report) {
        for tag in &self.relations.tags {
            if tag.internal {
                report.skipped("tags", "Ghost's internal tags (#)");
                continue;
            }
            let slug = super::wordpress::percent_decoded(&tag.slug);
            match self.writer.tag(conn, &tag.id, &slug, &tag.name, tag.description.as_deref()) {
                Ok((local, outcome)) => {
                    report.outcome("tags", outcome);
                    self.tags.insert(tag.id.clone(), local);
                }
                Err(error) => report.failed("tags", &tag.id, error.for_terminal()),
            }
        }
    }

    /// The local author for a Ghost user, made (byline-only) when it is not here yet; `None` for
    /// a user the file does not have.
    fn author_id(&mut self, conn: &mut DbConnection, user: &str, report: &mut Report) -> Result<Option<i64>, ApiError> {
        if let Some(id) = self.authors.get(user) {
            return Ok(Some(*id));
        }
        let Some(found) = self.relations.users.get(user) else { return Ok(None) };
        let author = SourceAuthor {
            source_id: user,
            email: &found.email,
            name: &found.name,
            slug: &found.slug,
            bio: found.bio.as_deref(),
        };
        let (id, outcome) = self.writer.author(conn, &author)?;
        report.outcome("authors", outcome);
        self.authors.insert(user.to_string(), id);
        Ok(Some(id))
    }
}

/// The second pass: posts.
struct Posts<'p, 'f> {
    run: &'p mut Run<'f>,
    conn: &'p mut DbConnection,
    report: &'p mut Report,
}

impl Rows for Posts<'_, '_> {
    fn wants(&self, table: &str) -> bool {
        table == "posts"
    }

    fn version(&mut self, _: String) {}

    fn row(&mut self, _: &str, row: Result<Map<String, Value>, String>) {
        match row {
            Ok(row) => self.run.post(self.conn, &row, self.report),
            Err(error) => self.report.failed("posts", "?", error),
        }
    }
}
