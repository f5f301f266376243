//! Headers every response carries, so that a browser never treats an answer as something else
//! than it says: `X-Content-Type-Options: nosniff` everywhere; a Content Security Policy that
//! allows nothing for the API (JSON, Atom and problems are data, never pages) and, on `/docs`,
//! exactly what Swagger UI needs from this server and nothing from anywhere else.

use actix_web::http::header::{CONTENT_SECURITY_POLICY, HeaderMap, HeaderValue, X_CONTENT_TYPE_OPTIONS};

/// The API's answers are never rendered, framed or scripted.
const API_POLICY: HeaderValue = HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'");

/// Swagger UI's page: its own scripts and styles (it sets inline styles), its icons (some as
/// `data:` URIs), and requests to this server only ("Try it out", `/openapi.json`).
const DOCS_POLICY: HeaderValue = HeaderValue::from_static(
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
     connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
);

/// Whether `path` is the interactive documentation (its page and assets).
pub fn is_docs(path: &str) -> bool {
    path == "/docs" || path.starts_with("/docs/")
}

pub fn apply(headers: &mut HeaderMap, docs: bool) {
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(CONTENT_SECURITY_POLICY, if docs { DOCS_POLICY } else { API_POLICY });
}
