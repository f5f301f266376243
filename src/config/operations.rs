//! What operators read: the log format, and where (and to whom) metrics are served.

use std::net::SocketAddr;

use super::{ConfigError, Secret, var_or};

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
        Ok(Self { log_format, metrics: MetricsAccess { token, addr } })
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
