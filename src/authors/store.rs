//! Author queries. No HTTP here: callers get rows or an `ApiError` that says what went wrong.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::dsl::count_star;
use diesel::prelude::*;

use super::model::{
    Author, AuthorSummary, Byline, CreateAuthor, MAX_BIO_CHARS, MAX_NAME_CHARS, NewAccount, NewAuthor, PublicAuthor,
    UpdateAuthor, UpdateProfile,
};
use crate::auth::password::{MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, hash_given_password};
use crate::auth::{Role, sessions};
use crate::db::visibility::is_public;
use crate::db::{self, DbConnection, write_transaction};
use crate::email;
use crate::error::{ApiError, Validator};
use crate::optional_fields::trimmed;
use crate::pagination::DirectorySort;
use crate::pagination::PageRequest;
use crate::schema::{article_authors, articles, authors};
use crate::settings::HashParams;
use crate::slugs;

pub fn find_account(conn: &mut DbConnection, id: i64) -> Result<Option<Author>, ApiError> {
    Ok(authors::table.find(id).select(Author::as_select()).first(conn).optional()?)
}

/// Creates an account that can log in (`masthead users add`).
pub fn create_account(conn: &mut DbConnection, account: &NewAccount, params: &HashParams) -> Result<Author, ApiError> {
    let password_hash = hash_given_password(Some(&account.password), params)?;
    let input = CreateAuthor {
        name: account.name.clone(),
        email: Some(account.email.clone()),
        password: Some(account.password.clone()),
        role: Some(account.role),
        bio: None,
        avatar_url: None,
        slug: None,
    };
    create_author(conn, input, password_hash, |_| Ok(()))
}

/// The maximum lengths of the profile texts as sent, before trimming (see `Validator::untrimmed_max`).
fn check_untrimmed(v: &mut Validator, name: Option<&str>, email: Option<&str>, bio: Option<&str>, url: Option<&str>) {
    v.untrimmed_max("name", name, MAX_NAME_CHARS)
        .untrimmed_max("email", email, 254)
        .untrimmed_max("bio", bio, MAX_BIO_CHARS)
        .untrimmed_max("avatar_url", url, 2048);
}

fn check_profile(v: &mut Validator, name: Option<&str>, bio: Option<&str>, avatar_url: Option<&str>) {
    if let Some(name) = name {
        v.chars("name", name, 1, MAX_NAME_CHARS);
    }
    if let Some(bio) = bio {
        v.chars("bio", bio, 0, MAX_BIO_CHARS);
    }
    if let Some(url) = avatar_url {
        v.http_url("avatar_url", url);
    }
}

fn check_login(v: &mut Validator, email: Option<&str>, password: Option<&str>) {
    if let Some(email) = email {
        v.check(email::is_plausible(email), "email", "must be an e-mail address");
    }
    if let Some(password) = password {
        v.chars("password", password, MIN_PASSWORD_CHARS, MAX_PASSWORD_CHARS);
    }
}

/// The hash made by [`hash_given_password`] for a password that passed validation.
fn hash_of(password: Option<&str>, password_hash: Option<String>) -> Result<Option<String>, ApiError> {
    match (password, password_hash) {
        (Some(_), None) => Err(ApiError::Internal("a valid password reached the store unhashed".into())),
        (None, _) => Ok(None),
        (Some(_), hash) => Ok(hash),
    }
}

fn email_taken(conn: &mut DbConnection, email: &str, except_id: i64) -> Result<bool, ApiError> {
    let query = authors::table.filter(authors::email.eq(email.to_string())).filter(authors::id.ne(except_id));
    Ok(diesel::select(diesel::dsl::exists(query)).get_result(conn)?)
}

fn email_conflict(email: &str) -> ApiError {
    ApiError::Conflict(format!("an account with the e-mail {email} already exists"))
}

