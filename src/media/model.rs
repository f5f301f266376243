//! Media records, their JSON views and the URLs of their files.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::formats::Format;
use crate::media_links::MediaLinks;
use crate::schema::media;
use crate::timestamps::utc;

/// Most characters of alt text and of a caption.
pub const MAX_ALT_CHARS: usize = 1000;
pub const MAX_CAPTION_CHARS: usize = 2000;

/// A row of `media`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = media)]
pub struct MediaRow {
    pub id: i64,
    pub storage_key: String,
    pub content_hash: String,
    pub format: String,
    pub filename: String,
    pub size_bytes: i64,
    pub width: i32,
    pub height: i32,
    pub animated: bool,
    pub alt: Option<String>,
    pub caption: Option<String>,
    pub focal_x: f64,
    pub focal_y: f64,
    pub uploaded_by: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl MediaRow {
    pub fn format(&self) -> Format {
        Format::from_extension(&self.format).unwrap_or(Format::Jpeg)
    }
}

/// Where the subject of an image is, for front ends that crop it: `x` from the left edge (0) to
/// the right (1), `y` from the top (0) to the bottom (1).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FocalPoint {
    #[schema(minimum = 0.0, maximum = 1.0, example = 0.5)]
    pub x: f64,
    #[schema(minimum = 0.0, maximum = 1.0, example = 0.33)]
    pub y: f64,
}

/// One declared width of an image.
#[derive(Debug, Serialize, ToSchema)]
pub struct Variant {
    #[schema(example = 640)]
    pub width: u32,
    /// In the original's format.
    #[schema(example = "https://cdn.example.com/media/3f…9a.jpg?w=640")]
    pub url: String,
    /// The same width as WebP.
    #[schema(example = "https://cdn.example.com/media/3f…9a.jpg?w=640&format=webp")]
    pub webp_url: String,
}

/// An image in the library, as editors see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct MediaView {
    pub id: i64,
    /// The file as stored (metadata stripped), at a URL that never changes meaning.
    #[schema(example = "https://cdn.example.com/media/3f…9a.jpg")]
    pub url: String,
    /// The uploader's file name, without its path: for display only.
    #[schema(example = "harbour-at-dawn.jpg")]
    pub filename: String,
    #[schema(example = "image/jpeg")]
    pub mime_type: &'static str,
    /// The stored file's size.
    pub size_bytes: i64,
    pub width: i32,
    pub height: i32,
    /// An animation (a GIF of several frames): served as uploaded, without variants.
    pub animated: bool,
    pub alt: Option<String>,
    pub caption: Option<String>,
    pub focal_point: FocalPoint,
    /// The declared widths narrower than the original, smallest first.
    pub variants: Vec<Variant>,
    /// The author who uploaded it (`null` once that account is deleted).
    pub uploaded_by: Option<i64>,
    #[serde(serialize_with = "utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "utc")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: NaiveDateTime,
}

/// An article's cover image from the library, ready for `<img src srcset alt>` or a `<picture>`.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct CoverImage {
    pub id: i64,
    pub url: String,
    pub alt: Option<String>,
    pub width: i32,
    pub height: i32,
    pub focal_point: FocalPoint,
    /// The variants in the original's format with their widths (`URL 640w, …`), and the original.
    #[schema(
        example = "https://cdn.example.com/media/3f…9a.jpg?w=320 320w, https://cdn.example.com/media/3f…9a.jpg 800w"
    )]
    pub srcset: String,
    /// The same widths as WebP, for a `<source type="image/webp">`.
    pub webp_srcset: String,
}

/// The stored original of a record's file.
pub fn original_object(storage_key: &str, format: Format) -> String {
    format!("originals/{storage_key}.{}", format.extension())
}

/// Where a record's variants are kept: one object per width (`full` for the original's size) and
/// format, made on first request.
pub fn variants_folder(storage_key: &str) -> String {
    format!("variants/{storage_key}")
}

pub fn variant_object(storage_key: &str, width: Option<u32>, format: Format) -> String {
    let size = width.map_or_else(|| "full".to_string(), |width| width.to_string());
    format!("{}/{size}.{}", variants_folder(storage_key), format.extension())
}

/// The URL of a record's stored file: `<base>/media/<key>.<ext>`.
fn original_url(links: &MediaLinks, row: &MediaRow) -> String {
    format!("{}/media/{}.{}", links.base, row.storage_key, row.format().extension())
}

