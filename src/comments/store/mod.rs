//! Comment queries and writes. Public reads show approved comments on public articles only
//! (`rules::is_visible`, `db::visibility`); every write is one transaction.

mod announcements;
mod moderation;
mod posting;
mod reading;
mod rules;

pub use moderation::{AdminCommentFilter, awaiting_moderation, delete, list_admin, moderate};
pub use posting::{CommentTarget, Poster, Submission, find_target, post};
pub use reading::{counts_for, thread};
