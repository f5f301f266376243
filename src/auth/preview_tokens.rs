//! Preview tokens: HS256 tokens for one article, signed with a key derived from the JWT secret and
//! a distinct issuer, so that a preview link can never pass as an access token, nor an access
//! token as a preview link.

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::config::Secret;
use crate::error::ApiError;

const ISSUER: &str = "masthead-preview";

#[derive(Debug, Serialize, Deserialize)]
struct PreviewClaims {
    /// The article id.
    sub: String,
    iat: i64,
    exp: i64,
    iss: String,
}

/// Signs and checks preview tokens.
pub struct PreviewSigner {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl PreviewSigner {
    pub fn new(secret: &Secret) -> Self {
        let key = format!("preview:{}", secret.expose());
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["sub", "iat", "exp", "iss"]);
        validation.validate_nbf = true;
        validation.leeway = 0;
        Self {
            encoding: EncodingKey::from_secret(key.as_bytes()),
            decoding: DecodingKey::from_secret(key.as_bytes()),
            validation,
        }
    }

    pub fn sign(&self, article_id: i64, expires_at: DateTime<Utc>) -> Result<String, ApiError> {
        let claims = PreviewClaims {
            sub: article_id.to_string(),
            iat: Utc::now().timestamp(),
            exp: expires_at.timestamp(),
            iss: ISSUER.into(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| ApiError::Internal(format!("cannot sign a preview: {e}")))
    }

    /// The article of a valid link: signed here, not expired, not issued in the future, and
    /// naming an id as this code writes it.
    pub fn article_id(&self, token: &str) -> Option<i64> {
        let claims = jsonwebtoken::decode::<PreviewClaims>(token, &self.decoding, &self.validation).ok()?.claims;
        let issued_at = u64::try_from(claims.iat).ok()?;
        (!super::jwt::issued_in_the_future(issued_at, 0)).then_some(())?;
        super::jwt::canonical_id(&claims.sub)
    }
}
