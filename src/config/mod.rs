//! Configuration, read once from the environment (and `.env` if present, see `main.rs`).
//!
//! Every variable is listed in `docs/configuration.md` and in `.env.example` with its default. Values are parsed
//! here, at start-up, so that a typo stops the process with a clear message instead of surfacing
//! later as a confusing runtime error.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::settings::{
    CachePolicy, CommentSettings, DatabaseUrl, DbSettings, HashParams, LoginLimits, MediaSettings, MediaStoreLocation,
    WebhookSettings,
};
use crate::site::{PathTemplate, SITEMAP_MAX_URLS, SiteSettings};

mod operations;
mod parse;

pub use operations::{LogFormat, MetricsAccess, Operations, Shutdown};
use parse::{parse_bool, parse_origins, parse_public_url, parse_var, parse_words, var_or};

/// The shortest JWT secret accepted: HS256 is only as strong as its key.
pub const MIN_JWT_SECRET_BYTES: usize = 32;

/// Everything the service needs to run. Tests build one directly with [`Config::for_tests`].
#[derive(Clone, Debug)]
pub struct Config {
    pub database_url: DatabaseUrl,
    pub addr: SocketAddr,
    /// Resolved by [`Config::resolve_jwt_secret`] before serving; `None` until then.
    pub jwt_secret: Option<Secret>,
    /// Lifetime of an access token.
    pub access_ttl: Duration,
    /// Lifetime of a refresh token (each refresh issues a new one with a fresh lifetime).
    pub refresh_ttl: Duration,
    /// Failed-login throttling.
    pub login_limits: LoginLimits,
    /// Take the client address from `X-Forwarded-For`/`Forwarded` (behind a trusted proxy only:
    /// anyone else can write those headers).
    pub trust_proxy: bool,
    pub log_filter: String,
    /// The pool, how long a request waits for a connection, and its database time budget.
    pub db: DbSettings,
    /// The API's public address (`https://cms.example.com`, perhaps with a path prefix) for the
    /// absolute links the API writes (feeds, preview links); never taken from request headers.
    pub public_url: Option<String>,
    /// How long a request body may take to arrive (408 after).
    pub body_timeout: Duration,
    /// Password hashes computed at once (each takes about 19 MiB for a few tens of milliseconds).
    pub password_hash_concurrency: usize,
    /// Most client connections served at once; `None` to derive it from the open-file limit.
    pub max_connections: Option<usize>,
    /// Argon2id cost; tests lower it, production keeps OWASP's minimum or more.
    pub password_hashing: HashParams,
    /// Largest request body accepted, in bytes (413 above it).
    pub max_body_bytes: usize,
    /// How long CDNs and browsers may keep public responses.
    pub public_cache: CachePolicy,
    /// Memory for the in-process cache of public responses, in bytes; 0 turns it off.
    pub cache_bytes: usize,
    /// Origins of front ends allowed to call the API from a browser (CORS); none by default.
    pub cors_origins: Vec<String>,
    /// Moderation and abuse rules of reader comments.
    pub comments: CommentSettings,
    /// Webhook delivery: retries, polling, the SSRF opt-in.
    pub webhooks: WebhookSettings,
    /// The media library: where files live, upload limits, the widths served.
    pub media: MediaSettings,
    /// The front end's address and paths, for the sitemap and the redirect table.
    pub site: SiteSettings,
    /// Log format and metrics access.
    pub operations: Operations,
}

/// A string that never prints, so that secrets cannot leak through `Debug` into logs.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// A configuration value that cannot be used; the message says which variable and why.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

