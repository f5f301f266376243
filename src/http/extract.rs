//! Request extractors whose errors name the offending field or parameter.
//!
//! actix's own `Json` and `Query` report "invalid digit found in string" without saying where; these
//! read the same input through `serde_path_to_error` and answer a problem that names it. Request
//! structs use `#[serde(deny_unknown_fields)]`, so an unknown field is refused rather than ignored
//! (no mass assignment, and typos do not pass silently).

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header::{self, EntityTag, IfMatch};
use actix_web::web::PathConfig;
use actix_web::{FromRequest, HttpRequest};
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::http::body::BodyLimits;

/// A JSON request body (`Content-Type: application/json`), read within the app's `BodyLimits`.
pub struct JsonBody<T>(pub T);

/// An optional JSON body: an empty body is `T::default()` (e.g. `POST …/publish` with or without
/// a `published_at`).
pub struct OptionalJsonBody<T>(pub T);

fn is_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|essence| {
            let essence = essence.trim().to_ascii_lowercase();
            essence == "application/json" || essence.ends_with("+json")
        })
        .unwrap_or(false)
}

fn read_json<T: DeserializeOwned + 'static>(
    req: &HttpRequest,
    payload: &mut Payload,
    empty: Option<fn() -> T>,
) -> Pin<Box<dyn Future<Output = Result<T, ApiError>>>> {
    let is_json = is_json(req);
    let limits = req.app_data::<BodyLimits>().cloned();
    let (req, mut payload) = (req.clone(), payload.take());
    Box::pin(async move {
        let limits = limits.ok_or_else(|| ApiError::Internal("the body limits are not configured".into()))?;
        let client = client_address(&req, limits.trust_proxy);
        let body = crate::http::body::read(&req, &mut payload, &limits, &client).await?;
        let bytes = &body.bytes;
        // No body, or JSON `null`: the optional body is absent. Whitespace alone is not JSON.
        if let Some(empty) = empty
            && (bytes.is_empty() || bytes.trim_ascii() == b"null")
        {
            return Ok(empty());
        }
        if !is_json {
            return Err(ApiError::UnsupportedMediaType(
                "the request body must be JSON, sent with `Content-Type: application/json`".into(),
            ));
        }
        parse_json(bytes)
    })
}

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_json(req, payload, None);
        Box::pin(async move { body.await.map(JsonBody) })
    }
}

impl<T: DeserializeOwned + Default + 'static> FromRequest for OptionalJsonBody<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_json(req, payload, Some(T::default));
        Box::pin(async move { body.await.map(OptionalJsonBody) })
    }
}

/// The `If-Match` request header (`None` when absent), for writes that must not overwrite a
/// change the client has not seen.
pub struct Precondition(Option<IfMatch>);

impl FromRequest for Precondition {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(parse_if_match(req).map(Precondition))
    }
}

/// Parses `If-Match`. Something that is not an entity tag matches no version, so a malformed
/// header refuses the write with 412 like a stale one: the condition the client set is not met.
fn parse_if_match(req: &HttpRequest) -> Result<Option<IfMatch>, ApiError> {
    let mut values = req.headers().get_all(header::IF_MATCH).peekable();
    if values.peek().is_none() {
        return Ok(None);
    }
    let mut tags = Vec::new();
    for value in values {
        let Ok(value) = value.to_str() else { continue };
        for item in value.split(',').map(str::trim).filter(|item| !item.is_empty()) {
            if item == "*" {
                return Ok(Some(IfMatch::Any));
            }
            tags.extend(item.parse::<EntityTag>().ok());
        }
    }
    Ok(Some(IfMatch::Items(tags)))
}

/// The `If-Match` header as the OpenAPI document describes it on every versioned write.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IfMatchHeader {
    /// The ETag read before this write (e.g. `"v3"`), or `*`: the write is refused with 412 when the
    /// resource changed in between (or when the value is not an entity tag at all). Without it,
    /// the write goes ahead.
    #[param(rename = "If-Match", example = "\"v3\"")]
    #[allow(dead_code)]
    if_match: Option<String>,
}

/// The strong ETag of a versioned resource: `"v<version>"`.
pub fn version_etag(version: i32) -> EntityTag {
    EntityTag::new_strong(format!("v{version}"))
}

