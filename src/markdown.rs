//! From Markdown to what readers get: sanitized HTML, plain text, a word count, an excerpt and a
//! reading time. Rendering happens once per write, never per read.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

/// Words per minute for `reading_time_minutes`.
const READING_WORDS_PER_MINUTE: i32 = 200;
/// Longest derived excerpt, in characters (before the ellipsis).
const DERIVED_EXCERPT_CHARS: usize = 200;

/// Deepest nesting of blocks and inline markup accepted. The HTML sanitizer's time grows with the
/// square of the depth, so without a bound one small body could hold a worker for minutes.
pub const MAX_NESTING: usize = 32;

/// The stored renderings of an article body.
pub struct Rendered {
    /// HTML from the Markdown only (raw HTML in the Markdown is dropped), then sanitized: scripts,
    /// event handlers and `javascript:` or `data:` links never survive.
    pub html: String,
    /// The words a reader sees, for word counts and search.
    pub text: String,
    /// The start of the first paragraph (headings skipped), for articles without a written excerpt.
    pub derived_excerpt: String,
    pub word_count: i32,
}

fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_FOOTNOTES
}

/// The Markdown's events without raw HTML, nor the text inside raw `<script>` or `<style>` tags.
/// Shared with comments, whose light Markdown must drop raw HTML the same way.
pub fn markdown_events(markdown: &str) -> impl Iterator<Item = Event<'_>> {
    let mut inside_script = false;
    Parser::new_ext(markdown, options()).filter(move |event| match event {
        Event::Html(_) => false,
        Event::InlineHtml(tag) => {
            let tag = tag.trim_start().to_ascii_lowercase();
            if tag.starts_with("<script") || tag.starts_with("<style") {
                inside_script = true;
            } else if tag.starts_with("</script") || tag.starts_with("</style") {
                inside_script = false;
            }
            false
        }
        Event::Text(_) | Event::Code(_) => !inside_script,
        _ => true,
    })
}

/// How deeply the Markdown nests (lists in lists, quotes in quotes, emphasis in emphasis…).
pub fn nesting_depth(markdown: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    for event in Parser::new_ext(markdown, options()) {
        match event {
            Event::Start(_) => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            Event::End(_) => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

pub fn render(markdown: &str) -> Rendered {
    let mut unsafe_html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut unsafe_html, markdown_events(markdown));
    let html = ammonia::clean(&unsafe_html);
    let (text, first_paragraph) = plain_text(markdown);
    let derived_excerpt =
        shorten(first_paragraph.as_deref().unwrap_or_else(|| text.split("\n\n").next().unwrap_or("")));
    // A word has a letter or a digit: dashes and bullets standing alone do not count.
    let word_count = text.split_whitespace().filter(|w| w.chars().any(char::is_alphanumeric)).count();
    let word_count = word_count.min(i32::MAX as usize) as i32;
    Rendered { html, text, derived_excerpt, word_count }
}

/// The text of the Markdown without markup (blocks end with a blank line), and the text of its
/// first paragraph.
fn plain_text(markdown: &str) -> (String, Option<String>) {
    let mut text = String::with_capacity(markdown.len());
    let mut first_paragraph: Option<(usize, Option<usize>)> = None;
    for event in markdown_events(markdown) {
        match &event {
            Event::Start(Tag::Paragraph) if first_paragraph.is_none() => first_paragraph = Some((text.len(), None)),
            Event::End(TagEnd::Paragraph) => {
                if let Some((start, end @ None)) = &mut first_paragraph {
                    *end = Some(text.len().max(*start));
                }
            }
            _ => {}
        }
        match event {
            Event::Text(t) | Event::Code(t) => text.push_str(&t),
            Event::SoftBreak => text.push(' '),
            Event::HardBreak => text.push('\n'),
            Event::Start(Tag::Item) if !text.is_empty() && !text.ends_with('\n') => text.push('\n'),
            Event::End(
                TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::CodeBlock | TagEnd::BlockQuote(_) | TagEnd::List(_),
            ) => {
                text.truncate(text.trim_end().len());
                text.push_str("\n\n");
            }
            Event::End(TagEnd::TableCell) => text.push(' '),
            Event::End(TagEnd::TableRow | TagEnd::TableHead) => text.push('\n'),
            _ => {}
        }
    }
    let paragraph = first_paragraph.and_then(|(start, end)| Some(text.get(start..end?)?.to_string()));
    (text.trim().to_string(), paragraph)
}

/// Whitespace collapsed, cut at a word boundary after at most DERIVED_EXCERPT_CHARS characters.
fn shorten(text: &str) -> String {
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.chars().count() <= DERIVED_EXCERPT_CHARS {
        return collapsed;
    }
    let cut: String = collapsed.chars().take(DERIVED_EXCERPT_CHARS).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
    format!("{}…", cut.trim_end_matches(|c: char| c.is_ascii_punctuation()))
}

/// Whole minutes, at least one for any text at all.
pub fn reading_time_minutes(word_count: i32) -> i32 {
    if word_count <= 0 { 0 } else { (word_count + READING_WORDS_PER_MINUTE - 1) / READING_WORDS_PER_MINUTE }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_sanitizes_and_counts() {
        let r = render("# Title\n\nHello *“world”* — <script>alert(1)</script> [x](javascript:alert(1))\n");
        assert!(r.html.contains("<h1>Title</h1>"));
        assert!(r.html.contains("<em>“world”</em> —"));
        assert!(!r.html.contains("script") && !r.html.contains("javascript"), "{}", r.html);
        assert_eq!(r.text, "Title\n\nHello “world” —  x");
        assert_eq!(r.word_count, 4);
    }

    #[test]
    fn derives_excerpts_from_the_first_paragraph() {
        assert_eq!(render("# Heading\n\nFirst  para.\n\nSecond.").derived_excerpt, "First para.");
        assert_eq!(render("# Only a heading").derived_excerpt, "Only a heading");
        assert_eq!(render("").derived_excerpt, "");
        let derived = render(&"word ".repeat(100)).derived_excerpt;
        assert!(derived.ends_with("word…") && derived.chars().count() <= 201, "{derived}");
    }

    #[test]
    fn raw_html_is_dropped_and_nesting_is_measured() {
        let r = render("<div onclick=x>hi</div>\n\nText <b>bold</b> <img src=x onerror=alert(1)>");
        assert_eq!(r.html, "<p>Text bold </p>\n");
        assert_eq!(nesting_depth("plain"), 1);
        assert_eq!(nesting_depth("- a\n  - *b*"), 5);
        assert!(nesting_depth(&"> ".repeat(40)) > MAX_NESTING);
    }

    #[test]
    fn reading_time_rounds_up() {
        assert_eq!(reading_time_minutes(0), 0);
        assert_eq!(reading_time_minutes(1), 1);
        assert_eq!(reading_time_minutes(401), 3);
    }
}