impl Config {
    /// Reads the environment. The JWT secret is only checked by `serve` (see
    /// [`Config::resolve_jwt_secret`]), so `migrate` and `users add` work without one.
    pub fn from_env() -> Result<Self, ConfigError> {
        let database_url = DatabaseUrl::parse(&var_or("DATABASE_URL", "sqlite://masthead.db"))
            .map_err(|e| ConfigError(format!("DATABASE_URL: {e}")))?;
        let addr = var_or("MASTHEAD_ADDR", "127.0.0.1:8080");
        let addr = addr.parse().map_err(|_| {
            ConfigError(format!("MASTHEAD_ADDR: `{addr}` is not an address such as 127.0.0.1:8080 or 0.0.0.0:8080"))
        })?;
        let jwt_secret = match std::env::var("MASTHEAD_JWT_SECRET") {
            Ok(s) if !s.is_empty() => Some(checked_secret(s)?),
            _ => None,
        };
        let media = media_settings(&database_url)?;
        Ok(Self {
            database_url,
            addr,
            jwt_secret,
            access_ttl: Duration::from_secs(parse_var("MASTHEAD_ACCESS_TTL", 900, 60..=86_400)?),
            refresh_ttl: Duration::from_secs(parse_var("MASTHEAD_REFRESH_TTL", 30 * 86_400, 300..=365 * 86_400)?),
            login_limits: LoginLimits {
                per_address: parse_var("MASTHEAD_LOGIN_MAX_FAILURES_PER_ADDRESS", 10, 1..=10_000)? as i64,
                per_account: parse_var("MASTHEAD_LOGIN_MAX_FAILURES_PER_ACCOUNT", 5, 1..=10_000)? as i64,
                window: chrono::Duration::seconds(parse_var("MASTHEAD_LOGIN_WINDOW", 900, 1..=86_400)? as i64),
            },
            trust_proxy: parse_bool("MASTHEAD_TRUST_PROXY", false)?,
            log_filter: var_or("MASTHEAD_LOG", "info"),
            db: DbSettings {
                pool_size: parse_var("MASTHEAD_DB_POOL_SIZE", 8, 1..=256)? as u32,
                acquire_timeout: Duration::from_millis(parse_var("MASTHEAD_QUEUE_TIMEOUT_MS", 1000, 10..=60_000)?),
                query_timeout: Some(Duration::from_millis(parse_var("MASTHEAD_QUERY_TIMEOUT_MS", 2000, 50..=600_000)?)),
            },
            public_url: parse_public_url("MASTHEAD_PUBLIC_URL", &var_or("MASTHEAD_PUBLIC_URL", ""))?,
            body_timeout: Duration::from_millis(parse_var("MASTHEAD_BODY_TIMEOUT_MS", 10_000, 100..=600_000)?),
            password_hash_concurrency: parse_var(
                "MASTHEAD_PASSWORD_HASH_CONCURRENCY",
                default_hash_concurrency() as u64,
                1..=256,
            )? as usize,
            max_connections: match parse_var("MASTHEAD_MAX_CONNECTIONS", 0, 0..=1_000_000)? {
                0 => None,
                n => Some(n as usize),
            },
            password_hashing: HashParams::default(),
            max_body_bytes: parse_var("MASTHEAD_MAX_BODY_BYTES", 1024 * 1024, 1024..=64 * 1024 * 1024)? as usize,
            public_cache: CachePolicy {
                max_age: parse_var("MASTHEAD_CACHE_MAX_AGE", 60, 0..=31_536_000)? as u32,
                stale_while_revalidate: parse_var("MASTHEAD_CACHE_STALE_WHILE_REVALIDATE", 300, 0..=31_536_000)? as u32,
            },
            cors_origins: parse_origins(&var_or("MASTHEAD_CORS_ORIGINS", ""))?,
            cache_bytes: parse_var("MASTHEAD_CACHE_BYTES", 16 * 1024 * 1024, 0..=4 * 1024 * 1024 * 1024)? as usize,
            comments: CommentSettings {
                auto_approve: parse_bool("MASTHEAD_COMMENTS_AUTO_APPROVE", false)?,
                trust_approved_emails: parse_bool("MASTHEAD_COMMENTS_TRUST_APPROVED", true)?,
                max_depth: parse_var("MASTHEAD_COMMENTS_MAX_DEPTH", 3, 1..=10)? as usize,
                close_after_days: match parse_var("MASTHEAD_COMMENTS_CLOSE_AFTER_DAYS", 0, 0..=36_500)? {
                    0 => None,
                    days => Some(days as i64),
                },
                per_minute: parse_var("MASTHEAD_COMMENTS_PER_MINUTE", 5, 1..=10_000)? as i64,
                blocked_words: parse_words(&var_or("MASTHEAD_COMMENTS_BLOCKED_WORDS", "")),
                max_links: parse_var("MASTHEAD_COMMENTS_MAX_LINKS", 2, 0..=100)? as usize,
            },
            webhooks: WebhookSettings {
                allow_private: parse_bool("MASTHEAD_WEBHOOK_ALLOW_PRIVATE", false)?,
                retry_base: Duration::from_millis(parse_var("MASTHEAD_WEBHOOK_RETRY_BASE_MS", 30_000, 10..=3_600_000)?),
                poll_interval: Duration::from_millis(parse_var("MASTHEAD_WEBHOOK_POLL_MS", 1000, 10..=60_000)?),
                concurrency: parse_var("MASTHEAD_WEBHOOK_CONCURRENCY", 16, 1..=256)? as usize,
                disable_after: parse_var("MASTHEAD_WEBHOOK_DISABLE_AFTER", 5, 1..=1000)? as i32,
            },
            media,
            site: site_settings()?,
            operations: Operations::from_env()?,
        })
    }

