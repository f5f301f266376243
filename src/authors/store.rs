//! Author queries. No HTTP here: callers get rows or an `ApiError` that says what went wrong.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::model::{Author, AuthorSummary, NewAccount, NewAuthor, is_plausible_email, normalize_email};
use crate::articles::store::is_public;
use crate::auth::password::{HashParams, MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, hash_password};
use crate::db::{self, DbConnection, write_transaction};
use crate::error::{ApiError, Validator};
use crate::pagination::PageRequest;
use crate::schema::{article_authors, articles, authors};
use crate::slugs;

pub fn find_account(conn: &mut DbConnection, id: i64) -> Result<Option<Author>, ApiError> {
    Ok(authors::table.find(id).select(Author::as_select()).first(conn).optional()?)
}

pub fn find_by_email(conn: &mut DbConnection, email: &str) -> Result<Option<Author>, ApiError> {
    Ok(authors::table
        .filter(authors::email.eq(normalize_email(email)))
        .select(Author::as_select())
        .first(conn)
        .optional()?)
}

/// Checks and creates an account that can log in. The password is hashed here, before the
/// transaction, so the write lock is never held during the (deliberately slow) hash.
pub fn create_account(conn: &mut DbConnection, account: &NewAccount, params: &HashParams) -> Result<Author, ApiError> {
    let email = normalize_email(&account.email);
    let name = account.name.trim();
    Validator::new()
        .check(is_plausible_email(&email), "email", "must be an e-mail address")
        .chars("name", name, 1, 100)
        .chars("password", &account.password, MIN_PASSWORD_CHARS, MAX_PASSWORD_CHARS)
        .finish()?;
    let password_hash = hash_password(&account.password, params).map_err(ApiError::Internal)?;
    write_transaction(conn, |conn| {
        if find_by_email(conn, &email)?.is_some() {
            return Err(ApiError::Conflict(format!("an account with the e-mail {email} already exists")));
        }
        let slug = unique_author_slug(conn, &slugs::slugify(name, "author"))?;
        let now = db::now();
        let new = NewAuthor {
            slug: &slug,
            name,
            email: Some(&email),
            bio: None,
            avatar_url: None,
            role: account.role.as_str(),
            password_hash: Some(&password_hash),
            active: true,
            password_changed_at: Some(now),
            created_at: now,
            updated_at: now,
        };
        Ok(diesel::insert_into(authors::table)
            .values(&new)
            .returning(authors::all_columns)
            .get_result::<Author>(conn)?)
    })
}

fn unique_author_slug(conn: &mut DbConnection, base: &str) -> Result<String, ApiError> {
    slugs::unique_slug(base, |candidate| {
        Ok(diesel::select(diesel::dsl::exists(authors::table.filter(authors::slug.eq(candidate)))).get_result(conn)?)
    })
}

/// Authors with at least one public article: accounts that never published stay private.
fn public_authors(now: NaiveDateTime) -> authors::BoxedQuery<'static, db::DbBackend> {
    let with_public_work =
        article_authors::table.inner_join(articles::table).filter(is_public(now)).select(article_authors::author_id);
    authors::table.filter(authors::id.eq_any(with_public_work)).into_boxed()
}

pub fn list_public(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    page: PageRequest,
) -> Result<(Vec<AuthorSummary>, i64), ApiError> {
    let total = public_authors(now).count().get_result(conn)?;
    let rows = public_authors(now)
        .order((authors::name.asc(), authors::id.asc()))
        .limit(page.per_page)
        .offset(page.offset())
        .select(AuthorSummary::as_select())
        .load(conn)?;
    Ok((rows, total))
}

pub fn find_public(conn: &mut DbConnection, now: NaiveDateTime, slug: &str) -> Result<Option<AuthorSummary>, ApiError> {
    Ok(public_authors(now)
        .filter(authors::slug.eq(slug.to_string()))
        .select(AuthorSummary::as_select())
        .first(conn)
        .optional()?)
}

/// The ordered bylines of many articles in one query (no N+1), keyed by article id.
pub fn bylines_for(conn: &mut DbConnection, article_ids: &[i64]) -> Result<HashMap<i64, Vec<AuthorSummary>>, ApiError> {
    let rows: Vec<(i64, AuthorSummary)> = article_authors::table
        .inner_join(authors::table)
        .filter(article_authors::article_id.eq_any(article_ids))
        .order((article_authors::article_id, article_authors::position))
        .select((article_authors::article_id, AuthorSummary::as_select()))
        .load(conn)?;
    let mut bylines: HashMap<i64, Vec<AuthorSummary>> = HashMap::with_capacity(article_ids.len());
    for (article_id, author) in rows {
        bylines.entry(article_id).or_default().push(author);
    }
    Ok(bylines)
}