impl Precondition {
    /// 412 when the client sent `If-Match` and no tag in it is the current version's.
    pub fn check(&self, current_version: i32) -> Result<(), ApiError> {
        let current = version_etag(current_version);
        match &self.0 {
            None | Some(IfMatch::Any) => Ok(()),
            Some(IfMatch::Items(tags)) if tags.iter().any(|tag| tag.strong_eq(&current)) => Ok(()),
            Some(IfMatch::Items(_)) => Err(ApiError::PreconditionFailed {
                detail: format!(
                    "it has changed since you read it (it is now version {current_version}); \
                     re-read it, merge your change, and retry with its new ETag"
                ),
                current_version,
            }),
        }
    }
}

/// Parses a JSON body. Malformed JSON (syntax, a duplicate or unknown field, a body that is not
/// an object) is a 400; a missing field or a value of the wrong type is a 422 naming the field.
/// A NUL character in a string, which PostgreSQL cannot store, becomes U+FFFD (the replacement
/// character); a number with a zero fraction (`3.0`) is a valid integer, as JSON Schema says.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let replaced;
    let bytes = if escaped_nul_positions(bytes).next().is_some() {
        replaced = replace_escaped_nul(bytes);
        replaced.as_slice()
    } else {
        bytes
    };
    match parse_json_strictly(bytes) {
        // A type error, perhaps only because an integer came as `3.0` (also inside a value that
        // may take several shapes, whose error names none): once more with whole floats as integers.
        Err(ApiError::Validation(errors)) => {
            let mut value: serde_json::Value =
                serde_json::from_slice(bytes).map_err(|e| ApiError::BadRequest(format!("malformed JSON: {e}")))?;
            if whole_floats_to_integers(&mut value) {
                parse_json_strictly(&serde_json::to_vec(&value).unwrap_or_default())
            } else {
                Err(ApiError::Validation(errors))
            }
        }
        parsed => parsed,
    }
}

/// `3.0` → `3` everywhere in a JSON value, for integer fields that a client wrote as floats;
/// whether there was any.
fn whole_floats_to_integers(value: &mut serde_json::Value) -> bool {
    match value {
        serde_json::Value::Number(number) => {
            if let Some(float) = number.as_f64().filter(|f| number.is_f64() && f.fract() == 0.0)
                && float >= i64::MIN as f64
                && float < i64::MAX as f64
            {
                *number = serde_json::Number::from(float as i64);
                return true;
            }
            false
        }
        // Every one converted (`|`, not a short-circuiting `||`).
        serde_json::Value::Array(items) => items.iter_mut().map(whole_floats_to_integers).fold(false, |a, b| a | b),
        serde_json::Value::Object(fields) => {
            fields.values_mut().map(whole_floats_to_integers).fold(false, |a, b| a | b)
        }
        _ => false,
    }
}

fn parse_json_strictly<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // Serde would also read a struct from an array (`[]`); every body here is an object.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()).is_some_and(|b| *b != b'{') {
        return Err(ApiError::BadRequest("the body must be a JSON object".into()));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let parsed: T = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        let message = inner.to_string();
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::BadRequest(format!("malformed JSON: {message}"));
        }
        if let Some(field) = backticked_after(&message, "missing field ") {
            let field = if path == "." { field } else { format!("{path}.{field}") };
            return ApiError::invalid(&field, "is required");
        }
        if message.starts_with("unknown field") || message.starts_with("duplicate field") {
            return ApiError::BadRequest(strip_position(&message).to_string());
        }
        if path == "." {
            return ApiError::BadRequest(format!("the body must be a JSON object: {}", strip_position(&message)));
        }
        ApiError::invalid(&path, strip_position(&message))
    })?;
    deserializer.end().map_err(|e| ApiError::BadRequest(format!("malformed JSON: {e}")))?;
    Ok(parsed)
}

/// The JSON text with every `\u0000` escape in a string turned into `\ufffd` (the same length).
fn replace_escaped_nul(json: &[u8]) -> Vec<u8> {
    let mut replaced = json.to_vec();
    for at in escaped_nul_positions(json).collect::<Vec<_>>() {
        replaced[at + 2..at + 6].copy_from_slice(b"fffd");
    }
    replaced
}

/// Where the `\u0000` escapes inside strings start (a raw NUL is a syntax error anyway).
fn escaped_nul_positions(json: &[u8]) -> impl Iterator<Item = usize> + '_ {
    let mut in_string = false;
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < json.len() {
            let at = i;
            i += 1;
            match (in_string, json[at]) {
                (true, b'\\') => {
                    i += 1;
                    if json.get(at + 1) == Some(&b'u') && json.get(at + 2..at + 6) == Some(b"0000".as_slice()) {
                        return Some(at);
                    }
                }
                (_, b'"') => in_string = !in_string,
                _ => {}
            }
        }
        None
    })
}

