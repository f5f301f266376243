//! The abuse rules that send a reader's comment to spam before anyone sees it: a filled honeypot,
//! a blocked word, too many links. A comment caught here is kept (as `spam`, for moderators to
//! review false positives) and the poster is told its status. The rate limit, which refuses
//! comments outright, lives in `store` because it counts what is stored.

use super::model::PostComment;
use crate::settings::CommentSettings;

/// Why a comment is spam, or `None` when it passes every rule.
pub fn spam_reason(input: &PostComment, settings: &CommentSettings) -> Option<&'static str> {
    if input.website.as_deref().is_some_and(|w| !w.trim().is_empty()) {
        return Some("honeypot");
    }
    let texts = [&input.body, &input.author_name, &input.author_email].map(|t| t.to_lowercase());
    if settings.blocked_words.iter().any(|word| texts.iter().any(|text| contains_word(text, word))) {
        return Some("blocked word");
    }
    if count_links(&texts[0]) > settings.max_links {
        return Some("too many links");
    }
    None
}

/// `word` in `text` as a whole word (or phrase): not inside a longer word, so that blocking
/// "ass" does not catch "class". Both in lower case.
fn contains_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

/// Links in a lower-cased body, written as Markdown links, autolinks or bare URLs alike.
fn count_links(text: &str) -> usize {
    ["http://", "https://", "mailto:"].iter().map(|scheme| text.matches(scheme).count()).sum::<usize>()
        + text.match_indices("www.").filter(|(at, _)| !text[..*at].ends_with("//")).count()
}

#[cfg(test)]
mod tests {
    use super::{contains_word, count_links};

    #[test]
    fn words_match_whole() {
        assert!(contains_word("visit our casino now", "casino"));
        assert!(contains_word("casino!", "casino"));
        assert!(!contains_word("occasional casinos", "casino"));
        assert!(contains_word("buy cheap pills here", "cheap pills"));
    }

    #[test]
    fn links_are_counted_however_written() {
        assert_eq!(count_links("see [a](https://a.example) and http://b.example"), 2);
        assert_eq!(count_links("www.c.example and https://www.d.example"), 2);
        assert_eq!(count_links("no links here"), 0);
    }
}
