//! The OpenAPI document: generated from the route table (`utoipa-actix-web` collects every handler
//! registered with `.service()`), so a route cannot exist undocumented. `masthead openapi` prints
//! it; `openapi/openapi.json` is that output, committed, and a test fails when it is stale.

use actix_web::App;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

use crate::error::{FieldError, Problem};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Masthead",
        description = "A headless CMS served as a JSON API. Public content routes need no credentials \
and show published content only; editor routes (`/api/v1/admin/...`) and account routes need \
`Authorization: Bearer <access token>` from `POST /api/v1/auth/login`. Every error is \
`application/problem+json` (RFC 9457).",
        license(name = "MIT", identifier = "MIT"),
    ),
    servers((url = "/", description = "The server that serves this document")),
    modifiers(&BearerAuth),
    components(schemas(Problem, FieldError)),
    tags(
        (name = "Content", description = "Published articles, authors and tags, for front ends. No credentials."),
        (name = "Auth", description = "Logging in, sessions, and the caller's own account."),
        (name = "Articles", description = "Writing, publishing and deleting articles (editor routes)."),
        (name = "Tags", description = "Managing tags (editor routes)."),
        (name = "Authors", description = "Managing authors and accounts (editor routes)."),
        (name = "Operations", description = "Liveness and readiness probes."),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("An access token from `POST /api/v1/auth/login`."))
                    .build(),
            ),
        );
    }
}

/// The base document (info, tags, security schemes) that the route table fills in.
pub fn base() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The whole document, without building a server or touching a database.
pub fn document() -> utoipa::openapi::OpenApi {
    let (_, api) = App::new().into_utoipa_app().openapi(base()).configure(crate::configure_routes).split_for_parts();
    api
}

/// The document as committed in `openapi/openapi.json`: pretty JSON and a final newline.
pub fn document_json() -> String {
    let mut json = serde_json::to_string_pretty(&document()).expect("the OpenAPI document serialises");
    json.push('\n');
    json
}
