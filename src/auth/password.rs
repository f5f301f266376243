//! Argon2id password hashing. Hashes are PHC strings, so a later change of cost parameters still
//! verifies old hashes. Hashing is CPU-heavy: callers run it inside `Db::run`/`web::block`.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Params, Version};

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

/// Checks a password against a stored PHC hash; an unreadable hash never matches.
pub fn verify_password(password: &str, stored_hash: &str, params: &HashParams) -> bool {
    match PasswordHash::new(stored_hash) {
        Ok(hash) => params.hasher().verify_password(password.as_bytes(), &hash).is_ok(),
        Err(_) => false,
    }
}
