//! Reader comments: posted without an account on published articles, shown once approved, as
//! threads; moderated by editors.
//!
//! `model` holds the rows, inputs and views (the e-mail is only in the editors' view), `render` the
//! light Markdown of comment bodies, `screening` the abuse rules that decide a new comment's status,
//! `store` every query, `routes` the public and editor routes.

pub mod model;
pub mod render;
pub mod routes;
pub mod screening;
pub mod store;

/// The comment rules from the configuration (`MASTHEAD_COMMENTS_*`).
#[derive(Clone, Debug)]
pub struct CommentSettings {
    /// Approve every new comment at once instead of queueing it for moderation.
    pub auto_approve: bool,
    /// Approve at once a comment from an e-mail address that already has an approved comment.
    pub trust_approved_emails: bool,
    /// How deep threads go: 1 allows no replies, 3 allows replies to replies.
    pub max_depth: usize,
    /// Comments close this many days after publication; `None`: never.
    pub close_after_days: Option<i64>,
    /// Comments per client address per minute (staff are not limited).
    pub per_minute: i64,
    /// Lower-case words or phrases that send a comment to spam.
    pub blocked_words: Vec<String>,
    /// More links than this send a comment to spam.
    pub max_links: usize,
}