    /// A configuration for the test suite: cheap password hashing, a random secret.
    pub fn for_tests(database_url: DatabaseUrl) -> Self {
        Self {
            database_url,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            jwt_secret: Some(Secret::new(crate::random::hex_token(32))),
            access_ttl: Duration::from_secs(900),
            refresh_ttl: Duration::from_secs(30 * 86_400),
            login_limits: LoginLimits { per_address: 10, per_account: 5, window: chrono::Duration::seconds(900) },
            trust_proxy: false,
            log_filter: "warn".into(),
            db: DbSettings {
                pool_size: 4,
                acquire_timeout: Duration::from_secs(5),
                query_timeout: Some(Duration::from_secs(10)),
            },
            public_url: Some("https://news.example.com".into()),
            body_timeout: Duration::from_secs(10),
            password_hash_concurrency: 2,
            max_connections: None,
            password_hashing: HashParams::cheap_for_tests(),
            max_body_bytes: 64 * 1024,
            public_cache: CachePolicy { max_age: 60, stale_while_revalidate: 300 },
            cors_origins: vec!["https://front.example.com".into()],
            cache_bytes: 4 * 1024 * 1024,
            comments: CommentSettings {
                auto_approve: false,
                trust_approved_emails: true,
                max_depth: 3,
                close_after_days: None,
                per_minute: 5,
                blocked_words: vec!["casino".into()],
                max_links: 2,
            },
            // Receivers are on loopback; retries and polling fast enough for a test's deadline.
            webhooks: WebhookSettings {
                allow_private: true,
                retry_base: Duration::from_millis(50),
                poll_interval: Duration::from_millis(50),
                concurrency: 4,
                disable_after: 5,
            },
            // The test harness gives each app a directory (or an S3 prefix) of its own.
            media: MediaSettings {
                store: MediaStoreLocation::Directory(std::env::temp_dir().join("masthead-test-media")),
                max_bytes: 20 * 1024 * 1024,
                max_pixels: 50_000_000,
                widths: vec![320, 640, 960, 1280, 1920],
                public_url: None,
                concurrency: 2,
                upload_timeout: Duration::from_secs(30),
                hot_bytes: 4 * 1024 * 1024,
            },
            site: SiteSettings::default(),
            operations: Operations {
                log_format: LogFormat::Pretty,
                metrics: MetricsAccess::default(),
                shutdown: Shutdown::default(),
                workers: 2,
            },
        }
    }

