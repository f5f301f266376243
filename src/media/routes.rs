//! The media library, under `/api/v1/admin/media`: authors and above upload images (or a token
//! with `media:write`), everyone on the editor side can browse them, and each uploader (or an
//! editor) changes or deletes their own.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::model::{
    DeleteMediaQuery, MediaListQuery, MediaRow, MediaView, UpdateMedia, original_object, variants_folder,
};
use super::store::{self, CoverUse, MediaChanges, NewMedia};
use super::{processing, upload};
use crate::auth::{AuthUser, Role};
use crate::error::{ApiError, Problem, Validator};
use crate::http::extract::{JsonBody, QueryParams};
use crate::http::responses::{private_json, private_no_content, with_location};
use crate::http::state::AppState;
use crate::pagination::{Item, PageRequest, Paginated};

pub fn editor(cfg: &mut ServiceConfig) {
    cfg.service(admin_upload_media)
        .service(admin_list_media)
        .service(admin_get_media)
        .service(admin_update_media)
        .service(admin_delete_media);
}

/// The upload form (`multipart/form-data`).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // the document's description of the form, which `upload` reads by hand
pub struct UploadMediaForm {
    /// The image: JPEG, PNG, WebP or GIF, decided by its bytes. Its file name is kept for display.
    #[schema(value_type = String, format = Binary, content_media_type = "application/octet-stream")]
    file: Vec<u8>,
    /// Alt text, for readers who cannot see the image.
    #[schema(max_length = 1000, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
    alt: Option<String>,
    #[schema(max_length = 2000, pattern = r"^[^\x00-\x09\x0b-\x1f\x7f-\x9f]*$")]
    caption: Option<String>,
}

/// Uploads an image. Its type is decided by its bytes; it is stored without metadata (EXIF, GPS,
/// XMP, comments) and the right way up.
#[utoipa::path(
    tag = "Media",
    operation_id = "adminUploadMedia",
    request_body(content = UploadMediaForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "The image is in the library", body = Item<MediaView>,
            headers(("Location" = String, description = "The image's editor URL"))),
        (status = 413, description = "The file is over `MASTHEAD_MEDIA_MAX_BYTES`", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not multipart/form-data, or the file is not a JPEG, PNG, WebP or GIF image (the problem names what it is)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/media")]
pub async fn admin_upload_media(
    user: AuthUser,
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Author)?;
    let form = upload::read_form(&req, &mut payload.into_inner(), &state).await?;
    let mut v = Validator::new();
    let alt = store::check_text(&mut v, "alt", form.alt.as_deref());
    let caption = store::check_text(&mut v, "caption", form.caption.as_deref());
    v.finish()?;
    let (file, body, max_pixels) = (form.file, form.body, state.config.media.max_pixels);
    // The body's memory is held by the work itself, which runs to its end even if the client leaves.
    let cleaned = state
        .media
        .image_workers
        .run(move || {
            let _body = body;
            processing::clean(&file, max_pixels)
        })
        .await?;
    let new = NewMedia::for_file(&cleaned, form.filename, alt, caption, user.id);
    let row = store_upload(&state, new, cleaned.bytes).await?;
    tracing::info!(media_id = row.id, by = user.id, bytes = row.size_bytes, "image uploaded");
    let location = format!("/api/v1/admin/media/{}", row.id);
    let body = Item { data: MediaView::new(state.db.media_links(), row) };
    Ok(with_location(private_json(StatusCode::CREATED, &body), &location))
}

/// Stores the file, then its record; when the record cannot be written, the file goes again. It
/// runs to its end even if the client leaves, so neither is left without the other.
async fn store_upload(state: &AppState, new: NewMedia, bytes: Vec<u8>) -> Result<MediaRow, ApiError> {
    let (objects, db, now) = (state.media.objects.clone(), state.db.clone(), state.db.now());
    let object = original_object(&new.storage_key, new.format);
    let task = actix_web::rt::spawn(async move {
        objects.put(&object, bytes).await?;
        let recorded = db.run(move |conn| store::create(conn, new, now)).await;
        if recorded.is_err()
            && let Err(error) = objects.delete(&object).await
        {
            tracing::error!(%error, object, "an upload failed and its file could not be removed");
        }
        recorded
    });
    task.await.map_err(|e| ApiError::Internal(format!("the upload task failed: {e}")))?
}

