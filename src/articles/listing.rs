//! The public article list's query language: filters, sort orders, page-number and keyset
//! (cursor) pagination, light or full items, field selection, and the RFC 8288 `Link` header.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::search::MAX_SEARCH_WORDS;
use crate::error::{ApiError, Validator};
use crate::pagination::PageRequest;
use crate::slugs;

/// Filters of the public list (see [`ListRequest`] for the query parameters).
#[derive(Debug, Clone, Default)]
pub struct PublicFilter {
    /// Tag slugs: articles with any of them.
    pub any_tags: Vec<String>,
    /// Tag slugs: articles with all of them.
    pub all_tags: Vec<String>,
    /// An author slug.
    pub author: Option<String>,
    pub featured: Option<bool>,
    pub published_after: Option<NaiveDateTime>,
    pub published_before: Option<NaiveDateTime>,
}

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
    /// with depth. A cursor carries its sort order, which wins over `sort`, and replaces `page`.
    #[param(pattern = r"^([nou]\.-?[0-9]{1,17}\.[0-9]{1,18}|t\.([0-9a-f]{2}){0,800}\.[0-9]{1,18}|r\.[0-9]{1,10})$")]
    pub cursor: Option<String>,
    /// Tag slugs, comma-separated (at most 10): articles with any of them.
    #[param(pattern = "^[^,]*(,[^,]*){0,9}$", example = "open-source,rust")]
    pub tag: Option<String>,
    /// Tag slugs, comma-separated (at most 10): articles with all of them.
    #[param(pattern = "^[^,]*(,[^,]*){0,9}$")]
    pub tag_all: Option<String>,
    /// An author slug.
    #[param(example = "ada-lovelace")]
    pub author: Option<String>,
    /// Only featured (or only not featured) articles.
    pub featured: Option<bool>,
    /// Published at or after this time (RFC 3339). Stored times are years 1 to 9999 (UTC), so a
    /// time beyond them selects what the nearest end would.
    pub published_after: Option<DateTime<Utc>>,
    /// Published before this time (RFC 3339); beyond years 1 to 9999 as for `published_after`.
    pub published_before: Option<DateTime<Utc>>,
    /// Words to find in the title, excerpt or body (all of them; case and accents ignored). Pair
    /// with `sort=relevance` for the best matches first. Text without a letter or digit finds
    /// nothing; a repeated word counts once, and words after the tenth different one are ignored.
    #[param(max_length = 200, example = "analytical engine")]
    pub q: Option<String>,
    /// The order; newest first by default. `title` ignores case and accents.
    #[param(inline)]
    pub sort: Option<Sort>,
    /// `body` adds `body_html` to every item (lists are light by default; `fields=` can ask for
    /// `body_text` too).
    #[param(inline)]
    pub include: Option<Include>,
    /// Comma-separated fields to return for each item, e.g. `slug,title,published_at`.
    #[param(
        pattern = "^(slug|title|excerpt|published_at|updated_at|featured|cover_image|cover_image_url|cover_image_alt|word_count|reading_time_minutes|comment_count|author|authors|tags|body_html|body_text)(,(slug|title|excerpt|published_at|updated_at|featured|cover_image|cover_image_url|cover_image_alt|word_count|reading_time_minutes|comment_count|author|authors|tags|body_html|body_text))*$",
        example = "slug,title,published_at"
    )]
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
    /// Best matches of `q` first (without `q`: newest first).
    #[serde(rename = "relevance")]
    Relevance,
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

impl Cursor {
    /// `<order>.<key>.<id>`: `n`, `o` or `u` (newest, oldest, recently updated) with the key in
    /// microseconds since 1970; `t` (title) with the title's sort key in hex; `r.<offset>` for
    /// relevance. Any text of that shape is a valid position, so that the pattern in the OpenAPI
    /// document and the server agree exactly; clients are to treat it as opaque all the same.
    pub fn encode(&self) -> String {
        match (&self.key, self.sort) {
            (CursorKey::Offset(offset), _) => format!("r.{offset}"),
            (CursorKey::Text(title), _) => {
                let hex = base16ct::lower::encode_string(title.as_bytes());
                format!("t.{hex}.{}", self.id)
            }
            (CursorKey::Time(time), sort) => {
                let code = match sort {
                    Sort::OldestFirst => 'o',
                    Sort::RecentlyUpdated => 'u',
                    _ => 'n',
                };
                format!("{code}.{}.{}", time.and_utc().timestamp_micros(), self.id)
            }
        }
    }

