//! Tag queries: on-the-fly creation from article inputs, embeds for article lists, public and
//! editor listings.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::dsl::count_star;
use diesel::prelude::*;
use serde_json::json;

use super::model::{
    CreateTag, MAX_TAG_DESCRIPTION_CHARS, MAX_TAG_NAME_CHARS, NewTag, PublicTag, Tag, TagWithCount, UpdateTag,
};
use crate::db::outbox::{self, EventType};
use crate::db::visibility::is_public;
use crate::db::{self, DbConnection, write_transaction};
use crate::error::{ApiError, Validator};
use crate::pagination::DirectorySort;
use crate::pagination::PageRequest;
use crate::schema::{article_tags, articles, tags};
use crate::slugs;

/// Most tags one article may carry.
pub const MAX_TAGS_PER_ARTICLE: usize = 20;

/// Checks a list of tag names from an article input (trimmed). Names that differ only in case or
/// spacing are one tag (the first spelling is kept); different names with the same slug
/// (`C++` and `C#` are both `c`) are a 409 rather than a silent merge: each name is fine alone,
/// together they conflict. Returns `(slug, name)` pairs in order. Field errors are reported as
/// `tags[i]`.
pub fn check_tag_names(names: &[String], v: &mut Validator) -> Result<Vec<(String, String)>, ApiError> {
    v.check(names.len() <= MAX_TAGS_PER_ARTICLE, "tags", format!("at most {MAX_TAGS_PER_ARTICLE} tags"));
    let mut seen = Vec::with_capacity(names.len());
    for (i, raw) in names.iter().enumerate() {
        let name = raw.trim();
        let field = format!("tags[{i}]");
        v.untrimmed_max(&field, Some(raw), MAX_TAG_NAME_CHARS);
        v.chars(&field, name, 1, MAX_TAG_NAME_CHARS);
        let slug = if name.is_empty() { String::new() } else { slugs::slugify_name(name, "tag") };
        let same_slug = seen.iter().find(|(s, _): &&(String, String)| *s == slug);
        match same_slug {
            _ if slug.is_empty() => {}
            None => seen.push((slug, name.to_string())),
            Some((_, earlier)) if earlier.to_lowercase() != name.to_lowercase() => {
                return Err(ApiError::Conflict(format!(
                    "`{field}` ({name}) has the same slug (`{slug}`) as `{earlier}`; name one of them differently"
                )));
            }
            Some(_) => {}
        }
    }
    Ok(seen)
}

/// The ids of the named tags, creating the missing ones when `may_create`; otherwise a missing
/// tag is a 422 naming it.
pub fn resolve(conn: &mut DbConnection, tags_in: &[(String, String)], may_create: bool) -> Result<Vec<i64>, ApiError> {
    let slugs: Vec<&str> = tags_in.iter().map(|(slug, _)| slug.as_str()).collect();
    let existing: HashMap<String, i64> = tags::table
        .filter(tags::slug.eq_any(&slugs))
        .select((tags::slug, tags::id))
        .load::<(String, i64)>(conn)?
        .into_iter()
        .collect();
    let now = db::now();
    let mut ids = Vec::with_capacity(tags_in.len());
    for (slug, name) in tags_in {
        if let Some(id) = existing.get(slug) {
            ids.push(*id);
            continue;
        }
        if !may_create {
            return Err(ApiError::invalid(
                "tags",
                format!("the tag `{name}` does not exist, and your role cannot create tags"),
            ));
        }
        let new = NewTag { slug, name, description: None, created_at: now, updated_at: now };
        let created = db::insert_unless_taken(conn, |conn| {
            diesel::insert_into(tags::table).values(&new).returning(tags::id).get_result::<i64>(conn)
        })?;
        // Created by a concurrent writer in the meantime: use theirs.
        let id = match created {
            Some(id) => {
                announce(conn, EventType::TagCreated, id, None)?;
                id
            }
            None => tags::table.filter(tags::slug.eq(slug)).select(tags::id).first(conn)?,
        };
        ids.push(id);
    }
    Ok(ids)
}

