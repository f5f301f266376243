//! Who may take an article slug: no other article has it, now or as a former slug that still
//! redirects to it (see `redirects`).

use diesel::prelude::*;

use crate::db::{self, DbConnection};
use crate::error::ApiError;
use crate::redirects::store as redirect_store;
use crate::schema::articles;

pub(super) fn slug_conflict(slug: &str) -> ApiError {
    ApiError::Conflict(format!("the slug `{slug}` is taken by another article"))
}

/// Whether another article than `except` has `slug`, now or as a former slug that redirects to it.
pub(super) fn slug_taken(conn: &mut DbConnection, slug: &str, except: Option<i64>) -> Result<bool, ApiError> {
    // Articles first: a rename committing between the two reads moves the slug into redirects,
    // where the second read finds it.
    Ok(db::slug_taken!(conn, articles, slug, except)? || redirect_store::slug_held_by_another(conn, slug, except)?)
}

/// [`slug_taken`], saying which way it is taken.
pub(super) fn check_slug_free(conn: &mut DbConnection, slug: &str, except: Option<i64>) -> Result<(), ApiError> {
    if db::slug_taken!(conn, articles, slug, except)? {
        return Err(slug_conflict(slug));
    }
    if redirect_store::slug_held_by_another(conn, slug, except)? {
        return Err(ApiError::Conflict(format!(
            "the slug `{slug}` was another article's and keeps leading there; delete that redirect \
             (`/api/v1/admin/redirects?kind=slug`) to free it"
        )));
    }
    Ok(())
}

/// A free slug from `base` (`base`, `base-2`, …) for a new article, taken under a lock on `base`
/// until the caller's transaction ends: for imports, whose slugs come from elsewhere.
pub fn free_slug(conn: &mut DbConnection, base: &str) -> Result<String, ApiError> {
    db::lock_key(conn, &format!("articles.slug:{base}"))?;
    crate::slugs::unique_slug(base, |s| slug_taken(conn, s, None))
}
