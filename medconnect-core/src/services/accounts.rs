//! Sign-in, token refresh, sign-out, and account administration.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Done, require_admin};
use crate::MedConnect;
use crate::audit::{AuditAction, AuditEvent};
use crate::auth::tokens::{hash_refresh, is_refresh_shaped};
use crate::auth::{Actor, ClientAddress, TokenPair};
use crate::cache::{Kind, Scope};
use crate::domain::{Account, Email, Password, PatientId, Role, UserId};
use crate::error::{Error, Result};
use crate::pagination::{Page, PageRequest};
use crate::store::{self, sessions, users};

/// The one answer to every failed sign-in: unknown e-mail, wrong password, deactivated account.
const BAD_CREDENTIALS: &str = "invalid e-mail or password";
/// The longest e-mail a sign-in considers (RFC 5321 allows 254; leave room for typing noise).
const MAX_EMAIL_CHARS: usize = 320;

/// The first administrator, created from the command line. No `Debug`: it holds a password.
pub struct NewAdmin {
    pub email: String,
    pub password: String,
}

impl MedConnect {
    /// Signs in with e-mail and password, from `from` (the client's address, for throttling).
    ///
    /// Unknown e-mails, wrong passwords and deactivated accounts get the same answer after
    /// the same argon2 work. Each attempt first takes its place in the throttling counters
    /// (per e-mail and address, and per address); past a limit the answer is `RateLimited`
    /// with the time left, before any password is checked.
    pub async fn login(&self, email: &str, password: &str, from: ClientAddress) -> Result<TokenPair> {
        if email.chars().count() > MAX_EMAIL_CHARS {
            return Err(Error::invalid("email", format!("must be at most {MAX_EMAIL_CHARS} characters")));
        }
        if email.chars().any(char::is_control) {
            return Err(Error::invalid("email", "must not contain control characters"));
        }
        let folded = email.trim().to_lowercase();
        let ticket = self.throttle().sign_in(self.counters(), &folded, from).await?;
        let account = match Email::parse("email", email) {
            Ok(email) => users::credentials_by_email(self.pool(), email.as_ref()).await?,
            Err(_) => None,
        };
        let verified = match self.hasher().verify(password, account.as_ref().map(|a| a.password_hash.as_str())).await {
            Ok(verified) => verified,
            Err(err) => {
                // Not checked (the hashers were busy): the attempt does not count.
                self.throttle().not_checked(self.counters(), ticket).await?;
                return Err(err);
            }
        };
        let Some(account) = account.filter(|a| verified && a.active) else {
            return Err(Error::unauthenticated(BAD_CREDENTIALS));
        };
        self.throttle().succeeded(self.counters(), ticket).await?;
        let role = Role::parse(&account.role).map_err(Error::internal)?;
        let user = UserId(account.id);
        let mut tx = self.transaction().await?;
        let session = sessions::create(&mut *tx, user).await?;
        let pair = self.issue_pair(&mut tx, user, role, session).await?;
        tx.commit().await?;
        Ok(pair)
    }

    async fn issue_pair(
        &self,
        tx: &mut sqlx::PgConnection,
        user: UserId,
        role: Role,
        session: Uuid,
    ) -> Result<TokenPair> {
        let (refresh_token, hash, refresh_expires_at) = self.tokens().new_refresh();
        sessions::add_refresh_token(&mut *tx, session, &hash, refresh_expires_at).await?;
        let (access_token, access_expires_at) = self.tokens().issue_access(user, role, session)?;
        Ok(TokenPair { access_token, access_expires_at, refresh_token, refresh_expires_at })
    }

    /// Rotates a refresh token. A token that was already rotated is a sign of theft:
    /// the whole session is revoked, and both holders must sign in again.
    pub async fn refresh(&self, refresh_token: &str) -> Result<TokenPair> {
        if !is_refresh_shaped(refresh_token) {
            return Err(Error::unauthenticated("the refresh token is invalid"));
        }
        let mut tx = self.transaction().await?;
        let Some(token) = sessions::lock_refresh_token(&mut tx, &hash_refresh(refresh_token)).await? else {
            return Err(Error::unauthenticated("the refresh token is invalid"));
        };
        if token.session_revoked {
            return Err(Error::unauthenticated("the session has ended"));
        }
        if token.rotated {
            sessions::revoke(&mut *tx, token.session_id, "reuse_detected").await?;
            let actor = Actor::new(UserId(token.user_id), Role::parse(&token.role)?, token.session_id, None);
            let event = AuditEvent::new(Some(&actor), AuditAction::SessionRefreshReuse).target(Some(token.session_id));
            store::audit::insert_one(&mut *tx, &event.denied().into_row(self.audit_keys())).await?;
            tx.commit().await?;
            self.cache().bump(&[Scope::Account(UserId(token.user_id))]).await;
            return Err(Error::unauthenticated("the refresh token was already used; the session has been ended"));
        }
        if token.expired {
            return Err(Error::unauthenticated("the refresh token has expired"));
        }
        if !token.user_active {
            return Err(Error::unauthenticated("the session has ended"));
        }
        sessions::mark_rotated(&mut *tx, token.id).await?;
        let role = Role::parse(&token.role).map_err(Error::internal)?;
        let pair = self.issue_pair(&mut tx, UserId(token.user_id), role, token.session_id).await?;
        tx.commit().await?;
        Ok(pair)
    }

