//! Access tokens (HS256 JWTs, short-lived) and refresh tokens (opaque, stored hashed).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::domain::{Role, UserId};
use crate::error::{Error, Result};
use crate::keys::SecretKey;

const ISSUER: &str = "medconnect";
const ACCESS_TYPE: &str = "access";
/// Refresh tokens carry a prefix so that one presented as an access token (or the reverse)
/// is recognised as the wrong type.
const REFRESH_PREFIX: &str = "mcr_";

/// What an access token says.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub sub: Uuid,
    pub role: Role,
    /// The session the token was issued in; revoking the session revokes the token.
    pub sid: Uuid,
    pub jti: Uuid,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    pub typ: String,
}

/// Tokens handed out at sign-in or refresh.
#[derive(Debug, Clone)]
pub struct TokenPair {
    pub access_token: String,
    pub access_expires_at: DateTime<Utc>,
    pub refresh_token: String,
    pub refresh_expires_at: DateTime<Utc>,
}

/// Signs and checks tokens.
#[derive(Clone)]
pub struct TokenIssuer {
    encoding: EncodingKey,
    decoding: DecodingKey,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
    /// Access tokens whose signature and claims were checked, by their exact text: checking
    /// a signature again was a tenth of a cached read's CPU. Only tokens that passed go in,
    /// so nothing forged can be found here; expiry is checked again at every use, and
    /// revocation is the session check's business, not this one's.
    verified: moka::sync::Cache<Box<str>, AccessClaims>,
}

/// Verified access tokens kept at most.
const VERIFIED_KEPT: u64 = 50_000;

impl TokenIssuer {
    pub fn new(key: &SecretKey, access_ttl: Duration, refresh_ttl: Duration) -> Self {
        let secret = key.expose();
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            access_ttl,
            refresh_ttl,
            verified: moka::sync::Cache::builder()
                .max_capacity(VERIFIED_KEPT)
                .time_to_live(access_ttl.to_std().unwrap_or(std::time::Duration::from_secs(900)))
                .build(),
        }
    }

    pub fn issue_access(&self, user: UserId, role: Role, session: Uuid) -> Result<(String, DateTime<Utc>)> {
        let now = Utc::now();
        let expires = now + self.access_ttl;
        let claims = AccessClaims {
            sub: user.0,
            role,
            sid: session,
            jti: Uuid::new_v4(),
            iat: now.timestamp(),
            exp: expires.timestamp(),
            iss: ISSUER.to_owned(),
            typ: ACCESS_TYPE.to_owned(),
        };
        let token =
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(Error::internal)?;
        Ok((token, expires))
    }

    /// Checks signature, algorithm (HS256 only, so `alg: none` fails), expiry, issuer and type.
    pub fn verify_access(&self, token: &str) -> Result<AccessClaims> {
        if token.starts_with(REFRESH_PREFIX) {
            return Err(Error::unauthenticated("a refresh token is not an access token"));
        }
        if let Some(claims) = self.verified.get(token) {
            // As jsonwebtoken decides with no leeway: expired once `exp` is in the past.
            if claims.exp < Utc::now().timestamp() {
                self.verified.invalidate(token);
                return Err(Error::unauthenticated("the access token has expired"));
            }
            return Ok(claims);
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.leeway = 0;
        let data = jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &validation).map_err(|err| match err
            .kind()
        {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => Error::unauthenticated("the access token has expired"),
            _ => Error::unauthenticated("the access token is invalid"),
        })?;
        if data.claims.typ != ACCESS_TYPE {
            return Err(Error::unauthenticated("the token is not an access token"));
        }
        self.verified.insert(token.into(), data.claims.clone());
        Ok(data.claims)
    }

    /// A new random refresh token and the hash to store for it.
    pub fn new_refresh(&self) -> (String, Vec<u8>, DateTime<Utc>) {
        let bytes: [u8; 32] = rand::random();
        let token = format!("{REFRESH_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
        let hash = hash_refresh(&token);
        (token, hash, Utc::now() + self.refresh_ttl)
    }
}

/// Refresh tokens are stored as SHA-256 digests: a database leak does not leak sessions.
pub fn hash_refresh(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

pub fn is_refresh_shaped(token: &str) -> bool {
    token.starts_with(REFRESH_PREFIX) && token.len() < 100
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issuer() -> TokenIssuer {
        TokenIssuer::new(&SecretKey::random(), Duration::minutes(15), Duration::days(30))
    }

    #[test]
    fn access_tokens_round_trip() {
        let issuer = issuer();
        let (user, session) = (UserId::new(), Uuid::new_v4());
        let (token, _) = issuer.issue_access(user, Role::Doctor, session).expect("issue");
        let claims = issuer.verify_access(&token).expect("verify");
        assert_eq!((claims.sub, claims.role, claims.sid), (user.0, Role::Doctor, session));
    }

    #[test]
    fn a_token_verified_before_is_still_refused_once_expired() {
        let issuer = TokenIssuer::new(&SecretKey::random(), Duration::seconds(1), Duration::days(30));
        let (token, _) = issuer.issue_access(UserId::new(), Role::Doctor, Uuid::new_v4()).expect("issue");
        assert!(issuer.verify_access(&token).is_ok());
        assert!(issuer.verify_access(&token).is_ok(), "again, from the verified tokens");
        std::thread::sleep(std::time::Duration::from_millis(2100));
        let expired = issuer.verify_access(&token).expect_err("expired");
        assert!(expired.to_string().contains("expired"), "{expired}");
        // A tampered copy of a verified token is not found among them.
        let mut tampered = token.clone();
        tampered.pop();
        tampered.push(if token.ends_with('A') { 'B' } else { 'A' });
        assert!(issuer.verify_access(&tampered).is_err());
    }

    #[test]
    fn foreign_tampered_and_unsigned_tokens_are_refused() {
        let issuer = issuer();
        let (token, _) = issuer.issue_access(UserId::new(), Role::Patient, Uuid::new_v4()).expect("issue");
        assert!(super::TokenIssuer::verify_access(&self::issuer(), &token).is_err(), "another key");
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(&parts[1]).expect("b64")).expect("utf8");
        parts[1] = URL_SAFE_NO_PAD.encode(payload.replace("\"patient\"", "\"admin\""));
        assert!(issuer.verify_access(&parts.join(".")).is_err(), "tampered role");
        let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        assert!(issuer.verify_access(&format!("{none_header}.{}.", parts[1])).is_err(), "alg none");
        let (refresh, _, _) = issuer.new_refresh();
        assert!(issuer.verify_access(&refresh).is_err(), "refresh token as access token");
    }

    #[test]
    fn expired_tokens_are_refused() {
        let issuer = TokenIssuer::new(&SecretKey::random(), Duration::seconds(-10), Duration::days(1));
        let (token, _) = issuer.issue_access(UserId::new(), Role::Admin, Uuid::new_v4()).expect("issue");
        assert!(matches!(issuer.verify_access(&token), Err(Error::Unauthenticated(m)) if m.contains("expired")));
    }

    #[test]
    fn refresh_tokens_are_random_and_hashed() {
        let issuer = issuer();
        let (a, ha, _) = issuer.new_refresh();
        let (b, _, _) = issuer.new_refresh();
        assert_ne!(a, b);
        assert_eq!(ha, hash_refresh(&a));
        assert!(is_refresh_shaped(&a));
    }
}
