//! `/media/<key>.<ext>`: the library's files for everyone, straight from the media store. A URL
//! names the content (its hash is in the key), so every answer may be cached for a year
//! (`immutable`). Variants come in the declared widths only (`?w=`), in the original's format or
//! WebP (`?format=webp`, or `auto` to follow `Accept`); each is made once, on its first request,
//! and then kept in the store.

use actix_web::body::SizedStream;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, ByteRangeSpec, EntityTag, HeaderValue, Range};
use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::formats::Format;
use super::model::{original_object, variant_object};
use super::{processing, store};
use crate::error::{ApiError, Problem};
use crate::http::extract::QueryParams;
use crate::http::state::AppState;
use crate::http::validators::{Validators, http_date};
use crate::storage::{ObjectBody, ObjectStream};

const IMMUTABLE: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");

pub fn public(cfg: &mut ServiceConfig) {
    cfg.service(media_file);
}

/// The format of a variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum VariantFormat {
    /// The original's own format (the default).
    Original,
    Webp,
    /// WebP when the request's `Accept` names `image/webp`, else the original's format; the
    /// answer carries `Vary: Accept`.
    Auto,
}

/// `/media/{file}` parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct VariantQuery {
    /// One of the declared widths (`MASTHEAD_MEDIA_WIDTHS`, by default 320, 640, 960, 1280 and
    /// 1920) narrower than the original; any other width is a 400.
    #[param(minimum = 16, maximum = 8192, example = 640)]
    pub w: Option<u32>,
    #[param(inline)]
    pub format: Option<VariantFormat>,
}