/// `?w=` for a declared width, `format=webp` for WebP (the original's width without `w`).
fn variant_url(links: &MediaLinks, row: &MediaRow, width: Option<u32>, webp: bool) -> String {
    match (width, webp) {
        (Some(width), false) => format!("{}?w={width}", original_url(links, row)),
        (Some(width), true) => format!("{}?w={width}&format=webp", original_url(links, row)),
        (None, false) => original_url(links, row),
        (None, true) => format!("{}?format=webp", original_url(links, row)),
    }
}

/// The declared widths an image has variants in: narrower than the original, none for animations.
fn widths_of<'a>(links: &'a MediaLinks, row: &'a MediaRow) -> impl Iterator<Item = u32> + 'a {
    links.widths.iter().copied().filter(move |&width| !row.animated && i64::from(width) < i64::from(row.width))
}

impl MediaView {
    pub fn new(links: &MediaLinks, row: MediaRow) -> Self {
        let variants = widths_of(links, &row)
            .map(|width| Variant {
                width,
                url: variant_url(links, &row, Some(width), false),
                webp_url: variant_url(links, &row, Some(width), true),
            })
            .collect();
        Self {
            id: row.id,
            url: original_url(links, &row),
            mime_type: row.format().mime_type(),
            variants,
            filename: row.filename,
            size_bytes: row.size_bytes,
            width: row.width,
            height: row.height,
            animated: row.animated,
            alt: row.alt,
            caption: row.caption,
            focal_point: FocalPoint { x: row.focal_x, y: row.focal_y },
            uploaded_by: row.uploaded_by,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

impl CoverImage {
    pub fn new(links: &MediaLinks, row: &MediaRow) -> Self {
        let srcset = |webp: bool| {
            let mut entries: Vec<String> = widths_of(links, row)
                .map(|width| format!("{} {width}w", variant_url(links, row, Some(width), webp)))
                .collect();
            // The full size too; an animation has no WebP.
            entries.push(format!("{} {}w", variant_url(links, row, None, webp && !row.animated), row.width));
            entries.join(", ")
        };
        Self {
            id: row.id,
            url: original_url(links, row),
            alt: row.alt.clone(),
            width: row.width,
            height: row.height,
            focal_point: FocalPoint { x: row.focal_x, y: row.focal_y },
            srcset: srcset(false),
            webp_srcset: srcset(true),
        }
    }
}

/// `PATCH /api/v1/admin/media/{id}`: the fields to change; `null` clears alt text or a caption.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMedia {
    /// `null` removes it.
    #[serde(default, deserialize_with = "crate::optional_fields::present")]
    #[schema(max_length = 1000, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
    pub alt: Option<Option<String>>,
    /// `null` removes it.
    #[serde(default, deserialize_with = "crate::optional_fields::present")]
    #[schema(max_length = 2000, pattern = r"^[^\x00-\x09\x0b-\x1f\x7f-\x9f]*$")]
    pub caption: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::optional_fields::non_null")]
    #[schema(nullable = false)]
    pub focal_point: Option<FocalPoint>,
}

/// The kinds of image to list.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MediaType {
    Jpeg,
    Png,
    Webp,
    Gif,
}

/// `GET /api/v1/admin/media` parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MediaListQuery {
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1000000000, default = 1)]
    #[serde(default, deserialize_with = "crate::pagination::page_number")]
    pub page: Option<i64>,
    /// Items per page.
    #[param(minimum = 1, maximum = 100, default = 20)]
    #[serde(default, deserialize_with = "crate::pagination::page_number")]
    pub per_page: Option<i64>,
    /// Words in the file name, alt text or caption.
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// Only images of this format.
    #[param(inline)]
    #[serde(rename = "type")]
    pub media_type: Option<MediaType>,
    /// `true`: only images no article uses as its cover.
    pub unused: Option<bool>,
}

/// `DELETE /api/v1/admin/media/{id}` parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeleteMediaQuery {
    /// Delete it even though articles use it: they lose their cover image.
    pub force: Option<bool>,
}

impl MediaType {
    pub fn format(self) -> Format {
        match self {
            Self::Jpeg => Format::Jpeg,
            Self::Png => Format::Png,
            Self::Webp => Format::Webp,
            Self::Gif => Format::Gif,
        }
    }
}