/// Query-string parameters, parsed into `T`. A malformed value is a 400 naming the parameter.
pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned> FromRequest for QueryParams<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(parse_query(req.query_string()).map(QueryParams))
    }
}

pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    // NUL, which PostgreSQL cannot store or compare, becomes U+FFFD as in JSON bodies.
    let rewritten;
    let query = if form_urlencoded::parse(query.as_bytes()).any(|(k, v)| k.contains('\0') || v.contains('\0')) {
        rewritten = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(
                form_urlencoded::parse(query.as_bytes())
                    .map(|(k, v)| (k.replace('\0', "\u{FFFD}"), v.replace('\0', "\u{FFFD}"))),
            )
            .finish();
        rewritten.as_str()
    } else {
        query
    };
    let deserializer = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        let message = error.into_inner().to_string();
        if message.starts_with("unknown field") {
            ApiError::BadRequest(message.replacen("unknown field", "unknown query parameter", 1))
        } else if let Some(field) = backticked_after(&message, "missing field ") {
            ApiError::BadRequest(format!("the query parameter `{field}` is required"))
        } else if path == "." {
            ApiError::BadRequest(format!("invalid query string: {message}"))
        } else {
            ApiError::BadRequest(format!("invalid value for the query parameter `{path}`: {message}"))
        }
    })
}

/// Path segments that do not parse (a non-numeric id) are a 404: no such resource can exist.
/// Except on a literal path that a template route caught with another method (`PATCH
/// /comments/moderate` reaching `/comments/{id}`): that path exists, so it is a 405 with `Allow`.
pub fn path_config() -> PathConfig {
    PathConfig::default().error_handler(|error, req| {
        let allowed = req
            .app_data::<actix_web::web::Data<crate::http::openapi::MethodTable>>()
            .and_then(|t| t.allowed(req.path()));
        match allowed {
            Some(allowed) if !allowed.split(", ").any(|m| m == req.method().as_str()) => {
                ApiError::MethodNotAllowed { allowed }.into()
            }
            _ => ApiError::NotFound(format!("no such resource ({error})")).into(),
        }
    })
}

/// `missing field `x`` → `x`.
fn backticked_after(message: &str, prefix: &str) -> Option<String> {
    let rest = message.strip_prefix(prefix)?.strip_prefix('`')?;
    Some(rest[..rest.find('`')?].to_string())
}

/// serde_json appends " at line 1 column 42"; the field path already says where.
fn strip_position(message: &str) -> &str {
    message.rsplit_once(" at line ").map_or(message, |(head, _)| head)
}

/// The client's address for throttling and rate limits: the peer, or (behind a trusted proxy
/// only) the address the proxy reports. An IPv6 client counts as its /64, the block one host
/// usually holds, so that it cannot dodge a limit by changing addresses within it.
pub fn client_address(req: &actix_web::HttpRequest, trust_proxy: bool) -> String {
    let peer = || req.peer_addr().map(|peer| peer.ip());
    let address = if trust_proxy {
        // A proxy appends the address it saw to `X-Forwarded-For`: the last entry is the one it
        // vouches for, the ones before are whatever the client sent.
        let forwarded = req.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok()).and_then(|v| {
            v.rsplit(',').map(str::trim).find(|a| !a.is_empty()).and_then(|a| a.parse::<std::net::IpAddr>().ok())
        });
        forwarded
            .or_else(|| {
                let info = req.connection_info();
                let real = info.realip_remote_addr()?;
                real.parse().ok().or_else(|| real.parse::<std::net::SocketAddr>().ok().map(|s| s.ip()))
            })
            .or_else(peer)
    } else {
        peer()
    };
    match address {
        Some(std::net::IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Some(std::net::IpAddr::V6(v6)) => v6.to_ipv4_mapped().map_or_else(|| v6.to_string(), |v4| v4.to_string()),
        Some(ip) => ip.to_string(),
        None => "unknown".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optional_fields::non_null;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Patch {
        #[serde(default, deserialize_with = "non_null")]
        title: Option<String>,
    }

    #[test]
    fn null_is_refused_where_it_means_nothing() {
        let error = parse_json::<Patch>(br#"{"title": null}"#).unwrap_err();
        assert!(matches!(&error, ApiError::Validation(errors) if errors[0].field == "title"), "{error:?}");
        assert!(error_text(&error).contains("must not be null"));
        assert_eq!(parse_json::<Patch>(b"{}").unwrap().title, None);
    }

    fn error_text(error: &ApiError) -> String {
        match error {
            ApiError::Validation(errors) => errors[0].message.clone(),
            other => other.to_string(),
        }
    }
}
