//! Sign-in sessions and their refresh tokens. A session is one refresh-token family:
//! each refresh rotates the token, and a rotated token seen again revokes the family.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::domain::UserId;
use crate::error::Result;

pub async fn create(db: impl PgExecutor<'_>, user: UserId) -> Result<Uuid> {
    let id = Uuid::new_v4();
    sqlx::query("insert into sessions (id, user_id) values ($1, $2)").bind(id).bind(user.0).execute(db).await?;
    Ok(id)
}

pub async fn add_refresh_token(
    db: impl PgExecutor<'_>,
    session: Uuid,
    token_hash: &[u8],
    expires_at: DateTime<Utc>,
) -> Result<()> {
    sqlx::query("insert into refresh_tokens (id, session_id, token_hash, expires_at) values ($1, $2, $3, $4)")
        .bind(Uuid::new_v4())
        .bind(session)
        .bind(token_hash)
        .bind(expires_at)
        .execute(db)
        .await?;
    Ok(())
}

/// A presented refresh token, locked for the rotation.
#[derive(sqlx::FromRow)]
pub struct PresentedToken {
    pub id: Uuid,
    pub session_id: Uuid,
    pub user_id: Uuid,
    pub role: String,
    pub user_active: bool,
    pub expired: bool,
    pub rotated: bool,
    pub session_revoked: bool,
}

/// Finds the token and locks it, so two concurrent refreshes cannot both rotate it.
pub async fn lock_refresh_token(conn: &mut PgConnection, token_hash: &[u8]) -> Result<Option<PresentedToken>> {
    Ok(sqlx::query_as(
        "select t.id, t.session_id, s.user_id, u.role, u.active as user_active,
                t.expires_at <= now() as expired, t.rotated_at is not null as rotated,
                s.revoked_at is not null as session_revoked
         from refresh_tokens t
         join sessions s on s.id = t.session_id
         join users u on u.id = s.user_id
         where t.token_hash = $1
         for update of t, s",
    )
    .bind(token_hash)
    .fetch_optional(conn)
    .await?)
}

pub async fn mark_rotated(db: impl PgExecutor<'_>, token: Uuid) -> Result<()> {
    sqlx::query("update refresh_tokens set rotated_at = now() where id = $1").bind(token).execute(db).await?;
    Ok(())
}

pub async fn revoke(db: impl PgExecutor<'_>, session: Uuid, reason: &str) -> Result<()> {
    sqlx::query("update sessions set revoked_at = now(), revoke_reason = $2 where id = $1 and revoked_at is null")
        .bind(session)
        .bind(reason)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn revoke_all_of_user(db: impl PgExecutor<'_>, user: UserId, reason: &str) -> Result<()> {
    sqlx::query("update sessions set revoked_at = now(), revoke_reason = $2 where user_id = $1 and revoked_at is null")
        .bind(user.0)
        .bind(reason)
        .execute(db)
        .await?;
    Ok(())
}
