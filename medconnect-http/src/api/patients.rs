//! The patient registry and care teams.

use chrono::{DateTime, Utc};
use medconnect_core::MedConnect;
use medconnect_core::domain::{CareRelationship, DoctorId, Patient, PatientId, Sex};
use medconnect_core::services::{EmergencyContactInput, NewPatient, PatientQuery};
use poem::Request;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use uuid::Uuid;

use super::serde_body::SerdeJson;
use super::types::{Date, enum_from, page_of, page_request, rfc3339};
use super::types::{EmailText, PasswordText};
use super::{ApiTags, Auth, MaybeAuth};
use crate::problem::{ApiResult, CareErrors, ListErrors, PatientReadErrors, SignUpErrors};

enum_from!(Sex => SexView { Female, Male, Other, Unknown });

/// Sex as recorded in the patient's profile.
///
/// - `female`: female.
/// - `male`: male.
/// - `other`: other.
/// - `unknown`: not known or not stated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum SexView {
    Female,
    Male,
    Other,
    Unknown,
}

/// As poem-openapi writes it, for answers serialised by serde.
impl serde::Serialize for SexView {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl SexView {
    fn as_str(self) -> &'static str {
        match self {
            SexView::Female => "female",
            SexView::Male => "male",
            SexView::Other => "other",
            SexView::Unknown => "unknown",
        }
    }
}

/// Who to call for a patient.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none, deny_unknown_fields)]
pub struct EmergencyContact {
    #[oai(validator(max_length = 200))]
    pub name: String,
    #[oai(validator(max_length = 32))]
    pub phone: String,
    #[oai(validator(max_length = 100))]
    pub relationship: Option<String>,
}

/// A patient to register. Signing up yourself needs `email` and `password`; doctors and
/// administrators may register a patient without an account. No `Debug`: it may hold a password.
#[derive(Object)]
#[oai(skip_serializing_if_is_none, deny_unknown_fields, example)]
pub struct NewPatientRequest {
    #[oai(validator(max_length = 254))]
    pub email: Option<EmailText>,
    /// At least 12 characters.
    #[oai(write_only, validator(max_length = 1024))]
    pub password: Option<PasswordText>,
    #[oai(validator(max_length = 100))]
    pub given_name: String,
    #[oai(validator(max_length = 100))]
    pub family_name: String,
    pub date_of_birth: Date,
    pub sex: SexView,
    #[oai(validator(max_length = 32))]
    pub phone: Option<String>,
    #[oai(validator(max_length = 500))]
    pub address: Option<String>,
    pub emergency_contact: Option<EmergencyContact>,
}

impl poem_openapi::types::Example for NewPatientRequest {
    fn example() -> Self {
        Self {
            email: Some("ada@example.org".into()),
            password: Some("analytical engine".into()),
            given_name: "Ada".into(),
            family_name: "Lovelace".into(),
            date_of_birth: Date(chrono::NaiveDate::from_ymd_opt(1985, 12, 10).unwrap_or_default()),
            sex: SexView::Female,
            phone: Some("+44 20 7946 0958".into()),
            address: None,
            emergency_contact: Some(EmergencyContact {
                name: "Charles Babbage".into(),
                phone: "+44 20 7946 0000".into(),
                relationship: Some("friend".into()),
            }),
        }
    }
}

impl From<NewPatientRequest> for NewPatient {
    fn from(r: NewPatientRequest) -> Self {
        NewPatient {
            email: r.email.map(|e| e.0),
            password: r.password.map(|p| p.0),
            given_name: r.given_name,
            family_name: r.family_name,
            date_of_birth: Some(r.date_of_birth.0),
            sex: r.sex.as_str().to_owned(),
            phone: r.phone,
            address: r.address,
            emergency_contact: r.emergency_contact.map(|c| EmergencyContactInput {
                name: c.name,
                phone: c.phone,
                relationship: c.relationship,
            }),
        }
    }
}

/// A patient's profile.
#[derive(Debug, Object, serde::Serialize)]
#[oai(skip_serializing_if_is_none, rename = "Patient")]
pub struct PatientView {
    pub id: Uuid,
    /// The patient's account, when they can sign in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<Uuid>,
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: Date,
    pub sex: SexView,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emergency_contact: Option<EmergencyContactOut>,
    #[serde(serialize_with = "rfc3339")]
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Object, serde::Serialize)]
#[oai(skip_serializing_if_is_none)]
pub struct EmergencyContactOut {
    pub name: String,
    pub phone: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relationship: Option<String>,
}

impl From<Patient> for PatientView {
    fn from(p: Patient) -> Self {
        Self {
            id: p.id.0,
            user_id: p.user_id.map(|u| u.0),
            given_name: p.given_name,
            family_name: p.family_name,
            date_of_birth: Date(p.date_of_birth),
            sex: p.sex.into(),
            phone: p.phone,
            address: p.address,
            emergency_contact: p.emergency_contact.map(|c| EmergencyContactOut {
                name: c.name,
                phone: c.phone,
                relationship: c.relationship,
            }),
            created_at: p.created_at,
        }
    }
}

page_of!(PatientPage, PatientView, "A page of patients, by family name.");

