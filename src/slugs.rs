//! URL slugs: derived from titles and names (transliterated to ASCII by the `slug` crate), checked
//! when given explicitly, and made unique within their table.

use crate::error::ApiError;

pub const MAX_SLUG_CHARS: usize = 120;

/// `“Hello”, Wörld — again!` → `hello-world-again` (emoji become words: 🙂 → `slight-smile`).
/// Text with nothing to transliterate (punctuation only) gets `fallback`, so every record has a usable slug.
pub fn slugify(text: &str, fallback: &str) -> String {
    let slug = slug::slugify(text);
    let mut slug: String = slug.chars().take(MAX_SLUG_CHARS).collect();
    while slug.ends_with('-') {
        slug.pop();
    }
    if slug.is_empty() { fallback.to_string() } else { slug }
}

/// The slug of a name, or for a name with nothing to transliterate (`!!!`), `prefix-` and a short
/// hash of the name in lower case: different names keep different slugs, the same name the same.
pub fn slugify_name(name: &str, prefix: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(name.to_lowercase().as_bytes());
    let hash = base16ct::lower::encode_string(&digest[..4]);
    slugify(name, &format!("{prefix}-{hash}"))
}

/// The key titles sort by, the same on both backends: transliterated to ASCII and lowercased
/// (`Ábaco` → `abaco`, `Über` → `uber`), so `sort=title` ignores case and accents as search does.
/// Text with nothing to transliterate keeps its own lowercase, so the key is never empty.
pub fn sort_key(text: &str) -> String {
    let key = deunicode::deunicode(text).to_lowercase();
    if key.trim().is_empty() { text.to_lowercase() } else { key }
}

/// Lowercase ASCII letters and digits in groups joined by single hyphens.
pub fn is_valid_slug(slug: &str) -> bool {
    !slug.is_empty()
        && slug.len() <= MAX_SLUG_CHARS
        && slug
            .split('-')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
}

pub const SLUG_RULE: &str = "must be lowercase letters and digits joined by single hyphens, at most 120 characters";

/// `base`, else `base-2`, `base-3`, … : the first that `is_taken` says is free. Runs inside the
/// caller's write transaction, and the unique index still guards against a race.
pub fn unique_slug(base: &str, mut is_taken: impl FnMut(&str) -> Result<bool, ApiError>) -> Result<String, ApiError> {
    if !is_taken(base)? {
        return Ok(base.to_string());
    }
    for n in 2..=50 {
        let candidate = format!("{base}-{n}");
        if !is_taken(&candidate)? {
            return Ok(candidate);
        }
    }
    // Fifty namesakes: stop counting and add a random suffix.
    let candidate = format!("{base}-{}", crate::random::hex_token(3));
    if is_taken(&candidate)? {
        return Err(ApiError::Conflict(format!("could not find a free slug for `{base}`")));
    }
    Ok(candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugify_transliterates_and_falls_back() {
        assert_eq!(slugify("“Hello”, Wörld — again!", "x"), "hello-world-again");
        assert_eq!(slugify("?!…", "article"), "article");
        assert_eq!(slugify("🙂", "x"), "slight-smile");
        assert!(is_valid_slug(&slugify(&"long title ".repeat(40), "x")));
    }

    #[test]
    fn slug_rule() {
        assert!(is_valid_slug("a-b-1"));
        for bad in ["", "-a", "a-", "a--b", "A", "a b", "é"] {
            assert!(!is_valid_slug(bad), "{bad}");
        }
    }
}
