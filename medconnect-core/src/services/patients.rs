//! The patient registry and care teams.

use chrono::NaiveDate;

use super::{authorize_patient, record};
use crate::MedConnect;
use crate::auth::Actor;
use crate::auth::policy::PatientAction;
use crate::domain::{
    BirthDate, BoundedText, CareRelationship, DoctorId, Email, EmergencyContact, Password, Patient, PatientId, Phone,
    Role, Sex, UserId,
};
use crate::error::{Error, Result};
use crate::pagination::{Page, PageRequest, page_from};
use crate::store::patients::{PatientRecord, Scope};
use crate::store::{care, doctors, patients, users};

/// A patient to register. Self sign-up needs `email` and `password`; staff may register
/// a patient without an account.
#[derive(Debug, Clone, Default)]
pub struct NewPatient {
    pub email: Option<String>,
    pub password: Option<String>,
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: Option<NaiveDate>,
    pub sex: String,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub emergency_contact: Option<EmergencyContactInput>,
}

#[derive(Debug, Clone, Default)]
pub struct EmergencyContactInput {
    pub name: String,
    pub phone: String,
    pub relationship: Option<String>,
}

/// Filters of the patient list.
#[derive(Debug, Clone, Default)]
pub struct PatientQuery {
    /// Part of the given or family name, case-insensitive.
    pub name: Option<String>,
    pub page: PageRequest,
}

struct ParsedPatient {
    credentials: Option<(Email, Password)>,
    record: PatientRecord,
}

impl NewPatient {
    fn parse(self, created_by: Option<UserId>) -> Result<ParsedPatient> {
        let credentials = match (self.email.as_deref(), self.password.as_deref()) {
            (None, None) => None,
            (Some(email), Some(password)) => Some((Email::parse("email", email)?, Password::parse(password)?)),
            (Some(_), None) => return Err(Error::invalid("password", "is required with `email`")),
            (None, Some(_)) => return Err(Error::invalid("email", "is required with `password`")),
        };
        let date_of_birth = self.date_of_birth.ok_or_else(|| Error::invalid("date_of_birth", "is required"))?;
        let emergency_contact = match self.emergency_contact {
            None => None,
            Some(c) => Some(EmergencyContact {
                name: BoundedText::parse("emergency_contact.name", &c.name)?,
                phone: Phone::parse("emergency_contact.phone", &c.phone)?,
                relationship: BoundedText::parse_opt("emergency_contact.relationship", c.relationship.as_deref())?,
            }),
        };
        let record = PatientRecord {
            id: PatientId::new(),
            user_id: None,
            given_name: BoundedText::parse("given_name", &self.given_name)?,
            family_name: BoundedText::parse("family_name", &self.family_name)?,
            date_of_birth: BirthDate::parse("date_of_birth", date_of_birth)?,
            sex: Sex::parse("sex", &self.sex)?,
            phone: Phone::parse_opt("phone", self.phone.as_deref())?,
            address: BoundedText::parse_opt("address", self.address.as_deref())?,
            emergency_contact,
            created_by,
        };
        Ok(ParsedPatient { credentials, record })
    }
}

impl MedConnect {
    /// Registers a patient. Anyone may sign up as a patient (with e-mail and password);
    /// doctors and administrators may register others, and a doctor who does is given
    /// care of the new patient. A signed-in patient may not register anyone.
    pub async fn register_patient(&self, actor: Option<&Actor>, new: NewPatient) -> Result<Patient> {
        let role = actor.map(|a| a.role);
        if role == Some(Role::Patient) {
            return Err(Error::forbidden("patients cannot register other patients"));
        }
        let mut parsed = new.parse(actor.map(|a| a.user_id))?;
        if actor.is_none() && parsed.credentials.is_none() {
            return Err(Error::invalid("email", "is required to sign up"));
        }
        let hash = match &parsed.credentials {
            Some((_, password)) => Some(self.hasher().hash(password.expose()).await?),
            None => None,
        };
        let mut tx = self.pool().begin().await?;
        if let (Some((email, _)), Some(hash)) = (&parsed.credentials, &hash) {
            let user = UserId::new();
            users::insert(&mut *tx, user, email.as_ref(), hash, Role::Patient).await?;
            parsed.record.user_id = Some(user);
        }
        patients::insert(&mut *tx, &parsed.record).await?;
        let patient = parsed.record.id;
        if let Some(doctor) = actor.and_then(Actor::doctor_id) {
            care::grant(&mut tx, doctor, patient, UserId(doctor.0)).await?;
        }
        record(&mut tx, actor, "patient.create", Some(patient), None, "ok").await?;
        let created = patients::get(&mut *tx, patient).await?.ok_or(Error::NotFound("patient"))?;
        tx.commit().await?;
        Ok(created)
    }

