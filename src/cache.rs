//! An in-process cache of public responses: the bytes, content type and validators of each
//! public GET, keyed by path and query, so that a hit costs no database work at all.
//!
//! Correctness rules, all in this file:
//! - **Every write invalidates.** The cache observes the database (`db::ChangeObserver`): every
//!   committed write to public content, whatever route or spelling of a URL led to it, bumps the
//!   generation before its response leaves (see `db::write_transaction`).
//! - **Other nodes and processes invalidate too**, through the database watcher (`LISTEN` on
//!   PostgreSQL, `PRAGMA data_version` on SQLite), within about 100 ms. While the watcher has lost
//!   its connection nothing is served from the cache or stored in it, and the cache starts empty
//!   when it is back: a write made in between cannot be missed.
//! - **Nothing outlives the next scheduled publication.** Per generation, the cache learns the
//!   earliest future `published_at`, and empties itself when that time comes.
//! - **Answers depend on nothing outside the key.** Public routes read no request header but the
//!   validators, which every hit evaluates afresh; absolute URLs come from the configuration.
//! - **Bounded memory.** Past `MASTHEAD_CACHE_BYTES` it starts over (0 turns it off).

use std::collections::HashMap;
use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::web::Bytes;
use actix_web::{Error, HttpResponse, web};
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::AppState;
use crate::db::DbConnection;
use crate::error::ApiError;
use crate::schema::articles;

/// `hit` or `miss` on cacheable responses: for operators and benchmarks.
static CACHE_STATUS: header::HeaderName = header::HeaderName::from_static("x-masthead-cache");

/// A cached public response.
struct Entry {
    body: Bytes,
    headers: Vec<(header::HeaderName, HeaderValue)>,
}

struct Entries {
    generation: u64,
    /// The earliest future publication time, once known for this generation (`Some(None)`: none).
    valid_until: Option<Option<NaiveDateTime>>,
    map: HashMap<String, Arc<Entry>>,
    bytes: usize,
}

/// The cache; one per process, shared by every worker.
pub struct ResponseCache {
    generation: AtomicU64,
    /// Whether other nodes' writes can be seen (the database watcher is connected).
    live: AtomicBool,
    entries: Mutex<Entries>,
    budget_bytes: usize,
    /// One lock per key being made: when many requests miss the same key at once (a cold cache
    /// under load), one makes the response and the others wait for it, instead of all of them
    /// queueing for database connections.
    in_flight: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl ResponseCache {
    pub fn new(budget_bytes: usize) -> Self {
        Self {
            generation: AtomicU64::new(0),
            live: AtomicBool::new(false),
            entries: Mutex::new(Entries { generation: 0, valid_until: None, map: HashMap::new(), bytes: 0 }),
            budget_bytes,
            in_flight: Mutex::new(HashMap::new()),
        }
    }

    pub fn enabled(&self) -> bool {
        self.budget_bytes > 0
    }

    /// Forgets everything cached so far (a write happened here or elsewhere).
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        // A panic while holding the lock cannot leave the map inconsistent: recover it.
        self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn get(&self, key: &str, now: NaiveDateTime) -> Option<Arc<Entry>> {
        if !self.live.load(Ordering::SeqCst) {
            return None;
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let mut entries = self.lock();
        let expired = matches!(entries.valid_until, Some(Some(until)) if now >= until);
        if entries.generation != generation || expired {
            entries.generation = generation;
            entries.valid_until = None;
            entries.map.clear();
            entries.bytes = 0;
            return None;
        }
        entries.valid_until?;
        entries.map.get(key).cloned()
    }

    /// The lock for making `key`'s response.
    fn flight(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut in_flight = self.in_flight.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        in_flight.entry(key.to_string()).or_default().clone()
    }

    /// Forgets `key`'s lock once nobody holds or waits for it.
    fn land(&self, key: &str, flight: Arc<tokio::sync::Mutex<()>>) {
        let mut in_flight = self.in_flight.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        drop(flight);
        if in_flight.get(key).is_some_and(|f| Arc::strong_count(f) == 1) {
            in_flight.remove(key);
        }
    }

    fn put(&self, key: String, entry: Entry, generation: u64, valid_until: Option<NaiveDateTime>) {
        let size = key.len() + entry.body.len() + 256;
        let mut entries = self.lock();
        if entries.generation != generation
            || self.generation.load(Ordering::SeqCst) != generation
            || !self.live.load(Ordering::SeqCst)
        {
            return; // a write happened while this response was made: it may be stale already
        }
        if entries.bytes + size > self.budget_bytes {
            entries.map.clear();
            entries.bytes = 0;
        }
        entries.valid_until = Some(valid_until);
        entries.bytes += size;
        entries.map.insert(key, Arc::new(entry));
    }
}

impl crate::db::ChangeObserver for ResponseCache {
    fn changed(&self) {
        self.invalidate();
    }

    fn feed_lost(&self) {
        self.live.store(false, Ordering::SeqCst);
        self.invalidate();
    }

    fn feed_restored(&self) {
        self.invalidate();
        self.live.store(true, Ordering::SeqCst);
    }
}

/// The earliest publication time still to come: until then, public content cannot change without
/// a write.
fn next_publication(conn: &mut DbConnection, now: NaiveDateTime) -> Result<Option<NaiveDateTime>, ApiError> {
    Ok(articles::table
        .filter(articles::status.eq(crate::articles::model::STATUS_PUBLISHED))
        .filter(articles::deleted_at.is_null())
        .filter(articles::published_at.gt(now))
        .select(diesel::dsl::min(articles::published_at))
        .first::<Option<NaiveDateTime>>(conn)?)
}

/// Routes whose answers are the same for everyone and may be cached.
fn cacheable(req: &ServiceRequest) -> bool {
    let path = req.path();
    req.method() == Method::GET
        && path.starts_with("/api/v1/")
        && !path.starts_with("/api/v1/admin")
        && !path.starts_with("/api/v1/auth")
        && !path.starts_with("/api/v1/previews")
}

/// The caching middleware (see the module comment).
pub struct PublicCache;

impl<S, B> Transform<S, ServiceRequest> for PublicCache
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = Error;
    type Transform = PublicCacheService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(PublicCacheService { service: std::rc::Rc::new(service) }))
    }
}

