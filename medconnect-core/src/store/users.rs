//! Accounts.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::domain::{Account, PatientId, Role, UserId};
use crate::error::{Error, Result};

#[derive(sqlx::FromRow)]
struct AccountRow {
    id: Uuid,
    email: String,
    role: String,
    active: bool,
    patient_id: Option<Uuid>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<AccountRow> for Account {
    type Error = Error;
    fn try_from(r: AccountRow) -> Result<Self> {
        Ok(Account {
            id: UserId(r.id),
            email: r.email,
            role: Role::parse(&r.role).map_err(Error::internal)?,
            active: r.active,
            patient_id: r.patient_id.map(PatientId),
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

/// The selected columns, as a macro so that queries stay `&'static str`.
macro_rules! columns {
    () => {
        "u.id, u.email, u.role, u.active, p.id as patient_id, u.created_at, u.updated_at"
    };
}

pub async fn insert(db: impl PgExecutor<'_>, id: UserId, email: &str, password_hash: &str, role: Role) -> Result<()> {
    sqlx::query("insert into users (id, email, password_hash, role) values ($1, $2, $3, $4)")
        .bind(id.0)
        .bind(email)
        .bind(password_hash)
        .bind(role.as_str())
        .execute(db)
        .await
        .map_err(super::on_unique("users_email_key", "email"))?;
    Ok(())
}

/// What sign-in needs to know about an account.
#[derive(sqlx::FromRow)]
pub struct Credentials {
    pub id: Uuid,
    pub password_hash: String,
    pub role: String,
    pub active: bool,
}

pub async fn credentials_by_email(db: impl PgExecutor<'_>, email: &str) -> Result<Option<Credentials>> {
    Ok(sqlx::query_as("select id, password_hash, role, active from users where lower(email) = lower($1)")
        .bind(email)
        .fetch_optional(db)
        .await?)
}

pub async fn get(db: impl PgExecutor<'_>, id: UserId) -> Result<Option<Account>> {
    let sql = concat!("select ", columns!(), " from users u left join patients p on p.user_id = u.id where u.id = $1");
    let row: Option<AccountRow> = sqlx::query_as(sql).bind(id.0).fetch_optional(db).await?;
    row.map(Account::try_from).transpose()
}

/// Accounts oldest first, after the `(created_at, id)` key.
pub async fn list(
    db: impl PgExecutor<'_>,
    role: Option<Role>,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: u32,
) -> Result<Vec<Account>> {
    let sql = concat!(
        "select ",
        columns!(),
        " from users u left join patients p on p.user_id = u.id
         where ($1::text is null or u.role = $1)
           and ($2::timestamptz is null or (u.created_at, u.id) > ($2, $3))
         order by u.created_at, u.id limit $4"
    );
    let rows: Vec<AccountRow> = sqlx::query_as(sql)
        .bind(role.map(Role::as_str))
        .bind(after.map(|a| a.0))
        .bind(after.map(|a| a.1))
        .bind(i64::from(limit) + 1)
        .fetch_all(db)
        .await?;
    rows.into_iter().map(Account::try_from).collect()
}

/// Returns false when there is no such account.
pub async fn set_active(db: impl PgExecutor<'_>, id: UserId, active: bool) -> Result<bool> {
    let done = sqlx::query("update users set active = $2, updated_at = now() where id = $1")
        .bind(id.0)
        .bind(active)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Who holds an access token, as the database sees them now.
#[derive(Clone, sqlx::FromRow, serde::Serialize, serde::Deserialize)]
pub struct SessionHolder {
    pub role: String,
    pub active: bool,
    pub session_revoked: bool,
    pub patient_id: Option<Uuid>,
}

pub async fn session_holder(db: impl PgExecutor<'_>, user: Uuid, session: Uuid) -> Result<Option<SessionHolder>> {
    Ok(sqlx::query_as(
        "select u.role, u.active, s.revoked_at is not null as session_revoked, p.id as patient_id
         from users u
         join sessions s on s.id = $2 and s.user_id = u.id
         left join patients p on p.user_id = u.id
         where u.id = $1",
    )
    .bind(user)
    .bind(session)
    .fetch_optional(db)
    .await?)
}
