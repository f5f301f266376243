//! The public article list's query language: filters, sort orders, page-number and keyset
//! (cursor) pagination, light or full items, field selection, and the RFC 8288 `Link` header.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::store::PublicFilter;
use crate::error::{ApiError, Validator};
use crate::pagination::PageRequest;
use crate::slugs;

/// Most tags in one `tag` or `tag_all` filter.
pub const MAX_FILTER_TAGS: usize = 10;

/// `GET /api/v1/articles` parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ArticleListQuery {
    /// Page number, from 1 (page-number pagination; not with `cursor`).
    #[param(minimum = 1, maximum = 1000000000, default = 1)]
    #[serde(default, deserialize_with = "crate::pagination::page_number")]
    pub page: Option<i64>,
    /// Articles per page.
    #[param(minimum = 1, maximum = 100, default = 20)]
    #[serde(default, deserialize_with = "crate::pagination::page_number")]
    pub per_page: Option<i64>,
    /// Keyset pagination: `meta.next_cursor` of the previous page (opaque). Its cost does not grow
    /// with depth. Not with `page`; keep the same `sort`.
    pub cursor: Option<String>,
    /// Tag slugs, comma-separated: articles with any of them.
    #[param(example = "open-source,rust")]
    pub tag: Option<String>,
    /// Tag slugs, comma-separated: articles with all of them.
    pub tag_all: Option<String>,
    /// An author slug.
    #[param(example = "ada-lovelace")]
    pub author: Option<String>,
    /// Only featured (or only not featured) articles.
    pub featured: Option<bool>,
    /// Published at or after this time (RFC 3339).
    pub published_after: Option<DateTime<Utc>>,
    /// Published before this time (RFC 3339).
    pub published_before: Option<DateTime<Utc>>,
    /// Words to find in the title, excerpt or body (all of them; case and accents ignored on
    /// SQLite, case on PostgreSQL). Pair with `sort=relevance` for the best matches first.
    #[param(max_length = 200, example = "analytical engine")]
    pub q: Option<String>,
    /// The order; newest first by default.
    #[param(inline)]
    pub sort: Option<Sort>,
    /// `body` adds `body_html` to every item (lists are light by default; `fields=` can ask for
    /// `body_text` too).
    #[param(inline)]
    pub include: Option<Include>,
    /// Comma-separated fields to return for each item, e.g. `slug,title,published_at`.
    #[param(example = "slug,title,published_at")]
    pub fields: Option<String>,
}

/// Orders of the public list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum Sort {
    #[serde(rename = "-published_at")]
    NewestFirst,
    #[serde(rename = "published_at")]
    OldestFirst,
    #[serde(rename = "title")]
    Title,
    #[serde(rename = "-updated_at")]
    RecentlyUpdated,
    /// Best matches of `q` first (only with `q`).
    #[serde(rename = "relevance")]
    Relevance,
}

impl Sort {
    fn as_str(self) -> &'static str {
        match self {
            Self::NewestFirst => "-published_at",
            Self::OldestFirst => "published_at",
            Self::Title => "title",
            Self::RecentlyUpdated => "-updated_at",
            Self::Relevance => "relevance",
        }
    }
}

/// What list items include beyond the summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Include {
    Body,
}

/// Where a keyset page starts: after the item with this sort key and id.
#[derive(Debug, Clone, PartialEq)]
pub struct Cursor {
    pub sort: Sort,
    pub key: CursorKey,
    pub id: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CursorKey {
    Time(NaiveDateTime),
    Text(String),
    /// Relevance has no stable key to seek from: its cursor is a position.
    Offset(i64),
}

#[derive(Serialize, Deserialize)]
struct CursorWire {
    s: Sort,
    #[serde(skip_serializing_if = "Option::is_none")]
    t: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    k: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    o: Option<i64>,
    i: i64,
}

impl Cursor {
    pub fn encode(&self) -> String {
        let (t, k, o) = match &self.key {
            CursorKey::Time(time) => (Some(time.and_utc().timestamp_micros()), None, None),
            CursorKey::Text(text) => (None, Some(text.clone()), None),
            CursorKey::Offset(offset) => (None, None, Some(*offset)),
        };
        let json = serde_json::to_vec(&CursorWire { s: self.sort, t, k, o, i: self.id }).unwrap_or_default();
        URL_SAFE_NO_PAD.encode(json)
    }

