//! Webhook routes, under `/api/v1/admin/webhooks`: editors and admins (or a token with
//! `webhooks:manage`) subscribe URLs to events, rotate secrets, send tests, and see and repeat
//! deliveries. Webhooks belong to the site, not to who made them.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use super::model::{CreateWebhook, DeliveryStatus, DeliveryView, UpdateWebhook, WebhookView, WebhookWithSecret};
use super::signing::new_secret;
use super::store::{self, NewWebhook, WebhookChanges};
use crate::auth::{AuthUser, Role};
use crate::error::{ApiError, Problem, Validator};
use crate::http::extract::{JsonBody, QueryParams};
use crate::http::responses::{PageQuery, private_json, private_no_content, with_location};
use crate::http::state::AppState;
use crate::pagination::{Item, PageRequest, Paginated};

/// How long a rotated-out secret still signs deliveries (next to the new one).
const OLD_SECRET_GRACE: chrono::Duration = chrono::Duration::hours(24);

/// `GET /api/v1/admin/webhooks/{id}/deliveries` parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveryListQuery {
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1000000000, default = 1)]
    #[serde(default, deserialize_with = "crate::pagination::page_number")]
    pub page: Option<i64>,
    /// Items per page.
    #[param(minimum = 1, maximum = 100, default = 20)]
    #[serde(default, deserialize_with = "crate::pagination::page_number")]
    pub per_page: Option<i64>,
    /// Only deliveries in this state.
    #[param(inline)]
    pub status: Option<DeliveryStatus>,
}

/// Checks a URL as the SSRF guard sees it, resolving its host now (a refusal is a 422 here; the
/// address is checked again at each delivery).
async fn check_url(state: &AppState, url: &str) -> Result<String, ApiError> {
    let allow_private = state.config.webhooks.allow_private;
    let refused = |reason: String| ApiError::invalid("url", reason);
    let parsed = crate::outbound::check_url(url, allow_private).map_err(refused)?;
    crate::outbound::check_resolved(&parsed, allow_private).await.map_err(refused)?;
    Ok(url.to_string())
}

/// Subscribes a URL to events. The signing secret is in this response only.
#[utoipa::path(
    tag = "Webhooks",
    operation_id = "adminCreateWebhook",
    request_body = CreateWebhook,
    responses(
        (status = 201, description = "The webhook was made; store `secret` now", body = Item<WebhookWithSecret>,
            headers(("Location" = String, description = "The webhook's editor URL"))),
        (status = 409, description = "The site has 100 webhooks already", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/webhooks")]
pub async fn admin_create_webhook(
    user: AuthUser,
    state: web::Data<AppState>,
    JsonBody(input): JsonBody<CreateWebhook>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Editor)?;
    let mut v = Validator::new();
    store::check_url_length(&mut v, &input.url);
    let events = store::check_events(&mut v, &input.events);
    let description = store::check_description(&mut v, input.description.as_deref());
    v.finish()?;
    let url = check_url(&state, &input.url).await?;
    let secret = new_secret();
    let new = NewWebhook {
        created_by: user.id,
        url,
        description,
        events,
        active: input.active.unwrap_or(true),
        secret: secret.clone(),
    };
    let now = state.db.now();
    let row = state.db.run(move |conn| store::create(conn, new, now)).await?;
    tracing::info!(webhook_id = row.id, by = user.id, "webhook made");
    let location = format!("/api/v1/admin/webhooks/{}", row.id);
    let body = Item { data: WebhookWithSecret { view: row.into(), secret } };
    Ok(with_location(private_json(StatusCode::CREATED, &body), &location))
}

/// The site's webhooks, newest first (never their secrets).
#[utoipa::path(
    tag = "Webhooks",
    operation_id = "adminListWebhooks",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of webhooks", body = Paginated<WebhookView>),
    )
)]
#[get("/webhooks")]
pub async fn admin_list_webhooks(
    user: AuthUser,
    state: web::Data<AppState>,
    QueryParams(query): QueryParams<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Editor)?;
    let page = PageRequest::new(query.page, query.per_page)?;
    let (rows, total) = state.db.run(move |conn| store::list(conn, page)).await?;
    let data = rows.into_iter().map(WebhookView::from).collect();
    Ok(private_json(StatusCode::OK, &Paginated { data, meta: page.meta(total) }))
}

