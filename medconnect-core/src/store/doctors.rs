//! The doctor registry.

use sqlx::PgExecutor;
use uuid::Uuid;

use crate::domain::{BoundedText, Doctor, DoctorContact, DoctorId, Email, LicenceNumber, PersonName, Phone};
use crate::error::Result;

pub struct DoctorRecord {
    pub id: DoctorId,
    pub given_name: PersonName,
    pub family_name: PersonName,
    pub specialty: BoundedText<100>,
    pub licence_number: LicenceNumber,
    pub phone: Option<Phone>,
    pub contact_email: Option<Email>,
}

#[derive(sqlx::FromRow)]
struct DoctorRow {
    id: Uuid,
    given_name: String,
    family_name: String,
    specialty: String,
    licence_number: String,
    phone: Option<String>,
    contact_email: Option<String>,
}

impl DoctorRow {
    fn into_doctor(self, with_contact: bool) -> Doctor {
        Doctor {
            id: DoctorId(self.id),
            given_name: self.given_name,
            family_name: self.family_name,
            specialty: self.specialty,
            licence_number: self.licence_number,
            contact: with_contact.then_some(DoctorContact { email: self.contact_email, phone: self.phone }),
        }
    }
}

/// The selected columns, as a macro so that queries stay `&'static str`.
macro_rules! columns {
    () => {
        "id, given_name, family_name, specialty, licence_number, phone, contact_email"
    };
}

pub async fn insert(db: impl PgExecutor<'_>, d: &DoctorRecord) -> Result<()> {
    sqlx::query(
        "insert into doctors (id, given_name, family_name, specialty, licence_number, phone, contact_email)
         values ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(d.id.0)
    .bind(d.given_name.as_ref())
    .bind(d.family_name.as_ref())
    .bind(d.specialty.as_ref())
    .bind(d.licence_number.as_ref())
    .bind(d.phone.as_ref().map(AsRef::<str>::as_ref))
    .bind(d.contact_email.as_ref().map(AsRef::<str>::as_ref))
    .execute(db)
    .await
    .map_err(super::on_unique("doctors_licence_number_key", "licence_number"))?;
    Ok(())
}

/// Only doctors whose account is active are listed or shown.
pub async fn get(db: impl PgExecutor<'_>, id: DoctorId, with_contact: bool) -> Result<Option<Doctor>> {
    let sql = concat!(
        "select ",
        columns!(),
        " from doctors d where id = $1 and exists (select 1 from users u where u.id = d.id and u.active)"
    );
    let row: Option<DoctorRow> = sqlx::query_as(sql).bind(id.0).fetch_optional(db).await?;
    Ok(row.map(|r| r.into_doctor(with_contact)))
}

/// Whether a doctor account exists and is active (for granting care).
pub async fn is_active(db: impl PgExecutor<'_>, id: DoctorId) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "select exists (select 1 from doctors d join users u on u.id = d.id where d.id = $1 and u.active)",
    )
    .bind(id.0)
    .fetch_one(db)
    .await?)
}

/// Pages continue after the last row's id; its sort key is read back in SQL so the
/// comparison uses exactly the database's own `lower()` and collation.
pub type ListKey = Uuid;

pub fn list_key(d: &Doctor) -> ListKey {
    d.id.0
}

pub async fn list(
    db: impl PgExecutor<'_>,
    specialty: Option<&str>,
    after: Option<ListKey>,
    limit: u32,
    with_contact: bool,
) -> Result<Vec<Doctor>> {
    let sql = concat!(
        "select ",
        columns!(),
        " from doctors d
         where exists (select 1 from users u where u.id = d.id and u.active)
           and ($1::text is null or lower(d.specialty) = lower($1))
           and ($2::uuid is null or (lower(d.family_name), lower(d.given_name), d.id) >
                (select lower(a.family_name), lower(a.given_name), a.id from doctors a where a.id = $2))
         order by lower(d.family_name), lower(d.given_name), d.id
         limit $3"
    );
    let rows: Vec<DoctorRow> =
        sqlx::query_as(sql).bind(specialty).bind(after).bind(i64::from(limit) + 1).fetch_all(db).await?;
    Ok(rows.into_iter().map(|r| r.into_doctor(with_contact)).collect())
}
