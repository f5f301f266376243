//! The numbers behind `GET /metrics`, in the Prometheus text format.
//!
//! Requests are counted as they are answered (`request_log`); everything else is read when
//! Prometheus scrapes ([`Readings`]), so that nothing on a request's path keeps a gauge up to date.
//! The recorder belongs to the app rather than to the process, so that each app in the test process
//! counts its own. Every family is listed in the README ("Operations").

use actix_web::http::Method;
use metrics::{Key, Label, Level, Metadata, Recorder, SharedString};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};

use crate::db::PoolUsage;
use crate::error::Limit;
use crate::http::cache::CacheStats;
use crate::os::ProcessStats;

/// From half a millisecond (a cache hit) to ten seconds (past the query budget).
const LATENCY_BUCKETS: [f64; 14] =
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// How often the recorder folds recorded latencies into their buckets (see `upkeep`).
pub const UPKEEP_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);

const METADATA: Metadata<'static> = Metadata::new(module_path!(), Level::INFO, Some(module_path!()));

const REQUEST_SECONDS: &str = "masthead_http_request_duration_seconds";
const REFUSALS: &str = "masthead_refusals_total";

enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// Every family, with its help text (Prometheus shows it; `promtool` wants one for each).
const FAMILIES: &[(&str, Kind, &str)] = &[
    (
        REQUEST_SECONDS,
        Kind::Histogram,
        "Requests answered, by route template, method and status class (2xx to 5xx; 499: the client left before the answer), and how long they took",
    ),
    (REFUSALS, Kind::Counter, "Requests refused with 429, by the limit that refused them"),
    ("masthead_db_pool_size", Kind::Gauge, "Database connections requests may hold at once"),
    ("masthead_db_pool_in_use", Kind::Gauge, "Database connections held by requests now"),
    ("masthead_db_pool_open", Kind::Gauge, "Database connections open now, in use or idle"),
    ("masthead_db_pool_waits_total", Kind::Counter, "Requests that waited for a database connection"),
    (
        "masthead_db_pool_timeouts_total",
        Kind::Counter,
        "Requests refused (503 busy) after waiting too long for a connection",
    ),
    ("masthead_cache_hits_total", Kind::Counter, "Public reads answered from the response cache"),
    ("masthead_cache_misses_total", Kind::Counter, "Cacheable public reads made by the handlers"),
    ("masthead_cache_evictions_total", Kind::Counter, "Cached responses dropped to stay within MASTHEAD_CACHE_BYTES"),
    (
        "masthead_cache_invalidations_total",
        Kind::Counter,
        "Writes (here or on other nodes) that invalidated cached responses",
    ),
    ("masthead_cache_entries", Kind::Gauge, "Responses in the cache now"),
    ("masthead_cache_bytes", Kind::Gauge, "Bytes the cached responses take now"),
    ("masthead_cache_budget_bytes", Kind::Gauge, "The cache's byte budget (MASTHEAD_CACHE_BYTES; 0: off)"),
    (
        "masthead_comments_awaiting_moderation",
        Kind::Gauge,
        "Comments waiting for a moderator (NaN: the database did not answer)",
    ),
    (
        "masthead_webhook_deliveries_pending",
        Kind::Gauge,
        "Webhook deliveries waiting for an attempt or a retry (NaN: the database did not answer)",
    ),
    ("masthead_media_jobs_running", Kind::Gauge, "Image work running now"),
    ("masthead_media_jobs_waiting", Kind::Gauge, "Image work waiting for a turn"),
    ("masthead_build_info", Kind::Gauge, "Always 1; the version in a label"),
];

/// What is read at each scrape.
pub struct Readings {
    pub pool: PoolUsage,
    pub cache: CacheStats,
    /// `None` when the database did not answer.
    pub comments_awaiting_moderation: Option<i64>,
    pub webhook_deliveries_pending: Option<i64>,
    /// Image jobs running and waiting.
    pub media_jobs: (usize, usize),
    pub process: Option<ProcessStats>,
}

