//! Random secrets from the operating system.

/// `bytes` random bytes from the OS, hex-encoded: secrets, request ids, later refresh tokens.
pub fn hex_token(bytes: usize) -> String {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    let mut buffer = vec![0u8; bytes];
    OsRng.fill_bytes(&mut buffer);
    buffer.iter().map(|b| format!("{b:02x}")).collect()
}
