//! The doctor directory.

use super::{Done, require_admin};
use crate::MedConnect;
use crate::audit::AuditAction;
use crate::auth::Actor;
use crate::cache::{Kind, Scope};
use crate::domain::{BoundedText, Doctor, DoctorId, Email, LicenceNumber, Password, Phone, Role, UserId};
use crate::error::{Error, Result};
use crate::pagination::{Page, PageRequest};
use crate::store::doctors::{self, DoctorRecord};
use crate::store::users;

/// A doctor to register, with the account they sign in with.
/// No `Debug`: it holds a password.
#[derive(Clone, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NewDoctor {
    pub email: String,
    pub password: String,
    pub given_name: String,
    pub family_name: String,
    pub specialty: String,
    pub licence_number: String,
    pub phone: Option<String>,
    pub contact_email: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct DoctorQuery {
    pub specialty: Option<String>,
    pub page: PageRequest,
}

impl MedConnect {
    /// Registers a doctor and their account (administrators only).
    pub async fn register_doctor(&self, actor: &Actor, new: NewDoctor) -> Result<Doctor> {
        require_admin(actor)?;
        let email = Email::parse("email", &new.email)?;
        let password = Password::parse(&new.password)?;
        let id = DoctorId::new();
        let record_ = DoctorRecord {
            id,
            given_name: BoundedText::parse("given_name", &new.given_name)?,
            family_name: BoundedText::parse("family_name", &new.family_name)?,
            specialty: BoundedText::parse("specialty", &new.specialty)?,
            licence_number: LicenceNumber::parse("licence_number", &new.licence_number)?,
            phone: Phone::parse_opt("phone", new.phone.as_deref())?,
            contact_email: match new.contact_email.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(e) => Some(Email::parse("contact_email", e)?),
            },
        };
        let hash = self.hasher().hash(password.expose()).await?;
        self.audited_write(Some(actor), AuditAction::DoctorCreate, async |tx| {
            users::insert(&mut *tx, UserId(id.0), email.as_ref(), &hash, Role::Doctor).await?;
            doctors::insert(&mut *tx, &record_).await?;
            let created = doctors::get(&mut *tx, id, true).await?.ok_or(Error::NotFound("doctor"))?;
            Ok(Done::on(id.0, created))
        })
        .await
    }

    /// A doctor's directory entry; contact details only for the doctor and administrators.
    pub async fn get_doctor(&self, actor: &Actor, doctor: DoctorId) -> Result<Doctor> {
        let with_contact = actor.is_admin() || actor.doctor_id() == Some(doctor);
        let entry = if with_contact { "doctor:contact" } else { "doctor" };
        self.cache()
            .get_or_load(Scope::Account(UserId(doctor.0)), entry, Kind::Data, async || {
                doctors::get(self.pool(), doctor, with_contact).await
            })
            .await?
            .ok_or(Error::NotFound("doctor"))
    }

    /// The directory, by name, optionally for one specialty (any signed-in user).
    pub async fn list_doctors(&self, actor: &Actor, query: &DoctorQuery) -> Result<Page<Doctor>> {
        let specialty = BoundedText::<100>::parse_opt("specialty", query.specialty.as_deref())?;
        let scope = format!("doctors/{}/{}", actor.user_id(), specialty.as_ref().map_or("", AsRef::as_ref));
        let limit = query.page.limit()?;
        let after = self.cursors().after(&scope, &query.page)?;
        let rows =
            doctors::list(self.pool(), specialty.as_ref().map(AsRef::as_ref), after, limit, actor.is_admin()).await?;
        Ok(self.cursors().page(&scope, rows, limit, doctors::list_key))
    }
}
