//! Imported HTML to Markdown: the source's own markup undone first (WordPress's block comments,
//! its `[caption]` and other common shortcodes, the classic editor's bare paragraphs), then
//! `htmd`. The Markdown then goes through the same rendering and sanitising as any article.

/// Markdown for an imported post body, and the text before a `<!--more-->` (WordPress's teaser),
/// if there is one.
pub fn post_markdown(html: &str) -> (String, Option<String>) {
    let html = html.replace("\r\n", "\n");
    let (html, teaser) = match html.split_once("<!--more-->") {
        Some((before, after)) => (format!("{before}\n\n{after}"), Some(plain_text(before))),
        None => (html, None),
    };
    let html = without_block_comments(&html);
    let html = shortcodes(&html);
    let html = paragraphs(&html);
    (to_markdown(&html), teaser.filter(|t| !t.is_empty()))
}

/// HTML to Markdown, trimmed.
pub fn to_markdown(html: &str) -> String {
    htmd::convert(html).unwrap_or_default().trim().to_string()
}

/// The text of some HTML, on one line.
pub fn plain_text(html: &str) -> String {
    let markdown = to_markdown(&paragraphs(&without_block_comments(html)));
    let rendered = crate::markdown::render(&markdown);
    rendered.text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The block editor's `<!-- wp:… -->` and `<!-- /wp:… -->` comments, which carry no content.
fn without_block_comments(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find("<!--") {
        out.push_str(&rest[..start]);
        match rest[start..].find("-->") {
            Some(end) => rest = &rest[start + end + 3..],
            None => {
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
    while let Some(start) = rest.find('[') {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let Some((name, attributes, after_open)) = opening(tail) else {
            out.push('[');
            rest = &tail[1..];
            continue;
        };
        let closing = format!("[/{name}]");
        let (inner, after) = match after_open.find(&closing) {
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

/// `[name attributes]` at the start of `text`: the name, the attributes and what follows.
fn opening(text: &str) -> Option<(&str, &str, &str)> {
    let end = text.find(']')?;
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
        );
        assert!(markdown.contains("Intro **bold**"), "{markdown}");
        assert!(markdown.contains("![A](https://example.com/a.jpg)"), "{markdown}");
        assert!(markdown.contains("The caption"), "{markdown}");
        assert!(!markdown.contains("wp:paragraph") && !markdown.contains("[caption") && !markdown.contains("gallery"));
        assert!(markdown.contains("Line one"), "{markdown}");
        assert!(markdown.contains("https://video.example/v"), "{markdown}");
        assert_eq!(teaser.as_deref(), Some("Intro bold"));
        assert_eq!(post_markdown("Just [not a shortcode] text").0, "Just \\[not a shortcode\\] text");
    }
}