/// One webhook, without its secret.
#[utoipa::path(
    tag = "Webhooks",
    operation_id = "adminGetWebhook",
    params(("id" = i64, Path, description = "The webhook's id")),
    responses(
        (status = 200, description = "The webhook", body = Item<WebhookView>),
        (status = 404, description = "No webhook has this id", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/webhooks/{id}")]
pub async fn admin_get_webhook(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Editor)?;
    let id = id.into_inner();
    let row = state.db.run(move |conn| store::find(conn, id)).await?;
    Ok(private_json(StatusCode::OK, &Item { data: WebhookView::from(row) }))
}

/// Changes a webhook's URL, events, description or state. `active: true` re-enables a webhook
/// the server disabled: its failures are forgiven and its waiting deliveries go out at once.
#[utoipa::path(
    tag = "Webhooks",
    operation_id = "adminUpdateWebhook",
    params(("id" = i64, Path, description = "The webhook's id")),
    request_body = UpdateWebhook,
    responses(
        (status = 200, description = "The webhook as it now is", body = Item<WebhookView>),
        (status = 404, description = "No webhook has this id", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/webhooks/{id}")]
pub async fn admin_update_webhook(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    JsonBody(input): JsonBody<UpdateWebhook>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Editor)?;
    let mut v = Validator::new();
    if let Some(url) = &input.url {
        store::check_url_length(&mut v, url);
    }
    let events = input.events.as_deref().map(|events| store::check_events(&mut v, events));
    let description =
        input.description.as_ref().map(|description| store::check_description(&mut v, description.as_deref()));
    v.finish()?;
    let url = match &input.url {
        Some(url) => Some(check_url(&state, url).await?),
        None => None,
    };
    let changes = WebhookChanges { url, events, description, active: input.active };
    let (id, now) = (id.into_inner(), state.db.now());
    let row = state.db.run(move |conn| store::update(conn, id, changes, now)).await?;
    Ok(private_json(StatusCode::OK, &Item { data: WebhookView::from(row) }))
}

/// Deletes a webhook and its delivery history; nothing more is sent to it.
#[utoipa::path(
    tag = "Webhooks",
    operation_id = "adminDeleteWebhook",
    params(("id" = i64, Path, description = "The webhook's id")),
    responses(
        (status = 204, description = "The webhook was deleted"),
        (status = 404, description = "No webhook has this id", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/webhooks/{id}")]
pub async fn admin_delete_webhook(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Editor)?;
    let id = id.into_inner();
    state.db.run(move |conn| store::delete(conn, id)).await?;
    tracing::info!(webhook_id = id, by = user.id, "webhook deleted");
    Ok(private_no_content())
}

/// Gives the webhook a new signing secret, shown in this response only. The old secret keeps
/// signing next to the new one for 24 hours (`webhook-signature` carries both), so receivers can
/// switch without missing a delivery.
#[utoipa::path(
    tag = "Webhooks",
    operation_id = "adminRotateWebhookSecret",
    params(("id" = i64, Path, description = "The webhook's id")),
    responses(
        (status = 200, description = "The new secret; store it now", body = Item<WebhookWithSecret>),
        (status = 404, description = "No webhook has this id", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/webhooks/{id}/rotate-secret")]
pub async fn admin_rotate_webhook_secret(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Editor)?;
    let (id, now, secret) = (id.into_inner(), state.db.now(), new_secret());
    let kept = secret.clone();
    let row = state.db.run(move |conn| store::rotate(conn, id, kept, now, now + OLD_SECRET_GRACE)).await?;
    tracing::info!(webhook_id = id, by = user.id, "webhook secret rotated");
    Ok(private_json(StatusCode::OK, &Item { data: WebhookWithSecret { view: row.into(), secret } }))
}

/// Queues a `ping` event to this webhook, to check the receiver and its signature check. Its
/// result shows in the delivery (`Location`).
#[utoipa::path(
    tag = "Webhooks",
    operation_id = "adminTestWebhook",
    params(("id" = i64, Path, description = "The webhook's id")),
    responses(
        (status = 202, description = "The ping is queued", body = Item<DeliveryView>,
            headers(("Location" = String, description = "The delivery's URL"))),
        (status = 404, description = "No webhook has this id", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The webhook is disabled; enable it first", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/webhooks/{id}/test")]
pub async fn admin_test_webhook(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Editor)?;
    let id = id.into_inner();
    let delivery = state.db.run(move |conn| store::ping(conn, id)).await?;
    Ok(delivery_response(delivery))
}

fn delivery_response(delivery: DeliveryView) -> HttpResponse {
    let location = format!("/api/v1/admin/webhooks/{}/deliveries/{}", delivery.webhook_id, delivery.id);
    with_location(private_json(StatusCode::ACCEPTED, &Item { data: delivery }), &location)
}

/// A webhook's deliveries, newest first: each event's state, attempts, next attempt and the
/// receiver's last answer.
#[utoipa::path(
    tag = "Webhooks",
    operation_id = "adminListWebhookDeliveries",
    params(("id" = i64, Path, description = "The webhook's id"), DeliveryListQuery),
    responses(
        (status = 200, description = "A page of deliveries", body = Paginated<DeliveryView>),
        (status = 404, description = "No webhook has this id", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/webhooks/{id}/deliveries")]
pub async fn admin_list_webhook_deliveries(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    QueryParams(query): QueryParams<DeliveryListQuery>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Editor)?;
    let page = PageRequest::new(query.page, query.per_page)?;
    let (id, status) = (id.into_inner(), query.status);
    let (data, total) = state.db.run(move |conn| store::deliveries(conn, id, status, page)).await?;
    Ok(private_json(StatusCode::OK, &Paginated { data, meta: page.meta(total) }))
}

/// One delivery of a webhook.
#[utoipa::path(
    tag = "Webhooks",
    operation_id = "adminGetWebhookDelivery",
    params(
        ("id" = i64, Path, description = "The webhook's id"),
        ("delivery_id" = i64, Path, description = "The delivery's id"),
    ),
    responses(
        (status = 200, description = "The delivery", body = Item<DeliveryView>),
        (status = 404, description = "The webhook has no delivery with this id", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/webhooks/{id}/deliveries/{delivery_id}")]
pub async fn admin_get_webhook_delivery(
    user: AuthUser,
    state: web::Data<AppState>,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Editor)?;
    let (id, delivery_id) = path.into_inner();
    let data = state.db.run(move |conn| store::delivery_view(conn, id, delivery_id)).await?;
    Ok(private_json(StatusCode::OK, &Item { data }))
}

/// Sends a delivery's event again, as a new delivery due now with the same `webhook-id`.
#[utoipa::path(
    tag = "Webhooks",
    operation_id = "adminRedeliverWebhookDelivery",
    params(
        ("id" = i64, Path, description = "The webhook's id"),
        ("delivery_id" = i64, Path, description = "The delivery to repeat"),
    ),
    responses(
        (status = 202, description = "The new delivery is queued", body = Item<DeliveryView>,
            headers(("Location" = String, description = "The new delivery's URL"))),
        (status = 404, description = "The webhook has no delivery with this id", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The webhook is disabled; enable it first", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/webhooks/{id}/deliveries/{delivery_id}/redeliver")]
pub async fn admin_redeliver_webhook_delivery(
    user: AuthUser,
    state: web::Data<AppState>,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Editor)?;
    let ((id, delivery_id), now) = (path.into_inner(), state.db.now());
    let delivery = state.db.run(move |conn| store::redeliver(conn, id, delivery_id, now)).await?;
    Ok(delivery_response(delivery))
}

/// The routes under `/api/v1/admin`, for staff logged in.
pub fn editor(cfg: &mut ServiceConfig) {
    cfg.service(admin_create_webhook)
        .service(admin_list_webhooks)
        .service(admin_get_webhook)
        .service(admin_update_webhook)
        .service(admin_delete_webhook)
        .service(admin_rotate_webhook_secret)
        .service(admin_test_webhook)
        .service(admin_list_webhook_deliveries)
        .service(admin_get_webhook_delivery)
        .service(admin_redeliver_webhook_delivery);
}