    /// Makes sure a JWT secret is set before serving. Without `MASTHEAD_JWT_SECRET`, a secret is
    /// generated and kept in a file only when the service listens on loopback (local development);
    /// anywhere else starting without one is refused, so production never runs on a default key.
    pub fn resolve_jwt_secret(&mut self) -> Result<(), ConfigError> {
        if self.jwt_secret.is_some() {
            return Ok(());
        }
        if !self.addr.ip().is_loopback() {
            return Err(ConfigError(format!(
                "MASTHEAD_JWT_SECRET is not set and MASTHEAD_ADDR ({}) is not a loopback address. \
                 Set MASTHEAD_JWT_SECRET to a random string of at least {MIN_JWT_SECRET_BYTES} bytes, \
                 e.g. `openssl rand -base64 48`.",
                self.addr
            )));
        }
        let path = self.dev_secret_path();
        let secret = match std::fs::read_to_string(&path) {
            Ok(existing) => checked_secret(existing.trim().to_string())
                .map_err(|e| ConfigError(format!("{}: {e} (delete the file to generate a new one)", path.display())))?,
            Err(_) => {
                let secret = Secret::new(crate::random::hex_token(48));
                write_private_file(&path, secret.expose()).map_err(|e| {
                    ConfigError(format!("cannot write the development JWT secret to {}: {e}", path.display()))
                })?;
                secret
            }
        };
        tracing::warn!(
            file = %path.display(),
            "MASTHEAD_JWT_SECRET is not set: using a development secret kept in a file. \
             Set MASTHEAD_JWT_SECRET before exposing this service beyond loopback."
        );
        self.jwt_secret = Some(secret);
        Ok(())
    }

    /// The base of every absolute link the API writes: `MASTHEAD_PUBLIC_URL`, or else the listen
    /// address (loopback when it listens on every interface). Never a request's `Host` or
    /// forwarding headers, which anyone can write and which would end up in cached responses.
    pub fn public_base(&self) -> String {
        if let Some(url) = &self.public_url {
            return url.clone();
        }
        let ip = match self.addr.ip() {
            std::net::IpAddr::V4(ip) if ip.is_unspecified() => std::net::Ipv4Addr::LOCALHOST.into(),
            std::net::IpAddr::V6(ip) if ip.is_unspecified() => std::net::Ipv6Addr::LOCALHOST.into(),
            ip => ip,
        };
        format!("http://{}", SocketAddr::new(ip, self.addr.port()))
    }

    /// Beside the SQLite database, or in the working directory when the database is PostgreSQL.
    pub fn dev_secret_path(&self) -> PathBuf {
        match &self.database_url {
            DatabaseUrl::Sqlite(path) => {
                let mut name = Path::new(path).as_os_str().to_owned();
                name.push(".jwt-secret");
                PathBuf::from(name)
            }
            DatabaseUrl::Postgres(_) => PathBuf::from("masthead.jwt-secret"),
        }
    }
}

/// `MASTHEAD_MEDIA_*`. Media live beside the SQLite database (`masthead.db` → `media/`), or in
/// `./media` for PostgreSQL, unless `MASTHEAD_MEDIA_DIR` or an S3 store says otherwise.
fn media_settings(database_url: &DatabaseUrl) -> Result<MediaSettings, ConfigError> {
    let store = match var_or("MASTHEAD_MEDIA_STORE", "").trim() {
        "" | "local" => MediaStoreLocation::Directory(match var_or("MASTHEAD_MEDIA_DIR", "").as_str() {
            "" => match database_url {
                DatabaseUrl::Sqlite(path) => Path::new(path).parent().unwrap_or(Path::new("")).join("media"),
                DatabaseUrl::Postgres(_) => PathBuf::from("media"),
            },
            dir => PathBuf::from(dir),
        }),
        s3 => MediaStoreLocation::parse_s3(s3).map_err(|e| ConfigError(format!("MASTHEAD_MEDIA_STORE: {e}")))?,
    };
    let raw_widths = var_or("MASTHEAD_MEDIA_WIDTHS", "320,640,960,1280,1920");
    let mut widths = Vec::new();
    for part in raw_widths.split(',').map(str::trim).filter(|part| !part.is_empty()) {
        match part.parse::<u32>() {
            Ok(width) if (16..=8192).contains(&width) => widths.push(width),
            _ => {
                return Err(ConfigError(format!(
                    "MASTHEAD_MEDIA_WIDTHS: `{part}` must be a width in pixels from 16 to 8192"
                )));
            }
        }
    }
    widths.sort_unstable();
    widths.dedup();
    if widths.len() > 16 {
        return Err(ConfigError("MASTHEAD_MEDIA_WIDTHS: at most 16 widths".into()));
    }
    Ok(MediaSettings {
        store,
        max_bytes: parse_var("MASTHEAD_MEDIA_MAX_BYTES", 20 * 1024 * 1024, 1024..=512 * 1024 * 1024)? as usize,
        max_pixels: parse_var("MASTHEAD_MEDIA_MAX_PIXELS", 50_000_000, 1..=1_000_000_000)?,
        widths,
        public_url: parse_public_url("MASTHEAD_MEDIA_PUBLIC_URL", &var_or("MASTHEAD_MEDIA_PUBLIC_URL", ""))?,
        concurrency: parse_var("MASTHEAD_MEDIA_CONCURRENCY", 2, 1..=64)? as usize,
        upload_timeout: Duration::from_millis(parse_var("MASTHEAD_MEDIA_UPLOAD_TIMEOUT_MS", 120_000, 100..=3_600_000)?),
        hot_bytes: parse_var("MASTHEAD_MEDIA_CACHE_BYTES", 16 * 1024 * 1024, 0..=4 * 1024 * 1024 * 1024)? as usize,
    })
}

