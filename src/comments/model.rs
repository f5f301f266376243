//! Comment rows, the readers' and editors' inputs, and what each side sees. The commenter's e-mail
//! is in [`AdminComment`] only: no public view has a field for it.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::schema::comments;

pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_EMAIL_CHARS: usize = 254;
pub const MAX_BODY_CHARS: usize = 5_000;
/// Comments moderated by one `POST /admin/comments/moderate`.
pub const MAX_MODERATED_AT_ONCE: usize = 100;

/// Where a comment stands in moderation. Only `approved` comments are ever public.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CommentStatus {
    /// Waiting for a moderator.
    Pending,
    Approved,
    /// Caught by the abuse rules, or marked by a moderator.
    Spam,
    Rejected,
}

impl CommentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Spam => "spam",
            Self::Rejected => "rejected",
        }
    }

    /// A stored status; anything else reads as pending (the column's CHECK allows only these).
    pub fn parse(value: &str) -> Self {
        match value {
            "approved" => Self::Approved,
            "spam" => Self::Spam,
            "rejected" => Self::Rejected,
            _ => Self::Pending,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = comments)]
pub struct CommentRow {
    pub id: i64,
    pub article_id: i64,
    pub parent_id: Option<i64>,
    pub author_name: String,
    pub author_email: String,
    pub author_id: Option<i64>,
    pub body: String,
    pub body_html: String,
    pub status: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub removed_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = comments)]
pub struct NewComment<'a> {
    pub article_id: i64,
    pub parent_id: Option<i64>,
    pub author_name: &'a str,
    pub author_email: &'a str,
    pub author_id: Option<i64>,
    pub body: &'a str,
    pub body_html: &'a str,
    pub status: &'a str,
    pub client_hash: Option<&'a str>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// `POST /api/v1/articles/{slug}/comments`: a reader's comment. With an editor's bearer token the
/// comment is posted as that account (its name and e-mail are used) and approved at once.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "author_name": "Grace",
    "author_email": "grace@example.com",
    "body": "Great piece. *Especially* the part about [compilers](https://example.com/compilers)."
}))]
pub struct PostComment {
    /// Shown with the comment; 1 to 100 characters.
    #[schema(
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00-\x1f\x7f-\x9f]*$",
        min_length = 1,
        max_length = 100
    )]
    pub author_name: String,
    /// Never shown on any public route; used for moderation only.
    #[schema(format = Email, min_length = 3, max_length = 254)]
    pub author_email: String,
    /// Plain text with light Markdown: `*emphasis*`, `**strong**`, `[links](https://…)`, `` `code` ``.
    /// Raw HTML is removed. 1 to 5,000 characters.
    #[schema(
        pattern = r"[^\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]",
        min_length = 1,
        max_length = 5000
    )]
    pub body: String,
    /// The approved comment this one replies to, on the same article.
    #[schema(minimum = 1)]
    pub parent_id: Option<i64>,
    /// A honeypot: leave it out or empty. Front ends render it hidden from people; bots fill it in,
    /// and a filled one sends the comment to spam.
    #[schema(max_length = 2048)]
    pub website: Option<String>,
}

/// The answer to a posted comment: what was kept and where it stands in moderation.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommentReceipt {
    #[schema(example = 7)]
    pub id: i64,
    /// `pending` until a moderator approves it (or `approved` at once, or `spam`).
    pub status: CommentStatus,
    pub parent_id: Option<i64>,
    pub author_name: String,
    /// The body as it will be shown: sanitized HTML.
    pub body_html: String,
    /// Posted by a signed-in member of staff.
    pub staff: bool,
    pub created_at: DateTime<Utc>,
}

impl CommentReceipt {
    pub fn new(row: CommentRow) -> Self {
        Self {
            id: row.id,
            status: CommentStatus::parse(&row.status),
            parent_id: row.parent_id,
            staff: row.author_id.is_some(),
            author_name: row.author_name,
            body_html: row.body_html,
            created_at: row.created_at.and_utc(),
        }
    }
}

/// An approved comment in a public thread, with its approved replies under it (oldest first).
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicComment {
    #[schema(example = 7)]
    pub id: i64,
    pub parent_id: Option<i64>,
    /// `null` when the comment was removed.
    pub author_name: Option<String>,
    /// Sanitized HTML; `null` when the comment was removed.
    #[schema(example = "<p>Great piece. <em>Especially</em> the part about compilers.</p>\n")]
    pub body_html: Option<String>,
    /// Posted by a signed-in member of staff.
    pub staff: bool,
    /// A placeholder: removed by a moderator (or no longer approved), kept, with neither name
    /// nor text, so that its approved replies stay in place.
    pub removed: bool,
    pub created_at: DateTime<Utc>,
    #[schema(no_recursion)]
    pub replies: Vec<PublicComment>,
}

impl PublicComment {
    pub fn new(row: CommentRow) -> Self {
        let removed = row.removed_at.is_some() || CommentStatus::parse(&row.status) != CommentStatus::Approved;
        Self {
            id: row.id,
            parent_id: row.parent_id,
            author_name: (!removed).then_some(row.author_name),
            body_html: (!removed).then_some(row.body_html),
            staff: row.author_id.is_some(),
            removed,
            created_at: row.created_at.and_utc(),
            replies: Vec::new(),
        }
    }
}

/// The article a comment belongs to, in the editors' view.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommentArticle {
    pub id: i64,
    pub slug: String,
    pub title: String,
}

/// A comment as moderators see it: everything, the e-mail included.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminComment {
    #[schema(example = 7)]
    pub id: i64,
    pub article: CommentArticle,
    pub parent_id: Option<i64>,
    pub author_name: String,
    pub author_email: String,
    /// The staff account that posted it, if any.
    pub author_id: Option<i64>,
    pub staff: bool,
    /// As typed (Markdown).
    pub body: String,
    pub body_html: String,
    pub status: CommentStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl AdminComment {
    pub fn new(row: CommentRow, article: CommentArticle) -> Self {
        Self {
            id: row.id,
            article,
            parent_id: row.parent_id,
            author_name: row.author_name,
            author_email: row.author_email,
            author_id: row.author_id,
            staff: row.author_id.is_some(),
            body: row.body,
            body_html: row.body_html,
            status: CommentStatus::parse(&row.status),
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        }
    }
}

/// `PATCH /api/v1/admin/comments/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "approved"}))]
pub struct ModerateComment {
    pub status: ModerationDecision,
}

/// `POST /api/v1/admin/comments/moderate`: one decision for many comments, all or none.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"ids": [7, 8, 9], "status": "spam"}))]
pub struct ModerateComments {
    /// 1 to 100 comment ids (a repeated id counts once).
    #[schema(min_items = 1, max_items = 100)]
    pub ids: Vec<i64>,
    pub status: ModerationDecision,
}

/// What a moderator can decide; a comment cannot be sent back to `pending`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ModerationDecision {
    Approved,
    Spam,
    Rejected,
}

impl From<ModerationDecision> for CommentStatus {
    fn from(decision: ModerationDecision) -> Self {
        match decision {
            ModerationDecision::Approved => Self::Approved,
            ModerationDecision::Spam => Self::Spam,
            ModerationDecision::Rejected => Self::Rejected,
        }
    }
}