/// The app's metrics.
pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets(&LATENCY_BUCKETS)
            .expect("the latency buckets are not empty")
            .build_recorder();
        let handle = recorder.handle();
        for (name, kind, help) in FAMILIES {
            let (name, help) = ((*name).into(), SharedString::const_str(help));
            match kind {
                Kind::Counter => recorder.describe_counter(name, None, help),
                Kind::Gauge => recorder.describe_gauge(name, None, help),
                Kind::Histogram => recorder.describe_histogram(name, None, help),
            }
        }
        // Shown at 0 from the start, so that a query for them finds a series.
        for limit in Limit::ALL {
            let key = Key::from_parts(REFUSALS, vec![Label::from_static_parts("limit", limit.as_str())]);
            recorder.register_counter(&key, &METADATA).increment(0);
        }
        recorder
            .register_gauge(
                &Key::from_parts(
                    "masthead_build_info",
                    vec![Label::from_static_parts("version", env!("CARGO_PKG_VERSION"))],
                ),
                &METADATA,
            )
            .set(1.0);
        Self { recorder, handle }
    }

    /// One request answered: `route` is its route template (never the path, which would make a
    /// series per article), `None` when no route matched.
    pub fn request(&self, route: Option<String>, method: &Method, status: u16, seconds: f64) {
        let class = match status {
            100..=199 => "1xx",
            200..=299 => "2xx",
            300..=399 => "3xx",
            crate::error::CLIENT_CLOSED_REQUEST => "499",
            400..=499 => "4xx",
            _ => "5xx",
        };
        // Methods outside the standard ones would each make a series: counted as one.
        let method = match *method {
            Method::GET => "GET",
            Method::HEAD => "HEAD",
            Method::POST => "POST",
            Method::PUT => "PUT",
            Method::PATCH => "PATCH",
            Method::DELETE => "DELETE",
            Method::OPTIONS => "OPTIONS",
            _ => "other",
        };
        let labels = vec![
            Label::new("route", route.unwrap_or_else(|| "unmatched".to_owned())),
            Label::from_static_parts("method", method),
            Label::from_static_parts("status", class),
        ];
        self.recorder.register_histogram(&Key::from_parts(REQUEST_SECONDS, labels), &METADATA).record(seconds);
    }

    /// Folds the latencies recorded since the last scrape or upkeep into their buckets, so that
    /// the recorder's memory stays bounded between scrapes.
    pub fn upkeep(&self) {
        self.handle.run_upkeep();
    }

    pub fn refused(&self, limit: Limit) {
        let key = Key::from_parts(REFUSALS, vec![Label::from_static_parts("limit", limit.as_str())]);
        self.recorder.register_counter(&key, &METADATA).increment(1);
    }

    /// The text Prometheus scrapes, with the gauges read just now.
    pub fn render(&self, readings: &Readings) -> String {
        let Readings { pool, cache, comments_awaiting_moderation, webhook_deliveries_pending, media_jobs, process } =
            readings;
        let gauge = |name: &'static str, value: f64| {
            self.recorder.register_gauge(&Key::from_static_name(name), &METADATA).set(value)
        };
        let total = |name: &'static str, value: u64| {
            self.recorder.register_counter(&Key::from_static_name(name), &METADATA).absolute(value)
        };
        gauge("masthead_db_pool_size", pool.size.into());
        gauge("masthead_db_pool_in_use", pool.in_use.into());
        gauge("masthead_db_pool_open", pool.open.into());
        total("masthead_db_pool_waits_total", pool.waits);
        total("masthead_db_pool_timeouts_total", pool.timeouts);
        total("masthead_cache_hits_total", cache.hits);
        total("masthead_cache_misses_total", cache.misses);
        total("masthead_cache_evictions_total", cache.evictions);
        total("masthead_cache_invalidations_total", cache.invalidations);
        gauge("masthead_cache_entries", cache.entries as f64);
        gauge("masthead_cache_bytes", cache.bytes as f64);
        gauge("masthead_cache_budget_bytes", cache.budget_bytes as f64);
        let known = |count: &Option<i64>| count.map_or(f64::NAN, |count| count as f64);
        gauge("masthead_comments_awaiting_moderation", known(comments_awaiting_moderation));
        gauge("masthead_webhook_deliveries_pending", known(webhook_deliveries_pending));
        gauge("masthead_media_jobs_running", media_jobs.0 as f64);
        gauge("masthead_media_jobs_waiting", media_jobs.1 as f64);
        let mut text = self.handle.render();
        if let Some(process) = process {
            process_families(&mut text, process);
        }
        text
    }
}

/// The standard `process_*` families, written here: the recorder's counters hold whole numbers,
/// and CPU seconds need their fractions.
fn process_families(text: &mut String, process: &ProcessStats) {
    use std::fmt::Write;
    let families: [(&str, &str, &str, f64); 7] = [
        ("process_cpu_seconds_total", "counter", "User and system CPU time", process.cpu_seconds),
        ("process_resident_memory_bytes", "gauge", "Resident memory", process.resident_bytes as f64),
        ("process_virtual_memory_bytes", "gauge", "Virtual memory", process.virtual_bytes as f64),
        ("process_open_fds", "gauge", "Open file descriptors", process.open_fds as f64),
        ("process_max_fds", "gauge", "The open file descriptor limit", process.max_fds as f64),
        ("process_start_time_seconds", "gauge", "Start time since the Unix epoch", process.start_time_seconds),
        ("process_threads", "gauge", "Operating-system threads", process.threads as f64),
    ];
    for (name, kind, help, value) in families {
        let _ = write!(text, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n\n");
    }
}
