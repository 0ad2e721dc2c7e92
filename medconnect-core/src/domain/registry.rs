//! Read models of the registries: accounts, patients, doctors and care relationships.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::ids::{DoctorId, PatientId, UserId};
use super::person::Sex;
use super::role::Role;

/// An account as administrators and its owner see it (never the password hash).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Account {
    pub id: UserId,
    pub email: String,
    pub role: Role,
    pub active: bool,
    /// The patient record of a patient account.
    pub patient_id: Option<PatientId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmergencyContactView {
    pub name: String,
    pub phone: String,
    pub relationship: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Patient {
    pub id: PatientId,
    /// The patient's account, if they can sign in.
    pub user_id: Option<UserId>,
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: NaiveDate,
    pub sex: Sex,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub emergency_contact: Option<EmergencyContactView>,
    pub created_at: DateTime<Utc>,
}

/// A doctor as the directory shows them. `contact` is filled only for the doctor
/// themself and for administrators.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Doctor {
    pub id: DoctorId,
    pub given_name: String,
    pub family_name: String,
    pub specialty: String,
    pub licence_number: String,
    pub contact: Option<DoctorContact>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DoctorContact {
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// A doctor's care of a patient, active while `revoked_at` is empty: ongoing (granted
/// through the care team), or time-limited through a consultation the doctor accepted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CareRelationship {
    pub doctor_id: DoctorId,
    pub patient_id: PatientId,
    pub granted_by: UserId,
    pub granted_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// Time-limited care: the consultation it comes from.
    #[serde(default)]
    pub consultation_id: Option<super::ConsultationId>,
    /// Time-limited care: when it ends. Absent while the consultation is still open (it
    /// then ends at the consultation's end plus the grace period), and for ongoing care.
    #[serde(default)]
    pub ends_at: Option<DateTime<Utc>>,
}

impl CareRelationship {
    /// Whether the care still holds at `now`.
    pub fn holds_at(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.ends_at.is_none_or(|end| now < end)
    }
}

/// An API key: how a system acts as an account without a password. The secret is shown
/// once, when it is issued ([`IssuedApiKey`]), and never stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKey {
    pub id: uuid::Uuid,
    /// The account it acts as.
    pub user_id: UserId,
    /// What it is for, as the administrator named it.
    pub name: String,
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A key just issued: the only time its secret is seen. No `Debug`: it holds the secret.
#[derive(Clone, Serialize)]
pub struct IssuedApiKey {
    pub key: ApiKey,
    pub secret: String,
}
