//! Access tokens: HS256 JWTs with `sub`, `role`, `iat`, `exp`, `iss`, `pwv` and `sid`. Validation
//! pins the algorithm and requires every claim, so `alg: none`, another algorithm or a token from
//! another issuer are refused before any claim is trusted; a token not yet valid (`nbf` or `iat`
//! in the future) or whose `sub` is not the canonical spelling of an id (`+4`, `04`) is refused too.
//! Times are read from the app's clock (`clock`), so that tests can move past an expiry.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::config::Secret;

const ISSUER: &str = "masthead";

/// What an access token says. The author row is still checked on every request (see `AuthUser`).
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    /// The author's id, as a string (JWT convention).
    pub sub: String,
    pub role: String,
    pub iat: u64,
    pub exp: u64,
    pub iss: String,
    /// The account's password version when the token was issued: a password change makes every
    /// earlier token invalid at once, to the microsecond (`iat` has only whole seconds).
    pub pwv: i64,
    /// The session (refresh-token family) the token belongs to: logging out, or anything that
    /// ends the session, ends its access tokens at once too.
    pub sid: String,
    /// Never issued here; a token that carries one is not valid before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
}

/// The signing keys, derived once from the configured secret.
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
    clock: Clock,
}

impl JwtKeys {
    /// Keys whose tokens are issued and expire by `clock`.
    pub fn new(secret: &Secret, ttl: Duration, clock: Clock) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret.expose().as_bytes()),
            decoding: DecodingKey::from_secret(secret.expose().as_bytes()),
            validation: validation(ISSUER),
            ttl,
            clock,
        }
    }

    /// Lifetime of the tokens issued, in seconds (`expires_in`).
    pub fn ttl_seconds(&self) -> u64 {
        self.ttl.as_secs()
    }

    pub fn issue(&self, author_id: i64, role: &str, password_version: i64, session: &str) -> Result<String, String> {
        let iat = timestamp(&self.clock);
        let claims = Claims {
            sub: author_id.to_string(),
            role: role.to_string(),
            iat,
            exp: iat + self.ttl.as_secs(),
            iss: ISSUER.to_string(),
            pwv: password_version,
            sid: session.to_string(),
            nbf: None,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| format!("cannot sign a token: {e}"))
    }

    /// The account id and claims of a valid token, or `None` for anything else (the reason is not
    /// told to clients).
    pub fn verify(&self, token: &str) -> Option<(i64, Claims)> {
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation).ok()?.claims;
        let id = canonical_id(&claims.sub)?;
        let times = TokenTimes { iat: claims.iat, exp: claims.exp, nbf: claims.nbf };
        times.current(timestamp(&self.clock), LEEWAY_SECONDS).then_some((id, claims))
    }
}

/// How far apart the clocks of the nodes that issue and check access tokens may be.
const LEEWAY_SECONDS: u64 = 30;

/// The validation of the signature and the claims other than times, which are checked against
/// the app's clock ([`TokenTimes`]): the algorithm is pinned and every claim required, so `alg:
/// none`, another algorithm or another issuer's token is refused before any claim is trusted.
pub fn validation(issuer: &str) -> Validation {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_issuer(&[issuer]);
    validation.set_required_spec_claims(&["sub", "iat", "exp", "iss"]);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation
}

/// Seconds since the epoch, by `clock`.
pub fn timestamp(clock: &Clock) -> u64 {
    u64::try_from(clock.now().timestamp()).unwrap_or(0)
}

/// The time claims of a token.
pub struct TokenTimes {
    pub iat: u64,
    pub exp: u64,
    pub nbf: Option<u64>,
}

impl TokenTimes {
    /// Valid at `now`, give or take `leeway` seconds: not expired, not before its `nbf`, and not
    /// issued later than now (no token of this server's is).
    pub fn current(&self, now: u64, leeway: u64) -> bool {
        self.exp.saturating_add(leeway) >= now
            && self.nbf.is_none_or(|nbf| nbf <= now + leeway)
            && self.iat <= now + leeway
    }
}

/// A positive id written as the server writes it: `42`, not `+42`, `042` or `42.0`. Anything else
/// in `sub` was not signed by this server's issuing code.
pub fn canonical_id(text: &str) -> Option<i64> {
    text.parse::<i64>().ok().filter(|id| *id > 0 && id.to_string() == text)
}

#[cfg(test)]
mod tests {
    use super::canonical_id;

    #[test]
    fn ids_are_read_only_in_their_canonical_spelling() {
        assert_eq!(canonical_id("4"), Some(4));
        for odd in ["+4", "04", "-4", "0", "4.0", " 4", "4 ", "", "99999999999999999999"] {
            assert_eq!(canonical_id(odd), None, "{odd:?}");
        }
    }
}
