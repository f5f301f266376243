//! What operators set about the process: the log format, where (and to whom) metrics are
//! served, how many workers serve, and how it stops.

use std::net::SocketAddr;
use std::time::Duration;

use super::{ConfigError, Secret, parse_var, var_or};

/// The shortest metrics token accepted: anyone holding it reads the service's inner workings.
pub const MIN_METRICS_TOKEN_BYTES: usize = 24;

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// For people at a terminal: one readable line per event.
    Pretty,
    /// For log collectors: one JSON object per line.
    Json,
}

/// Who may read `GET /metrics`. With neither set, nobody: the route is a 404.
#[derive(Clone, Debug, Default)]
pub struct MetricsAccess {
    /// `MASTHEAD_METRICS_TOKEN`: the API's `/metrics` answers requests with
    /// `Authorization: Bearer <token>`.
    pub token: Option<Secret>,
    /// `MASTHEAD_METRICS_ADDR`: a listener of its own serves `/metrics` to whoever reaches it
    /// (bind it to a private address).
    pub addr: Option<SocketAddr>,
}

impl MetricsAccess {
    /// Whether metrics are collected at all (when nobody can read them, they cost nothing).
    pub fn enabled(&self) -> bool {
        self.token.is_some() || self.addr.is_some()
    }
}

/// The operators' settings.
#[derive(Clone, Debug)]
pub struct Operations {
    pub log_format: LogFormat,
    pub metrics: MetricsAccess,
    pub shutdown: Shutdown,
    /// `MASTHEAD_WORKERS`: threads serving HTTP; one per core by default (as the cores this
    /// process may use: its CPU affinity and cgroup quota).
    pub workers: usize,
}

/// How the server stops on SIGTERM: first it drains (still serving, `/readyz` 503, every answer
/// closing its connection, so that load balancers and keep-alive clients move elsewhere), then it
/// stops accepting, closes idle connections and gives requests in progress a bounded time.
#[derive(Clone, Copy, Debug)]
pub struct Shutdown {
    pub drain: Duration,
    pub grace: Duration,
}

impl Default for Shutdown {
    fn default() -> Self {
        Self { drain: Duration::from_secs(2), grace: Duration::from_secs(5) }
    }
}

impl Operations {
    pub(super) fn from_env() -> Result<Self, ConfigError> {
        let log_format = match var_or("MASTHEAD_LOG_FORMAT", "pretty").trim() {
            "pretty" => LogFormat::Pretty,
            "json" => LogFormat::Json,
            other => return Err(ConfigError(format!("MASTHEAD_LOG_FORMAT: `{other}` must be `pretty` or `json`"))),
        };
        let token = match std::env::var("MASTHEAD_METRICS_TOKEN") {
            Ok(token) if !token.is_empty() => Some(checked_token(token)?),
            _ => None,
        };
        let addr = match var_or("MASTHEAD_METRICS_ADDR", "").trim() {
            "" => None,
            raw => Some(raw.parse().map_err(|_| {
                ConfigError(format!("MASTHEAD_METRICS_ADDR: `{raw}` is not an address such as 127.0.0.1:9090"))
            })?),
        };
        let shutdown = Shutdown {
            drain: Duration::from_millis(parse_var("MASTHEAD_SHUTDOWN_DRAIN_MS", 2000, 0..=600_000)?),
            grace: Duration::from_secs(parse_var("MASTHEAD_SHUTDOWN_GRACE_SECONDS", 5, 1..=600)?),
        };
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
        let workers = parse_var("MASTHEAD_WORKERS", cores, 1..=256)? as usize;
        Ok(Self { log_format, metrics: MetricsAccess { token, addr }, shutdown, workers })
    }
}

fn checked_token(token: String) -> Result<Secret, ConfigError> {
    if token.len() < MIN_METRICS_TOKEN_BYTES || !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ConfigError(format!(
            "MASTHEAD_METRICS_TOKEN must be at least {MIN_METRICS_TOKEN_BYTES} printable characters without \
             spaces, e.g. `openssl rand -hex 24`"
        )));
    }
    Ok(Secret::new(token))
}
