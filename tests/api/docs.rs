//! The documentation's links: the manual lives in docs/ and the README links into it, so a moved
//! page or a renamed heading would otherwise break links silently.

use std::fs;
use std::path::{Path, PathBuf};

/// The Markdown files checked: the README and every `.md` file under docs/, however deep.
fn markdown_files(root: &Path) -> Vec<PathBuf> {
    let mut files = vec![root.join("README.md")];
    let mut dirs = vec![root.join("docs")];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|ext| ext == "md") {
                files.push(path);
            }
        }
    }
    files
}

/// The lines outside fenced code blocks: inside them, `[x](y)` and `# x` are code, not Markdown.
fn prose_lines(text: &str) -> Vec<&str> {
    let mut fenced = false;
    let mut lines = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if !fenced {
            lines.push(line);
        }
    }
    lines
}

/// A line without its code spans (`` `[x](y)` `` shows a link, it is not one).
fn without_code_spans(line: &str) -> String {
    let mut kept = String::new();
    let mut rest = line;
    while let Some(start) = rest.find('`') {
        kept.push_str(&rest[..start]);
        let ticks = rest[start..].len() - rest[start..].trim_start_matches('`').len();
        let (fence, after) = rest[start..].split_at(ticks);
        // A span ends at the same run of backticks; an unclosed run is plain text.
        match after.find(fence) {
            Some(end) => rest = &after[end + ticks..],
            None => {
                kept.push_str(fence);
                rest = after;
            }
        }
    }
    kept.push_str(rest);
    kept
}

/// The targets of the inline links and images `[text](target "title")` in one line.
fn link_targets(line: &str) -> Vec<String> {
    let mut targets = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find("](") {
        let after = &rest[at + 2..];
        let Some(end) = after.find(')') else { break };
        if let Some(target) = after[..end].split_whitespace().next() {
            targets.push(target.to_owned());
        }
        rest = &after[end + 1..];
    }
    targets
}

/// GitHub's anchor for a heading: lowercase, spaces to '-', other punctuation but '_' dropped.
fn anchor(heading: &str) -> String {
    let dashed = heading.trim().to_lowercase().replace(' ', "-");
    dashed.chars().filter(|c| c.is_alphanumeric() || *c == '-' || *c == '_').collect()
}

/// The anchors of a file's headings; GitHub numbers repeats (`x`, `x-1`, `x-2`).
fn anchors(text: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let mut plain: Vec<String> = Vec::new();
    for line in prose_lines(text) {
        let hashes = line.len() - line.trim_start_matches('#').len();
        if !(1..=6).contains(&hashes) {
            continue;
        }
        let Some(title) = line[hashes..].strip_prefix(' ') else { continue };
        let base = anchor(title);
        let repeats = plain.iter().filter(|seen| **seen == base).count();
        found.push(if repeats == 0 { base.clone() } else { format!("{base}-{repeats}") });
        plain.push(base);
    }
    found
}

#[test]
fn every_relative_link_in_the_docs_resolves() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (mut checked, mut broken) = (0, Vec::new());
    for file in markdown_files(root) {
        let text = fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let name = file.strip_prefix(root).unwrap_or(file.as_path()).display().to_string();
        for line in prose_lines(&text) {
            for target in link_targets(&without_code_spans(line)) {
                if ["http://", "https://", "mailto:"].iter().any(|scheme| target.starts_with(scheme)) {
                    continue;
                }
                checked += 1;
                let (path, fragment) = target.split_once('#').map_or((target.as_str(), None), |(p, f)| (p, Some(f)));
                let linked = if path.is_empty() { file.clone() } else { file.parent().unwrap_or(root).join(path) };
                if !linked.exists() {
                    broken.push(format!("{name}: ({target}): no such file"));
                } else if let Some(fragment) = fragment {
                    let headings = fs::read_to_string(&linked).map(|t| anchors(&t)).unwrap_or_default();
                    if !headings.iter().any(|heading| heading == fragment) {
                        broken.push(format!("{name}: ({target}): no heading with that anchor"));
                    }
                }
            }
        }
    }
    // No links found would mean the reader above is broken, not that the links are right.
    assert!(checked > 0, "no relative links found in README.md and docs/");
    assert!(broken.is_empty(), "broken links in the documentation:\n{}", broken.join("\n"));
}

#[test]
fn anchors_are_the_ones_github_makes() {
    assert_eq!(anchor("First steps: an admin, a `draft` (1)"), "first-steps-an-admin-a-draft-1");
    assert_eq!(anchors("# Errors\n```\n# not a heading\n```\n## Errors\n#hashtag\n"), ["errors", "errors-1"]);
    assert_eq!(link_targets(&without_code_spans("[a](x.md#y) `[b](z.md)` [c](w.md \"t\")")), ["x.md#y", "w.md"]);
}