/// `MASTHEAD_SITE_URL` and the front end's paths (`MASTHEAD_ARTICLE_PATH` and the others).
fn site_settings() -> Result<SiteSettings, ConfigError> {
    let defaults = SiteSettings::default();
    let template = |name: &str, dated: bool, default: PathTemplate| match std::env::var(name) {
        Ok(raw) if !raw.trim().is_empty() => {
            PathTemplate::parse(raw.trim(), dated).map_err(|e| ConfigError(format!("{name}: {e}")))
        }
        _ => Ok(default),
    };
    Ok(SiteSettings {
        url: parse_public_url("MASTHEAD_SITE_URL", &var_or("MASTHEAD_SITE_URL", ""))?,
        article_path: template("MASTHEAD_ARTICLE_PATH", true, defaults.article_path)?,
        tag_path: template("MASTHEAD_TAG_PATH", false, defaults.tag_path)?,
        author_path: template("MASTHEAD_AUTHOR_PATH", false, defaults.author_path)?,
        sitemap_part_urls: parse_var(
            "MASTHEAD_SITEMAP_PART_URLS",
            SITEMAP_MAX_URLS as u64,
            1..=SITEMAP_MAX_URLS as u64,
        )? as usize,
    })
}

fn checked_secret(value: String) -> Result<Secret, ConfigError> {
    if value.len() < MIN_JWT_SECRET_BYTES {
        return Err(ConfigError(format!(
            "MASTHEAD_JWT_SECRET is too short ({} bytes); use at least {MIN_JWT_SECRET_BYTES} random bytes, \
             e.g. `openssl rand -base64 48`",
            value.len()
        )));
    }
    Ok(Secret::new(value))
}

/// One hash per core, at most four: enough to log in hundreds of people a second, and at most
/// about 80 MiB of hashing memory.
fn default_hash_concurrency() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()).min(4)
}

fn write_private_file(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut file = crate::os::create_private_file(path)?;
    file.write_all(contents.as_bytes())?;
    file.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_url_is_an_absolute_address_kept_without_its_final_slash() {
        assert_eq!(parse_public_url("X", "").unwrap(), None);
        assert_eq!(
            parse_public_url("X", "https://cms.example.com/").unwrap().as_deref(),
            Some("https://cms.example.com")
        );
        assert_eq!(parse_public_url("X", " http://h:8080/cms ").unwrap().as_deref(), Some("http://h:8080/cms"));
        for bad in ["cms.example.com", "ftp://h", "https://", "https://h/?x=1", "https://u@h", "https://h/a b"] {
            assert!(parse_public_url("X", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn without_a_public_url_links_name_the_listen_address_on_loopback() {
        let mut config = Config::for_tests(DatabaseUrl::Sqlite("x.db".into()));
        config.public_url = None;
        config.addr = "0.0.0.0:8080".parse().unwrap();
        assert_eq!(config.public_base(), "http://127.0.0.1:8080");
        config.addr = "[::]:8080".parse().unwrap();
        assert_eq!(config.public_base(), "http://[::1]:8080");
        config.public_url = Some("https://cms.example.com".into());
        assert_eq!(config.public_base(), "https://cms.example.com");
    }
}
