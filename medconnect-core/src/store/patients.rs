//! The patient registry.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::auth::Actor;
use crate::auth::policy::PatientFacts;
use crate::domain::BoundedText;
use crate::domain::{
    BirthDate, DoctorId, EmergencyContact, EmergencyContactView, Patient, PatientId, PersonName, Phone, Sex, UserId,
};
use crate::error::{Error, Result};

/// A validated patient to insert.
pub struct PatientRecord {
    pub id: PatientId,
    pub user_id: Option<UserId>,
    pub given_name: PersonName,
    pub family_name: PersonName,
    pub date_of_birth: BirthDate,
    pub sex: Sex,
    pub phone: Option<Phone>,
    pub address: Option<BoundedText<500>>,
    pub emergency_contact: Option<EmergencyContact>,
    pub created_by: Option<UserId>,
}

#[derive(sqlx::FromRow)]
struct PatientRow {
    id: Uuid,
    user_id: Option<Uuid>,
    given_name: String,
    family_name: String,
    date_of_birth: NaiveDate,
    sex: String,
    phone: Option<String>,
    address: Option<String>,
    emergency_contact_name: Option<String>,
    emergency_contact_phone: Option<String>,
    emergency_contact_relationship: Option<String>,
    created_at: DateTime<Utc>,
}

impl TryFrom<PatientRow> for Patient {
    type Error = Error;
    fn try_from(r: PatientRow) -> Result<Self> {
        let emergency_contact = match (r.emergency_contact_name, r.emergency_contact_phone) {
            (Some(name), Some(phone)) => {
                Some(EmergencyContactView { name, phone, relationship: r.emergency_contact_relationship })
            }
            _ => None,
        };
        Ok(Patient {
            id: PatientId(r.id),
            user_id: r.user_id.map(UserId),
            given_name: r.given_name,
            family_name: r.family_name,
            date_of_birth: r.date_of_birth,
            sex: Sex::parse("sex", &r.sex).map_err(Error::internal)?,
            phone: r.phone,
            address: r.address,
            emergency_contact,
            created_at: r.created_at,
        })
    }
}

/// The selected columns, as a macro so that queries stay `&'static str`.
macro_rules! columns {
    () => {
        "p.id, p.user_id, p.given_name, p.family_name, p.date_of_birth, p.sex, p.phone, p.address,
    p.emergency_contact_name, p.emergency_contact_phone, p.emergency_contact_relationship, p.created_at"
    };
}