/// A doctor's care of a patient: ongoing (granted through the care team) or time-limited
/// (through a consultation the doctor accepted: `consultation_id` says which).
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none, rename = "CareRelationship")]
pub struct CareView {
    pub doctor_id: Uuid,
    pub patient_id: Uuid,
    /// Who granted it: for time-limited care, the patient who asked for the consultation.
    pub granted_by: Uuid,
    /// For time-limited care: when the doctor accepted the consultation.
    pub granted_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// Time-limited care: the consultation it comes from.
    pub consultation_id: Option<Uuid>,
    /// Time-limited care: when it ends. Absent while the consultation is still open; it
    /// then ends when the consultation is completed or cancelled, plus the grace period.
    pub ends_at: Option<DateTime<Utc>>,
}

impl From<CareRelationship> for CareView {
    fn from(c: CareRelationship) -> Self {
        Self {
            doctor_id: c.doctor_id.0,
            patient_id: c.patient_id.0,
            granted_by: c.granted_by.0,
            granted_at: c.granted_at,
            revoked_at: c.revoked_at,
            consultation_id: c.consultation_id.map(|c| c.0),
            ends_at: c.ends_at,
        }
    }
}

#[derive(ApiResponse)]
pub enum PatientCreated {
    /// The patient was registered.
    #[oai(status = 201)]
    Created(Json<PatientView>),
}

#[derive(ApiResponse)]
pub enum CareRevoked {
    /// The doctor's care has ended.
    #[oai(status = 204)]
    Done,
}

#[derive(Default)]
pub struct PatientsApi;

#[OpenApi(tag = "ApiTags::Patients")]
impl PatientsApi {
    /// Register a patient
    ///
    /// Anyone may sign up as a patient with e-mail and password. Doctors and
    /// administrators may register patients too; a doctor who does is given their care.
    #[oai(path = "/patients", method = "post", operation_id = "create_patient")]
    async fn create(
        &self,
        app: Data<&MedConnect>,
        req: &Request,
        auth: MaybeAuth,
        body: Json<NewPatientRequest>,
    ) -> ApiResult<PatientCreated, SignUpErrors> {
        let actor = auth.actor(&app, req).await?;
        let patient = match actor {
            Some(actor) => app.register_patient(&actor, body.0.into()).await?,
            None => app.sign_up(body.0.into(), crate::client_address::of(req)).await?,
        };
        Ok(PatientCreated::Created(Json(patient.into())))
    }

    /// Read a patient's profile
    ///
    /// The patient themself, their doctors in care and administrators; anyone else gets 404.
    #[oai(path = "/patients/:patient_id", method = "get", operation_id = "get_patient")]
    async fn get(
        &self,
        app: Data<&MedConnect>,
        auth: Auth,
        patient_id: Path<Uuid>,
    ) -> ApiResult<SerdeJson<PatientView>, PatientReadErrors> {
        Ok(SerdeJson::new(app.get_patient(&auth.0, PatientId(patient_id.0)).await?.into()))
    }

    /// List patients
    ///
    /// Administrators see every patient, doctors the patients in their care, and a
    /// patient themself. Sorted by family name; `name` matches part of either name.
    #[oai(path = "/patients", method = "get", operation_id = "list_patients")]
    async fn list(
        &self,
        app: Data<&MedConnect>,
        auth: Auth,
        /// Part of the given or family name, case-insensitive.
        name: Query<Option<String>>,
        /// `next_cursor` of the previous page; absent for the first page.
        cursor: Query<Option<String>>,
        /// Page size (default 20).
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u32>>,
    ) -> ApiResult<Json<PatientPage>, ListErrors> {
        let query = PatientQuery { name: name.0, page: page_request(cursor.0, limit.0) };
        Ok(Json(app.list_patients(&auth.0, &query).await?.into()))
    }

    /// The patient's care team
    ///
    /// The doctors with active care of the patient: the patient themself, those doctors and
    /// administrators may read it; anyone else gets 404.
    #[oai(path = "/patients/:patient_id/care-team", method = "get", operation_id = "get_care_team")]
    async fn care_team(
        &self,
        app: Data<&MedConnect>,
        auth: Auth,
        patient_id: Path<Uuid>,
    ) -> ApiResult<Json<Vec<CareView>>, PatientReadErrors> {
        let team = app.care_team(&auth.0, PatientId(patient_id.0)).await?;
        Ok(Json(team.into_iter().map(Into::into).collect()))
    }

    /// Grant a doctor care of the patient
    ///
    /// The patient themself or an administrator. Granting again is harmless.
    #[oai(path = "/patients/:patient_id/care-team/:doctor_id", method = "post", operation_id = "grant_care")]
    async fn grant(
        &self,
        app: Data<&MedConnect>,
        auth: Auth,
        patient_id: Path<Uuid>,
        doctor_id: Path<Uuid>,
    ) -> ApiResult<Json<CareView>, CareErrors> {
        Ok(Json(app.grant_care(&auth.0, PatientId(patient_id.0), DoctorId(doctor_id.0)).await?.into()))
    }

    /// Revoke a doctor's care of the patient
    ///
    /// The patient themself or an administrator. The doctor loses access at once; a write
    /// of theirs in flight finishes first. 404 when the doctor has no active care.
    #[oai(path = "/patients/:patient_id/care-team/:doctor_id", method = "delete", operation_id = "revoke_care")]
    async fn revoke(
        &self,
        app: Data<&MedConnect>,
        auth: Auth,
        patient_id: Path<Uuid>,
        doctor_id: Path<Uuid>,
    ) -> ApiResult<CareRevoked, CareErrors> {
        app.revoke_care(&auth.0, PatientId(patient_id.0), DoctorId(doctor_id.0)).await?;
        Ok(CareRevoked::Done)
    }
}
