//! An in-process cache of public responses: the bytes, content type and validators of each
//! public GET, keyed by the path the router matches and the query parameters as handlers read them
//! (`cache_key`), so that a hit costs no database work at all.
//!
//! Correctness rules, all in this file:
//! - **Every write invalidates what it touched.** The cache observes the database
//!   (`db::ChangeObserver`): every committed write to public content, whatever route or spelling
//!   of a URL led to it, drops what it may have changed before its response leaves (see
//!   `db::write_transaction`). A write to articles (or their comments) drops their pages and
//!   comment threads, by every slug they were read under, and every other entry but the pages and
//!   threads of other articles (handlers mark those: [`shows_only_article`]); any other write drops
//!   everything. A response made while a write committed is not kept.
//! - **Other nodes and processes invalidate too**, through the database watcher (`LISTEN` on
//!   PostgreSQL, with the articles a write touched; the `content_version` counter on SQLite, which
//!   drops everything), within about 100 ms (200 on SQLite when a commit of this node was under
//!   way). A node does not hear its own writes twice. While the watcher
//!   has lost its connection, or has not read its feed for two seconds, nothing is served from the
//!   cache or stored in it, and the cache starts empty when the watcher is back: a write made in
//!   between cannot be missed.
//! - **Nothing outlives the next scheduled publication.** From one emptying to the next, the cache
//!   keeps the earliest future `published_at` it learnt, and empties itself when that time comes.
//! - **Answers depend on nothing outside the key.** Public routes read no request header but the
//!   validators, which are answered per client from the stored 200; absolute URLs come from the
//!   configuration.
//! - **Bounded memory and waiting.** Past `MASTHEAD_CACHE_BYTES` it starts over (0 turns it off).
//!   Concurrent misses of one key make its response once; the others wait at most as long as a
//!   request waits for a database connection (then 503 `busy`), and once it has been made without
//!   being kept (a 404, say) they no longer wait in line.

use std::collections::HashMap;
use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::web::Bytes;
use actix_web::{Error, HttpResponse};
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::{Db, DbConnection, PublicChange};
use crate::error::ApiError;
use crate::http::validators::Validators;
use crate::schema::articles;
use crate::single_flight::SingleFlight;

/// `hit` or `miss` on cacheable responses: for operators and benchmarks.
static CACHE_STATUS: header::HeaderName = header::HeaderName::from_static("x-masthead-cache");

/// A cached public response.
struct Entry {
    body: Bytes,
    headers: Vec<(header::HeaderName, HeaderValue)>,
    /// The one article it shows, when it shows nothing of the others ([`ShowsOnlyArticle`]).
    article: Option<i64>,
    /// What it counts against the budget.
    size: usize,
}

/// A response extension set by handlers whose public answer shows one article (by id) and
/// nothing of any other: its page and its comment thread. Writes to other articles keep it in
/// the cache; an answer without it is dropped by any write.
#[derive(Clone, Copy, Debug)]
pub struct ShowsOnlyArticle(pub i64);

/// Marks `response` as showing only article `id` (see [`ShowsOnlyArticle`]).
pub fn shows_only_article(mut response: HttpResponse, id: i64) -> HttpResponse {
    response.extensions_mut().insert(ShowsOnlyArticle(id));
    response
}

struct Entries {
    /// The earliest future publication time, once known since the cache was last emptied
    /// (`Some(None)`: none).
    valid_until: Option<Option<NaiveDateTime>>,
    map: HashMap<String, Arc<Entry>>,
    bytes: usize,
}

impl Entries {
    fn clear(&mut self) {
        self.valid_until = None;
        self.map.clear();
        self.bytes = 0;
    }
}

/// The cache; one per process, shared by every worker.
pub struct ResponseCache {
    /// Moves on every invalidation: a response made while it moved is not kept.
    generation: AtomicU64,
    /// Whether other nodes' writes can be seen (the database watcher is connected).
    live: AtomicBool,
    entries: Mutex<Entries>,
    budget_bytes: usize,
    /// One lock per key being made: when many requests miss the same key at once (a cold cache
    /// under load), one makes the response and the others wait for it, instead of all of them
    /// queueing for database connections.
    in_flight: Arc<SingleFlight>,
    counts: CacheCounts,
}

