//! Redirect rows, their views and the bodies that create and change them.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::schema::redirects;
use crate::timestamps::utc;

/// The statuses a redirect may answer with: permanent (301, 308) or temporary (302, 307).
pub const STATUSES: [i32; 4] = [301, 302, 307, 308];

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = redirects)]
pub struct RedirectRow {
    pub id: i64,
    pub from_slug: Option<String>,
    pub from_path: Option<String>,
    pub article_id: Option<i64>,
    pub to_path: Option<String>,
    pub status: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Where a redirect leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// An article, at whatever its slug is when asked.
    Article(i64),
    /// A path of the front end, or an absolute URL.
    Path(String),
}

impl RedirectRow {
    pub fn target(&self) -> Target {
        match (&self.article_id, &self.to_path) {
            (Some(id), _) => Target::Article(*id),
            (None, path) => Target::Path(path.clone().unwrap_or_default()),
        }
    }
}

/// What a redirect is made from.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum RedirectKind {
    /// An article's former slug, kept by Masthead when the slug of a published article changed.
    Slug,
    /// A path of the front end, redirected by hand or by an import.
    Path,
}

/// The statuses' schema, for the OpenAPI document.
pub struct RedirectStatus;

impl utoipa::PartialSchema for RedirectStatus {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .enum_values(Some(STATUSES))
            .description(Some("301 or 308 for a permanent move, 302 or 307 for a temporary one"))
            .examples([301])
            .into()
    }
}

impl utoipa::ToSchema for RedirectStatus {}

/// A path's schema (`from`), for the OpenAPI document.
pub struct FrontEndPath;

impl utoipa::PartialSchema for FrontEndPath {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        text_schema(PATH_PATTERN, "/2016/01/hello-world/")
    }
}

impl utoipa::ToSchema for FrontEndPath {}

/// A target path's or URL's schema (`to.path`), for the OpenAPI document.
pub struct TargetPath;

impl utoipa::PartialSchema for TargetPath {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        text_schema(TARGET_PATTERN, "/hello-world")
    }
}

impl utoipa::ToSchema for TargetPath {}

fn text_schema(pattern: &str, example: &str) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(2000))
        .pattern(Some(pattern))
        .examples([example])
        .into()
}

/// A path as requests spell it: one `/` first, no spaces, control characters, backslashes or
/// `#` (the server's rule, `store::check`).
pub const PATH_PATTERN: &str = r"^/([^/\s#\\\x00-\x1f\x7f-\x9f][^\s#\\\x00-\x1f\x7f-\x9f]*)?$";

/// A path, or an absolute `http(s)` URL with a host.
pub const TARGET_PATTERN: &str = r"^(/([^/\s#\\\x00-\x1f\x7f-\x9f][^\s#\\\x00-\x1f\x7f-\x9f]*)?|https?://[^/?#\[\]\s\x00-\x1f\x7f-\x9f]+([/?#][^\s\x00-\x1f\x7f-\x9f]*)?)$";

/// Where a redirect leads: `{"article_id": 42}` (the article at whatever its slug is when asked)
/// or `{"path": "/new/"}` (a path of the front end, or an absolute URL).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(untagged, expecting = "an object with either `article_id` (an article's id) or `path` (a path or URL)")]
pub enum RedirectTo {
    Article(ToArticle),
    Path(ToPath),
}

/// To an article, at whatever its slug is when asked.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ToArticle {
    #[schema(example = 42)]
    pub article_id: i64,
}

/// To a path of the front end, or an absolute `http(s)` URL.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ToPath {
    #[schema(value_type = TargetPath)]
    pub path: String,
}

impl From<RedirectTo> for Target {
    fn from(to: RedirectTo) -> Self {
        match to {
            RedirectTo::Article(ToArticle { article_id }) => Target::Article(article_id),
            RedirectTo::Path(ToPath { path }) => Target::Path(path),
        }
    }
}

impl From<Target> for RedirectTo {
    fn from(target: Target) -> Self {
        match target {
            Target::Article(article_id) => RedirectTo::Article(ToArticle { article_id }),
            Target::Path(path) => RedirectTo::Path(ToPath { path }),
        }
    }
}

/// A redirect as editors see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminRedirect {
    #[schema(example = 7)]
    pub id: i64,
    pub kind: RedirectKind,
    /// The former slug (`slug`) or the path (`path`) that is redirected.
    #[schema(example = "/2016/01/hello-world/")]
    pub from: String,
    pub to: RedirectTo,
    #[schema(value_type = RedirectStatus)]
    pub status: u16,
    #[serde(serialize_with = "utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "utc")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: NaiveDateTime,
}

impl From<RedirectRow> for AdminRedirect {
    fn from(row: RedirectRow) -> Self {
        let kind = if row.from_slug.is_some() { RedirectKind::Slug } else { RedirectKind::Path };
        Self {
            id: row.id,
            kind,
            to: row.target().into(),
            from: row.from_slug.or(row.from_path).unwrap_or_default(),
            status: row.status as u16,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// One entry of the public redirect table, in the front end's paths.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicRedirect {
    /// The path that moved (an article's former path, or a path redirected by hand or by import).
    #[schema(example = "/2016/01/hello-world/")]
    pub from: String,
    /// Where it is now: a path of the front end, or an absolute URL. Chains are followed to
    /// their end.
    #[schema(example = "/hello-world")]
    pub to: String,
    #[schema(value_type = RedirectStatus)]
    pub status: u16,
}

/// `POST /api/v1/admin/redirects`: a path and where it leads.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRedirect {
    /// A path of the front end, with its query if it has one (`/?p=123`).
    #[schema(value_type = FrontEndPath)]
    pub from: String,
    pub to: RedirectTo,
    /// 301 by default.
    #[serde(default, deserialize_with = "crate::optional_fields::non_null")]
    #[schema(value_type = Option<RedirectStatus>, nullable = false)]
    pub status: Option<i32>,
}

/// `PATCH /api/v1/admin/redirects/{id}`: what to change. An article's former slug cannot be
/// changed, only deleted.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRedirect {
    #[serde(default, deserialize_with = "crate::optional_fields::non_null")]
    #[schema(value_type = Option<FrontEndPath>, nullable = false)]
    pub from: Option<String>,
    #[serde(default, deserialize_with = "crate::optional_fields::non_null")]
    #[schema(nullable = false)]
    pub to: Option<RedirectTo>,
    #[serde(default, deserialize_with = "crate::optional_fields::non_null")]
    #[schema(value_type = Option<RedirectStatus>, nullable = false)]
    pub status: Option<i32>,
}

/// `GET /api/v1/redirects` parameters: pages are larger than elsewhere, since front ends load the
/// whole table.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RedirectTableQuery {
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1000000000, default = 1)]
    #[serde(default, deserialize_with = "crate::pagination::page_number")]
    pub page: Option<i64>,
    /// Items per page.
    #[param(minimum = 1, maximum = 1000, default = 100)]
    #[serde(default, deserialize_with = "crate::pagination::page_number")]
    pub per_page: Option<i64>,
}

/// `GET /api/v1/admin/redirects` parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AdminRedirectQuery {
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1000000000, default = 1)]
    #[serde(default, deserialize_with = "crate::pagination::page_number")]
    pub page: Option<i64>,
    /// Items per page.
    #[param(minimum = 1, maximum = 100, default = 20)]
    #[serde(default, deserialize_with = "crate::pagination::page_number")]
    pub per_page: Option<i64>,
    /// Only former slugs, or only paths.
    #[param(inline)]
    pub kind: Option<RedirectKind>,
    /// Only redirects to this article.
    pub article_id: Option<i64>,
}