    pub fn decode(text: &str) -> Result<Self, ApiError> {
        let malformed =
            || ApiError::BadRequest("the `cursor` parameter is malformed: use a `next_cursor` as given".into());
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| malformed())?;
        let wire: CursorWire = serde_json::from_slice(&bytes).map_err(|_| malformed())?;
        let key = match (wire.t, wire.k, wire.o) {
            (Some(micros), None, None) => {
                CursorKey::Time(DateTime::from_timestamp_micros(micros).ok_or_else(malformed)?.naive_utc())
            }
            (None, Some(text), None) => CursorKey::Text(text),
            (None, None, Some(offset)) if offset >= 0 => CursorKey::Offset(offset),
            _ => return Err(malformed()),
        };
        let fits = match wire.s {
            Sort::Title => matches!(key, CursorKey::Text(_)),
            Sort::Relevance => matches!(key, CursorKey::Offset(_)),
            _ => matches!(key, CursorKey::Time(_)),
        };
        if !fits {
            return Err(malformed());
        }
        Ok(Self { sort: wire.s, key, id: wire.i })
    }
}

/// Which slice of the list to return.
#[derive(Debug, Clone)]
pub enum Window {
    /// Page-number pagination, with totals.
    Page(PageRequest),
    /// Keyset pagination: the first page (`None`) or the one after a cursor.
    After { per_page: i64, cursor: Option<Cursor> },
}

impl Window {
    pub fn per_page(&self) -> i64 {
        match self {
            Self::Page(page) => page.per_page,
            Self::After { per_page, .. } => *per_page,
        }
    }
}

/// A checked list request.
#[derive(Debug, Clone)]
pub struct ListRequest {
    pub filter: PublicFilter,
    /// The words of `q`, for full-text search.
    pub search: Option<Vec<String>>,
    pub sort: Sort,
    pub window: Window,
    /// Add `body_html` to each item.
    pub include_body: bool,
    /// Add `body_text` to each item (asked for through `fields=`).
    pub include_text: bool,
    /// The fields to keep in each item; `None`: all.
    pub fields: Option<Vec<String>>,
}

/// Fields a list item can have (`fields=` picks among them).
pub const ITEM_FIELDS: &[&str] = &[
    "slug",
    "title",
    "excerpt",
    "published_at",
    "updated_at",
    "featured",
    "cover_image_url",
    "cover_image_alt",
    "word_count",
    "reading_time_minutes",
    "author",
    "authors",
    "tags",
    "body_html",
    "body_text",
];

fn slug_list(field: &str, raw: Option<String>, v: &mut Validator) -> Vec<String> {
    let list: Vec<String> =
        raw.unwrap_or_default().split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
    v.check(list.len() <= MAX_FILTER_TAGS, field, format!("at most {MAX_FILTER_TAGS} tags"));
    list
}

