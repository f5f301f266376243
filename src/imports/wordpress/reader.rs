//! A WordPress export (WXR 1.0 to 1.2) read as a stream of entries: the site, authors, terms
//! (categories and tags) and items (posts, pages, attachments, …), one at a time, so memory does
//! not grow with the file. No entity is ever expanded but XML's five and character references: a
//! DTD's entities (external or a "billion laughs") are an error, never a fetch or an expansion.

use std::io::BufRead;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use crate::imports::bounded::{Bounded, Budget};

/// The most text one field may hold (a post's content): more fails the file.
const MAX_FIELD_BYTES: usize = 32 * 1024 * 1024;
/// The deepest nesting of elements a WXR file has, with room to spare.
const MAX_DEPTH: usize = 16;
/// Comments and metadata entries of one item.
const MAX_PER_ITEM: usize = 100_000;
/// The text of one item, comments and metadata included.
const MAX_ITEM_BYTES: usize = 64 * 1024 * 1024;
/// The bytes one XML event may take (a field, plus room for its markup): quick-xml reads a whole
/// text, CDATA section or DOCTYPE before it can be looked at, so the input stops it at this size.
const MAX_EVENT_BYTES: u64 = MAX_FIELD_BYTES as u64 + 1024 * 1024;

#[derive(Debug, Default, Clone)]
pub struct WpAuthor {
    pub id: String,
    pub login: String,
    pub email: String,
    pub display_name: String,
}

#[derive(Debug, Default, Clone)]
pub struct WpTerm {
    pub id: String,
    /// `category` or `post_tag`.
    pub taxonomy: String,
    pub slug: String,
    pub name: String,
}

#[derive(Debug, Default, Clone)]
pub struct WpComment {
    pub id: String,
    pub author: String,
    pub author_email: String,
    pub date_gmt: String,
    pub content: String,
    /// `1`, `0`, `spam`, `trash`.
    pub approved: String,
    pub parent: String,
    /// empty for a comment; `pingback`, `trackback`.
    pub kind: String,
}

#[derive(Debug, Default, Clone)]
pub struct WpItem {
    pub title: String,
    pub link: String,
    pub creator: String,
    pub content: String,
    pub excerpt: String,
    pub post_id: String,
    pub post_date: String,
    pub post_date_gmt: String,
    /// When the post was last changed: the version an import remembers.
    pub post_modified_gmt: String,
    pub comment_status: String,
    pub post_name: String,
    pub status: String,
    pub post_type: String,
    pub is_sticky: bool,
    pub attachment_url: String,
    /// `(domain, nicename, name)` of each `<category>`.
    pub terms: Vec<(String, String, String)>,
    pub meta: Vec<(String, String)>,
    pub comments: Vec<WpComment>,
}

impl WpItem {
    pub fn meta(&self, key: &str) -> Option<&str> {
        self.meta.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).filter(|v| !v.trim().is_empty())
    }
}

#[derive(Debug)]
pub enum Entry {
    /// The site's address and the file's WXR version, before any item.
    Site {
        base_url: String,
        version: String,
    },
    Author(WpAuthor),
    Term(WpTerm),
    Item(Box<WpItem>),
}

/// Why the file cannot be read on; what was read before stays read.
#[derive(Debug)]
pub struct ReadError(pub String);

pub struct WxrReader<R: BufRead> {
    reader: Reader<Bounded<R>>,
    /// What the event being read may still take.
    budget: Budget,
    /// The text of the item being read so far.
    item_bytes: usize,
    buffer: Vec<u8>,
    path: Vec<String>,
    text: String,
    /// An entry read while the site had not been told yet: given after it.
    pending: Option<Entry>,
    site_told: bool,
    base_url: String,
    version: String,
    author: WpAuthor,
    term: WpTerm,
    item: WpItem,
    comment: WpComment,
    meta: (String, String),
    /// The attributes of the `<category>` being read.
    category: (String, String),
}

impl<R: BufRead> WxrReader<R> {
    pub fn new(input: R) -> Self {
        let too_long = format!("a text or declaration longer than {} MiB", MAX_EVENT_BYTES / 1024 / 1024);
        let (input, budget) = Bounded::new(input, MAX_EVENT_BYTES, too_long);
        let mut reader = Reader::from_reader(input);
        reader.config_mut().expand_empty_elements = true;
        Self {
            reader,
            budget,
            item_bytes: 0,
            buffer: Vec::new(),
            path: Vec::new(),
            text: String::new(),
            pending: None,
            site_told: false,
            base_url: String::new(),
            version: String::new(),
            author: WpAuthor::default(),
            term: WpTerm::default(),
            item: WpItem::default(),
            comment: WpComment::default(),
            meta: Default::default(),
            category: Default::default(),
        }
    }

