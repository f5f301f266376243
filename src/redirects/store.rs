//! Redirect queries and writes: articles' former slugs (kept by article writes, in their
//! transaction) and path redirects (made by editors and imports). Path redirects may lead to one
//! another; the table keeps what was written and follows chains when it is read, and no write may
//! close a loop.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::dsl::count_star;
use diesel::prelude::*;

use super::model::{AdminRedirectQuery, PublicRedirect, RedirectKind, RedirectRow, STATUSES, Target};
use crate::db::visibility::is_public;
use crate::db::{DbConnection, lock_key, write_transaction};
use crate::error::{ApiError, Validator, is_http_url};
use crate::pagination::PageRequest;
use crate::schema::{articles, redirects};
use crate::site::PathTemplate;

/// Longest path or URL a redirect holds.
pub const MAX_PATH_CHARS: usize = 2000;
/// Path redirects that may follow one another (the longest run followed when read); a write
/// that would make a longer run is refused.
const MAX_HOPS: usize = 8;
/// Path redirects are written one at a time, so that two writes cannot close a loop together.
const WRITE_LOCK: &str = "redirects.paths";

/// Whether `slug` is a former slug of an article other than `article`: it keeps leading there,
/// so no other article may take it.
pub fn slug_held_by_another(conn: &mut DbConnection, slug: &str, article: Option<i64>) -> Result<bool, ApiError> {
    let others =
        redirects::table.filter(redirects::from_slug.eq(slug)).filter(redirects::article_id.ne(article.unwrap_or(-1)));
    Ok(diesel::select(diesel::dsl::exists(others)).get_result(conn)?)
}

