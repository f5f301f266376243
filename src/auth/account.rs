//! What authentication knows of an account: enough to check a password and a session, nothing of
//! the profile (that is the authors resource's, above this layer).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::role::Role;
use crate::db::DbConnection;
use crate::error::ApiError;
use crate::schema::authors;

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = authors)]
pub struct Account {
    pub id: i64,
    pub role: String,
    pub active: bool,
    pub password_hash: Option<String>,
    pub password_changed_at: Option<NaiveDateTime>,
}

impl Account {
    pub fn find(conn: &mut DbConnection, id: i64) -> Result<Option<Self>, ApiError> {
        Ok(authors::table.find(id).select(Self::as_select()).first(conn).optional()?)
    }

    pub fn find_by_email(conn: &mut DbConnection, email: &str) -> Result<Option<Self>, ApiError> {
        Ok(authors::table
            .filter(authors::email.eq(crate::email::normalize(email)))
            .select(Self::as_select())
            .first(conn)
            .optional()?)
    }

    /// Whether it may log in at all: active, and with a password (byline-only authors have none).
    pub fn can_log_in(&self) -> bool {
        self.active && self.password_hash.is_some()
    }

    /// Changes with every password change, so that tokens issued before one stop working.
    pub fn password_version(&self) -> i64 {
        self.password_changed_at.map_or(0, |t| t.and_utc().timestamp_micros())
    }

    pub fn role(&self) -> Result<Role, ApiError> {
        Role::parse(&self.role).ok_or_else(|| ApiError::Internal(format!("author {} has an unknown role", self.id)))
    }
}
