//! API keys, stored as SHA-256 digests.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::domain::{ApiKey, UserId};
use crate::error::Result;

#[derive(sqlx::FromRow)]
struct ApiKeyRow {
    id: Uuid,
    user_id: Uuid,
    name: String,
    created_by: Option<Uuid>,
    created_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

impl From<ApiKeyRow> for ApiKey {
    fn from(r: ApiKeyRow) -> Self {
        ApiKey {
            id: r.id,
            user_id: UserId(r.user_id),
            name: r.name,
            created_by: r.created_by.map(UserId),
            created_at: r.created_at,
            expires_at: r.expires_at,
            revoked_at: r.revoked_at,
        }
    }
}

macro_rules! columns {
    () => {
        "id, user_id, name, created_by, created_at, expires_at, revoked_at"
    };
}

pub struct NewKey<'a> {
    pub user: UserId,
    pub name: &'a str,
    pub hash: &'a [u8],
    pub created_by: Option<UserId>,
    pub now: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

pub async fn insert(db: impl PgExecutor<'_>, key: &NewKey<'_>) -> Result<ApiKey> {
    let sql = concat!(
        "insert into api_keys (id, user_id, name, key_hash, created_by, created_at, expires_at)
         values ($1, $2, $3, $4, $5, $6, $7) returning ",
        columns!()
    );
    let row: ApiKeyRow = sqlx::query_as(sql)
        .bind(Uuid::new_v4())
        .bind(key.user.0)
        .bind(key.name)
        .bind(key.hash)
        .bind(key.created_by.map(|u| u.0))
        .bind(key.now)
        .bind(key.expires_at)
        .fetch_one(db)
        .await?;
    Ok(row.into())
}

/// An account's keys, oldest first (revoked ones included, marked).
pub async fn of_user(db: impl PgExecutor<'_>, user: UserId) -> Result<Vec<ApiKey>> {
    let sql = concat!("select ", columns!(), " from api_keys where user_id = $1 order by created_at, id");
    let rows: Vec<ApiKeyRow> = sqlx::query_as(sql).bind(user.0).fetch_all(db).await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// Revokes a key of this account; false when there is no such key not yet revoked.
pub async fn revoke(db: impl PgExecutor<'_>, user: UserId, key: Uuid, by: UserId, now: DateTime<Utc>) -> Result<bool> {
    let done = sqlx::query(
        "update api_keys set revoked_at = $4, revoked_by = $3 where id = $2 and user_id = $1 and revoked_at is null",
    )
    .bind(user.0)
    .bind(key)
    .bind(by.0)
    .bind(now)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Who holds a key, as the database sees them now.
#[derive(Clone, sqlx::FromRow, serde::Serialize, serde::Deserialize)]
pub struct KeyHolder {
    pub key_id: Uuid,
    pub role: String,
    pub active: bool,
    pub revoked: bool,
    pub expires_at: Option<DateTime<Utc>>,
    pub patient_id: Option<Uuid>,
}

pub async fn holder(db: impl PgExecutor<'_>, user: UserId, hash: &[u8]) -> Result<Option<KeyHolder>> {
    Ok(sqlx::query_as(
        "select k.id as key_id, u.role, u.active, k.revoked_at is not null as revoked, k.expires_at,
                p.id as patient_id
         from api_keys k
         join users u on u.id = k.user_id
         left join patients p on p.user_id = u.id
         where k.key_hash = $2 and k.user_id = $1",
    )
    .bind(user.0)
    .bind(hash)
    .fetch_optional(db)
    .await?)
}
