//! What every request handler can reach, and how handlers run CPU-bound work.

use std::sync::Arc;

use actix_web::web;

use crate::auth::jwt::JwtKeys;
use crate::config::Config;
use crate::db::{ChangeObserver, Db};
use crate::error::ApiError;
use crate::http::body::BodyLimits;
use crate::http::cache::ResponseCache;

/// What every request handler can reach.
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    pub jwt: JwtKeys,
    /// A hash to verify against when an e-mail is unknown, so a login takes as long either way.
    pub dummy_password_hash: String,
    /// Password hashing for requests, a few at a time (see `crate::auth::password::Hashing`).
    pub passwords: crate::auth::password::Hashing,
    /// Signs and checks draft preview links.
    pub previews: crate::auth::preview_tokens::PreviewSigner,
    /// Public responses already made (see `cache`).
    pub cache: Arc<ResponseCache>,
    /// `Cache-Control` of public responses, built once from the configuration.
    pub public_cache_control: actix_web::http::header::HeaderValue,
    /// The base of absolute links (`Config::public_base`): configured, never from a request.
    pub public_base: String,
    /// The key of integration tokens' hashes (derived from the JWT secret).
    pub token_key: crate::auth::integration_tokens::TokenKey,
    /// The bounds of request bodies, with their memory budget shared by every worker.
    pub body_limits: BodyLimits,
    /// The media store, and the limits of the image work done for it.
    pub media: MediaFiles,
    /// Counted only when someone may read them (`MASTHEAD_METRICS_TOKEN` or `_ADDR`).
    pub metrics: Option<Arc<crate::http::metrics::Metrics>>,
    /// Set on SIGTERM: the node is going away (`/readyz` says 503, answers close their connection).
    pub draining: Arc<std::sync::atomic::AtomicBool>,
}

/// The media library's files and the work they take.
pub struct MediaFiles {
    pub objects: crate::storage::Objects,
    /// Upload bodies: up to `MASTHEAD_MEDIA_MAX_BYTES` each, with a memory budget of their own,
    /// so that uploads never take the one JSON bodies share.
    pub upload_limits: BodyLimits,
    /// Where image work runs: `MASTHEAD_MEDIA_CONCURRENCY` threads of low priority, so that
    /// readers keep the cores (each image can hold a hundred megabytes and a core for a second);
    /// work waits for a turn at most `MASTHEAD_MEDIA_UPLOAD_TIMEOUT_MS`.
    pub image_workers: Arc<crate::workers::LowPriorityPool>,
    /// One rendering per variant, however many ask for it at once.
    pub variants_in_flight: Arc<crate::single_flight::SingleFlight>,
}

/// Room in an upload's body for the multipart framing and the text fields around the file.
pub const UPLOAD_FORM_OVERHEAD: usize = 64 * 1024;

impl AppState {
    /// Builds the state from a configuration whose JWT secret is resolved.
    pub fn new(config: Config, db: Db) -> Result<Self, String> {
        let db = db.with_media_links(crate::media_links::MediaLinks {
            base: config.media.public_url.clone().unwrap_or_else(|| config.public_base()),
            widths: config.media.widths.clone(),
        });
        let secret = config.jwt_secret.clone().ok_or("the JWT secret is not configured")?;
        let token_key = crate::auth::integration_tokens::TokenKey::new(&secret);
        let jwt = JwtKeys::new(&secret, config.access_ttl, db.clock().clone());
        let previews = crate::auth::preview_tokens::PreviewSigner::new(&secret, db.clock().clone());
        let dummy_password_hash =
            crate::auth::password::hash_password(&crate::random::hex_token(16), &config.password_hashing)?;
        let public_cache_control = config.public_cache.header_value();
        let cache = Arc::new(ResponseCache::new(config.cache_bytes));
        if cache.enabled() {
            let observer: Arc<dyn ChangeObserver> = cache.clone();
            db.observe(Arc::downgrade(&observer));
        }
        let public_base = config.public_base();
        let metrics = config.operations.metrics.enabled().then(Arc::default);
        let body_limits = BodyLimits::new(config.max_body_bytes, config.body_timeout, config.trust_proxy);
        let media = MediaFiles {
            objects: crate::storage::Objects::open(&config.media.store, config.media.hot_bytes)?,
            upload_limits: BodyLimits::new(
                config.media.max_bytes + UPLOAD_FORM_OVERHEAD,
                config.media.upload_timeout,
                config.trust_proxy,
            ),
            image_workers: Arc::new(crate::workers::LowPriorityPool::new(
                config.media.concurrency,
                config.media.upload_timeout,
                "image-work",
                "image worker",
            )?),
            variants_in_flight: Arc::default(),
        };
        let passwords = crate::auth::password::Hashing::new(
            config.password_hashing,
            config.password_hash_concurrency,
            config.db.acquire_timeout,
        );
        Ok(Self {
            db,
            config: Arc::new(config),
            jwt,
            previews,
            dummy_password_hash,
            passwords,
            cache,
            public_cache_control,
            public_base,
            body_limits,
            token_key,
            media,
            metrics,
            draining: Arc::default(),
        })
    }
}

/// Runs CPU-bound work (rendering Markdown, hashing passwords) on the blocking pool, without
/// holding a database connection while it runs.
pub async fn cpu_bound<T, F>(work: F) -> Result<T, ApiError>
where
    F: FnOnce() -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    web::block(work).await.map_err(|e| ApiError::Internal(format!("blocking task failed: {e}")))?
}
