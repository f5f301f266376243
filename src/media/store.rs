//! Media records. A record is written only once its file is stored, and each record owns its
//! files (`storage_key`), removed after the record is: a committed record always has its file.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::formats::Format;
use super::model::{FocalPoint, MAX_ALT_CHARS, MAX_CAPTION_CHARS, MediaListQuery, MediaRow};
use crate::db::{DbConnection, bookkeeping_transaction, write_transaction};
use crate::error::{ApiError, Validator};
use crate::optional_fields::trimmed;
use crate::pagination::PageRequest;
use crate::schema::{articles, media};

/// Most articles a 409 names (it says how many more there are).
const USERS_NAMED: usize = 10;

/// A stored file to record.
pub struct NewMedia {
    pub storage_key: String,
    pub content_hash: String,
    pub format: Format,
    pub filename: String,
    pub size_bytes: i64,
    pub width: u32,
    pub height: u32,
    pub animated: bool,
    pub alt: Option<String>,
    pub caption: Option<String>,
    pub uploaded_by: i64,
}

impl NewMedia {
    /// The record of a checked file: its content hash, and a storage key of its own (the hash and
    /// a random suffix, so that deleting one record never takes another's file).
    pub fn for_file(
        file: &super::processing::Cleaned,
        filename: Option<String>,
        alt: Option<String>,
        caption: Option<String>,
        uploaded_by: i64,
    ) -> Self {
        use sha2::{Digest, Sha256};
        let content_hash = base16ct::lower::encode_string(&Sha256::digest(&file.bytes));
        let storage_key = format!("{content_hash}-{}", crate::random::hex_token(4));
        Self {
            filename: filename.unwrap_or_else(|| format!("image.{}", file.format.extension())),
            storage_key,
            content_hash,
            format: file.format,
            size_bytes: file.bytes.len() as i64,
            width: file.width,
            height: file.height,
            animated: file.animated,
            alt,
            caption,
            uploaded_by,
        }
    }
}

/// Checked changes of `PATCH`.
#[derive(Default)]
pub struct MediaChanges {
    pub alt: Option<Option<String>>,
    pub caption: Option<Option<String>>,
    pub focal_point: Option<FocalPoint>,
}

/// The columns a `PATCH` writes: absent fields stay as they are, `Some(None)` clears.
#[derive(AsChangeset)]
#[diesel(table_name = media)]
struct MediaChangeset {
    alt: Option<Option<String>>,
    caption: Option<Option<String>>,
    focal_x: Option<f64>,
    focal_y: Option<f64>,
    updated_at: NaiveDateTime,
}

fn not_found() -> ApiError {
    ApiError::NotFound("no media has this id".into())
}

/// Checks alt text (one line) and a caption (line breaks allowed) as sent: trimmed, empty
/// meaning none (the `pattern`s of `UpdateMedia` and the upload form say the same).
pub fn check_text(v: &mut Validator, field: &str, raw: Option<&str>) -> Option<String> {
    let (max, line_breaks) = if field == "alt" { (MAX_ALT_CHARS, false) } else { (MAX_CAPTION_CHARS, true) };
    v.untrimmed_max(field, raw, max);
    // As sent: a tab around the text is no more allowed than inside it.
    let control = |c: char| c.is_control() && !(line_breaks && c == '\n');
    let message = if line_breaks {
        "must not contain control characters other than line breaks"
    } else {
        "must not contain control characters"
    };
    v.check(!raw.unwrap_or_default().chars().any(control), field, message);
    let value = trimmed(raw);
    if let Some(value) = &value {
        v.chars(field, value, 0, max);
    }
    value
}

pub fn check_focal_point(v: &mut Validator, point: &FocalPoint) {
    let within = |value: f64| (0.0..=1.0).contains(&value);
    v.check(within(point.x), "focal_point.x", "must be from 0 to 1");
    v.check(within(point.y), "focal_point.y", "must be from 0 to 1");
}

pub fn create(conn: &mut DbConnection, new: NewMedia, now: NaiveDateTime) -> Result<MediaRow, ApiError> {
    bookkeeping_transaction(conn, |conn| insert(conn, new, now))
}

/// Writes a media record in the caller's transaction (an import's, with what it remembers).
pub fn insert(conn: &mut DbConnection, new: NewMedia, now: NaiveDateTime) -> Result<MediaRow, ApiError> {
    let id: i64 = diesel::insert_into(media::table)
        .values((
            media::storage_key.eq(&new.storage_key),
            media::content_hash.eq(&new.content_hash),
            media::format.eq(new.format.extension()),
            media::filename.eq(&new.filename),
            media::size_bytes.eq(new.size_bytes),
            media::width.eq(new.width as i32),
            media::height.eq(new.height as i32),
            media::animated.eq(new.animated),
            media::alt.eq(&new.alt),
            media::caption.eq(&new.caption),
            media::uploaded_by.eq(new.uploaded_by),
            media::created_at.eq(now),
            media::updated_at.eq(now),
        ))
        .returning(media::id)
        .get_result(conn)?;
    find(conn, id)
}

