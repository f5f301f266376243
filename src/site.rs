//! The front end's addresses: its origin (`MASTHEAD_SITE_URL`) and the paths at which it shows an
//! article, a tag or an author. The API serves JSON; the sitemap and the redirect table speak in
//! the front end's URLs, written here from these templates.

use chrono::{Datelike, NaiveDateTime};

/// Most URLs in one sitemap file, by the sitemaps.org protocol.
pub const SITEMAP_MAX_URLS: usize = 50_000;

/// What the front end looks like from outside.
#[derive(Clone, Debug)]
pub struct SiteSettings {
    /// The front end's origin (and path prefix), without a trailing slash; `None` until set, and
    /// then no sitemap is served.
    pub url: Option<String>,
    pub article_path: PathTemplate,
    pub tag_path: PathTemplate,
    pub author_path: PathTemplate,
    /// URLs per sitemap file: past this many the sitemap becomes an index of numbered parts.
    pub sitemap_part_urls: usize,
}

impl Default for SiteSettings {
    fn default() -> Self {
        Self {
            url: None,
            article_path: PathTemplate::parse("/{slug}", true).expect("a valid default"),
            tag_path: PathTemplate::parse("/tag/{slug}", false).expect("a valid default"),
            author_path: PathTemplate::parse("/author/{slug}", false).expect("a valid default"),
            sitemap_part_urls: SITEMAP_MAX_URLS,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Text(String),
    Slug,
    Year,
    Month,
    Day,
}

/// A path with placeholders: `{slug}` always, and for articles `{year}`, `{month}` and `{day}` of
/// their publication (`/{year}/{month}/{slug}/`, as WordPress permalinks often are).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathTemplate {
    parts: Vec<Part>,
}

impl PathTemplate {
    /// Checks a template: a path (`/…`), `{slug}` exactly once, dates only where `dated`, no
    /// query, fragment, space or other placeholder.
    pub fn parse(raw: &str, dated: bool) -> Result<Self, String> {
        if !raw.starts_with('/') || raw.starts_with("//") {
            return Err(format!("`{raw}` must be a path starting with one `/`"));
        }
        if raw.chars().any(|c| c.is_whitespace() || c.is_control() || c == '?' || c == '#') {
            return Err(format!("`{raw}` must be a path without spaces, a query or a fragment"));
        }
        let mut parts = Vec::new();
        let mut rest = raw;
        while let Some(start) = rest.find('{') {
            if start > 0 {
                parts.push(Part::Text(rest[..start].to_string()));
            }
            let end = rest[start..].find('}').ok_or_else(|| format!("`{raw}` has a `{{` without its `}}`"))? + start;
            parts.push(match &rest[start + 1..end] {
                "slug" => Part::Slug,
                "year" if dated => Part::Year,
                "month" if dated => Part::Month,
                "day" if dated => Part::Day,
                other => {
                    let known = if dated { "{slug}, {year}, {month} and {day}" } else { "{slug}" };
                    return Err(format!("`{raw}`: `{{{other}}}` is not a placeholder here (only {known})"));
                }
            });
            rest = &rest[end + 1..];
        }
        if rest.contains('}') {
            return Err(format!("`{raw}` has a `}}` without its `{{`"));
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        if parts.iter().filter(|part| **part == Part::Slug).count() != 1 {
            return Err(format!("`{raw}` must hold `{{slug}}` exactly once"));
        }
        Ok(Self { parts })
    }

    /// The path of `slug`, dated by `published_at` (an article's; tags and authors have none).
    pub fn path(&self, slug: &str, published_at: Option<NaiveDateTime>) -> String {
        let mut path = String::with_capacity(64);
        for part in &self.parts {
            let date = published_at.unwrap_or_default();
            match part {
                Part::Text(text) => path.push_str(text),
                Part::Slug => path.push_str(slug),
                Part::Year => path.push_str(&format!("{:04}", date.year())),
                Part::Month => path.push_str(&format!("{:02}", date.month())),
                Part::Day => path.push_str(&format!("{:02}", date.day())),
            }
        }
        path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_write_paths_and_refuse_what_they_cannot() {
        let date = chrono::NaiveDate::from_ymd_opt(2016, 1, 9).unwrap().and_hms_opt(8, 0, 0);
        let dated = PathTemplate::parse("/{year}/{month}/{day}/{slug}/", true).unwrap();
        assert_eq!(dated.path("hello", date), "/2016/01/09/hello/");
        assert_eq!(PathTemplate::parse("/tag/{slug}", false).unwrap().path("rust", None), "/tag/rust");
        for bad in ["tag/{slug}", "//x/{slug}", "/{slug}/{slug}", "/x", "/{year}/{slug}?a", "/{slug", "/{id}/{slug}"] {
            assert!(PathTemplate::parse(bad, true).is_err(), "{bad}");
        }
        assert!(PathTemplate::parse("/{year}/{slug}", false).is_err());
    }
}
