//! Tag rows, their public shape and the editor inputs.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::schema::tags;
use crate::timestamps::utc;

pub const MAX_TAG_NAME_CHARS: usize = 50;

/// A tag name in an article's `tags` list: only its schema, for the OpenAPI document (the server
/// trims the name, then wants 1 to 50 characters).
pub struct TagName;

impl utoipa::PartialSchema for TagName {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1))
            .max_length(Some(MAX_TAG_NAME_CHARS))
            // Something besides whitespace (what Rust's `trim` removes).
            .pattern(Some(crate::http::openapi::NOT_BLANK))
            .examples(["Open source"])
            .into()
    }
}

impl utoipa::ToSchema for TagName {}
pub const MAX_TAG_DESCRIPTION_CHARS: usize = 500;

/// A tag as editors see it.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = tags)]
pub struct Tag {
    #[schema(example = 7)]
    pub id: i64,
    #[schema(example = "open-source")]
    pub slug: String,
    #[schema(example = "Open source")]
    pub name: String,
    #[schema(example = "Software anyone may read, change and share.")]
    pub description: Option<String>,
    #[serde(serialize_with = "utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "utc")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: NaiveDateTime,
}

/// A tag as the public sees it, on articles and on the tags routes.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = tags)]
pub struct PublicTag {
    #[schema(example = "open-source")]
    pub slug: String,
    #[schema(example = "Open source")]
    pub name: String,
    #[schema(example = "Software anyone may read, change and share.")]
    pub description: Option<String>,
}

/// A tag on the public tags routes, with its published work.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TagWithCount {
    #[serde(flatten)]
    pub tag: PublicTag,
    /// Published articles with this tag.
    #[schema(example = 12)]
    pub article_count: i64,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = tags)]
pub struct NewTag<'a> {
    pub slug: &'a str,
    pub name: &'a str,
    pub description: Option<&'a str>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// `POST /api/v1/admin/tags`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Open source", "description": "Software anyone may read, change and share."}))]
pub struct CreateTag {
    /// 1 to 50 characters.
    #[schema(
        example = "Open source",
        pattern = r"[^\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]",
        min_length = 1,
        max_length = 50
    )]
    pub name: String,
    /// Derived from the name when absent.
    #[schema(example = "open-source", pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 120)]
    pub slug: Option<String>,
    #[schema(max_length = 500)]
    pub description: Option<String>,
}

/// `PATCH /api/v1/admin/tags/{id}`: only the fields present change; `"description": null` clears it.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"description": "Software anyone may read, change and share."}))]
pub struct UpdateTag {
    #[serde(default, deserialize_with = "crate::optional_fields::non_null")]
    #[schema(
        nullable = false,
        pattern = r"[^\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]",
        min_length = 1,
        max_length = 50
    )]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "crate::optional_fields::non_null")]
    #[schema(nullable = false, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 120)]
    pub slug: Option<String>,
    #[serde(default, deserialize_with = "crate::optional_fields::present")]
    #[schema(value_type = Option<String>, max_length = 500)]
    pub description: Option<Option<String>>,
}
