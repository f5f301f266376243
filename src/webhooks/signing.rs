//! Signatures per the Standard Webhooks specification (standardwebhooks.com): the secret is
//! `whsec_` + base64 of the key; each request carries `webhook-id`, `webhook-timestamp` (Unix
//! seconds) and `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, one per key
//! in use, separated by spaces (the previous key still signs for a while after a rotation).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

const PREFIX: &str = "whsec_";
/// Key length: the specification asks for 24 to 64 bytes.
const KEY_BYTES: usize = 32;

/// A new signing secret.
pub fn new_secret() -> String {
    format!("{PREFIX}{}", STANDARD.encode(crate::random::random_bytes(KEY_BYTES)))
}

/// The `webhook-signature` value for `body` sent as message `id` at `timestamp`, signed with each
/// of `secrets` (`None` for a secret that cannot be decoded: it cannot have been made here).
pub fn signature(secrets: &[&str], id: &str, timestamp: i64, body: &str) -> Option<String> {
    let mut signatures = Vec::with_capacity(secrets.len());
    for secret in secrets {
        let key = STANDARD.decode(secret.strip_prefix(PREFIX)?).ok()?;
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
        mac.update(format!("{id}.{timestamp}.").as_bytes());
        mac.update(body.as_bytes());
        signatures.push(format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes())));
    }
    Some(signatures.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_as_the_specification_example_does() {
        // The reference library's answer (`standardwebhooks` 1.1 from PyPI, `Webhook(secret).sign`).
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw5lZkXBoKnL8=";
        let body = r#"{"test": 2432232314}"#;
        let signed = signature(&[secret], "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).unwrap();
        assert_eq!(signed, "v1,4LdAHNa0gsJGvSqiSmy1as49QLiYsjWLYXjaABcMX5o=");
        let two = signature(&[secret, &new_secret()], "msg_x", 1, "{}").unwrap();
        assert_eq!(two.split(' ').count(), 2);
        assert!(new_secret().starts_with("whsec_") && signature(&["nope"], "m", 1, "").is_none());
    }
}
