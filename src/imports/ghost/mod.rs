//! `masthead import ghost FILE.json`: a Ghost export (versions 2 to 5) read twice as a stream.
//! The first pass keeps what posts refer to (users, tags, `posts_tags`, `posts_authors`,
//! `posts_meta`) and checks the whole file, so that a file that is not JSON, is cut short or comes
//! from an unknown version writes nothing; the second writes the posts one at a time, each in a
//! transaction of its own, as the WordPress importer does.

mod posts;
pub mod reader;
pub mod row;

use std::collections::HashMap;
use std::io::{BufRead, Seek, SeekFrom};

use self::reader::{Limits, Rows};
use self::row::{Row, flag, id, number, text};
use super::Report;
use super::media::{Covers, Fetcher};
use super::records::{SourceAuthor, Writer, cut, rolled_back_if};
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
/// What the first pass may keep of users, tags and relations: a file that needs more is refused.
const MAX_KEPT_BYTES: usize = 256 * 1024 * 1024;
/// What one entry kept costs besides its text (the maps' own bookkeeping).
const ENTRY_BYTES: usize = 96;
/// Tags or authors kept per post (more than an article may have).
const MAX_RELATED: usize = 100;

/// A file read twice: from the start, then again.
pub trait Input: BufRead + Seek {}
impl<T: BufRead + Seek> Input for T {}

