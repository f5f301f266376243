//! Article routes by audience: `public` for readers, `editor` for writing and publishing,
//! `revisions` for the history; the feed and preview links have modules of their own.

mod editor;
mod public;
mod revisions;

use utoipa_actix_web::service_config::ServiceConfig;

use super::{feed, preview};

/// The routes under `/api/v1` that anyone may call.
pub fn public(cfg: &mut ServiceConfig) {
    cfg.service(public::list_articles)
        .service(public::get_article)
        .service(public::related_articles)
        .service(feed::feed)
        .service(preview::get_preview);
}

/// The routes under `/api/v1/admin`, for staff.
pub fn editor(cfg: &mut ServiceConfig) {
    cfg.service(editor::admin_list_articles)
        .service(editor::admin_create_article)
        .service(editor::admin_get_article)
        .service(editor::admin_update_article)
        .service(editor::admin_delete_article)
        .service(editor::admin_publish_article)
        .service(editor::admin_unpublish_article)
        .service(editor::admin_restore_article)
        .service(revisions::admin_list_revisions)
        .service(revisions::admin_get_revision)
        .service(revisions::admin_restore_revision)
        .service(preview::create_preview);
}