    /// Where the reader is in the file, for messages.
    pub fn position(&self) -> u64 {
        self.reader.buffer_position()
    }

    fn fail(&self, message: impl std::fmt::Display) -> ReadError {
        fail_at(self.reader.buffer_position(), message)
    }

    fn push_text(&mut self, text: &str) -> Result<(), ReadError> {
        if self.text.len() + text.len() > MAX_FIELD_BYTES {
            return Err(self.fail(format!("a field longer than {} MiB", MAX_FIELD_BYTES / 1024 / 1024)));
        }
        if self.path.iter().any(|p| p == "item") {
            self.item_bytes += text.len();
            if self.item_bytes > MAX_ITEM_BYTES {
                return Err(self.fail(format!("an item larger than {} MiB", MAX_ITEM_BYTES / 1024 / 1024)));
            }
        }
        self.text.push_str(text);
        Ok(())
    }

    /// The next entry; `None` at the end of a whole file. The site comes first.
    pub fn next_entry(&mut self) -> Result<Option<Entry>, ReadError> {
        if let Some(entry) = self.pending.take() {
            return Ok(Some(entry));
        }
        match self.read_entry()? {
            Some(_) if self.version.is_empty() => {
                Err(self.fail("not a WordPress export: content before its <wp:wxr_version>"))
            }
            Some(entry) if !self.site_told => {
                self.site_told = true;
                self.pending = Some(entry);
                Ok(Some(Entry::Site { base_url: self.base_url.clone(), version: self.version.clone() }))
            }
            other => Ok(other),
        }
    }

    fn read_entry(&mut self) -> Result<Option<Entry>, ReadError> {
        loop {
            self.buffer.clear();
            self.budget.set(MAX_EVENT_BYTES);
            let event = self.reader.read_event_into(&mut self.buffer).map_err(|e| {
                ReadError(format!("at byte {}: not well-formed XML: {e}", self.reader.buffer_position()))
            })?;
            let at = self.reader.buffer_position();
            match event {
                Event::Start(start) => {
                    let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
                    if self.path.is_empty() && name != "rss" {
                        return Err(self.fail(format!("not a WordPress export: it starts with <{name}>, not <rss>")));
                    }
                    if self.path.len() >= MAX_DEPTH {
                        return Err(self.fail("elements nested too deep for a WordPress export"));
                    }
                    if name == "item" {
                        self.item_bytes = 0;
                    }
                    if name == "category" && self.path.last().is_some_and(|p| p == "item") {
                        self.category = category_attributes(&start);
                    }
                    self.path.push(name);
                    self.text.clear();
                }
                Event::Text(text) => {
                    let text = text.decode().map_err(|e| fail_at(at, format!("not UTF-8: {e}")))?.into_owned();
                    self.push_text(&text)?;
                }
                Event::CData(data) => {
                    let text = data.decode().map_err(|e| fail_at(at, format!("not UTF-8: {e}")))?.into_owned();
                    self.push_text(&text)?;
                }
                Event::GeneralRef(reference) => {
                    let name = reference.decode().map_err(|e| fail_at(at, format!("not UTF-8: {e}")))?.into_owned();
                    let resolved = resolve_reference(&name).ok_or_else(|| {
                        self.fail(format!("the entity `&{name};` is not one of XML's own: entities are never expanded"))
                    })?;
                    self.push_text(&resolved)?;
                }
                Event::End(_) => {
                    if let Some(entry) = self.close()? {
                        return Ok(Some(entry));
                    }
                }
                Event::Eof => {
                    if let Some(open) = self.path.last() {
                        return Err(self.fail(format!("the file ends inside <{open}>: it was cut short")));
                    }
                    if self.version.is_empty() {
                        return Err(ReadError("not a WordPress export: it has no <wp:wxr_version>".into()));
                    }
                    return Ok(None);
                }
                // Declarations, comments, processing instructions and the DTD carry nothing here.
                _ => {}
            }
        }
    }