/// Called when an article's slug changes from `old` to `new`: an article that has been public
/// keeps `old` as a redirect to itself; a former slug taken back is no longer a redirect.
pub fn slug_changed(
    conn: &mut DbConnection,
    article_id: i64,
    old: &str,
    new: &str,
    was_public: bool,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    diesel::delete(redirects::table.filter(redirects::from_slug.eq(new)).filter(redirects::article_id.eq(article_id)))
        .execute(conn)?;
    if was_public {
        diesel::insert_into(redirects::table)
            .values((
                redirects::from_slug.eq(old),
                redirects::article_id.eq(article_id),
                redirects::status.eq(301),
                redirects::created_at.eq(now),
                redirects::updated_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The slug of the public article that once had `slug`.
pub fn current_slug(conn: &mut DbConnection, now: NaiveDateTime, slug: &str) -> Result<Option<String>, ApiError> {
    // Not a slug at all (or with bytes PostgreSQL cannot compare, such as NUL): nothing to look up.
    if !crate::slugs::is_valid_slug(slug) {
        return Ok(None);
    }
    Ok(redirects::table
        .inner_join(articles::table)
        .filter(redirects::from_slug.eq(slug))
        .filter(is_public(now))
        .select(articles::slug)
        .first(conn)
        .optional()?)
}

/// A path redirect, checked.
#[derive(Debug, Clone)]
pub struct PathRedirect {
    pub from: String,
    pub target: Target,
    pub status: i32,
}

fn is_path(value: &str) -> bool {
    value.starts_with('/')
        && !value.starts_with("//")
        && value.chars().count() <= MAX_PATH_CHARS
        && !value.chars().any(|c| c.is_whitespace() || c.is_control() || c == '#' || c == '\\')
}

const PATH_RULE: &str = "must be a path starting with one `/`, at most 2000 characters, without spaces or `#`";

/// Checks what a client sent for a path redirect: `from` a path, a path or URL as a target, a
/// known status. (A target that leads back to `from` is refused when written: a 409.)
pub fn check(from: &str, target: Target, status: Option<i32>) -> Result<PathRedirect, ApiError> {
    let mut v = Validator::new();
    v.check(is_path(from), "from", PATH_RULE);
    let status = status.unwrap_or(301);
    v.check(STATUSES.contains(&status), "status", "must be 301, 302, 307 or 308");
    if let Target::Path(path) = &target {
        v.check(
            (is_path(path) || is_http_url(path)) && path.chars().count() <= MAX_PATH_CHARS,
            "to.path",
            "must be a path starting with one `/` or an absolute http(s) URL, at most 2000 characters, without spaces",
        );
    }
    v.finish()?;
    Ok(PathRedirect { from: from.to_string(), target, status })
}

/// The most paths `chain_into` follows back at one step.
const FRONTIER: usize = 1000;

/// How many path redirects lead one after another to `path` (the longest such run, counted up
/// to one past [`MAX_HOPS`]), leaving out the redirect `except` (one being changed).
fn chain_into(conn: &mut DbConnection, path: &str, except: Option<i64>) -> Result<usize, ApiError> {
    let mut frontier = vec![path.to_string()];
    for depth in 0..=MAX_HOPS {
        // No DISTINCT or LIMIT: with them, PostgreSQL's generic plan walks the `from_path` index
        // through the whole table instead of looking `to_path` up.
        let mut before: Vec<String> = redirects::table
            .filter(redirects::to_path.eq_any(&frontier))
            .filter(redirects::id.ne(except.unwrap_or(-1)))
            .filter(redirects::from_path.is_not_null())
            .select(redirects::from_path.assume_not_null())
            .load(conn)?;
        before.sort_unstable();
        before.dedup();
        if before.is_empty() {
            return Ok(depth);
        }
        if before.len() > FRONTIER {
            // Too many ways in to follow each: counted as too long, refused.
            return Ok(MAX_HOPS + 1);
        }
        frontier = before;
    }
    Ok(MAX_HOPS + 1)
}

fn loop_error(from: &str, through: &str) -> ApiError {
    ApiError::Conflict(format!("`to`: `{from}` would lead back to itself (a loop), through {through}"))
}

/// Refuses a redirect from `from` to `target` that would close a loop (following `target` comes
/// back to `from`, or to an article whose path on the front end is `from`), or make a run of
/// more than [`MAX_HOPS`] redirects, counting those that lead to `from` already.
fn refuse_loop(
    conn: &mut DbConnection,
    redirect: &PathRedirect,
    except: Option<i64>,
    article_path: &PathTemplate,
) -> Result<(), ApiError> {
    let from = redirect.from.as_str();
    let too_long = || {
        ApiError::Conflict(format!("`to`: more than {MAX_HOPS} redirects would follow one another through `{from}`"))
    };
    let mut length = chain_into(conn, from, except)? + 1;
    if length > MAX_HOPS {
        return Err(too_long());
    }
    let mut next = redirect.target.clone();
    loop {
        let path = match next {
            Target::Path(path) => path,
            Target::Article(id) => {
                let article: Option<(String, Option<NaiveDateTime>)> =
                    articles::table.find(id).select((articles::slug, articles::published_at)).first(conn).optional()?;
                return match article {
                    Some((slug, at)) if article_path.path(&slug, at) == from => {
                        Err(loop_error(from, &format!("the article {id}, whose path it is")))
                    }
                    _ => Ok(()),
                };
            }
        };
        if path == from {
            return Err(loop_error(from, "the redirects it leads to"));
        }
        let found: Option<RedirectRow> = redirects::table
            .filter(redirects::from_path.eq(&path))
            .filter(redirects::id.ne(except.unwrap_or(-1)))
            .select(RedirectRow::as_select())
            .first(conn)
            .optional()?;
        let Some(row) = found else { return Ok(()) };
        length += 1;
        if length > MAX_HOPS {
            return Err(too_long());
        }
        next = row.target();
    }
}

/// Refuses a target article that does not exist (404, like a path to nothing), and a `from` that
/// another redirect has (409).
fn check_references(
    conn: &mut DbConnection,
    redirect: &PathRedirect,
    except: Option<i64>,
    article_path: &PathTemplate,
) -> Result<(), ApiError> {
    if let Target::Article(id) = redirect.target {
        let found = diesel::select(diesel::dsl::exists(articles::table.find(id))).get_result::<bool>(conn)?;
        if !found {
            return Err(ApiError::NotFound(format!("`to.article_id`: no article has the id {id}")));
        }
    }
    let taken: Option<i64> = redirects::table
        .filter(redirects::from_path.eq(&redirect.from))
        .filter(redirects::id.ne(except.unwrap_or(-1)))
        .select(redirects::id)
        .first(conn)
        .optional()?;
    if let Some(id) = taken {
        return Err(ApiError::Conflict(format!("`from`: the redirect {id} is from `{}` already", redirect.from)));
    }
    refuse_loop(conn, redirect, except, article_path)
}

fn target_columns(target: &Target) -> (Option<i64>, Option<&str>) {
    match target {
        Target::Article(id) => (Some(*id), None),
        Target::Path(path) => (None, Some(path.as_str())),
    }
}

/// Writes a path redirect in the caller's transaction (for imports, which write many).
pub fn insert_path_redirect(
    conn: &mut DbConnection,
    redirect: &PathRedirect,
    article_path: &PathTemplate,
    now: NaiveDateTime,
) -> Result<RedirectRow, ApiError> {
    lock_key(conn, WRITE_LOCK)?;
    check_references(conn, redirect, None, article_path)?;
    let (article_id, to_path) = target_columns(&redirect.target);
    let id = diesel::insert_into(redirects::table)
        .values((
            redirects::from_path.eq(&redirect.from),
            redirects::article_id.eq(article_id),
            redirects::to_path.eq(to_path),
            redirects::status.eq(redirect.status),
            redirects::created_at.eq(now),
            redirects::updated_at.eq(now),
        ))
        .returning(redirects::id)
        .get_result(conn)?;
    find(conn, id)
}

/// Writes a path redirect; `article_path` (the front end's) tells where an article target is.
pub fn create(
    conn: &mut DbConnection,
    redirect: PathRedirect,
    article_path: &PathTemplate,
    now: NaiveDateTime,
) -> Result<RedirectRow, ApiError> {
    write_transaction(conn, |conn| insert_path_redirect(conn, &redirect, article_path, now))
}

fn not_found() -> ApiError {
    ApiError::NotFound("no redirect has this id".into())
}

pub fn find(conn: &mut DbConnection, id: i64) -> Result<RedirectRow, ApiError> {
    redirects::table.find(id).select(RedirectRow::as_select()).first(conn).optional()?.ok_or_else(not_found)
}

/// What a `PATCH` asks to change.
#[derive(Debug, Default)]
pub struct RedirectChanges {
    pub from: Option<String>,
    pub target: Option<Target>,
    pub status: Option<i32>,
}

/// Changes a path redirect; an article's former slug cannot be changed (409), only deleted.
pub fn update(
    conn: &mut DbConnection,
    id: i64,
    changes: RedirectChanges,
    article_path: &PathTemplate,
    now: NaiveDateTime,
) -> Result<RedirectRow, ApiError> {
    write_transaction(conn, |conn| {
        lock_key(conn, WRITE_LOCK)?;
        let row = find(conn, id)?;
        let Some(from) = row.from_path.clone() else {
            return Err(ApiError::Conflict(
                "this redirect keeps an article's former slug and follows the article; delete it to free the slug"
                    .into(),
            ));
        };
        let from = changes.from.unwrap_or(from);
        let target = changes.target.unwrap_or_else(|| row.target());
        let redirect = check(&from, target, Some(changes.status.unwrap_or(row.status)))?;
        check_references(conn, &redirect, Some(id), article_path)?;
        let (article_id, to_path) = target_columns(&redirect.target);
        diesel::update(redirects::table.find(id))
            .set((
                redirects::from_path.eq(&redirect.from),
                redirects::article_id.eq(article_id),
                redirects::to_path.eq(to_path),
                redirects::status.eq(redirect.status),
                redirects::updated_at.eq(now),
            ))
            .execute(conn)?;
        find(conn, id)
    })
}

/// Deletes a redirect; deleting an article's former slug frees it for other articles.
pub fn delete(conn: &mut DbConnection, id: i64) -> Result<(), ApiError> {
    write_transaction(conn, |conn| match diesel::delete(redirects::table.find(id)).execute(conn)? {
        0 => Err(not_found()),
        _ => Ok(()),
    })
}

/// Every redirect, oldest first, as editors filter them.
pub fn list_admin(
    conn: &mut DbConnection,
    query: &AdminRedirectQuery,
    page: PageRequest,
) -> Result<(Vec<RedirectRow>, i64), ApiError> {
    let filtered = || {
        let mut rows = redirects::table.into_boxed();
        match query.kind {
            Some(RedirectKind::Slug) => rows = rows.filter(redirects::from_slug.is_not_null()),
            Some(RedirectKind::Path) => rows = rows.filter(redirects::from_path.is_not_null()),
            None => {}
        }
        if let Some(article) = query.article_id {
            rows = rows.filter(redirects::article_id.eq(article));
        }
        rows
    };
    let total = filtered().select(count_star()).first(conn)?;
    let rows = filtered()
        .order(redirects::id.asc())
        .limit(page.per_page)
        .offset(page.offset())
        .select(RedirectRow::as_select())
        .load(conn)?;
    Ok((rows, total))
}

/// The public redirect table, oldest first: former slugs of public articles, and path redirects
/// whose chain ends at a path, a URL or a public article, in the front end's paths. A redirect
/// whose chain ends at an article that is not public is left out of its page (`total` still
/// counts it), so that no draft's slug shows.
pub fn public_table(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    article_path: &PathTemplate,
    page: PageRequest,
) -> Result<(Vec<PublicRedirect>, i64), ApiError> {
    let visible = || {
        let public_articles = articles::table.filter(is_public(now)).select(articles::id.nullable());
        redirects::table.filter(redirects::article_id.is_null().or(redirects::article_id.eq_any(public_articles)))
    };
    let total = visible().select(count_star()).first(conn)?;
    let rows: Vec<RedirectRow> = visible()
        .order(redirects::id.asc())
        .limit(page.per_page)
        .offset(page.offset())
        .select(RedirectRow::as_select())
        .load(conn)?;
    let ends = follow_chains(conn, rows.iter().map(RedirectRow::target).collect())?;
    let mut article_ids: Vec<i64> = rows.iter().filter_map(|row| row.article_id).collect();
    article_ids.extend(ends.iter().filter_map(|end| match end {
        Target::Article(id) => Some(*id),
        Target::Path(_) => None,
    }));
    let public: HashMap<i64, (String, NaiveDateTime)> = articles::table
        .filter(articles::id.eq_any(article_ids))
        .filter(is_public(now))
        .select((articles::id, articles::slug, articles::published_at.assume_not_null()))
        .load::<(i64, String, NaiveDateTime)>(conn)?
        .into_iter()
        .map(|(id, slug, at)| (id, (slug, at)))
        .collect();
    let path_of = |id: &i64| public.get(id).map(|(slug, at)| article_path.path(slug, Some(*at)));
    let entries = rows
        .into_iter()
        .zip(ends)
        .filter_map(|(row, end)| {
            let from = match (&row.from_slug, &row.from_path, row.article_id) {
                (Some(slug), _, Some(id)) => article_path.path(slug, Some(public.get(&id)?.1)),
                (_, Some(path), _) => path.clone(),
                _ => return None,
            };
            let to = match end {
                Target::Article(id) => path_of(&id)?,
                Target::Path(path) => path,
            };
            // An article moved onto a path that leads to it (a new slug or date) is no redirect.
            (from != to).then_some(PublicRedirect { from, to, status: row.status as u16 })
        })
        .collect();
    Ok((entries, total))
}

/// Where each target leads in the end: path redirects followed, [`MAX_HOPS`] at most (writes
/// refuse longer chains and loops).
fn follow_chains(conn: &mut DbConnection, mut ends: Vec<Target>) -> Result<Vec<Target>, ApiError> {
    for _ in 0..MAX_HOPS {
        let paths: Vec<&str> = ends
            .iter()
            .filter_map(|end| match end {
                Target::Path(path) if path.starts_with('/') => Some(path.as_str()),
                _ => None,
            })
            .collect();
        if paths.is_empty() {
            break;
        }
        let next: HashMap<String, Target> = redirects::table
            .filter(redirects::from_path.eq_any(paths))
            .select(RedirectRow::as_select())
            .load(conn)?
            .into_iter()
            .filter_map(|row| Some((row.from_path.clone()?, row.target())))
            .collect();
        if next.is_empty() {
            break;
        }
        for end in &mut ends {
            if let Target::Path(path) = end
                && let Some(target) = next.get(path.as_str())
            {
                *end = target.clone();
            }
        }
    }
    Ok(ends)
}