/// Creates an author: an account when `email` and `password` are given, otherwise byline-only.
/// `guard` gets the role the new author would have (`None`: byline-only) and may refuse it.
/// `password_hash` is `input.password` through [`hash_given_password`].
pub fn create_author(
    conn: &mut DbConnection,
    input: CreateAuthor,
    password_hash: Option<String>,
    guard: impl FnOnce(Option<Role>) -> Result<(), ApiError>,
) -> Result<Author, ApiError> {
    let name = input.name.trim().to_string();
    let email = input.email.as_deref().map(email::normalize);
    let bio = trimmed(input.bio.as_deref());
    let avatar_url = trimmed(input.avatar_url.as_deref());
    let mut v = Validator::new();
    check_untrimmed(
        &mut v,
        Some(&input.name),
        input.email.as_deref(),
        input.bio.as_deref(),
        input.avatar_url.as_deref(),
    );
    check_profile(&mut v, Some(&name), bio.as_deref(), avatar_url.as_deref());
    check_login(&mut v, email.as_deref(), input.password.as_deref());
    v.check(email.is_some() || input.password.is_none(), "email", "is required with a password");
    v.check(input.password.is_some() || email.is_none(), "password", "is required with an e-mail");
    v.check(
        email.is_some() || input.role.is_none(),
        "role",
        "byline-only authors have no role; give an e-mail and a password to create an account",
    );
    if let Some(slug) = &input.slug {
        v.check(slugs::is_valid_slug(slug), "slug", slugs::SLUG_RULE);
    }
    v.finish()?;
    let role = email.as_ref().map(|_| input.role.unwrap_or(Role::Author));
    guard(role)?;
    let password_hash = hash_of(input.password.as_deref(), password_hash)?;
    write_transaction(conn, |conn| {
        if let Some(email) = &email
            && email_taken(conn, email, -1)?
        {
            return Err(email_conflict(email));
        }
        let now = db::now();
        for _ in 0..5 {
            let slug = match &input.slug {
                Some(slug) if db::slug_taken!(conn, authors, slug, None::<i64>)? => {
                    return Err(ApiError::Conflict(format!("the slug `{slug}` is taken by another author")));
                }
                Some(slug) => slug.clone(),
                None => {
                    let base = slugs::slugify(&name, "author");
                    db::lock_key(conn, &format!("authors.slug:{base}"))?;
                    unique_author_slug(conn, &base)?
                }
            };
            let new = NewAuthor {
                slug: &slug,
                name: &name,
                email: email.as_deref(),
                bio: bio.as_deref(),
                avatar_url: avatar_url.as_deref(),
                role: role.unwrap_or(Role::Author).as_str(),
                password_hash: password_hash.as_deref(),
                active: true,
                password_changed_at: password_hash.as_ref().map(|_| now),
                created_at: now,
                updated_at: now,
            };
            let inserted = db::insert_unless_taken(conn, |conn| {
                diesel::insert_into(authors::table)
                    .values(&new)
                    .returning(authors::all_columns)
                    .get_result::<Author>(conn)
            })?;
            match (inserted, &email) {
                (Some(author), _) => return Ok(author),
                // A concurrent writer took the e-mail or the slug in the meantime. A taken e-mail
                // or a given slug is the caller's conflict; a derived slug is chosen again.
                (None, Some(email)) if email_taken(conn, email, -1)? => return Err(email_conflict(email)),
                (None, _) if input.slug.is_some() => {
                    return Err(ApiError::Conflict("the slug is taken by another author".into()));
                }
                (None, _) => continue,
            }
        }
        Err(ApiError::Conflict("could not find a free slug; retry".into()))
    })
}

/// The role an author acts with: `None` for byline-only authors, who cannot log in.
pub fn effective_role(author: &Author) -> Option<Role> {
    if author.email.is_some() && author.password_hash.is_some() { Role::parse(&author.role) } else { None }
}

#[derive(AsChangeset, Default)]
#[diesel(table_name = authors)]
struct AuthorChanges<'a> {
    name: Option<&'a str>,
    email: Option<&'a str>,
    password_hash: Option<&'a str>,
    password_changed_at: Option<NaiveDateTime>,
    role: Option<&'a str>,
    active: Option<bool>,
    bio: Option<Option<&'a str>>,
    avatar_url: Option<Option<&'a str>>,
    slug: Option<&'a str>,
    updated_at: NaiveDateTime,
}