    /// Ends the innermost element: stores its text where it belongs, and gives an entry when
    /// one is whole.
    fn close(&mut self) -> Result<Option<Entry>, ReadError> {
        let name = self.path.pop().unwrap_or_default();
        let text = std::mem::take(&mut self.text);
        let parent = self.path.last().map(String::as_str).unwrap_or("");
        match (parent, name.as_str()) {
            ("channel", "link") if self.base_url.is_empty() => self.base_url = text.trim().to_string(),
            ("channel", "wp:base_site_url") => self.base_url = text.trim().to_string(),
            ("channel", "wp:wxr_version") => {
                let version = text.trim().to_string();
                if !["1.0", "1.1", "1.2"].contains(&version.as_str()) {
                    return Err(self.fail(format!("WXR version {version} is not one this importer reads (1.0 to 1.2)")));
                }
                self.version = version;
            }
            ("channel", "wp:author") => return Ok(Some(Entry::Author(std::mem::take(&mut self.author)))),
            ("wp:author", field) => match field {
                "wp:author_id" => self.author.id = text,
                "wp:author_login" => self.author.login = text,
                "wp:author_email" => self.author.email = text,
                "wp:author_display_name" => self.author.display_name = text,
                _ => {}
            },
            ("channel", "wp:category") => {
                self.term.taxonomy = "category".into();
                return Ok(Some(Entry::Term(std::mem::take(&mut self.term))));
            }
            ("channel", "wp:tag") => {
                self.term.taxonomy = "post_tag".into();
                return Ok(Some(Entry::Term(std::mem::take(&mut self.term))));
            }
            ("wp:category" | "wp:tag", field) => match field {
                "wp:term_id" => self.term.id = text,
                "wp:category_nicename" | "wp:tag_slug" => self.term.slug = text,
                "wp:cat_name" | "wp:tag_name" => self.term.name = text,
                _ => {}
            },
            ("channel", "item") => return Ok(Some(Entry::Item(Box::new(std::mem::take(&mut self.item))))),
            ("item", field) => self.item_field(field, text)?,
            ("wp:postmeta", "wp:meta_key") => self.meta.0 = text,
            ("wp:postmeta", "wp:meta_value") => self.meta.1 = text,
            ("wp:comment", field) => match field {
                "wp:comment_id" => self.comment.id = text,
                "wp:comment_author" => self.comment.author = text,
                "wp:comment_author_email" => self.comment.author_email = text,
                "wp:comment_date_gmt" => self.comment.date_gmt = text,
                "wp:comment_content" => self.comment.content = text,
                "wp:comment_approved" => self.comment.approved = text,
                "wp:comment_parent" => self.comment.parent = text,
                "wp:comment_type" => self.comment.kind = text,
                _ => {}
            },
            _ => {}
        }
        Ok(None)
    }

    fn item_field(&mut self, field: &str, text: String) -> Result<(), ReadError> {
        let item = &mut self.item;
        match field {
            "title" => item.title = text,
            "link" => item.link = text,
            "dc:creator" => item.creator = text,
            "content:encoded" => item.content = text,
            "excerpt:encoded" => item.excerpt = text,
            "wp:post_id" => item.post_id = text,
            "wp:post_date" => item.post_date = text,
            "wp:post_date_gmt" => item.post_date_gmt = text,
            "wp:post_modified_gmt" => item.post_modified_gmt = text,
            "wp:comment_status" => item.comment_status = text,
            "wp:post_name" => item.post_name = text,
            "wp:status" => item.status = text,
            "wp:post_type" => item.post_type = text,
            "wp:is_sticky" => item.is_sticky = text.trim() == "1",
            "wp:attachment_url" => item.attachment_url = text,
            "category" => {
                let (domain, nicename) = std::mem::take(&mut self.category);
                item.terms.push((domain, nicename, text));
            }
            "wp:postmeta" | "wp:comment" if item.meta.len() + item.comments.len() >= MAX_PER_ITEM => {
                return Err(self.fail(format!("an item with more than {MAX_PER_ITEM} comments and metadata")));
            }
            "wp:postmeta" => item.meta.push(std::mem::take(&mut self.meta)),
            "wp:comment" => item.comments.push(std::mem::take(&mut self.comment)),
            _ => {}
        }
        Ok(())
    }
}

fn fail_at(at: u64, message: impl std::fmt::Display) -> ReadError {
    ReadError(format!("at byte {at}: {message}"))
}

/// `domain` and `nicename` of an item's `<category>`.
fn category_attributes(start: &BytesStart) -> (String, String) {
    let mut found = (String::new(), String::new());
    for attribute in start.attributes().flatten() {
        let raw = String::from_utf8_lossy(&attribute.value);
        let value = quick_xml::escape::unescape(&raw).map(|v| v.into_owned()).unwrap_or_else(|_| raw.into_owned());
        match attribute.key.as_ref() {
            b"domain" => found.0 = value,
            b"nicename" => found.1 = value,
            _ => {}
        }
    }
    found
}

/// XML's five entities and character references; nothing else.
fn resolve_reference(name: &str) -> Option<String> {
    if let Some(number) = name.strip_prefix('#') {
        let code = match number.strip_prefix('x').or_else(|| number.strip_prefix('X')) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => number.parse().ok()?,
        };
        // XML 1.0 allows no NUL nor other C0 controls but tab and line ends.
        let allowed = code >= 0x20 || matches!(code, 0x9 | 0xA | 0xD);
        return char::from_u32(code).filter(|_| allowed).map(String::from);
    }
    quick_xml::escape::resolve_predefined_entity(name).map(str::to_string)
}