/// The library, newest first.
#[utoipa::path(
    tag = "Media",
    operation_id = "adminListMedia",
    params(MediaListQuery),
    responses((status = 200, description = "A page of images", body = Paginated<MediaView>))
)]
#[get("/media")]
pub async fn admin_list_media(
    user: AuthUser,
    state: web::Data<AppState>,
    QueryParams(query): QueryParams<MediaListQuery>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Contributor)?;
    let page = PageRequest::new(query.page, query.per_page)?;
    let mut v = Validator::new();
    v.untrimmed_max("q", query.q.as_deref(), 200);
    if let Some(q) = &query.q {
        v.chars("q", q.trim(), 0, 200);
    }
    v.finish()?;
    let (rows, total) = state.db.run(move |conn| store::list(conn, &query, page)).await?;
    let data = rows.into_iter().map(|row| MediaView::new(state.db.media_links(), row)).collect();
    Ok(private_json(StatusCode::OK, &Paginated { data, meta: page.meta(total) }))
}

/// One image.
#[utoipa::path(
    tag = "Media",
    operation_id = "adminGetMedia",
    params(("id" = i64, Path, description = "The image's id")),
    responses(
        (status = 200, description = "The image", body = Item<MediaView>),
        (status = 404, description = "No image has this id", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/media/{id}")]
pub async fn admin_get_media(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Contributor)?;
    let id = id.into_inner();
    let row = state.db.run(move |conn| store::find(conn, id)).await?;
    Ok(private_json(StatusCode::OK, &Item { data: MediaView::new(state.db.media_links(), row) }))
}

/// Authors change and delete their own uploads; editors and admins anyone's.
fn require_owner(user: &AuthUser, row: &MediaRow) -> Result<(), ApiError> {
    if user.role >= Role::Editor || row.uploaded_by == Some(user.id) {
        Ok(())
    } else {
        Err(ApiError::Forbidden("authors change only the images they uploaded".into()))
    }
}

/// Changes alt text, caption or focal point; articles showing the image change with it.
#[utoipa::path(
    tag = "Media",
    operation_id = "adminUpdateMedia",
    params(("id" = i64, Path, description = "The image's id")),
    request_body = UpdateMedia,
    responses(
        (status = 200, description = "The image as it now is", body = Item<MediaView>),
        (status = 404, description = "No image has this id", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/media/{id}")]
pub async fn admin_update_media(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    JsonBody(input): JsonBody<UpdateMedia>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Author)?;
    let mut v = Validator::new();
    let alt = input.alt.as_ref().map(|alt| store::check_text(&mut v, "alt", alt.as_deref()));
    let caption = input.caption.as_ref().map(|caption| store::check_text(&mut v, "caption", caption.as_deref()));
    if let Some(point) = &input.focal_point {
        store::check_focal_point(&mut v, point);
    }
    v.finish()?;
    let changes = MediaChanges { alt, caption, focal_point: input.focal_point };
    let (id, now) = (id.into_inner(), state.db.now());
    let row = state.db.run(move |conn| store::update(conn, id, changes, now, |row| require_owner(&user, row))).await?;
    Ok(private_json(StatusCode::OK, &Item { data: MediaView::new(state.db.media_links(), row) }))
}

/// Deletes an image and its files. While articles use it as their cover this is a 409 (naming
/// them, for editors); an editor's `?force=true` deletes it anyway and they lose their cover.
#[utoipa::path(
    tag = "Media",
    operation_id = "adminDeleteMedia",
    params(("id" = i64, Path, description = "The image's id"), DeleteMediaQuery),
    responses(
        (status = 204, description = "The image and its files are gone"),
        (status = 404, description = "No image has this id", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Articles use it as their cover (named in the problem)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/media/{id}")]
pub async fn admin_delete_media(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    QueryParams(query): QueryParams<DeleteMediaQuery>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Author)?;
    let force = query.force == Some(true);
    if force {
        // It changes articles that are not the caller's.
        user.require(Role::Editor)?;
    }
    let uses = CoverUse { force, name_them: user.role >= Role::Editor };
    let (id, by) = (id.into_inner(), user.id);
    let row = state.db.run(move |conn| store::delete(conn, id, uses, |row| require_owner(&user, row))).await?;
    remove_files(&state, &row).await;
    tracing::info!(media_id = id, by, "image deleted");
    Ok(private_no_content())
}

/// Removes a deleted record's files. A failure is logged, not answered: the record is gone, and
/// nothing links to the files any more.
async fn remove_files(state: &AppState, row: &MediaRow) {
    let objects = &state.media.objects;
    let mut names = vec![original_object(&row.storage_key, row.format())];
    match objects.names(&variants_folder(&row.storage_key)).await {
        Ok(variants) => names.extend(variants),
        Err(error) => tracing::error!(%error, media_id = row.id, "cannot list a deleted image's variants"),
    }
    for name in names {
        if let Err(error) = objects.delete(&name).await {
            tracing::error!(%error, object = name, "cannot remove a deleted image's file");
        }
    }
}
