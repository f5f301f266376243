//! Preview tokens: HS256 tokens for one article, signed with a key derived from the JWT secret and
//! a distinct issuer, so that a preview link can never pass as an access token, nor an access
//! token as a preview link.

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::jwt::{TokenTimes, timestamp, validation};
use crate::clock::Clock;
use crate::config::Secret;
use crate::error::ApiError;

const ISSUER: &str = "masthead-preview";

#[derive(Debug, Serialize, Deserialize)]
struct PreviewClaims {
    /// The article id.
    sub: String,
    iat: u64,
    exp: u64,
    iss: String,
    /// Never issued here; a link that carries one is not valid before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nbf: Option<u64>,
}

/// Signs and checks preview tokens.
pub struct PreviewSigner {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    clock: Clock,
}

impl PreviewSigner {
    /// A signer whose links are issued and expire by `clock`.
    pub fn new(secret: &Secret, clock: Clock) -> Self {
        let key = format!("preview:{}", secret.expose());
        Self {
            encoding: EncodingKey::from_secret(key.as_bytes()),
            decoding: DecodingKey::from_secret(key.as_bytes()),
            validation: validation(ISSUER),
            clock,
        }
    }

    /// Now, by the clock links expire by.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub fn sign(&self, article_id: i64, expires_at: DateTime<Utc>) -> Result<String, ApiError> {
        let claims = PreviewClaims {
            sub: article_id.to_string(),
            iat: timestamp(&self.clock),
            exp: u64::try_from(expires_at.timestamp()).unwrap_or(0),
            iss: ISSUER.into(),
            nbf: None,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| ApiError::Internal(format!("cannot sign a preview: {e}")))
    }

    /// The article of a valid link: signed here, not expired, not issued in the future, and
    /// naming an id as this code writes it.
    pub fn article_id(&self, token: &str) -> Option<i64> {
        let claims = jsonwebtoken::decode::<PreviewClaims>(token, &self.decoding, &self.validation).ok()?.claims;
        let times = TokenTimes { iat: claims.iat, exp: claims.exp, nbf: claims.nbf };
        times.current(timestamp(&self.clock), 0).then_some(())?;
        super::jwt::canonical_id(&claims.sub)
    }
}
