//! Operations routes for load balancers and orchestrators.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::db::Readiness;
use crate::error::{ApiError, Problem};
use crate::http::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok`, or `degraded` when the node serves but something needs an operator (`detail` says
    /// what).
    #[schema(example = "ok")]
    pub status: HealthStatus,
    /// What is wrong, when degraded.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "writes have been failing for 42 s: the disk holding the database is full")]
    pub detail: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    Ok,
    Degraded,
}

fn health(status: HealthStatus, detail: Option<String>) -> HttpResponse {
    HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(Health { status, detail })
}

/// The process is alive (it does not touch the database).
#[utoipa::path(
    tag = "Operations",
    operation_id = "healthz",
    responses((status = 200, description = "Alive", body = Health))
)]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    health(HealthStatus::Ok, None)
}

/// The database answers and its schema is in place, and the node is not shutting down: send
/// traffic here. Answered at once from the
/// database watcher's last probe (twice a second, on a connection of its own), so it neither waits
/// for a busy pool nor for a database that does not answer. `degraded` (still 200): writes fail
/// because the database's disk is full, while reads work.
#[utoipa::path(
    tag = "Operations",
    operation_id = "readyz",
    responses(
        (status = 200, description = "Ready, or degraded (see `status`)", body = Health),
        (status = 503, description = "The database is unreachable or not migrated", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    if state.draining.load(std::sync::atomic::Ordering::Relaxed) {
        return Err(ApiError::Unavailable("not ready: shutting down".into()));
    }
    match state.db.readiness() {
        Readiness::Ready => Ok(health(HealthStatus::Ok, None)),
        Readiness::Degraded(detail) => Ok(health(HealthStatus::Degraded, Some(detail))),
        Readiness::NotReady(why) => Err(ApiError::Unavailable(format!("not ready: {why}"))),
    }
}

/// The probes, at the root (outside `/api/v1`, as load balancers expect).
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(healthz).service(readyz);
}
