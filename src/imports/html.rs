//! Imported HTML to Markdown: the source's own markup undone first (WordPress's block comments,
//! its `[caption]` and other common shortcodes, the classic editor's bare paragraphs), then
//! `htmd`. The Markdown then goes through the same rendering and sanitising as any article.

/// The most HTML one imported text may hold (a post's Markdown may hold 200,000 characters).
const MAX_HTML_BYTES: usize = 4 * 1024 * 1024;
/// The deepest nesting of elements converted: the converter recurses once per level.
const MAX_HTML_DEPTH: usize = 200;
/// How far a shortcode's closing tag is looked for.
const SHORTCODE_REACH: usize = 256 * 1024;

/// Markdown for an imported post body, and the text before a `<!--more-->` (WordPress's teaser),
/// if there is one. Refused (with why) when too large or nested too deep to convert safely.
pub fn post_markdown(html: &str) -> Result<(String, Option<String>), String> {
    let html = html.replace("\r\n", "\n");
    let (html, teaser) = match html.split_once("<!--more-->") {
        Some((before, after)) => (format!("{before}\n\n{after}"), Some(plain_text(before)?)),
        None => (html, None),
    };
    let html = without_block_comments(&html);
    let html = shortcodes(&html);
    let html = paragraphs(&html);
    Ok((to_markdown(&html)?, teaser.filter(|t| !t.is_empty())))
}

/// HTML to Markdown, trimmed; refused when larger than 4 MiB or nested more than 200 deep.
pub fn to_markdown(html: &str) -> Result<String, String> {
    if html.len() > MAX_HTML_BYTES {
        return Err(format!("its HTML is larger than {} MiB", MAX_HTML_BYTES / 1024 / 1024));
    }
    if nesting(html) > MAX_HTML_DEPTH {
        return Err(format!("its HTML nests elements more than {MAX_HTML_DEPTH} deep"));
    }
    Ok(htmd::convert(html).unwrap_or_default().trim().to_string())
}

