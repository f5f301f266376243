//! Argon2id password hashing. Hashes are PHC strings, so a later change of cost parameters still
//! verifies old hashes. Hashing is CPU-heavy: callers run it on the blocking pool, never while
//! holding a database connection (see `hash_in_background`).

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::AppState;
use crate::error::ApiError;

/// Shortest and longest passwords accepted (characters). The upper bound keeps hashing cost bounded.
pub const MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_CHARS: usize = 256;

/// Argon2id cost. The default is OWASP's minimum (19 MiB, 2 passes, 1 lane).
#[derive(Clone, Copy, Debug)]
pub struct HashParams {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for HashParams {
    fn default() -> Self {
        Self { memory_kib: 19 * 1024, iterations: 2, parallelism: 1 }
    }
}

impl HashParams {
    /// Fast enough for a test suite that logs in hundreds of times; never for production.
    pub fn cheap_for_tests() -> Self {
        Self { memory_kib: 64, iterations: 1, parallelism: 1 }
    }

    fn hasher(&self) -> Argon2<'static> {
        let params = Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .expect("argon2 parameters are validated constants");
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    }
}

/// Hashes a password with a fresh random salt.
pub fn hash_password(password: &str, params: &HashParams) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    params
        .hasher()
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

/// [`hash_given_password`] on the blocking pool, before any database work: argon2id takes tens of
/// milliseconds of CPU, which must not be spent holding a pooled connection.
pub async fn hash_in_background(state: &AppState, password: Option<String>) -> Result<Option<String>, ApiError> {
    if password.is_none() {
        return Ok(None);
    }
    let params = state.config.password_hashing;
    crate::cpu_bound(move || hash_given_password(password.as_deref(), &params)).await
}

/// Checks a password against a stored PHC hash; an unreadable hash never matches.
pub fn verify_password(password: &str, stored_hash: &str, params: &HashParams) -> bool {
    match PasswordHash::new(stored_hash) {
        Ok(hash) => params.hasher().verify_password(password.as_bytes(), &hash).is_ok(),
        Err(_) => false,
    }
}
