//! Argon2id password hashing. Hashes are PHC strings, so a later change of cost parameters still
//! verifies old hashes. Each hash holds 19 MiB for tens of milliseconds of CPU: requests hash
//! through [`Hashing`], which runs them on the blocking pool, never while holding a database
//! connection, and never more at once than configured, so that a burst of logins costs time in a
//! short queue instead of memory (32 clients logging in at once took the process to 922 MB).

use std::time::Duration;

use crate::error::ApiError;
use crate::settings::HashParams;
use crate::turns::Turns;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Params, Version};

/// Shortest and longest passwords accepted (characters). The upper bound keeps hashing cost bounded.
pub const MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_CHARS: usize = 256;

fn hasher(params: &HashParams) -> Argon2<'static> {
    let params = Params::new(params.memory_kib, params.iterations, params.parallelism, None)
        .expect("argon2 parameters are validated constants");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password with a fresh random salt.
pub fn hash_password(password: &str, params: &HashParams) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    hasher(params)
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| format!("password hashing failed: {e}"))
}

/// Hashes the password of a request, if it has one the validation will accept: a refused one is
/// left for the store to report with the other fields, without spending a hash on it.
pub fn hash_given_password(password: Option<&str>, params: &HashParams) -> Result<Option<String>, ApiError> {
    password
        .filter(|p| (MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&p.chars().count()))
        .map(|p| hash_password(p, params).map_err(ApiError::Internal))
        .transpose()
}

/// Password hashing for requests: at most `concurrency` hashes at once, each on the blocking pool;
/// a request waits for its turn at most `wait` (then 503, `Busy`).
pub struct Hashing {
    params: HashParams,
    turns: Turns,
}

impl Hashing {
    pub fn new(params: HashParams, concurrency: usize, wait: Duration) -> Self {
        Self { params, turns: Turns::new(concurrency, wait, "password-hashing slot") }
    }

    /// [`hash_given_password`], in turn: before any database work, so that no pooled connection
    /// waits for it.
    pub async fn hash(&self, password: Option<String>) -> Result<Option<String>, ApiError> {
        if password.is_none() {
            return Ok(None);
        }
        let params = self.params;
        self.in_turn(move || hash_given_password(password.as_deref(), &params)).await?
    }

    /// [`verify_password`], in turn.
    pub async fn verify(&self, password: String, stored_hash: String) -> Result<bool, ApiError> {
        let params = self.params;
        self.in_turn(move || verify_password(&password, &stored_hash, &params)).await
    }

    async fn in_turn<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, ApiError> {
        let turn = self.turns.take().await?;
        actix_web::web::block(move || {
            let value = work();
            drop(turn);
            value
        })
        .await
        .map_err(|e| ApiError::Internal(format!("password hashing failed: {e}")))
    }
}

/// Checks a password against a stored PHC hash; an unreadable hash never matches.
pub fn verify_password(password: &str, stored_hash: &str, params: &HashParams) -> bool {
    match PasswordHash::new(stored_hash) {
        Ok(hash) => hasher(params).verify_password(password.as_bytes(), &hash).is_ok(),
        Err(_) => false,
    }
}