/// Changes an author. `guard` gets the author as stored and the role they would have after the
/// change, inside the transaction. Keeps at least one active admin; a new password or a
/// deactivation ends every session of the account. `password_hash` is `input.password` through
/// [`hash_given_password`].
pub fn update_author(
    conn: &mut DbConnection,
    id: i64,
    input: UpdateAuthor,
    password_hash: Option<String>,
    guard: impl FnOnce(&Author, Option<Role>) -> Result<(), ApiError>,
) -> Result<Author, ApiError> {
    let name = input.name.as_deref().map(str::trim);
    let email = input.email.as_deref().map(email::normalize);
    let bio = input.bio.as_ref().map(|b| trimmed(b.as_deref()));
    let avatar_url = input.avatar_url.as_ref().map(|u| trimmed(u.as_deref()));
    let mut v = Validator::new();
    check_untrimmed(
        &mut v,
        input.name.as_deref(),
        input.email.as_deref(),
        input.bio.as_ref().and_then(|b| b.as_deref()),
        input.avatar_url.as_ref().and_then(|u| u.as_deref()),
    );
    check_profile(&mut v, name, bio.clone().flatten().as_deref(), avatar_url.clone().flatten().as_deref());
    check_login(&mut v, email.as_deref(), input.password.as_deref());
    if let Some(slug) = &input.slug {
        v.check(slugs::is_valid_slug(slug), "slug", slugs::SLUG_RULE);
    }
    v.finish()?;
    let password_hash = hash_of(input.password.as_deref(), password_hash)?;
    write_transaction(conn, |conn| {
        let current: Author = find_account(conn, id)?.ok_or_else(author_not_found)?;
        let had_login = effective_role(&current).is_some();
        let gets_login = !had_login && email.is_some();
        if gets_login && password_hash.is_none() {
            // Valid in itself, but not for what this author is now: a conflict with its state.
            return Err(ApiError::Conflict(
                "this author has no login: give `password` with `email` to create one".into(),
            ));
        }
        if !had_login && !gets_login && (input.password.is_some() || input.role.is_some()) {
            return Err(ApiError::Conflict(
                "this author has no login: give `email` and `password` together to create one; \
                 byline-only authors have no password or role"
                    .into(),
            ));
        }
        let new_role = if had_login || gets_login {
            Some(input.role.or(Role::parse(&current.role).filter(|_| had_login)).unwrap_or(Role::Author))
        } else {
            None
        };
        guard(&current, new_role)?;
        if let Some(email) = &email
            && email_taken(conn, email, id)?
        {
            return Err(email_conflict(email));
        }
        if let Some(slug) = &input.slug
            && db::slug_taken!(conn, authors, slug, Some(id))?
        {
            return Err(ApiError::Conflict(format!("the slug `{slug}` is taken by another author")));
        }
        let stays_active = input.active.unwrap_or(current.active);
        let was_admin = current.active && effective_role(&current) == Some(Role::Admin);
        if was_admin && (new_role != Some(Role::Admin) || !stays_active) && active_admins(conn)? <= 1 {
            return Err(ApiError::Conflict("this is the last active admin; make another admin first".into()));
        }
        let before = super::announcements::before_edit(conn, id, find_public)?;
        let now = db::now();
        let changes = AuthorChanges {
            name,
            email: email.as_deref(),
            password_hash: password_hash.as_deref(),
            password_changed_at: password_hash.as_ref().map(|_| now),
            role: new_role.map(Role::as_str),
            active: input.active,
            bio: bio.as_ref().map(|b| b.as_deref()),
            avatar_url: avatar_url.as_ref().map(|u| u.as_deref()),
            slug: input.slug.as_deref(),
            updated_at: now,
        };
        let updated = diesel::update(authors::table.find(id))
            .set(changes)
            .returning(authors::all_columns)
            .get_result::<Author>(conn)?;
        if password_hash.is_some() || !stays_active {
            sessions::revoke_all(conn, id)?;
            crate::auth::integration_tokens::revoke_all_of(conn, id)?;
        }
        super::announcements::after_edit(conn, id, before, find_public)?;
        Ok(updated)
    })
}

