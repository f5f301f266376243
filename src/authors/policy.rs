//! Who may manage whom: editors manage authors, contributors and byline-only authors; admins
//! manage everyone, including editors, admins and roles.

use crate::auth::{AuthUser, Role};
use crate::error::ApiError;

/// Whether `actor` may manage an author whose role is `target` (`None`: byline-only).
pub fn may_manage(actor: Role, target: Option<Role>) -> bool {
    match actor {
        Role::Admin => true,
        Role::Editor => matches!(target, None | Some(Role::Author) | Some(Role::Contributor)),
        Role::Author | Role::Contributor => false,
    }
}

/// Refuses a change that takes an author from role `from` to role `to` when `actor` may not
/// manage either side (an editor cannot touch an admin, nor promote anyone to editor).
pub fn authorize_change(actor: &AuthUser, from: Option<Role>, to: Option<Role>) -> Result<(), ApiError> {
    if !may_manage(actor.role, from) {
        return Err(ApiError::Forbidden(format!(
            "{}s cannot manage {} accounts",
            actor.role.as_str(),
            from.map_or("byline-only", Role::as_str)
        )));
    }
    if !may_manage(actor.role, to) {
        return Err(ApiError::Forbidden(format!(
            "{}s cannot give the {} role",
            actor.role.as_str(),
            to.map_or("byline-only", Role::as_str)
        )));
    }
    Ok(())
}
