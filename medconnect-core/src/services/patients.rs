//! The patient registry and care teams.

use chrono::NaiveDate;

use super::Done;
use crate::MedConnect;
use crate::audit::AuditAction;
use crate::auth::policy::PatientAction;
use crate::auth::{Actor, ClientAddress};
use crate::domain::{
    BirthDate, BoundedText, CareRelationship, DoctorId, Email, EmergencyContact, Password, Patient, PatientId, Phone,
    Role, Sex, UserId,
};
use crate::error::{Error, Result};
use crate::pagination::{Page, PageRequest};
use crate::store::patients::{PatientRecord, Scope};
use crate::store::{care, doctors, patients, users};

/// A patient to register. Self sign-up needs `email` and `password`; staff may register
/// a patient without an account.
/// No `Debug`: it may hold a password.
#[derive(Clone, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
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

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
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
    /// Self sign-up: anyone may register as a patient with an e-mail and a password. Sign-ups
    /// are counted per client address (`from`), since each one costs an argon2 hash.
    pub async fn sign_up(&self, new: NewPatient, from: ClientAddress) -> Result<Patient> {
        let parsed = new.parse(None)?;
        if parsed.credentials.is_none() {
            return Err(Error::invalid("email", "is required to sign up"));
        }
        let ticket = self.throttle().sign_up(self.counters(), from).await?;
        match self.create_patient(None, parsed).await {
            Err(err @ Error::Unavailable { dependency: "password hashing", .. }) => {
                self.throttle().not_checked(self.counters(), ticket).await?;
                Err(err)
            }
            other => other,
        }
    }

    /// Registers a patient on behalf of staff: doctors and administrators may, and a doctor
    /// who does is given care of the new patient. A patient may not register anyone.
    pub async fn register_patient(&self, actor: &Actor, new: NewPatient) -> Result<Patient> {
        if actor.role() == Role::Patient {
            return Err(Error::forbidden("patients cannot register other patients"));
        }
        let parsed = new.parse(Some(actor.user_id()))?;
        self.create_patient(Some(actor), parsed).await
    }

    async fn create_patient(&self, actor: Option<&Actor>, mut parsed: ParsedPatient) -> Result<Patient> {
        let hash = match &parsed.credentials {
            Some((_, password)) => Some(self.hasher().hash(password.expose()).await?),
            None => None,
        };
        self.audited_write(actor, AuditAction::PatientCreate, async |tx| {
            if let (Some((email, _)), Some(hash)) = (&parsed.credentials, &hash) {
                let user = UserId::new();
                users::insert(&mut *tx, user, email.as_ref(), hash, Role::Patient).await?;
                parsed.record.user_id = Some(user);
            }
            patients::insert(&mut *tx, &parsed.record).await?;
            let patient = parsed.record.id;
            if let Some(doctor) = actor.and_then(Actor::doctor_id) {
                care::grant(&mut *tx, doctor, patient, UserId(doctor.0)).await?;
            }
            let created = patients::get(&mut *tx, patient).await?.ok_or(Error::NotFound("patient"))?;
            Ok(Done::read(created).about(patient))
        })
        .await
    }

    /// A patient's profile: for the patient, their doctors in care, and administrators.
    pub async fn get_patient(&self, actor: &Actor, patient: PatientId) -> Result<Patient> {
        self.read_patient(actor, patient, PatientAction::ReadProfile, "profile", async |conn| {
            patients::get(&mut *conn, patient).await?.ok_or(Error::NotFound("patient"))
        })
        .await
    }

    /// Patients by name: administrators see all, doctors those in their care, a patient themself.
    pub async fn list_patients(&self, actor: &Actor, query: &PatientQuery) -> Result<Page<Patient>> {
        let name = BoundedText::<100>::parse_opt("name", query.name.as_deref())?;
        let scope = format!("patients/{}/{}", actor.user_id(), name.as_ref().map_or("", AsRef::as_ref));
        let limit = query.page.limit()?;
        let after = self.cursors().after(&scope, &query.page)?;
        let scope_of_list = match (actor.role(), actor.doctor_id(), actor.patient_id()) {
            (Role::Admin, _, _) => Scope::All,
            (Role::Doctor, Some(doctor), _) => Scope::InCareOf(doctor),
            (Role::Patient, _, Some(own)) => Scope::Only(own),
            _ => return Ok(Page { items: Vec::new(), next_cursor: None }),
        };
        let rows = self
            .audited_read(actor, AuditAction::PatientList, async |conn| {
                let name = name.as_ref().map(AsRef::as_ref);
                patients::list(&mut *conn, scope_of_list, name, after, limit, self.clock().now()).await
            })
            .await?;
        Ok(self.cursors().page(&scope, rows, limit, patients::list_key))
    }

    /// The patient's active care team.
    pub async fn care_team(&self, actor: &Actor, patient: PatientId) -> Result<Vec<CareRelationship>> {
        let team: Vec<CareRelationship> = self
            .read_patient(actor, patient, PatientAction::ReadCareTeam, "care-team", async |conn| {
                care::team(&mut *conn, patient, self.clock().now()).await
            })
            .await?;
        // Time-limited care that has ended since the team was read (or cached) is not care.
        let now = self.clock().now();
        Ok(team.into_iter().filter(|c| c.holds_at(now)).collect())
    }

    /// Gives a doctor care of a patient (the patient themself or an administrator).
    pub async fn grant_care(&self, actor: &Actor, patient: PatientId, doctor: DoctorId) -> Result<CareRelationship> {
        self.with_patient(actor, patient, PatientAction::GrantCare, async |tx| {
            if !doctors::is_active(&mut *tx, doctor).await? {
                return Err(Error::NotFound("doctor"));
            }
            Ok(Done::on(doctor.0, care::grant(&mut *tx, doctor, patient, actor.user_id()).await?))
        })
        .await
    }

    /// Ends a doctor's care of a patient (the patient themself or an administrator).
    pub async fn revoke_care(&self, actor: &Actor, patient: PatientId, doctor: DoctorId) -> Result<()> {
        self.with_patient(actor, patient, PatientAction::RevokeCare, async |tx| {
            if !care::revoke(&mut *tx, doctor, patient, actor.user_id()).await? {
                return Err(Error::NotFound("care relationship"));
            }
            Ok(Done::on(doctor.0, ()))
        })
        .await
    }
}