/// A media file, or one of its variants. `ETag`, `Last-Modified`, conditional requests and byte
/// ranges are supported; every answer may be cached for a year.
#[utoipa::path(
    tag = "Media",
    operation_id = "getMediaFile",
    params(
        ("file" = String, Path, description = "The file's name as media URLs give it: `<key>.<ext>`"),
        VariantQuery,
        ("Range" = Option<String>, Header, description = "One byte range, `bytes=first-last`"),
        ("If-None-Match" = Option<String>, Header, description = "The `ETag` of a copy held: 304 while it is current"),
    ),
    responses(
        (status = 200, description = "The image",
            content(("image/jpeg"), ("image/png"), ("image/webp"), ("image/gif")),
            headers(
                ("ETag" = String, description = "Strong; the same for the same URL forever"),
                ("Last-Modified" = String, description = "When the file was stored"),
                ("Cache-Control" = String, description = "`public, max-age=31536000, immutable`"),
            )),
        (status = 206, description = "The bytes asked for with `Range`",
            content(("image/jpeg"), ("image/png"), ("image/webp"), ("image/gif")),
            headers(("Content-Range" = String, description = "`bytes first-last/size`"))),
        (status = 304, description = "The copy the client holds is current"),
        (status = 400, description = "A width that is not declared or not narrower than the image, or a variant of an animation", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such file", body = Problem, content_type = "application/problem+json"),
        (status = 416, description = "The range is outside the file", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/media/{file}")]
pub async fn media_file(
    req: HttpRequest,
    state: web::Data<AppState>,
    file: web::Path<String>,
    QueryParams(query): QueryParams<VariantQuery>,
) -> Result<HttpResponse, ApiError> {
    let (key, format) = parse_file_name(&file).ok_or_else(no_such_file)?;
    if let Some(width) = query.w
        && !state.config.media.widths.contains(&width)
    {
        let declared: Vec<String> = state.config.media.widths.iter().map(u32::to_string).collect();
        return Err(ApiError::BadRequest(format!("`w` must be one of the declared widths: {}", declared.join(", "))));
    }
    let output = match query.format {
        None | Some(VariantFormat::Original) => format,
        Some(VariantFormat::Webp) => Format::Webp,
        Some(VariantFormat::Auto) if accepts_webp(&req) => Format::Webp,
        Some(VariantFormat::Auto) => format,
    };
    let original = query.w.is_none() && output == format;
    let object = if original { original_object(key, format) } else { variant_object(key, query.w, output) };
    let etag = EntityTag::new_strong(object.replace('/', "-"));
    let vary = query.format == Some(VariantFormat::Auto);
    let sent = send(&req, &state, &object, output, &etag, vary).await?;
    if let Some(response) = sent {
        return Ok(response);
    }
    if original {
        return Err(no_such_file());
    }
    make_variant(&state, key, format, query.w, output, &object).await?;
    send(&req, &state, &object, output, &etag, vary).await?.ok_or_else(no_such_file)
}

/// Whether the request's `Accept` names `image/webp` with a weight above zero (an unreadable
/// `Accept` names nothing).
fn accepts_webp(req: &HttpRequest) -> bool {
    use actix_web::http::header::{Accept, Header, Quality};
    Accept::parse(req).is_ok_and(|accept| {
        accept.iter().any(|range| range.item.essence_str() == "image/webp" && range.quality > Quality::ZERO)
    })
}

fn no_such_file() -> ApiError {
    ApiError::NotFound("no media file has this name".into())
}

/// `<key>.<ext>`, where a key is a SHA-256 in hex, a dash and 8 more hex digits.
fn parse_file_name(name: &str) -> Option<(&str, Format)> {
    let (key, extension) = name.rsplit_once('.')?;
    let (hash, suffix) = key.split_once('-')?;
    let hex = |part: &str, length: usize| {
        part.len() == length && part.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    };
    (hex(hash, 64) && hex(suffix, 8)).then_some(())?;
    Some((key, Format::from_extension(extension)?))
}

/// Answers with `object` from the store: 304 for a current copy, 206 for a range, 200 otherwise;
/// `None` when the store has no such object.
async fn send(
    req: &HttpRequest,
    state: &AppState,
    object: &str,
    format: Format,
    etag: &EntityTag,
    vary: bool,
) -> Result<Option<HttpResponse>, ApiError> {
    let objects = &state.media.objects;
    let response = |status: StatusCode, last_modified: chrono::DateTime<chrono::Utc>| {
        let mut builder = HttpResponse::build(status);
        builder
            .insert_header((header::CACHE_CONTROL, IMMUTABLE))
            .insert_header((header::ETAG, etag.clone()))
            .insert_header((header::LAST_MODIFIED, http_date(last_modified)))
            .insert_header((header::ACCEPT_RANGES, HeaderValue::from_static("bytes")));
        if vary {
            builder.insert_header((header::VARY, HeaderValue::from_static("Accept")));
        }
        builder
    };
    let range = requested_range(req, etag);
    if range.is_some() || has_validators(req) {
        let Some((size, last_modified)) = objects.head(object).await? else { return Ok(None) };
        if Validators::of(req).fresh(etag, Some(http_date(last_modified))) {
            return Ok(Some(response(StatusCode::NOT_MODIFIED, last_modified).finish()));
        }
        if let Some(spec) = range {
            let Some((first, last)) = spec.to_satisfiable_range(size) else {
                return Err(ApiError::RangeNotSatisfiable { size });
            };
            let Some(part) = objects.stream(object, Some(first..last + 1)).await? else { return Ok(None) };
            let content_range = format!("bytes {first}-{last}/{size}");
            return Ok(Some(
                response(StatusCode::PARTIAL_CONTENT, part.last_modified)
                    .insert_header((header::CONTENT_RANGE, content_range))
                    .content_type(format.mime_type())
                    .body(body_of(part)),
            ));
        }
    }
    let Some(whole) = objects.stream(object, None).await? else { return Ok(None) };
    let last_modified = whole.last_modified;
    Ok(Some(response(StatusCode::OK, last_modified).content_type(format.mime_type()).body(body_of(whole))))
}

/// A response body of an object: in one piece when it was read whole, else streamed.
fn body_of(object: ObjectStream) -> actix_web::body::BoxBody {
    match object.body {
        ObjectBody::Whole(bytes) => actix_web::body::BoxBody::new(bytes),
        ObjectBody::Chunks(chunks) => actix_web::body::BoxBody::new(SizedStream::new(object.length, chunks)),
    }
}

fn has_validators(req: &HttpRequest) -> bool {
    req.headers().contains_key(header::IF_NONE_MATCH) || req.headers().contains_key(header::IF_MODIFIED_SINCE)
}

/// The one byte range asked for, if any and if `If-Range` (when sent) names this file. Several
/// ranges at once are answered with the whole file, as RFC 9110 allows.
fn requested_range(req: &HttpRequest, etag: &EntityTag) -> Option<ByteRangeSpec> {
    let Range::Bytes(mut specs) = req.headers().get(header::RANGE)?.to_str().ok()?.parse::<Range>().ok()? else {
        return None;
    };
    if let Some(if_range) = req.headers().get(header::IF_RANGE) {
        let matches = if_range
            .to_str()
            .ok()
            .and_then(|value| value.parse::<EntityTag>().ok())
            .is_some_and(|tag| tag.strong_eq(etag));
        if !matches {
            return None;
        }
    }
    (specs.len() == 1).then(|| specs.remove(0))
}

/// Makes a variant and keeps it in the store: once, however many ask for it at once (the others
/// wait for it, then find it there). The work runs to its end in a task of its own, holding its
/// turn and its share of the image work, even if the client that asked goes away: a client
/// cannot start work and leave it unaccounted for.
async fn make_variant(
    state: &AppState,
    key: &str,
    format: Format,
    width: Option<u32>,
    output: Format,
    object: &str,
) -> Result<(), ApiError> {
    let owned_key = key.to_string();
    let row = state.db.run(move |conn| store::find_by_key(conn, &owned_key)).await?.ok_or_else(no_such_file)?;
    if row.format() != format {
        return Err(no_such_file());
    }
    if row.animated {
        return Err(ApiError::BadRequest("animations have no variants; use the file itself".into()));
    }
    let (original_width, original_height) = (u64::from(row.width.unsigned_abs()), u64::from(row.height.unsigned_abs()));
    if let Some(width) = width
        && u64::from(width) >= original_width
    {
        return Err(ApiError::BadRequest(format!(
            "the image is {original_width} pixels wide; variants are only made narrower than that"
        )));
    }
    let output_width = width.map_or(original_width, u64::from);
    let output_height = (original_height * output_width).div_ceil(original_width.max(1));
    if output == Format::Webp && output_width.max(output_height) > u64::from(processing::MAX_WEBP_SIDE) {
        return Err(ApiError::BadRequest(format!(
            "WebP images are at most {} pixels on a side; ask for a narrower width or the original format",
            processing::MAX_WEBP_SIDE
        )));
    }
    let place = state.media.variants_in_flight.join(object);
    let Some(turn) = place.turn(state.config.media.upload_timeout).await else {
        return Err(ApiError::Busy("this variant is still being made; retry in a moment".into()));
    };
    let objects = state.media.objects.clone();
    if objects.head(object).await?.is_some() {
        return Ok(());
    }
    let (db, max_pixels, media_id) = (state.db.clone(), state.config.media.max_pixels, row.id);
    let workers = state.media.image_workers.clone();
    let (original, object, key) = (original_object(key, format), object.to_string(), key.to_string());
    let task = actix_web::rt::spawn(async move {
        let _held = (place, turn);
        let Some(source) = objects.get(&original, None).await? else {
            tracing::error!(media_id, "an image's original is missing from the media store");
            return Err(no_such_file());
        };
        let rendered =
            workers.run(move || processing::render_variant(&source.bytes, format, width, output, max_pixels)).await?;
        objects.put(&object, rendered).await?;
        // Deleted meanwhile: its files were removed before this one was written.
        if db.run(move |conn| store::find_by_key(conn, &key)).await?.is_none() {
            objects.delete(&object).await?;
            return Err(no_such_file());
        }
        Ok(())
    });
    task.await.map_err(|e| ApiError::Internal(format!("the variant task failed: {e}")))?
}
