//! What is public: the one rule every public query, search and the response cache use, so that
//! nothing can show what another route hides.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::articles;

/// The stored statuses of an article: a draft, or published (public from its publication time).
pub const STATUS_DRAFT: &str = "draft";
pub const STATUS_PUBLISHED: &str = "published";

/// The one visibility rule of public content: published, publication time reached, not deleted.
/// A future `published_at` is a scheduled article; it appears on its own, no job needed.
#[diesel::dsl::auto_type(no_type_alias)]
pub fn is_public(now: NaiveDateTime) -> _ {
    is_listed().and(articles::published_at.le(now))
}

/// The rule of [`is_public`] without its time bound, for a keyset page whose cursor already bounds
/// `published_at` below `now` (see `articles::store::public`). Only the list may use it.
#[diesel::dsl::auto_type]
pub fn is_listed() -> _ {
    let published: &'static str = STATUS_PUBLISHED;
    articles::status.eq(published).and(articles::deleted_at.is_null())
}

/// Published with a publication time still to come: scheduled articles, public from that time on.
#[diesel::dsl::auto_type(no_type_alias)]
pub fn is_scheduled(now: NaiveDateTime) -> _ {
    is_listed().and(articles::published_at.gt(now))
}
