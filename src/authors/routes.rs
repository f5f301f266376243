//! Public author routes: bylines with published work, never e-mails.

use actix_web::{get, web};

use super::model::AuthorSummary;
use super::store;
use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::QueryParams;
use crate::pagination::{Item, PageRequest, Paginated};
use crate::responses::{PageQuery, public_json};

/// Authors with at least one published article, by name.
#[utoipa::path(
    tag = "Content",
    operation_id = "listAuthors",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of authors", body = Paginated<AuthorSummary>),
        (status = 400, description = "Unknown or malformed query parameter", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A parameter is out of range", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/authors")]
pub async fn list_authors(
    state: web::Data<AppState>,
    QueryParams(query): QueryParams<PageQuery>,
) -> Result<actix_web::HttpResponse, ApiError> {
    let page = PageRequest::new(query.page, query.per_page)?;
    let now = crate::db::now();
    let (data, total) = state.db.run(move |conn| store::list_public(conn, now, page)).await?;
    Ok(public_json(&Paginated { data, meta: page.meta(total) }))
}

/// One author with published work, by slug.
#[utoipa::path(
    tag = "Content",
    operation_id = "getAuthor",
    params(("slug" = String, Path, description = "The author's slug", example = "ada-lovelace")),
    responses(
        (status = 200, description = "The author", body = Item<AuthorSummary>),
        (status = 404, description = "No author with published work has this slug", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/authors/{slug}")]
pub async fn get_author(
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> Result<actix_web::HttpResponse, ApiError> {
    let slug = slug.into_inner();
    let now = crate::db::now();
    let author = state
        .db
        .run(move |conn| store::find_public(conn, now, &slug))
        .await?
        .ok_or_else(|| ApiError::NotFound("no author has this slug".into()))?;
    Ok(public_json(&Item { data: author }))
}