/// What the cache did since start, for the metrics.
#[derive(Default)]
struct CacheCounts {
    hits: AtomicU64,
    misses: AtomicU64,
    /// Entries dropped to stay within the byte budget.
    evictions: AtomicU64,
    invalidations: AtomicU64,
}

/// The cache as the metrics show it.
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
    pub evictions: u64,
    pub invalidations: u64,
    pub entries: usize,
    pub bytes: usize,
    pub budget_bytes: usize,
}

impl ResponseCache {
    pub fn new(budget_bytes: usize) -> Self {
        Self {
            generation: AtomicU64::new(0),
            live: AtomicBool::new(false),
            entries: Mutex::new(Entries { valid_until: None, map: HashMap::new(), bytes: 0 }),
            budget_bytes,
            in_flight: Arc::default(),
            counts: CacheCounts::default(),
        }
    }

    pub fn stats(&self) -> CacheStats {
        let (entries, bytes) = {
            let entries = self.lock();
            (entries.map.len(), entries.bytes)
        };
        let count = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        CacheStats {
            hits: count(&self.counts.hits),
            misses: count(&self.counts.misses),
            evictions: count(&self.counts.evictions),
            invalidations: count(&self.counts.invalidations),
            entries,
            bytes,
            budget_bytes: self.budget_bytes,
        }
    }

    pub fn enabled(&self) -> bool {
        self.budget_bytes > 0
    }

    /// Whether it serves and keeps responses now: enabled, and following the database's changes.
    pub fn serving(&self) -> bool {
        self.enabled() && self.live.load(Ordering::SeqCst)
    }

