//! Who may do what to an article. Pure rules, applied by the routes inside the same transaction
//! as the write they guard.

use super::model::STATUS_DRAFT;
use crate::auth::{AuthUser, Role};
use crate::error::ApiError;

/// What the rules need to know about an article.
#[derive(Debug, Clone)]
pub struct ArticleAccess {
    pub status: String,
    /// Author ids on the byline: being on it is owning the article.
    pub byline_ids: Vec<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    View,
    Edit,
    Publish,
    Delete,
}

/// Editors and admins may do anything. Others only see their own articles: anyone else's is a 404,
/// as if it did not exist. Contributors edit and delete only their own drafts and never publish.
pub fn authorize(user: &AuthUser, article: &ArticleAccess, action: Action) -> Result<(), ApiError> {
    if user.role.edits_all_articles() {
        return Ok(());
    }
    if !article.byline_ids.contains(&user.id) {
        return Err(ApiError::NotFound("no article has this id".into()));
    }
    let is_draft = article.status == STATUS_DRAFT;
    match action {
        Action::View => Ok(()),
        Action::Publish if !user.role.can_publish() => {
            Err(ApiError::Forbidden("contributors cannot publish or unpublish; ask an editor".into()))
        }
        Action::Edit | Action::Delete if user.role == Role::Contributor && !is_draft => {
            Err(ApiError::Forbidden("contributors cannot change an article once it is published; ask an editor".into()))
        }
        Action::Publish | Action::Edit | Action::Delete => Ok(()),
    }
}
