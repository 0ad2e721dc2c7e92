//! API keys: an administrator issues one for an account (over HTTP or from the command
//! line); a system then acts as that account with it, over HTTP (`Authorization: Bearer
//! mck_…`) or through the Python bindings. Keys are shown once, stored as SHA-256,
//! revocable (refused at once on every instance: revocation bumps the account's cache
//! generation), optionally expiring, and every issue and revocation is audited.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{Done, require_admin};
use crate::MedConnect;
use crate::audit::AuditAction;
use crate::auth::Actor;
use crate::cache::{Kind, Scope};
use crate::domain::{ApiKey, BoundedText, Email, IssuedApiKey, PatientId, Role, UserId};
use crate::error::{Error, Result};
use crate::store::{api_keys, users};

const PREFIX: &str = "mck_";

/// A key to issue.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    /// What it is for ("lab integration"), 1–100 characters.
    pub name: String,
    /// When it stops working; never, if absent.
    pub expires_at: Option<DateTime<Utc>>,
}

/// `mck_<account id, 32 hex>_<256 random bits>`: the account id lets the holder's state
/// be cached under the account, so that revocation and deactivation reach it at once.
fn new_secret(user: UserId) -> String {
    let bytes: [u8; 32] = rand::random();
    format!("{PREFIX}{}_{}", user.0.simple(), URL_SAFE_NO_PAD.encode(bytes))
}

fn digest(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// Whether a bearer credential is an API key rather than an access token.
pub(crate) fn is_api_key(credential: &str) -> bool {
    credential.starts_with(PREFIX)
}

impl MedConnect {
    /// Issues a key for an account (administrators only). The secret is in the answer and
    /// nowhere else.
    pub async fn create_api_key(&self, actor: &Actor, user: UserId, new: NewApiKey) -> Result<IssuedApiKey> {
        require_admin(actor)?;
        self.issue_api_key(Some(actor), user, new).await
    }

    /// Issues a key for the account with this e-mail: for the `api-key create` command,
    /// whose user already controls the database.
    pub async fn create_api_key_as_operator(&self, email: &str, new: NewApiKey) -> Result<IssuedApiKey> {
        let email = Email::parse("email", email)?;
        let account =
            users::credentials_by_email(self.pool(), email.as_ref()).await?.ok_or(Error::NotFound("account"))?;
        self.issue_api_key(None, UserId(account.id), new).await
    }

    async fn issue_api_key(&self, actor: Option<&Actor>, user: UserId, new: NewApiKey) -> Result<IssuedApiKey> {
        let name = BoundedText::<100>::parse("name", &new.name)?;
        let now = self.clock().now();
        if new.expires_at.is_some_and(|at| at <= now) {
            return Err(Error::invalid("expires_at", "must be in the future"));
        }
        let secret = new_secret(user);
        let hash = digest(&secret);
        let key = self
            .audited_write(actor, AuditAction::ApiKeyCreate, async |tx| {
                if users::get(&mut *tx, user).await?.is_none() {
                    return Err(Error::NotFound("account"));
                }
                let key = api_keys::insert(
                    &mut *tx,
                    &api_keys::NewKey {
                        user,
                        name: name.as_ref(),
                        hash: &hash,
                        created_by: actor.map(Actor::user_id),
                        now,
                        expires_at: new.expires_at,
                    },
                )
                .await?;
                Ok(Done::on(key.id, key))
            })
            .await?;
        Ok(IssuedApiKey { key, secret })
    }

    /// An account's keys, without their secrets (administrators only).
    pub async fn list_api_keys(&self, actor: &Actor, user: UserId) -> Result<Vec<ApiKey>> {
        require_admin(actor)?;
        if users::get(self.pool(), user).await?.is_none() {
            return Err(Error::NotFound("account"));
        }
        api_keys::of_user(self.pool(), user).await
    }

    /// Revokes a key (administrators only): it is refused from the moment this returns, on
    /// every instance.
    pub async fn revoke_api_key(&self, actor: &Actor, user: UserId, key: Uuid) -> Result<()> {
        require_admin(actor)?;
        let now = self.clock().now();
        self.audited_write(Some(actor), AuditAction::ApiKeyRevoke, async |tx| {
            if !api_keys::revoke(&mut *tx, user, key, actor.user_id(), now).await? {
                return Err(Error::NotFound("api key"));
            }
            Ok(Done::on(key, ()))
        })
        .await?;
        self.cache().bump(&[Scope::Account(user)]).await;
        Ok(())
    }

    /// The account an API key acts as, if the key is known, not revoked, not expired, and
    /// its account active. Cached under the account, like sessions.
    pub(crate) async fn authenticate_api_key(&self, secret: &str) -> Result<Actor> {
        let invalid = || Error::unauthenticated("the API key is invalid");
        let rest = secret.strip_prefix(PREFIX).ok_or_else(invalid)?;
        let (user, _) = rest.split_once('_').ok_or_else(invalid)?;
        let user = UserId(Uuid::try_parse(user).map_err(|_| invalid())?);
        if secret.len() > 200 {
            return Err(invalid());
        }
        let hash = digest(secret);
        let entry = format!("api-key:{}", hex(&hash));
        let holder = self
            .cache()
            .get_or_load(Scope::Account(user), &entry, Kind::Access, async || {
                api_keys::holder(self.pool(), user, &hash).await
            })
            .await?
            .ok_or_else(invalid)?;
        if !holder.active {
            return Err(Error::unauthenticated("this account is deactivated"));
        }
        if holder.revoked {
            return Err(Error::unauthenticated("the API key has been revoked"));
        }
        if holder.expires_at.is_some_and(|at| at <= self.clock().now()) {
            return Err(Error::unauthenticated("the API key has expired"));
        }
        let role = Role::parse(&holder.role).map_err(Error::internal)?;
        Ok(Actor::new(user, role, holder.key_id, holder.patient_id.map(PatientId)))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_their_account_and_carry_256_random_bits() {
        let user = UserId::new();
        let a = new_secret(user);
        let b = new_secret(user);
        assert_ne!(a, b);
        assert!(is_api_key(&a));
        let rest = a.strip_prefix(PREFIX).expect("prefix");
        let (id, secret) = rest.split_once('_').expect("two parts");
        assert_eq!(Uuid::try_parse(id).expect("uuid"), user.0);
        assert_eq!(URL_SAFE_NO_PAD.decode(secret).expect("base64").len(), 32);
        assert_eq!(digest(&a).len(), 32);
    }
}
