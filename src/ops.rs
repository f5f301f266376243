//! Operations routes for load balancers and orchestrators.

use actix_web::{HttpResponse, get, web};
use diesel::connection::SimpleConnection;
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, Problem};

#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// The process is alive (it does not touch the database).
#[utoipa::path(
    tag = "Operations",
    operation_id = "healthz",
    responses((status = 200, description = "Alive", body = Health))
)]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(Health { status: "ok" })
}

/// The database answers and its schema is in place: send traffic here.
#[utoipa::path(
    tag = "Operations",
    operation_id = "readyz",
    responses(
        (status = 200, description = "Ready", body = Health),
        (status = 503, description = "The database is unreachable or not migrated", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    // A query on a table, not `SELECT 1`: it proves the schema is in place and the data readable.
    state
        .db
        .run(|conn| {
            conn.batch_execute("SELECT 1 FROM __diesel_schema_migrations LIMIT 1")
                .map_err(|e| ApiError::Unavailable(format!("readiness check failed: {e}")))
        })
        .await?;
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(Health { status: "ok" }))
}
