//! The settings each part of Masthead takes from the configuration, as plain types below every
//! part: `config` fills them from the environment, and the parts that use them never read it.

use std::time::Duration;

use actix_web::http::header::HeaderValue;

/// Where the data lives, parsed from `DATABASE_URL`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A file path (`sqlite://PATH`, `sqlite:PATH` or a plain path).
    Sqlite(String),
    /// A libpq URL (`postgres://…` or `postgresql://…`).
    Postgres(String),
}

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(Self::Postgres(raw.to_string()));
        }
        let path = raw.strip_prefix("sqlite://").or_else(|| raw.strip_prefix("sqlite:")).unwrap_or(raw);
        if path.is_empty() || path.contains("://") {
            return Err(format!(
                "`{}` is neither a PostgreSQL URL (postgres://…) nor a SQLite path (sqlite://masthead.db)",
                redact_password(raw)
            ));
        }
        if path == ":memory:" {
            return Err("an in-memory SQLite database cannot be shared by a connection pool; use a file".into());
        }
        Ok(Self::Sqlite(path.to_string()))
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }
}

/// `scheme://user:secret@host/…` → `scheme://user:***@host/…`, for messages and logs.
pub fn redact_password(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else { return url.to_string() };
    let authority_end = url[scheme_end..].find(['/', '?']).map_or(url.len(), |i| scheme_end + i);
    match url[scheme_end..authority_end].rfind('@') {
        Some(at) => match url[scheme_end..scheme_end + at].find(':') {
            Some(colon) => format!("{}***{}", &url[..scheme_end + colon + 1], &url[scheme_end + at..]),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// How the pool serves requests, from the configuration.
#[derive(Clone, Copy, Debug)]
pub struct DbSettings {
    /// Connections in the pool.
    pub pool_size: u32,
    /// The longest a request waits for a connection before it is answered 503 (`Busy`)
    /// (`MASTHEAD_QUEUE_TIMEOUT_MS`, which bounds the wait for a password-hashing slot too).
    pub acquire_timeout: Duration,
    /// The longest a request's database work may run (`None`: no limit). PostgreSQL enforces it
    /// per statement, SQLite for the whole of a request's work (see `budget`).
    pub query_timeout: Option<Duration>,
}

impl DbSettings {
    /// One connection and no time budget: the command line's imports and demo data may take long.
    pub fn for_command_line() -> Self {
        Self { pool_size: 1, acquire_timeout: Duration::from_secs(5), query_timeout: None }
    }
}

/// Argon2id cost. The default is OWASP's minimum (19 MiB, 2 passes, 1 lane).
#[derive(Clone, Copy, Debug)]
pub struct HashParams {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for HashParams {
    fn default() -> Self {
        Self { memory_kib: 19 * 1024, iterations: 2, parallelism: 1 }
    }
}

impl HashParams {
    /// Fast enough for a test suite that logs in hundreds of times; never for production.
    pub fn cheap_for_tests() -> Self {
        Self { memory_kib: 64, iterations: 1, parallelism: 1 }
    }
}

/// Login throttling: failed attempts allowed per client address and per account in a window.
#[derive(Clone, Copy, Debug)]
pub struct LoginLimits {
    pub per_address: i64,
    pub per_account: i64,
    pub window: chrono::Duration,
}

/// The comment rules from the configuration (`MASTHEAD_COMMENTS_*`).
#[derive(Clone, Debug)]
pub struct CommentSettings {
    /// Approve every new comment at once instead of queueing it for moderation.
    pub auto_approve: bool,
    /// Approve at once a comment from an e-mail address that already has an approved comment.
    pub trust_approved_emails: bool,
    /// How deep threads go: 1 allows no replies, 3 allows replies to replies.
    pub max_depth: usize,
    /// Comments close this many days after publication; `None`: never.
    pub close_after_days: Option<i64>,
    /// Comments per client address per minute (staff are not limited).
    pub per_minute: i64,
    /// Lower-case words or phrases that send a comment to spam.
    pub blocked_words: Vec<String>,
    /// More links than this send a comment to spam.
    pub max_links: usize,
}

/// How webhooks are delivered (`MASTHEAD_WEBHOOK_*`).
#[derive(Clone, Copy, Debug)]
pub struct WebhookSettings {
    /// Deliver to receivers inside the server's own networks (loopback, private ranges): for
    /// in-cluster receivers and tests. Off by default: see `outbound`.
    pub allow_private: bool,
    /// The first retry's delay; later ones grow from it (×4, ×20, ×120, ×720, ×2880: about 30 s,
    /// 2 min, 10 min, 1 h, 6 h and 24 h with the default of 30 s).
    pub retry_base: std::time::Duration,
    /// How often a dispatcher looks for due deliveries when nothing woke it (other nodes' events,
    /// retries coming due, scheduled publications).
    pub poll_interval: std::time::Duration,
    /// Deliveries in flight at once per node.
    pub concurrency: usize,
    /// A webhook whose deliveries failed for good this many times in a row is disabled.
    pub disable_after: i32,
}

/// Where media files live (`MASTHEAD_MEDIA_STORE`, `MASTHEAD_MEDIA_DIR`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MediaStoreLocation {
    /// A directory on this machine: one node, or a shared file system.
    Directory(std::path::PathBuf),
    /// An S3-compatible bucket, with an optional key prefix; credentials and the endpoint come
    /// from the standard `AWS_*` variables.
    S3 { bucket: String, prefix: String },
}

impl MediaStoreLocation {
    /// `s3://bucket` or `s3://bucket/prefix/…`.
    pub fn parse_s3(raw: &str) -> Result<Self, String> {
        let rest = raw.strip_prefix("s3://").ok_or_else(|| format!("`{raw}` is not an s3:// URL"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let valid_bucket = (3..=63).contains(&bucket.len())
            && bucket.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
        if !valid_bucket {
            return Err(format!("`{bucket}` is not a valid S3 bucket name (3 to 63 of a-z, 0-9, `.` and `-`)"));
        }
        let prefix = prefix.trim_matches('/');
        if prefix.split('/').any(|part| part == "." || part == "..") || prefix.contains("//") {
            return Err(format!("`{prefix}` is not a usable key prefix"));
        }
        Ok(Self::S3 { bucket: bucket.to_string(), prefix: prefix.to_string() })
    }
}

/// The media library's limits and the image sizes it serves (`MASTHEAD_MEDIA_*`).
#[derive(Clone, Debug)]
pub struct MediaSettings {
    pub store: MediaStoreLocation,
    /// Largest upload, in bytes (413 above it).
    pub max_bytes: usize,
    /// Most pixels an image may declare (width × height, times its frames for an animation).
    pub max_pixels: u64,
    /// The widths variants are made in, ascending; no other width is ever rendered.
    pub widths: Vec<u32>,
    /// The origin (and path) of media URLs the API writes, such as a CDN in front of `/media`;
    /// `None`: the API's own public address.
    pub public_url: Option<String>,
    /// Images decoded, resized or encoded at once: each may hold hundreds of megabytes.
    pub concurrency: usize,
    /// How long an upload's body may take to arrive.
    pub upload_timeout: Duration,
    /// Memory for small media files kept to be served again (`MASTHEAD_MEDIA_CACHE_BYTES`).
    pub hot_bytes: usize,
}

/// How long shared caches (CDNs, browsers) may keep public responses.
#[derive(Clone, Copy, Debug)]
pub struct CachePolicy {
    /// Seconds a response is fresh (`max-age`).
    pub max_age: u32,
    /// Seconds a stale response may still be served while it is revalidated.
    pub stale_while_revalidate: u32,
}

impl CachePolicy {
    pub fn header_value(&self) -> HeaderValue {
        let value = format!("public, max-age={}, stale-while-revalidate={}", self.max_age, self.stale_while_revalidate);
        HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("public, max-age=60"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted_from_urls() {
        assert_eq!(redact_password("postgres://u:s3cret@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(redact_password("mysql://u:p@ss@h/db"), "mysql://u:***@h/db");
        assert_eq!(redact_password("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_password("masthead.db"), "masthead.db");
        assert!(DatabaseUrl::parse("mysql://u:hunter2@h/db").unwrap_err().contains("u:***@h"));
    }
}
