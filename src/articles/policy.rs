//! Who may do what to an article. Pure rules, applied by the routes inside the same transaction
//! as the write they guard (see the `guard` arguments of `store`).

use crate::auth::{AuthUser, Role};
use crate::db::visibility::STATUS_DRAFT;
use crate::error::ApiError;

/// What the rules need to know about an article.
#[derive(Debug, Clone)]
pub struct ArticleAccess {
    pub status: String,
    pub trashed: bool,
    pub version: i32,
    /// Author ids on the byline: being on it is owning the article.
    pub byline_ids: Vec<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Read it, its history.
    View,
    /// Change its content, restore a revision.
    Edit,
    /// Publish, schedule, unpublish.
    Publish,
    /// Move to the trash and back.
    Trash,
    /// Remove for good.
    DeletePermanently,
}

/// Editors and admins may do anything. Others only see their own articles: anyone else's is a 404,
/// as if it did not exist. Authors do everything to their own but delete for good; contributors
/// edit and trash only their own drafts and never publish.
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
        Action::DeletePermanently => {
            Err(ApiError::Forbidden("only editors and admins delete for good; move it to the trash instead".into()))
        }
        Action::Publish if !user.role.can_publish() => {
            Err(ApiError::Forbidden("contributors cannot publish or unpublish; ask an editor".into()))
        }
        Action::Edit | Action::Trash if user.role == Role::Contributor && !is_draft => {
            Err(ApiError::Forbidden("contributors cannot change an article once it is published; ask an editor".into()))
        }
        Action::Publish | Action::Edit | Action::Trash => Ok(()),
    }
}

/// Authors and contributors must stay on the byline of what they write (or they would lose it).
pub fn check_byline(user: &AuthUser, author_ids: Option<&[i64]>) -> Result<(), ApiError> {
    match author_ids {
        Some(ids) if !user.role.edits_all_articles() && !ids.contains(&user.id) => {
            Err(ApiError::invalid("authors", "must include yourself"))
        }
        _ => Ok(()),
    }
}