    /// Forgets what `change` (a write here or elsewhere) may have made stale.
    pub fn invalidate(&self, change: &PublicChange) {
        self.counts.invalidations.fetch_add(1, Ordering::Relaxed);
        let mut entries = self.lock();
        // Under the lock: a response being made now is either dropped below or refused by `put`.
        self.generation.fetch_add(1, Ordering::SeqCst);
        match change {
            PublicChange::Nothing => {}
            PublicChange::Everything => entries.clear(),
            PublicChange::Articles(_) => {
                let mut dropped = 0;
                entries.map.retain(|_, entry| {
                    let keep = change.keeps(entry.article);
                    dropped += if keep { 0 } else { entry.size };
                    keep
                });
                entries.bytes -= dropped;
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        // A panic while holding the lock cannot leave the map inconsistent: recover it.
        self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn get(&self, key: &str, now: NaiveDateTime) -> Option<Arc<Entry>> {
        if !self.live.load(Ordering::SeqCst) {
            return None;
        }
        let mut entries = self.lock();
        if matches!(entries.valid_until, Some(Some(until)) if now >= until) {
            entries.clear();
            return None;
        }
        entries.valid_until?;
        let found = entries.map.get(key).cloned();
        if found.is_some() {
            self.counts.hits.fetch_add(1, Ordering::Relaxed);
        }
        found
    }

    fn put(&self, key: String, entry: Entry, generation: u64, valid_until: Option<NaiveDateTime>, now: NaiveDateTime) {
        let size = entry.size;
        let mut entries = self.lock();
        if self.generation.load(Ordering::SeqCst) != generation
            || !self.live.load(Ordering::SeqCst)
            || valid_until.is_some_and(|until| now >= until)
        {
            return; // a write, or a publication, happened while it was made: it may be stale already
        }
        if entries.bytes + size > self.budget_bytes {
            self.counts.evictions.fetch_add(entries.map.len() as u64, Ordering::Relaxed);
            entries.map.clear();
            entries.bytes = 0;
        }
        if let Some(replaced) = entries.map.remove(&key) {
            entries.bytes -= replaced.size;
        }
        // The earliest of the publication times learnt since the cache was last emptied: an entry
        // made before one of them must not outlive it.
        let until = match (entries.valid_until.flatten(), valid_until) {
            (Some(known), Some(new)) => Some(known.min(new)),
            (known, new) => known.or(new),
        };
        entries.valid_until = Some(until);
        entries.bytes += size;
        entries.map.insert(key, Arc::new(entry));
    }
}

impl crate::db::ChangeObserver for ResponseCache {
    fn changed(&self, change: &PublicChange) {
        self.invalidate(change);
    }

    fn feed_lost(&self) {
        self.live.store(false, Ordering::SeqCst);
        self.invalidate(&PublicChange::Everything);
    }

    fn feed_restored(&self) {
        self.invalidate(&PublicChange::Everything);
        self.live.store(true, Ordering::SeqCst);
    }
}

/// The earliest publication time still to come: until then, public content cannot change without
/// a write.
fn next_publication(conn: &mut DbConnection, now: NaiveDateTime) -> Result<Option<NaiveDateTime>, ApiError> {
    Ok(articles::table
        .filter(crate::db::visibility::is_scheduled(now))
        .select(diesel::dsl::min(articles::published_at))
        .first::<Option<NaiveDateTime>>(conn)?)
}

/// Routes whose answers are the same for everyone and may be cached. The path is the one the
/// router matches, percent-decoded (`/api/v1/%61dmin` is `/api/v1/admin`).
fn cacheable(req: &ServiceRequest) -> bool {
    req.method() == Method::GET && is_cacheable(req.match_info().as_str())
}

/// The paths of public reads: the same for everyone, so cached here and by CDNs (the OpenAPI
/// document says so for these paths too). Editor and account routes and preview links are not.
pub fn is_cacheable(path: &str) -> bool {
    if path == "/sitemap.xml" || (path.starts_with("/sitemap-") && path.ends_with(".xml")) {
        return true;
    }
    let Some(rest) = path.strip_prefix("/api/v1/") else { return false };
    let first = rest.split('/').next().unwrap_or_default();
    !matches!(first, "admin" | "auth" | "previews")
}

/// The caching middleware (see the module comment), with what it works with: the cache, the
/// database (the next publication time, whether other nodes' writes are seen), and how long a
/// request waits for another that is making the same response.
#[derive(Clone)]
pub struct PublicCache {
    pub cache: Arc<ResponseCache>,
    pub db: Db,
    pub flight_timeout: Duration,
}

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
        ready(Ok(PublicCacheService { service: std::rc::Rc::new(service), context: std::rc::Rc::new(self.clone()) }))
    }
}

pub struct PublicCacheService<S> {
    service: std::rc::Rc<S>,
    context: std::rc::Rc<PublicCache>,
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
        let state = self.context.clone();
        if !state.cache.enabled() {
            return Box::pin(async move { Ok(service.call(req).await?.map_into_boxed_body()) });
        }
        // Nothing to keep or share while other nodes' writes cannot be seen (the watcher has lost
        // its connection, or is stuck): straight through.
        if !cacheable(&req) || !state.cache.live.load(Ordering::SeqCst) || !state.db.change_feed_live() {
            return Box::pin(async move { Ok(service.call(req).await?.map_into_boxed_body()) });
        }
        let key = cache_key(&req);
        let now = state.db.now();
        if let Some(entry) = state.cache.get(&key, now) {
            let mut response = respond(&Validators::of(req.request()), &entry);
            response.headers_mut().insert(CACHE_STATUS.clone(), HeaderValue::from_static("hit"));
            return Box::pin(async move { Ok(req.into_response(response)) });
        }
        // A miss: one request per key makes the response, the others wait and take it from the
        // cache. They wait as long as a request may wait for a connection: past it, the one
        // making it is held up by a busy database, and more makers would only add to that.
        Box::pin(async move {
            let flight = state.cache.in_flight.join(&key);
            let Some(mut turn) = flight.turn(state.flight_timeout).await else {
                let busy = ApiError::Busy("the response to this request is still being made by another".into());
                return Ok(req.error_response(busy).map_into_boxed_body());
            };
            if let Some(entry) = state.cache.get(&key, state.db.now()) {
                let mut response = respond(&Validators::of(req.request()), &entry);
                response.headers_mut().insert(CACHE_STATUS.clone(), HeaderValue::from_static("hit"));
                return Ok(req.into_response(response));
            }
            let generation = state.cache.generation.load(Ordering::SeqCst);
            // Made already and not kept (a 404, an answer overtaken by a write): the others need
            // not wait in line for it any more.
            if *turn {
                drop(turn);
                return make(service, req, &state, key, now, generation).await;
            }
            let made = make(service, req, &state, key, now, generation).await;
            *turn = true;
            drop((turn, flight));
            made
        })
    }
}