/// What `DELETE /api/v1/admin/authors/{id}` did, or has left to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// The author had no trace and is gone for good.
    Deleted,
    /// The author has bylines, staff comments or revisions, so deleting them would rewrite
    /// history: nothing was changed, and the caller deactivates them instead.
    HasHistory,
}

/// Deletes an author for good, after `guard` accepts them, if they left no trace (no byline, no
/// staff comment, no revision): a byline-only author made by mistake, say. Anyone with a history
/// is left untouched and reported, to be deactivated. Never the last active admin.
pub fn delete_author(
    conn: &mut DbConnection,
    id: i64,
    guard: impl FnOnce(&Author) -> Result<(), ApiError>,
) -> Result<Removal, ApiError> {
    use crate::schema::{article_authors, article_revisions, comments};
    use diesel::dsl::exists;
    write_transaction(conn, |conn| {
        let current: Author = find_account(conn, id)?.ok_or_else(author_not_found)?;
        guard(&current)?;
        if current.active && effective_role(&current) == Some(Role::Admin) && active_admins(conn)? <= 1 {
            return Err(ApiError::Conflict("this is the last active admin; make another admin first".into()));
        }
        let has_history = diesel::select(exists(article_authors::table.filter(article_authors::author_id.eq(id))))
            .get_result::<bool>(conn)?
            || diesel::select(exists(comments::table.filter(comments::author_id.eq(id)))).get_result::<bool>(conn)?
            || diesel::select(exists(article_revisions::table.filter(article_revisions::editor_id.eq(id))))
                .get_result::<bool>(conn)?;
        if has_history {
            return Ok(Removal::HasHistory);
        }
        diesel::delete(authors::table.find(id)).execute(conn)?;
        Ok(Removal::Deleted)
    })
}

fn active_admins(conn: &mut DbConnection) -> Result<i64, ApiError> {
    Ok(authors::table
        .filter(authors::role.eq(Role::Admin.as_str()))
        .filter(authors::active.eq(true))
        .filter(authors::email.is_not_null())
        .filter(authors::password_hash.is_not_null())
        .count()
        .get_result(conn)?)
}

/// One's own profile: name, bio, avatar.
pub fn update_profile(conn: &mut DbConnection, id: i64, input: UpdateProfile) -> Result<Author, ApiError> {
    let update = UpdateAuthor { name: input.name, bio: input.bio, avatar_url: input.avatar_url, ..Default::default() };
    update_author(conn, id, update, None, |_, _| Ok(()))
}

/// Sets a new password (already checked against the current one by the caller, and hashed with
/// [`hash_given_password`]) and ends every other session.
pub fn set_password(
    conn: &mut DbConnection,
    id: i64,
    new_password: &str,
    password_hash: Option<String>,
) -> Result<Author, ApiError> {
    let update = UpdateAuthor { password: Some(new_password.to_string()), ..Default::default() };
    update_author(conn, id, update, password_hash, |_, _| Ok(()))
}

/// Gives an account a password from the command line, also one restored from an export, which
/// has its e-mail and role but no password yet (its e-mail goes with the password, as the rule
/// for a new login wants).
pub fn give_password(
    conn: &mut DbConnection,
    id: i64,
    new_password: &str,
    password_hash: Option<String>,
) -> Result<Author, ApiError> {
    let email = find_account(conn, id)?.ok_or_else(author_not_found)?.email;
    let update = UpdateAuthor { password: Some(new_password.to_string()), email, ..Default::default() };
    update_author(conn, id, update, password_hash, |_, _| Ok(()))
}

pub fn get(conn: &mut DbConnection, id: i64) -> Result<Author, ApiError> {
    find_account(conn, id)?.ok_or_else(author_not_found)
}

fn author_not_found() -> ApiError {
    ApiError::NotFound("no author has this id".into())
}

/// Every author, by name: accounts and byline-only, active or not.
pub fn list_all(conn: &mut DbConnection, page: PageRequest) -> Result<(Vec<Author>, i64), ApiError> {
    let total = authors::table.count().get_result(conn)?;
    let rows = authors::table
        .order((authors::name.asc(), authors::id.asc()))
        .limit(page.per_page)
        .offset(page.offset())
        .select(Author::as_select())
        .load(conn)?;
    Ok((rows, total))
}