    pub fn decode(text: &str) -> Result<Self, ApiError> {
        let malformed =
            || ApiError::BadRequest("the `cursor` parameter is malformed: use a `next_cursor` as given".into());
        // At most `max_digits` ASCII digits, after an optional minus sign when `signed`.
        let number = |text: &str, max_digits: usize, signed: bool| -> Result<i64, ApiError> {
            let digits = if signed { text.strip_prefix('-').unwrap_or(text) } else { text };
            if digits.is_empty() || digits.len() > max_digits || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(malformed());
            }
            text.parse().map_err(|_| malformed())
        };
        let parts: Vec<&str> = text.split('.').collect();
        match parts[..] {
            ["r", offset] => {
                Ok(Self { sort: Sort::Relevance, key: CursorKey::Offset(number(offset, 10, false)?), id: 0 })
            }
            ["t", hex, id] if hex.len() % 2 == 0 && hex.len() <= 1600 => {
                let bytes = hex
                    .as_bytes()
                    .chunks(2)
                    .map(|pair| {
                        let lower_hex = pair.iter().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b));
                        let pair = std::str::from_utf8(pair).ok().filter(|_| lower_hex).ok_or_else(malformed)?;
                        u8::from_str_radix(pair, 16).map_err(|_| malformed())
                    })
                    .collect::<Result<Vec<u8>, ApiError>>()?;
                let title = String::from_utf8_lossy(&bytes).into_owned();
                Ok(Self { sort: Sort::Title, key: CursorKey::Text(title), id: number(id, 18, false)? })
            }
            [code @ ("n" | "o" | "u"), micros, id] => {
                let sort = match code {
                    "o" => Sort::OldestFirst,
                    "u" => Sort::RecentlyUpdated,
                    _ => Sort::NewestFirst,
                };
                let time =
                    DateTime::from_timestamp_micros(number(micros, 17, true)?).ok_or_else(malformed)?.naive_utc();
                Ok(Self { sort, key: CursorKey::Time(time), id: number(id, 18, false)? })
            }
            _ => Err(malformed()),
        }
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
    "cover_image",
    "cover_image_url",
    "cover_image_alt",
    "word_count",
    "reading_time_minutes",
    "comment_count",
    "author",
    "authors",
    "tags",
    "body_html",
    "body_text",
];

/// Comma-separated slugs; at most [`MAX_FILTER_TAGS`] entries, counted as the pattern in the
/// document counts them (empty ones included, then dropped).
fn slug_list(field: &str, raw: Option<String>, v: &mut Validator) -> Vec<String> {
    let raw = raw.unwrap_or_default();
    v.check(raw.split(',').count() <= MAX_FILTER_TAGS, field, format!("at most {MAX_FILTER_TAGS} tags"));
    raw.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()
}

impl ListRequest {
    pub fn from_query(query: ArticleListQuery) -> Result<Self, ApiError> {
        let fields = query.fields.map(|raw| raw.split(',').map(str::to_string).collect::<Vec<_>>());
        if let Some(unknown) = fields.iter().flatten().find(|f| !ITEM_FIELDS.contains(&f.as_str())) {
            return Err(ApiError::BadRequest(format!(
                "unknown field `{unknown}` in `fields`; expected some of {}",
                ITEM_FIELDS.join(", ")
            )));
        }
        let cursor = query.cursor.as_deref().map(Cursor::decode).transpose()?;
        // A cursor carries its order.
        let sort = cursor.as_ref().map(|c| c.sort).or(query.sort).unwrap_or(Sort::NewestFirst);
        let mut v = Validator::new();
        let any_tags = slug_list("tag", query.tag, &mut v);
        let all_tags = slug_list("tag_all", query.tag_all, &mut v);
        if let Some(q) = &query.q {
            v.chars("q", q, 0, 200);
        }
        // Text without words searches for nothing: an empty result, not an error.
        let search = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty()).map(search_words);
        let page = PageRequest::new(query.page, query.per_page)?;
        v.finish()?;
        let window = match cursor {
            Some(cursor) => Window::After { per_page: page.per_page, cursor: Some(cursor) },
            None => Window::Page(page),
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
                published_after: query.published_after.map(crate::db::within_stored_times),
                published_before: query.published_before.map(crate::db::within_stored_times),
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

/// The words of a search: letters and digits, lowercased, each once, the first
/// [`MAX_SEARCH_WORDS`] of them. Both backends then match all of them (SQLite FTS5 phrases,
/// PostgreSQL `plainto_tsquery`), so no query syntax reaches either engine.
pub fn search_words(q: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for word in q.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase) {
        // A repeated word asks nothing more, but would cost as much again.
        if !words.contains(&word) {
            words.push(word);
        }
        if words.len() == MAX_SEARCH_WORDS {
            break;
        }
    }
    words
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
            Cursor { sort: Sort::Relevance, key: CursorKey::Offset(20), id: 0 },
            Cursor { sort: Sort::OldestFirst, key: CursorKey::Time(time - chrono::Duration::days(30_000)), id: 1 },
        ] {
            assert_eq!(Cursor::decode(&cursor.encode()).unwrap(), cursor);
        }
        for garbage in [
            "",
            "!!!",
            "e30",
            "n.1",
            "n.1.2.3",
            "t.abc.1",
            "t.ZZ.1",
            "r.-1",
            "n.1.-2",
            "x.1.2",
            "n.123456789012345678.1",
        ] {
            assert!(Cursor::decode(garbage).is_err(), "{garbage}");
        }
    }

    #[test]
    fn search_words_are_distinct_and_bounded() {
        assert_eq!(search_words("The engine, the ENGINE; the engine!"), ["the", "engine"]);
        let many: Vec<String> = (0..30).map(|i| format!("w{i}")).collect();
        let words = search_words(&many.join(" "));
        assert_eq!(words.len(), MAX_SEARCH_WORDS);
        assert_eq!(words, many[..MAX_SEARCH_WORDS]);
        assert!(search_words(" -- ").is_empty());
    }
}