/// Makes a response for a cacheable request and keeps it when it is a public 200.
async fn make<S, B>(
    service: std::rc::Rc<S>,
    req: ServiceRequest,
    state: &PublicCache,
    key: String,
    now: NaiveDateTime,
    generation: u64,
) -> Result<ServiceResponse<BoxBody>, Error>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    // The response is made whole for everyone (a revalidating client's 304 would have no body to
    // keep); this client's own validators are answered from it below.
    state.cache.counts.misses.fetch_add(1, Ordering::Relaxed);
    let mut req = req;
    let validators = Validators::take(&mut req);
    let response = service.call(req).await?;
    let public = response.headers().get(header::CACHE_CONTROL).is_some_and(|v| v.as_bytes().starts_with(b"public"));
    if response.status() != StatusCode::OK || !public {
        return Ok(response.map_into_boxed_body());
    }
    let (request, response) = response.into_parts();
    let article = response.extensions().get::<ShowsOnlyArticle>().map(|shows| shows.0);
    let headers: Vec<_> = response.headers().iter().map(|(n, v)| (n.clone(), v.clone())).collect();
    let body = actix_web::body::to_bytes(response.into_body())
        .await
        .map_err(|_| ApiError::Internal("cannot read a response to cache".into()))?;
    let size = key.len() + body.len() + 256;
    let entry = Entry { body, headers, article, size };
    let mut answer = respond(&validators, &entry);
    // Kept only when the next publication time is known; a busy database costs the entry, not
    // the answer already made.
    match state.db.run(move |conn| next_publication(conn, now)).await {
        Ok(until) => {
            answer.headers_mut().insert(CACHE_STATUS.clone(), HeaderValue::from_static("miss"));
            state.cache.put(key, entry, generation, until, state.db.now());
        }
        Err(error) => tracing::debug!(%error, "a response was not cached"),
    }
    Ok(ServiceResponse::new(request, answer))
}

/// The key of a request: the path the router matches (percent-decoded) and the query parameters
/// as the handlers read them, so that spelling a URL differently (`%61`, `%70age=2`, `&&`) makes
/// no new entry.
fn cache_key(req: &ServiceRequest) -> String {
    // `?` decoded from `%3F` stays encoded, so that path and query cannot run into each other.
    let path = req.match_info().as_str();
    let path = if path.contains('?') { std::borrow::Cow::Owned(path.replace('?', "%3F")) } else { path.into() };
    let query = req.query_string();
    if query.is_empty() {
        return path.into_owned();
    }
    // Most queries are already in the canonical form (`page=2&tag=rust`): kept as they are.
    let plain =
        query.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'*' | b'=' | b'&'));
    let pairs_whole = query.split('&').all(|pair| pair.bytes().filter(|b| *b == b'=').count() == 1);
    if plain && pairs_whole {
        return format!("{path}?{query}");
    }
    let pairs = form_urlencoded::parse(query.as_bytes());
    let canonical = form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
    format!("{path}?{canonical}")
}

/// A cached response for a client with these validators: 304 when they match, else the 200.
fn respond(validators: &Validators, entry: &Entry) -> HttpResponse {
    let header_of = |name: &header::HeaderName| entry.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v);
    let fresh = validators.fresh_for_stored(
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
