use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

pub const ISSUER: &str = "herald";

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    /// The user's id.
    pub sub: String,
    pub iss: String,
    pub iat: i64,
    pub exp: i64,
}

/// Signs and checks session tokens: HS256 only, issuer and expiry checked.
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
}

impl JwtKeys {
    pub fn new(secret: &[u8], ttl: Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.leeway = 5;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl,
        }
    }

    pub fn issue(&self, user_id: i64) -> anyhow::Result<String> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: user_id.to_string(),
            iss: ISSUER.into(),
            iat: now,
            exp: now + self.ttl.as_secs() as i64,
        };
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.encoding,
        )?)
    }

    /// The claims of a valid token; `None` for anything else (other
    /// algorithm, `alg: none`, bad signature, expired, wrong issuer).
    pub fn verify(&self, token: &str) -> Option<Claims> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .ok()
            .map(|data| data.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    fn keys() -> JwtKeys {
        JwtKeys::new(b"0123456789abcdef0123456789abcdef", Duration::from_secs(60))
    }

    fn b64(v: &serde_json::Value) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    }

    #[test]
    fn issued_tokens_verify() {
        let token = keys().issue(42).unwrap();
        assert_eq!(keys().verify(&token).unwrap().sub, "42");
    }

    #[test]
    fn refuses_alg_none_wrong_key_expired_and_wrong_issuer() {
        let now = chrono::Utc::now().timestamp();
        let claims = serde_json::json!({"sub": "1", "iss": ISSUER, "iat": now, "exp": now + 60});
        let unsigned = format!(
            "{}.{}.",
            b64(&serde_json::json!({"alg": "none", "typ": "JWT"})),
            b64(&claims)
        );
        assert!(keys().verify(&unsigned).is_none());

        let other = JwtKeys::new(b"another-secret-another-secret-xx", Duration::from_secs(60));
        assert!(keys().verify(&other.issue(1).unwrap()).is_none());

        let expired = JwtKeys::new(b"0123456789abcdef0123456789abcdef", Duration::ZERO);
        let sign =
            |c: &serde_json::Value| jsonwebtoken::encode(&Header::new(Algorithm::HS256), c, &expired.encoding).unwrap();
        let old = serde_json::json!({"sub": "1", "iss": ISSUER, "iat": now - 120, "exp": now - 60});
        assert!(keys().verify(&sign(&old)).is_none());
        let foreign = serde_json::json!({"sub": "1", "iss": "someone-else", "iat": now, "exp": now + 60});
        assert!(keys().verify(&sign(&foreign)).is_none());
    }
}