    /// Checks an access token and that its account and session are still live; the only
    /// way an [`Actor`] is made.
    pub async fn authenticate(&self, access_token: &str) -> Result<Actor> {
        if super::api_keys::is_api_key(access_token) {
            // Boxed: it reads PostgreSQL (see `MedConnect::connection`); tokens are the common case.
            return Box::pin(self.authenticate_api_key(access_token)).await;
        }
        let claims = self.tokens().verify_access(access_token)?;
        // Cached under the account: logout, refresh-token reuse and (de)activation bump it.
        let holder = self
            .cache()
            .get_or_load(
                Scope::Account(UserId(claims.sub)),
                &format!("session:{}", claims.sid),
                Kind::Access,
                async || users::session_holder(self.pool(), claims.sub, claims.sid).await,
            )
            .await?
            .ok_or_else(|| Error::unauthenticated("the access token is invalid"))?;
        if !holder.active {
            return Err(Error::unauthenticated("this account is deactivated"));
        }
        if holder.session_revoked {
            return Err(Error::unauthenticated("the session has ended"));
        }
        let role = Role::parse(&holder.role).map_err(Error::internal)?;
        Ok(Actor::new(UserId(claims.sub), role, claims.sid, holder.patient_id.map(PatientId)))
    }

    /// Ends the caller's session: its refresh token and every access token issued in it stop working.
    pub async fn logout(&self, actor: &Actor) -> Result<()> {
        sessions::revoke(self.pool(), actor.session_id(), "logout").await?;
        self.cache().bump(&[Scope::Account(actor.user_id())]).await;
        Ok(())
    }

    /// The caller's own account.
    pub async fn me(&self, actor: &Actor) -> Result<Account> {
        users::get(self.pool(), actor.user_id()).await?.ok_or(Error::NotFound("account"))
    }

    /// Creates an administrator. Meant for the `create-admin` command: whoever can run it
    /// already controls the database.
    pub async fn create_admin(&self, new: NewAdmin) -> Result<Account> {
        let email = Email::parse("email", &new.email)?;
        let password = Password::parse(&new.password)?;
        let hash = self.hasher().hash(password.expose()).await?;
        let id = UserId::new();
        self.audited_write(None, AuditAction::AdminCreate, async |tx| {
            users::insert(&mut *tx, id, email.as_ref(), &hash, Role::Admin).await?;
            let account = users::get(&mut *tx, id).await?.ok_or(Error::NotFound("account"))?;
            Ok(Done::on(id.0, account))
        })
        .await
    }

    /// Every account, oldest first (administrators only).
    pub async fn list_accounts(&self, actor: &Actor, role: Option<Role>, page: &PageRequest) -> Result<Page<Account>> {
        require_admin(actor)?;
        let scope = format!("accounts/{}/{}", actor.user_id(), role.map_or("all", Role::as_str));
        let limit = page.limit()?;
        let after: Option<(DateTime<Utc>, Uuid)> = self.cursors().after(&scope, page)?;
        let rows = users::list(self.pool(), role, after, limit).await?;
        Ok(self.cursors().page(&scope, rows, limit, |a| (a.created_at, a.id.0)))
    }

    /// Activates or deactivates an account (administrators only). Deactivation ends every
    /// session of the account at once.
    pub async fn set_account_active(&self, actor: &Actor, user: UserId, active: bool) -> Result<Account> {
        require_admin(actor)?;
        if user == actor.user_id() && !active {
            return Err(Error::invalid("user_id", "administrators cannot deactivate their own account"));
        }
        let action = if active { AuditAction::AccountActivate } else { AuditAction::AccountDeactivate };
        let account = self
            .audited_write(Some(actor), action, async |tx| {
                if !users::set_active(&mut *tx, user, active).await? {
                    return Err(Error::NotFound("account"));
                }
                if !active {
                    sessions::revoke_all_of_user(&mut *tx, user, "deactivated").await?;
                }
                let account = users::get(&mut *tx, user).await?.ok_or(Error::NotFound("account"))?;
                Ok(Done::on(user.0, account))
            })
            .await?;
        // Its sessions, and its directory entry if it is a doctor's.
        self.cache().bump(&[Scope::Account(user)]).await;
        Ok(account)
    }
}
