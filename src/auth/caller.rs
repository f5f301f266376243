//! Who is calling: the account behind an access token (checked against its session and its row)
//! or behind an integration token (see `integration_tokens`, limited by its scopes).

use super::account::Account;
use super::jwt::Claims;
use super::role::Role;
use super::scopes::Scope;
use super::sessions;
use crate::db::DbConnection;
use crate::error::ApiError;

/// An authenticated caller. Extracting it checks the bearer token, its session (or, for an
/// integration token, its row) *and* the account row, so a token whose session ended (logout, a
/// deactivation, a reused refresh token), whose integration token was revoked, or whose account's
/// password changed after it was issued is refused at once.
#[derive(Clone, Debug)]
pub struct AuthUser {
    pub id: i64,
    pub role: Role,
    /// `None` for a login (an access token); an integration token's scopes otherwise.
    pub scopes: Option<Vec<Scope>>,
}

impl AuthUser {
    /// Whether it may act within `scope`: a login may do all its role allows; a token only what
    /// its scopes name too.
    pub fn allows(&self, scope: Scope) -> bool {
        self.scopes.as_ref().is_none_or(|scopes| scopes.contains(&scope))
    }

    /// Refuses callers below `minimum` with a 403.
    pub fn require(&self, minimum: Role) -> Result<(), ApiError> {
        if self.role >= minimum {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!("this action needs the {} role or higher", minimum.as_str())))
        }
    }
}

/// The caller on routes open to everyone that do more for staff (posting a comment): nobody when
/// the request has no `Authorization` header, else the account of its token. A token that is sent
/// but invalid is a 401, never quietly treated as anonymous.
pub struct MaybeAuthUser(pub Option<AuthUser>);

/// The caller a verified access token stands for: `None` once its session has ended (logout, a
/// deactivation, a reused refresh token) or its account's password changed after it was issued.
pub fn authenticate(conn: &mut DbConnection, id: i64, claims: &Claims) -> Result<Option<AuthUser>, ApiError> {
    let account = Account::find(conn, id)?;
    let session_open = sessions::is_open(conn, id, &claims.sid)?;
    match account {
        Some(account) if session_open && account.can_log_in() && account.password_version() == claims.pwv => {
            Ok(Some(AuthUser { id: account.id, role: account.role()?, scopes: None }))
        }
        _ => Ok(None),
    }
}
