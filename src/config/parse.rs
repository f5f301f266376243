//! How variables are read: a typo stops the process with a message naming the variable.

use super::ConfigError;

pub(super) fn var_or(name: &str, default: &str) -> String {
    std::env::var(name).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| default.to_string())
}

pub(super) fn parse_var(name: &str, default: u64, range: std::ops::RangeInclusive<u64>) -> Result<u64, ConfigError> {
    let Ok(raw) = std::env::var(name) else {
        return Ok(default);
    };
    match raw.trim().parse::<u64>() {
        Ok(v) if range.contains(&v) => Ok(v),
        _ => Err(ConfigError(format!(
            "{name}: `{raw}` must be a whole number from {} to {}",
            range.start(),
            range.end()
        ))),
    }
}

/// `https://cms.example.com/` → `https://cms.example.com`: an absolute http(s) URL with a host,
/// perhaps a path prefix, no query or fragment; kept without its trailing slash.
pub(super) fn parse_public_url(name: &str, raw: &str) -> Result<Option<String>, ConfigError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let rest = raw.strip_prefix("https://").or_else(|| raw.strip_prefix("http://"));
    let host = rest.map(|rest| rest.split('/').next().unwrap_or(""));
    let valid = host.is_some_and(|host| !host.is_empty() && !host.contains('@'))
        && !raw.contains(['?', '#'])
        && !raw.chars().any(|c| c.is_whitespace() || c.is_control());
    if !valid {
        return Err(ConfigError(format!(
            "{name}: `{raw}` is not a public address such as https://cms.example.com \
             (http or https, a host, perhaps a path; no query)"
        )));
    }
    Ok(Some(raw.trim_end_matches('/').to_string()))
}

/// `https://a.example, https://b.example` → the list; each must be an origin (scheme and host,
/// no path), as browsers send it.
pub(super) fn parse_origins(raw: &str) -> Result<Vec<String>, ConfigError> {
    raw.split(',')
        .map(str::trim)
        .filter(|origin| !origin.is_empty())
        .map(|origin| {
            let rest = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://"));
            match rest {
                Some(host) if !host.is_empty() && !host.contains('/') => Ok(origin.to_string()),
                _ => Err(ConfigError(format!(
                    "MASTHEAD_CORS_ORIGINS: `{origin}` is not an origin such as https://www.example.com"
                ))),
            }
        })
        .collect()
}

/// `Casino, cheap pills` → `["casino", "cheap pills"]`: matched case-insensitively.
pub(super) fn parse_words(raw: &str) -> Vec<String> {
    raw.split(',').map(|word| word.trim().to_lowercase()).filter(|word| !word.is_empty()).collect()
}

pub(super) fn parse_bool(name: &str, default: bool) -> Result<bool, ConfigError> {
    match std::env::var(name).ok().as_deref().map(str::trim) {
        None | Some("") => Ok(default),
        Some("1" | "true" | "yes" | "on") => Ok(true),
        Some("0" | "false" | "no" | "off") => Ok(false),
        Some(other) => Err(ConfigError(format!("{name}: `{other}` must be true or false"))),
    }
}