impl ListRequest {
    pub fn from_query(query: ArticleListQuery) -> Result<Self, ApiError> {
        if query.page.is_some() && query.cursor.is_some() {
            return Err(ApiError::BadRequest("use either `page` or `cursor`, not both".into()));
        }
        let fields = query
            .fields
            .map(|raw| raw.split(',').map(|f| f.trim().to_string()).filter(|f| !f.is_empty()).collect::<Vec<_>>());
        if let Some(unknown) = fields.iter().flatten().find(|f| !ITEM_FIELDS.contains(&f.as_str())) {
            return Err(ApiError::BadRequest(format!(
                "unknown field `{unknown}` in `fields`; expected some of {}",
                ITEM_FIELDS.join(", ")
            )));
        }
        let sort = query.sort.unwrap_or(Sort::NewestFirst);
        let mut v = Validator::new();
        let any_tags = slug_list("tag", query.tag, &mut v);
        let all_tags = slug_list("tag_all", query.tag_all, &mut v);
        let search = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty()).map(|q| {
            v.chars("q", q, 1, 200);
            let words = search_words(q);
            v.check(!words.is_empty(), "q", "must contain a word");
            v.check(words.len() <= 20, "q", "at most 20 words");
            words
        });
        if sort == Sort::Relevance && search.is_none() {
            return Err(ApiError::BadRequest("`sort=relevance` needs a `q` to be relevant to".into()));
        }
        let page = PageRequest::new(query.page, query.per_page)?;
        v.finish()?;
        let cursor = query.cursor.as_deref().map(Cursor::decode).transpose()?;
        if let Some(cursor) = &cursor
            && cursor.sort != sort
        {
            return Err(ApiError::BadRequest(format!(
                "this cursor belongs to `sort={}`; keep the sort of the page it came from",
                cursor.sort.as_str()
            )));
        }
        let window = match (query.page, cursor) {
            (None, cursor @ Some(_)) => Window::After { per_page: page.per_page, cursor },
            _ => Window::Page(page),
        };
        let wants_text = fields.as_ref().is_some_and(|f| f.iter().any(|f| f == "body_text"));
        let wants_html = fields.as_ref().is_some_and(|f| f.iter().any(|f| f == "body_html"));
        Ok(Self {
            filter: PublicFilter {
                // Something that is not a slug matches nothing; keep it so the result is empty.
                any_tags: any_tags
                    .into_iter()
                    .map(|t| if slugs::is_valid_slug(&t) { t } else { String::new() })
                    .collect(),
                all_tags,
                author: query.author,
                featured: query.featured,
                published_after: query.published_after.map(|t| t.naive_utc()),
                published_before: query.published_before.map(|t| t.naive_utc()),
            },
            search,
            sort,
            window,
            include_body: query.include == Some(Include::Body) || wants_html,
            include_text: wants_text,
            fields,
        })
    }
}

/// The words of a search: letters and digits, lowercased. Both backends then match all of them
/// (SQLite FTS5 phrases, PostgreSQL `plainto_tsquery`), so no query syntax reaches either engine.
pub fn search_words(q: &str) -> Vec<String> {
    q.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

/// `meta` of an article list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArticleListMeta {
    /// Page-number pagination only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<i64>,
    pub per_page: i64,
    /// Page-number pagination only: articles in the whole list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_pages: Option<i64>,
    /// Present when more articles follow: pass it as `cursor` for the next page.
    pub next_cursor: Option<String>,
}

/// The RFC 8288 `Link` header of a list page: `next`, `prev`, `first`, `last` where known.
pub fn link_header(path: &str, query: &str, window: &Window, next: Option<&str>, total_pages: Option<i64>) -> String {
    let kept: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .filter(|(name, _)| name != "page" && name != "cursor")
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect();
    let url = |extra: Option<(&str, String)>| {
        let mut serializer = form_urlencoded::Serializer::new(String::new());
        for (name, value) in &kept {
            serializer.append_pair(name, value);
        }
        if let Some((name, value)) = extra {
            serializer.append_pair(name, &value);
        }
        let query = serializer.finish();
        if query.is_empty() { path.to_string() } else { format!("{path}?{query}") }
    };
    let mut links = Vec::new();
    if let Some(next) = next {
        links.push(format!("<{}>; rel=\"next\"", url(Some(("cursor", next.to_string())))));
    }
    if let Window::Page(page) = window
        && page.page > 1
    {
        links.push(format!("<{}>; rel=\"prev\"", url(Some(("page", (page.page - 1).to_string())))));
    }
    links.push(format!("<{}>; rel=\"first\"", url(None)));
    if let Some(last) = total_pages.filter(|last| *last > 1) {
        links.push(format!("<{}>; rel=\"last\"", url(Some(("page", last.to_string())))));
    }
    links.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_garbage() {
        let time = DateTime::from_timestamp_micros(1_700_000_000_123_456).unwrap().naive_utc();
        for cursor in [
            Cursor { sort: Sort::NewestFirst, key: CursorKey::Time(time), id: 42 },
            Cursor { sort: Sort::Title, key: CursorKey::Text("Ünïcode, “quotes”".into()), id: 7 },
            Cursor { sort: Sort::Relevance, key: CursorKey::Offset(20), id: 3 },
        ] {
            assert_eq!(Cursor::decode(&cursor.encode()).unwrap(), cursor);
        }
        for garbage in ["", "!!!", "e30", &URL_SAFE_NO_PAD.encode(br#"{"s":"title","t":1,"i":1}"#)] {
            assert!(Cursor::decode(garbage).is_err(), "{garbage}");
        }
    }
}
