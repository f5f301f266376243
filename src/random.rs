//! Random secrets from the operating system.

/// `bytes` random bytes from the OS, hex-encoded: secrets, request ids, later refresh tokens.
pub fn hex_token(bytes: usize) -> String {
    base16ct::lower::encode_string(&random_bytes(bytes))
}

/// `count` random bytes from the OS (webhook signing keys, say).
pub fn random_bytes(count: usize) -> Vec<u8> {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    let mut buffer = vec![0u8; count];
    OsRng.fill_bytes(&mut buffer);
    buffer
}

/// A uniformly random number in `0..bound` (`bound` > 0), for jitter.
pub fn below(bound: u64) -> u64 {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    OsRng.next_u64() % bound.max(1)
}