/// Replaces an article's tags with `tag_ids`, in that order.
pub fn set_for_article(conn: &mut DbConnection, article_id: i64, tag_ids: &[i64]) -> Result<(), ApiError> {
    diesel::delete(article_tags::table.filter(article_tags::article_id.eq(article_id))).execute(conn)?;
    // One statement per tag: multi-row INSERT does not compile through `MultiConnection`, and an
    // article has at most MAX_TAGS_PER_ARTICLE tags.
    for (position, tag_id) in tag_ids.iter().enumerate() {
        diesel::insert_into(article_tags::table)
            .values((
                article_tags::article_id.eq(article_id),
                article_tags::tag_id.eq(*tag_id),
                article_tags::position.eq(position as i32),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The ordered tags of many articles in one query (no N+1), keyed by article id.
pub fn tags_for(conn: &mut DbConnection, article_ids: &[i64]) -> Result<HashMap<i64, Vec<PublicTag>>, ApiError> {
    let rows: Vec<(i64, PublicTag)> = article_tags::table
        .inner_join(tags::table)
        .filter(article_tags::article_id.eq_any(article_ids))
        .order((article_tags::article_id, article_tags::position))
        .select((article_tags::article_id, PublicTag::as_select()))
        .load(conn)?;
    let mut by_article: HashMap<i64, Vec<PublicTag>> = HashMap::with_capacity(article_ids.len());
    for (article_id, tag) in rows {
        by_article.entry(article_id).or_default().push(tag);
    }
    Ok(by_article)
}

/// Tags on at least one public article.
fn public_tags(now: NaiveDateTime) -> tags::BoxedQuery<'static, db::DbBackend> {
    let on_public_articles =
        article_tags::table.inner_join(articles::table).filter(is_public(now)).select(article_tags::tag_id);
    tags::table.filter(tags::id.eq_any(on_public_articles)).into_boxed()
}

/// A page of the public tags, with how many published articles carry each.
pub fn list_public(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    sort: DirectorySort,
    page: PageRequest,
) -> Result<(Vec<TagWithCount>, i64), ApiError> {
    let total = public_tags(now).count().get_result(conn)?;
    let counted = tags::table
        .inner_join(article_tags::table.inner_join(articles::table))
        .filter(is_public(now))
        .group_by(tags::id)
        .select((PublicTag::as_select(), count_star()))
        .into_boxed();
    let ordered = match sort {
        DirectorySort::Name => counted.order((tags::name.asc(), tags::id.asc())),
        DirectorySort::MostArticles => counted.order((count_star().desc(), tags::name.asc(), tags::id.asc())),
    };
    let rows: Vec<(PublicTag, i64)> = ordered.limit(page.per_page).offset(page.offset()).load(conn)?;
    Ok((rows.into_iter().map(|(tag, article_count)| TagWithCount { tag, article_count }).collect(), total))
}

/// One tag on published articles, and when it last changed.
pub fn find_public(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    slug: &str,
) -> Result<Option<(TagWithCount, NaiveDateTime)>, ApiError> {
    // Not a slug at all (or with bytes PostgreSQL cannot compare, such as NUL): nothing to look up.
    if !slugs::is_valid_slug(slug) {
        return Ok(None);
    }
    let found: Option<(i64, PublicTag, NaiveDateTime)> = public_tags(now)
        .filter(tags::slug.eq(slug.to_string()))
        .select((tags::id, PublicTag::as_select(), tags::updated_at))
        .first(conn)
        .optional()?;
    found
        .map(|(id, tag, updated_at)| {
            let article_count = article_tags::table
                .inner_join(articles::table)
                .filter(is_public(now))
                .filter(article_tags::tag_id.eq(id))
                .count()
                .get_result(conn)?;
            Ok((TagWithCount { tag, article_count }, updated_at))
        })
        .transpose()
}

pub fn list_all(conn: &mut DbConnection, page: PageRequest) -> Result<(Vec<Tag>, i64), ApiError> {
    let total = tags::table.count().get_result(conn)?;
    let rows = tags::table
        .order((tags::name.asc(), tags::id.asc()))
        .limit(page.per_page)
        .offset(page.offset())
        .select(Tag::as_select())
        .load(conn)?;
    Ok((rows, total))
}

fn check_fields(v: &mut Validator, name: Option<&str>, slug: Option<&str>, description: Option<&str>) {
    if let Some(name) = name {
        v.chars("name", name, 1, MAX_TAG_NAME_CHARS);
    }
    if let Some(slug) = slug {
        v.check(slugs::is_valid_slug(slug), "slug", slugs::SLUG_RULE);
    }
    if let Some(description) = description {
        v.chars("description", description, 0, MAX_TAG_DESCRIPTION_CHARS);
    }
}

/// Creates a tag; a taken slug (given or derived from the name) is a 409.
pub fn create(conn: &mut DbConnection, input: CreateTag) -> Result<Tag, ApiError> {
    let name = input.name.trim();
    let description = input.description.as_deref().map(str::trim).filter(|d| !d.is_empty());
    let mut v = Validator::new();
    v.untrimmed_max("name", Some(&input.name), MAX_TAG_NAME_CHARS).untrimmed_max(
        "description",
        input.description.as_deref(),
        MAX_TAG_DESCRIPTION_CHARS,
    );
    check_fields(&mut v, Some(name), input.slug.as_deref(), description);
    v.finish()?;
    let slug = input.slug.clone().unwrap_or_else(|| slugs::slugify_name(name, "tag"));
    write_transaction(conn, |conn| {
        if db::slug_taken!(conn, tags, &slug, None::<i64>)? {
            return Err(ApiError::Conflict(format!("a tag with the slug `{slug}` already exists")));
        }
        let now = db::now();
        let tag: Tag = diesel::insert_into(tags::table)
            .values(&NewTag { slug: &slug, name, description, created_at: now, updated_at: now })
            .returning(tags::all_columns)
            .get_result(conn)?;
        announce(conn, EventType::TagCreated, tag.id, None)?;
        Ok(tag)
    })
}

pub fn update(conn: &mut DbConnection, id: i64, input: UpdateTag) -> Result<Tag, ApiError> {
    let name = input.name.as_deref().map(str::trim);
    let description = input.description.as_ref().map(|d| d.as_deref().map(str::trim).filter(|d| !d.is_empty()));
    let mut v = Validator::new();
    v.untrimmed_max("name", input.name.as_deref(), MAX_TAG_NAME_CHARS).untrimmed_max(
        "description",
        input.description.as_ref().and_then(|d| d.as_deref()),
        MAX_TAG_DESCRIPTION_CHARS,
    );
    check_fields(&mut v, name, input.slug.as_deref(), description.flatten());
    v.finish()?;
    write_transaction(conn, |conn| {
        let current: Tag =
            tags::table.find(id).select(Tag::as_select()).first(conn).optional()?.ok_or_else(not_found)?;
        if let Some(slug) = &input.slug
            && db::slug_taken!(conn, tags, slug, Some(id))?
        {
            return Err(ApiError::Conflict(format!("a tag with the slug `{slug}` already exists")));
        }
        let tag: Tag = diesel::update(tags::table.find(id))
            .set((
                tags::name.eq(name.unwrap_or(&current.name)),
                tags::slug.eq(input.slug.as_deref().unwrap_or(&current.slug)),
                tags::description.eq(description.unwrap_or(current.description.as_deref())),
                tags::updated_at.eq(db::now()),
            ))
            .returning(tags::all_columns)
            .get_result(conn)?;
        let previous = outbox::previous_values(outbox::data_of(&current)?, &outbox::data_of(&tag)?, &["updated_at"]);
        if !previous.is_empty() {
            announce(conn, EventType::TagUpdated, id, Some(previous))?;
        }
        Ok(tag)
    })
}

/// Deletes a tag; articles lose it, nothing else changes.
pub fn delete(conn: &mut DbConnection, id: i64) -> Result<(), ApiError> {
    let deleted = write_transaction(conn, |conn| {
        // Nothing to announce (or delete) for an id that names no tag: a 404, rolled back.
        find(conn, id)?;
        announce(conn, EventType::TagDeleted, id, None)?;
        diesel::delete(article_tags::table.filter(article_tags::tag_id.eq(id))).execute(conn)?;
        Ok(diesel::delete(tags::table.find(id)).execute(conn)?)
    })?;
    if deleted == 0 { Err(not_found()) } else { Ok(()) }
}

/// One tag by id, used or not.
pub fn find(conn: &mut DbConnection, id: i64) -> Result<Tag, ApiError> {
    tags::table.find(id).select(Tag::as_select()).first(conn).optional()?.ok_or_else(not_found)
}

fn not_found() -> ApiError {
    ApiError::NotFound("no tag has this id".into())
}

/// Tells webhooks about a tag, in the write's transaction: the tag and, on updates, the fields'
/// `previous` values. A payload shows only what the public tag routes would: a tag no public
/// article carries (made by a draft, say) is named by its id alone, and so is one being deleted
/// unless it was public (then its slug too, for front ends to drop its page).
fn announce(
    conn: &mut DbConnection,
    event: EventType,
    id: i64,
    previous: Option<serde_json::Map<String, serde_json::Value>>,
) -> Result<(), ApiError> {
    outbox::announce(conn, event, |conn| {
        let public: Option<Tag> =
            public_tags(db::now()).filter(tags::id.eq(id)).select(Tag::as_select()).first(conn).optional()?;
        let Some(tag) = public else {
            return Ok(json!({"tag": {"id": id}}));
        };
        let view = match event {
            EventType::TagDeleted => json!({"id": tag.id, "slug": tag.slug}),
            _ => json!(tag),
        };
        Ok(match previous {
            Some(previous) => json!({"tag": view, "previous": previous}),
            None => json!({"tag": view}),
        })
    })
}