/// The text of some HTML, on one line.
pub fn plain_text(html: &str) -> Result<String, String> {
    let markdown = to_markdown(&paragraphs(&without_block_comments(html)))?;
    let rendered = crate::markdown::render(&markdown);
    Ok(rendered.text.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// How deep elements nest, counted without parsing: elements that have no end (`<br>`) or
/// whose end is often left out (`<p>`, `<li>`) do not count.
fn nesting(html: &str) -> usize {
    const UNCOUNTED: [&str; 27] = [
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr", "p",
        "li", "dt", "dd", "tr", "td", "th", "option", "optgroup", "thead", "tbody", "tfoot", "colgroup", "rt",
    ];
    let (mut depth, mut deepest) = (0usize, 0usize);
    let bytes = html.as_bytes();
    let mut at = 0;
    while let Some(offset) = bytes[at..].iter().position(|b| *b == b'<') {
        let start = at + offset + 1;
        at = start;
        match bytes.get(start) {
            Some(b'/') => depth = depth.saturating_sub(1),
            Some(b) if b.is_ascii_alphabetic() => {
                let name_end =
                    bytes[start..].iter().position(|b| !b.is_ascii_alphanumeric()).map_or(bytes.len(), |n| start + n);
                let name = html[start..name_end].to_ascii_lowercase();
                let tag_end = bytes[name_end..].iter().position(|b| *b == b'>').map_or(bytes.len(), |n| name_end + n);
                let self_closing = tag_end > 0 && bytes.get(tag_end - 1) == Some(&b'/');
                if !self_closing && !UNCOUNTED.contains(&name.as_str()) {
                    depth += 1;
                    deepest = deepest.max(depth);
                }
            }
            _ => {}
        }
    }
    deepest
}

/// The longest start of `text` of at most `max` bytes that ends on a character boundary.
fn within(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The block editor's `<!-- wp:… -->` and `<!-- /wp:… -->` comments, which carry no content.
fn without_block_comments(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find("<!--") {
        out.push_str(&rest[..start]);
        match rest[start..].find("-->") {
            Some(end) => rest = &rest[start + end + 3..],
            // Not a comment after all: kept as text.
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The common shortcodes as HTML: `[caption]` a figure with its caption, `[embed]`, `[audio]`
/// and `[video]` links; `[gallery]` and other shortcodes without content are dropped.
fn shortcodes(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find(['[', '<']) {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        if tail.starts_with('<') {
            // Code is shown as written: a shortcode in `<pre>` or `<code>` is an example of one.
            let length = code_length(tail).unwrap_or(1);
            out.push_str(&tail[..length]);
            rest = &tail[length..];
            continue;
        }
        let Some((name, attributes, after_open)) = opening(tail) else {
            out.push('[');
            rest = &tail[1..];
            continue;
        };
        let closing = format!("[/{name}]");
        let (inner, after) = match within(after_open, SHORTCODE_REACH).find(&closing) {
            Some(end) => (Some(&after_open[..end]), &after_open[end + closing.len()..]),
            None => (None, after_open),
        };
        match name {
            "caption" | "wp_caption" => {
                let inner = inner.unwrap_or_default();
                // The caption is the text after the image (or link around it).
                let split = inner.rfind("</a>").map(|i| i + 4).or_else(|| inner.find('>').map(|i| i + 1)).unwrap_or(0);
                let (media, caption) = inner.split_at(split);
                out.push_str(&format!("<figure>{media}<figcaption>{}</figcaption></figure>", caption.trim()));
            }
            "embed" => {
                let url = inner.unwrap_or_default().trim();
                out.push_str(&format!("<p><a href=\"{url}\">{url}</a></p>"));
            }
            "audio" | "video" => {
                let src = attribute(attributes, "src")
                    .or_else(|| attribute(attributes, "mp4"))
                    .or_else(|| attribute(attributes, "mp3"));
                if let Some(src) = src {
                    out.push_str(&format!("<p><a href=\"{src}\">{src}</a></p>"));
                }
            }
            "gallery" | "playlist" | "contact-form-7" => {}
            // An unknown shortcode: its content stays, its tags go.
            _ => out.push_str(inner.unwrap_or_default()),
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

/// The length of the `<pre>` or `<code>` element at the start of `text`, its end tag included
/// (all of `text` when it has none); `None` when `text` starts with another tag.
fn code_length(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let tag = ["pre", "code"].into_iter().find(|tag| {
        let after = 1 + tag.len();
        bytes.len() > after
            && bytes[1..after].eq_ignore_ascii_case(tag.as_bytes())
            && (bytes[after] == b'>' || bytes[after].is_ascii_whitespace())
    })?;
    let window = within(text, SHORTCODE_REACH);
    let mut from = 0;
    while let Some(at) = window[from..].find("</") {
        let start = from + at;
        let name = &window.as_bytes()[start + 2..];
        let ends = |byte: Option<&u8>| byte.is_none_or(|b| *b == b'>' || b.is_ascii_whitespace());
        if name.len() >= tag.len()
            && name[..tag.len()].eq_ignore_ascii_case(tag.as_bytes())
            && ends(name.get(tag.len()))
        {
            return Some(text[start..].find('>').map_or(text.len(), |close| start + close + 1));
        }
        from = start + 2;
    }
    Some(window.len())
}

/// `[name attributes]` at the start of `text`: the name, the attributes and what follows.
fn opening(text: &str) -> Option<(&str, &str, &str)> {
    // A shortcode's opening is short: looking further would make text full of `[` quadratic.
    let end = within(text, 2000).find(']')?;
    let inside = &text[1..end];
    let name_end = inside.find(|c: char| c.is_whitespace()).unwrap_or(inside.len());
    let name = &inside[..name_end];
    let known = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !name.is_empty()
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
    let shortcode = ["caption", "wp_caption", "embed", "audio", "video", "gallery", "playlist", "contact-form-7"];
    if !known || !shortcode.contains(&name) {
        return None;
    }
    Some((name, &inside[name_end..], &text[end + 1..]))
}

/// `key="value"` (or single quotes) in a shortcode's attributes.
fn attribute<'a>(attributes: &'a str, key: &str) -> Option<&'a str> {
    let at = attributes.find(&format!("{key}="))?;
    let rest = &attributes[at + key.len() + 1..];
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value = &rest[1..];
    value.find(quote).map(|end| &value[..end])
}

/// The classic editor stores paragraphs as text separated by blank lines (WordPress adds the
/// `<p>` when it shows them): each such block of text becomes a paragraph, its single line
/// breaks `<br>`. Blocks that start with a block-level tag stay as they are.
fn paragraphs(html: &str) -> String {
    // The block editor and most HTML have their paragraphs already (and `<pre>` keeps its lines).
    let lower = html.to_ascii_lowercase();
    if lower.contains("<p>") || lower.contains("<p ") || lower.contains("<pre") {
        return html.to_string();
    }
    const BLOCKS: [&str; 19] = [
        "<p",
        "<div",
        "<h1",
        "<h2",
        "<h3",
        "<h4",
        "<h5",
        "<h6",
        "<ul",
        "<ol",
        "<blockquote",
        "<figure",
        "<pre",
        "<table",
        "<hr",
        "<iframe",
        "<dl",
        "<section",
        "<li",
    ];
    html.split("\n\n")
        .map(str::trim)
        .filter(|block| !block.is_empty())
        .map(|block| {
            let lower = block.to_ascii_lowercase();
            if BLOCKS.iter().any(|tag| lower.starts_with(tag)) {
                block.to_string()
            } else {
                format!("<p>{}</p>", block.replace('\n', "<br>\n"))
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wordpress_markup_becomes_markdown() {
        let (markdown, teaser) = post_markdown(
            "<!-- wp:paragraph -->\n<p>Intro <strong>bold</strong></p>\n<!-- /wp:paragraph -->\n\n<!--more-->\n\n\
             [caption id=\"a\" width=\"300\"]<img src=\"https://example.com/a.jpg\" alt=\"A\" /> The caption[/caption]\n\n\
             Line one\nline two\n\n[gallery ids=\"1,2\"]\n\n[embed]https://video.example/v[/embed]",
        )
        .unwrap();
        assert!(markdown.contains("Intro **bold**"), "{markdown}");
        assert!(markdown.contains("![A](https://example.com/a.jpg)"), "{markdown}");
        assert!(markdown.contains("The caption"), "{markdown}");
        assert!(!markdown.contains("wp:paragraph") && !markdown.contains("[caption") && !markdown.contains("gallery"));
        assert!(markdown.contains("Line one"), "{markdown}");
        assert!(markdown.contains("https://video.example/v"), "{markdown}");
        assert_eq!(teaser.as_deref(), Some("Intro bold"));
        assert_eq!(post_markdown("Just [not a shortcode] text").unwrap().0, "Just \\[not a shortcode\\] text");
    }

    #[test]
    fn shortcodes_in_code_stay_as_written() {
        let html = "<PRE class=\"x\">[caption]a[/caption]</pre><p><code>[embed]u[/embed]</code> [embed]https://v.example[/embed]</p>";
        let converted = shortcodes(html);
        assert!(converted.contains("<PRE class=\"x\">[caption]a[/caption]</pre>"), "{converted}");
        assert!(converted.contains("<code>[embed]u[/embed]</code>"), "{converted}");
        assert!(converted.contains("<a href=\"https://v.example\">"), "{converted}");
        assert_eq!(shortcodes("<pre>[gallery] never closed"), "<pre>[gallery] never closed");
        assert_eq!(shortcodes("<p>x</p><precise>[gallery]"), "<p>x</p><precise>");
        assert_eq!(shortcodes("<pre>a</preview>[gallery]</pre>b"), "<pre>a</preview>[gallery]</pre>b");
    }

    #[test]
    fn hostile_html_is_refused_or_bounded() {
        let deep = format!("{}x{}", "<div>".repeat(300), "</div>".repeat(300));
        assert!(to_markdown(&deep).unwrap_err().contains("nests"));
        let list = format!("<ul>{}</ul>", "<li>item".repeat(1000));
        assert!(to_markdown(&list).is_ok(), "items without their ends are not depth");
        assert_eq!(without_block_comments("a <!-- b"), "a <!-- b");
    }
}