fn unique_author_slug(conn: &mut DbConnection, base: &str) -> Result<String, ApiError> {
    slugs::unique_slug(base, |candidate| db::slug_taken!(conn, authors, candidate, None::<i64>))
}

/// Authors with at least one public article: accounts that never published stay private.
fn public_authors(now: NaiveDateTime) -> authors::BoxedQuery<'static, db::DbBackend> {
    let with_public_work =
        article_authors::table.inner_join(articles::table).filter(is_public(now)).select(article_authors::author_id);
    authors::table.filter(authors::id.eq_any(with_public_work)).into_boxed()
}

/// A page of the public authors, with how many published articles each has.
pub fn list_public(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    sort: DirectorySort,
    page: PageRequest,
) -> Result<(Vec<PublicAuthor>, i64), ApiError> {
    let total = public_authors(now).count().get_result(conn)?;
    let counted = authors::table
        .inner_join(article_authors::table.inner_join(articles::table))
        .filter(is_public(now))
        .group_by(authors::id)
        .select((AuthorSummary::as_select(), count_star()))
        .into_boxed();
    let ordered = match sort {
        DirectorySort::Name => counted.order((authors::name.asc(), authors::id.asc())),
        DirectorySort::MostArticles => counted.order((count_star().desc(), authors::name.asc(), authors::id.asc())),
    };
    let rows: Vec<(AuthorSummary, i64)> = ordered.limit(page.per_page).offset(page.offset()).load(conn)?;
    Ok((rows.into_iter().map(|(author, article_count)| PublicAuthor { author, article_count }).collect(), total))
}

/// How many public articles an author has.
fn public_article_count(conn: &mut DbConnection, now: NaiveDateTime, author_id: i64) -> Result<i64, ApiError> {
    Ok(article_authors::table
        .inner_join(articles::table)
        .filter(is_public(now))
        .filter(article_authors::author_id.eq(author_id))
        .count()
        .get_result(conn)?)
}

/// One author with published work, and when their profile last changed.
pub fn find_public(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    slug: &str,
) -> Result<Option<(PublicAuthor, NaiveDateTime)>, ApiError> {
    // Not a slug at all (or with bytes PostgreSQL cannot compare, such as NUL): nothing to look up.
    if !slugs::is_valid_slug(slug) {
        return Ok(None);
    }
    let found: Option<(i64, AuthorSummary, NaiveDateTime)> = public_authors(now)
        .filter(authors::slug.eq(slug.to_string()))
        .select((authors::id, AuthorSummary::as_select(), authors::updated_at))
        .first(conn)
        .optional()?;
    found
        .map(|(id, author, updated_at)| {
            Ok((PublicAuthor { author, article_count: public_article_count(conn, now, id)? }, updated_at))
        })
        .transpose()
}

/// The ordered bylines of many articles in one query (no N+1), keyed by article id.
pub fn bylines_for(conn: &mut DbConnection, article_ids: &[i64]) -> Result<HashMap<i64, Vec<Byline>>, ApiError> {
    let rows: Vec<(i64, i64, AuthorSummary)> = article_authors::table
        .inner_join(authors::table)
        .filter(article_authors::article_id.eq_any(article_ids))
        .order((article_authors::article_id, article_authors::position))
        .select((article_authors::article_id, authors::id, AuthorSummary::as_select()))
        .load(conn)?;
    let mut bylines: HashMap<i64, Vec<Byline>> = HashMap::with_capacity(article_ids.len());
    for (article_id, id, author) in rows {
        bylines.entry(article_id).or_default().push(Byline { id, author });
    }
    Ok(bylines)
}

/// The ids among `ids` that are authors (to check a byline list in one query).
pub fn existing_ids(conn: &mut DbConnection, ids: &[i64]) -> Result<Vec<i64>, ApiError> {
    Ok(authors::table.filter(authors::id.eq_any(ids)).select(authors::id).load(conn)?)
}
