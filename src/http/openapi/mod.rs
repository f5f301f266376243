//! The OpenAPI document: generated from the route table (`utoipa-actix-web` collects every handler
//! registered with `.service()`), so a route cannot exist undocumented. `masthead openapi` prints
//! it; `openapi/openapi.json` is that output, committed, and a test fails when it is stale.

mod complete;
mod methods;

pub use complete::complete;
pub use methods::MethodTable;

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToResponse};

use crate::error::{FieldError, Problem};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Masthead",
        description = "A headless CMS served as a JSON API. Public content routes need no credentials \
and show published content only; editor routes (`/api/v1/admin/...`) and account routes need \
`Authorization: Bearer <access token>` from `POST /api/v1/auth/login`. Most editor routes also take \
an integration token (`mh_...`, from `POST /api/v1/admin/tokens`) that has the scope their bearer \
requirement names. Every error is `application/problem+json` (RFC 9457).",
        license(name = "MIT", identifier = "MIT"),
    ),
    servers((url = "/", description = "The server that serves this document")),
    modifiers(&BearerAuth),
    components(
        schemas(Problem, FieldError),
        responses(
            BadRequest, Unauthorized, Forbidden, PreconditionFailed, PayloadTooLarge, UnsupportedMediaType, ValidationFailed,
            TooManyRequests, RequestTimeout, Unavailable, InternalError
        )
    ),
    tags(
        (name = "Content", description = "Published articles, authors and tags, for front ends. No credentials."),
        (name = "Auth", description = "Logging in, sessions, and the caller's own account."),
        (name = "Articles", description = "Writing, publishing and deleting articles (editor routes)."),
        (name = "Tags", description = "Managing tags (editor routes)."),
        (name = "Authors", description = "Managing authors and accounts (editor routes)."),
        (name = "Tokens", description = "Integration tokens: long-lived, scoped credentials for machines (editor routes, logged in)."),
        (name = "Webhooks", description = "Signed deliveries of content events to your URLs, retried until they arrive (editor routes)."),
        (name = "Redirects", description = "Redirects of former paths and slugs, for front ends to answer (editor routes)."),
        (name = "Archive", description = "The whole publication as one file, to keep or to move (admins, logged in)."),
        (name = "Comments", description = "Reader comments: posting and reading threads (public), moderating them (editor routes)."),
        (name = "Operations", description = "Liveness and readiness probes."),
    )
)]
struct ApiDoc;

struct BearerAuth;

// The error responses shared by many operations, defined once; `complete` adds them where they
// apply, and a handler names one only where it is particular (a 422 on a query it checks).
// Route-specific ones (403, 404, 409) stay inline with what they mean there.

/// Malformed JSON, an unknown field, or an unknown or malformed query parameter or header.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct BadRequest(#[allow(dead_code)] Problem);

/// Missing, invalid or expired access token (with `WWW-Authenticate: Bearer`).
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct Unauthorized(#[allow(dead_code)] Problem);

/// The caller may not do this: their role does not allow it, or (an integration token) it lacks
/// the scope the operation's bearer requirement names, or tokens may not call it at all.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct Forbidden(#[allow(dead_code)] Problem);

/// `If-Match` is stale: someone saved in between. The problem's `current_version` says what it is
/// now; re-read, merge, and retry with the new ETag.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct PreconditionFailed(#[allow(dead_code)] Problem);

/// The request body is larger than `MASTHEAD_MAX_BODY_BYTES`.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct PayloadTooLarge(#[allow(dead_code)] Problem);

/// The request body is not `application/json`.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct UnsupportedMediaType(#[allow(dead_code)] Problem);

/// Invalid input: `errors` names every offending field or parameter and what is wrong with it.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct ValidationFailed(#[allow(dead_code)] Problem);

/// The request cannot be served now; `type` says why, `Retry-After` when to try again: the database
/// is out of reach (`unavailable`), every connection or password-hashing slot stayed busy
/// (`busy`), the request needed more database time than allowed (`query-timeout`), or the
/// database's disk is full (`storage-full`; reads still work).
#[derive(ToResponse)]
#[response(content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait")))]
pub struct Unavailable(#[allow(dead_code)] Problem);

/// The request body did not arrive within `MASTHEAD_BODY_TIMEOUT_MS`; the connection is closed.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct RequestTimeout(#[allow(dead_code)] Problem);

/// A bug: logged with the request id (`X-Request-Id`), never detailed here.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct InternalError(#[allow(dead_code)] Problem);

/// Too many attempts, or too many requests at once, from this client; `Retry-After` says how many
/// seconds to wait.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait")))]
pub struct TooManyRequests(#[allow(dead_code)] Problem);

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An access token (a JWT) from `POST /api/v1/auth/login`, or on the editor routes that \
name a scope an integration token (`mh_...`) that has it.",
                    ))
                    .build(),
            ),
        );
    }
}

/// `pattern` of required texts that the server trims: something besides whitespace (the characters
/// Rust's `trim` removes, listed because regex engines disagree on `\s`). utoipa's attributes take
/// only literals, so the fields repeat it; a test holds every copy in the document to this one.
pub const NOT_BLANK: &str = r"[^\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]";

/// `pattern` of optional URL fields, as `Validator::http_url` checks them after trimming (blank
/// clears the field): absolute http(s), a host without spaces, controls or brackets. Repeated in
/// the fields' attributes like [`NOT_BLANK`], and held to this one by the same test.
pub const OPTIONAL_HTTP_URL: &str =
    r"^\s*(https?://[^\s\x00-\x1f\x7f-\x9f/?#\[\]]+([/?#][^\s\x00-\x1f\x7f-\x9f]*)?)?\s*$";

/// `pattern` of URLs the server sends requests to (webhook receivers), as `outbound::check_url`
/// takes them: exactly as written (nothing trimmed), `http://` or `https://`, a host, and no
/// whitespace, control characters or backslashes anywhere. Held to this one by the same test.
pub const OUTBOUND_URL: &str = r"^https?://[^\s\x00-\x1f\x7f-\x9f/?#\\]+([/?#][^\s\x00-\x1f\x7f-\x9f\\]*)?$";

/// The base document (info, tags, security schemes) that the route table fills in.
pub fn base() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
