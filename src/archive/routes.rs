//! `GET /api/v1/admin/export`: the export streamed to an admin, as `masthead export` writes it.

use actix_web::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, HeaderValue};
use actix_web::web::Bytes;
use actix_web::{HttpResponse, get, web};
use futures_util::StreamExt;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use super::export::{ExportOptions, export};
use super::format::Record;
use crate::auth::{AuthUser, Role};
use crate::error::ApiError;
use crate::http::extract::QueryParams;
use crate::http::state::AppState;

/// Bytes gathered before they are sent on.
const CHUNK_BYTES: usize = 64 * 1024;

/// `GET /api/v1/admin/export` parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// Articles' revision history too.
    #[param(default = false)]
    pub with_revisions: Option<bool>,
}

/// Everything as JSON Lines (docs/export.md): authors (no password hashes), tags, media records,
/// articles with their Markdown, bylines and tags, comments (e-mails included), redirects, and with
/// `with_revisions=true` the history. Read from one snapshot and streamed; the last line is an
/// `end` record, so a download cut short is told by its absence. Admins only, logged in; exports
/// share the quarter of the database pool that costly reads get.
#[utoipa::path(
    tag = "Archive",
    operation_id = "adminExport",
    params(ExportQuery),
    responses(
        (status = 200, description = "The export, one JSON record per line", body = String, content_type = "application/x-ndjson",
            headers(("Content-Disposition" = String, description = "`attachment` with a dated file name"))),
    )
)]
#[get("/export")]
pub async fn admin_export(
    user: AuthUser,
    state: web::Data<AppState>,
    QueryParams(query): QueryParams<ExportQuery>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Admin)?;
    let options = ExportOptions { with_revisions: query.with_revisions.unwrap_or(false) };
    let now = state.db.now();
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Result<Bytes, ApiError>>(4);
    let db = state.db.clone();
    tracing::info!(by = user.id, with_revisions = options.with_revisions, "export started");
    actix_web::rt::spawn(async move {
        let to_client = sender.clone();
        let exported = db
            .run_unbudgeted(move |conn| {
                let mut buffer = Vec::with_capacity(CHUNK_BYTES * 2);
                let send = |buffer: &mut Vec<u8>| {
                    let chunk = Bytes::from(std::mem::replace(buffer, Vec::with_capacity(CHUNK_BYTES * 2)));
                    send_within(&to_client, chunk)
                };
                let mut emit = |record: &Record| {
                    serde_json::to_writer(&mut buffer, record)
                        .map_err(|e| ApiError::Internal(format!("cannot write a record: {e}")))?;
                    buffer.push(b'\n');
                    if buffer.len() >= CHUNK_BYTES { send(&mut buffer) } else { Ok(()) }
                };
                let records = export(conn, options, now, &mut emit, &mut |_| Ok(()))?;
                send(&mut buffer)?;
                Ok(records)
            })
            .await;
        match exported {
            Ok(records) => tracing::info!(records, "export sent"),
            Err(error) => {
                tracing::warn!(%error, "export stopped");
                // Ends the body early: the missing `end` record tells the client.
                let _ = sender.send(Err(error)).await;
            }
        }
    });
    // The first chunk is awaited before the status is sent: an export that cannot start (no
    // connection, no snapshot) is an error with its problem, never a 200 with a cut body.
    let first = match receiver.recv().await {
        Some(Ok(chunk)) => chunk,
        Some(Err(error)) => return Err(error),
        None => return Err(ApiError::Internal("the export ended before it began".into())),
    };
    let rest = futures_util::stream::poll_fn(move |cx| receiver.poll_recv(cx));
    let body = futures_util::stream::once(std::future::ready(Ok(first))).chain(rest);
    let file = format!("attachment; filename=\"masthead-{}.jsonl\"", now.format("%Y-%m-%d"));
    Ok(HttpResponse::Ok()
        .content_type("application/x-ndjson")
        .insert_header((CACHE_CONTROL, HeaderValue::from_static("private, no-store")))
        .insert_header((CONTENT_DISPOSITION, file))
        .streaming(body))
}

/// How long the export waits for its client to take the next chunk: one that stops reading but
/// stays connected must not hold a connection and a snapshot for ever.
const CLIENT_PATIENCE: std::time::Duration = std::time::Duration::from_secs(60);

/// Hands a chunk to the response, from the blocking thread that reads the database.
fn send_within(to_client: &tokio::sync::mpsc::Sender<Result<Bytes, ApiError>>, chunk: Bytes) -> Result<(), ApiError> {
    use tokio::sync::mpsc::error::TrySendError;
    let until = std::time::Instant::now() + CLIENT_PATIENCE;
    let mut chunk = Ok(chunk);
    loop {
        match to_client.try_send(chunk) {
            Ok(()) => return Ok(()),
            Err(TrySendError::Closed(_)) => return Err(ApiError::Internal("the export's client left".into())),
            Err(TrySendError::Full(back)) if std::time::Instant::now() < until => {
                chunk = back;
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            Err(TrySendError::Full(_)) => {
                return Err(ApiError::Internal("the export's client stopped reading for a minute".into()));
            }
        }
    }
}

/// The routes under `/api/v1/admin`.
pub fn editor(cfg: &mut ServiceConfig) {
    cfg.service(admin_export);
}