pub async fn insert(db: impl PgExecutor<'_>, p: &PatientRecord) -> Result<()> {
    let contact = p.emergency_contact.as_ref();
    sqlx::query(
        "insert into patients (id, user_id, given_name, family_name, date_of_birth, sex, phone, address,
             emergency_contact_name, emergency_contact_phone, emergency_contact_relationship, created_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(p.id.0)
    .bind(p.user_id.map(|u| u.0))
    .bind(p.given_name.as_ref())
    .bind(p.family_name.as_ref())
    .bind(p.date_of_birth.date())
    .bind(p.sex.as_str())
    .bind(p.phone.as_ref().map(AsRef::<str>::as_ref))
    .bind(p.address.as_ref().map(AsRef::<str>::as_ref))
    .bind(contact.map(|c| c.name.as_ref()))
    .bind(contact.map(|c| c.phone.as_ref()))
    .bind(contact.and_then(|c| c.relationship.as_ref()).map(AsRef::<str>::as_ref))
    .bind(p.created_by.map(|u| u.0))
    .execute(db)
    .await
    .map_err(super::on_unique("patients_user_id_key", "user_id"))?;
    Ok(())
}

pub async fn get(db: impl PgExecutor<'_>, id: PatientId) -> Result<Option<Patient>> {
    let sql = concat!("select ", columns!(), " from patients p where p.id = $1");
    let row: Option<PatientRow> = sqlx::query_as(sql).bind(id.0).fetch_optional(db).await?;
    row.map(Patient::try_from).transpose()
}

/// Pages continue after the last row's id; its sort key is read back in SQL so the
/// comparison uses exactly the database's own `lower()` and collation. The id comes from a
/// signed cursor issued to this caller for this list, so it names a patient they were shown.
pub type ListKey = Uuid;

pub fn list_key(p: &Patient) -> ListKey {
    p.id.0
}

/// Which patients a list may show.
pub enum Scope {
    All,
    InCareOf(DoctorId),
    Only(PatientId),
}

pub async fn list(
    db: impl PgExecutor<'_>,
    scope: Scope,
    name: Option<&str>,
    after: Option<ListKey>,
    limit: u32,
    now: DateTime<Utc>,
) -> Result<Vec<Patient>> {
    let (doctor, only) = match scope {
        Scope::All => (None, None),
        Scope::InCareOf(d) => (Some(d.0), None),
        Scope::Only(p) => (None, Some(p.0)),
    };
    let sql = concat!(
        "select ",
        columns!(),
        " from patients p
         where ($1::uuid is null
                or exists (select 1 from care_relationships c
                           where c.patient_id = p.id and c.doctor_id = $1 and c.revoked_at is null)
                or exists (select 1 from consultations k
                           where k.patient_id = p.id and k.doctor_id = $1
                             and (k.status = 'accepted' or k.care_until > $6)))
           and ($2::uuid is null or p.id = $2)
           and ($3::text is null or strpos(lower(p.given_name || ' ' || p.family_name), lower($3)) > 0
                or strpos(lower(p.family_name || ' ' || p.given_name), lower($3)) > 0)
           and ($4::uuid is null or (lower(p.family_name), lower(p.given_name), p.id) >
                (select lower(a.family_name), lower(a.given_name), a.id from patients a where a.id = $4))
         order by lower(p.family_name), lower(p.given_name), p.id
         limit $5"
    );
    let rows: Vec<PatientRow> = sqlx::query_as(sql)
        .bind(doctor)
        .bind(only)
        .bind(name)
        .bind(after)
        .bind(i64::from(limit) + 1)
        .bind(now)
        .fetch_all(db)
        .await?;
    rows.into_iter().map(Patient::try_from).collect()
}

/// What the database knows about the actor and the patient. With `lock`, the care
/// relationship found is locked (`for share`) until the transaction ends, so a concurrent
/// revoke waits for the write that relied on it, or the write sees the revoke.
pub async fn facts(db: impl PgExecutor<'_>, actor: &Actor, patient: PatientId, lock: bool) -> Result<PatientFacts> {
    // Locking for a write holds the care row and an open consultation's row, so that a
    // concurrent revoke, cancel or completion waits for the write (or the write sees it).
    // Ended consultations cannot change again: their end needs no lock.
    let sql = if lock {
        "select exists (select 1 from patients where id = $1),
                exists (select 1 from care_relationships
                        where patient_id = $1 and doctor_id = $2 and revoked_at is null for share),
                exists (select 1 from consultations
                        where patient_id = $1 and doctor_id = $2 and status = 'accepted' for share),
                (select max(care_until) from consultations
                  where patient_id = $1 and doctor_id = $2 and care_until is not null)"
    } else {
        "select exists (select 1 from patients where id = $1),
                exists (select 1 from care_relationships
                        where patient_id = $1 and doctor_id = $2 and revoked_at is null),
                exists (select 1 from consultations
                        where patient_id = $1 and doctor_id = $2 and status = 'accepted'),
                (select max(care_until) from consultations
                  where patient_id = $1 and doctor_id = $2 and care_until is not null)"
    };
    let doctor = actor.doctor_id().map(|d| d.0);
    let (patient_exists, actor_in_care, consultation_open, consultation_care_until) =
        sqlx::query_as(sql).bind(patient.0).bind(doctor).fetch_one(db).await?;
    Ok(PatientFacts { patient_exists, actor_in_care, consultation_open, consultation_care_until })
}
