//! Page-number pagination shared by every list route: bounds checked (a value out of range is a
//! 422, never silently clamped), and the `meta` object every list answers with.

use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use crate::error::{ApiError, Validator};

pub const DEFAULT_PER_PAGE: i64 = 20;
pub const MAX_PER_PAGE: i64 = 100;
/// Far beyond any real list; it keeps offsets and page counts in range.
pub const MAX_PAGE: i64 = 1_000_000_000;

/// A validated page request.
#[derive(Clone, Copy, Debug)]
pub struct PageRequest {
    pub page: i64,
    pub per_page: i64,
}

impl PageRequest {
    /// Checks the raw `page` and `per_page` query parameters.
    pub fn new(page: Option<i64>, per_page: Option<i64>) -> Result<Self, ApiError> {
        Self::sized(page, per_page, DEFAULT_PER_PAGE, MAX_PER_PAGE)
    }

    /// [`PageRequest::new`] for a list whose pages have other sizes (the redirect table's are
    /// larger: front ends load all of it).
    pub fn sized(page: Option<i64>, per_page: Option<i64>, default: i64, max: i64) -> Result<Self, ApiError> {
        let page = page.unwrap_or(1);
        let per_page = per_page.unwrap_or(default);
        Validator::new()
            .check((1..=MAX_PAGE).contains(&page), "page", format!("must be from 1 to {MAX_PAGE}"))
            .check((1..=max).contains(&per_page), "per_page", format!("must be from 1 to {max}"))
            .finish()?;
        Ok(Self { page, per_page })
    }

    /// Rows to skip. Saturates: a page far past the end is simply empty.
    pub fn offset(&self) -> i64 {
        (self.page - 1).saturating_mul(self.per_page)
    }

    pub fn meta(&self, total: i64) -> PageMeta {
        PageMeta {
            page: self.page,
            per_page: self.per_page,
            total,
            total_pages: (total + self.per_page - 1) / self.per_page,
        }
    }
}

/// Where a page sits in the whole list.
#[derive(Debug, Serialize, ToSchema)]
pub struct PageMeta {
    #[schema(example = 1)]
    pub page: i64,
    #[schema(example = 20)]
    pub per_page: i64,
    /// Items in the whole list.
    #[schema(example = 42)]
    pub total: i64,
    #[schema(example = 3)]
    pub total_pages: i64,
}

/// A page of a list: `{"data": [...], "meta": {...}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Paginated<T> {
    pub data: Vec<T>,
    pub meta: PageMeta,
}

/// One resource: `{"data": {...}}`, leaving room for metadata beside it later.
#[derive(Debug, Serialize, ToSchema)]
pub struct Item<T> {
    pub data: T,
}

/// For `page` and `per_page` (`#[serde(default, deserialize_with = "page_number")]`): any integer,
/// however large, parses, so that an out-of-range one is a 422 from [`PageRequest::new`] rather
/// than a parse error; what is not an integer at all is a 400.
pub fn page_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    let text = String::deserialize(deserializer)?;
    let digits = text.strip_prefix('-').unwrap_or(&text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(serde::de::Error::custom(format!("`{text}` is not a whole number")));
    }
    Ok(Some(text.parse().unwrap_or(if text.starts_with('-') { i64::MIN } else { i64::MAX })))
}

/// Orders of the authors and tags lists.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
pub enum DirectorySort {
    #[default]
    #[serde(rename = "name")]
    Name,
    #[serde(rename = "-article_count")]
    MostArticles,
}