    /// A patient's profile: for the patient, their doctors in care, and administrators.
    pub async fn get_patient(&self, actor: &Actor, patient: PatientId) -> Result<Patient> {
        let mut tx = self.pool().begin().await?;
        authorize_patient(self.pool(), &mut tx, actor, patient, PatientAction::ReadProfile, "patient.read").await?;
        let found = patients::get(&mut *tx, patient).await?.ok_or(Error::NotFound("patient"))?;
        record(&mut tx, Some(actor), "patient.read", Some(patient), None, "ok").await?;
        tx.commit().await?;
        Ok(found)
    }

    /// Patients by name: administrators see all, doctors those in their care, a patient themself.
    pub async fn list_patients(&self, actor: &Actor, query: &PatientQuery) -> Result<Page<Patient>> {
        let limit = query.page.limit()?;
        let after = query.page.key()?;
        let name = BoundedText::<100>::parse_opt("name", query.name.as_deref())?;
        let scope = match (actor.role, actor.doctor_id(), actor.patient_id) {
            (Role::Admin, _, _) => Scope::All,
            (Role::Doctor, Some(doctor), _) => Scope::InCareOf(doctor),
            (Role::Patient, _, Some(own)) => Scope::Only(own),
            _ => {
                return Ok(Page { items: Vec::new(), next_cursor: None });
            }
        };
        let mut tx = self.pool().begin().await?;
        let rows = patients::list(&mut *tx, scope, name.as_ref().map(AsRef::as_ref), after, limit).await?;
        record(&mut tx, Some(actor), "patient.list", None, None, "ok").await?;
        tx.commit().await?;
        Ok(page_from(rows, limit, patients::list_key))
    }

    /// The patient's active care team.
    pub async fn care_team(&self, actor: &Actor, patient: PatientId) -> Result<Vec<CareRelationship>> {
        let mut tx = self.pool().begin().await?;
        authorize_patient(self.pool(), &mut tx, actor, patient, PatientAction::ReadCareTeam, "care.read").await?;
        let team = care::team(&mut *tx, patient).await?;
        record(&mut tx, Some(actor), "care.read", Some(patient), None, "ok").await?;
        tx.commit().await?;
        Ok(team)
    }

    /// Gives a doctor care of a patient (the patient themself or an administrator).
    pub async fn grant_care(&self, actor: &Actor, patient: PatientId, doctor: DoctorId) -> Result<CareRelationship> {
        let mut tx = self.pool().begin().await?;
        authorize_patient(self.pool(), &mut tx, actor, patient, PatientAction::ManageCareTeam, "care.grant").await?;
        if !doctors::is_active(&mut *tx, doctor).await? {
            return Err(Error::NotFound("doctor"));
        }
        let granted = care::grant(&mut tx, doctor, patient, actor.user_id).await?;
        record(&mut tx, Some(actor), "care.grant", Some(patient), Some(doctor.0), "ok").await?;
        tx.commit().await?;
        Ok(granted)
    }

    /// Ends a doctor's care of a patient (the patient themself or an administrator).
    pub async fn revoke_care(&self, actor: &Actor, patient: PatientId, doctor: DoctorId) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        authorize_patient(self.pool(), &mut tx, actor, patient, PatientAction::ManageCareTeam, "care.revoke").await?;
        if !care::revoke(&mut *tx, doctor, patient, actor.user_id).await? {
            return Err(Error::NotFound("care relationship"));
        }
        record(&mut tx, Some(actor), "care.revoke", Some(patient), Some(doctor.0), "ok").await?;
        tx.commit().await?;
        Ok(())
    }
}