pub fn find(conn: &mut DbConnection, id: i64) -> Result<MediaRow, ApiError> {
    media::table.find(id).select(MediaRow::as_select()).first(conn).optional()?.ok_or_else(not_found)
}

/// The record owning the files stored under `key`.
pub fn find_by_key(conn: &mut DbConnection, key: &str) -> Result<Option<MediaRow>, ApiError> {
    Ok(media::table.filter(media::storage_key.eq(key)).select(MediaRow::as_select()).first(conn).optional()?)
}

/// A page of the library, newest first.
pub fn list(
    conn: &mut DbConnection,
    query: &MediaListQuery,
    page: PageRequest,
) -> Result<(Vec<MediaRow>, i64), ApiError> {
    let words = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty()).map(crate::db::contains_pattern);
    let filtered = || {
        let mut rows = media::table.into_boxed::<crate::db::DbBackend>();
        if let Some(pattern) = &words {
            use crate::db::lower;
            rows = rows.filter(
                lower(media::filename)
                    .like(pattern.clone())
                    .escape('\\')
                    .or(lower(media::alt.assume_not_null()).like(pattern.clone()).escape('\\'))
                    .or(lower(media::caption.assume_not_null()).like(pattern.clone()).escape('\\')),
            );
        }
        if let Some(media_type) = query.media_type {
            rows = rows.filter(media::format.eq(media_type.format().extension()));
        }
        if query.unused == Some(true) {
            let users = articles::table.filter(articles::cover_image_id.eq(media::id.nullable()));
            rows = rows.filter(diesel::dsl::not(diesel::dsl::exists(users)));
        }
        rows
    };
    let total = filtered().count().get_result(conn)?;
    let rows = filtered()
        .select(MediaRow::as_select())
        .order((media::created_at.desc(), media::id.desc()))
        .limit(page.per_page)
        .offset(page.offset())
        .load(conn)?;
    Ok((rows, total))
}

/// Changes alt text, caption or focal point. Articles showing the image as their cover change
/// with it, so this is a public write when any does.
pub fn update(
    conn: &mut DbConnection,
    id: i64,
    changes: MediaChanges,
    now: NaiveDateTime,
    guard: impl FnOnce(&MediaRow) -> Result<(), ApiError>,
) -> Result<MediaRow, ApiError> {
    write_transaction(conn, |conn| {
        guard(&find(conn, id)?)?;
        let changeset = MediaChangeset {
            alt: changes.alt,
            caption: changes.caption,
            focal_x: changes.focal_point.map(|point| point.x),
            focal_y: changes.focal_point.map(|point| point.y),
            updated_at: now,
        };
        diesel::update(media::table.find(id)).set(changeset).execute(conn)?;
        find(conn, id)
    })
}

/// How a delete treats articles that show the image as their cover.
pub struct CoverUse {
    /// Delete anyway: they lose their cover.
    pub force: bool,
    /// Name them in the 409 (for editors, who see every article); else say how many.
    pub name_them: bool,
}

/// Deletes a record once `guard` accepts it. While articles use it as their cover, that is a 409,
/// unless `uses.force`. Returns the record, whose files the caller removes.
pub fn delete(
    conn: &mut DbConnection,
    id: i64,
    uses: CoverUse,
    guard: impl FnOnce(&MediaRow) -> Result<(), ApiError>,
) -> Result<MediaRow, ApiError> {
    write_transaction(conn, |conn| {
        let row = find(conn, id)?;
        guard(&row)?;
        let users: Vec<(i64, String)> = articles::table
            .filter(articles::cover_image_id.eq(id))
            .select((articles::id, articles::title))
            .order(articles::id)
            .limit(USERS_NAMED as i64 + 1)
            .load(conn)?;
        if !users.is_empty() && !uses.force {
            let which = if uses.name_them {
                let more = if users.len() > USERS_NAMED { ", and more" } else { "" };
                let named: Vec<String> =
                    users.iter().take(USERS_NAMED).map(|(id, title)| format!("{id} ({title:?})")).collect();
                format!("articles use this image as their cover: {}{more}", named.join(", "))
            } else {
                "articles use this image as their cover".to_string()
            };
            return Err(ApiError::Conflict(format!(
                "{which}; change their covers first, or have an editor delete it with ?force=true"
            )));
        }
        if !users.is_empty() {
            diesel::update(articles::table.filter(articles::cover_image_id.eq(id)))
                .set(articles::cover_image_id.eq(None::<i64>))
                .execute(conn)?;
        }
        diesel::delete(media::table.find(id)).execute(conn)?;
        Ok(row)
    })
}