pub struct PublicCacheService<S> {
    service: std::rc::Rc<S>,
}

impl<S, B> Service<ServiceRequest> for PublicCacheService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>>>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let service = self.service.clone();
        let Some(state) = req.app_data::<web::Data<AppState>>().cloned().filter(|s| s.cache.enabled()) else {
            return Box::pin(async move { Ok(service.call(req).await?.map_into_boxed_body()) });
        };
        if !cacheable(&req) {
            return Box::pin(async move { Ok(service.call(req).await?.map_into_boxed_body()) });
        }
        let key = req.uri().to_string();
        let now = crate::db::now();
        if let Some(entry) = state.cache.get(&key, now) {
            let mut response = respond(req.request(), &entry);
            response.headers_mut().insert(CACHE_STATUS.clone(), HeaderValue::from_static("hit"));
            return Box::pin(async move { Ok(req.into_response(response)) });
        }
        // A miss: one request per key makes the response, the others wait and take it from the
        // cache. A full 200 is kept (a 304 to a revalidating client is not, having no body).
        Box::pin(async move {
            let flight = state.cache.flight(&key);
            let guard = flight.clone().lock_owned().await;
            if let Some(entry) = state.cache.get(&key, crate::db::now()) {
                drop(guard);
                state.cache.land(&key, flight);
                let mut response = respond(req.request(), &entry);
                response.headers_mut().insert(CACHE_STATUS.clone(), HeaderValue::from_static("hit"));
                return Ok(req.into_response(response));
            }
            let generation = state.cache.generation.load(Ordering::SeqCst);
            let made = make(service, req, &state, key.clone(), now, generation).await;
            drop(guard);
            state.cache.land(&key, flight);
            made
        })
    }
}

/// Makes a response for a cacheable request and keeps it when it is a public 200.
async fn make<S, B>(
    service: std::rc::Rc<S>,
    req: ServiceRequest,
    state: &web::Data<AppState>,
    key: String,
    now: NaiveDateTime,
    generation: u64,
) -> Result<ServiceResponse<BoxBody>, Error>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    let response = service.call(req).await?;
    let public = response.headers().get(header::CACHE_CONTROL).is_some_and(|v| v.as_bytes().starts_with(b"public"));
    if response.status() != StatusCode::OK || !public {
        return Ok(response.map_into_boxed_body());
    }
    let (request, response) = response.into_parts();
    let headers: Vec<_> = response.headers().iter().map(|(n, v)| (n.clone(), v.clone())).collect();
    let body = actix_web::body::to_bytes(response.into_body())
        .await
        .map_err(|_| ApiError::Internal("cannot read a response to cache".into()))?;
    let entry = Entry { body, headers };
    let until = state.db.run(move |conn| next_publication(conn, now)).await?;
    let mut answer = respond(&request, &entry);
    answer.headers_mut().insert(CACHE_STATUS.clone(), HeaderValue::from_static("miss"));
    state.cache.put(key, entry, generation, until);
    Ok(ServiceResponse::new(request, answer))
}

/// A cached response for this request: 304 when its validators match, else the stored 200.
fn respond(req: &actix_web::HttpRequest, entry: &Entry) -> HttpResponse {
    let header_of = |name: &header::HeaderName| entry.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v);
    let fresh = crate::responses::still_fresh(
        req,
        header_of(&header::ETAG).and_then(|v| v.to_str().ok()),
        header_of(&header::LAST_MODIFIED).and_then(|v| v.to_str().ok()),
    );
    let mut response = HttpResponse::build(if fresh { StatusCode::NOT_MODIFIED } else { StatusCode::OK });
    for (name, value) in &entry.headers {
        if !(fresh && (name == header::CONTENT_TYPE || name == header::CONTENT_LENGTH)) {
            response.insert_header((name.clone(), value.clone()));
        }
    }
    if fresh { response.finish() } else { response.body(entry.body.clone()) }
}