/// Imports the Ghost export `input` (read twice); `progress` gets the bytes read so far, over
/// both passes. `Err` when the file is refused before anything was written: not JSON, cut short,
/// past a limit, not a Ghost export, or from a version not read here. With a `fetcher`
/// (`--fetch-media`), feature images are brought into the media library.
pub fn import(
    conn: &mut DbConnection,
    input: &mut dyn Input,
    options: Options,
    fetcher: Option<&mut dyn Fetcher>,
    progress: &mut dyn FnMut(u64),
) -> Result<Report, String> {
    let mut relations =
        Relations { report: Report { dry_run: options.dry_run, ..Report::default() }, ..Default::default() };
    let mut first_pass = 0;
    let mut counting = |read| {
        first_pass = read;
        progress(read)
    };
    reader::read(&mut *input, &mut relations, Limits::default(), &mut counting)
        .map_err(|e| format!("not a Ghost export that can be read: {e}"))?;
    relations.check_version()?;
    input.seek(SeekFrom::Start(0)).map_err(|e| format!("cannot read the file again: {e}"))?;
    let mut report = std::mem::take(&mut relations.report);
    report.source = match &relations.db_hash {
        Some(hash) => format!("ghost:{hash}"),
        None => "ghost".to_string(),
    };
    let writer = Writer { source: report.source.clone(), now: crate::db::now(), dry_run: options.dry_run };
    let fetcher = if options.dry_run { None } else { fetcher };
    let mut run =
        Run { writer, options, relations, authors: HashMap::new(), tags: HashMap::new(), covers: Covers::new(fetcher) };
    rolled_back_if(conn, run.options.dry_run, |conn| {
        run.all_tags(conn, &mut report);
        let mut posts = Posts { run: &mut run, conn, report: &mut report };
        let second = reader::read(input, &mut posts, Limits::default(), &mut |read| progress(first_pass + read));
        if let Err(error) = second {
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
    /// Post id → what the relation tables say of it.
    posts: HashMap<Box<str>, PostRefs>,
    /// The tag and user ids relations name, each kept once (`PostRefs` holds their places).
    names: Vec<Box<str>>,
    places: HashMap<Box<str>, u32>,
    /// Rows that could not be read, as the import's report will say.
    report: Report,
    /// What is kept so far, roughly (see [`MAX_KEPT_BYTES`]).
    kept: usize,
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

/// What the relation tables say of one post: its tags and authors as (sort order, place in
/// `Relations::names`), and its `posts_meta`.
#[derive(Default)]
struct PostRefs {
    tags: Vec<(i32, u32)>,
    authors: Vec<(i32, u32)>,
    meta: Option<Box<PostMeta>>,
}

/// `posts_meta` (Ghost 3 and later): SEO fields, the feature image's alt text, e-mail only.
#[derive(Default)]
struct PostMeta {
    meta_title: Option<String>,
    meta_description: Option<String>,
    feature_image_alt: Option<String>,
    email_only: bool,
}

/// A text field, trimmed and cut to what is kept of it here; `None` when empty.
fn kept(row: &Row, field: &str, max: usize) -> Result<Option<String>, String> {
    Ok(text(row, field)?.map(|text| cut(text, max)).filter(|text| !text.is_empty()))
}

/// `db_hash` is a UUID; anything else does not name the source.
fn is_db_hash(text: &str) -> bool {
    (1..=64).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

impl Relations {
    /// A post's entry, made on first mention; with what making it cost.
    fn post_refs(&mut self, post: String) -> (&mut PostRefs, usize) {
        let cost = if self.posts.contains_key(post.as_str()) { 0 } else { post.len() + ENTRY_BYTES };
        (self.posts.entry(post.into_boxed_str()).or_default(), cost)
    }

    /// The place of a tag or user id in `names`, kept the first time; with what keeping it cost.
    fn place(&mut self, name: String) -> (u32, usize) {
        if let Some(place) = self.places.get(name.as_str()) {
            return (*place, 0);
        }
        let place = self.names.len() as u32;
        let cost = name.len() * 2 + ENTRY_BYTES;
        let name = name.into_boxed_str();
        self.names.push(name.clone());
        self.places.insert(name, place);
        (place, cost)
    }

    /// A post's tag or user ids, in Ghost's order.
    fn related(&self, post: &str, which: impl Fn(&PostRefs) -> &Vec<(i32, u32)>) -> Vec<String> {
        let Some(refs) = self.posts.get(post) else { return Vec::new() };
        let mut related = which(refs).clone();
        related.sort_by_key(|(order, _)| *order);
        related.into_iter().map(|(_, place)| self.names[place as usize].to_string()).collect()
    }

    fn meta(&self, post: &str) -> Option<&PostMeta> {
        self.posts.get(post).and_then(|refs| refs.meta.as_deref())
    }

    fn check_version(&self) -> Result<(), String> {
        let Some(version) = &self.version else {
            return Err("not a Ghost export: it has no `meta.version`".into());
        };
        let major = version.split_once('.').and_then(|(major, _)| major.parse::<u32>().ok());
        match major {
            Some(major) if VERSIONS.contains(&major) => Ok(()),
            _ => Err(format!(
                "a Ghost export of version {}, which is not read here: exports of Ghost {} to {} are",
                cut(version, 40),
                VERSIONS.start(),
                VERSIONS.end()
            )),
        }
    }

    /// Keeps what a row says; returns roughly how many bytes that took.
    fn read_row(&mut self, table: &str, row: &Row) -> Result<usize, String> {
        use crate::articles::model::{MAX_ALT_CHARS, MAX_SEO_DESCRIPTION_CHARS, MAX_SEO_TITLE_CHARS};
        let need = |what: Option<String>, missing: &str| what.ok_or_else(|| missing.to_string());
        match table {
            "users" => {
                let user = need(id(row, "id")?, "a user without an id")?;
                let name = kept(row, "name", crate::authors::model::MAX_NAME_CHARS)?.unwrap_or_default();
                let slug = kept(row, "slug", 200)?.unwrap_or_default();
                let email = kept(row, "email", 320)?.unwrap_or_default();
                let bio = kept(row, "bio", crate::authors::model::MAX_BIO_CHARS)?;
                let size = user.len() + name.len() + slug.len() + email.len() + bio.as_ref().map_or(0, String::len);
                let size = size + ENTRY_BYTES;
                self.users.insert(user, User { name, slug, email, bio });
                Ok(size)
            }
            "tags" => {
                let tag = need(id(row, "id")?, "a tag without an id")?;
                let name = kept(row, "name", crate::tags::model::MAX_TAG_NAME_CHARS)?.unwrap_or_default();
                let internal = name.starts_with('#') || text(row, "visibility")? == Some("internal");
                let slug = kept(row, "slug", 200)?.unwrap_or_default();
                let description = kept(row, "description", crate::tags::model::MAX_TAG_DESCRIPTION_CHARS)?;
                let size = tag.len() + name.len() + slug.len() + description.as_ref().map_or(0, String::len);
                let size = size + ENTRY_BYTES;
                self.tags.push(Tag { id: tag, name, slug, description, internal });
                Ok(size)
            }
            "posts_tags" | "posts_authors" => {
                let other = if table == "posts_tags" { "tag_id" } else { "author_id" };
                let post = need(id(row, "post_id")?, "a relation without its post")?;
                let other = need(id(row, other)?, "a relation without its tag or author")?;
                let order = number(row, "sort_order").clamp(i32::MIN as i64, i32::MAX as i64) as i32;
                let is_tag = table == "posts_tags";
                let full = self
                    .posts
                    .get(post.as_str())
                    .is_some_and(|refs| (if is_tag { &refs.tags } else { &refs.authors }).len() >= MAX_RELATED);
                if full {
                    return Ok(0);
                }
                let (place, named) = self.place(other);
                let (refs, made) = self.post_refs(post);
                (if is_tag { &mut refs.tags } else { &mut refs.authors }).push((order, place));
                Ok(named + made + 8)
            }
            "posts_meta" => {
                let post = need(id(row, "post_id")?, "post metadata without a post")?;
                let meta = PostMeta {
                    meta_title: kept(row, "meta_title", MAX_SEO_TITLE_CHARS)?,
                    meta_description: kept(row, "meta_description", MAX_SEO_DESCRIPTION_CHARS)?,
                    feature_image_alt: kept(row, "feature_image_alt", MAX_ALT_CHARS)?,
                    email_only: flag(row, "email_only")?,
                };
                let texts = [&meta.meta_title, &meta.meta_description, &meta.feature_image_alt];
                let size = texts.iter().map(|t| t.as_ref().map_or(0, |t| t.len() + 24)).sum::<usize>() + 48;
                let (refs, made) = self.post_refs(post);
                refs.meta = Some(Box::new(meta));
                Ok(size + made)
            }
            "settings" if text(row, "key")? == Some("db_hash") => {
                self.db_hash = text(row, "value")?.map(str::trim).filter(|hash| is_db_hash(hash)).map(str::to_string);
                Ok(0)
            }
            _ => Ok(0),
        }
    }
}

impl Rows for Relations {
    fn fields(&self, table: &str) -> Option<&'static [&'static str]> {
        Some(match table {
            "users" => &["id", "name", "slug", "email", "bio"],
            "tags" => &["id", "name", "slug", "description", "visibility"],
            "posts_tags" => &["post_id", "tag_id", "sort_order"],
            "posts_authors" => &["post_id", "author_id", "sort_order"],
            "posts_meta" => &["post_id", "meta_title", "meta_description", "feature_image_alt", "email_only"],
            "settings" => &["key", "value"],
            // Each post is read within its size limit here too, so that the second pass meets no
            // row the first did not check.
            "posts" => &[],
            _ => return None,
        })
    }

    fn version(&mut self, version: String) {
        self.version = Some(version);
    }

    fn row(&mut self, table: &str, row: Result<Row, String>) -> Result<(), String> {
        if table == "posts" {
            return Ok(());
        }
        let kind = match table {
            "users" => "authors",
            "tags" => "tags",
            "settings" => "settings",
            _ => "relations",
        };
        let (source_id, result) = match row {
            Ok(row) => (id(&row, "id").ok().flatten(), self.read_row(table, &row)),
            Err(error) => (None, Err(error)),
        };
        match result {
            Ok(size) => self.kept += size,
            Err(reason) => self.report.failed(kind, source_id.as_deref().unwrap_or("?"), format!("{table}: {reason}")),
        }
        if self.kept > MAX_KEPT_BYTES {
            return Err(format!(
                "its users, tags and relations need more than the {} MiB an import holds",
                MAX_KEPT_BYTES / 1024 / 1024
            ));
        }
        Ok(())
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
    fn fields(&self, table: &str) -> Option<&'static [&'static str]> {
        (table == "posts").then_some(posts::FIELDS)
    }

    fn version(&mut self, _: String) {}

    fn row(&mut self, _: &str, row: Result<Row, String>) -> Result<(), String> {
        match row {
            Ok(row) => self.run.post(self.conn, &row, self.report),
            Err(error) => self.report.failed("posts", "?", error),
        }
        Ok(())
    }
}
