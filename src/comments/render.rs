//! Comment bodies: plain text with light Markdown (emphasis, links, code), rendered to HTML that
//! keeps only those elements. Whatever a reader types, no markup of theirs reaches a page: raw HTML
//! is dropped before rendering, and the sanitizer allows a handful of tags, `http`, `https` and
//! `mailto` links only, and marks links `nofollow ugc`.

use std::collections::HashSet;
use std::sync::LazyLock;

use crate::markdown::markdown_events;

/// The elements light Markdown produces and comments keep; everything else is reduced to its text.
const ALLOWED_TAGS: [&str; 8] = ["p", "br", "em", "strong", "a", "code", "pre", "blockquote"];

static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::empty();
    builder
        .tags(HashSet::from(ALLOWED_TAGS))
        .tag_attributes([("a", HashSet::from(["href"]))].into())
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        // `//host/path` would be an off-site link that the link limit does not count.
        .url_relative(ammonia::UrlRelative::Deny)
        .link_rel(Some("nofollow ugc noopener noreferrer"))
        .clean_content_tags(HashSet::from(["script", "style"]));
    builder
});

/// The sanitized HTML of a comment body.
pub fn render_comment(body: &str) -> String {
    let mut html = String::with_capacity(body.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, markdown_events(body));
    SANITIZER.clean(&html).to_string()
}

#[cfg(test)]
mod tests {
    use super::render_comment;

    #[test]
    fn keeps_light_markdown_and_nothing_else() {
        let html = render_comment("*so* **true**, see [this](https://example.com) and `code`");
        assert!(html.contains("<em>so</em>"), "{html}");
        assert!(html.contains("<strong>true</strong>"), "{html}");
        assert!(
            html.contains("<a href=\"https://example.com\" rel=\"nofollow ugc noopener noreferrer\">this</a>"),
            "{html}"
        );
        assert!(html.contains("<code>code</code>"), "{html}");
        let html = render_comment("# Big\n\n![x](https://example.com/x.png)\n\n- item");
        assert!(!html.contains("<h1") && !html.contains("<img") && !html.contains("<li"), "{html}");
        assert!(html.contains("Big") && html.contains("item"), "{html}");
        let html = render_comment("[x](//spam.example) [y](/local)");
        assert!(!html.contains("href"), "{html}");
    }
}
